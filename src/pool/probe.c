/* probe.c — one look at every endpoint of both pools, for `bg-gate status`: the health
 * path's answer and whether GET /v1/models lists the model the pool should serve.
 *
 * Unlike bg_health_wait (health.c) nothing is retried: each endpoint gets its two requests
 * once, all endpoints at once on one curl multi handle, under one short deadline, so a pool
 * that is down costs `status` at most that deadline. Same readiness rule as the health
 * wait: 200 on the health path AND the expected model listed. bg_pool_served_model asks
 * one pool what it serves, the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/openai.h"
#include "bggate/util.h"
#include "pool_driver.h"

/* What one endpoint answered: fills p from its finished (or unfinished) transfers. */
static void judge(bg_endpoint_probe *p, const bg_pool_http *health, const bg_pool_http *models,
                  const char *path, const char *served)
{
    char what[200];
    p->health_status = health->done && health->result == CURLE_OK ? health->status : 0;
    const bg_buf *b = &models->body;
    bool models_ok = models->done && models->result == CURLE_OK && models->status == 200;
    if (models_ok) {
        char *first = NULL;
        if (bg_openai_parse_models(&first, bg_buf_cstr(b), b->len, NULL) == 0 && first)
            bg_strlcpy(p->first_model, first, sizeof p->first_model);
        free(first);
    }
    p->model_listed = !served || !models_ok                                  ? -1
                      : bg_openai_models_has(bg_buf_cstr(b), b->len, served) ? 1
                                                                             : 0;
    if (!health->done || health->result == CURLE_OPERATION_TIMEDOUT) {
        snprintf(p->detail, sizeof p->detail, "%s: no answer in time", path);
    } else if (p->health_status != 200) {
        bg_pool_http_what(health, what, sizeof what);
        snprintf(p->detail, sizeof p->detail, "%s%s%s", p->health_status ? path : "",
                 p->health_status ? " " : "", what);
    } else if (!models_ok) {
        bg_pool_http_what(models, what, sizeof what);
        snprintf(p->detail, sizeof p->detail, "/models %s", what);
    } else if (p->model_listed == 0) {
        snprintf(p->detail, sizeof p->detail, "serves \"%s\", not \"%s\"",
                 p->first_model[0] ? p->first_model : "?", served);
    } else {
        p->ready = true;
        snprintf(p->detail, sizeof p->detail, "ready");
    }
}

/* Starts the health and /models requests of every endpoint of every pool. */
static int start_all(const bg_pools *pools, CURLM *multi, bg_pool_http *reqs, long timeout_ms,
                     bg_error *err)
{
    size_t k = 0;
    for (int i = 0; i < BG_POOL_COUNT; i++) {
        const bg_pool_config *pc = &pools->pool[i];
        for (size_t e = 0; e < pc->n_endpoints; e++, k += 2) {
            char *root = bg_pool_endpoint_root(pc->endpoints[e]);
            char *health = root ? bg_asprintf("%s%s", root, pools->health.path) : NULL;
            char *models = bg_pool_endpoint_join(pc->endpoints[e], "/models");
            int rc = !health || !models ? bg_error_set(err, BG_ENOMEM, "out of memory")
                                        : bg_pool_http_start(&reqs[k], multi, health, NULL,
                                                             pc->api_key, timeout_ms, err);
            if (!rc)
                rc = bg_pool_http_start(&reqs[k + 1], multi, models, NULL, pc->api_key, timeout_ms,
                                        err);
            free(root);
            free(health);
            free(models);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static size_t count_endpoints(const bg_pools *pools)
{
    size_t n = 0;
    for (int i = 0; i < BG_POOL_COUNT; i++)
        n += pools->pool[i].n_endpoints;
    return n;
}

/* Fills out[i] (allocated) from the finished transfers. */
static int collect(const bg_pools *pools, const bg_pool_http *reqs,
                   const char *const served[BG_POOL_COUNT], bg_endpoint_probe *out[BG_POOL_COUNT],
                   bg_error *err)
{
    size_t k = 0;
    for (int i = 0; i < BG_POOL_COUNT; i++) {
        const bg_pool_config *pc = &pools->pool[i];
        out[i] = calloc(pc->n_endpoints ? pc->n_endpoints : 1, sizeof *out[i]);
        if (!out[i])
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        for (size_t e = 0; e < pc->n_endpoints; e++, k += 2) {
            out[i][e].endpoint = pc->endpoints[e];
            judge(&out[i][e], &reqs[k], &reqs[k + 1], pools->health.path, served[i]);
        }
    }
    return 0;
}

int bg_pools_probe(const bg_pools *pools, const char *const served[BG_POOL_COUNT], long timeout_ms,
                   bg_endpoint_probe *out[BG_POOL_COUNT], bg_error *err)
{
    size_t n = 2 * count_endpoints(pools);
    for (int i = 0; i < BG_POOL_COUNT; i++)
        out[i] = NULL;
    CURLM *multi = curl_multi_init();
    bg_pool_http *reqs = calloc(n ? n : 1, sizeof *reqs);
    int rc = 0;
    if (!multi || !reqs) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (size_t k = 0; k < n; k++)
        bg_pool_http_init(&reqs[k]);
    double deadline = bg_now_ms() + (double)timeout_ms;
    rc = start_all(pools, multi, reqs, timeout_ms, err);
    if (!rc)
        rc = bg_pool_http_run(multi, reqs, n, deadline, err);
    if (!rc)
        rc = collect(pools, reqs, served, out, err);
cleanup:
    for (size_t k = 0; reqs && k < n; k++)
        bg_pool_http_dispose(&reqs[k]);
    free(reqs);
    curl_multi_cleanup(multi);
    if (rc)
        for (int i = 0; i < BG_POOL_COUNT; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    return rc;
}

int bg_pool_served_model(char **out, const bg_pool_config *pool, long timeout_ms,
                         bg_error *err)
{
    *out = NULL;
    if (!pool->n_endpoints)
        return bg_error_set(err, BG_EINVAL, "pools.%s: no endpoints", bg_pool_name(pool->id));
    char *url = bg_pool_endpoint_join(pool->endpoints[0], "/models");
    CURLM *multi = curl_multi_init();
    bg_pool_http h;
    bg_pool_http_init(&h);
    int rc = url && multi ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc)
        rc = bg_pool_http_start(&h, multi, url, NULL, pool->api_key, timeout_ms, err);
    /* not bg_pool_http_run, which stops at a pending signal: this serves the check after a
     * restore, which a signal may be the cause of, and must run to its end */
    double deadline = bg_now_ms() + (double)timeout_ms;
    while (!rc && !h.done && bg_now_ms() < deadline) {
        rc = bg_pool_http_pump(multi, (long)(deadline - bg_now_ms()) + 1, err);
        if (rc == BG_ECANCELED)
            rc = 0;
    }
    if (!rc && !(h.done && h.status == 200)) {
        char what[200];
        bg_pool_http_what(&h, what, sizeof what);
        bool late = !h.done || h.result == CURLE_OPERATION_TIMEDOUT;
        rc = bg_error_set(err, late ? BG_ETIMEOUT : BG_ENET, "%s: %s", url, what);
    }
    if (!rc)
        rc = bg_openai_parse_models(out, bg_buf_cstr(&h.body), h.body.len, err);
    if (!rc && !*out)
        rc = bg_error_set(err, BG_EPROTO, "%s lists no model", url);
    bg_pool_http_dispose(&h);
    curl_multi_cleanup(multi);
    free(url);
    return rc;
}
