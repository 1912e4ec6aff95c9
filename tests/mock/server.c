/* server.c — bg-mock's HTTP side: libmicrohttpd handlers, timing and error injection.
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION), so a handler may simply
 * sleep to simulate latency and token gaps; keep-alive is libmicrohttpd's. Every sleep
 * waits on one condition variable that shutdown broadcasts, and a "hang" polls its
 * socket for the client leaving, so SIGTERM stops the server promptly whatever the
 * requests are doing. Request parsing and body building live in reply.c, counters in
 * metrics.c; this file decides what to send, when, and records what it received.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bggate/util.h"
#include "mock.h"

#define HANG_POLL_MS 50
#define READER_BLOCK (16u * 1024u)

struct bg_mock_server {
    const bg_mock_config *cfg;
    struct MHD_Daemon *daemon;
    bg_mock_metrics metrics;
    pthread_mutex_t mu; /* guards the condition variable and the RNG */
    pthread_cond_t wake;
    atomic_bool stopping;
    uint64_t rng;
    FILE *log;
    pthread_mutex_t log_mu;
    double ready_ms;    /* monotonic time when cold start ends */
    long started_epoch; /* for /v1/models "created" */
    atomic_ulong next_id;
    atomic_long answered; /* completion requests answered, for --crash-after */
    atomic_long delayed;  /* completion requests that reached their latency, for --degrade-after */
    atomic_ulong next_conn; /* serial number of the last connection accepted */
    int port;
};

/* Per-request state, MHD's req_cls: freed in on_completed. */
typedef struct mock_req {
    const char *method; /* owned by MHD for the request's lifetime */
    const char *url;
    bg_buf body;
    bool too_big;
    double start_ms;
    double wall_start;
    /* what the request log reports */
    char *model;
    char *prompt;
    bool stream;
    unsigned injected; /* BG_MOCK_ERR_* or 0 */
    /* completion bookkeeping */
    bool completion;    /* counted in num_requests_running */
    bool active;        /* counted in the active gauge until its response is queued */
    bool answered;      /* a response was queued */
    const char *finish; /* success finish_reason, NULL for errors */
    long prompt_tokens;
    long gen_tokens;
} mock_req;

/* ---------------------------------------------------------------- timing */

/* Sleeps ms unless shutdown starts; false once stopping. */
static bool mock_sleep(bg_mock_server *s, long ms)
{
    struct timespec until;
    if (ms <= 0)
        return !atomic_load(&s->stopping);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stopping)) {
        if (pthread_cond_timedwait(&s->wake, &s->mu, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->mu);
    return !atomic_load(&s->stopping);
}

/* splitmix64 under s->mu: reproducible for a given --seed and request order. */
static uint64_t rng_next(bg_mock_server *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    pthread_mutex_unlock(&s->mu);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static long latency_ms(bg_mock_server *s, bool degraded)
{
    long jitter = s->cfg->jitter_ms;
    long extra = jitter > 0 ? (long)(rng_next(s) % (uint64_t)(jitter + 1)) : 0;
    if (degraded)
        extra += s->cfg->degrade_latency_ms;
    return s->cfg->latency_ms + extra;
}

/* Whether this completion comes after --degrade-after others. */
static bool next_is_degraded(bg_mock_server *s)
{
    long n = atomic_fetch_add(&s->delayed, 1) + 1;
    return s->cfg->degrade_after > 0 && n > s->cfg->degrade_after;
}

/* 0 or one BG_MOCK_ERR_* bit chosen uniformly from the configured kinds; once degraded,
 * at --degrade-error-rate. */
static unsigned pick_injection(bg_mock_server *s, bool degraded)
{
    unsigned kinds[4], n = 0;
    double rate = degraded && s->cfg->degrade_error_rate > 0 ? s->cfg->degrade_error_rate
                                                             : s->cfg->error_rate;
    if (rate <= 0.0 || s->cfg->error_kinds == 0)
        return 0;
    double u = (double)(rng_next(s) >> 11) / 9007199254740992.0; /* [0, 1) */
    if (u >= rate)
        return 0;
    for (unsigned i = 0; i < 4; i++) {
        if (s->cfg->error_kinds & (1u << i))
            kinds[n++] = 1u << i;
    }
    return kinds[rng_next(s) % n];
}

/* Blocks until the client goes away or shutdown starts. */
static void hang(bg_mock_server *s, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = ci ? ci->connect_fd : -1;
    while (mock_sleep(s, HANG_POLL_MS)) {
        struct pollfd p = {.fd = fd, .events = POLLRDHUP};
        if (fd >= 0 && poll(&p, 1, 0) > 0 &&
            (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
            return;
    }
}

/* ---------------------------------------------------------- request log */

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    cJSON *headers = cls;
    char name[256];
    (void)kind;
    size_t i = 0;
    for (; key[i] && i < sizeof(name) - 1; i++)
        name[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] - 'A' + 'a') : key[i];
    name[i] = '\0';
    cJSON *prev = cJSON_GetObjectItemCaseSensitive(headers, name);
    if (prev == NULL) {
        cJSON_AddStringToObject(headers, name, value ? value : "");
        return MHD_YES;
    }
    /* A repeated header is folded as HTTP allows: "a, b". */
    char *joined = bg_asprintf("%s, %s", prev->valuestring, value ? value : "");
    if (joined != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(headers, name, cJSON_CreateString(joined));
    free(joined);
    return MHD_YES;
}

static void add_string_or_null(cJSON *o, const char *key, const char *v)
{
    if (v != NULL)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

/* The serial number (1, 2, …) of the connection a request came on; 0 if unknown. */
static unsigned long conn_serial(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? (unsigned long)(uintptr_t)ci->socket_context : 0;
}

/* One JSON line per request; status < 0 is logged as null (a hang never answers). */
static void log_request(bg_mock_server *s, struct MHD_Connection *c, const mock_req *r,
                        int status)
{
    if (s->log == NULL)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "t", r->wall_start);
    cJSON_AddNumberToObject(o, "conn", (double)conn_serial(c));
    cJSON_AddStringToObject(o, "method", r->method);
    cJSON_AddStringToObject(o, "path", r->url);
    add_string_or_null(o, "model", r->model);
    cJSON_AddBoolToObject(o, "stream", r->stream);
    add_string_or_null(o, "prompt", r->prompt);
    if (status >= 0)
        cJSON_AddNumberToObject(o, "status", status);
    else
        cJSON_AddNullToObject(o, "status");
    add_string_or_null(o, "authorization",
                       MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, cJSON_AddObjectToObject(o, "headers"));
    add_string_or_null(o, "injected", r->injected ? bg_mock_error_kind_name(r->injected) : NULL);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (line == NULL)
        return;
    pthread_mutex_lock(&s->log_mu);
    fputs(line, s->log);
    fputc('\n', s->log);
    fflush(s->log);
    pthread_mutex_unlock(&s->log_mu);
    free(line);
}

/* ------------------------------------------------------------- responses */

/* A request stops being active once its response is queued or it ends without one. */
static void deactivate(bg_mock_server *s, mock_req *r)
{
    if (r->active) {
        r->active = false;
        bg_mock_metrics_active(&s->metrics, -1);
    }
}

/* Logs the request, then queues resp (consumed either way). */
static enum MHD_Result queue(bg_mock_server *s, struct MHD_Connection *c, mock_req *r,
                             unsigned status, struct MHD_Response *resp)
{
    deactivate(s, r);
    if (resp == NULL)
        return MHD_NO;
    log_request(s, c, r, (int)status);
    r->answered = true;
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Sends body (owned, freed by MHD) with a content type. */
static enum MHD_Result send_owned(bg_mock_server *s, struct MHD_Connection *c, mock_req *r,
                                  unsigned status, const char *ctype, char *body)
{
    if (body == NULL)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    return queue(s, c, r, status, resp);
}

static enum MHD_Result send_json(bg_mock_server *s, struct MHD_Connection *c, mock_req *r,
                                 unsigned status, char *body)
{
    return send_owned(s, c, r, status, "application/json", body);
}

static enum MHD_Result send_error(bg_mock_server *s, struct MHD_Connection *c, mock_req *r,
                                  unsigned status, const char *msg, const char *type)
{
    return send_json(s, c, r, status, bg_mock_error_body(msg, type, (int)status));
}

/* ------------------------------------------------------- content readers */

/* A streamed reply: SSE events with token_ms between token events. stop_at < ev.n
 * cuts the stream (injected "truncate"). */
typedef struct stream_state {
    bg_mock_server *s;
    bg_mock_events ev;
    size_t idx, off, stop_at;
} stream_state;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream_state *st = cls;
    (void)pos;
    if (st->idx >= st->stop_at)
        return st->stop_at < st->ev.n ? MHD_CONTENT_READER_END_WITH_ERROR
                                      : MHD_CONTENT_READER_END_OF_STREAM;
    bool token_gap = st->off == 0 && st->idx > 0 && st->idx < st->ev.token_events;
    if (!mock_sleep(st->s, token_gap ? st->s->cfg->token_ms : 0))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    const char *e = st->ev.ev[st->idx];
    size_t n = strlen(e) - st->off;
    if (n > max)
        n = max;
    memcpy(buf, e + st->off, n);
    st->off += n;
    if (e[st->off] == '\0') {
        st->idx++;
        st->off = 0;
    }
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    stream_state *st = cls;
    bg_mock_events_dispose(&st->ev);
    free(st);
}

/* A whole body of which only the first `cut` bytes are sent (injected "truncate"). */
typedef struct cut_state {
    char *body;
    size_t cut;
} cut_state;

static ssize_t cut_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    cut_state *cs = cls;
    if (pos >= cs->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = cs->cut - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, cs->body + pos, n);
    return (ssize_t)n;
}

static void cut_free(void *cls)
{
    cut_state *cs = cls;
    free(cs->body);
    free(cs);
}

/* ------------------------------------------------------------ completions */

typedef struct completion_ctx {
    bg_mock_request req;
    bg_mock_completion comp;
    bg_mock_reply_meta meta;
    char id[48];
} completion_ctx;

static enum MHD_Result send_stream(bg_mock_server *s, struct MHD_Connection *c, mock_req *r,
                                   completion_ctx *x)
{
    bg_error err;
    stream_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return MHD_NO;
    st->s = s;
    if (bg_mock_reply_events(&st->ev, &x->req, &x->comp, &x->meta, &err) != 0) {
        free(st);
        return MHD_NO;
    }
    st->stop_at = st->ev.n;
    if (r->injected == BG_MOCK_ERR_MALFORMED) {
        /* The first chunk becomes unparseable; the rest of the stream stays intact. */
        free(st->ev.ev[0]);
        st->ev.ev[0] = bg_strdup("data: {not json\n\n");
        if (st->ev.ev[0] == NULL) {
            stream_free(st);
            return MHD_NO;
        }
    } else if (r->injected == BG_MOCK_ERR_TRUNCATE) {
        st->stop_at = (st->ev.token_events + 1) / 2;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, READER_BLOCK, stream_read, st, stream_free);
    if (resp == NULL) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return queue(s, c, r, MHD_HTTP_OK, resp);
}

static enum MHD_Result send_truncated(bg_mock_server *s, struct MHD_Connection *c, mock_req *r,
                                      char *body)
{
    cut_state *cs = body ? calloc(1, sizeof(*cs)) : NULL;
    if (cs == NULL) {
        free(body);
        return MHD_NO;
    }
    cs->body = body;
    cs->cut = strlen(body) / 2;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(strlen(body), READER_BLOCK, cut_read, cs, cut_free);
    if (resp == NULL) {
        cut_free(cs);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return queue(s, c, r, MHD_HTTP_OK, resp);
}

static enum MHD_Result send_whole(bg_mock_server *s, struct MHD_Connection *c, mock_req *r,
                                  completion_ctx *x)
{
    if (!mock_sleep(s, x->comp.completion_tokens * s->cfg->token_ms))
        return MHD_NO;
    if (r->injected == BG_MOCK_ERR_MALFORMED)
        return send_json(s, c, r, MHD_HTTP_OK, bg_strdup("{\"id\": \"cmpl-malformed\", \"choices\": [{not json"));
    char *body = bg_mock_reply_body(&x->req, &x->comp, &x->meta);
    if (r->injected == BG_MOCK_ERR_TRUNCATE)
        return send_truncated(s, c, r, body);
    return send_json(s, c, r, MHD_HTTP_OK, body);
}

/* Everything after a valid request: injection, latency, then the body. */
static enum MHD_Result answer(bg_mock_server *s, struct MHD_Connection *c, mock_req *r,
                              completion_ctx *x)
{
    bool degraded = next_is_degraded(s);
    r->injected = pick_injection(s, degraded);
    r->completion = true;
    bg_mock_metrics_started(&s->metrics);
    /* Active from here (the whole request has arrived) until the response is queued: a
     * span inside the client's own, so the peak never exceeds what the client had in
     * flight — what a test of a concurrency cap needs. */
    r->active = true;
    bg_mock_metrics_active(&s->metrics, 1);
    if (r->injected == BG_MOCK_ERR_500)
        return send_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "injected error", "server_error");
    if (r->injected == BG_MOCK_ERR_HANG) {
        log_request(s, c, r, -1);
        hang(s, c);
        return MHD_NO;
    }
    if (!mock_sleep(s, latency_ms(s, degraded)))
        return MHD_NO;
    bg_mock_metrics_ttft(&s->metrics, (bg_now_ms() - r->start_ms) / 1000.0);
    if (r->injected == 0) {
        r->finish = x->comp.finish_reason;
        r->prompt_tokens = x->comp.prompt_tokens;
        r->gen_tokens = x->comp.completion_tokens;
    }
    return x->req.stream ? send_stream(s, c, r, x) : send_whole(s, c, r, x);
}

static enum MHD_Result handle_completion(bg_mock_server *s, struct MHD_Connection *c,
                                         mock_req *r, bg_mock_api api)
{
    completion_ctx x;
    bg_error err;
    enum MHD_Result ret;
    memset(&x, 0, sizeof(x));
    bg_error_clear(&err);
    int rc = bg_mock_request_parse(&x.req, api, bg_buf_cstr(&r->body), r->body.len, &err);
    r->model = x.req.model ? bg_strdup(x.req.model) : NULL;
    r->prompt = x.req.prompt ? bg_strdup(x.req.prompt) : NULL;
    r->stream = x.req.stream;
    if (rc != 0) {
        ret = send_error(s, c, r, MHD_HTTP_BAD_REQUEST, err.msg, "invalid_request_error");
        goto cleanup;
    }
    const bg_mock_answer *ans = bg_mock_table_lookup(s->cfg->table, x.req.prompt);
    if (bg_mock_completion_make(&x.comp, &x.req, ans, &err) != 0) {
        ret = MHD_NO;
        goto cleanup;
    }
    snprintf(x.id, sizeof(x.id), "%s-%lu", api == BG_MOCK_API_CHAT ? "chatcmpl" : "cmpl",
             atomic_fetch_add(&s->next_id, 1) + 1);
    x.meta = (bg_mock_reply_meta){.id = x.id, .model = s->cfg->model, .created = (long)bg_wall_s()};
    ret = answer(s, c, r, &x);
cleanup:
    bg_mock_completion_dispose(&x.comp);
    bg_mock_request_dispose(&x.req);
    return ret;
}

/* ------------------------------------------------------------ other routes */

static enum MHD_Result handle_embeddings(bg_mock_server *s, struct MHD_Connection *c,
                                         mock_req *r)
{
    char *body = NULL;
    bg_error err;
    bg_error_clear(&err);
    int rc = bg_mock_embeddings_reply(&body, &r->model, bg_buf_cstr(&r->body), r->body.len,
                                      s->cfg->model, &err);
    if (rc == BG_EINVAL)
        return send_error(s, c, r, MHD_HTTP_BAD_REQUEST, err.msg, "invalid_request_error");
    if (rc != 0)
        return MHD_NO;
    return send_json(s, c, r, MHD_HTTP_OK, body);
}

static enum MHD_Result handle_metrics(bg_mock_server *s, struct MHD_Connection *c, mock_req *r)
{
    bg_buf out;
    bg_buf_init(&out, 0);
    if (bg_mock_metrics_render(&out, &s->metrics, s->cfg->model) != 0) {
        bg_buf_dispose(&out);
        return MHD_NO;
    }
    return send_owned(s, c, r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                      bg_buf_steal(&out));
}

typedef enum { R_HEALTH, R_MODELS, R_METRICS, R_CHAT, R_TEXT, R_EMBED, R_NONE } route_id;

static const struct {
    const char *path;
    const char *method;
    route_id id;
} routes[] = {
    {"/health", "GET", R_HEALTH},         {"/v1/models", "GET", R_MODELS},
    {"/metrics", "GET", R_METRICS},       {"/v1/chat/completions", "POST", R_CHAT},
    {"/v1/completions", "POST", R_TEXT},  {"/v1/embeddings", "POST", R_EMBED},
};

static enum MHD_Result route(bg_mock_server *s, struct MHD_Connection *c, mock_req *r)
{
    size_t i = 0, n = sizeof(routes) / sizeof(routes[0]);
    while (i < n && strcmp(routes[i].path, r->url) != 0)
        i++;
    if (i == n)
        return send_error(s, c, r, MHD_HTTP_NOT_FOUND, "no such endpoint", "not_found_error");
    if (strcmp(routes[i].method, r->method) != 0)
        return send_error(s, c, r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
                          "invalid_request_error");
    if (bg_now_ms() < s->ready_ms) {
        if (routes[i].id == R_HEALTH)
            return send_owned(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", bg_strdup("loading\n"));
        return send_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "model is loading", "service_unavailable");
    }
    switch (routes[i].id) {
    case R_HEALTH:
        return send_owned(s, c, r, MHD_HTTP_OK, "text/plain", bg_strdup("ok"));
    case R_MODELS:
        return send_json(s, c, r, MHD_HTTP_OK, bg_mock_models_body(s->cfg->model, s->started_epoch));
    case R_METRICS:
        return handle_metrics(s, c, r);
    case R_CHAT:
        return handle_completion(s, c, r, BG_MOCK_API_CHAT);
    case R_TEXT:
        return handle_completion(s, c, r, BG_MOCK_API_TEXT);
    default:
        return handle_embeddings(s, c, r);
    }
}

/* -------------------------------------------------------- MHD callbacks */

static void req_free(mock_req *r)
{
    if (r == NULL)
        return;
    bg_buf_dispose(&r->body);
    free(r->model);
    free(r->prompt);
    free(r);
}

/* First call for a request: headers only. A declared body over the cap is refused at
 * once, before reading it. */
static enum MHD_Result req_begin(bg_mock_server *s, struct MHD_Connection *c, const char *url,
                                 const char *method, void **req_cls)
{
    mock_req *r = calloc(1, sizeof(*r));
    long declared = 0;
    if (r == NULL)
        return MHD_NO;
    bg_buf_init(&r->body, BG_MOCK_MAX_BODY);
    r->method = method;
    r->url = url;
    r->start_ms = bg_now_ms();
    r->wall_start = bg_wall_s();
    *req_cls = r;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && bg_parse_long(&declared, cl, 0, 0x7fffffffffffffffL) == 0 &&
        declared > (long)BG_MOCK_MAX_BODY) {
        r->too_big = true;
        return send_error(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over 1 MiB",
                          "invalid_request_error");
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    bg_mock_server *s = cls;
    mock_req *r = *req_cls;
    (void)version;
    if (r == NULL)
        return req_begin(s, c, url, method, req_cls);
    if (*upload_size > 0) {
        if (!r->too_big && bg_buf_append(&r->body, upload, *upload_size) != 0)
            r->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->answered)
        return MHD_YES;
    if (r->too_big)
        return send_error(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over 1 MiB",
                          "invalid_request_error");
    return route(s, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    bg_mock_server *s = cls;
    mock_req *r = *req_cls;
    (void)c;
    if (r == NULL)
        return;
    deactivate(s, r);
    if (r->completion) {
        bool ok = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && r->finish != NULL;
        bg_mock_metrics_finished(&s->metrics, ok ? r->finish : NULL,
                                 (bg_now_ms() - r->start_ms) / 1000.0, r->prompt_tokens,
                                 r->gen_tokens);
        if (r->answered && s->cfg->crash_after > 0 &&
            atomic_fetch_add(&s->answered, 1) + 1 == s->cfg->crash_after) {
            if (s->log)
                fflush(s->log);
            _exit(3); /* a simulated crash: no cleanup on purpose */
        }
    }
    req_free(r);
    *req_cls = NULL;
}

/* Numbers each accepted connection (the request log's "conn") and counts it. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    bg_mock_server *s = cls;
    (void)c;
    if (code != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    *socket_context = (void *)(uintptr_t)(atomic_fetch_add(&s->next_conn, 1) + 1);
    bg_mock_metrics_connection(&s->metrics);
}

/* ------------------------------------------------------------ lifecycle */

static int resolve_addr(struct sockaddr_storage *out, socklen_t *outlen, const char *host,
                        long port, bg_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char service[16];
    snprintf(service, sizeof(service), "%ld", port);
    int gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0)
        return bg_error_set(err, BG_EINVAL, "--host %s: %s", host, gai_strerror(gai));
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *outlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int start_daemon(bg_mock_server *s, bg_error *err)
{
    struct sockaddr_storage addr;
    socklen_t addrlen = 0;
    int rc = resolve_addr(&addr, &addrlen, s->cfg->host, s->cfg->port, err);
    if (rc != 0)
        return rc;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    errno = 0;
    s->daemon = MHD_start_daemon(flags, (uint16_t)s->cfg->port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                                 MHD_OPTION_END);
    if (s->daemon == NULL)
        return bg_error_set(err, BG_ENET, "cannot listen on %s:%ld%s%s", s->cfg->host,
                            s->cfg->port, errno ? ": " : "", errno ? strerror(errno) : "");
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : (int)s->cfg->port;
    return 0;
}

static int server_init(bg_mock_server *s, const bg_mock_config *cfg, bg_error *err)
{
    pthread_condattr_t ca;
    s->cfg = cfg;
    s->rng = cfg->seed;
    s->ready_ms = bg_now_ms() + (double)cfg->cold_start_ms;
    s->started_epoch = (long)bg_wall_s();
    atomic_init(&s->stopping, false);
    atomic_init(&s->next_id, 0);
    atomic_init(&s->answered, 0);
    atomic_init(&s->delayed, 0);
    atomic_init(&s->next_conn, 0);
    bg_mock_metrics_init(&s->metrics);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (cfg->request_log != NULL && (s->log = fopen(cfg->request_log, "a")) == NULL)
        return bg_error_set(err, BG_EIO, "--request-log %s: %s", cfg->request_log, strerror(errno));
    return 0;
}

int bg_mock_server_start(bg_mock_server **out, const bg_mock_config *cfg, bg_error *err)
{
    bg_mock_server *s = calloc(1, sizeof(*s));
    int rc;
    *out = NULL;
    if (s == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if ((rc = server_init(s, cfg, err)) != 0 || (rc = start_daemon(s, err)) != 0)
        goto cleanup;
    *out = s;
    s = NULL;
cleanup:
    bg_mock_server_stop(s);
    return rc;
}

int bg_mock_server_port(const bg_mock_server *s)
{
    return s->port;
}

void bg_mock_server_stop(bg_mock_server *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stopping, true);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon); /* joins every connection thread */
    if (s->log != NULL)
        fclose(s->log);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->log_mu);
    bg_mock_metrics_dispose(&s->metrics);
    free(s);
}
