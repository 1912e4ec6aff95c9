/* cli.h — private to src/cli: the option-table parser shared by every command, the
 * command entry points, and the one place error codes become exit codes.
 */
#ifndef BGGATE_CLI_H
#define BGGATE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "bggate/config.h"
#include "bggate/error.h"
#include "bggate/suite.h"

/* Exit codes (stable; documented in README.md). */
enum {
    BG_EXIT_OK = 0,
    BG_EXIT_GATE_FAILED = 1,
    BG_EXIT_USAGE = 2,
    BG_EXIT_INFRA = 3,
    BG_EXIT_LOCKED = 4,
    BG_EXIT_ROLLED_BACK = 5
};

/* Maps a negative BG_E* code to an exit code. */
int bg_cli_exit_for_error(int code);

/* One row of a command's option table; the same table prints --help. */
typedef struct bg_opt {
    const char *name;   /* long name without "--" */
    char short_name;    /* 0 for none */
    const char *arg;    /* argument name for help ("URL"); NULL for a flag */
    int id;             /* passed to the handler */
    const char *help;   /* one line */
} bg_opt;

/* Called per option; arg is NULL for flags. Non-zero stops parsing. */
typedef int (*bg_opt_fn)(void *ud, int id, const char *arg, bg_error *err);

/* Parses argv (after the command name). Positional arguments are an error unless
 * `positional` is non-NULL, where they are stored (up to max_positional). */
int bg_opts_parse(const bg_opt *table, int argc, char **argv, bg_opt_fn fn, void *ud,
                  const char **positional, int max_positional, bg_error *err);
void bg_opts_help(FILE *f, const char *usage, const char *summary, const bg_opt *table);

/* Common options every command takes. */
enum { BG_OPT_HELP = 1000, BG_OPT_QUIET, BG_OPT_VERBOSE, BG_OPT_JSON, BG_OPT_CONFIG, BG_OPT_CI };
#define BG_CLI_CI_HELP "CI output: auto (default), github, gitlab or off"

/* Sets the CI output mode (ci.h) from --ci MODE, or detects it when mode is NULL.
 * `json_on_stdout`: stdout carries a result, so workflow commands go to stderr. */
int bg_cli_ci_setup(const char *mode, bool json_on_stdout, bg_error *err);
/* Prints a command's error ("error: …"), and on GitHub also as an annotation titled
 * "bg-gate <command>" so it shows on the run's summary page. */
void bg_cli_error(const char *command, const char *msg);

/* Loads `path`, else ./bg-gate.json when it exists, else built-in defaults. */
int bg_cli_load_config(bg_config **cfg, const char *path, bg_error *err);
/* Converts a file-system path to its path inside the enclosing git repository (the
 * nearest parent directory holding a .git entry). Caller frees. */
int bg_cli_repo_relative(char **out, const char *path, bg_error *err);

int bg_cmd_eval(int argc, char **argv);
int bg_cmd_validate(int argc, char **argv);
int bg_cmd_resolve(int argc, char **argv);
int bg_cmd_deploy(int argc, char **argv);
int bg_cmd_status(int argc, char **argv);
int bg_cmd_rollback(int argc, char **argv);
int bg_cmd_promote(int argc, char **argv);
int bg_cmd_abort(int argc, char **argv);
int bg_cmd_decommission(int argc, char **argv);

#endif
