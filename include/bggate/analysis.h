/* analysis.h — the checks of a canary analysis: at every interval, what the new pool did
 * is compared with what the old pool did over the same window, from each pool's own
 * /metrics (vLLM's names), and optionally from a Prometheus server's query API.
 *
 * The pieces, in the order a ramp uses them:
 *   1. a window (bg_analysis_window): two scrapes of one server, before and after the
 *      interval, reduced to histogram and counter deltas; windows of a pool's endpoints
 *      are added up;
 *   2. checks (bg_analysis_check) evaluated on the new and the old pool's windows →
 *      PASS / FAIL / INCONCLUSIVE with a one-line text
 *      ("e2e_p95_s new 0.84 vs old 0.61: ratio 1.38 > 1.25");
 *   3. a tracker fed every interval's results → continue / hold / rollback
 *      ("2 consecutive failures of e2e_p95_s: …").
 *
 * Configuration (`promotion.analysis` in bg-gate.json; defaults shown):
 *   "analysis": {
 *     "interval_s": 10,              time between two scrapes, 1..3600
 *     "failure_limit": 2,            consecutive failed intervals of one check → rollback
 *     "failure_limit_total": 0,      failed intervals of one check in all → rollback (0: off)
 *     "inconclusive_limit_s": 120,   inconclusive this long in a row → rollback
 *     "labels": {"model_name": "llama-8b"},       only series with these labels (default all)
 *     "prometheus": {"url": "http://prometheus:9090", "timeout_s": 5},  for query checks
 *     "checks": [
 *       {"metric": "e2e_p95_s", "max_ratio_to_old": 1.25, "min_samples": 20},
 *       {"name": "ttft", "metric": "ttft_p95_s", "max": 0.5},
 *       {"metric": "error_rate", "max_increase_over_old": 0.01, "min_samples": 50},
 *       {"name": "router_5xx", "query": "sum(rate(nginx_5xx_total[1m]))", "max": 0.1}
 *     ]
 *   }
 * A check has a `metric` (below) or a PromQL `query` (instant query; its first series'
 * value), exactly one condition — `max` (new <= max), `min` (new >= min),
 * `max_ratio_to_old` (new / old <= limit; old 0 and new 0 is a ratio of 1),
 * `max_increase_over_old` (new - old <= limit) — and `min_samples` (default 0): fewer
 * requests behind the value in either compared pool makes it INCONCLUSIVE. Without
 * "checks" the analysis uses
 *   [{"metric": "error_rate", "max_increase_over_old": 0.02, "min_samples": 10},
 *    {"metric": "e2e_p95_s", "max_ratio_to_old": 1.5, "min_samples": 10}].
 * A query check
 * supports only `max` and `min`, needs `prometheus.url` and a `name`; a metric check's
 * name defaults to its metric. Names are unique.
 *
 * Metrics (from vLLM's /metrics; seconds; quantiles estimated from histogram buckets as
 * Prometheus' histogram_quantile does, see bg_prom_quantile):
 *   e2e_p50_s e2e_p95_s e2e_p99_s e2e_mean_s      vllm:e2e_request_latency_seconds
 *   ttft_p50_s ttft_p95_s ttft_p99_s ttft_mean_s  vllm:time_to_first_token_seconds
 *   requests       finished requests (vllm:request_success_total, all finished_reason)
 *   error_rate     share of them with finished_reason "abort" or "error"
 *   success_rate   1 - error_rate
 *   restarts       1 when a counter went down in the window (the server restarted), else 0
 *   router_error_rate  share of the pool's requests the router saw fail (5xx, broken
 *                  responses, failed connections), from the router driver (HAProxy's
 *                  `show stat`); no data with routers that do not count them
 * A latency metric's samples are its histogram's observations in the window; the others'
 * are the finished requests (restarts needs none).
 */
#ifndef BGGATE_ANALYSIS_H
#define BGGATE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "limits.h"
#include "prom.h"

#define BG_ANALYSIS_E2E_METRIC "vllm:e2e_request_latency_seconds"
#define BG_ANALYSIS_TTFT_METRIC "vllm:time_to_first_token_seconds"
#define BG_ANALYSIS_FINISHED_METRIC "vllm:request_success_total"
#define BG_ANALYSIS_MAX_CHECKS 32
#define BG_ANALYSIS_MAX_LABELS 8

/* --- windows --- */

/* What one server (or, added up, one pool) did during an interval. Zero-initialise
 * before bg_analysis_window_add. */
typedef struct bg_analysis_window {
    bg_prom_histogram e2e;  /* delta; n_buckets 0 when not exposed */
    bg_prom_histogram ttft; /* delta; n_buckets 0 when not exposed */
    double requests;        /* finished requests */
    double errors;          /* of which finished_reason "abort" or "error" */
    bool has_requests;      /* the finished-requests counter (or the e2e histogram) is there */
    bool restarted;         /* a counter went down: the server restarted in the window */
    /* the router's own counts for the pool's servers (HAProxy: hrsp_*, eresp, econ), set
     * by the caller from two readings of bg_router_counters_get */
    double router_requests, router_errors;
    bool has_router;
} bg_analysis_window;

/* The window between two scrapes of ONE server (deltas of a merged pool would hide a
 * restart), over the series matching filter (prom.h; NULL: all). Without
 * vllm:request_success_total the request count is the e2e histogram's. */
int bg_analysis_window_compute(bg_analysis_window *out, const bg_prom_scrape *before,
                               const bg_prom_scrape *after, const char *const *filter,
                               bg_error *err);
/* Adds w into acc (the endpoints of one pool). */
int bg_analysis_window_add(bg_analysis_window *acc, const bg_analysis_window *w, bg_error *err);

/* --- checks --- */

typedef enum {
    BG_METRIC_E2E_P50,
    BG_METRIC_E2E_P95,
    BG_METRIC_E2E_P99,
    BG_METRIC_E2E_MEAN,
    BG_METRIC_TTFT_P50,
    BG_METRIC_TTFT_P95,
    BG_METRIC_TTFT_P99,
    BG_METRIC_TTFT_MEAN,
    BG_METRIC_REQUESTS,
    BG_METRIC_ERROR_RATE,
    BG_METRIC_SUCCESS_RATE,
    BG_METRIC_RESTARTS,
    BG_METRIC_ROUTER_ERROR_RATE,
    BG_METRIC_QUERY /* a Prometheus query check */
} bg_analysis_metric;

typedef enum {
    BG_COND_MAX,                  /* new <= limit */
    BG_COND_MIN,                  /* new >= limit */
    BG_COND_MAX_RATIO_TO_OLD,     /* new / old <= limit */
    BG_COND_MAX_INCREASE_OVER_OLD /* new - old <= limit */
} bg_analysis_cond;

typedef struct bg_analysis_check {
    char *name;
    bg_analysis_metric metric;
    char *query; /* BG_METRIC_QUERY only */
    bg_analysis_cond cond;
    double limit;
    long min_samples;
} bg_analysis_check;

/* The config name of a metric ("e2e_p95_s"; "query" for BG_METRIC_QUERY). */
const char *bg_analysis_metric_name(bg_analysis_metric m);

/* A metric's value in a window and the samples behind it. False when the window has no
 * data for it (histogram not exposed, nothing finished in the window). */
bool bg_analysis_metric_value(double *value, double *samples, const bg_analysis_window *w,
                              bg_analysis_metric m);

typedef enum {
    BG_VERDICT_PASS,
    BG_VERDICT_FAIL,
    BG_VERDICT_INCONCLUSIVE
} bg_analysis_verdict;

const char *bg_analysis_verdict_name(bg_analysis_verdict v); /* "pass", "fail", "inconclusive" */

typedef struct bg_analysis_result {
    bg_analysis_verdict verdict;
    double new_value; /* NaN when unknown */
    double old_value; /* NaN when unknown or not compared */
    char text[BG_MAX_REASON];
} bg_analysis_result;

/* Evaluates a metric check on the new pool's window against the old pool's (old may be
 * NULL: conditions comparing with it are then INCONCLUSIVE). INCONCLUSIVE when a
 * compared pool has no data or fewer than min_samples. */
void bg_analysis_evaluate(bg_analysis_result *out, const bg_analysis_check *c,
                          const bg_analysis_window *new_pool, const bg_analysis_window *old_pool);

/* Instant query GET <base_url>/api/v1/query?query=… (bounded by timeout_ms and
 * BG_MAX_RESPONSE_BODY): the value of the first series of a vector result, or of a
 * scalar. *out is NaN for an empty result. BG_ENET / BG_ETIMEOUT when Prometheus does
 * not answer, BG_EPROTO for an error status or an answer that is not the API's JSON
 * (the message quotes Prometheus' "error"). curl_global_init is the caller's. */
int bg_analysis_prom_query(double *out, const char *base_url, const char *query,
                           long timeout_ms, bg_error *err);

/* Evaluates a query check (max/min): PASS / FAIL, or INCONCLUSIVE when the query fails or
 * returns no data (the text says why). */
void bg_analysis_evaluate_query(bg_analysis_result *out, const bg_analysis_check *c,
                                const char *base_url, long timeout_ms);

/* --- configuration --- */

typedef struct bg_analysis_config {
    long interval_s;
    long failure_limit;
    long failure_limit_total; /* 0: off */
    long inconclusive_limit_s;
    char **filter;            /* NULL-terminated name/value pairs from "labels"; NULL: all */
    char *prometheus_url;     /* NULL: no query checks */
    long prometheus_timeout_ms;
    bg_analysis_check checks[BG_ANALYSIS_MAX_CHECKS];
    size_t n_checks;
} bg_analysis_config;

/* Parses the analysis object; `path` names it in errors ("promotion.analysis"):
 * "promotion.analysis.checks[1].metric: unknown metric \"e2e_p96_s\" (expected …)". */
int bg_analysis_config_parse(bg_analysis_config *out, const cJSON *obj, const char *path,
                             bg_error *err);
void bg_analysis_config_dispose(bg_analysis_config *c);

/* Evaluates every check of cfg (query checks against cfg->prometheus_url) into
 * results[0..cfg->n_checks-1]. */
void bg_analysis_evaluate_all(bg_analysis_result *results, const bg_analysis_config *cfg,
                              const bg_analysis_window *new_pool,
                              const bg_analysis_window *old_pool);

/* --- the decision over intervals --- */

typedef enum {
    BG_ANALYSIS_CONTINUE, /* every check passed: the ramp may go on */
    BG_ANALYSIS_HOLD,     /* a failure below the limits, or inconclusive within its limit */
    BG_ANALYSIS_ROLLBACK  /* a failure limit or the inconclusive limit was reached */
} bg_analysis_action;

const char *bg_analysis_action_name(bg_analysis_action a); /* "continue", "hold", "rollback" */

typedef struct bg_analysis_tracker {
    const bg_analysis_config *cfg;
    long consecutive[BG_ANALYSIS_MAX_CHECKS]; /* failed intervals in a row, per check */
    long total[BG_ANALYSIS_MAX_CHECKS];       /* failed intervals in all, per check */
    double last_s;                            /* time of the previous feed (or init) */
    double inconclusive_since_s;              /* start of the inconclusive streak; < 0: none */
} bg_analysis_tracker;

/* Starts tracking at now_s (seconds on any monotonic clock); cfg must outlive t. */
void bg_analysis_tracker_init(bg_analysis_tracker *t, const bg_analysis_config *cfg,
                              double now_s);

/* Feeds one interval's results (results[i] for cfg->checks[i]) at now_s and decides:
 *   - a FAIL adds to its check's consecutive and total counts, a PASS clears the
 *     consecutive count, an INCONCLUSIVE leaves both;
 *   - ROLLBACK when a check reaches failure_limit in a row ("2 consecutive failures of
 *     e2e_p95_s: <its text>") or failure_limit_total in all, or when intervals with an
 *     inconclusive check have run in a row for inconclusive_limit_s, counted from the
 *     start of the first of them ("inconclusive for 120 s (limit 120 s): <text>");
 *   - else HOLD when a check failed or is inconclusive, CONTINUE when all passed.
 * `why` (may be NULL) gets a one-line explanation. */
bg_analysis_action bg_analysis_tracker_feed(bg_analysis_tracker *t,
                                            const bg_analysis_result *results, double now_s,
                                            char *why, size_t whysz);

#endif
