/* The iterative DHT lookup: a sorted, bounded shortlist and the rules of
 * which candidate to query next. See dht_lookup.h for the contract. */
#include "core/dht_lookup.h"

#include <string.h>

#include "core/dht_table.h"

/* The index of the candidate with this id, or -1. A linear scan: the list
 * holds at most 64 entries, so a side index would cost more than it saves. */
static int cand_find(const struct rill_dht_lookup *l, const uint8_t id[RILL_KRPC_ID_LEN])
{
    for (int i = 0; i < (int)l->n; i++)
        if (memcmp(l->c[i].node.id, id, RILL_KRPC_ID_LEN) == 0)
            return i;
    return -1;
}

/* The first index whose candidate is farther from the target than `id`
 * (ids are distinct, so no tie): where `id` belongs in the sorted list. */
static size_t cand_pos(const struct rill_dht_lookup *l, const uint8_t id[RILL_KRPC_ID_LEN])
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rill_dht_id_distance_cmp(l->target, l->c[mid].node.id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void cand_remove(struct rill_dht_lookup *l, size_t i)
{
    memmove(&l->c[i], &l->c[i + 1], (l->n - i - 1) * sizeof l->c[0]);
    l->n--;
}

/* Adds a node learned at `depth`, or lowers the depth of a known one.
 * Unusable nodes (port 0, our own id) are skipped. A full list makes room by
 * dropping its farthest candidate that is farther than the newcomer and not
 * in flight; without one, the newcomer is dropped. */
static void cand_add(struct rill_dht_lookup *l, const struct rill_krpc_node *node, unsigned depth)
{
    if (node->port == 0)
        return;
    if (l->has_own && memcmp(node->id, l->own, RILL_KRPC_ID_LEN) == 0)
        return;
    if (depth > 255)
        depth = 255;
    int have = cand_find(l, node->id);
    if (have >= 0) {
        if (l->c[have].depth > depth)
            l->c[have].depth = (uint8_t)depth;
        return;
    }
    size_t pos = cand_pos(l, node->id);
    if (l->n == RILL_DHT_LOOKUP_MAX) {
        size_t j = l->n;
        while (j > pos && l->c[j - 1].state == RILL_DHT_CAND_INFLIGHT)
            j--;
        if (j == pos)
            return;
        cand_remove(l, j - 1);
    }
    memmove(&l->c[pos + 1], &l->c[pos], (l->n - pos) * sizeof l->c[0]);
    struct rill_dht_cand *c = &l->c[pos];
    memset(c, 0, sizeof *c);
    c->node = *node;
    c->state = RILL_DHT_CAND_NEW;
    c->depth = (uint8_t)depth;
    l->n++;
}

void rill_dht_lookup_init(struct rill_dht_lookup *l, const uint8_t target[RILL_KRPC_ID_LEN],
                          enum rill_dht_lookup_kind kind, const uint8_t *own,
                          const struct rill_krpc_node *seeds, size_t n, uint64_t now_ms)
{
    (void)now_ms;
    memset(l, 0, sizeof *l);
    memcpy(l->target, target, RILL_KRPC_ID_LEN);
    l->kind = (uint8_t)kind;
    if (own) {
        memcpy(l->own, own, RILL_KRPC_ID_LEN);
        l->has_own = true;
    }
    for (size_t i = 0; i < n; i++)
        cand_add(l, &seeds[i], 0);
}

/* The index of the nearest NEW candidate among the K nearest that have not
 * failed, or -1 when there is none. */
static int first_new(const struct rill_dht_lookup *l)
{
    unsigned seen = 0;
    for (int i = 0; i < (int)l->n && seen < RILL_DHT_LOOKUP_K; i++) {
        if (l->c[i].state == RILL_DHT_CAND_FAILED)
            continue;
        if (l->c[i].state == RILL_DHT_CAND_NEW)
            return i;
        seen++;
    }
    return -1;
}

/* Queries in flight that are not slow yet: a query unanswered for
 * RILL_DHT_LOOKUP_SLOW_MS (a dead node, usually) stops holding one of the
 * ALPHA slots, so one dead node does not stall the lookup for a whole
 * timeout; it stays in flight and may still answer. */
static unsigned fresh_in_flight(const struct rill_dht_lookup *l, uint64_t now_ms)
{
    unsigned n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->c[i].state == RILL_DHT_CAND_INFLIGHT &&
             now_ms - l->c[i].sent_ms < RILL_DHT_LOOKUP_SLOW_MS;
    return n;
}

int rill_dht_lookup_next(struct rill_dht_lookup *l, uint64_t now_ms, struct rill_krpc_node *out)
{
    if (l->in_flight >= RILL_DHT_LOOKUP_ALPHA && fresh_in_flight(l, now_ms) >= RILL_DHT_LOOKUP_ALPHA)
        return 0;
    int i = first_new(l);
    if (i < 0)
        return 0;
    l->c[i].state = RILL_DHT_CAND_INFLIGHT;
    l->c[i].sent_ms = now_ms;
    l->in_flight++;
    l->queries++;
    *out = l->c[i].node;
    return 1;
}

int rill_dht_lookup_replied(struct rill_dht_lookup *l, const uint8_t id[RILL_KRPC_ID_LEN],
                            const struct rill_krpc_node *nodes, size_t n, const uint8_t *token,
                            size_t token_len, uint64_t now_ms)
{
    (void)now_ms;
    int i = cand_find(l, id);
    if (i < 0)
        return RILL_ENOENT;
    struct rill_dht_cand *c = &l->c[i];
    if (c->state == RILL_DHT_CAND_INFLIGHT)
        l->in_flight--;
    else if (c->state != RILL_DHT_CAND_FAILED)
        return RILL_ENOENT;
    c->state = RILL_DHT_CAND_REPLIED;
    if (token && token_len > 0 && token_len <= RILL_DHT_LOOKUP_TOKEN_MAX) {
        memcpy(c->token, token, token_len);
        c->token_len = (uint8_t)token_len;
    }
    /* cand_add() moves entries, so `c` is not used past this point. */
    unsigned depth = (unsigned)c->depth + 1;
    for (size_t k = 0; k < n; k++)
        cand_add(l, &nodes[k], depth);
    return 0;
}

int rill_dht_lookup_failed(struct rill_dht_lookup *l, const uint8_t id[RILL_KRPC_ID_LEN],
                           uint64_t now_ms)
{
    (void)now_ms;
    int i = cand_find(l, id);
    if (i < 0 || l->c[i].state != RILL_DHT_CAND_INFLIGHT)
        return RILL_ENOENT;
    l->c[i].state = RILL_DHT_CAND_FAILED;
    l->in_flight--;
    return 0;
}

size_t rill_dht_lookup_timeouts(struct rill_dht_lookup *l, uint64_t now_ms, uint64_t timeout_ms)
{
    size_t expired = 0;
    for (size_t i = 0; i < l->n && l->in_flight > 0; i++) {
        struct rill_dht_cand *c = &l->c[i];
        if (c->state != RILL_DHT_CAND_INFLIGHT || now_ms < c->sent_ms ||
            now_ms - c->sent_ms < timeout_ms)
            continue;
        c->state = RILL_DHT_CAND_FAILED;
        l->in_flight--;
            expired++;
    }
    return expired;
}

uint64_t rill_dht_lookup_deadline(const struct rill_dht_lookup *l, uint64_t timeout_ms)
{
    uint64_t due = UINT64_MAX;
    for (size_t i = 0; i < l->n; i++) {
        const struct rill_dht_cand *c = &l->c[i];
        if (c->state != RILL_DHT_CAND_INFLIGHT)
            continue;
        uint64_t t = c->sent_ms > UINT64_MAX - timeout_ms ? UINT64_MAX : c->sent_ms + timeout_ms;
        if (t < due)
            due = t;
    }
    return due;
}

bool rill_dht_lookup_done(const struct rill_dht_lookup *l)
{
    return l->in_flight == 0 && first_new(l) < 0;
}

size_t rill_dht_lookup_result(const struct rill_dht_lookup *l, struct rill_dht_cand *out,
                              size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n && k < max && k < RILL_DHT_LOOKUP_K; i++)
        if (l->c[i].state == RILL_DHT_CAND_REPLIED)
            out[k++] = l->c[i];
    return k;
}

unsigned rill_dht_lookup_hops(const struct rill_dht_lookup *l)
{
    unsigned hops = 0, k = 0;
    for (size_t i = 0; i < l->n && k < RILL_DHT_LOOKUP_K; i++) {
        if (l->c[i].state != RILL_DHT_CAND_REPLIED)
            continue;
        if (l->c[i].depth > hops)
            hops = l->c[i].depth;
        k++;
    }
    return hops;
}
