/* ops.c — moving traffic by hand and reporting: rollback (instant flip back to the warm
 * pool), promote (flip to the idle pool), abort (undo an interrupted deploy),
 * decommission (stop the old pool after its keep-warm window); status is in status.c.
 *
 * Each takes the environment's lock like a deploy, checks the target pool is healthy
 * before any traffic moves, and verifies the flip through the router.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/cancel.h"
#include "bggate/hooks.h"
#include "bggate/log.h"
#include "bggate/util.h"
#include "deploy_internal.h"
#include "recover.h"

#define QUICK_HEALTH_TIMEOUT_S 10

/* The pool that does not have the traffic, per the router. */
static int current_live(deploy_ctx *c, int *live, bg_weights *w, bg_error *err)
{
    int rc = bg_router_get(c->router, w, err);
    if (rc)
        return rc;
    *live = bg_weights_live(w);
    if (*live < 0)
        return bg_error_set(err, BG_ENET, "the router splits traffic (blue %d%%, green %d%%)",
                            w->w[0], w->w[1]);
    return 0;
}

/* Health right now (short deadline): the pool must be up and serving its model. */
static int check_ready(deploy_ctx *c, bg_pool_id p, const char *served, bg_error *err)
{
    bg_health_config h = c->pools.health;
    h.timeout_s = QUICK_HEALTH_TIMEOUT_S;
    int rc = bg_health_wait(&c->pools.pool[p], &h, served, NULL, NULL, err);
    if (rc)
        bg_error_prefix(err, "%s is not ready", bg_pool_name(p));
    return rc;
}

/* Flip to `target`, verify, flip back on a failed verification (then check the flip
 * back took effect; a failed check goes into restore_why). */
static int flip_verified(deploy_ctx *c, bg_pool_id target, const char *served, char *restore_why,
                         size_t whysz, bg_error *err)
{
    bg_weights before;
    int rc = bg_deploy_phase_begin(c, "flip", err);
    if (!rc)
        rc = bg_deploy_flip(c, target, &before, err);
    bg_deploy_phase_end(c, rc ? err->msg : NULL);
    if (rc)
        return rc;
    if ((rc = bg_deploy_phase_begin(c, "verify", err)))
        return rc;
    rc = bg_deploy_verify(c, target, served, c->set.verify_requests, err);
    if (rc && bg_cancelled()) /* a failed answer after the signal is the signal's doing */
        rc = bg_error_set(err, BG_ECANCELED, "interrupted by signal %d during verification",
                          bg_cancel_signal());
    bg_deploy_phase_end(c, rc ? err->msg : NULL);
    if (rc) {
        bg_error e = {0};
        if (bg_router_set(c->router, &before, &e)) {
            snprintf(restore_why, whysz, "could not restore the router: %s", e.msg);
            bg_log_error("%s", restore_why);
        } else {
            c->state->weights = before;
            c->state->live = bg_weights_live(&before);
            bg_deploy_check_restored(c, &before, restore_why, whysz);
        }
        return rc;
    }
    int old = (int)bg_pool_other(target);
    bg_state_set_str(&c->state->pool[target].status, "live");
    c->state->pool[target].keep_warm_until = 0; /* only a warm pool has a window */
    if (c->state->pool[old].release_id) {
        bg_state_set_str(&c->state->pool[old].status, "warm");
        c->state->pool[old].keep_warm_until = bg_wall_s() + (double)c->set.keep_warm_s;
    }
    c->state->live = (int)target;
    return 0;
}

/* What hooks and notifications are told: the release on `target`, moved to from `live`. */
static void traffic_event(bg_hook_event *ev, const bg_hooks *hooks, deploy_ctx *c,
                          const char *action, int live, bg_pool_id target)
{
    const bg_pool_state *ps = &c->state->pool[target];
    const bg_pool_state *prev = live >= 0 ? &c->state->pool[live] : NULL;
    bg_hook_event_init(ev, action, c->set.environment);
    ev->release_id = ps->release_id;
    ev->commit = ps->commit;
    ev->model = ps->model;
    ev->served_model = ps->served_model;
    ev->pool = bg_pool_name(target);
    ev->live_pool = live >= 0 ? bg_pool_name((bg_pool_id)live) : NULL;
    ev->previous_release_id = prev ? prev->release_id : NULL;
    if (bg_hooks_any(hooks))
        bg_hook_event_changes_commits(ev, c->cfg, prev ? prev->commit : NULL, ps->commit);
}

/* pre_promote before a manual promote: a failure blocks it (exit 2, nothing moved). */
static int pre_promote(const bg_hooks *hooks, const bg_hook_event *ev, bool *blocked,
                       bg_error *err)
{
    bg_error herr = {0};
    int rc = bg_hooks_run(hooks, BG_HOOK_PRE_PROMOTE, ev, &herr);
    if (rc == BG_ECANCELED)
        return bg_error_set(err, rc, "%s", herr.msg);
    *blocked = rc != 0;
    return rc ? bg_error_set(err, BG_EINVAL,
                             "promote: blocked by the pre_promote hook: %s; live traffic "
                             "untouched",
                             herr.msg)
              : 0;
}

/* After a manual promote / rollback: post_promote or on_rollback, then the notification;
 * failures only warn. */
static void traffic_after(const bg_hooks *hooks, bg_hook_event *ev, const bg_state *st,
                          bool blocked, int rc, const bg_error *err)
{
    bool rollback = strcmp(ev->action, "rollback") == 0;
    ev->live_pool = st->live >= 0 ? bg_pool_name((bg_pool_id)st->live) : NULL;
    ev->message = rc ? err->msg : NULL;
    ev->decision = rc == BG_ECANCELED ? "interrupted"
                   : blocked          ? "blocked-by-hook"
                   : rc               ? "failed"
                   : rollback         ? "rolled-back"
                                      : "promoted";
    if (!rc)
        bg_hooks_run_warn(hooks, rollback ? BG_HOOK_ON_ROLLBACK : BG_HOOK_POST_PROMOTE, ev);
    bg_hooks_notify_warn(hooks, ev);
}

static bool paused_ramp(const bg_state *st)
{
    return st->phase && strcmp(st->phase, "ramp") == 0 &&
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st->ramp, "paused"));
}

/* `rollback` after a deploy that died before its new pool was verified: the recovery put
 * (or kept) the router on the pool that was live before it, which is where a rollback
 * goes. Recorded as a rollback; nothing else moves. */
static int rollback_undone(deploy_ctx *c, const bg_recovery *rec, bg_error *err)
{
    int live = c->state->live;
    bg_log_info("rollback: the deploy that died in phase \"%s\" is undone: %s%s has the "
                "traffic it had before that deploy",
                rec->phase, rec->restored ? "the router is back on " : "",
                live >= 0 ? bg_pool_name((bg_pool_id)live) : "no pool");
    char *msg = bg_asprintf("undid the deploy that died in phase \"%s\"", rec->phase);
    bg_deploy_history(c, "rollback", live, "done", msg);
    free(msg);
    return bg_deploy_ctx_save(c, err);
}

static int move_traffic(const bg_config *cfg, bool force, const char *action, bg_error *err)
{
    deploy_ctx c;
    bg_hooks hooks;
    bg_hook_event ev;
    bool blocked = false;
    memset(&c, 0, sizeof c);
    memset(&hooks, 0, sizeof hooks);
    int rc = bg_hooks_parse(&hooks, cfg, err);
    if (!rc)
        rc = bg_deploy_ctx_open(&c, cfg, true, err);
    int live = -1;
    bg_weights w;
    bg_recovery rec = {0};
    char restore_why[BG_ERROR_MSG_MAX] = "";
    if (!rc && paused_ramp(c.state))
        rc = bg_error_set(err, BG_ENET,
                          "%s: a canary ramp is under way or paused: `bg-gate promote --step` "
                          "or `--full` goes on, `bg-gate abort` goes back to 0 %% on the new "
                          "pool",
                          action);
    /* we hold the lock, so a phase left in the state is a deploy that died: repair what
     * it left exactly as the next deploy would, then move traffic from there */
    if (!rc)
        rc = bg_deploy_recover(&c, &rec, err);
    if (!rc && rec.ran && !rec.verified && strcmp(action, "rollback") == 0) {
        /* the release it was deploying never became (or stayed) live: undoing it was
         * the whole rollback */
        rc = rollback_undone(&c, &rec, err);
        bg_hooks_dispose(&hooks);
        bg_deploy_ctx_close(&c);
        return rc;
    }
    if (!rc)
        rc = current_live(&c, &live, &w, err);
    bg_pool_id target = live >= 0 ? bg_pool_other((bg_pool_id)live) : BG_POOL_BLUE;
    /* no state when opening failed (a bad config): every use of ps below needs !rc */
    const bg_pool_state *ps = c.state ? &c.state->pool[target] : NULL;
    if (!rc && !ps->served_model)
        rc = bg_error_set(err, BG_EINVAL, "%s: %s holds no release bg-gate knows of", action,
                          bg_pool_name(target));
    if (!rc && !force && !ps->gated)
        rc = bg_error_set(err, BG_EINVAL,
                          "%s: the release on %s (%.12s) did not pass the gate; use --force to "
                          "move traffic anyway",
                          action, bg_pool_name(target), ps->release_id ? ps->release_id : "?");
    if (!rc && !force && strcmp(action, "rollback") == 0 && ps->status &&
        strcmp(ps->status, "warm") != 0)
        rc = bg_error_set(err, BG_EINVAL,
                          "rollback: %s is \"%s\", not a warm previous release; use --force",
                          bg_pool_name(target), ps->status);
    if (!rc)
        rc = check_ready(&c, target, ps->served_model, err);
    /* past the checks the move is ours; a refusal before it leaves the state untouched
     * (an unfinished deploy or a paused ramp must survive a refused rollback) */
    bool attempted = rc == 0;
    if (c.state)
        traffic_event(&ev, &hooks, &c, action, live, target);
    if (!rc && strcmp(action, "promote") == 0)
        rc = pre_promote(&hooks, &ev, &blocked, err);
    if (!rc) {
        bg_log_info("%s: moving traffic from %s to %s (release %.12s)", action,
                    bg_pool_name((bg_pool_id)live), bg_pool_name(target), ps->release_id);
        rc = flip_verified(&c, target, ps->served_model, restore_why, sizeof restore_why, err);
    }
    if (c.state && attempted) {
        /* the move is over either way: no phase may linger for `status` to misreport */
        bg_state_set_str(&c.state->phase, NULL);
        char *msg = restore_why[0] ? bg_asprintf("%s; %s", err->msg, restore_why) : NULL;
        bg_deploy_history(&c, action, (int)target,
                          rc == BG_ECANCELED ? "interrupted"
                          : rc               ? "failed"
                                             : "done",
                          msg  ? msg
                          : rc ? err->msg
                               : NULL);
        free(msg);
        bg_error e = {0};
        if (bg_deploy_ctx_save(&c, &e))
            bg_log_error("%s", e.msg);
        traffic_after(&hooks, &ev, c.state, blocked, rc, err);
    }
    bg_hooks_dispose(&hooks);
    bg_deploy_ctx_close(&c);
    return rc;
}

int bg_deploy_rollback(const bg_config *cfg, bool force, bg_error *err)
{
    return move_traffic(cfg, force, "rollback", err);
}

int bg_deploy_promote(const bg_config *cfg, bool force, bg_error *err)
{
    return move_traffic(cfg, force, "promote", err);
}

int bg_deploy_abort(const bg_config *cfg, bg_error *err)
{
    deploy_ctx c;
    int rc = bg_deploy_ctx_open(&c, cfg, true, err);
    if (!rc && !c.state->phase) {
        bg_log_info("abort: no unfinished deploy");
        bg_deploy_ctx_close(&c);
        return 0;
    }
    char why[BG_ERROR_MSG_MAX] = "";
    if (!rc && c.state->has_weights_before) {
        rc = bg_router_set(c.router, &c.state->weights_before, err);
        if (!rc) {
            c.state->weights = c.state->weights_before;
            c.state->has_weights = true;
            c.state->live = bg_weights_live(&c.state->weights);
            /* `nginx -s reload` succeeds even when nginx keeps its old config */
            bg_deploy_check_restored(&c, &c.state->weights, why, sizeof why);
        }
    }
    if (!rc) {
        bool ramp = strcmp(c.state->phase, "ramp") == 0;
        bg_log_info("abort: ended the %s stopped in phase \"%s\"",
                    ramp ? "canary ramp" : "deploy", c.state->phase);
        bg_deploy_history(&c, "abort", c.state->target, why[0] ? "failed" : "aborted",
                          why[0] ? why : NULL);
        /* a ramp's pool passed the gate: it stays ready for a later `promote` */
        if (ramp && c.state->target >= 0)
            bg_state_set_str(&c.state->pool[c.state->target].status, "ready");
        cJSON_Delete(c.state->ramp);
        c.state->ramp = NULL;
        bg_state_set_str(&c.state->phase, NULL);
        c.state->target = -1;
        rc = bg_deploy_ctx_save(&c, err);
    }
    if (!rc && why[0])
        rc = bg_error_set(err, BG_ENET, "%s", why);
    bg_deploy_ctx_close(&c);
    return rc;
}

int bg_deploy_decommission(const bg_config *cfg, bool force, bg_error *err)
{
    deploy_ctx c;
    int rc = bg_deploy_ctx_open(&c, cfg, true, err);
    int live = -1;
    bg_weights w;
    if (!rc)
        rc = current_live(&c, &live, &w, err);
    if (!rc) {
        bg_pool_id old = bg_pool_other((bg_pool_id)live);
        bg_pool_state *ps = &c.state->pool[old];
        double now = bg_wall_s();
        if (!force && ps->keep_warm_until > now) {
            bg_log_info("decommission: %s stays warm for %.0f more minutes (until its keep-warm "
                        "window ends; --force to stop it now)",
                        bg_pool_name(old), (ps->keep_warm_until - now) / 60.0);
        } else {
            rc = bg_pool_stop(&c.pools.pool[old], NULL, err);
            if (!rc) {
                bg_state_set_str(&ps->status, "stopped");
                ps->keep_warm_until = 0;
                bg_deploy_history(&c, "decommission", (int)old, "stopped", NULL);
                rc = bg_deploy_ctx_save(&c, err);
                bg_log_info("decommission: stopped %s", bg_pool_name(old));
            }
        }
    }
    bg_deploy_ctx_close(&c);
    return rc;
}

int bg_deploy_live_commit(char **out, const bg_config *cfg, bg_error *err)
{
    bg_deploy_settings set;
    bg_state *st = NULL;
    int rc = bg_deploy_settings_parse(&set, cfg, err);
    if (rc)
        return rc;
    char *path = bg_asprintf("%s/%s.json", set.state_dir, set.environment);
    rc = path ? bg_state_load(&st, path, set.environment, err)
              : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc && (st->live < 0 || !st->pool[st->live].commit))
        rc = bg_error_set(err, BG_EINVAL, "no live release recorded in %s yet", path);
    if (!rc && !(*out = bg_strdup(st->pool[st->live].commit)))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    bg_state_free(st);
    free(path);
    bg_deploy_settings_dispose(&set);
    return rc;
}
