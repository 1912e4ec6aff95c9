/* haproxyfix.c — a real HAProxy for tests (see haproxyfix.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bggate/util.h"
#include "haproxyfix.h"
#include "nginxfix.h"
#include "proc.h"

extern char **environ;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* `text` with `from` replaced (it must occur), freeing text; NULL when it does not. */
static char *replace_once(char *text, const char *from, const char *to)
{
    char *out = text && strstr(text, from) ? bgt_replace_all(text, from, to) : NULL;
    free(text);
    return out;
}

int bgt_haproxy_write_cfg(const char *dir, int port, int tcp_port, const char *blue_addr,
                          const char *green_addr)
{
    char *doc = bgt_src("docs/haproxy.cfg");
    char *text = bgt_read_file(doc);
    char *sock = tcp_port ? bg_asprintf("%s/admin.sock mode 600 level admin\n"
                                        "    stats socket ipv4@127.0.0.1:%d level admin",
                                        dir, tcp_port)
                          : bg_asprintf("%s/admin.sock mode 600 level admin", dir);
    char *front = bg_asprintf("127.0.0.1:%d", port);
    text = replace_once(text, "/run/haproxy/admin.sock mode 660 level admin", sock);
    text = replace_once(text, "127.0.0.1:8080", front);
    text = replace_once(text, "10.0.0.11:8000", blue_addr);
    text = replace_once(text, "10.0.0.21:8000", green_addr);
    char *cfg = bg_asprintf("%s/haproxy.cfg", dir);
    bg_error err = {0};
    int rc = text ? bg_file_write_atomic(cfg, text, strlen(text), &err) : -1;
    free(doc);
    free(text);
    free(sock);
    free(front);
    free(cfg);
    return rc;
}

static bool socket_answers(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    bg_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    bool ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
    close(fd);
    return ok;
}

pid_t bgt_haproxy_start(const char *dir)
{
    char *cfg = bg_asprintf("%s/haproxy.cfg", dir), *log = bg_asprintf("%s/haproxy.log", dir);
    char *sock = bg_asprintf("%s/admin.sock", dir), *pidf = bg_asprintf("%s/haproxy.pid", dir);
    char *const argv[] = {BGT_HAPROXY_BIN, "-f", cfg, "-db", NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    unlink(sock);
    if (posix_spawn(&pid, BGT_HAPROXY_BIN, &fa, NULL, argv, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (pid > 0) {
        char text[32];
        int n = snprintf(text, sizeof text, "%d\n", (int)pid);
        bg_file_write_atomic(pidf, text, (size_t)n, NULL);
    }
    double deadline = bg_now_ms() + 10000;
    while (pid > 0 && !socket_answers(sock) && bg_now_ms() < deadline &&
           waitpid(pid, NULL, WNOHANG) == 0)
        sleep_ms(20);
    if (pid > 0 && !socket_answers(sock)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pid = -1;
    }
    free(cfg);
    free(log);
    free(sock);
    free(pidf);
    return pid;
}

static bool gone(pid_t pid)
{
    int st;
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid || kill(pid, 0) < 0)
        return true;
    if (w < 0 && errno == ECHILD) { /* not our child: a zombie counts as gone */
        char path[64], buf[512] = "";
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return true;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *paren = strrchr(buf, ')');
        return paren && paren[1] == ' ' && paren[2] == 'Z';
    }
    return false;
}

void bgt_haproxy_stop(const char *dir, pid_t pid)
{
    char *pidf = bg_asprintf("%s/haproxy.pid", dir);
    if (pid <= 0) {
        char *s = bgt_read_file(pidf);
        long v = 0;
        if (s) {
            s[strcspn(s, "\n")] = '\0';
            bg_parse_long(&v, s, 1, 1 << 22);
        }
        free(s);
        pid = (pid_t)v;
    }
    if (pid > 0) {
        kill(pid, SIGTERM);
        double deadline = bg_now_ms() + 5000;
        while (!gone(pid) && bg_now_ms() < deadline)
            sleep_ms(20);
        if (!gone(pid)) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
    unlink(pidf);
    free(pidf);
}

