/* fuzz_sse.c — libFuzzer target for the streaming path: SSE framing + chunk parsing.
 *
 * The first two bytes choose the piece sizes and chat/completion mode; the rest is the
 * stream, fed in pieces exactly as the runner feeds network reads. Every event's data is
 * applied to a bg_response with bg_openai_apply_chunk. Errors are fine; crashes, leaks,
 * undefined behaviour and answers over the cap are not.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bggate/limits.h"
#include "bggate/openai.h"
#include "bggate/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_ctx {
    bg_response r;
    bool chat;
} fuzz_ctx;

static int on_event(void *ud, const char *event, const char *payload, size_t len)
{
    fuzz_ctx *c = ud;
    bg_error err = {0};
    bool had_text = false;

    (void)event;
    if (bg_openai_apply_chunk(&c->r, c->chat, payload, len, &had_text, &err) < 0 &&
        err.msg[0] == '\0')
        abort(); /* every failure must say why */
    if (c->r.text.len > BG_MAX_ANSWER)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ctx c;
    bg_sse p;
    bg_error err = {0};
    unsigned seed;
    size_t at = 2;
    int rc = 0;

    if (size < 2)
        return 0;
    seed = (unsigned)data[0] | (unsigned)data[1] << 8;
    c.chat = (seed & 1) != 0;
    bg_response_init(&c.r);
    bg_sse_init(&p, 4096); /* small, so the size caps are reached too */
    while (at < size && rc == 0) {
        size_t piece = 1 + seed % 97;
        if (piece > size - at)
            piece = size - at;
        rc = bg_sse_feed(&p, (const char *)data + at, piece, on_event, &c, &err);
        at += piece;
        seed = seed * 1103515245u + 12345u;
        seed = (seed >> 8) & 0xffffu;
    }
    if (rc == 0)
        bg_sse_finish(&p, on_event, &c, &err);
    (void)bg_response_output_tokens(&c.r);
    bg_sse_dispose(&p);
    bg_response_dispose(&c.r);
    return 0;
}
