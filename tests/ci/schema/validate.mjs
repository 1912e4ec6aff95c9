// validate.mjs — the JSON Schema side of test-schema.sh, on Ajv (installed by install.sh).
//
//   node validate.mjs TOOLS_DIR SCHEMA FILE...
//       compiles SCHEMA in strict mode as draft-07 (the compile fails on any schema mistake),
//       then prints one line per FILE: "valid<TAB>FILE" or
//       "invalid<TAB>FILE<TAB>/instance/path message | /other/path message ...".
//   node validate.mjs --extract-md MARKDOWN OUTDIR
//       writes every ```json block of MARKDOWN that is a bg-gate.json (an object whose keys
//       include a top-level config section) to OUTDIR/<name>-L<line>.json and prints its path.
//   node validate.mjs --schema-keys SCHEMA POINTER   the property names the schema allows at
//       POINTER (a JSON pointer into the schema, $refs followed), one per line
//   node validate.mjs --schema-enum SCHEMA POINTER   the enum values at POINTER
//   node validate.mjs --c-strings FILE ARRAY         the string literals of the C array
//       initializer `ARRAY[...] = {...};` in FILE (bg-gate's lists of accepted keys)
//   node validate.mjs --template-paths CONFIG        release.templates paths of CONFIG that are
//       safe to create under a test directory (relative, no '.' or '..' components)
//
// It checks nothing on its own: test-schema.sh compares these verdicts with bg-gate's.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// A ```json block is a config when it has one of these sections ("environment" alone is
// not enough: a webhook body has one too).
const SECTIONS = ['release', 'pools', 'health', 'router', 'gate', 'promotion', 'state', 'hooks',
                  'notify'];

function extractMarkdown(md, outdir) {
  const lines = readFileSync(md, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```json') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end++;
    const text = lines.slice(start, end).join('\n');
    i = end;
    let doc;
    try {
      doc = JSON.parse(text);
    } catch {
      continue; // not JSON (e.g. an elided example): not a config
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) continue;
    if (!Object.keys(doc).some((k) => SECTIONS.includes(k))) continue;
    const name = relative(process.cwd(), resolve(md)).replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '_');
    const out = join(outdir, `${name}-L${start}.json`);
    writeFileSync(out, text + '\n');
    console.log(out);
  }
}

function validate(toolsDir, schemaPath, files) {
  const require = createRequire(join(resolve(toolsDir), 'package.json'));
  const Ajv = require('ajv');
  // strict: unknown keywords, ignored keywords and bad regexes are errors (but "required"
  // may name properties defined elsewhere, as the if/then branches do, and argv arrays are
  // open tuples: a non-empty program, then any arguments). The editor-only
  // annotations VS Code understands are declared as such.
  const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, strictTuples: false,
    allErrors: true });
  ajv.addVocabulary(['enumDescriptions', 'patternErrorMessage']);
  const check = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  for (const f of files) {
    let doc;
    try {
      doc = JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      console.log(`invalid\t${f}\t(not JSON: ${e.message})`);
      continue;
    }
    if (check(doc)) {
      console.log(`valid\t${f}`);
    } else {
      const errs = check.errors
        .filter((e) => e.keyword !== 'if' && e.keyword !== 'anyOf')
        .map((e) => `${e.instancePath || '/'} ${e.message}` +
          (e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : ''));
      console.log(`invalid\t${f}\t${errs.join(' | ')}`);
    }
  }
}

function schemaAt(schema, pointer) {
  const follow = (node) => {
    for (let n = 0; node && node.$ref && n < 16; n++) node = schemaAt(schema, node.$ref.replace(/^#/, ''));
    return node;
  };
  let node = schema;
  for (const part of pointer.split('/').slice(1)) {
    node = follow(node);
    node = node ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  node = follow(node);
  if (!node) throw new Error(`schema has nothing at ${pointer}`);
  return node;
}

function cStrings(file, array) {
  const src = readFileSync(file, 'utf8');
  const m = new RegExp(`\\b${array}\\s*\\[[^\\]]*\\]\\s*=\\s*\\{([\\s\\S]*?)\\};`).exec(src);
  if (!m) throw new Error(`${file}: no array initializer ${array}[] = {...};`);
  for (const s of m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)) console.log(s[1]);
}

function templatePaths(config) {
  const doc = JSON.parse(readFileSync(config, 'utf8'));
  const t = doc && doc.release && doc.release.templates;
  if (!t || typeof t !== 'object') return;
  for (const p of Object.values(t))
    if (typeof p === 'string' && p && !p.startsWith('/') && p.split('/').every((c) => c && c !== '.' && c !== '..'))
      console.log(p);
}

const args = process.argv.slice(2);
const readSchema = (p) => JSON.parse(readFileSync(p, 'utf8'));
if (args[0] === '--extract-md' && args.length === 3) {
  extractMarkdown(args[1], args[2]);
} else if (args[0] === '--schema-keys' && args.length === 3) {
  const node = schemaAt(readSchema(args[1]), args[2]);
  for (const k of Object.keys(node.properties || {})) console.log(k);
} else if (args[0] === '--schema-enum' && args.length === 3) {
  for (const v of schemaAt(readSchema(args[1]), args[2]).enum || []) console.log(v);
} else if (args[0] === '--c-strings' && args.length === 3) {
  cStrings(args[1], args[2]);
} else if (args[0] === '--template-paths' && args.length === 2) {
  templatePaths(args[1]);
} else if (args.length >= 2 && !args[0].startsWith('--')) {
  validate(args[0], args[1], args.slice(2));
} else {
  console.error('usage: validate.mjs TOOLS_DIR SCHEMA FILE... | --extract-md MARKDOWN OUTDIR |\n' +
    '  --schema-keys SCHEMA POINTER | --schema-enum SCHEMA POINTER | --c-strings FILE ARRAY |\n' +
    '  --template-paths CONFIG');
  process.exit(2);
}
