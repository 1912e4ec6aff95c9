/* stats.c — sample sets, percentiles and the Wilson score interval.
 *
 * Percentiles follow numpy's default ("linear"): for q in [0, 1] over n sorted samples,
 * h = (n - 1) q and the result interpolates between the samples at floor(h) and
 * ceil(h). That is what `vllm bench serve` reports, so our p95 and theirs agree.
 * Nothing here allocates beyond the sample array or knows about runs and gates.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "bggate/error.h"
#include "bggate/stats.h"

void bg_samples_init(bg_samples *s)
{
    s->v = NULL;
    s->n = 0;
    s->cap = 0;
    s->sorted = true;
}

void bg_samples_dispose(bg_samples *s)
{
    if (!s)
        return;
    free(s->v);
    bg_samples_init(s);
}

int bg_samples_add(bg_samples *s, double x)
{
    if (!isfinite(x))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *s->v)
            return BG_ENOMEM;
        double *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return BG_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    /* Stays sorted while samples arrive in order (cheap for already-sorted input). */
    if (s->n > 0 && x < s->v[s->n - 1])
        s->sorted = false;
    s->v[s->n++] = x;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bg_samples_quantile(bg_samples *s, double q)
{
    if (!s || s->n == 0 || isnan(q))
        return NAN;
    if (!s->sorted) {
        qsort(s->v, s->n, sizeof *s->v, cmp_double);
        s->sorted = true;
    }
    if (q <= 0)
        return s->v[0];
    if (q >= 1)
        return s->v[s->n - 1];
    double h = (double)(s->n - 1) * q;
    size_t lo = (size_t)floor(h);
    size_t hi = (size_t)ceil(h);
    if (hi >= s->n)
        hi = s->n - 1;
    return s->v[lo] + (h - (double)lo) * (s->v[hi] - s->v[lo]);
}

double bg_samples_mean(const bg_samples *s)
{
    if (!s || s->n == 0)
        return NAN;
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->v[i];
    return sum / (double)s->n;
}

double bg_samples_max(const bg_samples *s)
{
    if (!s || s->n == 0)
        return NAN;
    if (s->sorted)
        return s->v[s->n - 1];
    double m = s->v[0];
    for (size_t i = 1; i < s->n; i++)
        if (s->v[i] > m)
            m = s->v[i];
    return m;
}

size_t bg_samples_min_for_quantile(double q)
{
    if (!(q > 0) || q >= 1) /* NaN, 0 and 1 (the max): one sample is enough */
        return 1;
    /* 1 - 0.9 is 0.09999999999999998 in binary, whose inverse is a hair above 10:
     * shave a relative epsilon so ceil() lands on the intended integer. */
    double x = 1.0 / (1.0 - q);
    if (x > 1e15)
        return (size_t)1e15;
    size_t n = (size_t)ceil(x * (1.0 - 1e-12));
    return n ? n : 1;
}

void bg_samples_summarize(bg_samples *s, bg_summary *out)
{
    out->n = s->n;
    out->mean = bg_samples_mean(s);
    out->p50 = bg_samples_quantile(s, 0.50);
    out->p90 = bg_samples_quantile(s, 0.90);
    out->p95 = bg_samples_quantile(s, 0.95);
    out->p99 = bg_samples_quantile(s, 0.99);
    out->max = bg_samples_max(s);
}

static double clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

void bg_wilson(double *lo, double *hi, double passed, double n, double z)
{
    if (!(n > 0)) {
        *lo = 0;
        *hi = 1;
        return;
    }
    double p = clamp01(passed / n);
    double z2 = z * z;
    double denom = 1 + z2 / n;
    double center = (p + z2 / (2 * n)) / denom;
    double half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
    *lo = clamp01(center - half);
    *hi = clamp01(center + half);
}
