/* runner.h — the eval engine: sends every case of a run to the endpoints and scores the
 * answers, on one thread with libcurl's multi interface.
 *
 * Closed loop (concurrency N: keep N requests in flight) or open loop (rate R: arrivals
 * at R/s, Poisson or constant; latency is measured from the scheduled send time so a
 * slow server cannot hide queueing). Requests spread round-robin over endpoints; only
 * connection errors are retried (bounded); every request has a deadline.
 */
#ifndef BGGATE_RUNNER_H
#define BGGATE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "run.h"

typedef void (*bg_runner_progress_fn)(void *ud, size_t done, size_t total, size_t passed,
                                      size_t failed, size_t errors);

typedef struct bg_runner_opts {
    const char *const *endpoints; /* OpenAI base URLs ("http://host:8000/v1") */
    size_t n_endpoints;
    const char *model;            /* NULL: the case's "model", else the first of /v1/models */
    int concurrency;              /* closed loop; also the in-flight cap in open loop */
    double rate;                  /* > 0: open loop at this many arrivals per second */
    bool poisson;                 /* open loop: exponential gaps (else constant) */
    unsigned seed;                /* arrival process seed */
    int repeat;                   /* default runs per case (a case's own repeat wins) */
    long timeout_ms;              /* per-request deadline */
    bool stream;                  /* default for cases without "stream" */
    const char *api_key;          /* value for Authorization: Bearer; never logged */
    const cJSON *request_defaults; /* members added to every body that lacks them */
    const char *const *headers;   /* extra "Name: value" headers */
    size_t n_headers;
    int max_retries;              /* connection-error retries per request */
    const char *embeddings_url;   /* base URL for `similar` (NULL: the case's endpoint) */
    const char *embeddings_model; /* NULL: the run's model */
    const char *judge_url;        /* base URL for llm-rubric (NULL: the case's endpoint) */
    const char *judge_model;      /* NULL: the run's model */
    /* A baseline alongside (paired.h): every case run is also sent to these endpoints,
     * interleaved with the candidate's requests under the same concurrency limit or
     * arrival process; results go to run->baseline. */
    const char *const *baseline_endpoints;
    size_t n_baseline_endpoints;
    const char *baseline_model;   /* NULL: `model` when set (unless baseline_discover),
                                   * else the first of the baseline's /v1/models */
    bool baseline_discover;       /* with baseline_model NULL: ask the baseline's
                                   * /v1/models even when `model` is set */
    bg_runner_progress_fn progress; /* counts the candidate's requests only */
    void *progress_ud;
    /* Reports one response header of every finished case request of the candidate
     * (deploy's verification checks the router's upstream header of each answer): called
     * with the request's suite and case index and the header's value, "" when the answer
     * had none (or none arrived). NULL report_header or on_header: not called. */
    const char *report_header;
    void (*on_header)(void *ud, size_t suite, size_t kase, const char *value);
    void *on_header_ud;
} bg_runner_opts;

/* Runs every case of run->suites; fills run->cases, run->reqs, run->models, run->model,
 * then calls bg_run_finish. With baseline endpoints it also creates and fills
 * run->baseline the same way. Returns 0 when the run completed (whatever the answers
 * were); BG_ENET when no endpoint of a side could be reached at all (/v1/models
 * discovery or every request failed to connect). */
int bg_runner_run(bg_run *run, const bg_runner_opts *opts, bg_error *err);

#endif
