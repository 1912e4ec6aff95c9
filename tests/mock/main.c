/* main.c — bg-mock's entry point: settings, listen, report the port, wait for a signal.
 *
 * SIGINT and SIGTERM are blocked before any thread starts, so only the main thread
 * receives them (sigwait); it then stops the server, which wakes every sleeping
 * handler, joins the connection threads and frees everything. The pid file is written
 * before the port file, so a test that sees the port can rely on the pid.
 *
 * Exit codes: 0 after a signal, 1 when it cannot listen or write its files, 2 for bad
 * flags or a bad scenario/answers file, 3 for a simulated crash (--crash-after).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bggate/util.h"
#include "mock.h"

static int write_number_file(const char *path, long n, bg_error *err)
{
    char line[32];
    int len = snprintf(line, sizeof(line), "%ld\n", n);
    return bg_file_write_atomic(path, line, (size_t)len, err);
}

static int announce(const bg_mock_config *cfg, int port, bg_error *err)
{
    int rc = 0;
    if (cfg->pid_file != NULL)
        rc = write_number_file(cfg->pid_file, (long)getpid(), err);
    if (rc == 0 && cfg->port_file != NULL)
        rc = write_number_file(cfg->port_file, port, err);
    if (rc != 0)
        return rc;
    bool v6 = strchr(cfg->host, ':') != NULL;
    fprintf(stderr, "bg-mock: listening on %s%s%s:%d model=%s\n", v6 ? "[" : "", cfg->host,
            v6 ? "]" : "", port, cfg->model);
    return 0;
}

static int serve(const bg_mock_config *cfg, bg_error *err)
{
    bg_mock_server *srv = NULL;
    sigset_t set;
    int sig = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    /* Before any thread exists, so every thread inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = bg_mock_server_start(&srv, cfg, err);
    if (rc == 0)
        rc = announce(cfg, bg_mock_server_port(srv), err);
    if (rc == 0)
        sigwait(&set, &sig);
    bg_mock_server_stop(srv);
    return rc;
}

int main(int argc, char **argv)
{
    bg_mock_config cfg;
    bg_error err;
    bg_error_clear(&err);
    int rc = bg_mock_config_parse(&cfg, argc, argv, &err);
    if (rc == BG_MOCK_CONFIG_HELP) {
        bg_mock_usage(stdout);
        bg_mock_config_dispose(&cfg);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "bg-mock: %s\n", err.msg);
        bg_mock_config_dispose(&cfg);
        return 2;
    }
    rc = serve(&cfg, &err);
    if (rc != 0)
        fprintf(stderr, "bg-mock: %s\n", err.msg);
    bg_mock_config_dispose(&cfg);
    return rc == 0 ? 0 : 1;
}
