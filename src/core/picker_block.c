/* The picker's request lifecycle after pick: a block arrives (and tells
 * who else should get a `cancel`), or a request goes away (cancelled,
 * rejected, timed out, peer gone). A block's first requester lives in
 * owner[]; further endgame requesters hang off the piece's slot as a short
 * chain of extras, so the common case touches one byte and one word. */
#include "core/picker_internal.h"

/* Checks (piece, offset) and gives the block's index in its piece. */
static bool block_index(const struct rill_picker *p, uint32_t piece, uint32_t offset, uint32_t *b)
{
    if (rill_picker_block_length(p, piece, offset) == 0)
        return false;
    *b = offset / RILL_PICKER_BLOCK;
    return true;
}

static void extra_free(struct rill_picker *p, uint32_t e)
{
    p->extras[e].next = p->extra_free;
    p->extra_free = e;
}

/* Unlinks the first extra of block `b` held by `peer` (any peer when
 * `peer` is NONE) from slot `s`; its peer goes to `*who`. */
static bool extra_take(struct rill_picker *p, uint32_t s, uint32_t b, uint32_t peer, uint32_t *who)
{
    uint32_t *link = &p->slots[s].extra;
    while (*link != RILL_PICKER_NONE) {
        uint32_t e = *link;
        struct rill_picker_extra *x = &p->extras[e];
        if (x->block == b && (peer == RILL_PICKER_NONE || x->peer == peer)) {
            *who = x->peer;
            *link = x->next;
            extra_free(p, e);
            return true;
        }
        link = &x->next;
    }
    return false;
}

/* The block has no requester any more: it is free to pick again, and a
 * piece with nothing requested or received goes back to the fresh pieces
 * (which frees its slot for another). */
static void block_freed(struct rill_picker *p, uint32_t s, uint32_t b)
{
    struct rill_picker_slot *sl = &p->slots[s];
    sl->nreq--;
    if (b < sl->first_free)
        sl->first_free = (uint16_t)b;
    if (p->prio[sl->piece] != RILL_PICKER_SKIP) {
        p->unrequested++;
        if (sl->open_cls == RILL__PK_NOCLS)
            rill__pk_open_add(p, s);
    }
    if (sl->nreq == 0 && sl->nrecv == 0)
        rill__pk_stop(p, sl->piece, RILL__PK_FRESH);
}

int rill_picker_release(struct rill_picker *p, uint32_t peer, uint32_t piece, uint32_t offset)
{
    uint32_t b, who;
    if (!block_index(p, piece, offset, &b))
        return RILL_ERANGE;
    if (p->state[piece] != RILL__PK_ACTIVE || peer == RILL_PICKER_NONE)
        return 0;
    uint32_t s = p->loc[piece];
    size_t k = rill__pk_blk(p, s, b);
    uint8_t st = p->bstate[k];
    if ((st & RILL__PK_RECV) || (st & RILL__PK_COUNT) == 0)
        return 0;
    if (p->owner[k] == peer) {
        /* Promote an endgame requester so owner[] stays the first one. */
        if ((st & RILL__PK_COUNT) > 1 && extra_take(p, s, b, RILL_PICKER_NONE, &who))
            p->owner[k] = who;
        else
            p->owner[k] = RILL_PICKER_NONE;
    } else if (!extra_take(p, s, b, peer, &who)) {
        return 0;
    }
    p->bstate[k]--;
    if ((p->bstate[k] & RILL__PK_COUNT) == 0)
        block_freed(p, s, b);
    return 1;
}

/* Forgets every requester of block `b` but `peer`, writing them to
 * `cancel` (at most `cap`); returns how many were written. */
static size_t drop_requesters(struct rill_picker *p, uint32_t s, uint32_t b, uint32_t peer,
                              uint32_t *cancel, size_t cap)
{
    size_t k = rill__pk_blk(p, s, b), n = 0;
    uint32_t who = p->owner[k];
    do {
        if (who != peer && n < cap && cancel)
            cancel[n++] = who;
    } while (extra_take(p, s, b, RILL_PICKER_NONE, &who));
    return n;
}

int rill_picker_received(struct rill_picker *p, uint32_t peer, uint32_t piece, uint32_t offset,
                         uint32_t *cancel, size_t cap, size_t *ncancel)
{
    uint32_t b;
    if (ncancel)
        *ncancel = 0;
    if (!block_index(p, piece, offset, &b))
        return RILL_ERANGE;
    if (peer == RILL_PICKER_NONE)
        return RILL_EINVAL;
    if (p->state[piece] == RILL__PK_HAVE)
        return RILL_PICKER_GOT_DUP;
    if (p->state[piece] == RILL__PK_FRESH) {
        /* Unrequested (or released, then late) data for a wanted piece is
         * still good data: keep it. */
        if (p->prio[piece] == RILL_PICKER_SKIP || rill__pk_start(p, piece) == RILL_PICKER_NONE)
            return RILL_PICKER_GOT_DUP;
    }
    uint32_t s = p->loc[piece];
    struct rill_picker_slot *sl = &p->slots[s];
    size_t k = rill__pk_blk(p, s, b);
    if (p->bstate[k] & RILL__PK_RECV)
        return RILL_PICKER_GOT_DUP;
    size_t n = 0;
    if (p->bstate[k] & RILL__PK_COUNT) {
        n = drop_requesters(p, s, b, peer, cancel, cap);
        sl->nreq--;
    } else if (p->prio[piece] != RILL_PICKER_SKIP) {
        p->unrequested--;
    }
    p->bstate[k] = RILL__PK_RECV;
    p->owner[k] = peer; /* the sender, for strikes if the piece fails */
    sl->nrecv++;
    if (rill__pk_nfree(sl) == 0 && sl->open_cls != RILL__PK_NOCLS)
        rill__pk_open_del(p, s);
    if (ncancel)
        *ncancel = n;
    return sl->nrecv == sl->nblocks ? RILL_PICKER_GOT_PIECE : RILL_PICKER_GOT_BLOCK;
}

size_t rill_picker_requesters(const struct rill_picker *p, uint32_t piece, uint32_t offset,
                              uint32_t *out, size_t cap)
{
    uint32_t b;
    if (!block_index(p, piece, offset, &b) || p->state[piece] != RILL__PK_ACTIVE)
        return 0;
    uint32_t s = p->loc[piece];
    size_t k = rill__pk_blk(p, s, b);
    uint8_t st = p->bstate[k];
    if ((st & RILL__PK_RECV) || (st & RILL__PK_COUNT) == 0)
        return 0;
    size_t n = 0;
    if (cap > 0 && out)
        out[n++] = p->owner[k];
    for (uint32_t e = p->slots[s].extra; e != RILL_PICKER_NONE; e = p->extras[e].next)
        if (p->extras[e].block == b && n < cap && out)
            out[n++] = p->extras[e].peer;
    return st & RILL__PK_COUNT;
}

bool rill_picker_block_received(const struct rill_picker *p, uint32_t piece, uint32_t offset)
{
    uint32_t b;
    if (!block_index(p, piece, offset, &b))
        return false;
    if (p->state[piece] == RILL__PK_HAVE)
        return true;
    if (p->state[piece] != RILL__PK_ACTIVE)
        return false;
    return p->bstate[rill__pk_blk(p, p->loc[piece], b)] & RILL__PK_RECV;
}
