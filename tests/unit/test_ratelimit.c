#include "testutil.h"

#include "core/ratelimit.h"
#include "util/rng.h"
#include "util/util.h"

#define MIB (UINT64_C(1) << 20)
#define T0 UINT64_C(7000000)

static void test_burst_defaults(void **state)
{
    (void)state;
    struct rill_ratelimit rl;
    rill_ratelimit_init(&rl, MIB, 0, T0);
    assert_int_equal(rl.burst, MIB / 4); /* a quarter second */
    rill_ratelimit_init(&rl, 1000, 0, T0);
    assert_int_equal(rl.burst, RILL_RATELIMIT_MIN_BURST); /* a block always fits */
    rill_ratelimit_init(&rl, MIB, 100, T0);
    assert_int_equal(rl.burst, RILL_RATELIMIT_MIN_BURST);
    rill_ratelimit_init(&rl, MIB, 3 * MIB, T0);
    assert_int_equal(rl.burst, 3 * MIB);
    rill_ratelimit_init(&rl, UINT64_MAX, UINT64_MAX, T0); /* clamped, no overflow */
    assert_int_equal(rl.rate, RILL_RATELIMIT_MAX_RATE);
    assert_int_equal(rl.burst, RILL_RATELIMIT_MAX_BURST);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 1000000), RILL_RATELIMIT_MAX_BURST);
}

/* Starts full; grants are partial when the bucket runs short; a long idle
 * spell refills only up to the burst. */
static void test_burst_behaviour(void **state)
{
    (void)state;
    struct rill_ratelimit rl;
    rill_ratelimit_init(&rl, 100000, 50000, T0);
    assert_int_equal(rill_ratelimit_available(&rl, T0), 50000);
    assert_int_equal(rill_ratelimit_take(&rl, 30000, T0), 30000);
    assert_int_equal(rill_ratelimit_take(&rl, 30000, T0), 20000); /* partial */
    assert_int_equal(rill_ratelimit_take(&rl, 1, T0), 0);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 100), 10000);
    assert_int_equal(rill_ratelimit_take(&rl, 4000, T0 + 100), 4000);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 100), 6000);
    /* An hour idle: no more than the burst. */
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 3600000), 50000);
    assert_int_equal(rill_ratelimit_take(&rl, 1000000, T0 + 3600000), 50000);
    /* A clock that steps back earns nothing and breaks nothing. */
    assert_int_equal(rill_ratelimit_take(&rl, 1000, T0), 0);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 3600010), 1000);
}

/* 60 simulated seconds at 1 MiB/s, sending whole 16 KiB blocks and sleeping
 * exactly until the next one fits: 60 MiB plus the burst, within 1%. */
static void test_exact_60s_blocks(void **state)
{
    (void)state;
    struct rill_ratelimit rl;
    rill_ratelimit_init(&rl, MIB, 0, T0);
    uint64_t t = T0, sent = 0, wakeups = 0;
    const uint64_t blk = 16384 + 13;
    while (t <= T0 + 60000) {
        if (rill_ratelimit_available(&rl, t) >= blk) {
            assert_int_equal(rill_ratelimit_take(&rl, blk, t), blk);
            sent += blk;
            continue;
        }
        uint64_t next = rill_ratelimit_next_time(&rl, blk, t);
        assert_true(next > t);
        assert_true(rill_ratelimit_available(&rl, next) >= blk); /* the timer finds it */
        t = next;
        wakeups++;
    }
    uint64_t ideal = 60 * MIB + rl.burst;
    assert_true(sent <= ideal);
    assert_true(sent >= ideal - ideal / 100);
    assert_true(wakeups > 3000); /* paced, not one big grant */
}

/* An odd rate, 1 ms ticks, everything available taken each tick: the total
 * is exactly burst + rate * time, byte for byte, whatever the rounding. */
static void test_no_drift(void **state)
{
    (void)state;
    const uint64_t rates[] = {1000003, 7, 999, 1048577, 33333333};
    for (size_t k = 0; k < RILL_ARRAY_LEN(rates); k++) {
        struct rill_ratelimit rl;
        rill_ratelimit_init(&rl, rates[k], 2 * MIB, T0);
        uint64_t got = 0;
        for (uint64_t ms = 0; ms <= 60000; ms++)
            got += rill_ratelimit_take(&rl, UINT64_MAX, T0 + ms);
        uint64_t burst = rl.burst;
        assert_int_equal(got, burst + rates[k] * 60000 / 1000);
    }
}

static void test_unlimited(void **state)
{
    (void)state;
    struct rill_ratelimit rl;
    rill_ratelimit_init(&rl, 0, 0, T0);
    assert_int_equal(rill_ratelimit_take(&rl, 123456789, T0), 123456789);
    assert_int_equal(rill_ratelimit_take(&rl, UINT64_MAX, T0), UINT64_MAX);
    assert_int_equal(rill_ratelimit_available(&rl, T0), UINT64_MAX);
    rill_ratelimit_consume(&rl, UINT64_MAX, T0);
    assert_int_equal(rill_ratelimit_next_time(&rl, 1 << 30, T0), T0);
    /* Turning a limit on starts with a full bucket. */
    rill_ratelimit_set(&rl, 100000, 40000, T0 + 5);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 5), 40000);
    /* And off again. */
    rill_ratelimit_take(&rl, 40000, T0 + 5);
    rill_ratelimit_set(&rl, 0, 0, T0 + 6);
    assert_int_equal(rill_ratelimit_take(&rl, 99, T0 + 6), 99);
}

/* next_time is exact: at the returned time the bytes are there, one
 * millisecond earlier they are not. Random states from a fixed seed. */
static void test_next_time_exact(void **state)
{
    (void)state;
    struct rill_rng rng;
    rill_rng_seed(&rng, 42);
    for (int trial = 0; trial < 20000; trial++) {
        struct rill_ratelimit rl;
        uint64_t rate = 1 + rill_rng_below(&rng, 5 * MIB);
        uint64_t burst = rill_rng_below(&rng, 2 * MIB);
        uint64_t t = T0;
        rill_ratelimit_init(&rl, rate, burst, t);
        rill_ratelimit_take(&rl, rill_rng_below(&rng, rl.burst + 1), t);
        t += rill_rng_below(&rng, 300);
        if (rill_rng_below(&rng, 4) == 0)
            rill_ratelimit_consume(&rl, rill_rng_below(&rng, 4 * rl.burst), t); /* debt */
        uint64_t n = 1 + rill_rng_below(&rng, rl.burst + 1000);
        uint64_t want = n < rl.burst ? n : rl.burst;
        uint64_t when = rill_ratelimit_next_time(&rl, n, t);
        assert_true(when >= t);
        assert_true(rill_ratelimit_available(&rl, when) >= want);
        if (when > t)
            assert_true(rill_ratelimit_available(&rl, when - 1) < want);
        assert_int_equal(rill_ratelimit_take(&rl, want, when), want);
    }
}

/* Received bytes are consumed even without tokens; the debt delays later
 * grants until it is paid back at the rate. */
static void test_consume_debt(void **state)
{
    (void)state;
    struct rill_ratelimit rl;
    rill_ratelimit_init(&rl, 10000, 20000, T0);
    rill_ratelimit_consume(&rl, 50000, T0); /* 30000 bytes of debt */
    assert_int_equal(rill_ratelimit_available(&rl, T0), 0);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 2999), 0);
    assert_int_equal(rill_ratelimit_next_time(&rl, 1, T0), T0 + 3001);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 4000), 10000);
    /* Huge debts are bounded, not wrapped. */
    rill_ratelimit_consume(&rl, UINT64_MAX, T0);
    rill_ratelimit_consume(&rl, UINT64_MAX, T0);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 1000000), 0);
    assert_true(rill_ratelimit_next_time(&rl, 1, T0) > T0 + 1000000);
}

/* Global and per-peer buckets compose: the grant is the smaller of the two
 * and is charged to both; the wake-up time is the later of the two. */
static void test_compose(void **state)
{
    (void)state;
    struct rill_ratelimit global, peer_a, peer_b;
    rill_ratelimit_init(&global, 100000, 30000, T0);
    rill_ratelimit_init(&peer_a, 20000, 20000, T0);
    rill_ratelimit_init(&peer_b, 0, 0, T0); /* no per-peer limit */
    assert_int_equal(rill_ratelimit_take2(&global, &peer_a, 25000, T0), 20000);
    assert_int_equal(rill_ratelimit_available(&global, T0), 10000);
    assert_int_equal(rill_ratelimit_available(&peer_a, T0), 0);
    assert_int_equal(rill_ratelimit_take2(&global, &peer_b, 25000, T0), 10000);
    assert_int_equal(rill_ratelimit_take2(&global, NULL, 1, T0), 0);
    /* 17000 bytes: the global bucket needs 170 ms, peer a 850 ms. */
    assert_int_equal(rill_ratelimit_next_time2(&global, &peer_a, 17000, T0), T0 + 850);
    assert_int_equal(rill_ratelimit_next_time2(&global, &peer_b, 17000, T0), T0 + 170);
    assert_int_equal(rill_ratelimit_next_time2(NULL, NULL, 17000, T0), T0);
    assert_int_equal(rill_ratelimit_take2(NULL, NULL, 17000, T0), 17000);

    /* Two peers sharing a global limit for 10 s never exceed it together. */
    rill_ratelimit_init(&global, 100000, 0, T0);
    rill_ratelimit_init(&peer_a, 80000, 0, T0);
    rill_ratelimit_init(&peer_b, 80000, 0, T0);
    uint64_t got = 0;
    for (uint64_t ms = 1; ms <= 10000; ms++) {
        got += rill_ratelimit_take2(&global, &peer_a, 16384, T0 + ms);
        got += rill_ratelimit_take2(&global, &peer_b, 16384, T0 + ms);
    }
    assert_true(got <= 10 * 100000 + global.burst);
    assert_true(got >= 10 * 100000);
}

/* Changing the rate keeps the tokens earned so far, capped to the new burst. */
static void test_set(void **state)
{
    (void)state;
    struct rill_ratelimit rl;
    rill_ratelimit_init(&rl, 10000, 100000, T0);
    rill_ratelimit_take(&rl, 100000, T0);
    rill_ratelimit_set(&rl, 1000000, 100000, T0 + 500); /* 5000 earned at the old rate */
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 500), 5000);
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 510), 15000);
    rill_ratelimit_set(&rl, 1000000, 20000, T0 + 600); /* cap shrinks below the tokens */
    assert_int_equal(rill_ratelimit_available(&rl, T0 + 600), 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_defaults),
        cmocka_unit_test(test_burst_behaviour),
        cmocka_unit_test(test_exact_60s_blocks),
        cmocka_unit_test(test_no_drift),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_next_time_exact),
        cmocka_unit_test(test_consume_debt),
        cmocka_unit_test(test_compose),
        cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
