/* DHT tokens and the peer store: see dht_store.h for the contract, the
 * layout and the memory figures. */
#include <stdlib.h>
#include <string.h>

#include "core/dht_store.h"
#include "util/util.h"

/* ---- tokens ---- */

void rill_dht_tokens_init(struct rill_dht_tokens *t, const uint8_t secret[RILL_DHT_SECRET_LEN],
                          uint64_t now_ms)
{
    memcpy(t->cur, secret, RILL_DHT_SECRET_LEN);
    memcpy(t->prev, secret, RILL_DHT_SECRET_LEN);
    t->rotated_ms = now_ms;
}

uint64_t rill_dht_tokens_deadline(const struct rill_dht_tokens *t)
{
    return t->rotated_ms + RILL_DHT_TOKEN_ROTATE_MS;
}

bool rill_dht_tokens_rotate_due(const struct rill_dht_tokens *t, uint64_t now_ms)
{
    return now_ms >= rill_dht_tokens_deadline(t);
}

void rill_dht_tokens_rotate(struct rill_dht_tokens *t, uint64_t now_ms,
                            const uint8_t secret[RILL_DHT_SECRET_LEN])
{
    memcpy(t->prev, t->cur, RILL_DHT_SECRET_LEN);
    memcpy(t->cur, secret, RILL_DHT_SECRET_LEN);
    t->rotated_ms = now_ms;
}

static void token_with(const uint8_t secret[RILL_DHT_SECRET_LEN], const uint8_t *ip, size_t ip_len,
                       uint8_t out[RILL_DHT_TOKEN_LEN])
{
    uint8_t in[RILL_DHT_SECRET_LEN + 16], md[RILL_SHA1_LEN];
    memcpy(in, secret, RILL_DHT_SECRET_LEN);
    memcpy(in + RILL_DHT_SECRET_LEN, ip, ip_len);
    rill_sha1(in, RILL_DHT_SECRET_LEN + ip_len, md);
    memcpy(out, md, RILL_DHT_TOKEN_LEN);
}

int rill_dht_tokens_make(const struct rill_dht_tokens *t, const uint8_t *ip, size_t ip_len,
                         uint8_t out[RILL_DHT_TOKEN_LEN])
{
    if (ip_len != 4 && ip_len != 16)
        return RILL_EINVAL;
    token_with(t->cur, ip, ip_len, out);
    return 0;
}

bool rill_dht_tokens_check(const struct rill_dht_tokens *t, const uint8_t *ip, size_t ip_len,
                           const uint8_t *token, size_t token_len)
{
    if ((ip_len != 4 && ip_len != 16) || token_len != RILL_DHT_TOKEN_LEN)
        return false;
    uint8_t a[RILL_DHT_TOKEN_LEN], b[RILL_DHT_TOKEN_LEN];
    token_with(t->cur, ip, ip_len, a);
    token_with(t->prev, ip, ip_len, b);
    /* Both secrets are always tried and every byte is folded in, so the
     * time taken says nothing about how close a forged token came. */
    unsigned da = 0, db = 0;
    for (size_t i = 0; i < RILL_DHT_TOKEN_LEN; i++) {
        da |= (unsigned)(token[i] ^ a[i]);
        db |= (unsigned)(token[i] ^ b[i]);
    }
    return ((da == 0) | (db == 0)) != 0;
}

/* ---- peer store: table ---- */

/* Mixes all 20 bytes with the key: two info-hashes sharing a prefix, or
 * chosen by a remote node, still land on unrelated slots. */
static uint32_t slot_of(const struct rill_dht_store *s, const uint8_t ih[RILL_SHA1_LEN])
{
    return (uint32_t)rill__id_hash(s->key, ih) & s->mask;
}

/* The slot holding ih, or the empty slot where it would go. The load
 * factor stays at most 1/2, so an empty slot always ends the probe. */
static uint32_t probe(const struct rill_dht_store *s, const uint8_t ih[RILL_SHA1_LEN])
{
    uint32_t i = slot_of(s, ih);
    while (s->slots[i].peers && memcmp(s->slots[i].info_hash, ih, RILL_SHA1_LEN) != 0)
        i = (i + 1) & s->mask;
    return i;
}

static const struct rill_dht_store_entry *find(const struct rill_dht_store *s,
                                               const uint8_t ih[RILL_SHA1_LEN])
{
    const struct rill_dht_store_entry *e = &s->slots[probe(s, ih)];
    return e->peers ? e : NULL;
}

/* Frees slot i and closes the gap (backward-shift deletion): each later
 * entry of the run moves back unless its home slot lies cyclically in
 * (hole, its slot]. Only slot i and slots after it in the run change. */
static void slot_delete(struct rill_dht_store *s, uint32_t i)
{
    struct rill_dht_store_entry *sl = s->slots;
    s->peer_slots -= sl[i].cap_peers;
    free(sl[i].peers);
    s->n_hashes--;
    for (uint32_t j = (i + 1) & s->mask; sl[j].peers; j = (j + 1) & s->mask) {
        uint32_t home = slot_of(s, sl[j].info_hash);
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            sl[i] = sl[j];
            i = j;
        }
    }
    memset(&sl[i], 0, sizeof sl[i]);
}

int rill_dht_store_init(struct rill_dht_store *s, uint32_t max_hashes, uint32_t max_peers,
                        uint64_t key)
{
    memset(s, 0, sizeof *s);
    if (max_hashes < 1 || max_hashes > RILL_DHT_STORE_HASHES_MAX || max_peers < 1 ||
        max_peers > RILL_DHT_STORE_PEERS_MAX)
        return RILL_EINVAL;
    uint32_t n = 2;
    while (n < 2 * max_hashes)
        n *= 2;
    s->slots = calloc(n, sizeof *s->slots);
    if (!s->slots)
        return RILL_ENOMEM;
    s->key = key;
    s->mask = n - 1;
    s->max_hashes = max_hashes;
    s->max_peers = (uint16_t)max_peers;
    return 0;
}

void rill_dht_store_free(struct rill_dht_store *s)
{
    if (s->slots)
        for (uint32_t i = 0; i <= s->mask; i++)
            free(s->slots[i].peers);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* ---- peer store: sets ---- */

static bool peer_live(const struct rill_dht_stored_peer *p, uint64_t now_ms)
{
    return now_ms < p->seen_ms + RILL_DHT_PEER_TTL_MS;
}

static void peer_set(struct rill_dht_stored_peer *p, const struct rill_krpc_peer *in,
                     uint64_t now_ms)
{
    memset(p, 0, sizeof *p);
    memcpy(p->addr, in->addr, in->addr_len);
    p->addr_len = in->addr_len;
    p->port = in->port;
    p->seen_ms = now_ms;
}

/* Adds to an entry with room for a new peer, or replaces its oldest. */
static int entry_add(struct rill_dht_store *s, struct rill_dht_store_entry *e,
                     const struct rill_krpc_peer *in, uint64_t now_ms)
{
    if (e->n_peers >= s->max_peers) {
        size_t old = 0;
        for (size_t i = 1; i < e->n_peers; i++)
            if (e->peers[i].seen_ms < e->peers[old].seen_ms)
                old = i;
        peer_set(&e->peers[old], in, now_ms);
        return RILL_DHT_STORE_REPLACED;
    }
    if (e->n_peers == e->cap_peers) {
        size_t cap = (size_t)e->cap_peers * 2;
        if (cap > s->max_peers)
            cap = s->max_peers;
        void *p = realloc(e->peers, cap * sizeof e->peers[0]);
        if (!p)
            return RILL_ENOMEM;
        e->peers = p;
        s->peer_slots += cap - e->cap_peers;
        e->cap_peers = (uint16_t)cap;
    }
    peer_set(&e->peers[e->n_peers++], in, now_ms);
    return RILL_DHT_STORE_ADDED;
}

static int entry_new(struct rill_dht_store *s, uint32_t slot, const uint8_t ih[RILL_SHA1_LEN])
{
    if (s->n_hashes >= s->max_hashes)
        return RILL_ELIMIT;
    uint16_t cap = (uint16_t)(s->max_peers < 4 ? s->max_peers : 4);
    struct rill_dht_stored_peer *p = malloc(cap * sizeof *p);
    if (!p)
        return RILL_ENOMEM;
    struct rill_dht_store_entry *e = &s->slots[slot];
    memcpy(e->info_hash, ih, RILL_SHA1_LEN);
    e->n_peers = 0;
    e->cap_peers = cap;
    e->peers = p;
    s->peer_slots += cap;
    s->n_hashes++;
    return 0;
}

int rill_dht_store_announce(struct rill_dht_store *s, const uint8_t info_hash[RILL_SHA1_LEN],
                            const struct rill_krpc_peer *peer, uint64_t now_ms)
{
    if ((peer->addr_len != 4 && peer->addr_len != 16) || peer->port == 0)
        return RILL_EINVAL;
    uint32_t slot = probe(s, info_hash);
    struct rill_dht_store_entry *e = &s->slots[slot];
    if (!e->peers) {
        int rc = entry_new(s, slot, info_hash);
        if (rc < 0)
            return rc;
        /* A fresh entry has room, so entry_add cannot fail here. */
        return entry_add(s, e, peer, now_ms);
    }
    for (size_t i = 0; i < e->n_peers; i++) {
        struct rill_dht_stored_peer *p = &e->peers[i];
        if (p->addr_len == peer->addr_len && p->port == peer->port &&
            memcmp(p->addr, peer->addr, p->addr_len) == 0) {
            p->seen_ms = now_ms;
            return RILL_DHT_STORE_REFRESHED;
        }
    }
    return entry_add(s, e, peer, now_ms);
}

static void peer_out(struct rill_krpc_peer *out, const struct rill_dht_stored_peer *p)
{
    memset(out, 0, sizeof *out);
    memcpy(out->addr, p->addr, p->addr_len);
    out->addr_len = p->addr_len;
    out->port = p->port;
}

size_t rill_dht_store_get(const struct rill_dht_store *s, const uint8_t info_hash[RILL_SHA1_LEN],
                          unsigned addr_len, struct rill_krpc_peer *out, size_t max,
                          struct rill_rng *rng, uint64_t now_ms)
{
    const struct rill_dht_store_entry *e = find(s, info_hash);
    if (!e || max == 0)
        return 0;
    if (max > RILL_KRPC_VALUES_MAX)
        max = RILL_KRPC_VALUES_MAX;
    size_t seen = 0; /* matching peers so far */
    for (size_t i = 0; i < e->n_peers; i++) {
        const struct rill_dht_stored_peer *p = &e->peers[i];
        if (p->addr_len != addr_len || !peer_live(p, now_ms))
            continue;
        /* Algorithm R: after k matches each is in out with chance max/k. */
        if (seen < max)
            peer_out(&out[seen], p);
        else if (rng) {
            uint64_t j = rill_rng_below(rng, seen + 1);
            if (j < max)
                peer_out(&out[j], p);
        }
        seen++;
    }
    return seen < max ? seen : max;
}

size_t rill_dht_store_count(const struct rill_dht_store *s, const uint8_t info_hash[RILL_SHA1_LEN],
                            uint64_t now_ms)
{
    const struct rill_dht_store_entry *e = find(s, info_hash);
    size_t n = 0;
    for (size_t i = 0; e && i < e->n_peers; i++)
        n += peer_live(&e->peers[i], now_ms);
    return n;
}

/* Compacts an entry's live peers to the front; returns how many left. */
static size_t entry_expire(struct rill_dht_store_entry *e, uint64_t now_ms)
{
    size_t keep = 0;
    for (size_t i = 0; i < e->n_peers; i++)
        if (peer_live(&e->peers[i], now_ms))
            e->peers[keep++] = e->peers[i];
    size_t gone = e->n_peers - keep;
    e->n_peers = (uint16_t)keep;
    return gone;
}

size_t rill_dht_store_expire(struct rill_dht_store *s, uint64_t now_ms)
{
    size_t gone = 0;
    /* After a delete, slot i holds an entry shifted back from later in the
     * run (or one from the wrapped start, already seen: harmless to look
     * at again), so i is examined again before moving on. */
    for (uint32_t i = 0; i <= s->mask;) {
        struct rill_dht_store_entry *e = &s->slots[i];
        if (!e->peers) {
            i++;
            continue;
        }
        gone += entry_expire(e, now_ms);
        if (e->n_peers == 0)
            slot_delete(s, i);
        else
            i++;
    }
    return gone;
}
