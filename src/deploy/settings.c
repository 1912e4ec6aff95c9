/* settings.c — the deploy settings of bg-gate.json: `environment`, `state`, `promotion`
 * (see deploy.h). Errors carry the JSON path.
 *
 * Also the rule that makes a silent switch impossible: a config with pools and a router
 * must say how a flip is verified — `router.endpoint` always, `router.upstream_header`
 * unless `promotion.verify` is "model-only" — and a `promotion.verify_suite` must load.
 * Every lifecycle command and `validate` parse these settings first, so a config that
 * cannot prove where traffic went is refused before any pool or router is touched.
 */
#include <stdlib.h>
#include <string.h>

#include "bggate/analysis.h"
#include "bggate/deploy.h"
#include "bggate/evaluate.h"
#include "bggate/json.h"
#include "bggate/util.h"
#include "deploy_internal.h"

#define DEFAULT_STATE_DIR "/var/lib/bg-gate"

static const char *const promotion_keys[] = {
    "strategy",     "verify_requests", "warmup_requests", "drain_timeout_s",
    "drain_metric", "keep_warm_s",     "on_gate_fail",    "steps",
    "bake_s",       "analysis",        "probes",          "verify",
    "verify_suite", NULL};
static const char *const probes_keys[] = {"suite", "rate", NULL};
static const char *const canary_only_keys[] = {"steps", "bake_s", "analysis", "probes", NULL};
static const int default_steps[] = {1, 25, 75, 100};
static const char *const state_keys[] = {"dir", NULL};

void bg_deploy_settings_dispose(bg_deploy_settings *s)
{
    if (!s)
        return;
    free(s->environment);
    free(s->state_dir);
    free(s->drain_metric);
    free(s->probe_suite);
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

/* "steps": whole percentages on the new pool, strictly rising, the last one 100. */
static int parse_steps(bg_deploy_settings *s, const cJSON *p, bg_error *err)
{
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(p, "steps");
    if (!steps)
        return 0;
    int n = cJSON_GetArraySize(steps);
    if (!cJSON_IsArray(steps) || n == 0 || n > BG_RAMP_MAX_STEPS)
        return bg_error_set(err, BG_EINVAL,
                            "promotion.steps: expected 1 to %d percentages, e.g. [1, 25, 75, "
                            "100]",
                            BG_RAMP_MAX_STEPS);
    int i = 0, prev = 0;
    for (const cJSON *it = steps->child; it; it = it->next, i++) {
        double v = cJSON_IsNumber(it) ? it->valuedouble : -1;
        if (v != (int)v || v < 1 || v > 100)
            return bg_error_set(err, BG_EINVAL,
                                "promotion.steps[%d]: expected a whole percentage 1..100", i);
        if ((int)v <= prev)
            return bg_error_set(err, BG_EINVAL,
                                "promotion.steps[%d]: %d is not above the step before (%d)", i,
                                (int)v, prev);
        s->steps[i] = prev = (int)v;
    }
    if (prev != 100)
        return bg_error_set(err, BG_EINVAL,
                            "promotion.steps: the last step must be 100 (got %d)", prev);
    s->n_steps = (size_t)n;
    return 0;
}

static int parse_probes(bg_deploy_settings *s, const cJSON *p, bg_error *err)
{
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(p, "probes");
    const char *suite = NULL;
    if (!pr)
        return 0;
    if (!cJSON_IsObject(pr))
        return bg_error_set(err, BG_EINVAL, "promotion.probes: expected an object, got %s",
                            bg_json_type_name(pr));
    int rc = bg_json_check_keys(pr, probes_keys, "promotion.probes", err);
    if (!rc)
        rc = bg_json_get_string(&suite, pr, "suite", "promotion.probes", true, err);
    if (!rc)
        rc = bg_json_get_double(&s->probe_rate, pr, "rate", "promotion.probes", 0.01, 1000,
                                false, err);
    if (!rc && !(s->probe_suite = bg_strdup(suite)))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    return rc;
}

static int parse_strategy(bg_deploy_settings *s, const cJSON *p, bg_error *err)
{
    const char *strategy = NULL;
    int rc = bg_json_get_string(&strategy, p, "strategy", "promotion", false, err);
    if (rc || !strategy || strcmp(strategy, "flip") == 0) {
        for (size_t i = 0; !rc && canary_only_keys[i]; i++)
            if (cJSON_GetObjectItemCaseSensitive(p, canary_only_keys[i]))
                rc = bg_error_set(err, BG_EINVAL,
                                  "promotion.%s: only used with \"strategy\": \"canary\"",
                                  canary_only_keys[i]);
        return rc;
    }
    if (strcmp(strategy, "canary") != 0)
        return bg_error_set(err, BG_EINVAL,
                            "promotion.strategy: expected \"flip\" or \"canary\", got \"%s\"",
                            strategy);
    s->strategy = BG_STRATEGY_CANARY;
    rc = parse_steps(s, p, err);
    if (!rc)
        rc = bg_json_get_long(&s->bake_s, p, "bake_s", "promotion", 0, 7L * 86400, false, err);
    if (!rc)
        rc = parse_probes(s, p, err);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "analysis");
    if (!rc && a) {
        /* checked now, so a typo stops the deploy before any pool is touched */
        bg_analysis_config check;
        rc = bg_analysis_config_parse(&check, a, "promotion.analysis", err);
        if (!rc)
            bg_analysis_config_dispose(&check);
    }
    s->analysis = a;
    return rc;
}

static int parse_promotion(bg_deploy_settings *s, const cJSON *p, bg_error *err)
{
    if (!cJSON_IsObject(p))
        return bg_error_set(err, BG_EINVAL, "promotion: expected an object, got %s",
                            bg_json_type_name(p));
    const char *on_fail = NULL, *metric = NULL;
    int rc = bg_json_check_keys(p, promotion_keys, "promotion", err);
    if (!rc)
        rc = parse_strategy(s, p, err);
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

/* promotion.verify: "upstream" (default) or "model-only" (no upstream header needed). */
static int parse_verify_mode(bool *model_only, const cJSON *p, bg_error *err)
{
    const char *mode = NULL;
    *model_only = false;
    int rc = p ? bg_json_get_string(&mode, p, "verify", "promotion", false, err) : 0;
    if (rc || !mode || strcmp(mode, "upstream") == 0)
        return rc;
    if (strcmp(mode, "model-only") != 0)
        return bg_error_set(err, BG_EINVAL,
                            "promotion.verify: expected \"upstream\" or \"model-only\", got "
                            "\"%s\"",
                            mode);
    *model_only = true;
    return 0;
}

/* A key that is missing may be there with a typo ("upstream_heaedr"): say so, as the
 * router's own key check would, rather than "missing". */
static int near_miss(const cJSON *r, const char *key, bg_error *err)
{
    const char *const allowed[] = {key, NULL};
    const cJSON *it;
    cJSON_ArrayForEach(it, r)
    {
        cJSON *one = cJSON_CreateObject();
        bg_error e = {0};
        int rc = one && cJSON_AddNullToObject(one, it->string)
                     ? bg_json_check_keys(one, allowed, "router", &e)
                     : 0;
        cJSON_Delete(one);
        if (rc && strstr(e.msg, "did you mean"))
            return bg_error_set(err, rc, "%s", e.msg);
    }
    return 0;
}

/* A config with pools and a router moves traffic; it must be able to prove that a flip
 * reached the new pool. Without pools or router there is nothing to check here (an eval
 * config), or their own parsers say what is missing. */
static int check_verifiable(const bg_config *cfg, bool model_only, bg_error *err)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(cfg->root, "router");
    if (!cJSON_IsObject(r) || !cJSON_GetObjectItemCaseSensitive(cfg->root, "pools"))
        return 0;
    int rc = 0;
    if (!cJSON_GetObjectItemCaseSensitive(r, "endpoint") && !(rc = near_miss(r, "endpoint", err)))
        return bg_error_set(err, BG_EINVAL,
                            "router.endpoint: missing: deploy, promote and rollback verify "
                            "every flip with requests through the router's public URL (e.g. "
                            "\"http://127.0.0.1:8080/v1\"); without it a switch that still "
                            "sends traffic to the old pool would pass unnoticed");
    if (!rc && !model_only && !cJSON_GetObjectItemCaseSensitive(r, "upstream_header") &&
        !(rc = near_miss(r, "upstream_header", err)))
        return bg_error_set(err, BG_EINVAL,
                            "router.upstream_header: missing: the response header the router "
                            "adds naming the upstream that answered (nginx: add_header "
                            "X-BG-Upstream $upstream_addr always;) is how a flip is proven to "
                            "reach the new pool; the model name is no proof (llama.cpp echoes "
                            "it). A router that cannot add one: \"promotion\": {\"verify\": "
                            "\"model-only\"} (see README)");
    return rc;
}

int bg_deploy_verify_suite_load(bg_suite ***out, size_t *n, const bg_config *cfg,
                                bg_error *err)
{
    *out = NULL;
    *n = 0;
    const cJSON *p = cfg->root ? cJSON_GetObjectItemCaseSensitive(cfg->root, "promotion") : NULL;
    const char *suite = NULL;
    int rc = cJSON_IsObject(p)
                 ? bg_json_get_string(&suite, p, "verify_suite", "promotion", false, err)
                 : 0;
    if (rc || !suite)
        return rc;
    /* relative to the config file, like gate.suites and promotion.probes.suite */
    char *path = suite[0] == '/' || !cfg->dir ? bg_strdup(suite)
                                              : bg_asprintf("%s/%s", cfg->dir, suite);
    if (!path)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    bg_gate_config g = cfg->gate;
    g.suites = &path;
    g.n_suites = 1;
    rc = bg_eval_load_suites(out, n, &g, err);
    free(path);
    /* promote and rollback have no release to render templates from */
    for (size_t s = 0; !rc && s < *n; s++)
        for (size_t c = 0; !rc && c < (*out)[s]->n_cases; c++)
            if ((*out)[s]->cases[c].template_name)
                rc = bg_error_set(err, BG_EINVAL,
                                  "%s:%d: case \"%s\" uses a template; verification cases "
                                  "need messages or prompt",
                                  (*out)[s]->path, (*out)[s]->cases[c].line,
                                  (*out)[s]->cases[c].id);
    if (rc) {
        for (size_t s = 0; *out && s < *n; s++)
            bg_suite_free((*out)[s]);
        free(*out);
        *out = NULL;
        *n = 0;
        bg_error_prefix(err, "promotion.verify_suite");
    }
    return rc;
}

/* The verification settings: checked at parse time, read from the config when verifying
 * (context.c), so a bad suite stops a deploy before any pool is touched. */
static int check_verification(const bg_config *cfg, const cJSON *p, bg_error *err)
{
    bool model_only = false;
    bg_suite **suites = NULL;
    size_t n = 0;
    int rc = parse_verify_mode(&model_only, p, err);
    if (!rc && cfg->root)
        rc = check_verifiable(cfg, model_only, err);
    if (!rc)
        rc = bg_deploy_verify_suite_load(&suites, &n, cfg, err);
    for (size_t i = 0; i < n; i++)
        bg_suite_free(suites[i]);
    free(suites);
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
        .bake_s = 300,
        .probe_rate = 1.0,
    };
    memcpy(s.steps, default_steps, sizeof default_steps);
    s.n_steps = sizeof default_steps / sizeof default_steps[0];
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
    if (!rc)
        rc = check_verification(cfg, cJSON_IsObject(p) ? p : NULL, err);
    if (rc) {
        bg_deploy_settings_dispose(&s);
        if (cfg->path)
            bg_error_prefix(err, "%s", cfg->path);
        return rc;
    }
    *out = s;
    return 0;
}
