/* test_router.c — the router module without a real router: validation of the `router`
 * section, the nginx upstream file (exact text, swap-test-restore, read-back), the file
 * and command drivers (with /bin/sh -c scripts as the user's commands), the registry,
 * weight checks and formatting. Real nginx is exercised in test_router_nginx.c. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/proc.h"
#include "bggate/router.h"
#include "bggate/util.h"
#include "../../src/router/router_driver.h"

static char *tmp;

static void setup(void)
{
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
}

static void teardown(void)
{
    bgt_rmtree(tmp);
    free(tmp);
    tmp = NULL;
}

static const char *two_pools = "{\"blue\": {\"endpoints\": [\"http://10.0.0.11:8000/v1\"]},"
                               " \"green\": {\"endpoints\": [\"http://10.0.0.21:8000/v1\"]}}";
static const char *four_servers =
    "{\"blue\": {\"endpoints\": [\"http://10.0.0.11:8000/v1\", \"http://10.0.0.12:8000/v1\"]},"
    " \"green\": {\"endpoints\": [\"http://10.0.0.21:8000/v1\", \"https://gpu-b.internal/v1\"]}}";

/* Builds a router from `{"pools": <pools>, "router": <router>}`; returns bg_router_new's rc. */
static int make_router(bg_router **out, const char *pools_json, const char *router_json,
                       bg_error *err)
{
    char *text = bg_asprintf("{\"pools\": %s, \"router\": %s}", pools_json, router_json);
    cJSON *root = cJSON_Parse(text);
    ck_assert_msg(root != NULL, "bad test JSON: %s", text);
    bg_pools pools;
    memset(&pools, 0, sizeof pools);
    bg_error perr = {0};
    ck_assert_msg(bg_pools_parse(&pools, root, &perr) == 0, "pools: %s", perr.msg);
    int rc = bg_router_new(out, root, &pools, err);
    bg_pools_dispose(&pools);
    cJSON_Delete(root);
    free(text);
    return rc;
}

static void expect_config_error(const char *router_json, const char *msg)
{
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_int_eq(make_router(&r, two_pools, router_json, &err), BG_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.msg, msg);
}

/* An nginx router on tmp/up.conf whose test and reload commands are given as sh scripts. */
static bg_router *nginx_router(const char *pools_json, const char *test_sh,
                               const char *reload_sh)
{
    char *cfg = bg_asprintf("{\"driver\": \"nginx\", \"upstream_file\": \"%s/up.conf\","
                            " \"test_argv\": [\"/bin/sh\", \"-c\", \"%s\"],"
                            " \"reload_argv\": [\"/bin/sh\", \"-c\", \"%s\"]}",
                            tmp, test_sh, reload_sh);
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_msg(make_router(&r, pools_json, cfg, &err) == 0, "%s", err.msg);
    free(cfg);
    return r;
}

static char *tmp_file(const char *name)
{
    char *path = bg_asprintf("%s/%s", tmp, name);
    char *text = bgt_read_file(path);
    free(path);
    return text;
}

static bool tmp_exists(const char *name)
{
    char *path = bg_asprintf("%s/%s", tmp, name);
    bool yes = access(path, F_OK) == 0;
    free(path);
    return yes;
}

static void set_ok(bg_router *r, int blue, int green)
{
    bg_weights w = {{blue, green}};
    bg_error err = {0};
    ck_assert_msg(bg_router_set(r, &w, &err) == 0, "set %d/%d: %s", blue, green, err.msg);
}

/* --- validation --- */

START_TEST(config_unknown_driver_suggests_the_closest)
{
    expect_config_error("{\"driver\": \"ngnix\"}",
                        "router.driver: unknown driver \"ngnix\" (did you mean \"nginx\"? known: "
                        "nginx, file, command, haproxy)");
    expect_config_error("{\"driver\": \"traefik\"}",
                        "router.driver: unknown driver \"traefik\" (known: nginx, file, command, haproxy)");
}
END_TEST

START_TEST(config_requires_driver_and_section)
{
    expect_config_error("{\"upstream_file\": \"/x\"}", "router.driver: missing (a string is required)");
    expect_config_error("[]", "router: expected an object, got an array");
    bg_router *r = NULL;
    bg_error err = {0};
    cJSON *root = cJSON_Parse("{}");
    ck_assert_int_eq(bg_router_new(&r, root, NULL, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "router: missing (the config has no router section)");
    cJSON_Delete(root);
}
END_TEST

START_TEST(config_nginx_requires_upstream_file)
{
    expect_config_error("{\"driver\": \"nginx\"}",
                        "router.upstream_file: missing (a string is required)");
}
END_TEST

START_TEST(config_rejects_unknown_key_with_suggestion)
{
    expect_config_error("{\"driver\": \"nginx\", \"upstream_fil\": \"/x\"}",
                        "router.upstream_fil: unknown field (did you mean \"upstream_file\"?)");
    /* another driver's key is not accepted either */
    expect_config_error("{\"driver\": \"file\", \"path\": \"/x\", \"test_argv\": [\"x\"]}",
                        "router.test_argv: unknown field");
}
END_TEST

START_TEST(config_rejects_bad_endpoint)
{
    expect_config_error("{\"driver\": \"file\", \"path\": \"/x\", \"endpoint\": \"ftp://lb/v1\"}",
                        "router.endpoint: \"ftp://lb/v1\" is not an http:// or https:// URL");
}
END_TEST

START_TEST(config_nginx_rejects_an_unknown_mode)
{
    expect_config_error("{\"driver\": \"nginx\", \"upstream_file\": \"/x\", \"mode\": \"fast\"}",
                        "router.mode: unknown mode \"fast\" (known: reload, hitless)");
}
END_TEST

START_TEST(config_nginx_rejects_bad_argv_and_upstream_name)
{
    expect_config_error("{\"driver\": \"nginx\", \"upstream_file\": \"/x\", \"test_argv\": []}",
                        "router.test_argv: expected a non-empty array of strings, got an empty "
                        "array");
    expect_config_error("{\"driver\": \"nginx\", \"upstream_file\": \"/x\", \"reload_argv\": "
                        "\"nginx -s reload\"}",
                        "router.reload_argv: expected a non-empty array of strings, got a string");
    expect_config_error("{\"driver\": \"nginx\", \"upstream_file\": \"/x\", \"upstream_name\": "
                        "\"a b;\"}",
                        "router.upstream_name: \"a b;\" is not an nginx upstream name (letters, "
                        "digits, '_', '-', '.')");
}
END_TEST

START_TEST(config_nginx_rejects_endpoint_it_cannot_use_as_server)
{
    bg_router *r = NULL;
    bg_error err = {0};
    const char *pools = "{\"blue\": {\"endpoints\": [\"http://10.0.0.11:8000/v1\"]},"
                        " \"green\": {\"endpoints\": [\"http://10.0.0.21:99999/v1\"]}}";
    ck_assert_int_eq(make_router(&r, pools, "{\"driver\": \"nginx\", \"upstream_file\": \"/x\"}",
                                 &err),
                     BG_EINVAL);
    ck_assert_str_eq(err.msg, "pools.green.endpoints[0]: \"http://10.0.0.21:99999/v1\" has a bad "
                              "port");
    pools = "{\"blue\": {\"endpoints\": [\"http://user:pw@10.0.0.11:8000/v1\"]},"
            " \"green\": {\"endpoints\": [\"http://10.0.0.21:8000/v1\"]}}";
    ck_assert_int_eq(make_router(&r, pools, "{\"driver\": \"nginx\", \"upstream_file\": \"/x\"}",
                                 &err),
                     BG_EINVAL);
    ck_assert_str_eq(err.msg, "pools.blue.endpoints[0]: \"http://user:pw@10.0.0.11:8000/v1\" "
                              "cannot be an nginx server address (only host:port)");
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(config_command_requires_both_argvs)
{
    expect_config_error("{\"driver\": \"command\", \"get_argv\": [\"x\"]}",
                        "router.set_argv: missing (an argv array is required)");
}
END_TEST

START_TEST(config_keeps_endpoint_and_upstream_header)
{
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_int_eq(make_router(&r, two_pools,
                                 "{\"driver\": \"file\", \"path\": \"/x\", \"endpoint\": "
                                 "\"http://127.0.0.1:8080/v1\", \"upstream_header\": "
                                 "\"X-BG-Upstream\"}",
                                 &err),
                     0);
    ck_assert_str_eq(bg_router_driver_name(r), "file");
    ck_assert_str_eq(bg_router_endpoint(r), "http://127.0.0.1:8080/v1");
    ck_assert_str_eq(bg_router_upstream_header(r), "X-BG-Upstream");
    bg_router_free(r);
    ck_assert_int_eq(make_router(&r, two_pools, "{\"driver\": \"file\", \"path\": \"/x\"}", &err),
                     0);
    ck_assert_ptr_null(bg_router_endpoint(r));
    ck_assert_ptr_null(bg_router_upstream_header(r));
    bg_router_free(r);
    bg_router_free(NULL);
}
END_TEST

START_TEST(set_rejects_weights_that_do_not_add_up_to_100)
{
    bg_router *r = nginx_router(two_pools, "exit 0", "exit 0");
    bg_error err = {0};
    bg_weights bad = {{50, 60}}, neg = {{120, -20}};
    ck_assert_int_eq(bg_router_set(r, &bad, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "weights must add up to 100, got blue 50 + green 60 = 110");
    ck_assert_int_eq(bg_router_set(r, &neg, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "weight of blue must be from 0 to 100, got 120");
    ck_assert(!tmp_exists("up.conf")); /* nothing was written */
    bg_router_free(r);
}
END_TEST

/* --- the nginx upstream file --- */

START_TEST(nginx_renders_100_0)
{
    bg_router *r = nginx_router(two_pools, "exit 0", "exit 0");
    set_ok(r, 100, 0);
    char *text = tmp_file("up.conf");
    ck_assert_str_eq(text, "# bg-gate: blue=100 green=0 (managed by bg-gate; do not edit)\n"
                           "upstream bg_gate_llm {\n"
                           "    server 10.0.0.11:8000 weight=100; # blue\n"
                           "    server 10.0.0.21:8000 down; # green\n"
                           "    keepalive 32;\n"
                           "}\n");
    free(text);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_renders_0_100)
{
    bg_router *r = nginx_router(two_pools, "exit 0", "exit 0");
    set_ok(r, 0, 100);
    char *text = tmp_file("up.conf");
    ck_assert_str_eq(text, "# bg-gate: blue=0 green=100 (managed by bg-gate; do not edit)\n"
                           "upstream bg_gate_llm {\n"
                           "    server 10.0.0.11:8000 down; # blue\n"
                           "    server 10.0.0.21:8000 weight=100; # green\n"
                           "    keepalive 32;\n"
                           "}\n");
    free(text);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_renders_75_25)
{
    bg_router *r = nginx_router(two_pools, "exit 0", "exit 0");
    set_ok(r, 75, 25);
    char *text = tmp_file("up.conf");
    ck_assert_str_eq(text, "# bg-gate: blue=75 green=25 (managed by bg-gate; do not edit)\n"
                           "upstream bg_gate_llm {\n"
                           "    server 10.0.0.11:8000 weight=75; # blue\n"
                           "    server 10.0.0.21:8000 weight=25; # green\n"
                           "    keepalive 32;\n"
                           "}\n");
    free(text);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_spreads_a_pool_share_over_its_servers)
{
    bg_router *r = nginx_router(four_servers, "exit 0", "exit 0");
    set_ok(r, 75, 25);
    char *text = tmp_file("up.conf");
    /* 75 over 2 → 38 + 37, 25 over 2 → 13 + 12; https without a port → 443 */
    ck_assert_str_eq(text, "# bg-gate: blue=75 green=25 (managed by bg-gate; do not edit)\n"
                           "upstream bg_gate_llm {\n"
                           "    server 10.0.0.11:8000 weight=38; # blue\n"
                           "    server 10.0.0.12:8000 weight=37; # blue\n"
                           "    server 10.0.0.21:8000 weight=13; # green\n"
                           "    server gpu-b.internal:443 weight=12; # green\n"
                           "    keepalive 32;\n"
                           "}\n");
    free(text);
    set_ok(r, 100, 0);
    text = tmp_file("up.conf");
    ck_assert_str_eq(text, "# bg-gate: blue=100 green=0 (managed by bg-gate; do not edit)\n"
                           "upstream bg_gate_llm {\n"
                           "    server 10.0.0.11:8000 weight=50; # blue\n"
                           "    server 10.0.0.12:8000 weight=50; # blue\n"
                           "    server 10.0.0.21:8000 down; # green\n"
                           "    server gpu-b.internal:443 down; # green\n"
                           "    keepalive 32;\n"
                           "}\n");
    free(text);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_upstream_name_keepalive_and_default_ports)
{
    const char *pools = "{\"blue\": {\"endpoints\": [\"http://blue.local/v1\"]},"
                        " \"green\": {\"endpoints\": [\"http://[::1]:9000/v1\"]}}";
    char *cfg = bg_asprintf("{\"driver\": \"nginx\", \"upstream_file\": \"%s/up.conf\","
                            " \"upstream_name\": \"llm\", \"keepalive\": 0,"
                            " \"test_argv\": [\"true\"], \"reload_argv\": [\"true\"]}",
                            tmp);
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_msg(make_router(&r, pools, cfg, &err) == 0, "%s", err.msg);
    set_ok(r, 1, 99);
    char *text = tmp_file("up.conf");
    ck_assert_str_eq(text, "# bg-gate: blue=1 green=99 (managed by bg-gate; do not edit)\n"
                           "upstream llm {\n"
                           "    server blue.local:80 weight=1; # blue\n"
                           "    server [::1]:9000 weight=99; # green\n"
                           "}\n");
    free(text);
    free(cfg);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_get_after_set_round_trips)
{
    bg_router *r = nginx_router(four_servers, "exit 0", "exit 0");
    static const int steps[][2] = {{100, 0}, {99, 1}, {75, 25}, {25, 75}, {0, 100}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        bg_weights got = {{-1, -1}};
        bg_error err = {0};
        set_ok(r, steps[i][0], steps[i][1]);
        ck_assert_msg(bg_router_get(r, &got, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(got.w[BG_POOL_BLUE], steps[i][0]);
        ck_assert_int_eq(got.w[BG_POOL_GREEN], steps[i][1]);
    }
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_get_without_file_says_no_weights_yet)
{
    bg_router *r = nginx_router(two_pools, "exit 0", "exit 0");
    bg_weights got;
    bg_error err = {0};
    char *msg = bg_asprintf("router has no weights yet (%s/up.conf missing)", tmp);
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, msg);
    free(msg);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_get_reports_a_hand_edited_file)
{
    bg_router *r = nginx_router(two_pools, "exit 0", "exit 0");
    bg_weights got;
    bg_error err = {0};
    char *path = bg_asprintf("%s/up.conf", tmp);
    const char *edited = "# bg-gate: blue=100 green=0 (managed by bg-gate; do not edit)\n"
                         "upstream bg_gate_llm {\n"
                         "    server 10.0.0.11:8000 weight=50; # blue\n"
                         "    server 10.0.0.21:8000 weight=50; # green\n"
                         "}\n";
    ck_assert_int_eq(bg_file_write_atomic(path, edited, strlen(edited), &err), 0);
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EPROTO);
    char *msg = bg_asprintf("%s: server weights (blue 50, green 50) disagree with the header "
                            "(blue=100 green=0); edited by hand?",
                            path);
    ck_assert_str_eq(err.msg, msg);
    free(msg);
    const char *foreign = "upstream x { server 1.2.3.4:80; }\n";
    ck_assert_int_eq(bg_file_write_atomic(path, foreign, strlen(foreign), &err), 0);
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EPROTO);
    msg = bg_asprintf("%s: no \"# bg-gate: blue=N green=M\" header on line 1 (not written by "
                      "bg-gate?)",
                      path);
    ck_assert_str_eq(err.msg, msg);
    free(msg);
    free(path);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_test_runs_against_the_new_file)
{
    /* the test command must see the candidate in place (nginx -t reads the live path) */
    char *script = bg_asprintf("grep -q 'blue=0 green=100' %s/up.conf", tmp);
    bg_router *r = nginx_router(two_pools, script, "exit 0");
    set_ok(r, 0, 100);
    free(script);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_failed_test_restores_previous_file)
{
    bg_router *ok = nginx_router(two_pools, "exit 0", "exit 0");
    set_ok(ok, 100, 0);
    char *before = tmp_file("up.conf");
    bg_router_free(ok);

    char *reload = bg_asprintf("touch %s/reloaded-after-bad-test", tmp);
    bg_router *r = nginx_router(two_pools,
                                "echo 'nginx: [emerg] host not found in upstream' >&2; exit 1",
                                reload);
    bg_weights w = {{0, 100}}, got;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_set(r, &w, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "test_argv: /bin/sh exited with 1: nginx: [emerg] host not found "
                              "in upstream (the previous upstream file is back in place)");
    char *after = tmp_file("up.conf");
    ck_assert_str_eq(after, before);
    ck_assert(!tmp_exists("reloaded-after-bad-test")); /* no reload after a failed test */
    ck_assert_int_eq(bg_router_get(r, &got, &err), 0);
    ck_assert_int_eq(got.w[BG_POOL_BLUE], 100);
    free(before);
    free(after);
    free(reload);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_failed_first_test_leaves_no_file)
{
    bg_router *r = nginx_router(two_pools, "exit 1", "exit 0");
    bg_weights w = {{100, 0}};
    bg_error err = {0};
    ck_assert_int_eq(bg_router_set(r, &w, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "test_argv: /bin/sh exited with 1: no output (the previous "
                              "upstream file is back in place)");
    ck_assert(!tmp_exists("up.conf"));
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_failed_reload_restores_and_reloads_previous_file)
{
    bg_router *ok = nginx_router(two_pools, "exit 0", "exit 0");
    set_ok(ok, 100, 0);
    char *before = tmp_file("up.conf");
    bg_router_free(ok);

    /* the first reload fails, the second (of the restored file) succeeds */
    char *reload = bg_asprintf("if [ -e %s/once ]; then touch %s/second; exit 0; fi; "
                               "touch %s/once; echo 'nginx: [error] invalid PID' >&2; exit 1",
                               tmp, tmp, tmp);
    bg_router *r = nginx_router(two_pools, "exit 0", reload);
    bg_weights w = {{0, 100}};
    bg_error err = {0};
    ck_assert_int_eq(bg_router_set(r, &w, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "reload_argv: /bin/sh exited with 1: nginx: [error] invalid PID "
                              "(the previous upstream file is back in place and reloaded)");
    char *after = tmp_file("up.conf");
    ck_assert_str_eq(after, before);
    ck_assert(tmp_exists("second"));
    free(before);
    free(after);
    free(reload);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_missing_test_command_is_reported)
{
    char *cfg = bg_asprintf("{\"driver\": \"nginx\", \"upstream_file\": \"%s/up.conf\","
                            " \"test_argv\": [\"bg-no-such-nginx\", \"-t\"]}",
                            tmp);
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_int_eq(make_router(&r, two_pools, cfg, &err), 0);
    bg_weights w = {{100, 0}};
    ck_assert_int_eq(bg_router_set(r, &w, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "test_argv: bg-no-such-nginx: cannot run: No such file or "
                              "directory (the previous upstream file is back in place)");
    free(cfg);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_keeps_the_previous_file_beside_the_new_one)
{
    bg_router *r = nginx_router(two_pools, "exit 0", "exit 0");
    set_ok(r, 100, 0);
    char *first = tmp_file("up.conf");
    set_ok(r, 0, 100);
    char *prev = tmp_file("up.conf.bg-gate-prev");
    ck_assert_ptr_nonnull(prev);
    ck_assert_str_eq(prev, first);
    free(first);
    free(prev);
    bg_router_free(r);
}
END_TEST

/* --- file driver --- */

static bg_router *file_router(void)
{
    char *cfg = bg_asprintf("{\"driver\": \"file\", \"path\": \"%s/weights.json\"}", tmp);
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_msg(make_router(&r, two_pools, cfg, &err) == 0, "%s", err.msg);
    free(cfg);
    return r;
}

START_TEST(file_driver_writes_and_reads_weights)
{
    bg_router *r = file_router();
    bg_weights got;
    bg_error err = {0};
    set_ok(r, 25, 75);
    char *text = tmp_file("weights.json");
    ck_assert_str_eq(text, "{\"blue\": 25, \"green\": 75}\n");
    free(text);
    ck_assert_int_eq(bg_router_get(r, &got, &err), 0);
    ck_assert_int_eq(got.w[BG_POOL_BLUE], 25);
    ck_assert_int_eq(got.w[BG_POOL_GREEN], 75);
    bg_router_free(r);
}
END_TEST

START_TEST(file_driver_rejects_bad_content)
{
    bg_router *r = file_router();
    bg_weights got;
    bg_error err = {0};
    char *path = bg_asprintf("%s/weights.json", tmp);
    char *msg = bg_asprintf("router has no weights yet (%s missing)", path);
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, msg);
    free(msg);

    const char *split = "{\"blue\": 50, \"green\": 40}";
    ck_assert_int_eq(bg_file_write_atomic(path, split, strlen(split), &err), 0);
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EPROTO);
    msg = bg_asprintf("%s: weights must add up to 100, got blue 50 + green 40 = 90", path);
    ck_assert_str_eq(err.msg, msg);
    free(msg);

    const char *junk = "blue=100";
    ck_assert_int_eq(bg_file_write_atomic(path, junk, strlen(junk), &err), 0);
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EPROTO);
    msg = bg_asprintf("%s: not JSON (expected {\"blue\": N, \"green\": M})", path);
    ck_assert_str_eq(err.msg, msg);
    free(msg);
    free(path);
    bg_router_free(r);
}
END_TEST

/* --- command driver --- */

static bg_router *command_router(const char *set_sh, const char *get_sh)
{
    char *cfg = bg_asprintf("{\"driver\": \"command\", \"timeout_s\": 5,"
                            " \"set_argv\": [\"/bin/sh\", \"-c\", \"%s\"],"
                            " \"get_argv\": [\"/bin/sh\", \"-c\", \"%s\"]}",
                            set_sh, get_sh);
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_msg(make_router(&r, two_pools, cfg, &err) == 0, "%s", err.msg);
    free(cfg);
    return r;
}

START_TEST(command_driver_passes_weights_in_env_and_reads_json)
{
    char *set = bg_asprintf("echo progress; printf '{\\\"blue\\\": %%s, \\\"green\\\": "
                            "%%s}' $BG_BLUE_WEIGHT $BG_GREEN_WEIGHT > %s/w",
                            tmp);
    char *get = bg_asprintf("echo 'connecting…' >&2; cat %s/w", tmp);
    bg_router *r = command_router(set, get);
    bg_weights got;
    bg_error err = {0};
    set_ok(r, 60, 40);
    char *text = tmp_file("w");
    ck_assert_str_eq(text, "{\"blue\": 60, \"green\": 40}");
    free(text);
    ck_assert_msg(bg_router_get(r, &got, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(got.w[BG_POOL_BLUE], 60);
    ck_assert_int_eq(got.w[BG_POOL_GREEN], 40);
    free(set);
    free(get);
    bg_router_free(r);
}
END_TEST

START_TEST(command_driver_failure_carries_the_output)
{
    bg_router *r = command_router("echo 'lb api: 403 forbidden' >&2; exit 7",
                                  "echo '{\\\"blue\\\": 100}'");
    bg_weights w = {{0, 100}}, got;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_set(r, &w, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "set_argv: /bin/sh exited with 7: lb api: 403 forbidden");
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "get_argv: /bin/sh: green: missing (an integer is required)");
    bg_router_free(r);
}
END_TEST

START_TEST(command_driver_rejects_non_json_output)
{
    bg_router *r = command_router("exit 0", "echo blue is live");
    bg_weights got;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "get_argv: /bin/sh: expected {\"blue\": N, \"green\": M} on stdout, "
                              "got: blue is live");
    bg_router_free(r);
}
END_TEST

START_TEST(command_driver_times_out)
{
    char *cfg = bg_asprintf("{\"driver\": \"command\", \"timeout_s\": 1,"
                            " \"set_argv\": [\"sleep\", \"10\"], \"get_argv\": [\"true\"]}");
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_int_eq(make_router(&r, two_pools, cfg, &err), 0);
    bg_weights w = {{0, 100}};
    ck_assert_int_eq(bg_router_set(r, &w, &err), BG_ETIMEOUT);
    ck_assert_str_eq(err.msg, "set_argv: sleep: no exit within 1000 ms");
    free(cfg);
    bg_router_free(r);
}
END_TEST

/* --- registry and weights --- */

START_TEST(registry_has_unique_names_and_required_ops)
{
    const bg_router_driver *table[16];
    size_t n = 0;
    bg_error err = {0};
    while (n < 16 && (table[n] = bg_router_driver_at(n)))
        n++;
    ck_assert_uint_ge(n, 3);
    ck_assert_msg(bg_router_drivers_check(table, n, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++)
        ck_assert_ptr_eq(bg_router_driver_find(table[i]->name), table[i]);
    ck_assert_ptr_null(bg_router_driver_find("haproxy-typo"));
}
END_TEST

START_TEST(registry_check_rejects_duplicates_and_missing_ops)
{
    bg_error err = {0};
    const bg_router_driver *dup[] = {&bg_router_driver_nginx, &bg_router_driver_file,
                                     &bg_router_driver_nginx};
    ck_assert_int_eq(bg_router_drivers_check(dup, 3, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "router driver \"nginx\" registered twice");
    bg_router_driver broken = bg_router_driver_file;
    broken.name = "broken";
    broken.set = NULL;
    const bg_router_driver *missing[] = {&broken};
    ck_assert_int_eq(bg_router_drivers_check(missing, 1, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "router driver \"broken\" lacks a required operation");
}
END_TEST

START_TEST(weights_format_and_live_pool)
{
    char buf[64];
    bg_weights flip = {{0, 100}}, blue = {{100, 0}}, canary = {{75, 25}};
    bg_weights_format(buf, sizeof buf, &canary);
    ck_assert_str_eq(buf, "blue 75% / green 25%");
    ck_assert_int_eq(bg_weights_live(&flip), BG_POOL_GREEN);
    ck_assert_int_eq(bg_weights_live(&blue), BG_POOL_BLUE);
    ck_assert_int_eq(bg_weights_live(&canary), -1);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, config_unknown_driver_suggests_the_closest);
    tcase_add_test(tc, config_requires_driver_and_section);
    tcase_add_test(tc, config_nginx_requires_upstream_file);
    tcase_add_test(tc, config_rejects_unknown_key_with_suggestion);
    tcase_add_test(tc, config_rejects_bad_endpoint);
    tcase_add_test(tc, config_nginx_rejects_an_unknown_mode);
    tcase_add_test(tc, config_nginx_rejects_bad_argv_and_upstream_name);
    tcase_add_test(tc, config_nginx_rejects_endpoint_it_cannot_use_as_server);
    tcase_add_test(tc, config_command_requires_both_argvs);
    tcase_add_test(tc, config_keeps_endpoint_and_upstream_header);
    tcase_add_test(tc, set_rejects_weights_that_do_not_add_up_to_100);
    suite_add_tcase(s, tc);

    tc = tcase_create("nginx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, nginx_renders_100_0);
    tcase_add_test(tc, nginx_renders_0_100);
    tcase_add_test(tc, nginx_renders_75_25);
    tcase_add_test(tc, nginx_spreads_a_pool_share_over_its_servers);
    tcase_add_test(tc, nginx_upstream_name_keepalive_and_default_ports);
    tcase_add_test(tc, nginx_get_after_set_round_trips);
    tcase_add_test(tc, nginx_get_without_file_says_no_weights_yet);
    tcase_add_test(tc, nginx_get_reports_a_hand_edited_file);
    tcase_add_test(tc, nginx_test_runs_against_the_new_file);
    tcase_add_test(tc, nginx_failed_test_restores_previous_file);
    tcase_add_test(tc, nginx_failed_first_test_leaves_no_file);
    tcase_add_test(tc, nginx_failed_reload_restores_and_reloads_previous_file);
    tcase_add_test(tc, nginx_missing_test_command_is_reported);
    tcase_add_test(tc, nginx_keeps_the_previous_file_beside_the_new_one);
    suite_add_tcase(s, tc);

    tc = tcase_create("drivers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, file_driver_writes_and_reads_weights);
    tcase_add_test(tc, file_driver_rejects_bad_content);
    tcase_add_test(tc, command_driver_passes_weights_in_env_and_reads_json);
    tcase_add_test(tc, command_driver_failure_carries_the_output);
    tcase_add_test(tc, command_driver_rejects_non_json_output);
    tcase_add_test(tc, command_driver_times_out);
    tcase_add_test(tc, registry_has_unique_names_and_required_ops);
    tcase_add_test(tc, registry_check_rejects_duplicates_and_missing_ops);
    tcase_add_test(tc, weights_format_and_live_pool);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
