/* The simulator's glue to rill's cores, mirroring the client's shell
 * (src/io/torrent_peer.c, torrent_piece.c, torrent_choke.c, torrent.c's
 * tick): registering a neighbour's pieces in the picker, interest, requests
 * in pipeline-sized batches, allowed-fast pieces, blocks arriving, pieces
 * verified and announced, and choker decisions carried out.
 *
 * Keep it in step with the shell: when the client changes when it asks for
 * blocks (today: on unchoke, after each block from that peer, on a `have`
 * of a wanted piece, on allowed-fast, and every 1 s tick for connections
 * with nothing requested), the simulator must ask at the same moments, or
 * its D drifts from `rill swarm`'s (those triggers moved D by a fifth). */
#include <stdlib.h>
#include <string.h>

#include "core/peer.h"
#include "sim_internal.h"

#define BLOCK RILL_PICKER_BLOCK
#define MAX_REQUEST_BATCH 256u /* the client's batch limit */

/* Uploader and downloader of direction k. */
static struct rill__sim_peer *upl(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    return &s->peers[s->conns[conn].p[k]];
}

static struct rill__sim_peer *dnl(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    return &s->peers[s->conns[conn].p[1 - k]];
}

uint32_t rill__sim_block_len(const struct rill__sim *s, uint32_t block)
{
    uint32_t piece = block / s->bpp, off = (block % s->bpp) * BLOCK;
    uint32_t size = piece + 1 == s->npieces ? s->last_size : s->piece_size;
    return size - off < BLOCK ? size - off : BLOCK;
}

int rill__sim_picker_start(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    uint64_t total = s->c->file_size;
    int rc = rill_picker_init(&p->picker, s->npieces, s->piece_size, total, &s->rng, &s->po);
    if (rc == 0 && p->have.count)
        rc = rill_picker_load_have(&p->picker, &p->have);
    if (rc) {
        rill_picker_free(&p->picker);
        return rc;
    }
    p->picking = true;
    return 0;
}

/* --------------------------------------------------------------- queues */

static int queue_push(struct rill__sim_dir *d, uint32_t block)
{
    if (d->qlen == d->qcap) {
        uint32_t cap = d->qcap ? d->qcap * 2 : 32;
        uint32_t *q = malloc((size_t)cap * sizeof *q);
        if (!q)
            return RILL_ENOMEM;
        for (uint32_t i = 0; i < d->qlen; i++)
            q[i] = d->q[(d->qhead + i) % d->qcap];
        free(d->q);
        d->q = q;
        d->qcap = cap;
        d->qhead = 0;
    }
    d->q[(d->qhead + d->qlen++) % d->qcap] = block;
    return 0;
}

/* Removes `block` from the queue if it is there (a cancel). */
static void queue_remove(struct rill__sim_dir *d, uint32_t block)
{
    for (uint32_t i = 0; i < d->qlen; i++) {
        if (d->q[(d->qhead + i) % d->qcap] != block)
            continue;
        if (i == 0)
            d->progress = 0; /* the block under way is dropped */
        for (uint32_t j = i; j + 1 < d->qlen; j++)
            d->q[(d->qhead + j) % d->qcap] = d->q[(d->qhead + j + 1) % d->qcap];
        d->qlen--;
        return;
    }
}

void rill__sim_drop_queue(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    struct rill__sim_peer *down = dnl(s, conn, k);
    uint32_t from = s->conns[conn].p[k];
    for (uint32_t i = 0; down->picking && i < d->qlen; i++) {
        uint32_t b = d->q[(d->qhead + i) % d->qcap];
        rill_picker_release(&down->picker, from, b / s->bpp, (b % s->bpp) * BLOCK);
    }
    d->qlen = 0;
    d->qhead = 0;
    d->progress = 0;
}

/* ------------------------------------------------- availability, interest */

void rill__sim_register(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    struct rill__sim_peer *up = upl(s, conn, k), *down = dnl(s, conn, k);
    rill_picker_peer_init(&d->view, s->conns[conn].p[k], &up->have, up->complete);
    if (!down->picking)
        return;
    if (up->complete)
        rill_picker_peer_have_all(&down->picker);
    else if (up->have.count)
        rill_picker_peer_bitfield(&down->picker, &up->have);
    d->registered = true;
}

void rill__sim_unregister(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    struct rill__sim_peer *up = upl(s, conn, k), *down = dnl(s, conn, k);
    rill__sim_drop_queue(s, conn, k);
    if (d->registered && down->picking) {
        if (d->view.all)
            rill_picker_peer_lost_all(&down->picker);
        else if (up->have.count)
            rill_picker_peer_lost(&down->picker, &up->have);
    }
    d->registered = false;
}

void rill__sim_want_rechoke(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    if (!p->uploads || p->choke_pending || p->state != SIM_ACTIVE)
        return;
    p->choke_pending = true;
    s->pending[s->npending++] = peer;
}

/* The downloader of direction k decides whether it is interested in the
 * uploader; the uploader's choker recomputes when that contradicts its
 * choke state, as the client does on an (un)interested message. */
void rill__sim_update_interest(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    struct rill__sim_peer *down = dnl(s, conn, k);
    bool want = down->picking && !down->complete && d->registered &&
                rill_picker_interesting(&down->picker, &d->view);
    if (want == d->interested)
        return;
    d->interested = want;
    if (want)
        d->interested_at_ms = s->now_ms;
    if (want != d->unchoked)
        rill__sim_want_rechoke(s, s->conns[conn].p[k]);
}

/* ------------------------------------------------------------- requests */

/* The rate meter of a direction (the uploader's up rate, the downloader's
 * down rate). Reading it sums the meter's 20 buckets and it is read for
 * every delivery and every choker decision, so a reading is kept for 250 ms:
 * between the meter's 1 s buckets a 20 s window moves by a fraction of a
 * block a second, far below what a choker or a pipeline can tell apart. */
static uint64_t dir_rate(const struct rill__sim *s, struct rill__sim_dir *d)
{
    if (d->rate_ms == 0 || s->now_ms >= d->rate_ms + 250 || s->now_ms + 250 < d->rate_ms) {
        d->rate_read = rill_rate_get(&d->rate, s->now_ms);
        d->rate_ms = s->now_ms ? s->now_ms : 1;
    }
    return d->rate_read;
}

/* The client's pipeline: rill_peer_depth for the rate measured from the
 * peer, which reads only the peer's reqq (rill advertises
 * RILL_PEER_MAX_THEIR_QUEUE). */
static uint32_t pipeline_depth(struct rill__sim *s, struct rill__sim_dir *d)
{
    static const struct rill_peer_core rill_peer = {.their_reqq = RILL_PEER_MAX_THEIR_QUEUE};
    return rill_peer_depth(&rill_peer, dir_rate(s, d));
}

/* The allowed-fast pieces the downloader may still ask for while choked. */
static size_t fast_pieces(const struct rill__sim *s, uint32_t down, const struct rill__sim_dir *d,
                          uint32_t *out)
{
    const uint32_t *set = s->fast + (size_t)down * s->nfast;
    size_t n = 0;
    for (uint32_t j = 0; j < s->nfast; j++)
        if (d->fast_mask & (1u << j))
            out[n++] = set[j];
    return n;
}

/* The client's rill__peer_request_more: a pipeline as deep as the peer's
 * rate warrants, topped up in batches once a quarter of it is free, or at
 * once when it is empty; while choked, only allowed-fast pieces. */
void rill__sim_request_more(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    struct rill__sim_peer *down = dnl(s, conn, k);
    if (!d->interested || !down->picking || down->complete || (!d->unchoked && !d->fast_mask))
        return;
    uint32_t depth = pipeline_depth(s, d);
    uint32_t room = depth > d->qlen ? depth - d->qlen : 0;
    if (room > MAX_REQUEST_BATCH)
        room = MAX_REQUEST_BATCH;
    if (room == 0 || (d->qlen > 0 && room < depth / 4))
        return;
    struct rill_picker_block blocks[MAX_REQUEST_BATCH];
    int n;
    if (d->unchoked) {
        n = rill_picker_pick(&down->picker, &d->view, blocks, room);
    } else {
        uint32_t pieces[SIM_MAX_FAST];
        size_t np = fast_pieces(s, s->conns[conn].p[1 - k], d, pieces);
        n = rill_picker_pick_from(&down->picker, &d->view, pieces, np, blocks, room);
    }
    for (int i = 0; i < n; i++) {
        uint32_t b = blocks[i].piece * s->bpp + blocks[i].offset / BLOCK;
        if (queue_push(d, b)) {
            rill_picker_release(&down->picker, d->view.id, blocks[i].piece, blocks[i].offset);
            s->err = RILL_ENOMEM;
        }
    }
    if (n > 0)
        rill__sim_flow_touch(s, conn, k);
}

/* The client's send_have_state and on_allowed_fast: an uploader that has
 * something grants the allowed-fast set, and says so for the pieces of it
 * it has; the downloader keeps those it wants. On loopback every peer has
 * the same address, hence one set for every pair. */
void rill__sim_grant_fast(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    struct rill__sim_peer *up = upl(s, conn, k), *down = dnl(s, conn, k);
    const uint32_t *set = s->fast + (size_t)s->conns[conn].p[1 - k] * s->nfast;
    d->fast_mask = 0;
    if (!up->uploads || up->have.count == 0 || !down->picking)
        return;
    for (uint32_t j = 0; j < s->nfast; j++)
        if (rill_bitfield_get(&up->have, set[j]) && rill_picker_wants(&down->picker, set[j]))
            d->fast_mask |= (uint16_t)(1u << j);
}

/* The client's tick: a connection with nothing requested asks again, as
 * blocks released by chokes and rejects may be free for it now. */
void rill__sim_top_up_idle(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    for (uint32_t i = 0; p->picking && i < p->nconns; i++) {
        uint32_t conn = p->conns[i], k = s->conns[conn].p[0] == peer ? 1 : 0;
        if (s->conns[conn].d[k].qlen == 0)
            rill__sim_request_more(s, conn, k);
    }
}

/* --------------------------------------------------------------- choking */

static void set_choked(struct rill__sim *s, uint32_t conn, uint32_t k, bool choke)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    d->unchoked = !choke;
    if (choke)
        rill__sim_drop_queue(s, conn, k); /* rejected, as with the fast extension */
    else
        rill__sim_request_more(s, conn, k);
}

static void fill_choker_peer(struct rill__sim *s, uint32_t peer, uint32_t i,
                             struct rill_choker_peer *v)
{
    uint32_t conn = s->peers[peer].conns[i];
    struct rill__sim_conn *c = &s->conns[conn];
    uint32_t k = c->p[0] == peer ? 0 : 1; /* our upload direction */
    struct rill__sim_dir *out = &c->d[k], *in = &c->d[1 - k];
    *v = (struct rill_choker_peer){
        .id = i,
        .down_rate = dir_rate(s, in),
        .up_rate = dir_rate(s, out),
        .uploaded = out->sent,
        .connected_at_ms = c->connected_ms,
        .interested_at_ms = in->interested_at_ms,
        .last_block_ms = in->last_block_ms,
        .peer_interested = out->interested,
        .am_interested = in->interested,
        .is_seed = s->peers[c->p[1 - k]].complete,
        .unchoked = out->unchoked,
        .unchokes_us = in->unchoked,
        .st = out->st,
    };
}

/* The client's rill__torrent_rechoke: the choker decides over every
 * connection, the differences are carried out, the next decision is armed. */
void rill__sim_rechoke(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    if (!p->uploads || p->state != SIM_ACTIVE)
        return;
    uint32_t n = p->nconns;
    for (uint32_t i = 0; i < n; i++)
        fill_choker_peer(s, peer, i, &s->cp[i]);
    uint64_t next = s->now_ms + 10000;
    s->st.decisions++;
    int rc = rill_choker_decide(&p->choker, s->cp, n, s->now_ms, p->complete, &next);
    if (rc) {
        s->err = rc;
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t conn = p->conns[i];
        uint32_t k = s->conns[conn].p[0] == peer ? 0 : 1;
        s->conns[conn].d[k].st = s->cp[i].st;
        if (s->cp[i].unchoke != s->cp[i].unchoked)
            set_choked(s, conn, k, !s->cp[i].unchoke);
    }
    if (next != p->choke_ms) {
        p->choke_ms = next;
        p->gen[SIM_EV_CHOKE]++;
        rill__sim_push(s, next, SIM_EV_CHOKE, peer);
    }
}

void rill__sim_flush_rechokes(struct rill__sim *s)
{
    for (uint32_t i = 0; i < s->npending; i++) {
        uint32_t peer = s->pending[i];
        s->peers[peer].choke_pending = false;
        rill__sim_rechoke(s, peer);
    }
    s->npending = 0;
}

/* ------------------------------------------------------ blocks and pieces */

/* The peer's side of a connection (the direction it uploads on). */
static uint32_t side(const struct rill__sim *s, uint32_t conn, uint32_t peer)
{
    return s->conns[conn].p[0] == peer ? 0 : 1;
}

/* Our `have` reaches a neighbour: its picker counts the piece and it may
 * become interested (the client's on_have). */
static void tell_have(struct rill__sim *s, uint32_t conn, uint32_t k, uint32_t piece)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    if (!d->registered || d->view.all) /* registered: the downloader has a picker */
        return;
    struct rill__sim_peer *down = dnl(s, conn, k);
    rill_picker_peer_have(&down->picker, piece);
    if (rill_picker_wants(&down->picker, piece)) {
        /* Also when interested already: the connection may be idle, every
         * piece it had being asked of others. */
        if (!d->interested)
            rill__sim_update_interest(s, conn, k);
        rill__sim_request_more(s, conn, k);
    }
}

static void verified(struct rill__sim *s, uint32_t peer, uint32_t piece, double t_s)
{
    struct rill__sim_peer *p = &s->peers[peer];
    rill_picker_verified(&p->picker, piece);
    rill_bitfield_set(&p->have, piece, true);
    uint64_t size = piece + 1 == s->npieces ? s->last_size : s->piece_size;
    p->have_bytes += size;
    p->pending = p->pending > size ? p->pending - size : 0;
    if (p->first_piece_s < 0)
        p->first_piece_s = t_s;
    if (rill_picker_complete(&p->picker)) {
        p->complete = true;
        p->done_s = t_s;
        s->done++;
        rill__sim_push(s, s->now_ms, SIM_EV_COMPLETE, peer);
    }
    for (uint32_t i = 0; i < p->nconns; i++) {
        uint32_t conn = p->conns[i], k = side(s, conn, peer);
        tell_have(s, conn, k, piece);
        /* The client asks again whether we are interested in each: only
         * an interest in a neighbour that has this piece can have ended. */
        const struct rill__sim_dir *in = rill__sim_dir(s, conn, 1 - k);
        if (in->interested &&
            (p->complete || rill_bitfield_get(&s->peers[s->conns[conn].p[1 - k]].have, piece)))
            rill__sim_update_interest(s, conn, 1 - k);
    }
    if (peer < s->n && s->plan[peer].churn_at > 0 && !p->churned && !p->complete &&
        (double)p->have_bytes >= s->plan[peer].churn_at * (double)s->c->file_size) {
        p->churned = true;
        rill__sim_push(s, s->now_ms, SIM_EV_CHURN, peer);
    }
}

/* The other requesters of a block that arrived drop it (the client sends
 * them `cancel`). */
static void cancel_others(struct rill__sim *s, uint32_t peer, uint32_t block, const uint32_t *who,
                          size_t n)
{
    struct rill__sim_peer *p = &s->peers[peer];
    for (size_t j = 0; j < n; j++) {
        for (uint32_t i = 0; i < p->nconns; i++) {
            struct rill__sim_conn *c = &s->conns[p->conns[i]];
            uint32_t k = c->p[0] == who[j] ? 0 : c->p[1] == who[j] ? 1 : 2;
            if (k < 2 && c->p[1 - k] == peer) {
                queue_remove(&c->d[k], block);
                break;
            }
        }
    }
}

void rill__sim_deliver(struct rill__sim *s, uint32_t conn, uint32_t k, uint32_t block, double t_s)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    struct rill__sim_peer *up = upl(s, conn, k), *down = dnl(s, conn, k);
    uint32_t from = s->conns[conn].p[k], to = s->conns[conn].p[1 - k];
    uint32_t len = rill__sim_block_len(s, block);
    d->sent += len;
    up->uploaded += len;
    down->downloaded += len;
    s->st.blocks++;
    rill_rate_add(&d->rate, len, s->now_ms);
    d->last_block_ms = s->now_ms;
    if (!down->picking) {
        s->st.waste += len;
        return;
    }
    uint32_t cancel[RILL_PICKER_MAX_REQUESTERS];
    size_t ncancel = 0;
    uint32_t piece = block / s->bpp;
    int got = rill_picker_received(&down->picker, from, piece, (block % s->bpp) * BLOCK, cancel,
                                   RILL_PICKER_MAX_REQUESTERS, &ncancel);
    cancel_others(s, to, block, cancel, ncancel);
    if (got == RILL_PICKER_GOT_DUP || got < 0) {
        s->st.waste += len;
    } else {
        down->pending += len;
        if (got == RILL_PICKER_GOT_PIECE)
            verified(s, to, piece, t_s);
    }
    rill__sim_request_more(s, conn, k);
}
