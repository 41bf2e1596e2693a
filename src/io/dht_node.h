/* A minimal Mainline DHT node (BEP 5) on libevent: one IPv4 UDP socket,
 * the pure cores (krpc, dht_table, dht_store, dht_lookup) wired to it.
 * Internal for now (rill__dht_* names, not in include/rill.h).
 *
 * It answers ping, find_node, get_peers and announce_peer, refuses a
 * malformed query with error 203 and an unknown method with 204, feeds
 * every message it hears to the routing table, and runs iterative lookups
 * for bootstrap, get_peers and announce. Queries carry 2-byte transaction
 * ids; an unanswered one fails after RILL__DHT_QUERY_TIMEOUT_MS. One timer
 * drives timeouts, lookup pacing, token rotation and peer expiry.
 *
 * Not yet: IPv6 (BEP 32), bucket refresh, BEP 42 node-id checks. */
#ifndef RILL_IO_DHT_NODE_H
#define RILL_IO_DHT_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/krpc.h"

struct event_base;
struct rill__dht_node;

#define RILL__DHT_QUERY_TIMEOUT_MS 2000u
#define RILL__DHT_VALUES_MAX 50 /* values in one answer, and collected per lookup */
#define RILL__DHT_LOOKUPS_MAX 8 /* lookups running at once */

/* Peers found by a get_peers or announce lookup. While it runs, each call
 * carries the values newly learned (done false); the last call (done true)
 * carries every value collected (at most RILL__DHT_VALUES_MAX, possibly
 * none); with an empty table it comes at once, inside the starting call.
 * The array lives only during the call. Do not free the node from
 * inside the callback. */
typedef void (*rill__dht_peers_cb)(void *ctx, const struct rill_krpc_peer *peers, size_t n,
                                   bool done);

/* Binds a UDP socket to `bind` ("IPv4:PORT", port 0 for any) on `base` and
 * starts the node with id node_id[0..20), or a random id when NULL.
 * `seed` seeds the generator for transaction ids, token secrets and the
 * store's hash key; 0 seeds it securely (use 0 outside tests). Returns 0,
 * RILL_EINVAL (bad address), RILL_EIO (socket), RILL_ENOMEM. */
int rill__dht_node_new(struct rill__dht_node **out, struct event_base *base, const char *bind,
                       const uint8_t *node_id, uint64_t seed);
/* Closes the socket and frees everything; pending lookups end silently. */
void rill__dht_node_free(struct rill__dht_node *n);
/* The bound UDP port (host order). */
uint16_t rill__dht_node_port(const struct rill__dht_node *n);
/* Our node id (20 bytes). */
const uint8_t *rill__dht_node_id(const struct rill__dht_node *n);
/* Live nodes in the routing table. */
size_t rill__dht_node_table_size(const struct rill__dht_node *n);

/* Pings the node at "IPv4:PORT" and, once it answers, runs a find_node
 * lookup of our own id. 0, RILL_EINVAL (bad address), RILL_ELIMIT (too many
 * queries in flight). */
int rill__dht_node_bootstrap(struct rill__dht_node *n, const char *addr);
/* True while a bootstrap is waiting for its ping or its lookup runs. */
bool rill__dht_node_bootstrapping(const struct rill__dht_node *n);

/* Looks up info_hash with get_peers queries and reports the values found
 * through cb (see rill__dht_peers_cb). 0, or RILL_ELIMIT when
 * RILL__DHT_LOOKUPS_MAX lookups are running. */
int rill__dht_node_get_peers(struct rill__dht_node *n, const uint8_t info_hash[RILL_KRPC_ID_LEN],
                             rill__dht_peers_cb cb, void *ctx);
/* As get_peers, then sends announce_peer (our `port`, implied_port 0) with
 * each token of the K closest nodes that answered; the done call comes
 * after those announces are answered or timed out. */
int rill__dht_node_announce(struct rill__dht_node *n, const uint8_t info_hash[RILL_KRPC_ID_LEN],
                            uint16_t port, rill__dht_peers_cb cb, void *ctx);

#endif
