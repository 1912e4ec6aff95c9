/* haproxyfix.h — a real HAProxy (Debian's) for tests: docs/haproxy.cfg pointed at a temp
 * dir and loopback ports, started in the foreground and stopped by pid. */
#ifndef BGT_HAPROXYFIX_H
#define BGT_HAPROXYFIX_H

#include <sys/types.h>

#define BGT_HAPROXY_BIN "/usr/sbin/haproxy"

/* Writes dir/haproxy.cfg: docs/haproxy.cfg with its runtime API at dir/admin.sock (and a
 * second one on 127.0.0.1:tcp_port unless 0), its frontend on 127.0.0.1:port and its
 * blue/green servers at the given "host:port". 0, or -1 when the documented file no
 * longer holds the lines replaced. */
int bgt_haproxy_write_cfg(const char *dir, int port, int tcp_port, const char *blue_addr,
                          const char *green_addr);
/* Starts `haproxy -f dir/haproxy.cfg -db` (foreground), its output in dir/haproxy.log and
 * its pid in dir/haproxy.pid; waits (<= 10 s) for dir/admin.sock. The pid, or -1. */
pid_t bgt_haproxy_start(const char *dir);
/* SIGTERM, up to 5 s, then SIGKILL (pid <= 0: the one in dir/haproxy.pid); removes
 * dir/haproxy.pid. */
void bgt_haproxy_stop(const char *dir, pid_t pid);

#endif
