/* test_runner_score.c — scoring a finished case run (src/eval/runner_score.c) without a
 * network: a case-level weighted threshold, per-case latency_ms limits, and the failure
 * reasons a user reads. A runner is built by hand around a run of one parsed suite; each
 * test hands it a "finished request" (answer text and timings) and reads the case result.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "../../src/eval/runner_internal.h"
#include "bggate/run.h"
#include "bggate/suite.h"

typedef struct fixture {
    bg_run *run;
    bg_runner_opts o;
    runner r;
} fixture;

static void fx_init(fixture *fx, const char *jsonl, bool stream)
{
    bg_error err = {0};
    bg_suite **suites = calloc(1, sizeof *suites);
    ck_assert_ptr_nonnull(suites);
    int rc = bg_suite_parse(&suites[0], "score.jsonl", jsonl, strlen(jsonl), &err);
    ck_assert_msg(rc == 0, "suite: %s", err.msg);
    ck_assert_int_eq(bg_run_new(&fx->run, suites, 1, &err), 0);
    memset(&fx->o, 0, sizeof fx->o);
    fx->o.stream = stream;
    memset(&fx->r, 0, sizeof fx->r);
    fx->r.run = fx->run;
    fx->r.o = &fx->o;
    fx->r.total = 1;
}

static void fx_dispose(fixture *fx)
{
    bg_run_free(fx->run);
}

/* Scores one successful run of case `kase` that answered `text` with these timings
 * (ttft < 0: none measured) and returns the case's result. */
static const bg_case_result *score(fixture *fx, size_t kase, const char *text, double e2e,
                                   double ttft)
{
    job j;
    memset(&j, 0, sizeof j);
    j.kase = kase;
    bg_response_init(&j.resp);
    ck_assert_int_eq(bg_buf_puts(&j.resp.text, text), 0);
    snprintf(j.resp.finish_reason, sizeof j.resp.finish_reason, "stop");
    bg_request_record rec = {.kase = (uint32_t)kase, .model = -1, .output_tokens = 5,
                             .e2e_ms = e2e, .ttft_ms = ttft, .tpot_ms = -1};
    bg_runner_score_or_wait(&fx->r, &j, &rec);
    bg_response_dispose(&j.resp);
    return &fx->run->cases[0][kase];
}

/* Three assertions weighted 1, 1 and 2: "alpha" and "beta" pass, "gamma" (weight 2) does
 * not, so the weighted share is 2/4 = 0.5. */
#define WEIGHTED(threshold)                                                                        \
    "{\"id\": \"w\", \"prompt\": \"p\", \"threshold\": " threshold ", \"assert\": ["              \
    "{\"type\": \"contains\", \"value\": \"alpha\"},"                                              \
    "{\"type\": \"contains\", \"value\": \"beta\"},"                                               \
    "{\"type\": \"contains\", \"value\": \"gamma\", \"weight\": 2}]}\n"

START_TEST(case_threshold_passes_when_the_weighted_share_reaches_it)
{
    fixture fx;
    fx_init(&fx, WEIGHTED("0.5"), false);
    const bg_case_result *cr = score(&fx, 0, "alpha beta", 100, -1);
    ck_assert_uint_eq(cr->runs, 1);
    ck_assert_uint_eq(cr->passed, 1);
    ck_assert_ptr_null(cr->failure);
    ck_assert_double_eq_tol(cr->score, 0.5, 1e-9);
    ck_assert_uint_eq(fx.r.passed, 1);
    fx_dispose(&fx);
}
END_TEST

START_TEST(case_threshold_fails_below_it_with_the_score_in_the_reason)
{
    fixture fx;
    fx_init(&fx, WEIGHTED("0.6"), false);
    const bg_case_result *cr = score(&fx, 0, "alpha beta", 100, -1);
    ck_assert_uint_eq(cr->passed, 0);
    ck_assert_ptr_nonnull(cr->failure);
    ck_assert_msg(strncmp(cr->failure, "score 0.50 < threshold 0.60: contains: ", 39) == 0,
                  "reason: %s", cr->failure);
    ck_assert_ptr_nonnull(strstr(cr->failure, "'gamma'"));
    ck_assert_double_eq_tol(cr->score, 0.5, 1e-9);
    ck_assert_uint_eq(fx.r.failed, 1);
    fx_dispose(&fx);
}
END_TEST

START_TEST(weights_decide_the_share_not_the_count)
{
    /* two of three assertions pass, but the failing one carries 2 of 4 weight units */
    fixture fx;
    fx_init(&fx, WEIGHTED("0.6"), false);
    const bg_case_result *cr = score(&fx, 0, "alpha gamma", 100, -1); /* 3/4 = 0.75 */
    ck_assert_uint_eq(cr->passed, 1);
    ck_assert_double_eq_tol(cr->score, 0.75, 1e-9);
    fx_dispose(&fx);
}
END_TEST

START_TEST(without_a_threshold_every_assertion_must_pass)
{
    fixture fx;
    fx_init(&fx,
            "{\"id\": \"all\", \"prompt\": \"p\", \"assert\": ["
            "{\"type\": \"contains\", \"value\": \"alpha\"},"
            "{\"type\": \"contains\", \"value\": \"beta\"}]}\n",
            false);
    const bg_case_result *cr = score(&fx, 0, "alpha", 100, -1);
    ck_assert_uint_eq(cr->passed, 0);
    ck_assert_msg(strncmp(cr->failure, "contains: ", 10) == 0, "reason: %s", cr->failure);
    ck_assert_ptr_null(strstr(cr->failure, "score "));
    fx_dispose(&fx);
}
END_TEST

#define LATENCY_CASES                                                                              \
    "{\"id\": \"max\", \"prompt\": \"p\", \"latency_ms\": 500, "                                   \
    "\"assert\": [{\"type\": \"contains\", \"value\": \"ok\"}]}\n"                                 \
    "{\"id\": \"ttft\", \"prompt\": \"p\", \"latency_ms\": {\"max\": 5000, \"ttft\": 200}, "       \
    "\"assert\": [{\"type\": \"contains\", \"value\": \"ok\"}]}\n"

START_TEST(latency_max_fails_a_run_whose_assertions_passed)
{
    fixture fx;
    fx_init(&fx, LATENCY_CASES, true);
    const bg_case_result *cr = score(&fx, 0, "ok", 499, 10);
    ck_assert_uint_eq(cr->passed, 1);
    cr = score(&fx, 0, "ok", 731, 10);
    ck_assert_uint_eq(cr->runs, 2);
    ck_assert_uint_eq(cr->passed, 1);
    ck_assert_str_eq(cr->failure, "latency_ms.max: e2e 731 ms > 500 ms");
    fx_dispose(&fx);
}
END_TEST

START_TEST(latency_ttft_fails_a_slow_first_token)
{
    fixture fx;
    fx_init(&fx, LATENCY_CASES, true);
    const bg_case_result *cr = score(&fx, 1, "ok", 900, 150);
    ck_assert_uint_eq(cr->passed, 1);
    cr = score(&fx, 1, "ok", 900, 250);
    ck_assert_uint_eq(cr->passed, 1);
    ck_assert_str_eq(cr->failure, "latency_ms.ttft: ttft 250 ms > 200 ms");
    fx_dispose(&fx);
}
END_TEST

/* As a `latency` assertion with metric ttft does: a ttft limit nobody could measure fails
 * the run and says why, instead of being ignored. */
START_TEST(latency_ttft_on_a_run_without_ttft_fails_and_says_why)
{
    fixture fx;
    fx_init(&fx, LATENCY_CASES, false);
    const bg_case_result *cr = score(&fx, 1, "ok", 40, -1);
    ck_assert_uint_eq(cr->passed, 0);
    ck_assert_str_eq(cr->failure, "latency_ms.ttft: ttft not measured (case not streamed)");
    fx_dispose(&fx);

    fx_init(&fx, LATENCY_CASES, true); /* streamed, but no token ever came */
    cr = score(&fx, 1, "", 40, -1);
    ck_assert_uint_eq(cr->passed, 0);
    ck_assert_ptr_nonnull(
        strstr(cr->failure, "; latency_ms.ttft: ttft not measured (no token arrived)"));
    fx_dispose(&fx);

    /* the `latency` assertion in the same situation, for comparison */
    fx_init(&fx,
            "{\"id\": \"a\", \"prompt\": \"p\", \"assert\": [{\"type\": \"latency\", "
            "\"metric\": \"ttft\", \"threshold\": 200}]}\n",
            false);
    cr = score(&fx, 0, "ok", 40, -1);
    ck_assert_uint_eq(cr->passed, 0);
    ck_assert_str_eq(cr->failure, "latency: ttft not measured (case not streamed)");
    fx_dispose(&fx);
}
END_TEST

START_TEST(a_case_stream_flag_wins_over_the_run_default)
{
    /* "stream": true in the case: no ttft means no token came, not "not streamed" */
    fixture fx;
    fx_init(&fx,
            "{\"id\": \"s\", \"prompt\": \"p\", \"stream\": true, \"latency_ms\": {\"ttft\": 100}, "
            "\"assert\": []}\n",
            false);
    const bg_case_result *cr = score(&fx, 0, "", 40, -1);
    ck_assert_uint_eq(cr->passed, 0);
    ck_assert_str_eq(cr->failure, "latency_ms.ttft: ttft not measured (no token arrived)");
    fx_dispose(&fx);
}
END_TEST

/* Where the case itself says "stream": false, both forms of a ttft limit are input errors
 * when the suite loads (file:line:column at the member), not runs that always fail. */
START_TEST(ttft_limit_on_a_case_that_is_never_streamed_is_a_load_error)
{
    static const struct {
        const char *line, *error;
    } bad[] = {
        {"{\"id\": \"a\", \"prompt\": \"p\", \"stream\": false, \"latency_ms\": {\"ttft\": 100}}\n",
         "s.jsonl:1:60: latency_ms.ttft: time to first token is measured only on streamed "
         "answers, and the case sets \"stream\": false"},
        {"{\"id\": \"a\", \"prompt\": \"p\", \"stream\": false, \"assert\": [{\"type\": "
         "\"contains\", \"value\": \"x\"}, {\"type\": \"latency\", \"metric\": \"ttft\", "
         "\"threshold\": 100}]}\n",
         "s.jsonl:1:112: assert[1].metric: time to first token is measured only on streamed "
         "answers, and the case sets \"stream\": false"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bg_suite *su = NULL;
        bg_error err = {0};
        ck_assert_int_eq(bg_suite_parse(&su, "s.jsonl", bad[i].line, strlen(bad[i].line), &err),
                         BG_EINVAL);
        ck_assert_str_eq(err.msg, bad[i].error);
        bg_suite_free(su);
    }
    /* the same limits load when the case streams, or leaves it to the run */
    const char *ok[] = {
        "{\"id\": \"a\", \"prompt\": \"p\", \"stream\": true, \"latency_ms\": {\"ttft\": 100}}\n",
        "{\"id\": \"a\", \"prompt\": \"p\", \"latency_ms\": {\"ttft\": 100}}\n",
        ("{\"id\": \"a\", \"prompt\": \"p\", \"stream\": false, \"latency_ms\": {\"max\": 100}, "
         "\"assert\": [{\"type\": \"latency\", \"threshold\": 100}]}\n"),
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        bg_suite *su = NULL;
        bg_error err = {0};
        ck_assert_msg(bg_suite_parse(&su, "s.jsonl", ok[i], strlen(ok[i]), &err) == 0, "%s",
                      err.msg);
        bg_suite_free(su);
    }
}
END_TEST

START_TEST(assertion_and_latency_reasons_are_joined)
{
    fixture fx;
    fx_init(&fx, LATENCY_CASES, true);
    const bg_case_result *cr = score(&fx, 0, "nope", 800, 10);
    ck_assert_uint_eq(cr->passed, 0);
    ck_assert_ptr_nonnull(strstr(cr->failure, "contains: "));
    ck_assert_ptr_nonnull(strstr(cr->failure, "; latency_ms.max: e2e 800 ms > 500 ms"));
    ck_assert_double_eq(cr->score, 0);
    fx_dispose(&fx);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("runner_score");
    TCase *tc = tcase_create("score");
    tcase_add_test(tc, case_threshold_passes_when_the_weighted_share_reaches_it);
    tcase_add_test(tc, case_threshold_fails_below_it_with_the_score_in_the_reason);
    tcase_add_test(tc, weights_decide_the_share_not_the_count);
    tcase_add_test(tc, without_a_threshold_every_assertion_must_pass);
    tcase_add_test(tc, latency_max_fails_a_run_whose_assertions_passed);
    tcase_add_test(tc, latency_ttft_fails_a_slow_first_token);
    tcase_add_test(tc, latency_ttft_on_a_run_without_ttft_fails_and_says_why);
    tcase_add_test(tc, a_case_stream_flag_wins_over_the_run_default);
    tcase_add_test(tc, ttft_limit_on_a_case_that_is_never_streamed_is_a_load_error);
    tcase_add_test(tc, assertion_and_latency_reasons_are_joined);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
