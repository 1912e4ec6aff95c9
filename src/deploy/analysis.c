/* analysis.c — the decision of a canary analysis over intervals (see analysis.h): the
 * continue/hold/rollback tracker and the `promotion.analysis` config.
 *
 * It measures and judges nothing itself: windows, metric values, check verdicts and the
 * Prometheus query check are in analysis_check.c, and the ramp (deploy.c) feeds their
 * results to the tracker. No network access here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/analysis.h"
#include "bggate/json.h"
#include "bggate/util.h"

#include "analysis_internal.h"

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
    if (!rc && ck->metric == BG_METRIC_QUERY && bg_analysis_compares_with_old(ck))
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
    if (metric && bg_analysis_metric_of(&ck->metric, metric) != 0)
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
