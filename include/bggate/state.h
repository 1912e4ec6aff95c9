/* state.h — the deploy state of one environment and the lock that keeps deploys apart.
 *
 * State lives in `<state.dir>/<environment>.json`, written atomically (temp, fsync,
 * rename). A missing file is a fresh environment; a corrupt one is a clear error saying
 * how to recover (inspect, then remove it and let the router's weights be the truth),
 * never a crash. The lock is `<state.dir>/<environment>.lock`, held with flock for a whole
 * deploy; it records its holder (pid, host, start time, CI job URL) so a second deploy
 * can say who holds it. A lock file whose holder process is dead on this host is broken
 * with a warning (flock is released by the kernel when a process dies, so this only
 * matters for the recorded holder text).
 */
#ifndef BGGATE_STATE_H
#define BGGATE_STATE_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "pool.h"
#include "router.h"

typedef struct bg_pool_state {
    char *release_id;      /* NULL when the pool never held a release */
    char *commit;
    char *model;
    char *served_model;
    char *status;          /* "live", "warm", "deploying", "ready", "failed", "stopped" */
    double updated_at;     /* epoch seconds */
    double keep_warm_until;/* epoch seconds; 0 = none */
    bool gated;            /* the release on this pool passed the gate */
} bg_pool_state;

typedef struct bg_state {
    char *environment;
    int live;                  /* bg_pool_id of the live pool, -1 when none */
    bg_pool_state pool[BG_POOL_COUNT];
    bool has_weights;
    bg_weights weights;        /* the weights bg-gate last set */
    /* a deploy in progress (or one that died): phase != NULL */
    char *phase;               /* "lock", "resolve", "deploy", "health", "warmup", "gate",
                                * "ramp", "flip", "verify", "drain"; NULL when none */
    int target;                /* pool being deployed, -1 when none */
    char *target_release;
    bool has_weights_before;
    bg_weights weights_before; /* router weights when that deploy started */
    char *started_by;          /* "pid 123 on host (job URL)" */
    cJSON *ramp;               /* a canary ramp of that deploy (ramp.h; owned), or NULL */
    double started_at;
    char *last_outcome;        /* "promoted", "nothing-to-deploy", "gate-failed",
                                * "health-timeout", "rolled-back", "interrupted", … */
    char *last_message;
    cJSON *history;            /* array of the last 20 deploy records (owned) */
} bg_state;

/* Loads path; a missing file yields a fresh state for `environment`. */
int bg_state_load(bg_state **out, const char *path, const char *environment, bg_error *err);
int bg_state_save(const bg_state *s, const char *path, bg_error *err);
void bg_state_free(bg_state *s);
/* Sets a string field (frees the old value; NULL clears). Returns 0 or BG_ENOMEM. */
int bg_state_set_str(char **field, const char *value);
/* Appends a record to history, keeping the newest 20. Takes ownership of entry. */
void bg_state_add_history(bg_state *s, cJSON *entry);
/* The state as JSON (for `status --json`); caller deletes. */
cJSON *bg_state_to_json(const bg_state *s);

typedef struct bg_lock bg_lock;

/* Takes the lock at path without waiting. Held by another live process → BG_ELOCKED:
 * "another deploy holds the lock: pid 4242 on ci-runner-3 since 2026-12-05T01:02:03Z
 * (https://github.com/o/r/actions/runs/123)". The job URL comes from
 * $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID or $CI_JOB_URL. */
int bg_lock_acquire(bg_lock **out, const char *path, bg_error *err);
/* Releases and frees (NULL-safe). The lock file stays; its holder record is cleared. */
void bg_lock_release(bg_lock *l);
/* "pid N on HOST (URL)" describing this process; caller frees. */
char *bg_lock_describe_self(void);

/* Who holds the lock, per its holder record (bg_lock_peek). */
typedef struct bg_lock_holder {
    bool recorded;         /* the file has a holder record */
    bool held;             /* a live process holds it (see bg_lock_peek) */
    bool same_host;        /* the record names this host */
    long pid;
    char host[256];
    char started_at[64];   /* ISO 8601 */
    char job_url[512];     /* "" when none */
} bg_lock_holder;

/* Reads the lock's holder record without taking the lock (a shared flock would make a
 * deploy starting at that moment exit 4). `held` is true when the record names a process
 * that runs on this host, or another host (which cannot be checked: a holder clears its
 * record on release). A missing file or an empty record: nothing held, 0. */
int bg_lock_peek(bg_lock_holder *out, const char *path, bg_error *err);

#endif
