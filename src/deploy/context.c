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
#include "bggate/evaluate.h"
#include "bggate/limits.h"
#include "bggate/log.h"
#include "bggate/openai.h"
#include "bggate/util.h"
#include "deploy_internal.h"
#include "recover.h"

#define VERIFY_SETTLE_MS 5000 /* how long a router may take to apply new weights */
#define VERIFY_RETRY_MS 20
#define VERIFY_REQUEST_MS 30000L   /* one verify request, once the flip is visible */
#define VERIFY_SETTLING_REQUEST_MS 2000L /* one request while the flip settles */
#define RESTORE_CHECK_REQUESTS 3 /* answers in a row that prove a restore took effect */

/* Set while bg_deploy_check_restored verifies a restore: that verification must run to
 * its end after SIGINT/SIGTERM, which stop every other verification. */
static bool verify_through_signal;

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

/* The upstream that answered, from the value of the upstream header: nginx's
 * $upstream_addr lists every upstream tried ("a, b"), the last one answered. */
static void last_upstream(char *out, size_t outsz, const char *val, size_t vl)
{
    while (vl && (*val == ' ' || *val == '\t'))
        val++, vl--;
    while (vl && (val[vl - 1] == '\r' || val[vl - 1] == '\n' || val[vl - 1] == ' '))
        vl--;
    const char *last = val;
    for (size_t i = 0; i < vl; i++)
        if (val[i] == ',' || val[i] == ' ')
            last = val + i + 1;
    vl -= (size_t)(last - val);
    snprintf(out, outsz, "%.*s", (int)vl, last);
}

/* 0 when `upstream` (the last of the header's value) is an endpoint of pool `target`. */
static int check_upstream(const deploy_ctx *c, bg_pool_id target, const char *header,
                          const char *upstream, bg_error *err)
{
    bool ours = false;
    char hp[300];
    for (size_t i = 0; i < c->pools.pool[target].n_endpoints && !ours; i++) {
        endpoint_hostport(hp, sizeof hp, c->pools.pool[target].endpoints[i]);
        ours = strcmp(hp, upstream) == 0;
    }
    if (!upstream[0])
        return bg_error_set(err, BG_EPROTO,
                            "the router sent no %s header (see the router snippet in README)",
                            header);
    if (!ours)
        return bg_error_set(err, BG_EPROTO, "answered by upstream %s, which is not in pool %s",
                            upstream, bg_pool_name(target));
    return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    verify_resp *v = ud;
    size_t len = size * n;
    if (v->header && len > v->header_len + 1 && strncasecmp(p, v->header, v->header_len) == 0 &&
        p[v->header_len] == ':')
        last_upstream(v->upstream, sizeof v->upstream, p + v->header_len + 1,
                      len - v->header_len - 1);
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    verify_resp *v = ud;
    return bg_buf_append(&v->body, p, size * n) ? 0 : size * n;
}

/* One verification request; returns 0 when it was answered by `target` with `served`. */
static int verify_one(deploy_ctx *c, const char *url, const char *body, bg_pool_id target,
                      const char *served, long timeout_ms, bg_error *err)
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
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
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
    if (cc == CURLE_OPERATION_TIMEDOUT)
        rc = bg_error_set(err, BG_ETIMEOUT, "%s: no answer within %ld ms", url, timeout_ms);
    else if (cc != CURLE_OK)
        rc = bg_error_set(err, BG_ENET, "%s: %s", url, eb[0] ? eb : curl_easy_strerror(cc));
    else if (status != 200)
        rc = bg_error_set(err, BG_EPROTO, "%s: HTTP %ld", url, status);
    else if (bg_openai_parse_response(&resp, true, bg_buf_cstr(&v.body), v.body.len, &perr))
        rc = bg_error_set(err, BG_EPROTO, "%s: %s", url, perr.msg);
    else if (strcmp(resp.model, served) != 0)
        rc = bg_error_set(err, BG_EPROTO, "answered by model \"%s\", not \"%s\"", resp.model,
                          served);
    if (!rc && v.header)
        rc = check_upstream(c, target, v.header, v.upstream, err);
    /* the smoke prompt's one assertion: an answer at all */
    if (!rc && resp.text.len == 0)
        rc = bg_error_set(err, BG_EPROTO, "%s answered with an empty text",
                          bg_pool_name(target));
    bg_response_dispose(&resp);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    bg_buf_dispose(&v.body);
    return rc;
}

/* ---- promotion.verify_suite: golden cases through the router ---- */

/* Every answer of the verify suite must come from the target pool: the runner reports
 * the upstream header of each one. */
typedef struct suite_check {
    const deploy_ctx *c;
    bg_pool_id target;
    const char *header;
    bg_suite **suites;
    char bad[BG_ERROR_MSG_MAX]; /* the first answer from elsewhere, "" when none */
} suite_check;

static void on_suite_upstream(void *ud, size_t s, size_t k, const char *value)
{
    suite_check *sc = ud;
    char upstream[256];
    bg_error e = {0};
    if (sc->bad[0])
        return;
    last_upstream(upstream, sizeof upstream, value, strlen(value));
    if (check_upstream(sc->c, sc->target, sc->header, upstream, &e) == 0)
        return;
    const bg_case *kase = &sc->suites[s]->cases[k];
    snprintf(sc->bad, sizeof sc->bad, "case \"%s\" (%s:%d): %s", kase->id, sc->suites[s]->path,
             kase->line, e.msg);
}

/* The first case of the run that did not pass, as "case "id" (file:line): why". */
static int suite_verdict(const bg_run *run, const suite_check *sc, bg_error *err)
{
    for (size_t s = 0; s < run->n_suites; s++)
        for (size_t k = 0; k < run->suites[s]->n_cases; k++) {
            const bg_case_result *r = &run->cases[s][k];
            if (r->runs && r->passed == r->runs)
                continue;
            const bg_case *kase = &run->suites[s]->cases[k];
            return bg_error_set(err, BG_EPROTO, "verify suite: case \"%s\" (%s:%d) failed: %s",
                                kase->id, run->suites[s]->path, kase->line,
                                r->error    ? r->error
                                : r->failure ? r->failure
                                             : "it did not run");
        }
    if (sc->bad[0])
        return bg_error_set(err, BG_EPROTO, "verify suite: %s", sc->bad);
    return 0;
}

#define VERIFY_SUITE_CONCURRENCY 4 /* it runs on live traffic's router: stay gentle */

/* One run of the verify suite through router.endpoint into *run (caller frees). */
static int run_suite_once(deploy_ctx *c, const char *served, bg_suite **suites, size_t n,
                          suite_check *sc, bg_run **run, bg_error *err)
{
    const char *key = NULL;
    const char *endpoint = bg_router_endpoint(c->router);
    sc->bad[0] = '\0';
    int rc = bg_eval_api_key(&key, c->cfg->gate.api_key_env, err);
    if (!rc)
        rc = bg_run_new_borrowing(run, suites, n, err);
    if (!rc) {
        bg_runner_opts o;
        bg_eval_runner_opts(&o, &c->cfg->gate, key);
        o.endpoints = &endpoint;
        o.n_endpoints = 1;
        o.model = served;
        o.rate = 0;
        o.repeat = 1;
        if (o.concurrency > VERIFY_SUITE_CONCURRENCY)
            o.concurrency = VERIFY_SUITE_CONCURRENCY;
        o.report_header = sc->header;
        o.on_header = sc->header ? on_suite_upstream : NULL;
        o.on_header_ud = sc;
        rc = bg_runner_run(*run, &o, err);
    }
    return rc;
}

#define VERIFY_SUITE_PAUSE_MS 200 /* before running the suite again while the router settles */

/* Runs promotion.verify_suite through router.endpoint with the eval engine: every case
 * must pass its assertions and every answer come from `target`. A router can still hand a
 * new connection to the old pool for a moment after the settle check (nginx's old workers
 * accept until they stop), so a run with an answer from elsewhere is run again when it
 * started before `settled_by`; one that started after it fails. */
static int verify_suite(deploy_ctx *c, bg_pool_id target, const char *served,
                        double settled_by, bg_error *err)
{
    bg_suite **suites = NULL;
    size_t n = 0;
    bg_run *run = NULL;
    int rc = bg_deploy_verify_suite_load(&suites, &n, c->cfg, err);
    if (rc || !suites)
        return rc;
    suite_check sc = {.c = c, .target = target, .suites = suites,
                      .header = bg_router_upstream_header(c->router)};
    for (;;) {
        /* judged by when a run started: one that began while the router could still
         * settle may end late when the old pool answers slowly */
        double started = bg_now_ms();
        rc = run_suite_once(c, served, suites, n, &sc, &run, err);
        if (rc || !sc.bad[0] || bg_cancelled() || started >= settled_by)
            break;
        bg_log_info("    verify suite: %s; the router is still settling, running it again",
                    sc.bad);
        bg_run_free(run);
        run = NULL;
        usleep(VERIFY_SUITE_PAUSE_MS * 1000);
    }
    if (!rc && bg_cancelled() && !verify_through_signal)
        rc = bg_error_set(err, BG_ECANCELED, "interrupted during the verify suite");
    if (!rc)
        rc = suite_verdict(run, &sc, err);
    else if (rc != BG_ECANCELED)
        bg_error_prefix(err, "verify suite");
    if (!rc)
        bg_log_info("    verify suite: %zu case(s) through the router passed, every answer "
                    "from %s",
                    bg_run_case_count(run), bg_pool_name(target));
    bg_run_free(run);
    for (size_t i = 0; i < n; i++)
        bg_suite_free(suites[i]);
    free(suites);
    return rc;
}

/* promotion.verify "model-only": the documented opt-out for routers that cannot add an
 * upstream header. bg_deploy_settings_parse refused anything else without one. */
static bool verify_model_only(const bg_config *cfg)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(cfg->root, "promotion");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "verify");
    return cJSON_IsString(v) && strcmp(v->valuestring, "model-only") == 0;
}

int bg_deploy_verify(deploy_ctx *c, bg_pool_id target, const char *served, long n,
                     bg_error *err)
{
    const char *base = bg_router_endpoint(c->router);
    if (!base)
        return bg_error_set(err, BG_EINVAL,
                            "router.endpoint is not set: a flip cannot be verified");
    if (!bg_router_upstream_header(c->router) && !verify_model_only(c->cfg))
        return bg_error_set(err, BG_EINVAL,
                            "router.upstream_header is not set: a flip cannot be verified");
    if (!bg_router_upstream_header(c->router) && !verify_through_signal)
        bg_log_warn("promotion.verify is \"model-only\": the flip is verified by the model "
                    "name only, which a server that echoes the requested model (llama.cpp) "
                    "cannot prove; traffic still reaching the old pool could go unnoticed");
    char *url = bg_pool_endpoint_join(base, "/chat/completions");
    char *body = bg_openai_build_probe(served, "bg-gate verify");
    int rc = url && body ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
    /* A router applies new weights asynchronously: nginx starts new workers on reload
     * while old ones still accept connections for a moment, so even a few answers from
     * the target do not prove that the next request cannot reach the old pool. The flip
     * counts as visible once n answers in a row came from the target. A request sent
     * within VERIFY_SETTLE_MS that reaches the old pool (or is cut short) restarts the
     * count, however late its answer comes; one sent after it fails the flip. */
    double t0 = bg_now_ms(), deadline = t0 + VERIFY_SETTLE_MS, streak_t0 = t0;
    long streak = 0, mixed = 0;
    while (!rc && streak < n) {
        if (bg_cancelled() && !verify_through_signal) {
            rc = bg_error_set(err, BG_ECANCELED, "interrupted after %ld of %ld answers", streak, n);
            break;
        }
        bg_error one = {0};
        double sent = bg_now_ms();
        bool settling = sent < deadline;
        /* While the flip settles a request may still land on the old pool, whose answers
         * can take long (a big model, long generations): it must not hold the check, so
         * it is cut after 2 s and sent again (to the new pool, once the router settled). */
        long timeout = settling ? VERIFY_SETTLING_REQUEST_MS : VERIFY_REQUEST_MS;
        int one_rc = verify_one(c, url, body, target, served, timeout, &one);
        if (one_rc == 0) {
            if (streak++ == 0)
                streak_t0 = sent; /* the flip is visible from this request on */
            continue;
        }
        if (!settling) { /* a signal is seen at the top of the loop */
            rc = bg_error_set(err, one.code ? one.code : BG_EPROTO,
                              "after %d ms, %ld of %ld answers in a row came from %s: %s",
                              VERIFY_SETTLE_MS, streak, n, bg_pool_name(target), one.msg);
            break;
        }
        streak = 0;
        /* Our own cap cut the request short, so it is not known who was answering (a new
         * pool can be slow too): again, at full length once the window is over. */
        if (one_rc == BG_ETIMEOUT)
            continue;
        mixed++;
        usleep(VERIFY_RETRY_MS * 1000);
    }
    if (!rc)
        bg_log_info("    verified: %ld answers in a row from %s (%s); flip visible after %.0f ms"
                    "%s",
                    n, bg_pool_name(target), served, streak_t0 - t0,
                    mixed ? " (the router still answered from the old pool for a moment)" : "");
    /* the flip has settled; now the golden cases, unless this only checks a restore
     * (bg_deploy_check_restored: that pool passed its own verification before) */
    if (!rc && !verify_through_signal) {
        /* the settle window, and at least 2 s more when the streak used it up */
        double settled_by = bg_now_ms() + 2000 > deadline ? bg_now_ms() + 2000 : deadline;
        rc = verify_suite(c, target, served, settled_by, err);
    }
    free(url);
    free(body);
    return rc;
}

/* ---- drain ---- */

#define DRAIN_POLL_MS 250

/* Waits until the old pool has no request in flight, up to drain_timeout_s. SIGINT/SIGTERM
 * end the wait (the caller sees bg_cancelled()): the new pool was verified and keeps the
 * traffic, the old one is only left to finish what it has. */
void bg_deploy_drain(deploy_ctx *c, bg_pool_id old)
{
    double deadline = bg_now_ms() + (double)c->set.drain_timeout_s * 1000.0;
    double inflight = -1; /* unknown until a gauge was read */
    for (;;) {
        if (bg_cancelled()) {
            char seen[64] = "";
            if (inflight >= 0)
                snprintf(seen, sizeof seen, " (%.0f request(s) in flight at the last look)",
                         inflight);
            bg_log_warn("drain: interrupted by signal %d before %s finished its requests%s",
                        bg_cancel_signal(), bg_pool_name(old), seen);
            return;
        }
        bg_error e = {0};
        /* the router's own count (HAProxy: sessions + queue) when it has one, else the
         * pool's in-flight gauge */
        double now = 0;
        int rc = bg_router_inflight(c->router, old, &now, &e);
        if (rc != 0)
            rc = bg_pool_inflight(&c->pools.pool[old], c->set.drain_metric, &now, &e);
        if (rc == BG_ENOTSUP) {
            bg_log_info("    drain: %s exposes no in-flight gauge; not waiting", bg_pool_name(old));
            return;
        }
        if (rc == 0)
            inflight = now;
        if (rc == 0 && now <= 0) {
            bg_log_info("    drain: %s has no request in flight", bg_pool_name(old));
            return;
        }
        if (bg_now_ms() >= deadline && !bg_cancelled()) {
            if (rc == 0)
                bg_log_warn("drain: %s still had %.0f request(s) in flight after %ld s",
                            bg_pool_name(old), now, c->set.drain_timeout_s);
            else
                bg_log_warn("drain: gave up on %s after %ld s: %s", bg_pool_name(old),
                            c->set.drain_timeout_s, e.msg);
            return;
        }
        if (!bg_cancelled())
            usleep(DRAIN_POLL_MS * 1000);
    }
}

int bg_deploy_drain_verdict(bg_pool_id live, bg_pool_id old, bg_error *err)
{
    if (!bg_cancelled())
        return 0;
    return bg_error_set(err, BG_ECANCELED,
                        "promoted, then interrupted by signal %d while draining: %s is live and "
                        "verified; %s stays warm for rollback but may not have finished its "
                        "requests in flight",
                        bg_cancel_signal(), bg_pool_name(live), bg_pool_name(old));
}

/* ---- checking a restore ---- */

int bg_deploy_check_restored(deploy_ctx *c, const bg_weights *w, char *why, size_t whysz)
{
    int live = bg_weights_live(w);
    if (live < 0 || !bg_router_endpoint(c->router))
        return 0; /* no single pool to check, or no public endpoint to check it through */
    bg_pool_id p = (bg_pool_id)live;
    double t0 = bg_now_ms();
    char *asked = NULL;
    bg_error e = {0};
    const char *served = c->state->pool[p].served_model;
    int rc = served ? 0 : bg_pool_served_model(&asked, &c->pools.pool[p], 5000, &e);
    if (!rc) {
        long n = c->set.verify_requests < RESTORE_CHECK_REQUESTS ? c->set.verify_requests
                                                                 : RESTORE_CHECK_REQUESTS;
        verify_through_signal = true;
        rc = bg_deploy_verify(c, p, served ? served : asked, n > 0 ? n : 1, &e);
        verify_through_signal = false;
    }
    free(asked);
    char msg[BG_ERROR_MSG_MAX] = "";
    if (rc)
        snprintf(msg, sizeof msg,
                 "the router was put back to %s 100 %% but the check through %s failed: %s "
                 "— live traffic may still reach the other pool or fail; check the router now",
                 bg_pool_name(p), bg_router_endpoint(c->router), e.msg);
    if (rc)
        bg_log_error("%s", msg);
    else
        bg_log_info("    restore checked: %s answers through the router", bg_pool_name(p));
    if (bg_run_add_phase(c->report, "restore-check", (bg_now_ms() - t0) / 1000.0, rc ? msg : NULL))
        bg_log_warn("out of memory recording phase restore-check");
    if (rc && why)
        bg_strlcpy(why, msg, whysz);
    return rc;
}
