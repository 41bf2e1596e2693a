/* A small streaming JSON writer for --json output. Names in torrents are
 * arbitrary bytes, so every string goes through one escaping routine that
 * always produces valid JSON. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "cli.h"

void cli_json_put_string(FILE *f, const void *data, size_t n)
{
    const uint8_t *p = data;
    putc('"', f);
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c == '"' || c == '\\')
                fprintf(f, "\\%c", c);
            else if (c == '\n')
                fputs("\\n", f);
            else if (c == '\r')
                fputs("\\r", f);
            else if (c == '\t')
                fputs("\\t", f);
            else if (c < 0x20 || c == 0x7F)
                fprintf(f, "\\u%04x", c);
            else
                putc(c, f);
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = cli_utf8_seq(p + i, n - i, &cp);
        if (len == 0) {
            /* One replacement character per invalid byte, as a decoder in
             * "replace" mode would produce. */
            fputs("\\ufffd", f);
            i++;
        } else if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x80 && cp <= 0x9F)) {
            /* Valid JSON either way; escaped so the output is also safe to
             * embed in JavaScript and to cat on a terminal. */
            fprintf(f, "\\u%04" PRIx32, cp);
            i += len;
        } else {
            fwrite(p + i, 1, len, f);
            i += len;
        }
    }
    putc('"', f);
}

void cli_json_init(struct cli_json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

static void indent(struct cli_json *j)
{
    putc('\n', j->f);
    for (unsigned i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Everything that starts an item (a value, or a key in an object) comes
 * here first: a comma after a previous sibling, then a fresh indented line. */
static void begin_item(struct cli_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth == 0)
        return;
    bool more = j->has_items[j->depth - 1];
    j->has_items[j->depth - 1] = true;
    if (more)
        putc(',', j->f);
    if (!j->compact[j->depth - 1])
        indent(j);
    else if (more)
        putc(' ', j->f);
}

static void open_level(struct cli_json *j, char open, char close, bool compact)
{
    begin_item(j);
    if (j->depth >= CLI_JSON_MAX_DEPTH) {
        j->failed = true;
        return;
    }
    putc(open, j->f);
    j->close[j->depth] = close;
    j->has_items[j->depth] = false;
    /* Inside a one-line level everything stays on that line. */
    j->compact[j->depth] = compact || (j->depth > 0 && j->compact[j->depth - 1]);
    j->depth++;
}

void cli_json_object(struct cli_json *j)
{
    open_level(j, '{', '}', false);
}

void cli_json_array(struct cli_json *j)
{
    open_level(j, '[', ']', false);
}

void cli_json_object_compact(struct cli_json *j)
{
    open_level(j, '{', '}', true);
}

void cli_json_array_compact(struct cli_json *j)
{
    open_level(j, '[', ']', true);
}

void cli_json_end(struct cli_json *j)
{
    if (j->depth == 0 || j->after_key) {
        j->failed = true;
        return;
    }
    j->depth--;
    if (j->has_items[j->depth] && !j->compact[j->depth])
        indent(j);
    putc(j->close[j->depth], j->f);
}

void cli_json_key(struct cli_json *j, const char *key)
{
    if (j->depth == 0 || j->close[j->depth - 1] != '}' || j->after_key) {
        j->failed = true;
        return;
    }
    begin_item(j);
    cli_json_put_string(j->f, key, strlen(key));
    fputs(": ", j->f);
    j->after_key = true;
}

void cli_json_str(struct cli_json *j, const void *p, size_t n)
{
    begin_item(j);
    cli_json_put_string(j->f, p, n);
}

void cli_json_cstr(struct cli_json *j, const char *s)
{
    if (!s)
        cli_json_null(j);
    else
        cli_json_str(j, s, strlen(s));
}

void cli_json_u64(struct cli_json *j, uint64_t v)
{
    begin_item(j);
    fprintf(j->f, "%" PRIu64, v);
}

void cli_json_double(struct cli_json *j, double v, int decimals)
{
    begin_item(j);
    if (isfinite(v))
        fprintf(j->f, "%.*f", decimals, v);
    else
        fputs("null", j->f);
}

void cli_json_i64(struct cli_json *j, int64_t v)
{
    begin_item(j);
    fprintf(j->f, "%" PRId64, v);
}

void cli_json_bool(struct cli_json *j, bool v)
{
    begin_item(j);
    fputs(v ? "true" : "false", j->f);
}

void cli_json_null(struct cli_json *j)
{
    begin_item(j);
    fputs("null", j->f);
}

int cli_json_finish(struct cli_json *j)
{
    putc('\n', j->f);
    return j->failed || j->depth != 0 || j->after_key ? -1 : 0;
}
