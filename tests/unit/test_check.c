/* rill_check: a torrent made by rill_create over generated content, then the
 * content damaged in known ways (a flipped byte, a deleted file, a truncated
 * file) and every piece's state compared with what the damage implies. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIECE (16u << 10)

/* root/top/{a.bin, b.bin, sub/c.bin}: piece boundaries fall inside files. */
static const struct { const char *name; size_t len; } files[] = {
    {"a.bin", 40000}, {"b.bin", 30000}, {"sub/c.bin", 50000},
};
#define NFILES 3
#define TOTAL (40000 + 30000 + 50000)
#define NPIECES ((TOTAL + PIECE - 1) / PIECE)

struct fixture {
    char *root;
    char top[512];
    struct rill_metainfo mi;
};

static void file_path(const struct fixture *f, size_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->top, files[i].name);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->root = tu_tempdir();
    snprintf(f->top, sizeof f->top, "%s/top", f->root);
    assert_int_equal(mkdir(f->top, 0755), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/sub", f->top);
    assert_int_equal(mkdir(p, 0755), 0);
    for (size_t i = 0; i < NFILES; i++) {
        uint8_t *b = malloc(files[i].len);
        tu_fill(b, files[i].len, i + 40);
        file_path(f, i, p, sizeof p);
        tu_write_file(p, b, files[i].len);
        free(b);
    }
    struct rill_buf out;
    rill_buf_init(&out, 0);
    struct rill_create_opts c = { .piece_length = PIECE };
    struct rill_torrent_opts o = { .no_date = true };
    struct rill_error err = {0};
    if (rill_create(f->top, &c, &o, &out, &err) != 0)
        fail_msg("create: %s", err.msg);
    if (rill_metainfo_parse(&f->mi, out.data, out.len, &err) != 0)
        fail_msg("parse: %s", err.msg);
    rill_buf_free(&out);
    assert_int_equal(f->mi.piece_count, NPIECES);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rill_metainfo_free(&f->mi);
    tu_rmrf(f->root);
    free(f->root);
    free(f);
    return 0;
}

/* Checks with `threads` and compares with the expected states. */
static void expect(struct fixture *f, unsigned threads, const uint8_t *want)
{
    uint8_t states[NPIECES];
    memset(states, 0xee, sizeof states);
    struct rill_check_opts o = { .threads = threads };
    assert_int_equal(rill_check(&f->mi, f->root, &o, states, NULL), 0);
    for (uint32_t p = 0; p < NPIECES; p++)
        if (states[p] != want[p])
            fail_msg("piece %u: state %u, want %u (threads %u)", p, states[p], want[p],
                     threads);
}

static void expect_all(struct fixture *f, const uint8_t *want)
{
    expect(f, 1, want);
    expect(f, 2, want);
    expect(f, 0, want);
}

/* The pieces overlapping bytes [from, to) of the stream get `state`. */
static void mark(uint8_t *want, uint64_t from, uint64_t to, uint8_t state)
{
    for (uint64_t p = from / PIECE; p < NPIECES && p * PIECE < to; p++)
        want[p] = state;
}

static void test_all_good(void **state)
{
    struct fixture *f = *state;
    uint8_t want[NPIECES] = {0};
    expect_all(f, want);
}

static void test_flipped_byte(void **state)
{
    struct fixture *f = *state;
    char p[600];
    file_path(f, 1, p, sizeof p);
    FILE *fp = fopen(p, "r+b");
    assert_non_null(fp);
    /* b.bin byte 1000 is stream byte 41000, in piece 2. */
    assert_int_equal(fseek(fp, 1000, SEEK_SET), 0);
    int c = fgetc(fp);
    assert_int_equal(fseek(fp, 1000, SEEK_SET), 0);
    fputc(c ^ 0x01, fp);
    fclose(fp);
    uint8_t want[NPIECES] = {0};
    want[41000 / PIECE] = RILL_PIECE_BAD;
    expect_all(f, want);
}

static void test_deleted_file(void **state)
{
    struct fixture *f = *state;
    char p[600];
    file_path(f, 1, p, sizeof p);
    assert_int_equal(unlink(p), 0);
    uint8_t want[NPIECES] = {0};
    mark(want, 40000, 70000, RILL_PIECE_MISSING);
    expect_all(f, want);
}

static void test_truncated_file(void **state)
{
    struct fixture *f = *state;
    char p[600];
    file_path(f, 2, p, sizeof p);
    assert_int_equal(truncate(p, 20000), 0);
    uint8_t want[NPIECES] = {0};
    /* Pieces wholly before the cut stay good; any piece needing a byte past
     * it lacks data, so it is missing rather than bad. */
    mark(want, 70000 + 20000, TOTAL, RILL_PIECE_MISSING);
    expect_all(f, want);
}

static void test_nothing_there(void **state)
{
    struct fixture *f = *state;
    char other[600];
    snprintf(other, sizeof other, "%s/elsewhere", f->root);
    uint8_t states[NPIECES];
    assert_int_equal(rill_check(&f->mi, other, NULL, states, NULL), 0);
    for (uint32_t p = 0; p < NPIECES; p++)
        assert_int_equal(states[p], RILL_PIECE_MISSING);
}

struct seen {
    uint32_t last, total;
    int calls;
};

static void on_progress(void *ctx, uint32_t done, uint32_t total)
{
    struct seen *s = ctx;
    assert_true(done >= s->last);
    s->last = done;
    s->total = total;
    s->calls++;
}

/* Trusted pieces are not read: a damaged trusted piece stays good. */
static void test_trusted(void **state)
{
    struct fixture *f = *state;
    char p[600];
    file_path(f, 0, p, sizeof p);
    uint8_t zeros[100] = {0};
    FILE *fp = fopen(p, "r+b");
    assert_non_null(fp);
    fwrite(zeros, 1, sizeof zeros, fp); /* piece 0 */
    fclose(fp);
    struct rill_bitfield trusted;
    assert_int_equal(rill_bitfield_init(&trusted, NPIECES), 0);
    rill_bitfield_set(&trusted, 0, true);
    rill_bitfield_set(&trusted, 5, true);
    struct seen s = {0};
    struct rill_check_opts o = { .trusted = &trusted, .progress = on_progress,
                                 .progress_ctx = &s };
    uint8_t states[NPIECES];
    assert_int_equal(rill_check(&f->mi, f->root, &o, states, NULL), 0);
    for (uint32_t i = 0; i < NPIECES; i++)
        assert_int_equal(states[i], RILL_PIECE_GOOD);
    assert_true(s.calls >= 1);
    assert_int_equal(s.last, NPIECES);
    assert_int_equal(s.total, NPIECES);

    o.trusted = NULL;
    assert_int_equal(rill_check(&f->mi, f->root, &o, states, NULL), 0);
    assert_int_equal(states[0], RILL_PIECE_BAD);

    /* A bitfield of the wrong size is the caller's mistake. */
    struct rill_bitfield small;
    assert_int_equal(rill_bitfield_init(&small, NPIECES - 1), 0);
    o.trusted = &small;
    assert_int_equal(rill_check(&f->mi, f->root, &o, states, NULL), RILL_EINVAL);
    rill_bitfield_free(&small);
    rill_bitfield_free(&trusted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_good, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nothing_there, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trusted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
