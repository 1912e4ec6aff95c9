/* health.c — talking HTTP to a pool's servers: waiting until every endpoint is ready
 * (health path 200 AND the new model listed in /v1/models), warm-up requests, and the
 * in-flight gauge from /metrics. Also the small curl-multi helpers the http driver uses.
 *
 * Everything runs on one thread through libcurl's multi interface (curl_multi_poll):
 * all endpoints are probed concurrently, every request has its own timeout and every
 * wait an overall deadline. Nothing here reads the config; pools.c validated it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/cancel.h"
#include "bggate/limits.h"
#include "bggate/openai.h"
#include "bggate/util.h"
#include "pool_driver.h"

#define PROBE_TIMEOUT_MS 2000L   /* one health or models request */
#define METRICS_TIMEOUT_MS 5000L /* one /metrics scrape */
#define WARMUP_MAX_PER_ENDPOINT 1000
/* Longest single curl_multi_poll: libcurl 7.88 sometimes sleeps through a transfer that
 * became ready (seen as 1 s stalls with several connections to one host), so waits are
 * sliced, as the eval runner's are. */
#define POLL_SLICE_MS 50L

/* --- curl-multi helpers --- */

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    bg_pool_http *h = ud;
    size_t n = size * nmemb;
    return bg_buf_append(&h->body, p, n) < 0 ? 0 : n; /* 0 aborts: body over its cap */
}

void bg_pool_http_init(bg_pool_http *h)
{
    size_t tag = h->tag;
    memset(h, 0, sizeof *h);
    h->tag = tag;
    bg_buf_init(&h->body, BG_MAX_RESPONSE_BODY);
}

void bg_pool_http_dispose(bg_pool_http *h)
{
    if (!h)
        return;
    if (h->easy && h->multi)
        curl_multi_remove_handle(h->multi, h->easy);
    curl_easy_cleanup(h->easy);
    curl_slist_free_all(h->headers);
    free(h->post);
    bg_buf_dispose(&h->body);
    bg_pool_http_init(h);
}

static int add_header(bg_pool_http *h, const char *line)
{
    struct curl_slist *l = curl_slist_append(h->headers, line);
    if (!l)
        return BG_ENOMEM;
    h->headers = l;
    return 0;
}

/* Request headers: JSON content type for POSTs, the bearer token when given. */
static int set_headers(bg_pool_http *h, const char *bearer)
{
    int rc = h->post ? add_header(h, "Content-Type: application/json") : 0;
    if (!rc && bearer) {
        char *line = bg_asprintf("Authorization: Bearer %s", bearer);
        rc = line ? add_header(h, line) : BG_ENOMEM;
        free(line);
    }
    return rc;
}

int bg_pool_http_start(bg_pool_http *h, CURLM *multi, const char *url, const char *post,
                       const char *bearer, long timeout_ms, bg_error *err)
{
    bg_pool_http_dispose(h);
    if (timeout_ms < 1)
        timeout_ms = 1;
    if (post && !(h->post = bg_strdup(post)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!(h->easy = curl_easy_init()) || set_headers(h, bearer) < 0)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    CURL *e = h->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, h);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->headers);
    if (h->post) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, h->post);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(h->post));
    }
    CURLMcode mc = curl_multi_add_handle(multi, e);
    if (mc != CURLM_OK)
        return bg_error_set(err, BG_ENET, "curl: %s", curl_multi_strerror(mc));
    h->multi = multi;
    return 0;
}

/* Marks every finished transfer done and detaches it from the multi handle. */
static void drain_finished(CURLM *multi)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        bg_pool_http *h = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&h);
        h->result = msg->data.result;
        curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &h->status);
        curl_multi_remove_handle(multi, h->easy);
        h->multi = NULL;
        h->done = true;
    }
}

int bg_pool_http_pump(CURLM *multi, long wait_ms, bg_error *err)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi, &running);
    drain_finished(multi);
    if (mc == CURLM_OK && wait_ms > 0) {
        mc = curl_multi_poll(multi, NULL, 0, (int)(wait_ms < POLL_SLICE_MS ? wait_ms
                                                                            : POLL_SLICE_MS),
                             NULL);
        if (mc == CURLM_OK)
            mc = curl_multi_perform(multi, &running);
        drain_finished(multi);
    }
    if (mc != CURLM_OK)
        return bg_error_set(err, BG_ENET, "curl: %s", curl_multi_strerror(mc));
    if (bg_cancelled())
        return bg_error_set(err, BG_ECANCELED, "cancelled by signal %d", bg_cancel_signal());
    return 0;
}

static bool all_done(const bg_pool_http *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!reqs[i].done)
            return false;
    return true;
}

/* Milliseconds until deadline, clamped to [0, cap]. */
static long ms_left(double deadline_ms, long cap)
{
    double left = deadline_ms - bg_now_ms();
    if (left <= 0)
        return 0;
    return left > (double)cap ? cap : (long)ceil(left);
}

int bg_pool_http_run(CURLM *multi, bg_pool_http *reqs, size_t n, double deadline_ms,
                     bg_error *err)
{
    int rc = 0;
    while (!rc && !all_done(reqs, n) && ms_left(deadline_ms, 1000) > 0)
        rc = bg_pool_http_pump(multi, ms_left(deadline_ms, 1000), err);
    if (!rc)
        rc = bg_pool_http_pump(multi, 0, err); /* collect what finished at the deadline */
    return rc;
}

bool bg_pool_http_ok(const bg_pool_http *h)
{
    return h->done && h->result == CURLE_OK && h->status >= 200 && h->status < 300;
}

void bg_pool_http_what(const bg_pool_http *h, char *out, size_t outsz)
{
    if (!h->done)
        snprintf(out, outsz, "no answer yet");
    else if (h->status > 0 && h->result == CURLE_WRITE_ERROR)
        snprintf(out, outsz, "answered %ld with a body over %u bytes", h->status,
                 BG_MAX_RESPONSE_BODY);
    else if (h->status > 0)
        snprintf(out, outsz, "answered %ld", h->status);
    else if (h->result == CURLE_COULDNT_CONNECT)
        snprintf(out, outsz, "connection refused");
    else if (h->result == CURLE_OPERATION_TIMEDOUT)
        snprintf(out, outsz, "timed out");
    else
        snprintf(out, outsz, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(h->result));
}

/* --- health wait --- */

typedef struct probe {
    const char *endpoint;
    char *health_url, *models_url;
    bg_pool_http health, models;
    bool ready, busy;
    double next_ms;        /* when the next probe starts */
    long interval_ms;      /* gap to the probe after that */
    char state[256];       /* what it last answered */
} probe;

typedef struct waiter {
    const bg_pool_config *pool;
    const bg_health_config *h;
    const char *served;
    bg_health_progress_fn progress;
    void *ud;
    CURLM *multi;
    probe *probes;
    double start_ms, deadline_ms;
} waiter;

static int probes_init(waiter *w, bg_error *err)
{
    size_t n = w->pool->n_endpoints;
    if (!(w->probes = calloc(n ? n : 1, sizeof *w->probes)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        probe *p = &w->probes[i];
        char *root = bg_pool_endpoint_root(w->pool->endpoints[i]);
        p->endpoint = w->pool->endpoints[i];
        p->health_url = root ? bg_asprintf("%s%s", root, w->h->path) : NULL;
        p->models_url = bg_pool_endpoint_join(p->endpoint, "/models");
        p->interval_ms = w->h->interval_ms > 0 ? w->h->interval_ms : 250;
        p->next_ms = w->start_ms;
        bg_pool_http_init(&p->health);
        bg_pool_http_init(&p->models);
        free(root);
        if (!p->health_url || !p->models_url)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    return 0;
}

static void probes_free(waiter *w)
{
    for (size_t i = 0; w->probes && i < w->pool->n_endpoints; i++) {
        bg_pool_http_dispose(&w->probes[i].health);
        bg_pool_http_dispose(&w->probes[i].models);
        free(w->probes[i].health_url);
        free(w->probes[i].models_url);
    }
    free(w->probes);
}

/* What a finished probe says: "" when ready, else the reason it is not. */
static void probe_verdict(const waiter *w, const probe *p, char *out, size_t outsz)
{
    char what[200];
    out[0] = '\0';
    if (p->health.status != 200 || p->health.result != CURLE_OK) {
        bg_pool_http_what(&p->health, what, sizeof what);
        if (p->health.status > 0)
            snprintf(out, outsz, "%s %s", w->h->path, what);
        else
            snprintf(out, outsz, "%s", what);
        return;
    }
    const bg_buf *b = &p->models.body;
    if (p->models.status != 200 || p->models.result != CURLE_OK) {
        bg_pool_http_what(&p->models, what, sizeof what);
        snprintf(out, outsz, "/models %s", what);
        return;
    }
    if (bg_openai_models_has(bg_buf_cstr(b), b->len, w->served))
        return;
    char *first = NULL;
    if (bg_openai_parse_models(&first, bg_buf_cstr(b), b->len, NULL) == 0)
        snprintf(out, outsz, "serves model \"%s\", not \"%s\"", first, w->served);
    else
        snprintf(out, outsz, "/models does not list \"%s\"", w->served);
    free(first);
}

static void probe_set_state(const waiter *w, probe *p, const char *state)
{
    if (strcmp(p->state, state) == 0)
        return;
    bg_strlcpy(p->state, state, sizeof p->state);
    if (w->progress)
        w->progress(w->ud, p->endpoint, state, (bg_now_ms() - w->start_ms) / 1000.0);
}

/* Starts due probes (health and models at once) and judges finished ones. */
static int probes_step(waiter *w, double now, bool *all_ready, bg_error *err)
{
    *all_ready = true;
    for (size_t i = 0; i < w->pool->n_endpoints; i++) {
        probe *p = &w->probes[i];
        if (p->busy && p->health.done && p->models.done) {
            char verdict[256];
            probe_verdict(w, p, verdict, sizeof verdict);
            p->busy = false;
            p->ready = verdict[0] == '\0';
            probe_set_state(w, p, p->ready ? "ready" : verdict);
        }
        if (p->ready)
            continue;
        *all_ready = false;
        if (p->busy || now < p->next_ms)
            continue;
        long t = ms_left(w->deadline_ms, PROBE_TIMEOUT_MS);
        int rc = bg_pool_http_start(&p->health, w->multi, p->health_url, NULL, w->pool->api_key, t,
                                    err);
        if (!rc)
            rc = bg_pool_http_start(&p->models, w->multi, p->models_url, NULL, w->pool->api_key, t,
                                    err);
        if (rc < 0)
            return rc;
        p->busy = true;
        p->next_ms = now + (double)p->interval_ms;
        p->interval_ms = p->interval_ms * 2 > w->h->max_interval_ms ? w->h->max_interval_ms
                                                                    : p->interval_ms * 2;
    }
    return 0;
}

/* How long to sleep: until the next due probe, at most 1 s, never past the deadline. */
static long probes_wait_ms(const waiter *w, double now)
{
    double next = now + 1000;
    for (size_t i = 0; i < w->pool->n_endpoints; i++) {
        const probe *p = &w->probes[i];
        if (!p->ready && !p->busy && p->next_ms < next)
            next = p->next_ms;
    }
    if (next > w->deadline_ms)
        next = w->deadline_ms;
    return next <= now ? 0 : (long)ceil(next - now);
}

static int health_timeout(const waiter *w, bg_error *err)
{
    for (size_t i = 0; i < w->pool->n_endpoints; i++) {
        const probe *p = &w->probes[i];
        if (!p->ready)
            return bg_error_set(err, BG_ETIMEOUT, "pools.%s: %s not ready after %ld s: %s",
                                bg_pool_name(w->pool->id), p->endpoint, w->h->timeout_s,
                                p->state[0] ? p->state : "no answer");
    }
    return 0;
}

static int health_loop(waiter *w, bg_error *err)
{
    for (;;) {
        double now = bg_now_ms();
        bool ready = false;
        int rc = probes_step(w, now, &ready, err);
        if (rc < 0 || ready)
            return rc;
        if (now >= w->deadline_ms)
            return health_timeout(w, err);
        if ((rc = bg_pool_http_pump(w->multi, probes_wait_ms(w, now), err)) < 0)
            return rc;
    }
}

int bg_health_wait(const bg_pool_config *pool, const bg_health_config *h,
                   const char *served_model, bg_health_progress_fn progress, void *ud,
                   bg_error *err)
{
    waiter w = {.pool = pool, .h = h, .served = served_model, .progress = progress, .ud = ud};
    int rc = 0;
    w.start_ms = bg_now_ms();
    w.deadline_ms = w.start_ms + (double)h->timeout_s * 1000.0;
    if (!(w.multi = curl_multi_init())) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = probes_init(&w, err)) < 0)
        goto cleanup;
    rc = health_loop(&w, err);
cleanup:
    probes_free(&w);
    curl_multi_cleanup(w.multi);
    return rc;
}

/* --- warm-up --- */

/* The first failed warm-up request as an error naming its endpoint. */
static int warmup_verdict(const bg_pool_config *pool, const bg_pool_http *reqs, size_t n,
                          long timeout_ms, bg_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (bg_pool_http_ok(&reqs[i]))
            continue;
        char what[200];
        if (!reqs[i].done || reqs[i].result == CURLE_OPERATION_TIMEDOUT)
            snprintf(what, sizeof what, "no answer within %ld ms", timeout_ms);
        else
            bg_pool_http_what(&reqs[i], what, sizeof what);
        return bg_error_set(err, BG_ENET, "pools.%s: warm-up of %s: %s", bg_pool_name(pool->id),
                            pool->endpoints[reqs[i].tag], what);
    }
    return 0;
}

int bg_pool_warmup(const bg_pool_config *pool, const char *served_model, int n, long timeout_ms,
                   bg_error *err)
{
    if (n <= 0 || pool->n_endpoints == 0)
        return 0;
    if (n > WARMUP_MAX_PER_ENDPOINT)
        return bg_error_set(err, BG_EINVAL, "warm-up: at most %d requests per endpoint, got %d",
                            WARMUP_MAX_PER_ENDPOINT, n);
    size_t total = (size_t)n * pool->n_endpoints;
    bg_pool_http *reqs = calloc(total, sizeof *reqs);
    CURLM *multi = curl_multi_init();
    char *body = bg_openai_build_probe(served_model, "warm-up");
    char *url = NULL;
    int rc = 0;
    if (!reqs || !multi || !body) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    double deadline = bg_now_ms() + (double)timeout_ms;
    for (size_t i = 0; i < total && !rc; i++) {
        reqs[i].tag = i / (size_t)n;
        bg_pool_http_init(&reqs[i]);
        free(url);
        if (!(url = bg_pool_endpoint_join(pool->endpoints[reqs[i].tag], "/chat/completions")))
            rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        else
            rc = bg_pool_http_start(&reqs[i], multi, url, body, pool->api_key, timeout_ms, err);
    }
    if (!rc)
        rc = bg_pool_http_run(multi, reqs, total, deadline, err);
    if (!rc)
        rc = warmup_verdict(pool, reqs, total, timeout_ms, err);
cleanup:
    for (size_t i = 0; reqs && i < total; i++)
        bg_pool_http_dispose(&reqs[i]);
    free(reqs);
    free(body);
    free(url);
    curl_multi_cleanup(multi);
    return rc;
}

/* --- in-flight gauge --- */

/* Past a label set "{a="x}",b="y"}": quoted values may hold braces and escapes. */
static const char *skip_labels(const char *p)
{
    bool quoted = false;
    for (p++; *p && *p != '\n'; p++) {
        if (quoted && *p == '\\' && p[1])
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (!quoted && *p == '}')
            return p + 1;
    }
    return NULL;
}

/* Sums the samples of `metric` in Prometheus text ("name{labels} value [ts]" or
 * "name value"). *found tells whether any sample was there. */
static double gauge_sum(const char *text, const char *metric, bool *found)
{
    size_t mlen = strlen(metric);
    double sum = 0;
    *found = false;
    for (const char *line = text; line && *line;) {
        const char *p = line + strspn(line, " \t");
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
        if (*p == '#' || strncmp(p, metric, mlen) != 0)
            continue;
        p += mlen;
        if (*p == '{')
            p = skip_labels(p);
        if (!p || (*p != ' ' && *p != '\t'))
            continue;
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v))
            continue;
        sum += v;
        *found = true;
    }
    return sum;
}

/* One endpoint's gauge: `metric`, or vLLM's falling back to llama.cpp's. */
static double endpoint_gauge(const char *body, const char *metric, bool *found)
{
    if (metric)
        return gauge_sum(body, metric, found);
    double v = gauge_sum(body, "vllm:num_requests_running", found);
    return *found ? v : gauge_sum(body, "llamacpp:requests_processing", found);
}

static int start_scrapes(const bg_pool_config *pool, CURLM *multi, bg_pool_http *reqs,
                         bg_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < pool->n_endpoints && !rc; i++) {
        char *root = bg_pool_endpoint_root(pool->endpoints[i]);
        char *url = root ? bg_asprintf("%s/metrics", root) : NULL;
        reqs[i].tag = i;
        bg_pool_http_init(&reqs[i]);
        rc = url ? bg_pool_http_start(&reqs[i], multi, url, NULL, pool->api_key, METRICS_TIMEOUT_MS,
                                     err)
                 : bg_error_set(err, BG_ENOMEM, "out of memory");
        free(root);
        free(url);
    }
    return rc;
}

/* Sums the in-flight gauge over the bodies of bg_pool_metrics (NULL: no /metrics there). */
static int sum_gauges(const bg_pool_config *pool, char *const *bodies, const char *metric,
                      double *out, bg_error *err)
{
    double sum = 0;
    bool any = false;
    for (size_t i = 0; i < pool->n_endpoints; i++) {
        bool found = false;
        if (!bodies[i])
            continue; /* no /metrics there: counts as not exposing the gauge */
        sum += endpoint_gauge(bodies[i], metric, &found);
        any = any || found;
    }
    if (!any)
        return bg_error_set(err, BG_ENOTSUP, "pools.%s: no endpoint exposes %s",
                            bg_pool_name(pool->id),
                            metric ? metric
                                   : "vllm:num_requests_running or llamacpp:requests_processing");
    *out = sum;
    return 0;
}

int bg_pool_inflight(const bg_pool_config *pool, const char *metric, double *out, bg_error *err)
{
    size_t n = pool->n_endpoints;
    char **bodies = calloc(n ? n : 1, sizeof *bodies);
    if (!bodies)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int rc = bg_pool_metrics(pool, bodies, err);
    if (!rc)
        rc = sum_gauges(pool, bodies, metric, out, err);
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
    free(bodies);
    return rc;
}

/* Copies each endpoint's /metrics body; an endpoint that answers non-200 gets NULL. */
static int collect_bodies(const bg_pool_config *pool, const bg_pool_http *reqs, char **bodies,
                          bg_error *err)
{
    for (size_t i = 0; i < pool->n_endpoints; i++) {
        char what[200];
        if (!reqs[i].done || reqs[i].status == 0) {
            bg_pool_http_what(&reqs[i], what, sizeof what);
            return bg_error_set(err, BG_ENET, "pools.%s: %s metrics: %s",
                                bg_pool_name(pool->id), pool->endpoints[i], what);
        }
        if (!bg_pool_http_ok(&reqs[i]))
            continue;
        bodies[i] = bg_strdup(bg_buf_cstr(&reqs[i].body));
        if (!bodies[i])
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    return 0;
}

int bg_pool_metrics(const bg_pool_config *pool, char **bodies, bg_error *err)
{
    size_t n = pool->n_endpoints;
    bg_pool_http *reqs = calloc(n ? n : 1, sizeof *reqs);
    CURLM *multi = curl_multi_init();
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        bodies[i] = NULL;
    if (!reqs || !multi) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = start_scrapes(pool, multi, reqs, err);
    if (!rc)
        rc = bg_pool_http_run(multi, reqs, n, bg_now_ms() + METRICS_TIMEOUT_MS + 100, err);
    if (!rc)
        rc = collect_bodies(pool, reqs, bodies, err);
    if (rc)
        for (size_t i = 0; i < n; i++) {
            free(bodies[i]);
            bodies[i] = NULL;
        }
cleanup:
    for (size_t i = 0; reqs && i < n; i++)
        bg_pool_http_dispose(&reqs[i]);
    free(reqs);
    curl_multi_cleanup(multi);
    return rc;
}
