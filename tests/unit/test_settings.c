/* test_settings.c — the deploy settings of bg-gate.json (settings.c): the promotion
 * section, canary steps, probes and the analysis checked before anything is deployed, and
 * the verification a config with pools and a router must make possible. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "bggate/config.h"
#include "bggate/deploy.h"

typedef struct parsed {
    bg_promotion_strategy strategy;
    int steps[BG_RAMP_MAX_STEPS];
    size_t n_steps;
    long bake_s;
    double probe_rate;
} parsed;

/* Parses {"promotion": <promotion>} and returns the settings' error ("" when none); out
 * (may be NULL) gets the canary numbers. */
static const char *promotion_error(const char *promotion, parsed *out)
{
    static bg_error err;
    char text[2048];
    snprintf(text, sizeof text, "{\"promotion\": %s}", promotion);
    bg_config *cfg = NULL;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(bg_config_parse(&cfg, "t.json", text, strlen(text), &err), 0);
    bg_deploy_settings set;
    int rc = bg_deploy_settings_parse(&set, cfg, &err);
    if (rc == 0 && out) {
        out->strategy = set.strategy;
        memcpy(out->steps, set.steps, sizeof out->steps);
        out->n_steps = set.n_steps;
        out->bake_s = set.bake_s;
        out->probe_rate = set.probe_rate;
    }
    if (rc == 0)
        bg_deploy_settings_dispose(&set);
    bg_config_free(cfg);
    /* messages name the config file first */
    if (rc != 0)
        ck_assert_msg(strncmp(err.msg, "t.json: ", 8) == 0, "%s", err.msg);
    return rc == 0 ? "" : err.msg + 8;
}

START_TEST(flip_is_the_default_and_canary_has_default_steps)
{
    parsed s;
    ck_assert_str_eq(promotion_error("{}", &s), "");
    ck_assert_int_eq(s.strategy, BG_STRATEGY_FLIP);
    ck_assert_str_eq(promotion_error("{\"strategy\": \"canary\"}", &s), "");
    ck_assert_int_eq(s.strategy, BG_STRATEGY_CANARY);
    ck_assert_uint_eq(s.n_steps, 4);
    ck_assert_int_eq(s.steps[0], 1);
    ck_assert_int_eq(s.steps[3], 100);
    ck_assert_int_eq(s.bake_s, 300);
    ck_assert_str_eq(promotion_error("{\"strategy\": \"canary\", \"steps\": [5, 100], "
                                     "\"bake_s\": 2, \"probes\": {\"suite\": \"s.jsonl\", "
                                     "\"rate\": 4}}",
                                     &s),
                     "");
    ck_assert_uint_eq(s.n_steps, 2);
    ck_assert_int_eq(s.bake_s, 2);
    ck_assert(s.probe_rate == 4);
}
END_TEST

START_TEST(bad_steps_name_the_index)
{
    ck_assert_str_eq(promotion_error("{\"strategy\": \"canary\", \"steps\": [25, 10, 100]}", NULL),
                     "promotion.steps[1]: 10 is not above the step before (25)");
    ck_assert_str_eq(promotion_error("{\"strategy\": \"canary\", \"steps\": [25, 50]}", NULL),
                     "promotion.steps: the last step must be 100 (got 50)");
    ck_assert_str_eq(promotion_error("{\"strategy\": \"canary\", \"steps\": [0.5, 100]}", NULL),
                     "promotion.steps[0]: expected a whole percentage 1..100");
    ck_assert_str_eq(promotion_error("{\"strategy\": \"canary\", \"steps\": []}", NULL),
                     "promotion.steps: expected 1 to 20 percentages, e.g. [1, 25, 75, 100]");
}
END_TEST

START_TEST(canary_keys_need_the_canary_strategy)
{
    ck_assert_str_eq(promotion_error("{\"steps\": [50, 100]}", NULL),
                     "promotion.steps: only used with \"strategy\": \"canary\"");
    ck_assert_str_eq(promotion_error("{\"strategy\": \"flip\", \"bake_s\": 5}", NULL),
                     "promotion.bake_s: only used with \"strategy\": \"canary\"");
    ck_assert_str_eq(promotion_error("{\"strategy\": \"linear\"}", NULL),
                     "promotion.strategy: expected \"flip\" or \"canary\", got \"linear\"");
}
END_TEST

/* A bad analysis must stop the deploy before a pool is touched, not at the first step. */
START_TEST(analysis_and_probes_are_checked_up_front)
{
    const char *e = promotion_error(
        "{\"strategy\": \"canary\", \"analysis\": {\"checks\": [{\"metric\": \"e2e_p96_s\", "
        "\"max\": 1}]}}",
        NULL);
    ck_assert_msg(strstr(e, "promotion.analysis.checks[0].metric: unknown metric \"e2e_p96_s\""),
                  "%s", e);
    e = promotion_error("{\"strategy\": \"canary\", \"analysis\": {\"interval_s\": 0}}", NULL);
    ck_assert_msg(strstr(e, "promotion.analysis.interval_s"), "%s", e);
    ck_assert_str_eq(promotion_error("{\"strategy\": \"canary\", \"probes\": {\"rate\": 1}}", NULL),
                     "promotion.probes.suite: missing (a string is required)");
    e = promotion_error("{\"strategy\": \"canary\", \"probes\": {\"suite\": \"s\", \"rat\": 1}}",
                        NULL);
    ck_assert_msg(strstr(e, "promotion.probes") && strstr(e, "rate"), "%s", e);
}
END_TEST

/* The settings' error for a whole config ("" when none). */
static const char *config_error(const char *text)
{
    static bg_error err;
    bg_config *cfg = NULL;
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(bg_config_parse(&cfg, "t.json", text, strlen(text), &err), 0);
    bg_deploy_settings set;
    int rc = bg_deploy_settings_parse(&set, cfg, &err);
    if (rc == 0)
        bg_deploy_settings_dispose(&set);
    bg_config_free(cfg);
    return rc == 0 ? "" : err.msg;
}

#define POOLS "\"pools\": {\"blue\": {\"endpoints\": [\"http://127.0.0.1:1/v1\"]}}, "

START_TEST(a_router_config_must_say_how_a_flip_is_verified)
{
    const char *e = config_error("{" POOLS "\"router\": {\"driver\": \"file\", \"path\": \"w\"}}");
    ck_assert_msg(strstr(e, "t.json: router.endpoint: missing"), "%s", e);
    e = config_error("{" POOLS "\"router\": {\"driver\": \"file\", \"path\": \"w\", "
                     "\"endpoint\": \"http://127.0.0.1:2/v1\"}}");
    ck_assert_msg(strstr(e, "t.json: router.upstream_header: missing") &&
                      strstr(e, "\"verify\": \"model-only\""),
                  "%s", e);
    /* the documented opt-out, and a complete config */
    ck_assert_str_eq(config_error("{" POOLS "\"router\": {\"driver\": \"file\", \"path\": "
                                  "\"w\", \"endpoint\": \"http://127.0.0.1:2/v1\"}, "
                                  "\"promotion\": {\"verify\": \"model-only\"}}"),
                     "");
    ck_assert_str_eq(config_error("{" POOLS "\"router\": {\"driver\": \"file\", \"path\": "
                                  "\"w\", \"endpoint\": \"http://127.0.0.1:2/v1\", "
                                  "\"upstream_header\": \"X-BG-Upstream\"}}"),
                     "");
    /* a typo is named as one, not as a missing key */
    e = config_error("{" POOLS "\"router\": {\"driver\": \"file\", \"path\": \"w\", "
                     "\"endpoint\": \"http://127.0.0.1:2/v1\", \"upstream_heaedr\": \"X\"}}");
    ck_assert_msg(strstr(e, "router.upstream_heaedr: unknown field (did you mean "
                            "\"upstream_header\"?)"),
                  "%s", e);
    /* model-only does not excuse the endpoint; an unknown mode is named */
    e = config_error("{" POOLS "\"router\": {\"driver\": \"file\", \"path\": \"w\"}, "
                     "\"promotion\": {\"verify\": \"model-only\"}}");
    ck_assert_msg(strstr(e, "router.endpoint: missing"), "%s", e);
    ck_assert_str_eq(promotion_error("{\"verify\": \"header\"}", NULL),
                     "promotion.verify: expected \"upstream\" or \"model-only\", got \"header\"");
    /* eval-only configs need none of it */
    ck_assert_str_eq(config_error("{\"gate\": {\"concurrency\": 2}}"), "");
    ck_assert_str_eq(promotion_error("{\"verify_requests\": 2}", NULL), "");
}
END_TEST

START_TEST(a_verify_suite_must_load_without_templates)
{
    const char *e = promotion_error("{\"verify_suite\": \"/nonexistent/verify.jsonl\"}", NULL);
    ck_assert_msg(strstr(e, "promotion.verify_suite") && strstr(e, "/nonexistent/verify.jsonl"),
                  "%s", e);
    char path[] = "/tmp/bg-settings-suite.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *line = "{\"id\": \"t\", \"template\": \"qa\", \"vars\": {}, \"assert\": "
                       "[{\"type\": \"contains\", \"value\": \"x\"}]}\n";
    ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    close(fd);
    char promo[256];
    snprintf(promo, sizeof promo, "{\"verify_suite\": \"%s\"}", path);
    e = promotion_error(promo, NULL);
    ck_assert_msg(strstr(e, "case \"t\" uses a template"), "%s", e);
    unlink(path);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("promotion");
    tcase_add_test(tc, flip_is_the_default_and_canary_has_default_steps);
    tcase_add_test(tc, bad_steps_name_the_index);
    tcase_add_test(tc, canary_keys_need_the_canary_strategy);
    tcase_add_test(tc, analysis_and_probes_are_checked_up_front);
    tcase_add_test(tc, a_router_config_must_say_how_a_flip_is_verified);
    tcase_add_test(tc, a_verify_suite_must_load_without_templates);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
