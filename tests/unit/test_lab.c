/* The lab's shared parts: the plan drawn from an experiment, the bound for
 * exactly that plan, the report in each format, and the reader of the
 * processes' JSON lines. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"
#include "lab.h"
#include "report.h"

static struct rill_lab_config config(unsigned peers)
{
    struct rill_lab_config c;
    rill_lab_config_default(&c);
    c.peers = peers;
    return c;
}

static void test_defaults_and_checks(void **state)
{
    (void)state;
    struct rill_lab_config c = config(8);
    const char *why = NULL;
    assert_int_equal(rill_lab_config_check(&c, &why), 0);
    c.piece_size = 100000; /* not a power of two */
    assert_int_equal(rill_lab_config_check(&c, &why), RILL_EINVAL);
    assert_non_null(why);
    c = config(0);
    assert_int_equal(rill_lab_config_check(&c, &why), RILL_EINVAL);
    c = config(4);
    c.free_riders = 1.5;
    assert_int_equal(rill_lab_config_check(&c, &why), RILL_EINVAL);
    c = config(4);
    c.seed_up = 0;
    assert_int_equal(rill_lab_config_check(&c, &why), RILL_EINVAL);
}

/* Classes by largest remainder, free-riders and churners by count, the
 * same plan for the same seed. */
static void test_plan(void **state)
{
    (void)state;
    struct rill_lab_config c = config(10);
    c.classes.nclasses = 2;
    c.classes.classes[0] = (struct rill_model_class){.share = 0.2, .up = 8 << 20, .down = 32 << 20};
    c.classes.classes[1] = (struct rill_model_class){.share = 0.8, .up = 1 << 20, .down = 8 << 20};
    c.free_riders = 0.3;
    c.churn = 0.2;
    c.arrival = RILL_LAB_POISSON;
    c.arrival_gap_s = 2;
    struct rill_lab_peer a[10], b[10];
    rill_lab_plan(&c, a);
    rill_lab_plan(&c, b);
    assert_memory_equal(a, b, sizeof a);
    unsigned fast = 0, riders = 0, churners = 0;
    for (int i = 0; i < 10; i++) {
        fast += a[i].cls == 0;
        riders += a[i].free_rider;
        churners += a[i].churn_at > 0;
        assert_true(a[i].free_rider == (a[i].up == 0));
        if (a[i].churn_at > 0)
            assert_true(a[i].churn_at >= 0.2 && a[i].churn_at <= 0.8);
        assert_true(a[i].done_s < 0 && a[i].first_piece_s < 0);
        if (i > 0)
            assert_true(a[i].arrive_s >= a[i - 1].arrive_s);
    }
    assert_int_equal(fast, 2);
    assert_int_equal(riders, 3);
    assert_int_equal(churners, 2);
    assert_true(a[0].arrive_s == 0 && a[9].arrive_s > 0);
    c.rng_seed = 2;
    rill_lab_plan(&c, b);
    assert_memory_not_equal(a, b, sizeof a);
    /* Client-server: nobody uploads, and nobody is called a free-rider. */
    c.mode = RILL_LAB_CLIENT_SERVER;
    rill_lab_plan(&c, a);
    for (int i = 0; i < 10; i++)
        assert_true(a[i].up == 0 && !a[i].free_rider);
}

static void test_bound(void **state)
{
    (void)state;
    /* 16 x 64 MiB, seed 8 MiB/s, each 2 MiB/s up: N*F/(u_s + sum u) = 25.6 s. */
    struct rill_lab_config c = config(16);
    c.file_size = 64u << 20;
    c.seed_up = 8u << 20;
    c.classes.classes[0] = (struct rill_model_class){.share = 1, .up = 2 << 20, .down = 16 << 20};
    struct rill_lab_peer p[16];
    rill_lab_plan(&c, p);
    assert_true(fabs(rill_lab_bound(&c, p) - 25.6) < 1e-9);
    c.mode = RILL_LAB_CLIENT_SERVER;
    rill_lab_plan(&c, p);
    assert_true(fabs(rill_lab_bound(&c, p) - 128.0) < 1e-9); /* N*F/u_s */
    /* A late peer cannot finish before it arrives plus F/d. */
    c.mode = RILL_LAB_P2P;
    c.arrival = RILL_LAB_STAGGERED;
    c.arrival_gap_s = 10;
    rill_lab_plan(&c, p);
    assert_true(fabs(rill_lab_bound(&c, p) - (150 + 4.0)) < 1e-9);
    /* Free-riders add no upload: 4 of 16 ride, sum u = 24 MiB/s. */
    c.arrival = RILL_LAB_FLASH;
    c.free_riders = 0.25;
    rill_lab_plan(&c, p);
    assert_true(fabs(rill_lab_bound(&c, p) - 16.0 * 64 / 32) < 1e-9);
}

static struct rill_lab_result sample(void)
{
    struct rill_lab_config c = config(3);
    c.free_riders = 0.34; /* one of three */
    struct rill_lab_result r = {.engine = "swarm", .config = c,
                                .peers = calloc(3, sizeof(struct rill_lab_peer))};
    rill_lab_plan(&c, r.peers);
    for (unsigned i = 0; i < 3; i++) {
        r.peers[i].first_piece_s = 0.5 + i;
        r.peers[i].done_s = 20.0 + i;
        r.peers[i].downloaded = c.file_size;
        r.peers[i].uploaded = r.peers[i].free_rider ? 0 : c.file_size / 2;
    }
    r.seed_uploaded = c.file_size * 2;
    rill_lab_finish(&r);
    return r;
}

static void test_finish_and_reports(void **state)
{
    (void)state;
    struct rill_lab_result r = sample();
    /* 3 x 32 MiB from 4 MiB/s + 2 x 1 MiB/s: 16 s. */
    assert_true(fabs(r.bound_s - 16.0) < 1e-9);
    assert_true(fabs(r.distribution_s - 22.0) < 1e-9);
    assert_true(fabs(r.ratio - 22.0 / 16.0) < 1e-9);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_lab_report_json(&b, &r), 0);
    rill_buf_append(&b, "", 1);
    const char *j = (const char *)b.data;
    assert_non_null(strstr(j, "\"mode\": \"p2p\""));
    assert_non_null(strstr(j, "\"distribution_time_s\": 22.000"));
    assert_non_null(strstr(j, "\"bound_s\": 16.000"));
    assert_non_null(strstr(j, "\"completions\": ["));
    assert_non_null(strstr(j, "\"free_rider\": true"));
    b.len = 0;
    assert_int_equal(rill_lab_report_csv(&b, &r), 0);
    rill_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data, "peer,class,up,down,free_rider"));
    assert_non_null(strstr((const char *)b.data, "\n2,0,"));
    b.len = 0;
    assert_int_equal(rill_lab_report_text(&b, &r), 0);
    rill_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data, "ratio              1.375"));
    assert_non_null(strstr((const char *)b.data, "N*F/(u_s + sum u_i)"));
    assert_non_null(strstr((const char *)b.data, "free-riders"));
    b.len = 0;
    assert_int_equal(rill_lab_report_cdf_svg(&b, &r), 0);
    rill_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data, "<svg"));
    /* One leecher that never completed: no D, no ratio. */
    r.peers[1].done_s = -1;
    rill_lab_finish(&r);
    assert_true(r.distribution_s < 0 && r.ratio < 0);
    b.len = 0;
    assert_int_equal(rill_lab_report_json(&b, &r), 0);
    rill_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data, "\"distribution_time_s\": null"));
    rill_buf_free(&b);
    rill_lab_result_free(&r);
}

static void test_sweep_reports(void **state)
{
    (void)state;
    struct rill_lab_config c = config(4);
    struct rill_lab_sweep_point pts[] = {
        {2, RILL_LAB_P2P, 9.5, 9.0},
        {2, RILL_LAB_CLIENT_SERVER, 16.2, 16.0},
        {4, RILL_LAB_P2P, 11.0, 10.7},
        {4, RILL_LAB_CLIENT_SERVER, -1, 32.0},
    };
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_lab_report_sweep_json(&b, &c, pts, 4), 0);
    rill_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data, "\"mode\": \"client-server\""));
    assert_non_null(strstr((const char *)b.data, "\"distribution_time_s\": null"));
    b.len = 0;
    assert_int_equal(rill_lab_report_sweep_svg(&b, &c, pts, 4), 0);
    rill_buf_append(&b, "", 1);
    assert_non_null(strstr((const char *)b.data, "measured, p2p"));
    assert_non_null(strstr((const char *)b.data, "bound D_cs"));
    rill_buf_free(&b);
}

static void test_json_scan(void **state)
{
    (void)state;
    const char *l = "{\"event\": \"progress\", \"t_ms\": 999, \"msg\": \"x \\\"have\\\": 5\", "
                    "\"have\": 921436160, \"state\": \"seeding\"}";
    size_t n = strlen(l);
    uint64_t v = 0;
    char s[32];
    assert_true(rill_lab_json_u64(l, n, "have", &v));
    assert_true(v == 921436160);
    assert_true(rill_lab_json_u64(l, n, "t_ms", &v) && v == 999);
    assert_true(rill_lab_json_str(l, n, "event", s, sizeof s));
    assert_string_equal(s, "progress");
    assert_true(rill_lab_json_str(l, n, "state", s, sizeof s));
    assert_string_equal(s, "seeding");
    assert_false(rill_lab_json_u64(l, n, "missing", &v));
    assert_false(rill_lab_json_u64(l, n, "event", &v)); /* a string, not a number */
    assert_false(rill_lab_json_str(l, n, "event", s, 4)); /* does not fit */
    /* Compact lines as the session log prints them, and a cut line. */
    const char *c = "{\"t_ms\":12,\"event\":\"complete\",\"msg\":\"done\"}";
    assert_true(rill_lab_json_str(c, strlen(c), "event", s, sizeof s));
    assert_string_equal(s, "complete");
    assert_false(rill_lab_json_u64(c, 8, "t_ms", &v));
    const char *big = "{\"x\": 99999999999999999999}";
    assert_false(rill_lab_json_u64(big, strlen(big), "x", &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_checks),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_finish_and_reports),
        cmocka_unit_test(test_sweep_reports),
        cmocka_unit_test(test_json_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
