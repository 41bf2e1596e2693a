/* BEP 42 node-id checks (the BEP's own examples), address classes and the
 * per-address query limiter. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/dht_guard.h"

static void hex(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void test_crc32c(void **state)
{
    (void)state;
    /* The standard check value of CRC-32C. */
    assert_int_equal(rill_crc32c((const uint8_t *)"123456789", 9), 0xE3069283u);
    assert_int_equal(rill_crc32c(NULL, 0), 0);
}

/* BEP 42's table: address, the id's last byte, the id's first 3 bytes
 * (of which 21 bits are determined). */
static const struct {
    uint8_t ip[4];
    const char *id;
} VECTORS[] = {
    {{124, 31, 75, 21}, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"},
    {{21, 75, 31, 124}, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256"},
    {{65, 23, 51, 170}, "a5d43220bc8f112a3d426c84764f8c2a1150e616"},
    {{84, 124, 73, 14}, "1b0321dd1bb1fe518101ceef99462b947a01ff41"},
    {{43, 213, 53, 83}, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a"},
};

static void test_bep42_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) {
        uint8_t id[20];
        hex(VECTORS[i].id, id, sizeof id);
        assert_true(rill_dht_id_secure(id, VECTORS[i].ip, 4));
        /* Any change inside the 21 bits fails; outside them it passes. */
        uint8_t bad[20];
        memcpy(bad, id, 20);
        bad[2] ^= 0x08;
        assert_false(rill_dht_id_secure(bad, VECTORS[i].ip, 4));
        memcpy(bad, id, 20);
        bad[2] ^= 0x07;
        bad[10] ^= 0xFF;
        assert_true(rill_dht_id_secure(bad, VECTORS[i].ip, 4));
        /* Another r (id[19]) gives another prefix. */
        memcpy(bad, id, 20);
        bad[19] ^= 0x01;
        assert_false(rill_dht_id_secure(bad, VECTORS[i].ip, 4));
        /* make_secure rebuilds the same 21 bits from a random id. */
        uint8_t made[20];
        tu_fill(made, sizeof made, i + 1);
        made[19] = id[19];
        rill_dht_id_make_secure(made, VECTORS[i].ip, 4);
        assert_memory_equal(made, id, 2);
        assert_int_equal(made[2] & 0xF8, id[2] & 0xF8);
        assert_true(rill_dht_id_secure(made, VECTORS[i].ip, 4));
    }
}

static void test_bep42_ipv6(void **state)
{
    (void)state;
    uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t id[20];
    tu_fill(id, sizeof id, 7);
    assert_false(rill_dht_id_secure(id, ip, 16) && rill_dht_id_secure(id, ip, 4));
    rill_dht_id_make_secure(id, ip, 16);
    assert_true(rill_dht_id_secure(id, ip, 16));
    /* Only the first 8 bytes of an IPv6 address count. */
    ip[15] ^= 0xFF;
    assert_true(rill_dht_id_secure(id, ip, 16));
    ip[3] ^= 0x01;
    assert_false(rill_dht_id_secure(id, ip, 16));
}

static void test_local_addresses(void **state)
{
    (void)state;
    static const uint8_t local4[][4] = {{127, 0, 0, 1},  {10, 1, 2, 3},    {192, 168, 1, 1},
                                        {172, 16, 0, 1}, {172, 31, 9, 9},  {169, 254, 3, 4},
                                        {0, 0, 0, 0},    {100, 64, 0, 1}};
    static const uint8_t public4[][4] = {{8, 8, 8, 8}, {172, 32, 0, 1}, {100, 128, 0, 1}};
    for (size_t i = 0; i < sizeof local4 / sizeof local4[0]; i++)
        assert_true(rill_dht_addr_is_local(local4[i], 4));
    for (size_t i = 0; i < sizeof public4 / sizeof public4[0]; i++)
        assert_false(rill_dht_addr_is_local(public4[i], 4));
    uint8_t v6[16] = {0};
    v6[15] = 1;
    assert_true(rill_dht_addr_is_local(v6, 16)); /* ::1 */
    v6[0] = 0xFD;
    assert_true(rill_dht_addr_is_local(v6, 16)); /* fc00::/7 */
    v6[0] = 0xFE;
    v6[1] = 0x80;
    assert_true(rill_dht_addr_is_local(v6, 16)); /* fe80::/10 */
    v6[0] = 0x20;
    v6[1] = 0x01;
    assert_false(rill_dht_addr_is_local(v6, 16));
    uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 0, 0, 1};
    assert_true(rill_dht_addr_is_local(mapped, 16));
    mapped[12] = 8;
    assert_false(rill_dht_addr_is_local(mapped, 16));
    /* Any id is fine on loopback; a public address checks. */
    uint8_t id[20] = {0};
    uint8_t lo[4] = {127, 0, 0, 1}, pub[4] = {8, 8, 8, 8};
    assert_true(rill_dht_id_secure(id, lo, 4));
    assert_false(rill_dht_id_secure(id, pub, 4));
}

static void test_limit_burst_and_refill(void **state)
{
    (void)state;
    static struct rill_dht_limit l;
    rill_dht_limit_init(&l, 10, 5, 42);
    uint8_t a[4] = {8, 8, 8, 8}, b[4] = {8, 8, 4, 4};
    for (int i = 0; i < 5; i++)
        assert_true(rill_dht_limit_allow(&l, a, 4, 1000));
    assert_false(rill_dht_limit_allow(&l, a, 4, 1000));
    /* Another address has its own bucket. */
    assert_true(rill_dht_limit_allow(&l, b, 4, 1000));
    /* 10 per second: one more after 100 ms, not before. */
    assert_false(rill_dht_limit_allow(&l, a, 4, 1099));
    assert_true(rill_dht_limit_allow(&l, a, 4, 1199));
    assert_false(rill_dht_limit_allow(&l, a, 4, 1199));
    /* A long pause refills only up to the burst. */
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += rill_dht_limit_allow(&l, a, 4, 100000);
    assert_int_equal(ok, 5);
    assert_int_equal(l.refused, 3 + 15);
}

static void test_limit_many_addresses(void **state)
{
    (void)state;
    static struct rill_dht_limit l;
    rill_dht_limit_init(&l, 1, 2, 7);
    /* A flood from one address at 1000 queries a second for 10 s gets about
     * rate * time + burst through, however many other addresses there are. */
    uint8_t flood[16] = {0x20, 0x01, 0xd, 0xb8};
    unsigned through = 0;
    for (uint64_t t = 0; t < 10000; t++) {
        through += rill_dht_limit_allow(&l, flood, 16, t);
        uint8_t other[4] = {9, (uint8_t)(t >> 8), (uint8_t)t, 1};
        (void)rill_dht_limit_allow(&l, other, 4, t);
    }
    /* Collisions may reset its bucket now and then, but not often. */
    assert_in_range(through, 11, 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_bep42_vectors),
        cmocka_unit_test(test_bep42_ipv6),
        cmocka_unit_test(test_local_addresses),
        cmocka_unit_test(test_limit_burst_and_refill),
        cmocka_unit_test(test_limit_many_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
