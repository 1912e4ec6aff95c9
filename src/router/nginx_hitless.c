/* nginx_hitless.c — the "nginx" router driver, mode "hitless": traffic moves without a
 * reload. nginx picks the pool per request in Lua (docs/bg-gate-weights.lua) from a small
 * weights file and proxies to one named upstream per pool, `bg_gate_blue` or
 * `bg_gate_green` (docs/nginx-hitless.conf shows what nginx includes).
 *
 * bg-gate owns two files here:
 *   - the upstream include (router.upstream_file): both pools' servers, one upstream per
 *     pool, no weights in it. It only changes when the pools' endpoints change (in
 *     practice: the first install), and then goes through the same swap, `nginx -t`,
 *     reload and restore as the reload mode (bg_router_nginx_install). set() renders it
 *     every time and leaves it alone when the text on disk is already the same, so a
 *     flip never runs an nginx command.
 *   - the weights file (router.weights_file): {"blue": N, "green": M}, written atomically
 *     (temp file, fsync, rename) by the "file" driver, which also reads it back for get().
 *     Each nginx worker re-reads it at most every 5 ms and keeps its last good weights
 *     when the file is missing or malformed.
 * Not handled here: the Lua side (docs/bg-gate-weights.lua) and nginx's own config.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bggate/json.h"
#include "bggate/util.h"
#include "nginx_internal.h"

#define HITLESS_HEADER "# bg-gate: hitless upstreams (managed by bg-gate; do not edit)\n"
#define HITLESS_UPSTREAM_PREFIX "bg_gate_"

/* --- configuration --- */

/* Keys that mean something only in mode "reload". */
static int reject_reload_keys(const cJSON *cfg, bg_error *err)
{
    if (cJSON_GetObjectItemCaseSensitive(cfg, "upstream_name"))
        return bg_error_set(err, BG_EINVAL,
                            "router.upstream_name: not used in mode \"hitless\" (the upstreams "
                            "are named " HITLESS_UPSTREAM_PREFIX "blue and "
                            HITLESS_UPSTREAM_PREFIX "green)");
    return 0;
}

/* The weights file is handled by a "file" driver state built from {"path": weights_file}. */
static int make_weights_state(nginx_router *n, const char *path, bg_error *err)
{
    cJSON *cfg = cJSON_CreateObject();
    if (!cfg || !cJSON_AddStringToObject(cfg, "path", path)) {
        cJSON_Delete(cfg);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    int rc = bg_router_driver_file.create(&n->weights, cfg, NULL, err);
    cJSON_Delete(cfg);
    return rc;
}

int bg_router_nginx_hitless_parse(nginx_router *n, const cJSON *cfg, bg_error *err)
{
    const char *path = NULL;
    int rc = reject_reload_keys(cfg, err);
    if (!rc)
        rc = bg_json_get_string(&path, cfg, "weights_file", "router", true, err);
    if (!rc && !*path)
        rc = bg_error_set(err, BG_EINVAL, "router.weights_file: empty path");
    if (!rc && strcmp(path, n->file) == 0)
        rc = bg_error_set(err, BG_EINVAL,
                          "router.weights_file: must differ from router.upstream_file (\"%s\")",
                          path);
    if (!rc)
        rc = make_weights_state(n, path, err);
    return rc;
}

void bg_router_nginx_hitless_dispose(nginx_router *n)
{
    if (!n)
        return;
    bg_router_driver_file.destroy(n->weights);
    n->weights = NULL;
}

/* --- the upstream file --- */

/* One `upstream bg_gate_<pool> { … }` per pool; servers share their pool evenly. */
static int render(bg_buf *out, const nginx_router *n)
{
    int rc = bg_buf_puts(out, HITLESS_HEADER);
    for (int p = 0; !rc && p < BG_POOL_COUNT; p++) {
        const char *pool = bg_pool_name((bg_pool_id)p);
        rc = bg_buf_printf(out, "upstream " HITLESS_UPSTREAM_PREFIX "%s {\n", pool);
        for (size_t i = 0; !rc && i < n->n_servers[p]; i++)
            rc = bg_buf_printf(out, "    server %s; # %s\n", n->servers[p][i], pool);
        if (!rc && n->keepalive > 0)
            rc = bg_buf_printf(out, "    keepalive %ld;\n", n->keepalive);
        if (!rc)
            rc = bg_buf_puts(out, "}\n");
    }
    return rc;
}

/* True when the upstream file on disk already holds exactly `text`. */
static int upstream_is_current(bool *same, const nginx_router *n, const bg_buf *text,
                               bg_error *err)
{
    char *old = NULL;
    size_t len = 0;
    struct stat st;

    *same = false;
    if (stat(n->file, &st) < 0 && errno == ENOENT)
        return 0;
    int rc = bg_file_read(&old, &len, n->file, BG_ROUTER_MAX_STATE_BYTES, err);
    if (rc == BG_ETOOBIG) {
        bg_error_clear(err);
        return 0; /* not ours, or not any more: replace it */
    }
    if (!rc)
        *same = len == text->len && memcmp(old, text->data, len) == 0;
    free(old);
    return rc;
}

/* --- get / set --- */

int bg_router_nginx_hitless_get(nginx_router *n, bg_weights *out, bg_error *err)
{
    return bg_router_driver_file.get(n->weights, out, err);
}

int bg_router_nginx_hitless_set(nginx_router *n, const bg_weights *w, bg_error *err)
{
    bg_buf text;
    bool same = false;

    bg_buf_init(&text, 0);
    int rc = render(&text, n);
    if (rc < 0) {
        rc = bg_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    rc = upstream_is_current(&same, n, &text, err);
    /* a rejected upstream file leaves the weights (and traffic) as they were */
    if (!rc && !same)
        rc = bg_router_nginx_install(n, &text, err);
    if (!rc)
        rc = bg_router_driver_file.set(n->weights, w, err);
cleanup:
    bg_buf_dispose(&text);
    return rc;
}
