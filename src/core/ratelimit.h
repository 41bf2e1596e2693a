/* Token-bucket rate limiting with the time passed in (`--max-up`,
 * `--max-down`, per-peer limits). Internal to rill: the shell and the lab's
 * simulator include it.
 *
 * Tokens are kept in milli-bytes: `rate` bytes/s for `dt` ms adds exactly
 * rate * dt milli-bytes, so no rounding is ever lost and a limiter run for
 * hours grants exactly rate * time plus the burst. A bucket starts full.
 *
 * Composition: a transfer limited both globally and per peer asks both
 * buckets (rill_ratelimit_take2 / rill_ratelimit_next_time2); either may be
 * NULL, meaning unlimited. */
#ifndef RILL_CORE_RATELIMIT_H
#define RILL_CORE_RATELIMIT_H

#include <stdint.h>

/* The smallest bucket: a whole 16 KiB block and its 13-byte `piece` header,
 * so the largest message rill sends can always pass eventually. */
#define RILL_RATELIMIT_MIN_BURST (16384u + 13u)
/* Larger rates (about 1 TB/s) are clamped; so are larger bursts. */
#define RILL_RATELIMIT_MAX_RATE (UINT64_C(1) << 40)
#define RILL_RATELIMIT_MAX_BURST (UINT64_C(1) << 50)

struct rill_ratelimit {
    uint64_t rate;  /* bytes per second; 0 = unlimited */
    uint64_t burst; /* bucket size in bytes */
    int64_t tokens; /* milli-bytes at last_ms; negative after rill_ratelimit_consume overdraws */
    uint64_t last_ms;
};

/* Sets up a full bucket at `now_ms`. `rate` is in bytes/s, 0 for unlimited.
 * `burst` 0 picks the default, max(rate / 4, RILL_RATELIMIT_MIN_BURST): a
 * quarter second of traffic, enough to keep a link busy between timer ticks
 * without letting a long idle spell turn into a big spike. A burst below
 * RILL_RATELIMIT_MIN_BURST is raised to it. Needs no free. */
void rill_ratelimit_init(struct rill_ratelimit *rl, uint64_t rate, uint64_t burst, uint64_t now_ms);

/* Changes rate and burst at `now_ms` (same rules as init), keeping the tokens
 * earned so far under the old rate, capped to the new burst. A bucket that
 * was unlimited counts as full. */
void rill_ratelimit_set(struct rill_ratelimit *rl, uint64_t rate, uint64_t burst, uint64_t now_ms);

/* Whole bytes that may go at `now_ms` (UINT64_MAX when unlimited). Does not
 * modify the bucket. */
uint64_t rill_ratelimit_available(const struct rill_ratelimit *rl, uint64_t now_ms);

/* Grants up to `n` bytes at `now_ms` and consumes them: returns
 * min(n, available). Partial grants are normal; 0 means wait until
 * rill_ratelimit_next_time. */
uint64_t rill_ratelimit_take(struct rill_ratelimit *rl, uint64_t n, uint64_t now_ms);

/* Consumes `n` bytes whether or not they are available, for traffic that has
 * already happened (bytes received). The bucket may go into debt (bounded),
 * which delays later grants until it is paid back. */
void rill_ratelimit_consume(struct rill_ratelimit *rl, uint64_t n, uint64_t now_ms);

/* The earliest time >= `now_ms` at which `n` bytes are available, if nothing
 * else is taken meanwhile: exact, so a timer set for it finds the bytes
 * there. `n` above the burst is treated as the burst (a bucket never holds
 * more). Unlimited: `now_ms`. Does not modify the bucket. */
uint64_t rill_ratelimit_next_time(const struct rill_ratelimit *rl, uint64_t n, uint64_t now_ms);

/* Both buckets at once (either may be NULL = unlimited): grants
 * min(n, available in a, available in b) and consumes it from both. */
uint64_t rill_ratelimit_take2(struct rill_ratelimit *a, struct rill_ratelimit *b, uint64_t n,
                              uint64_t now_ms);

/* When `n` bytes are available in both `a` and `b` (either may be NULL): the
 * later of the two times, which is exact since each refills on its own. */
uint64_t rill_ratelimit_next_time2(const struct rill_ratelimit *a, const struct rill_ratelimit *b,
                                   uint64_t n, uint64_t now_ms);

#endif
