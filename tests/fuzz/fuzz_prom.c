/* fuzz_prom.c — libFuzzer target for the Prometheus text parser and what the canary
 * analysis does with a scrape: lookups, histogram merging, deltas and quantiles.
 *
 * The input is a /metrics body. A parse error must say why; a parsed scrape is walked
 * (every label readable), each histogram family found through its _bucket samples is
 * merged, differenced against itself and against an empty histogram, and its quantiles
 * estimated; each sample name is summed and differenced as a counter.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk_labels(const bg_prom_scrape *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_samples; i++)
        for (size_t j = 0; j < s->samples[i].n_labels; j++)
            n += strlen(s->samples[i].labels[j].name) + strlen(s->samples[i].labels[j].value);
    return n;
}

static void check_histogram(const bg_prom_scrape *s, const char *family)
{
    bg_prom_histogram h, none, d;
    bg_error err = {0};
    bool reset = true;
    if (bg_prom_histogram_get(&h, s, family, NULL, &err) != 0) {
        if (err.msg[0] == '\0')
            abort();
        return;
    }
    if (h.n_buckets > BG_PROM_MAX_BUCKETS)
        abort();
    for (size_t i = 1; i < h.n_buckets; i++)
        if (!(h.buckets[i - 1].le < h.buckets[i].le))
            abort(); /* sorted, distinct bounds */
    bg_prom_histogram_delta(&d, &reset, &h, &h);
    bool finite = true;
    for (size_t i = 0; i < h.n_buckets; i++)
        finite = finite && isfinite(h.buckets[i].count);
    if (finite && !reset)
        for (size_t i = 0; i < d.n_buckets; i++)
            if (d.buckets[i].count != 0)
                abort(); /* nothing happened between a scrape and itself */
    memset(&none, 0, sizeof none);
    bg_prom_histogram_delta(&d, &reset, &none, &h);
    (void)bg_prom_histogram_add(&none, &h, &err);
    (void)bg_prom_histogram_add(&none, &h, &err);
    const double qs[] = {0, 0.5, 0.95, 0.99, 1};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double v = bg_prom_quantile(&d, qs[i]);
        if (!isnan(v) && d.n_buckets >= 2 && finite && v > d.buckets[d.n_buckets - 2].le &&
            d.buckets[d.n_buckets - 2].le >= 0)
            abort(); /* never above the highest finite bound */
    }
    (void)bg_prom_mean(&none);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bg_prom_scrape *s = NULL;
    bg_error err = {0};
    if (bg_prom_parse(&s, (const char *)data, size, &err) != 0) {
        if (err.msg[0] == '\0' || s != NULL)
            abort(); /* every failure says why and returns nothing */
        return 0;
    }
    (void)walk_labels(s);
    size_t limit = s->n_samples < 16 ? s->n_samples : 16;
    for (size_t i = 0; i < limit; i++) {
        const char *name = s->samples[i].name;
        double v = 0;
        bool reset = false;
        (void)bg_prom_sum(&v, s, name, NULL);
        (void)bg_prom_counter_delta(&v, &reset, s, s, name, NULL);
        size_t n = strlen(name);
        if (n > 7 && n < 200 && strcmp(name + n - 7, "_bucket") == 0) {
            char family[200];
            memcpy(family, name, n - 7);
            family[n - 7] = '\0';
            check_histogram(s, family);
        }
    }
    (void)bg_prom_family_type(s, "x");
    bg_prom_scrape_free(s);
    return 0;
}
