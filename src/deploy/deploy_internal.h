/* deploy_internal.h — private to src/deploy: the context every lifecycle command opens
 * (settings, pools, router, state, lock) and the steps they share.
 */
#ifndef BGGATE_DEPLOY_INTERNAL_H
#define BGGATE_DEPLOY_INTERNAL_H

#include "bggate/deploy.h"
#include "bggate/pool.h"
#include "bggate/router.h"
#include "bggate/run.h"
#include "bggate/state.h"

typedef struct deploy_ctx {
    const bg_config *cfg;
    bg_deploy_settings set;
    bg_pools pools;
    bool pools_ok;
    bg_router *router;
    bg_state *state;
    char *state_path;
    char *lock_path;
    bg_lock *lock;
    bg_run *report;          /* lifecycle phases (and the eval, once the gate ran) */
    const char *phase;       /* the phase in progress */
    double phase_t0;
} deploy_ctx;

/* Parses settings, pools and router, loads the state; takes the lock when asked. */
int bg_deploy_ctx_open(deploy_ctx *c, const bg_config *cfg, bool take_lock, bg_error *err);
/* Saves nothing; releases the lock and frees everything. */
void bg_deploy_ctx_close(deploy_ctx *c);
int bg_deploy_ctx_save(deploy_ctx *c, bg_error *err);

/* Starts a phase: recorded in the state file first, so a SIGKILL leaves it behind. */
int bg_deploy_phase_begin(deploy_ctx *c, const char *phase, bg_error *err);
/* Ends the current phase in the report (failure NULL: succeeded). */
void bg_deploy_phase_end(deploy_ctx *c, const char *failure);

/* Sends n requests through router.endpoint and checks every answer came from pool
 * `target` (router.upstream_header names one of its endpoints) with model `served`. */
int bg_deploy_verify(deploy_ctx *c, bg_pool_id target, const char *served, long n,
                     bg_error *err);

/* Sets weights to 100 % on `target`; *before receives what the router had. */
int bg_deploy_flip(deploy_ctx *c, bg_pool_id target, bg_weights *before, bg_error *err);

/* Waits until pool `old` has no request in flight (its in-flight gauge), at most
 * promotion.drain_timeout_s; a pool without the gauge is not waited for. */
void bg_deploy_drain(deploy_ctx *c, bg_pool_id old);
/* After the drain: a signal while draining leaves the verified pool `live` with the
 * traffic (moving it back would be a second, unverified flip), but the command did not
 * finish, so BG_ECANCELED (exit 3) says so; 0 without a signal. */
int bg_deploy_drain_verdict(bg_pool_id live, bg_pool_id old, bg_error *err);

/* The canary ramp (ramp.c). */
typedef enum { BG_RAMP_DONE, BG_RAMP_PAUSED, BG_RAMP_ROLLED_BACK } bg_ramp_outcome;

/* Opens what a ramp needs without moving anything — the analysis config, the probe
 * suite (rendered with rel) — so a deploy fails before it touches a pool. */
int bg_ramp_check(deploy_ctx *c, const bg_release *rel, bg_error *err);

/* Runs steps[from..] of promotion.steps on `target`: each step sets the router, then
 * bakes with the live analysis; stops at 100 % (DONE: the caller verifies and drains),
 * after baking a step >= pause_at (PAUSED; 0: never), or when the analysis fails
 * (ROLLED_BACK: 0 % on the new pool, `why` says which check). The ramp is recorded in
 * c->state->ramp and saved every interval. rel renders template probes (may be NULL).
 * Errors: SIGINT/SIGTERM (BG_ECANCELED), router failures; the caller restores. */
int bg_ramp_run(bg_ramp_outcome *out, char *why, size_t whysz, deploy_ctx *c,
                bg_pool_id target, const bg_release *rel, const char *served, size_t from,
                int pause_at, bg_error *err);

/* Appends a history record {"at","action","pool","release_id","commit","outcome",…}. */
void bg_deploy_history(deploy_ctx *c, const char *action, int pool, const char *outcome,
                       const char *message);

/* promotion.verify_suite, loaded (relative to the config file; template cases refused:
 * promote and rollback have no release to render them from). *out NULL and *n 0 when
 * the config names none. Errors are prefixed "promotion.verify_suite". */
int bg_deploy_verify_suite_load(bg_suite ***out, size_t *n, const bg_config *cfg,
                                bg_error *err);

#endif
