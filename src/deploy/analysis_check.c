/* analysis_check.c — one interval of a canary analysis (see analysis.h): windows from two
 * scrapes, metric values, check verdicts with their one-line texts and the Prometheus query
 * check.
 *
 * It decides nothing across intervals and parses no config: the continue/hold/rollback
 * tracker and the `promotion.analysis` config are in analysis.c. It fetches no /metrics
 * itself: the ramp (deploy.c) scrapes each endpoint, parses with prom.h, builds windows and
 * feeds the results here. The only network access is the optional Prometheus instant query,
 * one bounded libcurl request per query check.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "bggate/analysis.h"
#include "bggate/buf.h"
#include "bggate/util.h"

#include "analysis_internal.h"

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

int bg_analysis_metric_of(bg_analysis_metric *out, const char *name)
{
    for (size_t i = 0; i < N_METRICS - 1; i++) { /* "query" is not a metric name */
        if (strcmp(name, metric_names[i]) == 0) {
            *out = (bg_analysis_metric)i;
            return 0;
        }
    }
    return BG_EINVAL;
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

bool bg_analysis_compares_with_old(const bg_analysis_check *c)
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
    if (bg_analysis_compares_with_old(c) &&
        !pool_value(out, &out->old_value, label, "old", old_pool, c))
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
