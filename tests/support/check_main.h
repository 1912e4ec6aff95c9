/* check_main.h — the main() every Check test binary shares.
 *
 * A test file defines `Suite *make_suite(void)` and ends with BG_CHECK_MAIN(). The
 * runner prints Check's summary line, which scripts/run-tests.sh adds up.
 */
#ifndef BGGATE_TEST_CHECK_MAIN_H
#define BGGATE_TEST_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

/* Defined by each test file. */
Suite *make_suite(void);

#define BG_CHECK_MAIN()                                                                    \
    int main(void)                                                                         \
    {                                                                                      \
        SRunner *sr = srunner_create(make_suite());                                        \
        srunner_run_all(sr, CK_NORMAL);                                                    \
        int failed = srunner_ntests_failed(sr);                                            \
        srunner_free(sr);                                                                  \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                  \
    }

#endif
