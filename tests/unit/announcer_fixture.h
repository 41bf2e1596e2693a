/* Fixtures shared by the announcer tests (test_announcer.c for HTTP and
 * tiers, test_announcer_udp.c for UDP): a session, a torrent and its
 * announcer on a real event loop, tracker URLs, loop runners and compact
 * peer helpers. Header-only because tests/CMakeLists.txt builds each
 * test_*.c with just testutil.c beside it. Include after testutil.h. */
#ifndef RILL_TEST_ANNOUNCER_FIXTURE_H
#define RILL_TEST_ANNOUNCER_FIXTURE_H

#include "testutil.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/picker.h"
#include "core/tracker_msg.h"
#include "io/announcer.h"
#include "io/session.h"

#define MAXREQ 16
#define TOTAL_SIZE 1000000u
#define PIECE 65536u

/* ------------------------------------------------------------ fixture */

struct fx {
    struct event_base *base;
    struct event *ticker;
    struct rill_session *s;
    struct rill_metainfo mi;
    struct rill_tier tiers[3];
    char *urls[3][3];
    struct rill_picker picker;
    struct rill_torrent t;
    struct rill__announcer *a;
    char logs[64][512];
    int nlogs;
};

static inline void capture(void *ctx, const char *line)
{
    struct fx *f = ctx;
    if (getenv("RILL_TEST_VERBOSE"))
        fprintf(stderr, "%s\n", line);
    if (f->nlogs < 64)
        snprintf(f->logs[f->nlogs++], sizeof f->logs[0], "%s", line);
}

static inline bool logged(const struct fx *f, const char *needle)
{
    for (int i = 0; i < f->nlogs; i++)
        if (strstr(f->logs[i], needle))
            return true;
    return false;
}

static inline void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* The session binds `bind` (and sends from it): "127.0.0.1" in fx_init. */
static inline void fx_init_bind(struct fx *f, int verbosity, const char *bind)
{
    memset(f, 0, sizeof *f);
    f->base = event_base_new();
    assert_non_null(f->base);
    /* Keeps EVLOOP_ONCE returning so run_until can look at the clock. */
    f->ticker = event_new(f->base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(f->ticker, &tv);
    struct rill_session_opts o = {.bind = bind,
                                  .rng_seed = 7,
                                  .log = capture,
                                  .log_ctx = f,
                                  .verbosity = verbosity,
                                  .workers = 1};
    assert_int_equal(rill_session_new(&f->s, f->base, &o), 0);
    memset(f->mi.info_hash, 0xab, sizeof f->mi.info_hash);
    f->mi.name = "test";
    f->mi.total_size = TOTAL_SIZE;
    f->mi.piece_length = PIECE;
    f->mi.piece_count = (TOTAL_SIZE + PIECE - 1) / PIECE;
    f->mi.tiers = f->tiers;
    assert_int_equal(
        rill_picker_init(&f->picker, f->mi.piece_count, PIECE, TOTAL_SIZE, &f->s->rng, NULL), 0);
    assert_int_equal(rill_picker_verified(&f->picker, 0), 0);
    f->t.s = f->s;
    f->t.mi = &f->mi;
    f->t.picker = &f->picker;
    f->t.uploaded = 1234;
    f->t.downloaded = 5678;
}

static inline void fx_init(struct fx *f, int verbosity)
{
    fx_init_bind(f, verbosity, "127.0.0.1");
}

/* The address of `sa` as text, without the port. */
static inline void fx_addr_text(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    if (sa->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
    else
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
}

/* Adds a tracker URL to tier `tier` (tiers are added in order). */
__attribute__((format(printf, 3, 4))) static inline void fx_url(struct fx *f, size_t tier,
                                                                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char url[128];
    vsnprintf(url, sizeof url, fmt, ap);
    va_end(ap);
    struct rill_tier *t = &f->tiers[tier];
    f->urls[tier][t->count] = strdup(url);
    t->urls = f->urls[tier];
    t->count++;
    if (f->mi.tier_count <= tier)
        f->mi.tier_count = tier + 1;
}

static inline void fx_start(struct fx *f, unsigned speed)
{
    assert_int_equal(rill__announcer_new(&f->a, &f->t), 0);
    assert_non_null(f->a);
    rill__announcer_set_speed(f->a, speed);
    rill__announcer_start(f->a);
}

static inline void fx_free(struct fx *f)
{
    rill__announcer_free(f->a);
    rill_picker_free(&f->picker);
    free(f->t.cands);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            free(f->urls[i][j]);
    rill_session_free(f->s);
    event_free(f->ticker);
    event_base_free(f->base);
}

/* Runs the loop until *counter reaches `want` (or the announcer is idle
 * when counter is NULL); false after `ms`. */
static inline bool run_until(struct fx *f, const int *counter, int want, unsigned ms)
{
    uint64_t end = tu_now_ms() + ms;
    while (counter ? *counter < want : !rill__announcer_idle(f->a)) {
        if (tu_now_ms() > end)
            return false;
        event_base_loop(f->base, EVLOOP_ONCE);
    }
    return true;
}

static inline void run_for(struct fx *f, unsigned ms)
{
    uint64_t end = tu_now_ms() + ms;
    while (tu_now_ms() < end)
        event_base_loop(f->base, EVLOOP_ONCE);
}

static inline bool has_cand(const struct fx *f, const char *ip, uint16_t port)
{
    for (size_t i = 0; i < f->t.ncands; i++) {
        char text[64];
        const struct sockaddr_storage *ss = &f->t.cands[i].addr;
        uint16_t p;
        if (ss->ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
            inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
            p = ntohs(sin->sin_port);
        } else {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
            inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
            p = ntohs(sin6->sin6_port);
        }
        if (strcmp(text, ip) == 0 && p == port)
            return true;
    }
    return false;
}

static inline void compact4(uint8_t *out, const char *ip, uint16_t port)
{
    assert_int_equal(inet_pton(AF_INET, ip, out), 1);
    out[4] = (uint8_t)(port >> 8);
    out[5] = (uint8_t)port;
}

static inline void compact6(uint8_t *out, const char *ip, uint16_t port)
{
    assert_int_equal(inet_pton(AF_INET6, ip, out), 1);
    out[16] = (uint8_t)(port >> 8);
    out[17] = (uint8_t)port;
}

#endif
