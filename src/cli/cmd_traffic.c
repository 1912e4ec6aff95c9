/* cmd_traffic.c — the commands that move traffic by hand: `rollback` (instant flip back
 * to the warm pool), `promote` (flip to the idle pool), `abort` (undo an unfinished
 * deploy) and `decommission` (stop the old pool after keep-warm). They share one option
 * table and differ only in the operation they call (src/deploy/ops.c).
 */
#include <string.h>

#include "bggate/deploy.h"
#include "bggate/log.h"
#include "cli.h"

enum { O_FORCE = 1 };

static const bg_opt traffic_opts[] = {
    {"config", 'c', "FILE", BG_OPT_CONFIG, "config file (default: ./bg-gate.json)"},
    {"force", 0, NULL, O_FORCE, "skip the safety checks (gated release, warm pool, keep-warm)"},
    {"ci", 0, "MODE", BG_OPT_CI, BG_CLI_CI_HELP},
    {"quiet", 'q', NULL, BG_OPT_QUIET, "only errors"},
    {"verbose", 'v', NULL, BG_OPT_VERBOSE, "more detail"},
    {"help", 'h', NULL, BG_OPT_HELP, "show this help"},
    {NULL, 0, NULL, 0, NULL},
};

typedef struct traffic_args {
    const char *config, *ci;
    bool force, help, quiet;
} traffic_args;

static int on_option(void *ud, int id, const char *arg, bg_error *err)
{
    traffic_args *a = ud;
    switch (id) {
    case BG_OPT_CONFIG: a->config = arg; return 0;
    case O_FORCE: a->force = true; return 0;
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
                "release unless --force.",
     bg_deploy_promote},
    {"abort", "End a deploy that did not finish: restore the router weights it started from.",
     run_abort},
    {"decommission", "Stop the old pool once its keep-warm window has passed (--force: now).",
     bg_deploy_decommission},
};

static int run_traffic(const traffic_command *t, int argc, char **argv)
{
    traffic_args a = {0};
    bg_error err = {0};
    bg_config *cfg = NULL;
    int rc = bg_opts_parse(traffic_opts, argc, argv, on_option, &a, NULL, 0, &err);
    if (!rc && a.help) {
        char usage[64];
        snprintf(usage, sizeof usage, "bg-gate %s [--config FILE] [--force]", t->name);
        bg_opts_help(stdout, usage, t->summary, traffic_opts);
        return BG_EXIT_OK;
    }
    if (a.quiet)
        bg_log_set_level(BG_LOG_QUIET);
    if (!rc)
        rc = bg_cli_ci_setup(a.ci, false, &err);
    if (!rc)
        rc = bg_cli_load_config(&cfg, a.config, &err);
    if (!rc)
        rc = t->run(cfg, a.force, &err);
    bg_config_free(cfg);
    if (rc) {
        bg_cli_error(t->name, err.msg);
        return bg_cli_exit_for_error(rc);
    }
    return BG_EXIT_OK;
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
