/* suite.c — golden suites: parses JSONL text into bg_suite / bg_case (see suite.h).
 *
 * One case per line; blank lines and // comments are skipped, a UTF-8 BOM is ignored.
 * Every member of a case is either interpreted here (id, messages/prompt/template, assert,
 * tags, limits, ...), copied into the request body (the known OpenAI/vLLM request options
 * and everything under "request"), or rejected: a typo must never be sent to a server or
 * dropped silently. Errors read "PATH:LINE:COLUMN: FIELD: message"; the column is found by
 * walking the line's JSON text to the member the message names (suite_locate.c).
 *
 * This file does no network I/O and renders no templates (the release module does);
 * --suite arguments are expanded to files in suite_paths.c.
 */
#include <math.h>
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

/* How a member of a case is checked: our own keys, or request options by JSON type. */
typedef enum member_kind {
    M_CASE,        /* interpreted by case_parse, never sent */
    M_INT,         /* integer in [min, max] */
    M_NUM,         /* number in [min, max] */
    M_STR,         /* string */
    M_BOOL_OR_INT, /* logprobs: bool (chat) or integer (completions) */
    M_OBJ,         /* object */
    M_ARR,         /* array */
    M_STOP,        /* string or array of strings */
    M_STR_OR_OBJ   /* tool_choice */
} member_kind;

typedef struct member_spec {
    const char *name;
    member_kind kind;
    double min, max;
} member_spec;

static const member_spec k_members[] = {
    {"id", M_CASE, 0, 0},
    {"messages", M_CASE, 0, 0},
    {"prompt", M_CASE, 0, 0},
    {"template", M_CASE, 0, 0},
    {"vars", M_CASE, 0, 0},
    {"system_template", M_CASE, 0, 0},
    {"assert", M_CASE, 0, 0},
    {"tags", M_CASE, 0, 0},
    {"latency_ms", M_CASE, 0, 0},
    {"repeat", M_CASE, 0, 0},
    {"weight", M_CASE, 0, 0},
    {"threshold", M_CASE, 0, 0},
    {"stream", M_CASE, 0, 0},
    {"description", M_CASE, 0, 0},
    {"request", M_CASE, 0, 0},
    {"max_tokens", M_INT, 1, 100000000},
    {"max_completion_tokens", M_INT, 1, 100000000},
    {"min_tokens", M_INT, 0, 100000000},
    {"temperature", M_NUM, 0, 100},
    {"top_p", M_NUM, 0, 1},
    {"top_k", M_INT, -1, 100000000},
    {"seed", M_INT, -9007199254740992.0, 9007199254740992.0},
    {"stop", M_STOP, 0, 0},
    {"n", M_INT, 1, 128},
    {"presence_penalty", M_NUM, -100, 100},
    {"frequency_penalty", M_NUM, -100, 100},
    {"repetition_penalty", M_NUM, 0, 100},
    {"logit_bias", M_OBJ, 0, 0},
    {"response_format", M_OBJ, 0, 0},
    {"tools", M_ARR, 0, 0},
    {"tool_choice", M_STR_OR_OBJ, 0, 0},
    {"user", M_STR, 0, 0},
    {"model", M_STR, 0, 0},
    {"logprobs", M_BOOL_OR_INT, 0, 1000},
    {"top_logprobs", M_INT, 0, 1000},
};
#define N_MEMBERS (sizeof k_members / sizeof k_members[0])

/* Keys of "request" that bg-gate itself controls. */
static const char *const k_reserved_request[] = {"messages", "prompt", "stream", NULL};
static const char *const k_message_keys[] = {"role", "content", "name", "tool_calls",
                                             "tool_call_id", NULL};
static const char *const k_roles[] = {"system", "user", "assistant", "tool", "developer", NULL};
static const char *const k_latency_keys[] = {"max", "ttft", NULL};

/* Open-addressing set of case ids (indices into the cases array), for duplicate checks
 * that stay linear in the number of cases. */
typedef struct id_set {
    size_t *slots; /* case index + 1; 0 = empty */
    size_t cap;    /* power of two */
    size_t n;
} id_set;

/* ---------------------------------------------------------------- helpers */

static const member_spec *member_find(const char *name)
{
    for (size_t i = 0; i < N_MEMBERS; i++)
        if (strcmp(k_members[i].name, name) == 0)
            return &k_members[i];
    return NULL;
}

/* The NULL-terminated list of every member name, for bg_json_check_keys. */
static const char *const *member_names(void)
{
    static const char *names[N_MEMBERS + 1];
    if (!names[0])
        for (size_t i = 0; i < N_MEMBERS; i++)
            names[i] = k_members[i].name;
    return names;
}

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static bool is_whole(double v)
{
    return isfinite(v) && v == floor(v);
}

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

/* ---------------------------------------------------------------- members */

/* What a value is, for "got ..." in messages: the number itself, else its type. */
static const char *describe(char *out, size_t outsz, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        snprintf(out, outsz, "%g", v->valuedouble);
    else
        bg_strlcpy(out, bg_json_type_name(v), outsz);
    return out;
}

static int check_option(const member_spec *m, const cJSON *v, bg_error *err)
{
    const char *k = m->name;
    char got[48];
    switch (m->kind) {
    case M_INT:
        if (!cJSON_IsNumber(v) || !is_whole(v->valuedouble) || v->valuedouble < m->min ||
            v->valuedouble > m->max)
            return bg_error_set(err, BG_EINVAL, "%s: expected an integer from %.0f to %.0f, got %s",
                                k, m->min, m->max, describe(got, sizeof got, v));
        return 0;
    case M_NUM:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < m->min ||
            v->valuedouble > m->max)
            return bg_error_set(err, BG_EINVAL, "%s: expected a number from %g to %g, got %s", k,
                                m->min, m->max, describe(got, sizeof got, v));
        return 0;
    case M_STR:
        if (!cJSON_IsString(v))
            return bg_error_set(err, BG_EINVAL, "%s: expected a string, got %s", k,
                                bg_json_type_name(v));
        return 0;
    case M_BOOL_OR_INT:
        if (!cJSON_IsBool(v) && !(cJSON_IsNumber(v) && is_whole(v->valuedouble) &&
                                  v->valuedouble >= m->min && v->valuedouble <= m->max))
            return bg_error_set(err, BG_EINVAL, "%s: expected true, false or an integer, got %s",
                                k, describe(got, sizeof got, v));
        return 0;
    case M_OBJ:
        if (!cJSON_IsObject(v))
            return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", k,
                                bg_json_type_name(v));
        return 0;
    case M_ARR:
        if (!cJSON_IsArray(v))
            return bg_error_set(err, BG_EINVAL, "%s: expected an array, got %s", k,
                                bg_json_type_name(v));
        return 0;
    case M_STR_OR_OBJ:
        if (!cJSON_IsString(v) && !cJSON_IsObject(v))
            return bg_error_set(err, BG_EINVAL, "%s: expected a string or an object, got %s", k,
                                bg_json_type_name(v));
        return 0;
    case M_STOP: {
        if (cJSON_IsString(v))
            return 0;
        if (!cJSON_IsArray(v))
            return bg_error_set(err, BG_EINVAL, "%s: expected a string or an array of strings, got %s",
                                k, bg_json_type_name(v));
        int i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsString(it))
                return bg_error_set(err, BG_EINVAL, "%s[%d]: expected a string, got %s", k, i,
                                    bg_json_type_name(it));
            i++;
        }
        return 0;
    }
    case M_CASE:
        break;
    }
    return 0;
}

/* Adds a deep copy of v to body under key. */
static int body_add(cJSON *body, const char *key, const cJSON *v, bg_error *err)
{
    cJSON *copy = cJSON_Duplicate(v, true);
    if (!copy || !cJSON_AddItemToObject(body, key, copy)) {
        cJSON_Delete(copy);
        return bg_error_set(err, BG_ENOMEM, "%s: out of memory", key);
    }
    return 0;
}

static int check_content(const cJSON *content, const cJSON *msg, const char *p, bg_error *err)
{
    if (!content) {
        if (cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"))
            return 0;
        return bg_error_set(err, BG_EINVAL,
                            "%s.content: missing (a string or an array of parts is required)", p);
    }
    if (cJSON_IsString(content))
        return 0;
    if (cJSON_IsNull(content) && cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"))
        return 0;
    if (!cJSON_IsArray(content))
        return bg_error_set(err, BG_EINVAL,
                            "%s.content: expected a string or an array of parts, got %s", p,
                            bg_json_type_name(content));
    int i = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        if (!cJSON_IsObject(part) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(part, "type")))
            return bg_error_set(err, BG_EINVAL,
                                "%s.content[%d]: expected an object with a \"type\" string, got %s",
                                p, i, bg_json_type_name(part));
        i++;
    }
    if (i == 0)
        return bg_error_set(err, BG_EINVAL, "%s.content: must not be an empty array", p);
    return 0;
}

static int check_message(const cJSON *msg, int index, bg_error *err)
{
    char p[32];
    snprintf(p, sizeof p, "messages[%d]", index);
    if (!cJSON_IsObject(msg))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", p,
                            bg_json_type_name(msg));
    int rc = bg_json_check_keys(msg, k_message_keys, p, err);
    if (rc)
        return rc;
    const char *role = NULL;
    rc = bg_json_get_string(&role, msg, "role", p, true, err);
    if (rc)
        return rc;
    if (!in_list(k_roles, role))
        return bg_error_set(err, BG_EINVAL,
                            "%s.role: expected one of system, user, assistant, tool, developer, "
                            "got \"%.40s\"",
                            p, role);
    return check_content(cJSON_GetObjectItemCaseSensitive(msg, "content"), msg, p, err);
}

static int check_messages(const cJSON *msgs, bg_error *err)
{
    if (!cJSON_IsArray(msgs))
        return bg_error_set(err, BG_EINVAL, "messages: expected an array, got %s",
                            bg_json_type_name(msgs));
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        int rc = check_message(m, i++, err);
        if (rc)
            return rc;
    }
    if (i == 0)
        return bg_error_set(err, BG_EINVAL, "messages: must not be empty");
    return 0;
}

/* Sets is_chat, template_name, vars and the messages/prompt member of the body. */
static int parse_input(bg_case *c, const cJSON *obj, bg_error *err)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(obj, "messages");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(obj, "prompt");
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(obj, "template");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(obj, "vars");
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(obj, "system_template");
    int given = (msgs != NULL) + (prompt != NULL) + (tmpl != NULL);
    if (given == 0)
        return bg_error_set(err, BG_EINVAL,
                            "case needs one of \"messages\", \"prompt\" or \"template\"");
    if (given > 1)
        return bg_error_set(err, BG_EINVAL, "%s: only one of \"messages\", \"prompt\" or "
                                            "\"template\" may be given",
                            tmpl ? "template" : "prompt");
    if (vars && !tmpl)
        return bg_error_set(err, BG_EINVAL, "vars: only allowed with \"template\"");
    if (sys && !tmpl)
        return bg_error_set(err, BG_EINVAL, "system_template: only allowed with \"template\"");
    if (msgs) {
        c->is_chat = true;
        int rc = check_messages(msgs, err);
        return rc ? rc : body_add(c->body, "messages", msgs, err);
    }
    if (prompt) {
        if (!cJSON_IsString(prompt))
            return bg_error_set(err, BG_EINVAL, "prompt: expected a string, got %s",
                                bg_json_type_name(prompt));
        return body_add(c->body, "prompt", prompt, err);
    }
    if (!cJSON_IsString(tmpl) || !tmpl->valuestring[0])
        return bg_error_set(err, BG_EINVAL, "template: expected a non-empty string, got %s",
                            cJSON_IsString(tmpl) ? "\"\"" : bg_json_type_name(tmpl));
    if (vars && !cJSON_IsObject(vars))
        return bg_error_set(err, BG_EINVAL, "vars: expected an object, got %s",
                            bg_json_type_name(vars));
    if (sys && (!cJSON_IsString(sys) || !sys->valuestring[0]))
        return bg_error_set(err, BG_EINVAL,
                            "system_template: expected a non-empty string, got %s",
                            cJSON_IsString(sys) ? "\"\"" : bg_json_type_name(sys));
    c->is_chat = true;
    c->system_template = sys ? bg_strdup(sys->valuestring) : NULL;
    if (sys && !c->system_template)
        return bg_error_set(err, BG_ENOMEM, "system_template: out of memory");
    c->template_name = bg_strdup(tmpl->valuestring);
    c->vars = vars ? cJSON_Duplicate(vars, true) : NULL;
    if (!c->template_name || (vars && !c->vars))
        return bg_error_set(err, BG_ENOMEM, "template: out of memory");
    return 0;
}

static int parse_id(bg_case *c, const cJSON *obj, bg_error *err)
{
    const char *id = NULL;
    int rc = bg_json_get_string(&id, obj, "id", "", true, err);
    if (rc)
        return rc;
    if (!id[0])
        return bg_error_set(err, BG_EINVAL, "id: must not be empty");
    c->id = bg_strdup(id);
    return c->id ? 0 : bg_error_set(err, BG_ENOMEM, "id: out of memory");
}

static int parse_asserts(bg_case *c, const cJSON *obj, bg_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "assert");
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return bg_error_set(err, BG_EINVAL, "assert: expected an array, got %s",
                            bg_json_type_name(arr));
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        return 0;
    c->asserts = calloc((size_t)n, sizeof *c->asserts);
    if (!c->asserts)
        return bg_error_set(err, BG_ENOMEM, "assert: out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        char p[32];
        snprintf(p, sizeof p, "assert[%zu]", c->n_asserts);
        if (!cJSON_IsObject(it))
            return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", p,
                                bg_json_type_name(it));
        int rc = bg_assertion_parse(&c->asserts[c->n_asserts], it, p, err);
        if (rc)
            return rc;
        c->n_asserts++;
    }
    return 0;
}

static int parse_tags(bg_case *c, const cJSON *obj, bg_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "tags");
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return bg_error_set(err, BG_EINVAL, "tags: expected an array of strings, got %s",
                            bg_json_type_name(arr));
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        return 0;
    c->tags = calloc((size_t)n, sizeof *c->tags);
    if (!c->tags)
        return bg_error_set(err, BG_ENOMEM, "tags: out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it) || !it->valuestring[0])
            return bg_error_set(err, BG_EINVAL, "tags[%zu]: expected a non-empty string, got %s",
                                c->n_tags,
                                cJSON_IsString(it) ? "\"\"" : bg_json_type_name(it));
        c->tags[c->n_tags] = bg_strdup(it->valuestring);
        if (!c->tags[c->n_tags])
            return bg_error_set(err, BG_ENOMEM, "tags: out of memory");
        c->n_tags++;
    }
    return 0;
}

/* A number > 0 (milliseconds) at path. */
static int positive_ms(double *out, const cJSON *v, const char *path, bg_error *err)
{
    char got[48];
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0)
        return bg_error_set(err, BG_EINVAL, "%s: expected a number of milliseconds > 0, got %s",
                            path, describe(got, sizeof got, v));
    *out = v->valuedouble;
    return 0;
}

static int parse_latency(bg_case *c, const cJSON *obj, bg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "latency_ms");
    if (!v)
        return 0;
    if (cJSON_IsNumber(v))
        return positive_ms(&c->latency_max_ms, v, "latency_ms", err);
    if (!cJSON_IsObject(v))
        return bg_error_set(err, BG_EINVAL,
                            "latency_ms: expected a number or an object {\"max\": N, \"ttft\": N}, "
                            "got %s",
                            bg_json_type_name(v));
    int rc = bg_json_check_keys(v, k_latency_keys, "latency_ms", err);
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(v, "max");
    const cJSON *ttft = cJSON_GetObjectItemCaseSensitive(v, "ttft");
    if (!rc && !max && !ttft)
        rc = bg_error_set(err, BG_EINVAL, "latency_ms: needs \"max\" or \"ttft\"");
    if (!rc && max)
        rc = positive_ms(&c->latency_max_ms, max, "latency_ms.max", err);
    if (!rc && ttft)
        rc = positive_ms(&c->ttft_max_ms, ttft, "latency_ms.ttft", err);
    return rc;
}

static int parse_numbers(bg_case *c, const cJSON *obj, bg_error *err)
{
    long repeat = 0;
    bool stream = false;
    char got[48];
    int rc = bg_json_get_long(&repeat, obj, "repeat", "", 1, 1000, false, err);
    if (rc)
        return rc;
    c->repeat = (int)repeat;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(obj, "weight");
    if (w && (!cJSON_IsNumber(w) || !isfinite(w->valuedouble) || w->valuedouble < 0))
        return bg_error_set(err, BG_EINVAL, "weight: expected a number >= 0, got %s",
                            describe(got, sizeof got, w));
    if (w)
        c->weight = w->valuedouble;
    if (cJSON_GetObjectItemCaseSensitive(obj, "threshold")) {
        rc = bg_json_get_double(&c->threshold, obj, "threshold", "", 0, 1, true, err);
        if (rc)
            return rc;
        c->has_threshold = true;
    }
    if (cJSON_GetObjectItemCaseSensitive(obj, "stream")) {
        rc = bg_json_get_bool(&stream, obj, "stream", "", true, err);
        if (rc)
            return rc;
        c->stream = stream ? 1 : 0;
    }
    const char *desc = NULL;
    return bg_json_get_string(&desc, obj, "description", "", false, err);
}

/* Copies the request options given at the top level of the case, in file order. */
static int parse_options(bg_case *c, const cJSON *obj, bg_error *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        const member_spec *m = member_find(it->string);
        if (!m || m->kind == M_CASE)
            continue;
        int rc = check_option(m, it, err);
        if (!rc)
            rc = body_add(c->body, it->string, it, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Copies every member of "request" as-is, refusing what bg-gate controls or what the
 * case already sets (a key sent twice would be ambiguous). */
static int parse_request(bg_case *c, const cJSON *obj, bg_error *err)
{
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(obj, "request");
    if (!req)
        return 0;
    if (!cJSON_IsObject(req))
        return bg_error_set(err, BG_EINVAL, "request: expected an object, got %s",
                            bg_json_type_name(req));
    const cJSON *it;
    cJSON_ArrayForEach(it, req)
    {
        if (in_list(k_reserved_request, it->string))
            return bg_error_set(err, BG_EINVAL,
                                "request.%s: set by bg-gate; use the case's own fields", it->string);
        if (cJSON_GetObjectItemCaseSensitive(c->body, it->string))
            return bg_error_set(err, BG_EINVAL, "request.%s: already set by \"%s\" in the case",
                                it->string, it->string);
        int rc = body_add(c->body, it->string, it, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Rejects a member name given twice in one object (cJSON keeps both; the second would
 * be silently ignored by every lookup). */
static int check_duplicate_keys(const cJSON *obj, bg_error *err)
{
    for (const cJSON *a = obj->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                return bg_error_set(err, BG_EINVAL, "%s: given twice", a->string);
    return 0;
}

static void case_dispose(bg_case *c)
{
    free(c->id);
    cJSON_Delete(c->body);
    for (size_t i = 0; i < c->n_asserts; i++)
        bg_assertion_dispose(&c->asserts[i]);
    free(c->asserts);
    for (size_t i = 0; i < c->n_tags; i++)
        free(c->tags[i]);
    free(c->tags);
    free(c->template_name);
    free(c->system_template);
    cJSON_Delete(c->vars);
    memset(c, 0, sizeof *c);
}

/* Fills c from one case object; on failure err holds "FIELD: message" and c is disposed. */
/* A case that says "stream": false never measures a time to first token, so a ttft limit
 * on it (latency_ms.ttft, or a `latency` assertion on ttft) could only fail every run: an
 * input error when the suite loads. Without "stream" the run's --stream/--no-stream decides,
 * and a run that measured no TTFT fails with the reason (runner_score.c, assert_score.c). */
static int check_ttft_is_measurable(const bg_case *c, bg_error *err)
{
    static const char why[] = "time to first token is measured only on streamed answers, and "
                              "the case sets \"stream\": false";
    if (c->stream != 0)
        return 0;
    if (c->ttft_max_ms > 0)
        return bg_error_set(err, BG_EINVAL, "latency_ms.ttft: %s", why);
    for (size_t i = 0; i < c->n_asserts; i++) {
        const bg_assertion *a = &c->asserts[i];
        if (a->kind == BG_ASSERT_LATENCY && a->metric && strcmp(a->metric, "ttft") == 0)
            return bg_error_set(err, BG_EINVAL, "assert[%zu].metric: %s", i, why);
    }
    return 0;
}

static int case_parse(bg_case *c, const cJSON *obj, bg_error *err)
{
    memset(c, 0, sizeof *c);
    c->weight = 1;
    c->stream = -1;
    c->body = cJSON_CreateObject();
    int rc = c->body ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc)
        rc = check_duplicate_keys(obj, err);
    if (!rc)
        rc = bg_json_check_keys(obj, member_names(), "", err);
    if (!rc)
        rc = parse_id(c, obj, err);
    if (!rc)
        rc = parse_input(c, obj, err);
    if (!rc)
        rc = parse_options(c, obj, err);
    if (!rc)
        rc = parse_request(c, obj, err);
    if (!rc)
        rc = parse_asserts(c, obj, err);
    if (!rc)
        rc = parse_tags(c, obj, err);
    if (!rc)
        rc = parse_latency(c, obj, err);
    if (!rc)
        rc = parse_numbers(c, obj, err);
    if (!rc)
        rc = check_ttft_is_measurable(c, err);
    if (rc)
        case_dispose(c);
    return rc;
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
    int rc = case_parse(c, obj, &cerr);
    if (!rc) {
        c->line = lineno;
        size_t first = id_set_find(&st->ids, s->cases, c->id);
        if (first != SIZE_MAX)
            rc = bg_error_set(&cerr, BG_EINVAL, "id: duplicate id \"%.100s\" (first on line %d)",
                              c->id, s->cases[first].line);
        else if (id_set_add(&st->ids, s->cases, s->n_cases) != 0)
            rc = bg_error_set(&cerr, BG_ENOMEM, "out of memory");
        if (rc)
            case_dispose(c);
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
        case_dispose(&s->cases[i]);
    free(s->cases);
    free(s->path);
    free(s->name);
    free(s);
}
