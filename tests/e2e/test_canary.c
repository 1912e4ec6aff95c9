/* test_canary.c — end-to-end canary ramps (promotion.strategy "canary") through the real
 * nginx and the real HAProxy: two bg-mock pools restarted by the test pool script, a real
 * git repository holding the release, live analysis from the pools' /metrics, synthetic
 * probes through the router, and a load generator counting failed requests.
 *
 * Every release serves the same model name ("acme"): a canary splits live traffic, so both
 * pools must answer the clients' model name. Releases differ by model revision; a
 * revision containing "degrade" turns slow mid-ramp (tests/fixtures/deploy/pool.sh).
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/gitfix.h"
#include "../support/haproxyfix.h"
#include "../support/loadfix.h"
#include "../support/nginxfix.h"
#include "../support/proc.h"
#include "../support/sweep.h"
#include "bggate/buf.h"
#include "bggate/util.h"

typedef enum { ROUTER_NGINX, ROUTER_HAPROXY } router_kind;

static router_kind kind;
static char *tmp;
static char repo_dir[600], state_dir[600], reports[600];
static int blue_port, green_port, router_port;
static bgt_repo repo;
static const char *skip_reason;
static pid_t haproxy_pid = -1;

/* ---- fixture ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static char *tmp_path(const char *rel)
{
    return bg_asprintf("%s/%s", tmp, rel);
}

static void write_upstreams(void)
{
    char *path = tmp_path("upstreams.conf");
    char text[512];
    snprintf(text, sizeof text,
             "# bg-gate: blue=100 green=0 (managed by bg-gate; do not edit)\n"
             "upstream bg_gate_llm {\n    server 127.0.0.1:%d weight=100; # blue\n"
             "    server 127.0.0.1:%d down; # green\n    keepalive 32;\n}\n",
             blue_port, green_port);
    write_file(path, text);
    free(path);
}

static const char *start_nginx(void)
{
    char *ups = tmp_path("upstreams.conf");
    char *http = bg_asprintf("  include %s;\n"
                             "  server {\n    listen 127.0.0.1:%d;\n"
                             "    location / {\n      proxy_pass http://bg_gate_llm;\n"
                             "      proxy_http_version 1.1;\n"
                             "      proxy_set_header Connection \"\";\n"
                             "      proxy_buffering off;\n"
                             "      add_header X-BG-Upstream $upstream_addr always;\n    }\n  }\n",
                             ups, router_port);
    char *conf = bgt_nginx_conf(tmp, "", 1, 512, "off", http);
    char *path = tmp_path("nginx.conf");
    write_upstreams();
    write_file(path, conf);
    int rc = bgt_nginx_start(tmp, path, 10);
    free(ups);
    free(http);
    free(conf);
    free(path);
    return rc == 0 ? NULL : "nginx did not start";
}

static const char *start_haproxy(void)
{
    char b[64], g[64];
    snprintf(b, sizeof b, "127.0.0.1:%d", blue_port);
    snprintf(g, sizeof g, "127.0.0.1:%d", green_port);
    if (bgt_haproxy_write_cfg(tmp, router_port, 0, b, g) != 0)
        return "cannot write haproxy.cfg from docs/haproxy.cfg";
    haproxy_pid = bgt_haproxy_start(tmp);
    return haproxy_pid > 0 ? NULL : "haproxy did not start";
}

static char *router_section(void)
{
    if (kind == ROUTER_HAPROXY)
        return bg_asprintf("{\"driver\": \"haproxy\", \"runtime_api\": \"unix:%s/admin.sock\","
                           " \"state_file\": \"%s/haproxy-weights.json\", \"timeout_s\": 5,"
                           " \"endpoint\": \"http://127.0.0.1:%d/v1\","
                           " \"upstream_header\": \"X-BG-Upstream\"}",
                           tmp, tmp, router_port);
    char *nginx_t = bg_asprintf("[\"%s\", \"-t\", \"-q\", \"-c\", \"%s/nginx.conf\", \"-p\", \"%s\"]",
                                BGT_NGINX_BIN, tmp, tmp);
    char *nginx_r = bg_asprintf("[\"%s\", \"-s\", \"reload\", \"-c\", \"%s/nginx.conf\", \"-p\", "
                                "\"%s\"]",
                                BGT_NGINX_BIN, tmp, tmp);
    char *s = bg_asprintf("{\"driver\": \"nginx\", \"upstream_file\": \"%s/upstreams.conf\","
                          " \"test_argv\": %s, \"reload_argv\": %s,"
                          " \"endpoint\": \"http://127.0.0.1:%d/v1\","
                          " \"upstream_header\": \"X-BG-Upstream\"}",
                          tmp, nginx_t, nginx_r, router_port);
    free(nginx_t);
    free(nginx_r);
    return s;
}

/* The committed config: model revision `rev`, served as "acme"; `promotion` is the
 * promotion section's members after "strategy": "canary". */
static void commit_release(const char *rev, const char *promotion)
{
    char *pool_sh = bgt_src("tests/fixtures/deploy/pool.sh");
    char *router = router_section();
    char *pools = bg_asprintf(
        "{\"blue\": {\"endpoints\": [\"http://127.0.0.1:%d/v1\"],"
        "  \"deploy\": {\"driver\": \"command\", \"argv\": [\"%s\", \"deploy\", \"%s/pools/blue\", \"%d\"], \"timeout_s\": 30},"
        "  \"stop\": {\"argv\": [\"%s\", \"stop\", \"%s/pools/blue\", \"%d\"]}},"
        " \"green\": {\"endpoints\": [\"http://127.0.0.1:%d/v1\"],"
        "  \"deploy\": {\"driver\": \"command\", \"argv\": [\"%s\", \"deploy\", \"%s/pools/green\", \"%d\"], \"timeout_s\": 30},"
        "  \"stop\": {\"argv\": [\"%s\", \"stop\", \"%s/pools/green\", \"%d\"]}}}",
        blue_port, pool_sh, tmp, blue_port, pool_sh, tmp, blue_port, green_port, pool_sh, tmp,
        green_port, pool_sh, tmp, green_port);
    char *cfg = bg_asprintf(
        "{\"environment\": \"canary\",\n"
        " \"release\": {\"model\": {\"name\": \"acme/support\", \"revision\": \"%s\","
        " \"served_name\": \"acme\"}, \"suites\": [\"evals/capitals.jsonl\"]},\n"
        " \"pools\": %s,\n"
        " \"health\": {\"timeout_s\": 10, \"interval_ms\": 50, \"max_interval_ms\": 200},\n"
        " \"router\": %s,\n"
        " \"gate\": {\"concurrency\": 4},\n"
        " \"promotion\": {\"strategy\": \"canary\", \"verify_requests\": 3,"
        " \"drain_timeout_s\": 5, \"keep_warm_s\": 3600, %s},\n"
        " \"state\": {\"dir\": \"%s\"}}\n",
        rev, pools, router, promotion, state_dir);
    char path[700];
    snprintf(path, sizeof path, "%s/bg-gate.json", repo_dir);
    write_file(path, cfg);
    ck_assert_int_eq(bgt_repo_commit(&repo, rev, NULL), 0);
    free(cfg);
    free(pools);
    free(router);
    free(pool_sh);
}

/* blue serves "acme" before any release, like a pool set up by hand */
static void start_initial_blue(void)
{
    char *dir = tmp_path("initial"), *rel = tmp_path("initial/release.json");
    char *sh = bgt_src("tests/fixtures/deploy/pool.sh");
    char pools[700], port[16], env_dir[700];
    snprintf(pools, sizeof pools, "%s/pools/blue", tmp);
    snprintf(port, sizeof port, "%d", blue_port);
    snprintf(env_dir, sizeof env_dir, "BG_RELEASE_DIR=%s", dir);
    ck_assert_int_eq(bg_mkdir_p(dir, NULL), 0);
    write_file(rel, "{}\n");
    const char *env[] = {"BG_SERVED_MODEL=acme", "BG_MODEL_REVISION=v0", env_dir, NULL};
    const char *argv[] = {"/bin/sh", sh, "deploy", pools, port, NULL};
    ck_assert_int_eq(bgt_run_cmd_env(argv, env, 20), 0);
    ck_assert_msg(bgt_wait_healthy(blue_port), "the initial blue never answered /health with 200");
    free(sh);
    free(dir);
    free(rel);
}

static void stop_pid_file(const char *rel)
{
    char *path = tmp_path(rel);
    char *s = bgt_read_file(path);
    if (s && strtol(s, NULL, 10) > 1)
        kill((pid_t)strtol(s, NULL, 10), SIGTERM);
    free(s);
    free(path);
}

/* Stops what the test started, by pid (also at exit: a failed assertion skips teardown). */
static void stop_servers(void)
{
    if (!tmp)
        return;
    if (kind == ROUTER_HAPROXY)
        bgt_haproxy_stop(tmp, 0);
    else
        bgt_nginx_stop(tmp);
    stop_pid_file("pools/blue/mock.pid");
    stop_pid_file("pools/green/mock.pid");
}

static void setup_common(void)
{
    skip_reason = NULL;
    const char *bin = kind == ROUTER_HAPROXY ? BGT_HAPROXY_BIN : BGT_NGINX_BIN;
    if (access(bin, X_OK) != 0) {
        skip_reason = kind == ROUTER_HAPROXY ? "haproxy is not installed" : "nginx is not installed";
        return;
    }
    if (!getenv("BG_MOCK_BIN") || !getenv("BG_GATE_BIN")) {
        skip_reason = "BG_GATE_BIN and BG_MOCK_BIN are not set (run through make)";
        return;
    }
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
    bgt_registry_add(tmp); /* a failed test leaves no process behind */
    chmod(tmp, 0755);
    snprintf(repo_dir, sizeof repo_dir, "%s/repo", tmp);
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    snprintf(reports, sizeof reports, "%s/reports", tmp);
    blue_port = bgt_free_port();
    do
        green_port = bgt_free_port();
    while (green_port == blue_port);
    do
        router_port = bgt_free_port();
    while (router_port == blue_port || router_port == green_port);
    ck_assert_int_eq(bgt_repo_init(&repo, repo_dir), 0);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *text = bgt_read_file(suite);
    ck_assert_int_eq(bgt_repo_write(&repo, "evals/capitals.jsonl", text), 0);
    free(text);
    free(suite);
    atexit(stop_servers);
    /* every pool answers in 20-30 ms: latency ratios compare like with like (at 1 ms,
     * bucket edges alone make ratios of 4) */
    setenv("POOL_LATENCY_MS", "20", 1);
    setenv("POOL_JITTER_MS", "10", 1);
    start_initial_blue();
    const char *why = kind == ROUTER_HAPROXY ? start_haproxy() : start_nginx();
    ck_assert_msg(why == NULL, "%s", why);
}

static void setup_nginx(void)
{
    kind = ROUTER_NGINX;
    setup_common();
}

static void setup_haproxy(void)
{
    kind = ROUTER_HAPROXY;
    setup_common();
}

static void teardown(void)
{
    if (!tmp)
        return;
    stop_servers();
    usleep(100 * 1000);
    bgt_repo_close(&repo);
    bgt_rmtree(tmp);
    free(tmp);
    tmp = NULL;
}

#define SKIP_IF_NEEDED()                                                                     \
    do {                                                                                     \
        if (skip_reason) {                                                                   \
            fprintf(stderr, "SKIPPED %s: %s\n", __func__, skip_reason);                      \
            return;                                                                          \
        }                                                                                    \
    } while (0)

/* ---- helpers ---- */

static void expect_exit(const bgt_result *r, int code)
{
    if (r->exit_code != code)
        fprintf(stderr, "bg-gate exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s\n",
                r->exit_code, code, r->out, r->err);
    ck_assert_int_eq(r->exit_code, code);
}

static void run(bgt_result *r, const char *const *args, int timeout_s)
{
    bgt_run_gate(r, repo_dir, NULL, args, timeout_s);
}

static cJSON *status_json(void)
{
    bgt_result r;
    const char *args[] = {"status", "--json", NULL};
    run(&r, args, 30);
    expect_exit(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_ptr_nonnull(j);
    bgt_result_dispose(&r);
    return j;
}

static int router_weight(const cJSON *status, const char *pool)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(status, "router"), "weights");
    return (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, pool));
}

static const char *state_str(const cJSON *status, const char *a, const char *b, const char *c)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(status, "state");
    o = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        o = cJSON_GetObjectItemCaseSensitive(o, b);
    if (c)
        o = cJSON_GetObjectItemCaseSensitive(o, c);
    return cJSON_GetStringValue(o);
}

/* Answers through the router: how many of n came from green. */
static int green_answers(int n)
{
    char url[128], want[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/models", router_port);
    snprintf(want, sizeof want, "127.0.0.1:%d", green_port);
    int g = 0;
    for (int i = 0; i < n; i++) {
        bgt_answer a;
        bgt_http_ask(&a, url, NULL, 5000);
        ck_assert_int_eq(a.status, 200);
        g += strcmp(a.upstream, want) == 0;
    }
    return g;
}

/* nginx applies a reload asynchronously (an old worker may answer for a moment): wait up
 * to 5 s for 10 answers in a row with `want` of them from green, then assert. */
static void expect_green_share(int want_of_10)
{
    int g = -1;
    for (int i = 0; i < 50 && g != want_of_10; i++) {
        g = green_answers(10);
        if (g != want_of_10)
            usleep(100 * 1000);
    }
    ck_assert_int_eq(g, want_of_10);
}

/* ---- load ---- */

/* A load child through the router (loadfix.h): every answer must be a 200 with "Paris". */
static void start_loader(bgt_loader *l, const char *stop, bool keep_alive)
{
    char url[128], counts[700];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", router_port);
    snprintf(counts, sizeof counts, "%s/load-%d", tmp, keep_alive);
    ck_assert_int_eq(bgt_loader_start(l, url,
                                      "{\"model\": \"acme\", \"messages\": [{\"role\": \"user\", "
                                      "\"content\": \"What is the capital of France?\"}]}",
                                      "Paris", keep_alive, stop, counts, 180, 2000),
                     0);
}

static void stop_loader(bgt_loader *l, const char *what)
{
    long done = 0, failed = 0;
    char first[256];
    ck_assert_int_eq(bgt_loader_finish(l, &done, &failed, first, sizeof first), 0);
    fprintf(stderr, "%s, canary ramp under load, %s: %ld requests, %ld failed%s%s\n",
            kind == ROUTER_HAPROXY ? "haproxy" : "nginx", what, done, failed,
            failed ? "; first: " : "", failed ? first : "");
    ck_assert_int_ge(done, 100);
    ck_assert_int_eq(failed, 0);
}

/* ---- tests ---- */

/* Analysis every second over probes at 40/s: latency against the old pool, with enough
 * samples to be conclusive at every step. */
#define ANALYSIS                                                                             \
    "\"analysis\": {\"interval_s\": 1, \"failure_limit\": 1, \"inconclusive_limit_s\": 20,"  \
    " \"checks\": [{\"metric\": \"e2e_p95_s\", \"max_ratio_to_old\": 3, \"min_samples\": 3}]}," \
    " \"probes\": {\"suite\": \"evals/capitals.jsonl\", \"rate\": 40}"

/* The whole ramp under load: every step baked and analysed, then verify and drain; not
 * one request of the load fails, on new connections and on kept-alive ones. */
static void full_ramp_under_load(bool keep_alive_too)
{
    char stop[700];
    snprintf(stop, sizeof stop, "%s/stop-load", tmp);
    bgt_loader fresh, kept;
    start_loader(&fresh, stop, false);
    if (keep_alive_too)
        start_loader(&kept, stop, true);
    commit_release("v1", "\"steps\": [10, 50, 100], \"bake_s\": 2, " ANALYSIS);
    bgt_result r;
    const char *args[] = {"deploy", "--reports", reports, NULL};
    run(&r, args, 120);
    expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.err, "canary: green at 10% (step 1 of 3)"));
    ck_assert_ptr_nonnull(strstr(r.err, "canary: green at 50% (step 2 of 3)"));
    ck_assert_ptr_nonnull(strstr(r.err, "canary: green at 100% (step 3 of 3)"));
    ck_assert_ptr_nonnull(strstr(r.err, "e2e_p95_s    pass"));
    bgt_result_dispose(&r);
    write_file(stop, "stop\n");
    stop_loader(&fresh, "new connection per request");
    if (keep_alive_too)
        stop_loader(&kept, "keep-alive");
    cJSON *s = status_json();
    ck_assert_int_eq(router_weight(s, "green"), 100);
    ck_assert_str_eq(state_str(s, "live", NULL, NULL), "green");
    ck_assert_str_eq(state_str(s, "pools", "green", "status"), "live");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "state"),
                                                        "deploy")->child);
    cJSON_Delete(s);
    expect_green_share(10);
}

START_TEST(nginx_full_ramp_under_load_fails_no_request)
{
    SKIP_IF_NEEDED();
    full_ramp_under_load(false); /* reload mode: new connections (see README) */
}
END_TEST

START_TEST(haproxy_full_ramp_under_load_fails_no_request)
{
    SKIP_IF_NEEDED();
    full_ramp_under_load(true);
}
END_TEST

/* A release that turns slow mid-ramp fails its latency check in the next interval and
 * goes back to 0 %: exit 5, long before the bake time is over. */
static void degrading_release_is_rolled_back(void)
{
    commit_release("v2-degrade", "\"steps\": [50, 100], \"bake_s\": 60, " ANALYSIS);
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    const char *env[] = {"POOL_DEGRADE_AFTER=60", "POOL_DEGRADE_MS=300", NULL};
    bgt_run_gate(&r, repo_dir, env, args, 120);
    expect_exit(&r, 5);
    ck_assert_ptr_nonnull(strstr(r.err, "canary analysis failed: 1 consecutive failure of "));
    ck_assert_ptr_nonnull(strstr(r.err, "e2e_p95_s"));
    ck_assert_msg(r.elapsed_ms < 40000, "rollback took %.0f ms", r.elapsed_ms);
    bgt_result_dispose(&r);
    cJSON *s = status_json();
    ck_assert_int_eq(router_weight(s, "blue"), 100);
    ck_assert_str_eq(state_str(s, "pools", "green", "status"), "failed");
    ck_assert_ptr_nonnull(strstr(state_str(s, "last_message", NULL, NULL), "e2e_p95_s"));
    cJSON_Delete(s);
    expect_green_share(0);
}

/* A release that starts answering 500s mid-ramp, under live traffic and without probes:
 * HAProxy counts the errors per pool (show stat) and router_error_rate against the old
 * pool rolls it back. */
START_TEST(haproxy_router_errors_roll_back)
{
    SKIP_IF_NEEDED();
    char stop[700];
    snprintf(stop, sizeof stop, "%s/stop-load", tmp);
    bgt_loader live;
    start_loader(&live, stop, true);
    commit_release("v2-degrade",
                   "\"steps\": [50, 100], \"bake_s\": 60,"
                   " \"analysis\": {\"interval_s\": 1, \"failure_limit\": 1,"
                   " \"checks\": [{\"metric\": \"router_error_rate\","
                   " \"max_increase_over_old\": 0.05, \"min_samples\": 10}]}");
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    const char *env[] = {"POOL_DEGRADE_AFTER=30", "POOL_DEGRADE_MS=0",
                         "POOL_DEGRADE_ERROR_RATE=0.5", NULL};
    bgt_run_gate(&r, repo_dir, env, args, 120);
    write_file(stop, "stop\n");
    long done = 0, failed = 0;
    ck_assert_int_eq(bgt_loader_finish(&live, &done, &failed, NULL, 0), 0);
    expect_exit(&r, 5);
    ck_assert_ptr_nonnull(strstr(r.err, "1 consecutive failure of router_error_rate"));
    bgt_result_dispose(&r);
    cJSON *s = status_json();
    ck_assert_int_eq(router_weight(s, "blue"), 100);
    cJSON_Delete(s);
    expect_green_share(0);
}
END_TEST

START_TEST(nginx_degrading_release_is_rolled_back_within_an_interval)
{
    SKIP_IF_NEEDED();
    degrading_release_is_rolled_back();
}
END_TEST

START_TEST(haproxy_degrading_release_is_rolled_back_within_an_interval)
{
    SKIP_IF_NEEDED();
    degrading_release_is_rolled_back();
}
END_TEST

/* No probes and no traffic: every interval is inconclusive; the ramp holds (never
 * advances on missing data) and rolls back once inconclusive_limit_s is over. */
START_TEST(no_data_holds_then_rolls_back)
{
    SKIP_IF_NEEDED();
    commit_release("v1", "\"steps\": [25, 100], \"bake_s\": 1,"
                         " \"analysis\": {\"interval_s\": 1, \"inconclusive_limit_s\": 3,"
                         " \"checks\": [{\"metric\": \"e2e_p95_s\", \"max_ratio_to_old\": 2,"
                         " \"min_samples\": 5}]}");
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    run(&r, args, 60);
    expect_exit(&r, 5);
    ck_assert_ptr_nonnull(strstr(r.err, "holding at 25%"));
    ck_assert_ptr_nonnull(strstr(r.err, "inconclusive"));
    ck_assert_ptr_null(strstr(r.err, "green at 100%"));
    bgt_result_dispose(&r);
    cJSON *s = status_json();
    ck_assert_int_eq(router_weight(s, "blue"), 100);
    cJSON_Delete(s);
}
END_TEST

/* --pause-at keeps the split across processes: a second deploy refuses, status shows the
 * step and the analysis, promote --step advances one step, promote --full finishes. */
START_TEST(pause_step_and_full_promote)
{
    SKIP_IF_NEEDED();
    commit_release("v1", "\"steps\": [10, 50, 100], \"bake_s\": 1, " ANALYSIS);
    bgt_result r;
    const char *pause[] = {"deploy", "--pause-at", "10", NULL};
    run(&r, pause, 90);
    expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.err, "canary paused at 10%"));
    bgt_result_dispose(&r);
    cJSON *s = status_json();
    ck_assert_int_eq(router_weight(s, "green"), 10);
    ck_assert_str_eq(state_str(s, "deploy", "phase", NULL), "ramp");
    ck_assert_str_eq(state_str(s, "pools", "green", "status"), "canary");
    cJSON_Delete(s);
    const char *human[] = {"status", NULL};
    run(&r, human, 30);
    expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "green at 10% (step 1 of 3), paused"));
    ck_assert_ptr_nonnull(strstr(r.out, "e2e_p95_s"));
    bgt_result_dispose(&r);

    commit_release("v2", "\"steps\": [10, 50, 100], \"bake_s\": 1, " ANALYSIS);
    const char *again[] = {"deploy", NULL};
    run(&r, again, 60);
    expect_exit(&r, 3);
    ck_assert_ptr_nonnull(strstr(r.err, "is paused on green: run `bg-gate promote --step`"));
    bgt_result_dispose(&r);
    const char *rollback[] = {"rollback", NULL};
    run(&r, rollback, 60);
    expect_exit(&r, 3);
    ck_assert_ptr_nonnull(strstr(r.err, "a canary ramp is under way or paused"));
    bgt_result_dispose(&r);

    const char *step[] = {"promote", "--step", NULL};
    run(&r, step, 90);
    expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.err, "green from 10% to 50%"));
    bgt_result_dispose(&r);
    s = status_json();
    ck_assert_int_eq(router_weight(s, "green"), 50);
    cJSON_Delete(s);
    ck_assert_int_ge(green_answers(40), 10);

    const char *full[] = {"promote", "--full", NULL};
    run(&r, full, 90);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    s = status_json();
    ck_assert_int_eq(router_weight(s, "green"), 100);
    ck_assert_str_eq(state_str(s, "live", NULL, NULL), "green");
    ck_assert_str_eq(state_str(s, "pools", "green", "status"), "live");
    cJSON_Delete(s);
    run(&r, step, 30);
    expect_exit(&r, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "promote --step: no canary ramp is paused"));
    bgt_result_dispose(&r);
}
END_TEST

/* abort takes a paused ramp back to 0 % on the new pool; the pool stays gated and ready. */
START_TEST(abort_returns_a_paused_ramp_to_zero)
{
    SKIP_IF_NEEDED();
    commit_release("v1", "\"steps\": [25, 100], \"bake_s\": 1, " ANALYSIS);
    bgt_result r;
    const char *pause[] = {"deploy", "--pause-at", "25", NULL};
    run(&r, pause, 90);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    const char *abort_args[] = {"abort", NULL};
    run(&r, abort_args, 30);
    expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.err, "ended the canary ramp"));
    bgt_result_dispose(&r);
    cJSON *s = status_json();
    ck_assert_int_eq(router_weight(s, "blue"), 100);
    ck_assert_str_eq(state_str(s, "pools", "green", "status"), "ready");
    cJSON_Delete(s);
    expect_green_share(0);
}
END_TEST

/* A probe suite that does not load stops the deploy before the idle pool is touched. */
START_TEST(a_missing_probe_suite_stops_before_any_pool_moves)
{
    SKIP_IF_NEEDED();
    commit_release("v1", "\"steps\": [50, 100], \"bake_s\": 1,"
                         " \"probes\": {\"suite\": \"evals/missing.jsonl\", \"rate\": 5}");
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    run(&r, args, 60);
    expect_exit(&r, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "promotion.probes.suite"));
    ck_assert_ptr_nonnull(strstr(r.err, "missing.jsonl"));
    ck_assert_ptr_null(strstr(r.err, "==> deploy"));
    bgt_result_dispose(&r);
    char *pid = tmp_path("pools/green/mock.pid");
    ck_assert_int_ne(access(pid, F_OK), 0); /* green was never deployed */
    free(pid);
    expect_green_share(0);
}
END_TEST

/* Clients send one model name: a release serving another name cannot share the traffic. */
START_TEST(canary_needs_one_served_name)
{
    SKIP_IF_NEEDED();
    commit_release("v1", "\"steps\": [50, 100], \"bake_s\": 0");
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    run(&r, args, 90);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    char path[700];
    snprintf(path, sizeof path, "%s/bg-gate.json", repo_dir);
    char *cfg = bgt_read_file(path);
    char *other = bgt_replace_all(cfg, "\"served_name\": \"acme\"", "\"served_name\": \"acme-2\"");
    write_file(path, other);
    ck_assert_int_eq(bgt_repo_commit(&repo, "renamed", NULL), 0);
    run(&r, args, 90);
    expect_exit(&r, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "canary: the new release serves \"acme-2\" but the live "
                                        "pool serves \"acme\""));
    bgt_result_dispose(&r);
    cJSON *s = status_json();
    ck_assert_int_eq(router_weight(s, "green"), 100); /* the live pool kept everything */
    cJSON_Delete(s);
    free(cfg);
    free(other);
}
END_TEST

/* HAProxy forgets runtime weights on a restart: status says so and --repair sets them
 * again. */
START_TEST(haproxy_restart_is_detected_and_repaired)
{
    SKIP_IF_NEEDED();
    commit_release("v1", "\"steps\": [100], \"bake_s\": 0");
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    run(&r, args, 90);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    expect_green_share(10);
    bgt_haproxy_stop(tmp, haproxy_pid);
    haproxy_pid = bgt_haproxy_start(tmp); /* back to the config's weights: blue */
    ck_assert_int_gt(haproxy_pid, 0);
    ck_assert_int_eq(green_answers(10), 0);
    const char *status[] = {"status", NULL};
    run(&r, status, 30);
    expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "STALE"));
    ck_assert_ptr_nonnull(strstr(r.out, "`bg-gate status --repair`"));
    bgt_result_dispose(&r);
    const char *repair[] = {"status", "--repair", NULL};
    run(&r, repair, 30);
    expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "REPAIRED"));
    bgt_result_dispose(&r);
    expect_green_share(10); /* no reload: at once */
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("e2e_canary");
    TCase *n = tcase_create("nginx");
    tcase_add_checked_fixture(n, setup_nginx, teardown);
    tcase_add_unchecked_fixture(n, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(n, 240);
    tcase_add_test(n, nginx_full_ramp_under_load_fails_no_request);
    tcase_add_test(n, nginx_degrading_release_is_rolled_back_within_an_interval);
    tcase_add_test(n, no_data_holds_then_rolls_back);
    tcase_add_test(n, pause_step_and_full_promote);
    tcase_add_test(n, abort_returns_a_paused_ramp_to_zero);
    tcase_add_test(n, canary_needs_one_served_name);
    tcase_add_test(n, a_missing_probe_suite_stops_before_any_pool_moves);
    suite_add_tcase(s, n);
    TCase *h = tcase_create("haproxy");
    tcase_add_checked_fixture(h, setup_haproxy, teardown);
    tcase_add_unchecked_fixture(h, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(h, 240);
    tcase_add_test(h, haproxy_full_ramp_under_load_fails_no_request);
    tcase_add_test(h, haproxy_degrading_release_is_rolled_back_within_an_interval);
    tcase_add_test(h, haproxy_restart_is_detected_and_repaired);
    tcase_add_test(h, haproxy_router_errors_roll_back);
    suite_add_tcase(s, h);
    return s;
}

BG_CHECK_MAIN()
