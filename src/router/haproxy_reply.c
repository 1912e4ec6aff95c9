/* haproxy_reply.c — reading HAProxy's runtime-API replies for the "haproxy" router driver
 * (haproxy.c): `show servers state <backend>` (space-separated, a "# be_id …" header line
 * naming the columns) and `show stat` (CSV, "# pxname,svname,…" header). Columns are found
 * by name, so a HAProxy version that adds columns still parses; a reply that is not in
 * the expected format is an error quoting HAProxy's text, since an error reply is plain text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/util.h"
#include "haproxy_internal.h"

#define HAPROXY_MAX_FIELDS 256 /* columns of one reply line */


/* Splits s in place into fields: at each `sep`, or at runs of blanks when sep is ' '. */
static size_t split_fields(char *s, char sep, char **f, size_t max)
{
    size_t n = 0;
    while (n < max) {
        if (sep == ' ')
            while (*s == ' ' || *s == '\t')
                s++;
        if (sep == ' ' && !*s)
            break;
        f[n++] = s;
        s += strcspn(s, sep == ' ' ? " \t" : ",");
        if (!*s)
            break;
        *s++ = '\0';
    }
    return n;
}

/* Next line of *p (without its "\n" or "\r\n") as a new string; NULL at the end or when
 * allocation fails (*oom tells). */
static char *next_line(const char **p, bool *oom)
{
    if (!**p)
        return NULL;
    size_t len = strcspn(*p, "\n");
    char *line = bg_strndup(*p, len && (*p)[len - 1] == '\r' ? len - 1 : len);
    *p += len + ((*p)[len] == '\n');
    *oom = line == NULL;
    return line;
}

static long field_index(char **f, size_t n, const char *name, long dflt)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return (long)i;
    return dflt;
}

/* The reply as one line, as the error message. */
static int reply_error(const char *text, const char *what, bg_error *err)
{
    char line[400];
    bg_router_output_line(line, sizeof line, text, strlen(text));
    return bg_error_set(err, BG_EPROTO, "%s%s", what, line);
}

void bg_router_haproxy_servers_dispose(bg_haproxy_servers *s)
{
    for (size_t i = 0; s && i < s->n; i++)
        free(s->v[i].name);
    if (s) {
        free(s->v);
        s->v = NULL;
        s->n = 0;
    }
}

const bg_haproxy_server *bg_router_haproxy_server_find(const bg_haproxy_servers *s,
                                                       const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/* Column positions of format 1 (used when the header line is missing). */
typedef struct state_cols {
    long be_name, srv_name, admin, uweight, iweight;
} state_cols;

static void state_header(state_cols *c, char *line)
{
    char *f[HAPROXY_MAX_FIELDS];
    size_t n = split_fields(line + 1, ' ', f, HAPROXY_MAX_FIELDS);
    c->be_name = field_index(f, n, "be_name", c->be_name);
    c->srv_name = field_index(f, n, "srv_name", c->srv_name);
    c->admin = field_index(f, n, "srv_admin_state", c->admin);
    c->uweight = field_index(f, n, "srv_uweight", c->uweight);
    c->iweight = field_index(f, n, "srv_iweight", c->iweight);
}

static int state_row(bg_haproxy_servers *out, const state_cols *c, char *line,
                     const char *backend, int lineno, bg_error *err)
{
    char *f[HAPROXY_MAX_FIELDS];
    size_t n = split_fields(line, ' ', f, HAPROXY_MAX_FIELDS);
    long admin = 0, uw = 0, iw = 0, need = c->be_name;
    const long idx[] = {c->srv_name, c->admin, c->uweight, c->iweight};
    for (size_t i = 0; i < 4; i++)
        need = idx[i] > need ? idx[i] : need;
    if (n == 0)
        return 0;
    if ((long)n <= need || bg_parse_long(&admin, f[c->admin], 0, 0xffff) < 0 ||
        bg_parse_long(&uw, f[c->uweight], 0, 256) < 0 ||
        bg_parse_long(&iw, f[c->iweight], 0, 256) < 0)
        return bg_error_set(err, BG_EPROTO, "show servers state: line %d: not a server line",
                            lineno);
    if (strcmp(f[c->be_name], backend) != 0)
        return 0;
    bg_haproxy_server *v = realloc(out->v, (out->n + 1) * sizeof *v);
    if (!v)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    out->v = v;
    v[out->n] = (bg_haproxy_server){bg_strdup(f[c->srv_name]), (unsigned)admin, uw, iw};
    if (!v[out->n].name)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    out->n++;
    return 0;
}

int bg_router_haproxy_parse_state(bg_haproxy_servers *out, const char *text,
                                  const char *backend, bg_error *err)
{
    state_cols c = {1, 3, 6, 7, 8};
    const char *p = text;
    bool oom = false;
    int rc = 0, lineno = 1;
    char *line = next_line(&p, &oom);

    out->v = NULL;
    out->n = 0;
    if (!line || strspn(line, "0123456789") != strlen(line) || !*line)
        rc = reply_error(text, "", err);
    else if (strcmp(line, "1") != 0)
        rc = bg_error_set(err, BG_EPROTO, "show servers state: format %s (only format 1 is "
                          "known)", line);
    free(line);
    while (!rc && (line = next_line(&p, &oom))) {
        lineno++;
        if (line[0] == '#')
            state_header(&c, line);
        else
            rc = state_row(out, &c, line, backend, lineno, err);
        free(line);
    }
    if (!rc && oom)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (rc < 0)
        bg_router_haproxy_servers_dispose(out);
    return rc;
}

/* Adds row f's `fields` to *out when it is one of the servers; marks it seen. */
static int stat_row(double *out, bool *seen, char **f, size_t nf, const long *col, size_t ncol,
                    char *const *names, size_t n, const char *const *fields, bg_error *err)
{
    for (size_t s = 0; s < n; s++) {
        if (strcmp(f[1], names[s]) != 0)
            continue;
        for (size_t k = 0; k < ncol; k++) {
            double v = 0;
            if ((size_t)col[k] >= nf || (*f[col[k]] && bg_parse_double(&v, f[col[k]], 0, 1e15)))
                return bg_error_set(err, BG_EPROTO, "show stat: %s of server %s: not a count",
                                    fields[k], names[s]);
            *out += v;
        }
        seen[s] = true;
    }
    return 0;
}

/* Finds each of `fields` in the CSV header line ("# pxname,svname,…"). */
static int stat_columns(long *col, size_t *ncol, const char *header, const char *const *fields,
                        bg_error *err)
{
    char *f[HAPROXY_MAX_FIELDS], *copy = bg_strdup(header + 2);
    if (!copy)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    size_t nf = split_fields(copy, ',', f, HAPROXY_MAX_FIELDS);
    int rc = 0;
    for (*ncol = 0; !rc && fields[*ncol] && *ncol < 8; (*ncol)++)
        if ((col[*ncol] = field_index(f, nf, fields[*ncol], -1)) < 0)
            rc = bg_error_set(err, BG_EPROTO, "show stat: no \"%s\" column", fields[*ncol]);
    free(copy);
    return rc;
}

int bg_router_haproxy_stat_sum(double *out, const char *csv, const char *backend,
                               char *const *names, size_t n, const char *const *fields,
                               bg_error *err)
{
    const char *p = csv;
    bool oom = false, seen[BG_HAPROXY_MAX_SERVERS] = {false};
    long col[8];
    size_t ncol = 0;
    double sum = 0;
    int rc = 0;
    char *f[HAPROXY_MAX_FIELDS];
    char *line = next_line(&p, &oom);

    if (n > BG_HAPROXY_MAX_SERVERS)
        rc = bg_error_set(err, BG_EINVAL, "more than %d servers", BG_HAPROXY_MAX_SERVERS);
    else if (!line || !bg_str_starts_with(line, "# pxname,svname,"))
        rc = reply_error(csv, "show stat: ", err);
    else
        rc = stat_columns(col, &ncol, line, fields, err);
    free(line);
    while (!rc && (line = next_line(&p, &oom))) {
        size_t nf = split_fields(line, ',', f, HAPROXY_MAX_FIELDS);
        if (nf >= 2 && line[0] != '#' && strcmp(f[0], backend) == 0)
            rc = stat_row(&sum, seen, f, nf, col, ncol, names, n, fields, err);
        free(line);
    }
    if (!rc && oom)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    for (size_t s = 0; !rc && s < n; s++)
        if (!seen[s])
            rc = bg_error_set(err, BG_EPROTO, "show stat: backend %s has no server \"%s\"",
                              backend, names[s]);
    if (!rc)
        *out = sum;
    return rc;
}

