/* BEP 44 items: rules, validation and a bounded store (see dht_item.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dht_item.h"
#include "util/ed25519.h"
#include "util/util.h"

#define NONE UINT32_MAX

/* ---------------------------------------------------------------- rules */

void rill_dht_item_target_immutable(const uint8_t *v, size_t v_len, uint8_t out[RILL_SHA1_LEN])
{
    rill_sha1(v, v_len, out);
}

void rill_dht_item_target_mutable(const uint8_t k[RILL_KRPC_KEY_LEN], const uint8_t *salt,
                                  size_t salt_len, uint8_t out[RILL_SHA1_LEN])
{
    uint8_t buf[RILL_KRPC_KEY_LEN + RILL_KRPC_SALT_BUF];
    if (salt_len > RILL_KRPC_SALT_BUF)
        salt_len = RILL_KRPC_SALT_BUF; /* past any salt a put can carry */
    memcpy(buf, k, RILL_KRPC_KEY_LEN);
    if (salt_len)
        memcpy(buf + RILL_KRPC_KEY_LEN, salt, salt_len);
    rill_sha1(buf, RILL_KRPC_KEY_LEN + salt_len, out);
}

size_t rill_dht_item_signed_bytes(const uint8_t *salt, size_t salt_len, int64_t seq,
                                  const uint8_t *v, size_t v_len, uint8_t *out, size_t cap)
{
    char head[48];
    size_t n = 0;
    if (salt_len) {
        int h = snprintf(head, sizeof head, "4:salt%zu:", salt_len);
        if (h < 0 || (size_t)h + salt_len > cap)
            return 0;
        memcpy(out, head, (size_t)h);
        memcpy(out + h, salt, salt_len);
        n = (size_t)h + salt_len;
    }
    int h = snprintf(head, sizeof head, "3:seqi%" PRId64 "e1:v", seq);
    if (h < 0 || n + (size_t)h + v_len > cap)
        return 0;
    memcpy(out + n, head, (size_t)h);
    memcpy(out + n + h, v, v_len);
    return n + (size_t)h + v_len;
}

int rill_dht_item_sign(struct rill_dht_item *it, const uint8_t seed[32], const uint8_t *salt,
                       size_t salt_len, int64_t seq, const uint8_t *v, size_t v_len)
{
    if (v_len > RILL_DHT_ITEM_V_MAX || salt_len > RILL_DHT_ITEM_SALT_MAX)
        return RILL_ELIMIT;
    memset(it, 0, sizeof *it);
    it->is_mutable = true;
    it->seq = seq;
    it->salt_len = (uint8_t)salt_len;
    if (salt_len)
        memcpy(it->salt, salt, salt_len);
    it->v_len = (uint16_t)v_len;
    memcpy(it->v, v, v_len);
    uint8_t msg[RILL_DHT_ITEM_SIGNED_MAX];
    size_t n = rill_dht_item_signed_bytes(salt, salt_len, seq, v, v_len, msg, sizeof msg);
    int rc = rill_ed25519_public(seed, it->k);
    if (!rc)
        rc = rill_ed25519_sign(seed, msg, n, it->sig);
    rill_dht_item_target_mutable(it->k, salt, salt_len, it->target);
    return rc;
}

bool rill_dht_item_verify(const struct rill_dht_item *it)
{
    if (!it->is_mutable || it->v_len > RILL_DHT_ITEM_V_MAX || it->salt_len > RILL_DHT_ITEM_SALT_MAX)
        return false;
    uint8_t msg[RILL_DHT_ITEM_SIGNED_MAX];
    size_t n = rill_dht_item_signed_bytes(it->salt, it->salt_len, it->seq, it->v, it->v_len, msg,
                                          sizeof msg);
    return n && rill_ed25519_verify(it->k, msg, n, it->sig);
}

/* ----------------------------------------------------------- validation */

/* The item parts of a put or get response, sizes checked: 0, 205 or 207. */
static int copy_item(const struct rill_krpc_msg *m, const uint8_t *salt, size_t salt_len,
                     struct rill_dht_item *out)
{
    memset(out, 0, sizeof *out);
    if (m->item_len > RILL_DHT_ITEM_V_MAX)
        return RILL_KRPC_E_TOO_BIG;
    if (salt_len > RILL_DHT_ITEM_SALT_MAX)
        return RILL_KRPC_E_SALT_BIG;
    out->v_len = m->item_len;
    memcpy(out->v, m->item, m->item_len);
    if (!(m->present & RILL_KRPC_HAS_KEY)) {
        rill_dht_item_target_immutable(out->v, out->v_len, out->target);
        return 0;
    }
    out->is_mutable = true;
    memcpy(out->k, m->k, sizeof out->k);
    memcpy(out->sig, m->sig, sizeof out->sig);
    out->seq = m->seq;
    out->salt_len = (uint8_t)salt_len;
    if (salt_len)
        memcpy(out->salt, salt, salt_len);
    rill_dht_item_target_mutable(out->k, out->salt, out->salt_len, out->target);
    return 0;
}

int rill_dht_item_from_put(const struct rill_krpc_msg *q, struct rill_dht_item *out)
{
    memset(out, 0, sizeof *out);
    if (q->type != RILL_KRPC_QUERY || q->method != RILL_KRPC_PUT ||
        !(q->present & RILL_KRPC_HAS_ITEM))
        return RILL_KRPC_E_PROTOCOL;
    if ((q->present & RILL_KRPC_HAS_KEY) && !(q->present & RILL_KRPC_HAS_SEQ))
        return RILL_KRPC_E_PROTOCOL;
    size_t salt_len = (q->present & RILL_KRPC_HAS_SALT) ? q->salt_len : 0;
    int rc = copy_item(q, q->salt, salt_len, out);
    if (!rc && out->is_mutable && !rill_dht_item_verify(out))
        rc = RILL_KRPC_E_BAD_SIG;
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int rill_dht_item_from_response(const struct rill_krpc_msg *r, const uint8_t target[RILL_SHA1_LEN],
                                const uint8_t *salt, size_t salt_len, struct rill_dht_item *out)
{
    memset(out, 0, sizeof *out);
    if (r->type != RILL_KRPC_RESPONSE || !(r->present & RILL_KRPC_HAS_ITEM))
        return RILL_KRPC_E_PROTOCOL;
    if ((r->present & RILL_KRPC_HAS_KEY) && !(r->present & RILL_KRPC_HAS_SEQ))
        return RILL_KRPC_E_PROTOCOL;
    int rc = copy_item(r, salt, salt_len, out);
    if (!rc && (memcmp(out->target, target, RILL_SHA1_LEN) != 0 ||
                (out->is_mutable && !rill_dht_item_verify(out))))
        rc = RILL_KRPC_E_BAD_SIG;
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

void rill_dht_item_answer(const struct rill_dht_item *it, bool has_seq, int64_t seq,
                          struct rill_krpc_msg *r)
{
    if (it->is_mutable) {
        r->seq = it->seq;
        r->present |= RILL_KRPC_HAS_SEQ;
        if (has_seq && it->seq <= seq)
            return; /* the querier has this version or a newer one */
        memcpy(r->k, it->k, sizeof r->k);
        memcpy(r->sig, it->sig, sizeof r->sig);
        r->present |= RILL_KRPC_HAS_KEY;
    }
    memcpy(r->item, it->v, it->v_len);
    r->item_len = it->v_len;
    r->present |= RILL_KRPC_HAS_ITEM;
}

/* ---------------------------------------------------------------- store */

/* Mixes all 20 bytes with the key, so chosen targets spread. */
static uint32_t slot_of(const struct rill_dht_items *s, const uint8_t t[RILL_SHA1_LEN])
{
    return (uint32_t)rill__id_hash(s->key, t) & s->mask;
}

/* The slot holding target t, or the empty slot where it would go. */
static uint32_t probe(const struct rill_dht_items *s, const uint8_t t[RILL_SHA1_LEN])
{
    uint32_t i = slot_of(s, t);
    while (s->slots[i] && memcmp(s->items[s->slots[i] - 1].target, t, RILL_SHA1_LEN) != 0)
        i = (i + 1) & s->mask;
    return i;
}

int rill_dht_items_init(struct rill_dht_items *s, uint32_t capacity, uint64_t key)
{
    memset(s, 0, sizeof *s);
    if (capacity < 1 || capacity > RILL_DHT_ITEMS_MAX)
        return RILL_EINVAL;
    uint32_t n = 1;
    while (n < 2 * capacity)
        n <<= 1;
    s->items = calloc(capacity, sizeof *s->items);
    s->prev = calloc(capacity, sizeof *s->prev);
    s->next = calloc(capacity, sizeof *s->next);
    s->slots = calloc(n, sizeof *s->slots);
    if (!s->items || !s->prev || !s->next || !s->slots) {
        rill_dht_items_free(s);
        return RILL_ENOMEM;
    }
    s->capacity = capacity;
    s->mask = n - 1;
    s->key = key;
    s->head = s->tail = NONE;
    for (uint32_t i = 0; i < capacity; i++) /* the free list is chained through next */
        s->next[i] = i + 1 < capacity ? i + 1 : NONE;
    s->free_list = 0;
    return 0;
}

void rill_dht_items_free(struct rill_dht_items *s)
{
    free(s->items);
    free(s->prev);
    free(s->next);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

static void list_unlink(struct rill_dht_items *s, uint32_t i)
{
    if (s->prev[i] != NONE)
        s->next[s->prev[i]] = s->next[i];
    else
        s->head = s->next[i];
    if (s->next[i] != NONE)
        s->prev[s->next[i]] = s->prev[i];
    else
        s->tail = s->prev[i];
}

static void list_append(struct rill_dht_items *s, uint32_t i)
{
    s->prev[i] = s->tail;
    s->next[i] = NONE;
    if (s->tail != NONE)
        s->next[s->tail] = i;
    else
        s->head = i;
    s->tail = i;
}

/* Removes item i: its index slot (backward-shift deletion, as in
 * dht_store.c), its place in the age list; it joins the free list. */
static void item_delete(struct rill_dht_items *s, uint32_t i)
{
    uint32_t h = probe(s, s->items[i].target), *sl = s->slots;
    for (uint32_t j = (h + 1) & s->mask; sl[j]; j = (j + 1) & s->mask) {
        uint32_t home = slot_of(s, s->items[sl[j] - 1].target);
        bool stays = h <= j ? (home > h && home <= j) : (home > h || home <= j);
        if (!stays) {
            sl[h] = sl[j];
            h = j;
        }
    }
    sl[h] = 0;
    list_unlink(s, i);
    s->next[i] = s->free_list;
    s->free_list = i;
    s->count--;
}

static bool live(const struct rill_dht_item *it, uint64_t now_ms)
{
    return now_ms - it->stored_ms < RILL_DHT_ITEM_TTL_MS || now_ms < it->stored_ms;
}

const struct rill_dht_item *rill_dht_items_get(const struct rill_dht_items *s,
                                               const uint8_t target[RILL_SHA1_LEN], uint64_t now_ms)
{
    uint32_t idx = s->slots[probe(s, target)];
    if (!idx || !live(&s->items[idx - 1], now_ms))
        return NULL;
    return &s->items[idx - 1];
}

/* BEP 44's rules for a new version of a stored item: 0 to store it, -1
 * to only renew the stored one, or a KRPC error code. */
static int compare(const struct rill_dht_item *old, const struct rill_dht_item *it,
                   const int64_t *cas)
{
    if (!it->is_mutable)
        return -1; /* same target, so the same value */
    if (cas && *cas != old->seq)
        return RILL_KRPC_E_CAS;
    if (it->seq < old->seq)
        return RILL_KRPC_E_SEQ;
    if (it->seq > old->seq)
        return 0;
    bool same = old->v_len == it->v_len && memcmp(old->v, it->v, it->v_len) == 0;
    return same ? -1 : RILL_KRPC_E_SEQ;
}

int rill_dht_items_put(struct rill_dht_items *s, const struct rill_dht_item *it, const int64_t *cas,
                       uint64_t now_ms)
{
    uint32_t slot = probe(s, it->target), i;
    if (s->slots[slot]) {
        i = s->slots[slot] - 1;
        /* An expired item is gone for BEP 44's rules too. */
        int rc = live(&s->items[i], now_ms) ? compare(&s->items[i], it, cas) : 0;
        if (rc > 0)
            return rc;
        if (rc == 0)
            s->items[i] = *it;
        list_unlink(s, i);
    } else {
        if (s->count == s->capacity) {
            item_delete(s, s->head);
            slot = probe(s, it->target); /* the deletion may have shifted slots */
        }
        i = s->free_list;
        s->free_list = s->next[i];
        s->items[i] = *it;
        s->slots[slot] = i + 1;
        s->count++;
    }
    s->items[i].stored_ms = now_ms;
    list_append(s, i);
    return 0;
}

int rill_dht_items_put_msg(struct rill_dht_items *s, const struct rill_krpc_msg *q, uint64_t now_ms)
{
    struct rill_dht_item it;
    int rc = rill_dht_item_from_put(q, &it);
    if (rc)
        return rc;
    bool cas = it.is_mutable && (q->present & RILL_KRPC_HAS_CAS);
    return rill_dht_items_put(s, &it, cas ? &q->cas : NULL, now_ms);
}

size_t rill_dht_items_expire(struct rill_dht_items *s, uint64_t now_ms)
{
    size_t n = 0;
    while (s->head != NONE && !live(&s->items[s->head], now_ms)) {
        item_delete(s, s->head);
        n++;
    }
    return n;
}

uint64_t rill_dht_items_deadline(const struct rill_dht_items *s)
{
    return s->head == NONE ? UINT64_MAX : s->items[s->head].stored_ms + RILL_DHT_ITEM_TTL_MS;
}
