/* error.c — filling and prefixing bg_error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bggate/error.h"

void bg_error_clear(bg_error *err)
{
    if (!err)
        return;
    err->code = BG_OK;
    err->msg[0] = '\0';
}

int bg_error_set(bg_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

void bg_error_prefix(bg_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[BG_ERROR_MSG_MAX];
    char old[BG_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
}

const char *bg_error_code_name(int code)
{
    switch (code) {
    case BG_OK: return "ok";
    case BG_EINVAL: return "invalid input";
    case BG_ENOMEM: return "out of memory";
    case BG_EIO: return "i/o error";
    case BG_ENET: return "network";
    case BG_ETIMEOUT: return "timeout";
    case BG_ETOOBIG: return "too large";
    case BG_ENOTSUP: return "not supported";
    case BG_EPROTO: return "protocol";
    case BG_ELOCKED: return "locked";
    case BG_ECANCELED: return "canceled";
    default: return "unknown error";
    }
}
