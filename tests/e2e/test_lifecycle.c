/* test_lifecycle.c — end-to-end tests of the lifecycle commands around a deploy, through a
 * real nginx (reload mode) with two bg-mock pools (tests/support/deployfix.h): what
 * `status` says while a deploy runs, after one died and with a pool down; the refusals of
 * `promote` and `rollback`; `decommission` and its keep-warm window; `deploy --rev`; what
 * happens to a pool that fails the gate or never gets ready; and that drain really waits
 * for a request in flight on the old pool.
 */
#include <arpa/inet.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/deployfix.h"
#include "../support/nginxfix.h"
#include "../support/sweep.h"
#include "bggate/util.h"

#define E bgt_env
#define NEED_NGINX()                                                                               \
    do {                                                                                           \
        if (!bgt_dfx_can_run(__func__))                                                            \
            return;                                                                                \
    } while (0)

/* ---- helpers ---- */

static void deploy_ok(const char *extra)
{
    bgt_result r;
    const char *args[] = {"deploy", "--reports", E.reports, extra, NULL};
    bgt_dfx_run(&r, args);
    bgt_dfx_expect_exit(&r, 0);
    bgt_result_dispose(&r);
}

/* Runs `bg-gate cmd [flag]`, asserts the exit code and that stderr says `says`. */
static void expect_cmd(const char *cmd, const char *flag, int code, const char *says)
{
    bgt_result r;
    const char *args[] = {cmd, flag, NULL};
    bgt_dfx_run(&r, args);
    bgt_dfx_expect_exit(&r, code);
    if (says)
        ck_assert_msg(strstr(r.err, says) != NULL, "`%s` did not say \"%s\":\n%s", cmd, says,
                      r.err);
    bgt_result_dispose(&r);
}

static const char *str_at(const cJSON *s, const char *a, const char *b, const char *c,
                          const char *d)
{
    const char *v = cJSON_GetStringValue(bgt_dfx_get(s, a, b, c, d, NULL));
    return v ? v : "";
}

/* Two good releases: green got good-model, then blue good-model-2 (live); green is warm. */
static void two_deploys(void)
{
    bgt_dfx_commit("good-model", NULL);
    deploy_ok(NULL);
    bgt_dfx_commit("good-model-2", NULL);
    deploy_ok(NULL);
    bgt_dfx_expect_live(E.blue_port, "good-model-2");
}

static const cJSON *endpoint0(const cJSON *status, const char *pool)
{
    return cJSON_GetArrayItem(bgt_dfx_get(status, "pools", pool, "endpoints", NULL), 0);
}

/* ---- status ---- */

START_TEST(status_says_a_running_deploy_is_in_progress_and_names_the_lock_holder)
{
    NEED_NGINX();
    bgt_dfx_commit("good-model", NULL);
    setenv("POOL_DEPLOY_SLEEP", "4", 1); /* a slow rollout to look at */
    setenv("CI_JOB_URL", "https://ci.example/jobs/42", 1);
    const char *args[] = {"deploy", NULL};
    pid_t pid = bgt_dfx_spawn_until_phase(args, "deploy");
    unsetenv("POOL_DEPLOY_SLEEP");
    unsetenv("CI_JOB_URL");
    bgt_result r;
    const char *human[] = {"status", NULL};
    bgt_dfx_run(&r, human);
    bgt_dfx_expect_exit(&r, 0);
    char held[64];
    snprintf(held, sizeof held, "held by pid %d on ", (int)pid);
    ck_assert_msg(strstr(r.out, "IN PROGRESS: phase \"deploy\"") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, held) != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "(https://ci.example/jobs/42)") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "is in progress") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "UNFINISHED") == NULL && strstr(r.out, "stopped in") == NULL,
                  "a running deploy called stopped:\n%s", r.out);
    bgt_result_dispose(&r);
    cJSON *s = bgt_dfx_status();
    ck_assert(cJSON_IsTrue(bgt_dfx_get(s, "in_progress", NULL)));
    ck_assert(cJSON_IsTrue(bgt_dfx_get(s, "lock", "held", NULL)));
    ck_assert_int_eq((int)cJSON_GetNumberValue(bgt_dfx_get(s, "lock", "pid", NULL)), (int)pid);
    ck_assert_str_ne(str_at(s, "lock", "host", NULL, NULL), "");
    ck_assert_str_ne(str_at(s, "lock", "since", NULL, NULL), "");
    ck_assert_str_eq(str_at(s, "lock", "job_url", NULL, NULL), "https://ci.example/jobs/42");
    ck_assert_str_eq(str_at(s, "state", "deploy", "phase", NULL), "deploy");
    cJSON_Delete(s);
    ck_assert_int_eq(bgt_wait(pid, 60), 0);
    /* once it is over: nothing in progress, the lock is free */
    s = bgt_dfx_status();
    ck_assert(cJSON_IsFalse(bgt_dfx_get(s, "in_progress", NULL)));
    ck_assert(cJSON_IsFalse(bgt_dfx_get(s, "lock", "held", NULL)));
    ck_assert_ptr_null(bgt_dfx_get(s, "lock", "pid", NULL));
    cJSON_Delete(s);
}
END_TEST

START_TEST(status_after_a_killed_deploy_says_unfinished_and_the_lock_record_is_stale)
{
    NEED_NGINX();
    bgt_dfx_commit("good-model", NULL);
    setenv("POOL_DEPLOY_SLEEP", "1", 1);
    const char *args[] = {"deploy", NULL};
    pid_t pid = bgt_dfx_spawn_until_phase(args, "deploy");
    unsetenv("POOL_DEPLOY_SLEEP");
    kill(pid, SIGKILL);
    bgt_wait(pid, 10);
    cJSON *s = bgt_dfx_status();
    ck_assert(cJSON_IsFalse(bgt_dfx_get(s, "in_progress", NULL)));
    ck_assert(cJSON_IsFalse(bgt_dfx_get(s, "lock", "held", NULL)));
    ck_assert(cJSON_IsTrue(bgt_dfx_get(s, "lock", "stale", NULL)));
    ck_assert_int_eq((int)cJSON_GetNumberValue(bgt_dfx_get(s, "lock", "pid", NULL)), (int)pid);
    const cJSON *advice = bgt_dfx_get(s, "advice", NULL);
    char *text = cJSON_PrintUnformatted(advice);
    ck_assert_msg(strstr(text, "stopped in phase \\\"deploy\\\" without finishing") != NULL, "%s",
                  text);
    free(text);
    cJSON_Delete(s);
    /* the orphaned pool script still starts green's bg-mock: let it, so teardown stops it */
    for (int i = 0; i < 250 && !bgt_dfx_pool_pid("green"); i++)
        usleep(20 * 1000);
}
END_TEST

START_TEST(status_shows_the_health_of_every_endpoint_and_a_pool_that_is_down)
{
    NEED_NGINX();
    char commit[41];
    bgt_dfx_commit("good-model", commit);
    deploy_ok(NULL);
    cJSON *s = bgt_dfx_status();
    const cJSON *g = endpoint0(s, "green");
    ck_assert(cJSON_IsTrue(bgt_dfx_get(s, "pools", "green", "ready", NULL)));
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(g, "health")), 200);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(g, "model_listed")));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(g, "serves")), "good-model");
    /* blue holds a model no release named: only its health is judged */
    ck_assert(cJSON_IsTrue(bgt_dfx_get(s, "pools", "blue", "ready", NULL)));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(endpoint0(s, "blue"), "model_listed")));
    cJSON_Delete(s);

    bgt_dfx_kill_pool("blue");
    bgt_result r;
    const char *human[] = {"status", NULL};
    bgt_dfx_run(&r, human);
    bgt_dfx_expect_exit(&r, 0);
    char line[200];
    snprintf(line, sizeof line, "http://127.0.0.1:%d/v1  UNHEALTHY: connection refused",
             E.blue_port);
    ck_assert_msg(strstr(r.out, line) != NULL, "%s", r.out);
    snprintf(line, sizeof line, "http://127.0.0.1:%d/v1  healthy", E.green_port);
    ck_assert_msg(strstr(r.out, line) != NULL, "%s", r.out);
    /* the release on green with its commit and when it was recorded */
    snprintf(line, sizeof line, "commit %.12s", commit);
    ck_assert_msg(strstr(r.out, line) != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, " updated 20") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "lock         free") != NULL, "%s", r.out);
    bgt_result_dispose(&r);
    s = bgt_dfx_status();
    ck_assert(cJSON_IsFalse(bgt_dfx_get(s, "pools", "blue", "ready", NULL)));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(endpoint0(s, "blue"), "health")));
    cJSON_Delete(s);

    /* a server that accepts and never answers costs status its short deadline, no more */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)E.blue_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    const char *json[] = {"status", "--json", NULL};
    bgt_dfx_run(&r, json);
    close(fd);
    bgt_dfx_expect_exit(&r, 0);
    ck_assert_msg(r.elapsed_ms < 4500, "status took %.0f ms", r.elapsed_ms);
    s = cJSON_Parse(r.out);
    ck_assert_ptr_nonnull(s);
    const char *detail = cJSON_GetStringValue(cJSON_GetObjectItem(endpoint0(s, "blue"), "detail"));
    ck_assert_msg(detail && strstr(detail, "no answer in time"), "%s", detail ? detail : "");
    ck_assert(cJSON_IsTrue(bgt_dfx_get(s, "pools", "green", "ready", NULL)));
    cJSON_Delete(s);
    bgt_result_dispose(&r);
}
END_TEST

/* ---- promote, rollback, decommission ---- */

START_TEST(a_failed_gate_with_keep_leaves_the_pool_running_and_promote_needs_force)
{
    NEED_NGINX();
    E.promotion = BGT_DFX_PROMOTION ", \"on_gate_fail\": \"keep\"";
    bgt_dfx_commit("good-model", NULL);
    deploy_ok(NULL); /* green: good-model, live */
    bgt_dfx_commit("bad-model", NULL);
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    bgt_dfx_run(&r, args);
    bgt_dfx_expect_exit(&r, 1);
    bgt_result_dispose(&r);
    /* kept for inspection: blue still serves the failed release */
    pid_t blue = bgt_dfx_pool_pid("blue");
    ck_assert(blue > 0 && bgt_dfx_running(blue));
    cJSON *s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "state", "pools", "blue", "status"), "failed");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(endpoint0(s, "blue"), "serves")),
                     "bad-model");
    ck_assert(cJSON_IsTrue(bgt_dfx_get(s, "pools", "blue", "ready", NULL)));
    cJSON_Delete(s);
    bgt_dfx_expect_live(E.green_port, "good-model");
    /* the release did not pass the gate: promote refuses, live untouched */
    expect_cmd("promote", NULL, 2, "did not pass the gate; use --force");
    bgt_dfx_expect_live(E.green_port, "good-model");
    expect_cmd("promote", "--force", 0, NULL);
    bgt_dfx_expect_live(E.blue_port, "bad-model");
    s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "router", "live", NULL, NULL), "blue");
    ck_assert_str_eq(str_at(s, "state", "pools", "blue", "status"), "live");
    ck_assert_str_eq(str_at(s, "state", "pools", "green", "status"), "warm");
    cJSON_Delete(s);
}
END_TEST

START_TEST(promote_refuses_a_pool_that_is_down)
{
    NEED_NGINX();
    two_deploys();
    /* green is warm and gated but its server died: promote must not move traffic there,
     * even with --force (health is never skipped) */
    bgt_dfx_kill_pool("green");
    expect_cmd("promote", "--force", 3, "green is not ready");
    bgt_dfx_expect_live(E.blue_port, "good-model-2");
}
END_TEST

START_TEST(rollback_refuses_when_the_other_pool_is_down)
{
    NEED_NGINX();
    two_deploys();
    bgt_dfx_kill_pool("green");
    expect_cmd("rollback", NULL, 3, "green is not ready");
    bgt_dfx_expect_live(E.blue_port, "good-model-2");
    cJSON *s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "router", "live", NULL, NULL), "blue");
    ck_assert(!cJSON_IsObject(bgt_dfx_get(s, "state", "deploy", NULL))); /* nothing pending */
    cJSON_Delete(s);
}
END_TEST

START_TEST(decommission_inside_the_keep_warm_window_refuses_and_force_stops_the_pool)
{
    NEED_NGINX();
    two_deploys();
    pid_t green = bgt_dfx_pool_pid("green");
    ck_assert(green > 0 && bgt_dfx_running(green));
    expect_cmd("decommission", NULL, 0, "green stays warm for");
    ck_assert(bgt_dfx_running(green));
    cJSON *s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "state", "pools", "green", "status"), "warm");
    cJSON_Delete(s);
    expect_cmd("decommission", "--force", 0, "decommission: stopped green");
    ck_assert_msg(!bgt_dfx_running(green), "green's server (pid %d) still runs", (int)green);
    s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "state", "pools", "green", "status"), "stopped");
    ck_assert(cJSON_IsFalse(bgt_dfx_get(s, "pools", "green", "ready", NULL)));
    const cJSON *hist = bgt_dfx_get(s, "state", "history", NULL);
    const cJSON *last = cJSON_GetArrayItem(hist, cJSON_GetArraySize(hist) - 1);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(last, "action")), "decommission");
    cJSON_Delete(s);
    bgt_dfx_expect_live(E.blue_port, "good-model-2");
}
END_TEST

START_TEST(decommission_after_the_window_stops_the_pool_and_rollback_then_refuses)
{
    NEED_NGINX();
    E.promotion = "\"verify_requests\": 3, \"drain_timeout_s\": 5, \"keep_warm_s\": 1";
    two_deploys();
    pid_t green = bgt_dfx_pool_pid("green");
    usleep(1500 * 1000); /* the window is over */
    expect_cmd("decommission", NULL, 0, "decommission: stopped green");
    ck_assert(!bgt_dfx_running(green));
    /* nothing warm to go back to: rollback says why and moves nothing */
    expect_cmd("rollback", NULL, 2, "green is \"stopped\", not a warm previous release");
    bgt_dfx_expect_live(E.blue_port, "good-model-2");
}
END_TEST

/* ---- deploy ---- */

START_TEST(deploy_rev_deploys_an_older_commit)
{
    NEED_NGINX();
    char old[41], head[41];
    bgt_dfx_commit("good-model", old);
    bgt_dfx_commit("good-model-2", head);
    char rev[64];
    snprintf(rev, sizeof rev, "--rev=%.12s", old); /* a short sha of the older commit */
    deploy_ok(rev);
    bgt_dfx_expect_live(E.green_port, "good-model");
    cJSON *s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "state", "pools", "green", "commit"), old);
    ck_assert_str_eq(str_at(s, "state", "pools", "green", "served_model"), "good-model");
    cJSON_Delete(s);
    deploy_ok(NULL); /* HEAD, the newer one */
    bgt_dfx_expect_live(E.blue_port, "good-model-2");
    s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "state", "pools", "blue", "commit"), head);
    cJSON_Delete(s);
}
END_TEST

START_TEST(a_pool_that_never_gets_ready_is_stopped_with_on_gate_fail_stop)
{
    NEED_NGINX();
    E.promotion = BGT_DFX_PROMOTION ", \"on_gate_fail\": \"stop\"";
    E.health_extra = ", \"on_timeout\": \"stop\"";
    two_deploys();
    bgt_dfx_commit("never-model", NULL);
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    bgt_dfx_run(&r, args);
    bgt_dfx_expect_exit(&r, 3);
    ck_assert_msg(strstr(r.err, "not ready") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    bgt_dfx_expect_live(E.blue_port, "good-model-2");
    cJSON *s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "state", "pools", "green", "status"), "stopped");
    cJSON_Delete(s);
    ck_assert_int_eq(bgt_dfx_pool_pid("green"), 0); /* its stop ran: no server left */
}
END_TEST

START_TEST(a_pool_that_never_gets_ready_gets_its_warm_release_back)
{
    NEED_NGINX();
    two_deploys(); /* on_gate_fail: restore, the default */
    bgt_dfx_commit("never-model", NULL);
    bgt_result r;
    const char *args[] = {"deploy", NULL};
    bgt_dfx_run(&r, args);
    bgt_dfx_expect_exit(&r, 3);
    ck_assert_msg(strstr(r.err, "restoring green") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    bgt_dfx_expect_live(E.blue_port, "good-model-2");
    cJSON *s = bgt_dfx_status();
    ck_assert_str_eq(str_at(s, "state", "pools", "green", "served_model"), "good-model");
    ck_assert_str_eq(str_at(s, "state", "pools", "green", "status"), "warm");
    ck_assert(cJSON_IsTrue(bgt_dfx_get(s, "pools", "green", "ready", NULL)));
    cJSON_Delete(s);
    /* so the instant rollback still works */
    expect_cmd("rollback", NULL, 0, NULL);
    bgt_dfx_expect_live(E.green_port, "good-model");
}
END_TEST

/* ---- drain ---- */

#define SLOW_MS 6000
#define LONG_STORY_WORDS 40
#define LONG_STORY                                                                                 \
    "one two three four five six seven eight nine ten one two three four five six seven "          \
    "eight nine ten one two three four five six seven eight nine ten one two three four "          \
    "five six seven eight nine end"

/* In a child: one streamed request through nginx (to blue, live), exit 0 when it came
 * back whole. */
static pid_t slow_request(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid > 0)
        return pid;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", E.nginx_port);
    bgt_answer a;
    bgt_http_ask(&a, url,
                 "{\"model\": \"x\", \"stream\": true, \"max_tokens\": 100, \"messages\": "
                 "[{\"role\": \"user\", \"content\": \"Tell a long story.\"}]}",
                 30000);
    bool whole = a.status == 200 && strstr(a.body, " end") && strstr(a.body, "[DONE]");
    _exit(whole ? 0 : 1);
}

/* ms since start when pid ended (its exit code in *code), polled every 10 ms; -1: no. */
static void poll_exit(pid_t pid, double start, double *ended, int *code)
{
    int st;
    if (*ended >= 0 || waitpid(pid, &st, WNOHANG) != pid)
        return;
    *ended = bg_now_ms() - start;
    *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(drain_waits_for_a_request_in_flight_on_the_old_pool)
{
    NEED_NGINX();
    E.promotion = "\"verify_requests\": 3, \"drain_timeout_s\": 30, \"keep_warm_s\": 3600";
    bgt_dfx_commit("good-model", NULL);
    double start = bg_now_ms();
    pid_t req = slow_request();
    usleep(300 * 1000); /* it reached blue and waits out the latency there */
    const char *args[] = {"deploy", "-v", NULL};
    pid_t dep = bgt_spawn_gate(E.repo_dir, args, E.tmp);
    ck_assert_int_gt(dep, 0);
    double flipped = -1, req_end = -1, dep_end = -1;
    int req_code = -1, dep_code = -1;
    while ((req_end < 0 || dep_end < 0) && bg_now_ms() - start < 60000) {
        if (flipped < 0) {
            char *text = bgt_read_file(E.upstreams);
            if (text && strstr(text, "blue=0 green=100"))
                flipped = bg_now_ms() - start;
            free(text);
        }
        poll_exit(req, start, &req_end, &req_code);
        poll_exit(dep, start, &dep_end, &dep_code);
        usleep(10 * 1000);
    }
    char *path = bgt_dfx_path("bg-gate.stderr");
    char *log = bgt_read_file(path);
    fprintf(stderr, "drain: flip at %.0f ms, request done at %.0f ms, deploy done at %.0f ms\n",
            flipped, req_end, dep_end);
    if (dep_code != 0) {
        char *nlog = bgt_dfx_path("error.log");
        bgt_print_tail("nginx", nlog);
        free(nlog);
    }
    ck_assert_msg(req_code == 0, "the request in flight did not come back whole");
    ck_assert_msg(dep_code == 0, "deploy exited %d:\n%s", dep_code, log ? log : "");
    /* the flip happened while the request was in flight, and the deploy waited for it */
    ck_assert_msg(flipped >= 0 && flipped < req_end, "flip %.0f ms, request end %.0f ms", flipped,
                  req_end);
    ck_assert_msg(dep_end >= req_end, "deploy ended at %.0f ms, before the request (%.0f ms)",
                  dep_end, req_end);
    ck_assert_msg(strstr(log, "drain: blue has no request in flight") != NULL, "%s", log);
    ck_assert_msg(strstr(log, "still had") == NULL, "%s", log);
    free(log);
    free(path);
    bgt_dfx_expect_live(E.green_port, "good-model");
}
END_TEST

/* nginx in reload mode keeps old workers for a moment: a verification request sent right
 * after the flip can still reach the old pool. When that pool answers slowly (a big model,
 * long generations: here 8 tokens at 800 ms), that one request must not use up the whole
 * settle window and fail a good flip. */
START_TEST(verification_is_not_stalled_by_a_slow_old_pool)
{
    NEED_NGINX();
    bgt_dfx_commit("good-model", NULL);
    bgt_result r;
    double t0 = bg_now_ms();
    bgt_dfx_run(&r, (const char *const[]){"deploy", "-v", NULL});
    double took = bg_now_ms() - t0;
    fprintf(stderr, "deploy with a slow old pool: %.0f ms\n%s", took,
            strstr(r.err, "verified") ? strstr(r.err, "    verified") : r.err);
    bgt_dfx_expect_exit(&r, 0);
    ck_assert_msg(strstr(r.err, "verified: 3 answers in a row from green") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    /* green is live per router and state; no request through nginx here: one that an old
     * worker still hands to blue would wait out blue's 32 s answer */
    cJSON *s = bgt_dfx_status();
    ck_assert_str_eq(cJSON_GetStringValue(bgt_dfx_get(s, "router", "live", NULL)), "green");
    ck_assert_str_eq(cJSON_GetStringValue(bgt_dfx_get(s, "state", "live", NULL)), "green");
    cJSON_Delete(s);
}
END_TEST

static void setup(void)
{
    E.promotion = NULL;
    E.health_extra = NULL;
    E.initial_table = NULL;
    bgt_dfx_setup();
}

static void setup_slow_blue(void)
{
    E.promotion = NULL;
    E.health_extra = NULL;
    /* a long answer streamed slowly; verification requests that the old nginx worker
     * still sends to blue get the short default answer, fast */
    E.initial_table = "{\"model\": \"initial-model\", \"answers\": {\"Tell a long story.\": "
                      "\"" LONG_STORY "\"}, \"default\": \"I do not know.\"}";
    E.initial_token_ms = SLOW_MS / LONG_STORY_WORDS;
    bgt_dfx_setup();
}

static void setup_slow_old_model(void)
{
    E.promotion = NULL;
    E.health_extra = NULL;
    E.initial_table = "{\"model\": \"initial-model\", \"answers\": {}, \"default\": \"" LONG_STORY
                      "\"}";
    E.initial_token_ms = 800;
    bgt_dfx_setup();
}

Suite *make_suite(void)
{
    Suite *s = suite_create("e2e_lifecycle");
    TCase *tc = tcase_create("status");
    tcase_add_checked_fixture(tc, setup, bgt_dfx_teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, status_says_a_running_deploy_is_in_progress_and_names_the_lock_holder);
    tcase_add_test(tc, status_after_a_killed_deploy_says_unfinished_and_the_lock_record_is_stale);
    tcase_add_test(tc, status_shows_the_health_of_every_endpoint_and_a_pool_that_is_down);
    suite_add_tcase(s, tc);

    tc = tcase_create("ops");
    tcase_add_checked_fixture(tc, setup, bgt_dfx_teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, a_failed_gate_with_keep_leaves_the_pool_running_and_promote_needs_force);
    tcase_add_test(tc, promote_refuses_a_pool_that_is_down);
    tcase_add_test(tc, rollback_refuses_when_the_other_pool_is_down);
    tcase_add_test(tc, decommission_inside_the_keep_warm_window_refuses_and_force_stops_the_pool);
    tcase_add_test(tc, decommission_after_the_window_stops_the_pool_and_rollback_then_refuses);
    tcase_add_test(tc, deploy_rev_deploys_an_older_commit);
    tcase_add_test(tc, a_pool_that_never_gets_ready_is_stopped_with_on_gate_fail_stop);
    tcase_add_test(tc, a_pool_that_never_gets_ready_gets_its_warm_release_back);
    suite_add_tcase(s, tc);

    tc = tcase_create("drain");
    tcase_add_checked_fixture(tc, setup_slow_blue, bgt_dfx_teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, drain_waits_for_a_request_in_flight_on_the_old_pool);
    suite_add_tcase(s, tc);

    tc = tcase_create("verify");
    tcase_add_checked_fixture(tc, setup_slow_old_model, bgt_dfx_teardown);
    tcase_add_unchecked_fixture(tc, bgt_registry_open, bgt_registry_sweep);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, verification_is_not_stalled_by_a_slow_old_pool);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
