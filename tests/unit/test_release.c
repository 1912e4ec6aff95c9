/* test_release.c — releases from git: resolving real repositories built with libgit2 in
 * a temp dir (branches, annotated tags, detached HEAD, subdirectories, worktrees, shallow
 * clones made with the git CLI), the release id and its canonical text, every config
 * error with its message, diffs and cache advice, and the hashes against standard
 * vectors. Bundle export is tested in test_release_bundle.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/gitfix.h"
#include "../support/proc.h"
#include "bggate/buf.h"
#include "bggate/release.h"

extern char **environ;

#define RELEASE_JSON                                                                               \
    "{\"model\": {\"name\": \"meta-llama/Llama-3.1-8B-Instruct\", \"revision\": \"0e9e39f2\", "    \
    "\"served_name\": \"llama-8b\"},"                                                              \
    " \"templates\": {\"system\": \"prompts/system.txt\", \"qa\": \"prompts/qa.json\"},"           \
    " \"serving\": {\"args\": [\"--max-model-len\", \"8192\"], \"env\": {\"VLLM_B\": \"2\", "      \
    "\"VLLM_A\": \"1\"}},"                                                                         \
    " \"suites\": [\"evals/golden.jsonl\"]}"

typedef struct fixture {
    char *tmp;
    bgt_repo repo;
    char head[41];
    char short_sha[13];
} fixture;

/* Writes bg-gate.json with the given release section (plus a gate section that the
 * release module must ignore). */
static void write_config(fixture *f, const char *release)
{
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "{\"release\": %s,\n \"gate\": {\"concurrency\": 4}}\n", release);
    ck_assert_int_eq(bgt_repo_write(&f->repo, "bg-gate.json", cfg), 0);
}

static void commit(fixture *f, const char *msg)
{
    ck_assert_int_eq(bgt_repo_commit(&f->repo, msg, f->head), 0);
    memcpy(f->short_sha, f->head, 12);
    f->short_sha[12] = '\0';
}

/* A repository in tmp/<sub> with the base release committed once. */
static void fx_open_in(fixture *f, const char *sub)
{
    memset(f, 0, sizeof *f);
    f->tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(f->tmp);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", f->tmp, sub);
    ck_assert_int_eq(bgt_repo_init(&f->repo, dir), 0);
    ck_assert_int_eq(bgt_repo_write(&f->repo, "prompts/system.txt", "You are helpful.\n"), 0);
    ck_assert_int_eq(bgt_repo_write(&f->repo, "prompts/qa.json", "{\"q\": \"{{question}}\"}\n"), 0);
    ck_assert_int_eq(bgt_repo_write(&f->repo, "evals/golden.jsonl", "{\"id\": \"a\"}\n"), 0);
    ck_assert_int_eq(bgt_repo_write(&f->repo, "README.md", "readme\n"), 0);
    write_config(f, RELEASE_JSON);
    commit(f, "base");
}

static void fx_open(fixture *f)
{
    fx_open_in(f, "repo");
}

static void fx_close(fixture *f)
{
    bgt_repo_close(&f->repo);
    bgt_rmtree(f->tmp);
    free(f->tmp);
}

static bg_release *resolve_ok_at(const char *dir, const char *rev, const char *cfg)
{
    bg_release *r = NULL;
    bg_error err = {0};
    int rc = bg_release_resolve(&r, dir, rev, cfg, &err);
    ck_assert_msg(rc == 0, "resolve %s: %s", rev, err.msg);
    ck_assert_ptr_nonnull(r);
    return r;
}

static bg_release *resolve_ok(fixture *f, const char *rev)
{
    return resolve_ok_at(f->repo.dir, rev, NULL);
}

/* Resolves HEAD and asserts the error message (and BG_EINVAL). */
static void expect_error_at(const char *dir, const char *rev, const char *cfg, const char *expected)
{
    bg_release *r = (bg_release *)1;
    bg_error err = {0};
    int rc = bg_release_resolve(&r, dir, rev, cfg, &err);
    ck_assert_int_eq(rc, BG_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(err.msg, expected);
}

/* Commits a release section and expects "bg-gate.json@<short>: <expected>". */
static void expect_release_error(fixture *f, const char *release, const char *expected)
{
    write_config(f, release);
    commit(f, "bad config");
    char msg[1024];
    snprintf(msg, sizeof msg, "bg-gate.json@%s: %s", f->short_sha, expected);
    expect_error_at(f->repo.dir, "HEAD", NULL, msg);
}

/* Runs git (found on PATH) with output discarded; -2 when git is not installed. */
static int run_git(const char *const *args)
{
    const char *argv[32] = {"git"};
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc == ENOENT)
        return -2;
    if (rc != 0)
        return -1;
    int status = 0;
    if (waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The git CLI makes the worktrees and shallow clones these tests need; it is one of the
 * test packages of scripts/install-deps.sh, so a missing git fails the test instead of
 * letting it pass without checking anything. */
static void require_git(void)
{
    const char *args[] = {"--version", NULL};
    ck_assert_msg(run_git(args) == 0,
                  "the git CLI is required (scripts/install-deps.sh test installs it)");
}

/* --- hashes --- */

START_TEST(sha256_matches_standard_vectors)
{
    char hex[BG_RELEASE_ID_HEX + 1];
    bg_sha256_hex(hex, "", 0);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    bg_sha256_hex(hex, "abc", 3);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    bg_sha256_hex(hex, m448, strlen(m448));
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
        "nopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    bg_sha256_hex(hex, m896, strlen(m896));
    ck_assert_str_eq(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    char *million = malloc(1000000);
    ck_assert_ptr_nonnull(million);
    memset(million, 'a', 1000000);
    bg_sha256_hex(hex, million, 1000000);
    free(million);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(git_blob_id_matches_git_for_every_padding_length)
{
    char hex[BG_OID_HEX + 1];
    bg_git_blob_id(hex, "hello\n", 6);
    ck_assert_str_eq(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
    bg_git_blob_id(hex, "", 0);
    ck_assert_str_eq(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    /* every length across several block boundaries, against libgit2's own hash */
    char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 3);
    git_libgit2_init();
    for (size_t len = 0; len <= sizeof data; len++) {
        git_oid oid;
        char want[BG_OID_HEX + 1];
        ck_assert_int_eq(git_odb_hash(&oid, data, len, GIT_OBJECT_BLOB), 0);
        git_oid_tostr(want, sizeof want, &oid);
        bg_git_blob_id(hex, data, len);
        ck_assert_msg(strcmp(hex, want) == 0, "length %zu: %s != %s", len, hex, want);
    }
    git_libgit2_shutdown();
}
END_TEST

/* --- resolving --- */

START_TEST(resolve_reads_model_templates_serving_and_suites_from_the_commit)
{
    fixture f;
    fx_open(&f);
    bg_release *r = resolve_ok(&f, "HEAD");
    ck_assert_str_eq(r->commit, f.head);
    ck_assert_str_eq(r->repo_root, f.repo.dir);
    ck_assert_str_eq(r->config_path, "bg-gate.json");
    ck_assert_str_eq(r->model_name, "meta-llama/Llama-3.1-8B-Instruct");
    ck_assert_str_eq(r->model_revision, "0e9e39f2");
    ck_assert_str_eq(r->served_name, "llama-8b");
    ck_assert_uint_eq(r->n_templates, 2);
    ck_assert_str_eq(r->templates[0].name, "qa"); /* sorted by name */
    ck_assert_str_eq(r->templates[0].path, "prompts/qa.json");
    ck_assert_str_eq(r->templates[0].data, "{\"q\": \"{{question}}\"}\n");
    ck_assert_uint_eq(r->templates[0].size, strlen(r->templates[0].data));
    char oid[BG_OID_HEX + 1];
    bg_git_blob_id(oid, "You are helpful.\n", 17);
    ck_assert_str_eq(r->templates[1].name, "system");
    ck_assert_str_eq(r->templates[1].oid, oid);
    ck_assert_ptr_eq(bg_release_template(r, "system"), &r->templates[1]);
    ck_assert_ptr_null(bg_release_template(r, "nope"));
    ck_assert_uint_eq(r->n_serving_args, 2);
    ck_assert_str_eq(r->serving_args[0], "--max-model-len");
    ck_assert_str_eq(r->serving_args[1], "8192");
    ck_assert_uint_eq(r->n_env, 2);
    ck_assert_str_eq(r->env_keys[0], "VLLM_A"); /* sorted by key, values follow */
    ck_assert_str_eq(r->env_values[0], "1");
    ck_assert_str_eq(r->env_keys[1], "VLLM_B");
    ck_assert_str_eq(r->env_values[1], "2");
    ck_assert_uint_eq(r->n_suites, 1);
    ck_assert_str_eq(r->suites[0], "evals/golden.jsonl");
    ck_assert_uint_eq(strlen(r->id), BG_RELEASE_ID_HEX);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(release_id_is_sha256_of_the_documented_canonical_text)
{
    fixture f;
    fx_open(&f);
    bg_release *r = resolve_ok(&f, "HEAD");
    char qa[BG_OID_HEX + 1], sys[BG_OID_HEX + 1], want[BG_RELEASE_ID_HEX + 1];
    bg_git_blob_id(qa, "{\"q\": \"{{question}}\"}\n", 22);
    bg_git_blob_id(sys, "You are helpful.\n", 17);
    char text[2048];
    snprintf(text, sizeof text,
             "bg-gate-release-v1\n"
             "model.name \"meta-llama/Llama-3.1-8B-Instruct\"\n"
             "model.revision \"0e9e39f2\"\n"
             "model.served_name \"llama-8b\"\n"
             "template \"qa\" %s\n"
             "template \"system\" %s\n"
             "serving.arg \"--max-model-len\"\n"
             "serving.arg \"8192\"\n"
             "serving.env \"VLLM_A\" \"1\"\n"
             "serving.env \"VLLM_B\" \"2\"\n",
             qa, sys);
    bg_sha256_hex(want, text, strlen(text));
    ck_assert_str_eq(r->id, want);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(values_are_json_encoded_so_they_cannot_forge_lines)
{
    fixture f;
    fx_open(&f);
    /* one arg that contains a newline and a quoted second item ... */
    write_config(&f, "{\"model\": {\"name\": \"m\"}, \"serving\": {\"args\": "
                     "[\"a\\\"\\nserving.arg \\\"b\"]}}");
    commit(&f, "one arg");
    bg_release *one = resolve_ok(&f, "HEAD");
    /* ... versus two args that a naive line format would print the same way */
    write_config(&f, "{\"model\": {\"name\": \"m\"}, \"serving\": {\"args\": [\"a\", \"b\"]}}");
    commit(&f, "two args");
    bg_release *two = resolve_ok(&f, "HEAD");
    ck_assert_str_ne(one->id, two->id);
    const char *text = "bg-gate-release-v1\nmodel.name \"m\"\nmodel.revision \"\"\n"
                       "model.served_name \"m\"\nserving.arg \"a\\\"\\nserving.arg \\\"b\"\n";
    char want[BG_RELEASE_ID_HEX + 1];
    bg_sha256_hex(want, text, strlen(text));
    ck_assert_str_eq(one->id, want);
    bg_release_free(one);
    bg_release_free(two);
    fx_close(&f);
}
END_TEST

START_TEST(release_id_is_stable_across_an_unrelated_commit)
{
    fixture f;
    fx_open(&f);
    bg_release *before = resolve_ok(&f, "HEAD");
    ck_assert_int_eq(bgt_repo_write(&f.repo, "README.md", "readme, edited\n"), 0);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "src/other.c", "int x;\n"), 0);
    commit(&f, "docs");
    bg_release *after = resolve_ok(&f, "HEAD");
    ck_assert_str_ne(before->commit, after->commit);
    ck_assert_str_eq(before->id, after->id);
    bg_release_diff d;
    ck_assert_int_eq(bg_release_diff_compute(&d, before, after, NULL), 0);
    ck_assert(bg_release_diff_is_empty(&d));
    ck_assert(!d.suites);
    bg_release_diff_dispose(&d);
    bg_release_free(before);
    bg_release_free(after);
    fx_close(&f);
}
END_TEST

START_TEST(release_id_changes_with_every_deployed_change)
{
    fixture f;
    fx_open(&f);
    char ids[6][BG_RELEASE_ID_HEX + 1];
    bg_release *r = resolve_ok(&f, "HEAD");
    memcpy(ids[0], r->id, sizeof ids[0]);
    bg_release_free(r);
    /* one byte of a template */
    ck_assert_int_eq(bgt_repo_write(&f.repo, "prompts/system.txt", "You are helpful!\n"), 0);
    commit(&f, "template byte");
    r = resolve_ok(&f, "HEAD");
    memcpy(ids[1], r->id, sizeof ids[1]);
    bg_release_free(r);
    const char *variants[] = {
        /* model revision */
        "{\"model\": {\"name\": \"meta-llama/Llama-3.1-8B-Instruct\", \"revision\": \"0e9e39f3\","
        " \"served_name\": \"llama-8b\"}, \"templates\": {\"system\": \"prompts/system.txt\", "
        "\"qa\": \"prompts/qa.json\"}, \"serving\": {\"args\": [\"--max-model-len\", \"8192\"], "
        "\"env\": {\"VLLM_B\": \"2\", \"VLLM_A\": \"1\"}}}",
        /* served_name */
        "{\"model\": {\"name\": \"meta-llama/Llama-3.1-8B-Instruct\", \"revision\": \"0e9e39f3\","
        " \"served_name\": \"llama\"}, \"templates\": {\"system\": \"prompts/system.txt\", "
        "\"qa\": \"prompts/qa.json\"}, \"serving\": {\"args\": [\"--max-model-len\", \"8192\"], "
        "\"env\": {\"VLLM_B\": \"2\", \"VLLM_A\": \"1\"}}}",
        /* a serving arg */
        "{\"model\": {\"name\": \"meta-llama/Llama-3.1-8B-Instruct\", \"revision\": \"0e9e39f3\","
        " \"served_name\": \"llama\"}, \"templates\": {\"system\": \"prompts/system.txt\", "
        "\"qa\": \"prompts/qa.json\"}, \"serving\": {\"args\": [\"--max-model-len\", \"4096\"], "
        "\"env\": {\"VLLM_B\": \"2\", \"VLLM_A\": \"1\"}}}",
        /* an env value */
        "{\"model\": {\"name\": \"meta-llama/Llama-3.1-8B-Instruct\", \"revision\": \"0e9e39f3\","
        " \"served_name\": \"llama\"}, \"templates\": {\"system\": \"prompts/system.txt\", "
        "\"qa\": \"prompts/qa.json\"}, \"serving\": {\"args\": [\"--max-model-len\", \"4096\"], "
        "\"env\": {\"VLLM_B\": \"3\", \"VLLM_A\": \"1\"}}}",
    };
    for (size_t i = 0; i < 4; i++) {
        write_config(&f, variants[i]);
        commit(&f, "variant");
        r = resolve_ok(&f, "HEAD");
        memcpy(ids[i + 2], r->id, sizeof ids[0]);
        bg_release_free(r);
    }
    for (size_t i = 0; i < 6; i++)
        for (size_t j = i + 1; j < 6; j++)
            ck_assert_msg(strcmp(ids[i], ids[j]) != 0, "change %zu and %zu share an id", i, j);
    fx_close(&f);
}
END_TEST

START_TEST(suites_change_keeps_the_id_but_the_diff_reports_it)
{
    fixture f;
    fx_open(&f);
    bg_release *a = resolve_ok(&f, "HEAD");
    write_config(&f,
                 "{\"model\": {\"name\": \"meta-llama/Llama-3.1-8B-Instruct\", \"revision\": "
                 "\"0e9e39f2\", \"served_name\": \"llama-8b\"}, \"templates\": {\"system\": "
                 "\"prompts/system.txt\", \"qa\": \"prompts/qa.json\"}, \"serving\": "
                 "{\"args\": [\"--max-model-len\", \"8192\"], \"env\": {\"VLLM_A\": \"1\", "
                 "\"VLLM_B\": \"2\"}}, \"suites\": [\"evals/golden.jsonl\", \"evals/new.jsonl\"]}");
    commit(&f, "more suites");
    bg_release *b = resolve_ok(&f, "HEAD");
    ck_assert_str_eq(a->id, b->id);
    ck_assert_uint_eq(b->n_suites, 2);
    bg_release_diff d;
    ck_assert_int_eq(bg_release_diff_compute(&d, a, b, NULL), 0);
    ck_assert(d.suites);
    ck_assert(!d.model && !d.serving);
    ck_assert(bg_release_diff_is_empty(&d));
    char **lines = NULL;
    size_t n = 0;
    ck_assert_int_eq(bg_release_diff_advice(&lines, &n, &d), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(lines[0], "only the eval suites changed: nothing is redeployed, caches stay "
                               "valid");
    free(lines[0]);
    free(lines);
    bg_release_diff_dispose(&d);
    bg_release_free(a);
    bg_release_free(b);
    fx_close(&f);
}
END_TEST

START_TEST(served_name_defaults_to_the_model_name_and_revision_is_optional)
{
    fixture f;
    fx_open(&f);
    write_config(&f, "{\"model\": {\"name\": \"org/m\"}}");
    commit(&f, "minimal");
    bg_release *r = resolve_ok(&f, "HEAD");
    ck_assert_str_eq(r->served_name, "org/m");
    ck_assert_ptr_null(r->model_revision);
    ck_assert_uint_eq(r->n_templates + r->n_serving_args + r->n_env + r->n_suites, 0);
    cJSON *j = bg_release_to_json(r);
    ck_assert_ptr_nonnull(j);
    const cJSON *model = cJSON_GetObjectItem(j, "model");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(model, "revision")));
    ck_assert_str_eq(cJSON_GetObjectItem(model, "served_name")->valuestring, "org/m");
    cJSON_Delete(j);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(release_json_has_the_documented_shape)
{
    fixture f;
    fx_open(&f);
    bg_release *r = resolve_ok(&f, "HEAD");
    cJSON *j = bg_release_to_json(r);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "commit")->valuestring, f.head);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "release_id")->valuestring, r->id);
    const cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "templates"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(t0, "name")->valuestring, "qa");
    ck_assert_str_eq(cJSON_GetObjectItem(t0, "path")->valuestring, "prompts/qa.json");
    ck_assert_str_eq(cJSON_GetObjectItem(t0, "blob")->valuestring, r->templates[0].oid);
    ck_assert_int_eq(cJSON_GetObjectItem(t0, "size")->valueint, 22);
    const cJSON *serving = cJSON_GetObjectItem(j, "serving");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(serving, "args"), 1)->valuestring,
                     "8192");
    ck_assert_str_eq(
        cJSON_GetObjectItem(cJSON_GetObjectItem(serving, "env"), "VLLM_B")->valuestring, "2");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "suites"), 0)->valuestring,
                     "evals/golden.jsonl");
    cJSON_Delete(j);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(resolves_parent_short_sha_branch_annotated_tag_and_detached_head)
{
    fixture f;
    fx_open(&f);
    char first[41];
    memcpy(first, f.head, sizeof first);
    ck_assert_int_eq(bgt_repo_tag(&f.repo, "v1"), 0); /* annotated tag on the first commit */
    git_object *head = NULL;
    git_reference *branch = NULL;
    ck_assert_int_eq(git_revparse_single(&head, f.repo.repo, "HEAD"), 0);
    ck_assert_int_eq(git_branch_create(&branch, f.repo.repo, "stable", (git_commit *)head, 0), 0);
    git_reference_free(branch);
    git_object_free(head);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "prompts/system.txt", "Be brief.\n"), 0);
    commit(&f, "second");

    const char *revs[] = {"HEAD~1", "v1", "stable", NULL};
    for (size_t i = 0; revs[i]; i++) {
        bg_release *r = resolve_ok(&f, revs[i]);
        ck_assert_msg(strcmp(r->commit, first) == 0, "%s resolved to %s", revs[i], r->commit);
        bg_release_free(r);
    }
    char short_first[8];
    memcpy(short_first, first, 7);
    short_first[7] = '\0';
    bg_release *r = resolve_ok(&f, short_first);
    ck_assert_str_eq(r->commit, first);
    bg_release_free(r);
    r = resolve_ok(&f, f.head);
    ck_assert_str_eq(r->commit, f.head);
    ck_assert_str_eq(bg_release_template(r, "system")->data, "Be brief.\n");
    bg_release_free(r);

    git_oid oid;
    ck_assert_int_eq(git_oid_fromstr(&oid, first), 0);
    ck_assert_int_eq(git_repository_set_head_detached(f.repo.repo, &oid), 0);
    r = resolve_ok(&f, "HEAD");
    ck_assert_str_eq(r->commit, first);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(default_rev_prefers_github_then_gitlab_then_head)
{
    unsetenv("GITHUB_SHA");
    unsetenv("CI_COMMIT_SHA");
    ck_assert_str_eq(bg_release_default_rev(), "HEAD");
    setenv("CI_COMMIT_SHA", "abc123", 1);
    ck_assert_str_eq(bg_release_default_rev(), "abc123");
    setenv("GITHUB_SHA", "def456", 1);
    ck_assert_str_eq(bg_release_default_rev(), "def456");
}
END_TEST

START_TEST(null_rev_resolves_the_default_revision)
{
    fixture f;
    fx_open(&f);
    char first[41];
    memcpy(first, f.head, sizeof first);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "README.md", "x\n"), 0);
    commit(&f, "second");
    setenv("GITHUB_SHA", first, 1);
    bg_release *r = resolve_ok(&f, NULL);
    ck_assert_str_eq(r->commit, first);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(reads_the_commit_never_the_working_tree)
{
    fixture f;
    fx_open(&f);
    /* uncommitted edits must not leak into the release */
    ck_assert_int_eq(bgt_repo_write(&f.repo, "prompts/system.txt", "uncommitted\n"), 0);
    write_config(&f, "{\"model\": {\"name\": \"uncommitted\"}}");
    bg_release *r = resolve_ok(&f, "HEAD");
    ck_assert_str_eq(r->model_name, "meta-llama/Llama-3.1-8B-Instruct");
    ck_assert_str_eq(bg_release_template(r, "system")->data, "You are helpful.\n");
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(discovers_the_repository_from_a_subdirectory_and_reads_a_nested_config)
{
    fixture f;
    fx_open(&f);
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "{\"release\": {\"model\": {\"name\": \"nested\"}, \"templates\": "
             "{\"qa\": \"prompts/qa.json\"}}}");
    ck_assert_int_eq(bgt_repo_write(&f.repo, "deploy/prod/bg-gate.json", cfg), 0);
    commit(&f, "nested config");
    char sub[600];
    snprintf(sub, sizeof sub, "%s/prompts", f.repo.dir);
    bg_release *r = resolve_ok_at(sub, "HEAD", "deploy/prod/bg-gate.json");
    ck_assert_str_eq(r->model_name, "nested");
    ck_assert_str_eq(r->repo_root, f.repo.dir);
    ck_assert_str_eq(r->config_path, "deploy/prod/bg-gate.json");
    bg_release_free(r);
    /* "./x" and an absolute path inside the repository name the same file */
    r = resolve_ok_at(sub, "HEAD", "./deploy/prod/bg-gate.json");
    ck_assert_str_eq(r->config_path, "deploy/prod/bg-gate.json");
    bg_release_free(r);
    char abs[700];
    snprintf(abs, sizeof abs, "%s/deploy/prod/bg-gate.json", f.repo.dir);
    r = resolve_ok_at(sub, "HEAD", abs);
    ck_assert_str_eq(r->model_name, "nested");
    bg_release_free(r);
    /* with "..", the path is taken from the directory the command runs in, as `eval
     * --config ../x` takes it */
    r = resolve_ok_at(sub, "HEAD", "../deploy/prod/bg-gate.json");
    ck_assert_str_eq(r->config_path, "deploy/prod/bg-gate.json");
    bg_release_free(r);
    r = resolve_ok_at(sub, "HEAD", "../bg-gate.json");
    ck_assert_str_eq(r->config_path, "bg-gate.json");
    ck_assert_str_eq(r->model_name, "meta-llama/Llama-3.1-8B-Instruct");
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(paths_with_spaces_and_non_ascii_characters_work)
{
    fixture f;
    fx_open_in(&f, "my repo \xc3\xbc\xe2\x82\xac");
    ck_assert_int_eq(bgt_repo_write(&f.repo, "prompts/syst\xc3\xa8me qa.txt", "bonjour\n"), 0);
    write_config(&f, "{\"model\": {\"name\": \"m\"}, \"templates\": {\"q\xc3\xa9\": "
                     "\"prompts/syst\xc3\xa8me qa.txt\"}}");
    commit(&f, "unicode");
    bg_release *r = resolve_ok(&f, "HEAD");
    ck_assert_str_eq(r->repo_root, f.repo.dir);
    const bg_template *t = bg_release_template(r, "q\xc3\xa9");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->data, "bonjour\n");
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(resolves_through_a_git_worktree)
{
    require_git();
    fixture f;
    fx_open(&f);
    char wt[600];
    snprintf(wt, sizeof wt, "%s/work tree", f.tmp);
    const char *args[] = {"-C", f.repo.dir, "worktree", "add", "-b", "wt", wt, "HEAD", NULL};
    ck_assert_int_eq(run_git(args), 0);
    struct stat st;
    char dotgit[700];
    snprintf(dotgit, sizeof dotgit, "%s/.git", wt);
    ck_assert_int_eq(stat(dotgit, &st), 0);
    ck_assert(S_ISREG(st.st_mode)); /* a worktree's .git is a file */
    bg_release *r = resolve_ok_at(wt, "HEAD", NULL);
    ck_assert_str_eq(r->commit, f.head);
    ck_assert_str_eq(r->repo_root, wt);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

START_TEST(shallow_clone_explains_a_missing_parent)
{
    require_git();
    fixture f;
    fx_open(&f);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "README.md", "second\n"), 0);
    commit(&f, "second");
    const char *branch[] = {"-C", f.repo.dir, "branch", "other", NULL};
    ck_assert_int_eq(run_git(branch), 0);
    char url[700], clone[600];
    snprintf(url, sizeof url, "file://%s", f.repo.dir);
    snprintf(clone, sizeof clone, "%s/shallow", f.tmp);
    const char *args[] = {"clone", "-q", "--depth", "1", url, clone, NULL};
    ck_assert_int_eq(run_git(args), 0);
    bg_release *r = resolve_ok_at(clone, "HEAD", NULL);
    ck_assert_str_eq(r->commit, f.head);
    bg_release_free(r);
    expect_error_at(clone, "HEAD~1", NULL,
                    "unknown revision \"HEAD~1\" (this is a shallow clone: fetch more history "
                    "with `git fetch --deepen=50` or `git fetch --unshallow`)");
    /* a branch the clone never fetched: --deepen cannot bring it, the hint's fetch does */
    expect_error_at(clone, "origin/other", NULL,
                    "unknown revision \"origin/other\" (this shallow clone never fetched it: run "
                    "`git fetch origin other:refs/remotes/origin/other`)");
    const char *fetch[] = {"-C", clone, "fetch", "-q", "origin", "other:refs/remotes/origin/other",
                           NULL};
    ck_assert_int_eq(run_git(fetch), 0);
    r = resolve_ok_at(clone, "origin/other", NULL);
    ck_assert_str_eq(r->commit, f.head);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

/* --- errors --- */

START_TEST(outside_a_repository_is_not_a_git_repository)
{
    char *tmp = bgt_tmpdir();
    char msg[600];
    snprintf(msg, sizeof msg, "not a git repository: %s", tmp);
    expect_error_at(tmp, "HEAD", NULL, msg);
    bgt_rmtree(tmp);
    free(tmp);
}
END_TEST

START_TEST(unknown_revision_and_non_commit_revision_are_rejected)
{
    fixture f;
    fx_open(&f);
    expect_error_at(f.repo.dir, "v9", NULL, "unknown revision \"v9\"");
    expect_error_at(f.repo.dir, "HEAD~5", NULL, "unknown revision \"HEAD~5\"");
    expect_error_at(f.repo.dir, "HEAD:prompts", NULL, "revision \"HEAD:prompts\" is not a commit");
    fx_close(&f);
}
END_TEST

START_TEST(missing_config_names_the_commit)
{
    fixture f;
    fx_open(&f);
    char msg[1200];
    snprintf(msg, sizeof msg, "no other.json at %s", f.short_sha);
    expect_error_at(f.repo.dir, "HEAD", "other.json", msg);
    snprintf(msg, sizeof msg, "prompts at %s is a directory, not a file", f.short_sha);
    expect_error_at(f.repo.dir, "HEAD", "prompts", msg);
    snprintf(msg, sizeof msg,
             "config path \"../bg-gate.json\": %s/bg-gate.json is outside the repository %s (a "
             "path with \"..\" or an absolute one is taken from the current directory; other "
             "paths are relative to the repository root)",
             f.tmp, f.repo.dir);
    expect_error_at(f.repo.dir, "HEAD", "../bg-gate.json", msg);
    fx_close(&f);
}
END_TEST

START_TEST(invalid_json_reports_line_and_column)
{
    fixture f;
    fx_open(&f);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "bg-gate.json",
                                    "{\n  \"release\": {\n    \"model\": nope\n  }\n}\n"),
                     0);
    commit(&f, "broken");
    char msg[200];
    snprintf(msg, sizeof msg, "bg-gate.json@%s:3:14: invalid JSON", f.short_sha);
    expect_error_at(f.repo.dir, "HEAD", NULL, msg);
    fx_close(&f);
}
END_TEST

START_TEST(config_without_release_section_is_rejected)
{
    fixture f;
    fx_open(&f);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "bg-gate.json", "{\"gate\": {}}"), 0);
    commit(&f, "no release");
    char msg[200];
    snprintf(msg, sizeof msg, "bg-gate.json@%s: no release section", f.short_sha);
    expect_error_at(f.repo.dir, "HEAD", NULL, msg);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "bg-gate.json", "[1]"), 0);
    commit(&f, "array");
    snprintf(msg, sizeof msg, "bg-gate.json@%s: expected an object at the top level, got an array",
             f.short_sha);
    expect_error_at(f.repo.dir, "HEAD", NULL, msg);
    fx_close(&f);
}
END_TEST

START_TEST(bad_fields_are_reported_with_their_json_path)
{
    fixture f;
    fx_open(&f);
    expect_release_error(&f, "{\"model\": {\"name\": \"m\", \"revison\": \"x\"}}",
                         "release.model.revison: unknown field (did you mean \"revision\"?)");
    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"templtes\": {}}",
                         "release.templtes: unknown field (did you mean \"templates\"?)");
    expect_release_error(&f, "{\"model\": {\"revision\": \"x\"}}",
                         "release.model.name: missing (a string is required)");
    expect_release_error(&f, "{\"templates\": {}}",
                         "release.model: missing (an object is required)");
    expect_release_error(&f, "{\"model\": {\"name\": \"\"}}",
                         "release.model.name: must not be empty");
    expect_release_error(&f, "{\"model\": {\"name\": 3}}",
                         "release.model.name: expected a string, got a number");
    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"serving\": {\"args\": [\"a\", 2]}}",
                         "release.serving.args[1]: expected a string, got a number");
    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"serving\": {\"env\": {\"A\": 1}}}",
                         "release.serving.env.A: expected a string, got a number");
    expect_release_error(&f,
                         "{\"model\": {\"name\": \"m\"}, \"serving\": {\"env\": {\"A\": \"1\", "
                         "\"A\": \"2\"}}}",
                         "release.serving.env: duplicate variable \"A\"");
    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"suites\": \"evals/a.jsonl\"}",
                         "release.suites: expected an array of strings, got a string");
    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"templates\": [\"a\"]}",
                         "release.templates: expected an object, got an array");
    expect_release_error(&f, "\"x\"", "release: expected an object, got a string");
    fx_close(&f);
}
END_TEST

START_TEST(template_errors_name_the_template_and_its_path)
{
    fixture f;
    fx_open(&f);
    char msg[300];
    snprintf(msg, sizeof msg, "release.templates.qa: \"prompts/missing.json\" not found at ");
    write_config(
        &f, "{\"model\": {\"name\": \"m\"}, \"templates\": {\"qa\": \"prompts/missing.json\"}}");
    commit(&f, "missing");
    char full[600];
    snprintf(full, sizeof full, "bg-gate.json@%s: %s%s", f.short_sha, msg, f.short_sha);
    expect_error_at(f.repo.dir, "HEAD", NULL, full);

    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"templates\": {\"qa\": \"prompts\"}}",
                         "release.templates.qa: \"prompts\" is a directory, not a file");
    expect_release_error(&f,
                         "{\"model\": {\"name\": \"m\"}, \"templates\": {\"qa\": \"/etc/passwd\"}}",
                         "release.templates.qa: \"/etc/passwd\": absolute paths are not allowed");
    expect_release_error(
        &f, "{\"model\": {\"name\": \"m\"}, \"templates\": {\"qa\": \"prompts/../../x\"}}",
        "release.templates.qa: \"prompts/../../x\": \"..\" is not allowed");
    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"templates\": {\"qa\": \"\"}}",
                         "release.templates.qa: \"\": empty paths are not allowed");
    expect_release_error(
        &f,
        "{\"model\": {\"name\": \"m\"}, \"templates\": {\"qa\": \"prompts/qa.json\", "
        "\"qa\": \"prompts/system.txt\"}}",
        "release.templates: duplicate template name \"qa\"");
    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"templates\": {\"qa\": 1}}",
                         "release.templates.qa: expected a path string, got a number");
    fx_close(&f);
}
END_TEST

START_TEST(template_symlink_and_oversized_blob_are_rejected)
{
    fixture f;
    fx_open(&f);
    char link[700];
    snprintf(link, sizeof link, "%s/prompts/link.txt", f.repo.dir);
    ck_assert_int_eq(symlink("system.txt", link), 0);
    expect_release_error(
        &f, "{\"model\": {\"name\": \"m\"}, \"templates\": {\"l\": \"prompts/link.txt\"}}",
        "release.templates.l: \"prompts/link.txt\" is a symbolic link, not a file");
    size_t big = (1u << 20) + 1;
    char *data = malloc(big + 1);
    ck_assert_ptr_nonnull(data);
    memset(data, 'x', big);
    data[big] = '\0';
    ck_assert_int_eq(bgt_repo_write(&f.repo, "prompts/big.txt", data), 0);
    free(data);
    expect_release_error(
        &f, "{\"model\": {\"name\": \"m\"}, \"templates\": {\"b\": \"prompts/big.txt\"}}",
        "release.templates.b: \"prompts/big.txt\": larger than 1048576 bytes");
    fx_close(&f);
}
END_TEST

/* --- release id: every deployed change, and only those --- */

#define RELEASE_FMT                                                                                \
    "{\"model\": {\"name\": \"%s\", \"revision\": \"0e9e39f2\", \"served_name\": \"llama-8b\"},"   \
    " \"templates\": {%s}, \"serving\": {\"args\": [%s], \"env\": {%s}},"                          \
    " \"suites\": [\"evals/golden.jsonl\"]}"
#define BASE_NAME "meta-llama/Llama-3.1-8B-Instruct"
#define BASE_TEMPLATES "\"system\": \"prompts/system.txt\", \"qa\": \"prompts/qa.json\""
#define BASE_ARGS "\"--max-model-len\", \"8192\""
#define BASE_ENV "\"VLLM_B\": \"2\", \"VLLM_A\": \"1\""

/* Commits RELEASE_FMT filled with the four parts and returns the release id of HEAD. */
static void id_of(fixture *f, char out[BG_RELEASE_ID_HEX + 1], const char *name,
                  const char *templates, const char *args, const char *env)
{
    char release[2048];
    snprintf(release, sizeof release, RELEASE_FMT, name, templates, args, env);
    write_config(f, release);
    commit(f, "variant");
    bg_release *r = resolve_ok(f, "HEAD");
    memcpy(out, r->id, BG_RELEASE_ID_HEX + 1);
    bg_release_free(r);
}

START_TEST(release_id_changes_with_names_keys_membership_and_arg_order)
{
    static const struct {
        const char *what, *name, *templates, *args, *env;
    } variants[] = {
        {"model.name", "meta-llama/Llama-3.1-70B-Instruct", BASE_TEMPLATES, BASE_ARGS, BASE_ENV},
        {"template key renamed", BASE_NAME,
         "\"sys\": \"prompts/system.txt\", \"qa\": \"prompts/qa.json\"", BASE_ARGS, BASE_ENV},
        {"template added", BASE_NAME, BASE_TEMPLATES ", \"readme\": \"README.md\"", BASE_ARGS,
         BASE_ENV},
        {"template removed", BASE_NAME, "\"qa\": \"prompts/qa.json\"", BASE_ARGS, BASE_ENV},
        {"env key renamed", BASE_NAME, BASE_TEMPLATES, BASE_ARGS,
         "\"VLLM_C\": \"2\", \"VLLM_A\": \"1\""},
        {"args reordered", BASE_NAME, BASE_TEMPLATES, "\"8192\", \"--max-model-len\"", BASE_ENV},
    };
    enum { N = sizeof variants / sizeof variants[0] };
    fixture f;
    fx_open(&f);
    char base[BG_RELEASE_ID_HEX + 1], ids[N][BG_RELEASE_ID_HEX + 1];
    bg_release *r = resolve_ok(&f, "HEAD");
    memcpy(base, r->id, sizeof base);
    bg_release_free(r);
    char again[BG_RELEASE_ID_HEX + 1];
    id_of(&f, again, BASE_NAME, BASE_TEMPLATES, BASE_ARGS, BASE_ENV);
    ck_assert_str_eq(again, base); /* the format above is the fixture's release */
    for (size_t i = 0; i < N; i++) {
        id_of(&f, ids[i], variants[i].name, variants[i].templates, variants[i].args,
              variants[i].env);
        ck_assert_msg(strcmp(ids[i], base) != 0, "%s keeps the id", variants[i].what);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(ids[i], ids[j]) != 0, "%s and %s share an id", variants[i].what,
                          variants[j].what);
    }
    fx_close(&f);
}
END_TEST

START_TEST(moving_a_template_with_the_same_bytes_keeps_the_id)
{
    fixture f;
    fx_open(&f);
    bg_release *before = resolve_ok(&f, "HEAD");
    char old_path[700];
    snprintf(old_path, sizeof old_path, "%s/prompts/qa.json", f.repo.dir);
    ck_assert_int_eq(unlink(old_path), 0);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "templates/v2/qa.json", "{\"q\": \"{{question}}\"}\n"),
                     0);
    char moved[BG_RELEASE_ID_HEX + 1];
    id_of(&f, moved, BASE_NAME,
          "\"system\": \"prompts/system.txt\", \"qa\": \"templates/v2/qa.json\"", BASE_ARGS,
          BASE_ENV);
    ck_assert_str_eq(moved, before->id);
    bg_release *after = resolve_ok(&f, "HEAD");
    ck_assert_str_eq(bg_release_template(after, "qa")->path, "templates/v2/qa.json");
    ck_assert_str_eq(bg_release_template(after, "qa")->oid, bg_release_template(before, "qa")->oid);
    bg_release_free(before);
    bg_release_free(after);
    fx_close(&f);
}
END_TEST

/* --- JSON errors: trailing text, the column of a trailing comma, duplicate keys --- */

START_TEST(text_after_the_json_document_is_rejected_like_validate_does)
{
    fixture f;
    fx_open(&f);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "bg-gate.json",
                                    "{\"release\": {\"model\": {\"name\": \"m\"}}}\n}\n"),
                     0);
    commit(&f, "merge leftover");
    char msg[200];
    snprintf(msg, sizeof msg, "bg-gate.json@%s:2:1: unexpected text after the JSON document",
             f.short_sha);
    expect_error_at(f.repo.dir, "HEAD", NULL, msg);
    ck_assert_int_eq(
        bgt_repo_write(&f.repo, "bg-gate.json", "{\"release\": {\"model\": {\"name\": \"m\"}}} x"),
        0);
    commit(&f, "trailing word");
    snprintf(msg, sizeof msg, "bg-gate.json@%s:1:39: unexpected text after the JSON document",
             f.short_sha); /* the x */
    expect_error_at(f.repo.dir, "HEAD", NULL, msg);
    fx_close(&f);
}
END_TEST

START_TEST(trailing_comma_column_points_at_the_closing_brace)
{
    fixture f;
    fx_open(&f);
    const char *text = "{\"release\": {\"model\": {\"name\": \"m\",}}}\n";
    ck_assert_int_eq(bgt_repo_write(&f.repo, "bg-gate.json", text), 0);
    commit(&f, "trailing comma");
    int col = (int)(strstr(text, ",}") - text) + 2; /* 1-based column of the '}' */
    ck_assert_int_eq(col, 36);
    char msg[200];
    snprintf(msg, sizeof msg, "bg-gate.json@%s:1:%d: invalid JSON", f.short_sha, col);
    expect_error_at(f.repo.dir, "HEAD", NULL, msg);
    fx_close(&f);
}
END_TEST

START_TEST(duplicate_keys_anywhere_in_the_config_are_errors_naming_the_path)
{
    fixture f;
    fx_open(&f);
    char msg[300];
    ck_assert_int_eq(bgt_repo_write(&f.repo, "bg-gate.json",
                                    "{\"release\": {\"model\": {\"name\": \"m\"}},\n"
                                    " \"release\": {\"model\": {\"name\": \"other\"}}}\n"),
                     0);
    commit(&f, "two release sections");
    snprintf(msg, sizeof msg, "bg-gate.json@%s: duplicate key \"release\" at the top level",
             f.short_sha);
    expect_error_at(f.repo.dir, "HEAD", NULL, msg);
    expect_release_error(&f,
                         "{\"model\": {\"name\": \"m\", \"revision\": \"a\", \"revision\": \"b\"}}",
                         "release.model: duplicate key \"revision\"");
    expect_release_error(&f,
                         "{\"model\": {\"name\": \"m\"}, \"serving\": {\"args\": [], \"args\": "
                         "[\"--x\"]}}",
                         "release.serving: duplicate key \"args\"");
    expect_release_error(&f, "{\"model\": {\"name\": \"m\"}, \"suites\": [], \"suites\": []}",
                         "release: duplicate key \"suites\"");
    fx_close(&f);
}
END_TEST

/* --- safe.directory --- */

START_TEST(a_repository_owned_by_another_user_gets_the_safe_directory_hint)
{
    if (geteuid() != 0) {
        fprintf(stderr, "SKIPPED a_repository_owned_by_another_user_gets_the_safe_directory_hint: "
                        "needs root to chown the test repository to nobody\n");
        return;
    }
    fixture f;
    fx_open(&f);
    /* no global/XDG config of the machine may already trust it */
    ck_assert_int_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, f.tmp), 0);
    ck_assert_int_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, f.tmp), 0);
    char dotgit[600];
    snprintf(dotgit, sizeof dotgit, "%s/.git", f.repo.dir);
    ck_assert_int_eq(chown(f.repo.dir, 65534, 65534), 0);
    ck_assert_int_eq(chown(dotgit, 65534, 65534), 0);
    char msg[1400];
    snprintf(msg, sizeof msg,
             "git refuses the repository %s: it is owned by another user (safe.directory); if you "
             "trust it, run `git config --global --add safe.directory %s`",
             f.repo.dir, f.repo.dir);
    expect_error_at(f.repo.dir, "HEAD", NULL, msg);
    /* the advice works: with safe.directory set, the same repository resolves */
    char cfg_path[600], line[1000];
    snprintf(cfg_path, sizeof cfg_path, "%s/.gitconfig", f.tmp);
    snprintf(line, sizeof line, "[safe]\n\tdirectory = %s\n", f.repo.dir);
    FILE *fp = fopen(cfg_path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(line, fp);
    ck_assert_int_eq(fclose(fp), 0);
    bg_release *r = resolve_ok(&f, "HEAD");
    ck_assert_str_eq(r->commit, f.head);
    bg_release_free(r);
    fx_close(&f);
}
END_TEST

/* --- validate: the release section of a working-tree config --- */

static void expect_section_error(const char *config, const char *expected)
{
    cJSON *root = cJSON_Parse(config);
    ck_assert_ptr_nonnull(root);
    bg_error err = {0};
    ck_assert_int_eq(bg_release_check_section(root, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, expected);
    cJSON_Delete(root);
}

START_TEST(check_section_applies_the_resolve_rules_without_git)
{
    expect_section_error("{\"release\": {\"model\": {\"nam\": \"m\"}}}",
                         "release.model.nam: unknown field (did you mean \"name\"?)");
    expect_section_error("{\"release\": {\"model\": {\"revision\": \"r\"}}}",
                         "release.model.name: missing (a string is required)");
    expect_section_error("{\"release\": {\"templates\": {}}}",
                         "release.model: missing (an object is required)");
    expect_section_error(
        "{\"release\": {\"model\": {\"name\": \"m\"}, \"templates\": {\"a\": \"/etc/passwd\"}}}",
        "release.templates.a: \"/etc/passwd\": absolute paths are not allowed");
    expect_section_error(
        "{\"release\": {\"model\": {\"name\": \"m\"}, \"templates\": {\"a\": \"p/../../x\"}}}",
        "release.templates.a: \"p/../../x\": \"..\" is not allowed");
    expect_section_error("{\"release\": {\"model\": {\"name\": \"m\"}, \"templates\": {\"a\": "
                         "\"x.txt\", \"a\": \"y.txt\"}}}",
                         "release.templates: duplicate template name \"a\"");
    expect_section_error("{\"release\": {\"model\": {\"name\": \"m\"}, \"sutes\": []}}",
                         "release.sutes: unknown field (did you mean \"suites\"?)");
    /* a good section (templates are not looked up) and no section at all are fine */
    const char *ok[] = {
        "{\"release\": {\"model\": {\"name\": \"m\"}, \"templates\": {\"a\": \"not/yet.txt\"}}}",
        "{\"gate\": {}}",
    };
    for (size_t i = 0; i < 2; i++) {
        cJSON *root = cJSON_Parse(ok[i]);
        bg_error err = {0};
        ck_assert_msg(bg_release_check_section(root, &err) == 0, "%s: %s", ok[i], err.msg);
        cJSON_Delete(root);
    }
}
END_TEST

/* --- diff --- */

/* Two releases of the same fixture: HEAD before and after `release`. */
static void two_releases(fixture *f, const char *release, bg_release **a, bg_release **b)
{
    *a = resolve_ok(f, "HEAD");
    write_config(f, release);
    commit(f, "change");
    *b = resolve_ok(f, "HEAD");
}

static void free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

START_TEST(diff_classifies_model_template_and_serving_changes_with_advice)
{
    fixture f;
    fx_open(&f);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "prompts/new.txt", "new\n"), 0);
    ck_assert_int_eq(bgt_repo_write(&f.repo, "prompts/system.txt", "Be terse.\n"), 0);
    bg_release *a, *b;
    two_releases(
        &f,
        "{\"model\": {\"name\": \"meta-llama/Llama-3.1-8B-Instruct\", \"revision\": "
        "\"ffff\", \"served_name\": \"llama-8b\"}, \"templates\": {\"new\": "
        "\"prompts/new.txt\", \"system\": \"prompts/system.txt\"}, \"serving\": {\"args\": "
        "[\"--max-model-len\", \"8192\"], \"env\": {\"VLLM_A\": \"1\", \"VLLM_B\": \"9\"}}}",
        &a, &b);
    bg_release_diff d;
    ck_assert_int_eq(bg_release_diff_compute(&d, a, b, NULL), 0);
    ck_assert(d.model && d.serving && d.suites);
    ck_assert(!bg_release_diff_is_empty(&d));
    ck_assert_uint_eq(d.n_added, 1);
    ck_assert_str_eq(d.templates_added[0], "new");
    ck_assert_uint_eq(d.n_removed, 1);
    ck_assert_str_eq(d.templates_removed[0], "qa");
    ck_assert_uint_eq(d.n_changed, 1);
    ck_assert_str_eq(d.templates_changed[0], "system");

    char **lines = NULL;
    size_t n = 0;
    ck_assert_int_eq(bg_release_diff_advice(&lines, &n, &d), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(lines[0], "model changed: the prefix cache starts cold and semantic-cache "
                               "entries keyed on model output are invalid");
    ck_assert_str_eq(lines[1], "templates changed (system, new (added), qa (removed)): "
                               "semantic-cache entries produced with the old templates are "
                               "invalid; the prefix cache of unchanged prefixes stays valid");
    ck_assert_str_eq(lines[2], "serving arguments or environment changed: the server restarts, "
                               "so its caches start cold");
    free_lines(lines, n);

    cJSON *j = bg_release_diff_to_json(&d);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "changed")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "model")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "serving")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "suites")));
    const cJSON *t = cJSON_GetObjectItem(j, "templates");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "added"), 0)->valuestring, "new");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "removed"), 0)->valuestring, "qa");
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(t, "changed"), 0)->valuestring,
                     "system");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "cache")), 3);
    cJSON_Delete(j);
    bg_release_diff_dispose(&d);
    bg_release_free(a);
    bg_release_free(b);
    fx_close(&f);
}
END_TEST

START_TEST(diff_of_a_template_edit_only_touches_templates)
{
    fixture f;
    fx_open(&f);
    bg_release *a = resolve_ok(&f, "HEAD");
    ck_assert_int_eq(bgt_repo_write(&f.repo, "prompts/system.txt", "You are helpful?\n"), 0);
    commit(&f, "edit");
    bg_release *b = resolve_ok(&f, "HEAD");
    bg_release_diff d;
    ck_assert_int_eq(bg_release_diff_compute(&d, a, b, NULL), 0);
    ck_assert(!d.model && !d.serving && !d.suites);
    ck_assert_uint_eq(d.n_added + d.n_removed, 0);
    ck_assert_uint_eq(d.n_changed, 1);
    ck_assert_str_eq(d.templates_changed[0], "system");
    ck_assert(!bg_release_diff_is_empty(&d));
    cJSON *j = bg_release_diff_to_json(&d);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "changed")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "model")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "cache")), 1);
    cJSON_Delete(j);
    bg_release_diff_dispose(&d);
    /* the reverse direction of an identical release is empty, with "nothing" advice */
    ck_assert_int_eq(bg_release_diff_compute(&d, b, b, NULL), 0);
    ck_assert(bg_release_diff_is_empty(&d));
    char **lines = NULL;
    size_t n = 0;
    ck_assert_int_eq(bg_release_diff_advice(&lines, &n, &d), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(lines[0], "nothing deployed changed: caches stay valid");
    free_lines(lines, n);
    j = bg_release_diff_to_json(&d);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(j, "changed")));
    cJSON_Delete(j);
    bg_release_diff_dispose(&d);
    bg_release_free(a);
    bg_release_free(b);
    fx_close(&f);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("release");
    TCase *hash = tcase_create("hash");
    tcase_add_test(hash, sha256_matches_standard_vectors);
    tcase_add_test(hash, git_blob_id_matches_git_for_every_padding_length);
    suite_add_tcase(s, hash);

    TCase *res = tcase_create("resolve");
    tcase_set_timeout(res, 60);
    tcase_add_test(res, resolve_reads_model_templates_serving_and_suites_from_the_commit);
    tcase_add_test(res, release_id_is_sha256_of_the_documented_canonical_text);
    tcase_add_test(res, values_are_json_encoded_so_they_cannot_forge_lines);
    tcase_add_test(res, release_id_is_stable_across_an_unrelated_commit);
    tcase_add_test(res, release_id_changes_with_every_deployed_change);
    tcase_add_test(res, release_id_changes_with_names_keys_membership_and_arg_order);
    tcase_add_test(res, moving_a_template_with_the_same_bytes_keeps_the_id);
    tcase_add_test(res, suites_change_keeps_the_id_but_the_diff_reports_it);
    tcase_add_test(res, served_name_defaults_to_the_model_name_and_revision_is_optional);
    tcase_add_test(res, release_json_has_the_documented_shape);
    tcase_add_test(res, resolves_parent_short_sha_branch_annotated_tag_and_detached_head);
    tcase_add_test(res, default_rev_prefers_github_then_gitlab_then_head);
    tcase_add_test(res, null_rev_resolves_the_default_revision);
    tcase_add_test(res, reads_the_commit_never_the_working_tree);
    tcase_add_test(res, discovers_the_repository_from_a_subdirectory_and_reads_a_nested_config);
    tcase_add_test(res, paths_with_spaces_and_non_ascii_characters_work);
    tcase_add_test(res, resolves_through_a_git_worktree);
    tcase_add_test(res, shallow_clone_explains_a_missing_parent);
    suite_add_tcase(s, res);

    TCase *errs = tcase_create("errors");
    tcase_set_timeout(errs, 60);
    tcase_add_test(errs, outside_a_repository_is_not_a_git_repository);
    tcase_add_test(errs, unknown_revision_and_non_commit_revision_are_rejected);
    tcase_add_test(errs, missing_config_names_the_commit);
    tcase_add_test(errs, invalid_json_reports_line_and_column);
    tcase_add_test(errs, text_after_the_json_document_is_rejected_like_validate_does);
    tcase_add_test(errs, trailing_comma_column_points_at_the_closing_brace);
    tcase_add_test(errs, duplicate_keys_anywhere_in_the_config_are_errors_naming_the_path);
    tcase_add_test(errs, a_repository_owned_by_another_user_gets_the_safe_directory_hint);
    tcase_add_test(errs, check_section_applies_the_resolve_rules_without_git);
    tcase_add_test(errs, config_without_release_section_is_rejected);
    tcase_add_test(errs, bad_fields_are_reported_with_their_json_path);
    tcase_add_test(errs, template_errors_name_the_template_and_its_path);
    tcase_add_test(errs, template_symlink_and_oversized_blob_are_rejected);
    suite_add_tcase(s, errs);

    TCase *diff = tcase_create("diff");
    tcase_set_timeout(diff, 60);
    tcase_add_test(diff, diff_classifies_model_template_and_serving_changes_with_advice);
    tcase_add_test(diff, diff_of_a_template_edit_only_touches_templates);
    suite_add_tcase(s, diff);
    return s;
}

BG_CHECK_MAIN()
