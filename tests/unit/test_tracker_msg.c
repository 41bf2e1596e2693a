/* HTTP tracker messages, the client side: address text, the announce URL
 * (exact string), and reply parsing (compact, dictionaries, peers6, failure,
 * missing fields, caps, real opentracker replies). The server side (query
 * parsers, reply builders, round trips) is in test_tracker_server.c. BEP 15
 * packets are tested with the UDP client, in test_udp_client.c. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tracker_msg.h"
#include "tracker_fixture.h"
#include "util/util.h"

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
    /* Some trackers write unsorted keys: accepted, fields still read. */
    assert_int_equal(PARSE("d8:intervali900e5:peers0:8:completei7ee", &r, PEERS_CAP, &e), 0);
    assert_int_equal(r.complete, 7);
    assert_int_equal(r.interval, 900);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
