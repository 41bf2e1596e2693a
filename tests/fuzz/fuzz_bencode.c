/* Fuzz target: the strict bencode decoder. Whatever decodes must re-encode
 * to exactly the same bytes (the decoder accepts canonical form only) and
 * every node's span must lie inside the input. */
#include <stdlib.h>
#include <string.h>

#include "rill.h"

static void reencode(struct rill_benc *e, const struct rill_bdoc *doc, const struct rill_bnode *n)
{
    if (n->end > doc->input_len || n->start >= n->end)
        abort();
    switch (n->type) {
    case RILL_BINT: rill_benc_int(e, n->i); break;
    case RILL_BSTR: rill_benc_str(e, n->s, n->slen); break;
    case RILL_BLIST:
        rill_benc_list(e);
        for (const struct rill_bnode *c = rill_bnode_first(doc, n); c; c = rill_bnode_next(doc, n, c))
            reencode(e, doc, c);
        rill_benc_end(e);
        break;
    default:
        /* Keys may hold NUL bytes, which rill_benc_key cannot take: copy the
         * whole dictionary raw instead, after walking it for bounds. */
        for (const struct rill_bnode *c = rill_bnode_first(doc, n); c; c = rill_bnode_next(doc, n, c))
            if (c->end > n->end)
                abort();
        rill_benc_raw(e, doc->input + n->start, n->end - n->start);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rill_bdoc doc;
    struct rill_error err;
    struct rill_blimits lim = {.max_depth = 64, .max_nodes = 100000};
    if (rill_bdecode(&doc, data, size, &lim, &err) != 0) {
        if (err.offset > size)
            abort();
        return 0;
    }
    struct rill_buf out;
    rill_buf_init(&out, 0);
    struct rill_benc e;
    rill_benc_init(&e, &out);
    reencode(&e, &doc, rill_bdoc_root(&doc));
    if (rill_benc_finish(&e) != 0 || out.len != size || memcmp(out.data, data, size) != 0)
        abort();
    rill_buf_free(&out);
    rill_bdoc_free(&doc);
    return 0;
}
