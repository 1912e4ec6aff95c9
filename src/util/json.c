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
        const char *best = NULL;
        size_t best_d = 3;
        for (size_t i = 0; allowed[i]; i++) {
            if (strcmp(it->string, allowed[i]) == 0) {
                ok = true;
                break;
            }
            size_t d = name_distance(it->string, allowed[i]);
            if (d < best_d) {
                best_d = d;
                best = allowed[i];
            }
        }
        if (ok)
            continue;
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
