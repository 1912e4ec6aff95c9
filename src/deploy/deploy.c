/* deploy.c — `bg-gate deploy`: the whole blue-green cycle (see deploy.h).
 *
 * lock → recover a deploy that died → resolve → find the idle pool from the router
 * (drift check) → export + deploy the bundle → health → warm-up → gate (the eval engine
 * against the idle pool) → flip → verify through the router → drain → record.
 * Every phase is written to the state file before it starts, so a SIGKILL leaves a
 * trace `status` can explain. Live traffic moves only after health and gate passed; a
 * failed verification flips back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/cancel.h"
#include "bggate/evaluate.h"
#include "bggate/gate.h"
#include "bggate/hooks.h"
#include "bggate/log.h"
#include "bggate/release.h"
#include "bggate/report.h"
#include "bggate/template.h"
#include "bggate/util.h"
#include "deploy_internal.h"
#include "recover.h"

typedef struct cycle {
    deploy_ctx c;
    const bg_deploy_opts *o;
    bg_release *rel;
    int live;                 /* pool with 100 % before the deploy, -1 none */
    bg_pool_id idle;
    bool flipped;             /* the router was changed by us */
    bg_weights before;
    bg_gate_config gate;      /* shallow copy of cfg->gate with our endpoints/suites/reports */
    char *report_paths[4];
    char **suite_paths;
    size_t n_suite_paths;
    bg_pool_state prev;       /* what the idle pool held before (to restore on failure) */
    char why[512];            /* canary: why it paused or rolled back */
    bool began;               /* the state is ours to update (no paused ramp in the way) */
    bg_hooks hooks;
    bg_hook_event ev;         /* what hooks and notifications are told */
    bool attempted;           /* there was something to deploy: post_deploy runs */
    bool blocked;             /* a pre_* hook said no: decision "blocked-by-hook" */
    char blocked_why[BG_ERROR_MSG_MAX];
    char restore_why[BG_ERROR_MSG_MAX]; /* a restore of the router failed or did not take */
} cycle;

static bool weights_equal(const bg_weights *a, const bg_weights *b)
{
    return a->w[0] == b->w[0] && a->w[1] == b->w[1];
}

/* Which pool is live according to the router; drift against our state stops us. */
static int find_idle(cycle *y, bool force, bg_error *err)
{
    bg_weights w;
    bg_error gerr = {0};
    int rc = bg_router_get(y->c.router, &w, &gerr);
    if (rc == BG_EINVAL && !y->c.state->has_weights) {
        /* a router never set up: no live pool yet */
        y->live = -1;
        y->idle = BG_POOL_BLUE;
        y->before = (bg_weights){{0, 0}};
        bg_log_info("    router has no weights yet (%s): first deploy goes to blue", gerr.msg);
        return 0;
    }
    if (rc)
        return bg_error_set(err, rc, "%s", gerr.msg);
    y->before = w;
    y->live = bg_weights_live(&w);
    bg_state *st = y->c.state;
    if (st->has_weights && !weights_equal(&w, &st->weights)) {
        char r[64], s[64];
        bg_weights_format(r, sizeof r, &w);
        bg_weights_format(s, sizeof s, &st->weights);
        if (!force)
            return bg_error_set(err, BG_ENET,
                                "drift: the router has %s but bg-gate last set %s; someone "
                                "changed the router by hand — check it, then re-run with "
                                "--force to take the router as the truth",
                                r, s);
        bg_log_warn("drift: router has %s, state says %s; --force: trusting the router", r, s);
    }
    if (y->live < 0)
        return bg_error_set(err, BG_ENET,
                            "the router splits traffic (blue %d%%, green %d%%): finish or "
                            "abort that first",
                            w.w[0], w.w[1]);
    y->idle = bg_pool_other((bg_pool_id)y->live);
    bg_log_info("    live pool: %s; deploying to %s", bg_pool_name((bg_pool_id)y->live),
                bg_pool_name(y->idle));
    return 0;
}

/* Suites for the gate: gate.suites (working tree) or the release's suites, which are
 * paths inside the repository. */
static int gate_suites(cycle *y, bg_error *err)
{
    const bg_gate_config *g = &y->c.cfg->gate;
    if (g->n_suites) {
        y->gate.suites = g->suites;
        y->gate.n_suites = g->n_suites;
        return 0;
    }
    if (!y->rel->n_suites)
        return bg_error_set(err, BG_EINVAL,
                            "no suites to gate with: set release.suites or gate.suites");
    y->suite_paths = calloc(y->rel->n_suites, sizeof *y->suite_paths);
    if (!y->suite_paths)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    for (size_t i = 0; i < y->rel->n_suites; i++) {
        y->suite_paths[i] = bg_asprintf("%s/%s", y->rel->repo_root, y->rel->suites[i]);
        if (!y->suite_paths[i])
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        y->n_suite_paths++;
    }
    y->gate.suites = y->suite_paths;
    y->gate.n_suites = y->n_suite_paths;
    return 0;
}

static void set_report_paths(cycle *y)
{
    y->gate = y->c.cfg->gate;
    if (!y->o->reports_dir)
        return;
    const char *names[4] = {"junit.xml", "report.json", "summary.md", "metrics.txt"};
    for (int i = 0; i < 4; i++)
        y->report_paths[i] = bg_asprintf("%s/%s", y->o->reports_dir, names[i]);
    y->gate.junit = y->report_paths[0];
    y->gate.json_report = y->report_paths[1];
    y->gate.markdown = y->report_paths[2];
    y->gate.metrics = y->report_paths[3];
}

/* Moves the lifecycle recorded so far into the eval run, which becomes the report. */
static void adopt_eval_run(cycle *y, bg_run *run)
{
    bg_run *old = y->c.report;
    run->phases = old->phases;
    run->n_phases = old->n_phases;
    old->phases = NULL;
    old->n_phases = 0;
    bg_run_free(old);
    y->c.report = run;
}

static void on_gate_progress(void *ud, size_t done, size_t total, size_t passed, size_t failed,
                             size_t errors)
{
    bg_progress_update(ud, done, total, passed, failed, errors);
}

/* The gate: the eval engine against the idle pool's endpoints. *passed set on success. */
static int run_gate(cycle *y, bool *passed, bg_error *err)
{
    const bg_pool_config *pool = &y->c.pools.pool[y->idle];
    bg_suite **suites = NULL;
    size_t n = 0;
    bg_run *run = NULL;
    const char *key = NULL;
    int rc = gate_suites(y, err);
    if (!rc)
        rc = bg_eval_api_key(&key, y->gate.api_key_env, err);
    if (!rc)
        rc = bg_eval_load_suites(&suites, &n, &y->gate, err);
    for (size_t s = 0; !rc && s < n; s++)
        rc = bg_template_render_suite(suites[s], y->rel, err);
    if (!rc) {
        rc = bg_run_new(&run, suites, n, err);
        suites = NULL;
    }
    if (rc) {
        for (size_t s = 0; suites && s < n; s++)
            bg_suite_free(suites[s]);
        free(suites);
        return rc;
    }
    adopt_eval_run(y, run);
    run->release_id = bg_strdup(y->rel->id);
    run->commit = bg_strdup(y->rel->commit);
    bg_runner_opts o;
    bg_eval_runner_opts(&o, &y->gate, key);
    o.endpoints = (const char *const *)pool->endpoints;
    o.n_endpoints = pool->n_endpoints;
    o.model = y->rel->served_name;
    if (y->gate.baseline_live && y->live >= 0) { /* the live pool alongside (paired.h) */
        const bg_pool_config *lp = &y->c.pools.pool[y->live];
        o.baseline_endpoints = (const char *const *)lp->endpoints;
        o.n_baseline_endpoints = lp->n_endpoints;
        o.baseline_model = y->c.state->pool[y->live].served_model;
        o.baseline_discover = true; /* unknown to the state: ask the live pool */
    } else if (y->gate.n_baseline) {
        o.baseline_endpoints = (const char *const *)y->gate.baseline;
        o.n_baseline_endpoints = y->gate.n_baseline;
    } else if (y->gate.baseline_live) {
        bg_log_info("    no live pool yet: gating without a baseline");
    }
    run->baseline_alpha = y->gate.baseline_alpha;
    bg_progress *progress = bg_progress_new(stderr, bg_run_case_count(run),
                                            bg_log_stderr_is_tty(),
                                            bg_log_get_level() == BG_LOG_QUIET);
    o.progress = on_gate_progress;
    o.progress_ud = progress;
    rc = bg_runner_run(run, &o, err);
    bg_progress_free(progress);
    if (!rc)
        rc = bg_gate_evaluate(run, y->gate.thresholds, y->gate.n_thresholds, err);
    if (!rc) {
        *passed = run->verdict == BG_VERDICT_PASSED;
        if (bg_log_get_level() >= BG_LOG_NORMAL)
            bg_report_console(stderr, run, bg_log_color());
    }
    return rc;
}

/* Puts the router back where it was before this deploy (SIGTERM, failed verify), then
 * checks through the router that the old pool answers again: a reload that did not take
 * leaves traffic on the pool that just failed, and must not go unnoticed. */
static void restore_router(cycle *y)
{
    if (!y->flipped)
        return;
    bg_error e = {0};
    char text[64];
    bg_weights_format(text, sizeof text, &y->before);
    if (bg_router_set(y->c.router, &y->before, &e)) {
        snprintf(y->restore_why, sizeof y->restore_why,
                 "could not restore the router to %s: %s", text, e.msg);
        bg_log_error("%s", y->restore_why);
        return;
    }
    bg_log_warn("router restored to %s", text);
    y->c.state->has_weights = true;
    y->c.state->weights = y->before;
    y->c.state->live = bg_weights_live(&y->before);
    y->flipped = false;
    bg_deploy_check_restored(&y->c, &y->before, y->restore_why, sizeof y->restore_why);
}

static void mark_pool(cycle *y, bg_pool_id p, const char *status, bool gated)
{
    bg_pool_state *ps = &y->c.state->pool[p];
    bg_state_set_str(&ps->release_id, y->rel->id);
    bg_state_set_str(&ps->commit, y->rel->commit);
    bg_state_set_str(&ps->model, y->rel->model_name);
    bg_state_set_str(&ps->served_model, y->rel->served_name);
    bg_state_set_str(&ps->status, status);
    ps->gated = gated;
    ps->updated_at = bg_wall_s();
    ps->keep_warm_until = 0; /* only a warm pool has a keep-warm window */
}

static void on_health(void *ud, const char *endpoint, const char *state, double waited_s)
{
    (void)ud;
    bg_log_info("    %s: %s (%.0f s)", endpoint, state, waited_s);
}

/* deploy → health → warm-up: the idle pool gets the release and becomes ready. */
static int prepare_idle(cycle *y, bg_error *err)
{
    const bg_pool_config *pool = &y->c.pools.pool[y->idle];
    char *bundle_root = bg_asprintf("%s/bundles", y->c.set.state_dir);
    char *bundle = NULL;
    int rc = bundle_root ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc)
        rc = bg_deploy_phase_begin(&y->c, "deploy", err);
    if (!rc)
        rc = bg_release_export(y->rel, bundle_root, &bundle, err);
    mark_pool(y, y->idle, "deploying", false);
    if (!rc)
        rc = bg_pool_deploy(pool, y->rel, bundle, err);
    free(bundle_root);
    free(bundle);
    bg_deploy_phase_end(&y->c, rc ? err->msg : NULL);
    if (rc)
        return rc;
    if ((rc = bg_deploy_phase_begin(&y->c, "health", err)))
        return rc;
    rc = bg_health_wait(pool, &y->c.pools.health, y->rel->served_name, on_health, NULL, err);
    bg_deploy_phase_end(&y->c, rc ? err->msg : NULL);
    if (rc)
        return rc;
    if ((rc = bg_deploy_phase_begin(&y->c, "warmup", err)))
        return rc;
    rc = bg_pool_warmup(pool, y->rel->served_name, (int)y->c.set.warmup_requests,
                        y->gate.timeout_ms, err);
    bg_deploy_phase_end(&y->c, rc ? err->msg : NULL);
    return rc;
}

/* Redeploys the warm release the idle pool held before this deploy, so that a failed
 * deploy does not cost the instant rollback. Its bundle is still in the state dir. */
static int restore_previous(cycle *y, bg_error *err)
{
    const bg_pool_state *p = &y->prev;
    bg_release old;
    memset(&old, 0, sizeof old);
    bg_strlcpy(old.id, p->release_id, sizeof old.id);
    bg_strlcpy(old.commit, p->commit ? p->commit : "", sizeof old.commit);
    old.model_name = p->model;
    old.served_name = p->served_model;
    char *bundle = bg_asprintf("%s/bundles/%s", y->c.set.state_dir, p->release_id);
    const bg_pool_config *pool = &y->c.pools.pool[y->idle];
    bg_log_info("    restoring %s to the warm release it held (%.12s, %s)", bg_pool_name(y->idle),
                p->release_id, p->served_model);
    int rc = bundle ? bg_pool_deploy(pool, &old, bundle, err)
                    : bg_error_set(err, BG_ENOMEM, "out of memory");
    free(bundle);
    if (!rc)
        rc = bg_health_wait(pool, &y->c.pools.health, p->served_model, NULL, NULL, err);
    if (rc)
        return rc;
    bg_pool_state *ps = &y->c.state->pool[y->idle];
    bg_state_set_str(&ps->release_id, p->release_id);
    bg_state_set_str(&ps->commit, p->commit);
    bg_state_set_str(&ps->model, p->model);
    bg_state_set_str(&ps->served_model, p->served_model);
    bg_state_set_str(&ps->status, p->status);
    ps->gated = p->gated;
    ps->keep_warm_until = p->keep_warm_until;
    ps->updated_at = bg_wall_s();
    return 0;
}

/* After the new release failed health or the gate: restore, stop or keep the idle pool. */
static void after_failure(cycle *y, bg_gate_fail_action action)
{
    mark_pool(y, y->idle, "failed", false);
    bool can_restore = y->prev.release_id && y->prev.gated && y->prev.served_model &&
                       strcmp(y->prev.release_id, y->rel->id) != 0;
    if (action == BG_ON_FAIL_KEEP)
        return;
    if (action == BG_ON_FAIL_RESTORE && can_restore) {
        bg_error e = {0};
        if (restore_previous(y, &e) == 0)
            return;
        bg_log_warn("could not restore %s: %s", bg_pool_name(y->idle), e.msg);
    }
    bg_error e = {0};
    if (bg_pool_stop(&y->c.pools.pool[y->idle], y->rel, &e))
        bg_log_warn("could not stop %s: %s", bg_pool_name(y->idle), e.msg);
    else
        bg_state_set_str(&y->c.state->pool[y->idle].status, "stopped");
}

static void copy_pool_state(bg_pool_state *dst, const bg_pool_state *src)
{
    *dst = *src;
    dst->release_id = bg_strdup(src->release_id);
    dst->commit = bg_strdup(src->commit);
    dst->model = bg_strdup(src->model);
    dst->served_model = bg_strdup(src->served_model);
    dst->status = bg_strdup(src->status);
}

static void free_pool_state(bg_pool_state *p)
{
    free(p->release_id);
    free(p->commit);
    free(p->model);
    free(p->served_model);
    free(p->status);
}

/* A canary splits live traffic between the pools: clients send one model name, so
 * both pools must serve the same one. */
static int check_same_served(cycle *y, bg_error *err)
{
    const bg_pool_state *live = y->live >= 0 ? &y->c.state->pool[y->live] : NULL;
    if (!live || !live->served_model || strcmp(live->served_model, y->rel->served_name) == 0)
        return 0;
    return bg_error_set(err, BG_EINVAL,
                        "canary: the new release serves \"%s\" but the live pool serves "
                        "\"%s\": during the ramp one pool would refuse the clients' model "
                        "name; give both releases the same release.model.served_name (or use "
                        "\"strategy\": \"flip\")",
                        y->rel->served_name, live->served_model);
}

/* The canary ramp instead of the flip. *done when it reached 100 % (verify comes next);
 * else *outcome is PAUSED or ROLLED_BACK. */
static int canary(cycle *y, bg_deploy_outcome *outcome, bool *done, bg_error *err)
{
    bg_ramp_outcome ro = BG_RAMP_DONE;
    *done = false;
    int rc = check_same_served(y, err);
    if (!rc)
        rc = bg_deploy_phase_begin(&y->c, "ramp", err);
    if (rc)
        return rc;
    y->c.state->has_weights_before = true;
    y->c.state->weights_before = y->before;
    y->flipped = true; /* from here a failure restores y->before */
    mark_pool(y, y->idle, "canary", true);
    rc = bg_ramp_run(&ro, y->why, sizeof y->why, &y->c, y->idle, y->rel, y->rel->served_name, 0,
                     y->o->pause_at, err);
    bg_deploy_phase_end(&y->c, rc ? err->msg : ro == BG_RAMP_ROLLED_BACK ? y->why : NULL);
    if (rc)
        return rc;
    if (ro == BG_RAMP_ROLLED_BACK) {
        y->flipped = false;
        mark_pool(y, y->idle, "failed", true);
        *outcome = BG_OUTCOME_ROLLED_BACK;
    } else if (ro == BG_RAMP_PAUSED) {
        y->flipped = false; /* the split stays: `promote --step|--full` or `abort` */
        bg_log_info("canary %s; `bg-gate promote --step` goes on, `bg-gate abort` goes back",
                    y->why);
        *outcome = BG_OUTCOME_PAUSED;
    }
    *done = ro == BG_RAMP_DONE;
    return 0;
}

/* flip (or canary ramp) → verify → drain → record. */
static int promote(cycle *y, bg_deploy_outcome *outcome, bg_error *err)
{
    int rc = 0;
    if (y->c.set.strategy == BG_STRATEGY_CANARY) {
        bool done = false;
        if ((rc = canary(y, outcome, &done, err)) || !done)
            return rc;
    } else {
        bg_weights before;
        rc = bg_deploy_phase_begin(&y->c, "flip", err);
        if (!rc) {
            rc = bg_deploy_flip(&y->c, y->idle, &before, err);
            y->flipped = rc == 0;
        }
        bg_deploy_phase_end(&y->c, rc ? err->msg : NULL);
        if (rc)
            return rc;
    }
    if ((rc = bg_deploy_phase_begin(&y->c, "verify", err)))
        return rc;
    rc = bg_deploy_verify(&y->c, y->idle, y->rel->served_name, y->c.set.verify_requests, err);
    if (rc && bg_cancelled()) /* a failed answer after the signal is the signal's doing */
        rc = bg_error_set(err, BG_ECANCELED, "interrupted by signal %d during verification",
                          bg_cancel_signal());
    bg_deploy_phase_end(&y->c, rc ? err->msg : NULL);
    if (rc && rc != BG_ECANCELED) {
        bg_log_error("verification failed: %s", err->msg);
        restore_router(y);
        mark_pool(y, y->idle, "failed", true);
        *outcome = BG_OUTCOME_ROLLED_BACK;
        return 0;
    }
    if (rc)
        return rc;
    if (y->live >= 0 && (rc = bg_deploy_phase_begin(&y->c, "drain", err)) == 0) {
        bg_deploy_drain(&y->c, (bg_pool_id)y->live);
        bg_deploy_phase_end(&y->c, bg_cancelled() ? "interrupted" : NULL);
    }
    bg_state *st = y->c.state;
    mark_pool(y, y->idle, "live", true);
    if (y->live >= 0) {
        bg_pool_state *old = &st->pool[y->live];
        bg_state_set_str(&old->status, "warm");
        old->keep_warm_until = bg_wall_s() + (double)y->c.set.keep_warm_s;
    }
    st->live = (int)y->idle;
    y->flipped = false;
    *outcome = BG_OUTCOME_PROMOTED;
    if (!rc && y->live >= 0) /* recorded as interrupted when a signal came while draining */
        rc = bg_deploy_drain_verdict(y->idle, (bg_pool_id)y->live, err);
    return rc;
}

/* A ramp paused on purpose is not a deploy that died: it waits for promote or abort, and
 * a new deploy must leave it (and the state) exactly as it is. */
static int refuse_paused_ramp(const bg_state *st, bg_error *err)
{
    if (!st->phase || strcmp(st->phase, "ramp") != 0 ||
        !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st->ramp, "paused")))
        return 0;
    return bg_error_set(err, BG_ENET,
                        "a canary ramp of release %.12s is paused on %s: run `bg-gate "
                        "promote --step` or `promote --full` to go on, or `bg-gate abort` "
                        "to go back, before deploying again",
                        st->target_release ? st->target_release : "?",
                        st->target >= 0 ? bg_pool_name((bg_pool_id)st->target) : "?");
}

static int begin_cycle(cycle *y, bg_error *err)
{
    bg_state *st = y->c.state;
    int rc = refuse_paused_ramp(st, err);
    if (rc)
        return rc;
    y->began = true;
    char *by = bg_lock_describe_self();
    bg_state_set_str(&st->started_by, by);
    free(by);
    st->started_at = bg_wall_s();
    /* a deploy that died left its phase behind: undo what it may have done unverified */
    return bg_deploy_recover(&y->c, NULL, err);
}

/* Resolve and decide whether there is anything to deploy. */
static int resolve(cycle *y, bool *nothing, bg_error *err)
{
    int rc = bg_deploy_phase_begin(&y->c, "resolve", err);
    if (!rc)
        rc = bg_release_resolve(&y->rel, NULL, y->o->rev ? y->o->rev : bg_release_default_rev(),
                                y->o->release_config, err);
    if (!rc)
        rc = find_idle(y, y->o->force, err);
    bg_deploy_phase_end(&y->c, rc ? err->msg : NULL);
    if (rc)
        return rc;
    bg_log_info("    release %.12s (commit %.12s, model %s)", y->rel->id, y->rel->commit,
                y->rel->served_name);
    const bg_pool_state *live = y->live >= 0 ? &y->c.state->pool[y->live] : NULL;
    *nothing = live && live->release_id && strcmp(live->release_id, y->rel->id) == 0;
    y->c.state->target = (int)y->idle;
    bg_state_set_str(&y->c.state->target_release, y->rel->id);
    copy_pool_state(&y->prev, &y->c.state->pool[y->idle]);
    return 0;
}

/* What hooks and notifications are told about this deploy (any part may be missing when
 * it failed early). */
static void hook_event(cycle *y)
{
    bg_hook_event *ev = &y->ev;
    bg_hook_event_init(ev, "deploy", y->c.set.environment);
    ev->pool = y->rel ? bg_pool_name(y->idle) : NULL;
    ev->live_pool = y->live >= 0 ? bg_pool_name((bg_pool_id)y->live) : NULL;
    if (!y->rel)
        return;
    ev->release_id = y->rel->id;
    ev->commit = y->rel->commit;
    ev->model = y->rel->model_name;
    ev->model_revision = y->rel->model_revision;
    ev->served_model = y->rel->served_name;
    const bg_pool_state *prev = y->live >= 0 ? &y->c.state->pool[y->live] : NULL;
    ev->previous_release_id = prev ? prev->release_id : NULL;
    if (bg_hooks_any(&y->hooks))
        bg_hook_event_changes(ev, y->rel, prev ? prev->commit : NULL);
}

/* A pre_* hook, run as a lifecycle phase. When it fails the deploy is blocked: outcome
 * GATE_FAILED (exit 1), decision "blocked-by-hook", live traffic untouched. */
static int pre_hook(cycle *y, bg_hook_id id, bg_deploy_outcome *outcome, bg_error *err)
{
    if (!bg_hooks_has(&y->hooks, id))
        return 0;
    int rc = bg_deploy_phase_begin(&y->c, bg_hook_name(id), err);
    if (rc)
        return rc;
    bg_error herr = {0};
    rc = bg_hooks_run(&y->hooks, id, &y->ev, &herr);
    bg_deploy_phase_end(&y->c, rc ? herr.msg : NULL);
    if (rc == BG_ECANCELED)
        return bg_error_set(err, rc, "%s", herr.msg);
    if (rc) {
        bg_log_error("blocked by the %s hook: %s; live traffic untouched", bg_hook_name(id),
                     herr.msg);
        bg_strlcpy(y->blocked_why, herr.msg, sizeof y->blocked_why);
        y->blocked = true;
        *outcome = BG_OUTCOME_GATE_FAILED;
    }
    return 0;
}

/* The cycle after the lock. Sets *outcome; returns an error for FAILED. */
static int cycle_run(cycle *y, bg_deploy_outcome *outcome, bg_error *err)
{
    bool nothing = false, passed = false;
    int rc = begin_cycle(y, err);
    if (!rc)
        rc = resolve(y, &nothing, err);
    if (rc)
        return rc;
    if (nothing) {
        bg_log_info("nothing to deploy: release %.12s is already live on %s", y->rel->id,
                    bg_pool_name((bg_pool_id)y->live));
        *outcome = BG_OUTCOME_NOTHING;
        return 0;
    }
    /* a canary's analysis and probe suite are checked before any pool is touched */
    if (y->c.set.strategy == BG_STRATEGY_CANARY && (rc = bg_ramp_check(&y->c, y->rel, err)))
        return rc;
    hook_event(y);
    y->attempted = true;
    if ((rc = pre_hook(y, BG_HOOK_PRE_DEPLOY, outcome, err)) || y->blocked)
        return rc;
    if ((rc = prepare_idle(y, err))) {
        if (rc != BG_ECANCELED)
            after_failure(y, y->c.pools.health.stop_on_timeout ? y->c.set.on_gate_fail
                                                               : BG_ON_FAIL_KEEP);
        return rc;
    }
    if ((rc = bg_deploy_phase_begin(&y->c, "gate", err)))
        return rc;
    rc = run_gate(y, &passed, err);
    bg_deploy_phase_end(&y->c, rc ? err->msg : passed ? NULL : y->c.report->verdict_reason);
    if (rc)
        return rc;
    y->ev.pass_rate = y->c.report->overall.pass_rate;
    y->ev.p95_ms = bg_samples_quantile(&y->c.report->overall.e2e, 0.95);
    if (!passed) {
        bg_log_error("the gate said no: %s; live traffic untouched",
                     y->c.report->verdict_reason ? y->c.report->verdict_reason : "failed");
        after_failure(y, y->c.set.on_gate_fail);
        *outcome = BG_OUTCOME_GATE_FAILED;
        return 0;
    }
    mark_pool(y, y->idle, "ready", true);
    if ((rc = pre_hook(y, BG_HOOK_PRE_PROMOTE, outcome, err)) || y->blocked) {
        /* a vetoed promotion is handled like a failed gate; a kept pool stays gated, so
         * `bg-gate promote` can move traffic once the hook agrees */
        if (y->blocked) {
            after_failure(y, y->c.set.on_gate_fail);
            if (y->c.set.on_gate_fail == BG_ON_FAIL_KEEP)
                mark_pool(y, y->idle, "ready", true);
        }
        return rc;
    }
    return promote(y, outcome, err);
}

static const char *outcome_name(bg_deploy_outcome o)
{
    switch (o) {
    case BG_OUTCOME_PROMOTED: return "promoted";
    case BG_OUTCOME_NOTHING: return "nothing-to-deploy";
    case BG_OUTCOME_GATE_FAILED: return "gate-failed";
    case BG_OUTCOME_ROLLED_BACK: return "rolled-back";
    case BG_OUTCOME_PAUSED: return "paused";
    default: return "failed";
    }
}

static const char *decision_name(const cycle *y, bg_deploy_outcome outcome, int rc)
{
    if (rc == BG_ECANCELED)
        return "interrupted";
    return y->blocked ? "blocked-by-hook" : outcome_name(outcome);
}

/* Records the outcome in the state file and the reports. */
static void finish(cycle *y, bg_deploy_outcome outcome, int rc, const bg_error *err)
{
    bg_state *st = y->c.state;
    const char *name = decision_name(y, outcome, rc);
    if (!y->began) { /* refused before it started: the state is not ours to touch */
        y->c.report->decision = bg_strdup(name);
        return;
    }
    bool paused = !rc && outcome == BG_OUTCOME_PAUSED;
    if (!paused) { /* a paused ramp stays in the state for promote --step / abort */
        bg_state_set_str(&st->phase, NULL);
        cJSON_Delete(st->ramp);
        st->ramp = NULL;
    }
    const char *msg = rc ? err->msg : y->blocked ? y->blocked_why : y->why[0] ? y->why : NULL;
    char *with_restore = y->restore_why[0] ? bg_asprintf("%s; %s", msg ? msg : name,
                                                         y->restore_why)
                                           : NULL;
    bg_deploy_history(&y->c, "deploy", (int)y->idle, name, with_restore ? with_restore : msg);
    free(with_restore);
    if (!paused)
        st->target = -1;
    bg_weights after;
    bg_error e = {0};
    if (bg_router_get(y->c.router, &after, &e) == 0) {
        st->has_weights = true;
        st->weights = after;
        y->c.report->has_weights = true;
        memcpy(y->c.report->weights_before, y->before.w, sizeof y->before.w);
        memcpy(y->c.report->weights_after, after.w, sizeof after.w);
    }
    if (bg_deploy_ctx_save(&y->c, &e))
        bg_log_error("%s", e.msg);
    y->c.report->decision = bg_strdup(name);
    y->c.report->duration_s = bg_wall_s() - y->c.report->started_wall_s;
    if (bg_eval_write_reports(y->c.report, &y->gate, &e))
        bg_log_error("%s", e.msg);
    bg_report_ci_annotations(y->c.report);
}

/* Once the outcome is recorded: post_promote, on_rollback, post_deploy, then the
 * notification. Their failures are warnings; none runs after an interruption but the
 * notification. */
static void after_hooks(cycle *y, bg_deploy_outcome outcome, int rc, const bg_error *err)
{
    if (!y->attempted)
        hook_event(y);
    bg_hook_event *ev = &y->ev;
    ev->decision = y->c.report->decision;
    ev->duration_s = y->c.report->duration_s;
    ev->live_pool = y->c.state->live >= 0 ? bg_pool_name((bg_pool_id)y->c.state->live) : NULL;
    if (rc || outcome == BG_OUTCOME_ROLLED_BACK)
        ev->message = err->msg;
    else if (y->blocked)
        ev->message = y->blocked_why;
    else if (outcome == BG_OUTCOME_GATE_FAILED)
        ev->message = y->c.report->verdict_reason;
    if (rc != BG_ECANCELED) {
        if (!rc && outcome == BG_OUTCOME_PROMOTED)
            bg_hooks_run_warn(&y->hooks, BG_HOOK_POST_PROMOTE, ev);
        if (!rc && outcome == BG_OUTCOME_ROLLED_BACK)
            bg_hooks_run_warn(&y->hooks, BG_HOOK_ON_ROLLBACK, ev);
        if (y->attempted)
            bg_hooks_run_warn(&y->hooks, BG_HOOK_POST_DEPLOY, ev);
    }
    bg_hooks_notify_warn(&y->hooks, ev);
}

int bg_deploy_run(bg_deploy_outcome *outcome, const bg_config *cfg, const bg_deploy_opts *o,
                  bg_error *err)
{
    cycle y;
    memset(&y, 0, sizeof y);
    y.o = o;
    y.live = -1;
    *outcome = BG_OUTCOME_FAILED;
    double t0 = bg_now_ms();
    bg_log_info("==> lock");
    /* the state is read only once the lock is held: another deploy may be writing it */
    int rc = bg_hooks_parse(&y.hooks, cfg, err);
    if (!rc)
        rc = bg_deploy_ctx_open(&y.c, cfg, true, err);
    if (!rc && o->pause_at > 0 && y.c.set.strategy != BG_STRATEGY_CANARY)
        rc = bg_error_set(err, BG_EINVAL,
                          "--pause-at: only a canary ramp pauses (promotion.strategy is "
                          "\"flip\")");
    if (!rc) {
        set_report_paths(&y);
        y.c.phase = "lock";
        y.c.phase_t0 = t0;
        bg_deploy_phase_end(&y.c, NULL);
    }
    if (!rc) {
        rc = cycle_run(&y, outcome, err);
        if (rc)
            restore_router(&y);
        if (rc == BG_ECANCELED || rc == BG_ETIMEOUT || rc == BG_ENET || rc == BG_EIO)
            *outcome = BG_OUTCOME_FAILED;
        finish(&y, *outcome, rc, err);
        if (!rc)
            bg_log_info("deploy: %s", decision_name(&y, *outcome, rc));
        after_hooks(&y, *outcome, rc, err);
    }
    bg_release_free(y.rel);
    free_pool_state(&y.prev);
    for (int i = 0; i < 4; i++)
        free(y.report_paths[i]);
    for (size_t i = 0; i < y.n_suite_paths; i++)
        free(y.suite_paths[i]);
    free(y.suite_paths);
    bg_hooks_dispose(&y.hooks);
    bg_deploy_ctx_close(&y.c);
    return rc;
}
