/* sse.h — an incremental Server-Sent Events parser (the text/event-stream format).
 *
 * Bytes arrive in arbitrary pieces from the network; the parser splits lines on LF, CR
 * or CRLF (also when the CR and LF arrive in different pieces), ignores comment lines
 * (":" …), joins multi-line "data:" fields with "\n", and dispatches an event on a blank
 * line. A line longer than max_line is an error (BG_ETOOBIG), not an unbounded buffer.
 */
#ifndef BGGATE_SSE_H
#define BGGATE_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Called once per dispatched event; `event` is "" when the event had no "event:" field.
 * Return non-zero to stop parsing (bg_sse_feed then returns that value). */
typedef int (*bg_sse_event_fn)(void *ud, const char *event, const char *data, size_t len);

typedef struct bg_sse {
    bg_buf line;        /* the current, incomplete line */
    bg_buf data;        /* data of the event being assembled */
    char event[64];     /* event type of the event being assembled */
    bool has_data;      /* a data: field was seen for the current event */
    bool last_was_cr;   /* a CR ended the previous piece: skip a leading LF */
    size_t max_line;
} bg_sse;

void bg_sse_init(bg_sse *p, size_t max_line);
void bg_sse_dispose(bg_sse *p);
/* Feeds a piece of the stream. Returns 0, the callback's non-zero value, or a negative
 * code with err filled (line too long). */
int bg_sse_feed(bg_sse *p, const char *bytes, size_t n, bg_sse_event_fn fn, void *ud,
                bg_error *err);
/* At end of stream: dispatches a final event that lacked its blank line. */
int bg_sse_finish(bg_sse *p, bg_sse_event_fn fn, void *ud, bg_error *err);

#endif
