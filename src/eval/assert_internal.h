/* assert_internal.h — what the three assertion files share (not a public interface).
 *
 * assert.c owns the kind table, parsing of the common members, dispatch and the text
 * kinds; assert_json.c the JSON kinds; assert_score.c the scored and measured kinds.
 * Each kind has a parse function (validates its parameters into bg_assertion) and an
 * eval function. An eval function sets the *final* pass (negation already applied, via
 * bg_assert_verdict), error, score and reason; bg_assert_eval only fills defaults.
 */
#ifndef BGGATE_ASSERT_INTERNAL_H
#define BGGATE_ASSERT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "bggate/assert.h"
#include "bggate/error.h"

/* Bytes of an expected value / of the answer quoted in a reason. */
#define BG_ASSERT_EX_VALUE 40
#define BG_ASSERT_EX_ANSWER 60
/* Room for one excerpt: text, "…" and the terminator. */
#define BG_ASSERT_EX_BUF 80

typedef int (*bg_assert_parse_fn)(bg_assertion *a, const cJSON *obj, const char *path,
                                  bg_error *err);
typedef void (*bg_assert_eval_fn)(const bg_assertion *a, const bg_assert_input *in,
                                  bg_assert_result *out);

/* --- helpers (assert.c) --- */
/* Writes a one-line reason (control characters become spaces, cut on a UTF-8 boundary). */
void bg_assert_reason(bg_assert_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets out->pass from the outcome of the positive form and a->negate. */
void bg_assert_verdict(bg_assert_result *out, const bg_assertion *a, bool positive);
/* Marks the result as not evaluable, with a reason. */
void bg_assert_fail_error(bg_assert_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Quotes at most max bytes of s into dst (one line, "…" when cut). */
void bg_assert_quote(char *dst, size_t dstsz, const char *s, size_t len, size_t max);
/* "contains" or "not-contains" for a's kind. */
const char *bg_assert_label(const bg_assertion *a, char *buf, size_t bufsz);
/* Deep copies obj's "value" member into a->value (when present). */
int bg_assert_keep_value(bg_assertion *a, const cJSON *obj, bg_error *err);

/* --- JSON kinds (assert_json.c) --- */
int bg_assert_parse_is_json(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err);
int bg_assert_parse_json_schema(bg_assertion *a, const cJSON *obj, const char *path,
                                bg_error *err);
int bg_assert_parse_json_path(bg_assertion *a, const cJSON *obj, const char *path,
                              bg_error *err);
void bg_assert_eval_is_json(const bg_assertion *a, const bg_assert_input *in,
                            bg_assert_result *out);
void bg_assert_eval_json_schema(const bg_assertion *a, const bg_assert_input *in,
                                bg_assert_result *out);
void bg_assert_eval_json_path(const bg_assertion *a, const bg_assert_input *in,
                              bg_assert_result *out);
/* Deep equality of two JSON values; numbers compare as doubles, object member order
 * does not matter. */
bool bg_assert_json_equal(const cJSON *x, const cJSON *y);
/* Finds the first JSON object in text (surrounding prose and code fences tolerated).
 * Returns a new cJSON object or NULL. */
cJSON *bg_assert_json_find_object(const char *text, size_t len);

/* --- scored and measured kinds (assert_score.c) --- */
/* Levenshtein distance in UTF-8 code points, computed within a band: returns the exact
 * distance when it is <= band, else band + 1. Memory O(min(n, m)). Sets *ok = false
 * only on allocation failure. */
size_t bg_assert_levenshtein(const char *a, size_t alen, const char *b, size_t blen,
                             size_t band, bool *ok);
/* Number of UTF-8 code points (an invalid byte counts as one). */
size_t bg_assert_utf8_count(const char *s, size_t len);

int bg_assert_parse_levenshtein(bg_assertion *a, const cJSON *obj, const char *path,
                                bg_error *err);
int bg_assert_parse_similar(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err);
int bg_assert_parse_llm_rubric(bg_assertion *a, const cJSON *obj, const char *path,
                               bg_error *err);
int bg_assert_parse_tokens(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err);
int bg_assert_parse_latency(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err);
void bg_assert_eval_levenshtein(const bg_assertion *a, const bg_assert_input *in,
                                bg_assert_result *out);
void bg_assert_eval_similar(const bg_assertion *a, const bg_assert_input *in,
                            bg_assert_result *out);
void bg_assert_eval_llm_rubric(const bg_assertion *a, const bg_assert_input *in,
                               bg_assert_result *out);
void bg_assert_eval_finish_reason(const bg_assertion *a, const bg_assert_input *in,
                                  bg_assert_result *out);
void bg_assert_eval_tokens(const bg_assertion *a, const bg_assert_input *in,
                           bg_assert_result *out);
void bg_assert_eval_latency(const bg_assertion *a, const bg_assert_input *in,
                            bg_assert_result *out);

#endif
