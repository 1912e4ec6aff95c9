/* runner_score.c — scoring a finished case run: assertions, case thresholds and
 * latency limits, and the auxiliary requests some assertions need (similar →
 * /embeddings with the answer and the expected text; llm-rubric → a judge chat request).
 * A run waits in a `scoring` record until its auxiliary transfers are done. A baseline
 * request (paired.h) is scored the same way and recorded into the baseline's run; its
 * auxiliary requests go to the baseline's endpoint unless one is configured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/limits.h"
#include "bggate/log.h"
#include "bggate/util.h"
#include "runner_internal.h"

#define JUDGE_MAX_TOKENS 300

static void scoring_free(scoring *sc, size_t n)
{
    if (!sc)
        return;
    for (size_t i = 0; i < n; i++) {
        if (sc->emb_answer)
            free(sc->emb_answer[i]);
        if (sc->emb_expected)
            free(sc->emb_expected[i]);
        if (sc->judge_reply)
            free(sc->judge_reply[i]);
        if (sc->aux_error)
            free(sc->aux_error[i]);
    }
    free(sc->emb_answer);
    free(sc->emb_expected);
    free(sc->emb_dim);
    free(sc->judge_reply);
    free(sc->aux_error);
    bg_response_dispose(&sc->resp);
    free(sc);
}

/* Appends "; type: reason" to a growing failure message (negated assertions already
 * start their reason with "not-<type>:"). */
static void add_reason(bg_buf *b, const char *type, bool negate, const char *reason)
{
    if (b->len)
        bg_buf_puts(b, "; ");
    if (negate && bg_str_starts_with(reason, "not-"))
        bg_buf_puts(b, reason);
    else
        bg_buf_printf(b, "%s%s: %s", negate ? "not-" : "", type, reason);
}

void bg_runner_record_case_run(runner *r, bool baseline, size_t s, size_t ci,
                               bg_request_record *rec, double score, const char *answer,
                               size_t answer_len, bg_assert_result *res, const char *failure,
                               const char *error_msg)
{
    const bg_case *c = case_of(r, s, ci);
    bg_run *run = run_of(r, baseline);
    bg_case_result *cr = &run->cases[s][ci];
    cr->runs++;
    cr->score += (score - cr->score) / (double)cr->runs; /* running mean over runs */
    cr->time_ms += rec->e2e_ms;
    if (rec->error != BG_REQ_OK) {
        cr->errors++;
        if (!cr->error) {
            cr->error_kind = (bg_req_error)rec->error;
            cr->error = bg_strdup(error_msg);
        }
    }
    if (rec->passed)
        cr->passed++;
    bool first_failure = !rec->passed && !cr->failure;
    bool keep_detail = first_failure || (cr->passed == cr->runs && rec->passed);
    if (first_failure)
        cr->failure = bg_strdup(failure ? failure : error_msg ? error_msg : "failed");
    if (keep_detail) {
        char ex[BG_MAX_EXCERPT + 8];
        bg_excerpt(ex, sizeof ex, answer, answer_len, BG_MAX_EXCERPT);
        free(cr->excerpt);
        cr->excerpt = answer ? bg_strdup(ex) : NULL;
        if (res && c->n_asserts) {
            free(cr->asserts);
            cr->asserts = malloc(c->n_asserts * sizeof *cr->asserts);
            if (cr->asserts)
                memcpy(cr->asserts, res, c->n_asserts * sizeof *res);
        }
    }
    if (bg_run_add_request(run, rec))
        bg_log_warn("out of memory recording a request");
    if (baseline) {
        r->b_finished++;
        return;
    }
    r->finished++;
    if (rec->error != BG_REQ_OK)
        r->errored++;
    else if (rec->passed)
        r->passed++;
    else
        r->failed++;
    if (r->o->progress)
        r->o->progress(r->o->progress_ud, r->finished, r->total, r->passed, r->failed,
                       r->errored);
}

/* Per-case latency limits ("latency_ms") act as extra checks on every run. A ttft limit
 * on a run that measured no TTFT (not streamed, or no token came) fails the run, as a
 * `latency` assertion on ttft does (assert_score.c): a limit is never silently ignored. */
static bool check_case_latency(const runner *r, const bg_case *c, const bg_request_record *rec,
                               bg_buf *why)
{
    bool ok = true;
    if (c->latency_max_ms > 0 && rec->e2e_ms > c->latency_max_ms) {
        if (why->len)
            bg_buf_puts(why, "; ");
        bg_buf_printf(why, "latency_ms.max: e2e %.0f ms > %.0f ms", rec->e2e_ms,
                      c->latency_max_ms);
        ok = false;
    }
    if (c->ttft_max_ms > 0 && rec->ttft_ms < 0) {
        bool streamed = c->stream >= 0 ? c->stream == 1 : r->o->stream;
        if (why->len)
            bg_buf_puts(why, "; ");
        bg_buf_printf(why, "latency_ms.ttft: ttft not measured (%s)",
                      streamed ? "no token arrived" : "case not streamed");
        ok = false;
    }
    if (c->ttft_max_ms > 0 && rec->ttft_ms >= 0 && rec->ttft_ms > c->ttft_max_ms) {
        if (why->len)
            bg_buf_puts(why, "; ");
        bg_buf_printf(why, "latency_ms.ttft: ttft %.0f ms > %.0f ms", rec->ttft_ms,
                      c->ttft_max_ms);
        ok = false;
    }
    return ok;
}

static void score_now(runner *r, scoring *sc)
{
    const bg_case *c = case_of(r, sc->suite, sc->kase);
    bg_assert_result *res = c->n_asserts ? calloc(c->n_asserts, sizeof *res) : NULL;
    bg_buf why;
    bg_buf_init(&why, 0);
    double wsum = 0, wpass = 0;
    bool all = true;
    for (size_t i = 0; i < c->n_asserts && res; i++) {
        const bg_assertion *a = &c->asserts[i];
        bg_assert_input in = {
            .text = bg_buf_cstr(&sc->resp.text),
            .text_len = sc->resp.text.len,
            .finish_reason = sc->resp.finish_reason[0] ? sc->resp.finish_reason : NULL,
            .completion_tokens = sc->resp.completion_tokens,
            .e2e_ms = sc->rec.e2e_ms,
            .ttft_ms = sc->rec.ttft_ms,
            .emb_answer = sc->emb_answer ? sc->emb_answer[i] : NULL,
            .emb_expected = sc->emb_expected ? sc->emb_expected[i] : NULL,
            .emb_dim = sc->emb_dim ? sc->emb_dim[i] : 0,
            .judge_reply = sc->judge_reply ? sc->judge_reply[i] : NULL,
            .aux_error = sc->aux_error ? sc->aux_error[i] : NULL,
        };
        bg_assert_eval(a, &in, &res[i]);
        wsum += a->weight;
        if (res[i].pass)
            wpass += a->weight;
        else {
            all = false;
            add_reason(&why, bg_assert_kind_name(a->kind), a->negate, res[i].reason);
        }
    }
    bool pass = c->has_threshold ? (wsum <= 0 || wpass / wsum >= c->threshold) : all;
    if (c->has_threshold && !pass) {
        char head[96];
        snprintf(head, sizeof head, "score %.2f < threshold %.2f: ", wsum > 0 ? wpass / wsum : 0,
                 c->threshold);
        bg_buf tmp;
        bg_buf_init(&tmp, 0);
        bg_buf_puts(&tmp, head);
        bg_buf_puts(&tmp, bg_buf_cstr(&why));
        bg_buf_dispose(&why);
        why = tmp;
    }
    if (!check_case_latency(r, c, &sc->rec, &why))
        pass = false;
    if (c->n_asserts && !res) {
        pass = false;
        bg_buf_puts(&why, "out of memory scoring assertions");
    }
    sc->rec.passed = pass;
    double score = wsum > 0 ? wpass / wsum : (pass ? 1.0 : 0.0);
    bg_runner_record_case_run(r, sc->baseline, sc->suite, sc->kase, &sc->rec, score,
                              bg_buf_cstr(&sc->resp.text), sc->resp.text.len, res,
                              pass ? NULL : bg_buf_cstr(&why), NULL);
    bg_buf_dispose(&why);
    free(res);
    scoring_free(sc, c->n_asserts);
}

/* Builds the URL of an auxiliary request ("embeddings", "chat/completions"). */
static void aux_url(runner *r, job *j, const char *configured, size_t endpoint, const char *path)
{
    const char *base = configured ? configured : bases_of(r, j->baseline)[endpoint];
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    snprintf(j->url, sizeof j->url, "%.*s/%s", (int)n, base, path);
}

static char *embeddings_body(const char *model, const char *a, size_t alen, const char *b)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *in = cJSON_AddArrayToObject(o, "input");
    char *acopy = bg_strndup(a, alen);
    cJSON_AddItemToArray(in, cJSON_CreateString(acopy ? acopy : ""));
    cJSON_AddItemToArray(in, cJSON_CreateString(b));
    cJSON_AddStringToObject(o, "model", model ? model : "");
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    free(acopy);
    return out;
}

static char *judge_body(const char *model, const char *prompt)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model ? model : "");
    cJSON *msgs = cJSON_AddArrayToObject(o, "messages");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", prompt);
    cJSON_AddItemToArray(msgs, m);
    cJSON_AddNumberToObject(o, "temperature", 0);
    cJSON_AddNumberToObject(o, "max_tokens", JUDGE_MAX_TOKENS);
    cJSON_AddBoolToObject(o, "stream", false);
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

static int start_aux(runner *r, scoring *sc, size_t i, size_t endpoint, bg_error *err)
{
    const bg_assertion *a = &case_of(r, sc->suite, sc->kase)->asserts[i];
    job *j = bg_runner_job_get(r);
    if (!j)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    const char *model = run_of(r, sc->baseline)->model;
    j->sc = sc;
    j->baseline = sc->baseline;
    j->assert_index = i;
    j->suite = sc->suite;
    j->chat = true;
    j->sched_ms = bg_now_ms();
    if (bg_assert_kind_needs_embeddings(a->kind)) {
        j->kind = JOB_EMBED;
        aux_url(r, j, r->o->embeddings_url, endpoint, "embeddings");
        const char *expected = cJSON_IsString(a->value) ? a->value->valuestring : "";
        j->body = embeddings_body(r->o->embeddings_model ? r->o->embeddings_model : model,
                                  bg_buf_cstr(&sc->resp.text), sc->resp.text.len, expected);
    } else {
        j->kind = JOB_JUDGE;
        aux_url(r, j, r->o->judge_url, endpoint, "chat/completions");
        char *prompt = bg_assert_judge_prompt(a, bg_buf_cstr(&sc->resp.text), sc->resp.text.len);
        j->body = prompt ? judge_body(r->o->judge_model ? r->o->judge_model : model, prompt)
                         : NULL;
        free(prompt);
    }
    int rc = j->body ? bg_runner_job_start(r, j, j->body, false, r->aux_headers, err)
                     : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (rc) {
        bg_runner_job_put(r, j);
        return rc;
    }
    sc->outstanding++;
    return 0;
}

/* Parses data[idx].embedding of an /embeddings answer. */
static int embedding_at(double **out, size_t *dim, const cJSON *root, int idx, bg_error *err)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *item = cJSON_GetArrayItem(data, idx);
    const cJSON *vec = cJSON_GetObjectItemCaseSensitive(item, "embedding");
    int n = cJSON_GetArraySize(vec);
    if (!cJSON_IsArray(vec) || n <= 0 || n > (int)BG_MAX_EMBEDDING_DIM)
        return bg_error_set(err, BG_EPROTO, "embeddings answer has no data[%d].embedding", idx);
    double *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, vec)
    {
        if (!cJSON_IsNumber(x)) {
            free(v);
            return bg_error_set(err, BG_EPROTO, "data[%d].embedding[%d]: not a number", idx, i);
        }
        v[i++] = x->valuedouble;
    }
    *out = v;
    *dim = (size_t)n;
    return 0;
}

void bg_runner_finish_aux(runner *r, job *j, bg_req_error kind, const char *msg)
{
    scoring *sc = j->sc;
    size_t i = j->assert_index;
    bg_error e = {0};
    if (kind != BG_REQ_OK) {
        free(sc->aux_error[i]);
        sc->aux_error[i] = bg_asprintf("%s request failed: %s",
                                       j->kind == JOB_EMBED ? "embeddings" : "judge", msg);
    } else if (j->kind == JOB_EMBED) {
        cJSON *root = cJSON_ParseWithLength(bg_buf_cstr(&j->raw), j->raw.len);
        size_t d1 = 0, d2 = 0;
        if (!root)
            bg_error_set(&e, BG_EPROTO, "embeddings answer is not JSON");
        else if (!embedding_at(&sc->emb_answer[i], &d1, root, 0, &e) &&
                 !embedding_at(&sc->emb_expected[i], &d2, root, 1, &e))
            sc->emb_dim[i] = d1 == d2 ? d1 : 0;
        cJSON_Delete(root);
    } else {
        sc->judge_reply[i] = bg_strdup(bg_buf_cstr(&j->resp.text));
    }
    if (e.code) {
        free(sc->aux_error[i]);
        sc->aux_error[i] = bg_strdup(e.msg);
    }
    if (--sc->outstanding == 0)
        score_now(r, sc);
}

/* Starts the auxiliary requests a case run needs, or scores it right away. */
void bg_runner_score_or_wait(runner *r, job *j, bg_request_record *rec)
{
    const bg_case *c = case_of(r, j->suite, j->kase);
    scoring *sc = calloc(1, sizeof *sc);
    size_t n = c->n_asserts;
    if (!sc) {
        bg_log_error("out of memory scoring a request");
        return;
    }
    sc->baseline = j->baseline;
    sc->suite = j->suite;
    sc->kase = j->kase;
    sc->repeat = j->repeat;
    sc->rec = *rec;
    sc->resp = j->resp; /* moved: the job gets a fresh response */
    bg_response_init(&j->resp);
    bool needs_aux = false;
    for (size_t i = 0; i < n; i++)
        needs_aux |= bg_assert_kind_needs_embeddings(c->asserts[i].kind) ||
                     bg_assert_kind_needs_judge(c->asserts[i].kind);
    if (needs_aux) {
        sc->emb_answer = calloc(n, sizeof *sc->emb_answer);
        sc->emb_expected = calloc(n, sizeof *sc->emb_expected);
        sc->emb_dim = calloc(n, sizeof *sc->emb_dim);
        sc->judge_reply = calloc(n, sizeof *sc->judge_reply);
        sc->aux_error = calloc(n, sizeof *sc->aux_error);
        sc->outstanding = 1; /* held until every aux request is started */
        for (size_t i = 0; i < n; i++) {
            bg_assert_kind k = c->asserts[i].kind;
            if (!bg_assert_kind_needs_embeddings(k) && !bg_assert_kind_needs_judge(k))
                continue;
            bg_error e = {0};
            if (start_aux(r, sc, i, j->endpoint, &e))
                sc->aux_error[i] = bg_strdup(e.msg);
        }
        if (--sc->outstanding > 0)
            return;
    }
    score_now(r, sc);
}

void bg_runner_abandon_aux(runner *r, job *j)
{
    scoring *sc = j->sc;
    j->sc = NULL;
    if (sc && --sc->outstanding == 0)
        scoring_free(sc, case_of(r, sc->suite, sc->kase)->n_asserts);
}
