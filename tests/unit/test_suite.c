/* test_suite.c — golden-suite parsing: case members, request passthrough, comments, and
 * the exact "file:line:column: field: message" errors users see; --suite expansion. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/check_main.h"
#include "bggate/buf.h"
#include "bggate/limits.h"
#include "bggate/suite.h"
#include "bggate/util.h"

/* Parses text as suite "evals/s.jsonl"; returns the suite or NULL with err filled. */
static bg_suite *parse(const char *text, bg_error *err)
{
    bg_suite *s = NULL;
    bg_error_clear(err);
    int rc = bg_suite_parse(&s, "evals/s.jsonl", text, strlen(text), err);
    ck_assert_int_eq(rc == 0, s != NULL);
    return s;
}

/* Asserts that text fails to parse with exactly msg. */
static void expect_error(const char *text, const char *msg)
{
    bg_error err;
    bg_suite *s = parse(text, &err);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_int_ne(err.code, 0);
}

static const char *source_dir(void)
{
    const char *d = getenv("BG_SOURCE_DIR");
    return d && *d ? d : ".";
}

static const cJSON *body_get(const bg_case *c, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(c->body, key);
}

/* ------------------------------------------------------------ valid suites */

START_TEST(parse_reads_every_case_member)
{
    const char *text =
        "{\"id\": \"refund-policy\", \"description\": \"asks about refunds\","
        " \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
        " {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Refunds?\"}]}],"
        " \"max_tokens\": 64, \"temperature\": 0, \"stop\": [\"\\n\\n\"], \"seed\": 7,"
        " \"request\": {\"chat_template_kwargs\": {\"enable_thinking\": false}},"
        " \"assert\": [{\"type\": \"contains\", \"value\": \"30 days\"},"
        " {\"type\": \"not-icontains\", \"value\": \"sorry\", \"weight\": 2}],"
        " \"tags\": [\"billing\", \"policy\"], \"latency_ms\": {\"max\": 2000, \"ttft\": 300},"
        " \"repeat\": 3, \"weight\": 2.5, \"threshold\": 0.5, \"stream\": true}\n";
    bg_error err;
    bg_suite *s = parse(text, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_str_eq(s->name, "s");
    ck_assert_str_eq(s->path, "evals/s.jsonl");
    ck_assert_uint_eq(s->n_cases, 1);
    const bg_case *c = &s->cases[0];
    ck_assert_str_eq(c->id, "refund-policy");
    ck_assert_int_eq(c->line, 1);
    ck_assert(c->is_chat);
    ck_assert_uint_eq(c->n_asserts, 2);
    ck_assert_int_eq(c->asserts[0].kind, BG_ASSERT_CONTAINS);
    ck_assert(!c->asserts[0].negate);
    ck_assert_int_eq(c->asserts[1].kind, BG_ASSERT_ICONTAINS);
    ck_assert(c->asserts[1].negate);
    ck_assert_double_eq(c->asserts[1].weight, 2);
    ck_assert_uint_eq(c->n_tags, 2);
    ck_assert_str_eq(c->tags[0], "billing");
    ck_assert_str_eq(c->tags[1], "policy");
    ck_assert_double_eq(c->latency_max_ms, 2000);
    ck_assert_double_eq(c->ttft_max_ms, 300);
    ck_assert_int_eq(c->repeat, 3);
    ck_assert_double_eq(c->weight, 2.5);
    ck_assert(c->has_threshold);
    ck_assert_double_eq(c->threshold, 0.5);
    ck_assert_int_eq(c->stream, 1);
    ck_assert_ptr_null(c->template_name);
    ck_assert_ptr_null(c->vars);
    /* the body is exactly what is sent: input + options + request, none of our keys */
    char *body = cJSON_PrintUnformatted(c->body);
    ck_assert_str_eq(body,
                     "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                     "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Refunds?\"}]}],"
                     "\"max_tokens\":64,\"temperature\":0,\"stop\":[\"\\n\\n\"],\"seed\":7,"
                     "\"chat_template_kwargs\":{\"enable_thinking\":false}}");
    free(body);
    bg_suite_free(s);
}
END_TEST

START_TEST(parse_applies_defaults)
{
    bg_error err;
    bg_suite *s = parse("{\"id\": \"a\", \"prompt\": \"The capital of France is\"}", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    const bg_case *c = &s->cases[0];
    ck_assert(!c->is_chat);
    ck_assert_str_eq(cJSON_GetStringValue(body_get(c, "prompt")), "The capital of France is");
    ck_assert_uint_eq(c->n_asserts, 0);
    ck_assert_ptr_null(c->asserts);
    ck_assert_uint_eq(c->n_tags, 0);
    ck_assert_double_eq(c->weight, 1);
    ck_assert_int_eq(c->stream, -1);
    ck_assert_int_eq(c->repeat, 0);
    ck_assert(!c->has_threshold);
    ck_assert_double_eq(c->latency_max_ms, 0);
    ck_assert_double_eq(c->ttft_max_ms, 0);
    ck_assert_int_eq(cJSON_GetArraySize(c->body), 1);
    bg_suite_free(s);
}
END_TEST

START_TEST(latency_ms_number_sets_the_end_to_end_limit)
{
    bg_error err;
    bg_suite *s = parse("{\"id\": \"a\", \"prompt\": \"p\", \"latency_ms\": 1500, \"stream\": false}",
                        &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_double_eq(s->cases[0].latency_max_ms, 1500);
    ck_assert_double_eq(s->cases[0].ttft_max_ms, 0);
    ck_assert_int_eq(s->cases[0].stream, 0);
    bg_suite_free(s);
}
END_TEST

START_TEST(template_case_is_chat_with_vars_and_no_messages)
{
    bg_error err;
    bg_suite *s = parse("{\"id\": \"t\", \"template\": \"qa\", \"vars\": {\"question\": \"Hours?\"},"
                        " \"max_tokens\": 32}",
                        &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    const bg_case *c = &s->cases[0];
    ck_assert(c->is_chat);
    ck_assert_str_eq(c->template_name, "qa");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(c->vars, "question")), "Hours?");
    ck_assert_ptr_null(body_get(c, "messages"));
    ck_assert_ptr_null(body_get(c, "vars"));
    ck_assert_ptr_null(body_get(c, "template"));
    ck_assert_int_eq((int)cJSON_GetNumberValue(body_get(c, "max_tokens")), 32);
    ck_assert_ptr_null(c->system_template);
    bg_suite_free(s);
    s = parse("{\"id\": \"t\", \"template\": \"qa\", \"system_template\": \"persona\"}", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_str_eq(s->cases[0].system_template, "persona");
    ck_assert_ptr_null(body_get(&s->cases[0], "system_template"));
    bg_suite_free(s);
}
END_TEST

START_TEST(comments_blank_lines_bom_and_crlf_are_skipped)
{
    const char *text = "\xEF\xBB\xBF// support bot golden set\r\n"
                       "\r\n"
                       "   \t\n"
                       "  // {\"id\": \"commented-out\"}\n"
                       "{\"id\": \"a\", \"prompt\": \"p\"}\r\n"
                       "\n"
                       "{\"id\": \"b\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
    bg_error err;
    bg_suite *s = parse(text, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_uint_eq(s->n_cases, 2);
    ck_assert_str_eq(s->cases[0].id, "a");
    ck_assert_int_eq(s->cases[0].line, 5);
    ck_assert_str_eq(s->cases[1].id, "b");
    ck_assert_int_eq(s->cases[1].line, 7);
    bg_suite_free(s);
}
END_TEST

START_TEST(bom_does_not_shift_error_columns)
{
    expect_error("\xEF\xBB\xBF{\"id\": 5, \"prompt\": \"p\"}",
                 "evals/s.jsonl:1:2: id: expected a string, got a number");
}
END_TEST

START_TEST(request_members_are_copied_as_is)
{
    bg_error err;
    bg_suite *s = parse("{\"id\": \"a\", \"prompt\": \"p\", \"request\": {\"guided_choice\": [\"yes\","
                        " \"no\"], \"ignore_eos\": true, \"x-vendor\": {\"deep\": [1, {\"k\": null}]}}}",
                        &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    char *body = cJSON_PrintUnformatted(s->cases[0].body);
    ck_assert_str_eq(body, "{\"prompt\":\"p\",\"guided_choice\":[\"yes\",\"no\"],\"ignore_eos\":true,"
                           "\"x-vendor\":{\"deep\":[1,{\"k\":null}]}}");
    free(body);
    bg_suite_free(s);
}
END_TEST

START_TEST(every_documented_request_option_is_passed_through)
{
    const char *text =
        "{\"id\": \"a\", \"prompt\": \"p\", \"max_tokens\": 5, \"max_completion_tokens\": 6,"
        " \"temperature\": 0.2, \"top_p\": 0.9, \"top_k\": 40, \"seed\": 1, \"stop\": \"END\","
        " \"n\": 1, \"presence_penalty\": 0.1, \"frequency_penalty\": -0.1,"
        " \"logit_bias\": {\"50256\": -100}, \"response_format\": {\"type\": \"json_object\"},"
        " \"tools\": [], \"tool_choice\": \"none\", \"user\": \"ci\", \"model\": \"m\","
        " \"min_tokens\": 1, \"repetition_penalty\": 1.1, \"logprobs\": true,"
        " \"top_logprobs\": 2}";
    static const char *const keys[] = {
        "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "seed",
        "stop", "n", "presence_penalty", "frequency_penalty", "logit_bias", "response_format",
        "tools", "tool_choice", "user", "model", "min_tokens", "repetition_penalty",
        "logprobs", "top_logprobs"};
    bg_error err;
    bg_suite *s = parse(text, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(body_get(&s->cases[0], keys[i]) != NULL, "%s not in body", keys[i]);
    ck_assert_int_eq(cJSON_GetArraySize(s->cases[0].body), 21);
    bg_suite_free(s);
}
END_TEST

START_TEST(many_cases_keep_order_and_line_numbers)
{
    bg_buf b;
    bg_buf_init(&b, 0);
    for (int i = 0; i < 3000; i++)
        ck_assert_int_eq(bg_buf_printf(&b, "{\"id\": \"case-%d\", \"prompt\": \"q%d\"}\n", i, i), 0);
    bg_error err;
    bg_suite *s = parse(bg_buf_cstr(&b), &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_uint_eq(s->n_cases, 3000);
    ck_assert_str_eq(s->cases[2999].id, "case-2999");
    ck_assert_int_eq(s->cases[2999].line, 3000);
    bg_suite_free(s);
    /* a duplicate far from the first still names the first line */
    ck_assert_int_eq(bg_buf_puts(&b, "{\"id\": \"case-17\", \"prompt\": \"again\"}\n"), 0);
    expect_error(bg_buf_cstr(&b), "evals/s.jsonl:3001:2: id: duplicate id \"case-17\" (first on line 18)");
    bg_buf_dispose(&b);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(duplicate_id_names_the_first_line)
{
    expect_error("{\"id\": \"hours\", \"prompt\": \"a\"}\n"
                 "// another\n"
                 "{\"prompt\": \"b\", \"id\": \"hours\"}\n",
                 "evals/s.jsonl:3:17: id: duplicate id \"hours\" (first on line 1)");
}
END_TEST

START_TEST(unknown_field_suggests_the_closest_name)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"asert\": []}",
                 "evals/s.jsonl:1:28: asert: unknown field (did you mean \"assert\"?)");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"max_token\": 5}",
                 "evals/s.jsonl:1:28: max_token: unknown field (did you mean \"max_tokens\"?)");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"frobnicate\": 1}",
                 "evals/s.jsonl:1:28: frobnicate: unknown field");
}
END_TEST

START_TEST(invalid_json_names_the_column)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\",, \"x\": 1}",
                 "evals/s.jsonl:1:28: invalid JSON near ' \"x\": 1}'");
    expect_error("\n{\"id\": \"a\", \"prompt\": \"p\"",
                 "evals/s.jsonl:2:26: invalid JSON: unexpected end of line (unclosed object, array or string?)");
}
END_TEST

START_TEST(trailing_text_after_the_object_is_an_error)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\"} {\"id\": \"b\"}",
                 "evals/s.jsonl:1:28: unexpected text after the case object");
    /* trailing blanks are fine */
    bg_error err;
    bg_suite *s = parse("{\"id\": \"a\", \"prompt\": \"p\"}  \t\r\n", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    bg_suite_free(s);
}
END_TEST

START_TEST(a_line_that_is_not_an_object_is_an_error)
{
    expect_error("[{\"id\": \"a\"}]", "evals/s.jsonl:1:1: expected a case object, got an array");
}
END_TEST

START_TEST(id_must_be_a_non_empty_string)
{
    expect_error("{\"prompt\": \"p\"}", "evals/s.jsonl:1:1: id: missing (a string is required)");
    expect_error("{\"prompt\": \"p\", \"id\": \"\"}", "evals/s.jsonl:1:17: id: must not be empty");
    expect_error("{\"prompt\": \"p\", \"id\": 3}",
                 "evals/s.jsonl:1:17: id: expected a string, got a number");
}
END_TEST

START_TEST(exactly_one_input_is_required)
{
    expect_error("{\"id\": \"a\", \"tags\": [\"x\"]}",
                 "evals/s.jsonl:1:1: case needs one of \"messages\", \"prompt\" or \"template\"");
    expect_error("{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"q\"}], \"prompt\": \"q\"}",
                 "evals/s.jsonl:1:61: prompt: only one of \"messages\", \"prompt\" or \"template\" "
                 "may be given");
    expect_error("{\"id\": \"a\", \"prompt\": \"q\", \"vars\": {}}",
                 "evals/s.jsonl:1:28: vars: only allowed with \"template\"");
    expect_error("{\"id\": \"a\", \"prompt\": \"q\", \"system_template\": \"s\"}",
                 "evals/s.jsonl:1:28: system_template: only allowed with \"template\"");
    expect_error("{\"id\": \"a\", \"template\": \"qa\", \"system_template\": 3}",
                 "evals/s.jsonl:1:31: system_template: expected a non-empty string, got a number");
    expect_error("{\"id\": \"a\", \"prompt\": 42}",
                 "evals/s.jsonl:1:13: prompt: expected a string, got a number");
    expect_error("{\"id\": \"a\", \"template\": \"\"}",
                 "evals/s.jsonl:1:13: template: expected a non-empty string, got \"\"");
    expect_error("{\"id\": \"a\", \"template\": \"qa\", \"vars\": [1]}",
                 "evals/s.jsonl:1:31: vars: expected an object, got an array");
}
END_TEST

START_TEST(messages_are_checked_with_their_path)
{
    expect_error("{\"id\": \"a\", \"messages\": []}", "evals/s.jsonl:1:13: messages: must not be empty");
    expect_error("{\"id\": \"a\", \"messages\": \"hi\"}",
                 "evals/s.jsonl:1:13: messages: expected an array, got a string");
    expect_error("{\"id\": \"a\", \"messages\": [{\"role\": \"system\", \"content\": \"s\"},"
                 " {\"role\": \"bot\", \"content\": \"q\"}]}",
                 "evals/s.jsonl:1:63: messages[1].role: expected one of system, user, assistant, "
                 "tool, developer, got \"bot\"");
    expect_error("{\"id\": \"a\", \"messages\": [{\"role\": \"user\"}]}",
                 "evals/s.jsonl:1:26: messages[0].content: missing (a string or an array of parts "
                 "is required)");
    expect_error("{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": 1}]}",
                 "evals/s.jsonl:1:43: messages[0].content: expected a string or an array of parts, "
                 "got a number");
    expect_error("{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"contnet\": \"q\"}]}",
                 "evals/s.jsonl:1:43: messages[0].contnet: unknown field (did you mean \"content\"?)");
    expect_error("{\"id\": \"a\", \"messages\": [\"hi\"]}",
                 "evals/s.jsonl:1:26: messages[0]: expected an object, got a string");
}
END_TEST

START_TEST(assistant_tool_call_message_may_omit_content)
{
    bg_error err;
    bg_suite *s = parse(
        "{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"weather?\"},"
        " {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"c1\", \"type\": "
        "\"function\", \"function\": {\"name\": \"w\", \"arguments\": \"{}\"}}]},"
        " {\"role\": \"tool\", \"tool_call_id\": \"c1\", \"content\": \"sunny\"}]}",
        &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(cJSON_GetArraySize(body_get(&s->cases[0], "messages")), 3);
    bg_suite_free(s);
}
END_TEST

START_TEST(assertions_are_parsed_with_their_index)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"assert\": {\"type\": \"contains\"}}",
                 "evals/s.jsonl:1:28: assert: expected an array, got an object");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"assert\": [{\"type\": \"contains\", \"value\": \"x\"},"
                 " \"contains\"]}",
                 "evals/s.jsonl:1:75: assert[1]: expected an object, got a string");
    /* errors of the assertion module get the column of the member they name */
    bg_error err;
    bg_suite *s = parse("{\"id\": \"a\", \"prompt\": \"p\", \"assert\": [{\"type\": \"contains\", \"value\": "
                        "\"x\"}, {\"type\": \"contains\", \"value\": 5}]}",
                        &err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strncmp(err.msg, "evals/s.jsonl:1:96: assert[1].value: ", 37) == 0, "%s", err.msg);
    s = parse("{\"id\": \"a\", \"prompt\": \"p\", \"assert\": [{\"type\": \"contians\", \"value\": \"x\"}]}",
              &err);
    ck_assert_ptr_null(s);
    ck_assert_msg(strncmp(err.msg, "evals/s.jsonl:1:40: assert[0].type: ", 36) == 0, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "did you mean \"contains\"") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(tags_must_be_non_empty_strings)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"tags\": \"geo\"}",
                 "evals/s.jsonl:1:28: tags: expected an array of strings, got a string");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"tags\": [\"geo\", \"\"]}",
                 "evals/s.jsonl:1:44: tags[1]: expected a non-empty string, got \"\"");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"tags\": [1]}",
                 "evals/s.jsonl:1:37: tags[0]: expected a non-empty string, got a number");
}
END_TEST

START_TEST(case_limits_are_range_checked)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"repeat\": 0}",
                 "evals/s.jsonl:1:28: repeat: expected an integer from 1 to 1000, got another number");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"repeat\": \"3\"}",
                 "evals/s.jsonl:1:28: repeat: expected an integer from 1 to 1000, got a string");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"weight\": -1}",
                 "evals/s.jsonl:1:28: weight: expected a number >= 0, got -1");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"threshold\": 1.5}",
                 "evals/s.jsonl:1:28: threshold: must be between 0 and 1, got 1.5");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"stream\": \"yes\"}",
                 "evals/s.jsonl:1:28: stream: expected true or false, got a string");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"description\": 1}",
                 "evals/s.jsonl:1:28: description: expected a string, got a number");
}
END_TEST

START_TEST(latency_ms_is_checked)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"latency_ms\": 0}",
                 "evals/s.jsonl:1:28: latency_ms: expected a number of milliseconds > 0, got 0");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"latency_ms\": {\"p95\": 10}}",
                 "evals/s.jsonl:1:43: latency_ms.p95: unknown field");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"latency_ms\": {}}",
                 "evals/s.jsonl:1:28: latency_ms: needs \"max\" or \"ttft\"");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"latency_ms\": {\"max\": 10, \"ttft\": -5}}",
                 "evals/s.jsonl:1:54: latency_ms.ttft: expected a number of milliseconds > 0, got -5");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"latency_ms\": \"fast\"}",
                 "evals/s.jsonl:1:28: latency_ms: expected a number or an object {\"max\": N, "
                 "\"ttft\": N}, got a string");
}
END_TEST

START_TEST(request_options_are_type_checked)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"temperature\": \"hot\"}",
                 "evals/s.jsonl:1:28: temperature: expected a number from 0 to 100, got a string");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"max_tokens\": 0}",
                 "evals/s.jsonl:1:28: max_tokens: expected an integer from 1 to 100000000, got 0");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"max_tokens\": 1.5}",
                 "evals/s.jsonl:1:28: max_tokens: expected an integer from 1 to 100000000, got 1.5");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"stop\": [\"x\", 1]}",
                 "evals/s.jsonl:1:42: stop[1]: expected a string, got a number");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"response_format\": \"json\"}",
                 "evals/s.jsonl:1:28: response_format: expected an object, got a string");
}
END_TEST

START_TEST(request_may_not_override_what_bg_gate_controls)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"request\": [1]}",
                 "evals/s.jsonl:1:28: request: expected an object, got an array");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"request\": {\"stream\": true}}",
                 "evals/s.jsonl:1:40: request.stream: set by bg-gate; use the case's own fields");
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"temperature\": 0, \"request\": {\"temperature\": 1}}",
                 "evals/s.jsonl:1:58: request.temperature: already set by \"temperature\" in the case");
    expect_error("{\"id\": \"a\", \"template\": \"qa\", \"request\": {\"messages\": []}}",
                 "evals/s.jsonl:1:43: request.messages: set by bg-gate; use the case's own fields");
    /* stream_options is the case's to set (the request builder keeps it) */
    bg_error err;
    bg_suite *s = parse("{\"id\": \"a\", \"prompt\": \"p\", \"request\": {\"stream_options\": "
                        "{\"include_usage\": true, \"continuous_usage_stats\": true}}}",
                        &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_ptr_nonnull(body_get(&s->cases[0], "stream_options"));
    bg_suite_free(s);
}
END_TEST

START_TEST(a_member_given_twice_is_an_error)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"id\": \"b\"}",
                 "evals/s.jsonl:1:2: id: given twice");
}
END_TEST

START_TEST(invalid_utf8_is_an_error_with_its_column)
{
    expect_error("{\"id\": \"a\", \"prompt\": \"caf\xC3\"}",
                 "evals/s.jsonl:1:27: invalid UTF-8");
    expect_error("{\"id\": \"a\", \"prompt\": \"\xED\xA0\x80\"}", "evals/s.jsonl:1:24: invalid UTF-8");
    /* valid multi-byte text is fine */
    bg_error err;
    bg_suite *s = parse("{\"id\": \"a\", \"prompt\": \"Grüße 東京 🚀\"}", &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    bg_suite_free(s);
}
END_TEST

START_TEST(a_line_over_the_cap_is_too_big)
{
    size_t n = BG_MAX_SUITE_LINE + 100;
    char *text = malloc(n + 64);
    ck_assert_ptr_nonnull(text);
    int head = snprintf(text, 64, "{\"id\": \"a\", \"prompt\": \"p\"}\n{\"id\": \"b\", \"prompt\": \"");
    memset(text + head, 'x', n - (size_t)head);
    memcpy(text + n, "\"}\n", 4);
    bg_error err;
    bg_suite *s = NULL;
    ck_assert_int_eq(bg_suite_parse(&s, "big.jsonl", text, strlen(text), &err), BG_ETOOBIG);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err.msg, "big.jsonl:2:1: line longer than 1048576 bytes");
    free(text);
}
END_TEST

START_TEST(text_over_the_suite_cap_is_too_big)
{
    /* the size is checked before any byte is read */
    const char *text = "{}";
    bg_error err;
    bg_suite *s = NULL;
    ck_assert_int_eq(bg_suite_parse(&s, "huge.jsonl", text, (size_t)BG_MAX_SUITE_BYTES + 1, &err),
                     BG_ETOOBIG);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err.msg, "huge.jsonl: larger than 268435456 bytes");
}
END_TEST

START_TEST(a_suite_without_cases_is_an_error)
{
    expect_error("", "evals/s.jsonl: no cases");
    expect_error("// only a comment\n\n", "evals/s.jsonl: no cases");
}
END_TEST

START_TEST(the_first_error_wins_and_nothing_leaks)
{
    /* a good case followed by a bad one: the suite is rejected as a whole */
    expect_error("{\"id\": \"a\", \"prompt\": \"p\", \"assert\": [{\"type\": \"regex\", \"value\": \"^a\"}],"
                 " \"tags\": [\"t\"]}\n"
                 "{\"id\": \"b\", \"prompt\": \"p\", \"assert\": [{\"type\": \"regex\", \"value\": \"^b\"}],"
                 " \"tags\": [\"t\"], \"repeat\": -1}\n",
                 "evals/s.jsonl:2:89: repeat: expected an integer from 1 to 1000, got another number");
}
END_TEST

/* ------------------------------------------------------------ files and paths */

START_TEST(load_reads_a_file_and_names_the_suite)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tests/fixtures/suites/valid.jsonl", source_dir());
    bg_suite *s = NULL;
    bg_error err;
    int rc = bg_suite_load(&s, path, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_str_eq(s->name, "valid");
    ck_assert_str_eq(s->path, path);
    ck_assert_uint_eq(s->n_cases, 3);
    ck_assert_int_eq(s->cases[0].line, 3);
    bg_suite_free(s);
}
END_TEST

START_TEST(load_reports_a_missing_file)
{
    bg_suite *s = NULL;
    bg_error err;
    ck_assert_int_eq(bg_suite_load(&s, "no/such/suite.jsonl", &err), BG_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(err.msg, "no/such/suite.jsonl: No such file or directory");
}
END_TEST

START_TEST(load_reports_errors_with_the_file_path)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tests/fixtures/suites/bad-unknown-field.jsonl", source_dir());
    bg_suite *s = NULL;
    bg_error err;
    ck_assert_int_eq(bg_suite_load(&s, path, &err), BG_EINVAL);
    char want[PATH_MAX + 128];
    snprintf(want, sizeof want, "%s:4:65: asert: unknown field (did you mean \"assert\"?)", path);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

START_TEST(fixture_suites_fail_with_their_documented_errors)
{
    static const struct {
        const char *file, *suffix;
    } cases[] = {
        {"bad-json.jsonl", ":2:46: invalid JSON near '}'"},
        {"bad-duplicate-id.jsonl", ":3:2: id: duplicate id \"store-hours\" (first on line 1)"},
        {"bad-assert-type.jsonl", ":1:69: assert[0].type: "},
        {"bad-two-inputs.jsonl", ":1:65: prompt: only one of \"messages\", \"prompt\" or \"template\" may be given"},
        {"empty.jsonl", ": no cases"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/tests/fixtures/suites/%s", source_dir(), cases[i].file);
        bg_suite *s = NULL;
        bg_error err;
        ck_assert_int_ne(bg_suite_load(&s, path, &err), 0);
        ck_assert_ptr_null(s);
        char want[PATH_MAX + 128];
        snprintf(want, sizeof want, "%s%s", path, cases[i].suffix);
        ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s: got '%s', want prefix '%s'",
                      cases[i].file, err.msg, want);
    }
}
END_TEST

START_TEST(the_example_suites_are_valid)
{
    static const char *const files[] = {"evals/golden.jsonl", "evals/smoke.jsonl"};
    for (size_t i = 0; i < 2; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", source_dir(), files[i]);
        bg_suite *s = NULL;
        bg_error err;
        int rc = bg_suite_load(&s, path, &err);
        ck_assert_msg(rc == 0, "%s", err.msg);
        ck_assert_uint_ge(s->n_cases, i == 0 ? 30 : 5);
        bg_suite_free(s);
    }
}
END_TEST

START_TEST(golden_suite_covers_every_assertion_kind)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/evals/golden.jsonl", source_dir());
    bg_suite *s = NULL;
    bg_error err;
    ck_assert_msg(bg_suite_load(&s, path, &err) == 0, "%s", err.msg);
    bool seen[BG_ASSERT__COUNT][2] = {{false}};
    bool chat = false, completion = false;
    for (size_t i = 0; i < s->n_cases; i++) {
        for (size_t j = 0; j < s->cases[i].n_asserts; j++)
            seen[s->cases[i].asserts[j].kind][s->cases[i].asserts[j].negate] = true;
        chat |= s->cases[i].is_chat;
        completion |= !s->cases[i].is_chat;
    }
    for (int k = 0; k < BG_ASSERT__COUNT; k++) {
        ck_assert_msg(seen[k][0], "no %s case", bg_assert_kind_name((bg_assert_kind)k));
        bool negatable = k != BG_ASSERT_LLM_RUBRIC && k != BG_ASSERT_MAX_TOKENS &&
                         k != BG_ASSERT_MIN_TOKENS && k != BG_ASSERT_LATENCY;
        ck_assert_msg(!negatable || seen[k][1], "no not-%s case",
                      bg_assert_kind_name((bg_assert_kind)k));
    }
    ck_assert(chat && completion);
    bg_suite_free(s);
}
END_TEST

/* Makes a fresh temp dir for a test; caller removes it with rm_tree. */
static void make_tmpdir(char *dir, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, n, "%s/bg-suite-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void touch(const char *dir, const char *name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"id\": \"a\", \"prompt\": \"p\"}\n", f);
    fclose(f);
}

static void rm_in(const char *dir, const char *name)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ck_assert_int_eq(remove(p), 0);
}

static void free_paths(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

START_TEST(expand_directory_yields_sorted_jsonl_files)
{
    char dir[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    touch(dir, "safety.jsonl");
    touch(dir, "billing.jsonl");
    touch(dir, "notes.txt");
    touch(dir, ".hidden.jsonl");
    touch(dir, "golden.jsonl.bak");
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/nested.jsonl", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);

    char **paths = NULL;
    size_t n = 0;
    bg_error err;
    /* a file first, then the directory: results are appended */
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/safety.jsonl", dir);
    ck_assert_int_eq(bg_suite_expand_path(&paths, &n, file, &err), 0);
    ck_assert_int_eq(bg_suite_expand_path(&paths, &n, dir, &err), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(paths[0], file);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s/billing.jsonl", dir);
    ck_assert_str_eq(paths[1], want);
    ck_assert_str_eq(paths[2], file);
    free_paths(paths, n);

    /* a trailing slash does not double the separator */
    paths = NULL;
    n = 0;
    char slashed[PATH_MAX + 2];
    snprintf(slashed, sizeof slashed, "%s/", dir);
    ck_assert_int_eq(bg_suite_expand_path(&paths, &n, slashed, &err), 0);
    ck_assert_str_eq(paths[0], want);
    free_paths(paths, n);

    ck_assert_int_eq(rmdir(sub), 0);
    rm_in(dir, "safety.jsonl");
    rm_in(dir, "billing.jsonl");
    rm_in(dir, "notes.txt");
    rm_in(dir, ".hidden.jsonl");
    rm_in(dir, "golden.jsonl.bak");
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(expand_directory_without_suites_is_an_error)
{
    char dir[PATH_MAX];
    make_tmpdir(dir, sizeof dir);
    touch(dir, "README.md");
    char **paths = NULL;
    size_t n = 0;
    bg_error err;
    ck_assert_int_eq(bg_suite_expand_path(&paths, &n, dir, &err), BG_EINVAL);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(paths);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s: no *.jsonl files", dir);
    ck_assert_str_eq(err.msg, want);
    rm_in(dir, "README.md");
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(expand_missing_path_is_an_error)
{
    char **paths = NULL;
    size_t n = 0;
    bg_error err;
    ck_assert_int_eq(bg_suite_expand_path(&paths, &n, "evals/nope.jsonl", &err), BG_EINVAL);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(err.msg, "evals/nope.jsonl: No such file or directory");
}
END_TEST

START_TEST(free_accepts_null)
{
    bg_suite_free(NULL);
}
END_TEST

Suite *make_suite(void); /* called by BG_CHECK_MAIN */

Suite *make_suite(void)
{
    Suite *s = suite_create("suite");
    TCase *ok = tcase_create("valid");
    tcase_add_test(ok, parse_reads_every_case_member);
    tcase_add_test(ok, parse_applies_defaults);
    tcase_add_test(ok, latency_ms_number_sets_the_end_to_end_limit);
    tcase_add_test(ok, template_case_is_chat_with_vars_and_no_messages);
    tcase_add_test(ok, comments_blank_lines_bom_and_crlf_are_skipped);
    tcase_add_test(ok, request_members_are_copied_as_is);
    tcase_add_test(ok, every_documented_request_option_is_passed_through);
    tcase_add_test(ok, assistant_tool_call_message_may_omit_content);
    tcase_add_test(ok, many_cases_keep_order_and_line_numbers);
    tcase_add_test(ok, free_accepts_null);
    suite_add_tcase(s, ok);

    TCase *bad = tcase_create("errors");
    tcase_add_test(bad, bom_does_not_shift_error_columns);
    tcase_add_test(bad, duplicate_id_names_the_first_line);
    tcase_add_test(bad, unknown_field_suggests_the_closest_name);
    tcase_add_test(bad, invalid_json_names_the_column);
    tcase_add_test(bad, trailing_text_after_the_object_is_an_error);
    tcase_add_test(bad, a_line_that_is_not_an_object_is_an_error);
    tcase_add_test(bad, id_must_be_a_non_empty_string);
    tcase_add_test(bad, exactly_one_input_is_required);
    tcase_add_test(bad, messages_are_checked_with_their_path);
    tcase_add_test(bad, assertions_are_parsed_with_their_index);
    tcase_add_test(bad, tags_must_be_non_empty_strings);
    tcase_add_test(bad, case_limits_are_range_checked);
    tcase_add_test(bad, latency_ms_is_checked);
    tcase_add_test(bad, request_options_are_type_checked);
    tcase_add_test(bad, request_may_not_override_what_bg_gate_controls);
    tcase_add_test(bad, a_member_given_twice_is_an_error);
    tcase_add_test(bad, invalid_utf8_is_an_error_with_its_column);
    tcase_add_test(bad, a_line_over_the_cap_is_too_big);
    tcase_add_test(bad, text_over_the_suite_cap_is_too_big);
    tcase_add_test(bad, a_suite_without_cases_is_an_error);
    tcase_add_test(bad, the_first_error_wins_and_nothing_leaks);
    suite_add_tcase(s, bad);

    TCase *files = tcase_create("files");
    tcase_add_test(files, load_reads_a_file_and_names_the_suite);
    tcase_add_test(files, load_reports_a_missing_file);
    tcase_add_test(files, load_reports_errors_with_the_file_path);
    tcase_add_test(files, fixture_suites_fail_with_their_documented_errors);
    tcase_add_test(files, the_example_suites_are_valid);
    tcase_add_test(files, golden_suite_covers_every_assertion_kind);
    tcase_add_test(files, expand_directory_yields_sorted_jsonl_files);
    tcase_add_test(files, expand_directory_without_suites_is_an_error);
    tcase_add_test(files, expand_missing_path_is_an_error);
    suite_add_tcase(s, files);
    return s;
}

BG_CHECK_MAIN()
