/* The tracker swarm's peer table: open addressing with linear probing and
 * backward-shift deletion over compact 8- or 20-byte slots (see
 * swarm_internal.h for the layout). Tables grow past 13/16 load (so that
 * 100,000 peers fit in 2^17 slots, 10.5 bytes each, rather than doubling
 * to 21) and shrink to at most half load when they fall under 1/8. */
#include <stdlib.h>
#include <string.h>

#include "core/swarm_internal.h"
#include "rill.h"

#define GROW_NUM 13u /* grow when count would pass 13/16 of the slots */
#define GROW_SHIFT 4u

static size_t max_load(unsigned shift)
{
    return ((size_t)1 << shift) * GROW_NUM >> GROW_SHIFT;
}

static uint8_t *slot_at(const struct rill__ptab *t, const struct rill__pfam *f, size_t i)
{
    return t->slots + i * f->slot_len;
}

static bool slot_used(const uint8_t *slot, const struct rill__pfam *f)
{
    return slot[f->key_len] & RILL__PEER_USED;
}

static bool slot_seed(const uint8_t *slot, const struct rill__pfam *f)
{
    return slot[f->key_len] & RILL__PEER_SEED;
}

uint64_t rill__ptab_hash(const struct rill__pfam *f, const uint8_t *key)
{
    /* Word by word through a bijective mixer keyed at both ends: without
     * the seeds, which addresses collide cannot be predicted. */
    uint64_t h = f->seed[0];
    for (size_t o = 0; o < f->key_len; o += 8) {
        uint64_t w = 0;
        size_t n = f->key_len - o < 8 ? f->key_len - o : 8;
        memcpy(&w, key + o, n);
        h = rill__mix64(h ^ w);
    }
    return rill__mix64(h ^ f->seed[1]);
}

static size_t home_of(const struct rill__pfam *f, const uint8_t *key, size_t mask)
{
    return (size_t)rill__ptab_hash(f, key) & mask;
}

size_t rill__ptab_find(const struct rill__ptab *t, const struct rill__pfam *f, const uint8_t *key)
{
    if (!t->slots)
        return SIZE_MAX;
    size_t mask = ((size_t)1 << t->shift) - 1;
    for (size_t i = home_of(f, key, mask);; i = (i + 1) & mask) {
        const uint8_t *s = slot_at(t, f, i);
        if (!slot_used(s, f))
            return SIZE_MAX; /* the load cap leaves a free slot in every cycle */
        if (memcmp(s, key, f->key_len) == 0)
            return i;
    }
}

/* Writes a slot into a table known not to hold its key; returns its index. */
static size_t place(uint8_t *slots, unsigned shift, const struct rill__pfam *f, const uint8_t *slot)
{
    size_t mask = ((size_t)1 << shift) - 1;
    size_t i = home_of(f, slot, mask);
    while (slots[i * f->slot_len + f->key_len] & RILL__PEER_USED)
        i = (i + 1) & mask;
    memcpy(slots + i * f->slot_len, slot, f->slot_len);
    return i;
}

static int resize(struct rill__ptab *t, const struct rill__pfam *f, unsigned shift, uint64_t *mem)
{
    size_t bytes = ((size_t)1 << shift) * f->slot_len;
    uint8_t *ns = calloc(1, bytes);
    if (!ns)
        return RILL_ENOMEM;
    if (t->slots) {
        size_t cap = (size_t)1 << t->shift;
        for (size_t i = 0; i < cap; i++) {
            const uint8_t *s = slot_at(t, f, i);
            if (slot_used(s, f))
                place(ns, shift, f, s);
        }
        if (!t->borrowed) {
            free(t->slots);
            *mem -= ((uint64_t)1 << t->shift) * f->slot_len;
        }
    }
    t->slots = ns;
    t->borrowed = 0;
    t->shift = shift & 0xffu;
    *mem += bytes;
    return 0;
}

int rill__ptab_insert(struct rill__ptab *t, const struct rill__pfam *f, const uint8_t *key,
                      uint8_t flags, uint8_t age, size_t *slot, uint64_t *mem)
{
    if (t->count >= RILL__PTAB_COUNT_MAX)
        return RILL_ELIMIT;
    if (!t->slots || t->count + 1u > max_load(t->shift)) {
        int rc = resize(t, f, t->slots ? t->shift + 1u : RILL__PTAB_MIN_SHIFT, mem);
        if (rc)
            return rc;
    }
    uint8_t s[20];
    memcpy(s, key, f->key_len);
    s[f->key_len] = (uint8_t)(flags | RILL__PEER_USED);
    s[f->key_len + 1] = age;
    *slot = place(t->slots, t->shift, f, s);
    t->count++;
    if (flags & RILL__PEER_SEED)
        t->seeds++;
    return 0;
}

void rill__ptab_remove_at(struct rill__ptab *t, const struct rill__pfam *f, size_t i)
{
    size_t mask = ((size_t)1 << t->shift) - 1;
    if (slot_seed(slot_at(t, f, i), f))
        t->seeds--;
    t->count--;
    /* Backward shift: a later member of the cluster moves into the hole
     * when its home slot is not after the hole (cyclically), so every
     * peer stays reachable from its home without tombstones. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        uint8_t *s = slot_at(t, f, j);
        if (!slot_used(s, f))
            break;
        size_t home = home_of(f, s, mask);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            memcpy(slot_at(t, f, hole), s, f->slot_len);
            hole = j;
        }
    }
    memset(slot_at(t, f, hole), 0, f->slot_len);
}

void rill__ptab_free(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem)
{
    if (t->slots && !t->borrowed) {
        free(t->slots);
        *mem -= ((uint64_t)1 << t->shift) * f->slot_len;
    }
    t->slots = NULL;
    t->borrowed = 0;
    t->shift = 0;
    t->count = 0;
    t->seeds = 0;
}

void rill__ptab_fit(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem)
{
    if (!t->slots)
        return;
    if (t->count == 0) {
        rill__ptab_free(t, f, mem);
        return;
    }
    if (t->borrowed || t->shift <= RILL__PTAB_MIN_SHIFT ||
        t->count >= ((size_t)1 << t->shift) / 8)
        return; /* the record's own slots cost nothing more to keep */
    unsigned shift = RILL__PTAB_MIN_SHIFT;
    while (((size_t)1 << shift) < 2 * (size_t)t->count)
        shift++;
    (void)resize(t, f, shift, mem); /* on failure the larger table stays */
}

size_t rill__ptab_expire(struct rill__ptab *t, const struct rill__pfam *f, uint8_t now_min,
                         uint8_t limit, size_t *seeds_dropped, uint64_t *mem)
{
    if (!t->slots)
        return 0;
    size_t cap = (size_t)1 << t->shift, mask = cap - 1, e = 0, dropped = 0;
    /* Start after a free slot: removals shift peers back only within their
     * cluster and never across a free slot, so from there each peer is
     * seen once (a removal refills slot i, which is looked at again). */
    while (slot_used(slot_at(t, f, e), f))
        e++;
    for (size_t k = 1; k <= cap;) {
        size_t i = (e + k) & mask;
        uint8_t *s = slot_at(t, f, i);
        if (slot_used(s, f) && (uint8_t)(now_min - s[f->key_len + 1]) > limit) {
            if (slot_seed(s, f))
                (*seeds_dropped)++;
            rill__ptab_remove_at(t, f, i);
            dropped++;
            continue;
        }
        k++;
    }
    rill__ptab_fit(t, f, mem);
    return dropped;
}

size_t rill__ptab_pick(const struct rill__ptab *t, const struct rill__pfam *f, size_t skip,
                       bool no_seeds, size_t want, uint8_t *out, struct rill_rng *rng)
{
    if (!t->slots || !want)
        return 0;
    /* How many peers qualify, so the walk stops once it has them all
     * rather than visiting every slot of a table without enough. */
    size_t eligible = no_seeds ? t->count - t->seeds : t->count;
    if (skip != SIZE_MAX && !(no_seeds && slot_seed(slot_at(t, f, skip), f)))
        eligible--;
    if (want > eligible)
        want = eligible;
    size_t cap = (size_t)1 << t->shift, mask = cap - 1, n = 0;
    /* An odd stride is coprime with a power of two: the walk visits every
     * slot once, and from a random start it samples the whole table. */
    uint64_t x = rill_rng_next(rng);
    size_t i = (size_t)x & mask, stride = ((size_t)(x >> 32) | 1u) & mask;
    for (size_t v = 0; v < cap && n < want; v++, i = (i + stride) & mask) {
        const uint8_t *s = slot_at(t, f, i);
        if (!slot_used(s, f) || i == skip || (no_seeds && slot_seed(s, f)))
            continue;
        memcpy(out + n * f->key_len, s, f->key_len);
        n++;
    }
    return n;
}
