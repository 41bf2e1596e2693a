#include "testutil.h"

#include <string.h>

static void test_init_free(void **state)
{
    (void)state;
    struct rill_bitfield b;
    assert_int_equal(rill_bitfield_init(&b, 13), 0);
    assert_int_equal(b.size, 13);
    assert_int_equal(b.count, 0);
    assert_int_equal(rill_bitfield_bytes(&b), 2);
    for (uint32_t i = 0; i < 13; i++)
        assert_false(rill_bitfield_get(&b, i));
    rill_bitfield_free(&b);
    assert_null(b.bits);
    rill_bitfield_free(&b); /* twice is fine */

    struct rill_bitfield z;
    memset(&z, 0, sizeof z);
    rill_bitfield_free(&z); /* zeroed is fine */
    assert_int_equal(rill_bitfield_init(&z, 0), 0);
    assert_int_equal(rill_bitfield_bytes(&z), 0);
    assert_false(rill_bitfield_get(&z, 0));
    assert_int_equal(rill_bitfield_load(&z, NULL, 0), 0);
    rill_bitfield_free(&z);
}

static void test_bit_order(void **state)
{
    (void)state;
    struct rill_bitfield b;
    assert_int_equal(rill_bitfield_init(&b, 20), 0);
    rill_bitfield_set(&b, 0, true);
    assert_int_equal(b.bits[0], 0x80);
    rill_bitfield_set(&b, 7, true);
    assert_int_equal(b.bits[0], 0x81);
    rill_bitfield_set(&b, 8, true);
    assert_int_equal(b.bits[1], 0x80);
    rill_bitfield_set(&b, 19, true);
    assert_int_equal(b.bits[2], 0x10);
    assert_int_equal(b.count, 4);
    assert_true(rill_bitfield_get(&b, 19));
    assert_false(rill_bitfield_get(&b, 18));
    rill_bitfield_free(&b);
}

static void test_count_maintained(void **state)
{
    (void)state;
    struct rill_bitfield b;
    assert_int_equal(rill_bitfield_init(&b, 100), 0);
    rill_bitfield_set(&b, 5, true);
    rill_bitfield_set(&b, 5, true); /* setting twice counts once */
    assert_int_equal(b.count, 1);
    rill_bitfield_set(&b, 6, false); /* clearing a clear bit changes nothing */
    assert_int_equal(b.count, 1);
    rill_bitfield_set(&b, 99, true);
    assert_int_equal(b.count, 2);
    rill_bitfield_set(&b, 100, true); /* out of range: ignored */
    rill_bitfield_set(&b, UINT32_MAX, true);
    assert_int_equal(b.count, 2);
    assert_false(rill_bitfield_get(&b, 100));
    assert_int_equal(b.bits[12], 0x10); /* bit 99 = byte 12, bit 3 from the top */
    rill_bitfield_set(&b, 5, false);
    assert_int_equal(b.count, 1);
    for (uint32_t i = 0; i < 100; i++)
        rill_bitfield_set(&b, i, true);
    assert_int_equal(b.count, 100);
    rill_bitfield_free(&b);
}

static void test_load(void **state)
{
    (void)state;
    struct rill_bitfield b;
    assert_int_equal(rill_bitfield_init(&b, 12), 0);
    const uint8_t good[2] = {0xA5, 0xF0};
    assert_int_equal(rill_bitfield_load(&b, good, 2), 0);
    assert_int_equal(b.count, 8);
    assert_true(rill_bitfield_get(&b, 0));
    assert_false(rill_bitfield_get(&b, 1));
    assert_true(rill_bitfield_get(&b, 11));

    /* Wrong lengths and set spare bits are refused and change nothing. */
    const uint8_t spare[2] = {0x00, 0x08};
    assert_int_equal(rill_bitfield_load(&b, spare, 2), RILL_ESYNTAX);
    const uint8_t last_spare[2] = {0x00, 0x01};
    assert_int_equal(rill_bitfield_load(&b, last_spare, 2), RILL_ESYNTAX);
    const uint8_t three[3] = {0, 0, 0};
    assert_int_equal(rill_bitfield_load(&b, three, 3), RILL_ESYNTAX);
    assert_int_equal(rill_bitfield_load(&b, three, 1), RILL_ESYNTAX);
    assert_int_equal(b.count, 8);
    assert_int_equal(b.bits[0], 0xA5);

    const uint8_t zero[2] = {0, 0};
    assert_int_equal(rill_bitfield_load(&b, zero, 2), 0);
    assert_int_equal(b.count, 0);
    rill_bitfield_free(&b);

    /* A multiple of 8 has no spare bits: every bit may be set. */
    assert_int_equal(rill_bitfield_init(&b, 16), 0);
    const uint8_t full[2] = {0xFF, 0xFF};
    assert_int_equal(rill_bitfield_load(&b, full, 2), 0);
    assert_int_equal(b.count, 16);
    rill_bitfield_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_free),
        cmocka_unit_test(test_bit_order),
        cmocka_unit_test(test_count_maintained),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
