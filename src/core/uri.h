/* Percent-encoding (RFC 3986) and "host:port" checks for magnet links.
 * Internal to rill. */
#ifndef RILL_CORE_URI_H
#define RILL_CORE_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "rill.h"

/* True for RFC 3986 unreserved characters: ALPHA DIGIT - . _ ~ */
bool rill__uri_unreserved(unsigned char c);

/* Bytes rill__pct_encode would append for these `n` bytes. */
size_t rill__pct_encoded_len(const void *p, size_t n);

/* Appends `n` bytes to `b`, keeping unreserved characters and writing every
 * other byte as %XX with uppercase hex. Returns 0 or the buffer's error. */
int rill__pct_encode(struct rill_buf *b, const void *p, size_t n);

/* Decodes `n` bytes of `s` into `out`, which has room for `n` bytes (decoding
 * never grows). '+' is an ordinary character here: magnet links are URIs, not
 * HTML form data. Returns 0 with `*outlen` set, or RILL_ESYNTAX with `*at` set
 * to the index in `s` of the fault and `*why` to a static reason: a '%' not
 * followed by two hex digits, a '%' too near the end, or a NUL byte (raw or
 * %00), which could not survive in a C string. No NUL is appended. */
int rill__pct_decode(const char *s, size_t n, char *out, size_t *outlen, size_t *at,
                     const char **why);

/* Checks a peer address "host:port": port 1-65535 in decimal, host
 * non-empty, an IPv6 address in brackets ("[::1]:6881", hex digits, ':' and
 * '.' inside), any other host made of unreserved characters only. So a valid
 * address holds nothing but unreserved characters, ':', '[' and ']'.
 * Returns NULL when valid, or a static reason. */
const char *rill__hostport_check(const char *s, size_t n);

#endif
