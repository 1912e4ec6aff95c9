/* router_driver.h — implementer-only interface of the router module: the driver vtable,
 * its registry, and the helpers the drivers share (argv and weight parsing, weight
 * checks). Not part of the public API (see router.h).
 */
#ifndef BGGATE_ROUTER_DRIVER_H
#define BGGATE_ROUTER_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "bggate/router.h"

/* Default deadline for a router command (nginx -t, reload, set_argv, get_argv). */
#define BG_ROUTER_DEFAULT_TIMEOUT_S 30
#define BG_ROUTER_MAX_TIMEOUT_S 3600
/* Largest weights file / get_argv output we read back. */
#define BG_ROUTER_MAX_STATE_BYTES (64u << 10)

/* A router driver: one file, one static const instance, one row in the registry. The
 * operations up to set are required. The driver's state is opaque to router.c. */
typedef struct bg_router_driver {
    const char *name;
    /* Keys of the `router` object this driver accepts besides the common "driver",
     * "endpoint" and "upstream_header" (NULL-terminated). */
    const char *const *keys;
    /* Validates the `router` object (JSON path "router.<key>") and builds the state. */
    int (*create)(void **state, const cJSON *cfg, const bg_pools *pools, bg_error *err);
    void (*destroy)(void *state); /* NULL-safe */
    int (*get)(void *state, bg_weights *out, bg_error *err);
    /* Called with weights already checked by bg_router_weights_check. */
    int (*set)(void *state, const bg_weights *w, bg_error *err);
    /* Optional (NULL: BG_ENOTSUP): see router.h. */
    int (*check)(void *state, bg_router_drift *out, bg_error *err);
    int (*repair)(void *state, bg_router_drift *out, bg_error *err);
    int (*inflight)(void *state, bg_pool_id pool, double *out, bg_error *err);
    int (*counters)(void *state, bg_pool_id pool, bg_router_counters *out, bg_error *err);
} bg_router_driver;

extern const bg_router_driver bg_router_driver_nginx;
extern const bg_router_driver bg_router_driver_file;
extern const bg_router_driver bg_router_driver_command;
extern const bg_router_driver bg_router_driver_haproxy;

/* The registry: drivers in table order; NULL past the end. */
const bg_router_driver *bg_router_driver_at(size_t i);
/* The driver called `name`, or NULL. */
const bg_router_driver *bg_router_driver_find(const char *name);
/* Checks a driver table: every entry named, with all operations, names unique.
 * BG_EINVAL "router driver \"x\" registered twice" otherwise. */
int bg_router_drivers_check(const bg_router_driver *const *table, size_t n, bg_error *err);

/* 0..100 each, sum 100: "weights must add up to 100, got blue 50 + green 60 = 110". */
int bg_router_weights_check(const bg_weights *w, bg_error *err);
/* Reads {"blue": N, "green": M} (integers, checked as above). `source` names the origin
 * in messages ("/run/w.json: …"). */
int bg_router_weights_from_json(bg_weights *out, const cJSON *obj, const char *source,
                                bg_error *err);

/* Reads cfg[key] ("router.<key>") as a non-empty array of strings into a new
 * NULL-terminated vector; when missing, copies `dflt` (NULL-terminated, may be NULL:
 * then the key is required). */
int bg_router_parse_argv(char ***out, const cJSON *cfg, const char *key,
                         const char *const *dflt, bg_error *err);
void bg_router_strv_free(char **v); /* NULL-safe */
/* Reads router.timeout_s (seconds, default BG_ROUTER_DEFAULT_TIMEOUT_S) as milliseconds. */
int bg_router_parse_timeout(long *out_ms, const cJSON *cfg, bg_error *err);

/* Writes a command's captured output as one trimmed line (at most ~300 chars) into out,
 * or "no output". */
void bg_router_output_line(char *out, size_t outsz, const char *text, size_t len);

#endif
