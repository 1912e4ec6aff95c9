/* common.c — steps several commands share: finding and loading the config, loading the
 * suites it names.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/util.h"
#include "cli.h"

int bg_cli_load_config(bg_config **cfg, const char *path, bg_error *err)
{
    if (path)
        return bg_config_load(cfg, path, err);
    if (access(BG_CONFIG_DEFAULT_PATH, F_OK) == 0)
        return bg_config_load(cfg, BG_CONFIG_DEFAULT_PATH, err);
    return bg_config_defaults(cfg, err);
}

/* Loads every suite named by the settings (default: ./evals when it exists). */
int bg_cli_load_suites(bg_suite ***out, size_t *n_out, const bg_gate_config *g, bg_error *err)
{
    char **paths = NULL;
    size_t n = 0;
    int rc = 0;
    const char *fallback[] = {"evals"};
    const char *const *args = g->n_suites ? (const char *const *)g->suites : fallback;
    size_t n_args = g->n_suites ? g->n_suites : 1;
    if (!g->n_suites && !bg_is_dir("evals"))
        return bg_error_set(err, BG_EINVAL, "no suite to run (use --suite FILE or gate.suites)");
    for (size_t i = 0; !rc && i < n_args; i++)
        rc = bg_suite_expand_path(&paths, &n, args[i], err);
    bg_suite **suites = rc ? NULL : calloc(n ? n : 1, sizeof *suites);
    if (!rc && !suites)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    size_t loaded = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        rc = bg_suite_load(&suites[i], paths[i], err);
        if (!rc)
            loaded++;
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    if (rc) {
        for (size_t i = 0; i < loaded; i++)
            bg_suite_free(suites[i]);
        free(suites);
        return rc;
    }
    *out = suites;
    *n_out = n;
    return 0;
}


int bg_cli_repo_relative(char **out, const char *path, bg_error *err)
{
    char real[PATH_MAX], probe[PATH_MAX + 8];
    if (!realpath(path, real))
        return bg_error_set(err, BG_EINVAL, "%s: No such file or directory", path);
    size_t len = strlen(real);
    /* walk up from the file's directory to the first one holding .git (dir or file) */
    for (size_t cut = len; cut > 0;) {
        while (cut > 0 && real[cut - 1] != '/')
            cut--;
        if (cut == 0)
            break;
        snprintf(probe, sizeof probe, "%.*s.git", (int)cut, real);
        if (access(probe, F_OK) == 0) {
            *out = bg_strdup(real + cut);
            return *out ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
        }
        cut--; /* step over the '/' */
    }
    return bg_error_set(err, BG_EINVAL, "%s: not inside a git repository", path);
}
