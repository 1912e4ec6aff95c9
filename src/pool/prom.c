/* prom.c — Prometheus text exposition (0.0.4 / OpenMetrics' `# EOF`): parser, lookups and
 * the between-scrapes arithmetic of a canary analysis (see prom.h).
 *
 * The parser copies the body once and tokenises it in place: every line is cut at its
 * newline, names and values are NUL-terminated where they end, and label values are
 * unescaped in place (never longer than their escaped form). So a scrape costs three
 * growable arrays (samples, labels, families) and one copy of the text, however many
 * series the server exposes. It does not fetch anything: scraping is the caller's
 * (src/pool/health.c's HTTP helpers), and it does not interpret PromQL.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/limits.h"
#include "bggate/prom.h"
#include "bggate/util.h"

typedef struct parser {
    bg_prom_scrape *s;
    size_t cap_samples, cap_labels, cap_families;
    int line;
    bg_error *err;
} parser;

/* --- growable arrays --- */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return BG_ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

/* --- lexing helpers --- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char *skip_blanks(char *p)
{
    while (is_blank(*p))
        p++;
    return p;
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Past a metric name (label names are the same without ':'; the parser checks that). */
static char *scan_name(char *p)
{
    if (!is_name_start(*p))
        return p;
    while (is_name_char(*p))
        p++;
    return p;
}

/* Past a token: up to a blank or the end of the line. */
static char *scan_token(char *p)
{
    while (*p && !is_blank(*p))
        p++;
    return p;
}

static int fail(parser *p, int code, const char *what, const char *near)
{
    if (near) {
        char ex[64];
        bg_excerpt(ex, sizeof ex, near, strlen(near), 40);
        return bg_error_set(p->err, code, "metrics line %d: %s, got \"%s\"", p->line, what, ex);
    }
    return bg_error_set(p->err, code, "metrics line %d: %s", p->line, what);
}

/* A whole token as a number: decimal, exponent, NaN, +Inf, -Inf (strtod's forms). */
static bool parse_number(double *out, const char *tok)
{
    char *end = NULL;
    if (!*tok)
        return false;
    double v = strtod(tok, &end);
    if (end == tok || *end)
        return false;
    *out = v;
    return true;
}

/* --- # HELP / # TYPE --- */

static bg_prom_family *family_for(parser *p, const char *name)
{
    bg_prom_scrape *s = p->s;
    /* HELP and TYPE of one family are adjacent: only the last family is looked at, which
     * keeps a body of many families linear. */
    if (s->n_families && strcmp(s->families[s->n_families - 1].name, name) == 0)
        return &s->families[s->n_families - 1];
    if (grow((void **)&s->families, &p->cap_families, s->n_families + 1, sizeof *s->families))
        return NULL;
    bg_prom_family *f = &s->families[s->n_families++];
    f->name = name;
    f->type = BG_PROM_UNTYPED;
    f->help = NULL;
    return f;
}

static int type_of(bg_prom_type *out, const char *t)
{
    static const struct {
        const char *name;
        bg_prom_type type;
    } types[] = {{"counter", BG_PROM_COUNTER},     {"gauge", BG_PROM_GAUGE},
                 {"histogram", BG_PROM_HISTOGRAM}, {"summary", BG_PROM_SUMMARY},
                 {"untyped", BG_PROM_UNTYPED},     {"unknown", BG_PROM_UNTYPED},
                 {"info", BG_PROM_UNTYPED},        {"stateset", BG_PROM_UNTYPED},
                 {"gaugehistogram", BG_PROM_UNTYPED}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(t, types[i].name) == 0) {
            *out = types[i].type;
            return 0;
        }
    }
    return BG_EPROTO;
}

/* HELP text escapes: \\ and \n (anything else stays as written). */
static void unescape_help(char *t)
{
    char *w = t;
    for (char *r = t; *r; r++) {
        if (*r == '\\' && (r[1] == '\\' || r[1] == 'n')) {
            *w++ = r[1] == 'n' ? '\n' : '\\';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* `q` is just past "HELP" or "TYPE". */
static int parse_meta(parser *p, char *q, bool is_type)
{
    const char *kw = is_type ? "TYPE" : "HELP";
    char msg[80];
    char *name = skip_blanks(q), *end = scan_name(name);
    if (end == name || (*end && !is_blank(*end))) {
        snprintf(msg, sizeof msg, "expected a metric name after # %s", kw);
        return fail(p, BG_EPROTO, msg, *name ? name : NULL);
    }
    char *rest = *end ? skip_blanks(end + 1) : end;
    *end = '\0';
    bg_prom_family *f = family_for(p, name);
    if (!f)
        return bg_error_set(p->err, BG_ENOMEM, "out of memory");
    if (!is_type) {
        unescape_help(rest);
        f->help = rest;
        return 0;
    }
    char *tend = scan_token(rest);
    if (*skip_blanks(tend))
        return fail(p, BG_EPROTO, "unexpected text after the type", skip_blanks(tend));
    *tend = '\0';
    if (!*rest)
        return fail(p, BG_EPROTO, "expected a type after # TYPE name", NULL);
    if (type_of(&f->type, rest) != 0)
        return fail(p, BG_EPROTO,
                    "unknown metric type (expected counter, gauge, histogram, summary or "
                    "untyped)",
                    rest);
    return 0;
}

/* 1 at `# EOF`, 0 for other comments, negative on a malformed HELP/TYPE. */
static int parse_comment(parser *p, char *l)
{
    char *q = skip_blanks(l + 1);
    if (strncmp(q, "EOF", 3) == 0 && !*skip_blanks(q + 3))
        return 1;
    bool help = strncmp(q, "HELP", 4) == 0, type = strncmp(q, "TYPE", 4) == 0;
    if ((help || type) && (!q[4] || is_blank(q[4])))
        return parse_meta(p, q + 4, type);
    return 0; /* a plain comment */
}

/* --- samples --- */

/* Unescapes a label value in place from just past its opening quote; returns the closing
 * quote's position, or NULL when the line ends first. */
static char *unescape_label_value(char *r)
{
    char *w = r;
    for (; *r && *r != '"'; r++) {
        if (*r != '\\') {
            *w++ = *r;
            continue;
        }
        if (!r[1])
            return NULL;
        r++;
        if (*r == 'n')
            *w++ = '\n';
        else if (*r == '\\' || *r == '"')
            *w++ = *r;
        else { /* not an escape the format defines: kept as written */
            *w++ = '\\';
            *w++ = *r;
        }
    }
    if (!*r)
        return NULL;
    *w = '\0';
    return r;
}

static int push_label(parser *p, const char *name, const char *value, size_t *n)
{
    bg_prom_scrape *s = p->s;
    if (*n >= BG_PROM_MAX_LABELS) {
        char msg[64];
        snprintf(msg, sizeof msg, "more than %d labels", BG_PROM_MAX_LABELS);
        return fail(p, BG_ETOOBIG, msg, NULL);
    }
    if (grow((void **)&s->labels, &p->cap_labels, s->n_labels + 1, sizeof *s->labels))
        return bg_error_set(p->err, BG_ENOMEM, "out of memory");
    s->labels[s->n_labels].name = name;
    s->labels[s->n_labels].value = value;
    s->n_labels++;
    (*n)++;
    return 0;
}

/* One `name="value"` at q; on success *qp is past the value's closing quote. */
static int parse_label(parser *p, char **qp, size_t *n)
{
    char msg[160];
    char *name = *qp, *end = name;
    if (is_name_start(*end) && *end != ':')
        while (is_name_char(*end) && *end != ':')
            end++;
    if (end == name)
        return fail(p, BG_EPROTO, "expected a label name or '}'", name);
    char *q = skip_blanks(end);
    if (*q != '=') {
        snprintf(msg, sizeof msg, "expected '=' after label name \"%.*s\"", (int)(end - name),
                 name);
        return fail(p, BG_EPROTO, msg, NULL);
    }
    q = skip_blanks(q + 1);
    *end = '\0'; /* the '=' or a blank, both consumed */
    if (*q != '"') {
        snprintf(msg, sizeof msg, "expected a quoted value for label \"%.60s\"", name);
        return fail(p, BG_EPROTO, msg, NULL);
    }
    char *close = unescape_label_value(q + 1);
    if (!close) {
        snprintf(msg, sizeof msg, "unterminated value of label \"%.60s\"", name);
        return fail(p, BG_EPROTO, msg, NULL);
    }
    int rc = push_label(p, name, q + 1, n);
    *qp = close + 1;
    return rc;
}

/* The label set from '{' at *qp; *qp ends past '}'. */
static int parse_labels(parser *p, char **qp, size_t *n)
{
    char *q = skip_blanks(*qp + 1);
    while (*q != '}') {
        int rc = parse_label(p, &q, n);
        if (rc)
            return rc;
        q = skip_blanks(q);
        if (*q == ',') {
            q = skip_blanks(q + 1);
        } else if (*q != '}') {
            char msg[160];
            snprintf(msg, sizeof msg, "expected ',' or '}' after the value of label \"%.60s\"",
                     p->s->labels[p->s->n_labels - 1].name);
            return fail(p, BG_EPROTO, msg, *q ? q : NULL);
        }
    }
    *qp = q + 1;
    return 0;
}

/* Value, optional timestamp, optional exemplar: `q` is past the name or labels. */
static int parse_value(parser *p, bg_prom_sample *smp, char *q, bool had_labels)
{
    if (!is_blank(*q) || !*skip_blanks(q))
        return fail(p, BG_EPROTO,
                    had_labels ? "expected a value after the labels"
                               : "expected a value after the metric name",
                    *q && !is_blank(*q) ? q : NULL);
    char *tok = skip_blanks(q), *end = scan_token(tok);
    char *next = *end ? skip_blanks(end + 1) : end;
    *end = '\0';
    if (!parse_number(&smp->value, tok))
        return fail(p, BG_EPROTO, "expected a number as the value", tok);
    if (*next && *next != '#') {
        tok = next;
        end = scan_token(tok);
        next = *end ? skip_blanks(end + 1) : end;
        *end = '\0';
        if (!parse_number(&smp->timestamp, tok))
            return fail(p, BG_EPROTO, "expected a number as the timestamp", tok);
        smp->has_timestamp = true;
    }
    if (*next && *next != '#') /* '#': an OpenMetrics exemplar, skipped */
        return fail(p, BG_EPROTO, "unexpected text after the value", next);
    return 0;
}

static int parse_sample(parser *p, char *l)
{
    bg_prom_scrape *s = p->s;
    char *end = scan_name(l);
    if (end == l)
        return fail(p, BG_EPROTO, "expected a metric name", l);
    if (grow((void **)&s->samples, &p->cap_samples, s->n_samples + 1, sizeof *s->samples))
        return bg_error_set(p->err, BG_ENOMEM, "out of memory");
    bg_prom_sample *smp = &s->samples[s->n_samples];
    memset(smp, 0, sizeof *smp);
    smp->name = l;
    smp->line = p->line;
    char *q = skip_blanks(end);
    bool had_labels = *q == '{';
    char saved = *end;
    *end = '\0';
    int rc = 0;
    if (had_labels) {
        rc = parse_labels(p, &q, &smp->n_labels);
    } else {
        *end = saved; /* no labels: the blank after the name separates the value */
        q = end;
    }
    if (!rc)
        rc = parse_value(p, smp, q, had_labels);
    if (!had_labels)
        *end = '\0';
    if (!rc)
        s->n_samples++;
    return rc;
}

/* 1 at `# EOF`, 0 for a parsed line, negative on error. */
static int parse_line(parser *p, char *l)
{
    size_t n = strlen(l);
    if (n && l[n - 1] == '\r')
        l[n - 1] = '\0';
    l = skip_blanks(l);
    if (!*l)
        return 0;
    if (*l == '#')
        return parse_comment(p, l);
    return parse_sample(p, l);
}

/* Labels were appended sample after sample; point each sample at its run. */
static void link_labels(bg_prom_scrape *s)
{
    size_t off = 0;
    for (size_t i = 0; i < s->n_samples; i++) {
        s->samples[i].labels = s->samples[i].n_labels ? s->labels + off : NULL;
        off += s->samples[i].n_labels;
    }
}

static int check_input(const char *text, size_t len, bg_error *err)
{
    if (len > BG_MAX_RESPONSE_BODY)
        return bg_error_set(err, BG_ETOOBIG, "metrics: %zu bytes, more than the limit of %u",
                            len, (unsigned)BG_MAX_RESPONSE_BODY);
    const char *nul = len ? memchr(text, '\0', len) : NULL;
    if (nul) {
        int line = 1;
        for (const char *c = text; c < nul; c++)
            line += *c == '\n';
        return bg_error_set(err, BG_EPROTO, "metrics line %d: NUL byte in the text", line);
    }
    return 0;
}

int bg_prom_parse(bg_prom_scrape **out, const char *text, size_t len, bg_error *err)
{
    *out = NULL;
    int rc = check_input(text, len, err);
    if (rc)
        return rc;
    parser p = {.err = err};
    if (!(p.s = calloc(1, sizeof *p.s)) || !(p.s->text = malloc(len + 1))) {
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
        goto cleanup;
    }
    if (len)
        memcpy(p.s->text, text, len);
    p.s->text[len] = '\0';
    for (char *l = p.s->text; l && !rc;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        p.line++;
        rc = parse_line(&p, l);
        l = nl ? nl + 1 : NULL;
    }
    if (rc > 0) /* # EOF: the rest is not metrics */
        rc = 0;
    if (!rc) {
        link_labels(p.s);
        *out = p.s;
        p.s = NULL;
    }
cleanup:
    bg_prom_scrape_free(p.s);
    return rc;
}

void bg_prom_scrape_free(bg_prom_scrape *s)
{
    if (!s)
        return;
    free(s->text);
    free(s->samples);
    free(s->labels);
    free(s->families);
    free(s);
}

/* --- lookups --- */

bg_prom_type bg_prom_family_type(const bg_prom_scrape *s, const char *name)
{
    for (size_t i = 0; s && i < s->n_families; i++)
        if (strcmp(s->families[i].name, name) == 0)
            return s->families[i].type;
    return BG_PROM_UNTYPED;
}

const char *bg_prom_label_value(const bg_prom_sample *smp, const char *name)
{
    for (size_t i = 0; i < smp->n_labels; i++)
        if (strcmp(smp->labels[i].name, name) == 0)
            return smp->labels[i].value;
    return NULL;
}

bool bg_prom_matches(const bg_prom_sample *smp, const char *const *filter)
{
    for (size_t i = 0; filter && filter[i] && filter[i + 1]; i += 2) {
        const char *v = bg_prom_label_value(smp, filter[i]);
        if (strcmp(v ? v : "", filter[i + 1]) != 0)
            return false;
    }
    return true;
}

const bg_prom_sample *bg_prom_next(const bg_prom_scrape *s, const char *name,
                                   const char *const *filter, size_t *pos)
{
    for (size_t i = *pos; s && i < s->n_samples; i++) {
        const bg_prom_sample *smp = &s->samples[i];
        if (strcmp(smp->name, name) == 0 && bg_prom_matches(smp, filter)) {
            *pos = i + 1;
            return smp;
        }
    }
    if (s)
        *pos = s->n_samples;
    return NULL;
}

/* `name`, or the same counter with/without its `_total` suffix when only that one has a
 * matching sample. Writes into buf when it changes the name. */
static const char *counter_name(const bg_prom_scrape *s, const char *name,
                                const char *const *filter, char *buf, size_t bufsz)
{
    size_t pos = 0;
    if (bg_prom_next(s, name, filter, &pos))
        return name;
    size_t n = strlen(name);
    if (bg_str_ends_with(name, "_total"))
        snprintf(buf, bufsz, "%.*s", (int)(n - 6), name);
    else
        snprintf(buf, bufsz, "%s_total", name);
    return buf;
}

bool bg_prom_sum(double *out, const bg_prom_scrape *s, const char *name,
                 const char *const *filter)
{
    char alt[256];
    const char *nm = counter_name(s, name, filter, alt, sizeof alt);
    const bg_prom_sample *smp;
    size_t pos = 0;
    bool found = false;
    *out = 0;
    while ((smp = bg_prom_next(s, nm, filter, &pos)) != NULL) {
        *out += smp->value;
        found = true;
    }
    return found;
}

/* --- histograms --- */

static int bucket_add(bg_prom_histogram *h, double le, double count)
{
    for (size_t i = 0; i < h->n_buckets; i++) {
        if (h->buckets[i].le == le) {
            h->buckets[i].count += count;
            return 0;
        }
    }
    if (h->n_buckets >= BG_PROM_MAX_BUCKETS)
        return BG_ETOOBIG;
    h->buckets[h->n_buckets].le = le;
    h->buckets[h->n_buckets].count = count;
    h->n_buckets++;
    return 0;
}

static int cmp_bucket(const void *a, const void *b)
{
    double x = ((const bg_prom_bucket *)a)->le, y = ((const bg_prom_bucket *)b)->le;
    return (x > y) - (x < y);
}

static void sort_buckets(bg_prom_histogram *h)
{
    qsort(h->buckets, h->n_buckets, sizeof h->buckets[0], cmp_bucket);
}

static int collect_buckets(bg_prom_histogram *out, const bg_prom_scrape *s, const char *name,
                           const char *const *filter, bg_error *err)
{
    char nm[256];
    snprintf(nm, sizeof nm, "%s_bucket", name);
    const bg_prom_sample *smp;
    size_t pos = 0;
    while ((smp = bg_prom_next(s, nm, filter, &pos)) != NULL) {
        const char *le_text = bg_prom_label_value(smp, "le");
        double le;
        if (!le_text || !parse_number(&le, le_text) || isnan(le))
            return bg_error_set(err, BG_EPROTO, "metrics line %d: %s without a numeric le label",
                                smp->line, nm);
        if (bucket_add(out, le, smp->value))
            return bg_error_set(err, BG_ETOOBIG, "metrics line %d: %s has more than %d buckets",
                                smp->line, name, BG_PROM_MAX_BUCKETS);
        if (isinf(le) && le > 0)
            out->n_series++;
    }
    return 0;
}

int bg_prom_histogram_get(bg_prom_histogram *out, const bg_prom_scrape *s, const char *name,
                          const char *const *filter, bg_error *err)
{
    memset(out, 0, sizeof *out);
    if (strlen(name) > 200)
        return 0;
    int rc = collect_buckets(out, s, name, filter, err);
    if (rc)
        return rc;
    char nm[256];
    size_t count_series = 0;
    snprintf(nm, sizeof nm, "%s_sum", name);
    bg_prom_sum(&out->sum, s, nm, filter);
    snprintf(nm, sizeof nm, "%s_count", name);
    const bg_prom_sample *smp;
    for (size_t pos = 0; (smp = bg_prom_next(s, nm, filter, &pos)) != NULL; count_series++)
        out->count += smp->value;
    if (out->n_buckets == 0 && count_series == 0)
        return 0; /* not there */
    sort_buckets(out);
    bg_prom_bucket *last = out->n_buckets ? &out->buckets[out->n_buckets - 1] : NULL;
    if (!last || !(isinf(last->le) && last->le > 0)) {
        if (bucket_add(out, INFINITY, out->count))
            return bg_error_set(err, BG_ETOOBIG, "metrics: %s has more than %d buckets", name,
                                BG_PROM_MAX_BUCKETS);
    }
    if (count_series > out->n_series)
        out->n_series = count_series;
    return 0;
}

static bool same_layout(const bg_prom_histogram *a, const bg_prom_histogram *b)
{
    if (a->n_buckets != b->n_buckets)
        return false;
    for (size_t i = 0; i < a->n_buckets; i++)
        if (a->buckets[i].le != b->buckets[i].le)
            return false;
    return true;
}

void bg_prom_histogram_delta(bg_prom_histogram *out, bool *reset,
                             const bg_prom_histogram *before, const bg_prom_histogram *after)
{
    *reset = false;
    if (after->n_buckets == 0) {
        memset(out, 0, sizeof *out);
        return;
    }
    if (before->n_buckets == 0) {
        *out = *after;
        return;
    }
    bool went_down = !same_layout(before, after) || after->count < before->count;
    for (size_t i = 0; !went_down && i < after->n_buckets; i++)
        went_down = after->buckets[i].count < before->buckets[i].count;
    *out = *after;
    if (went_down) {
        *reset = true;
        return;
    }
    for (size_t i = 0; i < out->n_buckets; i++)
        out->buckets[i].count -= before->buckets[i].count;
    out->sum -= before->sum;
    out->count -= before->count;
}

int bg_prom_histogram_add(bg_prom_histogram *acc, const bg_prom_histogram *h, bg_error *err)
{
    if (h->n_buckets == 0)
        return 0;
    if (acc->n_buckets == 0) {
        *acc = *h;
        return 0;
    }
    for (size_t i = 0; i < h->n_buckets; i++)
        if (bucket_add(acc, h->buckets[i].le, h->buckets[i].count))
            return bg_error_set(err, BG_ETOOBIG, "metrics: histograms with more than %d buckets",
                                BG_PROM_MAX_BUCKETS);
    sort_buckets(acc);
    acc->sum += h->sum;
    acc->count += h->count;
    acc->n_series += h->n_series;
    return 0;
}

double bg_prom_quantile(const bg_prom_histogram *h, double q)
{
    size_t n = h->n_buckets;
    if (n < 2 || isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    /* Cumulative counts made monotonic, as Prometheus does for scrapes taken while the
     * server was updating buckets one at a time. */
    double c[BG_PROM_MAX_BUCKETS], max = 0;
    for (size_t i = 0; i < n; i++) {
        if (h->buckets[i].count > max)
            max = h->buckets[i].count;
        c[i] = max;
    }
    double total = c[n - 1];
    if (!(total > 0))
        return NAN;
    double rank = q * total;
    size_t b = 0;
    while (b < n - 1 && c[b] < rank)
        b++;
    if (b == n - 1) /* in the +Inf bucket: its lower bound */
        return h->buckets[n - 2].le;
    if (b == 0 && h->buckets[0].le <= 0)
        return h->buckets[0].le;
    double start = 0, end = h->buckets[b].le, count = c[b];
    if (b > 0) {
        start = h->buckets[b - 1].le;
        count -= c[b - 1];
        rank -= c[b - 1];
    }
    if (count <= 0) /* q == 0 with an empty first bucket */
        return start;
    return start + (end - start) * (rank / count);
}

double bg_prom_mean(const bg_prom_histogram *h)
{
    return h->count > 0 ? h->sum / h->count : NAN;
}

/* --- counters between two scrapes --- */

static bool same_labels(const bg_prom_sample *a, const bg_prom_sample *b)
{
    if (a->n_labels != b->n_labels)
        return false;
    for (size_t i = 0; i < a->n_labels; i++) {
        const char *v = bg_prom_label_value(b, a->labels[i].name);
        if (!v || strcmp(v, a->labels[i].value) != 0)
            return false;
    }
    return true;
}

/* The sample of series (name, like's labels) in s. Servers print series in a stable
 * order, so the search starts where the previous one matched (*hint) and wraps: pairing
 * two scrapes is then linear, not quadratic. */
static const bg_prom_sample *same_series(const bg_prom_scrape *s, const char *name,
                                         const bg_prom_sample *like, size_t *hint)
{
    for (size_t k = 0; s && k < s->n_samples; k++) {
        size_t i = (*hint + k) % s->n_samples;
        const bg_prom_sample *smp = &s->samples[i];
        if (strcmp(smp->name, name) == 0 && same_labels(smp, like)) {
            *hint = i + 1;
            return smp;
        }
    }
    return NULL;
}

bool bg_prom_counter_delta(double *out, bool *reset, const bg_prom_scrape *before,
                           const bg_prom_scrape *after, const char *name,
                           const char *const *filter)
{
    char alt_a[256], alt_b[256];
    const char *na = counter_name(after, name, filter, alt_a, sizeof alt_a);
    const char *nb = counter_name(before, name, filter, alt_b, sizeof alt_b);
    const bg_prom_sample *a;
    size_t pos = 0, hint = 0;
    bool found = false;
    *out = 0;
    *reset = false;
    while ((a = bg_prom_next(after, na, filter, &pos)) != NULL) {
        found = true;
        if (isnan(a->value))
            continue;
        const bg_prom_sample *b = same_series(before, nb, a, &hint);
        if (!b || isnan(b->value)) {
            *out += a->value; /* a new series counts from 0 */
        } else if (a->value < b->value) {
            *reset = true;
            *out += a->value;
        } else {
            *out += a->value - b->value;
        }
    }
    return found;
}
