/* proc.c — process and file helpers for end-to-end tests (see proc.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

extern char **environ;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *bgt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/bg-gate-test.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void bgt_rmtree(const char *dir)
{
    if (dir && strncmp(dir, "/tmp/", 5) == 0 && !getenv("BG_KEEP_TMP"))
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *bgt_src(const char *rel)
{
    const char *root = getenv("BG_SOURCE_DIR");
    char *out = NULL;
    if (asprintf(&out, "%s/%s", root ? root : ".", rel) < 0)
        return NULL;
    return out;
}

char *bgt_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 >= cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Builds the extra entries followed by environ: getenv returns the first match, so an
 * extra entry overrides an inherited one of the same name. */
static char **merged_env(const char *const *extra)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    while (extra && extra[k])
        k++;
    char **env = calloc(n + k + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < k; i++)
        env[o++] = (char *)extra[i];
    for (size_t i = 0; i < n; i++)
        env[o++] = environ[i];
    return env;
}

static pid_t spawn(const char *const *argv, const char *cwd, const char *const *env,
                   const char *out_path, const char *err_path)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    char **envp = merged_env(env);
    pid_t pid = -1;
    if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, envp) != 0)
        pid = -1;
    free(envp);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Waits for pid up to timeout_ms; kills it after. Returns the exit code, or -1. */
static int wait_for(pid_t pid, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (w < 0)
            return -1;
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sleep_ms(5);
    }
}

void bgt_run_gate(bgt_result *res, const char *cwd, const char *const *env,
                  const char *const *args, int timeout_s)
{
    memset(res, 0, sizeof *res);
    const char *bin = getenv("BG_GATE_BIN");
    char *dir = bgt_tmpdir();
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin ? bin : "bg-gate";
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    double t0 = now_ms();
    pid_t pid = spawn(argv, cwd, env, out_path, err_path);
    res->exit_code = pid > 0 ? wait_for(pid, timeout_s * 1000) : -1;
    res->elapsed_ms = now_ms() - t0;
    res->out = bgt_read_file(out_path);
    res->err = bgt_read_file(err_path);
    if (!res->out)
        res->out = strdup("");
    if (!res->err)
        res->err = strdup("");
    bgt_rmtree(dir);
    free(dir);
}

void bgt_result_dispose(bgt_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

int bgt_mock_start(bgt_mock *m, const char *dir, const char *name, const char *const *args)
{
    memset(m, 0, sizeof *m);
    m->pid = -1;
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    char port_file[600], pid_file[600], out_path[600];
    snprintf(port_file, sizeof port_file, "%s/%s.port", dir, name);
    snprintf(pid_file, sizeof pid_file, "%s/%s.pid", dir, name);
    snprintf(out_path, sizeof out_path, "%s/%s.out", dir, name);
    snprintf(m->log_path, sizeof m->log_path, "%s/%s.log", dir, name);
    snprintf(m->req_log, sizeof m->req_log, "%s/%s.requests.jsonl", dir, name);
    const char *bin = getenv("BG_MOCK_BIN");
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin ? bin : "bg-mock";
    const char *fixed[] = {"--host", "127.0.0.1", "--port", "0", "--port-file", port_file,
                           "--pid-file", pid_file, "--request-log", m->req_log, NULL};
    for (size_t i = 0; fixed[i]; i++)
        argv[n++] = fixed[i];
    for (size_t i = 0; args && args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    m->pid = spawn(argv, NULL, NULL, out_path, m->log_path);
    if (m->pid <= 0)
        return -1;
    double deadline = now_ms() + 10000;
    while (now_ms() < deadline) {
        char *s = bgt_read_file(port_file);
        if (s && strchr(s, '\n')) {
            m->port = (int)strtol(s, NULL, 10);
            free(s);
            snprintf(m->url, sizeof m->url, "http://127.0.0.1:%d/v1", m->port);
            return 0;
        }
        free(s);
        int status;
        if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
            m->pid = -1;
            break;
        }
        sleep_ms(10);
    }
    char *log = bgt_read_file(m->log_path);
    fprintf(stderr, "bg-mock %s did not start; its log:\n%s\n", name, log ? log : "(none)");
    free(log);
    bgt_mock_stop(m);
    return -1;
}

int bgt_mock_stop(bgt_mock *m)
{
    if (m->pid <= 0)
        return -1;
    kill(m->pid, SIGTERM);
    int rc = wait_for(m->pid, 5000);
    m->pid = -1;
    return rc;
}

int bgt_mock_request_count(const bgt_mock *m)
{
    char *s = bgt_read_file(m->req_log);
    int n = 0;
    for (char *p = s; p && *p; p++)
        n += *p == '\n';
    free(s);
    return n;
}

/* Binds 127.0.0.1:port (0: any) and returns the port bound, or -1. */
static int try_bind(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int got = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        got = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return got;
}

/* The lowest port the kernel hands out for outgoing connections (32768 by default). */
static int ephemeral_low(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    int low = 32768, high = 0;
    if (f) {
        if (fscanf(f, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose(f);
    }
    return low;
}

/* A port below the ephemeral range: a pool that is stopped and restarted on the same port
 * must not find it taken by some outgoing connection (nginx's keep-alive to the other
 * pool, a health check) that the kernel gave that port as its source — bind would fail
 * with EADDRINUSE, at random. */
int bgt_free_port(void)
{
    static unsigned seed;
    int low = ephemeral_low(), base = 15000;
    if (!seed)
        seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    for (int i = 0; low - base > 1000 && i < 500; i++) {
        int port = base + (int)(rand_r(&seed) % (unsigned)(low - base));
        if (try_bind(port) == port)
            return port;
    }
    return try_bind(0);
}

int bgt_run_cmd(const char *const *argv, int timeout_s)
{
    pid_t pid = spawn(argv, NULL, NULL, "/dev/null", "/dev/null");
    return pid > 0 ? wait_for(pid, timeout_s * 1000) : -1;
}

int bgt_run_cmd_env(const char *const *argv, const char *const *env, int timeout_s)
{
    pid_t pid = spawn(argv, NULL, env, "/dev/null", "/dev/null");
    return pid > 0 ? wait_for(pid, timeout_s * 1000) : -1;
}

pid_t bgt_spawn_gate(const char *cwd, const char *const *args, const char *dir)
{
    const char *bin = getenv("BG_GATE_BIN");
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin ? bin : "bg-gate";
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    char out[600], err[600];
    snprintf(out, sizeof out, "%s/bg-gate.stdout", dir);
    snprintf(err, sizeof err, "%s/bg-gate.stderr", dir);
    return spawn(argv, cwd, NULL, out, err);
}

int bgt_wait(pid_t pid, int timeout_s)
{
    return wait_for(pid, timeout_s * 1000);
}
