/* test_prom.c — the Prometheus text parser, lookups, histogram/counter deltas and the
 * histogram_quantile estimate, on vLLM-like exposition text and on the /metrics of a real
 * bg-mock (started on 127.0.0.1 port 0, stopped by pid).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "../support/check_main.h"
#include "../support/proc.h"
#include "bggate/buf.h"
#include "bggate/limits.h"
#include "bggate/prom.h"

#define EPS 1e-9

/* What vLLM 0.9 (prometheus_client) prints, trimmed: two models, _created series, HELP
 * with an escaped backslash, cumulative buckets, le="1.0" style bounds. */
static const char vllm_text[] =
    "# HELP vllm:num_requests_running Number of requests currently running on GPU.\n"
    "# TYPE vllm:num_requests_running gauge\n"
    "vllm:num_requests_running{engine=\"0\",model_name=\"llama\"} 3.0\n"
    "vllm:num_requests_running{engine=\"0\",model_name=\"qwen\"} 1.0\n"
    "# HELP vllm:request_success_total Count of successfully processed requests \\\\ by "
    "reason.\n"
    "# TYPE vllm:request_success_total counter\n"
    "vllm:request_success_total{engine=\"0\",finished_reason=\"stop\",model_name=\"llama\"} "
    "90.0\n"
    "vllm:request_success_total{engine=\"0\",finished_reason=\"length\",model_name=\"llama\"} "
    "8.0\n"
    "vllm:request_success_total{engine=\"0\",finished_reason=\"abort\",model_name=\"llama\"} "
    "2.0\n"
    "vllm:request_success_total{engine=\"0\",finished_reason=\"stop\",model_name=\"qwen\"} "
    "5.0\n"
    "# HELP vllm:request_success_created Count of successfully processed requests.\n"
    "# TYPE vllm:request_success_created gauge\n"
    "vllm:request_success_created{engine=\"0\",finished_reason=\"stop\",model_name=\"llama\"} "
    "1.7e+09\n"
    "# HELP vllm:e2e_request_latency_seconds Histogram of end to end request latency.\n"
    "# TYPE vllm:e2e_request_latency_seconds histogram\n"
    "vllm:e2e_request_latency_seconds_sum{engine=\"0\",model_name=\"llama\"} 52.5\n"
    "vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"0.1\",model_name=\"llama\"} 10.0\n"
    "vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"0.5\",model_name=\"llama\"} 60.0\n"
    "vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"1.0\",model_name=\"llama\"} 90.0\n"
    "vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"llama\"} "
    "100.0\n"
    "vllm:e2e_request_latency_seconds_count{engine=\"0\",model_name=\"llama\"} 100.0\n"
    "vllm:e2e_request_latency_seconds_sum{engine=\"0\",model_name=\"qwen\"} 2.0\n"
    "vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"0.1\",model_name=\"qwen\"} 0.0\n"
    "vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"0.5\",model_name=\"qwen\"} 4.0\n"
    "vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"1\",model_name=\"qwen\"} 5.0\n"
    "vllm:e2e_request_latency_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"qwen\"} 5.0\n"
    "vllm:e2e_request_latency_seconds_count{engine=\"0\",model_name=\"qwen\"} 5.0\n";

static const char *const llama[] = {"model_name", "llama", NULL};

static bg_prom_scrape *parse_ok(const char *text)
{
    bg_prom_scrape *s = NULL;
    bg_error err;
    bg_error_clear(&err);
    int rc = bg_prom_parse(&s, text, strlen(text), &err);
    ck_assert_msg(rc == 0, "parse failed: %s", err.msg);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Parses text expecting an error; returns the code, message in *err. */
static int parse_err(const char *text, bg_error *err)
{
    bg_prom_scrape *s = NULL;
    bg_error_clear(err);
    int rc = bg_prom_parse(&s, text, strlen(text), err);
    ck_assert_ptr_null(s);
    ck_assert_int_ne(rc, 0);
    return rc;
}

/* A histogram from ascending bounds (the last must be +Inf) and cumulative counts. */
static void hist_of(bg_prom_histogram *h, size_t n, const double *le, const double *cum,
                    double sum)
{
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        h->buckets[i].le = le[i];
        h->buckets[i].count = cum[i];
    }
    h->n_buckets = n;
    h->count = cum[n - 1];
    h->sum = sum;
    h->n_series = 1;
}

/* --- parsing --- */

START_TEST(parse_reads_families_types_help_and_samples)
{
    bg_prom_scrape *s = parse_ok(vllm_text);
    ck_assert_uint_eq(s->n_samples, 19);
    ck_assert_int_eq(bg_prom_family_type(s, "vllm:num_requests_running"), BG_PROM_GAUGE);
    ck_assert_int_eq(bg_prom_family_type(s, "vllm:request_success_total"), BG_PROM_COUNTER);
    ck_assert_int_eq(bg_prom_family_type(s, "vllm:e2e_request_latency_seconds"),
                     BG_PROM_HISTOGRAM);
    ck_assert_int_eq(bg_prom_family_type(s, "nope"), BG_PROM_UNTYPED);
    ck_assert_str_eq(s->families[1].help,
                     "Count of successfully processed requests \\ by reason.");
    const bg_prom_sample *smp = &s->samples[2];
    ck_assert_str_eq(smp->name, "vllm:request_success_total");
    ck_assert_uint_eq(smp->n_labels, 3);
    ck_assert_str_eq(bg_prom_label_value(smp, "finished_reason"), "stop");
    ck_assert_str_eq(bg_prom_label_value(smp, "model_name"), "llama");
    ck_assert_ptr_null(bg_prom_label_value(smp, "le"));
    ck_assert_double_eq_tol(smp->value, 90.0, EPS);
    ck_assert_int_eq(smp->line, 7);
    bg_prom_scrape_free(s);
}
END_TEST

START_TEST(parse_unescapes_label_values)
{
    bg_prom_scrape *s = parse_ok("x{path=\"C:\\\\dir\",q=\"say \\\"hi\\\"\",nl=\"a\\nb\","
                                 "brace=\"}{,=\",odd=\"\\t\"} 1\n");
    const bg_prom_sample *smp = &s->samples[0];
    ck_assert_str_eq(bg_prom_label_value(smp, "path"), "C:\\dir");
    ck_assert_str_eq(bg_prom_label_value(smp, "q"), "say \"hi\"");
    ck_assert_str_eq(bg_prom_label_value(smp, "nl"), "a\nb");
    ck_assert_str_eq(bg_prom_label_value(smp, "brace"), "}{,=");
    ck_assert_str_eq(bg_prom_label_value(smp, "odd"), "\\t"); /* not a defined escape: kept */
    bg_prom_scrape_free(s);
}
END_TEST

START_TEST(parse_reads_special_values_timestamps_and_spacing)
{
    bg_prom_scrape *s = parse_ok("  a NaN\n"
                                 "b +Inf\n"
                                 "c -Inf 1712345678000\n"
                                 "d{ x = \"1\" , y=\"2\", } 1.5e3\r\n"
                                 "e {z=\"3\"}\t-0.25  \n"
                                 "f{} 7 # {trace_id=\"abc\"} 1.0 1712345678.1\n"
                                 "# a plain comment\n"
                                 "# HELPER is a comment, not HELP\n");
    ck_assert_uint_eq(s->n_samples, 6);
    ck_assert(isnan(s->samples[0].value));
    ck_assert(isinf(s->samples[1].value) && s->samples[1].value > 0);
    ck_assert(isinf(s->samples[2].value) && s->samples[2].value < 0);
    ck_assert(s->samples[2].has_timestamp);
    ck_assert_double_eq_tol(s->samples[2].timestamp, 1712345678000.0, EPS);
    ck_assert(!s->samples[1].has_timestamp);
    ck_assert_double_eq_tol(s->samples[3].value, 1500.0, EPS);
    ck_assert_str_eq(bg_prom_label_value(&s->samples[3], "x"), "1");
    ck_assert_str_eq(bg_prom_label_value(&s->samples[3], "y"), "2");
    ck_assert_str_eq(s->samples[4].name, "e");
    ck_assert_double_eq_tol(s->samples[4].value, -0.25, EPS);
    ck_assert_uint_eq(s->samples[5].n_labels, 0);
    ck_assert_double_eq_tol(s->samples[5].value, 7, EPS);
    ck_assert_uint_eq(s->n_families, 0);
    bg_prom_scrape_free(s);
}
END_TEST

START_TEST(parse_stops_at_openmetrics_eof)
{
    bg_prom_scrape *s = parse_ok("# TYPE a counter\na_total 4\n# EOF\nthis is not { metrics\n");
    ck_assert_uint_eq(s->n_samples, 1);
    ck_assert_int_eq(bg_prom_family_type(s, "a"), BG_PROM_COUNTER);
    double v = 0;
    ck_assert(bg_prom_sum(&v, s, "a", NULL)); /* the counter found by its family name */
    ck_assert_double_eq_tol(v, 4, EPS);
    bg_prom_scrape_free(s);
}
END_TEST

START_TEST(parse_accepts_empty_text)
{
    bg_prom_scrape *s = parse_ok("");
    ck_assert_uint_eq(s->n_samples, 0);
    double v = 1;
    ck_assert(!bg_prom_sum(&v, s, "x", NULL));
    ck_assert_double_eq(v, 0);
    bg_prom_scrape_free(s);
}
END_TEST

/* Malformed lines: the message names the line and what was expected. */
static const struct {
    const char *text;
    const char *msg;
} bad_lines[] = {
    {"a 1\nb{x=\"1\"}\n", "metrics line 2: expected a value after the labels"},
    {"a 1\n\nfoo bar\n", "metrics line 3: expected a number as the value, got \"bar\""},
    {"x\n", "metrics line 1: expected a value after the metric name"},
    {"x   \n", "metrics line 1: expected a value after the metric name"},
    {"x{a=1} 2\n", "metrics line 1: expected a quoted value for label \"a\""},
    {"ok 1\nx{a=\"1} 2\n", "metrics line 2: unterminated value of label \"a\""},
    {"x{a=\"1\" b=\"2\"} 3\n",
     "metrics line 1: expected ',' or '}' after the value of label \"a\", got \"b=\"2\"} 3\""},
    {"x{=\"1\"} 2\n", "metrics line 1: expected a label name or '}', got \"=\"1\"} 2\""},
    {"x{a\"1\"} 2\n", "metrics line 1: expected '=' after label name \"a\""},
    {"1x 2\n", "metrics line 1: expected a metric name, got \"1x 2\""},
    {"# TYPE x flute\n",
     "metrics line 1: unknown metric type (expected counter, gauge, histogram, summary or "
     "untyped), got \"flute\""},
    {"# TYPE x\n", "metrics line 1: expected a type after # TYPE name"},
    {"# TYPE\n", "metrics line 1: expected a metric name after # TYPE"},
    {"x 1 2 3\n", "metrics line 1: unexpected text after the value, got \"3\""},
    {"x 1 soon\n", "metrics line 1: expected a number as the timestamp, got \"soon\""},
    {"x{a=\"1\"}2\n", "metrics line 1: expected a value after the labels, got \"2\""},
};

START_TEST(parse_names_the_line_of_a_malformed_sample)
{
    bg_error err;
    int rc = parse_err(bad_lines[_i].text, &err);
    ck_assert_int_eq(rc, BG_EPROTO);
    ck_assert_str_eq(err.msg, bad_lines[_i].msg);
}
END_TEST

START_TEST(parse_rejects_nul_byte_naming_its_line)
{
    static const char text[] = "a 1\nb 2\nc\0 3\n";
    bg_prom_scrape *s = NULL;
    bg_error err;
    ck_assert_int_eq(bg_prom_parse(&s, text, sizeof text - 1, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "metrics line 3: NUL byte in the text");
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(parse_rejects_text_over_the_size_cap)
{
    size_t n = BG_MAX_RESPONSE_BODY + 1;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, '\n', n);
    bg_prom_scrape *s = NULL;
    bg_error err;
    ck_assert_int_eq(bg_prom_parse(&s, big, n, &err), BG_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than the limit of"));
    ck_assert_ptr_null(s);
    free(big);
}
END_TEST

START_TEST(parse_rejects_too_many_labels)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    bg_buf_puts(&b, "x{");
    for (int i = 0; i <= BG_PROM_MAX_LABELS; i++)
        bg_buf_printf(&b, "l%d=\"v\",", i);
    bg_buf_puts(&b, "} 1\n");
    bg_error err;
    ck_assert_int_eq(parse_err(bg_buf_cstr(&b), &err), BG_ETOOBIG);
    ck_assert_str_eq(err.msg, "metrics line 1: more than 64 labels");
    bg_buf_dispose(&b);
}
END_TEST

/* --- lookups --- */

START_TEST(sum_adds_series_matching_the_filter)
{
    bg_prom_scrape *s = parse_ok(vllm_text);
    double v = 0;
    ck_assert(bg_prom_sum(&v, s, "vllm:request_success_total", llama));
    ck_assert_double_eq_tol(v, 100, EPS);
    ck_assert(bg_prom_sum(&v, s, "vllm:request_success_total", NULL));
    ck_assert_double_eq_tol(v, 105, EPS);
    const char *stop[] = {"model_name", "llama", "finished_reason", "stop", NULL};
    ck_assert(bg_prom_sum(&v, s, "vllm:request_success", stop)); /* without _total */
    ck_assert_double_eq_tol(v, 90, EPS);
    const char *other[] = {"model_name", "mistral", NULL};
    ck_assert(!bg_prom_sum(&v, s, "vllm:request_success_total", other));
    ck_assert_double_eq(v, 0);
    /* An empty value matches series without the label, as in PromQL. */
    const char *no_lora[] = {"lora", "", "model_name", "qwen", NULL};
    ck_assert(bg_prom_sum(&v, s, "vllm:num_requests_running", no_lora));
    ck_assert_double_eq_tol(v, 1, EPS);
    bg_prom_scrape_free(s);
}
END_TEST

START_TEST(next_walks_matching_samples_in_order)
{
    bg_prom_scrape *s = parse_ok(vllm_text);
    size_t pos = 0;
    const char *reasons[3];
    int n = 0;
    const bg_prom_sample *smp;
    while ((smp = bg_prom_next(s, "vllm:request_success_total", llama, &pos)) != NULL && n < 3)
        reasons[n++] = bg_prom_label_value(smp, "finished_reason");
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(reasons[0], "stop");
    ck_assert_str_eq(reasons[1], "length");
    ck_assert_str_eq(reasons[2], "abort");
    bg_prom_scrape_free(s);
}
END_TEST

START_TEST(histogram_merges_series_by_le)
{
    bg_prom_scrape *s = parse_ok(vllm_text);
    bg_prom_histogram h;
    bg_error err;
    ck_assert_int_eq(bg_prom_histogram_get(&h, s, "vllm:e2e_request_latency_seconds", NULL, &err),
                     0);
    /* "1.0" (llama) and "1" (qwen) are the same bound. */
    ck_assert_uint_eq(h.n_buckets, 4);
    const double le[] = {0.1, 0.5, 1.0, INFINITY}, cum[] = {10, 64, 95, 105};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_double_eq(h.buckets[i].le, le[i]);
        ck_assert_double_eq_tol(h.buckets[i].count, cum[i], EPS);
    }
    ck_assert_double_eq_tol(h.count, 105, EPS);
    ck_assert_double_eq_tol(h.sum, 54.5, EPS);
    ck_assert_uint_eq(h.n_series, 2);

    ck_assert_int_eq(bg_prom_histogram_get(&h, s, "vllm:e2e_request_latency_seconds", llama,
                                           &err),
                     0);
    ck_assert_double_eq_tol(h.count, 100, EPS);
    ck_assert_double_eq_tol(h.buckets[1].count, 60, EPS);
    ck_assert_uint_eq(h.n_series, 1);

    ck_assert_int_eq(bg_prom_histogram_get(&h, s, "vllm:time_to_first_token_seconds", NULL,
                                           &err),
                     0);
    ck_assert_uint_eq(h.n_buckets, 0); /* not exposed */
    bg_prom_scrape_free(s);
}
END_TEST

START_TEST(histogram_without_inf_bucket_gets_one_from_count)
{
    bg_prom_scrape *s = parse_ok("h_bucket{le=\"1\"} 3\nh_bucket{le=\"2\"} 5\nh_count 7\nh_sum 9\n");
    bg_prom_histogram h;
    bg_error err;
    ck_assert_int_eq(bg_prom_histogram_get(&h, s, "h", NULL, &err), 0);
    ck_assert_uint_eq(h.n_buckets, 3);
    ck_assert(isinf(h.buckets[2].le));
    ck_assert_double_eq_tol(h.buckets[2].count, 7, EPS);
    bg_prom_scrape_free(s);
}
END_TEST

START_TEST(histogram_bucket_without_numeric_le_names_its_line)
{
    bg_prom_scrape *s = parse_ok("h_bucket{le=\"1\"} 3\nh_bucket{le=\"big\"} 5\n");
    bg_prom_histogram h;
    bg_error err;
    ck_assert_int_eq(bg_prom_histogram_get(&h, s, "h", NULL, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "metrics line 2: h_bucket without a numeric le label");
    bg_prom_scrape_free(s);
}
END_TEST

/* --- quantiles (hand-computed, the way histogram_quantile does it) --- */

START_TEST(quantile_interpolates_inside_the_bucket)
{
    /* 10 obs <= 0.1, 50 in (0.1,0.5], 30 in (0.5,1], 10 above 1. */
    const double le[] = {0.1, 0.5, 1.0, INFINITY}, cum[] = {10, 60, 90, 100};
    bg_prom_histogram h;
    hist_of(&h, 4, le, cum, 52.5);
    /* p50: rank 50, bucket (0.1,0.5] holds ranks 10..60: 0.1 + 0.4 * 40/50 */
    ck_assert_double_eq_tol(bg_prom_quantile(&h, 0.5), 0.42, EPS);
    /* p05: rank 5 in the first bucket, from 0: 0.1 * 5/10 */
    ck_assert_double_eq_tol(bg_prom_quantile(&h, 0.05), 0.05, EPS);
    /* p75: rank 75 in (0.5,1]: 0.5 + 0.5 * 15/30 */
    ck_assert_double_eq_tol(bg_prom_quantile(&h, 0.75), 0.75, EPS);
    /* p90: rank 90 is the top of (0.5,1] */
    ck_assert_double_eq_tol(bg_prom_quantile(&h, 0.9), 1.0, EPS);
    ck_assert_double_eq_tol(bg_prom_mean(&h), 0.525, EPS);
}
END_TEST

START_TEST(quantile_in_inf_bucket_is_its_lower_bound)
{
    const double le[] = {0.1, 0.5, 1.0, INFINITY}, cum[] = {10, 60, 90, 100};
    bg_prom_histogram h;
    hist_of(&h, 4, le, cum, 0);
    ck_assert_double_eq_tol(bg_prom_quantile(&h, 0.95), 1.0, EPS);
    ck_assert_double_eq_tol(bg_prom_quantile(&h, 0.99), 1.0, EPS);
    ck_assert_double_eq_tol(bg_prom_quantile(&h, 1.0), 1.0, EPS);
}
END_TEST

START_TEST(quantile_of_empty_histogram_is_nan)
{
    const double le[] = {0.1, INFINITY}, zero[] = {0, 0}, one[] = {1, 1};
    bg_prom_histogram h;
    hist_of(&h, 2, le, zero, 0);
    ck_assert(isnan(bg_prom_quantile(&h, 0.5)));
    ck_assert(isnan(bg_prom_mean(&h)));
    hist_of(&h, 1, le + 1, one, 0); /* only +Inf: nothing to interpolate */
    ck_assert(isnan(bg_prom_quantile(&h, 0.5)));
    hist_of(&h, 2, le, one, 0);
    ck_assert(isinf(bg_prom_quantile(&h, 1.5)));
    ck_assert(isinf(bg_prom_quantile(&h, -0.5)));
    ck_assert(isnan(bg_prom_quantile(&h, NAN)));
}
END_TEST

START_TEST(quantile_of_delta_between_two_scrapes)
{
    /* before: 100 obs; after: 300. In the window: 0.1 → 20, 0.25 → 100, 0.5 → 180, 1 → 198,
     * +Inf → 200. p95 = rank 190 in (0.5,1]: 0.5 + 0.5 * (190-180)/18. */
    const double le[] = {0.1, 0.25, 0.5, 1.0, INFINITY};
    const double before[] = {50, 80, 95, 100, 100}, after[] = {70, 180, 275, 298, 300};
    bg_prom_histogram hb, ha, d;
    bool reset = true;
    hist_of(&hb, 5, le, before, 20);
    hist_of(&ha, 5, le, after, 80);
    bg_prom_histogram_delta(&d, &reset, &hb, &ha);
    ck_assert(!reset);
    ck_assert_double_eq_tol(d.count, 200, EPS);
    ck_assert_double_eq_tol(d.sum, 60, EPS);
    ck_assert_double_eq_tol(bg_prom_quantile(&d, 0.95), 0.5 + 0.5 * 10.0 / 18.0, EPS);
    /* p50: rank 100 is the top of (0.1,0.25] */
    ck_assert_double_eq_tol(bg_prom_quantile(&d, 0.5), 0.25, EPS);
    /* p99: rank 198 is the top of (0.5,1] */
    ck_assert_double_eq_tol(bg_prom_quantile(&d, 0.99), 1.0, EPS);
    ck_assert_double_eq_tol(bg_prom_mean(&d), 0.3, EPS);
}
END_TEST

/* --- deltas and counter resets --- */

START_TEST(histogram_delta_detects_counter_reset)
{
    const double le[] = {0.1, 1.0, INFINITY};
    const double before[] = {500, 900, 1000}, after[] = {4, 9, 10};
    bg_prom_histogram hb, ha, d;
    bool reset = false;
    hist_of(&hb, 3, le, before, 400);
    hist_of(&ha, 3, le, after, 3);
    bg_prom_histogram_delta(&d, &reset, &hb, &ha);
    ck_assert(reset);
    /* Not negative: what the restarted server counted since it started. */
    ck_assert_double_eq_tol(d.count, 10, EPS);
    ck_assert_double_eq_tol(d.sum, 3, EPS);
    for (size_t i = 0; i < d.n_buckets; i++)
        ck_assert_double_eq_tol(d.buckets[i].count, after[i], EPS);
}
END_TEST

START_TEST(histogram_delta_detects_reset_in_one_bucket)
{
    /* The total grew, but a bucket went down: a restart followed by more traffic. */
    const double le[] = {0.1, 1.0, INFINITY};
    const double before[] = {5, 9, 10}, after[] = {3, 12, 15};
    bg_prom_histogram hb, ha, d;
    bool reset = false;
    hist_of(&hb, 3, le, before, 1);
    hist_of(&ha, 3, le, after, 2);
    bg_prom_histogram_delta(&d, &reset, &hb, &ha);
    ck_assert(reset);
    ck_assert_double_eq_tol(d.buckets[0].count, 3, EPS);
}
END_TEST

START_TEST(histogram_delta_with_new_layout_is_a_reset)
{
    const double le1[] = {0.1, 1.0, INFINITY}, le2[] = {0.5, INFINITY};
    const double c1[] = {1, 2, 3}, c2[] = {10, 20};
    bg_prom_histogram hb, ha, d;
    bool reset = false;
    hist_of(&hb, 3, le1, c1, 1);
    hist_of(&ha, 2, le2, c2, 9);
    bg_prom_histogram_delta(&d, &reset, &hb, &ha);
    ck_assert(reset);
    ck_assert_uint_eq(d.n_buckets, 2);
    ck_assert_double_eq_tol(d.count, 20, EPS);
}
END_TEST

START_TEST(histogram_delta_of_missing_histograms)
{
    const double le[] = {0.1, INFINITY}, c[] = {1, 2};
    bg_prom_histogram none, h, d;
    bool reset = true;
    memset(&none, 0, sizeof none);
    hist_of(&h, 2, le, c, 1);
    bg_prom_histogram_delta(&d, &reset, &none, &h); /* appeared: counts from 0 */
    ck_assert(!reset);
    ck_assert_double_eq_tol(d.count, 2, EPS);
    bg_prom_histogram_delta(&d, &reset, &h, &none); /* gone: no data */
    ck_assert(!reset);
    ck_assert_uint_eq(d.n_buckets, 0);
}
END_TEST

START_TEST(histogram_add_merges_endpoints)
{
    const double le[] = {0.1, 1.0, INFINITY}, a[] = {1, 2, 3}, b[] = {10, 20, 30};
    const double le2[] = {0.5, INFINITY}, c[] = {4, 5};
    bg_prom_histogram acc, h;
    bg_error err;
    memset(&acc, 0, sizeof acc);
    hist_of(&h, 3, le, a, 1);
    ck_assert_int_eq(bg_prom_histogram_add(&acc, &h, &err), 0);
    hist_of(&h, 3, le, b, 2);
    ck_assert_int_eq(bg_prom_histogram_add(&acc, &h, &err), 0);
    ck_assert_double_eq_tol(acc.count, 33, EPS);
    ck_assert_double_eq_tol(acc.sum, 3, EPS);
    ck_assert_double_eq_tol(acc.buckets[1].count, 22, EPS);
    hist_of(&h, 2, le2, c, 0); /* another layout: bounds inserted in order */
    ck_assert_int_eq(bg_prom_histogram_add(&acc, &h, &err), 0);
    ck_assert_uint_eq(acc.n_buckets, 4);
    ck_assert_double_eq(acc.buckets[1].le, 0.5);
    ck_assert_double_eq_tol(acc.buckets[3].count, 38, EPS);
}
END_TEST

START_TEST(counter_delta_pairs_series_and_detects_reset)
{
    bg_prom_scrape *b = parse_ok("c_total{r=\"stop\"} 100\nc_total{r=\"length\"} 10\n");
    bg_prom_scrape *a = parse_ok("c_total{r=\"length\"} 15\nc_total{r=\"stop\"} 130\n"
                                 "c_total{r=\"abort\"} 2\n");
    bg_prom_scrape *r = parse_ok("c_total{r=\"stop\"} 7\nc_total{r=\"length\"} 12\n");
    double d = 0;
    bool reset = true;
    ck_assert(bg_prom_counter_delta(&d, &reset, b, a, "c_total", NULL));
    ck_assert(!reset);
    ck_assert_double_eq_tol(d, 30 + 5 + 2, EPS); /* abort is new: counts from 0 */
    const char *stop[] = {"r", "stop", NULL};
    ck_assert(bg_prom_counter_delta(&d, &reset, b, a, "c", stop));
    ck_assert_double_eq_tol(d, 30, EPS);
    /* stop went 100 → 7: restarted; its delta is 7, never -93 */
    ck_assert(bg_prom_counter_delta(&d, &reset, b, r, "c_total", NULL));
    ck_assert(reset);
    ck_assert_double_eq_tol(d, 7 + 2, EPS);
    ck_assert(!bg_prom_counter_delta(&d, &reset, b, a, "missing_total", NULL));
    /* No earlier scrape (NULL): every series counts from 0. */
    ck_assert(bg_prom_counter_delta(&d, &reset, NULL, a, "c_total", NULL));
    ck_assert_double_eq_tol(d, 147, EPS);
    ck_assert(!bg_prom_counter_delta(&d, &reset, b, NULL, "c_total", NULL));
    bg_prom_scrape_free(b);
    bg_prom_scrape_free(a);
    bg_prom_scrape_free(r);
}
END_TEST

/* --- against bg-mock's real /metrics --- */

static size_t sink(char *data, size_t size, size_t nmemb, void *ud)
{
    return bg_buf_append(ud, data, size * nmemb) == 0 ? size * nmemb : 0;
}

/* GET (body NULL) or POST JSON; returns the HTTP status, the answer in out. */
static long http(const char *url, const char *body, bg_buf *out)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
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

START_TEST(parse_reads_bg_mock_metrics)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *tmp = bgt_tmpdir();
    bgt_mock m = {.pid = -1};
    const char *args[] = {"--model", "m\"x", "--latency-ms", "30", NULL};
    ck_assert_msg(bgt_mock_start(&m, tmp, "mock", args) == 0, "bg-mock did not start (BG_MOCK_BIN=%s)",
                  getenv("BG_MOCK_BIN"));
    char url[256];
    snprintf(url, sizeof url, "%s/chat/completions", m.url);
    bg_buf out;
    bg_buf_init(&out, BG_MAX_RESPONSE_BODY);
    const char *chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}";
    const char *cut = "{\"max_tokens\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(http(url, chat, &out), 200);
    ck_assert_int_eq(http(url, cut, &out), 200);
    char murl[160];
    snprintf(murl, sizeof murl, "http://127.0.0.1:%d/metrics", m.port);
    bg_buf_reset(&out);
    ck_assert_int_eq(http(murl, NULL, &out), 200);

    bg_prom_scrape *s = parse_ok(bg_buf_cstr(&out));
    const char *model[] = {"model_name", "m\"x", NULL}; /* escaped by the mock, unescaped here */
    const char *stop[] = {"model_name", "m\"x", "finished_reason", "stop", NULL};
    double v = 0;
    ck_assert(bg_prom_sum(&v, s, "vllm:request_success_total", model));
    ck_assert_double_eq_tol(v, 4, EPS);
    ck_assert(bg_prom_sum(&v, s, "vllm:request_success_total", stop));
    ck_assert_double_eq_tol(v, 3, EPS);
    ck_assert_int_eq(bg_prom_family_type(s, "vllm:e2e_request_latency_seconds"),
                     BG_PROM_HISTOGRAM);
    bg_prom_histogram h;
    bg_error err;
    ck_assert_int_eq(bg_prom_histogram_get(&h, s, "vllm:e2e_request_latency_seconds", model,
                                           &err),
                     0);
    ck_assert_double_eq_tol(h.count, 4, EPS);
    ck_assert_uint_eq(h.n_buckets, 20);
    /* Every request waited >= 30 ms: the median is past the 0.02 bound. */
    double p50 = bg_prom_quantile(&h, 0.5);
    ck_assert_msg(p50 > 0.02 && p50 <= 0.06, "p50 %g", p50);
    ck_assert_msg(bg_prom_mean(&h) >= 0.03, "mean %g", bg_prom_mean(&h));

    bg_prom_scrape_free(s);
    bg_buf_dispose(&out);
    bgt_mock_stop(&m);
    bgt_rmtree(tmp);
    free(tmp);
    curl_global_cleanup();
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("prom");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parse_reads_families_types_help_and_samples);
    tcase_add_test(tc, parse_unescapes_label_values);
    tcase_add_test(tc, parse_reads_special_values_timestamps_and_spacing);
    tcase_add_test(tc, parse_stops_at_openmetrics_eof);
    tcase_add_test(tc, parse_accepts_empty_text);
    tcase_add_loop_test(tc, parse_names_the_line_of_a_malformed_sample, 0,
                        (int)(sizeof bad_lines / sizeof bad_lines[0]));
    tcase_add_test(tc, parse_rejects_nul_byte_naming_its_line);
    tcase_add_test(tc, parse_rejects_text_over_the_size_cap);
    tcase_add_test(tc, parse_rejects_too_many_labels);
    suite_add_tcase(s, tc);

    tc = tcase_create("lookup");
    tcase_add_test(tc, sum_adds_series_matching_the_filter);
    tcase_add_test(tc, next_walks_matching_samples_in_order);
    tcase_add_test(tc, histogram_merges_series_by_le);
    tcase_add_test(tc, histogram_without_inf_bucket_gets_one_from_count);
    tcase_add_test(tc, histogram_bucket_without_numeric_le_names_its_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("quantile");
    tcase_add_test(tc, quantile_interpolates_inside_the_bucket);
    tcase_add_test(tc, quantile_in_inf_bucket_is_its_lower_bound);
    tcase_add_test(tc, quantile_of_empty_histogram_is_nan);
    tcase_add_test(tc, quantile_of_delta_between_two_scrapes);
    suite_add_tcase(s, tc);

    tc = tcase_create("delta");
    tcase_add_test(tc, histogram_delta_detects_counter_reset);
    tcase_add_test(tc, histogram_delta_detects_reset_in_one_bucket);
    tcase_add_test(tc, histogram_delta_with_new_layout_is_a_reset);
    tcase_add_test(tc, histogram_delta_of_missing_histograms);
    tcase_add_test(tc, histogram_add_merges_endpoints);
    tcase_add_test(tc, counter_delta_pairs_series_and_detects_reset);
    suite_add_tcase(s, tc);

    tc = tcase_create("bg-mock");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, parse_reads_bg_mock_metrics);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
