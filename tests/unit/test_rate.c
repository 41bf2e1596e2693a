#include "testutil.h"

#include "core/rate.h"

#define T0 UINT64_C(5000000) /* an arbitrary monotonic start */

static void test_window_config(void **state)
{
    (void)state;
    struct rill_rate r;
    rill_rate_init(&r, 0, T0);
    assert_int_equal(r.bucket_ms, 1000);
    assert_int_equal(r.window_ms, 20000);
    rill_rate_init(&r, 10000, T0);
    assert_int_equal(r.bucket_ms, 500);
    assert_int_equal(r.window_ms, 10000);
    rill_rate_init(&r, 60000, T0);
    assert_int_equal(r.bucket_ms, 3000); /* longer windows: coarser buckets */
    rill_rate_init(&r, 21000, T0);
    assert_int_equal(r.bucket_ms, 1050);
    rill_rate_init(&r, 5, T0);
    assert_int_equal(r.bucket_ms, 1);
    assert_int_equal(r.window_ms, RILL_RATE_BUCKETS);
    rill_rate_init(&r, 10001, T0); /* rounded up to a multiple of the bucket count */
    assert_int_equal(r.window_ms, 20 * 501);
}

/* 10 kB/s in 100 ms steps: the steady rate reads 10 kB/s. */
static void test_steady_rate(void **state)
{
    (void)state;
    struct rill_rate r;
    rill_rate_init(&r, 0, T0);
    for (uint64_t t = 100; t <= 40000; t += 100) {
        rill_rate_add(&r, 1000, T0 + t);
        if (t >= 1000) {
            uint64_t v = rill_rate_get(&r, T0 + t);
            assert_in_range(v, 9500, 10500);
        }
    }
    assert_int_equal(rill_rate_total(&r), 400 * 1000);
    /* Between adds the reading stays steady too (the oldest bucket counts
     * pro rata, no saw-tooth at bucket edges). */
    for (uint64_t t = 40000; t < 41000; t += 7)
        assert_in_range(rill_rate_get(&r, T0 + t), 9400, 10600);
}

/* Partial window at the start: bytes since init over time since init, with a
 * one-second floor. */
static void test_partial_window(void **state)
{
    (void)state;
    struct rill_rate r;
    rill_rate_init(&r, 0, T0);
    assert_int_equal(rill_rate_get(&r, T0), 0);
    rill_rate_add(&r, 5000, T0 + 100);
    assert_int_equal(rill_rate_get(&r, T0 + 500), 5000); /* over the 1 s floor */
    rill_rate_add(&r, 15000, T0 + 1900);
    assert_int_equal(rill_rate_get(&r, T0 + 2000), 10000); /* 20000 B over 2 s */
    assert_int_equal(rill_rate_get(&r, T0 + 4000), 5000);  /* same bytes over 4 s */

    /* A window shorter than a second uses itself as the floor. */
    rill_rate_init(&r, 200, T0);
    rill_rate_add(&r, 100, T0);
    assert_int_equal(rill_rate_get(&r, T0 + 50), 500); /* 100 B / 0.2 s */
}

/* After the traffic stops, the rate decays and reaches 0 one window later. */
static void test_ages_out(void **state)
{
    (void)state;
    struct rill_rate r;
    rill_rate_init(&r, 0, T0);
    uint64_t t;
    for (t = 100; t <= 30000; t += 100)
        rill_rate_add(&r, 1000, T0 + t);
    uint64_t stop = T0 + 30000;
    uint64_t prev = rill_rate_get(&r, stop);
    for (uint64_t dt = 50; dt <= 21000; dt += 50) {
        uint64_t v = rill_rate_get(&r, stop + dt);
        assert_true(v <= prev); /* never rises while idle */
        prev = v;
    }
    assert_in_range(rill_rate_get(&r, stop + 10000), 4500, 5500); /* half the window */
    /* The last add opened a bucket that counts as spread over its second,
     * so the meter reads 0 one window after that bucket ends. */
    assert_true(rill_rate_get(&r, stop + 20500) > 0);
    assert_int_equal(rill_rate_get(&r, stop + 21000), 0);
    assert_int_equal(rill_rate_get(&r, stop + 3600000), 0);

    /* An hour idle, then new traffic: only the new bytes count. */
    rill_rate_add(&r, 40000, stop + 3600000);
    assert_int_equal(rill_rate_get(&r, stop + 3600000), 40000 * 1000 / 20000);
    assert_int_equal(rill_rate_total(&r), 300 * 1000 + 40000);
}

/* A burst from one moment reads as burst / window for a window, then drains
 * as its bucket (taken as spread over its second) slides out. */
static void test_single_burst(void **state)
{
    (void)state;
    struct rill_rate r;
    rill_rate_init(&r, 20000, T0);
    rill_rate_add(&r, 2000000, T0 + 30000);
    assert_int_equal(rill_rate_get(&r, T0 + 30000), 100000);
    assert_int_equal(rill_rate_get(&r, T0 + 50000), 100000);
    assert_int_equal(rill_rate_get(&r, T0 + 50500), 50000); /* half its bucket out */
    assert_int_equal(rill_rate_get(&r, T0 + 50750), 25000);
    assert_int_equal(rill_rate_get(&r, T0 + 51000), 0);
}

/* Time 0 (a virtual clock) and a clock that steps back must not break it. */
static void test_edges(void **state)
{
    (void)state;
    struct rill_rate r;
    rill_rate_init(&r, 0, 0);
    rill_rate_add(&r, 1000, 0);
    assert_int_equal(rill_rate_get(&r, 0), 1000);
    rill_rate_add(&r, 1000, 5000);
    rill_rate_add(&r, 1000, 4000); /* back in time: counted in the newest bucket */
    assert_int_equal(rill_rate_total(&r), 3000);
    assert_int_equal(rill_rate_get(&r, 3000), 3000 * 1000 / 5000);
    assert_int_equal(rill_rate_get(&r, 5000), 3000 * 1000 / 5000);
    assert_int_equal(rill_rate_get(&r, 24000), 2000 * 1000 / 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_config),  cmocka_unit_test(test_steady_rate),
        cmocka_unit_test(test_partial_window), cmocka_unit_test(test_ages_out),
        cmocka_unit_test(test_single_burst),   cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
