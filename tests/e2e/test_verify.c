/* test_verify.c — how a flip is verified, end to end with the real nginx (Debian), two
 * bg-mock pools restarted by the test pool script and a real git repository:
 *  - a config that cannot prove where traffic went (no router.endpoint, no
 *    router.upstream_header) is refused with exit 2 before any pool or router is touched;
 *  - the documented opt-out ("promotion": {"verify": "model-only"}) promotes, with a warning;
 *  - promotion.verify_suite: golden cases through the router after the flip; a case that
 *    fails on the new model flips back (exit 5, live untouched, the case's reason in the
 *    error and the JSON report), a suite that passes promotes.
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
#include "../support/nginxfix.h"
#include "../support/proc.h"
#include "../support/sweep.h"
#include "bggate/util.h"

#define NGINX BGT_NGINX_BIN

static char *tmp;
static char repo_dir[600], state_dir[600], reports[600], upstreams[600];
static int blue_port, green_port, nginx_port;
static bgt_repo repo;
static bool have_nginx;

/* ---- fixture (reload mode; the same shape as test_deploy.c) ---- */

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
             blue, green, blue_port, blue ? "weight=100" : "down", green_port,
             green ? "weight=100" : "down");
    write_file(upstreams, text);
}

/* The working tree's bg-gate.json (the release part is also committed). `verify` is the
 * router's verification members ("" for none), `promotion` extra promotion members. */
static void write_config(const char *verify, const char *promotion)
{
    char nginx_t[700], nginx_r[700], path[700];
    snprintf(nginx_t, sizeof nginx_t,
             "[\"%s\", \"-t\", \"-q\", \"-c\", \"%s/nginx.conf\", \"-p\", \"%s\"]", NGINX, tmp,
             tmp);
    snprintf(nginx_r, sizeof nginx_r,
             "[\"%s\", \"-s\", \"reload\", \"-c\", \"%s/nginx.conf\", \"-p\", \"%s\"]", NGINX, tmp,
             tmp);
    char *pool_sh = bgt_src("tests/fixtures/deploy/pool.sh");
    char *cfg = NULL;
    ck_assert_int_ge(
        asprintf(&cfg,
                 "{\"environment\": \"e2e\",\n"
                 " \"release\": {\"model\": {\"name\": \"acme/good\", \"served_name\": "
                 "\"good-model\"},\n"
                 "   \"suites\": [\"evals/capitals.jsonl\"]},\n"
                 " \"pools\": {\n"
                 "  \"blue\": {\"endpoints\": [\"http://127.0.0.1:%d/v1\"],\n"
                 "   \"deploy\": {\"driver\": \"command\", \"argv\": [\"%s\", \"deploy\", "
                 "\"%s/pools/blue\", \"%d\"], \"timeout_s\": 30},\n"
                 "   \"stop\": {\"argv\": [\"%s\", \"stop\", \"%s/pools/blue\", \"%d\"]}},\n"
                 "  \"green\": {\"endpoints\": [\"http://127.0.0.1:%d/v1\"],\n"
                 "   \"deploy\": {\"driver\": \"command\", \"argv\": [\"%s\", \"deploy\", "
                 "\"%s/pools/green\", \"%d\"], \"timeout_s\": 30},\n"
                 "   \"stop\": {\"argv\": [\"%s\", \"stop\", \"%s/pools/green\", \"%d\"]}}},\n"
                 " \"health\": {\"timeout_s\": 5, \"interval_ms\": 50, \"max_interval_ms\": 200},\n"
                 " \"router\": {\"driver\": \"nginx\", \"upstream_file\": \"%s\",\n"
                 "   \"test_argv\": %s, \"reload_argv\": %s%s},\n"
                 " \"gate\": {\"concurrency\": 4},\n"
                 " \"promotion\": {\"verify_requests\": 3, \"drain_timeout_s\": 5%s},\n"
                 " \"state\": {\"dir\": \"%s\"}}\n",
                 blue_port, pool_sh, tmp, blue_port, pool_sh, tmp, blue_port, green_port, pool_sh,
                 tmp, green_port, pool_sh, tmp, green_port, upstreams, nginx_t, nginx_r, verify,
                 promotion, state_dir),
        0);
    snprintf(path, sizeof path, "%s/bg-gate.json", repo_dir);
    write_file(path, cfg);
    free(cfg);
    free(pool_sh);
}

/* The verification members a complete config has. */
static char full_verify[200];

static void commit(const char *verify, const char *promotion)
{
    write_config(verify, promotion);
    ck_assert_int_eq(bgt_repo_commit(&repo, "release", NULL), 0);
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
                 upstreams, nginx_port),
        0);
    char *conf = bgt_nginx_conf(tmp, "", 1, 256, "off", http);
    char *path = tmp_path("nginx.conf");
    write_file(path, conf);
    ck_assert_int_eq(bgt_nginx_start(tmp, path, 10), 0);
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
    char pools[700], port[16], env_dir[700], url[64];
    snprintf(pools, sizeof pools, "%s/pools/blue", tmp);
    ck_assert_int_eq(bg_mkdir_p(dir, NULL), 0);
    write_file(rel, "{}\n");
    snprintf(port, sizeof port, "%d", blue_port);
    char *sh = bgt_src("tests/fixtures/deploy/pool.sh");
    snprintf(env_dir, sizeof env_dir, "BG_RELEASE_DIR=%s", dir);
    const char *env[] = {"BG_SERVED_MODEL=initial-model", env_dir, NULL};
    const char *argv[] = {"/bin/sh", sh, "deploy", pools, port, NULL};
    ck_assert_int_eq(bgt_run_cmd_env(argv, env, 20), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health", blue_port);
    long status = 0;
    for (int i = 0; i < 200 && status != 200; i++) {
        bgt_answer a;
        bgt_http_ask(&a, url, NULL, 2000);
        status = a.status;
        if (status != 200)
            usleep(20 * 1000);
    }
    ck_assert_int_eq(status, 200);
    free(sh);
    free(dir);
    free(rel);
}

static void stop_servers(void)
{
    if (!have_nginx || !tmp)
        return;
    bgt_nginx_stop(tmp);
    stop_pid_file("pools/blue/mock.pid");
    stop_pid_file("pools/green/mock.pid");
    usleep(100 * 1000);
}

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
    snprintf(full_verify, sizeof full_verify,
             ",\n   \"endpoint\": \"http://127.0.0.1:%d/v1\", \"upstream_header\": "
             "\"X-BG-Upstream\"",
             nginx_port);
    ck_assert_int_eq(bgt_repo_init(&repo, repo_dir), 0);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *text = bgt_read_file(suite);
    ck_assert_int_eq(bgt_repo_write(&repo, "evals/capitals.jsonl", text), 0);
    free(text);
    free(suite);
    if (!have_nginx)
        return;
    atexit(stop_servers);
    write_upstreams(100, 0);
    start_initial_blue();
    start_nginx();
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

#define NEED_NGINX()                                                                               \
    do {                                                                                           \
        if (!have_nginx) {                                                                         \
            fprintf(stderr, "SKIPPED %s: %s is not installed\n", __func__, NGINX);                 \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static void expect_exit(const bgt_result *r, int code)
{
    if (r->exit_code != code)
        fprintf(stderr, "bg-gate exited %d (expected %d) after %.0f ms\nstdout:\n%s\nstderr:\n%s\n",
                r->exit_code, code, r->elapsed_ms, r->out, r->err);
    ck_assert_int_eq(r->exit_code, code);
}

static void expect_err(const bgt_result *r, const char *text)
{
    ck_assert_msg(strstr(r->err, text) != NULL, "wanted \"%s\" in stderr:\n%s", text, r->err);
}

static void gate(const char *cmd, bgt_result *r)
{
    const char *args[] = {cmd, "--reports", reports, NULL};
    if (strcmp(cmd, "deploy") != 0)
        args[1] = NULL;
    bgt_run_gate(r, repo_dir, NULL, args, 120);
}

/* The answer of one request through nginx: which upstream and model. */
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

/* 5 answers in a row from `port` serving `model` (nginx applies a reload a moment late). */
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

static bool exists(const char *rel)
{
    char *p = tmp_path(rel);
    bool yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

static void write_suite(const char *rel, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", repo_dir, rel);
    write_file(path, text);
}

/* Nothing was touched: green never deployed, blue still the first server, the upstream
 * file as it was, no state written, traffic on blue. */
static void expect_untouched(const char *blue_pid, const char *upstream_text)
{
    ck_assert_msg(!exists("pools/green"), "the green pool was deployed");
    char *pid = tmp_path("pools/blue/mock.pid");
    char *now = bgt_read_file(pid);
    ck_assert_ptr_nonnull(now);
    ck_assert_str_eq(now, blue_pid);
    char *up = bgt_read_file(upstreams);
    ck_assert_str_eq(up, upstream_text);
    ck_assert_msg(!exists("state/e2e.json"), "a state file was written");
    free(pid);
    free(now);
    free(up);
    expect_live(blue_port, "initial-model");
}

/* The failure of the verify phase in the JSON report (deploy.lifecycle). Caller frees. */
static char *report_verify_failure(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/report.json", reports);
    char *text = bgt_read_file(path);
    ck_assert_msg(text != NULL, "no %s", path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(j);
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
    char *pid_path = tmp_path("pools/blue/mock.pid");
    char *blue_pid = bgt_read_file(pid_path);
    char *upstream_text = bgt_read_file(upstreams);
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
             nginx_port);
    const char *cmds[] = {"validate", "deploy", "promote", "rollback"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *verify = cases[i].verify ? cases[i].verify
                             : i == 2        ? endpoint_only
                                             : full_verify;
        commit(verify, cases[i].promotion);
        for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
            bgt_result r;
            gate(cmds[k], &r);
            expect_exit(&r, 2);
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
             nginx_port);
    commit(endpoint_only, ", \"verify\": \"model-only\"");
    bgt_result r;
    gate("validate", &r);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    gate("deploy", &r);
    expect_exit(&r, 0);
    expect_err(&r, "promotion.verify is \"model-only\"");
    expect_err(&r, "verified: 3 answers in a row from green");
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
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
    commit(full_verify, ", \"verify_suite\": \"evals/verify.jsonl\"");
    bgt_result r;
    gate("deploy", &r);
    expect_exit(&r, 5);
    expect_err(&r, "verify suite: case \"wants-lyon\"");
    expect_err(&r, "evals/verify.jsonl:2");
    expect_err(&r, "Lyon");
    expect_err(&r, "router restored");
    bgt_result_dispose(&r);
    expect_live(blue_port, "initial-model");
    char *failure = report_verify_failure();
    ck_assert_msg(strstr(failure, "case \"wants-lyon\"") && strstr(failure, "Lyon"), "%s", failure);
    free(failure);
    /* a promote by hand runs the same suite: it fails the same way and flips back */
    gate("promote", &r);
    ck_assert_int_ne(r.exit_code, 0);
    expect_err(&r, "verify suite: case \"wants-lyon\"");
    bgt_result_dispose(&r);
    expect_live(blue_port, "initial-model");
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
    commit(full_verify, ", \"verify_suite\": \"evals/verify.jsonl\"");
    bgt_result r;
    gate("deploy", &r);
    expect_exit(&r, 0);
    expect_err(&r, "case(s) through the router passed, every answer from green");
    ck_assert_msg(strstr(r.err, "model-only") == NULL, "%s", r.err);
    bgt_result_dispose(&r);
    expect_live(green_port, "good-model");
}
END_TEST

Suite *make_suite(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Suite *s = suite_create("e2e_verify");
    TCase *tc = tcase_create("verify");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, a_config_that_cannot_prove_a_flip_exits_2_before_anything_is_touched);
    tcase_add_test(tc, the_model_only_opt_out_promotes_with_a_warning);
    tcase_add_test(tc, a_verify_suite_that_fails_on_the_new_model_flips_back_and_exits_5);
    tcase_add_test(tc, a_verify_suite_that_passes_promotes);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
