/* nginxfix.h — a real nginx (Debian's /usr/sbin/nginx) for tests, in a temp dir: the
 * minimal main config, the documented snippets pointed at the temp dir, started
 * daemonised with its pid in dir/nginx.pid and stopped by that pid, its only worker; the
 * two bg-mock pools behind it and a router built from JSON; and one HTTP request through
 * it that says which upstream (X-BG-Upstream) and model answered.
 */
#ifndef BGGATE_TEST_NGINXFIX_H
#define BGGATE_TEST_NGINXFIX_H

#include <stddef.h>
#include <sys/types.h>

#include "bggate/router.h"
#include "proc.h"

#define BGT_NGINX_BIN "/usr/sbin/nginx"

/* The main config: `modules` (load_module lines, "" for none), worker_processes,
 * pid dir/nginx.pid, error_log dir/error.log notice, worker_connections, then in http {}
 * the access_log line (`access_log` is its argument: "off" or a path), the temp paths in
 * dir, and `http` (the rest of the block, indented). Caller frees. */
char *bgt_nginx_conf(const char *dir, const char *modules, int workers, int connections,
                     const char *access_log, const char *http);
/* A documented snippet ($BG_SOURCE_DIR/doc_rel) with /etc/nginx/bg-gate/ pointed at dir/
 * and 127.0.0.1:8080 at 127.0.0.1:port; NULL when missing. Caller frees. */
char *bgt_nginx_snippet(const char *doc_rel, const char *dir, int port);
/* text with every `from` replaced by `to`; caller frees. */
char *bgt_replace_all(const char *text, const char *from, const char *to);

/* Runs nginx -c conf_path -p dir -e dir/error.log (it daemonises) and waits up to
 * timeout_s for dir/nginx.pid. Returns 0, or -1 when nginx failed or wrote no pid. */
int bgt_nginx_start(const char *dir, const char *conf_path, int timeout_s);
/* The master's pid from dir/nginx.pid; 0 when there is none. */
pid_t bgt_nginx_pid(const char *dir);
/* SIGTERM to the master, wait up to 5 s, then SIGKILL. Nothing when no pid file. */
void bgt_nginx_stop(const char *dir);
/* The only live worker of the master in dir (from /proc); 0 when none or several. */
pid_t bgt_nginx_worker(const char *dir);

/* bg-mock "blue" (--model blue-model) then "green" (--model green-model) in dir, each
 * with the extra args after the model (NULL-terminated, may be NULL). 0 or -1. */
int bgt_mock_pair_start(bgt_mock *blue, bgt_mock *green, const char *dir,
                        const char *const *extra);
/* Why a router test cannot run here ("/usr/sbin/haproxy is not installed (apt-get install
 * haproxy)"), or NULL: `tool` (NULL: none) must be executable and BG_MOCK_BIN set. */
const char *bgt_router_test_missing(const char *tool, const char *package);
/* The blue/green pair of a router test in dir (made readable for an nginx worker that runs
 * as another user): mocks reset then started with `extra` args, their "127.0.0.1:port"
 * addresses written to blue_addr/green_addr (64 bytes each). NULL, or what broke. */
const char *bgt_pair_setup(const char *dir, bgt_mock *blue, bgt_mock *green,
                           const char *const *extra, char *blue_addr, char *green_addr);
/* Stops nginx in dir and both mocks, by pid, then removes dir (the caller frees it). */
void bgt_nginx_pair_stop(const char *dir, bgt_mock *blue, bgt_mock *green);
/* A router from {"pools": …, "router": …}; BG_EINVAL when json does not parse. */
int bgt_router_from_json(bg_router **out, const char *json, bg_error *err);

/* Prints the end (last 4 KiB) of a log to stderr, under a label. */
void bgt_print_tail(const char *label, const char *path);

typedef struct bgt_answer {
    long status;        /* 0 when no HTTP answer */
    char upstream[128]; /* the X-BG-Upstream header */
    char model[128];    /* "model" of a JSON answer, else data[0].id (GET /v1/models) */
    char body[8192];    /* the start of the body, NUL-terminated */
    size_t len;
} bgt_answer;

/* One request on a fresh connection: GET url when post_json is NULL, else POST it as
 * application/json. Fills *a; returns the CURLcode. */
int bgt_http_ask(bgt_answer *a, const char *url, const char *post_json, long timeout_ms);
/* The same with one extra request header line ("X-Session-Id: s1"; NULL: none). */
int bgt_http_ask_with(bgt_answer *a, const char *url, const char *post_json,
                      const char *header, long timeout_ms);
/* Polls http://127.0.0.1:port/health every 20 ms until it answers 200 (a server's cold
 * start); false when it did not within about 4 s. */
bool bgt_wait_healthy(int port);

#endif
