/* The ring engines of the DHT lab: 64-bit ids on a circle, each key held by
 * its successor (the first node at or after it). "ring" nodes know their
 * successor list only; "chord" nodes also know their fingers, the successor
 * of id + 2^i for i = 0..63. Routing is recursive: each hop forwards the
 * query, one message, half a round trip.
 *
 * Churn keeps the pointers as they were before (no stabilization runs), so
 * fingers and successors may name nodes that left: a query to one costs a
 * message and a timeout, and the next best pointer is tried. */
#include <stdlib.h>
#include <string.h>

#include "sim_dht.h"

struct ring {
    uint32_t n;
    uint64_t *id; /* sorted */
    uint8_t *dead;
    uint32_t *load;
    uint64_t seed;
    bool fingers;
    unsigned succ; /* successor list length */
};

/* One routed lookup. */
struct route {
    uint32_t hops, msgs, timeouts;
    double lat_ms;
    bool ok;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void ring_free(struct ring *r)
{
    free(r->id);
    free(r->dead);
    free(r->load);
}

/* n distinct random ids, sorted. */
static int ring_make(struct ring *r, uint32_t n, struct rill_rng *rng, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->seed = seed;
    r->succ = 1;
    r->id = malloc((size_t)n * sizeof *r->id);
    r->dead = calloc(n, 1);
    r->load = calloc(n, sizeof *r->load);
    if (!r->id || !r->dead || !r->load) {
        ring_free(r);
        return RILL_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        r->id[i] = rill_rng_next(rng);
    qsort(r->id, n, sizeof *r->id, cmp_u64);
    for (uint32_t i = 1; i < n; i++)
        if (r->id[i] == r->id[i - 1])
            r->id[i] = r->id[i - 1] + 1; /* 2^-64 odds; keeps them distinct */
    return 0;
}

/* The index of the successor of `key`: the first id >= key, wrapping. */
static uint32_t succ_of(const struct ring *r, uint64_t key)
{
    uint32_t lo = 0, hi = r->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->id[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == r->n ? 0 : lo;
}

/* key in the arc (a, b]; the whole circle when a == b. */
static bool in_arc(uint64_t key, uint64_t a, uint64_t b)
{
    return key - a - 1 < b - a || a == b;
}

/* Writes the pointers node j would try for `key`, best first, to c[] and
 * returns how many: its successor list when the key lies just past it,
 * else the fingers preceding the key (nearest to it first), then the
 * successor list. */
static unsigned candidates(const struct ring *r, uint32_t j, uint64_t key, uint32_t c[70])
{
    unsigned nc = 0;
    uint64_t me = r->id[j];
    if (r->fingers && !in_arc(key, me, r->id[(j + 1) % r->n])) {
        uint32_t last = UINT32_MAX;
        for (int i = 63; i >= 0; i--) {
            uint32_t f = succ_of(r, me + ((uint64_t)1 << i));
            if (f == j || f == last || !in_arc(r->id[f], me, key - 1))
                continue;
            c[nc++] = last = f;
        }
    }
    for (unsigned s = 1; s <= r->succ; s++) {
        uint32_t f = (uint32_t)((j + s) % r->n);
        bool have = false;
        for (unsigned i = 0; i < nc; i++)
            have |= c[i] == f;
        if (!have)
            c[nc++] = f;
    }
    return nc;
}

/* Routes a lookup of `key` from node j to a live node among the key's
 * holders (its successor and the next succ - 1 nodes, as stored before any
 * churn). */
static void route(struct ring *r, uint32_t j, uint64_t key, struct route *o)
{
    memset(o, 0, sizeof *o);
    uint32_t h = succ_of(r, key);
    for (uint32_t guard = 0; guard <= r->n + 2; guard++) {
        if ((j + r->n - h) % r->n < r->succ) {
            o->ok = true;
            return;
        }
        uint32_t c[70], next = UINT32_MAX;
        unsigned nc = candidates(r, j, key, c);
        for (unsigned i = 0; i < nc && next == UINT32_MAX; i++) {
            o->msgs++;
            if (r->dead[c[i]]) {
                o->timeouts++;
                o->lat_ms += RILL_DHT_SIM_TIMEOUT_MS;
            } else {
                next = c[i];
            }
        }
        if (next == UINT32_MAX)
            return; /* every pointer it has left */
        r->load[next]++;
        o->hops++;
        o->lat_ms += rill__dht_sim_rtt(r->seed, j, next) / 2.0;
        j = next;
    }
}

/* The generator seeded and a ring of `nodes` made from it, with or without
 * fingers: the start of every experiment. */
static int ring_start(struct ring *r, struct rill_rng *rng, bool fingers, uint32_t nodes,
                      uint64_t seed)
{
    rill_rng_seed(rng, seed);
    int rc = ring_make(r, nodes, rng, seed);
    if (rc == 0)
        r->fingers = fingers;
    return rc;
}

int rill__dht_sim_cost_ring(bool fingers, uint32_t nodes, uint32_t lookups, uint64_t seed,
                            struct rill_dht_sim_cost *out)
{
    struct rill_rng rng;
    struct ring r;
    int rc = ring_start(&r, &rng, fingers, nodes, seed);
    if (rc < 0)
        return rc;
    uint32_t *hops = malloc(lookups * sizeof *hops);
    if (!hops) {
        ring_free(&r);
        return RILL_ENOMEM;
    }
    uint64_t msgs = 0;
    uint32_t ok = 0;
    double lat = 0;
    for (uint32_t i = 0; i < lookups; i++) {
        uint32_t from = (uint32_t)rill_rng_below(&rng, nodes);
        uint64_t key = rill_rng_next(&rng);
        struct route o;
        route(&r, from, key, &o);
        msgs += o.msgs;
        hops[i] = o.hops;
        ok += o.ok;
        /* The holder answers the origin directly. */
        lat += o.lat_ms + rill__dht_sim_rtt(seed, from, succ_of(&r, key)) / 2.0;
    }
    rill__dht_sim_cost_fill(out, lookups, &(struct rill__dht_sim_tally){hops, lookups, msgs, ok, lat},
                            r.load, nodes);
    free(hops);
    ring_free(&r);
    return 0;
}

/* A new node at `x` asks node b to find its successor (one message, then
 * the routed lookup); a chord node then finds each finger the same way
 * through its successor, skipping those the previous finger already covers. */
static void join_one(struct ring *r, uint64_t x, uint32_t b, double *place, double *fill)
{
    struct route o;
    route(r, b, x, &o);
    *place += 1 + o.msgs;
    if (!r->fingers)
        return;
    uint32_t s = succ_of(r, x), f = s;
    for (int i = 0; i < 64; i++) {
        uint64_t start = x + ((uint64_t)1 << i);
        if (in_arc(start, x, r->id[f]))
            continue; /* finger i is finger i - 1 */
        route(r, s, start, &o);
        *fill += 1 + o.msgs;
        f = succ_of(r, start);
    }
}

int rill__dht_sim_join_ring(bool fingers, uint32_t nodes, uint32_t joins, uint64_t seed,
                            struct rill_dht_sim_join *out)
{
    struct rill_rng rng;
    struct ring r;
    int rc = ring_start(&r, &rng, fingers, nodes, seed);
    if (rc < 0)
        return rc;
    double place = 0, fill = 0;
    for (uint32_t i = 0; i < joins; i++) {
        uint64_t x = rill_rng_next(&rng);
        join_one(&r, x, (uint32_t)rill_rng_below(&rng, nodes), &place, &fill);
    }
    out->joins = joins;
    out->place_msgs = place / joins;
    out->fill_msgs = fill / joins;
    ring_free(&r);
    return 0;
}

int rill__dht_sim_churn_ring(bool fingers, unsigned succ, uint32_t nodes, double rate,
                             uint32_t lookups, uint64_t seed, struct rill_dht_sim_churn *out)
{
    struct rill_rng rng;
    struct ring r;
    int rc = ring_start(&r, &rng, fingers, nodes, seed);
    if (rc < 0)
        return rc;
    r.succ = succ;
    uint64_t *keys = malloc(lookups * sizeof *keys);
    if (!keys) {
        ring_free(&r);
        return RILL_ENOMEM;
    }
    for (uint32_t i = 0; i < lookups; i++)
        keys[i] = rill_rng_next(&rng);
    /* Leaving: a random share of the nodes (joiners are not linked in before
     * stabilization, so they change no lookup). */
    uint32_t gone = (uint32_t)(rate * nodes + 0.5);
    for (uint32_t left = 0; left < gone;) {
        uint32_t v = (uint32_t)rill_rng_below(&rng, nodes);
        if (!r.dead[v]) {
            r.dead[v] = 1;
            left++;
        }
    }
    uint32_t ok = 0, survived = 0;
    uint64_t msgs = 0, tos = 0;
    for (uint32_t i = 0; i < lookups; i++) {
        uint32_t h = succ_of(&r, keys[i]);
        bool alive = false;
        for (unsigned s = 0; s < succ; s++)
            alive |= !r.dead[(h + s) % nodes];
        survived += alive;
        uint32_t from;
        do
            from = (uint32_t)rill_rng_below(&rng, nodes);
        while (r.dead[from]);
        struct route o;
        route(&r, from, keys[i], &o);
        ok += o.ok;
        msgs += o.msgs;
        tos += o.timeouts;
    }
    out->lookups = lookups;
    out->lookup_ok = (double)ok / lookups;
    out->survived = (double)survived / lookups;
    out->msgs_mean = (double)msgs / lookups;
    out->timeouts_mean = (double)tos / lookups;
    free(keys);
    ring_free(&r);
    return 0;
}
