/* test_config.c — bg-gate.json's gate section: defaults, values, errors with paths. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/config.h"

static bg_config *parse_ok(const char *text)
{
    bg_config *cfg = NULL;
    bg_error err = {0};
    int rc = bg_config_parse(&cfg, "conf/bg-gate.json", text, strlen(text), &err);
    ck_assert_msg(rc == 0, "unexpected error: %s", err.msg);
    return cfg;
}

static void expect_error(const char *text, const char *message)
{
    bg_config *cfg = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_config_parse(&cfg, "bg-gate.json", text, strlen(text), &err), BG_EINVAL);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err.msg, message);
}

START_TEST(config_defaults_without_gate_section)
{
    bg_config *cfg = parse_ok("{\"environment\": \"prod\", \"pools\": {}}");
    ck_assert_int_eq(cfg->gate.concurrency, 8);
    ck_assert_int_eq(cfg->gate.repeat, 1);
    ck_assert_int_eq(cfg->gate.timeout_ms, 60000);
    ck_assert(cfg->gate.stream);
    ck_assert(cfg->gate.poisson);
    ck_assert_uint_eq(cfg->gate.n_thresholds, 0);
    bg_config_free(cfg);
}
END_TEST

START_TEST(config_reads_gate_values_and_resolves_paths)
{
    bg_config *cfg = parse_ok(
        "{\"gate\": {\"suites\": [\"evals/golden.jsonl\", \"/abs/x.jsonl\"],"
        " \"endpoints\": \"http://127.0.0.1:8000/v1\", \"concurrency\": 32, \"rate\": 5,"
        " \"arrivals\": \"constant\", \"stream\": false, \"api_key_env\": \"KEY\","
        " \"headers\": {\"X-Team\": \"ml\"}, \"thresholds\": {\"pass_rate\": 0.9,"
        " \"p95_ms\": 2500, \"pass_rate[safety]\": 1},"
        " \"judge\": {\"endpoint\": \"http://127.0.0.1:9/v1\", \"model\": \"judge\"},"
        " \"reports\": {\"junit\": \"out/junit.xml\"}}}");
    bg_gate_config *g = &cfg->gate;
    ck_assert_uint_eq(g->n_suites, 2);
    ck_assert_str_eq(g->suites[0], "conf/evals/golden.jsonl");
    ck_assert_str_eq(g->suites[1], "/abs/x.jsonl");
    ck_assert_uint_eq(g->n_endpoints, 1);
    ck_assert_int_eq(g->concurrency, 32);
    ck_assert_double_eq(g->rate, 5);
    ck_assert(!g->poisson);
    ck_assert(!g->stream);
    ck_assert_str_eq(g->api_key_env, "KEY");
    ck_assert_str_eq(g->headers[0], "X-Team: ml");
    ck_assert_uint_eq(g->n_thresholds, 3);
    ck_assert_str_eq(g->thresholds[2].tag, "safety");
    ck_assert_str_eq(g->judge_model, "judge");
    ck_assert_str_eq(g->junit, "conf/out/junit.xml");
    ck_assert_ptr_null(g->request);
    bg_config_free(cfg);
}
END_TEST

START_TEST(config_errors_name_the_file_and_json_path)
{
    expect_error("{\"gate\": {\"concurrency\": 0}}",
                 "bg-gate.json: gate.concurrency: expected an integer from 1 to 4096, got another number");
    expect_error("{\"gate\": {\"endpoints\": [\"ftp://x\"]}}",
                 "bg-gate.json: gate.endpoints[0]: \"ftp://x\" is not an http:// or https:// URL");
    expect_error("{\"gate\": {\"concurency\": 4}}",
                 "bg-gate.json: gate.concurency: unknown field (did you mean \"concurrency\"?)");
    expect_error("{\"gaet\": {}}", "bg-gate.json: gaet: unknown field (did you mean \"gate\"?)");
    expect_error("{\"gate\": {\"arrivals\": \"burst\"}}",
                 "bg-gate.json: gate.arrivals: expected \"poisson\" or \"constant\", got \"burst\"");
    expect_error("{\n  \"gate\": {\n    \"repeat\": 2,,\n  }\n}", "bg-gate.json:3:17: invalid JSON");
    expect_error("[1]", "bg-gate.json: expected a JSON object at the top level");
    expect_error("{\"gate\": {\"request\": {\"stream\": true}}}",
                 "bg-gate.json: gate.request.stream: set by bg-gate (use gate.stream instead)");
    expect_error("{\"gate\": {\"request\": [1]}}",
                 "bg-gate.json: gate.request: expected an object, got an array");
    expect_error("{} {}", "bg-gate.json:1:4: unexpected text after the JSON document");
    /* a trailing comma: the position is the '}' where a member name was expected */
    expect_error("{\"gate\": {\"repeat\": 2,}}", "bg-gate.json:1:23: invalid JSON");
    /* cJSON would keep both and read the first: a duplicate is an error, not a surprise */
    expect_error("{\"gate\": {\"repeat\": 2, \"repeat\": 3}}",
                 "bg-gate.json: gate: duplicate key \"repeat\"");
}
END_TEST

START_TEST(config_threshold_errors_name_the_threshold)
{
    bg_config *cfg = NULL;
    bg_error err = {0};
    const char *t = "{\"gate\": {\"thresholds\": {\"p59_ms\": 10}}}";
    ck_assert_int_eq(bg_config_parse(&cfg, "bg-gate.json", t, strlen(t), &err), BG_EINVAL);
    ck_assert_msg(strstr(err.msg, "bg-gate.json: gate.thresholds: ") == err.msg, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "p59_ms"));
    t = "{\"gate\": {\"thresholds\": {\"p95_ms\": \"fast\"}}}";
    ck_assert_int_eq(bg_config_parse(&cfg, "bg-gate.json", t, strlen(t), &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "bg-gate.json: gate.thresholds.p95_ms: expected a number, got a string");
}
END_TEST

START_TEST(config_keeps_request_defaults)
{
    bg_config *cfg = parse_ok("{\"gate\": {\"request\": {\"temperature\": 0, \"max_tokens\": 256}}}");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(cfg->gate.request, "max_tokens")),
                     256);
    bg_config_free(cfg);
}
END_TEST

START_TEST(set_threshold_replaces_same_name)
{
    bg_config *cfg = parse_ok("{\"gate\": {\"thresholds\": {\"p95_ms\": 100}}}");
    bg_threshold th = {0};
    snprintf(th.name, sizeof th.name, "p95_ms");
    snprintf(th.metric, sizeof th.metric, "p95_ms");
    th.limit = 200;
    ck_assert_int_eq(bg_config_set_threshold(&cfg->gate, &th, NULL), 0);
    ck_assert_uint_eq(cfg->gate.n_thresholds, 1);
    ck_assert_double_eq(cfg->gate.thresholds[0].limit, 200);
    bg_config_free(cfg);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, config_defaults_without_gate_section);
    tcase_add_test(tc, config_reads_gate_values_and_resolves_paths);
    tcase_add_test(tc, config_errors_name_the_file_and_json_path);
    tcase_add_test(tc, config_threshold_errors_name_the_threshold);
    tcase_add_test(tc, set_threshold_replaces_same_name);
    tcase_add_test(tc, config_keeps_request_defaults);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
