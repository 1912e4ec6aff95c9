/* ci.c — collapsible sections and annotations for GitHub Actions and GitLab CI (ci.h).
 *
 * Everything is formatted into a bg_buf first (so tests pin the exact bytes) and then
 * written with one fwrite + fflush: the runner interleaves our stdout and stderr by
 * arrival, and a section marker stuck in a stdio buffer would land after the lines it
 * should enclose.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bggate/ci.h"
#include "bggate/log.h"

static bg_ci_mode ci_mode = BG_CI_OFF;
static bool ci_commands_to_stderr;
static bool ci_section_open;

static bool env_is_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcmp(v, "true") == 0;
}

static int parse_mode(bg_ci_mode *out, const char *text, bool *is_auto)
{
    *is_auto = false;
    if (strcmp(text, "auto") == 0)
        *is_auto = true;
    else if (strcmp(text, "github") == 0)
        *out = BG_CI_GITHUB;
    else if (strcmp(text, "gitlab") == 0)
        *out = BG_CI_GITLAB;
    else if (strcmp(text, "off") == 0 || strcmp(text, "none") == 0)
        *out = BG_CI_OFF;
    else
        return -1;
    return 0;
}

bg_ci_mode bg_ci_detect(void)
{
    const char *forced = getenv("BG_GATE_CI");
    bg_ci_mode m = BG_CI_OFF;
    bool is_auto = true;
    if (forced && *forced && parse_mode(&m, forced, &is_auto) == 0 && !is_auto)
        return m;
    if (env_is_true("GITHUB_ACTIONS"))
        return BG_CI_GITHUB;
    if (env_is_true("GITLAB_CI"))
        return BG_CI_GITLAB;
    return BG_CI_OFF;
}

int bg_ci_parse(bg_ci_mode *out, const char *text, bg_error *err)
{
    bool is_auto = false;
    if (!text || parse_mode(out, text, &is_auto) < 0)
        return bg_error_set(err, BG_EINVAL,
                            "--ci: expected auto, github, gitlab or off, got \"%s\"",
                            text ? text : "");
    if (is_auto)
        *out = bg_ci_detect();
    return 0;
}

void bg_ci_set(bg_ci_mode mode, bool commands_to_stderr)
{
    ci_mode = mode;
    ci_commands_to_stderr = commands_to_stderr;
}

bg_ci_mode bg_ci_get(void)
{
    return ci_mode;
}

/* --- formatting --- */

/* The runner's escaping: % CR LF always; : and , too inside properties. */
static int put_escaped(bg_buf *b, const char *s, bool property)
{
    int rc = 0;
    for (; s && *s && rc == 0; s++) {
        switch (*s) {
        case '%': rc = bg_buf_puts(b, "%25"); break;
        case '\r': rc = bg_buf_puts(b, "%0D"); break;
        case '\n': rc = bg_buf_puts(b, "%0A"); break;
        case ':': rc = property ? bg_buf_puts(b, "%3A") : bg_buf_putc(b, ':'); break;
        case ',': rc = property ? bg_buf_puts(b, "%2C") : bg_buf_putc(b, ','); break;
        default: rc = bg_buf_putc(b, *s);
        }
    }
    return rc;
}

static const char *level_name(bg_ci_level level)
{
    switch (level) {
    case BG_CI_ERROR: return "error";
    case BG_CI_WARNING: return "warning";
    default: return "notice";
    }
}

int bg_ci_format_annotation(bg_buf *out, bg_ci_level level, const char *file, int line,
                            const char *title, const char *message)
{
    const char *sep = " ";
    int rc = bg_buf_printf(out, "::%s", level_name(level));
    if (rc == 0 && file && *file) {
        rc = bg_buf_puts(out, " file=");
        if (rc == 0) rc = put_escaped(out, file, true);
        sep = ",";
    }
    if (rc == 0 && file && *file && line > 0) {
        rc = bg_buf_printf(out, ",line=%d", line);
    }
    if (rc == 0 && title && *title) {
        rc = bg_buf_printf(out, "%stitle=", sep);
        if (rc == 0) rc = put_escaped(out, title, true);
    }
    if (rc == 0) rc = bg_buf_puts(out, "::");
    if (rc == 0) rc = put_escaped(out, message ? message : "", false);
    if (rc == 0) rc = bg_buf_putc(out, '\n');
    return rc;
}

/* GitLab's section names allow letters, digits, '_', '.', '-'; anything else becomes '_'. */
static int put_section_id(bg_buf *b, const char *id)
{
    int rc = 0;
    for (; id && *id && rc == 0; id++) {
        char ch = *id;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
        rc = bg_buf_putc(b, ok ? ch : '_');
    }
    return rc;
}

/* A title on one line: control characters would end the marker line early. */
static int put_title(bg_buf *b, const char *title)
{
    int rc = 0;
    for (; title && *title && rc == 0; title++)
        rc = bg_buf_putc(b, (unsigned char)*title < 0x20 ? ' ' : *title);
    return rc;
}

int bg_ci_format_section(bg_buf *out, bg_ci_mode mode, bool begin, const char *id,
                         const char *title, long epoch)
{
    int rc = 0;
    if (mode == BG_CI_GITHUB) {
        rc = bg_buf_puts(out, begin ? "::group::" : "::endgroup::");
        if (rc == 0 && begin) rc = put_title(out, title);
        return rc ? rc : bg_buf_putc(out, '\n');
    }
    if (mode != BG_CI_GITLAB)
        return 0;
    rc = bg_buf_printf(out, "\033[0Ksection_%s:%ld:", begin ? "start" : "end", epoch);
    if (rc == 0) rc = put_section_id(out, id);
    if (rc == 0 && begin) rc = bg_buf_puts(out, "[collapsed=true]");
    if (rc == 0) rc = bg_buf_puts(out, "\r\033[0K");
    if (rc == 0 && begin) rc = put_title(out, title);
    return rc ? rc : bg_buf_putc(out, '\n');
}

/* --- printing --- */

static void emit(const bg_buf *b, FILE *f)
{
    fflush(stdout);
    fflush(stderr);
    if (b->len)
        fwrite(b->data, 1, b->len, f);
    fflush(f);
}

/* GitHub's workflow commands go to stdout unless it carries a result; GitLab's markers
 * belong in the log, which is stderr. */
static FILE *command_stream(void)
{
    return ci_mode == BG_CI_GITHUB && !ci_commands_to_stderr ? stdout : stderr;
}

static char section_id[64];

void bg_ci_section_begin(const char *id, const char *title)
{
    if (ci_mode == BG_CI_OFF || bg_log_get_level() == BG_LOG_QUIET)
        return;
    if (ci_section_open)
        bg_ci_section_end();
    bg_buf b;
    bg_buf_init(&b, 4096);
    if (bg_ci_format_section(&b, ci_mode, true, id, title, (long)time(NULL)) == 0)
        emit(&b, command_stream());
    bg_buf_dispose(&b);
    snprintf(section_id, sizeof section_id, "%s", id ? id : "");
    ci_section_open = true;
}

void bg_ci_section_end(void)
{
    if (ci_mode == BG_CI_OFF || !ci_section_open)
        return;
    bg_buf b;
    bg_buf_init(&b, 4096);
    if (bg_ci_format_section(&b, ci_mode, false, section_id, NULL, (long)time(NULL)) == 0)
        emit(&b, command_stream());
    bg_buf_dispose(&b);
    ci_section_open = false;
}

void bg_ci_annotate(bg_ci_level level, const char *file, int line, const char *title,
                    const char *message)
{
    if (ci_mode != BG_CI_GITHUB)
        return;
    bg_buf b;
    bg_buf_init(&b, 8192);
    if (bg_ci_format_annotation(&b, level, file, line, title, message) == 0)
        emit(&b, command_stream());
    bg_buf_dispose(&b);
}
