/* The parallel piece-hashing pipeline shared by rill_create and rill_check.
 *
 * Every thread, the calling one included, claims a run of consecutive pieces
 * (about 4 MiB), reads it through the job's read callback into its own
 * buffer and hashes it there while the bytes are still in cache. Measured on
 * a 2-core machine this beats a dedicated reader thread filling a ring of
 * large buffers: the copy out of the page cache costs the same CPU whoever
 * does it, but a separate reader evicts the data before a hasher gets to it
 * and adds a third runnable thread (see bench/create/README.md). */
#ifndef RILL_IO_HASHER_H
#define RILL_IO_HASHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

struct rill__hash_job {
    /* The byte stream: pieces of `piece_length`, the last one shorter. */
    uint64_t total;
    uint32_t piece_length;
    uint32_t piece_count;
    unsigned threads;          /* 0: one per online core */
    bool piece_reads;          /* never ask `read` for bytes of two pieces at once */
    const struct rill_bitfield *skip; /* pieces not to read or hash, or NULL */

    void *ctx;
    /* Makes the read state of thread `idx` (0 is the calling thread). May be
     * NULL, then `wctx` is NULL. */
    int (*open)(void *ctx, unsigned idx, void **wctx, struct rill_error *err);
    void (*close)(void *ctx, void *wctx);
    /* Reads exactly `len` bytes at stream offset `off` into `buf`. Returns 0,
     * or RILL_ENOENT to mark the pieces overlapping the range missing and
     * carry on (only when `missing` is set), or a negative error that stops
     * the job with `err` filled. Called on every thread with its own `wctx`. */
    int (*read)(void *ctx, void *wctx, uint64_t off, void *buf, size_t len,
                struct rill_error *err);
    /* Optional: a hint that bytes [off, off + len) will be read soon, given
     * on a worker thread with its `wctx`. Must not block for long. */
    void (*prefetch)(void *ctx, void *wctx, uint64_t off, size_t len);
    /* Called on the calling thread, now and then and once at the end, with
     * bytes and pieces finished so far (skipped pieces count as finished). */
    void (*progress)(void *ctx, uint64_t bytes, uint32_t pieces);

    /* Results: 20 bytes per piece, and for each piece 1 if `read` reported it
     * missing (its hash is then meaningless). Skipped pieces are untouched. */
    uint8_t *hashes;
    uint8_t *missing;          /* may be NULL when `read` never says RILL_ENOENT */
};

/* Runs the job to the end on `threads` threads. 0, or the first error a
 * callback returned (with `err` as that callback filled it), or RILL_ENOMEM /
 * RILL_EIO when threads or buffers cannot be had. */
int rill__hash_run(struct rill__hash_job *job, struct rill_error *err);

/* The number of online cores, at least 1. */
unsigned rill__ncpu(void);

#endif
