/* static.c — the "static" pool driver: pools managed outside bg-gate (a fleet someone
 * else rolls out). Deploy and stop do nothing; bg-gate only waits for health, gates and
 * moves traffic. A pool without a "deploy" section uses it.
 */
#include "pool_driver.h"

static const char *const static_keys[] = {NULL};

static int static_parse(bg_pool_config *out, const cJSON *deploy, const char *path,
                        bg_error *err)
{
    (void)out;
    (void)deploy;
    (void)path;
    (void)err;
    return 0;
}

static int static_deploy(const bg_pool_config *pool, const bg_release *rel,
                         const char *bundle_dir, bg_error *err)
{
    (void)pool;
    (void)rel;
    (void)bundle_dir;
    (void)err;
    return 0;
}

static int static_stop(const bg_pool_config *pool, const bg_release *rel, bg_error *err)
{
    (void)pool;
    (void)rel;
    (void)err;
    return 0;
}

const bg_pool_driver bg_pool_driver_static = {
    .name = "static",
    .deploy_keys = static_keys,
    .has_stop_argv = false,
    .parse = static_parse,
    .deploy = static_deploy,
    .stop = static_stop,
};
