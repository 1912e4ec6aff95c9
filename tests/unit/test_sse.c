/* test_sse.c — the SSE parser: line ends in every form and at every split point,
 * comments, fields, multi-line data, size caps and end of stream. */
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/sse.h"

/* Records each event as "<event>=<data>|" so a whole stream compares as one string. */
typedef struct rec {
    bg_buf log;
    int count;
    int stop_after; /* return 7 from the callback after this many events; 0 = never */
} rec;

static int rec_event(void *ud, const char *event, const char *data, size_t len)
{
    rec *r = ud;

    ck_assert_uint_eq(strlen(data), len); /* data is NUL-terminated and len matches */
    bg_buf_puts(&r->log, event);
    bg_buf_putc(&r->log, '=');
    bg_buf_append(&r->log, data, len);
    bg_buf_putc(&r->log, '|');
    r->count++;
    return r->stop_after > 0 && r->count >= r->stop_after ? 7 : 0;
}

static void rec_init(rec *r)
{
    memset(r, 0, sizeof(*r));
    bg_buf_init(&r->log, 0);
}

/* Feeds `text` cut at the given offsets (ascending, in range), then finishes. Returns
 * the event log (caller frees). */
static char *parse_split(const char *text, const size_t *cuts, size_t n_cuts)
{
    bg_sse p;
    rec r;
    bg_error err = {0};
    size_t len = strlen(text);
    size_t at = 0;

    rec_init(&r);
    bg_sse_init(&p, 1024);
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        ck_assert_int_eq(bg_sse_feed(&p, text + at, end - at, rec_event, &r, &err), 0);
        at = end;
    }
    ck_assert_int_eq(bg_sse_finish(&p, rec_event, &r, &err), 0);
    bg_sse_dispose(&p);
    return bg_buf_steal(&r.log);
}

static char *parse_whole(const char *text)
{
    return parse_split(text, NULL, 0);
}

/* Replaces every "\n" of text with `eol` (caller frees). */
static char *with_line_ends(const char *text, const char *eol)
{
    bg_buf b;

    bg_buf_init(&b, 0);
    for (const char *s = text; *s != '\0'; s++) {
        if (*s == '\n')
            bg_buf_puts(&b, eol);
        else
            bg_buf_putc(&b, *s);
    }
    return bg_buf_steal(&b);
}

/* A stream shaped like vLLM's, with the things other servers add. */
static const char *const REAL_STREAM =
    ": ping\n"
    "\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n"
    "\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"}}]}\n"
    "\n"
    "id: 3\n"
    "retry: 1000\n"
    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"is\"},"
    "\"finish_reason\":\"stop\"}]}\n"
    "\n"
    "event: usage\n"
    "data:{\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n"
    "\n"
    "data: line one\n"
    "data: line two\n"
    "\n"
    "data: [DONE]\n"
    "\n";

static const char *const REAL_EVENTS =
    "={\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}|"
    "={\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"}}]}|"
    "={\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"is\"},"
    "\"finish_reason\":\"stop\"}]}|"
    "usage={\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}|"
    "=line one\nline two|"
    "=[DONE]|";

START_TEST(realistic_stream_yields_its_events)
{
    char *got = parse_whole(REAL_STREAM);
    ck_assert_str_eq(got, REAL_EVENTS);
    free(got);
}
END_TEST

/* Runs the split checks over one line-end style (the loop index picks it). */
static const char *const EOLS[] = {"\n", "\r\n", "\r"};

START_TEST(split_at_every_byte_position_gives_same_events)
{
    char *text = with_line_ends(REAL_STREAM, EOLS[_i]);
    size_t len = strlen(text);

    for (size_t cut = 0; cut <= len; cut++) {
        char *got = parse_split(text, &cut, 1);
        if (strcmp(got, REAL_EVENTS) != 0)
            ck_abort_msg("eol %d, cut at %zu: got %s", _i, cut, got);
        free(got);
    }
    free(text);
}
END_TEST

START_TEST(three_way_splits_give_same_events)
{
    char *text = with_line_ends(REAL_STREAM, EOLS[_i]);
    size_t len = strlen(text);

    /* Every pair of cuts within a window that covers several line ends. */
    for (size_t a = 0; a < 90 && a <= len; a++) {
        for (size_t b = a; b < 120 && b <= len; b++) {
            size_t cuts[2] = {a, b};
            char *got = parse_split(text, cuts, 2);
            if (strcmp(got, REAL_EVENTS) != 0)
                ck_abort_msg("eol %d, cuts %zu,%zu: got %s", _i, a, b, got);
            free(got);
        }
    }
    free(text);
}
END_TEST

START_TEST(byte_at_a_time_gives_same_events)
{
    char *text = with_line_ends(REAL_STREAM, EOLS[_i]);
    size_t len = strlen(text);
    size_t *cuts = calloc(len, sizeof(*cuts));

    for (size_t i = 0; i < len; i++)
        cuts[i] = i;
    char *got = parse_split(text, cuts, len);
    ck_assert_str_eq(got, REAL_EVENTS);
    free(got);
    free(cuts);
    free(text);
}
END_TEST

START_TEST(cr_and_lf_split_across_feeds_are_one_line_end)
{
    /* If the LF after a CR counted as its own line end, this would dispatch "a" early
     * and "b" separately. */
    static const size_t cuts[] = {8, 17};
    char *got = parse_split("data: a\r\ndata: b\r\n\r\n", cuts, 2);
    ck_assert_str_eq(got, "=a\nb|");
    free(got);
}
END_TEST

START_TEST(cr_cr_is_a_blank_line)
{
    static const size_t cut = 8;
    char *got = parse_split("data: a\r\rdata: b\r\r", &cut, 1);
    ck_assert_str_eq(got, "=a|=b|");
    free(got);
}
END_TEST

START_TEST(mixed_line_ends_in_one_stream)
{
    char *got = parse_whole("data: a\r\n\ndata: b\r\rdata: c\n\r\n");
    ck_assert_str_eq(got, "=a|=b|=c|");
    free(got);
}
END_TEST

START_TEST(comment_lines_are_ignored)
{
    char *got = parse_whole(": keep-alive\n\n:\ndata: x\n: between\n\n");
    ck_assert_str_eq(got, "=x|");
    free(got);
}
END_TEST

START_TEST(multi_line_data_is_joined_with_newlines)
{
    char *got = parse_whole("data: one\ndata:\ndata: three\n\n");
    ck_assert_str_eq(got, "=one\n\nthree|");
    free(got);
}
END_TEST

START_TEST(event_field_sets_type_for_one_event)
{
    char *got = parse_whole("event: error\ndata: boom\n\ndata: next\n\n");
    ck_assert_str_eq(got, "error=boom|=next|");
    free(got);
}
END_TEST

START_TEST(blank_line_without_data_dispatches_nothing)
{
    /* The event type of a data-less event must not leak into the next one. */
    char *got = parse_whole("\n\nevent: ping\n\nid: 1\n\ndata: x\n\n");
    ck_assert_str_eq(got, "=x|");
    free(got);
}
END_TEST

START_TEST(field_without_colon_has_empty_value)
{
    char *got = parse_whole("data\n\n");
    ck_assert_str_eq(got, "=|");
    free(got);
}
END_TEST

START_TEST(only_one_space_after_colon_is_removed)
{
    char *got = parse_whole("data:x\n\ndata:  two\n\ndata: a: b\n\n");
    ck_assert_str_eq(got, "=x|= two|=a: b|");
    free(got);
}
END_TEST

START_TEST(done_marker_is_passed_as_data)
{
    char *got = parse_whole("data: [DONE]\n\n");
    ck_assert_str_eq(got, "=[DONE]|");
    free(got);
}
END_TEST

START_TEST(garbage_and_unknown_fields_are_ignored)
{
    char *got = parse_whole("garbage\nfoo: bar\nDATA: upper\nid: 7\nretry: x\n"
                            " data: leading space\ndata: real\n\n");
    ck_assert_str_eq(got, "=real|");
    free(got);
}
END_TEST

START_TEST(line_longer_than_max_is_an_error)
{
    bg_sse p;
    rec r;
    bg_error err = {0};
    const char *line = "data: 0123456789"; /* 16 bytes */

    rec_init(&r);
    bg_sse_init(&p, 16);
    /* Exactly max_line bytes is fine, whole or in pieces. */
    ck_assert_int_eq(bg_sse_feed(&p, line, 10, rec_event, &r, &err), 0);
    ck_assert_int_eq(bg_sse_feed(&p, line + 10, 6, rec_event, &r, &err), 0);
    ck_assert_int_eq(bg_sse_feed(&p, "\n\n", 2, rec_event, &r, &err), 0);
    ck_assert_int_eq(r.count, 1);
    /* One more byte, arriving in a later piece, is not. */
    ck_assert_int_eq(bg_sse_feed(&p, line, 16, rec_event, &r, &err), 0);
    ck_assert_int_eq(bg_sse_feed(&p, "X", 1, rec_event, &r, &err), BG_ETOOBIG);
    ck_assert_str_eq(err.msg, "SSE line longer than 16 bytes");
    ck_assert_int_eq(r.count, 1);
    bg_sse_dispose(&p);
    bg_buf_dispose(&r.log);
}
END_TEST

START_TEST(line_longer_than_max_in_one_piece_is_an_error)
{
    bg_sse p;
    rec r;
    bg_error err = {0};
    const char *text = "data: 01234567890\n\n"; /* a 17-byte line */

    rec_init(&r);
    bg_sse_init(&p, 16);
    ck_assert_int_eq(bg_sse_feed(&p, text, strlen(text), rec_event, &r, &err), BG_ETOOBIG);
    ck_assert_str_eq(err.msg, "SSE line longer than 16 bytes");
    ck_assert_int_eq(r.count, 0);
    bg_sse_dispose(&p);
    bg_buf_dispose(&r.log);
}
END_TEST

START_TEST(event_data_longer_than_max_is_an_error)
{
    bg_sse p;
    rec r;
    bg_error err = {0};
    const char *text = "data: 0123456789\ndata: 0123456789\n\n";

    rec_init(&r);
    bg_sse_init(&p, 16);
    ck_assert_int_eq(bg_sse_feed(&p, text, strlen(text), rec_event, &r, &err), BG_ETOOBIG);
    ck_assert_str_eq(err.msg, "SSE event data longer than 16 bytes");
    ck_assert_int_eq(r.count, 0);
    bg_sse_dispose(&p);
    bg_buf_dispose(&r.log);
}
END_TEST

START_TEST(finish_dispatches_event_without_final_blank_line)
{
    char *got = parse_whole("data: a\n\ndata: b\n");
    ck_assert_str_eq(got, "=a|=b|");
    free(got);
    got = parse_whole("data: a\n\ndata: tail");
    ck_assert_str_eq(got, "=a|=tail|");
    free(got);
}
END_TEST

START_TEST(finish_after_complete_events_dispatches_nothing_more)
{
    char *got = parse_whole("data: a\n\n: bye");
    ck_assert_str_eq(got, "=a|");
    free(got);
    got = parse_whole("");
    ck_assert_str_eq(got, "");
    free(got);
}
END_TEST

START_TEST(callback_return_value_stops_parsing)
{
    bg_sse p;
    rec r;
    bg_error err = {0};
    const char *text = "data: a\n\ndata: b\n\ndata: c\n\n";

    rec_init(&r);
    r.stop_after = 2;
    bg_sse_init(&p, 64);
    ck_assert_int_eq(bg_sse_feed(&p, text, strlen(text), rec_event, &r, &err), 7);
    ck_assert_int_eq(r.count, 2);
    bg_sse_dispose(&p);
    bg_buf_dispose(&r.log);
}
END_TEST

START_TEST(dispose_is_safe_on_null_and_twice)
{
    bg_sse p;
    bg_error err = {0};

    bg_sse_dispose(NULL);
    bg_sse_init(&p, 64);
    ck_assert_int_eq(bg_sse_feed(&p, "data: x", 7, NULL, NULL, &err), 0);
    bg_sse_dispose(&p);
    bg_sse_dispose(&p);
}
END_TEST

Suite *make_suite(void); /* check_main.h does not declare it */

Suite *make_suite(void)
{
    Suite *s = suite_create("sse");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, realistic_stream_yields_its_events);
    tcase_add_loop_test(tc, split_at_every_byte_position_gives_same_events, 0, 3);
    tcase_add_loop_test(tc, three_way_splits_give_same_events, 0, 3);
    tcase_add_loop_test(tc, byte_at_a_time_gives_same_events, 0, 3);
    tcase_add_test(tc, cr_and_lf_split_across_feeds_are_one_line_end);
    tcase_add_test(tc, cr_cr_is_a_blank_line);
    tcase_add_test(tc, mixed_line_ends_in_one_stream);
    tcase_add_test(tc, comment_lines_are_ignored);
    tcase_add_test(tc, multi_line_data_is_joined_with_newlines);
    tcase_add_test(tc, event_field_sets_type_for_one_event);
    tcase_add_test(tc, blank_line_without_data_dispatches_nothing);
    tcase_add_test(tc, field_without_colon_has_empty_value);
    tcase_add_test(tc, only_one_space_after_colon_is_removed);
    tcase_add_test(tc, done_marker_is_passed_as_data);
    tcase_add_test(tc, garbage_and_unknown_fields_are_ignored);
    tcase_add_test(tc, line_longer_than_max_is_an_error);
    tcase_add_test(tc, line_longer_than_max_in_one_piece_is_an_error);
    tcase_add_test(tc, event_data_longer_than_max_is_an_error);
    tcase_add_test(tc, finish_dispatches_event_without_final_blank_line);
    tcase_add_test(tc, finish_after_complete_events_dispatches_nothing_more);
    tcase_add_test(tc, callback_return_value_stops_parsing);
    tcase_add_test(tc, dispose_is_safe_on_null_and_twice);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
