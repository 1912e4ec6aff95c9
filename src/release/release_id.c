/* release_id.c — what identifies a release: its canonical text, the SHA-256 release id
 * of that text, the git blob id used to check bundles without libgit2, and the JSON
 * form of a release (the bundle manifest and `bg-gate resolve --json`).
 *
 * SHA-256 (FIPS 180-4) and SHA-1 are small, self-contained implementations so the id
 * does not depend on OpenSSL; they are checked against the standard test vectors (and
 * SHA-1 against libgit2) in tests/unit/test_release.c. Neither is used for secrets.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/util.h"
#include "release_internal.h"

/* --- SHA-256 --- */

typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t total; /* bytes hashed */
    uint8_t block[64];
    size_t used; /* bytes in block */
} sha256_ctx;

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr32(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static uint32_t rotl32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = load_be32(p + 4 * i);
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr32(w[i - 15], 7) ^ rotr32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr32(w[i - 2], 17) ^ rotr32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 =
            (rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

/* The Merkle–Damgård framing both hashes share: buffer input into 64-byte blocks. */
typedef void (*block_fn)(uint32_t *h, const uint8_t *p);

static void md_update(uint32_t *h, uint8_t block[64], size_t *used, uint64_t *total, block_fn fn,
                      const void *data, size_t len)
{
    const uint8_t *p = data;
    *total += len;
    while (len) {
        size_t n = 64 - *used < len ? 64 - *used : len;
        memcpy(block + *used, p, n);
        *used += n;
        p += n;
        len -= n;
        if (*used == 64) {
            fn(h, block);
            *used = 0;
        }
    }
}

/* Pads with 0x80, zeros and the big-endian bit length, processing the last block(s). */
static void md_final(uint32_t *h, uint8_t block[64], size_t used, uint64_t total, block_fn fn)
{
    uint64_t bits = total * 8;
    block[used++] = 0x80;
    if (used > 56) {
        memset(block + used, 0, 64 - used);
        fn(h, block);
        used = 0;
    }
    memset(block + used, 0, 56 - used);
    for (int i = 0; i < 8; i++)
        block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    fn(h, block);
}

static void hex_words(char *out, const uint32_t *h, int words)
{
    static const char digits[] = "0123456789abcdef";
    uint8_t bytes[32];
    for (int i = 0; i < words; i++)
        store_be32(bytes + 4 * i, h[i]);
    for (int i = 0; i < 4 * words; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[8 * words] = '\0';
}

static void sha256_block_fn(uint32_t *h, const uint8_t *p)
{
    sha256_block(h, p);
}

void bg_sha256_hex(char out[BG_RELEASE_ID_HEX + 1], const void *data, size_t len)
{
    sha256_ctx c = {.h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
                          0x1f83d9ab, 0x5be0cd19}};
    md_update(c.h, c.block, &c.used, &c.total, sha256_block_fn, data, len);
    md_final(c.h, c.block, c.used, c.total, sha256_block_fn);
    hex_words(out, c.h, 8);
}

/* --- SHA-1 (git object ids) --- */

static void sha1_block(uint32_t *h, const uint8_t *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = load_be32(p + 4 * i);
    for (int i = 16; i < 80; i++)
        w[i] = rotl32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t t = rotl32(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rotl32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void bg_git_blob_id(char out[BG_OID_HEX + 1], const void *data, size_t len)
{
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    uint8_t block[64];
    size_t used = 0;
    uint64_t total = 0;
    char header[32];
    int hn = snprintf(header, sizeof header, "blob %zu", len);
    /* the header ends with its NUL byte: "blob <len>\0<data>" */
    md_update(h, block, &used, &total, sha1_block, header, (size_t)hn + 1);
    md_update(h, block, &used, &total, sha1_block, data, len);
    md_final(h, block, used, total, sha1_block);
    hex_words(out, h, 5);
}

/* --- canonical text --- */

/* Appends s as a JSON string literal: quotes, backslashes and control characters are
 * escaped, so no value can end its line early or forge another item. */
static int put_quoted(bg_buf *b, const char *s)
{
    int rc = bg_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = bg_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            rc = bg_buf_puts(b, "\\n");
        else if (*p == '\t')
            rc = bg_buf_puts(b, "\\t");
        else if (*p == '\r')
            rc = bg_buf_puts(b, "\\r");
        else if (*p < 0x20 || *p == 0x7f)
            rc = bg_buf_printf(b, "\\u%04x", *p);
        else
            rc = bg_buf_putc(b, (char)*p);
    }
    return rc ? rc : bg_buf_putc(b, '"');
}

/* "<key> <quoted value>" without the line end, so callers can add more values. */
static int put_field(bg_buf *b, const char *key, const char *value)
{
    int rc = bg_buf_puts(b, key);
    if (!rc)
        rc = bg_buf_putc(b, ' ');
    return rc ? rc : put_quoted(b, value ? value : "");
}

static int put_line(bg_buf *b, const char *key, const char *value)
{
    int rc = put_field(b, key, value);
    return rc ? rc : bg_buf_putc(b, '\n');
}

int bg_release_canonical_text(bg_buf *b, const bg_release *r)
{
    int rc = bg_buf_puts(b, "bg-gate-release-v1\n");
    if (!rc)
        rc = put_line(b, "model.name", r->model_name);
    if (!rc)
        rc = put_line(b, "model.revision", r->model_revision);
    if (!rc)
        rc = put_line(b, "model.served_name", r->served_name);
    /* templates and env are kept sorted by resolve; args keep the order of the config */
    for (size_t i = 0; !rc && i < r->n_templates; i++) {
        rc = put_field(b, "template", r->templates[i].name);
        if (!rc)
            rc = bg_buf_printf(b, " %s\n", r->templates[i].oid);
    }
    for (size_t i = 0; !rc && i < r->n_serving_args; i++)
        rc = put_line(b, "serving.arg", r->serving_args[i]);
    for (size_t i = 0; !rc && i < r->n_env; i++) {
        rc = put_field(b, "serving.env", r->env_keys[i]);
        if (!rc)
            rc = bg_buf_putc(b, ' ');
        if (!rc)
            rc = put_quoted(b, r->env_values[i]);
        if (!rc)
            rc = bg_buf_putc(b, '\n');
    }
    return rc;
}

int bg_release_compute_id(bg_release *r)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    int rc = bg_release_canonical_text(&b, r);
    if (rc == 0)
        bg_sha256_hex(r->id, bg_buf_cstr(&b), b.len);
    bg_buf_dispose(&b);
    return rc;
}

/* --- JSON --- */

/* Adds item under key, deleting it when that fails (also when item is NULL). */
static bool add_owned(cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return true;
    cJSON_Delete(item);
    return false;
}

static bool push_owned(cJSON *arr, cJSON *item)
{
    if (item && cJSON_AddItemToArray(arr, item))
        return true;
    cJSON_Delete(item);
    return false;
}

static cJSON *string_array(char *const *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        if (!push_owned(arr, cJSON_CreateString(v[i]))) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static cJSON *model_json(const bg_release *r)
{
    cJSON *m = cJSON_CreateObject();
    cJSON *rev = r->model_revision ? cJSON_CreateString(r->model_revision) : cJSON_CreateNull();
    bool ok = m && add_owned(m, "name", cJSON_CreateString(r->model_name));
    ok = ok ? add_owned(m, "revision", rev) : (cJSON_Delete(rev), false);
    ok = ok && add_owned(m, "served_name", cJSON_CreateString(r->served_name));
    if (!ok) {
        cJSON_Delete(m);
        return NULL;
    }
    return m;
}

static cJSON *template_json(const bg_template *t)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add_owned(o, "name", cJSON_CreateString(t->name)) ||
        !add_owned(o, "path", cJSON_CreateString(t->path)) ||
        !add_owned(o, "blob", cJSON_CreateString(t->oid)) ||
        !add_owned(o, "size", cJSON_CreateNumber((double)t->size))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *serving_json(const bg_release *r)
{
    cJSON *s = cJSON_CreateObject();
    cJSON *env = cJSON_CreateObject();
    bool ok = s && add_owned(s, "args", string_array(r->serving_args, r->n_serving_args));
    ok = ok ? add_owned(s, "env", env) : (cJSON_Delete(env), false);
    for (size_t i = 0; ok && i < r->n_env; i++)
        ok = add_owned(env, r->env_keys[i], cJSON_CreateString(r->env_values[i]));
    if (!ok) {
        cJSON_Delete(s);
        return NULL;
    }
    return s;
}

cJSON *bg_release_to_json(const bg_release *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *tpl = cJSON_CreateArray();
    bool ok = tpl != NULL;
    for (size_t i = 0; ok && i < r->n_templates; i++)
        ok = push_owned(tpl, template_json(&r->templates[i]));
    ok = ok && o && add_owned(o, "commit", cJSON_CreateString(r->commit)) &&
         add_owned(o, "release_id", cJSON_CreateString(r->id)) &&
         add_owned(o, "model", model_json(r));
    ok = ok ? add_owned(o, "templates", tpl) : (cJSON_Delete(tpl), false);
    ok = ok && add_owned(o, "serving", serving_json(r)) &&
         add_owned(o, "suites", string_array(r->suites, r->n_suites));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
