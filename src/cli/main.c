/* main.c — bg-gate's entry point: global flags, the command table, and the mapping from
 * error codes to exit codes (the only place that mapping lives).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "bggate/cancel.h"
#include "bggate/version.h"
#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"eval", bg_cmd_eval, "run golden suites against endpoints; reports; exit 0 passed, 1 failed"},
    {"resolve", bg_cmd_resolve, "print the release of a commit (model, templates, release id)"},
    {"deploy", bg_cmd_deploy, "deploy a release to the idle pool, gate it, flip traffic"},
    {"status", bg_cmd_status, "router weights, releases per pool, unfinished deploys"},
    {"rollback", bg_cmd_rollback, "flip back to the warm previous pool (seconds)"},
    {"promote", bg_cmd_promote, "flip to the idle pool by hand"},
    {"abort", bg_cmd_abort, "undo an unfinished deploy (restore its starting weights)"},
    {"decommission", bg_cmd_decommission, "stop the old pool after its keep-warm window"},
    {"validate", bg_cmd_validate, "check bg-gate.json and suites without sending anything"},
    {NULL, NULL, NULL},
};

int bg_cli_exit_for_error(int code)
{
    switch (code) {
    case BG_OK: return BG_EXIT_OK;
    case BG_EINVAL:
    case BG_ETOOBIG: return BG_EXIT_USAGE;
    case BG_ELOCKED: return BG_EXIT_LOCKED;
    default: return BG_EXIT_INFRA; /* network, timeouts, i/o, protocol, memory */
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bg-gate <command> [options]\n\n"
               "Gate LLM releases with golden-prompt evals before they take traffic.\n\n"
               "commands:\n");
    for (const command *c = commands; c->name; c++)
        fprintf(f, "  %-13s %s\n", c->name, c->summary);
    fprintf(f, "\nRun 'bg-gate <command> --help' for a command's options.\n"
               "Exit codes: 0 ok, 1 gate failed, 2 usage or input error, 3 infrastructure,\n"
               "4 locked, 5 rolled back.\n");
}

static void version(void)
{
    curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    printf("bg-gate %s (libcurl %s)\n", BG_VERSION, v ? v->version : "?");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return BG_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return BG_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        version();
        return BG_EXIT_OK;
    }
    for (const command *c = commands; c->name; c++) {
        if (strcmp(c->name, name) != 0)
            continue;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "error: libcurl could not be initialised\n");
            return BG_EXIT_INFRA;
        }
        /* SIGINT/SIGTERM (a cancelled CI job) stop long waits cleanly instead of killing
         * us mid-change; commands map the result to exit 3 */
        bg_cancel_install();
        int rc = c->run(argc - 2, argv + 2);
        curl_global_cleanup();
        return rc;
    }
    fprintf(stderr, "error: unknown command \"%s\"\n\n", name);
    usage(stderr);
    return BG_EXIT_USAGE;
}
