/* Session logging: one event per line, human text or one JSON object. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io/session.h"

/* Appends `s` as a JSON string body, escaping quotes, backslashes and
 * control characters; other bytes pass through (callers log UTF-8 or ASCII
 * and peer-supplied text is sanitized before it gets here). */
static void json_escape(struct rill_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rill_buf_appendf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            rill_buf_appendf(b, "\\u%04x", c);
        else
            rill_buf_append(b, s, 1);
    }
}

void rill__log(struct rill_session *s, int level, const char *event, const char *fmt, ...)
{
    if (!s->opts.log || level > s->opts.verbosity)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct rill_buf line;
    rill_buf_init(&line, 4096);
    uint64_t ms = s->now - s->started;
    if (s->opts.json_log) {
        rill_buf_appendf(&line, "{\"t_ms\":%llu,\"event\":\"", (unsigned long long)ms);
        json_escape(&line, event);
        rill_buf_append(&line, "\",\"msg\":\"", 9);
        json_escape(&line, msg);
        rill_buf_append(&line, "\"}", 2);
    } else {
        rill_buf_appendf(&line, "[%7llu.%03llu] %s", (unsigned long long)(ms / 1000),
                         (unsigned long long)(ms % 1000), msg);
    }
    if (!line.failed)
        s->opts.log(s->opts.log_ctx, (const char *)line.data);
    rill_buf_free(&line);
}
