/* Magnet links end to end through the public API: a leecher that has only
 * the info-hash fetches the metadata from a rill seed (ut_metadata),
 * writes the .torrent, then downloads exact data; peers learned through
 * peer exchange; and a trackerless swarm found through the DHT. */
#include "testutil.h"
#include "swarm_fixture.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct meta_seen {
    int calls;
    char path[600];
};

static void on_metadata(void *ctx, struct rill_torrent *t, const char *path)
{
    (void)t;
    struct meta_seen *m = ctx;
    m->calls++;
    snprintf(m->path, sizeof m->path, "%s", path);
}

struct both {
    struct swarm *sw;
    struct meta_seen meta;
};

static void on_meta_cb(void *ctx, struct rill_torrent *t, const char *path)
{
    on_metadata(&((struct both *)ctx)->meta, t, path);
}

static void on_done(void *ctx, struct rill_torrent *t)
{
    on_complete(((struct both *)ctx)->sw, t);
}

/* The .torrent written from the metadata holds the same info dictionary. */
static void check_saved(const struct swarm *sw, const char *path)
{
    size_t len = 0;
    uint8_t *bytes = tu_read_file(path, &len);
    struct rill_metainfo mi;
    assert_int_equal(rill_metainfo_parse(&mi, bytes, len, NULL), 0);
    assert_memory_equal(mi.info_hash, sw->mi.info_hash, RILL_SHA1_LEN);
    assert_int_equal(mi.info_len, sw->mi.info_len);
    assert_int_equal(mi.tier_count, 1); /* the magnet's tracker */
    assert_string_equal(mi.tiers[0].urls[0], "udp://127.0.0.1:9/announce");
    rill_metainfo_free(&mi);
    free(bytes);
}

/* Two magnet leechers that know only the seed: both fetch the metadata
 * (three pieces of it) and the data; one of them also learns the other
 * by peer exchange. */
static void test_magnet_from_seed(void **state)
{
    (void)state;
    struct swarm sw;
    static size_t sizes[1000];
    for (size_t i = 0; i < 1000; i++)
        sizes[i] = 200 + 7 * i; /* many files: a metadata of several pieces */
    swarm_init(&sw, 16384, sizes, 1000);
    assert_true(sw.mi.info_len > 2 * 16384);
    struct rill_torrent *st;
    struct rill_session *seed = swarm_seed(&sw, (struct rill_torrent_params){0}, &st);

    struct rill_magnet m = {0};
    memcpy(m.info_hash, sw.mi.info_hash, RILL_SHA1_LEN);
    char *tr[1] = {"udp://127.0.0.1:9/announce"}; /* never answers */
    char *pe[1] = {sw.seed_addr};
    m.trackers = tr;
    m.tracker_count = 1;
    m.peers = pe;
    m.peer_count = 1;
    struct both b[2] = {{.sw = &sw}, {.sw = &sw}};
    struct rill_session *leech[2];
    struct rill_torrent *lt[2];
    for (int i = 0; i < 2; i++) {
        char d[600];
        swarm_leech_dir(&sw, i, d, sizeof d);
        struct rill_torrent_params lp = {.magnet = &m, .dir = d, .on_metadata = on_meta_cb,
                                         .on_complete = on_done, .ctx = &b[i]};
        leech[i] = session(&sw, 40 + (uint64_t)i);
        assert_int_equal(rill_session_add(leech[i], &lp, &lt[i]), 0);
        struct rill_torrent_stats ts;
        rill_torrent_stats(lt[i], &ts);
        assert_int_equal(ts.state, RILL_T_METADATA);
        assert_null(rill_torrent_metainfo(lt[i]));
        assert_memory_equal(rill_torrent_info_hash(lt[i]), sw.mi.info_hash, RILL_SHA1_LEN);
    }
    run_until(&sw, 1 + 2, 60);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(b[i].meta.calls, 1);
        char want[700];
        snprintf(want, sizeof want, "%s/leech%d/%s.torrent", sw.dir, i, sw.mi.name);
        assert_string_equal(b[i].meta.path, want);
        check_saved(&sw, want);
        const struct rill_metainfo *got = rill_torrent_metainfo(lt[i]);
        assert_non_null(got);
        assert_int_equal(got->piece_count, sw.mi.piece_count);
        char d[32];
        snprintf(d, sizeof d, "leech%d", i);
        compare_dirs(&sw, "seed", d);
    }
    struct rill_torrent_stats ts;
    rill_torrent_stats(lt[0], &ts);
    assert_int_equal(ts.metadata_size, sw.mi.info_len);
    for (int i = 0; i < 2; i++)
        rill_session_free(leech[i]);
    swarm_free(&sw, seed);
}

/* Peer exchange: C knows only B, B knows the seed; C learns the seed's
 * address from B's ut_pex message. B is slowed down so that it is still
 * downloading (connected to the seed) when C arrives. */
static void test_pex_finds_the_seed(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {1500000};
    swarm_init(&sw, 16384, sizes, 1);
    struct rill_torrent *st;
    struct rill_session *seed = swarm_seed(&sw, (struct rill_torrent_params){0}, &st);
    char d[2][600];
    struct rill_session *s[2];
    struct rill_torrent *t[2];
    swarm_leech_dir(&sw, 0, d[0], sizeof d[0]);
    swarm_leech_dir(&sw, 1, d[1], sizeof d[1]);
    struct rill_torrent_params pb = {.mi = &sw.mi, .dir = d[0], .no_trackers = true,
                                     .max_down = 300000, .on_complete = on_complete,
                                     .ctx = &sw};
    s[0] = swarm_leech(&sw, 50, &pb, &t[0]);
    struct rill_torrent_params pc = {.mi = &sw.mi, .dir = d[1], .no_trackers = true,
                                     .on_complete = on_complete, .ctx = &sw};
    s[1] = session(&sw, 51);
    assert_int_equal(rill_session_add(s[1], &pc, &t[1]), 0);
    char b_addr[64];
    snprintf(b_addr, sizeof b_addr, "127.0.0.1:%u", rill_session_port(s[0]));
    assert_int_equal(rill_torrent_add_peer(t[1], b_addr), 0);
    run_until(&sw, 3, 30);
    compare_dirs(&sw, "seed", "leech1");
    struct rill_torrent_stats cs;
    rill_torrent_stats(t[1], &cs);
    assert_true(cs.pex_peers >= 1);
    for (int i = 0; i < 2; i++)
        rill_session_free(s[i]);
    swarm_free(&sw, seed);
}

/* A session with its own DHT node on 127.0.0.1 (bootstrapped from
 * `boot` when given). */
static struct rill_session *dht_session(struct swarm *sw, uint64_t seed, struct rill_dht **d,
                                        struct rill_dht *boot)
{
    struct rill_dht_opts o = {.bind4 = "127.0.0.1:0", .rng_seed = seed};
    assert_int_equal(rill_dht_new(d, sw->base, &o), 0);
    if (boot) {
        char a[64];
        snprintf(a, sizeof a, "127.0.0.1:%u", rill_dht_port(boot, 4));
        assert_int_equal(rill_dht_bootstrap(*d, a), 0);
    }
    struct rill_session_opts so = {.bind = "127.0.0.1", .rng_seed = seed, .log = log_line,
                                   .log_ctx = sw, .verbosity = 2, .workers = 2, .dht = *d};
    struct rill_session *s;
    assert_int_equal(rill_session_new(&s, sw->base, &so), 0);
    return s;
}

/* No tracker and no peer address at all: the seed announces itself in the
 * DHT, the magnet leecher finds it there, fetches the metadata and the
 * data. */
static void test_trackerless_magnet(void **state)
{
    (void)state;
    struct swarm sw;
    const size_t sizes[] = {400000, 12345};
    swarm_init(&sw, 16384, sizes, 2);
    struct rill_dht *dseed, *dleech;
    struct rill_session *seed = dht_session(&sw, 60, &dseed, NULL);
    struct rill_torrent *st;
    struct rill_torrent_params sp = {.mi = &sw.mi, .dir = sw.seed_dir, .seed = true,
                                     .on_complete = on_complete, .ctx = &sw};
    assert_int_equal(rill_session_add(seed, &sp, &st), 0);
    run_until(&sw, 1, 10);
    struct rill_session *leech = dht_session(&sw, 61, &dleech, dseed);
    struct rill_magnet m = {0};
    memcpy(m.info_hash, sw.mi.info_hash, RILL_SHA1_LEN);
    char d[600];
    swarm_leech_dir(&sw, 0, d, sizeof d);
    struct both b = {.sw = &sw};
    struct rill_torrent_params lp = {.magnet = &m, .dir = d, .on_metadata = on_meta_cb,
                                     .on_complete = on_done, .ctx = &b};
    struct rill_torrent *lt;
    assert_int_equal(rill_session_add(leech, &lp, &lt), 0);
    run_until(&sw, 2, 60);
    assert_int_equal(b.meta.calls, 1);
    compare_dirs(&sw, "seed", "leech0");
    /* Whichever found the other in the DHT first dialed. */
    struct rill_torrent_stats ts, ss;
    rill_torrent_stats(lt, &ts);
    rill_torrent_stats(st, &ss);
    assert_true(ts.dht_peers + ss.dht_peers >= 1);
    rill_session_free(leech);
    rill_dht_free(dleech);
    rill_session_free(seed);
    rill_dht_free(dseed);
    rill_metainfo_free(&sw.mi);
    tu_rmrf(sw.dir);
    free(sw.dir);
    event_base_free(sw.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_magnet_from_seed),
        cmocka_unit_test(test_pex_finds_the_seed),
        cmocka_unit_test(test_trackerless_magnet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
