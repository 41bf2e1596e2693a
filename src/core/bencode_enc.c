/* Canonical bencode encoder (see rill.h). Callers add dictionary keys in any
 * order; closing a dictionary sorts its pairs by raw key bytes in place, so
 * the output is canonical by construction and a caller cannot get it wrong. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct span {
    size_t start, key_len, end;   /* pair [start, end); key bytes at start + digits */
    const uint8_t *key;
};

void rill_benc_init(struct rill_benc *e, struct rill_buf *out)
{
    memset(e, 0, sizeof *e);
    e->out = out;
}

/* Checks that a value may be written now: in a dictionary only after a key. */
static bool may_write_value(struct rill_benc *e)
{
    if (e->failed)
        return false;
    if (e->depth && e->stack[e->depth - 1].is_dict && e->stack[e->depth - 1].items % 2 == 0) {
        e->failed = true; /* a value where a key belongs */
        return false;
    }
    return true;
}

static void wrote_item(struct rill_benc *e)
{
    if (e->depth)
        e->stack[e->depth - 1].items++;
    if (e->out->failed)
        e->failed = true;
}

void rill_benc_int(struct rill_benc *e, int64_t v)
{
    if (!may_write_value(e))
        return;
    rill_buf_appendf(e->out, "i%" PRId64 "e", v);
    wrote_item(e);
}

static void put_str(struct rill_benc *e, const void *p, size_t n)
{
    rill_buf_appendf(e->out, "%zu:", n);
    rill_buf_append(e->out, p, n);
}

void rill_benc_str(struct rill_benc *e, const void *p, size_t n)
{
    if (!may_write_value(e))
        return;
    put_str(e, p, n);
    wrote_item(e);
}

void rill_benc_cstr(struct rill_benc *e, const char *s)
{
    rill_benc_str(e, s, strlen(s));
}

void rill_benc_key(struct rill_benc *e, const char *key)
{
    if (e->failed || !e->depth || !e->stack[e->depth - 1].is_dict ||
        e->stack[e->depth - 1].items % 2 != 0) {
        e->failed = true;
        return;
    }
    put_str(e, key, strlen(key));
    wrote_item(e);
}

static void open_container(struct rill_benc *e, bool is_dict)
{
    if (!may_write_value(e))
        return;
    if (e->depth == RILL_BENC_MAX_DEPTH) {
        e->failed = true;
        return;
    }
    rill_buf_append(e->out, is_dict ? "d" : "l", 1);
    e->stack[e->depth].is_dict = is_dict;
    e->stack[e->depth].start = e->out->len;
    e->stack[e->depth].items = 0;
    e->depth++;
}

void rill_benc_list(struct rill_benc *e) { open_container(e, false); }
void rill_benc_dict(struct rill_benc *e) { open_container(e, true); }

/* Length of the well-formed value at p[0..] (we wrote it ourselves). */
static size_t skip_value(const uint8_t *p)
{
    size_t pos = 0, depth = 0;
    do {
        uint8_t c = p[pos];
        if (c == 'i') {
            while (p[pos] != 'e')
                pos++;
            pos++;
        } else if (c >= '0' && c <= '9') {
            size_t n = 0;
            while (p[pos] != ':')
                n = n * 10 + (size_t)(p[pos++] - '0');
            pos += 1 + n;
        } else if (c == 'l' || c == 'd') {
            depth++;
            pos++;
        } else { /* 'e' */
            depth--;
            pos++;
        }
    } while (depth > 0);
    return pos;
}

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    size_t m = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = m ? memcmp(x->key, y->key, m) : 0;
    if (c)
        return c;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* Sorts the key/value pairs of the dictionary body data[start..end). */
static bool sort_dict(uint8_t *data, size_t start, size_t end, uint32_t pairs)
{
    if (pairs < 2)
        return true;
    struct span *spans = malloc(pairs * sizeof *spans);
    uint8_t *copy = malloc(end - start);
    bool ok = spans && copy;
    size_t pos = start;
    for (uint32_t i = 0; ok && i < pairs; i++) {
        spans[i].start = pos;
        size_t n = 0, q = pos;
        while (data[q] != ':')
            n = n * 10 + (size_t)(data[q++] - '0');
        spans[i].key = data + q + 1;
        spans[i].key_len = n;
        pos = q + 1 + n;
        pos += skip_value(data + pos);
        spans[i].end = pos;
    }
    if (ok) {
        qsort(spans, pairs, sizeof *spans, cmp_span);
        for (uint32_t i = 1; i < pairs; i++)
            if (cmp_span(&spans[i - 1], &spans[i]) == 0)
                ok = false; /* duplicate key */
    }
    if (ok) {
        size_t w = 0;
        for (uint32_t i = 0; i < pairs; i++) {
            memcpy(copy + w, data + spans[i].start, spans[i].end - spans[i].start);
            w += spans[i].end - spans[i].start;
        }
        memcpy(data + start, copy, end - start);
    }
    free(spans);
    free(copy);
    return ok;
}

void rill_benc_end(struct rill_benc *e)
{
    if (e->failed || e->depth == 0 || e->out->failed) {
        e->failed = true;
        return;
    }
    e->depth--;
    if (e->stack[e->depth].is_dict) {
        if (e->stack[e->depth].items % 2 != 0 ||
            !sort_dict(e->out->data, e->stack[e->depth].start, e->out->len,
                       e->stack[e->depth].items / 2)) {
            e->failed = true;
            return;
        }
    }
    rill_buf_append(e->out, "e", 1);
    wrote_item(e);
}

void rill_benc_raw(struct rill_benc *e, const void *p, size_t n)
{
    if (!may_write_value(e))
        return;
    /* Sorting an enclosing dictionary walks this value, so it must be one
     * well-formed value: check rather than trust the caller. */
    struct rill_bdoc doc;
    if (rill_bdecode(&doc, p, n, NULL, NULL) != 0) {
        e->failed = true;
        return;
    }
    rill_bdoc_free(&doc);
    rill_buf_append(e->out, p, n);
    wrote_item(e);
}

int rill_benc_finish(struct rill_benc *e)
{
    if (e->out->failed)
        return RILL_ENOMEM;
    if (e->failed || e->depth != 0)
        return RILL_EINVAL;
    return 0;
}
