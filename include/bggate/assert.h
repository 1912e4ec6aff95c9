/* assert.h — golden-case assertions: parsing/validating them and scoring an answer.
 *
 * An assertion is a JSON object {"type": "contains", "value": "Paris"} with an optional
 * "threshold", "weight" and type-specific members. "not-<type>" negates types where that
 * makes sense. Parameters are validated (and regexes compiled) once, at suite load time,
 * so a bad assertion is an input error with a position, never a runtime surprise.
 *
 * Evaluation is pure: everything an assertion needs (answer text, usage, timings,
 * embedding vectors, the judge's reply) is fetched by the runner and passed in
 * bg_assert_input, so this module does no I/O and is unit-testable on its own.
 */
#ifndef BGGATE_ASSERT_H
#define BGGATE_ASSERT_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "limits.h"

typedef enum bg_assert_kind {
    BG_ASSERT_EQUALS,
    BG_ASSERT_CONTAINS,
    BG_ASSERT_ICONTAINS,
    BG_ASSERT_CONTAINS_ANY,
    BG_ASSERT_CONTAINS_ALL,
    BG_ASSERT_STARTS_WITH,
    BG_ASSERT_REGEX,
    BG_ASSERT_IS_JSON,
    BG_ASSERT_JSON_SCHEMA,
    BG_ASSERT_JSON_PATH,
    BG_ASSERT_LEVENSHTEIN,
    BG_ASSERT_SIMILAR,
    BG_ASSERT_LLM_RUBRIC,
    BG_ASSERT_FINISH_REASON,
    BG_ASSERT_MAX_TOKENS,
    BG_ASSERT_MIN_TOKENS,
    BG_ASSERT_LATENCY,
    BG_ASSERT__COUNT
} bg_assert_kind;

/* One parsed assertion. Owned by its case; release with bg_assertion_dispose. */
typedef struct bg_assertion {
    bg_assert_kind kind;
    bool negate;          /* "not-<type>" */
    cJSON *value;         /* owned deep copy of "value" (type depends on kind), or NULL */
    double threshold;     /* meaning depends on kind; see evals/README.md */
    bool has_threshold;
    double weight;        /* default 1 */
    char *path;           /* json-path: the path expression ("a.b[0].c"); else NULL */
    char *metric;         /* latency: "e2e" (default) or "ttft"; else NULL */
    char *rubric;         /* llm-rubric: the rubric text (from "value"); else NULL */
    void *compiled;       /* regex: pcre2_code *, owned; else NULL */
} bg_assertion;

/* The name of a kind without "not-" ("contains"). */
const char *bg_assert_kind_name(bg_assert_kind kind);
/* True for kinds that need a network call by the runner (similar, llm-rubric). */
bool bg_assert_kind_needs_embeddings(bg_assert_kind kind);
bool bg_assert_kind_needs_judge(bg_assert_kind kind);

/* Parses and validates one assertion object. `path` names it for messages
 * ("assert[2]"); errors read "assert[2].value: expected a string, got a number". */
int bg_assertion_parse(bg_assertion *out, const cJSON *obj, const char *path, bg_error *err);
void bg_assertion_dispose(bg_assertion *a);

/* Everything an assertion may look at for one request. Fields that were not measured
 * are NULL / negative. */
typedef struct bg_assert_input {
    const char *text;            /* the answer (message content or completion text) */
    size_t text_len;
    const char *finish_reason;   /* NULL if unknown */
    long completion_tokens;      /* -1 if unknown */
    double e2e_ms;               /* end-to-end latency */
    double ttft_ms;              /* time to first token; < 0 when not streamed */
    /* similar: embedding of the answer and of the expected text (same dim) */
    const double *emb_answer;
    const double *emb_expected;
    size_t emb_dim;
    /* llm-rubric: the judge's raw reply content */
    const char *judge_reply;
    /* set when the runner could not fetch embeddings / judge reply */
    const char *aux_error;
} bg_assert_input;

typedef struct bg_assert_result {
    bool pass;
    bool error;                  /* could not be evaluated (counts as a failure) */
    double score;                /* 0..1 where the kind has a score, else pass ? 1 : 0 */
    char reason[BG_MAX_REASON];  /* one line: "expected to contain 'Paris'; got 'The …'" */
} bg_assert_result;

/* Scores one assertion against one answer. Never fails: problems become
 * result->error with a reason. */
void bg_assert_eval(const bg_assertion *a, const bg_assert_input *in, bg_assert_result *out);

/* The text llm-rubric asks the judge (caller frees): rubric + answer + the JSON reply
 * format {"pass": bool, "score": number, "reason": string}. */
char *bg_assert_judge_prompt(const bg_assertion *a, const char *answer, size_t answer_len);

#endif
