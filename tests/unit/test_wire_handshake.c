/* The peer-wire codec, the handshakes: the BitTorrent handshake, peer ids
 * and client names, the BEP 6 allowed-fast vector, and the BEP 10 extended
 * handshake dict (round trip, a real one, hostile input, updates, inside
 * message 20). The other messages are in test_wire.c. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"
#include "util/rng.h"
#include "util/util.h"
#include "wire_fixture.h"

/* ---------------------------------------------------------------- handshake */

static void test_handshake(void **state)
{
    (void)state;
    struct rill_wire_handshake hs;
    memset(&hs, 0, sizeof hs);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_EXTENDED, true);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_FAST, true);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_DHT, true);
    assert_int_equal(hs.reserved[5], 0x10);
    assert_int_equal(hs.reserved[7], 0x05);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_DHT, false);
    assert_int_equal(hs.reserved[7], 0x04);
    assert_true(rill_wire_feature_has(hs.reserved, RILL_WIRE_FEAT_FAST));
    assert_false(rill_wire_feature_has(hs.reserved, RILL_WIRE_FEAT_DHT));
    memset(hs.info_hash, 0xAA, 20);
    memcpy(hs.peer_id, "-TR3000-abcdefghijkl", 20);

    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_handshake_build(&b, &hs), 0);
    assert_int_equal(b.len, 68);
    uint8_t want[68] = "\x13"
                       "BitTorrent protocol"
                       "\0\0\0\0\0\x10\0\x04";
    memset(want + 28, 0xAA, 20);
    memcpy(want + 48, "-TR3000-abcdefghijkl", 20);
    assert_memory_equal(b.data, want, 68);

    /* Every prefix is "need more"; from byte 48 on the info-hash is known. */
    for (size_t n = 0; n < 68; n++) {
        struct rill_wire_handshake got;
        memset(&got, 0, sizeof got);
        assert_int_equal(rill_wire_handshake_parse(b.data, n, &got, NULL), RILL_WIRE_NEED_MORE);
        if (n >= RILL_WIRE_HANDSHAKE_PEER_ID_AT) {
            assert_memory_equal(got.info_hash, hs.info_hash, 20);
            assert_memory_equal(got.reserved, hs.reserved, 8);
        }
    }
    struct rill_wire_handshake got;
    assert_int_equal(rill_wire_handshake_parse(b.data, 68, &got, NULL), 0);
    assert_memory_equal(&got, &hs, sizeof hs);
    /* Messages may follow in the same read. */
    assert_int_equal(rill_wire_handshake_parse(b.data, 68, &got, NULL), 0);
    rill_buf_free(&b);
}

static void test_handshake_bad(void **state)
{
    (void)state;
    struct rill_wire_handshake hs;
    const char *why = NULL;
    /* An HTTP request is refused from its first byte. */
    assert_int_equal(rill_wire_handshake_parse((const uint8_t *)"GET / HTTP/1.1", 14, &hs, &why),
                     RILL_ESYNTAX);
    assert_non_null(why);
    why = NULL;
    /* A right length byte with a wrong string is refused where it differs. */
    const uint8_t *bad = (const uint8_t *)"\x13"
                                          "BitTorrent protocoX";
    assert_int_equal(rill_wire_handshake_parse(bad, 19, &hs, &why), RILL_WIRE_NEED_MORE);
    assert_int_equal(rill_wire_handshake_parse(bad, 20, &hs, &why), RILL_ESYNTAX);
    assert_non_null(why);
    uint8_t full[68] = "\x13"
                       "bittorrent protocol";
    assert_int_equal(rill_wire_handshake_parse(full, 68, &hs, NULL), RILL_ESYNTAX);
    full[0] = 0x14;
    assert_int_equal(rill_wire_handshake_parse(full, 68, &hs, NULL), RILL_ESYNTAX);
}

static void test_peer_id(void **state)
{
    (void)state;
    struct rill_rng r1, r2;
    rill_rng_seed(&r1, 7);
    rill_rng_seed(&r2, 7);
    uint8_t a[20], b[20], c[20];
    rill_wire_peer_id(&r1, a);
    rill_wire_peer_id(&r2, b);
    rill_wire_peer_id(&r1, c);
    assert_memory_equal(a, b, 20); /* replays from a seed */
    assert_memory_not_equal(a, c, 20);
    assert_memory_equal(a, "-RL0100-", 8);
    for (int i = 8; i < 20; i++)
        assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'A' && a[i] <= 'Z') ||
                    (a[i] >= 'a' && a[i] <= 'z'));
    char name[64];
    rill_wire_client_name(a, name, sizeof name);
    assert_string_equal(name, "rill 0.1.0");
}

static void name_is(const char *id, const char *want)
{
    uint8_t pid[20];
    memset(pid, 'x', 20);
    memcpy(pid, id, strlen(id) < 20 ? strlen(id) : 20);
    char out[RILL_WIRE_CLIENT_NAME_MAX];
    size_t n = rill_wire_client_name(pid, out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_client_names(void **state)
{
    (void)state;
    name_is("-TR3000-", "Transmission 3.00");
    name_is("-TR294Z-", "Transmission 2.94+");
    name_is("-TR0072-", "Transmission 0.72");
    name_is("-TR4050-", "Transmission 4.0.5");
    name_is("-lt0D80-", "libTorrent (rakshasa) 0.13.8");
    name_is("-LT1270-", "libtorrent 1.2.7");
    name_is("-LT2091-", "libtorrent 2.0.9.1");
    name_is("-qB4500-", "qBittorrent 4.5.0");
    name_is("-DE2110-", "Deluge 2.1.1");
    name_is("-RL0100-", "rill 0.1.0");
    name_is("-ZZ1234-", "ZZ 1.2.3.4");
    name_is("A2-1-36-0-", "aria2 1.36.0");
    name_is("M7-4-0--", "BitTorrent 7.4.0");
    name_is("A2-1-36", "unknown A2-1-36x"); /* no closing dash */
    name_is("-TR30 0-", "unknown -TR30 0-");
    uint8_t bin[20] = {0x00, 0xFF, '\\', 'a', 0x7F, 'b', 'c', 'd'};
    char out[64];
    rill_wire_client_name(bin, out, sizeof out);
    assert_string_equal(out, "unknown \\x00\\xff\\x5ca\\x7fbcd");

    /* Cut to fit, NUL-terminated, and the wanted length reported. */
    uint8_t tr[20];
    memcpy(tr, "-TR3000-abcdefghijkl", 20);
    char small[8];
    assert_int_equal(rill_wire_client_name(tr, small, sizeof small), 17);
    assert_string_equal(small, "Transmi");
    assert_int_equal(rill_wire_client_name(tr, NULL, 0), 17);
}

/* ------------------------------------------------------------- allowed fast */

static void test_allowed_fast(void **state)
{
    (void)state;
    /* BEP 6: 1313 pieces, info-hash 0xAA * 20, peer 80.4.4.200. */
    uint8_t ih[20];
    memset(ih, 0xAA, 20);
    const uint8_t ip[4] = {80, 4, 4, 200};
    const uint32_t want[9] = {1059, 431, 808, 1217, 287, 376, 1188, 353, 508};
    uint32_t got[300];
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 1313, 7, got), 7);
    assert_memory_equal(got, want, 7 * sizeof *got);
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 1313, 9, got), 9);
    assert_memory_equal(got, want, 9 * sizeof *got);
    /* Only the /24 counts. */
    const uint8_t same24[4] = {80, 4, 4, 1};
    assert_int_equal(rill_wire_allowed_fast(same24, 4, ih, 1313, 9, got), 9);
    assert_memory_equal(got, want, 9 * sizeof *got);
    /* Fewer pieces than k: each piece once. */
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 5, 10, got), 5);
    bool seen[5] = {0};
    for (int i = 0; i < 5; i++) {
        assert_true(got[i] < 5);
        assert_false(seen[got[i]]);
        seen[got[i]] = true;
    }
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 100000, 1000, got),
                     RILL_WIRE_ALLOWED_FAST_MAX);
    assert_int_equal(rill_wire_allowed_fast(ip, 4, ih, 0, 10, got), 0);
    assert_int_equal(rill_wire_allowed_fast(ip, 5, ih, 10, 10, got), 0);
    /* IPv6: the /48 counts, the rest does not. */
    uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xFF},
            v6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
    uint8_t v6c[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2};
    uint32_t a[10], b[10], c[10];
    assert_int_equal(rill_wire_allowed_fast(v6a, 16, ih, 1313, 10, a), 10);
    assert_int_equal(rill_wire_allowed_fast(v6b, 16, ih, 1313, 10, b), 10);
    assert_int_equal(rill_wire_allowed_fast(v6c, 16, ih, 1313, 10, c), 10);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
}

/* ------------------------------------------------------- extended handshake */

static int ext_parse(const char *s, struct rill_wire_ext_hs *hs)
{
    return rill_wire_ext_hs_parse((const uint8_t *)s, strlen(s), hs, NULL);
}

static void test_ext_hs_roundtrip(void **state)
{
    (void)state;
    struct rill_wire_ext_hs ours;
    memset(&ours, 0, sizeof ours);
    ours.m[RILL_WIRE_EXT_UT_METADATA] = 3;
    ours.m[RILL_WIRE_EXT_UT_PEX] = 1;
    snprintf(ours.v, sizeof ours.v, "rill 0.1.0");
    ours.reqq = 250;
    ours.p = 6881;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_ext_hs_build(&b, &ours), 0);
    const char *want = "d1:md11:ut_metadatai3e6:ut_pexi1ee1:pi6881e4:reqqi250e1:v10:rill 0.1.0e";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);

    struct rill_wire_ext_hs got;
    memset(&got, 0, sizeof got);
    assert_int_equal(rill_wire_ext_hs_parse(b.data, b.len, &got, NULL), 0);
    assert_memory_equal(got.m, ours.m, sizeof got.m);
    assert_string_equal(got.v, "rill 0.1.0");
    assert_int_equal(got.reqq, 250);
    assert_int_equal(got.p, 6881);
    assert_int_equal(got.present,
                     RILL_WIRE_EXTK_M | RILL_WIRE_EXTK_V | RILL_WIRE_EXTK_REQQ | RILL_WIRE_EXTK_P);
    assert_int_equal(got.invalid, 0);
    rill_buf_free(&b);

    /* Every field, through build and parse. */
    memset(&ours, 0, sizeof ours);
    for (int i = 0; i < RILL_WIRE_EXT_COUNT; i++)
        ours.m[i] = (uint8_t)(10 + i);
    ours.upload_only = true;
    ours.metadata_size = 31337;
    ours.yourip_len = 16;
    memset(ours.yourip, 0x20, 16);
    memcpy(ours.ipv4, "\x7f\0\0\1", 4);
    ours.ipv6[15] = 1;
    ours.present = RILL_WIRE_EXTK_IPV4 | RILL_WIRE_EXTK_IPV6;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_ext_hs_build(&b, &ours), 0);
    memset(&got, 0, sizeof got);
    assert_int_equal(rill_wire_ext_hs_parse(b.data, b.len, &got, NULL), 0);
    assert_memory_equal(got.m, ours.m, sizeof got.m);
    assert_true(got.upload_only);
    assert_int_equal(got.metadata_size, 31337);
    assert_false(got.metadata_too_big);
    assert_int_equal(got.yourip_len, 16);
    assert_memory_equal(got.yourip, ours.yourip, 16);
    assert_memory_equal(got.ipv4, ours.ipv4, 4);
    assert_memory_equal(got.ipv6, ours.ipv6, 16);
    assert_string_equal(got.v, "");
    assert_int_equal(got.invalid, 0);
    rill_buf_free(&b);

    /* Two extensions on one id cannot be told apart. */
    ours.m[0] = ours.m[1] = 5;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_wire_ext_hs_build(&b, &ours), RILL_EINVAL);
    assert_int_equal(b.len, 0);
    rill_buf_free(&b);
    assert_string_equal(rill_wire_ext_name(RILL_WIRE_EXT_LT_DONTHAVE), "lt_donthave");
    assert_null(rill_wire_ext_name(RILL_WIRE_EXT_COUNT));
    assert_null(rill_wire_ext_name(-1));
}

/* A handshake as libtorrent sends one, with keys rill ignores. */
static void test_ext_hs_real(void **state)
{
    (void)state;
    static const char lt[] = "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e"
                             "11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee"
                             "13:metadata_sizei5361e1:pi6881e4:reqqi500e11:upload_onlyi0e"
                             "1:v18:libtorrent 2.0.9.06:yourip4:\x7f\0\0\1e";
    struct rill_wire_ext_hs hs;
    memset(&hs, 0, sizeof hs);
    assert_int_equal(rill_wire_ext_hs_parse((const uint8_t *)lt, sizeof lt - 1, &hs, NULL), 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_METADATA], 2);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_PEX], 1);
    assert_int_equal(hs.m[RILL_WIRE_EXT_LT_DONTHAVE], 7);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UPLOAD_ONLY], 3);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_HOLEPUNCH], 4);
    assert_int_equal(hs.m[RILL_WIRE_EXT_SHARE_MODE], 8);
    assert_int_equal(hs.m[RILL_WIRE_EXT_LT_TEX], 0);
    assert_int_equal(hs.metadata_size, 5361);
    assert_int_equal(hs.reqq, 500);
    assert_false(hs.upload_only);
    assert_string_equal(hs.v, "libtorrent 2.0.9.0");
    assert_int_equal(hs.yourip_len, 4);
    assert_memory_equal(hs.yourip, "\x7f\0\0\1", 4);
    assert_int_equal(hs.invalid, 0);
}

static void test_ext_hs_hostile(void **state)
{
    (void)state;
    struct rill_wire_ext_hs hs;
    struct rill_error err;
    memset(&hs, 0, sizeof hs);
    /* Not a dictionary, not bencode, trailing bytes. */
    assert_int_equal(ext_parse("li1ee", &hs), RILL_ESYNTAX);
    assert_int_equal(ext_parse("", &hs), RILL_ETRUNCATED);
    assert_int_equal(rill_wire_ext_hs_parse((const uint8_t *)"d1:pi1ee!", 9, &hs, &err),
                     RILL_ETRAILING);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(hs.present | hs.p, 0); /* unchanged */
    /* Unsorted keys, which some clients write, are accepted. */
    assert_int_equal(ext_parse("d1:pi6881e1:ai1ee", &hs), 0);
    assert_int_equal(hs.p, 6881);
    memset(&hs, 0, sizeof hs);

    /* Every key of the wrong type: ignored and flagged, nothing taken. */
    assert_int_equal(ext_parse("d1:mi1e13:metadata_size1:x1:pli1ee4:reqq0:11:upload_only"
                               "le1:vi5e6:yourip3:abce",
                               &hs),
                     0);
    assert_int_equal(hs.present, 0);
    assert_int_equal(hs.invalid, RILL_WIRE_EXTK_M | RILL_WIRE_EXTK_METADATA_SIZE |
                                     RILL_WIRE_EXTK_P | RILL_WIRE_EXTK_REQQ |
                                     RILL_WIRE_EXTK_UPLOAD_ONLY | RILL_WIRE_EXTK_V |
                                     RILL_WIRE_EXTK_YOURIP);
    /* Out of range: ids, port, reqq, metadata_size, address lengths. */
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d4:ipv43:abc4:ipv64:abcd1:md11:ut_metadatai-1e6:ut_pexi256e"
                               "e13:metadata_sizei0e1:pi65536e4:reqqi-5ee",
                               &hs),
                     0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_PEX], 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_METADATA], 0);
    assert_int_equal(hs.present, RILL_WIRE_EXTK_M);
    assert_int_equal(hs.invalid, RILL_WIRE_EXTK_M | RILL_WIRE_EXTK_METADATA_SIZE |
                                     RILL_WIRE_EXTK_P | RILL_WIRE_EXTK_REQQ | RILL_WIRE_EXTK_IPV4 |
                                     RILL_WIRE_EXTK_IPV6);
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d1:md6:ut_pexi256eee", &hs), 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_PEX], 0);
    assert_int_equal(hs.invalid, RILL_WIRE_EXTK_M);
    /* Huge values: metadata_size kept but flagged, reqq capped. */
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d13:metadata_sizei9223372036854775807e4:reqqi99999999999ee", &hs),
                     0);
    assert_int_equal(hs.metadata_size, INT64_MAX);
    assert_true(hs.metadata_too_big);
    assert_int_equal(hs.reqq, RILL_WIRE_EXT_REQQ_MAX);
    assert_int_equal(ext_parse("d13:metadata_sizei67108865ee", &hs), 0);
    assert_true(hs.metadata_too_big);
    assert_int_equal(ext_parse("d13:metadata_sizei67108864ee", &hs), 0);
    assert_false(hs.metadata_too_big);
    /* Unknown names and unknown keys are ignored. */
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d1:md0:i1e5:lt_xxi9eee", &hs), 0);
    assert_int_equal(hs.invalid, 0);
    for (int i = 0; i < RILL_WIRE_EXT_COUNT; i++)
        assert_int_equal(hs.m[i], 0);
}

static void test_ext_hs_names(void **state)
{
    (void)state;
    struct rill_wire_ext_hs hs;
    memset(&hs, 0, sizeof hs);
    /* Control characters and invalid UTF-8 become '?', valid UTF-8 stays. */
    const char *s = "d1:v16:\xc2\xb5Torrent\x01\xff\xc0\xaf\xed\xa0\x80"
                    "e";
    assert_int_equal(ext_parse(s, &hs), 0);
    assert_string_equal(hs.v, "\xc2\xb5Torrent???????");
    /* A long name is cut to the cap, never inside a character. */
    char big[400];
    size_t n = (size_t)snprintf(big, sizeof big, "d1:v100:");
    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "\xc3\xa9");
    snprintf(big + n, sizeof big - n, "e");
    assert_int_equal(ext_parse(big, &hs), 0);
    assert_int_equal(strlen(hs.v), 62); /* 31 two-byte characters fit in 63 */
    n = (size_t)snprintf(big, sizeof big, "d1:v70:");
    memset(big + n, 'a', 70);
    snprintf(big + n + 70, sizeof big - n - 70, "e");
    assert_int_equal(ext_parse(big, &hs), 0);
    assert_int_equal(strlen(hs.v), RILL_WIRE_EXT_V_MAX);
}

/* BEP 10: a later handshake carries changes only; 0 disables. */
static void test_ext_hs_update(void **state)
{
    (void)state;
    struct rill_wire_ext_hs hs;
    memset(&hs, 0, sizeof hs);
    assert_int_equal(ext_parse("d1:md11:ut_metadatai2e6:ut_pexi1ee1:pi6881e1:v3:abce", &hs), 0);
    assert_int_equal(ext_parse("d1:md11:upload_onlyi9e6:ut_pexi0eee", &hs), 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_METADATA], 2);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UT_PEX], 0);
    assert_int_equal(hs.m[RILL_WIRE_EXT_UPLOAD_ONLY], 9);
    assert_int_equal(hs.p, 6881);
    assert_string_equal(hs.v, "abc");
    assert_int_equal(hs.present, RILL_WIRE_EXTK_M);
}

/* An extended handshake travels inside message 20 with ext id 0. */
static void test_ext_hs_in_message(void **state)
{
    (void)state;
    struct rill_wire_ext_hs ours;
    memset(&ours, 0, sizeof ours);
    ours.m[RILL_WIRE_EXT_UT_METADATA] = 1;
    struct rill_buf payload, frame;
    rill_buf_init(&payload, 0);
    rill_buf_init(&frame, 0);
    assert_int_equal(rill_wire_ext_hs_build(&payload, &ours), 0);
    assert_int_equal(rill_wire_build_extended(&frame, 0, payload.data, payload.len), 0);
    struct rill_wire_msg m;
    parse_one(&ALL, frame.data, frame.len, &m);
    assert_int_equal(m.ext_id, 0);
    struct rill_wire_ext_hs got;
    memset(&got, 0, sizeof got);
    assert_int_equal(rill_wire_ext_hs_parse(m.data, m.data_len, &got, NULL), 0);
    assert_int_equal(got.m[RILL_WIRE_EXT_UT_METADATA], 1);
    rill_buf_free(&payload);
    rill_buf_free(&frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),         cmocka_unit_test(test_handshake_bad),
        cmocka_unit_test(test_peer_id),           cmocka_unit_test(test_client_names),
        cmocka_unit_test(test_allowed_fast),      cmocka_unit_test(test_ext_hs_roundtrip),
        cmocka_unit_test(test_ext_hs_real),       cmocka_unit_test(test_ext_hs_hostile),
        cmocka_unit_test(test_ext_hs_names),      cmocka_unit_test(test_ext_hs_update),
        cmocka_unit_test(test_ext_hs_in_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
