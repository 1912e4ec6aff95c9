/* cmd_validate.c — `bg-gate validate`: check bg-gate.json (its `release` section with the
 * rules of `resolve`) and every suite it names (or --suite) without sending a request or
 * reading git. Exit 0 valid, 2 with the first error.
 */
#include <stdlib.h>
#include <string.h>

#include "bggate/config.h"
#include "bggate/deploy.h"
#include "bggate/evaluate.h"
#include "bggate/hooks.h"
#include "bggate/json.h"
#include "bggate/log.h"
#include "bggate/pool.h"
#include "bggate/release.h"
#include "bggate/router.h"
#include "bggate/suite.h"
#include "cli.h"

enum { O_SUITE = 1 };

static const bg_opt validate_opts[] = {
    {"config", 'c', "FILE", BG_OPT_CONFIG, "config file (default: ./bg-gate.json if present)"},
    {"suite", 's', "PATH", O_SUITE, "suite file or directory (repeatable; default: gate.suites)"},
    {"json", 0, NULL, BG_OPT_JSON, "print {\"valid\": true|false, \"error\": …} on stdout"},
    {"quiet", 'q', NULL, BG_OPT_QUIET, "only errors"},
    {"help", 'h', NULL, BG_OPT_HELP, "show this help"},
    {NULL, 0, NULL, 0, NULL},
};

typedef struct validate_args {
    const char *config;
    const char *suites[256];
    size_t n_suites;
    bool json, help, quiet;
} validate_args;

static int on_option(void *ud, int id, const char *arg, bg_error *err)
{
    validate_args *a = ud;
    switch (id) {
    case BG_OPT_CONFIG: a->config = arg; return 0;
    case O_SUITE:
        if (a->n_suites >= 256)
            return bg_error_set(err, BG_EINVAL, "too many suites");
        a->suites[a->n_suites++] = arg;
        return 0;
    case BG_OPT_JSON: a->json = true; return 0;
    case BG_OPT_QUIET: a->quiet = true; return 0;
    case BG_OPT_HELP: a->help = true; return 0;
    default: return bg_error_set(err, BG_EINVAL, "unhandled option");
    }
}

static void print_json_verdict(const char *error, size_t n_suites, size_t n_cases)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "valid", error == NULL);
    if (error)
        cJSON_AddStringToObject(o, "error", error);
    else {
        cJSON_AddNumberToObject(o, "suites", (double)n_suites);
        cJSON_AddNumberToObject(o, "cases", (double)n_cases);
    }
    char *s = cJSON_PrintUnformatted(o);
    if (s)
        puts(s);
    free(s);
    cJSON_Delete(o);
}

/* The deploy sections (pools, health, router, promotion, state), when the config has
 * them: parsed exactly as `deploy` parses them, nothing is contacted. */
static int validate_deploy_sections(const bg_config *cfg, bg_error *err)
{
    static const char *const settings[] = {"environment", "promotion", "state", NULL};
    bool any_settings = false;
    for (size_t i = 0; cfg->root && settings[i]; i++)
        any_settings = any_settings || cJSON_HasObjectItem(cfg->root, settings[i]);
    bool pools_or_router = cfg->root && (cJSON_HasObjectItem(cfg->root, "pools") ||
                                         cJSON_HasObjectItem(cfg->root, "router"));
    if (!any_settings && !pools_or_router)
        return 0;
    bg_deploy_settings set;
    bg_pools pools;
    bg_router *router = NULL;
    int rc = bg_deploy_settings_parse(&set, cfg, err);
    if (rc)
        return rc;
    if (!pools_or_router) { /* environment, promotion or state alone */
        bg_deploy_settings_dispose(&set);
        return 0;
    }
    rc = bg_pools_parse(&pools, cfg->root, err);
    if (!rc) {
        rc = bg_router_new(&router, cfg->root, &pools, err);
        bg_router_free(router);
        bg_pools_dispose(&pools);
    }
    if (rc && cfg->path)
        bg_error_prefix(err, "%s", cfg->path);
    bg_deploy_settings_dispose(&set);
    return rc;
}

/* `hooks` and `notify`, parsed exactly as deploy, promote and rollback parse them. */
static int validate_hooks(const bg_config *cfg, bg_error *err)
{
    bg_hooks hooks;
    int rc = bg_hooks_parse(&hooks, cfg, err);
    if (!rc)
        bg_hooks_dispose(&hooks);
    return rc;
}

/* The `release` section with the rules `resolve` applies (release.h), without reading
 * git, then duplicate keys anywhere (cJSON would silently use the first). */
static int validate_document(const bg_config *cfg, bg_error *err)
{
    if (!cfg->root)
        return 0;
    int rc = bg_release_check_section(cfg->root, err); /* its own duplicate messages first */
    if (!rc)
        rc = bg_json_check_duplicates(cfg->root, "", err);
    if (rc && cfg->path)
        bg_error_prefix(err, "%s", cfg->path);
    return rc;
}

int bg_cmd_validate(int argc, char **argv)
{
    validate_args a = {0};
    bg_error err = {0};
    bg_config *cfg = NULL;
    bg_suite **suites = NULL;
    size_t n = 0, cases = 0;
    int rc = bg_opts_parse(validate_opts, argc, argv, on_option, &a, NULL, 0, &err);
    if (!rc && a.help) {
        bg_opts_help(stdout, "bg-gate validate [options]",
                     "Check the config and suites without touching anything.", validate_opts);
        return BG_EXIT_OK;
    }
    if (a.quiet)
        bg_log_set_level(BG_LOG_QUIET);
    if (!rc)
        rc = bg_cli_load_config(&cfg, a.config, &err);
    if (!rc && a.n_suites) {
        for (size_t i = 0; i < cfg->gate.n_suites; i++)
            free(cfg->gate.suites[i]);
        free(cfg->gate.suites);
        cfg->gate.suites = calloc(a.n_suites, sizeof(char *));
        cfg->gate.n_suites = 0;
        for (size_t i = 0; cfg->gate.suites && i < a.n_suites; i++)
            cfg->gate.suites[cfg->gate.n_suites++] = strdup(a.suites[i]);
    }
    if (!rc)
        rc = validate_document(cfg, &err);
    if (!rc)
        rc = validate_deploy_sections(cfg, &err);
    if (!rc)
        rc = validate_hooks(cfg, &err);
    if (!rc)
        rc = bg_eval_load_suites(&suites, &n, &cfg->gate, &err);
    for (size_t i = 0; i < n; i++) {
        cases += suites[i]->n_cases;
        bg_suite_free(suites[i]);
    }
    free(suites);
    bg_config_free(cfg);
    if (a.json)
        print_json_verdict(rc ? err.msg : NULL, n, cases);
    if (rc) {
        bg_log_error("%s", err.msg);
        return bg_cli_exit_for_error(rc);
    }
    bg_log_info("valid: %zu suite(s), %zu case(s)", n, cases);
    return BG_EXIT_OK;
}
