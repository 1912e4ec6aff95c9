/* recover.c — repairing after a deploy that died (see recover.h).
 *
 * Every phase is written to the state file before it starts, so a SIGKILL leaves the
 * phase behind. Whoever takes the lock next (deploy, rollback, promote, abort) sees it:
 * only the phases after the flip can have moved traffic, and only "drain" comes after
 * the verification, so that is the one phase whose new pool may keep the traffic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/log.h"
#include "bggate/util.h"
#include "recover.h"

static bool weights_equal(const bg_weights *a, const bg_weights *b)
{
    return a->w[0] == b->w[0] && a->w[1] == b->w[1];
}

/* The phases in which the router may point at a pool that was never verified. */
static bool phase_moved_traffic(const char *phase)
{
    return strcmp(phase, "flip") == 0 || strcmp(phase, "verify") == 0 || strcmp(phase, "ramp") == 0;
}

/* Puts the router back to the weights before the dead deploy; `now` becomes them. A
 * failed check of the restored pool goes into `why` (the history message). */
static int restore_before(deploy_ctx *c, bg_weights *now, bg_recovery *r, char *why, size_t whysz,
                          bg_error *err)
{
    const bg_state *st = c->state;
    char text[64];
    bg_weights_format(text, sizeof text, &st->weights_before);
    bg_log_warn("restoring the router to the weights before that deploy: %s", text);
    int rc = bg_router_set(c->router, &st->weights_before, err);
    if (rc)
        return rc;
    *now = st->weights_before;
    r->restored = true;
    bg_deploy_check_restored(c, now, why, whysz);
    return 0;
}

/* Pool statuses after the recovery: a verified new pool is live and the old one warm;
 * a new pool that never got (or kept) the traffic failed. */
static void settle_pools(deploy_ctx *c, const bg_weights *now, bool verified)
{
    bg_state *st = c->state;
    if (verified && st->target >= 0 && bg_weights_live(now) == st->target) {
        int old = (int)bg_pool_other((bg_pool_id)st->target);
        bg_state_set_str(&st->pool[st->target].status, "live");
        st->pool[st->target].gated = true;
        st->pool[st->target].keep_warm_until = 0;
        if (st->pool[old].release_id) {
            bg_state_set_str(&st->pool[old].status, "warm");
            st->pool[old].keep_warm_until = bg_wall_s() + (double)c->set.keep_warm_s;
        }
    } else if (st->target >= 0 && st->pool[st->target].status &&
               strcmp(st->pool[st->target].status, "live") != 0) {
        bg_state_set_str(&st->pool[st->target].status, "failed");
    }
}

int bg_deploy_recover(deploy_ctx *c, bg_recovery *out, bg_error *err)
{
    bg_recovery r;
    memset(&r, 0, sizeof r);
    bg_state *st = c->state;
    if (out)
        *out = r;
    if (!st->phase)
        return 0;
    r.ran = true;
    bg_strlcpy(r.phase, st->phase, sizeof r.phase);
    bg_log_warn("the previous deploy (%s) did not finish: it stopped in phase \"%s\"",
                st->started_by ? st->started_by : "unknown", st->phase);
    bg_weights now;
    int rc = bg_router_get(c->router, &now, err);
    if (rc)
        return rc;
    char why[BG_ERROR_MSG_MAX] = "";
    if (phase_moved_traffic(st->phase) && st->has_weights_before &&
        !weights_equal(&now, &st->weights_before) &&
        (rc = restore_before(c, &now, &r, why, sizeof why, err)))
        return rc;
    r.verified = strcmp(st->phase, "drain") == 0;
    settle_pools(c, &now, r.verified);
    st->has_weights = true;
    st->weights = now;
    st->live = bg_weights_live(&now);
    char *msg = bg_asprintf("recovered from a deploy that died in phase \"%s\"%s%s", st->phase,
                            why[0] ? "; " : "", why);
    bg_deploy_history(c, "recover", st->target, "interrupted",
                      msg ? msg : "recovered from a deploy that died");
    free(msg);
    bg_state_set_str(&st->phase, NULL);
    cJSON_Delete(st->ramp);
    st->ramp = NULL;
    st->target = -1;
    if (out)
        *out = r;
    if ((rc = bg_deploy_ctx_save(c, err)))
        return rc;
    /* a restore that did not take: going on could deploy to the pool live traffic still
     * reaches, so the caller stops here (exit 3) */
    return why[0] ? bg_error_set(err, BG_ENET, "%s", why) : 0;
}

char *bg_deploy_recovery_advice(const bg_state *st)
{
    if (!st->phase)
        return NULL;
    bool ramp = strcmp(st->phase, "ramp") == 0;
    if (ramp && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st->ramp, "paused")))
        return NULL;
    const char *by = st->started_by ? st->started_by : "unknown";
    char before[64] = "the weights before it";
    if (st->has_weights_before)
        bg_weights_format(before, sizeof before, &st->weights_before);
    if (strcmp(st->phase, "drain") == 0)
        return bg_asprintf("a deploy by %s stopped while draining the old pool: its new pool "
                           "had passed verification and keeps the traffic; the next `bg-gate "
                           "deploy`, `rollback` or `promote` records it as live (`rollback` "
                           "then flips back to the warm pool)",
                           by);
    if (phase_moved_traffic(st->phase))
        return bg_asprintf("a deploy by %s stopped in phase \"%s\" without finishing: the "
                           "router may send traffic to a pool that was never verified%s; the "
                           "next `bg-gate deploy`, `rollback` or `abort` puts the router back "
                           "to %s and checks it",
                           by, st->phase,
                           strcmp(st->phase, "flip") == 0
                               ? " (nginx may not have loaded the upstream file bg-gate "
                                 "wrote, so the weights shown may not be what it serves)"
                               : "",
                           before);
    return bg_asprintf("a deploy by %s stopped in phase \"%s\" without finishing: live traffic "
                       "was not moved; the next `bg-gate deploy`, `rollback` or `abort` marks "
                       "its pool failed and goes on",
                       by, st->phase);
}
