/* The picker's choice of blocks for one peer: partial pieces, then random
 * first, rarest first (or sequential, or random), then endgame duplicates.
 * The policy and its costs are described in picker.h. */
#include "core/picker_internal.h"

#include <limits.h>

struct pick {
    struct rill_picker *p;
    struct rill_picker_peer *peer;
    struct rill_picker_block *out;
    size_t n, max;
};

static bool full(const struct pick *k)
{
    return k->n >= k->max;
}

static void emit(struct pick *k, uint32_t piece, uint32_t b)
{
    uint32_t off = b * RILL_PICKER_BLOCK;
    k->out[k->n].piece = piece;
    k->out[k->n].offset = off;
    k->out[k->n].length = rill_picker_block_length(k->p, piece, off);
    k->n++;
}

/* Requests free blocks of a wanted piece in progress, lowest first. */
static void take(struct pick *k, uint32_t s)
{
    struct rill_picker *p = k->p;
    struct rill_picker_slot *sl = &p->slots[s];
    uint32_t b = sl->first_free;
    for (; b < sl->nblocks && rill__pk_nfree(sl) > 0 && !full(k); b++) {
        size_t x = rill__pk_blk(p, s, b);
        if (p->bstate[x] != 0)
            continue;
        p->bstate[x] = 1;
        p->owner[x] = k->peer->id;
        sl->nreq++;
        p->unrequested--;
        emit(k, sl->piece, b);
    }
    sl->first_free = (uint16_t)b;
    sl->last_peer = k->peer->id;
    k->peer->last = sl->piece;
    if (rill__pk_nfree(sl) == 0 && sl->open_cls != RILL__PK_NOCLS)
        rill__pk_open_del(p, s);
}

static bool open_for(const struct pick *k, uint32_t piece, unsigned c)
{
    const struct rill_picker *p = k->p;
    if (piece >= p->npieces || p->state[piece] != RILL__PK_ACTIVE)
        return false;
    const struct rill_picker_slot *sl = &p->slots[p->loc[piece]];
    return sl->open_cls == c && rill__pk_peer_has(k->peer, piece);
}

/* Step 1: pieces in progress. The peer's own last piece first; then, in
 * sequential mode, the lowest index, otherwise the first open piece the
 * peer has (finishing any partial piece is as good as another, and the
 * open list stays short because this step drains it). */
static void pick_partials(struct pick *k, unsigned c)
{
    struct rill_picker *p = k->p;
    if (open_for(k, k->peer->last, c))
        take(k, p->loc[k->peer->last]);
    while (!full(k) && p->opt.mode == RILL_PICKER_SEQUENTIAL) {
        uint32_t best = RILL_PICKER_NONE;
        for (uint32_t j = 0; j < p->nopen[c]; j++) {
            uint32_t s = p->open[c][j];
            if (rill__pk_peer_has(k->peer, p->slots[s].piece) &&
                (best == RILL_PICKER_NONE || p->slots[s].piece < p->slots[best].piece))
                best = s;
        }
        if (best == RILL_PICKER_NONE)
            return;
        take(k, best);
    }
    uint32_t j = 0;
    while (!full(k) && j < p->nopen[c]) {
        uint32_t s = p->open[c][j];
        if (rill__pk_peer_has(k->peer, p->slots[s].piece))
            take(k, s);
        /* take() may have removed s from the list, moving another into j. */
        if (j < p->nopen[c] && p->open[c][j] == s)
            j++;
    }
}

/* A piece the peer has in order[lo, hi), from a random start, wrapping. */
static uint32_t scan_random(struct pick *k, uint32_t lo, uint32_t hi)
{
    struct rill_picker *p = k->p;
    if (lo >= hi)
        return RILL_PICKER_NONE;
    uint32_t r = lo + (uint32_t)rill_rng_below(p->rng, hi - lo);
    for (uint32_t q = r; q < hi; q++)
        if (rill__pk_peer_has(k->peer, p->order[q]))
            return p->order[q];
    for (uint32_t q = lo; q < r; q++)
        if (rill__pk_peer_has(k->peer, p->order[q]))
            return p->order[q];
    return RILL_PICKER_NONE;
}

/* Sequential: the lowest fresh piece of the class the peer has. The cursor
 * skips the prefix with no fresh piece of the class (started or had), which
 * only grows until a piece goes back to fresh (attach lowers it). */
static uint32_t seq_choose(struct pick *k, unsigned c)
{
    struct rill_picker *p = k->p;
    uint32_t i = p->cursor[c];
    while (i < p->npieces && !(p->state[i] == RILL__PK_FRESH && p->prio[i] != RILL_PICKER_SKIP &&
                               rill__pk_class(p->prio[i]) == c))
        i++;
    p->cursor[c] = i;
    for (; i < p->npieces; i++)
        if (p->state[i] == RILL__PK_FRESH && p->prio[i] != RILL_PICKER_SKIP &&
            rill__pk_class(p->prio[i]) == c && rill__pk_peer_has(k->peer, i))
            return i;
    return RILL_PICKER_NONE;
}

/* Steps 2 and 3: a fresh piece of class c for this peer, or NONE. A peer
 * without have-all counts in the availability of every piece it has, so
 * for it the pieces nobody announced (level 0, often most of them early in
 * a swarm) cannot match and are not scanned. */
static uint32_t choose_fresh(struct pick *k, unsigned c)
{
    struct rill_picker *p = k->p;
    uint32_t L = p->opt.avail_levels, first = c * L + (k->peer->all ? 0 : 1);
    uint32_t lo = rill__pk_bs(p, first), hi = rill__pk_bs(p, (c + 1) * L);
    if (lo >= hi)
        return RILL_PICKER_NONE;
    if (p->opt.mode == RILL_PICKER_SEQUENTIAL)
        return seq_choose(k, c);
    if (p->opt.mode == RILL_PICKER_RANDOM || p->have_count < p->opt.random_first)
        return scan_random(k, lo, hi);
    for (uint32_t key = first; key < (c + 1) * L && (int64_t)key <= p->top; key++) {
        uint32_t got = scan_random(k, rill__pk_bs(p, key), rill__pk_bs(p, key + 1));
        if (got != RILL_PICKER_NONE)
            return got;
    }
    return RILL_PICKER_NONE;
}

static void pick_fresh(struct pick *k, unsigned c)
{
    while (!full(k)) {
        uint32_t piece = choose_fresh(k, c);
        if (piece == RILL_PICKER_NONE)
            return;
        uint32_t s = rill__pk_start(k->p, piece);
        if (s == RILL_PICKER_NONE)
            return; /* every slot is in use: finish pieces first */
        take(k, s);
    }
}

/* ------------------------------------------------------------ endgame */

static bool requested_by(const struct rill_picker *p, uint32_t s, uint32_t b, uint32_t peer)
{
    if (p->owner[rill__pk_blk(p, s, b)] == peer)
        return true;
    for (uint32_t e = p->slots[s].extra; e != RILL_PICKER_NONE; e = p->extras[e].next)
        if (p->extras[e].block == b && p->extras[e].peer == peer)
            return true;
    return false;
}

/* Duplicates of blocks of slot s that have exactly `need` requesters, none
 * of them this peer. False when the extras pool ran out. */
static bool dup_slot(struct pick *k, uint32_t s, unsigned need)
{
    struct rill_picker *p = k->p;
    struct rill_picker_slot *sl = &p->slots[s];
    for (uint32_t b = 0; b < sl->nblocks && !full(k); b++) {
        size_t x = rill__pk_blk(p, s, b);
        if (p->bstate[x] != need || requested_by(p, s, b, k->peer->id))
            continue;
        uint32_t e = p->extra_free;
        if (e == RILL_PICKER_NONE)
            return false;
        p->extra_free = p->extras[e].next;
        p->extras[e].peer = k->peer->id;
        p->extras[e].block = b;
        p->extras[e].next = sl->extra;
        sl->extra = e;
        p->bstate[x]++;
        emit(k, sl->piece, b);
    }
    return true;
}

static bool dup_ok(const struct pick *k, uint32_t piece, unsigned c)
{
    const struct rill_picker *p = k->p;
    return piece < p->npieces && p->state[piece] == RILL__PK_ACTIVE &&
           p->prio[piece] != RILL_PICKER_SKIP && rill__pk_class(p->prio[piece]) == c &&
           p->slots[p->loc[piece]].nreq > 0 && rill__pk_peer_has(k->peer, piece);
}

/* Step 4: the blocks with the fewest requesters first, high class first,
 * over the listed pieces or (list NULL) every piece in progress. */
static void pick_dups(struct pick *k, const uint32_t *list, size_t count)
{
    struct rill_picker *p = k->p;
    for (unsigned c = 0; c < 2; c++) {
        for (unsigned need = 1; need < p->opt.endgame_max_requesters; need++) {
            size_t m = list ? count : p->nactive;
            for (size_t j = 0; j < m && !full(k); j++) {
                uint32_t piece = list ? list[j] : p->slots[p->active[j]].piece;
                if (dup_ok(k, piece, c) && !dup_slot(k, p->loc[piece], need))
                    return;
            }
        }
    }
}

/* ---------------------------------------------------------------- entry */

static bool peer_ok(const struct rill_picker *p, const struct rill_picker_peer *peer)
{
    if (!peer || peer->id == RILL_PICKER_NONE)
        return false;
    return peer->all || (peer->have && peer->have->bits && peer->have->size == p->npieces);
}

int rill_picker_pick(struct rill_picker *p, struct rill_picker_peer *peer,
                     struct rill_picker_block *out, size_t max)
{
    if (!peer_ok(p, peer) || (max && !out))
        return RILL_EINVAL;
    struct pick k = {p, peer, out, 0, max < INT_MAX ? max : INT_MAX};
    if (p->wanted_missing == 0)
        return 0;
    for (unsigned c = 0; c < 2 && !full(&k); c++) {
        pick_partials(&k, c);
        pick_fresh(&k, c);
    }
    if (!full(&k) && rill_picker_in_endgame(p))
        pick_dups(&k, NULL, 0);
    return (int)k.n;
}

static bool listed_ok(const struct pick *k, uint32_t piece, uint8_t state)
{
    const struct rill_picker *p = k->p;
    return piece < p->npieces && p->state[piece] == state && p->prio[piece] != RILL_PICKER_SKIP &&
           rill__pk_peer_has(k->peer, piece);
}

int rill_picker_pick_from(struct rill_picker *p, struct rill_picker_peer *peer,
                          const uint32_t *pieces, size_t count, struct rill_picker_block *out,
                          size_t max)
{
    if (!peer_ok(p, peer) || (max && !out) || (count && !pieces))
        return RILL_EINVAL;
    struct pick k = {p, peer, out, 0, max < INT_MAX ? max : INT_MAX};
    for (size_t j = 0; j < count && !full(&k); j++)
        if (listed_ok(&k, pieces[j], RILL__PK_ACTIVE) &&
            rill__pk_nfree(&p->slots[p->loc[pieces[j]]]) > 0)
            take(&k, p->loc[pieces[j]]);
    for (size_t j = 0; j < count && !full(&k); j++) {
        if (!listed_ok(&k, pieces[j], RILL__PK_FRESH))
            continue;
        uint32_t s = rill__pk_start(p, pieces[j]);
        if (s == RILL_PICKER_NONE)
            break;
        take(&k, s);
    }
    if (!full(&k) && rill_picker_in_endgame(p))
        pick_dups(&k, pieces, count);
    return (int)k.n;
}
