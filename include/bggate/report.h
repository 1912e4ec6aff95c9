/* report.h — report writers over a finished bg_run: JUnit XML, JSON, Markdown,
 * OpenMetrics, and the console summary.
 *
 * All writers share one walk over the results (suites → cases, then thresholds), in the
 * manner of cmark's renderers: each format supplies only its callbacks and escaping.
 * File writers write atomically (temp file + rename), creating parent directories.
 */
#ifndef BGGATE_REPORT_H
#define BGGATE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"
#include "run.h"

/* The shared walk. Every callback is optional. */
typedef struct bg_report_ops {
    int (*begin)(void *ctx, const bg_run *run);
    int (*suite_begin)(void *ctx, const bg_run *run, size_t s);
    int (*test_case)(void *ctx, const bg_run *run, size_t s, size_t c);
    int (*suite_end)(void *ctx, const bg_run *run, size_t s);
    int (*thresholds)(void *ctx, const bg_run *run);
    int (*end)(void *ctx, const bg_run *run);
} bg_report_ops;

/* Calls ops in order; stops at the first non-zero return and returns it. */
int bg_report_walk(const bg_run *run, const bg_report_ops *ops, void *ctx);

/* Renderers into a buffer (used by the file writers and by tests). */
int bg_report_render_junit(bg_buf *out, const bg_run *run);
int bg_report_render_json(bg_buf *out, const bg_run *run);
int bg_report_render_markdown(bg_buf *out, const bg_run *run);
int bg_report_render_metrics(bg_buf *out, const bg_run *run);

/* Render + atomic write to path. */
int bg_report_write_junit(const bg_run *run, const char *path, bg_error *err);
int bg_report_write_json(const bg_run *run, const char *path, bg_error *err);
int bg_report_write_markdown(const bg_run *run, const char *path, bg_error *err);
int bg_report_write_metrics(const bg_run *run, const char *path, bg_error *err);

/* Human summary (verdict, counts, latency table, thresholds, worst failing cases) to a
 * stream; colour when `color`. Under -q (log level quiet): only the verdict line, and only
 * when the run did not pass. */
void bg_report_console(FILE *f, const bg_run *run, bool color);

/* The run as CI annotations when the CI mode (ci.h) is GitHub: failed thresholds, failing
 * cases at file:line (at most BG_CI_MAX_ANNOTATIONS), a notice with the verdict. */
void bg_report_ci_annotations(const bg_run *run);

/* Progress line: on a TTY one redrawn line (done/total, pass, fail, errors, req/s, ETA);
 * otherwise a plain line at most every few seconds; nothing when quiet. `total` given to
 * an update (the runner's count of runs, repeats included) replaces the one given to new;
 * 0 keeps it. */
typedef struct bg_progress bg_progress;
bg_progress *bg_progress_new(FILE *f, size_t total, bool tty, bool quiet);
void bg_progress_update(bg_progress *p, size_t done, size_t total, size_t passed, size_t failed,
                        size_t errors);
void bg_progress_free(bg_progress *p); /* clears a TTY line; NULL-safe */

#endif
