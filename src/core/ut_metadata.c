/* BEP 9 metadata exchange (see ut_metadata.h): the codec, the fetcher with
 * its liar detection, and the serving helper. */
#include <string.h>
#include <stdlib.h>

#include "core/ut_metadata.h"
#include "core/wire.h"
#include "util/util.h"

/* The dictionary is tiny and flat; these bounds only keep a hostile one cheap. */
#define MAX_DEPTH 8
#define MAX_NODES 256
#define MAX_LEN_DIGITS 10

struct rill_utmeta_rec {
    uint8_t sha[RILL_SHA1_LEN];
    uint32_t peer;
};

enum { P_MISSING = 0, P_HAVE = 1 };

/* ------------------------------------------------------------------- codec */

uint32_t rill_utmeta_piece_count(uint64_t size)
{
    return (uint32_t)((size + RILL_UTMETA_PIECE - 1) / RILL_UTMETA_PIECE);
}

/* Bytes piece `piece` has in a dict of `total` bytes; 0 if past the end. */
static uint64_t piece_len(uint64_t total, uint32_t piece)
{
    uint64_t at = (uint64_t)piece * RILL_UTMETA_PIECE;
    if (at >= total)
        return 0;
    return total - at < RILL_UTMETA_PIECE ? total - at : RILL_UTMETA_PIECE;
}

/* Skips a string's "len:" header at p[*i]; the caller checked it is a digit. */
static int skip_str(const uint8_t *p, size_t n, size_t *i, struct rill_error *err)
{
    size_t at = *i, len = 0, digits = 0;
    while (at < n && p[at] >= '0' && p[at] <= '9') {
        if (++digits > MAX_LEN_DIGITS)
            return rill__fail(err, RILL_ELIMIT, at, "string length too long");
        len = len * 10 + (size_t)(p[at] - '0');
        at++;
    }
    if (at >= n)
        return rill__fail(err, RILL_ETRUNCATED, at, "input ends in a string length");
    if (p[at] != ':')
        return rill__fail(err, RILL_ESYNTAX, at, "expected ':' after a string length");
    at++;
    if (len > n - at)
        return rill__fail(err, RILL_ETRUNCATED, n, "input ends inside a string");
    *i = at + len;
    return 0;
}

/* Finds where the leading dictionary of p[0..n) ends, without judging its
 * contents (rill_bdecode does that on exactly those bytes): rill's decoder
 * refuses trailing bytes, and a data message has the piece after it. */
static int dict_end(const uint8_t *p, size_t n, size_t *end, struct rill_error *err)
{
    if (n == 0)
        return rill__fail(err, RILL_ETRUNCATED, 0, "empty message");
    if (p[0] != 'd')
        return rill__fail(err, RILL_ESYNTAX, 0, "message is not a dictionary");
    uint32_t depth = 0;
    size_t i = 0;
    do {
        if (i >= n)
            return rill__fail(err, RILL_ETRUNCATED, n, "input ends inside the dictionary");
        uint8_t c = p[i];
        if (c == 'd' || c == 'l') {
            if (++depth > MAX_DEPTH)
                return rill__fail(err, RILL_ELIMIT, i, "nested too deep");
            i++;
        } else if (c == 'e') {
            depth--;
            i++;
        } else if (c == 'i') {
            const uint8_t *e = memchr(p + i, 'e', n - i);
            if (!e)
                return rill__fail(err, RILL_ETRUNCATED, n, "input ends inside an integer");
            i = (size_t)(e - p) + 1;
        } else if (c >= '0' && c <= '9') {
            int rc = skip_str(p, n, &i, err);
            if (rc)
                return rc;
        } else {
            return rill__fail(err, RILL_ESYNTAX, i, "unexpected byte in the dictionary");
        }
    } while (depth > 0);
    *end = i;
    return 0;
}

static int get_int(const struct rill_bdoc *doc, const char *key, int64_t *out, size_t off,
                   struct rill_error *err)
{
    const struct rill_bnode *v = rill_bdict_get(doc, rill_bdoc_root(doc), key);
    if (!v)
        return rill__fail(err, RILL_ESYNTAX, off, "missing key %s", key);
    if (v->type != RILL_BINT)
        return rill__fail(err, RILL_ESYNTAX, v->start, "%s is not an integer", key);
    *out = v->i;
    return 0;
}

/* Checks the fields of a request, data or reject once the dict is decoded. */
static int check_fields(const struct rill_bdoc *doc, const uint8_t *p, size_t n, size_t end,
                        struct rill_utmeta_msg *m, struct rill_error *err)
{
    int64_t piece = 0, total = 0;
    int rc = get_int(doc, "piece", &piece, 0, err);
    if (rc)
        return rc;
    if (piece < 0 || piece > (int64_t)RILL_UTMETA_MAX_INDEX)
        return rill__fail(err, RILL_ERANGE, 0, "piece %lld out of range", (long long)piece);
    m->piece = (uint32_t)piece;
    if (m->type != RILL_UTMETA_DATA) {
        if (end != n)
            return rill__fail(err, RILL_ETRAILING, end, "bytes after a request or reject");
        return 0;
    }
    if ((rc = get_int(doc, "total_size", &total, 0, err)) != 0)
        return rc;
    if (total <= 0)
        return rill__fail(err, RILL_ESYNTAX, 0, "total_size must be positive");
    m->total_size = (uint64_t)total;
    uint64_t want = piece_len(m->total_size, m->piece);
    if (want == 0)
        return rill__fail(err, RILL_ERANGE, 0, "piece %u past total_size", m->piece);
    if (n - end < want)
        return rill__fail(err, RILL_ETRUNCATED, n, "piece data shorter than %llu bytes",
                          (unsigned long long)want);
    if (n - end > want)
        return rill__fail(err, RILL_ETRAILING, end + (size_t)want, "piece data too long");
    m->data = p + end;
    m->data_len = (size_t)want;
    return 0;
}

int rill_utmeta_parse(const uint8_t *p, size_t n, struct rill_utmeta_msg *m, struct rill_error *err)
{
    memset(m, 0, sizeof *m);
    size_t end = 0;
    int rc = dict_end(p, n, &end, err);
    if (rc)
        return rc;
    struct rill_bdoc doc;
    const struct rill_blimits lim = {
        .max_depth = MAX_DEPTH, .max_nodes = MAX_NODES, .allow_unsorted = true};
    if ((rc = rill_bdecode(&doc, p, end, &lim, err)) != 0)
        return rc;
    int64_t type = 0;
    rc = get_int(&doc, "msg_type", &type, 0, err);
    if (rc == 0) {
        m->raw_type = type;
        m->type = type >= 0 && type <= 2 ? (int)type : RILL_UTMETA_UNKNOWN;
        if (m->type != RILL_UTMETA_UNKNOWN)
            rc = check_fields(&doc, p, n, end, m, err);
    }
    rill_bdoc_free(&doc);
    if (rc)
        memset(m, 0, sizeof *m);
    return rc;
}

static int build(struct rill_buf *out, int type, uint32_t piece, uint64_t total, const void *data,
                 size_t n)
{
    if (piece > RILL_UTMETA_MAX_INDEX)
        return RILL_EINVAL;
    if (type == RILL_UTMETA_DATA &&
        (total == 0 || total > INT64_MAX || n == 0 || piece_len(total, piece) != n))
        return RILL_EINVAL;
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "msg_type");
    rill_benc_int(&e, type);
    rill_benc_key(&e, "piece");
    rill_benc_int(&e, piece);
    if (type == RILL_UTMETA_DATA) {
        rill_benc_key(&e, "total_size");
        rill_benc_int(&e, (int64_t)total);
    }
    rill_benc_end(&e);
    int rc = rill_benc_finish(&e);
    if (rc == 0 && n > 0)
        rc = rill_buf_append(out, data, n);
    return rc ? RILL_ENOMEM : 0;
}

int rill_utmeta_build_request(struct rill_buf *out, uint32_t piece)
{
    return build(out, RILL_UTMETA_REQUEST, piece, 0, NULL, 0);
}

int rill_utmeta_build_reject(struct rill_buf *out, uint32_t piece)
{
    return build(out, RILL_UTMETA_REJECT, piece, 0, NULL, 0);
}

int rill_utmeta_build_data(struct rill_buf *out, uint32_t piece, uint64_t total_size,
                           const void *data, size_t n)
{
    return build(out, RILL_UTMETA_DATA, piece, total_size, data, n);
}

int rill_utmeta_serve(struct rill_buf *out, const uint8_t *info, size_t len, uint32_t piece)
{
    if (len == 0 || piece > RILL_UTMETA_MAX_INDEX)
        return RILL_EINVAL;
    uint64_t n = piece_len(len, piece);
    if (n == 0)
        return RILL_EINVAL;
    return build(out, RILL_UTMETA_DATA, piece, len, info + (size_t)piece * RILL_UTMETA_PIECE,
                 (size_t)n);
}

/* ------------------------------------------------------------ fetcher: peers */

static struct rill_utmeta_slot *slot_find(struct rill_utmeta_fetch *f, uint32_t key)
{
    for (size_t i = 0; i < RILL_UTMETA_MAX_PEERS; i++)
        if (f->peers[i].used && f->peers[i].key == key)
            return &f->peers[i];
    return NULL;
}

static struct rill_utmeta_slot *slot_get(struct rill_utmeta_fetch *f, uint32_t key)
{
    struct rill_utmeta_slot *s = slot_find(f, key);
    for (size_t i = 0; !s && i < RILL_UTMETA_MAX_PEERS; i++) {
        if (!f->peers[i].used) {
            s = &f->peers[i];
            memset(s, 0, sizeof *s);
            s->used = true;
            s->key = key;
        }
    }
    return s;
}

/* Forgets request j of slot s; the piece is free when nobody else has it. */
static void slot_drop_req(struct rill_utmeta_fetch *f, struct rill_utmeta_slot *s, size_t j)
{
    uint32_t piece = s->inflight[j];
    if (piece < f->pieces && f->requesters[piece] > 0 && --f->requesters[piece] == 0)
        f->req_ms[piece] = 0;
    s->n_inflight--;
    s->inflight[j] = s->inflight[s->n_inflight];
    s->sent_ms[j] = s->sent_ms[s->n_inflight];
}

static bool slot_drop_piece(struct rill_utmeta_fetch *f, struct rill_utmeta_slot *s, uint32_t piece)
{
    for (size_t j = 0; j < s->n_inflight; j++) {
        if (s->inflight[j] == piece) {
            slot_drop_req(f, s, j);
            return true;
        }
    }
    return false;
}

bool rill_utmeta_fetch_banned(const struct rill_utmeta_fetch *f, uint32_t peer)
{
    for (uint32_t i = 0; i < f->n_banned; i++)
        if (f->banned[i] == peer)
            return true;
    return false;
}

/* Bans `peer` and frees its requests. The oldest ban is forgotten when the
 * list is full: a liar that old was dropped by the caller long ago. */
static void ban(struct rill_utmeta_fetch *f, uint32_t peer)
{
    if (rill_utmeta_fetch_banned(f, peer))
        return;
    if (f->n_banned == RILL_UTMETA_MAX_BANNED) {
        memmove(f->banned, f->banned + 1, (RILL_UTMETA_MAX_BANNED - 1) * sizeof f->banned[0]);
        f->n_banned--;
        if (f->n_reported > 0)
            f->n_reported--;
    }
    f->banned[f->n_banned++] = peer;
    rill_utmeta_fetch_peer_gone(f, peer);
}

bool rill_utmeta_fetch_pop_liar(struct rill_utmeta_fetch *f, uint32_t *peer)
{
    if (f->n_reported >= f->n_banned)
        return false;
    *peer = f->banned[f->n_reported++];
    return true;
}

/* ------------------------------------------------------ fetcher: lifecycle */

void rill_utmeta_fetch_free(struct rill_utmeta_fetch *f)
{
    free(f->buf);
    free(f->state);
    free(f->requesters);
    free(f->req_ms);
    free(f->sender);
    free(f->n_rec);
    free(f->rec);
    memset(f, 0, sizeof *f);
}

int rill_utmeta_fetch_init(struct rill_utmeta_fetch *f, const uint8_t info_hash[RILL_SHA1_LEN],
                           uint64_t size, uint64_t max_size)
{
    memset(f, 0, sizeof *f);
    if (max_size == 0)
        max_size = RILL_WIRE_EXT_METADATA_MAX;
    if (size == 0 || size > max_size || size > SIZE_MAX / 2)
        return RILL_ELIMIT;
    uint32_t n = rill_utmeta_piece_count(size);
    memcpy(f->info_hash, info_hash, RILL_SHA1_LEN);
    f->size = size;
    f->pieces = n;
    f->dup_after_ms = RILL_UTMETA_DUP_AFTER_MS;
    f->buf = malloc((size_t)size);
    f->state = calloc(n, 1);
    f->requesters = calloc(n, 1);
    f->req_ms = calloc(n, sizeof *f->req_ms);
    f->sender = calloc(n, sizeof *f->sender);
    f->n_rec = calloc(n, 1);
    f->rec = calloc((size_t)n * RILL_UTMETA_RECORDS, sizeof *f->rec);
    if (!f->buf || !f->state || !f->requesters || !f->req_ms || !f->sender || !f->n_rec ||
        !f->rec) {
        rill_utmeta_fetch_free(f);
        return RILL_ENOMEM;
    }
    return 0;
}

const uint8_t *rill_utmeta_fetch_result(const struct rill_utmeta_fetch *f, size_t *len)
{
    if (!f->done) {
        *len = 0;
        return NULL;
    }
    *len = (size_t)f->size;
    return f->buf;
}

/* ------------------------------------------------------- fetcher: picking */

static bool recorded_by(const struct rill_utmeta_fetch *f, uint32_t piece, uint32_t peer)
{
    const struct rill_utmeta_rec *r = f->rec + (size_t)piece * RILL_UTMETA_RECORDS;
    for (uint8_t i = 0; i < f->n_rec[piece]; i++)
        if (r[i].peer == peer)
            return true;
    return false;
}

/* True if a live peer other than `s`, not backing off, never sent a failed
 * version of `piece`: it should get the piece before `s` does. */
static bool fresh_other(const struct rill_utmeta_fetch *f, const struct rill_utmeta_slot *s,
                        uint32_t piece, uint64_t now)
{
    for (size_t i = 0; i < RILL_UTMETA_MAX_PEERS; i++) {
        const struct rill_utmeta_slot *o = &f->peers[i];
        if (o->used && o != s && o->backoff_until <= now && !recorded_by(f, piece, o->key))
            return true;
    }
    return false;
}

static bool slot_has(const struct rill_utmeta_slot *s, uint32_t piece)
{
    for (size_t j = 0; j < s->n_inflight; j++)
        if (s->inflight[j] == piece)
            return true;
    return false;
}

/* An unrequested missing piece for `s`: first one it never sent a failed
 * version of, else one nobody fresh could take. *any says whether an
 * unrequested missing piece exists at all. */
static bool pick_free(const struct rill_utmeta_fetch *f, const struct rill_utmeta_slot *s,
                      uint64_t now, uint32_t *out, bool *any)
{
    *any = false;
    uint32_t fallback = UINT32_MAX;
    for (uint32_t i = 0; i < f->pieces; i++) {
        if (f->state[i] != P_MISSING || f->requesters[i] != 0)
            continue;
        *any = true;
        if (!recorded_by(f, i, s->key)) {
            *out = i;
            return true;
        }
        if (fallback == UINT32_MAX && !fresh_other(f, s, i, now))
            fallback = i;
    }
    *out = fallback;
    return fallback != UINT32_MAX;
}

/* A piece in flight elsewhere for long enough, fewest requesters first,
 * then the oldest request. */
static bool pick_dup(const struct rill_utmeta_fetch *f, const struct rill_utmeta_slot *s,
                     uint64_t now, uint32_t *out)
{
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < f->pieces; i++) {
        if (f->state[i] != P_MISSING || f->requesters[i] == UINT8_MAX || slot_has(s, i))
            continue;
        if (now < f->req_ms[i] || now - f->req_ms[i] < f->dup_after_ms)
            continue;
        if (best == UINT32_MAX || f->requesters[i] < f->requesters[best] ||
            (f->requesters[i] == f->requesters[best] && f->req_ms[i] < f->req_ms[best]))
            best = i;
    }
    *out = best;
    return best != UINT32_MAX;
}

bool rill_utmeta_fetch_next(struct rill_utmeta_fetch *f, uint32_t peer, uint64_t now_ms,
                            uint32_t *piece)
{
    if (f->done || !f->buf || rill_utmeta_fetch_banned(f, peer))
        return false;
    struct rill_utmeta_slot *s = slot_get(f, peer);
    if (!s || s->backoff_until > now_ms || s->n_inflight >= RILL_UTMETA_PEER_INFLIGHT)
        return false;
    uint32_t p;
    bool any;
    if (!pick_free(f, s, now_ms, &p, &any) && (any || !pick_dup(f, s, now_ms, &p)))
        return false;
    if (f->requesters[p]++ == 0)
        f->req_ms[p] = now_ms;
    s->inflight[s->n_inflight] = p;
    s->sent_ms[s->n_inflight] = now_ms;
    s->n_inflight++;
    *piece = p;
    return true;
}

/* ------------------------------------------------------ fetcher: checking */

/* Keeps the SHA-1 and sender of each piece of a failed round, so that once
 * a round verifies, each earlier sender can be judged piece by piece. The
 * digests stand in for the bytes: comparing them is as good and costs 24
 * bytes a piece instead of 16 KiB. A full list forgets its oldest entry. */
static void record_round(struct rill_utmeta_fetch *f)
{
    for (uint32_t i = 0; i < f->pieces; i++) {
        struct rill_utmeta_rec r;
        r.peer = f->sender[i];
        rill_sha1(f->buf + (size_t)i * RILL_UTMETA_PIECE, (size_t)piece_len(f->size, i), r.sha);
        struct rill_utmeta_rec *list = f->rec + (size_t)i * RILL_UTMETA_RECORDS;
        bool seen = false;
        for (uint8_t k = 0; k < f->n_rec[i] && !seen; k++)
            seen = list[k].peer == r.peer && memcmp(list[k].sha, r.sha, RILL_SHA1_LEN) == 0;
        if (seen)
            continue;
        if (f->n_rec[i] == RILL_UTMETA_RECORDS) {
            memmove(list, list + 1, (RILL_UTMETA_RECORDS - 1) * sizeof *list);
            f->n_rec[i]--;
        }
        list[f->n_rec[i]++] = r;
    }
}

/* After a verified round: every earlier sender whose piece differs lied. */
static void judge_records(struct rill_utmeta_fetch *f)
{
    for (uint32_t i = 0; i < f->pieces; i++) {
        if (f->n_rec[i] == 0)
            continue;
        uint8_t good[RILL_SHA1_LEN];
        rill_sha1(f->buf + (size_t)i * RILL_UTMETA_PIECE, (size_t)piece_len(f->size, i), good);
        const struct rill_utmeta_rec *list = f->rec + (size_t)i * RILL_UTMETA_RECORDS;
        for (uint8_t k = 0; k < f->n_rec[i]; k++)
            if (memcmp(list[k].sha, good, RILL_SHA1_LEN) != 0)
                ban(f, list[k].peer);
    }
}

/* All pieces are in: verify, or work out what to do about the failure. */
static int finish_round(struct rill_utmeta_fetch *f)
{
    uint8_t h[RILL_SHA1_LEN];
    rill_sha1(f->buf, (size_t)f->size, h);
    if (memcmp(h, f->info_hash, RILL_SHA1_LEN) == 0) {
        f->done = true;
        judge_records(f);
        for (size_t i = 0; i < RILL_UTMETA_MAX_PEERS; i++)
            while (f->peers[i].used && f->peers[i].n_inflight > 0)
                slot_drop_req(f, &f->peers[i], 0);
        return RILL_UTMETA_DONE;
    }
    f->rounds_failed++;
    bool one_sender = true;
    for (uint32_t i = 1; i < f->pieces; i++)
        one_sender = one_sender && f->sender[i] == f->sender[0];
    if (one_sender)
        ban(f, f->sender[0]); /* nobody else to blame; its records are moot */
    else
        record_round(f);
    memset(f->state, P_MISSING, f->pieces);
    f->have = 0;
    return RILL_UTMETA_FAILED;
}

int rill_utmeta_fetch_data(struct rill_utmeta_fetch *f, uint32_t peer, uint32_t piece,
                           const uint8_t *bytes, size_t len, uint64_t now_ms)
{
    (void)now_ms;
    if (rill_utmeta_fetch_banned(f, peer))
        return RILL_EINVAL;
    if (!f->buf || piece >= f->pieces)
        return RILL_ERANGE;
    if (len != piece_len(f->size, piece))
        return RILL_ESYNTAX;
    struct rill_utmeta_slot *s = slot_find(f, peer);
    if (s)
        slot_drop_piece(f, s, piece);
    if (f->done || f->state[piece] == P_HAVE)
        return RILL_UTMETA_IGNORED;
    /* Whoever else still has it in flight will answer too late to matter. */
    for (size_t i = 0; i < RILL_UTMETA_MAX_PEERS && f->requesters[piece] > 0; i++)
        if (f->peers[i].used)
            slot_drop_piece(f, &f->peers[i], piece);
    memcpy(f->buf + (size_t)piece * RILL_UTMETA_PIECE, bytes, len);
    f->state[piece] = P_HAVE;
    f->sender[piece] = peer;
    if (++f->have < f->pieces)
        return RILL_UTMETA_STORED;
    return finish_round(f);
}

int rill_utmeta_fetch_msg(struct rill_utmeta_fetch *f, uint32_t peer,
                          const struct rill_utmeta_msg *m, uint64_t now_ms)
{
    switch (m->type) {
    case RILL_UTMETA_DATA:
        if (m->total_size != f->size)
            return RILL_ESYNTAX;
        return rill_utmeta_fetch_data(f, peer, m->piece, m->data, m->data_len, now_ms);
    case RILL_UTMETA_REJECT:
        rill_utmeta_fetch_reject(f, peer, m->piece, now_ms);
        return RILL_UTMETA_IGNORED;
    case RILL_UTMETA_REQUEST: return RILL_EINVAL;
    default: return RILL_UTMETA_IGNORED;
    }
}

void rill_utmeta_fetch_reject(struct rill_utmeta_fetch *f, uint32_t peer, uint32_t piece,
                              uint64_t now_ms)
{
    struct rill_utmeta_slot *s = slot_find(f, peer);
    if (!s || !slot_drop_piece(f, s, piece))
        return; /* an answer to nothing we asked: no reason to back off */
    s->backoff_until = now_ms + RILL_UTMETA_REJECT_BACKOFF_MS;
}

void rill_utmeta_fetch_peer_gone(struct rill_utmeta_fetch *f, uint32_t peer)
{
    struct rill_utmeta_slot *s = slot_find(f, peer);
    if (!s)
        return;
    while (s->n_inflight > 0)
        slot_drop_req(f, s, 0);
    s->used = false;
}

uint32_t rill_utmeta_fetch_timeouts(struct rill_utmeta_fetch *f, uint64_t now_ms,
                                    uint64_t timeout_ms)
{
    uint32_t freed = 0;
    for (size_t i = 0; i < RILL_UTMETA_MAX_PEERS; i++) {
        struct rill_utmeta_slot *s = &f->peers[i];
        for (size_t j = 0; s->used && j < s->n_inflight;) {
            if (now_ms >= s->sent_ms[j] && now_ms - s->sent_ms[j] >= timeout_ms) {
                slot_drop_req(f, s, j);
                freed++;
            } else {
                j++;
            }
        }
    }
    return freed;
}
