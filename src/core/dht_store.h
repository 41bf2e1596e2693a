/* The storage side of a Mainline DHT node (BEP 5): write tokens and the
 * peers that announce_peer stores. A pure core: time comes in as now_ms,
 * secrets and randomness come from the caller, nothing reads a clock.
 *
 * Tokens are stateless: token = first 8 bytes of SHA-1(secret || ip), where
 * ip is the 4 (IPv4) or 16 (IPv6) address bytes of the querying node. Two
 * secrets are kept, current and previous; the shell rotates every 5 minutes
 * with fresh bytes, so a token handed out with get_peers is accepted by
 * announce_peer for between 5 and 10 minutes (BEP 5: "up to ten minutes").
 *
 * The peer store maps an info-hash to the peers announced for it, each with
 * its announce time; a peer lives RILL_DHT_PEER_TTL_MS after its last
 * announce. Both dimensions are bounded: at most max_hashes info-hashes
 * (a new one past that is refused) and max_peers per info-hash (a full set
 * drops its oldest peer for the newcomer).
 *
 * Layout: an open-addressing table (linear probing, backward-shift delete,
 * load <= 1/2) of 32-byte entries keyed by a keyed hash of the whole
 * info-hash, so a remote node choosing info-hashes cannot aim at one probe
 * chain without the key. Each entry owns a contiguous array of its peers,
 * which grows by doubling up to max_peers. Allocation happens only in
 * init (the table), in announce when a new info-hash arrives or its array
 * must grow, and frees happen in expire and free; get never allocates.
 *
 * Memory: the table is 32 bytes per slot, slots = the power of two >=
 * 2 * max_hashes; a peer is 32 bytes. A full default store (2048 hashes x
 * 256 peers) is 4096 * 32 = 128 KiB of table plus 2048 * 256 * 32 = 16 MiB
 * of peers; rill_dht_store_bytes() reports the live figure. */
#ifndef RILL_CORE_DHT_STORE_H
#define RILL_CORE_DHT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/krpc.h"
#include "util/rng.h"

#define RILL_DHT_SECRET_LEN 16              /* bytes of each token secret */
#define RILL_DHT_TOKEN_LEN 8                /* bytes of a token we issue */
#define RILL_DHT_TOKEN_ROTATE_MS 300000u    /* 5 min between secret rotations */
#define RILL_DHT_PEER_TTL_MS 1800000u       /* 30 min: a stored peer's life */
#define RILL_DHT_STORE_HASHES_DEFAULT 2048u /* info-hashes kept */
#define RILL_DHT_STORE_PEERS_DEFAULT 256u   /* peers kept per info-hash */
#define RILL_DHT_STORE_HASHES_MAX (1u << 24)
#define RILL_DHT_STORE_PEERS_MAX 65535u

struct rill_dht_tokens {
    uint8_t cur[RILL_DHT_SECRET_LEN];
    uint8_t prev[RILL_DHT_SECRET_LEN];
    uint64_t rotated_ms; /* when cur became current */
};

/* Starts with `secret` as both current and previous secret (so nothing
 * older is accepted) and the rotation clock at now_ms. */
void rill_dht_tokens_init(struct rill_dht_tokens *t, const uint8_t secret[RILL_DHT_SECRET_LEN],
                          uint64_t now_ms);

/* True when RILL_DHT_TOKEN_ROTATE_MS have passed since the last rotation. */
bool rill_dht_tokens_rotate_due(const struct rill_dht_tokens *t, uint64_t now_ms);

/* When the next rotation falls due, for the shell's timer. */
uint64_t rill_dht_tokens_deadline(const struct rill_dht_tokens *t);

/* Makes the current secret the previous one and `secret` (fresh bytes from
 * the caller, e.g. rill_rng_bytes on a securely seeded generator) the
 * current one: tokens from two rotations ago stop being accepted. */
void rill_dht_tokens_rotate(struct rill_dht_tokens *t, uint64_t now_ms,
                            const uint8_t secret[RILL_DHT_SECRET_LEN]);

/* Writes the token for the node at address ip[0..ip_len) (4 or 16 bytes)
 * under the current secret. 0, or RILL_EINVAL for another ip_len. */
int rill_dht_tokens_make(const struct rill_dht_tokens *t, const uint8_t *ip, size_t ip_len,
                         uint8_t out[RILL_DHT_TOKEN_LEN]);

/* True when token[0..token_len) is what make() gives for this exact ip under
 * the current or the previous secret. The comparison takes the same time
 * whichever bytes differ; a wrong length or ip_len is simply false. */
bool rill_dht_tokens_check(const struct rill_dht_tokens *t, const uint8_t *ip, size_t ip_len,
                           const uint8_t *token, size_t token_len);

/* One stored peer. */
struct rill_dht_stored_peer {
    uint64_t seen_ms; /* last announce */
    uint8_t addr[16]; /* addr[0..addr_len) used */
    uint16_t port;
    uint8_t addr_len; /* 4 or 16 */
};

/* One slot of the table; empty when peers is NULL. Every live entry holds
 * at least one peer (expire() removes emptied entries). */
struct rill_dht_store_entry {
    uint8_t info_hash[RILL_SHA1_LEN];
    uint16_t n_peers, cap_peers;
    struct rill_dht_stored_peer *peers;
};

struct rill_dht_store {
    uint64_t key;      /* hash key from the caller */
    uint32_t mask;     /* slots - 1 */
    uint32_t n_hashes; /* live entries */
    uint32_t max_hashes;
    uint16_t max_peers;
    size_t peer_slots; /* allocated peer records over all entries */
    struct rill_dht_store_entry *slots;
};

/* What rill_dht_store_announce() did. */
enum rill_dht_store_result {
    RILL_DHT_STORE_ADDED = 1, /* a new peer (and perhaps a new info-hash) */
    RILL_DHT_STORE_REFRESHED, /* the same address and port: its time renewed */
    RILL_DHT_STORE_REPLACED,  /* the set was full: the oldest peer gave way */
};

/* Starts an empty store for at most max_hashes info-hashes (1 ..
 * RILL_DHT_STORE_HASHES_MAX) of at most max_peers peers each (1 ..
 * RILL_DHT_STORE_PEERS_MAX). `key` seeds the slot hash; give it random bits
 * (rill_rng_next) so remote nodes cannot predict probe chains. Allocates the
 * table: RILL_EINVAL for bad limits, RILL_ENOMEM. Pair with
 * rill_dht_store_free(). */
int rill_dht_store_init(struct rill_dht_store *s, uint32_t max_hashes, uint32_t max_peers,
                        uint64_t key);
void rill_dht_store_free(struct rill_dht_store *s);

/* Stores (or refreshes) `peer` for info_hash at now_ms; the caller checked
 * the token and resolved implied_port. Returns an enum
 * rill_dht_store_result, or RILL_EINVAL (addr_len not 4/16, port 0),
 * RILL_ELIMIT (a new info-hash while max_hashes are held: refused, the store
 * is unchanged; expire() may make room), RILL_ENOMEM (a new entry or a
 * larger peer array could not be allocated; the store is unchanged).
 * O(1) expected for the table, O(peers of this info-hash) for the set. */
int rill_dht_store_announce(struct rill_dht_store *s, const uint8_t info_hash[RILL_SHA1_LEN],
                            const struct rill_krpc_peer *peer, uint64_t now_ms);

/* Writes to out[0..max) the unexpired peers of info_hash whose address has
 * addr_len bytes (4 or 16) and returns how many. max is capped at
 * RILL_KRPC_VALUES_MAX so a "values" list fits one datagram (the shell may
 * ask for fewer, e.g. 50 IPv6 peers). When more match, a uniform random
 * subset of max distinct peers is drawn with `rng` (reservoir sampling, no
 * allocation); otherwise all are returned in store order and rng is not
 * used (rng may be NULL, then the first max are taken). */
size_t rill_dht_store_get(const struct rill_dht_store *s, const uint8_t info_hash[RILL_SHA1_LEN],
                          unsigned addr_len, struct rill_krpc_peer *out, size_t max,
                          struct rill_rng *rng, uint64_t now_ms);

/* Drops every peer announced RILL_DHT_PEER_TTL_MS or more before now_ms and
 * every info-hash left without peers (freeing its array); returns the
 * number of peers dropped. One pass over the table and the peers: call it
 * from a timer (each minute, say), not per message. */
size_t rill_dht_store_expire(struct rill_dht_store *s, uint64_t now_ms);

/* Unexpired peers of info_hash (both families). */
size_t rill_dht_store_count(const struct rill_dht_store *s, const uint8_t info_hash[RILL_SHA1_LEN],
                            uint64_t now_ms);

static inline size_t rill_dht_store_hashes(const struct rill_dht_store *s)
{
    return s->n_hashes;
}

/* Bytes the store holds (struct, table and peer arrays), for budgets. */
static inline size_t rill_dht_store_bytes(const struct rill_dht_store *s)
{
    return sizeof *s + ((size_t)s->mask + 1) * sizeof s->slots[0] +
           s->peer_slots * sizeof(struct rill_dht_stored_peer);
}

#endif
