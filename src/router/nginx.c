/* nginx.c — the "nginx" router driver, mode "reload": bg-gate owns one upstream include
 * file and moves traffic by rewriting it and reloading nginx.
 *
 * The file (see render()) starts with a header comment that records the weights
 * ("# bg-gate: blue=75 green=25 …"), then `upstream <name> { … }` with one `server` line
 * per endpoint of both pools, each tagged with its pool. Weights are per server: a pool's
 * percentage is spread over its servers as evenly as integers allow (75 % over 2 servers
 * → 38 + 37; 100 % over 2 → 50 + 50), so each pool's servers add up to exactly its share.
 * A server whose share is 0 is written `down` (nginx has no weight 0); since the weights
 * add up to 100, at least one server is always up.
 *
 * Why swap, test, restore: `nginx -t` checks the main configuration, which includes the
 * live upstream file, so a candidate file cannot be tested beside it. set() therefore
 * (1) writes the new text to a temp file in the same directory and fsyncs it, (2) copies
 * the current file to "<file>.bg-gate-prev", (3) renames the temp file over the live one
 * (nginx never sees a missing or half-written file), (4) runs test_argv; if the test
 * fails, the previous file is renamed back and nothing changed — the running nginx never
 * read the rejected file; (5) runs reload_argv; if that fails, the previous file goes back
 * and nginx is reloaded again (best effort). get() reads the header back and cross-checks
 * it with the server lines, so a hand-edited file is reported rather than trusted.
 *
 * Mode "hitless" (nginx_hitless.c) shares the configuration, the server addresses and
 * the swap-test-reload of the upstream file (bg_router_nginx_install) with this file; get
 * and set dispatch on the mode. Not handled here: in-flight connection counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bggate/buf.h"
#include "bggate/json.h"
#include "bggate/spawn.h"
#include "bggate/util.h"
#include "nginx_internal.h"

#define NGINX_DEFAULT_UPSTREAM "bg_gate_llm"
#define NGINX_DEFAULT_KEEPALIVE 32
#define NGINX_HEADER "# bg-gate: "
#define NGINX_PREV_SUFFIX ".bg-gate-prev"

static const char *const nginx_keys[] = {"mode", "upstream_file", "upstream_name", "test_argv",
                                         "reload_argv", "keepalive", "timeout_s", "weights_file",
                                         "sticky_key", NULL};
static const char *const default_test_argv[] = {"nginx", "-t", "-q", NULL};
static const char *const default_reload_argv[] = {"nginx", "-s", "reload", NULL};

static void nginx_destroy(void *state)
{
    nginx_router *n = state;
    if (!n)
        return;
    free(n->file);
    free(n->prev);
    free(n->name);
    free(n->sticky_key);
    bg_router_strv_free(n->test_argv);
    bg_router_strv_free(n->reload_argv);
    for (int p = 0; p < BG_POOL_COUNT; p++) {
        for (size_t i = 0; i < n->n_servers[p]; i++)
            free(n->servers[p][i]);
        free(n->servers[p]);
    }
    bg_router_nginx_hitless_dispose(n);
    free(n);
}

/* --- configuration --- */

static int parse_mode(nginx_router *n, const cJSON *cfg, bg_error *err)
{
    const char *mode = "reload";
    int rc = bg_json_get_string(&mode, cfg, "mode", "router", false, err);
    if (rc < 0)
        return rc;
    n->hitless = strcmp(mode, "hitless") == 0;
    if (n->hitless || strcmp(mode, "reload") == 0)
        return 0;
    return bg_error_set(err, BG_EINVAL,
                        "router.mode: unknown mode \"%s\" (known: reload, hitless)", mode);
}

/* The keys of the other mode are mistakes, not options to ignore. */
static int parse_mode_keys(nginx_router *n, const cJSON *cfg, bg_error *err)
{
    if (n->hitless)
        return bg_router_nginx_hitless_parse(n, cfg, err);
    if (cJSON_GetObjectItemCaseSensitive(cfg, "weights_file"))
        return bg_error_set(err, BG_EINVAL, "router.weights_file: only used in mode "
                                            "\"hitless\" (mode is \"reload\")");
    return 0;
}

/* "$http_x_session_id", "$cookie_session": one nginx variable, nothing to inject. */
static bool is_nginx_variable(const char *s)
{
    if (s[0] != '$' || !s[1])
        return false;
    for (s++; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
              ('0' <= *s && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* Sticky canaries: requests with the same key stay on one server while the weights hold,
 * through nginx's consistent hash, which honours the weights (a server gets points on the
 * ring in proportion to its weight) and falls back to round robin for an empty key. */
static int parse_sticky(nginx_router *n, const cJSON *cfg, bg_error *err)
{
    const char *key = NULL;
    int rc = bg_json_get_string(&key, cfg, "sticky_key", "router", false, err);
    if (rc < 0 || !key)
        return rc;
    if (n->hitless)
        return bg_error_set(err, BG_EINVAL, "router.sticky_key: only supported in mode "
                                            "\"reload\" (the hitless balancer picks by weight)");
    if (!is_nginx_variable(key))
        return bg_error_set(err, BG_EINVAL,
                            "router.sticky_key: \"%s\" is not one nginx variable (e.g. "
                            "\"$http_x_session_id\" or \"$cookie_session\")",
                            key);
    n->sticky_key = bg_strdup(key);
    return n->sticky_key ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static bool is_upstream_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
              ('0' <= *s && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

static int parse_names(nginx_router *n, const cJSON *cfg, bg_error *err)
{
    const char *file = NULL, *name = NGINX_DEFAULT_UPSTREAM;
    int rc = bg_json_get_string(&file, cfg, "upstream_file", "router", true, err);
    if (!rc && !*file)
        rc = bg_error_set(err, BG_EINVAL, "router.upstream_file: empty path");
    if (!rc)
        rc = bg_json_get_string(&name, cfg, "upstream_name", "router", false, err);
    if (!rc && !is_upstream_name(name))
        rc = bg_error_set(err, BG_EINVAL,
                          "router.upstream_name: \"%s\" is not an nginx upstream name "
                          "(letters, digits, '_', '-', '.')",
                          name);
    if (rc < 0)
        return rc;
    n->file = bg_strdup(file);
    n->prev = bg_asprintf("%s%s", file, NGINX_PREV_SUFFIX);
    n->name = bg_strdup(name);
    if (!n->file || !n->prev || !n->name)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    return 0;
}

static bool is_address_char(char c)
{
    return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
           c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
}

/* 1..65535 in exactly n digits */
static bool port_ok(const char *p, size_t n)
{
    long v = 0;
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* "http://host:port/v1" → "host:port" (default port 80 / 443); IPv6 stays bracketed. */
static int server_address(char **out, const char *url, const char *path, bg_error *err)
{
    bool https = bg_str_starts_with(url, "https://");
    const char *host = url + (https ? 8 : 7);
    size_t len = strcspn(host, "/?#");
    if (!bg_str_starts_with(url, "http://") && !https)
        return bg_error_set(err, BG_EINVAL, "%s: \"%s\" is not an http:// or https:// URL", path,
                            url);
    for (size_t i = 0; i < len; i++)
        if (!is_address_char(host[i]))
            return bg_error_set(err, BG_EINVAL,
                                "%s: \"%s\" cannot be an nginx server address (only host:port)",
                                path, url);
    const char *close = memchr(host, ']', len);
    const char *after = close ? close + 1 : host;
    const char *colon = memchr(after, ':', len - (size_t)(after - host));
    if (len == 0 || (host[0] == '[' && !close) || colon == host)
        return bg_error_set(err, BG_EINVAL, "%s: \"%s\" has no host", path, url);
    if (colon && !port_ok(colon + 1, len - (size_t)(colon + 1 - host)))
        return bg_error_set(err, BG_EINVAL, "%s: \"%s\" has a bad port", path, url);
    bool has_port = colon != NULL;
    if (has_port)
        *out = bg_strndup(host, len);
    else
        *out = bg_asprintf("%.*s:%d", (int)len, host, https ? 443 : 80);
    return *out ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int parse_servers(nginx_router *n, const bg_pools *pools, bg_error *err)
{
    for (int p = 0; p < BG_POOL_COUNT; p++) {
        const bg_pool_config *pc = &pools->pool[p];
        const char *pname = bg_pool_name((bg_pool_id)p);
        if (pc->n_endpoints == 0)
            return bg_error_set(err, BG_EINVAL, "pools.%s: no endpoints to put in the nginx "
                                "upstream", pname);
        n->servers[p] = calloc(pc->n_endpoints, sizeof *n->servers[p]);
        if (!n->servers[p])
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        for (size_t i = 0; i < pc->n_endpoints; i++) {
            char path[64];
            snprintf(path, sizeof path, "pools.%s.endpoints[%zu]", pname, i);
            int rc = server_address(&n->servers[p][i], pc->endpoints[i], path, err);
            if (rc < 0)
                return rc;
            n->n_servers[p]++;
        }
    }
    return 0;
}

static int nginx_create(void **state, const cJSON *cfg, const bg_pools *pools, bg_error *err)
{
    nginx_router *n = calloc(1, sizeof *n);
    if (!n)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    n->keepalive = NGINX_DEFAULT_KEEPALIVE;
    int rc = parse_mode(n, cfg, err);
    if (!rc)
        rc = parse_names(n, cfg, err);
    if (!rc)
        rc = parse_mode_keys(n, cfg, err);
    if (!rc)
        rc = parse_sticky(n, cfg, err);
    if (!rc)
        rc = bg_router_parse_argv(&n->test_argv, cfg, "test_argv", default_test_argv, err);
    if (!rc)
        rc = bg_router_parse_argv(&n->reload_argv, cfg, "reload_argv", default_reload_argv, err);
    if (!rc)
        rc = bg_json_get_long(&n->keepalive, cfg, "keepalive", "router", 0, 100000, false, err);
    if (!rc)
        rc = bg_router_parse_timeout(&n->timeout_ms, cfg, err);
    if (!rc && !pools)
        rc = bg_error_set(err, BG_EINVAL, "router: the nginx driver needs the pools section");
    if (!rc)
        rc = parse_servers(n, pools, err);
    if (rc < 0) {
        nginx_destroy(n);
        return rc;
    }
    *state = n;
    return 0;
}

/* --- the upstream file --- */

/* Server i of k in a pool at `percent`: the share split as evenly as integers allow. */
static int server_weight(int percent, size_t i, size_t k)
{
    int base = percent / (int)k, extra = percent % (int)k;
    return base + ((int)i < extra ? 1 : 0);
}

static int render(bg_buf *out, const nginx_router *n, const bg_weights *w)
{
    int rc = bg_buf_printf(out,
                           NGINX_HEADER "blue=%d green=%d (managed by bg-gate; do not edit)\n"
                                        "upstream %s {\n",
                           w->w[BG_POOL_BLUE], w->w[BG_POOL_GREEN], n->name);
    if (!rc && n->sticky_key)
        rc = bg_buf_printf(out, "    hash %s consistent;\n", n->sticky_key);
    for (int p = 0; !rc && p < BG_POOL_COUNT; p++) {
        for (size_t i = 0; !rc && i < n->n_servers[p]; i++) {
            int sw = server_weight(w->w[p], i, n->n_servers[p]);
            if (sw > 0)
                rc = bg_buf_printf(out, "    server %s weight=%d; # %s\n", n->servers[p][i], sw,
                                   bg_pool_name((bg_pool_id)p));
            else
                rc = bg_buf_printf(out, "    server %s down; # %s\n", n->servers[p][i],
                                   bg_pool_name((bg_pool_id)p));
        }
    }
    if (!rc && n->keepalive > 0)
        rc = bg_buf_printf(out, "    keepalive %ld;\n", n->keepalive);
    if (!rc)
        rc = bg_buf_puts(out, "}\n");
    return rc;
}

/* Parses "# bg-gate: blue=N green=M" at the start of text. */
static int parse_header(bg_weights *w, const char *text, const char *file, bg_error *err)
{
    const char *p = text;
    char *end = NULL;
    if (!bg_str_starts_with(p, NGINX_HEADER "blue="))
        goto bad;
    p += strlen(NGINX_HEADER "blue=");
    long b = strtol(p, &end, 10);
    if (end == p || !bg_str_starts_with(end, " green="))
        goto bad;
    p = end + strlen(" green=");
    long g = strtol(p, &end, 10);
    if (end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
        goto bad;
    w->w[BG_POOL_BLUE] = (int)(b < -1 || b > 1000 ? -1 : b);
    w->w[BG_POOL_GREEN] = (int)(g < -1 || g > 1000 ? -1 : g);
    if (bg_router_weights_check(w, err) < 0) {
        bg_error_prefix(err, "%s", file);
        if (err)
            err->code = BG_EPROTO;
        return BG_EPROTO;
    }
    return 0;
bad:
    return bg_error_set(err, BG_EPROTO, "%s: no \"# bg-gate: blue=N green=M\" header on line 1 "
                        "(not written by bg-gate?)", file);
}

/* Adds one "server … weight=N; # pool" / "server … down; # pool" line to sums. */
static int tally_server(int sums[BG_POOL_COUNT], const char *line, size_t len, int lineno,
                        const char *file, bg_error *err)
{
    char buf[512];
    size_t k = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, line, k);
    buf[k] = '\0';
    const char *tag = strstr(buf, "; # ");
    bg_pool_id id;
    if (!tag || bg_pool_from_name(&id, tag + 4) < 0)
        return bg_error_set(err, BG_EPROTO, "%s:%d: server line without a pool tag "
                            "(edited by hand?)", file, lineno);
    const char *wp = strstr(buf, " weight=");
    long v = 0;
    if (wp) {
        char *end = NULL;
        v = strtol(wp + 8, &end, 10);
        if (end == wp + 8 || *end != ';' || v < 1 || v > 100)
            return bg_error_set(err, BG_EPROTO, "%s:%d: bad server weight", file, lineno);
    } else if (!strstr(buf, " down;")) {
        return bg_error_set(err, BG_EPROTO, "%s:%d: server line with neither weight nor down",
                            file, lineno);
    }
    sums[id] += (int)v;
    return 0;
}

/* The server lines must add up to the weights in the header. */
static int cross_check(const bg_weights *w, const char *text, const char *file, bg_error *err)
{
    int sums[BG_POOL_COUNT] = {0, 0}, lineno = 0, rc = 0;
    for (const char *p = text; !rc && *p;) {
        size_t len = strcspn(p, "\n");
        const char *s = p;
        lineno++;
        while (s < p + len && (*s == ' ' || *s == '\t'))
            s++;
        if (bg_str_starts_with(s, "server "))
            rc = tally_server(sums, s, len - (size_t)(s - p), lineno, file, err);
        p += len + (p[len] == '\n');
    }
    if (!rc && (sums[0] != w->w[0] || sums[1] != w->w[1]))
        rc = bg_error_set(err, BG_EPROTO,
                          "%s: server weights (blue %d, green %d) disagree with the header "
                          "(blue=%d green=%d); edited by hand?",
                          file, sums[0], sums[1], w->w[0], w->w[1]);
    return rc;
}

static int nginx_get(void *state, bg_weights *out, bg_error *err)
{
    nginx_router *n = state;
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    bg_weights w;

    if (n->hitless)
        return bg_router_nginx_hitless_get(n, out, err);
    if (stat(n->file, &st) < 0 && errno == ENOENT)
        return bg_error_set(err, BG_EINVAL, "router has no weights yet (%s missing)", n->file);
    int rc = bg_file_read(&text, &len, n->file, BG_ROUTER_MAX_STATE_BYTES, err);
    if (!rc)
        rc = parse_header(&w, text, n->file, err);
    if (!rc)
        rc = cross_check(&w, text, n->file, err);
    if (!rc)
        *out = w;
    free(text);
    return rc;
}

/* --- set: temp file, fsync, keep the previous one, swap, test, reload --- */

static void fsync_dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    char *dir = slash ? bg_strndup(file, slash == file ? 1 : (size_t)(slash - file))
                      : bg_strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

/* Writes text to a new temp file next to n->file and fsyncs it; *tmp_out is its path. */
static int write_temp(char **tmp_out, const nginx_router *n, const bg_buf *text, bg_error *err)
{
    char *tmp = bg_asprintf("%s.tmp.XXXXXX", n->file);
    if (!tmp)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = bg_error_set(err, BG_EIO, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    size_t off = 0;
    while (off < text->len) {
        ssize_t w = write(fd, text->data + off, text->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int e = off < text->len ? errno : 0;
    if (!e && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
        e = errno;
    close(fd);
    if (e) {
        unlink(tmp);
        free(tmp);
        return bg_error_set(err, BG_EIO, "%s: %s", n->file, strerror(e ? e : EIO));
    }
    *tmp_out = tmp;
    return 0;
}

/* Copies the live file to n->prev (atomically). *had_old tells whether there was one. */
static int keep_previous(bool *had_old, const nginx_router *n, bg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    *had_old = !(stat(n->file, &st) < 0 && errno == ENOENT);
    if (!*had_old)
        return 0;
    int rc = bg_file_read(&text, &len, n->file, BG_ROUTER_MAX_STATE_BYTES, err);
    if (!rc)
        rc = bg_file_write_atomic(n->prev, text, len, err);
    free(text);
    return rc;
}

/* Puts the previous file back (or removes the new one when there was none). */
static int restore_previous(const nginx_router *n, bool had_old)
{
    int rc = had_old ? rename(n->prev, n->file) : unlink(n->file);
    fsync_dir_of(n->file);
    return rc;
}

/* Runs one step's argv; a non-zero exit becomes BG_EIO with the command's output. */
static int run_step(const nginx_router *n, char **argv, const char *what, bg_error *err)
{
    bg_buf out;
    int code = -1;
    bg_buf_init(&out, BG_SPAWN_OUTPUT_MAX + 16);
    int rc = bg_spawn_run((const char *const *)argv, NULL, n->timeout_ms, &out, &code, err);
    if (rc < 0) {
        bg_error_prefix(err, "%s", what);
    } else if (code != 0) {
        char line[400];
        bg_router_output_line(line, sizeof line, out.data, out.len);
        rc = bg_error_set(err, BG_EIO, "%s: %s exited with %d: %s", what, argv[0], code, line);
    }
    bg_buf_dispose(&out);
    return rc;
}

/* Appends " (note)" to the message in err, keeping its code. */
static void add_note(bg_error *err, const char *note)
{
    if (!err)
        return;
    char msg[BG_ERROR_MSG_MAX];
    bg_strlcpy(msg, err->msg, sizeof msg);
    bg_error_set(err, err->code, "%s (%s)", msg, note);
}

/* Steps 4 and 5: test the swapped-in file, then reload; undo on failure. */
static int test_and_reload(const nginx_router *n, bool had_old, bg_error *err)
{
    int rc = run_step(n, n->test_argv, "test_argv", err);
    if (rc < 0) {
        bool back = restore_previous(n, had_old) == 0;
        add_note(err, back ? "the previous upstream file is back in place"
                           : "restoring the previous upstream file failed");
        return rc;
    }
    rc = run_step(n, n->reload_argv, "reload_argv", err);
    if (rc < 0) {
        bg_error again = {0};
        bool back = restore_previous(n, had_old) == 0;
        bool reloaded = back && run_step(n, n->reload_argv, "reload_argv", &again) == 0;
        add_note(err, !back       ? "restoring the previous upstream file failed"
                      : reloaded ? "the previous upstream file is back in place and reloaded"
                                 : "the previous upstream file is back in place; reloading it "
                                   "failed too");
    }
    return rc;
}

int bg_router_nginx_install(const nginx_router *n, const bg_buf *text, bg_error *err)
{
    char *tmp = NULL;
    bool had_old = false;
    int rc = write_temp(&tmp, n, text, err);
    if (!rc)
        rc = keep_previous(&had_old, n, err);
    if (rc < 0)
        goto cleanup;
    if (rename(tmp, n->file) < 0) {
        rc = bg_error_set(err, BG_EIO, "%s: %s", n->file, strerror(errno));
        goto cleanup;
    }
    fsync_dir_of(n->file);
    free(tmp);
    tmp = NULL;
    rc = test_and_reload(n, had_old, err);
cleanup:
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    return rc;
}

static int nginx_set(void *state, const bg_weights *w, bg_error *err)
{
    nginx_router *n = state;
    bg_buf text;

    if (n->hitless)
        return bg_router_nginx_hitless_set(n, w, err);
    bg_buf_init(&text, 0);
    int rc = render(&text, n, w);
    if (rc < 0)
        rc = bg_error_set(err, rc, "out of memory");
    else
        rc = bg_router_nginx_install(n, &text, err);
    bg_buf_dispose(&text);
    return rc;
}

const bg_router_driver bg_router_driver_nginx = {
    .name = "nginx",
    .keys = nginx_keys,
    .create = nginx_create,
    .destroy = nginx_destroy,
    .get = nginx_get,
    .set = nginx_set,
};
