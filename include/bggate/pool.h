/* pool.h — the two serving pools (blue, green): their config, the drivers that deploy a
 * release bundle to a pool and stop it, waiting for a pool to be ready, and warm-up.
 *
 * The `pools` and `health` sections of bg-gate.json:
 *   "pools": {
 *     "blue":  {"endpoints": ["http://10.0.0.11:8000/v1", …],
 *               "deploy": {"driver": "command", "argv": [...], "env": {"K": "V"},
 *                          "timeout_s": 900},
 *               "stop": {"argv": [...], "timeout_s": 120}},
 *     "green": {…}
 *   },
 *   "health": {"path": "/health", "timeout_s": 900, "interval_ms": 250,
 *              "max_interval_ms": 5000, "on_timeout": "stop" | "keep"}
 * Drivers: "command" (argv run with posix_spawn, never a shell; the release reaches it only
 * as environment variables BG_POOL, BG_RELEASE_ID, BG_RELEASE_DIR, BG_MODEL,
 * BG_MODEL_REVISION, BG_SERVED_MODEL, BG_COMMIT plus the pool's "env"; its output is
 * streamed to our log prefixed "[blue] "; killed at the deadline), "http" ({"driver":
 * "http", "url": …, "token_env": …, "status_url": …, "stop_url": …}: POST the release JSON
 * with a bearer token, accept 2xx, then poll status_url until it answers {"state": "ready"}
 * or "failed"; stop POSTs stop_url when given), "static" (nothing to deploy: externally
 * managed pools).
 * Endpoints are OpenAI base URLs; the health path is resolved against the server root
 * (the endpoint without its trailing "/v1").
 */
#ifndef BGGATE_POOL_H
#define BGGATE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "release.h"

#define BG_POOL_COUNT 2

typedef enum { BG_POOL_BLUE = 0, BG_POOL_GREEN = 1 } bg_pool_id;

const char *bg_pool_name(bg_pool_id id);              /* "blue" / "green" */
int bg_pool_from_name(bg_pool_id *out, const char *name); /* BG_EINVAL if neither */
static inline bg_pool_id bg_pool_other(bg_pool_id id)
{
    return id == BG_POOL_BLUE ? BG_POOL_GREEN : BG_POOL_BLUE;
}

typedef struct bg_pool_config {
    bg_pool_id id;
    char **endpoints;          /* OpenAI base URLs */
    size_t n_endpoints;
    char *driver;              /* "command" | "http" | "static" */
    char **deploy_argv;        /* command: NULL-terminated */
    char **env;                /* command: extra "K=V", NULL-terminated (may be NULL) */
    long deploy_timeout_s;     /* default 900 */
    char **stop_argv;          /* NULL-terminated, or NULL: no stop command */
    long stop_timeout_s;       /* default 120 */
    char *http_url, *http_token_env, *http_status_url; /* http driver */
    const char *api_key;       /* not from JSON: set by the caller (the gate's API key) and
                                * sent as Authorization: Bearer on health, /v1/models,
                                * warm-up and /metrics requests; never logged, not owned */
    char *http_stop_url;       /* http: POSTed by bg_pool_stop; NULL: stop is a no-op */
} bg_pool_config;

typedef struct bg_health_config {
    char *path;                /* default "/health" */
    long timeout_s;            /* cold-start deadline, default 900 */
    long interval_ms;          /* first poll gap, default 250 */
    long max_interval_ms;      /* backoff cap, default 5000 */
    bool stop_on_timeout;      /* default true */
} bg_health_config;

typedef struct bg_pools {
    bg_pool_config pool[BG_POOL_COUNT];
    bg_health_config health;
} bg_pools;

/* Parses and validates `pools` and `health` from the config root (errors carry the JSON
 * path: "pools.green.endpoints[1]: \"x\" is not an http:// or https:// URL"). Both pools
 * are required; their endpoints must not overlap. */
int bg_pools_parse(bg_pools *out, const cJSON *root, bg_error *err);
void bg_pools_dispose(bg_pools *p);

/* Deploys the bundle (bg_release_export's directory) to a pool with its driver. */
int bg_pool_deploy(const bg_pool_config *pool, const bg_release *rel, const char *bundle_dir,
                   bg_error *err);
/* Stops a pool (its stop argv; static: nothing). No stop command → 0. */
int bg_pool_stop(const bg_pool_config *pool, const bg_release *rel, bg_error *err);

/* Progress callback while waiting: endpoint index, what it is waiting for. */
typedef void (*bg_health_progress_fn)(void *ud, const char *endpoint, const char *state,
                                      double waited_s);

/* Waits until every endpoint answers 200 on the health path AND lists `served_model` in
 * GET /v1/models (a server still serving the old model is not ready). Polls from
 * interval_ms, doubling to max_interval_ms, until timeout_s. BG_ETIMEOUT names the
 * endpoint and what it last answered. */
int bg_health_wait(const bg_pool_config *pool, const bg_health_config *h,
                   const char *served_model, bg_health_progress_fn progress, void *ud,
                   bg_error *err);

/* Sends n short chat requests per endpoint (concurrently, results ignored except that a
 * request must get an HTTP answer); excluded from every metric. */
int bg_pool_warmup(const bg_pool_config *pool, const char *served_model, int n, long timeout_ms,
                   bg_error *err);

/* Sum of an in-flight gauge over the pool's endpoints from GET <root>/metrics
 * (Prometheus text): `metric` (NULL: vllm:num_requests_running, else
 * llamacpp:requests_processing). Returns BG_ENOTSUP when no endpoint exposes it. */
int bg_pool_inflight(const bg_pool_config *pool, const char *metric, double *out, bg_error *err);

/* Scrapes GET <root>/metrics of every endpoint at once (5 s deadline): bodies[i] (array of
 * pool->n_endpoints, caller frees each) is endpoint i's text, NULL when it answered
 * non-200 (no /metrics there). An endpoint that does not answer → BG_ENET naming it. */
int bg_pool_metrics(const bg_pool_config *pool, char **bodies, bg_error *err);

/* One endpoint as bg_pools_probe saw it. */
typedef struct bg_endpoint_probe {
    const char *endpoint;  /* the pool's endpoint (not owned) */
    long health_status;    /* HTTP status of the health path; 0: no HTTP answer */
    int model_listed;      /* 1 / 0: GET /v1/models lists the expected model or not;
                            * -1: unknown (no answer, or no model expected) */
    bool ready;            /* health 200 and the model listed (or none expected) */
    char first_model[128]; /* the first model /v1/models lists; "" when none */
    char detail[256];      /* "ready", or why not: "connection refused", "/health
                            * answered 503", "serves \"a\", not \"b\"" */
} bg_endpoint_probe;

/* Looks once at every endpoint of both pools, all at once, within timeout_ms in total:
 * the health path and GET /v1/models, which must list served[i] (NULL: any model).
 * Nothing is retried. out[i] gets pools->pool[i].n_endpoints entries; caller frees each. */
int bg_pools_probe(const bg_pools *pools, const char *const served[BG_POOL_COUNT],
                   long timeout_ms, bg_endpoint_probe *out[BG_POOL_COUNT], bg_error *err);

/* The endpoint (a base URL) without trailing "/" followed by suffix ("/models").
 * Caller frees; NULL on allocation failure. */
char *bg_pool_endpoint_join(const char *endpoint, const char *suffix);

/* The first model GET /v1/models of the pool's first endpoint lists, within timeout_ms:
 * what a pool bg-gate did not deploy serves (the state does not know its model). Caller
 * frees *out. BG_ENET/BG_ETIMEOUT naming the URL when it does not answer 200. A pending
 * SIGINT/SIGTERM does not cut it short (the check after a restore needs it). */
int bg_pool_served_model(char **out, const bg_pool_config *pool, long timeout_ms,
                         bg_error *err);

#endif
