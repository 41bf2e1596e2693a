/* Ed25519 through OpenSSL 3's EVP (see ed25519.h). One-shot
 * EVP_DigestSign/EVP_DigestVerify with a NULL digest, as Ed25519 hashes
 * internally; nothing is cached, so every call is independent. */
#include <openssl/err.h>
#include <openssl/evp.h>

#include "util/ed25519.h"
#include "rill.h"

int rill_ed25519_public(const uint8_t seed[RILL_ED25519_SEED_LEN],
                        uint8_t pub[RILL_ED25519_PUB_LEN])
{
    EVP_PKEY *key =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, RILL_ED25519_SEED_LEN);
    size_t n = RILL_ED25519_PUB_LEN;
    int ok = key && EVP_PKEY_get_raw_public_key(key, pub, &n) == 1 && n == RILL_ED25519_PUB_LEN;
    EVP_PKEY_free(key);
    return ok ? 0 : RILL_ENOMEM;
}

int rill_ed25519_sign(const uint8_t seed[RILL_ED25519_SEED_LEN], const void *msg, size_t n,
                      uint8_t sig[RILL_ED25519_SIG_LEN])
{
    EVP_PKEY *key =
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, RILL_ED25519_SEED_LEN);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = RILL_ED25519_SIG_LEN;
    int ok = key && ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
             EVP_DigestSign(ctx, sig, &len, msg, n) == 1 && len == RILL_ED25519_SIG_LEN;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok ? 0 : RILL_ENOMEM;
}

bool rill_ed25519_verify(const uint8_t pub[RILL_ED25519_PUB_LEN], const void *msg, size_t n,
                         const uint8_t sig[RILL_ED25519_SIG_LEN])
{
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, RILL_ED25519_PUB_LEN);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = key && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
              EVP_DigestVerify(ctx, sig, RILL_ED25519_SIG_LEN, msg, n) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    if (!ok)
        ERR_clear_error(); /* a forged signature is routine: leave no queue behind */
    return ok;
}
