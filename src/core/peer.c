/* One connection's protocol state (see peer.h). */
#include <stdlib.h>
#include <string.h>

#include "core/peer.h"

static int reqs_init(struct rill_peer_reqs *q, uint32_t cap)
{
    q->v = calloc(cap, sizeof *q->v);
    q->head = q->count = 0;
    q->cap = cap;
    return q->v ? 0 : RILL_ENOMEM;
}

static struct rill_peer_req *reqs_at(const struct rill_peer_reqs *q, uint32_t i)
{
    return &q->v[(q->head + i) % q->cap];
}

static bool reqs_push(struct rill_peer_reqs *q, const struct rill_peer_req *r)
{
    if (q->count == q->cap)
        return false;
    *reqs_at(q, q->count++) = *r;
    return true;
}

/* Removes element i, keeping order (requests are answered mostly in order,
 * so i is usually 0 and this is O(1)). */
static void reqs_remove(struct rill_peer_reqs *q, uint32_t i)
{
    if (i == 0) {
        q->head = (q->head + 1) % q->cap;
    } else {
        for (uint32_t k = i; k + 1 < q->count; k++)
            *reqs_at(q, k) = *reqs_at(q, k + 1);
    }
    q->count--;
}

static bool same(const struct rill_peer_req *r, uint32_t piece, uint32_t begin, uint32_t length)
{
    return r->piece == piece && r->begin == begin && r->length == length;
}

/* Index of a request in the queue, or UINT32_MAX. A miss reads the whole
 * queue (every new request of a peer is checked for a duplicate), so the
 * ring is walked as its two contiguous runs, without a division per entry:
 * that was 4-6% of a seeder's CPU at full speed. */
static uint32_t reqs_find(const struct rill_peer_reqs *q, uint32_t piece, uint32_t begin,
                          uint32_t length)
{
    uint32_t first = q->cap - q->head < q->count ? q->cap - q->head : q->count;
    const struct rill_peer_req *v = q->v + q->head;
    for (uint32_t i = 0; i < first; i++)
        if (same(&v[i], piece, begin, length))
            return i;
    for (uint32_t i = 0; i < q->count - first; i++)
        if (same(&q->v[i], piece, begin, length))
            return first + i;
    return UINT32_MAX;
}

/* Removes the request if it is queued; false if it is not. */
static bool reqs_take(struct rill_peer_reqs *q, uint32_t piece, uint32_t begin, uint32_t length)
{
    uint32_t i = reqs_find(q, piece, begin, length);
    if (i == UINT32_MAX)
        return false;
    reqs_remove(q, i);
    return true;
}

int rill_peer_init(struct rill_peer_core *p)
{
    memset(p, 0, sizeof *p);
    p->am_choking = p->peer_choking = true;
    p->their_reqq = RILL_PEER_DEFAULT_REQQ;
    p->lat_min_ms[0] = p->lat_min_ms[1] = UINT32_MAX;
    if (reqs_init(&p->ours, RILL_PEER_MAX_DEPTH) || reqs_init(&p->theirs, RILL_PEER_MAX_THEIR_QUEUE)) {
        rill_peer_free(p);
        return RILL_ENOMEM;
    }
    return 0;
}

void rill_peer_free(struct rill_peer_core *p)
{
    free(p->ours.v);
    free(p->theirs.v);
    memset(p, 0, sizeof *p);
}

int rill_peer_sent_request(struct rill_peer_core *p, uint32_t piece, uint32_t begin,
                           uint32_t length, uint64_t now_ms)
{
    if (p->ours.count >= p->their_reqq)
        return RILL_ELIMIT;
    struct rill_peer_req r = {piece, begin, length, now_ms};
    return reqs_push(&p->ours, &r) ? 0 : RILL_ELIMIT;
}

uint32_t rill_peer_room(const struct rill_peer_core *p, uint32_t depth)
{
    uint32_t limit = depth < p->their_reqq ? depth : p->their_reqq;
    if (limit > p->ours.cap)
        limit = p->ours.cap;
    return p->ours.count < limit ? limit - p->ours.count : 0;
}

#define LAT_WINDOW_MS 10000u

/* Keeps the shortest latency of this window and the last: the minimum
 * forgets a peer that has grown slower within 10-20 s. */
static void note_latency(struct rill_peer_core *p, uint64_t lat_ms, uint64_t now_ms)
{
    if (now_ms - p->lat_window_ms >= LAT_WINDOW_MS) {
        p->lat_min_ms[1] = p->lat_min_ms[0];
        p->lat_min_ms[0] = UINT32_MAX;
        p->lat_window_ms = now_ms;
    }
    if (lat_ms < p->lat_min_ms[0])
        p->lat_min_ms[0] = (uint32_t)lat_ms;
}

bool rill_peer_got_block(struct rill_peer_core *p, uint32_t piece, uint32_t begin,
                         uint32_t length, uint64_t now_ms, uint64_t *sent_ms)
{
    uint32_t i = reqs_find(&p->ours, piece, begin, length);
    if (i == UINT32_MAX) {
        p->unrequested_blocks++;
        return false;
    }
    uint64_t at = reqs_at(&p->ours, i)->at_ms;
    if (sent_ms)
        *sent_ms = at;
    reqs_remove(&p->ours, i);
    p->last_block_ms = now_ms;
    note_latency(p, now_ms >= at ? now_ms - at : 0, now_ms);
    return true;
}

bool rill_peer_forget_request(struct rill_peer_core *p, uint32_t piece, uint32_t begin,
                              uint32_t length)
{
    return reqs_take(&p->ours, piece, begin, length);
}

uint32_t rill_peer_take_requests(struct rill_peer_core *p, uint64_t now_ms, uint64_t timeout_ms,
                                 struct rill_peer_req *out, uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->ours.count && n < cap;) {
        const struct rill_peer_req *r = reqs_at(&p->ours, i);
        if (timeout_ms == 0 || now_ms - r->at_ms >= timeout_ms) {
            out[n++] = *r;
            reqs_remove(&p->ours, i);
        } else {
            i++;
        }
    }
    return n;
}

uint32_t rill_peer_depth(const struct rill_peer_core *p, uint64_t rate)
{
    uint32_t lat = p->lat_min_ms[0] < p->lat_min_ms[1] ? p->lat_min_ms[0] : p->lat_min_ms[1];
    if (lat == UINT32_MAX || lat > 2000)
        lat = lat == UINT32_MAX ? 0 : 2000; /* none yet; a 2 s delay is plenty to cover */
    /* Half a second of 16 KiB blocks, plus the peer's own delay's worth. */
    uint64_t depth = 8 + rate / (32u << 10) + rate * lat / (16384u * 1000u);
    uint32_t cap = p->their_reqq < RILL_PEER_MAX_DEPTH ? p->their_reqq : RILL_PEER_MAX_DEPTH;
    return depth > cap ? cap : (uint32_t)depth;
}

enum rill_peer_verdict rill_peer_got_request(struct rill_peer_core *p, uint32_t piece,
                                             uint32_t begin, uint32_t length,
                                             bool allowed_fast, uint64_t now_ms,
                                             const char **why)
{
    if (p->am_choking && !allowed_fast) {
        *why = "request while choked";
        return RILL_PEER_REJECT;
    }
    if (reqs_find(&p->theirs, piece, begin, length) != UINT32_MAX) {
        *why = "duplicate request";
        return RILL_PEER_REJECT;
    }
    struct rill_peer_req r = {piece, begin, length, now_ms};
    if (!reqs_push(&p->theirs, &r)) {
        *why = "more requests than our reqq allows";
        return RILL_PEER_VIOLATION;
    }
    return RILL_PEER_ACCEPT;
}

bool rill_peer_got_cancel(struct rill_peer_core *p, uint32_t piece, uint32_t begin,
                          uint32_t length)
{
    return reqs_take(&p->theirs, piece, begin, length);
}

bool rill_peer_next_to_serve(struct rill_peer_core *p, struct rill_peer_req *out)
{
    if (p->theirs.count == 0)
        return false;
    *out = *reqs_at(&p->theirs, 0);
    reqs_remove(&p->theirs, 0);
    return true;
}

uint32_t rill_peer_choked_them(struct rill_peer_core *p, struct rill_peer_req *out, uint32_t cap)
{
    uint32_t n = p->theirs.count;
    for (uint32_t i = 0; i < n && out && i < cap; i++)
        out[i] = *reqs_at(&p->theirs, i);
    p->theirs.head = p->theirs.count = 0;
    return n;
}
