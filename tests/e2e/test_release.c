/* test_release.c — end-to-end: `bg-gate resolve` and `bg-gate eval --rev` on real git
 * repositories built with libgit2 (and a shallow clone made by git itself).
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "../support/gitfix.h"
#include "../support/proc.h"
#include "bggate/state.h"

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

/* git (scripts/install-deps.sh test installs it) makes the shallow clones: without it
 * the test fails rather than passing without checking anything. */
static void require_git(void)
{
    ck_assert_msg(access("/usr/bin/git", X_OK) == 0,
                  "/usr/bin/git is required (scripts/install-deps.sh test installs it)");
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
    require_git();
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

/* The eval-from-a-subdirectory case of the audit: no --rev, no --config, no
 * ./bg-gate.json: the repository's bg-gate.json is found by discovery, as resolve finds
 * it, and its release renders the template cases of the default revision. */
START_TEST(eval_from_a_subdirectory_finds_the_release_by_discovery)
{
    bgt_mock mock;
    char *answers = bgt_src("tests/fixtures/e2e/table-good.json");
    const char *margs[] = {"--answers", answers, NULL};
    ck_assert_int_eq(bgt_mock_start(&mock, tmp, "model", margs), 0);
    bgt_repo_write(&repo, "prompts/qa.txt", "Capital of {{country}}, please?");
    ck_assert_int_eq(bgt_repo_commit(&repo, "reword", second), 0);
    char sub[700], env_sha[80];
    snprintf(sub, sizeof sub, "%s/prompts", repo_dir);
    snprintf(env_sha, sizeof env_sha, "GITHUB_SHA=%s", first);
    const char *ci_env[] = {env_sha, NULL};
    const char *args[] = {"eval",          "--endpoint", mock.url, "--suite", "../evals/t.jsonl",
                          "--no-progress", NULL};
    bgt_result r;
    bgt_run_gate(&r, sub, ci_env, args, 30); /* GITHUB_SHA: the first wording, it passes */
    expect_exit(&r, 0);
    bgt_result_dispose(&r);
    bgt_run_gate(&r, sub, NULL, args, 30); /* HEAD: the second wording, the model fails it */
    expect_exit(&r, 1);
    bgt_result_dispose(&r);
    char *log = bgt_read_file(mock.req_log);
    ck_assert_ptr_nonnull(strstr(log, "What is the capital of France?"));
    ck_assert_ptr_nonnull(strstr(log, "Capital of France, please?"));
    free(log);
    bgt_mock_stop(&mock);
    free(answers);
}
END_TEST

/* Records `commit`'s release as live in <state>/production.json and exports its bundle
 * to <state>/bundles, as a deploy does. */
static void make_live(const char *state_dir, const char *commit)
{
    char bundles[800], path[800];
    snprintf(bundles, sizeof bundles, "%s/bundles", state_dir);
    const char *args[] = {"resolve", "--rev", commit, "--export", bundles, "--json", NULL};
    bgt_result r;
    bgt_run_gate(&r, repo_dir, NULL, args, 30);
    expect_exit(&r, 0);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_ptr_nonnull(j);
    snprintf(path, sizeof path, "%s/production.json", state_dir);
    bg_state *st = NULL;
    bg_error err = {0};
    ck_assert_msg(bg_state_load(&st, path, "production", &err) == 0, "%s", err.msg);
    st->live = BG_POOL_BLUE;
    ck_assert_int_eq(bg_state_set_str(&st->pool[BG_POOL_BLUE].release_id, str_at(j, "release_id")),
                     0);
    ck_assert_int_eq(bg_state_set_str(&st->pool[BG_POOL_BLUE].commit, commit), 0);
    ck_assert_int_eq(bg_state_set_str(&st->pool[BG_POOL_BLUE].status, "live"), 0);
    ck_assert_msg(bg_state_save(st, path, &err) == 0, "%s", err.msg);
    bg_state_free(st);
    cJSON_Delete(j);
    bgt_result_dispose(&r);
}

/* In a --depth 1 clone the live commit is missing; the live bundle's release.json has
 * what the diff needs. */
START_TEST(against_live_in_a_shallow_clone_uses_the_live_bundle)
{
    require_git();
    char state[700], cfg[2048];
    snprintf(state, sizeof state, "%s/state", tmp);
    snprintf(cfg, sizeof cfg,
             "{\"release\": {\"model\": {\"name\": \"acme/support-8b\"},"
             " \"templates\": {\"qa\": \"prompts/qa.txt\"}},"
             " \"environment\": \"production\", \"state\": {\"dir\": \"%s\"}}\n",
             state);
    bgt_repo_write(&repo, "bg-gate.json", cfg);
    char live[41];
    ck_assert_int_eq(bgt_repo_commit(&repo, "state", live), 0);
    make_live(state, live);
    bgt_repo_write(&repo, "prompts/qa.txt", "Capital of {{country}}, please?");
    ck_assert_int_eq(bgt_repo_commit(&repo, "reword", second), 0);
    char url[800], clone[700];
    snprintf(url, sizeof url, "file://%s", repo_dir);
    snprintf(clone, sizeof clone, "%s/shallow", tmp);
    const char *git[] = {"/usr/bin/git", "clone", "-q", "--depth", "1", url, clone, NULL};
    ck_assert_int_eq(bgt_run_cmd(git, 60), 0);
    const char *args[] = {"resolve", "--against", "live", "--json", NULL};
    const char *dirs[] = {repo_dir, clone}; /* from git, then from the bundle */
    for (size_t i = 0; i < 2; i++) {
        bgt_result r;
        bgt_run_gate(&r, dirs[i], NULL, args, 30);
        expect_exit(&r, 0);
        cJSON *j = cJSON_Parse(r.out);
        ck_assert_msg(j != NULL, "not JSON: %s", r.out);
        ck_assert_str_eq(str_at(j, "commit"), second);
        ck_assert_str_eq(str_at(cJSON_GetObjectItem(j, "against"), "commit"), live);
        const cJSON *diff = cJSON_GetObjectItem(j, "diff");
        ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(diff, "model")));
        const cJSON *changed =
            cJSON_GetObjectItem(cJSON_GetObjectItem(diff, "templates"), "changed");
        ck_assert_int_eq(cJSON_GetArraySize(changed), 1);
        ck_assert_str_eq(cJSON_GetArrayItem(changed, 0)->valuestring, "qa");
        cJSON_Delete(j);
        bgt_result_dispose(&r);
    }
}
END_TEST

START_TEST(empty_export_path_is_a_usage_error)
{
    bgt_result r;
    const char *args[] = {"resolve", "--export", "", NULL};
    bgt_run_gate(&r, repo_dir, NULL, args, 30);
    expect_exit(&r, 2);
    ck_assert_msg(strstr(r.err, "--export: empty path") != NULL, "%s", r.err);
    bgt_result_dispose(&r);
}
END_TEST

/* validate checks the working tree's release section with resolve's rules. */
START_TEST(validate_checks_the_release_section)
{
    static const struct {
        const char *release, *expected;
    } cases[] = {
        {"{\"model\": {\"nam\": \"m\"}}",
         "bg-gate.json: release.model.nam: unknown field (did you mean \"name\"?)"},
        {"{\"model\": {\"name\": \"m\"}, \"templates\": {\"a\": \"/etc/passwd\"}}",
         "bg-gate.json: release.templates.a: \"/etc/passwd\": absolute paths are not allowed"},
        {"{\"model\": {\"name\": \"m\"}, \"templates\": {\"a\": \"../x\"}}",
         "bg-gate.json: release.templates.a: \"../x\": \"..\" is not allowed"},
        {"{\"model\": {\"name\": \"m\"}, \"templates\": {\"a\": \"x\", \"a\": \"y\"}}",
         "bg-gate.json: release.templates: duplicate key \"a\""},
        {"{\"model\": {\"name\": \"m\", \"name\": \"n\"}}",
         "bg-gate.json: release.model: duplicate key \"name\""},
    };
    char dir[700], suite[800], path[800], cfg[1024];
    snprintf(dir, sizeof dir, "%s/v", tmp);
    snprintf(suite, sizeof suite, "%s/evals/t.jsonl", repo_dir);
    snprintf(path, sizeof path, "%s/bg-gate.json", dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    const char *args[] = {"validate", "--suite", suite, NULL};
    for (size_t i = 0; i <= sizeof cases / sizeof cases[0]; i++) {
        bool good = i == sizeof cases / sizeof cases[0];
        snprintf(cfg, sizeof cfg, "{\"release\": %s}\n",
                 good ? "{\"model\": {\"name\": \"m\"}, \"templates\": {\"qa\": \"p/qa.txt\"}}"
                      : cases[i].release);
        FILE *fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        fputs(cfg, fp);
        ck_assert_int_eq(fclose(fp), 0);
        bgt_result r;
        bgt_run_gate(&r, dir, NULL, args, 30);
        expect_exit(&r, good ? 0 : 2);
        if (!good)
            ck_assert_msg(strstr(r.err, cases[i].expected) != NULL, "%s", r.err);
        bgt_result_dispose(&r);
    }
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
    tcase_add_test(tc, eval_from_a_subdirectory_finds_the_release_by_discovery);
    tcase_add_test(tc, against_live_in_a_shallow_clone_uses_the_live_bundle);
    tcase_add_test(tc, empty_export_path_is_a_usage_error);
    tcase_add_test(tc, validate_checks_the_release_section);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
