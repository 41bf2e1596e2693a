/* KRPC codec: BEP 5's own examples byte for byte, round trips of every
 * message kind with IPv4 and IPv6 nodes and values, exact length checks with
 * error offsets, caps, unknown methods and capped output buffers. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/krpc.h"

#define ID_A "abcdefghij0123456789"
#define ID_B "mnopqrstuvwxyz123456"

/* Parses a NUL-terminated literal from an exact-size heap copy, so ASan
 * catches a read past the end. */
static int parse(const char *s, struct rill_krpc_msg *m, struct rill_error *e)
{
    size_t n = strlen(s);
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    memset(e, 0, sizeof *e);
    int rc = rill_krpc_parse(copy, n, m, e);
    free(copy);
    return rc;
}

static void assert_builds(const struct rill_krpc_msg *m, const char *want)
{
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_krpc_build(m, &b), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    rill_buf_free(&b);
}

static void round_trip(const struct rill_krpc_msg *m)
{
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_krpc_build(m, &b), 0);
    static struct rill_krpc_msg back;
    struct rill_error e;
    assert_int_equal(rill_krpc_parse(b.data, b.len, &back, &e), 0);
    assert_memory_equal(&back, m, sizeof back);
    rill_buf_free(&b);
}

static void expect_fail(const char *s, int code, size_t offset, const char *needle)
{
    static struct rill_krpc_msg m;
    static const struct rill_krpc_msg zero;
    struct rill_error e;
    assert_int_equal(parse(s, &m, &e), code);
    assert_int_equal(e.code, code);
    assert_int_equal(e.offset, offset);
    if (needle && !strstr(e.msg, needle))
        fail_msg("error \"%s\" does not mention \"%s\"", e.msg, needle);
    assert_memory_equal(&m, &zero, sizeof m);
}

/* BEP 5's examples, parsed and built back byte for byte. */
static void test_bep5_ping(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_error e;
    const char *q = "d1:ad2:id20:" ID_A "e1:q4:ping1:t2:aa1:y1:qe";
    assert_int_equal(parse(q, &m, &e), 0);
    assert_int_equal(m.type, RILL_KRPC_QUERY);
    assert_int_equal(m.method, RILL_KRPC_PING);
    assert_int_equal(m.tid_len, 2);
    assert_memory_equal(m.tid, "aa", 2);
    assert_memory_equal(m.id, ID_A, 20);
    assert_false(m.ro);
    assert_int_equal(m.present, 0);
    assert_builds(&m, q);

    static struct rill_krpc_msg built;
    rill_krpc_query_init(&built, (const uint8_t *)"aa", 2, RILL_KRPC_PING, (const uint8_t *)ID_A);
    assert_builds(&built, q);

    const char *r = "d1:rd2:id20:" ID_B "e1:t2:aa1:y1:re";
    assert_int_equal(parse(r, &m, &e), 0);
    assert_int_equal(m.type, RILL_KRPC_RESPONSE);
    assert_memory_equal(m.id, ID_B, 20);
    assert_builds(&m, r);
}

/* BEP 42: a response tells the querier the address it came from. */
static void test_bep42_ip(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_error e;
    const char *r = "d2:ip6:\x7f\x01\x02\x03\x1a\xe1" "1:rd2:id20:" ID_B "e1:t2:aa1:y1:re";
    assert_int_equal(parse(r, &m, &e), 0);
    assert_true(m.present & RILL_KRPC_HAS_IP);
    assert_int_equal(m.ip_len, 4);
    assert_memory_equal(m.ip, "\x7f\x01\x02\x03", 4);
    assert_int_equal(m.ip_port, 6881);
    assert_builds(&m, r);
    /* An odd length is ignored, like an odd "v". */
    const char *odd = "d2:ip5:abcde1:rd2:id20:" ID_B "e1:t2:aa1:y1:re";
    assert_int_equal(parse(odd, &m, &e), 0);
    assert_false(m.present & RILL_KRPC_HAS_IP);
}

static void test_bep5_get_peers_and_announce(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_error e;
    const char *q = "d1:ad2:id20:" ID_A "9:info_hash20:" ID_B "e1:q9:get_peers1:t2:aa1:y1:qe";
    assert_int_equal(parse(q, &m, &e), 0);
    assert_int_equal(m.method, RILL_KRPC_GET_PEERS);
    assert_memory_equal(m.target, ID_B, 20);
    assert_builds(&m, q);

    const char *r =
        "d1:rd2:id20:" ID_A "5:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
    assert_int_equal(parse(r, &m, &e), 0);
    assert_int_equal(m.present, RILL_KRPC_HAS_TOKEN | RILL_KRPC_HAS_VALUES);
    assert_int_equal(m.token_len, 8);
    assert_memory_equal(m.token, "aoeusnth", 8);
    assert_int_equal(m.n_values, 2);
    assert_int_equal(m.values[0].addr_len, 4);
    assert_memory_equal(m.values[0].addr, "axje", 4);
    assert_int_equal(m.values[0].port, ('.' << 8) | 'u');
    assert_memory_equal(m.values[1].addr, "idht", 4);
    assert_builds(&m, r);

    const char *a = "d1:ad2:id20:" ID_A "12:implied_porti1e9:info_hash20:" ID_B
                    "4:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe";
    assert_int_equal(parse(a, &m, &e), 0);
    assert_int_equal(m.method, RILL_KRPC_ANNOUNCE_PEER);
    assert_true(m.implied_port);
    assert_int_equal(m.port, 6881);
    assert_memory_equal(m.token, "aoeusnth", 8);
    assert_builds(&m, a);

    /* implied_port alone is enough; port then reads 0. */
    assert_int_equal(parse("d1:ad2:id20:" ID_A "12:implied_porti1e9:info_hash20:" ID_B
                           "5:token1:xe1:q13:announce_peer1:t1:a1:y1:qe",
                           &m, &e),
                     0);
    assert_int_equal(m.port, 0);
}

static void test_bep5_find_node_and_error(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_error e;
    const char *q = "d1:ad2:id20:" ID_A "6:target20:" ID_B "e1:q9:find_node1:t2:aa1:y1:qe";
    assert_int_equal(parse(q, &m, &e), 0);
    assert_int_equal(m.method, RILL_KRPC_FIND_NODE);
    assert_memory_equal(m.target, ID_B, 20);
    assert_builds(&m, q);

    /* One IPv4 node: id ID_B, 10.0.0.1:6881 (0x1ae1). */
    const char *r = "d1:rd2:id20:" ID_A "5:nodes26:" ID_B "\x0a\x01\x01\x01\x1a\xe1"
                    "e1:t2:aa1:y1:re";
    assert_int_equal(parse(r, &m, &e), 0);
    assert_int_equal(m.present, RILL_KRPC_HAS_NODES);
    assert_int_equal(m.n_nodes, 1);
    assert_memory_equal(m.nodes[0].id, ID_B, 20);
    assert_memory_equal(m.nodes[0].addr, "\x0a\x01\x01\x01", 4);
    assert_int_equal(m.nodes[0].port, 6881);
    assert_builds(&m, r);

    const char *err = "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee";
    assert_int_equal(parse(err, &m, &e), 0);
    assert_int_equal(m.type, RILL_KRPC_ERROR);
    assert_int_equal(m.err_code, 201);
    assert_string_equal(m.err_msg, "A Generic Error Ocurred");
    assert_builds(&m, err);

    rill_krpc_error_init(&m, (const uint8_t *)"aa", 2, RILL_KRPC_E_METHOD, NULL);
    assert_builds(&m, "d1:eli204e14:Method Unknowne1:t2:aa1:y1:ee");
    rill_krpc_error_init(&m, (const uint8_t *)"aa", 2, RILL_KRPC_E_PROTOCOL, NULL);
    assert_builds(&m, "d1:eli203e14:Protocol Errore1:t2:aa1:y1:ee");
}

static void fill_response(struct rill_krpc_msg *m, size_t nodes, size_t values)
{
    uint8_t id[20];
    tu_fill(id, sizeof id, 1);
    rill_krpc_response_init(m, (const uint8_t *)"\x00\xff\x10", 3, id);
    m->present = RILL_KRPC_HAS_NODES | RILL_KRPC_HAS_NODES6 | RILL_KRPC_HAS_VALUES |
                 RILL_KRPC_HAS_TOKEN | RILL_KRPC_HAS_V;
    m->n_nodes = m->n_nodes6 = (uint8_t)nodes;
    for (size_t i = 0; i < nodes; i++) {
        tu_fill(m->nodes[i].id, 20, 10 + i);
        tu_fill(m->nodes[i].addr, 4, 100 + i);
        m->nodes[i].port = (uint16_t)(1000 + i);
        tu_fill(m->nodes6[i].id, 20, 200 + i);
        tu_fill(m->nodes6[i].addr, 16, 300 + i);
        m->nodes6[i].port = (uint16_t)(65535 - i);
    }
    m->n_values = (uint8_t)values;
    for (size_t i = 0; i < values; i++) {
        m->values[i].addr_len = i % 2 ? 16 : 4;
        tu_fill(m->values[i].addr, m->values[i].addr_len, 400 + i);
        m->values[i].port = (uint16_t)i;
    }
    m->token_len = RILL_KRPC_TOKEN_MAX;
    tu_fill(m->token, m->token_len, 7);
    m->v_len = 4;
    memcpy(m->v, "RL01", 4);
}

static void test_round_trips(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    fill_response(&m, RILL_KRPC_NODES_MAX, RILL_KRPC_VALUES_MAX);
    round_trip(&m);
    fill_response(&m, 0, 0); /* empty but present keys stay present */
    round_trip(&m);

    uint8_t id[20], target[20], tid[RILL_KRPC_TID_MAX];
    tu_fill(id, 20, 2);
    tu_fill(target, 20, 3);
    tu_fill(tid, sizeof tid, 4);
    for (int method = RILL_KRPC_PING; method <= RILL_KRPC_ANNOUNCE_PEER; method++) {
        rill_krpc_query_init(&m, tid, sizeof tid, (enum rill_krpc_method)method, id);
        if (method != RILL_KRPC_PING)
            memcpy(m.target, target, 20);
        if (method == RILL_KRPC_FIND_NODE || method == RILL_KRPC_GET_PEERS)
            m.want = RILL_KRPC_WANT_N4 | RILL_KRPC_WANT_N6;
        if (method == RILL_KRPC_ANNOUNCE_PEER) {
            m.port = 65535;
            m.token_len = 1;
            m.token[0] = 0;
        }
        m.ro = true;
        round_trip(&m);
        m.implied_port = method == RILL_KRPC_ANNOUNCE_PEER;
        m.ro = false;
        round_trip(&m);
    }
    rill_krpc_error_init(&m, NULL, 0, -5, "bad\0bytes"); /* the message stops at the NUL */
    assert_int_equal(m.err_msg_len, 3);
    round_trip(&m);
    m.err_msg_len = 9;
    memcpy(m.err_msg, "bad\0bytes", 9);
    round_trip(&m);
}

static void test_length_errors(void **state)
{
    (void)state;
    /* The offsets are those of the offending value in the input. */
    expect_fail("d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", RILL_ESYNTAX, 9,
                "\"id\"");
    expect_fail("d1:rd2:id20:" ID_A "5:nodes27:" ID_A "1234567e1:t2:aa1:y1:re", RILL_ESYNTAX, 39,
                "26-byte");
    expect_fail("d1:rd2:id20:" ID_A "6:nodes626:" ID_A "123456e1:t2:aa1:y1:re", RILL_ESYNTAX, 40,
                "38-byte");
    expect_fail("d1:rd2:id20:" ID_A "6:valuesl7:1234567ee1:t2:aa1:y1:re", RILL_ESYNTAX, 41,
                "compact peer");
    expect_fail("d1:ad2:id20:" ID_A "6:target21:" ID_B "xe1:q9:find_node1:t2:aa1:y1:qe",
                RILL_ESYNTAX, 40, "\"target\"");
    expect_fail("d1:ad2:id20:" ID_A "e1:q4:ping1:t17:01234567890123456"
                "1:y1:qe",
                RILL_ELIMIT, 45, "\"t\"");
    expect_fail("d1:ad2:id20:" ID_A "12:implied_porti0e9:info_hash20:" ID_B
                "4:porti65536e5:token1:xe1:q13:announce_peer1:t1:a1:y1:qe",
                RILL_ESYNTAX, 90, "\"port\"");
    expect_fail("d1:ad2:id20:" ID_A "9:info_hash20:" ID_B
                "5:token1:xe1:q13:announce_peer1:t1:a1:y1:qe",
                RILL_ESYNTAX, 4, "\"port\"");
    expect_fail("d1:ad2:id20:" ID_A "9:info_hash20:" ID_B
                "4:porti1ee1:q13:announce_peer1:t1:a1:y1:qe",
                RILL_ESYNTAX, 4, "token");
}

static void test_shape_errors(void **state)
{
    (void)state;
    expect_fail("le", RILL_ESYNTAX, 0, "dictionary");
    expect_fail("d1:t2:aae", RILL_ESYNTAX, 0, "\"y\"");
    expect_fail("d1:t2:aa1:y1:xe", RILL_ESYNTAX, 11, "\"y\"");
    expect_fail("d1:y1:qe", RILL_ESYNTAX, 0, "\"t\"");
    expect_fail("d1:q4:ping1:t2:aa1:y1:qe", RILL_ESYNTAX, 0, "\"a\"");
    expect_fail("d1:ad2:id20:" ID_A "e1:qi1e1:t2:aa1:y1:qe", RILL_ESYNTAX, 36, "\"q\"");
    expect_fail("d1:rle1:t2:aa1:y1:re", RILL_ESYNTAX, 4, "\"r\"");
    expect_fail("d1:el3:abci201ee1:t2:aa1:y1:ee", RILL_ESYNTAX, 4, "\"e\"");
    expect_fail("d1:eli201ee1:t2:aa1:y1:ee", RILL_ESYNTAX, 4, "\"e\"");
    expect_fail("d1:ad2:id20:" ID_A "6:target20:" ID_B "4:wanti1ee1:q9:find_node1:t2:aa1:y1:qe",
                RILL_ESYNTAX, 69, "\"want\"");
    /* Broken bencode reports the decoder's error. */
    static struct rill_krpc_msg m;
    struct rill_error e;
    assert_int_equal(parse("d1:t2:aa", &m, &e), RILL_ETRUNCATED);
    assert_int_equal(parse("", &m, &e), RILL_ETRUNCATED);
    /* Every proper prefix of a valid message fails cleanly. */
    const char *full =
        "d1:rd2:id20:" ID_A "5:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
    char prefix[256];
    for (size_t n = 0; n < strlen(full); n++) {
        memcpy(prefix, full, n);
        prefix[n] = 0;
        assert_int_not_equal(parse(prefix, &m, &e), 0);
    }
}

static void test_lenient_keys(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_error e;
    /* Unsorted keys, unknown keys, an odd "v" and "ro" are all fine. */
    assert_int_equal(parse("d1:y1:q1:t2:aa1:q4:ping1:ad2:id20:" ID_A "3:zzzi1ee1:vi1e2:roi1e"
                           "5:extra3:fooe",
                           &m, &e),
                     0);
    assert_int_equal(m.method, RILL_KRPC_PING);
    assert_true(m.ro);
    assert_int_equal(m.present, 0);
    assert_int_equal(parse("d1:ad2:id20:" ID_A "e1:q4:ping1:t2:aa1:v17:01234567890123456"
                           "1:y1:qe",
                           &m, &e),
                     0);
    assert_int_equal(m.v_len, 0);
    assert_int_equal(parse("d1:ad2:id20:" ID_A "e1:q4:ping1:t0:1:v4:UT\x01\x02"
                           "1:y1:qe",
                           &m, &e),
                     0);
    assert_int_equal(m.present, RILL_KRPC_HAS_V);
    assert_memory_equal(m.v, "UT\x01\x02", 4);
    assert_int_equal(m.tid_len, 0);
    /* "want" items other than n4/n6 are ignored. */
    assert_int_equal(parse("d1:ad2:id20:" ID_A "9:info_hash20:" ID_B "4:wantl2:n6i4e2:n8ee"
                           "1:q9:get_peers1:t2:aa1:y1:qe",
                           &m, &e),
                     0);
    assert_int_equal(m.want, RILL_KRPC_WANT_N6);
}

static void test_unknown_method(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_error e;
    assert_int_equal(
        parse("d1:ad2:id20:" ID_A "6:target20:" ID_B "e1:q4:vote1:t2:xy1:y1:qe", &m, &e), 0);
    assert_int_equal(m.type, RILL_KRPC_QUERY);
    assert_int_equal(m.method, RILL_KRPC_UNKNOWN);
    assert_memory_equal(m.id, ID_A, 20);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    rill_buf_free(&b);
    /* The node answers with 204 and the same transaction id. */
    rill_krpc_error_init(&m, m.tid, m.tid_len, RILL_KRPC_E_METHOD, "Method Unknown");
    assert_builds(&m, "d1:eli204e14:Method Unknowne1:t2:xy1:y1:ee");
    assert_null(rill_krpc_method_name(RILL_KRPC_UNKNOWN));
    assert_null(rill_krpc_method_name(99));
    assert_string_equal(rill_krpc_method_name(RILL_KRPC_ANNOUNCE_PEER), "announce_peer");
}

static void test_caps(void **state)
{
    (void)state;
    /* 20 IPv4 nodes and 120 values: 16 and 100 kept, flagged truncated. */
    struct rill_buf in;
    rill_buf_init(&in, 0);
    rill_buf_appendf(&in, "d1:rd2:id20:%s5:nodes%d:", ID_A, 20 * 26);
    for (int i = 0; i < 20 * 26; i++)
        rill_buf_append(&in, "n", 1);
    rill_buf_appendf(&in, "6:valuesl");
    for (int i = 0; i < 120; i++)
        rill_buf_appendf(&in, "6:%06d", i);
    rill_buf_appendf(&in, "ee1:t2:aa1:y1:re");
    assert_false(in.failed);
    static struct rill_krpc_msg m;
    struct rill_error e;
    assert_int_equal(rill_krpc_parse(in.data, in.len, &m, &e), 0);
    assert_true(m.truncated);
    assert_int_equal(m.n_nodes, RILL_KRPC_NODES_MAX);
    assert_int_equal(m.n_values, RILL_KRPC_VALUES_MAX);
    assert_memory_equal(m.values[99].addr, "0000", 4);
    rill_buf_free(&in);

    /* A token past the cap is refused: it could not be echoed. */
    char big[300];
    snprintf(big, sizeof big, "d1:rd2:id20:%s5:token65:%065de1:t2:aa1:y1:re", ID_A, 0);
    expect_fail(big, RILL_ELIMIT, 39, "\"token\"");
}

static void test_build_refusals(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    fill_response(&m, 1, 1);
    m.values[0].addr_len = 5;
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    fill_response(&m, 1, 1);
    m.n_nodes = RILL_KRPC_NODES_MAX + 1;
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    fill_response(&m, 1, 1);
    m.type = 'x';
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    fill_response(&m, 1, 1);
    m.tid_len = RILL_KRPC_TID_MAX + 1;
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    assert_int_equal(b.len, 0);
    rill_buf_free(&b);

    /* A capped output buffer: a full response does not fit in 100 bytes. */
    fill_response(&m, RILL_KRPC_NODES_MAX, RILL_KRPC_VALUES_MAX);
    rill_buf_init(&b, 100);
    assert_int_equal(rill_krpc_build(&m, &b), RILL_ENOMEM);
    rill_buf_free(&b);

    /* The transaction id of the helpers is cut at the cap. */
    rill_krpc_response_init(&m, (const uint8_t *)"0123456789abcdefXYZ", 19, NULL);
    assert_int_equal(m.tid_len, RILL_KRPC_TID_MAX);
}

/* ------------------------------------------------------------- BEP 44 */

#define K32 "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK1"
#define SIG64 "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS2"

/* expect_fail with the offset given as where `at` first occurs in s. */
static void expect_fail_at(const char *s, int code, const char *at, const char *needle)
{
    const char *p = strstr(s, at);
    assert_non_null(p);
    expect_fail(s, code, (size_t)(p - s), needle);
}

static void assert_prefixes_fail(const char *full)
{
    static struct rill_krpc_msg m;
    struct rill_error e;
    size_t n = strlen(full);
    char *prefix = malloc(n + 1);
    assert_non_null(prefix);
    assert_int_equal(parse(full, &m, &e), 0);
    for (size_t i = 0; i < n; i++) {
        memcpy(prefix, full, i);
        prefix[i] = 0;
        assert_int_not_equal(parse(prefix, &m, &e), 0);
    }
    free(prefix);
}

static void test_bep44_get(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_error e;
    const char *q = "d1:ad2:id20:" ID_A "6:target20:" ID_B "e1:q3:get1:t2:aa1:y1:qe";
    assert_int_equal(parse(q, &m, &e), 0);
    assert_int_equal(m.method, RILL_KRPC_GET);
    assert_memory_equal(m.target, ID_B, 20);
    assert_int_equal(m.present, 0);
    assert_builds(&m, q);
    static struct rill_krpc_msg built;
    rill_krpc_query_init(&built, (const uint8_t *)"aa", 2, RILL_KRPC_GET, (const uint8_t *)ID_A);
    memcpy(built.target, ID_B, 20);
    assert_builds(&built, q);

    /* BEP 44's optional seq, with BEP 32's want. */
    const char *qs = "d1:ad2:id20:" ID_A "3:seqi-4e6:target20:" ID_B "4:wantl2:n4ee"
                     "1:q3:get1:t2:aa1:y1:qe";
    assert_int_equal(parse(qs, &m, &e), 0);
    assert_int_equal(m.present, RILL_KRPC_HAS_SEQ);
    assert_int_equal(m.seq, -4);
    assert_int_equal(m.want, RILL_KRPC_WANT_N4);
    assert_builds(&m, qs);
    assert_string_equal(rill_krpc_method_name(RILL_KRPC_GET), "get");
    assert_string_equal(rill_krpc_method_name(RILL_KRPC_PUT), "put");

    /* A mutable item's response: keys in canonical order, v verbatim. */
    const char *r = "d1:rd2:id20:" ID_B "1:k32:" K32 "5:nodes26:" ID_A "\x0a\x01\x01\x01\x1a\xe1"
                    "3:seqi1e3:sig64:" SIG64 "5:token8:aoeusnth1:v12:Hello World!e"
                    "1:t2:aa1:y1:re";
    assert_int_equal(parse(r, &m, &e), 0);
    assert_int_equal(m.present, RILL_KRPC_HAS_NODES | RILL_KRPC_HAS_TOKEN | RILL_KRPC_HAS_SEQ |
                                    RILL_KRPC_HAS_KEY | RILL_KRPC_HAS_ITEM);
    assert_memory_equal(m.k, K32, 32);
    assert_memory_equal(m.sig, SIG64, 64);
    assert_int_equal(m.seq, 1);
    assert_int_equal(m.item_len, 15);
    assert_memory_equal(m.item, "12:Hello World!", 15);
    assert_int_equal(m.n_nodes, 1);
    assert_builds(&m, r);
    assert_prefixes_fail(r);
    assert_prefixes_fail(qs);

    /* An immutable item of any type, and a response with only seq. */
    const char *ri = "d1:rd2:id20:" ID_B "5:token1:x1:vld1:ai-1e1:b0:eli0eeee1:t2:aa1:y1:re";
    assert_int_equal(parse(ri, &m, &e), 0);
    assert_int_equal(m.present, RILL_KRPC_HAS_TOKEN | RILL_KRPC_HAS_ITEM);
    assert_int_equal(m.item_len, strlen("ld1:ai-1e1:b0:eli0eee"));
    assert_builds(&m, ri);
    const char *rs = "d1:rd2:id20:" ID_B "3:seqi9ee1:t2:aa1:y1:re";
    assert_int_equal(parse(rs, &m, &e), 0);
    assert_int_equal(m.present, RILL_KRPC_HAS_SEQ);
    assert_builds(&m, rs);
}

static void test_bep44_put(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    struct rill_error e;
    const char *put = "d1:ad3:casi7e2:id20:" ID_A "1:k32:" K32 "4:salt6:foobar3:seqi8e"
                      "3:sig64:" SIG64 "5:token8:aoeusnth1:v12:Hello World!e"
                      "1:q3:put1:t2:aa1:y1:qe";
    assert_int_equal(parse(put, &m, &e), 0);
    assert_int_equal(m.method, RILL_KRPC_PUT);
    assert_int_equal(m.present, RILL_KRPC_HAS_ITEM | RILL_KRPC_HAS_KEY | RILL_KRPC_HAS_SEQ |
                                    RILL_KRPC_HAS_SALT | RILL_KRPC_HAS_CAS);
    assert_int_equal(m.cas, 7);
    assert_int_equal(m.seq, 8);
    assert_int_equal(m.salt_len, 6);
    assert_memory_equal(m.salt, "foobar", 6);
    assert_memory_equal(m.token, "aoeusnth", 8);
    assert_memory_equal(m.item, "12:Hello World!", 15);
    assert_builds(&m, put);
    assert_prefixes_fail(put);

    /* The same from scratch: the encoder sorts the keys. */
    static struct rill_krpc_msg b;
    rill_krpc_query_init(&b, (const uint8_t *)"aa", 2, RILL_KRPC_PUT, (const uint8_t *)ID_A);
    b.present = m.present;
    b.cas = 7;
    b.seq = 8;
    memcpy(b.k, K32, 32);
    memcpy(b.sig, SIG64, 64);
    memcpy(b.salt, "foobar", b.salt_len = 6);
    memcpy(b.token, "aoeusnth", b.token_len = 8);
    memcpy(b.item, "12:Hello World!", b.item_len = 15);
    assert_builds(&b, put);

    /* Immutable: token and v; a salt, seq or cas there is ignored. */
    const char *imm = "d1:ad2:id20:" ID_A "5:token1:x1:vd1:ai1eee1:q3:put1:t2:aa1:y1:qe";
    assert_int_equal(parse(imm, &m, &e), 0);
    assert_int_equal(m.present, RILL_KRPC_HAS_ITEM);
    assert_memory_equal(m.item, "d1:ai1ee", m.item_len);
    assert_builds(&m, imm);
    assert_prefixes_fail(imm);
    assert_int_equal(parse("d1:ad2:id20:" ID_A "4:salt1:s3:seqi1e5:token1:x1:vd1:ai1eee"
                           "1:q3:put1:t2:aa1:y1:qe",
                           &m, &e),
                     0);
    assert_int_equal(m.present, RILL_KRPC_HAS_ITEM);
    assert_builds(&m, imm);

    /* Over BEP 44's sizes but within the buffers: parsed, so the node can
     * answer 205 or 207 (dht_item judges). */
    struct rill_buf in;
    rill_buf_init(&in, 0);
    rill_buf_appendf(&in, "d1:ad2:id20:%s1:k32:%s4:salt65:", ID_A, K32);
    for (int i = 0; i < 65; i++)
        rill_buf_append(&in, "s", 1);
    rill_buf_appendf(&in, "3:seqi1e3:sig64:%s5:token1:x1:v1495:", SIG64);
    for (int i = 0; i < 1495; i++)
        rill_buf_append(&in, "v", 1);
    rill_buf_appendf(&in, "e1:q3:put1:t2:aa1:y1:qe");
    assert_false(in.failed);
    assert_int_equal(rill_krpc_parse(in.data, in.len, &m, &e), 0);
    assert_int_equal(m.item_len, RILL_KRPC_ITEM_BUF);
    assert_int_equal(m.salt_len, 65);
    round_trip(&m);
    rill_buf_free(&in);
}

static void test_bep44_errors(void **state)
{
    (void)state;
    const char *s;
    s = "d1:ad2:id20:" ID_A "1:vi1ee1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "d2:id", "\"token\"");
    s = "d1:ad2:id20:" ID_A "5:token1:xe1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "d2:id", "\"v\"");
    s = "d1:ad2:id20:" ID_A "1:k32:" K32 "3:seqi1e5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "d2:id", "\"sig\"");
    s = "d1:ad2:id20:" ID_A "1:k31:" "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK" "3:seqi1e3:sig64:" SIG64
        "5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "31:", "\"k\"");
    s = "d1:ad2:id20:" ID_A "1:k32:" K32 "3:sig64:" SIG64 "5:token1:x1:vi1ee"
        "1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "d2:id", "\"seq\"");
    s = "d1:ad2:id20:" ID_A "1:k32:" K32 "3:seq1:13:sig64:" SIG64 "5:token1:x1:vi1ee"
        "1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "1:13", "\"seq\"");
    s = "d1:ad2:id20:" ID_A "3:cas1:x1:k32:" K32 "3:seqi1e3:sig64:" SIG64
        "5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "1:x1:k", "\"cas\"");
    s = "d1:ad2:id20:" ID_A "1:k32:" K32 "4:salti1e3:seqi1e3:sig64:" SIG64
        "5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "i1e3:seq", "\"salt\"");
    /* The item must be canonical by itself, though the message need not be. */
    s = "d1:ad2:id20:" ID_A "5:token1:x1:vd1:bi1e1:ai2eee1:q3:put1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "d1:b", "canonical");
    s = "d1:rd2:id20:" ID_B "1:vi01ee1:t2:aa1:y1:re";
    static struct rill_krpc_msg m;
    struct rill_error e;
    assert_int_not_equal(parse(s, &m, &e), 0); /* the decoder's own refusal */
    s = "d1:ad2:id20:" ID_A "3:seq0:6:target20:" ID_B "e1:q3:get1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "0:6", "\"seq\"");
    s = "d1:ad2:id20:" ID_A "3:seqi1ee1:q3:get1:t2:aa1:y1:qe";
    expect_fail_at(s, RILL_ESYNTAX, "d2:id", "\"target\"");
    s = "d1:rd2:id20:" ID_B "3:sig64:" SIG64 "e1:t2:aa1:y1:re";
    expect_fail_at(s, RILL_ESYNTAX, "d2:id", "\"k\"");

    /* Past the buffers: RILL_ELIMIT. */
    struct rill_buf in;
    rill_buf_init(&in, 0);
    rill_buf_appendf(&in, "d1:ad2:id20:%s5:token1:x1:v1496:", ID_A); /* 1501 bytes */
    for (int i = 0; i < 1496; i++)
        rill_buf_append(&in, "v", 1);
    rill_buf_appendf(&in, "e1:q3:put1:t2:aa1:y1:qe");
    assert_int_equal(rill_krpc_parse(in.data, in.len, &m, &e), RILL_ELIMIT);
    assert_int_equal(e.offset, 45);
    rill_buf_free(&in);
    rill_buf_init(&in, 0);
    rill_buf_appendf(&in, "d1:ad2:id20:%s1:k32:%s4:salt256:", ID_A, K32);
    for (int i = 0; i < 256; i++)
        rill_buf_append(&in, "s", 1);
    rill_buf_appendf(&in, "3:seqi1e3:sig64:%s5:token1:x1:vi1ee1:q3:put1:t2:aa1:y1:qe", SIG64);
    assert_int_equal(rill_krpc_parse(in.data, in.len, &m, &e), RILL_ELIMIT);
    assert_non_null(strstr(e.msg, "\"salt\""));
    rill_buf_free(&in);

    /* BEP 44's error codes with their standard texts. */
    rill_krpc_error_init(&m, (const uint8_t *)"aa", 2, RILL_KRPC_E_TOO_BIG, NULL);
    assert_builds(&m, "d1:eli205e26:Message (v field) too big.e1:t2:aa1:y1:ee");
    rill_krpc_error_init(&m, (const uint8_t *)"aa", 2, RILL_KRPC_E_BAD_SIG, NULL);
    assert_builds(&m, "d1:eli206e17:Invalid signaturee1:t2:aa1:y1:ee");
    rill_krpc_error_init(&m, (const uint8_t *)"aa", 2, RILL_KRPC_E_SALT_BIG, NULL);
    assert_builds(&m, "d1:eli207e26:Salt (salt field) too big.e1:t2:aa1:y1:ee");
    rill_krpc_error_init(&m, (const uint8_t *)"aa", 2, RILL_KRPC_E_CAS, NULL);
    assert_builds(&m, "d1:eli301e53:The CAS hash mismatched, re-read value and try again.e"
                      "1:t2:aa1:y1:ee");
    rill_krpc_error_init(&m, (const uint8_t *)"aa", 2, RILL_KRPC_E_SEQ, NULL);
    assert_builds(&m, "d1:eli302e34:Sequence number less than current.e1:t2:aa1:y1:ee");
}

static void test_bep44_build(void **state)
{
    (void)state;
    static struct rill_krpc_msg m;
    uint8_t id[20], tid[RILL_KRPC_TID_MAX];
    tu_fill(id, sizeof id, 8);
    tu_fill(tid, sizeof tid, 9);
    /* Round trips with binary fields and a 1000-byte item. */
    rill_krpc_query_init(&m, tid, sizeof tid, RILL_KRPC_PUT, id);
    m.present = RILL_KRPC_HAS_ITEM | RILL_KRPC_HAS_KEY | RILL_KRPC_HAS_SEQ | RILL_KRPC_HAS_SALT |
                RILL_KRPC_HAS_CAS;
    m.item_len = 1000;
    memcpy(m.item, "996:", 4);
    tu_fill(m.item + 4, 996, 10);
    tu_fill(m.k, 32, 11);
    tu_fill(m.sig, 64, 12);
    m.salt_len = 64;
    tu_fill(m.salt, 64, 13);
    m.seq = INT64_MAX;
    m.cas = INT64_MIN;
    m.token_len = 20;
    tu_fill(m.token, 20, 14);
    round_trip(&m);
    m.present &= ~(RILL_KRPC_HAS_SALT | RILL_KRPC_HAS_CAS);
    m.salt_len = 0;
    memset(m.salt, 0, sizeof m.salt);
    m.cas = 0;
    round_trip(&m);
    rill_krpc_query_init(&m, tid, 1, RILL_KRPC_GET, id);
    tu_fill(m.target, 20, 15);
    m.present = RILL_KRPC_HAS_SEQ;
    m.seq = 0;
    m.ro = true;
    round_trip(&m);
    rill_krpc_response_init(&m, tid, 3, id);
    m.present = RILL_KRPC_HAS_ITEM | RILL_KRPC_HAS_KEY | RILL_KRPC_HAS_SEQ | RILL_KRPC_HAS_TOKEN;
    memcpy(m.item, "le", m.item_len = 2);
    tu_fill(m.k, 32, 16);
    tu_fill(m.sig, 64, 17);
    m.seq = -1;
    m.token_len = 1;
    round_trip(&m);

    /* Refusals: a put without v, a mutable put without seq, an immutable
     * put with keys the parser would drop, an item that is not one value. */
    struct rill_buf b;
    rill_buf_init(&b, 0);
    rill_krpc_query_init(&m, tid, 2, RILL_KRPC_PUT, id);
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    memcpy(m.item, "i1e", m.item_len = 3);
    m.present = RILL_KRPC_HAS_ITEM | RILL_KRPC_HAS_KEY;
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    m.present = RILL_KRPC_HAS_ITEM | RILL_KRPC_HAS_SALT;
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    m.present = RILL_KRPC_HAS_ITEM;
    m.item_len = RILL_KRPC_ITEM_BUF + 1;
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    assert_int_equal(b.len, 0);
    memcpy(m.item, "i1ei2e", m.item_len = 6);
    assert_int_equal(rill_krpc_build(&m, &b), RILL_EINVAL);
    rill_buf_free(&b);
    rill_buf_init(&b, 0);
    memcpy(m.item, "i1e", m.item_len = 3);
    assert_int_equal(rill_krpc_build(&m, &b), 0);
    rill_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bep5_ping),
        cmocka_unit_test(test_bep42_ip),
        cmocka_unit_test(test_bep5_get_peers_and_announce),
        cmocka_unit_test(test_bep5_find_node_and_error),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_length_errors),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_lenient_keys),
        cmocka_unit_test(test_unknown_method),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_build_refusals),
        cmocka_unit_test(test_bep44_get),
        cmocka_unit_test(test_bep44_put),
        cmocka_unit_test(test_bep44_errors),
        cmocka_unit_test(test_bep44_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
