/* BEP 44: arbitrary data in the DHT, as a pure core. An item is immutable
 * (its target is the SHA-1 of its bencoded value) or mutable (its target is
 * the SHA-1 of an ed25519 public key and an optional salt; the holder of the
 * key signs each version, numbered by `seq`).
 *
 * Three parts: the item's rules (targets, the bytes a signature covers,
 * signing and verifying), the validation of an incoming put and of a get
 * response, and a bounded store with expiry. Time comes in as now_ms;
 * nothing reads a clock.
 *
 * Store layout: a fixed array of `capacity` items allocated at init, an
 * open-addressing index (linear probing, load <= 1/2, backward-shift
 * delete) keyed by a keyed hash of the target, so a remote node choosing
 * targets cannot aim at one probe chain, and a doubly linked list of the
 * items in the order they were last stored. Since now_ms never goes back,
 * that list is also the order of stored_ms: its head is the oldest item,
 * evicted when the store is full and first to expire. get, put and each
 * expired item are O(1); nothing allocates after init. Memory: about 1.2 KB
 * per item (a full 1000-byte value is kept inline), so 1000 items ~ 1.2 MB. */
#ifndef RILL_CORE_DHT_ITEM_H
#define RILL_CORE_DHT_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/krpc.h"

#define RILL_DHT_ITEM_V_MAX RILL_DHT_ITEM_VALUE_MAX  /* bytes of a bencoded value */
#define RILL_DHT_ITEM_SALT_MAX RILL_DHT_ITEM_SALT_MAX_LEN /* bytes of a salt */
#define RILL_DHT_ITEM_TTL_MS 7200000u /* 2 h: an item's life after its last put */
#define RILL_DHT_ITEMS_DEFAULT 1000u  /* items a node keeps */
#define RILL_DHT_ITEMS_MAX (1u << 20)
/* The most bytes a signature covers: "4:salt64:" + salt + "3:seqi" + an
 * int64 (20 characters) + "e1:v" + value. */
#define RILL_DHT_ITEM_SIGNED_MAX (9 + RILL_DHT_ITEM_SALT_MAX + 6 + 20 + 4 + RILL_DHT_ITEM_V_MAX)

struct rill_dht_item {
    uint8_t target[RILL_SHA1_LEN];
    bool is_mutable;
    /* Mutable items only (zero for immutable ones). */
    uint8_t k[RILL_KRPC_KEY_LEN];
    uint8_t sig[RILL_KRPC_SIG_LEN];
    int64_t seq;
    uint8_t salt_len;
    uint8_t salt[RILL_DHT_ITEM_SALT_MAX];
    /* The value exactly as bencoded. */
    uint16_t v_len;
    uint8_t v[RILL_DHT_ITEM_V_MAX];
    uint64_t stored_ms; /* last accepted put, set by the store */
};

/* --------------------------------------------------------------- rules */

/* SHA-1 of the bencoded value v[0..v_len): an immutable item's target. */
void rill_dht_item_target_immutable(const uint8_t *v, size_t v_len, uint8_t out[RILL_SHA1_LEN]);

/* SHA-1 of k followed by salt[0..salt_len) (salt may be NULL when empty):
 * a mutable item's target. salt_len is capped at RILL_KRPC_SALT_BUF, past
 * anything a put can carry. */
void rill_dht_item_target_mutable(const uint8_t k[RILL_KRPC_KEY_LEN], const uint8_t *salt,
                                  size_t salt_len, uint8_t out[RILL_SHA1_LEN]);

/* Writes the bytes a mutable item's signature covers, exactly as BEP 44
 * spells them: "4:salt" <len> ":" <salt> (only for a non-empty salt), then
 * "3:seqi" <seq> "e1:v" and the bencoded value, to out[0..cap). Returns the
 * length, or 0 when it does not fit (RILL_DHT_ITEM_SIGNED_MAX always fits
 * values and salts within the BEP's limits). */
size_t rill_dht_item_signed_bytes(const uint8_t *salt, size_t salt_len, int64_t seq,
                                  const uint8_t *v, size_t v_len, uint8_t *out, size_t cap);

/* Makes *it a mutable item signed with the ed25519 key of `seed`: sets k,
 * sig, seq, salt, v and the target. 0, RILL_ELIMIT for a value or salt
 * over the BEP's limits, RILL_ENOMEM when libcrypto fails. */
int rill_dht_item_sign(struct rill_dht_item *it, const uint8_t seed[32], const uint8_t *salt,
                       size_t salt_len, int64_t seq, const uint8_t *v, size_t v_len);

/* True when it->sig is k's signature of (salt, seq, v); false for an
 * immutable item or sizes over the limits. */
bool rill_dht_item_verify(const struct rill_dht_item *it);

/* ----------------------------------------------------------- validation */

/* Turns a parsed put query into *out, target computed, checking what BEP 44
 * asks of any node in this order: the value's size (205), the salt's size
 * (207), the signature of a mutable item (206). Returns 0, one of those
 * KRPC error codes to answer with, or RILL_KRPC_E_PROTOCOL (203) for a
 * message that is not a put. The token is the caller's to check first
 * (src/core/dht_store.h). */
int rill_dht_item_from_put(const struct rill_krpc_msg *q, struct rill_dht_item *out);

/* Checks a get response for the item we asked for at `target` (and, for a
 * mutable item, `salt`, which responses do not carry): an immutable value
 * must hash to target; a mutable one needs k, sig and seq, k and salt must
 * hash to target and the signature must verify. 0 with *out filled, or the
 * KRPC code saying why not (205/207 sizes, 206 signature or wrong target,
 * 203 when the response holds no value). */
int rill_dht_item_from_response(const struct rill_krpc_msg *r, const uint8_t target[RILL_SHA1_LEN],
                                const uint8_t *salt, size_t salt_len, struct rill_dht_item *out);

/* Fills the item keys of a get response r (already response_init'ed) from
 * a stored item: v (and k, sig, seq of a mutable one). When the query had
 * a "seq" (`has_seq`, `seq`) and the stored seq is not greater, only seq is
 * written, as BEP 44 asks. */
void rill_dht_item_answer(const struct rill_dht_item *it, bool has_seq, int64_t seq,
                          struct rill_krpc_msg *r);

/* ---------------------------------------------------------------- store */

struct rill_dht_items {
    struct rill_dht_item *items; /* capacity of them */
    uint32_t *prev, *next;       /* the age list, by index; NONE ends it */
    uint32_t *slots;             /* index + 1, or 0 for an empty slot */
    uint32_t capacity, count, mask;
    uint32_t head, tail, free_list; /* oldest, newest, unused items */
    uint64_t key;
};

/* Allocates a store of `capacity` items (1..RILL_DHT_ITEMS_MAX) whose
 * index is keyed by `key` (random bytes from the caller). 0, RILL_EINVAL
 * or RILL_ENOMEM. */
int rill_dht_items_init(struct rill_dht_items *s, uint32_t capacity, uint64_t key);
void rill_dht_items_free(struct rill_dht_items *s);

/* The live item at target, or NULL (absent, or older than the TTL though
 * not expired yet). The pointer lives until the next put or expire. */
const struct rill_dht_item *rill_dht_items_get(const struct rill_dht_items *s,
                                               const uint8_t target[RILL_SHA1_LEN],
                                               uint64_t now_ms);

/* Stores a validated item (rill_dht_item_from_put) at now_ms, under BEP 44's
 * rules against the live stored version of a mutable item, if any: with
 * `cas` non-NULL the stored seq must equal *cas (else 301); a seq below the stored one is 302,
 * and so is an equal seq with another value (a new value needs a new seq);
 * an equal seq with the same value, or any re-put of an immutable item,
 * only renews stored_ms. A new item evicts the oldest one when the store is
 * full. Returns 0 or the KRPC error code to answer. */
int rill_dht_items_put(struct rill_dht_items *s, const struct rill_dht_item *it, const int64_t *cas,
                       uint64_t now_ms);

/* rill_dht_item_from_put then rill_dht_items_put with the query's cas:
 * what a node does with a put whose token it accepted. */
int rill_dht_items_put_msg(struct rill_dht_items *s, const struct rill_krpc_msg *q,
                           uint64_t now_ms);

/* Drops every item stored RILL_DHT_ITEM_TTL_MS or longer ago; returns how
 * many. */
size_t rill_dht_items_expire(struct rill_dht_items *s, uint64_t now_ms);

/* When the oldest item expires (for the shell's timer), or UINT64_MAX when
 * the store is empty. */
uint64_t rill_dht_items_deadline(const struct rill_dht_items *s);

#endif
