/* cmd_deploy.c — `bg-gate deploy`: the whole blue-green cycle for the release of a
 * commit (src/deploy/deploy.c). Exit 0 promoted or nothing to deploy, 1 gate failed (live
 * untouched), 2 input error, 3 infrastructure / interrupted, 4 locked, 5 rolled back.
 */
#include <stdlib.h>

#include "bggate/deploy.h"
#include "bggate/log.h"
#include "bggate/util.h"
#include "cli.h"

enum { O_REV = 1, O_FORCE, O_REPORTS, O_PAUSE_AT };

static const bg_opt deploy_opts[] = {
    {"rev", 'r', "REV", O_REV, "release to deploy (default: $GITHUB_SHA, $CI_COMMIT_SHA, HEAD)"},
    {"config", 'c', "FILE", BG_OPT_CONFIG, "config file (default: ./bg-gate.json)"},
    {"force", 0, NULL, O_FORCE, "proceed although the router and the state disagree"},
    {"reports", 0, "DIR", O_REPORTS, "write junit.xml, report.json, summary.md, metrics.txt here"},
    {"pause-at", 0, "PERCENT", O_PAUSE_AT,
     "canary: pause once this step has baked (resume: promote --step|--full)"},
    {"ci", 0, "MODE", BG_OPT_CI, BG_CLI_CI_HELP},
    {"quiet", 'q', NULL, BG_OPT_QUIET, "only errors"},
    {"verbose", 'v', NULL, BG_OPT_VERBOSE, "more detail"},
    {"help", 'h', NULL, BG_OPT_HELP, "show this help"},
    {NULL, 0, NULL, 0, NULL},
};

typedef struct deploy_args {
    const char *rev, *config, *reports, *ci;
    bool force, help;
    int verbosity;
    long pause_at;
} deploy_args;

static int on_option(void *ud, int id, const char *arg, bg_error *err)
{
    deploy_args *a = ud;
    switch (id) {
    case O_REV: a->rev = arg; return 0;
    case BG_OPT_CONFIG: a->config = arg; return 0;
    case O_FORCE: a->force = true; return 0;
    case O_REPORTS: a->reports = arg; return 0;
    case O_PAUSE_AT:
        if (bg_parse_long(&a->pause_at, arg, 1, 100) != 0)
            return bg_error_set(err, BG_EINVAL, "--pause-at: expected a percentage 1..100, got \"%s\"",
                                arg);
        return 0;
    case BG_OPT_CI: a->ci = arg; return 0;
    case BG_OPT_QUIET: a->verbosity = -1; return 0;
    case BG_OPT_VERBOSE: a->verbosity++; return 0;
    case BG_OPT_HELP: a->help = true; return 0;
    default: return bg_error_set(err, BG_EINVAL, "unhandled option");
    }
}

static int exit_for(bg_deploy_outcome o)
{
    switch (o) {
    case BG_OUTCOME_PROMOTED:
    case BG_OUTCOME_PAUSED:
    case BG_OUTCOME_NOTHING: return BG_EXIT_OK;
    case BG_OUTCOME_GATE_FAILED: return BG_EXIT_GATE_FAILED;
    case BG_OUTCOME_ROLLED_BACK: return BG_EXIT_ROLLED_BACK;
    default: return BG_EXIT_INFRA;
    }
}

int bg_cmd_deploy(int argc, char **argv)
{
    deploy_args a = {0};
    bg_error err = {0};
    bg_config *cfg = NULL;
    char *release_config = NULL;
    int rc = bg_opts_parse(deploy_opts, argc, argv, on_option, &a, NULL, 0, &err);
    if (!rc && a.help) {
        bg_opts_help(stdout, "bg-gate deploy [--rev REV] [--config FILE] [--reports DIR]",
                     "Deploy the release of a commit to the idle pool, wait for it, gate it,\n"
                     "flip traffic through the router, verify, drain; or stop and leave live\n"
                     "traffic untouched. Exit 0 promoted, paused or nothing to deploy, 1 gate failed,\n"
                     "2 input error, 3 infrastructure or interrupted, 4 locked, 5 rolled back.",
                     deploy_opts);
        return BG_EXIT_OK;
    }
    bg_log_set_level(a.verbosity < 0 ? BG_LOG_QUIET : a.verbosity == 0 ? BG_LOG_NORMAL
                                                                      : BG_LOG_VERBOSE);
    if (!rc)
        rc = bg_cli_ci_setup(a.ci, false, &err);
    if (!rc)
        rc = bg_cli_load_config(&cfg, a.config, &err);
    /* the release is read from git at the same config path inside the repository */
    if (!rc && cfg->path)
        rc = bg_cli_repo_relative(&release_config, cfg->path, &err);
    bg_deploy_outcome outcome = BG_OUTCOME_FAILED;
    if (!rc) {
        bg_deploy_opts o = {.rev = a.rev, .release_config = release_config, .force = a.force,
                            .reports_dir = a.reports, .pause_at = (int)a.pause_at};
        rc = bg_deploy_run(&outcome, cfg, &o, &err);
    }
    free(release_config);
    bg_config_free(cfg);
    if (rc) {
        bg_cli_error("deploy", err.msg);
        return bg_cli_exit_for_error(rc);
    }
    return exit_for(outcome);
}
