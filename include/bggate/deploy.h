/* deploy.h — the blue-green lifecycle: deploy, rollback, promote, abort, status.
 *
 * `bg_deploy_run` is the whole cycle: lock → resolve → deploy to the idle pool → health
 * → warm-up → gate → flip → verify → drain → record. Live traffic only ever moves to a
 * pool that just passed health and the gate; a failed verification flips back (exit 5);
 * SIGINT/SIGTERM restore the pre-deploy weights (exit 3); a deploy that died (SIGKILL)
 * leaves its phase in the state file, which `status` explains and the next deploy or
 * rollback recovers from.
 *
 * Settings (bg-gate.json, besides `release`, `pools`, `health`, `router`, `gate`):
 *   "environment": "production"                       (default "default")
 *   "state": {"dir": "/var/lib/bg-gate"}               (relative: to the config's dir)
 *   "promotion": {"strategy": "flip" | "canary", "verify_requests": 5,
 *                 "verify": "upstream" | "model-only", "verify_suite": "evals/verify.jsonl",
 *                 "warmup_requests": 2, "drain_timeout_s": 120, "drain_metric": null,
 *                 "keep_warm_s": 86400, "on_gate_fail": "restore" | "stop" | "keep",
 *                 canary only: "steps": [1, 25, 75, 100], "bake_s": 300,
 *                 "analysis": {…} (analysis.h), "probes": {"suite": "evals/smoke.jsonl",
 *                 "rate": 1}}
 * on_gate_fail "restore" (default): a pool that held the warm previous release gets it
 * back, so `rollback` still works after a failed deploy; a pool with nothing to restore
 * is stopped.
 */
#ifndef BGGATE_DEPLOY_H
#define BGGATE_DEPLOY_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "error.h"

/* What happens to the idle pool when its new release fails health or the gate. */
typedef enum {
    BG_ON_FAIL_RESTORE, /* redeploy the warm release it held before (keeps rollback possible) */
    BG_ON_FAIL_STOP,    /* stop it */
    BG_ON_FAIL_KEEP     /* leave it running for inspection */
} bg_gate_fail_action;

typedef enum { BG_STRATEGY_FLIP, BG_STRATEGY_CANARY } bg_promotion_strategy;

#define BG_RAMP_MAX_STEPS 20

typedef struct bg_deploy_settings {
    char *environment;
    bg_promotion_strategy strategy;
    int steps[BG_RAMP_MAX_STEPS]; /* canary: percent on the new pool, rising, ends at 100 */
    size_t n_steps;
    long bake_s;             /* canary: time at each step before the next */
    const cJSON *analysis;   /* promotion.analysis, borrowed from the config; NULL: none */
    char *probe_suite;       /* promotion.probes.suite (NULL: no synthetic probes) */
    double probe_rate;       /* probes per second through the router */
    char *state_dir;
    long verify_requests;
    long warmup_requests;
    long drain_timeout_s;
    char *drain_metric;      /* NULL: vllm:num_requests_running / llamacpp:… */
    long keep_warm_s;
    bg_gate_fail_action on_gate_fail;
} bg_deploy_settings;

int bg_deploy_settings_parse(bg_deploy_settings *out, const bg_config *cfg, bg_error *err);
void bg_deploy_settings_dispose(bg_deploy_settings *s);

typedef enum {
    BG_OUTCOME_PROMOTED,       /* exit 0 */
    BG_OUTCOME_NOTHING,        /* same release already live: exit 0 */
    BG_OUTCOME_GATE_FAILED,    /* exit 1, live untouched */
    BG_OUTCOME_ROLLED_BACK,    /* flipped (or a canary step failed its analysis), then
                                * traffic went back: exit 5 */
    BG_OUTCOME_PAUSED,         /* canary ramp paused at --pause-at: exit 0 */
    BG_OUTCOME_FAILED          /* infrastructure / interrupted: exit 3 (err says why) */
} bg_deploy_outcome;

typedef struct bg_deploy_opts {
    const char *rev;            /* NULL: $GITHUB_SHA, $CI_COMMIT_SHA, HEAD */
    const char *release_config; /* config path inside the repository (NULL: bg-gate.json) */
    bool force;                 /* proceed despite router/state drift */
    const char *reports_dir;    /* overrides gate.reports (junit.xml, report.json, …) */
    int pause_at;               /* canary: pause once this percentage baked (0: never) */
} bg_deploy_opts;

/* The whole cycle. Returns 0 with *outcome set for every decided outcome (including
 * gate failures and roll-backs); a negative code (err filled) when it could not decide:
 * bad input (BG_EINVAL), lock held (BG_ELOCKED), infrastructure (*outcome FAILED). */
int bg_deploy_run(bg_deploy_outcome *outcome, const bg_config *cfg, const bg_deploy_opts *o,
                  bg_error *err);

/* Flips back to the other pool: only when it is healthy and holds the previous (gated)
 * release; verified through the router like a deploy. */
int bg_deploy_rollback(const bg_config *cfg, bool force, bg_error *err);
/* Flips to the idle pool by hand: it must be healthy and hold a gated release unless
 * force. */
int bg_deploy_promote(const bg_config *cfg, bool force, bg_error *err);
/* Continues a canary ramp paused by --pause-at: one more step (baked, analysed, then
 * paused again unless it reached 100 %), or with `full` straight to 100 %; at 100 %
 * verified through the router and the old pool drained. *outcome: PROMOTED, PAUSED or
 * ROLLED_BACK (the analysis or the verification failed: back to 0 % on the new pool). */
int bg_deploy_ramp_continue(bg_deploy_outcome *outcome, const bg_config *cfg, bool full,
                            bg_error *err);
/* Ends an interrupted deploy: restores the weights it started from, clears its phase. */
int bg_deploy_abort(const bg_config *cfg, bg_error *err);
/* Stops the old pool once its keep-warm window has passed (or now with force). */
int bg_deploy_decommission(const bg_config *cfg, bool force, bg_error *err);

/* The commit of the release on the live pool, per the state file (for `resolve --against
 * live`). BG_EINVAL when nothing is live yet. Caller frees. */
int bg_deploy_live_commit(char **out, const bg_config *cfg, bg_error *err);

/* Status as JSON: {"environment", "router": {"driver", "weights", "live", "error"},
 * "pools": {"blue"|"green": {"ready", "served_model", "endpoints": [{"url", "health",
 * "model_listed", "serves", "ready", "detail"}]}}, "lock": {"held", "pid", "host", "since",
 * "job_url", "stale"}, "in_progress": bool, "state": <bg_state_to_json>, "drift": bool,
 * "advice": […]} (status.c). */
/* router.stale / router.repaired when the driver can tell (HAProxy after a reload); with
 * `repair` (takes the lock) stale runtime weights are set back to what bg-gate set. */
int bg_deploy_status(cJSON **out, const bg_config *cfg, bool repair, bg_error *err);

#endif
