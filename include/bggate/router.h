/* router.h — moving traffic between the blue and green pools through a router driver.
 *
 * Weights are percentages per pool that add up to 100 (a flip is 0/100; a canary step
 * e.g. 75/25). Drivers (src/router/<name>.c, one registry row each in router.c):
 *   "nginx"   — mode "reload": bg-gate owns one upstream include file; it renders both
 *               pools' servers with weights (per server: a pool's share spread over its
 *               servers; a server at 0 is marked `down`, nginx has no weight 0), writes a
 *               temp file and fsyncs it, keeps the current file as "<file>.bg-gate-prev",
 *               renames the new one into place, runs test_argv (`nginx -t …` checks the
 *               main config, which includes the live file) and on failure renames the
 *               previous file back before nginx ever loaded the new one; then runs
 *               reload_argv (failure: previous file back, reload again). A failed test
 *               leaves the old file and traffic untouched. Weights are read back from the
 *               file's header line. "sticky_key" (one nginx variable, e.g.
 *               "$http_x_session_id") adds `hash <key> consistent;`: a session stays on
 *               one server while weights hold, the split over many keys follows them,
 *               an empty key falls back to round robin (reload mode only). `nginx -s reload` returns before nginx applied the
 *               config: verify through `endpoint` when it matters. Optional keys:
 *               "keepalive" (default 32, 0: none), "timeout_s" per command (default 30).
 *   "file"    — writes {"blue": N, "green": M} atomically to `path` (routers that watch a
 *               file); reads it back.
 *   "haproxy" — changes server weights over HAProxy's runtime API (router.runtime_api:
 *               "unix:PATH" or "tcp:HOST:PORT", default unix:/run/haproxy/admin.sock;
 *               level admin), no reload: router.backend (default "bg_gate_llm"),
 *               router.servers {"blue": [names], "green": [names]} (one HAProxy server per
 *               pool endpoint; default ["blue"] / ["green"]). The raised pool first; a pool
 *               at 0 is put in `drain` at weight 0; a refused command is reported verbatim
 *               and the servers already changed are set back. The weights set are saved to
 *               router.state_file (required), since a reload of HAProxy discards them; get
 *               reads them back from `show servers state`. "timeout_s" per command.
 *   "command" — runs `set_argv` with BG_BLUE_WEIGHT / BG_GREEN_WEIGHT in its environment;
 *               `get_argv` prints {"blue": N, "green": M} on stdout (its last line when it
 *               prints more); both under "timeout_s" (default 30).
 * The `router` section of bg-gate.json:
 *   {"driver": "nginx", "mode": "reload", "upstream_file": "…/bg-gate-upstreams.conf",
 *    "upstream_name": "bg_gate_llm", "test_argv": ["nginx", "-t", "-q"],
 *    "reload_argv": ["nginx", "-s", "reload"],
 *    "endpoint": "http://127.0.0.1:8080/v1", "upstream_header": "X-BG-Upstream"}
 * `endpoint` is the router's public OpenAI base URL (used to verify a flip);
 * `upstream_header` names the response header the router adds with the address of the
 * upstream that answered (nginx: `add_header X-BG-Upstream $upstream_addr always;`).
 */
#ifndef BGGATE_ROUTER_H
#define BGGATE_ROUTER_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "pool.h"

typedef struct bg_weights {
    int w[BG_POOL_COUNT]; /* percent, sums to 100 */
} bg_weights;

typedef struct bg_router bg_router;

/* Validates the `router` section (JSON-path errors) and creates the driver. The pools are
 * needed by drivers that render upstream addresses. */
int bg_router_new(bg_router **out, const cJSON *root, const bg_pools *pools, bg_error *err);
void bg_router_free(bg_router *r);

const char *bg_router_driver_name(const bg_router *r);
/* router.endpoint, or NULL when not configured. */
const char *bg_router_endpoint(const bg_router *r);
/* router.upstream_header, or NULL. */
const char *bg_router_upstream_header(const bg_router *r);

/* Current weights as the router has them. BG_ENOTSUP-free: every driver can read back. A
 * router that was never set up yet (no file) → BG_EINVAL "router has no weights yet". */
int bg_router_get(bg_router *r, bg_weights *out, bg_error *err);
/* Sets weights atomically (validates them: 0..100, sum 100). On failure the previous
 * weights stay in force and err carries the router's own message. */
int bg_router_set(bg_router *r, const bg_weights *w, bg_error *err);

/* What the router runs with against what bg-gate last set, for drivers whose runtime
 * state a restart of the router can lose (haproxy). */
typedef struct bg_router_drift {
    bg_weights runtime; /* what the router has; {0, 0}: no server takes traffic */
    bg_weights desired; /* what bg-gate last set; valid when has_desired */
    bool has_desired;   /* false: bg-gate never set weights through this router */
    bool stale;         /* has_desired and runtime differs from desired */
} bg_router_drift;

/* Optional operations: BG_ENOTSUP when the driver has none. check fills *out; repair
 * checks and, when stale, sets the desired weights again (*out: what it found; may be
 * NULL); inflight is the router's own count of requests in flight on a pool (HAProxy:
 * scur + qcur of its servers). */
int bg_router_check(bg_router *r, bg_router_drift *out, bg_error *err);
int bg_router_repair(bg_router *r, bg_router_drift *out, bg_error *err);
int bg_router_inflight(bg_router *r, bg_pool_id pool, double *out, bg_error *err);

/* What the router itself counted for a pool since it started (cumulative, like a
 * Prometheus counter: a restart of the router starts again from 0). */
typedef struct bg_router_counters {
    double requests; /* answers and failures the router saw from the pool's servers */
    double errors;   /* of which: 5xx, broken responses, failed connections */
} bg_router_counters;
/* Optional (BG_ENOTSUP): HAProxy reads `show stat` (hrsp_*, eresp, econ). */
int bg_router_counters_get(bg_router *r, bg_pool_id pool, bg_router_counters *out,
                           bg_error *err);

/* "blue 100% / green 0%" */
void bg_weights_format(char *out, size_t outsz, const bg_weights *w);
/* The pool with weight 100, or -1 when split or unset. */
int bg_weights_live(const bg_weights *w);

#endif
