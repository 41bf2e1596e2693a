/* The DHT node, continued: dual-stack nodes (BEP 32) find peers of both
 * families, the per-address query limit, BEP 42's "ip" in answers, and the
 * state file that lets a restarted node rejoin at once. */
#include "testutil.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/krpc.h"
#include "io/dht_node.h"
#include "dht_fixture.h"

#define NODES 6

static void test_dual_stack(void **state)
{
    (void)state;
    struct net w;
    net_init(&w);
    for (int i = 0; i < NODES; i++) {
        struct rill_dht_opts c = {
            .bind4 = "127.0.0.1:0", .bind6 = "[::1]:0", .rng_seed = 10 + (uint64_t)i};
        assert_int_equal(rill_dht_new(&w.node[i], w.base, &c), 0);
        assert_int_not_equal(rill_dht_port(w.node[i], 6), 0);
    }
    char a4[64], a6[64];
    snprintf(a4, sizeof a4, "127.0.0.1:%u", rill_dht_port(w.node[0], 4));
    snprintf(a6, sizeof a6, "[::1]:%u", rill_dht_port(w.node[0], 6));
    for (int i = 1; i < NODES; i++) {
        assert_int_equal(rill_dht_bootstrap(w.node[i], a4), 0);
        assert_int_equal(rill_dht_bootstrap(w.node[i], a6), 0);
    }
    run_until(&w, none_bootstrapping, &w);
    struct rill_dht_stats st;
    rill_dht_stats(w.node[0], &st);
    assert_int_equal(st.nodes[0], NODES - 1);
    assert_int_equal(st.nodes[1], NODES - 1);
    for (int i = 1; i < NODES; i++) {
        rill_dht_stats(w.node[i], &st);
        assert_true(st.nodes[0] >= 2 && st.nodes[1] >= 2);
    }

    /* Node 2 announces with implied_port: the peer is its DHT port, in
     * each family. */
    uint8_t ih[RILL_KRPC_ID_LEN];
    tu_fill(ih, sizeof ih, 99);
    struct found ann = {0}, got = {0};
    assert_int_equal(rill_dht_announce(w.node[2], ih, 0, on_peers, &ann), 0);
    run_until(&w, found_done, &ann);
    assert_int_equal(rill_dht_get_peers(w.node[5], ih, on_peers, &got), 0);
    run_until(&w, found_done, &got);
    assert_int_equal(got.n, 2);
    bool v4 = false, v6 = false;
    static const uint8_t lo6[16] = {[15] = 1};
    for (size_t i = 0; i < got.n; i++) {
        if (got.peers[i].addr_len == 4) {
            v4 = true;
            assert_int_equal(got.peers[i].port, rill_dht_port(w.node[2], 4));
        } else {
            v6 = true;
            assert_memory_equal(got.peers[i].addr, lo6, 16);
            assert_int_equal(got.peers[i].port, rill_dht_port(w.node[2], 6));
        }
    }
    assert_true(v4 && v6);
    assert_true(rill_dht_last_hops(w.node[5]) <= 3);
    net_down(&w);
}

/* Sends `count` pings from one socket to `port`, then collects replies for
 * 300 ms of loop time; returns how many came, the last one in *last. */
static int ping_burst(struct net *w, uint16_t port, int count, struct rill_krpc_msg *last)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:pp1:y1:qe";
    for (int i = 0; i < count; i++)
        assert_int_equal(sendto(fd, ping, strlen(ping), 0, (struct sockaddr *)&sa, sizeof sa),
                         (ssize_t)strlen(ping));
    int replies = 0;
    for (int i = 0; i < 15; i++) {
        struct timeval slice = {0, 20000};
        event_base_loopexit(w->base, &slice);
        event_base_dispatch(w->base);
        uint8_t buf[1500];
        ssize_t r;
        while ((r = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
            assert_int_equal(rill_krpc_parse(buf, (size_t)r, last, NULL), 0);
            replies++;
        }
    }
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &ml), 0);
    close(fd);
    return replies ? (int)ntohs(me.sin_port) << 8 | replies : 0;
}

static void test_rate_limit_and_ip(void **state)
{
    (void)state;
    struct net w;
    net_init(&w);
    struct rill_dht_opts c = {
        .bind4 = "127.0.0.1:0", .rng_seed = 3, .query_rate = 1, .query_burst = 4};
    assert_int_equal(rill_dht_new(&w.node[0], w.base, &c), 0);
    struct rill_krpc_msg m;
    int r = ping_burst(&w, rill_dht_port(w.node[0], 4), 20, &m);
    assert_int_equal(r & 0xFF, 4); /* the burst, then silence */
    assert_int_equal(m.type, RILL_KRPC_RESPONSE);
    /* BEP 42: the answer says where it saw us. */
    assert_true(m.present & RILL_KRPC_HAS_IP);
    assert_int_equal(m.ip_len, 4);
    static const uint8_t lo[4] = {127, 0, 0, 1};
    assert_memory_equal(m.ip, lo, 4);
    assert_int_equal(m.ip_port, (unsigned)r >> 8);
    struct rill_dht_stats st;
    rill_dht_stats(w.node[0], &st);
    assert_int_equal(st.queries_in, 20);
    assert_int_equal(st.refused, 16);
    net_down(&w);
}

static bool has_nodes(void *arg)
{
    return rill_dht_node_count(arg) >= 3 && !rill_dht_bootstrapping(arg);
}

static void test_state_file(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char path[512];
    snprintf(path, sizeof path, "%s/sub/dht.state", dir);
    struct net w;
    net_init(&w);
    for (int i = 0; i < 4; i++) {
        struct rill_dht_opts c = {.bind4 = "127.0.0.1:0", .rng_seed = 20 + (uint64_t)i};
        if (i == 3)
            c.state_path = path;
        assert_int_equal(rill_dht_new(&w.node[i], w.base, &c), 0);
    }
    char a[64];
    snprintf(a, sizeof a, "127.0.0.1:%u", rill_dht_port(w.node[0], 4));
    for (int i = 1; i < 4; i++)
        assert_int_equal(rill_dht_bootstrap(w.node[i], a), 0);
    run_until(&w, none_bootstrapping, &w);
    uint8_t id[RILL_KRPC_ID_LEN];
    memcpy(id, rill_dht_id(w.node[3]), sizeof id);
    rill_dht_free(w.node[3]); /* writes the file */
    w.node[3] = NULL;

    /* The restarted node has its old id and rejoins without a bootstrap. */
    struct rill_dht_opts c = {.bind4 = "127.0.0.1:0", .rng_seed = 30, .state_path = path};
    assert_int_equal(rill_dht_new(&w.node[3], w.base, &c), 0);
    assert_memory_equal(rill_dht_id(w.node[3]), id, sizeof id);
    assert_true(rill_dht_node_count(w.node[3]) >= 3);
    run_until(&w, has_nodes, w.node[3]);
    struct rill_dht_stats st;
    rill_dht_stats(w.node[3], &st);
    assert_true(st.replies_in >= 3);

    /* A file that is not ours is refused, not overwritten. */
    rill_dht_free(w.node[3]);
    w.node[3] = NULL;
    tu_write_file(path, "garbage", 7);
    assert_int_equal(rill_dht_new(&w.node[3], w.base, &c), RILL_EIO);
    size_t len = 0;
    uint8_t *kept = tu_read_file(path, &len);
    assert_int_equal(len, 7);
    free(kept);
    net_down(&w);
    tu_rmrf(dir);
    free(dir);
}

struct item_res {
    bool done;
    bool found;
    int error;
    int64_t seq;
    unsigned stored;
    size_t v_len;
    uint8_t v[RILL_DHT_ITEM_VALUE_MAX];
};

static void on_item(void *ctx, const struct rill_dht_item_info *it, int error)
{
    struct item_res *r = ctx;
    r->done = true;
    r->error = error;
    r->found = it != NULL;
    if (it) {
        r->seq = it->seq;
        r->stored = it->stored;
        r->v_len = it->v_len;
        memcpy(r->v, it->v, it->v_len);
    }
}

static bool item_done(void *arg)
{
    return ((struct item_res *)arg)->done;
}

static void v4_net(struct net *w, uint64_t seed)
{
    net_init(w);
    for (int i = 0; i < NODES; i++) {
        struct rill_dht_opts c = {.bind4 = "127.0.0.1:0", .rng_seed = seed + (uint64_t)i};
        assert_int_equal(rill_dht_new(&w->node[i], w->base, &c), 0);
    }
    char a[64];
    snprintf(a, sizeof a, "127.0.0.1:%u", rill_dht_port(w->node[0], 4));
    for (int i = 1; i < NODES; i++)
        assert_int_equal(rill_dht_bootstrap(w->node[i], a), 0);
    run_until(w, none_bootstrapping, w);
}

/* BEP 44 through the nodes: an immutable item put by one node is found by
 * another; mutable versions by the key's holder, newest seq winning, and an
 * older seq refused. */
static void test_items(void **state)
{
    (void)state;
    struct net w;
    v4_net(&w, 40);
    const char *v = "12:Hello World!";
    struct item_res put = {0}, got = {0};
    assert_int_equal(rill_dht_put_immutable(w.node[1], (const uint8_t *)v, strlen(v), on_item, &put),
                     0);
    run_until(&w, item_done, &put);
    assert_true(put.found);
    assert_true(put.stored >= 3);
    uint8_t target[20];
    rill_dht_target_immutable((const uint8_t *)v, strlen(v), target);
    assert_int_equal(rill_dht_get_item(w.node[4], target, NULL, 0, on_item, &got), 0);
    run_until(&w, item_done, &got);
    assert_true(got.found);
    assert_int_equal(got.v_len, strlen(v));
    assert_memory_equal(got.v, v, strlen(v));
    /* Not bencode, or nothing stored: refused, or not found. */
    assert_int_equal(rill_dht_put_immutable(w.node[1], (const uint8_t *)"12:Hello", 8, on_item, &put),
                     RILL_EINVAL);
    struct item_res none = {0};
    target[0] ^= 1;
    assert_int_equal(rill_dht_get_item(w.node[4], target, NULL, 0, on_item, &none), 0);
    run_until(&w, item_done, &none);
    assert_false(none.found);

    uint8_t seed[32];
    tu_fill(seed, sizeof seed, 5);
    const uint8_t salt[] = "foobar";
    for (int64_t want = 1; want <= 2; want++) {
        struct item_res m = {0};
        const char *mv = want == 1 ? "i1e" : "i2e";
        assert_int_equal(rill_dht_put_mutable(w.node[2], seed, salt, 6, NULL, (const uint8_t *)mv,
                                              3, on_item, &m),
                         0);
        run_until(&w, item_done, &m);
        assert_true(m.found);
        assert_int_equal(m.seq, want); /* one above what the lookup found */
    }
    struct item_res old = {0};
    int64_t one = 1;
    assert_int_equal(rill_dht_put_mutable(w.node[3], seed, salt, 6, &one, (const uint8_t *)"i9e", 3,
                                          on_item, &old),
                     0);
    run_until(&w, item_done, &old);
    assert_false(old.found);
    assert_int_equal(old.error, RILL_EINVAL);
    struct item_res mg = {0};
    assert_int_equal(rill_dht_target_mutable(seed, salt, 6, target), 0);
    assert_int_equal(rill_dht_get_item(w.node[5], target, salt, 6, on_item, &mg), 0);
    run_until(&w, item_done, &mg);
    assert_true(mg.found);
    assert_int_equal(mg.seq, 2);
    assert_memory_equal(mg.v, "i2e", 3);
    /* The wrong salt names another target: nothing there. */
    struct item_res ws = {0};
    assert_int_equal(rill_dht_get_item(w.node[5], target, (const uint8_t *)"x", 1, on_item, &ws), 0);
    run_until(&w, item_done, &ws);
    assert_false(ws.found);
    struct rill_dht_stats st;
    size_t items = 0;
    for (int i = 0; i < NODES; i++) {
        rill_dht_stats(w.node[i], &st);
        items += st.items;
    }
    assert_true(items >= 6); /* two items on at least three nodes each */
    net_down(&w);
}

/* Two nodes: each is the other's only neighbour, so an announce is
 * stored only at the other, and a lookup must read its own store too. */
static void test_two_nodes(void **state)
{
    (void)state;
    struct net w;
    net_init(&w);
    for (int i = 0; i < 2; i++) {
        struct rill_dht_opts c = {.bind4 = "127.0.0.1:0", .rng_seed = 70 + (uint64_t)i};
        assert_int_equal(rill_dht_new(&w.node[i], w.base, &c), 0);
    }
    char a[64];
    snprintf(a, sizeof a, "127.0.0.1:%u", rill_dht_port(w.node[0], 4));
    assert_int_equal(rill_dht_bootstrap(w.node[1], a), 0);
    run_until(&w, none_bootstrapping, &w);
    uint8_t ih[RILL_KRPC_ID_LEN];
    tu_fill(ih, sizeof ih, 71);
    struct found ann = {0}, got = {0};
    assert_int_equal(rill_dht_announce(w.node[0], ih, 4000, on_peers, &ann), 0);
    run_until(&w, found_done, &ann);
    assert_int_equal(rill_dht_last_stored(w.node[0]), 1); /* the only other node */
    assert_int_equal(rill_dht_get_peers(w.node[1], ih, on_peers, &got), 0);
    run_until(&w, found_done, &got);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.peers[0].port, 4000);
    net_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dual_stack),
        cmocka_unit_test(test_rate_limit_and_ip),
        cmocka_unit_test(test_state_file),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_two_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
