/* test_status_probe.c — what `bg-gate status` looks at without disturbing anything: one
 * probe of every endpoint of both pools (bg_pools_probe), the model a pool serves
 * (bg_pool_served_model) and the lock's holder record read without taking the lock
 * (bg_lock_peek).
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/proc.h"
#include "bggate/cancel.h"
#include "bggate/pool.h"
#include "bggate/state.h"
#include "bggate/util.h"

static char *tmp;
static bgt_mock mock;
static bg_pools pools;

/* blue: one bg-mock serving "m1"; green: a port nobody listens on. */
static void setup(void)
{
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
    const char *args[] = {"--model", "m1", NULL};
    ck_assert_int_eq(bgt_mock_start(&mock, tmp, "blue", args), 0);
    int dead = bgt_free_port();
    while (dead == mock.port)
        dead = bgt_free_port();
    char json[512];
    snprintf(json, sizeof json,
             "{\"pools\": {\"blue\": {\"endpoints\": [\"%s\"], \"deploy\": {\"driver\": "
             "\"static\"}}, \"green\": {\"endpoints\": [\"http://127.0.0.1:%d/v1\"], "
             "\"deploy\": {\"driver\": \"static\"}}}}",
             mock.url, dead);
    cJSON *root = cJSON_Parse(json);
    bg_error err = {0};
    ck_assert_msg(bg_pools_parse(&pools, root, &err) == 0, "%s", err.msg);
    cJSON_Delete(root);
}

static void teardown(void)
{
    bg_pools_dispose(&pools);
    bgt_mock_stop(&mock);
    bgt_rmtree(tmp);
    free(tmp);
}

START_TEST(probe_reports_health_and_whether_the_expected_model_is_listed)
{
    bg_endpoint_probe *out[BG_POOL_COUNT];
    bg_error err = {0};
    const char *served[BG_POOL_COUNT] = {"m1", "m1"};
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_pools_probe(&pools, served, 2000, out, &err), 0);
    ck_assert_double_lt(bg_now_ms() - t0, 2500);
    ck_assert(out[0][0].ready);
    ck_assert_int_eq(out[0][0].health_status, 200);
    ck_assert_int_eq(out[0][0].model_listed, 1);
    ck_assert_str_eq(out[0][0].first_model, "m1");
    ck_assert_str_eq(out[0][0].detail, "ready");
    ck_assert_str_eq(out[0][0].endpoint, mock.url);
    ck_assert(!out[1][0].ready);
    ck_assert_int_eq(out[1][0].health_status, 0);
    ck_assert_int_eq(out[1][0].model_listed, -1);
    ck_assert_str_eq(out[1][0].detail, "connection refused");
    free(out[0]);
    free(out[1]);
}
END_TEST

START_TEST(probe_says_which_model_a_server_serves_instead)
{
    bg_endpoint_probe *out[BG_POOL_COUNT];
    bg_error err = {0};
    const char *served[BG_POOL_COUNT] = {"m2", NULL};
    ck_assert_int_eq(bg_pools_probe(&pools, served, 2000, out, &err), 0);
    ck_assert(!out[0][0].ready);
    ck_assert_int_eq(out[0][0].health_status, 200);
    ck_assert_int_eq(out[0][0].model_listed, 0);
    ck_assert_str_eq(out[0][0].detail, "serves \"m1\", not \"m2\"");
    free(out[0]);
    free(out[1]);
    /* no model expected: health alone decides */
    const char *any[BG_POOL_COUNT] = {NULL, NULL};
    ck_assert_int_eq(bg_pools_probe(&pools, any, 2000, out, &err), 0);
    ck_assert(out[0][0].ready);
    ck_assert_int_eq(out[0][0].model_listed, -1);
    free(out[0]);
    free(out[1]);
}
END_TEST

START_TEST(probe_of_a_server_that_never_answers_ends_at_the_deadline)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(fd, 8), 0); /* accepted by the kernel, never answered */
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    free(pools.pool[1].endpoints[0]);
    pools.pool[1].endpoints[0] = bg_asprintf("http://127.0.0.1:%d/v1", ntohs(a.sin_port));
    bg_endpoint_probe *out[BG_POOL_COUNT];
    bg_error err = {0};
    const char *served[BG_POOL_COUNT] = {"m1", "m1"};
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_pools_probe(&pools, served, 300, out, &err), 0);
    double took = bg_now_ms() - t0;
    close(fd);
    ck_assert_double_lt(took, 1500);
    ck_assert(out[0][0].ready); /* probed at the same time, not after */
    ck_assert(!out[1][0].ready);
    ck_assert_str_eq(out[1][0].detail, "/health: no answer in time");
    free(out[0]);
    free(out[1]);
}
END_TEST

/* ---- lock ---- */

static char *lock_path(void)
{
    return bg_asprintf("%s/env.lock", tmp);
}

START_TEST(served_model_is_the_first_model_listed_or_an_error_naming_the_url)
{
    char *model = NULL;
    bg_error err = {0};
    ck_assert_msg(bg_pool_served_model(&model, &pools.pool[BG_POOL_BLUE], 2000, &err) == 0, "%s",
                  err.msg);
    ck_assert_str_eq(model, "m1");
    free(model);
    model = NULL;
    ck_assert_int_eq(bg_pool_served_model(&model, &pools.pool[BG_POOL_GREEN], 2000, &err), BG_ENET);
    ck_assert_ptr_null(model);
    ck_assert_msg(strstr(err.msg, pools.pool[BG_POOL_GREEN].endpoints[0]) != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "/models") != NULL, "%s", err.msg);
}
END_TEST

/* The check after a restore asks the model while a SIGTERM is pending (it may be why the
 * router was restored): the signal must not cut the request short. In a child, so that
 * the pending signal does not reach the other tests of a CK_FORK=no run. */
START_TEST(served_model_is_asked_to_its_end_with_a_signal_pending)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        bg_cancel_install();
        raise(SIGTERM);
        char *model = NULL;
        bg_error err = {0};
        int rc = bg_cancelled() ? bg_pool_served_model(&model, &pools.pool[BG_POOL_BLUE], 2000, &err)
                                : -100;
        if (rc)
            fprintf(stderr, "rc %d: %s\n", rc, err.msg);
        int ok = rc == 0 && model && strcmp(model, "m1") == 0;
        free(model);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}
END_TEST

START_TEST(peek_without_a_lock_file_sees_nothing_held)
{
    char *path = lock_path();
    bg_lock_holder h;
    bg_error err = {0};
    ck_assert_int_eq(bg_lock_peek(&h, path, &err), 0);
    ck_assert(!h.recorded && !h.held);
    free(path);
}
END_TEST

START_TEST(peek_names_the_live_holder_and_does_not_take_the_lock)
{
    char *path = lock_path();
    setenv("CI_JOB_URL", "https://ci.example/j/7", 1);
    bg_lock *l = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), 0);
    unsetenv("CI_JOB_URL");
    bg_lock_holder h;
    ck_assert_int_eq(bg_lock_peek(&h, path, &err), 0);
    ck_assert(h.recorded && h.held && h.same_host);
    ck_assert_int_eq(h.pid, (long)getpid());
    ck_assert_str_eq(h.job_url, "https://ci.example/j/7");
    ck_assert_int_gt((int)strlen(h.started_at), 0);
    bg_lock_release(l);
    /* released: the record is cleared and the lock can be taken again at once */
    ck_assert_int_eq(bg_lock_peek(&h, path, &err), 0);
    ck_assert(!h.recorded && !h.held);
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), 0);
    bg_lock_release(l);
    free(path);
}
END_TEST

START_TEST(peek_sees_a_record_left_by_a_dead_process_as_not_held)
{
    char *path = lock_path();
    char host[256];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    /* a child that exits at once: its pid is certainly not running afterwards */
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(bgt_wait(pid, 5), 0);
    char rec[512];
    snprintf(rec, sizeof rec, "{\"pid\": %d, \"host\": \"%s\", \"started_at\": \"x\"}\n", (int)pid,
             host);
    FILE *f = fopen(path, "w");
    fputs(rec, f);
    fclose(f);
    bg_lock_holder h;
    bg_error err = {0};
    ck_assert_int_eq(bg_lock_peek(&h, path, &err), 0);
    ck_assert(h.recorded && !h.held);
    ck_assert_int_eq(h.pid, (long)pid);
    /* another host cannot be checked: a record there counts as held */
    snprintf(rec, sizeof rec, "{\"pid\": %d, \"host\": \"elsewhere-%s\"}\n", (int)pid, host);
    f = fopen(path, "w");
    fputs(rec, f);
    fclose(f);
    ck_assert_int_eq(bg_lock_peek(&h, path, &err), 0);
    ck_assert(h.recorded && h.held && !h.same_host);
    free(path);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("status_probe");
    TCase *tc = tcase_create("probe");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, probe_reports_health_and_whether_the_expected_model_is_listed);
    tcase_add_test(tc, probe_says_which_model_a_server_serves_instead);
    tcase_add_test(tc, probe_of_a_server_that_never_answers_ends_at_the_deadline);
    tcase_add_test(tc, served_model_is_the_first_model_listed_or_an_error_naming_the_url);
    tcase_add_test(tc, served_model_is_asked_to_its_end_with_a_signal_pending);
    tcase_add_test(tc, peek_without_a_lock_file_sees_nothing_held);
    tcase_add_test(tc, peek_names_the_live_holder_and_does_not_take_the_lock);
    tcase_add_test(tc, peek_sees_a_record_left_by_a_dead_process_as_not_held);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
