/* BEP 11 ut_pex: the codec byte for byte, flags, caps and malformed lists;
 * the sender's diff over time (the 60 s rule, added then dropped, the 50
 * per message limit); the accept side's per-message and per-minute caps. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/ut_pex.h"

static struct rill_pex_peer v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port,
                               uint8_t flags)
{
    struct rill_pex_peer p;
    memset(&p, 0, sizeof p);
    p.addr[0] = a, p.addr[1] = b, p.addr[2] = c, p.addr[3] = d;
    p.addr_len = 4;
    p.port = port;
    p.flags = flags;
    return p;
}

static struct rill_pex_peer v6(uint8_t last, uint16_t port, uint8_t flags)
{
    struct rill_pex_peer p;
    memset(&p, 0, sizeof p);
    p.addr[0] = 0x20, p.addr[1] = 0x01, p.addr[15] = last;
    p.addr_len = 16;
    p.port = port;
    p.flags = flags;
    return p;
}

static int parse(const void *s, size_t n, struct rill_pex_msg *m)
{
    return rill_pex_parse(s, n, m, NULL);
}

/* Written by hand from BEP 11: compact 4+2 and 16+2 byte peers. */
static const char WIRE[] = "d5:added12:\x0a\x00\x00\x01\x1a\xe1\xc0\xa8\x01\x02\x00\x50"
                           "7:added.f2:\x12\x01"
                           "6:added618:\x20\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\x07\x04\xd2"
                           "8:added6.f1:\x04"
                           "7:dropped6:\x01\x02\x03\x04\x00\x01"
                           "e";

static void test_parse_build_exact(void **state)
{
    (void)state;
    struct rill_pex_msg *m = malloc(sizeof *m);
    assert_int_equal(parse(WIRE, sizeof WIRE - 1, m), 0);
    assert_int_equal(m->n_added, 3);
    assert_int_equal(m->n_dropped, 1);
    assert_false(m->truncated);
    struct rill_pex_peer want[3] = {v4(10, 0, 0, 1, 6881, 0x12), v4(192, 168, 1, 2, 80, 0x01),
                                    v6(7, 1234, RILL_PEX_F_UTP)};
    for (int i = 0; i < 3; i++)
        assert_int_equal(rill_pex_peer_cmp(&m->added[i], &want[i]), 0);
    assert_int_equal(m->added[0].flags, RILL_PEX_F_SEED | RILL_PEX_F_REACHABLE);
    assert_int_equal(m->added[2].flags, RILL_PEX_F_UTP);
    struct rill_pex_peer d = v4(1, 2, 3, 4, 1, 0);
    assert_int_equal(rill_pex_peer_cmp(&m->dropped[0], &d), 0);

    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_pex_build(&b, m), 0);
    assert_int_equal(b.len, sizeof WIRE - 1);
    assert_memory_equal(b.data, WIRE, b.len);
    b.len = 0;
    m->n_added = m->n_dropped = 0;
    assert_int_equal(rill_pex_build(&b, m), 0);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "de", 2);
    rill_buf_free(&b);
    free(m);
}

static void test_parse_rules(void **state)
{
    (void)state;
    struct rill_pex_msg *m = malloc(sizeof *m);
    /* Short flags leave the rest 0; port 0 is skipped (with its flag). */
    static const char a[] = "d5:added18:\x01\x01\x01\x01\x00\x00\x02\x02\x02\x02\x00\x02"
                            "\x03\x03\x03\x03\x00\x03"
                            "7:added.f2:\x01\x02"
                            "8:dropped60:e";
    assert_int_equal(parse(a, sizeof a - 1, m), 0);
    assert_int_equal(m->n_added, 2);
    assert_int_equal(m->added[0].port, 2);
    assert_int_equal(m->added[0].flags, 0x02);
    assert_int_equal(m->added[1].port, 3);
    assert_int_equal(m->added[1].flags, 0);
    assert_int_equal(m->n_dropped, 0);
    /* Unsorted keys and unknown keys are fine. */
    assert_int_equal(parse("d7:dropped0:1:xi1e5:added0:e", 28, m), 0);

    static const char *bad[] = {
        "d5:added5:12345e",
        "d5:added7:1234567e",
        "d6:added66:123456e",
        "d8:dropped66:123456e",
        "d7:dropped5:12345e",
        "d5:addedi1ee",
        "d7:added.fi1ee",
        "le",
        "i1e",
        "d5:added6:123456",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rill_error err;
        m->n_added = 7;
        int rc = parse(bad[i], strlen(bad[i]), m);
        if (rc >= 0)
            fail_msg("parsed: %s", bad[i]);
        assert_int_equal(m->n_added, 0);
        assert_int_equal(rill_pex_parse((const uint8_t *)bad[i], strlen(bad[i]), m, &err), rc);
        assert_int_equal(err.code, rc);
    }
    assert_int_equal(parse("d5:added5:12345e", 16, m), RILL_ESYNTAX);
    free(m);
}

/* Every strict prefix of a valid message is refused. */
static void test_prefixes(void **state)
{
    (void)state;
    struct rill_pex_msg *m = malloc(sizeof *m);
    for (size_t n = 0; n < sizeof WIRE - 1; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, WIRE, n);
        if (rill_pex_parse(copy, n, m, NULL) >= 0)
            fail_msg("prefix %zu parsed", n);
        free(copy);
    }
    free(m);
}

/* 250 IPv4 and 250 IPv6 added: 200 of each kept, truncated set. */
static void test_caps(void **state)
{
    (void)state;
    struct rill_pex_msg *m = calloc(1, sizeof *m);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    uint8_t *l4 = calloc(250, 6), *l6 = calloc(250, 18);
    for (int i = 0; i < 250; i++) {
        l4[i * 6] = 10, l4[i * 6 + 3] = (uint8_t)i, l4[i * 6 + 5] = 1;
        l6[i * 18] = 0x20, l6[i * 18 + 15] = (uint8_t)i, l6[i * 18 + 17] = 2;
    }
    rill_buf_appendf(&b, "d5:added1500:");
    rill_buf_append(&b, l4, 1500);
    rill_buf_appendf(&b, "6:added64500:");
    rill_buf_append(&b, l6, 4500);
    rill_buf_appendf(&b, "e");
    assert_int_equal(parse(b.data, b.len, m), 0);
    assert_int_equal(m->n_added, 2 * RILL_PEX_PARSE_MAX);
    assert_true(m->truncated);
    assert_int_equal(m->added[199].addr_len, 4);
    assert_int_equal(m->added[199].addr[3], 199);
    assert_int_equal(m->added[200].addr_len, 16);
    /* The builder keeps BEP 11's 50 per message. */
    b.len = 0;
    assert_int_equal(rill_pex_build(&b, m), RILL_ELIMIT);
    m->n_added = RILL_PEX_SEND_MAX;
    assert_int_equal(rill_pex_build(&b, m), 0);
    m->added[3].port = 0;
    assert_int_equal(rill_pex_build(&b, m), RILL_EINVAL);
    m->added[3].port = 1;
    m->added[3].addr_len = 5;
    assert_int_equal(rill_pex_build(&b, m), RILL_EINVAL);
    rill_buf_free(&b);
    free(l4);
    free(l6);
    free(m);
}

static bool has(const struct rill_pex_peer *v, size_t n, struct rill_pex_peer p)
{
    for (size_t i = 0; i < n; i++)
        if (rill_pex_peer_cmp(&v[i], &p) == 0)
            return true;
    return false;
}

static void test_sender_over_time(void **state)
{
    (void)state;
    struct rill_pex_sender *s = malloc(sizeof *s);
    struct rill_pex_msg *m = malloc(sizeof *m);
    rill_pex_sender_init(s);
    struct rill_pex_peer cur[3] = {v4(1, 1, 1, 1, 100, RILL_PEX_F_SEED), v4(2, 2, 2, 2, 200, 0),
                                   v6(3, 300, 0)};
    /* Nothing to say yet. */
    assert_int_equal(rill_pex_sender_diff(s, cur, 0, 0, m), RILL_PEX_NOTHING);
    /* The first message goes at once. */
    assert_int_equal(rill_pex_sender_diff(s, cur, 2, 1000, m), RILL_PEX_SEND);
    assert_int_equal(m->n_added, 2);
    assert_int_equal(m->n_dropped, 0);
    assert_int_equal(m->added[0].flags, RILL_PEX_F_SEED);
    /* The next waits a minute, whatever changed. */
    assert_int_equal(rill_pex_sender_diff(s, cur, 3, 60999, m), RILL_PEX_NOT_YET);
    assert_int_equal(rill_pex_sender_diff(s, cur, 3, 61000, m), RILL_PEX_SEND);
    assert_int_equal(m->n_added, 1);
    assert_int_equal(rill_pex_peer_cmp(&m->added[0], &cur[2]), 0);
    /* No change: nothing, and the clock does not restart. */
    assert_int_equal(rill_pex_sender_diff(s, cur, 3, 130000, m), RILL_PEX_NOTHING);
    /* Peer 1 leaves: it is dropped; a flag change alone is not news. */
    cur[1].flags = RILL_PEX_F_ENCRYPT;
    assert_int_equal(rill_pex_sender_diff(s, cur + 1, 2, 130001, m), RILL_PEX_SEND);
    assert_int_equal(m->n_added, 0);
    assert_int_equal(m->n_dropped, 1);
    assert_int_equal(rill_pex_peer_cmp(&m->dropped[0], &cur[0]), 0);
    /* It comes back: added again. */
    assert_int_equal(rill_pex_sender_diff(s, cur, 3, 190001, m), RILL_PEX_SEND);
    assert_int_equal(m->n_added, 1);
    assert_int_equal(rill_pex_peer_cmp(&m->added[0], &cur[0]), 0);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_pex_build(&b, m), 0);
    rill_buf_free(&b);
    free(s);
    free(m);
}

/* 130 new peers go out 50 a message; 120 leaving go 50 a message too; the
 * advertised set never passes RILL_PEX_STATE_MAX. */
static void test_sender_limits(void **state)
{
    (void)state;
    struct rill_pex_sender *s = malloc(sizeof *s);
    struct rill_pex_msg *m = malloc(sizeof *m);
    struct rill_pex_peer *cur = calloc(300, sizeof *cur);
    rill_pex_sender_init(s);
    for (int i = 0; i < 300; i++)
        cur[i] = v4(10, 0, (uint8_t)(i >> 8), (uint8_t)i, 6881, 0);
    uint64_t t = 0;
    size_t seen = 0;
    for (int round = 0; round < 3; round++, t += RILL_PEX_INTERVAL_MS) {
        assert_int_equal(rill_pex_sender_diff(s, cur, 130, t, m), RILL_PEX_SEND);
        assert_int_equal(m->n_added, round < 2 ? 50 : 30);
        for (size_t i = 0; i < m->n_added; i++)
            assert_true(has(cur + seen, 50, m->added[i]));
        seen += m->n_added;
    }
    assert_int_equal(rill_pex_sender_diff(s, cur, 130, t, m), RILL_PEX_NOTHING);
    assert_int_equal(rill_pex_sender_diff(s, cur, 300, t, m), RILL_PEX_SEND);
    assert_int_equal(s->n_adv, 180);
    t += RILL_PEX_INTERVAL_MS;
    assert_int_equal(rill_pex_sender_diff(s, cur, 300, t, m), RILL_PEX_SEND);
    assert_int_equal(m->n_added, 20); /* the set is full at 200 */
    assert_int_equal(s->n_adv, RILL_PEX_STATE_MAX);
    t += RILL_PEX_INTERVAL_MS;
    /* Only 10 new ones remain: all 200 advertised leave, 50 a message. */
    assert_int_equal(rill_pex_sender_diff(s, cur + 290, 10, t, m), RILL_PEX_SEND);
    assert_int_equal(m->n_dropped, 50);
    for (size_t i = 0; i < m->n_dropped; i++)
        assert_false(has(cur + 290, 10, m->dropped[i]));
    assert_int_equal(m->n_added, 10);
    assert_int_equal(s->n_adv, 160);
    free(cur);
    free(s);
    free(m);
}

static void test_accept_limits(void **state)
{
    (void)state;
    struct rill_pex_msg *m = calloc(1, sizeof *m);
    struct rill_pex_peer out[100];
    struct rill_pex_accept a;
    rill_pex_accept_init(&a, 0, 0);
    for (int i = 0; i < 80; i++)
        m->added[i] = v4(10, 1, 0, (uint8_t)i, 1, 0);
    m->added[1] = m->added[0]; /* a duplicate is taken once */
    m->n_added = 80;
    size_t n = rill_pex_accept_take(&a, m, 1000, out, 100);
    assert_int_equal(n, RILL_PEX_ACCEPT_PER_MSG);
    assert_int_equal(out[1].addr[3], 2);
    /* The minute's quota is spent. */
    assert_int_equal(rill_pex_accept_take(&a, m, 2000, out, 100), 0);
    assert_int_equal(rill_pex_accept_take(&a, m, 60999, out, 100), 0);
    /* A new window. */
    assert_int_equal(rill_pex_accept_take(&a, m, 61000, out, 100), 50);
    /* Custom limits: 10 a message, 25 a minute, and the caller's room. */
    rill_pex_accept_init(&a, 10, 25);
    assert_int_equal(rill_pex_accept_take(&a, m, 0, out, 100), 10);
    assert_int_equal(rill_pex_accept_take(&a, m, 1, out, 3), 3);
    assert_int_equal(rill_pex_accept_take(&a, m, 2, out, 100), 10);
    assert_int_equal(rill_pex_accept_take(&a, m, 3, out, 100), 2);
    assert_int_equal(rill_pex_accept_take(&a, m, 4, out, 100), 0);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_build_exact), cmocka_unit_test(test_parse_rules),
        cmocka_unit_test(test_prefixes),          cmocka_unit_test(test_caps),
        cmocka_unit_test(test_sender_over_time),  cmocka_unit_test(test_sender_limits),
        cmocka_unit_test(test_accept_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
