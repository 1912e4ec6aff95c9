/* cancel.c — records SIGINT/SIGTERM for cooperative cancellation (see cancel.h). */
#include <signal.h>
#include <string.h>

#include "bggate/cancel.h"

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    g_signal = sig;
}

void bg_cancel_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool bg_cancelled(void)
{
    return g_signal != 0;
}

int bg_cancel_signal(void)
{
    return (int)g_signal;
}
