/* The tracker swarm: torrents in an open-addressing table keyed by a seeded
 * hash of the info-hash, each record holding one compact peer table per
 * address family (swarm_table.c) and its counts. Ages are kept in minutes
 * mod 256 per peer, so expiry is a sweep comparing one byte. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/swarm.h"
#include "core/swarm_internal.h"

#define MINUTE_MS 60000u
/* A peer's age byte wraps every 256 minutes, so the silence allowed
 * (interval + grace) must stay well under that: grace is capped at an hour,
 * making it at most 180 minutes with the longest interval. */
#define GRACE_MAX_S 3600u
#define TT_MIN_SHIFT 4u

/* 72 bytes, an 80-byte malloc chunk, for a torrent of up to 3 IPv4 peers
 * (most torrents of a big tracker have one or two): the key, the count of
 * downloads, the IPv4 table's header and its segment 0 (4 slots, holding 3
 * peers at 15/16 load). IPv6 is rare, so it costs nothing until it comes:
 * the first IPv6 peer moves IPv4 segment 0 to the heap and the IPv6 table's
 * header takes its place in the record. So the IPv6 table exists exactly
 * when IPv4 segment 0 is not borrowed. */
struct torrent {
    uint8_t hash[RILL_SHA1_LEN];
    uint32_t downloaded;
    struct rill__ptab v4;
    union {
        uint8_t seg0[RILL__PTAB_SEG0_SLOTS * 8]; /* v4.borrowed */
        struct rill__ptab v6;                    /* !v4.borrowed */
    } u;
};

#define RECORD_BYTES sizeof(struct torrent)
static_assert(sizeof(struct torrent) <= 72, "a record beyond 72 bytes takes a 96-byte chunk");

/* For reading the IPv6 table of a torrent that has none. */
static const struct rill__ptab no_peers;

struct rill_swarm {
    struct rill_swarm_limits lim;
    struct rill_rng *rng;
    struct rill__pfam fam[2];
    uint64_t tseed[2];
    struct torrent **tt; /* (1 << tshift) slots, NULL when no torrent */
    unsigned tshift;
    uint8_t limit_min; /* ceil((interval + grace) / 60) */
    struct rill_swarm_stats st;
};

static uint32_t clamp32(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void limits_apply(struct rill_swarm_limits *l, const struct rill_swarm_limits *in)
{
    if (in)
        *l = *in;
    else
        memset(l, 0, sizeof *l);
    if (!l->max_torrents)
        l->max_torrents = 100000;
    if (!l->max_peers_per_torrent)
        l->max_peers_per_torrent = 100000;
    if (l->max_peers_per_torrent > RILL__PTAB_COUNT_MAX)
        l->max_peers_per_torrent = RILL__PTAB_COUNT_MAX;
    if (!l->interval_s)
        l->interval_s = RILL_TRACKER_INTERVAL_DEFAULT;
    l->interval_s = clamp32(l->interval_s, RILL_TRACKER_INTERVAL_MIN, RILL_TRACKER_INTERVAL_MAX);
    if (!l->min_interval_s)
        l->min_interval_s = l->interval_s / 2;
    if (l->min_interval_s > l->interval_s)
        l->min_interval_s = l->interval_s;
    if (!l->grace_s)
        l->grace_s = l->interval_s / 2;
    if (l->grace_s > GRACE_MAX_S)
        l->grace_s = GRACE_MAX_S;
}

int rill_swarm_new(struct rill_swarm **out, const struct rill_swarm_limits *limits,
                   struct rill_rng *rng)
{
    if (!out || !rng)
        return RILL_EINVAL;
    *out = NULL;
    struct rill_swarm *s = calloc(1, sizeof *s);
    if (!s)
        return RILL_ENOMEM;
    limits_apply(&s->lim, limits);
    s->limit_min = (uint8_t)((s->lim.interval_s + s->lim.grace_s + 59) / 60);
    s->rng = rng;
    s->fam[0].slot_len = 8;
    s->fam[0].key_len = RILL_SWARM_PEER4_LEN;
    s->fam[1].slot_len = 20;
    s->fam[1].key_len = RILL_SWARM_PEER6_LEN;
    for (int i = 0; i < 2; i++) {
        s->fam[i].seed[0] = rill_rng_next(rng);
        s->fam[i].seed[1] = rill_rng_next(rng);
        s->tseed[i] = rill_rng_next(rng);
    }
    s->st.memory_bytes = sizeof *s;
    *out = s;
    return 0;
}

static bool has6(const struct torrent *t)
{
    return !t->v4.borrowed;
}

/* A torrent's table for family fi, or NULL when it has no IPv6 table. */
static struct rill__ptab *tab_of(struct torrent *t, int fi)
{
    return fi == 0 ? &t->v4 : has6(t) ? &t->u.v6 : NULL;
}

static const struct rill__ptab *ctab_of(const struct torrent *t, int fi)
{
    return fi == 0 ? &t->v4 : has6(t) ? &t->u.v6 : &no_peers;
}

/* Makes room for the IPv6 table in the record (see struct torrent). */
static int torrent_ext(struct rill_swarm *s, struct torrent *t)
{
    if (has6(t))
        return 0;
    int rc = rill__ptab_unborrow(&t->v4, &s->fam[0], &s->st.memory_bytes);
    if (rc)
        return rc;
    memset(&t->u, 0, sizeof t->u);
    return 0;
}

static void torrent_free(struct rill_swarm *s, struct torrent *t)
{
    rill__ptab_free(&t->v4, &s->fam[0], &s->st.memory_bytes);
    if (has6(t))
        rill__ptab_free(&t->u.v6, &s->fam[1], &s->st.memory_bytes);
    free(t);
    s->st.memory_bytes -= RECORD_BYTES;
}

void rill_swarm_free(struct rill_swarm *s)
{
    if (!s)
        return;
    size_t cap = s->tt ? (size_t)1 << s->tshift : 0;
    for (size_t i = 0; i < cap; i++)
        if (s->tt[i])
            torrent_free(s, s->tt[i]);
    free(s->tt);
    free(s);
}

/* ------------------------------------------------------------ torrent table */

static size_t tt_home(const struct rill_swarm *s, const uint8_t *hash, size_t mask)
{
    uint64_t w[3] = {0, 0, 0};
    memcpy(w, hash, RILL_SHA1_LEN);
    uint64_t h = rill__mix64(s->tseed[0] ^ w[0]);
    h = rill__mix64(h ^ w[1]);
    return (size_t)rill__mix64(h ^ w[2] ^ s->tseed[1]) & mask;
}

static size_t tt_find(const struct rill_swarm *s, const uint8_t *hash)
{
    if (!s->tt)
        return SIZE_MAX;
    size_t mask = ((size_t)1 << s->tshift) - 1;
    for (size_t i = tt_home(s, hash, mask); s->tt[i]; i = (i + 1) & mask)
        if (memcmp(s->tt[i]->hash, hash, RILL_SHA1_LEN) == 0)
            return i;
    return SIZE_MAX;
}

static size_t tt_place(const struct rill_swarm *s, struct torrent **tt, unsigned shift,
                       struct torrent *t)
{
    size_t mask = ((size_t)1 << shift) - 1, i = tt_home(s, t->hash, mask);
    while (tt[i])
        i = (i + 1) & mask;
    tt[i] = t;
    return i;
}

static int tt_resize(struct rill_swarm *s, unsigned shift)
{
    struct torrent **nt = calloc((size_t)1 << shift, sizeof *nt);
    if (!nt)
        return RILL_ENOMEM;
    if (s->tt) {
        for (size_t i = 0, cap = (size_t)1 << s->tshift; i < cap; i++)
            if (s->tt[i])
                tt_place(s, nt, shift, s->tt[i]);
        free(s->tt);
        s->st.memory_bytes -= ((uint64_t)1 << s->tshift) * sizeof *nt;
    }
    s->tt = nt;
    s->tshift = shift;
    s->st.memory_bytes += ((uint64_t)1 << shift) * sizeof *nt;
    return 0;
}

/* Removes slot i with a backward shift, as the peer tables do. */
static void tt_remove_at(struct rill_swarm *s, size_t i)
{
    size_t mask = ((size_t)1 << s->tshift) - 1, hole = i;
    for (size_t j = (i + 1) & mask; s->tt[j]; j = (j + 1) & mask) {
        size_t home = tt_home(s, s->tt[j]->hash, mask);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            s->tt[hole] = s->tt[j];
            hole = j;
        }
    }
    s->tt[hole] = NULL;
    s->st.torrents--;
}

/* Frees an empty torrent table or shrinks one under 1/8 load to at most
 * half load; a failed allocation keeps the larger table. */
static void tt_fit(struct rill_swarm *s)
{
    if (!s->tt)
        return;
    if (!s->st.torrents) {
        free(s->tt);
        s->st.memory_bytes -= ((uint64_t)1 << s->tshift) * sizeof *s->tt;
        s->tt = NULL;
        s->tshift = 0;
        return;
    }
    if (s->tshift <= TT_MIN_SHIFT || s->st.torrents >= ((uint64_t)1 << s->tshift) / 8)
        return;
    unsigned shift = TT_MIN_SHIFT;
    while (((uint64_t)1 << shift) < 2 * s->st.torrents)
        shift++;
    (void)tt_resize(s, shift);
}

/* A new, empty torrent record, the table grown first past 3/4 load (a
 * lower load than the peer tables': each probe here reads a record). */
static int torrent_add(struct rill_swarm *s, const uint8_t *hash, struct torrent **out)
{
    if (!s->tt || (s->st.torrents + 1) * 4 > ((uint64_t)3 << s->tshift)) {
        int rc = tt_resize(s, s->tt ? s->tshift + 1 : TT_MIN_SHIFT);
        if (rc)
            return rc;
    }
    struct torrent *t = calloc(1, RECORD_BYTES);
    if (!t)
        return RILL_ENOMEM;
    t->v4.top = t->u.seg0;
    t->v4.borrowed = 1;
    memcpy(t->hash, hash, RILL_SHA1_LEN);
    tt_place(s, s->tt, s->tshift, t);
    s->st.torrents++;
    s->st.memory_bytes += RECORD_BYTES;
    *out = t;
    return 0;
}

/* ----------------------------------------------------------------- announce */

static int family_index(int family)
{
    return family == RILL_TRACKER_IPV4 ? 0 : family == RILL_TRACKER_IPV6 ? 1 : -1;
}

static uint8_t minute_of(uint64_t now_ms)
{
    return (uint8_t)(now_ms / MINUTE_MS);
}

/* Finds the announced torrent, creating it unless the event is stopped
 * (then *out may be NULL) or max_torrents are tracked (RILL_ELIMIT). */
static int torrent_get(struct rill_swarm *s, const struct rill_swarm_announce *a,
                       struct torrent **out)
{
    size_t i = tt_find(s, a->info_hash);
    *out = i == SIZE_MAX ? NULL : s->tt[i];
    if (*out || a->event == RILL_TRACKER_EVENT_STOPPED)
        return 0;
    if (s->st.torrents >= s->lim.max_torrents) {
        s->st.refused_torrents++;
        return RILL_ELIMIT;
    }
    return torrent_add(s, a->info_hash, out);
}

/* Moves one peer between seeders and leechers in the swarm totals. */
static void totals_add(struct rill_swarm *s, bool seed, int delta)
{
    uint64_t *c = seed ? &s->st.seeders : &s->st.leechers;
    *c = delta > 0 ? *c + 1 : *c - 1;
}

static void peer_stop(struct rill_swarm *s, struct rill__ptab *pt, int fi, size_t i,
                      const uint8_t *slot)
{
    const struct rill__pfam *f = &s->fam[fi];
    totals_add(s, slot[f->key_len] & RILL__PEER_SEED, -1);
    rill__ptab_remove_at(pt, f, i);
    rill__ptab_fit(pt, f, &s->st.memory_bytes);
}

static void peer_refresh(struct rill_swarm *s, struct torrent *t, struct rill__ptab *pt, int fi,
                         uint8_t *slot, const struct rill_swarm_announce *a, uint8_t now_min)
{
    uint8_t *flags = slot + s->fam[fi].key_len;
    bool was_seed = *flags & RILL__PEER_SEED;
    if (was_seed != a->seed) {
        pt->seeds = a->seed ? pt->seeds + 1 : pt->seeds - 1;
        totals_add(s, was_seed, -1);
        totals_add(s, a->seed, +1);
    }
    flags[0] = (uint8_t)(RILL__PEER_USED | (a->seed ? RILL__PEER_SEED : 0));
    flags[1] = now_min;
    /* Only a leecher turning seeder counts: a repeated completed does not. */
    if (a->event == RILL_TRACKER_EVENT_COMPLETED && a->seed && !was_seed)
        t->downloaded++;
}

/* Registers, refreshes or removes the announcer; *self is its slot. */
static int peer_update(struct rill_swarm *s, struct torrent *t, int fi, const uint8_t *key,
                       const struct rill_swarm_announce *a, uint8_t now_min,
                       struct rill_swarm_result *r, size_t *self)
{
    struct rill__ptab *pt = tab_of(t, fi);
    uint8_t *slot = NULL;
    size_t i = pt ? rill__ptab_find(pt, &s->fam[fi], key, &slot) : SIZE_MAX;
    *self = SIZE_MAX;
    if (a->event == RILL_TRACKER_EVENT_STOPPED) {
        if (i != SIZE_MAX)
            peer_stop(s, pt, fi, i, slot);
        return 0;
    }
    if (i != SIZE_MAX) {
        peer_refresh(s, t, pt, fi, slot, a, now_min);
        *self = i;
        r->registered = true;
        return 0;
    }
    if (pt && pt->count >= s->lim.max_peers_per_torrent) {
        s->st.unregistered_peers++; /* answered, not stored */
    } else {
        int rc = pt ? 0 : torrent_ext(s, t);
        if (rc)
            return rc;
        pt = tab_of(t, fi);
        uint8_t flags = a->seed ? RILL__PEER_SEED : 0;
        rc = rill__ptab_insert(pt, &s->fam[fi], key, flags, now_min, self, &s->st.memory_bytes);
        if (rc)
            return rc;
        totals_add(s, a->seed, +1);
        r->registered = true;
    }
    if (a->event == RILL_TRACKER_EVENT_COMPLETED && a->seed)
        t->downloaded++;
    return 0;
}

static void pick_peers(struct rill_swarm *s, const struct torrent *t, int fi, size_t self,
                       const struct rill_swarm_announce *a, struct rill_swarm_result *r)
{
    size_t want = a->numwant < RILL_TRACKER_NUMWANT_MAX ? a->numwant : RILL_TRACKER_NUMWANT_MAX;
    size_t w4 = !r->peers4 ? 0 : r->cap4 < want ? r->cap4 : want;
    size_t w6 = !r->peers6 ? 0 : r->cap6 < want ? r->cap6 : want;
    r->n4 = rill__ptab_pick(ctab_of(t, 0), &s->fam[0], fi == 0 ? self : SIZE_MAX, a->seed, w4,
                            r->peers4, s->rng);
    r->n6 = rill__ptab_pick(ctab_of(t, 1), &s->fam[1], fi == 1 ? self : SIZE_MAX, a->seed, w6,
                            r->peers6, s->rng);
}

static void fill_counts(const struct torrent *t, struct rill_swarm_result *r)
{
    const struct rill__ptab *t6 = ctab_of(t, 1);
    r->complete = t->v4.seeds + t6->seeds;
    r->incomplete = (uint32_t)(t->v4.count + t6->count) - r->complete;
    r->downloaded = t->downloaded;
}

int rill_swarm_announce(struct rill_swarm *s, const struct rill_swarm_announce *a, uint64_t now_ms,
                        struct rill_swarm_result *r)
{
    if (!s || !a || !r)
        return RILL_EINVAL;
    int fi = family_index(a->family);
    if (fi < 0 || a->port == 0)
        return RILL_EINVAL;
    r->n4 = r->n6 = 0;
    r->complete = r->incomplete = r->downloaded = 0;
    r->interval = s->lim.interval_s;
    r->min_interval = s->lim.min_interval_s;
    r->registered = false;
    s->st.announces++;
    struct torrent *t;
    int rc = torrent_get(s, a, &t);
    if (rc || !t)
        return rc;
    /* The slot's key is the compact wire entry: address, port big-endian. */
    uint8_t key[RILL_SWARM_PEER6_LEN];
    size_t alen = fi == 0 ? 4 : 16;
    memcpy(key, a->addr, alen);
    key[alen] = (uint8_t)(a->port >> 8);
    key[alen + 1] = (uint8_t)a->port;
    size_t self;
    rc = peer_update(s, t, fi, key, a, minute_of(now_ms), r, &self);
    if (rc)
        return rc; /* a torrent left empty goes at the next sweep */
    if (a->event != RILL_TRACKER_EVENT_STOPPED)
        pick_peers(s, t, fi, self, a, r);
    fill_counts(t, r);
    return 0;
}

/* ------------------------------------------------------ scrape, expiry, stats */

void rill_swarm_scrape(struct rill_swarm *s, const uint8_t info_hash[RILL_SHA1_LEN],
                       struct rill_tracker_scrape_entry *e)
{
    s->st.scrapes++;
    size_t i = tt_find(s, info_hash);
    memmove(e->info_hash, info_hash, RILL_SHA1_LEN);
    e->complete = e->incomplete = e->downloaded = 0;
    if (i == SIZE_MAX)
        return;
    struct rill_swarm_result r;
    fill_counts(s->tt[i], &r);
    e->complete = r.complete;
    e->incomplete = r.incomplete;
    e->downloaded = r.downloaded;
}

/* Sweeps one torrent's tables; returns the number of peers dropped. */
static size_t torrent_expire(struct rill_swarm *s, struct torrent *t, uint8_t now_min)
{
    size_t total = 0;
    for (int fi = 0; fi < 2; fi++) {
        struct rill__ptab *pt = tab_of(t, fi);
        if (!pt)
            continue;
        size_t seeds = 0;
        size_t n =
            rill__ptab_expire(pt, &s->fam[fi], now_min, s->limit_min, &seeds, &s->st.memory_bytes);
        s->st.seeders -= seeds;
        s->st.leechers -= n - seeds;
        total += n;
    }
    return total;
}

size_t rill_swarm_expire(struct rill_swarm *s, uint64_t now_ms)
{
    if (!s->tt)
        return 0;
    uint8_t now_min = minute_of(now_ms);
    size_t cap = (size_t)1 << s->tshift, mask = cap - 1, e = 0, total = 0;
    /* As in the peer tables: start after a free slot so that removals,
     * which refill slot i from later in its cluster, never skip one. */
    while (s->tt[e])
        e++;
    for (size_t k = 1; k <= cap;) {
        size_t i = (e + k) & mask;
        struct torrent *t = s->tt[i];
        if (t) {
            total += torrent_expire(s, t, now_min);
            if (!t->v4.count && !ctab_of(t, 1)->count) {
                tt_remove_at(s, i);
                torrent_free(s, t);
                continue;
            }
        }
        k++;
    }
    tt_fit(s);
    s->st.expired += total;
    return total;
}

void rill_swarm_stats(const struct rill_swarm *s, struct rill_swarm_stats *st)
{
    *st = s->st;
}

const struct rill_swarm_limits *rill_swarm_limits(const struct rill_swarm *s)
{
    return &s->lim;
}
