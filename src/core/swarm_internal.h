/* Internals of the tracker swarm (swarm.c, swarm_table.c): the per-torrent
 * peer table, one per address family.
 *
 * A peer table is an open-addressing array of fixed-size slots, probed
 * linearly; deletion shifts the rest of the cluster
 * back instead of leaving tombstones, so a table never degrades. A slot is
 * the compact wire entry (address, then port big-endian) followed by one
 * byte of flags and one byte of age, so an answer is a memcpy of the slot's
 * head: 8 bytes per IPv4 peer, 20 per IPv6 peer. An all-zero slot is free.
 *
 * The slots live in segments that are never reallocated, because what a
 * tracker's memory costs is its RSS, not its live bytes: a table that grew
 * by allocating a double-size array and freeing the old one left the
 * outgrown arrays behind as holes in the heap whenever many tables grew at
 * once (about 770 bytes per 100-peer torrent, measured in a bulk
 * registration). A table of level L is segments 0 .. L, and growing it
 * appends segment L + 1 and frees nothing. Segment 0 holds 4 slots and
 * segments 1 to 4 hold 4, 8, 16 and 32, so small tables double (4 to 64
 * slots); from segment 5 on segments come in pairs of 32 << j slots (pair
 * j), so a table grows by a half, then a third: 96, 128, 192, 256, ...
 * slots, fuller on average than by doubling. Each segment k >= 1 starts
 * with a pointer to segment k - 1 and the table points at its top
 * segment: no directory to allocate, and the link costs no memory, as
 * malloc rounds 8 + n * slot_len bytes up to the same chunk as
 * n * slot_len (a multiple of 16) bytes.
 *
 * Not part of any public header. */
#ifndef RILL_CORE_SWARM_INTERNAL_H
#define RILL_CORE_SWARM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

#define RILL__PEER_USED 0x01u /* slot flags */
#define RILL__PEER_SEED 0x02u

/* The smallest table is segment 0 alone (level 0); an empty table may
 * have no segment at all (top NULL). */
#define RILL__PTAB_SEG0_SLOTS 4u
/* count fits in 24 bits so a table's header packs into 16 bytes. Tables
 * grow past 15/16 load, so level 41 (3 << 23 slots) holds the largest
 * count: at most 42 segments. */
#define RILL__PTAB_COUNT_MAX 0xffffffu
#define RILL__PTAB_SEGS 42u

/* What differs between the families: slot and key sizes, and the hash seed. */
struct rill__pfam {
    uint8_t slot_len; /* 8 or 20 */
    uint8_t key_len;  /* 6 or 18: address and port */
    uint64_t seed[2];
};

struct rill__ptab {
    uint8_t *top;          /* the top segment (segment 0 is its slots, segment
                              k >= 1 a link then slots), or NULL: no slots */
    uint32_t count : 24;   /* peers held */
    uint32_t level : 8;    /* segments - 1; 0 also when top is NULL */
    uint32_t seeds : 24;   /* of which seeders */
    uint32_t borrowed : 1; /* segment 0 lives in the torrent record: never
                              freed here (the table keeps it when empty) and
                              counted in memory with the record */
    uint32_t spare : 7;
};

/* The keyed hash of a peer's key (address and port). */
uint64_t rill__ptab_hash(const struct rill__pfam *f, const uint8_t *key);

/* The slot index holding `key`, or SIZE_MAX. When found and `slot` is not
 * NULL, *slot points at the slot (valid until the table next changes). */
size_t rill__ptab_find(const struct rill__ptab *t, const struct rill__pfam *f, const uint8_t *key,
                       uint8_t **slot);

/* Adds a peer that is not in the table, growing it first when needed (the
 * only allocation). Sets *slot to its index. `mem` tracks bytes allocated.
 * Returns 0 or RILL_ENOMEM (the table is then unchanged). */
int rill__ptab_insert(struct rill__ptab *t, const struct rill__pfam *f, const uint8_t *key,
                      uint8_t flags, uint8_t age, size_t *slot, uint64_t *mem);

/* Removes the peer in slot `i` (updating count and seeds); slot indices
 * past it in its cluster change. Does not shrink: see rill__ptab_fit. */
void rill__ptab_remove_at(struct rill__ptab *t, const struct rill__pfam *f, size_t i);

/* Frees an empty table's heap segments (a borrowed segment 0 stays), or
 * shrinks one that fell under 1/8 load to at most half load. A failed
 * allocation keeps the larger table. */
void rill__ptab_fit(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem);

/* Moves a borrowed segment 0 to the heap, so that the record's space can
 * serve another purpose. Returns 0 or RILL_ENOMEM (nothing changed). */
int rill__ptab_unborrow(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem);

/* Drops the peers whose age byte is more than `limit` minutes behind
 * `now_min` (mod 256), then fits the table. Returns the number dropped and
 * adds the seeders among them to *seeds_dropped. */
size_t rill__ptab_expire(struct rill__ptab *t, const struct rill__pfam *f, uint8_t now_min,
                         uint8_t limit, size_t *seeds_dropped, uint64_t *mem);

/* Copies up to `want` peers' compact entries (key_len bytes each) to `out`,
 * visiting slots from a random start with a random stride coprime with the
 * slot count (so every slot once, in an order that differs each time), skipping
 * slot `skip` (the announcer, or SIZE_MAX) and, when `no_seeds`, seeders.
 * Returns the number copied. */
size_t rill__ptab_pick(const struct rill__ptab *t, const struct rill__pfam *f, size_t skip,
                       bool no_seeds, size_t want, uint8_t *out, struct rill_rng *rng);

/* Empties the table and frees what it allocated; a borrowed segment 0
 * stays (cleared) as the table's only segment. */
void rill__ptab_free(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem);

/* A 64-bit mixer (a bijection) for keyed hashes of short keys. */
static inline uint64_t rill__mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

#endif
