/* The swarm's memory: exact bytes as tables grow and shrink, every peer
 * reachable by a pick at every table size, one-peer torrents, 100,000 peers
 * in one torrent and 10,000 torrents (see swarm_internal.h for the layout). */
#include "testutil.h"
#include "swarm_test_fixture.h"

/* 100,000 IPv4 peers in one torrent: memory per peer, every peer findable
 * after growth, shrink as they leave, nothing left after expiry. */
static void test_growth_shrink_100k(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 13);
    enum { N = 100000 };
    uint64_t base = stats(c).memory_bytes;
    for (uint32_t ip = 0; ip < N; ip++) {
        struct rill_swarm_announce a =
            mk4(1, 0x0a000000u + ip, ip % 3 == 0, RILL_TRACKER_EVENT_STARTED, 0);
        assert_int_equal(ann(c, &a, T0), 0);
        assert_true(c->r.registered);
    }
    struct rill_swarm_stats st = stats(c);
    assert_int_equal(st.seeders + st.leechers, N);
    double per = (double)(st.memory_bytes - base) / N;
    print_message("memory: %.2f bytes per IPv4 peer, %d peers in one torrent\n", per, N);
    assert_true(per < 16.0);
    /* Half leave; every remaining one is still found (refresh, not add). */
    for (uint32_t ip = 0; ip < N; ip += 2) {
        struct rill_swarm_announce a =
            mk4(1, 0x0a000000u + ip, ip % 3 == 0, RILL_TRACKER_EVENT_STOPPED, 0);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    assert_int_equal(stats(c).seeders + stats(c).leechers, N / 2);
    for (uint32_t ip = 1; ip < N; ip += 2) {
        struct rill_swarm_announce a =
            mk4(1, 0x0a000000u + ip, ip % 3 == 0, RILL_TRACKER_EVENT_NONE, 0);
        assert_int_equal(ann(c, &a, T0 + MIN_MS), 0);
    }
    assert_int_equal(c->r.complete + c->r.incomplete, N / 2);
    /* All but 1,000 leave: the table shrinks, the rest are intact. */
    uint64_t before = stats(c).memory_bytes;
    for (uint32_t ip = 1; ip < N - 2000; ip += 2) {
        struct rill_swarm_announce a =
            mk4(1, 0x0a000000u + ip, false, RILL_TRACKER_EVENT_STOPPED, 0);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    assert_true(stats(c).memory_bytes < before / 16);
    for (uint32_t ip = N - 1999; ip < N; ip += 2) {
        struct rill_swarm_announce a =
            mk4(1, 0x0a000000u + ip, ip % 3 == 0, RILL_TRACKER_EVENT_NONE, 200);
        assert_int_equal(ann(c, &a, T0), 0);
        assert_int_equal(c->r.complete + c->r.incomplete, 1000);
    }
    assert_int_equal(rill_swarm_expire(c->s, T0 + 2 * 3600 * 1000), 1000);
    assert_int_equal(stats(c).memory_bytes, base);
    ctx_free(c);
}

/* What a torrent's record and IPv4 table take by peer count, as laid out
 * in swarm_internal.h: a 72-byte record holding 4 slots (3 peers at 15/16
 * load), then segments of 4, 8, 16, 32, 32, 32 and 64 slots of 8 bytes,
 * each after an 8-byte link (tables of 8 to 192 slots). */
static const struct {
    uint32_t peers;
    uint64_t bytes;
} layout4[] = {{3, 72},   {7, 112},  {15, 184},   {30, 320},
               {60, 584}, {90, 848}, {120, 1112}, {180, 1632}};

static uint64_t layout_bytes(uint32_t peers)
{
    size_t k = 0;
    while (peers > layout4[k].peers)
        k++;
    return layout4[k].bytes;
}

/* Peer 1 of torrent 1 gets every other peer (ips 2..n) once: the walk
 * covers every slot whatever the slot count (2^a or 3 * 2^a). */
static void check_all_picked(struct ctx *c, uint32_t n)
{
    struct rill_swarm_announce a = mk4(1, 1, false, RILL_TRACKER_EVENT_NONE, 200);
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(c->r.n4, n - 1);
    bool seen[200] = {false};
    for (size_t k = 0; k < c->r.n4; k++) {
        uint32_t ip = ip_at4(c, k);
        assert_true(ip >= 2 && ip <= n && !seen[ip]);
        seen[ip] = true;
    }
}

/* Memory exactly as designed, growing and shrinking, and the IPv6 table
 * taking the record's inline slots (which move to the heap). */
static void test_memory_layout(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 18);
    uint64_t empty = stats(c).memory_bytes, base = empty + 16 * sizeof(void *); /* torrent table */
    for (uint32_t n = 1; n <= 180; n++) {
        struct rill_swarm_announce a = mk4(1, n, false, RILL_TRACKER_EVENT_STARTED, 0);
        assert_int_equal(ann(c, &a, T0), 0);
        assert_int_equal(stats(c).memory_bytes - base, layout_bytes(n));
        check_all_picked(c, n);
    }
    /* Leaving: under 1/8 load a table shrinks to at most half load. */
    for (uint32_t n = 179; n >= 1; n--) {
        struct rill_swarm_announce a = mk4(1, n + 1, false, RILL_TRACKER_EVENT_STOPPED, 0);
        assert_int_equal(ann(c, &a, T0), 0);
        uint64_t want = n >= 24 ? 1632 : n >= 8 ? 584 : n >= 2 ? 184 : 72;
        assert_int_equal(stats(c).memory_bytes - base, want);
        check_all_picked(c, n);
    }
    for (uint32_t ip = 2; ip <= 5; ip++) {
        struct rill_swarm_announce a = mk4(1, ip, false, RILL_TRACKER_EVENT_NONE, 0);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    assert_int_equal(stats(c).memory_bytes - base, 112);
    /* An IPv6 peer: IPv4 segment 0 moves out (32), IPv6 segment 0 (80). */
    struct rill_swarm_announce v6 = mk6(1, 9, false, RILL_TRACKER_EVENT_NONE, 50);
    assert_int_equal(ann(c, &v6, T0), 0);
    assert_int_equal(stats(c).memory_bytes - base, 112 + 32 + 80);
    assert_int_equal(c->r.n4, 5);
    check_all_picked(c, 5);
    assert_int_equal(c->r.n6, 1);
    for (uint32_t ip = 1; ip <= 5; ip++) {
        struct rill_swarm_announce a = mk4(1, ip, false, RILL_TRACKER_EVENT_STOPPED, 0);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    assert_int_equal(stats(c).memory_bytes - base, 72 + 80); /* the IPv4 table is gone */
    struct rill_swarm_announce a = mk4(1, 7, true, RILL_TRACKER_EVENT_NONE, 50);
    assert_int_equal(ann(c, &a, T0), 0);
    assert_int_equal(stats(c).memory_bytes - base, 72 + 32 + 80);
    assert_int_equal(c->r.n6, 1);
    v6.event = RILL_TRACKER_EVENT_STOPPED;
    assert_int_equal(ann(c, &v6, T0), 0);
    assert_int_equal(stats(c).memory_bytes - base, 72 + 32);
    assert_int_equal(c->r.complete, 1);
    assert_int_equal(rill_swarm_expire(c->s, T0 + 3 * 3600 * 1000), 1);
    assert_int_equal(stats(c).memory_bytes, empty);
    ctx_free(c);
}

/* Torrents of one peer, the commonest kind on a big tracker: a record
 * each and a share of the torrent table. */
static void test_one_peer_torrents(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 19);
    enum { T = 3000 };
    uint64_t base = stats(c).memory_bytes;
    for (uint32_t t = 0; t < T; t++) {
        struct rill_swarm_announce a = mk4(t, t, false, RILL_TRACKER_EVENT_STARTED, 0);
        assert_int_equal(ann(c, &a, T0), 0);
    }
    double per = (double)(stats(c).memory_bytes - base) / T;
    print_message("memory: %.2f bytes per torrent of 1 IPv4 peer, %d torrents\n", per, T);
    assert_true(per < 72 + 4096.0 * sizeof(void *) / T + 0.01); /* 4096 slots at 3/4 load */
    ctx_free(c);
}

/* 100,000 peers over 10,000 torrents, then all gone. */
static void test_10k_torrents(void **state)
{
    (void)state;
    struct ctx *c = ctx_new(NULL, 14);
    enum { T = 10000, P = 10 };
    uint64_t base = stats(c).memory_bytes;
    for (uint32_t p = 0; p < P; p++)
        for (uint32_t t = 0; t < T; t++) {
            struct rill_swarm_announce a =
                mk4(t, 0x0a000000u + p * T + t, p == 0, RILL_TRACKER_EVENT_STARTED, 50);
            assert_int_equal(ann(c, &a, T0 + p * MIN_MS), 0);
            assert_int_equal(c->r.n4, p);
        }
    struct rill_swarm_stats st = stats(c);
    assert_int_equal(st.torrents, T);
    assert_int_equal(st.seeders, T);
    assert_int_equal(st.leechers, T * (P - 1));
    print_message("memory: %.2f bytes per IPv4 peer, %d peers over %d torrents\n",
                  (double)(st.memory_bytes - base) / (T * P), T * P, T);
    for (uint32_t t = 0; t < T; t++) {
        struct rill_tracker_scrape_entry e;
        scrape(c, t, &e);
        assert_int_equal(e.complete, 1);
        assert_int_equal(e.incomplete, P - 1);
    }
    /* The oldest half of the peers expire first, then the rest. */
    uint64_t silent = (1800 + 900) * UINT64_C(1000);
    assert_int_equal(rill_swarm_expire(c->s, T0 + 4 * MIN_MS + silent + MIN_MS), T * 5);
    assert_int_equal(stats(c).torrents, T);
    assert_int_equal(rill_swarm_expire(c->s, T0 + 9 * MIN_MS + silent + MIN_MS), T * 5);
    st = stats(c);
    assert_int_equal(st.torrents, 0);
    assert_int_equal(st.seeders + st.leechers, 0);
    assert_int_equal(st.memory_bytes, base);
    ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth_shrink_100k),
        cmocka_unit_test(test_memory_layout),
        cmocka_unit_test(test_one_peer_torrents),
        cmocka_unit_test(test_10k_torrents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
