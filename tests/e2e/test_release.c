/* test_release.c — end-to-end: `bg-gate resolve` and `bg-gate eval --rev` on real git
 * repositories built with libgit2 (and a shallow clone made by git itself).
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/gitfix.h"
#include "../support/proc.h"

static char *tmp;
static char repo_dir[600];
static bgt_repo repo;
static char first[41], second[41];

static const char *config_json =
    "{\"release\": {\"model\": {\"name\": \"acme/support-8b\", \"revision\": \"r1\","
    " \"served_name\": \"good-model\"},"
    " \"templates\": {\"qa\": \"prompts/qa.txt\", \"sys\": \"prompts/system.txt\"},"
    " \"serving\": {\"args\": [\"--max-model-len\", \"8192\"]},"
    " \"suites\": [\"evals/t.jsonl\"]}}\n";

static void setup(void)
{
    tmp = bgt_tmpdir();
    ck_assert_ptr_nonnull(tmp);
    snprintf(repo_dir, sizeof repo_dir, "%s/my repo", tmp); /* a path with a space */
    ck_assert_int_eq(bgt_repo_init(&repo, repo_dir), 0);
    bgt_repo_write(&repo, "bg-gate.json", config_json);
    bgt_repo_write(&repo, "prompts/qa.txt", "What is the capital of {{country}}?");
    bgt_repo_write(&repo, "prompts/system.txt", "You are a helpful assistant.");
    bgt_repo_write(&repo, "evals/t.jsonl",
                   "{\"id\": \"capital\", \"template\": \"qa\", \"vars\": {\"country\": \"France\"},"
                   " \"assert\": [{\"type\": \"contains\", \"value\": \"Paris\"}]}\n");
    bgt_repo_write(&repo, "README.md", "hello\n");
    ck_assert_int_eq(bgt_repo_commit(&repo, "first", first), 0);
}

static void teardown(void)
{
    bgt_repo_close(&repo);
    bgt_rmtree(tmp);
    free(tmp);
}

static void expect_exit(const bgt_result *r, int code)
{
    if (r->exit_code != code)
        fprintf(stderr, "bg-gate exited %d (expected %d)\nstdout:\n%s\nstderr:\n%s\n",
                r->exit_code, code, r->out, r->err);
    ck_assert_int_eq(r->exit_code, code);
}

static cJSON *resolve_json(const char *cwd, const char *const *env, const char *rev)
{
    bgt_result r;
    const char *args[] = {"resolve", "--json", rev ? "--rev" : NULL, rev, NULL};
    bgt_run_gate(&r, cwd, env, args, 30);
    expect_exit(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "not JSON: %s", r.out);
    bgt_result_dispose(&r);
    return j;
}

static const char *str_at(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsString(it), "%s is not a string", key);
    return it->valuestring;
}

START_TEST(resolve_prints_the_release_of_head_from_git)
{
    cJSON *j = resolve_json(repo_dir, NULL, NULL);
    ck_assert_str_eq(str_at(j, "commit"), first);
    ck_assert_uint_eq(strlen(str_at(j, "release_id")), 64);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    ck_assert_str_eq(str_at(model, "name"), "acme/support-8b");
    ck_assert_str_eq(str_at(model, "served_name"), "good-model");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "templates")), 2);
    cJSON_Delete(j);
}
END_TEST

START_TEST(resolve_reads_the_commit_not_the_working_tree)
{
    /* a dirty working tree and a run from a subdirectory change nothing */
    bgt_repo_write(&repo, "prompts/qa.txt", "uncommitted edit");
    cJSON *a = resolve_json(repo_dir, NULL, NULL);
    char sub[700];
    snprintf(sub, sizeof sub, "%s/prompts", repo_dir);
    cJSON *b = resolve_json(sub, NULL, "HEAD");
    ck_assert_str_eq(str_at(a, "release_id"), str_at(b, "release_id"));
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

START_TEST(ci_sha_is_the_default_revision)
{
    bgt_repo_write(&repo, "prompts/qa.txt", "Which city is the capital of {{country}}?");
    ck_assert_int_eq(bgt_repo_commit(&repo, "second", second), 0);
    char env_sha[80];
    snprintf(env_sha, sizeof env_sha, "GITHUB_SHA=%s", first);
    const char *env[] = {env_sha, NULL};
    cJSON *j = resolve_json(repo_dir, env, NULL);
    ck_assert_str_eq(str_at(j, "commit"), first);
    cJSON_Delete(j);
}
END_TEST

START_TEST(against_says_nothing_to_deploy_for_unrelated_commits)
{
    bgt_repo_write(&repo, "README.md", "docs only\n");
    ck_assert_int_eq(bgt_repo_commit(&repo, "docs", second), 0);
    bgt_result r;
    const char *args[] = {"resolve", "--against", "HEAD~1", NULL};
    bgt_run_gate(&r, repo_dir, NULL, args, 30);
    expect_exit(&r, 0);
    ck_assert_msg(strstr(r.out, "nothing to deploy") != NULL, "%s", r.out);
    bgt_result_dispose(&r);
}
END_TEST

START_TEST(against_names_changed_templates_and_cache_effects)
{
    bgt_repo_write(&repo, "prompts/qa.txt", "Name the capital of {{country}}.");
    ck_assert_int_eq(bgt_repo_commit(&repo, "prompt", second), 0);
    bgt_result r;
    const char *args[] = {"resolve", "--against", first, "--json", NULL};
    bgt_run_gate(&r, repo_dir, NULL, args, 30);
    expect_exit(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_ptr_nonnull(j);
    const cJSON *diff = cJSON_GetObjectItemCaseSensitive(j, "diff");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(diff, "changed")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(diff, "model")));
    const cJSON *changed = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(diff, "templates"), "changed");
    ck_assert_int_eq(cJSON_GetArraySize(changed), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(changed, 0)->valuestring, "qa");
    ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(diff, "cache")), 1);
    cJSON_Delete(j);
    bgt_result_dispose(&r);
}
END_TEST

START_TEST(bad_inputs_exit_2_with_a_clear_message)
{
    bgt_result r;
    const char *unknown[] = {"resolve", "--rev", "no-such-branch", NULL};
    bgt_run_gate(&r, repo_dir, NULL, unknown, 30);
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "no-such-branch") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    const char *plain[] = {"resolve", NULL};
    bgt_run_gate(&r, tmp, NULL, plain, 30); /* tmp is not a repository */
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "not a git repository") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    bgt_repo_write(&repo, "bg-gate.json", "{\"release\": {\"model\": {\"name\": \"m\"},\n"
                                          " \"templates\": {\"qa\": \"../etc/passwd\"}}}\n");
    ck_assert_int_eq(bgt_repo_commit(&repo, "bad", second), 0);
    bgt_run_gate(&r, repo_dir, NULL, plain, 30);
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "release.templates.qa") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
}
END_TEST

START_TEST(export_writes_the_bundle_once)
{
    char out[700];
    snprintf(out, sizeof out, "%s/bundles", tmp);
    bgt_result r;
    const char *args[] = {"resolve", "--export", out, "--json", NULL};
    bgt_run_gate(&r, repo_dir, NULL, args, 30);
    expect_exit(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_ptr_nonnull(j);
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/templates/prompts/qa.txt", out, str_at(j, "release_id"));
    char *qa = bgt_read_file(path);
    ck_assert_ptr_nonnull(qa);
    ck_assert_str_eq(qa, "What is the capital of {{country}}?");
    free(qa);
    snprintf(path, sizeof path, "%s/%s/release.json", out, str_at(j, "release_id"));
    ck_assert_int_eq(access(path, F_OK), 0);
    bgt_result_dispose(&r);
    bgt_run_gate(&r, repo_dir, NULL, args, 30); /* the same release again: a no-op */
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    cJSON_Delete(j);
}
END_TEST

START_TEST(eval_renders_the_templates_of_the_given_commit)
{
    bgt_mock mock;
    char *answers = bgt_src("tests/fixtures/e2e/table-good.json");
    const char *margs[] = {"--answers", answers, NULL};
    ck_assert_int_eq(bgt_mock_start(&mock, tmp, "model", margs), 0);
    /* the second commit words the prompt so the good model no longer knows the answer */
    bgt_repo_write(&repo, "prompts/qa.txt", "Capital of {{country}}, please?");
    ck_assert_int_eq(bgt_repo_commit(&repo, "reword", second), 0);
    bgt_result r;
    const char *old_rev[] = {"eval", "--rev", first, "--endpoint", mock.url, "--suite",
                             "evals/t.jsonl", "--no-progress", NULL};
    bgt_run_gate(&r, repo_dir, NULL, old_rev, 30);
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    const char *new_rev[] = {"eval", "--rev", "HEAD", "--endpoint", mock.url, "--suite",
                             "evals/t.jsonl", "--no-progress", NULL};
    bgt_run_gate(&r, repo_dir, NULL, new_rev, 30);
    expect_exit(&r, 1);
    bgt_result_dispose(&r);
    char *log = bgt_read_file(mock.req_log);
    ck_assert_ptr_nonnull(strstr(log, "What is the capital of France?"));
    ck_assert_ptr_nonnull(strstr(log, "Capital of France, please?"));
    free(log);
    /* without a release there is nothing to render a template case from */
    char suite[800];
    snprintf(suite, sizeof suite, "%s/evals/t.jsonl", repo_dir);
    const char *no_rev[] = {"eval", "--endpoint", mock.url, "--suite", suite, NULL};
    bgt_run_gate(&r, tmp, NULL, no_rev, 30); /* tmp: no config, not a repository */
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "--rev") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
    bgt_mock_stop(&mock);
    free(answers);
}
END_TEST

START_TEST(shallow_clone_resolves_head_and_explains_missing_history)
{
    bgt_repo_write(&repo, "README.md", "more\n");
    ck_assert_int_eq(bgt_repo_commit(&repo, "second", second), 0);
    char url[800], clone[700];
    snprintf(url, sizeof url, "file://%s", repo_dir);
    snprintf(clone, sizeof clone, "%s/shallow", tmp);
    const char *git[] = {"/usr/bin/git", "clone", "-q", "--depth", "1", url, clone, NULL};
    if (access("/usr/bin/git", X_OK) != 0) {
        fprintf(stderr, "SKIPPED shallow clone test: /usr/bin/git is not installed\n");
        return;
    }
    ck_assert_int_eq(bgt_run_cmd(git, 60), 0);
    cJSON *j = resolve_json(clone, NULL, "HEAD");
    ck_assert_str_eq(str_at(j, "commit"), second);
    cJSON_Delete(j);
    bgt_result r;
    const char *args[] = {"resolve", "--rev", "HEAD~1", NULL};
    bgt_run_gate(&r, clone, NULL, args, 30);
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "shallow") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("e2e_release");
    TCase *tc = tcase_create("release");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, resolve_prints_the_release_of_head_from_git);
    tcase_add_test(tc, resolve_reads_the_commit_not_the_working_tree);
    tcase_add_test(tc, ci_sha_is_the_default_revision);
    tcase_add_test(tc, against_says_nothing_to_deploy_for_unrelated_commits);
    tcase_add_test(tc, against_names_changed_templates_and_cache_effects);
    tcase_add_test(tc, bad_inputs_exit_2_with_a_clear_message);
    tcase_add_test(tc, export_writes_the_bundle_once);
    tcase_add_test(tc, eval_renders_the_templates_of_the_given_commit);
    tcase_add_test(tc, shallow_clone_resolves_head_and_explains_missing_history);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
