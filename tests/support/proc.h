/* proc.h — helpers for end-to-end tests: temp dirs, running bg-gate, and starting/stopping
 * bg-mock on 127.0.0.1 with a port file. Processes are started with posix_spawn, awaited
 * with deadlines and stopped by PID; their logs are printed when a test fails.
 */
#ifndef BGGATE_TEST_PROC_H
#define BGGATE_TEST_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* A fresh directory under $TMPDIR (or /tmp); caller frees the string. */
char *bgt_tmpdir(void);
/* Removes a directory tree created by a test. */
void bgt_rmtree(const char *dir);
/* Path of a file in the source tree ($BG_SOURCE_DIR/rel); caller frees. */
char *bgt_src(const char *rel);

typedef struct bgt_result {
    int exit_code;      /* -1 when killed by a signal or timed out */
    char *out;          /* captured stdout (NUL-terminated) */
    char *err;          /* captured stderr */
    double elapsed_ms;
} bgt_result;

/* Runs $BG_GATE_BIN with args (NULL-terminated), in cwd (NULL: current), with extra
 * environment "K=V" entries (NULL-terminated, may be NULL). Kills it after timeout_s. */
void bgt_run_gate(bgt_result *res, const char *cwd, const char *const *env,
                  const char *const *args, int timeout_s);
void bgt_result_dispose(bgt_result *res);

typedef struct bgt_mock {
    pid_t pid;
    int port;
    char dir[512];
    char url[128];      /* http://127.0.0.1:PORT/v1 */
    char log_path[600]; /* the mock's stderr */
    char req_log[600];  /* its request log */
} bgt_mock;

/* Starts bg-mock with extra args (NULL-terminated) and waits (≤ 10 s) for its port
 * file. Returns 0 or -1 (with the mock's log printed). */
int bgt_mock_start(bgt_mock *m, const char *dir, const char *name, const char *const *args);
/* SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit status or -1. */
int bgt_mock_stop(bgt_mock *m);
/* Number of lines in the mock's request log. */
int bgt_mock_request_count(const bgt_mock *m);
/* Reads a whole file (NULL when missing); caller frees. */
char *bgt_read_file(const char *path);
/* Runs argv[0] (a path) with args, output discarded; returns its exit code or -1. */
int bgt_run_cmd(const char *const *argv, int timeout_s);
/* Same with extra environment entries ("K=V", NULL-terminated, may be NULL). */
int bgt_run_cmd_env(const char *const *argv, const char *const *env, int timeout_s);
/* Starts $BG_GATE_BIN with args in the background (output to files in dir); returns
 * its pid or -1. Collect it with bgt_wait. */
pid_t bgt_spawn_gate(const char *cwd, const char *const *args, const char *dir);
/* Waits up to timeout_s for pid; returns its exit code, -1 if killed/timed out. */
int bgt_wait(pid_t pid, int timeout_s);
/* A TCP port on 127.0.0.1 that was free a moment ago (bound, then closed). */
int bgt_free_port(void);

#endif
