/* Fixtures shared by the picker tests (test_picker.c, test_picker_events.c,
 * test_picker_stress.c): test peers, picker set-up and the invariant check.
 * Header-only because tests/CMakeLists.txt builds each test_*.c with just
 * testutil.c beside it. Include after testutil.h. */
#ifndef RILL_TEST_PICKER_FIXTURE_H
#define RILL_TEST_PICKER_FIXTURE_H

#include "testutil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/picker.h"
#include "core/picker_internal.h"
#include "util/rng.h"

#define BLK RILL_PICKER_BLOCK

/* A test peer: its bitfield and the picker's view of it. Not movable once
 * initialised (pp.have points into it). */
struct tp {
    struct rill_bitfield bf;
    struct rill_picker_peer pp;
};

static inline void tp_init(struct tp *t, uint32_t id, uint32_t n, bool all)
{
    assert_int_equal(rill_bitfield_init(&t->bf, n), 0);
    rill_picker_peer_init(&t->pp, id, &t->bf, all);
}

/* Fails the test if any of the picker's internal invariants is broken. */
static inline void ok(const struct rill_picker *p)
{
    assert_int_equal(rill__picker_check(p), 0);
}

/* Seeds `r` and initialises `p` over it, checking the result. */
static inline void mk(struct rill_picker *p, struct rill_rng *r, uint64_t seed, uint32_t n,
                      uint32_t plen, uint64_t total, const struct rill_picker_opts *o)
{
    rill_rng_seed(r, seed);
    assert_int_equal(rill_picker_init(p, n, plen, total, r, o), 0);
    ok(p);
}

/* The default options with `random_first` set. */
static inline struct rill_picker_opts opts_rf(uint32_t random_first)
{
    struct rill_picker_opts o;
    rill_picker_opts_default(&o);
    o.random_first = random_first;
    return o;
}

/* Picks one block and returns its piece (NONE if nothing). */
static inline uint32_t pick1(struct rill_picker *p, struct tp *t)
{
    struct rill_picker_block b;
    int n = rill_picker_pick(p, &t->pp, &b, 1);
    assert_true(n >= 0);
    return n ? b.piece : RILL_PICKER_NONE;
}

/* Receives every block of a piece from `peer`; returns the last result. */
static inline int receive_piece(struct rill_picker *p, uint32_t peer, uint32_t piece)
{
    int rc = -1;
    for (uint32_t b = 0; b < rill_picker_block_count(p, piece); b++)
        rc = rill_picker_received(p, peer, piece, b * BLK, NULL, 0, NULL);
    return rc;
}

/* Whether `id` is among the first `n` of `ids`. */
static inline bool has_id(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

#endif
