/* The CLI's size formatting and parsing, safe text, JSON escaping and the
 * transfer status line. The CLI is not a library, so its helper files are
 * compiled in here. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "../../cli/fmt.c"
#include "../../cli/json.c"
#include "../../cli/progress.c"
#include "../../cli/status.c"

static void test_fmt_size(void **state)
{
    (void)state;
    char b[CLI_SIZE_BUF];
    assert_string_equal(cli_fmt_size(0, b), "0 B");
    assert_string_equal(cli_fmt_size(1023, b), "1023 B");
    assert_string_equal(cli_fmt_size(1024, b), "1.00 KiB");
    assert_string_equal(cli_fmt_size(1536, b), "1.50 KiB");
    assert_string_equal(cli_fmt_size(256 << 10, b), "256 KiB");
    assert_string_equal(cli_fmt_size(10u << 20, b), "10.0 MiB");
    assert_string_equal(cli_fmt_size(1023u << 10, b), "1.00 MiB"); /* never "1023 KiB" */
    assert_string_equal(cli_fmt_size(1u << 30, b), "1.00 GiB");
    assert_string_equal(cli_fmt_size((uint64_t)3 << 40, b), "3.00 TiB");
    assert_string_equal(cli_fmt_size(UINT64_MAX, b), "16.0 EiB");
}

static void test_fmt_rate_duration_date(void **state)
{
    (void)state;
    char b[CLI_SIZE_BUF];
    assert_string_equal(cli_fmt_rate(12.3 * 1048576.0, b), "12.3 MiB/s");
    assert_string_equal(cli_fmt_rate(500.0, b), "500 B/s");
    assert_string_equal(cli_fmt_rate(-1.0, b), "0 B/s");
    assert_string_equal(cli_fmt_duration(42, b), "42s");
    assert_string_equal(cli_fmt_duration(187, b), "3m07s");
    assert_string_equal(cli_fmt_duration(7500, b), "2h05m");
    assert_string_equal(cli_fmt_duration(3 * 86400 + 4 * 3600, b), "3d04h");
    assert_string_equal(cli_fmt_date(0, b), "1970-01-01T00:00:00Z");
    assert_string_equal(cli_fmt_date(1700000000, b), "2023-11-14T22:13:20Z");
    assert_string_equal(cli_fmt_date(INT64_MAX, b), "9223372036854775807");
}

static void size_ok(const char *s, uint64_t want)
{
    uint64_t v = 0;
    const char *why = NULL;
    if (cli_parse_size(s, &v, &why) != 0)
        fail_msg("'%s' rejected: %s", s, why);
    if (v != want)
        fail_msg("'%s' gave %llu, want %llu", s, (unsigned long long)v,
                 (unsigned long long)want);
}

static void size_bad(const char *s)
{
    uint64_t v = 7;
    const char *why = NULL;
    if (cli_parse_size(s, &v, &why) == 0)
        fail_msg("'%s' accepted as %llu", s, (unsigned long long)v);
    assert_non_null(why);
    assert_int_equal(v, 7); /* untouched on error */
}

static void test_parse_size(void **state)
{
    (void)state;
    size_ok("0", 0);
    size_ok("12345", 12345);
    size_ok("100B", 100);
    size_ok("256K", 256 << 10);
    size_ok("256k", 256 << 10);
    size_ok("256KiB", 256 << 10);
    size_ok("4M", 4u << 20);
    size_ok("4MB", 4u << 20);
    size_ok("1G", 1u << 30);
    size_ok("2T", (uint64_t)2 << 40);
    size_ok("10Mbit", 1250000);
    size_ok("100kbit/s", 12500);
    size_ok("1Gbit", 125000000);
    size_ok("3M/s", 3u << 20);
    size_ok("15G", (uint64_t)15 << 30);
    size_ok("16777215T", (uint64_t)16777215 << 40);
    size_bad(NULL);
    size_bad("");
    size_bad("K");
    size_bad("-1");
    size_bad("+1");
    size_bad(" 1");
    size_bad("1 K");
    size_bad("1.5M");
    size_bad("1X");
    size_bad("1Mb");       /* megabit or megabyte? refuse to guess */
    size_bad("1iB");
    size_bad("1Mbitx");
    size_bad("0x10");
    size_bad("1K/");
    size_bad("18446744073709551616");      /* 2^64 */
    size_bad("17179869184G");              /* 2^34 * 2^30 = 2^64 */
    size_bad("16777216T");                 /* 2^24 * 2^40 = 2^64 */
    size_bad("99999999999999999999999");
}

static void test_parse_size_messages(void **state)
{
    (void)state;
    uint64_t v;
    const char *why = NULL;
    assert_int_equal(cli_parse_size("1.5M", &v, &why), -1);
    assert_non_null(strstr(why, "whole numbers"));
    assert_int_equal(cli_parse_size("10Q", &v, &why), -1);
    assert_non_null(strstr(why, "suffix"));
    assert_int_equal(cli_parse_size("99999999999999999999K", &v, &why), -1);
    assert_string_equal(why, "too large");
}

static void duration_ok(const char *s, uint64_t want_ms)
{
    uint64_t v = 0;
    const char *why = NULL;
    if (cli_parse_duration(s, &v, &why) != 0)
        fail_msg("'%s' rejected: %s", s, why);
    if (v != want_ms)
        fail_msg("'%s' gave %llu ms, want %llu", s, (unsigned long long)v,
                 (unsigned long long)want_ms);
}

static void duration_bad(const char *s)
{
    uint64_t v = 7;
    const char *why = NULL;
    if (cli_parse_duration(s, &v, &why) == 0)
        fail_msg("'%s' accepted as %llu ms", s, (unsigned long long)v);
    assert_non_null(why);
    assert_int_equal(v, 7);
}

static void test_parse_duration(void **state)
{
    (void)state;
    duration_ok("0", 0);
    duration_ok("90", 90000);        /* bare: seconds */
    duration_ok("30s", 30000);
    duration_ok("10m", 600000);
    duration_ok("2h", 7200000);
    duration_ok("1d", 86400000);
    duration_ok("250ms", 250);
    duration_ok("1h30m", 5400000);
    duration_ok("1d2h3m4s5ms", 93784005);
    duration_ok("90m", 5400000);     /* a unit need not be "full" */
    duration_ok("213503982334d", (uint64_t)213503982334 * 86400000);
    duration_bad(NULL);
    duration_bad("");
    duration_bad("s");
    duration_bad("-1s");
    duration_bad("+1s");
    duration_bad(" 1s");
    duration_bad("1s ");
    duration_bad("1 s");
    duration_bad("1.5h");
    duration_bad("1x");
    duration_bad("1H");
    duration_bad("1hm");
    duration_bad("30m1h");           /* units out of order */
    duration_bad("1h1h");            /* repeated */
    duration_bad("1s1ms1s");
    duration_bad("1h30");            /* the 30 has no unit */
    duration_bad("213503982335d");   /* past 2^64 ms */
    duration_bad("18446744073709551615s");
    duration_bad("18446744073709551616");
    duration_bad("213503982334d99999999h");
}

static void ratio_ok(const char *s, double want)
{
    double v = -1;
    const char *why = NULL;
    if (cli_parse_ratio(s, 1e6, &v, &why) != 0)
        fail_msg("'%s' rejected: %s", s, why);
    if (v != want)
        fail_msg("'%s' gave %g, want %g", s, v, want);
}

static void ratio_bad(const char *s)
{
    double v = -1;
    const char *why = NULL;
    if (cli_parse_ratio(s, 1e6, &v, &why) == 0)
        fail_msg("'%s' accepted as %g", s, v);
    assert_non_null(why);
    assert_true(v == -1);
}

static void test_parse_ratio(void **state)
{
    (void)state;
    ratio_ok("0", 0.0);
    ratio_ok("2", 2.0);
    ratio_ok("1.5", 1.5);
    ratio_ok("0.25", 0.25);
    ratio_ok("007", 7.0);
    ratio_ok("1000000", 1e6);
    ratio_bad(NULL);
    ratio_bad("");
    ratio_bad(".5");
    ratio_bad("2.");
    ratio_bad("-1");
    ratio_bad("+1");
    ratio_bad(" 1");
    ratio_bad("1 ");
    ratio_bad("1,5");
    ratio_bad("1e3");
    ratio_bad("inf");
    ratio_bad("nan");
    ratio_bad("0x10");
    ratio_bad("1.2.3");
    ratio_bad("1000000.5");
    ratio_bad("99999999999999999999999999999999999999999");
}

static void test_check_peer(void **state)
{
    (void)state;
    const char *good[] = {"127.0.0.1:6881", "example.com:1", "[::1]:65535",
                          "[2001:db8::1]:80", "a:80"};
    const char *bad[] = {"", ":80", "host", "host:", "host:0", "host:65536", "host:+80",
                         "host:80 ", "host:0x50", "::1:80", "[::1]80", "[]:80", "[::1]]:80",
                         "[::1:80", "::1]:80", "a b:80", "a/b:80", "a\x01:80"};
    for (size_t i = 0; i < CLI_ARRAY_LEN(good); i++)
        if (cli_check_peer(good[i], NULL) != 0)
            fail_msg("'%s' rejected", good[i]);
    for (size_t i = 0; i < CLI_ARRAY_LEN(bad); i++) {
        const char *why = NULL;
        if (cli_check_peer(bad[i], &why) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_non_null(why);
    }
    assert_int_equal(cli_check_peer(NULL, NULL), -1);
}

static struct rill_torrent_stats downloading_stats(void)
{
    struct rill_torrent_stats st = {
        .state = RILL_T_DOWNLOADING,
        .total_wanted = 300u << 20,
        .have_wanted = 126u << 20,
        .pieces_have = 504,
        .piece_count = 1200,
        .downloaded = 130u << 20,
        .uploaded = 12345,
        .down_rate = 1258291,
        .up_rate = 300 << 10,
        .wasted = 16384,
        .peers = 12,
        .unchoked_us = 4,
        .we_unchoke = 3,
        .seeds_connected = 2,
        .eta_ms = 125000,
    };
    return st;
}

static void expect_status(const struct rill_torrent_stats *st, const char *want)
{
    char line[256];
    memset(line, 'x', sizeof line);
    cli_status_format(line, sizeof line, st);
    if (strcmp(line, want) != 0)
        fail_msg("status [%s], want [%s]", line, want);
}

static void test_status_line(void **state)
{
    (void)state;
    struct rill_torrent_stats st = downloading_stats();
    expect_status(&st, "downloading  42.0%  126 MiB/300 MiB  down 1.20 MiB/s  up 300 KiB/s"
                       "  peers 12 unchoked 4/3  ETA 2m05s");
    st.eta_ms = UINT64_MAX;
    st.hash_failures = 2;
    expect_status(&st, "downloading  42.0%  126 MiB/300 MiB  down 1.20 MiB/s  up 300 KiB/s"
                       "  peers 12 unchoked 4/3  ETA -  failed 2");
    /* Never 100.0% before it is complete; an ETA under a second shows 1s. */
    st = downloading_stats();
    st.total_wanted = 1000000;
    st.have_wanted = 999999;
    st.eta_ms = 1;
    expect_status(&st, "downloading  99.9%  977 KiB/977 KiB  down 1.20 MiB/s  up 300 KiB/s"
                       "  peers 12 unchoked 4/3  ETA 1s");
    st = (struct rill_torrent_stats){.state = RILL_T_CHECKING, .total_wanted = 300u << 20,
                                     .eta_ms = UINT64_MAX};
    expect_status(&st, "checking  0.0%  0 B/300 MiB  down 0 B/s  up 0 B/s  peers 0 unchoked 0/0");
    st = (struct rill_torrent_stats){.state = RILL_T_SEEDING, .total_wanted = 300u << 20,
                                     .have_wanted = 300u << 20, .uploaded = 600u << 20,
                                     .up_rate = 1u << 20, .peers = 5, .we_unchoke = 3};
    expect_status(&st, "seeding  100.0%  300 MiB  up 1.00 MiB/s  uploaded 600 MiB  ratio 2.00"
                       "  peers 5 unchoked 0/3");
    /* Nothing wanted (every file skipped) counts as complete. */
    st = (struct rill_torrent_stats){.state = RILL_T_STOPPED};
    expect_status(&st, "stopped  100.0%  0 B/0 B  down 0 B/s  up 0 B/s  peers 0 unchoked 0/0");
}

static void test_status_line_cut(void **state)
{
    (void)state;
    struct rill_torrent_stats st = downloading_stats();
    char line[16];
    cli_status_format(line, sizeof line, &st);
    assert_string_equal(line, "downloading  42");
    char tiny[1] = {'x'};
    cli_status_format(tiny, sizeof tiny, &st);
    assert_int_equal(tiny[0], '\0');
    cli_status_format(tiny, 0, &st); /* must not write at all */
    assert_int_equal(tiny[0], '\0');
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(cli_state_name(RILL_T_CHECKING), "checking");
    assert_string_equal(cli_state_name(RILL_T_DOWNLOADING), "downloading");
    assert_string_equal(cli_state_name(RILL_T_SEEDING), "seeding");
    assert_string_equal(cli_state_name(RILL_T_STOPPED), "stopped");
    assert_string_equal(cli_state_name(RILL_T_ERROR), "error");
    assert_string_equal(cli_state_name((enum rill_torrent_state)99), "unknown");
}

static void test_status_json(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    struct rill_torrent_stats st = downloading_stats();
    cli_status_json(f, "progress", NULL, &st, 1500);
    st.eta_ms = UINT64_MAX;
    st.state = RILL_T_STOPPED;
    cli_status_json(f, "stopped", "signal", &st, 2000);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(
        out,
        "{\"event\": \"progress\", \"t_ms\": 1500, \"state\": \"downloading\", "
        "\"have\": 132120576, \"total\": 314572800, \"pieces_have\": 504, \"pieces\": 1200, "
        "\"downloaded\": 136314880, \"uploaded\": 12345, \"down_rate\": 1258291, "
        "\"up_rate\": 307200, \"wasted\": 16384, \"peers\": 12, \"seeds\": 2, "
        "\"unchoked_us\": 4, \"we_unchoke\": 3, \"eta_ms\": 125000, \"hash_failures\": 0, "
        "\"banned\": 0}\n"
        "{\"event\": \"stopped\", \"reason\": \"signal\", \"t_ms\": 2000, \"state\": \"stopped\", "
        "\"have\": 132120576, \"total\": 314572800, \"pieces_have\": 504, \"pieces\": 1200, "
        "\"downloaded\": 136314880, \"uploaded\": 12345, \"down_rate\": 1258291, "
        "\"up_rate\": 307200, \"wasted\": 16384, \"peers\": 12, \"seeds\": 2, "
        "\"unchoked_us\": 4, \"we_unchoke\": 3, \"eta_ms\": null, \"hash_failures\": 0, "
        "\"banned\": 0}\n");
    free(out);
}

static void test_parse_uint(void **state)
{
    (void)state;
    uint64_t v;
    const char *why;
    assert_int_equal(cli_parse_uint("0", 10, &v, &why), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cli_parse_uint("1024", 1024, &v, &why), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(cli_parse_uint("1025", 1024, &v, &why), -1);
    assert_string_equal(why, "too large");
    assert_int_equal(cli_parse_uint("", 10, &v, NULL), -1);
    assert_int_equal(cli_parse_uint("-1", UINT64_MAX, &v, NULL), -1);
    assert_int_equal(cli_parse_uint(" 1", 10, &v, NULL), -1);
    assert_int_equal(cli_parse_uint("1a", 10, &v, NULL), -1);
    assert_int_equal(cli_parse_uint("18446744073709551616", UINT64_MAX, &v, NULL), -1);
}

static size_t seq(const char *s, size_t n, uint32_t *cp)
{
    return cli_utf8_seq((const uint8_t *)s, n, cp);
}

static void test_utf8(void **state)
{
    (void)state;
    uint32_t cp;
    assert_int_equal(seq("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(seq("\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(seq("\xE2\x98\x95", 3, &cp), 3);
    assert_int_equal(cp, 0x2615);
    assert_int_equal(seq("\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(seq("\xF4\x8F\xBF\xBF", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
    assert_int_equal(seq("\xC0\x80", 2, &cp), 0);          /* overlong NUL */
    assert_int_equal(seq("\xC1\xBF", 2, &cp), 0);          /* overlong */
    assert_int_equal(seq("\xE0\x80\x80", 3, &cp), 0);      /* overlong */
    assert_int_equal(seq("\xED\xA0\x80", 3, &cp), 0);      /* surrogate */
    assert_int_equal(seq("\xF0\x80\x80\x80", 4, &cp), 0);  /* overlong */
    assert_int_equal(seq("\xF4\x90\x80\x80", 4, &cp), 0);  /* past U+10FFFF */
    assert_int_equal(seq("\xF5\x80\x80\x80", 4, &cp), 0);
    assert_int_equal(seq("\x80", 1, &cp), 0);              /* lone continuation */
    assert_int_equal(seq("\xE2\x98", 2, &cp), 0);          /* truncated */
    assert_int_equal(seq("\xE2\x28\xA1", 3, &cp), 0);      /* bad continuation */
}

/* A string literal and its length, embedded NULs included. */
#define S(lit) lit, sizeof(lit) - 1

/* Runs `fn` into a memory stream and compares the output. */
static void expect_output(void (*fn)(FILE *, const void *, size_t), const char *in, size_t n,
                          const char *want)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    fn(f, in, n);
    assert_int_equal(fclose(f), 0);
    bool same = strcmp(out, want) == 0;
    if (!same)
        print_error("got [%s], want [%s]\n", out, want);
    free(out);
    assert_true(same);
}

static void put_safe(FILE *f, const void *p, size_t n)
{
    cli_put_safe(f, p, n);
}

static void test_put_safe(void **state)
{
    (void)state;
    expect_output(put_safe, S("plain caf\xC3\xA9"), "plain caf\xC3\xA9");
    expect_output(put_safe, S("\x1b[31mred"), "\\x1b[31mred");
    expect_output(put_safe, S("a\nb\tc"), "a\\x0ab\\x09c");
    expect_output(put_safe, S("x\x7f"), "x\\x7f");
    expect_output(put_safe, S("\xC2\x9B" "2J"), "\\xc2\\x9b2J");     /* C1 CSI */
    expect_output(put_safe, S("evil\xE2\x80\xAEtxt.exe"), "evil\\u202Etxt.exe");
    expect_output(put_safe, S("bad\xFF\xE2\x98"), "bad\\xff\\xe2\\x98");
}

static void test_json_escape(void **state)
{
    (void)state;
    expect_output(cli_json_put_string, S(""), "\"\"");
    expect_output(cli_json_put_string, S("say \"hi\" \\ ok"), "\"say \\\"hi\\\" \\\\ ok\"");
    expect_output(cli_json_put_string, S("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
    expect_output(cli_json_put_string, S("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
    expect_output(cli_json_put_string, S("nul\0x"), "\"nul\\u0000x\"");
    expect_output(cli_json_put_string, S("caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x98\x80"),
                  "\"caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x98\x80\"");
    /* Invalid UTF-8: one U+FFFD per bad byte, the rest kept. */
    expect_output(cli_json_put_string, S("a\xFF" "b"), "\"a\\ufffdb\"");
    expect_output(cli_json_put_string, S("\xE2\x98"), "\"\\ufffd\\ufffd\"");
    expect_output(cli_json_put_string, S("\xC0\x80"), "\"\\ufffd\\ufffd\"");
    expect_output(cli_json_put_string, S("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
    expect_output(cli_json_put_string, S("\xE2\x80\xA8"), "\"\\u2028\"");
    expect_output(cli_json_put_string, S("\xC2\x85"), "\"\\u0085\"");
}

static void test_json_writer(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    struct cli_json j;
    cli_json_init(&j, f);
    cli_json_object(&j);
    cli_json_key(&j, "n");
    cli_json_u64(&j, UINT64_MAX);
    cli_json_key(&j, "neg");
    cli_json_i64(&j, INT64_MIN);
    cli_json_key(&j, "list");
    cli_json_array(&j);
    cli_json_cstr(&j, "a");
    cli_json_array(&j);
    cli_json_end(&j);
    cli_json_null(&j);
    cli_json_end(&j);
    cli_json_key(&j, "empty");
    cli_json_object(&j);
    cli_json_end(&j);
    cli_json_key(&j, "row");
    cli_json_object_compact(&j);
    cli_json_key(&j, "a");
    cli_json_u64(&j, 1);
    cli_json_key(&j, "b");
    cli_json_array(&j); /* stays on the line of its compact parent */
    cli_json_u64(&j, 2);
    cli_json_u64(&j, 3);
    cli_json_end(&j);
    cli_json_key(&j, "c");
    cli_json_array_compact(&j);
    cli_json_end(&j);
    cli_json_end(&j);
    cli_json_key(&j, "flag");
    cli_json_bool(&j, false);
    cli_json_key(&j, "none");
    cli_json_cstr(&j, NULL);
    cli_json_end(&j);
    assert_int_equal(cli_json_finish(&j), 0);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(out, "{\n"
                             "  \"n\": 18446744073709551615,\n"
                             "  \"neg\": -9223372036854775808,\n"
                             "  \"list\": [\n"
                             "    \"a\",\n"
                             "    [],\n"
                             "    null\n"
                             "  ],\n"
                             "  \"empty\": {},\n"
                             "  \"row\": {\"a\": 1, \"b\": [2, 3], \"c\": []},\n"
                             "  \"flag\": false,\n"
                             "  \"none\": null\n"
                             "}\n");
    free(out);
}

static void test_json_misuse(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    struct cli_json j;
    cli_json_init(&j, f);
    cli_json_object(&j);
    assert_int_equal(cli_json_finish(&j), -1); /* unclosed */
    cli_json_init(&j, f);
    cli_json_array(&j);
    cli_json_key(&j, "k"); /* key inside an array */
    cli_json_end(&j);
    assert_int_equal(cli_json_finish(&j), -1);
    cli_json_init(&j, f);
    for (int i = 0; i < CLI_JSON_MAX_DEPTH + 1; i++)
        cli_json_array(&j);
    assert_int_equal(cli_json_finish(&j), -1);
    cli_json_init(&j, f);
    cli_json_end(&j); /* nothing open */
    assert_int_equal(cli_json_finish(&j), -1);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_size),
        cmocka_unit_test(test_fmt_rate_duration_date),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_size_messages),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_ratio),
        cmocka_unit_test(test_check_peer),
        cmocka_unit_test(test_status_line),
        cmocka_unit_test(test_status_line_cut),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_status_json),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_put_safe),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_json_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
