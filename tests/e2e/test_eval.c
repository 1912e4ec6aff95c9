/* test_eval.c — end-to-end: the real bg-gate binary against bg-mock on 127.0.0.1.
 *
 * Each test starts its own mock(s) in a temp dir, runs `bg-gate eval`, and checks what a
 * user relies on: exit codes, which cases fail in the JUnit file, deadlines, timing,
 * headers sent and secrets never printed.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "../support/evalfix.h"
#include "../support/proc.h"

/* The text of <testcase ... name="ID" ...> up to its closing tag. */
static char *junit_case(const char *xml, const char *id)
{
    char needle[256];
    snprintf(needle, sizeof needle, "name=\"%s\"", id);
    const char *p = strstr(xml, needle);
    ck_assert_msg(p != NULL, "no testcase %s in JUnit", id);
    const char *start = p;
    while (start > xml && strncmp(start, "<testcase", 9) != 0)
        start--;
    const char *end = strstr(p, "</testcase>");
    const char *self_close = strstr(p, "/>");
    const char *gt = strchr(p, '>');
    if (self_close && gt == self_close + 1 && (!end || self_close < end))
        end = self_close;
    ck_assert_ptr_nonnull(end);
    return strndup(start, (size_t)(end - start));
}

START_TEST(good_model_passes_with_exit_0)
{
    bgt_eval_start_mock(&bgt_ev.mock, "good", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *junit = bgt_eval_path("junit.xml");
    bgt_result r;
    const char *args[] = {"eval",    "--endpoint", bgt_ev.mock.url, "--suite", suite,
                          "--junit", junit,        "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 0);
    char *xml = bgt_read_file(junit);
    ck_assert_ptr_nonnull(xml);
    ck_assert_ptr_null(strstr(xml, "<failure"));
    ck_assert_ptr_nonnull(strstr(xml, "name=\"capital-france\""));
    free(xml);
    bgt_result_dispose(&r);
    free(suite);
    free(junit);
}
END_TEST

START_TEST(bad_model_fails_with_exit_1_and_names_the_failing_cases)
{
    bgt_eval_start_mock(&bgt_ev.mock, "bad", "tests/fixtures/e2e/table-bad.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *junit = bgt_eval_path("reports/junit.xml");
    bgt_result r;
    const char *args[] = {"eval",    "--endpoint", bgt_ev.mock.url, "--suite", suite,
                          "--junit", junit,        "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    char *xml = bgt_read_file(junit);
    ck_assert_ptr_nonnull(xml);
    const char *failing[] = {"capital-france", "refuse-password"};
    const char *passing[] = {"capital-japan", "json-order"};
    for (size_t i = 0; i < 2; i++) {
        char *tc = junit_case(xml, failing[i]);
        ck_assert_msg(strstr(tc, "<failure") != NULL, "%s should fail", failing[i]);
        free(tc);
        tc = junit_case(xml, passing[i]);
        ck_assert_msg(strstr(tc, "<failure") == NULL, "%s should pass", passing[i]);
        free(tc);
    }
    char *tc = junit_case(xml, "capital-france");
    ck_assert_ptr_nonnull(strstr(tc, "Paris"));
    ck_assert_ptr_nonnull(strstr(tc, "Lyon"));
    free(tc);
    /* a negated assertion is named once in the failure body */
    tc = junit_case(xml, "refuse-password");
    ck_assert_ptr_nonnull(strstr(tc, ">not-contains: found"));
    ck_assert_ptr_null(strstr(tc, "not-contains: not-contains"));
    free(tc);
    ck_assert_ptr_nonnull(strstr(r.err, "capital-france"));
    /* the file a CI viewer reads: schema-valid, and it points at the case's line */
    ck_assert_ptr_nonnull(strstr(xml, "line=\"2\""));
    ck_assert_ptr_nonnull(strstr(xml, "capitals.jsonl\""));
    char *xsd = bgt_src("tests/fixtures/junit/jenkins-junit.xsd");
    const char *lint[] = {"/usr/bin/xmllint", "--noout", "--schema", xsd, junit, NULL};
    ck_assert_int_eq(bgt_run_cmd(lint, 30), 0);
    free(xsd);
    free(xml);
    bgt_result_dispose(&r);
    free(suite);
    free(junit);
}
END_TEST

START_TEST(golden_suite_passes_on_good_model_and_fails_on_bad)
{
    char *evals = bgt_src("evals");
    bgt_eval_start_mock(&bgt_ev.mock, "good", "tests/mock/models/good.json", NULL);
    bgt_result r;
    const char *args[] = {"eval",          "--endpoint", bgt_ev.mock.url, "--suite", evals,
                          "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 60);
    bgt_expect_exit(&r, 0);
    bgt_result_dispose(&r);
    bgt_mock_stop(&bgt_ev.mock);

    bgt_eval_start_mock(&bgt_ev.mock, "bad", "tests/mock/models/bad.json", NULL);
    const char *args2[] = {"eval",          "--endpoint", bgt_ev.mock.url, "--suite", evals,
                           "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args2, 60);
    bgt_expect_exit(&r, 1);
    bgt_result_dispose(&r);
    free(evals);
}
END_TEST

START_TEST(unreachable_endpoint_exits_3)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", bgt_free_port());
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    bgt_result r;
    const char *args[] = {"eval", "--endpoint", url, "--suite", suite, "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 3);
    ck_assert_ptr_nonnull(strstr(r.err, "127.0.0.1"));
    bgt_result_dispose(&r);

    /* with --model there is no discovery request: the requests themselves fail */
    const char *args2[] = {"eval", "--endpoint",    url, "--suite", suite, "--model",
                           "m",    "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args2, 30);
    bgt_expect_exit(&r, 3);
    bgt_result_dispose(&r);
    free(suite);
}
END_TEST

START_TEST(hanging_server_is_cut_at_the_deadline)
{
    const char *extra[] = {"--error-rate", "1", "--error-kinds", "hang", NULL};
    bgt_eval_start_mock(&bgt_ev.mock, "hang", "tests/fixtures/e2e/table-good.json", extra);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json");
    bgt_result r;
    const char *args[] = {
        "eval",         "--endpoint", bgt_ev.mock.url, "--suite", suite,           "--model", "m",
        "--timeout-ms", "300",        "--json-report", report,    "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_double_lt(r.elapsed_ms, 5000);
    cJSON *j = bgt_load_json(report);
    const char *p[] = {"summary", "errors_by_kind", "timeout", NULL};
    ck_assert_double_eq(bgt_json_num(j, p), 4);
    cJSON_Delete(j);
    bgt_result_dispose(&r);
    free(suite);
    free(report);
}
END_TEST

START_TEST(streaming_ttft_tracks_the_injected_delay)
{
    const char *extra[] = {"--latency-ms", "80", "--token-ms", "5", NULL};
    bgt_eval_start_mock(&bgt_ev.mock, "slow", "tests/fixtures/e2e/table-good.json", extra);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json");
    bgt_result r;
    const char *args[] = {"eval",          "--endpoint", bgt_ev.mock.url, "--suite",
                          suite,           "--stream",   "--repeat",      "3",
                          "--concurrency", "4",          "--json-report", report,
                          "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 0);
    cJSON *j = bgt_load_json(report);
    const char *p50[] = {"summary", "ttft_ms", "p50", NULL};
    double ttft = bgt_json_num(j, p50);
    /* 15 ms, not 5: on an idle 2-core machine the p50 is 80.6-80.9 ms, but with two busy
     * loops per core (a loaded CI runner) 5 runs gave 81.6, 90.1, 84.9, 88.3 and 82.9 ms,
     * so a 5 ms bound would fail most loaded runs. Below 80 would be a measuring bug. */
    ck_assert_msg(ttft >= 80 && ttft < 95, "ttft p50 %.1f ms, injected 80 ms", ttft);
    const char *itl[] = {"summary", "itl_ms", "p50", NULL};
    double gap = bgt_json_num(j, itl);
    ck_assert_msg(gap >= 4 && gap < 15, "itl p50 %.1f ms, injected 5 ms", gap);
    cJSON_Delete(j);
    bgt_result_dispose(&r);
    free(suite);
    free(report);
}
END_TEST

START_TEST(bad_suite_exits_2_with_file_line_and_field)
{
    char *suite = bgt_eval_path("broken.jsonl");
    FILE *f = fopen(suite, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"id\": \"a\", \"prompt\": \"hi\"}\n"
          "{\"id\": \"b\", \"prompt\": \"hi\", \"asert\": []}\n",
          f);
    fclose(f);
    bgt_result r;
    const char *args[] = {"eval", "--endpoint", "http://127.0.0.1:9/v1", "--suite", suite, NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "broken.jsonl:2:") != NULL, "stderr: %s", r.err);
    ck_assert_msg(strstr(r.err, "asert") != NULL, "stderr: %s", r.err);
    bgt_result_dispose(&r);
    free(suite);
}
END_TEST

START_TEST(api_key_is_sent_and_never_printed)
{
    bgt_eval_start_mock(&bgt_ev.mock, "auth", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json");
    char *junit = bgt_eval_path("junit.xml");
    const char *env[] = {"BG_TEST_KEY=sekrit-value-123", NULL};
    bgt_result r;
    const char *args[] = {
        "eval",          "--endpoint",  bgt_ev.mock.url, "--suite",       suite,
        "--api-key-env", "BG_TEST_KEY", "--json-report", report,          "--junit",
        junit,           "-v",          "--json",        "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, env, args, 30);
    bgt_expect_exit(&r, 0);
    char *log = bgt_read_file(bgt_ev.mock.req_log);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "Bearer sekrit-value-123"));
    ck_assert_ptr_null(strstr(r.out, "sekrit"));
    ck_assert_ptr_null(strstr(r.err, "sekrit"));
    char *rep = bgt_read_file(report), *xml = bgt_read_file(junit);
    ck_assert_ptr_null(strstr(rep, "sekrit"));
    ck_assert_ptr_null(strstr(xml, "sekrit"));
    free(rep);
    free(xml);
    free(log);
    bgt_result_dispose(&r);

    const char *args2[] = {"eval", "--endpoint",    bgt_ev.mock.url,     "--suite",
                           suite,  "--api-key-env", "BG_TEST_KEY_UNSET", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args2, 30);
    bgt_expect_exit(&r, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "BG_TEST_KEY_UNSET"));
    bgt_result_dispose(&r);
    free(suite);
    free(report);
    free(junit);
}
END_TEST

START_TEST(requests_spread_over_endpoints_and_repeat)
{
    bgt_mock second = {.pid = -1};
    bgt_eval_start_mock(&bgt_ev.mock, "a", "tests/fixtures/e2e/table-good.json", NULL);
    bgt_eval_start_mock(&second, "b", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    bgt_result r;
    const char *args[] = {
        "eval",    "--endpoint", bgt_ev.mock.url, "--endpoint", second.url,      "--suite", suite,
        "--model", "good-model", "--repeat",      "3",          "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 0);
    ck_assert_int_eq(bgt_mock_request_count(&bgt_ev.mock), 6);
    ck_assert_int_eq(bgt_mock_request_count(&second), 6);
    bgt_mock_stop(&second);
    bgt_result_dispose(&r);
    free(suite);
}
END_TEST

START_TEST(open_loop_rate_paces_arrivals)
{
    bgt_eval_start_mock(&bgt_ev.mock, "rate", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    bgt_result r;
    /* 20 arrivals at a constant 40/s take at least 19 gaps of 25 ms */
    const char *args[] = {"eval",
                          "--endpoint",
                          bgt_ev.mock.url,
                          "--suite",
                          suite,
                          "--model",
                          "m",
                          "--repeat",
                          "5",
                          "--rate",
                          "40",
                          "--arrivals",
                          "constant",
                          "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 0);
    ck_assert_double_ge(r.elapsed_ms, 450);
    ck_assert_int_eq(bgt_mock_request_count(&bgt_ev.mock), 20);
    bgt_result_dispose(&r);
    free(suite);
}
END_TEST

START_TEST(server_errors_are_counted_by_kind)
{
    const char *extra[] = {"--error-rate", "1", "--error-kinds", "500", NULL};
    bgt_eval_start_mock(&bgt_ev.mock, "err", "tests/fixtures/e2e/table-good.json", extra);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json");
    bgt_result r;
    const char *args[] = {"eval",    "--endpoint", bgt_ev.mock.url, "--suite", suite,
                          "--model", "m",          "--json-report", report,    "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    cJSON *j = bgt_load_json(report);
    const char *p[] = {"summary", "errors_by_kind", "http", NULL};
    ck_assert_double_eq(bgt_json_num(j, p), 4);
    /* a wrong answer or a server error is never retried: one request per case */
    ck_assert_int_eq(bgt_mock_request_count(&bgt_ev.mock), 4);
    cJSON_Delete(j);
    bgt_result_dispose(&r);
    free(suite);
    free(report);
}
END_TEST

START_TEST(config_gate_section_and_inconclusive_threshold)
{
    bgt_eval_start_mock(&bgt_ev.mock, "cfg", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *cfg = bgt_eval_path("bg-gate.json");
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"gate\": {\"endpoints\": [\"%s\"], \"suites\": [\"%s\"], \"concurrency\": 2,\n"
            " \"thresholds\": {\"pass_rate\": 1.0, \"p99_ms\": 5000}}}\n",
            bgt_ev.mock.url, suite);
    fclose(f);
    bgt_result r;
    /* 4 samples cannot support a p99: the gate must not pass on it */
    const char *args[] = {"eval", "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "inconclusive") != NULL, "stderr: %s", r.err);
    bgt_result_dispose(&r);
    f = fopen(cfg, "w");
    fprintf(f,
            "{\"gate\": {\"endpoints\": [\"%s\"], \"suites\": [\"%s\"],\n"
            " \"thresholds\": {\"p50_ms\": 5000}}}\n",
            bgt_ev.mock.url, suite);
    fclose(f);
    const char *args2[] = {"eval", "--config", cfg, "--no-progress", NULL};
    bgt_run_gate(&r, "/", NULL, args2, 30);
    bgt_expect_exit(&r, 0);
    bgt_result_dispose(&r);
    /* a flag overrides the config's threshold of the same name */
    const char *args3[] = {"eval",         "--config",      cfg, "--threshold",
                           "p50_ms=0.001", "--no-progress", NULL};
    bgt_run_gate(&r, "/", NULL, args3, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "p50_ms") != NULL, "stderr: %s", r.err);
    bgt_result_dispose(&r);
    free(suite);
    free(cfg);
}
END_TEST

START_TEST(bad_config_exits_2_with_json_path)
{
    char *cfg = bgt_eval_path("bg-gate.json");
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"gate\": {\"concurrency\": \"lots\"}}\n", f);
    fclose(f);
    bgt_result r;
    const char *args[] = {"eval", "--config", cfg, NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "gate.concurrency") != NULL, "stderr: %s", r.err);
    bgt_result_dispose(&r);
    free(cfg);
}
END_TEST

START_TEST(usage_errors_exit_2_and_help_exits_0)
{
    bgt_result r;
    const char *bad[] = {"eval", "--concurrency", "zero", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, bad, 10);
    bgt_expect_exit(&r, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--concurrency"));
    bgt_result_dispose(&r);
    const char *help[] = {"eval", "--help", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, help, 10);
    bgt_expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "--threshold"));
    bgt_result_dispose(&r);
    const char *unknown[] = {"deploy-now", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, unknown, 10);
    bgt_expect_exit(&r, 2);
    bgt_result_dispose(&r);
}
END_TEST

START_TEST(endless_stream_is_cut_at_the_deadline)
{
    /* tokens every 250 ms: the answer cannot finish within a 400 ms deadline */
    const char *extra[] = {"--token-ms", "250", NULL};
    bgt_eval_start_mock(&bgt_ev.mock, "slowstream", "tests/fixtures/e2e/table-good.json", extra);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json");
    bgt_result r;
    const char *args[] = {"eval",
                          "--endpoint",
                          bgt_ev.mock.url,
                          "--suite",
                          suite,
                          "--model",
                          "m",
                          "--stream",
                          "--timeout-ms",
                          "400",
                          "--max-retries",
                          "0",
                          "--json-report",
                          report,
                          "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_double_lt(r.elapsed_ms, 5000);
    cJSON *j = bgt_load_json(report);
    const char *p[] = {"summary", "errors_by_kind", "timeout", NULL};
    ck_assert_double_eq(bgt_json_num(j, p), 4);
    cJSON_Delete(j);
    bgt_result_dispose(&r);
    free(suite);
    free(report);
}
END_TEST

START_TEST(connection_errors_are_retried_and_counted_separately)
{
    /* the mock dies after 2 answers: later requests cannot connect, are retried, then
     * counted as connect errors; the two answered cases still count */
    const char *extra[] = {"--crash-after", "2", NULL};
    bgt_eval_start_mock(&bgt_ev.mock, "crash", "tests/fixtures/e2e/table-good.json", extra);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json");
    bgt_result r;
    const char *args[] = {"eval",
                          "--endpoint",
                          bgt_ev.mock.url,
                          "--suite",
                          suite,
                          "--model",
                          "m",
                          "--concurrency",
                          "1",
                          "--max-retries",
                          "2",
                          "--json-report",
                          report,
                          "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    cJSON *j = bgt_load_json(report);
    const char *conn[] = {"summary", "errors_by_kind", "connect", NULL};
    const char *retries[] = {"summary", "retries", NULL};
    ck_assert_double_eq(bgt_json_num(j, conn), 2);
    ck_assert_double_eq(bgt_json_num(j, retries), 4);
    cJSON_Delete(j);
    bgt_result_dispose(&r);
    free(suite);
    free(report);
}
END_TEST

START_TEST(embeddings_requests_go_to_the_configured_endpoint)
{
    bgt_mock judge = {.pid = -1};
    bgt_eval_start_mock(&bgt_ev.mock, "model", "tests/mock/models/good.json", NULL);
    bgt_eval_start_mock(&judge, "judge", "tests/mock/models/good.json", NULL);
    char *suite = bgt_eval_path("judged.jsonl");
    FILE *f = fopen(suite, "w");
    ck_assert_ptr_nonnull(f);
    /* the answer comes from the model mock; the judge's verdict from the judge mock */
    fputs("{\"id\": \"capital\", \"messages\": [{\"role\": \"user\", \"content\": "
          "\"What is the capital of France?\"}], \"assert\": [{\"type\": \"similar\", "
          "\"value\": \"The capital of France is Paris.\", \"threshold\": 0.9}]}\n",
          f);
    fclose(f);
    char *cfg = bgt_eval_path("bg-gate.json");
    f = fopen(cfg, "w");
    fprintf(f, "{\"gate\": {\"embeddings\": {\"endpoint\": \"%s\", \"model\": \"emb\"}}}\n",
            judge.url);
    fclose(f);
    bgt_result r;
    const char *args[] = {"eval",    "--config", cfg,       "--endpoint", bgt_ev.mock.url,
                          "--suite", suite,      "--model", "m",          "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 0);
    char *jlog = bgt_read_file(judge.req_log), *mlog = bgt_read_file(bgt_ev.mock.req_log);
    ck_assert_ptr_nonnull(strstr(jlog, "/v1/embeddings"));
    ck_assert_ptr_null(strstr(mlog, "/v1/embeddings"));
    free(jlog);
    free(mlog);
    bgt_mock_stop(&judge);
    bgt_result_dispose(&r);
    free(suite);
    free(cfg);
}
END_TEST

/* In GitHub Actions the failing cases are annotated at their suite line, thresholds and
 * the verdict too, and --json keeps stdout pure JSON; GitLab gets collapsible sections;
 * --ci off prints neither. */
START_TEST(ci_runners_get_annotations_and_sections)
{
    bgt_eval_start_mock(&bgt_ev.mock, "bad", "tests/fixtures/e2e/table-bad.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    const char *root = getenv("BG_SOURCE_DIR") ? getenv("BG_SOURCE_DIR") : ".";
    char *ws = NULL;
    ck_assert_int_ge(asprintf(&ws, "GITHUB_WORKSPACE=%s", root), 0);
    const char *gh[] = {"GITHUB_ACTIONS=true", ws, "GITLAB_CI=", NULL};
    bgt_result r;
    const char *args[] = {"eval",          "--endpoint", bgt_ev.mock.url, "--suite", suite,
                          "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, gh, args, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "::group::bg-gate eval"));
    ck_assert_ptr_nonnull(strstr(r.out, "::endgroup::"));
    /* the path is relative to the checkout ($GITHUB_WORKSPACE), as GitHub needs it */
    ck_assert_msg(strstr(r.out, "::error file=tests/fixtures/e2e/capitals.jsonl,line=2,"
                                "title=bg-gate case capital-france failed::contains: "),
                  "no annotation for capital-france in:\n%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "::error title=bg-gate threshold pass_rate not met::"));
    ck_assert_ptr_nonnull(strstr(r.out, "::notice title=bg-gate::gate failed: "));
    bgt_result_dispose(&r);

    const char *json_args[] = {"eval", "--endpoint", bgt_ev.mock.url, "--suite",
                               suite,  "--json",     "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, gh, json_args, 30);
    bgt_expect_exit(&r, 1);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "stdout is not JSON with --json in GitHub Actions");
    cJSON_Delete(j);
    ck_assert_ptr_nonnull(strstr(r.err, "title=bg-gate case capital-france failed::"));
    bgt_result_dispose(&r);

    const char *off_args[] = {"eval", "--endpoint", bgt_ev.mock.url, "--suite", suite,
                              "--ci", "off",        "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, gh, off_args, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_ptr_null(strstr(r.out, "::"));
    ck_assert_ptr_null(strstr(r.err, "::error"));
    bgt_result_dispose(&r);

    const char *gl[] = {"GITLAB_CI=true", "GITHUB_ACTIONS=", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, gl, args, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "\033[0Ksection_start:"));
    ck_assert_ptr_nonnull(strstr(r.err, ":bg_gate_eval[collapsed=true]\r\033[0Kbg-gate eval"));
    ck_assert_ptr_nonnull(strstr(r.err, "\033[0Ksection_end:"));
    ck_assert_ptr_null(strstr(r.out, "::"));
    bgt_result_dispose(&r);

    const char *bad_args[] = {"eval", "--ci", "jenkins", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, bad_args, 30);
    bgt_expect_exit(&r, 2);
    ck_assert_ptr_nonnull(
        strstr(r.err, "--ci: expected auto, github, gitlab or off, got \"jenkins\""));
    bgt_result_dispose(&r);
    free(ws);
    free(suite);
}
END_TEST

/* --- baseline judge (paired.h): two mocks, the candidate and a baseline, in one run --- */

/* Writes quiz.jsonl: 20 cases "Question N?" that must answer "answer-N.". */
static char *write_quiz_suite(void)
{
    char *path = bgt_eval_path("quiz.jsonl");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 1; i <= 20; i++)
        fprintf(f,
                "{\"id\": \"q%02d\", \"messages\": [{\"role\": \"user\", \"content\": "
                "\"Question %d?\"}], \"assert\": [{\"type\": \"contains\", \"value\": "
                "\"answer-%d.\"}]}\n",
                i, i, i);
    fclose(f);
    return path;
}

/* Writes an answers table that answers questions first_wrong..20 wrongly. */
static char *write_quiz_table(const char *name, int first_wrong)
{
    char *path = bgt_eval_path(name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"model\": \"quiz\", \"answers\": {", f);
    for (int i = 1; i <= 20; i++)
        fprintf(f, "%s\"Question %d?\": \"%s%d.\"", i > 1 ? ", " : "", i,
                i >= first_wrong ? "no idea about question " : "answer-", i);
    fputs("}}\n", f);
    fclose(f);
    return path;
}

/* Starts a mock on an answers table in bgt_ev.tmp with latency and jitter. */
static void start_quiz_mock(bgt_mock *m, const char *name, const char *table, const char *latency,
                            const char *jitter)
{
    const char *args[] = {"--answers",   table,  "--latency-ms", latency,
                          "--jitter-ms", jitter, "--seed",       name[0] == 'b' ? "7" : "11",
                          NULL};
    ck_assert_msg(bgt_mock_start(m, bgt_ev.tmp, name, args) == 0, "bg-mock %s did not start", name);
}

static const cJSON *threshold_named(const cJSON *report, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(report, "thresholds"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return t;
    }
    ck_abort_msg("no threshold %s in the JSON report", name);
    return NULL;
}

static const char *threshold_status(const cJSON *report, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(threshold_named(report, name), "status")->valuestring;
}

/* Earliest and latest arrival ("t") in a mock's request log of completions. */
static void arrival_span(const bgt_mock *m, double *first, double *last)
{
    char *log = bgt_read_file(m->req_log);
    ck_assert_ptr_nonnull(log);
    *first = 1e300;
    *last = -1e300;
    for (char *line = log, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        cJSON *j = cJSON_Parse(line);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "t");
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(j, "path");
        if (cJSON_IsNumber(t) && cJSON_IsString(path) && strstr(path->valuestring, "completions")) {
            *first = t->valuedouble < *first ? t->valuedouble : *first;
            *last = t->valuedouble > *last ? t->valuedouble : *last;
        }
        cJSON_Delete(j);
    }
    free(log);
}

START_TEST(baseline_identical_model_with_jitter_passes)
{
    bgt_mock base = {.pid = -1};
    char *suite = write_quiz_suite(), *table = write_quiz_table("table.json", 21);
    char *report = bgt_eval_path("report.json");
    start_quiz_mock(&bgt_ev.mock, "cand", table, "60", "40");
    start_quiz_mock(&base, "base", table, "60", "40");
    bgt_result r;
    const char *args[] = {"eval",
                          "--endpoint",
                          bgt_ev.mock.url,
                          "--baseline-endpoint",
                          base.url,
                          "--suite",
                          suite,
                          "--model",
                          "quiz",
                          "--repeat",
                          "2",
                          "--json-report",
                          report,
                          "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 60);
    bgt_expect_exit(&r, 0);
    /* every case run went to both sides, interleaved over the same stretch of time */
    ck_assert_int_eq(bgt_mock_request_count(&bgt_ev.mock), 40);
    ck_assert_int_eq(bgt_mock_request_count(&base), 40);
    double c0, c1, b0, b1;
    arrival_span(&bgt_ev.mock, &c0, &c1);
    arrival_span(&base, &b0, &b1);
    ck_assert_msg(b0 < c1 && c0 < b1 && b0 - c0 < 0.1 && c0 - b0 < 0.1 && b1 - c1 < 0.2 &&
                      c1 - b1 < 0.2,
                  "candidate %.3f..%.3f, baseline %.3f..%.3f", c0, c1, b0, b1);
    cJSON *j = bgt_load_json(report);
    ck_assert_str_eq(threshold_status(j, "max_latency_ratio"), "pass");
    ck_assert_str_eq(threshold_status(j, "max_ttft_ratio"), "pass");
    ck_assert_str_eq(threshold_status(j, "max_pass_rate_drop"), "pass");
    const char *ratio[] = {"baseline", "latency", "e2e", "median_ratio", NULL};
    double q = bgt_json_at(j, ratio)->valuedouble;
    ck_assert_msg(q > 0.8 && q < 1.2, "median ratio %.3f for identical servers", q);
    const char *n[] = {"baseline", "latency", "e2e", "n_baseline", NULL};
    ck_assert_double_eq(bgt_json_at(j, n)->valuedouble, 40);
    const char *regs[] = {"baseline", "quality", "regressions", NULL};
    ck_assert_int_eq(cJSON_GetArraySize(bgt_json_at(j, regs)), 0);
    cJSON_Delete(j);
    bgt_mock_stop(&base);
    bgt_result_dispose(&r);
    free(suite);
    free(table);
    free(report);
}
END_TEST

START_TEST(baseline_candidate_30_percent_slower_fails_on_latency)
{
    bgt_mock base = {.pid = -1};
    char *suite = write_quiz_suite(), *table = write_quiz_table("table.json", 21);
    char *report = bgt_eval_path("report.json");
    start_quiz_mock(&bgt_ev.mock, "cand", table, "260", "20");
    start_quiz_mock(&base, "base", table, "200", "20");
    bgt_result r;
    const char *args[] = {"eval",
                          "--endpoint",
                          bgt_ev.mock.url,
                          "--baseline-endpoint",
                          base.url,
                          "--suite",
                          suite,
                          "--model",
                          "quiz",
                          "--repeat",
                          "2",
                          "--concurrency",
                          "16",
                          "--json-report",
                          report,
                          "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 60);
    bgt_expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "max_latency_ratio") != NULL, "stderr: %s", r.err);
    cJSON *j = bgt_load_json(report);
    ck_assert_str_eq(threshold_status(j, "max_latency_ratio"), "fail");
    ck_assert_str_eq(threshold_status(j, "max_pass_rate_drop"), "pass");
    const char *ratio[] = {"baseline", "latency", "e2e", "median_ratio", NULL};
    double q = bgt_json_at(j, ratio)->valuedouble;
    ck_assert_msg(q > 1.2 && q < 1.4, "median ratio %.3f, injected 270/210", q);
    const char *p[] = {"baseline", "latency", "e2e", "mann_whitney", "p_greater", NULL};
    ck_assert_double_lt(bgt_json_at(j, p)->valuedouble, 0.01);
    cJSON_Delete(j);
    bgt_mock_stop(&base);
    bgt_result_dispose(&r);
    free(suite);
    free(table);
    free(report);
}
END_TEST

START_TEST(baseline_candidate_5_points_worse_fails_on_quality)
{
    bgt_mock base = {.pid = -1};
    char *suite = write_quiz_suite();
    char *good = write_quiz_table("base.json", 19);   /* q19, q20 wrong: 90 % */
    char *worse = write_quiz_table("worse.json", 18); /* q18 too: 85 % */
    char *junit = bgt_eval_path("junit.xml"), *md = bgt_eval_path("summary.md");
    start_quiz_mock(&bgt_ev.mock, "cand", worse, "30", "10");
    start_quiz_mock(&base, "base", good, "30", "10");
    bgt_result r;
    /* pass_rate 0.8 alone would let the candidate through */
    const char *args[] = {"eval",
                          "--endpoint",
                          bgt_ev.mock.url,
                          "--baseline-endpoint",
                          base.url,
                          "--suite",
                          suite,
                          "--model",
                          "quiz",
                          "--threshold",
                          "pass_rate=0.8",
                          "--threshold",
                          "max_pass_rate_drop=0.04",
                          "--junit",
                          junit,
                          "--markdown",
                          md,
                          "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 60);
    bgt_expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "max_pass_rate_drop") != NULL, "stderr: %s", r.err);
    char *xml = bgt_read_file(junit);
    ck_assert_ptr_nonnull(xml);
    const char *bsuite = strstr(xml, "<testsuite name=\"baseline\"");
    ck_assert_msg(bsuite != NULL, "no baseline testsuite:\n%s", xml);
    char *tc = junit_case(bsuite, "q18");
    ck_assert_ptr_nonnull(strstr(tc, "type=\"regression\""));
    ck_assert_ptr_nonnull(strstr(tc, "line=\"18\""));
    free(tc);
    ck_assert_ptr_null(strstr(bsuite, "name=\"q19\"")); /* wrong on both sides */
    char *xsd = bgt_src("tests/fixtures/junit/jenkins-junit.xsd");
    const char *lint[] = {"/usr/bin/xmllint", "--noout", "--schema", xsd, junit, NULL};
    ck_assert_int_eq(bgt_run_cmd(lint, 30), 0);
    char *summary = bgt_read_file(md);
    ck_assert_ptr_nonnull(summary);
    ck_assert_ptr_nonnull(strstr(summary, "| pass rate | 90.0 % | 85.0 % | -5.0 points |"));
    ck_assert_ptr_nonnull(strstr(summary, "| q18 | quiz:18 |"));
    free(summary);
    free(xml);
    bgt_result_dispose(&r);
    /* the same 5-point drop within a 0.05 limit passes: the drop decides, not the listing */
    const char *args2[] = {"eval",
                           "--endpoint",
                           bgt_ev.mock.url,
                           "--baseline-endpoint",
                           base.url,
                           "--suite",
                           suite,
                           "--model",
                           "quiz",
                           "--threshold",
                           "pass_rate=0.8",
                           "--threshold",
                           "max_pass_rate_drop=0.05",
                           "--no-progress",
                           NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args2, 60);
    bgt_expect_exit(&r, 0);
    bgt_result_dispose(&r);
    /* on GitHub the regression is annotated at its line, named as a regression */
    const char *gh[] = {"GITHUB_ACTIONS=true", "GITLAB_CI=", "BG_GATE_CI=", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, gh, args, 60);
    bgt_expect_exit(&r, 1);
    ck_assert_msg(strstr(r.out, ",line=18,title=bg-gate case q18 regressed (passed on the "
                                "baseline)::") != NULL,
                  "stdout: %s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "title=bg-gate case q19 failed::"));
    bgt_mock_stop(&base);
    bgt_result_dispose(&r);
    free(xsd);
    free(suite);
    free(good);
    free(worse);
    free(junit);
    free(md);
}
END_TEST

START_TEST(baseline_from_config_with_few_samples_is_inconclusive)
{
    bgt_mock base = {.pid = -1};
    bgt_eval_start_mock(&bgt_ev.mock, "cand", "tests/fixtures/e2e/table-good.json", NULL);
    bgt_eval_start_mock(&base, "base", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *cfg = bgt_eval_path("bg-gate.json");
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"gate\": {\"endpoints\": [\"%s\"], \"suites\": [\"%s\"], \"baseline\": [\"%s\"]}}\n",
            bgt_ev.mock.url, suite, base.url);
    fclose(f);
    bgt_result r;
    /* 4 cases: 4 against 4 requests can never show a slowdown at alpha 0.01 */
    const char *args[] = {"eval", "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "max_latency_ratio inconclusive") != NULL, "stderr: %s", r.err);
    bgt_result_dispose(&r);
    /* an unreachable baseline is an infrastructure failure, not a verdict */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", bgt_free_port());
    const char *args2[] = {"eval", "--baseline-endpoint", url, "--model",
                           "m",    "--no-progress",       NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args2, 30);
    bgt_expect_exit(&r, 3);
    ck_assert_msg(strstr(r.err, "no baseline endpoint could be reached") != NULL, "stderr: %s",
                  r.err);
    bgt_result_dispose(&r);
    const char *args3[] = {"eval", "--baseline-endpoint", "ftp://x", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args3, 30);
    bgt_expect_exit(&r, 2);
    ck_assert_msg(
        strstr(r.err, "--baseline-endpoint: \"ftp://x\" is not an http:// or https:// URL") != NULL,
        "stderr: %s", r.err);
    bgt_mock_stop(&base);
    bgt_result_dispose(&r);
    free(suite);
    free(cfg);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("e2e_eval");
    TCase *tc = tcase_create("eval");
    tcase_add_checked_fixture(tc, bgt_eval_setup, bgt_eval_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, good_model_passes_with_exit_0);
    tcase_add_test(tc, bad_model_fails_with_exit_1_and_names_the_failing_cases);
    tcase_add_test(tc, golden_suite_passes_on_good_model_and_fails_on_bad);
    tcase_add_test(tc, unreachable_endpoint_exits_3);
    tcase_add_test(tc, hanging_server_is_cut_at_the_deadline);
    tcase_add_test(tc, streaming_ttft_tracks_the_injected_delay);
    tcase_add_test(tc, bad_suite_exits_2_with_file_line_and_field);
    tcase_add_test(tc, api_key_is_sent_and_never_printed);
    tcase_add_test(tc, requests_spread_over_endpoints_and_repeat);
    tcase_add_test(tc, open_loop_rate_paces_arrivals);
    tcase_add_test(tc, server_errors_are_counted_by_kind);
    tcase_add_test(tc, config_gate_section_and_inconclusive_threshold);
    tcase_add_test(tc, bad_config_exits_2_with_json_path);
    tcase_add_test(tc, usage_errors_exit_2_and_help_exits_0);
    tcase_add_test(tc, endless_stream_is_cut_at_the_deadline);
    tcase_add_test(tc, connection_errors_are_retried_and_counted_separately);
    tcase_add_test(tc, embeddings_requests_go_to_the_configured_endpoint);
    tcase_add_test(tc, ci_runners_get_annotations_and_sections);
    tcase_add_test(tc, baseline_identical_model_with_jitter_passes);
    tcase_add_test(tc, baseline_candidate_30_percent_slower_fails_on_latency);
    tcase_add_test(tc, baseline_candidate_5_points_worse_fails_on_quality);
    tcase_add_test(tc, baseline_from_config_with_few_samples_is_inconclusive);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
