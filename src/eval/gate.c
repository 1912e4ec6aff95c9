/* gate.c — thresholds and the verdict of an eval run.
 *
 * One table names every threshold (the same spelling in bg-gate.json and on
 * --threshold), says where its measured value comes from, whether it is a floor or a
 * ceiling and what range its limit must lie in. Evaluation reads only the run's finished
 * aggregates (and, with a baseline, the comparison of paired.c): a percentile with too
 * few samples, or a streaming metric nobody measured, is inconclusive, and inconclusive
 * never passes. No I/O here: the text of each outcome
 * and the verdict reason are strings the report writers and the CLI print.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bggate/buf.h"
#include "bggate/gate.h"
#include "bggate/paired.h"
#include "bggate/util.h"

typedef enum {
    SRC_PASS_RATE,
    SRC_ERROR_RATE,
    SRC_E2E,
    SRC_TTFT,
    SRC_ITL,
    SRC_TPOT,
    SRC_OUT_TOK_PER_S,
    SRC_REQ_PER_S,
    SRC_BASE_DROP, /* baseline comparison (paired.h) */
    SRC_BASE_E2E,
    SRC_BASE_TTFT
} metric_src;

typedef struct metric_def {
    const char *name;
    metric_src src;
    double q;     /* quantile for sample-based metrics (1 = max) */
    bool is_min;  /* a floor: measured must be >= limit */
    bool is_rate; /* the limit is a share in [0, 1] */
    bool is_ratio; /* the limit is a ratio of medians, 1 or more */
} metric_def;

static const metric_def METRICS[] = {
    {"pass_rate", SRC_PASS_RATE, 0, true, true, false},
    {"error_rate", SRC_ERROR_RATE, 0, false, true, false},
    {"p50_ms", SRC_E2E, 0.50, false, false, false},
    {"p90_ms", SRC_E2E, 0.90, false, false, false},
    {"p95_ms", SRC_E2E, 0.95, false, false, false},
    {"p99_ms", SRC_E2E, 0.99, false, false, false},
    {"max_ms", SRC_E2E, 1.0, false, false, false},
    {"ttft_p50_ms", SRC_TTFT, 0.50, false, false, false},
    {"ttft_p95_ms", SRC_TTFT, 0.95, false, false, false},
    {"ttft_p99_ms", SRC_TTFT, 0.99, false, false, false},
    {"itl_p95_ms", SRC_ITL, 0.95, false, false, false},
    {"tpot_p50_ms", SRC_TPOT, 0.50, false, false, false},
    {"tpot_p95_ms", SRC_TPOT, 0.95, false, false, false},
    {"min_output_tokens_per_s", SRC_OUT_TOK_PER_S, 0, true, false, false},
    {"min_requests_per_s", SRC_REQ_PER_S, 0, true, false, false},
    {"max_pass_rate_drop", SRC_BASE_DROP, 0, false, true, false},
    {"max_latency_ratio", SRC_BASE_E2E, 0.5, false, false, true},
    {"max_ttft_ratio", SRC_BASE_TTFT, 0.5, false, false, true},
};
#define N_METRICS (sizeof METRICS / sizeof METRICS[0])

static const metric_def *metric_find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_METRICS; i++)
        if (strlen(METRICS[i].name) == len && memcmp(METRICS[i].name, name, len) == 0)
            return &METRICS[i];
    return NULL;
}

/* --- "did you mean" --- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive edit distance in half-steps: insert, delete and substitute cost 2,
 * swapping two neighbours costs 1 (the commonest typo: p59 for p95). a is at most 95
 * bytes (checked by the caller), b is a table name. */
static size_t typo_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    size_t rows[3][97];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = 2 * j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = 2 * i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 2);
            size_t del = prev[j] + 2, ins = cur[j - 1] + 2;
            size_t best = sub < del ? sub : del;
            best = best < ins ? best : ins;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && pp[j - 2] + 1 < best)
                best = pp[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

static const char *metric_suggest(const char *name, size_t len)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < N_METRICS; i++) {
        const char *cand = METRICS[i].name;
        size_t cl = strlen(cand);
        if (len >= 3 && len < cl && strncasecmp(cand, name, len) == 0)
            return cand; /* "p99" → "p99_ms" */
        size_t d = typo_distance(name, len, cand);
        size_t allowed = 2 * cl / 3 > 4 ? 2 * cl / 3 : 4; /* 2 edits, or a third */
        if (d <= allowed && d < best_d) {
            best = cand;
            best_d = d;
        }
    }
    return best;
}

static int unknown_threshold(const char *name, size_t mlen, bg_error *err)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    const char *sug = metric_suggest(name, mlen);
    int rc = bg_buf_printf(&b, "unknown threshold \"%s\"", name);
    if (sug)
        rc |= bg_buf_printf(&b, " (did you mean \"%s%s\"?)", sug, name + mlen);
    rc |= bg_buf_puts(&b, "; known: ");
    for (size_t i = 0; i < N_METRICS; i++)
        rc |= bg_buf_printf(&b, "%s, ", METRICS[i].name);
    rc |= bg_buf_puts(&b, "pass_rate[TAG]");
    if (rc)
        bg_error_set(err, BG_EINVAL, "unknown threshold \"%s\"", name);
    else
        bg_error_set(err, BG_EINVAL, "%s", bg_buf_cstr(&b));
    bg_buf_dispose(&b);
    return BG_EINVAL;
}

/* --- parsing --- */

/* name + mlen is "[TAG]" (the part after the metric); copies TAG into out->tag. */
static int parse_tag(bg_threshold *out, const metric_def *def, const char *name, size_t mlen,
                     bg_error *err)
{
    const char *open = name + mlen;
    size_t rest = strlen(open);
    if (def->src != SRC_PASS_RATE)
        return bg_error_set(err, BG_EINVAL, "%s: only pass_rate takes a tag (pass_rate[TAG])",
                            name);
    if (rest < 2 || open[rest - 1] != ']' || memchr(open + 1, ']', rest - 2) ||
        memchr(open + 1, '[', rest - 2))
        return bg_error_set(err, BG_EINVAL, "%s: expected pass_rate[TAG]", name);
    if (rest == 2)
        return bg_error_set(err, BG_EINVAL, "%s: empty tag", name);
    if (rest - 2 >= sizeof out->tag)
        return bg_error_set(err, BG_EINVAL, "%s: tag longer than %zu bytes", name,
                            sizeof out->tag - 1);
    memcpy(out->tag, open + 1, rest - 2);
    out->tag[rest - 2] = '\0';
    return 0;
}

static int check_limit(const metric_def *def, const char *name, double limit, bg_error *err)
{
    if (!isfinite(limit))
        return bg_error_set(err, BG_EINVAL, "%s: must be a finite number", name);
    if (def->is_ratio && limit < 1)
        return bg_error_set(err, BG_EINVAL,
                            "%s: must be 1 or more (candidate median / baseline median), got %g",
                            name, limit);
    if (def->is_rate && (limit < 0 || limit > 1))
        return bg_error_set(err, BG_EINVAL, "%s: must be between 0 and 1, got %g", name, limit);
    if (!def->is_rate && limit < 0)
        return bg_error_set(err, BG_EINVAL, "%s: must be 0 or more, got %g", name, limit);
    return 0;
}

int bg_threshold_parse(bg_threshold *out, const char *name, double limit, bg_error *err)
{
    memset(out, 0, sizeof *out);
    if (!name || !*name)
        return bg_error_set(err, BG_EINVAL, "empty threshold name");
    size_t len = strlen(name);
    if (len >= sizeof out->name)
        return bg_error_set(err, BG_EINVAL, "threshold name longer than %zu bytes",
                            sizeof out->name - 1);
    const char *br = strchr(name, '[');
    size_t mlen = br ? (size_t)(br - name) : len;
    const metric_def *def = metric_find(name, mlen);
    if (!def)
        return unknown_threshold(name, mlen, err);
    int rc = br ? parse_tag(out, def, name, mlen, err) : 0;
    if (rc == 0)
        rc = check_limit(def, name, limit, err);
    if (rc < 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    memcpy(out->name, name, len + 1);
    bg_strlcpy(out->metric, def->name, sizeof out->metric);
    out->limit = limit;
    out->is_min = def->is_min;
    return 0;
}

/* Copies [s, s+n) into out without surrounding blanks. */
static void copy_trimmed(char *out, size_t outsz, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

int bg_threshold_parse_arg(bg_threshold *out, const char *arg, bg_error *err)
{
    char name[sizeof out->name], value[64];
    double limit = 0;
    memset(out, 0, sizeof *out);
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (!eq)
        return bg_error_set(err, BG_EINVAL, "\"%s\": expected NAME=VALUE (e.g. p95_ms=2500)",
                            arg ? arg : "");
    size_t nlen = (size_t)(eq - arg), vlen = strlen(eq + 1);
    if (nlen >= sizeof name)
        return bg_error_set(err, BG_EINVAL, "threshold name longer than %zu bytes",
                            sizeof name - 1);
    if (vlen >= sizeof value)
        return bg_error_set(err, BG_EINVAL, "%s: not a number", arg);
    copy_trimmed(name, sizeof name, arg, nlen);
    copy_trimmed(value, sizeof value, eq + 1, vlen);
    if (!*name)
        return bg_error_set(err, BG_EINVAL, "\"%s\": missing threshold name before \"=\"", arg);
    if (!*value)
        return bg_error_set(err, BG_EINVAL, "%s: missing value after \"=\"", arg);
    if (bg_parse_double(&limit, value, -HUGE_VAL, HUGE_VAL) < 0)
        return bg_error_set(err, BG_EINVAL, "%s: not a number", arg);
    return bg_threshold_parse(out, name, limit, err);
}

/* --- formatting --- */

/* A limit as the user wrote it: up to 6 decimals, trailing zeros dropped ("0.95", "2500"). */
static void fmt_limit(char *out, size_t outsz, double v)
{
    snprintf(out, outsz, "%.6f", v);
    char *dot = strchr(out, '.');
    if (!dot)
        return;
    char *end = out + strlen(out);
    while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
}

/* Milliseconds and throughputs: no decimals from 100 up, one below. */
static void fmt_ms(char *out, size_t outsz, double v)
{
    snprintf(out, outsz, fabs(v) >= 100 ? "%.0f" : "%.1f", v);
}

/* A measured value: ratios with 2 decimals ("1.31"), rates with 2–3 decimals ("0.97", "0.967"); milliseconds and
 * throughputs without decimals from 100 up, one decimal below. */
static void fmt_measured(char *out, size_t outsz, const metric_def *def, double v)
{
    if (def->is_ratio) {
        snprintf(out, outsz, "%.2f", v);
    } else if (def->is_rate) {
        snprintf(out, outsz, "%.3f", v);
        size_t n = strlen(out);
        if (n >= 5 && out[n - 1] == '0' && out[n - 4] == '.')
            out[n - 1] = '\0';
    } else {
        fmt_ms(out, outsz, v);
    }
}

/* The measured value as shown in the text; when it fails but rounds to the limit's
 * own spelling ("measured 0.95" against "≥ 0.95"), more digits show why. */
static void fmt_result_value(char *out, size_t outsz, const metric_def *def,
                             const bg_threshold_result *r)
{
    char lim[48];
    fmt_measured(out, outsz, def, r->measured);
    fmt_limit(lim, sizeof lim, r->th.limit);
    if (r->status == BG_TH_FAIL && strcmp(out, lim) == 0)
        snprintf(out, outsz, "%.6g", r->measured);
}

/* Writes the outcome text: "<name> ≤ <limit>: " followed by fmt. Cuts cleanly at a
 * UTF-8 boundary if the text does not fit. */
static void set_text(bg_threshold_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_text(bg_threshold_result *r, const char *fmt, ...)
{
    char lim[48];
    fmt_limit(lim, sizeof lim, r->th.limit);
    int n = snprintf(r->text, sizeof r->text, "%s %s %s: ", r->th.name,
                     r->th.is_min ? "\xE2\x89\xA5" : "\xE2\x89\xA4", lim); /* ≥ ≤ */
    size_t used = n < 0 ? 0 : (size_t)n;
    if (used < sizeof r->text) {
        va_list ap;
        va_start(ap, fmt);
        n = vsnprintf(r->text + used, sizeof r->text - used, fmt, ap);
        va_end(ap);
        used += n < 0 ? 0 : (size_t)n;
    }
    if (used >= sizeof r->text) {
        /* Truncated: drop a partial multi-byte sequence at the end. */
        size_t end = sizeof r->text - 1, i = end;
        while (i > 0 && ((unsigned char)r->text[i - 1] & 0xC0) == 0x80)
            i--;
        if (i > 0 && ((unsigned char)r->text[i - 1] & 0x80))
            r->text[i - 1] = '\0';
    }
}

/* --- evaluation --- */

static void inconclusive(bg_threshold_result *r)
{
    r->status = BG_TH_INCONCLUSIVE;
    r->measured = NAN;
}

/* Sets pass/fail from r->measured (with a hair of tolerance for float sums). */
static void judge(bg_threshold_result *r)
{
    double eps = 1e-9 * fmax(1.0, fabs(r->th.limit));
    bool ok = r->th.is_min ? r->measured >= r->th.limit - eps : r->measured <= r->th.limit + eps;
    r->status = ok ? BG_TH_PASS : BG_TH_FAIL;
}

static void eval_rate_with_ci(bg_threshold_result *r, const metric_def *def, double rate,
                              size_t passed, size_t runs)
{
    char m[48];
    double lo, hi;
    r->samples = runs;
    r->measured = rate;
    judge(r);
    bg_wilson(&lo, &hi, (double)passed, (double)runs, 1.96);
    fmt_result_value(m, sizeof m, def, r);
    set_text(r, "measured %s (95%% CI %.2f\xE2\x80\x93%.2f)", m, lo, hi); /* – */
}

static void eval_pass_rate(bg_run *run, bg_threshold_result *r, const metric_def *def)
{
    if (r->th.tag[0]) {
        const bg_tag_stat *ts = NULL;
        for (size_t i = 0; i < run->n_tags && !ts; i++)
            if (strcmp(run->tags[i].tag, r->th.tag) == 0)
                ts = &run->tags[i];
        if (!ts) {
            inconclusive(r);
            set_text(r, "inconclusive (no cases tagged \"%s\")", r->th.tag);
        } else if (ts->runs == 0 || isnan(ts->pass_rate)) {
            inconclusive(r);
            set_text(r, "inconclusive (no case tagged \"%s\" ran)", r->th.tag);
        } else {
            eval_rate_with_ci(r, def, ts->pass_rate, ts->runs_passed, ts->runs);
        }
        return;
    }
    const bg_aggregate *a = &run->overall;
    if (a->runs == 0 || isnan(a->pass_rate)) {
        inconclusive(r);
        set_text(r, "inconclusive (no case ran)");
        return;
    }
    eval_rate_with_ci(r, def, a->pass_rate, a->runs_passed, a->runs);
}

static void eval_error_rate(bg_run *run, bg_threshold_result *r, const metric_def *def)
{
    const bg_aggregate *a = &run->overall;
    char m[48];
    r->samples = a->requests;
    if (a->requests == 0) {
        inconclusive(r);
        set_text(r, "inconclusive (no requests)");
        return;
    }
    r->measured = (double)a->errors / (double)a->requests;
    judge(r);
    fmt_result_value(m, sizeof m, def, r);
    set_text(r, "measured %s (%zu of %zu requests)", m, a->errors, a->requests);
}

static bg_samples *samples_of(bg_run *run, metric_src src)
{
    switch (src) {
    case SRC_E2E:
        return &run->overall.e2e;
    case SRC_TTFT:
        return &run->overall.ttft;
    case SRC_ITL:
        return &run->overall.itl;
    case SRC_TPOT:
        return &run->overall.tpot;
    default:
        return NULL;
    }
}

static void eval_quantile(bg_run *run, bg_threshold_result *r, const metric_def *def)
{
    bg_samples *s = samples_of(run, def->src);
    size_t need = bg_samples_min_for_quantile(def->q);
    char m[48];
    r->samples = s->n;
    if (s->n == 0 && def->src != SRC_E2E) {
        inconclusive(r);
        if (!run->stream)
            set_text(r, "inconclusive (not measured: enable --stream)");
        else if (def->src == SRC_TTFT)
            set_text(r, "inconclusive (0 samples: no streamed answer produced text)");
        else /* ITL and TPOT need two tokens */
            set_text(r, "inconclusive (0 samples: no streamed answer had more than one token)");
        return;
    }
    if (s->n < need) {
        inconclusive(r);
        set_text(r, "inconclusive (%zu sample%s, need %zu)", s->n, s->n == 1 ? "" : "s", need);
        return;
    }
    r->measured = bg_samples_quantile(s, def->q);
    judge(r);
    fmt_result_value(m, sizeof m, def, r);
    set_text(r, "measured %s", m);
}

static void eval_throughput(bg_run *run, bg_threshold_result *r, const metric_def *def)
{
    const bg_aggregate *a = &run->overall;
    char m[48];
    r->samples = a->requests;
    if (a->requests == 0 || !(a->duration_s > 0)) {
        inconclusive(r);
        set_text(r, "inconclusive (no run duration measured)");
        return;
    }
    if (def->src == SRC_OUT_TOK_PER_S && a->output_tokens <= 0) {
        inconclusive(r);
        set_text(r, "inconclusive (the server reported no token counts)");
        return;
    }
    r->measured = def->src == SRC_OUT_TOK_PER_S ? a->out_tok_per_s : a->req_per_s;
    judge(r);
    fmt_result_value(m, sizeof m, def, r);
    set_text(r, "measured %s", m);
}

/* --- the baseline comparison (paired.h) --- */

static void eval_drop(bg_run *run, bg_threshold_result *r, const metric_def *def)
{
    const bg_paired *p = run->paired;
    char m[48];
    r->samples = p->runs_candidate < p->runs_baseline ? p->runs_candidate : p->runs_baseline;
    if (isnan(p->drop)) {
        inconclusive(r);
        set_text(r, "inconclusive (no case ran on the %s)",
                 isnan(p->pass_rate_candidate) ? "candidate" : "baseline");
        return;
    }
    r->measured = p->drop;
    judge(r);
    fmt_result_value(m, sizeof m, def, r);
    set_text(r, "measured %s (baseline %.3f, candidate %.3f; %zu regressed case%s)", m,
             p->pass_rate_baseline, p->pass_rate_candidate, p->n_regressions,
             p->n_regressions == 1 ? "" : "s");
}

static void eval_ratio(bg_run *run, bg_threshold_result *r, const metric_def *def)
{
    const bg_paired *p = run->paired;
    const bg_latency_cmp *c = def->src == SRC_BASE_E2E ? &p->e2e : &p->ttft;
    char m[48], mc[48], mb[48];
    r->samples = c->n_candidate < c->n_baseline ? c->n_candidate : c->n_baseline;
    r->status = bg_paired_latency_status(c, p->alpha, r->th.limit);
    if (r->status == BG_TH_INCONCLUSIVE) {
        r->measured = NAN;
        if (c->n_candidate == 0 && c->n_baseline == 0 && def->src == SRC_BASE_TTFT)
            set_text(r, "inconclusive (not measured: enable --stream)");
        else
            set_text(r, "inconclusive (%zu candidate and %zu baseline samples cannot show "
                        "p \xE2\x89\xA4 %g; need more)", /* ≤ */
                     c->n_candidate, c->n_baseline, p->alpha);
        return;
    }
    r->measured = c->ratio;
    fmt_result_value(m, sizeof m, def, r);
    fmt_ms(mc, sizeof mc, c->median_candidate);
    fmt_ms(mb, sizeof mb, c->median_baseline);
    bool significant = c->test.p_greater <= p->alpha;
    set_text(r, "measured %s (median %s vs baseline %s ms; p %.2g %s alpha %g%s)", m, mc, mb,
             c->test.p_greater, significant ? "\xE2\x89\xA4" : ">", p->alpha,
             significant ? "" : ": noise");
}

static void eval_one(bg_run *run, bg_threshold_result *r, const metric_def *def)
{
    r->th.is_min = def->is_min;
    switch (def->src) {
    case SRC_BASE_DROP:
        eval_drop(run, r, def);
        break;
    case SRC_BASE_E2E:
    case SRC_BASE_TTFT:
        eval_ratio(run, r, def);
        break;
    case SRC_PASS_RATE:
        eval_pass_rate(run, r, def);
        break;
    case SRC_ERROR_RATE:
        eval_error_rate(run, r, def);
        break;
    case SRC_OUT_TOK_PER_S:
    case SRC_REQ_PER_S:
        eval_throughput(run, r, def);
        break;
    default:
        eval_quantile(run, r, def);
        break;
    }
}

/* "2 of 3 thresholds not met: pass_rate ≥ 0.95 (measured 0.80); p95_ms inconclusive" */
static int verdict_reason(char **out, const bg_threshold_result *rs, size_t n)
{
    enum { SHOWN = 3 };
    size_t bad = 0, shown = 0;
    int rc = 0;
    bg_buf b;
    bg_buf_init(&b, 0);
    for (size_t i = 0; i < n; i++)
        bad += rs[i].status != BG_TH_PASS;
    rc |= bg_buf_printf(&b, "%zu of %zu threshold%s not met: ", bad, n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && shown < SHOWN; i++) {
        const bg_threshold_result *r = &rs[i];
        if (r->status == BG_TH_PASS)
            continue;
        rc |= bg_buf_puts(&b, shown++ ? "; " : "");
        if (r->status == BG_TH_INCONCLUSIVE) {
            rc |= bg_buf_printf(&b, "%s inconclusive", r->th.name);
            continue;
        }
        char lim[48], m[48];
        fmt_limit(lim, sizeof lim, r->th.limit);
        fmt_result_value(m, sizeof m, metric_find(r->th.metric, strlen(r->th.metric)), r);
        rc |= bg_buf_printf(&b, "%s %s %s (measured %s)", r->th.name,
                            r->th.is_min ? "\xE2\x89\xA5" : "\xE2\x89\xA4", lim, m);
    }
    if (bad > shown)
        rc |= bg_buf_printf(&b, "; and %zu more", bad - shown);
    *out = rc ? NULL : bg_buf_steal(&b);
    bg_buf_dispose(&b);
    return *out ? 0 : BG_ENOMEM;
}

static bool has_untagged(const bg_threshold *ths, size_t n, const char *metric)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ths[i].metric, metric) == 0 && !ths[i].tag[0])
            return true;
    return false;
}

static bool is_baseline_threshold(const bg_threshold *th)
{
    const metric_def *def = metric_find(th->metric, strnlen(th->metric, sizeof th->metric));
    return def && def->src >= SRC_BASE_DROP;
}

/* What is evaluated: the implicit pass_rate floor (every case must pass) unless a
 * pass_rate is configured; the configured thresholds, the baseline ones only when a
 * baseline ran; and, when one ran, implicit baseline limits for those not configured
 * (TTFT only for a streaming run where a side measured it: the few cases that stream on
 * their own in a --no-stream run are too few to judge). */
static int collect_thresholds(bg_threshold_result **out, size_t *n_out, const bg_run *run,
                              const bg_threshold *ths, size_t n)
{
    static const struct {
        const char *name;
        double limit;
    } implicit[] = {{"max_pass_rate_drop", BG_PAIRED_DEFAULT_MAX_DROP},
                    {"max_latency_ratio", BG_PAIRED_DEFAULT_MAX_RATIO},
                    {"max_ttft_ratio", BG_PAIRED_DEFAULT_MAX_RATIO}};
    size_t k = 0;
    bg_threshold_result *rs = calloc(n + 4, sizeof *rs);
    if (!rs)
        return BG_ENOMEM;
    if (!has_untagged(ths, n, "pass_rate"))
        bg_threshold_parse(&rs[k++].th, "pass_rate", 1.0, NULL);
    for (size_t i = 0; i < n; i++)
        if (run->paired || !is_baseline_threshold(&ths[i]))
            rs[k++].th = ths[i];
    const bg_paired *p = run->paired;
    for (size_t i = 0; p && i < sizeof implicit / sizeof implicit[0]; i++) {
        bool ttft = strcmp(implicit[i].name, "max_ttft_ratio") == 0;
        if (has_untagged(ths, n, implicit[i].name) ||
            (ttft && (!run->stream || (p->ttft.n_candidate == 0 && p->ttft.n_baseline == 0))))
            continue;
        bg_threshold_parse(&rs[k++].th, implicit[i].name, implicit[i].limit, NULL);
    }
    *out = rs;
    *n_out = k;
    return 0;
}

/* run->paired from run->baseline (replacing an earlier comparison). */
static int compare_baseline(bg_run *run, bg_error *err)
{
    bg_paired_free(run->paired);
    run->paired = NULL;
    return bg_paired_compare(&run->paired, run, run->baseline_alpha, err);
}

int bg_gate_evaluate(bg_run *run, const bg_threshold *ths, size_t n, bg_error *err)
{
    int rc = 0;
    char *reason = NULL;
    bg_threshold_result *rs = NULL;
    size_t total = 0;
    if (n && !ths)
        return bg_error_set(err, BG_EINVAL, "thresholds missing");
    if ((rc = compare_baseline(run, err)))
        return rc;
    if (collect_thresholds(&rs, &total, run, ths, n) < 0)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    for (size_t i = 0; i < total; i++) {
        const metric_def *def =
            metric_find(rs[i].th.metric, strnlen(rs[i].th.metric, sizeof rs[i].th.metric));
        if (!def) {
            rc = bg_error_set(err, BG_EINVAL, "unknown threshold \"%.*s\"",
                              (int)sizeof rs[i].th.name, rs[i].th.name);
            goto cleanup;
        }
        eval_one(run, &rs[i], def);
    }
    bool passed = true;
    for (size_t i = 0; i < total; i++)
        passed = passed && rs[i].status == BG_TH_PASS;
    if (!passed && verdict_reason(&reason, rs, total) < 0) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    free(run->thresholds);
    free(run->verdict_reason);
    run->thresholds = rs;
    run->n_thresholds = total;
    run->verdict = passed ? BG_VERDICT_PASSED : BG_VERDICT_FAILED;
    run->verdict_reason = reason;
    rs = NULL;
    reason = NULL;
cleanup:
    free(rs);
    free(reason);
    return rc;
}

const char *bg_th_status_name(bg_th_status s)
{
    switch (s) {
    case BG_TH_PASS:
        return "pass";
    case BG_TH_FAIL:
        return "fail";
    case BG_TH_INCONCLUSIVE:
        return "inconclusive";
    }
    return "unknown";
}

const char *bg_verdict_name(bg_verdict v)
{
    switch (v) {
    case BG_VERDICT_PASSED:
        return "passed";
    case BG_VERDICT_FAILED:
        return "failed";
    case BG_VERDICT_ERROR:
        return "error";
    }
    return "unknown";
}
