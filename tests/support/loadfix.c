/* loadfix.c — the load generator of the end-to-end tests (see loadfix.h). */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

/* ---- wrk ---- */

extern char **environ;

static pid_t spawn_to_file(const char *const *argv, const char *out_path)
{
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

int bgt_wrk_start(bgt_wrk *w, const char *dir, const char *url, const char *json_body,
                  int conns, int max_s)
{
    memset(w, 0, sizeof *w);
    w->pid = -1;
    if (access(BGT_WRK_BIN, X_OK) != 0)
        return -1;
    char script[700], c[16], d[16];
    snprintf(script, sizeof script, "%s/wrk-post.lua", dir);
    snprintf(w->out, sizeof w->out, "%s/wrk.out", dir);
    FILE *f = fopen(script, "w");
    if (!f)
        return -1;
    fprintf(f, "wrk.method = \"POST\"\nwrk.body = '%s'\n"
               "wrk.headers[\"Content-Type\"] = \"application/json\"\n",
            json_body);
    fclose(f);
    snprintf(c, sizeof c, "%d", conns);
    snprintf(d, sizeof d, "%ds", max_s);
    const char *argv[] = {BGT_WRK_BIN, "-t", "2", "-c", c, "-d", d, "--timeout", "5s",
                          "-s", script, url, NULL};
    w->pid = spawn_to_file(argv, w->out);
    return w->pid > 0 ? 0 : -1;
}

/* "  1234 requests in 2.50s", "Socket errors: connect 0, read 3, write 0, timeout 0",
 * "Non-2xx or 3xx responses: 5" */
static int parse_wrk(bgt_wrk *w, const char *out)
{
    const char *p = strstr(out, " requests in ");
    const char *line = p;
    long c = 0, r = 0, wr = 0, t = 0;
    if (!p)
        return -1;
    while (line > out && line[-1] != '\n')
        line--;
    if (sscanf(line, " %ld requests in", &w->requests) != 1)
        return -1;
    if ((p = strstr(out, "Socket errors:")) &&
        sscanf(p, "Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &c, &r, &wr,
               &t) == 4)
        w->socket_errors = c + r + wr + t;
    if ((p = strstr(out, "Non-2xx or 3xx responses:")))
        sscanf(p, "Non-2xx or 3xx responses: %ld", &w->non_2xx);
    return 0;
}

int bgt_wrk_finish(bgt_wrk *w, bool let_run)
{
    if (w->pid <= 0)
        return -1;
    if (!let_run)
        kill(w->pid, SIGINT);
    int code = bgt_wait(w->pid, 30);
    w->pid = -1;
    char *text = bgt_read_file(w->out);
    int rc = code == 0 && text && parse_wrk(w, text) == 0 ? 0 : -1;
    if (rc)
        fprintf(stderr, "wrk exited %d:\n%s\n", code, text ? text : "(no output)");
    free(text);
    return rc;
}
