/* diff.c — what changed between two releases (typically live → candidate), as flags and
 * template names, as JSON, and as advice on which caches a deploy invalidates.
 *
 * Templates are compared by name and blob id: a template that moved to another path with
 * the same bytes is not a change (the path is not part of the release id either). Suites
 * are reported but do not make a diff non-empty: they gate a release, they are not
 * deployed.
 */
#include <stdlib.h>
#include <string.h>

#include "bggate/buf.h"
#include "bggate/util.h"
#include "release_internal.h"

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!str_eq(a[i], b[i]))
            return false;
    return true;
}

static bool env_eq(const bg_release *a, const bg_release *b)
{
    return strv_eq(a->env_keys, a->n_env, b->env_keys, b->n_env) &&
           strv_eq(a->env_values, a->n_env, b->env_values, b->n_env);
}

static int push_name(char ***v, size_t *n, const char *name)
{
    char **grown = realloc(*v, (*n + 1) * sizeof **v);
    if (!grown)
        return BG_ENOMEM;
    *v = grown;
    if (!(grown[*n] = bg_strdup(name)))
        return BG_ENOMEM;
    (*n)++;
    return 0;
}

static int diff_templates(bg_release_diff *d, const bg_release *from, const bg_release *to)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < to->n_templates; i++) {
        const bg_template *t = &to->templates[i];
        const bg_template *old = bg_release_template(from, t->name);
        if (!old)
            rc = push_name(&d->templates_added, &d->n_added, t->name);
        else if (strcmp(old->oid, t->oid) != 0)
            rc = push_name(&d->templates_changed, &d->n_changed, t->name);
    }
    for (size_t i = 0; !rc && i < from->n_templates; i++) {
        const char *name = from->templates[i].name;
        if (!bg_release_template(to, name))
            rc = push_name(&d->templates_removed, &d->n_removed, name);
    }
    return rc;
}

int bg_release_diff_compute(bg_release_diff *out, const bg_release *from, const bg_release *to,
                            bg_error *err)
{
    memset(out, 0, sizeof *out);
    out->model = !str_eq(from->model_name, to->model_name) ||
                 !str_eq(from->model_revision, to->model_revision) ||
                 !str_eq(from->served_name, to->served_name);
    out->serving =
        !strv_eq(from->serving_args, from->n_serving_args, to->serving_args, to->n_serving_args) ||
        !env_eq(from, to);
    out->suites = !strv_eq(from->suites, from->n_suites, to->suites, to->n_suites);
    if (diff_templates(out, from, to)) {
        bg_release_diff_dispose(out);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    return 0;
}

void bg_release_diff_dispose(bg_release_diff *d)
{
    if (!d)
        return;
    bg_release_free_strv(d->templates_added, d->n_added);
    bg_release_free_strv(d->templates_removed, d->n_removed);
    bg_release_free_strv(d->templates_changed, d->n_changed);
    memset(d, 0, sizeof *d);
}

static bool templates_differ(const bg_release_diff *d)
{
    return d->n_added || d->n_removed || d->n_changed;
}

bool bg_release_diff_is_empty(const bg_release_diff *d)
{
    return !d->model && !d->serving && !templates_differ(d);
}

/* --- advice --- */

static int push_line(char ***lines, size_t *n, const char *text)
{
    return push_name(lines, n, text);
}

/* "qa, new (added), old (removed)" */
static int template_names(bg_buf *b, const bg_release_diff *d)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < d->n_changed; i++)
        rc = bg_buf_printf(b, "%s%s", b->len ? ", " : "", d->templates_changed[i]);
    for (size_t i = 0; !rc && i < d->n_added; i++)
        rc = bg_buf_printf(b, "%s%s (added)", b->len ? ", " : "", d->templates_added[i]);
    for (size_t i = 0; !rc && i < d->n_removed; i++)
        rc = bg_buf_printf(b, "%s%s (removed)", b->len ? ", " : "", d->templates_removed[i]);
    return rc;
}

static int template_advice(char ***lines, size_t *n, const bg_release_diff *d)
{
    bg_buf names, line;
    bg_buf_init(&names, 0);
    bg_buf_init(&line, 0);
    int rc = template_names(&names, d);
    if (!rc)
        rc = bg_buf_printf(&line,
                           "templates changed (%s): semantic-cache entries produced with the old "
                           "templates are invalid; the prefix cache of unchanged prefixes stays "
                           "valid",
                           bg_buf_cstr(&names));
    if (!rc)
        rc = push_line(lines, n, bg_buf_cstr(&line));
    bg_buf_dispose(&names);
    bg_buf_dispose(&line);
    return rc;
}

int bg_release_diff_advice(char ***lines, size_t *n, const bg_release_diff *d)
{
    int rc = 0;
    if (d->model)
        rc = push_line(lines, n,
                       "model changed: the prefix cache starts cold and semantic-cache entries "
                       "keyed on model output are invalid");
    if (!rc && templates_differ(d))
        rc = template_advice(lines, n, d);
    if (!rc && d->serving)
        rc = push_line(lines, n,
                       "serving arguments or environment changed: the server restarts, so its "
                       "caches start cold");
    if (!rc && bg_release_diff_is_empty(d))
        rc = push_line(lines, n,
                       d->suites ? "only the eval suites changed: nothing is redeployed, caches "
                                   "stay valid"
                                 : "nothing deployed changed: caches stay valid");
    return rc;
}

/* --- JSON --- */

static cJSON *names_json(char *const *v, size_t n)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *s = cJSON_CreateString(v[i]);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static bool add_owned(cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return true;
    cJSON_Delete(item);
    return false;
}

static cJSON *templates_json(const bg_release_diff *d)
{
    cJSON *t = cJSON_CreateObject();
    if (!t || !add_owned(t, "added", names_json(d->templates_added, d->n_added)) ||
        !add_owned(t, "removed", names_json(d->templates_removed, d->n_removed)) ||
        !add_owned(t, "changed", names_json(d->templates_changed, d->n_changed))) {
        cJSON_Delete(t);
        return NULL;
    }
    return t;
}

cJSON *bg_release_diff_to_json(const bg_release_diff *d)
{
    char **lines = NULL;
    size_t n = 0;
    cJSON *o = cJSON_CreateObject();
    bool ok = o && bg_release_diff_advice(&lines, &n, d) == 0 &&
              add_owned(o, "changed", cJSON_CreateBool(!bg_release_diff_is_empty(d))) &&
              add_owned(o, "model", cJSON_CreateBool(d->model)) &&
              add_owned(o, "serving", cJSON_CreateBool(d->serving)) &&
              add_owned(o, "suites", cJSON_CreateBool(d->suites)) &&
              add_owned(o, "templates", templates_json(d)) &&
              add_owned(o, "cache", names_json(lines, n));
    bg_release_free_strv(lines, n);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
