/* The queries a DHT node answers: ping, find_node, get_peers, announce_peer
 * (BEP 5), get and put (BEP 44, in dht_node_item.c), with BEP 32's nodes6 and "want", BEP 42's "ip", and a limit per
 * source address. */
#include <string.h>

#include "io/dht_node_internal.h"

/* Values in a get_peers answer: 50 IPv6 values and a token still fit one
 * 1280-byte IPv6 datagram. Answers are at most a few times the size of a
 * query (about 100 bytes), and the per-address limit bounds how many a
 * spoofed source can draw, so the node is a poor amplifier. */
#define VALUES_PER_ANSWER 50

static void answer_error(struct rill_dht *n, const uint8_t *tid, size_t tid_len, int code,
                         const char *msg, const struct dht_addr *from)
{
    rill_krpc_error_init(&n->out, tid, tid_len, code, msg);
    rill__dht_send(n, &n->out, from);
}

/* BEP 32: the families the querier wants, else the one it asked from. */
static unsigned wanted(const struct rill_krpc_msg *q, const struct dht_addr *from)
{
    unsigned w = q->want & (RILL_KRPC_WANT_N4 | RILL_KRPC_WANT_N6);
    if (!w)
        w = from->len == 4 ? RILL_KRPC_WANT_N4 : RILL_KRPC_WANT_N6;
    return w;
}

static void answer_nodes(struct rill_dht *n, const uint8_t target[RILL_KRPC_ID_LEN],
                         unsigned want)
{
    struct rill_krpc_msg *r = &n->out;
    if ((want & RILL_KRPC_WANT_N4) && n->fam[0].fd >= 0) {
        r->n_nodes = (uint8_t)rill_dht_table_closest(&n->fam[0].table, target, r->nodes,
                                                     RILL_DHT_K, n->now);
        r->present |= RILL_KRPC_HAS_NODES;
    }
    if ((want & RILL_KRPC_WANT_N6) && n->fam[1].fd >= 0) {
        r->n_nodes6 = (uint8_t)rill_dht_table_closest(&n->fam[1].table, target, r->nodes6,
                                                      RILL_DHT_K, n->now);
        r->present |= RILL_KRPC_HAS_NODES6;
    }
}

static void answer_get_peers(struct rill_dht *n, const struct dht_addr *from)
{
    const struct rill_krpc_msg *q = &n->in;
    struct rill_krpc_msg *r = &n->out;
    rill_dht_tokens_make(&n->tokens, from->ip, from->len, r->token);
    r->token_len = RILL_DHT_TOKEN_LEN;
    r->present |= RILL_KRPC_HAS_TOKEN;
    /* Peers of the querier's own family: the other could not reach them. */
    size_t got = rill_dht_store_get(&n->store, q->target, from->len, r->values,
                                    VALUES_PER_ANSWER, &n->rng, n->now);
    if (got) {
        r->n_values = (uint8_t)got;
        r->present |= RILL_KRPC_HAS_VALUES;
    } else {
        answer_nodes(n, q->target, wanted(q, from));
    }
}

/* 0 when answered in n->out, else a KRPC error code (message in *why). */
static int answer_announce(struct rill_dht *n, const struct dht_addr *from,
                           const char **why)
{
    const struct rill_krpc_msg *q = &n->in;
    if (!rill_dht_tokens_check(&n->tokens, from->ip, from->len, q->token, q->token_len)) {
        *why = "bad token";
        return RILL_KRPC_E_PROTOCOL;
    }
    struct rill_krpc_peer peer = {.addr_len = from->len,
                                  .port = q->implied_port ? from->port : q->port};
    memcpy(peer.addr, from->ip, from->len);
    int rc = rill_dht_store_announce(&n->store, q->target, &peer, n->now);
    if (rc == RILL_EINVAL) {
        *why = "bad port";
        return RILL_KRPC_E_PROTOCOL;
    }
    if (rc < 0) {
        *why = "store full";
        return RILL_KRPC_E_SERVER;
    }
    return 0;
}

void rill__dht_on_query(struct rill_dht *n, const struct dht_addr *from)
{
    const struct rill_krpc_msg *q = &n->in;
    n->st.queries_in++;
    if (!rill_dht_limit_allow(&n->limit, from->ip, from->len, n->now))
        return; /* silently: an error would be one more datagram to reflect */
    /* BEP 43: a read-only node is answered but never routed to. */
    if (!q->ro)
        rill__dht_heard(n, q->id, from, false);
    if (q->method == RILL_KRPC_UNKNOWN) {
        answer_error(n, q->tid, q->tid_len, RILL_KRPC_E_METHOD, NULL, from);
        return;
    }
    const char *why = NULL;
    int code = 0;
    if (q->method == RILL_KRPC_ANNOUNCE_PEER)
        code = answer_announce(n, from, &why);
    else if (q->method == RILL_KRPC_PUT)
        code = rill__dht_answer_put(n, from, &why);
    if (code) {
        answer_error(n, q->tid, q->tid_len, code, why, from);
        return;
    }
    struct rill_krpc_msg *r = &n->out;
    rill_krpc_response_init(r, q->tid, q->tid_len, n->id);
    /* BEP 42: tell the querier the address we see, so it can pick an id. */
    memcpy(r->ip, from->ip, from->len);
    r->ip_len = from->len;
    r->ip_port = from->port;
    r->present |= RILL_KRPC_HAS_IP;
    if (q->method == RILL_KRPC_FIND_NODE)
        answer_nodes(n, q->target, wanted(q, from));
    else if (q->method == RILL_KRPC_GET_PEERS)
        answer_get_peers(n, from);
    else if (q->method == RILL_KRPC_GET) {
        rill__dht_answer_get(n, from);
        answer_nodes(n, q->target, wanted(q, from));
    }
    rill__dht_send(n, r, from);
}

/* A datagram krpc refused: a bencoded query (a dict with "y" = "q") gets
 * error 203 under its own transaction id; anything else is ignored, so
 * junk and broken responses never start an exchange. */
void rill__dht_on_malformed(struct rill_dht *n, const uint8_t *p, size_t len,
                            const struct dht_addr *from)
{
    struct rill_bdoc doc;
    struct rill_blimits lim = {.max_depth = 8, .max_nodes = 512, .allow_unsorted = true};
    if (rill_bdecode(&doc, p, len, &lim, NULL) != 0)
        return;
    const struct rill_bnode *root = rill_bdoc_root(&doc);
    const struct rill_bnode *y = rill_bdict_get(&doc, root, "y");
    const struct rill_bnode *t = rill_bdict_get(&doc, root, "t");
    if (y && rill_bstr_eq(y, "q") && t && t->type == RILL_BSTR && t->slen <= RILL_KRPC_TID_MAX &&
        rill_dht_limit_allow(&n->limit, from->ip, from->len, n->now))
        answer_error(n, t->s, t->slen, RILL_KRPC_E_PROTOCOL, NULL, from);
    rill_bdoc_free(&doc);
}
