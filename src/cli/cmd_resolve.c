/* cmd_resolve.c — `bg-gate resolve`: print the release of a commit (model pin, templates,
 * serving arguments, suites, release id), optionally what changed against another
 * revision, and export its bundle.
 *
 * Everything is read from git objects (libgit2), never from the working tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/deploy.h"
#include "bggate/log.h"
#include "bggate/release.h"
#include "bggate/state.h"
#include "bggate/util.h"
#include "cli.h"

enum { O_REV = 1, O_AGAINST, O_EXPORT };

static const bg_opt resolve_opts[] = {
    {"rev", 'r', "REV", O_REV, "revision to resolve (default: $GITHUB_SHA, $CI_COMMIT_SHA, HEAD)"},
    {"config", 'c', "PATH", BG_OPT_CONFIG,
     "config path from the repository root (default bg-gate.json); with \"..\" or absolute: from "
     "the current directory"},
    {"against", 'a', "REV", O_AGAINST,
     "say what changed since REV, or since the live release (\"live\")"},
    {"export", 0, "DIR", O_EXPORT, "write the release bundle to DIR/<release-id>/"},
    {"json", 0, NULL, BG_OPT_JSON, "machine-readable output on stdout"},
    {"quiet", 'q', NULL, BG_OPT_QUIET, "only errors"},
    {"help", 'h', NULL, BG_OPT_HELP, "show this help"},
    {NULL, 0, NULL, 0, NULL},
};

typedef struct resolve_args {
    const char *rev, *config, *against, *export_dir;
    bool json, quiet, help;
} resolve_args;

static int on_option(void *ud, int id, const char *arg, bg_error *err)
{
    resolve_args *a = ud;
    switch (id) {
    case O_REV: a->rev = arg; return 0;
    case BG_OPT_CONFIG: a->config = arg; return 0;
    case O_AGAINST: a->against = arg; return 0;
    case O_EXPORT: a->export_dir = arg; return 0;
    case BG_OPT_JSON: a->json = true; return 0;
    case BG_OPT_QUIET: a->quiet = true; return 0;
    case BG_OPT_HELP: a->help = true; return 0;
    default: return bg_error_set(err, BG_EINVAL, "unhandled option");
    }
}

static void print_release(FILE *f, const bg_release *r)
{
    fprintf(f, "commit     %s\n", r->commit);
    fprintf(f, "release    %.*s  (%s)\n", BG_RELEASE_ID_SHORT, r->id, r->id);
    fprintf(f, "model      %s", r->model_name);
    if (r->model_revision)
        fprintf(f, " @ %s", r->model_revision);
    fprintf(f, "  (served as %s)\n", r->served_name);
    for (size_t i = 0; i < r->n_templates; i++) {
        const bg_template *t = &r->templates[i];
        fprintf(f, "%s %-12s %-24s blob %.12s  %zu bytes\n", i ? "          " : "templates ",
                t->name, t->path, t->oid, t->size);
    }
    if (!r->n_templates)
        fprintf(f, "templates  (none)\n");
    fprintf(f, "serving    args:");
    for (size_t i = 0; i < r->n_serving_args; i++)
        fprintf(f, " %s", r->serving_args[i]);
    fprintf(f, "%s  env:", r->n_serving_args ? "" : " (none)");
    for (size_t i = 0; i < r->n_env; i++)
        fprintf(f, " %s=%s", r->env_keys[i], r->env_values[i]);
    fprintf(f, "%s\n", r->n_env ? "" : " (none)");
    fprintf(f, "suites    ");
    for (size_t i = 0; i < r->n_suites; i++)
        fprintf(f, " %s", r->suites[i]);
    fprintf(f, "%s\n", r->n_suites ? "" : " (none)");
}

static void print_names(FILE *f, const char *what, char **names, size_t n)
{
    if (!n)
        return;
    fprintf(f, "  templates %s:", what);
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %s", names[i]);
    fputc('\n', f);
}

static int print_diff(FILE *f, const bg_release *from, const bg_release_diff *d, bg_error *err)
{
    fprintf(f, "\nagainst    %.12s (release %.*s)\n", from->commit, BG_RELEASE_ID_SHORT, from->id);
    if (bg_release_diff_is_empty(d)) {
        fprintf(f, "nothing to deploy: model, templates and serving are unchanged%s\n",
                d->suites ? " (only the eval suites changed)" : "");
        return 0;
    }
    fprintf(f, "changed:\n");
    if (d->model)
        fprintf(f, "  model\n");
    print_names(f, "added", d->templates_added, d->n_added);
    print_names(f, "removed", d->templates_removed, d->n_removed);
    print_names(f, "changed", d->templates_changed, d->n_changed);
    if (d->serving)
        fprintf(f, "  serving arguments/environment\n");
    if (d->suites)
        fprintf(f, "  eval suites\n");
    char **lines = NULL;
    size_t n = 0;
    int rc = bg_release_diff_advice(&lines, &n, d);
    if (rc)
        return bg_error_set(err, rc, "out of memory");
    if (n)
        fprintf(f, "caches:\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "  - %s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    return 0;
}

static int print_json(const bg_release *r, const bg_release *from, const bg_release_diff *d,
                      const char *bundle)
{
    cJSON *o = bg_release_to_json(r);
    if (!o)
        return BG_ENOMEM;
    if (from) {
        cJSON *against = cJSON_AddObjectToObject(o, "against");
        cJSON_AddStringToObject(against, "commit", from->commit);
        cJSON_AddStringToObject(against, "release_id", from->id);
        cJSON_AddItemToObject(o, "diff", bg_release_diff_to_json(d));
    }
    if (bundle)
        cJSON_AddStringToObject(o, "bundle", bundle);
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s)
        return BG_ENOMEM;
    puts(s);
    free(s);
    return 0;
}

/* What the state the working tree's config points at records for the live pool: its
 * commit and the manifest of its bundle (<state.dir>/bundles/<release id>/release.json). */
static int live_pool(char **commit, char **manifest, const bg_release *rel, bg_error *err)
{
    char *path = bg_asprintf("%s/%s", rel->repo_root, rel->config_path);
    char *state_path = NULL;
    bg_config *cfg = NULL;
    bg_state *st = NULL;
    bg_deploy_settings set;
    bool have_set = false;
    int rc = path ? bg_config_load(&cfg, path, err) : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc && !(rc = bg_deploy_settings_parse(&set, cfg, err))) {
        have_set = true;
        state_path = bg_asprintf("%s/%s.json", set.state_dir, set.environment);
        rc = state_path ? bg_state_load(&st, state_path, set.environment, err)
                        : bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    if (!rc && (st->live < 0 || !st->pool[st->live].commit))
        rc = bg_error_set(err, BG_EINVAL, "no live release recorded in %s yet", state_path);
    if (!rc && (!(*commit = bg_strdup(st->pool[st->live].commit)) ||
                !(*manifest = bg_asprintf(
                      "%s/bundles/%s/release.json", set.state_dir,
                      st->pool[st->live].release_id ? st->pool[st->live].release_id : "-"))))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (rc)
        bg_error_prefix(err, "--against live");
    if (have_set)
        bg_deploy_settings_dispose(&set);
    bg_state_free(st);
    bg_config_free(cfg);
    free(state_path);
    free(path);
    return rc;
}

/* The live release: resolved from git at its commit; when that commit is not in this
 * clone (a shallow CI checkout), read from the live bundle's manifest instead, which
 * holds everything the diff needs. */
static int live_release(bg_release **from, const bg_release *rel, const char *config, bg_error *err)
{
    char *commit = NULL, *manifest = NULL;
    int rc = live_pool(&commit, &manifest, rel, err);
    if (!rc && (rc = bg_release_resolve(from, NULL, commit, config, err)) == BG_EINVAL &&
        access(manifest, F_OK) == 0) {
        bg_log_info("live commit %.12s: %s; using the live bundle %s", commit, err->msg, manifest);
        bg_error_clear(err);
        rc = bg_release_from_manifest(from, manifest, err);
        if (!rc && strcmp((*from)->commit, commit) != 0)
            bg_log_info("the live bundle was first built by commit %.12s (same release)",
                        (*from)->commit);
    }
    if (rc)
        bg_error_prefix(err, "--against live");
    free(commit);
    free(manifest);
    return rc;
}

static int run_resolve(const resolve_args *a, bg_error *err)
{
    bg_release *rel = NULL, *from = NULL;
    bg_release_diff diff;
    memset(&diff, 0, sizeof diff);
    char *bundle = NULL;
    const char *rev = a->rev ? a->rev : bg_release_default_rev();
    int rc = bg_release_resolve(&rel, NULL, rev, a->config, err);
    if (!rc && a->against && strcmp(a->against, "live") == 0) {
        rc = live_release(&from, rel, a->config, err);
    } else if (!rc && a->against) {
        rc = bg_release_resolve(&from, NULL, a->against, a->config, err);
        if (rc)
            bg_error_prefix(err, "--against %s", a->against);
    }
    if (!rc && from)
        rc = bg_release_diff_compute(&diff, from, rel, err);
    if (!rc && a->export_dir)
        rc = bg_release_export(rel, a->export_dir, &bundle, err);
    if (rc)
        goto cleanup;
    if (a->json) {
        rc = print_json(rel, from, &diff, bundle);
        if (rc)
            bg_error_set(err, rc, "out of memory");
    } else if (!a->quiet) {
        print_release(stdout, rel);
        if (from)
            rc = print_diff(stdout, from, &diff, err);
        if (bundle)
            printf("bundle     %s\n", bundle);
    }
cleanup:
    if (from)
        bg_release_diff_dispose(&diff);
    free(bundle);
    bg_release_free(rel);
    bg_release_free(from);
    return rc;
}

int bg_cmd_resolve(int argc, char **argv)
{
    resolve_args a = {0};
    bg_error err = {0};
    int rc = bg_opts_parse(resolve_opts, argc, argv, on_option, &a, NULL, 0, &err);
    if (!rc && a.help) {
        bg_opts_help(stdout, "bg-gate resolve [--rev REV] [--against REV] [--export DIR] [--json]",
                     "Print the release of a commit — model pin, prompt templates, serving\n"
                     "arguments, eval suites and release id — read from git, not the working tree.\n"
                     "With --against, say what changed and what that means for caches.",
                     resolve_opts);
        return BG_EXIT_OK;
    }
    if (a.quiet)
        bg_log_set_level(BG_LOG_QUIET);
    if (!rc && a.export_dir && !*a.export_dir)
        rc = bg_error_set(&err, BG_EINVAL,
                          "--export: empty path (give the directory that "
                          "holds the bundles)");
    if (!rc && a.config && !*a.config)
        rc = bg_error_set(&err, BG_EINVAL, "--config: empty path");
    if (!rc)
        rc = run_resolve(&a, &err);
    if (rc) {
        bg_log_error("%s", err.msg);
        return bg_cli_exit_for_error(rc);
    }
    return BG_EXIT_OK;
}
