/* What a peer's messages mean for the torrent: availability, interest,
 * requests both ways, and the extended handshake. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/conn.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "util/util.h"

#define MAX_REQUEST_BATCH 256

void rill__peer_send_simple(struct rill__peer *p, int type)
{
    struct rill_buf b;
    rill_buf_init(&b, 64);
    rill_wire_build_simple(&b, type);
    rill__peer_send(p, &b);
    rill_buf_free(&b);
}

void rill__peer_send_ext(struct rill__peer *p, uint8_t id, const struct rill_buf *payload)
{
    struct rill_buf msg;
    rill_buf_init(&msg, payload->len + 64);
    if (!payload->failed && rill_wire_build_extended(&msg, id, payload->data, payload->len) == 0)
        rill__peer_send(p, &msg);
    rill_buf_free(&msg);
}

void rill__peer_send_block_msg(struct rill__peer *p, int type, uint32_t piece, uint32_t begin,
                               uint32_t length)
{
    struct rill_buf b;
    rill_buf_init(&b, 64);
    rill_wire_build_block(&b, type, piece, begin, length);
    rill__peer_send(p, &b);
    rill_buf_free(&b);
}

struct rill__peer *rill__torrent_find_peer(struct rill_torrent *t, uint32_t id)
{
    for (struct rill__peer *p = t->peers; p; p = p->next)
        if (p->pick.id == id)
            return p;
    return NULL;
}

void rill__torrent_attach(struct rill_torrent *t, struct rill__peer *p)
{
    p->t = t;
    p->next = t->peers;
    p->prev = NULL;
    if (t->peers)
        t->peers->prev = p;
    t->peers = p;
    t->npeers++;
    rill_picker_peer_init(&p->pick, (uint32_t)p->id, &p->have, false);
    if (t->state == RILL_T_METADATA)
        return; /* limits stay 0: "piece count unknown" to the wire codec */
    rill_bitfield_init(&p->have, t->mi->piece_count);
    p->lim.piece_count = t->mi->piece_count;
    p->lim.piece_length = t->mi->piece_length;
    p->lim.last_piece_length = rill_piece_size(t->mi, t->mi->piece_count - 1);
}

void rill__peer_expire_requests(struct rill_torrent *t, struct rill__peer *p, uint64_t timeout_ms)
{
    struct rill_peer_req reqs[64];
    uint32_t n;
    do {
        n = rill_peer_take_requests(&p->core, t->s->now, timeout_ms, reqs, 64);
        for (uint32_t i = 0; i < n; i++)
            rill_picker_release(t->picker, p->pick.id, reqs[i].piece, reqs[i].begin);
    } while (n == 64);
}

void rill__torrent_detach(struct rill_torrent *t, struct rill__peer *p)
{
    bool was_unchoked = !p->core.am_choking;
    rill__meta_peer_gone(t, p);
    rill__pex_peer_gone(p);
    rill__peer_expire_requests(t, p, 0);
    if (p->pick.all && t->picker)
        rill_picker_peer_lost_all(t->picker);
    else if (p->have.count && t->picker)
        rill_picker_peer_lost(t->picker, &p->have);
    p->pick.all = false;
    rill_bitfield_free(&p->have);
    if (p->prev)
        p->prev->next = p->next;
    else
        t->peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
    t->npeers--;
    rill__torrent_candidate_closed(t, p, p->phase == RILL__ACTIVE);
    if (was_unchoked && !t->stopping)
        t->next_choke_ms = 0; /* a slot is free: decide again soon */
}

static void send_ext_handshake(struct rill_torrent *t, struct rill__peer *p)
{
    struct rill_wire_ext_hs hs = {0};
    snprintf(hs.v, sizeof hs.v, "rill %s", RILL_VERSION);
    hs.reqq = RILL_PEER_MAX_THEIR_QUEUE;
    hs.p = t->s->port;
    hs.upload_only = rill__torrent_seeding(t);
    hs.m[RILL_WIRE_EXT_UT_METADATA] = RILL__EXT_ID_UT_METADATA;
    if (rill__pex_allowed(t))
        hs.m[RILL_WIRE_EXT_UT_PEX] = RILL__EXT_ID_UT_PEX;
    if (t->state != RILL_T_METADATA && t->mi->info_len)
        hs.metadata_size = t->mi->info_len;
    if (p->addr.ss_family == AF_INET) {
        memcpy(hs.yourip, &((struct sockaddr_in *)&p->addr)->sin_addr, 4);
        hs.yourip_len = 4;
    }
    struct rill_buf payload;
    rill_buf_init(&payload, 4096);
    if (rill_wire_ext_hs_build(&payload, &hs) == 0)
        rill__peer_send_ext(p, 0, &payload);
    rill_buf_free(&payload);
}

/* Our pieces: have-all / have-none with the fast extension, else a
 * bitfield when we have anything. Then the allowed-fast set we grant. */
static void send_have_state(struct rill_torrent *t, struct rill__peer *p)
{
    struct rill_buf b;
    rill_buf_init(&b, rill_bitfield_bytes(&t->have) + 256);
    if (p->fast && t->have.count == t->have.size)
        rill_wire_build_simple(&b, RILL_WIRE_HAVE_ALL);
    else if (p->fast && t->have.count == 0)
        rill_wire_build_simple(&b, RILL_WIRE_HAVE_NONE);
    else if (t->have.count)
        rill_wire_build_bitfield(&b, t->have.bits, rill_bitfield_bytes(&t->have));
    if (p->fast && p->addr.ss_family == AF_INET && t->have.count && !t->p.no_upload) {
        const uint8_t *ip = (const uint8_t *)&((struct sockaddr_in *)&p->addr)->sin_addr;
        p->granted_count = rill_wire_allowed_fast(ip, 4, t->mi->info_hash, t->mi->piece_count,
                                                  10, p->granted_fast);
        for (uint32_t i = 0; i < p->granted_count; i++)
            if (rill_bitfield_get(&t->have, p->granted_fast[i]))
                rill_wire_build_index(&b, RILL_WIRE_ALLOWED_FAST, p->granted_fast[i]);
    }
    rill__peer_send(p, &b);
    rill_buf_free(&b);
}

void rill__torrent_peer_ready(struct rill_torrent *t, struct rill__peer *p)
{
    p->lim.fast = p->fast;
    p->lim.extended = p->extended;
    rill__log(t->s, 1, "peer_connected", "%s %s connected (%s)", p->name, p->client,
              p->outgoing ? "outgoing" : "incoming");
    if (p->extended)
        send_ext_handshake(t, p);
    if (t->state != RILL_T_METADATA)
        send_have_state(t, p);
    else if (p->fast)
        rill__peer_send_simple(p, RILL_WIRE_HAVE_NONE);
    rill__dht_send_port(t, p);
}

void rill__peer_update_interest(struct rill_torrent *t, struct rill__peer *p)
{
    bool want = !rill__torrent_seeding(t) && rill_picker_interesting(t->picker, &p->pick);
    if (want == p->core.am_interested)
        return;
    p->core.am_interested = want;
    if (want)
        p->interested_at = t->s->now;
    rill__peer_send_simple(p, want ? RILL_WIRE_INTERESTED : RILL_WIRE_NOT_INTERESTED);
}

void rill__peer_request_more(struct rill_torrent *t, struct rill__peer *p)
{
    if (!p->core.am_interested || t->stopping || t->state != RILL_T_DOWNLOADING ||
        rill__torrent_backlogged(t))
        return;
    if (p->core.peer_choking && p->fast_allowed_count == 0)
        return;
    uint32_t depth = rill_peer_depth(&p->core, rill_rate_get(&p->down, t->s->now));
    uint32_t room = rill_peer_room(&p->core, depth);
    if (room > MAX_REQUEST_BATCH)
        room = MAX_REQUEST_BATCH;
    /* Top up in batches, once a quarter of the pipeline is free: a request
     * per arriving block would cost a send (and libevent a pair of
     * epoll_ctl calls) per block. An idle pipeline is always filled. */
    if (room == 0 || (p->core.ours.count > 0 && room < depth / 4))
        return;
    struct rill_picker_block blocks[MAX_REQUEST_BATCH];
    int n = p->core.peer_choking
                ? rill_picker_pick_from(t->picker, &p->pick, p->fast_allowed,
                                        p->fast_allowed_count, blocks, room)
                : rill_picker_pick(t->picker, &p->pick, blocks, room);
    if (n <= 0)
        return;
    struct rill_buf b;
    rill_buf_init(&b, (size_t)n * 17 + 16);
    for (int i = 0; i < n; i++) {
        rill_peer_sent_request(&p->core, blocks[i].piece, blocks[i].offset, blocks[i].length,
                               t->s->now);
        rill_wire_build_block(&b, RILL_WIRE_REQUEST, blocks[i].piece, blocks[i].offset,
                              blocks[i].length);
    }
    rill__peer_send(p, &b);
    rill_buf_free(&b);
}

/* The peer has every piece: once we do too, the connection is useless. */
static bool both_seeds(struct rill_torrent *t, struct rill__peer *p)
{
    return rill__peer_is_seed(p) && t->have.count == t->have.size;
}

static void on_have(struct rill_torrent *t, struct rill__peer *p, uint32_t piece)
{
    p->got_first = true; /* a bitfield after this would count twice */
    if (p->pick.all || rill_bitfield_get(&p->have, piece))
        return;
    rill_bitfield_set(&p->have, piece, true);
    rill_picker_peer_have(t->picker, piece);
    if (rill_picker_wants(t->picker, piece)) {
        /* Also when we were interested already: every piece it had may
         * have been asked of others, leaving this connection idle, and the
         * new one is something to ask it for. */
        if (!p->core.am_interested)
            rill__peer_update_interest(t, p);
        rill__peer_request_more(t, p);
    }
    if (both_seeds(t, p))
        rill__peer_close(p, "both complete");
}

static void on_bitfield(struct rill_torrent *t, struct rill__peer *p,
                        const struct rill_wire_msg *m, bool all)
{
    /* BEP 3 wants one bitfield, first; aria2 sends extension messages
     * before it and a second bitfield later. A later one replaces what the
     * peer said before, so nothing is counted twice. */
    if (p->got_first) {
        if (p->pick.all)
            rill_picker_peer_lost_all(t->picker);
        else if (p->have.count)
            rill_picker_peer_lost(t->picker, &p->have);
        p->pick.all = false;
        memset(p->have.bits, 0, rill_bitfield_bytes(&p->have));
        p->have.count = 0;
    }
    p->got_first = true;
    if (all) {
        p->pick.all = true;
        memset(p->have.bits, 0xff, rill_bitfield_bytes(&p->have));
        if (p->have.size % 8)
            p->have.bits[p->have.size / 8] = (uint8_t)(0xff << (8 - p->have.size % 8));
        p->have.count = p->have.size;
        rill_picker_peer_have_all(t->picker);
    } else if (m) {
        if (rill_bitfield_load(&p->have, m->data, m->data_len) != 0) {
            rill__peer_close(p, "bad bitfield");
            return;
        }
        rill_picker_peer_bitfield(t->picker, &p->have);
    }
    if (both_seeds(t, p)) {
        rill__peer_close(p, "both complete");
        return;
    }
    rill__peer_update_interest(t, p);
}

static void on_request(struct rill_torrent *t, struct rill__peer *p, const struct rill_wire_msg *m)
{
    if (!rill_bitfield_get(&t->have, m->index)) {
        if (p->fast)
            rill__peer_send_block_msg(p, RILL_WIRE_REJECT, m->index, m->begin, m->length);
        return;
    }
    bool fast_ok = false;
    for (uint32_t i = 0; i < p->granted_count; i++)
        fast_ok |= p->granted_fast[i] == m->index;
    const char *why = NULL;
    enum rill_peer_verdict v =
        rill_peer_got_request(&p->core, m->index, m->begin, m->length, fast_ok, t->s->now, &why);
    if (v == RILL_PEER_VIOLATION) {
        rill__peer_close(p, why);
    } else if (v == RILL_PEER_REJECT) {
        if (p->fast)
            rill__peer_send_block_msg(p, RILL_WIRE_REJECT, m->index, m->begin, m->length);
    } else {
        rill__torrent_serve(t, p);
    }
}

static void on_choke(struct rill_torrent *t, struct rill__peer *p, bool choked)
{
    p->core.peer_choking = choked;
    if (choked && !p->fast)
        rill__peer_expire_requests(t, p, 0); /* BEP 3: a choke drops our requests */
    if (!choked)
        rill__peer_request_more(t, p);
}

static void on_reject(struct rill_torrent *t, struct rill__peer *p, const struct rill_wire_msg *m)
{
    if (rill_peer_forget_request(&p->core, m->index, m->begin, m->length))
        rill_picker_release(t->picker, p->pick.id, m->index, m->begin);
}

static void on_allowed_fast(struct rill_torrent *t, struct rill__peer *p, uint32_t piece)
{
    if (p->fast_allowed_count < RILL_ARRAY_LEN(p->fast_allowed) && rill_picker_wants(t->picker, piece))
        p->fast_allowed[p->fast_allowed_count++] = piece;
    if (p->core.peer_choking)
        rill__peer_request_more(t, p);
}

static void on_extended(struct rill_torrent *t, struct rill__peer *p, const struct rill_wire_msg *m)
{
    if (m->ext_id == RILL__EXT_ID_UT_METADATA) {
        rill__meta_on_msg(t, p, m->data, m->data_len);
        return;
    }
    if (m->ext_id == RILL__EXT_ID_UT_PEX) {
        rill__pex_on_msg(t, p, m->data, m->data_len);
        return;
    }
    if (m->ext_id != 0)
        return; /* an id we never gave out */
    if (rill_wire_ext_hs_parse(m->data, m->data_len, &p->ext, NULL) != 0)
        return;
    if (p->ext.reqq)
        p->core.their_reqq = p->ext.reqq;
    p->upload_only = p->ext.upload_only;
    if (p->ext.v[0])
        snprintf(p->client, sizeof p->client, "%s", p->ext.v);
    rill__meta_on_handshake(t, p);
}

void rill__torrent_on_message(struct rill_torrent *t, struct rill__peer *p,
                              const struct rill_wire_msg *m)
{
    if (m->type == RILL_WIRE_PORT) {
        rill__dht_peer_port(t, p, m->port);
        return;
    }
    if (t->state == RILL_T_METADATA) {
        /* Without the metadata only the extension protocol means
         * anything; the rest is said again after the reconnect. */
        if (m->type == RILL_WIRE_EXTENDED)
            on_extended(t, p, m);
        return;
    }
    switch (m->type) {
    case RILL_WIRE_KEEPALIVE: break;
    case RILL_WIRE_CHOKE: on_choke(t, p, true); break;
    case RILL_WIRE_UNCHOKE: on_choke(t, p, false); break;
    case RILL_WIRE_INTERESTED:
    case RILL_WIRE_NOT_INTERESTED:
        p->core.peer_interested = m->type == RILL_WIRE_INTERESTED;
        if (p->core.peer_interested != !p->core.am_choking)
            rill__torrent_rechoke(t); /* fills a free slot now, keeps the cadence */
        break;
    case RILL_WIRE_HAVE: on_have(t, p, m->index); break;
    case RILL_WIRE_BITFIELD: on_bitfield(t, p, m, false); break;
    case RILL_WIRE_HAVE_ALL: on_bitfield(t, p, NULL, true); break;
    case RILL_WIRE_HAVE_NONE: on_bitfield(t, p, NULL, false); break;
    case RILL_WIRE_REQUEST: on_request(t, p, m); break;
    case RILL_WIRE_PIECE: rill__torrent_got_block(t, p, m); break;
    case RILL_WIRE_CANCEL: rill_peer_got_cancel(&p->core, m->index, m->begin, m->length); break;
    case RILL_WIRE_REJECT: on_reject(t, p, m); break;
    case RILL_WIRE_ALLOWED_FAST: on_allowed_fast(t, p, m->index); break;
    case RILL_WIRE_EXTENDED: on_extended(t, p, m); break;
    default: break; /* port, suggest: nothing to do yet */
    }
}
