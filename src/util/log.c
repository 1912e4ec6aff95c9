/* log.c — levelled human output on stderr (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bggate/log.h"

static bg_log_level g_level = BG_LOG_NORMAL;
static int g_color = -1;

void bg_log_set_level(bg_log_level level)
{
    g_level = level;
}

bg_log_level bg_log_get_level(void)
{
    return g_level;
}

bool bg_log_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO) == 1;
}

void bg_log_set_color(int on)
{
    g_color = on;
}

bool bg_log_color(void)
{
    if (g_color >= 0)
        return g_color == 1;
    const char *nc = getenv("NO_COLOR");
    return bg_log_stderr_is_tty() && !(nc && *nc);
}

static void vlog(const char *tag, const char *color, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vlog(const char *tag, const char *color, const char *fmt, va_list ap)
{
    if (tag) {
        if (bg_log_color())
            fprintf(stderr, "%s%s\033[0m ", color, tag);
        else
            fprintf(stderr, "%s ", tag);
    }
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void bg_log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("error:", "\033[1;31m", fmt, ap);
    va_end(ap);
}

void bg_log_warn(const char *fmt, ...)
{
    if (g_level < BG_LOG_NORMAL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("warning:", "\033[1;33m", fmt, ap);
    va_end(ap);
}

void bg_log_info(const char *fmt, ...)
{
    if (g_level < BG_LOG_NORMAL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(NULL, "", fmt, ap);
    va_end(ap);
}

void bg_log_verbose(const char *fmt, ...)
{
    if (g_level < BG_LOG_VERBOSE)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(NULL, "", fmt, ap);
    va_end(ap);
}

void bg_log_debug(const char *fmt, ...)
{
    if (g_level < BG_LOG_DEBUG)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("debug:", "\033[2m", fmt, ap);
    va_end(ap);
}
