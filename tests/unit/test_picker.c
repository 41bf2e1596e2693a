/* The piece picker: geometry, rarest first with random ties, random first,
 * partial pieces first, priorities and skip (with shared boundary and
 * padding pieces), sequential and random modes, endgame, hash failures,
 * peer loss, have-all, allowed-fast picks, a randomized stress test against
 * a model of the peers, and a scale run. All seeded and deterministic. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

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

static void tp_init(struct tp *t, uint32_t id, uint32_t n, bool all)
{
    assert_int_equal(rill_bitfield_init(&t->bf, n), 0);
    rill_picker_peer_init(&t->pp, id, &t->bf, all);
}

/* A bitfield peer announcing the pieces in `list` (ending with NONE). */
static void tp_have(struct rill_picker *p, struct tp *t, const uint32_t *list)
{
    for (; *list != RILL_PICKER_NONE; list++) {
        rill_bitfield_set(&t->bf, *list, true);
        assert_int_equal(rill_picker_peer_have(p, *list), 0);
    }
}

static void ok(const struct rill_picker *p)
{
    assert_int_equal(rill__picker_check(p), 0);
}

static void mk(struct rill_picker *p, struct rill_rng *r, uint64_t seed, uint32_t n, uint32_t plen,
               uint64_t total, const struct rill_picker_opts *o)
{
    rill_rng_seed(r, seed);
    assert_int_equal(rill_picker_init(p, n, plen, total, r, o), 0);
    ok(p);
}

static struct rill_picker_opts opts_rf(uint32_t random_first)
{
    struct rill_picker_opts o;
    rill_picker_opts_default(&o);
    o.random_first = random_first;
    return o;
}

/* Picks one block and returns its piece (NONE if nothing). */
static uint32_t pick1(struct rill_picker *p, struct tp *t)
{
    struct rill_picker_block b;
    int n = rill_picker_pick(p, &t->pp, &b, 1);
    assert_true(n >= 0);
    return n ? b.piece : RILL_PICKER_NONE;
}

/* Receives every block of a piece from `peer`; returns the last result. */
static int receive_piece(struct rill_picker *p, uint32_t peer, uint32_t piece)
{
    int rc = -1;
    for (uint32_t b = 0; b < rill_picker_block_count(p, piece); b++)
        rc = rill_picker_received(p, peer, piece, b * BLK, NULL, 0, NULL);
    return rc;
}

static void test_geometry(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    /* Exact multiple: every piece and block full size. */
    mk(&p, &r, 1, 4, 32768, 4 * 32768, NULL);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(rill_picker_piece_size(&p, i), 32768);
        assert_int_equal(rill_picker_block_count(&p, i), 2);
        assert_int_equal(rill_picker_block_length(&p, i, BLK), BLK);
    }
    assert_int_equal(rill_picker_piece_size(&p, 4), 0);
    assert_int_equal(rill_picker_block_length(&p, 0, 2 * BLK), 0);
    assert_int_equal(rill_picker_block_length(&p, 0, 100), 0);
    rill_picker_free(&p);
    rill_picker_free(&p); /* twice is fine */

    /* A short last piece with a short last block. */
    mk(&p, &r, 1, 4, 65536, 3 * 65536 + 20000, NULL);
    assert_int_equal(rill_picker_piece_size(&p, 3), 20000);
    assert_int_equal(rill_picker_block_count(&p, 3), 2);
    assert_int_equal(rill_picker_block_length(&p, 3, 0), BLK);
    assert_int_equal(rill_picker_block_length(&p, 3, BLK), 20000 - BLK);
    assert_int_equal(rill_picker_block_length(&p, 3, 2 * BLK), 0);
    /* Picking the whole torrent from a seed covers every byte once. */
    struct tp s;
    tp_init(&s, 1, 4, true);
    struct rill_picker_block out[32];
    int n = rill_picker_pick(&p, &s.pp, out, 32);
    assert_int_equal(n, 4 + 4 + 4 + 2);
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(out[i].offset % BLK, 0);
        assert_true(out[i].offset + out[i].length <= rill_picker_piece_size(&p, out[i].piece));
        bytes += out[i].length;
    }
    assert_int_equal(bytes, 3 * 65536 + 20000);
    ok(&p);
    rill_bitfield_free(&s.bf);
    rill_picker_free(&p);

    /* A piece length that is not a multiple of 16 KiB. */
    mk(&p, &r, 1, 2, 40000, 80000, NULL);
    assert_int_equal(rill_picker_block_count(&p, 1), 3);
    assert_int_equal(rill_picker_block_length(&p, 1, 2 * BLK), 40000 - 2 * BLK);
    rill_picker_free(&p);

    /* Inconsistent geometry and options. */
    assert_int_equal(rill_picker_init(&p, 3, 32768, 4 * 32768, &r, NULL), RILL_EINVAL);
    assert_int_equal(rill_picker_init(&p, 1, 0, 10, &r, NULL), RILL_EINVAL);
    assert_int_equal(rill_picker_init(&p, 1, 32768, 0, &r, NULL), RILL_EINVAL);
    assert_int_equal(rill_picker_init(&p, 1, 32768, 10, NULL, NULL), RILL_EINVAL);
    struct rill_picker_opts o = opts_rf(4);
    o.endgame_max_requesters = RILL_PICKER_MAX_REQUESTERS + 1;
    assert_int_equal(rill_picker_init(&p, 1, 32768, 10, &r, &o), RILL_EINVAL);
    o = opts_rf(4);
    o.avail_levels = 1;
    assert_int_equal(rill_picker_init(&p, 1, 32768, 10, &r, &o), RILL_EINVAL);
    rill_picker_free(&p);
}

static void test_rarest_first(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(0);
    mk(&p, &r, 7, 10, BLK, 10 * BLK, &o);
    /* Piece 7 on one peer, piece 2 on two, every other piece on three. */
    struct tp a, b, c, seed, few;
    tp_init(&a, 1, 10, false);
    tp_init(&b, 2, 10, false);
    tp_init(&c, 3, 10, false);
    const uint32_t la[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, RILL_PICKER_NONE};
    const uint32_t lb[] = {0, 1, 2, 3, 4, 5, 6, 8, 9, RILL_PICKER_NONE};
    const uint32_t lc[] = {0, 1, 3, 4, 5, 6, 8, 9, RILL_PICKER_NONE};
    tp_have(&p, &a, la);
    tp_have(&p, &b, lb);
    tp_have(&p, &c, lc);
    rill_picker_peer_have_all(&p);
    assert_int_equal(rill_picker_availability(&p, 7), 2);
    assert_int_equal(rill_picker_availability(&p, 2), 3);
    assert_int_equal(rill_picker_availability(&p, 0), 4);
    ok(&p);
    tp_init(&seed, 9, 10, true);
    tp_init(&few, 10, 10, false);
    rill_bitfield_set(&few.bf, 4, true);
    rill_bitfield_set(&few.bf, 5, true);
    /* A peer with only common pieces gets one of those. */
    uint32_t got = pick1(&p, &few);
    assert_true(got == 4 || got == 5);
    assert_int_equal(pick1(&p, &seed), 7);
    assert_int_equal(pick1(&p, &seed), 2);
    for (int i = 0; i < 7; i++) {
        got = pick1(&p, &seed);
        assert_true(got != 7 && got != 2 && got != RILL_PICKER_NONE);
    }
    /* Everything is requested: endgame. The peer gets the other of its two
     * pieces as a duplicate, never its own again. */
    assert_true(rill_picker_in_endgame(&p));
    assert_int_equal(pick1(&p, &few), got == 4 ? 5 : 4);
    assert_int_equal(pick1(&p, &few), RILL_PICKER_NONE);
    ok(&p);
    rill_bitfield_free(&a.bf);
    rill_bitfield_free(&b.bf);
    rill_bitfield_free(&c.bf);
    rill_bitfield_free(&seed.bf);
    rill_bitfield_free(&few.bf);
    rill_picker_free(&p);
}

/* First piece picked by a seed among 64 equally rare pieces, for one rng
 * seed. */
static uint32_t tie_pick(uint64_t seed, enum rill_picker_mode mode, uint32_t random_first)
{
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(random_first);
    o.mode = mode;
    mk(&p, &r, seed, 64, BLK, 64 * BLK, &o);
    struct tp s;
    tp_init(&s, 1, 64, true);
    rill_picker_peer_have_all(&p);
    uint32_t got = pick1(&p, &s);
    rill_bitfield_free(&s.bf);
    rill_picker_free(&p);
    return got;
}

static void test_ties_random(void **state)
{
    (void)state;
    bool seen[64] = {false};
    unsigned distinct = 0;
    for (uint64_t seed = 1; seed <= 16; seed++) {
        uint32_t got = tie_pick(seed, RILL_PICKER_RAREST, 0);
        assert_true(got < 64);
        assert_int_equal(tie_pick(seed, RILL_PICKER_RAREST, 0), got); /* replays */
        distinct += !seen[got];
        seen[got] = true;
    }
    assert_true(distinct >= 4);
    assert_false(seen[0] && distinct == 1);
}

static void test_random_first(void **state)
{
    (void)state;
    unsigned not_rarest = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        struct rill_rng r;
        struct rill_picker p;
        struct rill_picker_opts o = opts_rf(4);
        mk(&p, &r, seed, 32, BLK, 32 * BLK, &o);
        /* Piece 0 is the rarest: every other piece is on three peers more. */
        for (int k = 0; k < 3; k++)
            for (uint32_t i = 1; i < 32; i++)
                rill_picker_peer_have(&p, i);
        struct tp s;
        tp_init(&s, 1, 32, true);
        uint32_t first = pick1(&p, &s);
        not_rarest += first != 0;
        assert_int_equal(receive_piece(&p, 1, first), RILL_PICKER_GOT_PIECE);
        assert_int_equal(rill_picker_verified(&p, first), 0);
        /* Have three more (not piece 0): random first is over. */
        uint32_t extra = 0;
        for (uint32_t i = 31; extra < 3; i--)
            if (i != first) {
                rill_picker_verified(&p, i);
                extra++;
            }
        struct rill_picker_stats st;
        rill_picker_stats(&p, &st);
        assert_int_equal(st.have, 4);
        if (first != 0)
            assert_int_equal(pick1(&p, &s), 0);
        ok(&p);
        rill_bitfield_free(&s.bf);
        rill_picker_free(&p);
    }
    assert_true(not_rarest >= 6);
    /* With random first off, the rarest piece comes first every time. */
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct rill_rng r;
        struct rill_picker p;
        struct rill_picker_opts o = opts_rf(0);
        mk(&p, &r, seed, 32, BLK, 32 * BLK, &o);
        for (uint32_t i = 1; i < 32; i++)
            rill_picker_peer_have(&p, i);
        struct tp s;
        tp_init(&s, 1, 32, true);
        assert_int_equal(pick1(&p, &s), 0);
        rill_bitfield_free(&s.bf);
        rill_picker_free(&p);
    }
}

static void test_partials_first(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(0);
    /* 8 pieces of 4 blocks. */
    mk(&p, &r, 3, 8, 4 * BLK, 32 * BLK, &o);
    struct tp a, b, c;
    tp_init(&a, 1, 8, true);
    tp_init(&b, 2, 8, true);
    tp_init(&c, 3, 8, true);
    for (int k = 0; k < 4; k++) /* A, B, C and E below */
        rill_picker_peer_have_all(&p);
    struct rill_picker_block out[8];
    assert_int_equal(rill_picker_pick(&p, &a.pp, out, 2), 2);
    uint32_t x = out[0].piece;
    assert_int_equal(out[1].piece, x);
    assert_int_equal(out[0].offset, 0);
    assert_int_equal(out[1].offset, BLK);
    /* B finishes A's piece before starting a new one. */
    assert_int_equal(rill_picker_pick(&p, &b.pp, out, 2), 2);
    assert_int_equal(out[0].piece, x);
    assert_int_equal(out[1].piece, x);
    assert_int_equal(out[0].offset, 2 * BLK);
    /* A starts a new piece y; C (a seed) continues y rather than start. */
    assert_int_equal(rill_picker_pick(&p, &a.pp, out, 1), 1);
    uint32_t y = out[0].piece;
    assert_true(y != x);
    assert_int_equal(rill_picker_pick(&p, &c.pp, out, 1), 1);
    assert_int_equal(out[0].piece, y);
    assert_int_equal(out[0].offset, BLK);
    /* D lacks y, so it starts z. Then D learns y: both y and z are open,
     * y listed first, and D still continues its own z. */
    struct tp d, e;
    tp_init(&d, 4, 8, false);
    for (uint32_t i = 0; i < 8; i++)
        if (i != y)
            rill_bitfield_set(&d.bf, i, true);
    assert_int_equal(rill_picker_peer_bitfield(&p, &d.bf), 0);
    assert_int_equal(rill_picker_pick(&p, &d.pp, out, 1), 1);
    uint32_t z = out[0].piece;
    assert_true(z != x && z != y);
    rill_bitfield_set(&d.bf, y, true);
    assert_int_equal(rill_picker_peer_have(&p, y), 0);
    assert_int_equal(rill_picker_pick(&p, &d.pp, out, 1), 1);
    assert_int_equal(out[0].piece, z);
    assert_int_equal(out[0].offset, BLK);
    /* A newcomer takes the remaining blocks of both partials, then new. */
    tp_init(&e, 5, 8, true);
    assert_int_equal(rill_picker_pick(&p, &e.pp, out, 8), 8);
    unsigned from_y = 0, from_z = 0;
    for (int i = 0; i < 8; i++) {
        from_y += out[i].piece == y;
        from_z += out[i].piece == z;
        if (i < 4)
            assert_true(out[i].piece == y || out[i].piece == z);
    }
    assert_int_equal(from_y, 2);
    assert_int_equal(from_z, 2);
    ok(&p);
    rill_bitfield_free(&d.bf);
    rill_bitfield_free(&e.bf);
    rill_bitfield_free(&a.bf);
    rill_bitfield_free(&b.bf);
    rill_bitfield_free(&c.bf);
    rill_picker_free(&p);
}

/* A metainfo with just the geometry and files the picker reads. */
static void mi_files(struct rill_metainfo *mi, struct rill_file *files, size_t nf, uint32_t plen)
{
    memset(mi, 0, sizeof *mi);
    mi->files = files;
    mi->file_count = nf;
    mi->piece_length = plen;
    const struct rill_file *last = &files[nf - 1];
    mi->total_size = last->offset + last->length;
    mi->piece_count = (uint32_t)((mi->total_size + plen - 1) / plen);
}

static void test_priorities(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    /* 32 KiB pieces. f0 [0, 40000) skipped, f1 [40000, 90000) normal, a
     * padding file to 98304, f3 [98304, 138304) high: piece 0 is f0's alone
     * (skipped), piece 1 is shared by f0 and f1 (wanted), 2 is f1 and the
     * padding, 3 and 4 are f3's. */
    struct rill_file files[] = {
        {.offset = 0, .length = 40000},
        {.offset = 40000, .length = 50000},
        {.offset = 90000, .length = 8304, .attr = RILL_ATTR_PAD},
        {.offset = 98304, .length = 40000},
    };
    struct rill_metainfo mi;
    mi_files(&mi, files, 4, 32768);
    assert_int_equal(mi.piece_count, 5);
    struct rill_picker_opts o = opts_rf(0);
    mk(&p, &r, 5, 5, 32768, mi.total_size, &o);
    const enum rill_picker_prio pr[] = {RILL_PICKER_SKIP, RILL_PICKER_NORMAL, RILL_PICKER_SKIP,
                                        RILL_PICKER_HIGH};
    assert_int_equal(rill_picker_set_file_priorities(&p, &mi, pr), 0);
    ok(&p);
    assert_int_equal(rill_picker_priority(&p, 0), RILL_PICKER_SKIP);
    assert_int_equal(rill_picker_priority(&p, 1), RILL_PICKER_NORMAL);
    assert_int_equal(rill_picker_priority(&p, 2), RILL_PICKER_NORMAL);
    assert_int_equal(rill_picker_priority(&p, 3), RILL_PICKER_HIGH);
    assert_int_equal(rill_picker_priority(&p, 4), RILL_PICKER_HIGH);
    assert_false(rill_picker_wants(&p, 0));
    assert_true(rill_picker_wants(&p, 1));
    struct rill_picker_stats st;
    rill_picker_stats(&p, &st);
    assert_int_equal(st.wanted_left, 4);
    assert_int_equal(st.wanted_bytes_left, mi.total_size - 32768);
    assert_int_equal(st.bytes_left, mi.total_size);
    /* High pieces first (even though the others are rarer), never piece 0. */
    rill_picker_peer_have(&p, 1);
    rill_picker_peer_have(&p, 2);
    rill_picker_peer_have_all(&p);
    struct tp s;
    tp_init(&s, 1, 5, true);
    struct rill_picker_block out[16];
    int n = rill_picker_pick(&p, &s.pp, out, 16);
    assert_int_equal(n, 2 + 1 + 2 + 2); /* piece 4 is 7232 bytes: one block */
    assert_true(out[0].piece == 3 || out[0].piece == 4);
    assert_true(out[1].piece == 3 || out[1].piece == 4);
    assert_true(out[2].piece == 3 || out[2].piece == 4);
    for (int i = 3; i < n; i++)
        assert_true(out[i].piece == 1 || out[i].piece == 2);
    assert_true(rill_picker_in_endgame(&p));
    for (uint32_t i = 1; i < 5; i++) {
        assert_int_equal(receive_piece(&p, 1, i), RILL_PICKER_GOT_PIECE);
        assert_false(rill_picker_wanted_complete(&p));
        assert_int_equal(rill_picker_verified(&p, i), 0);
    }
    assert_true(rill_picker_wanted_complete(&p));
    assert_false(rill_picker_complete(&p));
    assert_false(rill_picker_interesting(&p, &s.pp));
    assert_int_equal(rill_picker_pick(&p, &s.pp, out, 16), 0);
    /* A block of a skipped piece is dropped, not started. */
    assert_int_equal(rill_picker_received(&p, 1, 0, 0, NULL, 0, NULL), RILL_PICKER_GOT_DUP);
    /* Un-skipping piece 0 makes it wanted again. */
    assert_int_equal(rill_picker_set_priority(&p, 0, 1, RILL_PICKER_NORMAL), 0);
    assert_true(rill_picker_interesting(&p, &s.pp));
    assert_int_equal(rill_picker_pick(&p, &s.pp, out, 16), 2);
    assert_int_equal(out[0].piece, 0);
    ok(&p);
    /* Errors. */
    assert_int_equal(rill_picker_set_priority(&p, 4, 2, RILL_PICKER_HIGH), RILL_ERANGE);
    assert_int_equal(rill_picker_set_priority(&p, 0, 1, (enum rill_picker_prio)3), RILL_EINVAL);
    mi.piece_length = 65536;
    assert_int_equal(rill_picker_set_file_priorities(&p, &mi, pr), RILL_EINVAL);
    rill_bitfield_free(&s.bf);
    rill_picker_free(&p);
}

/* A piece made of padding alone follows the file before it; empty files
 * count for nothing. */
static void test_priorities_padding(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_metainfo mi;
    struct rill_file f2[] = {
        {.offset = 0, .length = 32768},
        {.offset = 32768, .length = 32768, .attr = RILL_ATTR_PAD},
        {.offset = 65536, .length = 0},
        {.offset = 65536, .length = 32768},
    };
    mi_files(&mi, f2, 4, 32768);
    mk(&p, &r, 5, 3, 32768, mi.total_size, NULL);
    const enum rill_picker_prio pr2[] = {RILL_PICKER_HIGH, RILL_PICKER_SKIP, RILL_PICKER_HIGH,
                                         RILL_PICKER_SKIP};
    assert_int_equal(rill_picker_set_file_priorities(&p, &mi, pr2), 0);
    assert_int_equal(rill_picker_priority(&p, 0), RILL_PICKER_HIGH);
    assert_int_equal(rill_picker_priority(&p, 1), RILL_PICKER_HIGH);
    assert_int_equal(rill_picker_priority(&p, 2), RILL_PICKER_SKIP);
    ok(&p);
    rill_picker_free(&p);
}

static void test_sequential(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(4);
    o.mode = RILL_PICKER_SEQUENTIAL;
    mk(&p, &r, 11, 12, BLK, 12 * BLK, &o);
    /* Availability that rarest first would follow: the last pieces rarest. */
    for (uint32_t i = 0; i < 8; i++)
        rill_picker_peer_have(&p, i);
    struct tp s, gap;
    tp_init(&s, 1, 12, true);
    tp_init(&gap, 2, 12, false);
    for (uint32_t i = 0; i < 12; i++)
        if (i != 3)
            rill_bitfield_set(&gap.bf, i, true);
    assert_int_equal(pick1(&p, &s), 0);
    assert_int_equal(pick1(&p, &s), 1);
    assert_int_equal(pick1(&p, &gap), 2);
    assert_int_equal(pick1(&p, &gap), 4); /* it lacks 3 */
    assert_int_equal(pick1(&p, &s), 3);
    /* A failed piece is picked again first. */
    assert_int_equal(receive_piece(&p, 1, 1), RILL_PICKER_GOT_PIECE);
    uint32_t senders[4];
    assert_int_equal(rill_picker_failed(&p, 1, senders, 4), 1);
    assert_int_equal(senders[0], 1);
    assert_int_equal(pick1(&p, &s), 1);
    /* High priority goes before the order. */
    rill_picker_set_priority(&p, 9, 1, RILL_PICKER_HIGH);
    assert_int_equal(pick1(&p, &s), 9);
    assert_int_equal(pick1(&p, &s), 5);
    /* A switch to rarest first at run time. */
    rill_picker_set_mode(&p, RILL_PICKER_RAREST);
    uint32_t got = pick1(&p, &s);
    assert_true(got >= 8 && got < 12);
    ok(&p);
    rill_bitfield_free(&s.bf);
    rill_bitfield_free(&gap.bf);
    rill_picker_free(&p);
}

static void test_random_mode(void **state)
{
    (void)state;
    unsigned not_rarest = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        struct rill_rng r;
        struct rill_picker p;
        struct rill_picker_opts o = opts_rf(0);
        o.mode = RILL_PICKER_RANDOM;
        mk(&p, &r, seed, 40, BLK, 40 * BLK, &o);
        for (uint32_t i = 1; i < 40; i++)
            rill_picker_peer_have(&p, i);
        struct tp t;
        tp_init(&t, 1, 40, false);
        for (uint32_t i = 0; i < 40; i += 2)
            rill_bitfield_set(&t.bf, i, true);
        assert_int_equal(rill_picker_peer_bitfield(&p, &t.bf), 0);
        /* Only the peer's pieces, each once. */
        bool seen[40] = {false};
        for (int k = 0; k < 20; k++) {
            uint32_t got = pick1(&p, &t);
            assert_true(got < 40 && got % 2 == 0 && !seen[got]);
            seen[got] = true;
            if (k == 0)
                not_rarest += got != 0;
        }
        ok(&p);
        rill_bitfield_free(&t.bf);
        rill_picker_free(&p);
    }
    assert_true(not_rarest >= 5);
}

static bool has_id(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void test_endgame(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(0);
    o.endgame_max_requesters = 3;
    /* 3 pieces of 2 blocks. */
    mk(&p, &r, 13, 3, 2 * BLK, 6 * BLK, &o);
    struct tp a, b, c, d;
    tp_init(&a, 1, 3, true);
    tp_init(&b, 2, 3, true);
    tp_init(&c, 3, 3, true);
    tp_init(&d, 4, 3, true);
    struct rill_picker_block out[16], mine[16];
    assert_int_equal(rill_picker_pick(&p, &a.pp, mine, 5), 5);
    assert_false(rill_picker_in_endgame(&p));
    /* The last free block: endgame starts exactly now. */
    assert_int_equal(rill_picker_pick(&p, &b.pp, out, 1), 1);
    struct rill_picker_block last = out[0];
    assert_true(rill_picker_in_endgame(&p));
    /* A gets a duplicate of B's block only, never its own again. */
    assert_int_equal(rill_picker_pick(&p, &a.pp, out, 16), 1);
    assert_int_equal(out[0].piece, last.piece);
    assert_int_equal(out[0].offset, last.offset);
    assert_int_equal(rill_picker_pick(&p, &a.pp, out, 16), 0);
    /* B gets A's five. */
    assert_int_equal(rill_picker_pick(&p, &b.pp, out, 16), 5);
    for (int i = 0; i < 5; i++)
        assert_false(out[i].piece == last.piece && out[i].offset == last.offset);
    /* C gets all six; D none (three requesters each already). */
    assert_int_equal(rill_picker_pick(&p, &c.pp, out, 16), 6);
    assert_int_equal(rill_picker_pick(&p, &d.pp, out, 16), 0);
    uint32_t ids[RILL_PICKER_MAX_REQUESTERS];
    for (uint32_t piece = 0; piece < 3; piece++)
        for (uint32_t off = 0; off < 2 * BLK; off += BLK) {
            assert_int_equal(rill_picker_requesters(&p, piece, off, ids, 16), 3);
            assert_true(has_id(ids, 3, 1) && has_id(ids, 3, 2) && has_id(ids, 3, 3));
        }
    ok(&p);
    /* A block from C: A and B get cancels, and the picker forgets them. */
    size_t nc = 0;
    assert_int_equal(rill_picker_received(&p, 3, mine[0].piece, mine[0].offset, ids,
                                          RILL_PICKER_MAX_REQUESTERS, &nc),
                     RILL_PICKER_GOT_BLOCK);
    assert_int_equal(nc, 2);
    assert_true(has_id(ids, 2, 1) && has_id(ids, 2, 2));
    assert_int_equal(rill_picker_requesters(&p, mine[0].piece, mine[0].offset, ids, 16), 0);
    assert_int_equal(rill_picker_release(&p, 1, mine[0].piece, mine[0].offset), 0);
    assert_int_equal(rill_picker_received(&p, 1, mine[0].piece, mine[0].offset, ids, 16, &nc),
                     RILL_PICKER_GOT_DUP);
    /* A release of one duplicate keeps the block requested by the others;
     * D may now have it. */
    assert_int_equal(rill_picker_release(&p, 2, mine[1].piece, mine[1].offset), 1);
    assert_int_equal(rill_picker_requesters(&p, mine[1].piece, mine[1].offset, ids, 16), 2);
    assert_int_equal(rill_picker_pick(&p, &d.pp, out, 16), 1);
    assert_int_equal(out[0].offset, mine[1].offset);
    ok(&p);
    /* Releasing every request of a block ends endgame. */
    assert_int_equal(rill_picker_release(&p, 1, mine[1].piece, mine[1].offset), 1);
    assert_int_equal(rill_picker_release(&p, 3, mine[1].piece, mine[1].offset), 1);
    assert_true(rill_picker_in_endgame(&p));
    assert_int_equal(rill_picker_release(&p, 4, mine[1].piece, mine[1].offset), 1);
    assert_false(rill_picker_in_endgame(&p));
    assert_int_equal(rill_picker_pick(&p, &b.pp, out, 16), 1);
    assert_true(rill_picker_in_endgame(&p));
    ok(&p);
    rill_picker_free(&p);
    rill_bitfield_free(&a.bf);
    rill_bitfield_free(&b.bf);
    rill_bitfield_free(&c.bf);
    rill_bitfield_free(&d.bf);
}

/* With endgame off (the lab's ablation), nothing is requested twice. */
static void test_no_endgame(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(0);
    o.endgame = false;
    mk(&p, &r, 13, 3, 2 * BLK, 6 * BLK, &o);
    struct tp a, b;
    tp_init(&a, 1, 3, true);
    tp_init(&b, 2, 3, true);
    struct rill_picker_block out[16];
    assert_int_equal(rill_picker_pick(&p, &a.pp, out, 16), 6);
    assert_false(rill_picker_in_endgame(&p));
    assert_int_equal(rill_picker_pick(&p, &b.pp, out, 16), 0);
    struct rill_picker_stats st;
    rill_picker_stats(&p, &st);
    assert_false(st.endgame);
    ok(&p);
    rill_bitfield_free(&a.bf);
    rill_bitfield_free(&b.bf);
    rill_picker_free(&p);
}

static void test_failed_repicked(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(0);
    mk(&p, &r, 17, 4, 4 * BLK, 16 * BLK, &o);
    struct tp x, y;
    tp_init(&x, 10, 4, true);
    tp_init(&y, 20, 4, true);
    struct rill_picker_block bx[4], by[4];
    assert_int_equal(rill_picker_pick(&p, &x.pp, bx, 2), 2);
    assert_int_equal(rill_picker_pick(&p, &y.pp, by, 2), 2);
    uint32_t piece = bx[0].piece;
    assert_int_equal(by[0].piece, piece);
    assert_int_equal(rill_picker_received(&p, 10, piece, bx[0].offset, NULL, 0, NULL), 0);
    assert_int_equal(rill_picker_received(&p, 10, piece, bx[1].offset, NULL, 0, NULL), 0);
    assert_int_equal(rill_picker_received(&p, 20, piece, by[0].offset, NULL, 0, NULL), 0);
    assert_int_equal(rill_picker_received(&p, 20, piece, by[1].offset, NULL, 0, NULL),
                     RILL_PICKER_GOT_PIECE);
    assert_true(rill_picker_block_received(&p, piece, 0));
    struct rill_picker_stats st;
    rill_picker_stats(&p, &st);
    assert_int_equal(st.partial, 1);
    uint32_t senders[4];
    assert_int_equal(rill_picker_failed(&p, piece, senders, 4), 2);
    assert_true(has_id(senders, 2, 10) && has_id(senders, 2, 20));
    assert_false(rill_picker_block_received(&p, piece, 0));
    rill_picker_stats(&p, &st);
    assert_int_equal(st.partial, 0);
    ok(&p);
    /* The piece is fresh again, and wanted like the others. */
    struct rill_picker_block all[16];
    assert_int_equal(rill_picker_pick(&p, &x.pp, all, 16), 16);
    unsigned again = 0;
    for (int i = 0; i < 16; i++)
        again += all[i].piece == piece;
    assert_int_equal(again, 4);
    assert_int_equal(receive_piece(&p, 10, piece), RILL_PICKER_GOT_PIECE);
    assert_int_equal(rill_picker_verified(&p, piece), 0);
    assert_int_equal(rill_picker_verified(&p, piece), 0);
    assert_int_equal(rill_picker_failed(&p, piece, senders, 4), RILL_EINVAL);
    assert_int_equal(rill_picker_failed(&p, 99, senders, 4), RILL_ERANGE);
    assert_int_equal(rill_picker_received(&p, 10, piece, 0, NULL, 0, NULL), RILL_PICKER_GOT_DUP);
    ok(&p);
    rill_bitfield_free(&x.bf);
    rill_bitfield_free(&y.bf);
    rill_picker_free(&p);
}

static void test_peer_lost(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(0);
    mk(&p, &r, 19, 6, 2 * BLK, 12 * BLK, &o);
    struct tp a, b;
    tp_init(&a, 1, 6, false);
    tp_init(&b, 2, 6, false);
    for (uint32_t i = 0; i < 6; i++)
        rill_bitfield_set(&a.bf, i, true);
    rill_bitfield_set(&b.bf, 2, true);
    assert_int_equal(rill_picker_peer_bitfield(&p, &a.bf), 0);
    assert_int_equal(rill_picker_peer_bitfield(&p, &b.bf), 0);
    assert_int_equal(rill_picker_availability(&p, 2), 2);
    assert_int_equal(rill_picker_availability(&p, 3), 1);
    /* A takes three pieces and half of a fourth, gets one block. */
    struct rill_picker_block out[8];
    assert_int_equal(rill_picker_pick(&p, &a.pp, out, 7), 7);
    assert_int_equal(rill_picker_received(&p, 1, out[0].piece, out[0].offset, NULL, 0, NULL),
                     RILL_PICKER_GOT_BLOCK);
    /* A leaves: the shell releases its outstanding blocks, then the bits. */
    for (int i = 1; i < 7; i++)
        assert_int_equal(rill_picker_release(&p, 1, out[i].piece, out[i].offset), 1);
    for (int i = 1; i < 7; i++)
        assert_int_equal(rill_picker_release(&p, 1, out[i].piece, out[i].offset), 0);
    assert_int_equal(rill_picker_peer_lost(&p, &a.bf), 0);
    assert_int_equal(rill_picker_availability(&p, 2), 1);
    assert_int_equal(rill_picker_availability(&p, 3), 0);
    struct rill_picker_stats st;
    rill_picker_stats(&p, &st);
    assert_int_equal(st.distinct, 1);
    assert_int_equal(st.partial, 1); /* only the piece with a received block */
    ok(&p);
    /* Every block but the received one is free again. */
    struct tp s;
    tp_init(&s, 3, 6, true);
    assert_int_equal(rill_picker_pick(&p, &s.pp, out, 8), 8);
    assert_int_equal(rill_picker_pick(&p, &s.pp, out, 8), 3);
    /* Losing more than was added is refused, and nothing goes negative. */
    assert_int_equal(rill_picker_peer_lost(&p, &a.bf), RILL_EINVAL);
    assert_int_equal(rill_picker_availability(&p, 2), 0);
    assert_int_equal(rill_picker_availability(&p, 3), 0);
    assert_int_equal(rill_picker_peer_lost_all(&p), RILL_EINVAL);
    assert_int_equal(rill_picker_peer_have(&p, 6), RILL_ERANGE);
    ok(&p);
    rill_bitfield_free(&a.bf);
    rill_bitfield_free(&b.bf);
    rill_bitfield_free(&s.bf);
    rill_picker_free(&p);
}

static void test_have_all_and_stats(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    mk(&p, &r, 23, 10, BLK, 10 * BLK - 100, NULL);
    struct rill_picker_stats st;
    rill_picker_stats(&p, &st);
    assert_int_equal(st.distinct, 0);
    assert_int_equal(st.min_avail, 0);
    assert_true(st.copies == 0.0);
    for (int k = 0; k < 3; k++)
        rill_picker_peer_have_all(&p);
    for (uint32_t i = 0; i < 4; i++)
        rill_picker_peer_have(&p, i);
    rill_picker_stats(&p, &st);
    assert_int_equal(st.seeds, 3);
    assert_int_equal(st.distinct, 10);
    assert_int_equal(st.min_avail, 3);
    assert_true(st.copies > 3.39 && st.copies < 3.41); /* 3 + 4/10 */
    assert_int_equal(rill_picker_availability(&p, 0), 4);
    assert_int_equal(rill_picker_availability(&p, 9), 3);
    /* Pieces we have still count. */
    rill_picker_verified(&p, 9);
    assert_int_equal(rill_picker_availability(&p, 9), 3);
    rill_picker_stats(&p, &st);
    assert_int_equal(st.have, 1);
    assert_int_equal(st.bytes_left, 9 * BLK);
    for (int k = 0; k < 3; k++)
        assert_int_equal(rill_picker_peer_lost_all(&p), 0);
    rill_picker_stats(&p, &st);
    assert_int_equal(st.distinct, 4);
    assert_int_equal(st.min_avail, 0);
    /* Resume: load a have set. */
    struct rill_bitfield have;
    rill_bitfield_init(&have, 10);
    for (uint32_t i = 0; i < 10; i++)
        rill_bitfield_set(&have, i, i != 4);
    assert_int_equal(rill_picker_load_have(&p, &have), 0);
    assert_false(rill_picker_complete(&p));
    assert_true(rill_picker_has(&p, 3));
    assert_false(rill_picker_has(&p, 4));
    struct tp s;
    tp_init(&s, 1, 10, true);
    assert_int_equal(pick1(&p, &s), 4);
    assert_int_equal(rill_picker_received(&p, 1, 4, 0, NULL, 0, NULL), RILL_PICKER_GOT_PIECE);
    rill_picker_verified(&p, 4);
    assert_true(rill_picker_complete(&p));
    assert_true(rill_picker_wanted_complete(&p));
    assert_int_equal(pick1(&p, &s), RILL_PICKER_NONE);
    rill_picker_stats(&p, &st);
    assert_int_equal(st.bytes_left, 0);
    assert_false(st.endgame);
    struct rill_bitfield bad;
    rill_bitfield_init(&bad, 9);
    assert_int_equal(rill_picker_load_have(&p, &bad), RILL_EINVAL);
    assert_int_equal(rill_picker_peer_bitfield(&p, &bad), RILL_EINVAL);
    /* A peer with a wrong-sized bitfield or the reserved id is refused. */
    struct rill_picker_peer pp;
    struct rill_picker_block out[2];
    rill_picker_peer_init(&pp, 1, &bad, false);
    assert_int_equal(rill_picker_pick(&p, &pp, out, 2), RILL_EINVAL);
    rill_picker_peer_init(&pp, RILL_PICKER_NONE, NULL, true);
    assert_int_equal(rill_picker_pick(&p, &pp, out, 2), RILL_EINVAL);
    ok(&p);
    rill_bitfield_free(&bad);
    rill_bitfield_free(&have);
    rill_bitfield_free(&s.bf);
    rill_picker_free(&p);
}

static void test_allowed_fast(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(0);
    mk(&p, &r, 29, 16, 2 * BLK, 32 * BLK, &o);
    struct tp t, s;
    tp_init(&t, 1, 16, false);
    tp_init(&s, 2, 16, true);
    for (uint32_t i = 0; i < 16; i++)
        if (i != 9)
            rill_bitfield_set(&t.bf, i, true);
    rill_picker_verified(&p, 3);
    /* Piece 7 is in progress (one block requested by the seed). */
    assert_int_equal(rill_picker_pick_from(&p, &s.pp, (const uint32_t[]){7}, 1,
                                           (struct rill_picker_block[1]){{0}}, 1),
                     1);
    const uint32_t allowed[] = {9, 3, 5, 7, 100};
    struct rill_picker_block out[8];
    int n = rill_picker_pick_from(&p, &t.pp, allowed, 5, out, 8);
    /* 9: the peer lacks it; 3: we have it; 100: outside. 7's free block
     * first, then 5. */
    assert_int_equal(n, 3);
    assert_int_equal(out[0].piece, 7);
    assert_int_equal(out[0].offset, BLK);
    assert_int_equal(out[1].piece, 5);
    assert_int_equal(out[2].piece, 5);
    assert_int_equal(rill_picker_pick_from(&p, &t.pp, allowed, 5, out, 8), 0);
    assert_int_equal(rill_picker_pick_from(&p, &t.pp, NULL, 0, out, 8), 0);
    assert_int_equal(rill_picker_pick_from(&p, &t.pp, NULL, 1, out, 8), RILL_EINVAL);
    ok(&p);
    rill_bitfield_free(&t.bf);
    rill_bitfield_free(&s.bf);
    rill_picker_free(&p);
}

static void test_received_edges(void **state)
{
    (void)state;
    struct rill_rng r;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(0);
    o.max_partial = 2;
    mk(&p, &r, 31, 4, 2 * BLK, 8 * BLK - 1, &o);
    /* Unrequested data for a wanted piece is kept. */
    assert_int_equal(rill_picker_received(&p, 5, 1, BLK, NULL, 0, NULL), RILL_PICKER_GOT_BLOCK);
    assert_int_equal(rill_picker_received(&p, 5, 1, BLK, NULL, 0, NULL), RILL_PICKER_GOT_DUP);
    assert_int_equal(rill_picker_received(&p, 5, 1, 1, NULL, 0, NULL), RILL_ERANGE);
    assert_int_equal(rill_picker_received(&p, 5, 4, 0, NULL, 0, NULL), RILL_ERANGE);
    assert_int_equal(rill_picker_received(&p, 5, 3, 2 * BLK, NULL, 0, NULL), RILL_ERANGE);
    assert_int_equal(rill_picker_release(&p, 5, 9, 0), RILL_ERANGE);
    assert_int_equal(rill_picker_release(&p, 5, 0, 0), 0);
    ok(&p);
    /* With two slots, a seed finishes piece 1 and takes one more piece;
     * then every slot is busy and nothing new starts. */
    struct tp s;
    tp_init(&s, 6, 4, true);
    struct rill_picker_block out[8];
    assert_int_equal(rill_picker_pick(&p, &s.pp, out, 8), 3);
    assert_int_equal(out[0].piece, 1);
    assert_int_equal(out[0].offset, 0);
    assert_false(rill_picker_in_endgame(&p));
    /* A block for a third piece cannot be kept either. */
    uint32_t other = 0;
    while (other == 1 || other == out[1].piece)
        other++;
    assert_int_equal(rill_picker_received(&p, 6, other, 0, NULL, 0, NULL), RILL_PICKER_GOT_DUP);
    assert_int_equal(rill_picker_received(&p, 6, 1, 0, NULL, 0, NULL), RILL_PICKER_GOT_PIECE);
    assert_int_equal(rill_picker_verified(&p, 1), 0);
    assert_int_equal(rill_picker_pick(&p, &s.pp, out, 8), 2);
    ok(&p);
    rill_bitfield_free(&s.bf);
    rill_picker_free(&p);
}

/* ------------------------------------------------- randomized stress */

#define SN 61
#define SPLEN (3 * BLK)
#define STOTAL ((SN - 1ull) * SPLEN + 20000)
#define SPEERS 24
#define SMAXOUT 128

struct sp {
    bool on;
    struct tp t;
    uint32_t out[SMAXOUT][2]; /* outstanding (piece, offset), as a shell keeps */
    size_t nout;
};

struct world {
    struct rill_picker p;
    struct rill_rng prng, wrng;
    struct rill_picker_opts o;
    struct sp peers[SPEERS];
    uint32_t next_id;
    unsigned endgame_steps, dup_picks;
};

static uint32_t wr(struct world *w, uint32_t n)
{
    return (uint32_t)rill_rng_below(&w->wrng, n);
}

static int out_find(const struct sp *q, uint32_t piece, uint32_t off)
{
    for (size_t i = 0; i < q->nout; i++)
        if (q->out[i][0] == piece && q->out[i][1] == off)
            return (int)i;
    return -1;
}

static void out_del(struct sp *q, size_t i)
{
    q->out[i][0] = q->out[q->nout - 1][0];
    q->out[i][1] = q->out[q->nout - 1][1];
    q->nout--;
}

/* The peers that, in the model, have the block outstanding. */
static size_t model_req(struct world *w, uint32_t piece, uint32_t off, uint32_t *ids)
{
    size_t n = 0;
    for (int k = 0; k < SPEERS; k++)
        if (w->peers[k].on && out_find(&w->peers[k], piece, off) >= 0)
            ids[n++] = w->peers[k].t.pp.id;
    return n;
}

static void same_set(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_true(has_id(b, nb, a[i]));
}

static struct sp *by_id(struct world *w, uint32_t id)
{
    for (int k = 0; k < SPEERS; k++)
        if (w->peers[k].on && w->peers[k].t.pp.id == id)
            return &w->peers[k];
    fail_msg("unknown peer id %u", id);
    return NULL;
}

static struct sp *random_on(struct world *w)
{
    int k = (int)wr(w, SPEERS);
    for (int j = 0; j < SPEERS; j++, k = (k + 1) % SPEERS)
        if (w->peers[k].on)
            return &w->peers[k];
    return NULL;
}

static void ev_connect(struct world *w)
{
    struct sp *q = NULL;
    for (int k = 0; k < SPEERS && !q; k++)
        if (!w->peers[k].on)
            q = &w->peers[k];
    if (!q)
        return;
    q->on = true;
    q->nout = 0;
    memset(q->t.bf.bits, 0, rill_bitfield_bytes(&q->t.bf));
    q->t.bf.count = 0;
    rill_picker_peer_init(&q->t.pp, w->next_id++, &q->t.bf, wr(w, 3) == 0);
    if (q->t.pp.all) {
        rill_picker_peer_have_all(&w->p);
        return;
    }
    uint32_t density = wr(w, 101);
    for (uint32_t i = 0; i < SN; i++)
        rill_bitfield_set(&q->t.bf, i, wr(w, 100) < density);
    assert_int_equal(rill_picker_peer_bitfield(&w->p, &q->t.bf), 0);
}

static void ev_have(struct world *w)
{
    struct sp *q = random_on(w);
    if (!q || q->t.pp.all)
        return;
    uint32_t i = wr(w, SN);
    if (rill_bitfield_get(&q->t.bf, i))
        return;
    rill_bitfield_set(&q->t.bf, i, true);
    assert_int_equal(rill_picker_peer_have(&w->p, i), 0);
}

static void ev_pick(struct world *w)
{
    struct sp *q = random_on(w);
    if (!q)
        return;
    size_t max = 1 + wr(w, 6);
    if (q->nout + max > SMAXOUT)
        return;
    struct rill_picker_block out[8];
    int n = rill_picker_pick(&w->p, &q->t.pp, out, max);
    assert_true(n >= 0 && (size_t)n <= max);
    bool endgame = rill_picker_in_endgame(&w->p);
    for (int i = 0; i < n; i++) {
        uint32_t piece = out[i].piece, off = out[i].offset, ids[SPEERS];
        assert_true(piece < SN && rill__pk_peer_has(&q->t.pp, piece));
        assert_false(rill_picker_has(&w->p, piece));
        assert_int_not_equal(rill_picker_priority(&w->p, piece), RILL_PICKER_SKIP);
        assert_int_equal(out[i].length, rill_picker_block_length(&w->p, piece, off));
        assert_false(rill_picker_block_received(&w->p, piece, off));
        /* Never twice to one peer; to two peers only in endgame. */
        assert_true(out_find(q, piece, off) < 0);
        size_t others = model_req(w, piece, off, ids);
        if (others) {
            assert_true(endgame);
            assert_true(others < w->o.endgame_max_requesters);
            w->dup_picks++;
        }
        q->out[q->nout][0] = piece;
        q->out[q->nout][1] = off;
        q->nout++;
    }
}

static void hash_result(struct world *w, uint32_t piece)
{
    if (wr(w, 5) == 0) {
        uint32_t senders[SPEERS];
        assert_true(rill_picker_failed(&w->p, piece, senders, SPEERS) >= 1);
    } else {
        assert_int_equal(rill_picker_verified(&w->p, piece), 0);
    }
}

/* A block arrives from q: requested (from its list) or unsolicited. */
static void deliver(struct world *w, struct sp *q, uint32_t piece, uint32_t off, bool asked)
{
    uint32_t want[SPEERS], got[RILL_PICKER_MAX_REQUESTERS];
    size_t nwant = model_req(w, piece, off, want), ngot = 99;
    bool was = rill_picker_block_received(&w->p, piece, off);
    bool skip = rill_picker_priority(&w->p, piece) == RILL_PICKER_SKIP;
    struct rill_picker_stats st;
    rill_picker_stats(&w->p, &st);
    int rc =
        rill_picker_received(&w->p, q->t.pp.id, piece, off, got, RILL_PICKER_MAX_REQUESTERS, &ngot);
    if (rc == RILL_PICKER_GOT_DUP) {
        assert_false(asked);
        assert_true(was || ((skip || st.partial == w->o.max_partial) && nwant == 0));
        assert_int_equal(ngot, 0);
        return;
    }
    assert_false(was);
    assert_true(rc == RILL_PICKER_GOT_BLOCK || rc == RILL_PICKER_GOT_PIECE);
    same_set(got, ngot, want, nwant);
    for (size_t i = 0; i < ngot; i++) {
        struct sp *o = by_id(w, got[i]);
        out_del(o, (size_t)out_find(o, piece, off));
    }
    if (rc == RILL_PICKER_GOT_PIECE)
        hash_result(w, piece);
}

static void ev_receive(struct world *w, bool asked)
{
    struct sp *q = random_on(w);
    if (!q)
        return;
    if (asked) {
        if (!q->nout)
            return;
        size_t i = wr(w, (uint32_t)q->nout);
        uint32_t piece = q->out[i][0], off = q->out[i][1];
        out_del(q, i);
        deliver(w, q, piece, off, true);
        return;
    }
    uint32_t piece = wr(w, SN);
    uint32_t off = wr(w, rill_picker_block_count(&w->p, piece)) * BLK;
    if (rill__pk_peer_has(&q->t.pp, piece) && !rill_picker_has(&w->p, piece) &&
        out_find(q, piece, off) < 0)
        deliver(w, q, piece, off, false);
}

static void ev_release(struct world *w)
{
    struct sp *q = random_on(w);
    if (!q || !q->nout)
        return;
    size_t i = wr(w, (uint32_t)q->nout);
    assert_int_equal(rill_picker_release(&w->p, q->t.pp.id, q->out[i][0], q->out[i][1]), 1);
    out_del(q, i);
}

static void ev_disconnect(struct world *w, struct sp *q)
{
    if (!q)
        return;
    while (q->nout) {
        assert_int_equal(rill_picker_release(&w->p, q->t.pp.id, q->out[0][0], q->out[0][1]), 1);
        out_del(q, 0);
    }
    if (q->t.pp.all)
        assert_int_equal(rill_picker_peer_lost_all(&w->p), 0);
    else
        assert_int_equal(rill_picker_peer_lost(&w->p, &q->t.bf), 0);
    q->on = false;
}

/* The model and the picker agree on availability and on every requester. */
static void compare(struct world *w)
{
    for (uint32_t i = 0; i < SN; i++) {
        uint32_t a = 0;
        for (int k = 0; k < SPEERS; k++)
            a += w->peers[k].on && rill__pk_peer_has(&w->peers[k].t.pp, i);
        assert_int_equal(rill_picker_availability(&w->p, i), a);
        for (uint32_t b = 0; b < rill_picker_block_count(&w->p, i); b++) {
            uint32_t m[SPEERS], g[RILL_PICKER_MAX_REQUESTERS];
            size_t nm = model_req(w, i, b * BLK, m);
            size_t ng = rill_picker_requesters(&w->p, i, b * BLK, g, RILL_PICKER_MAX_REQUESTERS);
            same_set(g, ng, m, nm);
            if (!w->o.endgame)
                assert_true(nm <= 1);
        }
    }
}

static void step(struct world *w)
{
    uint32_t ev = wr(w, 100);
    if (ev < 8)
        ev_connect(w);
    else if (ev < 20)
        ev_have(w);
    else if (ev < 50)
        ev_pick(w);
    else if (ev < 70)
        ev_receive(w, true);
    else if (ev < 75)
        ev_receive(w, false);
    else if (ev < 88)
        ev_release(w);
    else if (ev < 93)
        ev_disconnect(w, random_on(w));
    else if (ev < 96) {
        uint32_t a = wr(w, SN), len = 1 + wr(w, 6);
        if (len > SN - a)
            len = SN - a;
        assert_int_equal(rill_picker_set_priority(&w->p, a, len, wr(w, 3)), 0);
    } else {
        compare(w);
    }
    w->endgame_steps += rill_picker_in_endgame(&w->p);
}

/* Everyone leaves, everything is wanted, one seed finishes the download. */
static void finish(struct world *w)
{
    for (int k = 0; k < SPEERS; k++)
        if (w->peers[k].on)
            ev_disconnect(w, &w->peers[k]);
    ok(&w->p);
    assert_int_equal(rill_picker_set_priority(&w->p, 0, SN, RILL_PICKER_NORMAL), 0);
    struct tp s;
    tp_init(&s, w->next_id, SN, true);
    rill_picker_peer_have_all(&w->p);
    struct rill_picker_block out[16];
    for (int round = 0; round < 1000 && !rill_picker_complete(&w->p); round++) {
        int n = rill_picker_pick(&w->p, &s.pp, out, 16);
        assert_true(n > 0);
        for (int i = 0; i < n; i++) {
            int rc =
                rill_picker_received(&w->p, s.pp.id, out[i].piece, out[i].offset, NULL, 0, NULL);
            assert_true(rc == RILL_PICKER_GOT_BLOCK || rc == RILL_PICKER_GOT_PIECE);
            if (rc == RILL_PICKER_GOT_PIECE)
                rill_picker_verified(&w->p, out[i].piece);
        }
        ok(&w->p);
    }
    assert_true(rill_picker_complete(&w->p));
    assert_int_equal(rill_picker_pick(&w->p, &s.pp, out, 16), 0);
    rill_bitfield_free(&s.bf);
}

/* Runs `steps` random events from `seed`, checking every invariant after
 * each; adds the duplicate (endgame) requests it saw to *dups. */
static void stress_run(uint64_t seed, const struct rill_picker_opts *o, unsigned steps,
                       unsigned *dups)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->o = *o;
    rill_rng_seed(&w->wrng, seed ^ 0x5eed);
    mk(&w->p, &w->prng, seed, SN, SPLEN, STOTAL, o);
    w->o = w->p.opt; /* with the defaults resolved */
    w->next_id = 1;
    for (int k = 0; k < SPEERS; k++)
        tp_init(&w->peers[k].t, 0, SN, false);
    for (unsigned i = 0; i < steps; i++) {
        step(w);
        int rc = rill__picker_check(&w->p);
        if (rc)
            fail_msg("seed %llu step %u: invariant at picker_check.c:%d", (unsigned long long)seed,
                     i, rc);
    }
    compare(w);
    *dups += w->dup_picks;
    finish(w);
    for (int k = 0; k < SPEERS; k++)
        rill_bitfield_free(&w->peers[k].t.bf);
    rill_picker_free(&w->p);
    free(w);
}

static void test_stress(void **state)
{
    (void)state;
    unsigned dups = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        struct rill_picker_opts o;
        rill_picker_opts_default(&o);
        o.mode = (enum rill_picker_mode)(seed % 3);
        o.endgame = seed % 4 != 3;
        o.endgame_max_requesters = 2 + (uint32_t)(seed % 5);
        o.endgame_slots = seed % 2 ? 6 : 0;    /* a tiny pool runs out */
        o.max_partial = seed % 3 == 1 ? 4 : 0; /* so does a tiny slot table */
        o.avail_levels = seed % 2 ? 3 : 0;     /* capped availability levels */
        o.random_first = (uint32_t)(seed % 5);
        stress_run(seed, &o, 4000, &dups);
    }
    assert_true(dups > 100); /* endgame was exercised, not just reached */
}

/* 10,000 peers over 4,000 pieces: availability updates, picks, receipts
 * and departures stay cheap. Asserts only correctness, not time. */
static void test_scale(void **state)
{
    (void)state;
    enum { N = 4000, PEERS = 10000 };
    struct rill_rng r, ev;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(4);
    o.max_partial = N;
    mk(&p, &r, 99, N, 4 * BLK, (uint64_t)N * 4 * BLK, &o);
    rill_rng_seed(&ev, 100);
    struct tp *peers = calloc(PEERS, sizeof *peers);
    uint32_t *avail = calloc(N, sizeof *avail);
    assert_non_null(peers);
    assert_non_null(avail);
    uint32_t seeds = 0;
    for (uint32_t k = 0; k < PEERS; k++) {
        tp_init(&peers[k], k + 1, N, k % 10 == 0);
        if (peers[k].pp.all) {
            rill_picker_peer_have_all(&p);
            seeds++;
            continue;
        }
        for (int j = 0; j < 24; j++) {
            uint32_t i = (uint32_t)rill_rng_below(&ev, N);
            if (!rill_bitfield_get(&peers[k].bf, i)) {
                rill_bitfield_set(&peers[k].bf, i, true);
                rill_picker_peer_have(&p, i);
                avail[i]++;
            }
        }
    }
    struct rill_picker_block out[4];
    uint64_t picked = 0;
    for (int n = 0; n < 20000; n++) {
        struct tp *t = &peers[rill_rng_below(&ev, PEERS)];
        int got = rill_picker_pick(&p, &t->pp, out, 4);
        assert_true(got >= 0);
        for (int i = 0; i < got; i++) {
            assert_true(rill__pk_peer_has(&t->pp, out[i].piece));
            if (rill_rng_below(&ev, 2) == 0) {
                int rc =
                    rill_picker_received(&p, t->pp.id, out[i].piece, out[i].offset, NULL, 0, NULL);
                if (rc == RILL_PICKER_GOT_PIECE)
                    rill_picker_verified(&p, out[i].piece);
            } else {
                assert_int_equal(rill_picker_release(&p, t->pp.id, out[i].piece, out[i].offset), 1);
            }
        }
        picked += (uint64_t)got;
    }
    assert_true(picked > 20000);
    /* Half the peers leave. */
    for (uint32_t k = 0; k < PEERS; k += 2) {
        if (peers[k].pp.all) {
            assert_int_equal(rill_picker_peer_lost_all(&p), 0);
            seeds--;
        } else {
            assert_int_equal(rill_picker_peer_lost(&p, &peers[k].bf), 0);
            for (uint32_t i = 0; i < N; i++)
                avail[i] -= rill_bitfield_get(&peers[k].bf, i);
        }
    }
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(rill_picker_availability(&p, i), seeds + avail[i]);
    ok(&p);
    for (uint32_t k = 0; k < PEERS; k++)
        rill_bitfield_free(&peers[k].bf);
    free(peers);
    free(avail);
    rill_picker_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry),
        cmocka_unit_test(test_rarest_first),
        cmocka_unit_test(test_ties_random),
        cmocka_unit_test(test_random_first),
        cmocka_unit_test(test_partials_first),
        cmocka_unit_test(test_priorities),
        cmocka_unit_test(test_priorities_padding),
        cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_random_mode),
        cmocka_unit_test(test_endgame),
        cmocka_unit_test(test_no_endgame),
        cmocka_unit_test(test_failed_repicked),
        cmocka_unit_test(test_peer_lost),
        cmocka_unit_test(test_have_all_and_stats),
        cmocka_unit_test(test_allowed_fast),
        cmocka_unit_test(test_received_edges),
        cmocka_unit_test(test_stress),
        cmocka_unit_test(test_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
