/* mock.h — the private interface between bg-mock's files.
 *
 * bg-mock is an OpenAI-compatible model-server simulator (see tests/mock/README.md).
 * Its pure parts (answers table, tokeniser, embeddings, request parsing and reply
 * building, metrics) are separate from the HTTP server so unit tests can include them
 * without a network.
 *
 *   table.c    answers table: load, validate, look a prompt up
 *   text.c     word counting, the tokeniser, deterministic embeddings
 *   reply.c    parse completion/embedding requests, build JSON bodies and SSE events
 *   metrics.c  thread-safe counters and histograms, Prometheus text rendering
 *   config.c   command line + scenario file into a bg_mock_config
 *   server.c   the libmicrohttpd handlers, timing, error injection, request log
 *   main.c     startup, port/pid files, signals, shutdown
 */
#ifndef BGGATE_MOCK_H
#define BGGATE_MOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "bggate/buf.h"
#include "bggate/error.h"

#define BG_MOCK_MAX_BODY (1u << 20)          /* request body cap; larger is 413 */
#define BG_MOCK_MAX_TABLE_BYTES (64u << 20)  /* answers table file */
#define BG_MOCK_MAX_SCENARIO_BYTES (4u << 20)
#define BG_MOCK_EMBED_DIM 64
#define BG_MOCK_DEFAULT_MODEL "mock-model"
#define BG_MOCK_DEFAULT_ANSWER "I do not know."

/* ---------------------------------------------------------------- table.c */

/* One answer: text plus the finish_reason to report ("stop" or "length"). */
typedef struct bg_mock_answer {
    char *text;
    const char *finish_reason; /* static string */
} bg_mock_answer;

typedef struct bg_mock_table bg_mock_table;

/* Builds a table from a parsed answers-table object. `path` names the object in error
 * messages ("answers" for an inline table, "" for a file's root). */
int bg_mock_table_parse(bg_mock_table **out, const cJSON *json, const char *path,
                        bg_error *err);
/* Reads and parses an answers-table file; errors are prefixed with the file name. */
int bg_mock_table_load(bg_mock_table **out, const char *file, bg_error *err);
/* A table that answers every prompt with the default answer. */
int bg_mock_table_new_empty(bg_mock_table **out, bg_error *err);
void bg_mock_table_free(bg_mock_table *t);
/* Exact match in "answers", else the first rule whose "contains" occurs in the
 * prompt, else "default". Never NULL; the answer is owned by the table. */
const bg_mock_answer *bg_mock_table_lookup(const bg_mock_table *t, const char *prompt);
/* The table's "model" member, or NULL. */
const char *bg_mock_table_model(const bg_mock_table *t);

/* ----------------------------------------------------------------- text.c */

/* Number of whitespace-separated words. */
long bg_mock_word_count(const char *text);
/* Byte length of the token that starts at text[pos] (0 at the end). A token is a word
 * plus the whitespace before it; the first token also carries leading whitespace and
 * the last one trailing whitespace, so the tokens concatenate to the text exactly. */
size_t bg_mock_token_len(const char *text, size_t pos);
/* Number of tokens in text (0 only for ""). */
long bg_mock_token_count(const char *text);
/* Byte length of the first n tokens (the whole text when it has fewer). */
size_t bg_mock_token_prefix(const char *text, long n);
/* Deterministic embedding: hashed bag of lowercased alphanumeric words, L2-normalised
 * (all zeros for text without words). */
void bg_mock_embed(double out[BG_MOCK_EMBED_DIM], const char *text);

/* ---------------------------------------------------------------- reply.c */

typedef enum { BG_MOCK_API_CHAT, BG_MOCK_API_TEXT } bg_mock_api;

/* What bg-mock needs from a completion request. */
typedef struct bg_mock_request {
    bg_mock_api api;
    char *model;        /* "model" from the request, or NULL */
    bool stream;
    bool include_usage; /* stream_options.include_usage */
    long max_tokens;    /* 0 = no limit */
    char *prompt;       /* the lookup key: last user message / "prompt" */
    long prompt_tokens; /* words in all messages / the prompt */
} bg_mock_request;

/* Parses a completion request body; BG_EINVAL with a client-facing message. */
int bg_mock_request_parse(bg_mock_request *out, bg_mock_api api, const char *body,
                          size_t len, bg_error *err);
void bg_mock_request_dispose(bg_mock_request *r);

/* The generated completion, after max_tokens. */
typedef struct bg_mock_completion {
    char *text;                /* owned */
    const char *finish_reason; /* static */
    long completion_tokens;
    long prompt_tokens;
} bg_mock_completion;

/* Applies max_tokens to an answer. */
int bg_mock_completion_make(bg_mock_completion *out, const bg_mock_request *req,
                            const bg_mock_answer *ans, bg_error *err);
void bg_mock_completion_dispose(bg_mock_completion *c);

/* Identity shared by all bodies of one response. */
typedef struct bg_mock_reply_meta {
    const char *id;    /* "chatcmpl-N" / "cmpl-N" */
    const char *model; /* served name */
    long created;      /* epoch seconds */
} bg_mock_reply_meta;

/* The whole non-streamed JSON body (caller frees); NULL on allocation failure. */
char *bg_mock_reply_body(const bg_mock_request *req, const bg_mock_completion *c,
                         const bg_mock_reply_meta *meta);

/* A streamed response as a list of SSE events ("data: ...\n\n"). Events
 * [0, token_events) each carry one token (at least one event, even for empty text);
 * the rest (finish chunk, usage chunk, [DONE]) follow without delay. */
typedef struct bg_mock_events {
    char **ev;
    size_t n;
    size_t token_events;
} bg_mock_events;

int bg_mock_reply_events(bg_mock_events *out, const bg_mock_request *req,
                         const bg_mock_completion *c, const bg_mock_reply_meta *meta,
                         bg_error *err);
void bg_mock_events_dispose(bg_mock_events *e);

/* {"error":{"message":...,"type":...,"code":status}} (caller frees). */
char *bg_mock_error_body(const char *message, const char *type, int status);

/* Answers a /v1/embeddings request body. *out is the JSON reply (caller frees); the
 * request's model (or NULL) goes to *req_model for the request log. */
int bg_mock_embeddings_reply(char **out, char **req_model, const char *body, size_t len,
                             const char *model, bg_error *err);

/* /v1/models body (caller frees). */
char *bg_mock_models_body(const char *model, long created);

/* -------------------------------------------------------------- metrics.c */

#define BG_MOCK_HIST_BUCKETS 20 /* including +Inf */

typedef struct bg_mock_hist {
    unsigned long long buckets[BG_MOCK_HIST_BUCKETS]; /* non-cumulative */
    unsigned long long count;
    double sum;
} bg_mock_hist;

typedef struct bg_mock_metrics {
    pthread_mutex_t mu;
    long running;
    long active;       /* completion requests between arrival and their response queued */
    long active_max;   /* the most of those at once since start */
    unsigned long long connections; /* TCP connections accepted since start */
    unsigned long long success_stop;
    unsigned long long success_length;
    unsigned long long prompt_tokens;
    unsigned long long generation_tokens;
    bg_mock_hist e2e;
    bg_mock_hist ttft;
} bg_mock_metrics;

void bg_mock_metrics_init(bg_mock_metrics *m);
void bg_mock_metrics_dispose(bg_mock_metrics *m);
void bg_mock_metrics_started(bg_mock_metrics *m);
/* Ends a started request; finish_reason non-NULL counts a success with its tokens and
 * e2e latency. */
void bg_mock_metrics_finished(bg_mock_metrics *m, const char *finish_reason, double e2e_s,
                              long prompt_tokens, long generation_tokens);
void bg_mock_metrics_ttft(bg_mock_metrics *m, double seconds);
/* A completion request became active (+1: its body parsed) or stopped being active (-1:
 * its response was queued, or it ended without one); tracks the peak. */
void bg_mock_metrics_active(bg_mock_metrics *m, int delta);
/* A TCP connection was accepted. */
void bg_mock_metrics_connection(bg_mock_metrics *m);
/* Prometheus text format 0.0.4 with vLLM's metric names, then bg-mock's own
 * (bg_mock_requests_active_max, bg_mock_connections_total) for tests. */
int bg_mock_metrics_render(bg_buf *out, bg_mock_metrics *m, const char *model);

/* --------------------------------------------------------------- config.c */

enum {
    BG_MOCK_ERR_500 = 1u << 0,
    BG_MOCK_ERR_MALFORMED = 1u << 1,
    BG_MOCK_ERR_TRUNCATE = 1u << 2,
    BG_MOCK_ERR_HANG = 1u << 3
};

typedef struct bg_mock_config {
    char *host;
    long port;
    char *port_file;
    char *pid_file;
    char *request_log;
    char *model;         /* served name after all overrides */
    bg_mock_table *table;
    long cold_start_ms;
    long latency_ms;
    long jitter_ms;
    long token_ms;
    double error_rate;
    unsigned error_kinds; /* BG_MOCK_ERR_* */
    long crash_after;     /* 0 = never */
    long degrade_after;   /* after this many completions, add degrade_latency_ms; 0 = never */
    long degrade_latency_ms;
    double degrade_error_rate; /* error rate once degraded (0: error_rate) */
    uint64_t seed;
} bg_mock_config;

/* Outcome of bg_mock_config_parse beyond 0/error. */
#define BG_MOCK_CONFIG_HELP 1

/* Parses argv (and the scenario it names). Returns 0, BG_MOCK_CONFIG_HELP after
 * --help, or a negative code with the message in err (exit 2). */
int bg_mock_config_parse(bg_mock_config *cfg, int argc, char **argv, bg_error *err);
void bg_mock_config_dispose(bg_mock_config *cfg);
/* Parses "500,malformed" into BG_MOCK_ERR_* bits. */
int bg_mock_error_kinds_parse(unsigned *out, const char *list, bg_error *err);
const char *bg_mock_error_kind_name(unsigned kind);
void bg_mock_usage(FILE *fp);

/* --------------------------------------------------------------- server.c */

typedef struct bg_mock_server bg_mock_server;

/* Starts listening. cfg is borrowed and must outlive the server. */
int bg_mock_server_start(bg_mock_server **out, const bg_mock_config *cfg, bg_error *err);
/* The bound TCP port. */
int bg_mock_server_port(const bg_mock_server *s);
/* Wakes every sleeping or hanging handler, stops the daemon and frees everything. */
void bg_mock_server_stop(bg_mock_server *s);

#endif
