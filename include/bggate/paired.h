/* paired.h — the baseline judge: a candidate run compared with a baseline run made at the
 * same time, against the same suites, under the same load.
 *
 * How the two runs are made (runner.h, `baseline_endpoints`): every case run is sent
 * twice, once to the candidate's endpoints and once to the baseline's, by one scheduler
 * that alternates which side goes first and shares one concurrency limit (or one arrival
 * process), so both sides see the same load at the same time. What is compared:
 *
 * Quality. A case *regressed* when every run of it passed on the baseline and some run of
 * it failed (or errored) on the candidate; it *improved* the other way round. The
 * pass-rate drop is baseline pass rate minus candidate pass rate (weighted, as
 * bg_aggregate.pass_rate). Threshold `max_pass_rate_drop` fails the gate when the drop
 * is above it (a drop equal to the limit passes).
 *
 * Latency. The end-to-end and time-to-first-token samples of both sides (successful
 * requests only) are compared with the Mann–Whitney U test (also called the Wilcoxon
 * rank-sum test) and the ratio of the medians, candidate / baseline:
 *   - U1 = R1 - n1(n1+1)/2, R1 the sum of the candidate's ranks in the pooled sample,
 *     ties getting the average of the ranks they span. U1 counts the (candidate,
 *     baseline) pairs where the candidate is slower, a tie counting one half.
 *   - Without ties and with the smaller sample at most 8 (and n1·n2 ≤ 100000) the p-value
 *     is exact: the permutation distribution of U, counted with Gaussian binomial
 *     coefficients. Otherwise the normal approximation: mean n1·n2/2, variance
 *     n1·n2/12 · ((n+1) − Σ(t³−t)/(n(n−1))) (tie correction, t = size of each tie group,
 *     n = n1+n2), z = (U − mean − 0.5)/sd (continuity correction). Identical to
 *     scipy.stats.mannwhitneyu(x, y, method="auto", use_continuity=True).
 *   - The gate uses the one-sided p-value p_greater (H1: candidate latencies tend to be
 *     larger); p_two_sided is reported for completeness. When every value is tied the
 *     variance is 0 and both p-values are 1.
 *   - A latency threshold (`max_latency_ratio` for e2e, `max_ttft_ratio` for TTFT) FAILS
 *     only when BOTH the slowdown is significant (p_greater ≤ alpha, default 0.01) AND
 *     the median ratio is above the limit (e.g. 1.2): a significant but tiny slowdown
 *     passes, and so does a large-looking one that noise explains.
 *   - It is INCONCLUSIVE (and the gate does not pass) when either side has fewer than
 *     BG_PAIRED_MIN_SAMPLES samples, or so few that even a complete separation (every
 *     candidate sample slower than every baseline sample) could not reach alpha
 *     (bg_mwu_min_p(n1, n2) > alpha) — e.g. 4 against 4 requests at alpha 0.01.
 *
 * Limits, in plain words: the test asks whether candidate latencies are *generally*
 * larger, not whether a tail percentile moved — a regression confined to the slowest
 * 1 % hardly moves U (use the p99 thresholds for tails). It treats requests as
 * independent; repeats of one case are not, so `repeat` inflates significance for case
 * mixes with very different lengths (the interleaving keeps both sides' mixes equal,
 * which is what makes the comparison fair). With thousands of requests tiny differences
 * become significant — that is what the median-ratio limit is for. The pass-rate drop is
 * a plain difference of two rates without a significance test: on a small suite one
 * flaky case moves it by a lot, so pick the limit with the suite size in mind
 * (1 case of 20 = 0.05).
 */
#ifndef BGGATE_PAIRED_H
#define BGGATE_PAIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "run.h"

#define BG_PAIRED_DEFAULT_ALPHA 0.01
#define BG_PAIRED_DEFAULT_MAX_DROP 0.05  /* implicit max_pass_rate_drop */
#define BG_PAIRED_DEFAULT_MAX_RATIO 1.2  /* implicit max_latency_ratio / max_ttft_ratio */
#define BG_PAIRED_MIN_SAMPLES 5          /* per side, for a latency comparison */

/* The outcome of a Mann–Whitney U test of x (candidate) against y (baseline). */
typedef struct bg_mwu {
    size_t n1, n2;       /* sizes of x and y */
    double u1;           /* U of x (see above); u2 = n1·n2 − u1 */
    double z;            /* normal-approximation statistic for "x larger"; NaN when exact */
    double p_greater;    /* one-sided p-value, H1: x tends to be larger than y */
    double p_two_sided;
    bool exact;          /* exact permutation distribution was used */
    bool ties;           /* the pooled sample had tied values */
} bg_mwu;

/* Runs the test. NaN and infinite values must not be passed. Returns 0, BG_EINVAL when
 * either sample is empty, or BG_ENOMEM. */
int bg_mwu_test(bg_mwu *out, const double *x, size_t nx, const double *y, size_t ny);

/* The smallest one-sided p-value the test can give for sizes n1 and n2 without ties
 * (x entirely above y): 1 / C(n1+n2, n1) where the exact method applies, else the
 * normal approximation at U1 = n1·n2. 1 when either size is 0. */
double bg_mwu_min_p(size_t n1, size_t n2);

/* One latency metric compared. */
typedef struct bg_latency_cmp {
    size_t n_candidate, n_baseline;
    double median_candidate, median_baseline; /* ms; NaN when no sample */
    double ratio;          /* median_candidate / median_baseline; NaN when a side is empty;
                            * 1 when both medians are 0, +inf when only the baseline's is */
    bool tested;           /* `test` holds a result (both sides have samples) */
    bg_mwu test;
} bg_latency_cmp;

/* A case that passed on the baseline and failed on the candidate. */
typedef struct bg_regression {
    uint32_t suite, kase;  /* indexes into run->suites / suite->cases */
} bg_regression;

typedef struct bg_paired {
    double alpha;                      /* significance level used */
    double pass_rate_candidate, pass_rate_baseline; /* NaN when a side ran nothing */
    double drop;                       /* baseline − candidate; NaN when either is NaN */
    size_t runs_candidate, runs_baseline;
    size_t n_compared;                 /* cases that ran on both sides */
    bg_regression *regressions;        /* in suite and file order */
    size_t n_regressions;
    size_t n_improvements;             /* failed on the baseline, passed on the candidate */
    bg_latency_cmp e2e, ttft;
} bg_paired;

/* Compares run (the candidate) with run->baseline into a new *out (NULL when the run has
 * no baseline). alpha <= 0 means BG_PAIRED_DEFAULT_ALPHA. Both runs must be finished
 * (bg_run_finish); their sample sets get sorted. Returns 0 or BG_ENOMEM. */
int bg_paired_compare(bg_paired **out, bg_run *run, double alpha, bg_error *err);
void bg_paired_free(bg_paired *p); /* NULL-safe */

/* The gate's decision on one latency comparison with ratio limit max_ratio (see above). */
bg_th_status bg_paired_latency_status(const bg_latency_cmp *c, double alpha, double max_ratio);

#endif
