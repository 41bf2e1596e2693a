/* rill_check: which pieces of a torrent's content on disk are good.
 *
 * Pieces are read through rill_storage, one read-only storage per hashing
 * thread (a storage is not thread-safe), so padding files, sanitized paths
 * and missing files are handled exactly as when downloading and seeding. */
#include <stdlib.h>
#include <string.h>

#include "io/hasher.h"
#include "util/util.h"

struct check_ctx {
    const struct rill_metainfo *mi;
    const char *root;
    const struct rill_check_opts *opts;
};

static int check_open(void *ctx, unsigned idx, void **wctx, struct rill_error *err)
{
    const struct check_ctx *c = ctx;
    struct rill_storage_opts so = { .read_only = true };
    struct rill_storage *st = NULL;
    int rc = rill_storage_open(&st, c->mi, c->root, &so);
    if (rc)
        return rill__fail(err, rc, 0, "cannot open the content under %s: %s", c->root,
                          rill_strerror(rc));
    *wctx = st;
    return 0;
}

static void check_close(void *ctx, void *wctx)
{
    rill_storage_close(wctx);
}

/* The hasher asks for bytes of one piece at a time (piece_reads). */
static int check_read(void *ctx, void *wctx, uint64_t off, void *buf, size_t len,
                      struct rill_error *err)
{
    const struct check_ctx *c = ctx;
    uint32_t piece = (uint32_t)(off / c->mi->piece_length);
    uint32_t in = (uint32_t)(off % c->mi->piece_length);
    int rc = rill_storage_read(wctx, piece, in, buf, (uint32_t)len);
    if (rc && rc != RILL_ENOENT)
        return rill__fail(err, rc, 0, "cannot read piece %u under %s: %s", piece, c->root,
                          rill_strerror(rc));
    return rc;
}

static void check_progress(void *ctx, uint64_t bytes, uint32_t pieces)
{
    const struct check_ctx *c = ctx;
    c->opts->progress(c->opts->progress_ctx, pieces, c->mi->piece_count);
}

static bool valid(const struct rill_metainfo *mi, const struct rill_check_opts *opts)
{
    if (!mi->piece_length || (!mi->piece_hashes && mi->piece_count))
        return false;
    if (mi->piece_count != (mi->total_size + mi->piece_length - 1) / mi->piece_length)
        return false;
    return !opts->trusted || opts->trusted->size == mi->piece_count;
}

int rill_check(const struct rill_metainfo *mi, const char *root,
               const struct rill_check_opts *opts, uint8_t *states,
               struct rill_error *err)
{
    static const struct rill_check_opts defaults;
    opts = opts ? opts : &defaults;
    if (!mi || !root || (!states && mi->piece_count) || !valid(mi, opts))
        return rill__fail(err, RILL_EINVAL, 0, "invalid arguments to rill_check");
    uint32_t n = mi->piece_count;
    uint8_t *hashes = malloc((size_t)n * RILL_SHA1_LEN + 1);
    uint8_t *missing = calloc((size_t)n + 1, 1);
    if (!hashes || !missing) {
        free(hashes);
        free(missing);
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory");
    }
    struct check_ctx c = { mi, root, opts };
    struct rill__hash_job job = {
        .total = mi->total_size,
        .piece_length = mi->piece_length,
        .piece_count = n,
        .threads = opts->threads,
        .piece_reads = true,
        .skip = opts->trusted,
        .ctx = &c,
        .open = check_open,
        .close = check_close,
        .read = check_read,
        .progress = opts->progress ? check_progress : NULL,
        .hashes = hashes,
        .missing = missing,
    };
    struct rill_error scratch;
    int rc = n ? rill__hash_run(&job, err ? err : &scratch) : 0;
    for (uint32_t p = 0; rc == 0 && p < n; p++) {
        if (opts->trusted && rill_bitfield_get(opts->trusted, p))
            states[p] = RILL_PIECE_GOOD;
        else if (missing[p])
            states[p] = RILL_PIECE_MISSING;
        else if (memcmp(hashes + (size_t)p * RILL_SHA1_LEN,
                        mi->piece_hashes + (size_t)p * RILL_SHA1_LEN, RILL_SHA1_LEN) == 0)
            states[p] = RILL_PIECE_GOOD;
        else
            states[p] = RILL_PIECE_BAD;
    }
    free(hashes);
    free(missing);
    return rc;
}
