/* assert.c — assertion parsing, dispatch and the text kinds (see assert.h).
 *
 * An assertion is {"type": T, "value": V, "threshold": N, "weight": W, ...}. Members:
 *   type       required; "not-<type>" negates every kind except llm-rubric, max-tokens,
 *              min-tokens and latency. Unknown types get a "did you mean" suggestion.
 *   weight     number from 0 to 1e6, default 1 (the case score is a weighted share).
 *   value, threshold, path, metric: only where the kind below uses them; a member a kind
 *              does not use is an error ("assert[0].threshold: not used by \"contains\"").
 *              Unknown members are errors that suggest the closest valid name.
 * Kinds (all text comparisons are on bytes of the answer, case-sensitive unless noted):
 *   equals        value string; the whole answer equals it exactly (no trimming).
 *   contains      value non-empty string; the answer contains it.
 *   icontains     like contains, ignoring ASCII case.
 *   starts-with   value non-empty string; the answer begins with it (no trimming).
 *   contains-any  value non-empty array of non-empty strings; at least one occurs.
 *   contains-all  same value; every one occurs.
 *   regex         value PCRE2 pattern (UTF mode, compiled at load time; use (?i) etc. for
 *                 flags); passes when it matches anywhere. A match that exceeds the
 *                 backtracking limit is an error, not a hang.
 *   is-json       no value; the answer, trimmed and with one surrounding ``` or ```json
 *                 fence removed, is one JSON value.
 *   json-schema   value a schema object (subset: type, properties, required, enum, items,
 *                 minimum, maximum, minLength, maxLength, additionalProperties; title,
 *                 description, $schema and $comment are accepted and ignored; anything
 *                 else is rejected at load time); the answer (as for is-json) validates.
 *   json-path     path "a.b[0].c" or "$.a.b[0]", value any JSON; the node at path in the
 *                 answer (as for is-json) deep-equals value (numbers compared as doubles).
 *   levenshtein   value string, threshold integer >= 0 (required): edit distance in code
 *                 points <= threshold. Score 1 - d / max(len, 1), len = the longer length.
 *                 Work is capped (~1e8 cells): past it only "within threshold or not" is
 *                 computed ("distance >= N"), and an error if even that is too much.
 *   similar       value string (the expected text the runner embeds), threshold 0..1
 *                 (default 0.8): cosine(answer, expected) >= threshold. Score = cosine.
 *   llm-rubric    value non-empty rubric string, threshold 0..1 optional: the judge says
 *                 pass and (if set) its score >= threshold. Score = the judge's score.
 *   finish-reason value non-empty string; equals the server's finish_reason. An unknown
 *                 finish reason fails both the plain and the negated form.
 *   max-tokens    value integer >= 0: completion tokens <= value (unknown: error).
 *   min-tokens    value integer >= 0: completion tokens >= value (unknown: error).
 *   latency       threshold (or value, not both) = max ms (>= 1), metric "e2e" (default)
 *                 or "ttft": the measured latency <= max. ttft of a non-streamed case is
 *                 an error.
 * Negation flips pass; a result that could not be evaluated (error) fails either way.
 * Score is pass ? 1 : 0 (after negation) except for levenshtein, similar, llm-rubric.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "assert_internal.h"
#include "bggate/json.h"
#include "bggate/util.h"

enum { M_VALUE = 1u, M_THRESHOLD = 2u, M_PATH = 4u, M_METRIC = 8u };

/* PCRE2 limits per match: enough for any sane pattern on a 1 MiB answer, small enough
 * that catastrophic backtracking ends in milliseconds. */
#define REGEX_MATCH_LIMIT 1000000u
#define REGEX_DEPTH_LIMIT 100000u
#define REGEX_HEAP_LIMIT_KIB 16384u

typedef struct kind_info {
    const char *name;
    bool negatable;
    bool scored; /* the eval function sets a score other than pass ? 1 : 0 */
    unsigned members;
    bg_assert_parse_fn parse;
    bg_assert_eval_fn eval;
} kind_info;

static int parse_equals(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err);
static int parse_text(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err);
static int parse_list(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err);
static int parse_regex(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err);
static void eval_equals(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out);
static void eval_search(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out);
static void eval_any(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out);
static void eval_all(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out);
static void eval_regex(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out);

static const kind_info kinds[BG_ASSERT__COUNT] = {
    [BG_ASSERT_EQUALS] = {"equals", true, false, M_VALUE, parse_equals, eval_equals},
    [BG_ASSERT_CONTAINS] = {"contains", true, false, M_VALUE, parse_text, eval_search},
    [BG_ASSERT_ICONTAINS] = {"icontains", true, false, M_VALUE, parse_text, eval_search},
    [BG_ASSERT_CONTAINS_ANY] = {"contains-any", true, false, M_VALUE, parse_list, eval_any},
    [BG_ASSERT_CONTAINS_ALL] = {"contains-all", true, false, M_VALUE, parse_list, eval_all},
    [BG_ASSERT_STARTS_WITH] = {"starts-with", true, false, M_VALUE, parse_text, eval_search},
    [BG_ASSERT_REGEX] = {"regex", true, false, M_VALUE, parse_regex, eval_regex},
    [BG_ASSERT_IS_JSON] = {"is-json", true, false, 0, bg_assert_parse_is_json,
                           bg_assert_eval_is_json},
    [BG_ASSERT_JSON_SCHEMA] = {"json-schema", true, false, M_VALUE, bg_assert_parse_json_schema,
                               bg_assert_eval_json_schema},
    [BG_ASSERT_JSON_PATH] = {"json-path", true, false, M_VALUE | M_PATH,
                             bg_assert_parse_json_path, bg_assert_eval_json_path},
    [BG_ASSERT_LEVENSHTEIN] = {"levenshtein", true, true, M_VALUE | M_THRESHOLD,
                               bg_assert_parse_levenshtein, bg_assert_eval_levenshtein},
    [BG_ASSERT_SIMILAR] = {"similar", true, true, M_VALUE | M_THRESHOLD, bg_assert_parse_similar,
                           bg_assert_eval_similar},
    [BG_ASSERT_LLM_RUBRIC] = {"llm-rubric", false, true, M_VALUE | M_THRESHOLD,
                              bg_assert_parse_llm_rubric, bg_assert_eval_llm_rubric},
    [BG_ASSERT_FINISH_REASON] = {"finish-reason", true, false, M_VALUE, parse_text,
                                 bg_assert_eval_finish_reason},
    [BG_ASSERT_MAX_TOKENS] = {"max-tokens", false, false, M_VALUE, bg_assert_parse_tokens,
                              bg_assert_eval_tokens},
    [BG_ASSERT_MIN_TOKENS] = {"min-tokens", false, false, M_VALUE, bg_assert_parse_tokens,
                              bg_assert_eval_tokens},
    [BG_ASSERT_LATENCY] = {"latency", false, false, M_VALUE | M_THRESHOLD | M_METRIC,
                           bg_assert_parse_latency, bg_assert_eval_latency},
};

static const char *const all_members[] = {"type",  "value", "threshold", "weight",
                                          "path", "metric", NULL};

/* ---------------------------------------------------------------- kind queries */

const char *bg_assert_kind_name(bg_assert_kind kind)
{
    if ((int)kind < 0 || kind >= BG_ASSERT__COUNT)
        return "unknown";
    return kinds[kind].name;
}

bool bg_assert_kind_needs_embeddings(bg_assert_kind kind)
{
    return kind == BG_ASSERT_SIMILAR;
}

bool bg_assert_kind_needs_judge(bg_assert_kind kind)
{
    return kind == BG_ASSERT_LLM_RUBRIC;
}

/* ---------------------------------------------------------------- shared helpers */

/* Drops a UTF-8 sequence that snprintf cut in half at the end of s. */
static void utf8_fix_tail(char *s)
{
    size_t len = strlen(s), start = len;
    while (start > 0 && ((unsigned char)s[start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return;
    start--;
    unsigned char c = (unsigned char)s[start];
    size_t need = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (start + need > len)
        s[start] = '\0';
}

static void reason_vset(bg_assert_result *out, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void reason_vset(bg_assert_result *out, const char *fmt, va_list ap)
{
    int n = vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    if (n < 0) {
        bg_strlcpy(out->reason, "(reason could not be formatted)", sizeof out->reason);
        return;
    }
    for (char *p = out->reason; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = ' ';
    if ((size_t)n >= sizeof out->reason)
        utf8_fix_tail(out->reason);
}

void bg_assert_reason(bg_assert_result *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reason_vset(out, fmt, ap);
    va_end(ap);
}

void bg_assert_fail_error(bg_assert_result *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reason_vset(out, fmt, ap);
    va_end(ap);
    out->error = true;
    out->pass = false;
    out->score = 0;
}

void bg_assert_verdict(bg_assert_result *out, const bg_assertion *a, bool positive)
{
    out->pass = positive != a->negate;
}

void bg_assert_quote(char *dst, size_t dstsz, const char *s, size_t len, size_t max)
{
    bg_excerpt(dst, dstsz, s ? s : "", s ? len : 0, max);
}

const char *bg_assert_label(const bg_assertion *a, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s%s", a->negate ? "not-" : "", bg_assert_kind_name(a->kind));
    return buf;
}

int bg_assert_keep_value(bg_assertion *a, const cJSON *obj, bg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "value");
    if (!v)
        return 0;
    a->value = cJSON_Duplicate(v, true);
    if (!a->value)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    return 0;
}

/* ---------------------------------------------------------------- parsing */

/* The kind named `base` ("contains"), or BG_ASSERT__COUNT. */
static bg_assert_kind kind_lookup(const char *base)
{
    for (int k = 0; k < BG_ASSERT__COUNT; k++)
        if (strcmp(base, kinds[k].name) == 0)
            return (bg_assert_kind)k;
    return BG_ASSERT__COUNT;
}

/* The kind name closest to `base` within edit distance 2, or NULL. */
static const char *kind_suggest(const char *base)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (int k = 0; k < BG_ASSERT__COUNT; k++) {
        bool ok = true;
        size_t d = bg_assert_levenshtein(base, strlen(base), kinds[k].name,
                                         strlen(kinds[k].name), 2, &ok);
        if (ok && d < best_d) {
            best_d = d;
            best = kinds[k].name;
        }
    }
    return best;
}

static int unknown_type(const char *type, bool neg, const char *base, const char *path,
                        bg_error *err)
{
    const char *hint = kind_suggest(base);
    if (hint)
        return bg_error_set(err, BG_EINVAL,
                            "%s.type: unknown assertion type \"%s\" (did you mean \"%s%s\"?)",
                            path, type, neg ? "not-" : "", hint);
    char known[400];
    size_t o = 0;
    known[0] = '\0';
    for (int k = 0; k < BG_ASSERT__COUNT && o < sizeof known; k++) {
        int n = snprintf(known + o, sizeof known - o, "%s%s", k ? ", " : "", kinds[k].name);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    return bg_error_set(err, BG_EINVAL, "%s.type: unknown assertion type \"%s\" (known: %s)", path,
                        type, known);
}

static int parse_type(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err)
{
    const char *type = NULL;
    int rc = bg_json_get_string(&type, obj, "type", path, true, err);
    if (rc)
        return rc;
    bool neg = bg_str_starts_with(type, "not-");
    const char *base = neg ? type + 4 : type;
    bg_assert_kind k = kind_lookup(base);
    if (k == BG_ASSERT__COUNT)
        return unknown_type(type, neg, base, path, err);
    if (neg && !kinds[k].negatable)
        return bg_error_set(err, BG_EINVAL, "%s.type: \"%s\" cannot be negated", path, type);
    a->kind = k;
    a->negate = neg;
    return 0;
}

/* Rejects members that exist for some kind but not for this one. */
static int check_members(const bg_assertion *a, const cJSON *obj, const char *path,
                         bg_error *err)
{
    static const struct {
        const char *name;
        unsigned bit;
    } opt[] = {{"value", M_VALUE}, {"threshold", M_THRESHOLD}, {"path", M_PATH},
               {"metric", M_METRIC}};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        if (!(kinds[a->kind].members & opt[i].bit) &&
            cJSON_GetObjectItemCaseSensitive(obj, opt[i].name))
            return bg_error_set(err, BG_EINVAL, "%s.%s: not used by \"%s\"", path, opt[i].name,
                                kinds[a->kind].name);
    }
    return 0;
}

int bg_assertion_parse(bg_assertion *out, const cJSON *obj, const char *path, bg_error *err)
{
    bg_assertion a;
    int rc;
    memset(&a, 0, sizeof a);
    a.weight = 1;
    if (!path)
        path = "assert";
    if (!cJSON_IsObject(obj)) {
        rc = bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", path,
                          bg_json_type_name(obj));
        goto cleanup;
    }
    if ((rc = parse_type(&a, obj, path, err)) != 0 ||
        (rc = bg_json_check_keys(obj, all_members, path, err)) != 0 ||
        (rc = check_members(&a, obj, path, err)) != 0 ||
        (rc = bg_json_get_double(&a.weight, obj, "weight", path, 0, 1e6, false, err)) != 0 ||
        (rc = kinds[a.kind].parse(&a, obj, path, err)) != 0)
        goto cleanup;
    *out = a;
    return 0;
cleanup:
    bg_assertion_dispose(&a);
    return rc;
}

void bg_assertion_dispose(bg_assertion *a)
{
    if (!a)
        return;
    cJSON_Delete(a->value);
    free(a->path);
    free(a->metric);
    free(a->rubric);
    pcre2_code_free((pcre2_code *)a->compiled);
    memset(a, 0, sizeof *a);
}

static int parse_string_value(bg_assertion *a, const cJSON *obj, const char *path,
                              bool nonempty, bg_error *err)
{
    const char *s = NULL;
    int rc = bg_json_get_string(&s, obj, "value", path, true, err);
    if (rc)
        return rc;
    if (nonempty && !*s)
        return bg_error_set(err, BG_EINVAL, "%s.value: must not be empty", path);
    return bg_assert_keep_value(a, obj, err);
}

static int parse_equals(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err)
{
    return parse_string_value(a, obj, path, false, err);
}

static int parse_text(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err)
{
    return parse_string_value(a, obj, path, true, err);
}

static int parse_list(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "value");
    if (!v)
        return bg_error_set(err, BG_EINVAL, "%s.value: missing (an array of strings is required)",
                            path);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return bg_error_set(err, BG_EINVAL,
                            "%s.value: expected a non-empty array of strings, got %s", path,
                            cJSON_IsArray(v) ? "an empty array" : bg_json_type_name(v));
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it) || !*it->valuestring)
            return bg_error_set(err, BG_EINVAL, "%s.value[%d]: expected a non-empty string, got %s",
                                path, i,
                                cJSON_IsString(it) ? "an empty string" : bg_json_type_name(it));
        i++;
    }
    return bg_assert_keep_value(a, obj, err);
}

static int parse_regex(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err)
{
    int rc = parse_string_value(a, obj, path, true, err);
    if (rc)
        return rc;
    int ecode = 0;
    PCRE2_SIZE eoff = 0;
    /* MATCH_INVALID_UTF: a model's answer may hold invalid UTF-8; match it anyway. */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)a->value->valuestring, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C,
                                   &ecode, &eoff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(ecode, msg, sizeof msg) < 0)
            bg_strlcpy((char *)msg, "unknown error", sizeof msg);
        return bg_error_set(err, BG_EINVAL, "%s.value: invalid regex at offset %zu: %s", path,
                            (size_t)eoff, (const char *)msg);
    }
    a->compiled = re;
    return 0;
}

/* ---------------------------------------------------------------- evaluation */

void bg_assert_eval(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out)
{
    memset(out, 0, sizeof *out);
    if (!a || (int)a->kind < 0 || a->kind >= BG_ASSERT__COUNT || !in) {
        bg_assert_fail_error(out, "invalid assertion or input (bug)");
        return;
    }
    bg_assert_input fixed = *in;
    if (!fixed.text) {
        fixed.text = "";
        fixed.text_len = 0;
    }
    kinds[a->kind].eval(a, &fixed, out);
    if (out->error) {
        out->pass = false;
        out->score = 0;
    } else if (!kinds[a->kind].scored) {
        out->score = out->pass ? 1 : 0;
    }
    if (!out->reason[0])
        bg_assert_reason(out, "%s", out->error ? "error" : out->pass ? "passed" : "failed");
}

static void eval_equals(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out)
{
    const char *v = a->value->valuestring;
    size_t vl = strlen(v), d = 0;
    while (d < vl && d < in->text_len && v[d] == in->text[d])
        d++;
    bool eq = d == vl && d == in->text_len;
    char qv[BG_ASSERT_EX_BUF], qa[BG_ASSERT_EX_BUF];
    bg_assert_quote(qv, sizeof qv, v, vl, BG_ASSERT_EX_VALUE);
    bg_assert_quote(qa, sizeof qa, in->text, in->text_len, BG_ASSERT_EX_ANSWER);
    bg_assert_verdict(out, a, eq);
    if (eq && !a->negate)
        bg_assert_reason(out, "equals '%s'", qv);
    else if (eq)
        bg_assert_reason(out, "not-equals: answer is exactly '%s'", qv);
    else if (!a->negate)
        bg_assert_reason(out, "expected '%s'; got '%s' (first difference at offset %zu)", qv, qa,
                         d);
    else
        bg_assert_reason(out, "differs from '%s' at offset %zu", qv, d);
}

/* Offset of needle in hay, ignoring ASCII case, or -1. */
static long find_icase(const char *hay, size_t hl, const char *needle, size_t nl, bool *oom)
{
    char *h = malloc(hl + 1), *n = malloc(nl + 1);
    long off = -1;
    if (!h || !n) {
        *oom = true;
        goto cleanup;
    }
    for (size_t i = 0; i < hl; i++)
        h[i] = (hay[i] >= 'A' && hay[i] <= 'Z') ? (char)(hay[i] + 32) : hay[i];
    for (size_t i = 0; i < nl; i++)
        n[i] = (needle[i] >= 'A' && needle[i] <= 'Z') ? (char)(needle[i] + 32) : needle[i];
    const char *p = memmem(h, hl, n, nl);
    if (p)
        off = (long)(p - h);
cleanup:
    free(h);
    free(n);
    return off;
}

static long find_plain(const char *hay, size_t hl, const char *needle)
{
    const char *p = memmem(hay, hl, needle, strlen(needle));
    return p ? (long)(p - hay) : -1;
}

typedef struct phrase {
    const char *yes, *no, *expect;
} phrase;

static const phrase *search_phrase(bg_assert_kind kind)
{
    static const phrase contains = {"contains", "does not contain", "expected to contain"};
    static const phrase icontains = {"contains (ignoring case)",
                                     "does not contain (ignoring case)",
                                     "expected to contain (ignoring case)"};
    static const phrase starts = {"starts with", "does not start with", "expected to start with"};
    return kind == BG_ASSERT_ICONTAINS ? &icontains
           : kind == BG_ASSERT_STARTS_WITH ? &starts
                                           : &contains;
}

/* contains, icontains, starts-with. */
static void eval_search(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out)
{
    const char *v = a->value->valuestring;
    size_t vl = strlen(v);
    bool oom = false;
    long off = -1;
    if (a->kind == BG_ASSERT_STARTS_WITH)
        off = (vl <= in->text_len && memcmp(in->text, v, vl) == 0) ? 0 : -1;
    else if (a->kind == BG_ASSERT_ICONTAINS)
        off = find_icase(in->text, in->text_len, v, vl, &oom);
    else
        off = find_plain(in->text, in->text_len, v);
    if (oom) {
        bg_assert_fail_error(out, "out of memory");
        return;
    }
    const phrase *p = search_phrase(a->kind);
    char qv[BG_ASSERT_EX_BUF], qa[BG_ASSERT_EX_BUF], lbl[32];
    bg_assert_quote(qv, sizeof qv, v, vl, BG_ASSERT_EX_VALUE);
    bg_assert_quote(qa, sizeof qa, in->text, in->text_len, BG_ASSERT_EX_ANSWER);
    bg_assert_verdict(out, a, off >= 0);
    if (off >= 0 && !a->negate)
        bg_assert_reason(out, "%s '%s' at offset %ld", p->yes, qv, off);
    else if (off >= 0)
        bg_assert_reason(out, "%s: found '%s' at offset %ld", bg_assert_label(a, lbl, sizeof lbl),
                         qv, off);
    else if (!a->negate)
        bg_assert_reason(out, "%s '%s'; got '%s'", p->expect, qv, qa);
    else
        bg_assert_reason(out, "%s '%s'", p->no, qv);
}

/* "'a', 'b', 'c'" with short excerpts, cut with ", …" when it does not fit. */
static void list_values(char *dst, size_t dstsz, const cJSON *arr)
{
    static const char more[] = ", \xE2\x80\xA6";
    size_t o = 0;
    const cJSON *it;
    dst[0] = '\0';
    cJSON_ArrayForEach(it, arr)
    {
        char q[48], item[64];
        bg_assert_quote(q, sizeof q, it->valuestring, strlen(it->valuestring), 20);
        int n = snprintf(item, sizeof item, "%s'%s'", o ? ", " : "", q);
        if (n < 0)
            return;
        if (o + (size_t)n + sizeof more > dstsz) {
            if (o + sizeof more <= dstsz)
                memcpy(dst + o, more, sizeof more);
            return;
        }
        memcpy(dst + o, item, (size_t)n + 1);
        o += (size_t)n;
    }
}

static void eval_any(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out)
{
    const cJSON *it, *hit = NULL;
    long off = -1;
    cJSON_ArrayForEach(it, a->value)
    {
        off = find_plain(in->text, in->text_len, it->valuestring);
        if (off >= 0) {
            hit = it;
            break;
        }
    }
    char list[120], qa[BG_ASSERT_EX_BUF], qv[BG_ASSERT_EX_BUF];
    list_values(list, sizeof list, a->value);
    bg_assert_quote(qa, sizeof qa, in->text, in->text_len, BG_ASSERT_EX_ANSWER);
    bg_assert_verdict(out, a, hit != NULL);
    if (hit)
        bg_assert_quote(qv, sizeof qv, hit->valuestring, strlen(hit->valuestring),
                        BG_ASSERT_EX_VALUE);
    if (hit && !a->negate)
        bg_assert_reason(out, "contains '%s' at offset %ld", qv, off);
    else if (hit)
        bg_assert_reason(out, "not-contains-any: found '%s' at offset %ld", qv, off);
    else if (!a->negate)
        bg_assert_reason(out, "expected to contain any of %s; got '%s'", list, qa);
    else
        bg_assert_reason(out, "contains none of %s", list);
}

static void eval_all(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out)
{
    const cJSON *it, *first_missing = NULL;
    int n = 0, missing = 0;
    cJSON_ArrayForEach(it, a->value)
    {
        n++;
        if (find_plain(in->text, in->text_len, it->valuestring) < 0) {
            missing++;
            if (!first_missing)
                first_missing = it;
        }
    }
    char qa[BG_ASSERT_EX_BUF], qv[BG_ASSERT_EX_BUF];
    bg_assert_quote(qa, sizeof qa, in->text, in->text_len, BG_ASSERT_EX_ANSWER);
    bg_assert_verdict(out, a, missing == 0);
    if (first_missing)
        bg_assert_quote(qv, sizeof qv, first_missing->valuestring,
                        strlen(first_missing->valuestring), BG_ASSERT_EX_VALUE);
    if (!missing && !a->negate)
        bg_assert_reason(out, "contains all %d values", n);
    else if (!missing)
        bg_assert_reason(out, "not-contains-all: found all %d values", n);
    else if (!a->negate)
        bg_assert_reason(out, "expected to contain '%s' (%d of %d values missing); got '%s'", qv,
                         missing, n, qa);
    else
        bg_assert_reason(out, "missing '%s' (%d of %d values missing)", qv, missing, n);
}

/* Runs the compiled regex with bounded backtracking: >= 0 match (offsets in *so, *eo),
 * PCRE2_ERROR_NOMATCH, or another negative PCRE2 code. */
static int regex_run(const bg_assertion *a, const bg_assert_input *in, size_t *so, size_t *eo)
{
    const pcre2_code *re = a->compiled;
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = PCRE2_ERROR_NOMEMORY;
    if (!mctx || !md)
        goto cleanup;
    pcre2_set_match_limit(mctx, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(mctx, REGEX_DEPTH_LIMIT);
    pcre2_set_heap_limit(mctx, REGEX_HEAP_LIMIT_KIB);
    rc = pcre2_match(re, (PCRE2_SPTR)in->text, in->text_len, 0, 0, md, mctx);
    if (rc >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        *so = ov[0];
        *eo = ov[1] >= ov[0] ? ov[1] : ov[0];
    }
cleanup:
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    return rc;
}

static void eval_regex(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out)
{
    const char *pat = a->value->valuestring;
    char qp[BG_ASSERT_EX_BUF], qa[BG_ASSERT_EX_BUF], qm[BG_ASSERT_EX_BUF];
    bg_assert_quote(qp, sizeof qp, pat, strlen(pat), BG_ASSERT_EX_VALUE);
    size_t so = 0, eo = 0;
    int rc = regex_run(a, in, &so, &eo);
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT) {
        bg_assert_fail_error(out, "regex /%s/ exceeded its backtracking limit; simplify it", qp);
        return;
    }
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
            bg_strlcpy((char *)msg, "unknown error", sizeof msg);
        bg_assert_fail_error(out, "regex /%s/: %s", qp, (const char *)msg);
        return;
    }
    bool hit = rc >= 0;
    bg_assert_verdict(out, a, hit);
    if (hit)
        bg_assert_quote(qm, sizeof qm, in->text + so, eo - so, BG_ASSERT_EX_VALUE);
    bg_assert_quote(qa, sizeof qa, in->text, in->text_len, BG_ASSERT_EX_ANSWER);
    if (hit && !a->negate)
        bg_assert_reason(out, "matches /%s/ at offset %zu: '%s'", qp, so, qm);
    else if (hit)
        bg_assert_reason(out, "not-regex: matched '%s' at offset %zu", qm, so);
    else if (!a->negate)
        bg_assert_reason(out, "expected to match /%s/; got '%s'", qp, qa);
    else
        bg_assert_reason(out, "does not match /%s/", qp);
}
