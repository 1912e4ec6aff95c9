/* deployfix.c — the blue-green environment of the lifecycle e2e tests (deployfix.h).
 * Modelled on tests/e2e/test_deploy.c's fixture (reload mode only), shared so that new
 * lifecycle tests do not grow that file.
 */
#include "deployfix.h"

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bggate/util.h"
#include "nginxfix.h"
#include "sweep.h"

bgt_dfx bgt_env;

void bgt_dfx_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

char *bgt_dfx_path(const char *rel)
{
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/%s", bgt_env.tmp, rel), 0);
    return p;
}

static void write_upstreams(int blue, int green)
{
    char text[512];
    snprintf(text, sizeof text,
             "# bg-gate: blue=%d green=%d (managed by bg-gate; do not edit)\n"
             "upstream bg_gate_llm {\n"
             "    server 127.0.0.1:%d %s; # blue\n"
             "    server 127.0.0.1:%d %s; # green\n"
             "    keepalive 32;\n"
             "}\n",
             blue, green, bgt_env.blue_port, blue ? "weight=100" : "down", bgt_env.green_port,
             green ? "weight=100" : "down");
    bgt_dfx_write_file(bgt_env.upstreams, text);
}

static void nginx_cmd(char *out, size_t outsz, const char *extra)
{
    snprintf(out, outsz, "[\"%s\", %s\"-c\", \"%s/nginx.conf\", \"-p\", \"%s\"]", BGT_NGINX_BIN,
             extra, bgt_env.tmp, bgt_env.tmp);
}

/* One pool's section: pool.sh deploys and stops it. */
static char *pool_json(const char *name, int port, const char *pool_sh)
{
    char *s = NULL;
    ck_assert_int_ge(
        asprintf(&s,
                 "  \"%s\": {\"endpoints\": [\"http://127.0.0.1:%d/v1\"],\n"
                 "   \"deploy\": {\"driver\": \"command\", \"argv\": [\"%s\", \"deploy\", "
                 "\"%s/pools/%s\", \"%d\"], \"timeout_s\": 30},\n"
                 "   \"stop\": {\"argv\": [\"%s\", \"stop\", \"%s/pools/%s\", \"%d\"]}}",
                 name, port, pool_sh, bgt_env.tmp, name, port, pool_sh, bgt_env.tmp, name, port),
        0);
    return s;
}

/* The config committed in the repository; served names select the pool's answers. */
static void write_config(const char *served)
{
    char test_argv[700], reload_argv[700], path[700];
    nginx_cmd(test_argv, sizeof test_argv, "\"-t\", \"-q\", ");
    nginx_cmd(reload_argv, sizeof reload_argv, "\"-s\", \"reload\", ");
    char *pool_sh = bgt_src("tests/fixtures/deploy/pool.sh");
    char *blue = pool_json("blue", bgt_env.blue_port, pool_sh);
    char *green = pool_json("green", bgt_env.green_port, pool_sh);
    char verify[200];
    snprintf(verify, sizeof verify,
             ",\n   \"endpoint\": \"http://127.0.0.1:%d/v1\", \"upstream_header\": "
             "\"X-BG-Upstream\"",
             bgt_env.nginx_port);
    char *cfg = NULL;
    ck_assert_int_ge(
        asprintf(
            &cfg,
            "{\"environment\": \"e2e\",\n"
            " \"release\": {\"model\": {\"name\": \"acme/%s\", \"served_name\": \"%s\"},\n"
            "   \"templates\": {\"sys\": \"prompts/system.txt\"},\n"
            "   \"suites\": [\"evals/capitals.jsonl\"]},\n"
            " \"pools\": {\n%s,\n%s},\n"
            " \"health\": {\"timeout_s\": 5, \"interval_ms\": 50, \"max_interval_ms\": 200%s},\n"
            " \"router\": {\"driver\": \"nginx\", \"upstream_file\": \"%s\",\n"
            "   \"test_argv\": %s, \"reload_argv\": %s%s},\n"
            " \"gate\": {\"concurrency\": 4},\n"
            " \"promotion\": {%s},\n"
            " \"state\": {\"dir\": \"%s\"}}\n",
            served, served, blue, green, bgt_env.health_extra ? bgt_env.health_extra : "",
            bgt_env.upstreams, test_argv, reload_argv,
            bgt_env.router_verify ? bgt_env.router_verify : verify,
            bgt_env.promotion ? bgt_env.promotion : BGT_DFX_PROMOTION, bgt_env.state_dir),
        0);
    snprintf(path, sizeof path, "%s/bg-gate.json", bgt_env.repo_dir);
    bgt_dfx_write_file(path, cfg);
    free(cfg);
    free(blue);
    free(green);
    free(pool_sh);
}

void bgt_dfx_commit(const char *served, char *out)
{
    write_config(served);
    ck_assert_int_eq(bgt_repo_commit(&bgt_env.repo, served, out), 0);
}

static void start_nginx(void)
{
    char *http = NULL;
    ck_assert_int_ge(
        asprintf(&http,
                 "  include %s;\n"
                 "  server {\n    listen 127.0.0.1:%d;\n"
                 "    location / {\n      proxy_pass http://bg_gate_llm;\n"
                 "      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n"
                 "      proxy_buffering off;\n"
                 "      add_header X-BG-Upstream $upstream_addr always;\n    }\n  }\n",
                 bgt_env.upstreams, bgt_env.nginx_port),
        0);
    char *conf = bgt_nginx_conf(bgt_env.tmp, "", 1, 256, "off", http);
    char *path = bgt_dfx_path("nginx.conf");
    bgt_dfx_write_file(path, conf);
    ck_assert_int_eq(bgt_nginx_start(bgt_env.tmp, path, 10), 0);
    free(http);
    free(conf);
    free(path);
}

static void wait_healthy(int port)
{
    ck_assert_msg(bgt_wait_healthy(port), "127.0.0.1:%d never answered /health with 200", port);
}

/* blue with the test's own answers table, started directly (pool.sh knows no
 * --token-ms); its pid file is where pool.sh looks, so a deploy to blue replaces it */
static void start_initial_blue_table(void)
{
    char *dir = bgt_dfx_path("pools/blue");
    char *table = bgt_dfx_path("initial-table.json");
    char port[16], token_ms[16];
    snprintf(port, sizeof port, "%d", bgt_env.blue_port);
    snprintf(token_ms, sizeof token_ms, "%d", bgt_env.initial_token_ms);
    ck_assert_int_eq(bg_mkdir_p(dir, NULL), 0);
    bgt_dfx_write_file(table, bgt_env.initial_table);
    const char *args[] = {"--port",     port,     "--model", "initial-model", "--answers", table,
                          "--token-ms", token_ms, NULL};
    bgt_mock m;
    ck_assert_int_eq(bgt_mock_start(&m, dir, "mock", args), 0);
    ck_assert_int_eq(m.port, bgt_env.blue_port);
    wait_healthy(bgt_env.blue_port);
    free(dir);
    free(table);
}

/* blue starts with a model no release knows, like a pool set up by hand */
static void start_initial_blue(void)
{
    if (bgt_env.initial_table) {
        start_initial_blue_table();
        return;
    }
    char *dir = bgt_dfx_path("initial");
    char *rel = bgt_dfx_path("initial/release.json");
    char pools[700], port[16], env_dir[700];
    snprintf(pools, sizeof pools, "%s/pools/blue", bgt_env.tmp);
    snprintf(port, sizeof port, "%d", bgt_env.blue_port);
    snprintf(env_dir, sizeof env_dir, "BG_RELEASE_DIR=%s", dir);
    ck_assert_int_eq(bg_mkdir_p(dir, NULL), 0);
    bgt_dfx_write_file(rel, "{}\n");
    char *sh = bgt_src("tests/fixtures/deploy/pool.sh");
    const char *env[] = {"BG_SERVED_MODEL=initial-model", env_dir, NULL};
    const char *argv[] = {"/bin/sh", sh, "deploy", pools, port, NULL};
    ck_assert_int_eq(bgt_run_cmd_env(argv, env, 20), 0);
    wait_healthy(bgt_env.blue_port);
    free(sh);
    free(dir);
    free(rel);
}

static void stop_pid_file(const char *rel)
{
    char *path = bgt_dfx_path(rel);
    char *s = bgt_read_file(path);
    pid_t pid = s ? (pid_t)strtol(s, NULL, 10) : 0;
    if (pid > 1)
        kill(pid, SIGTERM);
    free(s);
    free(path);
}

/* Stops what a test started, by the pids in its pid files. Also registered with atexit:
 * a failed assertion ends the test process without running the teardown. */
static void stop_servers(void)
{
    if (!bgt_env.have_nginx || !bgt_env.tmp)
        return;
    bgt_nginx_stop(bgt_env.tmp);
    stop_pid_file("pools/blue/mock.pid");
    stop_pid_file("pools/green/mock.pid");
    usleep(100 * 1000);
}

static int distinct_port(int a, int b)
{
    int p = bgt_free_port();
    while (p == a || p == b)
        p = bgt_free_port();
    return p;
}

void bgt_dfx_setup(void)
{
    bgt_env.have_nginx = access(BGT_NGINX_BIN, X_OK) == 0;
    bgt_env.tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(bgt_env.tmp);
    bgt_registry_add(bgt_env.tmp);
    snprintf(bgt_env.repo_dir, sizeof bgt_env.repo_dir, "%s/repo", bgt_env.tmp);
    snprintf(bgt_env.state_dir, sizeof bgt_env.state_dir, "%s/state", bgt_env.tmp);
    snprintf(bgt_env.reports, sizeof bgt_env.reports, "%s/reports", bgt_env.tmp);
    snprintf(bgt_env.upstreams, sizeof bgt_env.upstreams, "%s/upstreams.conf", bgt_env.tmp);
    bgt_env.blue_port = bgt_free_port();
    bgt_env.green_port = distinct_port(bgt_env.blue_port, 0);
    bgt_env.nginx_port = distinct_port(bgt_env.blue_port, bgt_env.green_port);
    ck_assert_int_eq(bgt_repo_init(&bgt_env.repo, bgt_env.repo_dir), 0);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *text = bgt_read_file(suite);
    ck_assert_int_eq(bgt_repo_write(&bgt_env.repo, "evals/capitals.jsonl", text), 0);
    free(text);
    free(suite);
    ck_assert_int_eq(bgt_repo_write(&bgt_env.repo, "prompts/system.txt", "You are helpful.\n"), 0);
    if (!bgt_env.have_nginx)
        return;
    atexit(stop_servers);
    write_upstreams(100, 0);
    start_initial_blue();
    start_nginx();
}

void bgt_dfx_teardown(void)
{
    stop_servers();
    bgt_repo_close(&bgt_env.repo);
    bgt_rmtree(bgt_env.tmp);
    free(bgt_env.tmp);
    bgt_env.tmp = NULL;
}

bool bgt_dfx_can_run(const char *test)
{
    if (bgt_env.have_nginx)
        return true;
    fprintf(stderr, "SKIPPED %s: %s is not installed\n", test, BGT_NGINX_BIN);
    return false;
}

void bgt_dfx_expect_exit(const bgt_result *r, int code)
{
    if (r->exit_code != code) {
        char *log = bgt_dfx_path("error.log");
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

void bgt_dfx_run(bgt_result *r, const char *const *args)
{
    bgt_run_gate(r, bgt_env.repo_dir, NULL, args, 120);
}

cJSON *bgt_dfx_status(void)
{
    bgt_result r;
    const char *args[] = {"status", "--json", NULL};
    bgt_run_gate(&r, bgt_env.repo_dir, NULL, args, 30);
    bgt_dfx_expect_exit(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "status is not JSON: %s", r.out);
    bgt_result_dispose(&r);
    return j;
}

const cJSON *bgt_dfx_get(const cJSON *status, ...)
{
    va_list ap;
    va_start(ap, status);
    const cJSON *o = status;
    for (const char *k = va_arg(ap, const char *); k && o; k = va_arg(ap, const char *))
        o = cJSON_GetObjectItemCaseSensitive(o, k);
    va_end(ap);
    return o;
}

void bgt_dfx_expect_live(int port, const char *model)
{
    char want[64], url[128];
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", bgt_env.nginx_port);
    bgt_answer a;
    int streak = 0;
    for (int i = 0; i < 200 && streak < 5; i++) {
        ck_assert_int_eq(bgt_http_ask(&a, url,
                                      "{\"model\": \"x\", \"messages\": [{\"role\": \"user\", "
                                      "\"content\": \"What is the capital of France?\"}]}",
                                      10000),
                         0);
        bool ok = strcmp(a.upstream, want) == 0 && strcmp(a.model, model) == 0;
        streak = ok ? streak + 1 : 0;
        if (!ok)
            usleep(10 * 1000);
    }
    ck_assert_str_eq(a.upstream, want);
    ck_assert_str_eq(a.model, model);
    ck_assert_int_eq(streak, 5);
}

pid_t bgt_dfx_spawn_until_phase(const char *const *args, const char *phase)
{
    pid_t pid = bgt_spawn_gate(bgt_env.repo_dir, args, bgt_env.tmp);
    ck_assert_int_gt(pid, 0);
    char path[700], needle[64];
    snprintf(path, sizeof path, "%s/e2e.json", bgt_env.state_dir);
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
    ck_assert_msg(there, "bg-gate never reached phase %s", phase);
    return pid;
}

pid_t bgt_dfx_pool_pid(const char *pool)
{
    char rel[64];
    snprintf(rel, sizeof rel, "pools/%s/mock.pid", pool);
    char *path = bgt_dfx_path(rel);
    char *s = bgt_read_file(path);
    pid_t pid = s ? (pid_t)strtol(s, NULL, 10) : 0;
    free(s);
    free(path);
    return pid > 1 ? pid : 0;
}

bool bgt_dfx_running(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    return close_paren && close_paren[1] == ' ' && close_paren[2] != 'Z';
}

void bgt_dfx_kill_pool(const char *pool)
{
    pid_t pid = bgt_dfx_pool_pid(pool);
    ck_assert_msg(pid > 0, "%s has no bg-mock running", pool);
    kill(pid, SIGTERM);
    for (int i = 0; i < 250 && bgt_dfx_running(pid); i++)
        usleep(20 * 1000);
    ck_assert_msg(!bgt_dfx_running(pid), "%s's bg-mock (pid %d) did not stop", pool, (int)pid);
    /* nobody may signal that pid again once the kernel hands it to another process */
    char rel[64];
    snprintf(rel, sizeof rel, "pools/%s/mock.pid", pool);
    char *path = bgt_dfx_path(rel);
    unlink(path);
    free(path);
}
