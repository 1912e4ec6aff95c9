/* haproxy_internal.h — the "haproxy" router driver's parts that tests (and, once wired,
 * the router front) call directly: the driver state, the parsers of the runtime API's
 * replies, the command plan of a weight change, and the driver-specific operations
 * (drift check and repair after a reload, in-flight sessions per pool). Private to
 * src/router/ and its tests.
 */
#ifndef BGGATE_ROUTER_HAPROXY_INTERNAL_H
#define BGGATE_ROUTER_HAPROXY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "bggate/buf.h"
#include "router_driver.h"

/* Largest runtime API reply we read (a `show stat` of one backend's servers is ~1 KiB a
 * server). */
#define BG_HAPROXY_MAX_REPLY (1u << 20)
#define BG_HAPROXY_MAX_SERVERS 64 /* per pool */

/* srv_admin_state bits (management guide, "show servers state") */
#define BG_HAPROXY_ADMF_FMAINT 0x01u /* forced into maintenance */
#define BG_HAPROXY_ADMF_FDRAIN 0x08u /* forced into drain */
/* any maintenance (forced, inherited, config, resolution) or drain: no new traffic */
#define BG_HAPROXY_ADMF_OUT 0x3fu

typedef struct haproxy_router {
    char *api;        /* router.runtime_api as configured, for messages */
    char *unix_path;  /* "unix:PATH", else NULL */
    char *host, *port; /* "tcp:HOST:PORT" (host without brackets) */
    char *backend;
    char **servers[BG_POOL_COUNT]; /* HAProxy server names per pool */
    size_t n_servers[BG_POOL_COUNT];
    char *state_file; /* the weights bg-gate last set */
    long timeout_ms;  /* per runtime API command */
} haproxy_router;

/* One server of `show servers state`. */
typedef struct bg_haproxy_server {
    char *name;
    unsigned admin; /* srv_admin_state */
    long uweight;   /* srv_uweight: the runtime weight */
    long iweight;   /* srv_iweight: the weight in the configuration */
} bg_haproxy_server;

typedef struct bg_haproxy_servers {
    bg_haproxy_server *v;
    size_t n;
} bg_haproxy_servers;

/* Parses a `show servers state` reply (format version 1), keeping the servers of
 * `backend`. Any other reply (HAProxy's "Can't find backend.") is BG_EPROTO with the
 * reply as the message. */
int bg_router_haproxy_parse_state(bg_haproxy_servers *out, const char *text,
                                  const char *backend, bg_error *err);
void bg_router_haproxy_servers_dispose(bg_haproxy_servers *s);
/* The server called name, or NULL. */
const bg_haproxy_server *bg_router_haproxy_server_find(const bg_haproxy_servers *s,
                                                       const char *name);

/* Sums the `fields` columns (found by the CSV header's names, e.g. "scur") of the rows
 * of `backend` whose svname is one of names[0..n) in a `show stat` CSV reply. BG_EPROTO
 * when there is no "# pxname,svname,…" header, a field is missing, or a server has no
 * row. */
int bg_router_haproxy_stat_sum(double *out, const char *csv, const char *backend,
                               char *const *names, size_t n, const char *const *fields,
                               bg_error *err);

/* The pools' percentages from the runtime state: a pool's weight is the sum of its
 * servers' uweight, counting 0 for a server in drain or maintenance. A pool with any
 * weight gets at least 1 %; {0, 0} when no server takes traffic. BG_EPROTO when one of
 * h's servers is missing from the backend. */
int bg_router_haproxy_weights(bg_weights *out, const haproxy_router *h,
                              const bg_haproxy_servers *st, bg_error *err);

/* A weight change as runtime API commands, in order, each with the command that undoes
 * it (NULL for a server the backend does not have). */
typedef struct bg_haproxy_step {
    char *cmd;
    char *undo;
} bg_haproxy_step;

typedef struct bg_haproxy_plan {
    bg_haproxy_step *v;
    size_t n;
} bg_haproxy_plan;

/* Plans moving from the runtime state `st` to weights w: the raised pool first (so the
 * backend never has zero weight), per server `weight N` then `state ready` when its pool
 * gets traffic, `state drain` then `weight 0` when it gets none; commands that would
 * change nothing are left out. A pool's percent is spread over its servers as evenly as
 * integers allow (75 over 2 → 38 + 37), so the pools' totals give the split exactly. */
int bg_router_haproxy_plan(bg_haproxy_plan *out, const haproxy_router *h,
                           const bg_haproxy_servers *st, const bg_weights *w, bg_error *err);
void bg_router_haproxy_plan_dispose(bg_haproxy_plan *p);

/* Sends one command to the runtime API and reads the whole reply (at most
 * BG_HAPROXY_MAX_REPLY) within h->timeout_ms. Errors: "router: haproxy runtime API
 * unix:/x: connect: No such file or directory" (BG_ENET), "…: <cmd>: no reply within
 * 30 s" (BG_ETIMEOUT). */
int bg_router_haproxy_call(bg_buf *reply, const haproxy_router *h, const char *cmd,
                           bg_error *err);

/* The driver's optional operations (router_driver.h): bg_router_check, bg_router_repair
 * and bg_router_inflight land here. */

/* Fills *out; a reload of HAProxy (runtime weights back to the configuration's) shows as
 * stale. */
int bg_router_haproxy_check(void *state, bg_router_drift *out, bg_error *err);
/* Checks, and when stale sets the desired weights again (and persists them). *out is
 * what was found before repairing (NULL allowed). */
int bg_router_haproxy_repair(void *state, bg_router_drift *out, bg_error *err);
/* Sessions in flight on a pool's servers: the sum of `scur` (current sessions) and
 * `qcur` (requests queued for that server) from `show stat`. */
int bg_router_haproxy_inflight(void *state, bg_pool_id pool, double *out, bg_error *err);
/* Responses (hrsp_* + eresp + econ) and errors (hrsp_5xx + eresp + econ) of a pool's
 * servers since HAProxy started, from `show stat`. */
int bg_router_haproxy_counters(void *state, bg_pool_id pool, bg_router_counters *out,
                               bg_error *err);

#endif
