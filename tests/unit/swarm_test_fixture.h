/* The fixture shared by the swarm tests (test_swarm.c: behaviour;
 * test_swarm_memory.c: layout, growth and memory): a swarm with its own
 * generator, announce helpers and reply buffers. Header-only because
 * tests/CMakeLists.txt builds each test_*.c with just testutil.c beside it.
 * Include after testutil.h. */
#ifndef RILL_TEST_SWARM_FIXTURE_H
#define RILL_TEST_SWARM_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/swarm.h"
#include "util/rng.h"

#define MIN_MS UINT64_C(60000)
#define T0 UINT64_C(987654321000) /* an arbitrary monotonic origin */
#define WANT_MAX RILL_TRACKER_NUMWANT_MAX

/* A swarm, its generator, reply buffers and the last result. */
struct ctx {
    struct rill_rng rng;
    struct rill_swarm *s;
    uint8_t b4[WANT_MAX * RILL_SWARM_PEER4_LEN];
    uint8_t b6[WANT_MAX * RILL_SWARM_PEER6_LEN];
    struct rill_swarm_result r;
};

static inline struct ctx *ctx_new(const struct rill_swarm_limits *l, uint64_t seed)
{
    struct ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    rill_rng_seed(&c->rng, seed);
    assert_int_equal(rill_swarm_new(&c->s, l, &c->rng), 0);
    return c;
}

static inline void ctx_free(struct ctx *c)
{
    rill_swarm_free(c->s);
    free(c);
}

static inline void hash_of(uint32_t id, uint8_t h[RILL_SHA1_LEN])
{
    memset(h, 0xab, RILL_SHA1_LEN);
    memcpy(h + 7, &id, sizeof id);
}

static inline struct rill_swarm_announce mk(int family, uint32_t tid, uint32_t ip, uint16_t port,
                                     bool seed, enum rill_tracker_event ev, uint32_t numwant)
{
    struct rill_swarm_announce a;
    memset(&a, 0, sizeof a);
    hash_of(tid, a.info_hash);
    a.family = family;
    uint8_t ipb[4] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip};
    if (family == RILL_TRACKER_IPV6) {
        a.addr[0] = 0x20;
        a.addr[1] = 0x01;
        a.addr[2] = 0x0d;
        a.addr[3] = 0xb8;
        memcpy(a.addr + 12, ipb, 4);
    } else {
        memcpy(a.addr, ipb, 4);
    }
    a.port = port;
    a.event = ev;
    a.seed = seed;
    a.numwant = numwant;
    return a;
}

static inline struct rill_swarm_announce mk4(uint32_t tid, uint32_t ip, bool seed,
                                      enum rill_tracker_event ev, uint32_t numwant)
{
    return mk(RILL_TRACKER_IPV4, tid, ip, (uint16_t)(6881 + ip % 1000), seed, ev, numwant);
}

static inline struct rill_swarm_announce mk6(uint32_t tid, uint32_t ip, bool seed,
                                      enum rill_tracker_event ev, uint32_t numwant)
{
    return mk(RILL_TRACKER_IPV6, tid, ip, (uint16_t)(6881 + ip % 1000), seed, ev, numwant);
}

static inline int ann(struct ctx *c, const struct rill_swarm_announce *a, uint64_t now)
{
    memset(&c->r, 0, sizeof c->r);
    c->r.peers4 = c->b4;
    c->r.cap4 = WANT_MAX;
    c->r.peers6 = c->b6;
    c->r.cap6 = WANT_MAX;
    return rill_swarm_announce(c->s, a, now, &c->r);
}

/* The IPv4 address of compact entry k of the last reply (the test's ip). */
static inline uint32_t ip_at4(const struct ctx *c, size_t k)
{
    const uint8_t *p = c->b4 + k * RILL_SWARM_PEER4_LEN;
    uint32_t ip = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    assert_int_equal((p[4] << 8 | p[5]), 6881 + ip % 1000); /* port, big-endian */
    return ip;
}

static inline uint32_t ip_at6(const struct ctx *c, size_t k)
{
    const uint8_t *p = c->b6 + k * RILL_SWARM_PEER6_LEN;
    assert_int_equal(p[0], 0x20);
    assert_int_equal(p[3], 0xb8);
    uint32_t ip = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
    assert_int_equal((p[16] << 8 | p[17]), 6881 + ip % 1000);
    return ip;
}

static inline struct rill_swarm_stats stats(const struct ctx *c)
{
    struct rill_swarm_stats st;
    rill_swarm_stats(c->s, &st);
    return st;
}

static inline void scrape(const struct ctx *c, uint32_t tid, struct rill_tracker_scrape_entry *e)
{
    uint8_t h[RILL_SHA1_LEN];
    hash_of(tid, h);
    rill_swarm_scrape(c->s, h, e);
    assert_memory_equal(e->info_hash, h, RILL_SHA1_LEN);
}

/* ------------------------------------------------------------------ tests */

#endif
