/* reply.c — bg-mock's OpenAI wire format: reading requests, writing answers.
 *
 * Parses /v1/chat/completions and /v1/completions bodies down to what the mock needs
 * (the lookup prompt, stream flags, max_tokens), applies max_tokens to an answer and
 * builds the JSON bodies vLLM would send: whole responses, SSE chunk lists, errors,
 * /v1/models and /v1/embeddings. No I/O and no timing here; server.c owns both.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/json.h"
#include "bggate/util.h"
#include "mock.h"

static int invalid(bg_error *err, const char *what, const cJSON *got)
{
    return bg_error_set(err, BG_EINVAL, "%s, got %s", what, bg_json_type_name(got));
}

/* Concatenated text of a message's content: a string, or the "text" of each part of an
 * array; null/absent is "". */
static int content_text(bg_buf *out, const cJSON *content, bg_error *err)
{
    const cJSON *part;
    if (content == NULL || cJSON_IsNull(content))
        return 0;
    if (cJSON_IsString(content))
        return bg_buf_puts(out, content->valuestring) ? bg_error_set(err, BG_ENOMEM, "out of memory") : 0;
    if (!cJSON_IsArray(content))
        return invalid(err, "messages[].content: expected a string or an array", content);
    cJSON_ArrayForEach(part, content) {
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (cJSON_IsString(text) && bg_buf_puts(out, text->valuestring) != 0)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    return 0;
}

static int parse_messages(bg_mock_request *r, const cJSON *root, bg_error *err)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages"), *m;
    bg_buf text;
    int rc = 0;
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
        return bg_error_set(err, BG_EINVAL, "messages: expected a non-empty array");
    bg_buf_init(&text, 0);
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role)) {
            rc = bg_error_set(err, BG_EINVAL, "messages[].role: expected a string");
            goto cleanup;
        }
        bg_buf_reset(&text);
        if ((rc = content_text(&text, cJSON_GetObjectItemCaseSensitive(m, "content"), err)) != 0)
            goto cleanup;
        r->prompt_tokens += bg_mock_word_count(bg_buf_cstr(&text));
        if (strcmp(role->valuestring, "user") == 0) {
            free(r->prompt);
            if ((r->prompt = bg_strdup(bg_buf_cstr(&text))) == NULL) {
                rc = bg_error_set(err, BG_ENOMEM, "out of memory");
                goto cleanup;
            }
        }
    }
    if (r->prompt == NULL && (r->prompt = bg_strdup("")) == NULL)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
cleanup:
    bg_buf_dispose(&text);
    return rc;
}

static int parse_prompt(bg_mock_request *r, const cJSON *root, bg_error *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    /* A one-element array of strings is what some clients send for a single prompt. */
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1)
        p = cJSON_GetArrayItem(p, 0);
    if (!cJSON_IsString(p))
        return invalid(err, "prompt: expected a string", p);
    if ((r->prompt = bg_strdup(p->valuestring)) == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    r->prompt_tokens = bg_mock_word_count(r->prompt);
    return 0;
}

static int parse_max_tokens(bg_mock_request *r, const cJSON *root, bg_error *err)
{
    const char *name = "max_tokens";
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (v == NULL || cJSON_IsNull(v)) {
        name = "max_completion_tokens";
        v = cJSON_GetObjectItemCaseSensitive(root, name);
    }
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
        v->valuedouble > 1e9)
        return bg_error_set(err, BG_EINVAL, "%s: expected an integer of at least 1", name);
    r->max_tokens = (long)v->valuedouble;
    return 0;
}

static int parse_flags(bg_mock_request *r, const cJSON *root, bg_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    if (model != NULL && !cJSON_IsNull(model)) {
        if (!cJSON_IsString(model))
            return invalid(err, "model: expected a string", model);
        if ((r->model = bg_strdup(model->valuestring)) == NULL)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    if (stream != NULL && !cJSON_IsNull(stream) && !cJSON_IsBool(stream))
        return invalid(err, "stream: expected a boolean", stream);
    r->stream = cJSON_IsTrue(stream);
    if (opts != NULL && !cJSON_IsNull(opts)) {
        if (!cJSON_IsObject(opts))
            return invalid(err, "stream_options: expected an object", opts);
        r->include_usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opts, "include_usage"));
    }
    return parse_max_tokens(r, root, err);
}

int bg_mock_request_parse(bg_mock_request *out, bg_mock_api api, const char *body,
                          size_t len, bg_error *err)
{
    int rc;
    cJSON *root = cJSON_ParseWithLength(body, len);
    memset(out, 0, sizeof(*out));
    out->api = api;
    if (root == NULL) {
        rc = bg_error_set(err, BG_EINVAL, "request body is not valid JSON");
        goto cleanup;
    }
    if (!cJSON_IsObject(root)) {
        rc = invalid(err, "request body: expected an object", root);
        goto cleanup;
    }
    if ((rc = parse_flags(out, root, err)) != 0)
        goto cleanup;
    rc = api == BG_MOCK_API_CHAT ? parse_messages(out, root, err) : parse_prompt(out, root, err);
cleanup:
    cJSON_Delete(root);
    return rc;
}

void bg_mock_request_dispose(bg_mock_request *r)
{
    if (r == NULL)
        return;
    free(r->model);
    free(r->prompt);
    memset(r, 0, sizeof(*r));
}

int bg_mock_completion_make(bg_mock_completion *out, const bg_mock_request *req,
                            const bg_mock_answer *ans, bg_error *err)
{
    long ntok = bg_mock_token_count(ans->text);
    memset(out, 0, sizeof(*out));
    out->finish_reason = ans->finish_reason;
    out->prompt_tokens = req->prompt_tokens;
    if (req->max_tokens > 0 && ntok > req->max_tokens) {
        ntok = req->max_tokens;
        out->finish_reason = "length";
    }
    out->completion_tokens = ntok;
    out->text = bg_strndup(ans->text, bg_mock_token_prefix(ans->text, ntok));
    return out->text ? 0 : bg_error_set(err, BG_ENOMEM, "out of memory");
}

void bg_mock_completion_dispose(bg_mock_completion *c)
{
    if (c == NULL)
        return;
    free(c->text);
    memset(c, 0, sizeof(*c));
}

static cJSON *usage_json(long prompt, long completion)
{
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", (double)completion);
    cJSON_AddNumberToObject(u, "total_tokens", (double)(prompt + completion));
    return u;
}

/* The members every body and chunk starts with. */
static cJSON *envelope(const bg_mock_reply_meta *meta, const char *object)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", meta->id);
    cJSON_AddStringToObject(o, "object", object);
    cJSON_AddNumberToObject(o, "created", (double)meta->created);
    cJSON_AddStringToObject(o, "model", meta->model);
    return o;
}

/* One choice: text (may be NULL for a finish-only chat delta), finish (NULL → null). */
static cJSON *choice_json(bg_mock_api api, const char *key, const char *role, const char *text,
                          const char *finish)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "index", 0);
    if (api == BG_MOCK_API_CHAT) {
        cJSON *m = cJSON_AddObjectToObject(c, key);
        if (role != NULL)
            cJSON_AddStringToObject(m, "role", role);
        if (text != NULL)
            cJSON_AddStringToObject(m, "content", text);
    } else {
        cJSON_AddStringToObject(c, "text", text ? text : "");
    }
    cJSON_AddNullToObject(c, "logprobs");
    if (finish != NULL)
        cJSON_AddStringToObject(c, "finish_reason", finish);
    else
        cJSON_AddNullToObject(c, "finish_reason");
    return c;
}

char *bg_mock_reply_body(const bg_mock_request *req, const bg_mock_completion *c,
                         const bg_mock_reply_meta *meta)
{
    bool chat = req->api == BG_MOCK_API_CHAT;
    cJSON *o = envelope(meta, chat ? "chat.completion" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON_AddItemToArray(choices, choice_json(req->api, "message", "assistant", c->text,
                                              c->finish_reason));
    cJSON_AddItemToObject(o, "usage", usage_json(c->prompt_tokens, c->completion_tokens));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Serialises a chunk as an SSE event and appends it; takes ownership of chunk. */
static int push_event(bg_mock_events *e, cJSON *chunk, bg_error *err)
{
    char *json = chunk ? cJSON_PrintUnformatted(chunk) : NULL;
    char *ev = json ? bg_asprintf("data: %s\n\n", json) : NULL;
    char **grown = ev ? realloc(e->ev, (e->n + 1) * sizeof(*e->ev)) : NULL;
    cJSON_Delete(chunk);
    free(json);
    if (grown == NULL) {
        free(ev);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    e->ev = grown;
    e->ev[e->n++] = ev;
    return 0;
}

static cJSON *chunk_json(const bg_mock_request *req, const bg_mock_reply_meta *meta,
                         const char *role, const char *text, const char *finish)
{
    bool chat = req->api == BG_MOCK_API_CHAT;
    cJSON *o = envelope(meta, chat ? "chat.completion.chunk" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON_AddItemToArray(choices, choice_json(req->api, "delta", role, text, finish));
    return o;
}

static int push_tokens(bg_mock_events *e, const bg_mock_request *req, const char *text,
                       const bg_mock_reply_meta *meta, bg_error *err)
{
    size_t pos = 0, len;
    do {
        len = bg_mock_token_len(text, pos);
        char *tok = bg_strndup(text + pos, len);
        if (tok == NULL)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        const char *role = e->n == 0 ? "assistant" : NULL;
        int rc = push_event(e, chunk_json(req, meta, role, tok, NULL), err);
        free(tok);
        if (rc != 0)
            return rc;
        pos += len;
    } while (text[pos] != '\0');
    e->token_events = e->n;
    return 0;
}

static int push_done(bg_mock_events *e, bg_error *err)
{
    char *done = bg_strdup("data: [DONE]\n\n");
    char **grown = done ? realloc(e->ev, (e->n + 1) * sizeof(*e->ev)) : NULL;
    if (grown == NULL) {
        free(done);
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    e->ev = grown;
    e->ev[e->n++] = done;
    return 0;
}

int bg_mock_reply_events(bg_mock_events *out, const bg_mock_request *req,
                         const bg_mock_completion *c, const bg_mock_reply_meta *meta,
                         bg_error *err)
{
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = push_tokens(out, req, c->text, meta, err)) != 0)
        goto cleanup;
    const char *empty = req->api == BG_MOCK_API_CHAT ? NULL : "";
    if ((rc = push_event(out, chunk_json(req, meta, NULL, empty, c->finish_reason), err)) != 0)
        goto cleanup;
    if (req->include_usage) {
        cJSON *u = envelope(meta, req->api == BG_MOCK_API_CHAT ? "chat.completion.chunk"
                                                               : "text_completion");
        cJSON_AddArrayToObject(u, "choices");
        cJSON_AddItemToObject(u, "usage", usage_json(c->prompt_tokens, c->completion_tokens));
        if ((rc = push_event(out, u, err)) != 0)
            goto cleanup;
    }
    rc = push_done(out, err);
cleanup:
    if (rc != 0)
        bg_mock_events_dispose(out);
    return rc;
}

void bg_mock_events_dispose(bg_mock_events *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->ev[i]);
    free(e->ev);
    memset(e, 0, sizeof(*e));
}

char *bg_mock_error_body(const char *message, const char *type, int status)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddNumberToObject(e, "code", status);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

char *bg_mock_models_body(const char *model, long created)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", model);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddStringToObject(m, "owned_by", "bg-mock");
    cJSON_AddNumberToObject(m, "created", (double)created);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "data"), m);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static cJSON *embedding_item(const char *text, int index)
{
    double v[BG_MOCK_EMBED_DIM];
    bg_mock_embed(v, text);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "embedding");
    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddItemToObject(o, "embedding", cJSON_CreateDoubleArray(v, BG_MOCK_EMBED_DIM));
    return o;
}

/* Fills data[] from "input": a string or a non-empty array of strings. */
static int embed_inputs(cJSON *data, long *words, const cJSON *input, bg_error *err)
{
    const cJSON *it;
    int i = 0;
    if (cJSON_IsString(input)) {
        *words = bg_mock_word_count(input->valuestring);
        cJSON_AddItemToArray(data, embedding_item(input->valuestring, 0));
        return 0;
    }
    if (!cJSON_IsArray(input) || cJSON_GetArraySize(input) == 0)
        return bg_error_set(err, BG_EINVAL, "input: expected a string or a non-empty array of strings");
    cJSON_ArrayForEach(it, input) {
        if (!cJSON_IsString(it))
            return bg_error_set(err, BG_EINVAL, "input[%d]: expected a string, got %s", i,
                                bg_json_type_name(it));
        *words += bg_mock_word_count(it->valuestring);
        cJSON_AddItemToArray(data, embedding_item(it->valuestring, i++));
    }
    return 0;
}

static int embeddings_json(cJSON *out, char **req_model, const cJSON *root, bg_error *err)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "encoding_format");
    long words = 0;
    if (cJSON_IsString(model) && (*req_model = bg_strdup(model->valuestring)) == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    if (fmt != NULL && !(cJSON_IsString(fmt) && strcmp(fmt->valuestring, "float") == 0))
        return bg_error_set(err, BG_EINVAL, "encoding_format: only \"float\" is supported");
    int rc = embed_inputs(cJSON_AddArrayToObject(out, "data"), &words,
                          cJSON_GetObjectItemCaseSensitive(root, "input"), err);
    if (rc != 0)
        return rc;
    cJSON *u = cJSON_AddObjectToObject(out, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", (double)words);
    cJSON_AddNumberToObject(u, "total_tokens", (double)words);
    return 0;
}

int bg_mock_embeddings_reply(char **out, char **req_model, const char *body, size_t len,
                             const char *model, bg_error *err)
{
    int rc;
    cJSON *root = cJSON_ParseWithLength(body, len);
    cJSON *reply = cJSON_CreateObject();
    *out = NULL;
    *req_model = NULL;
    if (root == NULL || !cJSON_IsObject(root)) {
        rc = bg_error_set(err, BG_EINVAL, "request body is not a JSON object");
        goto cleanup;
    }
    cJSON_AddStringToObject(reply, "object", "list");
    if ((rc = embeddings_json(reply, req_model, root, err)) != 0)
        goto cleanup;
    cJSON_AddStringToObject(reply, "model", model);
    if ((*out = cJSON_PrintUnformatted(reply)) == NULL)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
cleanup:
    cJSON_Delete(root);
    cJSON_Delete(reply);
    return rc;
}
