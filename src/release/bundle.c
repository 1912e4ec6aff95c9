/* bundle.c — exporting a release as a directory a pool driver can deploy:
 * DIR/<release id>/release.json (the manifest) and DIR/<release id>/templates/<path>.
 *
 * Safety steps: the bundle is built in a temporary directory beside its final place
 * (DIR/.<id>.tmp.XXXXXX), every file is fsynced, then the directory is renamed into
 * place, so a reader sees no bundle or a whole one. An existing bundle is checked against
 * its own manifest (sizes and git blob ids, computed without libgit2) and reused; a
 * damaged one is reported and left alone. A failed export removes its temporary
 * directory. Template paths are checked again here, so no manifest entry can escape the
 * bundle.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/util.h"
#include "release_internal.h"

#define MANIFEST "release.json"
#define MAX_MANIFEST_BYTES (16u << 20)

/* --- small file-system helpers --- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -r without following symbolic links. */
static void remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Creates path (which must not exist), writes data and fsyncs it and its directory. */
static int write_new_file(const char *path, const void *data, size_t len, bg_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return bg_error_set(err, BG_EIO, "%s: %s", path, strerror(errno));
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        return bg_error_set(err, BG_EIO, "%s: %s", path, strerror(e));
    }
    if (close(fd) < 0)
        return bg_error_set(err, BG_EIO, "%s: %s", path, strerror(errno));
    char *slash = strrchr(path, '/');
    if (slash) {
        char *dir = bg_strndup(path, (size_t)(slash - path));
        if (dir)
            fsync_dir(dir);
        free(dir);
    }
    return 0;
}

/* --- writing --- */

static int write_manifest(const char *root, const bg_release *r, bg_error *err)
{
    cJSON *json = bg_release_to_json(r);
    char *text = json ? cJSON_Print(json) : NULL;
    char *path = bg_asprintf("%s/%s", root, MANIFEST);
    char *line = text ? bg_asprintf("%s\n", text) : NULL;
    int rc = line && path ? write_new_file(path, line, strlen(line), err)
                          : bg_error_set(err, BG_ENOMEM, "out of memory");
    free(line);
    free(path);
    free(text);
    cJSON_Delete(json);
    return rc;
}

/* True when an earlier template of r has the same path (it is written once). */
static bool path_seen(const bg_release *r, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(r->templates[j].path, r->templates[i].path) == 0)
            return true;
    return false;
}

static int write_template(const char *root, const bg_template *t, bg_error *err)
{
    const char *problem = bg_release_path_problem(t->path);
    if (problem)
        return bg_error_set(err, BG_EINVAL, "template %s: \"%s\": %s", t->name, t->path, problem);
    char *path = bg_asprintf("%s/templates/%s", root, t->path);
    if (!path)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    char *slash = strrchr(path, '/'); /* always inside root/templates */
    *slash = '\0';
    int rc = bg_mkdir_p(path, err);
    *slash = '/';
    if (!rc)
        rc = write_new_file(path, t->data, t->size, err);
    free(path);
    return rc;
}

static int write_bundle(const char *root, const bg_release *r, bg_error *err)
{
    int rc = write_manifest(root, r, err);
    for (size_t i = 0; !rc && i < r->n_templates; i++)
        if (!path_seen(r, i))
            rc = write_template(root, &r->templates[i], err);
    if (!rc)
        fsync_dir(root);
    return rc;
}

/* --- verifying an existing bundle --- */

static int damaged(bg_error *err, const char *file, const char *what)
{
    return bg_error_set(err, BG_EIO, "damaged bundle: %s: %s", file, what);
}

/* Checks one template file against its manifest entry (path, size, blob). */
static int verify_file(const char *bundle, const char *rel, long size, const char *blob,
                       bg_error *err)
{
    char *path = bg_asprintf("%s/templates/%s", bundle, rel);
    char *data = NULL;
    size_t len = 0;
    char oid[BG_OID_HEX + 1], what[160];
    struct stat st;
    int rc = 0;
    if (!path)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (lstat(path, &st) < 0) {
        rc = damaged(err, path, errno == ENOENT ? "missing" : strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = damaged(err, path, "not a regular file");
    } else if ((rc = bg_file_read(&data, &len, path, BG_MAX_TEMPLATE_BYTES, err))) {
        bg_error_prefix(err, "damaged bundle");
    } else if ((long)len != size) {
        snprintf(what, sizeof what, "size %zu, expected %ld", len, size);
        rc = damaged(err, path, what);
    } else {
        bg_git_blob_id(oid, data, len);
        if (strcmp(oid, blob) != 0) {
            snprintf(what, sizeof what, "blob %s, expected %s", oid, blob);
            rc = damaged(err, path, what);
        }
    }
    free(data);
    free(path);
    return rc ? (rc == BG_ENOMEM ? rc : BG_EIO) : 0;
}

/* Writes into out the first JSON path where got differs from want ("model.served_name",
 * "templates[1].blob", "serving.args"); true when they differ. */
static bool first_difference(char *out, size_t outsz, const cJSON *want, const cJSON *got,
                             const char *path)
{
    char cp[256];
    if ((want->type & 0xFF) != (got->type & 0xFF) ||
        (cJSON_IsArray(want) && cJSON_GetArraySize(want) != cJSON_GetArraySize(got)) ||
        (!cJSON_IsArray(want) && !cJSON_IsObject(want) && !cJSON_Compare(want, got, true))) {
        snprintf(out, outsz, "%s", *path ? path : "the manifest");
        return true;
    }
    size_t i = 0;
    for (const cJSON *w = want->child; w; w = w->next, i++) {
        const cJSON *g = cJSON_IsObject(want) ? cJSON_GetObjectItemCaseSensitive(got, w->string)
                                              : cJSON_GetArrayItem(got, (int)i);
        if (cJSON_IsObject(want))
            snprintf(cp, sizeof cp, "%s%s%s", path, *path ? "." : "", w->string);
        else
            snprintf(cp, sizeof cp, "%s[%zu]", path, i);
        if (!g) {
            snprintf(out, outsz, "%s", cp);
            return true;
        }
        if (first_difference(out, outsz, w, g, cp))
            return true;
    }
    for (const cJSON *g = got->child; cJSON_IsObject(got) && g; g = g->next)
        if (!cJSON_GetObjectItemCaseSensitive(want, g->string)) {
            snprintf(out, outsz, "%s%s%s", path, *path ? "." : "", g->string);
            return true;
        }
    return false;
}

/* The whole manifest must be what this release would write, except `commit`: a bundle
 * is shared by every commit with the same release id and keeps the commit that first
 * built it (release.h). */
static int verify_manifest(const char *manifest, const cJSON *m, const bg_release *r, bg_error *err)
{
    cJSON *want = bg_release_to_json(r), *got = cJSON_Duplicate(m, true);
    char where[256], what[320];
    int rc = 0;
    if (!want || !got) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(want, "commit");
        cJSON_DeleteItemFromObjectCaseSensitive(got, "commit");
        if (first_difference(where, sizeof where, want, got, "")) {
            snprintf(what, sizeof what, "%s does not match the release", where);
            rc = damaged(err, manifest, what);
        }
    }
    cJSON_Delete(want);
    cJSON_Delete(got);
    return rc;
}

static bool listed(const bg_release *r, const char *rel)
{
    for (size_t i = 0; i < r->n_templates; i++)
        if (strcmp(r->templates[i].path, rel) == 0)
            return true;
    return false;
}

/* Reports the first file under dir (bundle/templates/<rel>) the manifest does not list. */
static int verify_no_extra(const char *dir, const char *rel, const bg_release *r, int depth,
                           bg_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;
    if (!d)
        return depth == 0 && errno == ENOENT ? 0 : damaged(err, dir, strerror(errno));
    while (!rc && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *path = bg_asprintf("%s/%s", dir, e->d_name);
        char *sub = *rel ? bg_asprintf("%s/%s", rel, e->d_name) : bg_strdup(e->d_name);
        struct stat st;
        if (!path || !sub)
            rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        else if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && depth < 64)
            rc = verify_no_extra(path, sub, r, depth + 1, err);
        else if (!listed(r, sub))
            rc = damaged(err, path, "not in the manifest");
        free(path);
        free(sub);
    }
    closedir(d);
    return rc;
}

static int verify_files(const char *bundle, const bg_release *r, bg_error *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < r->n_templates; i++)
        if (!path_seen(r, i))
            rc = verify_file(bundle, r->templates[i].path, (long)r->templates[i].size,
                             r->templates[i].oid, err);
    char *dir = rc ? NULL : bg_asprintf("%s/templates", bundle);
    if (!rc)
        rc = dir ? verify_no_extra(dir, "", r, 0, err)
                 : bg_error_set(err, BG_ENOMEM, "out of memory");
    free(dir);
    return rc;
}

/* An existing DIR/<id>: reused when it matches its manifest, else an error naming the
 * first damaged file. Never modified. */
static int verify_bundle(const char *bundle, const bg_release *r, bg_error *err)
{
    char *manifest = bg_asprintf("%s/%s", bundle, MANIFEST);
    char *text = NULL;
    size_t len = 0;
    cJSON *m = NULL;
    int rc = 0;
    if (!manifest)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!bg_is_dir(bundle)) {
        rc = bg_error_set(err, BG_EIO, "damaged bundle: %s: not a directory", bundle);
    } else if (bg_file_read(&text, &len, manifest, MAX_MANIFEST_BYTES, err)) {
        bg_error_prefix(err, "damaged bundle");
        rc = BG_EIO;
    } else if (!(m = cJSON_ParseWithLength(text, len)) || !cJSON_IsObject(m)) {
        rc = damaged(err, manifest, "invalid JSON");
    } else if (!(rc = verify_manifest(manifest, m, r, err))) {
        rc = verify_files(bundle, r, err);
    }
    cJSON_Delete(m);
    free(text);
    free(manifest);
    return rc;
}

/* Says what to do about a damaged bundle: it is never repaired in place (a pool may be
 * reading it), so the user removes it and exports again. */
static int remove_hint(int rc, const char *bundle, bg_error *err)
{
    if (rc != BG_EIO || !err)
        return rc;
    char msg[BG_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return bg_error_set(err, rc, "%s (remove %s to export it again)", msg, bundle);
}

/* --- export --- */

/* Builds the bundle in a temporary directory and renames it to `bundle`. */
static int build_and_rename(const char *dir, const char *bundle, const bg_release *r, bg_error *err)
{
    char *tmp = bg_asprintf("%s/.%s.tmp.XXXXXX", dir, r->id);
    int rc = 0;
    if (!tmp)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!mkdtemp(tmp)) {
        rc = bg_error_set(err, BG_EIO, "%s: %s", dir, strerror(errno));
        goto cleanup;
    }
    rc = write_bundle(tmp, r, err);
    if (rc == 0 && rename(tmp, bundle) < 0) {
        int e = errno;
        if (e == EEXIST || e == ENOTEMPTY || e == ENOTDIR) /* another process was faster */
            rc = remove_hint(verify_bundle(bundle, r, err), bundle, err);
        else
            rc = bg_error_set(err, BG_EIO, "%s: %s", bundle, strerror(e));
    } else if (rc == 0) {
        fsync_dir(dir);
        goto cleanup; /* renamed: nothing left to remove */
    }
    remove_tree(tmp);
cleanup:
    free(tmp);
    return rc;
}

int bg_release_export(const bg_release *r, const char *dir, char **out_path, bg_error *err)
{
    struct stat st;
    char *bundle = NULL;
    int rc = 0;
    if (out_path)
        *out_path = NULL;
    if ((rc = bg_mkdir_p(dir, err)))
        return rc;
    if (!(bundle = bg_asprintf("%s/%s", dir, r->id)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (lstat(bundle, &st) == 0)
        rc = remove_hint(verify_bundle(bundle, r, err), bundle, err);
    else
        rc = build_and_rename(dir, bundle, r, err);
    if (rc == 0 && out_path) {
        *out_path = bundle;
        bundle = NULL;
    }
    free(bundle);
    return rc;
}
