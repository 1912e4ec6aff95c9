/* util.h — small helpers with no dependency on the rest of bg-gate: strings, numbers,
 * time, files (including atomic writes), and JSON access with path-bearing errors.
 */
#ifndef BGGATE_UTIL_H
#define BGGATE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* --- memory and strings --- */
/* strdup that returns NULL for NULL. */
char *bg_strdup(const char *s);
char *bg_strndup(const char *s, size_t n);
/* Allocating printf; NULL on allocation failure. */
char *bg_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool bg_str_starts_with(const char *s, const char *prefix);
bool bg_str_ends_with(const char *s, const char *suffix);
/* Copies at most dstsz-1 bytes and always terminates; returns strlen(src). */
size_t bg_strlcpy(char *dst, const char *src, size_t dstsz);

/* Writes a one-line, printable excerpt of text (at most max_chars bytes of text, ending
 * on a UTF-8 boundary, with "…" when cut; newlines and tabs shown as spaces) into out. */
void bg_excerpt(char *out, size_t outsz, const char *text, size_t len, size_t max_chars);

/* Parses a whole decimal integer / finite number in [min, max]; BG_EINVAL otherwise. */
int bg_parse_long(long *out, const char *s, long min, long max);
int bg_parse_double(double *out, const char *s, double min, double max);

/* --- time --- */
/* Monotonic clock in milliseconds (fractional). */
double bg_now_ms(void);
/* Wall clock, seconds since the epoch (fractional). */
double bg_wall_s(void);
/* ISO-8601 UTC timestamp ("2026-12-05T01:14:34Z") of a wall-clock time. */
void bg_iso8601(char *out, size_t outsz, double wall_s);

/* --- files --- */
/* Reads a whole file, failing with BG_ETOOBIG past limit. *out is NUL-terminated. */
int bg_file_read(char **out, size_t *len, const char *path, size_t limit, bg_error *err);
/* Writes data to path atomically: temp file in the same directory, fsync, rename.
 * A reader sees the old file or the new one, never half of it. */
int bg_file_write_atomic(const char *path, const void *data, size_t len, bg_error *err);
/* Creates a directory and its parents (like mkdir -p). */
int bg_mkdir_p(const char *path, bg_error *err);
/* Creates the directory that will hold path (nothing to do for a bare file name). */
int bg_mkdir_parent(const char *path, bg_error *err);
bool bg_is_dir(const char *path);

#endif
