/* KRPC codec (see krpc.h). Parsing goes through rill's bencode decoder with
 * small limits and then checks each key on its own, so a malformed field is
 * reported with its byte offset; building goes through the canonical
 * encoder, which sorts dictionary keys for us. */
#include <string.h>

#include "core/krpc.h"
#include "util/util.h"

/* A KRPC message is a flat dictionary with one nested dictionary or list,
 * plus a BEP 44 item of any shape; 1024 values hold 100 values plus both
 * node strings, or a 1000-byte item of empty strings and lists, and bound
 * what a hostile datagram costs. */
#define MAX_DEPTH 8
#define MAX_NODES 1024

static const char *const METHODS[] = {
    [RILL_KRPC_PING] = "ping",
    [RILL_KRPC_FIND_NODE] = "find_node",
    [RILL_KRPC_GET_PEERS] = "get_peers",
    [RILL_KRPC_ANNOUNCE_PEER] = "announce_peer",
    [RILL_KRPC_GET] = "get",
    [RILL_KRPC_PUT] = "put",
};

const char *rill_krpc_method_name(int method)
{
    return method > 0 && method < (int)RILL_ARRAY_LEN(METHODS) ? METHODS[method] : NULL;
}

/* The key that carries the 20-byte target of a method. */
static const char *target_key(int method)
{
    return method == RILL_KRPC_FIND_NODE || method == RILL_KRPC_GET ? "target" : "info_hash";
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ------------------------------------------------------------------ parse */

struct parser {
    const struct rill_bdoc *doc;
    struct rill_krpc_msg *m;
    struct rill_error *err;
};

static size_t off(const struct rill_bnode *n)
{
    return n ? n->start : 0;
}

/* A required string of exactly `n` bytes copied to dst. */
static int get_fixed(struct parser *ps, const struct rill_bnode *dict, const char *key,
                     uint8_t *dst, size_t n)
{
    const struct rill_bnode *v = rill_bdict_get(ps->doc, dict, key);
    if (!v)
        return rill__fail(ps->err, RILL_ESYNTAX, off(dict), "missing \"%s\"", key);
    if (v->type != RILL_BSTR || v->slen != n)
        return rill__fail(ps->err, RILL_ESYNTAX, v->start, "\"%s\" is not a %zu-byte string", key,
                          n);
    memcpy(dst, v->s, n);
    return 0;
}

/* A string of at most `cap` bytes copied to dst, its length to *len. */
static int get_bytes(struct parser *ps, const struct rill_bnode *v, const char *key, uint8_t *dst,
                     uint8_t *len, size_t cap)
{
    if (v->type != RILL_BSTR)
        return rill__fail(ps->err, RILL_ESYNTAX, v->start, "\"%s\" is not a string", key);
    if (v->slen > cap)
        return rill__fail(ps->err, RILL_ELIMIT, v->start, "\"%s\" of %zu bytes is over %zu", key,
                          v->slen, cap);
    memcpy(dst, v->s, v->slen);
    *len = (uint8_t)v->slen;
    return 0;
}

/* An optional integer in [lo, hi]; *out untouched when the key is absent. */
static int get_int(struct parser *ps, const struct rill_bnode *dict, const char *key, int64_t lo,
                   int64_t hi, int64_t *out)
{
    const struct rill_bnode *v = rill_bdict_get(ps->doc, dict, key);
    if (!v)
        return 0;
    if (v->type != RILL_BINT || v->i < lo || v->i > hi)
        return rill__fail(ps->err, RILL_ESYNTAX, v->start, "\"%s\" is not an integer in %lld..%lld",
                          key, (long long)lo, (long long)hi);
    *out = v->i;
    return 0;
}

/* "nodes" or "nodes6": a string of whole compact nodes, cut at the cap. */
static int get_nodes(struct parser *ps, const struct rill_bnode *v, const char *key,
                     size_t addr_len, struct rill_krpc_node *out, uint8_t *count)
{
    size_t each = RILL_KRPC_ID_LEN + addr_len + 2;
    if (v->type != RILL_BSTR || v->slen % each != 0)
        return rill__fail(ps->err, RILL_ESYNTAX, v->start,
                          "\"%s\" is not a string of %zu-byte nodes", key, each);
    size_t n = v->slen / each;
    if (n > RILL_KRPC_NODES_MAX) {
        n = RILL_KRPC_NODES_MAX;
        ps->m->truncated = true;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = v->s + i * each;
        memcpy(out[i].id, p, RILL_KRPC_ID_LEN);
        memcpy(out[i].addr, p + RILL_KRPC_ID_LEN, addr_len);
        out[i].port = get_be16(p + RILL_KRPC_ID_LEN + addr_len);
    }
    *count = (uint8_t)n;
    return 0;
}

/* "values": a list of 6- or 18-byte compact peers, cut at the cap. */
static int get_values(struct parser *ps, const struct rill_bnode *list)
{
    if (list->type != RILL_BLIST)
        return rill__fail(ps->err, RILL_ESYNTAX, list->start, "\"values\" is not a list");
    struct rill_krpc_msg *m = ps->m;
    for (const struct rill_bnode *v = rill_bnode_first(ps->doc, list); v;
         v = rill_bnode_next(ps->doc, list, v)) {
        if (v->type != RILL_BSTR || (v->slen != 6 && v->slen != 18))
            return rill__fail(ps->err, RILL_ESYNTAX, v->start,
                              "a value is not a 6- or 18-byte compact peer");
        if (m->n_values == RILL_KRPC_VALUES_MAX) {
            m->truncated = true;
            continue; /* keep checking the rest, so validity does not depend on the cap */
        }
        struct rill_krpc_peer *peer = &m->values[m->n_values++];
        peer->addr_len = (uint8_t)(v->slen - 2);
        memcpy(peer->addr, v->s, peer->addr_len);
        peer->port = get_be16(v->s + peer->addr_len);
    }
    return 0;
}

/* BEP 32 "want": a list of "n4" / "n6"; anything else in it is ignored. */
static int get_want(struct parser *ps, const struct rill_bnode *args)
{
    const struct rill_bnode *list = rill_bdict_get(ps->doc, args, "want");
    if (!list)
        return 0;
    if (list->type != RILL_BLIST)
        return rill__fail(ps->err, RILL_ESYNTAX, list->start, "\"want\" is not a list");
    for (const struct rill_bnode *v = rill_bnode_first(ps->doc, list); v;
         v = rill_bnode_next(ps->doc, list, v)) {
        if (rill_bstr_eq(v, "n4"))
            ps->m->want |= RILL_KRPC_WANT_N4;
        else if (rill_bstr_eq(v, "n6"))
            ps->m->want |= RILL_KRPC_WANT_N6;
    }
    return 0;
}

/* An optional integer of any int64 value: sets `bit` in present when there. */
static int get_opt_int(struct parser *ps, const struct rill_bnode *dict, const char *key,
                       uint32_t bit, int64_t *out)
{
    const struct rill_bnode *v = rill_bdict_get(ps->doc, dict, key);
    if (!v)
        return 0;
    if (v->type != RILL_BINT)
        return rill__fail(ps->err, RILL_ESYNTAX, v->start, "\"%s\" is not an integer", key);
    *out = v->i;
    ps->m->present |= bit;
    return 0;
}

/* A BEP 44 item "v": any value, kept as its raw bytes. It must be canonical
 * on its own (the message around it may have unsorted keys), since its
 * bytes are signed and are copied verbatim into what rill builds. */
static int get_item(struct parser *ps, const struct rill_bnode *v)
{
    struct rill_krpc_msg *m = ps->m;
    size_t n = v->end - v->start;
    if (n > RILL_KRPC_ITEM_BUF)
        return rill__fail(ps->err, RILL_ELIMIT, v->start, "\"v\" of %zu bytes is over %d", n,
                          RILL_KRPC_ITEM_BUF);
    struct rill_bdoc doc;
    struct rill_blimits lim = {.max_depth = MAX_DEPTH, .max_nodes = MAX_NODES};
    if (rill_bdecode(&doc, ps->doc->input + v->start, n, &lim, NULL) != 0)
        return rill__fail(ps->err, RILL_ESYNTAX, v->start, "\"v\" is not canonical bencode");
    rill_bdoc_free(&doc);
    memcpy(m->item, ps->doc->input + v->start, n);
    m->item_len = (uint16_t)n;
    m->present |= RILL_KRPC_HAS_ITEM;
    return 0;
}

/* "k" and "sig": both or neither. */
static int get_key(struct parser *ps, const struct rill_bnode *dict)
{
    const struct rill_bnode *k = rill_bdict_get(ps->doc, dict, "k");
    const struct rill_bnode *sig = rill_bdict_get(ps->doc, dict, "sig");
    if (!k && !sig)
        return 0;
    int rc = get_fixed(ps, dict, "k", ps->m->k, RILL_KRPC_KEY_LEN);
    if (!rc)
        rc = get_fixed(ps, dict, "sig", ps->m->sig, RILL_KRPC_SIG_LEN);
    if (!rc)
        ps->m->present |= RILL_KRPC_HAS_KEY;
    return rc;
}

static int get_dict(struct parser *ps, const struct rill_bnode *root, const char *key,
                    const struct rill_bnode **out)
{
    *out = rill_bdict_get(ps->doc, root, key);
    if (!*out || (*out)->type != RILL_BDICT)
        return rill__fail(ps->err, RILL_ESYNTAX, off(*out ? *out : root),
                          "\"%s\" is missing or not a dictionary", key);
    return 0;
}

static int parse_announce(struct parser *ps, const struct rill_bnode *a)
{
    struct rill_krpc_msg *m = ps->m;
    int64_t implied = 0, port = -1;
    const struct rill_bnode *tok = rill_bdict_get(ps->doc, a, "token");
    if (!tok)
        return rill__fail(ps->err, RILL_ESYNTAX, a->start, "announce_peer without \"token\"");
    int rc = get_bytes(ps, tok, "token", m->token, &m->token_len, RILL_KRPC_TOKEN_MAX);
    if (!rc)
        rc = get_int(ps, a, "implied_port", INT64_MIN, INT64_MAX, &implied);
    if (!rc)
        rc = get_int(ps, a, "port", 0, 65535, &port);
    if (rc)
        return rc;
    m->implied_port = implied != 0;
    if (port < 0 && !m->implied_port)
        return rill__fail(ps->err, RILL_ESYNTAX, a->start, "announce_peer without \"port\"");
    m->port = port < 0 ? 0 : (uint16_t)port;
    return 0;
}

/* BEP 44 put: token and v always; k, sig and seq for a mutable item, which
 * may add salt and cas. */
static int parse_put(struct parser *ps, const struct rill_bnode *a)
{
    struct rill_krpc_msg *m = ps->m;
    const struct rill_bnode *tok = rill_bdict_get(ps->doc, a, "token");
    const struct rill_bnode *v = rill_bdict_get(ps->doc, a, "v");
    if (!tok || !v)
        return rill__fail(ps->err, RILL_ESYNTAX, a->start, "put without \"%s\"",
                          tok ? "v" : "token");
    int rc = get_bytes(ps, tok, "token", m->token, &m->token_len, RILL_KRPC_TOKEN_MAX);
    if (!rc)
        rc = get_item(ps, v);
    if (!rc)
        rc = get_key(ps, a);
    if (rc || !(m->present & RILL_KRPC_HAS_KEY))
        return rc;
    rc = get_opt_int(ps, a, "seq", RILL_KRPC_HAS_SEQ, &m->seq);
    if (!rc)
        rc = get_opt_int(ps, a, "cas", RILL_KRPC_HAS_CAS, &m->cas);
    if (!rc && !(m->present & RILL_KRPC_HAS_SEQ))
        rc = rill__fail(ps->err, RILL_ESYNTAX, a->start, "a mutable put without \"seq\"");
    const struct rill_bnode *salt = rill_bdict_get(ps->doc, a, "salt");
    if (!rc && salt) {
        rc = get_bytes(ps, salt, "salt", m->salt, &m->salt_len, RILL_KRPC_SALT_BUF);
        m->present |= RILL_KRPC_HAS_SALT;
    }
    return rc;
}

static int parse_query(struct parser *ps, const struct rill_bnode *root)
{
    struct rill_krpc_msg *m = ps->m;
    const struct rill_bnode *q = rill_bdict_get(ps->doc, root, "q"), *a;
    if (!q || q->type != RILL_BSTR)
        return rill__fail(ps->err, RILL_ESYNTAX, off(q ? q : root),
                          "a query without a \"q\" string");
    for (int i = 1; i < (int)RILL_ARRAY_LEN(METHODS); i++)
        if (rill_bstr_eq(q, METHODS[i]))
            m->method = (uint8_t)i;
    int rc = get_dict(ps, root, "a", &a);
    if (!rc)
        rc = get_fixed(ps, a, "id", m->id, RILL_KRPC_ID_LEN);
    if (rc || m->method == RILL_KRPC_UNKNOWN || m->method == RILL_KRPC_PING)
        return rc;
    if (m->method == RILL_KRPC_PUT)
        return parse_put(ps, a);
    rc = get_fixed(ps, a, target_key(m->method), m->target, RILL_KRPC_ID_LEN);
    if (!rc && m->method != RILL_KRPC_ANNOUNCE_PEER)
        rc = get_want(ps, a);
    if (!rc && m->method == RILL_KRPC_ANNOUNCE_PEER)
        rc = parse_announce(ps, a);
    if (!rc && m->method == RILL_KRPC_GET)
        rc = get_opt_int(ps, a, "seq", RILL_KRPC_HAS_SEQ, &m->seq);
    return rc;
}

static int parse_response(struct parser *ps, const struct rill_bnode *root)
{
    struct rill_krpc_msg *m = ps->m;
    const struct rill_bnode *r, *v;
    int rc = get_dict(ps, root, "r", &r);
    if (!rc)
        rc = get_fixed(ps, r, "id", m->id, RILL_KRPC_ID_LEN);
    if (!rc && (v = rill_bdict_get(ps->doc, r, "nodes"))) {
        m->present |= RILL_KRPC_HAS_NODES;
        rc = get_nodes(ps, v, "nodes", 4, m->nodes, &m->n_nodes);
    }
    if (!rc && (v = rill_bdict_get(ps->doc, r, "nodes6"))) {
        m->present |= RILL_KRPC_HAS_NODES6;
        rc = get_nodes(ps, v, "nodes6", 16, m->nodes6, &m->n_nodes6);
    }
    if (!rc && (v = rill_bdict_get(ps->doc, r, "values"))) {
        m->present |= RILL_KRPC_HAS_VALUES;
        rc = get_values(ps, v);
    }
    if (!rc && (v = rill_bdict_get(ps->doc, r, "token"))) {
        m->present |= RILL_KRPC_HAS_TOKEN;
        rc = get_bytes(ps, v, "token", m->token, &m->token_len, RILL_KRPC_TOKEN_MAX);
    }
    /* BEP 44 get: whatever of the item the node had. */
    if (!rc && (v = rill_bdict_get(ps->doc, r, "v")))
        rc = get_item(ps, v);
    if (!rc)
        rc = get_key(ps, r);
    if (!rc)
        rc = get_opt_int(ps, r, "seq", RILL_KRPC_HAS_SEQ, &m->seq);
    return rc;
}

static int parse_error(struct parser *ps, const struct rill_bnode *root)
{
    struct rill_krpc_msg *m = ps->m;
    const struct rill_bnode *e = rill_bdict_get(ps->doc, root, "e");
    const struct rill_bnode *code = e ? rill_bnode_first(ps->doc, e) : NULL;
    const struct rill_bnode *msg = code ? rill_bnode_next(ps->doc, e, code) : NULL;
    if (!e || e->type != RILL_BLIST || !msg || code->type != RILL_BINT || msg->type != RILL_BSTR)
        return rill__fail(ps->err, RILL_ESYNTAX, off(e ? e : root),
                          "\"e\" is not a list of a code and a message");
    m->err_code = code->i;
    m->err_msg_len = msg->slen < RILL_KRPC_ERRMSG_MAX ? msg->slen : RILL_KRPC_ERRMSG_MAX;
    memcpy(m->err_msg, msg->s, m->err_msg_len);
    m->err_msg[m->err_msg_len] = 0;
    return 0;
}

/* The keys every message has: "t", "y", and the optional "v" and "ro". */
static int parse_header(struct parser *ps, const struct rill_bnode *root)
{
    struct rill_krpc_msg *m = ps->m;
    const struct rill_bnode *t = rill_bdict_get(ps->doc, root, "t");
    const struct rill_bnode *y = rill_bdict_get(ps->doc, root, "y");
    if (!t)
        return rill__fail(ps->err, RILL_ESYNTAX, root->start, "missing \"t\"");
    int rc = get_bytes(ps, t, "t", m->tid, &m->tid_len, RILL_KRPC_TID_MAX);
    if (rc)
        return rc;
    if (!y || y->type != RILL_BSTR || y->slen != 1 ||
        (y->s[0] != RILL_KRPC_QUERY && y->s[0] != RILL_KRPC_RESPONSE && y->s[0] != RILL_KRPC_ERROR))
        return rill__fail(ps->err, RILL_ESYNTAX, off(y ? y : root),
                          "\"y\" is not \"q\", \"r\" or \"e\"");
    m->type = y->s[0];
    /* "v" only names the client: one of an odd type or size is ignored. */
    const struct rill_bnode *v = rill_bdict_get(ps->doc, root, "v");
    if (v && v->type == RILL_BSTR && v->slen <= RILL_KRPC_V_MAX) {
        memcpy(m->v, v->s, v->slen);
        m->v_len = (uint8_t)v->slen;
        m->present |= RILL_KRPC_HAS_V;
    }
    const struct rill_bnode *ro = rill_bdict_get(ps->doc, root, "ro");
    m->ro = ro && ro->type == RILL_BINT && ro->i == 1;
    /* BEP 42 "ip": informational, so an odd one is ignored like "v". */
    const struct rill_bnode *ip = rill_bdict_get(ps->doc, root, "ip");
    if (ip && ip->type == RILL_BSTR && (ip->slen == 6 || ip->slen == 18)) {
        m->ip_len = (uint8_t)(ip->slen - 2);
        memcpy(m->ip, ip->s, m->ip_len);
        m->ip_port = (uint16_t)(ip->s[m->ip_len] << 8 | ip->s[m->ip_len + 1]);
        m->present |= RILL_KRPC_HAS_IP;
    }
    return 0;
}

int rill_krpc_parse(const uint8_t *p, size_t len, struct rill_krpc_msg *m, struct rill_error *err)
{
    memset(m, 0, sizeof *m);
    struct rill_bdoc doc;
    /* Other clients write keys unsorted; lookups then find the first. */
    struct rill_blimits lim = {
        .max_depth = MAX_DEPTH, .max_nodes = MAX_NODES, .allow_unsorted = true};
    int rc = rill_bdecode(&doc, p, len, &lim, err);
    if (rc)
        return rc;
    struct parser ps = {.doc = &doc, .m = m, .err = err};
    const struct rill_bnode *root = rill_bdoc_root(&doc);
    if (root->type != RILL_BDICT)
        rc = rill__fail(err, RILL_ESYNTAX, 0, "a KRPC message is not a dictionary");
    if (!rc)
        rc = parse_header(&ps, root);
    if (!rc && m->type == RILL_KRPC_QUERY)
        rc = parse_query(&ps, root);
    else if (!rc && m->type == RILL_KRPC_RESPONSE)
        rc = parse_response(&ps, root);
    else if (!rc)
        rc = parse_error(&ps, root);
    rill_bdoc_free(&doc);
    if (rc)
        memset(m, 0, sizeof *m);
    return rc;
}

/* ------------------------------------------------------------------ build */

static void put_nodes(struct rill_benc *e, const char *key, const struct rill_krpc_node *nodes,
                      size_t n, size_t addr_len)
{
    uint8_t buf[RILL_KRPC_NODES_MAX * RILL_KRPC_NODE6_LEN];
    size_t each = RILL_KRPC_ID_LEN + addr_len + 2;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf + i * each;
        memcpy(p, nodes[i].id, RILL_KRPC_ID_LEN);
        memcpy(p + RILL_KRPC_ID_LEN, nodes[i].addr, addr_len);
        p[RILL_KRPC_ID_LEN + addr_len] = (uint8_t)(nodes[i].port >> 8);
        p[RILL_KRPC_ID_LEN + addr_len + 1] = (uint8_t)nodes[i].port;
    }
    rill_benc_key(e, key);
    rill_benc_str(e, buf, n * each);
}

static void put_values(struct rill_benc *e, const struct rill_krpc_msg *m)
{
    rill_benc_key(e, "values");
    rill_benc_list(e);
    for (size_t i = 0; i < m->n_values; i++) {
        const struct rill_krpc_peer *peer = &m->values[i];
        uint8_t buf[18];
        memcpy(buf, peer->addr, peer->addr_len);
        buf[peer->addr_len] = (uint8_t)(peer->port >> 8);
        buf[peer->addr_len + 1] = (uint8_t)peer->port;
        rill_benc_str(e, buf, peer->addr_len + 2u);
    }
    rill_benc_end(e);
}

/* The BEP 44 keys a put query and a get response share, by their bits. */
static void put_item(struct rill_benc *e, const struct rill_krpc_msg *m)
{
    if (m->present & RILL_KRPC_HAS_KEY) {
        rill_benc_key(e, "k");
        rill_benc_str(e, m->k, RILL_KRPC_KEY_LEN);
        rill_benc_key(e, "sig");
        rill_benc_str(e, m->sig, RILL_KRPC_SIG_LEN);
    }
    if (m->present & RILL_KRPC_HAS_SEQ) {
        rill_benc_key(e, "seq");
        rill_benc_int(e, m->seq);
    }
    if (m->present & RILL_KRPC_HAS_ITEM) {
        rill_benc_key(e, "v");
        rill_benc_raw(e, m->item, m->item_len);
    }
}

static void put_put_args(struct rill_benc *e, const struct rill_krpc_msg *m)
{
    rill_benc_key(e, "token");
    rill_benc_str(e, m->token, m->token_len);
    put_item(e, m);
    if (m->present & RILL_KRPC_HAS_SALT) {
        rill_benc_key(e, "salt");
        rill_benc_str(e, m->salt, m->salt_len);
    }
    if (m->present & RILL_KRPC_HAS_CAS) {
        rill_benc_key(e, "cas");
        rill_benc_int(e, m->cas);
    }
}

static void put_query_args(struct rill_benc *e, const struct rill_krpc_msg *m)
{
    rill_benc_key(e, "id");
    rill_benc_str(e, m->id, RILL_KRPC_ID_LEN);
    if (m->method == RILL_KRPC_PING)
        return;
    if (m->method == RILL_KRPC_PUT) {
        put_put_args(e, m);
        return;
    }
    if (m->method == RILL_KRPC_GET && (m->present & RILL_KRPC_HAS_SEQ)) {
        rill_benc_key(e, "seq");
        rill_benc_int(e, m->seq);
    }
    rill_benc_key(e, target_key(m->method));
    rill_benc_str(e, m->target, RILL_KRPC_ID_LEN);
    if (m->method == RILL_KRPC_ANNOUNCE_PEER) {
        if (m->implied_port) {
            rill_benc_key(e, "implied_port");
            rill_benc_int(e, 1);
        }
        rill_benc_key(e, "port");
        rill_benc_int(e, m->port);
        rill_benc_key(e, "token");
        rill_benc_str(e, m->token, m->token_len);
    } else if (m->want) {
        rill_benc_key(e, "want");
        rill_benc_list(e);
        if (m->want & RILL_KRPC_WANT_N4)
            rill_benc_cstr(e, "n4");
        if (m->want & RILL_KRPC_WANT_N6)
            rill_benc_cstr(e, "n6");
        rill_benc_end(e);
    }
}

static void put_response(struct rill_benc *e, const struct rill_krpc_msg *m)
{
    rill_benc_key(e, "id");
    rill_benc_str(e, m->id, RILL_KRPC_ID_LEN);
    if (m->present & RILL_KRPC_HAS_NODES)
        put_nodes(e, "nodes", m->nodes, m->n_nodes, 4);
    if (m->present & RILL_KRPC_HAS_NODES6)
        put_nodes(e, "nodes6", m->nodes6, m->n_nodes6, 16);
    if (m->present & RILL_KRPC_HAS_VALUES)
        put_values(e, m);
    if (m->present & RILL_KRPC_HAS_TOKEN) {
        rill_benc_key(e, "token");
        rill_benc_str(e, m->token, m->token_len);
    }
    put_item(e, m);
}

/* What rill_krpc_build refuses: anything it could not parse back. */
static bool buildable(const struct rill_krpc_msg *m)
{
    if (m->tid_len > RILL_KRPC_TID_MAX || m->token_len > RILL_KRPC_TOKEN_MAX ||
        m->v_len > RILL_KRPC_V_MAX || m->err_msg_len > RILL_KRPC_ERRMSG_MAX)
        return false;
    if (m->n_nodes > RILL_KRPC_NODES_MAX || m->n_nodes6 > RILL_KRPC_NODES_MAX ||
        m->n_values > RILL_KRPC_VALUES_MAX)
        return false;
    for (size_t i = 0; i < m->n_values; i++)
        if (m->values[i].addr_len != 4 && m->values[i].addr_len != 16)
            return false;
    if (m->item_len > RILL_KRPC_ITEM_BUF)
        return false;
    if (m->type == RILL_KRPC_QUERY && m->method == RILL_KRPC_PUT) {
        /* What parse_put requires, and no keys it would ignore. */
        uint32_t p = m->present;
        if (!(p & RILL_KRPC_HAS_ITEM))
            return false;
        if (p & RILL_KRPC_HAS_KEY)
            return (p & RILL_KRPC_HAS_SEQ) != 0;
        return !(p & (RILL_KRPC_HAS_SEQ | RILL_KRPC_HAS_SALT | RILL_KRPC_HAS_CAS));
    }
    if (m->type == RILL_KRPC_QUERY)
        return rill_krpc_method_name(m->method) != NULL;
    return m->type == RILL_KRPC_RESPONSE || m->type == RILL_KRPC_ERROR;
}

int rill_krpc_build(const struct rill_krpc_msg *m, struct rill_buf *out)
{
    if (!buildable(m))
        return RILL_EINVAL;
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "t");
    rill_benc_str(&e, m->tid, m->tid_len);
    rill_benc_key(&e, "y");
    rill_benc_str(&e, &m->type, 1);
    if (m->present & RILL_KRPC_HAS_V) {
        rill_benc_key(&e, "v");
        rill_benc_str(&e, m->v, m->v_len);
    }
    if (m->ro) {
        rill_benc_key(&e, "ro");
        rill_benc_int(&e, 1);
    }
    if ((m->present & RILL_KRPC_HAS_IP) && (m->ip_len == 4 || m->ip_len == 16)) {
        uint8_t c[18];
        memcpy(c, m->ip, m->ip_len);
        c[m->ip_len] = (uint8_t)(m->ip_port >> 8);
        c[m->ip_len + 1] = (uint8_t)m->ip_port;
        rill_benc_key(&e, "ip");
        rill_benc_str(&e, c, m->ip_len + 2u);
    }
    if (m->type == RILL_KRPC_QUERY) {
        rill_benc_key(&e, "q");
        rill_benc_cstr(&e, rill_krpc_method_name(m->method));
        rill_benc_key(&e, "a");
    } else {
        rill_benc_key(&e, m->type == RILL_KRPC_RESPONSE ? "r" : "e");
    }
    if (m->type == RILL_KRPC_ERROR) {
        rill_benc_list(&e);
        rill_benc_int(&e, m->err_code);
        rill_benc_str(&e, m->err_msg, m->err_msg_len);
    } else {
        rill_benc_dict(&e);
        if (m->type == RILL_KRPC_QUERY)
            put_query_args(&e, m);
        else
            put_response(&e, m);
    }
    rill_benc_end(&e);
    rill_benc_end(&e);
    return rill_benc_finish(&e);
}

/* ------------------------------------------------------------- initializers */

static void init_header(struct rill_krpc_msg *m, uint8_t type, const uint8_t *tid, size_t tid_len)
{
    /* `tid` may point into *m itself (answering the message just parsed). */
    uint8_t copy[RILL_KRPC_TID_MAX] = {0};
    size_t n = tid_len < RILL_KRPC_TID_MAX ? tid_len : RILL_KRPC_TID_MAX;
    if (tid && n)
        memcpy(copy, tid, n);
    memset(m, 0, sizeof *m);
    m->type = type;
    m->tid_len = (uint8_t)n;
    memcpy(m->tid, copy, sizeof copy);
}

void rill_krpc_query_init(struct rill_krpc_msg *m, const uint8_t *tid, size_t tid_len,
                          enum rill_krpc_method method, const uint8_t id[RILL_KRPC_ID_LEN])
{
    init_header(m, RILL_KRPC_QUERY, tid, tid_len);
    m->method = (uint8_t)method;
    if (id)
        memcpy(m->id, id, RILL_KRPC_ID_LEN);
}

void rill_krpc_response_init(struct rill_krpc_msg *m, const uint8_t *tid, size_t tid_len,
                             const uint8_t id[RILL_KRPC_ID_LEN])
{
    init_header(m, RILL_KRPC_RESPONSE, tid, tid_len);
    if (id)
        memcpy(m->id, id, RILL_KRPC_ID_LEN);
}

static const char *standard_text(int64_t code)
{
    switch (code) {
    case RILL_KRPC_E_GENERIC: return "Generic Error";
    case RILL_KRPC_E_SERVER: return "Server Error";
    case RILL_KRPC_E_PROTOCOL: return "Protocol Error";
    case RILL_KRPC_E_METHOD: return "Method Unknown";
    case RILL_KRPC_E_TOO_BIG: return "Message (v field) too big.";
    case RILL_KRPC_E_BAD_SIG: return "Invalid signature";
    case RILL_KRPC_E_SALT_BIG: return "Salt (salt field) too big.";
    case RILL_KRPC_E_CAS: return "The CAS hash mismatched, re-read value and try again.";
    case RILL_KRPC_E_SEQ: return "Sequence number less than current.";
    default: return "Error";
    }
}

void rill_krpc_error_init(struct rill_krpc_msg *m, const uint8_t *tid, size_t tid_len, int64_t code,
                          const char *msg)
{
    init_header(m, RILL_KRPC_ERROR, tid, tid_len);
    m->err_code = code;
    if (!msg)
        msg = standard_text(code);
    m->err_msg_len = strnlen(msg, RILL_KRPC_ERRMSG_MAX);
    memcpy(m->err_msg, msg, m->err_msg_len);
}
