/* The BEP 10 extended handshake dictionary (see wire.h): parsed with rill's
 * strict bencode decoder, each key optional and checked on its own, so a
 * peer with one odd key still gets its other keys understood. */
#include <string.h>

#include "core/wire.h"
#include "util/util.h"

static const char *const EXT_NAMES[RILL_WIRE_EXT_COUNT] = {
    [RILL_WIRE_EXT_UT_METADATA] = "ut_metadata",   [RILL_WIRE_EXT_UT_PEX] = "ut_pex",
    [RILL_WIRE_EXT_UPLOAD_ONLY] = "upload_only",   [RILL_WIRE_EXT_LT_DONTHAVE] = "lt_donthave",
    [RILL_WIRE_EXT_UT_HOLEPUNCH] = "ut_holepunch", [RILL_WIRE_EXT_LT_TEX] = "lt_tex",
    [RILL_WIRE_EXT_SHARE_MODE] = "share_mode",     [RILL_WIRE_EXT_UT_COMMENT] = "ut_comment",
};

_Static_assert(RILL_WIRE_EXT_COUNT <= 16, "the extension table stays small");

/* A handshake is a small flat dictionary; these bounds only stop a hostile
 * payload from costing much. */
#define MAX_DEPTH 8
#define MAX_NODES 4096

const char *rill_wire_ext_name(int ext)
{
    return ext >= 0 && ext < RILL_WIRE_EXT_COUNT ? EXT_NAMES[ext] : NULL;
}

/* Length of the well-formed UTF-8 sequence at p[0..n), or 0 if there is none
 * (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF). */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return len;
}

/* Copies a client name for logs: valid UTF-8 kept, control characters and
 * invalid bytes replaced by '?', cut at a character boundary to fit. */
static void copy_name(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(p + i, n - i);
        if (len == 0 || (len == 1 && (p[i] < 0x20 || p[i] == 0x7F))) {
            if (out + 1 >= cap)
                break;
            dst[out++] = '?';
            i += len ? len : 1;
            continue;
        }
        if (out + len >= cap)
            break;
        memcpy(dst + out, p + i, len);
        out += len;
        i += len;
    }
    dst[out] = 0;
}

static void parse_m(const struct rill_bdoc *doc, const struct rill_bnode *m,
                    struct rill_wire_ext_hs *hs)
{
    if (m->type != RILL_BDICT) {
        hs->invalid |= RILL_WIRE_EXTK_M;
        return;
    }
    hs->present |= RILL_WIRE_EXTK_M;
    for (const struct rill_bnode *k = rill_bnode_first(doc, m); k;) {
        const struct rill_bnode *v = rill_bnode_next(doc, m, k);
        if (!v)
            break;
        for (int e = 0; e < RILL_WIRE_EXT_COUNT; e++) {
            if (!rill_bstr_eq(k, EXT_NAMES[e]))
                continue;
            if (v->type == RILL_BINT && v->i >= 0 && v->i <= 255)
                hs->m[e] = (uint8_t)v->i;
            else
                hs->invalid |= RILL_WIRE_EXTK_M;
        }
        k = rill_bnode_next(doc, m, v);
    }
}

/* An integer key within [lo, hi]; values above `cap` are cut to it. Returns
 * true and sets *out when the key is present and valid. */
static bool get_int(const struct rill_bdoc *doc, const struct rill_bnode *root, const char *key,
                    uint32_t bit, int64_t lo, int64_t hi, struct rill_wire_ext_hs *hs, int64_t *out)
{
    const struct rill_bnode *v = rill_bdict_get(doc, root, key);
    if (!v)
        return false;
    if (v->type != RILL_BINT || v->i < lo || v->i > hi) {
        hs->invalid |= bit;
        return false;
    }
    hs->present |= bit;
    *out = v->i;
    return true;
}

/* A string key of one of the allowed lengths (len2 may repeat len1). */
static const struct rill_bnode *get_bytes(const struct rill_bdoc *doc,
                                          const struct rill_bnode *root, const char *key,
                                          uint32_t bit, size_t len1, size_t len2,
                                          struct rill_wire_ext_hs *hs)
{
    const struct rill_bnode *v = rill_bdict_get(doc, root, key);
    if (!v)
        return NULL;
    if (v->type != RILL_BSTR || (v->slen != len1 && v->slen != len2)) {
        hs->invalid |= bit;
        return NULL;
    }
    hs->present |= bit;
    return v;
}

static void parse_ints(const struct rill_bdoc *doc, const struct rill_bnode *root,
                       struct rill_wire_ext_hs *hs)
{
    int64_t v;
    if (get_int(doc, root, "reqq", RILL_WIRE_EXTK_REQQ, 1, INT64_MAX, hs, &v))
        hs->reqq = v > RILL_WIRE_EXT_REQQ_MAX ? RILL_WIRE_EXT_REQQ_MAX : (uint32_t)v;
    if (get_int(doc, root, "p", RILL_WIRE_EXTK_P, 1, 65535, hs, &v))
        hs->p = (uint16_t)v;
    if (get_int(doc, root, "upload_only", RILL_WIRE_EXTK_UPLOAD_ONLY, INT64_MIN, INT64_MAX, hs, &v))
        hs->upload_only = v != 0;
    if (get_int(doc, root, "metadata_size", RILL_WIRE_EXTK_METADATA_SIZE, 1, INT64_MAX, hs, &v)) {
        hs->metadata_size = (uint64_t)v;
        hs->metadata_too_big = hs->metadata_size > RILL_WIRE_EXT_METADATA_MAX;
    }
}

static void parse_strings(const struct rill_bdoc *doc, const struct rill_bnode *root,
                          struct rill_wire_ext_hs *hs)
{
    const struct rill_bnode *v = rill_bdict_get(doc, root, "v");
    if (v && v->type == RILL_BSTR) {
        hs->present |= RILL_WIRE_EXTK_V;
        copy_name(hs->v, sizeof hs->v, v->s, v->slen);
    } else if (v) {
        hs->invalid |= RILL_WIRE_EXTK_V;
    }
    if ((v = get_bytes(doc, root, "yourip", RILL_WIRE_EXTK_YOURIP, 4, 16, hs))) {
        memset(hs->yourip, 0, sizeof hs->yourip);
        memcpy(hs->yourip, v->s, v->slen);
        hs->yourip_len = (uint8_t)v->slen;
    }
    if ((v = get_bytes(doc, root, "ipv4", RILL_WIRE_EXTK_IPV4, 4, 4, hs)))
        memcpy(hs->ipv4, v->s, 4);
    if ((v = get_bytes(doc, root, "ipv6", RILL_WIRE_EXTK_IPV6, 16, 16, hs)))
        memcpy(hs->ipv6, v->s, 16);
}

int rill_wire_ext_hs_parse(const uint8_t *p, size_t n, struct rill_wire_ext_hs *hs,
                           struct rill_error *err)
{
    struct rill_bdoc doc;
    struct rill_blimits lim = {.max_depth = MAX_DEPTH, .max_nodes = MAX_NODES, .allow_unsorted = true};
    int rc = rill_bdecode(&doc, p, n, &lim, err);
    if (rc)
        return rc;
    const struct rill_bnode *root = rill_bdoc_root(&doc);
    if (!root || root->type != RILL_BDICT) {
        rill_bdoc_free(&doc);
        return rill__fail(err, RILL_ESYNTAX, 0, "extended handshake is not a dictionary");
    }
    struct rill_wire_ext_hs next = *hs;
    next.present = next.invalid = 0;
    const struct rill_bnode *m = rill_bdict_get(&doc, root, "m");
    if (m)
        parse_m(&doc, m, &next);
    parse_ints(&doc, root, &next);
    parse_strings(&doc, root, &next);
    *hs = next;
    rill_bdoc_free(&doc);
    return 0;
}

/* Two extensions may not share a non-zero id. */
static bool ids_distinct(const struct rill_wire_ext_hs *hs)
{
    for (int a = 0; a < RILL_WIRE_EXT_COUNT; a++)
        for (int b = a + 1; b < RILL_WIRE_EXT_COUNT; b++)
            if (hs->m[a] && hs->m[a] == hs->m[b])
                return false;
    return true;
}

int rill_wire_ext_hs_build(struct rill_buf *out, const struct rill_wire_ext_hs *hs)
{
    if (!ids_distinct(hs) || hs->metadata_size > INT64_MAX)
        return RILL_EINVAL;
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "m");
    rill_benc_dict(&e);
    for (int i = 0; i < RILL_WIRE_EXT_COUNT; i++) {
        if (hs->m[i]) {
            rill_benc_key(&e, EXT_NAMES[i]);
            rill_benc_int(&e, hs->m[i]);
        }
    }
    rill_benc_end(&e);
    size_t vlen = strnlen(hs->v, sizeof hs->v);
    if (vlen) {
        rill_benc_key(&e, "v");
        rill_benc_str(&e, hs->v, vlen);
    }
    if (hs->reqq) {
        rill_benc_key(&e, "reqq");
        rill_benc_int(&e, hs->reqq);
    }
    if (hs->p) {
        rill_benc_key(&e, "p");
        rill_benc_int(&e, hs->p);
    }
    if (hs->upload_only) {
        rill_benc_key(&e, "upload_only");
        rill_benc_int(&e, 1);
    }
    if (hs->metadata_size) {
        rill_benc_key(&e, "metadata_size");
        rill_benc_int(&e, (int64_t)hs->metadata_size);
    }
    if (hs->yourip_len == 4 || hs->yourip_len == 16) {
        rill_benc_key(&e, "yourip");
        rill_benc_str(&e, hs->yourip, hs->yourip_len);
    }
    if (hs->present & RILL_WIRE_EXTK_IPV4) {
        rill_benc_key(&e, "ipv4");
        rill_benc_str(&e, hs->ipv4, 4);
    }
    if (hs->present & RILL_WIRE_EXTK_IPV6) {
        rill_benc_key(&e, "ipv6");
        rill_benc_str(&e, hs->ipv6, 16);
    }
    rill_benc_end(&e);
    return rill_benc_finish(&e);
}
