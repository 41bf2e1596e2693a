/* Ed25519 (RFC 8032) through OpenSSL's EVP interface, for BEP 44's signed
 * DHT items. Keys are raw bytes: the 32-byte seed (RFC 8032's private key)
 * and the 32-byte public key. Note that some BEP 44 material (libtorrent's,
 * the BEP's own test vector) gives a 64-byte "expanded" secret instead of a
 * seed; it cannot be used here, only its public key and signatures. */
#ifndef RILL_UTIL_ED25519_H
#define RILL_UTIL_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_ED25519_SEED_LEN 32
#define RILL_ED25519_PUB_LEN 32
#define RILL_ED25519_SIG_LEN 64

/* Writes the public key of `seed` to pub. 0, or RILL_ENOMEM when libcrypto
 * fails (it only does when out of memory). */
int rill_ed25519_public(const uint8_t seed[RILL_ED25519_SEED_LEN],
                        uint8_t pub[RILL_ED25519_PUB_LEN]);

/* Signs msg[0..n) with the key of `seed` into sig (deterministic, as RFC
 * 8032 is). 0, or RILL_ENOMEM when libcrypto fails. */
int rill_ed25519_sign(const uint8_t seed[RILL_ED25519_SEED_LEN], const void *msg, size_t n,
                      uint8_t sig[RILL_ED25519_SIG_LEN]);

/* True when sig is a valid signature of msg[0..n) by the public key pub;
 * false for a bad signature, a key that is not a curve point, or any
 * libcrypto failure. */
bool rill_ed25519_verify(const uint8_t pub[RILL_ED25519_PUB_LEN], const void *msg, size_t n,
                         const uint8_t sig[RILL_ED25519_SIG_LEN]);

#endif
