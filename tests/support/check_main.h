/* check_main.h — the main() every Check test binary shares.
 *
 * A test file defines `Suite *make_suite(void)` and ends with BG_CHECK_MAIN(). The
 * runner prints Check's summary line, which scripts/run-tests.sh adds up. It first clears
 * the CI job's own variables: `make test` runs inside GitHub Actions and GitLab CI, where
 * GITHUB_SHA / CI_COMMIT_SHA would become the default revision of every bg-gate run in a
 * test repository and GITHUB_ACTIONS / GITLAB_CI would switch on CI output. Tests that
 * exercise those set them explicitly.
 */
#ifndef BGGATE_TEST_CHECK_MAIN_H
#define BGGATE_TEST_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/* Defined by each test file. */
Suite *make_suite(void);

static inline void bgt_clear_ci_environment(void)
{
    static const char *const names[] = {
        "CI",
        "GITHUB_ACTIONS",
        "GITHUB_SHA",
        "GITHUB_WORKSPACE",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_SERVER_URL",
        "GITHUB_REPOSITORY",
        "GITHUB_RUN_ID",
        "GITLAB_CI",
        "CI_COMMIT_SHA",
        "CI_JOB_URL",
        "CI_PROJECT_DIR",
        "BG_GATE_CI",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

#define BG_CHECK_MAIN()                                                                            \
    int main(void)                                                                                 \
    {                                                                                              \
        bgt_clear_ci_environment();                                                                \
        SRunner *sr = srunner_create(make_suite());                                                \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                          \
    }

#endif
