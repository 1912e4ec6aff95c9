/* json.c — typed cJSON access with errors naming the JSON path (see json.h). */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/json.h"

const char *bg_json_type_name(const cJSON *item)
{
    if (!item)
        return "nothing";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsArray(item))
        return "an array";
    if (cJSON_IsObject(item))
        return "an object";
    return "an invalid value";
}

/* "path.key", or "key" when path is empty. */
static void member_path(char *out, size_t outsz, const char *path, const char *key)
{
    if (path && *path)
        snprintf(out, outsz, "%s.%s", path, key);
    else
        snprintf(out, outsz, "%s", key);
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

int bg_json_get_string(const char **out, const cJSON *obj, const char *key, const char *path,
                       bool required, bg_error *err)
{
    char mp[256];
    member_path(mp, sizeof mp, path, key);
    const cJSON *it = member(obj, key);
    if (!it)
        return required ? bg_error_set(err, BG_EINVAL, "%s: missing (a string is required)", mp)
                        : 0;
    if (!cJSON_IsString(it))
        return bg_error_set(err, BG_EINVAL, "%s: expected a string, got %s", mp,
                            bg_json_type_name(it));
    *out = it->valuestring;
    return 0;
}

int bg_json_get_double(double *out, const cJSON *obj, const char *key, const char *path,
                       double min, double max, bool required, bg_error *err)
{
    char mp[256];
    member_path(mp, sizeof mp, path, key);
    const cJSON *it = member(obj, key);
    if (!it)
        return required ? bg_error_set(err, BG_EINVAL, "%s: missing (a number is required)", mp)
                        : 0;
    if (!cJSON_IsNumber(it))
        return bg_error_set(err, BG_EINVAL, "%s: expected a number, got %s", mp,
                            bg_json_type_name(it));
    double v = it->valuedouble;
    if (!isfinite(v) || v < min || v > max)
        return bg_error_set(err, BG_EINVAL, "%s: must be between %g and %g, got %g", mp, min,
                            max, v);
    *out = v;
    return 0;
}

int bg_json_get_long(long *out, const cJSON *obj, const char *key, const char *path, long min,
                     long max, bool required, bg_error *err)
{
    char mp[256];
    member_path(mp, sizeof mp, path, key);
    const cJSON *it = member(obj, key);
    if (!it)
        return required ? bg_error_set(err, BG_EINVAL, "%s: missing (an integer is required)", mp)
                        : 0;
    double v = it->valuedouble;
    if (!cJSON_IsNumber(it) || v != floor(v) || v < (double)min || v > (double)max)
        return bg_error_set(err, BG_EINVAL, "%s: expected an integer from %ld to %ld, got %s", mp,
                            min, max,
                            cJSON_IsNumber(it) ? "another number" : bg_json_type_name(it));
    *out = (long)v;
    return 0;
}

int bg_json_get_bool(bool *out, const cJSON *obj, const char *key, const char *path,
                     bool required, bg_error *err)
{
    char mp[256];
    member_path(mp, sizeof mp, path, key);
    const cJSON *it = member(obj, key);
    if (!it)
        return required ? bg_error_set(err, BG_EINVAL, "%s: missing (true or false is required)",
                                       mp)
                        : 0;
    if (!cJSON_IsBool(it))
        return bg_error_set(err, BG_EINVAL, "%s: expected true or false, got %s", mp,
                            bg_json_type_name(it));
    *out = cJSON_IsTrue(it);
    return 0;
}

/* Levenshtein distance of two short ASCII names, capped (for suggestions only). */
static size_t name_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return 99;
    size_t row[64];
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

int bg_json_check_keys(const cJSON *obj, const char *const *allowed, const char *path,
                       bg_error *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(it->string, allowed[i]) == 0;
        if (ok)
            continue;
        /* only an unknown name pays for the edit distances (suites check every case) */
        const char *best = NULL;
        size_t best_d = 3;
        for (size_t i = 0; allowed[i]; i++) {
            size_t d = name_distance(it->string, allowed[i]);
            if (d < best_d) {
                best_d = d;
                best = allowed[i];
            }
        }
        char mp[256];
        member_path(mp, sizeof mp, path, it->string);
        if (best)
            return bg_error_set(err, BG_EINVAL, "%s: unknown field (did you mean \"%s\"?)", mp,
                                best);
        return bg_error_set(err, BG_EINVAL, "%s: unknown field", mp);
    }
    return 0;
}

char *bg_json_print(const cJSON *item)
{
    return cJSON_PrintUnformatted(item);
}

void bg_text_position(const char *text, size_t off, int *line, int *column)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *column = c;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* cJSON's parse_string moves one past the first character when that character is not
 * the opening quote of a member name: the error lands after the '}' of "{\"a\": 1,}" or
 * after the x of "{x}". Recognised by a non-blank, non-quote character right before the
 * error whose previous non-blank character is the ',' or '{' that asked for a name. */
static size_t member_name_error_offset(const char *text, size_t off)
{
    if (off < 2 || is_blank(text[off - 1]) || text[off - 1] == '"')
        return off;
    size_t i = off - 1;
    while (i > 0 && is_blank(text[i - 1]))
        i--;
    if (i == 0)
        return off;
    char before = text[i - 1];
    if (before == ',' || (before == '{' && text[off - 1] != '}'))
        return off - 1;
    return off;
}

void bg_json_error_position(const char *text, size_t len, const char *at, int *line, int *column)
{
    size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
    bg_text_position(text, member_name_error_offset(text, off), line, column);
}

bool bg_json_trailing_text(const char *text, size_t len, const char *end, int *line, int *column)
{
    if (!end || end < text || end > text + len)
        return false;
    while (end < text + len && is_blank(*end))
        end++;
    if (end == text + len)
        return false;
    bg_text_position(text, (size_t)(end - text), line, column);
    return true;
}

/* "path[i]" or "path.key" into out (the member path of a child). */
static void child_path(char *out, size_t outsz, const char *path, const cJSON *parent,
                       const cJSON *child, size_t index)
{
    if (cJSON_IsArray(parent))
        snprintf(out, outsz, "%s[%zu]", path, index);
    else
        member_path(out, outsz, path, child->string);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The alphabetically first member name of obj that occurs twice, via a sorted copy of
 * the names (large objects stay O(n log n)). *dup NULL when none. BG_ENOMEM or 0. */
static int find_duplicate(const char **dup, const cJSON *obj)
{
    size_t n = 0, i = 0;
    *dup = NULL;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    if (n < 2)
        return 0;
    const char **names = malloc(n * sizeof *names);
    if (!names)
        return BG_ENOMEM;
    for (const cJSON *c = obj->child; c; c = c->next)
        names[i++] = c->string ? c->string : "";
    qsort(names, n, sizeof *names, cmp_names);
    for (i = 1; i < n && !*dup; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            *dup = names[i];
    free(names);
    return 0;
}

int bg_json_check_duplicates(const cJSON *item, const char *path, bg_error *err)
{
    if (!cJSON_IsObject(item) && !cJSON_IsArray(item))
        return 0;
    const char *dup = NULL;
    if (cJSON_IsObject(item) && find_duplicate(&dup, item))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (dup && path && *path)
        return bg_error_set(err, BG_EINVAL, "%s: duplicate key \"%s\"", path, dup);
    if (dup)
        return bg_error_set(err, BG_EINVAL, "duplicate key \"%s\" at the top level", dup);
    size_t i = 0;
    for (const cJSON *c = item->child; c; c = c->next, i++) {
        char cp[512];
        child_path(cp, sizeof cp, path ? path : "", item, c, i);
        int rc = bg_json_check_duplicates(c, cp, err);
        if (rc)
            return rc;
    }
    return 0;
}
