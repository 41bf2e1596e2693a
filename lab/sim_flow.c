/* The simulator's flows: the list of directions carrying data, their rates
 * and one step of their progress.
 *
 * Rates approximate max-min fairness with local water-filling: each
 * uploader shares its upload rate equally among its flows; each downloader
 * whose flows would bring more than its download rate caps them at a common
 * level (water-filling over what they offer); then, if some flow was
 * capped, uploaders share again what the capped flows cannot take among
 * the others, and downloaders cap again, twice. Every pass keeps the
 * allocation feasible, so no peer ever sends or receives more than its
 * rate. The cost is O(flows) a pass; a downloader with spare capacity (the
 * usual case) needs no second pass at all. Groups are built by counting
 * sort over the peers a step touches, never over all peers. */
#include <math.h>
#include <stdlib.h>

#include "sim_internal.h"

#define ROUNDS 2

int rill__sim_rates_init(struct rill__sim_rates *r, uint32_t npeers)
{
    r->cnt = calloc(npeers, sizeof *r->cnt);
    r->start = calloc(npeers, sizeof *r->start);
    r->fill = calloc(npeers, sizeof *r->fill);
    return r->cnt && r->start && r->fill ? 0 : RILL_ENOMEM;
}

void rill__sim_rates_free(struct rill__sim_rates *r)
{
    free(r->cnt);
    free(r->start);
    free(r->fill);
    free(r->by_up);
    free(r->by_down);
    free(r->up_groups);
    free(r->down_groups);
    free(r->want);
    free(r->got);
    free(r->moved);
    free(r->up_cap);
    free(r->down_cap);
    free(r->mark);
    free(r->capped);
}

static int rates_reserve(struct rill__sim_rates *r, size_t n)
{
    if (n <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 1024;
    while (cap < n)
        cap *= 2;
    void *p[11] = {
        realloc(r->by_up, cap * sizeof *r->by_up),
        realloc(r->by_down, cap * sizeof *r->by_down),
        realloc(r->up_groups, cap * sizeof *r->up_groups),
        realloc(r->down_groups, cap * sizeof *r->down_groups),
        realloc(r->want, cap * sizeof *r->want),
        realloc(r->got, cap * sizeof *r->got),
        realloc(r->mark, cap),
        realloc(r->capped, cap),
        realloc(r->moved, cap * sizeof *r->moved),
        realloc(r->up_cap, cap * sizeof *r->up_cap),
        realloc(r->down_cap, cap * sizeof *r->down_cap),
    };
    /* realloc leaves the old block alone on failure: keep whichever is valid */
    r->by_up = p[0] ? p[0] : r->by_up;
    r->by_down = p[1] ? p[1] : r->by_down;
    r->up_groups = p[2] ? p[2] : r->up_groups;
    r->down_groups = p[3] ? p[3] : r->down_groups;
    r->want = p[4] ? p[4] : r->want;
    r->got = p[5] ? p[5] : r->got;
    r->mark = p[6] ? p[6] : r->mark;
    r->capped = p[7] ? p[7] : r->capped;
    r->moved = p[8] ? p[8] : r->moved;
    r->up_cap = p[9] ? p[9] : r->up_cap;
    r->down_cap = p[10] ? p[10] : r->down_cap;
    for (int i = 0; i < 11; i++)
        if (!p[i])
            return RILL_ENOMEM;
    r->cap = cap;
    return 0;
}

/* ------------------------------------------------------------- flow list */

static struct rill__sim_dir *flow_dir(struct rill__sim *s, const struct rill__sim_flow *f)
{
    struct rill__sim_conn *c = &s->conns[f->conn];
    return c->live && c->gen == f->gen ? &c->d[f->k] : NULL;
}

void rill__sim_flow_touch(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    struct rill__sim_dir *d = rill__sim_dir(s, conn, k);
    if (d->in_list || d->qlen == 0)
        return;
    if (s->nflows == s->flows_cap) {
        size_t cap = s->flows_cap ? s->flows_cap * 2 : 1024;
        struct rill__sim_flow *f = realloc(s->flows, cap * sizeof *f);
        if (!f) {
            s->err = RILL_ENOMEM;
            return;
        }
        s->flows = f;
        s->flows_cap = cap;
    }
    s->flows[s->nflows++] = (struct rill__sim_flow){conn, s->conns[conn].gen, k};
    d->in_list = true;
}

/* Keeps the flows that can carry data (blocks requested: an uploader that
 * chokes a peer drops its requests, but serves allowed-fast ones), in their
 * order. An entry of a closed
 * connection (its generation moved on) is dropped without touching the
 * slot, which may already hold a new connection. */
static void compact(struct rill__sim *s)
{
    size_t j = 0;
    for (size_t i = 0; i < s->nflows; i++) {
        struct rill__sim_dir *d = flow_dir(s, &s->flows[i]);
        if (!d)
            continue;
        if (d->qlen == 0) {
            d->in_list = false;
            continue;
        }
        s->flows[j++] = s->flows[i];
    }
    s->nflows = j;
}

/* ------------------------------------------------------------ allocation */

static uint32_t flow_peer(const struct rill__sim *s, uint32_t i, bool downloader)
{
    const struct rill__sim_flow *f = &s->flows[i];
    return s->conns[f->conn].p[downloader ? 1 - f->k : f->k];
}

/* Counting sort of the flows by uploader or downloader into `order`, with
 * one group per peer; per-peer counters are back to zero afterwards. */
static uint32_t group(struct rill__sim *s, bool downloader, uint32_t *order,
                      struct rill__sim_group *groups)
{
    struct rill__sim_rates *r = &s->r;
    uint32_t ng = 0, n = (uint32_t)s->nflows;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = flow_peer(s, i, downloader);
        if (r->cnt[p]++ == 0)
            groups[ng++].peer = p;
    }
    uint32_t off = 0;
    for (uint32_t g = 0; g < ng; g++) {
        uint32_t p = groups[g].peer;
        groups[g].start = r->start[p] = off;
        groups[g].len = r->cnt[p];
        off += r->cnt[p];
        r->fill[p] = 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = flow_peer(s, i, downloader);
        order[r->start[p] + r->fill[p]++] = i;
    }
    for (uint32_t g = 0; g < ng; g++)
        r->cnt[groups[g].peer] = 0;
    return ng;
}

/* Water-filling of `capacity` over the flows idx[0..n): each gets
 * min(want, level), the level chosen so the total is the capacity (or every
 * want is met). Each pass fixes the flows below the current level, which
 * only rises, so at most n passes, usually one or two. */
static void waterfill(struct rill__sim_rates *r, double capacity, const uint32_t *idx, uint32_t n)
{
    double rem = capacity;
    uint32_t left = n;
    for (uint32_t j = 0; j < n; j++)
        r->mark[idx[j]] = 0;
    for (bool changed = true; changed && left > 0;) {
        changed = false;
        double level = rem / left;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t f = idx[j];
            if (!r->mark[f] && r->want[f] <= level) {
                r->mark[f] = 1;
                rem -= r->want[f];
                left--;
                changed = true;
            }
        }
    }
    double level = left ? fmax(rem, 0) / left : 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t f = idx[j];
        r->got[f] = r->mark[f] ? r->want[f] : level;
    }
}

/* Uploaders share their rate; a flow capped by its downloader before wants
 * no more than it got, the others as much as they can. */
static void uploader_pass(struct rill__sim *s)
{
    struct rill__sim_rates *r = &s->r;
    for (uint32_t g = 0; g < r->nup; g++) {
        const struct rill__sim_group *gr = &r->up_groups[g];
        const uint32_t *idx = r->by_up + gr->start;
        for (uint32_t j = 0; j < gr->len; j++)
            r->want[idx[j]] = r->capped[idx[j]] ? r->got[idx[j]] : INFINITY;
        waterfill(r, r->up_cap[g], idx, gr->len);
    }
}

/* Downloaders over their rate cap what they are offered. True if any did. */
static bool downloader_pass(struct rill__sim *s)
{
    struct rill__sim_rates *r = &s->r;
    bool any = false;
    for (uint32_t g = 0; g < r->ndown; g++) {
        const struct rill__sim_group *gr = &r->down_groups[g];
        const uint32_t *idx = r->by_down + gr->start;
        double down = r->down_cap[g], sum = 0;
        for (uint32_t j = 0; j < gr->len; j++)
            sum += r->got[idx[j]];
        if (sum <= down * (1 + 1e-12))
            continue;
        any = true;
        for (uint32_t j = 0; j < gr->len; j++)
            r->want[idx[j]] = r->got[idx[j]];
        waterfill(r, down, idx, gr->len);
        for (uint32_t j = 0; j < gr->len; j++)
            if (r->got[idx[j]] < r->want[idx[j]])
                r->capped[idx[j]] = 1;
    }
    return any;
}

/* Brings a peer's buckets up to `now_ms` (they fill at the peer's rates up
 * to their size while unused). */
static void refill(struct rill__sim_peer *p, uint64_t now_ms)
{
    if (now_ms > p->tokens_ms) {
        double dt = (double)(now_ms - p->tokens_ms) / 1000.0;
        p->up_tokens = fmin(p->up_burst, p->up_tokens + p->up * dt);
        p->down_tokens = fmin(p->down_burst, p->down_tokens + p->down * dt);
        p->tokens_ms = now_ms;
    }
}

/* What each uploader and downloader may move this step, as a rate: its
 * rate plus what its bucket holds, spread over the step. */
static void capacities(struct rill__sim *s, uint64_t now_ms, uint32_t dt_ms)
{
    struct rill__sim_rates *r = &s->r;
    double dt = (double)dt_ms / 1000.0;
    for (uint32_t g = 0; g < r->nup; g++) {
        struct rill__sim_peer *p = &s->peers[r->up_groups[g].peer];
        refill(p, now_ms);
        r->up_cap[g] = p->up + p->up_tokens / dt;
    }
    for (uint32_t g = 0; g < r->ndown; g++) {
        struct rill__sim_peer *p = &s->peers[r->down_groups[g].peer];
        refill(p, now_ms);
        r->down_cap[g] = p->down + p->down_tokens / dt;
    }
}

size_t rill__sim_flows_prepare(struct rill__sim *s, uint64_t now_ms, uint32_t dt_ms)
{
    compact(s);
    size_t n = s->nflows;
    if (n == 0)
        return 0;
    struct rill__sim_rates *r = &s->r;
    if (rates_reserve(r, n)) {
        s->err = RILL_ENOMEM;
        return 0;
    }
    if (n > s->st.max_flows)
        s->st.max_flows = n;
    r->nup = group(s, false, r->by_up, r->up_groups);
    r->ndown = group(s, true, r->by_down, r->down_groups);
    capacities(s, now_ms, dt_ms);
    for (size_t i = 0; i < n; i++)
        r->capped[i] = 0;
    uploader_pass(s);
    for (int round = 0; round < ROUNDS && downloader_pass(s); round++)
        uploader_pass(s);
    downloader_pass(s);
    for (size_t i = 0; i < n; i++)
        s->conns[s->flows[i].conn].d[s->flows[i].k].rate_now = r->got[i];
    return n;
}

/* Takes what the step moved out of the buckets of the peers that moved it. */
static void charge(struct rill__sim *s, uint64_t end_ms, uint32_t dt_ms)
{
    struct rill__sim_rates *r = &s->r;
    double dt = (double)dt_ms / 1000.0;
    for (int down = 0; down < 2; down++) {
        uint32_t ng = down ? r->ndown : r->nup;
        for (uint32_t g = 0; g < ng; g++) {
            const struct rill__sim_group *gr = down ? &r->down_groups[g] : &r->up_groups[g];
            const uint32_t *idx = (down ? r->by_down : r->by_up) + gr->start;
            struct rill__sim_peer *p = &s->peers[gr->peer];
            double moved = 0;
            for (uint32_t j = 0; j < gr->len; j++)
                moved += r->moved[idx[j]];
            double *tokens = down ? &p->down_tokens : &p->up_tokens;
            double rate = down ? p->down : p->up, burst = down ? p->down_burst : p->up_burst;
            *tokens = fmax(0, fmin(burst, *tokens + rate * dt - moved));
            p->tokens_ms = end_ms;
        }
    }
}

/* ---------------------------------------------------------------- advance */

/* Moves one flow's bytes for the step, delivering each block as it
 * completes at its own time inside the step; a delivery refills the queue,
 * so the rest of the step goes on into the next blocks. */
static double advance_one(struct rill__sim *s, const struct rill__sim_flow *f, double t0_s,
                          double dt_s, uint64_t end_ms)
{
    struct rill__sim_dir *d = flow_dir(s, f);
    if (!d || d->rate_now <= 0)
        return 0;
    double rate = d->rate_now, budget = rate * dt_s, used = 0;
    while (d->qlen > 0 && s->err == 0) {
        uint32_t block = d->q[d->qhead];
        double need = rill__sim_block_len(s, block) - d->progress;
        if (need > budget - used + 1e-6) {
            d->progress += budget - used;
            return budget;
        }
        used += need;
        d->progress = 0;
        d->qhead = (d->qhead + 1) % d->qcap;
        d->qlen--;
        double t = t0_s + used / rate;
        uint64_t ms = (uint64_t)(t * 1000.0);
        s->now_ms = ms < end_ms ? ms : end_ms;
        rill__sim_deliver(s, f->conn, f->k, block, t);
    }
    d->progress = 0;
    return used;
}

void rill__sim_flows_advance(struct rill__sim *s, uint64_t t0_ms, uint32_t dt_ms)
{
    double t0_s = (double)t0_ms / 1000.0, dt_s = (double)dt_ms / 1000.0;
    size_t n = s->nflows; /* flows that start during the step wait for the next */
    for (size_t i = 0; i < n && s->err == 0; i++) {
        struct rill__sim_flow f = s->flows[i];
        s->r.moved[i] = advance_one(s, &f, t0_s, dt_s, t0_ms + dt_ms);
    }
    s->now_ms = t0_ms + dt_ms;
    charge(s, t0_ms + dt_ms, dt_ms);
}
