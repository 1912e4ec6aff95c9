/* loadfix.h — a load generator for end-to-end tests: a forked child that sends requests
 * through a router while a deploy runs and counts every answer that is not a good one. */
#ifndef BGT_LOADFIX_H
#define BGT_LOADFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct bgt_loader {
    pid_t pid;
    char counts[700]; /* "done failed first-failure", written by the child at its end */
} bgt_loader;

/* Forks a child that POSTs json_body to url until the file `stop` exists (at most max_s
 * seconds): on one kept-alive connection or a new connection per request, pause_us between
 * requests. An answer is good when it is a 200 whose body contains `expect`. The child
 * writes its counts to counts_path. 0, or -1 when it could not fork. */
int bgt_loader_start(bgt_loader *l, const char *url, const char *json_body, const char *expect,
                     bool keep_alive, const char *stop, const char *counts_path, int max_s,
                     long pause_us);
/* Waits for the child (at most 30 s after `stop` was written) and reads its counts; first
 * (firstsz bytes) gets the first failure ("" when none). 0, or -1. */
int bgt_loader_finish(bgt_loader *l, long *done, long *failed, char *first, size_t firstsz);

/* wrk (Debian's /usr/bin/wrk) with keep-alive connections: unlike libcurl it never resends
 * a request that a closing connection lost, so it sees exactly what a plain client would. */
#define BGT_WRK_BIN "/usr/bin/wrk"

typedef struct bgt_wrk {
    pid_t pid;
    char out[700]; /* its output */
    long requests, non_2xx, socket_errors;
} bgt_wrk;

/* Starts wrk (2 threads, `conns` connections, for at most max_s seconds) POSTing json_body
 * to url; dir holds its script and output. 0, or -1 when wrk is missing or did not start. */
int bgt_wrk_start(bgt_wrk *w, const char *dir, const char *url, const char *json_body,
                  int conns, int max_s);
/* Stops it early (SIGINT: wrk then prints its summary) unless `let_run`, waits, and parses
 * the counts. 0, or -1 with its output printed. */
int bgt_wrk_finish(bgt_wrk *w, bool let_run);

#endif
