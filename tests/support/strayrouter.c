/* strayrouter.c — the scripted router endpoint of strayrouter.h, on libmicrohttpd with a
 * thread per connection, so the stray answer can simply sleep. */
#include "strayrouter.h"

#include <check.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

struct bgt_stray_router {
    bgt_stray_script script;
    struct MHD_Daemon *daemon;
    int port;
    atomic_int requests;
    atomic_bool stopping;
};

#define SLEEP_STEP_MS 20

/* Sleeps ms, or less when the router stops. */
static void stray_sleep(bgt_stray_router *r, int ms)
{
    for (int slept = 0; slept < ms && !atomic_load(&r->stopping); slept += SLEEP_STEP_MS)
        usleep(SLEEP_STEP_MS * 1000);
}

static enum MHD_Result answer(bgt_stray_router *r, struct MHD_Connection *c)
{
    int n = atomic_fetch_add(&r->requests, 1) + 1;
    bool stray = n == r->script.stray_at;
    if (stray)
        stray_sleep(r, r->script.stray_delay_ms);
    const char *model = stray ? r->script.old_model : r->script.new_model;
    const char *upstream = stray ? r->script.old_upstream : r->script.new_upstream;
    char *body = NULL;
    if (asprintf(&body,
                 "{\"id\": \"stray-%d\", \"object\": \"chat.completion\", \"model\": \"%s\", "
                 "\"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", "
                 "\"content\": \"ok\"}, \"finish_reason\": \"stop\"}], \"usage\": "
                 "{\"prompt_tokens\": 3, \"completion_tokens\": 1, \"total_tokens\": 4}}",
                 n, model) < 0)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, r->script.header, upstream);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The body is read and ignored: every request is a chat completion here. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)url, (void)method, (void)version, (void)upload_data;
    static int first_call;
    if (*req_cls == NULL) {
        *req_cls = &first_call;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(cls, c);
}

bgt_stray_router *bgt_stray_router_start(const bgt_stray_script *script)
{
    bgt_stray_router *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    r->script = *script;
    /* a free port can be taken between probe and bind: a few tries */
    for (int attempt = 0; attempt < 5 && !r->daemon; attempt++) {
        r->port = bgt_free_port();
        struct sockaddr_in addr = {.sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)r->port),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        r->daemon = MHD_start_daemon(
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)r->port,
            NULL, NULL, on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_END);
    }
    ck_assert_msg(r->daemon != NULL, "the stray router cannot listen");
    return r;
}

int bgt_stray_router_port(const bgt_stray_router *r)
{
    return r->port;
}

int bgt_stray_router_requests(bgt_stray_router *r)
{
    return atomic_load(&r->requests);
}

void bgt_stray_router_stop(bgt_stray_router *r)
{
    if (!r)
        return;
    atomic_store(&r->stopping, true);
    MHD_stop_daemon(r->daemon);
    free(r);
}
