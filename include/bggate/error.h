/* error.h — the error type every module fills.
 *
 * Functions return 0 or a negative BG_E* code and, when they fail, write a one-line
 * message into a caller-owned bg_error. The innermost layer writes the cause; outer
 * layers only prefix what they alone know (file, line, JSON path). Messages never
 * contain secrets.
 */
#ifndef BGGATE_ERROR_H
#define BGGATE_ERROR_H

#include <stddef.h>

enum {
    BG_OK = 0,
    BG_EINVAL = -1,   /* bad input: usage, config, suite (exit 2) */
    BG_ENOMEM = -2,   /* allocation failed */
    BG_EIO = -3,      /* file system */
    BG_ENET = -4,     /* network / endpoint unreachable (exit 3) */
    BG_ETIMEOUT = -5, /* a deadline passed */
    BG_ETOOBIG = -6,  /* outside data exceeded a size cap (limits.h) */
    BG_ENOTSUP = -7,  /* optional driver operation absent */
    BG_EPROTO = -8,   /* a peer answered something we cannot parse */
    BG_ELOCKED = -9,  /* another deploy holds the environment's lock (exit 4) */
    BG_ECANCELED = -10 /* SIGINT/SIGTERM asked us to stop (exit 3) */
};

#define BG_ERROR_MSG_MAX 512

typedef struct bg_error {
    int code;
    char msg[BG_ERROR_MSG_MAX];
} bg_error;

/* Clears err (NULL-safe). */
void bg_error_clear(bg_error *err);

/* Writes a formatted message and code into err (NULL-safe); returns code so callers can
 * `return bg_error_set(err, BG_EINVAL, "...")`. */
int bg_error_set(bg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "<prefix>: " to the message already in err (NULL-safe). */
void bg_error_prefix(bg_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A short name for a code ("invalid input", "network", ...). */
const char *bg_error_code_name(int code);

#endif
