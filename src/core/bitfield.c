/* Piece sets in BitTorrent bit order (piece 0 is the high bit of byte 0),
 * with the number of set bits kept up to date so "how many pieces do we
 * have" never needs a scan. */
#include <stdlib.h>
#include <string.h>

#include "rill.h"

static size_t bytes_for(uint32_t size)
{
    return ((size_t)size + 7) / 8;
}

/* Allocates `size` bits, all clear. A zero-sized set is valid and owns a
 * one-byte allocation so `bits` is never NULL after success. RILL_ENOMEM
 * leaves `b` empty. */
int rill_bitfield_init(struct rill_bitfield *b, uint32_t size)
{
    size_t n = bytes_for(size);
    b->bits = calloc(n ? n : 1, 1);
    b->size = 0;
    b->count = 0;
    if (!b->bits)
        return RILL_ENOMEM;
    b->size = size;
    return 0;
}

/* Frees the bits; safe on a zeroed or already freed bitfield. */
void rill_bitfield_free(struct rill_bitfield *b)
{
    free(b->bits);
    b->bits = NULL;
    b->size = 0;
    b->count = 0;
}

/* False for an index past the end, so callers need no separate check. */
bool rill_bitfield_get(const struct rill_bitfield *b, uint32_t i)
{
    if (i >= b->size || !b->bits)
        return false;
    return (b->bits[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Sets or clears bit `i` and keeps `count` right; an index past the end is
 * ignored (it cannot name a piece). */
void rill_bitfield_set(struct rill_bitfield *b, uint32_t i, bool v)
{
    if (i >= b->size || !b->bits)
        return;
    uint8_t mask = (uint8_t)(0x80u >> (i & 7));
    bool was = (b->bits[i >> 3] & mask) != 0;
    if (was == v)
        return;
    if (v) {
        b->bits[i >> 3] |= mask;
        b->count++;
    } else {
        b->bits[i >> 3] &= (uint8_t)~mask;
        b->count--;
    }
}

/* The length of the wire form: ceil(size / 8). */
size_t rill_bitfield_bytes(const struct rill_bitfield *b)
{
    return bytes_for(b->size);
}

/* Replaces the bits of an initialised bitfield with wire bytes. The length
 * must be exactly rill_bitfield_bytes() and the spare bits of the last byte
 * must be clear (BEP 3 says a peer sending them should be dropped). On error
 * `b` is unchanged. */
int rill_bitfield_load(struct rill_bitfield *b, const uint8_t *p, size_t n)
{
    size_t want = bytes_for(b->size);
    if (n != want || (n && !p) || (!b->bits && b->size))
        return RILL_ESYNTAX;
    unsigned spare = (unsigned)(want * 8 - b->size);
    if (spare && (p[n - 1] & ((1u << spare) - 1)))
        return RILL_ESYNTAX;
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += (uint32_t)__builtin_popcount(p[i]);
    if (n)
        memcpy(b->bits, p, n);
    b->count = count;
    return 0;
}
