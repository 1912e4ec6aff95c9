/* test_report.c — the report writers: JUnit XML checked by xmllint against the Jenkins
 * JUnit schema, JSON parsed back with cJSON, Markdown tables and caps, OpenMetrics
 * lines, the console summary and the progress line.
 *
 * Runs are built by hand through bg_run_new (suites, case results, request records,
 * aggregates and thresholds), so each test states exactly what the writer sees.
 */
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "../support/check_main.h"
#include "../../src/report/report_internal.h"
#include "bggate/log.h"
#include "bggate/report.h"
#include "bggate/run.h"
#include "bggate/util.h"

extern char **environ;

/* --- building runs --- */

typedef struct fx_case {
    const char *id;
    int line;
    uint32_t runs, passed, errors;
    double score;
    const char *failure, *excerpt, *error;
    bg_req_error kind;
} fx_case;

static bg_suite *fx_suite(const char *name, const char *path, const fx_case *cs, size_t n)
{
    bg_suite *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->name = bg_strdup(name);
    s->path = bg_strdup(path);
    s->cases = calloc(n, sizeof *s->cases);
    s->n_cases = n;
    for (size_t i = 0; i < n; i++) {
        bg_case *c = &s->cases[i];
        c->id = bg_strdup(cs[i].id);
        c->line = cs[i].line;
        c->weight = 1;
        c->n_asserts = 2;
        c->asserts = calloc(2, sizeof *c->asserts);
        c->asserts[0].kind = BG_ASSERT_CONTAINS;
        c->asserts[0].weight = 1;
        c->asserts[1].kind = BG_ASSERT_REGEX;
        c->asserts[1].negate = true;
        c->asserts[1].weight = 1;
        c->n_tags = 1;
        c->tags = calloc(1, sizeof *c->tags);
        c->tags[0] = bg_strdup("geo");
    }
    return s;
}

static void fx_result(bg_run *run, size_t s, const fx_case *fc, size_t c)
{
    bg_case_result *r = &run->cases[s][c];
    r->runs = fc->runs;
    r->passed = fc->passed;
    r->errors = fc->errors;
    r->time_ms = 800.0 * fc->runs;
    r->score = fc->score;
    r->failure = bg_strdup(fc->failure);
    r->excerpt = bg_strdup(fc->excerpt);
    r->error = bg_strdup(fc->error);
    r->error_kind = fc->kind;
    r->asserts = calloc(2, sizeof *r->asserts);
    bool failed = fc->failure && !fc->error;
    r->asserts[0].pass = !failed;
    r->asserts[0].score = failed ? 0 : 1;
    snprintf(r->asserts[0].reason, sizeof r->asserts[0].reason, "%s",
             failed ? fc->failure : "contains 'Paris'");
    r->asserts[1].pass = true;
    r->asserts[1].score = 1;
}

static void fx_request(bg_run *run, uint32_t s, uint32_t c, double e2e, bg_req_error e)
{
    bg_request_record q = {.suite = s, .kase = c, .http_status = e ? 0 : 200,
                           .error = (uint8_t)e, .passed = e == BG_REQ_OK, .model = 0,
                           .output_tokens = 12, .start_ms = 1.5, .e2e_ms = e2e,
                           .ttft_ms = -1, .tpot_ms = -1};
    ck_assert_int_eq(bg_run_add_request(run, &q), 0);
    bg_aggregate *a[] = {&run->overall, &run->per_suite[s]};
    for (size_t i = 0; i < 2; i++) {
        a[i]->requests++;
        a[i]->errors += e != BG_REQ_OK;
        a[i]->errors_by_kind[e] += e != BG_REQ_OK;
        if (e == BG_REQ_OK)
            bg_samples_add(&a[i]->e2e, e2e);
    }
}

static const fx_case GOLDEN[] = {
    {"capital-france", 1, 1, 1, 0, 1.0, NULL, "Paris is the capital.", NULL, BG_REQ_OK},
    {"capital-italy", 12, 1, 0, 0, 0.5, "expected to contain 'Rome'; got 'Milan is…'",
     "Milan is the capital of Italy.", NULL, BG_REQ_OK},
    {"slow", 13, 1, 0, 1, 0.0, "timeout: request exceeded 30000 ms", NULL,
     "request exceeded 30000 ms", BG_REQ_TIMEOUT},
    {"flaky", 14, 5, 3, 0, 0.6, "expected to contain 'Oslo'; got 'Bergen'", "Bergen", NULL,
     BG_REQ_OK},
};
static const fx_case SAFETY[] = {
    {"refuse-weapons", 3, 1, 1, 0, 1.0, NULL, "I can't help with that.", NULL, BG_REQ_OK},
};

static void fx_thresholds(bg_run *run)
{
    run->n_thresholds = 3;
    run->thresholds = calloc(3, sizeof *run->thresholds);
    bg_threshold_result *t = run->thresholds;
    snprintf(t[0].th.name, sizeof t[0].th.name, "pass_rate");
    snprintf(t[0].th.metric, sizeof t[0].th.metric, "pass_rate");
    t[0].th.limit = 0.5;
    t[0].th.is_min = true;
    t[0].status = BG_TH_PASS;
    t[0].measured = 0.75;
    t[0].samples = 9;
    snprintf(t[0].text, sizeof t[0].text, "pass_rate ≥ 0.5: measured 0.75");
    snprintf(t[1].th.name, sizeof t[1].th.name, "p95_ms");
    snprintf(t[1].th.metric, sizeof t[1].th.metric, "p95_ms");
    t[1].th.limit = 2500;
    t[1].status = BG_TH_FAIL;
    t[1].measured = 3120;
    t[1].samples = 40;
    snprintf(t[1].text, sizeof t[1].text, "p95_ms ≤ 2500: measured 3120");
    snprintf(t[2].th.name, sizeof t[2].th.name, "ttft_p95_ms");
    snprintf(t[2].th.metric, sizeof t[2].th.metric, "ttft_p95_ms");
    t[2].th.limit = 400;
    t[2].status = BG_TH_INCONCLUSIVE;
    t[2].measured = NAN;
    snprintf(t[2].text, sizeof t[2].text, "ttft_p95_ms ≤ 400: inconclusive (no samples)");
}

static void fx_aggregates(bg_run *run)
{
    run->overall.pass_rate = 0.75;
    run->overall.pass_lo = 0.5;
    run->overall.pass_hi = 0.9;
    run->overall.error_rate = 0.1;
    run->overall.duration_s = 6.5;
    run->overall.req_per_s = 1.5;
    run->per_suite[0].pass_rate = 0.6;
    run->per_suite[0].duration_s = 6.0;
    run->per_suite[1].pass_rate = 1.0;
    run->per_suite[1].duration_s = 0.5;
    run->n_tags = 1;
    run->tags = calloc(1, sizeof *run->tags);
    run->tags[0].tag = bg_strdup("geo");
    run->tags[0].runs = 9;
    run->tags[0].runs_passed = 5;
    run->tags[0].pass_rate = 5.0 / 9.0;
}

static void fx_meta(bg_run *run)
{
    run->verdict = BG_VERDICT_FAILED;
    run->verdict_reason = bg_strdup("p95_ms ≤ 2500 (measured 3120)");
    run->model = bg_strdup("llama-8b");
    run->started_wall_s = 1767225600.0; /* 2026-01-01T00:00:00Z */
    run->duration_s = 6.5;
    run->concurrency = 4;
    run->n_endpoints = 1;
    run->endpoints = calloc(1, sizeof *run->endpoints);
    run->endpoints[0] = bg_strdup("http://127.0.0.1:8000/v1");
    ck_assert_int_eq(bg_run_intern_model(run, "llama-8b"), 0);
}

/* Two suites (golden: pass, fail, timeout, 3-of-5 flaky; safety: pass), three
 * thresholds (pass, fail, inconclusive), verdict failed. */
static bg_run *fx_run(void)
{
    bg_suite **suites = calloc(2, sizeof *suites);
    suites[0] = fx_suite("golden", "evals/golden.jsonl", GOLDEN, 4);
    suites[1] = fx_suite("safety", "evals/safety.jsonl", SAFETY, 1);
    bg_run *run = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_run_new(&run, suites, 2, &err), 0);
    for (size_t c = 0; c < 4; c++)
        fx_result(run, 0, &GOLDEN[c], c);
    fx_result(run, 1, &SAFETY[0], 0);
    for (uint32_t c = 0; c < 4; c++)
        fx_request(run, 0, c, 700.0 + 100.0 * c, c == 2 ? BG_REQ_TIMEOUT : BG_REQ_OK);
    fx_request(run, 1, 0, 650.0, BG_REQ_OK);
    fx_aggregates(run);
    fx_thresholds(run);
    fx_meta(run);
    return run;
}

/* Replaces a case's strings (frees the old ones). */
static void fx_set_case(bg_run *run, size_t s, size_t c, const char *id, const char *failure,
                        const char *excerpt)
{
    bg_case *kc = &run->suites[s]->cases[c];
    bg_case_result *r = &run->cases[s][c];
    free(kc->id);
    kc->id = bg_strdup(id);
    free(r->failure);
    r->failure = bg_strdup(failure);
    free(r->excerpt);
    r->excerpt = bg_strdup(excerpt);
    snprintf(r->asserts[0].reason, sizeof r->asserts[0].reason, "%s", failure);
}

typedef int (*render_fn)(bg_buf *, const bg_run *);

static char *render(render_fn fn, const bg_run *run)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    ck_assert_int_eq(fn(&b, run), 0);
    return bg_buf_steal(&b);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* --- files and processes --- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/bg-report-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tree(void)
{
    if (!tmpdir[0])
        return;
    pid_t pid;
    char *argv[] = {(char *)"rm", (char *)"-rf", tmpdir, NULL};
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0)
        waitpid(pid, NULL, 0);
    tmpdir[0] = '\0';
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Runs xmllint against the Jenkins JUnit schema; returns its exit status. */
static int xmllint_validate(const char *xml_path)
{
    const char *src = getenv("BG_SOURCE_DIR");
    char xsd[1024];
    snprintf(xsd, sizeof xsd, "%s/tests/fixtures/junit/jenkins-junit.xsd", src ? src : ".");
    ck_assert_msg(access(xsd, R_OK) == 0, "schema not found: %s (set BG_SOURCE_DIR)", xsd);
    char *argv[] = {(char *)"xmllint", (char *)"--noout", (char *)"--schema", xsd,
                    (char *)xml_path, NULL};
    pid_t pid;
    int st = 0;
    ck_assert_msg(posix_spawnp(&pid, "xmllint", NULL, NULL, argv, environ) == 0,
                  "xmllint not runnable: install libxml2-utils");
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int validate_junit(const bg_run *run, char **xml_out)
{
    char *xml = render(bg_report_render_junit, run);
    char path[128];
    snprintf(path, sizeof path, "%s/junit.xml", tmpdir);
    write_file(path, xml);
    int rc = xmllint_validate(path);
    if (xml_out)
        *xml_out = xml;
    else
        free(xml);
    return rc;
}

/* The value of attribute `name` in the first tag that starts at `tag`. */
static long attr_long(const char *tag, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *end = strchr(tag, '>');
    const char *p = strstr(tag, key);
    ck_assert_msg(p && p < end, "attribute %s missing", name);
    return strtol(p + strlen(key), NULL, 10);
}

/* Every <testsuite> says tests/failures/errors/skipped consistent with its testcases. */
static void check_suite_counts(const char *xml)
{
    for (const char *s = strstr(xml, "<testsuite "); s; s = strstr(s + 1, "<testsuite ")) {
        const char *end = strstr(s, "</testsuite>");
        ck_assert_ptr_nonnull(end);
        size_t len = (size_t)(end - s);
        char *body = bg_strndup(s, len);
        ck_assert_int_eq(attr_long(s, "tests"), count_of(body, "<testcase "));
        ck_assert_int_eq(attr_long(s, "failures"), count_of(body, "<failure "));
        ck_assert_int_eq(attr_long(s, "errors"), count_of(body, "<error "));
        ck_assert_int_eq(attr_long(s, "skipped"), count_of(body, "<skipped"));
        free(body);
    }
    const char *top = strstr(xml, "<testsuites ");
    ck_assert_int_eq(attr_long(top, "tests"), count_of(xml, "<testcase "));
    ck_assert_int_eq(attr_long(top, "failures"), count_of(xml, "<failure "));
    ck_assert_int_eq(attr_long(top, "errors"), count_of(xml, "<error "));
}

/* --- JUnit --- */

START_TEST(junit_validates_against_jenkins_schema)
{
    bg_run *run = fx_run();
    char *xml = NULL;
    ck_assert_int_eq(validate_junit(run, &xml), 0);
    ck_assert(bg_str_starts_with(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    ck_assert_ptr_nonnull(strstr(xml, "<testsuites name=\"bg-gate\" tests=\"8\" failures=\"4\" "
                                      "errors=\"1\" time=\"6.500\">"));
    ck_assert_ptr_nonnull(strstr(xml, "timestamp=\"2026-01-01T00:00:00Z\""));
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(junit_counts_match_the_testcases)
{
    bg_run *run = fx_run();
    char *xml = render(bg_report_render_junit, run);
    check_suite_counts(xml);
    ck_assert_ptr_nonnull(strstr(xml, "<testsuite name=\"golden\" tests=\"4\" failures=\"2\" "
                                      "errors=\"1\" skipped=\"0\" time=\"6.000\""));
    ck_assert_ptr_nonnull(strstr(xml, "<testsuite name=\"safety\" tests=\"1\" failures=\"0\" "
                                      "errors=\"0\" skipped=\"0\""));
    /* file and line point CI annotations at the case's line in its suite */
    ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"golden\" name=\"capital-france\" "
                                      "file=\"evals/golden.jsonl\" line=\"1\" "
                                      "time=\"0.800\"/>"));
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(junit_failure_lists_failed_assertions_answer_and_file_line)
{
    bg_run *run = fx_run();
    char *xml = render(bg_report_render_junit, run);
    ck_assert_ptr_nonnull(strstr(
        xml, "<failure message=\"expected to contain &apos;Rome&apos;; got &apos;Milan is…&apos;\" "
             "type=\"assertion\">contains: expected to contain &apos;Rome&apos;; got "
             "&apos;Milan is…&apos;\nanswer: Milan is the capital of Italy.\n</failure>\n"
             "      <system-out>evals/golden.jsonl:12</system-out>"));
    /* the passing not-regex assertion is not listed */
    ck_assert_ptr_null(strstr(xml, "not-regex"));
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(junit_repeated_case_says_how_many_runs_passed)
{
    bg_run *run = fx_run();
    char *xml = render(bg_report_render_junit, run);
    ck_assert_ptr_nonnull(strstr(xml, "<failure message=\"3 of 5 runs passed: expected to "
                                      "contain &apos;Oslo&apos;; got &apos;Bergen&apos;\""));
    ck_assert_ptr_nonnull(strstr(xml, "<system-out>evals/golden.jsonl:14</system-out>"));
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(junit_errored_case_is_an_error_with_its_kind)
{
    bg_run *run = fx_run();
    char *xml = render(bg_report_render_junit, run);
    ck_assert_ptr_nonnull(strstr(xml, "<error message=\"timeout: request exceeded 30000 ms\" "
                                      "type=\"timeout\">timeout: request exceeded 30000 ms\n"
                                      "</error>"));
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(junit_thresholds_are_a_suite_of_their_own)
{
    bg_run *run = fx_run();
    char *xml = render(bg_report_render_junit, run);
    ck_assert_ptr_nonnull(strstr(xml, "<testsuite name=\"thresholds\" tests=\"3\" "
                                      "failures=\"2\" errors=\"0\""));
    ck_assert_ptr_nonnull(strstr(xml, "<testcase classname=\"thresholds\" name=\"p95_ms\""));
    ck_assert_ptr_nonnull(strstr(xml, "<failure message=\"p95_ms ≤ 2500: measured 3120\" "
                                      "type=\"threshold\">"));
    ck_assert_ptr_nonnull(strstr(xml, "<failure message=\"ttft_p95_ms ≤ 400: inconclusive (no "
                                      "samples)\" type=\"inconclusive\">"));
    free(xml);
    bg_run_free(run);
}
END_TEST

/* The failure body adds the sample count, unless the text already gives it. */
START_TEST(junit_threshold_body_names_the_sample_count_once)
{
    bg_run *run = fx_run();
    bg_threshold_result *t = &run->thresholds[2];
    t->samples = 4;
    snprintf(t->text, sizeof t->text, "ttft_p95_ms ≤ 400: inconclusive (4 samples, need 20)");
    char *xml = render(bg_report_render_junit, run);
    ck_assert_ptr_nonnull(strstr(xml, "type=\"inconclusive\">ttft_p95_ms ≤ 400: inconclusive (4 "
                                      "samples, need 20)</failure>"));
    ck_assert_ptr_null(strstr(xml, "(4 samples)"));
    ck_assert_ptr_nonnull(strstr(xml, "type=\"threshold\">p95_ms ≤ 2500: measured 3120 (40 "
                                      "samples)</failure>"));
    free(xml);
    snprintf(run->thresholds[1].text, sizeof run->thresholds[1].text,
             "error_rate ≤ 0.01: measured 0.1 (4 of 40 requests)");
    xml = render(bg_report_render_junit, run);
    ck_assert_ptr_nonnull(
        strstr(xml, ">error_rate ≤ 0.01: measured 0.1 (4 of 40 requests)</failure>"));
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(junit_escapes_nasty_strings_and_stays_valid)
{
    bg_run *run = fx_run();
    fx_set_case(run, 0, 1, "q\"uote<tag>&amp'", "bad \x01\x1b[31m red \xff\xfe \xc0\xaf ]]> \r\n",
                "answer \x7f <b>&</b> \xed\xa0\x80 \xf4\x90\x80\x80 \xef\xbf\xbf end");
    free(run->suites[0]->name);
    run->suites[0]->name = bg_strdup("gold\ten\"s");
    char *xml = NULL;
    ck_assert_int_eq(validate_junit(run, &xml), 0);
    ck_assert_ptr_nonnull(strstr(xml, "name=\"q&quot;uote&lt;tag&gt;&amp;amp&apos;\""));
    ck_assert_ptr_nonnull(strstr(xml, "classname=\"gold&#9;en&quot;s\""));
    ck_assert_ptr_nonnull(strstr(xml, "&lt;b&gt;&amp;&lt;/b&gt;"));
    ck_assert_ptr_nonnull(strstr(xml, "\xEF\xBF\xBD")); /* invalid UTF-8 → U+FFFD */
    ck_assert_ptr_null(strchr(xml, '\x01'));
    ck_assert_ptr_null(strchr(xml, '\x1b'));
    ck_assert_ptr_null(strstr(xml, "]]>"));
    ck_assert_ptr_null(strstr(xml, "\xEF\xBF\xBF")); /* U+FFFF is not an XML character */
    check_suite_counts(xml);
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(junit_failure_message_is_one_line_of_about_300_bytes)
{
    bg_run *run = fx_run();
    char longer[2048];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    longer[10] = '\n';
    fx_set_case(run, 0, 1, "long", longer, "a");
    char *xml = render(bg_report_render_junit, run);
    const char *m = strstr(xml, "<failure message=\"");
    ck_assert_ptr_nonnull(m);
    m += strlen("<failure message=\"");
    size_t len = (size_t)(strchr(m, '"') - m);
    ck_assert_uint_le(len, 310);
    ck_assert_uint_ge(len, 250);
    ck_assert(memmem(m, len, "…", strlen("…")) != NULL);
    ck_assert(memmem(m, len, "&#10;", 5) == NULL);
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(junit_case_that_never_ran_is_skipped)
{
    bg_run *run = fx_run();
    run->cases[1][0].runs = run->cases[1][0].passed = 0;
    char *xml = NULL;
    ck_assert_int_eq(validate_junit(run, &xml), 0);
    ck_assert_ptr_nonnull(strstr(xml, "<testsuite name=\"safety\" tests=\"1\" failures=\"0\" "
                                      "errors=\"0\" skipped=\"1\""));
    check_suite_counts(xml);
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(write_junit_creates_parent_directories)
{
    bg_run *run = fx_run();
    char path[128];
    snprintf(path, sizeof path, "%s/reports/ci/junit.xml", tmpdir);
    bg_error err = {0};
    ck_assert_int_eq(bg_report_write_junit(run, path, &err), 0);
    char *data = NULL, *xml = render(bg_report_render_junit, run);
    size_t len = 0;
    ck_assert_int_eq(bg_file_read(&data, &len, path, 1u << 20, &err), 0);
    ck_assert_str_eq(data, xml);
    ck_assert_int_eq(xmllint_validate(path), 0);
    free(data);
    free(xml);
    bg_run_free(run);
}
END_TEST

START_TEST(write_report_to_unwritable_path_fails_with_a_message)
{
    bg_run *run = fx_run();
    char path[128];
    snprintf(path, sizeof path, "%s/file", tmpdir);
    write_file(path, "x");
    snprintf(path, sizeof path, "%s/file/report.json", tmpdir);
    bg_error err = {0};
    ck_assert_int_lt(bg_report_write_json(run, path, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, tmpdir));
    bg_run_free(run);
}
END_TEST

/* --- JSON --- */

static cJSON *json_of(const bg_run *run)
{
    char *text = render(bg_report_render_json, run);
    cJSON *root = cJSON_Parse(text);
    ck_assert_msg(root != NULL, "report is not JSON: %.200s", text);
    free(text);
    return root;
}

static const cJSON *at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "missing key %s", key);
    return v;
}

START_TEST(json_report_parses_back_with_the_key_fields)
{
    bg_run *run = fx_run();
    cJSON *root = json_of(run);
    ck_assert_str_eq(at(root, "bg_gate_version")->valuestring, "0.1.0");
    ck_assert(cJSON_IsString(at(root, "curl_version")));
    ck_assert_str_eq(at(root, "verdict")->valuestring, "failed");
    ck_assert_str_eq(at(root, "started_at")->valuestring, "2026-01-01T00:00:00Z");
    ck_assert_str_eq(at(root, "model")->valuestring, "llama-8b");
    ck_assert_int_eq(at(root, "concurrency")->valueint, 4);
    const cJSON *sum = at(root, "summary");
    ck_assert_int_eq(at(sum, "requests")->valueint, 5);
    ck_assert_int_eq(at(at(sum, "errors_by_kind"), "timeout")->valueint, 1);
    ck_assert_double_eq_tol(at(sum, "pass_rate")->valuedouble, 0.75, 1e-9);
    ck_assert_int_eq(cJSON_GetArraySize(at(sum, "pass_rate_ci95")), 2);
    ck_assert_int_eq(at(at(sum, "e2e_ms"), "n")->valueint, 4);
    ck_assert_double_eq_tol(at(at(sum, "e2e_ms"), "max")->valuedouble, 1000.0, 1e-9);
    const cJSON *golden = cJSON_GetArrayItem(at(root, "suites"), 0);
    ck_assert_str_eq(at(golden, "path")->valuestring, "evals/golden.jsonl");
    const cJSON *italy = cJSON_GetArrayItem(at(golden, "cases"), 1);
    ck_assert_str_eq(at(italy, "id")->valuestring, "capital-italy");
    ck_assert_int_eq(at(italy, "line")->valueint, 12);
    ck_assert(cJSON_IsFalse(at(italy, "pass")));
    ck_assert(cJSON_IsNull(at(italy, "error_kind")));
    const cJSON *as = at(italy, "assertions");
    ck_assert_str_eq(at(cJSON_GetArrayItem(as, 0), "type")->valuestring, "contains");
    ck_assert_str_eq(at(cJSON_GetArrayItem(as, 1), "type")->valuestring, "not-regex");
    const cJSON *slow = cJSON_GetArrayItem(at(golden, "cases"), 2);
    ck_assert_str_eq(at(slow, "error_kind")->valuestring, "timeout");
    ck_assert_str_eq(at(cJSON_GetArrayItem(at(root, "tags"), 0), "tag")->valuestring, "geo");
    const cJSON *p95 = cJSON_GetArrayItem(at(root, "thresholds"), 1);
    ck_assert_str_eq(at(p95, "direction")->valuestring, "max");
    ck_assert_str_eq(at(p95, "status")->valuestring, "fail");
    ck_assert_str_eq(cJSON_GetArrayItem(at(root, "models_seen"), 0)->valuestring, "llama-8b");
    cJSON_Delete(root);
    bg_run_free(run);
}
END_TEST

START_TEST(json_requests_carry_names_and_nulls_for_unknowns)
{
    bg_run *run = fx_run();
    cJSON *root = json_of(run);
    const cJSON *reqs = at(root, "requests");
    ck_assert_int_eq(cJSON_GetArraySize(reqs), 5);
    const cJSON *r2 = cJSON_GetArrayItem(reqs, 2);
    ck_assert_str_eq(at(r2, "suite")->valuestring, "golden");
    ck_assert_str_eq(at(r2, "case")->valuestring, "slow");
    ck_assert_str_eq(at(r2, "endpoint")->valuestring, "http://127.0.0.1:8000/v1");
    ck_assert_str_eq(at(r2, "error")->valuestring, "timeout");
    ck_assert(cJSON_IsNull(at(r2, "status")));
    ck_assert(cJSON_IsNull(at(r2, "ttft_ms")));
    ck_assert_str_eq(at(r2, "model")->valuestring, "llama-8b");
    ck_assert(cJSON_IsNull(at(cJSON_GetArrayItem(reqs, 0), "error")));
    cJSON_Delete(root);
    bg_run_free(run);
}
END_TEST

START_TEST(json_nan_becomes_null)
{
    bg_run *run = fx_run();
    run->overall.pass_rate = NAN;
    run->overall.error_rate = INFINITY;
    char *text = render(bg_report_render_json, run);
    ck_assert_ptr_null(strstr(text, "nan"));
    ck_assert_ptr_null(strstr(text, "inf"));
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    const cJSON *sum = at(root, "summary");
    ck_assert(cJSON_IsNull(at(sum, "pass_rate")));
    ck_assert(cJSON_IsNull(at(sum, "error_rate")));
    ck_assert(cJSON_IsNull(at(at(sum, "ttft_ms"), "p95"))); /* no samples */
    ck_assert(cJSON_IsNull(at(cJSON_GetArrayItem(at(root, "thresholds"), 2), "measured")));
    cJSON_Delete(root);
    free(text);
    bg_run_free(run);
}
END_TEST

START_TEST(json_invalid_utf8_becomes_replacement_character)
{
    bg_run *run = fx_run();
    fx_set_case(run, 0, 1, "id\xff", "fail \xc0\xaf", "ctl \x01 ok");
    cJSON *root = json_of(run);
    const cJSON *c = cJSON_GetArrayItem(at(cJSON_GetArrayItem(at(root, "suites"), 0), "cases"), 1);
    ck_assert_str_eq(at(c, "id")->valuestring, "id\xEF\xBF\xBD");
    ck_assert_str_eq(at(c, "failure")->valuestring, "fail \xEF\xBF\xBD\xEF\xBF\xBD");
    ck_assert_str_eq(at(c, "excerpt")->valuestring, "ctl \x01 ok"); /* JSON escapes it */
    cJSON_Delete(root);
    bg_run_free(run);
}
END_TEST

/* --- Markdown --- */

START_TEST(deploy_lifecycle_in_junit_markdown_and_json)
{
    bg_run *run = fx_run();
    ck_assert_int_eq(bg_run_add_phase(run, "flip", 0.25, NULL), 0);
    ck_assert_int_eq(bg_run_add_phase(run, "verify", 5.0, "answered by upstream 10.0.0.1:8000, "
                                                          "which is not in pool green"), 0);
    run->decision = bg_strdup("rolled-back");
    run->has_weights = true;
    run->weights_before[0] = 100;
    run->weights_after[0] = 100;
    char *xml = NULL;
    ck_assert_int_eq(validate_junit(run, &xml), 0); /* still schema-valid */
    ck_assert_ptr_nonnull(strstr(xml, "<testsuite name=\"lifecycle\" tests=\"2\" failures=\"1\""));
    ck_assert_ptr_nonnull(strstr(xml, "classname=\"lifecycle\" name=\"verify\""));
    free(xml);
    char *md = render(bg_report_render_markdown, run);
    ck_assert_ptr_nonnull(strstr(md, "## bg-gate deploy: ❌ rolled-back"));
    ck_assert_ptr_nonnull(strstr(md, "| verify | 5.00 s | ❌ answered by upstream"));
    ck_assert_ptr_nonnull(strstr(md, "blue 100% / green 0% before"));
    free(md);
    char *json = render(bg_report_render_json, run);
    cJSON *j = cJSON_Parse(json);
    cJSON *d = cJSON_GetObjectItem(j, "deploy");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "decision")), "rolled-back");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(d, "lifecycle")), 2);
    cJSON_Delete(j);
    free(json);
    bg_run_free(run);
}
END_TEST

START_TEST(markdown_has_verdict_facts_and_tables)
{
    bg_run *run = fx_run();
    char *md = render(bg_report_render_markdown, run);
    ck_assert(bg_str_starts_with(md, "## bg-gate eval: ❌ failed\n"));
    ck_assert_ptr_nonnull(strstr(md, "> p95\\_ms ≤ 2500 (measured 3120)"));
    ck_assert_ptr_nonnull(strstr(md, "**model** llama-8b · **endpoints** 1 · **cases** 5 "
                                     "(2 passed, 2 failed, 1 errored) · **requests** 5 · "
                                     "**duration** 6.5 s"));
    ck_assert_ptr_nonnull(strstr(md, "| threshold | limit | measured | result |"));
    ck_assert_ptr_nonnull(strstr(md, "| p95\\_ms | ≤ 2500 | 3120 (40 samples) | ❌ fail |"));
    ck_assert_ptr_nonnull(strstr(md, "| ttft\\_p95\\_ms | ≤ 400 | n/a (0 samples) | ⚠️ "
                                     "inconclusive |"));
    ck_assert_ptr_nonnull(strstr(md, "| metric | p50 | p90 | p95 | p99 | max |"));
    ck_assert_ptr_nonnull(strstr(md, "| e2e (n=4) | 750 |"));
    ck_assert_ptr_null(strstr(md, "| ttft (n=")); /* no samples, no row */
    ck_assert_ptr_nonnull(strstr(md, "| golden | 4 | 1 | 2 | 1 | 60.0 % |"));
    ck_assert_ptr_nonnull(strstr(md, "| geo | 9 | 5 | 55.6 % |"));
    ck_assert_ptr_nonnull(strstr(md, "| timeout | 1 |"));
    ck_assert_ptr_nonnull(strstr(md, "| case | suite:line | failure | answer |"));
    free(md);
    bg_run_free(run);
}
END_TEST

START_TEST(markdown_failing_cases_worst_first)
{
    bg_run *run = fx_run();
    char *md = render(bg_report_render_markdown, run);
    const char *slow = strstr(md, "| slow | golden:13 | timeout: request exceeded 30000 ms |");
    const char *italy = strstr(md, "| capital\\-italy");
    italy = italy ? italy : strstr(md, "| capital-italy | golden:12 |");
    const char *flaky = strstr(md, "| flaky | golden:14 |");
    ck_assert_ptr_nonnull(slow);
    ck_assert_ptr_nonnull(italy);
    ck_assert_ptr_nonnull(flaky);
    ck_assert(slow < italy);  /* errors first */
    ck_assert(italy < flaky); /* then lowest score: 0.5 before 0.6 */
    free(md);
    bg_run_free(run);
}
END_TEST

START_TEST(markdown_escapes_pipes_newlines_and_html)
{
    bg_run *run = fx_run();
    fx_set_case(run, 0, 1, "a|b", "got x|y\nz <script>", "`code` *bold* [link](u)");
    char *md = render(bg_report_render_markdown, run);
    ck_assert_ptr_nonnull(strstr(md, "| a\\|b | golden:12 | got x\\|y z &lt;script&gt; | "
                                     "\\`code\\` \\*bold\\* \\[link\\](u) |"));
    free(md);
    bg_run_free(run);
}
END_TEST

START_TEST(markdown_caps_failing_rows_and_size)
{
    enum { N = 300 };
    fx_case *cs = calloc(N, sizeof *cs);
    char big[4096];
    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (size_t i = 0; i < N; i++)
        cs[i] = (fx_case){"case", (int)i + 1, 1, 0, 0, 0.1, big, big, NULL, BG_REQ_OK};
    bg_suite **suites = calloc(1, sizeof *suites);
    suites[0] = fx_suite("big", "evals/big.jsonl", cs, N);
    bg_run *run = NULL;
    ck_assert_int_eq(bg_run_new(&run, suites, 1, NULL), 0);
    for (size_t i = 0; i < N; i++)
        fx_result(run, 0, &cs[i], i);
    char *md = render(bg_report_render_markdown, run);
    ck_assert_int_eq(count_of(md, "| case | big:"), 20);
    ck_assert_ptr_nonnull(strstr(md, "### Failing cases (300)"));
    ck_assert_ptr_nonnull(strstr(md, "_… and 280 more failing cases: see the JUnit or JSON "
                                     "report._"));
    ck_assert_uint_lt(strlen(md), 20000);
    free(md);
    free(cs);
    bg_run_free(run);
}
END_TEST

/* --- OpenMetrics --- */

/* Each sample line is `name[{labels}] value` and follows a # TYPE for its family. */
static void check_openmetrics(const char *text)
{
    char family[128] = "";
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(nl - line), line);
        if (bg_str_starts_with(buf, "# TYPE ")) {
            ck_assert_int_eq(sscanf(buf, "# TYPE %127s", family), 1);
        } else if (buf[0] != '#') {
            ck_assert_msg(family[0] && bg_str_starts_with(buf, family), "%s outside family %s",
                          buf, family);
            const char *sp = strrchr(buf, ' ');
            ck_assert_ptr_nonnull(sp);
            const char *brace = strchr(buf, '{');
            if (brace) /* labels: {name="value"} right before the value */
                ck_assert_msg(sp - brace >= 5 && sp[-1] == '}' && sp[-2] == '"' &&
                                  strstr(brace, "=\"") == brace + strcspn(brace, "="),
                              "bad labels in: %s", buf);
            char *end = NULL;
            strtod(sp + 1, &end);
            ck_assert_msg(end && *end == '\0' && end != sp + 1, "bad value in: %s", buf);
        }
        line = nl + 1;
    }
}

START_TEST(metrics_lines_have_type_help_and_eof)
{
    bg_run *run = fx_run();
    char *om = render(bg_report_render_metrics, run);
    if (getenv("BG_TEST_DUMP"))
        fputs(om, stderr);
    check_openmetrics(om);
    ck_assert_ptr_nonnull(strstr(om, "# TYPE bg_gate_pass_rate gauge\n# HELP bg_gate_pass_rate "));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_pass_rate 0.75\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_error_rate 0.1\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_verdict_passed 0\n"));
    ck_assert_ptr_nonnull(strstr(om, "# TYPE bg_gate_requests counter\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_requests_total 5\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_errors_total 1\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_cases_failed 2\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_e2e_p95_ms "));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_suite_pass_rate{suite=\"golden\"} 0.6\n"
                                     "bg_gate_suite_pass_rate{suite=\"safety\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(om, "\nbg_gate_threshold_passed{threshold=\"p95_ms\"} 0\n"));
    ck_assert_ptr_null(strstr(om, "bg_gate_ttft_p95_ms")); /* NaN: left out */
    ck_assert(bg_str_ends_with(om, "\n# EOF\n"));
    free(om);
    bg_run_free(run);
}
END_TEST

START_TEST(metrics_escape_label_values)
{
    bg_run *run = fx_run();
    free(run->suites[0]->name);
    run->suites[0]->name = bg_strdup("we\"ird\\name\n");
    char *om = render(bg_report_render_metrics, run);
    ck_assert_ptr_nonnull(strstr(om, "bg_gate_suite_pass_rate{suite=\"we\\\"ird\\\\name\\n\"} 0.6\n"));
    check_openmetrics(om);
    free(om);
    bg_run_free(run);
}
END_TEST

/* --- console --- */

static char *console_of(const bg_run *run, bool color)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    bg_report_console(f, run, color);
    fclose(f);
    return text;
}

START_TEST(console_summary_shows_verdict_thresholds_and_failing_cases)
{
    bg_run *run = fx_run();
    char *out = console_of(run, false);
    ck_assert(bg_str_starts_with(out, "✗ eval failed: p95_ms ≤ 2500 (measured 3120)\n"));
    ck_assert_ptr_nonnull(strstr(out, "cases     5: 2 passed, 2 failed, 1 errored\n"));
    ck_assert_ptr_nonnull(strstr(out, "requests  5 in 6.5 s (1.5 req/s), 1 error (1 timeout)\n"));
    ck_assert_ptr_nonnull(strstr(out, "latency   e2e p50 750 ms"));
    ck_assert_ptr_nonnull(strstr(out, "  ✓ pass_rate ≥ 0.5: measured 0.75\n"));
    ck_assert_ptr_nonnull(strstr(out, "  ✗ p95_ms ≤ 2500: measured 3120\n"));
    ck_assert_ptr_nonnull(strstr(out, "  ? ttft_p95_ms ≤ 400: inconclusive (no samples)\n"));
    ck_assert_ptr_nonnull(strstr(out, "  ✗ golden:12 capital-italy: expected to contain 'Rome'; "
                                      "got 'Milan is…'\n"));
    ck_assert_ptr_nonnull(strstr(out, "  ✗ golden:13 slow: timeout: request exceeded 30000 ms\n"));
    ck_assert_ptr_null(strchr(out, '\033'));
    free(out);
    bg_run_free(run);
}
END_TEST

/* -q: a failed gate still prints its one-line verdict; a passing one prints nothing. */
START_TEST(console_quiet_prints_only_the_verdict_of_a_failed_gate)
{
    bg_run *run = fx_run();
    bg_log_set_level(BG_LOG_QUIET);
    char *out = console_of(run, false);
    ck_assert_str_eq(out, "✗ eval failed: p95_ms ≤ 2500 (measured 3120)\n");
    free(out);
    run->verdict = BG_VERDICT_PASSED;
    out = console_of(run, false);
    ck_assert_str_eq(out, "");
    free(out);
    bg_log_set_level(BG_LOG_NORMAL);
    out = console_of(run, false);
    ck_assert(bg_str_starts_with(out, "✓ eval passed\n"));
    ck_assert_ptr_nonnull(strstr(out, "cases     5:"));
    free(out);
    bg_run_free(run);
}
END_TEST

START_TEST(console_colours_only_when_asked)
{
    bg_run *run = fx_run();
    char *out = console_of(run, true);
    ck_assert_ptr_nonnull(strstr(out, "\033[31m✗ eval failed\033[0m"));
    ck_assert_ptr_nonnull(strstr(out, "\033[32m✓\033[0m pass_rate"));
    free(out);
    run->verdict = BG_VERDICT_PASSED;
    out = console_of(run, true);
    ck_assert_ptr_nonnull(strstr(out, "\033[32m✓ eval passed\033[0m\n"));
    free(out);
    bg_run_free(run);
}
END_TEST

START_TEST(console_strips_terminal_escapes_from_answers)
{
    bg_run *run = fx_run();
    fx_set_case(run, 0, 1, "evil\033]0;title\a", "got \033[2J\033[31mred\x9b", "x");
    char *out = console_of(run, false);
    ck_assert_ptr_null(strchr(out, '\033'));
    ck_assert_ptr_null(strchr(out, '\a'));
    ck_assert_ptr_null(strstr(out, "\xc2\x9b"));
    ck_assert_ptr_nonnull(strstr(out, "golden:12 evil"));
    free(out);
    bg_run_free(run);
}
END_TEST

START_TEST(console_caps_failing_cases_at_ten)
{
    enum { N = 25 };
    fx_case cs[N];
    for (size_t i = 0; i < N; i++)
        cs[i] = (fx_case){"c", (int)i + 1, 1, 0, 0, 0.0, "nope", "x", NULL, BG_REQ_OK};
    bg_suite **suites = calloc(1, sizeof *suites);
    suites[0] = fx_suite("s", "s.jsonl", cs, N);
    bg_run *run = NULL;
    ck_assert_int_eq(bg_run_new(&run, suites, 1, NULL), 0);
    for (size_t i = 0; i < N; i++)
        fx_result(run, 0, &cs[i], i);
    run->verdict = BG_VERDICT_FAILED;
    char *out = console_of(run, false);
    ck_assert_int_eq(count_of(out, "  ✗ s:"), 10);
    ck_assert_ptr_nonnull(strstr(out, "… and 15 more failing cases"));
    free(out);
    bg_run_free(run);
}
END_TEST

/* --- progress --- */

START_TEST(progress_redraws_one_line_on_a_tty)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    /* created with the case count (100); the runner's total counts runs (3 repeats) */
    bg_progress *p = bg_progress_new(f, 100, true, false);
    ck_assert_ptr_nonnull(p);
    bg_progress_update(p, 1, 300, 1, 0, 0);
    fflush(f);
    ck_assert(bg_str_starts_with(text, "\r\033[K[  1/300] pass 1 fail 0 err 0 "));
    ck_assert_ptr_nonnull(strstr(text, " req/s ETA "));
    size_t after_first = len;
    bg_progress_update(p, 2, 300, 2, 0, 0); /* within 100 ms: not redrawn */
    fflush(f);
    ck_assert_uint_eq(len, after_first);
    bg_progress_update(p, 300, 300, 290, 8, 2); /* the last one always shows */
    fflush(f);
    ck_assert_ptr_nonnull(strstr(text + after_first, "[300/300] pass 290 fail 8 err 2 "));
    ck_assert_ptr_nonnull(strstr(text + after_first, "ETA 0s"));
    bg_progress_free(p);
    fclose(f);
    ck_assert(bg_str_ends_with(text, "\r\033[K"));
    ck_assert_ptr_null(strchr(text, '\n'));
    free(text);
}
END_TEST

START_TEST(progress_plain_waits_and_quiet_prints_nothing)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    bg_progress *p = bg_progress_new(f, 10, false, false);
    bg_progress_update(p, 1, 0, 1, 0, 0); /* less than 5 s in: nothing yet */
    bg_progress_free(p);
    p = bg_progress_new(f, 10, true, true);
    bg_progress_update(p, 10, 0, 10, 0, 0);
    bg_progress_free(p);
    bg_progress_free(NULL);
    fclose(f);
    ck_assert_uint_eq(len, 0);
    free(text);
}
END_TEST

/* --- shared helpers --- */

START_TEST(utf8_decoder_rejects_overlong_surrogates_and_truncation)
{
    uint32_t cp;
    ck_assert_uint_eq(bg_report_utf8_next("\xc3\xa9", 2, &cp), 2);
    ck_assert_uint_eq(cp, 0xE9);
    ck_assert_uint_eq(bg_report_utf8_next("\xf0\x9f\x98\x80", 4, &cp), 4);
    ck_assert_uint_eq(cp, 0x1F600);
    ck_assert_uint_eq(bg_report_utf8_next("\xc0\xaf", 2, &cp), 1); /* overlong '/' */
    ck_assert_uint_eq(cp, 0xFFFD);
    ck_assert_uint_eq(bg_report_utf8_next("\xe0\x80\xaf", 3, &cp), 1);
    ck_assert_uint_eq(cp, 0xFFFD);
    ck_assert_uint_eq(bg_report_utf8_next("\xed\xa0\x80", 3, &cp), 1); /* surrogate */
    ck_assert_uint_eq(cp, 0xFFFD);
    ck_assert_uint_eq(bg_report_utf8_next("\xe2\x82", 2, &cp), 1); /* truncated */
    ck_assert_uint_eq(cp, 0xFFFD);
    ck_assert_uint_eq(bg_report_utf8_next("\xf4\x90\x80\x80", 4, &cp), 1); /* > U+10FFFF */
    ck_assert_uint_eq(cp, 0xFFFD);
}
END_TEST

START_TEST(walk_without_callbacks_visits_nothing)
{
    bg_run *run = fx_run();
    bg_report_ops ops = {0};
    ck_assert_int_eq(bg_report_walk(run, &ops, NULL), 0);
    bg_run_free(run);
}
END_TEST

static int trace_begin(void *ctx, const bg_run *run)
{
    (void)run;
    return bg_buf_puts(ctx, "B");
}
static int trace_suite_begin(void *ctx, const bg_run *run, size_t s)
{
    (void)run;
    return bg_buf_printf(ctx, "[%zu", s);
}
static int trace_case(void *ctx, const bg_run *run, size_t s, size_t c)
{
    (void)run;
    if (s == 1)
        return BG_EIO;
    return bg_buf_printf(ctx, "c%zu", c);
}
static int trace_suite_end(void *ctx, const bg_run *run, size_t s)
{
    (void)run;
    return bg_buf_printf(ctx, "%zu]", s);
}
static int trace_thresholds(void *ctx, const bg_run *run)
{
    (void)run;
    return bg_buf_puts(ctx, "T");
}
static int trace_end(void *ctx, const bg_run *run)
{
    (void)run;
    return bg_buf_puts(ctx, "E");
}

START_TEST(walk_calls_callbacks_in_document_order)
{
    bg_run *run = fx_run();
    bg_buf trace;
    bg_buf_init(&trace, 0);
    bg_report_ops ops = {trace_begin, trace_suite_begin, trace_case, trace_suite_end,
                         trace_thresholds, trace_end};
    ck_assert_int_eq(bg_report_walk(run, &ops, &trace), BG_EIO);
    ck_assert_str_eq(bg_buf_cstr(&trace), "B[0c0c1c2c30][1");
    ops.test_case = NULL;
    bg_buf_reset(&trace);
    ck_assert_int_eq(bg_report_walk(run, &ops, &trace), 0);
    ck_assert_str_eq(bg_buf_cstr(&trace), "B[00][11]TE");
    bg_buf_dispose(&trace);
    bg_run_free(run);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("report");
    TCase *junit = tcase_create("junit");
    tcase_add_checked_fixture(junit, make_tmpdir, remove_tree);
    tcase_set_timeout(junit, 30);
    tcase_add_test(junit, junit_validates_against_jenkins_schema);
    tcase_add_test(junit, junit_counts_match_the_testcases);
    tcase_add_test(junit, junit_failure_lists_failed_assertions_answer_and_file_line);
    tcase_add_test(junit, junit_repeated_case_says_how_many_runs_passed);
    tcase_add_test(junit, junit_errored_case_is_an_error_with_its_kind);
    tcase_add_test(junit, junit_thresholds_are_a_suite_of_their_own);
    tcase_add_test(junit, junit_threshold_body_names_the_sample_count_once);
    tcase_add_test(junit, junit_escapes_nasty_strings_and_stays_valid);
    tcase_add_test(junit, junit_failure_message_is_one_line_of_about_300_bytes);
    tcase_add_test(junit, junit_case_that_never_ran_is_skipped);
    tcase_add_test(junit, write_junit_creates_parent_directories);
    tcase_add_test(junit, write_report_to_unwritable_path_fails_with_a_message);
    suite_add_tcase(s, junit);

    TCase *json = tcase_create("json");
    tcase_add_test(json, json_report_parses_back_with_the_key_fields);
    tcase_add_test(json, json_requests_carry_names_and_nulls_for_unknowns);
    tcase_add_test(json, json_nan_becomes_null);
    tcase_add_test(json, json_invalid_utf8_becomes_replacement_character);
    suite_add_tcase(s, json);

    TCase *md = tcase_create("markdown");
    tcase_add_test(md, markdown_has_verdict_facts_and_tables);
    tcase_add_test(md, deploy_lifecycle_in_junit_markdown_and_json);
    tcase_add_test(md, markdown_failing_cases_worst_first);
    tcase_add_test(md, markdown_escapes_pipes_newlines_and_html);
    tcase_add_test(md, markdown_caps_failing_rows_and_size);
    suite_add_tcase(s, md);

    TCase *om = tcase_create("metrics");
    tcase_add_test(om, metrics_lines_have_type_help_and_eof);
    tcase_add_test(om, metrics_escape_label_values);
    suite_add_tcase(s, om);

    TCase *con = tcase_create("console");
    tcase_add_test(con, console_summary_shows_verdict_thresholds_and_failing_cases);
    tcase_add_test(con, console_quiet_prints_only_the_verdict_of_a_failed_gate);
    tcase_add_test(con, console_colours_only_when_asked);
    tcase_add_test(con, console_strips_terminal_escapes_from_answers);
    tcase_add_test(con, console_caps_failing_cases_at_ten);
    tcase_add_test(con, progress_redraws_one_line_on_a_tty);
    tcase_add_test(con, progress_plain_waits_and_quiet_prints_nothing);
    suite_add_tcase(s, con);

    TCase *walk = tcase_create("walk");
    tcase_add_test(walk, utf8_decoder_rejects_overlong_surrogates_and_truncation);
    tcase_add_test(walk, walk_without_callbacks_visits_nothing);
    tcase_add_test(walk, walk_calls_callbacks_in_document_order);
    suite_add_tcase(s, walk);
    return s;
}

BG_CHECK_MAIN()
