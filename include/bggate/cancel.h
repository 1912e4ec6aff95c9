/* cancel.h — cooperative cancellation on SIGINT/SIGTERM (a cancelled CI job).
 *
 * bg_cancel_install() sets handlers that only record the signal; long waits (the eval
 * loop, health polling, spawned commands) check bg_cancelled() and return BG_ECANCELED,
 * so the deploy can put the router back to its last safe weights before exiting.
 */
#ifndef BGGATE_CANCEL_H
#define BGGATE_CANCEL_H

#include <stdbool.h>

void bg_cancel_install(void);
bool bg_cancelled(void);
/* The signal that cancelled us (0 if none). */
int bg_cancel_signal(void);

#endif
