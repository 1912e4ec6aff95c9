/* test_gate.c — threshold parsing (names, tags, limits, the --threshold flag) and the
 * verdict on hand-built runs: pass, fail, inconclusive, per-tag, the implicit
 * pass_rate >= 1 and the one-line verdict reason. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/gate.h"
#include "bggate/suite.h"

/* --- helpers --- */

/* A run over one suite of n cases "c0".."c{n-1}"; the first n_safety carry tag "safety". */
static bg_run *make_run(int n, int n_safety)
{
    static char text[64 * 1024];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf(text + len, sizeof text - len, "{\"id\": \"c%d\", \"prompt\": \"q\"%s}\n",
                         i, i < n_safety ? ", \"tags\": [\"safety\"]" : "");
        ck_assert(w > 0 && (size_t)w < sizeof text - len);
        len += (size_t)w;
    }
    bg_error err = {0};
    bg_suite **suites = calloc(1, sizeof *suites);
    ck_assert_ptr_nonnull(suites);
    ck_assert_msg(bg_suite_parse(&suites[0], "evals/golden.jsonl", text, len, &err) == 0, "%s",
                  err.msg);
    bg_run *run = NULL;
    ck_assert_int_eq(bg_run_new(&run, suites, 1, &err), 0);
    return run;
}

/* Adds one successful request for case c (passed or not) with the given e2e. */
static void add_req(bg_run *run, uint32_t c, bool passed, double e2e_ms)
{
    bg_request_record r;
    memset(&r, 0, sizeof r);
    r.kase = c;
    r.passed = passed;
    r.model = -1;
    r.output_tokens = -1;
    r.start_ms = 0;
    r.e2e_ms = e2e_ms;
    r.ttft_ms = -1;
    r.tpot_ms = -1;
    r.http_status = 200;
    ck_assert_int_eq(bg_run_add_request(run, &r), 0);
}

static void finish(bg_run *run)
{
    bg_error err = {0};
    ck_assert_msg(bg_run_finish(run, &err) == 0, "%s", err.msg);
}

static bg_threshold th(const char *name, double limit)
{
    bg_threshold t;
    bg_error err = {0};
    ck_assert_msg(bg_threshold_parse(&t, name, limit, &err) == 0, "%s: %s", name, err.msg);
    return t;
}

static void evaluate(bg_run *run, const bg_threshold *ths, size_t n)
{
    bg_error err = {0};
    ck_assert_msg(bg_gate_evaluate(run, ths, n, &err) == 0, "%s", err.msg);
}

static const char *parse_error(const char *name, double limit)
{
    static bg_error err;
    bg_threshold t;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(bg_threshold_parse(&t, name, limit, &err), BG_EINVAL);
    return err.msg;
}

static const char *arg_error(const char *arg)
{
    static bg_error err;
    bg_threshold t;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(bg_threshold_parse_arg(&t, arg, &err), BG_EINVAL);
    return err.msg;
}

/* --- parsing --- */

START_TEST(parse_accepts_every_documented_name)
{
    static const struct {
        const char *name;
        bool is_min;
        double limit;
    } names[] = {
        {"pass_rate", true, 0.95},       {"error_rate", false, 0.01},
        {"p50_ms", false, 800},          {"p90_ms", false, 1500},
        {"p95_ms", false, 2500},         {"p99_ms", false, 4000},
        {"max_ms", false, 10000},        {"ttft_p50_ms", false, 100},
        {"ttft_p95_ms", false, 400},     {"ttft_p99_ms", false, 800},
        {"itl_p95_ms", false, 50},       {"tpot_p50_ms", false, 20},
        {"tpot_p95_ms", false, 40},      {"min_output_tokens_per_s", true, 500},
        {"min_requests_per_s", true, 2},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bg_threshold t = th(names[i].name, names[i].limit);
        ck_assert_str_eq(t.name, names[i].name);
        ck_assert_str_eq(t.metric, names[i].name);
        ck_assert_str_eq(t.tag, "");
        ck_assert_double_eq(t.limit, names[i].limit);
        ck_assert_msg(t.is_min == names[i].is_min, "%s", names[i].name);
    }
}
END_TEST

START_TEST(parse_tagged_pass_rate_keeps_name_and_tag)
{
    bg_threshold t = th("pass_rate[safety]", 1);
    ck_assert_str_eq(t.name, "pass_rate[safety]");
    ck_assert_str_eq(t.metric, "pass_rate");
    ck_assert_str_eq(t.tag, "safety");
    ck_assert(t.is_min);
}
END_TEST

START_TEST(parse_unknown_name_suggests_and_lists_known_names)
{
    ck_assert_str_eq(parse_error("p59_ms", 2500),
                     "unknown threshold \"p59_ms\" (did you mean \"p95_ms\"?); known: "
                     "pass_rate, error_rate, p50_ms, p90_ms, p95_ms, p99_ms, max_ms, "
                     "ttft_p50_ms, ttft_p95_ms, ttft_p99_ms, itl_p95_ms, tpot_p50_ms, "
                     "tpot_p95_ms, min_output_tokens_per_s, min_requests_per_s, "
                     "max_pass_rate_drop, max_latency_ratio, max_ttft_ratio, pass_rate[TAG]");
}
END_TEST

START_TEST(parse_unknown_name_suggestions)
{
    ck_assert_ptr_nonnull(strstr(parse_error("ttft_p95", 1), "(did you mean \"ttft_p95_ms\"?)"));
    ck_assert_ptr_nonnull(strstr(parse_error("P95_MS", 1), "(did you mean \"p95_ms\"?)"));
    ck_assert_ptr_nonnull(strstr(parse_error("errors_rate", 1), "(did you mean \"error_rate\"?)"));
    ck_assert_ptr_nonnull(strstr(parse_error("min_output_token_per_s", 1),
                                 "(did you mean \"min_output_tokens_per_s\"?)"));
    ck_assert_ptr_nonnull(
        strstr(parse_error("pass_rat[safety]", 1),
               "unknown threshold \"pass_rat[safety]\" (did you mean \"pass_rate[safety]\"?)"));
    const char *msg = parse_error("banana", 1);
    ck_assert_ptr_null(strstr(msg, "did you mean"));
    ck_assert_ptr_nonnull(strstr(msg, "unknown threshold \"banana\"; known: pass_rate,"));
}
END_TEST

START_TEST(parse_rejects_malformed_tags)
{
    ck_assert_str_eq(parse_error("pass_rate[]", 1), "pass_rate[]: empty tag");
    ck_assert_str_eq(parse_error("pass_rate[x", 1), "pass_rate[x: expected pass_rate[TAG]");
    ck_assert_str_eq(parse_error("pass_rate[x]y", 1), "pass_rate[x]y: expected pass_rate[TAG]");
    ck_assert_str_eq(parse_error("pass_rate[a]b]", 1), "pass_rate[a]b]: expected pass_rate[TAG]");
    ck_assert_str_eq(parse_error("p95_ms[safety]", 1),
                     "p95_ms[safety]: only pass_rate takes a tag (pass_rate[TAG])");
    char longname[90], want[160];
    memset(longname, 0, sizeof longname);
    memcpy(longname, "pass_rate[", 10);
    memset(longname + 10, 't', 64);
    longname[74] = ']';
    snprintf(want, sizeof want, "%s: tag longer than 63 bytes", longname);
    ck_assert_str_eq(parse_error(longname, 1), want);
    longname[73] = ']'; /* 63 bytes fit */
    longname[74] = '\0';
    ck_assert_str_eq(th(longname, 1).tag + 60, "ttt");
    ck_assert_str_eq(parse_error("", 1), "empty threshold name");
}
END_TEST

START_TEST(parse_rejects_limits_out_of_range)
{
    ck_assert_str_eq(parse_error("pass_rate", 1.5), "pass_rate: must be between 0 and 1, got 1.5");
    ck_assert_str_eq(parse_error("pass_rate[safety]", -0.1),
                     "pass_rate[safety]: must be between 0 and 1, got -0.1");
    ck_assert_str_eq(parse_error("error_rate", 2), "error_rate: must be between 0 and 1, got 2");
    ck_assert_str_eq(parse_error("p95_ms", -1), "p95_ms: must be 0 or more, got -1");
    ck_assert_str_eq(parse_error("min_requests_per_s", -3),
                     "min_requests_per_s: must be 0 or more, got -3");
    ck_assert_str_eq(parse_error("p95_ms", NAN), "p95_ms: must be a finite number");
    ck_assert_str_eq(parse_error("p95_ms", INFINITY), "p95_ms: must be a finite number");
    /* the boundaries themselves are fine */
    th("pass_rate", 0);
    th("pass_rate", 1);
    th("error_rate", 0);
    th("p99_ms", 0);
}
END_TEST

START_TEST(parse_arg_reads_name_equals_value)
{
    bg_threshold t;
    bg_error err = {0};
    ck_assert_int_eq(bg_threshold_parse_arg(&t, "p95_ms=2500", &err), 0);
    ck_assert_str_eq(t.name, "p95_ms");
    ck_assert_double_eq(t.limit, 2500);
    ck_assert_int_eq(bg_threshold_parse_arg(&t, "pass_rate[safety]=0.99", &err), 0);
    ck_assert_str_eq(t.tag, "safety");
    ck_assert_double_eq(t.limit, 0.99);
    ck_assert_int_eq(bg_threshold_parse_arg(&t, " ttft_p95_ms = 400 ", &err), 0);
    ck_assert_str_eq(t.name, "ttft_p95_ms");
    ck_assert_double_eq(t.limit, 400);
    ck_assert_int_eq(bg_threshold_parse_arg(&t, "error_rate=1e-2", &err), 0);
    ck_assert_double_eq_tol(t.limit, 0.01, 1e-15);
}
END_TEST

START_TEST(parse_arg_rejects_bad_values_with_pinned_messages)
{
    ck_assert_str_eq(arg_error("p95_ms=fast"), "p95_ms=fast: not a number");
    ck_assert_str_eq(arg_error("p95_ms=25ms"), "p95_ms=25ms: not a number");
    ck_assert_str_eq(arg_error("p95_ms=nan"), "p95_ms=nan: not a number");
    ck_assert_str_eq(arg_error("p95_ms="), "p95_ms=: missing value after \"=\"");
    ck_assert_str_eq(arg_error("=5"), "\"=5\": missing threshold name before \"=\"");
    ck_assert_str_eq(arg_error("p95_ms"), "\"p95_ms\": expected NAME=VALUE (e.g. p95_ms=2500)");
    ck_assert_str_eq(arg_error("pass_rate=1.5"), "pass_rate: must be between 0 and 1, got 1.5");
    ck_assert_ptr_nonnull(strstr(arg_error("p59_ms=100"), "(did you mean \"p95_ms\"?)"));
}
END_TEST

/* --- evaluation --- */

/* 20 passing cases with e2e 100, 200, ..., 2000 ms: p95 = 1905. */
static bg_run *run_20_passing(void)
{
    bg_run *run = make_run(20, 0);
    for (int i = 0; i < 20; i++)
        add_req(run, (uint32_t)i, true, 100.0 * (i + 1));
    finish(run);
    return run;
}

START_TEST(evaluate_passes_when_every_threshold_is_met)
{
    bg_run *run = run_20_passing();
    bg_threshold ths[] = {th("p95_ms", 2500)};
    evaluate(run, ths, 1);
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    ck_assert_ptr_null(run->verdict_reason);
    ck_assert_uint_eq(run->n_thresholds, 2);
    /* the implicit pass_rate >= 1 comes first */
    ck_assert_str_eq(run->thresholds[0].th.name, "pass_rate");
    ck_assert_int_eq(run->thresholds[0].status, BG_TH_PASS);
    ck_assert_str_eq(run->thresholds[0].text,
                     "pass_rate \xE2\x89\xA5 1: measured 1.00 (95% CI 0.84\xE2\x80\x93"
                     "1.00)");
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_PASS);
    ck_assert_double_eq_tol(run->thresholds[1].measured, 1905, 1e-9);
    ck_assert_uint_eq(run->thresholds[1].samples, 20);
    ck_assert_str_eq(run->thresholds[1].text, "p95_ms \xE2\x89\xA4 2500: measured 1905");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_fails_a_latency_threshold_and_names_it)
{
    bg_run *run = run_20_passing();
    bg_threshold ths[] = {th("p95_ms", 1500), th("p50_ms", 2000)};
    evaluate(run, ths, 2);
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_FAIL);
    ck_assert_str_eq(run->thresholds[1].text, "p95_ms \xE2\x89\xA4 1500: measured 1905");
    ck_assert_int_eq(run->thresholds[2].status, BG_TH_PASS);
    ck_assert_str_eq(run->verdict_reason,
                     "1 of 3 thresholds not met: p95_ms \xE2\x89\xA4 1500 (measured 1905)");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_shows_more_digits_when_a_failure_rounds_to_the_limit)
{
    bg_run *run = make_run(20, 0);
    for (int i = 0; i < 19; i++)
        add_req(run, (uint32_t)i, true, 100.0 * (i + 1));
    add_req(run, 19, true, 2008); /* p95 = 1900 + 0.05 * 108 = 1905.4 */
    finish(run);
    bg_threshold ths[] = {th("p95_ms", 1905)};
    evaluate(run, ths, 1);
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_FAIL);
    ck_assert_str_eq(run->thresholds[1].text, "p95_ms \xE2\x89\xA4 1905: measured 1905.4");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_is_inconclusive_with_too_few_samples)
{
    bg_run *run = make_run(12, 0);
    for (int i = 0; i < 12; i++)
        add_req(run, (uint32_t)i, true, 100);
    finish(run);
    bg_threshold ths[] = {th("p99_ms", 2500), th("p90_ms", 2500)};
    evaluate(run, ths, 2);
    const bg_threshold_result *r = &run->thresholds[1];
    ck_assert_int_eq(r->status, BG_TH_INCONCLUSIVE);
    ck_assert(isnan(r->measured));
    ck_assert_uint_eq(r->samples, 12);
    ck_assert_str_eq(r->text, "p99_ms \xE2\x89\xA4 2500: inconclusive (12 samples, need 100)");
    ck_assert_int_eq(run->thresholds[2].status, BG_TH_PASS); /* p90 needs 10 */
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    ck_assert_str_eq(run->verdict_reason, "1 of 3 thresholds not met: p99_ms inconclusive");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_streaming_metrics_without_samples_ask_for_stream)
{
    bg_run *run = run_20_passing();
    bg_threshold ths[] = {th("ttft_p95_ms", 400), th("itl_p95_ms", 50), th("tpot_p50_ms", 20)};
    evaluate(run, ths, 3);
    ck_assert_str_eq(run->thresholds[1].text,
                     "ttft_p95_ms \xE2\x89\xA4 400: inconclusive (not measured: enable --stream)");
    ck_assert_str_eq(run->thresholds[2].text,
                     "itl_p95_ms \xE2\x89\xA4 50: inconclusive (not measured: enable --stream)");
    ck_assert_int_eq(run->thresholds[3].status, BG_TH_INCONCLUSIVE);
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    ck_assert_str_eq(run->verdict_reason, "3 of 4 thresholds not met: ttft_p95_ms inconclusive; "
                                          "itl_p95_ms inconclusive; tpot_p50_ms inconclusive");
    bg_run_free(run);
}
END_TEST

/* A streamed run whose answers were all one token long: TTFT measured, ITL/TPOT not, and
 * the text must not tell the user to enable a streaming that was on. */
START_TEST(evaluate_streamed_run_without_two_token_answers_says_so)
{
    bg_run *run = run_20_passing();
    run->stream = true;
    bg_threshold ths[] = {th("itl_p95_ms", 50), th("tpot_p50_ms", 20)};
    evaluate(run, ths, 2);
    ck_assert_str_eq(run->thresholds[1].text,
                     "itl_p95_ms \xE2\x89\xA4 50: inconclusive (0 samples: no streamed answer had "
                     "more than one token)");
    ck_assert_int_eq(run->thresholds[2].status, BG_TH_INCONCLUSIVE);
    ck_assert_ptr_null(strstr(run->thresholds[2].text, "enable --stream"));
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_streaming_metrics_use_their_samples)
{
    bg_run *run = make_run(20, 0);
    for (int i = 0; i < 20; i++) {
        bg_request_record r;
        memset(&r, 0, sizeof r);
        r.kase = (uint32_t)i;
        r.passed = true;
        r.e2e_ms = 500;
        r.ttft_ms = 7.0 * (i + 1); /* 7 .. 140: p95 133.35, p50 73.5 */
        r.tpot_ms = -1;
        ck_assert_int_eq(bg_run_add_request(run, &r), 0);
    }
    ck_assert_int_eq(bg_samples_add(&run->overall.itl, 12), 0); /* the runner adds ITL */
    finish(run);
    bg_threshold ths[] = {th("ttft_p95_ms", 100), th("ttft_p50_ms", 80), th("itl_p95_ms", 50)};
    evaluate(run, ths, 3);
    ck_assert_str_eq(run->thresholds[1].text, "ttft_p95_ms \xE2\x89\xA4 100: measured 133");
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_FAIL);
    ck_assert_str_eq(run->thresholds[2].text, "ttft_p50_ms \xE2\x89\xA4 80: measured 73.5");
    ck_assert_int_eq(run->thresholds[2].status, BG_TH_PASS);
    /* one ITL sample is not enough for a p95 */
    ck_assert_str_eq(run->thresholds[3].text,
                     "itl_p95_ms \xE2\x89\xA4 50: inconclusive (1 sample, need 20)");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_max_ms_needs_one_sample)
{
    bg_run *run = make_run(1, 0);
    add_req(run, 0, true, 42.24);
    finish(run);
    bg_threshold ths[] = {th("max_ms", 50)};
    evaluate(run, ths, 1);
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_PASS);
    ck_assert_str_eq(run->thresholds[1].text, "max_ms \xE2\x89\xA4 50: measured 42.2");
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_reason_names_first_failures_like_the_docs)
{
    bg_run *run = make_run(10, 0);
    for (int i = 0; i < 10; i++)
        add_req(run, (uint32_t)i, i < 8, 300);
    finish(run);
    bg_threshold ths[] = {th("pass_rate", 0.95), th("p95_ms", 2500), th("error_rate", 0.5)};
    evaluate(run, ths, 3);
    ck_assert_uint_eq(run->n_thresholds, 3); /* no implicit pass_rate */
    ck_assert_str_eq(run->thresholds[0].text,
                     "pass_rate \xE2\x89\xA5 0.95: measured 0.80 (95% CI 0.49\xE2\x80\x93"
                     "0.94)");
    ck_assert_int_eq(run->thresholds[2].status, BG_TH_PASS);
    ck_assert_str_eq(run->verdict_reason,
                     "2 of 3 thresholds not met: pass_rate \xE2\x89\xA5 0.95 (measured 0.80); "
                     "p95_ms inconclusive");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_pass_rate_equal_to_limit_passes)
{
    bg_run *run = make_run(10, 0);
    for (int i = 0; i < 10; i++)
        add_req(run, (uint32_t)i, i < 8, 300);
    finish(run);
    bg_threshold ths[] = {th("pass_rate", 0.8)};
    evaluate(run, ths, 1);
    ck_assert_int_eq(run->thresholds[0].status, BG_TH_PASS);
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_implicit_pass_rate_requires_every_case)
{
    bg_run *run = make_run(10, 0);
    for (int i = 0; i < 10; i++)
        add_req(run, (uint32_t)i, i != 3, 300);
    finish(run);
    evaluate(run, NULL, 0);
    ck_assert_uint_eq(run->n_thresholds, 1);
    ck_assert_str_eq(run->thresholds[0].th.name, "pass_rate");
    ck_assert_double_eq(run->thresholds[0].th.limit, 1);
    ck_assert_int_eq(run->thresholds[0].status, BG_TH_FAIL);
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    ck_assert_str_eq(run->verdict_reason,
                     "1 of 1 threshold not met: pass_rate \xE2\x89\xA5 1 (measured 0.90)");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_per_tag_pass_rate_uses_tagged_cases_only)
{
    bg_run *run = make_run(10, 4); /* c0..c3 tagged safety; c2 fails */
    for (int i = 0; i < 10; i++)
        add_req(run, (uint32_t)i, i != 2, 300);
    finish(run);
    bg_threshold ths[] = {th("pass_rate[safety]", 0.9), th("pass_rate[nope]", 0.5)};
    evaluate(run, ths, 2);
    /* tagged-only thresholds still get the implicit overall pass_rate >= 1 */
    ck_assert_uint_eq(run->n_thresholds, 3);
    ck_assert_str_eq(run->thresholds[0].th.name, "pass_rate");
    const bg_threshold_result *r = &run->thresholds[1];
    ck_assert_int_eq(r->status, BG_TH_FAIL);
    ck_assert_double_eq_tol(r->measured, 0.75, 1e-12);
    ck_assert_uint_eq(r->samples, 4);
    ck_assert_str_eq(r->text, "pass_rate[safety] \xE2\x89\xA5 0.9: measured 0.75 "
                              "(95% CI 0.30\xE2\x80\x93"
                              "0.95)");
    ck_assert_int_eq(run->thresholds[2].status, BG_TH_INCONCLUSIVE);
    ck_assert_str_eq(run->thresholds[2].text,
                     "pass_rate[nope] \xE2\x89\xA5 0.5: inconclusive (no cases tagged \"nope\")");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_per_tag_pass_rate_can_pass_while_others_fail)
{
    bg_run *run = make_run(10, 4);
    for (int i = 0; i < 10; i++)
        add_req(run, (uint32_t)i, i != 7, 300); /* the failure is untagged */
    finish(run);
    bg_threshold ths[] = {th("pass_rate[safety]", 1), th("pass_rate", 0.9)};
    evaluate(run, ths, 2);
    ck_assert_uint_eq(run->n_thresholds, 2);
    ck_assert_int_eq(run->thresholds[0].status, BG_TH_PASS);
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_PASS);
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_without_runs_is_inconclusive)
{
    bg_run *run = make_run(3, 0);
    finish(run);
    bg_threshold ths[] = {th("error_rate", 0.1), th("min_requests_per_s", 1)};
    evaluate(run, ths, 2);
    ck_assert_str_eq(run->thresholds[0].text,
                     "pass_rate \xE2\x89\xA5 1: inconclusive (no case ran)");
    ck_assert_str_eq(run->thresholds[1].text,
                     "error_rate \xE2\x89\xA4 0.1: inconclusive (no requests)");
    ck_assert_int_eq(run->thresholds[2].status, BG_TH_INCONCLUSIVE);
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_error_rate_counts_failed_requests)
{
    bg_run *run = make_run(20, 0);
    for (int i = 0; i < 19; i++)
        add_req(run, (uint32_t)i, true, 300);
    bg_request_record r;
    memset(&r, 0, sizeof r);
    r.kase = 19;
    r.error = BG_REQ_TIMEOUT;
    r.e2e_ms = 30000;
    r.ttft_ms = r.tpot_ms = -1;
    ck_assert_int_eq(bg_run_add_request(run, &r), 0);
    finish(run);
    bg_threshold ths[] = {th("error_rate", 0.01), th("pass_rate", 0.9)};
    evaluate(run, ths, 2);
    ck_assert_int_eq(run->thresholds[0].status, BG_TH_FAIL);
    ck_assert_str_eq(run->thresholds[0].text,
                     "error_rate \xE2\x89\xA4 0.01: measured 0.05 (1 of 20 requests)");
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_PASS);
    ck_assert_str_eq(run->verdict_reason,
                     "1 of 2 thresholds not met: error_rate \xE2\x89\xA4 0.01 (measured 0.05)");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_throughput_floors)
{
    bg_run *run = make_run(4, 0);
    for (int i = 0; i < 4; i++) {
        bg_request_record r;
        memset(&r, 0, sizeof r);
        r.kase = (uint32_t)i;
        r.passed = true;
        r.start_ms = 500.0 * i;
        r.e2e_ms = 500; /* 0 .. 2000 ms: 2 req/s */
        r.ttft_ms = r.tpot_ms = -1;
        r.output_tokens = 250; /* 1000 tokens / 2 s */
        ck_assert_int_eq(bg_run_add_request(run, &r), 0);
    }
    finish(run);
    bg_threshold ths[] = {th("min_requests_per_s", 1.5), th("min_output_tokens_per_s", 600)};
    evaluate(run, ths, 2);
    ck_assert_str_eq(run->thresholds[1].text, "min_requests_per_s \xE2\x89\xA5 1.5: measured 2.0");
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_PASS);
    ck_assert_str_eq(run->thresholds[2].text,
                     "min_output_tokens_per_s \xE2\x89\xA5 600: measured 500");
    ck_assert_int_eq(run->thresholds[2].status, BG_TH_FAIL);
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_tokens_per_s_without_usage_is_inconclusive)
{
    bg_run *run = run_20_passing(); /* output_tokens -1 everywhere */
    bg_threshold ths[] = {th("min_output_tokens_per_s", 10)};
    evaluate(run, ths, 1);
    ck_assert_int_eq(run->thresholds[1].status, BG_TH_INCONCLUSIVE);
    ck_assert_str_eq(run->thresholds[1].text, "min_output_tokens_per_s \xE2\x89\xA5 10: "
                                              "inconclusive (the server reported no token counts)");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_reason_summarises_beyond_three_failures)
{
    bg_run *run = make_run(5, 0);
    for (int i = 0; i < 5; i++)
        add_req(run, (uint32_t)i, false, 300);
    finish(run);
    bg_threshold ths[] = {th("p95_ms", 1), th("p99_ms", 1), th("max_ms", 1), th("p50_ms", 1)};
    evaluate(run, ths, 4);
    ck_assert_str_eq(run->verdict_reason,
                     "5 of 5 thresholds not met: pass_rate \xE2\x89\xA5 1 (measured 0.00); "
                     "p95_ms inconclusive; p99_ms inconclusive; and 2 more");
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_twice_replaces_previous_results)
{
    bg_run *run = run_20_passing();
    bg_threshold fail[] = {th("p95_ms", 10)};
    evaluate(run, fail, 1);
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    ck_assert_ptr_nonnull(run->verdict_reason);
    bg_threshold ok[] = {th("p95_ms", 10000), th("pass_rate", 1)};
    evaluate(run, ok, 2);
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    ck_assert_ptr_null(run->verdict_reason);
    ck_assert_uint_eq(run->n_thresholds, 2);
    bg_run_free(run);
}
END_TEST

START_TEST(evaluate_rejects_an_unknown_hand_built_threshold)
{
    bg_run *run = run_20_passing();
    bg_threshold bad;
    memset(&bad, 0, sizeof bad);
    memcpy(bad.name, "p42_ms", 7);
    memcpy(bad.metric, "p42_ms", 7);
    bg_error err = {0};
    ck_assert_int_eq(bg_gate_evaluate(run, &bad, 1, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "unknown threshold \"p42_ms\"");
    ck_assert_uint_eq(run->n_thresholds, 0);
    bg_run_free(run);
}
END_TEST

START_TEST(status_and_verdict_names)
{
    ck_assert_str_eq(bg_th_status_name(BG_TH_PASS), "pass");
    ck_assert_str_eq(bg_th_status_name(BG_TH_FAIL), "fail");
    ck_assert_str_eq(bg_th_status_name(BG_TH_INCONCLUSIVE), "inconclusive");
    ck_assert_str_eq(bg_verdict_name(BG_VERDICT_PASSED), "passed");
    ck_assert_str_eq(bg_verdict_name(BG_VERDICT_FAILED), "failed");
    ck_assert_str_eq(bg_verdict_name(BG_VERDICT_ERROR), "error");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("gate");
    TCase *parse = tcase_create("parse");
    tcase_add_test(parse, parse_accepts_every_documented_name);
    tcase_add_test(parse, parse_tagged_pass_rate_keeps_name_and_tag);
    tcase_add_test(parse, parse_unknown_name_suggests_and_lists_known_names);
    tcase_add_test(parse, parse_unknown_name_suggestions);
    tcase_add_test(parse, parse_rejects_malformed_tags);
    tcase_add_test(parse, parse_rejects_limits_out_of_range);
    tcase_add_test(parse, parse_arg_reads_name_equals_value);
    tcase_add_test(parse, parse_arg_rejects_bad_values_with_pinned_messages);
    suite_add_tcase(s, parse);
    TCase *ev = tcase_create("evaluate");
    tcase_add_test(ev, evaluate_passes_when_every_threshold_is_met);
    tcase_add_test(ev, evaluate_fails_a_latency_threshold_and_names_it);
    tcase_add_test(ev, evaluate_shows_more_digits_when_a_failure_rounds_to_the_limit);
    tcase_add_test(ev, evaluate_is_inconclusive_with_too_few_samples);
    tcase_add_test(ev, evaluate_streaming_metrics_without_samples_ask_for_stream);
    tcase_add_test(ev, evaluate_streamed_run_without_two_token_answers_says_so);
    tcase_add_test(ev, evaluate_streaming_metrics_use_their_samples);
    tcase_add_test(ev, evaluate_max_ms_needs_one_sample);
    tcase_add_test(ev, evaluate_reason_names_first_failures_like_the_docs);
    tcase_add_test(ev, evaluate_pass_rate_equal_to_limit_passes);
    tcase_add_test(ev, evaluate_implicit_pass_rate_requires_every_case);
    tcase_add_test(ev, evaluate_per_tag_pass_rate_uses_tagged_cases_only);
    tcase_add_test(ev, evaluate_per_tag_pass_rate_can_pass_while_others_fail);
    tcase_add_test(ev, evaluate_without_runs_is_inconclusive);
    tcase_add_test(ev, evaluate_error_rate_counts_failed_requests);
    tcase_add_test(ev, evaluate_throughput_floors);
    tcase_add_test(ev, evaluate_tokens_per_s_without_usage_is_inconclusive);
    tcase_add_test(ev, evaluate_reason_summarises_beyond_three_failures);
    tcase_add_test(ev, evaluate_twice_replaces_previous_results);
    tcase_add_test(ev, evaluate_rejects_an_unknown_hand_built_threshold);
    tcase_add_test(ev, status_and_verdict_names);
    suite_add_tcase(s, ev);
    return s;
}

BG_CHECK_MAIN()
