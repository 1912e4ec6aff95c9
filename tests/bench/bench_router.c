/* bench_router.c — router benchmark (not a timed test; run by tests/bench/bench-haproxy.sh):
 * with a router that is already running in front of two pools, measures through the real
 * driver (bg_router_set)
 *   - flips: how long set() takes (for HAProxy: until its reply), and the visibility time
 *     from set() returning to the first answer through the router from the new pool;
 *   - canary steps: the realized split over the first 200 and over 2,000 answers right
 *     after each step's set() returned, against the step's weight.
 *   bench_router CONFIG.json FLIPS
 * CONFIG holds "pools" and "router" (with endpoint and upstream_header) as bg-gate.json
 * does. Prints one table per measurement.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bggate/pool.h"
#include "bggate/router.h"
#include "bggate/stats.h"
#include "bggate/util.h"

typedef struct probe {
    CURL *easy;
    char url[512];
    char header[64];     /* "x-bg-upstream:" lower-cased, for matching */
    char upstream[128];  /* of the last answer */
    const char *green;   /* "host:port" of green's first endpoint */
} probe;

static size_t on_header(char *p, size_t s, size_t n, void *ud)
{
    probe *pr = ud;
    size_t len = s * n, hl = strlen(pr->header);
    if (len > hl && strncasecmp(p, pr->header, hl) == 0) {
        const char *v = p + hl;
        while (*v == ' ')
            v++;
        size_t vl = (size_t)(p + len - v);
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        snprintf(pr->upstream, sizeof pr->upstream, "%.*s", (int)vl, v);
    }
    return len;
}

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

/* One GET /v1/models through the router on a kept-alive connection: 1 when green answered,
 * 0 for blue, -1 on error. */
static int ask(probe *pr)
{
    pr->upstream[0] = '\0';
    if (curl_easy_perform(pr->easy) != CURLE_OK)
        return -1;
    return strcmp(pr->upstream, pr->green) == 0;
}

static int probe_init(probe *pr, const bg_router *r, const char *green_url)
{
    const char *ep = bg_router_endpoint(r), *h = bg_router_upstream_header(r);
    if (!ep || !h)
        return -1;
    snprintf(pr->url, sizeof pr->url, "%s/models", ep);
    snprintf(pr->header, sizeof pr->header, "%s:", h);
    const char *hp = strstr(green_url, "://");
    static char green[128];
    snprintf(green, sizeof green, "%s", hp ? hp + 3 : green_url);
    green[strcspn(green, "/")] = '\0';
    pr->green = green;
    pr->easy = curl_easy_init();
    curl_easy_setopt(pr->easy, CURLOPT_URL, pr->url);
    curl_easy_setopt(pr->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(pr->easy, CURLOPT_HEADERDATA, pr);
    curl_easy_setopt(pr->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(pr->easy, CURLOPT_TIMEOUT_MS, 5000L);
    return pr->easy ? 0 : -1;
}

static int set(bg_router *r, int green_pct)
{
    bg_weights w = {{100 - green_pct, green_pct}};
    bg_error err = {0};
    if (bg_router_set(r, &w, &err) != 0) {
        fprintf(stderr, "bench_router: set: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void flips(bg_router *r, probe *pr, int n)
{
    bg_samples set_ms, visible_ms;
    bg_samples_init(&set_ms);
    bg_samples_init(&visible_ms);
    for (int i = 0; i < n; i++) {
        int to_green = i % 2 == 0;
        double t0 = bg_now_ms();
        if (set(r, to_green ? 100 : 0) != 0)
            return;
        double t1 = bg_now_ms();
        /* bounded: 2 s of asking */
        while (ask(pr) != to_green && bg_now_ms() - t1 < 2000)
            ;
        double t2 = bg_now_ms();
        bg_samples_add(&set_ms, t1 - t0);
        bg_samples_add(&visible_ms, t2 - t1);
    }
    bg_summary a, b;
    bg_samples_summarize(&set_ms, &a);
    bg_samples_summarize(&visible_ms, &b);
    printf("%-34s %8s %8s %8s\n", "flip (ms)", "p50", "p95", "max");
    printf("%-34s %8.2f %8.2f %8.2f\n", "set() until the router's reply", a.p50, a.p95, a.max);
    printf("%-34s %8.2f %8.2f %8.2f\n", "reply → first answer from new pool", b.p50, b.p95,
           b.max);
    bg_samples_dispose(&set_ms);
    bg_samples_dispose(&visible_ms);
}

static void steps(bg_router *r, probe *pr)
{
    static const int pct[] = {1, 25, 50, 75};
    printf("\n%-8s %12s %14s %14s %10s\n", "step", "set() ms", "first 200 %", "first 2000 %",
           "errors");
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
        double t0 = bg_now_ms();
        if (set(r, pct[i]) != 0)
            return;
        double t1 = bg_now_ms();
        int green = 0, errors = 0, green200 = 0;
        for (int k = 0; k < 2000; k++) {
            int a = ask(pr);
            errors += a < 0;
            green += a > 0;
            if (k == 199)
                green200 = green;
        }
        printf("%-8d %12.2f %14.2f %14.2f %10d\n", pct[i], t1 - t0, green200 / 2.0,
               green / 20.0, errors);
    }
}

int main(int argc, char **argv)
{
    long n_flips = 0;
    if (argc != 3 || bg_parse_long(&n_flips, argv[2], 1, 10000) != 0) {
        fprintf(stderr, "usage: bench_router CONFIG.json FLIPS\n");
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    bg_error err = {0};
    if (bg_file_read(&text, &len, argv[1], 1 << 20, &err) != 0) {
        fprintf(stderr, "bench_router: %s\n", err.msg);
        return 2;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    bg_pools pools;
    bg_router *r = NULL;
    if (!root || bg_pools_parse(&pools, root, &err) || bg_router_new(&r, root, &pools, &err)) {
        fprintf(stderr, "bench_router: %s: %s\n", argv[1], root ? err.msg : "not JSON");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    probe pr;
    memset(&pr, 0, sizeof pr);
    if (probe_init(&pr, r, pools.pool[BG_POOL_GREEN].endpoints[0]) != 0) {
        fprintf(stderr, "bench_router: router.endpoint and router.upstream_header are needed\n");
        return 2;
    }
    printf("router: %s, %ld flips, requests on one kept-alive connection\n\n",
           bg_router_driver_name(r), n_flips);
    flips(r, &pr, (int)n_flips);
    steps(r, &pr);
    set(r, 0);
    curl_easy_cleanup(pr.easy);
    bg_router_free(r);
    bg_pools_dispose(&pools);
    cJSON_Delete(root);
    curl_global_cleanup();
    return 0;
}
