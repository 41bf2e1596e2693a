/* `rill sim dht`'s engine: the textbook's claims about distributed hash
 * tables, measured. Five ways to find the node that holds a key:
 *
 *   directory  one server that answers every lookup (1 hop, all the load);
 *   flood      a random graph of small degree, queries flooded with a TTL;
 *   ring       a ring of ids where each node knows only its successor;
 *   chord      the ring with shortcuts: Chord's fingers, successor(n + 2^i);
 *   kademlia   rill's own routing table (core/dht_table.h) in every node and
 *              rill's own iterative lookup (core/dht_lookup.h), unchanged.
 *
 * Model. A virtual clock in milliseconds; every pair of nodes has a fixed
 * round-trip time of 20 to 300 ms drawn from the seed; a query to a node
 * that has left times out after 2 s (rill's KRPC timeout). Ring and chord
 * route recursively (each hop forwards the query, one message); kademlia is
 * iterative (each query is one message and its answer, at most 3 in flight)
 * and counts hops as rill_dht_lookup_hops() of a get_peers lookup seeded
 * from the origin's own table, as the real node does. Messages are the
 * queries sent; each node's received queries give the busiest node's share.
 *
 * Kademlia tables are filled as a converged network would have them: for
 * each shared-prefix length, up to k random nodes of that id range, fed to
 * rill_dht_table_heard() as nodes that replied. They are a function of the
 * seed and the node, so large networks build them on demand in a bounded
 * cache instead of holding 100,000 tables (about 11 KB each).
 *
 * Deterministic: one seed gives one result, bit for bit (no clock read). */
#ifndef RILL_LAB_SIM_DHT_H
#define RILL_LAB_SIM_DHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/dht_lookup.h"
#include "core/dht_table.h"
#include "rill.h"
#include "util/rng.h"

enum rill_dht_sim_engine {
    RILL_DHT_SIM_DIRECTORY = 0,
    RILL_DHT_SIM_FLOOD,
    RILL_DHT_SIM_RING,
    RILL_DHT_SIM_CHORD,
    RILL_DHT_SIM_KADEMLIA,
    RILL_DHT_SIM_ENGINES,
};

#define RILL_DHT_SIM_NODES_MAX 1000000u
#define RILL_DHT_SIM_FLOOD_LOOKUPS 200u /* flooding touches every node per lookup */
#define RILL_DHT_SIM_FLOOD_DEGREE 4u    /* links each node makes (about 8 per node in all) */
#define RILL_DHT_SIM_TIMEOUT_MS 2000u

/* "directory", "flood", "ring", "chord", "kademlia". */
const char *rill_dht_sim_engine_name(int engine);

/* Lookup cost of one engine at one size. */
struct rill_dht_sim_cost {
    int engine;
    uint32_t nodes, lookups;
    double hops_mean, hops_median, hops_p99;
    double msgs_mean;     /* queries sent per lookup */
    double busiest_share; /* the busiest node's share of all queries, 0..1 */
    double success;       /* share of lookups that reached the key's holder */
    double latency_ms;    /* mean virtual time of a lookup */
};

/* Runs `lookups` lookups of random keys from random nodes (flood: at most
 * RILL_DHT_SIM_FLOOD_LOOKUPS) in a network of `nodes` nodes drawn from
 * `seed`. Returns 0, RILL_EINVAL (bad engine, nodes < 2, no lookups) or
 * RILL_ENOMEM. */
int rill_dht_sim_cost(int engine, uint32_t nodes, uint32_t lookups, uint64_t seed,
                      struct rill_dht_sim_cost *out);

/* What joining costs: the messages a new node sends to find its place
 * (ring, chord: a lookup of its own id; kademlia: a ping of its bootstrap
 * node and a find_node lookup of its own id, BEP 5's join) and to fill its
 * state (chord: its fingers; kademlia: one find_node per bucket range, as
 * refreshing every bucket would). */
struct rill_dht_sim_join {
    int engine;
    uint32_t nodes, joins;
    double place_msgs;                          /* mean messages to find its place */
    double fill_msgs;                           /* mean further messages to fill fingers / table */
    double table_after_place, table_after_fill; /* kademlia: table nodes */
    double table_converged;                     /* kademlia: a converged node's */
};

/* Joins `joins` new nodes, one at a time, each into the same converged
 * network of `nodes` nodes. Engines ring, chord and kademlia. */
int rill_dht_sim_join(int engine, uint32_t nodes, uint32_t joins, uint64_t seed,
                      struct rill_dht_sim_join *out);

/* Churn: `lookups` values are stored at the start (ring, chord: on the key's
 * successor and the next `variant - 1` nodes of the successor list;
 * kademlia: on the `variant` = k nodes closest to the key); then a share
 * `rate` of the nodes leave without notice and as many new ones join; then
 * every value is looked up once from a random live node. No repair runs in
 * between (no republishing, no stabilization: ring joiners are not reached
 * before stabilization links them in, kademlia joiners are, by the nodes
 * their join queried). Kademlia with k < 8: each table holds at most k nodes
 * per shared-prefix range (the simulator hands it no more), and nodes answer
 * with their k closest. */
struct rill_dht_sim_churn {
    int engine;
    unsigned variant; /* successors (ring, chord) or k (kademlia) */
    uint32_t nodes, lookups;
    double rate;
    double lookup_ok; /* share of lookups that found a live holder */
    double survived;  /* share of values with a live holder */
    double msgs_mean; /* queries per lookup, timeouts included */
    double timeouts_mean;
};

int rill_dht_sim_churn(int engine, unsigned variant, uint32_t nodes, double rate, uint32_t lookups,
                       uint64_t seed, struct rill_dht_sim_churn *out);

/* ------------------------------------------------------------ internals
 * Shared by lab/sim_dht*.c only. */

/* The fixed round-trip time between nodes a and b: 20..300 ms. */
uint32_t rill__dht_sim_rtt(uint64_t seed, uint32_t a, uint32_t b);

/* What a cost experiment counted over its lookups: hops[0..n_hops) (every
 * lookup, or only the answered ones: flooding), the latency summed over
 * those same lookups, messages and answers over all. */
struct rill__dht_sim_tally {
    uint32_t *hops;
    uint32_t n_hops;
    uint64_t msgs;
    uint32_t ok;
    double lat_ms;
};

/* Fills *out from a tally of `lookups` lookups and the per-node message
 * load[0..nodes); sorts t->hops. */
void rill__dht_sim_cost_fill(struct rill_dht_sim_cost *out, uint32_t lookups,
                             struct rill__dht_sim_tally *t, const uint32_t *load, uint32_t nodes);

int rill__dht_sim_cost_directory(uint32_t nodes, uint32_t lookups, uint64_t seed,
                                 struct rill_dht_sim_cost *out);
int rill__dht_sim_cost_flood(uint32_t nodes, uint32_t lookups, uint64_t seed,
                             struct rill_dht_sim_cost *out);
int rill__dht_sim_cost_ring(bool fingers, uint32_t nodes, uint32_t lookups, uint64_t seed,
                            struct rill_dht_sim_cost *out);
int rill__dht_sim_join_ring(bool fingers, uint32_t nodes, uint32_t joins, uint64_t seed,
                            struct rill_dht_sim_join *out);
int rill__dht_sim_churn_ring(bool fingers, unsigned succ, uint32_t nodes, double rate,
                             uint32_t lookups, uint64_t seed, struct rill_dht_sim_churn *out);
int rill__dht_sim_cost_kad(uint32_t nodes, uint32_t lookups, uint64_t seed,
                           struct rill_dht_sim_cost *out);
int rill__dht_sim_join_kad(uint32_t nodes, uint32_t joins, uint64_t seed,
                           struct rill_dht_sim_join *out);
int rill__dht_sim_churn_kad(unsigned k, uint32_t nodes, double rate, uint32_t lookups,
                            uint64_t seed, struct rill_dht_sim_churn *out);

/* The Kademlia network (lab/sim_dht_kad.c). Initial nodes 0..n0 are
 * numbered in id order; joiners take n0..cap. Tables live in nslots slots,
 * node i in slot i % nslots: with nslots >= cap nothing is evicted and
 * tables keep what they learn (churn); with fewer, converged tables are
 * rebuilt on demand (cost, join) and must not be changed. */
struct rill__kad {
    uint32_t n0, n, cap, nslots;
    unsigned k;                      /* nodes per range, and per answer */
    uint8_t (*id)[RILL_KRPC_ID_LEN]; /* cap ids */
    uint8_t *dead;                   /* cap flags */
    uint32_t *load;                  /* queries received, cap counters */
    struct rill_dht_table *slot;
    uint32_t *owner;    /* node in each slot, UINT32_MAX for none */
    uint64_t seed, now; /* now: the virtual clock, ms */
    int err;
};

/* One lookup: from node `origin` with table `ot`, towards `target`. */
struct rill__kad_q {
    uint32_t origin;
    struct rill_dht_table *ot;
    const uint8_t *target;
    enum rill_dht_lookup_kind kind;
    const uint32_t *holders; /* success: one of these answers */
    size_t nholders;
    bool learn; /* the origin's table hears answers and timeouts */
    bool tell;  /* the queried nodes' tables hear the origin */
};

struct rill__kad_res {
    unsigned hops;
    uint32_t msgs, timeouts;
    uint64_t ms;
    bool ok;
};

int rill__kad_init(struct rill__kad *k, uint32_t n0, uint32_t cap, uint32_t nslots, unsigned kk,
                   uint64_t seed, struct rill_rng *rng);
void rill__kad_free(struct rill__kad *k);
/* Node i as a struct rill_krpc_node (address 10.x.y.z from its index). */
void rill__kad_node(const struct rill__kad *k, uint32_t i, struct rill_krpc_node *out);
/* Node i's table, built when needed; NULL for a joiner without one, or on
 * ENOMEM (k->err). Valid until the next call (a slot may be reused). */
struct rill_dht_table *rill__kad_table(struct rill__kad *k, uint32_t i);
/* The `want` initial nodes nearest to t by XOR among [lo, hi), which share
 * their first b bits: writes their indices to out and returns how many. */
size_t rill__kad_nearest(const struct rill__kad *k, const uint8_t *t, uint32_t lo, uint32_t hi,
                         unsigned b, size_t want, uint32_t *out);
/* Table t (node i's) hears from node `from`; see sim_dht_kad.c. */
void rill__kad_heard(struct rill__kad *k, struct rill_dht_table *t, uint32_t from, bool replied);
/* Runs one lookup to its end on k->now; 0 or k->err. */
int rill__kad_lookup(struct rill__kad *k, const struct rill__kad_q *q, struct rill__kad_res *res);

#endif
