/* config.c — bg-mock's settings: command-line flags over a scenario file over defaults.
 *
 * argv is read twice: the first pass only finds --help and --scenario (and rejects
 * unknown flags), the scenario is loaded, then the second pass applies every flag on
 * top of it. The option table below is also the --help text. Every error is one line
 * that names its source ("scenario.json: errors.rate: ...", "--port: ...") and means
 * exit 2.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/json.h"
#include "bggate/util.h"
#include "mock.h"

typedef struct opt_spec {
    const char *name;
    const char *arg; /* metavar, or NULL for a flag */
    const char *help;
} opt_spec;

static const opt_spec options[] = {
    {"host", "ADDR", "address to bind (default 127.0.0.1)"},
    {"port", "N", "TCP port; 0 picks a free one (default 0)"},
    {"port-file", "FILE", "write the bound port here (atomically) once listening"},
    {"pid-file", "FILE", "write our pid here"},
    {"scenario", "FILE", "JSON scenario; the flags below override its values"},
    {"answers", "FILE", "answers table (JSON)"},
    {"model", "NAME", "served model name (default \"mock-model\")"},
    {"cold-start-ms", "N", "answer 503 everywhere until N ms after start"},
    {"latency-ms", "N", "delay before the first byte"},
    {"jitter-ms", "N", "add a uniform 0..N ms to the latency"},
    {"token-ms", "N", "gap between streamed tokens (non-streamed: tokens*N in total)"},
    {"error-rate", "R", "probability (0..1) of injecting an error into a completion"},
    {"error-kinds", "LIST", "comma list of 500,malformed,truncate,hang (default 500)"},
    {"crash-after", "N", "exit(3) after answering N completion requests"},
    {"degrade-after", "N", "after N completion requests, add --degrade-latency-ms to each"},
    {"degrade-latency-ms", "N", "latency added once degraded (a model that gets slow mid-run)"},
    {"degrade-error-rate", "R", "error rate once degraded (a model that starts failing mid-run)"},
    {"request-log", "FILE", "append one JSON line per request received"},
    {"seed", "N", "RNG seed for error injection and jitter (default 1)"},
    {"help", NULL, "print this help"},
};
#define NOPTS (sizeof(options) / sizeof(options[0]))

static const char *const kind_names[] = {"500", "malformed", "truncate", "hang"};

void bg_mock_usage(FILE *fp)
{
    char left[64];
    fputs("usage: bg-mock [options]\n"
          "An OpenAI-compatible model-server simulator (vLLM-like) for tests.\n\n",
          fp);
    for (size_t i = 0; i < NOPTS; i++) {
        snprintf(left, sizeof(left), "--%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(fp, "  %-22s %s\n", left, options[i].help);
    }
    fputs("\nExits 0 on SIGTERM/SIGINT, 2 on bad flags or scenario, 3 on --crash-after.\n", fp);
}

const char *bg_mock_error_kind_name(unsigned kind)
{
    for (unsigned i = 0; i < 4; i++) {
        if (kind == (1u << i))
            return kind_names[i];
    }
    return "none";
}

static int kind_bit(unsigned *out, const char *name, size_t len, bg_error *err)
{
    for (unsigned i = 0; i < 4; i++) {
        if (strlen(kind_names[i]) == len && strncmp(kind_names[i], name, len) == 0) {
            *out |= 1u << i;
            return 0;
        }
    }
    return bg_error_set(err, BG_EINVAL,
                        "unknown error kind \"%.*s\" (expected 500, malformed, truncate, hang)",
                        (int)len, name);
}

int bg_mock_error_kinds_parse(unsigned *out, const char *list, bg_error *err)
{
    unsigned bits = 0;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int rc = kind_bit(&bits, p, len, err);
        if (rc != 0)
            return rc;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    *out = bits;
    return 0;
}

/* ------------------------------------------------------------ scenario file */

static int scenario_errors(bg_mock_config *cfg, const cJSON *errors, bg_error *err)
{
    static const char *const keys[] = {"rate", "kinds", NULL};
    const cJSON *kinds, *it;
    char path[32];
    if (!cJSON_IsObject(errors))
        return bg_error_set(err, BG_EINVAL, "errors: expected an object, got %s",
                            bg_json_type_name(errors));
    int rc = bg_json_check_keys(errors, keys, "errors", err);
    if (rc == 0)
        rc = bg_json_get_double(&cfg->error_rate, errors, "rate", "errors", 0.0, 1.0, false, err);
    if (rc != 0 || (kinds = cJSON_GetObjectItemCaseSensitive(errors, "kinds")) == NULL)
        return rc;
    if (!cJSON_IsArray(kinds) || cJSON_GetArraySize(kinds) == 0)
        return bg_error_set(err, BG_EINVAL, "errors.kinds: expected a non-empty array");
    unsigned bits = 0;
    int i = 0;
    cJSON_ArrayForEach(it, kinds) {
        snprintf(path, sizeof(path), "errors.kinds[%d]", i++);
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "%s: expected a string, got %s", path,
                                bg_json_type_name(it));
        if ((rc = kind_bit(&bits, it->valuestring, strlen(it->valuestring), err)) != 0) {
            bg_error_prefix(err, "%s", path);
            return rc;
        }
    }
    cfg->error_kinds = bits;
    return 0;
}

/* "answers": a path relative to the scenario's directory, or an inline table. */
static int scenario_answers(bg_mock_config *cfg, const cJSON *v, const char *file,
                            bg_error *err)
{
    if (cJSON_IsObject(v))
        return bg_mock_table_parse(&cfg->table, v, "answers", err);
    if (!cJSON_IsString(v))
        return bg_error_set(err, BG_EINVAL, "answers: expected a file name or an object, got %s",
                            bg_json_type_name(v));
    const char *slash = strrchr(file, '/');
    char *path = (v->valuestring[0] == '/' || slash == NULL)
                     ? bg_strdup(v->valuestring)
                     : bg_asprintf("%.*s/%s", (int)(slash - file), file, v->valuestring);
    if (path == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int rc = bg_mock_table_load(&cfg->table, path, err);
    free(path);
    if (rc != 0)
        bg_error_prefix(err, "answers");
    return rc;
}

static int scenario_numbers(bg_mock_config *cfg, const cJSON *root, bg_error *err)
{
    long seed = -1;
    int rc = bg_json_get_long(&cfg->cold_start_ms, root, "cold_start_ms", "", 0, 86400000, false, err);
    if (rc == 0)
        rc = bg_json_get_long(&cfg->latency_ms, root, "latency_ms", "", 0, 3600000, false, err);
    if (rc == 0)
        rc = bg_json_get_long(&cfg->jitter_ms, root, "jitter_ms", "", 0, 3600000, false, err);
    if (rc == 0)
        rc = bg_json_get_long(&cfg->token_ms, root, "token_ms", "", 0, 3600000, false, err);
    if (rc == 0)
        rc = bg_json_get_long(&cfg->crash_after, root, "crash_after", "", 0, 1000000000, false, err);
    if (rc == 0)
        rc = bg_json_get_long(&cfg->degrade_after, root, "degrade_after", "", 0, 1000000000, false,
                              err);
    if (rc == 0)
        rc = bg_json_get_long(&cfg->degrade_latency_ms, root, "degrade_latency_ms", "", 0,
                              3600000, false, err);
    if (rc == 0)
        rc = bg_json_get_long(&seed, root, "seed", "", 0, 0x7fffffffffffffffL, false, err);
    if (rc == 0 && seed >= 0)
        cfg->seed = (uint64_t)seed;
    return rc;
}

static int scenario_apply(bg_mock_config *cfg, const cJSON *root, const char *file,
                          bg_error *err)
{
    static const char *const keys[] = {"model",    "answers",     "cold_start_ms", "latency_ms",
                                       "jitter_ms", "token_ms",   "errors",        "crash_after",
                                       "degrade_after", "degrade_latency_ms", "seed", NULL};
    const char *model = NULL;
    const cJSON *v;
    if (!cJSON_IsObject(root))
        return bg_error_set(err, BG_EINVAL, "expected an object, got %s", bg_json_type_name(root));
    int rc = bg_json_check_keys(root, keys, "", err);
    if (rc == 0)
        rc = bg_json_get_string(&model, root, "model", "", false, err);
    if (rc == 0 && model != NULL && (cfg->model = bg_strdup(model)) == NULL)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (rc == 0)
        rc = scenario_numbers(cfg, root, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(root, "errors")) != NULL)
        rc = scenario_errors(cfg, v, err);
    if (rc == 0 && (v = cJSON_GetObjectItemCaseSensitive(root, "answers")) != NULL)
        rc = scenario_answers(cfg, v, file, err);
    return rc;
}

static int scenario_load(bg_mock_config *cfg, const char *file, bg_error *err)
{
    char *text = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    const char *end = NULL;
    int line = 0, col = 0;
    int rc = bg_file_read(&text, &len, file, BG_MOCK_MAX_SCENARIO_BYTES, err);
    if (rc != 0)
        goto cleanup;
    if ((root = cJSON_ParseWithOpts(text, &end, 0)) == NULL) {
        bg_text_position(text, end ? (size_t)(end - text) : 0, &line, &col);
        rc = bg_error_set(err, BG_EINVAL, "%s:%d:%d: not valid JSON", file, line, col);
        goto cleanup;
    }
    if ((rc = scenario_apply(cfg, root, file, err)) != 0)
        bg_error_prefix(err, "%s", file);
cleanup:
    cJSON_Delete(root);
    free(text);
    return rc;
}

/* ------------------------------------------------------------ command line */

static int set_long(long *out, const char *flag, const char *v, long max, bg_error *err)
{
    if (bg_parse_long(out, v, 0, max) != 0)
        return bg_error_set(err, BG_EINVAL, "--%s: expected an integer from 0 to %ld, got \"%s\"",
                            flag, max, v);
    return 0;
}

static int set_string(char **out, const char *v, bg_error *err)
{
    free(*out);
    *out = bg_strdup(v);
    return *out ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

static int apply_numeric(bg_mock_config *cfg, const char *name, const char *v, bg_error *err)
{
    long seed = 0;
    int rc = 0;
    if (strcmp(name, "port") == 0)
        return set_long(&cfg->port, name, v, 65535, err);
    if (strcmp(name, "cold-start-ms") == 0)
        return set_long(&cfg->cold_start_ms, name, v, 86400000, err);
    if (strcmp(name, "latency-ms") == 0)
        return set_long(&cfg->latency_ms, name, v, 3600000, err);
    if (strcmp(name, "jitter-ms") == 0)
        return set_long(&cfg->jitter_ms, name, v, 3600000, err);
    if (strcmp(name, "token-ms") == 0)
        return set_long(&cfg->token_ms, name, v, 3600000, err);
    if (strcmp(name, "crash-after") == 0)
        return set_long(&cfg->crash_after, name, v, 1000000000, err);
    if (strcmp(name, "degrade-after") == 0)
        return set_long(&cfg->degrade_after, name, v, 1000000000, err);
    if (strcmp(name, "degrade-latency-ms") == 0)
        return set_long(&cfg->degrade_latency_ms, name, v, 3600000, err);
    if (strcmp(name, "seed") == 0) {
        if ((rc = set_long(&seed, name, v, 0x7fffffffffffffffL, err)) == 0)
            cfg->seed = (uint64_t)seed;
        return rc;
    }
    if (strcmp(name, "degrade-error-rate") == 0) {
        if (bg_parse_double(&cfg->degrade_error_rate, v, 0.0, 1.0) != 0)
            return bg_error_set(err, BG_EINVAL,
                                "--degrade-error-rate: expected a number from 0 to 1, got \"%s\"", v);
        return 0;
    }
    if (bg_parse_double(&cfg->error_rate, v, 0.0, 1.0) != 0)
        return bg_error_set(err, BG_EINVAL, "--error-rate: expected a number from 0 to 1, got \"%s\"", v);
    return 0;
}

static int apply_answers(bg_mock_config *cfg, const char *file, bg_error *err)
{
    bg_mock_table *t = NULL;
    int rc = bg_mock_table_load(&t, file, err);
    if (rc != 0)
        return rc;
    bg_mock_table_free(cfg->table);
    cfg->table = t;
    return 0;
}

static int apply_flag(bg_mock_config *cfg, const char *name, const char *v, bg_error *err)
{
    if (strcmp(name, "host") == 0)
        return set_string(&cfg->host, v, err);
    if (strcmp(name, "port-file") == 0)
        return set_string(&cfg->port_file, v, err);
    if (strcmp(name, "pid-file") == 0)
        return set_string(&cfg->pid_file, v, err);
    if (strcmp(name, "request-log") == 0)
        return set_string(&cfg->request_log, v, err);
    if (strcmp(name, "model") == 0)
        return set_string(&cfg->model, v, err);
    if (strcmp(name, "answers") == 0)
        return apply_answers(cfg, v, err);
    if (strcmp(name, "error-kinds") == 0) {
        int rc = bg_mock_error_kinds_parse(&cfg->error_kinds, v, err);
        if (rc != 0)
            bg_error_prefix(err, "--error-kinds");
        return rc;
    }
    if (strcmp(name, "scenario") == 0 || strcmp(name, "help") == 0)
        return 0; /* handled by the first pass */
    return apply_numeric(cfg, name, v, err);
}

static void build_longopts(struct option *lo)
{
    for (size_t i = 0; i < NOPTS; i++) {
        lo[i].name = options[i].name;
        lo[i].has_arg = options[i].arg ? required_argument : no_argument;
        lo[i].flag = NULL;
        lo[i].val = 0;
    }
    memset(&lo[NOPTS], 0, sizeof(lo[NOPTS]));
}

/* One getopt pass. apply=false: only --help/--scenario. Returns 0, HELP or an error. */
static int scan_argv(bg_mock_config *cfg, int argc, char **argv, bool apply,
                     const char **scenario, bg_error *err)
{
    struct option lo[NOPTS + 1];
    int idx = 0, c, rc = 0;
    build_longopts(lo);
    optind = 0; /* GNU: full reinitialisation for the second pass */
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, ":", lo, &idx)) != -1) {
        if (c == '?')
            return bg_error_set(err, BG_EINVAL, "unknown option \"%s\"", argv[optind - 1]);
        if (c == ':')
            return bg_error_set(err, BG_EINVAL, "%s: missing value", argv[optind - 1]);
        if (!apply && strcmp(lo[idx].name, "help") == 0)
            return BG_MOCK_CONFIG_HELP;
        if (!apply && strcmp(lo[idx].name, "scenario") == 0)
            *scenario = optarg;
        if (apply)
            rc = apply_flag(cfg, lo[idx].name, optarg, err);
    }
    if (rc == 0 && optind < argc)
        return bg_error_set(err, BG_EINVAL, "unexpected argument \"%s\"", argv[optind]);
    return rc;
}

static int finish_defaults(bg_mock_config *cfg, bg_error *err)
{
    int rc = 0;
    if (cfg->table == NULL && (rc = bg_mock_table_new_empty(&cfg->table, err)) != 0)
        return rc;
    if (cfg->model == NULL) {
        const char *m = bg_mock_table_model(cfg->table);
        cfg->model = bg_strdup(m ? m : BG_MOCK_DEFAULT_MODEL);
    }
    if (cfg->host == NULL)
        cfg->host = bg_strdup("127.0.0.1");
    if (cfg->model == NULL || cfg->host == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    return 0;
}

int bg_mock_config_parse(bg_mock_config *cfg, int argc, char **argv, bg_error *err)
{
    const char *scenario = NULL;
    memset(cfg, 0, sizeof(*cfg));
    cfg->seed = 1;
    cfg->error_kinds = BG_MOCK_ERR_500;
    int rc = scan_argv(cfg, argc, argv, false, &scenario, err);
    if (rc != 0)
        return rc;
    if (scenario != NULL && (rc = scenario_load(cfg, scenario, err)) != 0)
        return rc;
    if ((rc = scan_argv(cfg, argc, argv, true, NULL, err)) != 0)
        return rc;
    return finish_defaults(cfg, err);
}

void bg_mock_config_dispose(bg_mock_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->host);
    free(cfg->port_file);
    free(cfg->pid_file);
    free(cfg->request_log);
    free(cfg->model);
    bg_mock_table_free(cfg->table);
    memset(cfg, 0, sizeof(*cfg));
}
