/* test_router_haproxy.c — the haproxy router driver. First without HAProxy: the parsers
 * of the runtime API's replies (canned text as HAProxy 2.6 prints it), the command plan
 * of a weight change, the router section's validation, and the errors of an unreachable
 * or silent runtime API. Then against a real HAProxy (Debian's /usr/sbin/haproxy) running
 * the documented config (docs/haproxy.cfg, addresses pointed at a temp dir and free
 * ports) in front of two real bg-mock servers ("blue-model", "green-model"): set/get,
 * a flip that takes effect at once, a 75/25 canary over 2,000 requests, a rejected
 * command, a reload that loses the weights (detected, repaired), sessions in flight.
 *
 * HAProxy and the mocks are started once for the "haproxy" case (unchecked fixture, in
 * the parent process, so teardown runs even when a test fails) and stopped by PID; the
 * reload test runs its own HAProxy and records its pid where teardown finds it. Without
 * haproxy or $BG_MOCK_BIN those tests are skipped, loudly.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/haproxyfix.h"
#include "../support/nginxfix.h"
#include "../support/proc.h"
#include "bggate/router.h"
#include "bggate/util.h"
#include "../../src/router/haproxy_internal.h"

#define HAPROXY_BIN BGT_HAPROXY_BIN

extern char **environ;

/* --- canned replies (HAProxy 2.6.12) --- */

#define STATE_HEADER                                                                         \
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "     \
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "              \
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "       \
    "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "  \
    "srv_agent_port\n"

/* blue drained at weight 100, green ready at 50 */
static const char state_reply[] =
    "1\n" STATE_HEADER
    "3 bg_gate_llm 1 blue 127.0.0.1 2 8 100 100 0 1 0 2 0 0 0 0 - 36225 - 0 0 - - 0\n"
    "3 bg_gate_llm 2 green 127.0.0.1 2 0 50 0 1 1 0 2 0 0 0 0 - 40285 - 0 0 - - 0\n"
    "\n";

/* the whole process: another backend with the same server names */
static const char state_reply_all[] =
    "1\n" STATE_HEADER
    "2 other 1 blue 10.0.0.1 2 0 7 7 0 1 0 2 0 0 0 0 - 80 - 0 0 - - 0\n"
    "3 bg_gate_llm 1 blue 127.0.0.1 2 0 75 100 0 1 0 2 0 0 0 0 - 36225 - 0 0 - - 0\n"
    "3 bg_gate_llm 2 green 127.0.0.1 2 0 25 0 1 1 0 2 0 0 0 0 - 40285 - 0 0 - - 0\n"
    "\n";

static const char stat_reply[] =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
    "wretr,wredis,status,weight,act,bck\n"
    "bg_gate_llm,blue,1,0,3,5,,9,0,0,,0,,0,0,0,0,UP,100,1,0\n"
    "bg_gate_llm,blue2,0,0,4,4,,4,0,0,,0,,0,0,0,0,UP,100,1,0\n"
    "bg_gate_llm,green,0,0,2,2,,2,0,0,,0,,0,0,0,0,DRAIN,0,1,0\n"
    "other,blue,0,0,40,40,,40,0,0,,0,,0,0,0,0,UP,1,1,0\n"
    "\n";

/* the same columns in another order: found by name */
static const char stat_reply_reordered[] = "# pxname,svname,status,scur,qcur\n"
                                           "bg_gate_llm,blue,UP,6,2\n"
                                           "bg_gate_llm,green,UP,1,0\n\n";

static const char *const two_pools =
    "{\"blue\": {\"endpoints\": [\"http://127.0.0.1:8001/v1\"]},"
    " \"green\": {\"endpoints\": [\"http://127.0.0.1:8002/v1\"]}}";

/* A driver state from pools and router JSON (through the driver's own create). */
static int make_state(void **out, const char *pools_json, const char *router_json,
                      bg_error *err)
{
    char *text = bg_asprintf("{\"pools\": %s, \"router\": %s}", pools_json, router_json);
    cJSON *root = cJSON_Parse(text);
    ck_assert_msg(root != NULL, "bad test JSON: %s", text);
    bg_pools pools;
    memset(&pools, 0, sizeof pools);
    bg_error perr = {0};
    ck_assert_msg(bg_pools_parse(&pools, root, &perr) == 0, "pools: %s", perr.msg);
    *out = NULL;
    int rc = bg_router_driver_haproxy.create(out, cJSON_GetObjectItemCaseSensitive(root, "router"),
                                             &pools, err);
    bg_pools_dispose(&pools);
    cJSON_Delete(root);
    free(text);
    return rc;
}

static haproxy_router *simple_state(void)
{
    void *st = NULL;
    bg_error err = {0};
    ck_assert_msg(make_state(&st, two_pools,
                             "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/x.json\"}",
                             &err) == 0,
                  "%s", err.msg);
    return st;
}

static void expect_config_error(const char *pools_json, const char *router_json,
                                const char *msg)
{
    bg_router *r = NULL;
    bg_error err = {0};
    char *json = bg_asprintf("{\"pools\": %s, \"router\": %s}", pools_json, router_json);
    ck_assert_int_eq(bgt_router_from_json(&r, json, &err), BG_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.msg, msg);
    free(json);
}

START_TEST(state_parser_reads_weights_and_admin_state)
{
    bg_haproxy_servers st;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, state_reply, "bg_gate_llm", &err), 0);
    ck_assert_uint_eq(st.n, 2);
    ck_assert_str_eq(st.v[0].name, "blue");
    ck_assert_uint_eq(st.v[0].admin, BG_HAPROXY_ADMF_FDRAIN);
    ck_assert_int_eq(st.v[0].uweight, 100);
    ck_assert_str_eq(st.v[1].name, "green");
    ck_assert_uint_eq(st.v[1].admin, 0);
    ck_assert_int_eq(st.v[1].uweight, 50);
    ck_assert_int_eq(st.v[1].iweight, 0);
    bg_router_haproxy_servers_dispose(&st);
}
END_TEST

START_TEST(state_parser_keeps_only_the_backend)
{
    bg_haproxy_servers st;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, state_reply_all, "bg_gate_llm", &err),
                     0);
    ck_assert_uint_eq(st.n, 2);
    ck_assert_int_eq(bg_router_haproxy_server_find(&st, "blue")->uweight, 75);
    ck_assert_ptr_null(bg_router_haproxy_server_find(&st, "nosuch"));
    bg_router_haproxy_servers_dispose(&st);
}
END_TEST

START_TEST(state_parser_reports_haproxy_refusal_verbatim)
{
    bg_haproxy_servers st;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, "Can't find backend.\n\n", "x", &err),
                     BG_EPROTO);
    ck_assert_str_eq(err.msg, "Can't find backend.");
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, "2\n" STATE_HEADER, "x", &err),
                     BG_EPROTO);
    ck_assert_str_eq(err.msg, "show servers state: format 2 (only format 1 is known)");
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, "1\n" STATE_HEADER "3 x 1 blue\n", "x",
                                                   &err),
                     BG_EPROTO);
    ck_assert_str_eq(err.msg, "show servers state: line 3: not a server line");
}
END_TEST

START_TEST(stat_sum_adds_sessions_of_the_pool_servers_only)
{
    static const char *const fields[] = {"scur", "qcur", NULL};
    char *blue[] = {"blue", "blue2"}, *green[] = {"green"};
    double n = -1;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_haproxy_stat_sum(&n, stat_reply, "bg_gate_llm", blue, 2, fields,
                                                &err),
                     0);
    ck_assert(n == 3 + 1 + 4); /* not other/blue's 40 */
    ck_assert_int_eq(bg_router_haproxy_stat_sum(&n, stat_reply, "bg_gate_llm", green, 1, fields,
                                                &err),
                     0);
    ck_assert(n == 2);
    ck_assert_int_eq(bg_router_haproxy_stat_sum(&n, stat_reply_reordered, "bg_gate_llm", blue,
                                                1, fields, &err),
                     0);
    ck_assert(n == 8);
}
END_TEST

START_TEST(stat_sum_rejects_missing_server_column_and_refusals)
{
    static const char *const fields[] = {"scur", NULL};
    static const char *const bad_field[] = {"scurr", NULL};
    char *names[] = {"blue", "nosuch"};
    double n = 0;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_haproxy_stat_sum(&n, stat_reply, "bg_gate_llm", names, 2, fields,
                                                &err),
                     BG_EPROTO);
    ck_assert_str_eq(err.msg, "show stat: backend bg_gate_llm has no server \"nosuch\"");
    ck_assert_int_eq(bg_router_haproxy_stat_sum(&n, stat_reply, "bg_gate_llm", names, 1,
                                                bad_field, &err),
                     BG_EPROTO);
    ck_assert_str_eq(err.msg, "show stat: no \"scurr\" column");
    ck_assert_int_eq(bg_router_haproxy_stat_sum(&n, "Permission denied\n\n", "bg_gate_llm",
                                                names, 1, fields, &err),
                     BG_EPROTO);
    ck_assert_str_eq(err.msg, "show stat: Permission denied");
}
END_TEST

START_TEST(weights_count_a_drained_pool_as_zero)
{
    haproxy_router *h = simple_state();
    bg_haproxy_servers st;
    bg_weights w;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, state_reply, "bg_gate_llm", &err), 0);
    ck_assert_int_eq(bg_router_haproxy_weights(&w, h, &st, &err), 0);
    ck_assert_int_eq(w.w[BG_POOL_BLUE], 0); /* drained, though its weight is 100 */
    ck_assert_int_eq(w.w[BG_POOL_GREEN], 100);
    bg_router_haproxy_servers_dispose(&st);
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, state_reply_all, "bg_gate_llm", &err), 0);
    ck_assert_int_eq(bg_router_haproxy_weights(&w, h, &st, &err), 0);
    ck_assert_int_eq(w.w[BG_POOL_BLUE], 75);
    ck_assert_int_eq(w.w[BG_POOL_GREEN], 25);
    /* one server per pool is all the state may hold: drop green */
    st.n = 1;
    ck_assert_int_eq(bg_router_haproxy_weights(&w, h, &st, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "backend bg_gate_llm has no server \"green\" (router.servers.green)");
    st.n = 2;
    bg_router_haproxy_servers_dispose(&st);
    bg_router_driver_haproxy.destroy(h);
}
END_TEST

/* The plan's commands, one per line, with their undo after " | ". */
static char *plan_text(const bg_haproxy_plan *p)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    for (size_t i = 0; i < p->n; i++)
        bg_buf_printf(&b, "%s | %s\n", p->v[i].cmd, p->v[i].undo ? p->v[i].undo : "-");
    return bg_buf_steal(&b);
}

START_TEST(plan_raises_the_new_pool_before_draining_the_old)
{
    void *h = NULL;
    bg_haproxy_servers st;
    bg_haproxy_plan plan;
    bg_error err = {0};
    const char *pools = "{\"blue\": {\"endpoints\": [\"http://127.0.0.1:8001/v1\"]},"
                        " \"green\": {\"endpoints\": [\"http://127.0.0.1:8002/v1\","
                        " \"http://127.0.0.1:8003/v1\"]}}";
    ck_assert_msg(make_state(&h, pools,
                             "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/x.json\","
                             " \"servers\": {\"green\": [\"green\", \"green2\"]}}",
                             &err) == 0,
                  "%s", err.msg);
    /* blue 75 / green 25 (green2 not in the backend) → 0 / 100 */
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, state_reply_all, "bg_gate_llm", &err), 0);
    bg_weights w = {{0, 100}};
    ck_assert_int_eq(bg_router_haproxy_plan(&plan, h, &st, &w, &err), 0);
    char *text = plan_text(&plan);
    ck_assert_str_eq(text, "set server bg_gate_llm/green weight 50 | set server "
                           "bg_gate_llm/green weight 25\n"
                           "set server bg_gate_llm/green2 weight 50 | -\n"
                           "set server bg_gate_llm/green2 state ready | -\n"
                           "set server bg_gate_llm/blue state drain | set server "
                           "bg_gate_llm/blue state ready\n"
                           "set server bg_gate_llm/blue weight 0 | set server "
                           "bg_gate_llm/blue weight 75\n");
    free(text);
    bg_router_haproxy_plan_dispose(&plan);
    bg_router_haproxy_servers_dispose(&st);
    bg_router_driver_haproxy.destroy(h);
}
END_TEST

START_TEST(plan_brings_a_drained_pool_back_and_skips_what_holds)
{
    haproxy_router *h = simple_state();
    bg_haproxy_servers st;
    bg_haproxy_plan plan;
    bg_error err = {0};
    /* blue drained at 100, green ready at 50 → 75 / 25: blue gains, so it goes first */
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, state_reply, "bg_gate_llm", &err), 0);
    bg_weights w = {{75, 25}};
    ck_assert_int_eq(bg_router_haproxy_plan(&plan, h, &st, &w, &err), 0);
    char *text = plan_text(&plan);
    ck_assert_str_eq(text, "set server bg_gate_llm/blue weight 75 | set server "
                           "bg_gate_llm/blue weight 100\n"
                           "set server bg_gate_llm/blue state ready | set server "
                           "bg_gate_llm/blue state drain\n"
                           "set server bg_gate_llm/green weight 25 | set server "
                           "bg_gate_llm/green weight 50\n");
    free(text);
    bg_router_haproxy_plan_dispose(&plan);
    /* already there: nothing to send */
    w.w[0] = 0, w.w[1] = 100;
    st.v[1].uweight = 100;
    st.v[0].uweight = 0;
    ck_assert_int_eq(bg_router_haproxy_plan(&plan, h, &st, &w, &err), 0);
    ck_assert_uint_eq(plan.n, 0);
    bg_router_haproxy_plan_dispose(&plan);
    bg_router_haproxy_servers_dispose(&st);
    bg_router_driver_haproxy.destroy(h);
}
END_TEST

START_TEST(config_errors_name_the_key)
{
    expect_config_error(two_pools, "{\"driver\": \"haproxy\"}", "router.state_file: missing (a string is required)");
    expect_config_error(two_pools,
                        "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/w\", \"runtime_api\": "
                        "\"/run/haproxy/admin.sock\"}",
                        "router.runtime_api: \"/run/haproxy/admin.sock\" is neither unix:PATH nor "
                        "tcp:HOST:PORT");
    expect_config_error(two_pools,
                        "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/w\", \"runtime_api\": "
                        "\"tcp:127.0.0.1\"}",
                        "router.runtime_api: \"tcp:127.0.0.1\" needs HOST:PORT (port 1-65535)");
    expect_config_error(two_pools,
                        "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/w\", \"servers\": "
                        "{\"blue\": [\"b; shutdown sessions server x/y\"]}}",
                        "router.servers.blue[0]: expected an HAProxy server name (letters, "
                        "digits, '_', '-', '.', ':')");
    expect_config_error(two_pools,
                        "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/w\", \"servers\": "
                        "{\"blue\": [\"b1\", \"b2\"]}}",
                        "router.servers.blue: 2 HAProxy servers for 1 endpoint in pools.blue "
                        "(name one server per endpoint)");
    expect_config_error(two_pools,
                        "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/w\", \"servers\": "
                        "{\"blue\": [\"x\"], \"green\": [\"x\"]}}",
                        "router.servers: \"x\" is in both pools");
    expect_config_error(two_pools,
                        "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/w\", \"backend\": "
                        "\"bg gate\"}",
                        "router.backend: \"bg gate\" is not an HAProxy backend name (letters, "
                        "digits, '_', '-', '.', ':')");
    expect_config_error("{\"blue\": {\"endpoints\": [\"http://127.0.0.1:8001/v1\", "
                        "\"http://127.0.0.1:8011/v1\"]}, \"green\": {\"endpoints\": "
                        "[\"http://127.0.0.1:8002/v1\"]}}",
                        "{\"driver\": \"haproxy\", \"state_file\": \"/tmp/w\"}",
                        "router.servers: missing, and the default {\"blue\": [\"blue\"]} names 1 "
                        "server while pools.blue has 2 endpoints (name one HAProxy server per "
                        "endpoint)");
}
END_TEST

START_TEST(registry_has_the_haproxy_driver)
{
    const bg_router_driver *table[16];
    size_t n = 0;
    bg_error err = {0};
    while (n < 16 && (table[n] = bg_router_driver_at(n)))
        n++;
    ck_assert_ptr_eq(bg_router_driver_find("haproxy"), &bg_router_driver_haproxy);
    ck_assert_int_eq(bg_router_drivers_check(table, n, &err), 0);
}
END_TEST

/* --- an unreachable or silent runtime API (no HAProxy needed) --- */

static char *tmp;

static void tmp_setup(void)
{
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
}

static void tmp_teardown(void)
{
    bgt_rmtree(tmp);
    free(tmp);
    tmp = NULL;
}

static char *router_json_for(const char *api, const char *dir)
{
    return bg_asprintf("{\"pools\": %s, \"router\": {\"driver\": \"haproxy\", \"runtime_api\": "
                       "\"%s\", \"state_file\": \"%s/weights.json\", \"timeout_s\": 1}}",
                       two_pools, api, dir);
}

static void expect_get_error(const char *api, int code, const char *msg)
{
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights w = {{-1, -1}};
    char *json = router_json_for(api, tmp);
    ck_assert_msg(bgt_router_from_json(&r, json, &err) == 0, "%s", err.msg);
    double t0 = bg_now_ms();
    ck_assert_int_eq(bg_router_get(r, &w, &err), code);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_msg(bg_now_ms() - t0 < 3000, "took %.0f ms", bg_now_ms() - t0);
    /* set fails the same way and writes no state file */
    bg_weights to = {{0, 100}};
    ck_assert_int_eq(bg_router_set(r, &to, &err), code);
    char *state = bg_asprintf("%s/weights.json", tmp);
    ck_assert_int_ne(access(state, F_OK), 0);
    free(state);
    bg_router_free(r);
    free(json);
}

START_TEST(missing_socket_is_a_clear_error)
{
    char *api = bg_asprintf("unix:%s/admin.sock", tmp);
    char *msg = bg_asprintf("router: haproxy runtime API %s: connect: No such file or directory",
                            api);
    expect_get_error(api, BG_ENET, msg);
    free(api);
    free(msg);
}
END_TEST

START_TEST(refused_tcp_runtime_api_is_a_clear_error)
{
    int port = bgt_free_port();
    char *api = bg_asprintf("tcp:127.0.0.1:%d", port);
    char *msg = bg_asprintf("router: haproxy runtime API %s: connect: Connection refused", api);
    expect_get_error(api, BG_ENET, msg);
    free(api);
    free(msg);
}
END_TEST

START_TEST(silent_runtime_api_times_out)
{
    /* a socket that accepts connections (backlog) but never answers */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s/silent.sock", tmp);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    char *api = bg_asprintf("unix:%s", sun.sun_path);
    char *msg = bg_asprintf("router: haproxy runtime API %s: show servers state bg_gate_llm: no "
                            "reply within 1 s",
                            api);
    expect_get_error(api, BG_ETIMEOUT, msg);
    close(fd);
    free(api);
    free(msg);
}
END_TEST

/* --- a real HAProxy --- */

static bgt_mock blue, green;
static int front_port, tcp_api_port;
static pid_t haproxy_pid;
static const char *skip_reason; /* nothing to test with: the tests pass, loudly */
static const char *setup_error; /* something broke while starting: the tests fail */
static char blue_addr[64], green_addr[64];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *tmp_path(const char *name)
{
    return bg_asprintf("%s/%s", tmp, name);
}

static void dump_logs(void)
{
    char *log = tmp_path("haproxy.log"), *log2 = tmp_path("reload/haproxy.log");
    bgt_print_tail("haproxy", log);
    bgt_print_tail("haproxy (reload test)", log2);
    bgt_print_tail("bg-mock blue", blue.log_path);
    bgt_print_tail("bg-mock green", green.log_path);
    free(log);
    free(log2);
}

#define CHECK_OR_DUMP(cond, ...)                                                             \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            dump_logs();                                                                     \
            ck_abort_msg(__VA_ARGS__);                                                       \
        }                                                                                    \
    } while (0)

static int write_haproxy_cfg(const char *dir, int port, int tcp_port)
{
    return bgt_haproxy_write_cfg(dir, port, tcp_port, blue_addr, green_addr);
}

static pid_t haproxy_start(const char *dir)
{
    return bgt_haproxy_start(dir);
}

static void haproxy_stop(const char *dir, pid_t pid)
{
    bgt_haproxy_stop(dir, pid);
}

static void haproxy_setup(void)
{
    static const char *const slow[] = {"--latency-ms", "3000", NULL};
    setup_error = NULL;
    memset(&blue, 0, sizeof blue); /* the teardown stops them, started or not */
    memset(&green, 0, sizeof green);
    blue.pid = green.pid = -1;
    haproxy_pid = -1;
    if ((skip_reason = bgt_router_test_missing(HAPROXY_BIN, "haproxy")))
        return;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!(tmp = bgt_tmpdir())) {
        setup_error = "no temp dir";
        return;
    }
    /* completions take 3 s (sessions to count in flight); GET /v1/models is instant */
    if ((setup_error = bgt_pair_setup(tmp, &blue, &green, slow, blue_addr, green_addr)))
        return;
    front_port = bgt_free_port();
    do
        tcp_api_port = bgt_free_port();
    while (tcp_api_port == front_port);
    if (write_haproxy_cfg(tmp, front_port, tcp_api_port) != 0)
        setup_error = "cannot write haproxy.cfg from docs/haproxy.cfg (its addresses changed?)";
    else if ((haproxy_pid = haproxy_start(tmp)) < 0)
        setup_error = "haproxy did not start";
    if (setup_error)
        dump_logs();
}

static void haproxy_teardown(void)
{
    if (tmp) {
        char *reload = tmp_path("reload");
        haproxy_stop(reload, 0); /* the reload test's own, if it failed half-way */
        haproxy_stop(tmp, haproxy_pid);
        bgt_mock_stop(&blue);
        bgt_mock_stop(&green);
        bgt_rmtree(tmp);
        free(reload);
        free(tmp);
        tmp = NULL;
    }
    curl_global_cleanup();
}

#define SKIP_IF_NEEDED()                                                                     \
    do {                                                                                     \
        if (skip_reason) {                                                                   \
            fprintf(stderr, "SKIPPED %s: %s\n", __func__, skip_reason);                      \
            return;                                                                          \
        }                                                                                    \
        ck_assert_msg(setup_error == NULL, "setup: %s", setup_error);                       \
    } while (0)

/* The router JSON for an HAProxy in dir; `servers` is router.servers JSON or NULL, green
 * gets as many endpoints as green_endpoints says. */
static char *router_json(const char *dir, const char *api, const char *servers,
                         int green_endpoints)
{
    char *sock = api ? NULL : bg_asprintf("unix:%s/admin.sock", dir);
    char *json = bg_asprintf(
        "{\"pools\": {\"blue\": {\"endpoints\": [\"%s\"]}, \"green\": {\"endpoints\": [\"%s\"%s]}},"
        " \"router\": {\"driver\": \"haproxy\", \"runtime_api\": \"%s\", \"backend\": "
        "\"bg_gate_llm\", \"state_file\": \"%s/state/weights.json\", \"timeout_s\": 5,"
        " \"endpoint\": \"http://127.0.0.1:%d/v1\", \"upstream_header\": \"X-BG-Upstream\"%s%s}}",
        blue.url, green.url, green_endpoints > 1 ? ", \"http://127.0.0.1:9/v1\"" : "",
        api ? api : sock, dir, front_port, servers ? ", \"servers\": " : "",
        servers ? servers : "");
    free(sock);
    return json;
}

static bg_router *new_router(const char *dir, const char *api, const char *servers, int ge)
{
    bg_router *r = NULL;
    bg_error err = {0};
    char *json = router_json(dir, api, servers, ge);
    int rc = bgt_router_from_json(&r, json, &err);
    free(json);
    ck_assert_msg(rc == 0, "router: %s", err.msg);
    return r;
}

/* The driver state for the same configuration (for check/repair/inflight). */
static void *new_state(const char *dir)
{
    char *json = router_json(dir, NULL, NULL, 1);
    cJSON *root = cJSON_Parse(json);
    bg_pools pools;
    memset(&pools, 0, sizeof pools);
    bg_error err = {0};
    void *st = NULL;
    ck_assert_msg(bg_pools_parse(&pools, root, &err) == 0, "%s", err.msg);
    int rc = bg_router_driver_haproxy.create(&st, cJSON_GetObjectItemCaseSensitive(root, "router"),
                                             &pools, &err);
    bg_pools_dispose(&pools);
    cJSON_Delete(root);
    free(json);
    ck_assert_msg(rc == 0, "%s", err.msg);
    return st;
}

static void set_weights(bg_router *r, int b, int g)
{
    bg_weights w = {{b, g}};
    bg_error err = {0};
    CHECK_OR_DUMP(bg_router_set(r, &w, &err) == 0, "set %d/%d: %s", b, g, err.msg);
}

static void expect_weights(bg_router *r, int b, int g)
{
    bg_weights w;
    bg_error err = {0};
    CHECK_OR_DUMP(bg_router_get(r, &w, &err) == 0, "get: %s", err.msg);
    CHECK_OR_DUMP(w.w[0] == b && w.w[1] == g, "get: blue %d / green %d, want %d / %d", w.w[0],
                  w.w[1], b, g);
}

/* A runtime API command's reply, straight from the socket of HAProxy in dir. */
static char *runtime(const char *dir, const char *cmd)
{
    void *st = new_state(dir);
    bg_buf reply;
    bg_error err = {0};
    bg_buf_init(&reply, BG_HAPROXY_MAX_REPLY);
    ck_assert_msg(bg_router_haproxy_call(&reply, st, cmd, &err) == 0, "%s", err.msg);
    bg_router_driver_haproxy.destroy(st);
    return bg_buf_steal(&reply);
}

/* Counts which pool answered n requests (X-BG-Upstream, and the model that answered),
 * on one keep-alive connection: HAProxy balances every request, not connections. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    char *up = ud;
    size_t len = size * n;
    if (len > 15 && strncasecmp(p, "X-BG-Upstream: ", 15) == 0) {
        size_t k = len - 15;
        while (k && (p[15 + k - 1] == '\r' || p[15 + k - 1] == '\n'))
            k--;
        snprintf(up, 64, "%.*s", (int)k, p + 15);
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    bg_buf *b = ud;
    return bg_buf_append(b, p, size * n) ? 0 : size * n;
}

static void count_answers(const char *url, int n, int *from_blue, int *from_green)
{
    CURL *e = curl_easy_init();
    char up[64];
    bg_buf body;
    bg_buf_init(&body, 1 << 16);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, up);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    *from_blue = *from_green = 0;
    for (int i = 0; i < n; i++) {
        long status = 0;
        up[0] = '\0';
        bg_buf_reset(&body);
        CURLcode cc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        CHECK_OR_DUMP(cc == CURLE_OK && status == 200, "request %d: %s, status %ld", i,
                      curl_easy_strerror(cc), status);
        bool is_blue = strcmp(up, blue_addr) == 0, is_green = strcmp(up, green_addr) == 0;
        CHECK_OR_DUMP(is_blue || is_green, "request %d: X-BG-Upstream \"%s\"", i, up);
        CHECK_OR_DUMP(strstr(bg_buf_cstr(&body), is_blue ? "\"blue-model\"" : "\"green-model\""),
                      "request %d: upstream %s answered %s", i, up, bg_buf_cstr(&body));
        *(is_blue ? from_blue : from_green) += 1;
    }
    bg_buf_dispose(&body);
    curl_easy_cleanup(e);
}

static void count(int n, int *b, int *g)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/models", front_port);
    count_answers(url, n, b, g);
}

START_TEST(haproxy_set_and_get_round_trip)
{
    SKIP_IF_NEEDED();
    bg_router *r = new_router(tmp, NULL, NULL, 1);
    static const int steps[][2] = {{100, 0}, {75, 25}, {10, 90}, {0, 100}, {50, 50}, {100, 0}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        set_weights(r, steps[i][0], steps[i][1]);
        expect_weights(r, steps[i][0], steps[i][1]);
        char *path = tmp_path("state/weights.json"), *saved = bgt_read_file(path);
        char *want = bg_asprintf("{\"blue\": %d, \"green\": %d}\n", steps[i][0], steps[i][1]);
        ck_assert_str_eq(saved ? saved : "(missing)", want);
        free(path);
        free(saved);
        free(want);
    }
    /* the pool at 0 is drained (admin state 8), never in maintenance */
    set_weights(r, 0, 100);
    char *state = runtime(tmp, "show servers state bg_gate_llm");
    bg_haproxy_servers st;
    bg_error err = {0};
    ck_assert_int_eq(bg_router_haproxy_parse_state(&st, state, "bg_gate_llm", &err), 0);
    ck_assert_uint_eq(bg_router_haproxy_server_find(&st, "blue")->admin, BG_HAPROXY_ADMF_FDRAIN);
    ck_assert_uint_eq(bg_router_haproxy_server_find(&st, "green")->admin, 0);
    ck_assert_int_eq(bg_router_haproxy_server_find(&st, "green")->uweight, 100);
    bg_router_haproxy_servers_dispose(&st);
    free(state);
    bg_router_free(r);
}
END_TEST

START_TEST(haproxy_flip_moves_all_traffic_at_once)
{
    SKIP_IF_NEEDED();
    bg_router *r = new_router(tmp, NULL, NULL, 1);
    int b = 0, g = 0;
    set_weights(r, 100, 0);
    count(20, &b, &g);
    CHECK_OR_DUMP(b == 20, "100/0: blue %d / green %d", b, g);
    /* no reload, no waiting: the very next requests go to green */
    set_weights(r, 0, 100);
    count(20, &b, &g);
    CHECK_OR_DUMP(g == 20, "0/100: blue %d / green %d", b, g);
    set_weights(r, 100, 0);
    count(20, &b, &g);
    CHECK_OR_DUMP(b == 20, "back to 100/0: blue %d / green %d", b, g);
    bg_router_free(r);
}
END_TEST

/* Every canary step over 2,000 requests right after set(): within 2 points of the weight. */
START_TEST(haproxy_canary_splits_2000_requests_within_2_points)
{
    SKIP_IF_NEEDED();
    bg_router *r = new_router(tmp, NULL, NULL, 1);
    static const int steps[] = {1, 25, 50, 75};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int b = 0, g = 0;
        set_weights(r, 100 - steps[i], steps[i]);
        double t0 = bg_now_ms();
        count(2000, &b, &g);
        double ms = bg_now_ms() - t0, pct = g / 20.0;
        fprintf(stderr, "haproxy %d%% step: green %d of 2000 (%.2f %%) in %.0f ms\n", steps[i], g,
                pct, ms);
        CHECK_OR_DUMP(pct >= steps[i] - 2 && pct <= steps[i] + 2, "%d%% step gave green %.2f%%",
                      steps[i], pct);
    }
    set_weights(r, 100, 0);
    bg_router_free(r);
}
END_TEST

/* n requests with "X-Session-Id: <prefix><i>", each asked `repeat` times: a session must
 * stay on one server; returns how many sessions green got. */
static int sticky_green_sessions(int port, int n, const char *prefix, int repeat)
{
    char url[128], header[96], up[64], first[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/models", port);
    CURL *e = curl_easy_init();
    bg_buf body;
    bg_buf_init(&body, 1 << 16);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, up);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    int green_n = 0;
    for (int i = 0; i < n; i++) {
        snprintf(header, sizeof header, "X-Session-Id: %s%d", prefix, i);
        struct curl_slist *h = curl_slist_append(NULL, header);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        for (int k = 0; k < repeat; k++) {
            up[0] = '\0';
            bg_buf_reset(&body);
            CURLcode cc = curl_easy_perform(e);
            CHECK_OR_DUMP(cc == CURLE_OK, "session %d: %s", i, curl_easy_strerror(cc));
            if (k == 0)
                snprintf(first, sizeof first, "%s", up);
            CHECK_OR_DUMP(strcmp(first, up) == 0, "session %s%d moved from %s to %s", prefix,
                          i, first, up);
        }
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(h);
        green_n += strcmp(first, green_addr) == 0;
    }
    bg_buf_dispose(&body);
    curl_easy_cleanup(e);
    return green_n;
}

/* The documented sticky variant (balance hdr + hash-type consistent) takes runtime
 * weights: sessions stay put while the weights hold and the split over many sessions
 * follows the step. */
START_TEST(haproxy_sticky_sessions_follow_the_weights)
{
    SKIP_IF_NEEDED();
    char *dir = tmp_path("sticky");
    ck_assert_int_eq(bg_mkdir_p(dir, NULL), 0);
    int port = bgt_free_port();
    ck_assert_int_eq(bgt_haproxy_write_cfg(dir, port, 0, blue_addr, green_addr), 0);
    char *cfg = bg_asprintf("%s/haproxy.cfg", dir), *text = bgt_read_file(cfg);
    ck_assert_ptr_nonnull(strstr(text, "#   balance hdr(X-Session-Id)\n    #   hash-type consistent"));
    char *sticky = bgt_replace_all(text, "    balance roundrobin\n",
                                   "    balance hdr(X-Session-Id)\n    hash-type consistent\n");
    ck_assert_int_eq(bg_file_write_atomic(cfg, sticky, strlen(sticky), NULL), 0);
    pid_t pid = bgt_haproxy_start(dir);
    CHECK_OR_DUMP(pid > 0, "sticky haproxy did not start");
    char *json = bg_asprintf(
        "{\"pools\": {\"blue\": {\"endpoints\": [\"http://%s/v1\"]}, \"green\": "
        "{\"endpoints\": [\"http://%s/v1\"]}}, \"router\": {\"driver\": \"haproxy\", "
        "\"runtime_api\": \"unix:%s/admin.sock\", \"state_file\": \"%s/w.json\"}}",
        blue_addr, green_addr, dir, dir);
    bg_router *r = NULL;
    bg_error err = {0};
    ck_assert_msg(bgt_router_from_json(&r, json, &err) == 0, "%s", err.msg);
    set_weights(r, 75, 25);
    int g = sticky_green_sessions(port, 4000, "s", 1);
    double pct = g / 40.0;
    fprintf(stderr, "haproxy sticky 75/25: green %.2f %% of 4000 sessions\n", pct);
    CHECK_OR_DUMP(pct >= 22 && pct <= 28, "sticky 75/25 gave green %.2f%%", pct);
    sticky_green_sessions(port, 50, "again", 4);
    bg_router_free(r);
    bgt_haproxy_stop(dir, pid);
    free(json);
    free(sticky);
    free(text);
    free(cfg);
    free(dir);
}
END_TEST

START_TEST(haproxy_refusal_is_verbatim_and_changes_nothing)
{
    SKIP_IF_NEEDED();
    bg_router *good = new_router(tmp, NULL, NULL, 1);
    set_weights(good, 100, 0);
    char *before = runtime(tmp, "show servers state bg_gate_llm");
    /* green has a second server HAProxy does not know: green is changed first, then
     * "nosuch" is refused, then green is set back */
    bg_router *bad = new_router(tmp, NULL, "{\"green\": [\"green\", \"nosuch\"]}", 2);
    bg_weights w = {{50, 50}};
    bg_error err = {0};
    ck_assert_int_eq(bg_router_set(bad, &w, &err), BG_EIO);
    char *want = bg_asprintf("router: haproxy runtime API unix:%s/admin.sock: set server "
                             "bg_gate_llm/nosuch weight 25: No such server. (the servers "
                             "already changed were restored)",
                             tmp);
    ck_assert_str_eq(err.msg, want);
    char *after = runtime(tmp, "show servers state bg_gate_llm");
    /* same weights and admin states (the time-since-change column may differ) */
    bg_haproxy_servers sb, sa;
    ck_assert_int_eq(bg_router_haproxy_parse_state(&sb, before, "bg_gate_llm", &err), 0);
    ck_assert_int_eq(bg_router_haproxy_parse_state(&sa, after, "bg_gate_llm", &err), 0);
    ck_assert_uint_eq(sa.n, sb.n);
    for (size_t i = 0; i < sa.n; i++) {
        ck_assert_str_eq(sa.v[i].name, sb.v[i].name);
        ck_assert_int_eq(sa.v[i].uweight, sb.v[i].uweight);
        ck_assert_uint_eq(sa.v[i].admin, sb.v[i].admin);
    }
    expect_weights(good, 100, 0);
    /* the state file still has what was last set successfully */
    char *path = tmp_path("state/weights.json"), *saved = bgt_read_file(path);
    ck_assert_str_eq(saved ? saved : "(missing)", "{\"blue\": 100, \"green\": 0}\n");
    int b = 0, g = 0;
    count(10, &b, &g);
    CHECK_OR_DUMP(b == 10, "after the refusal: blue %d / green %d", b, g);
    bg_router_haproxy_servers_dispose(&sb);
    bg_router_haproxy_servers_dispose(&sa);
    free(path);
    free(saved);
    free(want);
    free(before);
    free(after);
    bg_router_free(bad);
    bg_router_free(good);
}
END_TEST

START_TEST(haproxy_unknown_backend_is_verbatim)
{
    SKIP_IF_NEEDED();
    char *json = router_json(tmp, NULL, NULL, 1);
    char *other = bgt_replace_all(json, "\"backend\": \"bg_gate_llm\"", "\"backend\": \"nope\"");
    bg_router *r = NULL;
    bg_error err = {0};
    bg_weights w;
    ck_assert_msg(bgt_router_from_json(&r, other, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(bg_router_get(r, &w, &err), BG_EPROTO);
    char *want = bg_asprintf("router: haproxy runtime API unix:%s/admin.sock: show servers state "
                             "nope: Can't find backend.",
                             tmp);
    ck_assert_str_eq(err.msg, want);
    free(want);
    free(json);
    free(other);
    bg_router_free(r);
}
END_TEST

START_TEST(haproxy_tcp_runtime_api_works_too)
{
    SKIP_IF_NEEDED();
    char api[64];
    snprintf(api, sizeof api, "tcp:127.0.0.1:%d", tcp_api_port);
    bg_router *r = new_router(tmp, api, NULL, 1);
    set_weights(r, 25, 75);
    expect_weights(r, 25, 75);
    bg_router *u = new_router(tmp, NULL, NULL, 1);
    expect_weights(u, 25, 75); /* the same HAProxy through its unix socket */
    set_weights(u, 100, 0);
    bg_router_free(r);
    bg_router_free(u);
}
END_TEST

START_TEST(haproxy_backend_without_traffic_is_reported_and_repaired)
{
    SKIP_IF_NEEDED();
    bg_router *r = new_router(tmp, NULL, NULL, 1);
    void *st = new_state(tmp);
    bg_router_drift d;
    bg_weights w;
    bg_error err = {0};
    set_weights(r, 100, 0);
    /* an operator drains the live pool by hand: nothing takes traffic */
    char *reply = runtime(tmp, "set server bg_gate_llm/blue state drain");
    ck_assert_str_eq(reply, "\n");
    ck_assert_int_eq(bg_router_get(r, &w, &err), BG_EPROTO);
    char *want = bg_asprintf("router: haproxy runtime API unix:%s/admin.sock: backend "
                             "bg_gate_llm: no server of either pool takes traffic (all in "
                             "drain, maintenance or at weight 0)",
                             tmp);
    ck_assert_str_eq(err.msg, want);
    ck_assert_msg(bg_router_haproxy_check(st, &d, &err) == 0, "%s", err.msg);
    ck_assert(d.stale && d.runtime.w[0] == 0 && d.runtime.w[1] == 0);
    ck_assert_msg(bg_router_haproxy_repair(st, NULL, &err) == 0, "%s", err.msg);
    expect_weights(r, 100, 0);
    free(want);
    free(reply);
    bg_router_driver_haproxy.destroy(st);
    bg_router_free(r);
}
END_TEST

/* A POST whose answer takes 3 s: a session in flight. Returns the socket. */
static int slow_request(void)
{
    static const char body[] = "{\"model\": \"m\", \"messages\": [{\"role\": \"user\", "
                               "\"content\": \"hi\"}], \"stream\": false}";
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)front_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char *req = bg_asprintf("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                            sizeof body - 1, body);
    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    free(req);
    return fd;
}

/* Polls (≤ ms) until the pool's in-flight count is `want`; returns the last count. */
static double wait_inflight(void *st, bg_pool_id pool, double want, long ms)
{
    double n = -1, deadline = bg_now_ms() + (double)ms;
    bg_error err = {0};
    for (;;) {
        CHECK_OR_DUMP(bg_router_haproxy_inflight(st, pool, &n, &err) == 0, "inflight: %s",
                      err.msg);
        if (n == want || bg_now_ms() > deadline)
            return n;
        sleep_ms(25);
    }
}

START_TEST(haproxy_inflight_counts_sessions_per_pool)
{
    SKIP_IF_NEEDED();
    bg_router *r = new_router(tmp, NULL, NULL, 1);
    void *st = new_state(tmp);
    set_weights(r, 100, 0);
    ck_assert(wait_inflight(st, BG_POOL_BLUE, 0, 5000) == 0);
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = slow_request();
    double n = wait_inflight(st, BG_POOL_BLUE, 3, 2000);
    CHECK_OR_DUMP(n == 3, "blue in flight: %.0f, want 3", n);
    n = wait_inflight(st, BG_POOL_GREEN, 0, 0);
    CHECK_OR_DUMP(n == 0, "green in flight: %.0f, want 0", n);
    /* draining blue does not cut its sessions: they are still counted, then finish */
    set_weights(r, 0, 100);
    n = wait_inflight(st, BG_POOL_BLUE, 3, 0);
    CHECK_OR_DUMP(n == 3, "blue in flight after the flip: %.0f, want 3", n);
    n = wait_inflight(st, BG_POOL_BLUE, 0, 6000);
    CHECK_OR_DUMP(n == 0, "blue in flight after the answers: %.0f, want 0", n);
    for (int i = 0; i < 3; i++) {
        char buf[512];
        ssize_t k = read(fds[i], buf, sizeof buf - 1);
        CHECK_OR_DUMP(k > 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0,
                      "drained session %d got no 200", i);
        close(fds[i]);
    }
    set_weights(r, 100, 0);
    bg_router_driver_haproxy.destroy(st);
    bg_router_free(r);
}
END_TEST

START_TEST(haproxy_reload_lost_weights_are_detected_and_repaired)
{
    SKIP_IF_NEEDED();
    char *dir = tmp_path("reload");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    int port = front_port;
    while (port == front_port || port == tcp_api_port)
        port = bgt_free_port();
    int saved_front = front_port;
    front_port = port; /* count() and router_json() use it */
    ck_assert_int_eq(write_haproxy_cfg(dir, port, 0), 0);
    pid_t pid = haproxy_start(dir);
    CHECK_OR_DUMP(pid > 0, "haproxy did not start");
    bg_router *r = new_router(dir, NULL, NULL, 1);
    void *st = new_state(dir);
    bg_router_drift d;
    bg_error err = {0};
    int b = 0, g = 0;

    /* before any set: nothing to compare with */
    ck_assert_msg(bg_router_haproxy_check(st, &d, &err) == 0, "%s", err.msg);
    ck_assert(!d.has_desired && !d.stale);
    set_weights(r, 0, 100);
    ck_assert_msg(bg_router_haproxy_check(st, &d, &err) == 0, "%s", err.msg);
    ck_assert(d.has_desired && !d.stale);

    /* a restart: HAProxy is back on the config's weights (blue 100, green 0) */
    haproxy_stop(dir, pid);
    pid = haproxy_start(dir);
    CHECK_OR_DUMP(pid > 0, "haproxy did not restart");
    count(5, &b, &g);
    CHECK_OR_DUMP(b == 5, "after the restart traffic should be back on blue: %d / %d", b, g);
    ck_assert_msg(bg_router_haproxy_check(st, &d, &err) == 0, "%s", err.msg);
    ck_assert(d.stale);
    ck_assert_int_eq(d.runtime.w[BG_POOL_BLUE], 100);
    ck_assert_int_eq(d.desired.w[BG_POOL_GREEN], 100);
    expect_weights(r, 100, 0); /* get reports what HAProxy really does (and warns) */

    ck_assert_msg(bg_router_haproxy_repair(st, &d, &err) == 0, "%s", err.msg);
    ck_assert(d.stale); /* what it found */
    ck_assert_msg(bg_router_haproxy_check(st, &d, &err) == 0, "%s", err.msg);
    ck_assert(!d.stale);
    expect_weights(r, 0, 100);
    count(5, &b, &g);
    CHECK_OR_DUMP(g == 5, "after the repair traffic should be on green: %d / %d", b, g);
    /* repairing what is fine changes nothing */
    ck_assert_msg(bg_router_haproxy_repair(st, &d, &err) == 0, "%s", err.msg);
    ck_assert(!d.stale);

    haproxy_stop(dir, pid);
    front_port = saved_front;
    bg_router_driver_haproxy.destroy(st);
    bg_router_free(r);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("router_haproxy");
    TCase *pure = tcase_create("replies");
    tcase_add_test(pure, state_parser_reads_weights_and_admin_state);
    tcase_add_test(pure, state_parser_keeps_only_the_backend);
    tcase_add_test(pure, state_parser_reports_haproxy_refusal_verbatim);
    tcase_add_test(pure, stat_sum_adds_sessions_of_the_pool_servers_only);
    tcase_add_test(pure, stat_sum_rejects_missing_server_column_and_refusals);
    tcase_add_test(pure, weights_count_a_drained_pool_as_zero);
    tcase_add_test(pure, plan_raises_the_new_pool_before_draining_the_old);
    tcase_add_test(pure, plan_brings_a_drained_pool_back_and_skips_what_holds);
    tcase_add_test(pure, config_errors_name_the_key);
    tcase_add_test(pure, registry_has_the_haproxy_driver);
    suite_add_tcase(s, pure);

    TCase *api = tcase_create("unreachable");
    tcase_add_unchecked_fixture(api, tmp_setup, tmp_teardown);
    tcase_add_test(api, missing_socket_is_a_clear_error);
    tcase_add_test(api, refused_tcp_runtime_api_is_a_clear_error);
    tcase_add_test(api, silent_runtime_api_times_out);
    suite_add_tcase(s, api);

    TCase *tc = tcase_create("haproxy");
    tcase_add_unchecked_fixture(tc, haproxy_setup, haproxy_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, haproxy_set_and_get_round_trip);
    tcase_add_test(tc, haproxy_flip_moves_all_traffic_at_once);
    tcase_add_test(tc, haproxy_canary_splits_2000_requests_within_2_points);
    tcase_add_test(tc, haproxy_sticky_sessions_follow_the_weights);
    tcase_add_test(tc, haproxy_refusal_is_verbatim_and_changes_nothing);
    tcase_add_test(tc, haproxy_unknown_backend_is_verbatim);
    tcase_add_test(tc, haproxy_tcp_runtime_api_works_too);
    tcase_add_test(tc, haproxy_backend_without_traffic_is_reported_and_repaired);
    tcase_add_test(tc, haproxy_inflight_counts_sessions_per_pool);
    tcase_add_test(tc, haproxy_reload_lost_weights_are_detected_and_repaired);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
