/* suite_case.c — one case of a golden suite: checks the members of a case object and
 * fills a bg_case (see suite.h). Every member is either interpreted here (id,
 * messages/prompt/template, assert, tags, limits, ...), copied into the request body (the
 * known OpenAI/vLLM request options and everything under "request"), or rejected: a typo
 * must never be sent to a server or dropped silently. Errors read "FIELD: message"; the
 * caller (suite.c) adds the path, line and column.
 *
 * This file reads no files and knows nothing of lines: suite.c splits the JSONL text.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/suite.h"
#include "bggate/util.h"

#include "suite_internal.h"

/* How a member of a case is checked: our own keys, or request options by JSON type. */
typedef enum member_kind {
    M_CASE,        /* interpreted by bg_suite_case_parse, never sent */
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

void bg_suite_case_dispose(bg_case *c)
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

int bg_suite_case_parse(bg_case *c, const cJSON *obj, bg_error *err)
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
        bg_suite_case_dispose(c);
    return rc;
}
