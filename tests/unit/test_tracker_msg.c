/* HTTP tracker messages: address text, the announce URL (exact string),
 * reply parsing (compact, dictionaries, peers6, failure, missing fields,
 * caps, real opentracker replies), the server's query parsers with every
 * error (and real client queries), reply builders byte for byte, and server
 * build -> client parse round trips. BEP 15 packets are tested with the UDP
 * client, in test_udp_client.c. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tracker_msg.h"
#include "util/util.h"

/* The classic info-hash 123456789abcdef123456789abcdef123456789a, and a
 * peer id with NUL, space, '+' and high bytes; escapes checked with
 * Python's urllib.parse.quote(b, safe='-._~'). */
static const uint8_t IH[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                               0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
static const uint8_t PID[20] = {'-',  'R',  'L',  '0',  '0',  '1',  '0',  '-', 0x00, 0x01,
                                0x20, 0x2b, 0x7e, 0x2e, 0x5f, 0x2d, 0xff, 'A', 'a',  '9'};
#define IH_ENC "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A"
#define PID_ENC "-RL0010-%00%01%20%2B~._-%FFAa9"
#define BASE "/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC "&port=6881"

/* ------------------------------------------------------------- addresses */

static void test_addr(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int family;
        const char *out; /* canonical text */
    } cases[] = {
        {"1.2.3.4", 4, "1.2.3.4"},
        {"255.255.255.255", 4, "255.255.255.255"},
        {"0.0.0.0", 4, "0.0.0.0"},
        {"::", 6, "::"},
        {"::1", 6, "::1"},
        {"2001:DB8:0:0:0:0:0:1", 6, "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", 6, "2001:db8::1:0:0:1"},
        {"2001:0db8:0000:0001:0001:0001:0001:0001", 6, "2001:db8:0:1:1:1:1:1"},
        {"fe80::", 6, "fe80::"},
        {"1:2:3:4:5:6:7:8", 6, "1:2:3:4:5:6:7:8"},
        {"::ffff:1.2.3.4", 4, "1.2.3.4"},
        {"64:ff9b::192.0.2.33", 6, "64:ff9b::c000:221"},
        {"1:2:3:4:5:6:1.2.3.4", 6, "1:2:3:4:5:6:102:304"},
    };
    for (size_t i = 0; i < RILL_ARRAY_LEN(cases); i++) {
        uint8_t a[16];
        char text[46];
        int fam = rill_tracker_addr_parse(cases[i].in, strlen(cases[i].in), a);
        assert_int_equal(fam, cases[i].family);
        rill_tracker_addr_format(fam, a, text);
        assert_string_equal(text, cases[i].out);
    }
    static const char *const bad[] = {
        "",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "01.2.3.4",
        "1.2.3.4 ",
        "1..2.3",
        "a.b.c.d",
        ":",
        ":::",
        "1:::2",
        "1::2::3",
        ":1:2",
        "1:2:",
        "12345::",
        "1:2:3:4:5:6:7:8:9",
        "1::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7",
        "::1.2.3",
        "fe80::1%eth0",
        "::g",
        "host.example",
        "1:2:3:4:5:6:7:1.2.3.4",
    };
    for (size_t i = 0; i < RILL_ARRAY_LEN(bad); i++) {
        uint8_t a[16];
        assert_int_equal(rill_tracker_addr_parse(bad[i], strlen(bad[i]), a), 0);
    }
    uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, [12] = 9, [13] = 8, [14] = 7, [15] = 6};
    char text[46];
    rill_tracker_addr_format(6, mapped, text);
    assert_string_equal(text, "::ffff:9.8.7.6");
}

/* ---------------------------------------------------------- announce URL */

static struct rill_tracker_announce sample_announce(void)
{
    struct rill_tracker_announce a = {0};
    memcpy(a.info_hash, IH, 20);
    memcpy(a.peer_id, PID, 20);
    a.port = 6881;
    a.left = 1048576;
    a.uploaded = 12345678901234ull;
    a.event = RILL_TRACKER_EVENT_STARTED;
    a.numwant = RILL_TRACKER_NUMWANT_DEFAULT;
    a.key = 0xBEEF;
    return a;
}

static void check_url(const char *announce, const struct rill_tracker_announce *a, const char *want)
{
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_tracker_announce_url(&b, announce, a), 0);
    assert_string_equal((const char *)b.data, want);
    rill_buf_free(&b);
}

static void test_announce_url(void **state)
{
    (void)state;
    struct rill_tracker_announce a = sample_announce();
    const char *tail = "info_hash=" IH_ENC "&peer_id=" PID_ENC
                       "&port=6881&uploaded=12345678901234&downloaded=0&left=1048576"
                       "&event=started&numwant=50&key=0000BEEF&compact=1&no_peer_id=1";
    char want[512];
    snprintf(want, sizeof want, "http://t.example:6969/announce?%s", tail);
    check_url("http://t.example:6969/announce", &a, want);
    snprintf(want, sizeof want, "http://t.example/a?passkey=x%%2Fy&%s", tail);
    check_url("http://t.example/a?passkey=x%2Fy", &a, want);
    snprintf(want, sizeof want, "http://t.example/a?%s", tail);
    check_url("http://t.example/a?", &a, want);
    snprintf(want, sizeof want, "http://t.example/a?k=1&%s", tail);
    check_url("http://t.example/a?k=1&", &a, want);

    /* No event line for a regular announce; ipv6 and trackerid escaped. */
    a.event = RILL_TRACKER_EVENT_NONE;
    a.numwant = 0;
    a.key = 0xDEADBEEF;
    a.ipv6 = "2001:db8::1";
    a.tracker_id = (const uint8_t *)"id 1";
    a.tracker_id_len = 4;
    check_url("https://t/ann", &a,
              "https://t/ann?info_hash=" IH_ENC "&peer_id=" PID_ENC
              "&port=6881&uploaded=12345678901234&downloaded=0&left=1048576"
              "&numwant=0&key=DEADBEEF&compact=1&no_peer_id=1&ipv6=2001%3Adb8%3A%3A1"
              "&trackerid=id%201");
    a.event = RILL_TRACKER_EVENT_STOPPED;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_tracker_announce_url(&b, "http://t/a", &a), 0);
    assert_non_null(strstr((const char *)b.data, "&event=stopped&"));
    rill_buf_free(&b);
    a.event = (enum rill_tracker_event)7;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_tracker_announce_url(&b, "http://t/a", &a), RILL_EINVAL);
    rill_buf_free(&b);
    /* A buffer cap is reported. */
    a.event = RILL_TRACKER_EVENT_NONE;
    rill_buf_init(&b, 40);
    assert_int_equal(rill_tracker_announce_url(&b, "http://t/a", &a), RILL_ENOMEM);
    rill_buf_free(&b);
}

/* ---------------------------------------------------------- reply parser */

#define PEERS_CAP 8
static struct rill_tracker_peer peer_store[PEERS_CAP];

static int parse_reply(const char *p, size_t n, struct rill_tracker_reply *r, size_t cap,
                       struct rill_error *e)
{
    memset(r, 0x5a, sizeof *r); /* everything but the array must be overwritten */
    memset(peer_store, 0, sizeof peer_store);
    r->peers = peer_store;
    r->peer_cap = cap;
    memset(e, 0, sizeof *e);
    return rill_tracker_response_parse((const uint8_t *)p, n, r, e);
}
#define PARSE(lit, r, cap, e) parse_reply(lit, sizeof(lit) - 1, r, cap, e)

static void assert_peer(const struct rill_tracker_peer *p, int family, const char *addr,
                        uint16_t port)
{
    char text[46];
    assert_int_equal(p->family, family);
    rill_tracker_addr_format(family, p->addr, text);
    assert_string_equal(text, addr);
    assert_int_equal(p->port, port);
    if (family == 4) {
        static const uint8_t zero[12];
        assert_memory_equal(p->addr + 4, zero, 12);
    }
}

static void test_reply_compact(void **state)
{
    (void)state;
    struct rill_tracker_reply r;
    struct rill_error e;
    assert_int_equal(PARSE("d8:completei5e10:incompletei3e8:intervali1800e"
                           "12:min intervali900e5:peers12:\x01\x02\x03\x04\x1a\xe1"
                           "\x0a\x00\x00\x01\x00\x50"
                           "6:peers618:\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x1a\xe1"
                           "10:tracker id3:abc15:warning message4:slowe",
                           &r, PEERS_CAP, &e),
                     0);
    assert_int_equal(r.peer_count, 3);
    assert_peer(&r.peers[0], 4, "1.2.3.4", 6881);
    assert_peer(&r.peers[1], 4, "10.0.0.1", 80);
    assert_peer(&r.peers[2], 6, "2001:db8::1", 6881);
    assert_int_equal(r.peers_dropped, 0);
    assert_int_equal(r.peers_invalid, 0);
    assert_int_equal(r.interval, 1800);
    assert_int_equal(r.min_interval, 900);
    assert_int_equal(r.complete, 5);
    assert_int_equal(r.incomplete, 3);
    assert_string_equal(r.warning, "slow");
    assert_string_equal(r.failure, "");
    assert_int_equal(r.tracker_id_len, 3);
    assert_memory_equal(r.tracker_id, "abc", 3);
}

static void test_reply_dict_peers(void **state)
{
    (void)state;
    struct rill_tracker_reply r;
    struct rill_error e;
    assert_int_equal(PARSE("d8:intervali60e5:peersl"
                           "d2:ip7:1.2.3.47:peer id20:-XX0000-abcdefghijkl4:porti6881ee"
                           "d2:ip11:2001:db8::14:porti80ee"
                           "d2:ip9:host.name4:porti1ee"       /* a name: skipped */
                           "d2:ip7:1.2.3.44:porti0ee"         /* port 0 */
                           "d2:ip7:1.2.3.44:porti65536ee"     /* port too big */
                           "d2:ip7:1.2.3.4e"                  /* no port */
                           "d2:ip14:::ffff:5.6.7.84:porti7ee" /* mapped: IPv4 */
                           "d2:ip7:0.0.0.04:porti7ee"         /* unspecified */
                           "i5e"                              /* not a dictionary */
                           "ee",
                           &r, PEERS_CAP, &e),
                     0);
    assert_int_equal(r.peer_count, 3);
    assert_peer(&r.peers[0], 4, "1.2.3.4", 6881);
    assert_peer(&r.peers[1], 6, "2001:db8::1", 80);
    assert_peer(&r.peers[2], 4, "5.6.7.8", 7);
    assert_int_equal(r.peers_invalid, 6);
    assert_int_equal(r.complete, -1);
    assert_int_equal(r.incomplete, -1);
    assert_int_equal(r.min_interval, 0);
    assert_int_equal(r.tracker_id_len, 0);
}

static void test_reply_failure(void **state)
{
    (void)state;
    struct rill_tracker_reply r;
    struct rill_error e;
    assert_int_equal(
        PARSE("d14:failure reason19:torrent not\nallowed8:intervali60ee", &r, PEERS_CAP, &e),
        RILL_TRACKER_FAILED);
    assert_string_equal(r.failure, "torrent not?allowed");
    assert_int_equal(r.peer_count, 0);
    assert_int_equal(PARSE("d14:failure reasoni3ee", &r, PEERS_CAP, &e), RILL_TRACKER_FAILED);
    assert_string_equal(r.failure, "(no text)");
    /* A long text is cut to fit. */
    char big[600];
    int n = snprintf(big, sizeof big, "d14:failure reason400:");
    memset(big + n, 'x', 400);
    memcpy(big + n + 400, "e", 1);
    assert_int_equal(parse_reply(big, (size_t)n + 401, &r, PEERS_CAP, &e), RILL_TRACKER_FAILED);
    assert_int_equal(strlen(r.failure), RILL_TRACKER_TEXT_MAX - 1);
}

static void test_reply_errors(void **state)
{
    (void)state;
    struct rill_tracker_reply r;
    struct rill_error e;
    assert_int_equal(PARSE("d8:intervali1800ee", &r, PEERS_CAP, &e), RILL_ESYNTAX);
    assert_string_equal(e.msg, "tracker reply has no peers");
    assert_int_equal(r.peer_count, 0);
    assert_int_equal(r.interval, RILL_TRACKER_INTERVAL_DEFAULT);
    assert_ptr_equal(r.peers, peer_store);
    assert_int_equal(PARSE("d5:peersi1ee", &r, PEERS_CAP, &e), RILL_ESYNTAX);
    assert_int_equal(e.offset, 8);
    assert_int_equal(PARSE("d5:peersd1:ai1eee", &r, PEERS_CAP, &e), RILL_ESYNTAX);
    assert_int_equal(PARSE("le", &r, PEERS_CAP, &e), RILL_ESYNTAX);
    assert_string_equal(e.msg, "tracker reply is not a dictionary");
    assert_int_equal(PARSE("", &r, PEERS_CAP, &e), RILL_ETRUNCATED);
    assert_int_equal(PARSE("<html>", &r, PEERS_CAP, &e), RILL_ESYNTAX);
    assert_int_equal(PARSE("d5:peers0:e trailing", &r, PEERS_CAP, &e), RILL_ETRAILING);
    /* The decoder is strict: unsorted keys are refused. */
    assert_int_equal(PARSE("d8:intervali60e5:peers0:8:completei1ee", &r, PEERS_CAP, &e),
                     RILL_EKEYORDER);
}

static void test_reply_fields(void **state)
{
    (void)state;
    struct rill_tracker_reply r;
    struct rill_error e;
    /* Only peers6: fine. No interval: the default. Wrong types: absent. */
    assert_int_equal(PARSE("d8:complete1:x6:peers60:e", &r, PEERS_CAP, &e), 0);
    assert_int_equal(r.interval, RILL_TRACKER_INTERVAL_DEFAULT);
    assert_int_equal(r.complete, -1);
    assert_int_equal(r.peer_count, 0);
    /* Clamps. */
    assert_int_equal(PARSE("d8:intervali5e12:min intervali-5e5:peers0:e", &r, 8, &e), 0);
    assert_int_equal(r.interval, RILL_TRACKER_INTERVAL_MIN);
    assert_int_equal(r.min_interval, 0);
    assert_int_equal(PARSE("d8:intervali999999e12:min intervali99999999e5:peers0:e", &r, 8, &e), 0);
    assert_int_equal(r.interval, RILL_TRACKER_INTERVAL_MAX);
    assert_int_equal(r.min_interval, RILL_TRACKER_INTERVAL_MAX);
    assert_int_equal(PARSE("d8:intervali-1e5:peers0:e", &r, 8, &e), 0);
    assert_int_equal(r.interval, RILL_TRACKER_INTERVAL_MIN);
    assert_int_equal(PARSE("d8:completei-4e5:peers0:e", &r, 8, &e), 0);
    assert_int_equal(r.complete, -1);
    /* A tracker id too long to echo whole is ignored. */
    char big[400];
    int n = snprintf(big, sizeof big, "d5:peers0:10:tracker id129:");
    memset(big + n, 'i', 129);
    memcpy(big + n + 129, "e", 1);
    assert_int_equal(parse_reply(big, (size_t)n + 130, &r, 8, &e), 0);
    assert_int_equal(r.tracker_id_len, 0);
}

static void test_reply_caps(void **state)
{
    (void)state;
    struct rill_tracker_reply r;
    struct rill_error e;
    /* Five peers, room for two; a partial sixth entry; one with port 0. */
    assert_int_equal(PARSE("d5:peers35:\x01\x01\x01\x01\x00\x01\x02\x02\x02\x02\x00\x02"
                           "\x03\x03\x03\x03\x00\x00\x04\x04\x04\x04\x00\x04"
                           "\x05\x05\x05\x05\x00\x05\x06\x06\x06\x06\x00"
                           "6:peers636:\0\0\0\0\0\0\0\0\0\0\xff\xff\x07\x07\x07\x07\x00\x07"
                           "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x00\x08"
                           "e",
                           &r, 2, &e),
                     0);
    assert_int_equal(r.peer_count, 2);
    assert_peer(&r.peers[0], 4, "1.1.1.1", 1);
    assert_peer(&r.peers[1], 4, "2.2.2.2", 2);
    assert_int_equal(r.peers_dropped, 3); /* 4.4.4.4, 5.5.5.5 and mapped 7.7.7.7 */
    assert_int_equal(r.peers_invalid, 3); /* port 0, partial, unspecified :: */
    /* No array at all: everything is dropped, nothing written. */
    r.peers = NULL;
    r.peer_cap = 5;
    assert_int_equal(
        rill_tracker_response_parse((const uint8_t *)"d5:peers6:\x01\x01\x01\x01\x00\x01"
                                                     "e",
                                    17, &r, &e),
        0);
    assert_int_equal(r.peer_count, 0);
    assert_int_equal(r.peers_dropped, 1);
}

/* Replies captured from Debian's opentracker. */
static void test_reply_opentracker(void **state)
{
    (void)state;
    struct rill_tracker_reply r;
    struct rill_error e;
    assert_int_equal(PARSE("d8:completei1e10:downloadedi0e10:incompletei3e8:intervali1763e"
                           "12:min intervali881e5:peers24:\x7f\0\0\x01\x1a\xe2"
                           "\x7f\0\0\x01\x1a\xe3\x7f\0\0\x01\x1a\xe4\x7f\0\0\x01\x1a\xe1"
                           "e",
                           &r, PEERS_CAP, &e),
                     0);
    assert_int_equal(r.peer_count, 4);
    assert_peer(&r.peers[3], 4, "127.0.0.1", 6881);
    assert_int_equal(r.interval, 1763);
    assert_int_equal(r.min_interval, 881);
    assert_int_equal(r.complete, 1);
    assert_int_equal(r.incomplete, 3);
    assert_int_equal(PARSE("d14:failure reason63:Requested download is not authorized for use "
                           "with this tracker.e",
                           &r, PEERS_CAP, &e),
                     RILL_TRACKER_FAILED);
    assert_string_equal(r.failure,
                        "Requested download is not authorized for use with this tracker.");
    /* Asked for dictionaries, it answers with HTML. */
    assert_int_equal(PARSE("<title>Invalid Request</title>", &r, PEERS_CAP, &e), RILL_ESYNTAX);
}

/* ---------------------------------------------------- server: announce query */

static int qparse(const char *target, struct rill_tracker_query *q, struct rill_error *e)
{
    memset(e, 0, sizeof *e);
    return rill_tracker_query_parse(target, strlen(target), q, e);
}

static void test_query_full(void **state)
{
    (void)state;
    struct rill_tracker_query q;
    struct rill_error e;
    assert_int_equal(qparse(BASE "&uploaded=1&downloaded=2&left=18446744073709551615"
                                 "&event=completed&numwant=500&compact=0&no_peer_id=1"
                                 "&key=0000beef&ip=host.example&ip=10.0.0.1&ip=10.0.0.2"
                                 "&ipv6=%5B2001%3Adb8%3A%3A1%5D%3A6881&ipv6=2001:db8::2"
                                 "&trackerid=a%20b&supportcrypto=1&&corrupt=0&x",
                            &q, &e),
                     0);
    assert_memory_equal(q.info_hash, IH, 20);
    assert_memory_equal(q.peer_id, PID, 20);
    assert_int_equal(q.port, 6881);
    assert_int_equal(q.uploaded, 1);
    assert_int_equal(q.downloaded, 2);
    assert_true(q.left == UINT64_MAX);
    assert_int_equal(q.event, RILL_TRACKER_EVENT_COMPLETED);
    assert_int_equal(q.numwant, RILL_TRACKER_NUMWANT_MAX);
    assert_false(q.compact);
    assert_true(q.no_peer_id);
    assert_true(q.has_key);
    assert_int_equal(q.key, 0xbeef);
    assert_true(q.has_ip4);
    static const uint8_t ip4[4] = {10, 0, 0, 1};
    assert_memory_equal(q.ip4, ip4, 4);
    assert_true(q.has_ip6);
    uint8_t ip6[16];
    assert_int_equal(rill_tracker_addr_parse("2001:db8::1", 11, ip6), 6);
    assert_memory_equal(q.ip6, ip6, 16);
    assert_int_equal(q.trackerid_len, 3);
    assert_memory_equal(q.trackerid, "a b", 3);
}

static void test_query_defaults(void **state)
{
    (void)state;
    struct rill_tracker_query q;
    struct rill_error e;
    assert_int_equal(qparse(BASE, &q, &e), 0);
    assert_int_equal(q.numwant, RILL_TRACKER_NUMWANT_DEFAULT);
    assert_true(q.compact);
    assert_false(q.no_peer_id);
    assert_false(q.has_key);
    assert_false(q.has_ip4);
    assert_false(q.has_ip6);
    assert_int_equal(q.event, RILL_TRACKER_EVENT_NONE);
    assert_int_equal(q.left, 0);
    /* Parameter order does not matter; '+' is a space. */
    assert_int_equal(qparse("/announce?port=1&peer_id=-RL0010-%00%01+%2B~._-%FFAa9"
                            "&info_hash=" IH_ENC "&numwant=-1&event=&no_peer_id",
                            &q, &e),
                     0);
    assert_memory_equal(q.peer_id, PID, 20);
    assert_int_equal(q.numwant, RILL_TRACKER_NUMWANT_DEFAULT);
    assert_true(q.no_peer_id);
    static const struct {
        const char *extra;
        uint32_t numwant;
        int event;
    } v[] = {
        {"&numwant=0", 0, 0},
        {"&numwant=200", 200, 0},
        {"&numwant=201", 200, 0},
        {"&numwant=99999999999999999999999999", 200, 0},
        {"&event=started", 50, RILL_TRACKER_EVENT_STARTED},
        {"&event=stopped", 50, RILL_TRACKER_EVENT_STOPPED},
        {"&event=paused", 50, RILL_TRACKER_EVENT_NONE},
        {"&event=empty", 50, RILL_TRACKER_EVENT_NONE},
    };
    for (size_t i = 0; i < RILL_ARRAY_LEN(v); i++) {
        char t[300];
        snprintf(t, sizeof t, "%s%s", BASE, v[i].extra);
        assert_int_equal(qparse(t, &q, &e), 0);
        assert_int_equal(q.numwant, v[i].numwant);
        assert_int_equal(q.event, v[i].event);
    }
}

static void test_query_key(void **state)
{
    (void)state;
    struct rill_tracker_query q;
    struct rill_error e;
    assert_int_equal(qparse(BASE "&key=ABC", &q, &e), 0);
    assert_int_equal(q.key, 0xabc);
    assert_int_equal(qparse(BASE "&key=DEADBEEF", &q, &e), 0);
    assert_int_equal(q.key, 0xdeadbeef);
    assert_int_equal(qparse(BASE "&key=a", &q, &e), 0);
    assert_int_equal(q.key, 0xa);
    /* Not hex, or too long for 32 bits: FNV-1a of the text (of "x": 0xfd0c5087,
     * computed in Python). */
    assert_int_equal(qparse(BASE "&key=x", &q, &e), 0);
    assert_int_equal(q.key, 0xfd0c5087u);
    assert_int_equal(qparse(BASE "&key=", &q, &e), 0);
    assert_false(q.has_key);
    assert_int_equal(qparse(BASE "&key=123456789", &q, &e), 0);
    uint32_t h = 2166136261u;
    for (const char *s = "123456789"; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    assert_int_equal(q.key, h);
}

/* Every way an announce query can be refused, with the failure reason sent
 * back and, where it matters, the offset. */
static const struct {
    const char *target;
    int code;
    const char *msg;
    size_t offset; /* SIZE_MAX: not checked */
} query_errors[] = {
    {"/announce?peer_id=" PID_ENC "&port=1", RILL_ESYNTAX, "missing info_hash", SIZE_MAX},
    {"/announce?info_hash=" IH_ENC "&port=1", RILL_ESYNTAX, "missing peer_id", SIZE_MAX},
    {"/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC, RILL_ESYNTAX, "missing port", SIZE_MAX},
    {"/announce", RILL_ESYNTAX, "missing info_hash", 9},
    {BASE "&info_hash=" IH_ENC, RILL_ESYNTAX, "repeated info_hash", 114},
    {BASE "&peer_id=" PID_ENC, RILL_ESYNTAX, "repeated peer_id", SIZE_MAX},
    {BASE "&port=1", RILL_ESYNTAX, "repeated port", SIZE_MAX},
    {BASE "&event=started&event=stopped", RILL_ESYNTAX, "repeated event", SIZE_MAX},
    {BASE "&left=1&left=1", RILL_ESYNTAX, "repeated left", SIZE_MAX},
    {"/announce?info_hash=abc&peer_id=" PID_ENC "&port=1", RILL_ESYNTAX,
     "info_hash must be 20 bytes, not 3", 20},
    {"/announce?info_hash=" IH_ENC "A&peer_id=" PID_ENC "&port=1", RILL_ESYNTAX,
     "info_hash must be 20 bytes, not 21", 20},
    {"/announce?info_hash=&peer_id=" PID_ENC "&port=1", RILL_ESYNTAX,
     "info_hash must be 20 bytes, not 0", SIZE_MAX},
    {"/announce?info_hash=" IH_ENC "&peer_id=abc&port=1", RILL_ESYNTAX,
     "peer_id must be 20 bytes, not 3", SIZE_MAX},
    {"/announce?info_hash=%ZZ4Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A&peer_id=" PID_ENC "&port=1",
     RILL_ESYNTAX, "malformed percent-encoding in info_hash", 20},
    {"/announce?peer_id=" PID_ENC "&port=1&info_hash=%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF"
     "%124Vx%9",
     RILL_ESYNTAX, "malformed percent-encoding in info_hash", SIZE_MAX},
    {"/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC "&port=abc", RILL_ESYNTAX,
     "port is not a decimal number", 109},
    {"/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC "&port=0", RILL_ESYNTAX,
     "port 0 is not allowed", SIZE_MAX},
    {"/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC "&port=65536", RILL_ESYNTAX,
     "port is above 65535", SIZE_MAX},
    {"/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC "&port=", RILL_ESYNTAX, "port is empty",
     SIZE_MAX},
    {"/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC "&port", RILL_ESYNTAX, "port is empty",
     SIZE_MAX},
    {BASE "&uploaded=-1", RILL_ESYNTAX, "uploaded is not a decimal number", SIZE_MAX},
    {BASE "&downloaded=1e5", RILL_ESYNTAX, "downloaded is not a decimal number", SIZE_MAX},
    {BASE "&left=18446744073709551616", RILL_ESYNTAX, "left is too large", SIZE_MAX},
    {BASE "&left=%31", RILL_ESYNTAX, "left is not a decimal number", SIZE_MAX},
    {BASE "&event=bogus", RILL_ESYNTAX, "unknown event", SIZE_MAX},
    {BASE "&compact=2", RILL_ESYNTAX, "compact must be 0 or 1", SIZE_MAX},
    {BASE "&no_peer_id=yes", RILL_ESYNTAX, "no_peer_id must be 0 or 1", SIZE_MAX},
    {BASE "&numwant=ten", RILL_ESYNTAX, "numwant is not a decimal number", SIZE_MAX},
    {BASE "&numwant=", RILL_ESYNTAX, "numwant is empty", SIZE_MAX},
    {BASE "&numwant=-2", RILL_ESYNTAX, "numwant is not a decimal number", SIZE_MAX},
    {BASE "&key=%G0", RILL_ESYNTAX, "malformed percent-encoding in key", SIZE_MAX},
    {BASE "&key=0123456789012345678901234567890123456789012345678901234567890123X", RILL_ESYNTAX,
     "key is longer than 64 bytes", SIZE_MAX},
    {BASE "&trackerid=0123456789012345678901234567890123456789012345678901234567890123X",
     RILL_ESYNTAX, "trackerid is longer than 64 bytes", SIZE_MAX},
    {BASE "&ip=%", RILL_ESYNTAX, "malformed percent-encoding in ip", SIZE_MAX},
};

static void test_query_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < RILL_ARRAY_LEN(query_errors); i++) {
        struct rill_tracker_query q;
        struct rill_error e;
        int rc = qparse(query_errors[i].target, &q, &e);
        if (rc != query_errors[i].code || strcmp(e.msg, query_errors[i].msg) != 0)
            fail_msg("case %zu (%s): rc %d, msg '%s'", i, query_errors[i].target, rc, e.msg);
        assert_int_equal(e.code, rc);
        assert_true(e.offset <= strlen(query_errors[i].target));
        if (query_errors[i].offset != SIZE_MAX)
            assert_int_equal(e.offset, query_errors[i].offset);
        static const struct rill_tracker_query zero;
        assert_memory_equal(&q, &zero, sizeof q); /* nothing half-filled */
    }
}

static void test_query_oversized(void **state)
{
    (void)state;
    size_t n = RILL_TRACKER_MAX_TARGET + 1;
    char *t = malloc(n);
    assert_non_null(t);
    memset(t, 'x', n);
    memcpy(t, BASE "&pad=", strlen(BASE "&pad="));
    struct rill_tracker_query q;
    struct rill_error e;
    assert_int_equal(rill_tracker_query_parse(t, n, &q, &e), RILL_ELIMIT);
    assert_string_equal(e.msg, "request longer than 8192 bytes");
    uint8_t hashes[RILL_TRACKER_SCRAPE_MAX][20];
    size_t count = 99;
    assert_int_equal(rill_tracker_scrape_query_parse(t, n, hashes, &count, &e), RILL_ELIMIT);
    assert_int_equal(count, 0);
    /* One byte less is fine. */
    assert_int_equal(rill_tracker_query_parse(t, n - 1, &q, &e), 0);
    free(t);
}

static void test_route_and_scrape(void **state)
{
    (void)state;
    static const struct {
        const char *t;
        enum rill_tracker_route r;
    } routes[] = {
        {"/announce", RILL_TRACKER_ROUTE_ANNOUNCE}, {"/announce?a=b", RILL_TRACKER_ROUTE_ANNOUNCE},
        {"/scrape?", RILL_TRACKER_ROUTE_SCRAPE},    {"/scrape", RILL_TRACKER_ROUTE_SCRAPE},
        {"/announcex", RILL_TRACKER_ROUTE_OTHER},   {"/", RILL_TRACKER_ROUTE_OTHER},
        {"/stats", RILL_TRACKER_ROUTE_OTHER},       {"announce", RILL_TRACKER_ROUTE_OTHER},
    };
    for (size_t i = 0; i < RILL_ARRAY_LEN(routes); i++)
        assert_int_equal(rill_tracker_route(routes[i].t, strlen(routes[i].t)), routes[i].r);

    uint8_t h[RILL_TRACKER_SCRAPE_MAX][20];
    size_t n;
    struct rill_error e;
    const char *two = "/scrape?info_hash=" IH_ENC "&x=1&info_hash=%01%02%03%04%05%06%07%08%09"
                      "%0A%0B%0C%0D%0E%0F%10%11%12%13%14&info_hash=" IH_ENC;
    assert_int_equal(rill_tracker_scrape_query_parse(two, strlen(two), h, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(h[0], IH, 20);
    assert_int_equal(h[1][0], 1);
    assert_int_equal(h[1][19], 0x14);
    assert_memory_equal(h[2], IH, 20);
    assert_int_equal(rill_tracker_scrape_query_parse("/scrape", 7, h, &n, &e), 0);
    assert_int_equal(n, 0);
    const char *bad = "/scrape?info_hash=" IH_ENC "&info_hash=short";
    assert_int_equal(rill_tracker_scrape_query_parse(bad, strlen(bad), h, &n, &e), RILL_ESYNTAX);
    assert_string_equal(e.msg, "info_hash must be 20 bytes, not 5");
    assert_int_equal(n, 0);
    /* The cap, and one past it. */
    struct rill_buf b;
    rill_buf_init(&b, 0);
    rill_buf_append(&b, "/scrape?", 8);
    for (unsigned i = 0; i < RILL_TRACKER_SCRAPE_MAX; i++)
        rill_buf_append(&b, "&info_hash=" IH_ENC, strlen("&info_hash=" IH_ENC));
    assert_int_equal(rill_tracker_scrape_query_parse((const char *)b.data, b.len, h, &n, &e), 0);
    assert_int_equal(n, RILL_TRACKER_SCRAPE_MAX);
    rill_buf_append(&b, "&info_hash=" IH_ENC, strlen("&info_hash=" IH_ENC));
    assert_int_equal(rill_tracker_scrape_query_parse((const char *)b.data, b.len, h, &n, &e),
                     RILL_ELIMIT);
    assert_string_equal(e.msg, "more than 74 info_hash values");
    rill_buf_free(&b);
}

/* Queries captured from real clients announcing to a local listener
 * (libtorrent 2.0.8, aria2 1.36.0, Transmission 3.00). */
static void test_real_queries(void **state)
{
    (void)state;
    static const struct {
        const char *target, *hash_hex, *peer_id;
        uint16_t port;
        uint32_t numwant, key;
        int event;
        bool no_peer_id;
    } cases[] = {
        {"/announce?info_hash=%ebQ%d4%19L%3a%fb%06r%0a%1bN%f6%88%d3%b7%22%b3v%bf"
         "&peer_id=-LT2080-UObrMdWoG)GX&port=16881&uploaded=0&downloaded=0&left=300000"
         "&corrupt=0&key=2B743B0F&event=started&numwant=200&compact=1&no_peer_id=1"
         "&supportcrypto=1&redundant=0",
         "eb51d4194c3afb06720a1b4ef688d3b722b376bf", "-LT2080-UObrMdWoG)GX", 16881, 200, 0x2B743B0F,
         RILL_TRACKER_EVENT_STARTED, true},
        {"/announce?info_hash=%0C%60%83%07e%04%8D%97%BD5g%02%88R%EC%F6%88%23%19%97"
         "&peer_id=A2-1-36-0-%B2%06%C0%A6%B6%B8%95%B8A%7D&uploaded=0&downloaded=0"
         "&left=300000&compact=1&key=%C0%A6%B6%B8%95%B8A%7D&numwant=50&no_peer_id=1"
         "&port=16882&event=started&supportcrypto=1",
         "0c60830765048d97bd3567028852ecf688231997",
         "A2-1-36-0-\xb2\x06\xc0\xa6\xb6\xb8\x95\xb8\x41\x7d", 16882, 50, 0,
         RILL_TRACKER_EVENT_STARTED, true},
        {"/announce?info_hash=%cc%9d%b7%c3%a4%16%ff%d9%8b%86%d4nx%fc%0a%81%3f%e8%02%fb"
         "&peer_id=-TR3000-zi2hezxbqtkc&port=16883&uploaded=0&downloaded=0&left=300000"
         "&numwant=80&key=b17b31d&compact=1&supportcrypto=1&event=started",
         "cc9db7c3a416ffd98b86d46e78fc0a813fe802fb", "-TR3000-zi2hezxbqtkc", 16883, 80, 0xb17b31d,
         RILL_TRACKER_EVENT_STARTED, false},
    };
    for (size_t i = 0; i < RILL_ARRAY_LEN(cases); i++) {
        struct rill_tracker_query q;
        struct rill_error e;
        uint8_t hash[20];
        assert_int_equal(qparse(cases[i].target, &q, &e), 0);
        assert_int_equal(rill_unhex(cases[i].hash_hex, 40, hash, 20), 0);
        assert_memory_equal(q.info_hash, hash, 20);
        assert_memory_equal(q.peer_id, cases[i].peer_id, 20);
        assert_int_equal(q.port, cases[i].port);
        assert_int_equal(q.left, 300000);
        assert_int_equal(q.numwant, cases[i].numwant);
        assert_int_equal(q.event, cases[i].event);
        assert_true(q.compact);
        assert_int_equal(q.no_peer_id, cases[i].no_peer_id);
        assert_true(q.has_key);
        if (cases[i].key) /* aria2's key is 8 binary bytes: hashed */
            assert_int_equal(q.key, cases[i].key);
    }
    const char *scrape = "/scrape?info_hash=%cc%9d%b7%c3%a4%16%ff%d9%8b%86%d4nx%fc%0a%81%3f"
                         "%e8%02%fb";
    uint8_t h[RILL_TRACKER_SCRAPE_MAX][20], want[20];
    size_t n;
    struct rill_error e;
    assert_int_equal(rill_tracker_scrape_query_parse(scrape, strlen(scrape), h, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rill_unhex("cc9db7c3a416ffd98b86d46e78fc0a813fe802fb", 40, want, 20), 0);
    assert_memory_equal(h[0], want, 20);
}

/* ------------------------------------------------------- server: replies */

static const uint8_t P4[12] = {1, 2, 3, 4, 0x1a, 0xe1, 10, 0, 0, 1, 0, 80};
static const uint8_t P6[36] = {0x20, 0x01, 0x0d, 0xb8,        [15] = 1, 0x1a,
                               0xe1, 0xfe, 0x80, [33] = 0x42, 0x00,     0x50};
static const char IDS4[] = "-XX0000-abcdefghijkl-XX0000-mnopqrstuvwx";
static const char IDS6[] = "-YY0000-abcdefghijkl-YY0000-mnopqrstuvwx";

static void assert_built(struct rill_buf *b, const void *want, size_t n)
{
    if (b->len != n || memcmp(b->data, want, n) != 0)
        fail_msg("built %zu bytes '%.*s', want %zu '%.*s'", b->len, (int)b->len,
                 (const char *)b->data, n, (int)n, (const char *)want);
    rill_buf_free(b);
    rill_buf_init(b, 0);
}
#define ASSERT_BUILT(b, lit) assert_built(b, lit, sizeof(lit) - 1)

static void test_answer_build(void **state)
{
    (void)state;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    struct rill_tracker_answer a = {.interval = 1800,
                                    .min_interval = 900,
                                    .complete = 2,
                                    .incomplete = 1,
                                    .peers4 = P4,
                                    .n4 = 1,
                                    .compact = true};
    assert_int_equal(rill_tracker_answer_build(&b, &a), 0);
    ASSERT_BUILT(&b, "d8:completei2e10:incompletei1e8:intervali1800e12:min intervali900e"
                     "5:peers6:\x01\x02\x03\x04\x1a\xe1"
                     "e");
    a.peers6 = P6;
    a.n6 = 1;
    a.warning = "slow";
    a.min_interval = 0;
    a.n4 = 0;
    assert_int_equal(rill_tracker_answer_build(&b, &a), 0);
    ASSERT_BUILT(&b, "d8:completei2e10:incompletei1e8:intervali1800e5:peers0:"
                     "6:peers618:\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x1a\xe1"
                     "15:warning message4:slowe");
    struct rill_tracker_answer d = {.interval = 60,
                                    .complete = -1,
                                    .incomplete = -1,
                                    .peers4 = P4,
                                    .n4 = 1,
                                    .peers6 = P6,
                                    .n6 = 1,
                                    .ids4 = (const uint8_t *)IDS4,
                                    .ids6 = (const uint8_t *)IDS6};
    assert_int_equal(rill_tracker_answer_build(&b, &d), 0);
    ASSERT_BUILT(&b, "d8:intervali60e5:peersl"
                     "d2:ip7:1.2.3.47:peer id20:-XX0000-abcdefghijkl4:porti6881ee"
                     "d2:ip11:2001:db8::17:peer id20:-YY0000-abcdefghijkl4:porti6881ee"
                     "ee");
    d.no_peer_id = true;
    assert_int_equal(rill_tracker_answer_build(&b, &d), 0);
    ASSERT_BUILT(&b, "d8:intervali60e5:peersld2:ip7:1.2.3.44:porti6881ee"
                     "d2:ip11:2001:db8::14:porti6881eeee");
    d.n4 = d.n6 = 0;
    assert_int_equal(rill_tracker_answer_build(&b, &d), 0);
    ASSERT_BUILT(&b, "d8:intervali60e5:peerslee");
    d.n4 = 1;
    d.peers4 = NULL;
    assert_int_equal(rill_tracker_answer_build(&b, &d), RILL_EINVAL);
    rill_buf_free(&b);
    rill_buf_init(&b, 20); /* the cap holds */
    assert_int_equal(rill_tracker_answer_build(&b, &a), RILL_ENOMEM);
    rill_buf_free(&b);
}

static void test_scrape_and_failure_build(void **state)
{
    (void)state;
    struct rill_tracker_scrape_entry e[3] = {
        {.complete = 5, .downloaded = 10, .incomplete = 3},
        {.info_hash = {1, 0, 2}, .complete = 1, .downloaded = 2, .incomplete = 0},
        {.complete = 9, .downloaded = 9, .incomplete = 9}, /* IH again: dropped */
    };
    memcpy(e[0].info_hash, IH, 20);
    memcpy(e[2].info_hash, IH, 20);
    struct rill_buf b, want;
    rill_buf_init(&b, 0);
    rill_buf_init(&want, 0);
    assert_int_equal(rill_tracker_scrape_build(&b, e, 3), 0);
    rill_buf_append(&want, "d5:filesd20:", 12);
    rill_buf_append(&want, e[1].info_hash, 20);
    rill_buf_appendf(&want, "d8:completei1e10:downloadedi2e10:incompletei0ee20:");
    rill_buf_append(&want, IH, 20);
    rill_buf_appendf(&want, "d8:completei5e10:downloadedi10e10:incompletei3eeee");
    assert_built(&b, want.data, want.len);
    rill_buf_free(&want);
    assert_int_equal(rill_tracker_scrape_build(&b, e, 0), 0);
    ASSERT_BUILT(&b, "d5:filesdee");
    struct rill_tracker_scrape_entry many[RILL_TRACKER_SCRAPE_MAX + 1];
    memset(many, 0, sizeof many);
    assert_int_equal(rill_tracker_scrape_build(&b, many, RILL_TRACKER_SCRAPE_MAX + 1), RILL_ELIMIT);
    assert_int_equal(rill_tracker_failure_build(&b, "not found"), 0);
    ASSERT_BUILT(&b, "d14:failure reason9:not founde");
    rill_buf_free(&b);
}

/* Server build -> client parse gives the same peers and numbers. */
static void round_trip(const struct rill_tracker_answer *a)
{
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_tracker_answer_build(&b, a), 0);
    struct rill_tracker_reply r;
    struct rill_error e;
    assert_int_equal(parse_reply((const char *)b.data, b.len, &r, PEERS_CAP, &e), 0);
    assert_int_equal(r.interval, a->interval);
    assert_int_equal(r.min_interval, a->min_interval);
    assert_int_equal(r.complete, a->complete);
    assert_int_equal(r.incomplete, a->incomplete);
    assert_int_equal(r.peer_count, a->n4 + a->n6);
    for (size_t i = 0; i < a->n4; i++) {
        assert_int_equal(r.peers[i].family, 4);
        assert_memory_equal(r.peers[i].addr, a->peers4 + 6 * i, 4);
        assert_int_equal(r.peers[i].port, a->peers4[6 * i + 4] << 8 | a->peers4[6 * i + 5]);
    }
    for (size_t i = 0; i < a->n6; i++) {
        const struct rill_tracker_peer *p = &r.peers[a->n4 + i];
        assert_int_equal(p->family, 6);
        assert_memory_equal(p->addr, a->peers6 + 18 * i, 16);
        assert_int_equal(p->port, a->peers6[18 * i + 16] << 8 | a->peers6[18 * i + 17]);
    }
    rill_buf_free(&b);
}

static void test_round_trips(void **state)
{
    (void)state;
    struct rill_tracker_answer a = {.interval = 900,
                                    .min_interval = 300,
                                    .complete = 7,
                                    .incomplete = 0,
                                    .peers4 = P4,
                                    .n4 = 2,
                                    .peers6 = P6,
                                    .n6 = 2,
                                    .compact = true};
    round_trip(&a);
    a.compact = false;
    round_trip(&a);
    a.ids4 = (const uint8_t *)IDS4;
    a.ids6 = (const uint8_t *)IDS6;
    round_trip(&a);
    a.n6 = 0;
    a.compact = true;
    round_trip(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr),
        cmocka_unit_test(test_announce_url),
        cmocka_unit_test(test_reply_compact),
        cmocka_unit_test(test_reply_dict_peers),
        cmocka_unit_test(test_reply_failure),
        cmocka_unit_test(test_reply_errors),
        cmocka_unit_test(test_reply_fields),
        cmocka_unit_test(test_reply_caps),
        cmocka_unit_test(test_reply_opentracker),
        cmocka_unit_test(test_query_full),
        cmocka_unit_test(test_query_defaults),
        cmocka_unit_test(test_query_key),
        cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_query_oversized),
        cmocka_unit_test(test_route_and_scrape),
        cmocka_unit_test(test_real_queries),
        cmocka_unit_test(test_answer_build),
        cmocka_unit_test(test_scrape_and_failure_build),
        cmocka_unit_test(test_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
