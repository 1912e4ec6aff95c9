/* cmd_status.c — `bg-gate status`: router weights, live and idle pool, the release on
 * each (commit, update time, keep-warm deadline), the health of every endpoint, the lock
 * holder, a deploy that is running or died, recent history.
 * Human output, or the same as JSON with --json. Exit 0, or 2/3 when it cannot tell.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/deploy.h"
#include "bggate/log.h"
#include "bggate/util.h"
#include "cli.h"

#define HISTORY_SHOWN 5

static const bg_opt status_opts[] = {
    {"config", 'c', "FILE", BG_OPT_CONFIG, "config file (default: ./bg-gate.json)"},
    {"json", 0, NULL, BG_OPT_JSON, "machine-readable output on stdout"},
    {"repair", 0, NULL, 1, "set the weights bg-gate set again when the router lost them"},
    {"quiet", 'q', NULL, BG_OPT_QUIET, "print nothing; only the exit code and errors"},
    {"verbose", 'v', NULL, BG_OPT_VERBOSE, "more detail"},
    {"help", 'h', NULL, BG_OPT_HELP, "show this help"},
    {NULL, 0, NULL, 0, NULL},
};

typedef struct status_args {
    const char *config;
    bool json, help, quiet, repair;
} status_args;

static int on_option(void *ud, int id, const char *arg, bg_error *err)
{
    status_args *a = ud;
    switch (id) {
    case BG_OPT_CONFIG: a->config = arg; return 0;
    case BG_OPT_JSON: a->json = true; return 0;
    case 1: a->repair = true; return 0;
    case BG_OPT_QUIET: a->quiet = true; return 0;
    case BG_OPT_VERBOSE: bg_log_set_level(BG_LOG_VERBOSE); return 0;
    case BG_OPT_HELP: a->help = true; return 0;
    default: return bg_error_set(err, BG_EINVAL, "unhandled option");
    }
}

static const char *str(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    return s ? s : "";
}

/* Each endpoint of a pool as status saw it just now. */
static void print_health(const cJSON *h)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(h, "endpoints"))
    {
        bool ready = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "ready"));
        printf("%-12s %s  %s%s\n", "", str(e, "url"), ready ? "healthy" : "UNHEALTHY: ",
               ready ? "" : str(e, "detail"));
    }
}

/* p: the pool's state record; h: its endpoints' health. */
static void print_pool(const char *name, const cJSON *p, const cJSON *h)
{
    const char *rel = str(p, "release_id");
    if (!*rel) {
        printf("%-12s (no release)\n", name);
    } else {
        printf("%-12s %-9s release %.12s  commit %.12s  model %s%s\n", name, str(p, "status"),
               rel, str(p, "commit"), str(p, "served_model"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "gated")) ? "  (gated)" : "");
        if (*str(p, "updated_at"))
            printf("%-12s updated %s\n", "", str(p, "updated_at"));
        const char *warm = str(p, "keep_warm_until");
        if (*warm)
            printf("%-12s keep warm until %s\n", "", warm);
    }
    print_health(h);
}

/* Who holds the lock: a running deploy, rollback, promote or abort. */
static void print_lock(const cJSON *l)
{
    bool held = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "held"));
    if (!held) {
        printf("%-12s free\n", "lock");
        return;
    }
    printf("%-12s held by pid %.0f on %s", "lock",
           cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(l, "pid")), str(l, "host"));
    if (*str(l, "since"))
        printf(" since %s", str(l, "since"));
    if (*str(l, "job_url"))
        printf(" (%s)", str(l, "job_url"));
    printf("\n");
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(n) ? n->valuedouble : NAN;
}

/* The canary ramp of an unfinished deploy: step, bake time left, last analysis. */
static void print_ramp(const cJSON *d)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(d, "ramp");
    if (!cJSON_IsObject(r))
        return;
    bool paused = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "paused"));
    double left = num(r, "step_started_at") + num(r, "bake_s") - bg_wall_s();
    printf("%-12s %s at %.0f%% (step %.0f of %d), ", "canary", str(d, "target"),
           num(r, "percent"), num(r, "step") + 1,
           cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "steps")));
    if (paused)
        printf("paused: `promote --step|--full` goes on, `abort` goes back\n");
    else if (isfinite(left) && left > 0)
        printf("baking, %.0f s left\n", left);
    else
        printf("bake time over, waiting for a conclusive analysis\n");
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(r, "last_analysis");
    if (!cJSON_IsObject(last))
        return;
    printf("%-12s %s%s%s\n", "analysis", str(last, "action"), *str(last, "why") ? ": " : "",
           str(last, "why"));
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(last, "checks"))
        printf("%-12s %-14s %-12s %s\n", "", str(c, "name"), str(c, "verdict"), str(c, "text"));
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(last, "probes");
    if (p)
        printf("%-12s %-14s %.0f of %.0f passed\n", "", "probes", num(p, "passed"),
               num(p, "sent"));
}

static void print_human(const cJSON *s)
{
    const cJSON *router = cJSON_GetObjectItemCaseSensitive(s, "router");
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(s, "state");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(router, "weights");
    printf("%-12s %s\n", "environment", str(s, "environment"));
    if (w)
        printf("%-12s %s: blue %d%% / green %d%%  (live: %s)\n", "router", str(router, "driver"),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(w, "blue")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(w, "green")),
               *str(router, "live") ? str(router, "live") : "split");
    else
        printf("%-12s %s: %s\n", "router", str(router, "driver"), str(router, "error"));
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(state, "pools");
    const cJSON *health = cJSON_GetObjectItemCaseSensitive(s, "pools");
    print_pool("blue", cJSON_GetObjectItemCaseSensitive(pools, "blue"),
               cJSON_GetObjectItemCaseSensitive(health, "blue"));
    print_pool("green", cJSON_GetObjectItemCaseSensitive(pools, "green"),
               cJSON_GetObjectItemCaseSensitive(health, "green"));
    print_lock(cJSON_GetObjectItemCaseSensitive(s, "lock"));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(state, "deploy");
    bool running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "in_progress"));
    if (cJSON_IsObject(d) && strcmp(str(d, "phase"), "ramp") == 0) {
        printf("%-12s canary ramp of release %.12s, started by %s at %s\n", "deploy",
               str(d, "release_id"), str(d, "started_by"), str(d, "started_at"));
        print_ramp(d);
    } else if (cJSON_IsObject(d))
        printf("%-12s %s: phase \"%s\", target %s, started by %s at %s\n", "deploy",
               running ? "IN PROGRESS" : "UNFINISHED", str(d, "phase"), str(d, "target"),
               str(d, "started_by"), str(d, "started_at"));
    else
        printf("%-12s none in progress\n", "deploy");
    if (*str(state, "last_outcome"))
        printf("%-12s %s%s%s\n", "last", str(state, "last_outcome"),
               *str(state, "last_message") ? ": " : "", str(state, "last_message"));
    const cJSON *hist = cJSON_GetObjectItemCaseSensitive(state, "history");
    int n = cJSON_GetArraySize(hist);
    for (int i = n - 1, shown = 0; i >= 0 && shown < HISTORY_SHOWN; i--, shown++) {
        const cJSON *h = cJSON_GetArrayItem(hist, i);
        printf("%-12s %s  %-12s %-6s %.12s  %s\n", shown ? "" : "history", str(h, "at"),
               str(h, "action"), str(h, "pool"), str(h, "release_id"), str(h, "outcome"));
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(router, "repaired")))
        printf("%-12s the router had lost its weights; set back\n", "REPAIRED");
    else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(router, "stale")))
        printf("%-12s the router lost the weights bg-gate set (reloaded?)\n", "STALE");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "drift")))
        printf("%-12s the router differs from what bg-gate last set\n", "DRIFT");
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(s, "advice"))
        printf("%-12s %s\n", "advice", cJSON_GetStringValue(a));
}

int bg_cmd_status(int argc, char **argv)
{
    status_args a = {0};
    bg_error err = {0};
    bg_config *cfg = NULL;
    cJSON *s = NULL;
    int rc = bg_opts_parse(status_opts, argc, argv, on_option, &a, NULL, 0, &err);
    if (!rc && a.help) {
        bg_opts_help(stdout, "bg-gate status [--config FILE] [--json]",
                     "Show router weights, the release on each pool, the health of every\n"
                     "endpoint, the lock holder, keep-warm deadlines, a deploy in progress or\n"
                     "unfinished, and recent history.",
                     status_opts);
        return BG_EXIT_OK;
    }
    if (!rc)
        rc = bg_cli_load_config(&cfg, a.config, &err);
    if (!rc)
        rc = bg_deploy_status(&s, cfg, a.repair, &err);
    if (!rc && !a.quiet) {
        if (a.json) {
            char *text = cJSON_Print(s);
            if (text)
                puts(text);
            free(text);
        } else {
            print_human(s);
        }
    }
    cJSON_Delete(s);
    bg_config_free(cfg);
    if (rc) {
        bg_log_error("%s", err.msg);
        return bg_cli_exit_for_error(rc);
    }
    return BG_EXIT_OK;
}
