/* The lab's bounds and charts: the textbook's example (F/u = 1 hour,
 * u_s = 10u, d_min = u_s), peer classes and their rounding, the download
 * term, and an SVG that parses and says what it should. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "model.h"
#include "svg.h"

static struct rill_model textbook(void)
{
    const double u = 1000;
    return (struct rill_model){.file_size = 3600 * u, .server_up = 10 * u,
                               .classes = {{.share = 1, .up = u, .down = 10 * u}},
                               .nclasses = 1};
}

static void test_textbook(void **state)
{
    (void)state;
    struct rill_model m = textbook();
    assert_true(rill_model_client_server(&m, 0) == 0 && rill_model_p2p(&m, 0) == 0);
    /* Client-server grows by F/u_s = 6 minutes a peer: 3 hours at 30. */
    assert_true(fabs(rill_model_client_server(&m, 30) - 3 * 3600) < 1e-6);
    assert_true(fabs(rill_model_client_server(&m, 1) - 360) < 1e-6);
    /* P2P: N*F/(u_s + N*u) = 30/40 hour at 30 peers, and never an hour. */
    assert_true(fabs(rill_model_p2p(&m, 30) - 0.75 * 3600) < 1e-6);
    assert_true(fabs(rill_model_p2p(&m, 1) - 360) < 1e-6); /* F/u_s and F/d_min tie */
    for (size_t n = 1; n <= 1000; n++) {
        assert_true(rill_model_p2p(&m, n) < 3600);
        assert_true(rill_model_p2p(&m, n) <= rill_model_client_server(&m, n) + 1e-9);
    }
}

static void test_classes(void **state)
{
    (void)state;
    struct rill_model m = {.file_size = 1e6, .server_up = 1e5,
                           .classes = {{.share = 20, .up = 8e5, .down = 4e6},
                                       {.share = 80, .up = 1e5, .down = 1e6}},
                           .nclasses = 2};
    size_t c[RILL_MODEL_MAX_CLASSES];
    rill_model_split(&m, 10, c);
    assert_int_equal(c[0], 2);
    assert_int_equal(c[1], 8);
    rill_model_split(&m, 3, c); /* 0.6 and 2.4: the larger remainder wins */
    assert_int_equal(c[0] + c[1], 3);
    assert_int_equal(c[0], 1);
    /* 10 peers: u_s + 2*8e5 + 8*1e5 = 2.5e6; 10 * 1e6 / 2.5e6 = 4 s, under
     * F/u_s = 10 s, which is the bound; the slow class's F/d = 1 s. */
    assert_true(fabs(rill_model_p2p(&m, 10) - 10) < 1e-9);
    assert_true(fabs(rill_model_client_server(&m, 10) - 100) < 1e-9);
    /* A slow download dominates when it is the slowest thing. */
    m.classes[1].down = 1e4;
    assert_true(fabs(rill_model_p2p(&m, 10) - 100) < 1e-9);
    /* Unlimited downloads (0) do not bound anything. */
    m.classes[0].down = m.classes[1].down = 0;
    assert_true(fabs(rill_model_client_server(&m, 1) - 10) < 1e-9);
}

static void test_svg(void **state)
{
    (void)state;
    double x[] = {0, 10, 20}, y1[] = {0, 1, 2}, y2[] = {0, 0.5, 0.6};
    struct rill_svg_series s[] = {{.name = "a<b", .x = x, .y = y1, .n = 3, .color = "#f00"},
                                  {.name = "c", .x = x, .y = y2, .n = 3, .points = true}};
    struct rill_svg_chart c = {.title = "T & t", .x_label = "N", .y_label = "h", .series = s,
                               .nseries = 2};
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_svg_chart(&b, &c), 0);
    rill_buf_append(&b, "", 1);
    const char *svg = (const char *)b.data;
    assert_non_null(strstr(svg, "<svg xmlns='http://www.w3.org/2000/svg'"));
    assert_non_null(strstr(svg, "T &amp; t"));
    assert_non_null(strstr(svg, "a&lt;b"));
    assert_null(strstr(svg, "a<b"));
    assert_non_null(strstr(svg, "<polyline"));
    assert_non_null(strstr(svg, "<circle"));
    assert_non_null(strstr(svg, "</svg>\n"));
    rill_buf_free(&b);
    /* Bad data is refused, not drawn. */
    double bad[] = {0, NAN, 1};
    s[1].y = bad;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_svg_chart(&b, &c), RILL_EINVAL);
    s[1].n = 0;
    assert_int_equal(rill_svg_chart(&b, &c), RILL_EINVAL);
    rill_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textbook),
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_svg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
