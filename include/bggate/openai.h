/* openai.h — OpenAI-compatible wire format: building request bodies for
 * /chat/completions and /completions, and parsing responses (whole bodies and streamed
 * SSE chunks) into a bg_response. Also /v1/models and /v1/embeddings.
 *
 * No I/O here; the runner owns the transfers.
 */
#ifndef BGGATE_OPENAI_H
#define BGGATE_OPENAI_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"

/* What we keep of one answer. Text is capped at BG_MAX_ANSWER. */
typedef struct bg_response {
    bg_buf text;              /* message content / completion text */
    char finish_reason[32];   /* "" if none was sent */
    char model[128];          /* "model" the server answered with; "" if none */
    long prompt_tokens;       /* from usage; -1 if absent */
    long completion_tokens;   /* from usage; -1 if absent */
    int content_chunks;       /* streamed chunks that carried text */
    bool done;                /* saw "data: [DONE]" (streaming) */
} bg_response;

void bg_response_init(bg_response *r);
void bg_response_dispose(bg_response *r);
/* Output tokens: usage.completion_tokens when known, else the count of content chunks. */
long bg_response_output_tokens(const bg_response *r);

/* Options applied on top of a case's body. */
typedef struct bg_request_opts {
    const char *model;        /* sets "model" unless the case body has one */
    bool stream;              /* sets "stream" and stream_options.include_usage */
    const cJSON *defaults;    /* members added when the case's body lacks them (gate.request) */
} bg_request_opts;

/* Builds the JSON body to POST: a copy of `body` (the case's request members) plus
 * "model" and "stream" (+ "stream_options": {"include_usage": true}). Caller frees. */
int bg_openai_build_request(char **out, const cJSON *body, const bg_request_opts *opts,
                            bg_error *err);

/* Parses a whole (non-streamed) response body. chat selects choices[0].message.content
 * versus choices[0].text. An {"error": {...}} body or missing choices is BG_EPROTO with
 * the reason. */
int bg_openai_parse_response(bg_response *r, bool chat, const char *body, size_t len,
                             bg_error *err);

/* Applies the data payload of one SSE event of a streamed response ("[DONE]" sets
 * r->done). *had_text is set when the chunk carried non-empty text (a token arrival).
 * A chunk with usage and no choices (include_usage) only fills the token counts. */
int bg_openai_apply_chunk(bg_response *r, bool chat, const char *data, size_t len,
                          bool *had_text, bg_error *err);

/* Parses a /v1/models body; *out_first is the first model id (caller frees). */
int bg_openai_parse_models(char **out_first, const char *body, size_t len, bg_error *err);
/* True when a /v1/models body lists `model` as an id. */
bool bg_openai_models_has(const char *body, size_t len, const char *model);

/* A minimal, unstreamed /chat/completions body: one user message `content`, max_tokens 8
 * (warm-up and flip verification: an answer at all, cheaply). Caller frees; NULL on
 * allocation failure. */
char *bg_openai_build_probe(const char *model, const char *content);
/* Builds an /embeddings request body for `input` (caller frees). */
char *bg_openai_build_embeddings(const char *model, const char *input, size_t len);
/* Parses data[0].embedding into a new array (caller frees) of *dim doubles. */
int bg_openai_parse_embedding(double **out, size_t *dim, const char *body, size_t len,
                              bg_error *err);

#endif
