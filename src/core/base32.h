/* RFC 4648 base32 (alphabet A-Z, 2-7), the older way magnet links write a
 * SHA-1 info-hash: 32 characters, no padding. Internal to rill. */
#ifndef RILL_CORE_BASE32_H
#define RILL_CORE_BASE32_H

#include <stddef.h>
#include <stdint.h>

/* Characters that encode `n` bytes without padding: ceil(8n / 5). */
#define RILL__BASE32_LEN(n) (((n) * 8 + 4) / 5)

/* Decodes exactly RILL__BASE32_LEN(n) characters (either case, no '=') of
 * `s` into `n` bytes at `out`. Returns 0, or RILL_ESYNTAX with `*bad` set to
 * the index of the first offending character: one outside the alphabet, one
 * whose unused low bits are not zero (a non-canonical last character), or
 * min(slen, needed) when the length is wrong. `out` may be partly written on
 * error. */
int rill__base32_decode(const char *s, size_t slen, uint8_t *out, size_t n, size_t *bad);

/* Writes the uppercase, unpadded base32 of `n` bytes and a NUL into `out`,
 * which has room for `cap` chars. Returns the length written without the
 * NUL, or 0 when `cap` is too small. */
size_t rill__base32_encode(const uint8_t *p, size_t n, char *out, size_t cap);

#endif
