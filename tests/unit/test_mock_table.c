/* test_mock_table.c — unit tests of bg-mock's pure parts: answers table, tokeniser,
 * embeddings, request parsing and reply building, metrics text, scenario and flags.
 *
 * The Makefile links unit tests only with libbggate.a, so bg-mock's files are included
 * directly; the HTTP server (server.c, main.c) is exercised by hand and by tests/e2e.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/check_main.h"

#include "../mock/config.c"
#include "../mock/metrics.c"
#include "../mock/reply.c"
#include "../mock/table.c"
#include "../mock/text.c"

/* ------------------------------------------------------------ helpers */

static bg_mock_table *table_from(const char *json_text, bg_error *err)
{
    cJSON *json = cJSON_Parse(json_text);
    bg_mock_table *t = NULL;
    ck_assert_ptr_nonnull(json);
    bg_error_clear(err);
    int rc = bg_mock_table_parse(&t, json, "", err);
    cJSON_Delete(json);
    if (rc != 0)
        ck_assert_ptr_null(t);
    return t;
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bg-mock-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd_path[128];
    const char *names[] = {"scenario.json", "answers.json", "other.json", NULL};
    for (int i = 0; names[i]; i++) {
        snprintf(cmd_path, sizeof(cmd_path), "%s/%s", tmpdir, names[i]);
        unlink(cmd_path);
    }
    rmdir(tmpdir);
}

/* Writes text to tmpdir/name and puts that path into path. */
static void write_tmp(char *path, size_t pathsz, const char *name, const char *text)
{
    snprintf(path, pathsz, "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

static const char *const good_table =
    "{\"model\": \"good-model\","
    " \"answers\": {\"What is 2+2?\": \"4\","
    "               \"Essay\": {\"text\": \"one two three\", \"finish_reason\": \"length\"}},"
    " \"rules\": [{\"contains\": \"France\", \"answer\": \"Paris\"},"
    "           {\"contains\": \"capital\", \"answer\": \"a capital\"}],"
    " \"default\": \"no idea\"}";

/* ------------------------------------------------------------ table */

START_TEST(table_exact_match_beats_rules)
{
    bg_error err;
    bg_mock_table *t = table_from(good_table, &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(bg_mock_table_lookup(t, "What is 2+2?")->text, "4");
    ck_assert_str_eq(bg_mock_table_lookup(t, "What is 2+2?")->finish_reason, "stop");
    ck_assert_str_eq(bg_mock_table_model(t), "good-model");
    bg_mock_table_free(t);
}
END_TEST

START_TEST(table_first_matching_rule_wins_then_default)
{
    bg_error err;
    bg_mock_table *t = table_from(good_table, &err);
    ck_assert_str_eq(bg_mock_table_lookup(t, "the capital of France?")->text, "Paris");
    ck_assert_str_eq(bg_mock_table_lookup(t, "the capital of Peru?")->text, "a capital");
    ck_assert_str_eq(bg_mock_table_lookup(t, "What is 2+3?")->text, "no idea");
    /* exact means exact: a near miss falls through to the default */
    ck_assert_str_eq(bg_mock_table_lookup(t, "what is 2+2?")->text, "no idea");
    bg_mock_table_free(t);
}
END_TEST

START_TEST(table_answer_object_carries_finish_reason)
{
    bg_error err;
    bg_mock_table *t = table_from(good_table, &err);
    const bg_mock_answer *a = bg_mock_table_lookup(t, "Essay");
    ck_assert_str_eq(a->text, "one two three");
    ck_assert_str_eq(a->finish_reason, "length");
    bg_mock_table_free(t);
}
END_TEST

START_TEST(table_without_default_answers_i_do_not_know)
{
    bg_error err;
    bg_mock_table *t = table_from("{}", &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(bg_mock_table_lookup(t, "anything")->text, "I do not know.");
    ck_assert_ptr_null(bg_mock_table_model(t));
    bg_mock_table_free(t);
}
END_TEST

START_TEST(table_rejects_bad_answer_type_with_path)
{
    bg_error err;
    ck_assert_ptr_null(table_from("{\"answers\": {\"q\": 3}}", &err));
    ck_assert_int_eq(err.code, BG_EINVAL);
    ck_assert_str_eq(err.msg, "answers[\"q\"]: expected a string or an object, got a number");
}
END_TEST

START_TEST(table_rejects_empty_contains)
{
    bg_error err;
    ck_assert_ptr_null(table_from("{\"rules\": [{\"answer\": \"a\", \"contains\": \"x\"},"
                                  " {\"contains\": \"\", \"answer\": \"b\"}]}",
                                  &err));
    ck_assert_str_eq(err.msg, "rules[1].contains: must not be empty");
}
END_TEST

START_TEST(table_rejects_unknown_finish_reason)
{
    bg_error err;
    ck_assert_ptr_null(
        table_from("{\"default\": {\"text\": \"a\", \"finish_reason\": \"eos\"}}", &err));
    ck_assert_str_eq(err.msg, "default.finish_reason: expected \"stop\" or \"length\"");
}
END_TEST

START_TEST(table_rejects_unknown_key)
{
    bg_error err;
    ck_assert_ptr_null(table_from("{\"rule\": []}", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "rule"));
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown"));
}
END_TEST

START_TEST(table_rejects_duplicate_prompt)
{
    bg_error err;
    ck_assert_ptr_null(table_from("{\"answers\": {\"q\": \"a\", \"q\": \"b\"}}", &err));
    ck_assert_str_eq(err.msg, "answers: prompt \"q\" appears twice");
}
END_TEST

START_TEST(table_load_names_file_and_position_of_bad_json)
{
    char path[128], want[256];
    bg_mock_table *t = NULL;
    bg_error err;
    make_tmpdir();
    write_tmp(path, sizeof(path), "answers.json", "{\n  \"default\": \"x\",,\n}");
    ck_assert_int_eq(bg_mock_table_load(&t, path, &err), BG_EINVAL);
    /* file:line:column (the column is where cJSON gave up, near the second comma) */
    snprintf(want, sizeof(want), "%s:2:", path);
    ck_assert(strncmp(err.msg, want, strlen(want)) == 0);
    ck_assert(bg_str_ends_with(err.msg, ": not valid JSON"));
    write_tmp(path, sizeof(path), "answers.json", "{\"default\": []}");
    ck_assert_int_eq(bg_mock_table_load(&t, path, &err), BG_EINVAL);
    snprintf(want, sizeof(want), "%s: default: expected a string or an object, got an array", path);
    ck_assert_str_eq(err.msg, want);
    ck_assert_ptr_null(t);
    remove_tmpdir();
}
END_TEST

/* ------------------------------------------------------------ text */

START_TEST(tokens_concatenate_to_the_text_exactly)
{
    const char *texts[] = {"Hello world", "  lead and trail  ", "a\n\nb\tc", "one", "   ", ""};
    const long counts[] = {2, 3, 3, 1, 1, 0};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        bg_buf joined;
        size_t pos = 0, len;
        long n = 0;
        bg_buf_init(&joined, 0);
        while ((len = bg_mock_token_len(texts[i], pos)) > 0) {
            ck_assert_int_eq(bg_buf_append(&joined, texts[i] + pos, len), 0);
            pos += len;
            n++;
        }
        ck_assert_str_eq(bg_buf_cstr(&joined), texts[i]);
        bg_buf_dispose(&joined);
        ck_assert_int_eq(n, counts[i]);
        ck_assert_int_eq(bg_mock_token_count(texts[i]), counts[i]);
    }
}
END_TEST

START_TEST(token_is_a_word_with_its_preceding_whitespace)
{
    const char *t = "The cat  sat.";
    ck_assert_uint_eq(bg_mock_token_len(t, 0), 3);      /* "The" */
    ck_assert_uint_eq(bg_mock_token_len(t, 3), 4);      /* " cat" */
    ck_assert_uint_eq(bg_mock_token_len(t, 7), 6);      /* "  sat." */
    ck_assert_uint_eq(bg_mock_token_prefix(t, 2), 7);   /* "The cat" */
    ck_assert_uint_eq(bg_mock_token_prefix(t, 99), strlen(t));
}
END_TEST

START_TEST(word_count_ignores_runs_of_whitespace)
{
    ck_assert_int_eq(bg_mock_word_count(""), 0);
    ck_assert_int_eq(bg_mock_word_count("  \n "), 0);
    ck_assert_int_eq(bg_mock_word_count(" What  is\t2+2? "), 3);
}
END_TEST

static double dot(const double *a, const double *b)
{
    double s = 0;
    for (int i = 0; i < BG_MOCK_EMBED_DIM; i++)
        s += a[i] * b[i];
    return s;
}

START_TEST(embedding_is_unit_length_and_deterministic)
{
    double a[BG_MOCK_EMBED_DIM], b[BG_MOCK_EMBED_DIM];
    bg_mock_embed(a, "The quick brown fox");
    bg_mock_embed(b, "the QUICK, brown fox!");
    ck_assert_double_eq_tol(dot(a, a), 1.0, 1e-9);
    ck_assert_double_eq_tol(dot(a, b), 1.0, 1e-9); /* case and punctuation ignored */
}
END_TEST

START_TEST(embedding_cosine_is_high_for_shared_words_and_low_for_unrelated)
{
    double a[BG_MOCK_EMBED_DIM], b[BG_MOCK_EMBED_DIM], c[BG_MOCK_EMBED_DIM];
    bg_mock_embed(a, "The quick brown fox jumps over the lazy dog");
    bg_mock_embed(b, "the quick brown fox jumped over the lazy dog");
    bg_mock_embed(c, "Quarterly revenue increased by twelve percent");
    ck_assert_double_gt(dot(a, b), 0.8);
    ck_assert_double_lt(fabs(dot(a, c)), 0.3);
}
END_TEST

START_TEST(embedding_of_text_without_words_is_zero)
{
    double a[BG_MOCK_EMBED_DIM];
    bg_mock_embed(a, " ?! ");
    ck_assert_double_eq(dot(a, a), 0.0);
}
END_TEST

/* ------------------------------------------------------------ requests */

START_TEST(chat_request_keys_on_last_user_message)
{
    const char *body = "{\"model\": \"m\", \"messages\": ["
                       "{\"role\": \"system\", \"content\": \"be brief\"},"
                       "{\"role\": \"user\", \"content\": \"first question\"},"
                       "{\"role\": \"assistant\", \"content\": \"ok\"},"
                       "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"What is \"},"
                       " {\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}},"
                       " {\"type\": \"text\", \"text\": \"2+2?\"}]}],"
                       " \"stream\": true, \"stream_options\": {\"include_usage\": true}}";
    bg_mock_request r;
    bg_error err;
    ck_assert_int_eq(bg_mock_request_parse(&r, BG_MOCK_API_CHAT, body, strlen(body), &err), 0);
    ck_assert_str_eq(r.prompt, "What is 2+2?");
    ck_assert_str_eq(r.model, "m");
    ck_assert(r.stream);
    ck_assert(r.include_usage);
    ck_assert_int_eq(r.prompt_tokens, 2 + 2 + 1 + 3); /* words in every message */
    ck_assert_int_eq(r.max_tokens, 0);
    bg_mock_request_dispose(&r);
}
END_TEST

START_TEST(completion_request_keys_on_prompt)
{
    const char *body = "{\"prompt\": \"Say hi\", \"max_tokens\": 5}";
    bg_mock_request r;
    bg_error err;
    ck_assert_int_eq(bg_mock_request_parse(&r, BG_MOCK_API_TEXT, body, strlen(body), &err), 0);
    ck_assert_str_eq(r.prompt, "Say hi");
    ck_assert_ptr_null(r.model);
    ck_assert(!r.stream);
    ck_assert_int_eq(r.max_tokens, 5);
    ck_assert_int_eq(r.prompt_tokens, 2);
    bg_mock_request_dispose(&r);
}
END_TEST

START_TEST(bad_requests_get_client_facing_messages)
{
    static const struct {
        bg_mock_api api;
        const char *body;
        const char *msg;
    } cases[] = {
        {BG_MOCK_API_CHAT, "{bad", "request body is not valid JSON"},
        {BG_MOCK_API_CHAT, "[]", "request body: expected an object, got an array"},
        {BG_MOCK_API_CHAT, "{\"messages\": []}", "messages: expected a non-empty array"},
        {BG_MOCK_API_CHAT, "{\"messages\": [{\"content\": \"x\"}]}",
         "messages[].role: expected a string"},
        {BG_MOCK_API_TEXT, "{\"prompt\": 3}", "prompt: expected a string, got a number"},
        {BG_MOCK_API_TEXT, "{\"prompt\": \"x\", \"max_tokens\": 0}",
         "max_tokens: expected an integer of at least 1"},
        {BG_MOCK_API_TEXT, "{\"prompt\": \"x\", \"stream\": \"yes\"}",
         "stream: expected a boolean, got a string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bg_mock_request r;
        bg_error err;
        bg_error_clear(&err);
        int rc = bg_mock_request_parse(&r, cases[i].api, cases[i].body, strlen(cases[i].body), &err);
        ck_assert_int_eq(rc, BG_EINVAL);
        ck_assert_str_eq(err.msg, cases[i].msg);
        bg_mock_request_dispose(&r);
    }
}
END_TEST

/* ------------------------------------------------------------ replies */

static void make_completion(bg_mock_completion *c, bg_mock_request *r, bg_mock_api api,
                            const char *text, long max_tokens)
{
    bg_mock_answer a = {.text = (char *)text, .finish_reason = "stop"};
    bg_error err;
    memset(r, 0, sizeof(*r));
    r->api = api;
    r->max_tokens = max_tokens;
    r->prompt_tokens = 4;
    ck_assert_int_eq(bg_mock_completion_make(c, r, &a, &err), 0);
}

START_TEST(max_tokens_truncates_and_reports_length)
{
    bg_mock_request r;
    bg_mock_completion c;
    make_completion(&c, &r, BG_MOCK_API_CHAT, "one two three four", 2);
    ck_assert_str_eq(c.text, "one two");
    ck_assert_str_eq(c.finish_reason, "length");
    ck_assert_int_eq(c.completion_tokens, 2);
    bg_mock_completion_dispose(&c);
    make_completion(&c, &r, BG_MOCK_API_CHAT, "one two", 2);
    ck_assert_str_eq(c.text, "one two");
    ck_assert_str_eq(c.finish_reason, "stop");
    bg_mock_completion_dispose(&c);
}
END_TEST

START_TEST(chat_body_has_message_usage_and_served_model)
{
    bg_mock_request r;
    bg_mock_completion c;
    bg_mock_reply_meta meta = {.id = "chatcmpl-7", .model = "served", .created = 100};
    make_completion(&c, &r, BG_MOCK_API_CHAT, "Paris is nice", 0);
    char *body = bg_mock_reply_body(&r, &c, &meta);
    cJSON *j = cJSON_Parse(body);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, "chatcmpl-7");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "object")->valuestring, "chat.completion");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "model")->valuestring, "served");
    cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    cJSON *msg = cJSON_GetObjectItem(ch, "message");
    ck_assert_str_eq(cJSON_GetObjectItem(msg, "role")->valuestring, "assistant");
    ck_assert_str_eq(cJSON_GetObjectItem(msg, "content")->valuestring, "Paris is nice");
    ck_assert_str_eq(cJSON_GetObjectItem(ch, "finish_reason")->valuestring, "stop");
    cJSON *u = cJSON_GetObjectItem(j, "usage");
    ck_assert_int_eq(cJSON_GetObjectItem(u, "prompt_tokens")->valueint, 4);
    ck_assert_int_eq(cJSON_GetObjectItem(u, "completion_tokens")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(u, "total_tokens")->valueint, 7);
    cJSON_Delete(j);
    free(body);
    bg_mock_completion_dispose(&c);
}
END_TEST

START_TEST(completion_body_has_text_choice)
{
    bg_mock_request r;
    bg_mock_completion c;
    bg_mock_reply_meta meta = {.id = "cmpl-1", .model = "m", .created = 1};
    make_completion(&c, &r, BG_MOCK_API_TEXT, "four", 0);
    char *body = bg_mock_reply_body(&r, &c, &meta);
    cJSON *j = cJSON_Parse(body);
    cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "object")->valuestring, "text_completion");
    ck_assert_str_eq(cJSON_GetObjectItem(ch, "text")->valuestring, "four");
    cJSON_Delete(j);
    free(body);
    bg_mock_completion_dispose(&c);
}
END_TEST

/* Parses "data: {...}\n\n" into JSON (NULL for [DONE]). */
static cJSON *event_json(const char *ev)
{
    ck_assert(strncmp(ev, "data: ", 6) == 0);
    ck_assert(strlen(ev) >= 8 && strcmp(ev + strlen(ev) - 2, "\n\n") == 0);
    if (strcmp(ev, "data: [DONE]\n\n") == 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLength(ev + 6, strlen(ev) - 8);
    ck_assert_ptr_nonnull(j);
    return j;
}

START_TEST(chat_stream_deltas_rebuild_the_answer_then_finish_usage_done)
{
    bg_mock_request r;
    bg_mock_completion c;
    bg_mock_events e;
    bg_error err;
    bg_mock_reply_meta meta = {.id = "chatcmpl-2", .model = "m", .created = 1};
    bg_buf joined;
    make_completion(&c, &r, BG_MOCK_API_CHAT, " The capital is Paris. ", 0);
    r.include_usage = true;
    bg_buf_init(&joined, 0);
    ck_assert_int_eq(bg_mock_reply_events(&e, &r, &c, &meta, &err), 0);
    ck_assert_uint_eq(e.token_events, 4);
    ck_assert_uint_eq(e.n, 4 + 3);
    for (size_t i = 0; i < e.token_events; i++) {
        cJSON *j = event_json(e.ev[i]);
        cJSON *d = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0), "delta");
        ck_assert_int_eq(cJSON_HasObjectItem(d, "role"), i == 0);
        ck_assert_int_eq(bg_buf_puts(&joined, cJSON_GetObjectItem(d, "content")->valuestring), 0);
        ck_assert_str_eq(cJSON_GetObjectItem(j, "object")->valuestring, "chat.completion.chunk");
        cJSON_Delete(j);
    }
    ck_assert_str_eq(bg_buf_cstr(&joined), " The capital is Paris. ");
    bg_buf_dispose(&joined);
    cJSON *fin = event_json(e.ev[4]);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(fin, "choices"), 0),
                                         "finish_reason")->valuestring, "stop");
    cJSON *usage = event_json(e.ev[5]);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(usage, "choices")), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(usage, "usage"), "completion_tokens")->valueint, 4);
    ck_assert_ptr_null(event_json(e.ev[6]));
    cJSON_Delete(fin);
    cJSON_Delete(usage);
    bg_mock_events_dispose(&e);
    bg_mock_completion_dispose(&c);
}
END_TEST

START_TEST(stream_without_include_usage_has_no_usage_chunk)
{
    bg_mock_request r;
    bg_mock_completion c;
    bg_mock_events e;
    bg_error err;
    bg_mock_reply_meta meta = {.id = "cmpl-2", .model = "m", .created = 1};
    make_completion(&c, &r, BG_MOCK_API_TEXT, "", 0);
    ck_assert_int_eq(bg_mock_reply_events(&e, &r, &c, &meta, &err), 0);
    /* empty text still streams one (empty) token event, then finish and [DONE] */
    ck_assert_uint_eq(e.token_events, 1);
    ck_assert_uint_eq(e.n, 3);
    ck_assert_ptr_nonnull(strstr(e.ev[0], "\"text\":\"\""));
    ck_assert_ptr_nonnull(strstr(e.ev[1], "\"finish_reason\":\"stop\""));
    ck_assert_str_eq(e.ev[2], "data: [DONE]\n\n");
    bg_mock_events_dispose(&e);
    bg_mock_completion_dispose(&c);
}
END_TEST

START_TEST(embeddings_reply_has_one_vector_per_input)
{
    const char *body = "{\"model\": \"emb\", \"input\": [\"a b\", \"c\"]}";
    char *out = NULL, *model = NULL;
    bg_error err;
    ck_assert_int_eq(bg_mock_embeddings_reply(&out, &model, body, strlen(body), "served", &err), 0);
    ck_assert_str_eq(model, "emb");
    cJSON *j = cJSON_Parse(out);
    cJSON *data = cJSON_GetObjectItem(j, "data");
    ck_assert_int_eq(cJSON_GetArraySize(data), 2);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(data, 1), "index")->valueint, 1);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(data, 0), "embedding")),
                     BG_MOCK_EMBED_DIM);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "model")->valuestring, "served");
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "usage"), "prompt_tokens")->valueint, 3);
    cJSON_Delete(j);
    free(out);
    free(model);
}
END_TEST

START_TEST(embeddings_reject_non_string_input)
{
    const char *body = "{\"input\": [\"a\", 3]}";
    char *out = NULL, *model = NULL;
    bg_error err;
    ck_assert_int_eq(bg_mock_embeddings_reply(&out, &model, body, strlen(body), "m", &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "input[1]: expected a string, got a number");
    ck_assert_ptr_null(out);
}
END_TEST

/* ------------------------------------------------------------ metrics */

START_TEST(metrics_render_vllm_names_and_cumulative_buckets)
{
    bg_mock_metrics m;
    bg_buf out;
    bg_mock_metrics_init(&m);
    bg_buf_init(&out, 0);
    bg_mock_metrics_started(&m);
    bg_mock_metrics_started(&m);
    bg_mock_metrics_started(&m);
    bg_mock_metrics_finished(&m, "stop", 0.03, 5, 7);
    bg_mock_metrics_finished(&m, "length", 0.3, 1, 2);
    bg_mock_metrics_ttft(&m, 0.015);
    ck_assert_int_eq(bg_mock_metrics_render(&out, &m, "m\"x"), 0);
    const char *s = bg_buf_cstr(&out);
    ck_assert_ptr_nonnull(strstr(s, "# TYPE vllm:num_requests_running gauge\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:num_requests_running{model_name=\"m\\\"x\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:request_success_total{finished_reason=\"stop\",model_name=\"m\\\"x\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:request_success_total{finished_reason=\"length\",model_name=\"m\\\"x\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:prompt_tokens_total{model_name=\"m\\\"x\"} 6\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:generation_tokens_total{model_name=\"m\\\"x\"} 9\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:e2e_request_latency_seconds_bucket{le=\"0.02\",model_name=\"m\\\"x\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:e2e_request_latency_seconds_bucket{le=\"0.04\",model_name=\"m\\\"x\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:e2e_request_latency_seconds_bucket{le=\"0.5\",model_name=\"m\\\"x\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\",model_name=\"m\\\"x\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:e2e_request_latency_seconds_count{model_name=\"m\\\"x\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:time_to_first_token_seconds_bucket{le=\"0.01\",model_name=\"m\\\"x\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(s, "vllm:time_to_first_token_seconds_bucket{le=\"0.02\",model_name=\"m\\\"x\"} 1\n"));
    bg_buf_dispose(&out);
    bg_mock_metrics_dispose(&m);
}
END_TEST

START_TEST(failed_request_counts_no_success)
{
    bg_mock_metrics m;
    bg_buf out;
    bg_mock_metrics_init(&m);
    bg_buf_init(&out, 0);
    bg_mock_metrics_started(&m);
    bg_mock_metrics_finished(&m, NULL, 0.5, 5, 5);
    ck_assert_int_eq(bg_mock_metrics_render(&out, &m, "m"), 0);
    ck_assert_ptr_nonnull(strstr(bg_buf_cstr(&out), "vllm:num_requests_running{model_name=\"m\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(bg_buf_cstr(&out), "vllm:request_success_total{finished_reason=\"stop\",model_name=\"m\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(bg_buf_cstr(&out), "vllm:e2e_request_latency_seconds_count{model_name=\"m\"} 0\n"));
    bg_buf_dispose(&out);
    bg_mock_metrics_dispose(&m);
}
END_TEST

/* ------------------------------------------------------------ config */

static int parse_args(bg_mock_config *cfg, bg_error *err, int argc, const char **argv)
{
    bg_error_clear(err);
    return bg_mock_config_parse(cfg, argc, (char **)argv, err);
}

START_TEST(config_defaults)
{
    bg_mock_config cfg;
    bg_error err;
    const char *argv[] = {"bg-mock", NULL};
    ck_assert_int_eq(parse_args(&cfg, &err, 1, argv), 0);
    ck_assert_str_eq(cfg.host, "127.0.0.1");
    ck_assert_int_eq(cfg.port, 0);
    ck_assert_str_eq(cfg.model, "mock-model");
    ck_assert_uint_eq(cfg.seed, 1);
    ck_assert_uint_eq(cfg.error_kinds, BG_MOCK_ERR_500);
    ck_assert_str_eq(bg_mock_table_lookup(cfg.table, "x")->text, "I do not know.");
    bg_mock_config_dispose(&cfg);
}
END_TEST

START_TEST(flags_override_scenario_and_answers_path_is_relative_to_it)
{
    char spath[128], apath[128];
    bg_mock_config cfg;
    bg_error err;
    make_tmpdir();
    write_tmp(apath, sizeof(apath), "answers.json", "{\"model\": \"table-model\", \"default\": \"from file\"}");
    write_tmp(spath, sizeof(spath), "scenario.json",
              "{\"answers\": \"answers.json\", \"latency_ms\": 50, \"token_ms\": 5,"
              " \"errors\": {\"rate\": 0.5, \"kinds\": [\"hang\", \"truncate\"]}, \"seed\": 9}");
    const char *argv[] = {"bg-mock", "--latency-ms", "7", "--scenario", spath, "--seed", "3", NULL};
    ck_assert_int_eq(parse_args(&cfg, &err, 7, argv), 0);
    ck_assert_int_eq(cfg.latency_ms, 7);
    ck_assert_int_eq(cfg.token_ms, 5);
    ck_assert_uint_eq(cfg.seed, 3);
    ck_assert_double_eq(cfg.error_rate, 0.5);
    ck_assert_uint_eq(cfg.error_kinds, BG_MOCK_ERR_HANG | BG_MOCK_ERR_TRUNCATE);
    ck_assert_str_eq(cfg.model, "table-model"); /* no model anywhere else */
    ck_assert_str_eq(bg_mock_table_lookup(cfg.table, "q")->text, "from file");
    bg_mock_config_dispose(&cfg);
    remove_tmpdir();
}
END_TEST

START_TEST(model_flag_beats_scenario_beats_table)
{
    char spath[128], apath[128], opath[128];
    bg_mock_config cfg;
    bg_error err;
    make_tmpdir();
    write_tmp(apath, sizeof(apath), "answers.json", "{\"model\": \"table-model\"}");
    write_tmp(opath, sizeof(opath), "other.json", "{\"default\": \"other table\"}");
    write_tmp(spath, sizeof(spath), "scenario.json",
              "{\"model\": \"scenario-model\", \"answers\": \"answers.json\"}");
    const char *argv1[] = {"bg-mock", "--scenario", spath, NULL};
    ck_assert_int_eq(parse_args(&cfg, &err, 3, argv1), 0);
    ck_assert_str_eq(cfg.model, "scenario-model");
    bg_mock_config_dispose(&cfg);
    const char *argv2[] = {"bg-mock", "--scenario", spath, "--model", "flag-model",
                           "--answers", opath, NULL};
    ck_assert_int_eq(parse_args(&cfg, &err, 7, argv2), 0);
    ck_assert_str_eq(cfg.model, "flag-model");
    ck_assert_str_eq(bg_mock_table_lookup(cfg.table, "q")->text, "other table");
    bg_mock_config_dispose(&cfg);
    remove_tmpdir();
}
END_TEST

START_TEST(scenario_errors_name_file_and_key)
{
    char spath[128], want[256];
    bg_mock_config cfg;
    bg_error err;
    make_tmpdir();
    const char *argv[] = {"bg-mock", "--scenario", NULL, NULL};
    argv[2] = spath;
    write_tmp(spath, sizeof(spath), "scenario.json", "{\"latency_ms\": \"slow\"}");
    ck_assert_int_eq(parse_args(&cfg, &err, 3, argv), BG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "scenario.json: latency_ms: "));
    bg_mock_config_dispose(&cfg);
    write_tmp(spath, sizeof(spath), "scenario.json", "{\"errors\": {\"kinds\": [\"boom\"]}}");
    ck_assert_int_eq(parse_args(&cfg, &err, 3, argv), BG_EINVAL);
    snprintf(want, sizeof(want),
             "%s: errors.kinds[0]: unknown error kind \"boom\" (expected 500, malformed, truncate, hang)",
             spath);
    ck_assert_str_eq(err.msg, want);
    bg_mock_config_dispose(&cfg);
    write_tmp(spath, sizeof(spath), "scenario.json", "{\"answers\": {\"rules\": [{\"contains\": \"a\"}]}}");
    ck_assert_int_eq(parse_args(&cfg, &err, 3, argv), BG_EINVAL);
    snprintf(want, sizeof(want), "%s: answers.rules[0].answer: missing", spath);
    ck_assert_str_eq(err.msg, want);
    bg_mock_config_dispose(&cfg);
    remove_tmpdir();
}
END_TEST

START_TEST(bad_flags_are_usage_errors)
{
    bg_mock_config cfg;
    bg_error err;
    const char *a1[] = {"bg-mock", "--port", "70000", NULL};
    ck_assert_int_eq(parse_args(&cfg, &err, 3, a1), BG_EINVAL);
    ck_assert_str_eq(err.msg, "--port: expected an integer from 0 to 65535, got \"70000\"");
    bg_mock_config_dispose(&cfg);
    const char *a2[] = {"bg-mock", "--error-rate", "1.5", NULL};
    ck_assert_int_eq(parse_args(&cfg, &err, 3, a2), BG_EINVAL);
    ck_assert_str_eq(err.msg, "--error-rate: expected a number from 0 to 1, got \"1.5\"");
    bg_mock_config_dispose(&cfg);
    const char *a3[] = {"bg-mock", "--frobnicate", NULL};
    ck_assert_int_eq(parse_args(&cfg, &err, 2, a3), BG_EINVAL);
    ck_assert_str_eq(err.msg, "unknown option \"--frobnicate\"");
    bg_mock_config_dispose(&cfg);
    const char *a4[] = {"bg-mock", "--help", NULL};
    ck_assert_int_eq(parse_args(&cfg, &err, 2, a4), BG_MOCK_CONFIG_HELP);
    bg_mock_config_dispose(&cfg);
}
END_TEST

START_TEST(error_kinds_list_parses_to_bits)
{
    unsigned bits = 0;
    bg_error err;
    ck_assert_int_eq(bg_mock_error_kinds_parse(&bits, "500,malformed,truncate,hang", &err), 0);
    ck_assert_uint_eq(bits, BG_MOCK_ERR_500 | BG_MOCK_ERR_MALFORMED | BG_MOCK_ERR_TRUNCATE | BG_MOCK_ERR_HANG);
    ck_assert_int_eq(bg_mock_error_kinds_parse(&bits, "500,", &err), BG_EINVAL);
    ck_assert_str_eq(err.msg, "unknown error kind \"\" (expected 500, malformed, truncate, hang)");
    ck_assert_str_eq(bg_mock_error_kind_name(BG_MOCK_ERR_TRUNCATE), "truncate");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("mock");
    TCase *t = tcase_create("table");
    tcase_add_test(t, table_exact_match_beats_rules);
    tcase_add_test(t, table_first_matching_rule_wins_then_default);
    tcase_add_test(t, table_answer_object_carries_finish_reason);
    tcase_add_test(t, table_without_default_answers_i_do_not_know);
    tcase_add_test(t, table_rejects_bad_answer_type_with_path);
    tcase_add_test(t, table_rejects_empty_contains);
    tcase_add_test(t, table_rejects_unknown_finish_reason);
    tcase_add_test(t, table_rejects_unknown_key);
    tcase_add_test(t, table_rejects_duplicate_prompt);
    tcase_add_test(t, table_load_names_file_and_position_of_bad_json);
    suite_add_tcase(s, t);
    t = tcase_create("text");
    tcase_add_test(t, tokens_concatenate_to_the_text_exactly);
    tcase_add_test(t, token_is_a_word_with_its_preceding_whitespace);
    tcase_add_test(t, word_count_ignores_runs_of_whitespace);
    tcase_add_test(t, embedding_is_unit_length_and_deterministic);
    tcase_add_test(t, embedding_cosine_is_high_for_shared_words_and_low_for_unrelated);
    tcase_add_test(t, embedding_of_text_without_words_is_zero);
    suite_add_tcase(s, t);
    t = tcase_create("reply");
    tcase_add_test(t, chat_request_keys_on_last_user_message);
    tcase_add_test(t, completion_request_keys_on_prompt);
    tcase_add_test(t, bad_requests_get_client_facing_messages);
    tcase_add_test(t, max_tokens_truncates_and_reports_length);
    tcase_add_test(t, chat_body_has_message_usage_and_served_model);
    tcase_add_test(t, completion_body_has_text_choice);
    tcase_add_test(t, chat_stream_deltas_rebuild_the_answer_then_finish_usage_done);
    tcase_add_test(t, stream_without_include_usage_has_no_usage_chunk);
    tcase_add_test(t, embeddings_reply_has_one_vector_per_input);
    tcase_add_test(t, embeddings_reject_non_string_input);
    suite_add_tcase(s, t);
    t = tcase_create("metrics");
    tcase_add_test(t, metrics_render_vllm_names_and_cumulative_buckets);
    tcase_add_test(t, failed_request_counts_no_success);
    suite_add_tcase(s, t);
    t = tcase_create("config");
    tcase_add_test(t, config_defaults);
    tcase_add_test(t, flags_override_scenario_and_answers_path_is_relative_to_it);
    tcase_add_test(t, model_flag_beats_scenario_beats_table);
    tcase_add_test(t, scenario_errors_name_file_and_key);
    tcase_add_test(t, bad_flags_are_usage_errors);
    tcase_add_test(t, error_kinds_list_parses_to_bits);
    suite_add_tcase(s, t);
    return s;
}

BG_CHECK_MAIN()
