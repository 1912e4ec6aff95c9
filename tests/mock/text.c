/* text.c — bg-mock's notion of words, tokens and embeddings.
 *
 * A real tokeniser is not needed: usage counts only have to be stable and plausible.
 * A "token" is a word plus the whitespace before it, so streaming the tokens of an
 * answer reassembles it byte for byte. Embeddings are a hashed bag of words (FNV-1a,
 * 64 dimensions, L2-normalised): identical texts have cosine 1, texts that share most
 * words score high, unrelated texts score near 0. Pure functions, no allocation.
 */
#include <math.h>
#include <string.h>

#include "mock.h"

static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Letters and digits (ASCII, lowercased by the caller) and any non-ASCII byte, so
 * UTF-8 words stay whole. */
static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80;
}

long bg_mock_word_count(const char *text)
{
    long n = 0;
    int in_word = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (is_ws(*p)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            n++;
        }
    }
    return n;
}

size_t bg_mock_token_len(const char *text, size_t pos)
{
    const unsigned char *s = (const unsigned char *)text + pos;
    size_t i = 0;
    while (s[i] && is_ws(s[i]))
        i++;
    while (s[i] && !is_ws(s[i]))
        i++;
    /* Trailing whitespace with no word after it belongs to the last token. */
    size_t j = i;
    while (s[j] && is_ws(s[j]))
        j++;
    return s[j] == '\0' ? j : i;
}

long bg_mock_token_count(const char *text)
{
    long n = 0;
    size_t pos = 0, len;
    while ((len = bg_mock_token_len(text, pos)) > 0) {
        pos += len;
        n++;
    }
    return n;
}

size_t bg_mock_token_prefix(const char *text, long n)
{
    size_t pos = 0, len;
    for (long i = 0; i < n && (len = bg_mock_token_len(text, pos)) > 0; i++)
        pos += len;
    return pos;
}

static void embed_word(double *v, const unsigned char *w, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 offset basis */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = w[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h ^= c;
        h *= 0x100000001b3ull; /* FNV-1a 64 prime */
    }
    /* The low bits pick the dimension, the top bit the sign. */
    v[h % BG_MOCK_EMBED_DIM] += (h >> 63) ? -1.0 : 1.0;
}

void bg_mock_embed(double out[BG_MOCK_EMBED_DIM], const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    double norm = 0.0;
    memset(out, 0, sizeof(double) * BG_MOCK_EMBED_DIM);
    while (*p) {
        while (*p && !is_word_byte(*p))
            p++;
        const unsigned char *start = p;
        while (*p && is_word_byte(*p))
            p++;
        if (p > start)
            embed_word(out, start, (size_t)(p - start));
    }
    for (int i = 0; i < BG_MOCK_EMBED_DIM; i++)
        norm += out[i] * out[i];
    if (norm == 0.0)
        return;
    norm = sqrt(norm);
    for (int i = 0; i < BG_MOCK_EMBED_DIM; i++)
        out[i] /= norm;
}
