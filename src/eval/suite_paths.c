/* suite_paths.c — which files a --suite argument names (bg_suite_expand_path, suite.h).
 *
 * A file is itself; a directory yields its *.jsonl entries (not hidden, not directories)
 * in name order. Nothing here opens or parses a suite (suite.c does).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bggate/suite.h"
#include "bggate/util.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Collects dir's *.jsonl entries (not hidden, not directories) as joined paths. */
static int list_jsonl(char ***out, size_t *n_out, const char *dir, bg_error *err)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    DIR *d = opendir(dir);
    if (!d)
        return bg_error_set(err, BG_EIO, "%s: %s", dir, strerror(errno));
    const char *sep = bg_str_ends_with(dir, "/") ? "" : "/";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) <= 6 || !bg_str_ends_with(e->d_name, ".jsonl"))
            continue;
        char *p = bg_asprintf("%s%s%s", dir, sep, e->d_name);
        if (p && bg_is_dir(p)) {
            free(p);
            continue;
        }
        if (p && n == cap) {
            cap = cap ? cap * 2 : 8;
            char **nv = realloc(v, cap * sizeof *nv);
            if (nv)
                v = nv;
            else {
                free(p);
                p = NULL;
            }
        }
        if (!p) {
            rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", dir);
            goto cleanup;
        }
        v[n++] = p;
    }
    if (n == 0) {
        rc = bg_error_set(err, BG_EINVAL, "%s: no *.jsonl files", dir);
        goto cleanup;
    }
    qsort(v, n, sizeof *v, cmp_str);
    *out = v;
    *n_out = n;
    v = NULL;
    n = 0;
cleanup:
    free_strings(v, n);
    closedir(d);
    return rc;
}

int bg_suite_expand_path(char ***paths, size_t *n, const char *arg, bg_error *err)
{
    char **found = NULL;
    size_t n_found = 0;
    int rc = 0;
    struct stat st;
    if (stat(arg, &st) != 0)
        return bg_error_set(err, errno == ENOENT ? BG_EINVAL : BG_EIO, "%s: %s", arg,
                            strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        rc = list_jsonl(&found, &n_found, arg, err);
        if (rc)
            return rc;
    } else {
        found = malloc(sizeof *found);
        if (found)
            found[0] = bg_strdup(arg);
        if (!found || !found[0]) {
            free(found);
            return bg_error_set(err, BG_ENOMEM, "%s: out of memory", arg);
        }
        n_found = 1;
    }
    char **all = realloc(*paths, (*n + n_found) * sizeof *all);
    if (!all) {
        rc = bg_error_set(err, BG_ENOMEM, "%s: out of memory", arg);
        goto cleanup;
    }
    memcpy(all + *n, found, n_found * sizeof *found);
    *paths = all;
    *n += n_found;
    n_found = 0;
cleanup:
    free_strings(found, n_found);
    return rc;
}
