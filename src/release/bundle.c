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

/* Checks one manifest entry: a known template of r with the same blob, then its file. */
static int verify_entry(const char *bundle, const char *manifest, const cJSON *e,
                        const bg_release *r, bg_error *err)
{
    const char *name = NULL, *path = NULL, *blob = NULL;
    long size = 0;
    int rc = bg_json_get_string(&name, e, "name", "templates[]", true, err);
    if (!rc)
        rc = bg_json_get_string(&path, e, "path", "templates[]", true, err);
    if (!rc)
        rc = bg_json_get_string(&blob, e, "blob", "templates[]", true, err);
    if (!rc)
        rc = bg_json_get_long(&size, e, "size", "templates[]", 0, BG_MAX_TEMPLATE_BYTES, true, err);
    if (rc) {
        bg_error_prefix(err, "damaged bundle: %s", manifest);
        return BG_EIO;
    }
    const bg_template *t = bg_release_template(r, name);
    if (!t || strcmp(t->oid, blob) != 0 || bg_release_path_problem(path))
        return damaged(err, manifest, "does not match the release");
    return verify_file(bundle, path, size, blob, err);
}

static int verify_manifest(const char *bundle, const char *manifest, const cJSON *m,
                           const bg_release *r, bg_error *err)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "release_id");
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(m, "templates");
    if (!cJSON_IsString(id) || strcmp(id->valuestring, r->id) != 0 || !cJSON_IsArray(tpl) ||
        (size_t)cJSON_GetArraySize(tpl) != r->n_templates)
        return damaged(err, manifest, "does not match the release");
    const cJSON *e;
    cJSON_ArrayForEach(e, tpl)
    {
        int rc = verify_entry(bundle, manifest, e, r, err);
        if (rc)
            return rc;
    }
    return 0;
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
    } else {
        rc = verify_manifest(bundle, manifest, m, r, err);
    }
    cJSON_Delete(m);
    free(text);
    free(manifest);
    return rc;
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
        if (e == EEXIST || e == ENOTEMPTY || e == ENOTDIR)
            rc = verify_bundle(bundle, r, err); /* another process was faster */
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
        rc = verify_bundle(bundle, r, err);
    else
        rc = build_and_rename(dir, bundle, r, err);
    if (rc == 0 && out_path) {
        *out_path = bundle;
        bundle = NULL;
    }
    free(bundle);
    return rc;
}
