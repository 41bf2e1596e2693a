/* The DHT node's lookups: one rill_dht_lookup per family for each user
 * request (get_peers, announce), the bootstrap's own-id lookup and bucket
 * refreshes. The lookup core picks whom to ask; this file sends the
 * queries and feeds the answers back. */
#include <string.h>

#include "io/clock.h"
#include "io/dht_node_internal.h"

static unsigned fam_len(unsigned fam)
{
    return fam ? 16 : 4;
}

/* ------------------------------------------------------------- requests */

static void req_add_values(struct dht_req *q, const struct rill_krpc_peer *values, size_t nv,
                           struct rill_peer_addr *fresh, size_t *n_fresh)
{
    *n_fresh = 0;
    for (size_t i = 0; i < nv && q->n_values < RILL_DHT_VALUES_MAX; i++) {
        const struct rill_krpc_peer *k = &values[i];
        struct rill_peer_addr v0 = {.addr_len = k->addr_len, .port = k->port}, *v = &v0;
        memcpy(v0.addr, k->addr, sizeof v0.addr);
        bool seen = false;
        for (size_t j = 0; j < q->n_values && !seen; j++)
            seen = q->values[j].addr_len == v->addr_len && q->values[j].port == v->port &&
                   memcmp(q->values[j].addr, v->addr, v->addr_len) == 0;
        if (seen)
            continue;
        q->values[q->n_values++] = *v;
        fresh[(*n_fresh)++] = *v;
    }
}

static void lk_finish(struct rill_dht *n, unsigned i)
{
    struct dht_lk *k = &n->lk[i];
    k->phase = DHT_LK_FREE;
    if (k->boot) /* our side is known: now the farther buckets */
        n->join_n[k->fam] = (uint8_t)rill_dht_table_join_targets(
            &n->fam[k->fam].table, &n->rng, n->join[k->fam], RILL_DHT_BUCKETS_MAX);
    if (k->req < 0)
        return;
    struct dht_req *q = &n->req[k->req];
    unsigned hops = rill_dht_lookup_hops(&k->l);
    if (hops > q->hops)
        q->hops = (uint8_t)(hops > 255 ? 255 : hops);
    if (--q->lookups > 0)
        return;
    q->used = false;
    n->last_hops = q->hops;
    n->last_stored = q->stored;
    if (q->it)
        rill__dht_item_done(q);
    else if (q->cb)
        q->cb(q->ctx, q->values, q->n_values, true);
}

/* Sends announce_peer (or a BEP 44 put) to each of the K closest that
 * gave a token. */
static void lk_store(struct rill_dht *n, unsigned i)
{
    struct dht_lk *k = &n->lk[i];
    struct dht_req *q = &n->req[k->req];
    struct rill_dht_cand best[RILL_DHT_LOOKUP_K];
    size_t nb = rill_dht_lookup_result(&k->l, best, RILL_DHT_LOOKUP_K);
    k->phase = DHT_LK_ANNOUNCING;
    bool put = q->kind == DHT_REQ_PUT;
    if (put && !rill__dht_item_put_fill(q))
        nb = 0;
    for (size_t j = 0; j < nb; j++) {
        if (!best[j].token_len)
            continue;
        struct dht_addr to;
        rill__dht_addr_from_node(&to, &best[j].node, fam_len(k->fam));
        struct dht_tx *t = rill__dht_tx_new(n, DHT_TX_ANNOUNCE, best[j].node.id, &to,
                                            put ? RILL_KRPC_PUT : RILL_KRPC_ANNOUNCE_PEER);
        if (!t)
            break;
        t->lk = (uint8_t)i;
        if (put) {
            rill__dht_item_put_args(n, q);
        } else {
            memcpy(n->out.target, k->l.target, RILL_KRPC_ID_LEN);
            /* implied_port: the peer's port is the UDP port the node sees
             * (BEP 5); the port key must still be there. */
            n->out.implied_port = q->port == 0;
            n->out.port = q->port ? q->port : n->fam[k->fam].port;
        }
        memcpy(n->out.token, best[j].token, best[j].token_len);
        n->out.token_len = best[j].token_len;
        rill__dht_tx_send(n, t);
        k->pending++;
    }
    if (!k->pending)
        lk_finish(n, i);
}

void rill__dht_lk_pump(struct rill_dht *n, unsigned i)
{
    struct dht_lk *k = &n->lk[i];
    if (k->phase != DHT_LK_LOOKUP)
        return;
    struct rill_krpc_node next;
    enum rill_krpc_method method = RILL_KRPC_FIND_NODE;
    if (k->req >= 0)
        method = n->req[k->req].it ? RILL_KRPC_GET : RILL_KRPC_GET_PEERS;
    while (rill_dht_lookup_next(&k->l, n->now, &next) == 1) {
        struct dht_addr to;
        rill__dht_addr_from_node(&to, &next, fam_len(k->fam));
        struct dht_tx *t = rill__dht_tx_new(n, DHT_TX_LOOKUP, next.id, &to, method);
        if (!t) {
            rill_dht_lookup_failed(&k->l, next.id, n->now);
            continue;
        }
        t->lk = (uint8_t)i;
        memcpy(n->out.target, k->l.target, RILL_KRPC_ID_LEN);
        rill__dht_tx_send(n, t);
    }
    if (!rill_dht_lookup_done(&k->l))
        return;
    if (k->req >= 0 &&
        (n->req[k->req].kind == DHT_REQ_ANNOUNCE || n->req[k->req].kind == DHT_REQ_PUT))
        lk_store(n, i);
    else
        lk_finish(n, i);
}

int rill__dht_lk_start(struct rill_dht *n, unsigned fam,
                       const uint8_t target[RILL_KRPC_ID_LEN], enum rill_dht_lookup_kind kind,
                       int req)
{
    for (unsigned i = 0; i < RILL__DHT_LOOKUPS_MAX; i++) {
        struct dht_lk *k = &n->lk[i];
        if (k->phase != DHT_LK_FREE)
            continue;
        memset(k, 0, sizeof *k);
        k->phase = DHT_LK_LOOKUP;
        k->fam = (uint8_t)fam;
        k->req = (int8_t)req;
        struct rill_krpc_node seeds[RILL_DHT_LOOKUP_K];
        size_t ns = rill_dht_table_closest(&n->fam[fam].table, target, seeds, RILL_DHT_LOOKUP_K,
                                           n->now);
        rill_dht_lookup_init(&k->l, target, kind, n->id, seeds, ns, n->now);
        return (int)i;
    }
    return RILL_ELIMIT;
}

static void on_lookup_reply(struct rill_dht *n, const struct dht_tx *t)
{
    struct dht_lk *k = &n->lk[t->lk];
    const struct rill_krpc_msg *m = &n->in;
    if (k->phase != DHT_LK_LOOKUP)
        return;
    if (memcmp(m->id, t->id, RILL_KRPC_ID_LEN) != 0) {
        rill_dht_lookup_failed(&k->l, t->id, n->now); /* not the node we meant */
    } else {
        bool tok = (m->present & RILL_KRPC_HAS_TOKEN) != 0;
        const struct rill_krpc_node *nodes = k->fam ? m->nodes6 : m->nodes;
        size_t nn = k->fam ? m->n_nodes6 : m->n_nodes;
        rill_dht_lookup_replied(&k->l, t->id, nodes, nn, tok ? m->token : NULL,
                                tok ? m->token_len : 0, n->now);
        if (k->req >= 0 && n->req[k->req].it) {
            rill__dht_item_reply(n, &n->req[k->req]);
        } else if (k->req >= 0) {
            struct dht_req *q = &n->req[k->req];
            struct rill_peer_addr fresh[RILL_DHT_VALUES_MAX];
            size_t nf;
            req_add_values(q, m->values, m->n_values, fresh, &nf);
            if (nf && q->cb)
                q->cb(q->ctx, fresh, nf, false);
        }
    }
    rill__dht_lk_pump(n, t->lk);
}

void rill__dht_lk_tx_end(struct rill_dht *n, const struct dht_tx *t, bool ok, int64_t code)
{
    struct dht_lk *k = &n->lk[t->lk];
    if (t->kind == DHT_TX_ANNOUNCE) {
        if (k->phase != DHT_LK_ANNOUNCING || !k->pending)
            return;
        struct dht_item_req *it = k->req >= 0 ? n->req[k->req].it : NULL;
        if (it && ok)
            it->stored++;
        else if (ok && k->req >= 0)
            n->req[k->req].stored++;
        else if (it && (code == RILL_KRPC_E_SEQ || code == RILL_KRPC_E_CAS))
            it->refused = RILL_EINVAL; /* a newer version is stored there */
        if (--k->pending == 0)
            lk_finish(n, t->lk);
    } else if (ok) {
        on_lookup_reply(n, t);
    } else if (k->phase == DHT_LK_LOOKUP) {
        rill_dht_lookup_failed(&k->l, t->id, n->now);
        rill__dht_lk_pump(n, t->lk);
    }
}

/* ------------------------------------------------- bootstrap and refresh */

void rill__dht_boot_lookup(struct rill_dht *n, unsigned fam)
{
    for (unsigned i = 0; i < RILL__DHT_LOOKUPS_MAX; i++)
        if (n->lk[i].phase != DHT_LK_FREE && n->lk[i].boot && n->lk[i].fam == fam)
            return; /* one is running: it will meet the new node too */
    int i = rill__dht_lk_start(n, fam, n->id, RILL_DHT_LOOKUP_FIND_NODE, -1);
    if (i >= 0) {
        n->lk[i].boot = true;
        rill__dht_lk_pump(n, (unsigned)i);
    }
}

/* The join's lookups of farther buckets first, then BEP 5's refresh: a
 * bucket nobody changed for 15 minutes gets a lookup of a random id inside
 * it, at most one per tick. Only while half the lookup slots are free, so
 * users' requests come first. */
void rill__dht_refresh(struct rill_dht *n)
{
    unsigned busy = 0;
    for (unsigned i = 0; i < RILL__DHT_LOOKUPS_MAX; i++)
        busy += n->lk[i].phase != DHT_LK_FREE;
    if (busy >= RILL__DHT_LOOKUPS_MAX / 2)
        return;
    bool joining = false;
    for (unsigned fam = 0; fam < 2; fam++) {
        while (n->join_n[fam] && busy < RILL__DHT_LOOKUPS_MAX / 2) {
            const uint8_t *target = n->join[fam][--n->join_n[fam]];
            int i = rill__dht_lk_start(n, fam, target, RILL_DHT_LOOKUP_FIND_NODE, -1);
            if (i < 0)
                break;
            n->lk[i].join = true;
            busy++;
            joining = true;
            rill__dht_lk_pump(n, (unsigned)i);
        }
    }
    if (joining)
        return;
    for (unsigned fam = 0; fam < 2; fam++) {
        struct rill_dht_table *t = &n->fam[fam].table;
        uint8_t target[RILL_KRPC_ID_LEN];
        if (n->fam[fam].fd < 0 || rill_dht_table_nodes(t) == 0 ||
            rill_dht_table_refresh_due(t, &n->rng, n->now, target) != 1)
            continue;
        int i = rill__dht_lk_start(n, fam, target, RILL_DHT_LOOKUP_FIND_NODE, -1);
        if (i >= 0)
            rill__dht_lk_pump(n, (unsigned)i);
        return;
    }
}

/* ------------------------------------------------------------------ API */

/* Pings `to`; a bootstrap ping's answer also starts the own-id lookup. */
static int ping_addr(struct rill_dht *n, const struct dht_addr *to, bool boot)
{
    if (to->port == 0 || n->fam[DHT_FAM(to->len)].fd < 0)
        return RILL_EINVAL;
    n->now = rill__monotonic_ms();
    struct dht_tx *t =
        rill__dht_tx_new(n, boot ? DHT_TX_BOOT_PING : DHT_TX_PING, NULL, to, RILL_KRPC_PING);
    if (!t)
        return RILL_ELIMIT;
    n->boot_pings += boot;
    rill__dht_tx_send(n, t);
    return 0;
}

int rill_dht_bootstrap(struct rill_dht *n, const char *addr)
{
    struct dht_addr to;
    if (rill__dht_addr_parse(addr, &to) != 0)
        return RILL_EINVAL;
    return ping_addr(n, &to, true);
}

int rill__dht_ping_peer(struct rill_dht *n, const uint8_t *ip, size_t len, uint16_t port)
{
    if (len != 4 && len != 16)
        return RILL_EINVAL;
    struct dht_addr to = {.len = (uint8_t)len, .port = port};
    memcpy(to.ip, ip, len);
    /* An answer puts the node in the table like any other; only a table
     * still nearly empty (a trackerless swarm's first contact) needs the
     * own-id lookup of a bootstrap. */
    bool boot = rill_dht_table_nodes(&n->fam[DHT_FAM(len)].table) < RILL_DHT_K;
    return ping_addr(n, &to, boot);
}

bool rill_dht_bootstrapping(const struct rill_dht *n)
{
    if (n->boot_pings || n->join_n[0] || n->join_n[1])
        return true;
    for (unsigned i = 0; i < RILL__DHT_LOOKUPS_MAX; i++)
        if (n->lk[i].phase != DHT_LK_FREE && (n->lk[i].boot || n->lk[i].join))
            return true;
    return false;
}

/* A free request slot, claimed and cleared; NULL when all are busy. */
struct dht_req *rill__dht_req_new(struct rill_dht *n, enum dht_req_kind kind)
{
    for (int i = 0; i < DHT_REQUESTS_MAX; i++) {
        struct dht_req *q = &n->req[i];
        if (q->used)
            continue;
        *q = (struct dht_req){.used = true, .kind = (uint8_t)kind};
        return q;
    }
    return NULL;
}

/* Starts the lookups of request q towards target; on failure q is
 * released (and its item freed). */
int rill__dht_req_start(struct rill_dht *n, struct dht_req *q,
                        const uint8_t target[RILL_KRPC_ID_LEN])
{
    n->now = rill__monotonic_ms();
    int r = (int)(q - n->req);
    int started[2] = {-1, -1};
    for (unsigned fam = 0; fam < 2; fam++)
        if (n->fam[fam].fd >= 0 &&
            (started[fam] = rill__dht_lk_start(n, fam, target, RILL_DHT_LOOKUP_GET_PEERS, r)) >= 0)
            q->lookups++;
    if (!q->lookups) {
        q->used = false;
        rill__dht_item_release(q);
        return RILL_ELIMIT;
    }
    /* Our own store first: we may be one of the nodes closest to the key
     * (in a small network, the only one). */
    if (q->kind == DHT_REQ_PEERS || q->kind == DHT_REQ_ANNOUNCE) {
        struct rill_krpc_peer own[RILL_DHT_VALUES_MAX];
        size_t no = 0;
        for (unsigned fam = 0; fam < 2; fam++)
            if (n->fam[fam].fd >= 0)
                no += rill_dht_store_get(&n->store, target, fam ? 16 : 4, own + no,
                                         RILL_DHT_VALUES_MAX / 2, &n->rng, n->now);
        struct rill_peer_addr fresh[RILL_DHT_VALUES_MAX];
        size_t nf;
        req_add_values(q, own, no, fresh, &nf);
    }
    /* Pumped only once all are counted: one may finish at once. */
    for (unsigned fam = 0; fam < 2; fam++)
        if (started[fam] >= 0)
            rill__dht_lk_pump(n, (unsigned)started[fam]);
    return 0;
}

static int peers_request(struct rill_dht *n, const uint8_t info_hash[RILL_KRPC_ID_LEN],
                         enum dht_req_kind kind, uint16_t port, rill_dht_peers_cb cb, void *ctx)
{
    struct dht_req *q = rill__dht_req_new(n, kind);
    if (!q)
        return RILL_ELIMIT;
    q->port = port;
    q->cb = cb;
    q->ctx = ctx;
    return rill__dht_req_start(n, q, info_hash);
}

int rill_dht_get_peers(struct rill_dht *n, const uint8_t info_hash[RILL_KRPC_ID_LEN],
                       rill_dht_peers_cb cb, void *ctx)
{
    return peers_request(n, info_hash, DHT_REQ_PEERS, 0, cb, ctx);
}

int rill_dht_announce(struct rill_dht *n, const uint8_t info_hash[RILL_KRPC_ID_LEN], uint16_t port,
                      rill_dht_peers_cb cb, void *ctx)
{
    return peers_request(n, info_hash, DHT_REQ_ANNOUNCE, port, cb, ctx);
}

void rill_dht_cancel(struct rill_dht *n, const void *ctx)
{
    for (int i = 0; i < DHT_REQUESTS_MAX; i++) {
        struct dht_req *q = &n->req[i];
        if (q->used && q->ctx == ctx) {
            q->cb = NULL;
            q->item_cb = NULL;
        }
    }
}
