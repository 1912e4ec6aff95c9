/* paired.c — the baseline judge's statistics: the Mann–Whitney U test (exact for small
 * samples without ties, else the normal approximation with tie and continuity
 * corrections), and the comparison of a candidate run with the baseline run made
 * alongside it: per-case regressions, the pass-rate drop, e2e and TTFT medians and tests.
 *
 * The formulas and their limits are documented in paired.h. This file only computes;
 * the thresholds' text and the verdict are gate.c's, the reports are src/report/'s.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/paired.h"

#define EXACT_MAX_SMALL 8          /* exact when the smaller sample is at most this... */
#define EXACT_MAX_PRODUCT 100000u  /* ...and n1·n2 (the support of U) is at most this */

/* --- Mann–Whitney U --- */

typedef struct ranked {
    double v;
    bool from_x;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return (x > y) - (x < y);
}

static double normal_sf(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

static bool exact_applies(size_t n1, size_t n2)
{
    size_t small = n1 < n2 ? n1 : n2, big = n1 < n2 ? n2 : n1;
    return small <= EXACT_MAX_SMALL && big <= EXACT_MAX_PRODUCT &&
           small * big <= EXACT_MAX_PRODUCT;
}

/* Counts of U = 0 .. m·n over the C(m+n, m) equally likely arrangements: the
 * coefficients of the Gaussian binomial [m+n choose m]_q, built as
 * Π_{i=1..m} (1 − q^(n+i)) / (1 − q^i); every partial product is a polynomial. */
static double *u_counts(size_t m, size_t n)
{
    double *c = calloc(m * n + m + 1, sizeof *c); /* room for the degree m·n + m step */
    if (!c)
        return NULL;
    c[0] = 1;
    size_t cur = 0; /* degree so far: (i-1)·n */
    for (size_t i = 1; i <= m; i++) {
        size_t shift = n + i, top = cur + shift, next = cur + n;
        for (size_t k = top; k >= shift; k--) /* × (1 − q^shift) */
            c[k] -= c[k - shift];
        for (size_t k = i; k <= top; k++)     /* ÷ (1 − q^i): Q[k] = P[k] + Q[k-i] */
            c[k] += c[k - i];
        for (size_t k = next + 1; k <= top; k++)
            c[k] = 0; /* exactly 0 in exact arithmetic; drop the rounding */
        cur = next;
    }
    return c;
}

/* Exact p-values for an integer u1. */
static int exact_p(bg_mwu *out)
{
    size_t m = out->n1 < out->n2 ? out->n1 : out->n2;
    size_t n = out->n1 < out->n2 ? out->n2 : out->n1;
    double *c = u_counts(m, n);
    if (!c)
        return BG_ENOMEM;
    size_t deg = m * n, u1 = (size_t)llround(out->u1);
    size_t umax = u1 > deg - u1 ? u1 : deg - u1;
    double total = 0, ge_u1 = 0, ge_umax = 0;
    for (size_t k = 0; k <= deg; k++) {
        total += c[k];
        ge_u1 += k >= u1 ? c[k] : 0;
        ge_umax += k >= umax ? c[k] : 0;
    }
    free(c);
    out->p_greater = fmin(1.0, ge_u1 / total);
    out->p_two_sided = fmin(1.0, 2.0 * ge_umax / total);
    out->z = NAN;
    out->exact = true;
    return 0;
}

/* Normal approximation with tie correction (tie_term = Σ t³ − t) and continuity. */
static void normal_p(bg_mwu *out, double tie_term)
{
    double n1 = (double)out->n1, n2 = (double)out->n2, n = n1 + n2;
    double mu = n1 * n2 / 2.0;
    double var = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    out->exact = false;
    if (!(var > 0)) { /* everything tied: no evidence either way */
        out->z = 0;
        out->p_greater = out->p_two_sided = 1.0;
        return;
    }
    double sd = sqrt(var), u2 = n1 * n2 - out->u1;
    out->z = (out->u1 - mu - 0.5) / sd;
    out->p_greater = fmin(1.0, normal_sf(out->z));
    double zmax = (fmax(out->u1, u2) - mu - 0.5) / sd;
    out->p_two_sided = fmin(1.0, 2.0 * normal_sf(zmax));
}

int bg_mwu_test(bg_mwu *out, const double *x, size_t nx, const double *y, size_t ny)
{
    memset(out, 0, sizeof *out);
    out->n1 = nx;
    out->n2 = ny;
    out->z = out->p_greater = out->p_two_sided = out->u1 = NAN;
    if (nx == 0 || ny == 0)
        return BG_EINVAL;
    size_t n = nx + ny;
    ranked *all = malloc(n * sizeof *all);
    if (!all)
        return BG_ENOMEM;
    for (size_t i = 0; i < nx; i++)
        all[i] = (ranked){x[i], true};
    for (size_t i = 0; i < ny; i++)
        all[nx + i] = (ranked){y[i], false};
    qsort(all, n, sizeof *all, cmp_ranked);
    double r1 = 0, tie_term = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && all[j].v == all[i].v)
            j++;
        double t = (double)(j - i), rank = (double)(i + 1 + j) / 2.0; /* average of i+1..j */
        for (size_t k = i; k < j; k++)
            r1 += all[k].from_x ? rank : 0;
        tie_term += t * t * t - t;
        i = j;
    }
    free(all);
    out->ties = tie_term > 0;
    out->u1 = r1 - (double)nx * ((double)nx + 1.0) / 2.0;
    if (!out->ties && exact_applies(nx, ny))
        return exact_p(out);
    normal_p(out, tie_term);
    return 0;
}

double bg_mwu_min_p(size_t n1, size_t n2)
{
    if (n1 == 0 || n2 == 0)
        return 1.0;
    if (exact_applies(n1, n2)) {
        double c = 1; /* C(n1+n2, small), exact for small <= 8 */
        size_t small = n1 < n2 ? n1 : n2, n = n1 + n2;
        for (size_t i = 1; i <= small; i++)
            c = c * (double)(n - small + i) / (double)i;
        return 1.0 / c;
    }
    bg_mwu t = {.n1 = n1, .n2 = n2, .u1 = (double)n1 * (double)n2};
    normal_p(&t, 0);
    return t.p_greater;
}

/* --- the comparison --- */

static double ratio_of(double cand, double base)
{
    if (isnan(cand) || isnan(base))
        return NAN;
    if (base > 0)
        return cand / base;
    return cand > 0 ? INFINITY : 1.0;
}

static int compare_latency(bg_latency_cmp *c, bg_samples *cand, bg_samples *base)
{
    memset(c, 0, sizeof *c);
    c->n_candidate = cand->n;
    c->n_baseline = base->n;
    c->median_candidate = bg_samples_quantile(cand, 0.5);
    c->median_baseline = bg_samples_quantile(base, 0.5);
    c->ratio = ratio_of(c->median_candidate, c->median_baseline);
    if (cand->n == 0 || base->n == 0)
        return 0;
    int rc = bg_mwu_test(&c->test, cand->v, cand->n, base->v, base->n);
    c->tested = rc == 0;
    return rc;
}

static bool case_all_passed(const bg_case_result *r)
{
    return r->runs > 0 && r->passed == r->runs;
}

/* Walks the cases of both runs: regressions, improvements, cases compared. */
static int compare_cases(bg_paired *p, const bg_run *run)
{
    size_t cap = 0;
    for (size_t s = 0; s < run->n_suites; s++) {
        for (size_t c = 0; c < run->suites[s]->n_cases; c++) {
            const bg_case_result *cand = &run->cases[s][c], *base = &run->baseline->cases[s][c];
            if (cand->runs == 0 || base->runs == 0)
                continue;
            p->n_compared++;
            bool cp = case_all_passed(cand), bp = case_all_passed(base);
            if (!cp && !bp)
                continue;
            if (cp && !bp) {
                p->n_improvements++;
                continue;
            }
            if (cp)
                continue;
            if (p->n_regressions == cap) {
                cap = cap ? cap * 2 : 16;
                bg_regression *v = realloc(p->regressions, cap * sizeof *v);
                if (!v)
                    return BG_ENOMEM;
                p->regressions = v;
            }
            p->regressions[p->n_regressions++] = (bg_regression){(uint32_t)s, (uint32_t)c};
        }
    }
    return 0;
}

int bg_paired_compare(bg_paired **out, bg_run *run, double alpha, bg_error *err)
{
    *out = NULL;
    if (!run->baseline)
        return 0;
    bg_paired *p = calloc(1, sizeof *p);
    if (!p)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    const bg_aggregate *ca = &run->overall, *ba = &run->baseline->overall;
    p->alpha = alpha > 0 ? alpha : BG_PAIRED_DEFAULT_ALPHA;
    p->runs_candidate = ca->runs;
    p->runs_baseline = ba->runs;
    p->pass_rate_candidate = ca->runs ? ca->pass_rate : NAN;
    p->pass_rate_baseline = ba->runs ? ba->pass_rate : NAN;
    p->drop = p->pass_rate_baseline - p->pass_rate_candidate;
    int rc = compare_cases(p, run);
    if (!rc)
        rc = compare_latency(&p->e2e, &run->overall.e2e, &run->baseline->overall.e2e);
    if (!rc)
        rc = compare_latency(&p->ttft, &run->overall.ttft, &run->baseline->overall.ttft);
    if (rc) {
        bg_paired_free(p);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    *out = p;
    return 0;
}

void bg_paired_free(bg_paired *p)
{
    if (!p)
        return;
    free(p->regressions);
    free(p);
}

bg_th_status bg_paired_latency_status(const bg_latency_cmp *c, double alpha, double max_ratio)
{
    if (!c->tested || c->n_candidate < BG_PAIRED_MIN_SAMPLES ||
        c->n_baseline < BG_PAIRED_MIN_SAMPLES ||
        bg_mwu_min_p(c->n_candidate, c->n_baseline) > alpha || isnan(c->ratio))
        return BG_TH_INCONCLUSIVE;
    bool significant = c->test.p_greater <= alpha;
    bool large = c->ratio > max_ratio * (1 + 1e-9);
    return significant && large ? BG_TH_FAIL : BG_TH_PASS;
}
