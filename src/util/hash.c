/* SHA-1 and SHA-256 through libcrypto, and hex conversion. */
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "util/util.h"

void rill_sha1(const void *p, size_t n, uint8_t out[RILL_SHA1_LEN])
{
    SHA1(p, n, out);
}

void rill_sha256(const void *p, size_t n, uint8_t out[RILL_SHA256_LEN])
{
    SHA256(p, n, out);
}

void rill_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}


int rill_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
    if (slen != 2 * n)
        return RILL_ESYNTAX;
    for (size_t i = 0; i < n; i++) {
        int hi = rill__hexval(s[2 * i]), lo = rill__hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return RILL_ESYNTAX;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
