/* test_release_bundle.c — bundle export: contents, idempotent re-export, damaged bundles
 * detected and left alone, failed exports that leave nothing behind, and concurrent
 * exporters racing for the same bundle directory.
 */
#include <dirent.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/gitfix.h"
#include "../support/proc.h"
#include "bggate/release.h"

typedef struct fixture {
    char *tmp;
    char out[600]; /* tmp/bundles */
    bgt_repo repo;
    bg_release *r;
} fixture;

static void fx_open(fixture *f, const char *templates)
{
    memset(f, 0, sizeof *f);
    f->tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(f->tmp);
    char dir[512], cfg[1024];
    snprintf(dir, sizeof dir, "%s/repo", f->tmp);
    snprintf(f->out, sizeof f->out, "%s/bundles", f->tmp);
    ck_assert_int_eq(bgt_repo_init(&f->repo, dir), 0);
    ck_assert_int_eq(bgt_repo_write(&f->repo, "prompts/system.txt", "You are helpful.\n"), 0);
    ck_assert_int_eq(bgt_repo_write(&f->repo, "prompts/deep/qa.json", "{\"q\": 1}\n"), 0);
    snprintf(cfg, sizeof cfg, "{\"release\": {\"model\": {\"name\": \"m\"}, \"templates\": %s}}",
             templates);
    ck_assert_int_eq(bgt_repo_write(&f->repo, "bg-gate.json", cfg), 0);
    ck_assert_int_eq(bgt_repo_commit(&f->repo, "base", NULL), 0);
    bg_error err = {0};
    ck_assert_msg(bg_release_resolve(&f->r, dir, "HEAD", NULL, &err) == 0, "%s", err.msg);
}

static void fx_open_default(fixture *f)
{
    fx_open(f, "{\"system\": \"prompts/system.txt\", \"qa\": \"prompts/deep/qa.json\"}");
}

static void fx_close(fixture *f)
{
    bg_release_free(f->r);
    bgt_repo_close(&f->repo);
    bgt_rmtree(f->tmp);
    free(f->tmp);
}

/* Entries of dir other than . and ..; hidden ones (temp dirs) counted in *hidden. */
static int count_entries(const char *dir, int *hidden)
{
    DIR *d = opendir(dir);
    int n = 0;
    *hidden = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (e->d_name[0] == '.')
            (*hidden)++;
    }
    closedir(d);
    return n;
}

static void write_file(const char *path, const char *data)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs(data, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

/* Appends the advice every damaged-bundle error ends with. */
static void add_hint(char *msg, size_t size, const char *bundle)
{
    size_t n = strlen(msg);
    snprintf(msg + n, size - n, " (remove %s to export it again)", bundle);
}

/* Rewrites the bundle's release.json with edit() applied to its JSON. */
static void edit_manifest(const char *bundle, void (*edit)(cJSON *m))
{
    char p[800];
    snprintf(p, sizeof p, "%s/release.json", bundle);
    char *text = bgt_read_file(p);
    ck_assert_ptr_nonnull(text);
    cJSON *m = cJSON_Parse(text);
    ck_assert_ptr_nonnull(m);
    edit(m);
    char *out = cJSON_Print(m);
    write_file(p, out);
    free(out);
    free(text);
    cJSON_Delete(m);
}

static char *export_ok(fixture *f)
{
    char *path = NULL;
    bg_error err = {0};
    int rc = bg_release_export(f->r, f->out, &path, &err);
    ck_assert_msg(rc == 0, "export: %s", err.msg);
    ck_assert_ptr_nonnull(path);
    return path;
}

static void expect_export_error(fixture *f, int code, const char *expected)
{
    char *path = (char *)1;
    bg_error err = {0};
    ck_assert_int_eq(bg_release_export(f->r, f->out, &path, &err), code);
    ck_assert_ptr_null(path);
    ck_assert_str_eq(err.msg, expected);
}

START_TEST(export_writes_the_manifest_and_the_template_bytes)
{
    fixture f;
    fx_open_default(&f);
    char *path = export_ok(&f);
    char want[700];
    snprintf(want, sizeof want, "%s/%s", f.out, f.r->id);
    ck_assert_str_eq(path, want);

    char p[800];
    snprintf(p, sizeof p, "%s/release.json", path);
    char *text = bgt_read_file(p);
    ck_assert_ptr_nonnull(text);
    cJSON *m = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(cJSON_GetObjectItem(m, "release_id")->valuestring, f.r->id);
    ck_assert_str_eq(cJSON_GetObjectItem(m, "commit")->valuestring, f.r->commit);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(m, "templates")), 2);
    cJSON_Delete(m);

    snprintf(p, sizeof p, "%s/templates/prompts/deep/qa.json", path);
    text = bgt_read_file(p);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "{\"q\": 1}\n");
    free(text);
    snprintf(p, sizeof p, "%s/templates/prompts/system.txt", path);
    text = bgt_read_file(p);
    ck_assert_str_eq(text, "You are helpful.\n");
    free(text);

    int hidden;
    ck_assert_int_eq(count_entries(f.out, &hidden), 1);
    ck_assert_int_eq(hidden, 0); /* the temp dir was renamed, not left behind */
    free(path);
    fx_close(&f);
}
END_TEST

START_TEST(second_export_reuses_the_existing_bundle)
{
    fixture f;
    fx_open_default(&f);
    char *first = export_ok(&f);
    char p[800];
    struct stat before, after;
    snprintf(p, sizeof p, "%s/release.json", first);
    ck_assert_int_eq(stat(p, &before), 0);
    char *second = export_ok(&f);
    ck_assert_str_eq(first, second);
    ck_assert_int_eq(stat(p, &after), 0);
    ck_assert_uint_eq(before.st_ino, after.st_ino); /* not rewritten */
    int hidden;
    ck_assert_int_eq(count_entries(f.out, &hidden), 1);
    ck_assert_int_eq(hidden, 0);
    /* out_path may be NULL */
    bg_error err = {0};
    ck_assert_int_eq(bg_release_export(f.r, f.out, NULL, &err), 0);
    free(first);
    free(second);
    fx_close(&f);
}
END_TEST

START_TEST(damaged_bundles_are_reported_by_file_and_left_alone)
{
    fixture f;
    fx_open_default(&f);
    char *path = export_ok(&f);
    char file[800], msg[1200];
    snprintf(file, sizeof file, "%s/templates/prompts/system.txt", path);

    /* same size, other bytes: the blob id gives it away */
    write_file(file, "You are helpful!\n");
    char got[BG_OID_HEX + 1];
    bg_git_blob_id(got, "You are helpful!\n", 17);
    snprintf(msg, sizeof msg, "damaged bundle: %s: blob %s, expected %s", file, got,
             bg_release_template(f.r, "system")->oid);
    add_hint(msg, sizeof msg, path);
    expect_export_error(&f, BG_EIO, msg);
    char *text = bgt_read_file(file);
    ck_assert_str_eq(text, "You are helpful!\n"); /* left alone */
    free(text);

    write_file(file, "short\n");
    snprintf(msg, sizeof msg, "damaged bundle: %s: size 6, expected 17", file);
    add_hint(msg, sizeof msg, path);
    expect_export_error(&f, BG_EIO, msg);

    ck_assert_int_eq(unlink(file), 0);
    snprintf(msg, sizeof msg, "damaged bundle: %s: missing", file);
    add_hint(msg, sizeof msg, path);
    expect_export_error(&f, BG_EIO, msg);

    snprintf(file, sizeof file, "%s/release.json", path);
    write_file(file, "{\"release_id\": ");
    snprintf(msg, sizeof msg, "damaged bundle: %s: invalid JSON", file);
    add_hint(msg, sizeof msg, path);
    expect_export_error(&f, BG_EIO, msg);

    write_file(file, "{\"release_id\": \"0000\", \"templates\": []}");
    snprintf(msg, sizeof msg, "damaged bundle: %s: release_id does not match the release", file);
    add_hint(msg, sizeof msg, path);
    expect_export_error(&f, BG_EIO, msg);
    free(path);
    fx_close(&f);
}
END_TEST

static void set_served_name(cJSON *m)
{
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(m, "model"), "served_name",
                              cJSON_CreateString("EVIL"));
}

static void add_serving_arg(cJSON *m)
{
    cJSON_AddItemToArray(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "serving"), "args"),
                         cJSON_CreateString("--trust-remote-code"));
}

static void add_member(cJSON *m)
{
    cJSON_AddStringToObject(m, "extra", "x");
}

static void rename_template(cJSON *m)
{
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "templates"), 1), "name",
                              cJSON_CreateString("sys"));
}

static void set_commit(cJSON *m)
{
    cJSON_ReplaceItemInObject(m, "commit",
                              cJSON_CreateString("0123456789abcdef0123456789abcdef01234567"));
}

/* A pool driver reads every field of release.json: each one is checked on reuse, and so
 * is every file under templates/ (none may be added). */
START_TEST(every_manifest_field_and_stray_template_files_are_checked_on_reuse)
{
    static const struct {
        void (*edit)(cJSON *m);
        const char *field;
    } cases[] = {
        {set_served_name, "model.served_name"},
        {add_serving_arg, "serving.args"},
        {add_member, "extra"},
        {rename_template, "templates[1].name"},
    };
    fixture f;
    fx_open_default(&f);
    char *path = export_ok(&f);
    char manifest[800], msg[1400], *pristine;
    snprintf(manifest, sizeof manifest, "%s/release.json", path);
    pristine = bgt_read_file(manifest);
    ck_assert_ptr_nonnull(pristine);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        edit_manifest(path, cases[i].edit);
        snprintf(msg, sizeof msg, "damaged bundle: %s: %s does not match the release", manifest,
                 cases[i].field);
        add_hint(msg, sizeof msg, path);
        expect_export_error(&f, BG_EIO, msg);
        write_file(manifest, pristine);
    }
    /* the commit is not checked: it names the first commit that built this release */
    edit_manifest(path, set_commit);
    free(export_ok(&f));
    write_file(manifest, pristine);

    char extra[900];
    snprintf(extra, sizeof extra, "%s/templates/prompts/extra.txt", path);
    write_file(extra, "smuggled\n");
    snprintf(msg, sizeof msg, "damaged bundle: %s: not in the manifest", extra);
    add_hint(msg, sizeof msg, path);
    expect_export_error(&f, BG_EIO, msg);
    ck_assert_int_eq(unlink(extra), 0);
    free(export_ok(&f)); /* intact again */
    free(pristine);
    free(path);
    fx_close(&f);
}
END_TEST

/* Gap 8 of the release audit: a bundle is named by its release id and shared by every
 * commit with that id, so release.json keeps the commit that first built it (README). */
START_TEST(reused_bundle_keeps_the_commit_that_first_built_it)
{
    fixture f;
    fx_open_default(&f);
    char first_commit[BG_OID_HEX + 1];
    memcpy(first_commit, f.r->commit, sizeof first_commit);
    char *first = export_ok(&f);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "README.md", "docs only\n"), 0);
    ck_assert_int_eq(bgt_repo_commit(&f.repo, "docs", NULL), 0);
    bg_release_free(f.r);
    bg_error err = {0};
    ck_assert_msg(bg_release_resolve(&f.r, f.repo.dir, "HEAD", NULL, &err) == 0, "%s", err.msg);
    ck_assert_str_ne(f.r->commit, first_commit);
    char *second = export_ok(&f);
    ck_assert_str_eq(first, second);
    char p[800];
    snprintf(p, sizeof p, "%s/release.json", second);
    char *text = bgt_read_file(p);
    cJSON *m = cJSON_Parse(text);
    ck_assert_str_eq(cJSON_GetObjectItem(m, "commit")->valuestring, first_commit);
    ck_assert_str_eq(cJSON_GetObjectItem(m, "release_id")->valuestring, f.r->id);
    cJSON_Delete(m);
    free(text);
    free(first);
    free(second);
    fx_close(&f);
}
END_TEST

START_TEST(a_file_in_place_of_the_bundle_is_damaged_not_replaced)
{
    fixture f;
    fx_open_default(&f);
    ck_assert_int_eq(mkdir(f.out, 0755), 0);
    char p[800], msg[1000];
    snprintf(p, sizeof p, "%s/%s", f.out, f.r->id);
    write_file(p, "not a bundle");
    snprintf(msg, sizeof msg, "damaged bundle: %s: not a directory", p);
    add_hint(msg, sizeof msg, p);
    expect_export_error(&f, BG_EIO, msg);
    char *text = bgt_read_file(p);
    ck_assert_str_eq(text, "not a bundle");
    free(text);
    fx_close(&f);
}
END_TEST

START_TEST(export_into_a_file_fails_and_leaves_nothing)
{
    fixture f;
    fx_open_default(&f);
    write_file(f.out, "a file where the directory should be");
    char msg[800];
    snprintf(msg, sizeof msg, "%s: not a directory", f.out);
    expect_export_error(&f, BG_EIO, msg);
    int hidden;
    ck_assert_int_eq(count_entries(f.tmp, &hidden), 2); /* repo and the file */
    ck_assert_int_eq(hidden, 0);
    fx_close(&f);
}
END_TEST

START_TEST(failed_export_midway_removes_its_temp_dir)
{
    fixture f;
    fx_open_default(&f);
    /* a hand-made release whose second template escapes the bundle: release.json and the
     * first template are written before the defensive check refuses the second */
    bg_template bad = {.name = "evil", .path = "../../evil.txt", .size = 4, .data = "bad\n"};
    bg_git_blob_id(bad.oid, bad.data, bad.size);
    bg_template both[2] = {f.r->templates[0], bad};
    bg_template *saved = f.r->templates;
    f.r->templates = both;
    expect_export_error(&f, BG_EINVAL, "template evil: \"../../evil.txt\": \"..\" is not allowed");
    f.r->templates = saved;
    int hidden;
    ck_assert_int_eq(count_entries(f.out, &hidden), 0);
    char p[800];
    snprintf(p, sizeof p, "%s/evil.txt", f.tmp);
    ck_assert_int_ne(access(p, F_OK), 0);
    fx_close(&f);
}
END_TEST

/* Root ignores permission bits through CAP_DAC_OVERRIDE; without it (and the read/search
 * one) root is held to them like any owner. Drops both from this process's effective set. */
static int drop_dac_override(void)
{
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) != 0)
        return -1;
    data[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    return (int)syscall(SYS_capset, &hdr, data);
}

/* The export into a read-only directory, in a child so that dropping root's override
 * cannot leak into other tests (CK_FORK=no under valgrind). Exit 0 when it behaved. */
static int export_into_read_only_dir(fixture *f)
{
    if (geteuid() == 0 && drop_dac_override() != 0)
        return 10;
    char *path = NULL;
    bg_error err = {0};
    if (bg_release_export(f->r, f->out, &path, &err) != BG_EIO) {
        fprintf(stderr, "export did not fail with BG_EIO: %s\n", err.msg);
        return 11;
    }
    if (!strstr(err.msg, "Permission denied")) {
        fprintf(stderr, "unexpected message: %s\n", err.msg);
        return 12;
    }
    int hidden;
    return count_entries(f->out, &hidden) == 0 ? 0 : 13;
}

START_TEST(unwritable_directory_fails_and_leaves_nothing)
{
    fixture f;
    fx_open_default(&f);
    ck_assert_int_eq(mkdir(f.out, 0555), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(export_into_read_only_dir(&f));
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d (10: capset failed; 11: no error; 12: wrong message; "
                  "13: files left behind)",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    chmod(f.out, 0755);
    fx_close(&f);
}
END_TEST

START_TEST(two_templates_sharing_a_path_are_written_once)
{
    fixture f;
    fx_open(&f, "{\"a\": \"prompts/system.txt\", \"b\": \"prompts/system.txt\"}");
    char *path = export_ok(&f);
    char *again = export_ok(&f);
    ck_assert_str_eq(path, again);
    free(path);
    free(again);
    fx_close(&f);
}
END_TEST

START_TEST(concurrent_exports_agree_on_one_bundle)
{
    fixture f;
    fx_open_default(&f);
    for (int round = 0; round < 8; round++) {
        snprintf(f.out, sizeof f.out, "%s/bundles-%d", f.tmp, round);
        pid_t pids[4];
        for (int i = 0; i < 4; i++) {
            pids[i] = fork();
            ck_assert_int_ge(pids[i], 0);
            if (pids[i] == 0) {
                bg_error err = {0};
                int rc = bg_release_export(f.r, f.out, NULL, &err);
                if (rc)
                    fprintf(stderr, "export: %s\n", err.msg);
                _exit(rc == 0 ? 0 : 1);
            }
        }
        for (int i = 0; i < 4; i++) {
            int status = 0;
            ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
            ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        int hidden;
        ck_assert_int_eq(count_entries(f.out, &hidden), 1);
        ck_assert_int_eq(hidden, 0);
        char *path = export_ok(&f); /* and the result verifies */
        free(path);
    }
    fx_close(&f);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("release_bundle");
    TCase *tc = tcase_create("export");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, export_writes_the_manifest_and_the_template_bytes);
    tcase_add_test(tc, second_export_reuses_the_existing_bundle);
    tcase_add_test(tc, damaged_bundles_are_reported_by_file_and_left_alone);
    tcase_add_test(tc, every_manifest_field_and_stray_template_files_are_checked_on_reuse);
    tcase_add_test(tc, reused_bundle_keeps_the_commit_that_first_built_it);
    tcase_add_test(tc, a_file_in_place_of_the_bundle_is_damaged_not_replaced);
    tcase_add_test(tc, export_into_a_file_fails_and_leaves_nothing);
    tcase_add_test(tc, failed_export_midway_removes_its_temp_dir);
    tcase_add_test(tc, unwritable_directory_fails_and_leaves_nothing);
    tcase_add_test(tc, two_templates_sharing_a_path_are_written_once);
    tcase_add_test(tc, concurrent_exports_agree_on_one_bundle);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
