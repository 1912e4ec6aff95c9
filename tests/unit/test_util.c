/* test_util.c — capped buffers, excerpts, number parsing, atomic writes, JSON getters. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "bggate/buf.h"
#include "bggate/json.h"
#include "bggate/util.h"

START_TEST(buf_refuses_to_grow_past_its_limit)
{
    bg_buf b;
    bg_buf_init(&b, 8);
    ck_assert_int_eq(bg_buf_puts(&b, "12345"), 0);
    ck_assert_int_eq(bg_buf_puts(&b, "6789"), BG_ETOOBIG);
    ck_assert_str_eq(bg_buf_cstr(&b), "12345"); /* nothing half-appended */
    ck_assert_int_eq(bg_buf_printf(&b, "%d", 678), 0);
    ck_assert_str_eq(bg_buf_cstr(&b), "12345678");
    ck_assert_int_eq(bg_buf_putc(&b, 'x'), BG_ETOOBIG);
    char *s = bg_buf_steal(&b);
    ck_assert_str_eq(s, "12345678");
    ck_assert_uint_eq(b.len, 0);
    free(s);
    bg_buf_dispose(&b);
}
END_TEST

START_TEST(excerpt_cuts_on_a_utf8_boundary_and_flattens_newlines)
{
    char out[64];
    const char *text = "caf\xC3\xA9 au lait\nwith more";
    bg_excerpt(out, sizeof out, text, strlen(text), 4);
    ck_assert_str_eq(out, "caf\xE2\x80\xA6"); /* é does not fit in 4 bytes: cut before it */
    bg_excerpt(out, sizeof out, text, strlen(text), 100);
    ck_assert_str_eq(out, "caf\xC3\xA9 au lait with more");
    bg_excerpt(out, sizeof out, NULL, 0, 10);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(parse_long_rejects_garbage_and_out_of_range)
{
    long v = 0;
    ck_assert_int_eq(bg_parse_long(&v, "42", 1, 100), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(bg_parse_long(&v, "42x", 1, 100), BG_EINVAL);
    ck_assert_int_eq(bg_parse_long(&v, "", 1, 100), BG_EINVAL);
    ck_assert_int_eq(bg_parse_long(&v, "101", 1, 100), BG_EINVAL);
    double d = 0;
    ck_assert_int_eq(bg_parse_double(&d, "0.5", 0, 1), 0);
    ck_assert_int_eq(bg_parse_double(&d, "nan", 0, 1), BG_EINVAL);
    ck_assert_int_eq(bg_parse_double(&d, "1e400", 0, 1e9), BG_EINVAL);
}
END_TEST

START_TEST(atomic_write_replaces_the_file_and_leaves_no_temp)
{
    char dir[] = "/tmp/bg-util-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    ck_assert_int_eq(bg_mkdir_p(sub, NULL), 0);
    snprintf(path, sizeof path, "%s/a/b/out.txt", dir);
    bg_error err = {0};
    ck_assert_int_eq(bg_file_write_atomic(path, "first", 5, &err), 0);
    ck_assert_int_eq(bg_file_write_atomic(path, "second", 6, &err), 0);
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(bg_file_read(&data, &len, path, 100, &err), 0);
    ck_assert_str_eq(data, "second");
    free(data);
    ck_assert_int_eq(bg_file_read(&data, &len, path, 3, &err), BG_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "larger than 3 bytes"));
    unlink(path);
    ck_assert_int_eq(rmdir(sub), 0); /* empty: no temp file was left behind */
    snprintf(sub, sizeof sub, "%s/a", dir);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

START_TEST(json_getters_name_the_path_and_suggest_keys)
{
    cJSON *o = cJSON_Parse("{\"concurrency\": \"x\", \"rate\": 2.5, \"repeat\": 1.5}");
    bg_error err = {0};
    long l = 0;
    ck_assert_int_eq(bg_json_get_long(&l, o, "concurrency", "gate", 1, 10, false, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "gate.concurrency: expected an integer from 1 to 10, got a string");
    ck_assert_int_eq(bg_json_get_long(&l, o, "repeat", "gate", 1, 10, false, &err), BG_EINVAL);
    double d = 0;
    ck_assert_int_eq(bg_json_get_double(&d, o, "rate", "gate", 0, 10, true, &err), 0);
    ck_assert_double_eq(d, 2.5);
    ck_assert_int_eq(bg_json_get_double(&d, o, "missing", "gate", 0, 10, true, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "gate.missing: missing (a number is required)");
    const char *allowed[] = {"concurrency", "rate", "repeats", NULL};
    ck_assert_int_eq(bg_json_check_keys(o, allowed, "gate", &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "gate.repeat: unknown field (did you mean \"repeats\"?)");
    cJSON_Delete(o);
}
END_TEST

START_TEST(error_prefix_keeps_the_cause)
{
    bg_error err = {0};
    bg_error_set(&err, BG_EINVAL, "not a URL");
    bg_error_prefix(&err, "pools.green.endpoints[%d]", 1);
    bg_error_prefix(&err, "bg-gate.json");
    ck_assert_str_eq(err.msg, "bg-gate.json: pools.green.endpoints[1]: not a URL");
    ck_assert_int_eq(err.code, BG_EINVAL);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, buf_refuses_to_grow_past_its_limit);
    tcase_add_test(tc, excerpt_cuts_on_a_utf8_boundary_and_flattens_newlines);
    tcase_add_test(tc, parse_long_rejects_garbage_and_out_of_range);
    tcase_add_test(tc, atomic_write_replaces_the_file_and_leaves_no_temp);
    tcase_add_test(tc, json_getters_name_the_path_and_suggest_keys);
    tcase_add_test(tc, error_prefix_keeps_the_cause);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
