/* The CLI's size formatting and parsing, safe text and JSON escaping. The
 * CLI is not a library, so its two helper files are compiled in here. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "../../cli/fmt.c"
#include "../../cli/json.c"

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
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_put_safe),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_json_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
