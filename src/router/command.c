/* command.c — the "command" router driver: bg-gate runs the user's own commands (argv via
 * posix_spawn, never a shell). set_argv gets the weights as BG_BLUE_WEIGHT and
 * BG_GREEN_WEIGHT in its environment and must exit 0; get_argv must print
 * {"blue": N, "green": M} — its output is stdout and stderr together, so the JSON is taken
 * from the whole output or, failing that, from its last non-empty line. Each command runs
 * under router.timeout_s (default 30 s). Whether set_argv was atomic is up to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/buf.h"
#include "bggate/spawn.h"
#include "bggate/util.h"
#include "router_driver.h"

typedef struct command_router {
    char **set_argv, **get_argv;
    long timeout_ms;
} command_router;

static const char *const command_keys[] = {"set_argv", "get_argv", "timeout_s", NULL};

static void command_destroy(void *state)
{
    command_router *c = state;
    if (!c)
        return;
    bg_router_strv_free(c->set_argv);
    bg_router_strv_free(c->get_argv);
    free(c);
}

static int command_create(void **state, const cJSON *cfg, const bg_pools *pools, bg_error *err)
{
    (void)pools;
    command_router *c = calloc(1, sizeof *c);
    if (!c)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int rc = bg_router_parse_argv(&c->set_argv, cfg, "set_argv", NULL, err);
    if (!rc)
        rc = bg_router_parse_argv(&c->get_argv, cfg, "get_argv", NULL, err);
    if (!rc)
        rc = bg_router_parse_timeout(&c->timeout_ms, cfg, err);
    if (rc < 0) {
        command_destroy(c);
        return rc;
    }
    *state = c;
    return 0;
}

/* Runs argv; a non-zero exit is BG_EIO "<what>: <argv0> exited with N: <output>". */
static int run(const command_router *c, char **argv, const char *const *env, const char *what,
               bg_buf *out, bg_error *err)
{
    int code = -1;
    int rc = bg_spawn_run((const char *const *)argv, env, c->timeout_ms, out, &code, err);
    if (rc < 0) {
        bg_error_prefix(err, "%s", what);
    } else if (code != 0) {
        char line[400];
        bg_router_output_line(line, sizeof line, out->data, out->len);
        rc = bg_error_set(err, BG_EIO, "%s: %s exited with %d: %s", what, argv[0], code, line);
    }
    return rc;
}

/* The whole text as JSON, else its last non-empty line. NULL when neither parses. */
static cJSON *parse_output(const char *text)
{
    cJSON *doc = cJSON_Parse(text);
    if (doc)
        return doc;
    size_t len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    size_t start = len;
    while (start && text[start - 1] != '\n')
        start--;
    return len > start ? cJSON_ParseWithLength(text + start, len - start) : NULL;
}

static int command_get(void *state, bg_weights *out, bg_error *err)
{
    command_router *c = state;
    bg_buf text;
    cJSON *doc = NULL;
    char source[128];

    bg_buf_init(&text, BG_ROUTER_MAX_STATE_BYTES);
    snprintf(source, sizeof source, "get_argv: %s", c->get_argv[0]);
    int rc = run(c, c->get_argv, NULL, "get_argv", &text, err);
    if (rc < 0)
        goto cleanup;
    if (!(doc = parse_output(bg_buf_cstr(&text)))) {
        char line[400];
        bg_router_output_line(line, sizeof line, text.data, text.len);
        rc = bg_error_set(err, BG_EPROTO,
                          "%s: expected {\"blue\": N, \"green\": M} on stdout, got: %s", source,
                          line);
        goto cleanup;
    }
    rc = bg_router_weights_from_json(out, doc, source, err);
cleanup:
    cJSON_Delete(doc);
    bg_buf_dispose(&text);
    return rc;
}

static int command_set(void *state, const bg_weights *w, bg_error *err)
{
    command_router *c = state;
    char blue[32], green[32];
    bg_buf text;

    snprintf(blue, sizeof blue, "BG_BLUE_WEIGHT=%d", w->w[BG_POOL_BLUE]);
    snprintf(green, sizeof green, "BG_GREEN_WEIGHT=%d", w->w[BG_POOL_GREEN]);
    const char *const env[] = {blue, green, NULL};
    bg_buf_init(&text, BG_ROUTER_MAX_STATE_BYTES);
    int rc = run(c, c->set_argv, env, "set_argv", &text, err);
    bg_buf_dispose(&text);
    return rc;
}

const bg_router_driver bg_router_driver_command = {
    .name = "command",
    .keys = command_keys,
    .create = command_create,
    .destroy = command_destroy,
    .get = command_get,
    .set = command_set,
};
