/* router.c — the router module's front: the driver registry, validation of the `router`
 * section's common part (driver, endpoint, upstream_header), the bg_router object that
 * wraps one driver, weight checks and formatting, and small helpers the drivers share.
 *
 * What a router does with the weights lives in the drivers (nginx.c, file.c, command.c);
 * this file never touches a router itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/config.h"
#include "bggate/json.h"
#include "bggate/util.h"
#include "router_driver.h"

struct bg_router {
    const bg_router_driver *driver;
    void *state;
    char *endpoint;        /* NULL when not configured */
    char *upstream_header; /* NULL when not configured */
};

/* --- registry --- */

static const bg_router_driver *const drivers[] = {
    &bg_router_driver_nginx,
    &bg_router_driver_file,
    &bg_router_driver_command,
    &bg_router_driver_haproxy,
};
#define N_DRIVERS (sizeof drivers / sizeof drivers[0])

const bg_router_driver *bg_router_driver_at(size_t i)
{
    return i < N_DRIVERS ? drivers[i] : NULL;
}

const bg_router_driver *bg_router_driver_find(const char *name)
{
    for (size_t i = 0; name && i < N_DRIVERS; i++)
        if (strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}

int bg_router_drivers_check(const bg_router_driver *const *table, size_t n, bg_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const bg_router_driver *d = table[i];
        if (!d || !d->name || !*d->name)
            return bg_error_set(err, BG_EINVAL, "router driver #%zu has no name", i);
        if (!d->keys || !d->create || !d->destroy || !d->get || !d->set)
            return bg_error_set(err, BG_EINVAL,
                                "router driver \"%s\" lacks a required operation", d->name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(table[j]->name, d->name) == 0)
                return bg_error_set(err, BG_EINVAL, "router driver \"%s\" registered twice",
                                    d->name);
    }
    return 0;
}

/* Edit distance of two short names, for "did you mean" only (capped at 99). */
static size_t name_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b), row[33];
    if (n > 32 || m > 32)
        return 99;
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
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

/* "router.driver: unknown driver \"ngnix\" (did you mean \"nginx\"? known: nginx, …)" */
static int unknown_driver(const char *name, bg_error *err)
{
    char known[128] = "";
    const char *best = NULL;
    size_t used = 0, best_d = 3;
    for (size_t i = 0; i < N_DRIVERS; i++) {
        int w = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                         drivers[i]->name);
        if (w > 0 && (size_t)w < sizeof known - used)
            used += (size_t)w;
        size_t d = name_distance(name, drivers[i]->name);
        if (d < best_d)
            best_d = d, best = drivers[i]->name;
    }
    if (best)
        return bg_error_set(err, BG_EINVAL,
                            "router.driver: unknown driver \"%s\" (did you mean \"%s\"? known: %s)",
                            name, best, known);
    return bg_error_set(err, BG_EINVAL, "router.driver: unknown driver \"%s\" (known: %s)", name,
                        known);
}

/* --- the common part of the `router` section --- */

static int check_keys(const cJSON *cfg, const bg_router_driver *d, bg_error *err)
{
    const char *allowed[24] = {"driver", "endpoint", "upstream_header"};
    size_t n = 3;
    for (size_t i = 0; d->keys[i] && n < 23; i++)
        allowed[n++] = d->keys[i];
    allowed[n] = NULL;
    return bg_json_check_keys(cfg, allowed, "router", err);
}

static int parse_common(bg_router *r, const cJSON *cfg, bg_error *err)
{
    const char *endpoint = NULL, *header = NULL;
    int rc = bg_json_get_string(&endpoint, cfg, "endpoint", "router", false, err);
    if (!rc && endpoint && bg_url_check(endpoint, err) < 0) {
        bg_error_prefix(err, "router.endpoint");
        rc = BG_EINVAL;
    }
    if (!rc)
        rc = bg_json_get_string(&header, cfg, "upstream_header", "router", false, err);
    if (!rc && header && (!*header || strpbrk(header, ": \t\r\n")))
        rc = bg_error_set(err, BG_EINVAL, "router.upstream_header: \"%s\" is not a header name",
                          header);
    if (!rc && ((endpoint && !(r->endpoint = bg_strdup(endpoint))) ||
                (header && !(r->upstream_header = bg_strdup(header)))))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    return rc;
}

static int find_section(const cJSON **out, const cJSON *root, bg_error *err)
{
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "router");
    if (!cfg)
        return bg_error_set(err, BG_EINVAL, "router: missing (the config has no router section)");
    if (!cJSON_IsObject(cfg))
        return bg_error_set(err, BG_EINVAL, "router: expected an object, got %s",
                            bg_json_type_name(cfg));
    *out = cfg;
    return 0;
}

int bg_router_new(bg_router **out, const cJSON *root, const bg_pools *pools, bg_error *err)
{
    const cJSON *cfg = NULL;
    const char *name = NULL;
    bg_router *r = NULL;

    *out = NULL;
    int rc = find_section(&cfg, root, err);
    if (!rc)
        rc = bg_json_get_string(&name, cfg, "driver", "router", true, err);
    if (rc < 0)
        goto cleanup;
    const bg_router_driver *d = bg_router_driver_find(name);
    if (!d) {
        rc = unknown_driver(name, err);
        goto cleanup;
    }
    if (!(r = calloc(1, sizeof *r))) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    r->driver = d;
    rc = check_keys(cfg, d, err);
    if (!rc)
        rc = parse_common(r, cfg, err);
    if (!rc)
        rc = d->create(&r->state, cfg, pools, err);
    if (!rc) {
        *out = r;
        r = NULL;
    }
cleanup:
    bg_router_free(r);
    return rc;
}

void bg_router_free(bg_router *r)
{
    if (!r)
        return;
    if (r->state)
        r->driver->destroy(r->state);
    free(r->endpoint);
    free(r->upstream_header);
    free(r);
}

const char *bg_router_driver_name(const bg_router *r)
{
    return r->driver->name;
}

const char *bg_router_endpoint(const bg_router *r)
{
    return r->endpoint;
}

const char *bg_router_upstream_header(const bg_router *r)
{
    return r->upstream_header;
}

int bg_router_get(bg_router *r, bg_weights *out, bg_error *err)
{
    bg_weights w;
    int rc = r->driver->get(r->state, &w, err);
    if (!rc)
        *out = w;
    return rc;
}

int bg_router_set(bg_router *r, const bg_weights *w, bg_error *err)
{
    int rc = bg_router_weights_check(w, err);
    if (rc < 0)
        return rc;
    return r->driver->set(r->state, w, err);
}

static int unsupported(const bg_router *r, const char *what, bg_error *err)
{
    return bg_error_set(err, BG_ENOTSUP, "router: the %s driver cannot %s", r->driver->name,
                        what);
}

int bg_router_check(bg_router *r, bg_router_drift *out, bg_error *err)
{
    return r->driver->check ? r->driver->check(r->state, out, err)
                            : unsupported(r, "compare its runtime weights", err);
}

int bg_router_repair(bg_router *r, bg_router_drift *out, bg_error *err)
{
    return r->driver->repair ? r->driver->repair(r->state, out, err)
                             : unsupported(r, "repair its runtime weights", err);
}

int bg_router_inflight(bg_router *r, bg_pool_id pool, double *out, bg_error *err)
{
    return r->driver->inflight ? r->driver->inflight(r->state, pool, out, err)
                               : unsupported(r, "count requests in flight", err);
}

int bg_router_counters_get(bg_router *r, bg_pool_id pool, bg_router_counters *out,
                           bg_error *err)
{
    return r->driver->counters ? r->driver->counters(r->state, pool, out, err)
                               : unsupported(r, "count errors per pool", err);
}

/* --- weights --- */

int bg_router_weights_check(const bg_weights *w, bg_error *err)
{
    for (int i = 0; i < BG_POOL_COUNT; i++)
        if (w->w[i] < 0 || w->w[i] > 100)
            return bg_error_set(err, BG_EINVAL, "weight of %s must be from 0 to 100, got %d",
                                bg_pool_name((bg_pool_id)i), w->w[i]);
    int sum = w->w[BG_POOL_BLUE] + w->w[BG_POOL_GREEN];
    if (sum != 100)
        return bg_error_set(err, BG_EINVAL, "weights must add up to 100, got blue %d + green %d = %d",
                            w->w[BG_POOL_BLUE], w->w[BG_POOL_GREEN], sum);
    return 0;
}

int bg_router_weights_from_json(bg_weights *out, const cJSON *obj, const char *source,
                                bg_error *err)
{
    static const char *const keys[] = {"blue", "green", NULL};
    bg_weights w = {{0, 0}};
    long v[BG_POOL_COUNT] = {0, 0};

    if (!cJSON_IsObject(obj))
        return bg_error_set(err, BG_EPROTO, "%s: expected {\"blue\": N, \"green\": M}, got %s",
                            source, bg_json_type_name(obj));
    int rc = bg_json_check_keys(obj, keys, "", err);
    for (int i = 0; !rc && i < BG_POOL_COUNT; i++)
        rc = bg_json_get_long(&v[i], obj, keys[i], "", 0, 100, true, err);
    for (int i = 0; i < BG_POOL_COUNT; i++)
        w.w[i] = (int)v[i];
    if (!rc)
        rc = bg_router_weights_check(&w, err);
    if (rc < 0) {
        bg_error_prefix(err, "%s", source);
        if (err)
            err->code = BG_EPROTO; /* what the router reported, not our config */
        return BG_EPROTO;
    }
    *out = w;
    return 0;
}

void bg_weights_format(char *out, size_t outsz, const bg_weights *w)
{
    snprintf(out, outsz, "blue %d%% / green %d%%", w->w[BG_POOL_BLUE], w->w[BG_POOL_GREEN]);
}

int bg_weights_live(const bg_weights *w)
{
    for (int i = 0; i < BG_POOL_COUNT; i++)
        if (w->w[i] == 100)
            return i;
    return -1;
}

/* --- helpers for drivers --- */

void bg_router_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int strv_dup(char ***out, const char *const *src, size_t n, bg_error *err)
{
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = bg_strdup(src[i]))) {
            bg_router_strv_free(v);
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        }
    *out = v;
    return 0;
}

int bg_router_parse_argv(char ***out, const cJSON *cfg, const char *key,
                         const char *const *dflt, bg_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(cfg, key), *it;
    const char *items[64];
    size_t n = 0;

    *out = NULL;
    if (!a && dflt) {
        while (dflt[n])
            n++;
        return strv_dup(out, dflt, n, err);
    }
    if (!a)
        return bg_error_set(err, BG_EINVAL, "router.%s: missing (an argv array is required)", key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
        return bg_error_set(err, BG_EINVAL,
                            "router.%s: expected a non-empty array of strings, got %s", key,
                            cJSON_IsArray(a) ? "an empty array" : bg_json_type_name(a));
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || (n == 0 && !*it->valuestring))
            return bg_error_set(err, BG_EINVAL, "router.%s[%zu]: expected a%s string, got %s",
                                key, n, n ? "" : " non-empty",
                                cJSON_IsString(it) ? "\"\"" : bg_json_type_name(it));
        if (n == 63)
            return bg_error_set(err, BG_EINVAL, "router.%s: more than 63 arguments", key);
        items[n++] = it->valuestring;
    }
    return strv_dup(out, items, n, err);
}

int bg_router_parse_timeout(long *out_ms, const cJSON *cfg, bg_error *err)
{
    long s = BG_ROUTER_DEFAULT_TIMEOUT_S;
    int rc = bg_json_get_long(&s, cfg, "timeout_s", "router", 1, BG_ROUTER_MAX_TIMEOUT_S, false,
                              err);
    if (!rc)
        *out_ms = s * 1000;
    return rc;
}

void bg_router_output_line(char *out, size_t outsz, const char *text, size_t len)
{
    while (len && (unsigned char)*text <= ' ')
        text++, len--;
    while (len && (unsigned char)text[len - 1] <= ' ')
        len--;
    if (!len) {
        bg_strlcpy(out, "no output", outsz);
        return;
    }
    bg_excerpt(out, outsz, text, len, 300);
}
