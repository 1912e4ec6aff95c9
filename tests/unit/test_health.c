/* test_health.c — waiting for a pool to be ready, warm-up and the in-flight gauge,
 * against the real bg-mock (started on 127.0.0.1 port 0, stopped by pid) and, for
 * metric text bg-mock does not produce (llama.cpp's), a libmicrohttpd server in this
 * process.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "../support/check_main.h"
#include "../support/proc.h"
#include "../../src/pool/pool_driver.h"
#include "bggate/pool.h"
#include "bggate/util.h"

#define MAX_MOCKS 2

static char *tmp;
static bgt_mock mocks[MAX_MOCKS];
static char *endpoints[MAX_MOCKS + 1];

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
    memset(mocks, 0, sizeof mocks);
    for (int i = 0; i < MAX_MOCKS; i++)
        mocks[i].pid = -1;
}

static void teardown(void)
{
    for (int i = 0; i < MAX_MOCKS; i++)
        bgt_mock_stop(&mocks[i]);
    bgt_rmtree(tmp);
    free(tmp);
    curl_global_cleanup();
}

static void start_mock(int i, const char *const *args)
{
    char name[16];
    snprintf(name, sizeof name, "mock%d", i);
    ck_assert_msg(bgt_mock_start(&mocks[i], tmp, name, args) == 0,
                  "bg-mock did not start (BG_MOCK_BIN=%s)", getenv("BG_MOCK_BIN"));
}

/* A green static pool over the given endpoints. */
static void pool_of(bg_pool_config *p, size_t n, ...)
{
    va_list ap;
    memset(p, 0, sizeof *p);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        endpoints[i] = va_arg(ap, char *);
    va_end(ap);
    p->id = BG_POOL_GREEN;
    p->driver = "static";
    p->endpoints = endpoints;
    p->n_endpoints = n;
}

static bg_health_config health(long timeout_s)
{
    bg_health_config h = {.path = "/health", .timeout_s = timeout_s, .interval_ms = 250,
                          .max_interval_ms = 5000, .stop_on_timeout = true};
    return h;
}

typedef struct progress_log {
    char lines[16][200];
    double waited_s[16];
    int n;
} progress_log;

static void on_progress(void *ud, const char *endpoint, const char *state, double waited_s)
{
    progress_log *l = ud;
    if (l->n < 16) {
        l->waited_s[l->n] = waited_s;
        snprintf(l->lines[l->n++], sizeof l->lines[0], "%s %s", endpoint, state);
    }
}

static int count_lines_with(const char *path, const char *needle)
{
    char *text = bgt_read_file(path);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)) != NULL; p++)
        n++;
    free(text);
    return n;
}

/* --- health wait --- */

START_TEST(health_wait_returns_soon_after_cold_start_ends)
{
    const char *cold[] = {"--model", "new-model", "--cold-start-ms", "600", NULL};
    const char *warm[] = {"--model", "new-model", NULL};
    double t_start = bg_now_ms();
    start_mock(0, cold);
    start_mock(1, warm);
    double t_up = bg_now_ms();
    bg_pool_config p;
    bg_health_config h = health(10);
    bg_error err;
    progress_log log = {.n = 0};
    pool_of(&p, 2, mocks[0].url, mocks[1].url);
    ck_assert_int_eq(bg_health_wait(&p, &h, "new-model", on_progress, &log, &err), 0);
    /* the cold start began when the mock started: between t_start and t_up */
    double now = bg_now_ms(), after_ready = now - (t_up + 600);
    ck_assert_msg(now > t_start + 600 && after_ready < 300,
                  "returned %.0f ms after the cold start ended (mock up after %.0f ms; "
                  "%s at %.3f s, %s at %.3f s, %s at %.3f s)",
                  after_ready, t_up - t_start, log.lines[0], log.waited_s[0], log.lines[1],
                  log.waited_s[1], log.lines[2], log.waited_s[2]);
    char want[200];
    snprintf(want, sizeof want, "%s /health answered 503", mocks[0].url);
    int ready = 0, loading = -1, cold_ready = -1;
    for (int i = 0; i < log.n; i++) {
        ready += bg_str_ends_with(log.lines[i], " ready");
        if (strcmp(log.lines[i], want) == 0)
            loading = i;
        if (bg_str_starts_with(log.lines[i], mocks[0].url) &&
            bg_str_ends_with(log.lines[i], " ready"))
            cold_ready = i;
    }
    ck_assert_int_eq(ready, 2);
    ck_assert_msg(loading >= 0 && cold_ready > loading, "progress: %s | %s | %s", log.lines[0],
                  log.lines[1], log.lines[2]);
    /* the state of the cold endpoint is reported once per change, not per poll */
    ck_assert_int_eq(log.n, 3);
    ck_assert_int_ge(count_lines_with(mocks[0].req_log, "\"path\":\"/health\""), 2);
    ck_assert_int_ge(count_lines_with(mocks[0].req_log, "\"path\":\"/v1/models\""), 2);
}
END_TEST

START_TEST(health_wait_times_out_when_the_old_model_is_served)
{
    const char *args[] = {"--model", "old-model", NULL};
    start_mock(0, args);
    bg_pool_config p;
    bg_health_config h = health(1);
    bg_error err;
    pool_of(&p, 1, mocks[0].url);
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_health_wait(&p, &h, "new-model", NULL, NULL, &err), BG_ETIMEOUT);
    double took = bg_now_ms() - t0;
    ck_assert_msg(took >= 1000 && took < 2000, "took %.0f ms", took);
    char want[300];
    snprintf(want, sizeof want,
             "pools.green: %s not ready after 1 s: serves model \"old-model\", not \"new-model\"",
             mocks[0].url);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(health_wait_times_out_on_an_unreachable_port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", bgt_free_port());
    bg_pool_config p;
    bg_health_config h = health(1);
    bg_error err;
    pool_of(&p, 1, url);
    ck_assert_int_eq(bg_health_wait(&p, &h, "m", NULL, NULL, &err), BG_ETIMEOUT);
    char want[200];
    snprintf(want, sizeof want, "pools.green: %s not ready after 1 s: connection refused", url);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* --- warm-up --- */

START_TEST(warmup_sends_n_chat_requests_per_endpoint)
{
    const char *args[] = {"--model", "m1", "--latency-ms", "100", NULL};
    start_mock(0, args);
    start_mock(1, args);
    bg_pool_config p;
    bg_error err;
    pool_of(&p, 2, mocks[0].url, mocks[1].url);
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_pool_warmup(&p, "m1", 3, 5000, &err), 0);
    double took = bg_now_ms() - t0;
    ck_assert_msg(took < 300, "warm-up not concurrent: %.0f ms for 6 x 100 ms", took);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(bgt_mock_request_count(&mocks[i]), 3);
        ck_assert_int_eq(count_lines_with(mocks[i].req_log, "\"path\":\"/v1/chat/completions\""),
                         3);
        ck_assert_int_eq(count_lines_with(mocks[i].req_log, "\"prompt\":\"warm-up\""), 3);
        ck_assert_int_eq(count_lines_with(mocks[i].req_log, "\"model\":\"m1\""), 3);
    }
}
END_TEST

START_TEST(warmup_fails_naming_the_endpoint)
{
    const char *slow[] = {"--latency-ms", "3000", NULL};
    start_mock(0, slow);
    bg_pool_config p;
    bg_error err;
    pool_of(&p, 1, mocks[0].url);
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_pool_warmup(&p, "m", 2, 300, &err), BG_ENET);
    ck_assert_msg(bg_now_ms() - t0 < 1500, "took %.0f ms", bg_now_ms() - t0);
    char want[200];
    snprintf(want, sizeof want, "pools.green: warm-up of %s: no answer within 300 ms",
             mocks[0].url);
    ck_assert_str_eq(err.msg, want);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", bgt_free_port());
    pool_of(&p, 1, url);
    ck_assert_int_eq(bg_pool_warmup(&p, "m", 1, 1000, &err), BG_ENET);
    snprintf(want, sizeof want, "pools.green: warm-up of %s: connection refused", url);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* --- in-flight gauge --- */

START_TEST(inflight_reads_vllm_gauge_idle_and_busy)
{
    const char *args[] = {"--latency-ms", "500", NULL};
    start_mock(0, args);
    bg_pool_config p;
    bg_error err;
    double v = -1;
    pool_of(&p, 1, mocks[0].url);
    ck_assert_int_eq(bg_pool_inflight(&p, NULL, &v, &err), 0);
    ck_assert(v == 0.0);

    /* two slow requests in flight on a second multi handle */
    CURLM *multi = curl_multi_init();
    bg_pool_http reqs[2];
    char *url = bg_pool_endpoint_join(mocks[0].url, "/chat/completions");
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    for (int i = 0; i < 2; i++) {
        reqs[i].tag = 0;
        bg_pool_http_init(&reqs[i]);
        ck_assert_int_eq(bg_pool_http_start(&reqs[i], multi, url, body, NULL, 5000, &err), 0);
    }
    double until = bg_now_ms() + 150;
    while (bg_now_ms() < until)
        ck_assert_int_eq(bg_pool_http_pump(multi, 20, &err), 0);
    ck_assert_int_eq(bg_pool_inflight(&p, "vllm:num_requests_running", &v, &err), 0);
    ck_assert_msg(v == 2.0, "in flight: %g", v);
    ck_assert_int_eq(bg_pool_http_run(multi, reqs, 2, bg_now_ms() + 5000, &err), 0);
    ck_assert(bg_pool_http_ok(&reqs[0]) && bg_pool_http_ok(&reqs[1]));
    ck_assert_int_eq(bg_pool_inflight(&p, NULL, &v, &err), 0);
    ck_assert(v == 0.0);
    for (int i = 0; i < 2; i++)
        bg_pool_http_dispose(&reqs[i]);
    curl_multi_cleanup(multi);
    free(url);
}
END_TEST

START_TEST(inflight_without_the_gauge_is_not_supported)
{
    start_mock(0, NULL);
    bg_pool_config p;
    bg_error err;
    double v = -1;
    pool_of(&p, 1, mocks[0].url);
    ck_assert_int_eq(bg_pool_inflight(&p, "tgi_queue_size", &v, &err), BG_ENOTSUP);
    ck_assert_str_eq(err.msg, "pools.green: no endpoint exposes tgi_queue_size");
    ck_assert(v == -1);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", bgt_free_port());
    pool_of(&p, 1, url);
    ck_assert_int_eq(bg_pool_inflight(&p, NULL, &v, &err), BG_ENET);
    char want[200];
    snprintf(want, sizeof want, "pools.green: %s metrics: connection refused", url);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* A llama.cpp-like /metrics: no vLLM gauge, labels with braces inside quotes. */
static const char llamacpp_metrics[] =
    "# HELP llamacpp:requests_processing Number of requests processing.\n"
    "# TYPE llamacpp:requests_processing gauge\n"
    "llamacpp:requests_processing{slot=\"a}b\",x=\"q\\\"\"} 2\n"
    "llamacpp:requests_processing{slot=\"1\"} 1.5 1700000000000\n"
    "llamacpp:requests_processing_total 99\n"
    "llamacpp:requests_deferred 7\n";

static enum MHD_Result metrics_handler(void *cls, struct MHD_Connection *c, const char *url,
                                       const char *method, const char *version,
                                       const char *data, size_t *data_size, void **con_cls)
{
    (void)cls, (void)method, (void)version, (void)data, (void)data_size, (void)con_cls;
    bool found = strcmp(url, "/metrics") == 0;
    const char *body = found ? llamacpp_metrics : "not found";
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, found ? 200 : 404, r);
    MHD_destroy_response(r);
    return ret;
}

START_TEST(inflight_falls_back_to_llamacpp_and_sums_endpoints)
{
    start_mock(0, NULL);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, metrics_handler, NULL,
                         MHD_OPTION_END);
    ck_assert_ptr_nonnull(d);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/",
             MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    bg_pool_config p;
    bg_error err;
    double v = -1;
    pool_of(&p, 2, mocks[0].url, url);
    ck_assert_int_eq(bg_pool_inflight(&p, NULL, &v, &err), 0);
    ck_assert_msg(v == 3.5, "sum %g", v);
    ck_assert_int_eq(bg_pool_inflight(&p, "llamacpp:requests_deferred", &v, &err), 0);
    ck_assert_msg(v == 7.0, "sum %g", v);
    MHD_stop_daemon(d);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("health");
    TCase *tc = tcase_create("mock");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, health_wait_returns_soon_after_cold_start_ends);
    tcase_add_test(tc, health_wait_times_out_when_the_old_model_is_served);
    tcase_add_test(tc, health_wait_times_out_on_an_unreachable_port);
    tcase_add_test(tc, warmup_sends_n_chat_requests_per_endpoint);
    tcase_add_test(tc, warmup_fails_naming_the_endpoint);
    tcase_add_test(tc, inflight_reads_vllm_gauge_idle_and_busy);
    tcase_add_test(tc, inflight_without_the_gauge_is_not_supported);
    tcase_add_test(tc, inflight_falls_back_to_llamacpp_and_sums_endpoints);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
