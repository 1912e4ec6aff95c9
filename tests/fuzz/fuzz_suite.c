/* fuzz_suite.c — libFuzzer target for golden-suite parsing (bg_suite_parse): every
 * input must parse or fail with a message, without crashes, leaks or undefined
 * behaviour. The text is not NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bggate/suite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bg_suite *s = NULL;
    bg_error err = {0};

    if (bg_suite_parse(&s, "fuzz.jsonl", (const char *)data, size, &err) < 0) {
        if (err.msg[0] == '\0')
            abort(); /* every failure must say why */
    } else if (s == NULL) {
        abort();
    }
    bg_suite_free(s);
    return 0;
}
