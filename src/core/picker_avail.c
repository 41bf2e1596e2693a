/* The picker's view of the swarm (availability from have, bitfield,
 * have-all and lost peers), piece priorities, and the statistics built on
 * them. */
#include "core/picker_internal.h"

#include <string.h>

static void hist_move(struct rill_picker *p, uint32_t from, uint32_t to)
{
    uint32_t a = rill__pk_level(p, from), b = rill__pk_level(p, to);
    if (a != b) {
        p->hist[a]--;
        p->hist[b]++;
    }
}

static void avail_inc(struct rill_picker *p, uint32_t i)
{
    uint32_t old = p->avail[i]++;
    hist_move(p, old, old + 1);
    if (p->state[i] == RILL__PK_FRESH && p->prio[i] != RILL_PICKER_SKIP)
        rill__pk_bucket_inc(p, i, old);
}

static void avail_dec(struct rill_picker *p, uint32_t i)
{
    uint32_t old = p->avail[i]--;
    hist_move(p, old, old - 1);
    if (p->state[i] == RILL__PK_FRESH && p->prio[i] != RILL_PICKER_SKIP)
        rill__pk_bucket_dec(p, i, old);
}

int rill_picker_peer_have(struct rill_picker *p, uint32_t piece)
{
    if (piece >= p->npieces)
        return RILL_ERANGE;
    avail_inc(p, piece);
    return 0;
}

/* Calls fn for every set bit, skipping zero words quickly. Returns how many
 * calls failed (fn returning false). */
static uint32_t each_set(struct rill_picker *p, const struct rill_bitfield *bf,
                         bool (*fn)(struct rill_picker *, uint32_t))
{
    size_t nbytes = rill_bitfield_bytes(bf);
    uint32_t bad = 0;
    for (size_t k = 0; k < nbytes; k += 8) {
        size_t len = nbytes - k < 8 ? nbytes - k : 8;
        uint64_t w = 0;
        memcpy(&w, bf->bits + k, len);
        if (w == 0)
            continue;
        for (size_t j = k; j < k + len; j++) {
            for (unsigned v = bf->bits[j]; v; v &= v - 1) {
                size_t i = j * 8 + 7u - (unsigned)__builtin_ctz(v);
                if (i < p->npieces && !fn(p, (uint32_t)i))
                    bad++;
            }
        }
    }
    return bad;
}

static bool add_one(struct rill_picker *p, uint32_t i)
{
    avail_inc(p, i);
    return true;
}

static bool sub_one(struct rill_picker *p, uint32_t i)
{
    if (p->avail[i] == 0)
        return false;
    avail_dec(p, i);
    return true;
}

int rill_picker_peer_bitfield(struct rill_picker *p, const struct rill_bitfield *bf)
{
    if (!bf || bf->size != p->npieces || !bf->bits)
        return RILL_EINVAL;
    each_set(p, bf, add_one);
    return 0;
}

void rill_picker_peer_have_all(struct rill_picker *p)
{
    p->seeds++;
}

int rill_picker_peer_lost(struct rill_picker *p, const struct rill_bitfield *bf)
{
    if (!bf || bf->size != p->npieces || !bf->bits)
        return RILL_EINVAL;
    return each_set(p, bf, sub_one) ? RILL_EINVAL : 0;
}

int rill_picker_peer_lost_all(struct rill_picker *p)
{
    if (p->seeds == 0)
        return RILL_EINVAL;
    p->seeds--;
    return 0;
}

uint32_t rill_picker_availability(const struct rill_picker *p, uint32_t piece)
{
    if (piece >= p->npieces)
        return 0;
    return p->seeds + p->avail[piece];
}

/* ------------------------------------------------------------ priorities */

static void set_one(struct rill_picker *p, uint32_t i, uint8_t prio)
{
    if (p->prio[i] == prio)
        return;
    rill__pk_detach(p, i);
    p->prio[i] = prio;
    rill__pk_attach(p, i);
}

int rill_picker_set_priority(struct rill_picker *p, uint32_t first, uint32_t count,
                             enum rill_picker_prio prio)
{
    if ((unsigned)prio > RILL_PICKER_HIGH)
        return RILL_EINVAL;
    if (first > p->npieces || count > p->npieces - first)
        return RILL_ERANGE;
    for (uint32_t i = first; i < first + count; i++)
        set_one(p, i, (uint8_t)prio);
    return 0;
}

static bool counts(const struct rill_file *f)
{
    return f->length > 0 && !(f->attr & RILL_ATTR_PAD);
}

/* Walks pieces and files together: the files overlapping a piece are a
 * window that only moves forward, so the walk is O(files + pieces). */
int rill_picker_set_file_priorities(struct rill_picker *p, const struct rill_metainfo *mi,
                                    const enum rill_picker_prio *prios)
{
    if (!mi || !prios || mi->piece_count != p->npieces || mi->piece_length != p->piece_length ||
        mi->total_size != p->total_size)
        return RILL_EINVAL;
    uint8_t carry = RILL_PICKER_NORMAL;
    bool seen = false;
    for (size_t g = 0; g < mi->file_count; g++) {
        if ((unsigned)prios[g] > RILL_PICKER_HIGH)
            return RILL_EINVAL;
        if (!seen && counts(&mi->files[g])) {
            carry = (uint8_t)prios[g];
            seen = true;
        }
    }
    size_t f = 0;
    for (uint32_t i = 0; i < p->npieces; i++) {
        uint64_t start = (uint64_t)i * p->piece_length;
        uint64_t end = start + rill_picker_piece_size(p, i);
        while (f < mi->file_count && mi->files[f].offset + mi->files[f].length <= start) {
            if (counts(&mi->files[f]))
                carry = (uint8_t)prios[f];
            f++;
        }
        int best = -1;
        for (size_t g = f; g < mi->file_count && mi->files[g].offset < end; g++)
            if (counts(&mi->files[g]) && (int)prios[g] > best)
                best = (int)prios[g];
        set_one(p, i, best < 0 ? carry : (uint8_t)best);
    }
    return 0;
}

enum rill_picker_prio rill_picker_priority(const struct rill_picker *p, uint32_t piece)
{
    if (piece >= p->npieces)
        return RILL_PICKER_SKIP;
    return (enum rill_picker_prio)p->prio[piece];
}

bool rill_picker_wants(const struct rill_picker *p, uint32_t piece)
{
    return piece < p->npieces && (p->want[piece >> 3] & (0x80u >> (piece & 7)));
}

/* One AND over the words of the two bitfields. */
bool rill_picker_interesting(const struct rill_picker *p, const struct rill_picker_peer *peer)
{
    if (p->wanted_missing == 0)
        return false;
    if (peer->all)
        return true;
    if (!peer->have || peer->have->size != p->npieces || !peer->have->bits)
        return false;
    size_t nbytes = ((size_t)p->npieces + 7) / 8;
    for (size_t k = 0; k < nbytes; k += 8) {
        size_t len = nbytes - k < 8 ? nbytes - k : 8;
        uint64_t a = 0, b = 0;
        memcpy(&a, p->want + k, len);
        memcpy(&b, peer->have->bits + k, len);
        if (a & b)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ statistics */

void rill_picker_stats(const struct rill_picker *p, struct rill_picker_stats *st)
{
    memset(st, 0, sizeof *st);
    st->pieces = p->npieces;
    st->have = p->have_count;
    st->wanted_left = p->wanted_missing;
    st->partial = p->nactive;
    st->bytes_left = p->total_size - p->have_bytes;
    st->wanted_bytes_left = p->wanted_missing_bytes;
    st->seeds = p->seeds;
    st->distinct = p->seeds ? p->npieces : p->npieces - p->hist[0];
    st->endgame = rill_picker_in_endgame(p);
    uint32_t lv = 0;
    while (lv + 1 < p->opt.avail_levels && p->hist[lv] == 0)
        lv++;
    st->min_avail = p->seeds + lv;
    st->copies = (double)st->min_avail + (double)(p->npieces - p->hist[lv]) / (double)p->npieces;
}
