/* BEP 14 local service discovery messages: what libtorrent and
 * Transmission send parses, ours round-trips, junk is refused. */
#include "testutil.h"

#include <string.h>

#include "core/lsd.h"

static int parse(const char *s, struct rill_lsd_msg *m)
{
    return rill_lsd_parse((const uint8_t *)s, strlen(s), m, NULL);
}

static void test_parse_real(void **state)
{
    (void)state;
    struct rill_lsd_msg m;
    /* libtorrent's form: an Infohash line per torrent, a cookie. */
    assert_int_equal(parse("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n"
                           "Infohash: 0123456789ABCDEF0123456789abcdef01234567\r\n"
                           "Infohash: ffffffffffffffffffffffffffffffffffffffff\r\n"
                           "cookie: 1a2b\r\n\r\n\r\n",
                           &m),
                     0);
    assert_int_equal(m.port, 6881);
    assert_int_equal(m.n_hashes, 2);
    assert_int_equal(m.hashes[0][0], 0x01);
    assert_int_equal(m.hashes[0][19], 0x67);
    assert_string_equal(m.cookie, "1a2b");
    /* Lower-case headers, bare LF, no cookie, extra headers, spaces. */
    assert_int_equal(parse("BT-SEARCH * HTTP/1.1\nhost: x\nX-Other: 1\nport:   51413  \n"
                           "INFOHASH: 0123456789abcdef0123456789abcdef01234567\n\n",
                           &m),
                     0);
    assert_int_equal(m.port, 51413);
    assert_string_equal(m.cookie, "");
}

static void test_refused(void **state)
{
    (void)state;
    struct rill_lsd_msg m;
    static const char *const bad[] = {
        "",
        "GET / HTTP/1.1\r\nPort: 1\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n",
        "BT-SEARCH * HTTP/1.1\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: -1\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: 0123456789abcdef0123456789abcdef0123456\r\n",
        "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: 0123456789abcdef0123456789abcdef0123456z\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse(bad[i], &m), RILL_ESYNTAX);
    uint8_t big[RILL_LSD_MSG_MAX + 1];
    memset(big, 'a', sizeof big);
    assert_int_equal(rill_lsd_parse(big, sizeof big, &m, NULL), RILL_ELIMIT);
}

static void test_build_round_trip(void **state)
{
    (void)state;
    uint8_t h[20][RILL_SHA1_LEN];
    for (int i = 0; i < 20; i++)
        tu_fill(h[i], RILL_SHA1_LEN, 1 + (uint64_t)i);
    struct rill_buf b;
    rill_buf_init(&b, 4096);
    assert_int_equal(rill_lsd_build(&b, "239.192.152.143:6771", 7000, h, 2, "c00k1e"), 0);
    const char *want_head = "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 7000\r\n"
                            "Infohash: ";
    assert_memory_equal(b.data, want_head, strlen(want_head));
    assert_memory_equal(b.data + b.len - 4, "\r\n\r\n", 4);
    struct rill_lsd_msg m;
    assert_int_equal(rill_lsd_parse(b.data, b.len, &m, NULL), 0);
    assert_int_equal(m.port, 7000);
    assert_int_equal(m.n_hashes, 2);
    assert_memory_equal(m.hashes, h, 2 * RILL_SHA1_LEN);
    assert_string_equal(m.cookie, "c00k1e");
    rill_buf_free(&b);
    /* Too many, none, a cookie that would break the message. */
    rill_buf_init(&b, 4096);
    assert_int_equal(rill_lsd_build(&b, "h", 1, h, 17, NULL), RILL_EINVAL);
    assert_int_equal(rill_lsd_build(&b, "h", 1, h, 0, NULL), RILL_EINVAL);
    assert_int_equal(rill_lsd_build(&b, "h", 1, h, 1, "a\r\nPort: 9"), RILL_EINVAL);
    assert_int_equal(rill_lsd_build(&b, "h", 0, h, 1, NULL), RILL_EINVAL);
    rill_buf_free(&b);
    /* More than 16 in a message: kept up to 16, flagged. */
    rill_buf_init(&b, 4096);
    rill_buf_appendf(&b, "BT-SEARCH * HTTP/1.1\r\nPort: 5\r\n");
    for (int i = 0; i < 20; i++) {
        char hex[41];
        rill_hex(h[i], RILL_SHA1_LEN, hex);
        rill_buf_appendf(&b, "Infohash: %s\r\n", hex);
    }
    rill_buf_appendf(&b, "\r\n");
    assert_int_equal(rill_lsd_parse(b.data, b.len, &m, NULL), 0);
    assert_int_equal(m.n_hashes, RILL_LSD_HASHES_MAX);
    assert_true(m.truncated);
    rill_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_real),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_build_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
