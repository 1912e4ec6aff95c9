/* release.h — releases from git: the model pin, prompt templates, serving arguments and
 * eval suites of one commit, read from the commit's tree with libgit2 (never from the
 * working tree), identified by a content hash, compared with another release, and
 * exported as a bundle a pool driver can deploy.
 *
 * The `release` section of bg-gate.json:
 *   {"model": {"name", "revision", "served_name"},
 *    "templates": {"<name>": "<path in the commit>", …},
 *    "serving": {"args": ["--max-model-len", "8192"], "env": {"K": "V"}},
 *    "suites": ["evals/golden.jsonl"]}
 * model.name is required; revision and served_name are optional (served_name defaults to
 * name). Template paths are relative to the repository root, must name a blob (regular
 * file) in the commit, may not be absolute or contain "..", and are at most
 * BG_MAX_TEMPLATE_BYTES.
 *
 * Release id: SHA-256 (lower-case hex) of this canonical text, one item per line, each
 * value JSON-string-encoded so no value can forge a line:
 *   bg-gate-release-v1
 *   model.name "<name>"
 *   model.revision "<revision or empty>"
 *   model.served_name "<served_name>"
 *   template "<name>" <blob id>          (sorted by name; the path is not part of it)
 *   serving.arg "<arg>"                  (in order)
 *   serving.env "<key>" "<value>"        (sorted by key)
 * A commit that touches nothing of these keeps its id; suites are not part of it (they
 * gate a release, they are not deployed). Shown shortened to its first 12 characters.
 */
#ifndef BGGATE_RELEASE_H
#define BGGATE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "error.h"

#define BG_RELEASE_ID_HEX 64
#define BG_RELEASE_ID_SHORT 12
#define BG_OID_HEX 40

typedef struct bg_template {
    char *name;                   /* key in release.templates */
    char *path;                   /* path in the commit, relative to the repository root */
    char oid[BG_OID_HEX + 1];     /* blob id */
    size_t size;
    char *data;                   /* the blob's bytes, NUL-terminated (owned) */
} bg_template;

typedef struct bg_release {
    char commit[BG_OID_HEX + 1];  /* full commit id */
    char id[BG_RELEASE_ID_HEX + 1]; /* release id (full hex) */
    char *repo_root;              /* working directory root of the repository (owned) */
    char *config_path;            /* config path relative to the repository root */
    char *model_name, *model_revision, *served_name; /* revision may be NULL */
    bg_template *templates;       /* sorted by name */
    size_t n_templates;
    char **serving_args;
    size_t n_serving_args;
    char **env_keys, **env_values; /* sorted by key */
    size_t n_env;
    char **suites;                /* as written in the config (repo-relative) */
    size_t n_suites;
} bg_release;

/* Which revision to resolve when none is given: $GITHUB_SHA, else $CI_COMMIT_SHA, else
 * "HEAD". Returns a pointer into the environment or a literal. */
const char *bg_release_default_rev(void);

/* Resolves REV (anything git understands: HEAD, branch, tag (annotated too), full or short
 * sha, HEAD~2, origin/main) in the repository discovered from `start_dir` (NULL: the
 * current directory), reading `config_path` (NULL: "bg-gate.json") from the commit's
 * tree. A plain relative config_path is relative to the repository root; one with ".."
 * or an absolute one is a file-system path from start_dir and must lie inside the
 * repository. Errors (BG_EINVAL): not a git repository, a repository refused because
 * another user owns it (with the `git config --global --add safe.directory` command),
 * unknown revision (in a shallow clone: suggests `git fetch --deepen` / `--unshallow`
 * for history, or the `git fetch` of a ref the clone never fetched), no config at that
 * commit, invalid JSON ("bg-gate.json@<short sha>:3:7: invalid JSON") or text after it,
 * duplicate keys, no release section, bad fields (JSON path), template path missing /
 * not a file / absolute / escaping with "..", too large, duplicate names. */
int bg_release_resolve(bg_release **out, const char *start_dir, const char *rev,
                       const char *config_path, bg_error *err);
void bg_release_free(bg_release *r);

/* Checks the `release` section of a parsed config (a working-tree bg-gate.json, for
 * `validate`) with the rules of bg_release_resolve that need no commit: unknown keys
 * (with "did you mean"), required and typed model fields, template paths (absolute, "..",
 * empty components), duplicate names and keys. Template blobs are not looked up. 0 when
 * the config has no release section. */
int bg_release_check_section(const cJSON *root, bg_error *err);

/* Builds a release from a bundle's release.json (bg_release_to_json's shape): commit, id,
 * model, templates (name, path, blob, size; no bytes), serving and suites, for a diff
 * against a release whose commit is not in this clone. repo_root/config_path are NULL. */
int bg_release_from_manifest(bg_release **out, const char *path, bg_error *err);

/* Finds a template by name; NULL when absent. */
const bg_template *bg_release_template(const bg_release *r, const char *name);

/* The release as JSON: {"commit", "release_id", "model": {name, revision, served_name},
 * "templates": [{name, path, blob, size}], "serving": {args, env}, "suites": [...]}.
 * Caller deletes. NULL on allocation failure. */
cJSON *bg_release_to_json(const bg_release *r);

/* What changed between two releases. */
typedef struct bg_release_diff {
    bool model;             /* name, revision or served_name */
    bool serving;           /* args or env */
    bool suites;
    char **templates_added, **templates_removed, **templates_changed; /* names */
    size_t n_added, n_removed, n_changed;
} bg_release_diff;

int bg_release_diff_compute(bg_release_diff *out, const bg_release *from, const bg_release *to,
                            bg_error *err);
void bg_release_diff_dispose(bg_release_diff *d);
/* True when nothing that is deployed changed (model, templates, serving). */
bool bg_release_diff_is_empty(const bg_release_diff *d);
/* The diff as JSON: {"changed": bool, "model": bool, "serving": bool, "suites": bool,
 * "templates": {"added": [], "removed": [], "changed": []}, "cache": [advice lines]}. */
cJSON *bg_release_diff_to_json(const bg_release_diff *d);
/* Human advice on caches, one line each, appended to *lines (grown; caller frees each and
 * the array): a model change makes the prefix cache cold and invalidates semantic-cache
 * entries keyed on model output; a template change invalidates semantic-cache entries
 * produced with the old templates but not the prefix cache of unchanged prefixes; serving
 * changes restart the server (cold caches). */
int bg_release_diff_advice(char ***lines, size_t *n, const bg_release_diff *d);

/* Writes DIR/<release id>/release.json (bg_release_to_json) and
 * DIR/<release id>/templates/<path> (the blobs' bytes), building it in a temporary
 * directory beside it and renaming it into place, so a reader never sees half a bundle.
 * An existing bundle for the same id is checked and reused (a no-op): its release.json
 * must equal what this release would write in every field but `commit`, every template
 * must be present with the right size and blob id, and templates/ may hold no file the
 * manifest does not list. A damaged one is left alone and is an error (BG_EIO) naming the
 * field or file and saying to remove the bundle directory to export it again.
 * A bundle is named by its release id and shared by every commit with that id, so a
 * reused bundle's release.json names the commit that first built it, not r->commit: the
 * release id, not the commit, identifies what a bundle deploys (bundles are never
 * rewritten, a pool may be reading one). *out_path (may be NULL) receives the bundle
 * directory. */
int bg_release_export(const bg_release *r, const char *dir, char **out_path, bg_error *err);

/* SHA-256 of data as lower-case hex (65 bytes with the NUL). */
void bg_sha256_hex(char out[BG_RELEASE_ID_HEX + 1], const void *data, size_t len);
/* Git blob id (SHA-1 of "blob <len>\0<data>") as hex, to check bundles without libgit2. */
void bg_git_blob_id(char out[BG_OID_HEX + 1], const void *data, size_t len);

#endif
