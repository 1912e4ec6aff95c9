/* test_deploy.c — end-to-end blue-green cycle with the real nginx (Debian), two bg-mock
 * pools restarted by a pool script the way `docker compose up -d vllm-green` would, and a
 * real git repository holding the release.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include "../support/check_main.h"
#include "../support/gitfix.h"
#include "../support/loadfix.h"
#include "../support/nginxfix.h"
#include "../support/proc.h"
#include "../support/sweep.h"
#include "bggate/buf.h"
#include "bggate/util.h"

#define NGINX BGT_NGINX_BIN

static char *tmp;
static char repo_dir[600], state_dir[600], reports[600], upstreams[600];
static int blue_port, green_port, nginx_port;
static bgt_repo repo;
static bool have_nginx;
static bool hitless; /* the "hitless" test case: nginx mode hitless (Lua) */
static const char *drain_metric = ""; /* extra promotion members (JSON text) */
static const char *gate_extra = "";   /* extra gate members (JSON text) */
static const char *reload_override;   /* router.reload_argv (JSON text) instead of nginx's */

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
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/%s", tmp, rel), 0);
    return p;
}

#define LUA_MODULES                                                                         \
    "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n"                              \
    "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n"

/* hitless: both pools' upstreams once, and the weights file the Lua reads */
static void write_hitless_files(int blue, int green)
{
    char text[512];
    snprintf(text, sizeof text,
             "# bg-gate: hitless upstreams (managed by bg-gate; do not edit)\n"
             "upstream bg_gate_blue {\n    server 127.0.0.1:%d; # blue\n    keepalive 32;\n}\n"
             "upstream bg_gate_green {\n    server 127.0.0.1:%d; # green\n    keepalive 32;\n}\n",
             blue_port, green_port);
    write_file(upstreams, text);
    snprintf(text, sizeof text, "{\"blue\": %d, \"green\": %d}\n", blue, green);
    char *w = tmp_path("weights.json");
    write_file(w, text);
    free(w);
}

static void write_upstreams(int blue, int green)
{
    if (hitless) {
        write_hitless_files(blue, green);
        return;
    }
    char text[512];
    snprintf(text, sizeof text,
             "# bg-gate: blue=%d green=%d (managed by bg-gate; do not edit)\n"
             "upstream bg_gate_llm {\n"
             "    server 127.0.0.1:%d %s; # blue\n"
             "    server 127.0.0.1:%d %s; # green\n"
             "    keepalive 32;\n"
             "}\n",
             blue, green, blue_port, blue ? "weight=100" : "down", green_port,
             green ? "weight=100" : "down");
    write_file(upstreams, text);
}

static void nginx_cmd(char *out, size_t outsz, const char *extra)
{
    snprintf(out, outsz, "[\"%s\", %s\"-c\", \"%s/nginx.conf\", \"-p\", \"%s\"]", NGINX, extra,
             tmp, tmp);
}

/* The config committed in the repository; served names select the pool's answers. */
static void write_config(const char *served, const char *test_argv_json, const char *header)
{
    char test_argv[700], reload_argv[700], path[700];
    nginx_cmd(test_argv, sizeof test_argv, "\"-t\", \"-q\", ");
    nginx_cmd(reload_argv, sizeof reload_argv, "\"-s\", \"reload\", ");
    char *pool_sh = bgt_src("tests/fixtures/deploy/pool.sh");
    char mode[800] = "";
    if (hitless)
        snprintf(mode, sizeof mode, "\"mode\": \"hitless\", \"weights_file\": \"%s/weights.json\", ",
                 tmp);
    char *cfg = NULL;
    ck_assert_int_ge(
        asprintf(&cfg,
                 "{\"environment\": \"e2e\",\n"
                 " \"release\": {\"model\": {\"name\": \"acme/%s\", \"served_name\": \"%s\"},\n"
                 "   \"templates\": {\"sys\": \"prompts/system.txt\"},\n"
                 "   \"suites\": [\"evals/capitals.jsonl\"]},\n"
                 " \"pools\": {\n"
                 "  \"blue\": {\"endpoints\": [\"http://127.0.0.1:%d/v1\"],\n"
                 "   \"deploy\": {\"driver\": \"command\", \"argv\": [\"%s\", \"deploy\", \"%s/pools/blue\", \"%d\"], \"timeout_s\": 30},\n"
                 "   \"stop\": {\"argv\": [\"%s\", \"stop\", \"%s/pools/blue\", \"%d\"]}},\n"
                 "  \"green\": {\"endpoints\": [\"http://127.0.0.1:%d/v1\"],\n"
                 "   \"deploy\": {\"driver\": \"command\", \"argv\": [\"%s\", \"deploy\", \"%s/pools/green\", \"%d\"], \"timeout_s\": 30},\n"
                 "   \"stop\": {\"argv\": [\"%s\", \"stop\", \"%s/pools/green\", \"%d\"]}}},\n"
                 " \"health\": {\"timeout_s\": 5, \"interval_ms\": 50, \"max_interval_ms\": 200},\n"
                 " \"router\": {\"driver\": \"nginx\", %s\"upstream_file\": \"%s\",\n"
                 "   \"test_argv\": %s, \"reload_argv\": %s,\n"
                 "   \"endpoint\": \"http://127.0.0.1:%d/v1\", \"upstream_header\": \"%s\"},\n"
                 " \"gate\": {\"concurrency\": 4%s},\n"
                 " \"promotion\": {\"verify_requests\": 3, \"drain_timeout_s\": 5, \"keep_warm_s\": 3600%s},\n"
                 " \"state\": {\"dir\": \"%s\"}}\n",
                 served, served, blue_port, pool_sh, tmp, blue_port, pool_sh, tmp, blue_port,
                 green_port, pool_sh, tmp, green_port, pool_sh, tmp, green_port, mode, upstreams,
                 test_argv_json ? test_argv_json : test_argv,
                 reload_override ? reload_override : reload_argv, nginx_port,
                 header ? header : "X-BG-Upstream", gate_extra, drain_metric, state_dir),
        0);
    snprintf(path, sizeof path, "%s/bg-gate.json", repo_dir);
    write_file(path, cfg);
    free(cfg);
    free(pool_sh);
}

static void commit_release(const char *served)
{
    write_config(served, NULL, NULL);
    ck_assert_int_eq(bgt_repo_commit(&repo, served, NULL), 0);
}

/* hitless: the documented snippet (docs/nginx-hitless.conf) pointed at tmp, with the Lua */
static void start_nginx_hitless(void)
{
    /* nginx workers run unprivileged and read the Lua and weights files per request */
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    char *lua_src = bgt_src("docs/bg-gate-weights.lua");
    char *lua = bgt_read_file(lua_src);
    ck_assert_ptr_nonnull(lua);
    char *lua_dst = tmp_path("bg-gate-weights.lua");
    write_file(lua_dst, lua);
    char *snippet = bgt_nginx_snippet("docs/nginx-hitless.conf", tmp, nginx_port);
    ck_assert_ptr_nonnull(snippet);
    char *conf = bgt_nginx_conf(tmp, LUA_MODULES, 1, 256, "off", snippet);
    char *path = tmp_path("nginx.conf");
    write_file(path, conf);
    ck_assert_int_eq(bgt_nginx_start(tmp, path, 10), 0);
    free(lua_src);
    free(lua);
    free(lua_dst);
    free(snippet);
    free(conf);
    free(path);
}

static void start_nginx(void)
{
    if (hitless) {
        start_nginx_hitless();
        return;
    }
    char *http = NULL;
    ck_assert_int_ge(
        asprintf(&http,
                 "  include %s;\n"
                 "  server {\n    listen 127.0.0.1:%d;\n"
                 "    location / {\n      proxy_pass http://bg_gate_llm;\n"
                 "      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n"
                 "      proxy_buffering off;\n"
                 "      add_header X-BG-Upstream $upstream_addr always;\n    }\n  }\n",
                 upstreams, nginx_port),
        0);
    char *conf = bgt_nginx_conf(tmp, "", 1, 256, "off", http);
    char *path = tmp_path("nginx.conf");
    write_file(path, conf);
    ck_assert_int_eq(bgt_nginx_start(tmp, path, 10), 0); /* daemonises; pid in tmp/nginx.pid */
    free(http);
    free(conf);
    free(path);
}

static void stop_pid_file(const char *rel)
{
    char *path = tmp_path(rel);
    char *s = bgt_read_file(path);
    if (s) {
        pid_t pid = (pid_t)strtol(s, NULL, 10);
        if (pid > 1)
            kill(pid, SIGTERM);
    }
    free(s);
    free(path);
}

/* blue starts with a model no release knows, like a pool set up by hand */
static void start_initial_blue(void)
{
    char *dir = tmp_path("initial");
    char *rel = tmp_path("initial/release.json");
    char pools[700];
    snprintf(pools, sizeof pools, "%s/pools/blue", tmp);
    ck_assert_int_eq(bg_mkdir_p(dir, NULL), 0);
    write_file(rel, "{}\n");
    char port[16];
    snprintf(port, sizeof port, "%d", blue_port);
    char *sh = bgt_src("tests/fixtures/deploy/pool.sh");
    char env_dir[700];
    snprintf(env_dir, sizeof env_dir, "BG_RELEASE_DIR=%s", dir);
    const char *env[] = {"BG_SERVED_MODEL=initial-model", env_dir, NULL};
    const char *argv[] = {"/bin/sh", sh, "deploy", pools, port, NULL};
    ck_assert_int_eq(bgt_run_cmd_env(argv, env, 20), 0);
    /* wait out its cold start */
    ck_assert_msg(bgt_wait_healthy(blue_port), "the initial blue never became healthy");
    free(sh);
    free(dir);
    free(rel);
}

static void stop_servers(void);

static void setup(void)
{
    have_nginx = access(NGINX, X_OK) == 0;
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
    bgt_registry_add(tmp);
    snprintf(repo_dir, sizeof repo_dir, "%s/repo", tmp);
    snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
    snprintf(reports, sizeof reports, "%s/reports", tmp);
    snprintf(upstreams, sizeof upstreams, "%s/upstreams.conf", tmp);
    blue_port = bgt_free_port();
    green_port = bgt_free_port();
    nginx_port = bgt_free_port();
    while (green_port == blue_port)
        green_port = bgt_free_port();
    while (nginx_port == blue_port || nginx_port == green_port)
        nginx_port = bgt_free_port();
    ck_assert_int_eq(bgt_repo_init(&repo, repo_dir), 0);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *text = bgt_read_file(suite);
    ck_assert_int_eq(bgt_repo_write(&repo, "evals/capitals.jsonl", text), 0);
    free(text);
    free(suite);
    ck_assert_int_eq(bgt_repo_write(&repo, "prompts/system.txt", "You are helpful.\n"), 0);
    if (!have_nginx)
        return;
    atexit(stop_servers);
    write_upstreams(100, 0);
    start_initial_blue();
    start_nginx();
}

/* Stops what a test started, by the PIDs in its pid files. Also registered with atexit:
 * a failed assertion ends the test process without running the teardown. */
static void stop_servers(void)
{
    if (!have_nginx || !tmp)
        return;
    bgt_nginx_stop(tmp);
    stop_pid_file("pools/blue/mock.pid");
    stop_pid_file("pools/green/mock.pid");
    usleep(100 * 1000);
}

static void teardown(void)
{
    stop_servers();
    bgt_repo_close(&repo);
    bgt_rmtree(tmp);
    free(tmp);
    tmp = NULL;
}

/* ---- helpers ---- */

#define NEED_NGINX()                                                                        \
    do {                                                                                    \
        if (!have_nginx) {                                                                  \
            fprintf(stderr, "SKIPPED %s: %s is not installed\n", __func__, NGINX);          \
            return;                                                                         \
        }                                                                                   \
    } while (0)

static void expect_exit(const bgt_result *r, int code)
{
    if (r->exit_code != code) {
        char *log = tmp_path("error.log");
        char *nlog = bgt_read_file(log);
        fprintf(stderr,
                "bg-gate exited %d (expected %d) after %.0f ms\nstdout:\n%s\nstderr:\n%s\n"
                "nginx:\n%s\n",
                r->exit_code, code, r->elapsed_ms, r->out, r->err, nlog ? nlog : "");
        free(nlog);
        free(log);
    }
    ck_assert_int_eq(r->exit_code, code);
}

static int deploy(const char *extra, bgt_result *r)
{
    const char *args[] = {"deploy", "--reports", reports, extra, NULL};
    bgt_run_gate(r, repo_dir, NULL, args, 120);
    return r->exit_code;
}

static void run_ok(const char *cmd)
{
    bgt_result r;
    const char *args[] = {cmd, NULL};
    bgt_run_gate(&r, repo_dir, NULL, args, 60);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
}

/* One request through nginx: which upstream and model answered. */
static void ask_router(bgt_answer *a)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", nginx_port);
    ck_assert_int_eq(bgt_http_ask(a, url,
                                  "{\"model\": \"x\", \"messages\": [{\"role\": \"user\", "
                                  "\"content\": \"What is the capital of France?\"}]}",
                                  10000),
                     CURLE_OK);
}

/* nginx applies a reload asynchronously: an old worker may answer for a moment after a
 * flip (the documented cost of reload mode). Wait up to 2 s for 5 answers in a row from
 * the expected pool, then assert. */
static void expect_live(int port, const char *model)
{
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    bgt_answer a;
    int streak = 0;
    for (int i = 0; i < 200 && streak < 5; i++) {
        ask_router(&a);
        bool ok = strcmp(a.upstream, want) == 0 && strcmp(a.model, model) == 0;
        streak = ok ? streak + 1 : 0;
        if (!ok)
            usleep(10 * 1000);
    }
    ck_assert_str_eq(a.upstream, want);
    ck_assert_str_eq(a.model, model);
    ck_assert_int_eq(streak, 5);
}

static cJSON *status_json(void)
{
    bgt_result r;
    const char *args[] = {"status", "--json", NULL};
    bgt_run_gate(&r, repo_dir, NULL, args, 30);
    expect_exit(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "status is not JSON: %s", r.out);
    bgt_result_dispose(&r);
    return j;
}

static const char *live_of(const cJSON *status)
{
    return cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(status, "router"), "live"));
}

/* ---- tests ---- */

START_TEST(first_deploy_promotes_and_traffic_follows)
{
    NEED_NGINX();
    commit_release("good-model");
    bgt_result r;
    /* --pause-at is a canary's: with a flip it is refused before anything moves */
    deploy("--pause-at=50", &r);
    expect_exit(&r, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "--pause-at: only a canary ramp pauses"));
    bgt_result_dispose(&r);
    expect_live(blue_port, "initial-model");
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
    cJSON *s = status_json();
    ck_assert_str_eq(live_of(s), "green");
    cJSON_Delete(s);
    /* the JUnit file has the gate's cases and one test case per lifecycle phase */
    char path[700];
    snprintf(path, sizeof path, "%s/junit.xml", reports);
    char *xml = bgt_read_file(path);
    ck_assert_ptr_nonnull(xml);
    ck_assert_ptr_nonnull(strstr(xml, "name=\"lifecycle\""));
    const char *phases[] = {"lock", "resolve", "deploy", "health", "warmup", "gate", "flip",
                            "verify", "drain"};
    for (size_t i = 0; i < sizeof phases / sizeof *phases; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "classname=\"lifecycle\" name=\"%s\"", phases[i]);
        ck_assert_msg(strstr(xml, needle) != NULL, "no lifecycle case %s", phases[i]);
    }
    free(xml);
    snprintf(path, sizeof path, "%s/report.json", reports);
    char *json = bgt_read_file(path);
    cJSON *rep = cJSON_Parse(json);
    cJSON *d = cJSON_GetObjectItem(rep, "deploy");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "decision")), "promoted");
    cJSON_Delete(rep);
    free(json);
    /* the same release again: nothing to deploy */
    deploy(NULL, &r);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "nothing to deploy") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    /* what a new commit would change against the live release */
    commit_release("good-model-2");
    const char *against[] = {"resolve", "--against", "live", NULL};
    bgt_run_gate(&r, repo_dir, NULL, against, 30);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, "changed:") != NULL && strstr(r.out, "model") != NULL, "%s",
                  r.out);
    bgt_result_dispose(&r);
}
END_TEST

START_TEST(bad_release_is_stopped_by_the_gate_and_live_is_untouched)
{
    NEED_NGINX();
    commit_release("good-model");
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    commit_release("bad-model");
    deploy(NULL, &r);
    expect_exit(&r, 1);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
    cJSON *s = status_json();
    const cJSON *blue = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(s, "state"), "pools"), "blue");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(blue, "status")), "stopped");
    cJSON_Delete(s);
}
END_TEST

START_TEST(rollback_flips_back_to_the_warm_pool)
{
    NEED_NGINX();
    commit_release("good-model");
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    commit_release("good-model-2");
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    expect_live(blue_port, "good-model-2");
    run_ok("rollback");
    expect_live(green_port, "good-model");
    /* green is live again; blue holds the newer release and is warm */
    cJSON *s = status_json();
    ck_assert_str_eq(live_of(s), "green");
    cJSON_Delete(s);
    /* and a rollback of the rollback works too: nothing was left half-done */
    run_ok("rollback");
    expect_live(blue_port, "good-model-2");
}
END_TEST

START_TEST(a_held_lock_exits_4_naming_the_holder)
{
    NEED_NGINX();
    commit_release("good-model");
    char lock[700];
    snprintf(lock, sizeof lock, "%s/e2e.lock", state_dir);
    ck_assert_int_eq(bg_mkdir_p(state_dir, NULL), 0);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
    char holder[200];
    snprintf(holder, sizeof holder, "{\"pid\": %d, \"host\": \"test-host\"}\n", (int)getpid());
    ck_assert_int_eq(write(fd, holder, strlen(holder)), (ssize_t)strlen(holder));
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 4);
    ck_assert_msg(strstr(r.err, "test-host") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    close(fd);
    expect_live(blue_port, "initial-model");
}
END_TEST

START_TEST(failed_verification_flips_back_and_exits_5)
{
    NEED_NGINX();
    write_config("good-model", NULL, "X-Not-Sent-By-Nginx");
    ck_assert_int_eq(bgt_repo_commit(&repo, "wrong header", NULL), 0);
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 5);
    ck_assert_msg(strstr(r.err, "X-Not-Sent-By-Nginx") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    expect_live(blue_port, "initial-model");
}
END_TEST

START_TEST(a_pool_that_never_gets_ready_exits_3_live_untouched)
{
    NEED_NGINX();
    commit_release("never-model");
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 3);
    ck_assert_msg(strstr(r.err, "not ready") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    expect_live(blue_port, "initial-model");
}
END_TEST

START_TEST(drift_between_router_and_state_stops_the_deploy)
{
    NEED_NGINX();
    commit_release("good-model");
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    write_upstreams(100, 0); /* someone flips the router by hand (no reload needed) */
    commit_release("good-model-2");
    deploy(NULL, &r);
    expect_exit(&r, 3);
    ck_assert_msg(strstr(r.err, "drift") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    deploy("--force", &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
}
END_TEST

START_TEST(a_broken_router_test_changes_nothing)
{
    NEED_NGINX();
    write_config("good-model", "[\"/bin/false\"]", NULL);
    ck_assert_int_eq(bgt_repo_commit(&repo, "broken test", NULL), 0);
    char *before = bgt_read_file(upstreams);
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 3);
    bgt_result_dispose(&r);
    char *after = bgt_read_file(upstreams);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    expect_live(blue_port, "initial-model");
}
END_TEST

/* The real `nginx -t` on a main config nginx rejects: the deploy stops at the flip with
 * nginx's own words, the upstream file and live traffic stay as they were. */
START_TEST(a_broken_nginx_config_changes_nothing_and_quotes_nginx)
{
    NEED_NGINX();
    commit_release("good-model");
    char *conf = tmp_path("nginx.conf");
    char *text = bgt_read_file(conf);
    ck_assert_ptr_nonnull(text);
    char *broken = NULL;
    ck_assert_int_ge(asprintf(&broken, "bogus_directive on;\n%s", text), 0);
    write_file(conf, broken); /* the running nginx keeps its loaded config */
    char *before = bgt_read_file(upstreams);
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 3);
    ck_assert_msg(strstr(r.err, "unknown directive \"bogus_directive\"") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    char *after = bgt_read_file(upstreams);
    ck_assert_str_eq(before, after);
    expect_live(blue_port, "initial-model");
    write_file(conf, text);
    free(before);
    free(after);
    free(broken);
    free(text);
    free(conf);
}
END_TEST

START_TEST(sigterm_mid_gate_leaves_live_untouched_and_status_explains)
{
    NEED_NGINX();
    commit_release("good-model");
    setenv("POOL_LATENCY_MS", "1500", 1); /* a slow gate to interrupt */
    const char *args[] = {"deploy", NULL};
    pid_t pid = bgt_spawn_gate(repo_dir, args, tmp);
    ck_assert_int_gt(pid, 0);
    /* wait until the gate phase has started, then cancel it like CI would */
    char path[700];
    snprintf(path, sizeof path, "%s/e2e.json", state_dir);
    bool in_gate = false;
    for (int i = 0; i < 400 && !in_gate; i++) {
        char *s = bgt_read_file(path);
        in_gate = s && strstr(s, "\"gate\"") != NULL; /* the deploy record's phase */
        free(s);
        usleep(25 * 1000);
    }
    unsetenv("POOL_LATENCY_MS");
    ck_assert_msg(in_gate, "the deploy never reached the gate");
    kill(pid, SIGTERM);
    ck_assert_int_eq(bgt_wait(pid, 30), 3);
    expect_live(blue_port, "initial-model");
    cJSON *s = status_json();
    const cJSON *st = cJSON_GetObjectItem(s, "state");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(st, "last_outcome")), "interrupted");
    cJSON_Delete(s);
}
END_TEST

/* The phase "flip" is recorded before the router is touched: waits until the new upstream
 * file is in place (and being tested), so a kill lands in the middle of the change. */
static void wait_for_the_new_upstream_file(void)
{
    bool swapped = false;
    for (int i = 0; i < 500 && !swapped; i++) {
        char *text = bgt_read_file(upstreams);
        swapped = text && strstr(text, "blue=0 green=100") != NULL;
        free(text);
        if (!swapped)
            usleep(10 * 1000);
    }
    ck_assert_msg(swapped, "the flip never reached the upstream file");
}

/* Starts a deploy with slow pools, waits until the state file shows `phase`, and returns
 * the deploy's pid (the caller signals it). */
static pid_t deploy_until_phase(const char *phase, const char *cold_ms, const char *latency_ms)
{
    setenv("POOL_COLD_START_MS", cold_ms, 1);
    setenv("POOL_LATENCY_MS", latency_ms, 1);
    const char *args[] = {"deploy", "--reports", reports, NULL};
    pid_t pid = bgt_spawn_gate(repo_dir, args, tmp);
    ck_assert_int_gt(pid, 0);
    char path[700], needle[64];
    snprintf(path, sizeof path, "%s/e2e.json", state_dir);
    /* the deploy record's phase, as the state file prints it */
    snprintf(needle, sizeof needle, "\"phase\":\t\"%s\"", phase);
    bool there = false;
    for (int i = 0; i < 600 && !there; i++) {
        char *st = bgt_read_file(path);
        there = st && strstr(st, needle) != NULL;
        free(st);
        if (!there)
            usleep(20 * 1000);
    }
    unsetenv("POOL_COLD_START_MS");
    unsetenv("POOL_LATENCY_MS");
    ck_assert_msg(there, "the deploy never reached phase %s", phase);
    return pid;
}

/* SIGKILL in the middle of a phase: `status` explains, the next deploy recovers (putting
 * the router back if traffic may have moved unverified) and promotes. */
static void kill_in_phase_then_recover(const char *phase, const char *cold_ms,
                                       const char *latency_ms, bool traffic_moved)
{
    char path[700];
    snprintf(path, sizeof path, "%s/bg-gate.json", repo_dir);
    if (access(path, F_OK) != 0) /* else the caller committed its own config */
        commit_release("good-model");
    pid_t pid = deploy_until_phase(phase, cold_ms, latency_ms);
    if (traffic_moved && strcmp(phase, "flip") == 0)
        wait_for_the_new_upstream_file();
    kill(pid, SIGKILL);
    bgt_wait(pid, 10);
    bgt_result r;
    const char *st[] = {"status", NULL};
    bgt_run_gate(&r, repo_dir, NULL, st, 30);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, "UNFINISHED") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, phase) != NULL, "%s", r.out);
    bgt_result_dispose(&r);
    deploy(NULL, &r); /* recovers, then deploys */
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "did not finish") != NULL, "%s", r.err);
    ck_assert_msg((strstr(r.err, "restoring the router") != NULL) == traffic_moved, "%s", r.err);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
}

START_TEST(sigkill_during_health_is_explained_and_recovered)
{
    NEED_NGINX();
    kill_in_phase_then_recover("health", "3000", "0", false);
}
END_TEST

START_TEST(sigkill_during_gate_is_explained_and_recovered)
{
    NEED_NGINX();
    kill_in_phase_then_recover("gate", "200", "1500", false);
}
END_TEST

START_TEST(sigkill_during_verify_restores_the_router_and_recovers)
{
    NEED_NGINX();
    /* verify requests go through nginx to the slow new pool: killed there, traffic has
     * moved to a pool that was never verified — the next deploy must put it back first */
    kill_in_phase_then_recover("verify", "200", "700", true);
}
END_TEST

START_TEST(sigkill_during_deploy_is_explained_and_recovered)
{
    NEED_NGINX();
    setenv("POOL_DEPLOY_SLEEP", "3", 1); /* a slow rollout of the new release */
    kill_in_phase_then_recover("deploy", "200", "0", false);
    unsetenv("POOL_DEPLOY_SLEEP");
}
END_TEST

START_TEST(sigkill_during_warmup_is_explained_and_recovered)
{
    NEED_NGINX();
    kill_in_phase_then_recover("warmup", "200", "1500", false);
}
END_TEST

START_TEST(sigkill_during_flip_restores_the_router_and_recovers)
{
    NEED_NGINX();
    /* a slow `nginx -t`: killed while the new upstream file is swapped in but not yet
     * tested or reloaded — the next deploy must put the router back first */
    char conf[700], argv[1600];
    snprintf(conf, sizeof conf, "%s/nginx.conf", tmp);
    snprintf(argv, sizeof argv,
             "[\"/bin/sh\", \"-c\", \"sleep 2; exec %s -t -q -c %s -p %s/\"]", NGINX, conf, tmp);
    write_config("good-model", argv, NULL);
    ck_assert_int_eq(bgt_repo_commit(&repo, "slow router test", NULL), 0);
    kill_in_phase_then_recover("flip", "200", "0", true);
}
END_TEST

START_TEST(sigkill_during_drain_keeps_the_verified_pool_live)
{
    NEED_NGINX();
    /* drain on a counter the old pool never brings to 0: the drain phase lasts its whole
     * timeout, long enough to be killed in. The new pool was verified by then. */
    bgt_answer a;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", blue_port);
    bgt_http_ask(&a, url, "{\"model\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
                 5000);
    ck_assert_int_eq(a.status, 200);
    drain_metric = ", \"drain_metric\": \"vllm:request_success_total\"";
    write_config("good-model", NULL, NULL);
    drain_metric = "";
    ck_assert_int_eq(bgt_repo_commit(&repo, "drain on a counter", NULL), 0);
    pid_t pid = deploy_until_phase("drain", "200", "0");
    kill(pid, SIGKILL);
    bgt_wait(pid, 10);
    expect_live(green_port, "good-model");
    bgt_result r;
    deploy(NULL, &r); /* recovers: green is live and verified, nothing else to do */
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "did not finish") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "nothing to deploy") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "restoring the router") == NULL, "%s", r.err);
    bgt_result_dispose(&r);
    cJSON *s = status_json();
    ck_assert_str_eq(live_of(s), "green");
    cJSON_Delete(s);
}
END_TEST

/* ---- SIGTERM after the flip, recovery by rollback, restores that are checked ---- */

/* What a background deploy (bgt_spawn_gate) printed on stderr. Caller frees. */
static char *spawned_stderr(void)
{
    char *path = tmp_path("bg-gate.stderr");
    char *text = bgt_read_file(path);
    free(path);
    ck_assert_ptr_nonnull(text);
    return text;
}

static const cJSON *state_member(const cJSON *status, const char *key)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(status, "state"), key);
}

static const char *pool_status(const cJSON *status, const char *pool)
{
    return cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(state_member(status, "pools"), pool), "status"));
}

/* The lifecycle phase `name` of the deploy report (report.json), NULL when absent. */
static const cJSON *report_phase(const cJSON *report, const char *name)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(cJSON_GetObjectItem(report, "deploy"), "lifecycle"))
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(p, "phase"));
        if (n && strcmp(n, name) == 0)
            return p;
    }
    return NULL;
}

static cJSON *read_report(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/report.json", reports);
    char *text = bgt_read_file(path);
    ck_assert_msg(text != NULL, "no %s", path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(j);
    return j;
}

START_TEST(sigterm_during_verify_restores_the_router_and_exits_3)
{
    NEED_NGINX();
    commit_release("good-model");
    /* the new pool answers in 700 ms: 3 verify requests through nginx take ~2 s, and
     * every one of them succeeds — the signal alone must stop the verification */
    pid_t pid = deploy_until_phase("verify", "200", "700");
    kill(pid, SIGTERM);
    ck_assert_int_eq(bgt_wait(pid, 30), 3);
    char *err = spawned_stderr();
    ck_assert_msg(strstr(err, "router restored to blue 100% / green 0%") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "restore checked: blue answers through the router") != NULL, "%s",
                  err);
    ck_assert_msg(strstr(err, "deploy: promoted") == NULL, "%s", err);
    free(err);
    expect_live(blue_port, "initial-model");
    cJSON *s = status_json();
    ck_assert_str_eq(live_of(s), "blue");
    ck_assert_str_eq(cJSON_GetStringValue(state_member(s, "last_outcome")), "interrupted");
    ck_assert_msg(cJSON_IsNull(state_member(s, "deploy")), "a phase was left behind");
    ck_assert_str_eq(cJSON_GetStringValue(state_member(s, "live")), "blue");
    ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(s, "drift")), 0);
    cJSON_Delete(s);
    cJSON *rep = read_report();
    const cJSON *d = cJSON_GetObjectItem(rep, "deploy");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "decision")), "interrupted");
    const cJSON *after = cJSON_GetObjectItem(d, "weights_after");
    ck_assert_int_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(after, "blue")), 100);
    const cJSON *verify = report_phase(rep, "verify");
    ck_assert_ptr_nonnull(verify);
    ck_assert_ptr_nonnull(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(verify, "failure")),
                                 "interrupted by signal 15"));
    const cJSON *check = report_phase(rep, "restore-check");
    ck_assert_msg(check != NULL, "the restore was not checked");
    ck_assert_ptr_null(cJSON_GetStringValue(cJSON_GetObjectItem(check, "failure")));
    cJSON_Delete(rep);
}
END_TEST

START_TEST(sigterm_during_drain_keeps_the_verified_pool_live_and_exits_3)
{
    NEED_NGINX();
    /* drain on a counter blue never brings to 0 (see sigkill_during_drain_…): the drain
     * would wait out its 5 s timeout; the signal must end it at once */
    bgt_answer a;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", blue_port);
    bgt_http_ask(&a, url, "{\"model\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}",
                 5000);
    ck_assert_int_eq(a.status, 200);
    drain_metric = ", \"drain_metric\": \"vllm:request_success_total\"";
    write_config("good-model", NULL, NULL);
    drain_metric = "";
    ck_assert_int_eq(bgt_repo_commit(&repo, "drain on a counter", NULL), 0);
    pid_t pid = deploy_until_phase("drain", "200", "0");
    double t0 = bg_now_ms();
    kill(pid, SIGTERM);
    ck_assert_int_eq(bgt_wait(pid, 30), 3);
    double took = bg_now_ms() - t0;
    ck_assert_msg(took < 4000, "the drain was not interrupted: exit after %.0f ms", took);
    char *err = spawned_stderr();
    ck_assert_msg(strstr(err, "drain: interrupted by signal 15") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "in flight after") == NULL, "%s", err); /* no false timeout */
    ck_assert_msg(strstr(err, "promoted, then interrupted by signal 15 while draining") != NULL,
                  "%s", err);
    ck_assert_msg(strstr(err, "router restored") == NULL, "%s", err);
    free(err);
    /* the flip was verified: green keeps the traffic, blue stays warm for rollback */
    expect_live(green_port, "good-model");
    cJSON *s = status_json();
    ck_assert_str_eq(live_of(s), "green");
    ck_assert_str_eq(cJSON_GetStringValue(state_member(s, "live")), "green");
    ck_assert_str_eq(pool_status(s, "green"), "live");
    ck_assert_str_eq(cJSON_GetStringValue(state_member(s, "last_outcome")), "interrupted");
    ck_assert_ptr_nonnull(strstr(cJSON_GetStringValue(state_member(s, "last_message")),
                                 "green is live and verified"));
    ck_assert_msg(cJSON_IsNull(state_member(s, "deploy")), "a phase was left behind");
    cJSON_Delete(s);
    cJSON *rep = read_report();
    const cJSON *drain = report_phase(rep, "drain");
    ck_assert_ptr_nonnull(drain);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(drain, "failure")), "interrupted");
    cJSON_Delete(rep);
    /* nothing is left to recover: the same release is simply live */
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "nothing to deploy") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "did not finish") == NULL, "%s", r.err);
    bgt_result_dispose(&r);
}
END_TEST

/* SIGKILL after the flip, then `rollback` (not a deploy): it recovers first, and since
 * the new release was never verified, undoing it is the rollback. */
static void kill_in_phase_then_rollback(const char *phase, const char *latency_ms)
{
    pid_t pid = deploy_until_phase(phase, "200", latency_ms);
    if (strcmp(phase, "flip") == 0) /* land the kill while the new file is in place */
        wait_for_the_new_upstream_file();
    kill(pid, SIGKILL);
    bgt_wait(pid, 10);
    bgt_result r;
    const char *rb[] = {"rollback", NULL};
    bgt_run_gate(&r, repo_dir, NULL, rb, 60);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "did not finish") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "restoring the router") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "restore checked: blue answers") != NULL, "%s", r.err);
    ck_assert_msg(strstr(r.err, "is undone") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    expect_live(blue_port, "initial-model");
    cJSON *s = status_json();
    ck_assert_str_eq(live_of(s), "blue");
    ck_assert_str_eq(cJSON_GetStringValue(state_member(s, "live")), "blue");
    ck_assert_msg(cJSON_IsNull(state_member(s, "deploy")), "a phase was left behind");
    ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(s, "drift")), 0);
    ck_assert_str_eq(pool_status(s, "green"), "failed");
    cJSON_Delete(s);
    /* and the next deploy starts clean: nothing to recover, green gets the release */
    deploy(NULL, &r);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "did not finish") == NULL, "%s", r.err);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
}

START_TEST(rollback_after_sigkill_during_verify_recovers_the_old_pool)
{
    NEED_NGINX();
    commit_release("good-model");
    kill_in_phase_then_rollback("verify", "700");
}
END_TEST

START_TEST(rollback_after_sigkill_during_flip_recovers_the_old_pool)
{
    NEED_NGINX();
    /* a slow `nginx -t`: killed while the new upstream file is in place, untested */
    char conf[700], argv[1600];
    snprintf(conf, sizeof conf, "%s/nginx.conf", tmp);
    snprintf(argv, sizeof argv,
             "[\"/bin/sh\", \"-c\", \"sleep 2; exec %s -t -q -c %s -p %s/\"]", NGINX, conf, tmp);
    write_config("good-model", argv, NULL);
    ck_assert_int_eq(bgt_repo_commit(&repo, "slow router test", NULL), 0);
    kill_in_phase_then_rollback("flip", "0");
}
END_TEST

/* A restore whose reload does not take effect (nginx keeps its old config, as when
 * `nginx -s reload` exits 0 but the master could not apply it): the check through the
 * router must say so loudly, in stderr, the report and the state. */
START_TEST(a_restore_that_does_not_take_effect_is_reported)
{
    NEED_NGINX();
    /* reload_argv reloads nginx the first time only (the flip), then does nothing */
    char conf[700], argv[1600];
    snprintf(conf, sizeof conf, "%s/nginx.conf", tmp);
    snprintf(argv, sizeof argv,
             "[\"/bin/sh\", \"-c\", \"if [ -e %s/reloaded ]; then exit 0; fi; touch "
             "%s/reloaded; exec %s -s reload -c %s -p %s/\"]",
             tmp, tmp, NGINX, conf, tmp);
    reload_override = argv;
    write_config("good-model", NULL, NULL);
    reload_override = NULL;
    ck_assert_int_eq(bgt_repo_commit(&repo, "a reload that works once", NULL), 0);
    /* green answers in 1.5 s: verify (3 answers) lasts ~4.5 s, time enough to see the
     * flip's reload take effect before the signal — else nginx would still be on blue and
     * the restore would rightly check out */
    pid_t pid = deploy_until_phase("verify", "200", "1500");
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", green_port);
    bool on_green = false;
    for (int i = 0; i < 20 && !on_green; i++) {
        bgt_answer a;
        ask_router(&a);
        on_green = strcmp(a.upstream, want) == 0;
    }
    ck_assert_msg(on_green, "the flip never reached nginx");
    kill(pid, SIGTERM);
    ck_assert_int_eq(bgt_wait(pid, 40), 3);
    char *err = spawned_stderr();
    ck_assert_msg(strstr(err, "router restored to blue 100%") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "error: the router was put back to blue 100 % but the check "
                              "through") != NULL,
                  "%s", err);
    free(err);
    /* nginx still serves green: exactly what the check reported */
    expect_live(green_port, "good-model");
    cJSON *rep = read_report();
    const cJSON *check = report_phase(rep, "restore-check");
    ck_assert_msg(check != NULL, "the restore was not checked");
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(check, "failure"));
    ck_assert_msg(why && strstr(why, "put back to blue"), "%s", why ? why : "(none)");
    cJSON_Delete(rep);
    cJSON *s = status_json();
    ck_assert_ptr_nonnull(strstr(cJSON_GetStringValue(state_member(s, "last_message")),
                                 "the check through"));
    cJSON_Delete(s);
}
END_TEST

START_TEST(the_api_key_reaches_health_warmup_and_gate_requests)
{
    NEED_NGINX();
    gate_extra = ", \"api_key_env\": \"BG_E2E_KEY\"";
    write_config("good-model", NULL, NULL);
    gate_extra = "";
    ck_assert_int_eq(bgt_repo_commit(&repo, "with a key", NULL), 0);
    const char *env[] = {"BG_E2E_KEY=sk-e2e-123", NULL};
    const char *args[] = {"deploy", "-v", NULL};
    bgt_result r;
    bgt_run_gate(&r, repo_dir, env, args, 120);
    expect_exit(&r, 0);
    ck_assert_ptr_null(strstr(r.err, "sk-e2e-123")); /* never printed */
    bgt_result_dispose(&r);
    /* every request the new pool saw (health's /v1/models, warm-up, gate) had the key */
    char *path = tmp_path("pools/green/requests.jsonl");
    char *log = bgt_read_file(path);
    ck_assert_ptr_nonnull(log);
    int lines = 0, with_key = 0;
    for (char *l = log; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        if (strstr(l, "\"/v1/")) {
            lines++;
            with_key += strstr(l, "Bearer sk-e2e-123") != NULL;
        }
        l = nl ? nl + 1 : NULL;
    }
    ck_assert_int_gt(lines, 4);
    ck_assert_int_eq(with_key, lines);
    free(log);
    free(path);
}
END_TEST

START_TEST(two_concurrent_deploys_one_proceeds_the_other_exits_4)
{
    NEED_NGINX();
    commit_release("good-model");
    pid_t first = deploy_until_phase("gate", "200", "1500");
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 4);
    ck_assert_msg(strstr(r.err, "another deploy holds the lock") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    ck_assert_int_eq(bgt_wait(first, 60), 0);
    expect_live(green_port, "good-model");
}
END_TEST

START_TEST(a_failed_deploy_restores_the_warm_pool_so_rollback_still_works)
{
    NEED_NGINX();
    commit_release("good-model");
    bgt_result r;
    deploy(NULL, &r); /* green: good-model */
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    commit_release("good-model-2");
    deploy(NULL, &r); /* blue: good-model-2, green warm */
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    commit_release("bad-model");
    deploy(NULL, &r); /* to green, fails the gate, green gets good-model back */
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "restoring green") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    expect_live(blue_port, "good-model-2");
    run_ok("rollback");
    expect_live(green_port, "good-model");
}
END_TEST

START_TEST(validate_checks_the_deploy_sections_without_touching_anything)
{
    NEED_NGINX();
    commit_release("good-model");
    bgt_result r;
    const char *ok[] = {"validate", NULL};
    bgt_run_gate(&r, repo_dir, NULL, ok, 30);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    char path[700];
    snprintf(path, sizeof path, "%s/bg-gate.json", repo_dir);
    char *text = bgt_read_file(path);
    char *p = strstr(text, "\"drain_timeout_s\"");
    ck_assert_ptr_nonnull(p);
    memcpy(p, "\"drain_timeuot_s\"", 17); /* same length: a typo */
    write_file(path, text);
    free(text);
    bgt_run_gate(&r, repo_dir, NULL, ok, 30);
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "promotion.drain_timeuot_s") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
}
END_TEST

static bool have_lua(void)
{
    return access("/usr/lib/nginx/modules/ngx_http_lua_module.so", R_OK) == 0 &&
           access("/usr/lib/nginx/modules/ndk_http_module.so", R_OK) == 0;
}

static void setup_hitless(void)
{
    hitless = true;
    setup();
}

START_TEST(hitless_mode_deploys_rolls_back_and_survives_a_failed_gate)
{
    NEED_NGINX();
    if (!have_lua()) {
        fprintf(stderr, "SKIPPED %s: libnginx-mod-http-lua is not installed\n", __func__);
        return;
    }
    pid_t master = bgt_nginx_pid(tmp);
    commit_release("good-model");
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
    commit_release("bad-model");
    deploy(NULL, &r);
    expect_exit(&r, 1);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
    commit_release("good-model-2");
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    expect_live(blue_port, "good-model-2");
    run_ok("rollback");
    expect_live(green_port, "good-model");
    char *w = tmp_path("weights.json");
    char *text = bgt_read_file(w);
    ck_assert_ptr_nonnull(strstr(text, "\"green\": 100") ? text : strstr(text, "\"green\":100"));
    free(text);
    free(w);
    ck_assert_int_eq(bgt_nginx_pid(tmp), master); /* the same nginx throughout */
}
END_TEST

/* ---- load while the whole cycle runs ---- */

/* A load child through nginx (loadfix.h): every answer must be a 200 from a pool. */
#define LOAD_BODY                                                                          \
    "{\"model\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"What is the capital "    \
    "of France?\"}]}"

static void start_loader(bgt_loader *l, const char *stop, bool keep_alive)
{
    char url[128], counts[700];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", nginx_port);
    snprintf(counts, sizeof counts, "%s/load-%s", tmp, keep_alive ? "keepalive" : "new");
    ck_assert_int_eq(
        bgt_loader_start(l, url, LOAD_BODY, "\"model\"", keep_alive, stop, counts, 120, 0), 0);
}

/* wrk's keep-alive connections through the whole cycle: libcurl (the loaders) resends a
 * request a closing connection lost, wrk counts it. */
static void start_wrk(bgt_wrk *w)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", nginx_port);
    ck_assert_msg(bgt_wrk_start(w, tmp, url, LOAD_BODY, 8, 300) == 0,
                  BGT_WRK_BIN " (Debian package wrk) did not start");
}

/* Stops wrk; asserts no failed request unless only_record. */
static void stop_wrk(bgt_wrk *w, bool only_record)
{
    ck_assert_msg(bgt_wrk_finish(w, false) == 0, "wrk failed (its output is above)");
    long failed = w->non_2xx + w->socket_errors;
    fprintf(stderr, "%s mode, whole cycle, wrk keep-alive: %ld responses, %ld non-2xx, %ld "
                    "socket errors over 20 flips\n",
            hitless ? "hitless" : "reload", w->requests, w->non_2xx, w->socket_errors);
    ck_assert_msg(w->requests > 100, "wrk got only %ld responses", w->requests);
    if (!only_record)
        ck_assert_msg(failed == 0, "wrk: %ld requests failed", failed);
}

/* Collects a loader's counts; asserts no failure unless only_record. */
static void stop_loader(bgt_loader *l, const char *what, bool only_record)
{
    long done = 0, failed = 0;
    char first[256];
    ck_assert_int_eq(bgt_loader_finish(l, &done, &failed, first, sizeof first), 0);
    fprintf(stderr, "%s mode, whole cycle, %s: %ld requests, %ld failed over 20 flips%s%s\n",
            hitless ? "hitless" : "reload", what, done, failed, failed ? "; first: " : "",
            failed ? first : "");
    ck_assert_int_ge(done, 50);
    if (!only_record)
        ck_assert_int_eq(failed, 0);
}

/* Load through nginx (new connections and keep-alive) during 20 flips made by the real
 * CLI: two deploys with their gates, then 18 rollbacks. */
static void whole_cycle_under_load(bool keep_alive_may_fail)
{
    char stop[700];
    snprintf(stop, sizeof stop, "%s/stop-load", tmp);
    bgt_loader fresh, kept;
    bgt_wrk wrk;
    start_loader(&fresh, stop, false);
    start_loader(&kept, stop, true);
    start_wrk(&wrk);
    /* 20 flips through the real CLI: two deploys (each with its gate), then rollbacks */
    commit_release("good-model");
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    commit_release("good-model-2");
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    for (int i = 0; i < 18; i++)
        run_ok("rollback");
    write_file(stop, "stop\n");
    stop_loader(&fresh, "new connection per request", false);
    stop_loader(&kept, "keep-alive", keep_alive_may_fail);
    stop_wrk(&wrk, keep_alive_may_fail);
    expect_live(blue_port, "good-model-2"); /* an even number of rollbacks */
}

START_TEST(hitless_whole_cycle_under_load_drops_nothing)
{
    NEED_NGINX();
    if (!have_lua()) {
        fprintf(stderr, "SKIPPED %s: libnginx-mod-http-lua is not installed\n", __func__);
        return;
    }
    whole_cycle_under_load(false);
}
END_TEST

/* reload mode: no loss with new connections; the keep-alive loss is recorded (printed),
 * it is the documented cost of reloading nginx */
START_TEST(reload_whole_cycle_under_load_drops_nothing_on_new_connections)
{
    NEED_NGINX();
    whole_cycle_under_load(true);
}
END_TEST

/* ---- hooks and notifications ---- */

/* Adds members (JSON text) to the working tree's bg-gate.json: hooks and notify are read
 * from the config the CLI loads, like every deploy setting. */
static void config_add(const char *members)
{
    char path[700];
    snprintf(path, sizeof path, "%s/bg-gate.json", repo_dir);
    char *text = bgt_read_file(path);
    ck_assert_ptr_nonnull(text);
    char *end = strrchr(text, '}');
    ck_assert_ptr_nonnull(end);
    *end = '\0';
    char *out = NULL;
    ck_assert_int_ge(asprintf(&out, "%s, %s}\n", text, members), 0);
    write_file(path, out);
    free(out);
    free(text);
}

/* A hook entry: the test's hook script appends its BG_* environment to tmp/<name>.env,
 * prints a line and exits with `code`. */
static char *hook_json(const char *name, int code)
{
    char *sh = tmp_path("hook.sh");
    if (access(sh, F_OK) != 0)
        write_file(sh, "dir=$1 name=$2 code=$3\n"
                       "{ printf '\\n---\\n'; env | grep '^BG_' | sort; } >> \"$dir/$name.env\"\n"
                       "echo \"$name: exiting $code\"\n"
                       "exit \"$code\"\n");
    char *j = NULL;
    ck_assert_int_ge(asprintf(&j, "\"%s\": {\"argv\": [\"/bin/sh\", \"%s\", \"%s\", \"%s\", "
                                  "\"%d\"], \"timeout_s\": 20}",
                              name, sh, tmp, name, code),
                     0);
    free(sh);
    return j;
}

static void add_hooks(const char *name1, int code1, const char *name2, int code2)
{
    char *a = hook_json(name1, code1);
    char *b = name2 ? hook_json(name2, code2) : NULL;
    char *members = NULL;
    ck_assert_int_ge(asprintf(&members, "\"hooks\": {%s%s%s}", a, b ? ", " : "", b ? b : ""), 0);
    config_add(members);
    free(members);
    free(a);
    free(b);
}

/* The environment records a hook left: how many runs, and the last run's value of NAME
 * (NULL when the variable was absent or the hook never ran). */
static int hook_runs(const char *name)
{
    char rel[64];
    snprintf(rel, sizeof rel, "%s.env", name);
    char *path = tmp_path(rel);
    char *text = bgt_read_file(path);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, "\n---\n")); p += 5)
        n++;
    free(text);
    free(path);
    return n;
}

static char *hook_var(const char *name, const char *var)
{
    char rel[64], needle[64];
    snprintf(rel, sizeof rel, "%s.env", name);
    snprintf(needle, sizeof needle, "\n%s=", var);
    char *path = tmp_path(rel);
    char *text = bgt_read_file(path);
    free(path);
    if (!text)
        return NULL;
    char *last = NULL;
    for (char *p = strstr(text, "\n---\n"); p; p = strstr(p + 5, "\n---\n"))
        last = p;
    char *v = last ? strstr(last, needle) : NULL;
    char *out = v ? strndup(v + strlen(needle), strcspn(v + strlen(needle), "\n")) : NULL;
    free(text);
    return out;
}

static void expect_hook_var(const char *name, const char *var, const char *want)
{
    char *v = hook_var(name, var);
    ck_assert_msg(v != NULL, "%s did not get %s", name, var);
    ck_assert_msg(strcmp(v, want) == 0, "%s: %s=%s, wanted %s", name, var, v, want);
    free(v);
}

static char *report_decision(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/report.json", reports);
    char *json = bgt_read_file(path);
    cJSON *rep = cJSON_Parse(json);
    char *d = bg_strdup(cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "deploy"), "decision")));
    cJSON_Delete(rep);
    free(json);
    return d;
}

START_TEST(a_failing_pre_promote_hook_blocks_the_flip_and_exits_1)
{
    NEED_NGINX();
    commit_release("good-model");
    add_hooks("pre_promote", 1, "post_deploy", 0);
    char *before = bgt_read_file(upstreams);
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 1);
    ck_assert_msg(strstr(r.err, "blocked by the pre_promote hook: pre_promote: sh exited 1: "
                                "pre_promote: exiting 1") != NULL,
                  "%s", r.err);
    ck_assert_msg(strstr(r.err, "[pre_promote] pre_promote: exiting 1") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    /* the router was never touched: same upstream file, traffic still on blue */
    char *after = bgt_read_file(upstreams);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    expect_live(blue_port, "initial-model");
    char *d = report_decision();
    ck_assert_str_eq(d, "blocked-by-hook");
    free(d);
    cJSON *s = status_json();
    const cJSON *st = cJSON_GetObjectItem(s, "state");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(st, "last_outcome")),
                     "blocked-by-hook");
    cJSON_Delete(s);
    /* the hook ran after a passed gate, before the flip, and was told so */
    ck_assert_int_eq(hook_runs("pre_promote"), 1);
    expect_hook_var("pre_promote", "BG_POOL", "green");
    expect_hook_var("pre_promote", "BG_LIVE_POOL", "blue");
    expect_hook_var("pre_promote", "BG_SERVED_MODEL", "good-model");
    expect_hook_var("pre_promote", "BG_MODEL", "acme/good-model");
    expect_hook_var("pre_promote", "BG_PASS_RATE", "1.0000");
    expect_hook_var("pre_promote", "BG_DECISION", "");
    expect_hook_var("post_deploy", "BG_DECISION", "blocked-by-hook");
    /* the same release once the hook agrees: promoted */
    commit_release("good-model");
    add_hooks("pre_promote", 0, NULL, 0);
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
    ck_assert_int_eq(hook_runs("pre_promote"), 2);
}
END_TEST

START_TEST(post_promote_is_told_whether_the_model_or_only_templates_changed)
{
    NEED_NGINX();
    commit_release("good-model");
    add_hooks("post_promote", 0, "post_deploy", 0);
    bgt_result r;
    deploy(NULL, &r); /* first release: everything is new */
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    ck_assert_int_eq(hook_runs("post_promote"), 1);
    expect_hook_var("post_promote", "BG_MODEL_CHANGED", "1");
    expect_hook_var("post_promote", "BG_DECISION", "promoted");
    expect_hook_var("post_promote", "BG_LIVE_POOL", "green");
    expect_hook_var("post_deploy", "BG_DECISION", "promoted");
    char *first = hook_var("post_promote", "BG_RELEASE_ID");
    ck_assert_ptr_nonnull(first);
    /* only a template changes (the working tree's config, hooks included, is committed) */
    ck_assert_int_eq(bgt_repo_write(&repo, "prompts/system.txt", "You are terse.\n"), 0);
    ck_assert_int_eq(bgt_repo_commit(&repo, "template only", NULL), 0);
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    ck_assert_int_eq(hook_runs("post_promote"), 2);
    expect_hook_var("post_promote", "BG_MODEL_CHANGED", "0");
    expect_hook_var("post_promote", "BG_TEMPLATES_CHANGED", "1");
    expect_hook_var("post_promote", "BG_PREVIOUS_RELEASE_ID", first);
    expect_hook_var("post_promote", "BG_POOL", "blue");
    free(first);
    /* now the model changes and the templates do not */
    commit_release("good-model-2");
    add_hooks("post_promote", 0, "post_deploy", 0);
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    ck_assert_int_eq(hook_runs("post_promote"), 3);
    expect_hook_var("post_promote", "BG_MODEL_CHANGED", "1");
    expect_hook_var("post_promote", "BG_TEMPLATES_CHANGED", "0");
    expect_hook_var("post_promote", "BG_SERVED_MODEL", "good-model-2");
    /* a failing post hook is a warning: the deploy still promoted */
    commit_release("good-model-3");
    add_hooks("post_promote", 7, NULL, 0);
    deploy(NULL, &r);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "hook post_promote failed (the outcome stands)") != NULL, "%s",
                  r.err);
    bgt_result_dispose(&r);
    expect_live(blue_port, "good-model-3");
}
END_TEST

/* A webhook receiver in the test process: the last body it got. */
typedef struct hook_sink {
    struct MHD_Daemon *d;
    int port, requests;
    char body[16384];
    size_t len;
} hook_sink;

static hook_sink sink_srv;

static enum MHD_Result on_webhook(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version;
    if (!*con_cls) {
        *con_cls = &sink_srv;
        sink_srv.len = 0;
        return MHD_YES;
    }
    if (*size) {
        size_t room = sizeof sink_srv.body - 1 - sink_srv.len;
        size_t n = *size < room ? *size : room;
        memcpy(sink_srv.body + sink_srv.len, data, n);
        sink_srv.len += n;
        sink_srv.body[sink_srv.len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    sink_srv.requests++;
    struct MHD_Response *r = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

START_TEST(on_rollback_runs_after_bg_gate_rollback_and_the_webhook_is_told)
{
    NEED_NGINX();
    memset(&sink_srv, 0, sizeof sink_srv);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sink_srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                  0, NULL, NULL, on_webhook, NULL, MHD_OPTION_SOCK_ADDR,
                                  (struct sockaddr *)&addr, MHD_OPTION_END);
    ck_assert_ptr_nonnull(sink_srv.d);
    sink_srv.port = MHD_get_daemon_info(sink_srv.d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char notify[256];
    snprintf(notify, sizeof notify,
             "\"notify\": {\"webhook_url\": \"http://127.0.0.1:%d/services/sEcReT\", "
             "\"on\": [\"rolled-back\"], \"timeout_s\": 5}",
             sink_srv.port);
    commit_release("good-model");
    add_hooks("on_rollback", 0, NULL, 0);
    config_add(notify);
    bgt_result r;
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    commit_release("good-model-2");
    add_hooks("on_rollback", 0, NULL, 0);
    config_add(notify);
    deploy(NULL, &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    ck_assert_int_eq(hook_runs("on_rollback"), 0); /* promotions are not rollbacks */
    ck_assert_int_eq(sink_srv.requests, 0);        /* nor chosen for the webhook */
    const char *args[] = {"rollback", "-v", NULL};
    bgt_run_gate(&r, repo_dir, NULL, args, 60);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "sEcReT") == NULL, "the webhook URL was printed: %s", r.err);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
    ck_assert_int_eq(hook_runs("on_rollback"), 1);
    expect_hook_var("on_rollback", "BG_ACTION", "rollback");
    expect_hook_var("on_rollback", "BG_DECISION", "rolled-back");
    expect_hook_var("on_rollback", "BG_POOL", "green");
    expect_hook_var("on_rollback", "BG_LIVE_POOL", "green");
    expect_hook_var("on_rollback", "BG_SERVED_MODEL", "good-model");
    expect_hook_var("on_rollback", "BG_MODEL_CHANGED", "1");
    MHD_stop_daemon(sink_srv.d);
    ck_assert_int_eq(sink_srv.requests, 1);
    cJSON *j = cJSON_Parse(sink_srv.body);
    ck_assert_msg(j != NULL, "not JSON: %s", sink_srv.body);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "decision")), "rolled-back");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "action")), "rollback");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "environment")), "e2e");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "pool")), "green");
    ck_assert_ptr_nonnull(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(j, "text")),
                                 "bg-gate e2e: rollback rolled-back"));
    cJSON_Delete(j);
}
END_TEST

Suite *make_suite(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Suite *s = suite_create("e2e_deploy");
    TCase *tc = tcase_create("deploy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, first_deploy_promotes_and_traffic_follows);
    tcase_add_test(tc, bad_release_is_stopped_by_the_gate_and_live_is_untouched);
    tcase_add_test(tc, rollback_flips_back_to_the_warm_pool);
    tcase_add_test(tc, a_failed_deploy_restores_the_warm_pool_so_rollback_still_works);
    tcase_add_test(tc, a_held_lock_exits_4_naming_the_holder);
    tcase_add_test(tc, failed_verification_flips_back_and_exits_5);
    tcase_add_test(tc, a_pool_that_never_gets_ready_exits_3_live_untouched);
    tcase_add_test(tc, drift_between_router_and_state_stops_the_deploy);
    tcase_add_test(tc, a_broken_router_test_changes_nothing);
    tcase_add_test(tc, a_broken_nginx_config_changes_nothing_and_quotes_nginx);
    tcase_add_test(tc, validate_checks_the_deploy_sections_without_touching_anything);
    tcase_add_test(tc, sigterm_mid_gate_leaves_live_untouched_and_status_explains);
    tcase_add_test(tc, sigkill_during_health_is_explained_and_recovered);
    tcase_add_test(tc, sigkill_during_gate_is_explained_and_recovered);
    tcase_add_test(tc, sigkill_during_verify_restores_the_router_and_recovers);
    tcase_add_test(tc, sigkill_during_deploy_is_explained_and_recovered);
    tcase_add_test(tc, sigkill_during_warmup_is_explained_and_recovered);
    tcase_add_test(tc, sigkill_during_flip_restores_the_router_and_recovers);
    tcase_add_test(tc, sigkill_during_drain_keeps_the_verified_pool_live);
    tcase_add_test(tc, the_api_key_reaches_health_warmup_and_gate_requests);
    tcase_add_test(tc, reload_whole_cycle_under_load_drops_nothing_on_new_connections);
    tcase_add_test(tc, two_concurrent_deploys_one_proceeds_the_other_exits_4);
    suite_add_tcase(s, tc);
    tc = tcase_create("safety"); /* signals after the flip, recovery, checked restores */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, sigterm_during_verify_restores_the_router_and_exits_3);
    tcase_add_test(tc, sigterm_during_drain_keeps_the_verified_pool_live_and_exits_3);
    tcase_add_test(tc, rollback_after_sigkill_during_verify_recovers_the_old_pool);
    tcase_add_test(tc, rollback_after_sigkill_during_flip_recovers_the_old_pool);
    tcase_add_test(tc, a_restore_that_does_not_take_effect_is_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("hooks");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, a_failing_pre_promote_hook_blocks_the_flip_and_exits_1);
    tcase_add_test(tc, post_promote_is_told_whether_the_model_or_only_templates_changed);
    tcase_add_test(tc, on_rollback_runs_after_bg_gate_rollback_and_the_webhook_is_told);
    suite_add_tcase(s, tc);
    tc = tcase_create("hitless");
    tcase_add_checked_fixture(tc, setup_hitless, teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, hitless_mode_deploys_rolls_back_and_survives_a_failed_gate);
    tcase_add_test(tc, hitless_whole_cycle_under_load_drops_nothing);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
