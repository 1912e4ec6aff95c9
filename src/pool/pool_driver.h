/* pool_driver.h — implementer-only interface of the pool module: the driver vtable and
 * its registry, and the small libcurl-multi HTTP helpers the drivers, the health wait,
 * warm-up and the in-flight gauge share. Not part of the public API (see pool.h).
 */
#ifndef BGGATE_POOL_DRIVER_H
#define BGGATE_POOL_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "bggate/buf.h"
#include "bggate/pool.h"

/* --- drivers --- */

/* A pool driver: one file, one static const instance, one row in the registry. */
typedef struct bg_pool_driver {
    const char *name;
    /* Keys allowed in the pool's "deploy" object besides "driver" (NULL-terminated). */
    const char *const *deploy_keys;
    /* Whether the pool may have a "stop" section ({"argv", "timeout_s"}). */
    bool has_stop_argv;
    /* Fills the driver's fields of *out from the "deploy" object (NULL when the pool has
     * none); path is "pools.<name>.deploy". Required. */
    int (*parse)(bg_pool_config *out, const cJSON *deploy, const char *path, bg_error *err);
    /* Required. */
    int (*deploy)(const bg_pool_config *pool, const bg_release *rel, const char *bundle_dir,
                  bg_error *err);
    /* Required. */
    int (*stop)(const bg_pool_config *pool, const bg_release *rel, bg_error *err);
} bg_pool_driver;

extern const bg_pool_driver bg_pool_driver_command;
extern const bg_pool_driver bg_pool_driver_http;
extern const bg_pool_driver bg_pool_driver_static;

/* The registry: drivers in table order; NULL past the end. */
const bg_pool_driver *bg_pool_driver_at(size_t i);
/* The driver called `name`, or NULL. */
const bg_pool_driver *bg_pool_driver_find(const char *name);
/* Checks a driver table: every entry named, with parse/deploy/stop, names unique.
 * BG_EINVAL "pool driver \"x\" registered twice" otherwise. */
int bg_pool_drivers_check(const bg_pool_driver *const *table, size_t n, bg_error *err);

/* --- shared helpers --- */

/* Reads obj[key] as a non-empty array of strings into a new NULL-terminated vector
 * ("<path>.<key>: expected a non-empty array of strings, got a string"). Missing and not
 * required: *out stays NULL, 0. */
int bg_pool_parse_argv(char ***out, const cJSON *obj, const char *key, const char *path,
                       bool required, bg_error *err);
/* Frees a NULL-terminated vector (NULL-safe). */
void bg_pool_strv_free(char **v);

/* The server root of an OpenAI base URL: without trailing "/" and a trailing "/v1".
 * Caller frees; NULL on allocation failure. */
char *bg_pool_endpoint_root(const char *endpoint);

/* One HTTP transfer on a curl multi handle. */
typedef struct bg_pool_http {
    CURL *easy;
    CURLM *multi;               /* set while the transfer is attached */
    struct curl_slist *headers; /* owned */
    char *post;                 /* owned request body; NULL for GET */
    bg_buf body;                /* response body, at most BG_MAX_RESPONSE_BODY */
    char errbuf[CURL_ERROR_SIZE];
    long status;                /* HTTP status; 0 when no HTTP answer came */
    CURLcode result;
    bool done;
    size_t tag;                 /* free for the owner (an endpoint index …) */
} bg_pool_http;

void bg_pool_http_init(bg_pool_http *h);
/* Detaches and frees the transfer; the struct can be started again. NULL-safe. */
void bg_pool_http_dispose(bg_pool_http *h);
/* Starts GET (post NULL) or POST of a JSON body (copied) to url on multi, with an
 * optional bearer token (never logged) and a total timeout. */
int bg_pool_http_start(bg_pool_http *h, CURLM *multi, const char *url, const char *post,
                       const char *bearer, long timeout_ms, bg_error *err);
/* Waits for activity at most wait_ms (in slices of at most 50 ms) and marks finished
 * transfers done. BG_ECANCELED when a signal asked us to stop. */
int bg_pool_http_pump(CURLM *multi, long wait_ms, bg_error *err);
/* Runs started transfers until all are done or deadline_ms (bg_now_ms clock) passes;
 * unfinished ones stay !done. */
int bg_pool_http_run(CURLM *multi, bg_pool_http *reqs, size_t n, double deadline_ms,
                     bg_error *err);
/* What a finished transfer got, for messages: "answered 503", "connection refused",
 * "timed out", or curl's error text. */
void bg_pool_http_what(const bg_pool_http *h, char *out, size_t outsz);
/* True when the transfer got a 2xx answer. */
bool bg_pool_http_ok(const bg_pool_http *h);

#endif
