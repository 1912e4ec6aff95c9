/* console.c — what a human sees in a terminal or a CI log: the end-of-run summary and
 * the progress line while requests run.
 *
 * The summary is compact: verdict, counts, latency, one line per threshold (✓ ✗ ?), the
 * baseline comparison and its regressed cases when a baseline ran (paired.h), and the
 * worst failing cases as `suite:line id: reason`. Under -q (log level quiet) only the
 * verdict line of a run that did not pass is printed: a failed gate is never silent.
 * Colour only when asked (the
 * caller decides from the TTY and NO_COLOR). Text that came from suites or models is cut
 * to one line and stripped of control characters, so an answer cannot move the cursor
 * or recolour the terminal. Progress redraws one line on a TTY (at most ~10 times a
 * second), prints a plain line every few seconds otherwise, and nothing when quiet.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/log.h"
#include "bggate/paired.h"
#include "bggate/util.h"
#include "report_internal.h"

#define CON_MAX_FAILING 10
#define CON_REASON_CHARS 160
#define PROGRESS_TTY_MS 100.0    /* redraw at most every 100 ms */
#define PROGRESS_PLAIN_MS 5000.0 /* a plain line every 5 s */

#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_BOLD "\033[1m"
#define ANSI_RESET "\033[0m"

typedef struct con {
    bg_buf b;
    bool color;
} con;

/* --- text --- */

static void con_paint(con *c, const char *ansi, const char *text)
{
    if (c->color)
        bg_buf_printf(&c->b, "%s%s%s", ansi, text, ANSI_RESET);
    else
        bg_buf_puts(&c->b, text);
}

/* One line of at most max_chars bytes, valid UTF-8, no control characters. */
static void con_text(con *c, const char *s, size_t max_chars)
{
    char line[CON_REASON_CHARS + 16];
    bg_report_line(line, sizeof line, s ? s : "",
                   max_chars < CON_REASON_CHARS ? max_chars : CON_REASON_CHARS);
    size_t len = strlen(line);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += bg_report_utf8_next(line + i, len - i, &cp);
        if (!bg_report_is_control(cp))
            bg_report_put_utf8(&c->b, cp);
    }
}

/* --- summary --- */

static void con_verdict(con *c, const bg_run *run)
{
    bool ok = run->verdict == BG_VERDICT_PASSED;
    const char *word = ok ? "✓ eval passed"
                          : run->verdict == BG_VERDICT_ERROR ? "✗ eval error" : "✗ eval failed";
    if (c->color)
        bg_buf_puts(&c->b, ANSI_BOLD);
    con_paint(c, ok ? ANSI_GREEN : ANSI_RED, word);
    if (!ok && run->verdict_reason) {
        bg_buf_puts(&c->b, ": ");
        con_text(c, run->verdict_reason, CON_REASON_CHARS);
    }
    bg_buf_putc(&c->b, '\n');
}

static void con_counts(con *c, const bg_run *run)
{
    const bg_aggregate *a = &run->overall;
    bg_report_counts k;
    bg_report_count(&k, run, SIZE_MAX);
    char rps[48], dur[48];
    bg_buf_printf(&c->b, "  cases     %zu: %zu passed, %zu failed, %zu errored", k.cases,
                  k.passed, k.failed, k.errored);
    if (k.skipped)
        bg_buf_printf(&c->b, ", %zu not run", k.skipped);
    bg_buf_printf(&c->b, "\n  requests  %zu in %s s (%s req/s)", a->requests,
                  bg_report_num(dur, sizeof dur, run->duration_s, 1),
                  bg_report_num(rps, sizeof rps, isfinite(a->req_per_s) ? a->req_per_s : 0, 1));
    if (a->errors) {
        bg_buf_printf(&c->b, ", %zu error%s (", a->errors, a->errors == 1 ? "" : "s");
        const char *sep = "";
        for (int e = BG_REQ_OK + 1; e < BG_REQ__COUNT; e++) {
            if (a->errors_by_kind[e])
                bg_buf_printf(&c->b, "%s%zu %s", sep, a->errors_by_kind[e],
                              bg_req_error_name((bg_req_error)e));
            sep = a->errors_by_kind[e] ? ", " : sep;
        }
        bg_buf_putc(&c->b, ')');
    }
    if (a->retries)
        bg_buf_printf(&c->b, ", %zu retries", a->retries);
    bg_buf_putc(&c->b, '\n');
}

static void con_latency(con *c, const bg_run *run)
{
    bg_summary e2e, ttft;
    bg_report_summary(&run->overall.e2e, &e2e);
    bg_report_summary(&run->overall.ttft, &ttft);
    if (e2e.n == 0)
        return;
    char p50[48], p95[48], p99[48];
    bg_buf_printf(&c->b, "  latency   e2e p50 %s · p95 %s · p99 %s",
                  bg_report_ms(p50, sizeof p50, e2e.p50), bg_report_ms(p95, sizeof p95, e2e.p95),
                  bg_report_ms(p99, sizeof p99, e2e.p99));
    if (run->stream && ttft.n > 0)
        bg_buf_printf(&c->b, " · ttft p95 %s", bg_report_ms(p95, sizeof p95, ttft.p95));
    bg_buf_putc(&c->b, '\n');
}

static void con_thresholds(con *c, const bg_run *run)
{
    for (size_t i = 0; i < run->n_thresholds; i++) {
        const bg_threshold_result *t = &run->thresholds[i];
        bg_buf_puts(&c->b, "  ");
        if (t->status == BG_TH_PASS)
            con_paint(c, ANSI_GREEN, "✓");
        else if (t->status == BG_TH_FAIL)
            con_paint(c, ANSI_RED, "✗");
        else
            con_paint(c, ANSI_YELLOW, "?");
        bg_buf_putc(&c->b, ' ');
        con_text(c, t->text, sizeof t->text);
        bg_buf_putc(&c->b, '\n');
    }
}

static void con_failing(con *c, const bg_run *run)
{
    bg_report_ref *refs = NULL;
    size_t n = 0;
    if (bg_report_failing(&refs, &n, run) != 0 || n == 0)
        goto cleanup;
    size_t shown = n < CON_MAX_FAILING ? n : CON_MAX_FAILING;
    for (size_t i = 0; i < shown; i++) {
        const bg_suite *su = run->suites[refs[i].s];
        const bg_case *kc = &su->cases[refs[i].c];
        char tmp[BG_ERROR_MSG_MAX + 512];
        bg_buf_puts(&c->b, "  ");
        con_paint(c, ANSI_RED, "✗");
        bg_buf_putc(&c->b, ' ');
        con_text(c, su->name, 64);
        bg_buf_printf(&c->b, ":%d ", kc->line);
        con_text(c, kc->id, 64);
        bg_buf_puts(&c->b, ": ");
        con_text(c, bg_report_case_reason(tmp, sizeof tmp, bg_report_case(run, refs[i].s,
                                                                          refs[i].c)),
                 CON_REASON_CHARS);
        bg_buf_putc(&c->b, '\n');
    }
    if (n > shown)
        bg_buf_printf(&c->b, "  … and %zu more failing cases (see the reports)\n", n - shown);
cleanup:
    free(refs);
}

/* baseline (paired.h): one line of comparison, then the regressed cases */
static void con_latency_cmp(con *c, const char *name, const bg_latency_cmp *l)
{
    char mb[48], mc[48], p[48];
    if (!l->tested)
        return;
    bg_buf_printf(&c->b, " · %s median %s → %s (p %s)", name,
                  bg_report_ms(mb, sizeof mb, l->median_baseline),
                  bg_report_ms(mc, sizeof mc, l->median_candidate),
                  bg_report_num(p, sizeof p, l->test.p_greater, -2));
}

static void con_baseline(con *c, const bg_run *run)
{
    const bg_paired *p = run->paired;
    if (!p || !run->baseline)
        return;
    char pb[48], pc[48];
    bg_buf_printf(&c->b, "  baseline  pass rate %s → %s, %zu regressed, %zu improved",
                  bg_report_num(pb, sizeof pb, p->pass_rate_baseline, 3),
                  bg_report_num(pc, sizeof pc, p->pass_rate_candidate, 3), p->n_regressions,
                  p->n_improvements);
    con_latency_cmp(c, "e2e", &p->e2e);
    con_latency_cmp(c, "ttft", &p->ttft);
    bg_buf_putc(&c->b, '\n');
    size_t shown = p->n_regressions < CON_MAX_FAILING ? p->n_regressions : CON_MAX_FAILING;
    for (size_t i = 0; i < shown; i++) {
        const bg_suite *su = run->suites[p->regressions[i].suite];
        const bg_case *kc = &su->cases[p->regressions[i].kase];
        char tmp[BG_ERROR_MSG_MAX + 512];
        bg_buf_puts(&c->b, "  ");
        con_paint(c, ANSI_RED, "↓");
        bg_buf_puts(&c->b, " regressed ");
        con_text(c, su->name, 64);
        bg_buf_printf(&c->b, ":%d ", kc->line);
        con_text(c, kc->id, 64);
        bg_buf_puts(&c->b, ": ");
        con_text(c, bg_report_case_reason(tmp, sizeof tmp,
                                          bg_report_case(run, p->regressions[i].suite,
                                                         p->regressions[i].kase)),
                 CON_REASON_CHARS);
        bg_buf_putc(&c->b, '\n');
    }
    if (p->n_regressions > shown)
        bg_buf_printf(&c->b, "  … and %zu more regressed cases (see the reports)\n",
                      p->n_regressions - shown);
}

void bg_report_console(FILE *f, const bg_run *run, bool color)
{
    con c = {.color = color};
    bool quiet = bg_log_get_level() == BG_LOG_QUIET;
    if (quiet && run->verdict == BG_VERDICT_PASSED)
        return;
    bg_buf_init(&c.b, 0);
    con_verdict(&c, run);
    if (quiet)
        goto out;
    con_counts(&c, run);
    con_latency(&c, run);
    con_thresholds(&c, run);
    con_baseline(&c, run);
    con_failing(&c, run);
out:
    /* On allocation failure the buffer holds what fit: print that much. */
    fputs(bg_buf_cstr(&c.b), f);
    fflush(f);
    bg_buf_dispose(&c.b);
}

/* --- progress --- */

struct bg_progress {
    FILE *f;
    size_t total;
    bool tty, quiet, drawn;
    double start_ms, last_ms;
};

bg_progress *bg_progress_new(FILE *f, size_t total, bool tty, bool quiet)
{
    bg_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->f = f;
    p->total = total;
    p->tty = tty;
    p->quiet = quiet;
    p->start_ms = p->last_ms = bg_now_ms();
    return p;
}

static void format_eta(char *out, size_t outsz, double secs)
{
    if (!isfinite(secs) || secs < 0)
        snprintf(out, outsz, "?");
    else if (secs < 60)
        snprintf(out, outsz, "%.0fs", ceil(secs));
    else if (secs < 3600)
        snprintf(out, outsz, "%dm%02ds", (int)(secs / 60), (int)fmod(secs, 60));
    else
        snprintf(out, outsz, "%dh%02dm", (int)(secs / 3600), (int)fmod(secs / 60, 60));
}

void bg_progress_update(bg_progress *p, size_t done, size_t total, size_t passed, size_t failed,
                        size_t errors)
{
    if (!p || p->quiet)
        return;
    /* the runner counts runs (cases × repeats, plus baseline ones): its total wins over the
     * case count the line was created with */
    if (total > 0)
        p->total = total;
    double now = bg_now_ms();
    bool last = done >= p->total;
    if (p->tty && p->drawn && !last && now - p->last_ms < PROGRESS_TTY_MS)
        return;
    if (!p->tty && now - p->last_ms < PROGRESS_PLAIN_MS)
        return;
    p->last_ms = now;
    double secs = (now - p->start_ms) / 1000.0;
    double rate = secs > 0 ? (double)done / secs : 0.0;
    char rps[48], eta[32];
    bg_report_num(rps, sizeof rps, rate, 1);
    format_eta(eta, sizeof eta, rate > 0 ? (double)(p->total - (last ? p->total : done)) / rate
                                         : NAN);
    int width = snprintf(NULL, 0, "%zu", p->total);
    fprintf(p->f, "%s[%*zu/%zu] pass %zu fail %zu err %zu %s req/s ETA %s%s",
            p->tty ? "\r\033[K" : "progress: ", width, done, p->total, passed, failed, errors,
            rps, eta, p->tty ? "" : "\n");
    fflush(p->f);
    p->drawn = true;
}

void bg_progress_free(bg_progress *p)
{
    if (!p)
        return;
    if (p->tty && p->drawn && !p->quiet) {
        fputs("\r\033[K", p->f);
        fflush(p->f);
    }
    free(p);
}
