/* suite.c — golden suites: reads JSONL text into a bg_suite (see suite.h).
 *
 * One case per line; blank lines and // comments are skipped, a UTF-8 BOM is ignored, ids
 * must be unique. Each line's object becomes a bg_case in suite_case.c, which checks every
 * member. Errors read "PATH:LINE:COLUMN: FIELD: message"; the column is found by walking
 * the line's JSON text to the member the message names (suite_locate.c).
 *
 * This file does no network I/O and renders no templates (the release module does);
 * --suite arguments are expanded to files in suite_paths.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/buf.h"
#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/suite.h"
#include "bggate/util.h"

#include "suite_internal.h"

/* Open-addressing set of case ids (indices into the cases array), for duplicate checks
 * that stay linear in the number of cases. */
typedef struct id_set {
    size_t *slots; /* case index + 1; 0 = empty */
    size_t cap;    /* power of two */
    size_t n;
} id_set;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void id_set_dispose(id_set *set)
{
    free(set->slots);
    memset(set, 0, sizeof *set);
}

/* Finds id among cases; returns its index or SIZE_MAX. */
static size_t id_set_find(const id_set *set, const bg_case *cases, const char *id)
{
    if (!set->cap)
        return SIZE_MAX;
    for (size_t i = hash_str(id) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (!set->slots[i])
            return SIZE_MAX;
        if (strcmp(cases[set->slots[i] - 1].id, id) == 0)
            return set->slots[i] - 1;
    }
}

static int id_set_add(id_set *set, const bg_case *cases, size_t index)
{
    if ((set->n + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        size_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return BG_ENOMEM;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slots[i])
                continue;
            size_t j = hash_str(cases[set->slots[i] - 1].id) & (cap - 1);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = set->slots[i];
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    size_t j = hash_str(cases[index].id) & (set->cap - 1);
    while (set->slots[j])
        j = (j + 1) & (set->cap - 1);
    set->slots[j] = index + 1;
    set->n++;
    return 0;
}
/* ---------------------------------------------------------------- lines */

typedef struct parse_state {
    const char *path;
    bg_suite *suite;
    size_t cap;
    id_set ids;
    bg_buf line; /* NUL-terminated copy of the line being parsed */
} parse_state;

/* Length of the UTF-8 sequence a lead byte starts (0: not a lead byte). */
static size_t utf8_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* Length of the valid UTF-8 prefix of s[0..n) (no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len = utf8_len(c);
        if (len == 0 || i + len > n)
            return i;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        unsigned char c1 = len > 1 ? s[i + 1] : 0;
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) ||
            (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90))
            return i;
        i += len;
    }
    return n;
}

static int add_case(parse_state *st, const cJSON *obj, const char *line, size_t n, int lineno,
                    bg_error *err)
{
    bg_suite *s = st->suite;
    if (s->n_cases >= BG_MAX_CASES)
        return bg_error_set(err, BG_ETOOBIG, "%s: more than %u cases", st->path, BG_MAX_CASES);
    if (s->n_cases == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        bg_case *cases = realloc(s->cases, cap * sizeof *cases);
        if (!cases)
            return bg_error_set(err, BG_ENOMEM, "%s: out of memory", st->path);
        s->cases = cases;
        st->cap = cap;
    }
    bg_error cerr = {0};
    bg_case *c = &s->cases[s->n_cases];
    int rc = bg_suite_case_parse(c, obj, &cerr);
    if (!rc) {
        c->line = lineno;
        size_t first = id_set_find(&st->ids, s->cases, c->id);
        if (first != SIZE_MAX)
            rc = bg_error_set(&cerr, BG_EINVAL, "id: duplicate id \"%.100s\" (first on line %d)",
                              c->id, s->cases[first].line);
        else if (id_set_add(&st->ids, s->cases, s->n_cases) != 0)
            rc = bg_error_set(&cerr, BG_ENOMEM, "out of memory");
        if (rc)
            bg_suite_case_dispose(c);
        else
            s->n_cases++;
    }
    if (!rc)
        return 0;
    size_t col = bg_suite_locate_column(line, n, cerr.msg);
    bg_error_set(err, rc, "%s:%d:%zu: %s", st->path, lineno, col, cerr.msg);
    return rc;
}

/* The cJSON error position as an offset into the line. The line is parsed from a
 * NUL-terminated copy, so an offset of n means "ran out of text". */
static int json_error(parse_state *st, const char *line, size_t n, const char *at, int lineno,
                      bg_error *err)
{
    size_t off = at && at >= line && at <= line + n ? (size_t)(at - line) : 0;
    if (off >= n)
        return bg_error_set(err, BG_EINVAL,
                            "%s:%d:%zu: invalid JSON: unexpected end of line (unclosed object, "
                            "array or string?)",
                            st->path, lineno, n + 1);
    char near[64];
    bg_excerpt(near, sizeof near, line + off, n - off, 24);
    return bg_error_set(err, BG_EINVAL, "%s:%d:%zu: invalid JSON near '%s'", st->path, lineno,
                        off + 1, near);
}

/* Parses one non-blank, non-comment line. */
static int parse_line(parse_state *st, const char *raw, size_t n, int lineno, bg_error *err)
{
    size_t valid = utf8_valid_prefix((const unsigned char *)raw, n);
    if (valid < n)
        return bg_error_set(err, BG_EINVAL, "%s:%d:%zu: invalid UTF-8", st->path, lineno,
                            valid + 1);
    bg_buf_reset(&st->line);
    int rc = bg_buf_append(&st->line, raw, n);
    if (rc)
        return bg_error_set(err, rc, "%s:%d: out of memory", st->path, lineno);
    const char *line = bg_buf_cstr(&st->line);
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithLengthOpts(line, n + 1, &end, false);
    if (!obj)
        return json_error(st, line, n, end ? end : cJSON_GetErrorPtr(), lineno, err);
    size_t off = (size_t)(end - line);
    while (off < n && (line[off] == ' ' || line[off] == '\t' || line[off] == '\r'))
        off++;
    if (off < n)
        rc = bg_error_set(err, BG_EINVAL, "%s:%d:%zu: unexpected text after the case object",
                          st->path, lineno, off + 1);
    else if (!cJSON_IsObject(obj))
        rc = bg_error_set(err, BG_EINVAL, "%s:%d:1: expected a case object, got %s", st->path,
                          lineno, bg_json_type_name(obj));
    else
        rc = add_case(st, obj, line, n, lineno, err);
    cJSON_Delete(obj);
    return rc;
}

static bool is_blank_or_comment(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    return i == n || (i + 1 < n && line[i] == '/' && line[i + 1] == '/');
}

static int parse_lines(parse_state *st, const char *text, size_t len, bg_error *err)
{
    size_t pos = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    for (int lineno = 1; pos < len; lineno++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *line = text + pos;
        pos += n + (nl ? 1 : 0);
        if (n > BG_MAX_SUITE_LINE)
            return bg_error_set(err, BG_ETOOBIG, "%s:%d:1: line longer than %u bytes", st->path,
                                lineno, BG_MAX_SUITE_LINE);
        if (n && line[n - 1] == '\r')
            n--;
        if (is_blank_or_comment(line, n))
            continue;
        int rc = parse_line(st, line, n, lineno, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- public */

static char *suite_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 6 && bg_str_ends_with(base, ".jsonl"))
        n -= 6;
    return bg_strndup(base, n);
}

int bg_suite_parse(bg_suite **out, const char *path, const char *text, size_t len,
                   bg_error *err)
{
    parse_state st = {.path = path ? path : "<suite>"};
    int rc = 0;
    *out = NULL;
    bg_buf_init(&st.line, BG_MAX_SUITE_LINE + 1);
    if (len > BG_MAX_SUITE_BYTES) {
        rc = bg_error_set(err, BG_ETOOBIG, "%s: larger than %u bytes", st.path,
                          BG_MAX_SUITE_BYTES);
        goto cleanup;
    }
    st.suite = calloc(1, sizeof *st.suite);
    if (st.suite) {
        st.suite->path = bg_strdup(st.path);
        st.suite->name = suite_name(st.path);
    }
    if (!st.suite || !st.suite->path || !st.suite->name) {
        rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", st.path);
        goto cleanup;
    }
    rc = parse_lines(&st, text ? text : "", text ? len : 0, err);
    if (!rc && st.suite->n_cases == 0)
        rc = bg_error_set(err, BG_EINVAL, "%s: no cases", st.path);
    if (!rc) {
        *out = st.suite;
        st.suite = NULL;
    }
cleanup:
    id_set_dispose(&st.ids);
    bg_buf_dispose(&st.line);
    bg_suite_free(st.suite);
    return rc;
}

int bg_suite_load(bg_suite **out, const char *path, bg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = bg_file_read(&text, &len, path, BG_MAX_SUITE_BYTES, err);
    if (!rc)
        rc = bg_suite_parse(out, path, text, len, err);
    free(text);
    return rc;
}

void bg_suite_free(bg_suite *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_cases; i++)
        bg_suite_case_dispose(&s->cases[i]);
    free(s->cases);
    free(s->path);
    free(s->name);
    free(s);
}
