/* test_openai.c — OpenAI wire format: request bodies, whole responses, streamed chunks
 * (alone and through the SSE parser), /v1/models and /v1/embeddings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/check_main.h"
#include "bggate/limits.h"
#include "bggate/openai.h"
#include "bggate/sse.h"

/* --- helpers --- */

static cJSON *build(const char *body_json, const char *model, bool stream)
{
    cJSON *body = body_json != NULL ? cJSON_Parse(body_json) : NULL;
    bg_request_opts opts = {.model = model, .stream = stream};
    bg_error err = {0};
    char *out = NULL;
    cJSON *req;

    ck_assert_int_eq(bg_openai_build_request(&out, body, &opts, &err), 0);
    ck_assert_ptr_nonnull(out);
    req = cJSON_Parse(out);
    ck_assert_ptr_nonnull(req);
    free(out);
    cJSON_Delete(body);
    return req;
}

static const char *str_member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(cJSON_IsString(v), "%s is not a string", key);
    return v->valuestring;
}

/* Parses a whole response; returns the rc and leaves the message in err. */
static int parse(bg_response *r, bool chat, const char *body, bg_error *err)
{
    bg_response_init(r);
    return bg_openai_parse_response(r, chat, body, strlen(body), err);
}

static int chunk(bg_response *r, bool chat, const char *data, bool *had_text, bg_error *err)
{
    return bg_openai_apply_chunk(r, chat, data, strlen(data), had_text, err);
}

/* Expects a parse failure with exactly this message. */
static void expect_parse_error(bool chat, const char *body, int code, const char *msg)
{
    bg_response r;
    bg_error err = {0};

    ck_assert_int_eq(parse(&r, chat, body, &err), code);
    ck_assert_str_eq(err.msg, msg);
    bg_response_dispose(&r);
}

/* --- requests --- */

START_TEST(request_defaults_fill_only_what_the_case_lacks)
{
    cJSON *body = cJSON_Parse("{\"prompt\": \"hi\", \"max_tokens\": 5}");
    cJSON *defaults = cJSON_Parse("{\"max_tokens\": 256, \"temperature\": 0}");
    bg_request_opts opts = {.model = "m", .defaults = defaults};
    char *out = NULL;
    bg_error err = {0};
    ck_assert_int_eq(bg_openai_build_request(&out, body, &opts, &err), 0);
    cJSON *req = cJSON_Parse(out);
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(req, "max_tokens")), 5);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(req, "temperature")));
    ck_assert_ptr_null(cJSON_GetObjectItem(body, "temperature")); /* the case is unchanged */
    cJSON_Delete(req);
    cJSON_Delete(body);
    cJSON_Delete(defaults);
    free(out);
}
END_TEST

START_TEST(request_adds_model_and_stream_false)
{
    cJSON *req = build("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"max_tokens\":5}", "llama-8b", false);

    ck_assert_str_eq(str_member(req, "model"), "llama-8b");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(req, "stream")));
    ck_assert_ptr_null(cJSON_GetObjectItem(req, "stream_options"));
    ck_assert_int_eq(cJSON_GetObjectItem(req, "max_tokens")->valueint, 5);
    ck_assert_str_eq(
        str_member(cJSON_GetArrayItem(cJSON_GetObjectItem(req, "messages"), 0), "content"),
        "hi");
    cJSON_Delete(req);
}
END_TEST

START_TEST(request_keeps_model_of_the_case)
{
    cJSON *req = build("{\"prompt\":\"x\",\"model\":\"other\"}", "llama-8b", false);
    ck_assert_str_eq(str_member(req, "model"), "other");
    cJSON_Delete(req);
}
END_TEST

START_TEST(request_without_model_option_has_no_model)
{
    cJSON *req = build("{\"prompt\":\"x\"}", NULL, false);
    ck_assert_ptr_null(cJSON_GetObjectItem(req, "model"));
    cJSON_Delete(req);
}
END_TEST

START_TEST(streaming_request_asks_for_usage)
{
    cJSON *req = build("{\"prompt\":\"x\"}", "m", true);
    const cJSON *so = cJSON_GetObjectItem(req, "stream_options");

    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(req, "stream")));
    ck_assert(cJSON_IsObject(so));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(so, "include_usage")));
    cJSON_Delete(req);
}
END_TEST

START_TEST(streaming_request_keeps_stream_options_of_the_case)
{
    cJSON *req = build("{\"prompt\":\"x\",\"stream_options\":{\"include_usage\":false}}", "m",
                       true);
    const cJSON *so = cJSON_GetObjectItem(req, "stream_options");

    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(so, "include_usage")));
    ck_assert_int_eq(cJSON_GetArraySize(so), 1);
    cJSON_Delete(req);
}
END_TEST

START_TEST(request_stream_flag_replaces_one_in_body)
{
    cJSON *req = build("{\"prompt\":\"x\",\"stream\":true}", "m", false);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(req, "stream")));
    ck_assert_int_eq(cJSON_GetArraySize(req), 3); /* prompt, stream, model: no duplicate */
    cJSON_Delete(req);
}
END_TEST

START_TEST(request_does_not_modify_the_case_body)
{
    cJSON *body = cJSON_Parse("{\"prompt\":\"x\"}");
    bg_request_opts opts = {.model = "m", .stream = true};
    bg_error err = {0};
    char *out = NULL;

    ck_assert_int_eq(bg_openai_build_request(&out, body, &opts, &err), 0);
    ck_assert_int_eq(cJSON_GetArraySize(body), 1);
    free(out);
    cJSON_Delete(body);
}
END_TEST

START_TEST(request_without_body_or_opts_is_valid)
{
    bg_error err = {0};
    char *out = NULL;

    ck_assert_int_eq(bg_openai_build_request(&out, NULL, NULL, &err), 0);
    ck_assert_str_eq(out, "{\"stream\":false}");
    free(out);
}
END_TEST

START_TEST(request_body_must_be_an_object)
{
    cJSON *body = cJSON_Parse("[1]");
    bg_error err = {0};
    char *out = (char *)"sentinel";

    ck_assert_int_eq(bg_openai_build_request(&out, body, NULL, &err), BG_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err.msg, "request body: expected an object, got an array");
    cJSON_Delete(body);
}
END_TEST

/* --- whole responses --- */

START_TEST(chat_response_is_parsed)
{
    bg_response r;
    bg_error err = {0};

    ck_assert_int_eq(parse(&r, true,
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"llama-8b\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"Paris is the capital.\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":6,\"total_tokens\":18}}",
        &err), 0);
    ck_assert_str_eq(bg_buf_cstr(&r.text), "Paris is the capital.");
    ck_assert_str_eq(r.finish_reason, "stop");
    ck_assert_str_eq(r.model, "llama-8b");
    ck_assert_int_eq(r.prompt_tokens, 12);
    ck_assert_int_eq(r.completion_tokens, 6);
    ck_assert_int_eq(bg_response_output_tokens(&r), 6);
    ck_assert(!r.done);
    bg_response_dispose(&r);
}
END_TEST

START_TEST(chat_null_content_is_empty_text)
{
    bg_response r;
    bg_error err = {0};

    ck_assert_int_eq(parse(&r, true,
        "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,"
        "\"tool_calls\":[]},\"finish_reason\":\"tool_calls\"}]}", &err), 0);
    ck_assert_str_eq(bg_buf_cstr(&r.text), "");
    ck_assert_str_eq(r.finish_reason, "tool_calls");
    ck_assert_str_eq(r.model, "");
    ck_assert_int_eq(r.prompt_tokens, -1);
    ck_assert_int_eq(r.completion_tokens, -1);
    bg_response_dispose(&r);
}
END_TEST

START_TEST(completion_response_is_parsed)
{
    bg_response r;
    bg_error err = {0};

    ck_assert_int_eq(parse(&r, false,
        "{\"object\":\"text_completion\",\"model\":\"m\",\"choices\":[{\"index\":0,"
        "\"text\":\" 42\",\"finish_reason\":\"length\",\"logprobs\":null}],"
        "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n", &err), 0);
    ck_assert_str_eq(bg_buf_cstr(&r.text), " 42");
    ck_assert_str_eq(r.finish_reason, "length");
    ck_assert_int_eq(r.completion_tokens, 1);
    bg_response_dispose(&r);
}
END_TEST

START_TEST(error_body_reports_server_message)
{
    expect_parse_error(true,
        "{\"error\":{\"message\":\"The model `gpt-x` does not exist.\",\"type\":"
        "\"NotFoundError\",\"code\":404}}",
        BG_EPROTO, "error from server: The model `gpt-x` does not exist.");
    /* vLLM's older shape and a bare string */
    expect_parse_error(true,
        "{\"object\":\"error\",\"message\":\"max_tokens is too large\",\"code\":400}",
        BG_EPROTO, "error from server: max_tokens is too large");
    expect_parse_error(false, "{\"error\":\"overloaded\"}", BG_EPROTO,
                       "error from server: overloaded");
}
END_TEST

START_TEST(multi_line_server_message_becomes_one_line)
{
    expect_parse_error(true, "{\"error\":{\"message\":\"bad\\nrequest\"}}", BG_EPROTO,
                       "error from server: bad request");
}
END_TEST

START_TEST(non_json_response_names_the_byte)
{
    expect_parse_error(true, "<html>502 Bad Gateway</html>", BG_EPROTO,
                       "response is not JSON (at byte 1)");
    expect_parse_error(true, "{\"choices\": [{\"x\" 1}]}", BG_EPROTO,
                       "response is not JSON (at byte 19)");
    expect_parse_error(true, "{\"choices\":[]} trailing", BG_EPROTO,
                       "response is not JSON (at byte 16)");
    expect_parse_error(true, "", BG_EPROTO, "response is empty");
}
END_TEST

START_TEST(response_without_choices_is_an_error)
{
    expect_parse_error(true, "{\"choices\":[]}", BG_EPROTO, "response has no choices");
    expect_parse_error(false, "{\"id\":\"x\"}", BG_EPROTO, "response has no choices");
    expect_parse_error(true, "{\"choices\":{}}", BG_EPROTO, "response has no choices");
    expect_parse_error(true, "[1,2]", BG_EPROTO, "response: expected an object, got an array");
}
END_TEST

START_TEST(wrong_types_name_the_json_path)
{
    expect_parse_error(true, "{\"choices\":[{\"message\":{\"content\":42}}]}", BG_EPROTO,
                       "choices[0].message.content: expected a string, got a number");
    expect_parse_error(false, "{\"choices\":[{\"text\":[\"a\"]}]}", BG_EPROTO,
                       "choices[0].text: expected a string, got an array");
    expect_parse_error(true, "{\"choices\":[{\"message\":\"hi\"}]}", BG_EPROTO,
                       "choices[0].message: expected an object, got a string");
    expect_parse_error(true, "{\"choices\":[{\"text\":\"hi\"}]}", BG_EPROTO,
                       "choices[0] has no message");
    expect_parse_error(true, "{\"choices\":[\"hi\"]}", BG_EPROTO,
                       "choices[0]: expected an object, got a string");
}
END_TEST

START_TEST(bad_usage_values_are_left_unknown)
{
    bg_response r;
    bg_error err = {0};

    ck_assert_int_eq(parse(&r, false,
        "{\"choices\":[{\"text\":\"a\"}],\"usage\":{\"prompt_tokens\":\"3\","
        "\"completion_tokens\":-4}}", &err), 0);
    ck_assert_int_eq(r.prompt_tokens, -1);
    ck_assert_int_eq(r.completion_tokens, -1);
    bg_response_dispose(&r);
}
END_TEST

START_TEST(answer_longer_than_cap_is_an_error)
{
    size_t n = BG_MAX_ANSWER + 1;
    char *body = malloc(n + 64);
    bg_response r;
    bg_error err = {0};
    size_t at;

    at = (size_t)snprintf(body, 64, "{\"choices\":[{\"text\":\"");
    memset(body + at, 'a', n);
    memcpy(body + at + n, "\"}]}", 5);
    ck_assert_int_eq(parse(&r, false, body, &err), BG_ETOOBIG);
    ck_assert_str_eq(err.msg, "answer longer than 1048576 bytes");
    bg_response_dispose(&r);
    free(body);
}
END_TEST

START_TEST(body_is_read_only_up_to_len)
{
    /* The parser must not rely on a terminator: only the first len bytes count. */
    const char *body = "{\"choices\":[{\"text\":\"ok\"}]}GARBAGE";
    bg_response r;
    bg_error err = {0};

    bg_response_init(&r);
    ck_assert_int_eq(bg_openai_parse_response(&r, false, body, strlen(body) - 7, &err), 0);
    ck_assert_str_eq(bg_buf_cstr(&r.text), "ok");
    bg_response_dispose(&r);
}
END_TEST

/* --- streamed chunks --- */

START_TEST(streamed_chat_sequence_assembles_the_answer)
{
    static const char *const chunks[] = {
        "{\"id\":\"c\",\"model\":\"llama-8b\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
        "{\"id\":\"c\",\"model\":\"llama-8b\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"content\":\"Par\"},\"finish_reason\":null}]}",
        "{\"id\":\"c\",\"model\":\"llama-8b\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"content\":\"is\"},\"finish_reason\":null}]}",
        "{\"id\":\"c\",\"model\":\"llama-8b\",\"choices\":[{\"index\":0,\"delta\":{},"
        "\"finish_reason\":\"stop\"}]}",
        "{\"id\":\"c\",\"model\":\"llama-8b\",\"choices\":[],\"usage\":{\"prompt_tokens\":"
        "9,\"completion_tokens\":3,\"total_tokens\":12}}",
        " [DONE] ",
    };
    static const bool texts[] = {false, true, true, false, false, false};
    bg_response r;
    bg_error err = {0};

    bg_response_init(&r);
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        bool had_text = !texts[i];
        ck_assert_msg(chunk(&r, true, chunks[i], &had_text, &err) == 0, "chunk %zu: %s", i,
                      err.msg);
        ck_assert_msg(had_text == texts[i], "chunk %zu had_text", i);
        ck_assert(r.done == (i == 5));
    }
    ck_assert_str_eq(bg_buf_cstr(&r.text), "Paris");
    ck_assert_str_eq(r.finish_reason, "stop");
    ck_assert_str_eq(r.model, "llama-8b");
    ck_assert_int_eq(r.content_chunks, 2);
    ck_assert_int_eq(r.prompt_tokens, 9);
    ck_assert_int_eq(r.completion_tokens, 3);
    ck_assert_int_eq(bg_response_output_tokens(&r), 3);
    bg_response_dispose(&r);
}
END_TEST

START_TEST(role_only_chunk_without_content_is_accepted)
{
    bg_response r;
    bg_error err = {0};
    bool had_text = true;

    bg_response_init(&r);
    ck_assert_int_eq(chunk(&r, true, "{\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}",
                           &had_text, &err), 0);
    ck_assert(!had_text);
    ck_assert_int_eq(chunk(&r, true, "{\"choices\":[{\"delta\":{\"content\":null}}]}",
                           &had_text, &err), 0);
    ck_assert(!had_text);
    ck_assert_int_eq(r.content_chunks, 0);
    ck_assert_str_eq(r.finish_reason, "");
    bg_response_dispose(&r);
}
END_TEST

START_TEST(streamed_completion_uses_text)
{
    bg_response r;
    bg_error err = {0};
    bool had_text = false;

    bg_response_init(&r);
    ck_assert_int_eq(chunk(&r, false, "{\"choices\":[{\"index\":0,\"text\":\" 4\"}]}",
                           &had_text, &err), 0);
    ck_assert(had_text);
    ck_assert_int_eq(chunk(&r, false, "{\"choices\":[{\"index\":0,\"text\":\"2\","
                           "\"finish_reason\":\"length\"}]}", NULL, &err), 0);
    ck_assert_str_eq(bg_buf_cstr(&r.text), " 42");
    ck_assert_str_eq(r.finish_reason, "length");
    bg_response_dispose(&r);
}
END_TEST

START_TEST(output_tokens_fall_back_to_content_chunks)
{
    bg_response r;
    bg_error err = {0};

    bg_response_init(&r);
    ck_assert_int_eq(bg_response_output_tokens(&r), 0);
    ck_assert_int_eq(chunk(&r, false, "{\"choices\":[{\"text\":\"a\"}]}", NULL, &err), 0);
    ck_assert_int_eq(chunk(&r, false, "{\"choices\":[{\"text\":\"b\"}]}", NULL, &err), 0);
    ck_assert_int_eq(chunk(&r, false, "{\"choices\":[{\"text\":\"\"}]}", NULL, &err), 0);
    ck_assert_int_eq(chunk(&r, false, "[DONE]", NULL, &err), 0);
    ck_assert_int_eq(r.completion_tokens, -1);
    ck_assert_int_eq(bg_response_output_tokens(&r), 2);
    bg_response_dispose(&r);
}
END_TEST

START_TEST(chunks_of_other_choices_are_skipped)
{
    bg_response r;
    bg_error err = {0};
    bool had_text = true;

    bg_response_init(&r);
    ck_assert_int_eq(chunk(&r, true, "{\"choices\":[{\"index\":1,\"delta\":{\"content\":"
                           "\"B\"}}]}", &had_text, &err), 0);
    ck_assert(!had_text);
    ck_assert_int_eq(chunk(&r, true, "{\"choices\":[{\"index\":1,\"delta\":{}},{\"index\":0,"
                           "\"delta\":{\"content\":\"A\"}}]}", &had_text, &err), 0);
    ck_assert(had_text);
    ck_assert_str_eq(bg_buf_cstr(&r.text), "A");
    bg_response_dispose(&r);
}
END_TEST

START_TEST(done_must_be_exact)
{
    bg_response r;
    bg_error err = {0};

    bg_response_init(&r);
    ck_assert_int_eq(chunk(&r, true, "\r\n[DONE]\t", NULL, &err), 0);
    ck_assert(r.done);
    r.done = false;
    ck_assert_int_eq(chunk(&r, true, "[DONE]x", NULL, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "stream chunk is not JSON (at byte 2)");
    ck_assert_int_eq(chunk(&r, true, "[done]", NULL, &err), BG_EPROTO);
    ck_assert(!r.done);
    bg_response_dispose(&r);
}
END_TEST

START_TEST(error_chunk_reports_server_message)
{
    bg_response r;
    bg_error err = {0};

    bg_response_init(&r);
    ck_assert_int_eq(chunk(&r, true, "{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}", NULL,
                           &err), 0);
    ck_assert_int_eq(chunk(&r, true, "{\"error\":{\"message\":\"CUDA out of memory\","
                           "\"code\":500}}", NULL, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "error from server: CUDA out of memory");
    bg_response_dispose(&r);
}
END_TEST

START_TEST(chunk_with_wrong_types_is_an_error)
{
    bg_response r;
    bg_error err = {0};

    bg_response_init(&r);
    ck_assert_int_eq(chunk(&r, true, "{\"choices\":[{\"delta\":{\"content\":1}}]}", NULL,
                           &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "choices[0].delta.content: expected a string, got a number");
    ck_assert_int_eq(chunk(&r, true, "{\"choices\":\"x\"}", NULL, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "choices: expected an array, got a string");
    ck_assert_int_eq(chunk(&r, false, "{\"choices\":[{\"text\":false}]}", NULL, &err),
                     BG_EPROTO);
    ck_assert_str_eq(err.msg, "choices[0].text: expected a string, got a boolean");
    ck_assert_int_eq(chunk(&r, true, "{\"choices\":[", NULL, &err), BG_EPROTO);
    ck_assert_str_eq(err.msg, "stream chunk is not JSON (at byte 12)");
    bg_response_dispose(&r);
}
END_TEST

START_TEST(streamed_answer_longer_than_cap_is_an_error)
{
    size_t piece = 64 * 1024;
    char *data = malloc(piece + 64);
    bg_response r;
    bg_error err = {0};
    size_t at = (size_t)snprintf(data, 64, "{\"choices\":[{\"text\":\"");
    int rc = 0;
    size_t i;

    memset(data + at, 'x', piece);
    memcpy(data + at + piece, "\"}]}", 5);
    bg_response_init(&r);
    for (i = 0; i < 100 && rc == 0; i++)
        rc = chunk(&r, false, data, NULL, &err);
    ck_assert_int_eq(rc, BG_ETOOBIG);
    ck_assert_uint_eq(i, BG_MAX_ANSWER / piece + 1);
    ck_assert_str_eq(err.msg, "answer longer than 1048576 bytes");
    ck_assert_uint_le(r.text.len, BG_MAX_ANSWER);
    bg_response_dispose(&r);
    free(data);
}
END_TEST

/* The runner's path: bytes → SSE events → chunks. */
static int apply_event(void *ud, const char *event, const char *data, size_t len)
{
    bg_error err = {0};
    (void)event;
    ck_assert_msg(bg_openai_apply_chunk(ud, true, data, len, NULL, &err) == 0, "%s", err.msg);
    return 0;
}

START_TEST(vllm_stream_through_sse_parser)
{
    const char *stream =
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":"
        "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
        "\"finish_reason\":null}]}\r\n\r\n"
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}"
        "\r\n\r\n"
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},"
        "\"finish_reason\":\"stop\"}]}\r\n\r\n"
        "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
        "\"completion_tokens\":2}}\r\n\r\n"
        "data: [DONE]\r\n\r\n";
    bg_response r;
    bg_sse p;
    bg_error err = {0};
    size_t len = strlen(stream);

    bg_response_init(&r);
    bg_sse_init(&p, BG_MAX_SSE_LINE);
    for (size_t at = 0; at < len; at += 7) {
        size_t n = len - at < 7 ? len - at : 7;
        ck_assert_int_eq(bg_sse_feed(&p, stream + at, n, apply_event, &r, &err), 0);
    }
    ck_assert_int_eq(bg_sse_finish(&p, apply_event, &r, &err), 0);
    ck_assert_str_eq(bg_buf_cstr(&r.text), "Hello world");
    ck_assert_int_eq(r.content_chunks, 2);
    ck_assert_int_eq(r.completion_tokens, 2);
    ck_assert_str_eq(r.finish_reason, "stop");
    ck_assert(r.done);
    bg_sse_dispose(&p);
    bg_response_dispose(&r);
}
END_TEST

/* --- /v1/models --- */

static const char *const MODELS =
    "{\"object\":\"list\",\"data\":[{\"id\":\"llama-8b\",\"object\":\"model\"},"
    "{\"id\":\"meta-llama/Llama-3.1-8B-Instruct\",\"object\":\"model\"}]}";

START_TEST(models_first_id_is_returned)
{
    char *first = NULL;
    bg_error err = {0};

    ck_assert_int_eq(bg_openai_parse_models(&first, MODELS, strlen(MODELS), &err), 0);
    ck_assert_str_eq(first, "llama-8b");
    free(first);
}
END_TEST

START_TEST(models_has_finds_any_listed_id)
{
    ck_assert(bg_openai_models_has(MODELS, strlen(MODELS), "llama-8b"));
    ck_assert(bg_openai_models_has(MODELS, strlen(MODELS), "meta-llama/Llama-3.1-8B-Instruct"));
    ck_assert(!bg_openai_models_has(MODELS, strlen(MODELS), "llama"));
    ck_assert(!bg_openai_models_has("nope", 4, "llama-8b"));
    ck_assert(!bg_openai_models_has(MODELS, strlen(MODELS), NULL));
}
END_TEST

START_TEST(models_errors_are_specific)
{
    static const struct {
        const char *body;
        const char *msg;
    } cases[] = {
        {"{\"data\":[]}", "models response lists no models"},
        {"{\"object\":\"list\"}", "models response has no data array"},
        {"{\"data\":[{\"id\":7}]}", "data[0].id: expected a string, got a number"},
        {"{\"data\":[{}]}", "data[0].id: expected a string, got nothing"},
        {"{\"error\":{\"message\":\"unauthorized\"}}", "error from server: unauthorized"},
        {"Not Found", "models response is not JSON (at byte 1)"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *first = (char *)"sentinel";
        bg_error err = {0};
        ck_assert_int_eq(bg_openai_parse_models(&first, cases[i].body, strlen(cases[i].body),
                                                &err), BG_EPROTO);
        ck_assert_ptr_null(first);
        ck_assert_str_eq(err.msg, cases[i].msg);
    }
}
END_TEST

/* --- /v1/embeddings --- */

START_TEST(embeddings_request_has_model_and_input)
{
    char *out = bg_openai_build_embeddings("embed-1", "hello\"world", 11);
    cJSON *req = cJSON_Parse(out);

    ck_assert_str_eq(str_member(req, "model"), "embed-1");
    ck_assert_str_eq(str_member(req, "input"), "hello\"world");
    cJSON_Delete(req);
    free(out);
    out = bg_openai_build_embeddings(NULL, "abcdef", 3); /* len bounds the input */
    ck_assert_str_eq(out, "{\"input\":\"abc\"}");
    free(out);
}
END_TEST

/* warm-up and flip verification: one short unstreamed chat request, quotes escaped */
START_TEST(probe_request_is_one_short_unstreamed_user_message)
{
    char *out = bg_openai_build_probe("acme \"v2\"", "bg-gate verify");
    ck_assert_str_eq(out, "{\"messages\":[{\"role\":\"user\",\"content\":\"bg-gate verify\"}],"
                          "\"model\":\"acme \\\"v2\\\"\",\"max_tokens\":8,\"stream\":false}");
    free(out);
}
END_TEST

START_TEST(embedding_vector_is_parsed)
{
    const char *body = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
                       "\"embedding\":[0.5,-1,2e-3]}],\"model\":\"e\"}";
    double *vec = NULL;
    size_t dim = 0;
    bg_error err = {0};

    ck_assert_int_eq(bg_openai_parse_embedding(&vec, &dim, body, strlen(body), &err), 0);
    ck_assert_uint_eq(dim, 3);
    ck_assert_double_eq(vec[0], 0.5);
    ck_assert_double_eq(vec[1], -1.0);
    ck_assert_double_eq_tol(vec[2], 0.002, 1e-12);
    free(vec);
}
END_TEST

static void expect_embedding_error(const char *body, int code, const char *msg)
{
    double *vec = (double *)&code;
    size_t dim = 99;
    bg_error err = {0};

    ck_assert_int_eq(bg_openai_parse_embedding(&vec, &dim, body, strlen(body), &err), code);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_ptr_null(vec);
    ck_assert_uint_eq(dim, 0);
}

START_TEST(embedding_errors_are_specific)
{
    expect_embedding_error("{\"data\":[{\"embedding\":[1,\"2\",3]}]}", BG_EPROTO,
                           "data[0].embedding[1]: expected a number, got a string");
    expect_embedding_error("{\"data\":[{\"embedding\":\"AAAA\"}]}", BG_EPROTO,
                           "data[0].embedding: expected an array, got a string");
    expect_embedding_error("{\"data\":[{\"embedding\":[]}]}", BG_EPROTO,
                           "data[0].embedding is empty");
    expect_embedding_error("{\"data\":[{}]}", BG_EPROTO, "data[0] has no embedding");
    expect_embedding_error("{\"data\":[]}", BG_EPROTO, "embeddings response has no data");
    expect_embedding_error("{\"error\":{\"message\":\"input too long\"}}", BG_EPROTO,
                           "error from server: input too long");
}
END_TEST

START_TEST(embedding_dimension_is_capped)
{
    size_t n = BG_MAX_EMBEDDING_DIM + 1;
    char *body = malloc(n * 2 + 64);
    size_t at = (size_t)snprintf(body, 64, "{\"data\":[{\"embedding\":[");

    for (size_t i = 0; i < n; i++) {
        body[at++] = '1';
        body[at++] = i + 1 < n ? ',' : ']';
    }
    memcpy(body + at, "}]}", 4);
    expect_embedding_error(body, BG_ETOOBIG, "data[0].embedding has more than 65536 elements");
    /* Exactly the cap is fine. */
    body[at - 3] = ']';
    memcpy(body + at - 2, "}]}", 4);
    {
        double *vec = NULL;
        size_t dim = 0;
        bg_error err = {0};
        ck_assert_int_eq(bg_openai_parse_embedding(&vec, &dim, body, strlen(body), &err), 0);
        ck_assert_uint_eq(dim, BG_MAX_EMBEDDING_DIM);
        free(vec);
    }
    free(body);
}
END_TEST

Suite *make_suite(void); /* check_main.h does not declare it */

Suite *make_suite(void)
{
    Suite *s = suite_create("openai");
    TCase *req = tcase_create("request");
    TCase *resp = tcase_create("response");
    TCase *stream = tcase_create("stream");
    TCase *other = tcase_create("models_embeddings");

    tcase_add_test(req, request_adds_model_and_stream_false);
    tcase_add_test(req, request_defaults_fill_only_what_the_case_lacks);
    tcase_add_test(req, request_keeps_model_of_the_case);
    tcase_add_test(req, request_without_model_option_has_no_model);
    tcase_add_test(req, streaming_request_asks_for_usage);
    tcase_add_test(req, streaming_request_keeps_stream_options_of_the_case);
    tcase_add_test(req, request_stream_flag_replaces_one_in_body);
    tcase_add_test(req, request_does_not_modify_the_case_body);
    tcase_add_test(req, request_without_body_or_opts_is_valid);
    tcase_add_test(req, request_body_must_be_an_object);

    tcase_add_test(resp, chat_response_is_parsed);
    tcase_add_test(resp, chat_null_content_is_empty_text);
    tcase_add_test(resp, completion_response_is_parsed);
    tcase_add_test(resp, error_body_reports_server_message);
    tcase_add_test(resp, multi_line_server_message_becomes_one_line);
    tcase_add_test(resp, non_json_response_names_the_byte);
    tcase_add_test(resp, response_without_choices_is_an_error);
    tcase_add_test(resp, wrong_types_name_the_json_path);
    tcase_add_test(resp, bad_usage_values_are_left_unknown);
    tcase_add_test(resp, answer_longer_than_cap_is_an_error);
    tcase_add_test(resp, body_is_read_only_up_to_len);

    tcase_add_test(stream, streamed_chat_sequence_assembles_the_answer);
    tcase_add_test(stream, role_only_chunk_without_content_is_accepted);
    tcase_add_test(stream, streamed_completion_uses_text);
    tcase_add_test(stream, output_tokens_fall_back_to_content_chunks);
    tcase_add_test(stream, chunks_of_other_choices_are_skipped);
    tcase_add_test(stream, done_must_be_exact);
    tcase_add_test(stream, error_chunk_reports_server_message);
    tcase_add_test(stream, chunk_with_wrong_types_is_an_error);
    tcase_add_test(stream, streamed_answer_longer_than_cap_is_an_error);
    tcase_add_test(stream, vllm_stream_through_sse_parser);

    tcase_add_test(other, models_first_id_is_returned);
    tcase_add_test(other, models_has_finds_any_listed_id);
    tcase_add_test(other, models_errors_are_specific);
    tcase_add_test(other, embeddings_request_has_model_and_input);
    tcase_add_test(other, probe_request_is_one_short_unstreamed_user_message);
    tcase_add_test(other, embedding_vector_is_parsed);
    tcase_add_test(other, embedding_errors_are_specific);
    tcase_add_test(other, embedding_dimension_is_capped);

    suite_add_tcase(s, req);
    suite_add_tcase(s, resp);
    suite_add_tcase(s, stream);
    suite_add_tcase(s, other);
    return s;
}

BG_CHECK_MAIN()
