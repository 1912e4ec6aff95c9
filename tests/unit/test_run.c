/* test_run.c — the run model: allocation and ownership, request records, model names,
 * and the per-suite / overall / per-tag aggregates bg_run_finish derives. */
#include <math.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/run.h"
#include "bggate/suite.h"

/* Two suites: "a" (weights 2 and 1, tags) and "b" (one case). */
static const char SUITE_A[] =
    "{\"id\": \"a0\", \"prompt\": \"x\", \"weight\": 2, \"tags\": [\"safety\", \"math\"]}\n"
    "{\"id\": \"a1\", \"prompt\": \"y\", \"tags\": [\"math\", \"math\"]}\n";
static const char SUITE_B[] = "{\"id\": \"b0\", \"prompt\": \"z\", \"tags\": [\"safety\"]}\n";

static bg_run *make_run(void)
{
    bg_error err = {0};
    bg_suite **suites = calloc(2, sizeof *suites);
    ck_assert_ptr_nonnull(suites);
    ck_assert_msg(bg_suite_parse(&suites[0], "evals/a.jsonl", SUITE_A, strlen(SUITE_A), &err) == 0,
                  "%s", err.msg);
    ck_assert_msg(bg_suite_parse(&suites[1], "evals/b.jsonl", SUITE_B, strlen(SUITE_B), &err) == 0,
                  "%s", err.msg);
    bg_run *run = NULL;
    ck_assert_int_eq(bg_run_new(&run, suites, 2, &err), 0);
    ck_assert_ptr_nonnull(run);
    return run;
}

static bg_request_record rec(uint32_t suite, uint32_t kase, bool passed, double start, double e2e)
{
    bg_request_record r;
    memset(&r, 0, sizeof r);
    r.suite = suite;
    r.kase = kase;
    r.passed = passed;
    r.model = -1;
    r.output_tokens = -1;
    r.start_ms = start;
    r.e2e_ms = e2e;
    r.ttft_ms = -1;
    r.tpot_ms = -1;
    r.http_status = 200;
    return r;
}

static void add(bg_run *run, bg_request_record r)
{
    ck_assert_int_eq(bg_run_add_request(run, &r), 0);
}

static void finish(bg_run *run)
{
    bg_error err = {0};
    ck_assert_msg(bg_run_finish(run, &err) == 0, "%s", err.msg);
}

START_TEST(run_new_allocates_empty_case_results_and_aggregates)
{
    bg_run *run = make_run();
    ck_assert_uint_eq(run->n_suites, 2);
    ck_assert_uint_eq(bg_run_case_count(run), 3);
    ck_assert_uint_eq(run->cases[0][1].runs, 0);
    ck_assert_ptr_null(run->cases[0][1].failure);
    ck_assert_uint_eq(run->cases[1][0].passed, 0);
    ck_assert(isnan(run->overall.pass_rate));
    ck_assert(isnan(run->per_suite[1].pass_rate));
    ck_assert_uint_eq(run->n_reqs, 0);
    bg_run_free(run);
    bg_run_free(NULL);
}
END_TEST

START_TEST(run_free_releases_everything_the_runner_fills)
{
    /* Valgrind/ASan check: strings and arrays placed in the run are freed with it. */
    bg_run *run = make_run();
    run->cases[0][0].failure = strdup("expected to contain 'Paris'");
    run->cases[0][0].excerpt = strdup("The capital is Lyon");
    run->cases[0][0].error = strdup("HTTP 500");
    run->cases[0][0].asserts = calloc(2, sizeof(bg_assert_result));
    run->model = strdup("llama");
    run->verdict_reason = strdup("no");
    run->endpoints = calloc(1, sizeof(char *));
    run->endpoints[0] = strdup("http://127.0.0.1:8000/v1");
    run->n_endpoints = 1;
    ck_assert_int_eq(bg_run_intern_model(run, "llama"), 0);
    ck_assert_int_eq(bg_samples_add(&run->overall.itl, 3), 0);
    add(run, rec(0, 0, true, 0, 10));
    finish(run);
    bg_run_free(run);
}
END_TEST

START_TEST(add_request_rejects_indexes_outside_the_suites)
{
    bg_run *run = make_run();
    bg_request_record r = rec(2, 0, true, 0, 1);
    ck_assert_int_eq(bg_run_add_request(run, &r), BG_EINVAL);
    r = rec(1, 1, true, 0, 1);
    ck_assert_int_eq(bg_run_add_request(run, &r), BG_EINVAL);
    ck_assert_uint_eq(run->n_reqs, 0);
    for (int i = 0; i < 1000; i++) /* grows past the first allocation */
        add(run, rec(0, 1, true, i, 1));
    ck_assert_uint_eq(run->n_reqs, 1000);
    ck_assert_double_eq(run->reqs[999].start_ms, 999);
    bg_run_free(run);
}
END_TEST

START_TEST(intern_model_returns_stable_indexes)
{
    bg_run *run = make_run();
    ck_assert_int_eq(bg_run_intern_model(run, "m1"), 0);
    ck_assert_int_eq(bg_run_intern_model(run, "m2"), 1);
    ck_assert_int_eq(bg_run_intern_model(run, "m1"), 0);
    ck_assert_int_eq(bg_run_intern_model(run, NULL), -1);
    ck_assert_int_eq(bg_run_intern_model(run, ""), -1);
    ck_assert_uint_eq(run->n_models, 2);
    ck_assert_str_eq(run->models[1], "m2");
    bg_run_free(run);
}
END_TEST

START_TEST(req_error_names_are_stable)
{
    ck_assert_str_eq(bg_req_error_name(BG_REQ_OK), "ok");
    ck_assert_str_eq(bg_req_error_name(BG_REQ_CONNECT), "connect");
    ck_assert_str_eq(bg_req_error_name(BG_REQ_TIMEOUT), "timeout");
    ck_assert_str_eq(bg_req_error_name(BG_REQ_HTTP), "http");
    ck_assert_str_eq(bg_req_error_name(BG_REQ_MALFORMED), "malformed");
    ck_assert_str_eq(bg_req_error_name(BG_REQ_OTHER), "other");
}
END_TEST

START_TEST(finish_counts_requests_errors_by_kind_and_retries)
{
    bg_run *run = make_run();
    bg_request_record r;
    add(run, rec(0, 0, true, 0, 100));
    r = rec(0, 1, false, 0, 200);
    r.error = BG_REQ_TIMEOUT;
    r.retries = 2;
    add(run, r);
    r = rec(1, 0, false, 10, 50);
    r.error = BG_REQ_HTTP;
    r.http_status = 500;
    add(run, r);
    r = rec(1, 0, false, 20, 50);
    r.error = BG_REQ_HTTP;
    r.retries = 1;
    add(run, r);
    finish(run);

    const bg_aggregate *o = &run->overall;
    ck_assert_uint_eq(o->requests, 4);
    ck_assert_uint_eq(o->runs, 4);
    ck_assert_uint_eq(o->runs_passed, 1);
    ck_assert_uint_eq(o->errors, 3);
    ck_assert_uint_eq(o->retries, 3);
    ck_assert_uint_eq(o->errors_by_kind[BG_REQ_TIMEOUT], 1);
    ck_assert_uint_eq(o->errors_by_kind[BG_REQ_HTTP], 2);
    ck_assert_uint_eq(o->errors_by_kind[BG_REQ_CONNECT], 0);
    ck_assert_uint_eq(o->errors_by_kind[BG_REQ_OK], 0);
    ck_assert_double_eq_tol(o->error_rate, 0.75, 1e-12);
    /* e2e only from requests that got an answer */
    ck_assert_uint_eq(o->e2e.n, 1);
    ck_assert_double_eq(bg_samples_max(&o->e2e), 100);

    ck_assert_uint_eq(run->per_suite[0].requests, 2);
    ck_assert_uint_eq(run->per_suite[0].errors, 1);
    ck_assert_uint_eq(run->per_suite[1].errors_by_kind[BG_REQ_HTTP], 2);
    ck_assert_double_eq_tol(run->per_suite[1].error_rate, 1.0, 1e-12);
    ck_assert_uint_eq(run->per_suite[1].e2e.n, 0);
    bg_run_free(run);
}
END_TEST

START_TEST(finish_weights_pass_rate_by_case_weight)
{
    bg_run *run = make_run();
    add(run, rec(0, 0, true, 0, 10));  /* weight 2, passed */
    add(run, rec(0, 1, false, 0, 10)); /* weight 1, failed */
    finish(run);
    const bg_aggregate *a = &run->per_suite[0];
    ck_assert_double_eq_tol(a->weight_total, 3, 1e-12);
    ck_assert_double_eq_tol(a->weight_passed, 2, 1e-12);
    ck_assert_double_eq_tol(a->pass_rate, 2.0 / 3.0, 1e-12);
    /* The interval is on runs (1 of 2), not weights. */
    double lo, hi;
    bg_wilson(&lo, &hi, 1, 2, 1.96);
    ck_assert_double_eq_tol(a->pass_lo, lo, 1e-12);
    ck_assert_double_eq_tol(a->pass_hi, hi, 1e-12);
    ck_assert(isnan(run->per_suite[1].pass_rate)); /* suite b never ran */
    ck_assert(isnan(run->per_suite[1].error_rate));
    bg_run_free(run);
}
END_TEST

START_TEST(finish_falls_back_to_run_count_when_all_weights_are_zero)
{
    static const char text[] = "{\"id\": \"z0\", \"prompt\": \"x\", \"weight\": 0}\n"
                               "{\"id\": \"z1\", \"prompt\": \"x\", \"weight\": 0}\n";
    bg_error err = {0};
    bg_suite **suites = calloc(1, sizeof *suites);
    ck_assert_int_eq(bg_suite_parse(&suites[0], "z.jsonl", text, strlen(text), &err), 0);
    bg_run *run = NULL;
    ck_assert_int_eq(bg_run_new(&run, suites, 1, &err), 0);
    add(run, rec(0, 0, true, 0, 10));
    add(run, rec(0, 1, false, 0, 10));
    add(run, rec(0, 1, true, 0, 10));
    add(run, rec(0, 1, true, 0, 10));
    finish(run);
    ck_assert_double_eq_tol(run->overall.pass_rate, 0.75, 1e-12);
    bg_run_free(run);
}
END_TEST

START_TEST(finish_takes_ttft_tpot_and_tokens_only_when_measured)
{
    bg_run *run = make_run();
    bg_request_record r = rec(0, 0, true, 0, 100);
    r.ttft_ms = 20;
    r.tpot_ms = 4;
    r.output_tokens = 21;
    add(run, r);
    r = rec(0, 1, true, 0, 100); /* not streamed, no usage */
    add(run, r);
    r = rec(1, 0, false, 0, 100); /* truncated stream: got a first token */
    r.error = BG_REQ_MALFORMED;
    r.ttft_ms = 30;
    r.output_tokens = 5;
    add(run, r);
    finish(run);
    ck_assert_uint_eq(run->overall.ttft.n, 2);
    ck_assert_uint_eq(run->overall.tpot.n, 1);
    ck_assert_int_eq(run->overall.output_tokens, 26);
    ck_assert_uint_eq(run->per_suite[0].ttft.n, 1);
    ck_assert_int_eq(run->per_suite[1].output_tokens, 5);
    bg_run_free(run);
}
END_TEST

START_TEST(finish_derives_durations_and_throughput_from_request_spans)
{
    bg_run *run = make_run();
    bg_request_record r = rec(0, 0, true, 1000, 500); /* 1000..1500 */
    r.output_tokens = 100;
    add(run, r);
    r = rec(0, 1, true, 1200, 1800); /* 1200..3000 */
    r.output_tokens = 50;
    add(run, r);
    add(run, rec(1, 0, true, 2000, 2000)); /* 2000..4000 */
    finish(run);
    ck_assert_double_eq_tol(run->per_suite[0].duration_s, 2.0, 1e-9);
    ck_assert_double_eq_tol(run->per_suite[1].duration_s, 2.0, 1e-9);
    ck_assert_double_eq_tol(run->overall.duration_s, 3.0, 1e-9);
    ck_assert_double_eq_tol(run->overall.req_per_s, 1.0, 1e-9);
    ck_assert_double_eq_tol(run->overall.out_tok_per_s, 50.0, 1e-9);
    ck_assert_double_eq_tol(run->per_suite[0].req_per_s, 1.0, 1e-9);
    ck_assert_double_eq_tol(run->per_suite[0].out_tok_per_s, 75.0, 1e-9);

    /* The runner's own wall time wins for the whole run. */
    run->duration_s = 6.0;
    finish(run);
    ck_assert_double_eq_tol(run->overall.duration_s, 6.0, 1e-9);
    ck_assert_double_eq_tol(run->overall.req_per_s, 0.5, 1e-9);
    bg_run_free(run);
}
END_TEST

START_TEST(finish_with_no_requests_has_zero_throughput)
{
    bg_run *run = make_run();
    finish(run);
    ck_assert_uint_eq(run->overall.requests, 0);
    ck_assert_double_eq(run->overall.duration_s, 0);
    ck_assert_double_eq(run->overall.req_per_s, 0);
    ck_assert_double_eq(run->overall.out_tok_per_s, 0);
    ck_assert(isnan(run->overall.pass_rate));
    ck_assert_double_eq(run->overall.pass_lo, 0);
    ck_assert_double_eq(run->overall.pass_hi, 1);
    bg_run_free(run);
}
END_TEST

START_TEST(finish_keeps_itl_samples_and_is_repeatable)
{
    bg_run *run = make_run();
    for (int i = 1; i <= 5; i++) {
        ck_assert_int_eq(bg_samples_add(&run->overall.itl, i), 0);
        ck_assert_int_eq(bg_samples_add(&run->per_suite[0].itl, i), 0);
    }
    add(run, rec(0, 0, true, 0, 10));
    add(run, rec(0, 1, false, 0, 20));
    finish(run);
    finish(run); /* a second call recomputes instead of double counting */
    ck_assert_uint_eq(run->overall.itl.n, 5);
    ck_assert_uint_eq(run->per_suite[0].itl.n, 5);
    ck_assert_uint_eq(run->overall.requests, 2);
    ck_assert_uint_eq(run->overall.e2e.n, 2);
    ck_assert_uint_eq(run->n_tags, 2);
    ck_assert_uint_eq(run->tags[0].runs, 2);
    bg_run_free(run);
}
END_TEST

START_TEST(finish_computes_sorted_per_tag_stats)
{
    bg_run *run = make_run();
    add(run, rec(0, 0, true, 0, 10));  /* safety, math; weight 2 */
    add(run, rec(0, 1, false, 0, 10)); /* math (listed twice); weight 1 */
    add(run, rec(0, 1, true, 0, 10));
    add(run, rec(1, 0, false, 0, 10)); /* safety; weight 1 */
    finish(run);
    ck_assert_uint_eq(run->n_tags, 2);
    ck_assert_str_eq(run->tags[0].tag, "math");
    ck_assert_str_eq(run->tags[1].tag, "safety");
    const bg_tag_stat *math = &run->tags[0], *safety = &run->tags[1];
    ck_assert_uint_eq(math->runs, 3); /* the duplicate tag is counted once */
    ck_assert_uint_eq(math->runs_passed, 2);
    ck_assert_double_eq_tol(math->weight_total, 4, 1e-12);
    ck_assert_double_eq_tol(math->pass_rate, 3.0 / 4.0, 1e-12);
    ck_assert_uint_eq(safety->runs, 2);
    ck_assert_uint_eq(safety->runs_passed, 1);
    ck_assert_double_eq_tol(safety->pass_rate, 2.0 / 3.0, 1e-12);
    bg_run_free(run);
}
END_TEST

START_TEST(tag_without_requests_has_nan_pass_rate)
{
    bg_run *run = make_run();
    add(run, rec(0, 1, true, 0, 10)); /* only "math" ran */
    finish(run);
    ck_assert_uint_eq(run->n_tags, 2);
    ck_assert_str_eq(run->tags[1].tag, "safety");
    ck_assert_uint_eq(run->tags[1].runs, 0);
    ck_assert(isnan(run->tags[1].pass_rate));
    bg_run_free(run);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, run_new_allocates_empty_case_results_and_aggregates);
    tcase_add_test(tc, run_free_releases_everything_the_runner_fills);
    tcase_add_test(tc, add_request_rejects_indexes_outside_the_suites);
    tcase_add_test(tc, intern_model_returns_stable_indexes);
    tcase_add_test(tc, req_error_names_are_stable);
    tcase_add_test(tc, finish_counts_requests_errors_by_kind_and_retries);
    tcase_add_test(tc, finish_weights_pass_rate_by_case_weight);
    tcase_add_test(tc, finish_falls_back_to_run_count_when_all_weights_are_zero);
    tcase_add_test(tc, finish_takes_ttft_tpot_and_tokens_only_when_measured);
    tcase_add_test(tc, finish_derives_durations_and_throughput_from_request_spans);
    tcase_add_test(tc, finish_with_no_requests_has_zero_throughput);
    tcase_add_test(tc, finish_keeps_itl_samples_and_is_repeatable);
    tcase_add_test(tc, finish_computes_sorted_per_tag_stats);
    tcase_add_test(tc, tag_without_requests_has_nan_pass_rate);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
