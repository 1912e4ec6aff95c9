/* json.c — the machine-readable JSON report (cJSON), for dashboards and scripts.
 *
 * Everything a run knows: version and libcurl, the verdict, settings, the overall and
 * per-suite aggregates, every case with its assertions, tags, thresholds, the baseline
 * comparison (paired.h: the baseline's summary, regressions, latency tests), the models
 * servers answered with, and every request record (the candidate's). Two things cJSON would get wrong
 * are handled here: NaN / infinity become null (never the invalid token "nan"), and
 * strings are made valid UTF-8 (invalid bytes → U+FFFD) before cJSON sees them.
 * cJSON allocation failures are sticky: the first one is returned as BG_ENOMEM.
 */
#include <curl/curl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bggate/gate.h"
#include "bggate/paired.h"
#include "bggate/util.h"
#include "bggate/version.h"
#include "report_internal.h"

typedef struct json_ctx {
    bg_buf *out;
    int rc;          /* first failure; later additions are skipped */
    cJSON *root;
    cJSON *suites;   /* root.suites */
    cJSON *cases;    /* cases of the suite being walked */
} json_ctx;

/* --- building blocks --- */

/* Adds item to an object (key) or array (key NULL); returns it, or NULL and records
 * BG_ENOMEM (freeing item) when item or parent is NULL or the add fails. */
static cJSON *put(json_ctx *j, cJSON *parent, const char *key, cJSON *item)
{
    if (j->rc == 0 && item && parent) {
        cJSON_bool ok = key ? cJSON_AddItemToObject(parent, key, item)
                            : cJSON_AddItemToArray(parent, item);
        if (ok)
            return item;
    }
    cJSON_Delete(item);
    if (j->rc == 0)
        j->rc = BG_ENOMEM;
    return NULL;
}

static cJSON *jnum(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *jstr(const char *s)
{
    if (!s)
        return cJSON_CreateNull();
    bg_buf b;
    bg_buf_init(&b, 0);
    size_t len = strlen(s);
    int rc = bg_buf_puts(&b, ""); /* "" rather than NULL data for an empty string */
    for (size_t i = 0; i < len && rc == 0;) {
        uint32_t cp;
        i += bg_report_utf8_next(s + i, len - i, &cp);
        rc = bg_report_put_utf8(&b, cp);
    }
    cJSON *item = rc == 0 ? cJSON_CreateString(bg_buf_cstr(&b)) : NULL;
    bg_buf_dispose(&b);
    return item;
}

static void put_num(json_ctx *j, cJSON *o, const char *key, double v)
{
    put(j, o, key, jnum(v));
}

static void put_str(json_ctx *j, cJSON *o, const char *key, const char *s)
{
    put(j, o, key, jstr(s));
}

static void put_bool(json_ctx *j, cJSON *o, const char *key, bool v)
{
    put(j, o, key, cJSON_CreateBool(v));
}

/* --- aggregates --- */

static void put_samples(json_ctx *j, cJSON *o, const char *key, const bg_samples *s)
{
    bg_summary sum;
    bg_report_summary(s, &sum);
    cJSON *x = put(j, o, key, cJSON_CreateObject());
    put_num(j, x, "n", (double)sum.n);
    put_num(j, x, "mean", sum.mean);
    put_num(j, x, "p50", sum.p50);
    put_num(j, x, "p90", sum.p90);
    put_num(j, x, "p95", sum.p95);
    put_num(j, x, "p99", sum.p99);
    put_num(j, x, "max", sum.max);
}

static void put_aggregate(json_ctx *j, cJSON *o, const char *key, const bg_aggregate *a)
{
    if (!a) {
        put(j, o, key, cJSON_CreateNull());
        return;
    }
    cJSON *x = put(j, o, key, cJSON_CreateObject());
    put_num(j, x, "requests", (double)a->requests);
    put_num(j, x, "errors", (double)a->errors);
    cJSON *kinds = put(j, x, "errors_by_kind", cJSON_CreateObject());
    for (int k = BG_REQ_OK + 1; k < BG_REQ__COUNT; k++)
        put_num(j, kinds, bg_req_error_name((bg_req_error)k), (double)a->errors_by_kind[k]);
    put_num(j, x, "retries", (double)a->retries);
    put_num(j, x, "pass_rate", a->pass_rate);
    cJSON *ci = put(j, x, "pass_rate_ci95", cJSON_CreateArray());
    put(j, ci, NULL, jnum(a->pass_lo));
    put(j, ci, NULL, jnum(a->pass_hi));
    put_num(j, x, "error_rate", a->error_rate);
    put_samples(j, x, "e2e_ms", &a->e2e);
    put_samples(j, x, "ttft_ms", &a->ttft);
    put_samples(j, x, "itl_ms", &a->itl);
    put_samples(j, x, "tpot_ms", &a->tpot);
    put_num(j, x, "output_tokens", (double)a->output_tokens);
    put_num(j, x, "requests_per_s", a->req_per_s);
    put_num(j, x, "output_tokens_per_s", a->out_tok_per_s);
}

static void put_strings(json_ctx *j, cJSON *o, const char *key, char *const *v, size_t n)
{
    cJSON *arr = put(j, o, key, cJSON_CreateArray());
    for (size_t i = 0; i < n; i++)
        put(j, arr, NULL, jstr(v[i]));
}

/* --- the walk --- */

static int json_begin(void *ctx, const bg_run *run)
{
    json_ctx *j = ctx;
    char stamp[32];
    bg_iso8601(stamp, sizeof stamp, run->started_wall_s);
    j->root = cJSON_CreateObject();
    if (!j->root)
        return BG_ENOMEM;
    put_str(j, j->root, "bg_gate_version", BG_VERSION);
    put_str(j, j->root, "curl_version", curl_version());
    put_str(j, j->root, "verdict", bg_verdict_name(run->verdict));
    put_str(j, j->root, "verdict_reason", run->verdict_reason);
    put_str(j, j->root, "started_at", stamp);
    put_num(j, j->root, "duration_s", run->duration_s);
    put_str(j, j->root, "model", run->model);
    if (run->release_id) {
        cJSON *rel = put(j, j->root, "release", cJSON_CreateObject());
        put_str(j, rel, "id", run->release_id);
        put_str(j, rel, "commit", run->commit);
    }
    put_strings(j, j->root, "endpoints", run->endpoints, run->n_endpoints);
    put_bool(j, j->root, "stream", run->stream);
    put_num(j, j->root, "concurrency", run->concurrency);
    put_num(j, j->root, "rate", run->rate);
    put_aggregate(j, j->root, "summary", &run->overall);
    j->suites = put(j, j->root, "suites", cJSON_CreateArray());
    return j->rc;
}

static int json_suite_begin(void *ctx, const bg_run *run, size_t s)
{
    json_ctx *j = ctx;
    const bg_suite *su = run->suites[s];
    cJSON *o = put(j, j->suites, NULL, cJSON_CreateObject());
    put_str(j, o, "name", su->name);
    put_str(j, o, "path", su->path);
    put_aggregate(j, o, "summary", bg_report_suite_agg(run, s));
    j->cases = put(j, o, "cases", cJSON_CreateArray());
    return j->rc;
}

static void put_assertions(json_ctx *j, cJSON *o, const bg_case *kc, const bg_case_result *r)
{
    cJSON *arr = put(j, o, "assertions", cJSON_CreateArray());
    for (size_t i = 0; r->asserts && i < kc->n_asserts; i++) {
        const bg_assert_result *ar = &r->asserts[i];
        char type[64];
        bg_report_assert_type(type, sizeof type, &kc->asserts[i]);
        cJSON *a = put(j, arr, NULL, cJSON_CreateObject());
        put_str(j, a, "type", type);
        put_bool(j, a, "pass", ar->pass);
        put_bool(j, a, "error", ar->error);
        put_num(j, a, "score", ar->score);
        put_str(j, a, "reason", ar->reason);
    }
}

static int json_case(void *ctx, const bg_run *run, size_t s, size_t c)
{
    json_ctx *j = ctx;
    const bg_case *kc = &run->suites[s]->cases[c];
    const bg_case_result *r = bg_report_case(run, s, c);
    static const bg_case_result none; /* a case the run never reached */
    if (!r)
        r = &none;
    cJSON *o = put(j, j->cases, NULL, cJSON_CreateObject());
    put_str(j, o, "id", kc->id);
    put_num(j, o, "line", kc->line);
    put_strings(j, o, "tags", kc->tags, kc->n_tags);
    put_num(j, o, "runs", r->runs);
    put_num(j, o, "passed", r->passed);
    put_num(j, o, "errors", r->errors);
    put_bool(j, o, "pass", bg_report_status_of(r) == BG_REPORT_PASSED);
    put_num(j, o, "score", r->runs ? r->score : NAN);
    put_str(j, o, "failure", r->failure);
    put_str(j, o, "excerpt", r->excerpt);
    put_str(j, o, "error_kind", r->errors || r->error ? bg_req_error_name(r->error_kind) : NULL);
    put_str(j, o, "error", r->error);
    put_assertions(j, o, kc, r);
    return j->rc;
}

static void put_tags(json_ctx *j, const bg_run *run)
{
    cJSON *arr = put(j, j->root, "tags", cJSON_CreateArray());
    for (size_t i = 0; i < run->n_tags; i++) {
        const bg_tag_stat *t = &run->tags[i];
        cJSON *o = put(j, arr, NULL, cJSON_CreateObject());
        put_str(j, o, "tag", t->tag);
        put_num(j, o, "runs", (double)t->runs);
        put_num(j, o, "passed", (double)t->runs_passed);
        put_num(j, o, "pass_rate", t->pass_rate);
    }
}

static int json_thresholds(void *ctx, const bg_run *run)
{
    json_ctx *j = ctx;
    put_tags(j, run);
    cJSON *arr = put(j, j->root, "thresholds", cJSON_CreateArray());
    for (size_t i = 0; i < run->n_thresholds; i++) {
        const bg_threshold_result *t = &run->thresholds[i];
        cJSON *o = put(j, arr, NULL, cJSON_CreateObject());
        put_str(j, o, "name", t->th.name);
        put_str(j, o, "metric", t->th.metric);
        put_str(j, o, "tag", t->th.tag[0] ? t->th.tag : NULL);
        put_num(j, o, "limit", t->th.limit);
        put_str(j, o, "direction", t->th.is_min ? "min" : "max");
        put_str(j, o, "status", bg_th_status_name(t->status));
        put_num(j, o, "measured", t->measured);
        put_num(j, o, "samples", (double)t->samples);
        put_str(j, o, "text", t->text);
    }
    return j->rc;
}

static void put_request(json_ctx *j, cJSON *o, const bg_run *run, const bg_request_record *q)
{
    const bg_suite *su = q->suite < run->n_suites ? run->suites[q->suite] : NULL;
    const bg_case *kc = su && q->kase < su->n_cases ? &su->cases[q->kase] : NULL;
    put_str(j, o, "suite", su ? su->name : NULL);
    put_str(j, o, "case", kc ? kc->id : NULL);
    put_num(j, o, "repeat", q->repeat);
    if (q->endpoint < run->n_endpoints)
        put_str(j, o, "endpoint", run->endpoints[q->endpoint]);
    else
        put_num(j, o, "endpoint", q->endpoint);
    put_num(j, o, "status", q->http_status ? q->http_status : NAN);
    put_str(j, o, "error", q->error != BG_REQ_OK ? bg_req_error_name(q->error) : NULL);
    put_num(j, o, "retries", q->retries);
    put_bool(j, o, "passed", q->passed);
    bool has_model = q->model >= 0 && (size_t)q->model < run->n_models;
    put_str(j, o, "model", has_model ? run->models[q->model] : NULL);
    put_num(j, o, "output_tokens", q->output_tokens >= 0 ? q->output_tokens : NAN);
    put_num(j, o, "start_ms", q->start_ms);
    put_num(j, o, "e2e_ms", q->e2e_ms);
    put_num(j, o, "ttft_ms", q->ttft_ms >= 0 ? q->ttft_ms : NAN);
    put_num(j, o, "tpot_ms", q->tpot_ms >= 0 ? q->tpot_ms : NAN);
}

/* Requests are the bulk of a large report: each is built, printed and freed on its own
 * instead of joining the tree, so memory stays flat whatever the request count. */
static int append_requests(json_ctx *j, const bg_run *run)
{
    int rc = bg_buf_puts(j->out, ",\"requests\":[");
    for (size_t i = 0; i < run->n_reqs && rc == 0 && j->rc == 0; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return BG_ENOMEM;
        put_request(j, o, run, &run->reqs[i]);
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!text)
            return BG_ENOMEM;
        rc = bg_buf_puts(j->out, i ? ",\n" : "\n");
        if (rc == 0)
            rc = bg_buf_puts(j->out, text);
        cJSON_free(text);
    }
    if (rc == 0)
        rc = bg_buf_puts(j->out, "\n]");
    return rc ? rc : j->rc;
}

static void put_weights(json_ctx *j, cJSON *o, const char *key, const int *w)
{
    cJSON *x = put(j, o, key, cJSON_CreateObject());
    put_num(j, x, "blue", w[0]);
    put_num(j, x, "green", w[1]);
}

/* deploy: the decision, router weights before and after, and the lifecycle phases */
static void put_deploy(json_ctx *j, const bg_run *run)
{
    cJSON *d = put(j, j->root, "deploy", cJSON_CreateObject());
    put_str(j, d, "decision", run->decision);
    if (run->has_weights) {
        put_weights(j, d, "weights_before", run->weights_before);
        put_weights(j, d, "weights_after", run->weights_after);
    }
    cJSON *arr = put(j, d, "lifecycle", cJSON_CreateArray());
    for (size_t i = 0; i < run->n_phases && j->rc == 0; i++) {
        cJSON *p = put(j, arr, NULL, cJSON_CreateObject());
        put_str(j, p, "phase", run->phases[i].name);
        put_num(j, p, "duration_s", run->phases[i].duration_s);
        put_str(j, p, "failure", run->phases[i].failure);
    }
}

/* --- baseline comparison (paired.h) --- */

static void put_latency_cmp(json_ctx *j, cJSON *o, const char *key, const bg_latency_cmp *c)
{
    cJSON *x = put(j, o, key, cJSON_CreateObject());
    put_num(j, x, "n_candidate", (double)c->n_candidate);
    put_num(j, x, "n_baseline", (double)c->n_baseline);
    put_num(j, x, "median_candidate_ms", c->median_candidate);
    put_num(j, x, "median_baseline_ms", c->median_baseline);
    put_num(j, x, "median_ratio", c->ratio);
    if (!c->tested) {
        put(j, x, "mann_whitney", cJSON_CreateNull());
        return;
    }
    cJSON *t = put(j, x, "mann_whitney", cJSON_CreateObject());
    put_num(j, t, "u", c->test.u1);
    put_num(j, t, "z", c->test.z);
    put_num(j, t, "p_greater", c->test.p_greater);
    put_num(j, t, "p_two_sided", c->test.p_two_sided);
    put_str(j, t, "method", c->test.exact ? "exact" : "normal");
    put_bool(j, t, "ties", c->test.ties);
}

static void put_baseline(json_ctx *j, const bg_run *run)
{
    const bg_paired *p = run->paired;
    const bg_run *b = run->baseline;
    cJSON *o = put(j, j->root, "baseline", cJSON_CreateObject());
    put_strings(j, o, "endpoints", b->endpoints, b->n_endpoints);
    put_str(j, o, "model", b->model);
    put_strings(j, o, "models_seen", b->models, b->n_models);
    put_num(j, o, "alpha", p->alpha);
    put_aggregate(j, o, "summary", &b->overall);
    cJSON *q = put(j, o, "quality", cJSON_CreateObject());
    put_num(j, q, "pass_rate_baseline", p->pass_rate_baseline);
    put_num(j, q, "pass_rate_candidate", p->pass_rate_candidate);
    put_num(j, q, "drop", p->drop);
    put_num(j, q, "cases_compared", (double)p->n_compared);
    put_num(j, q, "improved", (double)p->n_improvements);
    cJSON *arr = put(j, q, "regressions", cJSON_CreateArray());
    for (size_t i = 0; i < p->n_regressions && j->rc == 0; i++) {
        const bg_regression *g = &p->regressions[i];
        const bg_suite *su = run->suites[g->suite];
        const bg_case *kc = &su->cases[g->kase];
        const bg_case_result *r = bg_report_case(run, g->suite, g->kase);
        char tmp[BG_ERROR_MSG_MAX + 512];
        cJSON *x = put(j, arr, NULL, cJSON_CreateObject());
        put_str(j, x, "suite", su->name);
        put_str(j, x, "path", su->path);
        put_str(j, x, "id", kc->id);
        put_num(j, x, "line", kc->line);
        put_str(j, x, "failure", bg_report_case_reason(tmp, sizeof tmp, r));
    }
    cJSON *lat = put(j, o, "latency", cJSON_CreateObject());
    put_latency_cmp(j, lat, "e2e", &p->e2e);
    put_latency_cmp(j, lat, "ttft", &p->ttft);
}

static int json_end(void *ctx, const bg_run *run)
{
    json_ctx *j = ctx;
    if (run->paired && run->baseline)
        put_baseline(j, run);
    put_strings(j, j->root, "models_seen", run->models, run->n_models);
    if (run->decision || run->n_phases)
        put_deploy(j, run);
    if (j->rc != 0)
        return j->rc;
    char *text = cJSON_PrintUnformatted(j->root);
    if (!text)
        return BG_ENOMEM;
    /* the tree without its requests, then "requests" spliced in before the final '}' */
    size_t n = strlen(text);
    int rc = bg_buf_append(j->out, text, n ? n - 1 : 0);
    cJSON_free(text);
    if (rc == 0)
        rc = append_requests(j, run);
    if (rc == 0)
        rc = bg_buf_puts(j->out, "}\n");
    return rc;
}

static const bg_report_ops json_ops = {
    .begin = json_begin,
    .suite_begin = json_suite_begin,
    .test_case = json_case,
    .thresholds = json_thresholds,
    .end = json_end,
};

int bg_report_render_json(bg_buf *out, const bg_run *run)
{
    json_ctx j = {.out = out};
    int rc = bg_report_walk(run, &json_ops, &j);
    cJSON_Delete(j.root);
    return rc;
}

int bg_report_write_json(const bg_run *run, const char *path, bg_error *err)
{
    return bg_report_write_with(bg_report_render_json, run, path, err);
}
