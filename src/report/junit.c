/* junit.c — the JUnit XML report, valid against the Jenkins JUnit schema
 * (tests/fixtures/junit/jenkins-junit.xsd) that Jenkins, GitLab and GitHub viewers read.
 *
 * One <testsuite> per golden suite with one <testcase> per case, then a "thresholds"
 * suite with one <testcase> per gate threshold; with a baseline alongside (paired.h) a
 * "baseline" suite: the comparison in <system-out>, then one failed <testcase> per case
 * that passed on the baseline and failed on the candidate. Each case carries `file` and `line`
 * attributes — what pytest, jest-junit, GitLab and the GitHub annotation actions read to
 * point at the failing line; Jenkins ignores them, and they are the one addition our
 * copy of the Jenkins schema makes. A failed or errored case also names its file:line in
 * <system-out> (and its suite's path is a <property>). Every string from a suite, a
 * server or a model goes through xml_text: escaped, stripped of characters XML 1.0
 * forbids, invalid UTF-8 replaced by U+FFFD. Numbers use '.' whatever the locale.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bggate/paired.h"
#include "bggate/util.h"
#include "report_internal.h"

#define JUNIT_MESSAGE_MAX 300 /* bytes of a failure message attribute */

typedef struct junit_ctx {
    bg_buf *out;
    char stamp[32];
    char host[256];
} junit_ctx;

/* --- escaping --- */

static int xml_cp(bg_buf *b, uint32_t cp, bool attr)
{
    switch (cp) {
    case '&': return bg_buf_puts(b, "&amp;");
    case '<': return bg_buf_puts(b, "&lt;");
    case '>': return bg_buf_puts(b, "&gt;");
    case '"': return bg_buf_puts(b, "&quot;");
    case '\'': return bg_buf_puts(b, "&apos;");
    case '\r': return bg_buf_puts(b, "&#13;"); /* parsers would normalise a raw CR away */
    case '\t': return attr ? bg_buf_puts(b, "&#9;") : bg_buf_putc(b, '\t');
    case '\n': return attr ? bg_buf_puts(b, "&#10;") : bg_buf_putc(b, '\n');
    default: break;
    }
    if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF)
        return 0; /* not allowed anywhere in an XML 1.0 document: drop */
    return bg_report_put_utf8(b, cp);
}

static int xml_escape(bg_buf *b, const char *s, bool attr)
{
    size_t len = s ? strlen(s) : 0;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        uint32_t cp;
        i += bg_report_utf8_next(s + i, len - i, &cp);
        rc = xml_cp(b, cp, attr);
    }
    return rc;
}

/* Appends ` name="value"` with value escaped. */
static int xml_attr(bg_buf *b, const char *name, const char *value)
{
    int rc = bg_buf_printf(b, " %s=\"", name);
    if (rc == 0)
        rc = xml_escape(b, value, true);
    if (rc == 0)
        rc = bg_buf_putc(b, '"');
    return rc;
}

static int xml_attr_num(bg_buf *b, const char *name, double v, int prec)
{
    char n[48];
    return xml_attr(b, name, bg_report_num(n, sizeof n, isfinite(v) ? v : 0.0, prec));
}

static int xml_attr_count(bg_buf *b, const char *name, size_t v)
{
    return bg_buf_printf(b, " %s=\"%zu\"", name, v);
}

/* --- suites --- */

static double suite_seconds(const bg_run *run, size_t s)
{
    const bg_aggregate *a = bg_report_suite_agg(run, s);
    if (a && isfinite(a->duration_s) && a->duration_s > 0)
        return a->duration_s;
    double ms = 0;
    for (size_t c = 0; c < run->suites[s]->n_cases; c++) {
        const bg_case_result *r = bg_report_case(run, s, c);
        ms += r && isfinite(r->time_ms) ? r->time_ms : 0;
    }
    return ms / 1000.0;
}

/* The attributes <testsuite> shares between golden suites and the thresholds suite. */
static int suite_open(junit_ctx *x, const char *name, const bg_report_counts *k, double secs)
{
    bg_buf *b = x->out;
    int rc = bg_buf_puts(b, "  <testsuite");
    if (rc == 0) rc = xml_attr(b, "name", name);
    if (rc == 0) rc = xml_attr_count(b, "tests", k->cases);
    if (rc == 0) rc = xml_attr_count(b, "failures", k->failed);
    if (rc == 0) rc = xml_attr_count(b, "errors", k->errored);
    if (rc == 0) rc = xml_attr_count(b, "skipped", k->skipped);
    if (rc == 0) rc = xml_attr_num(b, "time", secs, 3);
    if (rc == 0) rc = xml_attr(b, "timestamp", x->stamp);
    if (rc == 0) rc = xml_attr(b, "hostname", x->host);
    if (rc == 0) rc = bg_buf_puts(b, ">\n");
    return rc;
}

static int junit_begin(void *ctx, const bg_run *run)
{
    junit_ctx *x = ctx;
    bg_report_counts k;
    bg_report_count(&k, run, SIZE_MAX);
    for (size_t i = 0; i < run->n_thresholds; i++) {
        k.cases++;
        k.failed += run->thresholds[i].status != BG_TH_PASS;
    }
    for (size_t i = 0; i < run->n_phases; i++) {
        k.cases++;
        k.failed += run->phases[i].failure != NULL;
    }
    if (run->paired) { /* the baseline suite: the comparison and one case per regression */
        k.cases += 1 + run->paired->n_regressions;
        k.failed += run->paired->n_regressions;
    }
    bg_buf *b = x->out;
    int rc = bg_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
    if (rc == 0) rc = xml_attr(b, "name", "bg-gate");
    if (rc == 0) rc = xml_attr_count(b, "tests", k.cases);
    if (rc == 0) rc = xml_attr_count(b, "failures", k.failed);
    if (rc == 0) rc = xml_attr_count(b, "errors", k.errored);
    if (rc == 0) rc = xml_attr_num(b, "time", run->duration_s, 3);
    if (rc == 0) rc = bg_buf_puts(b, ">\n");
    return rc;
}

static int junit_suite_begin(void *ctx, const bg_run *run, size_t s)
{
    junit_ctx *x = ctx;
    const bg_suite *su = run->suites[s];
    bg_report_counts k;
    bg_report_count(&k, run, s);
    int rc = suite_open(x, su->name ? su->name : "", &k, suite_seconds(run, s));
    if (rc == 0 && su->path) {
        rc = bg_buf_puts(x->out, "    <properties><property name=\"file\"");
        if (rc == 0) rc = xml_attr(x->out, "value", su->path);
        if (rc == 0) rc = bg_buf_puts(x->out, "/></properties>\n");
    }
    return rc;
}

static int junit_suite_end(void *ctx, const bg_run *run, size_t s)
{
    (void)run;
    (void)s;
    return bg_buf_puts(((junit_ctx *)ctx)->out, "  </testsuite>\n");
}

/* --- cases --- */

/* The one-line message attribute: the reason, how many runs passed, ~300 bytes. */
static void case_message(char *out, size_t outsz, const bg_case_result *r, bool errored)
{
    char tmp[BG_ERROR_MSG_MAX + 512], composed[BG_ERROR_MSG_MAX + 600];
    const char *reason = bg_report_case_reason(tmp, sizeof tmp, r);
    if (r->runs <= 1)
        snprintf(composed, sizeof composed, "%s", reason);
    else if (errored)
        snprintf(composed, sizeof composed, "%s (%u of %u runs passed)", reason, r->passed,
                 r->runs);
    else
        snprintf(composed, sizeof composed, "%u of %u runs passed: %s", r->passed, r->runs,
                 reason);
    bg_report_line(out, outsz, composed, JUNIT_MESSAGE_MAX);
}

/* Failure body: each failed assertion (type: reason) on its own line, then the answer. */
static int failure_body(bg_buf *b, const bg_case *kc, const bg_case_result *r)
{
    int rc = 0;
    size_t shown = 0;
    for (size_t i = 0; r->asserts && i < kc->n_asserts && rc == 0; i++) {
        const bg_assert_result *ar = &r->asserts[i];
        if (ar->pass)
            continue;
        char type[64];
        bg_report_assert_type(type, sizeof type, &kc->asserts[i]);
        size_t tl = strlen(type);
        /* a negated assertion's reason already starts with its type ("not-contains: …") */
        bool named = strncmp(ar->reason, type, tl) == 0 && ar->reason[tl] == ':';
        if (!named || ar->error)
            rc = bg_buf_printf(b, "%s%s: ", type, ar->error ? " (error)" : "");
        if (rc == 0) rc = xml_escape(b, ar->reason, false);
        if (rc == 0) rc = bg_buf_putc(b, '\n');
        shown++;
    }
    if (rc == 0 && shown == 0 && r->failure) {
        rc = xml_escape(b, r->failure, false);
        if (rc == 0) rc = bg_buf_putc(b, '\n');
    }
    return rc;
}

static int answer_line(bg_buf *b, const bg_case_result *r)
{
    if (!r->excerpt)
        return 0;
    int rc = bg_buf_puts(b, "answer: ");
    if (rc == 0) rc = xml_escape(b, r->excerpt, false);
    if (rc == 0) rc = bg_buf_putc(b, '\n');
    return rc;
}

static int case_problem(bg_buf *b, const bg_case *kc, const bg_case_result *r, bool errored)
{
    char msg[JUNIT_MESSAGE_MAX + 16];
    case_message(msg, sizeof msg, r, errored);
    const char *type = "assertion";
    if (errored)
        type = bg_req_error_name(r->error_kind == BG_REQ_OK ? BG_REQ_OTHER : r->error_kind);
    int rc = bg_buf_puts(b, errored ? "      <error" : "      <failure");
    if (rc == 0) rc = xml_attr(b, "message", msg);
    if (rc == 0) rc = xml_attr(b, "type", type);
    if (rc == 0) rc = bg_buf_putc(b, '>');
    if (rc == 0 && errored) {
        char tmp[BG_ERROR_MSG_MAX + 512];
        rc = xml_escape(b, bg_report_case_reason(tmp, sizeof tmp, r), false);
        if (rc == 0) rc = bg_buf_putc(b, '\n');
    } else if (rc == 0) {
        rc = failure_body(b, kc, r);
    }
    if (rc == 0) rc = answer_line(b, r);
    if (rc == 0) rc = bg_buf_puts(b, errored ? "</error>\n" : "</failure>\n");
    return rc;
}

/* file:line goes to <system-out>: the schema has no attribute for it. */
static int case_location(bg_buf *b, const bg_suite *su, const bg_case *kc)
{
    char line[32];
    snprintf(line, sizeof line, ":%d", kc->line);
    int rc = bg_buf_puts(b, "      <system-out>");
    if (rc == 0) rc = xml_escape(b, su->path ? su->path : su->name, false);
    if (rc == 0) rc = bg_buf_puts(b, line);
    if (rc == 0) rc = bg_buf_puts(b, "</system-out>\n");
    return rc;
}

static int junit_case(void *ctx, const bg_run *run, size_t s, size_t c)
{
    junit_ctx *x = ctx;
    bg_buf *b = x->out;
    const bg_suite *su = run->suites[s];
    const bg_case *kc = &su->cases[c];
    const bg_case_result *r = bg_report_case(run, s, c);
    bg_report_status st = bg_report_status_of(r);
    double secs = r && r->runs ? r->time_ms / r->runs / 1000.0 : 0.0;

    int rc = bg_buf_puts(b, "    <testcase");
    if (rc == 0) rc = xml_attr(b, "classname", su->name ? su->name : "");
    if (rc == 0) rc = xml_attr(b, "name", kc->id ? kc->id : "");
    if (rc == 0) rc = xml_attr(b, "file", su->path ? su->path : "");
    if (rc == 0) rc = bg_buf_printf(b, " line=\"%d\"", kc->line);
    if (rc == 0) rc = xml_attr_num(b, "time", secs, 3);
    if (rc != 0 || st == BG_REPORT_PASSED)
        return rc ? rc : bg_buf_puts(b, "/>\n");
    rc = bg_buf_puts(b, ">\n");
    if (rc == 0 && st == BG_REPORT_SKIPPED)
        rc = bg_buf_puts(b, "      <skipped>not run</skipped>\n");
    else if (rc == 0)
        rc = case_problem(b, kc, r, st == BG_REPORT_ERRORED);
    if (rc == 0) rc = case_location(b, su, kc);
    if (rc == 0) rc = bg_buf_puts(b, "    </testcase>\n");
    return rc;
}

/* --- thresholds --- */

/* Whether a threshold's text already gives its sample count: "inconclusive (4 samples, need
 * 100)", "(3 of 40 requests)", "(4 candidate and 4 baseline samples …)". */
static bool text_has_count(const char *text)
{
    return strstr(text, "sample") != NULL || strstr(text, " requests)") != NULL;
}

static int threshold_case(bg_buf *b, const bg_threshold_result *t)
{
    int rc = bg_buf_puts(b, "    <testcase");
    if (rc == 0) rc = xml_attr(b, "classname", "thresholds");
    if (rc == 0) rc = xml_attr(b, "name", t->th.name);
    if (rc == 0) rc = bg_buf_puts(b, " time=\"0.000\">\n");
    if (rc == 0 && t->status != BG_TH_PASS) {
        rc = bg_buf_puts(b, "      <failure");
        if (rc == 0) rc = xml_attr(b, "message", t->text);
        if (rc == 0)
            rc = xml_attr(b, "type", t->status == BG_TH_FAIL ? "threshold" : "inconclusive");
        if (rc == 0) rc = bg_buf_putc(b, '>');
        if (rc == 0) rc = xml_escape(b, t->text, false);
        if (rc == 0 && t->samples && !text_has_count(t->text))
            rc = bg_buf_printf(b, " (%zu samples)", t->samples);
        if (rc == 0) rc = bg_buf_puts(b, "</failure>\n");
    }
    if (rc == 0) rc = bg_buf_puts(b, "      <system-out>");
    if (rc == 0) rc = xml_escape(b, t->text, false);
    if (rc == 0) rc = bg_buf_puts(b, "</system-out>\n    </testcase>\n");
    return rc;
}

static int junit_thresholds(void *ctx, const bg_run *run)
{
    junit_ctx *x = ctx;
    if (run->n_thresholds == 0)
        return 0;
    bg_report_counts k = {.cases = run->n_thresholds};
    for (size_t i = 0; i < run->n_thresholds; i++)
        k.failed += run->thresholds[i].status != BG_TH_PASS;
    int rc = suite_open(x, "thresholds", &k, 0.0);
    for (size_t i = 0; i < run->n_thresholds && rc == 0; i++)
        rc = threshold_case(x->out, &run->thresholds[i]);
    if (rc == 0)
        rc = bg_buf_puts(x->out, "  </testsuite>\n");
    return rc;
}

/* --- baseline: the comparison, and a failure per case that regressed (paired.h) --- */

static int latency_line(bg_buf *b, const char *name, const bg_latency_cmp *c)
{
    char mc[48], mb[48], ratio[48], u[48], p[48];
    if (!c->tested)
        return bg_buf_printf(b, "%s: not compared (%zu candidate, %zu baseline samples)\n", name,
                             c->n_candidate, c->n_baseline);
    return bg_buf_printf(b, "%s: median %s ms, baseline %s ms, ratio %s; Mann-Whitney U %s, "
                            "one-sided p %s (%s); candidate n %zu, baseline n %zu\n",
                         name, bg_report_num(mc, sizeof mc, c->median_candidate, 1),
                         bg_report_num(mb, sizeof mb, c->median_baseline, 1),
                         bg_report_num(ratio, sizeof ratio, c->ratio, 3),
                         bg_report_num(u, sizeof u, c->test.u1, 1),
                         bg_report_num(p, sizeof p, c->test.p_greater, -3),
                         c->test.exact ? "exact" : "normal approximation", c->n_candidate,
                         c->n_baseline);
}

static int baseline_summary_case(bg_buf *b, const bg_run *run)
{
    const bg_paired *p = run->paired;
    char pb[48], pc[48], drop[48], alpha[48];
    int rc = bg_buf_puts(b, "    <testcase classname=\"baseline\" name=\"comparison\" "
                            "time=\"0.000\">\n      <system-out>");
    for (size_t i = 0; i < run->baseline->n_endpoints && rc == 0; i++) {
        rc = bg_buf_puts(b, "baseline endpoint: ");
        if (rc == 0) rc = xml_escape(b, run->baseline->endpoints[i], false);
        if (rc == 0) rc = bg_buf_putc(b, '\n');
    }
    if (rc == 0)
        rc = bg_buf_printf(b, "pass rate: baseline %s, candidate %s, drop %s; %zu regressed, "
                              "%zu improved, %zu cases compared\nalpha %s\n",
                           bg_report_num(pb, sizeof pb, p->pass_rate_baseline, 3),
                           bg_report_num(pc, sizeof pc, p->pass_rate_candidate, 3),
                           bg_report_num(drop, sizeof drop, p->drop, 3), p->n_regressions,
                           p->n_improvements, p->n_compared,
                           bg_report_num(alpha, sizeof alpha, p->alpha, -3));
    if (rc == 0) rc = latency_line(b, "e2e", &p->e2e);
    if (rc == 0) rc = latency_line(b, "ttft", &p->ttft);
    if (rc == 0) rc = bg_buf_puts(b, "</system-out>\n    </testcase>\n");
    return rc;
}

static int regression_case(bg_buf *b, const bg_run *run, const bg_regression *g)
{
    const bg_suite *su = run->suites[g->suite];
    const bg_case *kc = &su->cases[g->kase];
    char tmp[BG_ERROR_MSG_MAX + 512], composed[BG_ERROR_MSG_MAX + 600];
    char msg[JUNIT_MESSAGE_MAX + 16];
    snprintf(composed, sizeof composed, "passed on the baseline, failed on the candidate: %s",
             bg_report_case_reason(tmp, sizeof tmp, bg_report_case(run, g->suite, g->kase)));
    bg_report_line(msg, sizeof msg, composed, JUNIT_MESSAGE_MAX);
    int rc = bg_buf_puts(b, "    <testcase");
    if (rc == 0) rc = xml_attr(b, "classname", "baseline");
    if (rc == 0) rc = xml_attr(b, "name", kc->id ? kc->id : "");
    if (rc == 0) rc = xml_attr(b, "file", su->path ? su->path : "");
    if (rc == 0) rc = bg_buf_printf(b, " line=\"%d\" time=\"0.000\">\n      <failure", kc->line);
    if (rc == 0) rc = xml_attr(b, "message", msg);
    if (rc == 0) rc = xml_attr(b, "type", "regression");
    if (rc == 0) rc = bg_buf_putc(b, '>');
    if (rc == 0) rc = xml_escape(b, composed, false);
    if (rc == 0) rc = bg_buf_puts(b, "\n");
    if (rc == 0) rc = answer_line(b, bg_report_case(run, g->suite, g->kase));
    if (rc == 0) rc = bg_buf_puts(b, "</failure>\n");
    if (rc == 0) rc = case_location(b, su, kc);
    if (rc == 0) rc = bg_buf_puts(b, "    </testcase>\n");
    return rc;
}

static int junit_baseline(junit_ctx *x, const bg_run *run)
{
    const bg_paired *p = run->paired;
    if (!p || !run->baseline)
        return 0;
    bg_report_counts k = {.cases = 1 + p->n_regressions, .failed = p->n_regressions};
    int rc = suite_open(x, "baseline", &k, 0.0);
    if (rc == 0) rc = baseline_summary_case(x->out, run);
    for (size_t i = 0; i < p->n_regressions && rc == 0; i++)
        rc = regression_case(x->out, run, &p->regressions[i]);
    if (rc == 0)
        rc = bg_buf_puts(x->out, "  </testsuite>\n");
    return rc;
}

/* --- deploy lifecycle: one test case per phase, failed with its reason --- */

static int phase_case(bg_buf *b, const bg_phase_record *p)
{
    int rc = bg_buf_puts(b, "    <testcase");
    if (rc == 0) rc = xml_attr(b, "classname", "lifecycle");
    if (rc == 0) rc = xml_attr(b, "name", p->name);
    if (rc == 0) rc = xml_attr_num(b, "time", p->duration_s, 3);
    if (rc != 0 || !p->failure)
        return rc ? rc : bg_buf_puts(b, "/>\n");
    rc = bg_buf_puts(b, ">\n      <failure");
    if (rc == 0) rc = xml_attr(b, "message", p->failure);
    if (rc == 0) rc = xml_attr(b, "type", "phase");
    if (rc == 0) rc = bg_buf_putc(b, '>');
    if (rc == 0) rc = xml_escape(b, p->failure, false);
    if (rc == 0) rc = bg_buf_puts(b, "</failure>\n    </testcase>\n");
    return rc;
}

static int junit_end(void *ctx, const bg_run *run)
{
    junit_ctx *x = ctx;
    int rc = junit_baseline(x, run);
    if (rc == 0 && run->n_phases) {
        bg_report_counts k = {.cases = run->n_phases};
        double secs = 0;
        for (size_t i = 0; i < run->n_phases; i++) {
            k.failed += run->phases[i].failure != NULL;
            secs += run->phases[i].duration_s;
        }
        rc = suite_open(x, "lifecycle", &k, secs);
        for (size_t i = 0; i < run->n_phases && rc == 0; i++)
            rc = phase_case(x->out, &run->phases[i]);
        if (rc == 0)
            rc = bg_buf_puts(x->out, "  </testsuite>\n");
    }
    return rc ? rc : bg_buf_puts(x->out, "</testsuites>\n");
}

static const bg_report_ops junit_ops = {
    .begin = junit_begin,
    .suite_begin = junit_suite_begin,
    .test_case = junit_case,
    .suite_end = junit_suite_end,
    .thresholds = junit_thresholds,
    .end = junit_end,
};

int bg_report_render_junit(bg_buf *out, const bg_run *run)
{
    junit_ctx x = {.out = out};
    bg_iso8601(x.stamp, sizeof x.stamp, run->started_wall_s);
    if (gethostname(x.host, sizeof x.host) != 0)
        bg_strlcpy(x.host, "localhost", sizeof x.host);
    x.host[sizeof x.host - 1] = '\0'; /* gethostname may not terminate a truncated name */
    return bg_report_walk(run, &junit_ops, &x);
}

int bg_report_write_junit(const bg_run *run, const char *path, bg_error *err)
{
    return bg_report_write_with(bg_report_render_junit, run, path, err);
}
