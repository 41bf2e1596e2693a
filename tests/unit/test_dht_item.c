/* BEP 44 items: the BEP's own test vectors (targets, the signed bytes, the
 * signatures verified against its public key), ed25519 sign/verify round
 * trips, put validation with each error code, the seq and cas rules, get
 * answers and response checks, and the store's capacity, eviction, expiry
 * and index under churn. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dht_item.h"
#include "util/ed25519.h"

#define HELLO "12:Hello World!"
#define BEP_PUB "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548"
#define BEP_SIG                                                                                    \
    "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff"                             \
    "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01"
#define BEP_SIG_SALT                                                                               \
    "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d"                             \
    "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08"
#define H 3600000u /* an hour in ms */

static void unhex(const char *s, uint8_t *out, size_t n)
{
    assert_int_equal(rill_unhex(s, strlen(s), out, n), 0);
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
    char hex[2 * 64 + 1];
    assert_true(n <= 64);
    rill_hex(p, n, hex);
    assert_string_equal(hex, want);
}

/* The BEP's mutable test vector as a parsed put query would carry it. */
static void bep_put(struct rill_krpc_msg *q, bool salted)
{
    uint8_t id[20];
    tu_fill(id, sizeof id, 1);
    rill_krpc_query_init(q, (const uint8_t *)"aa", 2, RILL_KRPC_PUT, id);
    q->present = RILL_KRPC_HAS_ITEM | RILL_KRPC_HAS_KEY | RILL_KRPC_HAS_SEQ;
    q->token_len = 1;
    q->token[0] = 't';
    memcpy(q->item, HELLO, strlen(HELLO));
    q->item_len = (uint16_t)strlen(HELLO);
    unhex(BEP_PUB, q->k, 32);
    unhex(salted ? BEP_SIG_SALT : BEP_SIG, q->sig, 64);
    q->seq = 1;
    if (salted) {
        q->present |= RILL_KRPC_HAS_SALT;
        memcpy(q->salt, "foobar", 6);
        q->salt_len = 6;
    }
}

/* A put query of a mutable item signed with our own seed. */
static void own_put(struct rill_krpc_msg *q, const char *v, int64_t seq, const char *salt)
{
    uint8_t seed[32];
    tu_fill(seed, sizeof seed, 99);
    static struct rill_dht_item it;
    size_t salt_len = salt ? strlen(salt) : 0;
    assert_int_equal(rill_dht_item_sign(&it, seed, (const uint8_t *)salt, salt_len, seq,
                                        (const uint8_t *)v, strlen(v)),
                     0);
    rill_krpc_query_init(q, (const uint8_t *)"bb", 2, RILL_KRPC_PUT, it.k);
    q->present = RILL_KRPC_HAS_ITEM | RILL_KRPC_HAS_KEY | RILL_KRPC_HAS_SEQ;
    memcpy(q->item, v, strlen(v));
    q->item_len = (uint16_t)strlen(v);
    memcpy(q->k, it.k, 32);
    memcpy(q->sig, it.sig, 64);
    q->seq = seq;
    if (salt_len) {
        q->present |= RILL_KRPC_HAS_SALT;
        memcpy(q->salt, salt, salt_len);
        q->salt_len = (uint8_t)salt_len;
    }
}

static void test_bep44_vectors(void **state)
{
    (void)state;
    uint8_t t[20], k[32];
    rill_dht_item_target_immutable((const uint8_t *)HELLO, strlen(HELLO), t);
    assert_hex(t, 20, "e5f96f6f38320f0f33959cb4d3d656452117aadb");
    unhex(BEP_PUB, k, 32);
    rill_dht_item_target_mutable(k, NULL, 0, t);
    assert_hex(t, 20, "4a533d47ec9c7d95b1ad75f576cffc641853b750");
    rill_dht_item_target_mutable(k, (const uint8_t *)"foobar", 6, t);
    assert_hex(t, 20, "411eba73b6f087ca51a3795d9c8c938d365e32c1");

    /* The signed bytes, byte for byte, and the BEP's signatures over them. */
    uint8_t buf[RILL_DHT_ITEM_SIGNED_MAX], sig[64];
    size_t n = rill_dht_item_signed_bytes(NULL, 0, 1, (const uint8_t *)HELLO, strlen(HELLO), buf,
                                          sizeof buf);
    const char *plain = "3:seqi1e1:v12:Hello World!";
    assert_int_equal(n, strlen(plain));
    assert_memory_equal(buf, plain, n);
    unhex(BEP_SIG, sig, 64);
    assert_true(rill_ed25519_verify(k, buf, n, sig));
    sig[10] ^= 1;
    assert_false(rill_ed25519_verify(k, buf, n, sig));

    n = rill_dht_item_signed_bytes((const uint8_t *)"foobar", 6, 1, (const uint8_t *)HELLO,
                                   strlen(HELLO), buf, sizeof buf);
    const char *salted = "4:salt6:foobar3:seqi1e1:v12:Hello World!";
    assert_int_equal(n, strlen(salted));
    assert_memory_equal(buf, salted, n);
    unhex(BEP_SIG_SALT, sig, 64);
    assert_true(rill_ed25519_verify(k, buf, n, sig));
    buf[n - 1] = '?';
    assert_false(rill_ed25519_verify(k, buf, n, sig));

    /* Negative and extreme seqs print as bencode integers; a short buffer is 0. */
    n = rill_dht_item_signed_bytes(NULL, 0, INT64_MIN, (const uint8_t *)"0:", 2, buf, sizeof buf);
    const char *neg = "3:seqi-9223372036854775808e1:v0:";
    assert_int_equal(n, strlen(neg));
    assert_memory_equal(buf, neg, n);
    assert_int_equal(rill_dht_item_signed_bytes(NULL, 0, 1, (const uint8_t *)HELLO, 15, buf, 25),
                     0);
    assert_int_equal(rill_dht_item_signed_bytes((const uint8_t *)"foobar", 6, 1,
                                                (const uint8_t *)HELLO, 15, buf, 10),
                     0);
}

static void test_ed25519(void **state)
{
    (void)state;
    /* RFC 8032's seed-to-key rule, checked against python3-cryptography:
     * the seed 00 01 .. 1f. */
    uint8_t seed[32], pub[32], sig[64], sig2[64];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    assert_int_equal(rill_ed25519_public(seed, pub), 0);
    assert_hex(pub, 32, "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8");
    const char *msg = "3:seqi7e1:v5:hello";
    assert_int_equal(rill_ed25519_sign(seed, msg, strlen(msg), sig), 0);
    assert_hex(sig, 64,
               "7a02cd84892d0fb5c724ebc58dd59fed774c2e6ab3389fe3cc2d2edce5419836"
               "fe57696d2f79a1174aa6faf0eaa310cf960220ac15f5fa718a3ad3e4e9582a0b");
    assert_true(rill_ed25519_verify(pub, msg, strlen(msg), sig));
    assert_int_equal(rill_ed25519_sign(seed, msg, strlen(msg), sig2), 0);
    assert_memory_equal(sig, sig2, 64); /* deterministic */
    assert_false(rill_ed25519_verify(pub, msg, strlen(msg) - 1, sig));
    /* Another key does not verify; neither does a key that is no point. */
    uint8_t other[32];
    seed[0] ^= 0x80;
    assert_int_equal(rill_ed25519_public(seed, other), 0);
    assert_false(rill_ed25519_verify(other, msg, strlen(msg), sig));
    memset(other, 0xff, sizeof other);
    assert_false(rill_ed25519_verify(other, msg, strlen(msg), sig));
    /* An empty message signs too. */
    assert_int_equal(rill_ed25519_sign(seed, "", 0, sig), 0);
    assert_int_equal(rill_ed25519_public(seed, pub), 0);
    assert_true(rill_ed25519_verify(pub, "", 0, sig));
}

static void test_sign_round_trip(void **state)
{
    (void)state;
    uint8_t seed[32];
    tu_fill(seed, sizeof seed, 5);
    static struct rill_dht_item it;
    assert_int_equal(
        rill_dht_item_sign(&it, seed, (const uint8_t *)"s", 1, 42, (const uint8_t *)"d1:ai1ee", 8),
        0);
    assert_true(it.is_mutable);
    assert_true(rill_dht_item_verify(&it));
    uint8_t t[20];
    rill_dht_item_target_mutable(it.k, (const uint8_t *)"s", 1, t);
    assert_memory_equal(it.target, t, 20);
    it.seq++;
    assert_false(rill_dht_item_verify(&it));
    it.seq--;
    it.salt[0] = 'x';
    assert_false(rill_dht_item_verify(&it));
    it.salt[0] = 's';
    it.v[3] = '2';
    assert_false(rill_dht_item_verify(&it));
    /* Over the BEP's limits nothing is signed. */
    static uint8_t big[RILL_DHT_ITEM_V_MAX + 1];
    assert_int_equal(rill_dht_item_sign(&it, seed, NULL, 0, 1, big, sizeof big), RILL_ELIMIT);
    assert_int_equal(
        rill_dht_item_sign(&it, seed, big, RILL_DHT_ITEM_SALT_MAX + 1, 1, (const uint8_t *)"0:", 2),
        RILL_ELIMIT);
}

static void test_put_validation(void **state)
{
    (void)state;
    static struct rill_krpc_msg q;
    static struct rill_dht_item it;
    bep_put(&q, false);
    assert_int_equal(rill_dht_item_from_put(&q, &it), 0);
    assert_hex(it.target, 20, "4a533d47ec9c7d95b1ad75f576cffc641853b750");
    assert_int_equal(it.seq, 1);
    bep_put(&q, true);
    assert_int_equal(rill_dht_item_from_put(&q, &it), 0);
    assert_hex(it.target, 20, "411eba73b6f087ca51a3795d9c8c938d365e32c1");
    assert_int_equal(it.salt_len, 6);

    /* 206: the salted signature without the salt, a changed seq or value. */
    bep_put(&q, true);
    q.present &= ~RILL_KRPC_HAS_SALT;
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_BAD_SIG);
    assert_false(it.is_mutable); /* *out is zeroed on refusal */
    bep_put(&q, false);
    q.seq = 2;
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_BAD_SIG);
    bep_put(&q, false);
    q.item[5] = 'h';
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_BAD_SIG);

    /* 205 and 207: sizes first, before any signature work. */
    bep_put(&q, true);
    q.item_len = RILL_DHT_ITEM_V_MAX + 1;
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_TOO_BIG);
    bep_put(&q, true);
    q.salt_len = RILL_DHT_ITEM_SALT_MAX + 1;
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_SALT_BIG);
    q.salt_len = RILL_DHT_ITEM_SALT_MAX; /* at the limit: only the signature is wrong */
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_BAD_SIG);

    /* 203: not a put, or a mutable one without seq. */
    bep_put(&q, false);
    q.present &= ~RILL_KRPC_HAS_SEQ;
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_PROTOCOL);
    q.method = RILL_KRPC_GET;
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_PROTOCOL);

    /* An immutable put: target from the value, k/sig/seq ignored. */
    bep_put(&q, false);
    q.present = RILL_KRPC_HAS_ITEM;
    assert_int_equal(rill_dht_item_from_put(&q, &it), 0);
    assert_false(it.is_mutable);
    assert_hex(it.target, 20, "e5f96f6f38320f0f33959cb4d3d656452117aadb");
    q.item_len = RILL_DHT_ITEM_V_MAX + 1;
    assert_int_equal(rill_dht_item_from_put(&q, &it), RILL_KRPC_E_TOO_BIG);
}

static void test_seq_and_cas(void **state)
{
    (void)state;
    struct rill_dht_items s;
    assert_int_equal(rill_dht_items_init(&s, 8, 7), 0);
    static struct rill_krpc_msg q;
    own_put(&q, "1:a", 5, NULL);
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 1000), 0);
    const struct rill_dht_item *got = rill_dht_items_get(&s, s.items[0].target, 1000);
    assert_non_null(got);
    assert_int_equal(got->seq, 5);
    uint8_t target[20];
    memcpy(target, got->target, 20);

    /* 302: a lower seq; an equal seq with another value. */
    own_put(&q, "1:b", 4, NULL);
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 2000), RILL_KRPC_E_SEQ);
    own_put(&q, "1:b", 5, NULL);
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 2000), RILL_KRPC_E_SEQ);
    got = rill_dht_items_get(&s, target, 2000);
    assert_memory_equal(got->v, "1:a", 3);
    assert_int_equal(got->stored_ms, 1000);
    /* The same seq and value renews the item. */
    own_put(&q, "1:a", 5, NULL);
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 3000), 0);
    assert_int_equal(rill_dht_items_get(&s, target, 3000)->stored_ms, 3000);

    /* 301: cas must be the stored seq. */
    own_put(&q, "1:c", 6, NULL);
    q.present |= RILL_KRPC_HAS_CAS;
    q.cas = 4;
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 4000), RILL_KRPC_E_CAS);
    q.cas = 5;
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 4000), 0);
    got = rill_dht_items_get(&s, target, 4000);
    assert_int_equal(got->seq, 6);
    assert_memory_equal(got->v, "1:c", 3);
    assert_true(rill_dht_item_verify(got));
    assert_int_equal(s.count, 1);

    /* cas is not checked when nothing is stored, nor against an expired item. */
    own_put(&q, "1:x", 1, "salty");
    q.present |= RILL_KRPC_HAS_CAS;
    q.cas = 77;
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 5000), 0);
    own_put(&q, "1:d", 1, NULL);
    q.present |= RILL_KRPC_HAS_CAS;
    q.cas = 5;
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 4000 + RILL_DHT_ITEM_TTL_MS), 0);
    assert_int_equal(rill_dht_items_get(&s, target, 4000 + RILL_DHT_ITEM_TTL_MS)->seq, 1);
    assert_int_equal(s.count, 2);

    /* A bad signature never reaches the store. */
    own_put(&q, "1:e", 9, NULL);
    q.sig[0] ^= 1;
    assert_int_equal(rill_dht_items_put_msg(&s, &q, 6000), RILL_KRPC_E_BAD_SIG);
    rill_dht_items_free(&s);
}

static void test_get_answer_and_response(void **state)
{
    (void)state;
    static struct rill_krpc_msg q, r;
    static struct rill_dht_item it, back;
    bep_put(&q, true);
    assert_int_equal(rill_dht_item_from_put(&q, &it), 0);
    uint8_t id[20];
    tu_fill(id, sizeof id, 3);

    rill_krpc_response_init(&r, (const uint8_t *)"aa", 2, id);
    rill_dht_item_answer(&it, false, 0, &r);
    assert_int_equal(r.present, RILL_KRPC_HAS_SEQ | RILL_KRPC_HAS_KEY | RILL_KRPC_HAS_ITEM);
    assert_int_equal(
        rill_dht_item_from_response(&r, it.target, (const uint8_t *)"foobar", 6, &back), 0);
    assert_memory_equal(&back, &it, sizeof back);
    /* Without the salt, or for another target, it does not check out. */
    assert_int_equal(rill_dht_item_from_response(&r, it.target, NULL, 0, &back),
                     RILL_KRPC_E_BAD_SIG);
    uint8_t other[20] = {1};
    assert_int_equal(rill_dht_item_from_response(&r, other, (const uint8_t *)"foobar", 6, &back),
                     RILL_KRPC_E_BAD_SIG);
    r.sig[63] ^= 1;
    assert_int_equal(
        rill_dht_item_from_response(&r, it.target, (const uint8_t *)"foobar", 6, &back),
        RILL_KRPC_E_BAD_SIG);

    /* A querier that has seq 1 already gets only the seq. */
    rill_krpc_response_init(&r, (const uint8_t *)"aa", 2, id);
    rill_dht_item_answer(&it, true, 1, &r);
    assert_int_equal(r.present, RILL_KRPC_HAS_SEQ);
    assert_int_equal(r.seq, 1);
    assert_int_equal(rill_dht_item_from_response(&r, it.target, NULL, 0, &back),
                     RILL_KRPC_E_PROTOCOL);
    rill_krpc_response_init(&r, (const uint8_t *)"aa", 2, id);
    rill_dht_item_answer(&it, true, 0, &r);
    assert_true(r.present & RILL_KRPC_HAS_ITEM);

    /* An immutable item: only v, checked against its hash. */
    q.present = RILL_KRPC_HAS_ITEM;
    assert_int_equal(rill_dht_item_from_put(&q, &it), 0);
    rill_krpc_response_init(&r, (const uint8_t *)"aa", 2, id);
    rill_dht_item_answer(&it, true, 5, &r);
    assert_int_equal(r.present, RILL_KRPC_HAS_ITEM);
    assert_int_equal(rill_dht_item_from_response(&r, it.target, NULL, 0, &back), 0);
    r.item[4] = 'h';
    assert_int_equal(rill_dht_item_from_response(&r, it.target, NULL, 0, &back),
                     RILL_KRPC_E_BAD_SIG);
    r.item_len = RILL_DHT_ITEM_V_MAX + 1;
    assert_int_equal(rill_dht_item_from_response(&r, it.target, NULL, 0, &back),
                     RILL_KRPC_E_TOO_BIG);
}

/* An immutable item whose value is "i<n>e". */
static void immutable(struct rill_dht_item *it, int n)
{
    memset(it, 0, sizeof *it);
    it->v_len = (uint16_t)snprintf((char *)it->v, sizeof it->v, "i%de", n);
    rill_dht_item_target_immutable(it->v, it->v_len, it->target);
}

static void test_store_capacity_and_expiry(void **state)
{
    (void)state;
    struct rill_dht_items s;
    assert_int_equal(rill_dht_items_init(&s, 0, 1), RILL_EINVAL);
    assert_int_equal(rill_dht_items_init(&s, RILL_DHT_ITEMS_MAX + 1, 1), RILL_EINVAL);
    assert_int_equal(rill_dht_items_init(&s, 4, 1), 0);
    assert_int_equal(rill_dht_items_deadline(&s), UINT64_MAX);
    static struct rill_dht_item it[6];
    for (int i = 0; i < 6; i++)
        immutable(&it[i], i);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rill_dht_items_put(&s, &it[i], NULL, 1000u * (uint64_t)(i + 1)), 0);
    assert_int_equal(s.count, 4);
    assert_int_equal(rill_dht_items_deadline(&s), 1000 + RILL_DHT_ITEM_TTL_MS);
    /* Re-putting item 0 renews it, so item 1 is now the oldest... */
    assert_int_equal(rill_dht_items_put(&s, &it[0], NULL, 5000), 0);
    assert_int_equal(rill_dht_items_deadline(&s), 2000 + RILL_DHT_ITEM_TTL_MS);
    /* ...and is evicted for a new item when full. */
    assert_int_equal(rill_dht_items_put(&s, &it[4], NULL, 6000), 0);
    assert_int_equal(s.count, 4);
    assert_null(rill_dht_items_get(&s, it[1].target, 6000));
    for (int i = 0; i < 5; i++)
        if (i != 1) {
            const struct rill_dht_item *g = rill_dht_items_get(&s, it[i].target, 6000);
            assert_non_null(g);
            assert_memory_equal(g->v, it[i].v, it[i].v_len);
        }
    /* Expiry: 2 h after the last put, not before; get hides an item that is
     * due even before expire runs. */
    uint64_t t3 = 3000 + RILL_DHT_ITEM_TTL_MS;
    assert_non_null(rill_dht_items_get(&s, it[2].target, t3 - 1));
    assert_int_equal(rill_dht_items_expire(&s, t3 - 1), 0);
    assert_null(rill_dht_items_get(&s, it[2].target, t3));
    assert_int_equal(rill_dht_items_expire(&s, t3), 1);
    assert_int_equal(s.count, 3);
    assert_int_equal(rill_dht_items_expire(&s, 2 * H + 5500), 2); /* items 3 and 0 */
    assert_non_null(rill_dht_items_get(&s, it[4].target, 2 * H + 5500));
    assert_int_equal(rill_dht_items_expire(&s, 3 * H), 1);
    assert_int_equal(s.count, 0);
    assert_int_equal(rill_dht_items_deadline(&s), UINT64_MAX);
    /* Empty again, it fills again. */
    for (int i = 0; i < 6; i++)
        assert_int_equal(rill_dht_items_put(&s, &it[i], NULL, 4 * H + (uint64_t)i), 0);
    assert_int_equal(s.count, 4);
    assert_null(rill_dht_items_get(&s, it[0].target, 4 * H + 6));
    assert_non_null(rill_dht_items_get(&s, it[5].target, 4 * H + 6));
    rill_dht_items_free(&s);
}

/* Many items through a small store: the index and the age list stay in
 * step with a plain model (the newest `cap` targets live, others gone). */
static void test_store_churn(void **state)
{
    (void)state;
    enum { CAP = 37, N = 2000 };
    struct rill_dht_items s;
    assert_int_equal(rill_dht_items_init(&s, CAP, 0x1234), 0);
    static struct rill_dht_item it;
    for (int i = 0; i < N; i++) {
        immutable(&it, i);
        assert_int_equal(rill_dht_items_put(&s, &it, NULL, (uint64_t)i), 0);
        if (i % 3 == 0) { /* renew an older one still in the window */
            immutable(&it, i - i % CAP / 2);
            assert_int_equal(rill_dht_items_put(&s, &it, NULL, (uint64_t)i), 0);
        }
        assert_true(s.count <= CAP);
    }
    assert_int_equal(s.count, CAP);
    size_t live = 0;
    for (int i = 0; i < N; i++) {
        immutable(&it, i);
        const struct rill_dht_item *g = rill_dht_items_get(&s, it.target, N);
        if (g) {
            assert_memory_equal(g->v, it.v, it.v_len);
            live++;
        }
    }
    assert_int_equal(live, CAP);
    immutable(&it, N - 1);
    assert_non_null(rill_dht_items_get(&s, it.target, N));
    assert_int_equal(rill_dht_items_expire(&s, N + RILL_DHT_ITEM_TTL_MS), CAP);
    assert_int_equal(s.count, 0);
    rill_dht_items_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bep44_vectors),
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_sign_round_trip),
        cmocka_unit_test(test_put_validation),
        cmocka_unit_test(test_seq_and_cas),
        cmocka_unit_test(test_get_answer_and_response),
        cmocka_unit_test(test_store_capacity_and_expiry),
        cmocka_unit_test(test_store_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
