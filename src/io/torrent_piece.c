/* Pieces in and out: blocks gather in a piece buffer, a worker hashes the
 * whole piece and writes it only if it is good. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "io/announcer.h"
#include "io/conn.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "io/workers.h"
#include "util/util.h"

#define BLOCK RILL_PICKER_BLOCK

bool rill__torrent_seeding(const struct rill_torrent *t)
{
    return t->state == RILL_T_SEEDING;
}

/* Verified-piece writes queued for workers. 32 MiB gave no speed over 8 on
 * loopback (bench/peer) but twice the leecher's peak RSS; 4 was slower. */
#define BACKLOG_BYTES (8u << 20)

bool rill__torrent_backlogged(const struct rill_torrent *t)
{
    uint32_t limit = BACKLOG_BYTES / t->mi->piece_length;
    return t->hashing >= (limit > 4 ? limit : 4);
}

void rill__piece_buf_free(struct rill_torrent *t, uint32_t piece)
{
    struct rill__piece_buf *b = t->bufs[piece];
    if (!b || b->hashing)
        return; /* a hashing buffer belongs to its job until it is done */
    free(b->data);
    free(b->who);
    free(b);
    t->bufs[piece] = NULL;
}

/* ---------------------------------------------------------- rate limits */

/* Shares what the upload buckets hold among the peers waiting for it: one
 * block each per round, starting one peer further at every wake, until no
 * one can send. Serving each peer in full, in list order, let the first
 * peers take every token and starved the rest (a rate-limited seed fed one
 * of its unchoked peers and not the others). Peers are only closed, never
 * freed, while serving, so the list stays walkable. */
static void serve_in_turn(struct rill_torrent *t, unsigned active)
{
    if (active == 0)
        return;
    unsigned start = t->serve_turn++ % active;
    for (unsigned rounds = 0; rounds < 1u << 16; rounds++) {
        unsigned sent = 0;
        for (int pass = 0; pass < 2; pass++) { /* peers [start, end), then [0, start) */
            unsigned i = 0;
            for (struct rill__peer *p = t->peers; p; p = p->next) {
                if (p->phase != RILL__ACTIVE)
                    continue;
                if ((i++ >= start) == (pass == 0))
                    sent += rill__torrent_serve_upto(t, p, 1);
            }
        }
        if (sent == 0)
            return;
    }
}

static void wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill_torrent *t = arg;
    rill__tick_now(t->s);
    t->wake_armed = false;
    unsigned n = 0;
    for (struct rill__peer *p = t->peers; p; p = p->next) {
        if (p->read_blocked)
            rill__peer_pause_reading(p, false);
        n += p->phase == RILL__ACTIVE;
    }
    serve_in_turn(t, n);
}

void rill__torrent_wake_at(struct rill_torrent *t, uint64_t when_ms)
{
    if (!t->wake)
        t->wake = event_new(t->s->base, -1, 0, wake, t);
    if (!t->wake || t->wake_armed)
        return;
    uint64_t delay = when_ms > t->s->now ? when_ms - t->s->now : 1;
    struct timeval tv = {(time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000};
    event_add(t->wake, &tv);
    t->wake_armed = true;
}

/* Charges received payload to the download limits; over budget, the peer
 * stops reading until the buckets refill. */
static void charge_download(struct rill_torrent *t, struct rill__peer *p, uint32_t n)
{
    struct rill_session *s = t->s;
    rill_ratelimit_consume(&s->down_limit, n, s->now);
    rill_ratelimit_consume(&t->down_limit, n, s->now);
    uint64_t at = rill_ratelimit_next_time2(&s->down_limit, &t->down_limit, 1, s->now);
    if (at > s->now) {
        rill__peer_pause_reading(p, true);
        rill__torrent_wake_at(t, at);
    }
}

/* ------------------------------------------------------- hash and write */

struct piece_job {
    struct rill_work work;
    struct rill_torrent *t;
    struct rill__piece_buf *buf;
    bool good;
    bool block_hashes_wanted;       /* the piece failed before: evidence needed */
    uint8_t (*block_hashes)[RILL_SHA1_LEN];
    int write_rc;
};

static void hash_blocks(struct piece_job *j)
{
    const struct rill__piece_buf *b = j->buf;
    j->block_hashes = malloc((size_t)b->blocks * RILL_SHA1_LEN);
    for (uint32_t i = 0; j->block_hashes && i < b->blocks; i++) {
        uint32_t len = b->size - i * BLOCK < BLOCK ? b->size - i * BLOCK : BLOCK;
        rill_sha1(b->data + (size_t)i * BLOCK, len, j->block_hashes[i]);
    }
}

static void piece_work(struct rill_work *w, unsigned worker)
{
    struct piece_job *j = (struct piece_job *)w;
    const struct rill_metainfo *mi = j->t->mi;
    uint8_t digest[RILL_SHA1_LEN];
    rill_sha1(j->buf->data, j->buf->size, digest);
    j->good = memcmp(digest, mi->piece_hashes + (size_t)j->buf->piece * RILL_SHA1_LEN,
                     RILL_SHA1_LEN) == 0;
    if (!j->good || j->block_hashes_wanted)
        hash_blocks(j);
    if (j->good) {
        pthread_mutex_lock(&j->t->write_lock);
        j->write_rc = rill_storage_write(j->t->storage[worker], j->buf->piece, 0, j->buf->data,
                                         j->buf->size);
        pthread_mutex_unlock(&j->t->write_lock);
    }
}

static void broadcast_have(struct rill_torrent *t, uint32_t piece)
{
    struct rill_buf b;
    rill_buf_init(&b, 64);
    rill_wire_build_index(&b, RILL_WIRE_HAVE, piece);
    for (struct rill__peer *p = t->peers, *next; p; p = next) {
        next = p->next;
        if (p->phase != RILL__ACTIVE)
            continue;
        rill__peer_send(p, &b);
        rill__peer_update_interest(t, p);
    }
    rill_buf_free(&b);
}

static void on_complete(struct rill_torrent *t)
{
    bool all = t->have.count == t->have.size;
    t->state = RILL_T_SEEDING;
    t->completed_ms = t->s->now;
    rill__log(t->s, 0, "complete", "%s: %s complete and verified", t->mi->name,
              all ? "download" : "wanted files");
    rill__torrent_save_resume(t);
    if (all && t->announcer)
        rill__announcer_completed(t->announcer);
    for (struct rill__peer *p = t->peers, *next; p; p = next) {
        next = p->next;
        if (all && rill__peer_is_seed(p))
            rill__peer_close(p, "both complete");
        else if (rill__torrent_idle_seed(t))
            rill__peer_close(p, "complete and uploading nothing"); /* frees their slots */
        else if (p->phase == RILL__ACTIVE)
            rill__peer_update_interest(t, p);
    }
    t->next_choke_ms = 0; /* seeding changes the choker's policy */
    if (!t->complete_fired) {
        t->complete_fired = true;
        if (t->p.on_complete)
            t->p.on_complete(t->p.ctx, t);
    }
}

static void piece_failed(struct rill_torrent *t, struct piece_job *j)
{
    const struct rill__piece_buf *b = j->buf;
    rill_picker_failed(t->picker, b->piece, NULL, 0);
    t->hash_failures++;
    t->wasted += b->size;
    rill__log(t->s, 1, "hash_failed", "%s: piece %u failed its hash check", t->mi->name,
              b->piece);
    rill__suspect_record(t, b, (const uint8_t (*)[RILL_SHA1_LEN])j->block_hashes);
}

static void piece_done(struct rill_work *w, bool cancelled)
{
    struct piece_job *j = (struct piece_job *)w;
    struct rill_torrent *t = j->t;
    uint32_t piece = j->buf->piece;
    rill__tick_now(t->s);
    t->jobs--;
    bool was_backlogged = rill__torrent_backlogged(t);
    t->hashing--;
    j->buf->hashing = false;
    if (!cancelled && !t->stopping) {
        if (!j->good) {
            piece_failed(t, j);
        } else if (j->write_rc) {
            rill__torrent_fail(t, j->write_rc, "cannot write a verified piece");
        } else {
            if (j->block_hashes_wanted)
                rill__suspect_resolve(t, piece, (const uint8_t (*)[RILL_SHA1_LEN])j->block_hashes);
            rill_bitfield_set(&t->have, piece, true);
            rill_picker_verified(t->picker, piece);
            t->resume_dirty = true;
            broadcast_have(t, piece);
            /* The moment a newcomer has something to trade (the lab times it). */
            if (t->have.count == 1 && t->state == RILL_T_DOWNLOADING)
                rill__log(t->s, 0, "first_piece", "%s: first piece verified (%" PRIu32 ")",
                          t->mi->name, piece);
            if (t->state == RILL_T_DOWNLOADING && rill_picker_wanted_complete(t->picker))
                on_complete(t);
        }
    }
    rill__piece_buf_free(t, piece);
    free(j->block_hashes);
    free(j);
    if (was_backlogged && !rill__torrent_backlogged(t) && !t->stopping)
        for (struct rill__peer *p = t->peers; p; p = p->next)
            if (p->phase == RILL__ACTIVE)
                rill__peer_request_more(t, p);
    rill__torrent_maybe_free(t);
}

static struct rill__piece_buf *piece_buf(struct rill_torrent *t, uint32_t piece)
{
    if (t->bufs[piece])
        return t->bufs[piece];
    struct rill__piece_buf *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->piece = piece;
    b->size = rill_piece_size(t->mi, piece);
    b->blocks = (b->size + BLOCK - 1) / BLOCK;
    b->data = malloc(b->size);
    b->who = malloc(b->blocks);
    if (!b->data || !b->who) {
        free(b->data);
        free(b->who);
        free(b);
        return NULL;
    }
    t->bufs[piece] = b;
    return b;
}

/* The index of `p` among the piece's senders, added with its address. */
static uint8_t sender_of(struct rill__piece_buf *b, const struct rill__peer *p)
{
    for (uint8_t i = 0; i < b->nsenders; i++)
        if (b->senders[i].id == p->pick.id)
            return i;
    if (b->nsenders == RILL__MAX_SENDERS)
        return RILL__SENDER_UNKNOWN;
    struct rill__sender *snd = &b->senders[b->nsenders];
    snd->id = p->pick.id;
    memcpy(&snd->addr, &p->addr, p->addrlen);
    snd->addrlen = p->addrlen;
    return b->nsenders++;
}

static void hash_piece(struct rill_torrent *t, struct rill__piece_buf *b)
{
    struct piece_job *j = calloc(1, sizeof *j);
    if (!j) {
        rill__torrent_fail(t, RILL_ENOMEM, "cannot hash a piece");
        return;
    }
    j->t = t;
    j->buf = b;
    j->block_hashes_wanted = rill__piece_suspected(t, b->piece);
    b->hashing = true;
    j->work = (struct rill_work){.work = piece_work, .done = piece_done};
    t->jobs++;
    t->hashing++;
    rill_workers_submit(t->s->workers, &j->work);
}

void rill__torrent_got_block(struct rill_torrent *t, struct rill__peer *p,
                             const struct rill_wire_msg *m)
{
    uint32_t len = (uint32_t)m->data_len;
    charge_download(t, p, len);
    if (!rill_peer_got_block(&p->core, m->index, m->begin, len, t->s->now, NULL)) {
        t->wasted += len; /* unrequested or cancelled: dropped and counted */
        return;
    }
    rill_rate_add(&p->down, len, t->s->now);
    rill_rate_add(&t->down, len, t->s->now);
    t->downloaded += len;
    uint32_t cancel[RILL_PICKER_MAX_REQUESTERS];
    size_t ncancel = 0;
    int got = rill_picker_received(t->picker, p->pick.id, m->index, m->begin, cancel,
                                   RILL_ARRAY_LEN(cancel), &ncancel);
    for (size_t i = 0; i < ncancel; i++) {
        struct rill__peer *o = rill__torrent_find_peer(t, cancel[i]);
        if (o && rill_peer_forget_request(&o->core, m->index, m->begin, len))
            rill__peer_send_block_msg(o, RILL_WIRE_CANCEL, m->index, m->begin, len);
    }
    if (got == RILL_PICKER_GOT_DUP || got < 0) {
        t->wasted += len;
    } else {
        struct rill__piece_buf *b = piece_buf(t, m->index);
        if (!b || b->hashing) {
            rill__torrent_fail(t, RILL_ENOMEM, "no memory for a piece");
            return;
        }
        memcpy(b->data + m->begin, m->data, len);
        b->who[m->begin / BLOCK] = sender_of(b, p);
        if (got == RILL_PICKER_GOT_PIECE)
            hash_piece(t, b);
    }
    rill__peer_request_more(t, p);
}

