/* gate.h — thresholds and the verdict of an eval run.
 *
 * Threshold names (one spelling for config and --threshold):
 *   pass_rate (min, 0..1), error_rate (max, 0..1), p50_ms, p90_ms, p95_ms, p99_ms,
 *   max_ms (e2e, max), ttft_p50_ms, ttft_p95_ms, ttft_p99_ms, itl_p95_ms, tpot_p50_ms,
 *   tpot_p95_ms (max), min_output_tokens_per_s, min_requests_per_s (min),
 *   pass_rate[TAG] (min, over cases tagged TAG);
 *   with a baseline run alongside (run->baseline, paired.h): max_pass_rate_drop (max,
 *   0..1: baseline pass rate − candidate pass rate), max_latency_ratio and
 *   max_ttft_ratio (max, >= 1: median ratio candidate / baseline of e2e / TTFT; fail only
 *   when the slowdown is also significant, see paired.h).
 * A percentile with fewer samples than bg_samples_min_for_quantile() is inconclusive and
 * the gate does not pass on it. When no pass_rate threshold is configured, an implicit
 * pass_rate >= 1 applies: every case must pass. Baseline thresholds are evaluated only
 * when a baseline ran; then those not configured apply implicitly with
 * BG_PAIRED_DEFAULT_MAX_DROP and BG_PAIRED_DEFAULT_MAX_RATIO (max_ttft_ratio only when
 * the run streams by default (run->stream) and a side measured TTFT).
 */
#ifndef BGGATE_GATE_H
#define BGGATE_GATE_H

#include "error.h"
#include "run.h"

/* Parses one threshold from its name and limit. Unknown names are BG_EINVAL with the
 * list of known names. */
int bg_threshold_parse(bg_threshold *out, const char *name, double limit, bg_error *err);
/* Parses "NAME=VALUE" (the --threshold flag). */
int bg_threshold_parse_arg(bg_threshold *out, const char *arg, bg_error *err);

/* Evaluates thresholds against run->overall / run->tags, fills run->thresholds and sets
 * run->verdict (+ verdict_reason): FAILED when any threshold failed or is inconclusive.
 * The implicit thresholds (see above) are added to run->thresholds like the others.
 * With run->baseline it first sets run->paired (bg_paired_compare, alpha
 * run->baseline_alpha). */
int bg_gate_evaluate(bg_run *run, const bg_threshold *ths, size_t n, bg_error *err);

const char *bg_th_status_name(bg_th_status s); /* "pass", "fail", "inconclusive" */
const char *bg_verdict_name(bg_verdict v);     /* "passed", "failed", "error" */

#endif
