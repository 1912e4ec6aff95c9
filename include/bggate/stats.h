/* stats.h — samples, percentiles and intervals used by the eval aggregates.
 *
 * Percentiles use linear interpolation between closest ranks (numpy's default, which is
 * what `vllm bench serve` reports). The Wilson score interval gives a 95 % interval for
 * a pass rate that stays sensible at 0 %, 100 % and small n.
 */
#ifndef BGGATE_STATS_H
#define BGGATE_STATS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bg_samples {
    double *v;
    size_t n, cap;
    bool sorted;
} bg_samples;

void bg_samples_init(bg_samples *s);
void bg_samples_dispose(bg_samples *s);
/* Returns 0 or BG_ENOMEM. NaN and infinities are ignored. */
int bg_samples_add(bg_samples *s, double x);
/* q in [0, 1]. NaN when empty. Sorts in place on first use. */
double bg_samples_quantile(bg_samples *s, double q);
double bg_samples_mean(const bg_samples *s); /* NaN when empty */
double bg_samples_max(const bg_samples *s);  /* NaN when empty */

/* The smallest sample count for which a quantile q is reported as conclusive:
 * ceil(1 / (1 - q)) — 2 for p50, 10 for p90, 20 for p95, 100 for p99; 1 for mean/max. */
size_t bg_samples_min_for_quantile(double q);

typedef struct bg_summary {
    size_t n;
    double mean, p50, p90, p95, p99, max; /* NaN when n == 0 */
} bg_summary;

void bg_samples_summarize(bg_samples *s, bg_summary *out);

/* Wilson score interval for `passed` of `n` at confidence z (1.96 for 95 %).
 * n == 0 gives [0, 1]. */
void bg_wilson(double *lo, double *hi, double passed, double n, double z);

#endif
