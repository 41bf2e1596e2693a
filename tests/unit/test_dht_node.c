/* The DHT node shell: eight nodes on loopback in one event_base bootstrap
 * from node 0, one announces, another finds the peer; malformed and
 * unknown queries get errors 203 and 204. */
#include "testutil.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/krpc.h"
#include "io/dht_node.h"
#include "dht_fixture.h"

#define NODES 8

static void net_up(struct net *w)
{
    net_init(w);
    for (int i = 0; i < NODES; i++) {
        uint8_t id[RILL_KRPC_ID_LEN];
        tu_fill(id, sizeof id, 100 + (uint64_t)i);
        struct rill_dht_opts c = {.bind4 = "127.0.0.1:0", .node_id = id, .rng_seed = 1 + (uint64_t)i};
        assert_int_equal(rill_dht_new(&w->node[i], w->base, &c), 0);
        assert_int_not_equal(rill_dht_port(w->node[i], 4), 0);
    }
}

static void bootstrap_all(struct net *w)
{
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", rill_dht_port(w->node[0], 4));
    for (int i = 1; i < NODES; i++)
        assert_int_equal(rill_dht_bootstrap(w->node[i], addr), 0);
    run_until(w, none_bootstrapping, w);
    /* Node 0 heard everyone; the others learned of each other through it. */
    assert_int_equal(rill_dht_node_count(w->node[0]), NODES - 1);
    for (int i = 1; i < NODES; i++)
        assert_true(rill_dht_node_count(w->node[i]) >= 2);
}

static void test_announce_and_find(void **state)
{
    (void)state;
    struct net w;
    net_up(&w);
    bootstrap_all(&w);
    uint8_t ih[RILL_KRPC_ID_LEN];
    tu_fill(ih, sizeof ih, 7);

    struct found before = {0};
    assert_int_equal(rill_dht_get_peers(w.node[6], ih, on_peers, &before), 0);
    run_until(&w, found_done, &before);
    assert_int_equal(before.n, 0); /* nothing announced yet */

    struct found ann = {0};
    assert_int_equal(rill_dht_announce(w.node[3], ih, 6881, on_peers, &ann), 0);
    run_until(&w, found_done, &ann);

    struct found got = {0};
    assert_int_equal(rill_dht_get_peers(w.node[6], ih, on_peers, &got), 0);
    run_until(&w, found_done, &got);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.peers[0].addr_len, 4);
    assert_int_equal(got.peers[0].port, 6881);
    const uint8_t lo[4] = {127, 0, 0, 1};
    assert_memory_equal(got.peers[0].addr, lo, 4);
    net_down(&w);
}

/* Sends p[0..len) to `port` from a fresh socket and returns the reply's
 * length in out (0 when none came within 300 ms). */
static size_t exchange(struct net *w, uint16_t port, const char *p, uint8_t *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(fd, p, strlen(p), 0, (struct sockaddr *)&sa, sizeof sa),
                     (ssize_t)strlen(p));
    size_t got = 0;
    for (int i = 0; i < 15 && !got; i++) {
        struct timeval slice = {0, 20000};
        event_base_loopexit(w->base, &slice);
        event_base_dispatch(w->base);
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 0) == 1) {
            ssize_t r = recv(fd, out, cap, 0);
            got = r > 0 ? (size_t)r : 0;
        }
    }
    close(fd);
    return got;
}

static void expect_error(struct net *w, const char *query, int64_t code, const char *tid)
{
    uint8_t buf[1500];
    size_t len = exchange(w, rill_dht_port(w->node[1], 4), query, buf, sizeof buf);
    assert_true(len > 0);
    struct rill_krpc_msg m;
    assert_int_equal(rill_krpc_parse(buf, len, &m, NULL), 0);
    assert_int_equal(m.type, RILL_KRPC_ERROR);
    assert_int_equal(m.err_code, code);
    assert_int_equal(m.tid_len, strlen(tid));
    assert_memory_equal(m.tid, tid, strlen(tid));
    assert_true(len <= 64); /* no larger than needed */
}

static void test_errors(void **state)
{
    (void)state;
    struct net w;
    net_up(&w);
    /* An id of 3 bytes: a malformed query. */
    expect_error(&w, "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe", RILL_KRPC_E_PROTOCOL, "aa");
    expect_error(&w, "d1:ad2:id20:abcdefghij0123456789e1:q4:kick1:t2:bb1:y1:qe", RILL_KRPC_E_METHOD,
                 "bb");
    /* announce_peer with a token we never issued. */
    expect_error(&w,
                 "d1:ad2:id20:abcdefghij0123456789"
                 "9:info_hash20:mnopqrstuvwxyz0123454:porti6881e5:token8:xxxxxxxxe"
                 "1:q13:announce_peer1:t2:cc1:y1:qe",
                 RILL_KRPC_E_PROTOCOL, "cc");
    uint8_t buf[1500];
    assert_int_equal(exchange(&w, rill_dht_port(w.node[1], 4), "not bencode", buf, sizeof buf),
                     0);
    /* A malformed response starts no exchange either. */
    assert_int_equal(exchange(&w, rill_dht_port(w.node[1], 4), "d1:rd2:id1:xe1:t2:dd1:y1:re",
                              buf, sizeof buf),
                     0);
    /* A valid ping is answered, and the pinger lands in the table. */
    size_t len =
        exchange(&w, rill_dht_port(w.node[1], 4),
                 "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:ee1:y1:qe", buf, sizeof buf);
    struct rill_krpc_msg m;
    assert_int_equal(rill_krpc_parse(buf, len, &m, NULL), 0);
    assert_int_equal(m.type, RILL_KRPC_RESPONSE);
    assert_memory_equal(m.id, rill_dht_id(w.node[1]), RILL_KRPC_ID_LEN);
    assert_int_equal(rill_dht_node_count(w.node[1]), 1);
    net_down(&w);
}

static void test_bad_args(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct rill_dht *n = NULL;
    struct rill_dht_opts bad = {.bind4 = "nonsense"}, none = {0}, ok = {.bind4 = "127.0.0.1:0"};
    assert_int_equal(rill_dht_new(&n, base, &bad), RILL_EINVAL);
    assert_null(n);
    assert_int_equal(rill_dht_new(&n, base, &none), RILL_EINVAL);
    bad.bind4 = "[::1]:0"; /* an IPv6 address for the IPv4 socket */
    assert_int_equal(rill_dht_new(&n, base, &bad), RILL_EINVAL);
    assert_int_equal(rill_dht_new(&n, base, &ok), 0);
    assert_int_equal(rill_dht_bootstrap(n, "[::1]:6881"), RILL_EINVAL); /* no IPv6 socket */
    assert_int_equal(rill_dht_bootstrap(n, "127.0.0.1"), RILL_EINVAL);
    assert_int_equal(rill_dht_bootstrap(n, "127.0.0.1:99999"), RILL_EINVAL);
    rill_dht_free(n);
    event_base_free(base);
}

static bool not_bootstrapping(void *arg)
{
    return !rill_dht_bootstrapping(arg);
}

/* A bootstrap node that never answers: the ping times out after 2 s. */
static void test_timeout(void **state)
{
    (void)state;
    struct net w;
    net_up(&w);
    char addr[64];
    uint16_t dead = rill_dht_port(w.node[7], 4);
    rill_dht_free(w.node[7]);
    w.node[7] = NULL;
    snprintf(addr, sizeof addr, "127.0.0.1:%u", dead);
    uint64_t t0 = tu_now_ms();
    assert_int_equal(rill_dht_bootstrap(w.node[1], addr), 0);
    run_until(&w, not_bootstrapping, w.node[1]);
    uint64_t took = tu_now_ms() - t0;
    assert_true(took >= RILL__DHT_QUERY_TIMEOUT_MS);
    assert_true(took < RILL__DHT_QUERY_TIMEOUT_MS + 1000);
    assert_int_equal(rill_dht_node_count(w.node[1]), 0);
    net_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_announce_and_find),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
