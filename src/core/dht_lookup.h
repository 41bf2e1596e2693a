/* An iterative Kademlia lookup of the Mainline DHT (BEP 5): find_node or
 * get_peers towards one target, at most ALPHA queries in flight, until the
 * K closest live nodes found have all answered.
 *
 * A pure core: messages and time in, decisions out. The caller asks
 * rill_dht_lookup_next() for a node to query, sends the KRPC query itself
 * (remembering which lookup the transaction belongs to), and reports each
 * answer with rill_dht_lookup_replied(), each error or lost datagram with
 * rill_dht_lookup_failed() or rill_dht_lookup_timeouts(). Nothing here reads
 * a clock, draws random numbers or allocates: the shortlist is a fixed array
 * inside the struct (about 5 KiB), so the simulator can run thousands of
 * lookups on a virtual clock with the very same code.
 *
 * The shortlist holds up to RILL_DHT_LOOKUP_MAX candidates sorted by XOR
 * distance to the target, nearest first, each id at most once. When it is
 * full, a newcomer replaces the farthest candidate that is farther than it
 * and not in flight (so every in-flight query stays accounted for); a
 * newcomer nearer than none of them is dropped. Failed candidates stay in the
 * list, so a node that timed out is not queried again when others name it.
 *
 * Hops: every candidate carries the depth at which it was learned, 0 for the
 * seeds and d + 1 for a node named in the answer of a depth-d node (the
 * smallest when several answers name it). */
#ifndef RILL_CORE_DHT_LOOKUP_H
#define RILL_CORE_DHT_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/krpc.h"

#define RILL_DHT_LOOKUP_ALPHA 3      /* queries in flight at once */
#define RILL_DHT_LOOKUP_K 8          /* closest nodes a lookup settles on */
#define RILL_DHT_LOOKUP_MAX 64       /* shortlist capacity */
#define RILL_DHT_LOOKUP_TOKEN_MAX 20 /* longer get_peers tokens are not kept */
#define RILL_DHT_LOOKUP_SLOW_MS 750  /* a query this old frees its ALPHA slot */

enum rill_dht_lookup_kind {
    RILL_DHT_LOOKUP_FIND_NODE = 1,
    RILL_DHT_LOOKUP_GET_PEERS,
};

enum rill_dht_cand_state {
    RILL_DHT_CAND_NEW = 0,  /* known, not queried yet */
    RILL_DHT_CAND_INFLIGHT, /* queried at sent_ms, no answer yet */
    RILL_DHT_CAND_REPLIED,  /* answered */
    RILL_DHT_CAND_FAILED,   /* timed out or answered with an error */
};

/* One candidate of the shortlist; also what rill_dht_lookup_result() gives. */
struct rill_dht_cand {
    struct rill_krpc_node node;
    uint64_t sent_ms; /* when the query went out (INFLIGHT and later) */
    uint8_t state;    /* enum rill_dht_cand_state */
    uint8_t depth;    /* hops from the seeds, saturating at 255 */
    uint8_t token_len;
    uint8_t token[RILL_DHT_LOOKUP_TOKEN_MAX]; /* get_peers answer's token */
};

struct rill_dht_lookup {
    uint8_t target[RILL_KRPC_ID_LEN];
    uint8_t own[RILL_KRPC_ID_LEN]; /* never a candidate, when has_own */
    bool has_own;
    uint8_t kind; /* enum rill_dht_lookup_kind: which query the caller sends */
    uint8_t n;    /* candidates in c[] */
    uint8_t in_flight;
    uint32_t queries; /* queries handed out by next() */
    struct rill_dht_cand c[RILL_DHT_LOOKUP_MAX];
};

/* Starts a lookup of `target` (a node id for find_node, an info-hash for
 * get_peers) from seeds[0..n) (usually rill_dht_table_closest()). `own`
 * (may be NULL) is our node id, never queried even when an answer names it.
 * Seeds of port 0, repeated ids and our own id are skipped. now_ms is kept
 * for symmetry with the other calls; nothing depends on it yet. */
void rill_dht_lookup_init(struct rill_dht_lookup *l, const uint8_t target[RILL_KRPC_ID_LEN],
                          enum rill_dht_lookup_kind kind, const uint8_t *own,
                          const struct rill_krpc_node *seeds, size_t n, uint64_t now_ms);

/* Picks the node to query now: the nearest not-yet-queried candidate among
 * the K nearest candidates that have not failed, provided fewer than ALPHA
 * queries are in flight that were sent less than RILL_DHT_LOOKUP_SLOW_MS
 * ago (a slow query still counts for done() and may still answer). Copies it to *out, marks it in flight at now_ms and
 * returns 1; returns 0 when there is nothing to send now. Call it again
 * after each event until it returns 0. */
int rill_dht_lookup_next(struct rill_dht_lookup *l, uint64_t now_ms, struct rill_krpc_node *out);

/* Takes the answer of node `id`: marks it replied and merges nodes[0..n)
 * (its "nodes" or "nodes6") into the shortlist at depth + 1. `token`
 * (NULL, 0 for none) is a get_peers token, kept with the node when it is at
 * most RILL_DHT_LOOKUP_TOKEN_MAX bytes. A late answer from a node already
 * counted as failed is still taken. The caller handles "values" itself.
 * Returns 0, or RILL_ENOENT when `id` is no candidate we queried (unknown,
 * never sent, dropped from a full list, or already answered): ignore it. */
int rill_dht_lookup_replied(struct rill_dht_lookup *l, const uint8_t id[RILL_KRPC_ID_LEN],
                            const struct rill_krpc_node *nodes, size_t n, const uint8_t *token,
                            size_t token_len, uint64_t now_ms);

/* Marks the in-flight query to `id` failed (a KRPC error, an unreachable
 * address). Returns 0, or RILL_ENOENT when no query to `id` is in flight. */
int rill_dht_lookup_failed(struct rill_dht_lookup *l, const uint8_t id[RILL_KRPC_ID_LEN],
                           uint64_t now_ms);

/* Fails every query in flight for timeout_ms or more at now_ms (2 to 5 s is
 * usual) and returns how many. */
size_t rill_dht_lookup_timeouts(struct rill_dht_lookup *l, uint64_t now_ms, uint64_t timeout_ms);

/* When the next in-flight query times out (sent_ms + timeout_ms of the
 * oldest), for the caller's timer; UINT64_MAX when none is in flight. */
uint64_t rill_dht_lookup_deadline(const struct rill_dht_lookup *l, uint64_t timeout_ms);

/* True when nothing is in flight and no candidate is left to query among
 * the K nearest that have not failed: those have all answered, or there
 * are no candidates at all. */
bool rill_dht_lookup_done(const struct rill_dht_lookup *l);

/* Copies the K (at most max) nearest candidates that answered, nearest
 * first, with their tokens, to out[0..) and returns how many. */
size_t rill_dht_lookup_result(const struct rill_dht_lookup *l, struct rill_dht_cand *out,
                              size_t max);

/* The largest depth among the K nearest candidates that answered: the hops
 * the lookup needed from its seeds (0 when the seeds were the answer). */
unsigned rill_dht_lookup_hops(const struct rill_dht_lookup *l);

/* Queries handed out so far (the messages the lookup cost). */
static inline uint32_t rill_dht_lookup_queries(const struct rill_dht_lookup *l)
{
    return l->queries;
}

#endif
