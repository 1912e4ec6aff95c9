/* hooks.c — deploy hooks and webhook notifications (see hooks.h).
 *
 * Parses the `hooks` and `notify` sections, runs a hook as an argv (bg_spawn_stream,
 * never a shell) with the release in BG_* environment variables and a deadline, and
 * POSTs a Slack-compatible JSON notification with libcurl. It decides nothing about the
 * lifecycle: the callers (deploy.c, ops.c) decide what a failing hook means. A webhook
 * URL may carry a secret, so nothing here prints more of it than scheme://host.
 */
#include <curl/curl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bggate/hooks.h"
#include "bggate/json.h"
#include "bggate/log.h"
#include "bggate/spawn.h"
#include "bggate/util.h"

static const char *const hook_names[] = {"pre_deploy", "post_deploy", "pre_promote",
                                         "post_promote", "on_rollback", NULL};
static const char *const hook_keys[] = {"argv", "timeout_s", NULL};
static const char *const notify_keys[] = {"webhook_url", "webhook_url_env", "on", "timeout_s",
                                          NULL};
static const char *const notify_events[] = BG_NOTIFY_EVENTS;

#define N_EVENTS (sizeof notify_events / sizeof *notify_events - 1)
#define MAX_HOOK_TIMEOUT_S 86400L
#define MAX_NOTIFY_TIMEOUT_S 300L
#define MAX_ENV 20

const char *bg_hook_name(bg_hook_id id)
{
    return id < BG_HOOK__COUNT ? hook_names[id] : "?";
}

/* ---- parsing ---- */

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void bg_hooks_dispose(bg_hooks *h)
{
    if (!h)
        return;
    for (int i = 0; i < BG_HOOK__COUNT; i++)
        free_strv(h->hook[i].argv);
    free(h->webhook_url);
    free(h->webhook_url_env);
    memset(h, 0, sizeof *h);
}

bool bg_hooks_has(const bg_hooks *h, bg_hook_id id)
{
    return h && id < BG_HOOK__COUNT && h->hook[id].argv;
}

bool bg_hooks_any(const bg_hooks *h)
{
    for (int i = 0; h && i < BG_HOOK__COUNT; i++)
        if (h->hook[i].argv)
            return true;
    return h && (h->webhook_url || h->webhook_url_env);
}

/* argv[0] with a '/' that is relative: against the config's directory. */
static char *resolve_program(const bg_config *cfg, const char *p)
{
    if (!strchr(p, '/') || p[0] == '/' || !cfg->dir || strcmp(cfg->dir, ".") == 0)
        return bg_strdup(p);
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    return bg_asprintf("%s/%s", cfg->dir, p);
}

static int parse_argv(char ***out, const cJSON *hook, const char *path, const bg_config *cfg,
                      bg_error *err)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(hook, "argv");
    if (!a)
        return bg_error_set(err, BG_EINVAL, "%s.argv: required", path);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
        return bg_error_set(err, BG_EINVAL,
                            "%s.argv: expected a non-empty array of strings (no shell), got %s",
                            path, cJSON_IsArray(a) ? "an empty array" : bg_json_type_name(a));
    char **v = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *v);
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || (n == 0 && !*it->valuestring)) {
            free_strv(v);
            return bg_error_set(err, BG_EINVAL, "%s.argv[%zu]: expected a%s string, got %s",
                                path, n, n == 0 ? " non-empty" : "",
                                cJSON_IsString(it) ? "\"\"" : bg_json_type_name(it));
        }
        v[n] = n == 0 ? resolve_program(cfg, it->valuestring) : bg_strdup(it->valuestring);
        if (!v[n++]) {
            free_strv(v);
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        }
    }
    *out = v;
    return 0;
}

static int parse_hook(bg_hook *h, const cJSON *o, const char *name, const bg_config *cfg,
                      bg_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "hooks.%s", name);
    if (!cJSON_IsObject(o))
        return bg_error_set(err, BG_EINVAL,
                            "%s: expected an object {\"argv\": [...], \"timeout_s\": N}, got %s",
                            path, bg_json_type_name(o));
    h->timeout_s = BG_HOOK_DEFAULT_TIMEOUT_S;
    int rc = bg_json_check_keys(o, hook_keys, path, err);
    if (!rc)
        rc = bg_json_get_long(&h->timeout_s, o, "timeout_s", path, 1, MAX_HOOK_TIMEOUT_S, false,
                              err);
    if (!rc)
        rc = parse_argv(&h->argv, o, path, cfg, err);
    return rc;
}

static int parse_hooks(bg_hooks *h, const cJSON *o, const bg_config *cfg, bg_error *err)
{
    if (!cJSON_IsObject(o))
        return bg_error_set(err, BG_EINVAL, "hooks: expected an object, got %s",
                            bg_json_type_name(o));
    int rc = bg_json_check_keys(o, hook_names, "hooks", err);
    for (int i = 0; !rc && i < BG_HOOK__COUNT; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, hook_names[i]);
        if (it)
            rc = parse_hook(&h->hook[i], it, hook_names[i], cfg, err);
    }
    return rc;
}

void bg_url_origin(char *out, size_t outsz, const char *url)
{
    const char *host = strstr(url, "://");
    if (!host) {
        snprintf(out, outsz, "(not a URL)");
        return;
    }
    size_t scheme = (size_t)(host - url);
    host += 3;
    size_t n = strcspn(host, "/?#");
    const char *at = memchr(host, '@', n); /* user info may be a secret too */
    if (at) {
        n -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(out, outsz, "%.*s://%.*s", (int)scheme, url, (int)n, host);
}

/* An http(s) URL with a host; messages show only its origin. */
static int check_webhook_url(const char *url, const char *path, bg_error *err)
{
    char origin[256];
    bg_url_origin(origin, sizeof origin, url);
    bool https = bg_str_starts_with(url, "https://");
    if (!https && !bg_str_starts_with(url, "http://"))
        return bg_error_set(err, BG_EINVAL, "%s: not an http:// or https:// URL", path);
    const char *host = url + (https ? 8 : 7);
    if (!*host || *host == '/' || *host == ':' || *host == '@')
        return bg_error_set(err, BG_EINVAL, "%s: %s has no host", path, origin);
    if (strlen(url) > BG_NOTIFY_URL_MAX)
        return bg_error_set(err, BG_EINVAL, "%s: %s…: longer than %d bytes", path, origin,
                            BG_NOTIFY_URL_MAX);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ')
            return bg_error_set(err, BG_EINVAL, "%s: %s…: contains whitespace", path, origin);
    return 0;
}

static int event_index(const char *name)
{
    for (size_t i = 0; i < N_EVENTS; i++)
        if (strcmp(notify_events[i], name) == 0)
            return (int)i;
    return -1;
}

static int parse_on(unsigned *out, const cJSON *on, bg_error *err)
{
    if (!cJSON_IsArray(on))
        return bg_error_set(err, BG_EINVAL, "notify.on: expected an array of decisions, got %s",
                            bg_json_type_name(on));
    unsigned bits = 0;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, on)
    {
        int e = cJSON_IsString(it) ? event_index(it->valuestring) : -1;
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "notify.on[%d]: expected a string, got %s", i,
                                bg_json_type_name(it));
        if (e < 0)
            return bg_error_set(err, BG_EINVAL,
                                "notify.on[%d]: unknown decision \"%s\" (expected promoted, "
                                "rolled-back, gate-failed, blocked-by-hook, failed, "
                                "interrupted or nothing-to-deploy)",
                                i, it->valuestring);
        bits |= 1u << e;
        i++;
    }
    *out = bits;
    return 0;
}

static int parse_notify(bg_hooks *h, const cJSON *o, bg_error *err)
{
    if (!cJSON_IsObject(o))
        return bg_error_set(err, BG_EINVAL, "notify: expected an object, got %s",
                            bg_json_type_name(o));
    const char *url = NULL, *env = NULL;
    h->notify_timeout_s = BG_NOTIFY_DEFAULT_TIMEOUT_S;
    h->notify_on = ((1u << N_EVENTS) - 1) & ~(1u << event_index("nothing-to-deploy"));
    int rc = bg_json_check_keys(o, notify_keys, "notify", err);
    if (!rc)
        rc = bg_json_get_string(&url, o, "webhook_url", "notify", false, err);
    if (!rc)
        rc = bg_json_get_string(&env, o, "webhook_url_env", "notify", false, err);
    if (!rc && !url == !env)
        rc = bg_error_set(err, BG_EINVAL,
                          url ? "notify: webhook_url and webhook_url_env exclude each other"
                              : "notify: set webhook_url or webhook_url_env (the name of a "
                                "variable holding the URL: it usually carries a secret)");
    if (!rc && url)
        rc = check_webhook_url(url, "notify.webhook_url", err);
    if (!rc && env && (!*env || strchr(env, '=')))
        rc = bg_error_set(err, BG_EINVAL, "notify.webhook_url_env: \"%s\" is not a variable name",
                          env);
    if (!rc && cJSON_HasObjectItem(o, "on"))
        rc = parse_on(&h->notify_on, cJSON_GetObjectItemCaseSensitive(o, "on"), err);
    if (!rc)
        rc = bg_json_get_long(&h->notify_timeout_s, o, "timeout_s", "notify", 1,
                              MAX_NOTIFY_TIMEOUT_S, false, err);
    if (!rc && ((url && !(h->webhook_url = bg_strdup(url))) ||
                (env && !(h->webhook_url_env = bg_strdup(env)))))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    return rc;
}

int bg_hooks_parse(bg_hooks *out, const bg_config *cfg, bg_error *err)
{
    bg_hooks h;
    memset(&h, 0, sizeof h);
    const cJSON *hooks = cfg->root ? cJSON_GetObjectItemCaseSensitive(cfg->root, "hooks") : NULL;
    const cJSON *notify = cfg->root ? cJSON_GetObjectItemCaseSensitive(cfg->root, "notify")
                                    : NULL;
    int rc = hooks ? parse_hooks(&h, hooks, cfg, err) : 0;
    if (!rc && notify)
        rc = parse_notify(&h, notify, err);
    if (rc) {
        bg_hooks_dispose(&h);
        if (cfg->path)
            bg_error_prefix(err, "%s", cfg->path);
        return rc;
    }
    *out = h;
    return 0;
}

/* ---- the event ---- */

void bg_hook_event_init(bg_hook_event *ev, const char *action, const char *environment)
{
    memset(ev, 0, sizeof *ev);
    ev->action = action;
    ev->environment = environment;
    ev->model_changed = ev->templates_changed = true;
    ev->pass_rate = ev->p95_ms = ev->duration_s = NAN;
}

static void set_changes(bg_hook_event *ev, const bg_release *from, const bg_release *to)
{
    bg_release_diff d;
    bg_error e = {0};
    if (bg_release_diff_compute(&d, from, to, &e)) {
        bg_log_verbose("    hooks: cannot compare the releases (%s): assuming all changed", e.msg);
        return;
    }
    ev->model_changed = d.model;
    ev->templates_changed = d.n_added + d.n_removed + d.n_changed > 0;
    bg_release_diff_dispose(&d);
}

void bg_hook_event_changes(bg_hook_event *ev, const bg_release *to, const char *from_commit)
{
    ev->model_changed = ev->templates_changed = true;
    if (!to || !from_commit || !*from_commit)
        return;
    bg_release *from = NULL;
    bg_error e = {0};
    if (bg_release_resolve(&from, to->repo_root, from_commit, to->config_path, &e)) {
        bg_log_verbose("    hooks: the previous release is not readable (%s): assuming its "
                       "model and templates changed",
                       e.msg);
        return;
    }
    set_changes(ev, from, to);
    bg_release_free(from);
}

/* The config's path inside its repository and the repository's root (walk up to the
 * first directory holding .git). */
static bool repo_location(char *root, size_t rootsz, char *rel, size_t relsz, const char *path)
{
    char real[PATH_MAX], probe[PATH_MAX + 8];
    if (!path || !realpath(path, real))
        return false;
    for (size_t cut = strlen(real); cut > 0;) {
        while (cut > 0 && real[cut - 1] != '/')
            cut--;
        if (cut == 0)
            break;
        snprintf(probe, sizeof probe, "%.*s.git", (int)cut, real);
        if (access(probe, F_OK) == 0) {
            snprintf(root, rootsz, "%.*s", (int)cut, real);
            snprintf(rel, relsz, "%s", real + cut);
            return true;
        }
        cut--;
    }
    return false;
}

void bg_hook_event_changes_commits(bg_hook_event *ev, const bg_config *cfg,
                                   const char *from_commit, const char *to_commit)
{
    ev->model_changed = ev->templates_changed = true;
    char root[PATH_MAX], rel[PATH_MAX];
    if (!to_commit || !*to_commit || !from_commit || !*from_commit)
        return;
    if (!repo_location(root, sizeof root, rel, sizeof rel, cfg->path)) {
        bg_log_verbose("    hooks: the config is not in a git repository: assuming the model "
                       "and templates changed");
        return;
    }
    bg_release *to = NULL;
    bg_error e = {0};
    if (bg_release_resolve(&to, root, to_commit, rel, &e) == 0)
        bg_hook_event_changes(ev, to, from_commit);
    else
        bg_log_verbose("    hooks: release of %.12s is not readable (%s): assuming its model "
                       "and templates changed",
                       to_commit, e.msg);
    bg_release_free(to);
}

/* ---- running a hook ---- */

static const char *str(const char *s)
{
    return s ? s : "";
}

static int env_add(char **v, size_t *n, const char *name, const char *value)
{
    char *entry = *n < MAX_ENV ? bg_asprintf("%s=%s", name, str(value)) : NULL;
    if (!entry)
        return BG_ENOMEM;
    v[(*n)++] = entry;
    return 0;
}

static int env_number(char **v, size_t *n, const char *name, double x, int decimals)
{
    if (isnan(x))
        return 0;
    char text[64];
    snprintf(text, sizeof text, "%.*f", decimals, x);
    return env_add(v, n, name, text);
}

/* The hook's extra environment, NULL-terminated; NULL on allocation failure. */
static char **build_env(bg_hook_id id, const bg_hook_event *ev)
{
    char **v = calloc(MAX_ENV + 1, sizeof *v);
    size_t n = 0;
    if (!v)
        return NULL;
    int rc = env_add(v, &n, "BG_HOOK", bg_hook_name(id));
    rc |= env_add(v, &n, "BG_ACTION", ev->action);
    rc |= env_add(v, &n, "BG_ENVIRONMENT", ev->environment);
    rc |= env_add(v, &n, "BG_RELEASE_ID", ev->release_id);
    rc |= env_add(v, &n, "BG_COMMIT", ev->commit);
    rc |= env_add(v, &n, "BG_MODEL", ev->model);
    rc |= env_add(v, &n, "BG_MODEL_REVISION", ev->model_revision);
    rc |= env_add(v, &n, "BG_SERVED_MODEL", ev->served_model);
    rc |= env_add(v, &n, "BG_POOL", ev->pool);
    rc |= env_add(v, &n, "BG_LIVE_POOL", ev->live_pool);
    rc |= env_add(v, &n, "BG_PREVIOUS_RELEASE_ID", ev->previous_release_id);
    rc |= env_add(v, &n, "BG_MODEL_CHANGED", ev->model_changed ? "1" : "0");
    rc |= env_add(v, &n, "BG_TEMPLATES_CHANGED", ev->templates_changed ? "1" : "0");
    rc |= env_add(v, &n, "BG_DECISION", ev->decision);
    rc |= env_add(v, &n, "BG_MESSAGE", ev->message);
    rc |= env_number(v, &n, "BG_PASS_RATE", ev->pass_rate, 4);
    rc |= env_number(v, &n, "BG_P95_MS", ev->p95_ms, 0);
    if (rc) {
        free_strv(v);
        return NULL;
    }
    return v;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int bg_hooks_run(const bg_hooks *h, bg_hook_id id, const bg_hook_event *ev, bg_error *err)
{
    if (!bg_hooks_has(h, id))
        return 0;
    const bg_hook *hk = &h->hook[id];
    const char *name = bg_hook_name(id);
    char **env = build_env(id, ev);
    if (!env)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    char prefix[32], last[BG_SPAWN_LAST_LINE_MAX] = "";
    snprintf(prefix, sizeof prefix, "[%s] ", name);
    int code = -1;
    bg_log_info("    hook %s: %s", name, base_name(hk->argv[0]));
    int rc = bg_spawn_stream((const char *const *)hk->argv, (const char *const *)env,
                             hk->timeout_s * 1000, prefix, last, &code, err);
    if (rc)
        bg_error_prefix(err, "%s", name);
    else if (code != 0)
        rc = bg_error_set(err, BG_EPROTO, "%s: %s exited %d%s%s", name, base_name(hk->argv[0]),
                          code, last[0] ? ": " : "", last);
    free_strv(env);
    return rc;
}

void bg_hooks_run_warn(const bg_hooks *h, bg_hook_id id, const bg_hook_event *ev)
{
    bg_error e = {0};
    if (bg_hooks_run(h, id, ev, &e))
        bg_log_warn("hook %s failed (the outcome stands): %s", bg_hook_name(id), e.msg);
}

/* ---- notifications ---- */

/* Slack's text escaping: &, < and > are control characters of its markup. */
static void slack_escape(char *out, size_t outsz, const char *s)
{
    size_t n = 0;
    for (; *s && n + 6 < outsz; s++) {
        const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        if (rep) {
            memcpy(out + n, rep, strlen(rep));
            n += strlen(rep);
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
}

/* "bg-gate production: deploy promoted — release 1a2b3c4d5e6f (commit 0123456789ab,
 * model llama-8b) on green; pass rate 100.0 %, p95 812 ms; <message>" */
static void slack_text(char *out, size_t outsz, const bg_hook_event *ev)
{
    char gate[96] = "", msg[600] = "", line[1200];
    if (!isnan(ev->pass_rate))
        snprintf(gate, sizeof gate, "; pass rate %.1f %%%s", ev->pass_rate * 100.0,
                 isnan(ev->p95_ms) ? "" : ",");
    if (!isnan(ev->p95_ms))
        snprintf(gate + strlen(gate), sizeof gate - strlen(gate), "%s p95 %.0f ms",
                 isnan(ev->pass_rate) ? ";" : "", ev->p95_ms);
    if (ev->message && *ev->message)
        snprintf(msg, sizeof msg, "; %s", ev->message);
    snprintf(line, sizeof line, "bg-gate %s: %s %s — release %.12s (commit %.12s, model %s) on %s%s%s",
             str(ev->environment), str(ev->action), ev->decision ? ev->decision : "started",
             str(ev->release_id), str(ev->commit), str(ev->served_model), str(ev->pool), gate,
             msg);
    slack_escape(out, outsz, line);
}

static void add_str(cJSON *o, const char *key, const char *value)
{
    if (value)
        cJSON_AddStringToObject(o, key, value);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_num(cJSON *o, const char *key, double x)
{
    if (isnan(x))
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, x);
}

cJSON *bg_hooks_payload(const bg_hook_event *ev)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char text[2048], at[32];
    slack_text(text, sizeof text, ev);
    bg_iso8601(at, sizeof at, bg_wall_s());
    cJSON_AddStringToObject(o, "text", text);
    cJSON_AddStringToObject(o, "environment", str(ev->environment));
    cJSON_AddStringToObject(o, "action", str(ev->action));
    add_str(o, "decision", ev->decision);
    cJSON_AddStringToObject(o, "release_id", str(ev->release_id));
    cJSON_AddStringToObject(o, "commit", str(ev->commit));
    cJSON_AddStringToObject(o, "model", str(ev->model));
    cJSON_AddStringToObject(o, "model_revision", str(ev->model_revision));
    cJSON_AddStringToObject(o, "served_model", str(ev->served_model));
    cJSON_AddStringToObject(o, "pool", str(ev->pool));
    add_str(o, "live_pool", ev->live_pool && *ev->live_pool ? ev->live_pool : NULL);
    add_str(o, "previous_release_id",
            ev->previous_release_id && *ev->previous_release_id ? ev->previous_release_id : NULL);
    cJSON_AddBoolToObject(o, "model_changed", ev->model_changed);
    cJSON_AddBoolToObject(o, "templates_changed", ev->templates_changed);
    add_num(o, "pass_rate", ev->pass_rate);
    add_num(o, "p95_ms", ev->p95_ms);
    add_str(o, "message", ev->message && *ev->message ? ev->message : NULL);
    add_num(o, "duration_s", ev->duration_s);
    cJSON_AddStringToObject(o, "at", at);
    return o;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* POSTs body; errors name only the URL's origin. */
static int post_json(const char *url, const char *body, long timeout_s, bg_error *err)
{
    char origin[256], eb[CURL_ERROR_SIZE] = "";
    bg_url_origin(origin, sizeof origin, url);
    CURL *e = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (!e || !h) {
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "bg-gate");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, eb);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    if (cc != CURLE_OK) {
        /* curl's messages name hosts, not paths; never let a path (the secret) through */
        const char *path = strchr(strstr(url, "://") + 3, '/');
        const char *why = eb[0] && !(path && path[1] && strstr(eb, path)) ? eb
                                                                         : curl_easy_strerror(cc);
        return bg_error_set(err, BG_ENET, "webhook %s: %s", origin, why);
    }
    if (status < 200 || status > 299)
        return bg_error_set(err, BG_EPROTO, "webhook %s: HTTP %ld", origin, status);
    return 0;
}

int bg_hooks_notify(const bg_hooks *h, const bg_hook_event *ev, bg_error *err)
{
    int e = ev->decision ? event_index(ev->decision) : -1;
    if (!h || (!h->webhook_url && !h->webhook_url_env) || e < 0 || !(h->notify_on & (1u << e)))
        return 0;
    const char *url = h->webhook_url;
    if (!url) {
        url = getenv(h->webhook_url_env);
        if (!url || !*url)
            return bg_error_set(err, BG_EINVAL, "notify.webhook_url_env: $%s is not set",
                                h->webhook_url_env);
        char path[128];
        snprintf(path, sizeof path, "notify.webhook_url_env: $%s", h->webhook_url_env);
        int rc = check_webhook_url(url, path, err);
        if (rc)
            return rc;
    }
    cJSON *p = bg_hooks_payload(ev);
    char *body = p ? cJSON_PrintUnformatted(p) : NULL;
    cJSON_Delete(p);
    if (!body)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    char origin[256];
    bg_url_origin(origin, sizeof origin, url);
    bg_log_verbose("    notify: %s to %s", ev->decision, origin);
    int rc = post_json(url, body, h->notify_timeout_s, err);
    free(body);
    return rc;
}

void bg_hooks_notify_warn(const bg_hooks *h, const bg_hook_event *ev)
{
    bg_error e = {0};
    if (bg_hooks_notify(h, ev, &e))
        bg_log_warn("notification not sent (the outcome stands): %s", e.msg);
}
