/* deployfix.h — the blue-green environment of the lifecycle e2e tests, in a temp dir: a
 * real git repository holding the release, two bg-mock pools restarted by
 * tests/fixtures/deploy/pool.sh (the way `docker compose up -d vllm-green` would), and a
 * real nginx in reload mode in front of them. Blue starts with "initial-model", a release
 * bg-gate does not know, and is live. Everything is stopped by pid in teardown (and by the
 * sweep registry when a failed assertion skips it).
 */
#ifndef BGGATE_TEST_DEPLOYFIX_H
#define BGGATE_TEST_DEPLOYFIX_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>

#include "gitfix.h"
#include "proc.h"

#define BGT_DFX_PROMOTION "\"verify_requests\": 3, \"drain_timeout_s\": 5, \"keep_warm_s\": 3600"

typedef struct bgt_dfx {
    char *tmp;
    char repo_dir[600], state_dir[600], reports[600], upstreams[600];
    int blue_port, green_port, nginx_port;
    bgt_repo repo;
    bool have_nginx;
    /* the members of the next config's `promotion` section (NULL: BGT_DFX_PROMOTION),
     * and members appended to its `health` section (", …"; NULL: none) */
    const char *promotion;
    const char *health_extra;
    /* the router's verification members after reload_argv (", \"endpoint\": …"; "" for
     * none); NULL: endpoint through nginx and upstream_header X-BG-Upstream */
    const char *router_verify;
    /* set before setup: the initial blue's answers table (JSON text; NULL: the good
     * table through pool.sh) and its gap between streamed tokens (bg-mock --token-ms) */
    const char *initial_table;
    int initial_token_ms;
} bgt_dfx;

extern bgt_dfx bgt_env;

/* Checked fixture: temp dir, repository, pools, nginx. */
void bgt_dfx_setup(void);
void bgt_dfx_teardown(void);
/* False (and a loud SKIPPED line naming the test) when nginx is not installed. */
bool bgt_dfx_can_run(const char *test);

/* tmp/rel; caller frees. */
char *bgt_dfx_path(const char *rel);
void bgt_dfx_write_file(const char *path, const char *text);
/* Writes bg-gate.json for a release serving `served` and commits it; out (41 bytes, may
 * be NULL) gets the commit id. */
void bgt_dfx_commit(const char *served, char *out);

/* Runs bg-gate in the repository with args (NULL-terminated); kills it after 120 s. */
void bgt_dfx_run(bgt_result *r, const char *const *args);
/* Prints what bg-gate said when its exit code is not `code`, then asserts it. */
void bgt_dfx_expect_exit(const bgt_result *r, int code);
/* `bg-gate status --json` (asserted to exit 0 and parse); caller deletes. */
cJSON *bgt_dfx_status(void);
/* status[path…]: a member several objects deep, e.g. ("state", "pools", "green", NULL). */
const cJSON *bgt_dfx_get(const cJSON *status, ...);
/* Waits (≤ 2 s) for 5 answers in a row through nginx from the pool on `port` serving
 * `model`, then asserts it. */
void bgt_dfx_expect_live(int port, const char *model);

/* Starts `bg-gate args…` in the background and waits (≤ 12 s) until the state file shows
 * `phase`; returns its pid (collect it with bgt_wait). */
pid_t bgt_dfx_spawn_until_phase(const char *const *args, const char *phase);
/* The pid of pool's bg-mock from its pid file; 0 when there is none. */
pid_t bgt_dfx_pool_pid(const char *pool);
/* True while pid runs (a zombie does not). */
bool bgt_dfx_running(pid_t pid);
/* Stops pool's bg-mock behind bg-gate's back (a crashed server) and waits until it is
 * gone. */
void bgt_dfx_kill_pool(const char *pool);

#endif
