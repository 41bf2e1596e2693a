/* The DHT node's sockets, transactions and events (see dht_node.h). The
 * cores make every decision; this file moves datagrams, keeps transactions
 * and reads the clock once per callback. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/clock.h"
#include "io/dht_node_internal.h"
#include "io/sockaddr.h"
#include "util/util.h"

#define TICK_MS 100         /* timer period: timeouts and pacing */
#define EXPIRE_MS 60000u    /* peer store expiry pass */
#define READS_PER_WAKEUP 64 /* so one busy socket cannot starve the loop */

/* ------------------------------------------------------------ addresses */

int rill__dht_addr_parse(const char *text, struct dht_addr *a)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(a, 0, sizeof *a);
    if (rill__sockaddr_parse(text, &ss, &sl) != 0 ||
        (ss.ss_family == AF_INET6 && text[0] != '[')) /* IPv6 only in brackets */
        return RILL_EINVAL;
    return rill__sockaddr_to_raw(&ss, a->ip, &a->len, &a->port) ? 0 : RILL_EINVAL;
}

static socklen_t to_sockaddr(const struct dht_addr *a, struct sockaddr_storage *ss)
{
    return rill__sockaddr_from_raw(a->ip, a->len, a->port, ss);
}

static bool from_sockaddr(const struct sockaddr_storage *ss, struct dht_addr *a)
{
    memset(a, 0, sizeof *a);
    return rill__sockaddr_to_raw(ss, a->ip, &a->len, &a->port);
}

void rill__dht_node_from_addr(struct rill_krpc_node *node, const uint8_t *id,
                              const struct dht_addr *a)
{
    memset(node, 0, sizeof *node);
    if (id)
        memcpy(node->id, id, RILL_KRPC_ID_LEN);
    memcpy(node->addr, a->ip, a->len);
    node->port = a->port;
}

void rill__dht_addr_from_node(struct dht_addr *a, const struct rill_krpc_node *node, unsigned len)
{
    memset(a, 0, sizeof *a);
    memcpy(a->ip, node->addr, len);
    a->len = (uint8_t)len;
    a->port = node->port;
}

void rill__dht_send(struct rill_dht *n, const struct rill_krpc_msg *m,
                    const struct dht_addr *to)
{
    const struct dht_fam *f = &n->fam[DHT_FAM(to->len)];
    if (f->fd < 0)
        return;
    struct rill_buf *b = &n->outbuf;
    b->len = 0;
    b->failed = false;
    if (rill_krpc_build(m, b) == 0) {
        struct sockaddr_storage ss;
        socklen_t sl = to_sockaddr(to, &ss);
        /* A full send buffer drops the datagram, as the network may. */
        if (sendto(f->fd, b->data, b->len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) > 0)
            n->st.bytes_out += b->len;
    }
}

/* --------------------------------------------------------- transactions */

struct dht_tx *rill__dht_tx_new(struct rill_dht *n, enum dht_tx_kind kind,
                                const uint8_t *id, const struct dht_addr *to,
                                enum rill_krpc_method method)
{
    if (n->fam[DHT_FAM(to->len)].fd < 0)
        return NULL;
    for (unsigned k = 0; k < DHT_TX_SLOTS; k++) {
        unsigned s = (n->tx_cursor + k) % DHT_TX_SLOTS;
        struct dht_tx *t = &n->tx[s];
        if (t->kind != DHT_TX_FREE)
            continue;
        n->tx_cursor = (s + 1) % DHT_TX_SLOTS;
        uint8_t gen = (uint8_t)(t->gen + 1 + rill_rng_below(&n->rng, 255));
        *t = (struct dht_tx){
            .kind = (uint8_t)kind, .gen = gen, .has_id = id != NULL, .to = *to, .sent_ms = n->now};
        if (id)
            memcpy(t->id, id, RILL_KRPC_ID_LEN);
        uint8_t tid[2] = {gen, (uint8_t)s};
        rill_krpc_query_init(&n->out, tid, 2, method, n->id);
        if (n->fam[1].fd >= 0 && n->fam[0].fd >= 0 && method != RILL_KRPC_PING)
            n->out.want = RILL_KRPC_WANT_N4 | RILL_KRPC_WANT_N6;
        return t;
    }
    return NULL;
}

void rill__dht_tx_send(struct rill_dht *n, const struct dht_tx *t)
{
    n->st.queries_out++;
    rill__dht_send(n, &n->out, &t->to);
}

/* The transaction a response or error answers: the tid must name a live
 * slot and the datagram come from the address we asked. */
static struct dht_tx *tx_find(struct rill_dht *n, const struct rill_krpc_msg *m,
                              const struct dht_addr *from)
{
    if (m->tid_len != 2)
        return NULL;
    struct dht_tx *t = &n->tx[m->tid[1]];
    if (t->kind == DHT_TX_FREE || t->gen != m->tid[0] || t->to.len != from->len ||
        t->to.port != from->port || memcmp(t->to.ip, from->ip, from->len) != 0)
        return NULL;
    return t;
}

static void ping_node(struct rill_dht *n, const struct rill_krpc_node *node, unsigned len)
{
    struct dht_addr to;
    rill__dht_addr_from_node(&to, node, len);
    struct dht_tx *t = rill__dht_tx_new(n, DHT_TX_PING, node->id, &to, RILL_KRPC_PING);
    if (t)
        rill__dht_tx_send(n, t);
}

void rill__dht_heard(struct rill_dht *n, const uint8_t id[RILL_KRPC_ID_LEN],
                     const struct dht_addr *from, bool replied)
{
    if (!rill_dht_id_secure(id, from->ip, from->len)) {
        n->st.insecure++; /* answered, never routed to (BEP 42) */
        return;
    }
    struct dht_fam *f = &n->fam[DHT_FAM(from->len)];
    struct rill_krpc_node node, ping;
    rill__dht_node_from_addr(&node, id, from);
    if (rill_dht_table_heard(&f->table, &node, n->now, replied, &ping) == RILL_DHT_PING)
        ping_node(n, &ping, from->len);
}

/* A transaction ends: answered (ok) or failed (error, timeout). */
/* `code`: the KRPC error code of an error answer, 0 otherwise. */
static void tx_end(struct rill_dht *n, struct dht_tx *t, bool ok, int64_t code)
{
    struct dht_tx done = *t;
    t->kind = DHT_TX_FREE;
    if (!ok) {
        n->st.timeouts++;
        if (done.has_id && done.kind != DHT_TX_ANNOUNCE)
            rill_dht_table_failed(&n->fam[DHT_FAM(done.to.len)].table, done.id, n->now);
    }
    if (done.kind == DHT_TX_BOOT_PING) {
        n->boot_pings--;
        if (ok)
            rill__dht_boot_lookup(n, DHT_FAM(done.to.len));
    } else if (done.kind == DHT_TX_LOOKUP || done.kind == DHT_TX_ANNOUNCE) {
        rill__dht_lk_tx_end(n, &done, ok, code);
    }
}

static void on_datagram(struct rill_dht *n, const uint8_t *p, size_t len,
                        const struct dht_addr *from)
{
    struct rill_krpc_msg *m = &n->in;
    if (from->port == 0)
        return;
    n->st.bytes_in += len;
    if (rill_krpc_parse(p, len, m, NULL) != 0) {
        rill__dht_on_malformed(n, p, len, from);
        return;
    }
    if (m->type == RILL_KRPC_QUERY) {
        rill__dht_on_query(n, from);
        return;
    }
    struct dht_tx *t = tx_find(n, m, from);
    if (!t)
        return; /* late, foreign or forged: nothing to do */
    if (m->type == RILL_KRPC_RESPONSE) {
        n->st.replies_in++;
        if (!m->ro)
            rill__dht_heard(n, m->id, from, true);
    }
    tx_end(n, t, m->type == RILL_KRPC_RESPONSE, m->type == RILL_KRPC_ERROR ? m->err_code : 0);
}

/* ---------------------------------------------------------------- events */

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct rill_dht *n = arg;
    n->now = rill__monotonic_ms();
    for (int i = 0; i < READS_PER_WAKEUP; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        ssize_t got = recvfrom(fd, n->inbuf, sizeof n->inbuf, MSG_DONTWAIT | MSG_TRUNC,
                               (struct sockaddr *)&ss, &sl);
        if (got < 0)
            return;
        struct dht_addr from;
        if ((size_t)got > sizeof n->inbuf || !from_sockaddr(&ss, &from))
            continue; /* over-long (cut) or an odd family */
        on_datagram(n, n->inbuf, (size_t)got, &from);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill_dht *n = arg;
    n->now = rill__monotonic_ms();
    for (unsigned s = 0; s < DHT_TX_SLOTS; s++) {
        struct dht_tx *t = &n->tx[s];
        if (t->kind != DHT_TX_FREE && n->now - t->sent_ms >= RILL__DHT_QUERY_TIMEOUT_MS)
            tx_end(n, t, false, 0);
    }
    if (rill_dht_tokens_rotate_due(&n->tokens, n->now)) {
        uint8_t secret[RILL_DHT_SECRET_LEN];
        rill_rng_bytes(&n->rng, secret, sizeof secret);
        rill_dht_tokens_rotate(&n->tokens, n->now, secret);
    }
    if (n->now >= n->expire_ms) {
        rill_dht_store_expire(&n->store, n->now);
        rill_dht_items_expire(&n->items, n->now);
        n->expire_ms = n->now + EXPIRE_MS;
    }
    /* Lookups whose queries turned slow may send more now. */
    for (unsigned i = 0; i < RILL__DHT_LOOKUPS_MAX; i++)
        if (n->lk[i].phase == DHT_LK_LOOKUP)
            rill__dht_lk_pump(n, i);
    rill__dht_refresh(n);
    if (n->state_path && n->now >= n->save_ms) {
        (void)rill_dht_save(n);
        n->save_ms = n->now + RILL__DHT_SAVE_MS;
    }
}

/* ------------------------------------------------------------------ API */

static int open_socket(struct rill_dht *n, unsigned fam, const char *bind_addr)
{
    struct dht_fam *f = &n->fam[fam];
    struct dht_addr a;
    if (rill__dht_addr_parse(bind_addr, &a) != 0 || DHT_FAM(a.len) != fam)
        return RILL_EINVAL;
    struct sockaddr_storage ss;
    socklen_t sl = to_sockaddr(&a, &ss);
    f->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0)
        return RILL_EIO;
    int one = 1; /* our IPv4 socket serves IPv4; never mapped addresses here */
    if (fam == 1 && setsockopt(f->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
        return RILL_EIO;
    /* Any port for both: the same one if it is free, so one port can be
     * told to others and opened in a firewall. */
    bool same = fam == 1 && a.port == 0 && n->fam[0].port != 0;
    if (same)
        rill__sockaddr_set_port(&ss, n->fam[0].port);
    if (bind(f->fd, (struct sockaddr *)&ss, sl) != 0) {
        rill__sockaddr_set_port(&ss, 0);
        if (!same || bind(f->fd, (struct sockaddr *)&ss, sl) != 0)
            return RILL_EIO;
    }
    sl = sizeof ss;
    if (getsockname(f->fd, (struct sockaddr *)&ss, &sl) != 0 || !from_sockaddr(&ss, &a))
        return RILL_EIO;
    f->port = a.port;
    f->ev_read = event_new(n->base, f->fd, EV_READ | EV_PERSIST, on_readable, n);
    if (!f->ev_read || event_add(f->ev_read, NULL) != 0)
        return RILL_ENOMEM;
    return rill_dht_table_init(&f->table, n->id, a.len, n->now);
}

static int start_cores(struct rill_dht *n, const struct rill_dht_opts *cfg)
{
    if (cfg->rng_seed)
        rill_rng_seed(&n->rng, cfg->rng_seed);
    else if (rill_rng_seed_secure(&n->rng) != 0)
        return RILL_EIO;
    n->now = rill__monotonic_ms();
    n->expire_ms = n->now + EXPIRE_MS;
    n->save_ms = n->now + RILL__DHT_SAVE_MS;
    uint8_t secret[RILL_DHT_SECRET_LEN];
    rill_rng_bytes(&n->rng, secret, sizeof secret);
    rill_dht_tokens_init(&n->tokens, secret, n->now);
    rill_dht_limit_init(&n->limit, cfg->query_rate ? cfg->query_rate : RILL__DHT_QUERY_RATE,
                        cfg->query_burst ? cfg->query_burst : RILL__DHT_QUERY_BURST,
                        rill_rng_next(&n->rng));
    int rc = rill_dht_store_init(&n->store, RILL_DHT_STORE_HASHES_DEFAULT,
                                 RILL_DHT_STORE_PEERS_DEFAULT, rill_rng_next(&n->rng));
    if (rc == 0)
        rc = rill_dht_items_init(&n->items, RILL_DHT_ITEMS_DEFAULT, rill_rng_next(&n->rng));
    return rc;
}

static int start(struct rill_dht *n, const struct rill_dht_opts *cfg)
{
    if (!cfg->bind4 && !cfg->bind6)
        return RILL_EINVAL;
    int rc = start_cores(n, cfg);
    if (rc != 0)
        return rc;
    if (cfg->node_id)
        memcpy(n->id, cfg->node_id, RILL_KRPC_ID_LEN);
    else if (RAND_bytes(n->id, RILL_KRPC_ID_LEN) != 1)
        return RILL_EIO;
    struct dht_state st = {0};
    if (cfg->state_path) {
        n->state_path = rill__strndup(cfg->state_path, strlen(cfg->state_path));
        rc = n->state_path ? rill__dht_state_open(n, &st, cfg->node_id == NULL) : RILL_ENOMEM;
        if (rc != 0)
            return rc;
    }
    if (cfg->bind4)
        rc = open_socket(n, 0, cfg->bind4);
    if (rc == 0 && cfg->bind6)
        rc = open_socket(n, 1, cfg->bind6);
    if (rc == 0)
        rill__dht_state_take_nodes(n, &st);
    rill__dht_state_close(&st);
    if (rc != 0)
        return rc;
    struct timeval tick = {0, TICK_MS * 1000};
    n->ev_tick = event_new(n->base, -1, EV_PERSIST, on_tick, n);
    if (!n->ev_tick || event_add(n->ev_tick, &tick) != 0)
        return RILL_ENOMEM;
    return 0;
}

int rill_dht_new(struct rill_dht **out, struct event_base *base,
                       const struct rill_dht_opts *cfg)
{
    *out = NULL;
    struct rill_dht *n = calloc(1, sizeof *n);
    if (!n)
        return RILL_ENOMEM;
    n->base = base;
    n->fam[0].fd = n->fam[1].fd = -1;
    rill_buf_init(&n->outbuf, DHT_OUT_MAX);
    int rc = start(n, cfg);
    if (rc != 0) {
        free(n->state_path);
        n->state_path = NULL; /* a half-started node must not overwrite the file */
        rill_dht_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

void rill_dht_free(struct rill_dht *n)
{
    if (!n)
        return;
    if (n->state_path)
        (void)rill_dht_save(n);
    if (n->ev_tick)
        event_free(n->ev_tick);
    for (unsigned i = 0; i < 2; i++) {
        if (n->fam[i].ev_read)
            event_free(n->fam[i].ev_read);
        if (n->fam[i].fd >= 0)
            close(n->fam[i].fd);
        rill_dht_table_free(&n->fam[i].table);
    }
    rill_dht_store_free(&n->store);
    rill_dht_items_free(&n->items);
    for (unsigned i = 0; i < DHT_REQUESTS_MAX; i++)
        rill__dht_item_release(&n->req[i]);
    rill_buf_free(&n->outbuf);
    free(n->state_path);
    free(n);
}

uint16_t rill_dht_port(const struct rill_dht *n, int family)
{
    return n->fam[family == 6 ? 1 : 0].port;
}

const uint8_t *rill_dht_id(const struct rill_dht *n)
{
    return n->id;
}

size_t rill_dht_node_count(const struct rill_dht *n)
{
    return rill_dht_table_nodes(&n->fam[0].table) + rill_dht_table_nodes(&n->fam[1].table);
}

/* Least squares through the origin of d_i = i * x over the nearest nodes
 * to our id (d as a fraction of the id space); the network holds 1 / x. */
static double size_estimate(const struct rill_dht *n, unsigned fam)
{
    struct rill_krpc_node near[RILL_DHT_K];
    size_t k = rill_dht_table_closest(&n->fam[fam].table, n->id, near, RILL_DHT_K, n->now);
    if (k < 2)
        return 0;
    double sid = 0, sii = 0;
    for (size_t i = 0; i < k; i++) {
        double d = 0;
        for (size_t b = 0; b < 8; b++)
            d = d * 256.0 + (double)(near[i].id[b] ^ n->id[b]);
        d /= 18446744073709551616.0; /* 2^64 */
        sid += (double)(i + 1) * d;
        sii += (double)(i + 1) * (double)(i + 1);
    }
    return sid > 0 ? sii / sid : 0;
}

void rill_dht_stats(const struct rill_dht *n, struct rill_dht_stats *st)
{
    *st = n->st;
    for (unsigned i = 0; i < 2; i++) {
        st->nodes[i] = rill_dht_table_nodes(&n->fam[i].table);
        st->buckets[i] = n->fam[i].fd >= 0 ? rill_dht_table_buckets(&n->fam[i].table) : 0;
    }
    st->hashes = rill_dht_store_hashes(&n->store);
    st->items = n->items.count;
    st->store_bytes = rill_dht_store_bytes(&n->store);
    st->refused = n->limit.refused;
    st->size_estimate = size_estimate(n, st->nodes[0] >= st->nodes[1] ? 0 : 1);
    st->lookups = 0;
    for (unsigned i = 0; i < RILL__DHT_LOOKUPS_MAX; i++)
        st->lookups += n->lk[i].phase != DHT_LK_FREE;
}

unsigned rill_dht_last_hops(const struct rill_dht *n)
{
    return n->last_hops;
}

unsigned rill_dht_last_stored(const struct rill_dht *n)
{
    return n->last_stored;
}
