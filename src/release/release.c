/* release.c — resolving a release: find the repository (discovery from a directory,
 * worktrees included), turn a revision into a commit (peeling annotated tags), read the
 * config and the template blobs from that commit's tree with libgit2 and validate the
 * `release` section strictly.
 *
 * The working tree is never read: what is resolved is exactly what was committed. Other
 * sections of bg-gate.json belong to other modules and are ignored here. The release id
 * and JSON form live in release_id.c, diffs in diff.c, bundles in bundle.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/util.h"
#include "release_internal.h"

#define DEFAULT_CONFIG "bg-gate.json"

typedef struct resolve_ctx {
    git_repository *repo;
    git_tree *tree;
    const char *cfg_path; /* repository-relative */
    char short_sha[BG_RELEASE_ID_SHORT + 1];
} resolve_ctx;

/* Why a path in a tree cannot be read as a file. */
typedef enum { BLOB_OK, BLOB_MISSING, BLOB_DIR, BLOB_LINK, BLOB_SUBMODULE } blob_state;

static const char *const release_keys[] = {"model", "templates", "serving", "suites", NULL};
static const char *const model_keys[] = {"name", "revision", "served_name", NULL};
static const char *const serving_keys[] = {"args", "env", NULL};

const char *bg_release_default_rev(void)
{
    const char *v = getenv("GITHUB_SHA");
    if (v && *v)
        return v;
    v = getenv("CI_COMMIT_SHA");
    if (v && *v)
        return v;
    return "HEAD";
}

void bg_release_free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void bg_release_free(bg_release *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_templates; i++) {
        free(r->templates[i].name);
        free(r->templates[i].path);
        free(r->templates[i].data);
    }
    free(r->templates);
    free(r->repo_root);
    free(r->config_path);
    free(r->model_name);
    free(r->model_revision);
    free(r->served_name);
    bg_release_free_strv(r->serving_args, r->n_serving_args);
    bg_release_free_strv(r->env_keys, r->n_env);
    bg_release_free_strv(r->env_values, r->n_env);
    bg_release_free_strv(r->suites, r->n_suites);
    free(r);
}

const bg_template *bg_release_template(const bg_release *r, const char *name)
{
    for (size_t i = 0; r && name && i < r->n_templates; i++)
        if (strcmp(r->templates[i].name, name) == 0)
            return &r->templates[i];
    return NULL;
}

const char *bg_release_path_problem(const char *path)
{
    if (!path || !*path)
        return "empty paths are not allowed";
    if (path[0] == '/')
        return "absolute paths are not allowed";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return "\"..\" is not allowed";
        if (n == 1 && p[0] == '.')
            return "\".\" is not allowed";
        if (n == 0)
            return "empty path components are not allowed";
        p += n;
        if (*p == '/' && *++p == '\0')
            return "empty path components are not allowed";
    }
    return NULL;
}

/* libgit2's last message, for errors we do not expect (corrupt repository, I/O). */
static const char *git_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

/* --- repository and commit --- */

static int open_repo(git_repository **repo, const char *start_dir, bg_error *err)
{
    int gerr = git_repository_open_ext(repo, start_dir, 0, NULL);
    if (gerr == GIT_ENOTFOUND) {
        /* name the directory the user is in, not "." */
        char cwd[PATH_MAX];
        const char *where = start_dir;
        if (strcmp(start_dir, ".") == 0 && getcwd(cwd, sizeof cwd))
            where = cwd;
        return bg_error_set(err, BG_EINVAL,
                            "not a git repository: %s", where);
    }
    if (gerr < 0)
        return bg_error_set(err, BG_EINVAL, "%s: %s", start_dir, git_msg());
    return 0;
}

/* The working directory root without its trailing slash (the git dir for a bare one). */
static char *repo_root(git_repository *repo)
{
    const char *wd = git_repository_workdir(repo);
    if (!wd)
        wd = git_repository_path(repo);
    size_t n = strlen(wd);
    while (n > 1 && wd[n - 1] == '/')
        n--;
    return bg_strndup(wd, n);
}

static int unknown_revision(git_repository *repo, const char *rev, bg_error *err)
{
    if (git_repository_is_shallow(repo) == 1)
        return bg_error_set(err, BG_EINVAL,
                            "unknown revision \"%s\" (this is a shallow clone: fetch more history "
                            "with `git fetch --deepen=50` or `git fetch --unshallow`)",
                            rev);
    return bg_error_set(err, BG_EINVAL, "unknown revision \"%s\"", rev);
}

/* Resolves rev to a commit (annotated tags are peeled) and fills r->commit. */
static int find_commit(git_commit **out, resolve_ctx *c, bg_release *r, const char *rev,
                       bg_error *err)
{
    int rc = 0;
    git_object *obj = NULL, *peeled = NULL;
    if (git_revparse_single(&obj, c->repo, rev) < 0)
        return unknown_revision(c->repo, rev, err);
    if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
        rc = bg_error_set(err, BG_EINVAL, "revision \"%s\" is not a commit", rev);
        goto cleanup;
    }
    git_oid_fmt(r->commit, git_object_id(peeled));
    r->commit[BG_OID_HEX] = '\0';
    bg_strlcpy(c->short_sha, r->commit, sizeof c->short_sha);
    *out = (git_commit *)peeled;
    peeled = NULL;
cleanup:
    git_object_free(peeled);
    git_object_free(obj);
    return rc;
}

/* Looks path up in the commit's tree; *blob is set only for BLOB_OK. */
static int lookup_blob(git_blob **blob, blob_state *state, resolve_ctx *c, const char *path,
                       bg_error *err)
{
    git_tree_entry *entry = NULL;
    int gerr = git_tree_entry_bypath(&entry, c->tree, path);
    *state = BLOB_MISSING;
    if (gerr == GIT_ENOTFOUND)
        return 0;
    if (gerr < 0)
        return bg_error_set(err, BG_EINVAL, "\"%s\": %s", path, git_msg());
    git_filemode_t mode = git_tree_entry_filemode(entry);
    int rc = 0;
    if (mode == GIT_FILEMODE_TREE)
        *state = BLOB_DIR;
    else if (mode == GIT_FILEMODE_LINK)
        *state = BLOB_LINK;
    else if (mode == GIT_FILEMODE_COMMIT)
        *state = BLOB_SUBMODULE;
    else if (git_blob_lookup(blob, c->repo, git_tree_entry_id(entry)) < 0)
        rc = bg_error_set(err, BG_EINVAL, "\"%s\": %s", path, git_msg());
    else
        *state = BLOB_OK;
    git_tree_entry_free(entry);
    return rc;
}

static const char *state_text(blob_state s)
{
    switch (s) {
    case BLOB_DIR:
        return "is a directory, not a file";
    case BLOB_LINK:
        return "is a symbolic link, not a file";
    case BLOB_SUBMODULE:
        return "is a submodule, not a file";
    default:
        return "is not a file";
    }
}

/* --- config --- */

/* Drops leading "./" and, for an absolute path inside the repository, the root. */
static const char *relative_config_path(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (path[0] == '/' && strncmp(path, root, n) == 0 && path[n] == '/')
        path += n + 1;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    return path;
}

/* Reads and parses the config blob. */
static int load_config(cJSON **root, resolve_ctx *c, bg_error *err)
{
    git_blob *blob = NULL;
    blob_state st;
    int rc = lookup_blob(&blob, &st, c, c->cfg_path, err);
    if (rc)
        return rc;
    if (st == BLOB_MISSING)
        return bg_error_set(err, BG_EINVAL, "no %s at %s", c->cfg_path, c->short_sha);
    if (st != BLOB_OK)
        return bg_error_set(err, BG_EINVAL, "%s at %s %s", c->cfg_path, c->short_sha,
                            state_text(st));
    const char *text = git_blob_rawcontent(blob);
    size_t len = (size_t)git_blob_rawsize(blob);
    if (len > BG_MAX_CONFIG_BYTES) {
        rc = bg_error_set(err, BG_EINVAL, "%s@%s: larger than %u bytes", c->cfg_path, c->short_sha,
                          BG_MAX_CONFIG_BYTES);
        goto cleanup;
    }
    const char *end = NULL;
    *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!*root) {
        int line, col;
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        bg_text_position(text, off, &line, &col);
        rc = bg_error_set(err, BG_EINVAL, "%s@%s:%d:%d: invalid JSON", c->cfg_path, c->short_sha,
                          line, col);
    }
cleanup:
    git_blob_free(blob);
    return rc;
}

/* An optional member that must be an object when present; *out NULL when absent. */
static int get_object(const cJSON **out, const cJSON *obj, const char *key, const char *path,
                      bool required, bg_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!it)
        return required ? bg_error_set(err, BG_EINVAL, "%s.%s: missing (an object is required)",
                                       path, key)
                        : 0;
    if (!cJSON_IsObject(it))
        return bg_error_set(err, BG_EINVAL, "%s.%s: expected an object, got %s", path, key,
                            bg_json_type_name(it));
    *out = it;
    return 0;
}

/* Rejects a member name that occurs twice (cJSON keeps both). */
static int check_unique(const cJSON *obj, const char *path, const char *what, bg_error *err)
{
    for (const cJSON *a = obj->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                return bg_error_set(err, BG_EINVAL, "%s: duplicate %s \"%s\"", path, what,
                                    a->string);
    return 0;
}

static int dup_string(char **out, const char *s)
{
    *out = bg_strdup(s);
    return *out ? 0 : BG_ENOMEM;
}

static int parse_model(bg_release *r, const cJSON *release, bg_error *err)
{
    const cJSON *model = NULL;
    const char *name = NULL, *revision = NULL, *served = NULL;
    int rc = get_object(&model, release, "model", "release", true, err);
    if (!rc)
        rc = bg_json_check_keys(model, model_keys, "release.model", err);
    if (!rc)
        rc = bg_json_get_string(&name, model, "name", "release.model", true, err);
    if (!rc)
        rc = bg_json_get_string(&revision, model, "revision", "release.model", false, err);
    if (!rc)
        rc = bg_json_get_string(&served, model, "served_name", "release.model", false, err);
    if (rc)
        return rc;
    if (!*name)
        return bg_error_set(err, BG_EINVAL, "release.model.name: must not be empty");
    if (served && !*served)
        return bg_error_set(err, BG_EINVAL, "release.model.served_name: must not be empty");
    rc = dup_string(&r->model_name, name);
    if (!rc && revision)
        rc = dup_string(&r->model_revision, revision);
    if (!rc)
        rc = dup_string(&r->served_name, served ? served : name);
    return rc ? bg_error_set(err, rc, "out of memory") : 0;
}

/* An array of strings ("release.suites", "release.serving.args"); absent: empty. */
static int parse_strings(char ***out, size_t *n, const cJSON *obj, const char *key,
                         const char *path, bg_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return bg_error_set(err, BG_EINVAL, "%s.%s: expected an array of strings, got %s", path,
                            key, bg_json_type_name(arr));
    size_t count = (size_t)cJSON_GetArraySize(arr), i = 0;
    *out = calloc(count ? count : 1, sizeof **out);
    if (!*out)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "%s.%s[%zu]: expected a string, got %s", path, key,
                                i, bg_json_type_name(it));
        if (dup_string(&(*out)[i], it->valuestring))
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        *n = ++i;
    }
    return 0;
}

static int cmp_env(const void *a, const void *b, void *keys_arg)
{
    char **keys = keys_arg;
    return strcmp(keys[*(const size_t *)a], keys[*(const size_t *)b]);
}

/* Sorts env_keys/env_values together by key. */
static int sort_env(bg_release *r)
{
    size_t n = r->n_env;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    char **k = malloc((n ? n : 1) * sizeof *k), **v = malloc((n ? n : 1) * sizeof *v);
    int rc = idx && k && v ? 0 : BG_ENOMEM;
    if (!rc) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        qsort_r(idx, n, sizeof *idx, cmp_env, r->env_keys);
        for (size_t i = 0; i < n; i++) {
            k[i] = r->env_keys[idx[i]];
            v[i] = r->env_values[idx[i]];
        }
        memcpy(r->env_keys, k, n * sizeof *k);
        memcpy(r->env_values, v, n * sizeof *v);
    }
    free(idx);
    free(k);
    free(v);
    return rc;
}

static int parse_env(bg_release *r, const cJSON *serving, bg_error *err)
{
    const cJSON *env = NULL;
    int rc = get_object(&env, serving, "env", "release.serving", false, err);
    if (rc || !env)
        return rc;
    if ((rc = check_unique(env, "release.serving.env", "variable", err)))
        return rc;
    size_t count = (size_t)cJSON_GetArraySize(env);
    r->env_keys = calloc(count ? count : 1, sizeof *r->env_keys);
    r->env_values = calloc(count ? count : 1, sizeof *r->env_values);
    if (!r->env_keys || !r->env_values)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, env)
    {
        if (!*it->string || strchr(it->string, '='))
            return bg_error_set(err, BG_EINVAL,
                                "release.serving.env: \"%s\" is not a valid "
                                "variable name",
                                it->string);
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "release.serving.env.%s: expected a string, got %s",
                                it->string, bg_json_type_name(it));
        size_t i = r->n_env;
        if (dup_string(&r->env_keys[i], it->string) ||
            dup_string(&r->env_values[i], it->valuestring)) {
            r->n_env++; /* so bg_release_free releases the half-filled pair */
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        }
        r->n_env++;
    }
    return sort_env(r) ? bg_error_set(err, BG_ENOMEM, "out of memory") : 0;
}

static int parse_serving(bg_release *r, const cJSON *release, bg_error *err)
{
    const cJSON *serving = NULL;
    int rc = get_object(&serving, release, "serving", "release", false, err);
    if (rc || !serving)
        return rc;
    rc = bg_json_check_keys(serving, serving_keys, "release.serving", err);
    if (!rc)
        rc = parse_strings(&r->serving_args, &r->n_serving_args, serving, "args", "release.serving",
                           err);
    return rc ? rc : parse_env(r, serving, err);
}

/* --- templates --- */

/* Reads the blob of one template into t (name and path already set). */
static int read_template(bg_template *t, resolve_ctx *c, bg_error *err)
{
    const char *problem = bg_release_path_problem(t->path);
    if (problem)
        return bg_error_set(err, BG_EINVAL, "release.templates.%s: \"%s\": %s", t->name, t->path,
                            problem);
    git_blob *blob = NULL;
    blob_state st;
    int rc = lookup_blob(&blob, &st, c, t->path, err);
    if (rc) {
        bg_error_prefix(err, "release.templates.%s", t->name);
        return rc;
    }
    if (st == BLOB_MISSING)
        return bg_error_set(err, BG_EINVAL, "release.templates.%s: \"%s\" not found at %s", t->name,
                            t->path, c->short_sha);
    if (st != BLOB_OK)
        return bg_error_set(err, BG_EINVAL, "release.templates.%s: \"%s\" %s", t->name, t->path,
                            state_text(st));
    t->size = (size_t)git_blob_rawsize(blob);
    if (t->size > BG_MAX_TEMPLATE_BYTES) {
        rc = bg_error_set(err, BG_EINVAL, "release.templates.%s: \"%s\": larger than %u bytes",
                          t->name, t->path, BG_MAX_TEMPLATE_BYTES);
        goto cleanup;
    }
    t->data = malloc(t->size + 1);
    if (!t->data) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    memcpy(t->data, git_blob_rawcontent(blob), t->size);
    t->data[t->size] = '\0';
    git_oid_fmt(t->oid, git_blob_id(blob));
    t->oid[BG_OID_HEX] = '\0';
cleanup:
    git_blob_free(blob);
    return rc;
}

static int cmp_template(const void *a, const void *b)
{
    return strcmp(((const bg_template *)a)->name, ((const bg_template *)b)->name);
}

static int parse_templates(bg_release *r, resolve_ctx *c, const cJSON *release, bg_error *err)
{
    const cJSON *obj = NULL;
    int rc = get_object(&obj, release, "templates", "release", false, err);
    if (rc || !obj)
        return rc;
    if ((rc = check_unique(obj, "release.templates", "template name", err)))
        return rc;
    size_t count = (size_t)cJSON_GetArraySize(obj);
    r->templates = calloc(count ? count : 1, sizeof *r->templates);
    if (!r->templates)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (!*it->string)
            return bg_error_set(err, BG_EINVAL, "release.templates: empty template name");
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL,
                                "release.templates.%s: expected a path string, "
                                "got %s",
                                it->string, bg_json_type_name(it));
        bg_template *t = &r->templates[r->n_templates++];
        if (dup_string(&t->name, it->string) || dup_string(&t->path, it->valuestring))
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        if ((rc = read_template(t, c, err)))
            return rc;
    }
    qsort(r->templates, r->n_templates, sizeof *r->templates, cmp_template);
    return 0;
}

/* Validates the release section of the parsed config into r. */
static int parse_release(bg_release *r, resolve_ctx *c, const cJSON *root, bg_error *err)
{
    if (!cJSON_IsObject(root))
        return bg_error_set(err, BG_EINVAL, "expected an object at the top level, got %s",
                            bg_json_type_name(root));
    const cJSON *release = cJSON_GetObjectItemCaseSensitive(root, "release");
    if (!release)
        return bg_error_set(err, BG_EINVAL, "no release section");
    if (!cJSON_IsObject(release))
        return bg_error_set(err, BG_EINVAL, "release: expected an object, got %s",
                            bg_json_type_name(release));
    int rc = bg_json_check_keys(release, release_keys, "release", err);
    if (!rc)
        rc = parse_model(r, release, err);
    if (!rc)
        rc = parse_templates(r, c, release, err);
    if (!rc)
        rc = parse_serving(r, release, err);
    if (!rc)
        rc = parse_strings(&r->suites, &r->n_suites, release, "suites", "release", err);
    return rc;
}

/* --- resolve --- */

static int resolve_in_repo(bg_release *r, resolve_ctx *c, const char *rev, const char *cfg,
                           bg_error *err)
{
    git_commit *commit = NULL;
    cJSON *root = NULL;
    int rc = 0;
    r->repo_root = repo_root(c->repo);
    if (!r->repo_root || !(r->config_path = bg_strdup(relative_config_path(cfg, r->repo_root))))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    c->cfg_path = r->config_path;
    const char *problem = bg_release_path_problem(c->cfg_path);
    if (problem)
        return bg_error_set(err, BG_EINVAL, "config path \"%s\": %s", cfg, problem);
    if ((rc = find_commit(&commit, c, r, rev, err)))
        return rc;
    if (git_commit_tree(&c->tree, commit) < 0) {
        rc = bg_error_set(err, BG_EINVAL, "commit %s: %s", c->short_sha, git_msg());
        goto cleanup;
    }
    if ((rc = load_config(&root, c, err)))
        goto cleanup;
    if ((rc = parse_release(r, c, root, err))) {
        bg_error_prefix(err, "%s@%s", c->cfg_path, c->short_sha);
        goto cleanup;
    }
    if (bg_release_compute_id(r))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
cleanup:
    cJSON_Delete(root);
    git_commit_free(commit);
    return rc;
}

int bg_release_resolve(bg_release **out, const char *start_dir, const char *rev,
                       const char *config_path, bg_error *err)
{
    resolve_ctx c = {0};
    bg_release *r = NULL;
    int rc = 0;
    *out = NULL;
    if (git_libgit2_init() < 0)
        return bg_error_set(err, BG_EINVAL, "libgit2: %s", git_msg());
    if ((rc = open_repo(&c.repo, start_dir ? start_dir : ".", err)))
        goto cleanup;
    r = calloc(1, sizeof *r);
    if (!r) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = resolve_in_repo(r, &c, rev ? rev : bg_release_default_rev(),
                         config_path ? config_path : DEFAULT_CONFIG, err);
    if (rc == 0) {
        *out = r;
        r = NULL;
    }
cleanup:
    bg_release_free(r);
    git_tree_free(c.tree);
    git_repository_free(c.repo);
    git_libgit2_shutdown();
    return rc;
}
