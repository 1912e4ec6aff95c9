/* context.c — opening and closing what every lifecycle command works with (settings,
 * pools, router, state file, lock), phase bookkeeping, the flip and its verification
 * through the router's public endpoint.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/buf.h"
#include "bggate/cancel.h"
#include "bggate/ci.h"
#include "bggate/log.h"
#include "bggate/openai.h"
#include "bggate/util.h"
#include "deploy_internal.h"

#define VERIFY_SETTLE_MS 5000 /* how long a router may take to apply new weights */
#define VERIFY_RETRY_MS 20

int bg_deploy_ctx_open(deploy_ctx *c, const bg_config *cfg, bool take_lock, bg_error *err)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    if (!cfg->root)
        return bg_error_set(err, BG_EINVAL,
                            "no bg-gate.json: deploy commands need pools and a router "
                            "(use --config FILE)");
    int rc = bg_deploy_settings_parse(&c->set, cfg, err);
    if (!rc) {
        rc = bg_pools_parse(&c->pools, cfg->root, err);
        c->pools_ok = rc == 0;
    }
    if (!rc) {
        /* authenticated servers need the key for /v1/models, warm-up and /metrics too */
        const char *key = cfg->gate.api_key_env ? getenv(cfg->gate.api_key_env) : NULL;
        for (int i = 0; i < BG_POOL_COUNT; i++)
            c->pools.pool[i].api_key = key && *key ? key : NULL;
    }
    if (!rc)
        rc = bg_router_new(&c->router, cfg->root, &c->pools, err);
    if (rc) {
        if (cfg->path && !bg_str_starts_with(err->msg, cfg->path))
            bg_error_prefix(err, "%s", cfg->path);
        return rc;
    }
    c->state_path = bg_asprintf("%s/%s.json", c->set.state_dir, c->set.environment);
    c->lock_path = bg_asprintf("%s/%s.lock", c->set.state_dir, c->set.environment);
    if (!c->state_path || !c->lock_path)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if ((rc = bg_mkdir_p(c->set.state_dir, err)))
        return rc;
    if (take_lock && (rc = bg_lock_acquire(&c->lock, c->lock_path, err)))
        return rc;
    rc = bg_state_load(&c->state, c->state_path, c->set.environment, err);
    if (!rc && (rc = bg_run_new(&c->report, NULL, 0, err)) == 0)
        c->report->started_wall_s = bg_wall_s();
    return rc;
}

void bg_deploy_ctx_close(deploy_ctx *c)
{
    bg_run_free(c->report);
    bg_state_free(c->state);
    bg_lock_release(c->lock);
    bg_router_free(c->router);
    if (c->pools_ok)
        bg_pools_dispose(&c->pools);
    bg_deploy_settings_dispose(&c->set);
    free(c->state_path);
    free(c->lock_path);
    memset(c, 0, sizeof *c);
}

int bg_deploy_ctx_save(deploy_ctx *c, bg_error *err)
{
    return bg_state_save(c->state, c->state_path, err);
}

int bg_deploy_phase_begin(deploy_ctx *c, const char *phase, bg_error *err)
{
    c->phase = phase;
    c->phase_t0 = bg_now_ms();
    char title[64];
    snprintf(title, sizeof title, "bg-gate deploy: %s", phase);
    bg_ci_section_begin(phase, title);
    bg_log_info("==> %s", phase);
    if (bg_state_set_str(&c->state->phase, phase))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    return bg_deploy_ctx_save(c, err);
}

void bg_deploy_phase_end(deploy_ctx *c, const char *failure)
{
    if (!c->phase)
        return;
    double secs = (bg_now_ms() - c->phase_t0) / 1000.0;
    if (bg_run_add_phase(c->report, c->phase, secs, failure))
        bg_log_warn("out of memory recording phase %s", c->phase);
    bg_log_verbose("    %s: %s in %.2f s", c->phase, failure ? "failed" : "done", secs);
    bg_ci_section_end();
    c->phase = NULL;
}

void bg_deploy_history(deploy_ctx *c, const char *action, int pool, const char *outcome,
                       const char *message)
{
    cJSON *h = cJSON_CreateObject();
    if (!h)
        return;
    char stamp[32];
    bg_iso8601(stamp, sizeof stamp, bg_wall_s());
    cJSON_AddStringToObject(h, "at", stamp);
    cJSON_AddStringToObject(h, "action", action);
    if (pool >= 0) {
        cJSON_AddStringToObject(h, "pool", bg_pool_name((bg_pool_id)pool));
        const bg_pool_state *ps = &c->state->pool[pool];
        if (ps->release_id)
            cJSON_AddStringToObject(h, "release_id", ps->release_id);
        if (ps->commit)
            cJSON_AddStringToObject(h, "commit", ps->commit);
    }
    cJSON_AddStringToObject(h, "outcome", outcome);
    if (message)
        cJSON_AddStringToObject(h, "message", message);
    char *by = bg_lock_describe_self();
    if (by)
        cJSON_AddStringToObject(h, "by", by);
    free(by);
    bg_state_add_history(c->state, h);
    bg_state_set_str(&c->state->last_outcome, outcome);
    bg_state_set_str(&c->state->last_message, message);
}

int bg_deploy_flip(deploy_ctx *c, bg_pool_id target, bg_weights *before, bg_error *err)
{
    int rc = bg_router_get(c->router, before, err);
    if (rc)
        return rc;
    bg_weights w = {{0, 0}};
    w.w[target] = 100;
    c->state->has_weights_before = true;
    c->state->weights_before = *before;
    if ((rc = bg_deploy_ctx_save(c, err)))
        return rc;
    rc = bg_router_set(c->router, &w, err);
    if (rc)
        return rc;
    c->state->has_weights = true;
    c->state->weights = w;
    char text[64];
    bg_weights_format(text, sizeof text, &w);
    bg_log_info("    router: %s", text);
    return bg_deploy_ctx_save(c, err);
}

/* ---- verification through the router ---- */

/* "host:port" of an endpoint URL (default ports 80/443). */
static void endpoint_hostport(char *out, size_t outsz, const char *url)
{
    bool https = bg_str_starts_with(url, "https://");
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, "/?#");
    if (memchr(h, ':', n) || h[0] == '[')
        snprintf(out, outsz, "%.*s", (int)n, h);
    else
        snprintf(out, outsz, "%.*s:%d", (int)n, h, https ? 443 : 80);
}

typedef struct verify_resp {
    bg_buf body;
    char upstream[256];
    const char *header;
    size_t header_len;
} verify_resp;

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    verify_resp *v = ud;
    size_t len = size * n;
    if (v->header && len > v->header_len + 1 && strncasecmp(p, v->header, v->header_len) == 0 &&
        p[v->header_len] == ':') {
        const char *val = p + v->header_len + 1;
        size_t vl = len - v->header_len - 1;
        while (vl && (*val == ' ' || *val == '\t'))
            val++, vl--;
        while (vl && (val[vl - 1] == '\r' || val[vl - 1] == '\n' || val[vl - 1] == ' '))
            vl--;
        /* $upstream_addr lists every upstream tried ("a, b"): the last one answered */
        const char *last = val;
        for (size_t i = 0; i < vl; i++)
            if (val[i] == ',' || val[i] == ' ')
                last = val + i + 1;
        vl -= (size_t)(last - val);
        snprintf(v->upstream, sizeof v->upstream, "%.*s", (int)vl, last);
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    verify_resp *v = ud;
    return bg_buf_append(&v->body, p, size * n) ? 0 : size * n;
}

/* One verification request; returns 0 when it was answered by `target` with `served`. */
static int verify_one(deploy_ctx *c, const char *url, const char *body, bg_pool_id target,
                      const char *served, bg_error *err)
{
    verify_resp v = {.header = bg_router_upstream_header(c->router)};
    v.header_len = v.header ? strlen(v.header) : 0;
    bg_buf_init(&v.body, 1u << 20);
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = c->pools.pool[target].api_key;
    if (key) {
        /* the router may sit in front of authenticated servers, like the gate's requests */
        char *auth = bg_asprintf("Authorization: Bearer %s", key);
        if (auth)
            h = curl_slist_append(h, auth);
        free(auth);
    }
    char eb[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &v);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &v);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, eb);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* a new connection each time: a kept-alive one could predate the flip */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    CURLcode cc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    int rc = 0;
    bg_response resp;
    bg_response_init(&resp);
    bg_error perr = {0};
    if (cc != CURLE_OK)
        rc = bg_error_set(err, BG_ENET, "%s: %s", url, eb[0] ? eb : curl_easy_strerror(cc));
    else if (status != 200)
        rc = bg_error_set(err, BG_EPROTO, "%s: HTTP %ld", url, status);
    else if (bg_openai_parse_response(&resp, true, bg_buf_cstr(&v.body), v.body.len, &perr))
        rc = bg_error_set(err, BG_EPROTO, "%s: %s", url, perr.msg);
    else if (strcmp(resp.model, served) != 0)
        rc = bg_error_set(err, BG_EPROTO, "answered by model \"%s\", not \"%s\"", resp.model,
                          served);
    if (!rc && v.header) {
        bool ours = false;
        char hp[300];
        for (size_t i = 0; i < c->pools.pool[target].n_endpoints && !ours; i++) {
            endpoint_hostport(hp, sizeof hp, c->pools.pool[target].endpoints[i]);
            ours = strcmp(hp, v.upstream) == 0;
        }
        if (!v.upstream[0])
            rc = bg_error_set(err, BG_EPROTO, "the router sent no %s header (see the router "
                                              "snippet in README)", v.header);
        else if (!ours)
            rc = bg_error_set(err, BG_EPROTO, "answered by upstream %s, which is not in pool %s",
                              v.upstream, bg_pool_name(target));
    }
    bg_response_dispose(&resp);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    bg_buf_dispose(&v.body);
    return rc;
}

int bg_deploy_verify(deploy_ctx *c, bg_pool_id target, const char *served, long n,
                     bg_error *err)
{
    const char *base = bg_router_endpoint(c->router);
    if (!base)
        return bg_error_set(err, BG_EINVAL,
                            "router.endpoint is not set: a flip cannot be verified");
    if (!bg_router_upstream_header(c->router))
        bg_log_warn("router.upstream_header is not set: verifying by model name only, which "
                    "servers that echo the requested model cannot prove");
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    char *url = bg_asprintf("%.*s/chat/completions", (int)bl, base);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", served);
    cJSON *msgs = cJSON_AddArrayToObject(o, "messages");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", "bg-gate verify");
    cJSON_AddItemToArray(msgs, m);
    cJSON_AddNumberToObject(o, "max_tokens", 8);
    cJSON_AddBoolToObject(o, "stream", false);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = url && body ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
    /* A router applies new weights asynchronously: nginx starts new workers on reload
     * while old ones still accept connections for a moment. So the flip counts as
     * visible once n answers in a row came from the target; until VERIFY_SETTLE_MS a
     * stray answer from the old pool restarts the count, after it the flip failed. */
    double t0 = bg_now_ms(), deadline = t0 + VERIFY_SETTLE_MS, streak_t0 = t0;
    long streak = 0, mixed = 0;
    while (!rc && streak < n) {
        bg_error one = {0};
        double sent = bg_now_ms();
        if (verify_one(c, url, body, target, served, &one) == 0) {
            if (streak++ == 0)
                streak_t0 = sent; /* the flip is visible from this request on */
            continue;
        }
        if (bg_now_ms() >= deadline || bg_cancelled()) {
            rc = bg_error_set(err, one.code ? one.code : BG_EPROTO,
                              "after %d ms, %ld of %ld answers in a row came from %s: %s",
                              VERIFY_SETTLE_MS, streak, n, bg_pool_name(target), one.msg);
            break;
        }
        streak = 0;
        mixed++;
        usleep(VERIFY_RETRY_MS * 1000);
    }
    if (!rc)
        bg_log_info("    verified: %ld answers in a row from %s (%s); flip visible after %.0f ms"
                    "%s",
                    n, bg_pool_name(target), served, streak_t0 - t0,
                    mixed ? " (the router still answered from the old pool for a moment)" : "");
    free(url);
    free(body);
    return rc;
}

/* ---- drain ---- */

#define DRAIN_POLL_MS 250

/* Waits until the old pool has no request in flight, up to drain_timeout_s. */
void bg_deploy_drain(deploy_ctx *c, bg_pool_id old)
{
    double deadline = bg_now_ms() + (double)c->set.drain_timeout_s * 1000.0;
    for (;;) {
        double inflight = 0;
        bg_error e = {0};
        /* the router's own count (HAProxy: sessions + queue) when it has one, else the
         * pool's in-flight gauge */
        int rc = bg_router_inflight(c->router, old, &inflight, &e);
        if (rc != 0)
            rc = bg_pool_inflight(&c->pools.pool[old], c->set.drain_metric, &inflight, &e);
        if (rc == BG_ENOTSUP) {
            bg_log_info("    drain: %s exposes no in-flight gauge; not waiting", bg_pool_name(old));
            return;
        }
        if (rc == 0 && inflight <= 0) {
            bg_log_info("    drain: %s has no request in flight", bg_pool_name(old));
            return;
        }
        if (bg_now_ms() >= deadline || bg_cancelled()) {
            bg_log_warn("drain: %s still had %.0f request(s) in flight after %ld s",
                        bg_pool_name(old), inflight, c->set.drain_timeout_s);
            return;
        }
        usleep(DRAIN_POLL_MS * 1000);
    }
}
