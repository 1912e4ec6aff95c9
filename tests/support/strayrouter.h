/* strayrouter.h — a scripted router endpoint for verification tests: it answers every
 * chat completion as the new pool would, except one request, which it answers late as the
 * old pool (what an old nginx worker that still accepts right after a reload does when
 * the old model is slow). The flip itself still goes through the real router; only
 * router.endpoint points here, so the test decides exactly which answer strays.
 */
#ifndef BGGATE_TEST_STRAYROUTER_H
#define BGGATE_TEST_STRAYROUTER_H

typedef struct bgt_stray_router bgt_stray_router;

typedef struct bgt_stray_script {
    const char *new_model, *new_upstream; /* served name and "host:port" of the new pool */
    const char *old_model, *old_upstream; /* the same for the old pool */
    const char *header;                   /* the upstream header, e.g. "X-BG-Upstream" */
    int stray_at;                         /* which request strays (1-based) */
    int stray_delay_ms;                   /* how long its answer takes */
} bgt_stray_script;

/* Listens on 127.0.0.1 (a free port, see bgt_stray_router_port); asserts on failure. */
bgt_stray_router *bgt_stray_router_start(const bgt_stray_script *script);
int bgt_stray_router_port(const bgt_stray_router *r);
/* Chat completions seen so far. */
int bgt_stray_router_requests(bgt_stray_router *r);
/* Stops it (a stray answer still waiting is cut short) and frees it. */
void bgt_stray_router_stop(bgt_stray_router *r);

#endif
