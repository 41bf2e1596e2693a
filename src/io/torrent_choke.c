/* Choking: the choker core decides, this file tells the peers, and checks
 * the seeding limits (ratio, time). */
#include <stdlib.h>

#include "io/conn.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"

static void set_choked(struct rill__peer *p, bool choke)
{
    p->core.am_choking = choke;
    rill__peer_send_simple(p, choke ? RILL_WIRE_CHOKE : RILL_WIRE_UNCHOKE);
    if (!choke)
        return;
    /* Their queued requests die with the choke; with the fast extension we
     * say so, one reject each (BEP 6). */
    struct rill_peer_req reqs[RILL_PEER_MAX_THEIR_QUEUE];
    uint32_t n = rill_peer_choked_them(&p->core, reqs, RILL_PEER_MAX_THEIR_QUEUE);
    for (uint32_t i = 0; p->fast && i < n; i++)
        rill__peer_send_block_msg(p, RILL_WIRE_REJECT, reqs[i].piece, reqs[i].begin,
                                  reqs[i].length);
}

void rill__torrent_rechoke(struct rill_torrent *t)
{
    if (t->stopping || t->state == RILL_T_CHECKING || t->p.no_upload)
        return; /* a torrent that uploads nothing never unchokes: all stay choked */
    struct rill_choker_peer *v = calloc(t->npeers ? t->npeers : 1, sizeof *v);
    struct rill__peer **who = calloc(t->npeers ? t->npeers : 1, sizeof *who);
    if (!v || !who) {
        free(v);
        free(who);
        return; /* the next tick tries again */
    }
    size_t n = 0;
    uint64_t now = t->s->now;
    for (struct rill__peer *p = t->peers; p; p = p->next) {
        if (p->phase != RILL__ACTIVE)
            continue;
        v[n] = (struct rill_choker_peer){
            .id = p->id,
            .down_rate = rill_rate_get(&p->down, now),
            .up_rate = rill_rate_get(&p->up, now),
            .uploaded = rill_rate_total(&p->up),
            .connected_at_ms = p->connected_at,
            .interested_at_ms = p->interested_at,
            .last_block_ms = p->core.last_block_ms,
            .peer_interested = p->core.peer_interested && !p->upload_only,
            .am_interested = p->core.am_interested,
            .unchokes_us = !p->core.peer_choking,
            .is_seed = rill__peer_is_seed(p),
            .unchoked = !p->core.am_choking,
            .st = p->choke,
        };
        who[n++] = p;
    }
    uint64_t next = now + 10000;
    if (rill_choker_decide(&t->choker, v, n, now, rill__torrent_seeding(t), &next) == 0) {
        for (size_t i = 0; i < n; i++) {
            who[i]->choke = v[i].st;
            if (v[i].unchoke != v[i].unchoked)
                set_choked(who[i], !v[i].unchoke);
        }
    }
    t->next_choke_ms = next;
    free(v);
    free(who);
}

void rill__torrent_check_seed_limits(struct rill_torrent *t)
{
    if (t->state != RILL_T_SEEDING || !t->complete_fired || !t->p.seed)
        return;
    bool ratio = t->p.seed_ratio > 0 &&
                 (double)t->uploaded >= t->p.seed_ratio * (double)t->mi->total_size;
    bool time_up = t->p.seed_time_ms > 0 && t->s->now - t->completed_ms >= t->p.seed_time_ms;
    if (!ratio && !time_up)
        return;
    rill__log(t->s, 0, "seed_done", "%s: seeding done (%s)", t->mi->name,
              ratio ? "ratio reached" : "seed time reached");
    rill_torrent_stop(t); /* on_stopped follows once the trackers are told */
}
