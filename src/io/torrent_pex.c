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
    if (p->addr.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&p->addr;
        memcpy(out->addr, &a->sin_addr, 4);
        out->addr_len = 4;
        port = ntohs(a->sin_port);
    } else if (p->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&p->addr;
        memcpy(out->addr, &a->sin6_addr, 16);
        out->addr_len = 16;
        port = ntohs(a->sin6_port);
    } else {
        return false;
    }
    out->port = p->outgoing ? port : p->ext.p;
    out->flags = (uint8_t)((rill__peer_is_seed(p) || p->upload_only ? RILL_PEX_F_SEED : 0) |
                           (p->outgoing ? RILL_PEX_F_REACHABLE : 0));
    return out->port != 0;
}

static void to_sockaddr(const struct rill_pex_peer *pp, struct sockaddr_storage *ss,
                        socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (pp->addr_len == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, pp->addr, 4);
        a->sin_port = htons(pp->port);
        *len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, pp->addr, 16);
        a->sin6_port = htons(pp->port);
        *len = sizeof *a;
    }
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
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_storage ss;
        socklen_t sl;
        to_sockaddr(&got[i], &ss, &sl);
        size_t before = t->ncands;
        rill__torrent_add_candidate(t, (struct sockaddr *)&ss, sl);
        t->pex_peers += t->ncands > before;
    }
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
    struct rill_buf payload, msg;
    rill_buf_init(&payload, 8192);
    rill_buf_init(&msg, 8192);
    if (rill_pex_build(&payload, m) == 0 &&
        rill_wire_build_extended(&msg, p->ext.m[RILL_WIRE_EXT_UT_PEX], payload.data,
                                 payload.len) == 0)
        rill__peer_send(p, &msg);
    rill_buf_free(&payload);
    rill_buf_free(&msg);
}

void rill__pex_tick(struct rill_torrent *t)
{
    if (!rill__pex_allowed(t) || !t->peers)
        return;
    size_t cap = t->npeers;
    struct rill_pex_peer *all = calloc(cap, sizeof *all), *cur = calloc(cap, sizeof *cur);
    struct rill_pex_msg *m = malloc(sizeof *m);
    size_t n = 0;
    for (const struct rill__peer *p = t->peers; all && p && n < cap; p = p->next)
        if (p->phase == RILL__ACTIVE && dialable(p, &all[n]))
            n++;
    for (struct rill__peer *p = t->peers; all && cur && m && p; p = p->next) {
        if (p->phase != RILL__ACTIVE || !p->ext.m[RILL_WIRE_EXT_UT_PEX])
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
