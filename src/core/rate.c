/* Sliding-window rate meter on a fixed ring of buckets (see rate.h). */
#include "core/rate.h"

#include <string.h>

#define RING (RILL_RATE_BUCKETS + 1)

void rill_rate_init(struct rill_rate *r, uint32_t window_ms, uint64_t now_ms)
{
    memset(r, 0, sizeof *r);
    if (window_ms == 0)
        window_ms = RILL_RATE_DEFAULT_WINDOW_MS;
    if (window_ms < RILL_RATE_BUCKETS)
        window_ms = RILL_RATE_BUCKETS;
    r->bucket_ms = (window_ms + RILL_RATE_BUCKETS - 1) / RILL_RATE_BUCKETS;
    r->window_ms = r->bucket_ms * RILL_RATE_BUCKETS;
    r->start_ms = now_ms;
    r->last_idx = now_ms / r->bucket_ms;
}

void rill_rate_add(struct rill_rate *r, uint64_t bytes, uint64_t now_ms)
{
    uint64_t idx = now_ms / r->bucket_ms;
    if (idx > r->last_idx) {
        /* Clear the buckets skipped since the last add; past a full ring
         * every slot is stale, so no more than RING clears. */
        uint64_t gap = idx - r->last_idx;
        if (gap > RING)
            gap = RING;
        for (uint64_t i = idx - gap + 1; i <= idx; i++)
            r->ring[i % RING] = 0;
        r->last_idx = idx;
    }
    r->ring[r->last_idx % RING] += bytes;
    r->total += bytes;
}

/* The bytes of absolute bucket `i`, or 0 when the ring no longer (or does not
 * yet) hold it. */
static uint64_t bucket(const struct rill_rate *r, uint64_t i)
{
    if (i > r->last_idx || r->last_idx - i >= RING)
        return 0;
    return r->ring[i % RING];
}

uint64_t rill_rate_get(const struct rill_rate *r, uint64_t now_ms)
{
    uint64_t b = r->bucket_ms, w = r->window_ms;
    if (now_ms < r->last_idx * b)
        now_ms = r->last_idx * b; /* the clock went back: read at the newest bucket */
    uint64_t idx = now_ms / b;

    uint64_t sum = 0;
    for (uint64_t k = 0; k < RILL_RATE_BUCKETS && k <= idx; k++)
        sum += bucket(r, idx - k);
    uint64_t oldest = idx >= RILL_RATE_BUCKETS ? bucket(r, idx - RILL_RATE_BUCKETS) : 0;

    uint64_t elapsed = now_ms > r->start_ms ? now_ms - r->start_ms : 0;
    if (elapsed >= w) {
        /* The window [now - w, now] covers the tail of the oldest bucket:
         * b - now % b of its b ms, assuming its bytes were spread evenly. */
        sum += oldest * (b - now_ms % b) / b;
        return sum * 1000 / w;
    }
    /* Less than a window since init: every byte since init counts, over the
     * time since init (at least a second, or the window if shorter). */
    uint64_t floor_ms = w < 1000 ? w : 1000;
    uint64_t div = elapsed > floor_ms ? elapsed : floor_ms;
    return (sum + oldest) * 1000 / div;
}
