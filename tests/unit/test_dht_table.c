#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dht_table.h"

#define T0 UINT64_C(1000000)
#define MIN_MS UINT64_C(60000)

/* An id of zeros with bit `bit` (0 = most significant) set and a tag in the
 * last two bytes, so it shares exactly `bit` leading bits with a zero id. */
static void id_bit(uint8_t id[20], unsigned bit, uint16_t tag)
{
    memset(id, 0, 20);
    id[18] = (uint8_t)(tag >> 8);
    id[19] = (uint8_t)tag;
    id[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
}

static struct rill_krpc_node mk(const uint8_t id[20], uint32_t ip, uint16_t port)
{
    struct rill_krpc_node n;
    memset(&n, 0, sizeof n);
    memcpy(n.id, id, 20);
    n.addr[0] = (uint8_t)(ip >> 24);
    n.addr[1] = (uint8_t)(ip >> 16);
    n.addr[2] = (uint8_t)(ip >> 8);
    n.addr[3] = (uint8_t)ip;
    n.port = port;
    return n;
}

/* Checks the table's invariants: each node in the bucket its prefix
 * length says, counts add up, no id twice. */
static void check_table(const struct rill_dht_table *t)
{
    size_t total = 0;
    for (size_t bi = 0; bi < t->n_buckets; bi++) {
        const struct rill_dht_bucket *b = &t->b[bi];
        assert_true(b->n_nodes <= RILL_DHT_K);
        assert_true(b->n_repl <= RILL_DHT_REPL);
        for (size_t i = 0; i < (size_t)b->n_nodes + b->n_repl; i++) {
            const struct rill_dht_node *n =
                i < b->n_nodes ? &b->nodes[i] : &b->repl[i - b->n_nodes];
            unsigned cpl = rill_dht_id_common_prefix(t->own, n->id);
            if (bi + 1 < t->n_buckets)
                assert_int_equal(cpl, bi);
            else
                assert_true(cpl >= bi && cpl < 160);
            for (size_t j = 0; j < i; j++) {
                const struct rill_dht_node *m =
                    j < b->n_nodes ? &b->nodes[j] : &b->repl[j - b->n_nodes];
                assert_memory_not_equal(m->id, n->id, 20);
            }
        }
        total += b->n_nodes;
    }
    assert_int_equal(total, rill_dht_table_nodes(t));
}

static void test_helpers(void **state)
{
    (void)state;
    uint8_t a[20], b[20], z[20] = {0};
    memset(a, 0xAB, 20);
    memcpy(b, a, 20);
    assert_int_equal(rill_dht_id_common_prefix(a, b), 160);
    b[19] ^= 1;
    assert_int_equal(rill_dht_id_common_prefix(a, b), 159);
    b[19] ^= 1;
    b[1] ^= 0x80;
    assert_int_equal(rill_dht_id_common_prefix(a, b), 8);
    b[0] ^= 0x10;
    assert_int_equal(rill_dht_id_common_prefix(a, b), 3);
    id_bit(a, 0, 0);
    assert_int_equal(rill_dht_id_common_prefix(a, z), 0);

    /* Distance is XOR, not numeric difference: 0x40.. is nearer to 0x7F..
     * than 0x80.. although 0x80.. is numerically closer. */
    uint8_t t[20] = {0x7F}, x[20] = {0x40}, y[20] = {0x80};
    assert_true(rill_dht_id_distance_cmp(t, x, y) < 0);
    assert_true(rill_dht_id_distance_cmp(t, y, x) > 0);
    assert_int_equal(rill_dht_id_distance_cmp(t, x, x), 0);
    id_bit(x, 159, 0);
    id_bit(y, 100, 0);
    assert_true(rill_dht_id_distance_cmp(z, x, y) < 0);
}

static void test_ignored(void **state)
{
    (void)state;
    struct rill_dht_table t;
    uint8_t own[20], id[20];
    memset(own, 0x55, 20);
    assert_int_equal(rill_dht_table_init(&t, own, 6, T0), RILL_EINVAL);
    assert_int_equal(rill_dht_table_init(&t, own, 4, T0), 0);
    struct rill_krpc_node n = mk(own, 0x01020304, 6881);
    assert_int_equal(rill_dht_table_heard(&t, &n, T0, true, NULL), RILL_DHT_IGNORED);
    id_bit(id, 3, 1);
    n = mk(id, 0x01020304, 0);
    assert_int_equal(rill_dht_table_heard(&t, &n, T0, true, NULL), RILL_DHT_IGNORED);
    n.port = 6881;
    assert_int_equal(rill_dht_table_heard(&t, &n, T0, false, NULL), RILL_DHT_ADDED);
    assert_int_equal(rill_dht_table_heard(&t, &n, T0 + 5, true, NULL), RILL_DHT_UPDATED);
    struct rill_krpc_node other = mk(id, 0x05060708, 6881); /* id claimed elsewhere */
    assert_int_equal(rill_dht_table_heard(&t, &other, T0, true, NULL), RILL_DHT_IGNORED);
    other = mk(id, 0x01020304, 6882);
    assert_int_equal(rill_dht_table_heard(&t, &other, T0, true, NULL), RILL_DHT_IGNORED);
    assert_int_equal(rill_dht_table_nodes(&t), 1);
    const struct rill_dht_node *f = rill_dht_table_find(&t, id);
    assert_non_null(f);
    assert_int_equal(f->last_reply_ms, T0 + 5);
    assert_null(rill_dht_table_find(&t, own));
    check_table(&t);
    rill_dht_table_free(&t);
}

/* Own id zero. Eight far nodes (bit 0 set) fill the only bucket; the ninth
 * splits it; near nodes then split the own side repeatedly while the far
 * bucket stays at K and newcomers there go to the cache. */
static void test_split(void **state)
{
    (void)state;
    struct rill_dht_table t;
    uint8_t own[20] = {0}, id[20];
    assert_int_equal(rill_dht_table_init(&t, own, 4, T0), 0);
    for (uint16_t i = 0; i < 8; i++) {
        id_bit(id, 0, i);
        struct rill_krpc_node n = mk(id, 0x0A000000u + i, 1000);
        assert_int_equal(rill_dht_table_heard(&t, &n, T0 + i, true, NULL), RILL_DHT_ADDED);
    }
    assert_int_equal(rill_dht_table_buckets(&t), 1);
    id_bit(id, 0, 100);
    struct rill_krpc_node far = mk(id, 0x0A000064u, 1000);
    /* Splits once (all eight are far), then the far bucket is full of good
     * nodes and no longer the last: cached, nothing to ping. */
    assert_int_equal(rill_dht_table_heard(&t, &far, T0 + 10, true, NULL), RILL_DHT_CACHED);
    assert_int_equal(rill_dht_table_buckets(&t), 2);
    assert_int_equal(t.b[0].n_nodes, 8);
    assert_int_equal(t.b[0].n_repl, 1);
    /* Near nodes: two per prefix length 1..20 fill the own side. */
    for (uint16_t i = 0; i < 40; i++) {
        id_bit(id, 1u + i / 2u, i);
        struct rill_krpc_node n = mk(id, 0x0B000000u + i, 1000);
        assert_int_equal(rill_dht_table_heard(&t, &n, T0 + 20, true, NULL), RILL_DHT_ADDED);
        check_table(&t);
    }
    assert_int_equal(t.b[0].n_nodes, 8);
    assert_int_equal(rill_dht_table_nodes(&t), 48);
    /* Buckets 1..k each hold two, the last holds the rest (< K + 1). */
    assert_true(rill_dht_table_buckets(&t) >= 17 && rill_dht_table_buckets(&t) <= 21);
    assert_int_equal(t.b[1].n_nodes, 2);
    assert_int_equal(t.b[5].n_nodes, 2);

    /* 15 minutes later the far nodes are questionable: a newcomer is cached
     * and the least recently seen far node (tag 0) is to be pinged. */
    uint64_t later = T0 + 15 * MIN_MS + 1;
    struct rill_krpc_node ping;
    id_bit(id, 0, 101);
    far = mk(id, 0x0A000065u, 1000);
    assert_int_equal(rill_dht_table_heard(&t, &far, later, false, &ping), RILL_DHT_PING);
    uint8_t first[20];
    id_bit(first, 0, 0);
    assert_memory_equal(ping.id, first, 20);
    assert_int_equal(ping.addr[0], 0x0A);
    assert_int_equal(ping.port, 1000);
    /* Within the ping gap a second newcomer is only cached. */
    id_bit(id, 0, 102);
    far = mk(id, 0x0A000066u, 1000);
    assert_int_equal(rill_dht_table_heard(&t, &far, later + 1, false, &ping), RILL_DHT_CACHED);
    assert_int_equal(t.b[0].n_repl, 3);
    assert_int_equal(t.b[0].n_nodes, 8);
    check_table(&t);
    rill_dht_table_free(&t);
}

static void fill_far(struct rill_dht_table *t, uint64_t now)
{
    uint8_t own[20] = {0}, id[20];
    assert_int_equal(rill_dht_table_init(t, own, 4, now), 0);
    for (uint16_t i = 0; i < 8; i++) {
        id_bit(id, 0, i);
        struct rill_krpc_node n = mk(id, 0x0A000000u + i, 1000);
        assert_int_equal(rill_dht_table_heard(t, &n, now, true, NULL), RILL_DHT_ADDED);
    }
    id_bit(id, 1, 0); /* one near node forces the split */
    struct rill_krpc_node n = mk(id, 0x0B000000u, 1000);
    assert_int_equal(rill_dht_table_heard(t, &n, now, true, NULL), RILL_DHT_ADDED);
    assert_int_equal(rill_dht_table_buckets(t), 2);
}

static void test_failed_replaced_from_cache(void **state)
{
    (void)state;
    struct rill_dht_table t;
    uint8_t id[20], victim[20], unknown[20];
    fill_far(&t, T0);
    /* Two newcomers in the cache; tag 7 fails twice and the newest (21)
     * takes its place. */
    for (uint16_t i = 20; i < 22; i++) {
        id_bit(id, 0, i);
        struct rill_krpc_node n = mk(id, 0x0C000000u + i, 1000);
        assert_int_equal(rill_dht_table_heard(&t, &n, T0 + 1, false, NULL), RILL_DHT_CACHED);
    }
    id_bit(victim, 0, 7);
    assert_int_equal(rill_dht_table_failed(&t, victim, T0 + 2), 0);
    assert_non_null(rill_dht_table_find(&t, victim));
    assert_int_equal(rill_dht_table_failed(&t, victim, T0 + 3), 1);
    assert_null(rill_dht_table_find(&t, victim));
    id_bit(id, 0, 21);
    assert_non_null(rill_dht_table_find(&t, id));
    assert_int_equal(t.b[0].n_repl, 1);
    assert_int_equal(rill_dht_table_nodes(&t), 9);
    /* A reply resets the count: fail, reply, fail leaves the node good. */
    id_bit(victim, 0, 6);
    assert_int_equal(rill_dht_table_failed(&t, victim, T0 + 4), 0);
    struct rill_krpc_node v = mk(victim, 0x0A000006u, 1000);
    assert_int_equal(rill_dht_table_heard(&t, &v, T0 + 5, true, NULL), RILL_DHT_UPDATED);
    assert_int_equal(rill_dht_table_failed(&t, victim, T0 + 6), 0);
    assert_int_equal(rill_dht_node_state(&t, rill_dht_table_find(&t, victim), T0 + 6),
                     RILL_DHT_GOOD);
    /* A cache entry that times out twice leaves the cache. */
    id_bit(id, 0, 20);
    assert_int_equal(rill_dht_table_failed(&t, id, T0 + 7), 0);
    assert_int_equal(rill_dht_table_failed(&t, id, T0 + 8), 1);
    assert_int_equal(t.b[0].n_repl, 0);
    id_bit(unknown, 0, 999);
    assert_int_equal(rill_dht_table_failed(&t, unknown, T0 + 9), RILL_ENOENT);
    check_table(&t);
    rill_dht_table_free(&t);
}

/* With an empty cache a bad node stays (excluded from closest()) until a
 * newcomer takes its slot. */
static void test_bad_replaced_by_newcomer(void **state)
{
    (void)state;
    struct rill_dht_table t;
    uint8_t id[20], bad[20];
    struct rill_krpc_node out[16];
    fill_far(&t, T0);
    id_bit(bad, 0, 3);
    assert_int_equal(rill_dht_table_failed(&t, bad, T0 + 1), 0);
    assert_int_equal(rill_dht_table_failed(&t, bad, T0 + 2), 0);
    assert_int_equal(rill_dht_node_state(&t, rill_dht_table_find(&t, bad), T0 + 2), RILL_DHT_BAD);
    assert_int_equal(rill_dht_table_closest(&t, bad, out, 16, T0 + 2), 8);
    for (size_t i = 0; i < 8; i++)
        assert_memory_not_equal(out[i].id, bad, 20);
    id_bit(id, 0, 50);
    struct rill_krpc_node n = mk(id, 0x0D000000u, 1000);
    assert_int_equal(rill_dht_table_heard(&t, &n, T0 + 3, false, NULL), RILL_DHT_ADDED);
    assert_null(rill_dht_table_find(&t, bad));
    assert_non_null(rill_dht_table_find(&t, id));
    assert_int_equal(rill_dht_table_nodes(&t), 9);
    check_table(&t);
    rill_dht_table_free(&t);
}

static const uint8_t *g_target;

static int by_distance(const void *a, const void *b)
{
    return rill_dht_id_distance_cmp(g_target, a, b);
}

/* Random ids into a table, then closest() against a brute-force sort of
 * every id the buckets hold. */
static void test_closest_brute_force(void **state)
{
    (void)state;
    struct rill_rng rng;
    rill_rng_seed(&rng, 42);
    struct rill_dht_table t;
    uint8_t own[20], id[20];
    rill_rng_bytes(&rng, own, 20);
    assert_int_equal(rill_dht_table_init(&t, own, 16, T0), 0);
    for (uint32_t i = 0; i < 400; i++) {
        rill_rng_bytes(&rng, id, 20);
        struct rill_krpc_node n = mk(id, i, (uint16_t)(1 + i));
        int rc = rill_dht_table_heard(&t, &n, T0 + i, i % 3 != 0, NULL);
        assert_true(rc >= RILL_DHT_ADDED && rc <= RILL_DHT_PING);
    }
    check_table(&t);
    size_t total = rill_dht_table_nodes(&t);
    assert_true(total > 40 && total <= RILL_DHT_K * rill_dht_table_buckets(&t));
    uint8_t(*all)[20] = calloc(total, 20);
    assert_non_null(all);
    size_t k = 0;
    for (size_t bi = 0; bi < t.n_buckets; bi++)
        for (size_t i = 0; i < t.b[bi].n_nodes; i++)
            memcpy(all[k++], t.b[bi].nodes[i].id, 20);
    struct rill_krpc_node out[20];
    for (int q = 0; q < 60; q++) {
        uint8_t target[20];
        rill_rng_bytes(&rng, target, 20);
        if (q % 4 == 0)
            memcpy(target, all[q % total], 20); /* an id in the table: distance 0 */
        g_target = target;
        qsort(all, total, 20, by_distance);
        size_t max = q % 2 ? 8 : 20;
        size_t got = rill_dht_table_closest(&t, target, out, max, T0 + 1000);
        assert_int_equal(got, max);
        for (size_t i = 0; i < got; i++)
            assert_memory_equal(out[i].id, all[i], 20);
        /* The address travels with the id. */
        const struct rill_dht_node *f = rill_dht_table_find(&t, out[0].id);
        assert_non_null(f);
        assert_memory_equal(out[0].addr, f->addr, 16);
        assert_int_equal(out[0].port, f->port);
    }
    assert_int_equal(rill_dht_table_closest(&t, own, out, 0, T0), 0);
    free(all);
    rill_dht_table_free(&t);
}

static void test_refresh(void **state)
{
    (void)state;
    struct rill_rng rng;
    rill_rng_seed(&rng, 7);
    struct rill_dht_table t;
    uint8_t target[20];
    fill_far(&t, T0);
    assert_int_equal(rill_dht_table_refresh_deadline(&t), T0 + 15 * MIN_MS);
    assert_int_equal(rill_dht_table_refresh_due(&t, &rng, T0 + 15 * MIN_MS - 1, target), 0);
    /* A reply from a far node at T0 + 5 min keeps bucket 0 fresh. */
    uint8_t id[20];
    id_bit(id, 0, 2);
    struct rill_krpc_node n = mk(id, 0x0A000002u, 1000);
    assert_int_equal(rill_dht_table_heard(&t, &n, T0 + 5 * MIN_MS, true, NULL), RILL_DHT_UPDATED);
    uint64_t now = T0 + 15 * MIN_MS;
    assert_int_equal(rill_dht_table_refresh_due(&t, &rng, now, target), 1);
    /* Bucket 1 (the last, own side: prefix >= 1 with a zero id). */
    assert_true(rill_dht_id_common_prefix(t.own, target) >= 1);
    assert_int_equal(rill_dht_table_refresh_due(&t, &rng, now, target), 0);
    assert_int_equal(rill_dht_table_refresh_deadline(&t), T0 + 20 * MIN_MS);
    now = T0 + 20 * MIN_MS;
    assert_int_equal(rill_dht_table_refresh_due(&t, &rng, now, target), 1);
    assert_int_equal(rill_dht_id_common_prefix(t.own, target), 0);
    rill_dht_table_free(&t);

    /* Targets land in their bucket's range for deep tables too. */
    uint8_t own[20];
    rill_rng_bytes(&rng, own, 20);
    assert_int_equal(rill_dht_table_init(&t, own, 4, T0), 0);
    for (uint32_t i = 0; i < 2000; i++) {
        rill_rng_bytes(&rng, id, 20);
        n = mk(id, i, 7);
        assert_true(rill_dht_table_heard(&t, &n, T0, true, NULL) > 0);
    }
    for (size_t bi = 0; bi < t.n_buckets; bi++) {
        assert_int_equal(rill_dht_table_refresh_due(&t, &rng, T0 + 15 * MIN_MS, target), 1);
        unsigned cpl = rill_dht_id_common_prefix(own, target);
        if (bi + 1 < t.n_buckets)
            assert_int_equal(cpl, bi);
        else
            assert_true(cpl >= bi);
    }
    assert_int_equal(rill_dht_table_refresh_due(&t, &rng, T0 + 15 * MIN_MS, target), 0);
    rill_dht_table_free(&t);
}

/* Same seed, same events: byte-identical tables and refresh targets. */
static void build_random(struct rill_dht_table *t, uint64_t seed, uint8_t target[20])
{
    struct rill_rng rng;
    rill_rng_seed(&rng, seed);
    uint8_t own[20], id[20];
    rill_rng_bytes(&rng, own, 20);
    assert_int_equal(rill_dht_table_init(t, own, 4, T0), 0);
    for (uint32_t i = 0; i < 500; i++) {
        rill_rng_bytes(&rng, id, 20);
        struct rill_krpc_node n = mk(id, i, 7);
        uint64_t now = T0 + i * 10000u;
        assert_true(rill_dht_table_heard(t, &n, now, rill_rng_below(&rng, 2), NULL) > 0);
        if (rill_rng_below(&rng, 4) == 0)
            (void)rill_dht_table_failed(t, t->b[rill_rng_below(&rng, t->n_buckets)].nodes[0].id,
                                        now);
    }
    check_table(t);
    assert_int_equal(rill_dht_table_refresh_due(t, &rng, T0 + 500 * 10000u, target), 1);
}

static void test_determinism(void **state)
{
    (void)state;
    struct rill_dht_table a, b;
    uint8_t ta[20], tb[20];
    build_random(&a, 99, ta);
    build_random(&b, 99, tb);
    assert_int_equal(a.n_buckets, b.n_buckets);
    assert_int_equal(a.n_nodes, b.n_nodes);
    assert_memory_equal(a.b, b.b, a.n_buckets * sizeof a.b[0]);
    assert_memory_equal(ta, tb, 20);
    rill_dht_table_free(&a);
    rill_dht_table_free(&b);
}

/* Memory of a table that has heard every node of a 10,000-node network:
 * the most buckets such a node gets. */
static void test_memory_bound(void **state)
{
    (void)state;
    struct rill_rng rng;
    rill_rng_seed(&rng, 2024);
    struct rill_dht_table t;
    uint8_t own[20], id[20];
    rill_rng_bytes(&rng, own, 20);
    assert_int_equal(rill_dht_table_init(&t, own, 4, T0), 0);
    for (uint32_t i = 0; i < 10000; i++) {
        rill_rng_bytes(&rng, id, 20);
        struct rill_krpc_node n = mk(id, i, 7);
        assert_true(rill_dht_table_heard(&t, &n, T0, true, NULL) > 0);
    }
    check_table(&t);
    printf("# 10,000-node network: %zu buckets, %zu nodes, %zu bytes (%zu per bucket)\n",
           rill_dht_table_buckets(&t), rill_dht_table_nodes(&t), rill_dht_table_bytes(&t),
           sizeof t.b[0]);
    assert_true(rill_dht_table_buckets(&t) <= 20);
    assert_true(rill_dht_table_bytes(&t) <= 20 * 1024);
    rill_dht_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_helpers),
        cmocka_unit_test(test_ignored),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_failed_replaced_from_cache),
        cmocka_unit_test(test_bad_replaced_by_newcomer),
        cmocka_unit_test(test_closest_brute_force),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_memory_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
