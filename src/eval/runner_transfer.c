/* runner_transfer.c — one HTTP transfer of the eval runner: the `job` tied to its easy
 * handle, its curl options, the write and SSE callbacks that parse the answer and time
 * its tokens as the bytes arrive, restarting it after a connection failure, and
 * classifying how it ended (ok, timeout, connect, HTTP, malformed).
 *
 * What it does not do: choose which request to start when, retry policy or the loop
 * (runner.c), or score and record the answer (runner_score.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/limits.h"
#include "bggate/openai.h"
#include "bggate/sse.h"
#include "bggate/util.h"

#include "runner_internal.h"

/* ---------- jobs ---------- */

job *bg_runner_job_get(runner *r)
{
    job *j = r->free_jobs;
    if (j) {
        r->free_jobs = j->next;
        curl_easy_reset(j->easy);
    } else {
        j = calloc(1, sizeof *j);
        if (!j)
            return NULL;
        j->easy = curl_easy_init();
        if (!j->easy) {
            free(j);
            return NULL;
        }
    }
    CURL *easy = j->easy;
    memset(j, 0, sizeof *j);
    j->easy = easy;
    j->r = r;
    j->first_token_ms = -1;
    bg_buf_init(&j->raw, BG_MAX_RESPONSE_BODY);
    bg_sse_init(&j->sse, BG_MAX_SSE_LINE);
    bg_response_init(&j->resp);
    bg_samples_init(&j->itl);
    return j;
}

/* Releases what one attempt owned; keeps the easy handle for reuse. */
static void job_clear(job *j)
{
    bg_buf_dispose(&j->raw);
    bg_sse_dispose(&j->sse);
    bg_response_dispose(&j->resp);
    bg_samples_dispose(&j->itl);
    free(j->body);
    j->body = NULL;
}

void bg_runner_job_put(runner *r, job *j)
{
    job_clear(j);
    j->next = r->free_jobs;
    r->free_jobs = j;
}

void bg_runner_job_destroy(job *j)
{
    job_clear(j);
    curl_easy_cleanup(j->easy);
    free(j);
}

/* ---------- receiving ---------- */

static int on_sse_event(void *ud, const char *event, const char *data, size_t len)
{
    job *j = ud;
    (void)event;
    bool had_text = false;
    if (bg_openai_apply_chunk(&j->resp, j->chat, data, len, &had_text, &j->perr)) {
        j->failed_parse = true;
        return 1;
    }
    if (had_text) {
        /* the arrival time of the bytes being parsed: the clock e2e also ends on */
        double now = j->last_byte_ms;
        if (j->first_token_ms < 0)
            j->first_token_ms = now;
        else
            bg_samples_add(&j->itl, now - j->last_token_ms);
        j->last_token_ms = now;
    }
    return 0;
}

static void check_headers(job *j)
{
    j->headers_checked = true;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
    char *ct = NULL;
    curl_easy_getinfo(j->easy, CURLINFO_CONTENT_TYPE, &ct);
    j->is_sse = j->status >= 200 && j->status < 300 && ct &&
                strncmp(ct, "text/event-stream", 17) == 0;
    if (j->status < 200 || j->status >= 300)
        j->raw.limit = BG_MAX_ERROR_BODY;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    job *j = ud;
    size_t n = size * nmemb;
    j->last_byte_ms = bg_now_ms();
    if (!j->headers_checked)
        check_headers(j);
    if (j->failed_parse)
        return 0;
    if (j->is_sse) {
        if (bg_sse_feed(&j->sse, ptr, n, on_sse_event, j, &j->perr)) {
            j->failed_parse = true;
            return 0;
        }
        return n;
    }
    if (j->status < 200 || j->status >= 300) {
        /* keep the start of an error body for the message; drop the rest */
        size_t room = j->raw.limit > j->raw.len ? j->raw.limit - j->raw.len : 0;
        bg_buf_append(&j->raw, ptr, n < room ? n : room);
        return n;
    }
    if (bg_buf_append(&j->raw, ptr, n)) {
        bg_error_set(&j->perr, BG_ETOOBIG, "response body larger than %u bytes",
                     BG_MAX_RESPONSE_BODY);
        j->failed_parse = true;
        return 0;
    }
    return n;
}

/* ---------- sending ---------- */

int bg_runner_job_start(runner *r, job *j, const char *body, bool stream,
                     const struct curl_slist *headers, bg_error *err)
{
    CURL *e = j->easy;
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     r->o->timeout_ms < 10000 ? r->o->timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, stream ? NULL : "");
    if (body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    j->errbuf[0] = '\0';
    j->last_byte_ms = 0;
    CURLMcode mc = curl_multi_add_handle(r->multi, e);
    if (mc != CURLM_OK)
        return bg_error_set(err, BG_EIO, "curl: %s", curl_multi_strerror(mc));
    j->prev_active = NULL;
    j->next_active = r->active;
    if (r->active)
        r->active->prev_active = j;
    r->active = j;
    return 0;
}

/* Restarts a job that failed to connect, with the same scheduled time. */
int bg_runner_restart_job(runner *r, job *j, bg_error *err)
{
    char *body = j->body;
    j->body = NULL;
    job_clear(j);
    j->body = body;
    j->first_token_ms = -1;
    j->headers_checked = false;
    j->is_sse = false;
    j->status = 0;
    j->failed_parse = false;
    bg_error_clear(&j->perr);
    bg_buf_init(&j->raw, BG_MAX_RESPONSE_BODY);
    bg_sse_init(&j->sse, BG_MAX_SSE_LINE);
    bg_response_init(&j->resp);
    bg_samples_init(&j->itl);
    curl_easy_reset(j->easy);
    const struct curl_slist *h = j->kind == JOB_CASE ? r->headers : r->aux_headers;
    return bg_runner_job_start(r, j, j->body, j->stream, h, err);
}

/* ---------- outcome of a finished transfer ---------- */

static bool is_connect_error(CURLcode cc, const job *j)
{
    if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
        cc == CURLE_COULDNT_RESOLVE_PROXY)
        return true;
    /* a kept-alive connection the server closed: nothing of the answer arrived */
    return (cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR) &&
           !j->headers_checked;
}

/* Classifies a finished transfer. Returns BG_REQ_OK with the response parsed, or an
 * error kind with a one-line message in msg. */
bg_req_error bg_runner_classify(job *j, CURLcode cc, char *msg, size_t msgsz)
{
    if (j->failed_parse) {
        snprintf(msg, msgsz, "%s", j->perr.msg);
        return BG_REQ_MALFORMED;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(msg, msgsz, "%s after %ld ms (deadline)",
                 j->headers_checked ? "answer cut" : "no answer", j->r->o->timeout_ms);
        return BG_REQ_TIMEOUT;
    }
    if (is_connect_error(cc, j)) {
        snprintf(msg, msgsz, "%s: %s", j->url, j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc));
        return BG_REQ_CONNECT;
    }
    if (cc != CURLE_OK) {
        snprintf(msg, msgsz, "%s: %s", j->headers_checked ? "truncated answer" : "transfer failed",
                 j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc));
        return j->headers_checked ? BG_REQ_MALFORMED : BG_REQ_OTHER;
    }
    if (!j->headers_checked)
        check_headers(j);
    if (j->status < 200 || j->status >= 300) {
        char ex[200];
        bg_excerpt(ex, sizeof ex, bg_buf_cstr(&j->raw), j->raw.len, 160);
        snprintf(msg, msgsz, "HTTP %ld: %s", j->status, ex);
        return BG_REQ_HTTP;
    }
    bg_error e = {0};
    if (j->kind == JOB_EMBED)
        return BG_REQ_OK; /* parsed by finish_aux */
    if (j->is_sse) {
        if (bg_sse_finish(&j->sse, on_sse_event, j, &e) || j->failed_parse) {
            snprintf(msg, msgsz, "%s", j->failed_parse ? j->perr.msg : e.msg);
            return BG_REQ_MALFORMED;
        }
        if (!j->resp.done) {
            snprintf(msg, msgsz, "stream ended without data: [DONE]");
            return BG_REQ_MALFORMED;
        }
        return BG_REQ_OK;
    }
    if (bg_openai_parse_response(&j->resp, j->chat, bg_buf_cstr(&j->raw), j->raw.len, &e)) {
        snprintf(msg, msgsz, "%s", e.msg);
        return BG_REQ_MALFORMED;
    }
    return BG_REQ_OK;
}
