/* settings.c — the deploy settings of bg-gate.json: `environment`, `state`, `promotion`
 * (see deploy.h). Errors carry the JSON path.
 */
#include <stdlib.h>
#include <string.h>

#include "bggate/deploy.h"
#include "bggate/json.h"
#include "bggate/util.h"

#define DEFAULT_STATE_DIR "/var/lib/bg-gate"

static const char *const promotion_keys[] = {
    "strategy",     "verify_requests", "warmup_requests", "drain_timeout_s",
    "drain_metric", "keep_warm_s",     "on_gate_fail",    NULL};
static const char *const state_keys[] = {"dir", NULL};

void bg_deploy_settings_dispose(bg_deploy_settings *s)
{
    if (!s)
        return;
    free(s->environment);
    free(s->state_dir);
    free(s->drain_metric);
    memset(s, 0, sizeof *s);
}

static int parse_state(bg_deploy_settings *s, const bg_config *cfg, bg_error *err)
{
    const cJSON *st = cfg->root ? cJSON_GetObjectItemCaseSensitive(cfg->root, "state") : NULL;
    const char *dir = NULL;
    if (st) {
        if (!cJSON_IsObject(st))
            return bg_error_set(err, BG_EINVAL, "state: expected an object, got %s",
                                bg_json_type_name(st));
        int rc = bg_json_check_keys(st, state_keys, "state", err);
        if (!rc)
            rc = bg_json_get_string(&dir, st, "dir", "state", false, err);
        if (rc)
            return rc;
    }
    if (!dir)
        s->state_dir = bg_strdup(DEFAULT_STATE_DIR);
    else if (dir[0] == '/' || !cfg->dir || strcmp(cfg->dir, ".") == 0)
        s->state_dir = bg_strdup(dir);
    else
        s->state_dir = bg_asprintf("%s/%s", cfg->dir, dir);
    return s->state_dir ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int parse_promotion(bg_deploy_settings *s, const cJSON *p, bg_error *err)
{
    if (!cJSON_IsObject(p))
        return bg_error_set(err, BG_EINVAL, "promotion: expected an object, got %s",
                            bg_json_type_name(p));
    const char *strategy = NULL, *on_fail = NULL, *metric = NULL;
    int rc = bg_json_check_keys(p, promotion_keys, "promotion", err);
    if (!rc)
        rc = bg_json_get_string(&strategy, p, "strategy", "promotion", false, err);
    if (!rc && strategy && strcmp(strategy, "flip") != 0)
        rc = bg_error_set(err, BG_EINVAL,
                          "promotion.strategy: \"%s\" is not supported by this version "
                          "(supported: \"flip\")",
                          strategy);
    if (!rc)
        rc = bg_json_get_long(&s->verify_requests, p, "verify_requests", "promotion", 1, 1000,
                              false, err);
    if (!rc)
        rc = bg_json_get_long(&s->warmup_requests, p, "warmup_requests", "promotion", 0, 1000,
                              false, err);
    if (!rc)
        rc = bg_json_get_long(&s->drain_timeout_s, p, "drain_timeout_s", "promotion", 0, 86400,
                              false, err);
    if (!rc)
        rc = bg_json_get_long(&s->keep_warm_s, p, "keep_warm_s", "promotion", 0, 31L * 86400,
                              false, err);
    if (!rc)
        rc = bg_json_get_string(&metric, p, "drain_metric", "promotion", false, err);
    if (!rc && metric && !(s->drain_metric = bg_strdup(metric)))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc)
        rc = bg_json_get_string(&on_fail, p, "on_gate_fail", "promotion", false, err);
    if (!rc && on_fail) {
        if (strcmp(on_fail, "restore") == 0)
            s->on_gate_fail = BG_ON_FAIL_RESTORE;
        else if (strcmp(on_fail, "stop") == 0)
            s->on_gate_fail = BG_ON_FAIL_STOP;
        else if (strcmp(on_fail, "keep") == 0)
            s->on_gate_fail = BG_ON_FAIL_KEEP;
        else
            rc = bg_error_set(err, BG_EINVAL,
                              "promotion.on_gate_fail: expected \"restore\", \"stop\" or "
                              "\"keep\", got \"%s\"",
                              on_fail);
    }
    return rc;
}

int bg_deploy_settings_parse(bg_deploy_settings *out, const bg_config *cfg, bg_error *err)
{
    bg_deploy_settings s = {
        .verify_requests = 5,
        .warmup_requests = 2,
        .drain_timeout_s = 120,
        .keep_warm_s = 86400,
        .on_gate_fail = BG_ON_FAIL_RESTORE,
    };
    const char *env = NULL;
    int rc = 0;
    if (cfg->root)
        rc = bg_json_get_string(&env, cfg->root, "environment", "", false, err);
    if (!rc && env && (!*env || strpbrk(env, "/\\ \t\n")))
        rc = bg_error_set(err, BG_EINVAL,
                          "environment: \"%s\" must be a non-empty name without '/' or spaces",
                          env);
    if (!rc && !(s.environment = bg_strdup(env ? env : "default")))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc)
        rc = parse_state(&s, cfg, err);
    const cJSON *p = cfg->root ? cJSON_GetObjectItemCaseSensitive(cfg->root, "promotion") : NULL;
    if (!rc && p)
        rc = parse_promotion(&s, p, err);
    if (rc) {
        bg_deploy_settings_dispose(&s);
        if (cfg->path)
            bg_error_prefix(err, "%s", cfg->path);
        return rc;
    }
    *out = s;
    return 0;
}
