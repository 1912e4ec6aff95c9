/* test_spawn.c — bg_spawn_run / bg_spawn_stream: argv without a shell, environment
 * overrides, output capture and its cap, exit codes, deadlines. Uses /bin/sh -c scripts
 * as children (tests may; product code never does). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "bggate/cancel.h"
#include "bggate/spawn.h"
#include "bggate/util.h"

static int sh(const char *script, const char *const *env, long timeout_ms, bg_buf *out,
              int *code, bg_error *err)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return bg_spawn_run(argv, env, timeout_ms, out, code, err);
}

START_TEST(run_captures_stdout_and_stderr_and_exit_code)
{
    bg_buf out;
    bg_error err = {0};
    int code = -5;
    bg_buf_init(&out, 0);
    ck_assert_int_eq(sh("echo hello; echo oops >&2; exit 3", NULL, 5000, &out, &code, &err), 0);
    ck_assert_int_eq(code, 3);
    ck_assert_str_eq(bg_buf_cstr(&out), "hello\noops\n");
    bg_buf_dispose(&out);
}
END_TEST

START_TEST(run_passes_arguments_verbatim_without_a_shell)
{
    const char *argv[] = {"printf", "%s|", "a b", "$HOME", "*", ";rm", NULL};
    bg_buf out;
    bg_error err = {0};
    int code = -5;
    bg_buf_init(&out, 0);
    ck_assert_int_eq(bg_spawn_run(argv, NULL, 5000, &out, &code, &err), 0);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(bg_buf_cstr(&out), "a b|$HOME|*|;rm|");
    bg_buf_dispose(&out);
}
END_TEST

START_TEST(run_extra_env_overrides_inherited_variable)
{
    const char *env[] = {"BG_SPAWN_T=new", "BG_OTHER=x y", NULL};
    bg_buf out;
    bg_error err = {0};
    int code = -5;
    setenv("BG_SPAWN_T", "old", 1);
    bg_buf_init(&out, 0);
    ck_assert_int_eq(sh("env | grep -c '^BG_SPAWN_T='; printf '%s/%s\\n' \"$BG_SPAWN_T\" "
                        "\"$BG_OTHER\"",
                        env, 5000, &out, &code, &err),
                     0);
    ck_assert_str_eq(bg_buf_cstr(&out), "1\nnew/x y\n");
    bg_buf_dispose(&out);
}
END_TEST

START_TEST(run_rejects_env_entry_without_equals)
{
    const char *env[] = {"NOEQUALS", NULL};
    bg_error err = {0};
    int code = 0;
    ck_assert_int_eq(sh("true", env, 5000, NULL, &code, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "environment entry \"NOEQUALS\" is not K=V");
}
END_TEST

START_TEST(run_missing_program_is_an_error_naming_it)
{
    const char *argv[] = {"bg-no-such-program-xyz", "--x", NULL};
    bg_error err = {0};
    int code = 0;
    ck_assert_int_eq(bg_spawn_run(argv, NULL, 5000, NULL, &code, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "bg-no-such-program-xyz: cannot run: No such file or directory");
}
END_TEST

START_TEST(run_kills_at_deadline_with_timeout_error)
{
    bg_buf out;
    bg_error err = {0};
    int code = 0;
    bg_buf_init(&out, 0);
    double t0 = bg_now_ms();
    /* the grandchild sleep holds the pipe too: the group kill must reach it */
    ck_assert_int_eq(sh("echo started; sleep 30; echo never", NULL, 300, &out, &code, &err),
                     BG_ETIMEOUT);
    double took = bg_now_ms() - t0;
    ck_assert_str_eq(err.msg, "/bin/sh: no exit within 300 ms");
    ck_assert_int_eq(code, -1);
    ck_assert_msg(took < 2500, "took %.0f ms", took);
    ck_assert_str_eq(bg_buf_cstr(&out), "started\n");
    bg_buf_dispose(&out);
}
END_TEST

START_TEST(run_escalates_to_sigkill_when_term_is_ignored)
{
    bg_error err = {0};
    int code = 0;
    double t0 = bg_now_ms();
    ck_assert_int_eq(sh("trap '' TERM; while :; do sleep 0.05; done", NULL, 200, NULL, &code,
                        &err),
                     BG_ETIMEOUT);
    double took = bg_now_ms() - t0;
    ck_assert_msg(took < 200 + BG_SPAWN_KILL_GRACE_MS + 1500, "took %.0f ms", took);
}
END_TEST

START_TEST(run_keeps_the_last_bytes_of_long_output)
{
    bg_buf out;
    bg_error err = {0};
    int code = -5;
    bg_buf_init(&out, 0);
    ck_assert_int_eq(sh("i=0; while [ $i -lt 3000 ]; do echo \"line $i ..........\"; "
                        "i=$((i+1)); done; echo THE-END",
                        NULL, 10000, &out, &code, &err),
                     0);
    ck_assert_int_eq(code, 0);
    ck_assert_uint_eq(out.len, BG_SPAWN_OUTPUT_MAX + strlen("…"));
    ck_assert(bg_str_starts_with(bg_buf_cstr(&out), "…"));
    ck_assert(bg_str_ends_with(bg_buf_cstr(&out), "line 2999 ..........\nTHE-END\n"));
    bg_buf_dispose(&out);
}
END_TEST

START_TEST(run_respects_the_buffer_limit)
{
    bg_buf out;
    bg_error err = {0};
    int code = -5;
    bg_buf_init(&out, 10);
    ck_assert_int_eq(sh("echo 0123456789abcdef", NULL, 5000, &out, &code, &err), 0);
    ck_assert_uint_le(out.len, 10);
    ck_assert(bg_str_ends_with(bg_buf_cstr(&out), "ef\n"));
    bg_buf_dispose(&out);
}
END_TEST

START_TEST(run_reports_death_by_signal_as_128_plus_signal)
{
    bg_error err = {0};
    int code = 0;
    ck_assert_int_eq(sh("kill -9 $$", NULL, 5000, NULL, &code, &err), 0);
    ck_assert_int_eq(code, 128 + 9);
}
END_TEST

START_TEST(run_does_not_wait_for_a_daemonised_grandchild)
{
    bg_error err = {0};
    int code = -5;
    double t0 = bg_now_ms();
    /* the background sleep inherits the output pipe and outlives its parent */
    ck_assert_int_eq(sh("sleep 3 & echo parent-done", NULL, 10000, NULL, &code, &err), 0);
    ck_assert_int_eq(code, 0);
    ck_assert_msg(bg_now_ms() - t0 < 1500, "waited for the grandchild");
}
END_TEST

START_TEST(run_rejects_empty_argv_and_bad_timeout)
{
    const char *empty[] = {NULL};
    const char *argv[] = {"true", NULL};
    bg_error err = {0};
    int code = 0;
    ck_assert_int_eq(bg_spawn_run(empty, NULL, 1000, NULL, &code, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "empty command");
    ck_assert_int_eq(bg_spawn_run(argv, NULL, 0, NULL, &code, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "true: timeout must be positive");
}
END_TEST

/* Runs bg_spawn_stream with stderr redirected to a file and returns what it printed. */
static char *stream_to_file(const char *script, const char *prefix, char *last, int *code,
                            int *rc)
{
    char path[] = "/tmp/bg-spawn-stream.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    bg_error err = {0};
    *rc = bg_spawn_stream(argv, NULL, 5000, prefix, last, code, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(bg_file_read(&text, &len, path, 1 << 20, &err), 0);
    unlink(path);
    return text;
}

START_TEST(stream_prefixes_every_line_including_an_unterminated_last_one)
{
    int code = -5, rc = -5;
    char *text = stream_to_file("echo one; echo two >&2; printf three; exit 2", "[green] ",
                                NULL, &code, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(code, 2);
    ck_assert_str_eq(text, "[green] one\n[green] two\n[green] three\n");
    free(text);
}
END_TEST

/* The reason a failing pool command gives must reach the error even under -q. */
START_TEST(stream_hands_back_the_last_non_blank_line)
{
    int code = -5, rc = -5;
    char last[BG_SPAWN_LAST_LINE_MAX];
    char *text = stream_to_file("echo starting; echo 'cannot bind: in use' >&2; echo '  '; exit 5",
                                "", last, &code, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(code, 5);
    ck_assert_str_eq(last, "cannot bind: in use");
    free(text);
    text = stream_to_file("exit 1", "", last, &code, &rc);
    ck_assert_str_eq(last, "");
    free(text);
}
END_TEST

/* Last in the suite: the cancel flag cannot be reset (matters under CK_FORK=no). */
START_TEST(run_cancel_during_child_kills_it_and_later_commands_still_run)
{
    bg_buf out;
    bg_error err = {0};
    int code = 0;
    bg_cancel_install();
    bg_buf_init(&out, 0);
    double t0 = bg_now_ms();
    /* the child signals us (its parent), as a CI runner cancelling the job would */
    ck_assert_int_eq(sh("echo working; kill -TERM $PPID; sleep 30", NULL, 20000, &out, &code,
                        &err),
                     BG_ECANCELED);
    ck_assert_str_eq(err.msg, "/bin/sh: stopped by Terminated");
    ck_assert_msg(bg_now_ms() - t0 < 3000, "child not stopped promptly");
    ck_assert_str_eq(bg_buf_cstr(&out), "working\n");
    /* a command started after the cancel (the restore path) runs to its end */
    bg_buf_reset(&out);
    ck_assert_int_eq(sh("sleep 0.2; echo restored", NULL, 5000, &out, &code, &err), 0);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(bg_buf_cstr(&out), "restored\n");
    bg_buf_dispose(&out);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("spawn");
    TCase *tc = tcase_create("spawn");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, run_captures_stdout_and_stderr_and_exit_code);
    tcase_add_test(tc, run_passes_arguments_verbatim_without_a_shell);
    tcase_add_test(tc, run_extra_env_overrides_inherited_variable);
    tcase_add_test(tc, run_rejects_env_entry_without_equals);
    tcase_add_test(tc, run_missing_program_is_an_error_naming_it);
    tcase_add_test(tc, run_kills_at_deadline_with_timeout_error);
    tcase_add_test(tc, run_escalates_to_sigkill_when_term_is_ignored);
    tcase_add_test(tc, run_keeps_the_last_bytes_of_long_output);
    tcase_add_test(tc, run_respects_the_buffer_limit);
    tcase_add_test(tc, run_reports_death_by_signal_as_128_plus_signal);
    tcase_add_test(tc, run_does_not_wait_for_a_daemonised_grandchild);
    tcase_add_test(tc, run_rejects_empty_argv_and_bad_timeout);
    tcase_add_test(tc, stream_prefixes_every_line_including_an_unterminated_last_one);
    tcase_add_test(tc, stream_hands_back_the_last_non_blank_line);
    tcase_add_test(tc, run_cancel_during_child_kills_it_and_later_commands_still_run);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
