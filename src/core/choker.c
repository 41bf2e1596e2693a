/* Tit-for-tat choker with optimistic unchoke, snubbing and seed rotation
 * (see choker.h for the policy). One decision sorts the eligible peers once:
 * O(n log n); the optimistic draw is O(n) per optimistic slot. */
#include "core/choker.h"

#include <stdlib.h>
#include <string.h>

#include "rill.h"

/* Sort key of one candidate: bigger is better, compared field by field; the
 * index last makes the order total, so a seed replays exactly. */
struct rill_choker_entry {
    uint64_t k1;
    uint64_t k2;
    uint32_t cls;
    uint32_t rnd;
    uint32_t idx;
};

void rill_choker_opts_default(struct rill_choker_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = RILL_CHOKER_TIT_FOR_TAT;
    o->slots = 4;
    o->optimistic_slots = 1;
    o->interval_ms = 10000;
    o->optimistic_interval_ms = 30000;
    o->snub_ms = 60000;
    o->newcomer_ms = 60000;
    o->newcomer_weight = 3;
    o->rotate_ms = 30000;
    o->rotate_bytes = 0;
}

int rill_choker_init(struct rill_choker *c, const struct rill_choker_opts *o, struct rill_rng *rng)
{
    memset(c, 0, sizeof *c);
    if (o)
        c->opts = *o;
    else
        rill_choker_opts_default(&c->opts);
    const struct rill_choker_opts *p = &c->opts;
    if (!rng || p->interval_ms == 0 || p->optimistic_interval_ms == 0 || p->newcomer_weight == 0 ||
        p->mode > RILL_CHOKER_NONE)
        return RILL_EINVAL;
    c->rng = rng;
    return 0;
}

void rill_choker_free(struct rill_choker *c)
{
    free(c->scratch);
    c->scratch = NULL;
    c->scratch_cap = 0;
}

int rill_choker_reserve(struct rill_choker *c, size_t n)
{
    if (n <= c->scratch_cap)
        return 0;
    size_t cap = c->scratch_cap ? c->scratch_cap : 16;
    while (cap < n)
        cap *= 2;
    if (cap > SIZE_MAX / sizeof *c->scratch)
        return RILL_ENOMEM;
    struct rill_choker_entry *p = realloc(c->scratch, cap * sizeof *p);
    if (!p)
        return RILL_ENOMEM;
    c->scratch = p;
    c->scratch_cap = cap;
    return 0;
}

bool rill_choker_snubbed(const struct rill_choker_opts *o, const struct rill_choker_peer *p,
                         uint64_t now_ms)
{
    if (!p->am_interested)
        return false;
    uint64_t since = p->last_block_ms;
    if (p->interested_at_ms > since)
        since = p->interested_at_ms;
    if (p->connected_at_ms > since)
        since = p->connected_at_ms;
    return now_ms >= since && now_ms - since >= o->snub_ms;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const struct rill_choker_entry *a = pa, *b = pb;
    if (a->cls != b->cls)
        return a->cls > b->cls ? -1 : 1;
    if (a->k1 != b->k1)
        return a->k1 > b->k1 ? -1 : 1;
    if (a->k2 != b->k2)
        return a->k2 > b->k2 ? -1 : 1;
    if (a->rnd != b->rnd)
        return a->rnd > b->rnd ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Moves a deadline past `now`, keeping its phase even when calls came late. */
static uint64_t advance(uint64_t next, uint32_t interval, uint64_t now)
{
    if (next <= now)
        next += ((now - next) / interval + 1) * interval;
    return next;
}

static bool wants_upload(const struct rill_choker_peer *p)
{
    return p->peer_interested && !p->is_seed;
}

/* Seeding / round-robin: has the current unchoke used up its quota? */
static bool quota_done(const struct rill_choker_opts *o, const struct rill_choker_peer *p,
                       uint64_t now)
{
    if (now >= p->st.unchoked_at_ms && now - p->st.unchoked_at_ms >= o->rotate_ms)
        return true;
    return o->rotate_bytes && p->uploaded >= p->st.uploaded_at_unchoke &&
           p->uploaded - p->st.uploaded_at_unchoke >= o->rotate_bytes;
}

/* Tit-for-tat while downloading: by download rate from the peer. In a
 * recomputation the current regular peers come first, so they stay. */
static void key_tit_for_tat(struct rill_choker_entry *e, const struct rill_choker_peer *p,
                            bool full)
{
    bool cur = p->unchoked && !p->st.optimistic;
    e->cls = full ? 0 : cur;
    e->k1 = p->down_rate;
    e->k2 = (uint64_t)p->unchokes_us << 1 | (full && cur);
}

/* Rotation (seeding, or round-robin mode): unchoked peers within their quota,
 * then waiting peers longest first, then peers that used their quota. */
static void key_rotation(const struct rill_choker *c, struct rill_choker_entry *e,
                         const struct rill_choker_peer *p, uint64_t now, bool full)
{
    bool by_rate = c->opts.mode == RILL_CHOKER_TIT_FOR_TAT;
    bool cur = p->unchoked && !p->st.optimistic;
    if (cur && !(full && quota_done(&c->opts, p, now))) {
        e->cls = 2;
        e->k1 = by_rate ? p->up_rate : 0;
        e->k2 = 0;
    } else if (!cur) {
        uint64_t since =
            p->st.choked_at_ms > p->connected_at_ms ? p->st.choked_at_ms : p->connected_at_ms;
        if (p->unchoked || since > now)
            since = now; /* an optimistic holder is being served: no wait */
        e->cls = 1;
        e->k1 = now - since;
        e->k2 = by_rate ? p->up_rate : 0;
    } else {
        /* Quota used: the fastest (or, ignoring rates, the most recently
         * unchoked) stay if slots remain after the waiting peers. */
        e->cls = 0;
        e->k1 = by_rate ? p->up_rate : p->st.unchoked_at_ms;
        e->k2 = 0;
    }
}

/* Fills the regular slots: ranks the eligible peers and unchokes the best
 * `slots`. A peer that gets a regular slot no longer holds an optimistic one. */
static void choose_regular(struct rill_choker *c, struct rill_choker_peer *peers, size_t n,
                           uint64_t now, bool seeding, bool full)
{
    bool tft = c->opts.mode == RILL_CHOKER_TIT_FOR_TAT && !seeding;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rill_choker_peer *p = &peers[i];
        if (!wants_upload(p) || (!full && p->st.optimistic))
            continue;
        if (tft && rill_choker_snubbed(&c->opts, p, now))
            continue;
        struct rill_choker_entry *e = &c->scratch[m++];
        if (tft)
            key_tit_for_tat(e, p, full);
        else
            key_rotation(c, e, p, now, full);
        e->rnd = (uint32_t)rill_rng_next(c->rng);
        e->idx = (uint32_t)i;
    }
    if (m > 1)
        qsort(c->scratch, m, sizeof *c->scratch, cmp_entry);
    for (size_t k = 0; k < m && k < c->opts.slots; k++) {
        struct rill_choker_peer *p = &peers[c->scratch[k].idx];
        p->unchoke = true;
        p->st.optimistic = false;
    }
}

/* Weighted draw without replacement among the candidates in scratch[0..m):
 * k1 is the weight (0 once drawn), cls 1 marks a holder being rotated out,
 * drawn only when nobody else is left. Returns the index into scratch, or
 * m when no candidate remains. */
static size_t draw(struct rill_choker *c, size_t m)
{
    for (uint32_t pass = 0; pass < 2; pass++) {
        uint64_t total = 0;
        for (size_t k = 0; k < m; k++)
            if (c->scratch[k].cls == pass)
                total += c->scratch[k].k1;
        if (total == 0)
            continue;
        uint64_t r = rill_rng_below(c->rng, total);
        for (size_t k = 0; k < m; k++) {
            if (c->scratch[k].cls != pass)
                continue;
            if (r < c->scratch[k].k1)
                return k;
            r -= c->scratch[k].k1;
        }
    }
    return m;
}

/* Keeps the optimistic holders (unless rotating) and fills the free
 * optimistic slots by a draw that favours newcomers. */
static void choose_optimistic(struct rill_choker *c, struct rill_choker_peer *peers, size_t n,
                              uint64_t now, bool rotate)
{
    const struct rill_choker_opts *o = &c->opts;
    size_t held = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        struct rill_choker_peer *p = &peers[i];
        bool ok = wants_upload(p) && !p->unchoke;
        bool was = p->st.optimistic;
        if (was && ok && !rotate && held < o->optimistic_slots) {
            p->unchoke = true;
            held++;
            continue;
        }
        p->st.optimistic = false;
        if (!ok || o->optimistic_slots == 0)
            continue;
        bool young = p->connected_at_ms > now || now - p->connected_at_ms < o->newcomer_ms;
        struct rill_choker_entry *e = &c->scratch[m++];
        e->k1 = young ? o->newcomer_weight : 1;
        e->cls = was && rotate;
        e->idx = (uint32_t)i;
    }
    while (held < o->optimistic_slots) {
        size_t k = draw(c, m);
        if (k == m)
            break;
        struct rill_choker_peer *p = &peers[c->scratch[k].idx];
        c->scratch[k].k1 = 0;
        p->unchoke = true;
        p->st.optimistic = true;
        held++;
    }
}

/* Records when unchokes begin and end, for rotation and waiting order. */
static void update_state(struct rill_choker_peer *peers, size_t n, uint64_t now)
{
    for (size_t i = 0; i < n; i++) {
        struct rill_choker_peer *p = &peers[i];
        if (p->unchoke && !p->unchoked) {
            p->st.unchoked_at_ms = now;
            p->st.uploaded_at_unchoke = p->uploaded;
        } else if (!p->unchoke && p->unchoked) {
            p->st.choked_at_ms = now;
        }
        if (!p->unchoke)
            p->st.optimistic = false;
    }
}

int rill_choker_decide(struct rill_choker *c, struct rill_choker_peer *peers, size_t n,
                       uint64_t now_ms, bool seeding, uint64_t *next_ms)
{
    if (n >= UINT32_MAX)
        return RILL_EINVAL;
    int rc = rill_choker_reserve(c, n);
    if (rc)
        return rc;
    if (!c->started || seeding != c->seeding) {
        c->started = true;
        c->seeding = seeding;
        c->next_regular_ms = now_ms;
        c->next_optimistic_ms = now_ms;
    }
    bool full = now_ms >= c->next_regular_ms;
    bool rotate = now_ms >= c->next_optimistic_ms;
    c->next_regular_ms = advance(c->next_regular_ms, c->opts.interval_ms, now_ms);
    c->next_optimistic_ms = advance(c->next_optimistic_ms, c->opts.optimistic_interval_ms, now_ms);

    bool none = c->opts.mode == RILL_CHOKER_NONE;
    for (size_t i = 0; i < n; i++) {
        peers[i].unchoke = none && wants_upload(&peers[i]);
        if (none)
            peers[i].st.optimistic = false;
    }
    if (!none) {
        choose_regular(c, peers, n, now_ms, seeding, full);
        choose_optimistic(c, peers, n, now_ms, rotate);
    }
    update_state(peers, n, now_ms);

    uint64_t next = c->next_regular_ms;
    if (!none && c->opts.optimistic_slots > 0 && c->next_optimistic_ms < next)
        next = c->next_optimistic_ms;
    if (next_ms)
        *next_ms = next;
    return 0;
}
