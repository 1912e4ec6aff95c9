/* metrics.c — bg-mock's /metrics: the vLLM metrics bg-gate scrapes, and two of bg-mock's
 * own that let tests check the client: the peak of concurrently active completion requests
 * (is --concurrency a cap?) and the connections accepted (are connections kept alive?).
 *
 * Counters and two histograms (end-to-end latency, time to first token) live behind one
 * mutex; handlers update them from many connection threads. Rendering follows the
 * Prometheus text format 0.0.4 with vLLM's metric names and its model_name label, and
 * vLLM's latency buckets (cumulative _bucket lines, then _sum and _count).
 */
#include <string.h>

#include "mock.h"

/* Upper bounds in seconds and their labels as vLLM (Python) prints them. */
static const double bucket_le[BG_MOCK_HIST_BUCKETS - 1] = {
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
    0.75,  1.0,   2.5,  5.0,  7.5,  10.0, 20.0, 40.0, 80.0};
static const char *const bucket_label[BG_MOCK_HIST_BUCKETS] = {
    "0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5",
    "0.75",  "1.0",   "2.5",  "5.0",  "7.5",  "10.0", "20.0", "40.0", "80.0", "+Inf"};

void bg_mock_metrics_init(bg_mock_metrics *m)
{
    memset(m, 0, sizeof(*m));
    pthread_mutex_init(&m->mu, NULL);
}

void bg_mock_metrics_dispose(bg_mock_metrics *m)
{
    if (m != NULL)
        pthread_mutex_destroy(&m->mu);
}

static void hist_observe(bg_mock_hist *h, double v)
{
    int i = 0;
    while (i < BG_MOCK_HIST_BUCKETS - 1 && v > bucket_le[i])
        i++;
    h->buckets[i]++;
    h->count++;
    h->sum += v;
}

void bg_mock_metrics_started(bg_mock_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    m->running++;
    pthread_mutex_unlock(&m->mu);
}

void bg_mock_metrics_finished(bg_mock_metrics *m, const char *finish_reason, double e2e_s,
                              long prompt_tokens, long generation_tokens)
{
    pthread_mutex_lock(&m->mu);
    m->running--;
    if (finish_reason != NULL) {
        if (strcmp(finish_reason, "length") == 0)
            m->success_length++;
        else
            m->success_stop++;
        m->prompt_tokens += (unsigned long long)prompt_tokens;
        m->generation_tokens += (unsigned long long)generation_tokens;
        hist_observe(&m->e2e, e2e_s);
    }
    pthread_mutex_unlock(&m->mu);
}

void bg_mock_metrics_ttft(bg_mock_metrics *m, double seconds)
{
    pthread_mutex_lock(&m->mu);
    hist_observe(&m->ttft, seconds);
    pthread_mutex_unlock(&m->mu);
}

void bg_mock_metrics_active(bg_mock_metrics *m, int delta)
{
    pthread_mutex_lock(&m->mu);
    m->active += delta;
    if (m->active > m->active_max)
        m->active_max = m->active;
    pthread_mutex_unlock(&m->mu);
}

void bg_mock_metrics_connection(bg_mock_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    m->connections++;
    pthread_mutex_unlock(&m->mu);
}

/* Label values escape backslash, double quote and newline. */
static int put_label_value(bg_buf *out, const char *v)
{
    int rc = 0;
    for (; *v && rc == 0; v++) {
        if (*v == '\\')
            rc = bg_buf_puts(out, "\\\\");
        else if (*v == '"')
            rc = bg_buf_puts(out, "\\\"");
        else if (*v == '\n')
            rc = bg_buf_puts(out, "\\n");
        else
            rc = bg_buf_putc(out, *v);
    }
    return rc;
}

static int put_header(bg_buf *out, const char *name, const char *type, const char *help)
{
    return bg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{extra,model_name="M"} value — extra is "" or `key="v",`. */
static int put_sample(bg_buf *out, const char *name, const char *extra, const char *model,
                      const char *value)
{
    int rc = bg_buf_printf(out, "%s{%smodel_name=\"", name, extra);
    if (rc == 0)
        rc = put_label_value(out, model);
    if (rc == 0)
        rc = bg_buf_printf(out, "\"} %s\n", value);
    return rc;
}

static int put_hist(bg_buf *out, const char *name, const char *help, const bg_mock_hist *h,
                    const char *model)
{
    char key[160], extra[48], val[64];
    unsigned long long cum = 0;
    int rc = put_header(out, name, "histogram", help);
    for (int i = 0; i < BG_MOCK_HIST_BUCKETS && rc == 0; i++) {
        cum += h->buckets[i];
        snprintf(key, sizeof(key), "%s_bucket", name);
        snprintf(extra, sizeof(extra), "le=\"%s\",", bucket_label[i]);
        snprintf(val, sizeof(val), "%llu", cum);
        rc = put_sample(out, key, extra, model, val);
    }
    snprintf(key, sizeof(key), "%s_sum", name);
    snprintf(val, sizeof(val), "%.9g", h->sum);
    if (rc == 0)
        rc = put_sample(out, key, "", model, val);
    snprintf(key, sizeof(key), "%s_count", name);
    snprintf(val, sizeof(val), "%llu", h->count);
    if (rc == 0)
        rc = put_sample(out, key, "", model, val);
    return rc;
}

static int put_counter(bg_buf *out, const char *name, const char *type, const char *help,
                       const char *model, unsigned long long v)
{
    char val[32];
    snprintf(val, sizeof(val), "%llu", v);
    int rc = put_header(out, name, type, help);
    return rc ? rc : put_sample(out, name, "", model, val);
}

static int render_locked(bg_buf *out, const bg_mock_metrics *m, const char *model)
{
    char v[32];
    int rc = put_counter(out, "vllm:num_requests_running", "gauge",
                         "Number of requests currently running on GPU.", model,
                         (unsigned long long)(m->running > 0 ? m->running : 0));
    if (rc == 0)
        rc = put_counter(out, "vllm:num_requests_waiting", "gauge",
                         "Number of requests waiting to be processed.", model, 0);
    if (rc == 0)
        rc = put_header(out, "vllm:request_success_total", "counter",
                        "Count of successfully processed requests.");
    snprintf(v, sizeof(v), "%llu", m->success_stop);
    if (rc == 0)
        rc = put_sample(out, "vllm:request_success_total", "finished_reason=\"stop\",", model, v);
    snprintf(v, sizeof(v), "%llu", m->success_length);
    if (rc == 0)
        rc = put_sample(out, "vllm:request_success_total", "finished_reason=\"length\",", model, v);
    if (rc == 0)
        rc = put_counter(out, "vllm:prompt_tokens_total", "counter",
                         "Number of prefill tokens processed.", model, m->prompt_tokens);
    if (rc == 0)
        rc = put_counter(out, "vllm:generation_tokens_total", "counter",
                         "Number of generation tokens processed.", model, m->generation_tokens);
    if (rc == 0)
        rc = put_hist(out, "vllm:e2e_request_latency_seconds",
                      "Histogram of end to end request latency in seconds.", &m->e2e, model);
    if (rc == 0)
        rc = put_hist(out, "vllm:time_to_first_token_seconds",
                      "Histogram of time to first token in seconds.", &m->ttft, model);
    if (rc == 0)
        rc = put_counter(out, "bg_mock_requests_active_max", "gauge",
                         "Most completion requests active at once (body parsed, response not "
                         "yet queued).",
                         model, (unsigned long long)m->active_max);
    if (rc == 0)
        rc = put_counter(out, "bg_mock_connections_total", "counter",
                         "TCP connections accepted.", model, m->connections);
    return rc;
}

int bg_mock_metrics_render(bg_buf *out, bg_mock_metrics *m, const char *model)
{
    pthread_mutex_lock(&m->mu);
    int rc = render_locked(out, m, model);
    pthread_mutex_unlock(&m->mu);
    return rc;
}
