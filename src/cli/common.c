/* common.c — steps several commands share: finding and loading the config, locating a
 * file inside its git repository, the CI output mode and error reporting.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/ci.h"
#include "bggate/log.h"
#include "bggate/util.h"
#include "cli.h"

int bg_cli_ci_setup(const char *mode, bool json_on_stdout, bg_error *err)
{
    bg_ci_mode m = bg_ci_detect();
    if (mode && bg_ci_parse(&m, mode, err) < 0)
        return BG_EINVAL;
    bg_ci_set(m, json_on_stdout);
    return 0;
}

void bg_cli_error(const char *command, const char *msg)
{
    char title[64];
    bg_log_error("%s", msg);
    snprintf(title, sizeof title, "bg-gate %s", command);
    bg_ci_annotate(BG_CI_ERROR, NULL, 0, title, msg);
}

int bg_cli_load_config(bg_config **cfg, const char *path, bg_error *err)
{
    if (path)
        return bg_config_load(cfg, path, err);
    if (access(BG_CONFIG_DEFAULT_PATH, F_OK) == 0)
        return bg_config_load(cfg, BG_CONFIG_DEFAULT_PATH, err);
    return bg_config_defaults(cfg, err);
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
