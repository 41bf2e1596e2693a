/* A transfer-rate meter over a sliding window, for per-peer download and
 * upload rates (the choker reads them) and for the status line. A fixed ring
 * of RILL_RATE_BUCKETS buckets; no allocation, time passed in. Internal to
 * rill (the shell and the lab's simulator include it).
 *
 * The window is cut into RILL_RATE_BUCKETS equal buckets of
 * ceil(window_ms / RILL_RATE_BUCKETS) ms, so the default 20 s window has
 * 1-second buckets, shorter windows finer ones and longer windows coarser
 * ones. The effective window is RILL_RATE_BUCKETS * bucket_ms, which is
 * window_ms rounded up to a multiple of RILL_RATE_BUCKETS. */
#ifndef RILL_CORE_RATE_H
#define RILL_CORE_RATE_H

#include <stdint.h>

#define RILL_RATE_BUCKETS 20
#define RILL_RATE_DEFAULT_WINDOW_MS 20000u

struct rill_rate {
    /* One slot more than the window holds: the oldest bucket is only partly
     * inside the window and is counted pro rata. */
    uint64_t ring[RILL_RATE_BUCKETS + 1];
    uint64_t total;    /* bytes ever added */
    uint64_t start_ms; /* the time given to init */
    uint64_t last_idx; /* absolute index (time / bucket_ms) of the newest bucket */
    uint32_t bucket_ms;
    uint32_t window_ms; /* effective window: RILL_RATE_BUCKETS * bucket_ms */
};

/* Starts an empty meter at `now_ms` with a window of `window_ms` (0: the
 * default 20 s; at least RILL_RATE_BUCKETS ms). The struct needs no free. */
void rill_rate_init(struct rill_rate *r, uint32_t window_ms, uint64_t now_ms);

/* Counts `bytes` transferred at `now_ms`. A time earlier than a previous one
 * (which a monotonic clock never gives) counts in the newest bucket. O(1)
 * amortized: at most RILL_RATE_BUCKETS + 1 buckets are cleared per call. */
void rill_rate_add(struct rill_rate *r, uint64_t bytes, uint64_t now_ms);

/* Bytes per second over the window ending at `now_ms`. The oldest bucket,
 * only partly inside the window, counts in proportion to its overlap (its
 * bytes taken as spread evenly over the bucket), so the rate decays smoothly
 * and reaches 0 one window after the end of the bucket of the last byte.
 * Partial window at the start: while less than a window has passed since
 * init, the bytes since init are divided by the time since init, but by at
 * least min(1 s, window) so that a first block does not read as a huge
 * rate. Does not modify the meter. */
uint64_t rill_rate_get(const struct rill_rate *r, uint64_t now_ms);

/* Bytes added since init. */
static inline uint64_t rill_rate_total(const struct rill_rate *r)
{
    return r->total;
}

#endif
