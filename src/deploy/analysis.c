/* analysis.c — canary analysis checks (see analysis.h): windows from two scrapes, metric
 * values, check verdicts with their one-line texts, the continue/hold/rollback tracker,
 * the Prometheus query check and the `promotion.analysis` config.
 *
 * It decides nothing about weights and fetches no /metrics itself: the ramp (deploy.c)
 * scrapes each endpoint, parses with prom.h, builds windows and feeds the results here.
 * The only network access is the optional Prometheus instant query, one bounded libcurl
 * request per query check.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "bggate/analysis.h"
#include "bggate/buf.h"
#include "bggate/json.h"
#include "bggate/util.h"

static const char *const metric_names[] = {
    "e2e_p50_s",  "e2e_p95_s",  "e2e_p99_s",  "e2e_mean_s",   "ttft_p50_s",
    "ttft_p95_s", "ttft_p99_s", "ttft_mean_s", "requests",    "error_rate",
    "success_rate", "restarts",  "router_error_rate", "query"};
#define N_METRICS (sizeof metric_names / sizeof metric_names[0])

/* Finish reasons that mean the request did not succeed (vLLM's FinishReason). */
static const char *const error_reasons[] = {"abort", "error"};

/* --- windows --- */

static int hist_delta(bg_prom_histogram *out, bool *reset, const bg_prom_scrape *before,
                      const bg_prom_scrape *after, const char *name, const char *const *filter,
                      bg_error *err)
{
    bg_prom_histogram *hb = malloc(sizeof *hb), *ha = malloc(sizeof *ha);
    int rc = 0;
    if (!hb || !ha)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc)
        rc = bg_prom_histogram_get(hb, before, name, filter, err);
    if (!rc)
        rc = bg_prom_histogram_get(ha, after, name, filter, err);
    if (!rc)
        bg_prom_histogram_delta(out, reset, hb, ha);
    free(hb);
    free(ha);
    return rc;
}

/* filter plus finished_reason="reason" (the filter's own pairs come first). */
static int reason_filter(const char **out, size_t outn, const char *const *filter,
                         const char *reason)
{
    size_t n = 0;
    for (; filter && filter[n] && filter[n + 1]; n += 2) {
        if (n + 5 > outn)
            return BG_EINVAL;
        out[n] = filter[n];
        out[n + 1] = filter[n + 1];
    }
    out[n] = "finished_reason";
    out[n + 1] = reason;
    out[n + 2] = NULL;
    return 0;
}

static int count_errors(bg_analysis_window *w, const bg_prom_scrape *before,
                        const bg_prom_scrape *after, const char *const *filter, bg_error *err)
{
    const char *f[2 * 32 + 3];
    for (size_t i = 0; i < sizeof error_reasons / sizeof error_reasons[0]; i++) {
        double d = 0;
        bool reset = false;
        if (reason_filter(f, sizeof f / sizeof f[0], filter, error_reasons[i]))
            return bg_error_set(err, BG_EINVAL, "analysis: more than 32 label filters");
        if (bg_prom_counter_delta(&d, &reset, before, after, BG_ANALYSIS_FINISHED_METRIC, f))
            w->errors += d;
        w->restarted = w->restarted || reset;
    }
    return 0;
}

int bg_analysis_window_compute(bg_analysis_window *out, const bg_prom_scrape *before,
                               const bg_prom_scrape *after, const char *const *filter,
                               bg_error *err)
{
    bool reset = false;
    memset(out, 0, sizeof *out);
    int rc = hist_delta(&out->e2e, &reset, before, after, BG_ANALYSIS_E2E_METRIC, filter, err);
    out->restarted = reset;
    if (!rc)
        rc = hist_delta(&out->ttft, &reset, before, after, BG_ANALYSIS_TTFT_METRIC, filter, err);
    out->restarted = out->restarted || reset;
    if (rc)
        return rc;
    if (bg_prom_counter_delta(&out->requests, &reset, before, after,
                              BG_ANALYSIS_FINISHED_METRIC, filter)) {
        out->has_requests = true;
        out->restarted = out->restarted || reset;
        return count_errors(out, before, after, filter, err);
    }
    if (out->e2e.n_buckets) { /* no finished-requests counter: the e2e histogram counts */
        out->has_requests = true;
        out->requests = out->e2e.count;
    }
    return 0;
}

int bg_analysis_window_add(bg_analysis_window *acc, const bg_analysis_window *w, bg_error *err)
{
    int rc = bg_prom_histogram_add(&acc->e2e, &w->e2e, err);
    if (!rc)
        rc = bg_prom_histogram_add(&acc->ttft, &w->ttft, err);
    if (rc)
        return rc;
    acc->requests += w->requests;
    acc->errors += w->errors;
    acc->has_requests = acc->has_requests || w->has_requests;
    acc->restarted = acc->restarted || w->restarted;
    acc->router_requests += w->router_requests;
    acc->router_errors += w->router_errors;
    acc->has_router = acc->has_router || w->has_router;
    return 0;
}

/* --- metric values --- */

const char *bg_analysis_metric_name(bg_analysis_metric m)
{
    return (size_t)m < N_METRICS ? metric_names[m] : "?";
}

static bool hist_value(double *value, double *samples, const bg_prom_histogram *h, double q)
{
    if (h->n_buckets == 0)
        return false;
    *value = q < 0 ? bg_prom_mean(h) : bg_prom_quantile(h, q);
    *samples = h->count;
    return !isnan(*value);
}

static bool rate_value(double *value, double *samples, const bg_analysis_window *w, bool errors)
{
    if (!w->has_requests || !(w->requests > 0))
        return false;
    double e = w->errors > w->requests ? w->requests : w->errors;
    *value = errors ? e / w->requests : 1.0 - e / w->requests;
    *samples = w->requests;
    return true;
}

bool bg_analysis_metric_value(double *value, double *samples, const bg_analysis_window *w,
                              bg_analysis_metric m)
{
    static const double q[] = {0.5, 0.95, 0.99, -1};
    switch (m) {
    case BG_METRIC_E2E_P50:
    case BG_METRIC_E2E_P95:
    case BG_METRIC_E2E_P99:
    case BG_METRIC_E2E_MEAN:
        return hist_value(value, samples, &w->e2e, q[m - BG_METRIC_E2E_P50]);
    case BG_METRIC_TTFT_P50:
    case BG_METRIC_TTFT_P95:
    case BG_METRIC_TTFT_P99:
    case BG_METRIC_TTFT_MEAN:
        return hist_value(value, samples, &w->ttft, q[m - BG_METRIC_TTFT_P50]);
    case BG_METRIC_REQUESTS:
        *value = w->requests;
        *samples = w->requests;
        return w->has_requests;
    case BG_METRIC_ERROR_RATE:
    case BG_METRIC_SUCCESS_RATE:
        return rate_value(value, samples, w, m == BG_METRIC_ERROR_RATE);
    case BG_METRIC_RESTARTS:
        *value = w->restarted ? 1 : 0;
        *samples = INFINITY;
        return true;
    case BG_METRIC_ROUTER_ERROR_RATE:
        if (!w->has_router || !(w->router_requests > 0))
            return false;
        *value = (w->router_errors > w->router_requests ? w->router_requests : w->router_errors) /
                 w->router_requests;
        *samples = w->router_requests;
        return true;
    case BG_METRIC_QUERY:
        break;
    }
    return false;
}

/* Why a window has no value for m. */
static const char *no_data_why(const bg_analysis_window *w, bg_analysis_metric m)
{
    if (!w)
        return "not scraped";
    if (m <= BG_METRIC_E2E_MEAN && w->e2e.n_buckets == 0)
        return BG_ANALYSIS_E2E_METRIC " not exposed";
    if (m >= BG_METRIC_TTFT_P50 && m <= BG_METRIC_TTFT_MEAN && w->ttft.n_buckets == 0)
        return BG_ANALYSIS_TTFT_METRIC " not exposed";
    if (m == BG_METRIC_ROUTER_ERROR_RATE)
        return w->has_router ? "the router saw no request in the window"
                             : "the router driver counts no errors (HAProxy does)";
    if (m >= BG_METRIC_REQUESTS && !w->has_requests)
        return BG_ANALYSIS_FINISHED_METRIC " not exposed";
    return "no requests finished in the window";
}

/* --- verdicts --- */

const char *bg_analysis_verdict_name(bg_analysis_verdict v)
{
    return v == BG_VERDICT_PASS ? "pass" : v == BG_VERDICT_FAIL ? "fail" : "inconclusive";
}

/* "e2e_p95_s", or "latency: e2e_p95_s" when the check has its own name. */
static void check_label(char *out, size_t outsz, const bg_analysis_check *c)
{
    const char *m = bg_analysis_metric_name(c->metric);
    if (c->metric == BG_METRIC_QUERY || strcmp(c->name, m) == 0)
        snprintf(out, outsz, "%s", c->name);
    else
        snprintf(out, outsz, "%s: %s", c->name, m);
}

/* Two compared numbers. A strict inequality (a failure) gets just enough digits for the
 * two to print differently ("0.999 < min 0.999" would explain nothing); "1.5 <= 1.5" is
 * right as it is, whatever rounding noise hides behind it. */
static void fmt_pair(char *a, char *b, size_t n, double x, double y, bool strict)
{
    static const int prec[] = {3, 6, 17};
    for (size_t i = 0; i < sizeof prec / sizeof prec[0]; i++) {
        snprintf(a, n, "%.*g", prec[i], x);
        snprintf(b, n, "%.*g", prec[i], y);
        if (!strict || strcmp(a, b) != 0)
            return;
    }
}

static void result_init(bg_analysis_result *out)
{
    out->verdict = BG_VERDICT_INCONCLUSIVE;
    out->new_value = NAN;
    out->old_value = NAN;
    out->text[0] = '\0';
}

/* The value of c's metric in one pool; false (result filled as INCONCLUSIVE) when it
 * has none or too few samples. */
static bool pool_value(bg_analysis_result *out, double *value, const char *label,
                       const char *which, const bg_analysis_window *w,
                       const bg_analysis_check *c)
{
    double samples = 0;
    if (!w || !bg_analysis_metric_value(value, &samples, w, c->metric)) {
        snprintf(out->text, sizeof out->text, "%s: no data from the %s pool (%s)", label, which,
                 no_data_why(w, c->metric));
        return false;
    }
    if (samples < (double)c->min_samples) {
        snprintf(out->text, sizeof out->text,
                 "%s: %.0f samples from the %s pool, fewer than min_samples %ld", label, samples,
                 which, c->min_samples);
        return false;
    }
    return true;
}

static void judge(bg_analysis_result *out, const bg_analysis_check *c, const char *label)
{
    char a[40], b[40], nv[40], ov[40];
    double v = out->new_value, old = out->old_value, x = v;
    snprintf(nv, sizeof nv, "%.3g", v);
    snprintf(ov, sizeof ov, "%.3g", old);
    if (c->cond == BG_COND_MAX_RATIO_TO_OLD)
        x = old == 0 ? (v == 0 ? 1.0 : INFINITY) : v / old;
    else if (c->cond == BG_COND_MAX_INCREASE_OVER_OLD)
        x = v - old;
    bool fail = c->cond == BG_COND_MIN ? x < c->limit : x > c->limit;
    fmt_pair(a, b, sizeof a, x, c->limit, fail);
    out->verdict = fail ? BG_VERDICT_FAIL : BG_VERDICT_PASS;
    switch (c->cond) {
    case BG_COND_MAX:
        snprintf(out->text, sizeof out->text, "%s new %s %s max %s", label, a,
                 fail ? ">" : "<=", b);
        break;
    case BG_COND_MIN:
        snprintf(out->text, sizeof out->text, "%s new %s %s min %s", label, a,
                 fail ? "<" : ">=", b);
        break;
    case BG_COND_MAX_RATIO_TO_OLD:
    case BG_COND_MAX_INCREASE_OVER_OLD:
        snprintf(out->text, sizeof out->text, "%s new %s vs old %s: %s %s %s %s", label, nv, ov,
                 c->cond == BG_COND_MAX_RATIO_TO_OLD ? "ratio" : "increase", a,
                 fail ? ">" : "<=", b);
        break;
    }
}

static bool compares_with_old(const bg_analysis_check *c)
{
    return c->cond == BG_COND_MAX_RATIO_TO_OLD || c->cond == BG_COND_MAX_INCREASE_OVER_OLD;
}

void bg_analysis_evaluate(bg_analysis_result *out, const bg_analysis_check *c,
                          const bg_analysis_window *new_pool, const bg_analysis_window *old_pool)
{
    char label[160];
    result_init(out);
    check_label(label, sizeof label, c);
    if (c->metric == BG_METRIC_QUERY) {
        snprintf(out->text, sizeof out->text, "%s: a query check, not a metric check", label);
        return;
    }
    if (!pool_value(out, &out->new_value, label, "new", new_pool, c))
        return;
    if (compares_with_old(c) && !pool_value(out, &out->old_value, label, "old", old_pool, c))
        return;
    judge(out, c, label);
}

/* --- Prometheus query API --- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    size_t n = size * nmemb;
    return bg_buf_append(ud, data, n) == 0 ? n : 0;
}

static char *query_url(CURL *h, const char *base_url, const char *query)
{
    char *q = curl_easy_escape(h, query, 0);
    size_t n = strlen(base_url);
    while (n && base_url[n - 1] == '/')
        n--;
    char *url = q ? bg_asprintf("%.*s/api/v1/query?query=%s", (int)n, base_url, q) : NULL;
    curl_free(q);
    return url;
}

static int http_get(bg_buf *body, long *status, const char *url, long timeout_ms,
                    bg_error *err)
{
    char ebuf[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    if (!h)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    if (cc == CURLE_OK)
        return 0;
    if (cc == CURLE_WRITE_ERROR)
        return bg_error_set(err, BG_ETOOBIG, "answer larger than %u bytes",
                            (unsigned)BG_MAX_RESPONSE_BODY);
    return bg_error_set(err, cc == CURLE_OPERATION_TIMEDOUT ? BG_ETIMEOUT : BG_ENET, "%s",
                        ebuf[0] ? ebuf : curl_easy_strerror(cc));
}

/* [time, "value"] → the value. */
static int sample_value(double *out, const cJSON *pair, bg_error *err)
{
    const cJSON *v = cJSON_IsArray(pair) ? cJSON_GetArrayItem(pair, 1) : NULL;
    char *end = NULL;
    if (!cJSON_IsString(v))
        return bg_error_set(err, BG_EPROTO, "expected [time, \"value\"] in data.result");
    *out = strtod(v->valuestring, &end);
    if (end == v->valuestring || *end)
        return bg_error_set(err, BG_EPROTO, "value \"%.40s\" is not a number", v->valuestring);
    return 0;
}

static int query_result(double *out, const cJSON *root, long status, bg_error *err)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (!cJSON_IsString(st) || strcmp(st->valuestring, "success") != 0)
        return bg_error_set(err, BG_EPROTO, "HTTP %ld: %.200s", status,
                            cJSON_IsString(msg) ? msg->valuestring : "status is not \"success\"");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, "result");
    if (!cJSON_IsString(type) || !res)
        return bg_error_set(err, BG_EPROTO, "no data.resultType / data.result in the answer");
    if (strcmp(type->valuestring, "scalar") == 0)
        return sample_value(out, res, err);
    if (strcmp(type->valuestring, "vector") != 0)
        return bg_error_set(err, BG_EPROTO, "result type \"%.20s\" (expected a vector or a scalar)",
                            type->valuestring);
    const cJSON *first = cJSON_IsArray(res) ? cJSON_GetArrayItem(res, 0) : NULL;
    *out = NAN;
    if (!first)
        return 0; /* empty vector: no data */
    return sample_value(out, cJSON_GetObjectItemCaseSensitive(first, "value"), err);
}

int bg_analysis_prom_query(double *out, const char *base_url, const char *query,
                           long timeout_ms, bg_error *err)
{
    bg_buf body;
    long status = 0;
    cJSON *root = NULL;
    CURL *h = curl_easy_init();
    char *url = h ? query_url(h, base_url, query) : NULL;
    int rc = 0;
    bg_buf_init(&body, BG_MAX_RESPONSE_BODY);
    curl_easy_cleanup(h);
    if (!url) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = http_get(&body, &status, url, timeout_ms, err);
    if (!rc && !(root = cJSON_ParseWithLength(bg_buf_cstr(&body), body.len)))
        rc = bg_error_set(err, BG_EPROTO, "HTTP %ld: the answer is not the query API's JSON",
                          status);
    if (!rc)
        rc = query_result(out, root, status, err);
cleanup:
    if (rc)
        bg_error_prefix(err, "prometheus %s", base_url);
    cJSON_Delete(root);
    bg_buf_dispose(&body);
    free(url);
    return rc;
}

void bg_analysis_evaluate_query(bg_analysis_result *out, const bg_analysis_check *c,
                                const char *base_url, long timeout_ms)
{
    bg_error err;
    double v = NAN;
    result_init(out);
    bg_error_clear(&err);
    if (!base_url || !c->query) {
        snprintf(out->text, sizeof out->text, "%s: no Prometheus URL or query", c->name);
        return;
    }
    if (bg_analysis_prom_query(&v, base_url, c->query, timeout_ms, &err) != 0) {
        snprintf(out->text, sizeof out->text, "%s: %s", c->name, err.msg);
        return;
    }
    if (isnan(v)) {
        snprintf(out->text, sizeof out->text, "%s: no data (the query returned %s)", c->name,
                 "no series or NaN");
        return;
    }
    out->new_value = v;
    judge(out, c, c->name);
}

void bg_analysis_evaluate_all(bg_analysis_result *results, const bg_analysis_config *cfg,
                              const bg_analysis_window *new_pool,
                              const bg_analysis_window *old_pool)
{
    for (size_t i = 0; i < cfg->n_checks; i++) {
        const bg_analysis_check *c = &cfg->checks[i];
        if (c->metric == BG_METRIC_QUERY)
            bg_analysis_evaluate_query(&results[i], c, cfg->prometheus_url,
                                       cfg->prometheus_timeout_ms);
        else
            bg_analysis_evaluate(&results[i], c, new_pool, old_pool);
    }
}

/* --- tracker --- */

const char *bg_analysis_action_name(bg_analysis_action a)
{
    return a == BG_ANALYSIS_CONTINUE ? "continue" : a == BG_ANALYSIS_HOLD ? "hold" : "rollback";
}

void bg_analysis_tracker_init(bg_analysis_tracker *t, const bg_analysis_config *cfg,
                              double now_s)
{
    memset(t, 0, sizeof *t);
    t->cfg = cfg;
    t->last_s = now_s;
    t->inconclusive_since_s = -1;
}

/* A check that reached a failure limit, or -1. */
static int over_limit(const bg_analysis_tracker *t, const bg_analysis_result *results,
                      char *why, size_t whysz)
{
    const bg_analysis_config *cfg = t->cfg;
    for (size_t i = 0; i < cfg->n_checks; i++) {
        if (t->consecutive[i] >= cfg->failure_limit) {
            snprintf(why, whysz, "%ld consecutive failure%s of %s: %s", t->consecutive[i],
                     t->consecutive[i] == 1 ? "" : "s", cfg->checks[i].name, results[i].text);
            return (int)i;
        }
        if (cfg->failure_limit_total > 0 && t->total[i] >= cfg->failure_limit_total) {
            snprintf(why, whysz, "%ld failures of %s in all (failure_limit_total %ld): %s",
                     t->total[i], cfg->checks[i].name, cfg->failure_limit_total,
                     results[i].text);
            return (int)i;
        }
    }
    return -1;
}

bg_analysis_action bg_analysis_tracker_feed(bg_analysis_tracker *t,
                                            const bg_analysis_result *results, double now_s,
                                            char *why, size_t whysz)
{
    const bg_analysis_config *cfg = t->cfg;
    char scratch[2];
    int failed = -1, inconclusive = -1;
    if (!why || !whysz) {
        why = scratch;
        whysz = sizeof scratch;
    }
    for (size_t i = 0; i < cfg->n_checks; i++) {
        if (results[i].verdict == BG_VERDICT_FAIL) {
            t->consecutive[i]++;
            t->total[i]++;
            failed = failed < 0 ? (int)i : failed;
        } else if (results[i].verdict == BG_VERDICT_PASS) {
            t->consecutive[i] = 0;
        } else if (inconclusive < 0) {
            inconclusive = (int)i;
        }
    }
    double interval_start = t->last_s;
    t->last_s = now_s;
    if (over_limit(t, results, why, whysz) >= 0)
        return BG_ANALYSIS_ROLLBACK;
    double waited = 0;
    if (inconclusive >= 0) {
        if (t->inconclusive_since_s < 0)
            t->inconclusive_since_s = interval_start;
        waited = now_s - t->inconclusive_since_s;
        if (waited >= (double)cfg->inconclusive_limit_s) {
            snprintf(why, whysz, "inconclusive for %.0f s (inconclusive_limit_s %ld): %s",
                     waited, cfg->inconclusive_limit_s, results[inconclusive].text);
            return BG_ANALYSIS_ROLLBACK;
        }
    } else {
        t->inconclusive_since_s = -1;
    }
    if (failed >= 0) {
        snprintf(why, whysz, "%s failed (%ld of %ld in a row): %s", cfg->checks[failed].name,
                 t->consecutive[failed], cfg->failure_limit, results[failed].text);
        return BG_ANALYSIS_HOLD;
    }
    if (inconclusive >= 0) {
        snprintf(why, whysz, "inconclusive for %.0f s of %ld: %s", waited,
                 cfg->inconclusive_limit_s, results[inconclusive].text);
        return BG_ANALYSIS_HOLD;
    }
    if (cfg->n_checks == 1)
        snprintf(why, whysz, "the check passed");
    else
        snprintf(why, whysz, "all %zu checks passed", cfg->n_checks);
    return BG_ANALYSIS_CONTINUE;
}

/* --- configuration --- */

static const char *const analysis_keys[] = {
    "interval_s", "failure_limit", "failure_limit_total", "inconclusive_limit_s",
    "labels",     "prometheus",    "checks",              NULL};
static const char *const prometheus_keys[] = {"url", "timeout_s", NULL};
static const char *const check_keys[] = {"name",
                                         "metric",
                                         "query",
                                         "max",
                                         "min",
                                         "max_ratio_to_old",
                                         "max_increase_over_old",
                                         "min_samples",
                                         NULL};
/* Indexed by bg_analysis_cond. */
static const char *const cond_keys[] = {"max", "min", "max_ratio_to_old",
                                        "max_increase_over_old"};

void bg_analysis_config_dispose(bg_analysis_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->filter && c->filter[i]; i++)
        free(c->filter[i]);
    free(c->filter);
    free(c->prometheus_url);
    for (size_t i = 0; i < c->n_checks; i++) {
        free(c->checks[i].name);
        free(c->checks[i].query);
    }
    memset(c, 0, sizeof *c);
}

static int parse_labels(bg_analysis_config *c, const cJSON *l, const char *lp, bg_error *err)
{
    if (!cJSON_IsObject(l))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", lp,
                            bg_json_type_name(l));
    int n = cJSON_GetArraySize(l);
    if (n > BG_ANALYSIS_MAX_LABELS)
        return bg_error_set(err, BG_EINVAL, "%s: at most %d labels", lp, BG_ANALYSIS_MAX_LABELS);
    if (n == 0)
        return 0;
    if (!(c->filter = calloc(2 * (size_t)n + 1, sizeof *c->filter)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, l)
    {
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "%s.%s: expected a string, got %s", lp,
                                it->string, bg_json_type_name(it));
        if (!(c->filter[i++] = bg_strdup(it->string)) ||
            !(c->filter[i++] = bg_strdup(it->valuestring)))
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    return 0;
}

static int parse_prometheus(bg_analysis_config *c, const cJSON *p, const char *pp,
                            bg_error *err)
{
    const char *url = NULL;
    long timeout_s = 5;
    if (!cJSON_IsObject(p))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", pp,
                            bg_json_type_name(p));
    int rc = bg_json_check_keys(p, prometheus_keys, pp, err);
    if (!rc)
        rc = bg_json_get_string(&url, p, "url", pp, true, err);
    if (!rc && !bg_str_starts_with(url, "http://") && !bg_str_starts_with(url, "https://"))
        rc = bg_error_set(err, BG_EINVAL, "%s.url: expected an http:// or https:// URL, got \"%.200s\"",
                          pp, url);
    if (!rc)
        rc = bg_json_get_long(&timeout_s, p, "timeout_s", pp, 1, 300, false, err);
    if (!rc && !(c->prometheus_url = bg_strdup(url)))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    c->prometheus_timeout_ms = timeout_s * 1000;
    return rc;
}

static int metric_of(bg_analysis_metric *out, const char *name)
{
    for (size_t i = 0; i < N_METRICS - 1; i++) { /* "query" is not a metric name */
        if (strcmp(name, metric_names[i]) == 0) {
            *out = (bg_analysis_metric)i;
            return 0;
        }
    }
    return BG_EINVAL;
}

/* The one condition of a check: its kind and limit. */
static int parse_condition(bg_analysis_check *ck, const cJSON *o, const char *cp, bg_error *err)
{
    int found = 0;
    for (size_t i = 0; i < sizeof cond_keys / sizeof cond_keys[0]; i++) {
        if (cJSON_GetObjectItemCaseSensitive(o, cond_keys[i])) {
            found++;
            ck->cond = (bg_analysis_cond)i;
        }
    }
    if (found != 1)
        return bg_error_set(err, BG_EINVAL,
                            "%s: expected exactly one condition (max, min, max_ratio_to_old or "
                            "max_increase_over_old), got %d",
                            cp, found);
    double lo = ck->cond == BG_COND_MAX_RATIO_TO_OLD ? 0 : -1e300;
    int rc = bg_json_get_double(&ck->limit, o, cond_keys[ck->cond], cp, lo, 1e300, true, err);
    if (!rc && ck->metric == BG_METRIC_QUERY && compares_with_old(ck))
        rc = bg_error_set(err, BG_EINVAL, "%s.%s: a query check supports only max and min", cp,
                          cond_keys[ck->cond]);
    return rc;
}

static int parse_source(bg_analysis_check *ck, const cJSON *o, const char *cp, bool have_prom,
                        const char *path, bg_error *err)
{
    const char *metric = NULL, *query = NULL;
    int rc = bg_json_get_string(&metric, o, "metric", cp, false, err);
    if (!rc)
        rc = bg_json_get_string(&query, o, "query", cp, false, err);
    if (rc)
        return rc;
    if ((metric != NULL) == (query != NULL))
        return bg_error_set(err, BG_EINVAL, "%s: expected either \"metric\" or \"query\"%s", cp,
                            metric ? ", not both" : "");
    if (metric && metric_of(&ck->metric, metric) != 0)
        return bg_error_set(err, BG_EINVAL,
                            "%s.metric: unknown metric \"%.60s\" (expected e2e_p50_s, e2e_p95_s, "
                            "e2e_p99_s, e2e_mean_s, ttft_p50_s, ttft_p95_s, ttft_p99_s, "
                            "ttft_mean_s, requests, error_rate, success_rate, restarts or "
                            "router_error_rate)",
                            cp, metric);
    if (metric)
        return 0;
    ck->metric = BG_METRIC_QUERY;
    if (!*query)
        return bg_error_set(err, BG_EINVAL, "%s.query: must not be empty", cp);
    if (!have_prom)
        return bg_error_set(err, BG_EINVAL, "%s.query: needs %s.prometheus.url", cp, path);
    return (ck->query = bg_strdup(query)) ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int parse_check(bg_analysis_check *ck, const cJSON *o, const char *cp, bool have_prom,
                       const char *path, bg_error *err)
{
    const char *name = NULL;
    if (!cJSON_IsObject(o))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", cp,
                            bg_json_type_name(o));
    int rc = bg_json_check_keys(o, check_keys, cp, err);
    if (!rc)
        rc = parse_source(ck, o, cp, have_prom, path, err);
    if (!rc)
        rc = bg_json_get_string(&name, o, "name", cp, ck->metric == BG_METRIC_QUERY, err);
    if (!rc && name && !*name)
        rc = bg_error_set(err, BG_EINVAL, "%s.name: must not be empty", cp);
    if (!rc)
        rc = parse_condition(ck, o, cp, err);
    if (!rc)
        rc = bg_json_get_long(&ck->min_samples, o, "min_samples", cp, 0, 1000000000L, false,
                              err);
    if (!rc && !(ck->name = bg_strdup(name ? name : bg_analysis_metric_name(ck->metric))))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    return rc;
}

/* Without "checks": errors and tail latency against the old pool, each with a floor of
 * samples so that noise is not a verdict. */
static int default_checks(bg_analysis_config *c, bg_error *err)
{
    static const bg_analysis_check defaults[] = {
        {NULL, BG_METRIC_ERROR_RATE, NULL, BG_COND_MAX_INCREASE_OVER_OLD, 0.02, 10},
        {NULL, BG_METRIC_E2E_P95, NULL, BG_COND_MAX_RATIO_TO_OLD, 1.5, 10}};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        c->checks[i] = defaults[i];
        c->n_checks++;
        if (!(c->checks[i].name = bg_strdup(bg_analysis_metric_name(defaults[i].metric))))
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    return 0;
}

static int parse_checks(bg_analysis_config *c, const cJSON *arr, const char *path,
                        bg_error *err)
{
    char cp[200];
    snprintf(cp, sizeof cp, "%s.checks", path);
    if (!arr)
        return default_checks(c, err);
    if (!cJSON_IsArray(arr))
        return bg_error_set(err, BG_EINVAL, "%s: expected an array, got %s", cp,
                            bg_json_type_name(arr));
    int n = cJSON_GetArraySize(arr);
    if (n < 1 || n > BG_ANALYSIS_MAX_CHECKS)
        return bg_error_set(err, BG_EINVAL, "%s: expected 1 to %d checks, got %d", cp,
                            BG_ANALYSIS_MAX_CHECKS, n);
    for (int i = 0; i < n; i++) {
        snprintf(cp, sizeof cp, "%s.checks[%d]", path, i);
        c->n_checks++; /* counted first: dispose frees what a failed parse allocated */
        int rc = parse_check(&c->checks[i], cJSON_GetArrayItem(arr, i), cp,
                             c->prometheus_url != NULL, path, err);
        if (rc)
            return rc;
        for (int j = 0; j < i; j++)
            if (strcmp(c->checks[j].name, c->checks[i].name) == 0)
                return bg_error_set(err, BG_EINVAL,
                                    "%s: name \"%.60s\" is already used by %s.checks[%d] (give "
                                    "one a \"name\")",
                                    cp, c->checks[i].name, path, j);
    }
    return 0;
}

static int parse_limits(bg_analysis_config *c, const cJSON *obj, const char *path,
                        bg_error *err)
{
    int rc = bg_json_get_long(&c->interval_s, obj, "interval_s", path, 1, 3600, false, err);
    if (!rc)
        rc = bg_json_get_long(&c->failure_limit, obj, "failure_limit", path, 1, 1000, false,
                              err);
    if (!rc)
        rc = bg_json_get_long(&c->failure_limit_total, obj, "failure_limit_total", path, 0, 1000,
                              false, err);
    if (!rc)
        rc = bg_json_get_long(&c->inconclusive_limit_s, obj, "inconclusive_limit_s", path, 0,
                              86400, false, err);
    return rc;
}

int bg_analysis_config_parse(bg_analysis_config *out, const cJSON *obj, const char *path,
                             bg_error *err)
{
    char sub[200];
    bg_analysis_config c;
    memset(&c, 0, sizeof c);
    c.interval_s = 10;
    c.failure_limit = 2;
    c.inconclusive_limit_s = 120;
    c.prometheus_timeout_ms = 5000;
    if (!cJSON_IsObject(obj))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", path,
                            bg_json_type_name(obj));
    int rc = bg_json_check_keys(obj, analysis_keys, path, err);
    if (!rc)
        rc = parse_limits(&c, obj, path, err);
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(obj, "labels");
    snprintf(sub, sizeof sub, "%s.labels", path);
    if (!rc && labels)
        rc = parse_labels(&c, labels, sub, err);
    const cJSON *prom = cJSON_GetObjectItemCaseSensitive(obj, "prometheus");
    snprintf(sub, sizeof sub, "%s.prometheus", path);
    if (!rc && prom)
        rc = parse_prometheus(&c, prom, sub, err);
    if (!rc)
        rc = parse_checks(&c, cJSON_GetObjectItemCaseSensitive(obj, "checks"), path, err);
    if (rc) {
        bg_analysis_config_dispose(&c);
        return rc;
    }
    *out = c;
    return 0;
}
