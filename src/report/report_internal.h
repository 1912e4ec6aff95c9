/* report_internal.h — helpers the report writers share (src/report/ only).
 *
 * Implemented in walk.c next to the walk itself: UTF-8 decoding for the per-format
 * escapers, locale-independent number formatting, case classification and ordering,
 * read-only summaries of a const run's samples, and the render-then-write-atomically
 * step of every file writer. Escaping stays in each writer: only it knows its format.
 */
#ifndef BGGATE_REPORT_INTERNAL_H
#define BGGATE_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bggate/buf.h"
#include "bggate/error.h"
#include "bggate/report.h"
#include "bggate/run.h"
#include "bggate/stats.h"

/* --- text --- */

/* Decodes one code point of s[0..len) (len > 0) into *cp and returns the bytes used.
 * Invalid UTF-8 (bad lead/continuation byte, overlong form, surrogate, > U+10FFFF,
 * truncated sequence) yields U+FFFD and consumes one byte. */
size_t bg_report_utf8_next(const char *s, size_t len, uint32_t *cp);

/* Appends cp encoded as UTF-8. Returns 0 or a bg_buf error. */
int bg_report_put_utf8(bg_buf *b, uint32_t cp);

/* True for code points a reader must never see raw: C0 controls, DEL, C1 controls,
 * and U+FFFE/U+FFFF (not characters in XML 1.0). */
bool bg_report_is_control(uint32_t cp);

/* A one-line excerpt (see bg_excerpt) of at most max_chars bytes of text; s may be
 * NULL (yields ""). out must hold max_chars + 8 bytes. */
void bg_report_line(char *out, size_t outsz, const char *s, size_t max_chars);

/* --- numbers --- */

/* Formats v with '.' as decimal separator whatever LC_NUMERIC says. prec >= 0 is
 * "%.<prec>f"; prec < 0 is "%.<-prec>g". Returns out. NaN/inf print as "nan"/"inf". */
const char *bg_report_num(char *out, size_t outsz, double v, int prec);

/* A milliseconds value for humans: "812 ms", "2.31 s"; "n/a" for NaN. Returns out. */
const char *bg_report_ms(char *out, size_t outsz, double ms);

/* Read-only summary of a sample set: summarises a private copy, because
 * bg_samples_summarize sorts in place and reports only get a const run. On allocation
 * failure the summary has n = 0 and NaN statistics. */
void bg_report_summary(const bg_samples *s, bg_summary *out);

/* --- cases --- */

typedef enum bg_report_status {
    BG_REPORT_PASSED,
    BG_REPORT_FAILED,  /* some run failed its assertions */
    BG_REPORT_ERRORED, /* every run errored, or runs errored and none failed assertions */
    BG_REPORT_SKIPPED  /* never ran (run aborted) */
} bg_report_status;

/* The result of case c of suite s, or NULL when the run holds none. */
const bg_case_result *bg_report_case(const bg_run *run, size_t s, size_t c);
/* The aggregate of suite s, or NULL when the run was not finished. */
const bg_aggregate *bg_report_suite_agg(const bg_run *run, size_t s);
bg_report_status bg_report_status_of(const bg_case_result *r);

typedef struct bg_report_counts {
    size_t cases, passed, failed, errored, skipped;
} bg_report_counts;

/* Counts the cases of suite s, or of every suite when s == SIZE_MAX. */
void bg_report_count(bg_report_counts *out, const bg_run *run, size_t s);

/* "contains" / "not-contains" for an assertion. */
void bg_report_assert_type(char *out, size_t outsz, const bg_assertion *a);

/* The one-line reason a case did not pass: its failure text, else "<kind>: <error>",
 * else "failed". Never NULL. Writes into out when it has to compose. */
const char *bg_report_case_reason(char *out, size_t outsz, const bg_case_result *r);

typedef struct bg_report_ref {
    size_t s, c;
} bg_report_ref;

/* Every failed or errored case, worst first: errored before failed, then lowest score,
 * then suite and file order. *out (caller frees) is NULL when *n == 0. */
int bg_report_failing(bg_report_ref **out, size_t *n, const bg_run *run);

/* --- files --- */

typedef int (*bg_report_render_fn)(bg_buf *out, const bg_run *run);

/* Renders with fn, creates path's parent directories and writes atomically.
 * Errors read "<path>: <cause>". */
int bg_report_write_with(bg_report_render_fn fn, const bg_run *run, const char *path,
                         bg_error *err);

#endif
