/* End to end through the public API: sessions on one event loop, a seeder
 * and leechers on loopback, exact data at the end. */
#include "testutil.h"
#include "swarm_fixture.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* One seed, three leechers that know only the seed's address. */
static void test_seed_to_leechers(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {700000, 1, 0, 2500000, 16384 * 3};
    swarm_init(&sw, 32768, sizes, 5);
    struct rill_torrent *st;
    struct rill_session *seed =
        swarm_seed(&sw, (struct rill_torrent_params){.trust_resume = true}, &st);

    struct rill_session *leech[3];
    for (int i = 0; i < 3; i++) {
        char d[600];
        swarm_leech_dir(&sw, i, d, sizeof d);
        struct rill_torrent_params lp = {.mi = &sw.mi, .dir = d, .no_trackers = true,
                                         .trust_resume = true, .on_complete = on_complete,
                                         .ctx = &sw};
        struct rill_torrent *lt;
        leech[i] = swarm_leech(&sw, 10 + (uint64_t)i, &lp, &lt);
    }
    run_until(&sw, 4, 60);
    for (int i = 0; i < 3; i++) {
        char d[32];
        snprintf(d, sizeof d, "leech%d", i);
        compare_dirs(&sw, "seed", d);
        rill_session_free(leech[i]);
    }
    struct rill_torrent_stats stats;
    rill_torrent_stats(st, &stats);
    assert_true(stats.uploaded > 0);
    swarm_free(&sw, seed);
}


struct stopper {
    struct swarm *sw;
    struct rill_torrent *t;
    uint64_t stop_at;       /* bytes */
    struct event *poll;
    bool stopped;
};

static void poll_progress(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct stopper *st = arg;
    struct rill_torrent_stats stats;
    rill_torrent_stats(st->t, &stats);
    if (stats.have_wanted >= st->stop_at) {
        rill_torrent_stop(st->t);
        st->stopped = true;
        event_base_loopbreak(st->sw->base);
    }
}

/* A leecher stopped halfway (rate-limited so it cannot finish first) comes
 * back: it trusts its resume data, downloads only what was missing, and the
 * data is exact. Also checks that the upload limit holds. */
static void test_resume_and_limits(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {3000000};
    swarm_init(&sw, 65536, sizes, 1);
    char leech_dir[600];
    swarm_leech_dir(&sw, 0, leech_dir, sizeof leech_dir);
    uint64_t total = sw.mi.total_size;
    struct rill_torrent *st;
    struct rill_session *seed =
        swarm_seed(&sw, (struct rill_torrent_params){.max_up = 1 << 20}, &st);

    struct rill_torrent_params lp = {.mi = &sw.mi, .dir = leech_dir, .no_trackers = true,
                                     .trust_resume = true, .on_complete = on_complete,
                                     .ctx = &sw};
    struct rill_torrent *lt;
    struct rill_session *leech = swarm_leech(&sw, 7, &lp, &lt);
    struct stopper stop = {.sw = &sw, .t = lt, .stop_at = total / 2};
    stop.poll = event_new(sw.base, -1, EV_PERSIST, poll_progress, &stop);
    struct timeval tick = {0, 50000};
    event_add(stop.poll, &tick);
    uint64_t t0 = tu_now_ms();
    event_base_dispatch(sw.base);
    event_free(stop.poll);
    assert_true(stop.stopped);
    struct rill_torrent_stats first;
    rill_torrent_stats(lt, &first);
    /* 1 MiB/s upload limit: half of 3 MB cannot have taken much under 1.3 s
     * (the bucket starts with one burst of credit). */
    uint64_t took = tu_now_ms() - t0;
    assert_true(took >= 1000);
    rill_session_free(leech);

    /* The second run: resume data trusted, only the rest downloaded. */
    sw.completed = 0;
    leech = swarm_leech(&sw, 8, &lp, &lt);
    run_until(&sw, 1, 30);
    struct rill_torrent_stats second;
    rill_torrent_stats(lt, &second);
    assert_true(second.downloaded <= total - first.have_wanted + 4 * 65536);
    assert_true(second.downloaded >= total - first.have_wanted);
    compare_dirs(&sw, "seed", "leech0");
    rill_session_free(leech);
    swarm_free(&sw, seed);
}

/* --only: a leecher that wants one file completes when that file's pieces
 * are verified; the file is exact, and a file sharing no piece with it is
 * never written. */
static void test_only_glob(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {1000000, 300000, 2000000}; /* file0, file1, file2 */
    swarm_init(&sw, 32768, sizes, 3);
    char leech_dir[600];
    swarm_leech_dir(&sw, 0, leech_dir, sizeof leech_dir);
    struct rill_torrent *st;
    struct rill_session *seed = swarm_seed(&sw, (struct rill_torrent_params){0}, &st);

    struct rill_torrent_params lp = {.mi = &sw.mi, .dir = leech_dir, .no_trackers = true,
                                     .only = "file1.bin", .on_complete = on_complete,
                                     .ctx = &sw};
    struct rill_torrent *lt;
    struct rill_session *leech = swarm_leech(&sw, 3, &lp, &lt);
    run_until(&sw, 2, 30);
    struct rill_torrent_stats stats;
    rill_torrent_stats(lt, &stats);
    assert_true(stats.pieces_have < stats.piece_count);      /* not everything */
    assert_int_equal(stats.have_wanted, stats.total_wanted); /* but all it wanted */
    assert_true(stats.downloaded < 300000 + 2 * 32768 + 1);

    char a[700], b[700];
    snprintf(a, sizeof a, "%s/seed/content/file1.bin", sw.dir);
    snprintf(b, sizeof b, "%s/leech0/content/file1.bin", sw.dir);
    tu_assert_same_file(a, b);
    snprintf(b, sizeof b, "%s/leech0/content/file2.bin", sw.dir);
    struct stat sb;
    /* file2 shares at most the boundary piece with file1: absent or sparse. */
    assert_true(stat(b, &sb) != 0 || (uint64_t)sb.st_blocks * 512 <= 2 * 32768);
    rill_session_free(leech);
    swarm_free(&sw, seed);
}

/* --bind on a specific address: the leecher's connection to the seed
 * leaves from it, and the download completes. */
static void test_bind_outgoing(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {200000};
    swarm_init(&sw, 32768, sizes, 1);
    struct rill_torrent *st;
    struct rill_session *seed = swarm_seed(&sw, (struct rill_torrent_params){0}, &st);
    char d[600];
    swarm_leech_dir(&sw, 0, d, sizeof d);
    struct rill_torrent_params lp = {.mi = &sw.mi, .dir = d, .no_trackers = true,
                                     .on_complete = on_complete, .ctx = &sw};
    struct rill_session *leech = session_on(&sw, 4, "127.0.0.2");
    struct rill_torrent *lt;
    assert_int_equal(rill_session_add(leech, &lp, &lt), 0);
    assert_int_equal(rill_torrent_add_peer(lt, sw.seed_addr), 0);
    sw.watch = "127.0.0.2:"; /* the seed logs the peer's address */
    run_until(&sw, 2, 30);
    assert_true(sw.seen);
    compare_dirs(&sw, "seed", "leech0");
    rill_session_free(leech);
    swarm_free(&sw, seed);
}

struct pair_watch {
    struct rill_torrent *t[2];
    unsigned max_peers[2];
    bool lost; /* a side had its peer, then none, before the end */
};

static void pair_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct pair_watch *w = arg;
    struct rill_torrent_stats st[2];
    for (int i = 0; i < 2; i++) {
        rill_torrent_stats(w->t[i], &st[i]);
        if (st[i].peers == 0 && w->max_peers[i] > 0 && st[1].have_wanted < st[1].total_wanted)
            w->lost = true;
        if (st[i].peers > w->max_peers[i])
            w->max_peers[i] = st[i].peers;
    }
}

/* Seed and leecher each dial the other: one connection survives, the
 * same one on both sides (neither loses its peer), and the download
 * completes over it. */
static void test_one_connection_per_peer(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {300000};
    swarm_init(&sw, 32768, sizes, 1);
    struct rill_torrent *st;
    /* Slow enough (3 s) that the seed's once-a-second dialing comes. */
    struct rill_session *seed =
        swarm_seed(&sw, (struct rill_torrent_params){.max_up = 100000}, &st);
    char d[600];
    swarm_leech_dir(&sw, 0, d, sizeof d);
    struct rill_torrent_params lp = {.mi = &sw.mi, .dir = d, .no_trackers = true,
                                     .on_complete = on_complete, .ctx = &sw};
    struct rill_torrent *lt;
    struct rill_session *leech = swarm_leech(&sw, 5, &lp, &lt);
    char leech_addr[64];
    snprintf(leech_addr, sizeof leech_addr, "127.0.0.1:%u", rill_session_port(leech));
    assert_int_equal(rill_torrent_add_peer(st, leech_addr), 0);
    sw.watch = "a second connection to the same peer";
    struct pair_watch w = {.t = {st, lt}};
    struct event *ev = event_new(sw.base, -1, EV_PERSIST, pair_poll, &w);
    struct timeval every = {0, 20000};
    event_add(ev, &every);
    run_until(&sw, 2, 30);
    event_free(ev);
    compare_dirs(&sw, "seed", "leech0");
    assert_true(sw.seen);
    assert_int_equal(w.max_peers[0], 1);
    assert_int_equal(w.max_peers[1], 1);
    assert_false(w.lost);
    rill_session_free(leech);
    swarm_free(&sw, seed);
}

struct watch {
    struct swarm *sw;
    struct rill_torrent *seed;
    unsigned max_unchoked, polls;
    struct event *ev;
};

static void watch_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct watch *w = arg;
    struct rill_torrent_stats st;
    rill_torrent_stats(w->seed, &st);
    if (st.we_unchoke > w->max_unchoked)
        w->max_unchoked = st.we_unchoke;
    if (++w->polls >= 30)
        event_base_loopbreak(w->sw->base);
}

/* Runs the loop for 1.5 s (30 polls of 50 ms) and returns the most peers
 * the seed unchoked at once. */
static unsigned watch_seed(struct swarm *sw, struct rill_torrent *seed)
{
    struct watch w = {.sw = sw, .seed = seed};
    w.ev = event_new(sw->base, -1, EV_PERSIST, watch_poll, &w);
    struct timeval every = {0, 50000};
    event_add(w.ev, &every);
    event_base_dispatch(sw->base);
    event_free(w.ev);
    return w.max_unchoked;
}

/* The choke settings reach the choker: a seed with one regular slot and no
 * optimistic unchoke unchokes one of two interested leechers, never both. */
static void test_choke_settings(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {4000000};
    swarm_init(&sw, 32768, sizes, 1);
    struct rill_torrent_params sp = {.unchoke_slots = 1, .no_optimistic = true,
                                     .max_up = 1 << 20};
    struct rill_torrent *st;
    struct rill_session *seed = swarm_seed(&sw, sp, &st);
    struct rill_session *leech[2];
    struct rill_torrent *lt[2];
    for (int i = 0; i < 2; i++) {
        char d[600];
        swarm_leech_dir(&sw, i, d, sizeof d);
        /* No peer exchange: the leechers must not find each other. */
        struct rill_torrent_params lp = {
            .mi = &sw.mi, .dir = d, .no_trackers = true, .no_pex = true};
        leech[i] = swarm_leech(&sw, 20 + (uint64_t)i, &lp, &lt[i]);
    }
    unsigned max_unchoked = watch_seed(&sw, st); /* 1.5 s: well inside the first 10 s round */
    struct rill_torrent_stats a, b;
    rill_torrent_stats(lt[0], &a);
    rill_torrent_stats(lt[1], &b);
    assert_int_equal(max_unchoked, 1);
    /* The choked one gets only its BEP 6 allowed-fast pieces (10 of 32 KiB);
     * the unchoked one gets more. */
    uint64_t lo = a.downloaded < b.downloaded ? a.downloaded : b.downloaded;
    uint64_t hi = a.downloaded < b.downloaded ? b.downloaded : a.downloaded;
    assert_true(lo <= 10 * 32768);
    assert_true(hi > 10 * 32768);
    for (int i = 0; i < 2; i++)
        rill_session_free(leech[i]);
    swarm_free(&sw, seed);
}

/* A torrent that uploads nothing (the lab's free-riders and client-server
 * leechers) never unchokes and grants no allowed-fast pieces; once it is
 * complete it has no use for peers at all: it closes them and refuses new
 * ones, freeing their connection slots for peers that can serve them. */
static void test_no_upload(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {1000000};
    swarm_init(&sw, 32768, sizes, 1);
    struct rill_torrent_params sp = {.no_upload = true};
    struct rill_torrent *st;
    struct rill_session *seed = swarm_seed(&sw, sp, &st);
    char d[600];
    swarm_leech_dir(&sw, 0, d, sizeof d);
    struct rill_torrent_params lp = {.mi = &sw.mi, .dir = d, .no_trackers = true};
    struct rill_torrent *lt;
    sw.watch = "complete and uploading nothing";
    struct rill_session *leech = swarm_leech(&sw, 30, &lp, &lt);
    unsigned max_unchoked = watch_seed(&sw, st); /* 1.5 s */
    struct rill_torrent_stats ls, ss;
    rill_torrent_stats(lt, &ls);
    rill_torrent_stats(st, &ss);
    assert_true(sw.seen); /* the refusal, with its reason */
    assert_int_equal(ls.peers, 0);
    assert_int_equal(max_unchoked, 0);
    assert_int_equal(ls.downloaded, 0);
    assert_int_equal(ss.uploaded, 0);
    rill_session_free(leech);
    swarm_free(&sw, seed);
}

/* A rate-limited seed shares its rate among the leechers it unchokes: each
 * gets a fair part (serving peers in full, in list order, once gave one
 * of them everything and the other nothing). */
static void test_limited_upload_is_shared(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {8000000};
    swarm_init(&sw, 65536, sizes, 1);
    struct rill_torrent_params sp = {.max_up = 1 << 20};
    struct rill_torrent *st;
    struct rill_session *seed = swarm_seed(&sw, sp, &st);
    struct rill_session *leech[2];
    struct rill_torrent *lt[2];
    for (int i = 0; i < 2; i++) {
        char d[600];
        swarm_leech_dir(&sw, i, d, sizeof d);
        struct rill_torrent_params lp = {.mi = &sw.mi, .dir = d, .no_trackers = true,
                                         .no_upload = true}; /* only the seed serves */
        leech[i] = swarm_leech(&sw, 40 + (uint64_t)i, &lp, &lt[i]);
    }
    watch_seed(&sw, st); /* 1.5 s at 1 MiB/s: about 1.5 MiB in all */
    struct rill_torrent_stats a, b;
    rill_torrent_stats(lt[0], &a);
    rill_torrent_stats(lt[1], &b);
    uint64_t lo = a.downloaded < b.downloaded ? a.downloaded : b.downloaded;
    uint64_t hi = a.downloaded < b.downloaded ? b.downloaded : a.downloaded;
    assert_true(hi + lo < 3u << 20);  /* the limit holds (burst included) */
    assert_true(lo * 3 >= hi);         /* and neither leecher starves */
    for (int i = 0; i < 2; i++)
        rill_session_free(leech[i]);
    swarm_free(&sw, seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_to_leechers),
        cmocka_unit_test(test_resume_and_limits),
        cmocka_unit_test(test_only_glob),
        cmocka_unit_test(test_bind_outgoing),
        cmocka_unit_test(test_one_connection_per_peer),
        cmocka_unit_test(test_choke_settings),
        cmocka_unit_test(test_no_upload),
        cmocka_unit_test(test_limited_upload_is_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
