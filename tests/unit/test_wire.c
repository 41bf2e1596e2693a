/* The peer-wire codec, the messages: every message built and parsed,
 * byte-exact vectors written from the BEP 3/5/6/10 layouts, byte-at-a-time
 * parsing, and every error (most from the header alone). The handshakes and
 * the allowed-fast set are in test_wire_handshake.c. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"
#include "util/util.h"
#include "wire_fixture.h"

/* ------------------------------------------------------- messages: vectors */

struct vector {
    const char *what;
    const uint8_t *bytes;
    size_t len;
    struct rill_wire_msg msg;
};

static const uint8_t BLOCK[3] = {0xDE, 0xAD, 0x01};
static const uint8_t BITS[13] = {0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0};
static const uint8_t EXT[4] = {'d', 'e', 'x', 'y'};

/* Written by hand from the layouts in BEP 3 (length prefix, id, payload,
 * big-endian integers), BEP 5 (port), BEP 6 and BEP 10. */
static const uint8_t W_KEEPALIVE[] = {0, 0, 0, 0};
static const uint8_t W_CHOKE[] = {0, 0, 0, 1, 0};
static const uint8_t W_UNCHOKE[] = {0, 0, 0, 1, 1};
static const uint8_t W_INTERESTED[] = {0, 0, 0, 1, 2};
static const uint8_t W_NOT_INTERESTED[] = {0, 0, 0, 1, 3};
static const uint8_t W_HAVE[] = {0, 0, 0, 5, 4, 0, 0, 0, 42};
static const uint8_t W_BITFIELD[] = {0, 0, 0, 14, 5, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xF0};
static const uint8_t W_REQUEST[] = {0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0};
static const uint8_t W_PIECE[] = {0, 0, 0, 12, 7, 0, 0, 0, 99, 0, 0, 0, 0x10, 0xDE, 0xAD, 0x01};
static const uint8_t W_CANCEL[] = {0, 0, 0, 13, 8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 100};
static const uint8_t W_PORT[] = {0, 0, 0, 3, 9, 0x1A, 0xE1};
static const uint8_t W_SUGGEST[] = {0, 0, 0, 5, 0x0D, 0, 0, 0, 7};
static const uint8_t W_HAVE_ALL[] = {0, 0, 0, 1, 0x0E};
static const uint8_t W_HAVE_NONE[] = {0, 0, 0, 1, 0x0F};
static const uint8_t W_REJECT[] = {0, 0, 0, 13, 0x10, 0, 0, 0, 3, 0, 0, 0x80, 0, 0, 0, 0x40, 0};
static const uint8_t W_ALLOWED_FAST[] = {0, 0, 0, 5, 0x11, 0, 0, 0, 0x63};
static const uint8_t W_EXTENDED[] = {0, 0, 0, 6, 20, 3, 'd', 'e', 'x', 'y'};
static const uint8_t W_EXTENDED_EMPTY[] = {0, 0, 0, 2, 20, 0};

#define V(bytes, ...)                                                                              \
    {                                                                                              \
#bytes, bytes, sizeof bytes,                                                               \
        {                                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

static const struct vector VECTORS[] = {
    V(W_KEEPALIVE, .type = RILL_WIRE_KEEPALIVE),
    V(W_CHOKE, .type = RILL_WIRE_CHOKE),
    V(W_UNCHOKE, .type = RILL_WIRE_UNCHOKE),
    V(W_INTERESTED, .type = RILL_WIRE_INTERESTED),
    V(W_NOT_INTERESTED, .type = RILL_WIRE_NOT_INTERESTED),
    V(W_HAVE, .type = RILL_WIRE_HAVE, .index = 42),
    V(W_BITFIELD, .type = RILL_WIRE_BITFIELD, .data = BITS, .data_len = 13),
    V(W_REQUEST, .type = RILL_WIRE_REQUEST, .index = 1, .begin = 0x4000, .length = 0x4000),
    V(W_PIECE, .type = RILL_WIRE_PIECE, .index = 99, .begin = 0x10, .length = 3, .data = BLOCK,
      .data_len = 3),
    V(W_CANCEL, .type = RILL_WIRE_CANCEL, .index = 2, .begin = 0, .length = 100),
    V(W_PORT, .type = RILL_WIRE_PORT, .port = 6881),
    V(W_SUGGEST, .type = RILL_WIRE_SUGGEST, .index = 7),
    V(W_HAVE_ALL, .type = RILL_WIRE_HAVE_ALL),
    V(W_HAVE_NONE, .type = RILL_WIRE_HAVE_NONE),
    V(W_REJECT, .type = RILL_WIRE_REJECT, .index = 3, .begin = 0x8000, .length = 0x4000),
    V(W_ALLOWED_FAST, .type = RILL_WIRE_ALLOWED_FAST, .index = 0x63),
    V(W_EXTENDED, .type = RILL_WIRE_EXTENDED, .ext_id = 3, .data = EXT, .data_len = 4),
    V(W_EXTENDED_EMPTY, .type = RILL_WIRE_EXTENDED, .ext_id = 0),
};

static void assert_msg_equal(const struct rill_wire_msg *a, const struct rill_wire_msg *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->index, b->index);
    assert_int_equal(a->begin, b->begin);
    assert_int_equal(a->length, b->length);
    assert_int_equal(a->port, b->port);
    assert_int_equal(a->ext_id, b->ext_id);
    assert_int_equal(a->data_len, b->data_len);
    if (a->data_len)
        assert_memory_equal(a->data, b->data, a->data_len);
}

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < RILL_ARRAY_LEN(VECTORS); i++) {
        const struct vector *v = &VECTORS[i];
        struct rill_buf b;
        rill_buf_init(&b, 0);
        assert_int_equal(rill_wire_build(&b, &v->msg), 0);
        if (b.len != v->len || memcmp(b.data, v->bytes, v->len) != 0)
            fail_msg("%s: built bytes differ", v->what);
        struct rill_wire_msg m;
        parse_one(&ALL, v->bytes, v->len, &m);
        assert_msg_equal(&m, &v->msg);
        if (m.data_len) /* zero-copy: the data points into the input */
            assert_ptr_equal(m.data, v->bytes + v->len - m.data_len);
        assert_string_not_equal(rill_wire_type_name(m.type), "unknown");
        rill_buf_free(&b);
    }
}

/* The convenience builders write the same bytes as the struct builder. */
static void test_builders(void **state)
{
    (void)state;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_build_simple(&b, RILL_WIRE_KEEPALIVE), 0);
    assert_int_equal(rill_wire_build_simple(&b, RILL_WIRE_HAVE_NONE), 0);
    assert_int_equal(rill_wire_build_index(&b, RILL_WIRE_HAVE, 42), 0);
    assert_int_equal(rill_wire_build_block(&b, RILL_WIRE_REQUEST, 1, 0x4000, 0x4000), 0);
    assert_int_equal(rill_wire_build_bitfield(&b, BITS, sizeof BITS), 0);
    assert_int_equal(rill_wire_build_port(&b, 6881), 0);
    assert_int_equal(rill_wire_build_extended(&b, 3, EXT, 4), 0);
    assert_int_equal(rill_wire_build_piece_header(&b, 99, 0x10, 3), 0);
    assert_int_equal(rill_buf_append(&b, BLOCK, 3), 0);
    assert_int_equal(rill_wire_build_piece(&b, 99, 0x10, BLOCK, 3), 0);
    const int order[] = {0, 13, 5, 7, 6, 10, 16, 8, 8};
    size_t at = 0;
    for (size_t i = 0; i < RILL_ARRAY_LEN(order); i++) {
        const struct vector *v = &VECTORS[order[i]];
        assert_true(at + v->len <= b.len);
        if (memcmp(b.data + at, v->bytes, v->len) != 0)
            fail_msg("%s differs at %zu", v->what, i);
        at += v->len;
    }
    assert_int_equal(at, b.len);

    /* Types of another family are refused and write nothing. */
    size_t len = b.len;
    assert_int_equal(rill_wire_build_simple(&b, RILL_WIRE_HAVE), RILL_EINVAL);
    assert_int_equal(rill_wire_build_simple(&b, 99), RILL_EINVAL);
    assert_int_equal(rill_wire_build_simple(&b, -1), RILL_EINVAL);
    assert_int_equal(rill_wire_build_index(&b, RILL_WIRE_REQUEST, 1), RILL_EINVAL);
    assert_int_equal(rill_wire_build_block(&b, RILL_WIRE_HAVE, 1, 2, 3), RILL_EINVAL);
    struct rill_wire_msg bad = {.type = 12};
    assert_int_equal(rill_wire_build(&b, &bad), RILL_EINVAL);
    assert_int_equal(b.len, len);
    assert_false(b.failed);
    rill_buf_free(&b);

    /* A full buffer fails whole and sticks. */
    rill_buf_init(&b, 20);
    assert_int_equal(rill_wire_build_block(&b, RILL_WIRE_REQUEST, 1, 2, 3), 0);
    assert_int_equal(rill_wire_build_block(&b, RILL_WIRE_CANCEL, 1, 2, 3), RILL_ENOMEM);
    assert_int_equal(b.len, 17);
    assert_true(b.failed);
    assert_int_equal(rill_wire_build_simple(&b, RILL_WIRE_CHOKE), RILL_ENOMEM);
    rill_buf_free(&b);
}

/* ------------------------------------------------------ messages: streaming */

/* Every vector back to back, fed one byte more at a time: each call sees
 * the bytes so far and says "need more" until a frame is whole. */
static void test_incremental(void **state)
{
    (void)state;
    struct rill_buf all;
    rill_buf_init(&all, 0);
    for (size_t i = 0; i < RILL_ARRAY_LEN(VECTORS); i++)
        rill_buf_append(&all, VECTORS[i].bytes, VECTORS[i].len);
    size_t start = 0, next = 0;
    for (size_t end = 0; end <= all.len; end++) {
        struct rill_wire_msg m;
        size_t used;
        int rc = rill_wire_parse(&ALL, all.data + start, end - start, &m, &used);
        if (rc == RILL_WIRE_NEED_MORE) {
            assert_int_equal(used, 0);
            assert_true(m.need > end - start);
            assert_true(m.need <= VECTORS[next].len);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(used, VECTORS[next].len);
        assert_int_equal(end - start, used);
        assert_msg_equal(&m, &VECTORS[next].msg);
        start += used;
        next++;
    }
    assert_int_equal(next, RILL_ARRAY_LEN(VECTORS));

    /* The same stream, parsed in one go from a single buffer. */
    size_t off = 0, count = 0;
    struct rill_wire_msg m;
    size_t used;
    while (rill_wire_parse(&ALL, all.data + off, all.len - off, &m, &used) == 0) {
        off += used;
        count++;
    }
    assert_int_equal(off, all.len);
    assert_int_equal(count, RILL_ARRAY_LEN(VECTORS));
    rill_buf_free(&all);
}

/* --------------------------------------------------------- messages: errors */

static void test_oversized_from_header(void **state)
{
    (void)state;
    /* A 4 GiB length is refused from the prefix alone. */
    parse_err(&ALL, B(0xFF, 0xFF, 0xFF, 0xFF), 4, RILL_ELIMIT);
    parse_err(NULL, B(0x7F, 0, 0, 0), 4, RILL_ELIMIT);
    /* Just past the largest frame: the default limits have the piece
     * message (9 + 16 KiB) as the largest when the bitfield cap is lower. */
    struct rill_wire_limits lim = {.piece_count = 1000};
    uint32_t max = rill_wire_max_frame(&lim);
    assert_int_equal(max, 9 + RILL_WIRE_BLOCK);
    uint8_t h[5];
    rill__put_be32(h, max + 1);
    h[4] = RILL_WIRE_PIECE;
    parse_err(&lim, h, 4, RILL_ELIMIT);
    /* A piece one byte over the block size, from the 5-byte header. */
    struct rill_wire_limits big = {.piece_count = 1000, .extended = true};
    rill__put_be32(h, 9 + RILL_WIRE_BLOCK + 1);
    parse_err(&big, h, 5, RILL_ELIMIT);
    rill__put_be32(h, 9 + RILL_WIRE_BLOCK);
    struct rill_wire_msg m;
    size_t used;
    assert_int_equal(rill_wire_parse(&big, h, 5, &m, &used), RILL_WIRE_NEED_MORE);
    assert_int_equal(m.need, 13 + RILL_WIRE_BLOCK);
    /* An extended payload one byte over its cap, from the header. */
    rill__put_be32(h, 2 + RILL_WIRE_MAX_EXT_PAYLOAD + 1);
    h[4] = RILL_WIRE_EXTENDED;
    parse_err(&big, h, 5, RILL_ELIMIT);
    rill__put_be32(h, 2 + RILL_WIRE_MAX_EXT_PAYLOAD);
    assert_int_equal(rill_wire_parse(&big, h, 5, &m, &used), RILL_WIRE_NEED_MORE);
    /* A bitfield that would be fine for some torrent but not this one. */
    rill__put_be32(h, 1 + 126);
    h[4] = RILL_WIRE_BITFIELD;
    parse_err(&big, h, 5, RILL_ESYNTAX);
    /* Custom limits move the bounds. */
    struct rill_wire_limits small = {.max_block = 1024, .max_ext_payload = 100, .extended = true};
    rill__put_be32(h, 2 + 101);
    h[4] = RILL_WIRE_EXTENDED;
    parse_err(&small, h, 5, RILL_ELIMIT);
    rill__put_be32(h, 9 + 1025);
    h[4] = RILL_WIRE_PIECE;
    parse_err(&small, h, 5, RILL_ELIMIT);
}

static void test_bitfield_errors(void **state)
{
    (void)state;
    struct rill_wire_limits lim = {.piece_count = 12};
    struct rill_wire_msg m;
    parse_one(&lim, B(0, 0, 0, 3, 5, 0xFF, 0xF0), 7, &m);
    assert_int_equal(m.data_len, 2);
    parse_err(&lim, B(0, 0, 0, 3, 5, 0xFF, 0xF8), 7, RILL_ESYNTAX); /* spare bit 12 */
    parse_err(&lim, B(0, 0, 0, 3, 5, 0xFF, 0xF1), 7, RILL_ESYNTAX); /* last spare bit */
    parse_err(&lim, B(0, 0, 0, 2, 5, 0xFF), 6, RILL_ESYNTAX);       /* too short */
    parse_err(&lim, B(0, 0, 0, 4, 5), 5, RILL_ESYNTAX);             /* too long, header */
    parse_err(&lim, B(0, 0, 0, 1, 5), 5, RILL_ESYNTAX);             /* empty */
    lim.piece_count = 16;                                           /* no spare bits */
    parse_one(&lim, B(0, 0, 0, 3, 5, 0xFF, 0xFF), 7, &m);
    /* Piece count unknown: any length up to the cap, spare bits unchecked. */
    lim.piece_count = 0;
    parse_one(&lim, B(0, 0, 0, 4, 5, 1, 2, 3), 8, &m);
    assert_int_equal(m.data_len, 3);
    parse_err(&lim, B(0, 0, 0, 1, 5), 5, RILL_ESYNTAX);
    uint8_t h[5] = {0, 0, 0, 0, 5};
    rill__put_be32(h, 2 + RILL_WIRE_MAX_BITFIELD);
    parse_err(&lim, h, 5, RILL_ELIMIT);
}

static void test_index_range(void **state)
{
    (void)state;
    /* 10 pieces of 32 KiB, the last one 5,000 bytes. */
    struct rill_wire_limits lim = {
        .piece_count = 10, .piece_length = 32768, .last_piece_length = 5000, .fast = true};
    struct rill_wire_msg m;
    parse_one(&lim, B(0, 0, 0, 5, 4, 0, 0, 0, 9), 9, &m);
    parse_err(&lim, B(0, 0, 0, 5, 4, 0, 0, 0, 10), 9, RILL_ERANGE);
    parse_err(&lim, B(0, 0, 0, 5, 4, 0xFF, 0xFF, 0xFF, 0xFF), 9, RILL_ERANGE);
    parse_err(&lim, B(0, 0, 0, 5, 0x0D, 0, 0, 0, 10), 9, RILL_ERANGE);
    parse_err(&lim, B(0, 0, 0, 5, 0x11, 0, 0, 0, 10), 9, RILL_ERANGE);
    /* Blocks: the second half of piece 0 is fine, one byte past is not. */
    parse_one(&lim, B(0, 0, 0, 13, 6, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0x40, 0), 17, &m);
    parse_err(&lim, B(0, 0, 0, 13, 6, 0, 0, 0, 0, 0, 0, 0x40, 1, 0, 0, 0x40, 0), 17, RILL_ERANGE);
    parse_err(&lim, B(0, 0, 0, 13, 6, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0x40, 0), 17, RILL_ERANGE);
    /* The last piece is shorter; a huge begin does not wrap around. */
    parse_one(&lim, B(0, 0, 0, 13, 8, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0x13, 0x88), 17, &m);
    parse_err(&lim, B(0, 0, 0, 13, 8, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0x13, 0x88), 17, RILL_ERANGE);
    parse_err(&lim, B(0, 0, 0, 13, 0x10, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1), 17,
              RILL_ERANGE);
    parse_one(&lim, B(0, 0, 0, 10, 7, 0, 0, 0, 9, 0, 0, 0x13, 0x87, 0xAB), 14, &m);
    parse_err(&lim, B(0, 0, 0, 10, 7, 0, 0, 0, 9, 0, 0, 0x13, 0x88, 0xAB), 14, RILL_ERANGE);
    parse_err(&lim, B(0, 0, 0, 10, 7, 0, 0, 0, 10, 0, 0, 0, 0, 0xAB), 14, RILL_ERANGE);
    /* The error keeps what was decoded, for the log. */
    size_t used;
    assert_int_equal(rill_wire_parse(&lim, B(0, 0, 0, 5, 4, 0, 0, 1, 0), 9, &m, &used),
                     RILL_ERANGE);
    assert_int_equal(m.type, RILL_WIRE_HAVE);
    assert_int_equal(m.index, 256);
    /* Unknown piece count: indexes are unchecked. */
    parse_one(NULL, B(0, 0, 0, 5, 4, 0xFF, 0xFF, 0xFF, 0xFF), 9, &m);
}

static void test_request_size(void **state)
{
    (void)state;
    struct rill_wire_msg m;
    parse_one(&ALL, B(0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0x00), 17, &m);
    assert_int_equal(m.length, 16384);
    parse_err(&ALL, B(0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0x01), 17, RILL_ELIMIT);
    parse_err(&ALL, B(0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF), 17,
              RILL_ELIMIT);
    parse_err(&ALL, B(0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0), 17, RILL_ESYNTAX);
    parse_err(&ALL, B(0, 0, 0, 13, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x80, 0), 17, RILL_ELIMIT);
    parse_err(&ALL, B(0, 0, 0, 13, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x80, 0), 17, RILL_ELIMIT);
    /* A piece with no data is an empty block, known from the header. */
    parse_err(&ALL, B(0, 0, 0, 9, 7), 5, RILL_ESYNTAX);
}

static void test_negotiation(void **state)
{
    (void)state;
    struct rill_wire_limits plain = {.piece_count = 100};
    const uint8_t fast_ids[] = {0x0D, 0x0E, 0x0F, 0x10, 0x11};
    const uint32_t fast_len[] = {5, 1, 1, 13, 5};
    for (size_t i = 0; i < RILL_ARRAY_LEN(fast_ids); i++) {
        uint8_t h[5];
        rill__put_be32(h, fast_len[i]);
        h[4] = fast_ids[i];
        parse_err(&plain, h, 5, RILL_ESYNTAX);
    }
    parse_err(&plain, B(0, 0, 0, 2, 20, 0), 6, RILL_ESYNTAX);
    /* Without BEP 10 the largest frame shrinks to the piece message. */
    parse_err(&plain, B(0, 0, 0x40, 0x0A), 4, RILL_ELIMIT);
}

static void test_unknown_ids(void **state)
{
    (void)state;
    const uint8_t ids[] = {10, 11, 12, 18, 19, 21, 22, 23, 128, 255};
    for (size_t i = 0; i < RILL_ARRAY_LEN(ids); i++) {
        uint8_t h[5] = {0, 0, 0, 1, ids[i]};
        parse_err(&ALL, h, 5, RILL_ESYNTAX);
        struct rill_wire_msg m;
        size_t used;
        rill_wire_parse(&ALL, h, 5, &m, &used);
        assert_int_equal(m.type, ids[i]);
        assert_string_equal(rill_wire_type_name(m.type), "unknown");
    }
}

/* Every fixed-size message with a length one too short and one too long,
 * refused from the 5-byte header. */
static void test_bad_lengths(void **state)
{
    (void)state;
    const struct {
        uint8_t id;
        uint32_t len;
    } fixed[] = {
        {0, 1}, {1, 1},    {2, 1},    {3, 1},    {4, 5},     {6, 13},   {8, 13},
        {9, 3}, {0x0D, 5}, {0x0E, 1}, {0x0F, 1}, {0x10, 13}, {0x11, 5},
    };
    for (size_t i = 0; i < RILL_ARRAY_LEN(fixed); i++) {
        uint8_t h[5];
        h[4] = fixed[i].id;
        rill__put_be32(h, fixed[i].len + 1);
        parse_err(&ALL, h, 5, RILL_ESYNTAX);
        if (fixed[i].len > 1) {
            rill__put_be32(h, fixed[i].len - 1);
            parse_err(&ALL, h, 5, RILL_ESYNTAX);
        }
    }
    parse_err(&ALL, B(0, 0, 0, 8, 7), 5, RILL_ESYNTAX);  /* piece without begin */
    parse_err(&ALL, B(0, 0, 0, 1, 20), 5, RILL_ESYNTAX); /* extended without id */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),         cmocka_unit_test(test_builders),
        cmocka_unit_test(test_incremental),     cmocka_unit_test(test_oversized_from_header),
        cmocka_unit_test(test_bitfield_errors), cmocka_unit_test(test_index_range),
        cmocka_unit_test(test_request_size),    cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_unknown_ids),     cmocka_unit_test(test_bad_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
