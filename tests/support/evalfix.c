/* evalfix.c — the eval e2e tests' shared fixture (see evalfix.h). */
#include "evalfix.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bgt_eval_env bgt_ev;

void bgt_eval_setup(void)
{
    bgt_ev.tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(bgt_ev.tmp);
    memset(&bgt_ev.mock, 0, sizeof bgt_ev.mock);
    bgt_ev.mock.pid = -1;
}

void bgt_eval_teardown(void)
{
    bgt_mock_stop(&bgt_ev.mock);
    bgt_rmtree(bgt_ev.tmp);
    free(bgt_ev.tmp);
    bgt_ev.tmp = NULL;
}

void bgt_eval_start_mock(bgt_mock *m, const char *name, const char *table, const char *const *extra)
{
    char *answers = bgt_src(table);
    const char *args[32] = {"--answers", answers};
    size_t n = 2;
    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    int rc = bgt_mock_start(m, bgt_ev.tmp, name, args);
    free(answers);
    ck_assert_msg(rc == 0, "bg-mock did not start");
}

char *bgt_eval_path(const char *name)
{
    char *p = NULL;
    ck_assert_int_ge(asprintf(&p, "%s/%s", bgt_ev.tmp, name), 0);
    return p;
}

void bgt_expect_exit(const bgt_result *r, int code)
{
    if (r->exit_code != code)
        fprintf(stderr, "bg-gate exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s\n", r->exit_code,
                code, r->out, r->err);
    ck_assert_int_eq(r->exit_code, code);
}

cJSON *bgt_load_json(const char *path)
{
    char *s = bgt_read_file(path);
    ck_assert_msg(s != NULL, "missing %s", path);
    cJSON *j = cJSON_Parse(s);
    free(s);
    ck_assert_msg(j != NULL, "%s is not JSON", path);
    return j;
}

const cJSON *bgt_json_at(const cJSON *root, const char *const *path)
{
    const cJSON *it = root;
    for (size_t i = 0; path[i] && it; i++)
        it = cJSON_GetObjectItemCaseSensitive(it, path[i]);
    ck_assert_msg(it != NULL, "%s missing in the JSON", path[0]);
    return it;
}

double bgt_json_num(const cJSON *root, const char *const *path)
{
    const cJSON *it = bgt_json_at(root, path);
    ck_assert_msg(cJSON_IsNumber(it), "%s is not a number", path[0]);
    return it->valuedouble;
}
