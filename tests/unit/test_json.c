/* test_json.c — the JSON helpers every config reader shares: where a parse error is
 * (cJSON reports a bad member name one character too far), text after the document, and
 * duplicate keys anywhere in a tree, named by their JSON path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/json.h"

/* Parses text (expected to fail) and returns the 1-based line/column of the error. */
static void error_at(const char *text, int *line, int *col)
{
    const char *end = NULL;
    size_t len = strlen(text);
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    ck_assert_msg(root == NULL, "%s parsed", text);
    bg_json_error_position(text, len, end, line, col);
}

static void expect_error_at(const char *text, int line, int col)
{
    int l = 0, c = 0;
    error_at(text, &l, &c);
    ck_assert_msg(l == line && c == col, "%s: got %d:%d, expected %d:%d", text, l, c, line, col);
}

START_TEST(error_position_points_at_the_offending_character)
{
    /* trailing comma: the '}' that came where a member name was due */
    expect_error_at("{\"name\": \"m\",}", 1, 14);
    expect_error_at("{\n  \"a\": 1,\n  }", 3, 3);
    expect_error_at("{\"a\": {\"b\": 1 ,  }}", 1, 18);
    /* a member name that is not a string */
    expect_error_at("{x: 1}", 1, 2);
    expect_error_at("{\"a\": 1, b: 2}", 1, 10);
    /* errors cJSON already places right stay where they are */
    expect_error_at("[1,x]", 1, 4);
    expect_error_at("{\"a\": 1 \"b\": 2}", 1, 9);
    expect_error_at("{\"a\": tru}", 1, 7);
    expect_error_at("{\"a\" 1}", 1, 6);
}
END_TEST

START_TEST(trailing_text_is_found_after_blanks)
{
    const char *texts[] = {"{}\n}\n", "{} x", "[1]  \n\n  2"};
    const int want[][2] = {{2, 1}, {1, 4}, {3, 3}};
    for (size_t i = 0; i < 3; i++) {
        const char *end = NULL;
        size_t len = strlen(texts[i]);
        cJSON *root = cJSON_ParseWithLengthOpts(texts[i], len, &end, 0);
        ck_assert_ptr_nonnull(root);
        int line = 0, col = 0;
        ck_assert(bg_json_trailing_text(texts[i], len, end, &line, &col));
        ck_assert_int_eq(line, want[i][0]);
        ck_assert_int_eq(col, want[i][1]);
        cJSON_Delete(root);
    }
    const char *clean = "{\"a\": 1}\n\t \r\n";
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(clean, strlen(clean), &end, 0);
    int line = 0, col = 0;
    ck_assert(!bg_json_trailing_text(clean, strlen(clean), end, &line, &col));
    cJSON_Delete(root);
}
END_TEST

static void expect_duplicate(const char *text, const char *expected)
{
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    bg_error err = {0};
    int rc = bg_json_check_duplicates(root, "", &err);
    if (expected) {
        ck_assert_int_eq(rc, BG_EINVAL);
        ck_assert_str_eq(err.msg, expected);
    } else {
        ck_assert_msg(rc == 0, "%s: %s", text, err.msg);
    }
    cJSON_Delete(root);
}

START_TEST(duplicate_keys_are_named_by_their_path)
{
    expect_duplicate("{\"release\": {}, \"gate\": {}, \"release\": {}}",
                     "duplicate key \"release\" at the top level");
    expect_duplicate("{\"release\": {\"model\": {\"revision\": \"a\", \"revision\": \"b\"}}}",
                     "release.model: duplicate key \"revision\"");
    expect_duplicate("{\"gate\": {\"suites\": [{\"x\": 1}, {\"y\": 1, \"y\": 2}]}}",
                     "gate.suites[1]: duplicate key \"y\"");
    /* the same name in different objects is fine */
    expect_duplicate("{\"a\": {\"name\": 1}, \"b\": {\"name\": 2}, \"c\": [{\"name\": 3}]}", NULL);
    expect_duplicate("[1, 2, 1]", NULL);
}
END_TEST

START_TEST(duplicate_check_of_a_large_object_is_fast)
{
    /* 50 000 distinct keys, then one repeated: sorted, not compared pairwise */
    enum { N = 50000 };
    size_t size = (size_t)N * 16 + 64, n = 0;
    char *text = malloc(size);
    ck_assert_ptr_nonnull(text);
    text[n++] = '{';
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(text + n, size - n, "\"k%d\": 0, ", i);
    snprintf(text + n, size - n, "\"k17\": 1}");
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    bg_error err = {0};
    ck_assert_int_eq(bg_json_check_duplicates(root, "", &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "duplicate key \"k17\" at the top level");
    cJSON_Delete(root);
    free(text);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, error_position_points_at_the_offending_character);
    tcase_add_test(tc, trailing_text_is_found_after_blanks);
    tcase_add_test(tc, duplicate_keys_are_named_by_their_path);
    tcase_add_test(tc, duplicate_check_of_a_large_object_is_fast);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
