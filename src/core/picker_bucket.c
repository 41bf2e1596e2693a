/* The picker's sorted array of fresh wanted pieces (libtorrent's piece
 * list with boundaries per priority level). A piece's sort key is its class
 * (high before normal) times L plus its availability level (availability,
 * capped at L - 1). Level j holds order[bstart[j] .. bstart[j + 1]); keys
 * above `top` are empty and their bstart is implicitly `norder`, so work
 * stays proportional to the levels actually in use.
 *
 * Why this shape: an availability change of one moves a piece to the
 * neighbouring level by one swap with that level's boundary element, O(1);
 * the rarest pieces are a contiguous range, so a random tie-break is a
 * random index into it. Inserting or removing a piece shifts each level
 * above it by one element, O(levels in use), which happens once per piece
 * started, verified or re-prioritised, not per block or per `have`. */
#include "core/picker_internal.h"

uint32_t rill__pk_level(const struct rill_picker *p, uint32_t avail)
{
    uint32_t cap = p->opt.avail_levels - 1;
    return avail < cap ? avail : cap;
}

uint32_t rill__pk_key(const struct rill_picker *p, uint32_t piece)
{
    return rill__pk_class(p->prio[piece]) * p->opt.avail_levels +
           rill__pk_level(p, p->avail[piece]);
}

/* Start of level `key` (or the end of the array above `top`). */
uint32_t rill__pk_bs(const struct rill_picker *p, uint32_t key)
{
    return (int64_t)key > p->top ? p->norder : p->bstart[key];
}

static void raise_top(struct rill_picker *p, uint32_t key)
{
    while (p->top < (int64_t)key) {
        p->top++;
        p->bstart[p->top] = p->norder;
    }
}

/* Drops empty levels from the top so later shifts stop earlier. */
static void lower_top(struct rill_picker *p)
{
    while (p->top >= 0 && p->bstart[p->top] == p->norder)
        p->top--;
}

static void put(struct rill_picker *p, uint32_t at, uint32_t piece)
{
    p->order[at] = piece;
    p->loc[piece] = at;
}

/* Appends a hole at the end and walks it down to the end of the piece's
 * level: each level above gives up its first element to the hole. */
void rill__pk_bucket_insert(struct rill_picker *p, uint32_t piece)
{
    uint32_t key = rill__pk_key(p, piece);
    raise_top(p, key);
    uint32_t hole = p->norder++;
    for (uint32_t j = (uint32_t)p->top; j > key; j--) {
        uint32_t first = p->bstart[j];
        if (first != hole)
            put(p, hole, p->order[first]);
        hole = first;
        p->bstart[j]++;
    }
    put(p, hole, piece);
    lower_top(p);
}

/* The reverse: the piece's slot becomes a hole that walks up to the end of
 * the array, each level above taking it as its new first element. */
void rill__pk_bucket_remove(struct rill_picker *p, uint32_t piece)
{
    uint32_t key = rill__pk_key(p, piece);
    uint32_t hole = p->loc[piece];
    uint32_t last = rill__pk_bs(p, key + 1) - 1;
    if (last != hole)
        put(p, hole, p->order[last]);
    hole = last;
    for (uint32_t j = key + 1; (int64_t)j <= p->top; j++) {
        p->bstart[j]--;
        last = rill__pk_bs(p, j + 1) - 1;
        if (last != hole)
            put(p, hole, p->order[last]);
        hole = last;
    }
    p->norder--;
    p->loc[piece] = RILL_PICKER_NONE;
    lower_top(p);
}

/* Availability went from old to old + 1: swap the piece with the last
 * element of its level, which then becomes the first of the next level. */
void rill__pk_bucket_inc(struct rill_picker *p, uint32_t piece, uint32_t old_avail)
{
    uint32_t lv = rill__pk_level(p, old_avail);
    if (lv == rill__pk_level(p, old_avail + 1))
        return;
    uint32_t key = rill__pk_class(p->prio[piece]) * p->opt.avail_levels + lv;
    raise_top(p, key + 1);
    uint32_t at = p->loc[piece];
    uint32_t last = p->bstart[key + 1] - 1;
    put(p, at, p->order[last]);
    put(p, last, piece);
    p->bstart[key + 1]--;
}

/* Availability went from old to old - 1: swap the piece with the first
 * element of its level, which then becomes the last of the level below. */
void rill__pk_bucket_dec(struct rill_picker *p, uint32_t piece, uint32_t old_avail)
{
    uint32_t lv = rill__pk_level(p, old_avail);
    if (lv == rill__pk_level(p, old_avail - 1))
        return;
    uint32_t key = rill__pk_class(p->prio[piece]) * p->opt.avail_levels + lv;
    uint32_t at = p->loc[piece];
    uint32_t first = p->bstart[key];
    put(p, at, p->order[first]);
    put(p, first, piece);
    p->bstart[key]++;
    lower_top(p);
}
