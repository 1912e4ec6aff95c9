/* ramp.c — the canary ramp (`promotion.strategy: "canary"`): traffic moves to the new
 * pool in steps (default 1, 25, 75, 100 %), and at every step, until its bake time is
 * over, a live analysis compares the new pool with the old one over the same window.
 *
 * One analysis interval: scrape both pools' /metrics (every endpoint), send the
 * synthetic probes through the router (or just wait), scrape again; the deltas of each
 * pool (analysis.h) are compared by the configured checks and a tracker decides:
 * continue, hold (a failure below the limit, or no data yet: the ramp never advances on
 * missing data), or roll back (a failure limit, or inconclusive for too long) — to 0 %
 * on the new pool, exit 5. Probes that fail through the router count as a failed
 * interval of their own ("probes"), under the same failure_limit.
 *
 * The ramp lives in the state file (`deploy.ramp`, phase "ramp"), rewritten every
 * interval, so `status` shows the step, the bake time left and the last analysis, and a
 * ramp paused with `--pause-at` survives the process: `promote --step` advances one step,
 * `promote --full` goes to 100 %, `abort` goes back to 0 % on the new pool.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/analysis.h"
#include "bggate/cancel.h"
#include "bggate/evaluate.h"
#include "bggate/log.h"
#include "bggate/prom.h"
#include "bggate/runner.h"
#include "bggate/template.h"
#include "bggate/util.h"
#include "deploy_internal.h"
#include "recover.h"

#define RAMP_SLEEP_SLICE_MS 100
#define PROBE_CONCURRENCY 4

/* Built-in checks when promotion.analysis has none: errors and tail latency, each
 * against the old pool, with a floor of samples so noise is not a verdict. */
static const char default_analysis[] =
    "{\"checks\": ["
    "{\"metric\": \"error_rate\", \"max_increase_over_old\": 0.02, \"min_samples\": 10},"
    "{\"metric\": \"e2e_p95_s\", \"max_ratio_to_old\": 1.5, \"min_samples\": 10}]}";

typedef struct ramp {
    deploy_ctx *c;
    bg_pool_id target, old;
    const bg_release *rel;     /* renders template probes; NULL: plain probes only */
    const char *served;        /* model name the probes ask for */
    bg_analysis_config acfg;
    bg_analysis_tracker tracker;
    char *probe_path;
    bg_suite **probe_suites;   /* loaded (and rendered) once; each interval's run borrows them */
    size_t n_probe_suites;
    long probe_failures;       /* failed probe intervals in a row */
} ramp;

/* --- state --- */

static cJSON *ramp_json(ramp *r)
{
    bg_state *st = r->c->state;
    if (!st->ramp)
        st->ramp = cJSON_CreateObject();
    return st->ramp;
}

/* Sets o[key] to item (taking it), replacing an earlier value. */
static void json_set(cJSON *o, const char *key, cJSON *item)
{
    if (item && !cJSON_ReplaceItemInObjectCaseSensitive(o, key, item) &&
        !cJSON_AddItemToObject(o, key, item))
        cJSON_Delete(item);
}

/* A number, or null for NaN/inf (JSON has neither). */
static void json_set_number(cJSON *o, const char *key, double v)
{
    json_set(o, key, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

static void record_step(ramp *r, size_t i, bool paused)
{
    const bg_deploy_settings *set = &r->c->set;
    cJSON *j = ramp_json(r);
    if (!j)
        return;
    json_set(j, "steps", cJSON_CreateIntArray(set->steps, (int)set->n_steps));
    json_set_number(j, "step", (double)i);
    json_set_number(j, "percent", set->steps[i]);
    json_set_number(j, "bake_s", (double)set->bake_s);
    json_set_number(j, "interval_s", (double)r->acfg.interval_s);
    if (!paused)
        json_set_number(j, "step_started_at", bg_wall_s());
    json_set(j, "paused", cJSON_CreateBool(paused));
}

static void record_analysis(ramp *r, const bg_analysis_result *res, bg_analysis_action action,
                            const char *why, size_t sent, size_t passed)
{
    cJSON *j = ramp_json(r), *last = cJSON_CreateObject(), *checks = cJSON_CreateArray();
    if (!j || !last || !checks) {
        cJSON_Delete(last);
        cJSON_Delete(checks);
        return;
    }
    for (size_t i = 0; i < r->acfg.n_checks; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->acfg.checks[i].name);
        cJSON_AddStringToObject(o, "verdict", bg_analysis_verdict_name(res[i].verdict));
        json_set_number(o, "new", res[i].new_value);
        json_set_number(o, "old", res[i].old_value);
        cJSON_AddStringToObject(o, "text", res[i].text);
        cJSON_AddItemToArray(checks, o);
    }
    json_set_number(last, "at", bg_wall_s());
    cJSON_AddStringToObject(last, "action", bg_analysis_action_name(action));
    cJSON_AddStringToObject(last, "why", why);
    cJSON_AddItemToObject(last, "checks", checks);
    if (r->probe_path) {
        cJSON *p = cJSON_AddObjectToObject(last, "probes");
        cJSON_AddNumberToObject(p, "sent", (double)sent);
        cJSON_AddNumberToObject(p, "passed", (double)passed);
    }
    json_set(j, "last_analysis", last);
}

static void save_state(ramp *r)
{
    bg_error e = {0};
    if (bg_deploy_ctx_save(r->c, &e))
        bg_log_warn("%s", e.msg);
}

/* --- router --- */

static int set_percent(ramp *r, int pct, bg_error *err)
{
    bg_weights w;
    w.w[r->target] = pct;
    w.w[r->old] = 100 - pct;
    int rc = bg_router_set(r->c->router, &w, err);
    if (rc)
        return rc;
    r->c->state->has_weights = true;
    r->c->state->weights = w;
    return 0;
}

/* --- metrics --- */

typedef struct pool_scrape {
    bg_prom_scrape **s; /* per endpoint; NULL where none */
    size_t n;
} pool_scrape;

static void pool_scrape_free(pool_scrape *p)
{
    for (size_t i = 0; p->s && i < p->n; i++)
        bg_prom_scrape_free(p->s[i]);
    free(p->s);
    p->s = NULL;
    p->n = 0;
}

/* Scrapes and parses every endpoint of a pool. A pool that does not answer gives an
 * empty scrape (its window has no data: inconclusive), with a warning. */
static void scrape_pool(ramp *r, bg_pool_id p, pool_scrape *out)
{
    const bg_pool_config *pool = &r->c->pools.pool[p];
    char **bodies = calloc(pool->n_endpoints ? pool->n_endpoints : 1, sizeof *bodies);
    out->s = calloc(pool->n_endpoints ? pool->n_endpoints : 1, sizeof *out->s);
    out->n = out->s ? pool->n_endpoints : 0;
    bg_error e = {0};
    if (!bodies || !out->s || bg_pool_metrics(pool, bodies, &e)) {
        if (e.msg[0])
            bg_log_warn("    analysis: %s", e.msg);
        free(bodies);
        return;
    }
    for (size_t i = 0; i < out->n; i++) {
        if (bodies[i] && bg_prom_parse(&out->s[i], bodies[i], strlen(bodies[i]), &e))
            bg_log_warn("    analysis: %s %s: %s", bg_pool_name(p), pool->endpoints[i], e.msg);
        free(bodies[i]);
    }
    free(bodies);
}

static void pool_window(ramp *r, const pool_scrape *before, const pool_scrape *after,
                        bg_analysis_window *w)
{
    memset(w, 0, sizeof *w);
    for (size_t i = 0; i < before->n && i < after->n; i++) {
        bg_analysis_window one;
        bg_error e = {0};
        if (!before->s[i] || !after->s[i])
            continue;
        memset(&one, 0, sizeof one);
        if (bg_analysis_window_compute(&one, before->s[i], after->s[i],
                                       (const char *const *)r->acfg.filter, &e) ||
            bg_analysis_window_add(w, &one, &e))
            bg_log_warn("    analysis: %s", e.msg);
    }
}

/* The router's own counts for a pool (HAProxy), read before and after an interval. */
typedef struct router_reading {
    bg_router_counters c;
    bool ok;
} router_reading;

static void read_router(ramp *r, bg_pool_id p, router_reading *out)
{
    bg_error e = {0};
    int rc = bg_router_counters_get(r->c->router, p, &out->c, &e);
    out->ok = rc == 0;
    if (rc && rc != BG_ENOTSUP)
        bg_log_warn("    analysis: %s", e.msg);
}

/* Deltas like a counter's increase(): a router restarted in between counts from 0. */
static void router_window(const router_reading *before, const router_reading *after,
                          bg_analysis_window *w)
{
    if (!before->ok || !after->ok)
        return;
    bool reset = after->c.requests < before->c.requests || after->c.errors < before->c.errors;
    w->router_requests = reset ? after->c.requests : after->c.requests - before->c.requests;
    w->router_errors = reset ? after->c.errors : after->c.errors - before->c.errors;
    w->has_router = true;
}

/* --- probes --- */

/* Sleeps ms in slices; false when SIGINT/SIGTERM arrived. */
static bool wait_ms(double ms)
{
    double until = bg_now_ms() + ms;
    while (bg_now_ms() < until) {
        if (bg_cancelled())
            return false;
        double left = until - bg_now_ms();
        usleep((useconds_t)((left < RAMP_SLEEP_SLICE_MS ? left : RAMP_SLEEP_SLICE_MS) * 1000));
    }
    return !bg_cancelled();
}

/* Loads the probe suite once (templates rendered from the release when there is one). */
static int load_probes(ramp *r, bg_error *err)
{
    bg_gate_config g = r->c->cfg->gate;
    g.suites = &r->probe_path;
    g.n_suites = 1;
    int rc = bg_eval_load_suites(&r->probe_suites, &r->n_probe_suites, &g, err);
    for (size_t s = 0; !rc && s < r->n_probe_suites && r->rel; s++)
        rc = bg_template_render_suite(r->probe_suites[s], r->rel, err);
    if (rc)
        bg_error_prefix(err, "promotion.probes.suite");
    return rc;
}

/* Runs the probe suite through the router at probes.rate, repeated to fill an interval. */
static int run_probes(ramp *r, size_t *sent, size_t *passed, bg_error *err)
{
    const char *endpoint = bg_router_endpoint(r->c->router);
    const char *key = NULL;
    bg_run *run = NULL;
    *sent = *passed = 0;
    int rc = bg_eval_api_key(&key, r->c->cfg->gate.api_key_env, err);
    if (!rc)
        rc = bg_run_new_borrowing(&run, r->probe_suites, r->n_probe_suites, err);
    if (!rc) {
        bg_runner_opts o;
        bg_eval_runner_opts(&o, &r->c->cfg->gate, key);
        o.endpoints = &endpoint;
        o.n_endpoints = 1;
        o.model = r->served;
        o.rate = r->c->set.probe_rate;
        o.poisson = false;
        o.concurrency = PROBE_CONCURRENCY;
        /* enough runs of the suite to keep probing at `rate` for the whole interval */
        double want = r->c->set.probe_rate * (double)r->acfg.interval_s;
        size_t cases = bg_run_case_count(run);
        o.repeat = cases ? (int)ceil(want / (double)cases) : 1;
        if (o.repeat < 1)
            o.repeat = 1;
        rc = bg_runner_run(run, &o, err);
    }
    if (!rc) {
        *sent = run->overall.runs;
        *passed = run->overall.runs_passed;
    }
    bg_run_free(run);
    return rc;
}

/* --- one interval --- */

/* Probes (or a plain wait) for one interval; probe failures feed their own streak. */
static int probe_interval(ramp *r, size_t *sent, size_t *passed, bool *probes_failed,
                          bg_error *err)
{
    double t0 = bg_now_ms(), interval_ms = (double)r->acfg.interval_s * 1000.0;
    *probes_failed = false;
    *sent = *passed = 0;
    if (r->probe_path) {
        bg_error pe = {0};
        int rc = run_probes(r, sent, passed, &pe);
        if (rc == BG_ECANCELED || bg_cancelled())
            return bg_error_set(err, BG_ECANCELED, "canary: stopped by a signal");
        if (rc == BG_EINVAL || rc == BG_ENOMEM)
            return bg_error_set(err, rc, "%s", pe.msg);
        *probes_failed = rc != 0 || *passed < *sent;
        if (rc)
            bg_log_warn("    probes: %s", pe.msg);
    }
    double left = interval_ms - (bg_now_ms() - t0);
    if (left > 0 && !wait_ms(left))
        return bg_error_set(err, BG_ECANCELED, "canary: stopped by a signal");
    return 0;
}

/* The probes' own verdict over intervals: failure_limit failed intervals in a row. */
static bg_analysis_action probes_action(ramp *r, bool failed, size_t sent, size_t passed,
                                        char *why, size_t whysz)
{
    r->probe_failures = failed ? r->probe_failures + 1 : 0;
    if (!failed)
        return BG_ANALYSIS_CONTINUE;
    long limit = r->acfg.failure_limit > 0 ? r->acfg.failure_limit : 1;
    snprintf(why, whysz, "%s: %zu of %zu probes through the router passed (%ld failed "
                         "interval%s in a row, limit %ld)",
             r->probe_failures >= limit ? "rollback" : "probes failing", passed, sent,
             r->probe_failures, r->probe_failures == 1 ? "" : "s", limit);
    return r->probe_failures >= limit ? BG_ANALYSIS_ROLLBACK : BG_ANALYSIS_HOLD;
}

static void log_results(const ramp *r, const bg_analysis_result *res)
{
    for (size_t i = 0; i < r->acfg.n_checks; i++)
        bg_log_info("    %-12s %-12s %s", r->acfg.checks[i].name,
                    bg_analysis_verdict_name(res[i].verdict), res[i].text);
}

static int analyze_interval(ramp *r, bg_analysis_action *action, char *why, size_t whysz,
                            bg_error *err)
{
    pool_scrape before[BG_POOL_COUNT], after[BG_POOL_COUNT];
    bg_analysis_window w[BG_POOL_COUNT];
    router_reading rbefore[BG_POOL_COUNT], rafter[BG_POOL_COUNT];
    bg_analysis_result res[BG_ANALYSIS_MAX_CHECKS];
    size_t sent = 0, passed = 0;
    bool probes_failed = false;
    memset(before, 0, sizeof before);
    memset(after, 0, sizeof after);
    for (int p = 0; p < BG_POOL_COUNT; p++) {
        scrape_pool(r, (bg_pool_id)p, &before[p]);
        read_router(r, (bg_pool_id)p, &rbefore[p]);
    }
    int rc = probe_interval(r, &sent, &passed, &probes_failed, err);
    for (int p = 0; !rc && p < BG_POOL_COUNT; p++) {
        scrape_pool(r, (bg_pool_id)p, &after[p]);
        read_router(r, (bg_pool_id)p, &rafter[p]);
    }
    for (int p = 0; !rc && p < BG_POOL_COUNT; p++) {
        pool_window(r, &before[p], &after[p], &w[p]);
        router_window(&rbefore[p], &rafter[p], &w[p]);
    }
    if (!rc) {
        bg_analysis_evaluate_all(res, &r->acfg, &w[r->target], &w[r->old]);
        *action = bg_analysis_tracker_feed(&r->tracker, res, bg_now_ms() / 1000.0, why, whysz);
        char pwhy[BG_MAX_REASON];
        bg_analysis_action pa = probes_action(r, probes_failed, sent, passed, pwhy, sizeof pwhy);
        if (pa > *action) {
            *action = pa;
            snprintf(why, whysz, "%s", pwhy);
        }
        log_results(r, res);
        record_analysis(r, res, *action, why, sent, passed);
        save_state(r);
    }
    for (int p = 0; p < BG_POOL_COUNT; p++) {
        pool_scrape_free(&before[p]);
        pool_scrape_free(&after[p]);
    }
    return rc;
}

/* --- steps --- */

/* Bakes the current step: intervals until bake_s is over and the last one passed. */
static int bake(ramp *r, size_t i, bool *rollback, char *why, size_t whysz, bg_error *err)
{
    double end = bg_now_ms() + (double)r->c->set.bake_s * 1000.0;
    *rollback = false;
    if (r->c->set.bake_s == 0)
        return 0;
    for (;;) {
        bg_analysis_action action = BG_ANALYSIS_HOLD;
        int rc = analyze_interval(r, &action, why, whysz, err);
        if (rc)
            return rc;
        if (action == BG_ANALYSIS_ROLLBACK) {
            *rollback = true;
            return 0;
        }
        double left = end - bg_now_ms();
        if (action == BG_ANALYSIS_CONTINUE && left <= 0)
            return 0;
        if (action == BG_ANALYSIS_HOLD)
            bg_log_info("    holding at %d%%: %s", r->c->set.steps[i], why);
        else
            bg_log_info("    %d%%: healthy, %.0f s of bake left", r->c->set.steps[i],
                        left > 0 ? left / 1000.0 : 0.0);
    }
}

/* Back to 0 % on the new pool after a failed analysis. */
static int roll_back(ramp *r, const char *why, bg_error *err)
{
    bg_log_error("canary analysis failed: %s; moving all traffic back to %s", why,
                 bg_pool_name(r->old));
    int rc = set_percent(r, 0, err);
    if (rc)
        bg_error_prefix(err, "canary rollback");
    cJSON *j = ramp_json(r);
    if (j)
        json_set(j, "rolled_back", cJSON_CreateString(why));
    return rc;
}

static int ramp_open(ramp *r, deploy_ctx *c, bg_pool_id target, const bg_release *rel,
                     const char *served, bg_error *err)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->target = target;
    r->old = bg_pool_other(target);
    r->rel = rel;
    r->served = served;
    cJSON *dflt = NULL;
    const cJSON *a = c->set.analysis;
    if (!a || !cJSON_GetObjectItemCaseSensitive(a, "checks")) {
        dflt = cJSON_Parse(default_analysis);
        if (dflt && a)
            for (const cJSON *it = a->child; it; it = it->next)
                cJSON_AddItemToObject(dflt, it->string, cJSON_Duplicate(it, true));
        a = dflt;
    }
    int rc = a ? bg_analysis_config_parse(&r->acfg, a, "promotion.analysis", err)
               : bg_error_set(err, BG_ENOMEM, "out of memory");
    cJSON_Delete(dflt);
    if (rc)
        return rc;
    bg_analysis_tracker_init(&r->tracker, &r->acfg, bg_now_ms() / 1000.0);
    if (c->set.probe_suite) {
        const char *s = c->set.probe_suite;
        r->probe_path = s[0] == '/' || !c->cfg->dir ? bg_strdup(s)
                                                    : bg_asprintf("%s/%s", c->cfg->dir, s);
        if (!r->probe_path)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        if (!bg_router_endpoint(c->router))
            return bg_error_set(err, BG_EINVAL,
                                "promotion.probes: needs router.endpoint (probes go through "
                                "the router)");
        return load_probes(r, err);
    }
    return 0;
}

static void ramp_close(ramp *r)
{
    bg_analysis_config_dispose(&r->acfg);
    free(r->probe_path);
    for (size_t s = 0; s < r->n_probe_suites; s++)
        bg_suite_free(r->probe_suites[s]);
    free(r->probe_suites);
}

int bg_ramp_check(deploy_ctx *c, const bg_release *rel, bg_error *err)
{
    ramp r;
    int rc = ramp_open(&r, c, BG_POOL_GREEN, rel, rel ? rel->served_name : NULL, err);
    ramp_close(&r);
    return rc;
}

int bg_ramp_run(bg_ramp_outcome *out, char *why, size_t whysz, deploy_ctx *c,
                bg_pool_id target, const bg_release *rel, const char *served, size_t from,
                int pause_at, bg_error *err)
{
    ramp r;
    int rc = ramp_open(&r, c, target, rel, served, err);
    *out = BG_RAMP_DONE;
    why[0] = '\0';
    for (size_t i = from; !rc && i < c->set.n_steps; i++) {
        int pct = c->set.steps[i];
        bg_log_info("    canary: %s at %d%% (step %zu of %zu)", bg_pool_name(target), pct, i + 1,
                    c->set.n_steps);
        rc = set_percent(&r, pct, err);
        if (rc)
            break;
        record_step(&r, i, false);
        save_state(&r);
        if (pct == 100)
            break; /* the caller verifies and drains */
        bool rollback = false;
        rc = bake(&r, i, &rollback, why, whysz, err);
        if (!rc && rollback) {
            rc = roll_back(&r, why, err);
            *out = BG_RAMP_ROLLED_BACK;
            break;
        }
        if (!rc && pause_at > 0 && pct >= pause_at) {
            record_step(&r, i, true);
            save_state(&r);
            snprintf(why, whysz, "paused at %d%% (step %zu of %zu)", pct, i + 1, c->set.n_steps);
            *out = BG_RAMP_PAUSED;
            break;
        }
    }
    ramp_close(&r);
    return rc;
}

/* --- continuing a paused ramp (`promote --step` / `promote --full`) --- */

/* The steps the ramp started with (the config may have changed since). */
static int steps_from_state(deploy_ctx *c, size_t *step, bg_error *err)
{
    const cJSON *r = c->state->ramp;
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
    const cJSON *i = cJSON_GetObjectItemCaseSensitive(r, "step");
    int n = cJSON_GetArraySize(steps);
    if (!cJSON_IsArray(steps) || n < 1 || n > BG_RAMP_MAX_STEPS || !cJSON_IsNumber(i) ||
        i->valuedouble < 0 || i->valuedouble >= n)
        return bg_error_set(err, BG_EINVAL,
                            "%s: deploy.ramp is damaged (steps/step); run `bg-gate abort`",
                            c->state_path);
    int k = 0;
    for (const cJSON *s = steps->child; s; s = s->next, k++)
        c->set.steps[k] = cJSON_IsNumber(s) ? (int)s->valuedouble : 100;
    c->set.n_steps = (size_t)n;
    *step = (size_t)i->valuedouble;
    return 0;
}

static int check_paused(deploy_ctx *c, const char *action, bg_error *err)
{
    const bg_state *st = c->state;
    if (!st->phase || strcmp(st->phase, "ramp") != 0 || !st->ramp || st->target < 0)
        return bg_error_set(err, BG_EINVAL, "%s: no canary ramp is paused%s%s%s", action,
                            st->phase ? " (a deploy stopped in phase \"" : "",
                            st->phase ? st->phase : "", st->phase ? "\": run `bg-gate abort`)" : "");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st->ramp, "paused")))
        return bg_error_set(err, BG_ENET,
                            "%s: the canary ramp did not pause, it was interrupted: run "
                            "`bg-gate abort` (back to 0 %% on the new pool) and deploy again",
                            action);
    return 0;
}

/* At 100 %: verify through the router (failure: back to the weights before the deploy),
 * drain the old pool, record the new live pool. */
static int finish_at_full(deploy_ctx *c, bg_pool_id target, const char *served,
                          bg_ramp_outcome *out, char *why, size_t whysz, bg_error *err)
{
    int rc = bg_deploy_phase_begin(c, "verify", err);
    if (!rc)
        rc = bg_deploy_verify(c, target, served, c->set.verify_requests, err);
    if (rc && bg_cancelled()) /* a failed answer after the signal is the signal's doing */
        rc = bg_error_set(err, BG_ECANCELED, "interrupted by signal %d during verification",
                          bg_cancel_signal());
    bg_deploy_phase_end(c, rc ? err->msg : NULL);
    if (rc == BG_ECANCELED)
        return rc;
    bg_state *st = c->state;
    if (rc) {
        snprintf(why, whysz, "verification failed: %s", err->msg);
        bg_log_error("%s", why);
        bg_error e = {0};
        if (st->has_weights_before && bg_router_set(c->router, &st->weights_before, &e) == 0) {
            st->weights = st->weights_before;
            char check[BG_MAX_REASON] = "";
            if (bg_deploy_check_restored(c, &st->weights_before, check, sizeof check))
                snprintf(why + strlen(why), whysz - strlen(why), "; %s", check);
        } else {
            bg_log_error("could not restore the router: %s", e.msg);
        }
        bg_state_set_str(&st->pool[target].status, "failed");
        *out = BG_RAMP_ROLLED_BACK;
        return 0;
    }
    bg_pool_id old = bg_pool_other(target);
    if (st->live >= 0 && bg_deploy_phase_begin(c, "drain", err) == 0) {
        bg_deploy_drain(c, old);
        bg_deploy_phase_end(c, bg_cancelled() ? "interrupted" : NULL);
    }
    bg_state_set_str(&st->pool[target].status, "live");
    st->pool[target].keep_warm_until = 0;
    if (st->pool[old].release_id) {
        bg_state_set_str(&st->pool[old].status, "warm");
        st->pool[old].keep_warm_until = bg_wall_s() + (double)c->set.keep_warm_s;
    }
    st->live = (int)target;
    *out = BG_RAMP_DONE;
    return bg_deploy_drain_verdict(target, old, err);
}

/* Clears the ramp from the state once it is over (promoted or rolled back). */
static void ramp_over(deploy_ctx *c)
{
    bg_state_set_str(&c->state->phase, NULL);
    c->state->target = -1;
    cJSON_Delete(c->state->ramp);
    c->state->ramp = NULL;
}

static int continue_ramp(deploy_ctx *c, bool full, bg_ramp_outcome *out, char *why,
                         size_t whysz, bg_error *err)
{
    size_t step = 0;
    const char *action = full ? "promote --full" : "promote --step";
    int rc = steps_from_state(c, &step, err);
    if (rc)
        return rc;
    bg_pool_id target = (bg_pool_id)c->state->target;
    const char *served = c->state->pool[target].served_model;
    size_t next = full ? c->set.n_steps - 1 : step + 1;
    if (next >= c->set.n_steps)
        next = c->set.n_steps - 1;
    bg_log_info("%s: %s from %d%% to %d%%", action, bg_pool_name(target), c->set.steps[step],
                c->set.steps[next]);
    if ((rc = bg_deploy_phase_begin(c, "ramp", err)))
        return rc;
    rc = bg_ramp_run(out, why, whysz, c, target, NULL, served, next, c->set.steps[next], err);
    bg_deploy_phase_end(c, rc ? err->msg : *out == BG_RAMP_ROLLED_BACK ? why : NULL);
    if (!rc && *out == BG_RAMP_DONE)
        rc = finish_at_full(c, target, served, out, why, whysz, err);
    if (!rc && *out == BG_RAMP_ROLLED_BACK)
        bg_state_set_str(&c->state->pool[target].status, "failed");
    return rc;
}

int bg_deploy_ramp_continue(bg_deploy_outcome *outcome, const bg_config *cfg, bool full,
                            bg_error *err)
{
    deploy_ctx c;
    bg_ramp_outcome ro = BG_RAMP_PAUSED;
    char why[BG_MAX_REASON] = "";
    *outcome = BG_OUTCOME_FAILED;
    int rc = bg_deploy_ctx_open(&c, cfg, true, err);
    if (!rc)
        rc = check_paused(&c, full ? "promote --full" : "promote --step", err);
    if (!rc) {
        rc = continue_ramp(&c, full, &ro, why, sizeof why, err);
        /* promoted and verified, interrupted only while draining: stays promoted */
        bool promoted = ro == BG_RAMP_DONE && c.state->live == c.state->target;
        if (rc == BG_ECANCELED && !promoted) {
            /* back to where the pause left it is not known to be safe: to 0 % */
            bg_error e = {0};
            if (c.state->has_weights_before &&
                bg_router_set(c.router, &c.state->weights_before, &e) == 0) {
                c.state->weights = c.state->weights_before;
                char check[BG_MAX_REASON] = "";
                bg_deploy_check_restored(&c, &c.state->weights_before, check, sizeof check);
            }
        }
        if ((!rc || promoted) && ro != BG_RAMP_PAUSED)
            ramp_over(&c);
        if (!rc || promoted)
            *outcome = ro == BG_RAMP_DONE      ? BG_OUTCOME_PROMOTED
                       : ro == BG_RAMP_PAUSED ? BG_OUTCOME_PAUSED
                                              : BG_OUTCOME_ROLLED_BACK;
        const char *name = rc == BG_ECANCELED ? "interrupted"
                           : rc               ? "failed"
                           : ro == BG_RAMP_DONE ? "promoted"
                           : ro == BG_RAMP_PAUSED ? "paused" : "rolled-back";
        /* an infrastructure error mid-ramp leaves the ramp unpaused: `abort` ends it */
        if (c.state) {
            bg_deploy_history(&c, full ? "promote --full" : "promote --step",
                              c.state->target >= 0 ? c.state->target : c.state->live, name,
                              rc ? err->msg : why[0] ? why : NULL);
            bg_error e = {0};
            if (bg_deploy_ctx_save(&c, &e))
                bg_log_error("%s", e.msg);
        }
    }
    bg_deploy_ctx_close(&c);
    return rc;
}
