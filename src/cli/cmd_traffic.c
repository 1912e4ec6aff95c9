/* cmd_traffic.c — the commands that move traffic by hand: `rollback` (instant flip back
 * to the warm pool), `promote` (flip to the idle pool), `abort` (undo an unfinished
 * deploy) and `decommission` (stop the old pool after keep-warm). They share one option
 * table and differ only in the operation they call (src/deploy/ops.c).
 */
#include <string.h>

#include "bggate/deploy.h"
#include "bggate/log.h"
#include "cli.h"

enum { O_FORCE = 1, O_STEP, O_FULL };

#define COMMON_TRAFFIC_OPTS                                                                  \
    {"config", 'c', "FILE", BG_OPT_CONFIG, "config file (default: ./bg-gate.json)"},         \
    {"force", 0, NULL, O_FORCE, "skip the safety checks (gated release, warm pool, keep-warm)"}

static const bg_opt promote_opts[] = {
    COMMON_TRAFFIC_OPTS,
    {"step", 0, NULL, O_STEP, "advance a paused canary ramp by one step"},
    {"full", 0, NULL, O_FULL, "take a paused canary ramp straight to 100 %"},
    {"ci", 0, "MODE", BG_OPT_CI, BG_CLI_CI_HELP},
    {"quiet", 'q', NULL, BG_OPT_QUIET, "only errors"},
    {"verbose", 'v', NULL, BG_OPT_VERBOSE, "more detail"},
    {"help", 'h', NULL, BG_OPT_HELP, "show this help"},
    {NULL, 0, NULL, 0, NULL},
};

static const bg_opt traffic_opts[] = {
    COMMON_TRAFFIC_OPTS,
    {"ci", 0, "MODE", BG_OPT_CI, BG_CLI_CI_HELP},
    {"quiet", 'q', NULL, BG_OPT_QUIET, "only errors"},
    {"verbose", 'v', NULL, BG_OPT_VERBOSE, "more detail"},
    {"help", 'h', NULL, BG_OPT_HELP, "show this help"},
    {NULL, 0, NULL, 0, NULL},
};

typedef struct traffic_args {
    const char *config, *ci;
    bool force, help, quiet, step, full;
} traffic_args;

static int on_option(void *ud, int id, const char *arg, bg_error *err)
{
    traffic_args *a = ud;
    switch (id) {
    case BG_OPT_CONFIG: a->config = arg; return 0;
    case O_FORCE: a->force = true; return 0;
    case O_STEP: a->step = true; return 0;
    case O_FULL: a->full = true; return 0;
    case BG_OPT_CI: a->ci = arg; return 0;
    case BG_OPT_QUIET: a->quiet = true; return 0;
    case BG_OPT_VERBOSE: bg_log_set_level(BG_LOG_VERBOSE); return 0;
    case BG_OPT_HELP: a->help = true; return 0;
    default: return bg_error_set(err, BG_EINVAL, "unhandled option");
    }
}

typedef struct traffic_command {
    const char *name;
    const char *summary;
    int (*run)(const bg_config *cfg, bool force, bg_error *err);
} traffic_command;

static int run_abort(const bg_config *cfg, bool force, bg_error *err)
{
    (void)force;
    return bg_deploy_abort(cfg, err);
}

static const traffic_command commands[] = {
    {"rollback", "Flip traffic back to the warm pool, if it is healthy and holds the previous\n"
                 "gated release; verified through the router. Takes seconds, not a redeploy.",
     bg_deploy_rollback},
    {"promote", "Flip traffic to the idle pool by hand; it must be healthy and hold a gated\n"
                "release unless --force. With a canary ramp paused by `deploy --pause-at`:\n"
                "--step advances one step (baked and analysed, then paused again), --full\n"
                "goes to 100 %; exit 5 when the analysis or verification rolled it back.",
     bg_deploy_promote},
    {"abort", "End a deploy that did not finish: restore the router weights it started from.",
     run_abort},
    {"decommission", "Stop the old pool once its keep-warm window has passed (--force: now).",
     bg_deploy_decommission},
};

/* promote --step / --full: the paused canary ramp goes on. */
static int continue_ramp(const bg_config *cfg, bool full, int *exit_code, bg_error *err)
{
    bg_deploy_outcome o = BG_OUTCOME_FAILED;
    int rc = bg_deploy_ramp_continue(&o, cfg, full, err);
    if (!rc)
        *exit_code = o == BG_OUTCOME_ROLLED_BACK ? BG_EXIT_ROLLED_BACK : BG_EXIT_OK;
    return rc;
}

static int check_ramp_flags(const traffic_args *a, bg_error *err)
{
    if (a->step && a->full)
        return bg_error_set(err, BG_EINVAL, "--step and --full: choose one");
    return 0;
}

static int run_traffic(const traffic_command *t, int argc, char **argv)
{
    traffic_args a = {0};
    bg_error err = {0};
    bg_config *cfg = NULL;
    bool is_promote = strcmp(t->name, "promote") == 0;
    const bg_opt *opts = is_promote ? promote_opts : traffic_opts;
    int rc = bg_opts_parse(opts, argc, argv, on_option, &a, NULL, 0, &err);
    if (!rc && a.help) {
        char usage[64];
        snprintf(usage, sizeof usage, "bg-gate %s [--config FILE] [--force]%s", t->name,
                 is_promote ? " [--step|--full]" : "");
        bg_opts_help(stdout, usage, t->summary, opts);
        return BG_EXIT_OK;
    }
    if (a.quiet)
        bg_log_set_level(BG_LOG_QUIET);
    int exit_code = BG_EXIT_OK;
    if (!rc)
        rc = check_ramp_flags(&a, &err);
    if (!rc)
        rc = bg_cli_ci_setup(a.ci, false, &err);
    if (!rc)
        rc = bg_cli_load_config(&cfg, a.config, &err);
    if (!rc && (a.step || a.full))
        rc = continue_ramp(cfg, a.full, &exit_code, &err);
    else if (!rc)
        rc = t->run(cfg, a.force, &err);
    bg_config_free(cfg);
    if (rc) {
        bg_cli_error(t->name, err.msg);
        return bg_cli_exit_for_error(rc);
    }
    return exit_code;
}

int bg_cmd_rollback(int argc, char **argv)
{
    return run_traffic(&commands[0], argc, argv);
}

int bg_cmd_promote(int argc, char **argv)
{
    return run_traffic(&commands[1], argc, argv);
}

int bg_cmd_abort(int argc, char **argv)
{
    return run_traffic(&commands[2], argc, argv);
}

int bg_cmd_decommission(int argc, char **argv)
{
    return run_traffic(&commands[3], argc, argv);
}
