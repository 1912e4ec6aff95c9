/* sse.c — an incremental parser for the text/event-stream format (Server-Sent Events).
 *
 * Follows the WHATWG "event stream interpretation": lines end with CRLF, LF or CR (a CR
 * that ends one piece and an LF that starts the next are one line end); "field: value"
 * lines set fields, ":" lines are comments, a blank line dispatches the event assembled
 * so far. Only "event" and "data" matter to us; "id", "retry" and unknown fields are
 * accepted and ignored. The current line and the data of one event are each capped at
 * max_line bytes, so a hostile or broken server cannot make us allocate without bound.
 *
 * It knows nothing about OpenAI: payloads go to a callback (see openai.c).
 */
#include "bggate/sse.h"

#include <string.h>

#include "bggate/util.h"

void bg_sse_init(bg_sse *p, size_t max_line)
{
    memset(p, 0, sizeof(*p));
    p->max_line = max_line;
    bg_buf_init(&p->line, max_line);
    bg_buf_init(&p->data, max_line);
}

void bg_sse_dispose(bg_sse *p)
{
    if (p == NULL)
        return;
    bg_buf_dispose(&p->line);
    bg_buf_dispose(&p->data);
    p->event[0] = '\0';
    p->has_data = false;
    p->last_was_cr = false;
}

/* Forgets the event being assembled (after a dispatch or an error). */
static void sse_reset_event(bg_sse *p)
{
    bg_buf_reset(&p->data);
    p->event[0] = '\0';
    p->has_data = false;
}

/* Appends one "data" field's value, joining multi-line data with "\n". */
static int sse_add_data(bg_sse *p, const char *value, size_t n, bg_error *err)
{
    int rc = 0;

    if (p->has_data)
        rc = bg_buf_putc(&p->data, '\n');
    if (rc == 0)
        rc = bg_buf_append(&p->data, value, n);
    if (rc == BG_ETOOBIG)
        return bg_error_set(err, BG_ETOOBIG, "SSE event data longer than %zu bytes",
                            p->max_line);
    if (rc < 0)
        return bg_error_set(err, rc, "out of memory");
    p->has_data = true;
    return 0;
}

/* Hands the assembled event to the callback if it has data, then starts a new one. */
static int sse_dispatch(bg_sse *p, bg_sse_event_fn fn, void *ud)
{
    int rc = 0;

    if (p->has_data && fn != NULL)
        rc = fn(ud, p->event, bg_buf_cstr(&p->data), p->data.len);
    sse_reset_event(p);
    return rc;
}

/* Interprets one complete line (without its terminator). */
static int sse_process_line(bg_sse *p, const char *line, size_t n, bg_sse_event_fn fn,
                            void *ud, bg_error *err)
{
    const char *colon;
    const char *value = "";
    size_t name_len = n;
    size_t value_len = 0;

    if (n == 0)
        return sse_dispatch(p, fn, ud);
    if (line[0] == ':')
        return 0; /* comment (servers send these as keep-alives) */

    colon = memchr(line, ':', n);
    if (colon != NULL) {
        name_len = (size_t)(colon - line);
        value = colon + 1;
        value_len = n - name_len - 1;
        if (value_len > 0 && value[0] == ' ') {
            value++;
            value_len--;
        }
    }

    if (name_len == 4 && memcmp(line, "data", 4) == 0)
        return sse_add_data(p, value, value_len, err);
    if (name_len == 5 && memcmp(line, "event", 5) == 0) {
        /* Event types longer than the field are cut; we only compare short names. */
        size_t keep = value_len < sizeof(p->event) - 1 ? value_len : sizeof(p->event) - 1;
        memcpy(p->event, value, keep);
        p->event[keep] = '\0';
    }
    /* "id", "retry" and unknown fields are ignored, as the spec says. */
    return 0;
}

/* Adds part of a line to the line buffer, enforcing max_line. */
static int sse_add_to_line(bg_sse *p, const char *bytes, size_t n, bg_error *err)
{
    int rc;

    if (n > p->max_line || p->line.len > p->max_line - n) {
        bg_buf_reset(&p->line);
        return bg_error_set(err, BG_ETOOBIG, "SSE line longer than %zu bytes", p->max_line);
    }
    rc = bg_buf_append(&p->line, bytes, n);
    if (rc < 0)
        return bg_error_set(err, rc, "out of memory");
    return 0;
}

/* Processes the buffered line, or `bytes` directly when nothing is buffered (the common
 * case of a whole line inside one piece: no copy). */
static int sse_end_line(bg_sse *p, const char *bytes, size_t n, bg_sse_event_fn fn, void *ud,
                        bg_error *err)
{
    int rc;

    if (p->line.len == 0) {
        if (n > p->max_line)
            return bg_error_set(err, BG_ETOOBIG, "SSE line longer than %zu bytes",
                                p->max_line);
        return sse_process_line(p, bytes, n, fn, ud, err);
    }
    rc = sse_add_to_line(p, bytes, n, err);
    if (rc == 0)
        rc = sse_process_line(p, p->line.data, p->line.len, fn, ud, err);
    bg_buf_reset(&p->line);
    return rc;
}

/* Length of the run of bytes before the next CR or LF. */
static size_t sse_span_line(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && s[i] != '\n' && s[i] != '\r')
        i++;
    return i;
}

int bg_sse_feed(bg_sse *p, const char *bytes, size_t n, bg_sse_event_fn fn, void *ud,
                bg_error *err)
{
    size_t pos = 0;
    int rc;

    while (pos < n) {
        size_t span;

        /* The LF of a CRLF whose CR ended the previous line (maybe in the last piece). */
        if (p->last_was_cr && bytes[pos] == '\n') {
            p->last_was_cr = false;
            pos++;
            continue;
        }
        p->last_was_cr = false;

        span = sse_span_line(bytes + pos, n - pos);
        if (pos + span == n) /* no line end in this piece: keep the partial line */
            return sse_add_to_line(p, bytes + pos, span, err);

        p->last_was_cr = bytes[pos + span] == '\r';
        rc = sse_end_line(p, bytes + pos, span, fn, ud, err);
        if (rc != 0)
            return rc;
        pos += span + 1;
    }
    return 0;
}

int bg_sse_finish(bg_sse *p, bg_sse_event_fn fn, void *ud, bg_error *err)
{
    int rc = 0;

    p->last_was_cr = false;
    if (p->line.len > 0) {
        /* The stream ended inside a line: treat it as if its line end had arrived. */
        rc = sse_process_line(p, p->line.data, p->line.len, fn, ud, err);
        bg_buf_reset(&p->line);
        if (rc != 0)
            return rc;
    }
    return sse_dispatch(p, fn, ud);
}
