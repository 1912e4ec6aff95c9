/* markdown.c — the Markdown summary, written for GitHub's job summary
 * ($GITHUB_STEP_SUMMARY) and merge-request comments.
 *
 * Verdict heading, one line of facts, then tables: thresholds, latency, the baseline
 * comparison (paired.h) with its regressions, pass rate per suite and per tag, errors by
 * kind, and the failing cases worst first. GitHub rejects
 * summaries over 1 MiB, so every table is capped (failing cases at 20 rows, other
 * tables at 50) and cell text is cut short; the JUnit and JSON reports hold the rest.
 * Cell text is escaped so that a model's answer can neither break the table (| and
 * newlines) nor inject markup or HTML.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/gate.h"
#include "bggate/paired.h"
#include "bggate/util.h"
#include "report_internal.h"

#define MD_MAX_FAILING 20    /* failing-case rows */
#define MD_MAX_ROWS 50       /* rows of any other table */
#define MD_EXCERPT_CHARS 120 /* bytes of an answer in a cell */
#define MD_REASON_CHARS 200  /* bytes of a failure reason in a cell */

typedef struct md_ctx {
    bg_buf *out;
    bg_buf suites; /* per-suite rows, emitted after the latency table */
} md_ctx;

/* --- escaping --- */

static int md_cp(bg_buf *b, uint32_t cp)
{
    switch (cp) {
    case '\n': case '\r': case '\t': return bg_buf_putc(b, ' ');
    case '<': return bg_buf_puts(b, "&lt;");
    case '>': return bg_buf_puts(b, "&gt;");
    case '&': return bg_buf_puts(b, "&amp;");
    case '|': case '\\': case '`': case '*': case '_': case '[': case ']': case '~': case '#':
        return bg_buf_printf(b, "\\%c", (char)cp);
    default: break;
    }
    if (bg_report_is_control(cp))
        return 0;
    return bg_report_put_utf8(b, cp);
}

/* Appends s, at most max_chars bytes of it (0 = all), as inert one-line text. */
static int md_text(bg_buf *b, const char *s, size_t max_chars)
{
    char cut[MD_REASON_CHARS + 16];
    if (s && max_chars) {
        bg_report_line(cut, sizeof cut, s, max_chars < MD_REASON_CHARS ? max_chars
                                                                         : MD_REASON_CHARS);
        s = cut;
    }
    size_t len = s ? strlen(s) : 0;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        uint32_t cp;
        i += bg_report_utf8_next(s + i, len - i, &cp);
        rc = md_cp(b, cp);
    }
    return rc;
}

static const char *md_pct(char *out, size_t outsz, double rate)
{
    char n[48];
    if (!isfinite(rate))
        snprintf(out, outsz, "n/a");
    else
        snprintf(out, outsz, "%s %%", bg_report_num(n, sizeof n, rate * 100.0, 1));
    return out;
}

static int md_more(bg_buf *b, size_t total, size_t shown, const char *what)
{
    if (total <= shown)
        return 0;
    return bg_buf_printf(b, "\n_… and %zu more %s: see the JUnit or JSON report._\n",
                         total - shown, what);
}

/* --- heading and facts --- */

static int md_begin(void *ctx, const bg_run *run)
{
    md_ctx *m = ctx;
    bg_buf *b = m->out;
    bool ok = run->verdict == BG_VERDICT_PASSED;
    bg_report_counts k;
    bg_report_count(&k, run, SIZE_MAX);
    char dur[48];
    int rc = run->decision
                 ? bg_buf_printf(b, "## bg-gate deploy: %s %s\n\n",
                                 strcmp(run->decision, "promoted") == 0 ||
                                         strcmp(run->decision, "nothing-to-deploy") == 0
                                     ? "✅"
                                     : "❌",
                                 run->decision)
                 : bg_buf_printf(b, "## bg-gate eval: %s %s\n\n", ok ? "✅" : "❌",
                                 bg_verdict_name(run->verdict));
    if (rc == 0 && !ok && run->verdict_reason) {
        rc = bg_buf_puts(b, "> ");
        if (rc == 0) rc = md_text(b, run->verdict_reason, 0);
        if (rc == 0) rc = bg_buf_puts(b, "\n\n");
    }
    if (rc == 0) rc = bg_buf_puts(b, "**model** ");
    if (rc == 0) rc = md_text(b, run->model ? run->model : "(server default)", 0);
    if (rc == 0 && run->release_id)
        rc = bg_buf_printf(b, " · **release** `%.12s` (commit `%.12s`)", run->release_id,
                           run->commit ? run->commit : "?");
    if (rc == 0)
        rc = bg_buf_printf(b, " · **endpoints** %zu · **cases** %zu (%zu passed, %zu failed, "
                              "%zu errored) · **requests** %zu · **duration** %s s\n",
                           run->n_endpoints, k.cases, k.passed, k.failed, k.errored,
                           run->overall.requests,
                           bg_report_num(dur, sizeof dur, run->duration_s, 1));
    return rc;
}

/* --- per suite (buffered: the table comes after thresholds and latency) --- */

static int md_suite_end(void *ctx, const bg_run *run, size_t s)
{
    md_ctx *m = ctx;
    if (s >= MD_MAX_ROWS)
        return 0;
    const bg_aggregate *a = bg_report_suite_agg(run, s);
    bg_report_counts k;
    bg_report_count(&k, run, s);
    char pct[64];
    int rc = bg_buf_puts(&m->suites, "| ");
    if (rc == 0) rc = md_text(&m->suites, run->suites[s]->name, 0);
    if (rc == 0)
        rc = bg_buf_printf(&m->suites, " | %zu | %zu | %zu | %zu | %s |\n", k.cases, k.passed,
                           k.failed, k.errored, md_pct(pct, sizeof pct, a ? a->pass_rate : NAN));
    return rc;
}

/* --- thresholds and latency --- */

static int md_threshold_row(bg_buf *b, const bg_threshold_result *t)
{
    static const char *const result[] = {"✅ pass", "❌ fail", "⚠️ inconclusive"};
    char lim[48], meas[48];
    bg_report_num(lim, sizeof lim, t->th.limit, -6);
    if (isfinite(t->measured))
        bg_report_num(meas, sizeof meas, t->measured, -6);
    else
        snprintf(meas, sizeof meas, "n/a");
    int rc = bg_buf_puts(b, "| ");
    if (rc == 0) rc = md_text(b, t->th.name, 0);
    if (rc == 0)
        rc = bg_buf_printf(b, " | %s %s | %s (%zu samples) | %s |\n", t->th.is_min ? "≥" : "≤",
                           lim, meas, t->samples, result[t->status]);
    return rc;
}

static int md_latency_row(bg_buf *b, const char *name, const bg_samples *s, bool *any)
{
    bg_summary sum;
    bg_report_summary(s, &sum);
    if (sum.n == 0)
        return 0;
    int rc = 0;
    if (!*any)
        rc = bg_buf_puts(b, "\n### Latency (ms)\n\n| metric | p50 | p90 | p95 | p99 | max |\n"
                            "| --- | ---: | ---: | ---: | ---: | ---: |\n");
    *any = true;
    const double v[] = {sum.p50, sum.p90, sum.p95, sum.p99, sum.max};
    if (rc == 0) rc = bg_buf_printf(b, "| %s (n=%zu) |", name, sum.n);
    for (size_t i = 0; i < sizeof v / sizeof v[0] && rc == 0; i++) {
        char n[48];
        bg_report_num(n, sizeof n, v[i], isfinite(v[i]) && v[i] < 100 ? 1 : 0);
        rc = bg_buf_printf(b, " %s |", isfinite(v[i]) ? n : "n/a");
    }
    if (rc == 0) rc = bg_buf_putc(b, '\n');
    return rc;
}

static int md_thresholds(void *ctx, const bg_run *run)
{
    md_ctx *m = ctx;
    bg_buf *b = m->out;
    int rc = 0;
    if (run->n_thresholds)
        rc = bg_buf_puts(b, "\n### Thresholds\n\n| threshold | limit | measured | result |\n"
                            "| --- | --- | --- | --- |\n");
    size_t shown = run->n_thresholds < MD_MAX_ROWS ? run->n_thresholds : MD_MAX_ROWS;
    for (size_t i = 0; i < shown && rc == 0; i++)
        rc = md_threshold_row(b, &run->thresholds[i]);
    if (rc == 0) rc = md_more(b, run->n_thresholds, shown, "thresholds");
    bool any = false;
    const bg_aggregate *o = &run->overall;
    if (rc == 0) rc = md_latency_row(b, "e2e", &o->e2e, &any);
    if (rc == 0) rc = md_latency_row(b, "ttft", &o->ttft, &any);
    if (rc == 0) rc = md_latency_row(b, "itl", &o->itl, &any);
    if (rc == 0) rc = md_latency_row(b, "tpot", &o->tpot, &any);
    return rc;
}

/* --- pass rates, errors, failing cases --- */

static int md_pass_rates(md_ctx *m, const bg_run *run)
{
    bg_buf *b = m->out;
    int rc = bg_buf_puts(b, "\n### Pass rate\n\n| suite | cases | passed | failed | errored | "
                            "pass rate |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
    if (rc == 0) rc = bg_buf_puts(b, bg_buf_cstr(&m->suites));
    if (rc == 0) rc = md_more(b, run->n_suites, run->n_suites < MD_MAX_ROWS ? run->n_suites
                                                                           : MD_MAX_ROWS, "suites");
    if (rc == 0 && run->n_tags)
        rc = bg_buf_puts(b, "\n| tag | runs | passed | pass rate |\n| --- | ---: | ---: | ---: |\n");
    size_t shown = run->n_tags < MD_MAX_ROWS ? run->n_tags : MD_MAX_ROWS;
    for (size_t i = 0; i < shown && rc == 0; i++) {
        const bg_tag_stat *t = &run->tags[i];
        char pct[64];
        rc = bg_buf_puts(b, "| ");
        if (rc == 0) rc = md_text(b, t->tag, 0);
        if (rc == 0)
            rc = bg_buf_printf(b, " | %zu | %zu | %s |\n", t->runs, t->runs_passed,
                               md_pct(pct, sizeof pct, t->pass_rate));
    }
    if (rc == 0) rc = md_more(b, run->n_tags, shown, "tags");
    return rc;
}

static int md_errors(bg_buf *b, const bg_aggregate *a)
{
    if (a->errors == 0)
        return 0;
    int rc = bg_buf_printf(b, "\n### Errors (%zu of %zu requests)\n\n| kind | requests |\n"
                              "| --- | ---: |\n", a->errors, a->requests);
    for (int k = BG_REQ_OK + 1; k < BG_REQ__COUNT && rc == 0; k++) {
        if (a->errors_by_kind[k])
            rc = bg_buf_printf(b, "| %s | %zu |\n", bg_req_error_name((bg_req_error)k),
                               a->errors_by_kind[k]);
    }
    return rc;
}

static int md_failing_row(bg_buf *b, const bg_run *run, bg_report_ref ref)
{
    const bg_suite *su = run->suites[ref.s];
    const bg_case *kc = &su->cases[ref.c];
    const bg_case_result *r = bg_report_case(run, ref.s, ref.c);
    char tmp[BG_ERROR_MSG_MAX + 512];
    int rc = bg_buf_puts(b, "| ");
    if (rc == 0) rc = md_text(b, kc->id, MD_EXCERPT_CHARS);
    if (rc == 0) rc = bg_buf_puts(b, " | ");
    if (rc == 0) rc = md_text(b, su->name, MD_EXCERPT_CHARS);
    if (rc == 0) rc = bg_buf_printf(b, ":%d | ", kc->line);
    if (rc == 0) rc = md_text(b, bg_report_case_reason(tmp, sizeof tmp, r), MD_REASON_CHARS);
    if (rc == 0) rc = bg_buf_puts(b, " | ");
    if (rc == 0) rc = md_text(b, r->excerpt ? r->excerpt : "", MD_EXCERPT_CHARS);
    if (rc == 0) rc = bg_buf_puts(b, " |\n");
    return rc;
}

static int md_failing(bg_buf *b, const bg_run *run)
{
    bg_report_ref *refs = NULL;
    size_t n = 0;
    int rc = bg_report_failing(&refs, &n, run);
    if (rc != 0 || n == 0)
        goto cleanup;
    rc = bg_buf_printf(b, "\n### Failing cases (%zu)\n\n| case | suite:line | failure | answer |\n"
                          "| --- | --- | --- | --- |\n", n);
    size_t shown = n < MD_MAX_FAILING ? n : MD_MAX_FAILING;
    for (size_t i = 0; i < shown && rc == 0; i++)
        rc = md_failing_row(b, run, refs[i]);
    if (rc == 0)
        rc = md_more(b, n, shown, "failing cases");
cleanup:
    free(refs);
    return rc;
}

/* --- baseline comparison (paired.h) --- */

static const char *md_ms(char *out, size_t outsz, double ms)
{
    char n[48];
    if (!isfinite(ms))
        snprintf(out, outsz, "n/a");
    else
        snprintf(out, outsz, "%s ms", bg_report_num(n, sizeof n, ms, ms < 100 ? 1 : 0));
    return out;
}

static int md_latency_cmp(bg_buf *b, const char *name, const bg_latency_cmp *c)
{
    char mb[64], mc[64], ratio[48], p[48];
    if (c->n_candidate == 0 && c->n_baseline == 0)
        return 0;
    int rc = bg_buf_printf(b, "| %s median | %s | %s | ", name,
                           md_ms(mb, sizeof mb, c->median_baseline),
                           md_ms(mc, sizeof mc, c->median_candidate));
    if (rc == 0 && isfinite(c->ratio))
        rc = bg_buf_printf(b, "×%s", bg_report_num(ratio, sizeof ratio, c->ratio, 2));
    if (rc == 0 && c->tested)
        rc = bg_buf_printf(b, " | p = %s (Mann–Whitney %s, n %zu / %zu) |\n",
                           bg_report_num(p, sizeof p, c->test.p_greater, -2),
                           c->test.exact ? "exact" : "normal approx.", c->n_baseline,
                           c->n_candidate);
    else if (rc == 0)
        rc = bg_buf_printf(b, " | not compared (n %zu / %zu) |\n", c->n_baseline, c->n_candidate);
    return rc;
}

static int md_regressions(bg_buf *b, const bg_run *run)
{
    const bg_paired *p = run->paired;
    if (p->n_regressions == 0)
        return 0;
    int rc = bg_buf_printf(b, "\n#### Regressions: passed on the baseline, failed on the candidate "
                              "(%zu)\n\n| case | suite:line | candidate failure |\n"
                              "| --- | --- | --- |\n", p->n_regressions);
    size_t shown = p->n_regressions < MD_MAX_FAILING ? p->n_regressions : MD_MAX_FAILING;
    for (size_t i = 0; i < shown && rc == 0; i++) {
        const bg_suite *su = run->suites[p->regressions[i].suite];
        const bg_case *kc = &su->cases[p->regressions[i].kase];
        const bg_case_result *r = bg_report_case(run, p->regressions[i].suite,
                                                 p->regressions[i].kase);
        char tmp[BG_ERROR_MSG_MAX + 512];
        rc = bg_buf_puts(b, "| ");
        if (rc == 0) rc = md_text(b, kc->id, MD_EXCERPT_CHARS);
        if (rc == 0) rc = bg_buf_puts(b, " | ");
        if (rc == 0) rc = md_text(b, su->name, MD_EXCERPT_CHARS);
        if (rc == 0) rc = bg_buf_printf(b, ":%d | ", kc->line);
        if (rc == 0) rc = md_text(b, bg_report_case_reason(tmp, sizeof tmp, r), MD_REASON_CHARS);
        if (rc == 0) rc = bg_buf_puts(b, " |\n");
    }
    if (rc == 0)
        rc = md_more(b, p->n_regressions, shown, "regressions");
    return rc;
}

static int md_baseline(bg_buf *b, const bg_run *run)
{
    const bg_paired *p = run->paired;
    if (!p || !run->baseline)
        return 0;
    char pb[64], pc[64], drop[48], alpha[48];
    int rc = bg_buf_printf(b, "\n### Baseline comparison\n\nSame suites, same time, same load: "
                              "%zu baseline endpoint%s, requests interleaved; latency compared "
                              "with a one-sided Mann–Whitney U test at alpha %s.\n\n"
                              "| | baseline | candidate | change | |\n"
                              "| --- | ---: | ---: | ---: | --- |\n",
                           run->baseline->n_endpoints, run->baseline->n_endpoints == 1 ? "" : "s",
                           bg_report_num(alpha, sizeof alpha, p->alpha, -3));
    if (rc == 0)
        rc = bg_buf_printf(b, "| pass rate | %s | %s | %s points | %zu regressed, %zu improved "
                              "of %zu cases |\n",
                           md_pct(pb, sizeof pb, p->pass_rate_baseline),
                           md_pct(pc, sizeof pc, p->pass_rate_candidate),
                           isfinite(p->drop) ? bg_report_num(drop, sizeof drop,
                                                             p->drop == 0 ? 0 : -p->drop * 100.0, 1)
                                             : "n/a",
                           p->n_regressions, p->n_improvements, p->n_compared);
    if (rc == 0) rc = md_latency_cmp(b, "e2e", &p->e2e);
    if (rc == 0) rc = md_latency_cmp(b, "ttft", &p->ttft);
    if (rc == 0) rc = md_regressions(b, run);
    return rc;
}

/* deploy: one row per lifecycle phase, and the router weights before and after */
static int md_lifecycle(bg_buf *b, const bg_run *run)
{
    if (!run->n_phases)
        return 0;
    int rc = bg_buf_puts(b, "\n### Lifecycle\n\n| phase | duration | result |\n| --- | ---: | --- |\n");
    for (size_t i = 0; i < run->n_phases && rc == 0; i++) {
        const bg_phase_record *p = &run->phases[i];
        rc = bg_buf_printf(b, "| %s | %.2f s | ", p->name, p->duration_s);
        if (rc == 0) rc = p->failure ? bg_buf_puts(b, "❌ ") : bg_buf_puts(b, "✅");
        if (rc == 0 && p->failure) rc = md_text(b, p->failure, 200);
        if (rc == 0) rc = bg_buf_puts(b, " |\n");
    }
    if (rc == 0 && run->has_weights)
        rc = bg_buf_printf(b, "\nRouter weights: blue %d%% / green %d%% before, blue %d%% / green "
                              "%d%% after.\n",
                           run->weights_before[0], run->weights_before[1], run->weights_after[0],
                           run->weights_after[1]);
    return rc;
}

static int md_end(void *ctx, const bg_run *run)
{
    md_ctx *m = ctx;
    int rc = md_lifecycle(m->out, run);
    if (rc == 0) rc = md_baseline(m->out, run);
    if (rc == 0) rc = md_pass_rates(m, run);
    if (rc == 0) rc = md_errors(m->out, &run->overall);
    if (rc == 0) rc = md_failing(m->out, run);
    return rc;
}

static const bg_report_ops md_ops = {
    .begin = md_begin,
    .suite_end = md_suite_end,
    .thresholds = md_thresholds,
    .end = md_end,
};

int bg_report_render_markdown(bg_buf *out, const bg_run *run)
{
    md_ctx m = {.out = out};
    bg_buf_init(&m.suites, 0);
    int rc = bg_report_walk(run, &md_ops, &m);
    bg_buf_dispose(&m.suites);
    return rc;
}

int bg_report_write_markdown(const bg_run *run, const char *path, bg_error *err)
{
    return bg_report_write_with(bg_report_render_markdown, run, path, err);
}
