/* test_router_hitless.c — the nginx router driver in mode "hitless".
 *
 * Without nginx: validation of the mode's keys (messages pinned), the two files bg-gate
 * writes (exact upstream text, the weights JSON), get/set round trips, that a flip runs
 * no nginx command (test_argv/reload_argv only when the upstream file must change) and
 * that a rejected first upstream file leaves no weights behind.
 *
 * With a real nginx (Debian's, with libnginx-mod-http-lua) and two bg-mock servers
 * ("blue-model", "green-model") on 127.0.0.1: the http-level config is the documented
 * snippet docs/nginx-hitless.conf itself, with its /etc/nginx/bg-gate/ paths pointed at the
 * test's temp dir, and docs/bg-gate-weights.lua copied there. Measured: a flip is seen
 * within 50 ms with no reload (same worker pid), a 75/25 canary splits 100 requests
 * exactly (±2), a malformed or missing weights file keeps the last weights.
 * nginx and the mocks are started per test case (unchecked fixture) and stopped by PID.
 * Without nginx, its Lua module or $BG_MOCK_BIN the nginx tests are skipped, loudly.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/nginxfix.h"
#include "../support/proc.h"
#include "bggate/router.h"
#include "bggate/util.h"

#define NGINX_BIN BGT_NGINX_BIN
#define NDK_MODULE "/usr/lib/nginx/modules/ndk_http_module.so"
#define LUA_MODULE "/usr/lib/nginx/modules/ngx_http_lua_module.so"

static char *tmp;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *tmp_path(const char *name)
{
    return bg_asprintf("%s/%s", tmp, name);
}

static void write_tmp_file(const char *name, const char *text)
{
    char *path = tmp_path(name);
    bg_error err = {0};
    ck_assert_msg(bg_file_write_atomic(path, text, strlen(text), &err) == 0, "%s", err.msg);
    free(path);
}

static char *read_tmp_file(const char *name)
{
    char *path = tmp_path(name);
    char *text = bgt_read_file(path);
    free(path);
    return text;
}

/* Builds a router from {"pools": …, "router": …}. */
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

static void set_weights(bg_router *r, int b, int g)
{
    bg_weights w = {{b, g}};
    bg_error err = {0};
    ck_assert_msg(bg_router_set(r, &w, &err) == 0, "set %d/%d: %s", b, g, err.msg);
}

/* ======================= without nginx ======================= */

static const char *two_pools = "{\"blue\": {\"endpoints\": [\"http://10.0.0.11:8000/v1\","
                               " \"http://10.0.0.12:8000/v1\"]},"
                               " \"green\": {\"endpoints\": [\"http://10.0.0.21:8000/v1\"]}}";

static void files_setup(void)
{
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
}

static void files_teardown(void)
{
    bgt_rmtree(tmp);
    free(tmp);
    tmp = NULL;
}

static void expect_config_error(const char *router_json, const char *msg)
{
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_int_eq(make_router(&r, two_pools, router_json, &err), BG_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.msg, msg);
}

/* A hitless router on files in tmp; the commands append a letter to tmp/calls. */
static char *hitless_json(const char *test_argv_json)
{
    char *def = bg_asprintf("[\"/bin/sh\", \"-c\", \"echo test >> %s/calls\"]", tmp);
    char *json = bg_asprintf(
        "{\"driver\": \"nginx\", \"mode\": \"hitless\", \"upstream_file\": \"%1$s/up.conf\","
        " \"weights_file\": \"%1$s/weights.json\", \"keepalive\": 16, \"test_argv\": %2$s,"
        " \"reload_argv\": [\"/bin/sh\", \"-c\", \"echo reload >> %1$s/calls\"]}",
        tmp, test_argv_json ? test_argv_json : def);
    free(def);
    return json;
}

START_TEST(config_hitless_requires_weights_file)
{
    expect_config_error("{\"driver\": \"nginx\", \"mode\": \"hitless\", \"upstream_file\": \"/x\"}",
                        "router.weights_file: missing (a string is required)");
    expect_config_error("{\"driver\": \"nginx\", \"mode\": \"hitless\", \"upstream_file\": \"/x\","
                        " \"weights_file\": \"\"}",
                        "router.weights_file: empty path");
    expect_config_error("{\"driver\": \"nginx\", \"mode\": \"hitless\", \"upstream_file\": \"/x\","
                        " \"weights_file\": 3}",
                        "router.weights_file: expected a string, got a number");
    expect_config_error("{\"driver\": \"nginx\", \"mode\": \"hitless\", \"weights_file\": \"/w\"}",
                        "router.upstream_file: missing (a string is required)");
}
END_TEST

START_TEST(config_hitless_rejects_weights_file_equal_to_upstream_file)
{
    expect_config_error("{\"driver\": \"nginx\", \"mode\": \"hitless\", \"upstream_file\": \"/x\","
                        " \"weights_file\": \"/x\"}",
                        "router.weights_file: must differ from router.upstream_file (\"/x\")");
}
END_TEST

START_TEST(config_keys_of_the_other_mode_are_rejected)
{
    expect_config_error("{\"driver\": \"nginx\", \"mode\": \"hitless\", \"upstream_file\": \"/x\","
                        " \"weights_file\": \"/w\", \"upstream_name\": \"llm\"}",
                        "router.upstream_name: not used in mode \"hitless\" (the upstreams are "
                        "named bg_gate_blue and bg_gate_green)");
    expect_config_error("{\"driver\": \"nginx\", \"upstream_file\": \"/x\","
                        " \"weights_file\": \"/w\"}",
                        "router.weights_file: only used in mode \"hitless\" (mode is \"reload\")");
    expect_config_error("{\"driver\": \"nginx\", \"upstream_file\": \"/x\", \"mode\": \"fast\"}",
                        "router.mode: unknown mode \"fast\" (known: reload, hitless)");
}
END_TEST

START_TEST(hitless_set_writes_upstreams_and_weights_files)
{
    bg_router *r = NULL;
    bg_error err = {0};
    char *json = hitless_json(NULL);
    ck_assert_msg(make_router(&r, two_pools, json, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(bg_router_driver_name(r), "nginx");
    set_weights(r, 75, 25);
    char *up = read_tmp_file("up.conf"), *w = read_tmp_file("weights.json");
    ck_assert_str_eq(up, "# bg-gate: hitless upstreams (managed by bg-gate; do not edit)\n"
                         "upstream bg_gate_blue {\n"
                         "    server 10.0.0.11:8000; # blue\n"
                         "    server 10.0.0.12:8000; # blue\n"
                         "    keepalive 16;\n"
                         "}\n"
                         "upstream bg_gate_green {\n"
                         "    server 10.0.0.21:8000; # green\n"
                         "    keepalive 16;\n"
                         "}\n");
    ck_assert_str_eq(w, "{\"blue\": 75, \"green\": 25}\n");
    /* readable by nginx workers running as another user */
    struct stat st;
    char *wpath = tmp_path("weights.json");
    ck_assert_int_eq(stat(wpath, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    free(wpath);
    free(up);
    free(w);
    free(json);
    bg_router_free(r);
}
END_TEST

START_TEST(hitless_get_reads_back_what_set_wrote)
{
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights got;
    char *json = hitless_json(NULL);
    ck_assert_msg(make_router(&r, two_pools, json, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EINVAL);
    char *want = bg_asprintf("router has no weights yet (%s/weights.json missing)", tmp);
    ck_assert_str_eq(err.msg, want);
    int steps[][2] = {{100, 0}, {90, 10}, {50, 50}, {0, 100}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        set_weights(r, steps[i][0], steps[i][1]);
        ck_assert_int_eq(bg_router_get(r, &got, &err), 0);
        ck_assert_int_eq(got.w[BG_POOL_BLUE], steps[i][0]);
        ck_assert_int_eq(got.w[BG_POOL_GREEN], steps[i][1]);
    }
    free(want);
    free(json);
    bg_router_free(r);
}
END_TEST

START_TEST(hitless_get_reports_a_malformed_weights_file)
{
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights got;
    char *json = hitless_json(NULL);
    ck_assert_msg(make_router(&r, two_pools, json, &err) == 0, "%s", err.msg);
    write_tmp_file("weights.json", "{\"blue\": 60, \"green\": 60}\n");
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EPROTO);
    char *want = bg_asprintf("%s/weights.json: weights must add up to 100, got blue 60 + green "
                             "60 = 120", tmp);
    ck_assert_str_eq(err.msg, want);
    free(want);
    free(json);
    bg_router_free(r);
}
END_TEST

/* Lines in tmp/calls: which nginx commands ran. */
static void expect_calls(const char *want)
{
    char *calls = read_tmp_file("calls");
    ck_assert_str_eq(calls ? calls : "", want);
    free(calls);
}

START_TEST(hitless_flips_run_no_nginx_command)
{
    bg_router *r = NULL;
    bg_error err = {0};
    char *json = hitless_json(NULL);
    ck_assert_msg(make_router(&r, two_pools, json, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0); /* first install: the upstream file is new */
    expect_calls("test\nreload\n");
    for (int i = 0; i < 5; i++)
        set_weights(r, i % 2 ? 100 : 0, i % 2 ? 0 : 100);
    set_weights(r, 75, 25);
    expect_calls("test\nreload\n");
    bg_router_free(r);
    r = NULL;

    /* the pools' endpoints changed: the upstream file is installed once more */
    const char *moved = "{\"blue\": {\"endpoints\": [\"http://10.0.0.11:8000/v1\"]},"
                        " \"green\": {\"endpoints\": [\"http://10.0.0.21:8000/v1\"]}}";
    ck_assert_msg(make_router(&r, moved, json, &err) == 0, "%s", err.msg);
    set_weights(r, 0, 100);
    set_weights(r, 100, 0);
    expect_calls("test\nreload\ntest\nreload\n");
    free(json);
    bg_router_free(r);
}
END_TEST

START_TEST(hitless_rejected_upstream_file_writes_no_weights)
{
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights w = {{0, 100}}, got;
    char *json = hitless_json("[\"/bin/false\"]");
    ck_assert_msg(make_router(&r, two_pools, json, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(bg_router_set(r, &w, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "test_argv: /bin/false exited with 1: no output (the previous "
                              "upstream file is back in place)");
    char *up = tmp_path("up.conf");
    ck_assert_int_ne(access(up, F_OK), 0); /* there was none before */
    ck_assert_int_eq(bg_router_get(r, &got, &err), BG_EINVAL);
    ck_assert(bg_str_starts_with(err.msg, "router has no weights yet"));
    free(up);
    free(json);
    bg_router_free(r);
}
END_TEST

/* ======================= with a real nginx ======================= */

static bgt_mock blue, green;
static int nginx_port;
static const char *skip_reason;  /* nothing to test with: the tests pass, loudly */
static const char *setup_error;  /* something broke while starting: the tests fail */
static char blue_addr[64], green_addr[64];

static void dump_logs(void)
{
    const char *names[] = {"error.log", "upstreams.conf", "weights.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = tmp_path(names[i]);
        bgt_print_tail(names[i], p);
        free(p);
    }
    bgt_print_tail("bg-mock blue", blue.log_path);
    bgt_print_tail("bg-mock green", green.log_path);
}

#define CHECK_OR_DUMP(cond, ...)                                                             \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            dump_logs();                                                                     \
            ck_abort_msg(__VA_ARGS__);                                                       \
        }                                                                                    \
    } while (0)

/* docs/nginx-hitless.conf with its paths in tmp and its port; docs/bg-gate-weights.lua
 * next to it. */
static int install_documented_snippet(void)
{
    char *lua_path = bgt_src("docs/bg-gate-weights.lua");
    char *lua = bgt_read_file(lua_path);
    char *b = bgt_nginx_snippet("docs/nginx-hitless.conf", tmp, nginx_port);
    int rc = b && lua ? 0 : -1;
    if (!rc) {
        write_tmp_file("hitless.conf", b);
        write_tmp_file("bg-gate-weights.lua", lua);
    }
    free(lua_path);
    free(lua);
    free(b);
    return rc;
}

static int write_nginx_conf(void)
{
    char *include = bg_asprintf("    include %s/hitless.conf;\n", tmp);
    char *text = bgt_nginx_conf(tmp, "load_module " NDK_MODULE ";\nload_module " LUA_MODULE
                                     ";\n",
                                1, 256, "off", include);
    write_tmp_file("nginx.conf", text);
    free(include);
    free(text);
    return install_documented_snippet();
}

static char *nginx_router_json(const char *reload_argv_json)
{
    char *reload = reload_argv_json
                       ? NULL
                       : bg_asprintf("[\"" NGINX_BIN "\", \"-s\", \"reload\", \"-c\", "
                                     "\"%1$s/nginx.conf\", \"-p\", \"%1$s\", \"-e\", "
                                     "\"%1$s/error.log\"]",
                                     tmp);
    char *json = bg_asprintf(
        "{\"driver\": \"nginx\", \"mode\": \"hitless\","
        " \"upstream_file\": \"%1$s/upstreams.conf\","
        " \"weights_file\": \"%1$s/weights.json\", \"endpoint\": \"http://127.0.0.1:%2$d/v1\","
        " \"upstream_header\": \"X-BG-Upstream\","
        " \"test_argv\": [\"" NGINX_BIN "\", \"-t\", \"-q\", \"-c\", \"%1$s/nginx.conf\", \"-p\","
        " \"%1$s\", \"-e\", \"%1$s/error.log\"], \"reload_argv\": %3$s, \"timeout_s\": 10}",
        tmp, nginx_port, reload_argv_json ? reload_argv_json : reload);
    free(reload);
    return json;
}

static int new_router(bg_router **out, const char *reload_argv_json, bg_error *err)
{
    char *pools = bg_asprintf("{\"blue\": {\"endpoints\": [\"%s\"]}, \"green\": {\"endpoints\":"
                              " [\"%s\"]}}",
                              blue.url, green.url);
    char *json = nginx_router_json(reload_argv_json);
    int rc = make_router(out, pools, json, err);
    free(json);
    free(pools);
    return rc;
}

/* The first install (upstream file tested by the real nginx -t, reload `true`), then nginx. */
static const char *start_nginx(void)
{
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights w = {{100, 0}};
    int rc = new_router(&r, "[\"true\"]", &err);
    if (!rc)
        rc = bg_router_set(r, &w, &err);
    bg_router_free(r);
    if (rc) {
        fprintf(stderr, "first install: %s\n", err.msg);
        return "could not write the first upstream file";
    }
    char *conf = tmp_path("nginx.conf");
    int code = bgt_nginx_start(tmp, conf, 10);
    free(conf);
    if (code != 0) {
        dump_logs();
        return "nginx did not start";
    }
    return NULL;
}

static void nginx_setup(void)
{
    setup_error = NULL;
    if ((skip_reason = bgt_router_test_missing(NGINX_BIN, "nginx-light")))
        return;
    if (access(LUA_MODULE, R_OK) != 0 || access(NDK_MODULE, R_OK) != 0) {
        skip_reason = LUA_MODULE " is missing (apt-get install libnginx-mod-http-lua)";
        return;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = bgt_tmpdir();
    if (!tmp) {
        setup_error = "no temp dir";
        return;
    }
    if ((setup_error = bgt_pair_setup(tmp, &blue, &green, NULL, blue_addr, green_addr)))
        return;
    nginx_port = bgt_free_port();
    if (write_nginx_conf() != 0)
        setup_error = "cannot write nginx.conf or the documented snippet";
    else
        setup_error = start_nginx();
}

static void nginx_teardown(void)
{
    if (tmp) {
        bgt_nginx_pair_stop(tmp, &blue, &green);
        free(tmp);
        tmp = NULL;
    }
    if (!skip_reason)
        curl_global_cleanup();
}

#define SKIP_IF_NEEDED()                                                                     \
    do {                                                                                     \
        if (skip_reason) {                                                                   \
            fprintf(stderr, "SKIPPED %s: %s\n", __func__, skip_reason);                      \
            return;                                                                          \
        }                                                                                    \
        ck_assert_msg(setup_error == NULL, "setup: %s", setup_error);                       \
    } while (0)

/* GET /v1/models through nginx on a fresh connection. */
static void ask(bgt_answer *a)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/models", nginx_port);
    bgt_http_ask(a, url, NULL, 5000);
}

/* One answer, checked: 200, from one of the pools, and that pool's model. true: blue. */
static bool ask_pool(int i)
{
    bgt_answer a;
    ask(&a);
    CHECK_OR_DUMP(a.status == 200, "request %d: status %ld", i, a.status);
    bool is_blue = strcmp(a.upstream, blue_addr) == 0;
    bool is_green = strcmp(a.upstream, green_addr) == 0;
    CHECK_OR_DUMP(is_blue || is_green, "request %d: X-BG-Upstream \"%s\"", i, a.upstream);
    CHECK_OR_DUMP(strcmp(a.model, is_blue ? "blue-model" : "green-model") == 0,
                  "request %d: upstream %s answered as model \"%s\"", i, a.upstream, a.model);
    return is_blue;
}

static void count_answers(int n, int *from_blue, int *from_green)
{
    *from_blue = *from_green = 0;
    for (int i = 0; i < n; i++)
        *(ask_pool(i) ? from_blue : from_green) += 1;
}

/* Sets weights and returns the ms from bg_router_set returning to the first answer from
 * the pool that now has 100 % (bounded: fails after 2 s). */
static double flip_and_measure(bg_router *r, bool to_blue)
{
    set_weights(r, to_blue ? 100 : 0, to_blue ? 0 : 100);
    double t0 = bg_now_ms();
    for (int i = 0; bg_now_ms() - t0 < 2000; i++)
        if (ask_pool(i) == to_blue)
            return bg_now_ms() - t0;
    CHECK_OR_DUMP(false, "no answer from %s within 2 s of the flip", to_blue ? "blue" : "green");
    return 0;
}

START_TEST(hitless_flip_is_visible_within_50_ms_without_reload)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    int b = 0, g = 0;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0);
    sleep_ms(50);
    count_answers(5, &b, &g);
    CHECK_OR_DUMP(b == 5, "before the flips: blue %d / green %d", b, g);
    pid_t worker = bgt_nginx_worker(tmp);
    ck_assert_int_ne(worker, 0);
    double worst = 0, sum = 0;
    for (int i = 0; i < 10; i++) {
        /* a request refreshes the worker's copy; flip when that copy is 0..27 ms old */
        ask_pool(-1);
        sleep_ms((i * 7) % 28);
        double ms = flip_and_measure(r, i % 2 == 1);
        sum += ms;
        worst = ms > worst ? ms : worst;
        /* once moved, it stays moved */
        count_answers(5, &b, &g);
        CHECK_OR_DUMP((i % 2 == 1 ? b : g) == 5, "flip %d: then blue %d / green %d", i, b, g);
    }
    fprintf(stderr, "hitless flip visibility: mean %.1f ms, worst %.1f ms over 10 flips\n",
            sum / 10, worst);
    CHECK_OR_DUMP(worst < 50, "a flip took %.1f ms to be seen", worst);
    /* no reload happened: the very same worker answered throughout */
    ck_assert_int_eq(bgt_nginx_worker(tmp), worker);
    bg_router_free(r);
}
END_TEST

START_TEST(hitless_canary_split_is_exact)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights got;
    int b = 0, g = 0;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 75, 25);
    sleep_ms(50);
    count_answers(100, &b, &g);
    fprintf(stderr, "hitless 75/25 over 100 requests: blue %d / green %d\n", b, g);
    CHECK_OR_DUMP(b >= 73 && b <= 77 && b + g == 100, "75/25 gave blue %d / green %d", b, g);
    set_weights(r, 10, 90);
    sleep_ms(50);
    count_answers(100, &b, &g);
    CHECK_OR_DUMP(b >= 8 && b <= 12, "10/90 gave blue %d / green %d", b, g);
    ck_assert_int_eq(bg_router_get(r, &got, &err), 0);
    ck_assert_int_eq(got.w[BG_POOL_GREEN], 90);
    bg_router_free(r);
}
END_TEST

START_TEST(hitless_malformed_weights_file_keeps_last_weights)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    int b = 0, g = 0;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 0, 100);
    sleep_ms(50);
    count_answers(5, &b, &g);
    CHECK_OR_DUMP(g == 5, "before: blue %d / green %d", b, g);

    const char *bad[] = {"{\"blue\": 100, \"gre", "{\"blue\": 100, \"green\": 100}\n",
                         "not json", "{\"blue\": -5, \"green\": 105}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_tmp_file("weights.json", bad[i]);
        sleep_ms(40);
        count_answers(10, &b, &g);
        CHECK_OR_DUMP(g == 10, "with weights file \"%s\": blue %d / green %d", bad[i], b, g);
    }
    char *w = tmp_path("weights.json");
    ck_assert_int_eq(unlink(w), 0);
    sleep_ms(40);
    count_answers(10, &b, &g);
    CHECK_OR_DUMP(g == 10, "without a weights file: blue %d / green %d", b, g);
    char *log = read_tmp_file("error.log");
    ck_assert_ptr_nonnull(strstr(log, "; keeping the last good weights"));
    /* a file the worker cannot read is logged with the reason, at nginx's default level */
    ck_assert_msg(strstr(log, "[error]") && strstr(log, "weights.json: No such file or directory; "
                                                        "keeping the last good weights"),
                  "error.log:\n%s", log);
    /* and the next good file is picked up */
    set_weights(r, 100, 0);
    sleep_ms(40);
    count_answers(10, &b, &g);
    CHECK_OR_DUMP(b == 10, "after a good file again: blue %d / green %d", b, g);
    free(log);
    free(w);
    bg_router_free(r);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("router_hitless");
    TCase *files = tcase_create("files");
    tcase_add_checked_fixture(files, files_setup, files_teardown);
    tcase_add_test(files, config_hitless_requires_weights_file);
    tcase_add_test(files, config_hitless_rejects_weights_file_equal_to_upstream_file);
    tcase_add_test(files, config_keys_of_the_other_mode_are_rejected);
    tcase_add_test(files, hitless_set_writes_upstreams_and_weights_files);
    tcase_add_test(files, hitless_get_reads_back_what_set_wrote);
    tcase_add_test(files, hitless_get_reports_a_malformed_weights_file);
    tcase_add_test(files, hitless_flips_run_no_nginx_command);
    tcase_add_test(files, hitless_rejected_upstream_file_writes_no_weights);
    suite_add_tcase(s, files);

    TCase *tc = tcase_create("nginx");
    tcase_add_unchecked_fixture(tc, nginx_setup, nginx_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hitless_flip_is_visible_within_50_ms_without_reload);
    tcase_add_test(tc, hitless_canary_split_is_exact);
    tcase_add_test(tc, hitless_malformed_weights_file_keeps_last_weights);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
