/* run.h — the results of one eval run: what the runner produces and every report
 * writer and the gate read.
 *
 * Bodies are not kept: per case a bounded excerpt and the reasons of its failed
 * assertions; per request a small fixed-size record (timings, tokens, outcome).
 */
#ifndef BGGATE_RUN_H
#define BGGATE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assert.h"
#include "stats.h"
#include "suite.h"

/* Why a request produced no answer to score. */
typedef enum bg_req_error {
    BG_REQ_OK = 0,
    BG_REQ_CONNECT,     /* could not connect / connection reset (retried) */
    BG_REQ_TIMEOUT,     /* the request's deadline passed */
    BG_REQ_HTTP,        /* non-2xx status */
    BG_REQ_MALFORMED,   /* 2xx but a body / stream we could not parse, or truncated */
    BG_REQ_OTHER,
    BG_REQ__COUNT
} bg_req_error;

const char *bg_req_error_name(bg_req_error e); /* "connect", "timeout", "http", ... */

/* One HTTP request of the run (one run of one case). */
typedef struct bg_request_record {
    uint32_t suite;          /* index into run->suites */
    uint32_t kase;           /* index into suite->cases */
    uint32_t repeat;         /* 0-based repeat index */
    uint16_t endpoint;       /* index into the endpoint list */
    uint16_t http_status;    /* 0 when no response */
    uint8_t error;           /* bg_req_error */
    uint8_t retries;         /* connection retries before the final attempt */
    bool passed;             /* all assertions passed (false when error != OK) */
    int16_t model;           /* index into run->models; -1 when the server named none */
    int32_t output_tokens;   /* -1 unknown */
    double start_ms;         /* scheduled send time, relative to run start */
    double e2e_ms;           /* from scheduled send to last byte */
    double ttft_ms;          /* -1 when not streamed */
    double tpot_ms;          /* (e2e - ttft) / (output_tokens - 1); -1 when undefined */
} bg_request_record;

/* The outcome of one case over all its runs (repeats). */
typedef struct bg_case_result {
    uint32_t runs, passed, errors;
    double time_ms;             /* total e2e over runs */
    double score;               /* mean weighted share of passed assertions */
    char *failure;              /* first failing run: "; "-joined reasons of failed
                                 * assertions (or the error), NULL when all passed */
    char *excerpt;              /* answer excerpt of that run (or of the last run), may be NULL */
    bg_req_error error_kind;    /* of the first errored run */
    char *error;                /* its message, NULL if no run errored */
    bg_assert_result *asserts;  /* per-assertion results of the first failing run
                                 * (else the last run); n = case->n_asserts; may be NULL */
} bg_case_result;

/* Aggregates over a set of requests (a suite or the whole run). */
typedef struct bg_aggregate {
    size_t requests, errors, retries;
    size_t errors_by_kind[BG_REQ__COUNT];
    size_t runs, runs_passed;   /* case runs (= requests) and passed ones */
    double weight_total, weight_passed;
    double pass_rate;           /* weight_passed / weight_total; NaN when no runs */
    double pass_lo, pass_hi;    /* 95 % Wilson interval on runs_passed / runs */
    double error_rate;          /* errors / requests */
    bg_samples e2e, ttft, itl, tpot; /* milliseconds */
    long output_tokens;
    double duration_s;          /* wall time the set took */
    double req_per_s, out_tok_per_s;
} bg_aggregate;

void bg_aggregate_init(bg_aggregate *a);
void bg_aggregate_dispose(bg_aggregate *a);
/* Derives pass_rate, interval, error_rate and throughputs from the counters. */
void bg_aggregate_finish(bg_aggregate *a);

typedef struct bg_tag_stat {
    char *tag;
    size_t runs, runs_passed;
    double weight_total, weight_passed, pass_rate;
} bg_tag_stat;

/* Threshold outcomes (see gate.h) */
typedef enum { BG_TH_PASS, BG_TH_FAIL, BG_TH_INCONCLUSIVE } bg_th_status;

typedef struct bg_threshold {
    char name[96];     /* as written: "p95_ms", "pass_rate[safety]" */
    char metric[32];   /* "p95_ms", "pass_rate", ... */
    char tag[64];      /* for per-tag pass_rate; "" otherwise */
    double limit;
    bool is_min;       /* measured must be >= limit (pass_rate, min_output_tokens_per_s) */
} bg_threshold;

typedef struct bg_threshold_result {
    bg_threshold th;
    bg_th_status status;
    double measured;   /* NaN when inconclusive for lack of data */
    size_t samples;
    char text[192];    /* "p95_ms ≤ 2500: measured 3120" */
} bg_threshold_result;

typedef enum { BG_VERDICT_PASSED, BG_VERDICT_FAILED, BG_VERDICT_ERROR } bg_verdict;

/* One phase of a deploy (lock, resolve, deploy, health, warmup, gate, flip, verify,
 * drain), for the `lifecycle` suite of the JUnit report. */
typedef struct bg_phase_record {
    char name[16];
    double duration_s;
    char *failure;              /* NULL when the phase succeeded */
} bg_phase_record;

typedef struct bg_run {
    bg_suite **suites;          /* owned */
    size_t n_suites;
    bg_case_result **cases;     /* cases[s][c] for suite s, case c */
    bg_request_record *reqs;    /* in completion order */
    size_t n_reqs, cap_reqs;
    char **models;              /* distinct model names servers answered with */
    size_t n_models;
    char **endpoints;           /* copies of the endpoint URLs (never with credentials) */
    size_t n_endpoints;
    bg_aggregate overall;
    bg_aggregate *per_suite;    /* n_suites */
    bg_tag_stat *tags;
    size_t n_tags;
    bg_threshold_result *thresholds;
    size_t n_thresholds;
    bg_verdict verdict;
    char *verdict_reason;       /* one line: why failed / errored */
    char *model;                /* the model name requested */
    char *release_id;           /* release under test (eval --rev), NULL otherwise */
    char *commit;               /* its commit id, NULL otherwise */
    bg_phase_record *phases;    /* deploy lifecycle in order; empty for `eval` */
    size_t n_phases;
    char *decision;             /* deploy: "promoted", "gate-failed", …; NULL for `eval` */
    bool has_weights;           /* deploy: router weights (percent, blue/green) */
    int weights_before[2], weights_after[2];
    double started_wall_s;      /* epoch */
    double duration_s;
    bool stream;
    int concurrency;
    double rate;                /* 0 = closed loop */
    /* Baseline comparison (paired.h); all NULL/0 when no baseline ran. */
    struct bg_run *baseline;    /* the baseline's run, made alongside this one (owned); it
                                 * shares this run's suites */
    bool suites_borrowed;       /* true in a baseline run: the suites are its parent's */
    double baseline_alpha;      /* significance level for the latency comparison; 0: default */
    struct bg_paired *paired;   /* the comparison, set by bg_gate_evaluate (owned) */
} bg_run;

/* Allocates an empty run taking ownership of the suites array and suites (also when it
 * fails: they are freed then). */
int bg_run_new(bg_run **out, bg_suite **suites, size_t n_suites, bg_error *err);
void bg_run_free(bg_run *run);
/* An empty run over suites it borrows (they stay the caller's and must outlive it): one
 * loaded suite set, many runs (the canary's probes every interval). */
int bg_run_new_borrowing(bg_run **out, bg_suite **suites, size_t n_suites, bg_error *err);
/* Gives run an empty baseline run (run->baseline) over the same suites, which it borrows:
 * they stay owned by run. Replaces an earlier baseline. Returns 0 or BG_ENOMEM. */
int bg_run_new_baseline(bg_run *run, bg_error *err);
/* Appends a request record (grows the array). */
int bg_run_add_request(bg_run *run, const bg_request_record *rec);
/* Appends a lifecycle phase (failure may be NULL). Returns 0 or BG_ENOMEM. */
int bg_run_add_phase(bg_run *run, const char *name, double duration_s, const char *failure);
/* Interns a model name; returns its index or -1. */
int bg_run_intern_model(bg_run *run, const char *model);
/* Total cases over all suites. */
size_t bg_run_case_count(const bg_run *run);
/* Computes per_suite/overall finish values and per-tag stats from the case results
 * and request records. Called once after the runner is done. */
int bg_run_finish(bg_run *run, bg_error *err);

#endif
