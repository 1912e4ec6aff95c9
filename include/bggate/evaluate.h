/* evaluate.h — the steps of an eval run shared by `bg-gate eval` and `bg-gate deploy`. */
#ifndef BGGATE_EVALUATE_H
#define BGGATE_EVALUATE_H

#include "config.h"
#include "error.h"
#include "run.h"
#include "runner.h"
#include "suite.h"

/* Loads every suite the settings name (g->suites: files or directories; default ./evals
 * when it exists). *out is a new array of new suites. */
int bg_eval_load_suites(bg_suite ***out, size_t *n_out, const bg_gate_config *g, bg_error *err);
/* Fills runner options from the gate settings (endpoints from g; callers may replace). */
void bg_eval_runner_opts(bg_runner_opts *o, const bg_gate_config *g, const char *api_key);
/* *key = getenv(var); NULL var → NULL key; a named but unset variable is BG_EINVAL. */
int bg_eval_api_key(const char **key, const char *var, bg_error *err);
/* Writes the reports whose paths g names (JUnit, JSON, Markdown, metrics). */
int bg_eval_write_reports(const bg_run *run, const bg_gate_config *g, bg_error *err);

#endif
