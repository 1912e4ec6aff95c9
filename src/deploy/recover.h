/* recover.h — private to src/deploy: finishing what a deploy that died (SIGKILL, a lost
 * runner) left behind, and checking that a router put back to earlier weights really
 * serves the pool it was put back to. `deploy`, `rollback`, `promote` and `abort` share
 * these, so every command that takes the lock after a crash repairs the same way.
 */
#ifndef BGGATE_DEPLOY_RECOVER_H
#define BGGATE_DEPLOY_RECOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "deploy_internal.h"

/* What bg_deploy_recover found and did. */
typedef struct bg_recovery {
    bool ran;       /* a deploy had died (its phase was left in the state) */
    bool verified;  /* it died while draining: its new pool was verified and stays live */
    bool restored;  /* the router was put back to the weights before that deploy */
    char phase[16]; /* the phase it died in */
} bg_recovery;

/* A deploy that died left its phase behind (not a paused ramp: callers refuse those).
 * If it may have moved traffic to a pool that was never verified (flip, verify, ramp),
 * the router goes back to the weights before it (then checked: see
 * bg_deploy_check_restored); a deploy that died draining had verified its pool, which
 * becomes live. Clears the phase, records a "recover" history entry, saves the state.
 * No phase: nothing to do, 0. When the restored router fails its check, the state is
 * still saved and BG_ENET says so: the caller must not go on (it could deploy to the pool
 * that still has the traffic). `out` may be NULL. */
int bg_deploy_recover(deploy_ctx *c, bg_recovery *out, bg_error *err);

/* After the router was put back to `w`: a short verification (a few requests, like the
 * flip's) through router.endpoint that the pool with 100 % in `w` answers. Runs after
 * SIGINT/SIGTERM too (a restore is the one thing a cancelled deploy must finish). Nothing
 * to check (no router.endpoint, no pool at 100 %): 0. On failure it says so loudly (an
 * error line), records a failed "restore-check" lifecycle phase in c->report, fills `why`
 * (for the caller's state/history message) and returns the error code. Implemented in
 * context.c next to bg_deploy_verify. */
int bg_deploy_check_restored(deploy_ctx *c, const bg_weights *w, char *why, size_t whysz);

/* One line of advice for `status` about a deploy that stopped in phase st->phase without
 * finishing (the lock is free: it died): what happened and which plain command recovers.
 * NULL when there is no phase or the phase is a paused ramp. Caller frees. */
char *bg_deploy_recovery_advice(const bg_state *st);

#endif
