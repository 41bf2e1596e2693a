/* The piece picker after the picks: endgame (and with it off), hash
 * failures, peer loss, have-all with the statistics, allowed-fast picks and
 * the edges of block receipt. All seeded and deterministic. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "picker_fixture.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endgame),
        cmocka_unit_test(test_no_endgame),
        cmocka_unit_test(test_failed_repicked),
        cmocka_unit_test(test_peer_lost),
        cmocka_unit_test(test_have_all_and_stats),
        cmocka_unit_test(test_allowed_fast),
        cmocka_unit_test(test_received_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
