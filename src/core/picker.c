/* The piece picker: setup, geometry, and the piece state machine (fresh, in
 * progress, have) with the structures derived from it. See picker.h for the
 * policy and the cost of each call. */
#include "core/picker_internal.h"

#include <stdlib.h>
#include <string.h>

void rill_picker_opts_default(struct rill_picker_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = RILL_PICKER_RAREST;
    o->random_first = 4;
    o->endgame = true;
    o->endgame_max_requesters = 4;
}

void rill_picker_peer_init(struct rill_picker_peer *pp, uint32_t id,
                           const struct rill_bitfield *have, bool all)
{
    pp->id = id;
    pp->have = have;
    pp->all = all;
    pp->last = RILL_PICKER_NONE;
}

static uint32_t min32(uint64_t a, uint64_t b)
{
    return (uint32_t)(a < b ? a : b);
}

/* Fills in the 0-means-default sizes and rejects what cannot work. The
 * default slot count is enough for a thousand peers each on its own piece,
 * but never more than 4 GiB of pieces in progress (big pieces, big slots). */
static int resolve_opts(struct rill_picker_opts *o, uint32_t npieces, uint32_t plen, uint32_t bpp)
{
    if ((unsigned)o->mode > RILL_PICKER_SEQUENTIAL)
        return RILL_EINVAL;
    if (o->endgame_max_requesters == 0)
        o->endgame_max_requesters = 4;
    if (o->endgame_max_requesters > RILL_PICKER_MAX_REQUESTERS)
        return RILL_EINVAL;
    if (o->max_partial == 0) {
        uint64_t by_bytes = (4ull << 30) / plen;
        o->max_partial = min32(1024, by_bytes > 64 ? by_bytes : 64);
    }
    o->max_partial = min32(o->max_partial, npieces);
    if (o->endgame_slots == 0)
        o->endgame_slots =
            min32(4096, (uint64_t)o->max_partial * bpp * (o->endgame_max_requesters - 1) + 1);
    if (o->avail_levels == 0)
        o->avail_levels = 256;
    if (o->avail_levels < 2 || o->avail_levels > (1u << 20))
        return RILL_EINVAL;
    return 0;
}

static int check_geometry(uint32_t n, uint32_t plen, uint64_t total)
{
    if (n == 0 || plen == 0 || plen > RILL_MAX_PIECE || total == 0)
        return RILL_EINVAL;
    if ((total + plen - 1) / plen != n)
        return RILL_EINVAL;
    return 0;
}

static int alloc_all(struct rill_picker *p)
{
    uint32_t n = p->npieces, L = p->opt.avail_levels, ns = p->opt.max_partial;
    size_t nb = (size_t)ns * p->bpp;
    p->avail = calloc(n, sizeof *p->avail);
    p->loc = calloc(n, sizeof *p->loc);
    p->prio = calloc(n, 1);
    p->state = calloc(n, 1);
    p->want = calloc(((size_t)n + 7) / 8, 1);
    p->order = calloc(n, sizeof *p->order);
    p->bstart = calloc(2 * (size_t)L + 1, sizeof *p->bstart);
    p->hist = calloc(L, sizeof *p->hist);
    p->slots = calloc(ns, sizeof *p->slots);
    p->free_slots = calloc(ns, sizeof *p->free_slots);
    p->active = calloc(ns, sizeof *p->active);
    p->open[0] = calloc(ns, sizeof *p->open[0]);
    p->open[1] = calloc(ns, sizeof *p->open[1]);
    p->owner = calloc(nb, sizeof *p->owner);
    p->bstate = calloc(nb, 1);
    p->extras = calloc(p->opt.endgame_slots, sizeof *p->extras);
    if (!p->avail || !p->loc || !p->prio || !p->state || !p->want || !p->order || !p->bstart ||
        !p->hist || !p->slots || !p->free_slots || !p->active || !p->open[0] || !p->open[1] ||
        !p->owner || !p->bstate || !p->extras)
        return RILL_ENOMEM;
    return 0;
}

/* Every piece fresh, normal, unseen; every slot and extra free. */
static void reset_state(struct rill_picker *p)
{
    p->top = -1;
    p->hist[0] = p->npieces;
    p->cursor[0] = p->cursor[1] = p->npieces;
    for (uint32_t s = 0; s < p->nslots; s++)
        p->free_slots[s] = p->nslots - 1 - s;
    p->nfree_slots = p->nslots;
    for (uint32_t e = 0; e < p->opt.endgame_slots; e++)
        p->extras[e].next = e + 1 < p->opt.endgame_slots ? e + 1 : RILL_PICKER_NONE;
    p->extra_free = RILL_PICKER_NONE;
    if (p->opt.endgame_slots)
        p->extra_free = 0;
    for (uint32_t i = 0; i < p->npieces; i++) {
        p->loc[i] = RILL_PICKER_NONE;
        p->prio[i] = RILL_PICKER_NORMAL;
        rill__pk_attach(p, i);
    }
}

int rill_picker_init(struct rill_picker *p, uint32_t piece_count, uint32_t piece_length,
                     uint64_t total_size, struct rill_rng *rng, const struct rill_picker_opts *opts)
{
    memset(p, 0, sizeof *p);
    struct rill_picker_opts o;
    if (opts)
        o = *opts;
    else
        rill_picker_opts_default(&o);
    int rc = check_geometry(piece_count, piece_length, total_size);
    if (rc == 0 && !rng)
        rc = RILL_EINVAL;
    uint32_t bpp = (piece_length + RILL_PICKER_BLOCK - 1) / RILL_PICKER_BLOCK;
    if (rc == 0)
        rc = resolve_opts(&o, piece_count, piece_length, bpp);
    if (rc < 0)
        return rc;
    p->rng = rng;
    p->opt = o;
    p->total_size = total_size;
    p->npieces = piece_count;
    p->piece_length = piece_length;
    p->bpp = bpp;
    p->last_size = (uint32_t)(total_size - (uint64_t)(piece_count - 1) * piece_length);
    p->nslots = o.max_partial;
    rc = alloc_all(p);
    if (rc < 0) {
        rill_picker_free(p);
        return rc;
    }
    reset_state(p);
    return 0;
}

void rill_picker_free(struct rill_picker *p)
{
    free(p->avail);
    free(p->loc);
    free(p->prio);
    free(p->state);
    free(p->want);
    free(p->order);
    free(p->bstart);
    free(p->hist);
    free(p->slots);
    free(p->free_slots);
    free(p->active);
    free(p->open[0]);
    free(p->open[1]);
    free(p->owner);
    free(p->bstate);
    free(p->extras);
    memset(p, 0, sizeof *p);
}

void rill_picker_set_mode(struct rill_picker *p, enum rill_picker_mode mode)
{
    if ((unsigned)mode <= RILL_PICKER_SEQUENTIAL)
        p->opt.mode = mode;
}

uint32_t rill_picker_piece_size(const struct rill_picker *p, uint32_t piece)
{
    if (piece >= p->npieces)
        return 0;
    return piece + 1 == p->npieces ? p->last_size : p->piece_length;
}

uint32_t rill_picker_block_count(const struct rill_picker *p, uint32_t piece)
{
    return (rill_picker_piece_size(p, piece) + RILL_PICKER_BLOCK - 1) / RILL_PICKER_BLOCK;
}

uint32_t rill_picker_block_length(const struct rill_picker *p, uint32_t piece, uint32_t offset)
{
    uint32_t size = rill_picker_piece_size(p, piece);
    if (offset % RILL_PICKER_BLOCK || offset >= size)
        return 0;
    uint32_t left = size - offset;
    return left < RILL_PICKER_BLOCK ? left : RILL_PICKER_BLOCK;
}

/* --------------------------------------------------- state transitions */

static void want_bit(struct rill_picker *p, uint32_t i, bool v)
{
    uint8_t mask = (uint8_t)(0x80u >> (i & 7));
    if (v)
        p->want[i >> 3] |= mask;
    else
        p->want[i >> 3] &= (uint8_t)~mask;
}

/* Free blocks the piece contributes to `unrequested` while wanted. */
static uint32_t free_blocks(const struct rill_picker *p, uint32_t i)
{
    if (p->state[i] == RILL__PK_ACTIVE)
        return rill__pk_nfree(&p->slots[p->loc[i]]);
    return rill_picker_block_count(p, i);
}

void rill__pk_detach(struct rill_picker *p, uint32_t i)
{
    uint8_t st = p->state[i];
    if (st == RILL__PK_FRESH && p->prio[i] != RILL_PICKER_SKIP)
        rill__pk_bucket_remove(p, i);
    if (st == RILL__PK_ACTIVE && p->slots[p->loc[i]].open_cls != RILL__PK_NOCLS)
        rill__pk_open_del(p, p->loc[i]);
    if (p->prio[i] != RILL_PICKER_SKIP && st != RILL__PK_HAVE) {
        p->wanted_missing--;
        p->wanted_missing_bytes -= rill_picker_piece_size(p, i);
        p->unrequested -= free_blocks(p, i);
        want_bit(p, i, false);
    }
}

void rill__pk_attach(struct rill_picker *p, uint32_t i)
{
    uint8_t st = p->state[i];
    if (p->prio[i] == RILL_PICKER_SKIP || st == RILL__PK_HAVE)
        return;
    p->wanted_missing++;
    p->wanted_missing_bytes += rill_picker_piece_size(p, i);
    p->unrequested += free_blocks(p, i);
    want_bit(p, i, true);
    if (st == RILL__PK_FRESH) {
        rill__pk_bucket_insert(p, i);
        unsigned c = rill__pk_class(p->prio[i]);
        if (i < p->cursor[c])
            p->cursor[c] = i;
    } else if (rill__pk_nfree(&p->slots[p->loc[i]]) > 0) {
        rill__pk_open_add(p, p->loc[i]);
    }
}

void rill__pk_open_add(struct rill_picker *p, uint32_t s)
{
    struct rill_picker_slot *sl = &p->slots[s];
    unsigned c = rill__pk_class(p->prio[sl->piece]);
    sl->open_cls = (uint8_t)c;
    sl->open_at = p->nopen[c];
    p->open[c][p->nopen[c]++] = s;
}

void rill__pk_open_del(struct rill_picker *p, uint32_t s)
{
    struct rill_picker_slot *sl = &p->slots[s];
    unsigned c = sl->open_cls;
    uint32_t moved = p->open[c][--p->nopen[c]];
    p->open[c][sl->open_at] = moved;
    p->slots[moved].open_at = sl->open_at;
    sl->open_cls = RILL__PK_NOCLS;
}

uint32_t rill__pk_start(struct rill_picker *p, uint32_t i)
{
    if (p->nfree_slots == 0)
        return RILL_PICKER_NONE;
    rill__pk_detach(p, i);
    uint32_t s = p->free_slots[--p->nfree_slots];
    struct rill_picker_slot *sl = &p->slots[s];
    memset(sl, 0, sizeof *sl);
    sl->piece = i;
    sl->last_peer = RILL_PICKER_NONE;
    sl->extra = RILL_PICKER_NONE;
    sl->open_cls = RILL__PK_NOCLS;
    sl->nblocks = (uint16_t)rill_picker_block_count(p, i);
    sl->active_at = p->nactive;
    p->active[p->nactive++] = s;
    size_t b0 = rill__pk_blk(p, s, 0);
    memset(p->bstate + b0, 0, sl->nblocks);
    for (uint32_t b = 0; b < sl->nblocks; b++)
        p->owner[b0 + b] = RILL_PICKER_NONE;
    p->state[i] = RILL__PK_ACTIVE;
    p->loc[i] = s;
    rill__pk_attach(p, i);
    return s;
}

static void set_have(struct rill_picker *p, uint32_t i)
{
    p->state[i] = RILL__PK_HAVE;
    p->have_count++;
    p->have_bytes += rill_picker_piece_size(p, i);
}

void rill__pk_stop(struct rill_picker *p, uint32_t i, uint8_t new_state)
{
    rill__pk_detach(p, i);
    uint32_t s = p->loc[i];
    struct rill_picker_slot *sl = &p->slots[s];
    while (sl->extra != RILL_PICKER_NONE) {
        uint32_t e = sl->extra;
        sl->extra = p->extras[e].next;
        p->extras[e].next = p->extra_free;
        p->extra_free = e;
    }
    uint32_t moved = p->active[--p->nactive];
    p->active[sl->active_at] = moved;
    p->slots[moved].active_at = sl->active_at;
    p->free_slots[p->nfree_slots++] = s;
    p->loc[i] = RILL_PICKER_NONE;
    p->state[i] = RILL__PK_FRESH;
    if (new_state == RILL__PK_HAVE)
        set_have(p, i);
    rill__pk_attach(p, i);
}

/* ------------------------------------------------------ what we have */

int rill_picker_verified(struct rill_picker *p, uint32_t piece)
{
    if (piece >= p->npieces)
        return RILL_ERANGE;
    if (p->state[piece] == RILL__PK_HAVE)
        return 0;
    if (p->state[piece] == RILL__PK_ACTIVE) {
        rill__pk_stop(p, piece, RILL__PK_HAVE);
        return 0;
    }
    rill__pk_detach(p, piece);
    set_have(p, piece);
    rill__pk_attach(p, piece);
    return 0;
}

/* Distinct senders of the piece's received blocks, at most `cap`. */
static size_t senders_of(const struct rill_picker *p, uint32_t s, uint32_t *out, size_t cap)
{
    const struct rill_picker_slot *sl = &p->slots[s];
    size_t n = 0;
    for (uint32_t b = 0; b < sl->nblocks && n < cap; b++) {
        size_t k = rill__pk_blk(p, s, b);
        if (!(p->bstate[k] & RILL__PK_RECV))
            continue;
        size_t j = 0;
        while (j < n && out[j] != p->owner[k])
            j++;
        if (j == n)
            out[n++] = p->owner[k];
    }
    return n;
}

int rill_picker_failed(struct rill_picker *p, uint32_t piece, uint32_t *senders, size_t cap)
{
    if (piece >= p->npieces)
        return RILL_ERANGE;
    if (p->state[piece] == RILL__PK_HAVE)
        return RILL_EINVAL;
    if (p->state[piece] != RILL__PK_ACTIVE)
        return 0;
    size_t n = senders ? senders_of(p, p->loc[piece], senders, cap) : 0;
    rill__pk_stop(p, piece, RILL__PK_FRESH);
    return (int)n;
}

int rill_picker_load_have(struct rill_picker *p, const struct rill_bitfield *have)
{
    if (!have || have->size != p->npieces)
        return RILL_EINVAL;
    for (uint32_t i = 0; i < p->npieces; i++)
        if (rill_bitfield_get(have, i))
            rill_picker_verified(p, i);
    return 0;
}

bool rill_picker_has(const struct rill_picker *p, uint32_t piece)
{
    return piece < p->npieces && p->state[piece] == RILL__PK_HAVE;
}

bool rill_picker_complete(const struct rill_picker *p)
{
    return p->have_count == p->npieces;
}

bool rill_picker_wanted_complete(const struct rill_picker *p)
{
    return p->wanted_missing == 0;
}

bool rill_picker_in_endgame(const struct rill_picker *p)
{
    return p->opt.endgame && p->wanted_missing > 0 && p->unrequested == 0;
}
