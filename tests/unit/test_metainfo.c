/* .torrent parsing: real tools' torrents, hostile torrents, path policy. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(struct rill_metainfo *mi, const char *name, struct rill_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "torrents/%s", name);
    return rill_metainfo_load(mi, tu_data(path), err);
}

/* Every torrent made by mktorrent, libtorrent and Transmission parses, and
 * its info-hash equals the one computed independently in make_torrents.py. */
static void test_real_tools(void **state)
{
    (void)state;
    FILE *f = fopen(tu_data("torrents/expected.txt"), "r");
    assert_non_null(f);
    char name[256], hex[64];
    int seen = 0;
    while (fscanf(f, "%255s %63s", name, hex) == 2) {
        struct rill_metainfo mi;
        struct rill_error err = {0};
        if (load(&mi, name, &err) != 0)
            fail_msg("%s: %s at %zu", name, err.msg, err.offset);
        char got[41];
        rill_hex(mi.info_hash, 20, got);
        if (strcmp(got, hex) != 0)
            fail_msg("%s: info-hash %s, want %s", name, got, hex);
        /* The stored info bytes hash to the same and parse alone. */
        struct rill_metainfo again;
        assert_int_equal(rill_metainfo_parse_info(&again, mi.info, mi.info_len, NULL), 0);
        assert_memory_equal(again.info_hash, mi.info_hash, 20);
        assert_int_equal(again.total_size, mi.total_size);
        assert_int_equal(again.tier_count, 0);
        rill_metainfo_free(&again);
        rill_metainfo_free(&mi);
        seen++;
    }
    fclose(f);
    assert_int_equal(seen, 5);
}

static void test_multi_file_layout(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    assert_int_equal(load(&mi, "mktorrent_multi.torrent", NULL), 0);
    assert_string_equal(mi.name, "tree");
    assert_true(mi.multi_file);
    assert_true(mi.is_private);
    assert_int_equal(mi.piece_length, 32768);
    assert_int_equal(mi.total_size, 1000 + 70000 + 40000 + 5);
    assert_int_equal(mi.piece_count, (111005 + 32767) / 32768);
    assert_int_equal(mi.file_count, 4);
    const char *paths[] = {"a.txt", "sub/b.bin", "sub/deeper/c.dat", "z.bin"};
    uint64_t offset = 0;
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(mi.files[i].path, paths[i]);
        assert_int_equal(mi.files[i].offset, offset);
        offset += mi.files[i].length;
    }
    /* Two -a options: the first holds a comma list, so two tiers. */
    assert_int_equal(mi.tier_count, 2);
    assert_int_equal(mi.tiers[0].count, 2);
    assert_string_equal(mi.tiers[0].urls[1], "http://t1b.example/a");
    assert_string_equal(mi.tiers[1].urls[0], "udp://t2.example:80");
    assert_int_equal(mi.web_seed_count, 1);
    assert_string_equal(mi.web_seeds[0], "http://ws.example/files/");
    assert_true(mi.creation_date > 1600000000);
    assert_non_null(mi.created_by);

    assert_int_equal(rill_file_at(&mi, 0), 0);
    assert_int_equal(rill_file_at(&mi, 999), 0);
    assert_int_equal(rill_file_at(&mi, 1000), 1);
    assert_int_equal(rill_file_at(&mi, 71000), 2);
    assert_int_equal(rill_file_at(&mi, 111004), 3);
    assert_int_equal(rill_piece_size(&mi, 0), 32768);
    assert_int_equal(rill_piece_size(&mi, mi.piece_count - 1), 111005 - 3 * 32768);
    assert_int_equal(rill_piece_size(&mi, mi.piece_count), 0);
    rill_metainfo_free(&mi);
}

/* libtorrent's hybrid torrent is read through its v1 part, padding included. */
static void test_hybrid_and_padding(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    assert_int_equal(load(&mi, "libtorrent_hybrid.torrent", NULL), 0);
    assert_true(mi.hybrid);
    size_t pads = 0;
    for (size_t i = 0; i < mi.file_count; i++) {
        if (mi.files[i].attr & RILL_ATTR_PAD)
            pads++;
        else
            assert_int_equal(mi.files[i].offset % mi.piece_length, 0); /* aligned */
    }
    assert_true(pads > 0);
    rill_metainfo_free(&mi);

    struct rill_error err;
    assert_int_equal(load(&mi, "libtorrent_v2only.torrent", &err), RILL_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "v2-only"));
}

static void test_hostile(void **state)
{
    (void)state;
    static const struct { const char *name; int code; } cases[] = {
        {"dotdot", RILL_EPATH}, {"dot", RILL_EPATH}, {"empty_component", RILL_EPATH},
        {"empty_path", RILL_EMETAINFO}, {"absolute", RILL_EPATH},
        {"slash_inside", RILL_EPATH}, {"backslash", RILL_EPATH}, {"nul", RILL_EPATH},
        {"name_dotdot", RILL_EPATH}, {"name_absolute", RILL_EPATH},
        {"name_empty", RILL_EPATH}, {"duplicate_path", RILL_EPATH},
        {"file_and_dir", RILL_EPATH}, {"pieces_count", RILL_EMETAINFO},
        {"pieces_not_20", RILL_EMETAINFO}, {"negative_length", RILL_EMETAINFO},
        {"huge_length", RILL_EMETAINFO}, {"piece_length_zero", RILL_EMETAINFO},
        {"no_info", RILL_EMETAINFO}, {"info_not_dict", RILL_EMETAINFO},
        {"both_length_files", RILL_EMETAINFO}, {"no_files", RILL_EMETAINFO},
        {"not_a_dict", RILL_EMETAINFO}, {"unsorted_keys", RILL_EKEYORDER},
        {"trailing", RILL_ETRAILING}, {"deep_nesting", RILL_ELIMIT},
        {"giant_string", RILL_ETRUNCATED}, {"truncated", RILL_ETRUNCATED},
        {"v2_only", RILL_EUNSUPPORTED}, {"leading_zero", RILL_EINTEGER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "hostile_%s.torrent", cases[i].name);
        struct rill_metainfo mi;
        struct rill_error err = {0};
        int rc = load(&mi, name, &err);
        if (rc != cases[i].code)
            fail_msg("%s: got %d (%s), want %d", name, rc, err.msg, cases[i].code);
        assert_true(strlen(err.msg) > 0);
        assert_null(mi.files);
        assert_null(mi.name);
    }
}

static void test_renamed(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    assert_int_equal(load(&mi, "renamed_control_chars.torrent", NULL), 0);
    assert_string_equal(mi.files[0].path, "a_b/c_d.txt");
    assert_int_equal(mi.renamed, 2);
    rill_metainfo_free(&mi);

    assert_int_equal(load(&mi, "renamed_long_name.torrent", NULL), 0);
    assert_int_equal(strlen(mi.files[0].path), 255);
    assert_string_equal(mi.files[0].path + 251, ".txt");
    assert_non_null(strchr(mi.files[0].path, '~'));
    rill_metainfo_free(&mi);

    assert_int_equal(load(&mi, "renamed_bad_utf8.torrent", NULL), 0);
    assert_string_equal(mi.files[0].path, "caf_.txt");
    rill_metainfo_free(&mi);
}

static int component(const char *in, size_t n, char *out)
{
    return rill_path_component((const uint8_t *)in, n, out, RILL_MAX_NAME_BYTES + 1, NULL);
}

static void test_path_component(void **state)
{
    (void)state;
    char out[RILL_MAX_NAME_BYTES + 1];
    assert_int_equal(component("plain.txt", 9, out), 0);
    assert_string_equal(out, "plain.txt");
    assert_int_equal(component("caf\xc3\xa9 \xe2\x82\xac.txt", 13, out), 0); /* valid UTF-8 */
    assert_int_equal(component(".hidden", 7, out), 0);
    assert_int_equal(component("...", 3, out), 0); /* odd but harmless */
    assert_int_equal(component("a\tb", 3, out), 1);
    assert_string_equal(out, "a_b");
    assert_int_equal(component("\xc0\xaf", 2, out), 1); /* overlong '/' */
    assert_string_equal(out, "__");
    assert_int_equal(component("\xed\xa0\x80", 3, out), 1); /* surrogate */
    const char *why = NULL;
    assert_int_equal(rill_path_component((const uint8_t *)"..", 2, out, sizeof out, &why),
                     RILL_EPATH);
    assert_non_null(why);
    assert_int_equal(component("", 0, out), RILL_EPATH);
    assert_int_equal(component(".", 1, out), RILL_EPATH);
    assert_int_equal(component("a/b", 3, out), RILL_EPATH);
    assert_int_equal(component("a\\b", 3, out), RILL_EPATH);
    assert_int_equal(component("a\0b", 3, out), RILL_EPATH);

    /* Long names: cut to 255 bytes on a UTF-8 boundary, extension kept, and
     * two names that differ only past the cut stay different. */
    char a[600], b[600], out2[RILL_MAX_NAME_BYTES + 1];
    for (int i = 0; i < 290; i++)
        memcpy(a + 2 * i, "\xc3\xa9", 2);
    memcpy(a + 580, ".mkv", 4);
    memcpy(b, a, 584);
    b[500] = 'x';
    assert_int_equal(component(a, 584, out), 1);
    assert_int_equal(component(b, 584, out2), 1);
    assert_true(strlen(out) <= 255);
    assert_string_equal(out + strlen(out) - 4, ".mkv");
    assert_string_not_equal(out, out2);
    assert_int_equal(component(out, strlen(out), out2), 0); /* result is valid UTF-8 */
    char huge[5000];
    memset(huge, 'a', sizeof huge);
    assert_int_equal(component(huge, sizeof huge, out), RILL_EPATH);
}

static void test_parse_in_memory(void **state)
{
    (void)state;
    /* announce-list wins over announce (BEP 12); url-list as a list;
     * non-string tracker entries are skipped, duplicates dropped. */
    const char *t = "d8:announce9:http://a/"
                    "13:announce-listll9:http://b/i1e9:http://b/el9:http://c/elee"
                    "4:infod6:lengthi5e4:name1:x12:piece lengthi16384e"
                    "6:pieces20:aaaaaaaaaaaaaaaaaaaa7:privatei1e6:source3:srce"
                    "8:url-listl8:http://w8:http://vee";
    struct rill_metainfo mi;
    struct rill_error err;
    if (rill_metainfo_parse(&mi, (const uint8_t *)t, strlen(t), &err))
        fail_msg("%s at %zu", err.msg, err.offset);
    assert_int_equal(mi.tier_count, 2);
    assert_int_equal(mi.tiers[0].count, 1);
    assert_string_equal(mi.tiers[0].urls[0], "http://b/");
    assert_string_equal(mi.tiers[1].urls[0], "http://c/");
    assert_int_equal(mi.web_seed_count, 2);
    assert_true(mi.is_private);
    assert_string_equal(mi.source, "src");
    assert_false(mi.multi_file);
    assert_string_equal(mi.files[0].path, "x");
    assert_int_equal(mi.piece_count, 1);
    assert_int_equal(rill_piece_size(&mi, 0), 5);
    uint8_t want[20];
    const char *info = strstr(t, "4:infod") + 6;
    rill_sha1(info, (size_t)(strstr(info, "e8:url") + 1 - info), want);
    assert_memory_equal(mi.info_hash, want, 20);
    rill_metainfo_free(&mi);
    rill_metainfo_free(&mi); /* safe twice */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_tools),
        cmocka_unit_test(test_multi_file_layout),
        cmocka_unit_test(test_hybrid_and_padding),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_renamed),
        cmocka_unit_test(test_path_component),
        cmocka_unit_test(test_parse_in_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
