/* nginx_internal.h — what the nginx driver's two modes share: the driver state, the
 * swap-test-reload of the upstream include file (nginx.c) and the "hitless" mode's
 * operations (nginx_hitless.c). Private to src/router/.
 */
#ifndef BGGATE_ROUTER_NGINX_INTERNAL_H
#define BGGATE_ROUTER_NGINX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "bggate/buf.h"
#include "router_driver.h"

typedef struct nginx_router {
    bool hitless;        /* mode "hitless" (else "reload") */
    char *file;          /* the upstream include file */
    char *prev;          /* file + ".bg-gate-prev" */
    char *name;          /* upstream name (mode "reload") */
    char **test_argv, **reload_argv;
    long keepalive;      /* 0: no keepalive line */
    char *sticky_key;    /* "$http_x_session_id": `hash … consistent` (reload mode); NULL: none */
    long timeout_ms;     /* per command */
    char **servers[BG_POOL_COUNT]; /* "host:port" per endpoint */
    size_t n_servers[BG_POOL_COUNT];
    void *weights;       /* mode "hitless": a "file" driver state for weights_file */
} nginx_router;

/* Makes `text` the upstream file: temp file + fsync, current file kept as n->prev, rename,
 * test_argv, reload_argv; on a failed test or reload the previous file goes back (and is
 * reloaded) and err says so. */
int bg_router_nginx_install(const nginx_router *n, const bg_buf *text, bg_error *err);

/* Mode "hitless": reads router.weights_file (required) and checks the keys that only the
 * reload mode uses are absent. */
int bg_router_nginx_hitless_parse(nginx_router *n, const cJSON *cfg, bg_error *err);
void bg_router_nginx_hitless_dispose(nginx_router *n);
/* Reads the weights file back. */
int bg_router_nginx_hitless_get(nginx_router *n, bg_weights *out, bg_error *err);
/* Installs the upstream file when it differs from what it should be (first install, pools
 * changed), then writes the weights file atomically. */
int bg_router_nginx_hitless_set(nginx_router *n, const bg_weights *w, bg_error *err);

#endif
