/* BEP 9 ut_metadata: the codec against BEP 9's own examples, every
 * truncated prefix, limits and round trips; the fetcher from one peer,
 * several, with a liar among them or alone, and the events that free
 * pieces (reject, timeout, peer gone, late duplicates). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/ut_metadata.h"
#include "core/wire.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static void build_eq(int rc, struct rill_buf *b, const uint8_t *want, size_t n)
{
    assert_int_equal(rc, 0);
    assert_int_equal(b->len, n);
    assert_memory_equal(b->data, want, n);
    b->len = 0;
}

/* ------------------------------------------------------------------- codec */

/* The three messages as BEP 9 writes them. */
static void test_bep9_examples(void **state)
{
    (void)state;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    build_eq(rill_utmeta_build_request(&b, 0), &b, S("d8:msg_typei0e5:piecei0ee"));
    build_eq(rill_utmeta_build_reject(&b, 0), &b, S("d8:msg_typei2e5:piecei0ee"));
    /* BEP 9: {'msg_type': 1, 'piece': 0, 'total_size': 3425} then the data. */
    uint8_t piece[3425];
    tu_fill(piece, sizeof piece, 9);
    assert_int_equal(rill_utmeta_build_data(&b, 0, 3425, piece, sizeof piece), 0);
    const char *head = "d8:msg_typei1e5:piecei0e10:total_sizei3425ee";
    assert_int_equal(b.len, strlen(head) + sizeof piece);
    assert_memory_equal(b.data, head, strlen(head));
    assert_memory_equal(b.data + strlen(head), piece, sizeof piece);

    struct rill_utmeta_msg m;
    assert_int_equal(rill_utmeta_parse(b.data, b.len, &m, NULL), 0);
    assert_int_equal(m.type, RILL_UTMETA_DATA);
    assert_int_equal(m.piece, 0);
    assert_int_equal(m.total_size, 3425);
    assert_int_equal(m.data_len, sizeof piece);
    assert_ptr_equal(m.data, b.data + strlen(head));
    assert_int_equal(rill_utmeta_parse(S("d8:msg_typei0e5:piecei7ee"), &m, NULL), 0);
    assert_int_equal(m.type, RILL_UTMETA_REQUEST);
    assert_int_equal(m.piece, 7);
    assert_int_equal(rill_utmeta_parse(S("d8:msg_typei2e5:piecei1ee"), &m, NULL), 0);
    assert_int_equal(m.type, RILL_UTMETA_REJECT);
    assert_int_equal(m.piece, 1);
    rill_buf_free(&b);
}

struct bad {
    const char *in;
    int rc;
};

static void test_parse_rules(void **state)
{
    (void)state;
    struct rill_utmeta_msg m;
    /* Unsorted keys (some clients) and extra keys are fine. */
    assert_int_equal(rill_utmeta_parse(S("d5:piecei3e8:msg_typei0ee"), &m, NULL), 0);
    assert_int_equal(m.piece, 3);
    assert_int_equal(rill_utmeta_parse(S("d1:v5:eeeee8:msg_typei2e5:piecei1ee"), &m, NULL), 0);
    assert_int_equal(m.type, RILL_UTMETA_REJECT);
    /* An unknown type is not an error: the caller ignores it. */
    assert_int_equal(rill_utmeta_parse(S("d8:msg_typei9e5:piecei0ee"), &m, NULL), 0);
    assert_int_equal(m.type, RILL_UTMETA_UNKNOWN);
    assert_int_equal(m.raw_type, 9);
    assert_int_equal(rill_utmeta_parse(S("d8:msg_typei0e5:piecei2147483647ee"), &m, NULL), 0);
    assert_int_equal(m.piece, 0x7FFFFFFF);

    static const struct bad bads[] = {
        {"d8:msg_typei0e5:piecei2147483648ee", RILL_ERANGE},
        {"d8:msg_typei0e5:piecei-1ee", RILL_ERANGE},
        {"d8:msg_typei0ee", RILL_ESYNTAX},
        {"d8:msg_type1:05:piecei0ee", RILL_ESYNTAX},
        {"d5:piecei0ee", RILL_ESYNTAX},
        {"d8:msg_typei0e5:piecei0eex", RILL_ETRAILING},
        {"d8:msg_typei1e5:piecei0e10:total_sizei0eex", RILL_ESYNTAX},
        {"d8:msg_typei1e5:piecei0eex", RILL_ESYNTAX},
        {"d8:msg_typei1e5:piecei1e10:total_sizei5eexxxxx", RILL_ERANGE},
        {"d8:msg_typei1e5:piecei0e10:total_sizei5eexxxxxx", RILL_ETRAILING},
        {"d8:msg_typei1e5:piecei0e10:total_sizei5eexxxx", RILL_ETRUNCATED},
        {"d8:msg_typei1e5:piecei0e10:total_sizei5ee", RILL_ETRUNCATED},
        {"l8:msg_typee", RILL_ESYNTAX},
        {"d8:msg_typei0e5:piecei00ee", RILL_EINTEGER},
        {"d1:xlllllllllllllllllleeeeeeeeeeeeeeeeeee", RILL_ELIMIT},
        {"d1:x99999999999:", RILL_ELIMIT},
        {"", RILL_ETRUNCATED},
    };
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        struct rill_error err;
        memset(&m, 0x55, sizeof m);
        int rc = rill_utmeta_parse((const uint8_t *)bads[i].in, strlen(bads[i].in), &m, &err);
        if (rc != bads[i].rc)
            fail_msg("%s: got %d want %d", bads[i].in, rc, bads[i].rc);
        assert_int_equal(err.code, rc);
        assert_int_equal(m.type, 0);
        assert_null(m.data);
    }
}

/* A data message of 17 KiB total: piece 1 is the 1 KiB tail. A 16 KiB data
 * payload is the most a message carries. */
static void test_piece_sizes(void **state)
{
    (void)state;
    static uint8_t big[RILL_UTMETA_PIECE + 1];
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_utmeta_build_data(&b, 1, 17 << 10, big, 1 << 10), 0);
    struct rill_utmeta_msg m;
    assert_int_equal(rill_utmeta_parse(b.data, b.len, &m, NULL), 0);
    assert_int_equal(m.data_len, 1 << 10);
    b.len = 0;
    assert_int_equal(rill_utmeta_build_data(&b, 0, 17 << 10, big, sizeof big), RILL_EINVAL);
    assert_int_equal(rill_utmeta_build_data(&b, 0, 17 << 10, big, RILL_UTMETA_PIECE - 1),
                     RILL_EINVAL);
    assert_int_equal(rill_utmeta_build_data(&b, 2, 17 << 10, big, 1), RILL_EINVAL);
    assert_int_equal(rill_utmeta_build_data(&b, 0, 0, big, 1), RILL_EINVAL);
    assert_int_equal(rill_utmeta_build_request(&b, 0x80000000u), RILL_EINVAL);
    assert_int_equal(b.len, 0);
    /* A hand-made message with 16 KiB + 1 of data is refused. */
    const char *head = "d8:msg_typei1e5:piecei0e10:total_sizei99999ee";
    rill_buf_append(&b, head, strlen(head));
    rill_buf_append(&b, big, sizeof big);
    assert_int_equal(rill_utmeta_parse(b.data, b.len, &m, NULL), RILL_ETRAILING);
    rill_buf_free(&b);
}

static void test_every_prefix_rejected(void **state)
{
    (void)state;
    uint8_t tail[1488];
    tu_fill(tail, sizeof tail, 3);
    struct rill_buf b[3];
    for (int i = 0; i < 3; i++)
        rill_buf_init(&b[i], 0);
    assert_int_equal(rill_utmeta_build_request(&b[0], 123456), 0);
    assert_int_equal(rill_utmeta_build_reject(&b[1], 2), 0);
    assert_int_equal(rill_utmeta_build_data(&b[2], 2, 34256, tail, sizeof tail), 0);
    for (int i = 0; i < 3; i++) {
        struct rill_utmeta_msg m;
        assert_int_equal(rill_utmeta_parse(b[i].data, b[i].len, &m, NULL), 0);
        for (size_t n = 0; n < b[i].len; n++) {
            uint8_t *copy = malloc(n ? n : 1);
            memcpy(copy, b[i].data, n);
            int rc = rill_utmeta_parse(copy, n, &m, NULL);
            if (rc >= 0)
                fail_msg("message %d prefix %zu parsed", i, n);
            free(copy);
        }
        rill_buf_free(&b[i]);
    }
}

static void test_serve_round_trip(void **state)
{
    (void)state;
    static uint8_t info[40000];
    tu_fill(info, sizeof info, 5);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    size_t want[3] = {16384, 16384, 40000 - 32768};
    for (uint32_t p = 0; p < 3; p++) {
        b.len = 0;
        assert_int_equal(rill_utmeta_serve(&b, info, sizeof info, p), 0);
        struct rill_utmeta_msg m;
        assert_int_equal(rill_utmeta_parse(b.data, b.len, &m, NULL), 0);
        assert_int_equal(m.type, RILL_UTMETA_DATA);
        assert_int_equal(m.piece, p);
        assert_int_equal(m.total_size, sizeof info);
        assert_int_equal(m.data_len, want[p]);
        assert_memory_equal(m.data, info + p * 16384, want[p]);
        /* Rebuilding the parsed message gives the same bytes. */
        struct rill_buf again;
        rill_buf_init(&again, 0);
        assert_int_equal(rill_utmeta_build_data(&again, m.piece, m.total_size, m.data, m.data_len),
                         0);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.data, b.data, b.len);
        rill_buf_free(&again);
    }
    b.len = 0;
    assert_int_equal(rill_utmeta_serve(&b, info, sizeof info, 3), RILL_EINVAL);
    assert_int_equal(rill_utmeta_serve(&b, info, 0, 0), RILL_EINVAL);
    assert_int_equal(rill_utmeta_serve(&b, info, 16384, 1), RILL_EINVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(rill_utmeta_piece_count(16384), 1);
    assert_int_equal(rill_utmeta_piece_count(16385), 2);
    rill_buf_free(&b);
}

/* ----------------------------------------------------------------- fetcher */

/* A real info dict of about 40 KB (3 metadata pieces): 2000 pieces. */
struct meta {
    uint8_t *info;
    size_t len;
    uint8_t hash[RILL_SHA1_LEN];
};

static void make_meta(struct meta *mt, uint32_t npieces)
{
    uint8_t *hashes = malloc((size_t)npieces * 20);
    tu_fill(hashes, (size_t)npieces * 20, npieces);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    struct rill_benc e;
    rill_benc_init(&e, &b);
    rill_benc_dict(&e);
    rill_benc_key(&e, "length");
    rill_benc_int(&e, (int64_t)npieces * 16384);
    rill_benc_key(&e, "name");
    rill_benc_cstr(&e, "meta.bin");
    rill_benc_key(&e, "piece length");
    rill_benc_int(&e, 16384);
    rill_benc_key(&e, "pieces");
    rill_benc_str(&e, hashes, (size_t)npieces * 20);
    rill_benc_end(&e);
    assert_int_equal(rill_benc_finish(&e), 0);
    free(hashes);
    mt->info = rill_buf_take(&b, &mt->len);
    rill_sha1(mt->info, mt->len, mt->hash);
}

static size_t plen(const struct meta *mt, uint32_t p)
{
    size_t at = (size_t)p * RILL_UTMETA_PIECE;
    return mt->len - at < RILL_UTMETA_PIECE ? mt->len - at : RILL_UTMETA_PIECE;
}

/* Peer `peer` answers piece p honestly, or with one byte flipped. */
static int answer(struct rill_utmeta_fetch *f, const struct meta *mt, uint32_t peer, uint32_t p,
                  bool lie, uint64_t now)
{
    uint8_t piece[RILL_UTMETA_PIECE];
    memcpy(piece, mt->info + (size_t)p * RILL_UTMETA_PIECE, plen(mt, p));
    if (lie)
        piece[plen(mt, p) / 2] ^= 0x20;
    return rill_utmeta_fetch_data(f, peer, p, piece, plen(mt, p), now);
}

static uint32_t next(struct rill_utmeta_fetch *f, uint32_t peer, uint64_t now)
{
    uint32_t p = 0;
    if (!rill_utmeta_fetch_next(f, peer, now, &p))
        fail_msg("no piece for peer %u", peer);
    return p;
}

static void check_result(const struct rill_utmeta_fetch *f, const struct meta *mt)
{
    size_t len;
    const uint8_t *r = rill_utmeta_fetch_result(f, &len);
    assert_non_null(r);
    assert_int_equal(len, mt->len);
    assert_memory_equal(r, mt->info, len);
    struct rill_metainfo mi;
    assert_int_equal(rill_metainfo_parse_info(&mi, r, len, NULL), 0);
    assert_memory_equal(mi.info_hash, mt->hash, RILL_SHA1_LEN);
    assert_string_equal(mi.name, "meta.bin");
    rill_metainfo_free(&mi);
}

static void test_init_limits(void **state)
{
    (void)state;
    struct rill_utmeta_fetch f;
    uint8_t h[20] = {1};
    assert_int_equal(rill_utmeta_fetch_init(&f, h, 0, 0), RILL_ELIMIT);
    assert_int_equal(rill_utmeta_fetch_init(&f, h, RILL_WIRE_EXT_METADATA_MAX + 1ull, 0),
                     RILL_ELIMIT);
    assert_int_equal(rill_utmeta_fetch_init(&f, h, 1001, 1000), RILL_ELIMIT);
    assert_null(f.buf);
    rill_utmeta_fetch_free(&f); /* safe on a failed init */
    assert_int_equal(rill_utmeta_fetch_init(&f, h, 1000, 1000), 0);
    assert_int_equal(f.pieces, 1);
    size_t len = 1;
    assert_null(rill_utmeta_fetch_result(&f, &len));
    assert_int_equal(len, 0);
    rill_utmeta_fetch_free(&f);
    rill_utmeta_fetch_free(&f);
}

static void test_one_honest_peer(void **state)
{
    (void)state;
    struct meta mt;
    make_meta(&mt, 2000);
    struct rill_utmeta_fetch f;
    assert_int_equal(rill_utmeta_fetch_init(&f, mt.hash, mt.len, 0), 0);
    assert_int_equal(f.pieces, 3);
    uint32_t a = next(&f, 7, 0), b = next(&f, 7, 0), p;
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    /* At most RILL_UTMETA_PEER_INFLIGHT requests per peer. */
    assert_false(rill_utmeta_fetch_next(&f, 7, 0, &p));
    assert_int_equal(answer(&f, &mt, 7, 1, false, 10), RILL_UTMETA_STORED);
    assert_int_equal(next(&f, 7, 10), 2);
    assert_int_equal(answer(&f, &mt, 7, 2, false, 20), RILL_UTMETA_STORED);
    assert_null(rill_utmeta_fetch_result(&f, &(size_t){0}));
    assert_int_equal(answer(&f, &mt, 7, 0, false, 30), RILL_UTMETA_DONE);
    check_result(&f, &mt);
    assert_false(rill_utmeta_fetch_next(&f, 7, 40, &p));
    assert_int_equal(answer(&f, &mt, 7, 0, false, 50), RILL_UTMETA_IGNORED);
    assert_false(rill_utmeta_fetch_pop_liar(&f, &p));
    rill_utmeta_fetch_free(&f);
    free(mt.info);
}

static void test_several_peers(void **state)
{
    (void)state;
    struct meta mt;
    make_meta(&mt, 4000); /* 80 KB: 5 pieces */
    struct rill_utmeta_fetch f;
    assert_int_equal(rill_utmeta_fetch_init(&f, mt.hash, mt.len, 0), 0);
    assert_int_equal(f.pieces, 5);
    uint32_t got[5], who[5] = {1, 2, 3, 1, 2}, p;
    for (int i = 0; i < 5; i++)
        got[i] = next(&f, who[i], 0);
    /* Never a piece in flight with two peers while others are free. */
    for (int i = 0; i < 5; i++)
        for (int k = i + 1; k < 5; k++)
            assert_int_not_equal(got[i], got[k]);
    assert_false(rill_utmeta_fetch_next(&f, 3, 100, &p));
    assert_false(rill_utmeta_fetch_next(&f, 4, 100, &p));
    int rc = 0;
    for (int i = 4; i >= 0; i--)
        rc = answer(&f, &mt, who[i], got[i], false, 200);
    assert_int_equal(rc, RILL_UTMETA_DONE);
    check_result(&f, &mt);
    rill_utmeta_fetch_free(&f);
    free(mt.info);
}

/* Peers 1 and 2 are honest, 9 flips a byte of whatever it sends. */
static void test_liar_among_several(void **state)
{
    (void)state;
    struct meta mt;
    make_meta(&mt, 2000);
    struct rill_utmeta_fetch f;
    assert_int_equal(rill_utmeta_fetch_init(&f, mt.hash, mt.len, 0), 0);
    uint32_t p0 = next(&f, 1, 0), p1 = next(&f, 2, 0), p2 = next(&f, 9, 0), p;
    assert_int_equal(answer(&f, &mt, 1, p0, false, 1), RILL_UTMETA_STORED);
    assert_int_equal(answer(&f, &mt, 9, p2, true, 1), RILL_UTMETA_STORED);
    assert_int_equal(answer(&f, &mt, 2, p1, false, 1), RILL_UTMETA_FAILED);
    /* Nobody can be blamed yet: three senders. */
    assert_false(rill_utmeta_fetch_pop_liar(&f, &p));
    /* The refetch gives each piece to someone who did not send it before. */
    uint32_t r[3][2];
    uint32_t order[3] = {1, 2, 1};
    for (int i = 0; i < 3; i++) {
        r[i][0] = order[i];
        r[i][1] = next(&f, order[i], 2);
    }
    assert_int_not_equal(r[0][1], p0);
    assert_int_not_equal(r[1][1], p1);
    assert_int_not_equal(r[2][1], p0);
    assert_false(rill_utmeta_fetch_next(&f, 9, 2, &p)); /* all in flight */
    int rc = 0;
    for (int i = 0; i < 3; i++)
        rc = answer(&f, &mt, r[i][0], r[i][1], false, 3);
    assert_int_equal(rc, RILL_UTMETA_DONE);
    check_result(&f, &mt);
    assert_true(rill_utmeta_fetch_pop_liar(&f, &p));
    assert_int_equal(p, 9);
    assert_false(rill_utmeta_fetch_pop_liar(&f, &p));
    assert_true(rill_utmeta_fetch_banned(&f, 9));
    assert_false(rill_utmeta_fetch_banned(&f, 1));
    assert_int_equal(answer(&f, &mt, 9, 0, false, 4), RILL_EINVAL);
    rill_utmeta_fetch_free(&f);
    free(mt.info);
}

/* One liar alone: it sent every piece, so it is the liar; its data is
 * refused from then on, and an honest peer finishes the job. */
static void test_single_liar(void **state)
{
    (void)state;
    struct meta mt;
    make_meta(&mt, 2000);
    struct rill_utmeta_fetch f;
    assert_int_equal(rill_utmeta_fetch_init(&f, mt.hash, mt.len, 0), 0);
    uint32_t p;
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        p = next(&f, 9, 0);
        rc = answer(&f, &mt, 9, p, i == 1, 1);
    }
    assert_int_equal(rc, RILL_UTMETA_FAILED);
    assert_true(rill_utmeta_fetch_pop_liar(&f, &p));
    assert_int_equal(p, 9);
    assert_false(rill_utmeta_fetch_next(&f, 9, 2, &p));
    assert_int_equal(answer(&f, &mt, 9, 0, false, 2), RILL_EINVAL);
    for (int i = 0; i < 3; i++) {
        p = next(&f, 4, 3);
        rc = answer(&f, &mt, 4, p, false, 3);
    }
    assert_int_equal(rc, RILL_UTMETA_DONE);
    check_result(&f, &mt);
    assert_false(rill_utmeta_fetch_pop_liar(&f, &p));
    rill_utmeta_fetch_free(&f);
    free(mt.info);
}

/* A one-piece dict from a liar while an honest peer waits. */
static void test_single_piece_liar(void **state)
{
    (void)state;
    struct meta mt;
    make_meta(&mt, 100);
    struct rill_utmeta_fetch f;
    assert_int_equal(rill_utmeta_fetch_init(&f, mt.hash, mt.len, 0), 0);
    assert_int_equal(f.pieces, 1);
    uint32_t p;
    assert_int_equal(next(&f, 5, 0), 0);
    assert_false(rill_utmeta_fetch_next(&f, 6, 0, &p));
    assert_int_equal(answer(&f, &mt, 5, 0, true, 1), RILL_UTMETA_FAILED);
    assert_true(rill_utmeta_fetch_pop_liar(&f, &p));
    assert_int_equal(p, 5);
    assert_int_equal(next(&f, 6, 2), 0);
    assert_int_equal(answer(&f, &mt, 6, 0, false, 3), RILL_UTMETA_DONE);
    rill_utmeta_fetch_free(&f);
    free(mt.info);
}

static void test_reject_timeout_gone(void **state)
{
    (void)state;
    struct meta mt;
    make_meta(&mt, 2000);
    struct rill_utmeta_fetch f;
    assert_int_equal(rill_utmeta_fetch_init(&f, mt.hash, mt.len, 0), 0);
    uint32_t p;
    /* Reject: the piece goes to the next peer; the rejecter backs off. */
    assert_int_equal(next(&f, 1, 0), 0);
    rill_utmeta_fetch_reject(&f, 1, 0, 100);
    assert_false(rill_utmeta_fetch_next(&f, 1, 100 + RILL_UTMETA_REJECT_BACKOFF_MS - 1, &p));
    assert_int_equal(next(&f, 2, 200), 0);
    assert_int_equal(next(&f, 2, 200), 1);
    /* Timeout: requests at 200 expire at 200 + 5000. */
    assert_int_equal(rill_utmeta_fetch_timeouts(&f, 5199, 5000), 0);
    assert_int_equal(rill_utmeta_fetch_timeouts(&f, 5200, 5000), 2);
    assert_int_equal(next(&f, 3, 5300), 0);
    /* Peer gone: its request is free again. */
    rill_utmeta_fetch_peer_gone(&f, 3);
    assert_int_equal(next(&f, 4, 5400), 0);
    assert_int_equal(next(&f, 4, 5400), 1);
    assert_int_equal(next(&f, 1, 100 + RILL_UTMETA_REJECT_BACKOFF_MS), 2);
    /* A late answer from a timed-out peer still counts. */
    assert_int_equal(answer(&f, &mt, 2, 1, false, 5500), RILL_UTMETA_STORED);
    assert_int_equal(answer(&f, &mt, 4, 1, false, 5500), RILL_UTMETA_IGNORED);
    assert_int_equal(answer(&f, &mt, 1, 2, false, 5500), RILL_UTMETA_STORED);
    assert_int_equal(answer(&f, &mt, 4, 0, false, 5500), RILL_UTMETA_DONE);
    check_result(&f, &mt);
    rill_utmeta_fetch_free(&f);
    free(mt.info);
}

/* Duplicates only when every missing piece has been in flight too long. */
static void test_duplicate_after_timeout(void **state)
{
    (void)state;
    struct meta mt;
    make_meta(&mt, 1000); /* 2 pieces */
    struct rill_utmeta_fetch f;
    assert_int_equal(rill_utmeta_fetch_init(&f, mt.hash, mt.len, 0), 0);
    f.dup_after_ms = 1000;
    uint32_t p;
    assert_int_equal(next(&f, 1, 0), 0);
    assert_int_equal(next(&f, 2, 500), 1); /* the free one, not a duplicate */
    assert_false(rill_utmeta_fetch_next(&f, 3, 999, &p));
    assert_int_equal(next(&f, 3, 1000), 0); /* the oldest */
    assert_int_equal(next(&f, 3, 1500), 1);
    assert_int_equal(answer(&f, &mt, 3, 0, false, 1600), RILL_UTMETA_STORED);
    assert_int_equal(answer(&f, &mt, 1, 0, false, 1700), RILL_UTMETA_IGNORED);
    assert_int_equal(answer(&f, &mt, 2, 1, false, 1800), RILL_UTMETA_DONE);
    rill_utmeta_fetch_free(&f);
    free(mt.info);
}

static void test_data_checks(void **state)
{
    (void)state;
    struct meta mt;
    make_meta(&mt, 2000);
    struct rill_utmeta_fetch f;
    assert_int_equal(rill_utmeta_fetch_init(&f, mt.hash, mt.len, 0), 0);
    uint8_t buf[RILL_UTMETA_PIECE] = {0};
    assert_int_equal(rill_utmeta_fetch_data(&f, 1, 3, buf, 10, 0), RILL_ERANGE);
    assert_int_equal(rill_utmeta_fetch_data(&f, 1, 0, buf, 100, 0), RILL_ESYNTAX);
    assert_int_equal(rill_utmeta_fetch_data(&f, 1, 2, buf, RILL_UTMETA_PIECE, 0), RILL_ESYNTAX);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_utmeta_serve(&b, mt.info, mt.len, 1), 0);
    struct rill_utmeta_msg m;
    assert_int_equal(rill_utmeta_parse(b.data, b.len, &m, NULL), 0);
    assert_int_equal(rill_utmeta_fetch_msg(&f, 1, &m, 0), RILL_UTMETA_STORED);
    m.total_size++;
    assert_int_equal(rill_utmeta_fetch_msg(&f, 1, &m, 0), RILL_ESYNTAX);
    m.type = RILL_UTMETA_REQUEST;
    assert_int_equal(rill_utmeta_fetch_msg(&f, 1, &m, 0), RILL_EINVAL);
    m.type = RILL_UTMETA_UNKNOWN;
    assert_int_equal(rill_utmeta_fetch_msg(&f, 1, &m, 0), RILL_UTMETA_IGNORED);
    rill_buf_free(&b);
    rill_utmeta_fetch_free(&f);
    free(mt.info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bep9_examples),
        cmocka_unit_test(test_parse_rules),
        cmocka_unit_test(test_piece_sizes),
        cmocka_unit_test(test_every_prefix_rejected),
        cmocka_unit_test(test_serve_round_trip),
        cmocka_unit_test(test_init_limits),
        cmocka_unit_test(test_one_honest_peer),
        cmocka_unit_test(test_several_peers),
        cmocka_unit_test(test_liar_among_several),
        cmocka_unit_test(test_single_liar),
        cmocka_unit_test(test_single_piece_liar),
        cmocka_unit_test(test_reject_timeout_gone),
        cmocka_unit_test(test_duplicate_after_timeout),
        cmocka_unit_test(test_data_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
