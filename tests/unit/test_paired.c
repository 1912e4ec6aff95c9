/* test_paired.c — the baseline judge: the Mann–Whitney U test against reference values,
 * the latency decision (significant AND large), the comparison of hand-built candidate
 * and baseline runs, the baseline thresholds in the gate, gate.baseline in the config and
 * the baseline sections of the reports.
 *
 * Reference values: scipy is not available, so they come from this python3 script, which
 * does what scipy.stats.mannwhitneyu(x, y, method="auto") does — exact (by enumerating
 * every split of the pooled ranks) without ties when min(n1, n2) <= 8, else the normal
 * approximation with tie and continuity corrections. It reproduces the example of
 * scipy's documentation (U 17, exact two-sided p 0.1111111111111111, asymptotic
 * 0.11134688653314041), which is the first test below.
 *
 *   from itertools import combinations
 *   from math import erfc, sqrt
 *   def ranks(v):
 *       s = sorted(range(len(v)), key=lambda i: v[i]); r = [0.0]*len(v); i = 0; T = 0
 *       while i < len(s):
 *           j = i
 *           while j + 1 < len(s) and v[s[j+1]] == v[s[i]]: j += 1
 *           for k in range(i, j+1): r[s[k]] = (i + j + 2) / 2
 *           t = j - i + 1; T += t**3 - t; i = j + 1
 *       return r, T
 *   def mwu(x, y, exact=None):
 *       n1, n2 = len(x), len(y); r, T = ranks(x + y)
 *       u1 = sum(r[:n1]) - n1*(n1+1)/2; u2 = n1*n2 - u1
 *       if exact is None: exact = T == 0 and min(n1, n2) <= 8
 *       if exact:
 *           us = [sum(c) - n1*(n1+1)/2 for c in combinations(range(1, n1+n2+1), n1)]
 *           N = len(us); um = max(u1, u2)
 *           return u1, sum(u >= u1 for u in us)/N, min(1, 2*sum(u >= um for u in us)/N)
 *       n = n1 + n2; sd = sqrt(n1*n2/12*((n+1) - T/(n*(n-1))))
 *       sf = lambda z: 0.5*erfc(z/sqrt(2))
 *       return (u1, sf((u1 - n1*n2/2 - 0.5)/sd),
 *               min(1, 2*sf((max(u1, u2) - n1*n2/2 - 0.5)/sd)))
 *   # → (u1, p_greater, p_two_sided)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/config.h"
#include "bggate/gate.h"
#include "bggate/paired.h"
#include "bggate/report.h"
#include "bggate/suite.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static bg_mwu run_mwu(const double *x, size_t nx, const double *y, size_t ny)
{
    bg_mwu t;
    ck_assert_int_eq(bg_mwu_test(&t, x, nx, y, ny), 0);
    return t;
}

static void assert_close(double got, double want, double rel)
{
    ck_assert_msg(fabs(got - want) <= rel * fabs(want) + 1e-15, "got %.17g, want %.17g", got,
                  want);
}

/* --- Mann–Whitney U --- */

START_TEST(mwu_matches_the_scipy_documentation_example)
{
    /* scipy.stats.mannwhitneyu docs: males vs females → U 17, p 0.1111111111111111 (exact);
     * mwu(...) above: p_greater 0.05555555555555555 */
    const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    bg_mwu t = run_mwu(males, 5, females, 4);
    ck_assert(t.exact);
    ck_assert(!t.ties);
    assert_close(t.u1, 17, 0);
    assert_close(t.p_two_sided, 0.1111111111111111, 1e-12);
    assert_close(t.p_greater, 0.05555555555555555, 1e-12);
}
END_TEST

START_TEST(mwu_exact_small_samples_match_enumeration)
{
    /* mwu([5,7,9,11,13], [1,2,3,4,6]) → (24, 0.0079365079365079361, 0.015873015873015872) */
    const double a[] = {5, 7, 9, 11, 13}, b[] = {1, 2, 3, 4, 6};
    bg_mwu t = run_mwu(a, 5, b, 5);
    ck_assert(t.exact);
    assert_close(t.u1, 24, 0);
    assert_close(t.p_greater, 0.0079365079365079361, 1e-12);
    assert_close(t.p_two_sided, 0.015873015873015872, 1e-12);
    /* the other direction: mwu(b, a) → (1, 0.996031746031746, 0.015873015873015872) */
    t = run_mwu(b, 5, a, 5);
    assert_close(t.u1, 1, 0);
    assert_close(t.p_greater, 0.996031746031746, 1e-12);
    assert_close(t.p_two_sided, 0.015873015873015872, 1e-12);
    /* unequal sizes: mwu([3.1,4.2,1.5], [2.0,0.5,0.7,1.1]) → (11, 0.057142857142857141,
     * 0.11428571428571428) */
    const double c[] = {3.1, 4.2, 1.5}, d[] = {2.0, 0.5, 0.7, 1.1};
    t = run_mwu(c, 3, d, 4);
    ck_assert(t.exact);
    assert_close(t.u1, 11, 0);
    assert_close(t.p_greater, 0.057142857142857141, 1e-12);
    assert_close(t.p_two_sided, 0.11428571428571428, 1e-12);
    /* 8 against 10, the largest exact shape of the rule: → (56, 0.086407056995292289,
     * 0.17281411399058458) */
    const double e[] = {12, 15, 17, 20, 22, 25, 30, 31};
    const double f[] = {10, 11, 13, 14, 16, 18, 19, 21, 23, 24};
    t = run_mwu(e, N_OF(e), f, N_OF(f));
    ck_assert(t.exact);
    assert_close(t.u1, 56, 0);
    assert_close(t.p_greater, 0.086407056995292289, 1e-12);
    assert_close(t.p_two_sided, 0.17281411399058458, 1e-12);
}
END_TEST

START_TEST(mwu_ties_use_the_corrected_normal_approximation)
{
    /* mwu([1,2,2,3,3,3,4,5], [1,1,2,2,2,3,3]) → (40, 0.082805056726719617,
     * 0.16561011345343923): ties force the normal approximation even at n 8/7 */
    const double x[] = {1, 2, 2, 3, 3, 3, 4, 5}, y[] = {1, 1, 2, 2, 2, 3, 3};
    bg_mwu t = run_mwu(x, N_OF(x), y, N_OF(y));
    ck_assert(!t.exact);
    ck_assert(t.ties);
    assert_close(t.u1, 40, 0);
    assert_close(t.p_greater, 0.082805056726719617, 1e-9);
    assert_close(t.p_two_sided, 0.16561011345343923, 1e-9);
    /* 30 vs 30 with ties between the samples:
     * x = [(i*37)%50 for i in range(30)], y = [(i*41)%47+4 for i in range(30)]
     * → (389.5, 0.81648830469329681, 0.37493080607776041) */
    double big_x[30], big_y[30];
    for (int i = 0; i < 30; i++) {
        big_x[i] = (i * 37) % 50;
        big_y[i] = (i * 41) % 47 + 4;
    }
    t = run_mwu(big_x, 30, big_y, 30);
    ck_assert(!t.exact);
    assert_close(t.u1, 389.5, 0);
    assert_close(t.p_greater, 0.81648830469329681, 1e-9);
    assert_close(t.p_two_sided, 0.37493080607776041, 1e-9);
}
END_TEST

START_TEST(mwu_all_tied_is_no_evidence_and_empty_is_an_error)
{
    const double x[] = {3, 3, 3, 3, 3}, y[] = {3, 3, 3, 3, 3, 3};
    bg_mwu t = run_mwu(x, 5, y, 6);
    ck_assert(t.ties);
    ck_assert_double_eq(t.p_greater, 1.0);
    ck_assert_double_eq(t.p_two_sided, 1.0);
    ck_assert_int_eq(bg_mwu_test(&t, x, 0, y, 6), BG_EINVAL);
    ck_assert_int_eq(bg_mwu_test(&t, x, 5, y, 0), BG_EINVAL);
    ck_assert(isnan(t.p_greater));
}
END_TEST

START_TEST(mwu_single_values_and_tiny_samples)
{
    /* 1 vs 1: U is 0 or 1, each with probability 1/2 */
    const double hi[] = {2}, lo[] = {1};
    bg_mwu t = run_mwu(hi, 1, lo, 1);
    ck_assert(t.exact);
    assert_close(t.u1, 1, 0);
    assert_close(t.p_greater, 0.5, 1e-12);
    assert_close(t.p_two_sided, 1.0, 1e-12);
    /* the smallest p a size can reach: 1/C(8,4) = 1/70, 1/C(10,5) = 1/252; beyond the
     * exact rule the approximation at U = n1·n2: (9,9) 0.00020614740103084555,
     * (20,20) 3.397807564086694e-08 */
    assert_close(bg_mwu_min_p(4, 4), 1.0 / 70, 1e-12);
    assert_close(bg_mwu_min_p(5, 5), 1.0 / 252, 1e-12);
    assert_close(bg_mwu_min_p(3, 30), 0.00018328445747800586, 1e-12);
    assert_close(bg_mwu_min_p(9, 9), 0.00020614740103084555, 1e-9);
    assert_close(bg_mwu_min_p(20, 20), 3.397807564086694e-08, 1e-9);
    ck_assert_double_eq(bg_mwu_min_p(0, 5), 1.0);
}
END_TEST

/* --- the latency decision --- */

static bg_latency_cmp latency(double med_c, double med_b, double p, size_t n)
{
    bg_latency_cmp c;
    memset(&c, 0, sizeof c);
    c.n_candidate = c.n_baseline = n;
    c.median_candidate = med_c;
    c.median_baseline = med_b;
    c.ratio = med_c / med_b;
    c.tested = true;
    c.test.p_greater = p;
    return c;
}

START_TEST(latency_fails_only_when_significant_and_large)
{
    bg_latency_cmp c = latency(130, 100, 1e-6, 40);
    ck_assert_int_eq(bg_paired_latency_status(&c, 0.01, 1.2), BG_TH_FAIL);
    c = latency(110, 100, 1e-6, 40); /* significant, but within the limit */
    ck_assert_int_eq(bg_paired_latency_status(&c, 0.01, 1.2), BG_TH_PASS);
    c = latency(130, 100, 0.2, 40); /* large-looking, but noise explains it */
    ck_assert_int_eq(bg_paired_latency_status(&c, 0.01, 1.2), BG_TH_PASS);
    c = latency(120, 100, 1e-6, 40); /* exactly at the limit passes */
    ck_assert_int_eq(bg_paired_latency_status(&c, 0.01, 1.2), BG_TH_PASS);
    c = latency(130, 100, 1e-6, 4); /* 4 vs 4 can never reach p <= 0.01 */
    ck_assert_int_eq(bg_paired_latency_status(&c, 0.01, 1.2), BG_TH_INCONCLUSIVE);
    c = latency(130, 100, 0.004, 5); /* 5 vs 5 can, at alpha 0.01 */
    ck_assert_int_eq(bg_paired_latency_status(&c, 0.01, 1.2), BG_TH_FAIL);
    ck_assert_int_eq(bg_paired_latency_status(&c, 0.001, 1.2), BG_TH_INCONCLUSIVE);
    c.tested = false;
    ck_assert_int_eq(bg_paired_latency_status(&c, 0.01, 1.2), BG_TH_INCONCLUSIVE);
}
END_TEST

/* --- hand-built runs --- */

/* A run over one suite of n cases "c0".."c{n-1}", with an empty baseline. */
static bg_run *make_paired_run(int n)
{
    static char text[16 * 1024];
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf(text + len, sizeof text - len, "{\"id\": \"c%d\", \"prompt\": \"q\"}\n", i);
        ck_assert(w > 0 && (size_t)w < sizeof text - len);
        len += (size_t)w;
    }
    bg_error err = {0};
    bg_suite **suites = calloc(1, sizeof *suites);
    ck_assert_ptr_nonnull(suites);
    ck_assert_msg(bg_suite_parse(&suites[0], "evals/golden.jsonl", text, len, &err) == 0, "%s",
                  err.msg);
    bg_run *run = NULL;
    ck_assert_int_eq(bg_run_new(&run, suites, 1, &err), 0);
    ck_assert_int_eq(bg_run_new_baseline(run, &err), 0);
    run->stream = true;
    ck_assert_ptr_nonnull(run->baseline);
    ck_assert_ptr_eq(run->baseline->suites[0], run->suites[0]);
    return run;
}

/* One streamed request of case c on a run: its record and its case result. */
static void add(bg_run *run, uint32_t c, bool passed, double e2e_ms)
{
    bg_request_record r;
    memset(&r, 0, sizeof r);
    r.kase = c;
    r.passed = passed;
    r.model = -1;
    r.output_tokens = -1;
    r.e2e_ms = e2e_ms;
    r.ttft_ms = e2e_ms / 2;
    r.tpot_ms = -1;
    r.http_status = 200;
    ck_assert_int_eq(bg_run_add_request(run, &r), 0);
    run->cases[0][c].runs++;
    run->cases[0][c].passed += passed;
    if (!passed && !run->cases[0][c].failure)
        run->cases[0][c].failure = strdup("contains: expected to contain 'Paris'");
}

static void finish_both(bg_run *run)
{
    bg_error err = {0};
    ck_assert_msg(bg_run_finish(run, &err) == 0, "%s", err.msg);
    ck_assert_msg(bg_run_finish(run->baseline, &err) == 0, "%s", err.msg);
}

/* 20 cases: the baseline fails c19; the candidate fails c18 and c19 (one more per 20),
 * with latencies `slow` times the baseline's (each case 100 + 3·i ms on the baseline). */
static bg_run *scenario(double slow, bool worse)
{
    bg_run *run = make_paired_run(20);
    for (uint32_t i = 0; i < 20; i++) {
        add(run->baseline, i, i != 19, 100 + 3 * i);
        add(run, i, i != 19 && !(worse && i == 18), (100 + 3 * i) * slow);
    }
    finish_both(run);
    return run;
}

static const bg_threshold_result *find_th(const bg_run *run, const char *name)
{
    for (size_t i = 0; i < run->n_thresholds; i++)
        if (strcmp(run->thresholds[i].th.name, name) == 0)
            return &run->thresholds[i];
    return NULL;
}

static bg_threshold th(const char *name, double limit)
{
    bg_threshold t;
    bg_error err = {0};
    ck_assert_msg(bg_threshold_parse(&t, name, limit, &err) == 0, "%s", err.msg);
    return t;
}

START_TEST(compare_lists_regressions_and_the_drop)
{
    bg_run *run = scenario(1.0, true);
    /* one improvement too: c5 fails on the baseline only */
    run->baseline->cases[0][5].passed = 0;
    bg_paired *p = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_paired_compare(&p, run, 0, &err), 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_double_eq(p->alpha, BG_PAIRED_DEFAULT_ALPHA);
    ck_assert_uint_eq(p->n_compared, 20);
    ck_assert_uint_eq(p->n_regressions, 1);
    ck_assert_uint_eq(p->regressions[0].kase, 18);
    ck_assert_uint_eq(p->n_improvements, 1);
    assert_close(p->pass_rate_baseline, 0.95, 1e-12);
    assert_close(p->pass_rate_candidate, 0.90, 1e-12);
    assert_close(p->drop, 0.05, 1e-9);
    ck_assert_uint_eq(p->e2e.n_candidate, 20);
    assert_close(p->e2e.ratio, 1.0, 1e-12);
    ck_assert(p->e2e.tested && p->ttft.tested);
    bg_paired_free(p);
    bg_run_free(run);
    /* no baseline: nothing to compare */
    bg_run *solo = make_paired_run(2);
    bg_run_free(solo->baseline);
    solo->baseline = NULL;
    ck_assert_int_eq(bg_paired_compare(&p, solo, 0.05, &err), 0);
    ck_assert_ptr_null(p);
    bg_run_free(solo);
}
END_TEST

START_TEST(gate_fails_a_pass_rate_drop_above_the_limit)
{
    bg_run *run = scenario(1.0, true);
    bg_error err = {0};
    bg_threshold ths[] = {th("pass_rate", 0.8), th("max_pass_rate_drop", 0.04)};
    ck_assert_int_eq(bg_gate_evaluate(run, ths, 2, &err), 0);
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    const bg_threshold_result *r = find_th(run, "max_pass_rate_drop");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->status, BG_TH_FAIL);
    ck_assert_str_eq(r->text, "max_pass_rate_drop \xE2\x89\xA4 0.04: measured 0.05 (baseline "
                              "0.950, candidate 0.900; 1 regressed case)");
    ck_assert_int_eq(find_th(run, "pass_rate")->status, BG_TH_PASS); /* 0.90 alone passes */
    ck_assert_ptr_nonnull(strstr(run->verdict_reason, "max_pass_rate_drop"));
    /* the same drop passes the implicit limit 0.05 (equal is not above) */
    bg_threshold loose[] = {th("pass_rate", 0.8)};
    ck_assert_int_eq(bg_gate_evaluate(run, loose, 1, &err), 0);
    ck_assert_int_eq(find_th(run, "max_pass_rate_drop")->status, BG_TH_PASS);
    ck_assert_double_eq(find_th(run, "max_pass_rate_drop")->th.limit, 0.05);
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    bg_run_free(run);
}
END_TEST

START_TEST(gate_fails_a_significant_slowdown_and_passes_equal_latency)
{
    bg_run *run = scenario(1.3, false);
    bg_error err = {0};
    ck_assert_int_eq(bg_gate_evaluate(run, NULL, 0, &err), 0);
    const bg_threshold_result *r = find_th(run, "max_latency_ratio");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->status, BG_TH_FAIL);
    assert_close(r->measured, 1.3, 1e-9);
    ck_assert_msg(strstr(r->text, "measured 1.30 (median 167 vs baseline 128 ms; p ") != NULL,
                  "%s", r->text);
    ck_assert_int_eq(find_th(run, "max_ttft_ratio")->status, BG_TH_FAIL);
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    bg_run_free(run);

    run = scenario(1.0, false);
    ck_assert_int_eq(bg_gate_evaluate(run, NULL, 0, &err), 0);
    ck_assert_int_eq(find_th(run, "max_latency_ratio")->status, BG_TH_PASS);
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED); /* the implicit pass_rate >= 1: c19 */
    bg_threshold ths[] = {th("pass_rate", 0.9), th("max_latency_ratio", 1.5)};
    ck_assert_int_eq(bg_gate_evaluate(run, ths, 2, &err), 0);
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    ck_assert_double_eq(find_th(run, "max_latency_ratio")->th.limit, 1.5);
    bg_run_free(run);
}
END_TEST

START_TEST(gate_latency_is_inconclusive_with_few_samples)
{
    bg_run *run = make_paired_run(4);
    for (uint32_t i = 0; i < 4; i++) {
        add(run->baseline, i, true, 100);
        add(run, i, true, 300);
    }
    finish_both(run);
    bg_error err = {0};
    ck_assert_int_eq(bg_gate_evaluate(run, NULL, 0, &err), 0);
    const bg_threshold_result *r = find_th(run, "max_latency_ratio");
    ck_assert_int_eq(r->status, BG_TH_INCONCLUSIVE);
    ck_assert_str_eq(r->text, "max_latency_ratio \xE2\x89\xA4 1.2: inconclusive (4 candidate and "
                              "4 baseline samples cannot show p \xE2\x89\xA4 0.01; need more)");
    ck_assert_int_eq(run->verdict, BG_VERDICT_FAILED);
    bg_run_free(run);
}
END_TEST

START_TEST(baseline_thresholds_apply_only_when_a_baseline_ran)
{
    bg_run *run = scenario(1.0, false);
    bg_run_free(run->baseline);
    run->baseline = NULL;
    bg_error err = {0};
    bg_threshold ths[] = {th("pass_rate", 0.9), th("max_pass_rate_drop", 0.01)};
    ck_assert_int_eq(bg_gate_evaluate(run, ths, 2, &err), 0);
    ck_assert_ptr_null(run->paired);
    ck_assert_uint_eq(run->n_thresholds, 1);
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    bg_run_free(run);
}
END_TEST

START_TEST(ttft_ratio_is_implicit_only_when_measured)
{
    bg_run *run = make_paired_run(10);
    for (uint32_t i = 0; i < 10; i++) {
        add(run->baseline, i, true, 100 + i);
        add(run, i, true, 100 + i);
    }
    for (size_t i = 0; i < run->n_reqs; i++)
        run->reqs[i].ttft_ms = -1;
    for (size_t i = 0; i < run->baseline->n_reqs; i++)
        run->baseline->reqs[i].ttft_ms = -1;
    finish_both(run);
    bg_error err = {0};
    ck_assert_int_eq(bg_gate_evaluate(run, NULL, 0, &err), 0);
    ck_assert_ptr_null(find_th(run, "max_ttft_ratio"));
    ck_assert_ptr_nonnull(find_th(run, "max_latency_ratio"));
    ck_assert_int_eq(run->verdict, BG_VERDICT_PASSED);
    /* a --no-stream run where a few cases stream on their own: not judged implicitly */
    bg_run *few = scenario(1.0, false);
    few->stream = false;
    bg_threshold pr[] = {th("pass_rate", 0.9)};
    ck_assert_int_eq(bg_gate_evaluate(few, pr, 1, &err), 0);
    ck_assert_ptr_null(find_th(few, "max_ttft_ratio"));
    ck_assert_ptr_nonnull(find_th(few, "max_latency_ratio"));
    bg_run_free(few);
    /* configured anyway: inconclusive, as ttft_p95_ms is without streaming */
    bg_threshold ths[] = {th("max_ttft_ratio", 1.2)};
    ck_assert_int_eq(bg_gate_evaluate(run, ths, 1, &err), 0);
    ck_assert_str_eq(find_th(run, "max_ttft_ratio")->text,
                     "max_ttft_ratio \xE2\x89\xA4 1.2: inconclusive (not measured: enable --stream)");
    bg_run_free(run);
}
END_TEST

START_TEST(baseline_threshold_limits_are_checked)
{
    bg_threshold t;
    bg_error err = {0};
    ck_assert_int_eq(bg_threshold_parse(&t, "max_latency_ratio", 0.8, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "max_latency_ratio: must be 1 or more (candidate median / baseline "
                              "median), got 0.8");
    ck_assert_int_eq(bg_threshold_parse(&t, "max_pass_rate_drop", 1.5, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "max_pass_rate_drop: must be between 0 and 1, got 1.5");
    ck_assert_int_eq(bg_threshold_parse_arg(&t, "max_ttft_ratio=1.25", &err), 0);
    ck_assert(!t.is_min);
    ck_assert_double_eq(t.limit, 1.25);
}
END_TEST

/* --- config --- */

static bg_config *parse_cfg(const char *text, bg_error *err)
{
    bg_config *cfg = NULL;
    if (bg_config_parse(&cfg, "bg-gate.json", text, strlen(text), err) != 0)
        return NULL;
    return cfg;
}

START_TEST(config_reads_gate_baseline)
{
    bg_error err = {0};
    bg_config *cfg = parse_cfg("{\"gate\": {\"baseline\": \"live\", \"baseline_alpha\": 0.05}}", &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    ck_assert(cfg->gate.baseline_live);
    ck_assert_uint_eq(cfg->gate.n_baseline, 0);
    ck_assert_double_eq(cfg->gate.baseline_alpha, 0.05);
    bg_config_free(cfg);
    cfg = parse_cfg("{\"gate\": {\"baseline\": [\"http://a:8000/v1\", \"http://b:8000/v1\"],"
                    " \"thresholds\": {\"max_latency_ratio\": 1.3}}}",
                    &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    ck_assert(!cfg->gate.baseline_live);
    ck_assert_uint_eq(cfg->gate.n_baseline, 2);
    ck_assert_str_eq(cfg->gate.baseline[1], "http://b:8000/v1");
    ck_assert_double_eq(cfg->gate.baseline_alpha, 0);
    bg_config_free(cfg);
    cfg = parse_cfg("{\"gate\": {}}", &err);
    ck_assert(!cfg->gate.baseline_live && cfg->gate.n_baseline == 0);
    bg_config_free(cfg);
}
END_TEST

static void expect_cfg_error(const char *text, const char *msg)
{
    bg_error err = {0};
    bg_config *cfg = parse_cfg(text, &err);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(config_rejects_a_bad_gate_baseline)
{
    expect_cfg_error("{\"gate\": {\"baseline\": \"lvie\"}}",
                     "bg-gate.json: gate.baseline (\"live\" or a URL): \"lvie\" is not an http:// "
                     "or https:// URL");
    expect_cfg_error("{\"gate\": {\"baseline\": 1}}",
                     "bg-gate.json: gate.baseline: expected \"live\", a URL or an array of URLs, "
                     "got a number");
    expect_cfg_error("{\"gate\": {\"baseline\": [\"http://a/v1\", \"ftp://b\"]}}",
                     "bg-gate.json: gate.baseline[1]: \"ftp://b\" is not an http:// or https:// URL");
    expect_cfg_error("{\"gate\": {\"baseline\": []}}",
                     "bg-gate.json: gate.baseline: empty array (leave it out for no baseline)");
    bg_error err = {0};
    ck_assert_ptr_null(parse_cfg("{\"gate\": {\"baseline_alpha\": 0.7}}", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "gate.baseline_alpha"));
}
END_TEST

/* --- reports --- */

START_TEST(reports_have_a_baseline_section)
{
    bg_run *run = scenario(1.0, true);
    bg_error err = {0};
    bg_threshold ths[] = {th("pass_rate", 0.8)};
    ck_assert_int_eq(bg_gate_evaluate(run, ths, 1, &err), 0);
    bg_buf b;
    bg_buf_init(&b, 0);
    ck_assert_int_eq(bg_report_render_junit(&b, run), 0);
    const char *xml = bg_buf_cstr(&b);
    const char *suite = strstr(xml, "<testsuite name=\"baseline\" tests=\"2\" failures=\"1\"");
    ck_assert_msg(suite != NULL, "%s", xml);
    const char *reg = strstr(suite, "<testcase classname=\"baseline\" name=\"c18\"");
    ck_assert_ptr_nonnull(reg);
    ck_assert_ptr_nonnull(strstr(reg, "type=\"regression\""));
    ck_assert_ptr_nonnull(strstr(reg, "passed on the baseline, failed on the candidate: contains"));
    ck_assert_ptr_null(strstr(suite, "name=\"c19\"")); /* failed on both: not a regression */
    bg_buf_reset(&b);
    ck_assert_int_eq(bg_report_render_markdown(&b, run), 0);
    ck_assert_ptr_nonnull(strstr(bg_buf_cstr(&b), "### Baseline comparison"));
    ck_assert_ptr_nonnull(strstr(bg_buf_cstr(&b), "| pass rate | 95.0 % | 90.0 % | -5.0 points |"));
    ck_assert_ptr_nonnull(strstr(bg_buf_cstr(&b), "| c18 | golden:19 |"));
    bg_buf_reset(&b);
    ck_assert_int_eq(bg_report_render_json(&b, run), 0);
    cJSON *j = cJSON_Parse(bg_buf_cstr(&b));
    ck_assert_ptr_nonnull(j);
    const cJSON *q = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "baseline"), "quality");
    ck_assert_double_eq(cJSON_GetObjectItem(q, "pass_rate_baseline")->valuedouble, 0.95);
    const cJSON *reg0 = cJSON_GetArrayItem(cJSON_GetObjectItem(q, "regressions"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(reg0, "id")->valuestring, "c18");
    const cJSON *mw = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "baseline"), "latency"),
                            "e2e"),
        "mann_whitney");
    ck_assert_str_eq(cJSON_GetObjectItem(mw, "method")->valuestring, "normal");
    cJSON_Delete(j);
    bg_buf_dispose(&b);
    bg_run_free(run);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("paired");
    TCase *tc = tcase_create("paired");
    tcase_add_test(tc, mwu_matches_the_scipy_documentation_example);
    tcase_add_test(tc, mwu_exact_small_samples_match_enumeration);
    tcase_add_test(tc, mwu_ties_use_the_corrected_normal_approximation);
    tcase_add_test(tc, mwu_all_tied_is_no_evidence_and_empty_is_an_error);
    tcase_add_test(tc, mwu_single_values_and_tiny_samples);
    tcase_add_test(tc, latency_fails_only_when_significant_and_large);
    tcase_add_test(tc, compare_lists_regressions_and_the_drop);
    tcase_add_test(tc, gate_fails_a_pass_rate_drop_above_the_limit);
    tcase_add_test(tc, gate_fails_a_significant_slowdown_and_passes_equal_latency);
    tcase_add_test(tc, gate_latency_is_inconclusive_with_few_samples);
    tcase_add_test(tc, baseline_thresholds_apply_only_when_a_baseline_ran);
    tcase_add_test(tc, ttft_ratio_is_implicit_only_when_measured);
    tcase_add_test(tc, baseline_threshold_limits_are_checked);
    tcase_add_test(tc, config_reads_gate_baseline);
    tcase_add_test(tc, config_rejects_a_bad_gate_baseline);
    tcase_add_test(tc, reports_have_a_baseline_section);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
