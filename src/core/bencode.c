/* Zero-copy bencode decoder with limits (see rill.h). The decoder is
 * iterative with an explicit stack, so nesting depth costs no C stack and the
 * depth limit is a policy, not a crash guard. */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_NODES 1000000u
#define HARD_MAX_DEPTH 1024

/* One open list or dictionary while decoding. */
struct frame {
    uint32_t node;        /* index of the container's node */
    bool is_dict;
    bool want_key;        /* dict: the next value must be a key */
    size_t last_key;      /* node index of the previous key, or SIZE_MAX */
};

struct decoder {
    const uint8_t *buf;
    size_t len, pos;
    struct rill_bdoc *doc;
    uint32_t node_cap, max_nodes, max_depth, depth;
    bool allow_unsorted;
    struct frame *stack;
    struct rill_error *err;
};

static int add_node(struct decoder *d, uint8_t type, uint32_t *index)
{
    struct rill_bdoc *doc = d->doc;
    if (doc->count >= d->max_nodes)
        return rill__fail(d->err, RILL_ELIMIT, d->pos,
                          "more than %u values in the document", d->max_nodes);
    if (doc->count == d->node_cap) {
        uint32_t cap = d->node_cap ? d->node_cap * 2 : 64;
        if (cap > d->max_nodes)
            cap = d->max_nodes;
        struct rill_bnode *n = realloc(doc->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return rill__fail(d->err, RILL_ENOMEM, d->pos, "out of memory");
        doc->nodes = n;
        d->node_cap = cap;
    }
    *index = doc->count++;
    struct rill_bnode *n = &doc->nodes[*index];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->start = d->pos;
    return 0;
}

/* Parses the decimal digits at d->pos up to `term`. Rejects empty numbers,
 * leading zeros and values above `max`. */
static int parse_digits(struct decoder *d, char term, uint64_t max, uint64_t *out)
{
    size_t start = d->pos;
    uint64_t v = 0;
    while (d->pos < d->len && d->buf[d->pos] >= '0' && d->buf[d->pos] <= '9') {
        unsigned digit = (unsigned)(d->buf[d->pos] - '0');
        if (v > (max - digit) / 10)
            return rill__fail(d->err, RILL_EINTEGER, start, "number too large");
        v = v * 10 + digit;
        d->pos++;
    }
    if (d->pos >= d->len)
        return rill__fail(d->err, RILL_ETRUNCATED, d->pos, "input ends inside a number");
    if (d->pos == start)
        return rill__fail(d->err, RILL_ESYNTAX, start, "expected a digit");
    if (d->buf[d->pos] != term)
        return rill__fail(d->err, RILL_ESYNTAX, d->pos, "expected '%c' after number", term);
    if (d->buf[start] == '0' && d->pos - start > 1)
        return rill__fail(d->err, RILL_EINTEGER, start, "number has a leading zero");
    d->pos++; /* the terminator */
    *out = v;
    return 0;
}

static int parse_int(struct decoder *d, uint32_t index)
{
    size_t start = d->pos;
    d->pos++; /* 'i' */
    bool neg = d->pos < d->len && d->buf[d->pos] == '-';
    if (neg)
        d->pos++;
    uint64_t mag;
    int rc = parse_digits(d, 'e', neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &mag);
    if (rc)
        return rc;
    if (neg && mag == 0)
        return rill__fail(d->err, RILL_EINTEGER, start, "negative zero");
    struct rill_bnode *n = &d->doc->nodes[index];
    n->i = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag) : (int64_t)mag;
    n->end = d->pos;
    return 0;
}

static int parse_str(struct decoder *d, uint32_t index)
{
    size_t start = d->pos;
    uint64_t n;
    int rc = parse_digits(d, ':', UINT64_MAX, &n);
    if (rc)
        return rc;
    if (n > d->len - d->pos)
        return rill__fail(d->err, RILL_ETRUNCATED, start,
                          "string claims %llu bytes but only %zu remain",
                          (unsigned long long)n, d->len - d->pos);
    struct rill_bnode *node = &d->doc->nodes[index];
    node->s = d->buf + d->pos;
    node->slen = (size_t)n;
    d->pos += (size_t)n;
    node->end = d->pos;
    return 0;
}

/* Called when a value (node `index`) is complete inside the top frame:
 * enforces key order and flips between key and value. */
static int value_done(struct decoder *d, uint32_t index)
{
    if (d->depth == 0)
        return 0;
    struct frame *f = &d->stack[d->depth - 1];
    struct rill_bnode *parent = &d->doc->nodes[f->node];
    if (!f->is_dict) {
        parent->count++;
        return 0;
    }
    if (f->want_key) {
        const struct rill_bnode *key = &d->doc->nodes[index];
        if (f->last_key != SIZE_MAX && !d->allow_unsorted) {
            const struct rill_bnode *prev = &d->doc->nodes[f->last_key];
            size_t m = prev->slen < key->slen ? prev->slen : key->slen;
            int c = m ? memcmp(prev->s, key->s, m) : 0;
            if (c > 0 || (c == 0 && prev->slen >= key->slen))
                return rill__fail(d->err, RILL_EKEYORDER, key->start,
                                  c == 0 && prev->slen == key->slen
                                      ? "duplicate dictionary key"
                                      : "dictionary keys out of order");
        }
        f->last_key = index;
        f->want_key = false;
    } else {
        parent->count++;
        f->want_key = true;
    }
    return 0;
}

static int open_container(struct decoder *d, bool is_dict)
{
    if (d->depth >= d->max_depth)
        return rill__fail(d->err, RILL_ELIMIT, d->pos, "nesting deeper than %u", d->max_depth);
    uint32_t index;
    int rc = add_node(d, is_dict ? RILL_BDICT : RILL_BLIST, &index);
    if (rc)
        return rc;
    d->stack[d->depth++] = (struct frame){index, is_dict, is_dict, SIZE_MAX};
    d->pos++;
    return 0;
}

static int close_container(struct decoder *d, uint32_t *closed)
{
    if (d->depth == 0)
        return rill__fail(d->err, RILL_ESYNTAX, d->pos, "unexpected 'e'");
    struct frame *f = &d->stack[d->depth - 1];
    if (f->is_dict && !f->want_key)
        return rill__fail(d->err, RILL_ESYNTAX, d->pos, "dictionary key without a value");
    d->pos++;
    struct rill_bnode *n = &d->doc->nodes[f->node];
    n->end = d->pos;
    n->next = d->doc->count;
    *closed = f->node;
    d->depth--;
    return 0;
}

/* Decodes one token at d->pos; `index` is the completed value, or UINT32_MAX
 * when a container was only opened. */
static int step(struct decoder *d, uint32_t *index)
{
    uint8_t c = d->buf[d->pos];
    bool want_key = d->depth && d->stack[d->depth - 1].want_key;
    *index = UINT32_MAX;
    if (c == 'e')
        return close_container(d, index);
    if (want_key && !(c >= '0' && c <= '9'))
        return rill__fail(d->err, RILL_ESYNTAX, d->pos, "dictionary key is not a string");
    if (c == 'l' || c == 'd')
        return open_container(d, c == 'd');
    uint32_t i;
    int rc;
    if (c == 'i') {
        if ((rc = add_node(d, RILL_BINT, &i)) || (rc = parse_int(d, i)))
            return rc;
    } else if (c >= '0' && c <= '9') {
        if ((rc = add_node(d, RILL_BSTR, &i)) || (rc = parse_str(d, i)))
            return rc;
    } else {
        return rill__fail(d->err, RILL_ESYNTAX, d->pos, "unexpected byte 0x%02x", c);
    }
    d->doc->nodes[i].next = d->doc->count;
    *index = i;
    return 0;
}

static int decode(struct decoder *d)
{
    do {
        if (d->pos >= d->len)
            return rill__fail(d->err, RILL_ETRUNCATED, d->pos,
                              d->depth ? "input ends inside a %s" : "empty input",
                              d->depth && d->stack[d->depth - 1].is_dict ? "dictionary" : "list");
        uint32_t index;
        int rc = step(d, &index);
        if (rc)
            return rc;
        if (index != UINT32_MAX && (rc = value_done(d, index)))
            return rc;
    } while (d->depth > 0);
    if (d->pos != d->len)
        return rill__fail(d->err, RILL_ETRAILING, d->pos, "%zu trailing bytes after the value",
                          d->len - d->pos);
    return 0;
}

int rill_bdecode(struct rill_bdoc *doc, const uint8_t *buf, size_t len,
                 const struct rill_blimits *lim, struct rill_error *err)
{
    memset(doc, 0, sizeof *doc);
    if (!buf && len)
        return rill__fail(err, RILL_EINVAL, 0, "no input");
    struct decoder d = {.buf = buf, .len = len, .doc = doc, .err = err};
    d.max_depth = lim && lim->max_depth ? lim->max_depth : DEFAULT_MAX_DEPTH;
    d.max_nodes = lim && lim->max_nodes ? lim->max_nodes : DEFAULT_MAX_NODES;
    d.allow_unsorted = lim && lim->allow_unsorted;
    if (d.max_depth > HARD_MAX_DEPTH)
        d.max_depth = HARD_MAX_DEPTH;
    d.stack = malloc(d.max_depth * sizeof *d.stack);
    if (!d.stack)
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory");
    int rc = decode(&d);
    free(d.stack);
    if (rc) {
        rill_bdoc_free(doc);
        return rc;
    }
    doc->input = buf;
    doc->input_len = len;
    return 0;
}

void rill_bdoc_free(struct rill_bdoc *doc)
{
    free(doc->nodes);
    memset(doc, 0, sizeof *doc);
}

const struct rill_bnode *rill_bdoc_root(const struct rill_bdoc *doc)
{
    return doc->count ? &doc->nodes[0] : NULL;
}

const struct rill_bnode *rill_bnode_first(const struct rill_bdoc *doc,
                                          const struct rill_bnode *parent)
{
    if (!parent || (parent->type != RILL_BLIST && parent->type != RILL_BDICT))
        return NULL;
    size_t i = (size_t)(parent - doc->nodes) + 1;
    return i < parent->next ? &doc->nodes[i] : NULL;
}

const struct rill_bnode *rill_bnode_next(const struct rill_bdoc *doc,
                                         const struct rill_bnode *parent,
                                         const struct rill_bnode *child)
{
    if (!parent || !child)
        return NULL;
    return child->next < parent->next ? &doc->nodes[child->next] : NULL;
}

bool rill_bstr_eq(const struct rill_bnode *n, const char *s)
{
    size_t len = strlen(s);
    return n && n->type == RILL_BSTR && n->slen == len && memcmp(n->s, s, len) == 0;
}

const struct rill_bnode *rill_bdict_get(const struct rill_bdoc *doc,
                                        const struct rill_bnode *dict, const char *key)
{
    if (!dict || dict->type != RILL_BDICT)
        return NULL;
    for (const struct rill_bnode *k = rill_bnode_first(doc, dict); k;) {
        const struct rill_bnode *v = rill_bnode_next(doc, dict, k);
        if (!v)
            return NULL;
        if (rill_bstr_eq(k, key))
            return v;
        k = rill_bnode_next(doc, dict, v);
    }
    return NULL;
}
