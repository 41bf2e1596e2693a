/* The per-connection protocol state. */
#include "testutil.h"

#include "core/peer.h"

static void test_initial_state(void **state)
{
    (void)state;
    struct rill_peer_core p;
    assert_int_equal(rill_peer_init(&p), 0);
    assert_true(p.am_choking && p.peer_choking);
    assert_false(p.am_interested || p.peer_interested);
    assert_int_equal(p.their_reqq, RILL_PEER_DEFAULT_REQQ);
    rill_peer_free(&p);
}

static void test_our_requests(void **state)
{
    (void)state;
    struct rill_peer_core p;
    assert_int_equal(rill_peer_init(&p), 0);
    p.their_reqq = 4;
    assert_int_equal(rill_peer_room(&p, 10), 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(rill_peer_sent_request(&p, 1, i * 16384, 16384, 100 + i), 0);
    assert_int_equal(rill_peer_room(&p, 10), 0);
    assert_int_equal(rill_peer_sent_request(&p, 2, 0, 16384, 200), RILL_ELIMIT);

    uint64_t sent;
    assert_true(rill_peer_got_block(&p, 1, 0, 16384, 500, &sent)); /* in order */
    assert_int_equal(sent, 100);
    assert_true(rill_peer_got_block(&p, 1, 32768, 16384, 501, &sent)); /* out of order */
    assert_int_equal(sent, 102);
    assert_false(rill_peer_got_block(&p, 1, 32768, 16384, 502, NULL)); /* twice */
    assert_false(rill_peer_got_block(&p, 1, 16384, 100, 502, NULL));  /* wrong length */
    assert_int_equal(p.unrequested_blocks, 2);
    assert_int_equal(p.last_block_ms, 501);
    assert_int_equal(rill_peer_room(&p, 10), 2);

    assert_true(rill_peer_forget_request(&p, 1, 16384, 16384));
    assert_false(rill_peer_forget_request(&p, 1, 16384, 16384));

    /* Timeouts take only the old ones; 0 takes everything. */
    assert_int_equal(rill_peer_sent_request(&p, 3, 0, 16384, 10000), 0);
    struct rill_peer_req out[8];
    assert_int_equal(rill_peer_take_requests(&p, 10050, 1000, out, 8), 1);
    assert_int_equal(out[0].piece, 1);
    assert_int_equal(out[0].begin, 49152);
    assert_int_equal(rill_peer_take_requests(&p, 10050, 0, out, 8), 1);
    assert_int_equal(out[0].piece, 3);
    assert_int_equal(p.ours.count, 0);
    rill_peer_free(&p);
}

static void test_depth(void **state)
{
    (void)state;
    struct rill_peer_core p;
    assert_int_equal(rill_peer_init(&p), 0);
    assert_int_equal(rill_peer_depth(&p, 0), 8);
    assert_int_equal(rill_peer_depth(&p, 1 << 20), 8 + 32); /* 1 MiB/s: 0.5 s of blocks */
    /* A peer's reqq caps the depth when it is lower than our own cap. */
    p.their_reqq = 100;
    assert_int_equal(rill_peer_depth(&p, 400u << 20), 100);
    p.their_reqq = 5000;
    assert_int_equal(rill_peer_depth(&p, 400u << 20), RILL_PEER_MAX_DEPTH);
    rill_peer_free(&p);
}

/* A peer that answers each request only after 500 ms (Transmission serves
 * in bursts): its delay's worth of blocks is added, so the pipeline does
 * not hold the rate at 8 blocks per delay. The delay is the shortest seen
 * in the last 10-20 s: our own queue at the peer does not inflate it, and
 * a peer that got faster is believed within 20 s. */
static void test_depth_follows_delay(void **state)
{
    (void)state;
    struct rill_peer_core p;
    assert_int_equal(rill_peer_init(&p), 0);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(rill_peer_sent_request(&p, i, 0, 16384, 1000), 0);
    /* Blocks 500, 700, 900 and 1100 ms after their requests. */
    for (uint32_t i = 0; i < 4; i++)
        assert_true(rill_peer_got_block(&p, i, 0, 16384, 1500 + 200 * i, NULL));
    /* 1 MiB/s: 32 blocks for half a second, 32 more for the 500 ms delay. */
    assert_int_equal(rill_peer_depth(&p, 1 << 20), 8 + 32 + 32);
    assert_int_equal(rill_peer_depth(&p, 0), 8);
    /* 25 s later the peer answers in 10 ms: the 500 ms is forgotten. */
    assert_int_equal(rill_peer_sent_request(&p, 9, 0, 16384, 26000), 0);
    assert_true(rill_peer_got_block(&p, 9, 0, 16384, 26010, NULL));
    assert_int_equal(rill_peer_sent_request(&p, 10, 0, 16384, 37000), 0);
    assert_true(rill_peer_got_block(&p, 10, 0, 16384, 37010, NULL));
    assert_int_equal(rill_peer_depth(&p, 1 << 20), 8 + 32 + 0);
    rill_peer_free(&p);
}

static void test_their_requests(void **state)
{
    (void)state;
    struct rill_peer_core p;
    assert_int_equal(rill_peer_init(&p), 0);
    const char *why = NULL;
    /* Choked: rejected unless allowed fast. */
    assert_int_equal(rill_peer_got_request(&p, 0, 0, 16384, false, 1, &why), RILL_PEER_REJECT);
    assert_non_null(why);
    assert_int_equal(rill_peer_got_request(&p, 0, 0, 16384, true, 1, &why), RILL_PEER_ACCEPT);
    p.am_choking = false;
    assert_int_equal(rill_peer_got_request(&p, 0, 0, 16384, false, 1, &why), RILL_PEER_REJECT);
    for (uint32_t i = 1; i < RILL_PEER_MAX_THEIR_QUEUE; i++)
        assert_int_equal(rill_peer_got_request(&p, 1, i * 16384, 16384, false, 2, &why),
                         RILL_PEER_ACCEPT);
    assert_int_equal(rill_peer_got_request(&p, 9, 0, 16384, false, 3, &why), RILL_PEER_VIOLATION);
    assert_true(rill_peer_got_cancel(&p, 1, 16384, 16384));
    assert_false(rill_peer_got_cancel(&p, 1, 16384, 16384));
    struct rill_peer_req r;
    assert_true(rill_peer_next_to_serve(&p, &r));
    assert_int_equal(r.piece, 0);
    assert_true(rill_peer_next_to_serve(&p, &r));
    assert_int_equal(r.begin, 2 * 16384);
    struct rill_peer_req out[4];
    assert_int_equal(rill_peer_choked_them(&p, out, 4), RILL_PEER_MAX_THEIR_QUEUE - 3);
    assert_int_equal(out[0].begin, 3 * 16384);
    assert_false(rill_peer_next_to_serve(&p, &r));
    rill_peer_free(&p);
}

/* The request ring wrapped around its end: duplicates and cancels are
 * still found on both sides of the wrap. */
static void test_their_requests_wrapped(void **state)
{
    (void)state;
    struct rill_peer_core p;
    assert_int_equal(rill_peer_init(&p), 0);
    p.am_choking = false;
    const char *why = NULL;
    const uint32_t cap = RILL_PEER_MAX_THEIR_QUEUE;
    struct rill_peer_req r;
    /* Move the head near the end of the array, then fill across the wrap. */
    for (uint32_t i = 0; i < cap - 10; i++) {
        assert_int_equal(rill_peer_got_request(&p, 2, i * 16384, 16384, false, 1, &why),
                         RILL_PEER_ACCEPT);
        assert_true(rill_peer_next_to_serve(&p, &r));
    }
    for (uint32_t i = 0; i < 40; i++)
        assert_int_equal(rill_peer_got_request(&p, 3, i * 16384, 16384, false, 2, &why),
                         RILL_PEER_ACCEPT);
    /* Before the wrap (entries 0-9) and after it (10-39). */
    assert_int_equal(rill_peer_got_request(&p, 3, 5 * 16384, 16384, false, 3, &why),
                     RILL_PEER_REJECT);
    assert_int_equal(rill_peer_got_request(&p, 3, 30 * 16384, 16384, false, 3, &why),
                     RILL_PEER_REJECT);
    assert_true(rill_peer_got_cancel(&p, 3, 9 * 16384, 16384));
    assert_true(rill_peer_got_cancel(&p, 3, 10 * 16384, 16384));
    assert_true(rill_peer_got_cancel(&p, 3, 39 * 16384, 16384));
    assert_false(rill_peer_got_cancel(&p, 3, 40 * 16384, 16384));
    assert_int_equal(rill_peer_got_request(&p, 3, 10 * 16384, 16384, false, 4, &why),
                     RILL_PEER_ACCEPT);
    /* What is left, in order: 0-38 without 9 and 10, then 10 again. */
    for (uint32_t i = 0; i < 39; i++) {
        if (i == 9 || i == 10)
            continue;
        assert_true(rill_peer_next_to_serve(&p, &r));
        assert_int_equal(r.begin, i * 16384);
    }
    assert_true(rill_peer_next_to_serve(&p, &r));
    assert_int_equal(r.begin, 10 * 16384);
    assert_false(rill_peer_next_to_serve(&p, &r));
    rill_peer_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_state),
        cmocka_unit_test(test_our_requests),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_depth_follows_delay),
        cmocka_unit_test(test_their_requests),
        cmocka_unit_test(test_their_requests_wrapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
