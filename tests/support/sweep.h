/* sweep.h — stopping what a failed end-to-end test left running. A failed assertion ends a
 * forked Check test at once (no teardown, no atexit), so each test records its temp dir
 * here and the parent process sweeps the recorded dirs after the test case: nginx,
 * HAProxy and the pools' bg-mock are stopped by the pids in their pid files, the dir is
 * removed. */
#ifndef BGT_SWEEP_H
#define BGT_SWEEP_H

/* Unchecked fixture (parent process): starts a registry for this test binary. */
void bgt_registry_open(void);
/* Records dir (from a test process). */
void bgt_registry_add(const char *dir);
/* Unchecked fixture teardown: stops what each recorded dir still runs and removes it. */
void bgt_registry_sweep(void);

#endif
