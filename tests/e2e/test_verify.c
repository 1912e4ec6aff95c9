/* test_verify.c — how a flip is verified, end to end with the real nginx (Debian), two
 * bg-mock pools restarted by the test pool script and a real git repository (the
 * deployfix.h environment):
 *  - a config that cannot prove where traffic went (no router.endpoint, no
 *    router.upstream_header) is refused with exit 2 before any pool or router is touched;
 *  - the documented opt-out ("promotion": {"verify": "model-only"}) promotes, with a warning;
 *  - promotion.verify_suite: golden cases through the router after the flip; a case that
 *    fails on the new model flips back (exit 5, live untouched, the case's reason in the
 *    error and the JSON report), a suite that passes promotes;
 *  - a request sent while the router settles that reaches the old pool and answers after
 *    the settle window does not fail a good flip (a scripted router endpoint, strayrouter.h).
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/deployfix.h"
#include "../support/evalfix.h"
#include "../support/strayrouter.h"
#include "../support/sweep.h"
#include "bggate/util.h"

#define E bgt_env

#define NEED_NGINX()                                                                               \
    do {                                                                                           \
        if (!bgt_dfx_can_run(__func__))                                                            \
            return;                                                                                \
    } while (0)

/* ---- helpers ---- */

/* Commits a release whose config has `verify` as the router's verification members and
 * `promotion` appended to the default promotion members. */
static void commit(const char *verify, const char *promotion)
{
    char members[400];
    snprintf(members, sizeof members, "%s%s", BGT_DFX_PROMOTION, promotion);
    E.router_verify = verify;
    E.promotion = members;
    bgt_dfx_commit("good-model", NULL);
    E.promotion = NULL;
}

static void expect_err(const bgt_result *r, const char *text)
{
    ck_assert_msg(strstr(r->err, text) != NULL, "wanted \"%s\" in stderr:\n%s", text, r->err);
}

static void gate(const char *cmd, bgt_result *r)
{
    const char *args[] = {cmd, "--reports", E.reports, NULL};
    if (strcmp(cmd, "deploy") != 0)
        args[1] = NULL;
    bgt_dfx_run(r, args);
}

static bool exists(const char *rel)
{
    char *p = bgt_dfx_path(rel);
    bool yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

static void write_suite(const char *rel, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", E.repo_dir, rel);
    bgt_dfx_write_file(path, text);
}

/* Nothing was touched: green never deployed, blue still the first server, the upstream
 * file as it was, no state written, traffic on blue. */
static void expect_untouched(const char *blue_pid, const char *upstream_text)
{
    ck_assert_msg(!exists("pools/green"), "the green pool was deployed");
    char *pid = bgt_dfx_path("pools/blue/mock.pid");
    char *now = bgt_read_file(pid);
    ck_assert_ptr_nonnull(now);
    ck_assert_str_eq(now, blue_pid);
    char *up = bgt_read_file(E.upstreams);
    ck_assert_str_eq(up, upstream_text);
    ck_assert_msg(!exists("state/e2e.json"), "a state file was written");
    free(pid);
    free(now);
    free(up);
    bgt_dfx_expect_live(E.blue_port, "initial-model");
}

/* The JSON report of the last run with --reports. Caller deletes. */
static cJSON *report_json(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/report.json", E.reports);
    return bgt_load_json(path);
}

/* How long the report's lifecycle phase `phase` took, in seconds. */
static double report_phase_seconds(const char *phase)
{
    cJSON *j = report_json();
    double secs = -1;
    const cJSON *ph;
    cJSON_ArrayForEach(ph, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "deploy"), "lifecycle"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(ph, "phase"));
        if (name && strcmp(name, phase) == 0)
            secs = cJSON_GetNumberValue(cJSON_GetObjectItem(ph, "duration_s"));
    }
    cJSON_Delete(j);
    ck_assert_msg(secs >= 0, "the report has no %s phase", phase);
    return secs;
}

/* The failure of the verify phase in the JSON report (deploy.lifecycle). Caller frees. */
static char *report_verify_failure(void)
{
    cJSON *j = report_json();
    const cJSON *d = cJSON_GetObjectItem(j, "deploy");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "decision")), "rolled-back");
    char *failure = NULL;
    const cJSON *ph;
    cJSON_ArrayForEach(ph, cJSON_GetObjectItem(d, "lifecycle"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(ph, "phase"));
        const char *f = cJSON_GetStringValue(cJSON_GetObjectItem(ph, "failure"));
        if (name && strcmp(name, "verify") == 0 && f)
            failure = bg_strdup(f);
    }
    cJSON_Delete(j);
    ck_assert_msg(failure != NULL, "the report has no failed verify phase");
    return failure;
}

/* ---- tests ---- */

START_TEST(a_config_that_cannot_prove_a_flip_exits_2_before_anything_is_touched)
{
    NEED_NGINX();
    char *pid_path = bgt_dfx_path("pools/blue/mock.pid");
    char *blue_pid = bgt_read_file(pid_path);
    char *upstream_text = bgt_read_file(E.upstreams);
    ck_assert_ptr_nonnull(blue_pid);
    ck_assert_ptr_nonnull(upstream_text);
    struct {
        const char *verify, *promotion, *error;
    } cases[] = {
        {"", "", "router.endpoint: missing"},
        {",\n   \"upstream_header\": \"X-BG-Upstream\"", ", \"verify\": \"model-only\"",
         "router.endpoint: missing"},
        {NULL, "", "router.upstream_header: missing"},
        {NULL, ", \"verify_suite\": \"evals/nope.jsonl\"", "promotion.verify_suite"},
        {NULL, ", \"verify\": \"header\"", "promotion.verify: expected \"upstream\""},
    };
    char endpoint_only[200];
    snprintf(endpoint_only, sizeof endpoint_only, ",\n   \"endpoint\": \"http://127.0.0.1:%d/v1\"",
             E.nginx_port);
    const char *cmds[] = {"validate", "deploy", "promote", "rollback"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *verify = cases[i].verify ? cases[i].verify
                             : i == 2        ? endpoint_only
                                             : NULL; /* the complete default */
        commit(verify, cases[i].promotion);
        for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
            bgt_result r;
            gate(cmds[k], &r);
            bgt_dfx_expect_exit(&r, 2);
            expect_err(&r, cases[i].error);
            expect_err(&r, "bg-gate.json");
            bgt_result_dispose(&r);
        }
        expect_untouched(blue_pid, upstream_text);
    }
    free(pid_path);
    free(blue_pid);
    free(upstream_text);
}
END_TEST

START_TEST(the_model_only_opt_out_promotes_with_a_warning)
{
    NEED_NGINX();
    char endpoint_only[200];
    snprintf(endpoint_only, sizeof endpoint_only, ",\n   \"endpoint\": \"http://127.0.0.1:%d/v1\"",
             E.nginx_port);
    commit(endpoint_only, ", \"verify\": \"model-only\"");
    bgt_result r;
    gate("validate", &r);
    bgt_dfx_expect_exit(&r, 0);
    bgt_result_dispose(&r);
    gate("deploy", &r);
    bgt_dfx_expect_exit(&r, 0);
    expect_err(&r, "promotion.verify is \"model-only\"");
    expect_err(&r, "verified: 3 answers in a row from green");
    bgt_result_dispose(&r);
    bgt_dfx_expect_live(E.green_port, "good-model");
}
END_TEST

START_TEST(a_verify_suite_that_fails_on_the_new_model_flips_back_and_exits_5)
{
    NEED_NGINX();
    /* the gate's suite passes on the good model; this smoke case cannot */
    write_suite("evals/verify.jsonl",
                "{\"id\": \"paris-ok\", \"messages\": [{\"role\": \"user\", \"content\": "
                "\"What is the capital of France?\"}], \"assert\": [{\"type\": \"contains\", "
                "\"value\": \"Paris\"}]}\n"
                "{\"id\": \"wants-lyon\", \"messages\": [{\"role\": \"user\", \"content\": "
                "\"What is the capital of France?\"}], \"assert\": [{\"type\": \"contains\", "
                "\"value\": \"Lyon\"}]}\n");
    commit(NULL, ", \"verify_suite\": \"evals/verify.jsonl\"");
    bgt_result r;
    gate("deploy", &r);
    bgt_dfx_expect_exit(&r, 5);
    expect_err(&r, "verify suite: case \"wants-lyon\"");
    expect_err(&r, "evals/verify.jsonl:2");
    expect_err(&r, "Lyon");
    expect_err(&r, "router restored");
    bgt_result_dispose(&r);
    bgt_dfx_expect_live(E.blue_port, "initial-model");
    char *failure = report_verify_failure();
    ck_assert_msg(strstr(failure, "case \"wants-lyon\"") && strstr(failure, "Lyon"), "%s", failure);
    free(failure);
    /* a promote by hand runs the same suite: it fails the same way and flips back */
    gate("promote", &r);
    ck_assert_int_ne(r.exit_code, 0);
    expect_err(&r, "verify suite: case \"wants-lyon\"");
    bgt_result_dispose(&r);
    bgt_dfx_expect_live(E.blue_port, "initial-model");
}
END_TEST

START_TEST(a_verify_suite_that_passes_promotes)
{
    NEED_NGINX();
    char *src = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *text = bgt_read_file(src);
    ck_assert_ptr_nonnull(text);
    write_suite("evals/verify.jsonl", text);
    free(text);
    free(src);
    commit(NULL, ", \"verify_suite\": \"evals/verify.jsonl\"");
    bgt_result r;
    gate("deploy", &r);
    bgt_dfx_expect_exit(&r, 0);
    expect_err(&r, "case(s) through the router passed, every answer from green");
    ck_assert_msg(strstr(r.err, "model-only") == NULL, "%s", r.err);
    bgt_result_dispose(&r);
    bgt_dfx_expect_live(E.green_port, "good-model");
}
END_TEST

/* Right after a reload an old nginx worker can still accept a request and hand it to the
 * old pool, whose model may take seconds. A request sent inside the settle window that
 * strays must not fail a good flip, however late its answer would come (CI under ASan: the
 * third verify request reached the old pool 4 ms after the flip and answered 6.4 s later,
 * after the window, and the deploy flipped back with exit 5). */
START_TEST(a_slow_stray_answer_while_the_router_settles_does_not_fail_the_flip)
{
    NEED_NGINX();
    char green[64], blue[64], verify[200];
    snprintf(green, sizeof green, "127.0.0.1:%d", E.green_port);
    snprintf(blue, sizeof blue, "127.0.0.1:%d", E.blue_port);
    bgt_stray_script script = {.new_model = "good-model", .new_upstream = green,
                               .old_model = "initial-model", .old_upstream = blue,
                               .header = "X-BG-Upstream", .stray_at = 3,
                               .stray_delay_ms = 6500};
    bgt_stray_router *router = bgt_stray_router_start(&script);
    snprintf(verify, sizeof verify,
             ",\n   \"endpoint\": \"http://127.0.0.1:%d/v1\", \"upstream_header\": "
             "\"X-BG-Upstream\"",
             bgt_stray_router_port(router));
    commit(verify, "");
    bgt_result r;
    gate("deploy", &r);
    bgt_dfx_expect_exit(&r, 0);
    expect_err(&r, "verified: 3 answers in a row from green");
    bgt_result_dispose(&r);
    /* two answers from green, the stray cut short, then three in a row */
    ck_assert_int_eq(bgt_stray_router_requests(router), 6);
    /* verification did not wait for the stray's slow answer */
    double secs = report_phase_seconds("verify");
    ck_assert_msg(secs < 6.5, "the verify phase took %.2f s", secs);
    bgt_stray_router_stop(router);
    bgt_dfx_expect_live(E.green_port, "good-model");
}
END_TEST

Suite *make_suite(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Suite *s = suite_create("e2e_verify");
    TCase *tc = tcase_create("verify");
    tcase_add_checked_fixture(tc, bgt_dfx_setup, bgt_dfx_teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, a_config_that_cannot_prove_a_flip_exits_2_before_anything_is_touched);
    tcase_add_test(tc, the_model_only_opt_out_promotes_with_a_warning);
    tcase_add_test(tc, a_verify_suite_that_fails_on_the_new_model_flips_back_and_exits_5);
    tcase_add_test(tc, a_verify_suite_that_passes_promotes);
    tcase_add_test(tc, a_slow_stray_answer_while_the_router_settles_does_not_fail_the_flip);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
