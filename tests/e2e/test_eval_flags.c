/* test_eval_flags.c — end-to-end: `bg-gate eval`'s flags seen from outside, against bg-mock
 * on 127.0.0.1.
 *
 * What the server received (headers, "stream", how many requests at once, on how many
 * connections — bg-mock's request log and /metrics), what the run scheduled (the arrival
 * process in the JSON report), which files appear (--metrics, --reports), what a human sees
 * (-q, NO_COLOR on a real pseudo-terminal, --version), and how broken answers are counted
 * by kind in the JSON and JUnit reports. test_eval.c holds the exit-code and timing tests.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/evalfix.h"
#include "../support/proc.h"
#include "bggate/buf.h"
#include "bggate/util.h"

/* The completion requests of a mock's request log, parsed, in arrival order. */
static cJSON *completions_logged(const bgt_mock *m)
{
    char *log = bgt_read_file(m->req_log);
    ck_assert_ptr_nonnull(log);
    cJSON *out = cJSON_CreateArray();
    for (char *line = log, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        cJSON *j = cJSON_Parse(line);
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(j, "path");
        if (cJSON_IsString(path) && strstr(path->valuestring, "completions"))
            cJSON_AddItemToArray(out, j);
        else
            cJSON_Delete(j);
    }
    free(log);
    return out;
}

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    return bg_buf_append(ud, data, size * n) == 0 ? size * n : 0;
}

/* The value of a bg-mock metric (its only sample) from GET /metrics. */
static double mock_metric(const bgt_mock *m, const char *name)
{
    char url[160], key[128];
    bg_buf body;
    bg_buf_init(&body, 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", m->port);
    CURL *e = curl_easy_init();
    ck_assert_ptr_nonnull(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);
    snprintf(key, sizeof key, "\n%s{", name);
    const char *p = strstr(bg_buf_cstr(&body), key);
    ck_assert_msg(p != NULL, "no %s in /metrics", name);
    p = strchr(p, '}');
    double v = strtod(p + 1, NULL);
    bg_buf_dispose(&body);
    return v;
}

/* The gaps between consecutive scheduled starts ("start_ms") of a JSON report's
 * requests: their mean and coefficient of variation. */
static void arrival_gaps(const cJSON *report, size_t expect_n, double *mean, double *cv)
{
    const char *p[] = {"requests", NULL};
    const cJSON *reqs = bgt_json_at(report, p), *q;
    size_t n = 0;
    double *t = calloc(expect_n, sizeof *t);
    cJSON_ArrayForEach(q, reqs)
    {
        ck_assert_uint_lt(n, expect_n + 1);
        const char *sp[] = {"start_ms", NULL};
        if (n < expect_n)
            t[n] = bgt_json_num(q, sp);
        n++;
    }
    ck_assert_uint_eq(n, expect_n);
    for (size_t i = 1; i < n; i++) /* insertion sort: requests are logged as they finish */
        for (size_t k = i; k > 0 && t[k - 1] > t[k]; k--) {
            double x = t[k];
            t[k] = t[k - 1];
            t[k - 1] = x;
        }
    double sum = 0, sq = 0;
    for (size_t i = 1; i < n; i++)
        sum += t[i] - t[i - 1];
    *mean = sum / (double)(n - 1);
    for (size_t i = 1; i < n; i++)
        sq += (t[i] - t[i - 1] - *mean) * (t[i] - t[i - 1] - *mean);
    *cv = sqrt(sq / (double)(n - 2)) / *mean;
    free(t);
}

/* Runs bg-gate with stdout and stderr on a new pseudo-terminal (so it sees a TTY), with
 * NO_COLOR set to no_color (NULL: unset). Returns what it printed; *code its exit code. */
static char *run_in_pty(const char *const *args, const char *no_color, int *code)
{
    const char *bin = getenv("BG_GATE_BIN");
    ck_assert_ptr_nonnull(bin);
    const char *argv[40] = {bin};
    size_t n = 1;
    for (; args[n - 1] && n < 39; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    int master = -1, slave = -1;
    ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        dup2(slave, STDOUT_FILENO);
        dup2(slave, STDERR_FILENO);
        close(master);
        close(slave);
        if (no_color)
            setenv("NO_COLOR", no_color, 1);
        else
            unsetenv("NO_COLOR");
        setenv("TERM", "xterm", 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(slave);
    bg_buf out;
    bg_buf_init(&out, 0);
    double deadline = bg_now_ms() + 30000;
    for (;;) {
        struct pollfd pf = {.fd = master, .events = POLLIN};
        if (bg_now_ms() > deadline)
            break;
        if (poll(&pf, 1, 100) <= 0)
            continue;
        char buf[4096];
        ssize_t got = read(master, buf, sizeof buf);
        if (got <= 0) /* EIO once the child closed the terminal */
            break;
        bg_buf_append(&out, buf, (size_t)got);
    }
    close(master);
    int status = 0;
    if (bg_now_ms() > deadline)
        kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char *s = bg_strdup(bg_buf_cstr(&out));
    bg_buf_dispose(&out);
    return s;
}

/* ------------------------------------------------------------------ requests */

START_TEST(headers_from_flags_and_config_reach_the_server)
{
    bgt_eval_start_mock(&bgt_ev.mock, "hdr", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *cfg = bgt_eval_path("bg-gate.json");
    FILE *f = fopen(cfg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"gate\": {\"headers\": {\"X-Team\": \"search\"}}}\n", f);
    fclose(f);
    bgt_result r;
    const char *args[] = {"eval",
                          "--config",
                          cfg,
                          "--endpoint",
                          bgt_ev.mock.url,
                          "--suite",
                          suite,
                          "-H",
                          "X-Trace: run-42",
                          "--header",
                          "X-Other: two words",
                          "--no-progress",
                          NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 0);
    cJSON *log = completions_logged(&bgt_ev.mock), *e;
    ck_assert_int_eq(cJSON_GetArraySize(log), 4);
    cJSON_ArrayForEach(e, log)
    {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(e, "headers");
        const cJSON *team = cJSON_GetObjectItemCaseSensitive(h, "x-team");
        const cJSON *trace = cJSON_GetObjectItemCaseSensitive(h, "x-trace");
        const cJSON *other = cJSON_GetObjectItemCaseSensitive(h, "x-other");
        ck_assert_msg(cJSON_IsString(team) && strcmp(team->valuestring, "search") == 0,
                      "gate.headers X-Team not sent");
        ck_assert_msg(cJSON_IsString(trace) && strcmp(trace->valuestring, "run-42") == 0,
                      "-H X-Trace not sent");
        ck_assert_msg(cJSON_IsString(other) && strcmp(other->valuestring, "two words") == 0,
                      "--header X-Other not sent");
    }
    cJSON_Delete(log);
    bgt_result_dispose(&r);
    free(suite);
    free(cfg);
}
END_TEST

START_TEST(no_stream_sends_stream_false_and_reports_no_ttft)
{
    bgt_eval_start_mock(&bgt_ev.mock, "ns", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json");
    bgt_result r;
    const char *modes[] = {"--stream", "--no-stream"};
    for (int m = 0; m < 2; m++) {
        bool stream = m == 0;
        const char *args[] = {
            "eval", "--endpoint", bgt_ev.mock.url, "--suite", suite,           "--model",
            "m",    modes[m],     "--json-report", report,    "--no-progress", NULL};
        bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
        bgt_expect_exit(&r, 0);
        bgt_result_dispose(&r);
        cJSON *log = completions_logged(&bgt_ev.mock), *e;
        ck_assert_int_eq(cJSON_GetArraySize(log), 4 * (m + 1));
        int i = 0;
        cJSON_ArrayForEach(e, log)
        {
            if (i++ < 4 * m)
                continue; /* the previous run's */
            ck_assert_msg(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(e, "stream")) &&
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "stream")) == stream,
                          "%s: the server saw stream %s", modes[m], stream ? "false" : "true");
        }
        cJSON_Delete(log);
        cJSON *j = bgt_load_json(report);
        const char *n[] = {"summary", "ttft_ms", "n", NULL};
        ck_assert_double_eq(bgt_json_num(j, n), stream ? 4 : 0);
        const char *p[] = {"requests", NULL};
        const cJSON *q;
        cJSON_ArrayForEach(q, bgt_json_at(j, p))
        {
            const cJSON *ttft = cJSON_GetObjectItemCaseSensitive(q, "ttft_ms");
            const cJSON *e2e = cJSON_GetObjectItemCaseSensitive(q, "e2e_ms");
            ck_assert(cJSON_IsNumber(e2e));
            ck_assert_msg(stream ? cJSON_IsNumber(ttft) : cJSON_IsNull(ttft),
                          "%s: ttft_ms of a request is %s", modes[m], stream ? "null" : "set");
        }
        cJSON_Delete(j);
    }
    free(suite);
    free(report);
}
END_TEST

/* 60 arrivals at 100/s: Poisson gaps are exponential (coefficient of variation 1),
 * constant gaps do not vary. The schedule is seeded, the bounds generous. */
START_TEST(poisson_arrivals_vary_and_constant_arrivals_do_not)
{
    bgt_eval_start_mock(&bgt_ev.mock, "arr", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json");
    const char *kinds[] = {NULL, "poisson", "constant"}; /* NULL: the default */
    const char *seeds[] = {"1", "7", "1"};
    for (int k = 0; k < 3; k++) {
        bgt_result r;
        const char *args[] = {"eval",
                              "--endpoint",
                              bgt_ev.mock.url,
                              "--suite",
                              suite,
                              "--model",
                              "m",
                              "--repeat",
                              "15",
                              "--rate",
                              "100",
                              "--seed",
                              seeds[k],
                              "--json-report",
                              report,
                              "--no-progress",
                              kinds[k] ? "--arrivals" : NULL,
                              kinds[k],
                              NULL};
        bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 60);
        bgt_expect_exit(&r, 0);
        bgt_result_dispose(&r);
        cJSON *j = bgt_load_json(report);
        double mean, cv;
        arrival_gaps(j, 60, &mean, &cv);
        cJSON_Delete(j);
        const char *name = kinds[k] ? kinds[k] : "default (poisson)";
        ck_assert_msg(mean > 6 && mean < 16, "%s: mean gap %.2f ms at 100/s", name, mean);
        if (k < 2)
            ck_assert_msg(cv > 0.6 && cv < 1.5, "%s: gaps' CV %.3f, expected about 1", name, cv);
        else
            ck_assert_msg(cv < 0.1, "constant: gaps' CV %.3f, expected about 0", cv);
    }
    /* the server saw them spread out too: 180 arrivals over at least 1.2 s */
    cJSON *log = completions_logged(&bgt_ev.mock), *e;
    double first = 1e300, last = -1e300;
    cJSON_ArrayForEach(e, log)
    {
        double t = cJSON_GetObjectItemCaseSensitive(e, "t")->valuedouble;
        first = t < first ? t : first;
        last = t > last ? t : last;
    }
    ck_assert_int_eq(cJSON_GetArraySize(log), 180);
    ck_assert_msg(last - first > 1.2, "180 arrivals at 100/s came within %.3f s", last - first);
    cJSON_Delete(log);
    free(suite);
    free(report);
}
END_TEST

/* bg-mock's bg_mock_requests_active_max counts a request from its arrival to its response
 * being queued, a span inside the client's own: it can only exceed N if bg-gate had more
 * than N requests in flight. */
START_TEST(concurrency_is_a_cap_on_requests_in_flight)
{
    const char *extra[] = {"--latency-ms", "30", NULL};
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    struct {
        const char *n, *rate;
        double lo;
    } runs[] = {{"1", NULL, 1}, {"3", NULL, 2}, {"2", "200", 2}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "cap%zu", i);
        bgt_mock_stop(&bgt_ev.mock);
        bgt_eval_start_mock(&bgt_ev.mock, name, "tests/fixtures/e2e/table-good.json", extra);
        bgt_result r;
        const char *args[] = {"eval",
                              "--endpoint",
                              bgt_ev.mock.url,
                              "--suite",
                              suite,
                              "--model",
                              "m",
                              "--repeat",
                              "10",
                              "--no-progress",
                              "--concurrency",
                              runs[i].n,
                              runs[i].rate ? "--rate" : NULL,
                              runs[i].rate,
                              NULL};
        bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 60);
        bgt_expect_exit(&r, 0);
        bgt_result_dispose(&r);
        ck_assert_int_eq(bgt_mock_request_count(&bgt_ev.mock), 40);
        double peak = mock_metric(&bgt_ev.mock, "bg_mock_requests_active_max");
        ck_assert_msg(peak <= strtod(runs[i].n, NULL) && peak >= runs[i].lo,
                      "--concurrency %s%s%s: the server saw %.0f requests at once", runs[i].n,
                      runs[i].rate ? " --rate " : "", runs[i].rate ? runs[i].rate : "", peak);
    }
    free(suite);
}
END_TEST

/* 200 requests, 4 at a time: keep-alive connections are reused, never one per request. */
START_TEST(keep_alive_connections_are_reused)
{
    bgt_eval_start_mock(&bgt_ev.mock, "ka", "tests/fixtures/e2e/table-good.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    bgt_result r;
    const char *args[] = {
        "eval",     "--endpoint", bgt_ev.mock.url, "--suite", suite,           "--model", "m",
        "--repeat", "50",         "--concurrency", "4",       "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 60);
    bgt_expect_exit(&r, 0);
    bgt_result_dispose(&r);
    cJSON *log = completions_logged(&bgt_ev.mock), *e;
    ck_assert_int_eq(cJSON_GetArraySize(log), 200);
    double conns[8] = {0};
    int distinct = 0;
    cJSON_ArrayForEach(e, log)
    {
        double c = cJSON_GetObjectItemCaseSensitive(e, "conn")->valuedouble;
        ck_assert_double_gt(c, 0);
        bool seen = false;
        for (int i = 0; i < distinct; i++)
            seen |= conns[i] == c;
        if (!seen && distinct < 8)
            conns[distinct] = c;
        distinct += !seen;
    }
    cJSON_Delete(log);
    ck_assert_msg(distinct <= 4, "200 requests at concurrency 4 used %d connections", distinct);
    /* every connection the mock accepted: bg-gate's, and this scrape's own */
    double total = mock_metric(&bgt_ev.mock, "bg_mock_connections_total");
    ck_assert_msg(total <= 5, "bg-mock accepted %.0f connections", total);
    free(suite);
}
END_TEST

/* ---------------------------------------------------- broken answers, by kind */

static void expect_case_errors(const char *junit, const char *kind)
{
    char *xml = bgt_read_file(junit);
    ck_assert_ptr_nonnull(xml);
    char needle[64];
    snprintf(needle, sizeof needle, "type=\"%s\"", kind);
    int errors = 0;
    for (const char *p = xml; (p = strstr(p, "<error ")) != NULL; p++) {
        const char *end = strchr(p, '>');
        ck_assert_ptr_nonnull(end);
        char *tag = strndup(p, (size_t)(end - p));
        ck_assert_msg(strstr(tag, needle) != NULL, "JUnit error of another kind: %s", tag);
        free(tag);
        errors++;
    }
    ck_assert_msg(errors == 4, "%d <error type=\"%s\"> in JUnit, expected one per case", errors,
                  kind);
    ck_assert_ptr_null(strstr(xml, "type=\"assertion\""));
    free(xml);
}

START_TEST(broken_answers_are_errors_of_their_kind_streamed_or_not)
{
    struct {
        const char *inject, *kind;
    } cases[] = {{"malformed", "malformed"}, {"truncate", "malformed"}, {"500", "http"}};
    const char *modes[] = {"--stream", "--no-stream"};
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *report = bgt_eval_path("report.json"), *junit = bgt_eval_path("junit.xml");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int m = 0; m < 2; m++) {
            char name[32];
            snprintf(name, sizeof name, "%s%d", cases[c].inject, m);
            const char *extra[] = {"--error-rate", "1", "--error-kinds", cases[c].inject, NULL};
            bgt_mock_stop(&bgt_ev.mock);
            bgt_eval_start_mock(&bgt_ev.mock, name, "tests/fixtures/e2e/table-good.json", extra);
            bgt_result r;
            const char *args[] = {
                "eval",    "--endpoint", bgt_ev.mock.url, "--suite", suite,           "--model",
                "m",       modes[m],     "--max-retries", "2",       "--json-report", report,
                "--junit", junit,        "--no-progress", NULL};
            bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
            bgt_expect_exit(&r, 1);
            ck_assert_msg(strstr(r.err, cases[c].kind) != NULL, "stderr: %s", r.err);
            bgt_result_dispose(&r);
            cJSON *j = bgt_load_json(report);
            const char *by_kind[] = {"summary", "errors_by_kind", cases[c].kind, NULL};
            const char *errors[] = {"summary", "errors", NULL};
            const char *retries[] = {"summary", "retries", NULL};
            ck_assert_msg(bgt_json_num(j, by_kind) == 4, "%s %s: errors_by_kind.%s = %g",
                          cases[c].inject, modes[m], cases[c].kind, bgt_json_num(j, by_kind));
            ck_assert_double_eq(bgt_json_num(j, errors), 4);
            ck_assert_double_eq(bgt_json_num(j, retries),
                                0); /* only connection errors are retried */
            cJSON_Delete(j);
            ck_assert_int_eq(bgt_mock_request_count(&bgt_ev.mock), 4);
            expect_case_errors(junit, cases[c].kind);
        }
    }
    free(suite);
    free(report);
    free(junit);
}
END_TEST

/* ------------------------------------------------------------------ reports */

START_TEST(metrics_file_and_reports_dir_are_written)
{
    bgt_eval_start_mock(&bgt_ev.mock, "rep", "tests/fixtures/e2e/table-bad.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    char *metrics = bgt_eval_path("metrics.txt"), *dir = bgt_eval_path("out/reports");
    bgt_result r;
    const char *args[] = {"eval",      "--endpoint", bgt_ev.mock.url, "--suite", suite,
                          "--metrics", metrics,      "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    bgt_result_dispose(&r);
    char *om = bgt_read_file(metrics);
    ck_assert_ptr_nonnull(om);
    ck_assert_ptr_nonnull(strstr(om, "# TYPE bg_gate_pass_rate gauge\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_pass_rate 0.5\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_verdict_passed 0\n"));
    size_t len = strlen(om);
    ck_assert_msg(len > 6 && strcmp(om + len - 6, "# EOF\n") == 0, "no final # EOF");
    free(om);

    const char *args2[] = {"eval",      "--endpoint", bgt_ev.mock.url, "--suite", suite,
                           "--reports", dir,          "--no-progress", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args2, 30);
    bgt_expect_exit(&r, 1);
    bgt_result_dispose(&r);
    const char *files[] = {"junit.xml", "report.json", "summary.md", "metrics.txt"};
    const char *marks[] = {"<testsuites", "\"verdict\"", "capital-france", "# EOF\n"};
    for (size_t i = 0; i < 4; i++) {
        char *p = NULL;
        ck_assert_int_ge(asprintf(&p, "%s/%s", dir, files[i]), 0);
        char *s = bgt_read_file(p);
        ck_assert_msg(s != NULL, "--reports wrote no %s", files[i]);
        ck_assert_msg(strstr(s, marks[i]) != NULL, "%s lacks %s", files[i], marks[i]);
        free(s);
        if (i == 1) {
            cJSON *j = bgt_load_json(p);
            const char *v[] = {"verdict", NULL};
            ck_assert_str_eq(bgt_json_at(j, v)->valuestring, "failed");
            cJSON_Delete(j);
        }
        free(p);
    }
    free(suite);
    free(metrics);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------- console */

START_TEST(quiet_prints_only_the_verdict_of_a_failing_gate)
{
    bgt_eval_start_mock(&bgt_ev.mock, "q", "tests/fixtures/e2e/table-bad.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    bgt_result r;
    const char *args[] = {"eval", "--endpoint", bgt_ev.mock.url, "--suite", suite, "-q", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30);
    bgt_expect_exit(&r, 1);
    ck_assert_msg(strncmp(r.err, "✗ eval failed: ", strlen("✗ eval failed: ")) == 0, "stderr: %s",
                  r.err);
    ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "more than one line: %s",
                  r.err);
    ck_assert_str_eq(r.out, "");
    bgt_result_dispose(&r);
    bgt_mock_stop(&bgt_ev.mock);

    bgt_eval_start_mock(&bgt_ev.mock, "q2", "tests/fixtures/e2e/table-good.json", NULL);
    const char *args2[] = {"eval",    "--endpoint", bgt_ev.mock.url, "--suite", suite,
                           "--quiet", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args2, 30);
    bgt_expect_exit(&r, 0);
    ck_assert_msg(r.err[0] == '\0', "a passing gate under -q printed: %s", r.err);
    bgt_result_dispose(&r);
    free(suite);
}
END_TEST

/* On a terminal the summary is coloured; NO_COLOR turns that off; a pipe never gets it. */
START_TEST(no_color_removes_every_escape_even_on_a_terminal)
{
    bgt_eval_start_mock(&bgt_ev.mock, "color", "tests/fixtures/e2e/table-bad.json", NULL);
    char *suite = bgt_src("tests/fixtures/e2e/capitals.jsonl");
    const char *args[] = {"eval",          "--endpoint", bgt_ev.mock.url, "--suite", suite,
                          "--no-progress", "--ci",       "off",           NULL};
    int code = 0;
    char *out = run_in_pty(args, NULL, &code);
    ck_assert_int_eq(code, 1);
    ck_assert_msg(strstr(out, "\033[31m") != NULL, "no colour on a terminal:\n%s", out);
    ck_assert_ptr_nonnull(strstr(out, "eval failed"));
    free(out);
    out = run_in_pty(args, "1", &code);
    ck_assert_int_eq(code, 1);
    ck_assert_ptr_nonnull(strstr(out, "eval failed"));
    ck_assert_msg(strchr(out, '\033') == NULL, "NO_COLOR=1 on a terminal:\n%s", out);
    free(out);
    bgt_result r;
    bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 30); /* stderr is a pipe here */
    bgt_expect_exit(&r, 1);
    ck_assert_ptr_null(strchr(r.err, '\033'));
    ck_assert_ptr_null(strchr(r.out, '\033'));
    bgt_result_dispose(&r);
    free(suite);
}
END_TEST

START_TEST(every_command_prints_its_version)
{
    const char *cmds[] = {"eval",     "validate", "resolve", "deploy",      "status",
                          "rollback", "promote",  "abort",   "decommission"};
    bgt_result r;
    const char *top[] = {"--version", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, top, 10);
    bgt_expect_exit(&r, 0);
    ck_assert_msg(strncmp(r.out, "bg-gate ", 8) == 0, "stdout: %s", r.out);
    char *line = bg_strdup(r.out);
    bgt_result_dispose(&r);
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *args[] = {cmds[i], "--version", NULL};
        bgt_run_gate(&r, bgt_ev.tmp, NULL, args, 10);
        bgt_expect_exit(&r, 0);
        ck_assert_msg(strcmp(r.out, line) == 0, "%s --version printed \"%s\"", cmds[i], r.out);
        ck_assert_str_eq(r.err, "");
        bgt_result_dispose(&r);
    }
    /* after other flags too; and it is in --help */
    const char *later[] = {"eval", "-q", "--concurrency", "2", "--version", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, later, 10);
    bgt_expect_exit(&r, 0);
    ck_assert_str_eq(r.out, line);
    bgt_result_dispose(&r);
    const char *help[] = {"eval", "--help", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, help, 10);
    bgt_expect_exit(&r, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "--version"));
    bgt_result_dispose(&r);
    /* a value that happens to read "--version" is a value, not the flag */
    const char *value[] = {"eval", "--model", "--version", "--concurrency", "zero", NULL};
    bgt_run_gate(&r, bgt_ev.tmp, NULL, value, 10);
    bgt_expect_exit(&r, 2);
    bgt_result_dispose(&r);
    free(line);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("e2e_eval_flags");
    TCase *tc = tcase_create("flags");
    tcase_add_checked_fixture(tc, bgt_eval_setup, bgt_eval_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, headers_from_flags_and_config_reach_the_server);
    tcase_add_test(tc, no_stream_sends_stream_false_and_reports_no_ttft);
    tcase_add_test(tc, poisson_arrivals_vary_and_constant_arrivals_do_not);
    tcase_add_test(tc, concurrency_is_a_cap_on_requests_in_flight);
    tcase_add_test(tc, keep_alive_connections_are_reused);
    tcase_add_test(tc, broken_answers_are_errors_of_their_kind_streamed_or_not);
    tcase_add_test(tc, metrics_file_and_reports_dir_are_written);
    tcase_add_test(tc, quiet_prints_only_the_verdict_of_a_failing_gate);
    tcase_add_test(tc, no_color_removes_every_escape_even_on_a_terminal);
    tcase_add_test(tc, every_command_prints_its_version);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
