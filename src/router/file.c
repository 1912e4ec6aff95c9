/* file.c — the "file" router driver: for routers (or sidecars) that watch a file. set()
 * writes {"blue": N, "green": M} atomically (temp file, fsync, rename), so a watcher sees
 * the old weights or the new ones, never half a file; get() reads them back and checks
 * them. It does not know whether anything is watching the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bggate/json.h"
#include "bggate/util.h"
#include "router_driver.h"

typedef struct file_router {
    char *path;
} file_router;

static const char *const file_keys[] = {"path", NULL};

static void file_destroy(void *state)
{
    file_router *f = state;
    if (!f)
        return;
    free(f->path);
    free(f);
}

static int file_create(void **state, const cJSON *cfg, const bg_pools *pools, bg_error *err)
{
    const char *path = NULL;
    (void)pools;
    int rc = bg_json_get_string(&path, cfg, "path", "router", true, err);
    if (!rc && !*path)
        rc = bg_error_set(err, BG_EINVAL, "router.path: empty path");
    if (rc < 0)
        return rc;
    file_router *f = calloc(1, sizeof *f);
    if (!f || !(f->path = bg_strdup(path))) {
        free(f);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    *state = f;
    return 0;
}

static int file_get(void *state, bg_weights *out, bg_error *err)
{
    file_router *f = state;
    char *text = NULL;
    size_t len = 0;
    cJSON *doc = NULL;
    struct stat st;
    int rc;

    if (stat(f->path, &st) < 0 && errno == ENOENT)
        return bg_error_set(err, BG_EINVAL, "router has no weights yet (%s missing)", f->path);
    rc = bg_file_read(&text, &len, f->path, BG_ROUTER_MAX_STATE_BYTES, err);
    if (rc < 0)
        goto cleanup;
    if (!(doc = cJSON_ParseWithLength(text, len))) {
        rc = bg_error_set(err, BG_EPROTO, "%s: not JSON (expected {\"blue\": N, \"green\": M})",
                          f->path);
        goto cleanup;
    }
    rc = bg_router_weights_from_json(out, doc, f->path, err);
cleanup:
    cJSON_Delete(doc);
    free(text);
    return rc;
}

static int file_set(void *state, const bg_weights *w, bg_error *err)
{
    file_router *f = state;
    char text[64];
    int n = snprintf(text, sizeof text, "{\"blue\": %d, \"green\": %d}\n", w->w[BG_POOL_BLUE],
                     w->w[BG_POOL_GREEN]);
    return bg_file_write_atomic(f->path, text, (size_t)n, err);
}

const bg_router_driver bg_router_driver_file = {
    .name = "file",
    .keys = file_keys,
    .create = file_create,
    .destroy = file_destroy,
    .get = file_get,
    .set = file_set,
};
