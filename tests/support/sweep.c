/* sweep.c — the registry of test temp dirs and their sweep (see sweep.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "haproxyfix.h"
#include "nginxfix.h"
#include "proc.h"
#include "sweep.h"

#define REGISTRY_ENV "BGT_SWEEP_REGISTRY"

void bgt_registry_open(void)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/bg-gate-test-registry.%d", (int)getpid());
    setenv(REGISTRY_ENV, path, 1);
}

void bgt_registry_add(const char *dir)
{
    const char *reg = getenv(REGISTRY_ENV);
    FILE *f = reg ? fopen(reg, "a") : NULL;
    if (f) {
        fprintf(f, "%s\n", dir);
        fclose(f);
    }
}

static void kill_pid_file(const char *dir, const char *rel)
{
    char path[800];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *pid = bgt_read_file(path);
    if (pid && strtol(pid, NULL, 10) > 1)
        kill((pid_t)strtol(pid, NULL, 10), SIGTERM);
    free(pid);
}

static void sweep_dir(const char *dir)
{
    char path[800];
    bgt_nginx_stop(dir);
    snprintf(path, sizeof path, "%s/haproxy.pid", dir);
    if (access(path, F_OK) == 0)
        bgt_haproxy_stop(dir, 0);
    kill_pid_file(dir, "pools/blue/mock.pid");
    kill_pid_file(dir, "pools/green/mock.pid");
    bgt_rmtree(dir);
}

void bgt_registry_sweep(void)
{
    const char *reg = getenv(REGISTRY_ENV);
    char *text = reg ? bgt_read_file(reg) : NULL;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (access(line, F_OK) == 0)
            sweep_dir(line);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    if (reg)
        unlink(reg);
}
