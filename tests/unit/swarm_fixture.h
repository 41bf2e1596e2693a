/* The swarm fixture shared by the session tests (test_session.c,
 * test_upload.c): an event base, a temporary dir with content and its
 * torrent, a seed session and leecher sessions on loopback. Header-only
 * because tests/CMakeLists.txt builds each test_*.c with just testutil.c
 * beside it. Include after testutil.h. */
#ifndef RILL_TEST_SWARM_FIXTURE_H
#define RILL_TEST_SWARM_FIXTURE_H

#include "testutil.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct swarm {
    struct event_base *base;
    char *dir;
    char seed_dir[600];
    char seed_addr[64];
    struct rill_metainfo mi;
    int completed;
    struct event *deadline;
    bool timed_out;
    const char *watch;               /* a log line containing this sets seen */
    bool seen;
};

static inline void log_line(void *ctx, const char *line)
{
    struct swarm *sw = ctx;
    if (sw->watch && strstr(line, sw->watch))
        sw->seen = true;
    if (getenv("RILL_TEST_VERBOSE"))
        fprintf(stderr, "%s\n", line);
}

static inline void on_complete(void *ctx, struct rill_torrent *t)
{
    (void)t;
    struct swarm *sw = ctx;
    sw->completed++;
}

static inline void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct swarm *sw = arg;
    sw->timed_out = true;
    event_base_loopbreak(sw->base);
}

/* Makes content under dir/seed/NAME and its torrent. */
static inline void make_content(struct swarm *sw, uint32_t piece, const size_t *sizes, size_t n)
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

/* A session bound to `bind` (its listener and its outgoing connections). */
static inline struct rill_session *session_on(struct swarm *sw, uint64_t seed, const char *bind)
{
    struct rill_session_opts o = {.bind = bind, .rng_seed = seed, .log = log_line,
                                  .log_ctx = sw, .verbosity = 2, .workers = 2};
    struct rill_session *s;
    assert_int_equal(rill_session_new(&s, sw->base, &o), 0);
    assert_true(rill_session_port(s) > 0);
    return s;
}

static inline struct rill_session *session(struct swarm *sw, uint64_t seed)
{
    return session_on(sw, seed, "127.0.0.1");
}

static inline void compare_dirs(struct swarm *sw, const char *a, const char *b)
{
    for (size_t i = 0; i < sw->mi.file_count; i++) {
        char pa[600], pb[600];
        snprintf(pa, sizeof pa, "%s/%s/%s/%s", sw->dir, a, sw->mi.name, sw->mi.files[i].path);
        snprintf(pb, sizeof pb, "%s/%s/%s/%s", sw->dir, b, sw->mi.name, sw->mi.files[i].path);
        tu_assert_same_file(pa, pb);
    }
}

static inline void run_until(struct swarm *sw, int completions, int seconds)
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
static inline void swarm_init(struct swarm *sw, uint32_t piece, const size_t *sizes, size_t n)
{
    *sw = (struct swarm){.base = event_base_new(), .dir = tu_tempdir()};
    snprintf(sw->seed_dir, sizeof sw->seed_dir, "%s/seed", sw->dir);
    mkdir(sw->seed_dir, 0755);
    make_content(sw, piece, sizes, n);
}

/* The seed: session 1 seeding sw->mi from seed_dir with the extra settings
 * in `sp`, run until its check completes; sets sw->seed_addr. */
static inline struct rill_session *swarm_seed(struct swarm *sw, struct rill_torrent_params sp,
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
static inline void swarm_leech_dir(const struct swarm *sw, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/leech%d", sw->dir, i);
    mkdir(out, 0755);
}

/* A leecher session (rng seed `rng_seed`) with `lp`'s torrent, told the
 * seed's address. */
static inline struct rill_session *swarm_leech(struct swarm *sw, uint64_t rng_seed,
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
static inline void swarm_free(struct swarm *sw, struct rill_session *seed)
{
    rill_session_free(seed);
    rill_metainfo_free(&sw->mi);
    tu_rmrf(sw->dir);
    free(sw->dir);
    event_base_free(sw->base);
}

#endif
