/* template.h — rendering template cases: {"template": "<name>", "vars": {…}} in a suite
 * becomes the request's "messages" using the templates of a release.
 *
 * A template is either text (becomes the user message; a case's optional
 * "system_template" names a text template rendered as the system message before it) or a
 * JSON array of chat messages (detected by its first non-blank character being '['),
 * whose string values may contain placeholders. Placeholders are {{name}} or
 * {{a.b.c}} (dotted path into vars; array elements as {{items.0}}), with optional spaces
 * inside the braces. Strings and numbers substitute as text; in a JSON template the
 * substitution is JSON-escaped correctly (quotes, backslashes, control characters, since
 * the value lands inside a JSON string). Objects/arrays/booleans/null substitute as their
 * compact JSON text. "{{{{" is a literal "{{". A missing variable is an error naming the
 * case and the variable — never an empty string.
 */
#ifndef BGGATE_TEMPLATE_H
#define BGGATE_TEMPLATE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "release.h"
#include "suite.h"

/* Renders text with vars. escape_json: the result will sit inside a JSON string.
 * Errors: "missing variable \"user.name\"", "unclosed {{ at offset 12". */
int bg_template_render_text(char **out, const char *text, size_t len, const cJSON *vars,
                            int escape_json, bg_error *err);

/* Renders one template case: sets c->body's "messages" from the release's templates
 * (replacing any). Errors name the case: "case \"greet\": template \"qa\": missing
 * variable \"name\"", "case \"greet\": no template \"qa\" in release <short id>
 * (templates: system, qa)". */
int bg_template_render_case(bg_case *c, const bg_release *rel, bg_error *err);

/* Renders every template case of a suite; errors are prefixed "PATH:LINE". */
int bg_template_render_suite(bg_suite *s, const bg_release *rel, bg_error *err);

#endif
