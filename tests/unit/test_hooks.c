/* test_hooks.c — deploy hooks and webhook notifications: the `hooks` / `notify` config
 * and its errors, what a hook receives in its environment, exit codes and deadlines,
 * the change flags from a real git history, and the webhook POST against a
 * libmicrohttpd server in this process (bg-mock does not record request bodies).
 * Hooks in these tests are /bin/sh scripts (tests may use a shell; bg-gate never does).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <math.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/gitfix.h"
#include "../support/proc.h"
#include "bggate/hooks.h"
#include "bggate/release.h"
#include "bggate/util.h"

#define SECRET_PATH "/services/T000/B000/sEcReTtOkEn"

static char *tmp;

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
}

static void teardown(void)
{
    bgt_rmtree(tmp);
    free(tmp);
    tmp = NULL;
    curl_global_cleanup();
}

static char *tmp_path(const char *rel)
{
    char *p = bg_asprintf("%s/%s", tmp, rel);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
}

/* Parses config text as if read from tmp/bg-gate.json. */
static int parse(bg_hooks *h, const char *text, bg_error *err)
{
    char *path = tmp_path("bg-gate.json");
    bg_config *cfg = NULL;
    int rc = bg_config_parse(&cfg, path, text, strlen(text), err);
    if (!rc)
        rc = bg_hooks_parse(h, cfg, err);
    bg_config_free(cfg);
    free(path);
    return rc;
}

static void expect_error(const char *text, const char *message)
{
    bg_hooks h;
    bg_error err = {0};
    ck_assert_int_eq(parse(&h, text, &err), BG_EINVAL);
    ck_assert_msg(strstr(err.msg, message) != NULL, "got: %s\nwanted: %s", err.msg, message);
    ck_assert_msg(strstr(err.msg, "bg-gate.json: ") != NULL, "no file in: %s", err.msg);
    ck_assert_msg(strstr(err.msg, "sEcReT") == NULL, "secret printed: %s", err.msg);
}

/* ---- config ---- */

START_TEST(config_parses_hooks_and_notify_with_defaults)
{
    bg_hooks h;
    bg_error err = {0};
    ck_assert_int_eq(parse(&h,
                           "{\"hooks\": {\"pre_promote\": {\"argv\": [\"./scripts/check.sh\", "
                           "\"--strict\"], \"timeout_s\": 30},\n"
                           " \"post_promote\": {\"argv\": [\"flush-cache\"]}},\n"
                           " \"notify\": {\"webhook_url\": \"https://hooks.example.com" SECRET_PATH
                           "\", \"on\": [\"promoted\", \"gate-failed\"]}}",
                           &err),
                     0);
    ck_assert_msg(bg_hooks_has(&h, BG_HOOK_PRE_PROMOTE), "%s", err.msg);
    ck_assert_int_eq(h.hook[BG_HOOK_PRE_PROMOTE].timeout_s, 30);
    /* a relative program with a '/' is relative to the config file, a bare name is PATH's */
    char *want = tmp_path("scripts/check.sh");
    ck_assert_str_eq(h.hook[BG_HOOK_PRE_PROMOTE].argv[0], want);
    free(want);
    ck_assert_str_eq(h.hook[BG_HOOK_PRE_PROMOTE].argv[1], "--strict");
    ck_assert_ptr_null(h.hook[BG_HOOK_PRE_PROMOTE].argv[2]);
    ck_assert_str_eq(h.hook[BG_HOOK_POST_PROMOTE].argv[0], "flush-cache");
    ck_assert_int_eq(h.hook[BG_HOOK_POST_PROMOTE].timeout_s, BG_HOOK_DEFAULT_TIMEOUT_S);
    ck_assert(!bg_hooks_has(&h, BG_HOOK_PRE_DEPLOY));
    ck_assert_int_eq(h.notify_timeout_s, BG_NOTIFY_DEFAULT_TIMEOUT_S);
    ck_assert_uint_eq(h.notify_on, (1u << 0) | (1u << 2));
    ck_assert(bg_hooks_any(&h));
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(config_without_hooks_is_empty)
{
    bg_hooks h;
    bg_error err = {0};
    ck_assert_int_eq(parse(&h, "{}", &err), 0);
    ck_assert(!bg_hooks_any(&h));
    bg_hooks_dispose(&h);
    bg_hooks_dispose(NULL);
}
END_TEST

START_TEST(config_rejects_a_misspelt_hook_with_a_suggestion)
{
    expect_error("{\"hooks\": {\"pre_promte\": {\"argv\": [\"x\"]}}}",
                 "hooks.pre_promte: unknown field (did you mean \"pre_promote\"?)");
    expect_error("{\"hooks\": {\"pre_promote\": {\"argv\": [\"x\"], \"timeout\": 3}}}",
                 "hooks.pre_promote.timeout: unknown field (did you mean \"timeout_s\"?)");
    expect_error("{\"notfy\": {}}", "notfy: unknown field (did you mean \"notify\"?)");
}
END_TEST

START_TEST(config_rejects_a_shell_string_and_bad_values)
{
    expect_error("{\"hooks\": {\"pre_deploy\": {\"argv\": \"./check.sh && echo\"}}}",
                 "hooks.pre_deploy.argv: expected a non-empty array of strings (no shell), got "
                 "a string");
    expect_error("{\"hooks\": {\"pre_deploy\": {\"argv\": []}}}",
                 "hooks.pre_deploy.argv: expected a non-empty array of strings (no shell), got "
                 "an empty array");
    expect_error("{\"hooks\": {\"pre_deploy\": {\"argv\": [\"x\", 3]}}}",
                 "hooks.pre_deploy.argv[1]: expected a string, got a number");
    expect_error("{\"hooks\": {\"pre_deploy\": {\"timeout_s\": 3}}}",
                 "hooks.pre_deploy.argv: required");
    expect_error("{\"hooks\": {\"on_rollback\": {\"argv\": [\"x\"], \"timeout_s\": 0}}}",
                 "hooks.on_rollback.timeout_s: expected an integer from 1 to 86400");
    expect_error("{\"hooks\": {\"on_rollback\": [\"x\"]}}",
                 "hooks.on_rollback: expected an object {\"argv\": [...], \"timeout_s\": N}");
}
END_TEST

START_TEST(config_rejects_bad_notify_without_printing_the_url)
{
    expect_error("{\"notify\": {\"webhook_url\": \"https://hooks.example.com" SECRET_PATH
                 "\", \"on\": [\"promted\"]}}",
                 "notify.on[0]: unknown decision \"promted\" (expected promoted, rolled-back");
    expect_error("{\"notify\": {\"webhook_url\": \"ftp://hooks.example.com" SECRET_PATH "\"}}",
                 "notify.webhook_url: not an http:// or https:// URL");
    expect_error("{\"notify\": {\"webhook_url\": \"https://hooks.example.com" SECRET_PATH
                 " x\"}}",
                 "notify.webhook_url: https://hooks.example.com…: contains whitespace");
    expect_error("{\"notify\": {\"on\": [\"promoted\"]}}",
                 "notify: set webhook_url or webhook_url_env");
    expect_error("{\"notify\": {\"webhook_url\": \"https://h" SECRET_PATH
                 "\", \"webhook_url_env\": \"SLACK\"}}",
                 "notify: webhook_url and webhook_url_env exclude each other");
    expect_error("{\"notify\": {\"webhook_url_env\": \"A=B\"}}",
                 "notify.webhook_url_env: \"A=B\" is not a variable name");
    expect_error("{\"notify\": {\"webhook_url_env\": \"SLACK\", \"timeout_s\": 301}}",
                 "notify.timeout_s: expected an integer from 1 to 300");
}
END_TEST

START_TEST(url_origin_drops_path_query_and_user_info)
{
    char o[128];
    bg_url_origin(o, sizeof o, "https://hooks.slack.com" SECRET_PATH "?x=1");
    ck_assert_str_eq(o, "https://hooks.slack.com");
    bg_url_origin(o, sizeof o, "http://user:pw@127.0.0.1:8080/a");
    ck_assert_str_eq(o, "http://127.0.0.1:8080");
}
END_TEST

/* ---- running hooks ---- */

static bg_hook_event sample_event(void)
{
    bg_hook_event ev;
    bg_hook_event_init(&ev, "deploy", "production");
    ev.release_id = "1a2b3c4d5e6f7a8b";
    ev.commit = "0123456789abcdef0123456789abcdef01234567";
    ev.model = "acme/llama";
    ev.model_revision = "rev 1"; /* a space: values are never split by a shell */
    ev.served_model = "llama-8b";
    ev.pool = "green";
    ev.live_pool = "blue";
    ev.previous_release_id = "ffeeddccbbaa";
    ev.model_changed = true;
    ev.templates_changed = false;
    return ev;
}

/* A hook config whose hook `name` runs `script` through /bin/sh. */
static void hooks_with_script(bg_hooks *h, const char *name, const char *script, int timeout_s)
{
    char *sh = tmp_path("hook.sh");
    write_file(sh, script, 0755);
    char *text = bg_asprintf("{\"hooks\": {\"%s\": {\"argv\": [\"/bin/sh\", \"%s\", \"a b\"], "
                             "\"timeout_s\": %d}}}",
                             name, sh, timeout_s);
    bg_error err = {0};
    ck_assert_int_eq(parse(h, text, &err), 0);
    free(text);
    free(sh);
}

/* The value of NAME in an env dump ("NAME=value\n" lines); NULL when absent. */
static char *env_value(const char *dump, const char *name)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\n%s=", name);
    const char *p = strstr(dump, needle);
    if (!p)
        return NULL;
    p += strlen(needle);
    return bg_strndup(p, strcspn(p, "\n"));
}

static void expect_env(const char *dump, const char *name, const char *value)
{
    char *v = env_value(dump, name);
    ck_assert_msg(v != NULL, "%s missing from:\n%s", name, dump);
    ck_assert_msg(strcmp(v, value) == 0, "%s=%s, wanted %s", name, v, value);
    free(v);
}

START_TEST(hook_gets_the_release_in_its_environment)
{
    bg_hooks h;
    char *dump = tmp_path("env.txt");
    char *script = bg_asprintf("printf '\\n' > '%s'; env | grep '^BG_' >> '%s'; "
                               "echo \"ARG1=$1\" >> '%s'\n",
                               dump, dump, dump);
    hooks_with_script(&h, "post_promote", script, 10);
    bg_hook_event ev = sample_event();
    ev.decision = "promoted";
    ev.pass_rate = 0.975;
    ev.p95_ms = 812.4;
    bg_error err = {0};
    ck_assert_int_eq(bg_hooks_run(&h, BG_HOOK_POST_PROMOTE, &ev, &err), 0);
    char *text = bgt_read_file(dump);
    ck_assert_ptr_nonnull(text);
    expect_env(text, "BG_HOOK", "post_promote");
    expect_env(text, "BG_ACTION", "deploy");
    expect_env(text, "BG_ENVIRONMENT", "production");
    expect_env(text, "BG_RELEASE_ID", "1a2b3c4d5e6f7a8b");
    expect_env(text, "BG_COMMIT", "0123456789abcdef0123456789abcdef01234567");
    expect_env(text, "BG_MODEL", "acme/llama");
    expect_env(text, "BG_MODEL_REVISION", "rev 1");
    expect_env(text, "BG_SERVED_MODEL", "llama-8b");
    expect_env(text, "BG_POOL", "green");
    expect_env(text, "BG_LIVE_POOL", "blue");
    expect_env(text, "BG_PREVIOUS_RELEASE_ID", "ffeeddccbbaa");
    expect_env(text, "BG_MODEL_CHANGED", "1");
    expect_env(text, "BG_TEMPLATES_CHANGED", "0");
    expect_env(text, "BG_DECISION", "promoted");
    expect_env(text, "BG_PASS_RATE", "0.9750");
    expect_env(text, "BG_P95_MS", "812");
    expect_env(text, "ARG1", "a b"); /* argv passed verbatim */
    free(text);
    free(script);
    free(dump);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(pre_hook_has_an_empty_decision_and_no_gate_numbers)
{
    bg_hooks h;
    char *dump = tmp_path("env.txt");
    char *script = bg_asprintf("printf '\\n' > '%s'; env | grep '^BG_' >> '%s'\n", dump, dump);
    setenv("BG_DECISION", "inherited", 1); /* must not leak into a pre hook */
    hooks_with_script(&h, "pre_deploy", script, 10);
    bg_hook_event ev = sample_event();
    bg_error err = {0};
    ck_assert_int_eq(bg_hooks_run(&h, BG_HOOK_PRE_DEPLOY, &ev, &err), 0);
    char *text = bgt_read_file(dump);
    expect_env(text, "BG_DECISION", "");
    ck_assert_ptr_null(strstr(text, "BG_PASS_RATE="));
    ck_assert_ptr_null(strstr(text, "BG_P95_MS="));
    free(text);
    free(script);
    free(dump);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(pre_promote_veto_reports_the_exit_code_and_last_line)
{
    bg_hooks h;
    hooks_with_script(&h, "pre_promote",
                      "echo checking\necho 'not in the change window (Fri 16:00)'\nexit 1\n", 10);
    bg_hook_event ev = sample_event();
    bg_error err = {0};
    ck_assert_int_eq(bg_hooks_run(&h, BG_HOOK_PRE_PROMOTE, &ev, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "pre_promote: sh exited 1: not in the change window (Fri 16:00)");
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(an_unconfigured_hook_is_a_no_op)
{
    bg_hooks h;
    hooks_with_script(&h, "pre_promote", "exit 1\n", 10);
    bg_hook_event ev = sample_event();
    bg_error err = {0};
    ck_assert_int_eq(bg_hooks_run(&h, BG_HOOK_POST_DEPLOY, &ev, &err), 0);
    ck_assert_int_eq(bg_hooks_run(&h, BG_HOOK_ON_ROLLBACK, &ev, &err), 0);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(a_hook_past_its_deadline_is_killed)
{
    bg_hooks h;
    char *marker = tmp_path("survived");
    char *script = bg_asprintf("sleep 30; touch '%s'\n", marker);
    hooks_with_script(&h, "pre_promote", script, 1);
    bg_hook_event ev = sample_event();
    bg_error err = {0};
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_hooks_run(&h, BG_HOOK_PRE_PROMOTE, &ev, &err), BG_ETIMEOUT);
    double took = bg_now_ms() - t0;
    ck_assert_msg(took >= 900 && took < 4000, "took %.0f ms", took);
    ck_assert_msg(strstr(err.msg, "pre_promote: ") == err.msg, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "no exit within 1000 ms") != NULL, "%s", err.msg);
    usleep(200 * 1000);
    ck_assert_int_ne(access(marker, F_OK), 0); /* the whole group was killed */
    free(marker);
    free(script);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(a_missing_program_is_an_error_naming_the_hook)
{
    bg_hooks h;
    bg_error err = {0};
    ck_assert_int_eq(parse(&h, "{\"hooks\": {\"pre_deploy\": {\"argv\": [\"./nope.sh\"]}}}", &err),
                     0);
    bg_hook_event ev = sample_event();
    ck_assert_int_eq(bg_hooks_run(&h, BG_HOOK_PRE_DEPLOY, &ev, &err), BG_EIO);
    ck_assert_msg(strstr(err.msg, "pre_deploy: ") == err.msg, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "nope.sh: cannot run") != NULL, "%s", err.msg);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(a_relative_program_runs_from_the_config_directory_wherever_we_are)
{
    char *dir = tmp_path("scripts");
    ck_assert_int_eq(bg_mkdir_p(dir, NULL), 0);
    char *sh = tmp_path("scripts/ok.sh");
    char *out = tmp_path("ran");
    char *script = bg_asprintf("#!/bin/sh\necho yes > '%s'\n", out);
    write_file(sh, script, 0755);
    bg_hooks h;
    bg_error err = {0};
    ck_assert_int_eq(
        parse(&h, "{\"hooks\": {\"post_deploy\": {\"argv\": [\"./scripts/ok.sh\"]}}}", &err), 0);
    ck_assert_int_eq(chdir("/"), 0);
    bg_hook_event ev = sample_event();
    ck_assert_int_eq(bg_hooks_run(&h, BG_HOOK_POST_DEPLOY, &ev, &err), 0);
    ck_assert_int_eq(access(out, F_OK), 0);
    bg_hooks_dispose(&h);
    free(script);
    free(out);
    free(sh);
    free(dir);
}
END_TEST

/* ---- change flags from git ---- */

static void commit_config(bgt_repo *r, const char *model, const char *prompt, char id[41])
{
    char *cfg = bg_asprintf("{\"release\": {\"model\": {\"name\": \"%s\"}, "
                            "\"templates\": {\"sys\": \"prompts/sys.txt\"}}}\n",
                            model);
    ck_assert_int_eq(bgt_repo_write(r, "bg-gate.json", cfg), 0);
    ck_assert_int_eq(bgt_repo_write(r, "prompts/sys.txt", prompt), 0);
    ck_assert_int_eq(bgt_repo_commit(r, model, id), 0);
    free(cfg);
}

START_TEST(changes_tell_a_model_change_from_a_template_change)
{
    char *dir = tmp_path("repo");
    bgt_repo r;
    char c1[41], c2[41], c3[41];
    ck_assert_int_eq(bgt_repo_init(&r, dir), 0);
    commit_config(&r, "acme/a", "You are helpful.\n", c1);
    commit_config(&r, "acme/a", "You are terse.\n", c2);
    commit_config(&r, "acme/b", "You are terse.\n", c3);
    bg_release *rel2 = NULL, *rel3 = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_release_resolve(&rel2, dir, c2, NULL, &err), 0);
    ck_assert_int_eq(bg_release_resolve(&rel3, dir, c3, NULL, &err), 0);
    bg_hook_event ev;
    bg_hook_event_init(&ev, "deploy", "e");
    bg_hook_event_changes(&ev, rel2, c1); /* only the template */
    ck_assert(!ev.model_changed);
    ck_assert(ev.templates_changed);
    bg_hook_event_changes(&ev, rel3, c2); /* only the model */
    ck_assert(ev.model_changed);
    ck_assert(!ev.templates_changed);
    bg_hook_event_changes(&ev, rel3, NULL); /* first deploy: everything is new */
    ck_assert(ev.model_changed && ev.templates_changed);
    bg_hook_event_changes(&ev, rel3, "0000000000000000000000000000000000000000");
    ck_assert(ev.model_changed && ev.templates_changed); /* unreadable: assume changed */
    /* the commits-only form (manual promote/rollback) finds the repository from the config */
    char *cfg_path = bg_asprintf("%s/bg-gate.json", dir);
    bg_config *cfg = NULL;
    ck_assert_int_eq(bg_config_load(&cfg, cfg_path, &err), 0);
    bg_hook_event_changes_commits(&ev, cfg, c2, c1);
    ck_assert(!ev.model_changed && ev.templates_changed);
    bg_config_free(cfg);
    free(cfg_path);
    bg_release_free(rel2);
    bg_release_free(rel3);
    bgt_repo_close(&r);
    free(dir);
}
END_TEST

/* ---- webhook ---- */

typedef struct webhook_srv {
    struct MHD_Daemon *d;
    int port;
    unsigned status;
    int delay_ms;
    int requests;
    char method[16], url[256], content_type[128];
    char body[16384];
    size_t body_len;
} webhook_srv;

static webhook_srv srv;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)cls;
    (void)version;
    if (!*con_cls) {
        *con_cls = &srv;
        srv.body_len = 0;
        return MHD_YES;
    }
    if (*size) {
        size_t n = *size < sizeof srv.body - 1 - srv.body_len ? *size
                                                              : sizeof srv.body - 1 - srv.body_len;
        memcpy(srv.body + srv.body_len, data, n);
        srv.body_len += n;
        srv.body[srv.body_len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    snprintf(srv.method, sizeof srv.method, "%s", method);
    snprintf(srv.url, sizeof srv.url, "%s", url);
    snprintf(srv.content_type, sizeof srv.content_type, "%s", ct ? ct : "");
    srv.requests++;
    if (srv.delay_ms)
        usleep((useconds_t)srv.delay_ms * 1000);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, srv.status, r);
    MHD_destroy_response(r);
    return ret;
}

static void srv_start(unsigned status, int delay_ms)
{
    memset(&srv, 0, sizeof srv);
    srv.status = status;
    srv.delay_ms = delay_ms;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                             NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&addr, MHD_OPTION_END);
    ck_assert_ptr_nonnull(srv.d);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
    ck_assert_ptr_nonnull(di);
    srv.port = di->port;
}

static void srv_stop(void)
{
    if (srv.d)
        MHD_stop_daemon(srv.d);
    srv.d = NULL;
}

static void notify_hooks(bg_hooks *h, const char *on, long timeout_s)
{
    char *text = bg_asprintf("{\"notify\": {\"webhook_url\": \"http://127.0.0.1:%d" SECRET_PATH
                             "\"%s%s, \"timeout_s\": %ld}}",
                             srv.port, on ? ", \"on\": " : "", on ? on : "", timeout_s);
    bg_error err = {0};
    ck_assert_int_eq(parse(h, text, &err), 0);
    free(text);
}

START_TEST(webhook_posts_a_slack_compatible_json_body)
{
    srv_start(200, 0);
    bg_hooks h;
    notify_hooks(&h, NULL, 5);
    bg_hook_event ev = sample_event();
    ev.decision = "promoted";
    ev.pass_rate = 0.96;
    ev.p95_ms = 812.0;
    ev.duration_s = 42.5;
    bg_error err = {0};
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), 0);
    srv_stop();
    ck_assert_int_eq(srv.requests, 1);
    ck_assert_str_eq(srv.method, "POST");
    ck_assert_str_eq(srv.url, SECRET_PATH);
    ck_assert_str_eq(srv.content_type, "application/json");
    cJSON *j = cJSON_Parse(srv.body);
    ck_assert_msg(j != NULL, "not JSON: %s", srv.body);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "text")),
                     "bg-gate production: deploy promoted — release 1a2b3c4d5e6f (commit "
                     "0123456789ab, model llama-8b) on green; pass rate 96.0 %, p95 812 ms");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "environment")), "production");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "decision")), "promoted");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "release_id")),
                     "1a2b3c4d5e6f7a8b");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "commit")),
                     "0123456789abcdef0123456789abcdef01234567");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "model")), "acme/llama");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "pool")), "green");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "previous_release_id")),
                     "ffeeddccbbaa");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "model_changed")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "templates_changed")));
    ck_assert(fabs(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "pass_rate")) - 0.96) < 1e-9);
    ck_assert(fabs(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "p95_ms")) - 812.0) < 1e-9);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "message")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(j, "at")));
    cJSON_Delete(j);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(webhook_text_carries_the_reason_escaped_for_slack)
{
    srv_start(200, 0);
    bg_hooks h;
    notify_hooks(&h, NULL, 5);
    bg_hook_event ev = sample_event();
    ev.decision = "gate-failed";
    ev.message = "pass_rate < 0.95 & p95 > 2500";
    bg_error err = {0};
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), 0);
    srv_stop();
    cJSON *j = cJSON_Parse(srv.body);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "text")),
                     "bg-gate production: deploy gate-failed — release 1a2b3c4d5e6f (commit "
                     "0123456789ab, model llama-8b) on green; pass_rate &lt; 0.95 &amp; p95 "
                     "&gt; 2500");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "message")),
                     "pass_rate < 0.95 & p95 > 2500");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "pass_rate"))); /* no gate numbers */
    cJSON_Delete(j);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(webhook_is_sent_only_for_the_chosen_decisions)
{
    srv_start(200, 0);
    bg_hooks h;
    notify_hooks(&h, "[\"rolled-back\"]", 5);
    bg_hook_event ev = sample_event();
    bg_error err = {0};
    ev.decision = "promoted";
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), 0);
    ev.decision = NULL;
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), 0);
    ck_assert_int_eq(srv.requests, 0);
    ev.decision = "rolled-back";
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), 0);
    srv_stop();
    ck_assert_int_eq(srv.requests, 1);
    bg_hooks_dispose(&h);
    /* by default every decision but nothing-to-deploy */
    srv_start(200, 0);
    notify_hooks(&h, NULL, 5);
    ev.decision = "nothing-to-deploy";
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), 0);
    ev.decision = "blocked-by-hook";
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), 0);
    srv_stop();
    ck_assert_int_eq(srv.requests, 1);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(webhook_errors_never_show_the_secret_path)
{
    srv_start(500, 0);
    bg_hooks h;
    notify_hooks(&h, NULL, 5);
    bg_hook_event ev = sample_event();
    ev.decision = "failed";
    bg_error err = {0};
    char want[128];
    snprintf(want, sizeof want, "webhook http://127.0.0.1:%d: HTTP 500", srv.port);
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, want);
    int port = srv.port;
    srv_stop();
    /* nobody listens any more: a connection error, still without the path */
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), BG_ENET);
    snprintf(want, sizeof want, "webhook http://127.0.0.1:%d: ", port);
    ck_assert_msg(strstr(err.msg, want) == err.msg, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "sEcReT") == NULL, "%s", err.msg);
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(webhook_gives_up_at_its_deadline)
{
    srv_start(200, 2500);
    bg_hooks h;
    notify_hooks(&h, NULL, 1);
    bg_hook_event ev = sample_event();
    ev.decision = "promoted";
    bg_error err = {0};
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), BG_ENET);
    double took = bg_now_ms() - t0;
    ck_assert_msg(took >= 900 && took < 2000, "took %.0f ms", took);
    ck_assert_msg(strstr(err.msg, "sEcReT") == NULL, "%s", err.msg);
    srv_stop();
    bg_hooks_dispose(&h);
}
END_TEST

START_TEST(webhook_url_from_the_environment)
{
    srv_start(200, 0);
    bg_hooks h;
    bg_error err = {0};
    ck_assert_int_eq(parse(&h, "{\"notify\": {\"webhook_url_env\": \"BG_TEST_SLACK\"}}", &err), 0);
    bg_hook_event ev = sample_event();
    ev.decision = "promoted";
    unsetenv("BG_TEST_SLACK");
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "notify.webhook_url_env: $BG_TEST_SLACK is not set");
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d" SECRET_PATH, srv.port);
    setenv("BG_TEST_SLACK", url, 1);
    ck_assert_int_eq(bg_hooks_notify(&h, &ev, &err), 0);
    srv_stop();
    ck_assert_int_eq(srv.requests, 1);
    ck_assert_str_eq(srv.url, SECRET_PATH);
    bg_hooks_dispose(&h);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("hooks");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, config_parses_hooks_and_notify_with_defaults);
    tcase_add_test(tc, config_without_hooks_is_empty);
    tcase_add_test(tc, config_rejects_a_misspelt_hook_with_a_suggestion);
    tcase_add_test(tc, config_rejects_a_shell_string_and_bad_values);
    tcase_add_test(tc, config_rejects_bad_notify_without_printing_the_url);
    tcase_add_test(tc, url_origin_drops_path_query_and_user_info);
    suite_add_tcase(s, tc);
    tc = tcase_create("run");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, hook_gets_the_release_in_its_environment);
    tcase_add_test(tc, pre_hook_has_an_empty_decision_and_no_gate_numbers);
    tcase_add_test(tc, pre_promote_veto_reports_the_exit_code_and_last_line);
    tcase_add_test(tc, an_unconfigured_hook_is_a_no_op);
    tcase_add_test(tc, a_hook_past_its_deadline_is_killed);
    tcase_add_test(tc, a_missing_program_is_an_error_naming_the_hook);
    tcase_add_test(tc, a_relative_program_runs_from_the_config_directory_wherever_we_are);
    tcase_add_test(tc, changes_tell_a_model_change_from_a_template_change);
    suite_add_tcase(s, tc);
    tc = tcase_create("webhook");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, webhook_posts_a_slack_compatible_json_body);
    tcase_add_test(tc, webhook_text_carries_the_reason_escaped_for_slack);
    tcase_add_test(tc, webhook_is_sent_only_for_the_chosen_decisions);
    tcase_add_test(tc, webhook_errors_never_show_the_secret_path);
    tcase_add_test(tc, webhook_gives_up_at_its_deadline);
    tcase_add_test(tc, webhook_url_from_the_environment);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
