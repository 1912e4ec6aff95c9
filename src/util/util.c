/* util.c — strings, numbers, time and files. Nothing here knows about bg-gate's
 * domain; every function is small and self-contained. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bggate/util.h"

char *bg_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *bg_strndup(const char *s, size_t n)
{
    return s ? strndup(s, n) : NULL;
}

char *bg_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

bool bg_str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool bg_str_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

size_t bg_strlcpy(char *dst, const char *src, size_t dstsz)
{
    size_t n = strlen(src);
    if (dstsz) {
        size_t k = n < dstsz - 1 ? n : dstsz - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

/* Length of the UTF-8 sequence starting with byte c (1 for invalid lead bytes). */
static size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    if ((c & 0xF8) == 0xF0)
        return 4;
    return 1;
}

void bg_excerpt(char *out, size_t outsz, const char *text, size_t len, size_t max_chars)
{
    static const char ellipsis[] = "\xE2\x80\xA6"; /* … */
    if (!outsz)
        return;
    size_t o = 0, i = 0;
    if (!text)
        len = 0;
    while (i < len) {
        size_t k = utf8_seq_len((unsigned char)text[i]);
        if (i + k > len)
            break;
        if (i + k > max_chars || o + k + sizeof ellipsis > outsz) {
            break;
        }
        for (size_t j = 0; j < k; j++) {
            unsigned char c = (unsigned char)text[i + j];
            out[o++] = (k == 1 && (c < 0x20 || c == 0x7F)) ? ' ' : (char)c;
        }
        i += k;
    }
    if (i < len && o + sizeof ellipsis <= outsz) {
        memcpy(out + o, ellipsis, sizeof ellipsis - 1);
        o += sizeof ellipsis - 1;
    }
    out[o] = '\0';
}

int bg_parse_long(long *out, const char *s, long min, long max)
{
    if (!s || !*s)
        return BG_EINVAL;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return BG_EINVAL;
    *out = v;
    return 0;
}

int bg_parse_double(double *out, const char *s, double min, double max)
{
    if (!s || !*s)
        return BG_EINVAL;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        return BG_EINVAL;
    *out = v;
    return 0;
}

double bg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double bg_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bg_iso8601(char *out, size_t outsz, double wall_s)
{
    time_t t = (time_t)wall_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int bg_file_read(char **out, size_t *len, const char *path, size_t limit, bg_error *err)
{
    int rc = 0;
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return bg_error_set(err, errno == ENOENT ? BG_EINVAL : BG_EIO, "%s: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = bg_error_set(err, BG_EINVAL, "%s: is a directory", path);
        goto cleanup;
    }
    size_t cap = 4096, n = 0;
    data = malloc(cap);
    if (!data) {
        rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", path);
        goto cleanup;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *p = realloc(data, cap * 2);
            if (!p) {
                rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", path);
                goto cleanup;
            }
            data = p;
            cap *= 2;
        }
        size_t got = fread(data + n, 1, cap - n - 1, f);
        n += got;
        if (n > limit) {
            rc = bg_error_set(err, BG_ETOOBIG, "%s: larger than %zu bytes", path, limit);
            goto cleanup;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = bg_error_set(err, BG_EIO, "%s: read error", path);
        goto cleanup;
    }
    data[n] = '\0';
    *out = data;
    if (len)
        *len = n;
    data = NULL;
cleanup:
    free(data);
    fclose(f);
    return rc;
}

/* Directory part of path ("." when none) into dir. */
static void dir_of(char *dir, size_t dirsz, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        bg_strlcpy(dir, ".", dirsz);
    } else if (slash == path) {
        bg_strlcpy(dir, "/", dirsz);
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= dirsz)
            n = dirsz - 1;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int bg_file_write_atomic(const char *path, const void *data, size_t len, bg_error *err)
{
    /* temp file in the same directory, write, fsync, rename, fsync the directory */
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return bg_error_set(err, BG_EINVAL, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return bg_error_set(err, BG_EIO, "%s: %s", path, strerror(errno));
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return bg_error_set(err, BG_EIO, "%s: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    close(fd);
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return bg_error_set(err, BG_EIO, "%s: %s", path, strerror(e));
    }
    char dir[PATH_MAX];
    dir_of(dir, sizeof dir, path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int bg_mkdir_p(const char *path, bg_error *err)
{
    char buf[PATH_MAX];
    if (bg_strlcpy(buf, path, sizeof buf) >= sizeof buf)
        return bg_error_set(err, BG_EINVAL, "%s: path too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return bg_error_set(err, BG_EIO, "%s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return bg_error_set(err, BG_EIO, "%s: %s", buf, strerror(errno));
    if (!bg_is_dir(buf))
        return bg_error_set(err, BG_EIO, "%s: not a directory", buf);
    return 0;
}

int bg_mkdir_parent(const char *path, bg_error *err)
{
    char dir[PATH_MAX];
    if (bg_strlcpy(dir, path, sizeof dir) >= sizeof dir)
        return bg_error_set(err, BG_EINVAL, "%s: path too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    return bg_mkdir_p(dir, err);
}

bool bg_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
