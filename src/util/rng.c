/* A small seeded generator (xoshiro256**) for cores: tests and simulations
 * replay exactly from a seed; the shell seeds it from OpenSSL's RAND_bytes. */
#include <openssl/rand.h>
#include <string.h>

#include "util/rng.h"

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rill_rng_seed(struct rill_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
}

int rill_rng_seed_secure(struct rill_rng *r)
{
    uint64_t seed;
    if (RAND_bytes((unsigned char *)&seed, sizeof seed) != 1)
        return RILL_EIO;
    rill_rng_seed(r, seed);
    return 0;
}

uint64_t rill_rng_next(struct rill_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t rill_rng_below(struct rill_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection sampling: no modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = rill_rng_next(r);
    } while (x >= limit);
    return x % n;
}

void rill_rng_bytes(struct rill_rng *r, void *out, size_t n)
{
    uint8_t *p = out;
    while (n) {
        uint64_t x = rill_rng_next(r);
        size_t k = n < 8 ? n : 8;
        memcpy(p, &x, k);
        p += k;
        n -= k;
    }
}
