/* spawn.h — running external commands: an argv through posix_spawnp (never a shell),
 * with extra environment entries, a deadline and bounded output capture.
 *
 * The child gets environ plus env_extra ("K=V" entries; an extra entry replaces an
 * inherited variable of the same name), stdin from /dev/null, and stdout+stderr on one
 * pipe. It runs in its own process group; at the deadline the whole group gets SIGTERM,
 * then SIGKILL after a short grace, and the call fails with BG_ETIMEOUT
 * "<argv0>: no exit within N ms". A non-zero exit is NOT an error here: *exit_code tells
 * (0..255, or 128 + signal number when the child died of a signal; -1 after a timeout).
 * Output a daemonised grandchild writes after the child itself exited is not waited for.
 * Cancellation (cancel.h): when SIGINT/SIGTERM arrives while the child runs, the child's
 * group is killed the same way and the call fails with BG_ECANCELED "<argv0>: stopped by
 * Terminated". A command started after the cancel (restoring a safe state) runs normally.
 */
#ifndef BGGATE_SPAWN_H
#define BGGATE_SPAWN_H

#include "buf.h"
#include "error.h"

/* Output bytes bg_spawn_run keeps: the LAST ones (the end of a failing command's output
 * is where its error is); a cut output starts with "…". */
#define BG_SPAWN_OUTPUT_MAX (16u << 10)
/* Longest line bg_spawn_stream prints in one piece; longer lines are split. */
#define BG_SPAWN_LINE_MAX 4096
/* Grace between SIGTERM and SIGKILL at the deadline. */
#define BG_SPAWN_KILL_GRACE_MS 2000

/* Runs argv (argv[0] looked up in PATH; NULL-terminated) and waits for it at most
 * timeout_ms (> 0). When out is not NULL, the combined stdout+stderr is appended to it
 * (at most BG_SPAWN_OUTPUT_MAX bytes, and no more than out's own limit). env_extra may
 * be NULL. Errors: BG_EINVAL (empty argv, bad timeout or env entry), BG_EIO (cannot
 * start: "<argv0>: cannot run: No such file or directory"), BG_ETIMEOUT, BG_ECANCELED, BG_ENOMEM. */
int bg_spawn_run(const char *const *argv, const char *const *env_extra, long timeout_ms,
                 bg_buf *out, int *exit_code, bg_error *err);

/* Longest last line bg_spawn_stream hands back (longer ones are cut). */
#define BG_SPAWN_LAST_LINE_MAX 512

/* Like bg_spawn_run but prints the child's output line by line to stderr (through
 * bg_log_info, so -q silences it) with prefix in front of each line ("[green] ").
 * When last_line is not NULL (BG_SPAWN_LAST_LINE_MAX bytes), it receives the last
 * non-blank line the child printed ("" when none): the reason a failing command gives
 * is usually there, and -q must not hide it from the error message. */
int bg_spawn_stream(const char *const *argv, const char *const *env_extra, long timeout_ms,
                    const char *prefix, char *last_line, int *exit_code, bg_error *err);

#endif
