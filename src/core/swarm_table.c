/* The tracker swarm's peer table: open addressing with linear probing and
 * backward-shift deletion over compact 8- or 20-byte slots kept in
 * segments that are appended, never reallocated (see swarm_internal.h for
 * the layout and why).
 *
 * Tables grow past 15/16 load and shrink to at most half load when they
 * fall under 1/8. The high load and the growth by a half or a third past
 * 64 slots are for memory: at 13/16 and doubling, a torrent of 100 peers (a
 * Poisson count) needed 256 slots a third of the time, and otherwise 128
 * where 96 would do a sixth of the time. Linear probing stays cheap for
 * what a tracker does most, finding a known peer (8.5 probes of 8 bytes on
 * average at the limit, about 2 at typical load); only inserts near the
 * limit probe far. A slot's home is the hash scaled to the slot count (a
 * multiply, since counts are 2^a or 3 * 2^a). */
#include <stdlib.h>
#include <string.h>

#include "core/swarm_internal.h"
#include "rill.h"

#define GROW_NUM 15u /* grow when count would pass 15/16 of the slots */
#define GROW_SHIFT 4u
#define LINK sizeof(uint8_t *)
#define PAIRS_FROM 5u /* the first segment of the pairs */
/* Peers are moved through a buffer when a table is rebuilt: on the stack
 * up to this size (512 IPv4 peers), so that growing small tables does not
 * churn the heap; larger ones malloc and free it at once. */
#define TEMP_STACK 4096u

/* Every slot of a table, resolved once for a walk over many slots. */
struct view {
    uint8_t *seg[RILL__PTAB_SEGS]; /* the slots of segment k */
    size_t first[RILL__PTAB_SEGS]; /* its first slot */
    size_t cap;                    /* slot count */
    size_t len;                    /* slot_len */
};

/* ------------------------------------------------------------ segments */

/* The first slot of segment k. */
static size_t seg_first(unsigned k)
{
    if (k < PAIRS_FROM)
        return k ? (size_t)2 << k : 0;
    unsigned j = (k - PAIRS_FROM) / 2;
    return ((size_t)64 << j) + ((k - PAIRS_FROM) & 1 ? (size_t)32 << j : 0);
}

static size_t seg_slots(unsigned k)
{
    if (k < PAIRS_FROM)
        return k ? (size_t)2 << k : RILL__PTAB_SEG0_SLOTS;
    return (size_t)32 << ((k - PAIRS_FROM) / 2);
}

/* The segment holding slot i (the inverse of seg_first), without
 * branches worth the name: it runs for every slot a pick visits. */
static unsigned seg_of(size_t i)
{
    /* b = floor(log2 i), taken as 1 for slots 0..3 (all in segment 0). */
    unsigned b = (unsigned)(63 - __builtin_clzll((unsigned long long)(i | 2u)));
    unsigned pair = 2u * b - 7u + (unsigned)((i >> (b - 1u)) & 1u);
    return b < 6 ? b - 1u : pair;
}

static size_t cap_of(unsigned level)
{
    return seg_first(level) + seg_slots(level);
}

static size_t max_load(unsigned level)
{
    return cap_of(level) * GROW_NUM >> GROW_SHIFT;
}

/* Bytes allocated for segment k: its link, then its slots. */
static size_t seg_bytes(unsigned k, const struct rill__pfam *f)
{
    return (k ? LINK : 0) + seg_slots(k) * f->slot_len;
}

static uint8_t *seg_prev(const uint8_t *seg)
{
    uint8_t *p;
    memcpy(&p, seg, sizeof p);
    return p;
}

/* The slots of segment k of a table that has segments, found by following
 * links down from the top. */
static uint8_t *seg_slots_at(const struct rill__ptab *t, unsigned k)
{
    uint8_t *h = t->top;
    for (unsigned j = t->level; j > k; j--)
        h = seg_prev(h);
    return k ? h + LINK : h;
}

static void view_init(struct view *v, const struct rill__ptab *t, const struct rill__pfam *f)
{
    uint8_t *h = t->top;
    for (unsigned k = t->level; k > 0; k--) {
        v->seg[k] = h + LINK;
        v->first[k] = seg_first(k);
        h = seg_prev(h);
    }
    v->seg[0] = h;
    v->first[0] = 0;
    v->cap = cap_of(t->level);
    v->len = f->slot_len;
}

static uint8_t *vslot(const struct view *v, size_t i)
{
    unsigned k = seg_of(i);
    return v->seg[k] + (i - v->first[k]) * v->len;
}

static size_t next(size_t i, size_t cap)
{
    return i + 1 == cap ? 0 : i + 1;
}

/* How far slot b is after slot a, cyclically. */
static size_t dist(size_t a, size_t b, size_t cap)
{
    return b >= a ? b - a : b + cap - a;
}

/* --------------------------------------------------------------- slots */

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

/* x scaled to 0 .. cap - 1 (a multiply, not a division). */
static size_t scale32(uint64_t x, size_t cap)
{
    return (size_t)(((x & 0xffffffffu) * (uint64_t)cap) >> 32);
}

static size_t home_of(const struct rill__pfam *f, const uint8_t *key, size_t cap)
{
    return scale32(rill__ptab_hash(f, key) >> 32, cap);
}

size_t rill__ptab_find(const struct rill__ptab *t, const struct rill__pfam *f, const uint8_t *key,
                       uint8_t **slot)
{
    if (!t->top)
        return SIZE_MAX;
    size_t cap = cap_of(t->level), i = home_of(f, key, cap);
    /* Segment by segment, following links only where the probe enters a
     * segment (usually once). */
    for (;;) {
        unsigned k = seg_of(i);
        size_t end = seg_first(k) + seg_slots(k);
        uint8_t *s = seg_slots_at(t, k) + (i - seg_first(k)) * f->slot_len;
        for (; i < end; i++, s += f->slot_len) {
            if (!slot_used(s, f))
                return SIZE_MAX; /* the load cap leaves a free slot in every cycle */
            if (memcmp(s, key, f->key_len) == 0) {
                if (slot)
                    *slot = s;
                return i;
            }
        }
        if (i == cap)
            i = 0;
    }
}

/* Writes a slot into a table known not to hold its key; returns its index. */
static size_t place(const struct view *v, const struct rill__pfam *f, const uint8_t *slot)
{
    size_t i = home_of(f, slot, v->cap);
    uint8_t *s;
    while (slot_used(s = vslot(v, i), f))
        i = next(i, v->cap);
    memcpy(s, slot, f->slot_len);
    return i;
}

/* ------------------------------------------------------ growth, shrinking */

/* Frees segments from the top down to `level`. */
static void drop_top(struct rill__ptab *t, const struct rill__pfam *f, unsigned level,
                     uint64_t *mem)
{
    while (t->level > level) {
        uint8_t *h = t->top;
        t->top = seg_prev(h);
        free(h);
        *mem -= seg_bytes(t->level, f);
        t->level--;
    }
}

/* Copies every peer into buf (count slots) and clears all slots. */
static void take_all(const struct rill__ptab *t, const struct rill__pfam *f, uint8_t *buf)
{
    struct view v;
    view_init(&v, t, f);
    size_t n = 0;
    for (unsigned k = 0; k <= t->level; k++) {
        size_t len = seg_slots(k) * f->slot_len;
        for (size_t o = 0; o < len; o += f->slot_len)
            if (slot_used(v.seg[k] + o, f))
                memcpy(buf + f->slot_len * n++, v.seg[k] + o, f->slot_len);
        memset(v.seg[k], 0, len);
    }
}

/* Rebuilds the table at `level`: one up with `seg` (a new, zeroed top
 * segment), or lower, freeing top segments. Peers move through a
 * temporary buffer because a slot's position depends on the slot count.
 * Returns RILL_ENOMEM (nothing changed) when that buffer cannot be had. */
static int rebuild(struct rill__ptab *t, const struct rill__pfam *f, unsigned level, uint8_t *seg,
                   uint64_t *mem)
{
    uint8_t stack[TEMP_STACK];
    size_t n = t->count, need = n * f->slot_len;
    uint8_t *buf = need <= sizeof stack ? stack : malloc(need);
    if (!buf)
        return RILL_ENOMEM;
    take_all(t, f, buf);
    if (seg) {
        memcpy(seg, &t->top, sizeof t->top);
        t->top = seg;
        t->level = level & 0xffu;
        *mem += seg_bytes(level, f);
    } else {
        drop_top(t, f, level, mem);
    }
    struct view v;
    view_init(&v, t, f);
    for (size_t j = 0; j < n; j++)
        place(&v, f, buf + j * f->slot_len);
    if (buf != stack)
        free(buf);
    return 0;
}

/* Appends a segment (or makes segment 0 of a table without one). */
static int grow(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem)
{
    if (!t->top) {
        uint8_t *s0 = calloc(1, seg_bytes(0, f));
        if (!s0)
            return RILL_ENOMEM;
        t->top = s0;
        t->level = 0;
        *mem += seg_bytes(0, f);
        return 0;
    }
    unsigned level = t->level + 1u;
    uint8_t *seg = calloc(1, seg_bytes(level, f));
    if (!seg)
        return RILL_ENOMEM;
    int rc = rebuild(t, f, level, seg, mem);
    if (rc)
        free(seg);
    return rc;
}

int rill__ptab_insert(struct rill__ptab *t, const struct rill__pfam *f, const uint8_t *key,
                      uint8_t flags, uint8_t age, size_t *slot, uint64_t *mem)
{
    if (t->count >= RILL__PTAB_COUNT_MAX)
        return RILL_ELIMIT;
    if (!t->top || t->count + 1u > max_load(t->level)) {
        int rc = grow(t, f, mem);
        if (rc)
            return rc;
    }
    uint8_t s[20];
    memcpy(s, key, f->key_len);
    s[f->key_len] = (uint8_t)(flags | RILL__PEER_USED);
    s[f->key_len + 1] = age;
    struct view v;
    view_init(&v, t, f);
    *slot = place(&v, f, s);
    t->count++;
    if (flags & RILL__PEER_SEED)
        t->seeds++;
    return 0;
}

void rill__ptab_free(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem)
{
    if (t->top) {
        drop_top(t, f, 0, mem);
        if (t->borrowed) {
            memset(t->top, 0, seg_bytes(0, f));
        } else {
            free(t->top);
            *mem -= seg_bytes(0, f);
            t->top = NULL;
        }
    }
    t->count = 0;
    t->seeds = 0;
}

void rill__ptab_fit(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem)
{
    if (!t->top)
        return;
    if (t->count == 0) {
        rill__ptab_free(t, f, mem);
        return;
    }
    if (t->level == 0 || t->count >= cap_of(t->level) / 8)
        return;
    unsigned level = 0;
    while (cap_of(level) < 2 * (size_t)t->count)
        level++;
    (void)rebuild(t, f, level, NULL, mem); /* on failure the larger table stays */
}

int rill__ptab_unborrow(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem)
{
    if (!t->borrowed)
        return 0;
    if (!t->count) {
        drop_top(t, f, 0, mem);
        t->top = NULL;
        t->borrowed = 0;
        return 0;
    }
    uint8_t *s0 = malloc(seg_bytes(0, f));
    if (!s0)
        return RILL_ENOMEM;
    memcpy(s0, seg_slots_at(t, 0), seg_bytes(0, f));
    if (t->level == 0)
        t->top = s0;
    else
        memcpy(seg_slots_at(t, 1) - LINK, &s0, sizeof s0); /* segment 1's link */
    t->borrowed = 0;
    *mem += seg_bytes(0, f);
    return 0;
}

/* ------------------------------------------------ removal, expiry, picks */

static void remove_view(struct rill__ptab *t, const struct view *v, const struct rill__pfam *f,
                        size_t i)
{
    size_t cap = v->cap, hole = i;
    uint8_t *hs = vslot(v, i);
    if (slot_seed(hs, f))
        t->seeds--;
    t->count--;
    /* Backward shift: a later member of the cluster moves into the hole
     * when its home slot is not after the hole (cyclically), so every
     * peer stays reachable from its home without tombstones. */
    for (size_t j = next(i, cap);; j = next(j, cap)) {
        uint8_t *s = vslot(v, j);
        if (!slot_used(s, f))
            break;
        if (dist(home_of(f, s, cap), j, cap) >= dist(hole, j, cap)) {
            memcpy(hs, s, f->slot_len);
            hole = j;
            hs = s;
        }
    }
    memset(hs, 0, f->slot_len);
}

void rill__ptab_remove_at(struct rill__ptab *t, const struct rill__pfam *f, size_t i)
{
    struct view v;
    view_init(&v, t, f);
    remove_view(t, &v, f, i);
}

size_t rill__ptab_expire(struct rill__ptab *t, const struct rill__pfam *f, uint8_t now_min,
                         uint8_t limit, size_t *seeds_dropped, uint64_t *mem)
{
    if (!t->top)
        return 0;
    struct view v;
    view_init(&v, t, f);
    size_t e = 0, dropped = 0;
    /* Start after a free slot: removals shift peers back only within their
     * cluster and never across a free slot, so from there each peer is
     * seen once (a removal refills slot i, which is looked at again). */
    while (slot_used(vslot(&v, e), f))
        e++;
    for (size_t k = 1, i = next(e, v.cap); k <= v.cap;) {
        uint8_t *s = vslot(&v, i);
        if (slot_used(s, f) && (uint8_t)(now_min - s[f->key_len + 1]) > limit) {
            if (slot_seed(s, f))
                (*seeds_dropped)++;
            remove_view(t, &v, f, i);
            dropped++;
            continue;
        }
        k++;
        i = next(i, v.cap);
    }
    rill__ptab_fit(t, f, mem);
    return dropped;
}

/* A random stride coprime with the slot count (2^a or 3 * 2^a): odd, and
 * not a multiple of 3 when the count is. */
static size_t stride_for(size_t cap, uint64_t x)
{
    size_t s = scale32(x, cap) | 1u;
    if (cap % 3 == 0 && s % 3 == 0)
        s += 2; /* s <= cap - 3 here, and cap - 1 is no multiple of 3 */
    return s;
}

size_t rill__ptab_pick(const struct rill__ptab *t, const struct rill__pfam *f, size_t skip,
                       bool no_seeds, size_t want, uint8_t *out, struct rill_rng *rng)
{
    if (!t->top || !want || !t->count)
        return 0;
    struct view v;
    view_init(&v, t, f);
    /* How many peers qualify, so the walk stops once it has them all
     * rather than visiting every slot of a table without enough. */
    size_t eligible = no_seeds ? t->count - t->seeds : t->count;
    if (skip != SIZE_MAX && !(no_seeds && slot_seed(vslot(&v, skip), f)))
        eligible--;
    if (want > eligible)
        want = eligible;
    size_t cap = v.cap, n = 0;
    /* A stride coprime with the slot count visits every slot once, and
     * from a random start it samples the whole table. */
    uint64_t x = rill_rng_next(rng);
    size_t i = scale32(x, cap), stride = stride_for(cap, x >> 32);
    for (size_t c = 0; c < cap && n < want; c++) {
        const uint8_t *s = vslot(&v, i);
        if (slot_used(s, f) && i != skip && !(no_seeds && slot_seed(s, f))) {
            memcpy(out + n * f->key_len, s, f->key_len);
            n++;
        }
        i += stride;
        if (i >= cap)
            i -= cap;
    }
    return n;
}
