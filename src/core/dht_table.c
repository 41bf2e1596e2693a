/* The DHT routing table: see dht_table.h for the layout and the contract.
 * Every operation touches one bucket (O(K + REPL)) except closest() and the
 * refresh scan, which walk the few buckets a real table has. */
#include <stdlib.h>
#include <string.h>

#include "core/dht_table.h"

#define ID_LEN RILL_KRPC_ID_LEN

int rill_dht_id_distance_cmp(const uint8_t target[ID_LEN], const uint8_t a[ID_LEN],
                             const uint8_t b[ID_LEN])
{
    for (size_t i = 0; i < ID_LEN; i++) {
        uint8_t da = (uint8_t)(a[i] ^ target[i]), db = (uint8_t)(b[i] ^ target[i]);
        if (da != db)
            return da < db ? -1 : 1;
    }
    return 0;
}

unsigned rill_dht_id_common_prefix(const uint8_t a[ID_LEN], const uint8_t b[ID_LEN])
{
    for (size_t i = 0; i < ID_LEN; i++) {
        uint8_t x = (uint8_t)(a[i] ^ b[i]);
        if (x) {
            unsigned n = 0;
            while (!(x & 0x80u)) {
                x = (uint8_t)(x << 1);
                n++;
            }
            return (unsigned)(i * 8) + n;
        }
    }
    return ID_LEN * 8;
}

static void bucket_reset(struct rill_dht_bucket *b, uint64_t now_ms)
{
    memset(b, 0, sizeof *b);
    b->changed_ms = now_ms;
    b->ping_ms = UINT64_MAX;
}

int rill_dht_table_init(struct rill_dht_table *t, const uint8_t own[ID_LEN], unsigned addr_len,
                        uint64_t now_ms)
{
    memset(t, 0, sizeof *t);
    if (addr_len != 4 && addr_len != 16)
        return RILL_EINVAL;
    t->b = malloc(sizeof *t->b);
    if (!t->b)
        return RILL_ENOMEM;
    memcpy(t->own, own, ID_LEN);
    t->addr_len = (uint8_t)addr_len;
    t->fail_limit = RILL_DHT_FAIL_LIMIT;
    t->n_buckets = 1;
    bucket_reset(&t->b[0], now_ms);
    return 0;
}

void rill_dht_table_free(struct rill_dht_table *t)
{
    free(t->b);
    memset(t, 0, sizeof *t);
}

enum rill_dht_state rill_dht_node_state(const struct rill_dht_table *t,
                                        const struct rill_dht_node *n, uint64_t now_ms)
{
    if (n->fails >= t->fail_limit)
        return RILL_DHT_BAD;
    /* last_seen_ms covers replies too, so "replied within 15 min" and "ever
     * replied and queried us within 15 min" are one test. */
    if ((n->flags & RILL_DHT_NODE_REPLIED) && now_ms < n->last_seen_ms + RILL_DHT_STALE_MS)
        return RILL_DHT_GOOD;
    return RILL_DHT_QUESTIONABLE;
}

static size_t bucket_of(const struct rill_dht_table *t, const uint8_t id[ID_LEN])
{
    size_t cpl = rill_dht_id_common_prefix(t->own, id);
    return cpl < t->n_buckets ? cpl : (size_t)t->n_buckets - 1;
}

static int find_id(const struct rill_dht_node *v, size_t n, const uint8_t id[ID_LEN])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(v[i].id, id, ID_LEN) == 0)
            return (int)i;
    return -1;
}

static bool same_addr(const struct rill_dht_table *t, const struct rill_dht_node *n,
                      const struct rill_krpc_node *k)
{
    return n->port == k->port && memcmp(n->addr, k->addr, t->addr_len) == 0;
}

static void touch(struct rill_dht_node *n, uint64_t now_ms, bool replied)
{
    n->last_seen_ms = now_ms;
    if (replied) {
        n->last_reply_ms = now_ms;
        n->fails = 0;
        n->flags |= RILL_DHT_NODE_REPLIED;
    }
}

static void cache_remove(struct rill_dht_bucket *b, size_t i)
{
    memmove(&b->repl[i], &b->repl[i + 1], (b->n_repl - i - 1) * sizeof b->repl[0]);
    b->n_repl--;
}

/* Appends to the cache as its newest entry; a full cache drops its oldest. */
static void cache_push(struct rill_dht_bucket *b, const struct rill_dht_node *n)
{
    if (b->n_repl == RILL_DHT_REPL)
        cache_remove(b, 0);
    b->repl[b->n_repl++] = *n;
}

/* Puts n into b's live nodes if there is room; false when full. */
static bool bucket_add(struct rill_dht_table *t, struct rill_dht_bucket *b,
                       const struct rill_dht_node *n, uint64_t now_ms)
{
    if (b->n_nodes == RILL_DHT_K)
        return false;
    b->nodes[b->n_nodes++] = *n;
    b->changed_ms = now_ms;
    t->n_nodes++;
    return true;
}

/* Splits the last bucket: the nodes sharing more than n_buckets - 1 bits
 * with us move to a new last bucket; cache entries fill free slots of their
 * bucket first. Invalidates bucket pointers. */
static int split_last(struct rill_dht_table *t, uint64_t now_ms)
{
    size_t nb = t->n_buckets;
    struct rill_dht_bucket *nbuf = realloc(t->b, (nb + 1) * sizeof *nbuf);
    if (!nbuf)
        return RILL_ENOMEM;
    t->b = nbuf;
    struct rill_dht_bucket old = nbuf[nb - 1];
    bucket_reset(&nbuf[nb - 1], old.changed_ms);
    nbuf[nb - 1].ping_ms = old.ping_ms;
    bucket_reset(&nbuf[nb], now_ms);
    t->n_buckets = (uint16_t)(nb + 1);
    t->n_nodes -= old.n_nodes;
    for (size_t i = 0; i < old.n_nodes; i++) {
        struct rill_dht_bucket *b = &nbuf[bucket_of(t, old.nodes[i].id)];
        uint64_t keep = b->changed_ms;
        bucket_add(t, b, &old.nodes[i], now_ms); /* a half of K always has room */
        b->changed_ms = keep;                    /* moving is not a change of contents */
    }
    for (size_t i = 0; i < old.n_repl; i++) {
        struct rill_dht_bucket *b = &nbuf[bucket_of(t, old.repl[i].id)];
        if (!bucket_add(t, b, &old.repl[i], now_ms))
            cache_push(b, &old.repl[i]);
    }
    return 0;
}

/* The least recently seen questionable node of b, or -1. */
static int oldest_questionable(const struct rill_dht_table *t, const struct rill_dht_bucket *b,
                               uint64_t now_ms)
{
    int best = -1;
    for (size_t i = 0; i < b->n_nodes; i++) {
        if (rill_dht_node_state(t, &b->nodes[i], now_ms) != RILL_DHT_QUESTIONABLE)
            continue;
        if (best < 0 || b->nodes[i].last_seen_ms < b->nodes[best].last_seen_ms)
            best = (int)i;
    }
    return best;
}

static void to_krpc(const struct rill_dht_node *n, struct rill_krpc_node *out)
{
    memcpy(out->id, n->id, ID_LEN);
    memcpy(out->addr, n->addr, sizeof out->addr);
    out->port = n->port;
}

/* Finds n (not in any bucket or cache) a place: a free slot, a split, a bad
 * node's slot, or the cache with maybe a ping decision. */
static int place(struct rill_dht_table *t, const struct rill_dht_node *n, uint64_t now_ms,
                 struct rill_krpc_node *ping)
{
    size_t bi = bucket_of(t, n->id);
    while (t->b[bi].n_nodes == RILL_DHT_K && bi == (size_t)t->n_buckets - 1 &&
           t->n_buckets < RILL_DHT_BUCKETS_MAX) {
        int rc = split_last(t, now_ms);
        if (rc < 0)
            return rc;
        bi = bucket_of(t, n->id);
    }
    struct rill_dht_bucket *b = &t->b[bi];
    if (bucket_add(t, b, n, now_ms))
        return RILL_DHT_ADDED;
    for (size_t i = 0; i < b->n_nodes; i++) {
        if (rill_dht_node_state(t, &b->nodes[i], now_ms) == RILL_DHT_BAD) {
            b->nodes[i] = *n;
            b->changed_ms = now_ms;
            return RILL_DHT_ADDED;
        }
    }
    cache_push(b, n);
    int q = oldest_questionable(t, b, now_ms);
    if (q < 0 || (b->ping_ms != UINT64_MAX && now_ms < b->ping_ms + RILL_DHT_PING_GAP_MS))
        return RILL_DHT_CACHED;
    b->ping_ms = now_ms;
    if (ping)
        to_krpc(&b->nodes[q], ping);
    return RILL_DHT_PING;
}

int rill_dht_table_heard(struct rill_dht_table *t, const struct rill_krpc_node *node,
                         uint64_t now_ms, bool replied, struct rill_krpc_node *ping)
{
    if (node->port == 0 || memcmp(node->id, t->own, ID_LEN) == 0)
        return RILL_DHT_IGNORED;
    struct rill_dht_bucket *b = &t->b[bucket_of(t, node->id)];
    int i = find_id(b->nodes, b->n_nodes, node->id);
    if (i >= 0) {
        if (!same_addr(t, &b->nodes[i], node))
            return RILL_DHT_IGNORED;
        touch(&b->nodes[i], now_ms, replied);
        if (replied)
            b->changed_ms = now_ms;
        return RILL_DHT_UPDATED;
    }
    struct rill_dht_node n;
    i = find_id(b->repl, b->n_repl, node->id);
    if (i >= 0) {
        if (!same_addr(t, &b->repl[i], node))
            return RILL_DHT_IGNORED;
        n = b->repl[i];
        cache_remove(b, (size_t)i);
    } else {
        memset(&n, 0, sizeof n);
        memcpy(n.id, node->id, ID_LEN);
        memcpy(n.addr, node->addr, t->addr_len);
        n.port = node->port;
    }
    touch(&n, now_ms, replied);
    int rc = place(t, &n, now_ms, ping);
    if (rc < 0 && i >= 0) /* the split failed: put the cache entry back */
        cache_push(&t->b[bucket_of(t, n.id)], &n);
    if (i >= 0 && (rc == RILL_DHT_CACHED || rc == RILL_DHT_PING))
        return rc == RILL_DHT_PING ? rc : RILL_DHT_UPDATED;
    return rc;
}

int rill_dht_table_failed(struct rill_dht_table *t, const uint8_t id[ID_LEN], uint64_t now_ms)
{
    struct rill_dht_bucket *b = &t->b[bucket_of(t, id)];
    int i = find_id(b->nodes, b->n_nodes, id);
    if (i >= 0) {
        struct rill_dht_node *n = &b->nodes[i];
        if (n->fails < UINT8_MAX)
            n->fails++;
        if (rill_dht_node_state(t, n, now_ms) != RILL_DHT_BAD || b->n_repl == 0)
            return 0; /* a bad node without a replacement waits for a newcomer */
        *n = b->repl[b->n_repl - 1];
        b->n_repl--;
        b->changed_ms = now_ms;
        return 1;
    }
    i = find_id(b->repl, b->n_repl, id);
    if (i < 0)
        return RILL_ENOENT;
    if (++b->repl[i].fails < t->fail_limit)
        return 0;
    cache_remove(b, (size_t)i);
    return 1;
}

size_t rill_dht_table_closest(const struct rill_dht_table *t, const uint8_t target[ID_LEN],
                              struct rill_krpc_node *out, size_t max, uint64_t now_ms)
{
    size_t n = 0;
    for (size_t bi = 0; bi < t->n_buckets; bi++) {
        const struct rill_dht_bucket *b = &t->b[bi];
        for (size_t i = 0; i < b->n_nodes; i++) {
            const struct rill_dht_node *c = &b->nodes[i];
            if (rill_dht_node_state(t, c, now_ms) == RILL_DHT_BAD)
                continue;
            /* Insertion into the sorted prefix out[0..n). */
            size_t j = n;
            while (j > 0 && rill_dht_id_distance_cmp(target, c->id, out[j - 1].id) < 0)
                j--;
            if (j >= max)
                continue;
            size_t end = n < max ? n : max - 1;
            memmove(&out[j + 1], &out[j], (end - j) * sizeof out[0]);
            to_krpc(c, &out[j]);
            if (n < max)
                n++;
        }
    }
    return n;
}

/* A random id in bucket bi's range: our first bi bits, then (unless bi is
 * the last bucket) the opposite of our bit bi, then random bits. */
static void random_in_bucket(const struct rill_dht_table *t, size_t bi, struct rill_rng *rng,
                             uint8_t target[ID_LEN])
{
    rill_rng_bytes(rng, target, ID_LEN);
    size_t full = bi / 8, rem = bi % 8;
    memcpy(target, t->own, full);
    if (full < ID_LEN && rem) {
        uint8_t mask = (uint8_t)(0xFFu << (8 - rem));
        target[full] = (uint8_t)((t->own[full] & mask) | (target[full] & ~mask));
    }
    if (bi + 1 < t->n_buckets) {
        uint8_t bit = (uint8_t)(0x80u >> rem);
        target[full] = (uint8_t)((target[full] & ~bit) | (~t->own[full] & bit));
    }
}

int rill_dht_table_refresh_due(struct rill_dht_table *t, struct rill_rng *rng, uint64_t now_ms,
                               uint8_t target[ID_LEN])
{
    for (size_t bi = 0; bi < t->n_buckets; bi++) {
        struct rill_dht_bucket *b = &t->b[bi];
        if (now_ms < b->changed_ms + RILL_DHT_STALE_MS)
            continue;
        random_in_bucket(t, bi, rng, target);
        b->changed_ms = now_ms;
        return 1;
    }
    return 0;
}

size_t rill_dht_table_join_targets(const struct rill_dht_table *t, struct rill_rng *rng,
                                   uint8_t (*out)[ID_LEN], size_t max)
{
    size_t n = 0;
    for (size_t bi = 0; bi + 1 < t->n_buckets && n < max; bi++)
        random_in_bucket(t, bi, rng, out[n++]);
    return n;
}

uint64_t rill_dht_table_refresh_deadline(const struct rill_dht_table *t)
{
    uint64_t min = UINT64_MAX;
    for (size_t bi = 0; bi < t->n_buckets; bi++)
        if (t->b[bi].changed_ms < min)
            min = t->b[bi].changed_ms;
    return min + RILL_DHT_STALE_MS;
}

const struct rill_dht_node *rill_dht_table_find(const struct rill_dht_table *t,
                                                const uint8_t id[ID_LEN])
{
    const struct rill_dht_bucket *b = &t->b[bucket_of(t, id)];
    int i = find_id(b->nodes, b->n_nodes, id);
    return i >= 0 ? &b->nodes[i] : NULL;
}
