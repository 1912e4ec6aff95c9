/* state.c — the deploy state of one environment: load, save, history (see state.h).
 *
 * The state is one JSON file, `<state.dir>/<environment>.json`, written atomically (temp
 * file, fsync, rename) so a reader sees the old state or the new one, never half:
 *
 *   {"version": 1, "environment": "production", "live": "blue" | "green" | null,
 *    "pools": {"blue":  {"release_id": "…" | null, "commit": …, "model": …,
 *                        "served_model": …, "status": "live" | "warm" | … | null,
 *                        "updated_at": "2026-12-05T01:02:03Z" | null,
 *                        "keep_warm_until": "2026-12-06T01:02:03Z" | null,
 *                        "gated": true | false},
 *              "green": {…}},
 *    "weights": {"blue": 100, "green": 0} | null,
 *    "deploy": null | {"phase": "gate", "target": "green", "release_id": "…",
 *                      "weights_before": {"blue": 100, "green": 0} | null,
 *                      "started_by": "pid 4242 on ci-runner-3 (…)",
 *                      "started_at": "2026-12-05T01:02:03Z",
 *                      "ramp": {…} (a canary ramp in progress or paused: ramp.h)},
 *    "last_outcome": "promoted" | … | null, "last_message": "…" | null,
 *    "history": [{…}, …]}            (oldest first, at most 20 records)
 *
 * Loading checks every member's type. Members other than "version", "environment" and
 * "pools" may be missing (they take their empty value); a present member of the wrong
 * type, an unknown version or a file that is not JSON is refused with one message that
 * names the JSON path and says how to recover. It never guesses: the router's weights are
 * the truth `bg-gate status` rebuilds from. This file does not take the lock (lock.c) and
 * does not decide anything about a deploy (the lifecycle does).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/state.h"
#include "bggate/util.h"

#define STATE_VERSION 1
#define STATE_HISTORY_MAX 20

/* Pool names as keys in the file. Kept here so the state store does not depend on the
 * pool module's code, only on its ids. */
static const char *const POOL_KEYS[BG_POOL_COUNT] = {"blue", "green"};

/* ---- small parsing helpers; each writes "<json path>: <problem>" into err ---- */

static void join_path(char *out, size_t outsz, const char *path, const char *key)
{
    snprintf(out, outsz, "%s%s%s", path && *path ? path : "", path && *path ? "." : "", key);
}

/* An optional string: missing or null → NULL, a string → a copy. */
static int get_opt_str(char **out, const cJSON *obj, const char *key, const char *path,
                       bg_error *err)
{
    char mp[256];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!it || cJSON_IsNull(it))
        return 0;
    join_path(mp, sizeof mp, path, key);
    if (!cJSON_IsString(it))
        return bg_error_set(err, BG_EINVAL, "%s: expected a string or null, got %s", mp,
                            bg_json_type_name(it));
    *out = bg_strdup(it->valuestring);
    return *out ? 0 : bg_error_set(err, BG_ENOMEM, "%s: out of memory", mp);
}

/* "2026-12-05T01:02:03Z" (what bg_iso8601 writes) → epoch seconds; -1 when malformed. */
static int parse_iso8601(double *out, const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end != '\0')
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (double)t;
    return 0;
}

/* An optional time: missing or null → 0, an ISO-8601 UTC string → epoch seconds. */
static int get_time(double *out, const cJSON *obj, const char *key, const char *path, bg_error *err)
{
    char mp[256];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = 0;
    if (!it || cJSON_IsNull(it))
        return 0;
    join_path(mp, sizeof mp, path, key);
    if (!cJSON_IsString(it) || parse_iso8601(out, it->valuestring) < 0)
        return bg_error_set(err, BG_EINVAL,
                            "%s: expected an ISO-8601 UTC time (2026-12-05T01:02:03Z) or null, "
                            "got %s",
                            mp, cJSON_IsString(it) ? "another string" : bg_json_type_name(it));
    return 0;
}

/* An optional pool reference: missing or null → -1, "blue"/"green" → its id. */
static int get_pool_ref(int *out, const cJSON *obj, const char *key, const char *path,
                        bg_error *err)
{
    char mp[256];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = -1;
    if (!it || cJSON_IsNull(it))
        return 0;
    for (int i = 0; i < BG_POOL_COUNT && cJSON_IsString(it); i++) {
        if (strcmp(it->valuestring, POOL_KEYS[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    join_path(mp, sizeof mp, path, key);
    return bg_error_set(err, BG_EINVAL, "%s: expected \"blue\", \"green\" or null, got %s", mp,
                        cJSON_IsString(it) ? "another string" : bg_json_type_name(it));
}

/* An optional object member: missing or null → *out NULL; anything but an object → error. */
static int get_opt_obj(const cJSON **out, const cJSON *obj, const char *key, const char *path,
                       bg_error *err)
{
    char mp[256];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!it || cJSON_IsNull(it))
        return 0;
    if (cJSON_IsObject(it)) {
        *out = it;
        return 0;
    }
    join_path(mp, sizeof mp, path, key);
    return bg_error_set(err, BG_EINVAL, "%s: expected an object or null, got %s", mp,
                        bg_json_type_name(it));
}

/* {"blue": N, "green": M} with N + M = 100, or null. */
static int get_weights(bool *has, bg_weights *w, const cJSON *obj, const char *key,
                       const char *path, bg_error *err)
{
    char mp[256];
    const cJSON *it = NULL;
    int rc = get_opt_obj(&it, obj, key, path, err);
    *has = false;
    if (rc < 0 || !it)
        return rc;
    join_path(mp, sizeof mp, path, key);
    int sum = 0;
    for (int i = 0; i < BG_POOL_COUNT; i++) {
        long v = 0;
        rc = bg_json_get_long(&v, it, POOL_KEYS[i], mp, 0, 100, true, err);
        if (rc < 0)
            return rc;
        w->w[i] = (int)v;
        sum += (int)v;
    }
    if (sum != 100)
        return bg_error_set(err, BG_EINVAL, "%s: the weights must add up to 100, got %d", mp, sum);
    *has = true;
    return 0;
}

/* ---- the sections of the file ---- */

static int parse_pool(bg_pool_state *p, const cJSON *pools, int id, bg_error *err)
{
    char mp[64];
    join_path(mp, sizeof mp, "pools", POOL_KEYS[id]);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(pools, POOL_KEYS[id]);
    if (!o)
        return bg_error_set(err, BG_EINVAL, "%s: missing", mp);
    if (!cJSON_IsObject(o))
        return bg_error_set(err, BG_EINVAL, "%s: expected an object, got %s", mp,
                            bg_json_type_name(o));
    int rc = get_opt_str(&p->release_id, o, "release_id", mp, err);
    if (rc == 0)
        rc = get_opt_str(&p->commit, o, "commit", mp, err);
    if (rc == 0)
        rc = get_opt_str(&p->model, o, "model", mp, err);
    if (rc == 0)
        rc = get_opt_str(&p->served_model, o, "served_model", mp, err);
    if (rc == 0)
        rc = get_opt_str(&p->status, o, "status", mp, err);
    if (rc == 0)
        rc = get_time(&p->updated_at, o, "updated_at", mp, err);
    if (rc == 0)
        rc = get_time(&p->keep_warm_until, o, "keep_warm_until", mp, err);
    if (rc == 0)
        rc = bg_json_get_bool(&p->gated, o, "gated", mp, false, err);
    return rc;
}

static int parse_deploy(bg_state *s, const cJSON *root, bg_error *err)
{
    const cJSON *d = NULL;
    int rc = get_opt_obj(&d, root, "deploy", "", err);
    if (rc < 0 || !d)
        return rc;
    const char *phase = NULL;
    rc = bg_json_get_string(&phase, d, "phase", "deploy", true, err);
    if (rc < 0)
        return rc;
    if (!*phase)
        return bg_error_set(err, BG_EINVAL, "deploy.phase: must not be empty");
    s->phase = bg_strdup(phase);
    if (!s->phase)
        return bg_error_set(err, BG_ENOMEM, "deploy.phase: out of memory");
    rc = get_pool_ref(&s->target, d, "target", "deploy", err);
    if (rc == 0)
        rc = get_opt_str(&s->target_release, d, "release_id", "deploy", err);
    if (rc == 0)
        rc = get_weights(&s->has_weights_before, &s->weights_before, d, "weights_before", "deploy",
                         err);
    if (rc == 0)
        rc = get_opt_str(&s->started_by, d, "started_by", "deploy", err);
    if (rc == 0)
        rc = get_time(&s->started_at, d, "started_at", "deploy", err);
    const cJSON *ramp = NULL;
    if (rc == 0)
        rc = get_opt_obj(&ramp, d, "ramp", "deploy", err);
    if (rc == 0 && ramp && !(s->ramp = cJSON_Duplicate(ramp, true)))
        rc = bg_error_set(err, BG_ENOMEM, "deploy.ramp: out of memory");
    return rc;
}

/* Takes the history array out of root (keeping the newest STATE_HISTORY_MAX). */
static int parse_history(bg_state *s, cJSON *root, bg_error *err)
{
    cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "history");
    if (!h || cJSON_IsNull(h))
        return 0; /* the fresh state's empty array stays */
    if (!cJSON_IsArray(h))
        return bg_error_set(err, BG_EINVAL, "history: expected an array, got %s",
                            bg_json_type_name(h));
    int i = 0;
    for (const cJSON *e = h->child; e; e = e->next, i++) {
        if (!cJSON_IsObject(e))
            return bg_error_set(err, BG_EINVAL, "history[%d]: expected an object, got %s", i,
                                bg_json_type_name(e));
    }
    cJSON_DetachItemViaPointer(root, h);
    cJSON_Delete(s->history);
    s->history = h;
    while (cJSON_GetArraySize(s->history) > STATE_HISTORY_MAX)
        cJSON_DeleteItemFromArray(s->history, 0);
    return 0;
}

static int parse_header(bg_state *s, const cJSON *root, const char *environment, bg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(v))
        return bg_error_set(err, BG_EINVAL, "version: expected the number %d, got %s",
                            STATE_VERSION, v ? bg_json_type_name(v) : "nothing");
    if (v->valuedouble != STATE_VERSION)
        return bg_error_set(err, BG_EINVAL,
                            "version: %g is not a version this bg-gate reads (it reads %d)",
                            v->valuedouble, STATE_VERSION);
    const char *env = NULL;
    int rc = bg_json_get_string(&env, root, "environment", "", true, err);
    if (rc < 0)
        return rc;
    if (environment && strcmp(env, environment) != 0)
        return bg_error_set(err, BG_EINVAL, "environment: the file is for \"%.64s\", not \"%.64s\"",
                            env, environment);
    return bg_state_set_str(&s->environment, env) < 0
               ? bg_error_set(err, BG_ENOMEM, "environment: out of memory")
               : 0;
}

/* Fills a fresh state from a parsed document; errors are "<json path>: <problem>". */
static int parse_state(bg_state *s, cJSON *root, const char *environment, bg_error *err)
{
    if (!cJSON_IsObject(root))
        return bg_error_set(err, BG_EINVAL, "top level: expected an object, got %s",
                            bg_json_type_name(root));
    int rc = parse_header(s, root, environment, err);
    if (rc == 0)
        rc = get_pool_ref(&s->live, root, "live", "", err);
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(root, "pools");
    if (rc == 0 && !cJSON_IsObject(pools))
        rc = bg_error_set(err, BG_EINVAL, "pools: expected an object, got %s",
                          pools ? bg_json_type_name(pools) : "nothing");
    for (int i = 0; rc == 0 && i < BG_POOL_COUNT; i++)
        rc = parse_pool(&s->pool[i], pools, i, err);
    if (rc == 0)
        rc = get_weights(&s->has_weights, &s->weights, root, "weights", "", err);
    if (rc == 0)
        rc = parse_deploy(s, root, err);
    if (rc == 0)
        rc = get_opt_str(&s->last_outcome, root, "last_outcome", "", err);
    if (rc == 0)
        rc = get_opt_str(&s->last_message, root, "last_message", "", err);
    if (rc == 0)
        rc = parse_history(s, root, err);
    return rc;
}

/* ---- public API ---- */

static bg_state *state_new(const char *environment)
{
    bg_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->live = -1;
    s->target = -1;
    s->environment = bg_strdup(environment ? environment : "");
    s->history = cJSON_CreateArray();
    if (!s->environment || !s->history) {
        bg_state_free(s);
        return NULL;
    }
    return s;
}

/* Rewrites err as the one corrupt-state message, keeping the cause it holds. */
static int corrupt(bg_error *err, const char *path, const char *cause)
{
    char c[BG_ERROR_MSG_MAX];
    bg_strlcpy(c, cause, sizeof c);
    return bg_error_set(err, BG_EINVAL,
                        "%s: corrupt state: %s; move it aside (mv %s %s.bad) and run `bg-gate "
                        "status` to rebuild it from the router",
                        path, c, path, path);
}

/* Parses text into s; on failure err holds "<json path>: <problem>". */
static int parse_text(bg_state *s, const char *text, size_t len, const char *environment,
                      bg_error *err)
{
    if (strlen(text) != len)
        return bg_error_set(err, BG_EINVAL, "the file contains a NUL byte");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, true);
    if (!root) {
        int line = 1, col = 1;
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
        bg_text_position(text, off, &line, &col);
        return bg_error_set(err, BG_EINVAL, "line %d, column %d: %s", line, col,
                            len == 0 ? "the file is empty" : "not valid JSON");
    }
    int rc = parse_state(s, root, environment, err);
    cJSON_Delete(root);
    return rc;
}

/* Reads and parses an existing state file into s; any problem with its content becomes
 * the one corrupt-state message. */
static int load_file(bg_state *s, const char *path, const char *environment, bg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = bg_file_read(&text, &len, path, BG_MAX_STATE_BYTES, err);
    if (rc == BG_ETOOBIG) {
        char cause[64];
        snprintf(cause, sizeof cause, "larger than %u bytes", BG_MAX_STATE_BYTES);
        rc = corrupt(err, path, cause);
    }
    if (rc < 0)
        goto cleanup;
    rc = parse_text(s, text, len, environment, err);
    if (rc == BG_EINVAL)
        rc = corrupt(err, path, err ? err->msg : "");
    else if (rc < 0)
        bg_error_prefix(err, "%s", path);
cleanup:
    free(text);
    return rc;
}

int bg_state_load(bg_state **out, const char *path, const char *environment, bg_error *err)
{
    int rc = 0;
    bg_state *s = state_new(environment);
    *out = NULL;
    if (!s)
        return bg_error_set(err, BG_ENOMEM, "%s: out of memory", path);
    struct stat st;
    /* a missing file is a fresh environment; anything else must parse */
    if (stat(path, &st) == 0 || errno != ENOENT)
        rc = load_file(s, path, environment, err);
    if (rc < 0)
        goto cleanup;
    *out = s;
    s = NULL;
cleanup:
    bg_state_free(s);
    return rc;
}

static int add_str(cJSON *obj, const char *key, const char *value)
{
    cJSON *v = value ? cJSON_CreateString(value) : cJSON_CreateNull();
    return v && cJSON_AddItemToObject(obj, key, v) ? 0 : (cJSON_Delete(v), -1);
}

static int add_time(cJSON *obj, const char *key, double wall_s)
{
    char iso[32];
    if (wall_s <= 0)
        return add_str(obj, key, NULL);
    bg_iso8601(iso, sizeof iso, wall_s);
    return add_str(obj, key, iso);
}

static int add_pool_ref(cJSON *obj, const char *key, int id)
{
    return add_str(obj, key, id >= 0 && id < BG_POOL_COUNT ? POOL_KEYS[id] : NULL);
}

static int add_weights(cJSON *obj, const char *key, bool has, const bg_weights *w)
{
    if (!has)
        return cJSON_AddNullToObject(obj, key) ? 0 : -1;
    cJSON *o = cJSON_AddObjectToObject(obj, key);
    for (int i = 0; o && i < BG_POOL_COUNT; i++) {
        if (!cJSON_AddNumberToObject(o, POOL_KEYS[i], w->w[i]))
            return -1;
    }
    return o ? 0 : -1;
}

static int add_pool(cJSON *pools, const char *key, const bg_pool_state *p)
{
    cJSON *o = cJSON_AddObjectToObject(pools, key);
    if (!o)
        return -1;
    if (add_str(o, "release_id", p->release_id) < 0 || add_str(o, "commit", p->commit) < 0 ||
        add_str(o, "model", p->model) < 0 || add_str(o, "served_model", p->served_model) < 0 ||
        add_str(o, "status", p->status) < 0 || add_time(o, "updated_at", p->updated_at) < 0 ||
        add_time(o, "keep_warm_until", p->keep_warm_until) < 0)
        return -1;
    return cJSON_AddBoolToObject(o, "gated", p->gated) ? 0 : -1;
}

/* The "deploy" member: null unless a deploy is in progress (phase set). */
static int add_deploy(cJSON *root, const bg_state *s)
{
    if (!s->phase)
        return cJSON_AddNullToObject(root, "deploy") ? 0 : -1;
    cJSON *d = cJSON_AddObjectToObject(root, "deploy");
    if (!d || add_str(d, "phase", s->phase) < 0 || add_pool_ref(d, "target", s->target) < 0 ||
        add_str(d, "release_id", s->target_release) < 0 ||
        add_weights(d, "weights_before", s->has_weights_before, &s->weights_before) < 0 ||
        add_str(d, "started_by", s->started_by) < 0)
        return -1;
    if (s->ramp) {
        cJSON *r = cJSON_Duplicate(s->ramp, true);
        if (!r || !cJSON_AddItemToObject(d, "ramp", r)) {
            cJSON_Delete(r);
            return -1;
        }
    }
    return add_time(d, "started_at", s->started_at);
}

static int build_json(cJSON *root, const bg_state *s)
{
    if (!cJSON_AddNumberToObject(root, "version", STATE_VERSION) ||
        add_str(root, "environment", s->environment) < 0 || add_pool_ref(root, "live", s->live) < 0)
        return -1;
    cJSON *pools = cJSON_AddObjectToObject(root, "pools");
    for (int i = 0; pools && i < BG_POOL_COUNT; i++) {
        if (add_pool(pools, POOL_KEYS[i], &s->pool[i]) < 0)
            return -1;
    }
    if (!pools || add_weights(root, "weights", s->has_weights, &s->weights) < 0 ||
        add_deploy(root, s) < 0 || add_str(root, "last_outcome", s->last_outcome) < 0 ||
        add_str(root, "last_message", s->last_message) < 0)
        return -1;
    cJSON *h = s->history ? cJSON_Duplicate(s->history, true) : cJSON_CreateArray();
    return h && cJSON_AddItemToObject(root, "history", h) ? 0 : (cJSON_Delete(h), -1);
}

cJSON *bg_state_to_json(const bg_state *s)
{
    if (!s)
        return NULL;
    cJSON *root = cJSON_CreateObject();
    if (root && build_json(root, s) < 0) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int bg_state_save(const bg_state *s, const char *path, bg_error *err)
{
    int rc = 0;
    char *text = NULL;
    cJSON *root = bg_state_to_json(s);
    if (!root) {
        rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    text = cJSON_Print(root);
    if (!text) {
        rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    rc = bg_mkdir_parent(path, err);
    if (rc < 0)
        goto cleanup;
    /* cJSON_Print leaves no final newline; the file gets one. */
    size_t n = strlen(text);
    char *nl = realloc(text, n + 2);
    if (!nl) {
        rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    text = nl;
    memcpy(text + n, "\n", 2);
    rc = bg_file_write_atomic(path, text, n + 1, err);
cleanup:
    free(text);
    cJSON_Delete(root);
    return rc;
}

static void pool_state_dispose(bg_pool_state *p)
{
    free(p->release_id);
    free(p->commit);
    free(p->model);
    free(p->served_model);
    free(p->status);
}

void bg_state_free(bg_state *s)
{
    if (!s)
        return;
    free(s->environment);
    for (int i = 0; i < BG_POOL_COUNT; i++)
        pool_state_dispose(&s->pool[i]);
    free(s->phase);
    free(s->target_release);
    free(s->started_by);
    free(s->last_outcome);
    free(s->last_message);
    cJSON_Delete(s->history);
    cJSON_Delete(s->ramp);
    free(s);
}

int bg_state_set_str(char **field, const char *value)
{
    char *copy = NULL;
    if (value) {
        copy = bg_strdup(value);
        if (!copy)
            return BG_ENOMEM; /* the old value stays */
    }
    free(*field);
    *field = copy;
    return 0;
}

void bg_state_add_history(bg_state *s, cJSON *entry)
{
    if (!s || !entry) {
        cJSON_Delete(entry);
        return;
    }
    if (!s->history)
        s->history = cJSON_CreateArray();
    if (!s->history || !cJSON_AddItemToArray(s->history, entry)) {
        cJSON_Delete(entry);
        return;
    }
    while (cJSON_GetArraySize(s->history) > STATE_HISTORY_MAX)
        cJSON_DeleteItemFromArray(s->history, 0);
}
