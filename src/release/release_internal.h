/* release_internal.h — helpers shared by the files of src/release/ (not a public API). */
#ifndef BGGATE_RELEASE_INTERNAL_H
#define BGGATE_RELEASE_INTERNAL_H

#include "bggate/buf.h"
#include "bggate/release.h"

/* Appends the canonical text of r (see release.h) to b. 0 or BG_ENOMEM. */
int bg_release_canonical_text(bg_buf *b, const bg_release *r);
/* Fills r->id from the canonical text. 0 or BG_ENOMEM. */
int bg_release_compute_id(bg_release *r);
/* NULL when `path` is a plain repository-relative path ("a/b.txt"), else why not
 * ("absolute paths are not allowed", "\"..\" is not allowed", ...). */
const char *bg_release_path_problem(const char *path);
/* Frees n strings and the array (NULL-safe). */
void bg_release_free_strv(char **v, size_t n);

#endif
