/* The piece picker's selection policies: geometry, rarest first with random
 * ties, random first, partial pieces first, priorities and skip (with shared
 * boundary and padding pieces), sequential and random modes. Endgame and the
 * other events are in test_picker_events.c, the randomized stress test and
 * the scale run in test_picker_stress.c. All seeded and deterministic. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "picker_fixture.h"

/* A bitfield peer announcing the pieces in `list` (ending with NONE). */
static void tp_have(struct rill_picker *p, struct tp *t, const uint32_t *list)
{
    for (; *list != RILL_PICKER_NONE; list++) {
        rill_bitfield_set(&t->bf, *list, true);
        assert_int_equal(rill_picker_peer_have(p, *list), 0);
    }
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry),           cmocka_unit_test(test_rarest_first),
        cmocka_unit_test(test_ties_random),        cmocka_unit_test(test_random_first),
        cmocka_unit_test(test_partials_first),     cmocka_unit_test(test_priorities),
        cmocka_unit_test(test_priorities_padding), cmocka_unit_test(test_sequential),
        cmocka_unit_test(test_random_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
