/* pools.c — the `pools` and `health` sections of bg-gate.json, the pool driver registry,
 * and bg_pool_deploy/bg_pool_stop, which hand a pool to its driver (see pool.h).
 *
 * Validation happens here once, with JSON paths in every message, so drivers and the
 * deploy lifecycle work on plain, already checked structs. The drivers themselves live in
 * command.c, http.c and static.c; HTTP waiting (health, warm-up, metrics) in health.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/config.h"
#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/util.h"
#include "pool_driver.h"

#define POOL_MAX_TIMEOUT_S 604800L /* a week: any longer is a typo */

/* The registry: adding a driver is one file and one row. */
static const bg_pool_driver *const drivers[] = {
    &bg_pool_driver_command,
    &bg_pool_driver_http,
    &bg_pool_driver_static,
};
#define N_DRIVERS (sizeof drivers / sizeof drivers[0])

static const char *const pools_keys[] = {"blue", "green", NULL};
static const char *const pool_keys[] = {"endpoints", "deploy", "stop", NULL};
static const char *const stop_keys[] = {"argv", "timeout_s", NULL};
static const char *const health_keys[] = {"path", "timeout_s", "interval_ms", "max_interval_ms",
                                          "on_timeout", NULL};

const char *bg_pool_name(bg_pool_id id)
{
    return id == BG_POOL_GREEN ? "green" : "blue";
}

int bg_pool_from_name(bg_pool_id *out, const char *name)
{
    if (name && strcmp(name, "blue") == 0)
        *out = BG_POOL_BLUE;
    else if (name && strcmp(name, "green") == 0)
        *out = BG_POOL_GREEN;
    else
        return BG_EINVAL;
    return 0;
}

/* --- registry --- */

const bg_pool_driver *bg_pool_driver_at(size_t i)
{
    return i < N_DRIVERS ? drivers[i] : NULL;
}

const bg_pool_driver *bg_pool_driver_find(const char *name)
{
    for (size_t i = 0; name && i < N_DRIVERS; i++)
        if (strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}

int bg_pool_drivers_check(const bg_pool_driver *const *table, size_t n, bg_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const bg_pool_driver *d = table[i];
        if (!d || !d->name || !*d->name)
            return bg_error_set(err, BG_EINVAL, "pool driver #%zu has no name", i);
        if (!d->parse || !d->deploy || !d->stop)
            return bg_error_set(err, BG_EINVAL, "pool driver \"%s\" lacks a required operation",
                                d->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(table[j]->name, d->name) == 0)
                return bg_error_set(err, BG_EINVAL, "pool driver \"%s\" registered twice",
                                    d->name);
    }
    return 0;
}

/* "command, http, static" for messages. */
static void driver_names(char *out, size_t outsz)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_DRIVERS && used < outsz; i++) {
        int w = snprintf(out + used, outsz - used, "%s%s", i ? ", " : "", drivers[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* --- small shared helpers --- */

void bg_pool_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int bg_pool_parse_argv(char ***out, const cJSON *obj, const char *key, const char *path,
                       bool required, bg_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!arr)
        return required ? bg_error_set(err, BG_EINVAL,
                                       "%s.%s: missing (a non-empty array of strings is required)",
                                       path, key)
                        : 0;
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n == 0)
        return bg_error_set(err, BG_EINVAL, "%s.%s: expected a non-empty array of strings, got %s",
                            path, key, cJSON_IsArray(arr) ? "an empty array"
                                                          : bg_json_type_name(arr));
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int i = 0, rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it) || !*it->valuestring) {
            rc = bg_error_set(err, BG_EINVAL, "%s.%s[%d]: expected a non-empty string, got %s",
                              path, key, i,
                              cJSON_IsString(it) ? "an empty string" : bg_json_type_name(it));
            break;
        }
        if (!(v[i++] = bg_strdup(it->valuestring))) {
            rc = bg_error_set(err, BG_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc < 0)
        bg_pool_strv_free(v);
    else
        *out = v;
    return rc;
}

char *bg_pool_endpoint_root(const char *endpoint)
{
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    if (n >= 3 && memcmp(endpoint + n - 3, "/v1", 3) == 0)
        n -= 3;
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    return bg_strndup(endpoint, n);
}

char *bg_pool_endpoint_join(const char *endpoint, const char *suffix)
{
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    return bg_asprintf("%.*s%s", (int)n, endpoint, suffix);
}

/* --- parsing --- */

/* Endpoints compare without trailing slashes. */
static bool same_endpoint(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    while (na > 0 && a[na - 1] == '/')
        na--;
    while (nb > 0 && b[nb - 1] == '/')
        nb--;
    return na == nb && memcmp(a, b, na) == 0;
}

static int parse_endpoints(bg_pool_config *p, const cJSON *pool, const char *path, bg_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pool, "endpoints");
    int n = cJSON_GetArraySize(arr);
    if (!arr)
        return bg_error_set(err, BG_EINVAL,
                            "%s.endpoints: missing (a non-empty array of URLs is required)", path);
    if (!cJSON_IsArray(arr) || n == 0)
        return bg_error_set(err, BG_EINVAL, "%s.endpoints: expected a non-empty array of URLs, got %s",
                            path, cJSON_IsArray(arr) ? "an empty array" : bg_json_type_name(arr));
    if (n > (int)BG_MAX_ENDPOINTS)
        return bg_error_set(err, BG_EINVAL, "%s.endpoints: at most %u endpoints, got %d", path,
                            BG_MAX_ENDPOINTS, n);
    if (!(p->endpoints = calloc((size_t)n, sizeof *p->endpoints)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        size_t i = p->n_endpoints;
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "%s.endpoints[%zu]: expected a URL string, got %s",
                                path, i, bg_json_type_name(it));
        if (bg_url_check(it->valuestring, err) < 0) {
            bg_error_prefix(err, "%s.endpoints[%zu]", path, i);
            return BG_EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (same_endpoint(p->endpoints[j], it->valuestring))
                return bg_error_set(err, BG_EINVAL, "%s.endpoints[%zu]: \"%s\" is listed twice",
                                    path, i, it->valuestring);
        if (!(p->endpoints[i] = bg_strdup(it->valuestring)))
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        p->n_endpoints++;
    }
    return 0;
}

/* The driver named in deploy.driver, or the default: "command" when a deploy section
 * exists, "static" without one. */
static int pick_driver(const bg_pool_driver **out, const cJSON *deploy, const char *path,
                       bg_error *err)
{
    const char *name = deploy ? "command" : "static";
    if (deploy && !cJSON_IsObject(deploy))
        return bg_error_set(err, BG_EINVAL, "%s.deploy: expected an object, got %s", path,
                            bg_json_type_name(deploy));
    char dpath[128];
    snprintf(dpath, sizeof dpath, "%s.deploy", path);
    int rc = bg_json_get_string(&name, deploy, "driver", dpath, false, err);
    if (rc < 0)
        return rc;
    if (!(*out = bg_pool_driver_find(name))) {
        char known[128];
        driver_names(known, sizeof known);
        return bg_error_set(err, BG_EINVAL, "%s.driver: unknown driver \"%s\" (known: %s)", dpath,
                            name, known);
    }
    return 0;
}

/* Keys allowed in deploy: "driver" plus the driver's own. */
static int check_deploy_keys(const bg_pool_driver *d, const cJSON *deploy, const char *dpath,
                             bg_error *err)
{
    const char *allowed[16] = {"driver"};
    size_t n = 1;
    for (size_t i = 0; d->deploy_keys && d->deploy_keys[i] && n < 15; i++)
        allowed[n++] = d->deploy_keys[i];
    allowed[n] = NULL;
    return bg_json_check_keys(deploy, allowed, dpath, err);
}

static int parse_stop(bg_pool_config *p, const bg_pool_driver *d, const cJSON *pool,
                      const char *path, bg_error *err)
{
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(pool, "stop");
    char spath[128];
    snprintf(spath, sizeof spath, "%s.stop", path);
    if (!stop)
        return 0;
    if (!d->has_stop_argv)
        return bg_error_set(err, BG_EINVAL,
                            "%s: the %s driver runs no stop command (only \"command\" does)",
                            spath, d->name);
    if (!cJSON_IsObject(stop))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", spath,
                            bg_json_type_name(stop));
    int rc = bg_json_check_keys(stop, stop_keys, spath, err);
    if (!rc)
        rc = bg_pool_parse_argv(&p->stop_argv, stop, "argv", spath, true, err);
    if (!rc)
        rc = bg_json_get_long(&p->stop_timeout_s, stop, "timeout_s", spath, 1, POOL_MAX_TIMEOUT_S,
                              false, err);
    return rc;
}

static int parse_pool(bg_pool_config *p, bg_pool_id id, const cJSON *pools, bg_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "pools.%s", bg_pool_name(id));
    const cJSON *pool = cJSON_GetObjectItemCaseSensitive(pools, bg_pool_name(id));
    p->id = id;
    p->deploy_timeout_s = 900;
    p->stop_timeout_s = 120;
    if (!pool)
        return bg_error_set(err, BG_EINVAL,
                            "%s: missing (both \"blue\" and \"green\" pools are required)", path);
    if (!cJSON_IsObject(pool))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", path,
                            bg_json_type_name(pool));
    int rc = bg_json_check_keys(pool, pool_keys, path, err);
    if (!rc)
        rc = parse_endpoints(p, pool, path, err);
    const cJSON *deploy = cJSON_GetObjectItemCaseSensitive(pool, "deploy");
    const bg_pool_driver *d = NULL;
    if (!rc)
        rc = pick_driver(&d, deploy, path, err);
    char dpath[80];
    snprintf(dpath, sizeof dpath, "%s.deploy", path);
    if (!rc && deploy)
        rc = check_deploy_keys(d, deploy, dpath, err);
    if (!rc && !(p->driver = bg_strdup(d->name)))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc)
        rc = d->parse(p, deploy, dpath, err);
    if (!rc)
        rc = parse_stop(p, d, pool, path, err);
    return rc;
}

/* No endpoint may serve both pools: the gate would test the live pool. */
static int check_overlap(const bg_pools *ps, bg_error *err)
{
    const bg_pool_config *b = &ps->pool[BG_POOL_BLUE], *g = &ps->pool[BG_POOL_GREEN];
    for (size_t i = 0; i < g->n_endpoints; i++)
        for (size_t j = 0; j < b->n_endpoints; j++)
            if (same_endpoint(g->endpoints[i], b->endpoints[j]))
                return bg_error_set(err, BG_EINVAL,
                                    "pools.green.endpoints[%zu]: \"%s\" is also an endpoint of "
                                    "pool blue",
                                    i, g->endpoints[i]);
    return 0;
}

static int parse_on_timeout(bg_health_config *h, const cJSON *health, bg_error *err)
{
    const char *s = NULL;
    int rc = bg_json_get_string(&s, health, "on_timeout", "health", false, err);
    if (rc < 0 || !s)
        return rc;
    if (strcmp(s, "stop") == 0)
        h->stop_on_timeout = true;
    else if (strcmp(s, "keep") == 0)
        h->stop_on_timeout = false;
    else
        return bg_error_set(err, BG_EINVAL,
                            "health.on_timeout: expected \"stop\" or \"keep\", got \"%s\"", s);
    return 0;
}

static int parse_health(bg_health_config *h, const cJSON *root, bg_error *err)
{
    const cJSON *health = cJSON_GetObjectItemCaseSensitive(root, "health");
    const char *path = "/health";
    h->timeout_s = 900;
    h->interval_ms = 250;
    h->max_interval_ms = 5000;
    h->stop_on_timeout = true;
    if (health && !cJSON_IsObject(health))
        return bg_error_set(err, BG_EINVAL, "health: expected an object, got %s",
                            bg_json_type_name(health));
    int rc = health ? bg_json_check_keys(health, health_keys, "health", err) : 0;
    if (!rc)
        rc = bg_json_get_string(&path, health, "path", "health", false, err);
    if (!rc && path[0] != '/')
        rc = bg_error_set(err, BG_EINVAL, "health.path: must start with \"/\", got \"%s\"", path);
    if (!rc)
        rc = bg_json_get_long(&h->timeout_s, health, "timeout_s", "health", 1, POOL_MAX_TIMEOUT_S,
                              false, err);
    if (!rc)
        rc = bg_json_get_long(&h->interval_ms, health, "interval_ms", "health", 1, 600000, false,
                              err);
    if (!rc)
        rc = bg_json_get_long(&h->max_interval_ms, health, "max_interval_ms", "health", 1,
                              3600000, false, err);
    if (!rc && h->max_interval_ms < h->interval_ms)
        rc = bg_error_set(err, BG_EINVAL,
                          "health.max_interval_ms: %ld is less than interval_ms (%ld)",
                          h->max_interval_ms, h->interval_ms);
    if (!rc)
        rc = parse_on_timeout(h, health, err);
    if (!rc && !(h->path = bg_strdup(path)))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    return rc;
}

int bg_pools_parse(bg_pools *out, const cJSON *root, bg_error *err)
{
    memset(out, 0, sizeof *out);
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(root, "pools");
    int rc = 0;
    if (!pools)
        rc = bg_error_set(err, BG_EINVAL,
                          "pools: missing (an object with \"blue\" and \"green\" is required)");
    else if (!cJSON_IsObject(pools))
        rc = bg_error_set(err, BG_EINVAL, "pools: expected an object, got %s",
                          bg_json_type_name(pools));
    if (!rc)
        rc = bg_json_check_keys(pools, pools_keys, "pools", err);
    for (int i = 0; !rc && i < BG_POOL_COUNT; i++)
        rc = parse_pool(&out->pool[i], (bg_pool_id)i, pools, err);
    if (!rc)
        rc = check_overlap(out, err);
    if (!rc)
        rc = parse_health(&out->health, root, err);
    if (rc < 0)
        bg_pools_dispose(out);
    return rc;
}

static void pool_dispose(bg_pool_config *p)
{
    for (size_t i = 0; i < p->n_endpoints; i++)
        free(p->endpoints[i]);
    free(p->endpoints);
    free(p->driver);
    bg_pool_strv_free(p->deploy_argv);
    bg_pool_strv_free(p->env);
    bg_pool_strv_free(p->stop_argv);
    free(p->http_url);
    free(p->http_token_env);
    free(p->http_status_url);
    free(p->http_stop_url);
    memset(p, 0, sizeof *p);
}

void bg_pools_dispose(bg_pools *p)
{
    if (!p)
        return;
    for (int i = 0; i < BG_POOL_COUNT; i++)
        pool_dispose(&p->pool[i]);
    free(p->health.path);
    memset(p, 0, sizeof *p);
}

/* --- dispatch --- */

static int driver_of(const bg_pool_driver **out, const bg_pool_config *pool, bg_error *err)
{
    if (!(*out = bg_pool_driver_find(pool->driver ? pool->driver : "static")))
        return bg_error_set(err, BG_EINVAL, "pools.%s: unknown driver \"%s\"",
                            bg_pool_name(pool->id), pool->driver);
    return 0;
}

int bg_pool_deploy(const bg_pool_config *pool, const bg_release *rel, const char *bundle_dir,
                   bg_error *err)
{
    const bg_pool_driver *d = NULL;
    int rc = driver_of(&d, pool, err);
    return rc < 0 ? rc : d->deploy(pool, rel, bundle_dir, err);
}

int bg_pool_stop(const bg_pool_config *pool, const bg_release *rel, bg_error *err)
{
    const bg_pool_driver *d = NULL;
    int rc = driver_of(&d, pool, err);
    return rc < 0 ? rc : d->stop(pool, rel, err);
}
