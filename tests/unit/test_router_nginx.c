/* test_router_nginx.c — the nginx router driver against a real nginx (Debian's
 * /usr/sbin/nginx) and two real bg-mock servers ("blue-model", "green-model"), all on
 * 127.0.0.1 in a temp dir. Requests go through nginx with libcurl; the X-BG-Upstream
 * header nginx adds names the upstream that answered. The config nginx runs is the
 * documented snippet (docs/nginx-reload.conf) wrapped in a minimal main config.
 *
 * nginx and the mocks are started once per test case (unchecked fixture, in the parent
 * process, so teardown runs even when a test fails) and stopped by PID. Each test sets the
 * weights it starts from. Without nginx or $BG_MOCK_BIN the tests are skipped, loudly.
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
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

static char *tmp;
static bgt_mock blue, green;
static int nginx_port;
static const char *skip_reason;  /* nothing to test with: the tests pass, loudly */
static const char *setup_error;  /* something broke while starting: the tests fail */
static char blue_addr[64], green_addr[64];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *tmp_path(const char *name)
{
    return bg_asprintf("%s/%s", tmp, name);
}

/* Prints what the servers logged; called before a traffic assertion fails. */
static void dump_logs(void)
{
    char *err = tmp_path("error.log"), *up = tmp_path("up.conf");
    bgt_print_tail("nginx error.log", err);
    bgt_print_tail("upstream file", up);
    bgt_print_tail("bg-mock blue", blue.log_path);
    bgt_print_tail("bg-mock green", green.log_path);
    free(err);
    free(up);
}

#define CHECK_OR_DUMP(cond, ...)                                                             \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            dump_logs();                                                                     \
            ck_abort_msg(__VA_ARGS__);                                                       \
        }                                                                                    \
    } while (0)

/* The main config: temp paths in tmp, then the documented http-level snippet. */
static int write_nginx_conf(void)
{
    char *conf = tmp_path("nginx.conf"), *access = tmp_path("access.log");
    char *http = bg_asprintf(
        "    # --- docs/nginx-reload.conf ---\n"
        "    include %1$s/up.conf;\n"
        "    server {\n"
        "        listen 127.0.0.1:%2$d;\n"
        "        location / {\n"
        "            proxy_pass http://bg_gate_llm;\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Connection \"\";\n"
        "            proxy_buffering off;\n"
        "            proxy_read_timeout 300s;\n"
        "            add_header X-BG-Upstream $upstream_addr always;\n"
        "        }\n"
        "    }\n",
        tmp, nginx_port);
    char *text = bgt_nginx_conf(tmp, "", 1, 64, access, http);
    bg_error err = {0};
    int rc = bg_file_write_atomic(conf, text, strlen(text), &err);
    free(conf);
    free(access);
    free(http);
    free(text);
    return rc;
}

/* The router config the tests use; test_argv can be replaced, extra router keys added
 * (",\"sticky_key\": …"). */
static char *router_json_with(const char *test_argv_json, const char *extra_keys)
{
    char *def = NULL;
    if (!test_argv_json)
        test_argv_json = def = bg_asprintf(
            "[\"" NGINX_BIN "\", \"-t\", \"-q\", \"-c\", \"%1$s/nginx.conf\", \"-p\", \"%1$s\", "
            "\"-e\", \"%1$s/error.log\"]",
            tmp);
    char *json = bg_asprintf(
        "{\"pools\": {\"blue\": {\"endpoints\": [\"%s\"]}, \"green\": {\"endpoints\": [\"%s\"]}},"
        " \"router\": {\"driver\": \"nginx\", \"upstream_file\": \"%s/up.conf\","
        " \"endpoint\": \"http://127.0.0.1:%d/v1\", \"upstream_header\": \"X-BG-Upstream\","
        " \"test_argv\": %s,"
        " \"reload_argv\": [\"" NGINX_BIN "\", \"-s\", \"reload\", \"-c\", \"%s/nginx.conf\","
        " \"-p\", \"%s\", \"-e\", \"%s/error.log\"], \"timeout_s\": 10%s}}",
        blue.url, green.url, tmp, nginx_port, test_argv_json, tmp, tmp, tmp,
        extra_keys ? extra_keys : "");
    free(def);
    return json;
}

static char *router_json(const char *test_argv_json)
{
    return router_json_with(test_argv_json, NULL);
}

static int new_router(bg_router **out, const char *test_argv_json, bg_error *err)
{
    char *json = router_json(test_argv_json);
    int rc = bgt_router_from_json(out, json, err);
    free(json);
    return rc;
}

/* Writes the first upstream file (nginx cannot start without it), then starts nginx. */
static const char *start_nginx(void)
{
    bg_router *r = NULL;
    bg_error err = {0};
    /* bootstrap: real `nginx -t`, but nothing to reload yet */
    char *test = bg_asprintf("[\"" NGINX_BIN "\", \"-t\", \"-q\", \"-c\", \"%1$s/nginx.conf\", "
                             "\"-p\", \"%1$s\", \"-e\", \"%1$s/error.log\"]",
                             tmp);
    char *json = router_json(test);
    char *boot = NULL;
    /* the bootstrap router reloads with `true` */
    char *at = strstr(json, "\"reload_argv\"");
    if (at)
        boot = bg_asprintf("%.*s\"reload_argv\": [\"true\"], \"timeout_s\": 10}}",
                           (int)(at - json), json);
    bg_weights w = {{100, 0}};
    int rc = bgt_router_from_json(&r, boot, &err);
    if (!rc)
        rc = bg_router_set(r, &w, &err);
    bg_router_free(r);
    free(boot);
    free(json);
    free(test);
    if (rc) {
        fprintf(stderr, "bootstrap upstream file: %s\n", err.msg);
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

static void setup(void)
{
    setup_error = NULL;
    if ((skip_reason = bgt_router_test_missing(NGINX_BIN, "nginx-light")))
        return;
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
        setup_error = "cannot write nginx.conf";
    else
        setup_error = start_nginx();
}

static void teardown(void)
{
    if (tmp) {
        bgt_nginx_pair_stop(tmp, &blue, &green);
        free(tmp);
        tmp = NULL;
    }
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

/* --- requests through nginx --- */

/* GET /v1/models through nginx on a fresh connection. */
static void ask(bgt_answer *a)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/models", nginx_port);
    bgt_http_ask(a, url, NULL, 5000);
}

/* n requests; counts which pool answered each (by upstream address and model name). */
static void count_answers(int n, int *from_blue, int *from_green)
{
    *from_blue = *from_green = 0;
    for (int i = 0; i < n; i++) {
        bgt_answer a;
        ask(&a);
        CHECK_OR_DUMP(a.status == 200, "request %d: status %ld", i, a.status);
        bool is_blue = strcmp(a.upstream, blue_addr) == 0;
        bool is_green = strcmp(a.upstream, green_addr) == 0;
        CHECK_OR_DUMP(is_blue || is_green, "request %d: X-BG-Upstream \"%s\"", i, a.upstream);
        CHECK_OR_DUMP(strcmp(a.model, is_blue ? "blue-model" : "green-model") == 0,
                      "request %d: upstream %s answered as model \"%s\"", i, a.upstream, a.model);
        *(is_blue ? from_blue : from_green) += 1;
    }
}

/* After a reload the old worker may answer briefly: poll (bounded) until n answers in a
 * row come from the expected pool. */
static void expect_all_from(bool want_blue, int n)
{
    double deadline = bg_now_ms() + 5000;
    int b = 0, g = 0;
    for (;;) {
        count_answers(n, &b, &g);
        if ((want_blue ? b : g) == n)
            return;
        CHECK_OR_DUMP(bg_now_ms() < deadline, "after 5 s still blue %d / green %d of %d", b, g,
                      n);
        sleep_ms(50);
    }
}

/* `nginx -s reload` returns before the master has re-read its config, and the old worker
 * finishes gracefully (and may still accept for a moment): wait (bounded) until a single
 * worker other than `old` is left, so a measurement sees only the new config. */
static void wait_for_new_worker(pid_t old)
{
    double deadline = bg_now_ms() + 10000;
    pid_t now = bgt_nginx_worker(tmp);
    while ((now == 0 || now == old) && bg_now_ms() < deadline) {
        sleep_ms(20);
        now = bgt_nginx_worker(tmp);
    }
    CHECK_OR_DUMP(now != 0 && now != old, "no new nginx worker alone within 10 s");
    /* the old worker may still accept connections until it has processed its shutdown
     * (seen under valgrind on a loaded machine): wait until it is gone, too */
    while (old > 0 && kill(old, 0) == 0 && bg_now_ms() < deadline)
        sleep_ms(20);
}

static void set_weights(bg_router *r, int b, int g)
{
    bg_weights w = {{b, g}};
    bg_error err = {0};
    CHECK_OR_DUMP(bg_router_set(r, &w, &err) == 0, "set %d/%d: %s", b, g, err.msg);
}

START_TEST(nginx_flip_moves_all_traffic)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights got;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0);
    expect_all_from(true, 10);
    set_weights(r, 0, 100);
    expect_all_from(false, 10);
    ck_assert_int_eq(bg_router_get(r, &got, &err), 0);
    ck_assert_int_eq(got.w[BG_POOL_GREEN], 100);
    set_weights(r, 100, 0);
    expect_all_from(true, 10);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_canary_splits_traffic_by_weight)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    int b = 0, g = 0;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 0, 100);
    expect_all_from(false, 5);
    pid_t old = bgt_nginx_worker(tmp);
    set_weights(r, 75, 25);
    wait_for_new_worker(old);
    count_answers(40, &b, &g);
    /* smooth weighted round robin on one worker: 30 / 10; allow a little slack */
    CHECK_OR_DUMP(b >= 26 && b <= 34 && g >= 6, "75/25 gave blue %d / green %d", b, g);
    bg_router_free(r);
}
END_TEST

/* n requests with "X-Session-Id: <prefix><i>"; counts the answers from green. */
static int green_share_by_session(int n, const char *prefix, int repeat_each)
{
    char url[128], header[96];
    int green_n = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/models", nginx_port);
    for (int i = 0; i < n; i++) {
        snprintf(header, sizeof header, "X-Session-Id: %s%d", prefix, i);
        char first[128] = "";
        for (int k = 0; k < repeat_each; k++) {
            bgt_answer a;
            bgt_http_ask_with(&a, url, NULL, header, 5000);
            CHECK_OR_DUMP(a.status == 200, "session %d: status %ld", i, a.status);
            if (k == 0)
                snprintf(first, sizeof first, "%s", a.upstream);
            CHECK_OR_DUMP(strcmp(first, a.upstream) == 0,
                          "session %s%d moved from %s to %s under fixed weights", prefix, i,
                          first, a.upstream);
        }
        green_n += strcmp(first, green_addr) == 0;
    }
    return green_n;
}

/* Every canary step over 2,000 requests: the realized split is within 2 points of the
 * weight (smooth weighted round robin makes it exact on one worker). */
START_TEST(nginx_canary_steps_realize_their_weights)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0);
    expect_all_from(true, 5);
    const int steps[] = {1, 25, 75};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        pid_t old = bgt_nginx_worker(tmp);
        set_weights(r, 100 - steps[i], steps[i]);
        wait_for_new_worker(old);
        int b = 0, g = 0;
        count_answers(2000, &b, &g);
        double pct = 100.0 * g / 2000.0;
        CHECK_OR_DUMP(pct >= steps[i] - 2 && pct <= steps[i] + 2,
                      "step %d%%: green got %.2f%% (%d of 2000)", steps[i], pct, g);
    }
    bg_router_free(r);
}
END_TEST

/* With router.sticky_key, a session stays on its pool while the weights hold, and the
 * split over many sessions still follows the weight. */
START_TEST(nginx_sticky_key_keeps_sessions_and_follows_the_weight)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    char *json = router_json_with(NULL, ", \"sticky_key\": \"$http_x_session_id\"");
    ck_assert_msg(bgt_router_from_json(&r, json, &err) == 0, "%s", err.msg);
    free(json);
    set_weights(r, 100, 0);
    expect_all_from(true, 5);
    char *up = tmp_path("up.conf");
    char *text = bgt_read_file(up);
    ck_assert_ptr_nonnull(strstr(text, "    hash $http_x_session_id consistent;\n"));
    free(text);
    free(up);
    pid_t old = bgt_nginx_worker(tmp);
    set_weights(r, 75, 25);
    wait_for_new_worker(old);
    /* 8,000 sessions: the hash ring's split has a little noise of its own */
    int g = green_share_by_session(8000, "s", 1);
    double pct = 100.0 * g / 8000.0;
    CHECK_OR_DUMP(pct >= 23 && pct <= 27, "75/25 sticky: green got %.2f%%", pct);
    if (getenv("BG_TEST_VERBOSE"))
        fprintf(stderr, "sticky 75/25: green %.2f%% of 8000 sessions\n", pct);
    green_share_by_session(50, "again", 4); /* each session answered by one server */
    bg_router_free(r);

    /* a key that is not one nginx variable is refused */
    json = router_json_with(NULL, ", \"sticky_key\": \"$http_x; evil\"");
    ck_assert_int_eq(bgt_router_from_json(&r, json, &err), BG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "router.sticky_key: \"$http_x; evil\" is not one nginx variable"));
    free(json);
}
END_TEST

START_TEST(nginx_failed_test_command_leaves_file_and_traffic_unchanged)
{
    SKIP_IF_NEEDED();
    bg_router *good = NULL, *bad = NULL;
    bg_error err = {0};
    bg_weights w = {{0, 100}}, got;
    ck_assert_msg(new_router(&good, NULL, &err) == 0, "%s", err.msg);
    set_weights(good, 100, 0);
    expect_all_from(true, 5);
    char *path = tmp_path("up.conf");
    char *before = bgt_read_file(path);

    ck_assert_msg(new_router(&bad, "[\"/bin/false\"]", &err) == 0, "%s", err.msg);
    ck_assert_int_eq(bg_router_set(bad, &w, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "test_argv: /bin/false exited with 1: no output (the previous "
                              "upstream file is back in place)");
    char *after = bgt_read_file(path);
    ck_assert_str_eq(after, before);
    ck_assert_int_eq(bg_router_get(bad, &got, &err), 0);
    ck_assert_int_eq(got.w[BG_POOL_BLUE], 100);
    expect_all_from(true, 10);
    free(path);
    free(before);
    free(after);
    bg_router_free(good);
    bg_router_free(bad);
}
END_TEST

START_TEST(nginx_rejection_carries_nginx_output)
{
    SKIP_IF_NEEDED();
    bg_router *good = NULL, *bad = NULL;
    bg_error err = {0};
    bg_weights w = {{0, 100}};
    ck_assert_msg(new_router(&good, NULL, &err) == 0, "%s", err.msg);
    set_weights(good, 100, 0);
    /* the real nginx -t, on a main config that does not exist */
    char *test = bg_asprintf("[\"" NGINX_BIN "\", \"-t\", \"-q\", \"-c\", \"%1$s/missing.conf\", "
                             "\"-p\", \"%1$s\", \"-e\", \"%1$s/error.log\"]",
                             tmp);
    ck_assert_msg(new_router(&bad, test, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(bg_router_set(bad, &w, &err), BG_EIO);
    char *want = bg_asprintf("test_argv: " NGINX_BIN " exited with 1: nginx: [emerg] open() "
                             "\"%s/missing.conf\" failed (2: No such file or directory)",
                             tmp);
    ck_assert_msg(bg_str_starts_with(err.msg, want), "got: %s", err.msg);
    ck_assert(bg_str_ends_with(err.msg, "(the previous upstream file is back in place)"));
    expect_all_from(true, 5);
    free(want);
    free(test);
    bg_router_free(good);
    bg_router_free(bad);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("router_nginx");
    TCase *tc = tcase_create("nginx");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, nginx_flip_moves_all_traffic);
    tcase_add_test(tc, nginx_canary_splits_traffic_by_weight);
    tcase_add_test(tc, nginx_canary_steps_realize_their_weights);
    tcase_add_test(tc, nginx_sticky_key_keeps_sessions_and_follows_the_weight);
    tcase_add_test(tc, nginx_failed_test_command_leaves_file_and_traffic_unchanged);
    tcase_add_test(tc, nginx_rejection_carries_nginx_output);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
