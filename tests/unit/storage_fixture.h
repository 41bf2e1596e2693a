/* Fixtures shared by the storage and resume tests (test_storage.c,
 * test_resume.c): a hand-built metainfo over a list of files, and the
 * multi-file layout both use. Header-only because tests/CMakeLists.txt
 * builds each test_*.c with just testutil.c beside it. Include after
 * testutil.h. */
#ifndef RILL_TEST_STORAGE_FIXTURE_H
#define RILL_TEST_STORAGE_FIXTURE_H

#include "testutil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fx_file {
    const char *path;
    uint64_t len;
    uint32_t attr;
};

/* Fills `mi` as the parser would for files `f[0..n)` laid end to end in
 * pieces of `plen`, with an info-hash of `hash_byte` repeated. Free with
 * free_mi. */
static inline void build_mi(struct rill_metainfo *mi, const char *name, bool multi,
                            uint32_t plen, const struct fx_file *f, size_t n, uint8_t hash_byte)
{
    memset(mi, 0, sizeof *mi);
    mi->name = strdup(name);
    mi->multi_file = multi;
    mi->piece_length = plen;
    mi->files = calloc(n, sizeof *mi->files);
    assert_non_null(mi->files);
    mi->file_count = n;
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        mi->files[i].path = strdup(f[i].path);
        mi->files[i].offset = off;
        mi->files[i].length = f[i].len;
        mi->files[i].attr = f[i].attr;
        off += f[i].len;
    }
    mi->total_size = off;
    mi->piece_count = (uint32_t)((off + plen - 1) / plen);
    memset(mi->info_hash, hash_byte, sizeof mi->info_hash);
}

static inline void free_mi(struct rill_metainfo *mi)
{
    for (size_t i = 0; i < mi->file_count; i++)
        free(mi->files[i].path);
    free(mi->files);
    free(mi->name);
    memset(mi, 0, sizeof *mi);
}

/* Piece 0 spans a, b and c; a zero-length file and a padding file follow;
 * piece 1 ends in padding (up to 128); d starts at a piece boundary and
 * covers pieces 2 and 3. 228 bytes, 4 pieces of 64 (the last is 36). */
static const struct fx_file multi_files[] = {
    {"a.bin", 10, 0},        /* [0, 10)    piece 0 */
    {"dir/b.bin", 20, 0},    /* [10, 30)   piece 0 */
    {"dir/sub/c.bin", 40, 0},/* [30, 70)   pieces 0, 1 */
    {"empty.txt", 0, 0},
    {".pad/58", 58, RILL_ATTR_PAD},
    {"d.bin", 100, 0},       /* [128, 228) pieces 2, 3 */
};
#define NMULTI (sizeof multi_files / sizeof multi_files[0])

#endif
