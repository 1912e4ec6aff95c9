/* test_analysis.c — canary analysis: windows from two scrapes, every check condition and
 * its one-line text, INCONCLUSIVE on thin data, the continue/hold/rollback tracker, the
 * `promotion.analysis` config and its errors, the Prometheus query check against a
 * libmicrohttpd server in this process, and a whole comparison of two real bg-mock pools
 * (127.0.0.1, port 0, stopped by pid).
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "../support/check_main.h"
#include "../support/proc.h"
#include "bggate/analysis.h"
#include "bggate/buf.h"
#include "bggate/util.h"

#define EPS 1e-9

static bg_prom_scrape *parse_ok(const char *text)
{
    bg_prom_scrape *s = NULL;
    bg_error err;
    int rc = bg_prom_parse(&s, text, strlen(text), &err);
    ck_assert_msg(rc == 0, "parse failed: %s", err.msg);
    return s;
}

/* vLLM-like /metrics of one server: finished counts by reason and the e2e histogram. */
static char *vllm_text(double stop, double length, double abort_, const double e2e[4],
                       double e2e_sum, const double ttft[4])
{
    bg_buf b;
    bg_buf_init(&b, 0);
    const char *les[] = {"0.1", "0.5", "1.0", "+Inf"};
    bg_buf_puts(&b, "# TYPE vllm:request_success_total counter\n");
    bg_buf_printf(&b,
                  "vllm:request_success_total{finished_reason=\"stop\",model_name=\"m\"} %g\n"
                  "vllm:request_success_total{finished_reason=\"length\",model_name=\"m\"} %g\n"
                  "vllm:request_success_total{finished_reason=\"abort\",model_name=\"m\"} %g\n"
                  "vllm:request_success_total{finished_reason=\"stop\",model_name=\"other\"} "
                  "1000\n",
                  stop, length, abort_);
    bg_buf_puts(&b, "# TYPE vllm:e2e_request_latency_seconds histogram\n");
    for (int i = 0; i < 4; i++)
        bg_buf_printf(&b,
                      "vllm:e2e_request_latency_seconds_bucket{le=\"%s\",model_name=\"m\"} %g\n",
                      les[i], e2e[i]);
    bg_buf_printf(&b, "vllm:e2e_request_latency_seconds_sum{model_name=\"m\"} %g\n", e2e_sum);
    bg_buf_printf(&b, "vllm:e2e_request_latency_seconds_count{model_name=\"m\"} %g\n", e2e[3]);
    for (int i = 0; ttft && i < 4; i++)
        bg_buf_printf(&b,
                      "vllm:time_to_first_token_seconds_bucket{le=\"%s\",model_name=\"m\"} %g\n",
                      les[i], ttft[i]);
    return bg_buf_steal(&b);
}

static const char *const model_m[] = {"model_name", "m", NULL};

/* A window whose e2e histogram has the given bounds/cumulative counts (last +Inf). */
static void window_of(bg_analysis_window *w, size_t n, const double *le, const double *cum,
                      double requests, double errors)
{
    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < n; i++) {
        w->e2e.buckets[i].le = le[i];
        w->e2e.buckets[i].count = cum[i];
    }
    w->e2e.n_buckets = n;
    w->e2e.count = cum[n - 1];
    w->e2e.n_series = 1;
    w->requests = requests;
    w->errors = errors;
    w->has_requests = true;
}

static bg_analysis_check check_of(const char *name, bg_analysis_metric m, bg_analysis_cond cond,
                                  double limit, long min_samples)
{
    bg_analysis_check c = {.name = (char *)name, .metric = m, .cond = cond, .limit = limit,
                           .min_samples = min_samples};
    return c;
}

/* p95 0.9 over 100 requests: 90 <= 0.8, 10 in (0.8, 1.0]. */
static const double le_new[] = {0.8, 1.0, INFINITY}, cum_new[] = {90, 100, 100};
/* p95 0.6: 90 <= 0.4, 10 in (0.4, 0.8]. */
static const double le_old[] = {0.4, 0.8, INFINITY}, cum_old[] = {90, 100, 100};

/* --- windows --- */

START_TEST(window_from_two_scrapes_of_one_server)
{
    const double e2e_b[] = {10, 60, 90, 100}, e2e_a[] = {30, 120, 170, 200};
    const double ttft_b[] = {50, 90, 100, 100}, ttft_a[] = {130, 190, 200, 200};
    char *tb = vllm_text(90, 8, 2, e2e_b, 50, ttft_b), *ta = vllm_text(170, 20, 10, e2e_a, 110, ttft_a);
    bg_prom_scrape *b = parse_ok(tb), *a = parse_ok(ta);
    bg_analysis_window w;
    bg_error err;
    ck_assert_int_eq(bg_analysis_window_compute(&w, b, a, model_m, &err), 0);
    ck_assert(w.has_requests);
    ck_assert(!w.restarted);
    ck_assert_double_eq_tol(w.requests, 80 + 12 + 8, EPS);
    ck_assert_double_eq_tol(w.errors, 8, EPS);
    ck_assert_double_eq_tol(w.e2e.count, 100, EPS);
    ck_assert_double_eq_tol(w.e2e.sum, 60, EPS);
    ck_assert_double_eq_tol(w.e2e.buckets[1].count, 60, EPS);
    ck_assert_double_eq_tol(w.ttft.buckets[0].count, 80, EPS);
    double v = 0, n = 0;
    ck_assert(bg_analysis_metric_value(&v, &n, &w, BG_METRIC_ERROR_RATE));
    ck_assert_double_eq_tol(v, 0.08, EPS);
    ck_assert_double_eq_tol(n, 100, EPS);
    ck_assert(bg_analysis_metric_value(&v, &n, &w, BG_METRIC_SUCCESS_RATE));
    ck_assert_double_eq_tol(v, 0.92, EPS);
    /* Window buckets 20, 60, 80, 100: p50 = rank 50 in (0.1,0.5], which holds ranks
     * 20..60: 0.1 + 0.4 * 30/40 */
    ck_assert(bg_analysis_metric_value(&v, &n, &w, BG_METRIC_E2E_P50));
    ck_assert_double_eq_tol(v, 0.4, EPS);
    ck_assert(bg_analysis_metric_value(&v, &n, &w, BG_METRIC_E2E_MEAN));
    ck_assert_double_eq_tol(v, 0.6, EPS);
    ck_assert(bg_analysis_metric_value(&v, &n, &w, BG_METRIC_TTFT_P50));
    ck_assert_double_eq_tol(v, 0.1 * 50.0 / 80.0, EPS);
    ck_assert(bg_analysis_metric_value(&v, &n, &w, BG_METRIC_RESTARTS));
    ck_assert_double_eq(v, 0);
    /* Without a filter the other model's 1000 requests count too (unchanged: 0 more). */
    ck_assert_int_eq(bg_analysis_window_compute(&w, b, a, NULL, &err), 0);
    ck_assert_double_eq_tol(w.requests, 100, EPS);
    bg_prom_scrape_free(b);
    bg_prom_scrape_free(a);
    free(tb);
    free(ta);
}
END_TEST

START_TEST(window_reports_a_restart_without_negative_counts)
{
    const double e2e_b[] = {100, 600, 900, 1000}, e2e_a[] = {3, 5, 6, 6};
    char *tb = vllm_text(950, 40, 10, e2e_b, 500, NULL), *ta = vllm_text(5, 1, 0, e2e_a, 2, NULL);
    bg_prom_scrape *b = parse_ok(tb), *a = parse_ok(ta);
    bg_analysis_window w;
    bg_error err;
    ck_assert_int_eq(bg_analysis_window_compute(&w, b, a, model_m, &err), 0);
    ck_assert(w.restarted);
    ck_assert_double_eq_tol(w.requests, 6, EPS);
    ck_assert_double_eq_tol(w.errors, 0, EPS);
    ck_assert_double_eq_tol(w.e2e.count, 6, EPS);
    ck_assert_uint_eq(w.ttft.n_buckets, 0);
    double v = 0, n = 0;
    ck_assert(bg_analysis_metric_value(&v, &n, &w, BG_METRIC_RESTARTS));
    ck_assert_double_eq(v, 1);
    ck_assert(!bg_analysis_metric_value(&v, &n, &w, BG_METRIC_TTFT_P95)); /* not exposed */
    bg_analysis_check c = check_of("restarts", BG_METRIC_RESTARTS, BG_COND_MAX, 0, 0);
    bg_analysis_result r;
    bg_analysis_evaluate(&r, &c, &w, NULL);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "restarts new 1 > max 0");
    bg_prom_scrape_free(b);
    bg_prom_scrape_free(a);
    free(tb);
    free(ta);
}
END_TEST

START_TEST(window_without_finished_counter_counts_e2e_observations)
{
    bg_prom_scrape *b = parse_ok("h_bucket{le=\"+Inf\"} 1\n"
                                 "vllm:e2e_request_latency_seconds_bucket{le=\"1\"} 4\n"
                                 "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\"} 5\n"
                                 "vllm:e2e_request_latency_seconds_count 5\n");
    bg_prom_scrape *a = parse_ok("vllm:e2e_request_latency_seconds_bucket{le=\"1\"} 10\n"
                                 "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\"} 12\n"
                                 "vllm:e2e_request_latency_seconds_count 12\n");
    bg_analysis_window w;
    bg_error err;
    ck_assert_int_eq(bg_analysis_window_compute(&w, b, a, NULL, &err), 0);
    ck_assert(w.has_requests);
    ck_assert_double_eq_tol(w.requests, 7, EPS);
    bg_prom_scrape_free(b);
    bg_prom_scrape_free(a);
}
END_TEST

START_TEST(window_add_sums_a_pools_endpoints)
{
    bg_analysis_window acc, w;
    bg_error err;
    memset(&acc, 0, sizeof acc);
    window_of(&w, 3, le_new, cum_new, 100, 2);
    ck_assert_int_eq(bg_analysis_window_add(&acc, &w, &err), 0);
    w.restarted = true;
    ck_assert_int_eq(bg_analysis_window_add(&acc, &w, &err), 0);
    ck_assert_double_eq_tol(acc.requests, 200, EPS);
    ck_assert_double_eq_tol(acc.errors, 4, EPS);
    ck_assert_double_eq_tol(acc.e2e.count, 200, EPS);
    ck_assert(acc.restarted && acc.has_requests);
}
END_TEST

/* --- conditions --- */

START_TEST(max_ratio_to_old_fails_with_both_values_in_text)
{
    bg_analysis_window nw, ow;
    bg_analysis_result r;
    window_of(&nw, 3, le_new, cum_new, 100, 0);
    window_of(&ow, 3, le_old, cum_old, 100, 0);
    bg_analysis_check c = check_of("e2e_p95_s", BG_METRIC_E2E_P95, BG_COND_MAX_RATIO_TO_OLD, 1.25, 20);
    bg_analysis_evaluate(&r, &c, &nw, &ow);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "e2e_p95_s new 0.9 vs old 0.6: ratio 1.5 > 1.25");
    ck_assert_double_eq_tol(r.new_value, 0.9, EPS);
    ck_assert_double_eq_tol(r.old_value, 0.6, EPS);
    c.limit = 1.5; /* equal to the limit passes */
    bg_analysis_evaluate(&r, &c, &nw, &ow);
    ck_assert_int_eq(r.verdict, BG_VERDICT_PASS);
    ck_assert_str_eq(r.text, "e2e_p95_s new 0.9 vs old 0.6: ratio 1.5 <= 1.5");
}
END_TEST

START_TEST(max_ratio_to_old_with_old_zero)
{
    bg_analysis_window nw, ow;
    bg_analysis_result r;
    window_of(&nw, 3, le_new, cum_new, 100, 1);
    window_of(&ow, 3, le_old, cum_old, 100, 0);
    bg_analysis_check c = check_of("error_rate", BG_METRIC_ERROR_RATE, BG_COND_MAX_RATIO_TO_OLD, 2, 0);
    bg_analysis_evaluate(&r, &c, &nw, &ow);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "error_rate new 0.01 vs old 0: ratio inf > 2");
    nw.errors = 0; /* 0 vs 0 is a ratio of 1 */
    bg_analysis_evaluate(&r, &c, &nw, &ow);
    ck_assert_int_eq(r.verdict, BG_VERDICT_PASS);
    ck_assert_str_eq(r.text, "error_rate new 0 vs old 0: ratio 1 <= 2");
}
END_TEST

START_TEST(max_increase_over_old_compares_the_difference)
{
    bg_analysis_window nw, ow;
    bg_analysis_result r;
    window_of(&nw, 3, le_new, cum_new, 200, 10);
    window_of(&ow, 3, le_old, cum_old, 100, 1);
    bg_analysis_check c =
        check_of("errors", BG_METRIC_ERROR_RATE, BG_COND_MAX_INCREASE_OVER_OLD, 0.02, 50);
    bg_analysis_evaluate(&r, &c, &nw, &ow);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "errors: error_rate new 0.05 vs old 0.01: increase 0.04 > 0.02");
    c.limit = 0.05;
    bg_analysis_evaluate(&r, &c, &nw, &ow);
    ck_assert_int_eq(r.verdict, BG_VERDICT_PASS);
    ck_assert_str_eq(r.text, "errors: error_rate new 0.05 vs old 0.01: increase 0.04 <= 0.05");
}
END_TEST

START_TEST(max_and_min_are_absolute_and_ignore_the_old_pool)
{
    bg_analysis_window nw;
    bg_analysis_result r;
    window_of(&nw, 3, le_new, cum_new, 100, 3);
    bg_analysis_check c = check_of("e2e_p95_s", BG_METRIC_E2E_P95, BG_COND_MAX, 0.5, 20);
    bg_analysis_evaluate(&r, &c, &nw, NULL);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "e2e_p95_s new 0.9 > max 0.5");
    c.limit = 1;
    bg_analysis_evaluate(&r, &c, &nw, NULL);
    ck_assert_int_eq(r.verdict, BG_VERDICT_PASS);
    ck_assert_str_eq(r.text, "e2e_p95_s new 0.9 <= max 1");
    c = check_of("success_rate", BG_METRIC_SUCCESS_RATE, BG_COND_MIN, 0.99, 0);
    bg_analysis_evaluate(&r, &c, &nw, NULL);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "success_rate new 0.97 < min 0.99");
    c.limit = 0.97;
    bg_analysis_evaluate(&r, &c, &nw, NULL);
    ck_assert_int_eq(r.verdict, BG_VERDICT_PASS);
    ck_assert_str_eq(r.text, "success_rate new 0.97 >= min 0.97");
    c = check_of("requests", BG_METRIC_REQUESTS, BG_COND_MIN, 150, 0);
    bg_analysis_evaluate(&r, &c, &nw, NULL);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "requests new 100 < min 150");
}
END_TEST

START_TEST(close_values_print_with_enough_digits)
{
    bg_analysis_window nw;
    bg_analysis_result r;
    window_of(&nw, 3, le_new, cum_new, 2000, 3); /* success rate 0.9985 */
    bg_analysis_check c = check_of("success_rate", BG_METRIC_SUCCESS_RATE, BG_COND_MIN, 0.999, 0);
    bg_analysis_evaluate(&r, &c, &nw, NULL);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "success_rate new 0.9985 < min 0.999");
}
END_TEST

/* --- inconclusive --- */

START_TEST(too_few_samples_in_either_pool_is_inconclusive)
{
    bg_analysis_window nw, ow;
    bg_analysis_result r;
    const double few[] = {4, 5, 5};
    window_of(&nw, 3, le_new, few, 5, 0);
    window_of(&ow, 3, le_old, cum_old, 100, 0);
    bg_analysis_check c = check_of("e2e_p95_s", BG_METRIC_E2E_P95, BG_COND_MAX_RATIO_TO_OLD, 1.25, 20);
    bg_analysis_evaluate(&r, &c, &nw, &ow);
    ck_assert_int_eq(r.verdict, BG_VERDICT_INCONCLUSIVE);
    ck_assert_str_eq(r.text, "e2e_p95_s: 5 samples from the new pool, fewer than min_samples 20");
    bg_analysis_evaluate(&r, &c, &ow, &nw);
    ck_assert_int_eq(r.verdict, BG_VERDICT_INCONCLUSIVE);
    ck_assert_str_eq(r.text, "e2e_p95_s: 5 samples from the old pool, fewer than min_samples 20");
    /* An absolute limit needs only the new pool's samples. */
    c.cond = BG_COND_MAX;
    c.limit = 2;
    bg_analysis_evaluate(&r, &c, &ow, &nw);
    ck_assert_int_eq(r.verdict, BG_VERDICT_PASS);
}
END_TEST

START_TEST(no_data_is_inconclusive_and_says_why)
{
    bg_analysis_window nw, ow, none;
    bg_analysis_result r;
    const double zero[] = {0, 0, 0};
    window_of(&nw, 3, le_new, zero, 0, 0);
    window_of(&ow, 3, le_old, cum_old, 100, 0);
    memset(&none, 0, sizeof none);
    bg_analysis_check c = check_of("e2e_p95_s", BG_METRIC_E2E_P95, BG_COND_MAX_RATIO_TO_OLD, 1.25, 0);
    bg_analysis_evaluate(&r, &c, &nw, &ow);
    ck_assert_int_eq(r.verdict, BG_VERDICT_INCONCLUSIVE);
    ck_assert_str_eq(r.text,
                     "e2e_p95_s: no data from the new pool (no requests finished in the window)");
    ck_assert(isnan(r.new_value));
    bg_analysis_evaluate(&r, &c, &ow, &none);
    ck_assert_str_eq(r.text, "e2e_p95_s: no data from the old pool "
                             "(vllm:e2e_request_latency_seconds not exposed)");
    bg_analysis_evaluate(&r, &c, &ow, NULL);
    ck_assert_int_eq(r.verdict, BG_VERDICT_INCONCLUSIVE);
    ck_assert_str_eq(r.text, "e2e_p95_s: no data from the old pool (not scraped)");
    c = check_of("ttft", BG_METRIC_TTFT_P95, BG_COND_MAX, 1, 0);
    bg_analysis_evaluate(&r, &c, &ow, NULL);
    ck_assert_str_eq(r.text, "ttft: ttft_p95_s: no data from the new pool "
                             "(vllm:time_to_first_token_seconds not exposed)");
    c = check_of("error_rate", BG_METRIC_ERROR_RATE, BG_COND_MAX, 0.1, 0);
    bg_analysis_evaluate(&r, &c, &none, NULL);
    ck_assert_str_eq(r.text, "error_rate: no data from the new pool "
                             "(vllm:request_success_total not exposed)");
    bg_analysis_evaluate(&r, &c, &nw, NULL); /* 0 requests: no rate */
    ck_assert_int_eq(r.verdict, BG_VERDICT_INCONCLUSIVE);
}
END_TEST

/* --- tracker --- */

static bg_analysis_config two_checks(long failure_limit, long total, long inconclusive_s)
{
    bg_analysis_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.interval_s = 10;
    cfg.failure_limit = failure_limit;
    cfg.failure_limit_total = total;
    cfg.inconclusive_limit_s = inconclusive_s;
    cfg.checks[0] = check_of("e2e_p95_s", BG_METRIC_E2E_P95, BG_COND_MAX_RATIO_TO_OLD, 1.25, 20);
    cfg.checks[1] = check_of("error_rate", BG_METRIC_ERROR_RATE, BG_COND_MAX, 0.01, 20);
    cfg.n_checks = 2;
    return cfg;
}

/* Feeds verdicts "PF" etc. (P pass, F fail, I inconclusive) for the two checks. */
static bg_analysis_action feed(bg_analysis_tracker *t, const char *v, double now, char *why,
                               size_t whysz)
{
    bg_analysis_result res[2];
    for (int i = 0; i < 2; i++) {
        res[i].verdict = v[i] == 'P'   ? BG_VERDICT_PASS
                         : v[i] == 'F' ? BG_VERDICT_FAIL
                                       : BG_VERDICT_INCONCLUSIVE;
        snprintf(res[i].text, sizeof res[i].text, "check %d said %c", i, v[i]);
    }
    return bg_analysis_tracker_feed(t, res, now, why, whysz);
}

START_TEST(tracker_rolls_back_after_consecutive_failures)
{
    bg_analysis_config cfg = two_checks(2, 0, 120);
    bg_analysis_tracker t;
    char why[512];
    bg_analysis_tracker_init(&t, &cfg, 0);
    ck_assert_int_eq(feed(&t, "PP", 10, why, sizeof why), BG_ANALYSIS_CONTINUE);
    ck_assert_str_eq(why, "all 2 checks passed");
    ck_assert_int_eq(feed(&t, "FP", 20, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_str_eq(why, "e2e_p95_s failed (1 of 2 in a row): check 0 said F");
    ck_assert_int_eq(feed(&t, "PP", 30, why, sizeof why), BG_ANALYSIS_CONTINUE); /* resets */
    ck_assert_int_eq(feed(&t, "FP", 40, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_int_eq(feed(&t, "FP", 50, why, sizeof why), BG_ANALYSIS_ROLLBACK);
    ck_assert_str_eq(why, "2 consecutive failures of e2e_p95_s: check 0 said F");
    ck_assert_str_eq(bg_analysis_action_name(BG_ANALYSIS_ROLLBACK), "rollback");
}
END_TEST

START_TEST(tracker_counts_failures_per_check)
{
    bg_analysis_config cfg = two_checks(2, 0, 120);
    bg_analysis_tracker t;
    char why[512];
    bg_analysis_tracker_init(&t, &cfg, 0);
    /* Alternating failures of two different checks never make 2 in a row of one. */
    ck_assert_int_eq(feed(&t, "FP", 10, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_int_eq(feed(&t, "PF", 20, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_str_eq(why, "error_rate failed (1 of 2 in a row): check 1 said F");
    ck_assert_int_eq(feed(&t, "FP", 30, why, sizeof why), BG_ANALYSIS_HOLD);
    /* An inconclusive interval neither breaks nor extends a run of failures. */
    ck_assert_int_eq(feed(&t, "IP", 40, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_int_eq(feed(&t, "FP", 50, why, sizeof why), BG_ANALYSIS_ROLLBACK);
    ck_assert_str_eq(why, "2 consecutive failures of e2e_p95_s: check 0 said F");
}
END_TEST

START_TEST(tracker_rolls_back_at_total_failure_limit)
{
    bg_analysis_config cfg = two_checks(3, 3, 120);
    bg_analysis_tracker t;
    char why[512];
    bg_analysis_tracker_init(&t, &cfg, 0);
    const char *seq[] = {"FP", "PP", "FP", "PP"};
    for (int i = 0; i < 4; i++)
        ck_assert_int_ne(feed(&t, seq[i], 10.0 * (i + 1), why, sizeof why), BG_ANALYSIS_ROLLBACK);
    ck_assert_int_eq(feed(&t, "FP", 50, why, sizeof why), BG_ANALYSIS_ROLLBACK);
    ck_assert_str_eq(why, "3 failures of e2e_p95_s in all (failure_limit_total 3): check 0 said F");
}
END_TEST

START_TEST(tracker_failure_limit_one_rolls_back_at_once)
{
    bg_analysis_config cfg = two_checks(1, 0, 120);
    bg_analysis_tracker t;
    bg_analysis_tracker_init(&t, &cfg, 0);
    ck_assert_int_eq(feed(&t, "PF", 10, NULL, 0), BG_ANALYSIS_ROLLBACK);
}
END_TEST

START_TEST(tracker_rolls_back_past_the_inconclusive_limit)
{
    bg_analysis_config cfg = two_checks(2, 0, 60);
    bg_analysis_tracker t;
    char why[512];
    bg_analysis_tracker_init(&t, &cfg, 100);
    /* Counted from the start of the first inconclusive interval (100). */
    ck_assert_int_eq(feed(&t, "IP", 110, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_str_eq(why, "inconclusive for 10 s of 60: check 0 said I");
    ck_assert_int_eq(feed(&t, "PI", 120, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_int_eq(feed(&t, "PP", 130, why, sizeof why), BG_ANALYSIS_CONTINUE); /* clears */
    ck_assert_int_eq(feed(&t, "IP", 140, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_str_eq(why, "inconclusive for 10 s of 60: check 0 said I");
    for (double now = 150; now < 190; now += 10)
        ck_assert_int_eq(feed(&t, "II", now, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_int_eq(feed(&t, "IP", 190, why, sizeof why), BG_ANALYSIS_ROLLBACK);
    ck_assert_str_eq(why, "inconclusive for 60 s (inconclusive_limit_s 60): check 0 said I");
}
END_TEST

START_TEST(tracker_failure_wins_over_inconclusive_in_text)
{
    bg_analysis_config cfg = two_checks(2, 0, 60);
    bg_analysis_tracker t;
    char why[512];
    bg_analysis_tracker_init(&t, &cfg, 0);
    ck_assert_int_eq(feed(&t, "IF", 10, why, sizeof why), BG_ANALYSIS_HOLD);
    ck_assert_str_eq(why, "error_rate failed (1 of 2 in a row): check 1 said F");
}
END_TEST

/* --- configuration --- */

static int parse_cfg(bg_analysis_config *cfg, const char *json, bg_error *err)
{
    cJSON *j = cJSON_Parse(json);
    ck_assert_msg(j != NULL, "bad test JSON: %s", json);
    bg_error_clear(err);
    int rc = bg_analysis_config_parse(cfg, j, "promotion.analysis", err);
    cJSON_Delete(j);
    return rc;
}

START_TEST(config_parses_every_field)
{
    bg_analysis_config cfg;
    bg_error err;
    int rc = parse_cfg(
        &cfg,
        "{\"interval_s\": 15, \"failure_limit\": 3, \"failure_limit_total\": 5,"
        " \"inconclusive_limit_s\": 90, \"labels\": {\"model_name\": \"llama-8b\"},"
        " \"prometheus\": {\"url\": \"http://127.0.0.1:9090\", \"timeout_s\": 2},"
        " \"checks\": ["
        "  {\"metric\": \"e2e_p95_s\", \"max_ratio_to_old\": 1.25, \"min_samples\": 20},"
        "  {\"name\": \"ttft\", \"metric\": \"ttft_p99_s\", \"max\": 0.5},"
        "  {\"metric\": \"success_rate\", \"min\": 0.99},"
        "  {\"metric\": \"error_rate\", \"max_increase_over_old\": 0.01},"
        "  {\"name\": \"router_5xx\", \"query\": \"sum(rate(x[1m]))\", \"max\": 0.1}]}",
        &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_int_eq(cfg.interval_s, 15);
    ck_assert_int_eq(cfg.failure_limit, 3);
    ck_assert_int_eq(cfg.failure_limit_total, 5);
    ck_assert_int_eq(cfg.inconclusive_limit_s, 90);
    ck_assert_str_eq(cfg.filter[0], "model_name");
    ck_assert_str_eq(cfg.filter[1], "llama-8b");
    ck_assert_ptr_null(cfg.filter[2]);
    ck_assert_str_eq(cfg.prometheus_url, "http://127.0.0.1:9090");
    ck_assert_int_eq(cfg.prometheus_timeout_ms, 2000);
    ck_assert_uint_eq(cfg.n_checks, 5);
    ck_assert_str_eq(cfg.checks[0].name, "e2e_p95_s");
    ck_assert_int_eq(cfg.checks[0].metric, BG_METRIC_E2E_P95);
    ck_assert_int_eq(cfg.checks[0].cond, BG_COND_MAX_RATIO_TO_OLD);
    ck_assert_double_eq_tol(cfg.checks[0].limit, 1.25, EPS);
    ck_assert_int_eq(cfg.checks[0].min_samples, 20);
    ck_assert_str_eq(cfg.checks[1].name, "ttft");
    ck_assert_int_eq(cfg.checks[1].metric, BG_METRIC_TTFT_P99);
    ck_assert_int_eq(cfg.checks[1].cond, BG_COND_MAX);
    ck_assert_int_eq(cfg.checks[2].cond, BG_COND_MIN);
    ck_assert_int_eq(cfg.checks[3].cond, BG_COND_MAX_INCREASE_OVER_OLD);
    ck_assert_int_eq(cfg.checks[4].metric, BG_METRIC_QUERY);
    ck_assert_str_eq(cfg.checks[4].query, "sum(rate(x[1m]))");
    bg_analysis_config_dispose(&cfg);
    bg_analysis_config_dispose(&cfg); /* disposing twice is harmless */
}
END_TEST

START_TEST(config_defaults_and_default_checks)
{
    bg_analysis_config cfg;
    bg_error err;
    ck_assert_int_eq(parse_cfg(&cfg, "{}", &err), 0);
    ck_assert_int_eq(cfg.interval_s, 10);
    ck_assert_int_eq(cfg.failure_limit, 2);
    ck_assert_int_eq(cfg.failure_limit_total, 0);
    ck_assert_int_eq(cfg.inconclusive_limit_s, 120);
    ck_assert_ptr_null(cfg.filter);
    ck_assert_ptr_null(cfg.prometheus_url);
    ck_assert_uint_eq(cfg.n_checks, 2);
    ck_assert_str_eq(cfg.checks[0].name, "error_rate");
    ck_assert_int_eq(cfg.checks[0].cond, BG_COND_MAX_INCREASE_OVER_OLD);
    ck_assert_double_eq_tol(cfg.checks[0].limit, 0.02, EPS);
    ck_assert_str_eq(cfg.checks[1].name, "e2e_p95_s");
    ck_assert_int_eq(cfg.checks[1].cond, BG_COND_MAX_RATIO_TO_OLD);
    ck_assert_int_eq(cfg.checks[1].min_samples, 10);
    bg_analysis_config_dispose(&cfg);
}
END_TEST

static const struct {
    const char *json;
    const char *msg;
} bad_configs[] = {
    {"[]", "promotion.analysis: expected an object, got an array"},
    {"{\"inteval_s\": 10}",
     "promotion.analysis.inteval_s: unknown field (did you mean \"interval_s\"?)"},
    {"{\"interval_s\": 0}",
     "promotion.analysis.interval_s: expected an integer from 1 to 3600, got another number"},
    {"{\"failure_limit\": 0}",
     "promotion.analysis.failure_limit: expected an integer from 1 to 1000, got another number"},
    {"{\"checks\": []}", "promotion.analysis.checks: expected 1 to 32 checks, got 0"},
    {"{\"checks\": {}}", "promotion.analysis.checks: expected an array, got an object"},
    {"{\"checks\": [\"x\"]}", "promotion.analysis.checks[0]: expected an object, got a string"},
    {"{\"checks\": [{\"metric\": \"e2e_p96_s\", \"max\": 1}]}",
     "promotion.analysis.checks[0].metric: unknown metric \"e2e_p96_s\" (expected e2e_p50_s, "
     "e2e_p95_s, e2e_p99_s, e2e_mean_s, ttft_p50_s, ttft_p95_s, ttft_p99_s, ttft_mean_s, "
     "requests, error_rate, success_rate, restarts or router_error_rate)"},
    {"{\"checks\": [{\"metric\": \"e2e_p95_s\"}]}",
     "promotion.analysis.checks[0]: expected exactly one condition (max, min, max_ratio_to_old "
     "or max_increase_over_old), got 0"},
    {"{\"checks\": [{\"metric\": \"e2e_p95_s\", \"max\": 1}, "
     "{\"metric\": \"e2e_p99_s\", \"max\": 1, \"min\": 0}]}",
     "promotion.analysis.checks[1]: expected exactly one condition (max, min, max_ratio_to_old "
     "or max_increase_over_old), got 2"},
    {"{\"checks\": [{\"metric\": \"e2e_p95_s\", \"max\": \"1\"}]}",
     "promotion.analysis.checks[0].max: expected a number, got a string"},
    {"{\"checks\": [{\"metric\": \"e2e_p95_s\", \"max_ratio_to_old\": -1}]}",
     "promotion.analysis.checks[0].max_ratio_to_old: must be between 0 and 1e+300, got -1"},
    {"{\"checks\": [{\"metric\": \"e2e_p95_s\", \"max\": 1, \"min_sample\": 3}]}",
     "promotion.analysis.checks[0].min_sample: unknown field (did you mean \"min_samples\"?)"},
    {"{\"checks\": [{\"max\": 1}]}",
     "promotion.analysis.checks[0]: expected either \"metric\" or \"query\""},
    {"{\"checks\": [{\"metric\": \"e2e_p95_s\", \"query\": \"up\", \"max\": 1}]}",
     "promotion.analysis.checks[0]: expected either \"metric\" or \"query\", not both"},
    {"{\"checks\": [{\"name\": \"q\", \"query\": \"up\", \"max\": 1}]}",
     "promotion.analysis.checks[0].query: needs promotion.analysis.prometheus.url"},
    {"{\"prometheus\": {\"url\": \"http://p:9090\"}, \"checks\": [{\"query\": \"up\", \"max\": 1}]}",
     "promotion.analysis.checks[0].name: missing (a string is required)"},
    {"{\"prometheus\": {\"url\": \"http://p:9090\"}, "
     "\"checks\": [{\"name\": \"q\", \"query\": \"up\", \"max_ratio_to_old\": 1}]}",
     "promotion.analysis.checks[0].max_ratio_to_old: a query check supports only max and min"},
    {"{\"checks\": [{\"metric\": \"e2e_p95_s\", \"max\": 1}, "
     "{\"metric\": \"e2e_p95_s\", \"max_ratio_to_old\": 2}]}",
     "promotion.analysis.checks[1]: name \"e2e_p95_s\" is already used by "
     "promotion.analysis.checks[0] (give one a \"name\")"},
    {"{\"labels\": {\"model_name\": 3}}",
     "promotion.analysis.labels.model_name: expected a string, got a number"},
    {"{\"prometheus\": {\"url\": \"prom:9090\"}}",
     "promotion.analysis.prometheus.url: expected an http:// or https:// URL, got \"prom:9090\""},
    {"{\"prometheus\": {}}", "promotion.analysis.prometheus.url: missing (a string is required)"},
};

START_TEST(config_errors_name_the_json_path)
{
    bg_analysis_config cfg;
    bg_error err;
    memset(&cfg, 0xab, sizeof cfg); /* untouched on failure: nothing to dispose */
    ck_assert_int_eq(parse_cfg(&cfg, bad_configs[_i].json, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, bad_configs[_i].msg);
}
END_TEST

/* --- the Prometheus query API --- */

static const char vec_half[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
                               "\"result\":[{\"metric\":{\"job\":\"x\"},\"value\":[1712345678.1,"
                               "\"0.5\"]}]}}";

static const char *answer_for(const char *q, unsigned *status)
{
    *status = 200;
    if (!q)
        return "{}";
    if (strcmp(q, "up") == 0)
        return vec_half;
    if (strcmp(q, "sum(rate(http_requests_total{code=~\"5..\"}[1m])) / 2") == 0)
        return "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
               "[{\"metric\":{},\"value\":[1.0,\"0.05\"]}]}}";
    if (strcmp(q, "empty") == 0)
        return "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
    if (strcmp(q, "nan") == 0)
        return "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
               "[{\"metric\":{},\"value\":[1.0,\"NaN\"]}]}}";
    if (strcmp(q, "scalar(2)") == 0)
        return "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1.0,\"2\"]}}";
    if (strcmp(q, "html") == 0)
        return "<html>hello</html>";
    if (strcmp(q, "slow") == 0) {
        usleep(800 * 1000);
        return vec_half;
    }
    *status = 400;
    return "{\"status\":\"error\",\"errorType\":\"bad_data\","
           "\"error\":\"1:5: parse error: unclosed left parenthesis\"}";
}

static enum MHD_Result prom_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload, size_t *upload_size, void **ptr)
{
    (void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)ptr;
    unsigned status = 404;
    const char *body = "not found";
    if (strcmp(url, "/api/v1/query") == 0)
        body = answer_for(MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "query"), &status);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Daemon *prom_server(char *base, size_t basesz)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
        prom_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
    ck_assert_ptr_nonnull(d);
    snprintf(base, basesz, "http://127.0.0.1:%u/",
             MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    return d;
}

START_TEST(prom_query_reads_vector_and_scalar_results)
{
    char base[64];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct MHD_Daemon *d = prom_server(base, sizeof base);
    double v = 0;
    bg_error err;
    ck_assert_int_eq(bg_analysis_prom_query(&v, base, "up", 2000, &err), 0);
    ck_assert_double_eq_tol(v, 0.5, EPS);
    /* Quotes, braces, brackets and spaces reach Prometheus intact. */
    ck_assert_int_eq(bg_analysis_prom_query(
                         &v, base, "sum(rate(http_requests_total{code=~\"5..\"}[1m])) / 2", 2000, &err),
                     0);
    ck_assert_double_eq_tol(v, 0.05, EPS);
    ck_assert_int_eq(bg_analysis_prom_query(&v, base, "scalar(2)", 2000, &err), 0);
    ck_assert_double_eq_tol(v, 2, EPS);
    ck_assert_int_eq(bg_analysis_prom_query(&v, base, "empty", 2000, &err), 0);
    ck_assert(isnan(v));
    MHD_stop_daemon(d);
    curl_global_cleanup();
}
END_TEST

START_TEST(prom_query_errors_say_what_prometheus_said)
{
    char base[64], msg[300];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct MHD_Daemon *d = prom_server(base, sizeof base);
    double v = 0;
    bg_error err;
    ck_assert_int_eq(bg_analysis_prom_query(&v, base, "sum(", 2000, &err), BG_EPROTO);
    snprintf(msg, sizeof msg, "prometheus %s: HTTP 400: 1:5: parse error: unclosed left parenthesis",
             base);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_int_eq(bg_analysis_prom_query(&v, base, "html", 2000, &err), BG_EPROTO);
    snprintf(msg, sizeof msg, "prometheus %s: HTTP 200: the answer is not the query API's JSON",
             base);
    ck_assert_str_eq(err.msg, msg);
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_analysis_prom_query(&v, base, "slow", 200, &err), BG_ETIMEOUT);
    ck_assert_msg(bg_now_ms() - t0 < 700, "the 200 ms timeout took %.0f ms", bg_now_ms() - t0);
    MHD_stop_daemon(d);

    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", bgt_free_port());
    ck_assert_int_eq(bg_analysis_prom_query(&v, dead, "up", 2000, &err), BG_ENET);
    ck_assert_ptr_nonnull(strstr(err.msg, dead));
    curl_global_cleanup();
}
END_TEST

START_TEST(query_check_passes_fails_or_is_inconclusive)
{
    char base[64];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct MHD_Daemon *d = prom_server(base, sizeof base);
    bg_analysis_result r;
    bg_analysis_check c = check_of("router_5xx", BG_METRIC_QUERY, BG_COND_MAX, 0.1, 0);
    c.query = "up";
    bg_analysis_evaluate_query(&r, &c, base, 2000);
    ck_assert_int_eq(r.verdict, BG_VERDICT_FAIL);
    ck_assert_str_eq(r.text, "router_5xx new 0.5 > max 0.1");
    c.cond = BG_COND_MIN;
    bg_analysis_evaluate_query(&r, &c, base, 2000);
    ck_assert_int_eq(r.verdict, BG_VERDICT_PASS);
    ck_assert_str_eq(r.text, "router_5xx new 0.5 >= min 0.1");
    c.query = "empty";
    bg_analysis_evaluate_query(&r, &c, base, 2000);
    ck_assert_int_eq(r.verdict, BG_VERDICT_INCONCLUSIVE);
    ck_assert_str_eq(r.text, "router_5xx: no data (the query returned no series or NaN)");
    c.query = "nan";
    bg_analysis_evaluate_query(&r, &c, base, 2000);
    ck_assert_int_eq(r.verdict, BG_VERDICT_INCONCLUSIVE);
    c.query = "sum(";
    bg_analysis_evaluate_query(&r, &c, base, 2000);
    ck_assert_int_eq(r.verdict, BG_VERDICT_INCONCLUSIVE);
    ck_assert_ptr_nonnull(strstr(r.text, "router_5xx: prometheus http://127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(r.text, "unclosed left parenthesis"));

    /* evaluate_all sends query checks to the configured Prometheus, the rest to windows. */
    bg_analysis_config cfg;
    bg_analysis_window nw, ow;
    bg_analysis_result res[2];
    memset(&cfg, 0, sizeof cfg);
    cfg.prometheus_url = base;
    cfg.prometheus_timeout_ms = 2000;
    cfg.checks[0] = check_of("e2e_p95_s", BG_METRIC_E2E_P95, BG_COND_MAX_RATIO_TO_OLD, 2, 0);
    cfg.checks[1] = check_of("up", BG_METRIC_QUERY, BG_COND_MAX, 1, 0);
    cfg.checks[1].query = "up";
    cfg.n_checks = 2;
    window_of(&nw, 3, le_new, cum_new, 100, 0);
    window_of(&ow, 3, le_old, cum_old, 100, 0);
    bg_analysis_evaluate_all(res, &cfg, &nw, &ow);
    ck_assert_int_eq(res[0].verdict, BG_VERDICT_PASS);
    ck_assert_int_eq(res[1].verdict, BG_VERDICT_PASS);
    ck_assert_str_eq(res[1].text, "up new 0.5 <= max 1");
    MHD_stop_daemon(d);
    curl_global_cleanup();
}
END_TEST

/* --- two real bg-mock pools --- */

static size_t sink(char *data, size_t size, size_t nmemb, void *ud)
{
    return bg_buf_append(ud, data, size * nmemb) == 0 ? size * nmemb : 0;
}

static long http(const char *url, const char *body, bg_buf *out)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    bg_buf_reset(out);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    }
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return status;
}

static bg_prom_scrape *scrape(const bgt_mock *m, bg_buf *out)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", m->port);
    ck_assert_int_eq(http(url, NULL, out), 200);
    return parse_ok(bg_buf_cstr(out));
}

START_TEST(slow_new_pool_fails_against_fast_old_pool)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *tmp = bgt_tmpdir();
    bgt_mock old = {.pid = -1}, neu = {.pid = -1};
    const char *fast[] = {"--latency-ms", "10", NULL}, *slow[] = {"--latency-ms", "150", NULL};
    ck_assert_msg(bgt_mock_start(&old, tmp, "old", fast) == 0 &&
                      bgt_mock_start(&neu, tmp, "new", slow) == 0,
                  "bg-mock did not start (BG_MOCK_BIN=%s)", getenv("BG_MOCK_BIN"));
    bg_buf out;
    bg_buf_init(&out, BG_MAX_RESPONSE_BODY);
    /* Traffic before the window must not count. */
    char url[2][160];
    snprintf(url[0], sizeof url[0], "%s/chat/completions", old.url);
    snprintf(url[1], sizeof url[1], "%s/chat/completions", neu.url);
    const char *chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    ck_assert_int_eq(http(url[0], chat, &out), 200);
    bg_prom_scrape *ob = scrape(&old, &out), *nb = scrape(&neu, &out);
    for (int i = 0; i < 8; i++)
        for (int p = 0; p < 2; p++)
            ck_assert_int_eq(http(url[p], chat, &out), 200);
    bg_prom_scrape *oa = scrape(&old, &out), *na = scrape(&neu, &out);

    bg_analysis_window ow, nw;
    bg_error err;
    ck_assert_int_eq(bg_analysis_window_compute(&ow, ob, oa, NULL, &err), 0);
    ck_assert_int_eq(bg_analysis_window_compute(&nw, nb, na, NULL, &err), 0);
    ck_assert_double_eq_tol(ow.requests, 8, EPS);
    ck_assert_double_eq_tol(nw.requests, 8, EPS);
    ck_assert(!ow.restarted && !nw.restarted);

    bg_analysis_check lat = check_of("e2e_p95_s", BG_METRIC_E2E_P95, BG_COND_MAX_RATIO_TO_OLD, 1.5, 5);
    bg_analysis_check errs = check_of("error_rate", BG_METRIC_ERROR_RATE,
                                      BG_COND_MAX_INCREASE_OVER_OLD, 0.02, 5);
    bg_analysis_result r;
    bg_analysis_evaluate(&r, &lat, &nw, &ow);
    ck_assert_msg(r.verdict == BG_VERDICT_FAIL, "%s", r.text);
    ck_assert_msg(r.new_value > 0.1 && r.new_value <= 0.25 && r.old_value <= 0.06, "%s", r.text);
    ck_assert_ptr_nonnull(strstr(r.text, "ratio"));
    bg_analysis_evaluate(&r, &lat, &ow, &nw); /* the other way round: the fast one passes */
    ck_assert_msg(r.verdict == BG_VERDICT_PASS, "%s", r.text);
    bg_analysis_evaluate(&r, &errs, &nw, &ow);
    ck_assert_msg(r.verdict == BG_VERDICT_PASS, "%s", r.text);
    ck_assert_str_eq(r.text, "error_rate new 0 vs old 0: increase 0 <= 0.02");

    bg_prom_scrape_free(ob);
    bg_prom_scrape_free(oa);
    bg_prom_scrape_free(nb);
    bg_prom_scrape_free(na);
    bg_buf_dispose(&out);
    bgt_mock_stop(&old);
    bgt_mock_stop(&neu);
    bgt_rmtree(tmp);
    free(tmp);
    curl_global_cleanup();
}
END_TEST

/* The router's own counts (HAProxy) give router_error_rate; without them it is no data. */
START_TEST(router_error_rate_from_the_router_counts)
{
    bg_analysis_window nw, ow;
    memset(&nw, 0, sizeof nw);
    memset(&ow, 0, sizeof ow);
    bg_analysis_check c = {.name = "router", .metric = BG_METRIC_ROUTER_ERROR_RATE,
                           .cond = BG_COND_MAX_INCREASE_OVER_OLD, .limit = 0.05,
                           .min_samples = 10};
    bg_analysis_result res;
    bg_analysis_evaluate(&res, &c, &nw, &ow);
    ck_assert_int_eq(res.verdict, BG_VERDICT_INCONCLUSIVE);
    ck_assert_msg(strstr(res.text, "counts no errors"), "%s", res.text);
    nw.has_router = ow.has_router = true;
    nw.router_requests = 40;
    nw.router_errors = 12;
    ow.router_requests = 120;
    ow.router_errors = 0;
    bg_analysis_evaluate(&res, &c, &nw, &ow);
    ck_assert_int_eq(res.verdict, BG_VERDICT_FAIL);
    ck_assert(fabs(res.new_value - 0.3) < 1e-9);
    nw.router_errors = 1;
    bg_analysis_evaluate(&res, &c, &nw, &ow);
    ck_assert_int_eq(res.verdict, BG_VERDICT_PASS);
    nw.router_requests = 5; /* below min_samples */
    bg_analysis_evaluate(&res, &c, &nw, &ow);
    ck_assert_int_eq(res.verdict, BG_VERDICT_INCONCLUSIVE);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("analysis");
    TCase *tc = tcase_create("window");
    tcase_add_test(tc, window_from_two_scrapes_of_one_server);
    tcase_add_test(tc, window_reports_a_restart_without_negative_counts);
    tcase_add_test(tc, window_without_finished_counter_counts_e2e_observations);
    tcase_add_test(tc, window_add_sums_a_pools_endpoints);
    suite_add_tcase(s, tc);

    tc = tcase_create("conditions");
    tcase_add_test(tc, max_ratio_to_old_fails_with_both_values_in_text);
    tcase_add_test(tc, max_ratio_to_old_with_old_zero);
    tcase_add_test(tc, max_increase_over_old_compares_the_difference);
    tcase_add_test(tc, max_and_min_are_absolute_and_ignore_the_old_pool);
    tcase_add_test(tc, close_values_print_with_enough_digits);
    tcase_add_test(tc, too_few_samples_in_either_pool_is_inconclusive);
    tcase_add_test(tc, no_data_is_inconclusive_and_says_why);
    suite_add_tcase(s, tc);

    tc = tcase_create("tracker");
    tcase_add_test(tc, tracker_rolls_back_after_consecutive_failures);
    tcase_add_test(tc, tracker_counts_failures_per_check);
    tcase_add_test(tc, tracker_rolls_back_at_total_failure_limit);
    tcase_add_test(tc, tracker_failure_limit_one_rolls_back_at_once);
    tcase_add_test(tc, tracker_rolls_back_past_the_inconclusive_limit);
    tcase_add_test(tc, tracker_failure_wins_over_inconclusive_in_text);
    suite_add_tcase(s, tc);

    tc = tcase_create("config");
    tcase_add_test(tc, config_parses_every_field);
    tcase_add_test(tc, config_defaults_and_default_checks);
    tcase_add_loop_test(tc, config_errors_name_the_json_path, 0,
                        (int)(sizeof bad_configs / sizeof bad_configs[0]));
    tcase_add_test(tc, router_error_rate_from_the_router_counts);
    suite_add_tcase(s, tc);

    tc = tcase_create("query");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, prom_query_reads_vector_and_scalar_results);
    tcase_add_test(tc, prom_query_errors_say_what_prometheus_said);
    tcase_add_test(tc, query_check_passes_fails_or_is_inconclusive);
    suite_add_tcase(s, tc);

    tc = tcase_create("bg-mock");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, slow_new_pool_fails_against_fast_old_pool);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
