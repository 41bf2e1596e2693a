/* A torrent's peers from the DHT (BEP 5): every 15 minutes, and every
 * minute while it has few peers, an announce_peer lookup of its info-hash
 * (which also returns the peers stored there). Peers tell us their DHT
 * port with a `port` message; we ping it, which is how a node on a
 * trackerless swarm finds the DHT. Private torrents (BEP 27) stay out. */
#include <string.h>

#include "io/conn.h"
#include "io/dht_node.h"
#include "io/sockaddr.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"

#define DHT_EVERY_MS (15 * 60000)
#define DHT_HUNGRY_MS 60000
#define DHT_STARVING_MS 10000 /* no peer at all */
#define DHT_HUNGRY_PEERS 8

struct rill_dht *rill__torrent_dht(const struct rill_torrent *t)
{
    if (!t->s->opts.dht || t->p.no_dht || t->mi->is_private)
        return NULL;
    return t->s->opts.dht;
}

static void on_peers(void *ctx, const struct rill_peer_addr *peers, size_t n, bool done)
{
    struct rill_torrent *t = ctx;
    if (done) /* all of them again, with those our own node stores */
        t->dht_busy = false;
    size_t added = 0;
    for (size_t i = 0; i < n; i++)
        added += rill__torrent_add_raw_candidate(t, peers[i].addr, peers[i].addr_len,
                                                 peers[i].port);
    t->dht_peers += added;
    if (n)
        rill__log(t->s, 2, "dht_peers", "%s: %zu peers from the DHT", t->mi->name, n);
    if (added)
        rill__torrent_candidates_added(t);
}

void rill__dht_torrent_tick(struct rill_torrent *t)
{
    struct rill_dht *d = rill__torrent_dht(t);
    /* A seed that uploads nothing neither dials nor accepts anyone: it has
     * nothing to look up and is not worth finding. */
    if (!d || t->dht_busy || t->s->now < t->next_dht_ms || rill_dht_node_count(d) == 0 ||
        rill__torrent_idle_seed(t))
        return;
    bool hungry = t->state != RILL_T_SEEDING && t->npeers < DHT_HUNGRY_PEERS;
    int rc = rill_dht_announce(d, t->mi->info_hash, t->s->port, on_peers, t);
    if (rc == 0)
        t->dht_busy = true;
    uint64_t wait = rc != 0          ? 5000
                    : t->npeers == 0 ? DHT_STARVING_MS
                    : hungry         ? DHT_HUNGRY_MS
                                     : DHT_EVERY_MS;
    t->next_dht_ms = t->s->now + wait;
}

void rill__dht_torrent_gone(struct rill_torrent *t)
{
    if (t->s->opts.dht)
        rill_dht_cancel(t->s->opts.dht, t);
    t->dht_busy = false;
}

/* BEP 5's `port` message: the peer runs a DHT node there. */
void rill__dht_peer_port(struct rill_torrent *t, const struct rill__peer *p, uint16_t port)
{
    struct rill_dht *d = rill__torrent_dht(t);
    uint8_t ip[16], len;
    uint16_t unused;
    if (d && port != 0 && rill__sockaddr_to_raw(&p->addr, ip, &len, &unused))
        (void)rill__dht_ping_peer(d, ip, len, port); /* a family without a socket: ignored */
}

/* Tells a new peer our DHT port (when it set the DHT bit). */
void rill__dht_send_port(struct rill_torrent *t, struct rill__peer *p)
{
    struct rill_dht *d = rill__torrent_dht(t);
    uint16_t port = d ? rill_dht_port(d, p->addr.ss_family == AF_INET6 ? 6 : 4) : 0;
    if (!port || !p->dht)
        return;
    struct rill_buf b;
    rill_buf_init(&b, 16);
    rill_wire_build_port(&b, port);
    rill__peer_send(p, &b);
    rill_buf_free(&b);
}
