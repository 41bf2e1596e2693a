#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/choker.h"

#define T0 UINT64_C(1000000000)
#define OLD (T0 - 600000) /* connected ten minutes before T0: not a newcomer */
#define MAXP 64

/* A fake shell: a table of peers, a fake clock, a seeded rng. Before each
 * decision every peer not marked silent has just sent us a block; after it
 * the shell carries out the decision. */
struct sim {
    struct rill_rng rng;
    struct rill_choker c;
    struct rill_choker_peer p[MAXP];
    bool silent[MAXP];
    size_t n;
    uint64_t next;
};

static void sim_init(struct sim *s, const struct rill_choker_opts *o, size_t n, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    rill_rng_seed(&s->rng, seed);
    assert_int_equal(rill_choker_init(&s->c, o, &s->rng), 0);
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        struct rill_choker_peer *p = &s->p[i];
        p->id = 100 + i;
        p->peer_interested = true;
        p->am_interested = true;
        p->connected_at_ms = OLD;
        p->interested_at_ms = OLD;
        p->down_rate = 1000 * (i + 1); /* peer i is the i-th slowest */
        p->up_rate = 500 * (i + 1);
    }
}

static void step(struct sim *s, uint64_t now, bool seeding)
{
    for (size_t i = 0; i < s->n; i++)
        if (!s->silent[i])
            s->p[i].last_block_ms = now;
    assert_int_equal(rill_choker_decide(&s->c, s->p, s->n, now, seeding, &s->next), 0);
    for (size_t i = 0; i < s->n; i++)
        s->p[i].unchoked = s->p[i].unchoke;
}

static bool regular(const struct sim *s, size_t i)
{
    return s->p[i].unchoke && !s->p[i].st.optimistic;
}

static size_t count_unchoked(const struct sim *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += s->p[i].unchoke;
    return k;
}

/* The index of the single optimistic holder; fails if there is not exactly one. */
static size_t holder(const struct sim *s)
{
    size_t h = SIZE_MAX, k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->p[i].st.optimistic) {
            assert_true(s->p[i].unchoke);
            h = i;
            k++;
        }
    }
    assert_int_equal(k, 1);
    return h;
}

/* Checks that the regular set is exactly the peers listed in `want`. */
static void expect_regular(const struct sim *s, const size_t *want, size_t k)
{
    size_t got = 0;
    for (size_t i = 0; i < s->n; i++)
        got += regular(s, i);
    assert_int_equal(got, k);
    for (size_t j = 0; j < k; j++)
        assert_true(regular(s, want[j]));
}

static struct rill_choker_opts opts_with(uint32_t slots, uint32_t opt)
{
    struct rill_choker_opts o;
    rill_choker_opts_default(&o);
    o.slots = slots;
    o.optimistic_slots = opt;
    return o;
}

/* The four fastest interested peers win at the 10 s marks and only there. */
static void test_fastest_four(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o = opts_with(4, 0);
    sim_init(&s, &o, 10, 1);
    step(&s, T0, false);
    expect_regular(&s, (size_t[]){6, 7, 8, 9}, 4);
    assert_int_equal(s.next, T0 + 10000);

    s.p[0].down_rate = 1000000; /* peer 0 becomes the fastest */
    step(&s, T0 + 5000, false); /* a recomputation: no slot is vacant */
    expect_regular(&s, (size_t[]){6, 7, 8, 9}, 4);
    assert_int_equal(s.next, T0 + 10000);
    step(&s, T0 + 9999, false);
    expect_regular(&s, (size_t[]){6, 7, 8, 9}, 4);
    step(&s, T0 + 10000, false);
    expect_regular(&s, (size_t[]){0, 7, 8, 9}, 4);
    assert_int_equal(s.next, T0 + 20000);
    assert_int_equal(s.p[0].st.unchoked_at_ms, T0 + 10000);
    assert_int_equal(s.p[6].st.choked_at_ms, T0 + 10000);
    assert_int_equal(s.p[9].st.unchoked_at_ms, T0);
    rill_choker_free(&s.c);
}

/* Slots left over after the peers sending us data go first to peers that
 * have us unchoked: a free-rider, which never unchokes anyone, is passed
 * over while a would-be trading partner waits. */
static void test_zero_rate_prefers_unchokers(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o = opts_with(4, 0);
    sim_init(&s, &o, 10, 7);
    for (size_t i = 0; i < 10; i++)
        s.p[i].down_rate = 0;
    s.p[9].down_rate = 5000; /* one peer sends: it keeps a slot */
    s.p[2].unchokes_us = s.p[4].unchokes_us = s.p[6].unchokes_us = true;
    step(&s, T0, false);
    expect_regular(&s, (size_t[]){2, 4, 6, 9}, 4);
    rill_choker_free(&s.c);
}

/* A fast peer that is not interested, or is a seed, gets no slot; interest
 * changes take effect at a recomputation only where a slot is vacant. */
static void test_uninterested(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o = opts_with(4, 0);
    sim_init(&s, &o, 10, 2);
    s.p[9].peer_interested = false;
    s.p[8].is_seed = true;
    step(&s, T0, false);
    expect_regular(&s, (size_t[]){4, 5, 6, 7}, 4);
    assert_false(s.p[9].unchoke);
    assert_false(s.p[8].unchoke);

    s.p[9].peer_interested = true; /* becomes interested: no vacancy yet */
    step(&s, T0 + 1000, false);
    expect_regular(&s, (size_t[]){4, 5, 6, 7}, 4);
    s.p[6].peer_interested = false; /* loses interest: choked, slot refilled */
    step(&s, T0 + 2000, false);
    expect_regular(&s, (size_t[]){4, 5, 7, 9}, 4);
    assert_false(s.p[6].unchoke);
    assert_int_equal(s.next, T0 + 10000);
    s.p[0].down_rate = 1000000;
    step(&s, T0 + 9000, false);
    expect_regular(&s, (size_t[]){4, 5, 7, 9}, 4);
    step(&s, T0 + 10000, false);
    expect_regular(&s, (size_t[]){0, 5, 7, 9}, 4);
    rill_choker_free(&s.c);
}

/* A peer leaving frees its slot at once for the next fastest. */
static void test_recompute_on_leave(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o = opts_with(4, 0);
    sim_init(&s, &o, 10, 3);
    step(&s, T0, false);
    s.n = 9; /* peer 9 disconnects */
    step(&s, T0 + 3000, false);
    expect_regular(&s, (size_t[]){5, 6, 7, 8}, 4);
    assert_int_equal(s.p[5].st.unchoked_at_ms, T0 + 3000);
    assert_int_equal(s.p[6].st.unchoked_at_ms, T0);
    assert_int_equal(s.next, T0 + 10000);
    rill_choker_free(&s.c);
}

/* The optimistic slot rotates at every 30 s mark, only then, and never to a
 * peer holding a regular slot. */
static void test_optimistic_rotation(void **state)
{
    (void)state;
    struct sim s;
    sim_init(&s, NULL, 10, 4);
    size_t prev = SIZE_MAX, distinct = 0;
    bool seen[MAXP] = {false};
    for (uint64_t t = 0; t <= 300000; t += 5000) {
        step(&s, T0 + t, false);
        expect_regular(&s, (size_t[]){6, 7, 8, 9}, 4);
        size_t h = holder(&s);
        assert_true(h < 6);
        assert_int_equal(count_unchoked(&s), 5);
        if (t % 30000 == 0 && t > 0)
            assert_int_not_equal(h, prev);
        else if (t > 0)
            assert_int_equal(h, prev);
        assert_int_equal(s.next, T0 + (t / 10000 + 1) * 10000);
        if (!seen[h]) {
            seen[h] = true;
            distinct++;
        }
        prev = h;
    }
    assert_true(distinct >= 4);
    rill_choker_free(&s.c);
}

/* Weighted draw: over many fresh decisions, a newcomer is picked about three
 * times as often as an old peer; with weight 1, as often. */
static void newcomer_ratio(uint32_t weight, double lo, double hi)
{
    struct rill_choker_opts o = opts_with(4, 1);
    o.newcomer_weight = weight;
    struct sim s;
    sim_init(&s, &o, 16, 5);
    uint64_t picks_new = 0, picks_old = 0;
    for (int trial = 0; trial < 6000; trial++) {
        rill_choker_free(&s.c);
        assert_int_equal(rill_choker_init(&s.c, &o, &s.rng), 0);
        for (size_t i = 0; i < s.n; i++) {
            memset(&s.p[i].st, 0, sizeof s.p[i].st);
            s.p[i].unchoked = false;
            s.p[i].down_rate = i >= 12 ? 1000000 : 0;          /* 12..15 hold the regular slots */
            s.p[i].connected_at_ms = i < 4 ? T0 - 59000 : OLD; /* 0..3 are newcomers */
        }
        step(&s, T0, false);
        size_t h = holder(&s);
        assert_true(h < 12);
        if (h < 4)
            picks_new++;
        else
            picks_old++;
    }
    double ratio = ((double)picks_new / 4) / ((double)picks_old / 8);
    assert_true(ratio >= lo && ratio <= hi);
    rill_choker_free(&s.c);
}

static void test_newcomers_favoured(void **state)
{
    (void)state;
    newcomer_ratio(3, 2.6, 3.4);
    newcomer_ratio(1, 0.85, 1.15);
}

/* A peer silent for 60 s while we want its data loses its regular slot even
 * with a high measured rate, may still be the optimistic one, and wins its
 * slot back once it sends again. */
static void test_snubbed(void **state)
{
    (void)state;
    struct sim s;
    sim_init(&s, NULL, 5, 6);
    step(&s, T0, false);
    expect_regular(&s, (size_t[]){1, 2, 3, 4}, 4);
    assert_int_equal(holder(&s), 0);

    s.silent[4] = true; /* last block at T0 */
    for (uint64_t t = 10000; t <= 50000; t += 10000) {
        step(&s, T0 + t, false);
        assert_true(regular(&s, 4));
    }
    assert_false(rill_choker_snubbed(&s.c.opts, &s.p[4], T0 + 59999));
    assert_true(rill_choker_snubbed(&s.c.opts, &s.p[4], T0 + 60000));
    step(&s, T0 + 60000, false);
    expect_regular(&s, (size_t[]){0, 1, 2, 3}, 4);
    assert_int_equal(holder(&s), 4); /* the only candidate left */
    assert_true(s.p[4].unchoke);

    s.silent[4] = false;         /* it sends again */
    step(&s, T0 + 65000, false); /* recomputation: holders keep their slots */
    assert_int_equal(holder(&s), 4);
    step(&s, T0 + 70000, false);
    expect_regular(&s, (size_t[]){1, 2, 3, 4}, 4); /* promoted */
    assert_int_equal(holder(&s), 0);               /* the freed slot refilled */

    /* Snubbing counts from when we became interested, and needs interest. */
    struct rill_choker_peer p = {
        .am_interested = true, .connected_at_ms = OLD, .interested_at_ms = T0 - 5000};
    assert_false(rill_choker_snubbed(&s.c.opts, &p, T0));
    assert_true(rill_choker_snubbed(&s.c.opts, &p, T0 + 55000));
    p.am_interested = false;
    assert_false(rill_choker_snubbed(&s.c.opts, &p, T0 + 55000));
    rill_choker_free(&s.c);
}

/* optimistic_slots = 0: only the regular slots, on a pure 10 s cadence. */
static void test_no_optimistic(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o = opts_with(4, 0);
    sim_init(&s, &o, 10, 7);
    for (uint64_t t = 0; t <= 120000; t += 10000) {
        step(&s, T0 + t, false);
        expect_regular(&s, (size_t[]){6, 7, 8, 9}, 4);
        assert_int_equal(count_unchoked(&s), 4);
        assert_int_equal(s.next, T0 + t + 10000);
        for (size_t i = 0; i < s.n; i++)
            assert_false(s.p[i].st.optimistic);
    }
    rill_choker_free(&s.c);
}

/* Slot counts are options. */
static void test_slot_counts(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o = opts_with(2, 2);
    sim_init(&s, &o, 10, 8);
    step(&s, T0, false);
    expect_regular(&s, (size_t[]){8, 9}, 2);
    assert_int_equal(count_unchoked(&s), 4);
    rill_choker_free(&s.c);

    o = opts_with(7, 0);
    sim_init(&s, &o, 10, 8);
    step(&s, T0, false);
    expect_regular(&s, (size_t[]){3, 4, 5, 6, 7, 8, 9}, 7);
    rill_choker_free(&s.c);

    o = opts_with(0, 1);
    sim_init(&s, &o, 10, 8);
    step(&s, T0, false);
    assert_int_equal(count_unchoked(&s), 1);
    (void)holder(&s);
    rill_choker_free(&s.c);

    o = opts_with(4, 1); /* more slots than interested peers: all of them */
    sim_init(&s, &o, 3, 8);
    step(&s, T0, false);
    assert_int_equal(count_unchoked(&s), 3);
    rill_choker_free(&s.c);
}

/* Seeding: the slots rotate so every interested peer is served within a
 * bounded number of rounds: 20 peers, 4 slots, 30 s quota: 15 rounds. */
static void seeding_rotation(uint32_t opt, size_t max_per_round)
{
    struct sim s;
    struct rill_choker_opts o = opts_with(4, opt);
    sim_init(&s, &o, 20, 9);
    int last[20];
    for (size_t i = 0; i < 20; i++) {
        last[i] = -1;
        s.p[i].am_interested = false; /* we are a seed */
    }
    for (int round = 0; round < 90; round++) {
        step(&s, T0 + (uint64_t)round * 10000, true);
        size_t k = count_unchoked(&s);
        assert_true(k >= 4 && k <= max_per_round);
        for (size_t i = 0; i < 20; i++) {
            if (s.p[i].unchoke)
                last[i] = round;
            s.p[i].uploaded += s.p[i].unchoke ? 100000 : 0;
            /* Served within 15 rounds of the start, and never waits longer. */
            assert_true(round - last[i] <= 15);
        }
    }
    for (size_t i = 0; i < 20; i++)
        assert_true(last[i] >= 75);
    rill_choker_free(&s.c);
}

static void test_seeding_rotation(void **state)
{
    (void)state;
    seeding_rotation(0, 4);
    seeding_rotation(1, 5);
}

/* Seeding with few peers: all are served; by upload rate when the slots are
 * short; a byte quota moves a peer to the back before its time is up. */
static void test_seeding_rate_and_quota(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o = opts_with(2, 0);
    o.rotate_bytes = 1000000;
    o.rotate_ms = 3600000;
    sim_init(&s, &o, 4, 10);
    for (size_t i = 0; i < 4; i++)
        s.p[i].connected_at_ms = T0 - 1000; /* equal waits: upload rate decides */
    step(&s, T0, true);
    expect_regular(&s, (size_t[]){2, 3}, 2);
    s.p[3].uploaded = 1000000; /* peer 3 used its quota */
    step(&s, T0 + 10000, true);
    expect_regular(&s, (size_t[]){2, 1}, 2); /* the longest waiter, then by rate */
    s.p[2].uploaded = 999999;
    step(&s, T0 + 20000, true);
    expect_regular(&s, (size_t[]){2, 1}, 2);
    rill_choker_free(&s.c);

    sim_init(&s, NULL, 3, 10);
    step(&s, T0, true);
    assert_int_equal(count_unchoked(&s), 3);
    for (uint64_t t = 10000; t <= 100000; t += 10000) {
        step(&s, T0 + t, true);
        assert_int_equal(count_unchoked(&s), 3); /* quota used, nobody waiting: keep */
    }
    rill_choker_free(&s.c);
}

/* None: every interested peer that is not a seed, at once. */
static void test_mode_none(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o;
    rill_choker_opts_default(&o);
    o.mode = RILL_CHOKER_NONE;
    sim_init(&s, &o, 10, 11);
    s.p[3].peer_interested = false;
    s.p[4].is_seed = true;
    step(&s, T0, false);
    assert_int_equal(count_unchoked(&s), 8);
    assert_false(s.p[3].unchoke);
    assert_false(s.p[4].unchoke);
    s.p[3].peer_interested = true;
    step(&s, T0 + 100, false);
    assert_int_equal(count_unchoked(&s), 9);
    for (size_t i = 0; i < s.n; i++)
        assert_false(s.p[i].st.optimistic);
    assert_int_equal(s.next, T0 + 10000);
    step(&s, T0 + 200, true);
    assert_int_equal(count_unchoked(&s), 9);
    rill_choker_free(&s.c);
}

/* Round-robin while downloading ignores rates (and snubbing): the fastest
 * peer is served no more than its share, every peer within 9 rounds. */
static void test_mode_round_robin(void **state)
{
    (void)state;
    struct sim s;
    struct rill_choker_opts o = opts_with(4, 0);
    o.mode = RILL_CHOKER_ROUND_ROBIN;
    sim_init(&s, &o, 12, 12);
    s.p[11].down_rate = 100000000;
    s.silent[0] = true;
    int last[12], served11 = 0;
    for (size_t i = 0; i < 12; i++)
        last[i] = -1;
    for (int round = 0; round < 45; round++) {
        step(&s, T0 + (uint64_t)round * 10000, false);
        assert_int_equal(count_unchoked(&s), 4);
        served11 += s.p[11].unchoke;
        for (size_t i = 0; i < 12; i++) {
            if (s.p[i].unchoke)
                last[i] = round;
            assert_true(round - last[i] <= 9);
        }
    }
    assert_in_range(served11, 12, 18); /* a third of 45 rounds, not all */
    assert_true(last[0] >= 36);        /* the silent peer too */
    rill_choker_free(&s.c);
}

/* Late calls keep the phase; a switch to seeding decides at once and
 * restarts the cadence. */
static void test_cadence(void **state)
{
    (void)state;
    struct sim s;
    sim_init(&s, NULL, 10, 13);
    step(&s, T0, false);
    size_t h = holder(&s);
    assert_int_equal(s.next, T0 + 10000);
    s.p[0].down_rate = 1000000;
    step(&s, T0 + 25000, false); /* two deadlines missed: a regular decision */
    assert_true(regular(&s, 0));
    assert_int_equal(s.next, T0 + 30000);
    if (h != 0)
        assert_int_equal(holder(&s), h); /* the rotation is not due yet */
    step(&s, T0 + 31000, true);
    assert_int_equal(s.next, T0 + 41000);
    step(&s, T0 + 41000, true);
    assert_int_equal(s.next, T0 + 51000);
    rill_choker_free(&s.c);
}

/* An optimistic holder that leaves is replaced at once, and the rotation
 * deadline does not move. */
static void test_optimistic_refill(void **state)
{
    (void)state;
    struct sim s;
    sim_init(&s, NULL, 10, 14);
    step(&s, T0, false);
    size_t h = holder(&s);
    s.p[h].peer_interested = false;
    step(&s, T0 + 4000, false);
    size_t h2 = holder(&s);
    assert_int_not_equal(h2, h);
    assert_false(s.p[h].unchoke);
    step(&s, T0 + 10000, false);
    assert_int_equal(holder(&s), h2);
    step(&s, T0 + 30000, false);
    assert_int_not_equal(holder(&s), h2);
    rill_choker_free(&s.c);
}

/* Same seed, same decisions. */
static void test_replay(void **state)
{
    (void)state;
    struct sim a, b;
    sim_init(&a, NULL, 30, 99);
    sim_init(&b, NULL, 30, 99);
    for (uint64_t t = 0; t <= 200000; t += 10000) {
        step(&a, T0 + t, false);
        step(&b, T0 + t, false);
        for (size_t i = 0; i < 30; i++)
            assert_int_equal(a.p[i].unchoke, b.p[i].unchoke);
    }
    rill_choker_free(&a.c);
    rill_choker_free(&b.c);
}

/* 10,000 peers, as the simulator runs: sane sets and quick decisions. */
static void test_many_peers(void **state)
{
    (void)state;
    enum { N = 10000 };
    struct rill_rng rng, facts;
    rill_rng_seed(&rng, 15);
    rill_rng_seed(&facts, 16);
    struct rill_choker c;
    assert_int_equal(rill_choker_init(&c, NULL, &rng), 0);
    assert_int_equal(rill_choker_reserve(&c, N), 0);
    struct rill_choker_peer *p = calloc(N, sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < N; i++) {
        p[i].peer_interested = rill_rng_below(&facts, 2);
        p[i].am_interested = true;
        p[i].connected_at_ms = T0 - rill_rng_below(&facts, 120000);
        p[i].down_rate = rill_rng_below(&facts, 1000000);
    }
    uint64_t next = 0;
    for (int k = 0; k < 40; k++) {
        uint64_t now = T0 + (uint64_t)k * 5000;
        for (size_t i = 0; i < N; i++)
            p[i].last_block_ms = now;
        assert_int_equal(rill_choker_decide(&c, p, N, now, k >= 30, &next), 0);
        size_t on = 0;
        for (size_t i = 0; i < N; i++) {
            on += p[i].unchoke;
            assert_true(!p[i].unchoke || p[i].peer_interested);
            p[i].unchoked = p[i].unchoke;
        }
        assert_int_equal(on, 5);
    }
    free(p);
    rill_choker_free(&c);
    rill_choker_free(&c); /* twice is fine */
}

static void test_init_checks(void **state)
{
    (void)state;
    struct rill_rng rng;
    rill_rng_seed(&rng, 1);
    struct rill_choker c;
    struct rill_choker_opts o;
    rill_choker_opts_default(&o);
    o.interval_ms = 0;
    assert_int_equal(rill_choker_init(&c, &o, &rng), RILL_EINVAL);
    rill_choker_opts_default(&o);
    o.newcomer_weight = 0;
    assert_int_equal(rill_choker_init(&c, &o, &rng), RILL_EINVAL);
    assert_int_equal(rill_choker_init(&c, NULL, NULL), RILL_EINVAL);
    assert_int_equal(rill_choker_init(&c, NULL, &rng), 0);
    uint64_t next;
    assert_int_equal(rill_choker_decide(&c, NULL, 0, T0, false, &next), 0);
    assert_int_equal(next, T0 + 10000);
    rill_choker_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fastest_four),
        cmocka_unit_test(test_zero_rate_prefers_unchokers),
        cmocka_unit_test(test_uninterested),
        cmocka_unit_test(test_recompute_on_leave),
        cmocka_unit_test(test_optimistic_rotation),
        cmocka_unit_test(test_newcomers_favoured),
        cmocka_unit_test(test_snubbed),
        cmocka_unit_test(test_no_optimistic),
        cmocka_unit_test(test_slot_counts),
        cmocka_unit_test(test_seeding_rotation),
        cmocka_unit_test(test_seeding_rate_and_quota),
        cmocka_unit_test(test_mode_none),
        cmocka_unit_test(test_mode_round_robin),
        cmocka_unit_test(test_cadence),
        cmocka_unit_test(test_optimistic_refill),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_many_peers),
        cmocka_unit_test(test_init_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
