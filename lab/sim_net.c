/* The simulator's network: the tracker, each peer's candidates and dials
 * (the client's connect_some, 8 a tick with back-off), connections made and
 * closed, and peers arriving, completing, churning and leaving. Mirrors
 * src/io/torrent.c and the announcer's want_peers. */
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define NOWHERE UINT32_MAX

/* ---------------------------------------------------------------- tracker */

static void tracker_add(struct rill__sim *s, uint32_t peer)
{
    if (s->pos[peer] != NOWHERE)
        return;
    s->pos[peer] = s->npresent;
    s->present[s->npresent++] = peer;
}

static void tracker_remove(struct rill__sim *s, uint32_t peer)
{
    uint32_t i = s->pos[peer];
    if (i == NOWHERE)
        return;
    uint32_t last = s->present[--s->npresent];
    s->present[i] = last;
    s->pos[last] = i;
    s->pos[peer] = NOWHERE;
}

/* Up to SIM_NUMWANT present peers other than `peer`, in random order. */
static uint32_t tracker_sample(struct rill__sim *s, uint32_t peer, uint32_t *out)
{
    uint32_t others = s->npresent - (s->pos[peer] != NOWHERE);
    uint32_t n = 0;
    if (others <= SIM_NUMWANT) {
        for (uint32_t i = 0; i < s->npresent; i++)
            if (s->present[i] != peer)
                out[n++] = s->present[i];
        for (uint32_t i = 0; i + 1 < n; i++) {
            uint32_t j = i + (uint32_t)rill_rng_below(&s->rng, n - i), t = out[i];
            out[i] = out[j];
            out[j] = t;
        }
        return n;
    }
    while (n < SIM_NUMWANT) {
        uint32_t cand = s->present[rill_rng_below(&s->rng, s->npresent)];
        bool dup = cand == peer;
        for (uint32_t i = 0; i < n && !dup; i++)
            dup = out[i] == cand;
        if (!dup)
            out[n++] = cand;
    }
    return n;
}

/* ------------------------------------------------------------- candidates */

static void add_candidate(struct rill__sim *s, uint32_t peer, uint32_t who)
{
    struct rill__sim_peer *p = &s->peers[peer];
    for (uint32_t i = 0; i < p->ncands; i++)
        if (p->cands[i].peer == who)
            return;
    if (p->ncands == p->cands_cap) {
        uint32_t cap = p->cands_cap ? p->cands_cap * 2 : 64;
        if (cap > SIM_MAX_CANDS)
            return; /* plenty to try */
        struct rill__sim_cand *c = realloc(p->cands, (size_t)cap * sizeof *c);
        if (!c) {
            s->err = RILL_ENOMEM;
            return;
        }
        p->cands = c;
        p->cands_cap = cap;
    }
    p->cands[p->ncands++] = (struct rill__sim_cand){.peer = who};
}

static struct rill__sim_cand *find_candidate(struct rill__sim *s, uint32_t peer, uint32_t who)
{
    struct rill__sim_peer *p = &s->peers[peer];
    for (uint32_t i = 0; i < p->ncands; i++)
        if (p->cands[i].peer == who)
            return &p->cands[i];
    return NULL;
}

/* ------------------------------------------------------------ connections */

static bool connected(const struct rill__sim *s, uint32_t a, uint32_t b)
{
    const struct rill__sim_peer *p = &s->peers[a];
    for (uint32_t i = 0; i < p->nconns; i++) {
        const struct rill__sim_conn *c = &s->conns[p->conns[i]];
        if (c->p[0] == b || c->p[1] == b)
            return true;
    }
    return false;
}

static void attach(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_conn *c = &s->conns[conn];
    struct rill__sim_peer *p = &s->peers[c->p[k]];
    c->slot[k] = p->nconns;
    p->conns[p->nconns++] = conn;
}

static void detach(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_conn *c = &s->conns[conn];
    struct rill__sim_peer *p = &s->peers[c->p[k]];
    uint32_t i = c->slot[k], moved = p->conns[--p->nconns];
    p->conns[i] = moved;
    struct rill__sim_conn *m = &s->conns[moved];
    m->slot[m->p[0] == c->p[k] ? 0 : 1] = i;
}

/* A fresh connection from `a` (the dialler) to `b`: both register the
 * other's pieces and say whether they are interested. Choked both ways. */
static int connect_peers(struct rill__sim *s, uint32_t a, uint32_t b)
{
    uint32_t conn;
    if (s->nfree)
        conn = s->free_conns[--s->nfree];
    else if (s->conns_used < s->conns_cap)
        conn = s->conns_used++;
    else
        return RILL_ENOMEM; /* cannot happen: the pool holds every possible one */
    struct rill__sim_conn *c = &s->conns[conn];
    uint32_t gen = c->gen + 1;
    for (uint32_t k = 0; k < 2; k++) { /* keep the queue buffers */
        uint32_t *q = c->d[k].q, qcap = c->d[k].qcap;
        memset(&c->d[k], 0, sizeof c->d[k]);
        c->d[k].q = q;
        c->d[k].qcap = qcap;
        rill_rate_init(&c->d[k].rate, 0, s->now_ms);
    }
    c->p[0] = a;
    c->p[1] = b;
    c->gen = gen;
    c->live = true;
    c->connected_ms = s->now_ms;
    attach(s, conn, 0);
    attach(s, conn, 1);
    for (uint32_t k = 0; k < 2; k++)
        rill__sim_register(s, conn, k);
    for (uint32_t k = 0; k < 2; k++) {
        rill__sim_grant_fast(s, conn, k);
        rill__sim_update_interest(s, conn, k);
        rill__sim_request_more(s, conn, k); /* allowed-fast pieces, while choked */
    }
    s->st.connections++;
    return 0;
}

void rill__sim_close(struct rill__sim *s, uint32_t conn)
{
    struct rill__sim_conn *c = &s->conns[conn];
    for (uint32_t k = 0; k < 2; k++) {
        rill__sim_unregister(s, conn, k);
        if (c->d[k].unchoked)
            rill__sim_want_rechoke(s, c->p[k]); /* a slot is free */
        c->d[k].unchoked = c->d[k].interested = false;
    }
    detach(s, conn, 0);
    detach(s, conn, 1);
    for (uint32_t k = 0; k < 2; k++) {
        /* It worked: either end may dial the other again in 30 s. */
        struct rill__sim_cand *cand = find_candidate(s, c->p[k], c->p[1 - k]);
        if (cand) {
            cand->connected = false;
            cand->failures = 0;
            cand->retry_ms = s->now_ms + 30000;
        }
        rill__sim_arm_tick(s, c->p[k]);
    }
    c->live = false;
    c->gen++;
    s->free_conns[s->nfree++] = conn;
}

enum dial { DIAL_FAILED, DIAL_OK, DIAL_USELESS };

static enum dial try_dial(struct rill__sim *s, uint32_t a, uint32_t b)
{
    const struct rill__sim_peer *pa = &s->peers[a], *pb = &s->peers[b];
    if (pb->state != SIM_ACTIVE || pb->nconns >= SIM_MAX_CONNS)
        return DIAL_FAILED;
    if (pa->complete && pb->complete)
        return DIAL_USELESS; /* the client closes it at once: "both complete" */
    if (connected(s, a, b))
        return DIAL_OK; /* it dialled us first: the same connection */
    return connect_peers(s, a, b) == 0 ? DIAL_OK : DIAL_FAILED;
}

/* The client's connect_some: at most 8 dials a tick, each candidate backed
 * off 2 s, 4 s, ... up to 5 minutes after each try. */
static void connect_some(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    uint32_t started = 0;
    for (uint32_t i = 0; i < p->ncands && started < SIM_DIALS_PER_TICK; i++) {
        struct rill__sim_cand *c = &p->cands[i];
        if (p->nconns >= SIM_MAX_CONNS)
            break;
        if (c->connected || c->dead || c->retry_ms > s->now_ms)
            continue;
        uint64_t backoff = 2000ull << (c->failures < 8 ? c->failures : 8);
        c->retry_ms = s->now_ms + (backoff < 300000 ? backoff : 300000);
        c->failures++;
        started++;
        enum dial d = try_dial(s, peer, c->peer);
        c = &p->cands[i];
        c->connected = d == DIAL_OK;
        c->dead = d == DIAL_USELESS;
    }
}

/* ------------------------------------------------------------------ ticks */

static uint64_t next_tick(const struct rill__sim_peer *p, uint64_t after)
{
    uint64_t since = after >= p->tick_phase ? after - p->tick_phase : 0;
    return p->tick_phase + (since / SIM_TICK_MS + 1) * SIM_TICK_MS;
}

static bool downloading(const struct rill__sim_peer *p)
{
    return p->state == SIM_ACTIVE && !p->complete;
}

/* Arms the tick for when it has something to do: every second while
 * downloading (idle connections ask again, and with no connection at all
 * it asks the tracker), else when a candidate may be dialled. */
void rill__sim_arm_tick(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    if (p->state != SIM_ACTIVE)
        return;
    uint64_t at = UINT64_MAX;
    if (downloading(p))
        at = next_tick(p, s->now_ms);
    for (uint32_t i = 0; p->nconns < SIM_MAX_CONNS && i < p->ncands; i++) {
        const struct rill__sim_cand *c = &p->cands[i];
        if (!c->connected && !c->dead && c->retry_ms < at)
            at = c->retry_ms;
    }
    if (at == UINT64_MAX)
        return;
    at = next_tick(p, at > s->now_ms ? at - 1 : s->now_ms);
    if (p->tick_ms <= at && p->tick_ms > s->now_ms)
        return; /* an earlier tick is armed */
    p->tick_ms = at;
    p->gen[SIM_EV_TICK]++;
    rill__sim_push(s, at, SIM_EV_TICK, peer);
}

/* Whether a connected peer has something `peer` wants (is interesting). */
static bool someone_interesting(const struct rill__sim *s, uint32_t peer)
{
    const struct rill__sim_peer *p = &s->peers[peer];
    for (uint32_t i = 0; i < p->nconns; i++) {
        const struct rill__sim_conn *c = &s->conns[p->conns[i]];
        uint32_t j = c->p[0] == peer ? 0 : 1;
        if (c->d[1 - j].interested) /* data towards `peer` */
            return true;
    }
    return false;
}

void rill__sim_tick(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    p->tick_ms = UINT64_MAX;
    connect_some(s, peer);
    rill__sim_top_up_idle(s, peer);
    if (downloading(p) && (p->nconns == 0 || !someone_interesting(s, peer))) {
        /* No one to trade with, or no one with anything we want: ask the
         * tracker again, no sooner than its min interval (the client's
         * torrent tick and the announcer's want_peers). */
        uint64_t at = p->last_announce_ms + SIM_REANNOUNCE_MS;
        if (at < s->now_ms)
            at = s->now_ms;
        if (at < p->announce_ms) {
            p->announce_ms = at;
            p->gen[SIM_EV_ANNOUNCE]++;
            rill__sim_push(s, at, SIM_EV_ANNOUNCE, peer);
        }
    }
    rill__sim_arm_tick(s, peer);
}

void rill__sim_announce(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    if (p->state != SIM_ACTIVE)
        return;
    uint32_t got[SIM_NUMWANT];
    uint32_t n = tracker_sample(s, peer, got);
    for (uint32_t i = 0; i < n; i++)
        add_candidate(s, peer, got[i]);
    p->last_announce_ms = s->now_ms;
    p->announce_ms = s->now_ms + SIM_INTERVAL_MS;
    p->gen[SIM_EV_ANNOUNCE]++;
    rill__sim_push(s, p->announce_ms, SIM_EV_ANNOUNCE, peer);
    connect_some(s, peer); /* the client dials at once on new candidates */
    rill__sim_arm_tick(s, peer);
}

/* ------------------------------------------------------------ life cycle */

/* Arrival, or return from churn with the pieces it had (a resume file). The
 * first decision of its choker comes at the first tick, or sooner when an
 * interested message arrives. */
void rill__sim_arrive(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    int rc = 0;
    p->state = SIM_ACTIVE;
    p->tick_phase = s->now_ms;
    p->ncands = 0;
    if (!p->complete)
        rc = rill__sim_picker_start(s, peer);
    if (rc == 0 && p->uploads) {
        rc = rill_choker_init(&p->choker, &s->co, &s->rng);
        if (rc == 0)
            rc = rill_choker_reserve(&p->choker, SIM_MAX_CONNS);
    }
    if (rc) {
        s->err = rc;
        return;
    }
    tracker_add(s, peer);
    p->choke_ms = s->now_ms + SIM_TICK_MS;
    p->gen[SIM_EV_CHOKE]++;
    rill__sim_push(s, p->choke_ms, SIM_EV_CHOKE, peer);
    rill__sim_announce(s, peer);
}

/* Leaves the swarm: every connection closed, the tracker told, the picker
 * and choker gone (a process that exits); back after `away_ms` if churning. */
static void leave(struct rill__sim *s, uint32_t peer, bool away, uint64_t away_ms)
{
    struct rill__sim_peer *p = &s->peers[peer];
    while (p->nconns)
        rill__sim_close(s, p->conns[p->nconns - 1]);
    tracker_remove(s, peer);
    if (p->picking)
        rill_picker_free(&p->picker);
    p->picking = false;
    s->st.waste += p->pending; /* unverified pieces are not in a resume file */
    p->pending = 0;
    if (p->uploads)
        rill_choker_free(&p->choker);
    for (uint32_t k = 0; k < SIM_EV_KINDS; k++)
        p->gen[k]++;
    p->tick_ms = p->announce_ms = p->choke_ms = UINT64_MAX;
    p->state = away ? SIM_AWAY : SIM_GONE;
    if (away)
        rill__sim_push(s, s->now_ms + away_ms, SIM_EV_ARRIVE, peer);
}

void rill__sim_churn(struct rill__sim *s, uint32_t peer)
{
    if (s->peers[peer].state != SIM_ACTIVE)
        return;
    double away = s->plan[peer].away_s * 1000.0;
    leave(s, peer, true, (uint64_t)(away + 0.5));
}

/* The download is complete: the picker goes; then it leaves, or seeds:
 * connections to other seeds close, the tracker hears `completed` (and
 * answers with peers), and the choker switches to seeding. */
void rill__sim_after_complete(struct rill__sim *s, uint32_t peer)
{
    struct rill__sim_peer *p = &s->peers[peer];
    if (p->state != SIM_ACTIVE || !p->picking)
        return;
    for (uint32_t i = 0; i < p->nconns; i++) {
        uint32_t conn = p->conns[i];
        rill__sim_unregister(s, conn, s->conns[conn].p[0] == peer ? 1 : 0);
    }
    rill_picker_free(&p->picker);
    p->picking = false;
    if (s->c->leave || !p->uploads) {
        /* Leaving, or complete and uploading nothing: the client's idle seed
         * closes every connection and refuses new ones, so it may as well
         * be gone. */
        leave(s, peer, false, 0);
        return;
    }
    for (uint32_t i = p->nconns; i-- > 0;) {
        const struct rill__sim_conn *c = &s->conns[p->conns[i]];
        if (s->peers[c->p[c->p[0] == peer ? 1 : 0]].complete)
            rill__sim_close(s, p->conns[i]);
    }
    rill__sim_announce(s, peer);
    rill__sim_want_rechoke(s, peer);
}
