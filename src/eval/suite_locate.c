/* suite_locate.c — the column of a suite error: which byte of a case line the error names.
 *
 * A case error reads "FIELD: message" ("assert[2].value: ..."). This file takes the
 * FIELD part and walks the line's already-validated JSON text to the member (its key) or
 * array element it names, so "PATH:LINE:COLUMN" can point at it; when a path is not found
 * it falls back to the parent, and finally to column 1. Keys are compared raw (a key with
 * escapes is simply not found). It does not parse or validate JSON (suite.c does).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "suite_internal.h"

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '"')
        return skip_string(s, n, i);
    if (i < n && (s[i] == '{' || s[i] == '[')) {
        int depth = 0;
        while (i < n) {
            if (s[i] == '"') {
                i = skip_string(s, n, i);
                continue;
            }
            if (s[i] == '{' || s[i] == '[')
                depth++;
            else if (s[i] == '}' || s[i] == ']')
                depth--;
            i++;
            if (depth == 0)
                return i;
        }
        return n;
    }
    while (i < n && !strchr(",}] \t\r\n", s[i]))
        i++;
    return i;
}

/* In the object at *pos, finds member key[0..klen): returns the key's offset and moves
 * *pos to its value; SIZE_MAX when absent. */
static size_t find_member(const char *s, size_t n, size_t *pos, const char *key, size_t klen)
{
    size_t i = skip_ws(s, n, *pos);
    if (i >= n || s[i] != '{')
        return SIZE_MAX;
    for (i++;;) {
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != '"')
            return SIZE_MAX;
        size_t k = i;
        i = skip_string(s, n, i);
        bool match = i - k == klen + 2 && memcmp(s + k + 1, key, klen) == 0;
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != ':')
            return SIZE_MAX;
        i = skip_ws(s, n, i + 1);
        if (match) {
            *pos = i;
            return k;
        }
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i >= n || s[i] != ',')
            return SIZE_MAX;
        i++;
    }
}

/* In the array at *pos, finds element idx: returns its offset (also stored in *pos). */
static size_t find_element(const char *s, size_t n, size_t *pos, long idx)
{
    size_t i = skip_ws(s, n, *pos);
    if (i >= n || s[i] != '[')
        return SIZE_MAX;
    i++;
    for (long k = 0;; k++) {
        i = skip_ws(s, n, i);
        if (i >= n || s[i] == ']')
            return SIZE_MAX;
        if (k == idx) {
            *pos = i;
            return i;
        }
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i >= n || s[i] != ',')
            return SIZE_MAX;
        i++;
    }
}

static size_t locate_field(const char *s, size_t n, const char *field)
{
    size_t pos = 0, at = SIZE_MAX;
    const char *f = field;
    while (*f) {
        if (*f == '[') {
            char *end = NULL;
            long idx = strtol(f + 1, &end, 10);
            if (!end || *end != ']' || idx < 0)
                return SIZE_MAX;
            at = find_element(s, n, &pos, idx);
            f = end + 1;
        } else {
            if (*f == '.')
                f++;
            size_t klen = strcspn(f, ".[");
            at = find_member(s, n, &pos, f, klen);
            f += klen;
        }
        if (at == SIZE_MAX)
            return SIZE_MAX;
    }
    return at;
}

/* The field a case error names: the message up to ": " when that is a member path
 * ("assert[2].value"); "" otherwise. */
static void error_field(char *out, size_t outsz, const char *msg)
{
    out[0] = '\0';
    const char *end = strstr(msg, ": ");
    if (!end || end == msg || (size_t)(end - msg) >= outsz)
        return;
    for (const char *p = msg; p < end; p++)
        if (*p == ' ' || *p == '"' || *p == '\'')
            return;
    memcpy(out, msg, (size_t)(end - msg));
    out[end - msg] = '\0';
}

size_t bg_suite_locate_column(const char *line, size_t n, const char *msg)
{
    char field[256];
    error_field(field, sizeof field, msg);
    while (field[0]) {
        size_t off = locate_field(line, n, field);
        if (off != SIZE_MAX)
            return off + 1;
        char *cut = strrchr(field, '.');
        char *br = strrchr(field, '[');
        if (br && (!cut || br > cut))
            cut = br;
        if (!cut)
            break;
        *cut = '\0';
    }
    return 1;
}
