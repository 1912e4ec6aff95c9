/* buf.h — a growable byte buffer with a hard size cap.
 *
 * Used for everything read from the network or from users: appending past `limit`
 * fails with BG_ETOOBIG instead of growing without bound. The data is always
 * NUL-terminated (the terminator is not counted in len).
 */
#ifndef BGGATE_BUF_H
#define BGGATE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct bg_buf {
    char *data;   /* NULL until the first append; NUL-terminated after it */
    size_t len;   /* bytes used, excluding the terminator */
    size_t cap;   /* bytes allocated */
    size_t limit; /* max len; 0 means no cap (only for data we produce ourselves) */
} bg_buf;

void bg_buf_init(bg_buf *b, size_t limit);
void bg_buf_dispose(bg_buf *b);
/* Empties the buffer, keeping its allocation. */
void bg_buf_reset(bg_buf *b);
/* Returns 0, BG_ETOOBIG (nothing appended) or BG_ENOMEM. */
int bg_buf_append(bg_buf *b, const void *p, size_t n);
int bg_buf_puts(bg_buf *b, const char *s);
int bg_buf_putc(bg_buf *b, char c);
int bg_buf_printf(bg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bg_buf_vprintf(bg_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the data to the caller (who frees it) and leaves the buffer empty.
 * Never returns NULL unless allocation fails: an empty buffer yields "". */
char *bg_buf_steal(bg_buf *b);
/* The data, or "" when nothing has been appended. */
const char *bg_buf_cstr(const bg_buf *b);

#endif
