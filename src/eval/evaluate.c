/* evaluate.c — the steps of an eval run that `bg-gate eval` and `bg-gate deploy` share:
 * loading the suites the settings name, filling runner options from the gate settings,
 * taking the API key from the environment, and writing the reports.
 */
#include <stdlib.h>
#include <string.h>

#include "bggate/evaluate.h"
#include "bggate/log.h"
#include "bggate/report.h"
#include "bggate/util.h"

/* Loads every suite named by the settings (default: ./evals when it exists). */
int bg_eval_load_suites(bg_suite ***out, size_t *n_out, const bg_gate_config *g, bg_error *err)
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

void bg_eval_runner_opts(bg_runner_opts *o, const bg_gate_config *g, const char *api_key)
{
    memset(o, 0, sizeof *o);
    o->endpoints = (const char *const *)g->endpoints;
    o->n_endpoints = g->n_endpoints;
    o->model = g->model;
    o->concurrency = (int)g->concurrency;
    o->rate = g->rate;
    o->poisson = g->poisson;
    o->seed = 1;
    o->repeat = (int)g->repeat;
    o->timeout_ms = g->timeout_ms;
    o->stream = g->stream;
    o->api_key = api_key;
    o->request_defaults = g->request;
    o->headers = (const char *const *)g->headers;
    o->n_headers = g->n_headers;
    o->max_retries = (int)g->max_retries;
    o->embeddings_url = g->embeddings_endpoint;
    o->embeddings_model = g->embeddings_model;
    o->judge_url = g->judge_endpoint;
    o->judge_model = g->judge_model;
}

int bg_eval_api_key(const char **key, const char *var, bg_error *err)
{
    *key = NULL;
    if (!var)
        return 0;
    *key = getenv(var);
    if (!*key || !**key)
        return bg_error_set(err, BG_EINVAL, "API key variable %s is not set or empty", var);
    return 0;
}

int bg_eval_write_reports(const bg_run *run, const bg_gate_config *g, bg_error *err)
{
    struct {
        const char *path;
        int (*write)(const bg_run *, const char *, bg_error *);
        const char *what;
    } out[] = {{g->junit, bg_report_write_junit, "JUnit"},
               {g->json_report, bg_report_write_json, "JSON"},
               {g->markdown, bg_report_write_markdown, "Markdown"},
               {g->metrics, bg_report_write_metrics, "metrics"}};
    for (size_t i = 0; i < 4; i++) {
        if (!out[i].path)
            continue;
        int rc = bg_mkdir_parent(out[i].path, err);
        if (!rc)
            rc = out[i].write(run, out[i].path, err);
        if (rc)
            return rc;
        bg_log_info("%s report: %s", out[i].what, out[i].path);
    }
    return 0;
}
