/* The swarm core's behaviour with a fake clock and a seeded generator:
 * limits, announce/refresh/stop, counts, subsets (never the announcer, no
 * seeds for a seed, numwant, randomness), families, expiry, caps, scrape,
 * churn, and a long random run against a simple model. Memory and layout
 * are in test_swarm_memory.c. */
#include "testutil.h"
#include "swarm_test_fixture.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_limits_defaults(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 1);
    const struct rill_swarm_limits *l = rill_swarm_limits(c->s);
    assert_int_equal(l->max_torrents, 100000);
    assert_int_equal(l->max_peers_per_torrent, 100000);
    assert_int_equal(l->interval_s, 1800);
    assert_int_equal(l->min_interval_s, 900);
    assert_int_equal(l->grace_s, 900);
    ctx_free(c);
    struct rill_swarm_limits in = {.interval_s = 5, .min_interval_s = 100000, .grace_s = 99999};
    c = ctx_new(&in, 1);
    l = rill_swarm_limits(c->s);
    assert_int_equal(l->interval_s, RILL_TRACKER_INTERVAL_MIN);
    assert_int_equal(l->min_interval_s, RILL_TRACKER_INTERVAL_MIN); /* never above interval */
    assert_true(l->grace_s <= 3600); /* the age byte must not wrap within the limit */
    ctx_free(c);
    in = (struct rill_swarm_limits){.interval_s = 100000};
    c = ctx_new(&in, 1);
    assert_int_equal(rill_swarm_limits(c->s)->interval_s, RILL_TRACKER_INTERVAL_MAX);
    struct rill_swarm_announce a = mk4(1, 1, false, RILL_TRACKER_EVENT_STARTED, 50);
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(c->r.interval, RILL_TRACKER_INTERVAL_MAX);
    assert_int_equal(c->r.min_interval, RILL_TRACKER_INTERVAL_MAX / 2);
    ctx_free(c);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 2);
    struct rill_swarm_announce a = mk4(1, 1, false, RILL_TRACKER_EVENT_NONE, 50);
    a.family = 5;
    assert_int_equal(ann(c, &a, T0), RILL_EINVAL);
    a = mk4(1, 1, false, RILL_TRACKER_EVENT_NONE, 50);
    a.port = 0;
    assert_int_equal(ann(c, &a, T0), RILL_EINVAL);
    assert_int_equal(stats(c).torrents, 0);
    assert_int_equal(stats(c).announces, 0);
    ctx_free(c);
}

static void test_announce_refresh_stop(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 3);
    struct rill_swarm_announce a = mk4(1, 100, false, RILL_TRACKER_EVENT_STARTED, 50);
    assert_int_equal(ann(c, &a, T0), 0);
    assert_true(c->r.registered);
    assert_int_equal(c->r.n4, 0); /* alone: never itself */
    assert_int_equal(c->r.complete, 0);
    assert_int_equal(c->r.incomplete, 1);
    assert_int_equal(c->r.interval, 1800);
    assert_int_equal(c->r.min_interval, 900);
    struct rill_swarm_announce b = mk4(1, 200, true, RILL_TRACKER_EVENT_STARTED, 50);
    assert_int_equal(ann(c, &b, T0), 0);
    assert_int_equal(c->r.n4, 1);
    assert_int_equal(ip_at4(c, 0), 100);
    assert_int_equal(c->r.complete, 1);
    assert_int_equal(c->r.incomplete, 1);
    /* A refresh adds nothing. */
    a.event = RILL_TRACKER_EVENT_NONE;
    assert_int_equal(ann(c, &a, T0 + 1000), 0);
    assert_true(c->r.registered);
    assert_int_equal(c->r.n4, 1);
    assert_int_equal(ip_at4(c, 0), 200);
    assert_int_equal(c->r.complete + c->r.incomplete, 2);
    /* Same address, other port: another peer. */
    struct rill_swarm_announce a2 = a;
    a2.port = 1;
    assert_int_equal(ann(c, &a2, T0), 0);
    assert_int_equal(c->r.incomplete, 2);
    assert_int_equal(c->r.n4, 2);
    a2.event = RILL_TRACKER_EVENT_STOPPED;
    assert_int_equal(ann(c, &a2, T0), 0);
    assert_false(c->r.registered);
    assert_int_equal(c->r.n4, 0);
    assert_int_equal(c->r.incomplete, 1);
    a.event = RILL_TRACKER_EVENT_STOPPED;
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(c->r.complete, 1);
    assert_int_equal(c->r.incomplete, 0);
    assert_int_equal(ann(c, &a, T0), 0); /* stopping twice is harmless */
    assert_int_equal(c->r.incomplete, 0);
    struct rill_swarm_stats st = stats(c);
    assert_int_equal(st.seeders, 1);
    assert_int_equal(st.leechers, 0);
    assert_int_equal(st.announces, 7);
    /* A stop for an unknown torrent creates nothing. */
    struct rill_swarm_announce z = mk4(2, 1, false, RILL_TRACKER_EVENT_STOPPED, 50);
    assert_int_equal(ann(c, &z, T0), 0);
    assert_false(c->r.registered);
    assert_int_equal(stats(c).torrents, 1);
    ctx_free(c);
}

static void test_counts_completed(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 4);
    struct rill_swarm_announce l = mk4(1, 1, false, RILL_TRACKER_EVENT_STARTED, 50);
    assert_int_equal(ann(c, &l, T0), 0);
    l.event = RILL_TRACKER_EVENT_COMPLETED;
    l.seed = true;
    assert_int_equal(ann(c, &l, T0), 0);
    assert_int_equal(c->r.downloaded, 1);
    assert_int_equal(c->r.complete, 1);
    assert_int_equal(c->r.incomplete, 0);
    assert_int_equal(ann(c, &l, T0), 0); /* completed again: counted once */
    assert_int_equal(c->r.downloaded, 1);
    /* A new peer announcing completed as a seed counts; without left=0 not. */
    struct rill_swarm_announce n = mk4(1, 2, true, RILL_TRACKER_EVENT_COMPLETED, 50);
    assert_int_equal(ann(c, &n, T0), 0);
    assert_int_equal(c->r.downloaded, 2);
    struct rill_swarm_announce m = mk4(1, 3, false, RILL_TRACKER_EVENT_COMPLETED, 50);
    assert_int_equal(ann(c, &m, T0), 0);
    assert_int_equal(c->r.downloaded, 2);
    assert_int_equal(c->r.complete, 2);
    assert_int_equal(c->r.incomplete, 1);
    /* A leecher that now reports left=0 becomes a seeder without an event. */
    m.event = RILL_TRACKER_EVENT_NONE;
    m.seed = true;
    assert_int_equal(ann(c, &m, T0), 0);
    assert_int_equal(c->r.complete, 3);
    assert_int_equal(c->r.incomplete, 0);
    assert_int_equal(c->r.downloaded, 2);
    /* And back (a seed that lost data). */
    n.event = RILL_TRACKER_EVENT_NONE;
    n.seed = false;
    assert_int_equal(ann(c, &n, T0), 0);
    assert_int_equal(c->r.complete, 2);
    assert_int_equal(c->r.incomplete, 1);
    struct rill_swarm_stats st = stats(c);
    assert_int_equal(st.seeders, 2);
    assert_int_equal(st.leechers, 1);
    struct rill_tracker_scrape_entry e;
    scrape(c, 1, &e);
    assert_int_equal(e.complete, 2);
    assert_int_equal(e.incomplete, 1);
    assert_int_equal(e.downloaded, 2);
    ctx_free(c);
}

/* Never the announcer, no duplicates, and a seed gets only leechers. */
static void test_never_self_seed_gets_leechers(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 5);
    for (uint32_t ip = 1; ip <= 40; ip++) {
        struct rill_swarm_announce a = mk4(1, ip, ip % 2 == 0, RILL_TRACKER_EVENT_STARTED, 0);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    for (int round = 0; round < 5; round++) {
        for (uint32_t ip = 1; ip <= 40; ip++) {
            bool seed = ip % 2 == 0;
            struct rill_swarm_announce a = mk4(1, ip, seed, RILL_TRACKER_EVENT_NONE, 200);
            assert_int_equal(ann(c, &a, T0), 0);
            assert_int_equal(c->r.n4, seed ? 20 : 39);
            bool seen[41] = {false};
            for (size_t k = 0; k < c->r.n4; k++) {
                uint32_t got = ip_at4(c, k);
                assert_true(got >= 1 && got <= 40);
                assert_int_not_equal(got, ip);
                assert_false(seen[got]);
                seen[got] = true;
                if (seed)
                    assert_int_equal(got % 2, 1);
            }
        }
    }
    /* Small numwant from a seed: only leechers still. */
    struct rill_swarm_announce a = mk4(1, 2, true, RILL_TRACKER_EVENT_NONE, 5);
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(c->r.n4, 5);
    for (size_t k = 0; k < 5; k++)
        assert_int_equal(ip_at4(c, k) % 2, 1);
    /* A torrent of seeds only: a seed gets nothing, a leecher everyone. */
    for (uint32_t ip = 1; ip <= 10; ip++) {
        struct rill_swarm_announce b = mk4(2, ip, true, RILL_TRACKER_EVENT_NONE, 50);
        assert_int_equal(ann(c, &b, T0), 0);
        assert_int_equal(c->r.n4, 0);
    }
    struct rill_swarm_announce b = mk4(2, 99, false, RILL_TRACKER_EVENT_NONE, 50);
    assert_int_equal(ann(c, &b, T0), 0);
    assert_int_equal(c->r.n4, 10);
    ctx_free(c);
}

static void test_numwant_and_caps(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 6);
    for (uint32_t ip = 1; ip <= 300; ip++) {
        struct rill_swarm_announce a = mk4(1, ip, false, RILL_TRACKER_EVENT_NONE, 0);
        assert_int_equal(ann(c, &a, T0), 0);
        assert_int_equal(c->r.n4, 0); /* numwant 0 */
        struct rill_swarm_announce b = mk6(1, ip, false, RILL_TRACKER_EVENT_NONE, 0);
        assert_int_equal(ann(c, &b, T0), 0);
    }
    struct rill_swarm_announce a = mk4(1, 1, false, RILL_TRACKER_EVENT_NONE, 100000);
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(c->r.n4, WANT_MAX);
    assert_int_equal(c->r.n6, WANT_MAX);
    a.numwant = 7;
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(c->r.n4, 7);
    assert_int_equal(c->r.n6, 7);
    /* The caller's caps, and a family skipped with a cap of 0. */
    memset(&c->r, 0, sizeof c->r);
    memset(c->b4, 0xee, sizeof c->b4);
    c->r.peers4 = c->b4;
    c->r.cap4 = 3;
    c->r.peers6 = c->b6;
    c->r.cap6 = 0;
    a.numwant = 50;
    assert_int_equal(rill_swarm_announce(c->s, &a, T0, &c->r), 0);
    assert_int_equal(c->r.n4, 3);
    assert_int_equal(c->r.n6, 0);
    assert_int_equal(c->b4[3 * RILL_SWARM_PEER4_LEN], 0xee); /* nothing past the cap */
    c->r.peers4 = NULL;
    c->r.cap4 = 50;
    c->r.peers6 = NULL;
    c->r.cap6 = 50;
    assert_int_equal(rill_swarm_announce(c->s, &a, T0, &c->r), 0);
    assert_int_equal(c->r.n4 + c->r.n6, 0);
    assert_int_equal(c->r.incomplete, 600);
    ctx_free(c);
}

/* Over many announces every peer of a 1000-peer torrent comes up, spread
 * fairly, and consecutive answers differ. */
static void test_subset_random(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 7);
    enum { N = 1000, ROUNDS = 400 };
    for (uint32_t ip = 0; ip < N; ip++) {
        struct rill_swarm_announce a = mk4(1, ip, false, RILL_TRACKER_EVENT_NONE, 0);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    static unsigned hits[N];
    memset(hits, 0, sizeof hits);
    uint8_t prev[50 * RILL_SWARM_PEER4_LEN] = {0};
    size_t same = 0;
    for (int i = 0; i < ROUNDS; i++) {
        uint32_t me = (uint32_t)rill_rng_below(&c->rng, N);
        struct rill_swarm_announce a = mk4(1, me, false, RILL_TRACKER_EVENT_NONE, 50);
        assert_int_equal(ann(c, &a, T0), 0);
        assert_int_equal(c->r.n4, 50);
        for (size_t k = 0; k < 50; k++) {
            uint32_t ip = ip_at4(c, k);
            assert_true(ip < N);
            assert_int_not_equal(ip, me);
            hits[ip]++;
        }
        same += memcmp(prev, c->b4, sizeof prev) == 0;
        memcpy(prev, c->b4, sizeof prev);
    }
    assert_int_equal(same, 0);
    unsigned lo = ROUNDS, hi = 0;
    for (int ip = 0; ip < N; ip++) {
        lo = hits[ip] < lo ? hits[ip] : lo;
        hi = hits[ip] > hi ? hits[ip] : hi;
    }
    /* Each peer is expected about 20 times. */
    assert_true(lo >= 1);
    assert_true(hi <= 60);
    print_message("subset: each of %d peers returned %u to %u times in %d answers\n", N, lo, hi,
                  ROUNDS);
    ctx_free(c);
}

static void test_families_apart(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 8);
    for (uint32_t ip = 1; ip <= 5; ip++) {
        struct rill_swarm_announce a = mk4(1, ip, false, RILL_TRACKER_EVENT_NONE, 0);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    for (uint32_t ip = 1; ip <= 3; ip++) {
        struct rill_swarm_announce a = mk6(1, ip, ip == 1, RILL_TRACKER_EVENT_NONE, 0);
        assert_int_equal(ann(c, &a, T0), 0);
        assert_true(c->r.registered);
    }
    /* An IPv6 peer whose low bytes equal an IPv4 address is another peer. */
    struct rill_swarm_announce x =
        mk(RILL_TRACKER_IPV6, 1, 0, 6881, false, RILL_TRACKER_EVENT_NONE, 0);
    memset(x.addr, 0, 16);
    x.addr[3] = 1; /* the IPv4 peer 0.0.0.1 would share the first 4 bytes */
    assert_int_equal(ann(c, &x, T0), 0);
    assert_int_equal(c->r.complete, 1);
    assert_int_equal(c->r.incomplete, 8);
    x.event = RILL_TRACKER_EVENT_STOPPED;
    assert_int_equal(ann(c, &x, T0), 0);
    struct rill_swarm_announce a = mk6(1, 2, false, RILL_TRACKER_EVENT_NONE, 50);
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(c->r.n4, 5);
    assert_int_equal(c->r.n6, 2);
    for (size_t k = 0; k < c->r.n6; k++)
        assert_int_not_equal(ip_at6(c, k), 2);
    for (size_t k = 0; k < c->r.n4; k++)
        assert_true(ip_at4(c, k) >= 1 && ip_at4(c, k) <= 5);
    /* Stopping the IPv4 peer 2 leaves the IPv6 peer 2. */
    struct rill_swarm_announce s4 = mk4(1, 2, false, RILL_TRACKER_EVENT_STOPPED, 50);
    assert_int_equal(ann(c, &s4, T0), 0);
    assert_int_equal(c->r.complete + c->r.incomplete, 7);
    a.event = RILL_TRACKER_EVENT_NONE;
    assert_int_equal(ann(c, &a, T0), 0);
    assert_true(c->r.registered);
    assert_int_equal(c->r.n4, 4);
    assert_int_equal(c->r.complete + c->r.incomplete, 7);
    /* The IPv6 seed asks: no seeds in either family. */
    struct rill_swarm_announce sd = mk6(1, 1, true, RILL_TRACKER_EVENT_NONE, 50);
    assert_int_equal(ann(c, &sd, T0), 0);
    assert_int_equal(c->r.n4, 4);
    assert_int_equal(c->r.n6, 2);
    ctx_free(c);
}

/* Silent past interval + grace: dropped; refreshed: kept; empty torrents go. */
static void test_expiry(void **state)
{
    (void)state;
    struct rill_swarm_limits l = {.interval_s = 600, .grace_s = 300}; /* 15 minutes */
    struct ctx *c = ctx_new(&l, 9);
    uint64_t base = stats(c).memory_bytes;
    struct rill_swarm_announce a = mk4(1, 1, false, RILL_TRACKER_EVENT_STARTED, 0);
    struct rill_swarm_announce b = mk4(1, 2, true, RILL_TRACKER_EVENT_STARTED, 0);
    struct rill_swarm_announce solo = mk6(2, 3, false, RILL_TRACKER_EVENT_STARTED, 0);
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(ann(c, &b, T0), 0);
    assert_int_equal(ann(c, &solo, T0), 0);
    a.event = b.event = RILL_TRACKER_EVENT_NONE;
    assert_int_equal(stats(c).torrents, 2);
    /* Just under interval + grace of silence: nobody goes. */
    assert_int_equal(rill_swarm_expire(c->s, T0 + 900 * 1000 - 1), 0);
    assert_int_equal(ann(c, &a, T0 + 600 * 1000), 0); /* a refreshes */
    assert_int_equal(rill_swarm_expire(c->s, T0 + (900 + 120) * 1000), 2);
    struct rill_swarm_stats st = stats(c);
    assert_int_equal(st.expired, 2);
    assert_int_equal(st.torrents, 1);
    assert_int_equal(st.seeders, 0);
    assert_int_equal(st.leechers, 1);
    struct rill_tracker_scrape_entry e;
    scrape(c, 2, &e);
    assert_int_equal(e.incomplete + e.complete, 0);
    scrape(c, 1, &e);
    assert_int_equal(e.complete, 0);
    assert_int_equal(e.incomplete, 1);
    /* a goes quiet too: the torrent and all memory go. */
    assert_int_equal(rill_swarm_expire(c->s, T0 + (600 + 900 + 120) * 1000), 1);
    st = stats(c);
    assert_int_equal(st.torrents, 0);
    assert_int_equal(st.leechers, 0);
    assert_int_equal(st.memory_bytes, base);
    assert_int_equal(rill_swarm_expire(c->s, T0 + 10000 * 1000), 0);
    ctx_free(c);
}

/* Ten hours of minute sweeps: the age byte wraps twice; a peer announced at
 * minute m is there exactly while the sweep minute n has n - m <= 15. */
static void test_expiry_wraparound(void **state)
{
    (void)state;
    struct rill_swarm_limits l = {.interval_s = 600, .grace_s = 300};
    struct ctx *c = ctx_new(&l, 10);
    enum { MINUTES = 600, EVERY = 37 };
    struct rill_swarm_announce keep = mk4(1, 1, true, RILL_TRACKER_EVENT_NONE, 0);
    uint64_t origin = T0 - T0 % MIN_MS;
    for (uint32_t n = 0; n < MINUTES; n++) {
        uint64_t at = origin + n * MIN_MS;
        if (n % 10 == 0)
            assert_int_equal(ann(c, &keep, at + 500), 0);
        if (n % EVERY == 0) {
            struct rill_swarm_announce once = mk4(1, 100 + n, false, RILL_TRACKER_EVENT_NONE, 0);
            assert_int_equal(ann(c, &once, at + 500), 0);
        }
        rill_swarm_expire(c->s, at + 1000);
        uint32_t want = 0;
        for (uint32_t m = 0; m <= n; m += EVERY)
            want += n - m <= 15;
        struct rill_tracker_scrape_entry e;
        scrape(c, 1, &e);
        assert_int_equal(e.complete, 1);
        assert_int_equal(e.incomplete, want);
    }
    ctx_free(c);
}

static void test_max_torrents(void **state)
{
    (void)state;
    struct rill_swarm_limits l = {.max_torrents = 5};
    struct ctx *c = ctx_new(&l, 11);
    for (uint32_t t = 0; t < 5; t++) {
        struct rill_swarm_announce a = mk4(t, 1, false, RILL_TRACKER_EVENT_STARTED, 50);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    struct rill_swarm_announce x = mk4(5, 1, false, RILL_TRACKER_EVENT_STARTED, 50);
    assert_int_equal(ann(c, &x, T0), RILL_ELIMIT);
    assert_int_equal(stats(c).refused_torrents, 1);
    assert_int_equal(stats(c).torrents, 5);
    struct rill_tracker_scrape_entry e;
    scrape(c, 5, &e);
    assert_int_equal(e.incomplete, 0);
    /* Known torrents still work; a stop for an unknown one is no error. */
    struct rill_swarm_announce y = mk4(4, 2, false, RILL_TRACKER_EVENT_STARTED, 50);
    assert_int_equal(ann(c, &y, T0), 0);
    assert_int_equal(c->r.n4, 1);
    x.event = RILL_TRACKER_EVENT_STOPPED;
    assert_int_equal(ann(c, &x, T0), 0);
    /* Once torrents expire there is room again. */
    assert_int_equal(rill_swarm_expire(c->s, T0 + 3 * 3600 * 1000), 6);
    x.event = RILL_TRACKER_EVENT_STARTED;
    assert_int_equal(ann(c, &x, T0 + 3 * 3600 * 1000), 0);
    ctx_free(c);
}

static void test_max_peers(void **state)
{
    (void)state;
    struct rill_swarm_limits l = {.max_peers_per_torrent = 3};
    struct ctx *c = ctx_new(&l, 12);
    for (uint32_t ip = 1; ip <= 3; ip++) {
        struct rill_swarm_announce a = mk4(1, ip, false, RILL_TRACKER_EVENT_NONE, 50);
        assert_int_equal(ann(c, &a, T0), 0);
        assert_true(c->r.registered);
    }
    struct rill_swarm_announce x = mk4(1, 4, true, RILL_TRACKER_EVENT_COMPLETED, 50);
    assert_int_equal(ann(c, &x, T0), 0);
    assert_false(c->r.registered);
    assert_int_equal(c->r.n4, 3); /* answered all the same */
    assert_int_equal(c->r.incomplete, 3);
    assert_int_equal(c->r.complete, 0);
    assert_int_equal(c->r.downloaded, 1);
    assert_int_equal(stats(c).unregistered_peers, 1);
    /* Per family: an IPv6 peer fits; a known peer still refreshes. */
    struct rill_swarm_announce v6 = mk6(1, 4, false, RILL_TRACKER_EVENT_NONE, 50);
    assert_int_equal(ann(c, &v6, T0), 0);
    assert_true(c->r.registered);
    struct rill_swarm_announce k = mk4(1, 2, false, RILL_TRACKER_EVENT_NONE, 50);
    assert_int_equal(ann(c, &k, T0), 0);
    assert_true(c->r.registered);
    assert_int_equal(c->r.n4, 2);
    assert_int_equal(c->r.n6, 1);
    /* After a stop there is room. */
    k.event = RILL_TRACKER_EVENT_STOPPED;
    assert_int_equal(ann(c, &k, T0), 0);
    x.event = RILL_TRACKER_EVENT_NONE;
    assert_int_equal(ann(c, &x, T0), 0);
    assert_true(c->r.registered);
    assert_int_equal(c->r.complete, 1);
    ctx_free(c);
}

/* Random announces against a plain model: counts, subsets and membership
 * agree after every step (exercises backward-shift deletion hard). */
static void test_against_model(void **state)
{
    (void)state;
    struct rill_swarm_limits l = {.max_torrents = 4};
    struct ctx *c = ctx_new(&l, 15);
    enum { T = 3, A = 48 };
    static int8_t model[T][2][A]; /* -1 absent, 0 leecher, 1 seed */
    memset(model, -1, sizeof model);
    struct rill_rng r;
    rill_rng_seed(&r, 99);
    for (int step = 0; step < 20000; step++) {
        uint32_t t = (uint32_t)rill_rng_below(&r, T), ip = (uint32_t)rill_rng_below(&r, A);
        int fi = (int)rill_rng_below(&r, 2);
        bool seed = rill_rng_below(&r, 2);
        enum rill_tracker_event ev =
            rill_rng_below(&r, 4) == 0 ? RILL_TRACKER_EVENT_STOPPED : RILL_TRACKER_EVENT_NONE;
        struct rill_swarm_announce a = fi ? mk6(t, ip, seed, ev, 200) : mk4(t, ip, seed, ev, 200);
        assert_int_equal(ann(c, &a, T0), 0);
        model[t][fi][ip] = ev == RILL_TRACKER_EVENT_STOPPED ? -1 : seed;
        uint32_t sd = 0, le = 0, elig[2] = {0, 0};
        for (int f = 0; f < 2; f++)
            for (int i = 0; i < A; i++) {
                sd += model[t][f][i] == 1;
                le += model[t][f][i] == 0;
                elig[f] += model[t][f][i] == 0 || (model[t][f][i] == 1 && !seed);
            }
        assert_int_equal(c->r.complete, sd);
        assert_int_equal(c->r.incomplete, le);
        if (ev == RILL_TRACKER_EVENT_STOPPED)
            continue;
        elig[fi] -= !seed; /* not itself */
        assert_int_equal(c->r.n4, elig[0]);
        assert_int_equal(c->r.n6, elig[1]);
        for (size_t k = 0; k < c->r.n4; k++) {
            uint32_t got = ip_at4(c, k);
            assert_true(got < A && model[t][0][got] >= 0 && !(seed && model[t][0][got]));
            assert_false(fi == 0 && got == ip);
        }
        for (size_t k = 0; k < c->r.n6; k++) {
            uint32_t got = ip_at6(c, k);
            assert_true(got < A && model[t][1][got] >= 0 && !(seed && model[t][1][got]));
            assert_false(fi == 1 && got == ip);
        }
    }
    ctx_free(c);
}

static void test_scrape(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 16);
    struct rill_swarm_announce a = mk4(7, 1, true, RILL_TRACKER_EVENT_COMPLETED, 0);
    assert_int_equal(ann(c, &a, T0), 0);
    struct rill_swarm_announce b = mk6(7, 2, false, RILL_TRACKER_EVENT_STARTED, 0);
    assert_int_equal(ann(c, &b, T0), 0);
    struct rill_tracker_scrape_entry e;
    memset(&e, 0x55, sizeof e);
    scrape(c, 7, &e);
    assert_int_equal(e.complete, 1);
    assert_int_equal(e.incomplete, 1);
    assert_int_equal(e.downloaded, 1);
    memset(&e, 0x55, sizeof e);
    scrape(c, 8, &e); /* unknown: zeros, nothing created */
    assert_int_equal(e.complete, 0);
    assert_int_equal(e.incomplete, 0);
    assert_int_equal(e.downloaded, 0);
    struct rill_swarm_stats st = stats(c);
    assert_int_equal(st.scrapes, 2);
    assert_int_equal(st.torrents, 1);
    ctx_free(c);
}

static bool dropped_in(uint32_t wave, uint32_t t)
{
    return wave < 8 ? t % wave == 0 : t % 31 != 1;
}

/* Torrents dropped from the middle of the torrent table in waves: every
 * survivor is still found, and the table shrinks when most are gone. */
static void test_torrent_churn(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 17);
    enum { T = 6000 };
    uint64_t now = T0;
    for (uint32_t t = 0; t < T; t++) {
        struct rill_swarm_announce a = mk4(t, t, false, RILL_TRACKER_EVENT_NONE, 0);
        assert_int_equal(ann(c, &a, now), 0);
    }
    uint64_t full = stats(c).memory_bytes;
    static bool alive[T];
    for (uint32_t t = 0; t < T; t++)
        alive[t] = true;
    /* Waves drop multiples of 2, 3, ... 7, then all but t = 1 mod 31. */
    for (uint32_t wave = 2; wave <= 8; wave++) {
        now += 30 * MIN_MS;
        for (uint32_t t = 0; t < T; t++) {
            if (!alive[t] || dropped_in(wave, t))
                continue;
            struct rill_swarm_announce a = mk4(t, t, false, RILL_TRACKER_EVENT_NONE, 0);
            assert_int_equal(ann(c, &a, now), 0);
        }
        rill_swarm_expire(c->s, now + 17 * MIN_MS);
        uint64_t left = 0;
        for (uint32_t t = 0; t < T; t++) {
            alive[t] = alive[t] && !dropped_in(wave, t);
            left += alive[t];
            struct rill_tracker_scrape_entry e;
            scrape(c, t, &e);
            assert_int_equal(e.incomplete, alive[t]);
        }
        assert_int_equal(stats(c).torrents, left);
    }
    assert_true(stats(c).torrents > 0);
    assert_true(stats(c).torrents < T / 64);
    assert_true(stats(c).memory_bytes < full / 32); /* the torrent table shrank too */
    ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_defaults),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_announce_refresh_stop),
        cmocka_unit_test(test_counts_completed),
        cmocka_unit_test(test_never_self_seed_gets_leechers),
        cmocka_unit_test(test_numwant_and_caps),
        cmocka_unit_test(test_subset_random),
        cmocka_unit_test(test_families_apart),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expiry_wraparound),
        cmocka_unit_test(test_max_torrents),
        cmocka_unit_test(test_max_peers),
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_scrape),
        cmocka_unit_test(test_torrent_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
