/* Limits and timings of the DHT node (the API is rill_dht_* in rill.h;
 * dht_node_internal.h has what its files share). Tests include this for
 * the figures they check. */
#ifndef RILL_IO_DHT_NODE_H
#define RILL_IO_DHT_NODE_H

#include "rill.h"

#define RILL__DHT_QUERY_TIMEOUT_MS 2000u
#define RILL__DHT_LOOKUPS_MAX 16  /* lookups running at once (a request uses one per family) */
#define RILL__DHT_QUERY_RATE 20   /* queries per second answered per address ... */
#define RILL__DHT_QUERY_BURST 100 /* ... after a burst of this many */
#define RILL__DHT_STATE_NODES 200 /* nodes per family kept in the state file */
#define RILL__DHT_SAVE_MS 600000u /* the state file is rewritten this often */

#endif
