/* The Kademlia network of the DHT lab: node ids, tables filled as a
 * converged network has them, and one iterative lookup on the virtual clock
 * driving rill's own table and lookup cores (core/dht_table.h,
 * core/dht_lookup.h) exactly as the real node (src/io/dht_node.c) does:
 * seeds from rill_dht_table_closest(), queries from rill_dht_lookup_next(),
 * answers through rill_dht_lookup_replied(), timeouts through
 * rill_dht_lookup_failed(), and what it hears through
 * rill_dht_table_heard() / rill_dht_table_failed(). */
#include <stdlib.h>
#include <string.h>

#include "sim_dht.h"

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, RILL_KRPC_ID_LEN);
}

void rill__kad_free(struct rill__kad *k)
{
    if (k->slot)
        for (uint32_t i = 0; i < k->nslots; i++)
            if (k->owner[i] != UINT32_MAX)
                rill_dht_table_free(&k->slot[i]);
    free(k->slot);
    free(k->owner);
    free(k->id);
    free(k->dead);
    free(k->load);
    memset(k, 0, sizeof *k);
}

int rill__kad_init(struct rill__kad *k, uint32_t n0, uint32_t cap, uint32_t nslots, unsigned kk,
                   uint64_t seed, struct rill_rng *rng)
{
    memset(k, 0, sizeof *k);
    k->n0 = k->n = n0;
    k->cap = cap;
    k->nslots = nslots;
    k->k = kk;
    k->seed = seed;
    k->id = malloc((size_t)cap * sizeof *k->id);
    k->dead = calloc(cap, 1);
    k->load = calloc(cap, sizeof *k->load);
    k->slot = calloc(nslots, sizeof *k->slot);
    k->owner = malloc((size_t)nslots * sizeof *k->owner);
    if (!k->id || !k->dead || !k->load || !k->slot || !k->owner) {
        rill__kad_free(k);
        return RILL_ENOMEM;
    }
    memset(k->owner, 0xff, (size_t)nslots * sizeof *k->owner);
    /* The initial nodes are numbered in id order, so an id range is an
     * index range; joiners (n0 and up) keep random ids. */
    rill_rng_bytes(rng, k->id, (size_t)cap * sizeof *k->id);
    qsort(k->id, n0, sizeof *k->id, cmp_id);
    return 0;
}

void rill__kad_node(const struct rill__kad *k, uint32_t i, struct rill_krpc_node *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->id, k->id[i], RILL_KRPC_ID_LEN);
    out->addr[0] = 10;
    out->addr[1] = (uint8_t)(i >> 16);
    out->addr[2] = (uint8_t)(i >> 8);
    out->addr[3] = (uint8_t)i;
    out->port = 6881;
}

static uint32_t node_index(const struct rill_krpc_node *n)
{
    return (uint32_t)n->addr[1] << 16 | (uint32_t)n->addr[2] << 8 | n->addr[3];
}

static unsigned bit(const uint8_t *id, unsigned b)
{
    return (id[b / 8] >> (7 - b % 8)) & 1u;
}

/* The first node in [lo, hi) whose id has bit b set; all ids
 * there share their first b bits, so that bit grows along the range. */
static uint32_t split(const struct rill__kad *k, uint32_t lo, uint32_t hi, unsigned b)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (bit(k->id[mid], b))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Feeds up to k random nodes of [lo, hi) to table t as nodes that
 * replied. */
static int fill_range(struct rill__kad *k, struct rill_dht_table *t, uint32_t lo, uint32_t hi,
                      struct rill_rng *rng)
{
    uint32_t pick[RILL_DHT_K], np = 0;
    while (np < k->k && np < hi - lo) {
        uint32_t p = hi - lo <= k->k ? lo + np : lo + (uint32_t)rill_rng_below(rng, hi - lo);
        bool dup = false;
        for (uint32_t j = 0; j < np; j++)
            dup |= pick[j] == p;
        if (!dup)
            pick[np++] = p;
    }
    for (uint32_t j = 0; j < np; j++) {
        struct rill_krpc_node node;
        rill__kad_node(k, pick[j], &node);
        if (rill_dht_table_heard(t, &node, k->now, true, NULL) == RILL_ENOMEM)
            return RILL_ENOMEM;
    }
    return 0;
}

/* A converged table for initial node i: for each shared-prefix length p,
 * up to k random nodes sharing exactly p bits with it. A function of the
 * seed and i only, so it can be rebuilt after eviction. */
static int fill(struct rill__kad *k, struct rill_dht_table *t, uint32_t i)
{
    const uint8_t *own = k->id[i];
    struct rill_rng rng;
    rill_rng_seed(&rng, mix(k->seed ^ mix(i)));
    int rc = rill_dht_table_init(t, own, 4, k->now);
    if (rc < 0)
        return rc;
    uint32_t lo = 0, hi = k->n0;
    for (unsigned p = 0; p < 160 && hi - lo > 1 && rc == 0; p++) {
        uint32_t m = split(k, lo, hi, p);
        if (bit(own, p)) {
            rc = fill_range(k, t, lo, m, &rng);
            lo = m;
        } else {
            rc = fill_range(k, t, m, hi, &rng);
            hi = m;
        }
    }
    if (rc < 0)
        rill_dht_table_free(t);
    return rc;
}

struct rill_dht_table *rill__kad_table(struct rill__kad *k, uint32_t i)
{
    uint32_t s = i % k->nslots;
    if (k->owner[s] == i)
        return &k->slot[s];
    if (i >= k->n0)
        return NULL; /* a joiner's table is made by its join */
    if (k->owner[s] != UINT32_MAX)
        rill_dht_table_free(&k->slot[s]);
    k->owner[s] = UINT32_MAX;
    if (fill(k, &k->slot[s], i) < 0) {
        k->err = RILL_ENOMEM;
        return NULL;
    }
    k->owner[s] = i;
    return &k->slot[s];
}

size_t rill__kad_nearest(const struct rill__kad *k, const uint8_t *t, uint32_t lo, uint32_t hi,
                         unsigned b, size_t want, uint32_t *out)
{
    if (hi - lo <= want || b >= 160) {
        size_t n = hi - lo < want ? hi - lo : want;
        for (size_t j = 0; j < n; j++)
            out[j] = (uint32_t)(lo + j);
        return n;
    }
    uint32_t m = split(k, lo, hi, b);
    uint32_t slo = bit(t, b) ? m : lo, shi = bit(t, b) ? hi : m;
    uint32_t olo = bit(t, b) ? lo : m, ohi = bit(t, b) ? m : hi;
    if (shi - slo >= want)
        return rill__kad_nearest(k, t, slo, shi, b + 1, want, out);
    size_t n = rill__kad_nearest(k, t, slo, shi, b + 1, want, out);
    return n + rill__kad_nearest(k, t, olo, ohi, b + 1, want - n, out + n);
}

/* Node i hears from node `from` (replied: an answer to i's query). With
 * k < RILL_DHT_K a newcomer is not handed to the table when it already
 * holds k nodes of that shared-prefix range. A node the table asks to
 * ping is pinged at once: an answer refreshes it, silence counts a
 * timeout. */
void rill__kad_heard(struct rill__kad *k, struct rill_dht_table *t, uint32_t from, bool replied)
{
    if (!t || k->dead[from])
        return;
    if (k->k < RILL_DHT_K && !rill_dht_table_find(t, k->id[from])) {
        unsigned p = rill_dht_id_common_prefix(t->own, k->id[from]), same = 0;
        for (unsigned b = 0; b < t->n_buckets; b++)
            for (unsigned j = 0; j < t->b[b].n_nodes; j++)
                same += rill_dht_id_common_prefix(t->own, t->b[b].nodes[j].id) == p;
        if (same >= k->k)
            return;
    }
    struct rill_krpc_node node, ping;
    rill__kad_node(k, from, &node);
    if (rill_dht_table_heard(t, &node, k->now, replied, &ping) != RILL_DHT_PING)
        return;
    uint32_t pi = node_index(&ping);
    if (pi < k->n && !k->dead[pi])
        rill_dht_table_heard(t, &ping, k->now, true, NULL);
    else
        rill_dht_table_failed(t, ping.id, k->now);
}

struct flight {
    uint32_t node;
    uint64_t due;
};

/* Takes the in-flight query due first (the earliest sent on a tie). */
static struct flight take(struct flight *fl, unsigned *nfl)
{
    unsigned best = 0;
    for (unsigned i = 1; i < *nfl; i++)
        if (fl[i].due < fl[best].due)
            best = i;
    struct flight f = fl[best];
    memmove(&fl[best], &fl[best + 1], (*nfl - best - 1) * sizeof *fl);
    (*nfl)--;
    return f;
}

static void answer(struct rill__kad *k, struct rill_dht_lookup *l, const struct rill__kad_q *q,
                   uint32_t resp, struct rill__kad_res *res)
{
    struct rill_krpc_node ans[RILL_DHT_K];
    struct rill_dht_table *rt = rill__kad_table(k, resp);
    size_t na = rt ? rill_dht_table_closest(rt, l->target, ans, k->k, k->now) : 0;
    rill_dht_lookup_replied(l, k->id[resp], ans, na, NULL, 0, k->now);
    for (size_t h = 0; h < q->nholders; h++)
        res->ok |= q->holders[h] == resp;
    if (q->learn)
        rill__kad_heard(k, q->ot, resp, true);
    if (q->tell && rt)
        rill__kad_heard(k, rt, q->origin, false);
}

int rill__kad_lookup(struct rill__kad *k, const struct rill__kad_q *q, struct rill__kad_res *res)
{
    struct rill_dht_lookup l;
    struct rill_krpc_node seeds[RILL_DHT_LOOKUP_K], next;
    size_t ns = rill_dht_table_closest(q->ot, q->target, seeds, RILL_DHT_LOOKUP_K, k->now);
    rill_dht_lookup_init(&l, q->target, q->kind, q->ot->own, seeds, ns, k->now);
    memset(res, 0, sizeof *res);
    for (size_t h = 0; h < q->nholders; h++)
        res->ok |= q->holders[h] == q->origin; /* it holds the value itself */
    uint64_t start = k->now;
    struct flight fl[RILL_DHT_LOOKUP_ALPHA];
    unsigned nfl = 0;
    for (;;) {
        while (nfl < RILL_DHT_LOOKUP_ALPHA && rill_dht_lookup_next(&l, k->now, &next) == 1) {
            uint32_t to = node_index(&next);
            bool gone = to >= k->n || k->dead[to];
            if (!gone)
                k->load[to]++;
            fl[nfl].node = to;
            fl[nfl++].due = k->now + (gone ? RILL_DHT_SIM_TIMEOUT_MS
                                           : rill__dht_sim_rtt(k->seed, q->origin, to));
        }
        if (nfl == 0)
            break;
        struct flight f = take(fl, &nfl);
        k->now = f.due;
        if (f.node >= k->n || k->dead[f.node]) {
            struct rill_krpc_node gone;
            rill__kad_node(k, f.node < k->n ? f.node : 0, &gone);
            rill_dht_lookup_failed(&l, gone.id, k->now);
            res->timeouts++;
            if (q->learn)
                rill_dht_table_failed(q->ot, gone.id, k->now);
        } else {
            answer(k, &l, q, f.node, res);
        }
        if (k->err)
            return k->err;
    }
    res->hops = rill_dht_lookup_hops(&l);
    res->msgs = rill_dht_lookup_queries(&l);
    res->ms = k->now - start;
    return 0;
}
