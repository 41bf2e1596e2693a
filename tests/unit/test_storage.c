#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage_fixture.h"

/* ------------------------------------------------------------ fixtures */

static void multi_mi(struct rill_metainfo *mi)
{
    build_mi(mi, "T", true, 64, multi_files, NMULTI, 0xAB);
}

/* The whole torrent's byte stream, with zeros where padding is. */
static uint8_t *stream_of(const struct rill_metainfo *mi, uint64_t seed)
{
    uint8_t *p = malloc(mi->total_size);
    assert_non_null(p);
    tu_fill(p, mi->total_size, seed);
    for (size_t i = 0; i < mi->file_count; i++)
        if (mi->files[i].attr & RILL_ATTR_PAD)
            memset(p + mi->files[i].offset, 0, mi->files[i].length);
    return p;
}

static uint32_t psize(const struct rill_metainfo *mi, uint32_t p)
{
    uint64_t left = mi->total_size - (uint64_t)p * mi->piece_length;
    return left < mi->piece_length ? (uint32_t)left : mi->piece_length;
}

/* Writes the stream in blocks of `blk` bytes (crossing file boundaries). */
static void write_all(struct rill_storage *st, const struct rill_metainfo *mi,
                      const uint8_t *data, uint32_t blk)
{
    for (uint32_t p = 0; p < mi->piece_count; p++) {
        uint32_t ps = psize(mi, p);
        for (uint32_t o = 0; o < ps; o += blk) {
            uint32_t n = ps - o < blk ? ps - o : blk;
            assert_int_equal(rill_storage_write(st, p, o,
                                                data + (uint64_t)p * mi->piece_length + o, n),
                             0);
        }
    }
}

static void check_all(struct rill_storage *st, const struct rill_metainfo *mi,
                      const uint8_t *data)
{
    uint8_t buf[4096];
    for (uint32_t p = 0; p < mi->piece_count; p++) {
        uint32_t ps = psize(mi, p);
        assert_true(ps <= sizeof buf);
        assert_int_equal(rill_storage_read(st, p, 0, buf, ps), 0);
        assert_memory_equal(buf, data + (uint64_t)p * mi->piece_length, ps);
    }
}

static bool exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static char *pathf(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* --------------------------------------------------------------- tests */

static void test_multi_roundtrip(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    multi_mi(&mi);
    char *root = tu_tempdir();
    uint8_t *data = stream_of(&mi, 1);
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);

    /* The zero-length file exists at open; padding never does. */
    char *empty = pathf(root, "T/empty.txt");
    assert_true(exists(empty));
    assert_null(rill_storage_path(st, 4));
    assert_null(rill_storage_path(st, 6));
    char *a = pathf(root, "T/a.bin");
    assert_string_equal(rill_storage_path(st, 0), a);

    write_all(st, &mi, data, 7);
    check_all(st, &mi, data);
    /* A read starting inside b and ending inside c. */
    uint8_t buf[40];
    assert_int_equal(rill_storage_read(st, 0, 15, buf, 40), 0);
    assert_memory_equal(buf, data + 15, 40);
    assert_int_equal(rill_storage_sync(st), 0);
    rill_storage_close(st);

    /* Each file holds exactly its slice of the stream. */
    for (size_t i = 0; i < mi.file_count; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "T/%s", mi.files[i].path);
        char *p = pathf(root, rel);
        if (mi.files[i].attr & RILL_ATTR_PAD) {
            assert_false(exists(p));
        } else {
            size_t len;
            uint8_t *got = tu_read_file(p, &len);
            assert_int_equal(len, mi.files[i].length);
            assert_memory_equal(got, data + mi.files[i].offset, len);
            free(got);
        }
        free(p);
    }
    char *pad = pathf(root, "T/.pad");
    assert_false(exists(pad));

    /* A read_only storage over the finished files reads the same bytes. */
    struct rill_storage_opts ro = {.read_only = true};
    assert_int_equal(rill_storage_open(&st, &mi, root, &ro), 0);
    check_all(st, &mi, data);
    rill_storage_close(st);

    free(pad);
    free(a);
    free(empty);
    free(data);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_padding_reads_zero(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    multi_mi(&mi);
    char *root = tu_tempdir();
    uint8_t *data = stream_of(&mi, 2);
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    /* A peer sending non-zero bytes over the padding changes nothing. */
    uint8_t junk[64];
    memset(junk, 0xEE, sizeof junk);
    write_all(st, &mi, data, 64);
    assert_int_equal(rill_storage_write(st, 1, 6, junk, 58), 0);
    uint8_t buf[64];
    assert_int_equal(rill_storage_read(st, 1, 0, buf, 64), 0);
    assert_memory_equal(buf, data + 64, 6);
    for (int i = 6; i < 64; i++)
        assert_int_equal(buf[i], 0);
    rill_storage_close(st);
    free(data);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_range(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    multi_mi(&mi);
    char *root = tu_tempdir();
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    uint8_t buf[128] = {0};
    assert_int_equal(rill_storage_read(st, 4, 0, buf, 1), RILL_ERANGE);
    assert_int_equal(rill_storage_write(st, 4, 0, buf, 1), RILL_ERANGE);
    assert_int_equal(rill_storage_read(st, 3, 30, buf, 7), RILL_ERANGE); /* last is 36 */
    assert_int_equal(rill_storage_write(st, 0, 60, buf, 5), RILL_ERANGE);
    assert_int_equal(rill_storage_read(st, 0, UINT32_MAX, buf, 2), RILL_ERANGE);
    assert_int_equal(rill_storage_write(st, 3, 0, buf, 36), 0);
    assert_int_equal(rill_storage_read(st, 3, 0, buf, 36), 0);
    assert_int_equal(rill_storage_read(st, 3, 36, buf, 0), 0);
    rill_storage_close(st);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_missing_and_short(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    multi_mi(&mi);
    char *root = tu_tempdir();
    uint8_t *data = stream_of(&mi, 3);
    uint8_t buf[64];

    /* Nothing on disk: read_only creates nothing and reports ENOENT. */
    struct rill_storage_opts ro = {.read_only = true};
    struct rill_storage *st;
    char *absent = pathf(root, "nothing-here");
    assert_int_equal(rill_storage_open(&st, &mi, absent, &ro), 0);
    assert_int_equal(rill_storage_read(st, 0, 0, buf, 64), RILL_ENOENT);
    assert_int_equal(rill_storage_write(st, 0, 0, buf, 64), RILL_EINVAL);
    rill_storage_close(st);
    assert_false(exists(absent));

    /* Writable: only d's first 10 bytes written. */
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    assert_int_equal(rill_storage_read(st, 0, 0, buf, 64), RILL_ENOENT);
    assert_int_equal(rill_storage_write(st, 2, 0, data + 128, 10), 0);
    assert_int_equal(rill_storage_read(st, 2, 0, buf, 10), 0);
    assert_memory_equal(buf, data + 128, 10);
    assert_int_equal(rill_storage_read(st, 2, 0, buf, 11), RILL_ENOENT);
    assert_int_equal(rill_storage_read(st, 3, 0, buf, 36), RILL_ENOENT);
    /* Piece 1 needs only c (missing) and padding. */
    assert_int_equal(rill_storage_read(st, 1, 0, buf, 64), RILL_ENOENT);
    assert_int_equal(rill_storage_read(st, 1, 6, buf, 58), 0);
    rill_storage_close(st);

    free(absent);
    free(data);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_read_only_refuses(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    multi_mi(&mi);
    char *root = tu_tempdir();
    uint8_t *data = stream_of(&mi, 4);
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    write_all(st, &mi, data, 64);
    rill_storage_close(st);

    struct rill_storage_opts ro = {.read_only = true};
    assert_int_equal(rill_storage_open(&st, &mi, root, &ro), 0);
    uint8_t zero[64] = {0};
    assert_int_equal(rill_storage_write(st, 0, 0, zero, 64), RILL_EINVAL);
    check_all(st, &mi, data);
    rill_storage_close(st);

    /* read_only never creates the zero-length file either. */
    char *root2 = tu_tempdir();
    assert_int_equal(rill_storage_open(&st, &mi, root2, &ro), 0);
    rill_storage_close(st);
    char *t = pathf(root2, "T");
    assert_false(exists(t));

    free(t);
    tu_rmrf(root2);
    free(root2);
    free(data);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_single_file_sparse(void **state)
{
    (void)state;
    const uint32_t plen = 1u << 20;
    const struct fx_file one[] = {{"big.iso", 64ull * plen + 1000, 0}};
    struct rill_metainfo mi;
    build_mi(&mi, "big.iso", false, plen, one, 1, 0xAB);
    char *root = tu_tempdir();
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    char *path = pathf(root, "big.iso");
    assert_string_equal(rill_storage_path(st, 0), path);
    assert_false(exists(path)); /* created on first write */

    uint8_t blk[1000];
    tu_fill(blk, sizeof blk, 5);
    uint32_t last = mi.piece_count - 1;
    assert_int_equal(psize(&mi, last), 1000);
    assert_int_equal(rill_storage_write(st, last, 0, blk, 1000), 0);
    assert_int_equal(rill_storage_sync(st), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, mi.total_size);
    assert_true((uint64_t)sb.st_blocks * 512 < 1u << 20); /* no zeros written */
    assert_int_equal(sb.st_mode & 0777, 0644);

    uint8_t back[1000];
    assert_int_equal(rill_storage_read(st, last, 0, back, 1000), 0);
    assert_memory_equal(back, blk, 1000);
    /* The hole reads as zeros, not ENOENT: the file is long enough. */
    assert_int_equal(rill_storage_read(st, 0, 0, back, 1000), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(back[i], 0);
    rill_storage_close(st);
    free(path);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_lru(void **state)
{
    (void)state;
    const struct fx_file five[] = {
        {"f0", 50, 0}, {"f1", 30, 0}, {"x/f2", 70, 0}, {"x/f3", 10, 0}, {"f4", 96, 0},
    };
    struct rill_metainfo mi;
    build_mi(&mi, "L", true, 32, five, 5, 0xAB);
    char *root = tu_tempdir();
    uint8_t *data = stream_of(&mi, 6);
    int before = count_fds();
    struct rill_storage_opts opts = {.max_open = 2};
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, &opts), 0);
    /* Pieces in a scattered order so files are evicted and reopened. */
    const uint32_t order[] = {7, 0, 4, 2, 6, 1, 3, 5};
    assert_int_equal(mi.piece_count, 8);
    for (size_t k = 0; k < 8; k++) {
        uint32_t p = order[k];
        for (uint32_t o = 0; o < psize(&mi, p); o += 5) {
            uint32_t n = psize(&mi, p) - o < 5 ? psize(&mi, p) - o : 5;
            assert_int_equal(rill_storage_write(st, p, o, data + p * 32 + o, n), 0);
            assert_true(count_fds() - before <= 3); /* 2 files + root */
        }
    }
    check_all(st, &mi, data);
    assert_true(count_fds() - before <= 3);
    assert_int_equal(rill_storage_sync(st), 0); /* reopens evicted dirty files */
    assert_true(count_fds() - before <= 3);
    rill_storage_close(st);
    assert_int_equal(count_fds(), before);

    assert_int_equal(rill_storage_open(&st, &mi, root, &opts), 0);
    check_all(st, &mi, data);
    rill_storage_close(st);
    free(data);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

/* A hostile symlink inside the content directory must not let a write land
 * outside root, whether it replaces a file, a directory or the top one. */
static void test_symlink_attack(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    multi_mi(&mi);
    char *root = tu_tempdir();
    char *outside = tu_tempdir();
    uint8_t *data = stream_of(&mi, 7);
    char *victim = pathf(outside, "victim");
    tu_write_file(victim, "precious", 8);

    /* 1. T/a.bin -> outside/victim */
    char *t = pathf(root, "T");
    assert_int_equal(mkdir(t, 0755), 0);
    char *a = pathf(root, "T/a.bin");
    assert_int_equal(symlink(victim, a), 0);
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    assert_int_equal(rill_storage_write(st, 0, 0, data, 10), RILL_EPATH);
    uint8_t buf[64];
    assert_int_equal(rill_storage_read(st, 0, 0, buf, 10), RILL_EPATH);

    /* 2. T/dir -> outside */
    char *dir = pathf(root, "T/dir");
    assert_int_equal(symlink(outside, dir), 0);
    assert_int_equal(rill_storage_write(st, 0, 10, data + 10, 20), RILL_EPATH);
    assert_int_equal(rill_storage_write(st, 0, 30, data + 30, 34), RILL_EPATH);
    rill_storage_close(st);
    char *ob = pathf(outside, "b.bin");
    char *osub = pathf(outside, "sub");
    assert_false(exists(ob));
    assert_false(exists(osub));

    /* 3. T itself -> outside: even open (which makes empty.txt) refuses. */
    tu_rmrf(t); /* FTW_PHYS: removes the symlinks, not their targets */
    assert_false(exists(t));
    assert_true(exists(victim));
    char *oempty = pathf(outside, "empty.txt");
    assert_int_equal(symlink(outside, t), 0);
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), RILL_EPATH);
    assert_null(st);
    assert_false(exists(oempty));

    /* 4. A dangling symlink at a leaf is not followed to create a file. */
    assert_int_equal(unlink(t), 0);
    assert_int_equal(mkdir(t, 0755), 0);
    char *made = pathf(outside, "made");
    char *d = pathf(root, "T/d.bin");
    assert_int_equal(symlink(made, d), 0);
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    assert_int_equal(rill_storage_write(st, 2, 0, data + 128, 64), RILL_EPATH);
    rill_storage_close(st);
    assert_false(exists(made));

    size_t len;
    uint8_t *v = tu_read_file(victim, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(v, "precious", 8);
    free(v);
    free(d);
    free(made);
    free(oempty);
    free(ob);
    free(osub);
    free(dir);
    free(a);
    free(t);
    free(victim);
    free(data);
    tu_rmrf(outside);
    free(outside);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_fifo_refused(void **state)
{
    (void)state;
    const struct fx_file one[] = {{"f", 100, 0}};
    struct rill_metainfo mi;
    build_mi(&mi, "fifo", false, 64, one, 1, 0xAB);
    char *root = tu_tempdir();
    char *p = pathf(root, "fifo");
    assert_int_equal(mkfifo(p, 0644), 0);
    uint8_t buf[64];
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    assert_int_equal(rill_storage_read(st, 0, 0, buf, 64), RILL_EIO); /* no hang */
    assert_int_equal(rill_storage_write(st, 0, 0, buf, 64), RILL_EIO);
    rill_storage_close(st);
    struct rill_storage_opts ro = {.read_only = true};
    assert_int_equal(rill_storage_open(&st, &mi, root, &ro), 0);
    assert_int_equal(rill_storage_read(st, 0, 0, buf, 64), RILL_EIO);
    rill_storage_close(st);
    free(p);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void expect_open(const char *name, bool multi, const char *path, int want)
{
    const struct fx_file f[] = {{"ok", 10, 0}, {path, 10, 0}};
    struct rill_metainfo mi;
    build_mi(&mi, name, multi, 16, multi ? f : f + 1, multi ? 2 : 1, 0xAB);
    char *root = tu_tempdir();
    struct rill_storage *st = (struct rill_storage *)&mi; /* must be reset */
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), want);
    if (want == 0)
        rill_storage_close(st);
    else
        assert_null(st);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_path_defence(void **state)
{
    (void)state;
    expect_open("T", true, "x/y", 0);
    expect_open("T", true, "../evil", RILL_EPATH);
    expect_open("T", true, "x/../../evil", RILL_EPATH);
    expect_open("T", true, "/etc/evil", RILL_EPATH);
    expect_open("T", true, "x//y", RILL_EPATH);
    expect_open("T", true, "x/", RILL_EPATH);
    expect_open("T", true, "./x", RILL_EPATH);
    expect_open("T", true, "", RILL_EPATH);
    expect_open("..", true, "x", RILL_EPATH);
    expect_open(".", false, "x", RILL_EPATH);
    expect_open("a/b", false, "x", RILL_EPATH);
    expect_open("", false, "x", RILL_EPATH);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    expect_open("T", true, longname, RILL_EPATH);
}

static void test_bad_geometry(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    multi_mi(&mi);
    char *root = tu_tempdir();
    struct rill_storage *st;
    mi.piece_count++;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), RILL_EINVAL);
    mi.piece_count--;
    mi.files[2].offset++;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), RILL_EINVAL);
    mi.files[2].offset--;
    mi.total_size++;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), RILL_EINVAL);
    mi.total_size--;
    assert_int_equal(rill_storage_open(&st, &mi, "", NULL), RILL_EINVAL);
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    rill_storage_close(st);
    rill_storage_close(NULL);
    tu_rmrf(root);
    free(root);
    free_mi(&mi);
}

static void test_creates_root(void **state)
{
    (void)state;
    struct rill_metainfo mi;
    multi_mi(&mi);
    char *tmp = tu_tempdir();
    char *root = pathf(tmp, "new/deeper");
    uint8_t *data = stream_of(&mi, 8);
    struct rill_storage *st;
    assert_int_equal(rill_storage_open(&st, &mi, root, NULL), 0);
    write_all(st, &mi, data, 64);
    check_all(st, &mi, data);
    rill_storage_close(st);
    char *c = pathf(root, "T/dir/sub/c.bin");
    struct stat sb;
    assert_int_equal(stat(c, &sb), 0);
    assert_int_equal(sb.st_size, 40);
    free(c);
    free(data);
    free(root);
    tu_rmrf(tmp);
    free(tmp);
    free_mi(&mi);
}

int main(void)
{
    umask(022);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multi_roundtrip),
        cmocka_unit_test(test_padding_reads_zero),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_missing_and_short),
        cmocka_unit_test(test_read_only_refuses),
        cmocka_unit_test(test_single_file_sparse),
        cmocka_unit_test(test_lru),
        cmocka_unit_test(test_symlink_attack),
        cmocka_unit_test(test_fifo_refused),
        cmocka_unit_test(test_path_defence),
        cmocka_unit_test(test_bad_geometry),
        cmocka_unit_test(test_creates_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
