/* Internals of the tracker swarm (swarm.c, swarm_table.c): the per-torrent
 * peer table, one per address family.
 *
 * A peer table is an open-addressing array of fixed-size slots, a power of
 * two of them, probed linearly; deletion shifts the rest of the cluster
 * back instead of leaving tombstones, so a table never degrades. A slot is
 * the compact wire entry (address, then port big-endian) followed by one
 * byte of flags and one byte of age, so an answer is a memcpy of the slot's
 * head: 8 bytes per IPv4 peer, 20 per IPv6 peer. An all-zero slot is free.
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

/* The smallest table (2^2 slots); an empty table is NULL. */
#define RILL__PTAB_MIN_SHIFT 2u
/* count fits in 24 bits so a table's header packs into 16 bytes. */
#define RILL__PTAB_COUNT_MAX 0xffffffu
/* The first IPv4 table of a torrent sits at the end of its record: one
 * allocation instead of two for the common small torrent (measured: the
 * tracker's RSS per 100,000 peers in 10,000 torrents fell below
 * opentracker's only with this). 16 slots hold 13 peers. */
#define RILL__PTAB_INLINE_SHIFT 4u

/* What differs between the families: slot and key sizes, and the hash seed. */
struct rill__pfam {
    uint8_t slot_len; /* 8 or 20 */
    uint8_t key_len;  /* 6 or 18: address and port */
    uint64_t seed[2];
};

struct rill__ptab {
    uint8_t *slots;      /* (1 << shift) * slot_len bytes, or NULL */
    uint32_t count : 24; /* peers held */
    uint32_t shift : 8;  /* log2 of the slot count; 0 when slots is NULL */
    uint32_t seeds : 31; /* of which seeders */
    uint32_t borrowed : 1; /* slots live in the torrent record: not freed here,
                              and counted in memory with the record */
};

/* The keyed hash of a peer's key (address and port). */
uint64_t rill__ptab_hash(const struct rill__pfam *f, const uint8_t *key);

/* The slot holding `key`, or SIZE_MAX. */
size_t rill__ptab_find(const struct rill__ptab *t, const struct rill__pfam *f, const uint8_t *key);

/* Adds a peer that is not in the table, growing it first when needed (the
 * only allocation). Sets *slot to its index. `mem` tracks bytes allocated.
 * Returns 0 or RILL_ENOMEM (the table is then unchanged). */
int rill__ptab_insert(struct rill__ptab *t, const struct rill__pfam *f, const uint8_t *key,
                      uint8_t flags, uint8_t age, size_t *slot, uint64_t *mem);

/* Removes the peer in slot `i` (updating count and seeds); slot indices
 * past it in its cluster change. Does not shrink: see rill__ptab_fit. */
void rill__ptab_remove_at(struct rill__ptab *t, const struct rill__pfam *f, size_t i);

/* Frees an empty table, or shrinks one that fell under 1/8 load. A failed
 * allocation keeps the larger table. */
void rill__ptab_fit(struct rill__ptab *t, const struct rill__pfam *f, uint64_t *mem);

/* Drops the peers whose age byte is more than `limit` minutes behind
 * `now_min` (mod 256), then fits the table. Returns the number dropped and
 * adds the seeders among them to *seeds_dropped. */
size_t rill__ptab_expire(struct rill__ptab *t, const struct rill__pfam *f, uint8_t now_min,
                         uint8_t limit, size_t *seeds_dropped, uint64_t *mem);

/* Copies up to `want` peers' compact entries (key_len bytes each) to `out`,
 * visiting slots from a random start with a random odd stride, skipping
 * slot `skip` (the announcer, or SIZE_MAX) and, when `no_seeds`, seeders.
 * Returns the number copied. */
size_t rill__ptab_pick(const struct rill__ptab *t, const struct rill__pfam *f, size_t skip,
                       bool no_seeds, size_t want, uint8_t *out, struct rill_rng *rng);

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
