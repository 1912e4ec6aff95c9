/* cmd_eval.c — `bg-gate eval`: run golden suites against endpoints, write reports and
 * exit 0 (passed), 1 (gate failed), 2 (usage/input error) or 3 (unreachable).
 *
 * Settings come from bg-gate.json's `gate` section (when a config is given or
 * ./bg-gate.json exists) with flags overriding them. This file only parses flags,
 * merges settings, calls the modules and maps the outcome to an exit code.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/ci.h"
#include "bggate/config.h"
#include "bggate/evaluate.h"
#include "bggate/gate.h"
#include "bggate/log.h"
#include "bggate/release.h"
#include "bggate/report.h"
#include "bggate/runner.h"
#include "bggate/suite.h"
#include "bggate/template.h"
#include "bggate/util.h"
#include "cli.h"

enum {
    O_ENDPOINT = 1, O_SUITE, O_MODEL, O_CONCURRENCY, O_RATE, O_ARRIVALS, O_REPEAT, O_TIMEOUT,
    O_STREAM, O_NO_STREAM, O_API_KEY_ENV, O_HEADER, O_THRESHOLD, O_JUNIT, O_JSON_REPORT,
    O_MARKDOWN, O_METRICS, O_REPORTS, O_SEED, O_RETRIES, O_NO_PROGRESS, O_REV,
    O_BASELINE, O_BASELINE_MODEL, O_BASELINE_ALPHA
};

static const bg_opt eval_opts[] = {
    {"endpoint", 'e', "URL", O_ENDPOINT, "OpenAI base URL, e.g. http://127.0.0.1:8000/v1 (repeatable)"},
    {"suite", 's', "PATH", O_SUITE, "suite file, or a directory of *.jsonl (repeatable)"},
    {"config", 'c', "FILE", BG_OPT_CONFIG, "config file (default: ./bg-gate.json if present)"},
    {"rev", 'r', "REV", O_REV, "render template cases from the release of git revision REV"},
    {"model", 'm', "NAME", O_MODEL, "model to request (default: first of GET /v1/models)"},
    {"concurrency", 'n', "N", O_CONCURRENCY, "requests in flight (default 8)"},
    {"rate", 0, "R", O_RATE, "open loop: R arrivals per second (default: closed loop)"},
    {"arrivals", 0, "KIND", O_ARRIVALS, "open-loop arrivals: poisson (default) or constant"},
    {"repeat", 0, "K", O_REPEAT, "runs per case (default 1; a case's \"repeat\" wins)"},
    {"timeout-ms", 0, "MS", O_TIMEOUT, "deadline per request (default 60000)"},
    {"stream", 0, NULL, O_STREAM, "stream answers (SSE) to measure TTFT/ITL (default)"},
    {"no-stream", 0, NULL, O_NO_STREAM, "ask for whole answers"},
    {"api-key-env", 0, "VAR", O_API_KEY_ENV, "send Authorization: Bearer $VAR"},
    {"header", 'H', "H", O_HEADER, "extra request header \"Name: value\" (repeatable)"},
    {"threshold", 't', "NAME=V", O_THRESHOLD, "gate threshold, e.g. p95_ms=2500 (repeatable)"},
    {"baseline-endpoint", 0, "URL", O_BASELINE,
     "also run every case against this baseline and compare (repeatable)"},
    {"baseline-model", 0, "NAME", O_BASELINE_MODEL,
     "model to request from the baseline (default: --model, else its /v1/models)"},
    {"baseline-alpha", 0, "A", O_BASELINE_ALPHA,
     "significance level of the latency comparison (default 0.01)"},
    {"junit", 0, "FILE", O_JUNIT, "write a JUnit XML report"},
    {"json-report", 0, "FILE", O_JSON_REPORT, "write the full JSON report"},
    {"markdown", 0, "FILE", O_MARKDOWN, "write a Markdown summary (CI job summaries)"},
    {"metrics", 0, "FILE", O_METRICS, "write OpenMetrics text (GitLab metrics report)"},
    {"reports", 0, "DIR", O_REPORTS, "write all four reports into DIR"},
    {"seed", 0, "N", O_SEED, "seed for open-loop arrivals (default 1)"},
    {"max-retries", 0, "N", O_RETRIES, "retries after connection errors (default 2)"},
    {"no-progress", 0, NULL, O_NO_PROGRESS, "no progress line"},
    {"json", 0, NULL, BG_OPT_JSON, "print the JSON report on stdout"},
    {"ci", 0, "MODE", BG_OPT_CI, BG_CLI_CI_HELP},
    {"quiet", 'q', NULL, BG_OPT_QUIET, "only errors"},
    {"verbose", 'v', NULL, BG_OPT_VERBOSE, "more detail (-vv for debug)"},
    {"help", 'h', NULL, BG_OPT_HELP, "show this help"},
    {NULL, 0, NULL, 0, NULL},
};

#define MAX_LIST 256

typedef struct eval_args {
    const char *endpoints[BG_MAX_ENDPOINTS];
    size_t n_endpoints;
    const char *baseline[BG_MAX_ENDPOINTS];
    size_t n_baseline;
    const char *baseline_model;
    double baseline_alpha;
    const char *suites[MAX_LIST];
    size_t n_suites;
    const char *headers[BG_MAX_HEADERS];
    size_t n_headers;
    bg_threshold thresholds[MAX_LIST];
    size_t n_thresholds;
    const char *config, *model, *api_key_env, *rev, *ci;
    const char *junit, *json_report, *markdown, *metrics, *reports_dir;
    long concurrency, repeat, timeout_ms, seed, max_retries;
    double rate;
    int poisson, stream; /* -1: not given */
    bool json, help, no_progress;
    int verbosity;
} eval_args;

static int add_str(const char **v, size_t *n, size_t max, const char *s, const char *what,
                   bg_error *err)
{
    if (*n >= max)
        return bg_error_set(err, BG_EINVAL, "too many %s (at most %zu)", what, max);
    v[(*n)++] = s;
    return 0;
}

static int parse_num(long *out, const char *flag, const char *arg, long min, long max,
                     bg_error *err)
{
    if (bg_parse_long(out, arg, min, max))
        return bg_error_set(err, BG_EINVAL, "--%s: expected an integer from %ld to %ld, got \"%s\"",
                            flag, min, max, arg);
    return 0;
}

static int on_option(void *ud, int id, const char *arg, bg_error *err)
{
    eval_args *a = ud;
    switch (id) {
    case O_ENDPOINT:
        if (bg_url_check(arg, err)) {
            bg_error_prefix(err, "--endpoint");
            return BG_EINVAL;
        }
        return add_str(a->endpoints, &a->n_endpoints, BG_MAX_ENDPOINTS, arg, "endpoints", err);
    case O_BASELINE:
        if (bg_url_check(arg, err)) {
            bg_error_prefix(err, "--baseline-endpoint");
            return BG_EINVAL;
        }
        return add_str(a->baseline, &a->n_baseline, BG_MAX_ENDPOINTS, arg, "baseline endpoints",
                       err);
    case O_BASELINE_MODEL: a->baseline_model = arg; return 0;
    case O_BASELINE_ALPHA:
        if (bg_parse_double(&a->baseline_alpha, arg, 1e-12, 0.5))
            return bg_error_set(err, BG_EINVAL,
                                "--baseline-alpha: expected a number above 0 and at most 0.5, "
                                "got \"%s\"", arg);
        return 0;
    case O_SUITE: return add_str(a->suites, &a->n_suites, MAX_LIST, arg, "suites", err);
    case O_HEADER:
        if (!strchr(arg, ':') || strpbrk(arg, "\r\n"))
            return bg_error_set(err, BG_EINVAL, "--header: expected \"Name: value\", got \"%s\"",
                                arg);
        return add_str(a->headers, &a->n_headers, BG_MAX_HEADERS, arg, "headers", err);
    case O_THRESHOLD:
        if (a->n_thresholds >= MAX_LIST)
            return bg_error_set(err, BG_EINVAL, "too many thresholds");
        if (bg_threshold_parse_arg(&a->thresholds[a->n_thresholds], arg, err)) {
            bg_error_prefix(err, "--threshold");
            return BG_EINVAL;
        }
        a->n_thresholds++;
        return 0;
    case BG_OPT_CONFIG: a->config = arg; return 0;
    case O_REV: a->rev = arg; return 0;
    case O_MODEL: a->model = arg; return 0;
    case O_API_KEY_ENV: a->api_key_env = arg; return 0;
    case O_JUNIT: a->junit = arg; return 0;
    case O_JSON_REPORT: a->json_report = arg; return 0;
    case O_MARKDOWN: a->markdown = arg; return 0;
    case O_METRICS: a->metrics = arg; return 0;
    case O_REPORTS: a->reports_dir = arg; return 0;
    case O_CONCURRENCY: return parse_num(&a->concurrency, "concurrency", arg, 1, BG_MAX_CONCURRENCY, err);
    case O_REPEAT: return parse_num(&a->repeat, "repeat", arg, 1, 1000, err);
    case O_TIMEOUT: return parse_num(&a->timeout_ms, "timeout-ms", arg, 1, 86400000L, err);
    case O_SEED: return parse_num(&a->seed, "seed", arg, 0, 0x7fffffffL, err);
    case O_RETRIES: return parse_num(&a->max_retries, "max-retries", arg, 0, 10, err);
    case O_RATE:
        if (bg_parse_double(&a->rate, arg, 1e-6, 1e6))
            return bg_error_set(err, BG_EINVAL, "--rate: expected a positive number, got \"%s\"", arg);
        return 0;
    case O_ARRIVALS:
        if (strcmp(arg, "poisson") != 0 && strcmp(arg, "constant") != 0)
            return bg_error_set(err, BG_EINVAL,
                                "--arrivals: expected poisson or constant, got \"%s\"", arg);
        a->poisson = strcmp(arg, "poisson") == 0;
        return 0;
    case O_STREAM: a->stream = 1; return 0;
    case O_NO_STREAM: a->stream = 0; return 0;
    case O_NO_PROGRESS: a->no_progress = true; return 0;
    case BG_OPT_JSON: a->json = true; return 0;
    case BG_OPT_CI: a->ci = arg; return 0;
    case BG_OPT_QUIET: a->verbosity = -1; return 0;
    case BG_OPT_VERBOSE: a->verbosity = a->verbosity < 0 ? 1 : a->verbosity + 1; return 0;
    case BG_OPT_HELP: a->help = true; return 0;
    default: return bg_error_set(err, BG_EINVAL, "unhandled option");
    }
}

static int replace_str(char **dst, const char *src)
{
    if (!src)
        return 0;
    free(*dst);
    *dst = bg_strdup(src);
    return *dst ? 0 : BG_ENOMEM;
}

static char *report_path(const char *dir, const char *name)
{
    return bg_asprintf("%s/%s", dir, name);
}

static int set_report_paths(bg_gate_config *g, const eval_args *a)
{
    if (a->reports_dir) {
        char *p[4] = {report_path(a->reports_dir, "junit.xml"),
                      report_path(a->reports_dir, "report.json"),
                      report_path(a->reports_dir, "summary.md"),
                      report_path(a->reports_dir, "metrics.txt")};
        char **dst[4] = {&g->junit, &g->json_report, &g->markdown, &g->metrics};
        for (int i = 0; i < 4; i++) {
            free(*dst[i]);
            *dst[i] = p[i];
        }
    }
    int rc = replace_str(&g->junit, a->junit);
    rc = rc ? rc : replace_str(&g->json_report, a->json_report);
    rc = rc ? rc : replace_str(&g->markdown, a->markdown);
    return rc ? rc : replace_str(&g->metrics, a->metrics);
}

/* Replaces a config list with the flags' values when any were given. */
static int override_list(char ***v, size_t *n, const char *const *src, size_t count)
{
    if (!count)
        return 0;
    for (size_t i = 0; i < *n; i++)
        free((*v)[i]);
    free(*v);
    *v = calloc(count, sizeof **v);
    if (!*v)
        return BG_ENOMEM;
    for (size_t i = 0; i < count; i++)
        (*v)[i] = bg_strdup(src[i]);
    *n = count;
    return 0;
}

/* Flags override the config's gate section. */
static int merge_args(bg_config *cfg, const eval_args *a, bg_error *err)
{
    bg_gate_config *g = &cfg->gate;
    int rc = override_list(&g->endpoints, &g->n_endpoints, a->endpoints, a->n_endpoints);
    rc = rc ? rc : override_list(&g->suites, &g->n_suites, a->suites, a->n_suites);
    rc = rc ? rc : override_list(&g->baseline, &g->n_baseline, a->baseline, a->n_baseline);
    if (a->baseline_alpha > 0)
        g->baseline_alpha = a->baseline_alpha;
    if (!rc && a->n_headers) {
        /* flag headers come on top of the config's */
        char **v = realloc(g->headers, (g->n_headers + a->n_headers) * sizeof *v);
        if (!v)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        g->headers = v;
        for (size_t i = 0; i < a->n_headers; i++)
            g->headers[g->n_headers++] = bg_strdup(a->headers[i]);
    }
    rc = rc ? rc : replace_str(&g->model, a->model);
    rc = rc ? rc : replace_str(&g->api_key_env, a->api_key_env);
    rc = rc ? rc : set_report_paths(g, a);
    if (rc)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (a->concurrency) g->concurrency = a->concurrency;
    if (a->repeat) g->repeat = a->repeat;
    if (a->timeout_ms) g->timeout_ms = a->timeout_ms;
    if (a->rate > 0) g->rate = a->rate;
    if (a->max_retries >= 0) g->max_retries = a->max_retries;
    if (a->poisson >= 0) g->poisson = a->poisson == 1;
    if (a->stream >= 0) g->stream = a->stream == 1;
    for (size_t i = 0; i < a->n_thresholds; i++)
        if ((rc = bg_config_set_threshold(g, &a->thresholds[i], err)))
            return rc;
    return 0;
}

/* The first template case of the suites, for messages; NULL when there is none. */
static const bg_case *first_template_case(bg_suite *const *suites, size_t n, const bg_suite **in)
{
    for (size_t s = 0; s < n; s++)
        for (size_t c = 0; c < suites[s]->n_cases; c++)
            if (suites[s]->cases[c].template_name) {
                *in = suites[s];
                return &suites[s]->cases[c];
            }
    return NULL;
}

static int no_release_error(bg_suite *const *suites, size_t n, const char *why, bg_error *err)
{
    const bg_suite *s = NULL;
    const bg_case *c = first_template_case(suites, n, &s);
    return bg_error_set(err, BG_EINVAL,
                        "%s:%d: case \"%s\" uses template \"%s\": templates come from a "
                        "release: pass --rev REV (or add a release section to bg-gate.json)%s%s",
                        s->path, c->line, c->id, c->template_name, why ? ": " : "", why ? why : "");
}

/* Template cases need a release: the one of --rev, or — when the config has a `release`
 * section — of the commit CI names (or HEAD). With no --config and no ./bg-gate.json (a
 * run from a subdirectory), the repository's bg-gate.json is found by repository
 * discovery, as `resolve` finds it. The release is read from git, so the templates are
 * exactly those of the commit under test. */
static int render_templates(bg_release **rel, bg_suite *const *suites, size_t n,
                            const bg_config *cfg, const eval_args *a, bg_error *err)
{
    const bg_suite *first = NULL;
    bool templates = first_template_case(suites, n, &first) != NULL;
    bool release_cfg = cfg->root && cJSON_GetObjectItemCaseSensitive(cfg->root, "release");
    bool discover = !a->config && !cfg->path;
    if (!templates || (!a->rev && !release_cfg && !discover))
        return templates ? no_release_error(suites, n, NULL, err) : 0;
    char *config_in_repo = NULL;
    int rc = 0;
    if (a->config)
        rc = bg_cli_repo_relative(&config_in_repo, a->config, err);
    if (!rc)
        rc = bg_release_resolve(rel, NULL, a->rev ? a->rev : bg_release_default_rev(),
                                config_in_repo, err);
    free(config_in_repo);
    if (rc == BG_EINVAL && !a->rev && !release_cfg) { /* discovery found no release */
        char why[BG_ERROR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err->msg);
        return no_release_error(suites, n, why, err);
    }
    for (size_t s = 0; !rc && s < n; s++)
        rc = bg_template_render_suite(suites[s], *rel, err);
    if (!rc && *rel)
        bg_log_verbose("release %.12s (commit %.12s): %zu template(s)", (*rel)->id,
                       (*rel)->commit, (*rel)->n_templates);
    return rc;
}

static void on_progress(void *ud, size_t done, size_t total, size_t passed, size_t failed,
                        size_t errors)
{
    bg_progress_update(ud, done, total, passed, failed, errors);
}

static int print_json(const bg_run *run)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    int rc = bg_report_render_json(&b, run);
    if (!rc) {
        fwrite(bg_buf_cstr(&b), 1, b.len, stdout);
        fputc('\n', stdout);
    }
    bg_buf_dispose(&b);
    return rc;
}

/* A baseline alongside (paired.h): --baseline-endpoint, else gate.baseline's URLs. The
 * live pool ("live") is known to deploy only. */
static void set_baseline(bg_runner_opts *o, const bg_gate_config *g, const eval_args *a)
{
    if (g->n_baseline) {
        o->baseline_endpoints = (const char *const *)g->baseline;
        o->n_baseline_endpoints = g->n_baseline;
        o->baseline_model = a->baseline_model;
        bg_log_verbose("eval: comparing with a baseline of %zu endpoint(s)", g->n_baseline);
    } else if (g->baseline_live) {
        bg_log_info("gate.baseline is \"live\": only `bg-gate deploy` knows the live pool; "
                    "use --baseline-endpoint URL to compare here");
    }
}

/* Runs the suites and the gate; *exit_code is set from the verdict. */
static int run_eval(const bg_config *cfg, const eval_args *a, int *exit_code, bg_error *err)
{
    const bg_gate_config *g = &cfg->gate;
    bg_suite **suites = NULL;
    size_t n_suites = 0;
    bg_run *run = NULL;
    bg_progress *progress = NULL;
    bg_release *rel = NULL;
    const char *key = NULL;
    int rc = bg_eval_api_key(&key, g->api_key_env, err);
    if (!rc && !g->n_endpoints)
        rc = bg_error_set(err, BG_EINVAL, "no endpoint to test (use --endpoint URL or gate.endpoints)");
    if (!rc)
        rc = bg_eval_load_suites(&suites, &n_suites, g, err);
    if (!rc)
        rc = render_templates(&rel, suites, n_suites, cfg, a, err);
    if (!rc) {
        rc = bg_run_new(&run, suites, n_suites, err);
        suites = NULL;
    }
    if (!rc && rel) {
        run->release_id = bg_strdup(rel->id);
        run->commit = bg_strdup(rel->commit);
    }
    if (!rc)
        run->baseline_alpha = g->baseline_alpha;
    if (rc)
        goto cleanup;
    bool tty = bg_log_stderr_is_tty();
    progress = bg_progress_new(stderr, bg_run_case_count(run), tty,
                               a->no_progress || bg_log_get_level() == BG_LOG_QUIET);
    bg_runner_opts o;
    bg_eval_runner_opts(&o, g, key);
    if (a->seed > 0)
        o.seed = (unsigned)a->seed;
    o.progress = on_progress;
    o.progress_ud = progress;
    set_baseline(&o, g, a);
    bg_log_verbose("eval: %zu suite(s), %zu endpoint(s), concurrency %ld%s", run->n_suites,
                   g->n_endpoints, g->concurrency, g->stream ? ", streaming" : "");
    bg_ci_section_begin("bg_gate_eval", "bg-gate eval: golden prompts");
    rc = bg_runner_run(run, &o, err);
    bg_progress_free(progress);
    progress = NULL;
    bg_ci_section_end();
    if (rc)
        goto cleanup;
    rc = bg_gate_evaluate(run, g->thresholds, g->n_thresholds, err);
    if (!rc)
        rc = bg_eval_write_reports(run, g, err);
    if (rc)
        goto cleanup;
    bg_report_console(stderr, run, bg_log_color()); /* under -q: a failed verdict only */
    bg_report_ci_annotations(run);
    if (a->json)
        print_json(run);
    *exit_code = run->verdict == BG_VERDICT_PASSED ? BG_EXIT_OK : BG_EXIT_GATE_FAILED;
cleanup:
    if (suites) {
        for (size_t i = 0; i < n_suites; i++)
            bg_suite_free(suites[i]);
        free(suites);
    }
    bg_progress_free(progress);
    bg_run_free(run);
    bg_release_free(rel);
    return rc;
}

int bg_cmd_eval(int argc, char **argv)
{
    eval_args a = {.poisson = -1, .stream = -1, .max_retries = -1};
    bg_error err = {0};
    bg_config *cfg = NULL;
    int exit_code = BG_EXIT_OK;
    int rc = bg_opts_parse(eval_opts, argc, argv, on_option, &a, NULL, 0, &err);
    if (!rc && a.help) {
        bg_opts_help(stdout, "bg-gate eval [options]",
                     "Run golden suites against OpenAI-compatible endpoints and gate on quality\n"
                     "and latency thresholds. Exit 0 passed, 1 thresholds not met, 2 usage or\n"
                     "input error, 3 endpoint unreachable.",
                     eval_opts);
        return BG_EXIT_OK;
    }
    bg_log_set_level(a.verbosity < 0 ? BG_LOG_QUIET
                     : a.verbosity == 0 ? BG_LOG_NORMAL
                     : a.verbosity == 1 ? BG_LOG_VERBOSE
                                        : BG_LOG_DEBUG);
    if (!rc)
        rc = bg_cli_ci_setup(a.ci, a.json, &err);
    if (!rc)
        rc = bg_cli_load_config(&cfg, a.config, &err);
    if (!rc)
        rc = merge_args(cfg, &a, &err);
    if (!rc)
        rc = run_eval(cfg, &a, &exit_code, &err);
    bg_config_free(cfg);
    if (rc) {
        bg_cli_error("eval", err.msg);
        return bg_cli_exit_for_error(rc);
    }
    return exit_code;
}
