/* template.c — rendering template cases: placeholders ({{name}}, {{a.b}}, {{items.0}})
 * filled from a case's "vars", and the result turned into the request's "messages".
 *
 * A text template becomes the user message (after an optional system message rendered
 * from the case's system_template); a JSON template (first non-blank character '[') is
 * rendered with every substitution JSON-escaped, then parsed and checked to be a
 * non-empty array of chat messages. Templates come from a bg_release (read from git by
 * release.c); this file does no I/O. Output is capped at 4 × BG_MAX_TEMPLATE_BYTES.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/buf.h"
#include "bggate/json.h"
#include "bggate/limits.h"
#include "bggate/template.h"
#include "bggate/util.h"

#define RENDER_LIMIT ((size_t)BG_MAX_TEMPLATE_BYTES * 4u)
#define NAME_EXCERPT 60

/* ------------------------------------------------------------ placeholders */

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Maps a bg_buf failure to a message. */
static int buf_error(int rc, bg_error *err)
{
    if (rc == BG_ETOOBIG)
        return bg_error_set(err, BG_ETOOBIG, "rendered text exceeds %zu bytes", RENDER_LIMIT);
    return bg_error_set(err, BG_ENOMEM, "out of memory");
}

/* Appends s as the inside of a JSON string: quotes, backslashes and control characters
 * escaped; everything else (UTF-8 included) copied as it is. */
static int append_json_escaped(bg_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = 0;
    for (const char *p = s; !rc && *p; p++) {
        unsigned char ch = (unsigned char)*p;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (ch >= 0x20) {
                rc = bg_buf_putc(b, (char)ch);
                continue;
            }
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 0xf];
        }
        rc = bg_buf_puts(b, esc);
    }
    return rc;
}

/* Finds one path segment (an object key, or an array index in decimal) under node. */
static const cJSON *lookup_segment(const cJSON *node, const char *seg, size_t n)
{
    if (cJSON_IsObject(node)) {
        const cJSON *child;
        cJSON_ArrayForEach(child, node)
            if (child->string && strlen(child->string) == n && memcmp(child->string, seg, n) == 0)
                return child;
        return NULL;
    }
    if (!cJSON_IsArray(node) || n == 0 || n > 9)
        return NULL;
    long idx = 0;
    for (size_t i = 0; i < n; i++) {
        if (seg[i] < '0' || seg[i] > '9')
            return NULL;
        idx = idx * 10 + (seg[i] - '0');
    }
    return cJSON_GetArrayItem(node, (int)idx);
}

/* Resolves a dotted path ("items.0.sku") in vars; NULL when any step is missing. */
static const cJSON *lookup_path(const cJSON *vars, const char *name, size_t len)
{
    const cJSON *node = vars;
    size_t start = 0;
    while (node && start <= len) {
        const char *dot = memchr(name + start, '.', len - start);
        size_t end = dot ? (size_t)(dot - name) : len;
        node = lookup_segment(node, name + start, end - start);
        start = end + 1;
    }
    return node;
}

/* NULL when name is a usable placeholder name: non-empty dotted segments without
 * whitespace or braces. Otherwise why not. */
static const char *name_problem(const char *name, size_t len)
{
    if (len == 0)
        return "empty placeholder {{}}";
    if (name[0] == '.' || name[len - 1] == '.')
        return "invalid placeholder";
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (is_blank(ch) || ch == '{' || ch == '}' || (ch == '.' && name[i + 1] == '.'))
            return "invalid placeholder";
    }
    return NULL;
}

/* Appends the value of one variable: strings as their text, everything else as compact
 * JSON (numbers as JSON prints them: 3, 2.5, 1e+20). */
static int append_value(bg_buf *b, const cJSON *v, int escape_json, bg_error *err)
{
    char *printed = NULL;
    const char *text = v->valuestring;
    if (!cJSON_IsString(v)) {
        printed = bg_json_print(v);
        if (!printed)
            return bg_error_set(err, BG_ENOMEM, "out of memory");
        text = printed;
    }
    int rc = escape_json ? append_json_escaped(b, text) : bg_buf_puts(b, text);
    free(printed);
    return rc ? buf_error(rc, err) : 0;
}

/* Renders the placeholder starting at text[off] ("{{"); *next gets the offset after it. */
static int render_placeholder(bg_buf *b, const char *text, size_t len, size_t off,
                              size_t *next, const cJSON *vars, int escape_json, bg_error *err)
{
    const char *open = text + off + 2;
    const char *close = memmem(open, len - off - 2, "}}", 2);
    if (!close)
        return bg_error_set(err, BG_EINVAL, "unclosed {{ at offset %zu", off);
    const char *name = open;
    size_t n = (size_t)(close - open);
    while (n && is_blank(*name))
        name++, n--;
    while (n && is_blank(name[n - 1]))
        n--;
    const char *problem = name_problem(name, n);
    if (problem) {
        char shown[NAME_EXCERPT + 8];
        bg_excerpt(shown, sizeof shown, open, (size_t)(close - open), NAME_EXCERPT);
        if (n == 0)
            return bg_error_set(err, BG_EINVAL, "%s at offset %zu", problem, off);
        return bg_error_set(err, BG_EINVAL, "%s \"{{%s}}\" at offset %zu", problem, shown, off);
    }
    const cJSON *v = lookup_path(vars, name, n);
    if (!v)
        return bg_error_set(err, BG_EINVAL, "missing variable \"%.*s\"",
                            n > 200 ? 200 : (int)n, name);
    *next = (size_t)(close - text) + 2;
    return append_value(b, v, escape_json, err);
}

static int render_into(bg_buf *b, const char *text, size_t len, const cJSON *vars,
                       int escape_json, bg_error *err)
{
    size_t off = 0;
    while (off < len) {
        const char *brace = memmem(text + off, len - off, "{{", 2);
        size_t lit_end = brace ? (size_t)(brace - text) : len;
        int rc = bg_buf_append(b, text + off, lit_end - off);
        if (rc)
            return buf_error(rc, err);
        if (!brace)
            break;
        if (len - lit_end >= 4 && memcmp(brace, "{{{{", 4) == 0) {
            rc = bg_buf_append(b, "{{", 2); /* "{{{{" is a literal "{{" */
            if (rc)
                return buf_error(rc, err);
            off = lit_end + 4;
            continue;
        }
        rc = render_placeholder(b, text, len, lit_end, &off, vars, escape_json, err);
        if (rc)
            return rc;
    }
    return 0;
}

int bg_template_render_text(char **out, const char *text, size_t len, const cJSON *vars,
                            int escape_json, bg_error *err)
{
    bg_buf b;
    bg_buf_init(&b, RENDER_LIMIT);
    *out = NULL;
    int rc = render_into(&b, text, len, vars, escape_json, err);
    if (rc)
        goto cleanup;
    *out = bg_buf_steal(&b);
    if (!*out)
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
cleanup:
    bg_buf_dispose(&b);
    return rc;
}

/* ------------------------------------------------------------ templates → messages */

/* The template's text without a UTF-8 byte order mark. */
static const char *template_text(const bg_template *t, size_t *len)
{
    const char *s = t->data ? t->data : "";
    size_t n = t->data ? t->size : 0;
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3, n -= 3;
    *len = n;
    return s;
}

static int is_json_template(const bg_template *t)
{
    size_t len;
    const char *s = template_text(t, &len);
    size_t i = 0;
    while (i < len && is_blank(s[i]))
        i++;
    return i < len && s[i] == '[';
}

/* A text template rendered as one message's content; one final newline (as editors
 * leave at the end of a file) is dropped. The message is appended to msgs. */
static int add_text_message(cJSON *msgs, const char *role, const bg_template *t,
                            const cJSON *vars, bg_error *err)
{
    size_t len;
    const char *text = template_text(t, &len);
    if (len && text[len - 1] == '\n')
        len -= (len >= 2 && text[len - 2] == '\r') ? 2 : 1;
    char *content = NULL;
    int rc = bg_template_render_text(&content, text, len, vars, 0, err);
    if (rc) {
        bg_error_prefix(err, "template \"%s\"", t->name);
        return rc;
    }
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddStringToObject(m, "role", role) ||
        !cJSON_AddStringToObject(m, "content", content) || !cJSON_AddItemToArray(msgs, m)) {
        cJSON_Delete(m);
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    }
    free(content);
    return rc;
}

static int check_content(const cJSON *content, int i, bg_error *err)
{
    if (cJSON_IsString(content))
        return 0;
    if (!cJSON_IsArray(content) || cJSON_GetArraySize(content) == 0)
        return bg_error_set(err, BG_EINVAL,
                            "[%d].content: expected a string or a non-empty array of parts, "
                            "got %s", i, content ? bg_json_type_name(content) : "nothing");
    int j = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content) {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(part, "type")))
            return bg_error_set(err, BG_EINVAL,
                                "[%d].content[%d]: expected a part with a string \"type\"", i, j);
        j++;
    }
    return 0;
}

/* The messages check of a rendered JSON template; the message is the "…" after
 * "not a JSON array of messages after rendering: ". */
static int check_messages(const cJSON *msgs, bg_error *err)
{
    if (!cJSON_IsArray(msgs))
        return bg_error_set(err, BG_EINVAL, "got %s", bg_json_type_name(msgs));
    if (cJSON_GetArraySize(msgs) == 0)
        return bg_error_set(err, BG_EINVAL, "the array is empty");
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        if (!cJSON_IsObject(m))
            return bg_error_set(err, BG_EINVAL, "[%d]: expected an object, got %s", i,
                                bg_json_type_name(m));
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        if (!cJSON_IsString(role) || !role->valuestring[0])
            return bg_error_set(err, BG_EINVAL, "[%d].role: expected a non-empty string", i);
        int rc = check_content(cJSON_GetObjectItemCaseSensitive(m, "content"), i, err);
        if (rc)
            return rc;
        i++;
    }
    return 0;
}

/* Parses the rendered text of a JSON template into *out (checked messages). */
static int parse_messages(cJSON **out, const char *text, bg_error *err)
{
    const char *end = NULL;
    size_t len = strlen(text);
    cJSON *msgs = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    while (msgs && end < text + len && is_blank(*end))
        end++;
    if (msgs && end != text + len) { /* something after the array */
        cJSON_Delete(msgs);
        msgs = NULL;
    }
    if (!msgs) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        char near[64];
        bg_excerpt(near, sizeof near, text + off, len - off, 40);
        return bg_error_set(err, BG_EINVAL, "invalid JSON at offset %zu near '%s'", off, near);
    }
    int rc = check_messages(msgs, err);
    if (rc) {
        cJSON_Delete(msgs);
        return rc;
    }
    *out = msgs;
    return 0;
}

static int render_json_template(cJSON **out, const bg_template *t, const cJSON *vars,
                                bg_error *err)
{
    size_t len;
    const char *text = template_text(t, &len);
    char *rendered = NULL;
    int rc = bg_template_render_text(&rendered, text, len, vars, 1, err);
    if (rc) {
        bg_error_prefix(err, "template \"%s\"", t->name);
        return rc;
    }
    rc = parse_messages(out, rendered, err);
    if (rc)
        bg_error_prefix(err, "template \"%s\" (%s): not a JSON array of messages after "
                             "rendering", t->name, t->path ? t->path : "?");
    free(rendered);
    return rc;
}

/* "no template \"x\" in release <short id> (templates: a, b)". */
static int no_template(const bg_release *rel, const char *name, bg_error *err)
{
    bg_buf names;
    bg_buf_init(&names, 0);
    for (size_t i = 0; i < rel->n_templates; i++)
        if (bg_buf_printf(&names, "%s%s", i ? ", " : "", rel->templates[i].name))
            break; /* out of memory: the list is only cut short */
    int rc = bg_error_set(err, BG_EINVAL, "no template \"%s\" in release %.*s (templates: %s)",
                          name, BG_RELEASE_ID_SHORT, rel->id,
                          rel->n_templates ? bg_buf_cstr(&names) : "none");
    bg_buf_dispose(&names);
    return rc;
}

/* Builds the messages of a text template case: system (optional) then user. */
static int render_text_case(cJSON **out, const bg_case *c, const bg_release *rel,
                            const bg_template *t, bg_error *err)
{
    const bg_template *sys = NULL;
    if (c->system_template) {
        sys = bg_release_template(rel, c->system_template);
        if (!sys)
            return no_template(rel, c->system_template, err);
        if (is_json_template(sys))
            return bg_error_set(err, BG_EINVAL,
                                "system_template \"%s\" (%s) is a JSON template; a system "
                                "template must be text", sys->name, sys->path ? sys->path : "?");
    }
    cJSON *msgs = cJSON_CreateArray();
    if (!msgs)
        return bg_error_set(err, BG_ENOMEM, "out of memory");
    int rc = sys ? add_text_message(msgs, "system", sys, c->vars, err) : 0;
    if (!rc)
        rc = add_text_message(msgs, "user", t, c->vars, err);
    if (rc) {
        cJSON_Delete(msgs);
        return rc;
    }
    *out = msgs;
    return 0;
}

static int render_messages(cJSON **out, const bg_case *c, const bg_release *rel,
                           bg_error *err)
{
    if (!rel)
        return bg_error_set(err, BG_EINVAL, "template \"%s\": no release to render it from",
                            c->template_name);
    const bg_template *t = bg_release_template(rel, c->template_name);
    if (!t)
        return no_template(rel, c->template_name, err);
    if (!is_json_template(t))
        return render_text_case(out, c, rel, t, err);
    if (c->system_template)
        return bg_error_set(err, BG_EINVAL,
                            "system_template: only allowed with a text template (\"%s\" is a "
                            "JSON template; put the system message in it)", t->name);
    return render_json_template(out, t, c->vars, err);
}

/* Sets body["messages"] = msgs (taking it), replacing any earlier value in place. */
static int set_messages(cJSON *body, cJSON *msgs, bg_error *err)
{
    cJSON_bool ok = cJSON_GetObjectItemCaseSensitive(body, "messages")
                        ? cJSON_ReplaceItemInObjectCaseSensitive(body, "messages", msgs)
                        : cJSON_AddItemToObject(body, "messages", msgs);
    if (ok)
        return 0;
    cJSON_Delete(msgs);
    return bg_error_set(err, BG_ENOMEM, "out of memory");
}

int bg_template_render_case(bg_case *c, const bg_release *rel, bg_error *err)
{
    if (!c->template_name)
        return 0;
    cJSON *msgs = NULL;
    int rc = render_messages(&msgs, c, rel, err);
    if (!rc && !c->body && !(c->body = cJSON_CreateObject()))
        rc = bg_error_set(err, BG_ENOMEM, "out of memory");
    if (rc) {
        cJSON_Delete(msgs);
        bg_error_prefix(err, "case \"%s\"", c->id ? c->id : "?");
        return rc;
    }
    rc = set_messages(c->body, msgs, err);
    if (rc) {
        bg_error_prefix(err, "case \"%s\"", c->id ? c->id : "?");
        return rc;
    }
    c->is_chat = true;
    return 0;
}

int bg_template_render_suite(bg_suite *s, const bg_release *rel, bg_error *err)
{
    for (size_t i = 0; i < s->n_cases; i++) {
        int rc = bg_template_render_case(&s->cases[i], rel, err);
        if (rc) {
            bg_error_prefix(err, "%s:%d", s->path ? s->path : "?", s->cases[i].line);
            return rc;
        }
    }
    return 0;
}
