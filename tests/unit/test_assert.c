/* test_assert.c — assertions: parsing errors (pinned), every kind passing, failing and
 * negated, reasons that stay one valid UTF-8 line, and the judge prompt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../support/check_main.h"
#include "../../src/eval/assert_internal.h"
#include "bggate/assert.h"
#include "bggate/util.h"

/* ---------------------------------------------------------------- helpers */

static bg_assert_input input_text(const char *text)
{
    bg_assert_input in;
    memset(&in, 0, sizeof in);
    in.text = text;
    in.text_len = text ? strlen(text) : 0;
    in.completion_tokens = -1;
    in.e2e_ms = -1;
    in.ttft_ms = -1;
    return in;
}

static int parse_json(bg_assertion *a, const char *json, bg_error *err)
{
    cJSON *obj = cJSON_Parse(json);
    ck_assert_msg(obj != NULL, "test JSON does not parse: %s", json);
    bg_error_clear(err);
    int rc = bg_assertion_parse(a, obj, "assert[2]", err);
    cJSON_Delete(obj);
    return rc;
}

static void parse_ok(bg_assertion *a, const char *json)
{
    bg_error err;
    int rc = parse_json(a, json, &err);
    ck_assert_msg(rc == 0, "parse failed for %s: %s", json, err.msg);
}

static void parse_fails(const char *json, const char *msg)
{
    bg_assertion a;
    bg_error err;
    memset(&a, 0, sizeof a);
    int rc = parse_json(&a, json, &err);
    ck_assert_int_eq(rc, BG_EINVAL);
    ck_assert_str_eq(err.msg, msg);
}

static void parse_fails_prefix(const char *json, const char *prefix)
{
    bg_assertion a;
    bg_error err;
    memset(&a, 0, sizeof a);
    int rc = parse_json(&a, json, &err);
    ck_assert_int_eq(rc, BG_EINVAL);
    ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0, "got \"%s\", want prefix \"%s\"",
                  err.msg, prefix);
}

static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        if (!n)
            return false;
        for (size_t k = 1; k < n; k++)
            if ((p[k] & 0xC0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

/* Every reason: set, one line, printable, valid UTF-8, within the cap. */
static void check_reason(const bg_assert_result *r)
{
    size_t n = strlen(r->reason);
    ck_assert_msg(n > 0, "empty reason");
    ck_assert_uint_lt(n, BG_MAX_REASON);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg((unsigned char)r->reason[i] >= 0x20, "control char in reason: %s",
                      r->reason);
    ck_assert_msg(valid_utf8(r->reason), "invalid UTF-8 in reason: %s", r->reason);
}

static bg_assert_result eval_in(const char *json, const bg_assert_input *in)
{
    bg_assertion a;
    bg_assert_result r;
    parse_ok(&a, json);
    bg_assert_eval(&a, in, &r);
    bg_assertion_dispose(&a);
    check_reason(&r);
    if (r.error)
        ck_assert(!r.pass);
    return r;
}

static bg_assert_result eval_text(const char *json, const char *answer)
{
    bg_assert_input in = input_text(answer);
    return eval_in(json, &in);
}

#define ck_pass(r, why)                                                                    \
    do {                                                                                   \
        ck_assert_msg((r).pass && !(r).error, "expected pass: %s", (r).reason);            \
        ck_assert_str_eq((r).reason, why);                                                 \
    } while (0)
#define ck_fail(r, why)                                                                    \
    do {                                                                                   \
        ck_assert_msg(!(r).pass && !(r).error, "expected fail: %s", (r).reason);           \
        ck_assert_str_eq((r).reason, why);                                                 \
    } while (0)
#define ck_error(r, why)                                                                   \
    do {                                                                                   \
        ck_assert_msg(!(r).pass && (r).error, "expected error: %s", (r).reason);           \
        ck_assert_str_eq((r).reason, why);                                                 \
    } while (0)

/* ---------------------------------------------------------------- parsing */

START_TEST(parse_suggests_closest_type)
{
    parse_fails("{\"type\": \"contians\", \"value\": \"x\"}",
                "assert[2].type: unknown assertion type \"contians\" (did you mean \"contains\"?)");
    parse_fails("{\"type\": \"not-contians\", \"value\": \"x\"}",
                "assert[2].type: unknown assertion type \"not-contians\" (did you mean "
                "\"not-contains\"?)");
    parse_fails("{\"type\": \"json_schema\", \"value\": {}}",
                "assert[2].type: unknown assertion type \"json_schema\" (did you mean "
                "\"json-schema\"?)");
}
END_TEST

START_TEST(parse_lists_known_types_without_close_match)
{
    parse_fails_prefix("{\"type\": \"frobnicate\"}",
                       "assert[2].type: unknown assertion type \"frobnicate\" (known: equals, "
                       "contains, icontains, contains-any");
}
END_TEST

START_TEST(parse_rejects_negating_unnegatable_kinds)
{
    parse_fails("{\"type\": \"not-latency\", \"threshold\": 100}",
                "assert[2].type: \"not-latency\" cannot be negated");
    parse_fails("{\"type\": \"not-llm-rubric\", \"value\": \"polite\"}",
                "assert[2].type: \"not-llm-rubric\" cannot be negated");
    parse_fails("{\"type\": \"not-max-tokens\", \"value\": 5}",
                "assert[2].type: \"not-max-tokens\" cannot be negated");
    parse_fails("{\"type\": \"not-min-tokens\", \"value\": 5}",
                "assert[2].type: \"not-min-tokens\" cannot be negated");
}
END_TEST

START_TEST(parse_rejects_unknown_member_with_suggestion)
{
    parse_fails("{\"type\": \"levenshtein\", \"value\": \"x\", \"treshold\": 2}",
                "assert[2].treshold: unknown field (did you mean \"threshold\"?)");
    parse_fails("{\"type\": \"contains\", \"value\": \"x\", \"zzzzzz\": 2}",
                "assert[2].zzzzzz: unknown field");
}
END_TEST

START_TEST(parse_rejects_member_the_kind_does_not_use)
{
    parse_fails("{\"type\": \"contains\", \"value\": \"x\", \"threshold\": 0.5}",
                "assert[2].threshold: not used by \"contains\"");
    parse_fails("{\"type\": \"is-json\", \"value\": true}",
                "assert[2].value: not used by \"is-json\"");
    parse_fails("{\"type\": \"equals\", \"value\": \"x\", \"path\": \"a\"}",
                "assert[2].path: not used by \"equals\"");
}
END_TEST

START_TEST(parse_rejects_missing_type_and_non_objects)
{
    parse_fails("{\"value\": \"x\"}", "assert[2].type: missing (a string is required)");
    parse_fails("\"contains\"", "assert[2]: expected an object, got a string");
    parse_fails("{\"type\": 3}", "assert[2].type: expected a string, got a number");
}
END_TEST

START_TEST(parse_weight_defaults_to_one_and_rejects_negative)
{
    bg_assertion a;
    parse_ok(&a, "{\"type\": \"contains\", \"value\": \"x\"}");
    ck_assert_double_eq(a.weight, 1);
    ck_assert_int_eq(a.kind, BG_ASSERT_CONTAINS);
    ck_assert(!a.negate);
    bg_assertion_dispose(&a);
    parse_ok(&a, "{\"type\": \"not-contains\", \"value\": \"x\", \"weight\": 2.5}");
    ck_assert_double_eq(a.weight, 2.5);
    ck_assert(a.negate);
    ck_assert_str_eq(a.value->valuestring, "x");
    bg_assertion_dispose(&a);
    parse_fails("{\"type\": \"contains\", \"value\": \"x\", \"weight\": -1}",
                "assert[2].weight: must be between 0 and 1e+06, got -1");
}
END_TEST

START_TEST(parse_pins_value_type_errors)
{
    parse_fails("{\"type\": \"contains\", \"value\": 3}",
                "assert[2].value: expected a string, got a number");
    parse_fails("{\"type\": \"contains\"}", "assert[2].value: missing (a string is required)");
    parse_fails("{\"type\": \"contains\", \"value\": \"\"}", "assert[2].value: must not be empty");
    parse_fails("{\"type\": \"contains-any\", \"value\": []}",
                "assert[2].value: expected a non-empty array of strings, got an empty array");
    parse_fails("{\"type\": \"contains-all\", \"value\": \"a\"}",
                "assert[2].value: expected a non-empty array of strings, got a string");
    parse_fails("{\"type\": \"contains-all\", \"value\": [\"a\", 1]}",
                "assert[2].value[1]: expected a non-empty string, got a number");
    parse_fails("{\"type\": \"finish-reason\", \"value\": true}",
                "assert[2].value: expected a string, got a boolean");
}
END_TEST

START_TEST(dispose_is_null_safe_and_idempotent)
{
    bg_assertion a;
    bg_assertion_dispose(NULL);
    parse_ok(&a, "{\"type\": \"regex\", \"value\": \"a+\"}");
    ck_assert_ptr_nonnull(a.compiled);
    bg_assertion_dispose(&a);
    ck_assert_ptr_null(a.compiled);
    bg_assertion_dispose(&a);
}
END_TEST

START_TEST(kind_queries_name_and_needs)
{
    ck_assert_str_eq(bg_assert_kind_name(BG_ASSERT_CONTAINS_ANY), "contains-any");
    ck_assert_str_eq(bg_assert_kind_name(BG_ASSERT_LLM_RUBRIC), "llm-rubric");
    ck_assert_str_eq(bg_assert_kind_name(BG_ASSERT__COUNT), "unknown");
    ck_assert(bg_assert_kind_needs_embeddings(BG_ASSERT_SIMILAR));
    ck_assert(!bg_assert_kind_needs_embeddings(BG_ASSERT_LLM_RUBRIC));
    ck_assert(bg_assert_kind_needs_judge(BG_ASSERT_LLM_RUBRIC));
    ck_assert(!bg_assert_kind_needs_judge(BG_ASSERT_CONTAINS));
}
END_TEST

/* ---------------------------------------------------------------- text kinds */

START_TEST(equals_is_exact)
{
    bg_assert_result r = eval_text("{\"type\": \"equals\", \"value\": \"Paris\"}", "Paris");
    ck_pass(r, "equals 'Paris'");
    ck_assert_double_eq(r.score, 1);
    r = eval_text("{\"type\": \"equals\", \"value\": \"Paris\"}", "Paris\n");
    ck_fail(r, "expected 'Paris'; got 'Paris ' (first difference at offset 5)");
    ck_assert_double_eq(r.score, 0);
    r = eval_text("{\"type\": \"not-equals\", \"value\": \"Paris\"}", "Paris");
    ck_fail(r, "not-equals: answer is exactly 'Paris'");
    r = eval_text("{\"type\": \"not-equals\", \"value\": \"Paris\"}", "Lyon");
    ck_pass(r, "differs from 'Paris' at offset 0");
    r = eval_text("{\"type\": \"equals\", \"value\": \"\"}", "");
    ck_pass(r, "equals ''");
}
END_TEST

START_TEST(contains_passes_with_offset)
{
    bg_assert_result r =
        eval_text("{\"type\": \"contains\", \"value\": \"Paris\"}", "The capital is Paris.");
    ck_pass(r, "contains 'Paris' at offset 15");
}
END_TEST

START_TEST(contains_fails_with_excerpt_in_reason)
{
    bg_assert_result r =
        eval_text("{\"type\": \"contains\", \"value\": \"Paris\"}",
                  "The capital is Lyon, a city known for its food and its silk and its two "
                  "rivers.");
    ck_fail(r, "expected to contain 'Paris'; got 'The capital is Lyon, a city known for its food "
               "and its silk \xE2\x80\xA6'");
}
END_TEST

START_TEST(not_contains_reports_where_it_found_the_value)
{
    bg_assert_result r =
        eval_text("{\"type\": \"not-contains\", \"value\": \"sorry\"}", "I am sorry, I can't");
    ck_fail(r, "not-contains: found 'sorry' at offset 5");
    ck_assert_double_eq(r.score, 0);
    r = eval_text("{\"type\": \"not-contains\", \"value\": \"sorry\"}", "Sure, here it is");
    ck_pass(r, "does not contain 'sorry'");
    ck_assert_double_eq(r.score, 1);
}
END_TEST

START_TEST(icontains_ignores_ascii_case)
{
    bg_assert_result r = eval_text("{\"type\": \"icontains\", \"value\": \"PARIS\"}", "in paris");
    ck_pass(r, "contains (ignoring case) 'PARIS' at offset 3");
    r = eval_text("{\"type\": \"icontains\", \"value\": \"PARIS\"}", "in lyon");
    ck_fail(r, "expected to contain (ignoring case) 'PARIS'; got 'in lyon'");
    r = eval_text("{\"type\": \"not-icontains\", \"value\": \"Sorry\"}", "SORRY!");
    ck_fail(r, "not-icontains: found 'Sorry' at offset 0");
}
END_TEST

START_TEST(starts_with_checks_the_prefix)
{
    bg_assert_result r = eval_text("{\"type\": \"starts-with\", \"value\": \"Yes\"}", "Yes, it is");
    ck_pass(r, "starts with 'Yes' at offset 0");
    r = eval_text("{\"type\": \"starts-with\", \"value\": \"Yes\"}", "Well, yes");
    ck_fail(r, "expected to start with 'Yes'; got 'Well, yes'");
    r = eval_text("{\"type\": \"not-starts-with\", \"value\": \"As an AI\"}", "Sure");
    ck_pass(r, "does not start with 'As an AI'");
    r = eval_text("{\"type\": \"starts-with\", \"value\": \"Yes\"}", "Ye");
    ck_fail(r, "expected to start with 'Yes'; got 'Ye'");
}
END_TEST

START_TEST(contains_any_and_all)
{
    const char *any = "{\"type\": \"contains-any\", \"value\": [\"cat\", \"dog\"]}";
    const char *all = "{\"type\": \"contains-all\", \"value\": [\"cat\", \"dog\", \"cow\"]}";
    bg_assert_result r = eval_text(any, "a dog");
    ck_pass(r, "contains 'dog' at offset 2");
    r = eval_text(any, "a bird");
    ck_fail(r, "expected to contain any of 'cat', 'dog'; got 'a bird'");
    r = eval_text("{\"type\": \"not-contains-any\", \"value\": [\"cat\", \"dog\"]}", "a dog");
    ck_fail(r, "not-contains-any: found 'dog' at offset 2");
    r = eval_text("{\"type\": \"not-contains-any\", \"value\": [\"cat\", \"dog\"]}", "a bird");
    ck_pass(r, "contains none of 'cat', 'dog'");
    r = eval_text(all, "cow, dog and cat");
    ck_pass(r, "contains all 3 values");
    r = eval_text(all, "dog only");
    ck_fail(r, "expected to contain 'cat' (2 of 3 values missing); got 'dog only'");
    r = eval_text("{\"type\": \"not-contains-all\", \"value\": [\"a\", \"b\"]}", "a b");
    ck_fail(r, "not-contains-all: found all 2 values");
    r = eval_text("{\"type\": \"not-contains-all\", \"value\": [\"a\", \"b\"]}", "a");
    ck_pass(r, "missing 'b' (1 of 2 values missing)");
}
END_TEST

START_TEST(contains_any_long_list_is_cut_in_reason)
{
    char json[2048] = "{\"type\": \"contains-any\", \"value\": [";
    for (int i = 0; i < 40; i++) {
        size_t l = strlen(json);
        snprintf(json + l, sizeof json - l, "%s\"word-number-%02d\"", i ? ", " : "", i);
    }
    bg_strlcpy(json + strlen(json), "]}", sizeof json - strlen(json));
    bg_assert_result r = eval_text(json, "nothing here");
    ck_assert(!r.pass);
    ck_assert_ptr_nonnull(strstr(r.reason, "'word-number-00', 'word-number-01'"));
    ck_assert_ptr_nonnull(strstr(r.reason, ", \xE2\x80\xA6; got 'nothing here'"));
}
END_TEST

START_TEST(regex_matches_in_utf8_mode)
{
    bg_assert_result r =
        eval_text("{\"type\": \"regex\", \"value\": \"(?i)^caf\u00e9\\\\s\"}", "CAF\xC3\x89 au lait");
    ck_pass(r, "matches /(?i)^caf\xC3\xA9\\s/ at offset 0: 'CAF\xC3\x89 '");
    r = eval_text("{\"type\": \"regex\", \"value\": \"\\\\d{3}\"}", "call 12");
    ck_fail(r, "expected to match /\\d{3}/; got 'call 12'");
    r = eval_text("{\"type\": \"not-regex\", \"value\": \"\\\\d{3}\"}", "call 123");
    ck_fail(r, "not-regex: matched '123' at offset 5");
    r = eval_text("{\"type\": \"not-regex\", \"value\": \"\\\\d{3}\"}", "call");
    ck_pass(r, "does not match /\\d{3}/");
    /* invalid UTF-8 in the answer is matched, not an error */
    r = eval_text("{\"type\": \"regex\", \"value\": \"ok$\"}", "\xFF\xFE ok");
    ck_pass(r, "matches /ok$/ at offset 3: 'ok'");
}
END_TEST

START_TEST(regex_compile_error_names_offset)
{
    parse_fails("{\"type\": \"regex\", \"value\": \"(abc\"}",
                "assert[2].value: invalid regex at offset 4: missing closing parenthesis");
    parse_fails("{\"type\": \"regex\", \"value\": \"a{2,1}\"}",
                "assert[2].value: invalid regex at offset 5: numbers out of order in {} "
                "quantifier");
}
END_TEST

START_TEST(regex_catastrophic_pattern_finishes)
{
    char answer[4096];
    memset(answer, 'a', sizeof answer - 2);
    answer[sizeof answer - 2] = '!';
    answer[sizeof answer - 1] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bg_assert_result r = eval_text("{\"type\": \"regex\", \"value\": \"^(\\\\w+\\\\s?)*$\"}", answer);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(s < 5.0, "regex took %.2f s", s);
    ck_error(r, "regex /^(\\w+\\s?)*$/ exceeded its backtracking limit; simplify it");
    /* negation does not turn an error into a pass */
    r = eval_text("{\"type\": \"not-regex\", \"value\": \"^(\\\\w+\\\\s?)*$\"}", answer);
    ck_assert(r.error && !r.pass);
}
END_TEST

/* ---------------------------------------------------------------- JSON kinds */

START_TEST(is_json_accepts_fenced_and_scalar_json)
{
    const char *isj = "{\"type\": \"is-json\"}";
    bg_assert_result r = eval_text(isj, "  {\"a\": [1, 2]}\n");
    ck_pass(r, "answer is valid JSON (object)");
    r = eval_text(isj, "```json\n{\"a\": 1}\n```");
    ck_pass(r, "answer is valid JSON (object)");
    r = eval_text(isj, "\n```\n[1]\n```\n");
    ck_pass(r, "answer is valid JSON (array)");
    r = eval_text(isj, "42");
    ck_pass(r, "answer is valid JSON (number)");
}
END_TEST

START_TEST(is_json_fails_with_parse_position)
{
    const char *isj = "{\"type\": \"is-json\"}";
    bg_assert_result r = eval_text(isj, "{\"a\": 1,}");
    ck_fail(r, "not JSON: parse error at offset 8 near '}'");
    r = eval_text(isj, "{\"a\": 1} and more");
    ck_fail(r, "not JSON: unexpected text after the value at offset 9 near 'and more'");
    r = eval_text(isj, "   ");
    ck_fail(r, "not JSON: the answer is empty");
    r = eval_text("{\"type\": \"not-is-json\"}", "Sure! {\"a\": 1}");
    ck_pass(r, "not JSON: parse error at offset 0 near 'Sure! {\"a\": 1}'");
    r = eval_text("{\"type\": \"not-is-json\"}", "{}");
    ck_fail(r, "not-is-json: answer is valid JSON (object)");
}
END_TEST

static const char *people_schema =
    "{\"type\": \"json-schema\", \"value\": {\"type\": \"object\", \"required\": [\"items\"],"
    " \"properties\": {\"items\": {\"type\": \"array\", \"items\": {\"type\": \"object\","
    " \"required\": [\"name\"], \"additionalProperties\": false, \"properties\": {"
    "\"name\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 4},"
    " \"age\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 150},"
    " \"role\": {\"enum\": [\"admin\", \"user\"]},"
    " \"note\": {\"type\": [\"string\", \"null\"]}}}}}}}";

START_TEST(json_schema_passes_valid_answer)
{
    bg_assert_result r = eval_text(
        people_schema, "```json\n{\"items\": [{\"name\": \"Zo\u00eb\", \"age\": 3, \"role\": "
                       "\"user\", \"note\": null}, {\"name\": \"Al\", \"note\": \"hi\"}]}\n```");
    ck_pass(r, "answer matches the schema");
}
END_TEST

START_TEST(json_schema_names_path_of_first_violation)
{
    bg_assert_result r = eval_text(
        people_schema, "{\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}, {\"name\": \"c\", "
                       "\"age\": \"7\"}]}");
    ck_fail(r, "$.items[2].age: expected integer, got string");
    r = eval_text(people_schema, "{\"items\": [{\"name\": \"a\", \"age\": 1.5}]}");
    ck_fail(r, "$.items[0].age: expected integer, got number");
    r = eval_text(people_schema, "{\"items\": [{\"age\": 1}]}");
    ck_fail(r, "$.items[0]: missing required property \"name\"");
    r = eval_text(people_schema, "{}");
    ck_fail(r, "$: missing required property \"items\"");
    r = eval_text(people_schema, "{\"items\": [{\"name\": \"a\", \"e-mail\": \"x\"}]}");
    ck_fail(r, "$.items[0][\"e-mail\"]: unexpected property (additionalProperties is false)");
    r = eval_text(people_schema, "{\"items\": [{\"name\": \"a\", \"age\": 151}]}");
    ck_fail(r, "$.items[0].age: 151 is greater than maximum 150");
    r = eval_text(people_schema, "{\"items\": [{\"name\": \"a\", \"age\": -1}]}");
    ck_fail(r, "$.items[0].age: -1 is less than minimum 0");
    r = eval_text(people_schema, "{\"items\": [{\"name\": \"a\", \"role\": \"root\"}]}");
    ck_fail(r, "$.items[0].role: \"root\" is not one of [\"admin\",\"user\"]");
    r = eval_text(people_schema, "{\"items\": [{\"name\": \"a\", \"note\": 3}]}");
    ck_fail(r, "$.items[0].note: expected string or null, got number");
    r = eval_text(people_schema, "{\"items\": {}}");
    ck_fail(r, "$.items: expected array, got object");
    r = eval_text(people_schema, "no json here");
    ck_fail(r, "not JSON: parse error at offset 0 near 'no json here'");
}
END_TEST

START_TEST(json_schema_counts_string_length_in_code_points)
{
    /* "Zoë" + "é" = 4 code points but 6 bytes: within maxLength 4 */
    bg_assert_result r =
        eval_text(people_schema, "{\"items\": [{\"name\": \"Zo\u00eb\u00e9\"}]}");
    ck_pass(r, "answer matches the schema");
    r = eval_text(people_schema, "{\"items\": [{\"name\": \"Zo\u00eb\u00e9s\"}]}");
    ck_fail(r, "$.items[0].name: length 5 is greater than maxLength 4");
    r = eval_text(people_schema, "{\"items\": [{\"name\": \"\"}]}");
    ck_fail(r, "$.items[0].name: length 0 is less than minLength 1");
}
END_TEST

START_TEST(json_schema_negation_and_additional_schema)
{
    const char *s = "{\"type\": \"not-json-schema\", \"value\": {\"type\": \"object\","
                    " \"additionalProperties\": {\"type\": \"number\"}}}";
    bg_assert_result r = eval_text(s, "{\"a\": 1, \"b\": 2}");
    ck_fail(r, "not-json-schema: answer matches the schema");
    r = eval_text(s, "{\"a\": 1, \"b\": \"x\"}");
    ck_pass(r, "$.b: expected number, got string");
}
END_TEST

START_TEST(json_schema_rejects_unsupported_keywords_at_parse)
{
    parse_fails("{\"type\": \"json-schema\", \"value\": {\"type\": \"object\", \"properties\": "
                "{\"name\": {\"type\": \"string\", \"pattern\": \"^a\"}}}}",
                "assert[2].value.properties.name: unsupported schema keyword \"pattern\" "
                "(supported: type, properties, required, enum, items, minimum, maximum, "
                "minLength, maxLength, additionalProperties)");
    parse_fails("{\"type\": \"json-schema\", \"value\": {\"type\": \"int\"}}",
                "assert[2].value.type: unknown type \"int\" (expected string, number, integer, "
                "boolean, object, array or null)");
    parse_fails("{\"type\": \"json-schema\", \"value\": {\"items\": [{}]}}",
                "assert[2].value.items: expected a schema object, got an array");
    parse_fails("{\"type\": \"json-schema\", \"value\": {\"minLength\": -1}}",
                "assert[2].value.minLength: expected an integer from 0 to 100000000, got "
                "another number");
    parse_fails("{\"type\": \"json-schema\", \"value\": {\"required\": [1]}}",
                "assert[2].value.required: expected an array of strings, found a number");
    parse_fails("{\"type\": \"json-schema\", \"value\": \"object\"}",
                "assert[2].value: expected a schema object, got a string");
    parse_fails("{\"type\": \"json-schema\"}",
                "assert[2].value: missing (a schema object is required)");
    /* annotations are accepted */
    bg_assertion a;
    parse_ok(&a, "{\"type\": \"json-schema\", \"value\": {\"title\": \"t\", \"description\": "
                 "\"d\", \"type\": \"object\"}}");
    bg_assertion_dispose(&a);
}
END_TEST

START_TEST(json_path_follows_keys_and_indexes)
{
    const char *answer = "{\"a\": {\"b\": [{\"c\": 1}, {\"c\": 42.0, \"d\": [true, null]}]}}";
    bg_assert_result r =
        eval_text("{\"type\": \"json-path\", \"path\": \"$.a.b[1].c\", \"value\": 42}", answer);
    ck_pass(r, "$.a.b[1].c equals 42");
    r = eval_text("{\"type\": \"json-path\", \"path\": \"a.b[1].d[1]\", \"value\": null}", answer);
    ck_pass(r, "a.b[1].d[1] equals null");
    r = eval_text("{\"type\": \"json-path\", \"path\": \"a.b[0]\", \"value\": {\"c\": 1}}", answer);
    ck_pass(r, "a.b[0] equals {\"c\":1}");
    r = eval_text("{\"type\": \"json-path\", \"path\": \"$[1]\", \"value\": \"x\"}", "[0, \"x\"]");
    ck_pass(r, "$[1] equals \"x\"");
    r = eval_text("{\"type\": \"json-path\", \"path\": \"$\", \"value\": {\"y\": [1], \"x\": 2}}",
                  "{\"x\": 2, \"y\": [1.0]}");
    ck_pass(r, "$ equals {\"y\":[1],\"x\":2}");
}
END_TEST

START_TEST(json_path_fails_with_where_the_walk_stopped)
{
    const char *answer = "{\"a\": {\"b\": [1, 2]}}";
    bg_assert_result r =
        eval_text("{\"type\": \"json-path\", \"path\": \"a.b[5]\", \"value\": 1}", answer);
    ck_fail(r, "$.a.b[5]: not found (array has 2 items)");
    r = eval_text("{\"type\": \"json-path\", \"path\": \"a.x.y\", \"value\": 1}", answer);
    ck_fail(r, "$.a: no member \"x\"");
    r = eval_text("{\"type\": \"json-path\", \"path\": \"a.b.c\", \"value\": 1}", answer);
    ck_fail(r, "$.a.b: is an array, not an object");
    r = eval_text("{\"type\": \"json-path\", \"path\": \"a.b[1]\", \"value\": \"2\"}", answer);
    ck_fail(r, "a.b[1]: expected \"2\", got 2");
    r = eval_text("{\"type\": \"not-json-path\", \"path\": \"a.b[1]\", \"value\": 2}", answer);
    ck_fail(r, "not-json-path: a.b[1] equals 2");
    r = eval_text("{\"type\": \"not-json-path\", \"path\": \"a.b[1]\", \"value\": 3}", answer);
    ck_pass(r, "a.b[1] is 2, not 3");
}
END_TEST

START_TEST(json_path_syntax_errors_at_parse)
{
    parse_fails("{\"type\": \"json-path\", \"path\": \"a..b\", \"value\": 1}",
                "assert[2].path: empty key at offset 2");
    parse_fails("{\"type\": \"json-path\", \"path\": \"a[x]\", \"value\": 1}",
                "assert[2].path: expected an index like [0] at offset 1");
    parse_fails("{\"type\": \"json-path\", \"path\": \"$a\", \"value\": 1}",
                "assert[2].path: expected '.' or '[' at offset 1");
    parse_fails("{\"type\": \"json-path\", \"value\": 1}",
                "assert[2].path: missing (a string is required)");
    parse_fails("{\"type\": \"json-path\", \"path\": \"a\"}",
                "assert[2].value: missing (the expected JSON value)");
    parse_fails("{\"type\": \"json-path\", \"path\": \"\", \"value\": 1}",
                "assert[2].path: must not be empty (use \"$\" for the root)");
}
END_TEST

/* ---------------------------------------------------------------- levenshtein */

START_TEST(levenshtein_counts_code_points)
{
    const char *lev = "{\"type\": \"levenshtein\", \"value\": \"h\u00e9llo world\", \"threshold\": 1}";
    bg_assert_result r = eval_text(lev, "hello world");
    ck_pass(r, "levenshtein distance 1 <= 1 to 'h\xC3\xA9llo world'");
    ck_assert_double_eq_tol(r.score, 1.0 - 1.0 / 11.0, 1e-9);
    r = eval_text("{\"type\": \"levenshtein\", \"value\": \"hello world\", \"threshold\": 3}",
                  "goodbye world");
    ck_fail(r, "levenshtein distance 7 > 3 to 'hello world'");
    ck_assert_double_eq_tol(r.score, 1.0 - 7.0 / 13.0, 1e-9);
    r = eval_text("{\"type\": \"not-levenshtein\", \"value\": \"hello\", \"threshold\": 1}",
                  "hello");
    ck_fail(r, "not-levenshtein: levenshtein distance 0 <= 1 to 'hello'");
    r = eval_text("{\"type\": \"levenshtein\", \"value\": \"\", \"threshold\": 0}", "");
    ck_pass(r, "levenshtein distance 0 <= 0 to ''");
    ck_assert_double_eq(r.score, 1);
}
END_TEST

START_TEST(levenshtein_requires_integer_threshold)
{
    parse_fails("{\"type\": \"levenshtein\", \"value\": \"x\"}",
                "assert[2].threshold: missing (an integer is required)");
    parse_fails("{\"type\": \"levenshtein\", \"value\": \"x\", \"threshold\": 1.5}",
                "assert[2].threshold: expected an integer from 0 to 1048576, got another number");
    parse_fails("{\"type\": \"levenshtein\", \"value\": 1, \"threshold\": 1}",
                "assert[2].value: expected a string, got a number");
}
END_TEST

static size_t naive_lev(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b), d[40][40];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

START_TEST(levenshtein_band_agrees_with_full_matrix)
{
    srand(7);
    for (int t = 0; t < 2000; t++) {
        char a[32], b[32];
        size_t n = (size_t)(rand() % 30), m = (size_t)(rand() % 30);
        for (size_t i = 0; i < n; i++)
            a[i] = (char)('a' + rand() % 3);
        for (size_t i = 0; i < m; i++)
            b[i] = (char)('a' + rand() % 3);
        a[n] = b[m] = '\0';
        size_t want = naive_lev(a, b), band = (size_t)(rand() % 12);
        bool ok = false;
        size_t got = bg_assert_levenshtein(a, n, b, m, band, &ok);
        ck_assert(ok);
        if (want <= band)
            ck_assert_msg(got == want, "'%s' vs '%s' band %zu: got %zu want %zu", a, b, band, got,
                          want);
        else
            ck_assert_msg(got == band + 1, "'%s' vs '%s' band %zu: got %zu want > band", a, b,
                          band, got);
        ck_assert_uint_eq(bg_assert_levenshtein(a, n, b, m, SIZE_MAX, &ok), want);
    }
}
END_TEST

START_TEST(levenshtein_long_answer_is_bounded)
{
    size_t n = BG_MAX_ANSWER;
    char *answer = malloc(n + 1);
    ck_assert_ptr_nonnull(answer);
    memset(answer, 'x', n);
    answer[n] = '\0';
    char json[600] = "{\"type\": \"levenshtein\", \"threshold\": 3, \"value\": \"";
    size_t l = strlen(json);
    memset(json + l, 'y', 400);
    bg_strlcpy(json + l + 400, "\"}", sizeof json - l - 400);
    bg_assert_result r = eval_text(json, answer);
    ck_assert(!r.pass && !r.error);
    ck_assert_msg(strncmp(r.reason, "levenshtein distance >= 1048176 > 3 to 'yyy", 43) == 0, "%s",
                  r.reason);
    free(answer);
}
END_TEST

/* {"type": "levenshtein", "threshold": k, "value": "<n times c>"} */
static char *lev_json(size_t n, char c, long k)
{
    char *json = malloc(n + 100);
    ck_assert_ptr_nonnull(json);
    int l = snprintf(json, 100, "{\"type\": \"levenshtein\", \"threshold\": %ld, \"value\": \"", k);
    memset(json + l, c, n);
    bg_strlcpy(json + (size_t)l + n, "\"}", 3);
    return json;
}

START_TEST(levenshtein_large_inputs_use_the_band_or_refuse)
{
    size_t n = 200000;
    char *answer = malloc(n + 1);
    ck_assert_ptr_nonnull(answer);
    memset(answer, 'x', n);
    answer[n] = '\0';
    answer[100] = 'y';
    char *json = lev_json(n - 2, 'x', 5); /* too big for the full matrix: banded */
    bg_assert_result r = eval_text(json, answer);
    ck_pass(r, "levenshtein distance 2 <= 5 to 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xE2\x80\xA6'");
    free(json);
    json = lev_json(n - 2, 'z', 5);
    r = eval_text(json, answer);
    ck_fail(r, "levenshtein distance >= 6 > 5 to 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\xE2\x80\xA6'");
    free(json);
    json = lev_json(n, 'x', 100000);
    r = eval_text(json, answer);
    ck_error(r, "levenshtein: too much work for 200000 x 200000 code points with threshold 100000");
    free(json);
    free(answer);
}
END_TEST

/* ---------------------------------------------------------------- similar */

START_TEST(similar_uses_cosine_of_embeddings)
{
    const char *sim = "{\"type\": \"similar\", \"value\": \"a cat\"}";
    double x[3] = {1, 0, 0}, y[3] = {1, 1, 0}, z[3] = {0, 0, 2};
    bg_assert_input in = input_text("a kitten");
    in.emb_answer = x;
    in.emb_expected = x;
    in.emb_dim = 3;
    bg_assert_result r = eval_in(sim, &in);
    ck_pass(r, "cosine 1.00 >= 0.80");
    ck_assert_double_eq_tol(r.score, 1.0, 1e-12);
    in.emb_expected = y;
    r = eval_in(sim, &in);
    ck_fail(r, "cosine 0.71 < 0.80");
    ck_assert_double_eq_tol(r.score, 0.70710678, 1e-6);
    r = eval_in("{\"type\": \"similar\", \"value\": \"a cat\", \"threshold\": 0.7}", &in);
    ck_pass(r, "cosine 0.71 >= 0.70");
    in.emb_expected = z;
    r = eval_in("{\"type\": \"not-similar\", \"value\": \"a cat\"}", &in);
    ck_pass(r, "cosine 0.00 < 0.80");
    in.emb_expected = x;
    r = eval_in("{\"type\": \"not-similar\", \"value\": \"a cat\"}", &in);
    ck_fail(r, "not-similar: cosine 1.00 >= 0.80");
}
END_TEST

START_TEST(similar_without_embeddings_is_an_error)
{
    bg_assert_input in = input_text("x");
    in.aux_error = "embeddings endpoint: HTTP 503";
    bg_assert_result r = eval_in("{\"type\": \"similar\", \"value\": \"a\"}", &in);
    ck_error(r, "embeddings unavailable: embeddings endpoint: HTTP 503");
    r = eval_in("{\"type\": \"not-similar\", \"value\": \"a\"}", &in);
    ck_error(r, "embeddings unavailable: embeddings endpoint: HTTP 503");
    double zero[2] = {0, 0}, one[2] = {1, 0};
    in.emb_answer = zero;
    in.emb_expected = one;
    in.emb_dim = 2;
    r = eval_in("{\"type\": \"similar\", \"value\": \"a\"}", &in);
    ck_error(r, "embeddings unusable: zero or non-finite vector (dim 2)");
    parse_fails("{\"type\": \"similar\", \"value\": \"a\", \"threshold\": 1.5}",
                "assert[2].threshold: must be between 0 and 1, got 1.5");
}
END_TEST

/* ---------------------------------------------------------------- llm-rubric */

static bg_assert_result judge(const char *json, const char *reply)
{
    bg_assert_input in = input_text("the answer");
    in.judge_reply = reply;
    return eval_in(json, &in);
}

START_TEST(llm_rubric_follows_the_judge)
{
    const char *rub = "{\"type\": \"llm-rubric\", \"value\": \"is polite\"}";
    bg_assert_result r =
        judge(rub, "{\"pass\": true, \"score\": 0.9, \"reason\": \"polite and clear\"}");
    ck_pass(r, "judge: pass (score 0.9): polite and clear");
    ck_assert_double_eq(r.score, 0.9);
    r = judge(rub, "{\"pass\": false, \"score\": 0.2, \"reason\": \"answer is\\nrude\"}");
    ck_fail(r, "judge: fail (score 0.2): answer is rude");
    ck_assert_double_eq(r.score, 0.2);
    r = judge("{\"type\": \"llm-rubric\", \"value\": \"is polite\", \"threshold\": 0.7}",
              "{\"pass\": true, \"score\": 0.6, \"reason\": \"ok\"}");
    ck_fail(r, "judge: pass but score 0.6 < 0.7: ok");
}
END_TEST

START_TEST(llm_rubric_tolerates_fences_and_prose)
{
    const char *rub = "{\"type\": \"llm-rubric\", \"value\": \"is polite\"}";
    bg_assert_result r =
        judge(rub, "```json\n{\"pass\": true, \"score\": 1, \"reason\": \"fine\"}\n```");
    ck_pass(r, "judge: pass (score 1): fine");
    r = judge(rub, "Here is my verdict {not json} and then: {\"pass\": true, \"score\": 0.5, "
                   "\"reason\": \"has } brace\"} hope it helps");
    ck_pass(r, "judge: pass (score 0.5): has } brace");
}
END_TEST

START_TEST(llm_rubric_malformed_reply_is_an_error)
{
    const char *rub = "{\"type\": \"llm-rubric\", \"value\": \"is polite\"}";
    bg_assert_result r = judge(rub, "I think it is good");
    ck_error(r, "judge reply malformed: no JSON object in 'I think it is good'");
    r = judge(rub, "{\"score\": 0.5, \"reason\": \"x\"}");
    ck_error(r, "judge reply malformed: \"pass\" is missing");
    r = judge(rub, "{\"pass\": \"yes\", \"score\": 0.5, \"reason\": \"x\"}");
    ck_error(r, "judge reply malformed: \"pass\" is a string, not true or false");
    r = judge(rub, "{\"pass\": true, \"score\": \"0.5\", \"reason\": \"x\"}");
    ck_error(r, "judge reply malformed: \"score\" is a string, not a number");
    r = judge(rub, "{\"pass\": true, \"score\": 7, \"reason\": \"x\"}");
    ck_error(r, "judge reply malformed: \"score\" 7 is outside 0..1");
    r = judge(rub, "{\"pass\": true, \"score\": 0.5}");
    ck_error(r, "judge reply malformed: \"reason\" is missing");
    ck_assert_double_eq(r.score, 0);
    bg_assert_input in = input_text("x");
    in.aux_error = "judge endpoint timed out";
    r = eval_in(rub, &in);
    ck_error(r, "judge unavailable: judge endpoint timed out");
}
END_TEST

START_TEST(llm_rubric_parse_errors)
{
    parse_fails("{\"type\": \"llm-rubric\", \"value\": \"\"}",
                "assert[2].value: the rubric must not be empty");
    parse_fails("{\"type\": \"llm-rubric\"}", "assert[2].value: missing (a string is required)");
    parse_fails("{\"type\": \"llm-rubric\", \"value\": \"x\", \"threshold\": 2}",
                "assert[2].threshold: must be between 0 and 1, got 2");
}
END_TEST

START_TEST(judge_prompt_contains_rubric_and_answer)
{
    bg_assertion a;
    parse_ok(&a, "{\"type\": \"llm-rubric\", \"value\": \"Answers in French\"}");
    ck_assert_str_eq(a.rubric, "Answers in French");
    const char *answer = "Bonjour\nle monde";
    char *p = bg_assert_judge_prompt(&a, answer, strlen(answer));
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(strstr(p, "<rubric>\nAnswers in French\n</rubric>"));
    ck_assert_ptr_nonnull(strstr(p, "<answer>\nBonjour\nle monde\n</answer>"));
    ck_assert_ptr_nonnull(strstr(p, "Reply with only a JSON object {\"pass\": true|false, "
                                    "\"score\": 0..1, \"reason\": \"...\"}"));
    ck_assert(strstr(p, "<rubric>") < strstr(p, "<answer>"));
    free(p);
    /* the answer length is honoured, not strlen */
    p = bg_assert_judge_prompt(&a, "abcdef", 3);
    ck_assert_ptr_nonnull(strstr(p, "<answer>\nabc\n</answer>"));
    free(p);
    bg_assertion_dispose(&a);
}
END_TEST

/* ---------------------------------------------------------------- measured kinds */

START_TEST(finish_reason_compares_and_unknown_fails_both_forms)
{
    bg_assert_input in = input_text("x");
    in.finish_reason = "stop";
    bg_assert_result r = eval_in("{\"type\": \"finish-reason\", \"value\": \"stop\"}", &in);
    ck_pass(r, "finish reason 'stop'");
    in.finish_reason = "length";
    r = eval_in("{\"type\": \"finish-reason\", \"value\": \"stop\"}", &in);
    ck_fail(r, "expected finish reason 'stop'; got 'length'");
    r = eval_in("{\"type\": \"not-finish-reason\", \"value\": \"length\"}", &in);
    ck_fail(r, "not-finish-reason: finish reason is 'length'");
    r = eval_in("{\"type\": \"not-finish-reason\", \"value\": \"stop\"}", &in);
    ck_pass(r, "finish reason 'length', not 'stop'");
    in.finish_reason = NULL;
    r = eval_in("{\"type\": \"finish-reason\", \"value\": \"stop\"}", &in);
    ck_fail(r, "finish reason unknown (the server reported none); expected 'stop'");
    r = eval_in("{\"type\": \"not-finish-reason\", \"value\": \"length\"}", &in);
    ck_fail(r, "finish reason unknown (the server reported none); expected not 'length'");
}
END_TEST

START_TEST(token_limits_compare_completion_tokens)
{
    bg_assert_input in = input_text("x");
    in.completion_tokens = 812;
    bg_assert_result r = eval_in("{\"type\": \"max-tokens\", \"value\": 500}", &in);
    ck_fail(r, "completion tokens 812 > max 500");
    r = eval_in("{\"type\": \"max-tokens\", \"value\": 812}", &in);
    ck_pass(r, "completion tokens 812 <= max 812");
    r = eval_in("{\"type\": \"min-tokens\", \"value\": 10}", &in);
    ck_pass(r, "completion tokens 812 >= min 10");
    r = eval_in("{\"type\": \"min-tokens\", \"value\": 1000}", &in);
    ck_fail(r, "completion tokens 812 < min 1000");
    in.completion_tokens = -1;
    r = eval_in("{\"type\": \"max-tokens\", \"value\": 500}", &in);
    ck_error(r, "completion token count unknown (the server reported no usage)");
    parse_fails("{\"type\": \"max-tokens\", \"value\": \"10\"}",
                "assert[2].value: expected an integer from 0 to 100000000, got a string");
    parse_fails("{\"type\": \"min-tokens\", \"value\": 2.5}",
                "assert[2].value: expected an integer from 0 to 100000000, got another number");
}
END_TEST

START_TEST(latency_checks_e2e_and_ttft)
{
    bg_assert_input in = input_text("x");
    in.e2e_ms = 812.4;
    bg_assert_result r = eval_in("{\"type\": \"latency\", \"threshold\": 500}", &in);
    ck_fail(r, "e2e 812 ms > 500 ms");
    r = eval_in("{\"type\": \"latency\", \"value\": 1000}", &in);
    ck_pass(r, "e2e 812 ms <= 1000 ms");
    r = eval_in("{\"type\": \"latency\", \"threshold\": 300, \"metric\": \"ttft\"}", &in);
    ck_error(r, "ttft not measured (case not streamed)");
    in.ttft_ms = 120;
    r = eval_in("{\"type\": \"latency\", \"threshold\": 300, \"metric\": \"ttft\"}", &in);
    ck_pass(r, "ttft 120 ms <= 300 ms");
    bg_assertion a;
    parse_ok(&a, "{\"type\": \"latency\", \"threshold\": 250}");
    ck_assert_str_eq(a.metric, "e2e");
    ck_assert(a.has_threshold);
    ck_assert_double_eq(a.threshold, 250);
    bg_assertion_dispose(&a);
}
END_TEST

START_TEST(latency_parse_errors)
{
    parse_fails("{\"type\": \"latency\", \"threshold\": 300, \"metric\": \"p95\"}",
                "assert[2].metric: expected \"e2e\" or \"ttft\", got \"p95\"");
    parse_fails("{\"type\": \"latency\"}", "assert[2].threshold: missing (the max latency in ms)");
    parse_fails("{\"type\": \"latency\", \"threshold\": 300, \"value\": 300}",
                "assert[2]: give the max latency in \"threshold\" or \"value\", not both");
    parse_fails("{\"type\": \"latency\", \"threshold\": 0}",
                "assert[2].threshold: must be between 1 and 1e+09, got 0");
}
END_TEST

/* ---------------------------------------------------------------- reasons */

START_TEST(reason_excerpts_cut_on_code_point_boundary)
{
    /* 2-byte and 3-byte characters in both the value and the answer */
    char answer[1024] = "";
    for (int i = 0; i < 150; i++)
        bg_strlcpy(answer + strlen(answer), i % 2 ? "\xC3\xA9" : "\xE2\x82\xAC",
                   sizeof answer - strlen(answer));
    char json[1024] = "{\"type\": \"contains\", \"value\": \"";
    for (int i = 0; i < 60; i++)
        bg_strlcpy(json + strlen(json), "\xE2\x82\xACx", sizeof json - strlen(json));
    bg_strlcpy(json + strlen(json), "\"}", sizeof json - strlen(json));
    bg_assert_result r = eval_text(json, answer); /* check_reason validates the UTF-8 */
    ck_assert(!r.pass);
    ck_assert_ptr_nonnull(strstr(r.reason, "\xE2\x80\xA6'; got '\xE2\x82\xAC\xC3\xA9"));
    ck_assert(bg_str_ends_with(r.reason, "\xE2\x80\xA6'"));
    /* a judge reason long enough to overflow the reason buffer */
    char reply[2048] = "{\"pass\": false, \"score\": 0.1, \"reason\": \"";
    for (int i = 0; i < 300; i++)
        bg_strlcpy(reply + strlen(reply), "\xE2\x82\xAC", sizeof reply - strlen(reply));
    bg_strlcpy(reply + strlen(reply), "\"}", sizeof reply - strlen(reply));
    r = judge("{\"type\": \"llm-rubric\", \"value\": \"x\"}", reply);
    ck_assert(!r.pass && !r.error);
    ck_assert(bg_str_starts_with(r.reason, "judge: fail (score 0.1): \xE2\x82\xAC"));
}
END_TEST

START_TEST(eval_survives_null_text_and_bad_kind)
{
    bg_assert_input in = input_text(NULL);
    in.text_len = 5; /* ignored with NULL text */
    bg_assert_result r = eval_in("{\"type\": \"contains\", \"value\": \"x\"}", &in);
    ck_fail(r, "expected to contain 'x'; got ''");
    bg_assertion bad;
    memset(&bad, 0, sizeof bad);
    bad.kind = BG_ASSERT__COUNT;
    bg_assert_eval(&bad, &in, &r);
    ck_assert(r.error && !r.pass);
    check_reason(&r);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("assert");
    TCase *p = tcase_create("parse");
    tcase_add_test(p, parse_suggests_closest_type);
    tcase_add_test(p, parse_lists_known_types_without_close_match);
    tcase_add_test(p, parse_rejects_negating_unnegatable_kinds);
    tcase_add_test(p, parse_rejects_unknown_member_with_suggestion);
    tcase_add_test(p, parse_rejects_member_the_kind_does_not_use);
    tcase_add_test(p, parse_rejects_missing_type_and_non_objects);
    tcase_add_test(p, parse_weight_defaults_to_one_and_rejects_negative);
    tcase_add_test(p, parse_pins_value_type_errors);
    tcase_add_test(p, dispose_is_null_safe_and_idempotent);
    tcase_add_test(p, kind_queries_name_and_needs);
    suite_add_tcase(s, p);

    TCase *t = tcase_create("text");
    tcase_add_test(t, equals_is_exact);
    tcase_add_test(t, contains_passes_with_offset);
    tcase_add_test(t, contains_fails_with_excerpt_in_reason);
    tcase_add_test(t, not_contains_reports_where_it_found_the_value);
    tcase_add_test(t, icontains_ignores_ascii_case);
    tcase_add_test(t, starts_with_checks_the_prefix);
    tcase_add_test(t, contains_any_and_all);
    tcase_add_test(t, contains_any_long_list_is_cut_in_reason);
    tcase_add_test(t, regex_matches_in_utf8_mode);
    tcase_add_test(t, regex_compile_error_names_offset);
    tcase_add_test(t, regex_catastrophic_pattern_finishes);
    tcase_add_test(t, reason_excerpts_cut_on_code_point_boundary);
    tcase_add_test(t, eval_survives_null_text_and_bad_kind);
    suite_add_tcase(s, t);

    TCase *j = tcase_create("json");
    tcase_add_test(j, is_json_accepts_fenced_and_scalar_json);
    tcase_add_test(j, is_json_fails_with_parse_position);
    tcase_add_test(j, json_schema_passes_valid_answer);
    tcase_add_test(j, json_schema_names_path_of_first_violation);
    tcase_add_test(j, json_schema_counts_string_length_in_code_points);
    tcase_add_test(j, json_schema_negation_and_additional_schema);
    tcase_add_test(j, json_schema_rejects_unsupported_keywords_at_parse);
    tcase_add_test(j, json_path_follows_keys_and_indexes);
    tcase_add_test(j, json_path_fails_with_where_the_walk_stopped);
    tcase_add_test(j, json_path_syntax_errors_at_parse);
    suite_add_tcase(s, j);

    TCase *c = tcase_create("scored");
    tcase_set_timeout(c, 30);
    tcase_add_test(c, levenshtein_counts_code_points);
    tcase_add_test(c, levenshtein_requires_integer_threshold);
    tcase_add_test(c, levenshtein_band_agrees_with_full_matrix);
    tcase_add_test(c, levenshtein_long_answer_is_bounded);
    tcase_add_test(c, levenshtein_large_inputs_use_the_band_or_refuse);
    tcase_add_test(c, similar_uses_cosine_of_embeddings);
    tcase_add_test(c, similar_without_embeddings_is_an_error);
    tcase_add_test(c, llm_rubric_follows_the_judge);
    tcase_add_test(c, llm_rubric_tolerates_fences_and_prose);
    tcase_add_test(c, llm_rubric_malformed_reply_is_an_error);
    tcase_add_test(c, llm_rubric_parse_errors);
    tcase_add_test(c, judge_prompt_contains_rubric_and_answer);
    tcase_add_test(c, finish_reason_compares_and_unknown_fails_both_forms);
    tcase_add_test(c, token_limits_compare_completion_tokens);
    tcase_add_test(c, latency_checks_e2e_and_ttft);
    tcase_add_test(c, latency_parse_errors);
    suite_add_tcase(s, c);
    return s;
}

BG_CHECK_MAIN()
