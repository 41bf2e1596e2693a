#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage_fixture.h"

/* ------------------------------------------------------------ fixtures */

struct fx {
    struct rill_metainfo mi;
    char *root;
    char *resume;
    struct rill_storage *st;
    struct rill_bitfield have;
};

static void write_stream(struct fx *f, uint64_t lo, uint64_t hi)
{
    uint8_t *data = malloc(f->mi.total_size);
    assert_non_null(data);
    tu_fill(data, f->mi.total_size, 42);
    for (uint64_t pos = lo; pos < hi;) {
        uint32_t p = (uint32_t)(pos / f->mi.piece_length);
        uint32_t o = (uint32_t)(pos % f->mi.piece_length);
        uint32_t n = f->mi.piece_length - o;
        if (n > hi - pos)
            n = (uint32_t)(hi - pos);
        assert_int_equal(rill_storage_write(f->st, p, o, data + pos, n), 0);
        pos += n;
    }
    free(data);
}

static int setup_multi(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    build_mi(&f->mi, "T", true, 64, multi_files, NMULTI, 0x11);
    f->root = tu_tempdir();
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_resume_path(f->root, &f->mi, &b), 0);
    f->resume = (char *)rill_buf_take(&b, &(size_t){0});
    assert_int_equal(rill_storage_open(&f->st, &f->mi, f->root, NULL), 0);
    write_stream(f, 0, f->mi.total_size);
    assert_int_equal(rill_storage_sync(f->st), 0);
    assert_int_equal(rill_bitfield_init(&f->have, f->mi.piece_count), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rill_storage_close(f->st);
    rill_bitfield_free(&f->have);
    tu_rmrf(f->root);
    free(f->root);
    free(f->resume);
    free_mi(&f->mi);
    free(f);
    return 0;
}

static void set_all(struct rill_bitfield *b)
{
    for (uint32_t i = 0; i < b->size; i++)
        rill_bitfield_set(b, i, true);
}

static char *file_path(struct fx *f, const char *rel)
{
    size_t n = strlen(f->root) + strlen(rel) + 4;
    char *p = malloc(n);
    snprintf(p, n, "%s/T/%s", f->root, rel);
    return p;
}

/* Moves a file's mtime one second forward, keeping its size. */
static void touch_later(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    struct timespec ts[2] = {sb.st_atim, sb.st_mtim};
    ts[1].tv_sec += 1;
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void expect_bits(const struct rill_bitfield *b, const char *want)
{
    assert_int_equal(strlen(want), b->size);
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->size; i++) {
        assert_int_equal(rill_bitfield_get(b, i), want[i] == '1');
        n += want[i] == '1';
    }
    assert_int_equal(b->count, n);
}

/* --------------------------------------------------------------- tests */

static void test_path(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    build_mi(&mi, "x", false, 16, multi_files, 1, 0xAB);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    assert_int_equal(rill_resume_path("/dl", &mi, &b), 0);
    assert_string_equal((char *)b.data,
                        "/dl/.rill/abababababababababababababababababababab.resume");
    rill_buf_free(&b);
    assert_int_equal(rill_resume_path("/dl/", &mi, &b), 0);
    assert_string_equal((char *)b.data,
                        "/dl/.rill/abababababababababababababababababababab.resume");
    rill_buf_free(&b);
    assert_int_equal(rill_resume_path("", &mi, &b), RILL_EINVAL);
    free_mi(&mi);
}

static void test_roundtrip(void **state)
{
    struct fx *f = *state;
    rill_bitfield_set(&f->have, 0, true);
    rill_bitfield_set(&f->have, 1, true);
    rill_bitfield_set(&f->have, 3, true);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    /* Saving again replaces the file and leaves no temporary behind. */
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    char *dir = strdup(f->resume);
    *strrchr(dir, '/') = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        entries += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(entries, 1);
    free(dir);

    struct rill_bitfield got;
    assert_int_equal(rill_bitfield_init(&got, f->mi.piece_count), 0);
    rill_bitfield_set(&got, 2, true); /* cleared by the load */
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &got), 0);
    expect_bits(&got, "1101");
    rill_bitfield_free(&got);

    /* A zeroed bitfield is initialised by the load. */
    struct rill_bitfield z = {0};
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &z), 0);
    expect_bits(&z, "1101");
    rill_bitfield_free(&z);

    /* A bitfield of the wrong size is refused. */
    struct rill_bitfield wrong;
    assert_int_equal(rill_bitfield_init(&wrong, 5), 0);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &wrong), RILL_EINVAL);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &wrong), RILL_EINVAL);
    rill_bitfield_free(&wrong);
}

static void test_missing(void **state)
{
    struct fx *f = *state;
    set_all(&f->have);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), RILL_ENOENT);
    assert_int_equal(f->have.count, 0);
}

static void test_truncated_every_length(void **state)
{
    struct fx *f = *state;
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    size_t len;
    uint8_t *good = tu_read_file(f->resume, &len);
    for (size_t n = 0; n < len; n++) {
        tu_write_file(f->resume, good, n);
        set_all(&f->have);
        assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), RILL_ERESUME);
        assert_int_equal(f->have.count, 0);
    }
    tu_write_file(f->resume, good, len);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    assert_int_equal(f->have.count, 4);
    free(good);
}

static void test_flipped_byte(void **state)
{
    struct fx *f = *state;
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    size_t len;
    uint8_t *good = tu_read_file(f->resume, &len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            good[i] ^= (uint8_t)(1u << bit);
            tu_write_file(f->resume, good, len);
            good[i] ^= (uint8_t)(1u << bit);
            set_all(&f->have);
            assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have),
                             RILL_ERESUME);
            assert_int_equal(f->have.count, 0);
        }
    }
    /* Trailing garbage too. */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, good, len);
    longer[len] = 'x';
    tu_write_file(f->resume, longer, len + 1);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), RILL_ERESUME);
    free(longer);
    free(good);
}

static void test_changed_files(void **state)
{
    struct fx *f = *state;
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);

    /* b lies only in piece 0. */
    char *b = file_path(f, "dir/b.bin");
    touch_later(b);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    expect_bits(&f->have, "0111");

    /* c spans pieces 0 and 1; save the new state first. */
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    char *c = file_path(f, "dir/sub/c.bin");
    touch_later(c);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    expect_bits(&f->have, "0011");

    /* d is pieces 2 and 3: a size change (same mtime) counts as well. */
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    char *d = file_path(f, "d.bin");
    struct stat sb;
    assert_int_equal(stat(d, &sb), 0);
    assert_int_equal(truncate(d, 99), 0);
    struct timespec ts[2] = {sb.st_atim, sb.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, d, ts, 0), 0);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    expect_bits(&f->have, "1100");

    /* The zero-length file overlaps no piece: deleting it changes nothing.
     * (d is still one byte short, so piece 3 stays untrusted whatever the
     * record claims.) */
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    char *e = file_path(f, "empty.txt");
    assert_int_equal(unlink(e), 0);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    expect_bits(&f->have, "1110");

    /* Deleting a is a change for piece 0 only. */
    char *a = file_path(f, "a.bin");
    assert_int_equal(unlink(a), 0);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    expect_bits(&f->have, "0110");
    free(a);
    free(e);
    free(d);
    free(c);
    free(b);
}

/* A record never vouches for bytes that are not on disk: d recorded at 10
 * bytes (a partial download) cannot back a piece claimed beyond them. */
static void test_partial_and_missing(void **state)
{
    struct fx *f = *state;
    char *d = file_path(f, "d.bin");
    assert_int_equal(truncate(d, 70), 0); /* piece 2 = d[0, 64) stays whole */
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    expect_bits(&f->have, "1110");

    /* Recorded missing and still missing: the other pieces stay trusted. */
    assert_int_equal(unlink(d), 0);
    rill_bitfield_set(&f->have, 3, false);
    rill_bitfield_set(&f->have, 2, false);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    expect_bits(&f->have, "1100");
    /* ...and a bogus claim over the missing file is not trusted. */
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);
    assert_int_equal(rill_resume_load(f->resume, &f->mi, f->st, &f->have), 0);
    expect_bits(&f->have, "1100");
    free(d);
}

static void test_other_torrent(void **state)
{
    struct fx *f = *state;
    set_all(&f->have);
    assert_int_equal(rill_resume_save(f->resume, &f->mi, f->st, &f->have), 0);

    /* Same layout, another info-hash. */
    struct rill_metainfo other;
    build_mi(&other, "T", true, 64, multi_files, NMULTI, 0x22);
    set_all(&f->have);
    assert_int_equal(rill_resume_load(f->resume, &other, f->st, &f->have), RILL_ERESUME);
    assert_int_equal(f->have.count, 0);
    free_mi(&other);

    /* Same info-hash (a lie) but another geometry. */
    build_mi(&other, "T", true, 32, multi_files, NMULTI, 0x11);
    struct rill_bitfield h = {0};
    assert_int_equal(rill_resume_load(f->resume, &other, f->st, &h), RILL_ERESUME);
    assert_int_equal(h.count, 0);
    assert_int_equal(h.size, other.piece_count);
    rill_bitfield_free(&h);
    free_mi(&other);

    /* One file fewer (no zero-length file): the file list does not match. */
    struct fx_file fewer[NMULTI - 1];
    memcpy(fewer, multi_files, 3 * sizeof *fewer);
    memcpy(fewer + 3, multi_files + 4, 2 * sizeof *fewer);
    build_mi(&other, "T", true, 64, fewer, NMULTI - 1, 0x11);
    assert_int_equal(rill_resume_load(f->resume, &other, f->st, &f->have), RILL_ERESUME);
    assert_int_equal(f->have.count, 0);
    free_mi(&other);
}

static void test_single_file(void **state)
{
    (void)state;
    const struct fx_file one[] = {{"one.bin", 1000, 0}};
    struct fx f = {0};
    build_mi(&f.mi, "one.bin", false, 256, one, 1, 0x33);
    f.root = tu_tempdir();
    char resume[512];
    snprintf(resume, sizeof resume, "%s/state/sub/r.resume", f.root);
    assert_int_equal(rill_storage_open(&f.st, &f.mi, f.root, NULL), 0);
    write_stream(&f, 0, 1000);
    assert_int_equal(rill_bitfield_init(&f.have, 4), 0);
    rill_bitfield_set(&f.have, 1, true);
    rill_bitfield_set(&f.have, 3, true);
    assert_int_equal(rill_resume_save(resume, &f.mi, f.st, &f.have), 0);
    assert_int_equal(rill_resume_load(resume, &f.mi, f.st, &f.have), 0);
    expect_bits(&f.have, "0101");
    rill_storage_close(f.st);
    rill_bitfield_free(&f.have);
    tu_rmrf(f.root);
    free(f.root);
    free_mi(&f.mi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test_setup_teardown(test_roundtrip, setup_multi, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup_multi, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_every_length, setup_multi, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup_multi, teardown),
        cmocka_unit_test_setup_teardown(test_changed_files, setup_multi, teardown),
        cmocka_unit_test_setup_teardown(test_partial_and_missing, setup_multi, teardown),
        cmocka_unit_test_setup_teardown(test_other_torrent, setup_multi, teardown),
        cmocka_unit_test(test_single_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
