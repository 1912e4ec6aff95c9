/* http.c — the "http" pool driver: a deployment API of the user's own (a small service
 * in front of Kubernetes, Nomad, a GPU cloud…).
 *
 * Deploy POSTs the release JSON (bg_release_to_json plus "pool" and "bundle_dir") to
 * `url` with "Authorization: Bearer $token_env", accepts any 2xx, then, when
 * `status_url` is set, polls it with GET until it answers {"state": "ready"} or
 * {"state": "failed", "message": …}, all within deploy.timeout_s. Stop POSTs
 * {"pool", "release_id"} to `stop_url` when one is configured, else does nothing.
 * The token is read from the environment when needed and never logged or reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/config.h"
#include "bggate/json.h"
#include "bggate/util.h"
#include "pool_driver.h"

#define STATUS_POLL_FIRST_MS 500L
#define STATUS_POLL_MAX_MS 5000L
#define STATUS_REQUEST_MS 10000L

static const char *const http_keys[] = {"url", "token_env", "status_url", "stop_url",
                                        "timeout_s", NULL};

/* An optional URL member, checked and copied. */
static int get_url(char **out, const cJSON *deploy, const char *key, const char *path,
                   bool required, bg_error *err)
{
    const char *s = NULL;
    int rc = bg_json_get_string(&s, deploy, key, path, required, err);
    if (rc < 0 || !s)
        return rc;
    if (bg_url_check(s, err) < 0) {
        bg_error_prefix(err, "%s.%s", path, key);
        return BG_EINVAL;
    }
    return (*out = bg_strdup(s)) ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int http_parse(bg_pool_config *out, const cJSON *deploy, const char *path, bg_error *err)
{
    const char *token_env = NULL;
    int rc = get_url(&out->http_url, deploy, "url", path, true, err);
    if (!rc)
        rc = get_url(&out->http_status_url, deploy, "status_url", path, false, err);
    if (!rc)
        rc = get_url(&out->http_stop_url, deploy, "stop_url", path, false, err);
    if (!rc)
        rc = bg_json_get_string(&token_env, deploy, "token_env", path, false, err);
    if (!rc && token_env && (!*token_env || strchr(token_env, '=')))
        rc = bg_error_set(err, BG_EINVAL, "%s.token_env: \"%s\" is not a variable name", path,
                          token_env);
    if (!rc && token_env && !(out->http_token_env = bg_strdup(token_env)))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc)
        rc = bg_json_get_long(&out->deploy_timeout_s, deploy, "timeout_s", path, 1, 604800L,
                              false, err);
    return rc;
}

/* The bearer token from $token_env; NULL (and 0) when no token_env is configured. */
static int get_token(const char **out, const bg_pool_config *pool, bg_error *err)
{
    *out = NULL;
    if (!pool->http_token_env)
        return 0;
    const char *t = getenv(pool->http_token_env);
    if (!t || !*t)
        return bg_error_set(err, BG_EINVAL, "pools.%s.deploy.token_env: $%s is not set",
                            bg_pool_name(pool->id), pool->http_token_env);
    *out = t;
    return 0;
}

/* One request, waited for until deadline; *h holds the answer. */
static int request(bg_pool_http *h, CURLM *multi, const char *url, const char *post,
                   const char *token, double deadline_ms, long cap_ms, bg_error *err)
{
    double left = deadline_ms - bg_now_ms();
    long t = left < 1 ? 1 : left > (double)cap_ms ? cap_ms : (long)left;
    int rc = bg_pool_http_start(h, multi, url, post, token, t, err);
    return rc < 0 ? rc : bg_pool_http_run(multi, h, 1, deadline_ms, err);
}

/* Turns a non-2xx answer into an error: "pools.green: deploy endpoint answered 500: …". */
static int answer_error(const bg_pool_config *pool, const bg_pool_http *h, const char *what,
                        bg_error *err)
{
    char got[200], body[160];
    bg_pool_http_what(h, got, sizeof got);
    bg_excerpt(body, sizeof body, bg_buf_cstr(&h->body), h->body.len, 120);
    int code = h->status > 0 ? BG_EIO : BG_ENET;
    if (!h->done || h->result == CURLE_OPERATION_TIMEDOUT)
        code = BG_ETIMEOUT;
    return bg_error_set(err, code, "pools.%s: %s%s%s%s%s", bg_pool_name(pool->id), what,
                        h->status > 0 ? " " : ": ", got, body[0] ? ": " : "", body);
}

static char *deploy_body(const bg_pool_config *pool, const bg_release *rel,
                         const char *bundle_dir)
{
    cJSON *o = bg_release_to_json(rel);
    char *s = NULL;
    if (o && cJSON_AddStringToObject(o, "pool", bg_pool_name(pool->id)) &&
        (bundle_dir ? cJSON_AddStringToObject(o, "bundle_dir", bundle_dir) != NULL
                    : cJSON_AddNullToObject(o, "bundle_dir") != NULL))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* One status answer: 1 ready, 0 not yet (*last says what it said), <0 failed. */
static int judge_status(const bg_pool_config *pool, const bg_pool_http *h, char *last,
                        size_t lastsz, bg_error *err)
{
    if (!bg_pool_http_ok(h)) {
        bg_pool_http_what(h, last, lastsz);
        return 0;
    }
    cJSON *j = cJSON_ParseWithLength(bg_buf_cstr(&h->body), h->body.len);
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(j, "state");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
    int rc = 0;
    if (!cJSON_IsString(state))
        snprintf(last, lastsz, "an answer without a \"state\"");
    else if (strcmp(state->valuestring, "ready") == 0)
        rc = 1;
    else if (strcmp(state->valuestring, "failed") == 0)
        rc = bg_error_set(err, BG_EIO, "pools.%s: deploy failed: %s", bg_pool_name(pool->id),
                          cJSON_IsString(msg) ? msg->valuestring : "(no message)");
    else
        snprintf(last, lastsz, "state \"%.100s\"", state->valuestring);
    cJSON_Delete(j);
    return rc;
}

/* Polls status_url until ready, failed or the deadline. */
static int wait_ready(const bg_pool_config *pool, CURLM *multi, bg_pool_http *h,
                      const char *token, double deadline_ms, bg_error *err)
{
    long gap = STATUS_POLL_FIRST_MS;
    char last[256] = "no answer";
    for (;;) {
        double started = bg_now_ms();
        int rc = request(h, multi, pool->http_status_url, NULL, token, deadline_ms,
                         STATUS_REQUEST_MS, err);
        if (rc < 0)
            return rc;
        if ((rc = judge_status(pool, h, last, sizeof last, err)) != 0)
            return rc < 0 ? rc : 0;
        double next = started + (double)gap;
        gap = gap * 2 > STATUS_POLL_MAX_MS ? STATUS_POLL_MAX_MS : gap * 2;
        if (next >= deadline_ms || bg_now_ms() >= deadline_ms)
            return bg_error_set(err, BG_ETIMEOUT, "pools.%s: deploy not ready after %ld s: "
                                "status_url last answered %s",
                                bg_pool_name(pool->id), pool->deploy_timeout_s, last);
        while (!rc && bg_now_ms() < next) /* sleep, still answering signals */
            rc = bg_pool_http_pump(multi, (long)(next - bg_now_ms()) + 1, err);
        if (rc < 0)
            return rc;
    }
}

static int http_deploy(const bg_pool_config *pool, const bg_release *rel,
                       const char *bundle_dir, bg_error *err)
{
    const char *token = NULL;
    double deadline = bg_now_ms() + (double)pool->deploy_timeout_s * 1000.0;
    bg_pool_http h = {0};
    CURLM *multi = NULL;
    char *body = NULL;
    int rc = get_token(&token, pool, err);
    if (rc < 0)
        return rc;
    bg_pool_http_init(&h);
    if (!(multi = curl_multi_init()) || !(body = deploy_body(pool, rel, bundle_dir))) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    rc = request(&h, multi, pool->http_url, body, token, deadline, pool->deploy_timeout_s * 1000,
                 err);
    if (!rc && !bg_pool_http_ok(&h))
        rc = answer_error(pool, &h, "deploy endpoint", err);
    if (!rc && pool->http_status_url)
        rc = wait_ready(pool, multi, &h, token, deadline, err);
cleanup:
    bg_pool_http_dispose(&h);
    curl_multi_cleanup(multi);
    free(body);
    return rc;
}

static int http_stop(const bg_pool_config *pool, const bg_release *rel, bg_error *err)
{
    if (!pool->http_stop_url)
        return 0;
    const char *token = NULL;
    bg_pool_http h = {0};
    CURLM *multi = NULL;
    char *body = bg_asprintf("{\"pool\":\"%s\",\"release_id\":\"%s\"}", bg_pool_name(pool->id),
                             rel ? rel->id : "");
    int rc = get_token(&token, pool, err);
    if (rc < 0)
        goto cleanup;
    bg_pool_http_init(&h);
    if (!body || !(multi = curl_multi_init())) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    double deadline = bg_now_ms() + (double)pool->stop_timeout_s * 1000.0;
    rc = request(&h, multi, pool->http_stop_url, body, token, deadline,
                 pool->stop_timeout_s * 1000, err);
    if (!rc && !bg_pool_http_ok(&h))
        rc = answer_error(pool, &h, "stop endpoint", err);
cleanup:
    bg_pool_http_dispose(&h);
    curl_multi_cleanup(multi);
    free(body);
    return rc;
}

const bg_pool_driver bg_pool_driver_http = {
    .name = "http",
    .deploy_keys = http_keys,
    .has_stop_argv = false,
    .parse = http_parse,
    .deploy = http_deploy,
    .stop = http_stop,
};
