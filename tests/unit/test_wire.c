/* The peer-wire codec: handshake, peer ids and client names, every message
 * built and parsed, byte-exact vectors written from the BEP 3/5/6/10
 * layouts, byte-at-a-time parsing, every error (most from the header
 * alone), the BEP 6 allowed-fast vector, and the BEP 10 handshake dict. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"
#include "util/rng.h"
#include "util/util.h"

#define B(...) ((const uint8_t[]){__VA_ARGS__})

static const struct rill_wire_limits ALL = {.piece_count = 100, .fast = true, .extended = true};

/* Parses exactly one whole message from `p` and checks it used all bytes. */
static void parse_one(const struct rill_wire_limits *lim, const uint8_t *p, size_t n,
                      struct rill_wire_msg *m)
{
    size_t used = 99;
    assert_int_equal(rill_wire_parse(lim, p, n, m, &used), 0);
    assert_int_equal(used, n);
    assert_null(m->why);
}

/* Expects `code` from the parser with `p`, and that nothing was consumed. */
static void parse_err(const struct rill_wire_limits *lim, const uint8_t *p, size_t n, int code)
{
    struct rill_wire_msg m;
    size_t used = 99;
    int rc = rill_wire_parse(lim, p, n, &m, &used);
    if (rc != code)
        fail_msg("expected %d, got %d (%s)", code, rc, m.why ? m.why : "-");
    assert_int_equal(used, 0);
    assert_non_null(m.why);
    assert_true(strlen(m.why) > 5);
}

/* ---------------------------------------------------------------- handshake */

static void test_handshake(void **state)
{
    (void)state;
    struct rill_wire_handshake hs;
    memset(&hs, 0, sizeof hs);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_EXTENDED, true);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_FAST, true);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_DHT, true);
    assert_int_equal(hs.reserved[5], 0x10);
    assert_int_equal(hs.reserved[7], 0x05);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_DHT, false);
    assert_int_equal(hs.reserved[7], 0x04);
    assert_true(rill_wire_feature_has(hs.reserved, RILL_WIRE_FEAT_FAST));
    assert_false(rill_wire_feature_has(hs.reserved, RILL_WIRE_FEAT_DHT));
    memset(hs.info_hash, 0xAA, 20);
    memcpy(hs.peer_id, "-TR3000-abcdefghijkl", 20);

    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_handshake_build(&b, &hs), 0);
    assert_int_equal(b.len, 68);
    uint8_t want[68] = "\x13"
                       "BitTorrent protocol"
                       "\0\0\0\0\0\x10\0\x04";
    memset(want + 28, 0xAA, 20);
    memcpy(want + 48, "-TR3000-abcdefghijkl", 20);
    assert_memory_equal(b.data, want, 68);

    /* Every prefix is "need more"; from byte 48 on the info-hash is known. */
    for (size_t n = 0; n < 68; n++) {
        struct rill_wire_handshake got;
        memset(&got, 0, sizeof got);
        assert_int_equal(rill_wire_handshake_parse(b.data, n, &got, NULL), RILL_WIRE_NEED_MORE);
        if (n >= RILL_WIRE_HANDSHAKE_PEER_ID_AT) {
            assert_memory_equal(got.info_hash, hs.info_hash, 20);
            assert_memory_equal(got.reserved, hs.reserved, 8);
        }
    }
    struct rill_wire_handshake got;
    assert_int_equal(rill_wire_handshake_parse(b.data, 68, &got, NULL), 0);
    assert_memory_equal(&got, &hs, sizeof hs);
    /* Messages may follow in the same read. */
    assert_int_equal(rill_wire_handshake_parse(b.data, 68, &got, NULL), 0);
    rill_buf_free(&b);
}

static void test_handshake_bad(void **state)
{
    (void)state;
    struct rill_wire_handshake hs;
    const char *why = NULL;
    /* An HTTP request is refused from its first byte. */
    assert_int_equal(rill_wire_handshake_parse((const uint8_t *)"GET / HTTP/1.1", 14, &hs, &why),
                     RILL_ESYNTAX);
    assert_non_null(why);
    why = NULL;
    /* A right length byte with a wrong string is refused where it differs. */
    const uint8_t *bad = (const uint8_t *)"\x13"
                                          "BitTorrent protocoX";
    assert_int_equal(rill_wire_handshake_parse(bad, 19, &hs, &why), RILL_WIRE_NEED_MORE);
    assert_int_equal(rill_wire_handshake_parse(bad, 20, &hs, &why), RILL_ESYNTAX);
    assert_non_null(why);
    uint8_t full[68] = "\x13"
                       "bittorrent protocol";
    assert_int_equal(rill_wire_handshake_parse(full, 68, &hs, NULL), RILL_ESYNTAX);
    full[0] = 0x14;
    assert_int_equal(rill_wire_handshake_parse(full, 68, &hs, NULL), RILL_ESYNTAX);
}

static void test_peer_id(void **state)
{
    (void)state;
    struct rill_rng r1, r2;
    rill_rng_seed(&r1, 7);
    rill_rng_seed(&r2, 7);
    uint8_t a[20], b[20], c[20];
    rill_wire_peer_id(&r1, a);
    rill_wire_peer_id(&r2, b);
    rill_wire_peer_id(&r1, c);
    assert_memory_equal(a, b, 20); /* replays from a seed */
    assert_memory_not_equal(a, c, 20);
    assert_memory_equal(a, "-RL0100-", 8);
    for (int i = 8; i < 20; i++)
        assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'A' && a[i] <= 'Z') ||
                    (a[i] >= 'a' && a[i] <= 'z'));
    char name[64];
    rill_wire_client_name(a, name, sizeof name);
    assert_string_equal(name, "rill 0.1.0");
}

static void name_is(const char *id, const char *want)
{
    uint8_t pid[20];
    memset(pid, 'x', 20);
    memcpy(pid, id, strlen(id) < 20 ? strlen(id) : 20);
    char out[RILL_WIRE_CLIENT_NAME_MAX];
    size_t n = rill_wire_client_name(pid, out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_client_names(void **state)
{
    (void)state;
    name_is("-TR3000-", "Transmission 3.00");
    name_is("-TR294Z-", "Transmission 2.94+");
    name_is("-TR0072-", "Transmission 0.72");
    name_is("-TR4050-", "Transmission 4.0.5");
    name_is("-lt0D80-", "libTorrent (rakshasa) 0.13.8");
    name_is("-LT1270-", "libtorrent 1.2.7");
    name_is("-LT2091-", "libtorrent 2.0.9.1");
    name_is("-qB4500-", "qBittorrent 4.5.0");
    name_is("-DE2110-", "Deluge 2.1.1");
    name_is("-RL0100-", "rill 0.1.0");
    name_is("-ZZ1234-", "ZZ 1.2.3.4");
    name_is("A2-1-36-0-", "aria2 1.36.0");
    name_is("M7-4-0--", "BitTorrent 7.4.0");
    name_is("A2-1-36", "unknown A2-1-36x"); /* no closing dash */
    name_is("-TR30 0-", "unknown -TR30 0-");
    uint8_t bin[20] = {0x00, 0xFF, '\\', 'a', 0x7F, 'b', 'c', 'd'};
    char out[64];
    rill_wire_client_name(bin, out, sizeof out);
    assert_string_equal(out, "unknown \\x00\\xff\\x5ca\\x7fbcd");

    /* Cut to fit, NUL-terminated, and the wanted length reported. */
    uint8_t tr[20];
    memcpy(tr, "-TR3000-abcdefghijkl", 20);
    char small[8];
    assert_int_equal(rill_wire_client_name(tr, small, sizeof small), 17);
    assert_string_equal(small, "Transmi");
    assert_int_equal(rill_wire_client_name(tr, NULL, 0), 17);
}

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

/* ------------------------------------------------------------- allowed fast */

static void test_allowed_fast(void **state)
{
    (void)state;
    /* BEP 6: 1313 pieces, info-hash 0xAA * 20, peer 80.4.4.200. */
    uint8_t ih[20];
    memset(ih, 0xAA, 20);
    const uint8_t ip[4] = {80, 4, 4, 200};
    const uint32_t want[9] = {1059, 431, 808, 1217, 287, 376, 1188, 353, 508};
    uint32_t got[300];
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 1313, 7, got), 7);
    assert_memory_equal(got, want, 7 * sizeof *got);
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 1313, 9, got), 9);
    assert_memory_equal(got, want, 9 * sizeof *got);
    /* Only the /24 counts. */
    const uint8_t same24[4] = {80, 4, 4, 1};
    assert_int_equal(rill_wire_allowed_fast(same24, 4, ih, 1313, 9, got), 9);
    assert_memory_equal(got, want, 9 * sizeof *got);
    /* Fewer pieces than k: each piece once. */
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 5, 10, got), 5);
    bool seen[5] = {0};
    for (int i = 0; i < 5; i++) {
        assert_true(got[i] < 5);
        assert_false(seen[got[i]]);
        seen[got[i]] = true;
    }
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 100000, 1000, got),
                     RILL_WIRE_ALLOWED_FAST_MAX);
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 0, 10, got), 0);
    assert_int_equal(rill_wire_allowed_fast(ip, 5, ih, 10, 10, got), 0);
    /* IPv6: the /48 counts, the rest does not. */
    uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xFF},
            v6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
    uint8_t v6c[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2};
    uint32_t a[10], b[10], c[10];
    assert_int_equal(rill_wire_allowed_fast(v6a, 16, ih, 1313, 10, a), 10);
    assert_int_equal(rill_wire_allowed_fast(v6b, 16, ih, 1313, 10, b), 10);
    assert_int_equal(rill_wire_allowed_fast(v6c, 16, ih, 1313, 10, c), 10);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
}

/* ------------------------------------------------------- extended handshake */

static int ext_parse(const char *s, struct rill_wire_ext_hs *hs)
{
    return rill_wire_ext_hs_parse((const uint8_t *)s, strlen(s), hs, NULL);
}

static void test_ext_hs_roundtrip(void **state)
{
    (void)state;
    struct rill_wire_ext_hs ours;
    memset(&ours, 0, sizeof ours);
    ours.m[RILL_WIRE_EXT_UT_METADATA] = 3;
    ours.m[RILL_WIRE_EXT_UT_PEX] = 1;
    snprintf(ours.v, sizeof ours.v, "rill 0.1.0");
    ours.reqq = 250;
    ours.p = 6881;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_ext_hs_build(&b, &ours), 0);
    const char *want = "d1:md11:ut_metadatai3e6:ut_pexi1ee1:pi6881e4:reqqi250e1:v10:rill 0.1.0e";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);

    struct rill_wire_ext_hs got;
    memset(&got, 0, sizeof got);
    assert_int_equal(rill_wire_ext_hs_parse(b.data, b.len, &got, NULL), 0);
    assert_memory_equal(got.m, ours.m, sizeof got.m);
    assert_string_equal(got.v, "rill 0.1.0");
    assert_int_equal(got.reqq, 250);
    assert_int_equal(got.p, 6881);
    assert_int_equal(got.present,
                     RILL_WIRE_EXTK_M | RILL_WIRE_EXTK_V | RILL_WIRE_EXTK_REQQ | RILL_WIRE_EXTK_P);
    assert_int_equal(got.invalid, 0);
    rill_buf_free(&b);

    /* Every field, through build and parse. */
    memset(&ours, 0, sizeof ours);
    for (int i = 0; i < RILL_WIRE_EXT_COUNT; i++)
        ours.m[i] = (uint8_t)(10 + i);
    ours.upload_only = true;
    ours.metadata_size = 31337;
    ours.yourip_len = 16;
    memset(ours.yourip, 0x20, 16);
    memcpy(ours.ipv4, "\x7f\0\0\1", 4);
    ours.ipv6[15] = 1;
    ours.present = RILL_WIRE_EXTK_IPV4 | RILL_WIRE_EXTK_IPV6;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_ext_hs_build(&b, &ours), 0);
    memset(&got, 0, sizeof got);
    assert_int_equal(rill_wire_ext_hs_parse(b.data, b.len, &got, NULL), 0);
    assert_memory_equal(got.m, ours.m, sizeof got.m);
    assert_true(got.upload_only);
    assert_int_equal(got.metadata_size, 31337);
    assert_false(got.metadata_too_big);
    assert_int_equal(got.yourip_len, 16);
    assert_memory_equal(got.yourip, ours.yourip, 16);
    assert_memory_equal(got.ipv4, ours.ipv4, 4);
    assert_memory_equal(got.ipv6, ours.ipv6, 16);
    assert_string_equal(got.v, "");
    assert_int_equal(got.invalid, 0);
    rill_buf_free(&b);

    /* Two extensions on one id cannot be told apart. */
    ours.m[0] = ours.m[1] = 5;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_ext_hs_build(&b, &ours), RILL_EINVAL);
    assert_int_equal(b.len, 0);
    rill_buf_free(&b);
    assert_string_equal(rill_wire_ext_name(RILL_WIRE_EXT_LT_DONTHAVE), "lt_donthave");
    assert_null(rill_wire_ext_name(RILL_WIRE_EXT_COUNT));
    assert_null(rill_wire_ext_name(-1));
}

/* A handshake as libtorrent sends one, with keys rill ignores. */
static void test_ext_hs_real(void **state)
{
    (void)state;
    static const char lt[] = "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e"
                             "11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee"
                             "13:metadata_sizei5361e1:pi6881e4:reqqi500e11:upload_onlyi0e"
                             "1:v18:libtorrent 2.0.9.06:yourip4:\x7f\0\0\1e";
    struct rill_wire_ext_hs hs;
    memset(&hs, 0, sizeof hs);
    assert_int_equal(rill_wire_ext_hs_parse((const uint8_t *)lt, sizeof lt - 1, &hs, NULL), 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_METADATA], 2);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_PEX], 1);
    assert_int_equal(hs.m[RILL_WIRE_EXT_LT_DONTHAVE], 7);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UPLOAD_ONLY], 3);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_HOLEPUNCH], 4);
    assert_int_equal(hs.m[RILL_WIRE_EXT_SHARE_MODE], 8);
    assert_int_equal(hs.m[RILL_WIRE_EXT_LT_TEX], 0);
    assert_int_equal(hs.metadata_size, 5361);
    assert_int_equal(hs.reqq, 500);
    assert_false(hs.upload_only);
    assert_string_equal(hs.v, "libtorrent 2.0.9.0");
    assert_int_equal(hs.yourip_len, 4);
    assert_memory_equal(hs.yourip, "\x7f\0\0\1", 4);
    assert_int_equal(hs.invalid, 0);
}

static void test_ext_hs_hostile(void **state)
{
    (void)state;
    struct rill_wire_ext_hs hs;
    struct rill_error err;
    memset(&hs, 0, sizeof hs);
    /* Not a dictionary, not bencode, trailing bytes. */
    assert_int_equal(ext_parse("li1ee", &hs), RILL_ESYNTAX);
    assert_int_equal(ext_parse("", &hs), RILL_ETRUNCATED);
    assert_int_equal(rill_wire_ext_hs_parse((const uint8_t *)"d1:pi1ee!", 9, &hs, &err),
                     RILL_ETRAILING);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(hs.present | hs.p, 0); /* unchanged */
    /* Unsorted keys, which some clients write, are accepted. */
    assert_int_equal(ext_parse("d1:pi6881e1:ai1ee", &hs), 0);
    assert_int_equal(hs.p, 6881);
    memset(&hs, 0, sizeof hs);

    /* Every key of the wrong type: ignored and flagged, nothing taken. */
    assert_int_equal(ext_parse("d1:mi1e13:metadata_size1:x1:pli1ee4:reqq0:11:upload_only"
                               "le1:vi5e6:yourip3:abce",
                               &hs),
                     0);
    assert_int_equal(hs.present, 0);
    assert_int_equal(hs.invalid, RILL_WIRE_EXTK_M | RILL_WIRE_EXTK_METADATA_SIZE |
                                     RILL_WIRE_EXTK_P | RILL_WIRE_EXTK_REQQ |
                                     RILL_WIRE_EXTK_UPLOAD_ONLY | RILL_WIRE_EXTK_V |
                                     RILL_WIRE_EXTK_YOURIP);
    /* Out of range: ids, port, reqq, metadata_size, address lengths. */
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d4:ipv43:abc4:ipv64:abcd1:md11:ut_metadatai-1e6:ut_pexi256e"
                               "e13:metadata_sizei0e1:pi65536e4:reqqi-5ee",
                               &hs),
                     0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_PEX], 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_METADATA], 0);
    assert_int_equal(hs.present, RILL_WIRE_EXTK_M);
    assert_int_equal(hs.invalid, RILL_WIRE_EXTK_M | RILL_WIRE_EXTK_METADATA_SIZE |
                                     RILL_WIRE_EXTK_P | RILL_WIRE_EXTK_REQQ | RILL_WIRE_EXTK_IPV4 |
                                     RILL_WIRE_EXTK_IPV6);
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d1:md6:ut_pexi256eee", &hs), 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_PEX], 0);
    assert_int_equal(hs.invalid, RILL_WIRE_EXTK_M);
    /* Huge values: metadata_size kept but flagged, reqq capped. */
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d13:metadata_sizei9223372036854775807e4:reqqi99999999999ee", &hs),
                     0);
    assert_int_equal(hs.metadata_size, INT64_MAX);
    assert_true(hs.metadata_too_big);
    assert_int_equal(hs.reqq, RILL_WIRE_EXT_REQQ_MAX);
    assert_int_equal(ext_parse("d13:metadata_sizei67108865ee", &hs), 0);
    assert_true(hs.metadata_too_big);
    assert_int_equal(ext_parse("d13:metadata_sizei67108864ee", &hs), 0);
    assert_false(hs.metadata_too_big);
    /* Unknown names and unknown keys are ignored. */
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d1:md0:i1e5:lt_xxi9eee", &hs), 0);
    assert_int_equal(hs.invalid, 0);
    for (int i = 0; i < RILL_WIRE_EXT_COUNT; i++)
        assert_int_equal(hs.m[i], 0);
}

static void test_ext_hs_names(void **state)
{
    (void)state;
    struct rill_wire_ext_hs hs;
    memset(&hs, 0, sizeof hs);
    /* Control characters and invalid UTF-8 become '?', valid UTF-8 stays. */
    const char *s = "d1:v16:\xc2\xb5Torrent\x01\xff\xc0\xaf\xed\xa0\x80"
                    "e";
    assert_int_equal(ext_parse(s, &hs), 0);
    assert_string_equal(hs.v, "\xc2\xb5Torrent???????");
    /* A long name is cut to the cap, never inside a character. */
    char big[400];
    size_t n = (size_t)snprintf(big, sizeof big, "d1:v100:");
    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "\xc3\xa9");
    snprintf(big + n, sizeof big - n, "e");
    assert_int_equal(ext_parse(big, &hs), 0);
    assert_int_equal(strlen(hs.v), 62); /* 31 two-byte characters fit in 63 */
    n = (size_t)snprintf(big, sizeof big, "d1:v70:");
    memset(big + n, 'a', 70);
    snprintf(big + n + 70, sizeof big - n - 70, "e");
    assert_int_equal(ext_parse(big, &hs), 0);
    assert_int_equal(strlen(hs.v), RILL_WIRE_EXT_V_MAX);
}

/* BEP 10: a later handshake carries changes only; 0 disables. */
static void test_ext_hs_update(void **state)
{
    (void)state;
    struct rill_wire_ext_hs hs;
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d1:md11:ut_metadatai2e6:ut_pexi1ee1:pi6881e1:v3:abce", &hs), 0);
    assert_int_equal(ext_parse("d1:md11:upload_onlyi9e6:ut_pexi0eee", &hs), 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_METADATA], 2);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_PEX], 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UPLOAD_ONLY], 9);
    assert_int_equal(hs.p, 6881);
    assert_string_equal(hs.v, "abc");
    assert_int_equal(hs.present, RILL_WIRE_EXTK_M);
}

/* An extended handshake travels inside message 20 with ext id 0. */
static void test_ext_hs_in_message(void **state)
{
    (void)state;
    struct rill_wire_ext_hs ours;
    memset(&ours, 0, sizeof ours);
    ours.m[RILL_WIRE_EXT_UT_METADATA] = 1;
    struct rill_buf payload, frame;
    rill_buf_init(&payload, 0);
    rill_buf_init(&frame, 0);
    assert_int_equal(rill_wire_ext_hs_build(&payload, &ours), 0);
    assert_int_equal(rill_wire_build_extended(&frame, 0, payload.data, payload.len), 0);
    struct rill_wire_msg m;
    parse_one(&ALL, frame.data, frame.len, &m);
    assert_int_equal(m.ext_id, 0);
    struct rill_wire_ext_hs got;
    memset(&got, 0, sizeof got);
    assert_int_equal(rill_wire_ext_hs_parse(m.data, m.data_len, &got, NULL), 0);
    assert_int_equal(got.m[RILL_WIRE_EXT_UT_METADATA], 1);
    rill_buf_free(&payload);
    rill_buf_free(&frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),         cmocka_unit_test(test_handshake_bad),
        cmocka_unit_test(test_peer_id),           cmocka_unit_test(test_client_names),
        cmocka_unit_test(test_vectors),           cmocka_unit_test(test_builders),
        cmocka_unit_test(test_incremental),       cmocka_unit_test(test_oversized_from_header),
        cmocka_unit_test(test_bitfield_errors),   cmocka_unit_test(test_index_range),
        cmocka_unit_test(test_request_size),      cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_unknown_ids),       cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_allowed_fast),      cmocka_unit_test(test_ext_hs_roundtrip),
        cmocka_unit_test(test_ext_hs_real),       cmocka_unit_test(test_ext_hs_hostile),
        cmocka_unit_test(test_ext_hs_names),      cmocka_unit_test(test_ext_hs_update),
        cmocka_unit_test(test_ext_hs_in_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
