/* assert_json.c — the JSON assertion kinds: is-json, json-schema (a subset) and json-path.
 *
 * The answer is prepared the same way for all three: whitespace trimmed, then one
 * surrounding Markdown code fence (``` or ```json) removed, then it must be exactly one
 * JSON value. Schemas are checked once at load time: a keyword outside the supported
 * subset is an error, never silently ignored, so a schema cannot pass by accident.
 * Validation stops at the first violation and names its JSON path ("$.items[2].age").
 * Also here: deep equality of JSON values and finding a JSON object inside prose (used
 * for the judge's reply by llm-rubric).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert_internal.h"
#include "bggate/json.h"
#include "bggate/util.h"

#define SCHEMA_MAX_DEPTH 64
#define JPATH_BUF 256
#define WHY_BUF 200

static const char *const schema_keywords[] = {
    "type",      "properties", "required",  "enum",      "items", "minimum",
    "maximum",   "minLength",  "maxLength", "additionalProperties", NULL};
/* Annotations: accepted anywhere, no effect on validation. */
static const char *const schema_annotations[] = {"title", "description", "$schema", "$comment",
                                                 NULL};
static const char *const schema_types[] = {"string", "number", "integer", "boolean",
                                           "object", "array",  "null",    NULL};
#define SUPPORTED_KEYWORDS                                                                   \
    "type, properties, required, enum, items, minimum, maximum, minLength, maxLength, "     \
    "additionalProperties"

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* ---------------------------------------------------------------- answer → JSON */

static void trim(const char **s, size_t *n)
{
    while (*n && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
}

/* Trims, then removes one ```lang … ``` fence surrounding the whole text. */
static void json_span(const char *text, size_t len, const char **s, size_t *n)
{
    *s = text;
    *n = len;
    trim(s, n);
    if (*n < 6 || memcmp(*s, "```", 3) != 0 || memcmp(*s + *n - 3, "```", 3) != 0)
        return;
    const char *nl = memchr(*s, '\n', *n - 3);
    if (!nl)
        return;
    size_t skip = (size_t)(nl - *s) + 1;
    *s += skip;
    *n -= skip + 3;
    trim(s, n);
}

/* Parses the answer; on failure writes why ("not JSON: …") and returns NULL. */
static cJSON *parse_answer(const char *text, size_t len, char *why, size_t whysz, bool *oom)
{
    const char *s, *end = NULL;
    size_t n;
    char near[BG_ASSERT_EX_BUF];
    json_span(text, len, &s, &n);
    if (n == 0) {
        snprintf(why, whysz, "not JSON: the answer is empty");
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(s, n, &end, false);
    if (!root && !end) {
        *oom = true; /* cJSON reports no position only when it could not allocate */
        snprintf(why, whysz, "out of memory");
        return NULL;
    }
    size_t off = end ? (size_t)(end - s) : 0;
    while (root && off < n && is_space(s[off]))
        off++;
    if (root && off == n)
        return root;
    cJSON_Delete(root);
    bg_assert_quote(near, sizeof near, s + off, n - off, 30);
    snprintf(why, whysz, "not JSON: %s at offset %zu near '%s'",
             root ? "unexpected text after the value" : "parse error",
             (size_t)(s - text) + off, near);
    return NULL;
}

static const char *json_kind(const cJSON *n)
{
    if (cJSON_IsString(n))
        return "string";
    if (cJSON_IsNumber(n))
        return "number";
    if (cJSON_IsBool(n))
        return "boolean";
    if (cJSON_IsNull(n))
        return "null";
    if (cJSON_IsArray(n))
        return "array";
    return cJSON_IsObject(n) ? "object" : "invalid";
}

void bg_assert_eval_is_json(const bg_assertion *a, const bg_assert_input *in,
                            bg_assert_result *out)
{
    char why[WHY_BUF];
    bool oom = false;
    cJSON *root = parse_answer(in->text, in->text_len, why, sizeof why, &oom);
    if (oom) {
        bg_assert_fail_error(out, "out of memory");
        return;
    }
    bg_assert_verdict(out, a, root != NULL);
    if (root && !a->negate)
        bg_assert_reason(out, "answer is valid JSON (%s)", json_kind(root));
    else if (root)
        bg_assert_reason(out, "not-is-json: answer is valid JSON (%s)", json_kind(root));
    else
        bg_assert_reason(out, "%s", why);
    cJSON_Delete(root);
}

/* ---------------------------------------------------------------- deep equality */

bool bg_assert_json_equal(const cJSON *x, const cJSON *y)
{
    if (!x || !y)
        return x == y;
    if (cJSON_IsNumber(x) && cJSON_IsNumber(y))
        return x->valuedouble == y->valuedouble;
    if ((x->type & 0xFF) != (y->type & 0xFF))
        return false;
    if (cJSON_IsString(x))
        return strcmp(x->valuestring, y->valuestring) == 0;
    if (cJSON_IsArray(x) || cJSON_IsObject(x)) {
        if (cJSON_GetArraySize(x) != cJSON_GetArraySize(y))
            return false;
        const cJSON *cx = x->child, *cy = y->child;
        for (; cx && cy; cx = cx->next, cy = cy->next) {
            const cJSON *other =
                cJSON_IsArray(x) ? cy : cJSON_GetObjectItemCaseSensitive(y, cx->string);
            if (!bg_assert_json_equal(cx, other))
                return false;
        }
        return true;
    }
    return true; /* true, false, null: equal types are equal values */
}

/* ---------------------------------------------------------------- schema: load time */

static int schema_check(const cJSON *s, const char *path, int depth, bg_error *err);

static int check_type_kw(const cJSON *t, const char *path, bg_error *err)
{
    if (cJSON_IsString(t)) {
        if (in_list(t->valuestring, schema_types))
            return 0;
        return bg_error_set(err, BG_EINVAL,
                            "%s.type: unknown type \"%s\" (expected string, number, integer, "
                            "boolean, object, array or null)",
                            path, t->valuestring);
    }
    if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) == 0)
        return bg_error_set(err, BG_EINVAL,
                            "%s.type: expected a type name or a non-empty array of them, got %s",
                            path, bg_json_type_name(t));
    const cJSON *it;
    cJSON_ArrayForEach(it, t)
    {
        int rc = check_type_kw(it, path, err);
        if (rc)
            return rc;
        if (cJSON_IsArray(it))
            return bg_error_set(err, BG_EINVAL, "%s.type: nested arrays are not types", path);
    }
    return 0;
}

static int check_properties_kw(const cJSON *p, const char *path, int depth, bg_error *err)
{
    if (!cJSON_IsObject(p))
        return bg_error_set(err, BG_EINVAL, "%s.properties: expected an object, got %s", path,
                            bg_json_type_name(p));
    const cJSON *it;
    cJSON_ArrayForEach(it, p)
    {
        char sub[JPATH_BUF];
        snprintf(sub, sizeof sub, "%s.properties.%s", path, it->string);
        int rc = schema_check(it, sub, depth + 1, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int check_required_kw(const cJSON *r, const char *path, bg_error *err)
{
    const cJSON *it;
    if (!cJSON_IsArray(r))
        return bg_error_set(err, BG_EINVAL, "%s.required: expected an array of strings, got %s",
                            path, bg_json_type_name(r));
    cJSON_ArrayForEach(it, r)
    {
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL,
                                "%s.required: expected an array of strings, found %s", path,
                                bg_json_type_name(it));
    }
    return 0;
}

/* The keywords whose value is a plain number or a bound. */
static int check_scalar_kws(const cJSON *s, const char *path, bg_error *err)
{
    double d = 0;
    long l = 0;
    int rc;
    if ((rc = bg_json_get_double(&d, s, "minimum", path, -DBL_MAX, DBL_MAX, false, err)) ||
        (rc = bg_json_get_double(&d, s, "maximum", path, -DBL_MAX, DBL_MAX, false, err)) ||
        (rc = bg_json_get_long(&l, s, "minLength", path, 0, 100000000, false, err)) ||
        (rc = bg_json_get_long(&l, s, "maxLength", path, 0, 100000000, false, err)))
        return rc;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (e && (!cJSON_IsArray(e) || cJSON_GetArraySize(e) == 0))
        return bg_error_set(err, BG_EINVAL, "%s.enum: expected a non-empty array, got %s", path,
                            cJSON_IsArray(e) ? "an empty array" : bg_json_type_name(e));
    return 0;
}

static int check_keywords(const cJSON *s, const char *path, bg_error *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, s)
    {
        if (!in_list(it->string, schema_keywords) && !in_list(it->string, schema_annotations))
            return bg_error_set(err, BG_EINVAL,
                                "%s: unsupported schema keyword \"%s\" (supported: "
                                SUPPORTED_KEYWORDS ")",
                                path, it->string);
    }
    return 0;
}

static int schema_check(const cJSON *s, const char *path, int depth, bg_error *err)
{
    if (depth > SCHEMA_MAX_DEPTH)
        return bg_error_set(err, BG_EINVAL, "%s: schema nested deeper than %d levels", path,
                            SCHEMA_MAX_DEPTH);
    if (!cJSON_IsObject(s))
        return bg_error_set(err, BG_EINVAL, "%s: expected a schema object, got %s", path,
                            bg_json_type_name(s));
    int rc = check_keywords(s, path, err);
    if (rc)
        return rc;
    const cJSON *k;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "type")) && (rc = check_type_kw(k, path, err)))
        return rc;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "properties")) &&
        (rc = check_properties_kw(k, path, depth, err)))
        return rc;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "required")) &&
        (rc = check_required_kw(k, path, err)))
        return rc;
    char sub[JPATH_BUF];
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "items"))) {
        snprintf(sub, sizeof sub, "%s.items", path);
        if ((rc = schema_check(k, sub, depth + 1, err)))
            return rc;
    }
    k = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    if (k && !cJSON_IsBool(k)) {
        snprintf(sub, sizeof sub, "%s.additionalProperties", path);
        if ((rc = schema_check(k, sub, depth + 1, err)))
            return rc;
    }
    return check_scalar_kws(s, path, err);
}

int bg_assert_parse_json_schema(bg_assertion *a, const cJSON *obj, const char *path,
                                bg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "value");
    char vpath[JPATH_BUF];
    if (!v)
        return bg_error_set(err, BG_EINVAL, "%s.value: missing (a schema object is required)",
                            path);
    snprintf(vpath, sizeof vpath, "%s.value", path);
    int rc = schema_check(v, vpath, 0, err);
    if (rc)
        return rc;
    return bg_assert_keep_value(a, obj, err);
}

int bg_assert_parse_is_json(bg_assertion *a, const cJSON *obj, const char *path, bg_error *err)
{
    (void)a;
    (void)obj;
    (void)path;
    (void)err;
    return 0;
}

/* ---------------------------------------------------------------- schema: validation */

/* A growing JSON path ("$.items[2].age") with a fixed buffer; cut silently when long. */
typedef struct jpath {
    char buf[JPATH_BUF];
    size_t len;
} jpath;

static size_t jpath_push_key(jpath *p, const char *key)
{
    size_t old = p->len;
    bool ident = (*key && !(key[0] >= '0' && key[0] <= '9'));
    for (const char *c = key; *c && ident; c++)
        ident = (*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9'));
    int n = snprintf(p->buf + p->len, sizeof p->buf - p->len, ident ? ".%.*s" : "[\"%.*s\"]", 40,
                     key);
    if (n > 0)
        p->len = strlen(p->buf);
    return old;
}

static size_t jpath_push_index(jpath *p, int i)
{
    size_t old = p->len;
    int n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "[%d]", i);
    if (n > 0)
        p->len = strlen(p->buf);
    return old;
}

static void jpath_pop(jpath *p, size_t old)
{
    p->len = old;
    p->buf[old] = '\0';
}

typedef struct vctx {
    jpath path;
    char why[WHY_BUF];
} vctx;

static bool type_matches(const char *t, const cJSON *n)
{
    if (strcmp(t, "integer") == 0)
        return cJSON_IsNumber(n) && isfinite(n->valuedouble) &&
               n->valuedouble == floor(n->valuedouble);
    return strcmp(t, json_kind(n)) == 0;
}

static bool check_type(const cJSON *t, const cJSON *n, vctx *v)
{
    const cJSON *it;
    char want[100] = "";
    if (cJSON_IsString(t)) {
        if (type_matches(t->valuestring, n))
            return true;
        bg_strlcpy(want, t->valuestring, sizeof want);
    } else {
        cJSON_ArrayForEach(it, t)
        {
            if (type_matches(it->valuestring, n))
                return true;
            size_t l = strlen(want);
            snprintf(want + l, sizeof want - l, "%s%s", l ? " or " : "", it->valuestring);
        }
    }
    snprintf(v->why, sizeof v->why, "%s: expected %s, got %s", v->path.buf, want, json_kind(n));
    return false;
}

static bool check_enum(const cJSON *e, const cJSON *n, vctx *v)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, e)
    {
        if (bg_assert_json_equal(it, n))
            return true;
    }
    char *pn = bg_json_print(n), *pe = bg_json_print(e);
    char qn[BG_ASSERT_EX_BUF], qe[BG_ASSERT_EX_BUF];
    bg_assert_quote(qn, sizeof qn, pn, pn ? strlen(pn) : 0, 30);
    bg_assert_quote(qe, sizeof qe, pe, pe ? strlen(pe) : 0, 50);
    snprintf(v->why, sizeof v->why, "%s: %s is not one of %s", v->path.buf, qn, qe);
    free(pn);
    free(pe);
    return false;
}

static bool check_bounds(const cJSON *s, const cJSON *n, vctx *v)
{
    const cJSON *k;
    if (cJSON_IsNumber(n)) {
        double d = n->valuedouble;
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "minimum")) && d < k->valuedouble) {
            snprintf(v->why, sizeof v->why, "%s: %g is less than minimum %g", v->path.buf, d,
                     k->valuedouble);
            return false;
        }
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "maximum")) && d > k->valuedouble) {
            snprintf(v->why, sizeof v->why, "%s: %g is greater than maximum %g", v->path.buf, d,
                     k->valuedouble);
            return false;
        }
    }
    if (cJSON_IsString(n)) {
        double len = (double)bg_assert_utf8_count(n->valuestring, strlen(n->valuestring));
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "minLength")) && len < k->valuedouble) {
            snprintf(v->why, sizeof v->why, "%s: length %.0f is less than minLength %.0f",
                     v->path.buf, len, k->valuedouble);
            return false;
        }
        if ((k = cJSON_GetObjectItemCaseSensitive(s, "maxLength")) && len > k->valuedouble) {
            snprintf(v->why, sizeof v->why, "%s: length %.0f is greater than maxLength %.0f",
                     v->path.buf, len, k->valuedouble);
            return false;
        }
    }
    return true;
}

static bool validate(const cJSON *s, const cJSON *n, vctx *v);

static bool validate_object(const cJSON *s, const cJSON *n, vctx *v)
{
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    const cJSON *addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    const cJSON *it;
    cJSON_ArrayForEach(it, req)
    {
        if (!cJSON_GetObjectItemCaseSensitive(n, it->valuestring)) {
            char q[BG_ASSERT_EX_BUF];
            bg_assert_quote(q, sizeof q, it->valuestring, strlen(it->valuestring), 40);
            snprintf(v->why, sizeof v->why, "%s: missing required property \"%s\"", v->path.buf,
                     q);
            return false;
        }
    }
    cJSON_ArrayForEach(it, n)
    {
        const cJSON *sub = props ? cJSON_GetObjectItemCaseSensitive(props, it->string) : NULL;
        if (!sub && cJSON_IsFalse(addl)) {
            size_t old = jpath_push_key(&v->path, it->string);
            snprintf(v->why, sizeof v->why, "%s: unexpected property (additionalProperties is false)",
                     v->path.buf);
            jpath_pop(&v->path, old);
            return false;
        }
        if (!sub && cJSON_IsObject(addl))
            sub = addl;
        if (!sub)
            continue;
        size_t old = jpath_push_key(&v->path, it->string);
        bool ok = validate(sub, it, v);
        jpath_pop(&v->path, old);
        if (!ok)
            return false;
    }
    return true;
}

static bool validate_array(const cJSON *s, const cJSON *n, vctx *v)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    const cJSON *it;
    int i = 0;
    if (!items)
        return true;
    cJSON_ArrayForEach(it, n)
    {
        size_t old = jpath_push_index(&v->path, i++);
        bool ok = validate(items, it, v);
        jpath_pop(&v->path, old);
        if (!ok)
            return false;
    }
    return true;
}

static bool validate(const cJSON *s, const cJSON *n, vctx *v)
{
    const cJSON *k;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "type")) && !check_type(k, n, v))
        return false;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "enum")) && !check_enum(k, n, v))
        return false;
    if (!check_bounds(s, n, v))
        return false;
    if (cJSON_IsObject(n))
        return validate_object(s, n, v);
    if (cJSON_IsArray(n))
        return validate_array(s, n, v);
    return true;
}

void bg_assert_eval_json_schema(const bg_assertion *a, const bg_assert_input *in,
                                bg_assert_result *out)
{
    vctx v;
    bool oom = false;
    memset(&v, 0, sizeof v);
    cJSON *root = parse_answer(in->text, in->text_len, v.why, sizeof v.why, &oom);
    if (oom) {
        bg_assert_fail_error(out, "out of memory");
        return;
    }
    bg_strlcpy(v.path.buf, "$", sizeof v.path.buf);
    v.path.len = 1;
    bool ok = root && validate(a->value, root, &v);
    bg_assert_verdict(out, a, ok);
    if (ok && !a->negate)
        bg_assert_reason(out, "answer matches the schema");
    else if (ok)
        bg_assert_reason(out, "not-json-schema: answer matches the schema");
    else
        bg_assert_reason(out, "%s", v.why);
    cJSON_Delete(root);
}

/* ---------------------------------------------------------------- json-path */

typedef struct jseg {
    bool is_index;
    const char *key;
    size_t keylen;
    long index;
} jseg;

/* Reads the segment at *pos: 1 = got one, 0 = end, -1 = syntax error (in why). */
static int jpath_next(const char *p, size_t *pos, jseg *seg, char *why, size_t whysz)
{
    size_t i = *pos;
    if (!p[i])
        return 0;
    if (p[i] == '[') {
        size_t j = i + 1;
        long idx = 0;
        while (p[j] >= '0' && p[j] <= '9' && j - i <= 9)
            idx = idx * 10 + (p[j++] - '0');
        if (j == i + 1 || p[j] != ']') {
            snprintf(why, whysz, "expected an index like [0] at offset %zu", i);
            return -1;
        }
        *seg = (jseg){.is_index = true, .index = idx};
        *pos = j + 1;
        return 1;
    }
    if (p[i] == '.')
        i++;
    else if (i != 0) {
        snprintf(why, whysz, "expected '.' or '[' at offset %zu", i);
        return -1;
    }
    size_t j = i;
    while (p[j] && p[j] != '.' && p[j] != '[' && p[j] != ']')
        j++;
    if (j == i || p[j] == ']') {
        snprintf(why, whysz, "%s at offset %zu", j == i ? "empty key" : "unexpected ']'", j);
        return -1;
    }
    *seg = (jseg){.key = p + i, .keylen = j - i};
    *pos = j;
    return 1;
}

static size_t jpath_start(const char *p)
{
    return p[0] == '$' ? 1 : 0;
}

int bg_assert_parse_json_path(bg_assertion *a, const cJSON *obj, const char *path,
                              bg_error *err)
{
    const char *jp = NULL;
    int rc = bg_json_get_string(&jp, obj, "path", path, true, err);
    if (rc)
        return rc;
    if (!cJSON_GetObjectItemCaseSensitive(obj, "value"))
        return bg_error_set(err, BG_EINVAL, "%s.value: missing (the expected JSON value)", path);
    if (!*jp)
        return bg_error_set(err, BG_EINVAL, "%s.path: must not be empty (use \"$\" for the root)",
                            path);
    char why[WHY_BUF];
    size_t pos = jpath_start(jp);
    jseg seg;
    while ((rc = jpath_next(jp, &pos, &seg, why, sizeof why)) > 0)
        ;
    if (rc < 0)
        return bg_error_set(err, BG_EINVAL, "%s.path: %s", path, why);
    a->path = bg_strdup(jp);
    if (!a->path)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    return bg_assert_keep_value(a, obj, err);
}

static const cJSON *object_member(const cJSON *obj, const char *key, size_t keylen)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (it->string && strlen(it->string) == keylen && memcmp(it->string, key, keylen) == 0)
            return it;
    }
    return NULL;
}

/* One step of the walk; NULL with why set when the step does not exist. */
static const cJSON *jpath_step(const cJSON *node, const jseg *seg, const jpath *at, char *why,
                               size_t whysz)
{
    if (seg->is_index) {
        if (!cJSON_IsArray(node)) {
            snprintf(why, whysz, "%s: is %s, not an array", at->buf, bg_json_type_name(node));
            return NULL;
        }
        int n = cJSON_GetArraySize(node);
        if (seg->index >= n) {
            snprintf(why, whysz, "%s[%ld]: not found (array has %d items)", at->buf, seg->index, n);
            return NULL;
        }
        return cJSON_GetArrayItem(node, (int)seg->index);
    }
    if (!cJSON_IsObject(node)) {
        snprintf(why, whysz, "%s: is %s, not an object", at->buf, bg_json_type_name(node));
        return NULL;
    }
    const cJSON *m = object_member(node, seg->key, seg->keylen);
    if (!m)
        snprintf(why, whysz, "%s: no member \"%.*s\"", at->buf, (int)(seg->keylen > 40 ? 40 : seg->keylen),
                 seg->key);
    return m;
}

/* Walks a (validated) path; the node or NULL with why set. */
static const cJSON *jpath_walk(const cJSON *root, const char *p, char *why, size_t whysz)
{
    jpath at = {.buf = "$", .len = 1};
    size_t pos = jpath_start(p);
    jseg seg;
    const cJSON *node = root;
    while (node && jpath_next(p, &pos, &seg, why, whysz) > 0) {
        node = jpath_step(node, &seg, &at, why, whysz);
        if (seg.is_index) {
            jpath_push_index(&at, (int)seg.index);
        } else {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(seg.keylen > 40 ? 40 : seg.keylen), seg.key);
            jpath_push_key(&at, key);
        }
    }
    return node;
}

void bg_assert_eval_json_path(const bg_assertion *a, const bg_assert_input *in,
                              bg_assert_result *out)
{
    char why[WHY_BUF], qp[BG_ASSERT_EX_BUF], qv[BG_ASSERT_EX_BUF], qg[BG_ASSERT_EX_BUF];
    bool oom = false;
    cJSON *root = parse_answer(in->text, in->text_len, why, sizeof why, &oom);
    if (oom) {
        bg_assert_fail_error(out, "out of memory");
        return;
    }
    const cJSON *node = root ? jpath_walk(root, a->path, why, sizeof why) : NULL;
    bool eq = node && bg_assert_json_equal(node, a->value);
    bg_assert_verdict(out, a, eq);
    char *pv = bg_json_print(a->value), *pg = node ? bg_json_print(node) : NULL;
    bg_assert_quote(qp, sizeof qp, a->path, strlen(a->path), BG_ASSERT_EX_VALUE);
    bg_assert_quote(qv, sizeof qv, pv, pv ? strlen(pv) : 0, BG_ASSERT_EX_VALUE);
    bg_assert_quote(qg, sizeof qg, pg, pg ? strlen(pg) : 0, BG_ASSERT_EX_VALUE);
    if (!node)
        bg_assert_reason(out, "%s", why);
    else if (eq && !a->negate)
        bg_assert_reason(out, "%s equals %s", qp, qv);
    else if (eq)
        bg_assert_reason(out, "not-json-path: %s equals %s", qp, qv);
    else if (!a->negate)
        bg_assert_reason(out, "%s: expected %s, got %s", qp, qv, qg);
    else
        bg_assert_reason(out, "%s is %s, not %s", qp, qg, qv);
    free(pv);
    free(pg);
    cJSON_Delete(root);
}

/* ---------------------------------------------------------------- object in prose */

/* Length of the balanced {...} starting at s[0] (strings and escapes respected), or 0. */
static size_t match_brace(const char *s, size_t len)
{
    size_t depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{') {
            depth++;
        } else if (c == '}' && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

cJSON *bg_assert_json_find_object(const char *text, size_t len)
{
    /* Try a bounded number of '{' positions: prose may contain stray braces. */
    size_t off = 0;
    for (int tries = 0; tries < 32 && text && off < len; tries++) {
        const char *open = memchr(text + off, '{', len - off);
        if (!open)
            return NULL;
        size_t start = (size_t)(open - text);
        size_t n = match_brace(open, len - start);
        if (n) {
            cJSON *o = cJSON_ParseWithLength(open, n);
            if (cJSON_IsObject(o))
                return o;
            cJSON_Delete(o);
        }
        off = start + 1;
    }
    return NULL;
}
