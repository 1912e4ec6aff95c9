/* test_stats.c — percentiles (numpy "linear"), Wilson intervals and the minimum sample
 * counts the gate relies on to call a percentile conclusive. */
#include <math.h>

#include "../support/check_main.h"
#include "bggate/error.h"
#include "bggate/stats.h"

static void add_all(bg_samples *s, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(bg_samples_add(s, v[i]), 0);
}

START_TEST(quantile_matches_numpy_linear_on_1_to_10)
{
    bg_samples s;
    bg_samples_init(&s);
    for (int i = 1; i <= 10; i++)
        ck_assert_int_eq(bg_samples_add(&s, i), 0);
    /* numpy.percentile(range(1, 11), [0, 50, 90, 95, 99, 100]) */
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.0), 1.0, 1e-12);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.5), 5.5, 1e-12);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.9), 9.1, 1e-12);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.95), 9.55, 1e-12);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.99), 9.91, 1e-12);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 1.0), 10.0, 1e-12);
    bg_samples_dispose(&s);
}
END_TEST

START_TEST(quantile_interpolates_between_uneven_samples)
{
    bg_samples s;
    bg_samples_init(&s);
    const double v[] = {15, 20, 35, 40, 50};
    add_all(&s, v, 5);
    /* numpy.percentile([15, 20, 35, 40, 50], [40, 75]) == [29, 40] */
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.40), 29.0, 1e-12);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.75), 40.0, 1e-12);
    bg_samples_dispose(&s);
}
END_TEST

START_TEST(quantile_of_single_sample_is_that_sample)
{
    bg_samples s;
    bg_samples_init(&s);
    ck_assert_int_eq(bg_samples_add(&s, 42.5), 0);
    ck_assert_double_eq(bg_samples_quantile(&s, 0.0), 42.5);
    ck_assert_double_eq(bg_samples_quantile(&s, 0.5), 42.5);
    ck_assert_double_eq(bg_samples_quantile(&s, 0.99), 42.5);
    ck_assert_double_eq(bg_samples_max(&s), 42.5);
    ck_assert_double_eq(bg_samples_mean(&s), 42.5);
    bg_samples_dispose(&s);
}
END_TEST

START_TEST(quantile_sorts_unsorted_input_and_resorts_after_add)
{
    bg_samples s;
    bg_samples_init(&s);
    const double v[] = {9, 3, 7, 1, 5};
    add_all(&s, v, 5);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.5), 5.0, 1e-12);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.25), 3.0, 1e-12);
    ck_assert_double_eq(bg_samples_max(&s), 9.0);
    /* A sample added after the first (sorting) use still counts in the right place. */
    ck_assert_int_eq(bg_samples_add(&s, 0), 0);
    ck_assert_double_eq(bg_samples_quantile(&s, 0.0), 0.0);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.5), 4.0, 1e-12);
    bg_samples_dispose(&s);
}
END_TEST

START_TEST(add_ignores_nan_and_infinities)
{
    bg_samples s;
    bg_samples_init(&s);
    ck_assert_int_eq(bg_samples_add(&s, NAN), 0);
    ck_assert_int_eq(bg_samples_add(&s, INFINITY), 0);
    ck_assert_int_eq(bg_samples_add(&s, -INFINITY), 0);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(bg_samples_add(&s, 2), 0);
    ck_assert_int_eq(bg_samples_add(&s, NAN), 0);
    ck_assert_int_eq(bg_samples_add(&s, 4), 0);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.5), 3.0, 1e-12);
    ck_assert_double_eq_tol(bg_samples_mean(&s), 3.0, 1e-12);
    bg_samples_dispose(&s);
}
END_TEST

START_TEST(empty_samples_give_nan)
{
    bg_samples s;
    bg_samples_init(&s);
    ck_assert(isnan(bg_samples_quantile(&s, 0.5)));
    ck_assert(isnan(bg_samples_mean(&s)));
    ck_assert(isnan(bg_samples_max(&s)));
    bg_summary sum;
    bg_samples_summarize(&s, &sum);
    ck_assert_uint_eq(sum.n, 0);
    ck_assert(isnan(sum.p50) && isnan(sum.p99) && isnan(sum.max) && isnan(sum.mean));
    bg_samples_dispose(&s);
    bg_samples_dispose(&s); /* dispose twice is harmless */
}
END_TEST

START_TEST(samples_grow_past_initial_capacity)
{
    bg_samples s;
    bg_samples_init(&s);
    for (int i = 1000; i >= 1; i--) /* descending: forces a sort */
        ck_assert_int_eq(bg_samples_add(&s, i), 0);
    ck_assert_uint_eq(s.n, 1000);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.5), 500.5, 1e-9);
    ck_assert_double_eq_tol(bg_samples_quantile(&s, 0.99), 990.01, 1e-9);
    ck_assert_double_eq(bg_samples_max(&s), 1000);
    bg_samples_dispose(&s);
}
END_TEST

START_TEST(summarize_reports_all_percentiles)
{
    bg_samples s;
    bg_samples_init(&s);
    for (int i = 10; i >= 1; i--)
        ck_assert_int_eq(bg_samples_add(&s, i), 0);
    bg_summary sum;
    bg_samples_summarize(&s, &sum);
    ck_assert_uint_eq(sum.n, 10);
    ck_assert_double_eq_tol(sum.mean, 5.5, 1e-12);
    ck_assert_double_eq_tol(sum.p50, 5.5, 1e-12);
    ck_assert_double_eq_tol(sum.p90, 9.1, 1e-12);
    ck_assert_double_eq_tol(sum.p95, 9.55, 1e-12);
    ck_assert_double_eq_tol(sum.p99, 9.91, 1e-12);
    ck_assert_double_eq(sum.max, 10);
    bg_samples_dispose(&s);
}
END_TEST

START_TEST(min_for_quantile_is_ceil_of_inverse_tail)
{
    ck_assert_uint_eq(bg_samples_min_for_quantile(0.5), 2);
    ck_assert_uint_eq(bg_samples_min_for_quantile(0.9), 10);
    ck_assert_uint_eq(bg_samples_min_for_quantile(0.95), 20);
    ck_assert_uint_eq(bg_samples_min_for_quantile(0.99), 100);
    ck_assert_uint_eq(bg_samples_min_for_quantile(0.999), 1000);
    ck_assert_uint_eq(bg_samples_min_for_quantile(0.75), 4);
    ck_assert_uint_eq(bg_samples_min_for_quantile(0.8), 5);
    ck_assert_uint_eq(bg_samples_min_for_quantile(1.0), 1);
    ck_assert_uint_eq(bg_samples_min_for_quantile(0.0), 1);
}
END_TEST

START_TEST(wilson_matches_known_values)
{
    double lo, hi;
    bg_wilson(&lo, &hi, 8, 10, 1.96);
    ck_assert_double_eq_tol(lo, 0.4902, 1e-3);
    ck_assert_double_eq_tol(hi, 0.9433, 1e-3);
    bg_wilson(&lo, &hi, 0, 10, 1.96);
    ck_assert_double_eq_tol(lo, 0.0, 1e-9);
    ck_assert_double_eq_tol(hi, 0.2775, 1e-3);
    bg_wilson(&lo, &hi, 10, 10, 1.96);
    ck_assert_double_eq_tol(lo, 0.7225, 1e-3);
    ck_assert_double_eq_tol(hi, 1.0, 1e-9);
    bg_wilson(&lo, &hi, 95, 100, 1.96);
    ck_assert_double_eq_tol(lo, 0.8882, 1e-3);
    ck_assert_double_eq_tol(hi, 0.9785, 1e-3);
}
END_TEST

START_TEST(wilson_with_no_runs_is_the_whole_range)
{
    double lo = -1, hi = -1;
    bg_wilson(&lo, &hi, 0, 0, 1.96);
    ck_assert_double_eq(lo, 0.0);
    ck_assert_double_eq(hi, 1.0);
}
END_TEST

START_TEST(wilson_stays_within_zero_and_one)
{
    for (int n = 1; n <= 50; n++) {
        for (int k = 0; k <= n; k++) {
            double lo, hi;
            bg_wilson(&lo, &hi, k, n, 1.96);
            ck_assert(lo >= 0 && lo <= (double)k / n + 1e-12);
            ck_assert(hi <= 1 && hi >= (double)k / n - 1e-12);
        }
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, quantile_matches_numpy_linear_on_1_to_10);
    tcase_add_test(tc, quantile_interpolates_between_uneven_samples);
    tcase_add_test(tc, quantile_of_single_sample_is_that_sample);
    tcase_add_test(tc, quantile_sorts_unsorted_input_and_resorts_after_add);
    tcase_add_test(tc, add_ignores_nan_and_infinities);
    tcase_add_test(tc, empty_samples_give_nan);
    tcase_add_test(tc, samples_grow_past_initial_capacity);
    tcase_add_test(tc, summarize_reports_all_percentiles);
    tcase_add_test(tc, min_for_quantile_is_ceil_of_inverse_tail);
    tcase_add_test(tc, wilson_matches_known_values);
    tcase_add_test(tc, wilson_with_no_runs_is_the_whole_range);
    tcase_add_test(tc, wilson_stays_within_zero_and_one);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
