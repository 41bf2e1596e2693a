/* Shared between the picker's files (picker.c, picker_bucket.c,
 * picker_pick.c, picker_block.c, picker_check.c). Not for other modules. */
#ifndef RILL_CORE_PICKER_INTERNAL_H
#define RILL_CORE_PICKER_INTERNAL_H

#include "core/picker.h"

/* Piece states. */
enum { RILL__PK_FRESH = 0, RILL__PK_ACTIVE = 1, RILL__PK_HAVE = 2 };

/* Block state byte: received bit, and requester count below it. */
#define RILL__PK_RECV 0x80u
#define RILL__PK_COUNT 0x7fu
#define RILL__PK_NOCLS 0xffu

/* A piece in progress. Its blocks are owner/bstate[slot * bpp + b]. */
struct rill_picker_slot {
    uint32_t piece;
    uint32_t last_peer; /* the peer most recently given its blocks */
    uint32_t extra;     /* head of the endgame extra requesters, or NONE */
    uint32_t active_at; /* index in p->active */
    uint32_t open_at;   /* index in p->open[open_cls] */
    uint16_t nblocks;
    uint16_t nreq;       /* blocks with a requester, not received */
    uint16_t nrecv;      /* blocks received */
    uint16_t first_free; /* no free block below this index */
    uint8_t open_cls;    /* the open list it is on, or RILL__PK_NOCLS */
};

/* An endgame requester beyond a block's first (which is in owner[]). */
struct rill_picker_extra {
    uint32_t peer;
    uint32_t next; /* in the slot's chain, or the free list */
    uint32_t block;
};

static inline uint32_t rill__pk_nfree(const struct rill_picker_slot *s)
{
    return (uint32_t)s->nblocks - s->nreq - s->nrecv;
}

/* Class of a wanted priority: 0 for high, 1 for normal. */
static inline unsigned rill__pk_class(uint8_t prio)
{
    return prio == RILL_PICKER_HIGH ? 0u : 1u;
}

static inline bool rill__pk_peer_has(const struct rill_picker_peer *pp, uint32_t i)
{
    return pp->all || rill_bitfield_get(pp->have, i);
}

static inline size_t rill__pk_blk(const struct rill_picker *p, uint32_t slot, uint32_t b)
{
    return (size_t)slot * p->bpp + b;
}

/* picker_bucket.c: the sorted array of fresh wanted pieces. */
void rill__pk_bucket_insert(struct rill_picker *p, uint32_t piece);
void rill__pk_bucket_remove(struct rill_picker *p, uint32_t piece);
void rill__pk_bucket_inc(struct rill_picker *p, uint32_t piece, uint32_t old_avail);
void rill__pk_bucket_dec(struct rill_picker *p, uint32_t piece, uint32_t old_avail);
uint32_t rill__pk_level(const struct rill_picker *p, uint32_t avail);
uint32_t rill__pk_key(const struct rill_picker *p, uint32_t piece);
uint32_t rill__pk_bs(const struct rill_picker *p, uint32_t key);

/* picker.c: moving a piece between states keeps every derived structure
 * (sorted array, open lists, counters, want bits) right: detach, change the
 * piece, attach. */
void rill__pk_detach(struct rill_picker *p, uint32_t piece);
void rill__pk_attach(struct rill_picker *p, uint32_t piece);
/* Starts a fresh piece: a slot, or NONE when every slot is in use. */
uint32_t rill__pk_start(struct rill_picker *p, uint32_t piece);
/* Ends a piece in progress: back to fresh, or to have. */
void rill__pk_stop(struct rill_picker *p, uint32_t piece, uint8_t new_state);
void rill__pk_open_add(struct rill_picker *p, uint32_t slot);
void rill__pk_open_del(struct rill_picker *p, uint32_t slot);

/* picker_check.c: verifies every internal invariant. 0 when sound, or the
 * source line of the first broken one (for tests). */
int rill__picker_check(const struct rill_picker *p);

#endif
