/* json.h — typed access to cJSON objects with errors that name the JSON path.
 *
 * Every getter takes the path of the parent ("gate.thresholds") for its messages:
 * "gate.concurrency: expected an integer from 1 to 4096, got \"x\"".
 * A missing optional member leaves *out untouched and returns 0.
 */
#ifndef BGGATE_JSON_H
#define BGGATE_JSON_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "error.h"

/* Name of a cJSON node's type for messages ("a string", "an array", ...). */
const char *bg_json_type_name(const cJSON *item);

int bg_json_get_string(const char **out, const cJSON *obj, const char *key, const char *path,
                       bool required, bg_error *err);
int bg_json_get_long(long *out, const cJSON *obj, const char *key, const char *path, long min,
                     long max, bool required, bg_error *err);
int bg_json_get_double(double *out, const cJSON *obj, const char *key, const char *path,
                       double min, double max, bool required, bg_error *err);
int bg_json_get_bool(bool *out, const cJSON *obj, const char *key, const char *path,
                     bool required, bg_error *err);
/* Rejects members not in `allowed` (NULL-terminated), suggesting the closest name. */
int bg_json_check_keys(const cJSON *obj, const char *const *allowed, const char *path,
                       bg_error *err);

/* Serialises without whitespace; caller frees. NULL on allocation failure. */
char *bg_json_print(const cJSON *item);

/* Computes 1-based line/column of byte offset `off` in text. */
void bg_text_position(const char *text, size_t off, int *line, int *column);

/* Line/column of a cJSON parse error at `at` (cJSON_GetErrorPtr() or the parse end) in
 * text[0..len). cJSON reports a member name that is not a string one character too far
 * ("{\"a\": 1,}" points past the '}'); this points at the offending character. */
void bg_json_error_position(const char *text, size_t len, const char *at, int *line, int *column);
/* True when non-blank text follows the parsed document ending at `end`; *line and *column
 * (1-based) then locate it. */
bool bg_json_trailing_text(const char *text, size_t len, const char *end, int *line, int *column);
/* Rejects a member name that occurs twice in any object of the tree (cJSON keeps both
 * and lookups see the first): "release.model: duplicate key \"revision\"", or
 * "duplicate key \"release\" at the top level" when path is empty. */
int bg_json_check_duplicates(const cJSON *item, const char *path, bg_error *err);

#endif
