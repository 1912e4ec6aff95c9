/* config.h — bg-gate.json: loading and validating it into plain structs.
 *
 * This module validates the `gate` section fully; the other sections (`release`,
 * `pools`, `router`, `promotion`, `state`, …) are recognised and kept in `root` for the
 * modules that own them. Unknown top-level sections are errors, so a typo never goes
 * unnoticed. Errors carry the file and JSON path: "bg-gate.json: gate.concurrency:
 * expected an integer from 1 to 4096, got a string". Relative paths (suites, reports)
 * are resolved against the directory of the config file.
 */
#ifndef BGGATE_CONFIG_H
#define BGGATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "run.h"

#define BG_CONFIG_DEFAULT_PATH "bg-gate.json"

typedef struct bg_gate_config {
    char **suites;            /* resolved paths (files or directories) */
    size_t n_suites;
    char **endpoints;         /* OpenAI base URLs for `eval` */
    size_t n_endpoints;
    char *model;              /* NULL: discover from /v1/models */
    long concurrency;         /* default 8 */
    double rate;              /* 0: closed loop */
    bool poisson;             /* arrivals: "poisson" (default) | "constant" */
    long repeat;              /* default 1 */
    long timeout_ms;          /* default 60000 */
    bool stream;              /* default true */
    long max_retries;         /* connection-error retries, default 2 */
    char *api_key_env;        /* name of the env var holding the API key; NULL: none */
    cJSON *request;           /* request defaults merged into every case's body (owned) */
    char **headers;           /* "Name: value" */
    size_t n_headers;
    bg_threshold *thresholds;
    size_t n_thresholds;
    char *embeddings_endpoint, *embeddings_model;
    char *judge_endpoint, *judge_model;
    char *junit, *json_report, *markdown, *metrics; /* report paths; NULL: not written */
    /* gate.baseline (paired.h): "live" (deploy: the live pool), a URL or URLs. */
    char **baseline;          /* baseline endpoints; NULL when none */
    size_t n_baseline;
    bool baseline_live;       /* "live" */
    double baseline_alpha;    /* gate.baseline_alpha; 0: BG_PAIRED_DEFAULT_ALPHA */
} bg_gate_config;

typedef struct bg_config {
    char *path;               /* as given; NULL for built-in defaults */
    char *dir;                /* directory relative paths resolve against */
    cJSON *root;              /* the whole document (owned), NULL for defaults */
    bg_gate_config gate;
} bg_config;

/* Built-in defaults only (no file). */
int bg_config_defaults(bg_config **out, bg_error *err);
int bg_config_load(bg_config **out, const char *path, bg_error *err);
/* Parses config text; `path` names it in messages and anchors relative paths. */
int bg_config_parse(bg_config **out, const char *path, const char *text, size_t len,
                    bg_error *err);
void bg_config_free(bg_config *cfg);

/* Adds or replaces a threshold by name. */
int bg_config_set_threshold(bg_gate_config *g, const bg_threshold *th, bg_error *err);

/* Checks an endpoint: http:// or https:// with a host. Message names the problem. */
int bg_url_check(const char *url, bg_error *err);

#endif
