/* A torrent's life: checking what is on disk, the one-second tick that
 * drives connects, timeouts, choking and resume saving, and stopping. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/picker.h"
#include "core/ut_metadata.h"
#include "io/announcer.h"
#include "io/conn.h"
#include "io/lsd.h"
#include "io/sockaddr.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "io/workers.h"
#include "util/util.h"

#define DEFAULT_MAX_PEERS 50
#define RESUME_EVERY_MS 30000
#define CONNECTS_PER_TICK 8
#define HANDSHAKE_TIMEOUT_MS 20000
#define IDLE_TIMEOUT_MS 180000
#define KEEPALIVE_MS 90000
#define REQUEST_TIMEOUT_MS 45000

/* ----------------------------------------------------------- checking */

struct check_job {
    struct rill_work work;
    struct rill_torrent *t;
    struct rill_bitfield trusted;
    uint8_t *states;
    int rc;
    struct rill_error err;
};

static void check_work(struct rill_work *w, unsigned worker)
{
    (void)worker;
    struct check_job *j = (struct check_job *)w;
    struct rill_check_opts o = {.trusted = j->trusted.size ? &j->trusted : NULL};
    j->rc = rill_check(j->t->mi, j->t->dir, &o, j->states, &j->err);
}

static void check_done(struct rill_work *w, bool cancelled)
{
    struct check_job *j = (struct check_job *)w;
    struct rill_torrent *t = j->t;
    rill__tick_now(t->s);
    t->jobs--;
    if (!cancelled && j->rc == 0 && !t->stopping) {
        uint32_t good = 0;
        for (uint32_t i = 0; i < t->mi->piece_count; i++) {
            if (j->states[i] == RILL_PIECE_GOOD) {
                rill_bitfield_set(&t->have, i, true);
                rill_picker_verified(t->picker, i);
                good++;
            }
        }
        rill__log(t->s, 0, "checked", "%s: %u of %u pieces already here", t->mi->name, good,
                  t->mi->piece_count);
        t->resume_dirty = good > 0;
        rill__torrent_start(t);
    } else if (!cancelled && j->rc != 0) {
        rill__torrent_fail(t, j->rc, j->err.msg);
    }
    rill_bitfield_free(&j->trusted);
    free(j->states);
    free(j);
    rill__torrent_maybe_free(t);
}

static int start_check(struct rill_torrent *t)
{
    struct check_job *j = calloc(1, sizeof *j);
    if (!j || !(j->states = malloc(t->mi->piece_count))) {
        free(j);
        return RILL_ENOMEM;
    }
    j->t = t;
    if (t->p.trust_resume && rill_bitfield_init(&j->trusted, t->mi->piece_count) == 0) {
        int rc = rill_resume_load(t->resume_path, t->mi, t->storage[0], &j->trusted);
        if (rc == 0)
            rill__log(t->s, 0, "resume", "%s: resume data trusts %u pieces", t->mi->name,
                      j->trusted.count);
        else if (rc != RILL_ENOENT)
            rill__log(t->s, 0, "resume", "%s: resume data ignored (%s), checking everything",
                      t->mi->name, rill_strerror(rc));
    }
    j->work = (struct rill_work){.work = check_work, .done = check_done};
    t->state = RILL_T_CHECKING;
    t->jobs++;
    rill_workers_submit(t->s->workers, &j->work);
    return 0;
}

/* ----------------------------------------------------------- life cycle */

void rill__torrent_save_resume(struct rill_torrent *t)
{
    if (!t->resume_dirty || t->state == RILL_T_CHECKING)
        return;
    int rc = rill_resume_save(t->resume_path, t->mi, t->storage[0], &t->have);
    if (rc)
        rill__log(t->s, 0, "resume", "%s: cannot save resume data: %s", t->mi->name,
                  rill_strerror(rc));
    t->resume_dirty = false;
    t->last_resume_ms = t->s->now;
}

static void notify_stopped(struct rill_torrent *t);

void rill__torrent_fail(struct rill_torrent *t, int err, const char *msg)
{
    rill__log(t->s, 0, "error", "%s: %s%s%s", t->mi->name, rill_strerror(err), msg ? ": " : "",
              msg ? msg : "");
    t->error = err;
    t->state = RILL_T_ERROR;
    rill_torrent_stop(t);
    notify_stopped(t); /* at once: an error is not worth waiting on trackers */
}

bool rill__torrent_idle_seed(const struct rill_torrent *t)
{
    return t->p.no_upload && t->state == RILL_T_SEEDING;
}

static void connect_some(struct rill_torrent *t)
{
    unsigned started = 0;
    if (rill__torrent_idle_seed(t))
        return;
    for (size_t i = 0; i < t->ncands && started < CONNECTS_PER_TICK; i++) {
        struct rill__candidate *c = &t->cands[i];
        if (c->connected || c->retry_at > t->s->now || t->npeers >= t->p.max_peers ||
            t->s->npeers >= t->s->opts.max_peers ||
            rill__session_banned(t->s, (struct sockaddr *)&c->addr) ||
            rill__session_is_self(t->s, (struct sockaddr *)&c->addr, c->addrlen) ||
            !rill__session_can_reach(t->s, c->addr.ss_family))
            continue;
        /* Back off 2 s, 4 s, ... up to 5 min: a peer that was merely busy
         * (still checking its data, say) is soon tried again, a dead one
         * costs little. */
        c->connected = true;
        uint64_t backoff = 2000ull << (c->failures < 8 ? c->failures : 8);
        c->retry_at = t->s->now + (backoff < 300000 ? backoff : 300000);
        c->failures++;
        if (rill__peer_connect(t, (struct sockaddr *)&c->addr, c->addrlen))
            started++;
        else
            c->connected = false; /* retried after the backoff */
    }
}

void rill__torrent_candidates_added(struct rill_torrent *t)
{
    /* Dial now rather than at the next tick: a second saved per start. */
    if ((t->state == RILL_T_DOWNLOADING || t->state == RILL_T_SEEDING ||
         t->state == RILL_T_METADATA) &&
        !t->stopping && t->tick)
        connect_some(t);
}

static void check_timeouts(struct rill_torrent *t)
{
    uint64_t now = t->s->now;
    for (struct rill__peer *p = t->peers, *next; p; p = next) {
        next = p->next;
        if (p->phase != RILL__ACTIVE) {
            if (now - p->connected_at > HANDSHAKE_TIMEOUT_MS)
                rill__peer_close(p, "handshake timed out");
            continue;
        }
        if (now - p->last_recv > IDLE_TIMEOUT_MS) {
            rill__peer_close(p, "silent for 3 minutes");
            continue;
        }
        if (now - p->last_sent > KEEPALIVE_MS) {
            struct rill_buf b;
            rill_buf_init(&b, 16);
            rill_wire_build_simple(&b, RILL_WIRE_KEEPALIVE);
            rill__peer_send(p, &b);
            rill_buf_free(&b);
        }
        rill__peer_expire_requests(t, p, REQUEST_TIMEOUT_MS);
    }
}

/* Tells the owner the torrent has stopped for good, once: after the
 * `stopped` announces are done (or given up), so a program may exit. */
static void notify_stopped(struct rill_torrent *t)
{
    if (t->stop_notified)
        return;
    t->stop_notified = true;
    if (t->tick)
        event_del(t->tick);
    if (t->p.on_stopped)
        t->p.on_stopped(t->p.ctx, t, t->error);
}

/* Whether a connected peer has a piece we want. */
static bool anyone_interesting(const struct rill_torrent *t)
{
    for (const struct rill__peer *p = t->peers; p; p = p->next)
        if (p->phase == RILL__ACTIVE && p->core.am_interested)
            return true;
    return false;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill_torrent *t = arg;
    rill__tick_now(t->s);
    if (t->stopping) {
        if (rill__announcer_idle(t->announcer))
            notify_stopped(t);
        return;
    }
    if (t->state == RILL_T_CHECKING)
        return;
    check_timeouts(t);
    connect_some(t);
    rill__dht_torrent_tick(t);
    rill__pex_tick(t);
    if (t->state == RILL_T_METADATA) {
        rill__meta_tick(t);
        if (t->npeers == 0)
            rill__announcer_want_peers(t->announcer);
        return;
    }
    /* Blocks released by a choke, a reject or a timeout are free again:
     * a connection left idle by them gets its share here at the latest. */
    if (t->state == RILL_T_DOWNLOADING)
        for (struct rill__peer *p = t->peers; p; p = p->next)
            if (p->phase == RILL__ACTIVE && p->core.ours.count == 0)
                rill__peer_request_more(t, p);
    /* No one to trade with, or no one with anything we want: ask the
     * trackers again (no sooner than their min interval) rather than wait
     * out a half-hour interval. A tracker's answer is 50 peers at random,
     * which in a large swarm may not include the seed or anyone ahead. */
    if (t->state == RILL_T_DOWNLOADING && (t->npeers == 0 || !anyone_interesting(t)))
        rill__announcer_want_peers(t->announcer);
    if (t->s->now >= t->next_choke_ms)
        rill__torrent_rechoke(t);
    if (t->resume_dirty && t->s->now - t->last_resume_ms >= RESUME_EVERY_MS)
        rill__torrent_save_resume(t);
    rill__torrent_check_seed_limits(t);
}

/* Trackers, the tick and the first connections: a magnet's torrent goes
 * here twice, before and after its metadata (the announcer starts once). */
static void go(struct rill_torrent *t)
{
    rill__announcer_start(t->announcer);
    struct timeval one = {1, 0};
    event_add(t->tick, &one);
    connect_some(t);
}

void rill__torrent_start(struct rill_torrent *t)
{
    t->state = rill_picker_wanted_complete(t->picker) ? RILL_T_SEEDING : RILL_T_DOWNLOADING;
    if (t->state == RILL_T_SEEDING) {
        t->complete_fired = true; /* already complete: not a new completion */
        t->completed_ms = t->s->now;
    }
    go(t);
    if (t->state == RILL_T_SEEDING && t->p.on_complete)
        t->p.on_complete(t->p.ctx, t);
}

static int apply_only(struct rill_torrent *t)
{
    if (!t->only)
        return 0;
    enum rill_picker_prio *prios = calloc(t->mi->file_count, sizeof *prios);
    if (!prios)
        return RILL_ENOMEM;
    size_t matched = 0;
    for (size_t i = 0; i < t->mi->file_count; i++) {
        const char *path = t->mi->files[i].path;
        const char *base = strrchr(path, '/');
        bool hit = fnmatch(t->only, path, 0) == 0 || fnmatch(t->only, base ? base + 1 : path, 0) == 0;
        prios[i] = hit ? RILL_PICKER_NORMAL : RILL_PICKER_SKIP;
        matched += hit;
    }
    int rc = matched ? rill_picker_set_file_priorities(t->picker, t->mi, prios) : RILL_EINVAL;
    free(prios);
    return rc;
}

static int open_storage(struct rill_torrent *t)
{
    unsigned n = rill_workers_threads(t->s->workers);
    t->storage = calloc(n, sizeof *t->storage);
    if (!t->storage)
        return RILL_ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        struct rill_storage_opts so = {.max_open = 32};
        int rc = rill_storage_open(&t->storage[i], t->mi, t->dir, &so);
        if (rc)
            return rc;
    }
    return 0;
}

static int start_events(struct rill_torrent *t);

int rill__torrent_init(struct rill_torrent *t)
{
    const struct rill_metainfo *mi = t->mi;
    struct rill_buf path;
    rill_buf_init(&path, 0);
    int rc = rill_resume_path(t->dir, mi, &path);
    t->resume_path = rc ? NULL : (char *)rill_buf_take(&path, NULL);
    if (rc || (rc = rill_bitfield_init(&t->have, mi->piece_count)))
        return rc ? rc : RILL_ENOMEM;
    t->bufs = calloc(mi->piece_count, sizeof *t->bufs);
    t->picker = calloc(1, sizeof *t->picker);
    if (!t->bufs || !t->picker)
        return RILL_ENOMEM;
    struct rill_picker_opts po;
    rill_picker_opts_default(&po);
    po.mode = (enum rill_picker_mode)t->p.pick_mode;
    po.endgame = !t->p.no_endgame;
    if ((rc = rill_picker_init(t->picker, mi->piece_count, mi->piece_length, mi->total_size,
                               &t->s->rng, &po)))
        return rc;
    struct rill_choker_opts co;
    rill_choker_opts_default(&co);
    co.mode = (enum rill_choker_mode)t->p.choke_mode;
    if (t->p.unchoke_slots)
        co.slots = t->p.unchoke_slots;
    if (t->p.no_optimistic)
        co.optimistic_slots = 0;
    if (t->p.choke_interval_ms)
        co.interval_ms = t->p.choke_interval_ms;
    if (t->p.optimistic_interval_ms)
        co.optimistic_interval_ms = t->p.optimistic_interval_ms;
    if ((rc = rill_choker_init(&t->choker, &co, &t->s->rng)) || (rc = apply_only(t)))
        return rc;
    if ((rc = open_storage(t)))
        return rc;
    if ((rc = start_events(t)) != 0)
        return rc;
    return start_check(t);
}

/* Rates, limits, the tick and the trackers: made once, kept when a
 * magnet's metadata arrives (its trackers were the magnet's all along). */
static int start_events(struct rill_torrent *t)
{
    if (!t->tick) {
        rill_rate_init(&t->down, 0, t->s->now);
        rill_rate_init(&t->up, 0, t->s->now);
        rill_ratelimit_init(&t->up_limit, t->p.max_up, 0, t->s->now);
        rill_ratelimit_init(&t->down_limit, t->p.max_down, 0, t->s->now);
        if (!(t->tick = event_new(t->s->base, -1, EV_PERSIST, tick, t)))
            return RILL_ENOMEM;
    }
    if (!t->announcer && !t->p.no_trackers)
        return rill__announcer_new(&t->announcer, t);
    return 0;
}

/* A magnet: no metadata yet, so no picker or storage; peers and the
 * fetch of the info dictionary only. */
static int magnet_init(struct rill_torrent *t)
{
    int rc = rill__meta_init(t, t->p.magnet);
    t->p.magnet = NULL; /* the caller's: copied, not kept */
    if (rc == 0)
        rc = start_events(t);
    if (rc != 0)
        return rc;
    t->state = RILL_T_METADATA;
    go(t);
    return 0;
}

int rill_session_add(struct rill_session *s, const struct rill_torrent_params *params,
                     struct rill_torrent **out)
{
    if (!params || (!params->mi && !params->magnet) || !params->dir)
        return RILL_EINVAL;
    struct rill_torrent *t = calloc(1, sizeof *t);
    if (!t)
        return RILL_ENOMEM;
    t->s = s;
    pthread_mutex_init(&t->write_lock, NULL);
    t->p = *params;
    t->mi = params->mi;
    if (!t->p.max_peers)
        t->p.max_peers = DEFAULT_MAX_PEERS;
    t->dir = strdup(params->dir);
    t->only = params->only ? strdup(params->only) : NULL;
    rill__tick_now(s);
    int rc = !t->dir || (params->only && !t->only) ? RILL_ENOMEM
             : params->mi                             ? rill__torrent_init(t)
                                                      : magnet_init(t);
    if (rc) {
        t->stopping = true;
        rill__torrent_free(t);
        return rc;
    }
    t->next = s->torrents;
    s->torrents = t;
    rill__lsd_soon(s->lsd);
    *out = t;
    return 0;
}

/* -------------------------------------------------------- candidates */

bool rill__torrent_add_candidate(struct rill_torrent *t, const struct sockaddr *sa,
                                 socklen_t len)
{
    if (len > sizeof(struct sockaddr_storage) || rill__session_banned(t->s, sa) ||
        rill__session_is_self(t->s, sa, len))
        return false;
    for (size_t i = 0; i < t->ncands; i++)
        if (t->cands[i].addrlen == len && memcmp(&t->cands[i].addr, sa, len) == 0)
            return false;
    if (t->ncands == t->cands_cap) {
        size_t cap = t->cands_cap ? t->cands_cap * 2 : 16;
        if (cap > 4096)
            return false; /* plenty to try */
        struct rill__candidate *c = realloc(t->cands, cap * sizeof *c);
        if (!c)
            return false;
        t->cands = c;
        t->cands_cap = cap;
    }
    struct rill__candidate *c = &t->cands[t->ncands++];
    memset(c, 0, sizeof *c);
    memcpy(&c->addr, sa, len);
    c->addrlen = len;
    return true;
}

bool rill__torrent_add_raw_candidate(struct rill_torrent *t, const uint8_t *addr, size_t len,
                                     uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t sl = rill__sockaddr_from_raw(addr, len, port, &ss);
    return sl > 0 && rill__torrent_add_candidate(t, (struct sockaddr *)&ss, sl);
}

int rill_torrent_add_peer(struct rill_torrent *t, const char *host_port)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (evutil_parse_sockaddr_port(host_port, (struct sockaddr *)&ss, &len) != 0)
        return RILL_EINVAL;
    if (ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_port == 0)
        return RILL_EINVAL;
    rill__torrent_add_candidate(t, (struct sockaddr *)&ss, (socklen_t)len);
    return 0;
}

/* A connection to a candidate ended: it may be tried again later. */
void rill__torrent_candidate_closed(struct rill_torrent *t, const struct rill__peer *p,
                                    bool worked)
{
    for (size_t i = 0; i < t->ncands; i++) {
        struct rill__candidate *c = &t->cands[i];
        if (c->addrlen == p->addrlen && memcmp(&c->addr, &p->addr, p->addrlen) == 0) {
            c->connected = false;
            if (worked)
                c->failures = 0, c->retry_at = t->s->now + 30000;
            return;
        }
    }
}

/* -------------------------------------------------------------- stats */

/* While a magnet fetches its metadata: what a peer said of its size, the
 * pieces in. */
static void meta_stats(const struct rill_torrent *t, struct rill_torrent_stats *st)
{
    if (!t->meta || !t->meta->buf)
        return;
    st->metadata_size = t->meta->size;
    st->metadata_pieces = t->meta->pieces;
    st->metadata_have = t->meta->have;
}

void rill_torrent_stats(const struct rill_torrent *t, struct rill_torrent_stats *st)
{
    memset(st, 0, sizeof *st);
    struct rill_picker_stats ps = {0};
    if (t->picker)
        rill_picker_stats(t->picker, &ps);
    st->dht_peers = t->dht_peers;
    st->pex_peers = t->pex_peers;
    st->lsd_peers = t->lsd_peers;
    if (t->mi->info_len)
        st->metadata_size = t->mi->info_len;
    meta_stats(t, st);
    uint64_t now = t->s->now;
    st->state = t->state;
    st->piece_count = t->mi->piece_count;
    st->pieces_have = ps.have;
    st->total_wanted = 0;
    for (uint32_t i = 0; i < t->mi->piece_count; i++)
        if (rill_picker_priority(t->picker, i) != RILL_PICKER_SKIP)
            st->total_wanted += t->mi->piece_count ? rill_picker_piece_size(t->picker, i) : 0;
    st->have_wanted = st->total_wanted - ps.wanted_bytes_left;
    st->downloaded = t->downloaded;
    st->uploaded = t->uploaded;
    st->down_rate = rill_rate_get(&t->down, now);
    st->up_rate = rill_rate_get(&t->up, now);
    st->wasted = t->wasted;
    st->hash_failures = t->hash_failures;
    st->banned = t->banned;
    st->error = t->error;
    for (const struct rill__peer *p = t->peers; p; p = p->next) {
        if (p->phase != RILL__ACTIVE)
            continue;
        st->peers++;
        st->unchoked_us += !p->core.peer_choking;
        st->we_unchoke += !p->core.am_choking;
        st->seeds_connected += rill__peer_is_seed(p);
    }
    st->eta_ms = UINT64_MAX;
    if (ps.wanted_bytes_left == 0 && t->picker)
        st->eta_ms = 0;
    else if (st->down_rate > 0)
        st->eta_ms = ps.wanted_bytes_left * 1000 / st->down_rate;
}

/* -------------------------------------------------------- stop, remove */

void rill_torrent_stop(struct rill_torrent *t)
{
    if (t->stopping)
        return;
    rill__tick_now(t->s);
    rill__torrent_save_resume(t);
    rill__dht_torrent_gone(t);
    t->stopping = true;
    if (t->wake)
        event_del(t->wake);
    t->wake_armed = false;
    while (t->peers)
        rill__peer_close(t->peers, "torrent stopped");
    if (t->announcer)
        rill__announcer_stop(t->announcer);
    if (t->state != RILL_T_ERROR)
        t->state = RILL_T_STOPPED;
    /* The tick now only watches for the `stopped` announces to finish. */
    if (t->tick && !t->stop_notified) {
        struct timeval poll = {0, 50000};
        event_del(t->tick);
        event_add(t->tick, &poll);
    }
}

void rill__torrent_free(struct rill_torrent *t)
{
    rill__dht_torrent_gone(t);
    rill__announcer_free(t->announcer);
    if (t->tick)
        event_free(t->tick);
    if (t->wake)
        event_free(t->wake);
    for (uint32_t i = 0; t->bufs && i < t->mi->piece_count; i++)
        rill__piece_buf_free(t, i);
    free(t->bufs);
    rill__upload_cache_free(t);
    rill__suspects_free(t);
    if (t->storage)
        for (unsigned i = 0; i < rill_workers_threads(t->s->workers); i++)
            rill_storage_close(t->storage[i]);
    free(t->storage);
    if (t->picker)
        rill_picker_free(t->picker);
    free(t->picker);
    rill_choker_free(&t->choker);
    rill_bitfield_free(&t->have);
    free(t->cands);
    free(t->resume_path);
    free(t->dir);
    free(t->only);
    rill__meta_free(t);
    pthread_mutex_destroy(&t->write_lock);
    free(t);
}

const struct rill_metainfo *rill_torrent_metainfo(const struct rill_torrent *t)
{
    return t->state == RILL_T_METADATA ? NULL : t->mi;
}

const uint8_t *rill_torrent_info_hash(const struct rill_torrent *t)
{
    return t->mi->info_hash;
}

void rill__torrent_maybe_free(struct rill_torrent *t)
{
    if (t->remove_when_idle && t->jobs == 0)
        rill__torrent_free(t);
}

void rill_torrent_remove(struct rill_torrent *t)
{
    rill_torrent_stop(t);
    struct rill_torrent **pp = &t->s->torrents;
    while (*pp && *pp != t)
        pp = &(*pp)->next;
    if (*pp)
        *pp = t->next;
    t->remove_when_idle = true;
    rill__torrent_maybe_free(t);
}
