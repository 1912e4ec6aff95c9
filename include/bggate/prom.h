/* prom.h — the Prometheus text exposition format (0.0.4, and OpenMetrics' `# EOF`):
 * parsing a /metrics body, looking up counters and histograms, and the arithmetic a
 * canary analysis needs between two scrapes (deltas, counter resets, quantiles).
 *
 * Parsed: `# HELP` / `# TYPE` lines, samples `name{label="v",…} value [timestamp]`,
 * label values with the escapes \\ \" \n, values NaN, +Inf, -Inf and any decimal or
 * exponent form; trailing OpenMetrics exemplars (` # {…} v`) are skipped and `# EOF` ends
 * the text. Other comment lines are ignored. The input is capped at
 * BG_MAX_RESPONSE_BODY (limits.h) and errors name the line:
 * "metrics line 12: expected a value after the labels".
 *
 * Label filters are NULL-terminated arrays of name/value pairs that must all match, as
 * in PromQL's `{model_name="x"}` (an empty value also matches a series without the
 * label): `const char *f[] = {"model_name", "x", NULL};`. A NULL filter matches every
 * series. Lookups treat a NULL scrape as an empty one (no samples).
 */
#ifndef BGGATE_PROM_H
#define BGGATE_PROM_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define BG_PROM_MAX_LABELS 64   /* labels on one sample */
#define BG_PROM_MAX_BUCKETS 128 /* distinct `le` bounds of one histogram */

typedef enum {
    BG_PROM_UNTYPED, /* no # TYPE line, "untyped", or an OpenMetrics-only type */
    BG_PROM_COUNTER,
    BG_PROM_GAUGE,
    BG_PROM_HISTOGRAM,
    BG_PROM_SUMMARY
} bg_prom_type;

typedef struct bg_prom_label {
    const char *name;
    const char *value; /* unescaped */
} bg_prom_label;

typedef struct bg_prom_sample {
    const char *name;            /* e.g. "vllm:e2e_request_latency_seconds_bucket" */
    const bg_prom_label *labels; /* in exposition order */
    size_t n_labels;
    double value;
    bool has_timestamp;
    double timestamp; /* as written (milliseconds in 0.0.4) */
    int line;         /* 1-based line in the text */
} bg_prom_sample;

typedef struct bg_prom_family {
    const char *name; /* as in the # TYPE / # HELP line */
    bg_prom_type type;
    const char *help; /* unescaped; NULL without a # HELP line */
} bg_prom_family;

/* A parsed /metrics body. Read-only; every string points into `text`, which the scrape
 * owns. Free with bg_prom_scrape_free. */
typedef struct bg_prom_scrape {
    char *text;
    bg_prom_sample *samples;
    size_t n_samples;
    bg_prom_label *labels; /* storage for every sample's labels */
    size_t n_labels;
    bg_prom_family *families;
    size_t n_families;
} bg_prom_scrape;

/* Parses len bytes of text (need not be NUL-terminated). BG_EPROTO with
 * "metrics line N: …" for malformed text, BG_ETOOBIG past BG_MAX_RESPONSE_BODY. */
int bg_prom_parse(bg_prom_scrape **out, const char *text, size_t len, bg_error *err);
void bg_prom_scrape_free(bg_prom_scrape *s);

/* The # TYPE of a family (BG_PROM_UNTYPED when none). */
bg_prom_type bg_prom_family_type(const bg_prom_scrape *s, const char *name);

/* Value of a label on a sample, NULL when absent. */
const char *bg_prom_label_value(const bg_prom_sample *smp, const char *name);

/* Whether the sample's labels match filter (NULL matches all); labels the filter does
 * not name are not compared. */
bool bg_prom_matches(const bg_prom_sample *smp, const char *const *filter);

/* The next sample named `name` matching filter at or after *pos (start with 0); advances
 * *pos past it. NULL when there is none. */
const bg_prom_sample *bg_prom_next(const bg_prom_scrape *s, const char *name,
                                   const char *const *filter, size_t *pos);

/* Sum of the samples named `name` that match filter. A counter may be named with or
 * without its `_total` suffix. False (and *out 0) when no sample matches. */
bool bg_prom_sum(double *out, const bg_prom_scrape *s, const char *name,
                 const char *const *filter);

/* A histogram with cumulative bucket counts, as exposed. */
typedef struct bg_prom_bucket {
    double le;    /* upper bound; the last bucket's is +Inf */
    double count; /* observations <= le */
} bg_prom_bucket;

typedef struct bg_prom_histogram {
    bg_prom_bucket buckets[BG_PROM_MAX_BUCKETS]; /* ascending le */
    size_t n_buckets;                            /* 0: the histogram is not there */
    double sum;
    double count;
    size_t n_series; /* series merged */
} bg_prom_histogram;

/* The histogram family `name` (without _bucket/_sum/_count), its series matching filter
 * merged: bucket counts added by `le` value, sums and counts added. A histogram with no
 * +Inf bucket gets one holding its _count. Not there: 0 with n_buckets == 0. BG_EPROTO
 * for a bucket without a numeric `le` (naming the line), BG_ETOOBIG past
 * BG_PROM_MAX_BUCKETS bounds. */
int bg_prom_histogram_get(bg_prom_histogram *out, const bg_prom_scrape *s, const char *name,
                          const char *const *filter, bg_error *err);

/* What was observed between two scrapes of one server: after - before, bucket by bucket.
 * When a count went down, or the bucket layout changed, the server restarted in between
 * (a counter reset): *reset is set and, like Prometheus' increase(), the delta is `after`
 * itself (what the restarted server observed since it started) — never negative counts.
 * A histogram absent from `before` yields `after` (a series that just appeared started
 * at 0); one absent from `after` yields an empty delta (n_buckets 0). */
void bg_prom_histogram_delta(bg_prom_histogram *out, bool *reset,
                             const bg_prom_histogram *before, const bg_prom_histogram *after);

/* Adds h into acc (e.g. the endpoints of one pool), buckets matched by `le`; an empty acc
 * becomes a copy of h. BG_ETOOBIG past BG_PROM_MAX_BUCKETS distinct bounds. */
int bg_prom_histogram_add(bg_prom_histogram *acc, const bg_prom_histogram *h, bg_error *err);

/* The q-quantile (0 <= q <= 1) estimated as Prometheus' histogram_quantile() does: find
 * the bucket holding rank q * count and interpolate linearly between its lower and upper
 * bound (the first bucket's lower bound is 0 when its upper bound is positive). A rank
 * that falls in the +Inf bucket yields that bucket's lower bound, i.e. the highest finite
 * `le`: the estimate is then a lower bound of the true quantile. NaN when the histogram
 * has no observations or fewer than two buckets. */
double bg_prom_quantile(const bg_prom_histogram *h, double q);

/* Mean observation (sum / count); NaN when count is 0. */
double bg_prom_mean(const bg_prom_histogram *h);

/* Increase of the counter `name` (with or without `_total`) between two scrapes, summed
 * over the series matching filter. Series are paired by their full label set; a series
 * whose value went down restarted (*reset set; its increase is its `after` value); a
 * series new in `after` counts from 0. False (and *out 0) when `after` has no matching
 * series. */
bool bg_prom_counter_delta(double *out, bool *reset, const bg_prom_scrape *before,
                           const bg_prom_scrape *after, const char *name,
                           const char *const *filter);

#endif
