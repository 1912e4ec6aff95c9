/* test_pool.c — pools config parsing, the driver registry, and the command, http and
 * static drivers against real processes (/bin/sh) and a real HTTP server
 * (libmicrohttpd in this process, standing in for a user's deployment API).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "../support/check_main.h"
#include "../support/proc.h"
#include "../../src/pool/pool_driver.h"
#include "bggate/pool.h"
#include "bggate/util.h"

/* --- helpers --- */

static int parse_text(bg_pools *p, const char *json, bg_error *err)
{
    cJSON *root = cJSON_Parse(json);
    ck_assert_msg(root != NULL, "test JSON does not parse: %s", json);
    bg_error_clear(err);
    int rc = bg_pools_parse(p, root, err);
    cJSON_Delete(root);
    return rc;
}

/* Parsing json must fail with exactly `msg`. */
static void expect_parse_error(const char *json, const char *msg)
{
    bg_pools p;
    bg_error err;
    ck_assert_int_eq(parse_text(&p, json, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_ptr_null(p.pool[0].endpoints);
    bg_pools_dispose(&p);
}

#define BLUE_OK "\"blue\": {\"endpoints\": [\"http://10.0.0.11:8000/v1\"]}"
#define GREEN_OK "\"green\": {\"endpoints\": [\"http://10.0.0.21:8000/v1\"]}"

static void release_fill(bg_release *r)
{
    memset(r, 0, sizeof *r);
    bg_strlcpy(r->commit, "0123456789abcdef0123456789abcdef01234567", sizeof r->commit);
    memset(r->id, 'a', BG_RELEASE_ID_HEX);
    r->model_name = "meta-llama/Llama-3.1-8B-Instruct";
    r->served_name = "llama-8b";
}

/* --- parsing --- */

START_TEST(parse_accepts_command_pools_with_defaults)
{
    bg_pools p;
    bg_error err;
    const char *json =
        "{\"pools\": {"
        " \"blue\": {\"endpoints\": [\"http://10.0.0.11:8000/v1\", \"http://10.0.0.12:8000/v1\"],"
        "   \"deploy\": {\"argv\": [\"docker\", \"compose\", \"up\"], \"env\": {\"A\": \"1\"}},"
        "   \"stop\": {\"argv\": [\"docker\", \"compose\", \"stop\"], \"timeout_s\": 30}},"
        " " GREEN_OK "}}";
    ck_assert_int_eq(parse_text(&p, json, &err), 0);
    const bg_pool_config *b = &p.pool[BG_POOL_BLUE];
    ck_assert_int_eq(b->id, BG_POOL_BLUE);
    ck_assert_uint_eq(b->n_endpoints, 2);
    ck_assert_str_eq(b->endpoints[1], "http://10.0.0.12:8000/v1");
    ck_assert_str_eq(b->driver, "command");
    ck_assert_str_eq(b->deploy_argv[2], "up");
    ck_assert_ptr_null(b->deploy_argv[3]);
    ck_assert_str_eq(b->env[0], "A=1");
    ck_assert_ptr_null(b->env[1]);
    ck_assert_int_eq(b->deploy_timeout_s, 900);
    ck_assert_int_eq(b->stop_timeout_s, 30);
    ck_assert_str_eq(b->stop_argv[2], "stop");
    ck_assert_str_eq(p.pool[BG_POOL_GREEN].driver, "static");
    ck_assert_ptr_null(p.pool[BG_POOL_GREEN].stop_argv);
    ck_assert_str_eq(p.health.path, "/health");
    ck_assert_int_eq(p.health.timeout_s, 900);
    ck_assert_int_eq(p.health.interval_ms, 250);
    ck_assert_int_eq(p.health.max_interval_ms, 5000);
    ck_assert(p.health.stop_on_timeout);
    bg_pools_dispose(&p);
    bg_pools_dispose(&p); /* idempotent */
}
END_TEST

START_TEST(parse_reads_health_and_http_driver)
{
    bg_pools p;
    bg_error err;
    const char *json =
        "{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g:8000/v1\"],"
        " \"deploy\": {\"driver\": \"http\", \"url\": \"https://deployer/api\","
        " \"token_env\": \"DEPLOY_TOKEN\", \"status_url\": \"https://deployer/status\","
        " \"timeout_s\": 60}}},"
        " \"health\": {\"path\": \"/ready\", \"timeout_s\": 30, \"interval_ms\": 100,"
        " \"max_interval_ms\": 400, \"on_timeout\": \"keep\"}}";
    ck_assert_int_eq(parse_text(&p, json, &err), 0);
    const bg_pool_config *g = &p.pool[BG_POOL_GREEN];
    ck_assert_str_eq(g->driver, "http");
    ck_assert_str_eq(g->http_url, "https://deployer/api");
    ck_assert_str_eq(g->http_token_env, "DEPLOY_TOKEN");
    ck_assert_str_eq(g->http_status_url, "https://deployer/status");
    ck_assert_ptr_null(g->http_stop_url);
    ck_assert_int_eq(g->deploy_timeout_s, 60);
    ck_assert_str_eq(p.health.path, "/ready");
    ck_assert_int_eq(p.health.timeout_s, 30);
    ck_assert_int_eq(p.health.interval_ms, 100);
    ck_assert_int_eq(p.health.max_interval_ms, 400);
    ck_assert(!p.health.stop_on_timeout);
    bg_pools_dispose(&p);
}
END_TEST

START_TEST(parse_errors_name_the_json_path)
{
    expect_parse_error("{}",
                       "pools: missing (an object with \"blue\" and \"green\" is required)");
    expect_parse_error("{\"pools\": {" BLUE_OK "}}",
                       "pools.green: missing (both \"blue\" and \"green\" pools are required)");
    expect_parse_error("{\"pools\": {" BLUE_OK ", " GREEN_OK ", \"gren\": {}}}",
                       "pools.gren: unknown field (did you mean \"green\"?)");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"argv\": \"docker compose up\"}}}}",
                       "pools.green.deploy.argv: expected a non-empty array of strings, got a "
                       "string");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"argv\": []}}}}",
                       "pools.green.deploy.argv: expected a non-empty array of strings, got an "
                       "empty array");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {}}}}",
                       "pools.green.deploy.argv: missing (a non-empty array of strings is "
                       "required)");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": "
                       "[\"http://g/v1\", \"x\"]}}}",
                       "pools.green.endpoints[1]: \"x\" is not an http:// or https:// URL");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": []}}}",
                       "pools.green.endpoints: expected a non-empty array of URLs, got an empty "
                       "array");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": "
                       "[\"http://g/v1\", \"http://10.0.0.11:8000/v1/\"]}}}",
                       "pools.green.endpoints[1]: \"http://10.0.0.11:8000/v1/\" is also an "
                       "endpoint of pool blue");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"driver\": \"k8s\"}}}}",
                       "pools.green.deploy.driver: unknown driver \"k8s\" (known: command, http, "
                       "static)");
}
END_TEST

START_TEST(parse_rejects_bad_driver_settings)
{
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"argv\": [\"x\"], \"env\": {\"N\": 3}}}}}",
                       "pools.green.deploy.env.N: expected a string, got a number");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"argv\": [\"x\"], \"env\": {\"BG_MODEL\": \"m\"}}}}}",
                       "pools.green.deploy.env.BG_MODEL: reserved (bg-gate sets it)");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"argv\": [\"x\"], \"timeout_s\": 0}}}}",
                       "pools.green.deploy.timeout_s: expected an integer from 1 to 604800, got "
                       "another number");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"driver\": \"http\"}}}}",
                       "pools.green.deploy.url: missing (a string is required)");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"driver\": \"http\", \"url\": \"http://d\","
                       " \"argv\": [\"x\"]}}}}",
                       "pools.green.deploy.argv: unknown field");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"deploy\": {\"argv\": [\"x\"], \"timeout\": 5}}}}",
                       "pools.green.deploy.timeout: unknown field (did you mean \"timeout_s\"?)");
    expect_parse_error("{\"pools\": {" BLUE_OK ", \"green\": {\"endpoints\": [\"http://g/v1\"],"
                       " \"stop\": {\"argv\": [\"x\"]}}}}",
                       "pools.green.stop: the static driver runs no stop command (only "
                       "\"command\" does)");
    expect_parse_error("{\"pools\": {" BLUE_OK ", " GREEN_OK "}, \"health\": {\"on_timeout\": "
                       "\"wait\"}}",
                       "health.on_timeout: expected \"stop\" or \"keep\", got \"wait\"");
    expect_parse_error("{\"pools\": {" BLUE_OK ", " GREEN_OK "}, \"health\": {\"interval_ms\": "
                       "500, \"max_interval_ms\": 100}}",
                       "health.max_interval_ms: 100 is less than interval_ms (500)");
    expect_parse_error("{\"pools\": {" BLUE_OK ", " GREEN_OK "}, \"health\": {\"path\": "
                       "\"health\"}}",
                       "health.path: must start with \"/\", got \"health\"");
}
END_TEST

START_TEST(pool_names_round_trip)
{
    bg_pool_id id = BG_POOL_BLUE;
    ck_assert_str_eq(bg_pool_name(BG_POOL_GREEN), "green");
    ck_assert_int_eq(bg_pool_from_name(&id, "green"), 0);
    ck_assert_int_eq(id, BG_POOL_GREEN);
    ck_assert_int_eq(bg_pool_from_name(&id, "blue"), 0);
    ck_assert_int_eq(id, BG_POOL_BLUE);
    ck_assert_int_eq(bg_pool_from_name(&id, "purple"), BG_EINVAL);
    ck_assert_int_eq(bg_pool_other(BG_POOL_BLUE), BG_POOL_GREEN);
}
END_TEST

START_TEST(endpoint_root_drops_trailing_v1)
{
    char *a = bg_pool_endpoint_root("http://h:8000/v1");
    char *b = bg_pool_endpoint_root("http://h:8000/v1/");
    char *c = bg_pool_endpoint_root("http://h:8000/api/v1");
    char *d = bg_pool_endpoint_join("http://h:8000/v1/", "/models");
    ck_assert_str_eq(a, "http://h:8000");
    ck_assert_str_eq(b, "http://h:8000");
    ck_assert_str_eq(c, "http://h:8000/api");
    ck_assert_str_eq(d, "http://h:8000/v1/models");
    free(a);
    free(b);
    free(c);
    free(d);
}
END_TEST

/* --- registry --- */

START_TEST(registry_names_are_unique_and_complete)
{
    const bg_pool_driver *table[16];
    size_t n = 0;
    bg_error err;
    while (n < 16 && (table[n] = bg_pool_driver_at(n)) != NULL)
        n++;
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(bg_pool_drivers_check(table, n, &err), 0);
    ck_assert_ptr_eq(bg_pool_driver_find("http"), &bg_pool_driver_http);
    ck_assert_ptr_null(bg_pool_driver_find("nope"));
}
END_TEST

START_TEST(registry_check_rejects_duplicates)
{
    const bg_pool_driver *table[] = {&bg_pool_driver_command, &bg_pool_driver_static,
                                     &bg_pool_driver_command};
    bg_error err;
    ck_assert_int_eq(bg_pool_drivers_check(table, 3, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "pool driver \"command\" registered twice");
}
END_TEST

/* --- command driver --- */

/* A green command pool running /bin/sh -c script. */
static void command_pool(bg_pool_config *p, const char *script, char **env, long timeout_s)
{
    static char *argv[4];
    memset(p, 0, sizeof *p);
    argv[0] = "/bin/sh";
    argv[1] = "-c";
    argv[2] = (char *)script;
    argv[3] = NULL;
    p->id = BG_POOL_GREEN;
    p->driver = "command";
    p->deploy_argv = argv;
    p->env = env;
    p->deploy_timeout_s = timeout_s;
    p->stop_timeout_s = timeout_s;
}

START_TEST(command_deploy_passes_release_as_environment)
{
    char *dir = bgt_tmpdir();
    char *out_env = bg_asprintf("OUT=%s/env.txt", dir);
    char *env[] = {out_env, "EXTRA=from config", NULL};
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    command_pool(&p, "env > \"$OUT\"", env, 10);
    release_fill(&rel);
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/srv/bundles/abc", &err), 0);
    char *path = bg_asprintf("%s/env.txt", dir);
    char *text = bgt_read_file(path);
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "\nBG_POOL=green\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nBG_RELEASE_ID=aaaaaaaaaaaa"));
    ck_assert_ptr_nonnull(strstr(text, "\nBG_RELEASE_DIR=/srv/bundles/abc\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nBG_MODEL=meta-llama/Llama-3.1-8B-Instruct\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nBG_MODEL_REVISION=\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nBG_SERVED_MODEL=llama-8b\n"));
    ck_assert_ptr_nonnull(
        strstr(text, "\nBG_COMMIT=0123456789abcdef0123456789abcdef01234567\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nEXTRA=from config\n"));
    free(text);
    free(path);
    free(out_env);
    bgt_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(command_deploy_nonzero_exit_is_an_error)
{
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    command_pool(&p, "echo pulling image; echo 'no space left' >&2; exit 3", NULL, 10);
    release_fill(&rel);
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/b", &err), BG_EIO);
    ck_assert_str_eq(err.msg, "pools.green: deploy command exited 3: no space left");
}
END_TEST

START_TEST(command_deploy_is_killed_at_its_deadline)
{
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    command_pool(&p, "sleep 30", NULL, 1);
    release_fill(&rel);
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/b", &err), BG_ETIMEOUT);
    double took = bg_now_ms() - t0;
    ck_assert_msg(took >= 900 && took < 5000, "took %.0f ms", took);
    ck_assert_msg(bg_str_starts_with(err.msg, "pools.green: deploy command: "), "%s", err.msg);
}
END_TEST

START_TEST(command_deploy_of_missing_program_is_an_error)
{
    static char *argv[] = {"/nonexistent/deployer", NULL};
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    command_pool(&p, "", NULL, 5);
    p.deploy_argv = argv;
    release_fill(&rel);
    ck_assert_int_lt(bg_pool_deploy(&p, &rel, "/b", &err), 0);
    ck_assert_msg(bg_str_starts_with(err.msg, "pools.green: deploy command: "), "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/deployer"));
}
END_TEST

START_TEST(command_stop_runs_stop_argv_or_nothing)
{
    char *dir = bgt_tmpdir();
    char *script = bg_asprintf("echo \"$BG_POOL $BG_RELEASE_ID\" > %s/stopped", dir);
    static char *stop_argv[4] = {"/bin/sh", "-c", NULL, NULL};
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    command_pool(&p, "exit 1", NULL, 5);
    release_fill(&rel);
    ck_assert_int_eq(bg_pool_stop(&p, &rel, &err), 0); /* no stop argv: nothing to do */
    stop_argv[2] = script;
    p.stop_argv = stop_argv;
    ck_assert_int_eq(bg_pool_stop(&p, NULL, &err), 0); /* release unknown: empty values */
    char *path = bg_asprintf("%s/stopped", dir);
    char *text = bgt_read_file(path);
    ck_assert_str_eq(text, "green \n");
    free(text);
    stop_argv[2] = "exit 4";
    ck_assert_int_eq(bg_pool_stop(&p, &rel, &err), BG_EIO);
    ck_assert_str_eq(err.msg, "pools.green: stop command exited 4");
    free(path);
    free(script);
    bgt_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(static_driver_does_nothing)
{
    bg_pool_config p = {.id = BG_POOL_BLUE, .driver = "static"};
    bg_release rel;
    bg_error err;
    release_fill(&rel);
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/b", &err), 0);
    ck_assert_int_eq(bg_pool_stop(&p, &rel, &err), 0);
}
END_TEST

/* --- http driver against a deployment API in this process --- */

typedef struct api {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t lock;
    int deploy_status;          /* status of POST /deploy */
    const char *const *states;  /* bodies GET /status answers, in turn (last repeats) */
    int n_status;               /* GET /status seen */
    int n_stop;
    char body[8192];            /* last POST body */
    char auth[256];             /* its Authorization header */
} api;

typedef struct upload {
    char data[8192];
    size_t len;
} upload;

static enum MHD_Result api_reply(struct MHD_Connection *c, int status, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result api_post(api *a, struct MHD_Connection *c, const char *url, upload *u)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&a->lock);
    bg_strlcpy(a->body, u->data, sizeof a->body);
    bg_strlcpy(a->auth, auth ? auth : "", sizeof a->auth);
    int status = a->deploy_status;
    if (strcmp(url, "/stop") == 0) {
        a->n_stop++;
        status = 200;
    }
    pthread_mutex_unlock(&a->lock);
    return api_reply(c, status, status == 200 ? "{\"accepted\":true}" : "{\"error\":\"quota\"}");
}

static enum MHD_Result api_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *data, size_t *data_size, void **con_cls)
{
    api *a = cls;
    (void)version;
    if (strcmp(method, "GET") == 0) {
        pthread_mutex_lock(&a->lock);
        int i = a->n_status++, k = 0;
        while (k < i && a->states[k + 1])
            k++;
        const char *body = a->states[k];
        pthread_mutex_unlock(&a->lock);
        return api_reply(c, 200, body);
    }
    upload *u = *con_cls;
    if (!u) {
        *con_cls = calloc(1, sizeof *u);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        size_t n = *data_size < sizeof u->data - 1 - u->len ? *data_size
                                                            : sizeof u->data - 1 - u->len;
        memcpy(u->data + u->len, data, n);
        u->len += n;
        *data_size = 0;
        return MHD_YES;
    }
    return api_post(a, c, url, u);
}

static void api_done(void *cls, struct MHD_Connection *c, void **con_cls,
                     enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void api_start(api *a, int deploy_status, const char *const *states)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    a->deploy_status = deploy_status;
    a->states = states;
    a->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                            api_handler, a, MHD_OPTION_NOTIFY_COMPLETED, api_done, NULL,
                            MHD_OPTION_END);
    ck_assert_ptr_nonnull(a->d);
    a->port = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static void api_stop(api *a)
{
    MHD_stop_daemon(a->d);
    pthread_mutex_destroy(&a->lock);
}

static char url_buf[4][128];

static void http_pool(bg_pool_config *p, const api *a, bool with_status, long timeout_s)
{
    memset(p, 0, sizeof *p);
    p->id = BG_POOL_GREEN;
    p->driver = "http";
    snprintf(url_buf[0], sizeof url_buf[0], "http://127.0.0.1:%d/deploy", a->port);
    snprintf(url_buf[1], sizeof url_buf[1], "http://127.0.0.1:%d/status", a->port);
    snprintf(url_buf[2], sizeof url_buf[2], "http://127.0.0.1:%d/stop", a->port);
    p->http_url = url_buf[0];
    p->http_status_url = with_status ? url_buf[1] : NULL;
    p->http_token_env = "BG_TEST_DEPLOY_TOKEN";
    p->deploy_timeout_s = timeout_s;
    p->stop_timeout_s = timeout_s;
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    setenv("BG_TEST_DEPLOY_TOKEN", "tok-secret-1", 1);
}

static void teardown(void)
{
    curl_global_cleanup();
}

START_TEST(http_deploy_posts_release_and_waits_for_ready)
{
    static const char *const states[] = {"{\"state\":\"pulling\"}", "{\"state\":\"loading\"}",
                                         "{\"state\":\"ready\"}", NULL};
    api a;
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    api_start(&a, 202, states);
    http_pool(&p, &a, true, 20);
    release_fill(&rel);
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/srv/b/aaa", &err), 0);
    ck_assert_str_eq(a.auth, "Bearer tok-secret-1");
    ck_assert_int_eq(a.n_status, 3);
    cJSON *j = cJSON_Parse(a.body);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "pool")->valuestring, "green");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "bundle_dir")->valuestring, "/srv/b/aaa");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "commit")->valuestring, rel.commit);
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "model"), "served_name")->valuestring,
        "llama-8b");
    cJSON_Delete(j);
    api_stop(&a);
}
END_TEST

START_TEST(http_deploy_reports_failed_state_and_refusals)
{
    static const char *const failed[] = {"{\"state\":\"failed\",\"message\":\"OOM on gpu 3\"}",
                                         NULL};
    api a;
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    release_fill(&rel);
    api_start(&a, 200, failed);
    http_pool(&p, &a, true, 20);
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/b", &err), BG_EIO);
    ck_assert_str_eq(err.msg, "pools.green: deploy failed: OOM on gpu 3");
    api_stop(&a);

    api_start(&a, 500, failed);
    http_pool(&p, &a, true, 20);
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/b", &err), BG_EIO);
    ck_assert_str_eq(err.msg, "pools.green: deploy endpoint answered 500: {\"error\":\"quota\"}");
    ck_assert_int_eq(a.n_status, 0);
    ck_assert_ptr_null(strstr(err.msg, "tok-secret"));

    unsetenv("BG_TEST_DEPLOY_TOKEN");
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/b", &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "pools.green.deploy.token_env: $BG_TEST_DEPLOY_TOKEN is not set");
    api_stop(&a);

    p.http_token_env = NULL;
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/b", &err), BG_ENET);
    ck_assert_msg(bg_str_ends_with(err.msg, "deploy endpoint: connection refused"), "%s",
                  err.msg);
}
END_TEST

START_TEST(http_deploy_times_out_while_never_ready)
{
    static const char *const loading[] = {"{\"state\":\"loading\"}", NULL};
    api a;
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    release_fill(&rel);
    api_start(&a, 200, loading);
    http_pool(&p, &a, true, 1);
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_pool_deploy(&p, &rel, "/b", &err), BG_ETIMEOUT);
    ck_assert_msg(bg_now_ms() - t0 < 2500, "took %.0f ms", bg_now_ms() - t0);
    ck_assert_str_eq(err.msg, "pools.green: deploy not ready after 1 s: status_url last "
                              "answered state \"loading\"");
    api_stop(&a);
}
END_TEST

START_TEST(http_stop_posts_stop_url_only_when_configured)
{
    static const char *const ready[] = {"{\"state\":\"ready\"}", NULL};
    api a;
    bg_pool_config p;
    bg_release rel;
    bg_error err;
    release_fill(&rel);
    api_start(&a, 200, ready);
    http_pool(&p, &a, false, 5);
    ck_assert_int_eq(bg_pool_stop(&p, &rel, &err), 0);
    ck_assert_int_eq(a.n_stop, 0);
    p.http_stop_url = url_buf[2];
    ck_assert_int_eq(bg_pool_stop(&p, &rel, &err), 0);
    ck_assert_int_eq(a.n_stop, 1);
    ck_assert_ptr_nonnull(strstr(a.body, "\"pool\":\"green\""));
    ck_assert_str_eq(a.auth, "Bearer tok-secret-1");
    api_stop(&a);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *parse = tcase_create("parse");
    tcase_add_test(parse, parse_accepts_command_pools_with_defaults);
    tcase_add_test(parse, parse_reads_health_and_http_driver);
    tcase_add_test(parse, parse_errors_name_the_json_path);
    tcase_add_test(parse, parse_rejects_bad_driver_settings);
    tcase_add_test(parse, pool_names_round_trip);
    tcase_add_test(parse, endpoint_root_drops_trailing_v1);
    tcase_add_test(parse, registry_names_are_unique_and_complete);
    tcase_add_test(parse, registry_check_rejects_duplicates);
    suite_add_tcase(s, parse);

    TCase *drv = tcase_create("drivers");
    tcase_add_checked_fixture(drv, setup, teardown);
    tcase_set_timeout(drv, 30);
    tcase_add_test(drv, command_deploy_passes_release_as_environment);
    tcase_add_test(drv, command_deploy_nonzero_exit_is_an_error);
    tcase_add_test(drv, command_deploy_is_killed_at_its_deadline);
    tcase_add_test(drv, command_deploy_of_missing_program_is_an_error);
    tcase_add_test(drv, command_stop_runs_stop_argv_or_nothing);
    tcase_add_test(drv, static_driver_does_nothing);
    tcase_add_test(drv, http_deploy_posts_release_and_waits_for_ready);
    tcase_add_test(drv, http_deploy_reports_failed_state_and_refusals);
    tcase_add_test(drv, http_deploy_times_out_while_never_ready);
    tcase_add_test(drv, http_stop_posts_stop_url_only_when_configured);
    suite_add_tcase(s, drv);
    return s;
}

BG_CHECK_MAIN()
