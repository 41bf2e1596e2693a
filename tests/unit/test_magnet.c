/* Magnet links: hex and base32 hashes, every error with its offset, percent
 * edge cases, canonical building and round trips, from_metainfo. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base32.h"
#include "core/uri.h"
#include "util/util.h"

/* The limits in magnet.c, repeated so a silent change shows up here. */
#define MAX_URI (64 * 1024)
#define MAX_VALUE 8192
#define MAX_LIST 1000

/* The info-hash of the Big Buck Bunny WebTorrent demo; its base32 was
 * computed independently with Python's base64.b32encode. */
#define HEX_LO "dd8255ecdc7ca55fb0bbf81323d87062db1f6d1c"
#define HEX_UP "DD8255ECDC7CA55FB0BBF81323D87062DB1F6D1C"
#define B32_UP "3WBFL3G4PSSV7MF37AJSHWDQMLNR63I4"
#define B32_LO "3wbfl3g4pssv7mf37ajshwdqmlnr63i4"
#define BTIH "magnet:?xt=urn:btih:" HEX_LO

static const uint8_t HASH[20] = {0xdd, 0x82, 0x55, 0xec, 0xdc, 0x7c, 0xa5, 0x5f, 0xb0, 0xbb,
                                 0xf8, 0x13, 0x23, 0xd8, 0x70, 0x62, 0xdb, 0x1f, 0x6d, 0x1c};

static int parse(struct rill_magnet *m, const char *s, struct rill_error *e)
{
    memset(e, 0, sizeof *e);
    return rill_magnet_parse(m, s, strlen(s), e);
}

static void assert_empty(const struct rill_magnet *m)
{
    static const struct rill_magnet zero;
    assert_memory_equal(m, &zero, sizeof zero);
}

static void test_hash_forms(void **state)
{
    (void)state;
    const char *forms[] = {BTIH, "magnet:?xt=urn:btih:" HEX_UP, "magnet:?xt=urn:btih:" B32_UP,
                           "magnet:?xt=urn:btih:" B32_LO, "MAGNET:?xt=URN:BTIH:" B32_UP,
                           "Magnet:?xt.1=urn:btih:" HEX_LO};
    for (size_t i = 0; i < RILL_ARRAY_LEN(forms); i++) {
        struct rill_magnet m;
        struct rill_error e;
        assert_int_equal(parse(&m, forms[i], &e), 0);
        assert_memory_equal(m.info_hash, HASH, 20);
        assert_null(m.name);
        assert_int_equal(m.tracker_count, 0);
        rill_magnet_free(&m);
    }
}

static void test_base32_helpers(void **state)
{
    (void)state;
    char out[40];
    assert_int_equal(rill__base32_encode(HASH, 20, out, sizeof out), 32);
    assert_string_equal(out, B32_UP);
    uint8_t back[20];
    size_t bad = 99;
    assert_int_equal(rill__base32_decode(B32_LO, 32, back, 20, &bad), 0);
    assert_memory_equal(back, HASH, 20);
    /* RFC 4648 section 10 vectors (padding dropped). */
    assert_int_equal(rill__base32_encode((const uint8_t *)"foobar", 6, out, sizeof out), 10);
    assert_string_equal(out, "MZXW6YTBOI");
    assert_int_equal(rill__base32_decode("MZXW6YTBOI", 10, back, 6, &bad), 0);
    assert_memory_equal(back, "foobar", 6);
    assert_int_equal(rill__base32_encode((const uint8_t *)"f", 1, out, sizeof out), 2);
    assert_string_equal(out, "MY");
    /* "MZ" has non-zero leftover bits: not the canonical spelling of "f". */
    assert_int_equal(rill__base32_decode("MZ", 2, back, 1, &bad), RILL_ESYNTAX);
    assert_int_equal(bad, 1);
    assert_int_equal(rill__base32_decode("M1", 2, back, 1, &bad), RILL_ESYNTAX);
    assert_int_equal(bad, 1);
    assert_int_equal(rill__base32_decode("MZX", 3, back, 1, &bad), RILL_ESYNTAX);
    assert_int_equal(rill__base32_encode(HASH, 20, out, 32), 0); /* no room for NUL */
}

static void test_full_parse(void **state)
{
    (void)state;
    const char *s = "magnet:?xt=urn:btih:" B32_UP "&dn=Big+Buck%20Bunny%2B"
                    "&tr=udp%3A%2F%2Fexplodie.org%3A6969&tr.1=wss://tracker.btorrent.xyz"
                    "&tr=&x.foo=bar&ws=https%3A%2F%2Fwebtorrent.io%2Ftorrents%2F"
                    "&x.pe=10.0.0.1:6881&x.pe.2=%5B2001%3Adb8%3A%3A1%5D%3A51413"
                    "&x.pe=peer.example.org:1&dn=second&&so=0-3&kt=a+b";
    struct rill_magnet m;
    struct rill_error e;
    assert_int_equal(parse(&m, s, &e), 0);
    assert_memory_equal(m.info_hash, HASH, 20);
    /* '+' stays '+': magnets are not form-encoded. The first dn wins. */
    assert_string_equal(m.name, "Big+Buck Bunny+");
    assert_int_equal(m.tracker_count, 2);
    assert_string_equal(m.trackers[0], "udp://explodie.org:6969");
    assert_string_equal(m.trackers[1], "wss://tracker.btorrent.xyz");
    assert_int_equal(m.web_seed_count, 1);
    assert_string_equal(m.web_seeds[0], "https://webtorrent.io/torrents/");
    assert_int_equal(m.peer_count, 3);
    assert_string_equal(m.peers[0], "10.0.0.1:6881");
    assert_string_equal(m.peers[1], "[2001:db8::1]:51413");
    assert_string_equal(m.peers[2], "peer.example.org:1");
    rill_magnet_free(&m);
    assert_empty(&m);
    rill_magnet_free(&m); /* twice is safe */
}

static void test_v2(void **state)
{
    (void)state;
    struct rill_magnet m;
    struct rill_error e;
    const char *btmh = "urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e";
    char s[512];
    /* Hybrid: btmh alongside btih, in either order. */
    snprintf(s, sizeof s, "magnet:?xt=%s&xt=urn:btih:%s&dn=x", btmh, HEX_LO);
    assert_int_equal(parse(&m, s, &e), 0);
    assert_memory_equal(m.info_hash, HASH, 20);
    rill_magnet_free(&m);
    /* v2 only: a clear refusal pointing at the btmh value. */
    snprintf(s, sizeof s, "magnet:?dn=x&xt=%s", btmh);
    assert_int_equal(parse(&m, s, &e), RILL_EUNSUPPORTED);
    assert_int_equal(e.code, RILL_EUNSUPPORTED);
    assert_int_equal(e.offset, 16);
    assert_non_null(strstr(e.msg, "v2-only"));
    assert_empty(&m);
    /* The same btih twice is fine; other URNs are ignored. */
    assert_int_equal(parse(&m, BTIH "&xt=urn:btih:" B32_LO "&xt=urn:sha1:XYZ&xt=", &e), 0);
    rill_magnet_free(&m);
}

struct bad {
    const char *uri;
    int code;
    size_t offset;
    const char *msg; /* a substring of the message */
};

static void test_errors(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {"", RILL_EMAGNET, 0, "scheme"},
        {"http://example.org/", RILL_EMAGNET, 0, "scheme"},
        {"magnet", RILL_EMAGNET, 0, "scheme"},
        {"magnet:", RILL_EMAGNET, 7, "'?'"},
        {"magnet:xt=urn:btih:" HEX_LO, RILL_EMAGNET, 7, "'?'"},
        {"magnet:?", RILL_EMAGNET, 8, "no xt"},
        {"magnet:?dn=a&tr=b", RILL_EMAGNET, 17, "no xt"},
        {"magnet:?xt=urn:btih:", RILL_EMAGNET, 20, "not 0"},
        {"magnet:?xt=urn:btih:" HEX_LO "0", RILL_EMAGNET, 20, "not 41"},
        {"magnet:?xt=urn:btih:dd8255ecdc7ca55fb0bbf81323d87062db1f6d1", RILL_EMAGNET, 20, "not 39"},
        {"magnet:?xt=urn:btih:dd8255ecdc7ca55fb0bbf81323d87062db1f6dxc", RILL_EMAGNET, 58, "hex"},
        {"magnet:?xt=urn:btih:g d8255ecdc7ca55fb0bbf81323d87062db1f6d1", RILL_EMAGNET, 20, "hex"},
        {"magnet:?xt=urn:btih:3WBFL3G4PSSV7MF37AJSHWDQMLNR63I1", RILL_EMAGNET, 51, "base32"},
        {"magnet:?xt=urn:btih:8WBFL3G4PSSV7MF37AJSHWDQMLNR63I4", RILL_EMAGNET, 20, "base32"},
        {BTIH "&xt=urn:btih:" B32_UP "&xt=urn:btih:da39a3ee5e6b4b0d3255bfef95601890afd80709",
         RILL_EMAGNET, 109, "different btih"},
        {BTIH "&dn=a%G1b", RILL_EMAGNET, 65, "malformed percent"},
        {BTIH "&dn=a%1Gb", RILL_EMAGNET, 65, "malformed percent"},
        {BTIH "&tr=abc%4", RILL_EMAGNET, 67, "truncated percent"},
        {BTIH "&tr=abc%", RILL_EMAGNET, 67, "truncated percent"},
        {BTIH "&tr=abc%4&dn=x", RILL_EMAGNET, 67, "truncated percent"},
        {BTIH "&ws=a%00b", RILL_EMAGNET, 65, "NUL"},
        {BTIH "&x.pe=host:0", RILL_EMAGNET, 66, "1-65535"},
        {BTIH "&x.pe=host:65536", RILL_EMAGNET, 66, "1-65535"},
        {BTIH "&x.pe=host:123456", RILL_EMAGNET, 66, "1-65535"},
        {BTIH "&x.pe=host:", RILL_EMAGNET, 66, "1-65535"},
        {BTIH "&x.pe=host:8a", RILL_EMAGNET, 66, "digits"},
        {BTIH "&x.pe=host", RILL_EMAGNET, 66, "':port'"},
        {BTIH "&x.pe=:6881", RILL_EMAGNET, 66, "empty host"},
        {BTIH "&x.pe=::1:6881", RILL_EMAGNET, 66, "brackets"},
        {BTIH "&x.pe=[]:6881", RILL_EMAGNET, 66, "bracketed"},
        {BTIH "&x.pe=[::1:6881", RILL_EMAGNET, 66, "bracketed"},
        {BTIH "&x.pe=[1.2.3.4]:6881", RILL_EMAGNET, 66, "not an IPv6"},
        {BTIH "&x.pe=[::g]:6881", RILL_EMAGNET, 66, "IPv6"},
        {BTIH "&x.pe=a%20b:6881", RILL_EMAGNET, 66, "bad character"},
        {BTIH "&x.pe=a/b:6881", RILL_EMAGNET, 66, "bad character"},
        {BTIH "&x.pe=a%26b:6881", RILL_EMAGNET, 66, "bad character"},
        {BTIH "&x.pe=a+b:6881", RILL_EMAGNET, 66, "bad character"},
    };
    for (size_t i = 0; i < RILL_ARRAY_LEN(cases); i++) {
        struct rill_magnet m;
        struct rill_error e;
        int rc = parse(&m, cases[i].uri, &e);
        if (rc != cases[i].code || e.offset != cases[i].offset ||
            !strstr(e.msg, cases[i].msg))
            fail_msg("case %zu (%s): rc %d offset %zu msg '%s'", i, cases[i].uri, rc, e.offset,
                     e.msg);
        assert_int_equal(e.code, cases[i].code);
        assert_empty(&m);
        rill_magnet_free(&m);
    }
}

/* Errors that need bytes a C string literal cannot hold or that are large. */
static void test_error_limits(void **state)
{
    (void)state;
    struct rill_magnet m;
    struct rill_error e;
    /* A raw NUL anywhere, even in an unknown parameter. */
    static const char nul[] = BTIH "&x.y=a\0b&tr=t";
    assert_int_equal(rill_magnet_parse(&m, nul, sizeof nul - 1, &e), RILL_EMAGNET);
    assert_int_equal(e.offset, 66);
    assert_non_null(strstr(e.msg, "NUL"));
    assert_empty(&m);

    size_t big = MAX_URI + 100;
    char *s = malloc(big + 1);
    assert_non_null(s);
    /* A value of exactly MAX_VALUE decoded bytes passes, one more fails
     * (reported at the start of the value); escapes count decoded. */
    size_t n = (size_t)snprintf(s, big, "%s&dn=", BTIH);
    for (size_t i = 0; i < MAX_VALUE; i++)
        memcpy(s + n + 3 * i, "%41", 3);
    n += 3 * MAX_VALUE;
    assert_int_equal(rill_magnet_parse(&m, s, n, &e), 0);
    assert_int_equal(strlen(m.name), MAX_VALUE);
    rill_magnet_free(&m);
    s[n++] = 'A';
    assert_int_equal(rill_magnet_parse(&m, s, n, &e), RILL_EMAGNET);
    assert_int_equal(e.offset, strlen(BTIH) + 4);
    assert_non_null(strstr(e.msg, "more than 8192"));
    assert_empty(&m);
    free(s);
}

static void test_error_caps(void **state)
{
    (void)state;
    struct rill_magnet m;
    struct rill_error e;
    size_t big = MAX_URI + 100, n;
    char *s = malloc(big + 1);
    assert_non_null(s);
    /* Too long as a whole, reported where the cap is crossed. */
    memset(s, 'a', big);
    memcpy(s, BTIH "&x=", strlen(BTIH) + 3);
    assert_int_equal(rill_magnet_parse(&m, s, MAX_URI, &e), 0);
    rill_magnet_free(&m);
    assert_int_equal(rill_magnet_parse(&m, s, MAX_URI + 1, &e), RILL_EMAGNET);
    assert_int_equal(e.offset, MAX_URI);
    assert_empty(&m);

    /* MAX_LIST trackers pass; the next one is refused at its key. Empty
     * values do not count. */
    n = (size_t)snprintf(s, big, "%s&tr=", BTIH);
    size_t last = 0;
    for (int i = 0; i <= MAX_LIST; i++) {
        last = n;
        n += (size_t)snprintf(s + n, big - n, "&tr=t%d", i);
    }
    assert_int_equal(rill_magnet_parse(&m, s, last, &e), 0);
    assert_int_equal(m.tracker_count, MAX_LIST);
    assert_string_equal(m.trackers[MAX_LIST - 1], "t999");
    rill_magnet_free(&m);
    assert_int_equal(rill_magnet_parse(&m, s, n, &e), RILL_EMAGNET);
    assert_int_equal(e.offset, last + 1);
    assert_non_null(strstr(e.msg, "more than 1000 'tr'"));
    assert_empty(&m);
    free(s);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct rill_magnet m;
    struct rill_error e;
    /* A NULL err is allowed. */
    assert_int_equal(rill_magnet_parse(NULL, BTIH, strlen(BTIH), &e), RILL_EINVAL);
    assert_int_equal(rill_magnet_parse(&m, NULL, 3, NULL), RILL_EINVAL);
    assert_int_equal(rill_magnet_parse(&m, NULL, 0, NULL), RILL_EMAGNET);
    assert_int_equal(rill_magnet_parse(&m, "magnet:?tr=%", 12, NULL), RILL_EMAGNET);
}

static void test_percent_edges(void **state)
{
    (void)state;
    struct rill_magnet m;
    struct rill_error e;
    /* Lowercase hex escapes, escaped '&' '=' '%' '+', raw '=' in a value, UTF-8. */
    assert_int_equal(parse(&m, BTIH "&dn=%e2%9c%93%26%3d%25%2b=x+y&tr=a=b", &e), 0);
    assert_string_equal(m.name, "\xe2\x9c\x93&=%+=x+y");
    assert_string_equal(m.trackers[0], "a=b");
    rill_magnet_free(&m);
    /* A key without '=' is an empty value: ignored. Unknown keys are not
     * decoded, so their bad escapes do not matter. */
    assert_int_equal(parse(&m, BTIH "&tr&dn&x.zz=%G&tr.x=%&tr.=a&trx=b&=c", &e), 0);
    assert_null(m.name);
    assert_int_equal(m.tracker_count, 0);
    rill_magnet_free(&m);

    char out[8];
    size_t n = 0, at = 0;
    const char *why = NULL;
    assert_int_equal(rill__pct_decode("%41%7e", 6, out, &n, &at, &why), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "A~", 2);
    assert_int_equal(rill__pct_decode("ab%4", 4, out, &n, &at, &why), RILL_ESYNTAX);
    assert_int_equal(at, 2);
    assert_int_equal(rill__pct_decode("a%%41", 5, out, &n, &at, &why), RILL_ESYNTAX);
    assert_int_equal(at, 1);
    assert_string_equal(why, "malformed percent-encoding");

    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill__pct_encode(&b, "aZ09-._~ /+%\xff", 13), 0);
    assert_int_equal(b.len, rill__pct_encoded_len("aZ09-._~ /+%\xff", 13));
    assert_string_equal((char *)b.data, "aZ09-._~%20%2F%2B%25%FF");
    rill_buf_free(&b);
}

static void assert_magnet_equal(const struct rill_magnet *a, const struct rill_magnet *b)
{
    assert_memory_equal(a->info_hash, b->info_hash, 20);
    if (a->name || b->name)
        assert_string_equal(a->name, b->name);
    assert_int_equal(a->tracker_count, b->tracker_count);
    for (size_t i = 0; i < a->tracker_count; i++)
        assert_string_equal(a->trackers[i], b->trackers[i]);
    assert_int_equal(a->web_seed_count, b->web_seed_count);
    for (size_t i = 0; i < a->web_seed_count; i++)
        assert_string_equal(a->web_seeds[i], b->web_seeds[i]);
    assert_int_equal(a->peer_count, b->peer_count);
    for (size_t i = 0; i < a->peer_count; i++)
        assert_string_equal(a->peers[i], b->peers[i]);
}

static void test_build_canonical(void **state)
{
    (void)state;
    char *tr[] = {"udp://t.example:6969/announce", "http://a.b/ann?x=1&y=2"};
    char *ws[] = {"https://ws.example/f iles/"};
    char *pe[] = {"[::1]:6881", "1.2.3.4:80"};
    struct rill_magnet m = {.name = "Café & Co+1%", .trackers = tr, .tracker_count = 2,
                            .web_seeds = ws, .web_seed_count = 1, .peers = pe, .peer_count = 2};
    memcpy(m.info_hash, HASH, 20);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    rill_buf_append(&b, "> ", 2); /* build appends */
    assert_int_equal(rill_magnet_build(&m, &b), 0);
    assert_string_equal((char *)b.data,
                        "> " BTIH "&dn=Caf%C3%A9%20%26%20Co%2B1%25"
                        "&tr=udp%3A%2F%2Ft.example%3A6969%2Fannounce"
                        "&tr=http%3A%2F%2Fa.b%2Fann%3Fx%3D1%26y%3D2"
                        "&ws=https%3A%2F%2Fws.example%2Ff%20iles%2F"
                        "&x.pe=[::1]:6881&x.pe=1.2.3.4:80");
    struct rill_magnet back;
    struct rill_error e;
    assert_int_equal(rill_magnet_parse(&back, (char *)b.data + 2, b.len - 2, &e), 0);
    assert_magnet_equal(&m, &back);
    rill_magnet_free(&back);

    /* Just the hash; empty strings are left out. */
    char *empty[] = {""};
    struct rill_magnet bare = {.name = "", .trackers = empty, .tracker_count = 1};
    memcpy(bare.info_hash, HASH, 20);
    rill_buf_free(&b);
    assert_int_equal(rill_magnet_build(&bare, &b), 0);
    assert_string_equal((char *)b.data, BTIH);
    rill_buf_free(&b);
}

static void test_build_errors(void **state)
{
    (void)state;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    rill_buf_append(&b, "keep", 4);
    char *badpe[] = {"host:0"};
    struct rill_magnet m = {.peers = badpe, .peer_count = 1};
    assert_int_equal(rill_magnet_build(&m, &b), RILL_EINVAL);
    struct rill_magnet nullentry = {.trackers = (char *[]){NULL}, .tracker_count = 1};
    assert_int_equal(rill_magnet_build(&nullentry, &b), RILL_EINVAL);
    struct rill_magnet nullarr = {.tracker_count = 1};
    assert_int_equal(rill_magnet_build(&nullarr, &b), RILL_EINVAL);
    assert_int_equal(rill_magnet_build(NULL, &b), RILL_EINVAL);
    assert_int_equal(rill_magnet_build(&m, NULL), RILL_EINVAL);

    char *huge = malloc(MAX_VALUE + 2);
    assert_non_null(huge);
    memset(huge, 'x', MAX_VALUE + 1);
    huge[MAX_VALUE + 1] = 0;
    struct rill_magnet toolong = {.name = huge};
    assert_int_equal(rill_magnet_build(&toolong, &b), RILL_ELIMIT);
    /* Each value fits, but the link would pass MAX_URI once encoded. */
    memset(huge, ' ', MAX_VALUE);
    huge[MAX_VALUE] = 0;
    char *three[] = {huge, huge, huge};
    struct rill_magnet wide = {.web_seeds = three, .web_seed_count = 3};
    assert_int_equal(rill_magnet_build(&wide, &b), RILL_ELIMIT);
    free(huge);

    char **many = calloc(MAX_LIST + 1, sizeof *many);
    assert_non_null(many);
    for (int i = 0; i <= MAX_LIST; i++)
        many[i] = "t";
    struct rill_magnet lots = {.trackers = many, .tracker_count = MAX_LIST + 1};
    assert_int_equal(rill_magnet_build(&lots, &b), RILL_ELIMIT);
    lots.tracker_count = MAX_LIST;
    assert_int_equal(b.len, 4);
    assert_int_equal(rill_magnet_build(&lots, &b), 0);
    free(many);
    struct rill_magnet back;
    assert_int_equal(rill_magnet_parse(&back, (char *)b.data + 4, b.len - 4, NULL), 0);
    assert_int_equal(back.tracker_count, MAX_LIST);
    rill_magnet_free(&back);
    rill_buf_free(&b);
}

/* Every byte value through dn, tr and ws, then parse(build(x)) == x. */
static void test_round_trip_bytes(void **state)
{
    (void)state;
    char all[256];
    for (int i = 1; i < 256; i++)
        all[i - 1] = (char)i;
    all[255] = 0;
    char *list[] = {all, "+", "%", "&&", "a b"};
    char *pe[] = {"example.org:65535", "[fe80::1:2]:1", "x:00080"};
    struct rill_magnet m = {.name = all, .trackers = list, .tracker_count = 5,
                            .web_seeds = list + 1, .web_seed_count = 4, .peers = pe,
                            .peer_count = 3};
    for (int i = 0; i < 20; i++)
        m.info_hash[i] = (uint8_t)(i * 13 + 7);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_magnet_build(&m, &b), 0);
    struct rill_magnet back;
    struct rill_error e;
    assert_int_equal(rill_magnet_parse(&back, (char *)b.data, b.len, &e), 0);
    assert_magnet_equal(&m, &back);
    /* And the canonical form is a fixed point. */
    struct rill_buf b2;
    rill_buf_init(&b2, 0);
    assert_int_equal(rill_magnet_build(&back, &b2), 0);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    rill_magnet_free(&back);
    rill_buf_free(&b);
    rill_buf_free(&b2);
}

static void test_from_metainfo(void **state)
{
    (void)state;
    char *t0[] = {"udp://a:1", "http://b/ann"};
    char *t1[] = {"http://b/ann", "", "udp://c:2"};
    char *t2[] = {"udp://a:1"};
    struct rill_tier tiers[] = {{t0, 2}, {t1, 3}, {t2, 1}, {NULL, 0}};
    char *ws[] = {"http://w/", "http://w/", "ftp://x/"};
    struct rill_metainfo mi = {.name = "My Show S01", .tiers = tiers, .tier_count = 4,
                               .web_seeds = ws, .web_seed_count = 3};
    memcpy(mi.info_hash, HASH, 20);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_magnet_from_metainfo(&mi, &b), 0);
    assert_string_equal((char *)b.data, BTIH "&dn=My%20Show%20S01"
                                             "&tr=udp%3A%2F%2Fa%3A1&tr=http%3A%2F%2Fb%2Fann"
                                             "&tr=udp%3A%2F%2Fc%3A2"
                                             "&ws=http%3A%2F%2Fw%2F&ws=ftp%3A%2F%2Fx%2F");
    struct rill_magnet m;
    assert_int_equal(rill_magnet_parse(&m, (char *)b.data, b.len, NULL), 0);
    assert_int_equal(m.tracker_count, 3);
    assert_string_equal(m.trackers[2], "udp://c:2");
    rill_magnet_free(&m);
    rill_buf_free(&b);

    /* No trackers, no name: just the hash. */
    struct rill_metainfo bare = {.tier_count = 0};
    memcpy(bare.info_hash, HASH, 20);
    assert_int_equal(rill_magnet_from_metainfo(&bare, &b), 0);
    assert_string_equal((char *)b.data, BTIH);
    rill_buf_free(&b);
    assert_int_equal(rill_magnet_from_metainfo(NULL, &b), RILL_EINVAL);
}

/* More trackers than a link carries: the first MAX_LIST distinct ones that
 * fit are kept, and the result still parses. */
static void test_from_metainfo_overflow(void **state)
{
    (void)state;
    size_t n = 3000;
    char **urls = calloc(n, sizeof *urls);
    assert_non_null(urls);
    for (size_t i = 0; i < n; i++) {
        urls[i] = malloc(32);
        assert_non_null(urls[i]);
        snprintf(urls[i], 32, "u%zu", i % 1500); /* each twice */
    }
    struct rill_tier tier = {urls, n};
    struct rill_metainfo mi = {.name = "n", .tiers = &tier, .tier_count = 1};
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_magnet_from_metainfo(&mi, &b), 0);
    struct rill_magnet m;
    assert_int_equal(rill_magnet_parse(&m, (char *)b.data, b.len, NULL), 0);
    assert_int_equal(m.tracker_count, MAX_LIST);
    assert_string_equal(m.trackers[999], "u999");
    rill_magnet_free(&m);
    rill_buf_free(&b);
    /* Long URLs: the link stops growing under MAX_URI. */
    for (size_t i = 0; i < n; i++) {
        free(urls[i]);
        urls[i] = malloc(200);
        assert_non_null(urls[i]);
        memset(urls[i], '/', 199);
        snprintf(urls[i], 200, "%zu/", i);
        urls[i][strlen(urls[i])] = '/';
        urls[i][199] = 0;
    }
    assert_int_equal(rill_magnet_from_metainfo(&mi, &b), 0);
    assert_true(b.len <= MAX_URI);
    assert_int_equal(rill_magnet_parse(&m, (char *)b.data, b.len, NULL), 0);
    assert_true(m.tracker_count > 50 && m.tracker_count < MAX_LIST);
    rill_magnet_free(&m);
    rill_buf_free(&b);
    for (size_t i = 0; i < n; i++)
        free(urls[i]);
    free(urls);
}

static void test_free_zeroed(void **state)
{
    (void)state;
    struct rill_magnet m = {0};
    rill_magnet_free(&m);
    rill_magnet_free(NULL);
    assert_empty(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_forms),
        cmocka_unit_test(test_base32_helpers),
        cmocka_unit_test(test_full_parse),
        cmocka_unit_test(test_v2),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_limits),
        cmocka_unit_test(test_error_caps),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_percent_edges),
        cmocka_unit_test(test_build_canonical),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_round_trip_bytes),
        cmocka_unit_test(test_from_metainfo),
        cmocka_unit_test(test_from_metainfo_overflow),
        cmocka_unit_test(test_free_zeroed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
