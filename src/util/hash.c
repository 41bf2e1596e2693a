/* SHA-1 and SHA-256 through libcrypto, and hex conversion. */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include "util/util.h"

/* MurmurHash3's 64-bit finalizer. */
static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

uint64_t rill__id_hash(uint64_t key, const uint8_t id[20])
{
    uint64_t w[3] = {0, 0, 0};
    memcpy(w, id, 20);
    uint64_t h = key;
    for (size_t i = 0; i < 3; i++)
        h = fmix64(h ^ w[i]) + i;
    return h;
}

void rill_sha1(const void *p, size_t n, uint8_t out[RILL_SHA1_LEN])
{
    SHA1(p, n, out);
}

void rill_sha256(const void *p, size_t n, uint8_t out[RILL_SHA256_LEN])
{
    SHA256(p, n, out);
}

struct rill__sha256_ctx {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
};

struct rill__sha256_ctx *rill__sha256_ctx_new(void)
{
    struct rill__sha256_ctx *c = OPENSSL_zalloc(sizeof *c);
    if (c && (!(c->md = EVP_MD_fetch(NULL, "SHA256", NULL)) || !(c->ctx = EVP_MD_CTX_new()))) {
        rill__sha256_ctx_free(c);
        return NULL;
    }
    return c;
}

void rill__sha256_ctx_free(struct rill__sha256_ctx *c)
{
    if (!c)
        return;
    EVP_MD_CTX_free(c->ctx);
    EVP_MD_free(c->md);
    OPENSSL_free(c);
}

void rill__sha256_with(struct rill__sha256_ctx *c, const void *p, size_t n,
                       uint8_t out[RILL_SHA256_LEN])
{
    unsigned len;
    if (!c || EVP_DigestInit_ex(c->ctx, c->md, NULL) != 1 ||
        EVP_DigestUpdate(c->ctx, p, n) != 1 || EVP_DigestFinal_ex(c->ctx, out, &len) != 1)
        rill_sha256(p, n, out);
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
