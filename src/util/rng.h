/* Seeded pseudo-random numbers for cores (DESIGN.md: randomness in cores
 * comes from a generator passed in, so tests and simulations replay). Not
 * for secrets: peer ids and keys that must be unguessable use RAND_bytes. */
#ifndef RILL_UTIL_RNG_H
#define RILL_UTIL_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "rill.h"

struct rill_rng {
    uint64_t s[4];
};

void rill_rng_seed(struct rill_rng *r, uint64_t seed);
/* Seeds from OpenSSL's generator; for the shell only. */
int rill_rng_seed_secure(struct rill_rng *r);
uint64_t rill_rng_next(struct rill_rng *r);
/* Uniform in [0, n); 0 when n <= 1. */
uint64_t rill_rng_below(struct rill_rng *r, uint64_t n);
void rill_rng_bytes(struct rill_rng *r, void *out, size_t n);

#endif
