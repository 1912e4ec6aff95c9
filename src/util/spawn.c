/* spawn.c — runs external commands as an argv with posix_spawnp (never through a shell),
 * with a deadline, and either captures their combined output (bounded: the last
 * BG_SPAWN_OUTPUT_MAX bytes) or streams it line by line to the log with a prefix.
 *
 * One loop serves both: poll the output pipe in short slices, hand bytes to a sink, reap
 * the child with WNOHANG, and at the deadline — or when SIGINT/SIGTERM arrives while it
 * runs (cancel.h) — kill the child's process group (SIGTERM, grace, SIGKILL). It does not interpret exit codes; callers decide what a non-zero exit
 * means. See spawn.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bggate/cancel.h"
#include "bggate/log.h"
#include "bggate/spawn.h"
#include "bggate/util.h"

extern char **environ;

/* Where output bytes go: capture (bounded tail) or line-by-line streaming. */
typedef struct spawn_sink {
    void (*put)(struct spawn_sink *s, const char *p, size_t n);
    /* capture */
    char *data;
    size_t len, max;
    bool cut;
    /* stream */
    const char *prefix;
    char line[BG_SPAWN_LINE_MAX + 1];
    size_t line_len;
    char last[BG_SPAWN_LAST_LINE_MAX]; /* the last non-blank line streamed */
} spawn_sink;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* --- sinks --- */

/* Keeps the last `max` bytes: older bytes are shifted out and `cut` is remembered. */
static void capture_put(spawn_sink *s, const char *p, size_t n)
{
    if (s->max == 0)
        return;
    if (n >= s->max) {
        memcpy(s->data, p + (n - s->max), s->max);
        s->cut = s->cut || s->len > 0 || n > s->max;
        s->len = s->max;
        return;
    }
    if (s->len + n > s->max) {
        size_t drop = s->len + n - s->max;
        memmove(s->data, s->data + drop, s->len - drop);
        s->len -= drop;
        s->cut = true;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
}

static void stream_flush(spawn_sink *s)
{
    if (s->line_len && s->line[s->line_len - 1] == '\r')
        s->line_len--;
    s->line[s->line_len] = '\0';
    bg_log_info("%s%s", s->prefix ? s->prefix : "", s->line);
    if (s->line[strspn(s->line, " \t")] != '\0')
        snprintf(s->last, sizeof s->last, "%s", s->line);
    s->line_len = 0;
}

static void stream_put(spawn_sink *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            stream_flush(s);
            continue;
        }
        s->line[s->line_len++] = p[i];
        if (s->line_len == BG_SPAWN_LINE_MAX)
            stream_flush(s);
    }
}

/* --- environment --- */

static size_t env_key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

static bool env_overridden(const char *kv, const char *const *extra)
{
    size_t k = env_key_len(kv);
    for (size_t i = 0; extra && extra[i]; i++)
        if (env_key_len(extra[i]) == k && strncmp(kv, extra[i], k) == 0)
            return true;
    return false;
}

/* environ without the variables env_extra sets, then env_extra. The array is owned by the
 * caller; the strings are borrowed. */
static int build_env(char ***out, const char *const *extra, bg_error *err)
{
    size_t n = 0, k = 0;
    while (environ && environ[n])
        n++;
    for (; extra && extra[k]; k++)
        if (!strchr(extra[k], '=') || extra[k][0] == '=')
            return bg_error_set(err, BG_EINVAL, "environment entry \"%s\" is not K=V", extra[k]);
    char **env = calloc(n + k + 1, sizeof *env);
    if (!env)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (!env_overridden(environ[i], extra))
            env[o++] = environ[i];
    for (size_t i = 0; i < k; i++)
        env[o++] = (char *)extra[i];
    *out = env;
    return 0;
}

/* --- the child --- */

/* Checks that argv0 names an executable (itself when it has a '/', else through PATH) and
 * returns 0 or an errno. posix_spawnp reports the same, but not under every runtime (e.g.
 * valgrind turns it into an exit 127), so the check is made up front. */
static int check_program(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0 ? 0 : errno;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/bin:/usr/bin";
    int found = ENOENT;
    for (const char *p = path; found && *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *full = bg_asprintf("%.*s/%s", (int)n, n ? p : ".", prog);
        if (!full)
            return ENOMEM;
        if (access(full, X_OK) == 0)
            found = 0;
        else if (errno == EACCES)
            found = EACCES;
        free(full);
        p = end ? end + 1 : p + n;
    }
    return found;
}

static int start_child(pid_t *pid, int *rfd, const char *const *argv, char **env,
                       bg_error *err)
{
    int fds[2] = {-1, -1}, rc = 0;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, deflt;

    int e = check_program(argv[0]);
    if (e != 0)
        return bg_error_set(err, BG_EIO, "%s: cannot run: %s", argv[0], strerror(e));
    if (pipe2(fds, O_CLOEXEC) < 0)
        return bg_error_set(err, BG_EIO, "%s: pipe: %s", argv[0], strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    /* own process group (so a timeout kills grandchildren too), default signals, no mask */
    sigemptyset(&none);
    sigfillset(&deflt);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &deflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    e = posix_spawnp(pid, argv[0], &fa, &attr, (char *const *)argv, env);
    if (e != 0) {
        rc = bg_error_set(err, BG_EIO, "%s: cannot run: %s", argv[0], strerror(e));
        close(fds[0]);
        fds[0] = -1;
    } else {
        fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    }
    close(fds[1]);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    *rfd = fds[0];
    return rc;
}

/* Reads what is available; returns false at EOF or on a read error. */
static bool drain(int fd, spawn_sink *sink)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            sink->put(sink, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

/* At the deadline: SIGTERM to the group, a grace period, then SIGKILL; always reaps. */
static void kill_child(pid_t pid)
{
    int status;
    kill(-pid, SIGTERM);
    double until = bg_now_ms() + BG_SPAWN_KILL_GRACE_MS;
    while (bg_now_ms() < until) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            kill(-pid, SIGKILL); /* stragglers in the group */
            return;
        }
        sleep_ms(5);
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
}

#define SUPERVISE_TIMEOUT (-1)
#define SUPERVISE_CANCELED (-2)

/* Feeds output to the sink until the child exits, the deadline passes or (when
 * `cancelable`) SIGINT/SIGTERM arrives. Returns the wait status, or SUPERVISE_TIMEOUT /
 * SUPERVISE_CANCELED (the child was killed and reaped). */
static int supervise(pid_t pid, int fd, double deadline, bool cancelable, spawn_sink *sink)
{
    int status = 0;
    for (;;) {
        double left = deadline - bg_now_ms();
        bool canceled = cancelable && bg_cancelled();
        if (left <= 0 || canceled) {
            kill_child(pid);
            if (fd >= 0) {
                drain(fd, sink);
                close(fd);
            }
            return canceled ? SUPERVISE_CANCELED : SUPERVISE_TIMEOUT;
        }
        int slice = left < 20 ? (int)left + 1 : 20;
        if (fd >= 0) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            if (poll(&p, 1, slice) > 0 && !drain(fd, sink)) {
                close(fd);
                fd = -1;
            }
        }
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) {
            if (fd >= 0) {
                drain(fd, sink); /* what the child wrote before exiting */
                close(fd);
            }
            return r == pid ? status : 0;
        }
        if (fd < 0)
            sleep_ms(2);
    }
}

static int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

static int run(const char *const *argv, const char *const *env_extra, long timeout_ms,
               spawn_sink *sink, int *exit_code, bg_error *err)
{
    char **env = NULL;
    pid_t pid = 0;
    int fd = -1, rc;

    if (exit_code)
        *exit_code = -1;
    if (!argv || !argv[0] || !argv[0][0])
        return bg_error_set(err, BG_EINVAL, "empty command");
    if (timeout_ms <= 0)
        return bg_error_set(err, BG_EINVAL, "%s: timeout must be positive", argv[0]);
    rc = build_env(&env, env_extra, err);
    if (rc < 0)
        goto cleanup;
    double deadline = bg_now_ms() + (double)timeout_ms;
    /* a cancel that is already pending means we are restoring a safe state: run to the end */
    bool cancelable = !bg_cancelled();
    rc = start_child(&pid, &fd, argv, env, err);
    if (rc < 0)
        goto cleanup;
    int status = supervise(pid, fd, deadline, cancelable, sink);
    if (status == SUPERVISE_TIMEOUT) {
        rc = bg_error_set(err, BG_ETIMEOUT, "%s: no exit within %ld ms", argv[0], timeout_ms);
        goto cleanup;
    }
    if (status == SUPERVISE_CANCELED) {
        rc = bg_error_set(err, BG_ECANCELED, "%s: stopped by %s", argv[0],
                          strsignal(bg_cancel_signal()));
        goto cleanup;
    }
    if (exit_code)
        *exit_code = exit_code_of(status);
cleanup:
    free(env);
    return rc;
}

int bg_spawn_run(const char *const *argv, const char *const *env_extra, long timeout_ms,
                 bg_buf *out, int *exit_code, bg_error *err)
{
    spawn_sink sink = {.put = capture_put};
    int rc;

    sink.max = BG_SPAWN_OUTPUT_MAX;
    if (out && out->limit) {
        size_t room = out->limit > out->len ? out->limit - out->len : 0;
        room = room > strlen("…") ? room - strlen("…") : 0;
        if (room < sink.max)
            sink.max = room;
    }
    if (out && sink.max) {
        sink.data = malloc(sink.max);
        if (!sink.data)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    } else {
        sink.max = 0;
    }
    rc = run(argv, env_extra, timeout_ms, &sink, exit_code, err);
    /* the output is kept on failure too: a timed-out command's last words explain it */
    if (out && sink.len) {
        int brc = 0;
        if (sink.cut)
            brc = bg_buf_puts(out, "…");
        if (brc == 0)
            brc = bg_buf_append(out, sink.data, sink.len);
        if (brc < 0 && rc == 0)
            rc = bg_error_set(err, brc, "%s: output: out of memory", argv[0]);
    }
    free(sink.data);
    return rc;
}

int bg_spawn_stream(const char *const *argv, const char *const *env_extra, long timeout_ms,
                    const char *prefix, char *last_line, int *exit_code, bg_error *err)
{
    spawn_sink *sink = calloc(1, sizeof *sink);
    if (!sink)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    sink->put = stream_put;
    sink->prefix = prefix;
    int rc = run(argv, env_extra, timeout_ms, sink, exit_code, err);
    if (sink->line_len)
        stream_flush(sink); /* a last line without a newline */
    if (last_line)
        memcpy(last_line, sink->last, sizeof sink->last);
    free(sink);
    return rc;
}
