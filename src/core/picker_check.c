/* A full consistency check of the picker's derived structures against its
 * per-piece and per-block state, for the unit and stress tests (and the
 * lab, in debug runs). O(pieces + slots * blocks + levels). */
#include "core/picker_internal.h"

#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return __LINE__;                                                                       \
    } while (0)

static int check_order(const struct rill_picker *p)
{
    uint32_t fresh = 0;
    for (uint32_t i = 0; i < p->npieces; i++) {
        bool in = p->state[i] == RILL__PK_FRESH && p->prio[i] != RILL_PICKER_SKIP;
        fresh += in;
        if (p->state[i] == RILL__PK_ACTIVE)
            CHECK(p->loc[i] < p->nslots && p->slots[p->loc[i]].piece == i);
        else if (!in)
            CHECK(p->loc[i] == RILL_PICKER_NONE);
    }
    CHECK(fresh == p->norder);
    CHECK((p->top < 0) == (p->norder == 0));
    if (p->top >= 0) {
        CHECK(p->bstart[0] == 0 && p->bstart[p->top] < p->norder);
        CHECK((uint64_t)p->top < 2ull * p->opt.avail_levels);
    }
    for (int32_t j = 1; j <= p->top; j++)
        CHECK(p->bstart[j - 1] <= p->bstart[j]);
    for (uint32_t q = 0; q < p->norder; q++) {
        uint32_t i = p->order[q];
        CHECK(i < p->npieces && p->loc[i] == q);
        CHECK(p->state[i] == RILL__PK_FRESH && p->prio[i] != RILL_PICKER_SKIP);
        uint32_t key = rill__pk_key(p, i);
        CHECK(rill__pk_bs(p, key) <= q && q < rill__pk_bs(p, key + 1));
    }
    return 0;
}

static int check_counters(const struct rill_picker *p)
{
    uint32_t have = 0, wanted = 0, L = p->opt.avail_levels;
    uint64_t have_bytes = 0, wanted_bytes = 0, unreq = 0;
    uint32_t *hist = calloc(L, sizeof *hist);
    CHECK(hist != NULL);
    for (uint32_t i = 0; i < p->npieces; i++)
        hist[rill__pk_level(p, p->avail[i])]++;
    uint32_t lv = 0;
    while (lv < L && hist[lv] == p->hist[lv])
        lv++;
    free(hist);
    CHECK(lv == L);
    for (uint32_t i = 0; i < p->npieces; i++) {
        uint32_t size = rill_picker_piece_size(p, i);
        bool w = p->prio[i] != RILL_PICKER_SKIP && p->state[i] != RILL__PK_HAVE;
        CHECK(rill_picker_wants(p, i) == w);
        if (p->state[i] == RILL__PK_HAVE) {
            have++;
            have_bytes += size;
        }
        if (!w)
            continue;
        wanted++;
        wanted_bytes += size;
        unreq += p->state[i] == RILL__PK_ACTIVE ? rill__pk_nfree(&p->slots[p->loc[i]])
                                                : rill_picker_block_count(p, i);
        unsigned c = rill__pk_class(p->prio[i]);
        if (p->state[i] == RILL__PK_FRESH)
            CHECK(p->cursor[c] <= i);
    }
    CHECK(have == p->have_count && have_bytes == p->have_bytes);
    CHECK(wanted == p->wanted_missing && wanted_bytes == p->wanted_missing_bytes);
    CHECK(unreq == p->unrequested);
    return 0;
}

/* Requesters of one block: owner plus extras, all distinct. */
static int check_block(const struct rill_picker *p, uint32_t s, uint32_t b, uint32_t *nextra)
{
    size_t x = rill__pk_blk(p, s, b);
    uint8_t st = p->bstate[x];
    uint32_t count = st & RILL__PK_COUNT, extras = 0;
    for (uint32_t e = p->slots[s].extra; e != RILL_PICKER_NONE; e = p->extras[e].next) {
        if (p->extras[e].block != b)
            continue;
        extras++;
        CHECK(p->extras[e].peer != p->owner[x] && p->extras[e].peer != RILL_PICKER_NONE);
        for (uint32_t f = p->extras[e].next; f != RILL_PICKER_NONE; f = p->extras[f].next)
            CHECK(p->extras[f].block != b || p->extras[f].peer != p->extras[e].peer);
    }
    if (st & RILL__PK_RECV) {
        CHECK(count == 0 && extras == 0);
    } else if (count == 0) {
        CHECK(p->owner[x] == RILL_PICKER_NONE && extras == 0);
    } else {
        CHECK(p->owner[x] != RILL_PICKER_NONE && count == extras + 1);
        CHECK(count <= p->opt.endgame_max_requesters);
    }
    *nextra += extras;
    return 0;
}

static int check_slot(const struct rill_picker *p, uint32_t j, uint32_t *nextra)
{
    uint32_t s = p->active[j];
    CHECK(s < p->nslots);
    const struct rill_picker_slot *sl = &p->slots[s];
    CHECK(sl->active_at == j && p->state[sl->piece] == RILL__PK_ACTIVE && p->loc[sl->piece] == s);
    CHECK(sl->nblocks == rill_picker_block_count(p, sl->piece));
    CHECK(sl->nreq + sl->nrecv > 0);
    uint32_t req = 0, recv = 0, chain = 0;
    for (uint32_t b = 0; b < sl->nblocks; b++) {
        uint8_t st = p->bstate[rill__pk_blk(p, s, b)];
        recv += (st & RILL__PK_RECV) != 0;
        req += !(st & RILL__PK_RECV) && (st & RILL__PK_COUNT);
        CHECK(b >= sl->first_free || st != 0);
        int rc = check_block(p, s, b, nextra);
        if (rc)
            return rc;
    }
    for (uint32_t e = sl->extra; e != RILL_PICKER_NONE; e = p->extras[e].next) {
        CHECK(p->extras[e].block < sl->nblocks);
        chain++;
    }
    CHECK(req == sl->nreq && recv == sl->nrecv);
    bool open = p->prio[sl->piece] != RILL_PICKER_SKIP && rill__pk_nfree(sl) > 0;
    if (!open)
        CHECK(sl->open_cls == RILL__PK_NOCLS);
    else
        CHECK(sl->open_cls == rill__pk_class(p->prio[sl->piece]) &&
              sl->open_at < p->nopen[sl->open_cls] && p->open[sl->open_cls][sl->open_at] == s);
    return 0;
}

static int check_slots(const struct rill_picker *p)
{
    CHECK(p->nactive + p->nfree_slots == p->nslots);
    uint32_t nextra = 0, nfree = 0;
    for (uint32_t j = 0; j < p->nactive; j++) {
        int rc = check_slot(p, j, &nextra);
        if (rc)
            return rc;
    }
    CHECK(p->nopen[0] + p->nopen[1] <= p->nactive);
    for (unsigned c = 0; c < 2; c++)
        for (uint32_t j = 0; j < p->nopen[c]; j++)
            CHECK(p->slots[p->open[c][j]].open_cls == c);
    for (uint32_t e = p->extra_free; e != RILL_PICKER_NONE; e = p->extras[e].next) {
        CHECK(nfree < p->opt.endgame_slots);
        nfree++;
    }
    CHECK(nfree + nextra == p->opt.endgame_slots);
    return 0;
}

int rill__picker_check(const struct rill_picker *p)
{
    int rc = check_order(p);
    if (rc == 0)
        rc = check_counters(p);
    if (rc == 0)
        rc = check_slots(p);
    return rc;
}
