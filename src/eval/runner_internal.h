/* runner_internal.h — private to the eval runner (runner.c, runner_transfer.c,
 * runner_score.c): the job, scoring and runner structs and the few functions the files share.
 */
#ifndef BGGATE_RUNNER_INTERNAL_H
#define BGGATE_RUNNER_INTERNAL_H

#include <curl/curl.h>
#include <stdint.h>

#include "bggate/openai.h"
#include "bggate/runner.h"
#include "bggate/sse.h"

typedef enum { JOB_CASE, JOB_EMBED, JOB_JUDGE } job_kind;

struct runner;
struct scoring;

/* One HTTP transfer. */
typedef struct job {
    CURL *easy;
    struct runner *r;
    job_kind kind;
    bool baseline;         /* a request of the baseline run (paired.h) */
    size_t suite, kase;
    uint32_t repeat;
    size_t endpoint;
    int retries;
    bool stream, chat;
    double sched_ms;       /* when the request was due (latency is measured from here) */
    double last_byte_ms;   /* when the latest body bytes arrived (0: none yet) */
    double first_token_ms; /* < 0 until the first text arrives */
    double last_token_ms;
    bool headers_checked;
    bool is_sse;           /* 2xx with text/event-stream */
    long status;
    bg_buf raw;            /* whole body (non-streamed, or an error body) */
    bg_sse sse;
    bg_response resp;
    bg_samples itl;
    bool failed_parse;     /* a parse error was recorded in perr */
    bg_error perr;
    char *body;
    char url[1024];
    char errbuf[CURL_ERROR_SIZE];
    struct scoring *sc;    /* JOB_EMBED / JOB_JUDGE: the case run waiting for it */
    size_t assert_index;   /* which assertion the aux result is for */
    struct job *next;      /* free list / retry queue */
    struct job *prev_active, *next_active; /* in curl's hands (for cleanup on cancel) */
    double retry_at;
} job;

/* A finished case request waiting for auxiliary results before it is scored. */
typedef struct scoring {
    bool baseline;
    size_t suite, kase;
    uint32_t repeat;
    bg_request_record rec;
    bg_response resp;
    int outstanding;
    double **emb_answer;   /* per assertion (similar only) */
    double **emb_expected;
    size_t *emb_dim;
    char **judge_reply;    /* per assertion (llm-rubric only) */
    char **aux_error;
} scoring;

/* The work list: every (suite, case, repeat) in order. */
typedef struct cursor {
    size_t suite, kase;
    uint32_t repeat;
    bool done;
} cursor;

typedef struct runner {
    bg_run *run;
    const bg_runner_opts *o;
    CURLM *multi;
    struct curl_slist *headers;
    struct curl_slist *aux_headers;
    char **base;           /* endpoints without trailing '/' */
    size_t next_endpoint;
    cursor cur;
    size_t total, finished, passed, failed, errored; /* the candidate's requests */
    size_t in_flight_cases;
    size_t connect_errors;
    /* the baseline alongside (NULL brun when none): its run, endpoints and counters */
    bg_run *brun;
    char **bbase;
    size_t next_bendpoint;
    size_t b_total, b_finished, b_connect_errors;
    cursor pending;        /* the other side of the last case run started */
    bool has_pending, pending_baseline;
    double pending_sched;  /* open loop: the arrival the pair shares */
    size_t pairs;          /* case runs started on both sides (alternates who goes first) */
    job *free_jobs;
    job *retry_queue;
    job *active;           /* transfers added to the multi handle */
    double t0;
    double next_arrival;
    uint64_t rng;
} runner;

static inline const bg_case *case_of(const runner *r, size_t s, size_t c)
{
    return &r->run->suites[s]->cases[c];
}

/* The run a request belongs to: the candidate's, or the baseline's. */
static inline bg_run *run_of(const runner *r, bool baseline)
{
    return baseline ? r->brun : r->run;
}

/* The endpoint base URLs of a side. */
static inline char *const *bases_of(const runner *r, bool baseline)
{
    return baseline ? r->bbase : r->base;
}

/* A job from the free list (or a new one) with fresh parsers. */
job *bg_runner_job_get(runner *r);
/* Returns a finished job to the free list. */
void bg_runner_job_put(runner *r, job *j);
/* Hands a prepared job to curl. */
int bg_runner_job_start(runner *r, job *j, const char *body, bool stream,
                        const struct curl_slist *headers, bg_error *err);
/* Frees a job and its easy handle (not for reuse). */
void bg_runner_job_destroy(job *j);
/* Restarts a job that failed to connect, with the same scheduled time. */
int bg_runner_restart_job(runner *r, job *j, bg_error *err);
/* Classifies a finished transfer: BG_REQ_OK with the response parsed, or an error kind
 * with a one-line message in msg. */
bg_req_error bg_runner_classify(job *j, CURLcode cc, char *msg, size_t msgsz);
/* Records one finished case run into its case result and the request list of its side. */
void bg_runner_record_case_run(runner *r, bool baseline, size_t s, size_t ci,
                               bg_request_record *rec,
                               double score, const char *answer, size_t answer_len,
                               bg_assert_result *res, const char *failure,
                               const char *error_msg);
/* Scores a finished case request now, or after the auxiliary requests its assertions
 * need (embeddings, judge). Takes over j->resp. */
void bg_runner_score_or_wait(runner *r, job *j, bg_request_record *rec);
/* An auxiliary request finished: store its result; score the case when it was the last. */
void bg_runner_finish_aux(runner *r, job *j, bg_req_error kind, const char *msg);
/* An auxiliary request is abandoned (cancelled run): frees its scoring record when it was
 * the last one holding it. */
void bg_runner_abandon_aux(runner *r, job *j);

#endif
