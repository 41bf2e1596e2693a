/* UDP trackers (BEP 15): every packet, both directions, against vectors
 * written by hand from the BEP's layout (and real ones captured from
 * libtorrent, Transmission and opentracker), with every parse error; then
 * the client state machine on a fake clock: connect then announce,
 * retries at 15 s, 30 s, 60 s ... and giving up after n = 8, connection id
 * reuse within a minute and refresh after it (also in the middle of
 * retries), error packets, stale ids, stray and wrong-transaction packets,
 * malformed answers, IPv6 replies. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/tracker_msg_internal.h"
#include "core/udp_client.h"
#include "util/util.h"

/* ------------------------------------------------------------- packets */

/* The classic info-hash 123456789abcdef123456789abcdef123456789a and a peer
 * id with NUL, space, '+' and high bytes. */
static const uint8_t IH[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                               0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
static const uint8_t PID[20] = {'-',  'R',  'L',  '0',  '0',  '1',  '0',  '-', 0x00, 0x01,
                                0x20, 0x2b, 0x7e, 0x2e, 0x5f, 0x2d, 0xff, 'A', 'a',  '9'};
static const uint8_t P4[12] = {1, 2, 3, 4, 0x1a, 0xe1, 10, 0, 0, 1, 0, 80};
static const uint8_t P6[36] = {0x20, 0x01, 0x0d, 0xb8,        [15] = 1, 0x1a,
                               0xe1, 0xfe, 0x80, [33] = 0x42, 0x00,     0x50};
#define PEERS_CAP 8
static struct rill_tracker_peer peer_store[PEERS_CAP];

/* Hex with optional spaces into bytes; returns the count. */
static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s == ' ')
            continue;
        assert_int_equal(rill_unhex(s, 2, out + n++, 1), 0);
        s++;
    }
    return n;
}

static void assert_peer(const struct rill_tracker_peer *p, int family, const char *addr,
                        uint16_t port)
{
    char text[46];
    assert_int_equal(p->family, family);
    rill_tracker_addr_format(family, p->addr, text);
    assert_string_equal(text, addr);
    assert_int_equal(p->port, port);
}

/* BEP 15 layouts, by hand: tid deadbeef, connection id 0102030405060708. */
#define CID_HEX "0102030405060708"
#define IH_HEX "123456789abcdef123456789abcdef123456789a"
#define PID_HEX "2d524c303031302d 0001202b7e2e5f2dff416139"
#define ANNOUNCE_HEX                                                                               \
    CID_HEX " 00000001 deadbeef " IH_HEX " " PID_HEX                                               \
            " 0000000000000010 0000000000100000 0000000000000030 00000002 00000000 cafebabe"       \
            " 00000032 1ae1"

static void test_udp_build(void **state)
{
    (void)state;
    uint8_t out[512], want[512];
    size_t n;
    assert_int_equal(rill_udp_connect_request(out, 0x12345678), 16);
    n = unhex("0000041727101980 00000000 12345678", want);
    assert_memory_equal(out, want, n);
    assert_int_equal(rill_udp_connect_response(out, 0xdeadbeef, 0x0102030405060708ull), 16);
    n = unhex("00000000 deadbeef " CID_HEX, want);
    assert_memory_equal(out, want, n);

    struct rill_tracker_announce a = {.port = 6881,
                                      .downloaded = 0x10,
                                      .left = 0x100000,
                                      .uploaded = 0x30,
                                      .event = RILL_TRACKER_EVENT_STARTED,
                                      .numwant = 50,
                                      .key = 0xcafebabe};
    memcpy(a.info_hash, IH, 20);
    memcpy(a.peer_id, PID, 20);
    assert_int_equal(rill_udp_announce_request(out, 0x0102030405060708ull, 0xdeadbeef, &a), 98);
    assert_int_equal(unhex(ANNOUNCE_HEX, want), 98);
    assert_memory_equal(out, want, 98);

    assert_int_equal(rill_udp_announce_response(out, sizeof out, 0xdeadbeef, 1800, 3, 5, 4, P4, 2),
                     32);
    n = unhex("00000001 deadbeef 00000708 00000003 00000005 010203041ae1 0a0000010050", want);
    assert_memory_equal(out, want, n);
    assert_int_equal(rill_udp_announce_response(out, sizeof out, 1, 60, 0, 1, 6, P6, 1), 38);
    n = unhex("00000001 00000001 0000003c 00000000 00000001"
              " 20010db8000000000000000000000001 1ae1",
              want);
    assert_memory_equal(out, want, n);
    assert_int_equal(rill_udp_announce_response(out, 31, 1, 60, 0, 1, 4, P4, 2), RILL_ELIMIT);
    assert_int_equal(rill_udp_announce_response(out, 512, 1, 60, 0, 1, 5, P4, 2), RILL_EINVAL);

    const uint8_t hashes[2][20] = {{0x12, 0x34}, {0xff}};
    assert_int_equal(rill_udp_scrape_request(out, sizeof out, 0x0102030405060708ull, 7, hashes, 2),
                     56);
    n = unhex(CID_HEX " 00000002 00000007 1234000000000000000000000000000000000000"
                      " ff00000000000000000000000000000000000000",
              want);
    assert_memory_equal(out, want, n);
    assert_int_equal(rill_udp_scrape_request(out, sizeof out, 1, 7, hashes, 0), RILL_EINVAL);
    assert_int_equal(rill_udp_scrape_request(out, 55, 1, 7, hashes, 2), RILL_ELIMIT);

    struct rill_tracker_scrape_entry se = {.complete = 5, .downloaded = 10, .incomplete = 3};
    assert_int_equal(rill_udp_scrape_response(out, sizeof out, 7, &se, 1), 20);
    n = unhex("00000002 00000007 00000005 0000000a 00000003", want);
    assert_memory_equal(out, want, n);
    assert_int_equal(rill_udp_error(out, sizeof out, 7, "no such torrent"), 23);
    n = unhex("00000003 00000007 6e6f207375636820746f7272656e74", want);
    assert_memory_equal(out, want, n);
    assert_int_equal(rill_udp_error(out, 10, 7, "no such torrent"), RILL_ELIMIT);
}

static int req(const char *hex, struct rill_udp_request *r, struct rill_error *e)
{
    static uint8_t p[2048];
    size_t n = unhex(hex, p);
    memset(e, 0, sizeof *e);
    return rill_udp_request_parse(p, n, r, e);
}

static void test_udp_request_parse(void **state)
{
    (void)state;
    struct rill_udp_request r;
    struct rill_error e;
    assert_int_equal(req("0000041727101980 00000000 12345678", &r, &e), 0);
    assert_int_equal(r.action, RILL_UDP_CONNECT);
    assert_int_equal(r.transaction_id, 0x12345678);

    assert_int_equal(req(ANNOUNCE_HEX, &r, &e), 0);
    assert_int_equal(r.action, RILL_UDP_ANNOUNCE);
    assert_true(r.connection_id == 0x0102030405060708ull);
    assert_int_equal(r.transaction_id, 0xdeadbeef);
    assert_memory_equal(r.query.info_hash, IH, 20);
    assert_memory_equal(r.query.peer_id, PID, 20);
    assert_int_equal(r.query.downloaded, 0x10);
    assert_int_equal(r.query.left, 0x100000);
    assert_int_equal(r.query.uploaded, 0x30);
    assert_int_equal(r.query.event, RILL_TRACKER_EVENT_STARTED);
    assert_false(r.query.has_ip4);
    assert_true(r.query.has_key);
    assert_int_equal(r.query.key, 0xcafebabe);
    assert_int_equal(r.query.numwant, 50);
    assert_int_equal(r.query.port, 6881);
    assert_true(r.query.compact);
    /* BEP 41 options after the 98 bytes are ignored. */
    assert_int_equal(req(ANNOUNCE_HEX " 0209 2f616e6e6f756e6365 01 00", &r, &e), 0);
    assert_int_equal(r.query.port, 6881);

    /* num_want -1: default; above the cap: the cap; an IP given. */
    char hex[400];
    snprintf(hex, sizeof hex, "%.*s 0a000001 cafebabe ffffffff 1ae1",
             (int)(strlen(ANNOUNCE_HEX) - strlen(" 00000000 cafebabe 00000032 1ae1")),
             ANNOUNCE_HEX);
    assert_int_equal(req(hex, &r, &e), 0);
    assert_int_equal(r.query.numwant, 50);
    assert_true(r.query.has_ip4);
    assert_int_equal(r.query.ip4[0], 10);
    memcpy(strstr(hex, "ffffffff"), "000003e8", 8);
    assert_int_equal(req(hex, &r, &e), 0);
    assert_int_equal(r.query.numwant, 200);

    assert_int_equal(req(CID_HEX " 00000002 00000009 " IH_HEX " " IH_HEX, &r, &e), 0);
    assert_int_equal(r.action, RILL_UDP_SCRAPE);
    assert_int_equal(r.hash_count, 2);
    assert_memory_equal(r.hashes + 20, IH, 20);
}

static void test_udp_request_errors(void **state)
{
    (void)state;
    struct rill_udp_request r;
    struct rill_error e;
    assert_int_equal(req("0000041727101980 00000000 123456", &r, &e), RILL_ETRUNCATED);
    assert_int_equal(req("0000041727101981 00000000 12345678", &r, &e), RILL_ESYNTAX);
    assert_string_equal(e.msg, "connect without the BEP 15 protocol id");
    assert_int_equal(req("0000041727101980 00000000 12345678 00", &r, &e), RILL_ETRAILING);
    assert_int_equal(r.transaction_id, 0x12345678); /* kept for the error reply */
    assert_int_equal(req(CID_HEX " 00000004 12345678", &r, &e), RILL_EUNSUPPORTED);
    assert_string_equal(e.msg, "unknown action 4");
    assert_int_equal(req(CID_HEX " 00000003 12345678", &r, &e), RILL_EUNSUPPORTED);
    char hex[400];
    snprintf(hex, sizeof hex, "%.*s", (int)strlen(ANNOUNCE_HEX) - 2, ANNOUNCE_HEX);
    assert_int_equal(req(hex, &r, &e), RILL_ETRUNCATED); /* 97 bytes */
    assert_string_equal(e.msg, "announce of 97 bytes, needs 98");
    snprintf(hex, sizeof hex, "%.*s0000", (int)strlen(ANNOUNCE_HEX) - 4, ANNOUNCE_HEX);
    assert_int_equal(req(hex, &r, &e), RILL_ESYNTAX);
    assert_string_equal(e.msg, "port 0 is not allowed");
    snprintf(hex, sizeof hex, "%s", ANNOUNCE_HEX);
    memcpy(strstr(hex, "00000002 00000000"), "00000004", 8);
    assert_int_equal(req(hex, &r, &e), RILL_ESYNTAX);
    assert_string_equal(e.msg, "unknown event 4");
    assert_int_equal(req(CID_HEX " 00000002 00000009", &r, &e), RILL_ETRUNCATED);
    assert_int_equal(req(CID_HEX " 00000002 00000009 " IH_HEX " 00", &r, &e), RILL_ETRAILING);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    rill_buf_appendf(&b, CID_HEX " 00000002 00000009");
    for (unsigned i = 0; i <= RILL_TRACKER_SCRAPE_MAX; i++)
        rill_buf_appendf(&b, " " IH_HEX);
    assert_int_equal(req((const char *)b.data, &r, &e), RILL_ELIMIT);
    rill_buf_free(&b);
}

static int resp(const char *hex, uint32_t tid, int family, struct rill_udp_response *r,
                struct rill_tracker_reply *reply, struct rill_error *e)
{
    static uint8_t p[2048];
    size_t n = unhex(hex, p);
    memset(e, 0, sizeof *e);
    if (reply) {
        memset(peer_store, 0, sizeof peer_store);
        reply->peers = peer_store;
        reply->peer_cap = PEERS_CAP;
    }
    return rill_udp_response_parse(p, n, tid, family, r, reply, e);
}

static void test_udp_response_parse(void **state)
{
    (void)state;
    struct rill_udp_response r;
    struct rill_tracker_reply rep;
    struct rill_error e;
    assert_int_equal(resp("00000000 deadbeef " CID_HEX, 0xdeadbeef, 4, &r, NULL, &e), 0);
    assert_int_equal(r.action, RILL_UDP_CONNECT);
    assert_true(r.connection_id == 0x0102030405060708ull);
    assert_int_equal(resp("00000001 deadbeef 00000708 00000003 00000005 010203041ae1 "
                          "0a0000010050",
                          0xdeadbeef, 4, &r, &rep, &e),
                     0);
    assert_int_equal(rep.interval, 1800);
    assert_int_equal(rep.incomplete, 3);
    assert_int_equal(rep.complete, 5);
    assert_int_equal(rep.peer_count, 2);
    assert_peer(&rep.peers[1], 4, "10.0.0.1", 80);
    assert_int_equal(resp("00000001 00000001 00000005 00000000 00000001"
                          " 20010db8000000000000000000000001 1ae1",
                          1, 6, &r, &rep, &e),
                     0);
    assert_int_equal(rep.interval, RILL_TRACKER_INTERVAL_MIN);
    assert_peer(&rep.peers[0], 6, "2001:db8::1", 6881);
    assert_int_equal(resp("00000002 00000007 00000005 0000000a 00000003", 7, 4, &r, NULL, &e), 0);
    assert_int_equal(r.scrape_count, 1);
    assert_int_equal(rill__be32(r.scrape + 4), 10);
    assert_int_equal(resp("00000003 00000007 6e6f207375636820746f7272656e74", 7, 4, &r, &rep, &e),
                     0);
    assert_int_equal(r.action, RILL_UDP_ERROR);
    assert_int_equal(r.message_len, 15);
    assert_string_equal(rep.failure, "no such torrent");
    assert_int_equal(resp("00000003 00000007", 7, 4, &r, &rep, &e), 0);
    assert_string_equal(rep.failure, "");
}

static void test_udp_response_errors(void **state)
{
    (void)state;
    struct rill_udp_response r;
    struct rill_tracker_reply rep;
    struct rill_error e;
    assert_int_equal(resp("00000000 deadbe", 0xdeadbeef, 4, &r, NULL, &e), RILL_ETRUNCATED);
    assert_int_equal(resp("00000000 deadbeee " CID_HEX, 0xdeadbeef, 4, &r, NULL, &e), RILL_ESYNTAX);
    assert_string_equal(e.msg, "transaction id deadbeee, expected deadbeef");
    assert_int_equal(resp("00000004 deadbeef " CID_HEX, 0xdeadbeef, 4, &r, NULL, &e),
                     RILL_EUNSUPPORTED);
    assert_int_equal(resp("00000000 deadbeef 01020304050607", 0xdeadbeef, 4, &r, NULL, &e),
                     RILL_ETRUNCATED);
    assert_int_equal(resp("00000000 deadbeef " CID_HEX "09", 0xdeadbeef, 4, &r, NULL, &e),
                     RILL_ETRAILING);
    assert_int_equal(resp("00000001 00000001 00000005 00000000 000000", 1, 4, &r, &rep, &e),
                     RILL_ETRUNCATED);
    /* A partial peer entry; the reply is not touched. */
    rep.interval = 12345;
    assert_int_equal(
        resp("00000001 00000001 00000005 00000000 00000001 010203041ae1 01", 1, 4, &r, &rep, &e),
        RILL_ETRAILING);
    assert_string_equal(e.msg, "announce reply ends inside a peer entry");
    assert_int_equal(e.offset, 26);
    assert_int_equal(rep.interval, 12345);
    assert_int_equal(
        resp("00000001 00000001 00000005 00000000 00000001 010203041ae1", 1, 6, &r, &rep, &e),
        RILL_ETRAILING);
    assert_int_equal(resp("00000002 00000007 00000005 0000000a 000000", 7, 4, &r, NULL, &e),
                     RILL_ETRAILING);
}

/* Packets captured from libtorrent 2.0.8 and Transmission 3.00 announcing,
 * and from Debian's opentracker answering. */
static void test_udp_real(void **state)
{
    (void)state;
    struct rill_udp_request q;
    struct rill_error e;
    /* libtorrent: num_want 200, BEP 41 URLData "/announce" (no end option). */
    assert_int_equal(req("112233445566778800000001cb859be399e36ece52105a9e3c0ead2702198447e668"
                         "0f412d4c54323038302d53534875506357684f767646000000000000000000000000"
                         "000493e0000000000000000000000002000000003ebf3cc3000000c841f102092f61"
                         "6e6e6f756e6365",
                         &q, &e),
                     0);
    assert_int_equal(q.query.event, RILL_TRACKER_EVENT_STARTED);
    assert_int_equal(q.query.left, 300000);
    assert_int_equal(q.query.numwant, 200);
    assert_int_equal(q.query.port, 16881);
    assert_memory_equal(q.query.peer_id, "-LT2080-SSHuPcWhOvvF", 20);
    /* Transmission: stopped, num_want 0. */
    assert_int_equal(req("11223344556677880000000117b3b9de1977f1b2b39b0ee61ad6865730717de2e2da"
                         "517c2d5452333030302d736578676b327a317a633863000000000000000000000000"
                         "000493e0000000000000000000000003000000003d0f37130000000041f4",
                         &q, &e),
                     0);
    assert_int_equal(q.query.event, RILL_TRACKER_EVENT_STOPPED);
    assert_int_equal(q.query.numwant, 0);
    assert_int_equal(q.query.port, 16884);

    struct rill_udp_response r;
    struct rill_tracker_reply rep;
    assert_int_equal(resp("00000000000012348e132def5aec6607", 0x1234, 4, &r, NULL, &e), 0);
    assert_true(r.connection_id == 0x8e132def5aec6607ull);
    assert_int_equal(resp("00000001000022220000072400000003000000027f0000011ae27f0000011ae37f00"
                          "00011ae47f0000011b597f0000011ae1",
                          0x2222, 4, &r, &rep, &e),
                     0);
    assert_int_equal(rep.peer_count, 5);
    assert_int_equal(rep.interval, 1828);
    assert_int_equal(rep.incomplete, 3);
    assert_int_equal(rep.complete, 2);
    assert_peer(&rep.peers[3], 4, "127.0.0.1", 7001);
    assert_int_equal(resp("0000000200003333000000020000000000000004000000000000000000000000",
                          0x3333, 4, &r, NULL, &e),
                     0);
    assert_int_equal(r.scrape_count, 2);
    /* A stale id; the text ends with a NUL, which is cut. */
    assert_int_equal(resp("0000000300005555436f6e6e656374696f6e204944206d6973736d617463682e00",
                          0x5555, 4, &r, &rep, &e),
                     0);
    assert_string_equal(rep.failure, "Connection ID missmatch.");
    /* A torrent it does not serve: an announce reply of 8 bytes. */
    assert_int_equal(resp("0000000100004444", 0x4444, 4, &r, &rep, &e), RILL_ETRUNCATED);
}

/* ---------------------------------------------------------- client machine */

#define S 1000ull /* ms per second */
#define CID 0x1122334455667788ull

struct fixture {
    struct rill_rng rng;
    struct rill_udp_client c;
    struct rill_tracker_announce a;
    struct rill_tracker_peer peers[4];
    struct rill_tracker_reply reply;
    uint8_t pkt[RILL_UDP_CLIENT_MAX_PACKET];
    size_t len;
};

static void setup(struct fixture *f, int family)
{
    memset(f, 0, sizeof *f);
    rill_rng_seed(&f->rng, 42);
    rill_udp_client_init(&f->c, &f->rng, family);
    memset(f->a.info_hash, 0xab, 20);
    memcpy(f->a.peer_id, "-RL0010-abcdefghijkl", 20);
    f->a.port = 6881;
    f->a.left = 1000;
    f->a.event = RILL_TRACKER_EVENT_STARTED;
    f->a.numwant = 50;
    f->a.key = 0x01020304;
    f->reply.peers = f->peers;
    f->reply.peer_cap = 4;
}

/* Polls and checks that a connect (16) or an announce (98) comes out. */
static uint32_t expect_send(struct fixture *f, uint64_t now, size_t len)
{
    f->len = rill_udp_client_poll_transmit(&f->c, now, f->pkt);
    assert_int_equal(f->len, len);
    assert_int_equal(rill_udp_client_poll_transmit(&f->c, now, f->pkt), 0); /* once */
    assert_int_equal(rill__be32(f->pkt + 8), len == 16 ? RILL_UDP_CONNECT : RILL_UDP_ANNOUNCE);
    return rill__be32(f->pkt + 12);
}

static enum rill_udp_client_event feed_connect(struct fixture *f, uint32_t tid, uint64_t now)
{
    uint8_t p[16];
    rill_udp_connect_response(p, tid, CID);
    return rill_udp_client_handle_packet(&f->c, p, sizeof p, now);
}

static enum rill_udp_client_event feed_announce(struct fixture *f, uint32_t tid, uint64_t now)
{
    static const uint8_t peers[12] = {1, 2, 3, 4, 0x1a, 0xe1, 5, 6, 7, 8, 0, 80};
    uint8_t p[64];
    int n = rill_udp_announce_response(p, sizeof p, tid, 1800, 4, 9, 4, peers, 2);
    return rill_udp_client_handle_packet(&f->c, p, (size_t)n, now);
}

static enum rill_udp_client_event feed_error(struct fixture *f, uint32_t tid, uint64_t now)
{
    uint8_t p[64];
    int n = rill_udp_error(p, sizeof p, tid, "Connection ID missmatch.");
    return rill_udp_client_handle_packet(&f->c, p, (size_t)n, now);
}

/* A whole round at time t: connect (unless reused) and announce. */
static void full_round(struct fixture *f, uint64_t t, bool expect_connect)
{
    rill_udp_client_start(&f->c, &f->a, &f->reply, t);
    if (expect_connect) {
        uint32_t tid = expect_send(f, t, 16);
        assert_int_equal(feed_connect(f, tid, t + 100), RILL_UDP_CLIENT_PROGRESS);
    }
    uint32_t tid = expect_send(f, t + 100, 98);
    assert_true(rill__be64(f->pkt) == CID);
    assert_int_equal(feed_announce(f, tid, t + 200), RILL_UDP_CLIENT_DONE);
}

static void test_connect_announce(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 4);
    assert_int_equal(rill_udp_client_next_timeout(&f.c, 0), UINT64_MAX);
    assert_int_equal(rill_udp_client_poll_transmit(&f.c, 0, f.pkt), 0);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 1000);
    assert_int_equal(rill_udp_client_next_timeout(&f.c, 1000), 1000); /* send now */
    uint32_t tid = expect_send(&f, 1000, 16);
    assert_true(rill__be64(f.pkt) == RILL_UDP_PROTOCOL_ID);
    assert_int_equal(rill_udp_client_next_timeout(&f.c, 1000), 1000 + 15 * S);
    /* Strays: wrong transaction id, an announce reply while connecting,
     * garbage: all ignored, the deadline unchanged. */
    assert_int_equal(feed_connect(&f, tid + 1, 1100), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(feed_announce(&f, tid, 1100), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(rill_udp_client_handle_packet(&f.c, f.pkt, 3, 1100), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(rill_udp_client_next_timeout(&f.c, 1100), 1000 + 15 * S);
    assert_int_equal(feed_connect(&f, tid, 1200), RILL_UDP_CLIENT_PROGRESS);
    uint32_t tid2 = expect_send(&f, 1200, 98);
    assert_int_not_equal(tid2, tid); /* a new transaction */
    assert_true(rill__be64(f.pkt) == CID);
    assert_memory_equal(f.pkt + 16, f.a.info_hash, 20);
    assert_int_equal(rill__be32(f.pkt + 80), RILL_TRACKER_EVENT_STARTED);
    assert_int_equal(f.pkt[96] << 8 | f.pkt[97], 6881);
    /* A second connect reply, or the old transaction, is not the answer. */
    assert_int_equal(feed_connect(&f, tid2, 1300), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(feed_announce(&f, tid, 1300), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(feed_announce(&f, tid2, 1400), RILL_UDP_CLIENT_DONE);
    assert_int_equal(f.reply.peer_count, 2);
    assert_int_equal(f.reply.peers[1].port, 80);
    assert_int_equal(f.reply.interval, 1800);
    assert_int_equal(f.reply.complete, 9);
    assert_int_equal(f.reply.incomplete, 4);
    assert_int_equal(f.c.state, RILL_UDP_CLIENT_IDLE);
    assert_int_equal(rill_udp_client_next_timeout(&f.c, 2000), UINT64_MAX);
    /* Idle: packets and the clock do nothing. */
    assert_int_equal(feed_announce(&f, tid2, 1500), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(rill_udp_client_handle_timeout(&f.c, 1000000 * S), RILL_UDP_CLIENT_NOTHING);
}

static void test_retry_schedule_and_give_up(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 4);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 0);
    uint64_t t = 0;
    uint32_t tid = expect_send(&f, t, 16);
    /* Sends at 0, 15, 45, 105, 225, 465, 945, 1905, 3825 s; the last waits
     * 15 * 2^8 = 3840 s, so the round fails at 7665 s. */
    for (unsigned n = 0; n <= 8; n++) {
        uint64_t due = t + (15 * S << n);
        assert_int_equal(rill_udp_client_next_timeout(&f.c, t), due);
        assert_int_equal(rill_udp_client_handle_timeout(&f.c, due - 1), RILL_UDP_CLIENT_NOTHING);
        t = due;
        if (n == 8)
            break;
        assert_int_equal(rill_udp_client_handle_timeout(&f.c, t), RILL_UDP_CLIENT_PROGRESS);
        assert_int_equal(rill_udp_client_next_timeout(&f.c, t), t);
        /* A timeout before the retry is sent changes nothing. */
        assert_int_equal(rill_udp_client_handle_timeout(&f.c, t + 1), RILL_UDP_CLIENT_NOTHING);
        assert_int_equal(expect_send(&f, t, 16), tid); /* same transaction */
    }
    assert_int_equal(t, 7665 * S);
    assert_int_equal(rill_udp_client_handle_timeout(&f.c, t), RILL_UDP_CLIENT_TIMEOUT);
    assert_string_equal(f.reply.failure, "no answer from the UDP tracker");
    assert_int_equal(f.c.state, RILL_UDP_CLIENT_IDLE);
    assert_int_equal(rill_udp_client_next_timeout(&f.c, t), UINT64_MAX);
    /* A late answer after giving up is ignored. */
    assert_int_equal(feed_connect(&f, tid, t + 1), RILL_UDP_CLIENT_NOTHING);
    /* A late answer to an earlier copy, before giving up, counts. */
    setup(&f, 4);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 0);
    tid = expect_send(&f, 0, 16);
    assert_int_equal(rill_udp_client_handle_timeout(&f.c, 15 * S), RILL_UDP_CLIENT_PROGRESS);
    expect_send(&f, 15 * S, 16);
    assert_int_equal(feed_connect(&f, tid, 16 * S), RILL_UDP_CLIENT_PROGRESS);
    /* The announce starts its own count: 15 s again. */
    expect_send(&f, 16 * S, 98);
    assert_int_equal(rill_udp_client_next_timeout(&f.c, 16 * S), 31 * S);
}

static void test_connection_reuse(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 4);
    full_round(&f, 0, true); /* id received at 0.1 s: good until 60.1 s */
    f.a.event = RILL_TRACKER_EVENT_NONE;
    full_round(&f, 30 * S, false);
    assert_int_equal(rill__be32(f.pkt + 80), RILL_TRACKER_EVENT_NONE);
    full_round(&f, 60 * S - 101, false); /* announce sent at 59.999 s */
    full_round(&f, 60 * S + 100, true);  /* expired: a fresh id, received at 60.2 s */
    full_round(&f, 120 * S + 99, false);
    full_round(&f, 120 * S + 200, true);
}

/* The id expires while an announce is being retried: the next retry
 * connects first. */
static void test_expiry_during_retries(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 4);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 0);
    uint32_t tid = expect_send(&f, 0, 16);
    assert_int_equal(feed_connect(&f, tid, 0), RILL_UDP_CLIENT_PROGRESS);
    tid = expect_send(&f, 0, 98);
    assert_int_equal(rill_udp_client_handle_timeout(&f.c, 15 * S), RILL_UDP_CLIENT_PROGRESS);
    assert_int_equal(expect_send(&f, 15 * S, 98), tid);
    assert_int_equal(rill_udp_client_handle_timeout(&f.c, 45 * S), RILL_UDP_CLIENT_PROGRESS);
    assert_int_equal(expect_send(&f, 45 * S, 98), tid);
    assert_int_equal(rill_udp_client_handle_timeout(&f.c, 105 * S), RILL_UDP_CLIENT_PROGRESS);
    uint32_t ctid = expect_send(&f, 105 * S, 16); /* expired at 60 s */
    assert_int_not_equal(ctid, tid);
    assert_int_equal(rill_udp_client_next_timeout(&f.c, 105 * S), (105 + 120) * S);
    /* The announce's answer, arriving late now, is no longer awaited. */
    assert_int_equal(feed_announce(&f, tid, 106 * S), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(feed_connect(&f, ctid, 107 * S), RILL_UDP_CLIENT_PROGRESS);
    tid = expect_send(&f, 107 * S, 98);
    assert_int_equal(feed_announce(&f, tid, 108 * S), RILL_UDP_CLIENT_DONE);
}

static void test_error_packets(void **state)
{
    (void)state;
    struct fixture f;
    /* An error to a connect ends the round with the tracker's text. */
    setup(&f, 4);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 0);
    uint32_t tid = expect_send(&f, 0, 16);
    assert_int_equal(feed_error(&f, tid + 1, 1), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(feed_error(&f, tid, 1), RILL_UDP_CLIENT_FAILED);
    assert_string_equal(f.reply.failure, "Connection ID missmatch.");
    assert_int_equal(f.c.state, RILL_UDP_CLIENT_IDLE);

    /* An error to an announce with a fresh id is final too. */
    setup(&f, 4);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 0);
    tid = expect_send(&f, 0, 16);
    feed_connect(&f, tid, 0);
    tid = expect_send(&f, 0, 98);
    assert_int_equal(feed_error(&f, tid, 1), RILL_UDP_CLIENT_FAILED);
    assert_false(f.c.have_conn);
    /* The next round connects again. */
    full_round(&f, 10 * S, true);

    /* With a reused id, an error means the id went stale: connect again,
     * then announce; a second error, with the new id, is final. */
    rill_udp_client_start(&f.c, &f.a, &f.reply, 20 * S);
    tid = expect_send(&f, 20 * S, 98);
    assert_int_equal(feed_error(&f, tid, 20 * S), RILL_UDP_CLIENT_PROGRESS);
    tid = expect_send(&f, 20 * S, 16);
    assert_int_equal(feed_connect(&f, tid, 21 * S), RILL_UDP_CLIENT_PROGRESS);
    tid = expect_send(&f, 21 * S, 98);
    assert_int_equal(feed_error(&f, tid, 22 * S), RILL_UDP_CLIENT_FAILED);
    assert_string_equal(f.reply.failure, "Connection ID missmatch.");
}

static void test_restart_and_ipv6(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, 6);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 0);
    uint32_t old = expect_send(&f, 0, 16);
    /* A new start abandons the round: the old transaction is not awaited. */
    f.a.event = RILL_TRACKER_EVENT_STOPPED;
    rill_udp_client_start(&f.c, &f.a, &f.reply, 5 * S);
    uint32_t tid = expect_send(&f, 5 * S, 16);
    assert_int_not_equal(tid, old);
    assert_int_equal(feed_connect(&f, old, 5 * S), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(feed_connect(&f, tid, 5 * S), RILL_UDP_CLIENT_PROGRESS);
    tid = expect_send(&f, 5 * S, 98);
    assert_int_equal(rill__be32(f.pkt + 80), RILL_TRACKER_EVENT_STOPPED);
    static const uint8_t peer6[18] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7, 0x1a, 0xe1};
    uint8_t p[64];
    int n = rill_udp_announce_response(p, sizeof p, tid, 900, 0, 1, 6, peer6, 1);
    assert_int_equal(rill_udp_client_handle_packet(&f.c, p, (size_t)n, 6 * S),
                     RILL_UDP_CLIENT_DONE);
    assert_int_equal(f.reply.peer_count, 1);
    assert_int_equal(f.reply.peers[0].family, 6);
    assert_memory_equal(f.reply.peers[0].addr, peer6, 16);
    assert_int_equal(f.reply.interval, 900);
}

/* A packet with our transaction id that does not parse is an answer: the
 * round fails at once instead of retrying for two hours. */
static void test_malformed_answer(void **state)
{
    (void)state;
    struct fixture f;
    /* On an IPv6 socket, 6-byte entries do not parse. */
    setup(&f, 6);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 0);
    uint32_t tid = expect_send(&f, 0, 16);
    feed_connect(&f, tid, 0);
    tid = expect_send(&f, 0, 98);
    assert_int_equal(feed_announce(&f, tid + 1, S), RILL_UDP_CLIENT_NOTHING);
    assert_int_equal(feed_announce(&f, tid, S), RILL_UDP_CLIENT_FAILED);
    assert_string_equal(f.reply.failure,
                        "bad reply from the tracker: announce reply ends inside a peer entry");
    /* opentracker's answer for a torrent it does not serve: 8 bytes. */
    setup(&f, 4);
    rill_udp_client_start(&f.c, &f.a, &f.reply, 0);
    tid = expect_send(&f, 0, 16);
    feed_connect(&f, tid, 0);
    tid = expect_send(&f, 0, 98);
    uint8_t p[8];
    rill__put_be32(p, RILL_UDP_ANNOUNCE);
    rill__put_be32(p + 4, tid);
    assert_int_equal(rill_udp_client_handle_packet(&f.c, p, 8, S), RILL_UDP_CLIENT_FAILED);
    assert_string_equal(f.reply.failure, "bad reply from the tracker: announce reply of 8 bytes");
    assert_int_equal(rill_udp_client_next_timeout(&f.c, S), UINT64_MAX);
    /* An unknown action with our id, during a connect. */
    rill_udp_client_start(&f.c, &f.a, &f.reply, 2 * S);
    tid = expect_send(&f, 2 * S, 16);
    rill__put_be32(p, 9);
    rill__put_be32(p + 4, tid);
    assert_int_equal(rill_udp_client_handle_packet(&f.c, p, 8, S), RILL_UDP_CLIENT_FAILED);
    assert_string_equal(f.reply.failure, "bad reply from the tracker: unknown action 9");
}

/* Same seed, same transaction ids: the machine replays. */
static void test_deterministic(void **state)
{
    (void)state;
    struct fixture a, b;
    setup(&a, 4);
    setup(&b, 4);
    rill_udp_client_start(&a.c, &a.a, &a.reply, 0);
    rill_udp_client_start(&b.c, &b.a, &b.reply, 0);
    assert_int_equal(expect_send(&a, 0, 16), expect_send(&b, 0, 16));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_build),
        cmocka_unit_test(test_udp_request_parse),
        cmocka_unit_test(test_udp_request_errors),
        cmocka_unit_test(test_udp_response_parse),
        cmocka_unit_test(test_udp_response_errors),
        cmocka_unit_test(test_udp_real),
        cmocka_unit_test(test_connect_announce),
        cmocka_unit_test(test_retry_schedule_and_give_up),
        cmocka_unit_test(test_connection_reuse),
        cmocka_unit_test(test_expiry_during_retries),
        cmocka_unit_test(test_error_packets),
        cmocka_unit_test(test_restart_and_ipv6),
        cmocka_unit_test(test_malformed_answer),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
