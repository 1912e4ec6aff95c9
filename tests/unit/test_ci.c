/* test_ci.c — CI runner output (ci.h): GitHub workflow-command escaping, GitLab section
 * markers, mode parsing and detection from the environment. */
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/ci.h"

static char *annotation(bg_ci_level level, const char *file, int line, const char *title,
                        const char *msg)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    ck_assert_int_eq(bg_ci_format_annotation(&b, level, file, line, title, msg), 0);
    char *s = strdup(bg_buf_cstr(&b));
    bg_buf_dispose(&b);
    return s;
}

START_TEST(annotation_carries_file_line_and_title)
{
    char *s = annotation(BG_CI_ERROR, "evals/golden.jsonl", 12, "case x failed", "got 'Lyon'");
    ck_assert_str_eq(s, "::error file=evals/golden.jsonl,line=12,title=case x failed::got 'Lyon'\n");
    free(s);
    s = annotation(BG_CI_NOTICE, NULL, 0, "bg-gate", "gate passed");
    ck_assert_str_eq(s, "::notice title=bg-gate::gate passed\n");
    free(s);
    s = annotation(BG_CI_WARNING, NULL, 3, NULL, "plain");
    ck_assert_str_eq(s, "::warning::plain\n");
    free(s);
}
END_TEST

/* A model's answer can hold anything: it must not end the command or forge another. */
START_TEST(annotation_escapes_what_the_runner_interprets)
{
    char *s = annotation(BG_CI_ERROR, "a,b:c.jsonl", 1, "t: x, y", "100% wrong\r\n::error::forged");
    ck_assert_str_eq(s, "::error file=a%2Cb%3Ac.jsonl,line=1,title=t%3A x%2C y::"
                        "100%25 wrong%0D%0A::error::forged\n");
    ck_assert_ptr_null(strchr(s, '\r'));
    ck_assert_ptr_eq(strchr(s, '\n'), s + strlen(s) - 1);
    free(s);
}
END_TEST

START_TEST(sections_for_github_and_gitlab)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    ck_assert_int_eq(bg_ci_format_section(&b, BG_CI_GITHUB, true, "gate", "bg-gate: gate", 5), 0);
    ck_assert_int_eq(bg_ci_format_section(&b, BG_CI_GITHUB, false, "gate", NULL, 6), 0);
    ck_assert_str_eq(bg_buf_cstr(&b), "::group::bg-gate: gate\n::endgroup::\n");
    bg_buf_reset(&b);
    ck_assert_int_eq(bg_ci_format_section(&b, BG_CI_GITLAB, true, "flip now!", "Flip\nnow", 1700000000L), 0);
    ck_assert_int_eq(bg_ci_format_section(&b, BG_CI_GITLAB, false, "flip now!", NULL, 1700000009L), 0);
    ck_assert_str_eq(bg_buf_cstr(&b),
                     "\033[0Ksection_start:1700000000:flip_now_[collapsed=true]\r\033[0KFlip now\n"
                     "\033[0Ksection_end:1700000009:flip_now_\r\033[0K\n");
    bg_buf_reset(&b);
    ck_assert_int_eq(bg_ci_format_section(&b, BG_CI_OFF, true, "x", "x", 1), 0);
    ck_assert_uint_eq(b.len, 0);
    bg_buf_dispose(&b);
}
END_TEST

START_TEST(mode_is_detected_and_can_be_forced_or_turned_off)
{
    bg_ci_mode m;
    bg_error err = {0};
    unsetenv("BG_GATE_CI");
    unsetenv("GITLAB_CI");
    setenv("GITHUB_ACTIONS", "true", 1);
    ck_assert_int_eq(bg_ci_detect(), BG_CI_GITHUB);
    ck_assert_int_eq(bg_ci_parse(&m, "auto", &err), 0);
    ck_assert_int_eq(m, BG_CI_GITHUB);
    ck_assert_int_eq(bg_ci_parse(&m, "off", &err), 0);
    ck_assert_int_eq(m, BG_CI_OFF);
    setenv("BG_GATE_CI", "gitlab", 1);
    ck_assert_int_eq(bg_ci_detect(), BG_CI_GITLAB);
    setenv("BG_GATE_CI", "off", 1);
    ck_assert_int_eq(bg_ci_detect(), BG_CI_OFF);
    unsetenv("BG_GATE_CI");
    setenv("GITHUB_ACTIONS", "false", 1);
    setenv("GITLAB_CI", "true", 1);
    ck_assert_int_eq(bg_ci_detect(), BG_CI_GITLAB);
    unsetenv("GITLAB_CI");
    ck_assert_int_eq(bg_ci_detect(), BG_CI_OFF);
    ck_assert_int_eq(bg_ci_parse(&m, "jenkins", &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "--ci: expected auto, github, gitlab or off, got \"jenkins\"");
    unsetenv("GITHUB_ACTIONS");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("ci");
    TCase *tc = tcase_create("ci");
    tcase_add_test(tc, annotation_carries_file_line_and_title);
    tcase_add_test(tc, annotation_escapes_what_the_runner_interprets);
    tcase_add_test(tc, sections_for_github_and_gitlab);
    tcase_add_test(tc, mode_is_detected_and_can_be_forced_or_turned_off);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
