/* A growable byte buffer with a hard cap (see rill.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"

#define DEFAULT_MAX ((size_t)64 << 20)

void rill_buf_init(struct rill_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max ? max : DEFAULT_MAX;
}

void rill_buf_free(struct rill_buf *b)
{
    size_t max = b->max;
    free(b->data);
    rill_buf_init(b, max);
}

static int reserve(struct rill_buf *b, size_t extra)
{
    if (b->failed)
        return RILL_ENOMEM;
    if (b->max == 0)
        b->max = DEFAULT_MAX;
    if (extra > b->max - b->len) {
        b->failed = true;
        return RILL_ENOMEM;
    }
    size_t need = b->len + extra + 1; /* room for a NUL that appendf relies on */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return RILL_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int rill_buf_append(struct rill_buf *b, const void *p, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int rill_buf_appendf(struct rill_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return RILL_EINVAL;
    }
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

uint8_t *rill_buf_take(struct rill_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return p;
}
