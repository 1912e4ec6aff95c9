/* log.h — human output on stderr: levels, -q/-v, colour only on a TTY without NO_COLOR.
 *
 * stdout is reserved for results (`--json` output); everything a human reads as
 * progress or diagnostics goes through here to stderr.
 */
#ifndef BGGATE_LOG_H
#define BGGATE_LOG_H

#include <stdbool.h>

typedef enum { BG_LOG_QUIET = 0, BG_LOG_NORMAL = 1, BG_LOG_VERBOSE = 2, BG_LOG_DEBUG = 3 } bg_log_level;

void bg_log_set_level(bg_log_level level);
bg_log_level bg_log_get_level(void);
/* True when stderr is a terminal and NO_COLOR is unset (or forced by bg_log_set_color). */
bool bg_log_color(void);
void bg_log_set_color(int on); /* -1 auto, 0 off, 1 on */
bool bg_log_stderr_is_tty(void);

void bg_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bg_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bg_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* not with -q */
void bg_log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* -v */
void bg_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* -vv */

#endif
