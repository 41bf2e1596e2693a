/* The Kademlia experiments of the DHT lab: lookup cost in a converged
 * network, what a join costs, and lookups and stored values under churn. */
#include <stdlib.h>
#include <string.h>

#include "sim_dht.h"

/* Converged tables are rebuilt on demand above this many nodes, so memory
 * stays near CACHE_SLOTS tables (about 11 KB each) whatever the size. */
#define CACHE_SLOTS 8192u

static uint32_t pick_live(struct rill__kad *k, struct rill_rng *rng)
{
    uint32_t i;
    do
        i = (uint32_t)rill_rng_below(rng, k->n);
    while (k->dead[i]);
    return i;
}

/* The generator seeded and a converged network of `nodes` with full
 * buckets (k = 8) made from it. */
static int kad_start(struct rill__kad *k, struct rill_rng *rng, uint32_t nodes, uint64_t seed)
{
    rill_rng_seed(rng, seed);
    return rill__kad_init(k, nodes, nodes, nodes < CACHE_SLOTS ? nodes : CACHE_SLOTS, RILL_DHT_K,
                          seed, rng);
}

int rill__dht_sim_cost_kad(uint32_t nodes, uint32_t lookups, uint64_t seed,
                           struct rill_dht_sim_cost *out)
{
    struct rill_rng rng;
    struct rill__kad k;
    int rc = kad_start(&k, &rng, nodes, seed);
    if (rc < 0)
        return rc;
    uint32_t *hops = malloc(lookups * sizeof *hops);
    if (!hops) {
        rill__kad_free(&k);
        return RILL_ENOMEM;
    }
    uint64_t msgs = 0;
    uint32_t ok = 0;
    double lat = 0;
    for (uint32_t i = 0; i < lookups && rc == 0; i++) {
        uint8_t target[RILL_KRPC_ID_LEN];
        uint32_t from = (uint32_t)rill_rng_below(&rng, nodes), holder;
        rill_rng_bytes(&rng, target, sizeof target);
        rill__kad_nearest(&k, target, 0, nodes, 0, 1, &holder);
        k.now = 0; /* every lookup in the same converged network */
        struct rill_dht_table *ot = rill__kad_table(&k, from);
        if (!ot) {
            rc = k.err;
            break;
        }
        struct rill__kad_q q = {.origin = from,
                                .ot = ot,
                                .target = target,
                                .kind = RILL_DHT_LOOKUP_GET_PEERS,
                                .holders = &holder,
                                .nholders = 1};
        struct rill__kad_res r;
        rc = rill__kad_lookup(&k, &q, &r);
        hops[i] = r.hops;
        msgs += r.msgs;
        ok += r.ok;
        lat += (double)r.ms;
    }
    if (rc == 0)
        rill__dht_sim_cost_fill(out, lookups,
                                &(struct rill__dht_sim_tally){hops, lookups, msgs, ok, lat}, k.load,
                                nodes);
    free(hops);
    rill__kad_free(&k);
    return rc;
}

/* A find_node lookup by node `self` with table t, learning what it hears;
 * returns its messages (0 on error, with k->err set). */
static uint32_t learn_lookup(struct rill__kad *k, uint32_t self, struct rill_dht_table *t,
                             const uint8_t *target, bool tell)
{
    struct rill__kad_q q = {.origin = self,
                            .ot = t,
                            .target = target,
                            .kind = RILL_DHT_LOOKUP_FIND_NODE,
                            .learn = true,
                            .tell = tell};
    struct rill__kad_res r;
    return rill__kad_lookup(k, &q, &r) == 0 ? r.msgs : 0;
}

/* BEP 5's join: ping the bootstrap node (its answer puts it in the table),
 * then look up our own id. Returns the messages. */
static uint32_t join_place(struct rill__kad *k, uint32_t self, struct rill_dht_table *t,
                           uint32_t boot, bool tell)
{
    rill__kad_heard(k, t, boot, true);
    if (tell)
        rill__kad_heard(k, rill__kad_table(k, boot), self, false);
    return 1 + learn_lookup(k, self, t, t->own, tell);
}

/* Refreshing every bucket: a find_node of a random id in each bucket's
 * range (sharing exactly b bits with ours). Returns the messages. */
static uint32_t join_fill(struct rill__kad *k, uint32_t self, struct rill_dht_table *t,
                          struct rill_rng *rng)
{
    uint32_t msgs = 0;
    for (unsigned b = 0; b < t->n_buckets && b < 160 && !k->err; b++) {
        uint8_t target[RILL_KRPC_ID_LEN];
        rill_rng_bytes(rng, target, sizeof target);
        for (unsigned j = 0; j <= b; j++) {
            uint8_t m = (uint8_t)(0x80u >> (j % 8));
            uint8_t want = (uint8_t)((t->own[j / 8] & m) ^ (j == b ? m : 0));
            target[j / 8] = (uint8_t)((target[j / 8] & ~m) | want);
        }
        msgs += learn_lookup(k, self, t, target, false);
    }
    return msgs;
}

int rill__dht_sim_join_kad(uint32_t nodes, uint32_t joins, uint64_t seed,
                           struct rill_dht_sim_join *out)
{
    struct rill_rng rng;
    struct rill__kad k;
    int rc = kad_start(&k, &rng, nodes, seed);
    if (rc < 0)
        return rc;
    double place = 0, fill = 0, after_place = 0, after_fill = 0, conv = 0;
    for (uint32_t i = 0; i < joins && rc == 0; i++) {
        uint8_t own[RILL_KRPC_ID_LEN];
        rill_rng_bytes(&rng, own, sizeof own);
        uint32_t boot = (uint32_t)rill_rng_below(&rng, nodes);
        struct rill_dht_table *bt = rill__kad_table(&k, boot);
        conv += bt ? (double)rill_dht_table_nodes(bt) : 0;
        struct rill_dht_table t;
        k.now = 0;
        if (rill_dht_table_init(&t, own, 4, k.now) < 0) {
            rc = RILL_ENOMEM;
            break;
        }
        /* The joiner is numbered past the network: never queried by it. */
        place += join_place(&k, nodes + i, &t, boot, false);
        after_place += (double)rill_dht_table_nodes(&t);
        fill += join_fill(&k, nodes + i, &t, &rng);
        after_fill += (double)rill_dht_table_nodes(&t);
        rill_dht_table_free(&t);
        rc = k.err;
    }
    out->joins = joins;
    out->place_msgs = place / joins;
    out->fill_msgs = fill / joins;
    out->table_after_place = after_place / joins;
    out->table_after_fill = after_fill / joins;
    out->table_converged = conv / joins;
    rill__kad_free(&k);
    return rc;
}

/* One node leaves without notice and a new one joins through a random live
 * node; the nodes its join queries hear of it. */
static int churn_step(struct rill__kad *k, struct rill_rng *rng)
{
    k->dead[pick_live(k, rng)] = 1;
    uint32_t self = k->n, boot = pick_live(k, rng);
    struct rill_dht_table *t = &k->slot[self % k->nslots];
    if (rill_dht_table_init(t, k->id[self], 4, k->now) < 0)
        return RILL_ENOMEM;
    k->owner[self % k->nslots] = self;
    k->n++;
    join_place(k, self, t, boot, true);
    return k->err;
}

static int churn_lookups(struct rill__kad *k, const uint8_t (*keys)[RILL_KRPC_ID_LEN],
                         const uint32_t *holders, uint32_t lookups, struct rill_rng *rng,
                         struct rill_dht_sim_churn *out)
{
    uint32_t ok = 0, survived = 0;
    uint64_t msgs = 0, tos = 0;
    for (uint32_t v = 0; v < lookups; v++) {
        const uint32_t *h = holders + (size_t)v * k->k;
        bool alive = false;
        for (unsigned j = 0; j < k->k; j++)
            alive |= !k->dead[h[j]];
        survived += alive;
        uint32_t from = pick_live(k, rng);
        struct rill__kad_q q = {.origin = from,
                                .ot = rill__kad_table(k, from),
                                .target = keys[v],
                                .kind = RILL_DHT_LOOKUP_GET_PEERS,
                                .holders = h,
                                .nholders = k->k,
                                .learn = true,
                                .tell = true};
        struct rill__kad_res r;
        if (!q.ot || rill__kad_lookup(k, &q, &r) < 0)
            return k->err ? k->err : RILL_ENOMEM;
        ok += r.ok;
        msgs += r.msgs;
        tos += r.timeouts;
    }
    out->lookups = lookups;
    out->lookup_ok = (double)ok / lookups;
    out->survived = (double)survived / lookups;
    out->msgs_mean = (double)msgs / lookups;
    out->timeouts_mean = (double)tos / lookups;
    return 0;
}

int rill__dht_sim_churn_kad(unsigned kk, uint32_t nodes, double rate, uint32_t lookups,
                            uint64_t seed, struct rill_dht_sim_churn *out)
{
    struct rill_rng rng;
    rill_rng_seed(&rng, seed);
    uint32_t gone = (uint32_t)(rate * nodes + 0.5);
    struct rill__kad k;
    int rc = rill__kad_init(&k, nodes, nodes + gone, nodes + gone, kk, seed, &rng);
    if (rc < 0)
        return rc;
    uint8_t(*keys)[RILL_KRPC_ID_LEN] = malloc((size_t)lookups * sizeof *keys);
    uint32_t *holders = malloc((size_t)lookups * kk * sizeof *holders);
    if (!keys || !holders)
        rc = RILL_ENOMEM;
    /* Each value is stored on the k nodes nearest its key, as an announce
     * after a complete lookup would. */
    for (uint32_t v = 0; v < lookups && rc == 0; v++) {
        rill_rng_bytes(&rng, keys[v], RILL_KRPC_ID_LEN);
        rill__kad_nearest(&k, keys[v], 0, nodes, 0, kk, holders + (size_t)v * kk);
    }
    for (uint32_t j = 0; j < gone && rc == 0; j++)
        rc = churn_step(&k, &rng);
    if (rc == 0)
        rc = churn_lookups(&k, (const uint8_t(*)[RILL_KRPC_ID_LEN])keys, holders, lookups, &rng,
                           out);
    free(keys);
    free(holders);
    rill__kad_free(&k);
    return rc;
}
