/* loadfix.c — the load generator of the end-to-end tests (see loadfix.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/buf.h"
#include "bggate/util.h"
#include "loadfix.h"
#include "proc.h"

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    bg_buf_append(ud, p, s * n);
    return s * n;
}

static void run_child(const char *url, const char *json_body, const char *expect,
                      bool keep_alive, const char *stop, const char *counts, int max_s,
                      long pause_us)
{
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    bg_buf body;
    bg_buf_init(&body, 1 << 16);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, json_body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, keep_alive ? 0L : 1L);
    long done = 0, failed = 0;
    char first[256] = "";
    double t0 = bg_now_ms();
    while (access(stop, F_OK) != 0 && bg_now_ms() - t0 < max_s * 1000.0) {
        bg_buf_reset(&body);
        CURLcode cc = curl_easy_perform(e);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        done++;
        if ((cc != CURLE_OK || status != 200 || !strstr(bg_buf_cstr(&body), expect)) &&
            failed++ == 0)
            snprintf(first, sizeof first, "%s, HTTP %ld", curl_easy_strerror(cc), status);
        if (pause_us > 0)
            usleep((useconds_t)pause_us);
    }
    FILE *f = fopen(counts, "w");
    if (f) {
        fprintf(f, "%ld %ld %s\n", done, failed, first);
        fclose(f);
    }
}

int bgt_loader_start(bgt_loader *l, const char *url, const char *json_body, const char *expect,
                     bool keep_alive, const char *stop, const char *counts_path, int max_s,
                     long pause_us)
{
    snprintf(l->counts, sizeof l->counts, "%s", counts_path);
    l->pid = fork();
    if (l->pid < 0)
        return -1;
    if (l->pid > 0)
        return 0;
    run_child(url, json_body, expect, keep_alive, stop, counts_path, max_s, pause_us);
    _exit(0);
}

int bgt_loader_finish(bgt_loader *l, long *done, long *failed, char *first, size_t firstsz)
{
    if (bgt_wait(l->pid, 30) != 0)
        return -1;
    char *counts = bgt_read_file(l->counts);
    int n = counts ? sscanf(counts, "%ld %ld", done, failed) : 0;
    if (first && firstsz) {
        const char *p = counts;
        for (int field = 0; p && *p && field < 2; field++) /* skip the two numbers */
            p = strchr(p + 1, ' ');
        snprintf(first, firstsz, "%s", p && *p ? p + 1 : "");
        first[strcspn(first, "\n")] = '\0';
    }
    free(counts);
    return n == 2 ? 0 : -1;
}
