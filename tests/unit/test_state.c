/* test_state.c — the deploy state file (round trip, fresh, corrupt, history) and the
 * environment lock (held by another process, released, freed by a killed holder, stale
 * holder record, CI job URL). Lock tests fork real processes: flock conflicts only between
 * open file descriptions, so the other deploy is another process with its own open().
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/proc.h"
#include "bggate/state.h"
#include "bggate/util.h"

#define RECOVERY                                                                                   \
    "; move it aside (mv %s %s.bad) and run `bg-gate status` to rebuild it from the router"

static char *g_dir;

static void setup(void)
{
    g_dir = bgt_tmpdir();
    ck_assert_ptr_nonnull(g_dir);
}

static void teardown(void)
{
    bgt_rmtree(g_dir);
    free(g_dir);
    g_dir = NULL;
}

/* A path inside the test's directory; static buffers, one per slot. */
static const char *tpath(int slot, const char *name)
{
    static char paths[4][512];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", g_dir, name);
    return paths[slot];
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Loads text as a state file and returns the error (the state must not load). */
static bg_error load_bad(const char *text)
{
    const char *path = tpath(0, "production.json");
    write_text(path, text, strlen(text));
    bg_state *s = (bg_state *)0x1;
    bg_error err = {0};
    ck_assert_int_eq(bg_state_load(&s, path, "production", &err), BG_EINVAL);
    ck_assert_ptr_null(s);
    return err;
}

/* The full message for a corrupt state at tpath(0, "production.json"). */
static void expect_corrupt(const char *text, const char *cause)
{
    const char *path = tpath(0, "production.json");
    bg_error err = load_bad(text);
    char want[BG_ERROR_MSG_MAX], tail[BG_ERROR_MSG_MAX];
    snprintf(tail, sizeof tail, RECOVERY, path, path);
    snprintf(want, sizeof want, "%s: corrupt state: %s%s", path, cause, tail);
    ck_assert_str_eq(err.msg, want);
}

static const char *VALID =
    "{\"version\": 1, \"environment\": \"production\", \"live\": \"blue\",\n"
    " \"pools\": {\"blue\": {\"release_id\": \"r1\", \"status\": \"live\", \"gated\": true,\n"
    "                      \"updated_at\": \"2026-12-05T01:02:03Z\"},\n"
    "           \"green\": {\"release_id\": null, \"keep_warm_until\": null}},\n"
    " \"weights\": {\"blue\": 100, \"green\": 0}, \"deploy\": null,\n"
    " \"last_outcome\": \"promoted\", \"last_message\": null, \"history\": []}\n";

/* Every field set to something distinct. */
static bg_state *full_state(void)
{
    bg_state *s = NULL;
    ck_assert_int_eq(bg_state_load(&s, tpath(3, "nothing-here.json"), "production", NULL), 0);
    s->live = BG_POOL_GREEN;
    const char *strs[BG_POOL_COUNT][5] = {
        {"rel-blue", "c0ffee1", "meta/llama-a", "llama-a", "warm"},
        {"rel-green", "c0ffee2", "meta/llama-b", "llama-b", "live"}};
    for (int i = 0; i < BG_POOL_COUNT; i++) {
        bg_pool_state *p = &s->pool[i];
        ck_assert_int_eq(bg_state_set_str(&p->release_id, strs[i][0]), 0);
        ck_assert_int_eq(bg_state_set_str(&p->commit, strs[i][1]), 0);
        ck_assert_int_eq(bg_state_set_str(&p->model, strs[i][2]), 0);
        ck_assert_int_eq(bg_state_set_str(&p->served_model, strs[i][3]), 0);
        ck_assert_int_eq(bg_state_set_str(&p->status, strs[i][4]), 0);
        p->updated_at = 1796432523.0 + i;
        p->keep_warm_until = i == 0 ? 1796518923.0 : 0;
        p->gated = i == 1;
    }
    s->has_weights = true;
    s->weights.w[BG_POOL_BLUE] = 25;
    s->weights.w[BG_POOL_GREEN] = 75;
    ck_assert_int_eq(bg_state_set_str(&s->phase, "verify"), 0);
    s->target = BG_POOL_GREEN;
    ck_assert_int_eq(bg_state_set_str(&s->target_release, "rel-green"), 0);
    s->has_weights_before = true;
    s->weights_before.w[BG_POOL_BLUE] = 100;
    s->weights_before.w[BG_POOL_GREEN] = 0;
    ck_assert_int_eq(bg_state_set_str(&s->started_by, "pid 7 on ci-3 (https://ci/j/1)"), 0);
    s->started_at = 1796432000.0;
    ck_assert_int_eq(bg_state_set_str(&s->last_outcome, "gate-failed"), 0);
    ck_assert_int_eq(bg_state_set_str(&s->last_message, "pass rate 0.80 < 0.95"), 0);
    bg_state_add_history(s,
                         cJSON_Parse("{\"release_id\": \"rel-blue\", \"outcome\": \"promoted\"}"));
    return s;
}

START_TEST(state_round_trips_every_field)
{
    bg_state *s = full_state();
    const char *path = tpath(0, "var/lib/bg-gate/production.json"); /* dirs do not exist yet */
    bg_error err = {0};
    ck_assert_int_eq(bg_state_save(s, path, &err), 0);
    bg_state *r = NULL;
    ck_assert_int_eq(bg_state_load(&r, path, "production", &err), 0);
    ck_assert_str_eq(r->environment, "production");
    ck_assert_int_eq(r->live, BG_POOL_GREEN);
    for (int i = 0; i < BG_POOL_COUNT; i++) {
        const bg_pool_state *a = &s->pool[i], *b = &r->pool[i];
        ck_assert_str_eq(b->release_id, a->release_id);
        ck_assert_str_eq(b->commit, a->commit);
        ck_assert_str_eq(b->model, a->model);
        ck_assert_str_eq(b->served_model, a->served_model);
        ck_assert_str_eq(b->status, a->status);
        ck_assert_double_eq(b->updated_at, a->updated_at);
        ck_assert_double_eq(b->keep_warm_until, a->keep_warm_until);
        ck_assert_int_eq(b->gated, a->gated);
    }
    ck_assert(r->has_weights);
    ck_assert_int_eq(r->weights.w[BG_POOL_BLUE], 25);
    ck_assert_int_eq(r->weights.w[BG_POOL_GREEN], 75);
    ck_assert_str_eq(r->phase, "verify");
    ck_assert_int_eq(r->target, BG_POOL_GREEN);
    ck_assert_str_eq(r->target_release, "rel-green");
    ck_assert(r->has_weights_before);
    ck_assert_int_eq(r->weights_before.w[BG_POOL_BLUE], 100);
    ck_assert_int_eq(r->weights_before.w[BG_POOL_GREEN], 0);
    ck_assert_str_eq(r->started_by, "pid 7 on ci-3 (https://ci/j/1)");
    ck_assert_double_eq(r->started_at, 1796432000.0);
    ck_assert_str_eq(r->last_outcome, "gate-failed");
    ck_assert_str_eq(r->last_message, "pass rate 0.80 < 0.95");
    ck_assert_int_eq(cJSON_GetArraySize(r->history), 1);
    ck_assert(cJSON_Compare(r->history, s->history, true));
    /* saving what was loaded gives the same file, byte for byte */
    char *first = bgt_read_file(path);
    ck_assert_int_eq(bg_state_save(r, path, &err), 0);
    char *second = bgt_read_file(path);
    ck_assert_str_eq(second, first);
    ck_assert_ptr_nonnull(strstr(first, "\"updated_at\":\t\"2026-12-05T01:02:03Z\""));
    free(first);
    free(second);
    bg_state_free(r);
    bg_state_free(s);
}
END_TEST

START_TEST(missing_file_is_a_fresh_environment)
{
    bg_state *s = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_state_load(&s, tpath(0, "none/staging.json"), "staging", &err), 0);
    ck_assert_str_eq(s->environment, "staging");
    ck_assert_int_eq(s->live, -1);
    ck_assert(!s->has_weights);
    ck_assert_ptr_null(s->phase);
    ck_assert_int_eq(s->target, -1);
    ck_assert(!s->has_weights_before);
    for (int i = 0; i < BG_POOL_COUNT; i++) {
        ck_assert_ptr_null(s->pool[i].release_id);
        ck_assert_ptr_null(s->pool[i].status);
        ck_assert(!s->pool[i].gated);
    }
    ck_assert_ptr_null(s->last_outcome);
    ck_assert(cJSON_IsArray(s->history));
    ck_assert_int_eq(cJSON_GetArraySize(s->history), 0);
    bg_state_free(s);
    bg_state_free(NULL);
}
END_TEST

START_TEST(hand_written_file_with_optional_members_left_out_loads)
{
    const char *path = tpath(0, "production.json");
    write_text(path, VALID, strlen(VALID));
    bg_state *s = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_state_load(&s, path, "production", &err), 0);
    ck_assert_int_eq(s->live, BG_POOL_BLUE);
    ck_assert_str_eq(s->pool[BG_POOL_BLUE].release_id, "r1");
    ck_assert(s->pool[BG_POOL_BLUE].gated);
    ck_assert_double_eq(s->pool[BG_POOL_BLUE].updated_at, 1796432523.0);
    ck_assert_ptr_null(s->pool[BG_POOL_GREEN].release_id);
    ck_assert_ptr_null(s->pool[BG_POOL_GREEN].commit);
    ck_assert_double_eq(s->pool[BG_POOL_GREEN].keep_warm_until, 0);
    ck_assert_ptr_null(s->phase);
    ck_assert_str_eq(s->last_outcome, "promoted");
    bg_state_free(s);
}
END_TEST

START_TEST(garbage_file_is_corrupt_with_position_and_recovery)
{
    expect_corrupt("not json at all", "line 1, column 1: not valid JSON");
    expect_corrupt("", "line 1, column 1: the file is empty");
    expect_corrupt("{\"version\": 1,\n \"environment\": \"production\",\n  \"live\": blue}",
                   "line 3, column 11: not valid JSON");
    expect_corrupt("[1, 2]", "top level: expected an object, got an array");
    expect_corrupt("{\"version\": 1} trailing", "line 1, column 16: not valid JSON");
}
END_TEST

START_TEST(truncated_file_is_corrupt_with_recovery)
{
    /* the file cut after every byte: it loads (only the final newline cut) or is refused
     * with the recovery advice; never anything else */
    const char *path = tpath(0, "production.json");
    size_t n = strlen(VALID);
    for (size_t cut = 0; cut < n; cut++) {
        write_text(path, VALID, cut);
        bg_state *s = NULL;
        bg_error err = {0};
        int rc = bg_state_load(&s, path, "production", &err);
        if (cut == n - 1) {
            ck_assert_int_eq(rc, 0);
            bg_state_free(s);
            continue;
        }
        ck_assert_msg(rc == BG_EINVAL, "cut at %zu: rc %d", cut, rc);
        ck_assert_ptr_null(s);
        ck_assert_msg(strstr(err.msg, ": corrupt state: ") && strstr(err.msg, "move it aside"),
                      "cut at %zu: %s", cut, err.msg);
    }
}
END_TEST

START_TEST(mutated_files_never_crash_the_loader)
{
    /* light fuzzing: random bytes overwritten in a full state file */
    bg_state *full = full_state();
    const char *path = tpath(0, "production.json");
    ck_assert_int_eq(bg_state_save(full, path, NULL), 0);
    bg_state_free(full);
    char *orig = bgt_read_file(path);
    size_t n = strlen(orig);
    unsigned seed = 12345;
    const char alphabet[] = "{}[]\":,01 -.nultrufase\\\x01\xff";
    for (int iter = 0; iter < 400; iter++) {
        char *m = bg_strdup(orig);
        int edits = 1 + (int)(rand_r(&seed) % 4);
        for (int e = 0; e < edits; e++)
            m[rand_r(&seed) % n] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        write_text(path, m, n);
        bg_state *s = NULL;
        bg_error err = {0};
        int rc = bg_state_load(&s, path, "production", &err);
        ck_assert_msg(rc == 0 || (rc == BG_EINVAL && strstr(err.msg, "corrupt state")),
                      "iteration %d: rc %d: %s", iter, rc, err.msg);
        ck_assert(rc == 0 ? s != NULL : s == NULL);
        bg_state_free(s);
        free(m);
    }
    free(orig);
}
END_TEST

START_TEST(wrong_types_are_named_by_json_path)
{
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"live\": 3, \"pools\": {}}",
                   "live: expected \"blue\", \"green\" or null, got a number");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"live\": \"red\"}",
                   "live: expected \"blue\", \"green\" or null, got another string");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": []}",
                   "pools: expected an object, got an array");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": {\"blue\": {}}}",
                   "pools.green: missing");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": "
                   "{\"blue\": {\"commit\": 5}, \"green\": {}}}",
                   "pools.blue.commit: expected a string or null, got a number");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": "
                   "{\"blue\": {}, \"green\": {\"gated\": \"yes\"}}}",
                   "pools.green.gated: expected true or false, got a string");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": "
                   "{\"blue\": {\"updated_at\": \"yesterday\"}, \"green\": {}}}",
                   "pools.blue.updated_at: expected an ISO-8601 UTC time "
                   "(2026-12-05T01:02:03Z) or null, got another string");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": "
                   "{\"blue\": {}, \"green\": {}}, \"weights\": {\"blue\": 60, \"green\": 60}}",
                   "weights: the weights must add up to 100, got 120");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": "
                   "{\"blue\": {}, \"green\": {}}, \"weights\": {\"blue\": \"all\"}}",
                   "weights.blue: expected an integer from 0 to 100, got a string");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": "
                   "{\"blue\": {}, \"green\": {}}, \"deploy\": {\"target\": \"green\"}}",
                   "deploy.phase: missing (a string is required)");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": "
                   "{\"blue\": {}, \"green\": {}}, \"deploy\": {\"phase\": \"gate\", "
                   "\"weights_before\": 5}}",
                   "deploy.weights_before: expected an object or null, got a number");
    expect_corrupt("{\"version\": 1, \"environment\": \"production\", \"pools\": "
                   "{\"blue\": {}, \"green\": {}}, \"history\": [{}, 7]}",
                   "history[1]: expected an object, got a number");
    expect_corrupt("{\"version\": 1, \"environment\": \"staging\", \"pools\": "
                   "{\"blue\": {}, \"green\": {}}}",
                   "environment: the file is for \"staging\", not \"production\"");
}
END_TEST

START_TEST(unknown_version_is_refused)
{
    expect_corrupt("{\"version\": 2, \"environment\": \"production\"}",
                   "version: 2 is not a version this bg-gate reads (it reads 1)");
    expect_corrupt("{\"environment\": \"production\"}",
                   "version: expected the number 1, got nothing");
    expect_corrupt("{\"version\": \"1\"}", "version: expected the number 1, got a string");
}
END_TEST

START_TEST(file_with_a_nul_byte_is_corrupt)
{
    const char *path = tpath(0, "production.json");
    write_text(path, "{}\0{}", 5);
    bg_state *s = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_state_load(&s, path, "production", &err), BG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "corrupt state: the file contains a NUL byte; move"));
}
END_TEST

START_TEST(history_keeps_the_newest_20)
{
    bg_state *s = NULL;
    ck_assert_int_eq(bg_state_load(&s, tpath(0, "p.json"), "p", NULL), 0);
    for (int i = 0; i < 25; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "n", i);
        bg_state_add_history(s, e);
    }
    ck_assert_int_eq(cJSON_GetArraySize(s->history), 20);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(s->history, 0), "n")->valueint, 5);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(s->history, 19), "n")->valueint, 24);
    bg_state_add_history(s, NULL);                    /* ignored */
    bg_state_add_history(NULL, cJSON_CreateObject()); /* entry freed, no leak */
    ck_assert_int_eq(cJSON_GetArraySize(s->history), 20);
    bg_state_free(s);
}
END_TEST

START_TEST(loading_a_longer_history_keeps_the_newest_20)
{
    char text[4096];
    int off = snprintf(text, sizeof text,
                       "{\"version\": 1, \"environment\": \"p\", \"pools\": {\"blue\": {}, "
                       "\"green\": {}}, \"history\": [");
    for (int i = 0; i < 30; i++)
        off += snprintf(text + off, sizeof text - (size_t)off, "%s{\"n\": %d}", i ? ", " : "", i);
    snprintf(text + off, sizeof text - (size_t)off, "]}");
    const char *path = tpath(0, "p.json");
    write_text(path, text, strlen(text));
    bg_state *s = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_state_load(&s, path, "p", &err), 0);
    ck_assert_int_eq(cJSON_GetArraySize(s->history), 20);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(s->history, 0), "n")->valueint, 10);
    bg_state_free(s);
}
END_TEST

START_TEST(to_json_has_the_documented_shape)
{
    bg_state *s = full_state();
    cJSON *j = bg_state_to_json(s);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "version")->valueint, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "environment")->valuestring, "production");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "live")->valuestring, "green");
    const cJSON *blue = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pools"), "blue");
    const cJSON *green = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pools"), "green");
    ck_assert_str_eq(cJSON_GetObjectItem(blue, "release_id")->valuestring, "rel-blue");
    ck_assert_str_eq(cJSON_GetObjectItem(blue, "updated_at")->valuestring, "2026-12-05T01:02:03Z");
    ck_assert_str_eq(cJSON_GetObjectItem(blue, "keep_warm_until")->valuestring,
                     "2026-12-06T01:02:03Z");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(green, "keep_warm_until")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(green, "gated")));
    const cJSON *w = cJSON_GetObjectItem(j, "weights");
    ck_assert_int_eq(cJSON_GetObjectItem(w, "blue")->valueint, 25);
    ck_assert_int_eq(cJSON_GetObjectItem(w, "green")->valueint, 75);
    const cJSON *d = cJSON_GetObjectItem(j, "deploy");
    ck_assert_str_eq(cJSON_GetObjectItem(d, "phase")->valuestring, "verify");
    ck_assert_str_eq(cJSON_GetObjectItem(d, "target")->valuestring, "green");
    ck_assert_str_eq(cJSON_GetObjectItem(d, "release_id")->valuestring, "rel-green");
    ck_assert_int_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(d, "weights_before"), "blue")->valueint, 100);
    ck_assert_str_eq(cJSON_GetObjectItem(d, "started_at")->valuestring, "2026-12-05T00:53:20Z");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "last_outcome")->valuestring, "gate-failed");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "history")), 1);
    cJSON_Delete(j);

    /* no deploy running and nothing set: nulls, not missing members */
    bg_state_set_str(&s->phase, NULL);
    s->has_weights = false;
    s->live = -1;
    j = bg_state_to_json(s);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "deploy")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "weights")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "live")));
    cJSON_Delete(j);
    bg_state_free(s);
    ck_assert_ptr_null(bg_state_to_json(NULL));
}
END_TEST

START_TEST(set_str_replaces_and_clears)
{
    char *f = NULL;
    ck_assert_int_eq(bg_state_set_str(&f, "a"), 0);
    ck_assert_str_eq(f, "a");
    ck_assert_int_eq(bg_state_set_str(&f, "bb"), 0);
    ck_assert_str_eq(f, "bb");
    ck_assert_int_eq(bg_state_set_str(&f, f), 0); /* its own value */
    ck_assert_str_eq(f, "bb");
    ck_assert_int_eq(bg_state_set_str(&f, NULL), 0);
    ck_assert_ptr_null(f);
}
END_TEST

START_TEST(save_into_an_unwritable_place_fails_with_the_path)
{
    bg_state *s = NULL;
    ck_assert_int_eq(bg_state_load(&s, tpath(0, "p.json"), "p", NULL), 0);
    write_text(tpath(1, "file"), "x", 1);
    bg_error err = {0};
    ck_assert_int_eq(bg_state_save(s, tpath(2, "file/p.json"), &err), BG_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/file"));
    bg_state_free(s);
}
END_TEST

/* ---- the lock ---- */

static void own_host(char *out, size_t outsz)
{
    ck_assert_int_eq(gethostname(out, outsz), 0);
    out[outsz - 1] = '\0';
}

/* In a forked child: tries the lock and exits 0 when it failed with BG_ELOCKED and a
 * message starting with `want_prefix` and ending with `want_suffix`. */
static pid_t child_expect_locked(const char *path, const char *want_prefix, const char *want_suffix)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid > 0)
        return pid;
    bg_lock *l = NULL;
    bg_error err = {0};
    int rc = bg_lock_acquire(&l, path, &err);
    int ok = rc == BG_ELOCKED && l == NULL && bg_str_starts_with(err.msg, want_prefix) &&
             bg_str_ends_with(err.msg, want_suffix);
    if (!ok)
        fprintf(stderr, "child: rc %d, message: %s\n", rc, err.msg);
    bg_lock_release(l);
    _exit(ok ? 0 : 1);
}

static int wait_exit(pid_t pid)
{
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(second_acquire_from_another_process_names_the_holder)
{
    unsetenv("GITHUB_SERVER_URL");
    setenv("CI_JOB_URL", "https://gitlab.example/o/r/-/jobs/77", 1);
    const char *path = tpath(0, "state/production.lock");
    bg_lock *l = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), 0);
    ck_assert_ptr_nonnull(l);
    char host[256], prefix[400];
    own_host(host, sizeof host);
    snprintf(prefix, sizeof prefix, "another deploy holds the lock: pid %ld on %s since 20",
             (long)getpid(), host);
    ck_assert_int_eq(
        wait_exit(child_expect_locked(path, prefix, "Z (https://gitlab.example/o/r/-/jobs/77)")),
        0);
    /* the record names us for `cat`, too */
    char *rec = bgt_read_file(path);
    char pidfield[64];
    snprintf(pidfield, sizeof pidfield, "\"pid\":%ld,", (long)getpid());
    ck_assert_ptr_nonnull(strstr(rec, pidfield));
    free(rec);
    bg_lock_release(l);
    unsetenv("CI_JOB_URL");
}
END_TEST

START_TEST(release_clears_the_record_and_the_lock_can_be_taken_again)
{
    const char *path = tpath(0, "production.lock");
    bg_lock *l = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), 0);
    bg_lock_release(l);
    char *rec = bgt_read_file(path);
    ck_assert_str_eq(rec, ""); /* the file stays, empty */
    free(rec);
    /* another process can take it now; then we cannot */
    int ready[2], done[2];
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(done), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        bg_lock *cl = NULL;
        int rc = bg_lock_acquire(&cl, path, NULL);
        char c = rc == 0 ? 'y' : 'n';
        ssize_t w = write(ready[1], &c, 1);
        ssize_t r = read(done[0], &c, 1); /* hold until the parent has checked */
        bg_lock_release(cl);
        _exit(rc == 0 && w == 1 && r >= 0 ? 0 : 1);
    }
    char c = 0;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), BG_ELOCKED);
    ck_assert_ptr_null(l);
    char want[128];
    snprintf(want, sizeof want, "another deploy holds the lock: pid %ld on ", (long)pid);
    ck_assert_msg(bg_str_starts_with(err.msg, want), "%s", err.msg);
    ck_assert_int_eq(write(done[1], "x", 1), 1);
    ck_assert_int_eq(wait_exit(pid), 0);
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), 0);
    bg_lock_release(l);
    bg_lock_release(NULL);
    close(ready[0]);
    close(ready[1]);
    close(done[0]);
    close(done[1]);
}
END_TEST

/* Runs fn with stderr sent to a file; returns what was written (caller frees). */
static char *capture_stderr(int (*fn)(bg_lock **, const char *, bg_error *), bg_lock **l,
                            const char *path, bg_error *err, int *rc)
{
    const char *cap = tpath(1, "stderr.txt");
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *f = fopen(cap, "w");
    ck_assert_ptr_nonnull(f);
    dup2(fileno(f), STDERR_FILENO);
    *rc = fn(l, path, err);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(f);
    return bgt_read_file(cap);
}

START_TEST(killed_holder_frees_the_lock_and_its_stale_record_is_reported)
{
    const char *path = tpath(0, "production.lock");
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        bg_lock *cl = NULL;
        char c = bg_lock_acquire(&cl, path, NULL) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause(); /* a deploy that gets SIGKILLed while holding the lock */
    }
    char c = 0;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    bg_lock *l = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), BG_ELOCKED); /* alive: held */
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(wait_exit(pid), -1);
    int rc = 0;
    char *out = capture_stderr(bg_lock_acquire, &l, path, &err, &rc);
    ck_assert_int_eq(rc, 0);
    char want[128];
    snprintf(want, sizeof want, "breaking a stale lock left by pid %ld (no longer running)",
             (long)pid);
    ck_assert_msg(strstr(out, want) != NULL, "stderr: %s", out);
    free(out);
    /* the record is ours now */
    char *rec = bgt_read_file(path);
    char pidfield[64];
    snprintf(pidfield, sizeof pidfield, "\"pid\":%ld,", (long)getpid());
    ck_assert_ptr_nonnull(strstr(rec, pidfield));
    free(rec);
    /* a normal release leaves nothing stale: no warning the next time */
    bg_lock_release(l);
    out = capture_stderr(bg_lock_acquire, &l, path, &err, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(out, "");
    free(out);
    bg_lock_release(l);
    close(ready[0]);
    close(ready[1]);
}
END_TEST

START_TEST(record_of_another_host_is_not_called_stale)
{
    const char *path = tpath(0, "production.lock");
    const char *rec = "{\"pid\": 999999, \"host\": \"some-other-host.invalid\"}";
    write_text(path, rec, strlen(rec));
    bg_lock *l = NULL;
    bg_error err = {0};
    int rc = 0;
    char *out = capture_stderr(bg_lock_acquire, &l, path, &err, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(out, "");
    free(out);
    bg_lock_release(l);
}
END_TEST

START_TEST(locked_message_leaves_out_what_the_record_lacks)
{
    /* a holder whose record is still empty (it is between flock and write) */
    const char *path = tpath(0, "production.lock");
    int ready[2], done[2];
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(done), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        bg_lock *cl = NULL;
        int rc = bg_lock_acquire(&cl, path, NULL);
        /* overwrite our own record with a partial one, as an older writer might */
        FILE *f = fopen(path, "w");
        if (!f)
            _exit(2);
        fputs("{\"host\": \"ci-runner-3\"}", f);
        fclose(f);
        char c = rc == 0 ? 'y' : 'n';
        ssize_t w = write(ready[1], &c, 1);
        ssize_t r = read(done[0], &c, 1);
        if (truncate(path, 0) < 0)
            _exit(3);
        c = 'y';
        w += write(ready[1], &c, 1);
        r += read(done[0], &c, 1);
        bg_lock_release(cl);
        _exit(rc == 0 && w == 2 && r == 2 ? 0 : 1);
    }
    char c = 0;
    bg_lock *l = NULL;
    bg_error err = {0};
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), BG_ELOCKED);
    ck_assert_str_eq(err.msg, "another deploy holds the lock: on ci-runner-3");
    ck_assert_int_eq(write(done[1], "x", 1), 1);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(bg_lock_acquire(&l, path, &err), BG_ELOCKED);
    char want[600];
    snprintf(want, sizeof want, "another deploy holds the lock %s (no holder recorded yet)", path);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(write(done[1], "x", 1), 1);
    ck_assert_int_eq(wait_exit(pid), 0);
    close(ready[0]);
    close(ready[1]);
    close(done[0]);
    close(done[1]);
}
END_TEST

START_TEST(job_url_comes_from_github_then_gitlab)
{
    char host[256], want[512];
    own_host(host, sizeof host);
    unsetenv("CI_JOB_URL");
    unsetenv("GITHUB_SERVER_URL");
    unsetenv("GITHUB_REPOSITORY");
    unsetenv("GITHUB_RUN_ID");
    char *d = bg_lock_describe_self();
    snprintf(want, sizeof want, "pid %ld on %s", (long)getpid(), host);
    ck_assert_str_eq(d, want);
    free(d);

    setenv("GITHUB_SERVER_URL", "https://github.com", 1);
    setenv("GITHUB_REPOSITORY", "o/r", 1);
    setenv("CI_JOB_URL", "https://gitlab.example/o/r/-/jobs/77", 1);
    d = bg_lock_describe_self(); /* GitHub incomplete: GitLab's URL */
    snprintf(want, sizeof want, "pid %ld on %s (https://gitlab.example/o/r/-/jobs/77)",
             (long)getpid(), host);
    ck_assert_str_eq(d, want);
    free(d);

    setenv("GITHUB_RUN_ID", "123", 1);
    d = bg_lock_describe_self();
    snprintf(want, sizeof want, "pid %ld on %s (https://github.com/o/r/actions/runs/123)",
             (long)getpid(), host);
    ck_assert_str_eq(d, want);
    free(d);

    /* the record carries it to a second deploy */
    const char *path = tpath(0, "production.lock");
    bg_lock *l = NULL;
    ck_assert_int_eq(bg_lock_acquire(&l, path, NULL), 0);
    ck_assert_int_eq(wait_exit(child_expect_locked(path, "another deploy holds the lock: pid ",
                                                   "Z (https://github.com/o/r/actions/runs/123)")),
                     0);
    bg_lock_release(l);
    unsetenv("CI_JOB_URL");
    unsetenv("GITHUB_SERVER_URL");
    unsetenv("GITHUB_REPOSITORY");
    unsetenv("GITHUB_RUN_ID");
}
END_TEST

START_TEST(lock_in_an_unusable_place_is_an_io_error)
{
    write_text(tpath(1, "file"), "x", 1);
    bg_lock *l = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_lock_acquire(&l, tpath(2, "file/production.lock"), &err), BG_EIO);
    ck_assert_ptr_null(l);
    ck_assert_ptr_nonnull(strstr(err.msg, "/file"));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("state");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, state_round_trips_every_field);
    tcase_add_test(tc, missing_file_is_a_fresh_environment);
    tcase_add_test(tc, hand_written_file_with_optional_members_left_out_loads);
    tcase_add_test(tc, garbage_file_is_corrupt_with_position_and_recovery);
    tcase_add_test(tc, truncated_file_is_corrupt_with_recovery);
    tcase_add_test(tc, mutated_files_never_crash_the_loader);
    tcase_add_test(tc, wrong_types_are_named_by_json_path);
    tcase_add_test(tc, unknown_version_is_refused);
    tcase_add_test(tc, file_with_a_nul_byte_is_corrupt);
    tcase_add_test(tc, history_keeps_the_newest_20);
    tcase_add_test(tc, loading_a_longer_history_keeps_the_newest_20);
    tcase_add_test(tc, to_json_has_the_documented_shape);
    tcase_add_test(tc, set_str_replaces_and_clears);
    tcase_add_test(tc, save_into_an_unwritable_place_fails_with_the_path);
    suite_add_tcase(s, tc);

    TCase *lk = tcase_create("lock");
    tcase_add_checked_fixture(lk, setup, teardown);
    tcase_set_timeout(lk, 20);
    tcase_add_test(lk, second_acquire_from_another_process_names_the_holder);
    tcase_add_test(lk, release_clears_the_record_and_the_lock_can_be_taken_again);
    tcase_add_test(lk, killed_holder_frees_the_lock_and_its_stale_record_is_reported);
    tcase_add_test(lk, record_of_another_host_is_not_called_stale);
    tcase_add_test(lk, locked_message_leaves_out_what_the_record_lacks);
    tcase_add_test(lk, job_url_comes_from_github_then_gitlab);
    tcase_add_test(lk, lock_in_an_unusable_place_is_an_io_error);
    suite_add_tcase(s, lk);
    return s;
}

BG_CHECK_MAIN()
