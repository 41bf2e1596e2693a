/* The DHT lab (lab/sim_dht.h): each engine shows the growth the textbook
 * claims, Kademlia (rill's own table and lookup cores) finds every key in
 * about log2(N)/2 hops, runs replay exactly, and larger k survives churn
 * better. Small networks, so it runs in seconds under the sanitizers. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "sim_dht.h"

static struct rill_dht_sim_cost cost(int engine, uint32_t n, uint32_t lookups)
{
    struct rill_dht_sim_cost c;
    assert_int_equal(rill_dht_sim_cost(engine, n, lookups, 7, &c), 0);
    assert_int_equal(c.nodes, n);
    return c;
}

static void test_kademlia_log_hops(void **state)
{
    (void)state;
    struct rill_dht_sim_cost c = cost(RILL_DHT_SIM_KADEMLIA, 1000, 200);
    assert_true(c.hops_median <= log2(1000) / 2 + 2);
    assert_true(c.success == 1.0);
    assert_true(c.msgs_mean >= 8 && c.msgs_mean < 40);
    assert_true(c.busiest_share < 0.05);
}

static void test_ring_linear(void **state)
{
    (void)state;
    struct rill_dht_sim_cost c = cost(RILL_DHT_SIM_RING, 400, 300);
    assert_true(c.hops_mean >= 400 / 4.0 && c.hops_mean <= 400 / 2.0 + 20);
    assert_true(c.success == 1.0);
}

static void test_chord_log(void **state)
{
    (void)state;
    struct rill_dht_sim_cost c = cost(RILL_DHT_SIM_CHORD, 1024, 300);
    assert_true(c.hops_mean >= 10 / 2.0 - 1.5 && c.hops_mean <= 10 / 2.0 + 1.5);
    assert_true(c.success == 1.0);
}

static void test_directory_bottleneck(void **state)
{
    (void)state;
    struct rill_dht_sim_cost c = cost(RILL_DHT_SIM_DIRECTORY, 500, 100);
    assert_true(c.hops_mean == 1 && c.msgs_mean == 1 && c.busiest_share == 1.0);
}

static void test_flood_linear(void **state)
{
    (void)state;
    struct rill_dht_sim_cost a = cost(RILL_DHT_SIM_FLOOD, 200, 50);
    struct rill_dht_sim_cost b = cost(RILL_DHT_SIM_FLOOD, 2000, 50);
    assert_true(a.success == 1.0 && b.success == 1.0);
    double r = b.msgs_mean / a.msgs_mean;
    assert_true(r > 8 && r < 12); /* ten times the nodes, ten times the messages */
    assert_true(a.msgs_mean >= 200);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct rill_dht_sim_cost a = cost(RILL_DHT_SIM_KADEMLIA, 300, 50);
    struct rill_dht_sim_cost b = cost(RILL_DHT_SIM_KADEMLIA, 300, 50);
    assert_memory_equal(&a, &b, sizeof a);
    struct rill_dht_sim_churn x, y;
    assert_int_equal(rill_dht_sim_churn(RILL_DHT_SIM_KADEMLIA, 2, 300, 0.2, 50, 3, &x), 0);
    assert_int_equal(rill_dht_sim_churn(RILL_DHT_SIM_KADEMLIA, 2, 300, 0.2, 50, 3, &y), 0);
    assert_memory_equal(&x, &y, sizeof x);
    struct rill_dht_sim_cost c;
    assert_int_equal(rill_dht_sim_cost(RILL_DHT_SIM_KADEMLIA, 300, 50, 8, &c), 0);
    assert_true(memcmp(&a, &c, sizeof a) != 0); /* another seed, another run */
}

static void test_churn_k(void **state)
{
    (void)state;
    struct rill_dht_sim_churn k1, k8, r1, r2;
    assert_int_equal(rill_dht_sim_churn(RILL_DHT_SIM_KADEMLIA, 1, 400, 0.3, 200, 5, &k1), 0);
    assert_int_equal(rill_dht_sim_churn(RILL_DHT_SIM_KADEMLIA, 8, 400, 0.3, 200, 5, &k8), 0);
    assert_true(k8.lookup_ok > k1.lookup_ok && k8.survived > k1.survived);
    assert_true(k8.lookup_ok >= 0.95);
    assert_int_equal(rill_dht_sim_churn(RILL_DHT_SIM_CHORD, 1, 400, 0.3, 200, 5, &r1), 0);
    assert_int_equal(rill_dht_sim_churn(RILL_DHT_SIM_CHORD, 2, 400, 0.3, 200, 5, &r2), 0);
    assert_true(r2.lookup_ok > r1.lookup_ok && r2.survived > r1.survived);
    assert_true(fabs(r1.survived - 0.7) < 0.1); /* one copy: lost with its node */
}

static void test_join(void **state)
{
    (void)state;
    struct rill_dht_sim_join ring, kad;
    assert_int_equal(rill_dht_sim_join(RILL_DHT_SIM_RING, 500, 20, 1, &ring), 0);
    assert_int_equal(rill_dht_sim_join(RILL_DHT_SIM_KADEMLIA, 500, 10, 1, &kad), 0);
    assert_true(ring.place_msgs > 100);
    assert_true(kad.place_msgs > 2 && kad.place_msgs < 40);
    assert_true(kad.table_after_place >= 8);
    assert_true(kad.table_after_fill > kad.table_after_place);
}

static void test_bad_args(void **state)
{
    (void)state;
    struct rill_dht_sim_cost c;
    struct rill_dht_sim_churn ch;
    struct rill_dht_sim_join j;
    assert_int_equal(rill_dht_sim_cost(RILL_DHT_SIM_ENGINES, 100, 10, 1, &c), RILL_EINVAL);
    assert_int_equal(rill_dht_sim_cost(RILL_DHT_SIM_RING, 1, 10, 1, &c), RILL_EINVAL);
    assert_int_equal(rill_dht_sim_cost(RILL_DHT_SIM_RING, 100, 0, 1, &c), RILL_EINVAL);
    assert_int_equal(rill_dht_sim_churn(RILL_DHT_SIM_KADEMLIA, 9, 100, 0.1, 10, 1, &ch),
                     RILL_EINVAL);
    assert_int_equal(rill_dht_sim_churn(RILL_DHT_SIM_RING, 3, 100, 0.1, 10, 1, &ch), RILL_EINVAL);
    assert_int_equal(rill_dht_sim_join(RILL_DHT_SIM_FLOOD, 100, 10, 1, &j), RILL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kademlia_log_hops), cmocka_unit_test(test_ring_linear),
        cmocka_unit_test(test_chord_log),         cmocka_unit_test(test_directory_bottleneck),
        cmocka_unit_test(test_flood_linear),      cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_churn_k),           cmocka_unit_test(test_join),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
