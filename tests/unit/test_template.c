/* test_template.c — template rendering: placeholders (dotted paths, indexes, JSON values,
 * literal braces), JSON escaping that survives a parse round-trip, text vs JSON templates,
 * system templates, and the exact errors users see ("case \"x\": template \"qa\": …").
 * Releases are built by hand (no git needed). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/suite.h"
#include "bggate/template.h"
#include "bggate/util.h"

#define RELEASE_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A release holding the given templates: {name, path, data} triples, sorted by name. */
static bg_release *make_release(const char *const (*tpl)[3], size_t n)
{
    bg_release *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    bg_strlcpy(r->id, RELEASE_ID, sizeof r->id);
    r->templates = calloc(n ? n : 1, sizeof *r->templates);
    ck_assert_ptr_nonnull(r->templates);
    for (size_t i = 0; i < n; i++) {
        r->templates[i].name = bg_strdup(tpl[i][0]);
        r->templates[i].path = bg_strdup(tpl[i][1]);
        r->templates[i].data = bg_strdup(tpl[i][2]);
        r->templates[i].size = strlen(tpl[i][2]);
    }
    r->n_templates = n;
    return r;
}

/* A release with one template "qa" at prompts/qa.<ext> and a text "system". */
static bg_release *release_with(const char *qa_text)
{
    int json = qa_text[strspn(qa_text, " \t\r\n")] == '[';
    const char *const tpl[][3] = {
        {"qa", json ? "prompts/qa.json" : "prompts/qa.txt", qa_text},
        {"system", "prompts/system.txt", "You are {{bot}}, the Acme support assistant.\n"},
    };
    return make_release(tpl, 2);
}

/* A template case as the suite parser leaves it. vars/body are JSON text (may be NULL). */
static bg_case make_case(const char *id, const char *tmpl, const char *vars, const char *body)
{
    bg_case c;
    memset(&c, 0, sizeof c);
    c.id = bg_strdup(id);
    c.line = 1;
    c.is_chat = true;
    c.template_name = bg_strdup(tmpl);
    c.vars = vars ? cJSON_Parse(vars) : NULL;
    c.body = cJSON_Parse(body ? body : "{}");
    ck_assert_ptr_nonnull(c.body);
    if (vars)
        ck_assert_ptr_nonnull(c.vars);
    return c;
}

static void case_dispose(bg_case *c)
{
    free(c->id);
    free(c->template_name);
    free(c->system_template);
    cJSON_Delete(c->vars);
    cJSON_Delete(c->body);
}

/* Renders text with vars (JSON text), asserting success; returns the owned result. */
static char *render(const char *text, const char *vars_json, int escape_json)
{
    cJSON *vars = vars_json ? cJSON_Parse(vars_json) : NULL;
    char *out = NULL;
    bg_error err;
    bg_error_clear(&err);
    int rc = bg_template_render_text(&out, text, strlen(text), vars, escape_json, &err);
    ck_assert_msg(rc == 0, "render failed: %s", err.msg);
    ck_assert_ptr_nonnull(out);
    cJSON_Delete(vars);
    return out;
}

static void expect_render(const char *text, const char *vars, int escape_json, const char *want)
{
    char *got = render(text, vars, escape_json);
    ck_assert_str_eq(got, want);
    free(got);
}

/* Asserts that rendering text fails with code and exactly msg. */
static void expect_render_error(const char *text, const char *vars_json, int code,
                                const char *msg)
{
    cJSON *vars = vars_json ? cJSON_Parse(vars_json) : NULL;
    char *out = NULL;
    bg_error err;
    bg_error_clear(&err);
    int rc = bg_template_render_text(&out, text, strlen(text), vars, 0, &err);
    ck_assert_int_eq(rc, code);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err.msg, msg);
    cJSON_Delete(vars);
}

/* The case's rendered messages (asserted to exist). */
static const cJSON *messages(const bg_case *c)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(c->body, "messages");
    ck_assert_msg(cJSON_IsArray(m), "body has no messages array");
    return m;
}

static void expect_message(const cJSON *msgs, int i, const char *role, const char *content)
{
    const cJSON *m = cJSON_GetArrayItem(msgs, i);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring, role);
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(m, "content");
    ck_assert_msg(cJSON_IsString(ct), "message %d content is not a string", i);
    ck_assert_str_eq(ct->valuestring, content);
}

/* Renders case c of release rel and asserts it fails with exactly msg, leaving the body
 * as it was. */
static void expect_case_error(bg_case *c, const bg_release *rel, const char *msg)
{
    char *before = bg_json_print(c->body);
    bg_error err;
    bg_error_clear(&err);
    ck_assert_int_eq(bg_template_render_case(c, rel, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, msg);
    char *after = bg_json_print(c->body);
    ck_assert_str_eq(after, before);
    free(before);
    free(after);
}

static void render_ok(bg_case *c, const bg_release *rel)
{
    bg_error err;
    bg_error_clear(&err);
    int rc = bg_template_render_case(c, rel, &err);
    ck_assert_msg(rc == 0, "render_case failed: %s", err.msg);
}

/* ------------------------------------------------------------ placeholders */

START_TEST(placeholders_allow_optional_spaces)
{
    expect_render("Hi {{name}}, {{ name }} and {{\tname  }}.", "{\"name\": \"Ana\"}", 0,
                  "Hi Ana, Ana and Ana.");
    expect_render("no placeholders at all", NULL, 0, "no placeholders at all");
    expect_render("", NULL, 0, "");
}
END_TEST

START_TEST(dotted_paths_and_array_indexes_reach_nested_values)
{
    const char *vars = "{\"user\": {\"name\": \"Ana\", \"address\": {\"city\": \"Lyon\"}},"
                       " \"items\": [{\"sku\": \"AC-1\", \"qty\": 2}, {\"sku\": \"AC-2\", \"qty\": 5}],"
                       " \"matrix\": [[1, 2], [3, 4]], \"a.b\": \"dotted key\"}";
    expect_render("{{user.name}} from {{ user.address.city }}", vars, 0, "Ana from Lyon");
    expect_render("{{items.0.sku}} x{{items.0.qty}}, {{items.1.sku}} x{{items.1.qty}}", vars, 0,
                  "AC-1 x2, AC-2 x5");
    expect_render("{{matrix.1.0}}", vars, 0, "3");
}
END_TEST

START_TEST(numbers_bools_null_objects_and_arrays_substitute_as_json)
{
    const char *vars = "{\"i\": 42, \"neg\": -7, \"f\": 2.5, \"whole\": 3.0, \"big\": 1e20,"
                       " \"t\": true, \"fl\": false, \"nul\": null,"
                       " \"obj\": {\"a\": [1, \"x\"], \"b\": {}}, \"arr\": [1, 2.5, \"s\"]}";
    expect_render("{{i}} {{neg}} {{f}} {{whole}} {{big}}", vars, 0, "42 -7 2.5 3 1e+20");
    expect_render("{{t}} {{fl}} {{nul}}", vars, 0, "true false null");
    expect_render("{{obj}} {{arr}}", vars, 0, "{\"a\":[1,\"x\"],\"b\":{}} [1,2.5,\"s\"]");
}
END_TEST

START_TEST(quadruple_brace_renders_a_literal_double_brace)
{
    expect_render("{{{{name}} is {{name}}", "{\"name\": \"Bob\"}", 0, "{{name}} is Bob");
    expect_render("a {{{{ b", NULL, 0, "a {{ b");
    expect_render("single { and } and }} stay", NULL, 0, "single { and } and }} stay");
}
END_TEST

START_TEST(json_escaping_is_exact)
{
    /* The value lands inside a JSON string: every character that needs it is escaped. */
    expect_render("\"{{v}}\"", "{\"v\": \"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001fh\\bi\\fj/é\"}",
                  1, "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001fh\\bi\\fj/é\"");
    /* Non-strings are escaped too, since their JSON text contains quotes. */
    expect_render("\"{{o}}\"", "{\"o\": {\"k\": \"v\"}}", 1, "\"{\\\"k\\\":\\\"v\\\"}\"");
    /* Template text itself is never escaped. */
    expect_render("[\"{{n}}\"]\n", "{\"n\": 1}", 1, "[\"1\"]\n");
}
END_TEST

/* ------------------------------------------------------------ render errors */

START_TEST(missing_variable_is_an_error_naming_it)
{
    const char *vars = "{\"user\": {\"name\": \"Ana\"}, \"items\": [{\"sku\": \"AC-1\"}]}";
    expect_render_error("Hi {{ user.email }}", vars, BG_EINVAL, "missing variable \"user.email\"");
    expect_render_error("{{items.5.sku}}", vars, BG_EINVAL, "missing variable \"items.5.sku\"");
    expect_render_error("{{items.x}}", vars, BG_EINVAL, "missing variable \"items.x\"");
    expect_render_error("{{user.name.first}}", vars, BG_EINVAL,
                        "missing variable \"user.name.first\"");
    expect_render_error("{{name}}", NULL, BG_EINVAL, "missing variable \"name\"");
}
END_TEST

START_TEST(unclosed_placeholder_is_an_error_with_offset)
{
    expect_render_error("Hello {{ name", "{\"name\": \"x\"}", BG_EINVAL,
                        "unclosed {{ at offset 6");
    expect_render_error("{{a}} and {{b }", "{\"a\": 1, \"b\": 2}", BG_EINVAL,
                        "unclosed {{ at offset 10");
}
END_TEST

START_TEST(empty_or_malformed_placeholder_is_an_error)
{
    expect_render_error("x {{}}", NULL, BG_EINVAL, "empty placeholder {{}} at offset 2");
    expect_render_error("{{   }}", NULL, BG_EINVAL, "empty placeholder {{}} at offset 0");
    expect_render_error("{{a..b}}", "{\"a\": {}}", BG_EINVAL,
                        "invalid placeholder \"{{a..b}}\" at offset 0");
    expect_render_error("{{ first name }}", NULL, BG_EINVAL,
                        "invalid placeholder \"{{ first name }}\" at offset 0");
    expect_render_error("{{{x}}}", NULL, BG_EINVAL, "invalid placeholder \"{{{x}}\" at offset 0");
}
END_TEST

START_TEST(output_past_the_cap_is_an_error)
{
    size_t n = BG_MAX_TEMPLATE_BYTES;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', n);
    big[n] = '\0';
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "v", big);
    free(big);
    char *out = NULL;
    bg_error err;
    const char *four = "{{v}}{{v}}{{v}}{{v}}";
    ck_assert_int_eq(bg_template_render_text(&out, four, strlen(four), vars, 0, &err), 0);
    ck_assert_uint_eq(strlen(out), 4 * n);
    free(out);
    const char *five = "{{v}}{{v}}{{v}}{{v}}!";
    ck_assert_int_eq(bg_template_render_text(&out, five, strlen(five), vars, 0, &err),
                     BG_ETOOBIG);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err.msg, "rendered text exceeds 4194304 bytes");
    cJSON_Delete(vars);
}
END_TEST

/* ------------------------------------------------------------ cases */

START_TEST(text_template_becomes_the_user_message)
{
    bg_release *rel = release_with("Where is order {{order.id}}, {{ name }}?\n");
    bg_case c = make_case("track", "qa", "{\"name\": \"Ana\", \"order\": {\"id\": \"AC-123456\"}}",
                          NULL);
    render_ok(&c, rel);
    const cJSON *msgs = messages(&c);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 1);
    /* the final newline of the file is dropped */
    expect_message(msgs, 0, "user", "Where is order AC-123456, Ana?");
    ck_assert(c.is_chat);
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

START_TEST(system_template_renders_a_system_message_first)
{
    bg_release *rel = release_with("Question: {{q}}\n\nAnswer briefly.\n");
    bg_case c = make_case("ask", "qa", "{\"q\": \"Refunds?\", \"bot\": \"Ada\"}", NULL);
    c.system_template = bg_strdup("system");
    render_ok(&c, rel);
    const cJSON *msgs = messages(&c);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 2);
    expect_message(msgs, 0, "system", "You are Ada, the Acme support assistant.");
    expect_message(msgs, 1, "user", "Question: Refunds?\n\nAnswer briefly.");
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

START_TEST(system_template_errors_name_the_template)
{
    bg_release *rel = release_with("Q: {{q}}");
    bg_case c = make_case("ask", "qa", "{\"q\": \"x\"}", NULL);
    c.system_template = bg_strdup("system");
    expect_case_error(&c, rel, "case \"ask\": template \"system\": missing variable \"bot\"");
    free(c.system_template);
    c.system_template = bg_strdup("sys");
    expect_case_error(&c, rel, "case \"ask\": no template \"sys\" in release 0123456789ab "
                               "(templates: qa, system)");
    case_dispose(&c);
    bg_release_free(rel);

    const char *const tpl[][3] = {
        {"chat", "prompts/chat.json", " [{\"role\": \"system\", \"content\": \"x\"}]"},
        {"qa", "prompts/qa.txt", "Q"},
    };
    rel = make_release(tpl, 2);
    c = make_case("ask", "qa", NULL, NULL);
    c.system_template = bg_strdup("chat");
    expect_case_error(&c, rel, "case \"ask\": system_template \"chat\" (prompts/chat.json) is a "
                               "JSON template; a system template must be text");
    free(c.template_name);
    c.template_name = bg_strdup("chat");
    free(c.system_template);
    c.system_template = bg_strdup("qa");
    expect_case_error(&c, rel, "case \"ask\": system_template: only allowed with a text "
                               "template (\"chat\" is a JSON template; put the system message "
                               "in it)");
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

START_TEST(json_template_renders_nested_vars_into_messages)
{
    bg_release *rel = release_with(
        "\n  [\n"
        "  {\"role\": \"system\", \"content\": \"You help {{customer.name}} (tier {{customer.tier}}).\"},\n"
        "  {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Status of {{items.0.sku}}? {{{{literal}}\"}]}\n"
        "]\n");
    bg_case c = make_case("status", "qa",
                          "{\"customer\": {\"name\": \"Ana\", \"tier\": 2}, \"items\": [{\"sku\": \"AC-9\"}]}",
                          NULL);
    render_ok(&c, rel);
    const cJSON *msgs = messages(&c);
    ck_assert_int_eq(cJSON_GetArraySize(msgs), 2);
    expect_message(msgs, 0, "system", "You help Ana (tier 2).");
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs, 1), "content");
    ck_assert(cJSON_IsArray(parts));
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(parts, 0), "text");
    ck_assert_str_eq(text->valuestring, "Status of AC-9? {{literal}}");
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

START_TEST(json_template_escaping_survives_a_round_trip)
{
    static const char *const values[] = {
        "He said \"hi\" and left",
        "C:\\path\\to\\file \\n is not a newline",
        "line one\nline two\r\n\ttabbed",
        "bell\x07 nul-free controls \x01\x1f\x7f end",
        "unicode: caf\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac, \xf0\x9f\x98\x80, \xe2\x80\xa8 sep",
        "</script><b>{\"json\": [1, 2]}</b> {{ not a placeholder after rendering",
        "",
    };
    bg_release *rel = release_with("[{\"role\": \"user\", \"content\": \"<<{{v}}>>\"}]");
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        cJSON *vars = cJSON_CreateObject();
        cJSON_AddStringToObject(vars, "v", values[i]);
        bg_case c = make_case("esc", "qa", NULL, NULL);
        c.vars = vars;
        render_ok(&c, rel);
        char want[512];
        snprintf(want, sizeof want, "<<%s>>", values[i]);
        expect_message(messages(&c), 0, "user", want);
        case_dispose(&c);
    }
    bg_release_free(rel);
}
END_TEST

START_TEST(json_template_substitutes_objects_as_escaped_json_text)
{
    bg_release *rel = release_with(
        "[{\"role\": \"user\", \"content\": \"Order: {{order}} n={{n}} ok={{ok}}\"}]");
    bg_case c = make_case("obj", "qa",
                          "{\"order\": {\"id\": \"AC-1\", \"lines\": [1, 2]}, \"n\": 2.0, \"ok\": true}",
                          NULL);
    render_ok(&c, rel);
    expect_message(messages(&c), 0, "user",
                   "Order: {\"id\":\"AC-1\",\"lines\":[1,2]} n=2 ok=true");
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

START_TEST(json_template_that_is_not_messages_after_rendering_is_an_error)
{
    static const char *const cases[][2] = {
        {"[{{msg}}]", "invalid JSON at offset 1 near 'hello]'"},
        {"[]", "the array is empty"},
        {"[\"hi\"]", "[0]: expected an object, got a string"},
        {"[{\"role\": \"user\", \"content\": \"a\"}, {\"content\": \"b\"}]",
         "[1].role: expected a non-empty string"},
        {"[{\"role\": \"user\"}]",
         "[0].content: expected a string or a non-empty array of parts, got nothing"},
        {"[{\"role\": \"user\", \"content\": {{n}}}]",
         "[0].content: expected a string or a non-empty array of parts, got a number"},
        {"[{\"role\": \"user\", \"content\": [{\"text\": \"x\"}]}]",
         "[0].content[0]: expected a part with a string \"type\""},
        {"[{\"role\": \"user\", \"content\": \"x\"}] trailing", "invalid JSON at offset 35 near 'trailing'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bg_release *rel = release_with(cases[i][0]);
        bg_case c = make_case("bad", "qa", "{\"msg\": \"hello\", \"n\": 1}", NULL);
        char want[BG_ERROR_MSG_MAX];
        snprintf(want, sizeof want,
                 "case \"bad\": template \"qa\" (prompts/qa.json): not a JSON array of messages "
                 "after rendering: %s", cases[i][1]);
        expect_case_error(&c, rel, want);
        case_dispose(&c);
        bg_release_free(rel);
    }
}
END_TEST

START_TEST(missing_variable_error_names_case_and_template)
{
    bg_release *rel = release_with("Hello {{ name }}, about {{order.id}}");
    bg_case c = make_case("greet", "qa", "{\"order\": {\"id\": 7}}", NULL);
    expect_case_error(&c, rel, "case \"greet\": template \"qa\": missing variable \"name\"");
    case_dispose(&c);
    bg_release_free(rel);

    rel = release_with("[{\"role\": \"user\", \"content\": \"{{user.name}}\"}]");
    c = make_case("greet", "qa", "{\"user\": {}}", NULL);
    expect_case_error(&c, rel, "case \"greet\": template \"qa\": missing variable \"user.name\"");
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

START_TEST(unknown_template_error_lists_the_available_names)
{
    bg_release *rel = release_with("Q");
    bg_case c = make_case("greet", "qna", NULL, NULL);
    expect_case_error(&c, rel, "case \"greet\": no template \"qna\" in release 0123456789ab "
                               "(templates: qa, system)");
    case_dispose(&c);
    bg_release_free(rel);

    rel = make_release(NULL, 0);
    c = make_case("greet", "qa", NULL, NULL);
    expect_case_error(&c, rel, "case \"greet\": no template \"qa\" in release 0123456789ab "
                               "(templates: none)");
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

START_TEST(render_keeps_request_options_and_replaces_messages)
{
    bg_release *rel = release_with("Hi {{n}}");
    bg_case c = make_case("opts", "qa", "{\"n\": 1}",
                          "{\"max_tokens\": 64, \"messages\": [{\"role\": \"user\", \"content\": \"old\"}],"
                          " \"temperature\": 0, \"chat_template_kwargs\": {\"enable_thinking\": false}}");
    render_ok(&c, rel);
    char *body = bg_json_print(c.body);
    ck_assert_str_eq(body, "{\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"Hi 1\"}],"
                           "\"temperature\":0,\"chat_template_kwargs\":{\"enable_thinking\":false}}");
    free(body);
    /* rendering again gives the same body (no duplicate "messages") */
    render_ok(&c, rel);
    ck_assert_int_eq(cJSON_GetArraySize(c.body), 4);
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

START_TEST(case_without_template_is_left_untouched)
{
    bg_release *rel = release_with("Q");
    bg_case c = make_case("plain", "qa", NULL, "{\"prompt\": \"2 + 2 =\", \"max_tokens\": 4}");
    free(c.template_name);
    c.template_name = NULL;
    c.is_chat = false;
    bg_error err;
    bg_error_clear(&err);
    ck_assert_int_eq(bg_template_render_case(&c, rel, &err), 0);
    ck_assert_int_eq(bg_template_render_case(&c, NULL, &err), 0);
    char *body = bg_json_print(c.body);
    ck_assert_str_eq(body, "{\"prompt\":\"2 + 2 =\",\"max_tokens\":4}");
    ck_assert(!c.is_chat);
    free(body);
    case_dispose(&c);
    bg_release_free(rel);
}
END_TEST

/* ------------------------------------------------------------ suites */

static bg_suite *parse_suite(const char *text)
{
    bg_suite *s = NULL;
    bg_error err;
    bg_error_clear(&err);
    int rc = bg_suite_parse(&s, "evals/t.jsonl", text, strlen(text), &err);
    ck_assert_msg(rc == 0, "suite parse failed: %s", err.msg);
    return s;
}

START_TEST(render_suite_renders_every_template_case)
{
    bg_release *rel = release_with("Where is {{id}}?");
    bg_suite *s = parse_suite(
        "// template cases\n"
        "{\"id\": \"a\", \"template\": \"qa\", \"vars\": {\"id\": \"AC-1\"}, \"max_tokens\": 8}\n"
        "{\"id\": \"b\", \"prompt\": \"2 + 2 =\"}\n"
        "{\"id\": \"c\", \"template\": \"qa\", \"vars\": {\"id\": 77}}\n"
        "{\"id\": \"d\", \"template\": \"qa\", \"system_template\": \"system\","
        " \"vars\": {\"id\": \"AC-2\", \"bot\": \"Ada\"}}\n");
    bg_error err;
    bg_error_clear(&err);
    ck_assert_int_eq(bg_template_render_suite(s, rel, &err), 0);
    ck_assert_uint_eq(s->n_cases, 4);
    expect_message(messages(&s->cases[0]), 0, "user", "Where is AC-1?");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(s->cases[0].body, "max_tokens")->valueint, 8);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(s->cases[1].body, "messages"));
    expect_message(messages(&s->cases[2]), 0, "user", "Where is 77?");
    expect_message(messages(&s->cases[3]), 0, "system", "You are Ada, the Acme support assistant.");
    expect_message(messages(&s->cases[3]), 1, "user", "Where is AC-2?");
    bg_suite_free(s);
    bg_release_free(rel);
}
END_TEST

START_TEST(render_suite_errors_are_prefixed_with_path_and_line)
{
    bg_release *rel = release_with("Hello {{name}}");
    bg_suite *s = parse_suite(
        "{\"id\": \"a\", \"template\": \"qa\", \"vars\": {\"name\": \"Ana\"}}\n"
        "\n"
        "{\"id\": \"b\", \"template\": \"qa\", \"vars\": {\"nmae\": \"Bob\"}}\n");
    bg_error err;
    bg_error_clear(&err);
    ck_assert_int_eq(bg_template_render_suite(s, rel, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg,
                     "evals/t.jsonl:3: case \"b\": template \"qa\": missing variable \"name\"");
    bg_suite_free(s);
    bg_release_free(rel);

    rel = release_with("Q");
    s = parse_suite("{\"id\": \"x\", \"template\": \"greeting\"}\n");
    ck_assert_int_eq(bg_template_render_suite(s, rel, &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "evals/t.jsonl:1: case \"x\": no template \"greeting\" in release "
                              "0123456789ab (templates: qa, system)");
    bg_suite_free(s);
    bg_release_free(rel);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("render_text");
    tcase_add_test(tc, placeholders_allow_optional_spaces);
    tcase_add_test(tc, dotted_paths_and_array_indexes_reach_nested_values);
    tcase_add_test(tc, numbers_bools_null_objects_and_arrays_substitute_as_json);
    tcase_add_test(tc, quadruple_brace_renders_a_literal_double_brace);
    tcase_add_test(tc, json_escaping_is_exact);
    tcase_add_test(tc, missing_variable_is_an_error_naming_it);
    tcase_add_test(tc, unclosed_placeholder_is_an_error_with_offset);
    tcase_add_test(tc, empty_or_malformed_placeholder_is_an_error);
    tcase_add_test(tc, output_past_the_cap_is_an_error);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);

    tc = tcase_create("render_case");
    tcase_add_test(tc, text_template_becomes_the_user_message);
    tcase_add_test(tc, system_template_renders_a_system_message_first);
    tcase_add_test(tc, system_template_errors_name_the_template);
    tcase_add_test(tc, json_template_renders_nested_vars_into_messages);
    tcase_add_test(tc, json_template_escaping_survives_a_round_trip);
    tcase_add_test(tc, json_template_substitutes_objects_as_escaped_json_text);
    tcase_add_test(tc, json_template_that_is_not_messages_after_rendering_is_an_error);
    tcase_add_test(tc, missing_variable_error_names_case_and_template);
    tcase_add_test(tc, unknown_template_error_lists_the_available_names);
    tcase_add_test(tc, render_keeps_request_options_and_replaces_messages);
    tcase_add_test(tc, case_without_template_is_left_untouched);
    suite_add_tcase(s, tc);

    tc = tcase_create("render_suite");
    tcase_add_test(tc, render_suite_renders_every_template_case);
    tcase_add_test(tc, render_suite_errors_are_prefixed_with_path_and_line);
    suite_add_tcase(s, tc);
    return s;
}

BG_CHECK_MAIN()
