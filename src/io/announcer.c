/* The tracker client of one torrent: tiers, rounds, timing and peers. The
 * transports are in announcer_http.c and announcer_udp.c.
 *
 * Tiers follow BEP 12 to the letter: each tier's URLs are shuffled once; a
 * round walks the tiers in order and each tier's trackers in order, and
 * stops at the first tracker that answers, which moves to the front of its
 * tier. So one tracker gets each announce (libtorrent's default of
 * announcing to every tier at once is not what the BEP says). When no
 * tracker answers, the round is tried again after 30 s, doubling up to
 * 30 min, and the torrent goes on with the peers it has.
 *
 * Events: `started` goes to each tracker before anything else is sent to
 * it; `completed` once, at once (an event is news for the tracker, so it
 * does not wait for the interval); `stopped` to every tracker that was
 * announced to, in parallel, bounded and without retries, preceded by
 * `completed` when the download finished just before the stop. Between them, an announce
 * every `interval` the tracker asked for, or earlier on want_peers but
 * never before its `min interval`. */
#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/announcer_internal.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "util/util.h"

#define BACKOFF_FIRST_MS 30000u
#define BACKOFF_MAX_MS (30u * 60u * 1000u)

/* -------------------------------------------------------------- clock */

uint64_t rill__ann_vnow(struct rill__announcer *a)
{
    return a->virt0 + (a->s->now - a->real0) * a->speed;
}

void rill__ann_arm(struct rill__announcer *a, struct event *ev, uint64_t vdelay)
{
    uint64_t ms = (vdelay + a->speed - 1) / a->speed;
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    event_add(ev, &tv);
}

void rill__announcer_set_speed(struct rill__announcer *a, unsigned speed)
{
    if (!a)
        return;
    rill__tick_now(a->s);
    a->virt0 = rill__ann_vnow(a);
    a->real0 = a->s->now;
    a->speed = speed ? speed : 1;
}

/* ------------------------------------------------------------ set-up */

/* A formatted string in its own allocation, or NULL. */
__attribute__((format(printf, 1, 2))) static char *strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (p) {
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return p;
}

/* Fills tr's transport fields from its URL, or says why it cannot be used. */
static const char *parse_url(struct rill__tracker *tr, const char *url)
{
    struct evhttp_uri *u = evhttp_uri_parse(url);
    if (!u)
        return "not a valid URL";
    const char *why = NULL, *scheme = evhttp_uri_get_scheme(u);
    const char *host = evhttp_uri_get_host(u), *path = evhttp_uri_get_path(u);
    const char *query = evhttp_uri_get_query(u);
    int port = evhttp_uri_get_port(u);
    if (scheme && strcasecmp(scheme, "http") == 0)
        tr->kind = RILL__TR_HTTP, port = port < 0 ? 80 : port;
    else if (scheme && strcasecmp(scheme, "udp") == 0)
        tr->kind = RILL__TR_UDP;
    else
        why = scheme && strcasecmp(scheme, "https") == 0 ? "https trackers are not supported"
                                                         : "not an http:// or udp:// URL";
    size_t hlen = host ? strlen(host) : 0;
    if (!why && (hlen == 0 || port <= 0 || port > 65535))
        why = hlen ? "no valid port" : "no host";
    if (why) {
        tr->kind = RILL__TR_UNUSABLE;
        evhttp_uri_free(u);
        return why;
    }
    bool bracket = host[0] == '[';
    tr->host = rill__strndup(host + bracket, hlen - 2 * bracket);
    tr->port = (uint16_t)port;
    uint8_t bin[16];
    tr->literal = tr->host && (inet_pton(AF_INET, tr->host, bin) == 1 ||
                               inet_pton(AF_INET6, tr->host, bin) == 1);
    tr->host_header = port == 80 ? strf("%s", host) : strf("%s:%d", host, port);
    tr->target = strf("%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");
    evhttp_uri_free(u);
    if (!tr->host || !tr->host_header || !tr->target)
        return "out of memory";
    return NULL;
}

static void on_done(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

static struct rill__tracker *tracker_new(struct rill__announcer *a, const char *url)
{
    struct rill__tracker *tr = calloc(1, sizeof *tr);
    if (!tr)
        return NULL;
    tr->a = a;
    tr->fd = -1;
    tr->name = rill__strndup(url, strcspn(url, "?"));
    tr->done = event_new(a->s->base, -1, 0, on_done, tr);
    if (!tr->name || !tr->done) {
        event_free(tr->done);
        free(tr->name);
        free(tr);
        return NULL;
    }
    const char *why = parse_url(tr, url);
    if (why)
        rill__log(a->s, 0, "tracker_error", "%s: tracker %s skipped: %s", a->t->mi->name, tr->name,
                  why);
    return tr;
}

static void tracker_abort(struct rill__tracker *tr)
{
    event_del(tr->done);
    rill__http_abort(tr);
    rill__udp_abort(tr);
    tr->busy = tr->ending = false;
}

static void tracker_free(struct rill__tracker *tr)
{
    if (!tr)
        return;
    tracker_abort(tr);
    rill__udp_free(tr);
    event_free(tr->done);
    free(tr->name);
    free(tr->host);
    free(tr->host_header);
    free(tr->target);
    free(tr);
}

/* Builds one tier, shuffled (BEP 12). */
static int tier_init(struct rill__announcer *a, struct rill__tier *tier,
                     const struct rill_tier *src)
{
    tier->tr = calloc(src->count ? src->count : 1, sizeof *tier->tr);
    if (!tier->tr)
        return RILL_ENOMEM;
    for (size_t i = 0; i < src->count; i++) {
        struct rill__tracker *tr = tracker_new(a, src->urls[i]);
        if (!tr)
            return RILL_ENOMEM;
        tier->tr[tier->n++] = tr;
        a->usable += tr->kind != RILL__TR_UNUSABLE;
    }
    for (size_t i = tier->n; i > 1; i--) {
        size_t j = (size_t)rill_rng_below(&a->s->rng, i);
        struct rill__tracker *tmp = tier->tr[i - 1];
        tier->tr[i - 1] = tier->tr[j];
        tier->tr[j] = tmp;
    }
    return 0;
}

int rill__announcer_new(struct rill__announcer **out, struct rill_torrent *t)
{
    *out = NULL;
    if (!t->mi->tier_count)
        return 0;
    struct rill__announcer *a = calloc(1, sizeof *a);
    if (!a)
        return RILL_ENOMEM;
    a->s = t->s;
    a->t = t;
    a->speed = 1;
    a->real0 = a->virt0 = t->s->now;
    a->next_round = UINT64_MAX;
    a->key = (uint32_t)rill_rng_next(&t->s->rng);
    a->timer = event_new(t->s->base, -1, 0, on_timer, a);
    a->tiers = calloc(t->mi->tier_count, sizeof *a->tiers);
    int rc = a->timer && a->tiers ? 0 : RILL_ENOMEM;
    for (size_t i = 0; !rc && i < t->mi->tier_count; i++, a->ntiers++)
        rc = tier_init(a, &a->tiers[i], &t->mi->tiers[i]);
    if (rc || !a->usable) {
        rill__announcer_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void rill__announcer_free(struct rill__announcer *a)
{
    if (!a)
        return;
    for (size_t i = 0; a->tiers && i < a->ntiers; i++) {
        for (size_t j = 0; j < a->tiers[i].n; j++)
            tracker_free(a->tiers[i].tr[j]);
        free(a->tiers[i].tr);
    }
    free(a->tiers);
    if (a->timer)
        event_free(a->timer);
    free(a);
}

/* ------------------------------------------------------------ sending */

/* What this tracker is told: `started` until it has acknowledged one. */
static enum rill_tracker_event event_for(const struct rill__announcer *a,
                                         const struct rill__tracker *tr)
{
    if (!tr->announced)
        return RILL_TRACKER_EVENT_STARTED;
    return a->completed_pending ? RILL_TRACKER_EVENT_COMPLETED : RILL_TRACKER_EVENT_NONE;
}

static const char *event_name(enum rill_tracker_event ev)
{
    static const char *const names[] = {"update", "completed", "started", "stopped"};
    return (unsigned)ev < 4 ? names[ev] : "?";
}

static void send_to(struct rill__announcer *a, struct rill__tracker *tr, enum rill_tracker_event ev)
{
    const struct rill_torrent *t = a->t;
    /* A magnet without its metadata does not know what is left: a block's
     * worth says "not a seed", as libtorrent does. */
    struct rill_picker_stats st = {.bytes_left = 16384};
    if (t->picker)
        rill_picker_stats(t->picker, &st);
    struct rill_tracker_announce ann = {
        .port = a->s->port,
        .uploaded = t->uploaded,
        .downloaded = t->downloaded,
        .left = st.bytes_left,
        .event = ev,
        .numwant = a->stopped ? 0 : RILL_TRACKER_NUMWANT_DEFAULT,
        .key = a->key,
        .tracker_id = tr->trackerid_len ? tr->trackerid : NULL,
        .tracker_id_len = tr->trackerid_len,
    };
    memcpy(ann.info_hash, t->mi->info_hash, sizeof ann.info_hash);
    memcpy(ann.peer_id, a->s->peer_id, sizeof ann.peer_id);
    tr->busy = true;
    tr->ending = false;
    tr->event = ev;
    tr->error[0] = 0;
    bool stop = a->stopped; /* best effort from here on: bounded, no retries */
    tr->reply.peers = stop ? NULL : a->peers;
    tr->reply.peer_cap = stop ? 0 : RILL_TRACKER_NUMWANT_MAX;
    rill__log(a->s, 2, "tracker_send", "%s: %s to %s", t->mi->name, event_name(ev), tr->name);
    uint64_t now = rill__ann_vnow(a);
    if (tr->kind == RILL__TR_HTTP)
        rill__http_send(tr, &ann, stop ? RILL__ANN_STOP_TIMEOUT_MS : RILL__ANN_HTTP_TIMEOUT_MS);
    else if (stop)
        rill__udp_send(tr, &ann, 1, now + RILL__ANN_STOP_TIMEOUT_MS);
    else /* with somewhere to fall over to, give up sooner than BEP 15 */
        rill__udp_send(tr, &ann, a->usable > 1 ? RILL__ANN_UDP_TRIES : 0, UINT64_MAX);
}

void rill__tracker_done(struct rill__tracker *tr, enum rill__tr_result result, const char *fmt, ...)
{
    if (!tr->busy || tr->ending)
        return; /* a library reported the same end twice */
    tr->ending = true;
    tr->result = result;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(tr->error, sizeof tr->error, fmt, ap);
        va_end(ap);
    }
    event_active(tr->done, EV_TIMEOUT, 0);
}

/* ------------------------------------------------------------- rounds */

static void schedule(struct rill__announcer *a, uint64_t vdelay)
{
    a->next_round = rill__ann_vnow(a) + vdelay;
    rill__ann_arm(a, a->timer, vdelay);
}

/* Sends to the round's next usable tracker, or ends the round as failed. */
static void try_next(struct rill__announcer *a)
{
    for (; a->tier < a->ntiers; a->tier++, a->idx = 0) {
        const struct rill__tier *tier = &a->tiers[a->tier];
        for (; a->idx < tier->n; a->idx++) {
            struct rill__tracker *tr = tier->tr[a->idx];
            if (tr->kind != RILL__TR_UNUSABLE) {
                send_to(a, tr, event_for(a, tr));
                return;
            }
        }
    }
    a->in_round = false;
    a->failed_rounds++;
    unsigned shift = a->failed_rounds - 1 < 10 ? a->failed_rounds - 1 : 10;
    uint64_t delay = (uint64_t)BACKOFF_FIRST_MS << shift;
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    rill__log(a->s, 0, "tracker_down", "%s: no tracker answered (%s); trying again in %llu s",
              a->t->mi->name, a->last_error, (unsigned long long)(delay / 1000));
    schedule(a, delay);
}

static void round_begin(struct rill__announcer *a)
{
    a->in_round = true;
    a->tier = a->idx = 0;
    a->next_round = UINT64_MAX;
    try_next(a);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill__announcer *a = arg;
    rill__tick_now(a->s);
    if (a->started && !a->stopped && !a->in_round)
        round_begin(a);
}

/* Hands the reply's peers to the torrent, except ourselves as far as we
 * can tell: our listen port on a loopback or unspecified address. */
static size_t deliver_peers(struct rill__announcer *a, const struct rill_tracker_reply *r)
{
    static const uint8_t zero[16], loopback6[16] = {[15] = 1};
    size_t skipped = 0;
    for (size_t i = 0; i < r->peer_count; i++) {
        const struct rill_tracker_peer *p = &r->peers[i];
        bool v4 = p->family == RILL_TRACKER_IPV4;
        size_t alen = v4 ? 4 : 16;
        bool local = memcmp(p->addr, zero, alen) == 0 ||
                     (v4 ? p->addr[0] == 127 : memcmp(p->addr, loopback6, 16) == 0);
        if (local && p->port == a->s->port) {
            skipped++;
            continue;
        }
        rill__torrent_add_raw_candidate(a->t, p->addr, alen, p->port);
    }
    return r->peer_count - skipped;
}

/* The round's tracker answered: the round ends here (BEP 12). */
static void answered(struct rill__announcer *a, struct rill__tracker *tr)
{
    const struct rill_tracker_reply *r = &tr->reply;
    const char *name = a->t->mi->name;
    if (r->tracker_id_len) { /* BEP 3: an absent id keeps the previous one */
        memcpy(tr->trackerid, r->tracker_id, r->tracker_id_len);
        tr->trackerid_len = r->tracker_id_len;
    }
    if (r->warning[0])
        rill__log(a->s, 0, "tracker_warning", "%s: %s warns: %s", name, tr->name, r->warning);
    size_t n = deliver_peers(a, r);
    tr->announced = true;
    if (tr->event == RILL_TRACKER_EVENT_COMPLETED)
        a->completed_pending = false, a->completed_sent = true;
    struct rill__tier *tier = &a->tiers[a->tier];
    memmove(tier->tr + 1, tier->tr, a->idx * sizeof *tier->tr);
    tier->tr[0] = tr;
    a->in_round = false;
    a->failed_rounds = 0;
    a->have_ok = true;
    a->last_ok = rill__ann_vnow(a);
    a->interval = r->interval;
    a->min_interval = r->min_interval;
    rill__log(a->s, 1, "tracker_ok",
              "%s: %s (%s): %zu peers, %lld seeds, %lld leechers, "
              "next in %u s",
              name, tr->name, event_name(tr->event), n, (long long)r->complete,
              (long long)r->incomplete, r->interval);
    schedule(a, a->completed_pending ? 0 : (uint64_t)r->interval * 1000);
    if (n)
        rill__torrent_candidates_added(a->t);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill__tracker *tr = arg;
    struct rill__announcer *a = tr->a;
    rill__tick_now(a->s);
    tracker_abort(tr); /* releases the connection; the result stays */
    if (tr->result != RILL__TR_OK && !tr->literal)
        tr->addrlen = 0; /* resolve the name again next time */
    const char *name = a->t->mi->name;
    if (tr->result != RILL__TR_OK)
        /* Cut to fit on purpose: this is a status line, not a record. */
        snprintf(a->last_error, sizeof a->last_error, "%.60s: %.130s", tr->name,
                 tr->result == RILL__TR_REFUSED ? tr->reply.failure : tr->error);
    if (tr->result == RILL__TR_REFUSED)
        rill__log(a->s, 0, "tracker_failure", "%s: %s refused the %s announce: %s", name, tr->name,
                  event_name(tr->event), tr->reply.failure);
    else if (tr->result == RILL__TR_ERROR)
        rill__log(a->s, 1, "tracker_error", "%s: %s (%s): %s", name, tr->name,
                  event_name(tr->event), tr->error);
    if (a->stopped) {
        if (tr->result == RILL__TR_OK)
            rill__log(a->s, 1, "tracker_ok", "%s: %s (%s)", name, tr->name, event_name(tr->event));
        if (tr->then_stop) /* whatever became of `completed` */
            send_to(a, tr, RILL_TRACKER_EVENT_STOPPED);
        tr->then_stop = false;
        return;
    }
    const struct rill__tier *tier = a->in_round ? &a->tiers[a->tier] : NULL;
    if (!tier || a->idx >= tier->n || tier->tr[a->idx] != tr)
        return; /* not the round's tracker any more */
    if (tr->result == RILL__TR_OK) {
        answered(a, tr);
    } else {
        a->idx++;
        try_next(a);
    }
}

/* --------------------------------------------------------- public API */

void rill__announcer_start(struct rill__announcer *a)
{
    if (!a || a->started || a->stopped)
        return;
    rill__tick_now(a->s);
    a->started = true;
    schedule(a, 0);
}

void rill__announcer_completed(struct rill__announcer *a)
{
    if (!a || a->completed_pending || a->completed_sent || a->stopped)
        return;
    rill__tick_now(a->s);
    a->completed_pending = true;
    if (a->started && !a->in_round)
        schedule(a, 0);
}

void rill__announcer_want_peers(struct rill__announcer *a)
{
    if (!a || !a->started || a->stopped || a->in_round || !a->have_ok || a->failed_rounds)
        return;
    rill__tick_now(a->s);
    uint32_t gap = a->min_interval ? a->min_interval : RILL_TRACKER_INTERVAL_MIN;
    uint64_t at = a->last_ok + (uint64_t)gap * 1000, now = rill__ann_vnow(a);
    if (at < a->next_round)
        schedule(a, at > now ? at - now : 0);
}

void rill__announcer_stop(struct rill__announcer *a)
{
    if (!a || a->stopped)
        return;
    rill__tick_now(a->s);
    a->stopped = true;
    a->in_round = false;
    event_del(a->timer);
    for (size_t i = 0; i < a->ntiers; i++) {
        for (size_t j = 0; j < a->tiers[i].n; j++) {
            struct rill__tracker *tr = a->tiers[i].tr[j];
            /* A `started` in flight may have reached the tracker. */
            bool owed = tr->announced || tr->busy;
            tracker_abort(tr);
            if (!owed || tr->kind == RILL__TR_UNUSABLE)
                continue;
            /* A download that just finished (`rill get` stops right after)
             * still tells the tracker, then says goodbye. */
            tr->then_stop = a->completed_pending && tr->announced;
            send_to(a, tr,
                    tr->then_stop ? RILL_TRACKER_EVENT_COMPLETED : RILL_TRACKER_EVENT_STOPPED);
        }
    }
}

bool rill__announcer_idle(const struct rill__announcer *a)
{
    for (size_t i = 0; a && i < a->ntiers; i++)
        for (size_t j = 0; j < a->tiers[i].n; j++)
            if (a->tiers[i].tr[j]->busy)
                return false;
    return true;
}
