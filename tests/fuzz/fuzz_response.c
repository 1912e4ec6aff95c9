/* fuzz_response.c — libFuzzer target for whole-body parsers: chat and completion
 * responses, /v1/models and /v1/embeddings. The input is the body, not NUL-terminated,
 * so reading past len is caught by ASan.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bggate/limits.h"
#include "bggate/openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_as(bool chat, const char *body, size_t len)
{
    bg_response r;
    bg_error err = {0};

    bg_response_init(&r);
    if (bg_openai_parse_response(&r, chat, body, len, &err) < 0 && err.msg[0] == '\0')
        abort();
    if (r.text.len > BG_MAX_ANSWER)
        abort();
    bg_response_dispose(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    bg_error err = {0};
    char *first = NULL;
    double *vec = NULL;
    size_t dim = 0;

    parse_as(true, body, size);
    parse_as(false, body, size);
    if (bg_openai_parse_models(&first, body, size, &err) == 0 && first == NULL)
        abort();
    free(first);
    (void)bg_openai_models_has(body, size, "llama-8b");
    if (bg_openai_parse_embedding(&vec, &dim, body, size, &err) == 0 &&
        (vec == NULL || dim == 0 || dim > BG_MAX_EMBEDDING_DIM))
        abort();
    free(vec);
    return 0;
}
