/* suite.h — golden suites: one JSON case per line (JSONL).
 *
 * Blank lines and lines starting with // are ignored. Errors name file:line:column and
 * the field ("evals/golden.jsonl:12:31: assert[0].type: unknown assertion type
 * \"contians\" (did you mean \"contains\"?)"). The format is documented in evals/README.md.
 */
#ifndef BGGATE_SUITE_H
#define BGGATE_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "assert.h"
#include "error.h"

typedef struct bg_case {
    char *id;               /* unique in the suite */
    int line;               /* 1-based line in the suite file */
    bool is_chat;           /* messages (or template) → /chat/completions; prompt → /completions */
    cJSON *body;            /* owned: request body members to send: messages/prompt and the
                             * passed-through request options (max_tokens, temperature, …,
                             * plus everything in "request"); never our own keys */
    bg_assertion *asserts;  /* owned array */
    size_t n_asserts;
    char **tags;            /* owned */
    size_t n_tags;
    double latency_max_ms;  /* "latency_ms": N or {"max": N}; 0 = none */
    double ttft_max_ms;     /* "latency_ms": {"ttft": N}; 0 = none */
    int repeat;             /* 0 = the run's default */
    double weight;          /* default 1 */
    double threshold;       /* case passes when weighted share of passed assertions >= this */
    bool has_threshold;
    int stream;             /* -1 = run default, 0 = off, 1 = on ("stream" in the case) */
    char *template_name;    /* "template" (rendered by the release module); else NULL */
    char *system_template;  /* "system_template": a text template rendered as the system
                             * message before a text template's user message; else NULL */
    cJSON *vars;            /* owned "vars" for the template; else NULL */
} bg_case;

typedef struct bg_suite {
    char *path;             /* as given */
    char *name;             /* file name without directory and ".jsonl" */
    bg_case *cases;         /* owned array */
    size_t n_cases;
} bg_suite;

/* Loads a suite file. */
int bg_suite_load(bg_suite **out, const char *path, bg_error *err);
/* Parses suite text (path only names it in messages). Used by load and the fuzzer. */
int bg_suite_parse(bg_suite **out, const char *path, const char *text, size_t len,
                   bg_error *err);
void bg_suite_free(bg_suite *s);

/* Expands a --suite argument: a file is itself, a directory yields its *.jsonl files in
 * name order. Appends newly allocated paths to *paths (grown with realloc). */
int bg_suite_expand_path(char ***paths, size_t *n, const char *arg, bg_error *err);

#endif
