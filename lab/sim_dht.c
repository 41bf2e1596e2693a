/* The DHT lab's entry points and shared helpers, with the two engines that
 * need no routing state: the central directory and query flooding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_dht.h"

static const char *const engine_names[RILL_DHT_SIM_ENGINES] = {
    "directory", "flood", "ring", "chord", "kademlia",
};

const char *rill_dht_sim_engine_name(int engine)
{
    return engine >= 0 && engine < RILL_DHT_SIM_ENGINES ? engine_names[engine] : "?";
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint32_t rill__dht_sim_rtt(uint64_t seed, uint32_t a, uint32_t b)
{
    uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
    return 20u + (uint32_t)(mix64(seed ^ mix64(lo << 32 | hi)) % 281u);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Hop statistics: mean, median and 99th percentile (nearest rank) of
 * v[0..n), which is sorted in place. */
static void hop_stats(uint32_t *v, size_t n, double *mean, double *median, double *p99)
{
    *mean = *median = *p99 = 0;
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_u32);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    *mean = sum / (double)n;
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    size_t r = (size_t)ceil(0.99 * (double)n);
    *p99 = v[r > 0 ? r - 1 : 0];
}

/* The largest of load[0..n) as a share of `total` (0 when total is 0). */
static double busiest(const uint32_t *load, size_t n, uint64_t total)
{
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (load[i] > m)
            m = load[i];
    return total ? (double)m / (double)total : 0;
}

void rill__dht_sim_cost_fill(struct rill_dht_sim_cost *out, uint32_t lookups,
                             struct rill__dht_sim_tally *t, const uint32_t *load, uint32_t nodes)
{
    out->lookups = lookups;
    hop_stats(t->hops, t->n_hops, &out->hops_mean, &out->hops_median, &out->hops_p99);
    out->msgs_mean = (double)t->msgs / lookups;
    out->busiest_share = busiest(load, nodes, t->msgs);
    out->success = (double)t->ok / lookups;
    out->latency_ms = t->n_hops ? t->lat_ms / t->n_hops : 0;
}

int rill_dht_sim_cost(int engine, uint32_t nodes, uint32_t lookups, uint64_t seed,
                      struct rill_dht_sim_cost *out)
{
    memset(out, 0, sizeof *out);
    out->engine = engine;
    out->nodes = nodes;
    if (nodes < 2 || nodes > RILL_DHT_SIM_NODES_MAX || lookups == 0)
        return RILL_EINVAL;
    switch (engine) {
    case RILL_DHT_SIM_DIRECTORY: return rill__dht_sim_cost_directory(nodes, lookups, seed, out);
    case RILL_DHT_SIM_FLOOD: return rill__dht_sim_cost_flood(nodes, lookups, seed, out);
    case RILL_DHT_SIM_RING:
    case RILL_DHT_SIM_CHORD:
        return rill__dht_sim_cost_ring(engine == RILL_DHT_SIM_CHORD, nodes, lookups, seed, out);
    case RILL_DHT_SIM_KADEMLIA: return rill__dht_sim_cost_kad(nodes, lookups, seed, out);
    default: return RILL_EINVAL;
    }
}

int rill_dht_sim_join(int engine, uint32_t nodes, uint32_t joins, uint64_t seed,
                      struct rill_dht_sim_join *out)
{
    memset(out, 0, sizeof *out);
    out->engine = engine;
    out->nodes = nodes;
    if (nodes < 2 || nodes > RILL_DHT_SIM_NODES_MAX || joins == 0)
        return RILL_EINVAL;
    if (engine == RILL_DHT_SIM_RING || engine == RILL_DHT_SIM_CHORD)
        return rill__dht_sim_join_ring(engine == RILL_DHT_SIM_CHORD, nodes, joins, seed, out);
    if (engine == RILL_DHT_SIM_KADEMLIA)
        return rill__dht_sim_join_kad(nodes, joins, seed, out);
    return RILL_EINVAL;
}

int rill_dht_sim_churn(int engine, unsigned variant, uint32_t nodes, double rate, uint32_t lookups,
                       uint64_t seed, struct rill_dht_sim_churn *out)
{
    memset(out, 0, sizeof *out);
    out->engine = engine;
    out->variant = variant;
    out->nodes = nodes;
    out->rate = rate;
    if (nodes < 16 || nodes > RILL_DHT_SIM_NODES_MAX || lookups == 0 || !(rate >= 0) || rate > 0.9)
        return RILL_EINVAL;
    if ((engine == RILL_DHT_SIM_RING || engine == RILL_DHT_SIM_CHORD) &&
        (variant == 1 || variant == 2))
        return rill__dht_sim_churn_ring(engine == RILL_DHT_SIM_CHORD, variant, nodes, rate, lookups,
                                        seed, out);
    if (engine == RILL_DHT_SIM_KADEMLIA && variant >= 1 && variant <= RILL_DHT_K)
        return rill__dht_sim_churn_kad(variant, nodes, rate, lookups, seed, out);
    return RILL_EINVAL;
}

/* ------------------------------------------------------------ directory */

/* Every lookup is one query to the server and its answer: one hop, and the
 * server receives every query there is. */
int rill__dht_sim_cost_directory(uint32_t nodes, uint32_t lookups, uint64_t seed,
                                 struct rill_dht_sim_cost *out)
{
    struct rill_rng rng;
    rill_rng_seed(&rng, seed);
    double lat = 0;
    for (uint32_t i = 0; i < lookups; i++) {
        uint32_t from = 1 + (uint32_t)rill_rng_below(&rng, nodes - 1); /* node 0 serves */
        lat += rill__dht_sim_rtt(seed, from, 0);
    }
    out->lookups = lookups;
    out->hops_mean = out->hops_median = out->hops_p99 = 1;
    out->msgs_mean = 1;
    out->busiest_share = 1;
    out->success = 1;
    out->latency_ms = lat / lookups;
    return 0;
}

/* -------------------------------------------------------------- flooding */

struct graph {
    uint32_t n;
    uint32_t *start; /* n + 1 offsets into adj */
    uint32_t *adj;
};

static void graph_free(struct graph *g)
{
    free(g->start);
    free(g->adj);
}

/* Each node links to DEGREE random others; links go both ways (CSR). */
static int graph_make(struct graph *g, uint32_t n, struct rill_rng *rng)
{
    size_t m = (size_t)n * RILL_DHT_SIM_FLOOD_DEGREE;
    uint32_t *ends = malloc(2 * m * sizeof *ends);
    g->n = n;
    g->start = calloc((size_t)n + 1, sizeof *g->start);
    g->adj = malloc(2 * m * sizeof *g->adj);
    if (!ends || !g->start || !g->adj) {
        free(ends);
        graph_free(g);
        return RILL_ENOMEM;
    }
    for (size_t e = 0; e < m; e++) {
        uint32_t a = (uint32_t)(e / RILL_DHT_SIM_FLOOD_DEGREE);
        uint32_t b = (uint32_t)rill_rng_below(rng, n - 1);
        ends[2 * e] = a;
        ends[2 * e + 1] = b >= a ? b + 1 : b; /* never itself */
        g->start[ends[2 * e] + 1]++;
        g->start[ends[2 * e + 1] + 1]++;
    }
    for (uint32_t i = 0; i < n; i++)
        g->start[i + 1] += g->start[i];
    uint32_t *fill = calloc(n, sizeof *fill);
    if (!fill) {
        free(ends);
        graph_free(g);
        return RILL_ENOMEM;
    }
    for (size_t e = 0; e < m; e++) {
        uint32_t a = ends[2 * e], b = ends[2 * e + 1];
        g->adj[g->start[a] + fill[a]++] = b;
        g->adj[g->start[b] + fill[b]++] = a;
    }
    free(fill);
    free(ends);
    return 0;
}

struct flood {
    const struct graph *g;
    uint32_t *seen, *depth, *from, *queue, *load;
    double *at; /* virtual ms at which the query first reached the node */
    uint64_t seed;
    uint32_t stamp;
};

/* Floods one query from `origin` up to `ttl` hops: every node forwards it
 * once, to all its neighbours but the one it came from. Returns the hops at
 * which `holder` first got it (UINT32_MAX if never) and adds the messages to
 * *msgs. Forwarding goes on after the holder is found: a flood cannot know. */
static uint32_t flood_one(struct flood *f, uint32_t origin, uint32_t holder, uint32_t ttl,
                          uint64_t *msgs)
{
    const struct graph *g = f->g;
    uint32_t head = 0, tail = 0, found = origin == holder ? 0 : UINT32_MAX;
    f->stamp++;
    f->seen[origin] = f->stamp;
    f->depth[origin] = 0;
    f->from[origin] = UINT32_MAX;
    f->at[origin] = 0;
    f->queue[tail++] = origin;
    while (head < tail) {
        uint32_t u = f->queue[head++];
        if (f->depth[u] >= ttl)
            continue;
        for (uint32_t e = g->start[u]; e < g->start[u + 1]; e++) {
            uint32_t v = g->adj[e];
            if (v == f->from[u])
                continue;
            (*msgs)++;
            f->load[v]++;
            if (f->seen[v] == f->stamp)
                continue; /* a duplicate: received, dropped */
            f->seen[v] = f->stamp;
            f->depth[v] = f->depth[u] + 1;
            f->from[v] = u;
            f->at[v] = f->at[u] + rill__dht_sim_rtt(f->seed, u, v) / 2.0;
            f->queue[tail++] = v;
            if (v == holder && found == UINT32_MAX)
                found = f->depth[v];
        }
    }
    return found;
}

static int flood_run(struct flood *f, uint32_t lookups, uint64_t seed, struct rill_rng *rng,
                     struct rill_dht_sim_cost *out)
{
    uint32_t n = f->g->n;
    /* Enough hops to reach all of a random graph of this degree. */
    uint32_t ttl = (uint32_t)ceil(log((double)n) / log(2.0 * RILL_DHT_SIM_FLOOD_DEGREE - 1)) + 2;
    uint32_t *hops = malloc(lookups * sizeof *hops);
    if (!hops)
        return RILL_ENOMEM;
    uint32_t ok = 0;
    uint64_t msgs = 0;
    double lat = 0;
    for (uint32_t i = 0; i < lookups; i++) {
        uint32_t origin = (uint32_t)rill_rng_below(rng, n);
        uint32_t holder = (uint32_t)rill_rng_below(rng, n);
        uint32_t h = flood_one(f, origin, holder, ttl, &msgs);
        if (h != UINT32_MAX) {
            hops[ok++] = h;
            /* Relayed there, answered straight back. */
            lat += f->at[holder] + rill__dht_sim_rtt(seed, origin, holder) / 2.0;
        }
    }
    rill__dht_sim_cost_fill(out, lookups, &(struct rill__dht_sim_tally){hops, ok, msgs, ok, lat},
                            f->load, n);
    free(hops);
    return 0;
}

int rill__dht_sim_cost_flood(uint32_t nodes, uint32_t lookups, uint64_t seed,
                             struct rill_dht_sim_cost *out)
{
    struct rill_rng rng;
    rill_rng_seed(&rng, seed);
    struct graph g = {0};
    int rc = graph_make(&g, nodes, &rng);
    if (rc < 0)
        return rc;
    struct flood f = {.g = &g, .seed = seed};
    f.at = calloc(nodes, sizeof *f.at);
    f.seen = calloc(nodes, sizeof *f.seen);
    f.depth = calloc(nodes, sizeof *f.depth);
    f.from = calloc(nodes, sizeof *f.from);
    f.queue = calloc(nodes, sizeof *f.queue);
    f.load = calloc(nodes, sizeof *f.load);
    rc = RILL_ENOMEM;
    if (f.at && f.seen && f.depth && f.from && f.queue && f.load)
        rc = flood_run(&f,
                       lookups < RILL_DHT_SIM_FLOOD_LOOKUPS ? lookups : RILL_DHT_SIM_FLOOD_LOOKUPS,
                       seed, &rng, out);
    free(f.at);
    free(f.seen);
    free(f.depth);
    free(f.from);
    free(f.queue);
    free(f.load);
    graph_free(&g);
    return rc;
}
