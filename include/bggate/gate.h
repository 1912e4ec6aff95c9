/* gate.h — thresholds and the verdict of an eval run.
 *
 * Threshold names (one spelling for config and --threshold):
 *   pass_rate (min, 0..1), error_rate (max, 0..1), p50_ms, p90_ms, p95_ms, p99_ms,
 *   max_ms (e2e, max), ttft_p50_ms, ttft_p95_ms, ttft_p99_ms, itl_p95_ms, tpot_p50_ms,
 *   tpot_p95_ms (max), min_output_tokens_per_s, min_requests_per_s (min),
 *   pass_rate[TAG] (min, over cases tagged TAG).
 * A percentile with fewer samples than bg_samples_min_for_quantile() is inconclusive and
 * the gate does not pass on it. When no pass_rate threshold is configured, an implicit
 * pass_rate >= 1 applies: every case must pass.
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
 * The implicit pass_rate >= 1 (see above) is added to run->thresholds like the others. */
int bg_gate_evaluate(bg_run *run, const bg_threshold *ths, size_t n, bg_error *err);

const char *bg_th_status_name(bg_th_status s); /* "pass", "fail", "inconclusive" */
const char *bg_verdict_name(bg_verdict v);     /* "passed", "failed", "error" */

#endif
