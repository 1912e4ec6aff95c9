/* status.c — `bg-gate status`: the router's weights and live pool, the release and the
 * health of every endpoint of each pool (one look, no retry, a short deadline), who holds
 * the lock, and whether a deploy is in progress, died, or is paused in a canary ramp.
 *
 * It never takes the lock (except with --repair, which changes the router): the holder is
 * read from the lock file's record, so a running deploy is reported, not disturbed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/log.h"
#include "bggate/util.h"
#include "deploy_internal.h"
#include "recover.h"

/* One look at each endpoint costs status at most this, both pools probed at once. */
#define STATUS_PROBE_TIMEOUT_MS 2000L

static cJSON *weights_json(const bg_weights *w)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "blue", w->w[0]);
    cJSON_AddNumberToObject(o, "green", w->w[1]);
    return o;
}

/* Routers that keep weights only at runtime (HAProxy) lose them on a reload: compare
 * with what bg-gate set, and with `repair` set them again. */
static void router_drift(cJSON *router, cJSON *advice, deploy_ctx *c, bool repair)
{
    bg_router_drift d;
    bg_error e = {0};
    if (bg_router_check(c->router, &d, &e) != 0 || !d.has_desired)
        return;
    cJSON_AddBoolToObject(router, "stale", d.stale);
    if (!d.stale)
        return;
    char now[64], want[64];
    bg_weights_format(now, sizeof now, &d.runtime);
    bg_weights_format(want, sizeof want, &d.desired);
    if (repair && bg_router_repair(c->router, NULL, &e) == 0) {
        cJSON_AddBoolToObject(router, "repaired", true);
        bg_log_info("status: the router ran %s; set back to %s", now, want);
        return;
    }
    char *a = repair ? bg_asprintf("could not repair the router: %s", e.msg)
                     : bg_asprintf("the router lost the weights bg-gate set (reloaded?): it "
                                   "runs %s, bg-gate set %s; `bg-gate status --repair` sets "
                                   "them again",
                                   now, want);
    cJSON_AddItemToArray(advice, cJSON_CreateString(a ? a : ""));
    free(a);
}

/* The lock's holder; nothing when we hold it ourselves (--repair). */
static cJSON *lock_json(const bg_lock_holder *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "held", h->held);
    if (!h->recorded)
        return o;
    if (h->pid > 0)
        cJSON_AddNumberToObject(o, "pid", (double)h->pid);
    cJSON_AddStringToObject(o, "host", h->host);
    if (h->started_at[0])
        cJSON_AddStringToObject(o, "since", h->started_at);
    if (h->job_url[0])
        cJSON_AddStringToObject(o, "job_url", h->job_url);
    if (!h->held)
        cJSON_AddBoolToObject(o, "stale", true); /* left by a process that died */
    return o;
}

/* Reads the holder, then the state again, then the holder again: a deploy that ends
 * between two reads must not look like one that died ("stopped without finishing"). */
static int lock_then_state(deploy_ctx *c, bg_lock_holder *h, bg_error *err)
{
    memset(h, 0, sizeof *h);
    if (c->lock) /* --repair took it: nobody else holds it */
        return 0;
    bg_lock_holder before;
    int rc = bg_lock_peek(&before, c->lock_path, err);
    if (rc)
        return rc;
    bg_state_free(c->state);
    c->state = NULL;
    if ((rc = bg_state_load(&c->state, c->state_path, c->set.environment, err)))
        return rc;
    if ((rc = bg_lock_peek(h, c->lock_path, err)))
        return rc;
    if (!h->held && before.held)
        *h = before;
    return 0;
}

static cJSON *endpoint_json(const bg_endpoint_probe *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "url", p->endpoint);
    if (p->health_status)
        cJSON_AddNumberToObject(o, "health", (double)p->health_status);
    else
        cJSON_AddNullToObject(o, "health");
    if (p->model_listed < 0)
        cJSON_AddNullToObject(o, "model_listed");
    else
        cJSON_AddBoolToObject(o, "model_listed", p->model_listed == 1);
    if (p->first_model[0])
        cJSON_AddStringToObject(o, "serves", p->first_model);
    cJSON_AddBoolToObject(o, "ready", p->ready);
    cJSON_AddStringToObject(o, "detail", p->detail);
    return o;
}

/* {"blue": {"ready", "served_model", "endpoints": […]}, "green": …}: each endpoint looked
 * at once, expecting the model the state says the pool serves. */
static cJSON *pools_json(deploy_ctx *c, bg_error *err)
{
    const char *served[BG_POOL_COUNT];
    bg_endpoint_probe *probes[BG_POOL_COUNT];
    for (int i = 0; i < BG_POOL_COUNT; i++)
        served[i] = c->state->pool[i].served_model;
    if (bg_pools_probe(&c->pools, served, STATUS_PROBE_TIMEOUT_MS, probes, err))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < BG_POOL_COUNT; i++) {
        cJSON *p = cJSON_AddObjectToObject(o, bg_pool_name((bg_pool_id)i));
        cJSON *eps = cJSON_CreateArray();
        bool ready = c->pools.pool[i].n_endpoints > 0;
        for (size_t e = 0; e < c->pools.pool[i].n_endpoints; e++) {
            ready = ready && probes[i][e].ready;
            cJSON_AddItemToArray(eps, endpoint_json(&probes[i][e]));
        }
        cJSON_AddBoolToObject(p, "ready", ready);
        if (served[i])
            cJSON_AddStringToObject(p, "served_model", served[i]);
        else
            cJSON_AddNullToObject(p, "served_model");
        cJSON_AddItemToObject(p, "endpoints", eps);
        free(probes[i]);
    }
    return o;
}

/* What to do about an unfinished deploy: wait for a running one; recover a dead one. */
static void deploy_advice(cJSON *advice, const bg_state *st, const bg_lock_holder *h)
{
    bool ramp = st->phase && strcmp(st->phase, "ramp") == 0;
    bool paused = ramp && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st->ramp, "paused"));
    char *a = NULL;
    if (paused && !h->held)
        a = bg_asprintf("a canary ramp is paused: `bg-gate promote --step` advances one step, "
                        "`promote --full` goes to 100 %%, `bg-gate abort` goes back to 0 %% "
                        "on the new pool");
    else if (st->phase && h->held)
        a = bg_asprintf("a deploy by pid %ld on %s is in progress (phase \"%s\"); deploy, "
                        "rollback, promote and abort exit 4 until it ends",
                        h->pid, h->host, st->phase);
    else if (st->phase)
        a = bg_deploy_recovery_advice(st);
    else if (h->held)
        a = bg_asprintf("pid %ld on %s holds the lock (a rollback, promote or abort is "
                        "running)",
                        h->pid, h->host);
    if (a)
        cJSON_AddItemToArray(advice, cJSON_CreateString(a));
    free(a);
}

int bg_deploy_status(cJSON **out, const bg_config *cfg, bool repair, bg_error *err)
{
    deploy_ctx c;
    bg_lock_holder holder;
    cJSON *o = NULL, *pools = NULL;
    int rc = bg_deploy_ctx_open(&c, cfg, repair, err);
    if (!rc)
        rc = lock_then_state(&c, &holder, err);
    if (!rc && !(pools = pools_json(&c, err)))
        rc = err->code ? err->code : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (rc) {
        bg_deploy_ctx_close(&c);
        return rc;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "environment", c.set.environment);
    cJSON *router = cJSON_AddObjectToObject(o, "router");
    cJSON_AddStringToObject(router, "driver", bg_router_driver_name(c.router));
    bg_weights w;
    bg_error rerr = {0};
    bool have = bg_router_get(c.router, &w, &rerr) == 0;
    if (have) {
        cJSON_AddItemToObject(router, "weights", weights_json(&w));
        int live = bg_weights_live(&w);
        if (live >= 0)
            cJSON_AddStringToObject(router, "live", bg_pool_name((bg_pool_id)live));
        else
            cJSON_AddNullToObject(router, "live");
    } else {
        cJSON_AddStringToObject(router, "error", rerr.msg);
    }
    bool drift = have && c.state->has_weights &&
                 (w.w[0] != c.state->weights.w[0] || w.w[1] != c.state->weights.w[1]);
    cJSON_AddBoolToObject(o, "drift", drift);
    cJSON_AddItemToObject(o, "pools", pools);
    cJSON_AddItemToObject(o, "lock", lock_json(&holder));
    bool in_progress = c.state->phase && holder.held;
    cJSON_AddBoolToObject(o, "in_progress", in_progress);
    cJSON_AddItemToObject(o, "state", bg_state_to_json(c.state));
    cJSON *advice = cJSON_AddArrayToObject(o, "advice");
    router_drift(router, advice, &c, repair);
    deploy_advice(advice, c.state, &holder);
    /* a running deploy moves the router before it records it, and a dead one left weights
     * the recovery puts back: --force advice only when no phase is pending */
    if (drift && !c.state->phase)
        cJSON_AddItemToArray(
            advice, cJSON_CreateString("the router's weights differ from what bg-gate last "
                                       "set: check the router, then deploy with --force"));
    *out = o;
    bg_deploy_ctx_close(&c);
    return 0;
}
