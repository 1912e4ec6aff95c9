/* manifest.c — a release read back from a bundle's release.json (the shape
 * bg_release_to_json writes), for `resolve --against live` when the live commit is not in
 * the clone (a shallow CI checkout): the bundle holds every field a diff needs.
 */
#include <stdlib.h>
#include <string.h>

#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/util.h"
#include "release_internal.h"

#define MAX_MANIFEST_BYTES (16u << 20)

static int copy_string(char **out, const cJSON *obj, const char *key, const char *path,
                       bool required, bg_error *err)
{
    const char *v = NULL;
    if (!required && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, key)))
        return 0; /* "revision": null */
    int rc = bg_json_get_string(&v, obj, key, path, required, err);
    if (rc || !v)
        return rc;
    *out = bg_strdup(v);
    return *out ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

/* A fixed-size hex id (commit, release id, blob). */
static int copy_hex(char *out, size_t width, const cJSON *obj, const char *key, const char *path,
                    bg_error *err)
{
    const char *v = NULL;
    int rc = bg_json_get_string(&v, obj, key, path, true, err);
    if (rc)
        return rc;
    if (strlen(v) != width || strspn(v, "0123456789abcdef") != width)
        return bg_error_set(err, BG_EINVAL, "%s.%s: expected %zu hex digits", path, key, width);
    memcpy(out, v, width + 1);
    return 0;
}

static int copy_strings(char ***out, size_t *n, const cJSON *arr, const char *path, bg_error *err)
{
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return bg_error_set(err, BG_EINVAL, "%s: expected an array", path);
    size_t count = (size_t)cJSON_GetArraySize(arr);
    if (!(*out = calloc(count ? count : 1, sizeof **out)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "%s[%zu]: expected a string", path, *n);
        if (!((*out)[*n] = bg_strdup(it->valuestring)))
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        ++*n;
    }
    return 0;
}

static int read_model(bg_release *r, const cJSON *m, bg_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(m, "model");
    if (!cJSON_IsObject(model))
        return bg_error_set(err, BG_EINVAL, "model: expected an object");
    int rc = copy_string(&r->model_name, model, "name", "model", true, err);
    if (!rc)
        rc = copy_string(&r->model_revision, model, "revision", "model", false, err);
    if (!rc)
        rc = copy_string(&r->served_name, model, "served_name", "model", true, err);
    return rc;
}

static int read_templates(bg_release *r, const cJSON *m, bg_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(m, "templates"), *e;
    if (!cJSON_IsArray(arr))
        return bg_error_set(err, BG_EINVAL, "templates: expected an array");
    size_t count = (size_t)cJSON_GetArraySize(arr);
    if (!(r->templates = calloc(count ? count : 1, sizeof *r->templates)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    cJSON_ArrayForEach(e, arr)
    {
        bg_template *t = &r->templates[r->n_templates++];
        long size = 0;
        int rc = copy_string(&t->name, e, "name", "templates[]", true, err);
        if (!rc)
            rc = copy_string(&t->path, e, "path", "templates[]", true, err);
        if (!rc)
            rc = copy_hex(t->oid, BG_OID_HEX, e, "blob", "templates[]", err);
        if (!rc)
            rc = bg_json_get_long(&size, e, "size", "templates[]", 0, BG_MAX_TEMPLATE_BYTES, true,
                                  err);
        if (rc)
            return rc;
        t->size = (size_t)size;
    }
    return 0;
}

static int read_serving(bg_release *r, const cJSON *m, bg_error *err)
{
    const cJSON *serving = cJSON_GetObjectItemCaseSensitive(m, "serving");
    if (!serving)
        return 0;
    int rc = copy_strings(&r->serving_args, &r->n_serving_args,
                          cJSON_GetObjectItemCaseSensitive(serving, "args"), "serving.args", err);
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(serving, "env"), *it;
    if (rc || !env)
        return rc;
    if (!cJSON_IsObject(env))
        return bg_error_set(err, BG_EINVAL, "serving.env: expected an object");
    size_t count = (size_t)cJSON_GetArraySize(env);
    r->env_keys = calloc(count ? count : 1, sizeof *r->env_keys);
    r->env_values = calloc(count ? count : 1, sizeof *r->env_values);
    if (!r->env_keys || !r->env_values)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    cJSON_ArrayForEach(it, env) /* written sorted by key */
    {
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "serving.env.%s: expected a string", it->string);
        size_t i = r->n_env++;
        if (!(r->env_keys[i] = bg_strdup(it->string)) ||
            !(r->env_values[i] = bg_strdup(it->valuestring)))
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    return 0;
}

static int read_release(bg_release *r, const cJSON *m, bg_error *err)
{
    if (!cJSON_IsObject(m))
        return bg_error_set(err, BG_EINVAL, "expected a JSON object");
    int rc = copy_hex(r->commit, BG_OID_HEX, m, "commit", "", err);
    if (!rc)
        rc = copy_hex(r->id, BG_RELEASE_ID_HEX, m, "release_id", "", err);
    if (!rc)
        rc = read_model(r, m, err);
    if (!rc)
        rc = read_templates(r, m, err);
    if (!rc)
        rc = read_serving(r, m, err);
    if (!rc)
        rc = copy_strings(&r->suites, &r->n_suites, cJSON_GetObjectItemCaseSensitive(m, "suites"),
                          "suites", err);
    return rc;
}

int bg_release_from_manifest(bg_release **out, const char *path, bg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    cJSON *m = NULL;
    bg_release *r = NULL;
    *out = NULL;
    int rc = bg_file_read(&text, &len, path, MAX_MANIFEST_BYTES, err);
    if (!rc && !(r = calloc(1, sizeof *r)))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc && !(m = cJSON_ParseWithLength(text, len)))
        rc = bg_error_set(err, BG_EINVAL, "%s: invalid JSON", path);
    else if (!rc && (rc = read_release(r, m, err)))
        bg_error_prefix(err, "%s", path);
    if (!rc) {
        *out = r;
        r = NULL;
    }
    bg_release_free(r);
    cJSON_Delete(m);
    free(text);
    return rc;
}
