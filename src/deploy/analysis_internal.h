/* analysis_internal.h — private to the analysis module (analysis.c, analysis_check.c): what
 * the config parser and the check evaluation share.
 */
#ifndef BGGATE_ANALYSIS_INTERNAL_H
#define BGGATE_ANALYSIS_INTERNAL_H

#include <stdbool.h>

#include "bggate/analysis.h"

/* The metric a config name denotes ("e2e_p95_s"); BG_EINVAL for an unknown name or "query". */
int bg_analysis_metric_of(bg_analysis_metric *out, const char *name);
/* True when c's condition compares the new pool with the old (ratio or increase). */
bool bg_analysis_compares_with_old(const bg_analysis_check *c);

#endif
