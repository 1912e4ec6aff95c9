/* release.c — resolving a release: find the repository (discovery from a directory,
 * worktrees included), turn a revision into a commit (peeling annotated tags), read the
 * config and the template blobs from that commit's tree with libgit2 and validate the
 * `release` section strictly.
 *
 * The working tree is never read: what is resolved is exactly what was committed. Other
 * sections of bg-gate.json belong to other modules and are ignored here. The release id
 * and JSON form live in release_id.c, diffs in diff.c, bundles in bundle.c.
 */
#include <errno.h>
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

/* libgit2 (like git since 2.35.2) refuses a repository owned by another user unless
 * safe.directory names it: the usual container CI case. Newer versions say GIT_EOWNER;
 * 1.5.1 returns GIT_ENOTFOUND with "config value 'safe.directory' was not found" (the
 * ownership message is overwritten by the failed lookup of safe.directory). */
static bool refused_for_owner(int gerr)
{
#if LIBGIT2_VER_MAJOR > 1 || (LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR >= 5)
    if (gerr == GIT_EOWNER)
        return true;
#endif
    const git_error *e = git_error_last();
    return gerr < 0 && e && e->message &&
           (strstr(e->message, "not owned by current user") ||
            strstr(e->message, "safe.directory"));
}

/* The directory safe.directory must name: the work tree holding the repository found
 * from start_dir (discovery does not check the owner), else `fallback`. */
static void refused_path(char *out, size_t outsz, const char *start_dir, const char *fallback)
{
    git_buf buf = {0};
    size_t n = 0;
    if (git_repository_discover(&buf, start_dir, 0, NULL) == 0 && buf.ptr) {
        n = strlen(buf.ptr);
        while (n > 1 && buf.ptr[n - 1] == '/')
            n--;
        if (n > 5 && strncmp(buf.ptr + n - 5, "/.git", 5) == 0)
            n -= 5;
    }
    if (n)
        snprintf(out, outsz, "%.*s", (int)n, buf.ptr);
    else
        snprintf(out, outsz, "%s", fallback);
    git_buf_dispose(&buf);
}

static int open_repo(git_repository **repo, const char *start_dir, bg_error *err)
{
    /* name the directory the user is in, not "." */
    char cwd[PATH_MAX], dir[PATH_MAX];
    const char *where = start_dir;
    if (strcmp(start_dir, ".") == 0 && getcwd(cwd, sizeof cwd))
        where = cwd;
    int gerr = git_repository_open_ext(repo, start_dir, 0, NULL);
    if (refused_for_owner(gerr)) {
        refused_path(dir, sizeof dir, start_dir, where);
        return bg_error_set(err, BG_EINVAL,
                            "git refuses the repository %s: it is owned by another user "
                            "(safe.directory); if you trust it, run `git config --global "
                            "--add safe.directory %s`",
                            dir, dir);
    }
    if (gerr == GIT_ENOTFOUND)
        return bg_error_set(err, BG_EINVAL, "not a git repository: %s", where);
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

/* True when rev names history relative to something (HEAD~2, main^, @{1}) or a commit
 * id: fetching more history can bring it in. */
static bool rev_is_history(const char *rev)
{
    if (strpbrk(rev, "~^@:"))
        return true;
    size_t n = strlen(rev);
    return n >= 4 && n <= BG_OID_HEX && strspn(rev, "0123456789abcdefABCDEF") == n;
}

/* "origin/main" when "origin" is a configured remote: *branch gets "main". */
static bool remote_branch(git_repository *repo, const char *rev, char *remote, size_t rsz,
                          const char **branch)
{
    const char *slash = strchr(rev, '/');
    git_config *cfg = NULL;
    git_config_entry *url = NULL;
    char key[160];
    if (!slash || slash == rev || !slash[1] || (size_t)(slash - rev) >= rsz)
        return false;
    snprintf(remote, rsz, "%.*s", (int)(slash - rev), rev);
    snprintf(key, sizeof key, "remote.%s.url", remote);
    /* a plain lookup: git_remote_lookup leaks in libgit2 1.5.1 (pcre2 match data) */
    bool found = git_repository_config_snapshot(&cfg, repo) == 0 &&
                 git_config_get_entry(&url, cfg, key) == 0;
    git_config_entry_free(url);
    git_config_free(cfg);
    if (found)
        *branch = slash + 1;
    return found;
}

static int unknown_revision(git_repository *repo, const char *rev, bg_error *err)
{
    char remote[128];
    const char *branch = NULL;
    if (git_repository_is_shallow(repo) != 1)
        return bg_error_set(err, BG_EINVAL, "unknown revision \"%s\"", rev);
    if (rev_is_history(rev))
        return bg_error_set(err, BG_EINVAL,
                            "unknown revision \"%s\" (this is a shallow clone: fetch more history "
                            "with `git fetch --deepen=50` or `git fetch --unshallow`)",
                            rev);
    /* a ref the clone never fetched: more history of what was fetched cannot help */
    if (remote_branch(repo, rev, remote, sizeof remote, &branch))
        return bg_error_set(err, BG_EINVAL,
                            "unknown revision \"%s\" (this shallow clone never fetched it: "
                            "run `git fetch %s %s:refs/remotes/%s/%s`)",
                            rev, remote, branch, remote, branch);
    return bg_error_set(err, BG_EINVAL,
                        "unknown revision \"%s\" (this shallow clone never fetched it: run "
                        "`git fetch origin tag %s` for a tag, or `git fetch origin "
                        "%s:refs/remotes/origin/%s` and use origin/%s for a branch)",
                        rev, rev, rev, rev, rev);
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

/* Drops leading "./" (a plain relative path is relative to the repository root). */
static const char *drop_dot_slash(const char *path)
{
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    return path;
}

static bool has_dotdot(const char *path)
{
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += n + (p[n] == '/');
    }
    return false;
}

/* Lexically normalises the absolute path in (".", "..", repeated slashes) into out,
 * which holds at least strlen(in) + 2 bytes. */
static void normalize_path(char *out, const char *in)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = in; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            n -= n > 0;
        } else if (len && !(len == 1 && p[0] == '.')) {
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        out[n] = '\0';
        p += len + (p[len] == '/');
    }
}

/* The config path inside the repository. A plain relative path is relative to the
 * repository root ("bg-gate.json", "deploy/bg-gate.json"); an absolute path or one with
 * ".." is a file-system path (from start_dir), as `eval --config` takes it, and must
 * land inside the repository. */
static int config_in_repo(char **out, const char *cfg, const char *start_dir, const char *root,
                          bg_error *err)
{
    if (cfg[0] != '/' && !has_dotdot(cfg)) {
        *out = bg_strdup(drop_dot_slash(cfg));
        return *out ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    char base[PATH_MAX], joined[2 * PATH_MAX + 2], norm[2 * PATH_MAX + 4];
    if (!realpath(start_dir, base))
        return bg_error_set(err, BG_EINVAL, "%s: %s", start_dir, strerror(errno));
    snprintf(joined, sizeof joined, "%s/%s", cfg[0] == '/' ? "" : base, cfg);
    normalize_path(norm, joined);
    size_t n = strlen(root);
    if (strncmp(norm, root, n) != 0 || norm[n] != '/' || !norm[n + 1])
        return bg_error_set(err, BG_EINVAL,
                            "config path \"%s\": %s is outside the repository %s (a path with "
                            "\"..\" or an absolute one is taken from the current directory; "
                            "other paths are relative to the repository root)",
                            cfg, norm, root);
    *out = bg_strdup(norm + n + 1);
    return *out ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
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
    int line, col;
    *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!*root) {
        bg_json_error_position(text, len, end, &line, &col);
        rc = bg_error_set(err, BG_EINVAL, "%s@%s:%d:%d: invalid JSON", c->cfg_path, c->short_sha,
                          line, col);
    } else if (bg_json_trailing_text(text, len, end, &line, &col)) {
        rc = bg_error_set(err, BG_EINVAL, "%s@%s:%d:%d: unexpected text after the JSON document",
                          c->cfg_path, c->short_sha, line, col);
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
    if (!c->tree)
        return 0; /* checking a config without a commit (validate) */
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
    if (!rc) /* after the checks above, whose messages say more for their own keys */
        rc = bg_json_check_duplicates(root, "", err);
    return rc;
}

int bg_release_check_section(const cJSON *root, bg_error *err)
{
    resolve_ctx c = {0};
    if (!cJSON_IsObject(root) || !cJSON_GetObjectItemCaseSensitive(root, "release"))
        return 0;
    bg_release *r = calloc(1, sizeof *r);
    if (!r)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int rc = parse_release(r, &c, root, err);
    bg_release_free(r);
    return rc;
}

/* --- resolve --- */

static int resolve_in_repo(bg_release *r, resolve_ctx *c, const char *start_dir, const char *rev,
                           const char *cfg, bg_error *err)
{
    git_commit *commit = NULL;
    cJSON *root = NULL;
    int rc = 0;
    if (!(r->repo_root = repo_root(c->repo)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if ((rc = config_in_repo(&r->config_path, cfg, start_dir, r->repo_root, err)))
        return rc;
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
    if (!start_dir)
        start_dir = ".";
    if ((rc = open_repo(&c.repo, start_dir, err)))
        goto cleanup;
    r = calloc(1, sizeof *r);
    if (!r) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = resolve_in_repo(r, &c, start_dir, rev ? rev : bg_release_default_rev(),
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
