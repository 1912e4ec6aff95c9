/* test_zero_drop.c — no request is lost while bg-gate flips traffic through nginx.
 *
 * One nginx on 127.0.0.1 in front of two bg-mock pools ("blue-model", "green-model",
 * --latency-ms 2; a long answer streams at --token-ms 50), configured with the documented
 * snippet of the mode under test (docs/nginx-hitless.conf or docs/nginx-reload.conf, paths
 * pointed at the test's temp dir). While load runs, the test flips 20 times (every
 * 100 ms) with bg_router_set — exactly what `bg-gate promote/rollback` call. Load:
 *   (a) a libcurl multi loop in a thread, a new connection per request (FORBID_REUSE);
 *   (b) keep-alive connections: wrk (raw: a connection nginx closes is an error) and the
 *       same libcurl loop reusing connections (libcurl, like browsers, resends a request
 *       that got no byte back on a reused connection).
 * A request fails unless it completes with 200 and a body naming one pool's model.
 * Asserted: hitless mode drops nothing in (a) and (b); reload mode drops nothing with new
 * connections; reload mode's keep-alive losses are printed, not asserted (nginx closes
 * idle keep-alive connections of old workers on reload — the reason for mode hitless).
 * A ~5 s streamed completion in flight across flips arrives whole (every token, [DONE])
 * in both modes. Flip visibility (set returned → first answer from the new pool) is
 * printed for both modes.
 *
 * Bounded: 2-2.5 s per load phase, at most 20000 requests each, 2 minutes per test case.
 * nginx and the mocks are started once per mode (unchecked fixture, in the parent) and
 * stopped by PID. Missing nginx, Lua module, wrk or $BG_MOCK_BIN: skipped, loudly.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/loadfix.h"
#include "../support/nginxfix.h"
#include "../support/proc.h"
#include "bggate/buf.h"
#include "bggate/router.h"
#include "bggate/util.h"


#define NGINX_BIN BGT_NGINX_BIN
#define NDK_MODULE "/usr/lib/nginx/modules/ndk_http_module.so"
#define LUA_MODULE "/usr/lib/nginx/modules/ngx_http_lua_module.so"

#define FLIPS 20
#define FLIP_PERIOD_MS 100
#define LOAD_MS 2200
#define LOAD_MAX_REQUESTS 20000
#define LOAD_CONCURRENCY 16
#define STREAM_WORDS 100
#define STREAM_PROMPT "Tell me a long story."
#define PING_BODY "{\"model\": \"x\", \"messages\": [{\"role\": \"user\", \"content\": \"ping\"}]}"

static bool hitless;             /* the mode of the current test case */
static char *tmp;
static bgt_mock blue, green;
static int nginx_port;
static const char *skip_reason;  /* nothing to test with: the tests pass, loudly */
static const char *setup_error;  /* something broke while starting: the tests fail */
static char story[STREAM_WORDS * 12];

static const char *mode_name(void)
{
    return hitless ? "hitless" : "reload";
}

static void sleep_ms(double ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (long)(ms / 1000) * 1000) * 1e6)};
    nanosleep(&ts, NULL);
}

static char *tmp_path(const char *name)
{
    return bg_asprintf("%s/%s", tmp, name);
}

static int write_tmp_file(const char *name, const char *text)
{
    char *path = tmp_path(name);
    bg_error err = {0};
    int rc = bg_file_write_atomic(path, text, strlen(text), &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    free(path);
    return rc;
}

static void print_tail(const char *name)
{
    char *path = tmp_path(name);
    char *text = bgt_read_file(path);
    size_t len = text ? strlen(text) : 0;
    const char *from = text ? text + (len > 3000 ? len - 3000 : 0) : "(missing)";
    fprintf(stderr, "--- %s ---\n%s\n", path, from);
    free(text);
    free(path);
}

static void dump_logs(void)
{
    print_tail("error.log");
    print_tail("upstreams.conf");
    print_tail("blue.log");
    print_tail("green.log");
    if (hitless)
        print_tail("weights.json");
}

#define CHECK_OR_DUMP(cond, ...)                                                             \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            dump_logs();                                                                     \
            ck_abort_msg(__VA_ARGS__);                                                       \
        }                                                                                    \
    } while (0)

/* ======================= the fixture ======================= */

/* The documented snippet of the mode, pointed at tmp and our port, as tmp/snippet.conf. */
static int install_snippet(void)
{
    char *b = bgt_nginx_snippet(hitless ? "docs/nginx-hitless.conf" : "docs/nginx-reload.conf",
                                tmp, nginx_port);
    int rc = b ? write_tmp_file("snippet.conf", b) : -1;
    if (!rc && hitless) {
        char *lua_path = bgt_src("docs/bg-gate-weights.lua");
        char *lua = bgt_read_file(lua_path);
        rc = lua ? write_tmp_file("bg-gate-weights.lua", lua) : -1;
        free(lua);
        free(lua_path);
    }
    free(b);
    return rc;
}

static int write_nginx_conf(void)
{
    char *include = bg_asprintf("    include %s/snippet.conf;\n", tmp);
    char *text = bgt_nginx_conf(
        tmp, hitless ? "load_module " NDK_MODULE ";\nload_module " LUA_MODULE ";\n" : "", 2, 1024,
        "off", include);
    int rc = write_tmp_file("nginx.conf", text);
    free(include);
    free(text);
    return rc ? rc : install_snippet();
}

/* A long answer (streamed over ~5 s) for STREAM_PROMPT, "" for anything else. */
static int write_answers(void)
{
    size_t used = 0;
    for (int i = 1; i <= STREAM_WORDS; i++)
        used += (size_t)snprintf(story + used, sizeof story - used, "%sword%d",
                                 i > 1 ? " " : "", i);
    char *text = bg_asprintf("{\"answers\": {\"" STREAM_PROMPT "\": \"%s\"}, \"default\": \"\"}\n",
                             story);
    int rc = write_tmp_file("answers.json", text);
    free(text);
    return rc;
}

static char *router_json(const char *reload_argv_json)
{
    char *reload = bg_asprintf("[\"" NGINX_BIN "\", \"-s\", \"reload\", \"-c\","
                               " \"%1$s/nginx.conf\", \"-p\", \"%1$s\","
                               " \"-e\", \"%1$s/error.log\"]",
                               tmp);
    char *weights = hitless ? bg_asprintf(" \"weights_file\": \"%s/weights.json\",", tmp)
                            : bg_strdup("");
    char *json = bg_asprintf(
        "{\"pools\": {\"blue\": {\"endpoints\": [\"%2$s\"]}, \"green\": {\"endpoints\": "
        "[\"%3$s\"]}},"
        " \"router\": {\"driver\": \"nginx\", \"mode\": \"%4$s\","
        " \"upstream_file\": \"%1$s/upstreams.conf\",%5$s"
        " \"test_argv\": [\"" NGINX_BIN "\", \"-t\", \"-q\", \"-c\", \"%1$s/nginx.conf\", \"-p\","
        " \"%1$s\", \"-e\", \"%1$s/error.log\"], \"reload_argv\": %6$s, \"timeout_s\": 10}}",
        tmp, blue.url, green.url, mode_name(), weights,
        reload_argv_json ? reload_argv_json : reload);
    free(reload);
    free(weights);
    return json;
}

static int new_router(bg_router **out, const char *reload_argv_json, bg_error *err)
{
    char *json = router_json(reload_argv_json);
    int rc = bgt_router_from_json(out, json, err);
    free(json);
    return rc;
}

static const char *start_nginx(void)
{
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights w = {{100, 0}};
    int rc = new_router(&r, "[\"true\"]", &err); /* first install: nothing to reload yet */
    if (!rc)
        rc = bg_router_set(r, &w, &err);
    bg_router_free(r);
    if (rc) {
        fprintf(stderr, "first install: %s\n", err.msg);
        return "could not write the first upstream file";
    }
    char *conf = tmp_path("nginx.conf");
    int code = bgt_nginx_start(tmp, conf, 10);
    free(conf);
    if (code != 0) {
        dump_logs();
        return "nginx did not start";
    }
    return NULL;
}

static const char *missing_tool(void)
{
    if (hitless && (access(LUA_MODULE, R_OK) != 0 || access(NDK_MODULE, R_OK) != 0))
        return LUA_MODULE " is missing (apt-get install libnginx-mod-http-lua)";
    return bgt_router_test_missing(NGINX_BIN, "nginx");
}

static void setup(void)
{
    setup_error = NULL;
    if ((skip_reason = missing_tool()))
        return;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = bgt_tmpdir();
    if (!tmp || write_answers() != 0) {
        setup_error = "no temp dir";
        return;
    }
    char *answers = tmp_path("answers.json"), blue_addr[64], green_addr[64];
    const char *args[] = {"--answers", answers, "--latency-ms", "2", "--token-ms", "50", NULL};
    setup_error = bgt_pair_setup(tmp, &blue, &green, args, blue_addr, green_addr);
    free(answers);
    if (setup_error)
        return;
    nginx_port = bgt_free_port();
    if (write_nginx_conf() != 0)
        setup_error = "cannot write nginx.conf or the documented snippet";
    else
        setup_error = start_nginx();
}

static void setup_hitless(void)
{
    hitless = true;
    setup();
}

static void setup_reload(void)
{
    hitless = false;
    setup();
}

static void teardown(void)
{
    if (tmp) {
        bgt_nginx_pair_stop(tmp, &blue, &green);
        free(tmp);
        tmp = NULL;
        curl_global_cleanup();
    }
}

#define SKIP_IF_NEEDED()                                                                     \
    do {                                                                                     \
        if (skip_reason) {                                                                   \
            fprintf(stderr, "SKIPPED %s (mode %s): %s\n", __func__, mode_name(),            \
                    skip_reason);                                                            \
            return;                                                                          \
        }                                                                                    \
        ck_assert_msg(setup_error == NULL, "setup: %s", setup_error);                       \
    } while (0)

/* ======================= flips ======================= */

static void set_weights(bg_router *r, int b, int g)
{
    bg_weights w = {{b, g}};
    bg_error err = {0};
    CHECK_OR_DUMP(bg_router_set(r, &w, &err) == 0, "set %d/%d: %s", b, g, err.msg);
}

/* FLIPS flips, one every FLIP_PERIOD_MS, starting from and ending at blue 100 %. */
static void flip_many(bg_router *r)
{
    double t0 = bg_now_ms();
    for (int i = 0; i < FLIPS; i++) {
        bool to_green = i % 2 == 0;
        set_weights(r, to_green ? 0 : 100, to_green ? 100 : 0);
        sleep_ms(t0 + (i + 1) * FLIP_PERIOD_MS - bg_now_ms());
    }
}

/* ======================= the libcurl load generator ======================= */

typedef struct slot {
    CURL *easy;
    bg_buf body;
} slot;

typedef struct load {
    bool reuse;           /* keep-alive connections (else one per request) */
    long started, done, failed, from_blue, from_green;
    char first_failure[300];
} load;

static size_t slot_body(char *p, size_t size, size_t n, void *ud)
{
    slot *s = ud;
    bg_buf_append(&s->body, p, size * n); /* capped: a too long body is judged below */
    return size * n;
}

static void slot_start(load *l, CURLM *multi, slot *s, const char *url, struct curl_slist *h)
{
    if (!s->easy) {
        s->easy = curl_easy_init();
        curl_easy_setopt(s->easy, CURLOPT_URL, url);
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, PING_BODY);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, slot_body);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(s->easy, CURLOPT_FORBID_REUSE, l->reuse ? 0L : 1L);
        curl_easy_setopt(s->easy, CURLOPT_FRESH_CONNECT, l->reuse ? 0L : 1L);
    }
    bg_buf_reset(&s->body);
    curl_multi_add_handle(multi, s->easy);
    l->started++;
}

/* Counts one finished request as a success (200 and a pool's model) or a failure. */
static void judge(load *l, slot *s, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    const char *body = bg_buf_cstr(&s->body);
    bool is_blue = strstr(body, "\"model\":\"blue-model\"") != NULL;
    bool is_green = strstr(body, "\"model\":\"green-model\"") != NULL;
    l->done++;
    if (rc == CURLE_OK && status == 200 && (is_blue || is_green)) {
        *(is_blue ? &l->from_blue : &l->from_green) += 1;
        return;
    }
    if (l->failed++ == 0) {
        char excerpt[120];
        bg_excerpt(excerpt, sizeof excerpt, body, s->body.len, 100);
        snprintf(l->first_failure, sizeof l->first_failure, "%s, status %ld, body \"%s\"",
                 curl_easy_strerror(rc), status, excerpt);
    }
}

static void *load_run(void *arg)
{
    load *l = arg;
    slot slots[LOAD_CONCURRENCY];
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", nginx_port);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)LOAD_CONCURRENCY);
    double deadline = bg_now_ms() + LOAD_MS;
    memset(slots, 0, sizeof slots);
    for (int i = 0; i < LOAD_CONCURRENCY; i++) {
        bg_buf_init(&slots[i].body, 64 << 10);
        slot_start(l, multi, &slots[i], url, h);
    }
    int running = 1;
    while (running > 0) {
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            slot *s = NULL;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            judge(l, s, msg->data.result);
            curl_multi_remove_handle(multi, s->easy);
            if (bg_now_ms() < deadline && l->started < LOAD_MAX_REQUESTS) {
                slot_start(l, multi, s, url, h);
                running++;
            }
        }
        if (running > 0)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < LOAD_CONCURRENCY; i++) {
        curl_easy_cleanup(slots[i].easy);
        bg_buf_dispose(&slots[i].body);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(h);
    return NULL;
}

/* Runs the libcurl load while flipping FLIPS times; *l holds the counts. */
static void load_while_flipping(bg_router *r, load *l)
{
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, load_run, l), 0);
    sleep_ms(100);
    flip_many(r);
    pthread_join(th, NULL);
    fprintf(stderr, "%s mode, libcurl %s: %ld requests (blue %ld, green %ld), %ld failed over "
                    "%d flips%s%s\n",
            mode_name(), l->reuse ? "keep-alive" : "new connection per request", l->done,
            l->from_blue, l->from_green, l->failed, FLIPS, l->failed ? "; first: " : "",
            l->first_failure);
    /* the flips really moved traffic while the load ran */
    CHECK_OR_DUMP(l->from_blue > 0 && l->from_green > 0 && l->done >= 100,
                  "load did not see both pools: %ld requests, blue %ld, green %ld", l->done,
                  l->from_blue, l->from_green);
}

/* ======================= wrk ======================= */

/* wrk with keep-alive connections while flipping; false when wrk is not installed. */
static bool wrk_while_flipping(bg_router *r, bgt_wrk *w)
{
    if (access(BGT_WRK_BIN, X_OK) != 0) {
        fprintf(stderr, "SKIPPED the wrk part (mode %s): " BGT_WRK_BIN " is not installed\n",
                mode_name());
        return false;
    }
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", nginx_port);
    ck_assert_int_eq(bgt_wrk_start(w, tmp, url, PING_BODY, 16, 3), 0);
    sleep_ms(200);
    flip_many(r);
    CHECK_OR_DUMP(bgt_wrk_finish(w, true) == 0, "wrk failed (its output is above)");
    fprintf(stderr, "%s mode, wrk keep-alive: %ld responses, %ld non-2xx, %ld socket errors "
                    "over %d flips\n",
            mode_name(), w->requests, w->non_2xx, w->socket_errors, FLIPS);
    return true;
}

/* ======================= one request at a time ======================= */

typedef struct answer {
    long status;
    bg_buf body;
    atomic_bool first_byte;
} answer;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    answer *a = ud;
    bg_buf_append(&a->body, p, size * n);
    atomic_store(&a->first_byte, true);
    return size * n;
}

static CURLcode post(answer *a, const char *body, long timeout_ms)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", nginx_port);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return rc;
}

/* One ping on a fresh connection: true when blue answered (fails on anything else). */
static bool ping_is_blue(void)
{
    bgt_answer a;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", nginx_port);
    CURLcode rc = (CURLcode)bgt_http_ask(&a, url, PING_BODY, 5000);
    bool is_blue = strstr(a.body, "\"model\":\"blue-model\"") != NULL;
    bool is_green = strstr(a.body, "\"model\":\"green-model\"") != NULL;
    CHECK_OR_DUMP(rc == CURLE_OK && a.status == 200 && (is_blue || is_green),
                  "ping: %s, status %ld, body %s", curl_easy_strerror(rc), a.status, a.body);
    return is_blue;
}

/* ======================= the streamed completion ======================= */

static void *stream_run(void *arg)
{
    answer *a = arg;
    post(a, "{\"model\": \"x\", \"stream\": true, \"messages\": [{\"role\": \"user\", "
            "\"content\": \"" STREAM_PROMPT "\"}]}",
         30000);
    return NULL;
}

/* Reassembles the SSE body: every event is one model's chunk; ends with [DONE]. */
static void check_stream(const answer *a, const char *model)
{
    bg_buf text;
    int events = 0;
    bool done = false;
    bg_buf_init(&text, 0);
    const char *body = bg_buf_cstr(&a->body);
    for (const char *p = body; *p;) {
        const char *end = strstr(p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        ck_assert_msg(!done, "data after [DONE]");
        ck_assert_msg(bg_str_starts_with(p, "data: "), "not an SSE event: %.*s", (int)len, p);
        if (len == 12 && strncmp(p, "data: [DONE]", 12) == 0) {
            done = true;
        } else {
            cJSON *j = cJSON_ParseWithLength(p + 6, len - 6);
            ck_assert_msg(j != NULL, "event %d is not JSON: %.*s", events, (int)len, p);
            ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "model")), model);
            cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
            const char *piece = cJSON_GetStringValue(
                cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "delta"), "content"));
            if (piece)
                bg_buf_puts(&text, piece);
            cJSON_Delete(j);
            events++;
        }
        p += len + (end ? 2 : 0);
    }
    ck_assert_msg(done, "the stream has no [DONE] (%d events)", events);
    ck_assert_int_eq(events, STREAM_WORDS + 1); /* one per token + the finish chunk */
    ck_assert_str_eq(bg_buf_cstr(&text), story);
    bg_buf_dispose(&text);
}

/* ======================= the tests ======================= */

START_TEST(flips_drop_no_request_on_new_connections)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    load l = {.reuse = false};
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0);
    load_while_flipping(r, &l);
    /* both modes: nginx hands new connections to the new workers, old ones finish theirs */
    CHECK_OR_DUMP(l.failed == 0, "%s mode: %ld of %ld requests failed; first: %s", mode_name(),
                  l.failed, l.done, l.first_failure);
    bg_router_free(r);
}
END_TEST

START_TEST(flips_and_keepalive_connections)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    load l = {.reuse = true};
    bgt_wrk w;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0);
    bool have_wrk = wrk_while_flipping(r, &w);
    load_while_flipping(r, &l);
    long wrk_failed = have_wrk ? w.non_2xx + w.socket_errors : 0;
    if (!hitless) {
        /* recorded, not asserted: reload closes idle keep-alive connections */
        if (have_wrk)
            fprintf(stderr, "reload mode keep-alive: %ld of %ld requests failed over %d flips "
                            "(wrk)\n",
                    wrk_failed, w.requests + w.socket_errors, FLIPS);
        fprintf(stderr, "reload mode keep-alive: %ld of %ld requests failed over %d flips "
                        "(libcurl, which resends on a closed reused connection)\n",
                l.failed, l.done, FLIPS);
    } else {
        CHECK_OR_DUMP(wrk_failed == 0, "hitless mode, wrk: %ld non-2xx, %ld socket errors",
                      w.non_2xx, w.socket_errors);
        CHECK_OR_DUMP(have_wrk ? w.requests >= 100 : true, "wrk got only %ld responses",
                      w.requests);
        CHECK_OR_DUMP(l.failed == 0, "hitless mode, libcurl keep-alive: %ld of %ld failed; "
                                     "first: %s",
                      l.failed, l.done, l.first_failure);
    }
    bg_router_free(r);
}
END_TEST

START_TEST(stream_in_flight_across_flips_arrives_whole)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    answer a;
    pthread_t th;
    memset(&a, 0, sizeof a);
    bg_buf_init(&a.body, 1 << 20);
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0);
    sleep_ms(100);
    double t0 = bg_now_ms();
    ck_assert_int_eq(pthread_create(&th, NULL, stream_run, &a), 0);
    while (!atomic_load(&a.first_byte) && bg_now_ms() - t0 < 3000)
        sleep_ms(5);
    CHECK_OR_DUMP(atomic_load(&a.first_byte), "no first byte of the stream within 3 s");
    /* the stream is on blue: flip away (and back and away) while it runs */
    set_weights(r, 0, 100);
    sleep_ms(500);
    bool moved = false;
    for (int i = 0; i < 40 && !moved; i++, sleep_ms(50))
        moved = !ping_is_blue();
    CHECK_OR_DUMP(moved, "new requests still go to blue 2.5 s after the flip");
    set_weights(r, 100, 0);
    sleep_ms(500);
    set_weights(r, 0, 100);
    pthread_join(th, NULL);
    double ms = bg_now_ms() - t0;
    fprintf(stderr, "%s mode: a %.1f s stream across 3 flips: status %ld, %zu bytes\n",
            mode_name(), ms / 1000, a.status, a.body.len);
    CHECK_OR_DUMP(a.status == 200, "stream status %ld", a.status);
    CHECK_OR_DUMP(ms > 4000, "the stream took only %.0f ms (was it streamed?)", ms);
    check_stream(&a, "blue-model");
    bg_buf_dispose(&a.body);
    bg_router_free(r);
}
END_TEST

START_TEST(flip_visibility_is_measured)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    double worst = 0, sum = 0, set_sum = 0;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0);
    sleep_ms(300);
    for (int i = 0; i < 3; i++) /* warm up libcurl (its first request is slow under valgrind) */
        ping_is_blue();
    for (int i = 0; i < 10; i++) {
        bool to_blue = i % 2 == 1;
        double t_set = bg_now_ms();
        set_weights(r, to_blue ? 100 : 0, to_blue ? 0 : 100);
        double t0 = bg_now_ms(), seen = -1;
        set_sum += t0 - t_set;
        while (seen < 0 && bg_now_ms() - t0 < 5000)
            if (ping_is_blue() == to_blue)
                seen = bg_now_ms() - t0;
        CHECK_OR_DUMP(seen >= 0, "flip %d not seen within 5 s", i);
        sum += seen;
        worst = seen > worst ? seen : worst;
        sleep_ms(200 + i * 7);
    }
    fprintf(stderr, "%s mode flip visibility: mean %.1f ms, worst %.1f ms (bg_router_set itself: "
                    "mean %.1f ms) over 10 flips\n",
            mode_name(), sum / 10, worst, set_sum / 10);
    if (hitless)
        CHECK_OR_DUMP(worst < 50, "a hitless flip took %.1f ms to be seen", worst);
    bg_router_free(r);
}
END_TEST

static TCase *mode_case(const char *name, void (*fixture)(void))
{
    TCase *tc = tcase_create(name);
    tcase_add_unchecked_fixture(tc, fixture, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, flip_visibility_is_measured);
    tcase_add_test(tc, flips_drop_no_request_on_new_connections);
    tcase_add_test(tc, flips_and_keepalive_connections);
    tcase_add_test(tc, stream_in_flight_across_flips_arrives_whole);
    return tc;
}

Suite *make_suite(void)
{
    Suite *s = suite_create("zero_drop");
    suite_add_tcase(s, mode_case("hitless", setup_hitless));
    suite_add_tcase(s, mode_case("reload", setup_reload));
    return s;
}

BG_CHECK_MAIN()
