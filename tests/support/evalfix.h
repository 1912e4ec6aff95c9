/* evalfix.h — what the eval e2e tests share: a temp dir and a bg-mock per test, and the
 * helpers that run bg-gate and read what it wrote (JSON reports).
 */
#ifndef BGT_EVALFIX_H
#define BGT_EVALFIX_H

#include <cjson/cJSON.h>

#include "proc.h"

typedef struct bgt_eval_env {
    char *tmp;     /* this test's temp dir */
    bgt_mock mock; /* the mock most tests need (stopped in teardown) */
} bgt_eval_env;

extern bgt_eval_env bgt_ev;

/* Checked fixture: a fresh temp dir and no mock yet; teardown stops the mock and removes
 * the dir. */
void bgt_eval_setup(void);
void bgt_eval_teardown(void);

/* Starts bg-mock `name` in the temp dir answering from `table` (a path in the source tree)
 * with extra args (NULL-terminated, may be NULL); asserts that it started. */
void bgt_eval_start_mock(bgt_mock *m, const char *name, const char *table,
                         const char *const *extra);
/* tmp/name; caller frees. */
char *bgt_eval_path(const char *name);
/* Prints bg-gate's output when its exit code is not `code`, then asserts it. */
void bgt_expect_exit(const bgt_result *r, int code);
/* A JSON file, parsed (asserted to exist and parse); caller deletes. */
cJSON *bgt_load_json(const char *path);
/* root[path[0]][path[1]]… (NULL-terminated), asserted to exist. */
const cJSON *bgt_json_at(const cJSON *root, const char *const *path);
/* The same, asserted to be a number. */
double bgt_json_num(const cJSON *root, const char *const *path);

#endif
