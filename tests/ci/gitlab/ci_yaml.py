#!/usr/bin/env python3
"""Checks of bg-gate's GitLab templates that GitLab itself would make but gitlab-ci-local
does not (it ignores unknown inputs), plus the rewrite the test needs to run the examples
offline. Debian's python3 + python3-yaml; no network.

  ci_yaml.py inputs TEMPLATE PLAIN FILE...   every bg-gate include in FILE passes only
        inputs the component declares, of the declared type (and every required one);
        every BG_GATE_* variable FILE sets is one the plain template knows. Exit 1 with
        one line per mistake ("did you mean ...").
  ci_yaml.py sync TEMPLATE PLAIN             the component's header declares exactly the
        inputs its body uses; its hidden jobs run the same scripts as the plain template's.
  ci_yaml.py jobs LIST_JSON PREVIEW         one line per job that runs in the pipeline
        gitlab-ci-local listed (--list-json) with its expanded config (--preview):
        name when stage environment resource_group, sorted by name.
  ci_yaml.py localize FILE OUT SHA           write FILE with bg-gate's component pinned
        to SHA (the test repository's commit) and a project include of the plain template
        turned into a local one, so gitlab-ci-local resolves both without a network.
"""
import difflib
import re
import sys

import yaml

COMPONENT = "bg-gate"              # the component's name: templates/bg-gate.yml
PLAIN_FILE = "bg-gate.gitlab-ci.yml"
INPUT_RE = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]")
HIDDEN = ("base", "eval", "deploy", "rollback", "status")


class Loader(yaml.SafeLoader):
    """SafeLoader that keeps GitLab's custom tags (!reference) as plain values."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_scalar(node)


Loader.add_multi_constructor("!", _any_tag)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Loader)


def load_component(path):
    """(spec inputs, body text) of a component file: header, '---', body."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    docs = re.split(r"^---\s*$", text, maxsplit=1, flags=re.M)
    if len(docs) != 2:
        raise SystemExit(f"{path}: no '---' between the spec header and the jobs")
    header = yaml.load(docs[0], Loader=Loader) or {}
    inputs = (header.get("spec") or {}).get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        raise SystemExit(f"{path}: the header declares no spec:inputs")
    return inputs, docs[1]


def plain_variables(path):
    doc = load(path)
    return set((doc.get("variables") or {}).keys())


def suggest(name, choices):
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def type_of(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "array"
    return "string"


def check_inputs(where, given, spec):
    errors = []
    if given is None:
        given = {}
    if not isinstance(given, dict):
        return [f"{where}: inputs must be a mapping"]
    for name, value in given.items():
        if name not in spec:
            errors.append(f"{where}: unknown input '{name}'{suggest(name, spec)}")
            continue
        decl = spec[name] or {}
        want = decl.get("type", "string")
        if type_of(value) != want:
            errors.append(f"{where}: input '{name}' must be a {want}, got {type_of(value)} {value!r}")
            continue
        if "options" in decl and value not in decl["options"]:
            errors.append(f"{where}: input '{name}': {value!r} is not one of {decl['options']}")
        if "regex" in decl and want == "string" and not re.search(decl["regex"], value):
            errors.append(f"{where}: input '{name}': {value!r} does not match {decl['regex']}")
    for name, decl in spec.items():
        if "default" not in (decl or {}) and name not in given:
            errors.append(f"{where}: required input '{name}' is missing")
    return errors


def includes(doc):
    inc = doc.get("include") or []
    if isinstance(inc, (str, dict)):
        inc = [inc]
    return inc


def is_component(entry):
    if not isinstance(entry, dict):
        return False
    if "component" in entry:
        path = entry["component"].split("@", 1)[0]
        return path.rstrip("/").rsplit("/", 1)[-1] == COMPONENT
    target = entry.get("local") or entry.get("file") or ""
    targets = target if isinstance(target, list) else [target]
    return any(t.endswith(f"templates/{COMPONENT}.yml") for t in targets)


def is_plain(entry):
    if isinstance(entry, str):
        return entry.endswith(PLAIN_FILE)
    target = entry.get("local") or entry.get("file") or entry.get("remote") or ""
    targets = target if isinstance(target, list) else [target]
    return any(t.endswith(PLAIN_FILE) for t in targets)


def cmd_inputs(template, plain, files):
    spec, _ = load_component(template)
    known_vars = plain_variables(plain)
    errors = []
    for path in files:
        doc = load(path) or {}
        found = False
        uses_plain = False
        for i, entry in enumerate(includes(doc)):
            if is_component(entry):
                found = True
                errors += check_inputs(f"{path}: include[{i}]", entry.get("inputs"), spec)
            elif is_plain(entry):
                found = uses_plain = True
        if not found:
            errors.append(f"{path}: includes neither the bg-gate component nor {PLAIN_FILE}")
        # BG_GATE_* variables, global or in jobs: only meaningful with the plain include
        scopes = [("variables", doc.get("variables") or {})]
        scopes += [(f"{job}: variables", body.get("variables") or {})
                   for job, body in doc.items() if isinstance(body, dict) and job != "variables"]
        for where, variables in scopes:
            for name in variables if isinstance(variables, dict) else []:
                if not str(name).startswith("BG_GATE_"):
                    continue
                if not uses_plain:
                    errors.append(f"{path}: {where}: {name} is read only by {PLAIN_FILE}; "
                                  "the component takes inputs")
                elif name not in known_vars:
                    errors.append(f"{path}: {where}: unknown variable {name}{suggest(name, known_vars)}")
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


def interpolate_defaults(body, spec):
    def repl(m):
        value = spec[m.group(1)].get("default", "")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    return INPUT_RE.sub(repl, body)


def cmd_sync(template, plain):
    spec, body = load_component(template)
    errors = []
    used = set(INPUT_RE.findall(body))
    for name in sorted(used - set(spec)):
        errors.append(f"{template}: $[[ inputs.{name} ]] is not declared{suggest(name, spec)}")
    for name in sorted(set(spec) - used):
        errors.append(f"{template}: input '{name}' is declared but never used")
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        return 1
    comp = yaml.load(interpolate_defaults(body, spec), Loader=Loader)
    flat = load(plain)
    for h in HIDDEN:
        job = f".{spec['job_prefix']['default']}-{h}"
        for key in ("before_script", "script"):
            a, b = (comp.get(job) or {}).get(key), (flat.get(job) or {}).get(key)
            if a != b:
                errors.append(f"{job}.{key} differs between {template} and {plain}")
    # every BG_GATE_* the scripts read is settable in the plain template
    scripts = yaml.safe_dump(flat)
    read = set(re.findall(r"\$\{?(BG_GATE_[A-Z_]+)", scripts))
    settable = plain_variables(plain) | set(((flat.get(".bg-gate-base") or {}).get("variables") or {}))
    for name in sorted(read - settable):
        errors.append(f"{plain}: {name} is read but has no default in variables")
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


def cmd_localize(src, out, sha):
    doc = load(src)
    inc = includes(doc)
    for i, entry in enumerate(inc):
        if is_component(entry) and "component" in entry:
            entry["component"] = entry["component"].split("@", 1)[0] + "@" + sha
        elif is_plain(entry):
            inc[i] = {"local": f"gitlab/{PLAIN_FILE}"}
    doc["include"] = inc
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return 0


def cmd_jobs(list_json, preview):
    import json
    with open(list_json, encoding="utf-8") as f:
        listed = json.load(f)
    full = load(preview) or {}
    for job in sorted(listed, key=lambda j: j["name"]):
        if job.get("when") == "never":
            continue
        body = full.get(job["name"]) or {}
        # expand $VAR / ${VAR} from the YAML's variables (job over global), as GitLab does
        # for environment:name and resource_group
        variables = {}
        for scope in (full.get("variables"), body.get("variables")):
            for k, v in (scope or {}).items():
                variables[k] = str(v.get("value", "") if isinstance(v, dict) else v)
        expand = lambda text: re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                                     lambda m: variables.get(m.group(1), m.group(0)), str(text))
        env = body.get("environment") or {}
        env = env.get("name", "-") if isinstance(env, dict) else env
        print(job["name"], job.get("when"), job.get("stage"), expand(env),
              expand(body.get("resource_group") or "-"))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "inputs":
        return cmd_inputs(argv[2], argv[3], argv[4:])
    if len(argv) == 4 and argv[1] == "sync":
        return cmd_sync(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "jobs":
        return cmd_jobs(argv[2], argv[3])
    if len(argv) == 5 and argv[1] == "localize":
        return cmd_localize(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
