/* nginxfix.c — a real nginx for tests, and requests through it (see nginxfix.h). nginx
 * runs daemonised in a temp dir and is only ever found and stopped by the pid in its pid
 * file; the HTTP probe is one libcurl request per call.
 */
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bggate/buf.h"
#include "bggate/util.h"
#include "nginxfix.h"
#include "proc.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *bgt_nginx_conf(const char *dir, const char *modules, int workers, int connections,
                     const char *access_log, const char *http)
{
    return bg_asprintf("%2$s"
                       "worker_processes %3$d;\n"
                       "pid %1$s/nginx.pid;\n"
                       "error_log %1$s/error.log notice;\n"
                       "events { worker_connections %4$d; }\n"
                       "http {\n"
                       "    access_log %5$s;\n"
                       "    client_body_temp_path %1$s/client_body;\n"
                       "    proxy_temp_path %1$s/proxy;\n"
                       "    fastcgi_temp_path %1$s/fastcgi;\n"
                       "    uwsgi_temp_path %1$s/uwsgi;\n"
                       "    scgi_temp_path %1$s/scgi;\n"
                       "%6$s"
                       "}\n",
                       dir, modules, workers, connections, access_log, http);
}

char *bgt_replace_all(const char *text, const char *from, const char *to)
{
    bg_buf out;
    bg_buf_init(&out, 0);
    size_t flen = strlen(from);
    for (const char *p = text, *hit; *p; p = hit + flen) {
        hit = strstr(p, from);
        if (!hit) {
            bg_buf_puts(&out, p);
            break;
        }
        bg_buf_append(&out, p, (size_t)(hit - p));
        bg_buf_puts(&out, to);
    }
    return bg_buf_steal(&out);
}

char *bgt_nginx_snippet(const char *doc_rel, const char *dir, int port)
{
    char *doc_path = bgt_src(doc_rel);
    char *doc = bgt_read_file(doc_path);
    char *prefix = bg_asprintf("%s/", dir), *listen = bg_asprintf("127.0.0.1:%d", port);
    char *a = doc ? bgt_replace_all(doc, "/etc/nginx/bg-gate/", prefix) : NULL;
    char *b = a ? bgt_replace_all(a, "127.0.0.1:8080", listen) : NULL;
    free(doc_path);
    free(doc);
    free(prefix);
    free(listen);
    free(a);
    return b;
}

pid_t bgt_nginx_pid(const char *dir)
{
    char *path = bg_asprintf("%s/nginx.pid", dir);
    char *s = bgt_read_file(path);
    long pid = 0;
    free(path);
    if (s) {
        s[strcspn(s, "\n")] = '\0';
        bg_parse_long(&pid, s, 1, 1 << 22);
    }
    free(s);
    return (pid_t)pid;
}

int bgt_nginx_start(const char *dir, const char *conf_path, int timeout_s)
{
    char *elog = bg_asprintf("%s/error.log", dir);
    const char *argv[] = {BGT_NGINX_BIN, "-c", conf_path, "-p", dir, "-e", elog, NULL};
    int code = bgt_run_cmd(argv, timeout_s);
    free(elog);
    for (int i = 0; code == 0 && i < timeout_s * 100 && bgt_nginx_pid(dir) <= 0; i++)
        sleep_ms(10);
    return code == 0 && bgt_nginx_pid(dir) > 0 ? 0 : -1;
}

void bgt_nginx_stop(const char *dir)
{
    pid_t pid = bgt_nginx_pid(dir);
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500 && kill(pid, 0) == 0; i++)
        sleep_ms(10);
    if (kill(pid, 0) == 0)
        kill(pid, SIGKILL);
}

/* true when /proc/<pid>/stat names a live (not zombie) child of master. */
static bool is_live_child(long pid, pid_t master)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    char *stat = bgt_read_file(path);
    const char *close = stat ? strrchr(stat, ')') : NULL;
    char state = 0;
    long ppid = 0;
    bool yes = close && sscanf(close + 1, " %c %ld", &state, &ppid) == 2 && ppid == master &&
               state != 'Z';
    free(stat);
    return yes;
}

pid_t bgt_nginx_worker(const char *dir)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t master = bgt_nginx_pid(dir), one = 0;
    int n = 0;
    while (d && (e = readdir(d))) {
        long pid = 0;
        if (bg_parse_long(&pid, e->d_name, 1, 1 << 22) < 0)
            continue;
        if (is_live_child(pid, master)) {
            n++;
            one = (pid_t)pid;
        }
    }
    if (d)
        closedir(d);
    return n == 1 ? one : 0;
}

int bgt_mock_pair_start(bgt_mock *blue, bgt_mock *green, const char *dir,
                        const char *const *extra)
{
    const char *args_blue[32] = {"--model", "blue-model"};
    const char *args_green[32] = {"--model", "green-model"};
    for (size_t i = 0; extra && extra[i] && i + 3 < 32; i++)
        args_blue[i + 2] = args_green[i + 2] = extra[i];
    if (bgt_mock_start(blue, dir, "blue", args_blue) != 0 ||
        bgt_mock_start(green, dir, "green", args_green) != 0)
        return -1;
    return 0;
}

const char *bgt_router_test_missing(const char *tool, const char *package)
{
    static char why[256];
    if (tool && access(tool, X_OK) != 0) {
        snprintf(why, sizeof why, "%s is not installed (apt-get install %s)", tool, package);
        return why;
    }
    if (!getenv("BG_MOCK_BIN") || access(getenv("BG_MOCK_BIN"), X_OK) != 0)
        return "BG_MOCK_BIN is not set to the bg-mock binary (run through make)";
    return NULL;
}

const char *bgt_pair_setup(const char *dir, bgt_mock *blue, bgt_mock *green,
                           const char *const *extra, char *blue_addr, char *green_addr)
{
    memset(blue, 0, sizeof *blue);
    memset(green, 0, sizeof *green);
    blue->pid = green->pid = -1;
    chmod(dir, 0755); /* nginx workers run as another user when we are root */
    if (bgt_mock_pair_start(blue, green, dir, extra) != 0)
        return "bg-mock did not start";
    snprintf(blue_addr, 64, "127.0.0.1:%d", blue->port);
    snprintf(green_addr, 64, "127.0.0.1:%d", green->port);
    return NULL;
}

void bgt_nginx_pair_stop(const char *dir, bgt_mock *blue, bgt_mock *green)
{
    bgt_nginx_stop(dir);
    bgt_mock_stop(blue);
    bgt_mock_stop(green);
    bgt_rmtree(dir);
}

int bgt_router_from_json(bg_router **out, const char *json, bg_error *err)
{
    cJSON *root = cJSON_Parse(json);
    bg_pools pools;
    memset(&pools, 0, sizeof pools);
    int rc = root ? bg_pools_parse(&pools, root, err) : BG_EINVAL;
    if (!rc)
        rc = bg_router_new(out, root, &pools, err);
    bg_pools_dispose(&pools);
    cJSON_Delete(root);
    return rc;
}

void bgt_print_tail(const char *label, const char *path)
{
    char *text = bgt_read_file(path);
    size_t len = text ? strlen(text) : 0;
    const char *from = text && len > 4096 ? text + len - 4096 : text;
    fprintf(stderr, "--- %s (%s) ---\n%s\n", label, path, from ? from : "(missing)");
    free(text);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    bgt_answer *a = ud;
    size_t len = size * n;
    if (len > 15 && strncasecmp(p, "X-BG-Upstream:", 14) == 0)
        sscanf(p + 14, " %127[^\r\n]", a->upstream);
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    bgt_answer *a = ud;
    size_t len = size * n, room = sizeof a->body - 1 - a->len;
    memcpy(a->body + a->len, p, len < room ? len : room);
    a->len += len < room ? len : room;
    return len;
}

/* "model" of a chat answer, else the first model id of a /v1/models list. */
static void find_model(bgt_answer *a)
{
    cJSON *j = cJSON_ParseWithLength(a->body, a->len);
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "model"));
    if (!m)
        m = cJSON_GetStringValue(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "data"), 0), "id"));
    snprintf(a->model, sizeof a->model, "%s", m ? m : "");
    cJSON_Delete(j);
}

int bgt_http_ask(bgt_answer *a, const char *url, const char *post_json, long timeout_ms)
{
    return bgt_http_ask_with(a, url, post_json, NULL, timeout_ms);
}

int bgt_http_ask_with(bgt_answer *a, const char *url, const char *post_json,
                      const char *header, long timeout_ms)
{
    memset(a, 0, sizeof *a);
    CURL *e = curl_easy_init();
    if (!e)
        return CURLE_FAILED_INIT;
    struct curl_slist *h =
        post_json ? curl_slist_append(NULL, "Content-Type: application/json") : NULL;
    if (header)
        h = curl_slist_append(h, header);
    curl_easy_setopt(e, CURLOPT_URL, url);
    if (h)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (post_json)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, post_json);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, a);
    CURLcode rc = curl_easy_perform(e);
    if (rc == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    find_model(a);
    return (int)rc;
}

bool bgt_wait_healthy(int port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
    long status = 0;
    for (int i = 0; i < 200 && status != 200; i++) {
        bgt_answer a;
        bgt_http_ask(&a, url, NULL, 2000);
        status = a.status;
        if (status != 200)
            usleep(20 * 1000);
    }
    return status == 200;
}
