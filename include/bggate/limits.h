/* limits.h — every cap on data that comes from outside, in one place.
 *
 * Exceeding a cap is an error that names the source (BG_ETOOBIG), never a crash or an
 * unbounded allocation.
 */
#ifndef BGGATE_LIMITS_H
#define BGGATE_LIMITS_H

#define BG_MAX_CONFIG_BYTES (4u << 20)        /* bg-gate.json */
#define BG_MAX_SUITE_BYTES (256u << 20)       /* one suite file */
#define BG_MAX_SUITE_LINE (1u << 20)          /* one case (one JSONL line) */
#define BG_MAX_CASES 1000000u                 /* cases in one suite file */
#define BG_MAX_RESPONSE_BODY (8u << 20)       /* a non-streamed HTTP response body */
#define BG_MAX_SSE_LINE (1u << 20)            /* one SSE line / event */
#define BG_MAX_ANSWER (1u << 20)              /* the assembled answer text of one request */
#define BG_MAX_EXCERPT 240                    /* answer excerpt kept per case for reports */
#define BG_MAX_REASON 256                     /* one assertion's human reason */
#define BG_MAX_ERROR_BODY 4096                /* bytes of an HTTP error body we keep */
#define BG_MAX_ENDPOINTS 64                   /* --endpoint values */
#define BG_MAX_HEADERS 32                     /* extra request headers */
#define BG_MAX_CONCURRENCY 4096
#define BG_MAX_EMBEDDING_DIM 65536
#define BG_MAX_TEMPLATE_BYTES (1u << 20)
#define BG_MAX_STATE_BYTES (1u << 20)         /* an environment's state file */

#endif
