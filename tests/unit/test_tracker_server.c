/* HTTP tracker messages, the server side: the announce query parser with
 * every error (and real client queries), routing and scrape queries, reply
 * builders byte for byte, and server build -> client parse round trips. The
 * client side is in test_tracker_msg.c. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tracker_msg.h"
#include "tracker_fixture.h"
#include "util/util.h"

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

/* ------------------------------------------------- UDP connection ids */

static void test_udp_connection_ids(void **state)
{
    (void)state;
    struct rill_udp_idkey k = {.sha = rill__sha256_ctx_new()}, slow = {0};
    memset(k.key, 7, sizeof k.key);
    memcpy(slow.key, k.key, sizeof k.key);
    uint8_t a[16] = {127, 0, 0, 1}, b[16] = {127, 0, 0, 2};
    uint64_t id = rill_udp_connection_id(&k, 1000, RILL_TRACKER_IPV4, a, 6881);
    /* The cached context and the one-shot hash agree. */
    assert_true(id == rill_udp_connection_id(&slow, 1000, RILL_TRACKER_IPV4, a, 6881));
    assert_true(rill_udp_connection_id_ok(&k, 1000, RILL_TRACKER_IPV4, a, 6881, id));
    assert_true(rill_udp_connection_id_ok(&k, 1001, RILL_TRACKER_IPV4, a, 6881, id));
    assert_false(rill_udp_connection_id_ok(&k, 1002, RILL_TRACKER_IPV4, a, 6881, id));
    assert_false(rill_udp_connection_id_ok(&k, 999, RILL_TRACKER_IPV4, a, 6881, id));
    assert_false(rill_udp_connection_id_ok(&k, 1000, RILL_TRACKER_IPV4, b, 6881, id));
    assert_false(rill_udp_connection_id_ok(&k, 1000, RILL_TRACKER_IPV4, a, 6882, id));
    assert_false(rill_udp_connection_id_ok(&k, 1000, RILL_TRACKER_IPV6, a, 6881, id));
    assert_false(rill_udp_connection_id_ok(&k, 1000, RILL_TRACKER_IPV4, a, 6881, id ^ 2));
    assert_false(rill_udp_connection_id_ok(&k, 0, RILL_TRACKER_IPV4, a, 6881, 1));
    /* Another key mints other ids. */
    slow.key[0] ^= 1;
    assert_false(rill_udp_connection_id_ok(&slow, 1000, RILL_TRACKER_IPV4, a, 6881, id));
    rill__sha256_ctx_free(k.sha);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_connection_ids),
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
