/* End to end through the public API: sessions on one event loop, a seeder
 * and leechers on loopback, exact data at the end. */
#include "testutil.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static uint64_t rill__test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct swarm {
    struct event_base *base;
    char *dir;
    char seed_dir[600];
    char seed_addr[64];
    struct rill_metainfo mi;
    int completed;
    struct event *deadline;
    bool timed_out;
};

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    if (getenv("RILL_TEST_VERBOSE"))
        fprintf(stderr, "%s\n", line);
}

static void on_complete(void *ctx, struct rill_torrent *t)
{
    (void)t;
    struct swarm *sw = ctx;
    sw->completed++;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct swarm *sw = arg;
    sw->timed_out = true;
    event_base_loopbreak(sw->base);
}

/* Makes content under dir/seed/NAME and its torrent. */
static void make_content(struct swarm *sw, uint32_t piece, const size_t *sizes, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seed/content", sw->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    for (size_t i = 0; i < n; i++) {
        char f[600];
        snprintf(f, sizeof f, "%s/file%zu.bin", path, i);
        uint8_t *data = malloc(sizes[i] + 1);
        tu_fill(data, sizes[i], 100 + i);
        tu_write_file(f, data, sizes[i]);
        free(data);
    }
    struct rill_create_opts co = {.piece_length = piece};
    struct rill_torrent_opts to = {.no_date = true};
    struct rill_buf out;
    rill_buf_init(&out, 0);
    assert_int_equal(rill_create(path, &co, &to, &out, NULL), 0);
    assert_int_equal(rill_metainfo_parse(&sw->mi, out.data, out.len, NULL), 0);
    rill_buf_free(&out);
}

static struct rill_session *session(struct swarm *sw, uint64_t seed)
{
    struct rill_session_opts o = {.bind = "127.0.0.1", .rng_seed = seed, .log = log_line,
                                  .verbosity = 2, .workers = 2};
    struct rill_session *s;
    assert_int_equal(rill_session_new(&s, sw->base, &o), 0);
    assert_true(rill_session_port(s) > 0);
    return s;
}

static void compare_dirs(struct swarm *sw, const char *a, const char *b)
{
    for (size_t i = 0; i < sw->mi.file_count; i++) {
        char pa[600], pb[600];
        snprintf(pa, sizeof pa, "%s/%s/%s/%s", sw->dir, a, sw->mi.name, sw->mi.files[i].path);
        snprintf(pb, sizeof pb, "%s/%s/%s/%s", sw->dir, b, sw->mi.name, sw->mi.files[i].path);
        size_t la, lb;
        uint8_t *x = tu_read_file(pa, &la), *y = tu_read_file(pb, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(x, y, la);
        free(x);
        free(y);
    }
}

static void run_until(struct swarm *sw, int completions, int seconds)
{
    struct timeval tv = {seconds, 0};
    sw->deadline = evtimer_new(sw->base, on_deadline, sw);
    evtimer_add(sw->deadline, &tv);
    while (sw->completed < completions && !sw->timed_out)
        event_base_loop(sw->base, EVLOOP_ONCE);
    event_free(sw->deadline);
    assert_false(sw->timed_out);
}

/* A fresh swarm: an event base, a temporary dir with seed/content made of
 * files of `sizes` and its torrent in sw->mi. */
static void swarm_init(struct swarm *sw, uint32_t piece, const size_t *sizes, size_t n)
{
    *sw = (struct swarm){.base = event_base_new(), .dir = tu_tempdir()};
    snprintf(sw->seed_dir, sizeof sw->seed_dir, "%s/seed", sw->dir);
    mkdir(sw->seed_dir, 0755);
    make_content(sw, piece, sizes, n);
}

/* The seed: session 1 seeding sw->mi from seed_dir with the extra settings
 * in `sp`, run until its check completes; sets sw->seed_addr. */
static struct rill_session *swarm_seed(struct swarm *sw, struct rill_torrent_params sp,
                                       struct rill_torrent **st)
{
    struct rill_session *seed = session(sw, 1);
    sp.mi = &sw->mi;
    sp.dir = sw->seed_dir;
    sp.seed = true;
    sp.no_trackers = true;
    sp.on_complete = on_complete;
    sp.ctx = sw;
    assert_int_equal(rill_session_add(seed, &sp, st), 0);
    run_until(sw, 1, 10); /* the seed checks its data and is complete */
    snprintf(sw->seed_addr, sizeof sw->seed_addr, "127.0.0.1:%u", rill_session_port(seed));
    return seed;
}

/* Makes dir/leechI and puts its path in `out`. */
static void swarm_leech_dir(const struct swarm *sw, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/leech%d", sw->dir, i);
    mkdir(out, 0755);
}

/* A leecher session (rng seed `rng_seed`) with `lp`'s torrent, told the
 * seed's address. */
static struct rill_session *swarm_leech(struct swarm *sw, uint64_t rng_seed,
                                        const struct rill_torrent_params *lp,
                                        struct rill_torrent **lt)
{
    struct rill_session *s = session(sw, rng_seed);
    assert_int_equal(rill_session_add(s, lp, lt), 0);
    assert_int_equal(rill_torrent_add_peer(*lt, sw->seed_addr), 0);
    return s;
}

/* Frees the seed, the torrent, the temporary dir and the base (leechers
 * are freed by the test first). */
static void swarm_free(struct swarm *sw, struct rill_session *seed)
{
    rill_session_free(seed);
    rill_metainfo_free(&sw->mi);
    tu_rmrf(sw->dir);
    free(sw->dir);
    event_base_free(sw->base);
}

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
    uint64_t t0 = rill__test_now_ms();
    event_base_dispatch(sw.base);
    event_free(stop.poll);
    assert_true(stop.stopped);
    struct rill_torrent_stats first;
    rill_torrent_stats(lt, &first);
    /* 1 MiB/s upload limit: half of 3 MB cannot have taken much under 1.3 s
     * (the bucket starts with one burst of credit). */
    uint64_t took = rill__test_now_ms() - t0;
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
    size_t la, lb;
    uint8_t *x = tu_read_file(a, &la), *y = tu_read_file(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
    snprintf(b, sizeof b, "%s/leech0/content/file2.bin", sw.dir);
    struct stat sb;
    /* file2 shares at most the boundary piece with file1: absent or sparse. */
    assert_true(stat(b, &sb) != 0 || (uint64_t)sb.st_blocks * 512 <= 2 * 32768);
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
        struct rill_torrent_params lp = {.mi = &sw.mi, .dir = d, .no_trackers = true};
        leech[i] = swarm_leech(&sw, 20 + (uint64_t)i, &lp, &lt[i]);
    }
    struct watch w = {.sw = &sw, .seed = st};
    w.ev = event_new(sw.base, -1, EV_PERSIST, watch_poll, &w);
    struct timeval every = {0, 50000};
    event_add(w.ev, &every);
    event_base_dispatch(sw.base); /* 1.5 s: well inside the first 10 s round */
    event_free(w.ev);
    struct rill_torrent_stats a, b;
    rill_torrent_stats(lt[0], &a);
    rill_torrent_stats(lt[1], &b);
    assert_int_equal(w.max_unchoked, 1);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_to_leechers),
        cmocka_unit_test(test_resume_and_limits),
        cmocka_unit_test(test_only_glob),
        cmocka_unit_test(test_choke_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
