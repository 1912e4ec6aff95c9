/* run.c — the results model of one eval run: allocation, request records, model names,
 * and the aggregates every report and the gate read.
 *
 * The runner fills case results and appends one fixed-size record per request (plus
 * inter-token-latency samples, which only it sees); bg_run_finish then derives the
 * per-suite, overall and per-tag numbers from those records alone, so reports and the
 * gate agree on every count. A baseline run (paired.h) is a second run over the same,
 * borrowed, suites. This file does no I/O and knows nothing about HTTP.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/paired.h"
#include "bggate/run.h"
#include "bggate/util.h"

const char *bg_req_error_name(bg_req_error e)
{
    switch (e) {
    case BG_REQ_OK:
        return "ok";
    case BG_REQ_CONNECT:
        return "connect";
    case BG_REQ_TIMEOUT:
        return "timeout";
    case BG_REQ_HTTP:
        return "http";
    case BG_REQ_MALFORMED:
        return "malformed";
    case BG_REQ_OTHER:
        return "other";
    case BG_REQ__COUNT:
        break;
    }
    return "unknown";
}

/* --- aggregates --- */

/* Zeroes every counter and derived value; leaves the sample sets alone. */
static void aggregate_reset_counters(bg_aggregate *a)
{
    a->requests = a->errors = a->retries = 0;
    memset(a->errors_by_kind, 0, sizeof a->errors_by_kind);
    a->runs = a->runs_passed = 0;
    a->weight_total = a->weight_passed = 0;
    a->pass_rate = NAN;
    a->pass_lo = 0;
    a->pass_hi = 1;
    a->error_rate = NAN;
    a->output_tokens = 0;
    a->duration_s = 0;
    a->req_per_s = a->out_tok_per_s = 0;
}

void bg_aggregate_init(bg_aggregate *a)
{
    aggregate_reset_counters(a);
    bg_samples_init(&a->e2e);
    bg_samples_init(&a->ttft);
    bg_samples_init(&a->itl);
    bg_samples_init(&a->tpot);
}

void bg_aggregate_dispose(bg_aggregate *a)
{
    if (!a)
        return;
    bg_samples_dispose(&a->e2e);
    bg_samples_dispose(&a->ttft);
    bg_samples_dispose(&a->itl);
    bg_samples_dispose(&a->tpot);
}

/* pass_rate from weights; all-zero weights fall back to the plain run count. */
static double weighted_rate(double w_passed, double w_total, size_t passed, size_t runs)
{
    if (w_total > 0)
        return w_passed / w_total;
    if (runs > 0)
        return (double)passed / (double)runs;
    return NAN;
}

void bg_aggregate_finish(bg_aggregate *a)
{
    a->pass_rate = weighted_rate(a->weight_passed, a->weight_total, a->runs_passed, a->runs);
    bg_wilson(&a->pass_lo, &a->pass_hi, (double)a->runs_passed, (double)a->runs, 1.96);
    a->error_rate = a->requests ? (double)a->errors / (double)a->requests : NAN;
    if (a->duration_s > 0) {
        a->req_per_s = (double)a->requests / a->duration_s;
        a->out_tok_per_s = (double)a->output_tokens / a->duration_s;
    } else {
        a->req_per_s = a->out_tok_per_s = 0;
    }
}

/* --- the run object --- */

static void case_result_dispose(bg_case_result *r)
{
    free(r->failure);
    free(r->excerpt);
    free(r->error);
    free(r->asserts);
}

static int run_alloc_suites(bg_run *run)
{
    run->cases = calloc(run->n_suites ? run->n_suites : 1, sizeof *run->cases);
    run->per_suite = calloc(run->n_suites ? run->n_suites : 1, sizeof *run->per_suite);
    if (!run->cases || !run->per_suite)
        return BG_ENOMEM;
    for (size_t s = 0; s < run->n_suites; s++)
        bg_aggregate_init(&run->per_suite[s]);
    for (size_t s = 0; s < run->n_suites; s++) {
        size_t n = run->suites[s] ? run->suites[s]->n_cases : 0;
        run->cases[s] = calloc(n ? n : 1, sizeof *run->cases[s]);
        if (!run->cases[s])
            return BG_ENOMEM;
    }
    return 0;
}

int bg_run_new(bg_run **out, bg_suite **suites, size_t n_suites, bg_error *err)
{
    int rc = 0;
    *out = NULL;
    bg_run *run = calloc(1, sizeof *run);
    if (!run) {
        /* Ownership of the suites passed to us even though we failed. */
        for (size_t s = 0; s < n_suites; s++)
            bg_suite_free(suites[s]);
        free(suites);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    run->suites = suites;
    run->n_suites = n_suites;
    bg_aggregate_init(&run->overall);
    run->verdict = BG_VERDICT_PASSED;
    rc = run_alloc_suites(run);
    if (rc < 0) {
        bg_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    *out = run;
    run = NULL;
cleanup:
    bg_run_free(run);
    return rc;
}

static void run_free_tags(bg_run *run)
{
    for (size_t i = 0; i < run->n_tags; i++)
        free(run->tags[i].tag);
    free(run->tags);
    run->tags = NULL;
    run->n_tags = 0;
}

static void run_free_suites(bg_run *run)
{
    for (size_t s = 0; s < run->n_suites; s++) {
        if (run->cases && run->cases[s]) {
            size_t n = run->suites[s] ? run->suites[s]->n_cases : 0;
            for (size_t c = 0; c < n; c++)
                case_result_dispose(&run->cases[s][c]);
            free(run->cases[s]);
        }
        if (run->per_suite)
            bg_aggregate_dispose(&run->per_suite[s]);
        if (!run->suites_borrowed)
            bg_suite_free(run->suites[s]);
    }
    free(run->cases);
    free(run->per_suite);
    if (!run->suites_borrowed)
        free(run->suites);
}

void bg_run_free(bg_run *run)
{
    if (!run)
        return;
    /* first: the baseline reads the suites it borrows from us while it frees itself */
    bg_run_free(run->baseline);
    run_free_suites(run);
    free(run->reqs);
    for (size_t i = 0; i < run->n_models; i++)
        free(run->models[i]);
    free(run->models);
    for (size_t i = 0; i < run->n_endpoints; i++)
        free(run->endpoints[i]);
    free(run->endpoints);
    bg_aggregate_dispose(&run->overall);
    run_free_tags(run);
    free(run->thresholds);
    free(run->verdict_reason);
    free(run->model);
    free(run->release_id);
    free(run->commit);
    for (size_t i = 0; i < run->n_phases; i++)
        free(run->phases[i].failure);
    free(run->phases);
    free(run->decision);
    bg_paired_free(run->paired);
    free(run);
}

int bg_run_new_borrowing(bg_run **out, bg_suite **suites, size_t n_suites, bg_error *err)
{
    *out = NULL;
    bg_run *b = calloc(1, sizeof *b);
    if (!b)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    b->suites = suites;
    b->n_suites = n_suites;
    b->suites_borrowed = true;
    bg_aggregate_init(&b->overall);
    b->verdict = BG_VERDICT_PASSED;
    if (run_alloc_suites(b) < 0) {
        bg_run_free(b);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    *out = b;
    return 0;
}

int bg_run_new_baseline(bg_run *run, bg_error *err)
{
    bg_run *b = NULL;
    int rc = bg_run_new_borrowing(&b, run->suites, run->n_suites, err);
    if (rc)
        return rc;
    bg_run_free(run->baseline);
    run->baseline = b;
    return 0;
}

int bg_run_add_request(bg_run *run, const bg_request_record *rec)
{
    /* bg_run_finish indexes suites and cases with these: reject what would overflow. */
    if (rec->suite >= run->n_suites || !run->suites[rec->suite] ||
        rec->kase >= run->suites[rec->suite]->n_cases)
        return BG_EINVAL;
    if (run->n_reqs == run->cap_reqs) {
        size_t cap = run->cap_reqs ? run->cap_reqs * 2 : 256;
        if (cap > SIZE_MAX / sizeof *run->reqs)
            return BG_ENOMEM;
        bg_request_record *p = realloc(run->reqs, cap * sizeof *p);
        if (!p)
            return BG_ENOMEM;
        run->reqs = p;
        run->cap_reqs = cap;
    }
    run->reqs[run->n_reqs++] = *rec;
    return 0;
}

int bg_run_intern_model(bg_run *run, const char *model)
{
    if (!model || !*model)
        return -1;
    for (size_t i = 0; i < run->n_models; i++)
        if (strcmp(run->models[i], model) == 0)
            return (int)i;
    if (run->n_models >= INT16_MAX) /* records keep the index in an int16_t */
        return -1;
    char **p = realloc(run->models, (run->n_models + 1) * sizeof *p);
    if (!p)
        return -1;
    run->models = p;
    char *copy = bg_strdup(model);
    if (!copy)
        return -1;
    run->models[run->n_models] = copy;
    return (int)run->n_models++;
}

size_t bg_run_case_count(const bg_run *run)
{
    size_t n = 0;
    for (size_t s = 0; run && s < run->n_suites; s++)
        n += run->suites[s] ? run->suites[s]->n_cases : 0;
    return n;
}

/* --- bg_run_finish --- */

/* Adds one request record to an aggregate (duration is handled separately). */
static int aggregate_add(bg_aggregate *a, const bg_request_record *r, double weight)
{
    int rc = 0;
    bool ok = r->error == BG_REQ_OK;
    a->requests++;
    a->runs++;
    a->retries += r->retries;
    if (!ok) {
        a->errors++;
        a->errors_by_kind[r->error < BG_REQ__COUNT ? r->error : BG_REQ_OTHER]++;
    }
    a->weight_total += weight;
    if (ok && r->passed) {
        a->runs_passed++;
        a->weight_passed += weight;
    }
    if (ok && r->e2e_ms >= 0)
        rc |= bg_samples_add(&a->e2e, r->e2e_ms);
    if (r->ttft_ms >= 0)
        rc |= bg_samples_add(&a->ttft, r->ttft_ms);
    if (r->tpot_ms >= 0)
        rc |= bg_samples_add(&a->tpot, r->tpot_ms);
    if (r->output_tokens > 0)
        a->output_tokens += r->output_tokens;
    return rc ? BG_ENOMEM : 0;
}

/* Wall time covered by a span [first start, last end] in ms, tracked per set. */
typedef struct span {
    double first, last;
    bool any;
} span;

static void span_add(span *sp, const bg_request_record *r)
{
    if (!isfinite(r->start_ms))
        return;
    double end = r->start_ms + (isfinite(r->e2e_ms) && r->e2e_ms > 0 ? r->e2e_ms : 0);
    if (!sp->any || r->start_ms < sp->first)
        sp->first = r->start_ms;
    if (!sp->any || end > sp->last)
        sp->last = end;
    sp->any = true;
}

static double span_seconds(const span *sp)
{
    return sp->any && sp->last > sp->first ? (sp->last - sp->first) / 1000.0 : 0;
}

/* Resets what bg_run_finish derives, keeping the ITL samples the runner added. */
static void aggregate_reset_keep_itl(bg_aggregate *a)
{
    aggregate_reset_counters(a);
    bg_samples_dispose(&a->e2e);
    bg_samples_dispose(&a->ttft);
    bg_samples_dispose(&a->tpot);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collects the distinct tags of all cases, sorted, into run->tags. */
static int collect_tags(bg_run *run)
{
    size_t n = 0, cap = 0;
    const char **all = NULL;
    int rc = 0;
    for (size_t s = 0; s < run->n_suites; s++) {
        const bg_suite *su = run->suites[s];
        for (size_t c = 0; su && c < su->n_cases; c++) {
            for (size_t t = 0; t < su->cases[c].n_tags; t++) {
                if (n == cap) {
                    cap = cap ? cap * 2 : 16;
                    const char **p = realloc(all, cap * sizeof *p);
                    if (!p) {
                        rc = BG_ENOMEM;
                        goto cleanup;
                    }
                    all = p;
                }
                all[n++] = su->cases[c].tags[t];
            }
        }
    }
    if (n == 0)
        goto cleanup;
    qsort(all, n, sizeof *all, cmp_str_ptr);
    run->tags = calloc(n, sizeof *run->tags);
    if (!run->tags) {
        rc = BG_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (run->n_tags && strcmp(run->tags[run->n_tags - 1].tag, all[i]) == 0)
            continue;
        bg_tag_stat *ts = &run->tags[run->n_tags];
        ts->tag = bg_strdup(all[i]);
        if (!ts->tag) {
            rc = BG_ENOMEM;
            goto cleanup;
        }
        ts->pass_rate = NAN;
        run->n_tags++;
    }
cleanup:
    free(all);
    return rc;
}

static bg_tag_stat *find_tag(bg_run *run, const char *tag)
{
    size_t lo = 0, hi = run->n_tags;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(run->tags[mid].tag, tag);
        if (c == 0)
            return &run->tags[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Counts one request for every distinct tag of its case. */
static void tags_add(bg_run *run, const bg_case *kase, const bg_request_record *r)
{
    for (size_t t = 0; t < kase->n_tags; t++) {
        bool dup = false;
        for (size_t u = 0; u < t && !dup; u++)
            dup = strcmp(kase->tags[u], kase->tags[t]) == 0;
        bg_tag_stat *ts = dup ? NULL : find_tag(run, kase->tags[t]);
        if (!ts)
            continue;
        ts->runs++;
        ts->weight_total += kase->weight;
        if (r->error == BG_REQ_OK && r->passed) {
            ts->runs_passed++;
            ts->weight_passed += kase->weight;
        }
    }
}

static int add_records(bg_run *run, span *spans, span *all)
{
    for (size_t i = 0; i < run->n_reqs; i++) {
        const bg_request_record *r = &run->reqs[i];
        if (r->suite >= run->n_suites || !run->suites[r->suite] ||
            r->kase >= run->suites[r->suite]->n_cases)
            continue; /* bg_run_add_request rejects these; records may be written directly */
        const bg_case *kase = &run->suites[r->suite]->cases[r->kase];
        if (aggregate_add(&run->per_suite[r->suite], r, kase->weight) < 0 ||
            aggregate_add(&run->overall, r, kase->weight) < 0)
            return BG_ENOMEM;
        span_add(&spans[r->suite], r);
        span_add(all, r);
        tags_add(run, kase, r);
    }
    return 0;
}

int bg_run_finish(bg_run *run, bg_error *err)
{
    int rc = 0;
    span all = {0, 0, false};
    span *spans = calloc(run->n_suites ? run->n_suites : 1, sizeof *spans);
    if (!spans)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    aggregate_reset_keep_itl(&run->overall);
    for (size_t s = 0; s < run->n_suites; s++)
        aggregate_reset_keep_itl(&run->per_suite[s]);
    run_free_tags(run);
    rc = collect_tags(run);
    if (rc == 0)
        rc = add_records(run, spans, &all);
    if (rc < 0) {
        bg_error_set(err, rc, "out of memory");
        goto cleanup;
    }
    for (size_t s = 0; s < run->n_suites; s++) {
        run->per_suite[s].duration_s = span_seconds(&spans[s]);
        bg_aggregate_finish(&run->per_suite[s]);
    }
    run->overall.duration_s = run->duration_s > 0 ? run->duration_s : span_seconds(&all);
    bg_aggregate_finish(&run->overall);
    for (size_t t = 0; t < run->n_tags; t++) {
        bg_tag_stat *ts = &run->tags[t];
        ts->pass_rate =
            weighted_rate(ts->weight_passed, ts->weight_total, ts->runs_passed, ts->runs);
    }
cleanup:
    free(spans);
    return rc;
}

int bg_run_add_phase(bg_run *run, const char *name, double duration_s, const char *failure)
{
    bg_phase_record *v = realloc(run->phases, (run->n_phases + 1) * sizeof *v);
    if (!v)
        return BG_ENOMEM;
    run->phases = v;
    bg_phase_record *p = &v[run->n_phases];
    memset(p, 0, sizeof *p);
    bg_strlcpy(p->name, name, sizeof p->name);
    p->duration_s = duration_s;
    if (failure && !(p->failure = bg_strdup(failure)))
        return BG_ENOMEM;
    run->n_phases++;
    return 0;
}
