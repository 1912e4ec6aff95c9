/* common.c — steps several commands share: finding and loading the config, and
 * locating a file inside its git repository.
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
