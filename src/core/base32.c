/* RFC 4648 base32 without padding (see base32.h). */
#include "core/base32.h"

#include "rill.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

int rill__base32_decode(const char *s, size_t slen, uint8_t *out, size_t n, size_t *bad)
{
    size_t need = RILL__BASE32_LEN(n);
    if (slen != need) {
        *bad = slen < need ? slen : need;
        return RILL_ESYNTAX;
    }
    uint32_t acc = 0; /* at most 12 bits are pending at any time */
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < slen; i++) {
        int d = digit(s[i]);
        if (d < 0) {
            *bad = i;
            return RILL_ESYNTAX;
        }
        acc = (acc << 5 | (uint32_t)d) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits belong to no byte; demanding zeros makes each byte
     * string have exactly one spelling. */
    if (bits && (acc & ((1u << bits) - 1))) {
        *bad = slen - 1;
        return RILL_ESYNTAX;
    }
    return 0;
}

size_t rill__base32_encode(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t len = RILL__BASE32_LEN(n);
    if (cap <= len)
        return 0;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8 | p[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = alphabet[(acc >> bits) & 31];
        }
    }
    if (bits)
        out[o++] = alphabet[(acc << (5 - bits)) & 31];
    out[o] = 0;
    return o;
}
