/* openai.c — the OpenAI-compatible wire format: request bodies for /chat/completions,
 * /completions and /embeddings, and parsers for what servers answer (whole bodies,
 * streamed chunks, /v1/models, /v1/embeddings).
 *
 * Everything parsed here comes from the network, so every parser checks types before it
 * reads, caps the text it keeps (BG_MAX_ANSWER) and turns anything unexpected into a
 * one-line BG_EPROTO message that names the JSON path ("choices[0].message.content:
 * expected a string, got a number"). Error bodies ({"error": {...}}) become "error from
 * server: <message>". No I/O and no SSE framing here: the runner and sse.c do those.
 */
#include "bggate/openai.h"

#include <stdlib.h>
#include <string.h>

#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/util.h"

/* Cap on the server's error message we quote. */
#define OPENAI_MAX_SERVER_MSG 300

void bg_response_init(bg_response *r)
{
    memset(r, 0, sizeof(*r));
    bg_buf_init(&r->text, BG_MAX_ANSWER);
    r->prompt_tokens = -1;
    r->completion_tokens = -1;
}

void bg_response_dispose(bg_response *r)
{
    if (r == NULL)
        return;
    bg_buf_dispose(&r->text);
}

long bg_response_output_tokens(const bg_response *r)
{
    if (r->completion_tokens >= 0)
        return r->completion_tokens;
    return r->content_chunks;
}

/* --- requests --- */

/* Adds or replaces member `key` of obj with item (which obj then owns). */
static int openai_set(cJSON *obj, const char *key, cJSON *item)
{
    if (item == NULL)
        return BG_ENOMEM;
    if (cJSON_HasObjectItem(obj, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item) ? 0 : BG_ENOMEM;
    return cJSON_AddItemToObject(obj, key, item) ? 0 : BG_ENOMEM;
}

/* Adds "stream" and, when streaming, asks for a final usage chunk. */
static int openai_set_stream(cJSON *req, bool stream)
{
    cJSON *so;

    if (openai_set(req, "stream", cJSON_CreateBool(stream)) < 0)
        return BG_ENOMEM;
    if (!stream || cJSON_HasObjectItem(req, "stream_options"))
        return 0; /* the case's own stream_options win */
    so = cJSON_CreateObject();
    if (so == NULL || cJSON_AddTrueToObject(so, "include_usage") == NULL) {
        cJSON_Delete(so);
        return BG_ENOMEM;
    }
    return openai_set(req, "stream_options", so);
}

/* Copies each member of defaults that req does not have (the case's own value wins). */
static int add_defaults(cJSON *req, const cJSON *defaults)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, defaults)
    {
        if (cJSON_HasObjectItem(req, it->string))
            continue;
        cJSON *copy = cJSON_Duplicate(it, 1);
        if (copy == NULL || !cJSON_AddItemToObject(req, it->string, copy)) {
            cJSON_Delete(copy);
            return -1;
        }
    }
    return 0;
}

int bg_openai_build_request(char **out, const cJSON *body, const bg_request_opts *opts,
                            bg_error *err)
{
    cJSON *req = NULL;
    int rc = 0;

    *out = NULL;
    if (body != NULL && !cJSON_IsObject(body))
        return bg_error_set(err, BG_EINVAL, "request body: expected an object, got %s",
                            bg_json_type_name(body));
    req = body != NULL ? cJSON_Duplicate(body, 1) : cJSON_CreateObject();
    if (req == NULL)
        goto nomem;
    if (opts != NULL && add_defaults(req, opts->defaults) < 0)
        goto nomem;
    if (opts != NULL && opts->model != NULL && !cJSON_HasObjectItem(req, "model") &&
        openai_set(req, "model", cJSON_CreateString(opts->model)) < 0)
        goto nomem;
    if (openai_set_stream(req, opts != NULL && opts->stream) < 0)
        goto nomem;
    *out = bg_json_print(req);
    if (*out == NULL)
        goto nomem;
    goto cleanup;
nomem:
    rc = bg_error_set(err, BG_ENOMEM, "out of memory");
cleanup:
    cJSON_Delete(req);
    return rc;
}

char *bg_openai_build_probe(const char *model, const char *content)
{
    cJSON *req = cJSON_CreateObject();
    cJSON *msgs = cJSON_AddArrayToObject(req, "messages");
    cJSON *m = cJSON_CreateObject();
    char *out = NULL;
    if (!msgs || !m || !cJSON_AddItemToArray(msgs, m)) {
        cJSON_Delete(m);
        goto cleanup;
    }
    if (!cJSON_AddStringToObject(m, "role", "user") ||
        !cJSON_AddStringToObject(m, "content", content) ||
        !cJSON_AddStringToObject(req, "model", model) ||
        !cJSON_AddNumberToObject(req, "max_tokens", 8) || !cJSON_AddFalseToObject(req, "stream"))
        goto cleanup;
    out = bg_json_print(req);
cleanup:
    cJSON_Delete(req);
    return out;
}

char *bg_openai_build_embeddings(const char *model, const char *input, size_t len)
{
    cJSON *req = cJSON_CreateObject();
    char *text = bg_strndup(input != NULL ? input : "", input != NULL ? len : 0);
    char *out = NULL;

    if (req == NULL || text == NULL)
        goto cleanup;
    if (model != NULL && cJSON_AddStringToObject(req, "model", model) == NULL)
        goto cleanup;
    if (cJSON_AddStringToObject(req, "input", text) == NULL)
        goto cleanup;
    out = bg_json_print(req);
cleanup:
    free(text);
    cJSON_Delete(req);
    return out;
}

/* --- shared parsing helpers --- */

/* Parses exactly body[0..len) as one JSON value (trailing whitespace allowed).
 * `what` names the document in messages ("response", "stream chunk"). */
static int openai_parse_json(cJSON **out, const char *body, size_t len, const char *what,
                             bg_error *err)
{
    const char *end = NULL;
    cJSON *root;

    *out = NULL;
    if (body == NULL || len == 0)
        return bg_error_set(err, BG_EPROTO, "%s is empty", what);
    root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root != NULL) {
        while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\n' ||
                                    *end == '\r'))
            end++;
        if (end == body + len) {
            *out = root;
            return 0;
        }
        cJSON_Delete(root); /* a value followed by more text */
    }
    if (end == NULL || end < body || end > body + len)
        end = body;
    return bg_error_set(err, BG_EPROTO, "%s is not JSON (at byte %zu)", what,
                        (size_t)(end - body) + 1);
}

/* Recognises the error shapes servers send: {"error": {"message": …}}, {"error": "…"}
 * and vLLM's older {"object": "error", "message": …}. Returns BG_EPROTO when root is an
 * error, else 0. */
static int openai_check_error(const cJSON *root, bg_error *err)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *msg = NULL;
    const cJSON *object = cJSON_GetObjectItemCaseSensitive(root, "object");
    char text[OPENAI_MAX_SERVER_MSG + 8];

    if (cJSON_IsObject(e))
        msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    else if (cJSON_IsString(e))
        msg = e;
    else if (cJSON_IsString(object) && strcmp(object->valuestring, "error") == 0)
        msg = cJSON_GetObjectItemCaseSensitive(root, "message");
    else if (e == NULL || cJSON_IsNull(e))
        return 0;

    if (!cJSON_IsString(msg))
        return bg_error_set(err, BG_EPROTO, "error from server (no message)");
    bg_excerpt(text, sizeof(text), msg->valuestring, strlen(msg->valuestring),
               OPENAI_MAX_SERVER_MSG);
    return bg_error_set(err, BG_EPROTO, "error from server: %s", text);
}

/* Parses the document and rejects error bodies and non-objects. */
static int openai_parse_object(cJSON **out, const char *body, size_t len, const char *what,
                               bg_error *err)
{
    int rc = openai_parse_json(out, body, len, what, err);

    if (rc < 0)
        return rc;
    if (!cJSON_IsObject(*out))
        rc = bg_error_set(err, BG_EPROTO, "%s: expected an object, got %s", what,
                          bg_json_type_name(*out));
    else
        rc = openai_check_error(*out, err);
    if (rc < 0) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* Reads a token count: a non-negative integer, else -1 (left as unknown). */
static long openai_count(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e15))
        return -1;
    return (long)v->valuedouble;
}

/* Copies "model", "usage" and the choice's "finish_reason" when present. */
static void openai_take_meta(bg_response *r, const cJSON *root, const cJSON *choice)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    const cJSON *finish = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");

    if (cJSON_IsString(model))
        bg_strlcpy(r->model, model->valuestring, sizeof(r->model));
    if (cJSON_IsString(finish))
        bg_strlcpy(r->finish_reason, finish->valuestring, sizeof(r->finish_reason));
    if (cJSON_IsObject(usage)) {
        long prompt = openai_count(usage, "prompt_tokens");
        long completion = openai_count(usage, "completion_tokens");

        if (prompt >= 0)
            r->prompt_tokens = prompt;
        if (completion >= 0)
            r->completion_tokens = completion;
    }
}

/* Appends answer text, enforcing BG_MAX_ANSWER. */
static int openai_append_text(bg_response *r, const char *s, bg_error *err)
{
    int rc = bg_buf_puts(&r->text, s);

    if (rc == BG_ETOOBIG)
        return bg_error_set(err, BG_ETOOBIG, "answer longer than %u bytes", BG_MAX_ANSWER);
    if (rc < 0)
        return bg_error_set(err, rc, "out of memory");
    return 0;
}

/* Finds the text member of a choice: message.content / delta.content (chat) or text.
 * A missing or null member is *out = NULL; another non-string type is an error. */
static int openai_choice_text(const char **out, const cJSON *choice, bool chat, bool delta,
                              bg_error *err)
{
    const char *holder = delta ? "delta" : "message";
    const cJSON *parent = choice;
    const cJSON *text;

    *out = NULL;
    if (chat) {
        parent = cJSON_GetObjectItemCaseSensitive(choice, holder);
        if (parent == NULL || cJSON_IsNull(parent)) {
            if (delta)
                return 0; /* e.g. a final chunk with only finish_reason */
            return bg_error_set(err, BG_EPROTO, "choices[0] has no message");
        }
        if (!cJSON_IsObject(parent))
            return bg_error_set(err, BG_EPROTO, "choices[0].%s: expected an object, got %s",
                                holder, bg_json_type_name(parent));
    }
    text = cJSON_GetObjectItemCaseSensitive(parent, chat ? "content" : "text");
    if (text == NULL || cJSON_IsNull(text))
        return 0;
    if (!cJSON_IsString(text))
        return bg_error_set(err, BG_EPROTO, "choices[0].%s%s: expected a string, got %s",
                            chat ? holder : "", chat ? ".content" : "text",
                            bg_json_type_name(text));
    *out = text->valuestring;
    return 0;
}

/* --- whole responses --- */

int bg_openai_parse_response(bg_response *r, bool chat, const char *body, size_t len,
                             bg_error *err)
{
    cJSON *root = NULL;
    const cJSON *choices;
    const cJSON *choice;
    const char *text = NULL;
    int rc;

    rc = openai_parse_object(&root, body, len, "response", err);
    if (rc < 0)
        goto cleanup;
    choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    choice = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    if (choice == NULL) {
        rc = bg_error_set(err, BG_EPROTO, "response has no choices");
        goto cleanup;
    }
    if (!cJSON_IsObject(choice)) {
        rc = bg_error_set(err, BG_EPROTO, "choices[0]: expected an object, got %s",
                          bg_json_type_name(choice));
        goto cleanup;
    }
    rc = openai_choice_text(&text, choice, chat, false, err);
    if (rc == 0 && text != NULL)
        rc = openai_append_text(r, text, err);
    if (rc == 0)
        openai_take_meta(r, root, choice);
cleanup:
    cJSON_Delete(root);
    return rc;
}

/* --- streamed chunks --- */

/* True when data, without surrounding whitespace, is exactly "[DONE]". */
static bool openai_is_done(const char *data, size_t len)
{
    static const char ws[] = " \t\r\n";

    while (len > 0 && data[0] != '\0' && strchr(ws, data[0]) != NULL) {
        data++;
        len--;
    }
    while (len > 0 && data[len - 1] != '\0' && strchr(ws, data[len - 1]) != NULL)
        len--;
    return len == 6 && memcmp(data, "[DONE]", 6) == 0;
}

/* The choice of a chunk that belongs to the first answer: index 0 or no index. With n > 1
 * servers interleave chunks of other indexes, which we skip. */
static const cJSON *openai_chunk_choice(const cJSON *choices)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, choices) {
        const cJSON *index = cJSON_GetObjectItemCaseSensitive(c, "index");

        if (index == NULL || (cJSON_IsNumber(index) && index->valuedouble == 0))
            return c;
    }
    return NULL;
}

/* Finds a chunk's choice for the first answer (NULL in the usage chunk, whose "choices"
 * is empty) and its text (NULL when it carries none). */
static int openai_chunk_text(const char **text, const cJSON **choice, const cJSON *root,
                             bool chat, bg_error *err)
{
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");

    *text = NULL;
    *choice = NULL;
    if (choices != NULL && !cJSON_IsNull(choices) && !cJSON_IsArray(choices))
        return bg_error_set(err, BG_EPROTO, "choices: expected an array, got %s",
                            bg_json_type_name(choices));
    *choice = openai_chunk_choice(choices);
    if (*choice == NULL)
        return 0;
    if (!cJSON_IsObject(*choice))
        return bg_error_set(err, BG_EPROTO, "choices[0]: expected an object, got %s",
                            bg_json_type_name(*choice));
    return openai_choice_text(text, *choice, chat, true, err);
}

int bg_openai_apply_chunk(bg_response *r, bool chat, const char *data, size_t len,
                          bool *had_text, bg_error *err)
{
    cJSON *root = NULL;
    const cJSON *choice = NULL;
    const char *text = NULL;
    int rc;

    if (had_text != NULL)
        *had_text = false;
    if (openai_is_done(data, len)) {
        r->done = true;
        return 0;
    }
    rc = openai_parse_object(&root, data, len, "stream chunk", err);
    if (rc == 0)
        rc = openai_chunk_text(&text, &choice, root, chat, err);
    if (rc == 0 && text != NULL && text[0] != '\0') {
        rc = openai_append_text(r, text, err);
        if (rc == 0) {
            r->content_chunks++;
            if (had_text != NULL)
                *had_text = true;
        }
    }
    if (rc == 0)
        openai_take_meta(r, root, choice);
    cJSON_Delete(root);
    return rc;
}

/* --- /v1/models --- */

/* The "data" array of a models body. */
static int openai_models_data(cJSON **root, const cJSON **data, const char *body, size_t len,
                              bg_error *err)
{
    int rc = openai_parse_object(root, body, len, "models response", err);

    if (rc < 0)
        return rc;
    *data = cJSON_GetObjectItemCaseSensitive(*root, "data");
    if (!cJSON_IsArray(*data)) {
        cJSON_Delete(*root);
        *root = NULL;
        return bg_error_set(err, BG_EPROTO, "models response has no data array");
    }
    return 0;
}

int bg_openai_parse_models(char **out_first, const char *body, size_t len, bg_error *err)
{
    cJSON *root = NULL;
    const cJSON *data = NULL;
    const cJSON *first;
    const cJSON *id;
    int rc;

    *out_first = NULL;
    rc = openai_models_data(&root, &data, body, len, err);
    if (rc < 0)
        return rc;
    first = cJSON_GetArrayItem(data, 0);
    id = cJSON_GetObjectItemCaseSensitive(first, "id");
    if (first == NULL)
        rc = bg_error_set(err, BG_EPROTO, "models response lists no models");
    else if (!cJSON_IsString(id))
        rc = bg_error_set(err, BG_EPROTO, "data[0].id: expected a string, got %s",
                          bg_json_type_name(id));
    else if ((*out_first = bg_strdup(id->valuestring)) == NULL)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    cJSON_Delete(root);
    return rc;
}

bool bg_openai_models_has(const char *body, size_t len, const char *model)
{
    cJSON *root = NULL;
    const cJSON *data = NULL;
    const cJSON *item;
    bool found = false;

    if (model == NULL || openai_models_data(&root, &data, body, len, NULL) < 0)
        return false;
    cJSON_ArrayForEach(item, data) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");

        if (cJSON_IsString(id) && strcmp(id->valuestring, model) == 0) {
            found = true;
            break;
        }
    }
    cJSON_Delete(root);
    return found;
}

/* --- /v1/embeddings --- */

/* Copies a JSON array of numbers into a new array of doubles. */
static int openai_copy_vector(double **out, size_t *dim, const cJSON *arr, bg_error *err)
{
    size_t n = 0;
    const cJSON *v;
    double *vec;

    cJSON_ArrayForEach(v, arr) {
        if (!cJSON_IsNumber(v))
            return bg_error_set(err, BG_EPROTO, "data[0].embedding[%zu]: expected a number, "
                                "got %s", n, bg_json_type_name(v));
        if (++n > BG_MAX_EMBEDDING_DIM)
            return bg_error_set(err, BG_ETOOBIG, "data[0].embedding has more than %u "
                                "elements", (unsigned)BG_MAX_EMBEDDING_DIM);
    }
    if (n == 0)
        return bg_error_set(err, BG_EPROTO, "data[0].embedding is empty");
    vec = calloc(n, sizeof(*vec));
    if (vec == NULL)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    n = 0;
    cJSON_ArrayForEach(v, arr)
        vec[n++] = v->valuedouble;
    *out = vec;
    *dim = n;
    return 0;
}

int bg_openai_parse_embedding(double **out, size_t *dim, const char *body, size_t len,
                              bg_error *err)
{
    cJSON *root = NULL;
    const cJSON *data;
    const cJSON *first;
    const cJSON *emb;
    int rc;

    *out = NULL;
    *dim = 0;
    rc = openai_parse_object(&root, body, len, "embeddings response", err);
    if (rc < 0)
        return rc;
    data = cJSON_GetObjectItemCaseSensitive(root, "data");
    first = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, 0) : NULL;
    emb = cJSON_GetObjectItemCaseSensitive(first, "embedding");
    if (first == NULL)
        rc = bg_error_set(err, BG_EPROTO, "embeddings response has no data");
    else if (emb == NULL)
        rc = bg_error_set(err, BG_EPROTO, "data[0] has no embedding");
    else if (!cJSON_IsArray(emb))
        rc = bg_error_set(err, BG_EPROTO, "data[0].embedding: expected an array, got %s",
                          bg_json_type_name(emb));
    else
        rc = openai_copy_vector(out, dim, emb, err);
    cJSON_Delete(root);
    return rc;
}
