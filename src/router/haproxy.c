/* haproxy.c — the "haproxy" router driver: moves traffic by changing server weights over
 * HAProxy's runtime API (the stats socket, `level admin`), with no reload. A flip is in
 * force as soon as HAProxy has answered.
 *
 * Each pool is a list of HAProxy servers of one backend (router.servers). set() reads
 * `show servers state <backend>`, plans the commands (bg_router_haproxy_plan: the raised
 * pool first, so the backend never has zero weight; a pool at 0 % is put in `drain`, never
 * `maint`, and no session is ever shut down), and sends them one command per connection.
 * HAProxy answers a successful `set server` with an empty line; any other reply is an
 * error, reported verbatim, and the servers already changed are set back. Then the
 * weights are written to router.state_file (atomically): a reload of HAProxy discards
 * runtime changes, and the file is how bg_router_haproxy_check() sees that and
 * bg_router_haproxy_repair() puts them back. get() reads the runtime weights (and warns
 * when they differ from the state file). bg_router_haproxy_inflight() sums the sessions
 * on a pool's servers from `show stat`.
 *
 * Not handled here: HAProxy's configuration (docs/haproxy.cfg), starting or reloading
 * HAProxy, several HAProxy processes (each has its own runtime API: use one router each).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bggate/json.h"
#include "bggate/log.h"
#include "bggate/util.h"
#include "haproxy_internal.h"

#define HAPROXY_DEFAULT_API "unix:/run/haproxy/admin.sock"
#define HAPROXY_DEFAULT_BACKEND "bg_gate_llm"

static const char *const haproxy_keys[] = {"runtime_api", "backend", "servers", "state_file",
                                           "timeout_s", NULL};

static void haproxy_destroy(void *state)
{
    haproxy_router *h = state;
    if (!h)
        return;
    free(h->api);
    free(h->unix_path);
    free(h->host);
    free(h->port);
    free(h->backend);
    for (int p = 0; p < BG_POOL_COUNT; p++)
        bg_router_strv_free(h->servers[p]);
    free(h->state_file);
    free(h);
}

/* --- configuration --- */

/* HAProxy's own rule for proxy and server names; it also keeps names from carrying a
 * second command (';') or argument (' ') into the runtime API. */
static bool is_haproxy_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
              ('0' <= *s && *s <= '9') || *s == '_' || *s == '-' || *s == '.' || *s == ':'))
            return false;
    return true;
}

/* "tcp:HOST:PORT" or "tcp:[V6]:PORT" */
static int parse_tcp(haproxy_router *h, const char *spec, bg_error *err)
{
    const char *colon = strrchr(spec, ':');
    long port = 0;
    if (!colon || colon == spec || bg_parse_long(&port, colon + 1, 1, 65535) < 0)
        return bg_error_set(err, BG_EINVAL, "router.runtime_api: \"tcp:%s\" needs HOST:PORT "
                            "(port 1-65535)", spec);
    size_t hl = (size_t)(colon - spec);
    if (spec[0] == '[' && spec[hl - 1] == ']' && hl > 2)
        h->host = bg_strndup(spec + 1, hl - 2);
    else
        h->host = bg_strndup(spec, hl);
    h->port = bg_asprintf("%ld", port);
    return h->host && h->port ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int parse_api(haproxy_router *h, const cJSON *cfg, bg_error *err)
{
    const char *api = HAPROXY_DEFAULT_API;
    struct sockaddr_un sun;
    int rc = bg_json_get_string(&api, cfg, "runtime_api", "router", false, err);
    if (rc < 0)
        return rc;
    if (!(h->api = bg_strdup(api)))
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (bg_str_starts_with(api, "tcp:"))
        return parse_tcp(h, api + 4, err);
    if (!bg_str_starts_with(api, "unix:") || !api[5])
        return bg_error_set(err, BG_EINVAL, "router.runtime_api: \"%s\" is neither unix:PATH "
                            "nor tcp:HOST:PORT", api);
    if (strlen(api + 5) >= sizeof sun.sun_path)
        return bg_error_set(err, BG_EINVAL, "router.runtime_api: socket path longer than %zu "
                            "bytes", sizeof sun.sun_path - 1);
    h->unix_path = bg_strdup(api + 5);
    return h->unix_path ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

/* router.servers.<pool>: an array of server names, default [<pool name>]. */
static int parse_pool_servers(haproxy_router *h, const cJSON *servers, int p, bg_error *err)
{
    const char *pname = bg_pool_name((bg_pool_id)p);
    const cJSON *a = servers ? cJSON_GetObjectItemCaseSensitive(servers, pname) : NULL, *it;
    const char *names[BG_HAPROXY_MAX_SERVERS + 1] = {pname, NULL};
    size_t n = a ? 0 : 1;

    if (a && (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0))
        return bg_error_set(err, BG_EINVAL, "router.servers.%s: expected a non-empty array of "
                            "HAProxy server names, got %s", pname,
                            cJSON_IsArray(a) ? "an empty array" : bg_json_type_name(a));
    cJSON_ArrayForEach(it, a)
    {
        if (n == BG_HAPROXY_MAX_SERVERS)
            return bg_error_set(err, BG_EINVAL, "router.servers.%s: more than %d servers", pname,
                                BG_HAPROXY_MAX_SERVERS);
        if (!cJSON_IsString(it) || !is_haproxy_name(it->valuestring))
            return bg_error_set(err, BG_EINVAL, "router.servers.%s[%zu]: expected an HAProxy "
                                "server name (letters, digits, '_', '-', '.', ':')", pname, n);
        names[n++] = it->valuestring;
    }
    names[n] = NULL;
    char **v = calloc(n + 1, sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        if (!(v[i] = bg_strdup(names[i]))) {
            bg_router_strv_free(v);
            v = NULL;
        }
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    h->servers[p] = v;
    h->n_servers[p] = n;
    return 0;
}

/* Each endpoint of a pool is one HAProxy server: the counts must match. */
static int check_against_pools(const haproxy_router *h, bool named, const bg_pools *pools,
                               int p, bg_error *err)
{
    const char *pname = bg_pool_name((bg_pool_id)p);
    size_t k = pools->pool[p].n_endpoints;
    if (h->n_servers[p] == k)
        return 0;
    if (!named)
        return bg_error_set(err, BG_EINVAL, "router.servers: missing, and the default "
                            "{\"%s\": [\"%s\"]} names 1 server while pools.%s has %zu endpoints "
                            "(name one HAProxy server per endpoint)", pname, pname, pname, k);
    return bg_error_set(err, BG_EINVAL, "router.servers.%s: %zu HAProxy server%s for %zu "
                        "endpoint%s in pools.%s (name one server per endpoint)", pname,
                        h->n_servers[p], h->n_servers[p] == 1 ? "" : "s", k, k == 1 ? "" : "s",
                        pname);
}

static int parse_servers(haproxy_router *h, const cJSON *cfg, const bg_pools *pools,
                         bg_error *err)
{
    static const char *const pool_keys[] = {"blue", "green", NULL};
    const cJSON *servers = cJSON_GetObjectItemCaseSensitive(cfg, "servers");
    if (servers && !cJSON_IsObject(servers))
        return bg_error_set(err, BG_EINVAL, "router.servers: expected an object "
                            "{\"blue\": [names], \"green\": [names]}, got %s",
                            bg_json_type_name(servers));
    int rc = servers ? bg_json_check_keys(servers, pool_keys, "router.servers", err) : 0;
    for (int p = 0; !rc && p < BG_POOL_COUNT; p++)
        rc = parse_pool_servers(h, servers, p, err);
    for (int p = 0; !rc && pools && p < BG_POOL_COUNT; p++)
        rc = check_against_pools(h, servers != NULL, pools, p, err);
    for (size_t i = 0; !rc && i < h->n_servers[BG_POOL_BLUE]; i++)
        for (size_t j = 0; !rc && j < h->n_servers[BG_POOL_GREEN]; j++)
            if (strcmp(h->servers[BG_POOL_BLUE][i], h->servers[BG_POOL_GREEN][j]) == 0)
                rc = bg_error_set(err, BG_EINVAL, "router.servers: \"%s\" is in both pools",
                                  h->servers[BG_POOL_BLUE][i]);
    return rc;
}

static int parse_names(haproxy_router *h, const cJSON *cfg, bg_error *err)
{
    const char *backend = HAPROXY_DEFAULT_BACKEND, *state_file = NULL;
    int rc = bg_json_get_string(&backend, cfg, "backend", "router", false, err);
    if (!rc && !is_haproxy_name(backend))
        rc = bg_error_set(err, BG_EINVAL, "router.backend: \"%s\" is not an HAProxy backend "
                          "name (letters, digits, '_', '-', '.', ':')", backend);
    if (!rc)
        rc = bg_json_get_string(&state_file, cfg, "state_file", "router", true, err);
    if (!rc && !*state_file)
        rc = bg_error_set(err, BG_EINVAL, "router.state_file: empty path");
    if (rc < 0)
        return rc;
    h->backend = bg_strdup(backend);
    h->state_file = bg_strdup(state_file);
    return h->backend && h->state_file ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int haproxy_create(void **state, const cJSON *cfg, const bg_pools *pools, bg_error *err)
{
    haproxy_router *h = calloc(1, sizeof *h);
    if (!h)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int rc = parse_api(h, cfg, err);
    if (!rc)
        rc = parse_names(h, cfg, err);
    if (!rc)
        rc = parse_servers(h, cfg, pools, err);
    if (!rc)
        rc = bg_router_parse_timeout(&h->timeout_ms, cfg, err);
    if (rc < 0) {
        haproxy_destroy(h);
        return rc;
    }
    *state = h;
    return 0;
}

/* --- the runtime API: one command per connection --- */

/* Waits for events on fd until the deadline (bg_now_ms clock). 0, or BG_ETIMEOUT. */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - bg_now_ms();
        if (left <= 0)
            return BG_ETIMEOUT;
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, (int)left + 1);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return BG_EIO;
    }
}

/* Connects a non-blocking socket to addr; errno-style result (0, or an errno). */
static int connect_addr(int *fd_out, int family, const struct sockaddr *addr, socklen_t len,
                        double deadline)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int e = 0;
    if (connect(fd, addr, len) < 0) {
        e = errno;
        if (e == EINPROGRESS || e == EAGAIN) {
            socklen_t sl = sizeof e;
            e = wait_fd(fd, POLLOUT, deadline) == 0 ? 0 : ETIMEDOUT;
            if (!e && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
                e = errno;
        }
    }
    if (e) {
        close(fd);
        return e;
    }
    *fd_out = fd;
    return 0;
}

static int api_connect(int *fd, const haproxy_router *h, double deadline, bg_error *err)
{
    int e = 0;
    if (h->unix_path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        bg_strlcpy(sun.sun_path, h->unix_path, sizeof sun.sun_path);
        e = connect_addr(fd, AF_UNIX, (struct sockaddr *)&sun, sizeof sun, deadline);
    } else {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
        int g = getaddrinfo(h->host, h->port, &hints, &ai);
        if (g != 0)
            return bg_error_set(err, BG_ENET, "router: haproxy runtime API %s: resolve: %s",
                                h->api, gai_strerror(g));
        e = ECONNREFUSED;
        for (struct addrinfo *a = ai; a && e; a = a->ai_next)
            if ((e = connect_addr(fd, a->ai_family, a->ai_addr, a->ai_addrlen, deadline)) ==
                ETIMEDOUT)
                break;
        freeaddrinfo(ai);
    }
    if (e == ETIMEDOUT)
        return bg_error_set(err, BG_ETIMEOUT, "router: haproxy runtime API %s: connect: no "
                            "answer within %ld s", h->api, h->timeout_ms / 1000);
    if (e)
        return bg_error_set(err, BG_ENET, "router: haproxy runtime API %s: connect: %s", h->api,
                            strerror(e));
    return 0;
}

static int send_all(int fd, const char *data, size_t len, double deadline)
{
    while (len) {
        ssize_t w = send(fd, data, len, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) < 0)
                return ETIMEDOUT;
            continue;
        }
        if (w < 0)
            return errno;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Reads until HAProxy closes the connection (it does after a non-interactive command). */
static int recv_all(int fd, bg_buf *reply, double deadline)
{
    char chunk[16384];
    for (;;) {
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r == 0)
            return 0;
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLIN, deadline) < 0)
                return ETIMEDOUT;
            continue;
        }
        if (r < 0)
            return errno;
        if (bg_buf_append(reply, chunk, (size_t)r) < 0)
            return EFBIG;
    }
}

int bg_router_haproxy_call(bg_buf *reply, const haproxy_router *h, const char *cmd,
                           bg_error *err)
{
    double deadline = bg_now_ms() + (double)h->timeout_ms;
    int fd = -1;
    bg_buf_reset(reply);
    int rc = api_connect(&fd, h, deadline, err);
    if (rc < 0)
        return rc;
    char *line = bg_asprintf("%s\n", cmd);
    int e = line ? send_all(fd, line, strlen(line), deadline) : ENOMEM;
    if (!e)
        e = recv_all(fd, reply, deadline);
    free(line);
    close(fd);
    if (e == ETIMEDOUT)
        return bg_error_set(err, BG_ETIMEOUT, "router: haproxy runtime API %s: %s: no reply "
                            "within %ld s", h->api, cmd, h->timeout_ms / 1000);
    if (e == EFBIG)
        return bg_error_set(err, BG_ETOOBIG, "router: haproxy runtime API %s: %s: reply "
                            "larger than %u bytes", h->api, cmd, BG_HAPROXY_MAX_REPLY);
    if (e)
        return bg_error_set(err, e == ENOMEM ? BG_ENOMEM : BG_ENET,
                            "router: haproxy runtime API %s: %s: %s", h->api, cmd, strerror(e));
    return 0;
}

/* Runs a `set` command: HAProxy answers an empty line when it did it, else says why. */
static int api_set(const haproxy_router *h, const char *cmd, bg_error *err)
{
    bg_buf reply;
    bg_buf_init(&reply, BG_HAPROXY_MAX_REPLY);
    int rc = bg_router_haproxy_call(&reply, h, cmd, err);
    const char *s = bg_buf_cstr(&reply);
    if (!rc && s[strspn(s, " \t\r\n")]) {
        char line[400];
        bg_router_output_line(line, sizeof line, reply.data, reply.len);
        rc = bg_error_set(err, BG_EIO, "router: haproxy runtime API %s: %s: %s", h->api, cmd,
                          line);
    }
    bg_buf_dispose(&reply);
    return rc;
}

/* --- weights --- */

/* Sum of the pool's effective weights; BG_EPROTO when a server is missing. */
static int pool_sum(long *out, const haproxy_router *h, const bg_haproxy_servers *st, int p,
                    bool strict, bg_error *err)
{
    *out = 0;
    for (size_t i = 0; i < h->n_servers[p]; i++) {
        const bg_haproxy_server *s = bg_router_haproxy_server_find(st, h->servers[p][i]);
        if (!s && strict)
            return bg_error_set(err, BG_EPROTO, "backend %s has no server \"%s\" "
                                "(router.servers.%s)", h->backend, h->servers[p][i],
                                bg_pool_name((bg_pool_id)p));
        if (s && !(s->admin & BG_HAPROXY_ADMF_OUT))
            *out += s->uweight;
    }
    return 0;
}

int bg_router_haproxy_weights(bg_weights *out, const haproxy_router *h,
                              const bg_haproxy_servers *st, bg_error *err)
{
    long sum[BG_POOL_COUNT] = {0, 0};
    for (int p = 0; p < BG_POOL_COUNT; p++) {
        int rc = pool_sum(&sum[p], h, st, p, true, err);
        if (rc < 0)
            return rc;
    }
    long total = sum[0] + sum[1];
    if (total == 0) {
        out->w[BG_POOL_BLUE] = out->w[BG_POOL_GREEN] = 0;
        return 0;
    }
    int blue = (int)((sum[0] * 100 + total / 2) / total);
    if (sum[0] > 0 && blue == 0)
        blue = 1;
    if (sum[1] > 0 && blue == 100)
        blue = 99;
    out->w[BG_POOL_BLUE] = blue;
    out->w[BG_POOL_GREEN] = 100 - blue;
    return 0;
}

/* --- planning a change --- */

void bg_router_haproxy_plan_dispose(bg_haproxy_plan *p)
{
    for (size_t i = 0; p && i < p->n; i++) {
        free(p->v[i].cmd);
        free(p->v[i].undo);
    }
    if (p) {
        free(p->v);
        p->v = NULL;
        p->n = 0;
    }
}

/* Appends a step; takes cmd and undo (freed on failure). */
static int plan_add(bg_haproxy_plan *p, char *cmd, char *undo, bool want_undo, bg_error *err)
{
    bg_haproxy_step *v = NULL;
    if (cmd && (undo || !want_undo))
        v = realloc(p->v, (p->n + 1) * sizeof *v);
    if (!v) {
        free(cmd);
        free(undo);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    p->v = v;
    p->v[p->n++] = (bg_haproxy_step){cmd, undo};
    return 0;
}

/* The `state` that puts a server back where it was. */
static const char *admin_state_name(unsigned admin)
{
    if (admin & BG_HAPROXY_ADMF_FMAINT)
        return "maint";
    return admin & BG_HAPROXY_ADMF_FDRAIN ? "drain" : "ready";
}

static int plan_weight(bg_haproxy_plan *p, const char *bs, const bg_haproxy_server *s, long w,
                       bg_error *err)
{
    if (s && s->uweight == w)
        return 0;
    return plan_add(p, bg_asprintf("set server %s weight %ld", bs, w),
                    s ? bg_asprintf("set server %s weight %ld", bs, s->uweight) : NULL, s != NULL,
                    err);
}

static int plan_state(bg_haproxy_plan *p, const char *bs, const bg_haproxy_server *s,
                      const char *state, bg_error *err)
{
    if (s && strcmp(admin_state_name(s->admin), state) == 0)
        return 0;
    return plan_add(p, bg_asprintf("set server %s state %s", bs, state),
                    s ? bg_asprintf("set server %s state %s", bs, admin_state_name(s->admin))
                      : NULL,
                    s != NULL, err);
}

/* Server i of k in a pool at `percent`: the share split as evenly as integers allow. */
static long server_weight(int percent, size_t i, size_t k)
{
    long base = percent / (long)k, extra = percent % (long)k;
    return base + ((long)i < extra ? 1 : 0);
}

static int plan_pool(bg_haproxy_plan *out, const haproxy_router *h,
                     const bg_haproxy_servers *st, int p, int percent, bg_error *err)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < h->n_servers[p]; i++) {
        const bg_haproxy_server *s = bg_router_haproxy_server_find(st, h->servers[p][i]);
        char *bs = bg_asprintf("%s/%s", h->backend, h->servers[p][i]);
        if (!bs)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        if (percent > 0) {
            /* the weight first: the server comes back with its new share */
            rc = plan_weight(out, bs, s, server_weight(percent, i, h->n_servers[p]), err);
            if (!rc && (!s || (s->admin & BG_HAPROXY_ADMF_OUT)))
                rc = plan_state(out, bs, s, "ready", err);
        } else {
            /* drain first: out of load balancing at once; its sessions finish */
            if (!s || !(s->admin & BG_HAPROXY_ADMF_OUT))
                rc = plan_state(out, bs, s, "drain", err);
            if (!rc)
                rc = plan_weight(out, bs, s, 0, err);
        }
        free(bs);
    }
    return rc;
}

int bg_router_haproxy_plan(bg_haproxy_plan *out, const haproxy_router *h,
                           const bg_haproxy_servers *st, const bg_weights *w, bg_error *err)
{
    long sum[BG_POOL_COUNT];
    out->v = NULL;
    out->n = 0;
    for (int p = 0; p < BG_POOL_COUNT; p++)
        pool_sum(&sum[p], h, st, p, false, NULL);
    long total = sum[0] + sum[1];
    /* how much each pool gains, in percent points (unknown runtime: the larger first) */
    long gain[BG_POOL_COUNT];
    for (int p = 0; p < BG_POOL_COUNT; p++)
        gain[p] = total ? w->w[p] - (sum[p] * 100 + total / 2) / total : w->w[p];
    int first = gain[BG_POOL_GREEN] > gain[BG_POOL_BLUE] ? BG_POOL_GREEN : BG_POOL_BLUE;
    int rc = plan_pool(out, h, st, first, w->w[first], err);
    if (!rc)
        rc = plan_pool(out, h, st, 1 - first, w->w[1 - first], err);
    if (rc < 0)
        bg_router_haproxy_plan_dispose(out);
    return rc;
}

/* --- get / set --- */

/* `show servers state <backend>`, parsed. */
static int read_servers(bg_haproxy_servers *out, const haproxy_router *h, bg_error *err)
{
    char *cmd = bg_asprintf("show servers state %s", h->backend);
    bg_buf reply;
    bg_buf_init(&reply, BG_HAPROXY_MAX_REPLY);
    int rc = cmd ? bg_router_haproxy_call(&reply, h, cmd, err)
                 : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc && (rc = bg_router_haproxy_parse_state(out, bg_buf_cstr(&reply), h->backend, err)))
        bg_error_prefix(err, "router: haproxy runtime API %s: %s", h->api, cmd);
    bg_buf_dispose(&reply);
    free(cmd);
    return rc;
}

static int runtime_weights(bg_weights *out, const haproxy_router *h, bg_error *err)
{
    bg_haproxy_servers st = {NULL, 0};
    int rc = read_servers(&st, h, err);
    if (!rc && (rc = bg_router_haproxy_weights(out, h, &st, err)))
        bg_error_prefix(err, "router: haproxy runtime API %s", h->api);
    bg_router_haproxy_servers_dispose(&st);
    return rc;
}

/* The weights in the state file; *found false when there is none yet. */
static int desired_weights(bg_weights *out, bool *found, const haproxy_router *h, bg_error *err)
{
    struct stat sb;
    char *text = NULL;
    size_t len = 0;
    cJSON *doc = NULL;

    *found = false;
    if (stat(h->state_file, &sb) < 0 && errno == ENOENT)
        return 0;
    int rc = bg_file_read(&text, &len, h->state_file, BG_ROUTER_MAX_STATE_BYTES, err);
    if (!rc && !(doc = cJSON_ParseWithLength(text, len)))
        rc = bg_error_set(err, BG_EPROTO, "%s: not JSON (expected {\"blue\": N, \"green\": M})",
                          h->state_file);
    if (!rc)
        rc = bg_router_weights_from_json(out, doc, h->state_file, err);
    *found = rc == 0;
    cJSON_Delete(doc);
    free(text);
    return rc;
}

static int save_desired(const haproxy_router *h, const bg_weights *w, bg_error *err)
{
    char text[64];
    int n = snprintf(text, sizeof text, "{\"blue\": %d, \"green\": %d}\n", w->w[BG_POOL_BLUE],
                     w->w[BG_POOL_GREEN]);
    int rc = bg_mkdir_parent(h->state_file, err);
    if (!rc)
        rc = bg_file_write_atomic(h->state_file, text, (size_t)n, err);
    return rc;
}

int bg_router_haproxy_check(void *state, bg_router_drift *out, bg_error *err)
{
    haproxy_router *h = state;
    bg_router_drift d = {.has_desired = false};
    int rc = runtime_weights(&d.runtime, h, err);
    if (!rc)
        rc = desired_weights(&d.desired, &d.has_desired, h, err);
    if (rc < 0)
        return rc;
    d.stale = d.has_desired && (d.runtime.w[0] != d.desired.w[0] ||
                                d.runtime.w[1] != d.desired.w[1]);
    *out = d;
    return 0;
}

static int haproxy_get(void *state, bg_weights *out, bg_error *err)
{
    haproxy_router *h = state;
    bg_router_drift d;
    bg_error ferr = {0};
    int rc = runtime_weights(&d.runtime, h, err);
    if (rc < 0)
        return rc;
    if (d.runtime.w[BG_POOL_BLUE] + d.runtime.w[BG_POOL_GREEN] == 0)
        return bg_error_set(err, BG_EPROTO, "router: haproxy runtime API %s: backend %s: no "
                            "server of either pool takes traffic (all in drain, maintenance or "
                            "at weight 0)", h->api, h->backend);
    /* a reload discards runtime weights: say so, but report what HAProxy really does */
    if (desired_weights(&d.desired, &d.has_desired, h, &ferr) == 0 && d.has_desired &&
        (d.runtime.w[0] != d.desired.w[0] || d.runtime.w[1] != d.desired.w[1])) {
        char now[64], want[64];
        bg_weights_format(now, sizeof now, &d.runtime);
        bg_weights_format(want, sizeof want, &d.desired);
        bg_log_warn("router: HAProxy has %s but bg-gate last set %s (%s): reloaded or "
                    "changed by hand?", now, want, h->state_file);
    }
    *out = d.runtime;
    return 0;
}

/* Undoes steps [0, done) in reverse order; notes the outcome in err. */
static void undo_steps(const haproxy_router *h, const bg_haproxy_plan *plan, size_t done,
                       bg_error *err)
{
    bg_error uerr = {0};
    int failed = 0;
    for (size_t i = done; i-- > 0;)
        if (plan->v[i].undo && api_set(h, plan->v[i].undo, &uerr) < 0)
            failed++;
    if (!err || done == 0)
        return;
    char msg[BG_ERROR_MSG_MAX];
    bg_strlcpy(msg, err->msg, sizeof msg);
    if (failed)
        bg_error_set(err, err->code, "%s (restoring the servers already changed failed: %s)",
                     msg, uerr.msg);
    else
        bg_error_set(err, err->code, "%s (the servers already changed were restored)", msg);
}

static int haproxy_set(void *state, const bg_weights *w, bg_error *err)
{
    haproxy_router *h = state;
    bg_haproxy_servers st = {NULL, 0};
    bg_haproxy_plan plan = {NULL, 0};
    size_t done = 0;
    int rc = read_servers(&st, h, err);
    if (!rc)
        rc = bg_router_haproxy_plan(&plan, h, &st, w, err);
    for (; !rc && done < plan.n; done++)
        rc = api_set(h, plan.v[done].cmd, err);
    if (!rc && (rc = save_desired(h, w, err)) < 0)
        bg_error_prefix(err, "router.state_file");
    if (rc < 0)
        undo_steps(h, &plan, done, err);
    bg_router_haproxy_plan_dispose(&plan);
    bg_router_haproxy_servers_dispose(&st);
    return rc;
}

int bg_router_haproxy_repair(void *state, bg_router_drift *out, bg_error *err)
{
    bg_router_drift d;
    int rc = bg_router_haproxy_check(state, &d, err);
    if (!rc && d.stale)
        rc = haproxy_set(state, &d.desired, err);
    if (!rc && out)
        *out = d;
    return rc;
}

/* Sums `fields` of a pool's servers from `show stat <backend> 4 -1` (servers only). */
static int pool_stat(const haproxy_router *h, bg_pool_id pool, const char *const *fields,
                     double *out, bg_error *err)
{
    /* type 4: servers only */
    char *cmd = bg_asprintf("show stat %s 4 -1", h->backend);
    bg_buf reply;
    bg_buf_init(&reply, BG_HAPROXY_MAX_REPLY);
    int rc = cmd ? bg_router_haproxy_call(&reply, h, cmd, err)
                 : bg_error_set(err, BG_ENOMEM, "out of memory");
    if (!rc && (rc = bg_router_haproxy_stat_sum(out, bg_buf_cstr(&reply), h->backend,
                                                h->servers[pool], h->n_servers[pool], fields,
                                                err)))
        bg_error_prefix(err, "router: haproxy runtime API %s", h->api);
    bg_buf_dispose(&reply);
    free(cmd);
    return rc;
}

int bg_router_haproxy_inflight(void *state, bg_pool_id pool, double *out, bg_error *err)
{
    static const char *const fields[] = {"scur", "qcur", NULL};
    return pool_stat(state, pool, fields, out, err);
}

int bg_router_haproxy_counters(void *state, bg_pool_id pool, bg_router_counters *out,
                               bg_error *err)
{
    /* every HTTP response the pool's servers gave, and the failures the router saw:
     * 5xx answers, broken responses (eresp) and failed connections (econ) */
    static const char *const responses[] = {"hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx",
                                            "hrsp_5xx", "hrsp_other", "eresp", "econ", NULL};
    static const char *const errors[] = {"hrsp_5xx", "eresp", "econ", NULL};
    int rc = pool_stat(state, pool, responses, &out->requests, err);
    if (!rc)
        rc = pool_stat(state, pool, errors, &out->errors, err);
    return rc;
}

const bg_router_driver bg_router_driver_haproxy = {
    .name = "haproxy",
    .keys = haproxy_keys,
    .create = haproxy_create,
    .destroy = haproxy_destroy,
    .get = haproxy_get,
    .set = haproxy_set,
    .check = bg_router_haproxy_check,
    .repair = bg_router_haproxy_repair,
    .inflight = bg_router_haproxy_inflight,
    .counters = bg_router_haproxy_counters,
};
