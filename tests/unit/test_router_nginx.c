/* test_router_nginx.c — the nginx router driver against a real nginx (Debian's
 * /usr/sbin/nginx) and two real bg-mock servers ("blue-model", "green-model"), all on
 * 127.0.0.1 in a temp dir. Requests go through nginx with libcurl; the X-BG-Upstream
 * header nginx adds names the upstream that answered. The config nginx runs is the
 * documented snippet (docs/nginx-reload.conf) wrapped in a minimal main config.
 *
 * nginx and the mocks are started once per test case (unchecked fixture, in the parent
 * process, so teardown runs even when a test fails) and stopped by PID. Each test sets the
 * weights it starts from. Without nginx or $BG_MOCK_BIN the tests are skipped, loudly.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/proc.h"
#include "bggate/router.h"
#include "bggate/util.h"

#define NGINX_BIN "/usr/sbin/nginx"

static char *tmp;
static bgt_mock blue, green;
static int nginx_port;
static const char *skip_reason;  /* nothing to test with: the tests pass, loudly */
static const char *setup_error;  /* something broke while starting: the tests fail */
static char blue_addr[64], green_addr[64];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *tmp_path(const char *name)
{
    return bg_asprintf("%s/%s", tmp, name);
}

/* Prints the end of a log (the last 4 KiB). */
static void print_file(const char *label, const char *path)
{
    char *text = bgt_read_file(path);
    size_t len = text ? strlen(text) : 0;
    const char *from = text && len > 4096 ? text + len - 4096 : text;
    fprintf(stderr, "--- %s (%s) ---\n%s\n", label, path, from ? from : "(missing)");
    free(text);
}

/* Prints what the servers logged; called before a traffic assertion fails. */
static void dump_logs(void)
{
    char *err = tmp_path("error.log"), *up = tmp_path("up.conf");
    print_file("nginx error.log", err);
    print_file("upstream file", up);
    print_file("bg-mock blue", blue.log_path);
    print_file("bg-mock green", green.log_path);
    free(err);
    free(up);
}

#define CHECK_OR_DUMP(cond, ...)                                                             \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            dump_logs();                                                                     \
            ck_abort_msg(__VA_ARGS__);                                                       \
        }                                                                                    \
    } while (0)

/* The main config: temp paths in tmp, then the documented http-level snippet. */
static int write_nginx_conf(void)
{
    char *conf = tmp_path("nginx.conf");
    char *text = bg_asprintf(
        "worker_processes 1;\n"
        "pid %1$s/nginx.pid;\n"
        "error_log %1$s/error.log notice;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "    access_log %1$s/access.log;\n"
        "    client_body_temp_path %1$s/client_body;\n"
        "    proxy_temp_path %1$s/proxy;\n"
        "    fastcgi_temp_path %1$s/fastcgi;\n"
        "    uwsgi_temp_path %1$s/uwsgi;\n"
        "    scgi_temp_path %1$s/scgi;\n"
        "    # --- docs/nginx-reload.conf ---\n"
        "    include %1$s/up.conf;\n"
        "    server {\n"
        "        listen 127.0.0.1:%2$d;\n"
        "        location / {\n"
        "            proxy_pass http://bg_gate_llm;\n"
        "            proxy_http_version 1.1;\n"
        "            proxy_set_header Connection \"\";\n"
        "            proxy_buffering off;\n"
        "            proxy_read_timeout 300s;\n"
        "            add_header X-BG-Upstream $upstream_addr always;\n"
        "        }\n"
        "    }\n"
        "}\n",
        tmp, nginx_port);
    bg_error err = {0};
    int rc = bg_file_write_atomic(conf, text, strlen(text), &err);
    free(conf);
    free(text);
    return rc;
}

/* The router config the tests use; test_argv can be replaced. */
static char *router_json(const char *test_argv_json)
{
    char *def = NULL;
    if (!test_argv_json)
        test_argv_json = def = bg_asprintf(
            "[\"" NGINX_BIN "\", \"-t\", \"-q\", \"-c\", \"%1$s/nginx.conf\", \"-p\", \"%1$s\", "
            "\"-e\", \"%1$s/error.log\"]",
            tmp);
    char *json = bg_asprintf(
        "{\"pools\": {\"blue\": {\"endpoints\": [\"%s\"]}, \"green\": {\"endpoints\": [\"%s\"]}},"
        " \"router\": {\"driver\": \"nginx\", \"upstream_file\": \"%s/up.conf\","
        " \"endpoint\": \"http://127.0.0.1:%d/v1\", \"upstream_header\": \"X-BG-Upstream\","
        " \"test_argv\": %s,"
        " \"reload_argv\": [\"" NGINX_BIN "\", \"-s\", \"reload\", \"-c\", \"%s/nginx.conf\","
        " \"-p\", \"%s\", \"-e\", \"%s/error.log\"], \"timeout_s\": 10}}",
        blue.url, green.url, tmp, nginx_port, test_argv_json, tmp, tmp, tmp);
    free(def);
    return json;
}

static int new_router(bg_router **out, const char *test_argv_json, bg_error *err)
{
    char *json = router_json(test_argv_json);
    cJSON *root = cJSON_Parse(json);
    bg_pools pools;
    memset(&pools, 0, sizeof pools);
    int rc = root ? bg_pools_parse(&pools, root, err) : BG_EINVAL;
    if (!rc)
        rc = bg_router_new(out, root, &pools, err);
    bg_pools_dispose(&pools);
    cJSON_Delete(root);
    free(json);
    return rc;
}

static pid_t nginx_pid(void)
{
    char *path = tmp_path("nginx.pid");
    char *s = bgt_read_file(path);
    long pid = 0;
    free(path);
    if (s) {
        s[strcspn(s, "\n")] = '\0';
        bg_parse_long(&pid, s, 1, 1 << 22);
    }
    free(s);
    return (pid_t)pid;
}

/* Writes the first upstream file (nginx cannot start without it), then starts nginx. */
static const char *start_nginx(void)
{
    bg_router *r = NULL;
    bg_error err = {0};
    /* bootstrap: real `nginx -t`, but nothing to reload yet */
    char *test = bg_asprintf("[\"" NGINX_BIN "\", \"-t\", \"-q\", \"-c\", \"%1$s/nginx.conf\", "
                             "\"-p\", \"%1$s\", \"-e\", \"%1$s/error.log\"]",
                             tmp);
    char *json = router_json(test);
    char *boot = NULL;
    /* the bootstrap router reloads with `true` */
    char *at = strstr(json, "\"reload_argv\"");
    if (at)
        boot = bg_asprintf("%.*s\"reload_argv\": [\"true\"], \"timeout_s\": 10}}",
                           (int)(at - json), json);
    cJSON *root = cJSON_Parse(boot);
    bg_pools pools;
    memset(&pools, 0, sizeof pools);
    bg_weights w = {{100, 0}};
    int rc = root ? bg_pools_parse(&pools, root, &err) : -1;
    if (!rc)
        rc = bg_router_new(&r, root, &pools, &err);
    if (!rc)
        rc = bg_router_set(r, &w, &err);
    bg_router_free(r);
    bg_pools_dispose(&pools);
    cJSON_Delete(root);
    free(boot);
    free(json);
    free(test);
    if (rc) {
        fprintf(stderr, "bootstrap upstream file: %s\n", err.msg);
        return "could not write the first upstream file";
    }
    char *conf = tmp_path("nginx.conf"), *elog = tmp_path("error.log");
    const char *argv[] = {NGINX_BIN, "-c", conf, "-p", tmp, "-e", elog, NULL};
    int code = bgt_run_cmd(argv, 10);
    free(conf);
    free(elog);
    for (int i = 0; code == 0 && i < 500 && nginx_pid() <= 0; i++)
        sleep_ms(10);
    if (code != 0 || nginx_pid() <= 0) {
        dump_logs();
        return "nginx did not start";
    }
    return NULL;
}

static void stop_nginx(void)
{
    pid_t pid = nginx_pid();
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500 && kill(pid, 0) == 0; i++)
        sleep_ms(10);
    if (kill(pid, 0) == 0)
        kill(pid, SIGKILL);
}

static void setup(void)
{
    const char *mock_args_blue[] = {"--model", "blue-model", NULL};
    const char *mock_args_green[] = {"--model", "green-model", NULL};
    skip_reason = setup_error = NULL;
    memset(&blue, 0, sizeof blue);
    memset(&green, 0, sizeof green);
    blue.pid = green.pid = -1;
    if (access(NGINX_BIN, X_OK) != 0) {
        skip_reason = NGINX_BIN " is not installed (apt-get install nginx-light)";
        return;
    }
    if (!getenv("BG_MOCK_BIN") || access(getenv("BG_MOCK_BIN"), X_OK) != 0) {
        skip_reason = "BG_MOCK_BIN is not set to the bg-mock binary (run through make)";
        return;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    tmp = bgt_tmpdir();
    if (!tmp) {
        setup_error = "no temp dir";
        return;
    }
    chmod(tmp, 0755); /* nginx workers run as another user when we are root */
    if (bgt_mock_start(&blue, tmp, "blue", mock_args_blue) != 0 ||
        bgt_mock_start(&green, tmp, "green", mock_args_green) != 0) {
        setup_error = "bg-mock did not start";
        return;
    }
    snprintf(blue_addr, sizeof blue_addr, "127.0.0.1:%d", blue.port);
    snprintf(green_addr, sizeof green_addr, "127.0.0.1:%d", green.port);
    nginx_port = bgt_free_port();
    if (write_nginx_conf() != 0)
        setup_error = "cannot write nginx.conf";
    else
        setup_error = start_nginx();
}

static void teardown(void)
{
    if (tmp) {
        stop_nginx();
        bgt_mock_stop(&blue);
        bgt_mock_stop(&green);
        bgt_rmtree(tmp);
        free(tmp);
        tmp = NULL;
    }
    curl_global_cleanup();
}

#define SKIP_IF_NEEDED()                                                                     \
    do {                                                                                     \
        if (skip_reason) {                                                                   \
            fprintf(stderr, "SKIPPED %s: %s\n", __func__, skip_reason);                      \
            return;                                                                          \
        }                                                                                    \
        ck_assert_msg(setup_error == NULL, "setup: %s", setup_error);                       \
    } while (0)

/* --- requests through nginx --- */

typedef struct answer {
    long status;
    char upstream[128];
    char model[64];
} answer;

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    answer *a = ud;
    size_t len = size * n;
    static const char name[] = "X-BG-Upstream:";
    if (len > sizeof name && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1;
        size_t vl = len - (sizeof name - 1);
        while (vl && (*v == ' '))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        bg_strlcpy(a->upstream, v, vl + 1 < sizeof a->upstream ? vl + 1 : sizeof a->upstream);
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    answer *a = ud;
    const char *m = memmem(p, size * n, "-model", 6);
    if (m && !a->model[0]) {
        const char *s = m;
        while (s > p && s[-1] != '"')
            s--;
        bg_strlcpy(a->model, s, (size_t)(m + 6 - s) + 1 < sizeof a->model
                                    ? (size_t)(m + 6 - s) + 1
                                    : sizeof a->model);
    }
    return size * n;
}

/* GET /v1/models through nginx on a fresh connection. */
static void ask(answer *a)
{
    char url[128];
    memset(a, 0, sizeof *a);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/models", nginx_port);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(c);
}

/* n requests; counts which pool answered each (by upstream address and model name). */
static void count_answers(int n, int *from_blue, int *from_green)
{
    *from_blue = *from_green = 0;
    for (int i = 0; i < n; i++) {
        answer a;
        ask(&a);
        CHECK_OR_DUMP(a.status == 200, "request %d: status %ld", i, a.status);
        bool is_blue = strcmp(a.upstream, blue_addr) == 0;
        bool is_green = strcmp(a.upstream, green_addr) == 0;
        CHECK_OR_DUMP(is_blue || is_green, "request %d: X-BG-Upstream \"%s\"", i, a.upstream);
        CHECK_OR_DUMP(strcmp(a.model, is_blue ? "blue-model" : "green-model") == 0,
                      "request %d: upstream %s answered as model \"%s\"", i, a.upstream, a.model);
        *(is_blue ? from_blue : from_green) += 1;
    }
}

/* After a reload the old worker may answer briefly: poll (bounded) until n answers in a
 * row come from the expected pool. */
static void expect_all_from(bool want_blue, int n)
{
    double deadline = bg_now_ms() + 5000;
    int b = 0, g = 0;
    for (;;) {
        count_answers(n, &b, &g);
        if ((want_blue ? b : g) == n)
            return;
        CHECK_OR_DUMP(bg_now_ms() < deadline, "after 5 s still blue %d / green %d of %d", b, g,
                      n);
        sleep_ms(50);
    }
}

/* Number of live children of the nginx master (from /proc); *one is one of them. */
static int nginx_workers(pid_t master, pid_t *one)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        char path[300];
        long pid = 0;
        if (bg_parse_long(&pid, e->d_name, 1, 1 << 22) < 0)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        char *stat = bgt_read_file(path);
        const char *close = stat ? strrchr(stat, ')') : NULL;
        char state = 0;
        long ppid = 0;
        if (close && sscanf(close + 1, " %c %ld", &state, &ppid) == 2 && ppid == master &&
            state != 'Z') {
            n++;
            *one = (pid_t)pid;
        }
        free(stat);
    }
    if (d)
        closedir(d);
    return n;
}

/* The only worker of the nginx master (0 when there are several). */
static pid_t nginx_worker(void)
{
    pid_t one = 0;
    return nginx_workers(nginx_pid(), &one) == 1 ? one : 0;
}

/* `nginx -s reload` returns before the master has re-read its config, and the old worker
 * finishes gracefully (and may still accept for a moment): wait (bounded) until a single
 * worker other than `old` is left, so a measurement sees only the new config. */
static void wait_for_new_worker(pid_t old)
{
    double deadline = bg_now_ms() + 10000;
    pid_t now = nginx_worker();
    while ((now == 0 || now == old) && bg_now_ms() < deadline) {
        sleep_ms(20);
        now = nginx_worker();
    }
    CHECK_OR_DUMP(now != 0 && now != old, "no new nginx worker alone within 10 s");
}

static void set_weights(bg_router *r, int b, int g)
{
    bg_weights w = {{b, g}};
    bg_error err = {0};
    CHECK_OR_DUMP(bg_router_set(r, &w, &err) == 0, "set %d/%d: %s", b, g, err.msg);
}

START_TEST(nginx_flip_moves_all_traffic)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights got;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 100, 0);
    expect_all_from(true, 10);
    set_weights(r, 0, 100);
    expect_all_from(false, 10);
    ck_assert_int_eq(bg_router_get(r, &got, &err), 0);
    ck_assert_int_eq(got.w[BG_POOL_GREEN], 100);
    set_weights(r, 100, 0);
    expect_all_from(true, 10);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_canary_splits_traffic_by_weight)
{
    SKIP_IF_NEEDED();
    bg_router *r = NULL;
    bg_error err = {0};
    int b = 0, g = 0;
    ck_assert_msg(new_router(&r, NULL, &err) == 0, "%s", err.msg);
    set_weights(r, 0, 100);
    expect_all_from(false, 5);
    pid_t old = nginx_worker();
    set_weights(r, 75, 25);
    wait_for_new_worker(old);
    count_answers(40, &b, &g);
    /* smooth weighted round robin on one worker: 30 / 10; allow a little slack */
    CHECK_OR_DUMP(b >= 26 && b <= 34 && g >= 6, "75/25 gave blue %d / green %d", b, g);
    bg_router_free(r);
}
END_TEST

START_TEST(nginx_failed_test_command_leaves_file_and_traffic_unchanged)
{
    SKIP_IF_NEEDED();
    bg_router *good = NULL, *bad = NULL;
    bg_error err = {0};
    bg_weights w = {{0, 100}}, got;
    ck_assert_msg(new_router(&good, NULL, &err) == 0, "%s", err.msg);
    set_weights(good, 100, 0);
    expect_all_from(true, 5);
    char *path = tmp_path("up.conf");
    char *before = bgt_read_file(path);

    ck_assert_msg(new_router(&bad, "[\"/bin/false\"]", &err) == 0, "%s", err.msg);
    ck_assert_int_eq(bg_router_set(bad, &w, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "test_argv: /bin/false exited with 1: no output (the previous "
                              "upstream file is back in place)");
    char *after = bgt_read_file(path);
    ck_assert_str_eq(after, before);
    ck_assert_int_eq(bg_router_get(bad, &got, &err), 0);
    ck_assert_int_eq(got.w[BG_POOL_BLUE], 100);
    expect_all_from(true, 10);
    free(path);
    free(before);
    free(after);
    bg_router_free(good);
    bg_router_free(bad);
}
END_TEST

START_TEST(nginx_rejection_carries_nginx_output)
{
    SKIP_IF_NEEDED();
    bg_router *good = NULL, *bad = NULL;
    bg_error err = {0};
    bg_weights w = {{0, 100}};
    ck_assert_msg(new_router(&good, NULL, &err) == 0, "%s", err.msg);
    set_weights(good, 100, 0);
    /* the real nginx -t, on a main config that does not exist */
    char *test = bg_asprintf("[\"" NGINX_BIN "\", \"-t\", \"-q\", \"-c\", \"%1$s/missing.conf\", "
                             "\"-p\", \"%1$s\", \"-e\", \"%1$s/error.log\"]",
                             tmp);
    ck_assert_msg(new_router(&bad, test, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(bg_router_set(bad, &w, &err), BG_EIO);
    char *want = bg_asprintf("test_argv: " NGINX_BIN " exited with 1: nginx: [emerg] open() "
                             "\"%s/missing.conf\" failed (2: No such file or directory)",
                             tmp);
    ck_assert_msg(bg_str_starts_with(err.msg, want), "got: %s", err.msg);
    ck_assert(bg_str_ends_with(err.msg, "(the previous upstream file is back in place)"));
    expect_all_from(true, 5);
    free(want);
    free(test);
    bg_router_free(good);
    bg_router_free(bad);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("router_nginx");
    TCase *tc = tcase_create("nginx");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, nginx_flip_moves_all_traffic);
    tcase_add_test(tc, nginx_canary_splits_traffic_by_weight);
    tcase_add_test(tc, nginx_failed_test_command_leaves_file_and_traffic_unchanged);
    tcase_add_test(tc, nginx_rejection_carries_nginx_output);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
