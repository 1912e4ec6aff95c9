/* table.c — bg-mock's answers table: which text a prompt gets.
 *
 * A table maps exact prompts to answers, then falls back to "contains" rules in order,
 * then to a default answer. This is what lets tests simulate a "good" and a "bad" model
 * deterministically. The table is immutable after loading, so lookups need no lock.
 * Exact prompts are kept sorted for binary search. No I/O beyond reading the file.
 */
#include <stdlib.h>
#include <string.h>

#include "bggate/json.h"
#include "bggate/util.h"
#include "mock.h"

typedef struct exact_entry {
    char *prompt;
    bg_mock_answer ans;
} exact_entry;

typedef struct rule_entry {
    char *contains;
    bg_mock_answer ans;
} rule_entry;

struct bg_mock_table {
    char *model;
    exact_entry *exact;
    size_t nexact;
    rule_entry *rules;
    size_t nrules;
    bg_mock_answer def;
};

/* "parent.key", or "key" at the root. Never fails: truncates into out. */
static void join_path(char *out, size_t outsz, const char *parent, const char *key)
{
    if (parent == NULL || parent[0] == '\0')
        snprintf(out, outsz, "%s", key);
    else
        snprintf(out, outsz, "%s.%s", parent, key);
}

static int answer_from_object(bg_mock_answer *out, const cJSON *v, const char *path,
                              bg_error *err)
{
    static const char *const keys[] = {"text", "finish_reason", NULL};
    const char *text = NULL, *finish = "stop";
    int rc = bg_json_check_keys(v, keys, path, err);
    if (rc == 0)
        rc = bg_json_get_string(&text, v, "text", path, true, err);
    if (rc == 0)
        rc = bg_json_get_string(&finish, v, "finish_reason", path, false, err);
    if (rc != 0)
        return rc;
    if (strcmp(finish, "stop") != 0 && strcmp(finish, "length") != 0)
        return bg_error_set(err, BG_EINVAL, "%s.finish_reason: expected \"stop\" or \"length\"",
                            path);
    out->text = bg_strdup(text);
    if (out->text == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    out->finish_reason = strcmp(finish, "stop") == 0 ? "stop" : "length";
    return 0;
}

/* An answer is a string or {"text": ..., "finish_reason": ...}. */
static int answer_parse(bg_mock_answer *out, const cJSON *v, const char *path, bg_error *err)
{
    if (cJSON_IsString(v)) {
        out->text = bg_strdup(v->valuestring);
        out->finish_reason = "stop";
        return out->text ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    if (cJSON_IsObject(v))
        return answer_from_object(out, v, path, err);
    return bg_error_set(err, BG_EINVAL, "%s: expected a string or an object, got %s", path,
                        bg_json_type_name(v));
}

static int cmp_exact(const void *a, const void *b)
{
    return strcmp(((const exact_entry *)a)->prompt, ((const exact_entry *)b)->prompt);
}

static int parse_exact(bg_mock_table *t, const cJSON *answers, const char *path, bg_error *err)
{
    char sub[512], shown[64];
    const cJSON *it;
    if (!cJSON_IsObject(answers))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", path,
                            bg_json_type_name(answers));
    t->exact = calloc((size_t)cJSON_GetArraySize(answers) + 1, sizeof(*t->exact));
    if (t->exact == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    cJSON_ArrayForEach(it, answers) {
        exact_entry *e = &t->exact[t->nexact];
        bg_excerpt(shown, sizeof(shown), it->string, strlen(it->string), 40);
        snprintf(sub, sizeof(sub), "%s[\"%s\"]", path, shown);
        e->prompt = bg_strdup(it->string);
        if (e->prompt == NULL)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        t->nexact++;
        int rc = answer_parse(&e->ans, it, sub, err);
        if (rc != 0)
            return rc;
    }
    qsort(t->exact, t->nexact, sizeof(*t->exact), cmp_exact);
    for (size_t i = 1; i < t->nexact; i++) {
        if (strcmp(t->exact[i - 1].prompt, t->exact[i].prompt) == 0) {
            bg_excerpt(shown, sizeof(shown), t->exact[i].prompt, strlen(t->exact[i].prompt), 40);
            return bg_error_set(err, BG_EINVAL, "%s: prompt \"%s\" appears twice", path, shown);
        }
    }
    return 0;
}

static int parse_rule(rule_entry *r, const cJSON *v, const char *path, bg_error *err)
{
    static const char *const keys[] = {"contains", "answer", NULL};
    char sub[512];
    const char *contains = NULL;
    if (!cJSON_IsObject(v))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", path,
                            bg_json_type_name(v));
    int rc = bg_json_check_keys(v, keys, path, err);
    if (rc == 0)
        rc = bg_json_get_string(&contains, v, "contains", path, true, err);
    if (rc != 0)
        return rc;
    if (contains[0] == '\0')
        return bg_error_set(err, BG_EINVAL, "%s.contains: must not be empty", path);
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(v, "answer");
    if (ans == NULL)
        return bg_error_set(err, BG_EINVAL, "%s.answer: missing", path);
    r->contains = bg_strdup(contains);
    if (r->contains == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    join_path(sub, sizeof(sub), path, "answer");
    return answer_parse(&r->ans, ans, sub, err);
}

static int parse_rules(bg_mock_table *t, const cJSON *rules, const char *path, bg_error *err)
{
    char sub[512];
    const cJSON *it;
    if (!cJSON_IsArray(rules))
        return bg_error_set(err, BG_EINVAL, "%s: expected an array, got %s", path,
                            bg_json_type_name(rules));
    t->rules = calloc((size_t)cJSON_GetArraySize(rules) + 1, sizeof(*t->rules));
    if (t->rules == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    cJSON_ArrayForEach(it, rules) {
        snprintf(sub, sizeof(sub), "%s[%zu]", path, t->nrules);
        int rc = parse_rule(&t->rules[t->nrules++], it, sub, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int parse_members(bg_mock_table *t, const cJSON *json, const char *path, bg_error *err)
{
    static const char *const keys[] = {"model", "answers", "rules", "default", NULL};
    char sub[512];
    const char *model = NULL;
    const cJSON *v;
    int rc = bg_json_check_keys(json, keys, path, err);
    if (rc == 0)
        rc = bg_json_get_string(&model, json, "model", path, false, err);
    if (rc != 0)
        return rc;
    if (model != NULL && (t->model = bg_strdup(model)) == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if ((v = cJSON_GetObjectItemCaseSensitive(json, "answers")) != NULL) {
        join_path(sub, sizeof(sub), path, "answers");
        if ((rc = parse_exact(t, v, sub, err)) != 0)
            return rc;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(json, "rules")) != NULL) {
        join_path(sub, sizeof(sub), path, "rules");
        if ((rc = parse_rules(t, v, sub, err)) != 0)
            return rc;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(json, "default")) != NULL) {
        join_path(sub, sizeof(sub), path, "default");
        return answer_parse(&t->def, v, sub, err);
    }
    t->def.text = bg_strdup(BG_MOCK_DEFAULT_ANSWER);
    t->def.finish_reason = "stop";
    return t->def.text ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

int bg_mock_table_parse(bg_mock_table **out, const cJSON *json, const char *path,
                        bg_error *err)
{
    int rc;
    bg_mock_table *t = NULL;
    *out = NULL;
    if (!cJSON_IsObject(json)) {
        rc = bg_error_set(err, BG_EINVAL, "%s%sexpected an object, got %s", path,
                          path[0] ? ": " : "", bg_json_type_name(json));
        goto cleanup;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if ((rc = parse_members(t, json, path, err)) != 0)
        goto cleanup;
    *out = t;
    t = NULL;
cleanup:
    bg_mock_table_free(t);
    return rc;
}

int bg_mock_table_load(bg_mock_table **out, const char *file, bg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    cJSON *json = NULL;
    int rc;
    *out = NULL;
    if ((rc = bg_file_read(&text, &len, file, BG_MOCK_MAX_TABLE_BYTES, err)) != 0)
        goto cleanup;
    const char *end = NULL;
    json = cJSON_ParseWithOpts(text, &end, 0);
    if (json == NULL) {
        int line = 0, col = 0;
        bg_text_position(text, end ? (size_t)(end - text) : 0, &line, &col);
        rc = bg_error_set(err, BG_EINVAL, "%s:%d:%d: not valid JSON", file, line, col);
        goto cleanup;
    }
    if ((rc = bg_mock_table_parse(out, json, "", err)) != 0)
        bg_error_prefix(err, "%s", file);
cleanup:
    cJSON_Delete(json);
    free(text);
    return rc;
}

int bg_mock_table_new_empty(bg_mock_table **out, bg_error *err)
{
    cJSON *empty = cJSON_CreateObject();
    if (empty == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int rc = bg_mock_table_parse(out, empty, "", err);
    cJSON_Delete(empty);
    return rc;
}

void bg_mock_table_free(bg_mock_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nexact; i++) {
        free(t->exact[i].prompt);
        free(t->exact[i].ans.text);
    }
    for (size_t i = 0; i < t->nrules; i++) {
        free(t->rules[i].contains);
        free(t->rules[i].ans.text);
    }
    free(t->exact);
    free(t->rules);
    free(t->def.text);
    free(t->model);
    free(t);
}

const bg_mock_answer *bg_mock_table_lookup(const bg_mock_table *t, const char *prompt)
{
    exact_entry key = {.prompt = (char *)prompt};
    const exact_entry *hit = NULL;
    if (t->nexact > 0)
        hit = bsearch(&key, t->exact, t->nexact, sizeof(*t->exact), cmp_exact);
    if (hit != NULL)
        return &hit->ans;
    for (size_t i = 0; i < t->nrules; i++) {
        if (strstr(prompt, t->rules[i].contains) != NULL)
            return &t->rules[i].ans;
    }
    return &t->def;
}

const char *bg_mock_table_model(const bg_mock_table *t)
{
    return t ? t->model : NULL;
}
