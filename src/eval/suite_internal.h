/* suite_internal.h — private to the suite module (suite.c, suite_case.c, suite_locate.c):
 * what the line reader, the case parser and the column locator share.
 */
#ifndef BGGATE_SUITE_INTERNAL_H
#define BGGATE_SUITE_INTERNAL_H

#include <stddef.h>

#include "bggate/suite.h"

/* 1-based column in line[0..n) of the member a case error names ("assert[2].value: ..."
 * names assert[2].value, else its parents), or 1 when msg names none or it is not found.
 * line must be JSON text that parsed as the case object. */
size_t bg_suite_locate_column(const char *line, size_t n, const char *msg);

/* Fills c from one case object; on failure err holds "FIELD: message" and c is disposed
 * (suite_case.c). */
int bg_suite_case_parse(bg_case *c, const cJSON *obj, bg_error *err);
/* Frees what c owns and zeroes it. */
void bg_suite_case_dispose(bg_case *c);

#endif
