#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dht_store.h"

#define T0 UINT64_C(1000000)
#define MIN_MS UINT64_C(60000)
#define TTL RILL_DHT_PEER_TTL_MS

static const uint8_t IP4[4] = {1, 2, 3, 4};
static const uint8_t IP6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static void secret_of(uint8_t s[RILL_DHT_SECRET_LEN], uint8_t base)
{
    for (size_t i = 0; i < RILL_DHT_SECRET_LEN; i++)
        s[i] = (uint8_t)(base + i);
}

static struct rill_krpc_peer peer4(uint32_t ip, uint16_t port)
{
    struct rill_krpc_peer p;
    memset(&p, 0, sizeof p);
    p.addr[0] = (uint8_t)(ip >> 24);
    p.addr[1] = (uint8_t)(ip >> 16);
    p.addr[2] = (uint8_t)(ip >> 8);
    p.addr[3] = (uint8_t)ip;
    p.addr_len = 4;
    p.port = port;
    return p;
}

static struct rill_krpc_peer peer6(uint32_t tag, uint16_t port)
{
    struct rill_krpc_peer p = peer4(tag, port);
    memcpy(p.addr + 12, p.addr, 4);
    memcpy(p.addr, IP6, 12);
    p.addr_len = 16;
    return p;
}

static void ih_of(uint8_t ih[20], uint32_t n)
{
    memset(ih, 0xab, 20);
    ih[0] = (uint8_t)(n >> 24);
    ih[1] = (uint8_t)(n >> 16);
    ih[2] = (uint8_t)(n >> 8);
    ih[3] = (uint8_t)n;
}

static bool same_peer(const struct rill_krpc_peer *a, const struct rill_krpc_peer *b)
{
    return a->addr_len == b->addr_len && a->port == b->port &&
           memcmp(a->addr, b->addr, a->addr_len) == 0;
}

/* Every live slot is reachable by lookup, no info-hash twice, counts add up. */
static void check_store(const struct rill_dht_store *s, uint64_t now)
{
    size_t live = 0;
    for (uint32_t i = 0; i <= s->mask; i++) {
        const struct rill_dht_store_entry *e = &s->slots[i];
        if (!e->peers) {
            assert_int_equal(e->n_peers, 0);
            continue;
        }
        live++;
        assert_true(e->n_peers >= 1 && e->n_peers <= e->cap_peers);
        assert_true(e->cap_peers <= s->max_peers);
        for (uint32_t j = 0; j < i; j++)
            if (s->slots[j].peers)
                assert_memory_not_equal(s->slots[j].info_hash, e->info_hash, 20);
        size_t n = 0;
        for (size_t k = 0; k < e->n_peers; k++)
            n += now < e->peers[k].seen_ms + TTL;
        assert_int_equal(rill_dht_store_count(s, e->info_hash, now), n);
    }
    assert_int_equal(live, rill_dht_store_hashes(s));
}

static void test_token_vectors(void **state)
{
    (void)state;
    uint8_t sec[RILL_DHT_SECRET_LEN], tok[RILL_DHT_TOKEN_LEN];
    secret_of(sec, 0);
    struct rill_dht_tokens t;
    rill_dht_tokens_init(&t, sec, T0);
    /* SHA-1(secret || ip)[0..8), from Python's hashlib. */
    assert_int_equal(rill_dht_tokens_make(&t, IP4, 4, tok), 0);
    assert_memory_equal(tok, "\x61\xa0\x27\x96\x02\xd5\xd5\x7d", 8);
    assert_int_equal(rill_dht_tokens_make(&t, IP6, 16, tok), 0);
    assert_memory_equal(tok, "\x37\x90\x90\x96\x7d\x5b\xff\xbb", 8);
    assert_int_equal(rill_dht_tokens_make(&t, IP4, 5, tok), RILL_EINVAL);
    assert_int_equal(rill_dht_tokens_make(&t, IP4, 0, tok), RILL_EINVAL);
}

static void test_token_rotation(void **state)
{
    (void)state;
    uint8_t sec[RILL_DHT_SECRET_LEN], t4[8], t6[8];
    secret_of(sec, 0);
    struct rill_dht_tokens t;
    rill_dht_tokens_init(&t, sec, T0);
    assert_int_equal(rill_dht_tokens_deadline(&t), T0 + RILL_DHT_TOKEN_ROTATE_MS);
    assert_false(rill_dht_tokens_rotate_due(&t, T0 + RILL_DHT_TOKEN_ROTATE_MS - 1));
    assert_true(rill_dht_tokens_rotate_due(&t, T0 + RILL_DHT_TOKEN_ROTATE_MS));
    rill_dht_tokens_make(&t, IP4, 4, t4);
    rill_dht_tokens_make(&t, IP6, 16, t6);
    assert_true(rill_dht_tokens_check(&t, IP4, 4, t4, 8));
    assert_true(rill_dht_tokens_check(&t, IP6, 16, t6, 8));

    /* One rotation: the token now matches the previous secret. */
    uint64_t now = T0 + RILL_DHT_TOKEN_ROTATE_MS;
    secret_of(sec, 100);
    rill_dht_tokens_rotate(&t, now, sec);
    assert_false(rill_dht_tokens_rotate_due(&t, now));
    uint8_t fresh[8];
    rill_dht_tokens_make(&t, IP4, 4, fresh);
    assert_memory_not_equal(fresh, t4, 8);
    assert_true(rill_dht_tokens_check(&t, IP4, 4, t4, 8));
    assert_true(rill_dht_tokens_check(&t, IP4, 4, fresh, 8));
    assert_true(rill_dht_tokens_check(&t, IP6, 16, t6, 8));

    /* Two rotations: the first secret is gone. */
    secret_of(sec, 200);
    rill_dht_tokens_rotate(&t, now + RILL_DHT_TOKEN_ROTATE_MS, sec);
    assert_false(rill_dht_tokens_check(&t, IP4, 4, t4, 8));
    assert_false(rill_dht_tokens_check(&t, IP6, 16, t6, 8));
    assert_true(rill_dht_tokens_check(&t, IP4, 4, fresh, 8));
}

static void test_token_rejects(void **state)
{
    (void)state;
    uint8_t sec[RILL_DHT_SECRET_LEN], tok[8], bad[9];
    secret_of(sec, 7);
    struct rill_dht_tokens t;
    rill_dht_tokens_init(&t, sec, T0);
    rill_dht_tokens_make(&t, IP4, 4, tok);
    uint8_t other4[4] = {1, 2, 3, 5};
    assert_false(rill_dht_tokens_check(&t, other4, 4, tok, 8));
    /* Other family: an IPv6 address starting with the same bytes, and the
     * IPv4-mapped form of the same address. */
    uint8_t v6[16] = {1, 2, 3, 4};
    uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
    assert_false(rill_dht_tokens_check(&t, v6, 16, tok, 8));
    assert_false(rill_dht_tokens_check(&t, mapped, 16, tok, 8));
    assert_false(rill_dht_tokens_check(&t, IP4, 3, tok, 8));
    /* Truncated, empty and over-long tokens. */
    assert_false(rill_dht_tokens_check(&t, IP4, 4, tok, 7));
    assert_false(rill_dht_tokens_check(&t, IP4, 4, tok, 0));
    memcpy(bad, tok, 8);
    bad[8] = 0;
    assert_false(rill_dht_tokens_check(&t, IP4, 4, bad, 9));
    /* Any single flipped bit. */
    for (size_t i = 0; i < 64; i++) {
        memcpy(bad, tok, 8);
        bad[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_false(rill_dht_tokens_check(&t, IP4, 4, bad, 8));
    }
    assert_true(rill_dht_tokens_check(&t, IP4, 4, tok, 8));
}

static void test_store_add_refresh(void **state)
{
    (void)state;
    struct rill_dht_store s;
    uint8_t ih[20], other[20];
    ih_of(ih, 1);
    ih_of(other, 2);
    assert_int_equal(rill_dht_store_init(&s, 0, 8, 1), RILL_EINVAL);
    assert_int_equal(rill_dht_store_init(&s, 8, 0, 1), RILL_EINVAL);
    assert_int_equal(rill_dht_store_init(&s, 8, 70000, 1), RILL_EINVAL);
    assert_int_equal(rill_dht_store_init(&s, 16, 8, 1), 0);

    struct rill_krpc_peer a = peer4(0x0a000001, 6881), b = peer4(0x0a000001, 6882);
    struct rill_krpc_peer c = peer6(7, 6881), out[8];
    assert_int_equal(rill_dht_store_announce(&s, ih, &a, T0), RILL_DHT_STORE_ADDED);
    assert_int_equal(rill_dht_store_announce(&s, ih, &a, T0 + 1), RILL_DHT_STORE_REFRESHED);
    assert_int_equal(rill_dht_store_announce(&s, ih, &b, T0 + 2), RILL_DHT_STORE_ADDED);
    assert_int_equal(rill_dht_store_announce(&s, ih, &c, T0 + 3), RILL_DHT_STORE_ADDED);
    assert_int_equal(rill_dht_store_announce(&s, other, &a, T0 + 4), RILL_DHT_STORE_ADDED);
    assert_int_equal(rill_dht_store_hashes(&s), 2);
    assert_int_equal(rill_dht_store_count(&s, ih, T0 + 5), 3);

    struct rill_krpc_peer bad = a;
    bad.port = 0;
    assert_int_equal(rill_dht_store_announce(&s, ih, &bad, T0), RILL_EINVAL);
    bad = a;
    bad.addr_len = 5;
    assert_int_equal(rill_dht_store_announce(&s, ih, &bad, T0), RILL_EINVAL);

    /* Each family gets only its own peers, in store order (no rng needed). */
    assert_int_equal(rill_dht_store_get(&s, ih, 4, out, 8, NULL, T0 + 5), 2);
    assert_true(same_peer(&out[0], &a) && same_peer(&out[1], &b));
    assert_int_equal(rill_dht_store_get(&s, ih, 16, out, 8, NULL, T0 + 5), 1);
    assert_true(same_peer(&out[0], &c));
    assert_int_equal(rill_dht_store_get(&s, ih, 4, out, 0, NULL, T0 + 5), 0);
    uint8_t none[20];
    ih_of(none, 3);
    assert_int_equal(rill_dht_store_get(&s, none, 4, out, 8, NULL, T0 + 5), 0);
    assert_int_equal(rill_dht_store_count(&s, none, T0 + 5), 0);
    check_store(&s, T0 + 5);
    rill_dht_store_free(&s);
}

static void test_store_expiry(void **state)
{
    (void)state;
    struct rill_dht_store s;
    uint8_t ih[20], ih2[20];
    ih_of(ih, 1);
    ih_of(ih2, 2);
    assert_int_equal(rill_dht_store_init(&s, 16, 8, 1), 0);
    size_t empty = rill_dht_store_bytes(&s);
    struct rill_krpc_peer a = peer4(1, 1), b = peer4(2, 2), out[4];
    rill_dht_store_announce(&s, ih, &a, T0);
    rill_dht_store_announce(&s, ih, &b, T0 + 10 * MIN_MS);
    rill_dht_store_announce(&s, ih2, &a, T0);

    /* Alive one millisecond before 30 minutes, gone at 30 minutes exactly. */
    assert_int_equal(rill_dht_store_get(&s, ih, 4, out, 4, NULL, T0 + TTL - 1), 2);
    assert_int_equal(rill_dht_store_get(&s, ih, 4, out, 4, NULL, T0 + TTL), 1);
    assert_true(same_peer(&out[0], &b));
    assert_int_equal(rill_dht_store_count(&s, ih2, T0 + TTL), 0);
    assert_int_equal(rill_dht_store_expire(&s, T0 + TTL - 1), 0);
    assert_int_equal(rill_dht_store_hashes(&s), 2);
    assert_int_equal(rill_dht_store_expire(&s, T0 + TTL), 2);
    assert_int_equal(rill_dht_store_hashes(&s), 1);
    check_store(&s, T0 + TTL);

    /* A refresh restarts the 30 minutes. */
    rill_dht_store_announce(&s, ih, &b, T0 + 20 * MIN_MS);
    assert_int_equal(rill_dht_store_count(&s, ih, T0 + 20 * MIN_MS + TTL - 1), 1);
    assert_int_equal(rill_dht_store_expire(&s, T0 + 20 * MIN_MS + TTL), 1);
    assert_int_equal(rill_dht_store_hashes(&s), 0);
    assert_int_equal(rill_dht_store_bytes(&s), empty);
    check_store(&s, T0);
    rill_dht_store_free(&s);
}

static void test_store_caps(void **state)
{
    (void)state;
    struct rill_dht_store s;
    uint8_t ih[20];
    assert_int_equal(rill_dht_store_init(&s, 8, 4, 99), 0);
    struct rill_krpc_peer p = peer4(1, 1), out[8];
    for (uint32_t i = 0; i < 8; i++) {
        ih_of(ih, i);
        assert_int_equal(rill_dht_store_announce(&s, ih, &p, T0), RILL_DHT_STORE_ADDED);
    }
    size_t bytes = rill_dht_store_bytes(&s);
    ih_of(ih, 8);
    assert_int_equal(rill_dht_store_announce(&s, ih, &p, T0), RILL_ELIMIT);
    assert_int_equal(rill_dht_store_hashes(&s), 8);
    assert_int_equal(rill_dht_store_count(&s, ih, T0), 0);
    assert_int_equal(rill_dht_store_bytes(&s), bytes);

    /* A full set of 4: peer 1 is the oldest once peer 0 is refreshed. */
    ih_of(ih, 0);
    for (uint32_t i = 1; i < 4; i++) {
        struct rill_krpc_peer q = peer4(100 + i, 1);
        assert_int_equal(rill_dht_store_announce(&s, ih, &q, T0 + i), RILL_DHT_STORE_ADDED);
    }
    assert_int_equal(rill_dht_store_announce(&s, ih, &p, T0 + 5), RILL_DHT_STORE_REFRESHED);
    struct rill_krpc_peer n = peer4(200, 1), gone = peer4(101, 1);
    assert_int_equal(rill_dht_store_announce(&s, ih, &n, T0 + 6), RILL_DHT_STORE_REPLACED);
    assert_int_equal(rill_dht_store_get(&s, ih, 4, out, 8, NULL, T0 + 6), 4);
    bool has_new = false;
    for (size_t i = 0; i < 4; i++) {
        assert_false(same_peer(&out[i], &gone));
        has_new |= same_peer(&out[i], &n);
    }
    assert_true(has_new);
    check_store(&s, T0 + 6);

    /* Once everything expires, new info-hashes are taken again. */
    rill_dht_store_expire(&s, T0 + 6 + TTL);
    ih_of(ih, 8);
    assert_int_equal(rill_dht_store_announce(&s, ih, &p, T0 + TTL + 7), RILL_DHT_STORE_ADDED);
    rill_dht_store_free(&s);
}

static size_t draw(struct rill_dht_store *s, const uint8_t ih[20], struct rill_krpc_peer *out,
                   size_t max, struct rill_rng *rng)
{
    size_t n = rill_dht_store_get(s, ih, 4, out, max, rng, T0 + 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].addr_len, 4);
        assert_true(out[i].port >= 1000 && out[i].port < 1256);
        for (size_t j = 0; j < i; j++)
            assert_false(same_peer(&out[i], &out[j]));
    }
    return n;
}

static void test_store_random_subset(void **state)
{
    (void)state;
    struct rill_dht_store s;
    uint8_t ih[20];
    ih_of(ih, 5);
    assert_int_equal(rill_dht_store_init(&s, 4, 512, 1), 0);
    for (uint32_t i = 0; i < 256; i++) {
        struct rill_krpc_peer p = peer4(0x0a000000 + i, (uint16_t)(1000 + i));
        struct rill_krpc_peer q = peer6(i, (uint16_t)(5000 + i));
        rill_dht_store_announce(&s, ih, &p, T0);
        rill_dht_store_announce(&s, ih, &q, T0);
    }
    struct rill_rng rng;
    rill_rng_seed(&rng, 42);
    struct rill_krpc_peer out[RILL_KRPC_VALUES_MAX + 10];
    assert_int_equal(draw(&s, ih, out, 50, &rng), 50);
    assert_int_equal(draw(&s, ih, out, 500, &rng), RILL_KRPC_VALUES_MAX);
    assert_int_equal(draw(&s, ih, out, 1, &rng), 1);

    /* Over many draws every peer shows up, and roughly evenly (each has a
     * 50/256 chance per draw: 400 draws give ~78 hits each). */
    unsigned hits[256] = {0};
    for (size_t d = 0; d < 400; d++) {
        size_t n = draw(&s, ih, out, 50, &rng);
        assert_int_equal(n, 50);
        for (size_t i = 0; i < n; i++)
            hits[out[i].port - 1000]++;
    }
    for (size_t i = 0; i < 256; i++)
        assert_true(hits[i] >= 40 && hits[i] <= 130);
    rill_dht_store_free(&s);
}

/* Runs a fixed workload with a seeded rng and returns a digest of all the
 * answers, so two runs can be compared. */
static uint64_t run_workload(uint64_t seed)
{
    struct rill_dht_store s;
    struct rill_rng rng;
    rill_rng_seed(&rng, seed);
    assert_int_equal(rill_dht_store_init(&s, 32, 64, rill_rng_next(&rng)), 0);
    uint64_t digest = 1469598103934665603u;
    struct rill_krpc_peer out[RILL_KRPC_VALUES_MAX];
    for (uint32_t step = 0; step < 3000; step++) {
        uint64_t now = T0 + step * 1000u;
        uint8_t ih[20];
        ih_of(ih, (uint32_t)rill_rng_below(&rng, 40));
        struct rill_krpc_peer p = peer4((uint32_t)rill_rng_below(&rng, 200), 6881);
        int rc = rill_dht_store_announce(&s, ih, &p, now);
        digest = (digest ^ (uint64_t)(rc + 16)) * 1099511628211u;
        size_t n = rill_dht_store_get(&s, ih, 4, out, 20, &rng, now);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < 4; k++)
                digest = (digest ^ out[i].addr[k]) * 1099511628211u;
        if (step % 500 == 499)
            rill_dht_store_expire(&s, now);
    }
    rill_dht_store_free(&s);
    return digest;
}

static void test_store_determinism(void **state)
{
    (void)state;
    assert_true(run_workload(7) == run_workload(7));
    assert_true(run_workload(7) != run_workload(8));
}

/* Random announces and sweeps on a small, crowded table against a plain
 * model: exercises probe runs, wrap-around and backward-shift deletion. */
static void test_store_churn_model(void **state)
{
    (void)state;
    enum { HASHES = 48, CAP = 32, PEERS = 6 };
    struct rill_dht_store s;
    struct rill_rng rng;
    rill_rng_seed(&rng, 1234);
    assert_int_equal(rill_dht_store_init(&s, CAP, 16, 5), 0);
    uint64_t seen[HASHES][PEERS];
    bool present[HASHES] = {false}, has[HASHES][PEERS];
    memset(has, 0, sizeof has);
    size_t n_present = 0;
    for (uint32_t step = 0; step < 20000; step++) {
        uint64_t now = T0 + step * 20000u;
        uint32_t h = (uint32_t)rill_rng_below(&rng, HASHES),
                 k = (uint32_t)rill_rng_below(&rng, PEERS);
        uint8_t ih[20];
        ih_of(ih, h * 2654435761u);
        struct rill_krpc_peer p = peer4(k, 6881);
        int rc = rill_dht_store_announce(&s, ih, &p, now);
        if (!present[h] && n_present >= CAP) {
            assert_int_equal(rc, RILL_ELIMIT);
        } else {
            assert_true(rc > 0);
            n_present += !present[h];
            present[h] = has[h][k] = true;
            seen[h][k] = now;
        }
        if (step % 13 == 0) {
            rill_dht_store_expire(&s, now);
            for (size_t i = 0; i < HASHES; i++) {
                bool any = false;
                for (size_t j = 0; j < PEERS; j++) {
                    has[i][j] = has[i][j] && now < seen[i][j] + TTL;
                    any |= has[i][j];
                }
                n_present -= present[i] && !any;
                present[i] = any;
            }
            check_store(&s, now);
        }
        assert_int_equal(rill_dht_store_hashes(&s), n_present);
        size_t live = 0;
        for (size_t j = 0; j < PEERS; j++)
            live += has[h][j] && now < seen[h][j] + TTL;
        assert_int_equal(rill_dht_store_count(&s, ih, now), live);
    }
    rill_dht_store_free(&s);
}

static void test_store_memory(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct rill_dht_store_entry), 32);
    assert_int_equal(sizeof(struct rill_dht_stored_peer), 32);
    struct rill_dht_store s;
    assert_int_equal(
        rill_dht_store_init(&s, RILL_DHT_STORE_HASHES_DEFAULT, RILL_DHT_STORE_PEERS_DEFAULT, 3), 0);
    size_t table = rill_dht_store_bytes(&s);
    assert_int_equal(table, sizeof s + 4096 * 32);
    /* Fill 16 info-hashes completely; the default store full is 2048 of
     * them, so its size follows by the same per-hash figure. */
    for (uint32_t h = 0; h < 16; h++) {
        uint8_t ih[20];
        ih_of(ih, h);
        for (uint32_t i = 0; i < RILL_DHT_STORE_PEERS_DEFAULT + 10; i++) {
            struct rill_krpc_peer p = peer4(i, 1);
            assert_true(rill_dht_store_announce(&s, ih, &p, T0 + i) > 0);
        }
    }
    size_t per_hash = (rill_dht_store_bytes(&s) - table) / 16;
    assert_int_equal(per_hash, RILL_DHT_STORE_PEERS_DEFAULT * 32);
    size_t full = table + (size_t)RILL_DHT_STORE_HASHES_DEFAULT * per_hash;
    printf("# full default store (%u hashes x %u peers): %zu bytes\n",
           RILL_DHT_STORE_HASHES_DEFAULT, RILL_DHT_STORE_PEERS_DEFAULT, full);
    assert_true(full <= 17u * 1024 * 1024);
    rill_dht_store_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_vectors),       cmocka_unit_test(test_token_rotation),
        cmocka_unit_test(test_token_rejects),       cmocka_unit_test(test_store_add_refresh),
        cmocka_unit_test(test_store_expiry),        cmocka_unit_test(test_store_caps),
        cmocka_unit_test(test_store_random_subset), cmocka_unit_test(test_store_determinism),
        cmocka_unit_test(test_store_churn_model),   cmocka_unit_test(test_store_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
