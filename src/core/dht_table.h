/* The Mainline DHT routing table (BEP 5): k-buckets of K = 8 nodes over the
 * 160-bit id space, split on our own side, with a small replacement cache
 * per bucket. A pure core: time comes in as now_ms, randomness from a
 * struct rill_rng, and decisions ("ping this node", "look up this target")
 * go out as return values; the shell and the simulator run the same code.
 *
 * One table serves one address family (BEP 32 keeps separate IPv4 and IPv6
 * tables): every node's address is addr[0..addr_len) with the addr_len given
 * to init, and struct rill_krpc_node is both what comes in and what goes out,
 * so closest() feeds a "nodes"/"nodes6" answer directly.
 *
 * Layout: bucket i (i < n_buckets - 1) holds the nodes whose ids share
 * exactly i leading bits with ours; the last bucket holds all the others
 * (those sharing at least n_buckets - 1 bits, i.e. our own side). Only the
 * last bucket splits, so a table over N nodes has about log2(N / K) + 3
 * buckets. The buckets live in one array that grows by one bucket per split
 * (the only allocation after init); nothing else allocates. */
#ifndef RILL_CORE_DHT_TABLE_H
#define RILL_CORE_DHT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/krpc.h"
#include "util/rng.h"

#define RILL_DHT_K 8                /* live nodes per bucket */
#define RILL_DHT_REPL 4             /* replacement cache per bucket */
#define RILL_DHT_BUCKETS_MAX 160    /* one per possible shared-prefix length */
#define RILL_DHT_FAIL_LIMIT 2       /* default consecutive timeouts making a node bad */
#define RILL_DHT_STALE_MS 900000u   /* 15 min: questionable nodes, stale buckets */
#define RILL_DHT_PING_GAP_MS 10000u /* at most one ping decision per bucket per gap */

/* Node flag: it has answered at least one of our queries. */
#define RILL_DHT_NODE_REPLIED 0x01u

struct rill_dht_node {
    uint8_t id[RILL_KRPC_ID_LEN];
    uint8_t addr[16]; /* the table's addr_len bytes are used */
    uint16_t port;
    uint8_t fails;          /* consecutive timeouts; a reply resets it */
    uint8_t flags;          /* RILL_DHT_NODE_* */
    uint64_t last_seen_ms;  /* any message from it */
    uint64_t last_reply_ms; /* last answer to one of our queries */
};

struct rill_dht_bucket {
    struct rill_dht_node nodes[RILL_DHT_K];
    struct rill_dht_node repl[RILL_DHT_REPL]; /* oldest first */
    uint64_t changed_ms;                      /* a node added, replaced, or answered (BEP 5) */
    uint64_t ping_ms;                         /* last ping decision; UINT64_MAX for none */
    uint8_t n_nodes, n_repl;
};

struct rill_dht_table {
    uint8_t own[RILL_KRPC_ID_LEN];
    uint8_t addr_len;   /* 4 or 16 */
    uint8_t fail_limit; /* RILL_DHT_FAIL_LIMIT; the caller may change it after init */
    uint16_t n_buckets;
    uint32_t n_nodes; /* live nodes over all buckets (not the caches) */
    struct rill_dht_bucket *b;
};

/* What rill_dht_table_heard() did with a node. */
enum rill_dht_heard {
    RILL_DHT_ADDED = 1, /* now in a bucket */
    RILL_DHT_UPDATED,   /* already in a bucket or cache: times refreshed */
    RILL_DHT_CACHED,    /* bucket full: kept in the replacement cache */
    RILL_DHT_PING,      /* cached, and *ping names a questionable node to ping */
    RILL_DHT_IGNORED,   /* our own id, port 0, or an id claimed by another address */
};

enum rill_dht_state {
    RILL_DHT_GOOD,
    RILL_DHT_QUESTIONABLE,
    RILL_DHT_BAD,
};

/* Compares the XOR distances of a and b to target: <0 when a is nearer,
 * 0 when a == b, >0 when b is nearer. */
int rill_dht_id_distance_cmp(const uint8_t target[RILL_KRPC_ID_LEN],
                             const uint8_t a[RILL_KRPC_ID_LEN], const uint8_t b[RILL_KRPC_ID_LEN]);

/* The number of leading bits a and b share: 0..160 (160 when equal). */
unsigned rill_dht_id_common_prefix(const uint8_t a[RILL_KRPC_ID_LEN],
                                   const uint8_t b[RILL_KRPC_ID_LEN]);

/* Starts an empty table with one bucket for our id `own`, nodes of
 * `addr_len` (4 or 16) address bytes. RILL_EINVAL for another addr_len,
 * RILL_ENOMEM. Pair with rill_dht_table_free(). */
int rill_dht_table_init(struct rill_dht_table *t, const uint8_t own[RILL_KRPC_ID_LEN],
                        unsigned addr_len, uint64_t now_ms);
void rill_dht_table_free(struct rill_dht_table *t);

/* BEP 5 node states at now_ms: bad after fail_limit consecutive timeouts;
 * good when it has ever replied and was heard from within 15 minutes;
 * questionable otherwise (including a node that only ever queried us). */
enum rill_dht_state rill_dht_node_state(const struct rill_dht_table *t,
                                        const struct rill_dht_node *n, uint64_t now_ms);

/* Records a message from `node` at now_ms; `replied` when it answers one of
 * our queries (that resets its timeouts and makes it good). A new node goes
 * into its bucket if there is room, else the last bucket splits if it can,
 * else it takes a bad node's place, else it goes to the bucket's replacement
 * cache (the oldest entry leaves a full cache). In that last case, when the
 * bucket has a questionable node and no ping decision was made for it in the
 * last RILL_DHT_PING_GAP_MS, the least recently seen questionable node is
 * copied to *ping (may be NULL) and RILL_DHT_PING returned: the shell pings
 * it and reports a timeout with rill_dht_table_failed(), which promotes the
 * newcomer once the node turns bad. An id is claimed by its first address:
 * the same id from another address is ignored. Returns an enum
 * rill_dht_heard value, or RILL_ENOMEM when a split could not allocate (the
 * table stays consistent; the node is not added). O(K + REPL), plus O(K)
 * per split. */
int rill_dht_table_heard(struct rill_dht_table *t, const struct rill_krpc_node *node,
                         uint64_t now_ms, bool replied, struct rill_krpc_node *ping);

/* Counts a timeout of a query to `id`. A bucket node that reaches the fail
 * limit turns bad and is replaced by the newest cache entry when there is
 * one; a cache entry that reaches it is dropped. Returns 1 when the node
 * left the table or cache, 0 when it stays, RILL_ENOENT for an unknown id. */
int rill_dht_table_failed(struct rill_dht_table *t, const uint8_t id[RILL_KRPC_ID_LEN],
                          uint64_t now_ms);

/* Writes to out[0..max) the non-bad bucket nodes nearest to `target` by XOR,
 * nearest first, and returns how many (at most max). Scans the table once:
 * O(nodes * min(max, K)) with max usually K. */
size_t rill_dht_table_closest(const struct rill_dht_table *t,
                              const uint8_t target[RILL_KRPC_ID_LEN], struct rill_krpc_node *out,
                              size_t max, uint64_t now_ms);

/* Finds the first bucket unchanged for RILL_DHT_STALE_MS, writes a random
 * id inside its range to `target` (a lookup of it refreshes the bucket),
 * marks the bucket changed at now_ms so it is not returned again at once, and
 * returns 1; 0 when no bucket is due. */
int rill_dht_table_refresh_due(struct rill_dht_table *t, struct rill_rng *rng, uint64_t now_ms,
                               uint8_t target[RILL_KRPC_ID_LEN]);

/* Kademlia's join: once the lookup of our own id has filled our side of
 * the table, a lookup of a random id in each farther bucket fills the rest
 * (else those buckets wait for strangers' queries, and our announces can
 * settle on nodes far from the key). Writes up to max such targets, one
 * per bucket but the last, farthest first, and returns how many. */
size_t rill_dht_table_join_targets(const struct rill_dht_table *t, struct rill_rng *rng,
                                   uint8_t (*out)[RILL_KRPC_ID_LEN], size_t max);

/* The time at which the next bucket becomes due for refresh (may be in the
 * past), for the shell's timer. */
uint64_t rill_dht_table_refresh_deadline(const struct rill_dht_table *t);

/* Looks up a bucket node by id; NULL when it is not in a bucket. The
 * pointer is valid until the next call that changes the table. */
const struct rill_dht_node *rill_dht_table_find(const struct rill_dht_table *t,
                                                const uint8_t id[RILL_KRPC_ID_LEN]);

static inline size_t rill_dht_table_nodes(const struct rill_dht_table *t)
{
    return t->n_nodes;
}

static inline size_t rill_dht_table_buckets(const struct rill_dht_table *t)
{
    return t->n_buckets;
}

/* Bytes the table holds (struct plus bucket array), for memory budgets. */
static inline size_t rill_dht_table_bytes(const struct rill_dht_table *t)
{
    return sizeof *t + (size_t)t->n_buckets * sizeof t->b[0];
}

#endif
