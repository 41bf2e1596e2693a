/* Token buckets in milli-bytes (see ratelimit.h). */
#include "core/ratelimit.h"

#include <stdbool.h>
#include <stddef.h>

/* Debt is bounded so that tokens stay far from INT64_MIN. The cap in
 * milli-bytes is at most 2^50 * 1000 < 2^60, so tokens live in
 * [-2^62, 2^60] and every difference below fits in a uint64_t. */
#define MAX_DEBT (INT64_C(1) << 62)

static void configure(struct rill_ratelimit *rl, uint64_t rate, uint64_t burst)
{
    if (rate > RILL_RATELIMIT_MAX_RATE)
        rate = RILL_RATELIMIT_MAX_RATE;
    if (burst == 0)
        burst = rate / 4;
    if (burst < RILL_RATELIMIT_MIN_BURST)
        burst = RILL_RATELIMIT_MIN_BURST;
    if (burst > RILL_RATELIMIT_MAX_BURST)
        burst = RILL_RATELIMIT_MAX_BURST;
    rl->rate = rate;
    rl->burst = burst;
}

static int64_t cap_milli(const struct rill_ratelimit *rl)
{
    return (int64_t)(rl->burst * 1000);
}

/* Tokens (milli-bytes) the bucket holds at `now_ms`. A time before last_ms
 * adds nothing. */
static int64_t tokens_at(const struct rill_ratelimit *rl, uint64_t now_ms)
{
    int64_t cap = cap_milli(rl);
    if (now_ms <= rl->last_ms || rl->tokens >= cap)
        return rl->tokens;
    uint64_t need = (uint64_t)(cap - rl->tokens); /* < 2^63 by the bounds above */
    uint64_t dt = now_ms - rl->last_ms;
    if (dt > need / rl->rate)
        return cap; /* rate * dt >= need (rounding down never overshoots) */
    return rl->tokens + (int64_t)(rl->rate * dt); /* rate * dt <= need */
}

static void refill(struct rill_ratelimit *rl, uint64_t now_ms)
{
    rl->tokens = tokens_at(rl, now_ms);
    if (now_ms > rl->last_ms)
        rl->last_ms = now_ms;
}

void rill_ratelimit_init(struct rill_ratelimit *rl, uint64_t rate, uint64_t burst, uint64_t now_ms)
{
    configure(rl, rate, burst);
    rl->tokens = cap_milli(rl);
    rl->last_ms = now_ms;
}

void rill_ratelimit_set(struct rill_ratelimit *rl, uint64_t rate, uint64_t burst, uint64_t now_ms)
{
    bool was_unlimited = rl->rate == 0;
    if (!was_unlimited)
        refill(rl, now_ms);
    if (now_ms > rl->last_ms)
        rl->last_ms = now_ms;
    configure(rl, rate, burst);
    /* An unlimited bucket counts as full, so a new limit starts full. */
    if (was_unlimited || rl->tokens > cap_milli(rl))
        rl->tokens = cap_milli(rl);
}

uint64_t rill_ratelimit_available(const struct rill_ratelimit *rl, uint64_t now_ms)
{
    if (rl->rate == 0)
        return UINT64_MAX;
    int64_t t = tokens_at(rl, now_ms);
    return t > 0 ? (uint64_t)t / 1000 : 0;
}

uint64_t rill_ratelimit_take(struct rill_ratelimit *rl, uint64_t n, uint64_t now_ms)
{
    return rill_ratelimit_take2(rl, NULL, n, now_ms);
}

void rill_ratelimit_consume(struct rill_ratelimit *rl, uint64_t n, uint64_t now_ms)
{
    if (rl->rate == 0)
        return;
    refill(rl, now_ms);
    /* Subtract in steps that cannot overflow, stopping at the debt floor. */
    uint64_t room = (uint64_t)(rl->tokens + MAX_DEBT) / 1000; /* bytes until the floor */
    if (n > room)
        n = room;
    rl->tokens -= (int64_t)(n * 1000);
}

uint64_t rill_ratelimit_next_time(const struct rill_ratelimit *rl, uint64_t n, uint64_t now_ms)
{
    if (rl->rate == 0)
        return now_ms;
    if (n > rl->burst)
        n = rl->burst;
    uint64_t from = now_ms > rl->last_ms ? now_ms : rl->last_ms;
    int64_t have = tokens_at(rl, from);
    int64_t want = (int64_t)(n * 1000);
    if (have >= want)
        return now_ms;
    /* n <= burst, so the cap is not reached before `want`: the refill from
     * `from` on is linear and the ceiling division is exact. */
    uint64_t need = (uint64_t)(want - have);
    return from + (need + rl->rate - 1) / rl->rate;
}

uint64_t rill_ratelimit_take2(struct rill_ratelimit *a, struct rill_ratelimit *b, uint64_t n,
                              uint64_t now_ms)
{
    struct rill_ratelimit *v[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (!v[i] || v[i]->rate == 0)
            continue;
        refill(v[i], now_ms);
        uint64_t avail = v[i]->tokens > 0 ? (uint64_t)v[i]->tokens / 1000 : 0;
        if (n > avail)
            n = avail;
    }
    for (int i = 0; i < 2; i++) {
        if (v[i] && v[i]->rate != 0)
            v[i]->tokens -= (int64_t)(n * 1000);
    }
    return n;
}

uint64_t rill_ratelimit_next_time2(const struct rill_ratelimit *a, const struct rill_ratelimit *b,
                                   uint64_t n, uint64_t now_ms)
{
    uint64_t ta = a ? rill_ratelimit_next_time(a, n, now_ms) : now_ms;
    uint64_t tb = b ? rill_ratelimit_next_time(b, n, now_ms) : now_ms;
    return ta > tb ? ta : tb;
}
