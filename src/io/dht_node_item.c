/* BEP 44 in the DHT node: the get and put queries we answer from our item
 * store, and the item requests of our user (a get lookup; for a put, then
 * a put to the closest nodes that gave tokens). The dht_item core judges
 * every value and signature. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "io/dht_node_internal.h"
#include "util/ed25519.h"

/* ------------------------------------------------------------ answering */

void rill__dht_answer_get(struct rill_dht *n, const struct dht_addr *from)
{
    const struct rill_krpc_msg *q = &n->in;
    struct rill_krpc_msg *r = &n->out;
    rill_dht_tokens_make(&n->tokens, from->ip, from->len, r->token);
    r->token_len = RILL_DHT_TOKEN_LEN;
    r->present |= RILL_KRPC_HAS_TOKEN;
    const struct rill_dht_item *it = rill_dht_items_get(&n->items, q->target, n->now);
    if (it)
        rill_dht_item_answer(it, (q->present & RILL_KRPC_HAS_SEQ) != 0, q->seq, r);
}

/* 0 when the put was stored, else the KRPC error code (why in *why). */
int rill__dht_answer_put(struct rill_dht *n, const struct dht_addr *from, const char **why)
{
    const struct rill_krpc_msg *q = &n->in;
    if (!rill_dht_tokens_check(&n->tokens, from->ip, from->len, q->token, q->token_len)) {
        *why = "bad token";
        return RILL_KRPC_E_PROTOCOL;
    }
    int code = rill_dht_items_put_msg(&n->items, q, n->now);
    *why = NULL; /* the code's standard text */
    return code;
}

/* ------------------------------------------------------------- requests */

static void item_free(struct dht_item_req *it)
{
    OPENSSL_cleanse(it->seed, sizeof it->seed);
    free(it);
}

void rill__dht_item_release(struct dht_req *q)
{
    if (!q->it)
        return;
    item_free(q->it);
    q->it = NULL;
}

/* An answer to one of our get queries: keep the best valid version. */
void rill__dht_item_reply(struct rill_dht *n, struct dht_req *q)
{
    struct dht_item_req *it = q->it;
    const struct rill_krpc_msg *m = &n->in;
    if (!(m->present & RILL_KRPC_HAS_ITEM))
        return;
    const uint8_t *target = q->kind == DHT_REQ_PUT ? it->put.target : it->best.target;
    struct rill_dht_item got;
    if (rill_dht_item_from_response(m, target, it->salt, it->salt_len, &got) != 0)
        return; /* a forged or broken value: ignored */
    if (!it->found || (got.is_mutable && got.seq > it->best.seq)) {
        it->best = got;
        it->found = true;
    }
}

/* Before the first put of a request: a mutable item with no seq given is
 * signed now, one above the highest version the lookup saw. False when
 * signing failed. */
bool rill__dht_item_put_fill(struct dht_req *q)
{
    struct dht_item_req *it = q->it;
    if (it->signed_ || !it->put.is_mutable)
        return true;
    int64_t seq = it->put.seq;
    bool same = it->found && it->best.v_len == it->put.v_len &&
                memcmp(it->best.v, it->put.v, it->put.v_len) == 0;
    if (it->auto_seq && same) {
        seq = it->best.seq; /* the same value again: renew that version */
    } else if (it->auto_seq) {
        seq = it->found && it->best.seq < INT64_MAX ? it->best.seq + 1 : 1;
    } else if (it->found && (it->best.seq > seq || (it->best.seq == seq && !same))) {
        /* The nodes that hold the newer version would refuse it (302); the
         * others would keep a version nobody should see. */
        it->refused = RILL_EINVAL;
        return false;
    }
    struct rill_dht_item made;
    if (rill_dht_item_sign(&made, it->seed, it->salt, it->salt_len, seq, it->put.v,
                           it->put.v_len) != 0)
        return false;
    it->put = made;
    it->signed_ = true;
    return true;
}

void rill__dht_item_put_args(struct rill_dht *n, const struct dht_req *q)
{
    const struct rill_dht_item *p = &q->it->put;
    struct rill_krpc_msg *m = &n->out;
    memcpy(m->item, p->v, p->v_len);
    m->item_len = p->v_len;
    m->present |= RILL_KRPC_HAS_ITEM;
    if (!p->is_mutable)
        return;
    memcpy(m->k, p->k, sizeof m->k);
    memcpy(m->sig, p->sig, sizeof m->sig);
    m->seq = p->seq;
    m->present |= RILL_KRPC_HAS_KEY | RILL_KRPC_HAS_SEQ;
    if (p->salt_len) {
        memcpy(m->salt, p->salt, p->salt_len);
        m->salt_len = p->salt_len;
        m->present |= RILL_KRPC_HAS_SALT;
    }
}

static void info_of(const struct rill_dht_item *src, struct rill_dht_item_info *info)
{
    memset(info, 0, sizeof *info);
    memcpy(info->target, src->target, sizeof info->target);
    info->is_mutable = src->is_mutable;
    info->v = src->v;
    info->v_len = src->v_len;
    info->seq = src->seq;
    info->k = src->is_mutable ? src->k : NULL;
    info->sig = src->is_mutable ? src->sig : NULL;
}

/* The request's last lookup ended: report, then free the item state. */
void rill__dht_item_done(struct dht_req *q)
{
    struct dht_item_req *it = q->it;
    q->it = NULL; /* the callback may start a new request in this slot */
    struct rill_dht_item_info info;
    const struct rill_dht_item_info *res = NULL;
    int error = 0;
    if (q->kind == DHT_REQ_GET && it->found) {
        info_of(&it->best, &info);
        res = &info;
    } else if (q->kind == DHT_REQ_PUT && it->stored) {
        info_of(&it->put, &info);
        info.stored = it->stored;
        res = &info;
    } else if (q->kind == DHT_REQ_PUT) {
        error = it->refused ? it->refused : RILL_ENOENT;
    }
    if (res)
        info.hops = q->hops;
    if (q->item_cb)
        q->item_cb(q->ctx, res, error);
    item_free(it);
}

/* ------------------------------------------------------------------ API */

static struct dht_req *item_req(struct rill_dht *n, enum dht_req_kind kind, const uint8_t *salt,
                                size_t salt_len, rill_dht_item_cb cb, void *ctx)
{
    struct dht_req *q = rill__dht_req_new(n, kind);
    if (!q)
        return NULL;
    q->it = calloc(1, sizeof *q->it);
    if (!q->it) {
        q->used = false;
        return NULL;
    }
    q->item_cb = cb;
    q->ctx = ctx;
    if (salt_len)
        memcpy(q->it->salt, salt, salt_len);
    q->it->salt_len = (uint8_t)salt_len;
    return q;
}

void rill_dht_target_immutable(const uint8_t *v, size_t len, uint8_t target[20])
{
    rill_dht_item_target_immutable(v, len, target);
}

int rill_dht_public_key(const uint8_t seed[32], uint8_t pub[32])
{
    return rill_ed25519_public(seed, pub);
}

int rill_dht_new_key(uint8_t seed[32])
{
    return RAND_bytes(seed, 32) == 1 ? 0 : RILL_EIO;
}

int rill_dht_target_mutable(const uint8_t seed[32], const uint8_t *salt, size_t salt_len,
                            uint8_t target[20])
{
    uint8_t pub[32];
    if (salt_len > RILL_DHT_ITEM_SALT_MAX)
        return RILL_EINVAL;
    int rc = rill_ed25519_public(seed, pub);
    if (rc == 0)
        rill_dht_item_target_mutable(pub, salt, salt_len, target);
    return rc;
}

int rill_dht_get_item(struct rill_dht *d, const uint8_t target[20], const uint8_t *salt,
                      size_t salt_len, rill_dht_item_cb cb, void *ctx)
{
    if (salt_len > RILL_DHT_ITEM_SALT_MAX)
        return RILL_EINVAL;
    struct dht_req *q = item_req(d, DHT_REQ_GET, salt, salt_len, cb, ctx);
    if (!q)
        return RILL_ELIMIT;
    memcpy(q->it->best.target, target, 20);
    return rill__dht_req_start(d, q, target);
}

/* One well-formed bencoded value of at most 1000 bytes. */
static bool good_value(const uint8_t *v, size_t len)
{
    if (!v || len == 0 || len > RILL_DHT_ITEM_V_MAX)
        return false;
    struct rill_bdoc doc;
    if (rill_bdecode(&doc, v, len, NULL, NULL) != 0)
        return false;
    rill_bdoc_free(&doc);
    return true;
}

int rill_dht_put_immutable(struct rill_dht *d, const uint8_t *v, size_t len, rill_dht_item_cb cb,
                           void *ctx)
{
    if (!good_value(v, len))
        return RILL_EINVAL;
    struct dht_req *q = item_req(d, DHT_REQ_PUT, NULL, 0, cb, ctx);
    if (!q)
        return RILL_ELIMIT;
    struct rill_dht_item *p = &q->it->put;
    memcpy(p->v, v, len);
    p->v_len = (uint16_t)len;
    rill_dht_item_target_immutable(v, len, p->target);
    return rill__dht_req_start(d, q, p->target);
}

int rill_dht_put_mutable(struct rill_dht *d, const uint8_t seed[32], const uint8_t *salt,
                         size_t salt_len, const int64_t *seq, const uint8_t *v, size_t len,
                         rill_dht_item_cb cb, void *ctx)
{
    if (!good_value(v, len) || salt_len > RILL_DHT_ITEM_SALT_MAX || (seq && *seq < 0))
        return RILL_EINVAL;
    uint8_t target[20];
    if (rill_dht_target_mutable(seed, salt, salt_len, target) != 0)
        return RILL_ENOMEM;
    struct dht_req *q = item_req(d, DHT_REQ_PUT, salt, salt_len, cb, ctx);
    if (!q)
        return RILL_ELIMIT;
    struct dht_item_req *it = q->it;
    memcpy(it->seed, seed, sizeof it->seed);
    it->auto_seq = seq == NULL;
    it->put.is_mutable = true;
    it->put.seq = seq ? *seq : 0;
    memcpy(it->put.v, v, len);
    it->put.v_len = (uint16_t)len;
    memcpy(it->put.target, target, sizeof target);
    return rill__dht_req_start(d, q, target);
}
