/* Peer exchange (BEP 11, "ut_pex"): every minute each connection that
 * speaks it hears which peers we gained and lost since we last told it,
 * and the peers it tells us become candidates, a bounded number per minute.
 * Private torrents (BEP 27) take no part. The ut_pex core decides; this
 * file moves the messages. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/ut_pex.h"
#include "io/conn.h"
#include "io/sockaddr.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"

#define PEX_CANDIDATES_PER_MSG 50

bool rill__pex_allowed(const struct rill_torrent *t)
{
    return !t->p.no_pex && !t->mi->is_private;
}

/* The address a peer can be dialed at: its own for an outgoing
 * connection, with its listen port (BEP 10 "p") for an incoming one. */
static bool dialable(const struct rill__peer *p, struct rill_pex_peer *out)
{
    memset(out, 0, sizeof *out);
    uint16_t port = 0;
    if (!rill__sockaddr_to_raw(&p->addr, out->addr, &out->addr_len, &port))
        return false;
    out->port = p->outgoing ? port : p->ext.p;
    out->flags = (uint8_t)((rill__peer_is_seed(p) || p->upload_only ? RILL_PEX_F_SEED : 0) |
                           (p->outgoing ? RILL_PEX_F_REACHABLE : 0));
    return out->port != 0;
}

void rill__pex_on_msg(struct rill_torrent *t, struct rill__peer *p, const uint8_t *data,
                      size_t len)
{
    if (!rill__pex_allowed(t))
        return;
    struct rill_pex_msg *m = malloc(sizeof *m);
    if (!m)
        return;
    if (rill_pex_parse(data, len, m, NULL) != 0) {
        free(m);
        rill__peer_close(p, "malformed ut_pex message");
        return;
    }
    if (!p->pex_in.per_msg)
        rill_pex_accept_init(&p->pex_in, RILL_PEX_ACCEPT_PER_MSG, RILL_PEX_ACCEPT_PER_MIN);
    struct rill_pex_peer got[PEX_CANDIDATES_PER_MSG];
    size_t n = rill_pex_accept_take(&p->pex_in, m, t->s->now, got, PEX_CANDIDATES_PER_MSG);
    free(m);
    for (size_t i = 0; i < n; i++)
        t->pex_peers += rill__torrent_add_raw_candidate(t, got[i].addr, got[i].addr_len,
                                                        got[i].port);
    if (n)
        rill__torrent_candidates_added(t);
}

/* Tells `p` what changed among our peers, at most once a minute. */
static void pex_send(struct rill_torrent *t, struct rill__peer *p, struct rill_pex_peer *cur,
                     size_t ncur, struct rill_pex_msg *m)
{
    if (!p->pex_out) {
        p->pex_out = malloc(sizeof *p->pex_out);
        if (!p->pex_out)
            return;
        rill_pex_sender_init(p->pex_out);
    }
    struct rill_pex_peer self;
    bool has_self = dialable(p, &self);
    size_t n = 0;
    for (size_t i = 0; i < ncur; i++) /* never tell a peer about itself */
        if (!has_self || rill_pex_peer_cmp(&cur[i], &self) != 0)
            cur[n++] = cur[i];
    if (rill_pex_sender_diff(p->pex_out, cur, n, t->s->now, m) != RILL_PEX_SEND)
        return;
    struct rill_buf payload;
    rill_buf_init(&payload, 8192);
    if (rill_pex_build(&payload, m) == 0)
        rill__peer_send_ext(p, p->ext.m[RILL_WIRE_EXT_UT_PEX], &payload);
    rill_buf_free(&payload);
}

/* A peer speaks ut_pex and its minute since our last message is up. */
static bool pex_due(const struct rill_torrent *t, const struct rill__peer *p)
{
    return p->phase == RILL__ACTIVE && p->ext.m[RILL_WIRE_EXT_UT_PEX] &&
           (!p->pex_out || t->s->now - p->pex_out->last_ms >= RILL_PEX_INTERVAL_MS);
}

void rill__pex_tick(struct rill_torrent *t)
{
    if (!rill__pex_allowed(t) || !t->peers)
        return;
    /* Every second, but a peer hears from us once a minute: build our list
     * only when someone is due. */
    const struct rill__peer *due = t->peers;
    while (due && !pex_due(t, due))
        due = due->next;
    if (!due)
        return;
    size_t cap = t->npeers;
    struct rill_pex_peer *all = calloc(cap, sizeof *all), *cur = calloc(cap, sizeof *cur);
    struct rill_pex_msg *m = malloc(sizeof *m);
    size_t n = 0;
    for (const struct rill__peer *p = t->peers; all && p && n < cap; p = p->next)
        if (p->phase == RILL__ACTIVE && dialable(p, &all[n]))
            n++;
    for (struct rill__peer *p = t->peers; all && cur && m && p; p = p->next) {
        if (!pex_due(t, p))
            continue;
        memcpy(cur, all, n * sizeof *cur);
        pex_send(t, p, cur, n, m);
    }
    free(all);
    free(cur);
    free(m);
}

void rill__pex_peer_gone(struct rill__peer *p)
{
    free(p->pex_out);
    p->pex_out = NULL;
}
