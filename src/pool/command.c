/* command.c — the "command" pool driver: deploys and stops a pool by running the argv
 * from the config (posix_spawnp through bg_spawn_stream, never a shell).
 *
 * The release reaches the command only as environment variables (BG_POOL,
 * BG_RELEASE_ID, BG_RELEASE_DIR, BG_MODEL, BG_MODEL_REVISION, BG_SERVED_MODEL,
 * BG_COMMIT) on top of the pool's own "env", so model names and paths are never
 * interpolated into a command line. Output is streamed to the log as "[green] …".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/json.h"
#include "bggate/spawn.h"
#include "bggate/util.h"
#include "pool_driver.h"

static const char *const command_keys[] = {"argv", "env", "timeout_s", NULL};

/* Names bg-gate sets itself; the pool's env may not override them. */
static const char *const reserved_env[] = {"BG_POOL",         "BG_RELEASE_ID", "BG_RELEASE_DIR",
                                           "BG_MODEL",        "BG_MODEL_REVISION",
                                           "BG_SERVED_MODEL", "BG_COMMIT",     NULL};
#define N_RELEASE_ENV 7

static bool is_reserved(const char *name)
{
    for (size_t i = 0; reserved_env[i]; i++)
        if (strcmp(reserved_env[i], name) == 0)
            return true;
    return false;
}

static int check_env_name(const char *name, const char *path, bg_error *err)
{
    if (!*name || strchr(name, '='))
        return bg_error_set(err, BG_EINVAL, "%s.env: \"%s\" is not a variable name", path, name);
    if (is_reserved(name))
        return bg_error_set(err, BG_EINVAL, "%s.env.%s: reserved (bg-gate sets it)", path, name);
    return 0;
}

/* env: {"K": "V"} → NULL-terminated "K=V" vector. */
static int parse_env(char ***out, const cJSON *deploy, const char *path, bg_error *err)
{
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(deploy, "env");
    if (!env)
        return 0;
    if (!cJSON_IsObject(env))
        return bg_error_set(err, BG_EINVAL, "%s.env: expected an object of strings, got %s", path,
                            bg_json_type_name(env));
    char **v = calloc((size_t)cJSON_GetArraySize(env) + 1, sizeof *v);
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    size_t n = 0;
    int rc = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, env)
    {
        if ((rc = check_env_name(it->string, path, err)) < 0)
            break;
        if (!cJSON_IsString(it)) {
            rc = bg_error_set(err, BG_EINVAL, "%s.env.%s: expected a string, got %s", path,
                              it->string, bg_json_type_name(it));
            break;
        }
        if (!(v[n++] = bg_asprintf("%s=%s", it->string, it->valuestring))) {
            rc = bg_error_set(err, BG_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc < 0)
        bg_pool_strv_free(v);
    else
        *out = v;
    return rc;
}

static int command_parse(bg_pool_config *out, const cJSON *deploy, const char *path,
                         bg_error *err)
{
    int rc = bg_pool_parse_argv(&out->deploy_argv, deploy, "argv", path, true, err);
    if (!rc)
        rc = parse_env(&out->env, deploy, path, err);
    if (!rc)
        rc = bg_json_get_long(&out->deploy_timeout_s, deploy, "timeout_s", path, 1, 604800L,
                              false, err);
    return rc;
}

/* The child's extra environment: the pool's env, then the release's variables (empty
 * when rel is NULL). */
static int build_env(char ***out, const bg_pool_config *pool, const bg_release *rel,
                     const char *bundle_dir)
{
    static const bg_release no_release; /* stop without a known release: empty values */
    size_t n_pool = 0;
    if (!rel)
        rel = &no_release;
    while (pool->env && pool->env[n_pool])
        n_pool++;
    char **v = calloc(n_pool + N_RELEASE_ENV + 1, sizeof *v);
    if (!v)
        return BG_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < n_pool; i++)
        v[n++] = bg_strdup(pool->env[i]);
    const char *served = rel->served_name ? rel->served_name : rel->model_name;
    v[n++] = bg_asprintf("BG_POOL=%s", bg_pool_name(pool->id));
    v[n++] = bg_asprintf("BG_RELEASE_ID=%s", rel->id);
    v[n++] = bg_asprintf("BG_RELEASE_DIR=%s", bundle_dir ? bundle_dir : "");
    v[n++] = bg_asprintf("BG_MODEL=%s", rel->model_name ? rel->model_name : "");
    v[n++] = bg_asprintf("BG_MODEL_REVISION=%s", rel->model_revision ? rel->model_revision : "");
    v[n++] = bg_asprintf("BG_SERVED_MODEL=%s", served ? served : "");
    v[n++] = bg_asprintf("BG_COMMIT=%s", rel->commit);
    for (size_t i = 0; i < n; i++) {
        if (!v[i]) {
            for (size_t j = 0; j < n; j++)
                free(v[j]);
            free(v);
            return BG_ENOMEM;
        }
    }
    *out = v;
    return 0;
}

/* Runs one of the pool's commands ("deploy" or "stop") with the release environment. */
static int run_pool_command(const bg_pool_config *pool, char *const *argv, long timeout_s,
                            const char *what, const bg_release *rel, const char *bundle_dir,
                            bg_error *err)
{
    char **env = NULL;
    char prefix[16];
    char last_line[BG_SPAWN_LAST_LINE_MAX] = "";
    int exit_code = -1;
    const char *name = bg_pool_name(pool->id);
    int rc = build_env(&env, pool, rel, bundle_dir);
    if (rc < 0) {
        bg_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    snprintf(prefix, sizeof prefix, "[%s] ", name);
    rc = bg_spawn_stream((const char *const *)argv, (const char *const *)env, timeout_s * 1000,
                         prefix, last_line, &exit_code, err);
    if (rc < 0) {
        bg_error_prefix(err, "pools.%s: %s command", name, what);
        goto cleanup;
    }
    if (exit_code != 0 && last_line[0])
        rc = bg_error_set(err, BG_EIO, "pools.%s: %s command exited %d: %s", name, what,
                          exit_code, last_line);
    else if (exit_code != 0)
        rc = bg_error_set(err, BG_EIO, "pools.%s: %s command exited %d", name, what, exit_code);
cleanup:
    bg_pool_strv_free(env);
    return rc;
}

static int command_deploy(const bg_pool_config *pool, const bg_release *rel,
                          const char *bundle_dir, bg_error *err)
{
    if (!pool->deploy_argv)
        return bg_error_set(err, BG_EINVAL, "pools.%s.deploy.argv: missing",
                            bg_pool_name(pool->id));
    return run_pool_command(pool, pool->deploy_argv, pool->deploy_timeout_s, "deploy", rel,
                            bundle_dir, err);
}

static int command_stop(const bg_pool_config *pool, const bg_release *rel, bg_error *err)
{
    if (!pool->stop_argv)
        return 0;
    return run_pool_command(pool, pool->stop_argv, pool->stop_timeout_s, "stop", rel, NULL, err);
}

const bg_pool_driver bg_pool_driver_command = {
    .name = "command",
    .deploy_keys = command_keys,
    .has_stop_argv = true,
    .parse = command_parse,
    .deploy = command_deploy,
    .stop = command_stop,
};
