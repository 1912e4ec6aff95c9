/* walk.c — the one walk every report writer shares, and the helpers they have in common.
 *
 * bg_report_walk visits a finished run in a fixed order (begin, per suite: suite_begin,
 * each case, suite_end; thresholds; end), like cmark's renderer: a format supplies only
 * callbacks and its own escaping. The helpers here are format-neutral: UTF-8 decoding,
 * locale-proof numbers, case classification and "worst first" ordering, summaries that
 * leave the const run untouched, and the render → mkdir -p → atomic write step.
 * Nothing here escapes for a format; each writer does that itself.
 */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/util.h"
#include "report_internal.h"

/* --- the walk --- */

static int walk_suite(const bg_run *run, const bg_report_ops *ops, void *ctx, size_t s)
{
    int rc = 0;
    if (ops->suite_begin && (rc = ops->suite_begin(ctx, run, s)) != 0)
        return rc;
    for (size_t c = 0; ops->test_case && c < run->suites[s]->n_cases; c++) {
        if ((rc = ops->test_case(ctx, run, s, c)) != 0)
            return rc;
    }
    if (ops->suite_end)
        rc = ops->suite_end(ctx, run, s);
    return rc;
}

int bg_report_walk(const bg_run *run, const bg_report_ops *ops, void *ctx)
{
    int rc = 0;
    if (ops->begin && (rc = ops->begin(ctx, run)) != 0)
        return rc;
    for (size_t s = 0; s < run->n_suites; s++) {
        if ((rc = walk_suite(run, ops, ctx, s)) != 0)
            return rc;
    }
    if (ops->thresholds && (rc = ops->thresholds(ctx, run)) != 0)
        return rc;
    if (ops->end)
        rc = ops->end(ctx, run);
    return rc;
}

/* --- text --- */

/* Length and payload bits of a UTF-8 lead byte; 0 for bytes that cannot lead. */
static size_t utf8_lead(unsigned char b, uint32_t *bits, uint32_t *min)
{
    if (b >= 0xC2 && b <= 0xDF) {
        *bits = b & 0x1Fu;
        *min = 0x80;
        return 2;
    }
    if (b >= 0xE0 && b <= 0xEF) {
        *bits = b & 0x0Fu;
        *min = 0x800;
        return 3;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        *bits = b & 0x07u;
        *min = 0x10000;
        return 4;
    }
    return 0;
}

size_t bg_report_utf8_next(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c = 0, min = 0;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    size_t n = utf8_lead(u[0], &c, &min);
    if (n == 0 || len < n) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0u) != 0x80u) {
            *cp = 0xFFFD;
            return 1;
        }
        c = (c << 6) | (u[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = c;
    return n;
}

int bg_report_put_utf8(bg_buf *b, uint32_t cp)
{
    unsigned char e[4];
    size_t n;
    if (cp < 0x80) {
        e[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        e[0] = (unsigned char)(0xC0 | (cp >> 6));
        e[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        e[0] = (unsigned char)(0xE0 | (cp >> 12));
        e[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        e[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        e[0] = (unsigned char)(0xF0 | (cp >> 18));
        e[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        e[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        e[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return bg_buf_append(b, e, n);
}

bool bg_report_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF;
}

void bg_report_line(char *out, size_t outsz, const char *s, size_t max_chars)
{
    if (!s) {
        if (outsz)
            out[0] = '\0';
        return;
    }
    bg_excerpt(out, outsz, s, strlen(s), max_chars);
}

/* --- numbers --- */

/* snprintf honours LC_NUMERIC; reports must not say "0,97" on a German CI runner. */
static void fix_decimal_point(char *s)
{
    const char *dp = localeconv()->decimal_point;
    if (!dp || !dp[0] || strcmp(dp, ".") == 0)
        return;
    char *p = strstr(s, dp);
    if (!p)
        return;
    size_t dl = strlen(dp);
    *p = '.';
    memmove(p + 1, p + dl, strlen(p + dl) + 1);
}

const char *bg_report_num(char *out, size_t outsz, double v, int prec)
{
    if (prec >= 0)
        snprintf(out, outsz, "%.*f", prec, v);
    else
        snprintf(out, outsz, "%.*g", -prec, v);
    fix_decimal_point(out);
    return out;
}

const char *bg_report_ms(char *out, size_t outsz, double ms)
{
    char n[48];
    if (!isfinite(ms))
        snprintf(out, outsz, "n/a");
    else if (ms >= 1000.0)
        snprintf(out, outsz, "%s s", bg_report_num(n, sizeof n, ms / 1000.0, 2));
    else
        snprintf(out, outsz, "%s ms", bg_report_num(n, sizeof n, ms, ms < 10.0 ? 1 : 0));
    return out;
}

void bg_report_summary(const bg_samples *s, bg_summary *out)
{
    /* A private copy: bg_samples_summarize sorts in place, and the run is const (it
     * may be rendered by several writers, in any order). */
    bg_samples copy;
    bg_samples_init(&copy);
    for (size_t i = 0; s && i < s->n; i++) {
        if (bg_samples_add(&copy, s->v[i]) != 0) {
            bg_samples_dispose(&copy);
            bg_samples_init(&copy); /* empty: summary of nothing, all NaN */
            break;
        }
    }
    bg_samples_summarize(&copy, out);
    bg_samples_dispose(&copy);
}

/* --- cases --- */

const bg_case_result *bg_report_case(const bg_run *run, size_t s, size_t c)
{
    if (!run->cases || s >= run->n_suites || !run->cases[s] || c >= run->suites[s]->n_cases)
        return NULL;
    return &run->cases[s][c];
}

const bg_aggregate *bg_report_suite_agg(const bg_run *run, size_t s)
{
    return run->per_suite && s < run->n_suites ? &run->per_suite[s] : NULL;
}

bg_report_status bg_report_status_of(const bg_case_result *r)
{
    if (!r || r->runs == 0)
        return BG_REPORT_SKIPPED;
    if (r->passed >= r->runs)
        return BG_REPORT_PASSED;
    uint32_t not_passed = r->runs - r->passed;
    uint32_t errored = r->errors < not_passed ? r->errors : not_passed;
    uint32_t failed_asserts = not_passed - errored;
    if (r->errors >= r->runs || ((r->errors > 0 || r->error) && failed_asserts == 0))
        return BG_REPORT_ERRORED;
    return BG_REPORT_FAILED;
}

void bg_report_count(bg_report_counts *out, const bg_run *run, size_t s)
{
    memset(out, 0, sizeof *out);
    size_t first = s == SIZE_MAX ? 0 : s;
    size_t last = s == SIZE_MAX ? run->n_suites : s + 1;
    for (size_t i = first; i < last && i < run->n_suites; i++) {
        for (size_t c = 0; c < run->suites[i]->n_cases; c++) {
            out->cases++;
            switch (bg_report_status_of(bg_report_case(run, i, c))) {
            case BG_REPORT_PASSED: out->passed++; break;
            case BG_REPORT_FAILED: out->failed++; break;
            case BG_REPORT_ERRORED: out->errored++; break;
            case BG_REPORT_SKIPPED: out->skipped++; break;
            }
        }
    }
}

void bg_report_assert_type(char *out, size_t outsz, const bg_assertion *a)
{
    snprintf(out, outsz, "%s%s", a->negate ? "not-" : "", bg_assert_kind_name(a->kind));
}

const char *bg_report_case_reason(char *out, size_t outsz, const bg_case_result *r)
{
    if (!r)
        return "not run";
    bool errored = bg_report_status_of(r) == BG_REPORT_ERRORED;
    if (r->failure && r->failure[0] && !(errored && r->error))
        return r->failure;
    if (r->error) {
        const char *kind = bg_req_error_name(r->error_kind == BG_REQ_OK ? BG_REQ_OTHER
                                                                        : r->error_kind);
        if (bg_str_starts_with(r->error, kind))
            return r->error; /* the message already names its kind */
        snprintf(out, outsz, "%s: %s", kind, r->error);
        return out;
    }
    return r->failure && r->failure[0] ? r->failure : "failed";
}

typedef struct rank_entry {
    bg_report_ref ref;
    int errored;   /* 1 sorts first */
    double score;  /* lower sorts first */
} rank_entry;

static int rank_cmp(const void *pa, const void *pb)
{
    const rank_entry *a = pa, *b = pb;
    if (a->errored != b->errored)
        return b->errored - a->errored;
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    if (a->ref.s != b->ref.s)
        return a->ref.s < b->ref.s ? -1 : 1;
    return a->ref.c < b->ref.c ? -1 : (a->ref.c > b->ref.c);
}

int bg_report_failing(bg_report_ref **out, size_t *n, const bg_run *run)
{
    bg_report_counts k;
    bg_report_count(&k, run, SIZE_MAX);
    *out = NULL;
    *n = 0;
    size_t total = k.failed + k.errored;
    if (total == 0)
        return 0;
    rank_entry *e = calloc(total, sizeof *e);
    bg_report_ref *refs = calloc(total, sizeof *refs);
    if (!e || !refs) {
        free(e);
        free(refs);
        return BG_ENOMEM;
    }
    size_t m = 0;
    for (size_t s = 0; s < run->n_suites; s++) {
        for (size_t c = 0; c < run->suites[s]->n_cases && m < total; c++) {
            const bg_case_result *r = bg_report_case(run, s, c);
            bg_report_status st = bg_report_status_of(r);
            if (st != BG_REPORT_FAILED && st != BG_REPORT_ERRORED)
                continue;
            e[m].ref.s = s;
            e[m].ref.c = c;
            e[m].errored = st == BG_REPORT_ERRORED;
            e[m].score = isfinite(r->score) ? r->score : 0.0;
            m++;
        }
    }
    qsort(e, m, sizeof *e, rank_cmp);
    for (size_t i = 0; i < m; i++)
        refs[i] = e[i].ref;
    free(e);
    *out = refs;
    *n = m;
    return 0;
}

/* --- files --- */

/* The directory part of path, or NULL when it has none worth creating. */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return NULL;
    return bg_strndup(path, (size_t)(slash - path));
}

int bg_report_write_with(bg_report_render_fn fn, const bg_run *run, const char *path,
                         bg_error *err)
{
    bg_buf b;
    char *dir = NULL;
    bg_buf_init(&b, 0);
    int rc = fn(&b, run);
    if (rc != 0) {
        bg_error_set(err, rc, "%s: %s", path, bg_error_code_name(rc));
        goto cleanup;
    }
    dir = parent_dir(path);
    if (dir && (rc = bg_mkdir_p(dir, err)) != 0)
        goto cleanup;
    rc = bg_file_write_atomic(path, bg_buf_cstr(&b), b.len, err);
cleanup:
    free(dir);
    bg_buf_dispose(&b);
    return rc;
}
