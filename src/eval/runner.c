/* runner.c — the eval engine: one thread, libcurl multi, curl's parallel loop.
 *
 * Each HTTP transfer is a `job` tied to its easy handle (CURLOPT_PRIVATE) with its own
 * error buffer, timings and parsers. The loop: start work up to the concurrency limit
 * (closed loop) or as arrivals fall due (open loop), curl_multi_poll with a deadline,
 * drain finished transfers, score them, refill. A case run whose assertions need more
 * network calls (similar → /embeddings, llm-rubric → the judge) parks its answer in a
 * `scoring` record until those auxiliary transfers finish.
 *
 * With a baseline (paired.h) every case run becomes a pair of requests, one to each
 * side, started back to back by the same loop (alternating which goes first) under the
 * same concurrency limit; the baseline's results go to run->baseline.
 *
 * What it does not do: handle one transfer's bytes — curl options, parsing, timing
 * tokens, classifying how it ended (runner_transfer.c); score answers (runner_score.c);
 * decide the verdict (gate.c) or write reports (src/report/).
 * Bodies are never kept whole: the answer is capped (BG_MAX_ANSWER) and each case keeps
 * only an excerpt and its failure reasons.
 */
#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/cancel.h"
#include "bggate/limits.h"
#include "bggate/log.h"
#include "bggate/openai.h"
#include "bggate/runner.h"
#include "bggate/util.h"

#include "runner_internal.h"

#define DISCOVERY_TIMEOUT_MS 10000L
#define RETRY_BASE_MS 50.0 /* first connection retry; doubles each time */
#define POLL_CAP_MS 100

/* ---------- small helpers ---------- */

static double rng_uniform(runner *r)
{
    /* splitmix64: small, good enough for arrival gaps, reproducible by seed */
    uint64_t z = (r->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double next_gap_ms(runner *r)
{
    double mean = 1000.0 / r->o->rate;
    return r->o->poisson ? -log(rng_uniform(r)) * mean : mean;
}


static uint32_t repeats_of(const runner *r, const bg_case *c)
{
    int n = c->repeat > 0 ? c->repeat : r->o->repeat;
    return (uint32_t)(n > 0 ? n : 1);
}

static bool stream_of(const runner *r, const bg_case *c)
{
    return c->stream >= 0 ? c->stream == 1 : r->o->stream;
}

static bool cursor_next(runner *r, cursor *out)
{
    cursor *c = &r->cur;
    while (!c->done) {
        if (c->suite >= r->run->n_suites) {
            c->done = true;
            break;
        }
        const bg_suite *s = r->run->suites[c->suite];
        if (c->kase >= s->n_cases) {
            c->suite++;
            c->kase = 0;
            c->repeat = 0;
            continue;
        }
        if (c->repeat >= repeats_of(r, &s->cases[c->kase])) {
            c->kase++;
            c->repeat = 0;
            continue;
        }
        *out = *c;
        c->repeat++;
        return true;
    }
    return false;
}

/* The next request to start: a case run from the cursor, or — with a baseline — the
 * other side of the case run started last. Pairs alternate which side goes first, so
 * neither side systematically gets the earlier slot. */
static bool next_request(runner *r, cursor *out, bool *baseline)
{
    if (r->has_pending) {
        r->has_pending = false;
        *out = r->pending;
        *baseline = r->pending_baseline;
        return true;
    }
    if (!cursor_next(r, out))
        return false;
    *baseline = false;
    if (r->brun) {
        *baseline = (r->pairs++ & 1) != 0;
        r->pending = *out;
        r->pending_baseline = !*baseline;
        r->has_pending = true;
    }
    return true;
}

static size_t count_work(runner *r)
{
    size_t n = 0;
    for (size_t s = 0; s < r->run->n_suites; s++)
        for (size_t c = 0; c < r->run->suites[s]->n_cases; c++)
            n += repeats_of(r, case_of(r, s, c));
    return n;
}

/* ---------- starting case runs ---------- */

static size_t pick_endpoint(runner *r, bool baseline)
{
    size_t *next = baseline ? &r->next_bendpoint : &r->next_endpoint;
    size_t i = *next;
    *next = (*next + 1) % (baseline ? r->o->n_baseline_endpoints : r->o->n_endpoints);
    return i;
}

static int start_case(runner *r, const cursor *w, bool baseline, double sched_ms, bg_error *err)
{
    const bg_case *c = case_of(r, w->suite, w->kase);
    job *j = bg_runner_job_get(r);
    if (!j)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    j->kind = JOB_CASE;
    j->suite = w->suite;
    j->kase = w->kase;
    j->repeat = w->repeat;
    j->stream = stream_of(r, c);
    j->chat = c->is_chat;
    j->sched_ms = sched_ms;
    j->baseline = baseline;
    j->endpoint = pick_endpoint(r, baseline);
    snprintf(j->url, sizeof j->url, "%s/%s", bases_of(r, baseline)[j->endpoint],
             c->is_chat ? "chat/completions" : "completions");
    bg_request_opts ro = {.model = run_of(r, baseline)->model,
                          .stream = j->stream,
                          .defaults = r->o->request_defaults};
    int rc = bg_openai_build_request(&j->body, c->body, &ro, err);
    if (!rc)
        rc = bg_runner_job_start(r, j, j->body, j->stream, r->headers, err);
    if (rc) {
        bg_runner_job_put(r, j);
        return rc;
    }
    r->in_flight_cases++;
    return 0;
}

/* ---------- finished transfers ---------- */

/* Total latency from the scheduled send time to the last byte, on the same clock as TTFT
 * and the inter-token gaps (curl's own total time starts later and runs on another clock,
 * which made TTFT exceed e2e by a fraction of a millisecond). */
static double e2e_of(job *j)
{
    double end = j->last_byte_ms > 0 ? j->last_byte_ms : bg_now_ms();
    return end - j->sched_ms;
}

static void merge_itl(bg_run *run, job *j)
{
    for (size_t i = 0; i < j->itl.n; i++) {
        bg_samples_add(&run->overall.itl, j->itl.v[i]);
        bg_samples_add(&run->per_suite[j->suite].itl, j->itl.v[i]);
    }
}

static void finish_case(runner *r, job *j, bg_req_error kind, const char *msg)
{
    bg_run *run = run_of(r, j->baseline);
    r->in_flight_cases--;
    bg_request_record rec = {
        .suite = (uint32_t)j->suite,
        .kase = (uint32_t)j->kase,
        .repeat = j->repeat,
        .endpoint = (uint16_t)j->endpoint,
        .http_status = (uint16_t)(j->status > 0 && j->status < 1000 ? j->status : 0),
        .error = (uint8_t)kind,
        .retries = (uint8_t)(j->retries > 255 ? 255 : j->retries),
        .model = (int16_t)(j->resp.model[0] ? bg_run_intern_model(run, j->resp.model) : -1),
        .output_tokens = -1,
        .start_ms = j->sched_ms - r->t0,
        .e2e_ms = e2e_of(j),
        .ttft_ms = -1,
        .tpot_ms = -1,
    };
    if (kind != BG_REQ_OK) {
        if (kind == BG_REQ_CONNECT)
            *(j->baseline ? &r->b_connect_errors : &r->connect_errors) += 1;
        bg_runner_record_case_run(r, j->baseline, j->suite, j->kase, &rec, 0, NULL, 0, NULL,
                                  NULL, msg);
        return;
    }
    long out_tokens = bg_response_output_tokens(&j->resp);
    rec.output_tokens = (int32_t)(out_tokens > INT32_MAX ? INT32_MAX : out_tokens);
    if (j->stream && j->first_token_ms >= 0) {
        rec.ttft_ms = j->first_token_ms - j->sched_ms;
        if (out_tokens > 1)
            rec.tpot_ms = (rec.e2e_ms - rec.ttft_ms) / (double)(out_tokens - 1);
    }
    merge_itl(run, j);
    bg_runner_score_or_wait(r, j, &rec);
}

static void unlink_active(runner *r, job *j)
{
    if (j->prev_active)
        j->prev_active->next_active = j->next_active;
    else if (r->active == j)
        r->active = j->next_active;
    if (j->next_active)
        j->next_active->prev_active = j->prev_active;
    j->prev_active = j->next_active = NULL;
}

/* opts.report_header of a finished case request (the last response's, after redirects
 * or retries), for callers that check who answered. */
static void report_header(runner *r, job *j)
{
    if (j->baseline || !r->o->report_header || !r->o->on_header)
        return;
    struct curl_header *h = NULL;
    CURLHcode hc = curl_easy_header(j->easy, r->o->report_header, 0, CURLH_HEADER, -1, &h);
    r->o->on_header(r->o->on_header_ud, j->suite, j->kase, hc == CURLHE_OK && h ? h->value : "");
}

static void on_done(runner *r, CURL *easy, CURLcode cc)
{
    job *j = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
    curl_multi_remove_handle(r->multi, easy);
    unlink_active(r, j);
    char msg[BG_ERROR_MSG_MAX];
    msg[0] = '\0';
    bg_req_error kind = bg_runner_classify(j, cc, msg, sizeof msg);
    if (kind == BG_REQ_CONNECT && j->retries < r->o->max_retries) {
        /* only connection failures are retried: the server never saw the request */
        j->retries++;
        j->retry_at = bg_now_ms() + RETRY_BASE_MS * (double)(1 << (j->retries - 1));
        j->next = r->retry_queue;
        r->retry_queue = j;
        bg_log_debug("retrying %s (%s)", j->url, msg);
        return;
    }
    if (j->kind == JOB_CASE) {
        report_header(r, j);
        finish_case(r, j, kind, msg);
    } else {
        bg_runner_finish_aux(r, j, kind, msg);
    }
    bg_runner_job_put(r, j);
}

/* ---------- the loop ---------- */

static int start_due_retries(runner *r, double now, double *next_due, bg_error *err)
{
    job **pp = &r->retry_queue;
    while (*pp) {
        job *j = *pp;
        if (j->retry_at <= now) {
            *pp = j->next;
            int rc = bg_runner_restart_job(r, j, err);
            if (rc)
                return rc;
            continue;
        }
        if (j->retry_at < *next_due)
            *next_due = j->retry_at;
        pp = &j->next;
    }
    return 0;
}

static int start_new_work(runner *r, double now, double *next_due, bg_error *err)
{
    cursor w;
    bool baseline = false;
    size_t cap = (size_t)(r->o->concurrency > 0 ? r->o->concurrency : 1);
    while (r->in_flight_cases < cap) {
        double sched = now;
        /* open loop with a baseline: both halves of a pair share one arrival, so each
         * side sees the arrival process a run of its own would */
        bool second_half = r->has_pending;
        if (r->o->rate > 0 && !second_half) {
            if (r->next_arrival > now) {
                if (r->next_arrival < *next_due)
                    *next_due = r->next_arrival;
                break;
            }
            sched = r->next_arrival;
        }
        if (!next_request(r, &w, &baseline))
            break;
        if (r->o->rate > 0 && second_half) {
            sched = r->pending_sched;
        } else if (r->o->rate > 0) {
            r->pending_sched = sched;
            r->next_arrival += next_gap_ms(r);
        }
        int rc = start_case(r, &w, baseline, sched, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Handles every finished transfer; returns how many there were. */
static size_t drain_done(runner *r)
{
    CURLMsg *m;
    int left;
    size_t n = 0;
    while ((m = curl_multi_info_read(r->multi, &left)))
        if (m->msg == CURLMSG_DONE) {
            on_done(r, m->easy_handle, m->data.result);
            n++;
        }
    return n;
}

static int loop(runner *r, bg_error *err)
{
    int running = 0;
    for (;;) {
        double now = bg_now_ms();
        double next_due = now + POLL_CAP_MS;
        int rc = start_due_retries(r, now, &next_due, err);
        if (!rc)
            rc = start_new_work(r, now, &next_due, err);
        if (rc)
            return rc;
        CURLMcode mc = curl_multi_perform(r->multi, &running);
        if (mc != CURLM_OK)
            return bg_error_set(err, BG_EIO, "curl: %s", curl_multi_strerror(mc));
        size_t done = drain_done(r);
        if (r->finished >= r->total && r->b_finished >= r->b_total && running == 0 &&
            !r->retry_queue)
            return 0;
        if (bg_cancelled())
            return bg_error_set(err, BG_ECANCELED, "eval interrupted by signal %d after %zu of %zu requests",
                                bg_cancel_signal(), r->finished, r->total);
        /* Finished transfers freed slots (or queued follow-up requests): fill them now.
         * Polling first would sleep until the next socket event, which never comes when
         * every transfer in flight has just finished. */
        if (done > 0)
            continue;
        int wait_ms = (int)ceil(next_due - bg_now_ms());
        if (wait_ms < 0)
            wait_ms = 0;
        mc = curl_multi_poll(r->multi, NULL, 0, wait_ms, NULL);
        if (mc != CURLM_OK)
            return bg_error_set(err, BG_EIO, "curl: %s", curl_multi_strerror(mc));
    }
}

/* ---------- setup ---------- */

static size_t discard_write(char *p, size_t s, size_t n, void *ud)
{
    bg_buf *b = ud;
    (void)p;
    return bg_buf_append(b, p, s * n) ? 0 : s * n;
}

/* Asks an endpoint (a base URL) which model it serves (GET /models) into *model. */
static int discover_model(runner *r, const char *base, char **model, bg_error *err)
{
    char url[1100];
    snprintf(url, sizeof url, "%s/models", base);
    CURL *e = curl_easy_init();
    bg_buf body;
    bg_buf_init(&body, BG_MAX_RESPONSE_BODY);
    char eb[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->aux_headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, eb);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     r->o->timeout_ms < DISCOVERY_TIMEOUT_MS ? r->o->timeout_ms
                                                             : DISCOVERY_TIMEOUT_MS);
    int rc = 0;
    for (int attempt = 0;; attempt++) {
        CURLcode cc = curl_easy_perform(e);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (cc == CURLE_OK && status == 200) {
            rc = bg_openai_parse_models(model, body.data, body.len, err);
            if (rc)
                bg_error_prefix(err, "%s", url);
            break;
        }
        if (cc == CURLE_OK) {
            rc = bg_error_set(err, BG_ENET, "%s: HTTP %ld (no model to test: pass --model)", url,
                              status);
            break;
        }
        if (attempt >= r->o->max_retries ||
            (cc != CURLE_COULDNT_CONNECT && cc != CURLE_GOT_NOTHING)) {
            rc = bg_error_set(err, BG_ENET, "%s: %s", url, eb[0] ? eb : curl_easy_strerror(cc));
            break;
        }
        bg_buf_reset(&body);
    }
    curl_easy_cleanup(e);
    bg_buf_dispose(&body);
    return rc;
}

static int build_headers(runner *r, bg_error *err)
{
    struct curl_slist *h = NULL;
    char auth[1200] = "";
    if (r->o->api_key && *r->o->api_key)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", r->o->api_key);
    const char *common[] = {"Content-Type: application/json", "Expect:", auth[0] ? auth : NULL};
    for (size_t i = 0; i < 3; i++) {
        if (!common[i])
            continue;
        h = curl_slist_append(h, common[i]);
        r->aux_headers = curl_slist_append(r->aux_headers, common[i]);
    }
    for (size_t i = 0; i < r->o->n_headers; i++) {
        h = curl_slist_append(h, r->o->headers[i]);
        r->aux_headers = curl_slist_append(r->aux_headers, r->o->headers[i]);
    }
    /* wipe the key from our stack copy; curl keeps its own */
    memset(auth, 0, sizeof auth);
    r->headers = h;
    if (!h || !r->aux_headers)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    return 0;
}

static bool any_case_has_model(const bg_run *run)
{
    for (size_t s = 0; s < run->n_suites; s++)
        for (size_t c = 0; c < run->suites[s]->n_cases; c++)
            if (!cJSON_GetObjectItemCaseSensitive(run->suites[s]->cases[c].body, "model"))
                return false;
    return true;
}

/* Base URLs (no trailing '/') into *bases and copies of the URLs into run->endpoints. */
static int setup_endpoints(char ***bases, bg_run *run, const char *const *urls, size_t n_urls,
                           bg_error *err)
{
    *bases = calloc(n_urls, sizeof **bases);
    run->endpoints = calloc(n_urls, sizeof *run->endpoints);
    if (!*bases || !run->endpoints)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    run->n_endpoints = n_urls;
    for (size_t i = 0; i < n_urls; i++) {
        size_t n = strlen(urls[i]);
        while (n && urls[i][n - 1] == '/')
            n--;
        (*bases)[i] = bg_strndup(urls[i], n);
        run->endpoints[i] = bg_strdup(urls[i]);
        if (!(*bases)[i] || !run->endpoints[i])
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    return 0;
}

/* The baseline's run, endpoints and model (paired.h). */
static int setup_baseline(runner *r, bg_error *err)
{
    const bg_runner_opts *o = r->o;
    int rc = bg_run_new_baseline(r->run, err);
    if (rc)
        return rc;
    r->brun = r->run->baseline;
    rc = setup_endpoints(&r->bbase, r->brun, o->baseline_endpoints, o->n_baseline_endpoints,
                         err);
    if (rc)
        return rc;
    r->brun->model = bg_strdup(o->baseline_model      ? o->baseline_model
                               : o->baseline_discover ? NULL
                                                      : o->model);
    if (!r->brun->model && !any_case_has_model(r->run)) {
        rc = discover_model(r, r->bbase[0], &r->brun->model, err);
        if (rc)
            bg_error_prefix(err, "baseline");
    }
    r->brun->stream = o->stream;
    r->brun->concurrency = o->concurrency;
    r->brun->rate = o->rate;
    r->brun->baseline_alpha = r->run->baseline_alpha;
    return rc;
}

static int runner_setup(runner *r, bg_error *err)
{
    const bg_runner_opts *o = r->o;
    if (o->n_endpoints == 0)
        return bg_error_set(err, BG_EINVAL, "no endpoint to test (use --endpoint URL)");
    int rc = setup_endpoints(&r->base, r->run, o->endpoints, o->n_endpoints, err);
    if (!rc)
        rc = build_headers(r, err);
    if (rc)
        return rc;
    r->multi = curl_multi_init();
    if (!r->multi)
        return bg_error_set(err, BG_ENOMEM, "curl_multi_init failed");
    curl_multi_setopt(r->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o->concurrency + 8);
    curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS, (long)o->concurrency * 2 + 16);
    free(r->run->model);
    r->run->model = bg_strdup(o->model);
    if (!r->run->model && !any_case_has_model(r->run))
        rc = discover_model(r, r->base[0], &r->run->model, err);
    r->run->stream = o->stream;
    r->run->concurrency = o->concurrency;
    r->run->rate = o->rate;
    if (!rc && o->n_baseline_endpoints)
        rc = setup_baseline(r, err);
    return rc;
}

static void runner_dispose(runner *r)
{
    /* a cancelled run leaves transfers in flight: take them back from curl */
    while (r->active) {
        job *j = r->active;
        curl_multi_remove_handle(r->multi, j->easy);
        unlink_active(r, j);
        if (j->kind != JOB_CASE)
            bg_runner_abandon_aux(r, j);
        bg_runner_job_destroy(j);
    }
    while (r->free_jobs) {
        job *j = r->free_jobs;
        r->free_jobs = j->next;
        bg_runner_job_destroy(j);
    }
    while (r->retry_queue) {
        job *j = r->retry_queue;
        r->retry_queue = j->next;
        bg_runner_job_destroy(j);
    }
    if (r->multi)
        curl_multi_cleanup(r->multi);
    curl_slist_free_all(r->headers);
    curl_slist_free_all(r->aux_headers);
    for (size_t i = 0; r->base && i < r->o->n_endpoints; i++)
        free(r->base[i]);
    free(r->base);
    for (size_t i = 0; r->bbase && i < r->o->n_baseline_endpoints; i++)
        free(r->bbase[i]);
    free(r->bbase);
}

static int finish_baseline(runner *r, bg_error *err)
{
    bg_run *b = r->brun;
    b->started_wall_s = r->run->started_wall_s;
    b->duration_s = r->run->duration_s;
    int rc = bg_run_finish(b, err);
    if (!rc && r->b_total > 0 && r->b_connect_errors == r->b_total)
        rc = bg_error_set(err, BG_ENET, "no baseline endpoint could be reached: %s",
                          b->cases[0][0].error ? b->cases[0][0].error : "connection failed");
    return rc;
}

int bg_runner_run(bg_run *run, const bg_runner_opts *opts, bg_error *err)
{
    runner r = {.run = run, .o = opts, .rng = opts->seed ? opts->seed : 1};
    int rc = runner_setup(&r, err);
    if (rc)
        goto cleanup;
    r.total = count_work(&r);
    r.b_total = r.brun ? r.total : 0;
    r.t0 = bg_now_ms();
    r.next_arrival = r.t0;
    run->started_wall_s = bg_wall_s();
    rc = loop(&r, err);
    run->duration_s = (bg_now_ms() - r.t0) / 1000.0;
    if (rc)
        goto cleanup;
    rc = bg_run_finish(run, err);
    if (!rc && r.total > 0 && r.connect_errors == r.total)
        rc = bg_error_set(err, BG_ENET, "no endpoint could be reached: %s",
                          run->cases[0][0].error ? run->cases[0][0].error : "connection failed");
    if (!rc && r.brun)
        rc = finish_baseline(&r, err);
cleanup:
    runner_dispose(&r);
    return rc;
}
