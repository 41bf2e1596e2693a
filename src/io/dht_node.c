/* A minimal Mainline DHT node on libevent (see dht_node.h). The cores make
 * every decision; this file moves datagrams, keeps transactions and reads
 * the clock once per callback. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/dht_lookup.h"
#include "core/dht_store.h"
#include "core/dht_table.h"
#include "io/clock.h"
#include "io/dht_node.h"
#include "io/sockaddr.h"
#include "util/rng.h"

#define IN_MAX 1500         /* KRPC fits a datagram; longer ones are dropped */
#define OUT_MAX 1500        /* our answers are far smaller */
#define TX_SLOTS 256        /* transactions in flight; low tid byte = slot */
#define TICK_MS 100         /* timer period: timeouts and pacing */
#define EXPIRE_MS 60000u    /* peer store expiry pass */
#define READS_PER_WAKEUP 64 /* so one busy socket cannot starve the loop */

enum tx_kind {
    TX_FREE = 0,
    TX_PING,      /* a table ping (RILL_DHT_PING) */
    TX_BOOT_PING, /* bootstrap ping: the answer starts the own-id lookup */
    TX_LOOKUP,    /* find_node / get_peers of lookup `lk` */
    TX_ANNOUNCE,  /* announce_peer of lookup `lk` */
};

struct tx {
    uint8_t kind;
    uint8_t lk;  /* lookup slot */
    uint8_t gen; /* high tid byte */
    bool has_id; /* id known (not a bootstrap ping) */
    uint8_t id[RILL_KRPC_ID_LEN];
    uint8_t addr[4];
    uint16_t port;
    uint64_t sent_ms;
};

enum lk_phase { LK_FREE = 0, LK_LOOKUP, LK_ANNOUNCING };

struct lk {
    uint8_t phase;
    bool boot;        /* the bootstrap's own-id lookup (no callback) */
    bool announce;    /* announce after the lookup */
    uint16_t port;    /* announced port */
    uint16_t pending; /* announce_peer queries in flight */
    rill__dht_peers_cb cb;
    void *ctx;
    size_t n_values;
    struct rill_krpc_peer values[RILL__DHT_VALUES_MAX];
    struct rill_dht_lookup l;
};

struct rill__dht_node {
    struct event_base *base;
    int fd;
    uint16_t port;
    struct event *ev_read, *ev_tick;
    uint8_t id[RILL_KRPC_ID_LEN];
    struct rill_rng rng;
    struct rill_dht_table table;
    struct rill_dht_store store;
    struct rill_dht_tokens tokens;
    uint64_t now, expire_ms;
    unsigned boot_pings; /* bootstrap pings in flight */
    unsigned tx_cursor;
    struct tx tx[TX_SLOTS];
    struct lk lk[RILL__DHT_LOOKUPS_MAX];
    struct rill_krpc_msg in, out; /* large: kept here, not on the stack */
    uint8_t inbuf[IN_MAX];
};

static void lk_pump(struct rill__dht_node *n, unsigned i);

/* ------------------------------------------------------------ addresses */

static int parse_v4(const char *text, struct sockaddr_in *sa)
{
    const char *colon = text ? strrchr(text, ':') : NULL;
    if (!colon || colon == text || (size_t)(colon - text) >= 64)
        return RILL_EINVAL;
    char ip[64];
    memcpy(ip, text, (size_t)(colon - text));
    ip[colon - text] = 0;
    char *end = NULL;
    errno = 0;
    unsigned long long port = strtoull(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port > 65535)
        return RILL_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len;
    if (rill__sockaddr_from_ip(ip, (uint16_t)port, &ss, &len) != 0 || ss.ss_family != AF_INET)
        return RILL_EINVAL;
    memcpy(sa, &ss, sizeof *sa);
    return 0;
}

static void to_sa(const uint8_t addr[4], uint16_t port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    memcpy(&sa->sin_addr, addr, 4);
    sa->sin_port = htons(port);
}

static void send_msg(struct rill__dht_node *n, const struct rill_krpc_msg *m, const uint8_t addr[4],
                     uint16_t port)
{
    uint8_t bytes[OUT_MAX];
    struct rill_buf b;
    rill_buf_init(&b, OUT_MAX);
    if (rill_krpc_build(m, &b) == 0 && b.len <= sizeof bytes) {
        memcpy(bytes, b.data, b.len);
        struct sockaddr_in sa;
        to_sa(addr, port, &sa);
        /* A full send buffer drops the datagram, as the network may. */
        (void)sendto(n->fd, bytes, b.len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
    }
    rill_buf_free(&b);
}

/* --------------------------------------------------------- transactions */

/* Claims a transaction slot and starts a query `method` to addr:port in
 * n->out (the caller fills the arguments and sends). NULL when full. */
static struct tx *tx_new(struct rill__dht_node *n, enum tx_kind kind, const uint8_t *id,
                         const uint8_t addr[4], uint16_t port, enum rill_krpc_method method)
{
    for (unsigned k = 0; k < TX_SLOTS; k++) {
        unsigned s = (n->tx_cursor + k) % TX_SLOTS;
        struct tx *t = &n->tx[s];
        if (t->kind != TX_FREE)
            continue;
        n->tx_cursor = (s + 1) % TX_SLOTS;
        uint8_t gen = (uint8_t)(t->gen + 1 + rill_rng_below(&n->rng, 255));
        *t = (struct tx){.kind = (uint8_t)kind,
                         .gen = gen,
                         .has_id = id != NULL,
                         .port = port,
                         .sent_ms = n->now};
        memcpy(t->addr, addr, 4);
        if (id)
            memcpy(t->id, id, RILL_KRPC_ID_LEN);
        uint8_t tid[2] = {gen, (uint8_t)s};
        rill_krpc_query_init(&n->out, tid, 2, method, n->id);
        return t;
    }
    return NULL;
}

static void tx_send(struct rill__dht_node *n, const struct tx *t)
{
    send_msg(n, &n->out, t->addr, t->port);
}

/* The transaction a response or error answers: the tid must name a live
 * slot and the datagram come from the address we asked. */
static struct tx *tx_find(struct rill__dht_node *n, const struct rill_krpc_msg *m,
                          const struct sockaddr_in *from)
{
    if (m->tid_len != 2)
        return NULL;
    struct tx *t = &n->tx[m->tid[1]];
    if (t->kind == TX_FREE || t->gen != m->tid[0] || t->port != ntohs(from->sin_port) ||
        memcmp(t->addr, &from->sin_addr, 4) != 0)
        return NULL;
    return t;
}

static void ping_node(struct rill__dht_node *n, const struct rill_krpc_node *node)
{
    struct tx *t = tx_new(n, TX_PING, node->id, node->addr, node->port, RILL_KRPC_PING);
    if (t)
        tx_send(n, t);
}

static void heard(struct rill__dht_node *n, const uint8_t id[RILL_KRPC_ID_LEN],
                  const struct sockaddr_in *from, bool replied)
{
    struct rill_krpc_node node = {.port = ntohs(from->sin_port)};
    memcpy(node.id, id, RILL_KRPC_ID_LEN);
    memcpy(node.addr, &from->sin_addr, 4);
    struct rill_krpc_node ping;
    if (rill_dht_table_heard(&n->table, &node, n->now, replied, &ping) == RILL_DHT_PING)
        ping_node(n, &ping);
}

/* ------------------------------------------------------------- answers */

static void answer_error(struct rill__dht_node *n, const uint8_t *tid, size_t tid_len, int code,
                         const char *msg, const struct sockaddr_in *from)
{
    rill_krpc_error_init(&n->out, tid, tid_len, code, msg);
    send_msg(n, &n->out, (const uint8_t *)&from->sin_addr, ntohs(from->sin_port));
}

static void answer_nodes(struct rill__dht_node *n, const uint8_t target[RILL_KRPC_ID_LEN])
{
    n->out.n_nodes =
        (uint8_t)rill_dht_table_closest(&n->table, target, n->out.nodes, RILL_DHT_K, n->now);
    n->out.present |= RILL_KRPC_HAS_NODES;
}

static void answer_get_peers(struct rill__dht_node *n, const struct sockaddr_in *from)
{
    const struct rill_krpc_msg *q = &n->in;
    struct rill_krpc_msg *r = &n->out;
    rill_dht_tokens_make(&n->tokens, (const uint8_t *)&from->sin_addr, 4, r->token);
    r->token_len = RILL_DHT_TOKEN_LEN;
    r->present |= RILL_KRPC_HAS_TOKEN;
    size_t got = rill_dht_store_get(&n->store, q->target, 4, r->values, RILL__DHT_VALUES_MAX,
                                    &n->rng, n->now);
    if (got) {
        r->n_values = (uint8_t)got;
        r->present |= RILL_KRPC_HAS_VALUES;
    } else {
        answer_nodes(n, q->target);
    }
}

/* 0 when answered in n->out, else a KRPC error code (message in *why). */
static int answer_announce(struct rill__dht_node *n, const struct sockaddr_in *from,
                           const char **why)
{
    const struct rill_krpc_msg *q = &n->in;
    if (!rill_dht_tokens_check(&n->tokens, (const uint8_t *)&from->sin_addr, 4, q->token,
                               q->token_len)) {
        *why = "bad token";
        return RILL_KRPC_E_PROTOCOL;
    }
    struct rill_krpc_peer peer = {.addr_len = 4,
                                  .port = q->implied_port ? ntohs(from->sin_port) : q->port};
    memcpy(peer.addr, &from->sin_addr, 4);
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

static void on_query(struct rill__dht_node *n, const struct sockaddr_in *from)
{
    const struct rill_krpc_msg *q = &n->in;
    /* BEP 43: a read-only node is answered but never routed to. */
    if (!q->ro)
        heard(n, q->id, from, false);
    if (q->method == RILL_KRPC_UNKNOWN) {
        answer_error(n, q->tid, q->tid_len, RILL_KRPC_E_METHOD, NULL, from);
        return;
    }
    const char *why = NULL;
    int code = 0;
    if (q->method == RILL_KRPC_ANNOUNCE_PEER)
        code = answer_announce(n, from, &why);
    if (code) {
        answer_error(n, q->tid, q->tid_len, code, why, from);
        return;
    }
    rill_krpc_response_init(&n->out, q->tid, q->tid_len, n->id);
    if (q->method == RILL_KRPC_FIND_NODE)
        answer_nodes(n, q->target);
    else if (q->method == RILL_KRPC_GET_PEERS)
        answer_get_peers(n, from);
    send_msg(n, &n->out, (const uint8_t *)&from->sin_addr, ntohs(from->sin_port));
}

/* A datagram krpc refused: a bencoded query (a dict with "y" = "q") gets
 * error 203 under its own transaction id; anything else is ignored, so
 * junk and broken responses never start an exchange. */
static void on_malformed(struct rill__dht_node *n, const uint8_t *p, size_t len,
                         const struct sockaddr_in *from)
{
    struct rill_bdoc doc;
    struct rill_blimits lim = {.max_depth = 8, .max_nodes = 512, .allow_unsorted = true};
    if (rill_bdecode(&doc, p, len, &lim, NULL) != 0)
        return;
    const struct rill_bnode *root = rill_bdoc_root(&doc);
    const struct rill_bnode *y = rill_bdict_get(&doc, root, "y");
    const struct rill_bnode *t = rill_bdict_get(&doc, root, "t");
    if (y && rill_bstr_eq(y, "q") && t && t->type == RILL_BSTR && t->slen <= RILL_KRPC_TID_MAX)
        answer_error(n, t->s, t->slen, RILL_KRPC_E_PROTOCOL, NULL, from);
    rill_bdoc_free(&doc);
}

/* -------------------------------------------------------------- lookups */

static void lk_add_values(struct lk *k, const struct rill_krpc_msg *m, struct rill_krpc_peer *fresh,
                          size_t *n_fresh)
{
    *n_fresh = 0;
    for (size_t i = 0; i < m->n_values && k->n_values < RILL__DHT_VALUES_MAX; i++) {
        const struct rill_krpc_peer *v = &m->values[i];
        bool seen = false;
        for (size_t j = 0; j < k->n_values && !seen; j++)
            seen = k->values[j].addr_len == v->addr_len && k->values[j].port == v->port &&
                   memcmp(k->values[j].addr, v->addr, v->addr_len) == 0;
        if (seen)
            continue;
        k->values[k->n_values++] = *v;
        fresh[(*n_fresh)++] = *v;
    }
}

static void lk_finish(struct rill__dht_node *n, unsigned i)
{
    struct lk *k = &n->lk[i];
    k->phase = LK_FREE;
    if (k->cb)
        k->cb(k->ctx, k->values, k->n_values, true);
}

/* Sends announce_peer to each of the K closest that gave a token. */
static void lk_announce(struct rill__dht_node *n, unsigned i)
{
    struct lk *k = &n->lk[i];
    struct rill_dht_cand best[RILL_DHT_LOOKUP_K];
    size_t nb = rill_dht_lookup_result(&k->l, best, RILL_DHT_LOOKUP_K);
    k->phase = LK_ANNOUNCING;
    for (size_t j = 0; j < nb; j++) {
        if (!best[j].token_len)
            continue;
        const struct rill_krpc_node *c = &best[j].node;
        struct tx *t = tx_new(n, TX_ANNOUNCE, c->id, c->addr, c->port, RILL_KRPC_ANNOUNCE_PEER);
        if (!t)
            break;
        t->lk = (uint8_t)i;
        memcpy(n->out.target, k->l.target, RILL_KRPC_ID_LEN);
        n->out.port = k->port;
        memcpy(n->out.token, best[j].token, best[j].token_len);
        n->out.token_len = best[j].token_len;
        tx_send(n, t);
        k->pending++;
    }
    if (!k->pending)
        lk_finish(n, i);
}

static void lk_pump(struct rill__dht_node *n, unsigned i)
{
    struct lk *k = &n->lk[i];
    if (k->phase != LK_LOOKUP)
        return;
    struct rill_krpc_node next;
    bool peers = k->l.kind == RILL_DHT_LOOKUP_GET_PEERS;
    while (rill_dht_lookup_next(&k->l, n->now, &next) == 1) {
        struct tx *t = tx_new(n, TX_LOOKUP, next.id, next.addr, next.port,
                              peers ? RILL_KRPC_GET_PEERS : RILL_KRPC_FIND_NODE);
        if (!t) {
            rill_dht_lookup_failed(&k->l, next.id, n->now);
            continue;
        }
        t->lk = (uint8_t)i;
        memcpy(n->out.target, k->l.target, RILL_KRPC_ID_LEN);
        tx_send(n, t);
    }
    if (!rill_dht_lookup_done(&k->l))
        return;
    if (k->announce)
        lk_announce(n, i);
    else
        lk_finish(n, i);
}

static int lk_start(struct rill__dht_node *n, const uint8_t target[RILL_KRPC_ID_LEN],
                    enum rill_dht_lookup_kind kind, rill__dht_peers_cb cb, void *ctx)
{
    for (unsigned i = 0; i < RILL__DHT_LOOKUPS_MAX; i++) {
        struct lk *k = &n->lk[i];
        if (k->phase != LK_FREE)
            continue;
        memset(k, 0, sizeof *k);
        k->phase = LK_LOOKUP;
        k->cb = cb;
        k->ctx = ctx;
        struct rill_krpc_node seeds[RILL_DHT_LOOKUP_K];
        size_t ns = rill_dht_table_closest(&n->table, target, seeds, RILL_DHT_LOOKUP_K, n->now);
        rill_dht_lookup_init(&k->l, target, kind, n->id, seeds, ns, n->now);
        return (int)i;
    }
    return RILL_ELIMIT;
}

/* ------------------------------------------------------------ responses */

static void on_lookup_reply(struct rill__dht_node *n, const struct tx *t)
{
    struct lk *k = &n->lk[t->lk];
    const struct rill_krpc_msg *m = &n->in;
    if (k->phase != LK_LOOKUP)
        return;
    if (memcmp(m->id, t->id, RILL_KRPC_ID_LEN) != 0) {
        rill_dht_lookup_failed(&k->l, t->id, n->now); /* not the node we meant */
    } else {
        bool tok = (m->present & RILL_KRPC_HAS_TOKEN) != 0;
        rill_dht_lookup_replied(&k->l, t->id, m->nodes, m->n_nodes, tok ? m->token : NULL,
                                tok ? m->token_len : 0, n->now);
        struct rill_krpc_peer fresh[RILL__DHT_VALUES_MAX];
        size_t nf;
        lk_add_values(k, m, fresh, &nf);
        if (nf && k->cb)
            k->cb(k->ctx, fresh, nf, false);
    }
    lk_pump(n, t->lk);
}

static void on_announce_done(struct rill__dht_node *n, unsigned i)
{
    struct lk *k = &n->lk[i];
    if (k->phase == LK_ANNOUNCING && k->pending && --k->pending == 0)
        lk_finish(n, i);
}

/* A transaction ends: answered (ok) or failed (error, timeout). */
static void tx_end(struct rill__dht_node *n, struct tx *t, bool ok)
{
    struct tx done = *t;
    t->kind = TX_FREE;
    if (!ok && done.has_id && done.kind != TX_ANNOUNCE)
        rill_dht_table_failed(&n->table, done.id, n->now);
    switch (done.kind) {
    case TX_BOOT_PING:
        n->boot_pings--;
        if (ok) {
            int i = lk_start(n, n->id, RILL_DHT_LOOKUP_FIND_NODE, NULL, NULL);
            if (i >= 0) {
                n->lk[i].boot = true;
                lk_pump(n, (unsigned)i);
            }
        }
        break;
    case TX_LOOKUP:
        if (ok)
            on_lookup_reply(n, &done);
        else if (n->lk[done.lk].phase == LK_LOOKUP) {
            rill_dht_lookup_failed(&n->lk[done.lk].l, done.id, n->now);
            lk_pump(n, done.lk);
        }
        break;
    case TX_ANNOUNCE: on_announce_done(n, done.lk); break;
    default: break;
    }
}

static void on_datagram(struct rill__dht_node *n, const uint8_t *p, size_t len,
                        const struct sockaddr_in *from)
{
    struct rill_krpc_msg *m = &n->in;
    if (ntohs(from->sin_port) == 0)
        return;
    if (rill_krpc_parse(p, len, m, NULL) != 0) {
        on_malformed(n, p, len, from);
        return;
    }
    if (m->type == RILL_KRPC_QUERY) {
        on_query(n, from);
        return;
    }
    struct tx *t = tx_find(n, m, from);
    if (!t)
        return; /* late, foreign or forged: nothing to do */
    if (m->type == RILL_KRPC_RESPONSE)
        heard(n, m->id, from, true);
    tx_end(n, t, m->type == RILL_KRPC_RESPONSE);
}

/* ---------------------------------------------------------------- events */

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct rill__dht_node *n = arg;
    n->now = rill__monotonic_ms();
    for (int i = 0; i < READS_PER_WAKEUP; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        ssize_t got = recvfrom(fd, n->inbuf, sizeof n->inbuf, MSG_DONTWAIT | MSG_TRUNC,
                               (struct sockaddr *)&ss, &sl);
        if (got < 0)
            return;
        if ((size_t)got > sizeof n->inbuf || ss.ss_family != AF_INET)
            continue; /* over-long (cut) or not IPv4 */
        struct sockaddr_in from;
        memcpy(&from, &ss, sizeof from);
        on_datagram(n, n->inbuf, (size_t)got, &from);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill__dht_node *n = arg;
    n->now = rill__monotonic_ms();
    for (unsigned s = 0; s < TX_SLOTS; s++) {
        struct tx *t = &n->tx[s];
        if (t->kind != TX_FREE && n->now - t->sent_ms >= RILL__DHT_QUERY_TIMEOUT_MS)
            tx_end(n, t, false);
    }
    if (rill_dht_tokens_rotate_due(&n->tokens, n->now)) {
        uint8_t secret[RILL_DHT_SECRET_LEN];
        rill_rng_bytes(&n->rng, secret, sizeof secret);
        rill_dht_tokens_rotate(&n->tokens, n->now, secret);
    }
    if (n->now >= n->expire_ms) {
        rill_dht_store_expire(&n->store, n->now);
        n->expire_ms = n->now + EXPIRE_MS;
    }
}

/* ------------------------------------------------------------------ API */

static int open_socket(struct rill__dht_node *n, const char *bind_addr)
{
    struct sockaddr_in sa;
    if (parse_v4(bind_addr, &sa) != 0)
        return RILL_EINVAL;
    n->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (n->fd < 0 || bind(n->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return RILL_EIO;
    socklen_t len = sizeof sa;
    if (getsockname(n->fd, (struct sockaddr *)&sa, &len) != 0)
        return RILL_EIO;
    n->port = ntohs(sa.sin_port);
    return 0;
}

static int start(struct rill__dht_node *n, const char *bind_addr, const uint8_t *node_id,
                 uint64_t seed)
{
    if (seed)
        rill_rng_seed(&n->rng, seed);
    else if (rill_rng_seed_secure(&n->rng) != 0)
        return RILL_EIO;
    if (node_id)
        memcpy(n->id, node_id, RILL_KRPC_ID_LEN);
    else if (RAND_bytes(n->id, RILL_KRPC_ID_LEN) != 1)
        return RILL_EIO;
    n->now = rill__monotonic_ms();
    n->expire_ms = n->now + EXPIRE_MS;
    uint8_t secret[RILL_DHT_SECRET_LEN];
    rill_rng_bytes(&n->rng, secret, sizeof secret);
    rill_dht_tokens_init(&n->tokens, secret, n->now);
    int rc = rill_dht_table_init(&n->table, n->id, 4, n->now);
    if (rc == 0)
        rc = rill_dht_store_init(&n->store, RILL_DHT_STORE_HASHES_DEFAULT,
                                 RILL_DHT_STORE_PEERS_DEFAULT, rill_rng_next(&n->rng));
    if (rc == 0)
        rc = open_socket(n, bind_addr);
    if (rc != 0)
        return rc;
    struct timeval tick = {0, TICK_MS * 1000};
    n->ev_read = event_new(n->base, n->fd, EV_READ | EV_PERSIST, on_readable, n);
    n->ev_tick = event_new(n->base, -1, EV_PERSIST, on_tick, n);
    if (!n->ev_read || !n->ev_tick || event_add(n->ev_read, NULL) != 0 ||
        event_add(n->ev_tick, &tick) != 0)
        return RILL_ENOMEM;
    return 0;
}

int rill__dht_node_new(struct rill__dht_node **out, struct event_base *base, const char *bind,
                       const uint8_t *node_id, uint64_t seed)
{
    *out = NULL;
    struct rill__dht_node *n = calloc(1, sizeof *n);
    if (!n)
        return RILL_ENOMEM;
    n->base = base;
    n->fd = -1;
    int rc = start(n, bind, node_id, seed);
    if (rc != 0) {
        rill__dht_node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

void rill__dht_node_free(struct rill__dht_node *n)
{
    if (!n)
        return;
    if (n->ev_read)
        event_free(n->ev_read);
    if (n->ev_tick)
        event_free(n->ev_tick);
    if (n->fd >= 0)
        close(n->fd);
    rill_dht_table_free(&n->table);
    rill_dht_store_free(&n->store);
    free(n);
}

uint16_t rill__dht_node_port(const struct rill__dht_node *n)
{
    return n->port;
}

const uint8_t *rill__dht_node_id(const struct rill__dht_node *n)
{
    return n->id;
}

size_t rill__dht_node_table_size(const struct rill__dht_node *n)
{
    return rill_dht_table_nodes(&n->table);
}

int rill__dht_node_bootstrap(struct rill__dht_node *n, const char *addr)
{
    struct sockaddr_in sa;
    if (parse_v4(addr, &sa) != 0 || sa.sin_port == 0)
        return RILL_EINVAL;
    n->now = rill__monotonic_ms();
    struct tx *t = tx_new(n, TX_BOOT_PING, NULL, (const uint8_t *)&sa.sin_addr, ntohs(sa.sin_port),
                          RILL_KRPC_PING);
    if (!t)
        return RILL_ELIMIT;
    n->boot_pings++;
    tx_send(n, t);
    return 0;
}

bool rill__dht_node_bootstrapping(const struct rill__dht_node *n)
{
    if (n->boot_pings)
        return true;
    for (unsigned i = 0; i < RILL__DHT_LOOKUPS_MAX; i++)
        if (n->lk[i].phase != LK_FREE && n->lk[i].boot)
            return true;
    return false;
}

static int peers_lookup(struct rill__dht_node *n, const uint8_t info_hash[RILL_KRPC_ID_LEN],
                        bool announce, uint16_t port, rill__dht_peers_cb cb, void *ctx)
{
    n->now = rill__monotonic_ms();
    int i = lk_start(n, info_hash, RILL_DHT_LOOKUP_GET_PEERS, cb, ctx);
    if (i < 0)
        return i;
    n->lk[i].announce = announce;
    n->lk[i].port = port;
    lk_pump(n, (unsigned)i);
    return 0;
}

int rill__dht_node_get_peers(struct rill__dht_node *n, const uint8_t info_hash[RILL_KRPC_ID_LEN],
                             rill__dht_peers_cb cb, void *ctx)
{
    return peers_lookup(n, info_hash, false, 0, cb, ctx);
}

int rill__dht_node_announce(struct rill__dht_node *n, const uint8_t info_hash[RILL_KRPC_ID_LEN],
                            uint16_t port, rill__dht_peers_cb cb, void *ctx)
{
    if (port == 0)
        return RILL_EINVAL;
    return peers_lookup(n, info_hash, true, port, cb, ctx);
}
