/* hooks.h — deploy hooks (argv commands run at points of the lifecycle) and webhook
 * notifications (a JSON POST a Slack incoming webhook understands).
 *
 * bg-gate.json, both sections optional:
 *   "hooks": {"pre_deploy":   {"argv": ["./scripts/freeze-window.sh"], "timeout_s": 30},
 *             "post_deploy":  {"argv": [...]},
 *             "pre_promote":  {"argv": ["./scripts/check.sh"], "timeout_s": 30},
 *             "post_promote": {"argv": ["./scripts/flush-cache.sh"]},
 *             "on_rollback":  {"argv": [...]}}
 *   "notify": {"webhook_url": "https://hooks.slack.com/services/…"  (or
 *              "webhook_url_env": "SLACK_WEBHOOK_URL"),
 *              "on": ["promoted", "rolled-back", "gate-failed"], "timeout_s": 10}
 *
 * A hook is an argv, never a shell string (posix_spawnp through bg_spawn_stream); an
 * argv[0] that contains '/' and is relative is resolved against the config file's
 * directory, a bare name is looked up in PATH. Its output is streamed with a
 * "[pre_promote] " prefix; it is killed at its deadline (timeout_s, default 60). The
 * release reaches it only through the environment (see bg_hooks_run).
 *
 * When they run and what a failure does:
 *   pre_deploy    before the idle pool is touched; a failure blocks the deploy
 *   pre_promote   after the gate passed, before the flip; a failure blocks the promotion
 *                 (deploy: decision "blocked-by-hook", exit 1, live traffic untouched,
 *                 the idle pool handled like after a failed gate; `promote`: exit 2)
 *   post_promote  after a verified promotion (deploy or `promote`)
 *   on_rollback   after a rollback: automatic (verification failed) or `bg-gate rollback`
 *   post_deploy   at the end of every deploy that had something to deploy, whatever
 *                 the decision (not after an interruption)
 * "A failure" is a non-zero exit, a timeout or a command that cannot start. A failing
 * post_* / on_rollback hook is a warning and never changes the outcome.
 *
 * Notifications: after a deploy, `promote` or `rollback`, when the decision is in
 * notify.on (default: every decision but "nothing-to-deploy"), one POST with the
 * bg_hooks_payload body, at most notify.timeout_s (default 10). The URL may carry a
 * secret: it is never printed — messages name only "scheme://host[:port]". A failed
 * notification is a warning and never changes the outcome.
 */
#ifndef BGGATE_HOOKS_H
#define BGGATE_HOOKS_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "error.h"
#include "release.h"

typedef enum {
    BG_HOOK_PRE_DEPLOY,
    BG_HOOK_POST_DEPLOY,
    BG_HOOK_PRE_PROMOTE,
    BG_HOOK_POST_PROMOTE,
    BG_HOOK_ON_ROLLBACK,
    BG_HOOK__COUNT
} bg_hook_id;

#define BG_HOOK_DEFAULT_TIMEOUT_S 60
#define BG_NOTIFY_DEFAULT_TIMEOUT_S 10
/* Longest webhook URL accepted (Slack's are ~80 bytes). */
#define BG_NOTIFY_URL_MAX 2048

/* Decisions a notification can be sent for (notify.on). */
#define BG_NOTIFY_EVENTS                                                                   \
    {"promoted", "rolled-back", "gate-failed", "blocked-by-hook", "failed", "interrupted",  \
     "nothing-to-deploy", NULL}

typedef struct bg_hook {
    char **argv;          /* NULL-terminated; NULL when the hook is not configured */
    long timeout_s;
} bg_hook;

typedef struct bg_hooks {
    bg_hook hook[BG_HOOK__COUNT];
    char *webhook_url;     /* NULL: none (or from webhook_url_env); a secret */
    char *webhook_url_env; /* name of the variable holding the URL, read when sending */
    unsigned notify_on;    /* bit i: BG_NOTIFY_EVENTS[i] */
    long notify_timeout_s;
} bg_hooks;

/* The key of a hook in the config ("pre_promote"). */
const char *bg_hook_name(bg_hook_id id);

/* Parses `hooks` and `notify` (both optional: *out is then empty). Errors carry the
 * file and JSON path ("bg-gate.json: hooks.pre_promote.argv: expected …", unknown keys
 * with "did you mean"); a webhook URL in a message is cut to scheme://host. */
int bg_hooks_parse(bg_hooks *out, const bg_config *cfg, bg_error *err);
void bg_hooks_dispose(bg_hooks *h);
bool bg_hooks_has(const bg_hooks *h, bg_hook_id id);
/* True when any hook or a notification is configured. */
bool bg_hooks_any(const bg_hooks *h);

/* What a hook and a notification are told. Strings are borrowed; NULL means "". */
typedef struct bg_hook_event {
    const char *action;          /* "deploy", "promote", "rollback" */
    const char *environment;
    /* the release the command moves (or moved) traffic to, and its pool */
    const char *release_id, *commit, *model, *model_revision, *served_model;
    const char *pool;
    const char *live_pool;       /* the pool live when the hook runs ("" none) */
    const char *previous_release_id; /* the release live before the command ("" none) */
    bool model_changed, templates_changed; /* against the previous release */
    const char *decision;        /* NULL before the outcome is known (pre hooks) */
    const char *message;         /* why it failed, may be NULL */
    double pass_rate, p95_ms;    /* of the gate; NaN when no gate ran */
    double duration_s;           /* of the command; NaN when unknown */
} bg_hook_event;

/* An event with every string empty and every number NaN. */
void bg_hook_event_init(bg_hook_event *ev, const char *action, const char *environment);

/* Fills model_changed / templates_changed by diffing the release `to` against the one
 * at commit `from_commit` (read from git with to's repository and config path). No
 * previous release (NULL or ""), or one git cannot read (shallow clone): both true —
 * a cache flushed once too often is harmless, a stale one is not. */
void bg_hook_event_changes(bg_hook_event *ev, const bg_release *to, const char *from_commit);
/* Same for two commits (manual promote / rollback): the repository is found from the
 * config's directory, the config at the same path inside it. */
void bg_hook_event_changes_commits(bg_hook_event *ev, const bg_config *cfg,
                                   const char *from_commit, const char *to_commit);

/* Runs hook `id` when configured (0 when not). The child gets environ plus
 * BG_HOOK, BG_ACTION, BG_ENVIRONMENT, BG_RELEASE_ID, BG_COMMIT, BG_MODEL,
 * BG_MODEL_REVISION, BG_SERVED_MODEL, BG_POOL, BG_LIVE_POOL, BG_PREVIOUS_RELEASE_ID,
 * BG_MODEL_CHANGED and BG_TEMPLATES_CHANGED ("1"/"0"), BG_DECISION ("" for pre hooks),
 * BG_MESSAGE, and BG_PASS_RATE / BG_P95_MS when a gate ran. Errors: a non-zero exit
 * (BG_EPROTO, "pre_promote: check.sh exited 1: <its last line>"), BG_ETIMEOUT,
 * BG_EIO (cannot start), BG_ECANCELED (SIGINT/SIGTERM), BG_ENOMEM. */
int bg_hooks_run(const bg_hooks *h, bg_hook_id id, const bg_hook_event *ev, bg_error *err);
/* bg_hooks_run for post hooks: a failure is logged as a warning. */
void bg_hooks_run_warn(const bg_hooks *h, bg_hook_id id, const bg_hook_event *ev);

/* The webhook body: {"text": one line for Slack, "environment", "action", "decision",
 * "release_id", "commit", "model", "model_revision", "served_model", "pool", "live_pool",
 * "previous_release_id", "model_changed", "templates_changed", "pass_rate", "p95_ms"
 * (null when no gate ran), "message" (null when none), "duration_s", "at" (ISO 8601)}.
 * NULL on allocation failure. */
cJSON *bg_hooks_payload(const bg_hook_event *ev);
/* Sends the notification when a URL is configured and ev->decision is in notify.on
 * (0 otherwise). Errors name only the URL's origin: BG_ENET (connection, timeout),
 * BG_EPROTO (a non-2xx answer), BG_EINVAL ($webhook_url_env not set or not a URL). */
int bg_hooks_notify(const bg_hooks *h, const bg_hook_event *ev, bg_error *err);
/* bg_hooks_notify with a failure logged as a warning. */
void bg_hooks_notify_warn(const bg_hooks *h, const bg_hook_event *ev);

/* "scheme://host[:port]" of url, without user info, path or query (what may be printed
 * of a URL that carries a secret). */
void bg_url_origin(char *out, size_t outsz, const char *url);

#endif
