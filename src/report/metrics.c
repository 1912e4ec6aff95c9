/* metrics.c — the OpenMetrics text report (GitLab's "metrics" report shows the
 * `name value` lines and their change against the target branch).
 *
 * Every family carries # HELP and # TYPE; gauges for rates, latencies and case counts,
 * counters (`<family>_total` samples) for request and error totals, as OpenMetrics
 * wants. Per-suite, per-tag and per-threshold samples are labelled and grouped by
 * family (OpenMetrics forbids interleaving families), so they are buffered during the
 * walk and emitted at the end, before "# EOF". A metric whose value is NaN (or infinite) is left out.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bggate/util.h"
#include "report_internal.h"

/* A labelled gauge family collected over the walk. */
typedef struct om_family {
    const char *name, *help;
    bg_buf samples;
} om_family;

enum { FAM_SUITE_PASS, FAM_SUITE_P95, FAM_TAG_PASS, FAM_THRESHOLD, FAM__COUNT };

typedef struct om_ctx {
    bg_buf *out;
    om_family fam[FAM__COUNT];
} om_ctx;

/* --- lines --- */

static int om_header(bg_buf *b, const char *name, const char *type, const char *help)
{
    return bg_buf_printf(b, "# TYPE %s %s\n# HELP %s %s\n", name, type, name, help);
}

static int om_value(bg_buf *b, double v)
{
    char n[48];
    return bg_buf_printf(b, " %s\n", bg_report_num(n, sizeof n, v, -12));
}

static int om_gauge(bg_buf *b, const char *name, const char *help, double v)
{
    if (!isfinite(v))
        return 0;
    int rc = om_header(b, name, "gauge", help);
    if (rc == 0) rc = bg_buf_puts(b, name);
    if (rc == 0) rc = om_value(b, v);
    return rc;
}

/* A counter family `name` with its one sample `name_total`. */
static int om_counter(bg_buf *b, const char *name, const char *help, double v)
{
    int rc = om_header(b, name, "counter", help);
    if (rc == 0) rc = bg_buf_printf(b, "%s_total", name);
    if (rc == 0) rc = om_value(b, v);
    return rc;
}

/* Label values escape \, " and newline; control characters are dropped and invalid
 * UTF-8 becomes U+FFFD. */
static int om_label_value(bg_buf *b, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        uint32_t cp;
        i += bg_report_utf8_next(s + i, len - i, &cp);
        if (cp == '\\' || cp == '"')
            rc = bg_buf_printf(b, "\\%c", (char)cp);
        else if (cp == '\n')
            rc = bg_buf_puts(b, "\\n");
        else if (!bg_report_is_control(cp))
            rc = bg_report_put_utf8(b, cp);
    }
    return rc;
}

static int om_labelled(om_family *f, const char *label, const char *value, double v)
{
    if (!isfinite(v))
        return 0;
    int rc = bg_buf_printf(&f->samples, "%s{%s=\"", f->name, label);
    if (rc == 0) rc = om_label_value(&f->samples, value);
    if (rc == 0) rc = bg_buf_puts(&f->samples, "\"}");
    if (rc == 0) rc = om_value(&f->samples, v);
    return rc;
}

/* --- the walk --- */

static int om_latency(bg_buf *b, const bg_aggregate *a)
{
    bg_summary e2e, ttft, itl, tpot;
    bg_report_summary(&a->e2e, &e2e);
    bg_report_summary(&a->ttft, &ttft);
    bg_report_summary(&a->itl, &itl);
    bg_report_summary(&a->tpot, &tpot);
    int rc = om_gauge(b, "bg_gate_e2e_p50_ms", "Median end-to-end request latency (ms).",
                      e2e.p50);
    if (rc == 0) rc = om_gauge(b, "bg_gate_e2e_p95_ms", "95th percentile end-to-end latency (ms).",
                               e2e.p95);
    if (rc == 0) rc = om_gauge(b, "bg_gate_e2e_p99_ms", "99th percentile end-to-end latency (ms).",
                               e2e.p99);
    if (rc == 0) rc = om_gauge(b, "bg_gate_ttft_p95_ms", "95th percentile time to first token (ms).",
                               ttft.p95);
    if (rc == 0) rc = om_gauge(b, "bg_gate_itl_p95_ms", "95th percentile inter-token latency (ms).",
                               itl.p95);
    if (rc == 0) rc = om_gauge(b, "bg_gate_tpot_p95_ms", "95th percentile time per output token (ms).",
                               tpot.p95);
    return rc;
}

static int om_begin(void *ctx, const bg_run *run)
{
    bg_buf *b = ((om_ctx *)ctx)->out;
    const bg_aggregate *a = &run->overall;
    bg_report_counts k;
    bg_report_count(&k, run, SIZE_MAX);
    int rc = om_gauge(b, "bg_gate_verdict_passed", "1 when the eval gate passed, else 0.",
                      run->verdict == BG_VERDICT_PASSED ? 1 : 0);
    if (rc == 0) rc = om_gauge(b, "bg_gate_pass_rate", "Weighted share of passed case runs.",
                               a->pass_rate);
    if (rc == 0) rc = om_gauge(b, "bg_gate_error_rate", "Share of requests that errored.",
                               a->error_rate);
    if (rc == 0) rc = om_latency(b, a);
    if (rc == 0) rc = om_counter(b, "bg_gate_requests", "Requests sent.", (double)a->requests);
    if (rc == 0) rc = om_counter(b, "bg_gate_errors", "Requests that errored.", (double)a->errors);
    if (rc == 0) rc = om_gauge(b, "bg_gate_cases", "Cases in the run.", (double)k.cases);
    if (rc == 0) rc = om_gauge(b, "bg_gate_cases_failed", "Cases that failed an assertion.",
                               (double)k.failed);
    if (rc == 0) rc = om_gauge(b, "bg_gate_cases_errored", "Cases whose requests errored.",
                               (double)k.errored);
    if (rc == 0) rc = om_gauge(b, "bg_gate_requests_per_second", "Completed requests per second.",
                               a->req_per_s);
    if (rc == 0) rc = om_gauge(b, "bg_gate_output_tokens_per_second",
                               "Output tokens per second over the run.", a->out_tok_per_s);
    if (rc == 0) rc = om_gauge(b, "bg_gate_duration_seconds", "Wall time of the run (s).",
                               run->duration_s);
    return rc;
}

static int om_suite_end(void *ctx, const bg_run *run, size_t s)
{
    om_ctx *m = ctx;
    const bg_aggregate *a = bg_report_suite_agg(run, s);
    if (!a)
        return 0;
    bg_summary e2e;
    bg_report_summary(&a->e2e, &e2e);
    const char *name = run->suites[s]->name;
    int rc = om_labelled(&m->fam[FAM_SUITE_PASS], "suite", name, a->pass_rate);
    if (rc == 0) rc = om_labelled(&m->fam[FAM_SUITE_P95], "suite", name, e2e.p95);
    return rc;
}

static int om_thresholds(void *ctx, const bg_run *run)
{
    om_ctx *m = ctx;
    int rc = 0;
    for (size_t i = 0; i < run->n_tags && rc == 0; i++)
        rc = om_labelled(&m->fam[FAM_TAG_PASS], "tag", run->tags[i].tag, run->tags[i].pass_rate);
    for (size_t i = 0; i < run->n_thresholds && rc == 0; i++) {
        const bg_threshold_result *t = &run->thresholds[i];
        rc = om_labelled(&m->fam[FAM_THRESHOLD], "threshold", t->th.name,
                         t->status == BG_TH_PASS ? 1 : 0);
    }
    return rc;
}

static int om_end(void *ctx, const bg_run *run)
{
    om_ctx *m = ctx;
    (void)run;
    int rc = 0;
    for (size_t i = 0; i < FAM__COUNT && rc == 0; i++) {
        const om_family *f = &m->fam[i];
        if (f->samples.len == 0)
            continue;
        rc = om_header(m->out, f->name, "gauge", f->help);
        if (rc == 0) rc = bg_buf_append(m->out, f->samples.data, f->samples.len);
    }
    if (rc == 0)
        rc = bg_buf_puts(m->out, "# EOF\n");
    return rc;
}

static const bg_report_ops om_ops = {
    .begin = om_begin,
    .suite_end = om_suite_end,
    .thresholds = om_thresholds,
    .end = om_end,
};

int bg_report_render_metrics(bg_buf *out, const bg_run *run)
{
    om_ctx m = {.out = out,
                .fam = {
                    [FAM_SUITE_PASS] = {"bg_gate_suite_pass_rate",
                                        "Weighted share of passed case runs per suite.", {0}},
                    [FAM_SUITE_P95] = {"bg_gate_suite_e2e_p95_ms",
                                       "95th percentile end-to-end latency per suite (ms).", {0}},
                    [FAM_TAG_PASS] = {"bg_gate_tag_pass_rate",
                                      "Weighted share of passed case runs per tag.", {0}},
                    [FAM_THRESHOLD] = {"bg_gate_threshold_passed",
                                       "1 when the gate threshold passed, else 0.", {0}},
                }};
    for (size_t i = 0; i < FAM__COUNT; i++)
        bg_buf_init(&m.fam[i].samples, 0);
    int rc = bg_report_walk(run, &om_ops, &m);
    for (size_t i = 0; i < FAM__COUNT; i++)
        bg_buf_dispose(&m.fam[i].samples);
    return rc;
}

int bg_report_write_metrics(const bg_run *run, const char *path, bg_error *err)
{
    return bg_report_write_with(bg_report_render_metrics, run, path, err);
}
