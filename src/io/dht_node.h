/* Limits and timings of the DHT node (the API is rill_dht_* in rill.h;
 * dht_node_internal.h has what its files share). Tests include this for
 * the figures they check. */
#ifndef RILL_IO_DHT_NODE_H
#define RILL_IO_DHT_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "rill.h"

#define RILL__DHT_QUERY_TIMEOUT_MS 2000u
#define RILL__DHT_LOOKUPS_MAX 16  /* lookups running at once (a request uses one per family) */
#define RILL__DHT_QUERY_RATE 20   /* queries per second answered per address ... */
#define RILL__DHT_QUERY_BURST 100 /* ... after a burst of this many */
#define RILL__DHT_STATE_NODES 200 /* nodes per family kept in the state file */
#define RILL__DHT_SAVE_MS 600000u /* the state file is rewritten this often */

/* BEP 5's `port` message: pings the DHT node a peer named (a raw 4- or
 * 16-byte address). While our table in that family is nearly empty the
 * ping is a bootstrap (rill_dht_bootstrap). 0, RILL_EINVAL, RILL_ELIMIT. */
int rill__dht_ping_peer(struct rill_dht *d, const uint8_t *ip, size_t len, uint16_t port);

#endif
