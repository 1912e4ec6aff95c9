/* config.c — loads bg-gate.json and validates its `gate` section (see config.h).
 *
 * The other sections are only checked for being objects here; their owners (release,
 * pools, router, deploy) validate them in their own modules.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/config.h"
#include "bggate/gate.h"
#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/util.h"

static const char *const top_keys[] = {"$schema", "environment", "release", "pools", "health",
                                       "router", "gate", "promotion", "state", "hooks",
                                       "notify", NULL};
static const char *const gate_keys[] = {
    "suites",      "endpoints",   "model",      "concurrency", "rate",      "arrivals",
    "repeat",      "timeout_ms",  "stream",     "max_retries", "api_key_env", "headers", "request",
    "thresholds",  "embeddings",  "judge",      "reports",     "baseline",  "baseline_alpha",
    NULL};
static const char *const aux_keys[] = {"endpoint", "model", NULL};
static const char *const report_keys[] = {"junit", "json", "markdown", "metrics", NULL};

static void gate_defaults(bg_gate_config *g)
{
    memset(g, 0, sizeof *g);
    g->concurrency = 8;
    g->poisson = true;
    g->repeat = 1;
    g->timeout_ms = 60000;
    g->stream = true;
    g->max_retries = 2;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void gate_dispose(bg_gate_config *g)
{
    free_strv(g->suites, g->n_suites);
    free_strv(g->endpoints, g->n_endpoints);
    free_strv(g->headers, g->n_headers);
    free(g->model);
    free(g->api_key_env);
    free(g->thresholds);
    free(g->embeddings_endpoint);
    free(g->embeddings_model);
    free(g->judge_endpoint);
    free(g->judge_model);
    free(g->junit);
    free(g->json_report);
    free(g->markdown);
    free(g->metrics);
    free_strv(g->baseline, g->n_baseline);
    cJSON_Delete(g->request);
}

void bg_config_free(bg_config *cfg)
{
    if (!cfg)
        return;
    gate_dispose(&cfg->gate);
    cJSON_Delete(cfg->root);
    free(cfg->path);
    free(cfg->dir);
    free(cfg);
}

int bg_config_defaults(bg_config **out, bg_error *err)
{
    bg_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    gate_defaults(&cfg->gate);
    cfg->dir = bg_strdup(".");
    *out = cfg;
    return 0;
}

int bg_url_check(const char *url, bg_error *err)
{
    const char *rest = NULL;
    if (bg_str_starts_with(url, "http://"))
        rest = url + 7;
    else if (bg_str_starts_with(url, "https://"))
        rest = url + 8;
    if (!rest)
        return bg_error_set(err, BG_EINVAL, "\"%s\" is not an http:// or https:// URL", url);
    if (!*rest || *rest == '/' || *rest == ':')
        return bg_error_set(err, BG_EINVAL, "\"%s\" has no host", url);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ')
            return bg_error_set(err, BG_EINVAL, "\"%s\" contains whitespace", url);
    return 0;
}

/* Joins a relative path onto the config directory; absolute paths stay. */
static char *resolve_path(const bg_config *cfg, const char *p)
{
    if (p[0] == '/' || !cfg->dir || strcmp(cfg->dir, ".") == 0)
        return bg_strdup(p);
    return bg_asprintf("%s/%s", cfg->dir, p);
}

/* A string or an array of strings → newly allocated vector. */
static int get_strv(char ***out, size_t *n, const cJSON *it, const char *path, bg_error *err)
{
    if (cJSON_IsString(it)) {
        *out = calloc(1, sizeof **out);
        if (!*out || !((*out)[0] = bg_strdup(it->valuestring)))
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        *n = 1;
        return 0;
    }
    if (!cJSON_IsArray(it))
        return bg_error_set(err, BG_EINVAL, "%s: expected a string or an array of strings, got %s",
                            path, bg_json_type_name(it));
    size_t count = (size_t)cJSON_GetArraySize(it);
    char **v = calloc(count ? count : 1, sizeof *v);
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    size_t i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, it)
    {
        if (!cJSON_IsString(el) || !*el->valuestring) {
            free_strv(v, i);
            return bg_error_set(err, BG_EINVAL, "%s[%zu]: expected a non-empty string, got %s",
                                path, i, bg_json_type_name(el));
        }
        v[i++] = bg_strdup(el->valuestring);
    }
    *out = v;
    *n = count;
    return 0;
}

static int dup_opt(char **out, const cJSON *obj, const char *key, const char *path, bg_error *err)
{
    const char *s = NULL;
    int rc = bg_json_get_string(&s, obj, key, path, false, err);
    if (rc || !s)
        return rc;
    free(*out);
    *out = bg_strdup(s);
    return *out ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int parse_aux(char **endpoint, char **model, const cJSON *gate, const char *key,
                     bg_error *err)
{
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(gate, key);
    if (!o)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "gate.%s", key);
    if (!cJSON_IsObject(o))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", path,
                            bg_json_type_name(o));
    int rc = bg_json_check_keys(o, aux_keys, path, err);
    if (!rc)
        rc = dup_opt(endpoint, o, "endpoint", path, err);
    if (!rc && *endpoint && bg_url_check(*endpoint, err))
        bg_error_prefix(err, "%s.endpoint", path), rc = BG_EINVAL;
    if (!rc)
        rc = dup_opt(model, o, "model", path, err);
    return rc;
}

static int parse_thresholds(bg_gate_config *g, const cJSON *gate, bg_error *err)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(gate, "thresholds");
    if (!t)
        return 0;
    if (!cJSON_IsObject(t))
        return bg_error_set(err, BG_EINVAL, "gate.thresholds: expected an object, got %s",
                            bg_json_type_name(t));
    const cJSON *it;
    cJSON_ArrayForEach(it, t)
    {
        if (!cJSON_IsNumber(it))
            return bg_error_set(err, BG_EINVAL, "gate.thresholds.%s: expected a number, got %s",
                                it->string, bg_json_type_name(it));
        bg_threshold th;
        if (bg_threshold_parse(&th, it->string, it->valuedouble, err)) {
            bg_error_prefix(err, "gate.thresholds");
            return BG_EINVAL;
        }
        int rc = bg_config_set_threshold(g, &th, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_headers(bg_gate_config *g, const cJSON *gate, bg_error *err)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(gate, "headers");
    if (!h)
        return 0;
    if (!cJSON_IsObject(h))
        return bg_error_set(err, BG_EINVAL, "gate.headers: expected an object, got %s",
                            bg_json_type_name(h));
    size_t n = (size_t)cJSON_GetArraySize(h);
    if (n > BG_MAX_HEADERS)
        return bg_error_set(err, BG_EINVAL, "gate.headers: more than %d headers", BG_MAX_HEADERS);
    g->headers = calloc(n ? n : 1, sizeof *g->headers);
    if (!g->headers)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, h)
    {
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "gate.headers.%s: expected a string, got %s",
                                it->string, bg_json_type_name(it));
        if (strpbrk(it->string, ": \r\n") || strpbrk(it->valuestring, "\r\n"))
            return bg_error_set(err, BG_EINVAL, "gate.headers.%s: invalid header name or value",
                                it->string);
        g->headers[g->n_headers++] = bg_asprintf("%s: %s", it->string, it->valuestring);
    }
    return 0;
}

/* gate.request: defaults for every request body; the case's own members win. Members
 * bg-gate sets itself are refused so there is one place to say them. */
static int parse_request_defaults(bg_gate_config *g, const cJSON *gate, bg_error *err)
{
    static const char *const reserved[] = {"messages", "prompt", "model", "stream",
                                           "stream_options", NULL};
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(gate, "request");
    if (!r)
        return 0;
    if (!cJSON_IsObject(r))
        return bg_error_set(err, BG_EINVAL, "gate.request: expected an object, got %s",
                            bg_json_type_name(r));
    for (size_t i = 0; reserved[i]; i++)
        if (cJSON_HasObjectItem(r, reserved[i]))
            return bg_error_set(err, BG_EINVAL,
                                "gate.request.%s: set by bg-gate (use %s instead)", reserved[i],
                                strcmp(reserved[i], "model") == 0 ? "gate.model"
                                : bg_str_starts_with(reserved[i], "stream") ? "gate.stream"
                                                                             : "the suite");
    g->request = cJSON_Duplicate(r, true);
    return g->request ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int parse_reports(bg_config *cfg, const cJSON *gate, bg_error *err)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(gate, "reports");
    if (!r)
        return 0;
    if (!cJSON_IsObject(r))
        return bg_error_set(err, BG_EINVAL, "gate.reports: expected an object, got %s",
                            bg_json_type_name(r));
    int rc = bg_json_check_keys(r, report_keys, "gate.reports", err);
    char **dst[] = {&cfg->gate.junit, &cfg->gate.json_report, &cfg->gate.markdown,
                    &cfg->gate.metrics};
    for (size_t i = 0; !rc && report_keys[i]; i++) {
        const char *s = NULL;
        rc = bg_json_get_string(&s, r, report_keys[i], "gate.reports", false, err);
        if (!rc && s) {
            free(*dst[i]);
            *dst[i] = resolve_path(cfg, s);
        }
    }
    return rc;
}

/* gate.baseline: "live", a URL, or an array of URLs; gate.baseline_alpha. */
static int parse_baseline(bg_gate_config *g, const cJSON *gate, bg_error *err)
{
    int rc = bg_json_get_double(&g->baseline_alpha, gate, "baseline_alpha", "gate", 1e-12, 0.5,
                                false, err);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(gate, "baseline");
    if (rc || !b)
        return rc;
    if (cJSON_IsString(b) && strcmp(b->valuestring, "live") == 0) {
        g->baseline_live = true;
        return 0;
    }
    if (!cJSON_IsString(b) && !cJSON_IsArray(b))
        return bg_error_set(err, BG_EINVAL,
                            "gate.baseline: expected \"live\", a URL or an array of URLs, got %s",
                            bg_json_type_name(b));
    rc = get_strv(&g->baseline, &g->n_baseline, b, "gate.baseline", err);
    if (!rc && g->n_baseline == 0)
        rc = bg_error_set(err, BG_EINVAL, "gate.baseline: empty array (leave it out for no baseline)");
    if (!rc && g->n_baseline > BG_MAX_ENDPOINTS)
        rc = bg_error_set(err, BG_EINVAL, "gate.baseline: more than %d endpoints", BG_MAX_ENDPOINTS);
    for (size_t i = 0; !rc && i < g->n_baseline; i++) {
        if (bg_url_check(g->baseline[i], err)) {
            if (cJSON_IsArray(b))
                bg_error_prefix(err, "gate.baseline[%zu]", i);
            else
                bg_error_prefix(err, "gate.baseline (\"live\" or a URL)");
            rc = BG_EINVAL;
        }
    }
    return rc;
}

static int parse_loop_settings(bg_gate_config *g, const cJSON *gate, bg_error *err)
{
    int rc = bg_json_get_long(&g->concurrency, gate, "concurrency", "gate", 1, BG_MAX_CONCURRENCY,
                              false, err);
    if (!rc)
        rc = bg_json_get_double(&g->rate, gate, "rate", "gate", 0, 1e6, false, err);
    if (!rc)
        rc = bg_json_get_long(&g->repeat, gate, "repeat", "gate", 1, 1000, false, err);
    if (!rc)
        rc = bg_json_get_long(&g->timeout_ms, gate, "timeout_ms", "gate", 1, 86400000L, false,
                              err);
    if (!rc)
        rc = bg_json_get_bool(&g->stream, gate, "stream", "gate", false, err);
    if (!rc)
        rc = bg_json_get_long(&g->max_retries, gate, "max_retries", "gate", 0, 10, false, err);
    const char *arrivals = NULL;
    if (!rc)
        rc = bg_json_get_string(&arrivals, gate, "arrivals", "gate", false, err);
    if (!rc && arrivals) {
        if (strcmp(arrivals, "poisson") == 0)
            g->poisson = true;
        else if (strcmp(arrivals, "constant") == 0)
            g->poisson = false;
        else
            rc = bg_error_set(err, BG_EINVAL,
                              "gate.arrivals: expected \"poisson\" or \"constant\", got \"%s\"",
                              arrivals);
    }
    return rc;
}

static int parse_gate(bg_config *cfg, const cJSON *gate, bg_error *err)
{
    bg_gate_config *g = &cfg->gate;
    if (!cJSON_IsObject(gate))
        return bg_error_set(err, BG_EINVAL, "gate: expected an object, got %s",
                            bg_json_type_name(gate));
    int rc = bg_json_check_keys(gate, gate_keys, "gate", err);
    const cJSON *it;
    if (!rc && (it = cJSON_GetObjectItemCaseSensitive(gate, "suites"))) {
        rc = get_strv(&g->suites, &g->n_suites, it, "gate.suites", err);
        for (size_t i = 0; !rc && i < g->n_suites; i++) {
            char *p = resolve_path(cfg, g->suites[i]);
            free(g->suites[i]);
            g->suites[i] = p;
        }
    }
    if (!rc && (it = cJSON_GetObjectItemCaseSensitive(gate, "endpoints"))) {
        rc = get_strv(&g->endpoints, &g->n_endpoints, it, "gate.endpoints", err);
        for (size_t i = 0; !rc && i < g->n_endpoints; i++)
            if (bg_url_check(g->endpoints[i], err)) {
                bg_error_prefix(err, "gate.endpoints[%zu]", i);
                rc = BG_EINVAL;
            }
    }
    if (!rc)
        rc = dup_opt(&g->model, gate, "model", "gate", err);
    if (!rc)
        rc = dup_opt(&g->api_key_env, gate, "api_key_env", "gate", err);
    if (!rc)
        rc = parse_loop_settings(g, gate, err);
    if (!rc)
        rc = parse_headers(g, gate, err);
    if (!rc)
        rc = parse_request_defaults(g, gate, err);
    if (!rc)
        rc = parse_thresholds(g, gate, err);
    if (!rc)
        rc = parse_aux(&g->embeddings_endpoint, &g->embeddings_model, gate, "embeddings", err);
    if (!rc)
        rc = parse_aux(&g->judge_endpoint, &g->judge_model, gate, "judge", err);
    if (!rc)
        rc = parse_reports(cfg, gate, err);
    if (!rc)
        rc = parse_baseline(g, gate, err);
    return rc;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return bg_strdup(".");
    if (slash == path)
        return bg_strdup("/");
    return bg_strndup(path, (size_t)(slash - path));
}

int bg_config_parse(bg_config **out, const char *path, const char *text, size_t len,
                    bg_error *err)
{
    bg_config *cfg = NULL;
    int rc = bg_config_defaults(&cfg, err);
    if (rc)
        return rc;
    cfg->path = bg_strdup(path);
    free(cfg->dir);
    cfg->dir = dir_of(path);
    const char *end = NULL;
    cfg->root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!cfg->root) {
        int line = 1, col = 1;
        bg_json_error_position(text, len, cJSON_GetErrorPtr(), &line, &col);
        rc = bg_error_set(err, BG_EINVAL, "%s:%d:%d: invalid JSON", path, line, col);
        goto cleanup;
    }
    for (; end && end < text + len && strchr(" \t\r\n", *end); end++)
        ;
    if (end && end < text + len) {
        int line, col;
        bg_text_position(text, (size_t)(end - text), &line, &col);
        rc = bg_error_set(err, BG_EINVAL, "%s:%d:%d: unexpected text after the JSON document",
                          path, line, col);
        goto cleanup;
    }
    if (!cJSON_IsObject(cfg->root)) {
        rc = bg_error_set(err, BG_EINVAL, "%s: expected a JSON object at the top level", path);
        goto cleanup;
    }
    /* cJSON keeps both members of a duplicated key and reads the first: a second
     * "thresholds" pasted further down would be silently ignored */
    rc = bg_json_check_duplicates(cfg->root, "", err);
    if (!rc)
        rc = bg_json_check_keys(cfg->root, top_keys, "", err);
    const cJSON *gate = cJSON_GetObjectItemCaseSensitive(cfg->root, "gate");
    if (!rc && gate)
        rc = parse_gate(cfg, gate, err);
    if (rc) {
        bg_error_prefix(err, "%s", path);
        goto cleanup;
    }
    *out = cfg;
    cfg = NULL;
cleanup:
    bg_config_free(cfg);
    return rc;
}

int bg_config_load(bg_config **out, const char *path, bg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = bg_file_read(&text, &len, path, BG_MAX_CONFIG_BYTES, err);
    if (rc)
        return rc;
    rc = bg_config_parse(out, path, text, len, err);
    free(text);
    return rc;
}

int bg_config_set_threshold(bg_gate_config *g, const bg_threshold *th, bg_error *err)
{
    for (size_t i = 0; i < g->n_thresholds; i++) {
        if (strcmp(g->thresholds[i].name, th->name) == 0) {
            g->thresholds[i] = *th;
            return 0;
        }
    }
    bg_threshold *v = realloc(g->thresholds, (g->n_thresholds + 1) * sizeof *v);
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    v[g->n_thresholds++] = *th;
    g->thresholds = v;
    return 0;
}
