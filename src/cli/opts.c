/* opts.c — a small getopt_long replacement driven by a command's option table, so the
 * same table parses flags, prints --help and words usage errors. Accepts "--name value",
 * "--name=value", "-x value", bundled short flags ("-vv") and "--" to end options.
 * Every command also takes --version (not in its table): it prints the version line of
 * `bg-gate --version` and exits 0 at once, as GNU tools do.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/version.h"
#include "cli.h"

#define VERSION_HELP "print the version and exit"

/* The same line as `bg-gate --version` (main.c). */
static void print_version_and_exit(void)
{
    curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    printf("bg-gate %s (libcurl %s)\n", BG_VERSION, v ? v->version : "?");
    fflush(stdout);
    exit(BG_EXIT_OK);
}

static const bg_opt *find_long(const bg_opt *t, const char *name, size_t n)
{
    for (; t->name; t++)
        if (strlen(t->name) == n && strncmp(t->name, name, n) == 0)
            return t;
    return NULL;
}

static const bg_opt *find_short(const bg_opt *t, char c)
{
    for (; t->name; t++)
        if (t->short_name == c)
            return t;
    return NULL;
}

static int parse_long(const bg_opt *table, int argc, char **argv, int *i, bg_opt_fn fn,
                      void *ud, bg_error *err)
{
    const char *a = argv[*i] + 2;
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    const bg_opt *o = find_long(table, a, n);
    if (!o)
        return bg_error_set(err, BG_EINVAL, "unknown option --%.*s (see --help)", (int)n, a);
    if (!o->arg) {
        if (eq)
            return bg_error_set(err, BG_EINVAL, "--%s takes no value", o->name);
        return fn(ud, o->id, NULL, err);
    }
    if (eq)
        return fn(ud, o->id, eq + 1, err);
    if (*i + 1 >= argc)
        return bg_error_set(err, BG_EINVAL, "--%s needs a value (%s)", o->name, o->arg);
    return fn(ud, o->id, argv[++*i], err);
}

static int parse_short(const bg_opt *table, int argc, char **argv, int *i, bg_opt_fn fn,
                       void *ud, bg_error *err)
{
    for (const char *p = argv[*i] + 1; *p; p++) {
        const bg_opt *o = find_short(table, *p);
        if (!o)
            return bg_error_set(err, BG_EINVAL, "unknown option -%c (see --help)", *p);
        if (!o->arg) {
            int rc = fn(ud, o->id, NULL, err);
            if (rc)
                return rc;
            continue;
        }
        if (p[1])
            return fn(ud, o->id, p + 1, err);
        if (*i + 1 >= argc)
            return bg_error_set(err, BG_EINVAL, "-%c needs a value (%s)", *p, o->arg);
        return fn(ud, o->id, argv[++*i], err);
    }
    return 0;
}

int bg_opts_parse(const bg_opt *table, int argc, char **argv, bg_opt_fn fn, void *ud,
                  const char **positional, int max_positional, bg_error *err)
{
    int npos = 0;
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        /* only where an option may stand: a value ("-H --version") was consumed above */
        if (!only_positional && strcmp(a, "--version") == 0 && !find_long(table, "version", 7))
            print_version_and_exit();
        if (!only_positional && a[0] == '-' && a[1] == '-')
            rc = parse_long(table, argc, argv, &i, fn, ud, err);
        else if (!only_positional && a[0] == '-' && a[1])
            rc = parse_short(table, argc, argv, &i, fn, ud, err);
        else if (positional && npos < max_positional)
            positional[npos++] = a;
        else
            rc = bg_error_set(err, BG_EINVAL, "unexpected argument \"%s\" (see --help)", a);
        if (rc)
            return rc;
    }
    return 0;
}

void bg_opts_help(FILE *f, const char *usage, const char *summary, const bg_opt *table)
{
    fprintf(f, "usage: %s\n\n%s\n\noptions:\n", usage, summary);
    for (const bg_opt *o = table; o->name; o++) {
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
                     o->arg ? " " : "", o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        fprintf(f, "  %-30s %s\n", left, o->help);
    }
    if (!find_long(table, "version", 7))
        fprintf(f, "  %-30s %s\n", "    --version", VERSION_HELP);
}
