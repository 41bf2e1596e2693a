/* Error reporting and small string helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

void rill__log_vline(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt,
                     va_list ap)
{
    if (!log)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    log(ctx, line);
}

int rill__fail(struct rill_error *err, int code, size_t offset, const char *fmt, ...)
{
    if (err) {
        err->code = code;
        err->offset = offset;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

char *rill__strndup(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    if (n)
        memcpy(s, p, n);
    s[n] = 0;
    return s;
}
