/* lock.c — the environment lock: one deploy at a time (see state.h).
 *
 * The lock is flock(LOCK_EX) on `<state.dir>/<environment>.lock`, taken without waiting
 * and held for a whole deploy. The kernel drops it when the holder dies, however it dies,
 * so a crashed deploy never blocks the next one. The file's content is only a record of
 * the holder, {"pid", "host", "started_at", "job_url"}, written after the lock is taken
 * and cleared on release, so a second deploy can say who is in its way. A record left by
 * a process that died on this host is reported as stale and overwritten. This file does
 * not wait for a lock, and it never removes the lock file (removing it would let two
 * processes lock two different inodes).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/types.h>
#include <unistd.h>

#include "bggate/buf.h"
#include "bggate/json.h"
#include "bggate/log.h"
#include "bggate/state.h"
#include "bggate/util.h"

/* A holder record is a few hundred bytes; more is not ours and is not read. */
#define LOCK_RECORD_MAX 4096

struct bg_lock {
    int fd;
    char *path;
};

/* What the lock file says about its holder; fields absent from the record stay 0/"". */
typedef struct holder {
    long pid;
    char host[256];
    char started_at[64];
    char job_url[512];
} holder;

static void own_host(char *out, size_t outsz)
{
    if (gethostname(out, outsz) < 0)
        bg_strlcpy(out, "unknown-host", outsz);
    out[outsz - 1] = '\0';
}

/* The CI job running us: GitHub Actions' run URL, else GitLab's $CI_JOB_URL, else NULL.
 * Caller frees. */
static char *job_url(void)
{
    const char *server = getenv("GITHUB_SERVER_URL");
    const char *repo = getenv("GITHUB_REPOSITORY");
    const char *run = getenv("GITHUB_RUN_ID");
    if (server && *server && repo && *repo && run && *run)
        return bg_asprintf("%s/%s/actions/runs/%s", server, repo, run);
    const char *ci = getenv("CI_JOB_URL");
    return ci && *ci ? bg_strdup(ci) : NULL;
}

char *bg_lock_describe_self(void)
{
    char host[256];
    own_host(host, sizeof host);
    char *url = job_url();
    char *s = url ? bg_asprintf("pid %ld on %s (%s)", (long)getpid(), host, url)
                  : bg_asprintf("pid %ld on %s", (long)getpid(), host);
    free(url);
    return s;
}

static void copy_member(char *out, size_t outsz, const cJSON *rec, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(rec, key);
    if (cJSON_IsString(it))
        bg_strlcpy(out, it->valuestring, outsz);
}

/* Reads the holder record; a missing, empty or unreadable one leaves h zeroed. */
static void read_holder(holder *h, int fd)
{
    char buf[LOCK_RECORD_MAX + 1];
    memset(h, 0, sizeof *h);
    ssize_t n = pread(fd, buf, LOCK_RECORD_MAX, 0);
    if (n <= 0)
        return;
    buf[n] = '\0';
    cJSON *rec = cJSON_Parse(buf);
    if (!cJSON_IsObject(rec))
        goto cleanup;
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(rec, "pid");
    /* only a plausible process id: kill() with 0 or -1 would signal groups */
    if (cJSON_IsNumber(pid) && pid->valuedouble > 1 && pid->valuedouble <= INT_MAX &&
        pid->valuedouble == (double)(long)pid->valuedouble)
        h->pid = (long)pid->valuedouble;
    copy_member(h->host, sizeof h->host, rec, "host");
    copy_member(h->started_at, sizeof h->started_at, rec, "started_at");
    copy_member(h->job_url, sizeof h->job_url, rec, "job_url");
cleanup:
    cJSON_Delete(rec);
}

/* The BG_ELOCKED message, with whichever parts the record has. */
static int locked_error(const holder *h, const char *path, bg_error *err)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    bg_buf_puts(&b, "another deploy holds the lock");
    if (h->pid || h->host[0] || h->started_at[0]) {
        bg_buf_putc(&b, ':');
        if (h->pid)
            bg_buf_printf(&b, " pid %ld", h->pid);
        if (h->host[0])
            bg_buf_printf(&b, " on %s", h->host);
        if (h->started_at[0])
            bg_buf_printf(&b, " since %s", h->started_at);
    } else {
        bg_buf_printf(&b, " %s (no holder recorded yet)", path);
    }
    if (h->job_url[0])
        bg_buf_printf(&b, " (%s)", h->job_url);
    int rc = bg_error_set(err, BG_ELOCKED, "%s", bg_buf_cstr(&b));
    bg_buf_dispose(&b);
    return rc;
}

/* A record of a process that no longer runs on this host is stale: say so. */
static void warn_if_stale(const holder *h, const char *own)
{
    if (h->pid <= 1 || strcmp(h->host, own) != 0)
        return;
    if (kill((pid_t)h->pid, 0) < 0 && errno == ESRCH)
        bg_log_warn("breaking a stale lock left by pid %ld (no longer running)", h->pid);
}

/* Replaces the file's content with our holder record and syncs it. */
static int write_holder(int fd, const char *host, const char *path, bg_error *err)
{
    char when[32];
    char *url = job_url();
    char *compact = NULL, *text = NULL;
    int rc = 0;
    cJSON *rec = cJSON_CreateObject();
    bg_iso8601(when, sizeof when, bg_wall_s());
    if (!rec || !cJSON_AddNumberToObject(rec, "pid", (double)getpid()) ||
        !cJSON_AddStringToObject(rec, "host", host) ||
        !cJSON_AddStringToObject(rec, "started_at", when) ||
        !(url ? cJSON_AddStringToObject(rec, "job_url", url)
              : cJSON_AddNullToObject(rec, "job_url")) ||
        !(compact = bg_json_print(rec)) || !(text = bg_asprintf("%s\n", compact))) {
        rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    size_t len = strlen(text);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, len, 0) != (ssize_t)len || fsync(fd) < 0)
        rc = bg_error_set(err, BG_EIO, "%s: %s", path, strerror(errno));
cleanup:
    free(text);
    free(compact);
    free(url);
    cJSON_Delete(rec);
    return rc;
}

/* Takes flock on fd without waiting; BG_ELOCKED names the holder. */
static int take(int fd, const char *path, bg_error *err)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    if (errno != EWOULDBLOCK)
        return bg_error_set(err, BG_EIO, "%s: flock: %s", path, strerror(errno));
    holder h;
    read_holder(&h, fd);
    return locked_error(&h, path, err);
}

int bg_lock_acquire(bg_lock **out, const char *path, bg_error *err)
{
    bool held = false;
    bg_lock *l = NULL;
    *out = NULL;
    int rc = bg_mkdir_parent(path, err);
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return bg_error_set(err, BG_EIO, "%s: %s", path, strerror(errno));
    rc = take(fd, path, err);
    if (rc < 0)
        goto cleanup;
    held = true;
    char host[256];
    own_host(host, sizeof host);
    holder prev;
    read_holder(&prev, fd);
    warn_if_stale(&prev, host);
    rc = write_holder(fd, host, path, err);
    if (rc < 0)
        goto cleanup;
    l = calloc(1, sizeof *l);
    if (!l || !(l->path = bg_strdup(path))) {
        rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    l->fd = fd;
    fd = -1;
    *out = l;
    l = NULL;
cleanup:
    if (fd >= 0) {
        /* closing drops the flock; a record we may have half written goes first */
        if (held && ftruncate(fd, 0) < 0)
            bg_log_debug("%s: could not clear the lock record", path);
        close(fd);
    }
    free(l);
    return rc;
}

void bg_lock_release(bg_lock *l)
{
    if (!l)
        return;
    /* clear the record while still holding the lock, so nobody reads half of it */
    if (ftruncate(l->fd, 0) < 0 || fsync(l->fd) < 0)
        bg_log_warn("%s: could not clear the lock's holder record: %s", l->path, strerror(errno));
    flock(l->fd, LOCK_UN);
    close(l->fd);
    free(l->path);
    free(l);
}

int bg_lock_peek(bg_lock_holder *out, const char *path, bg_error *err)
{
    memset(out, 0, sizeof *out);
    /* read only: even a shared flock would make a deploy starting now exit 4 */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : bg_error_set(err, BG_EIO, "%s: %s", path, strerror(errno));
    holder h;
    read_holder(&h, fd);
    close(fd);
    out->recorded = h.pid != 0 || h.host[0] != '\0';
    out->pid = h.pid;
    bg_strlcpy(out->host, h.host, sizeof out->host);
    bg_strlcpy(out->started_at, h.started_at, sizeof out->started_at);
    bg_strlcpy(out->job_url, h.job_url, sizeof out->job_url);
    if (!out->recorded)
        return 0;
    char own[256];
    own_host(own, sizeof own);
    out->same_host = strcmp(h.host, own) == 0;
    /* a record outlives a SIGKILLed holder: on this host, the pid tells; elsewhere we
     * cannot check, and a record is only cleared by its holder's release */
    out->held = !out->same_host || h.pid <= 1 || kill((pid_t)h.pid, 0) == 0 || errno == EPERM;
    return 0;
}
