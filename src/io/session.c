/* The session: listener, workers, global limits, peer id, torrents. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/clock.h"
#include "io/conn.h"
#include "io/lsd.h"
#include "io/session.h"
#include "io/sockaddr.h"
#include "io/torrent.h"
#include "io/workers.h"
#include "util/util.h"

#define DEFAULT_MAX_PEERS 200

uint64_t rill__tick_now(struct rill_session *s)
{
    s->now = rill__monotonic_ms();
    return s->now;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family)
        return false;
    if (b->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (b->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
    return false;
}

bool rill__session_banned(const struct rill_session *s, const struct sockaddr *sa)
{
    for (size_t i = 0; i < s->nbans; i++)
        if (same_host(&s->bans[i].addr, sa))
            return true;
    return false;
}

void rill__session_ban(struct rill_session *s, const struct sockaddr *sa, socklen_t len)
{
    if (rill__session_banned(s, sa))
        return;
    struct rill__ban *b = realloc(s->bans, (s->nbans + 1) * sizeof *b);
    if (!b)
        return; /* the peer is disconnected anyway; it may come back */
    s->bans = b;
    memset(&b[s->nbans], 0, sizeof *b);
    memcpy(&b[s->nbans].addr, sa, len);
    s->nbans++;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int len, void *arg)
{
    (void)l;
    struct rill_session *s = arg;
    rill__tick_now(s);
    if (s->npeers >= s->opts.max_peers || rill__session_banned(s, sa)) {
        evutil_closesocket(fd);
        return;
    }
    evutil_make_socket_nonblocking(fd);
    if (!rill__peer_accept(s, fd, sa, (socklen_t)len))
        evutil_closesocket(fd);
}

int rill__session_adopt(struct rill_session *s, struct rill__peer *p, const uint8_t *info_hash)
{
    struct rill_torrent *t = s->torrents;
    while (t && (memcmp(t->mi->info_hash, info_hash, RILL_SHA1_LEN) != 0 || t->stopping))
        t = t->next;
    /* Like libtorrent, refuse peers until the data is checked: we could not
     * tell them what we have. They retry; trackers list us again. */
    const char *refuse = !t                              ? "unknown info-hash"
                         : t->state == RILL_T_CHECKING  ? "torrent still checking its data"
                         : t->npeers >= t->p.max_peers ? "torrent has its maximum of peers"
                         : rill__torrent_idle_seed(t)   ? "complete and uploading nothing"
                                                        : NULL;
    if (refuse) {
        rill__peer_close(p, refuse);
        return -1;
    }
    if (p->prev)
        p->prev->next = p->next;
    else
        s->handshaking = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
    rill__torrent_attach(t, p);
    rill__send_handshake(p);
    return 0;
}

/* The --bind address, parsed once. Not evutil_parse_sockaddr_port: it
 * refuses port 0, "any port". */
static int parse_bind(struct rill_session *s)
{
    int rc = rill__sockaddr_from_ip(s->bind, 0, &s->bind_addr, &s->bind_len);
    s->bind_specific = rc == 0 && !rill__sockaddr_is_any(&s->bind_addr);
    return rc;
}

static int listen_on(struct rill_session *s)
{
    struct sockaddr_storage ss = s->bind_addr;
    rill__sockaddr_set_port(&ss, s->opts.port);
    s->listener = evconnlistener_new_bind(s->base, on_accept, s,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
                                          (struct sockaddr *)&ss, (int)s->bind_len);
    if (!s->listener)
        return RILL_EIO;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&bound, &blen);
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

int rill__session_bind_socket(struct rill_session *s, int fd, int family)
{
    if (!s->bind_specific)
        return 0;
    if (family != s->bind_addr.ss_family) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    struct sockaddr_storage ss = s->bind_addr;
    rill__sockaddr_set_port(&ss, 0);
    return bind(fd, (struct sockaddr *)&ss, s->bind_len);
}

struct evdns_base *rill__session_dns(struct rill_session *s)
{
    if (!s->dns) {
        /* Inactive, the resolver holds no event, so the loop can end. */
        s->dns = evdns_base_new(s->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                             EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (!s->dns)
            rill__log(s, 0, "dns_error", "cannot set up a DNS resolver");
    }
    return s->dns;
}

/* A peer that closes while we write would otherwise kill the whole process
 * with SIGPIPE (libevent writes with writev, which has no MSG_NOSIGNAL).
 * Only the default action is replaced: a handler the program set stays. */
static void ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
        struct sigaction ign = {.sa_handler = SIG_IGN};
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, NULL);
    }
}

int rill_session_new(struct rill_session **out, struct event_base *base,
                     const struct rill_session_opts *opts)
{
    ignore_sigpipe();
    static const struct rill_session_opts defaults;
    struct rill_session *s = calloc(1, sizeof *s);
    if (!s)
        return RILL_ENOMEM;
    s->base = base;
    s->opts = opts ? *opts : defaults;
    if (!s->opts.max_peers)
        s->opts.max_peers = DEFAULT_MAX_PEERS;
    s->bind = strdup(s->opts.bind ? s->opts.bind : "0.0.0.0");
    s->opts.bind = s->bind;
    s->started = rill__tick_now(s);
    int rc = s->bind ? 0 : RILL_ENOMEM;
    if (!rc)
        rc = s->opts.rng_seed ? (rill_rng_seed(&s->rng, s->opts.rng_seed), 0)
                              : rill_rng_seed_secure(&s->rng);
    if (!rc) {
        /* The peer id must not be predictable from a test's rng seed alone
         * when two sessions share one: mix in OpenSSL's generator. */
        struct rill_rng id_rng;
        if (rill_rng_seed_secure(&id_rng) != 0)
            id_rng = s->rng;
        rill_wire_peer_id(&id_rng, s->peer_id);
        rill_ratelimit_init(&s->up_limit, s->opts.max_up, 0, s->now);
        rill_ratelimit_init(&s->down_limit, s->opts.max_down, 0, s->now);
        rc = rill_workers_new(&s->workers, base, s->opts.workers);
    }
    if (!rc)
        rc = parse_bind(s);
    if (!rc)
        rc = listen_on(s);
    if (rc) {
        rill_session_free(s);
        return rc;
    }
    rill__log(s, 0, "listening", "listening on %s port %u", s->bind, s->port);
    if (s->opts.lsd)
        (void)rill__lsd_new(s, &s->lsd); /* logs why when it cannot */
    *out = s;
    return 0;
}

void rill_session_free(struct rill_session *s)
{
    if (!s)
        return;
    while (s->torrents)
        rill_torrent_remove(s->torrents);
    while (s->handshaking)
        rill__peer_close(s->handshaking, "session closing");
    if (s->listener)
        evconnlistener_free(s->listener);
    rill__lsd_free(s->lsd);
    /* Runs every outstanding job's completion, which releases what the jobs
     * still held (closed peers, torrents awaiting removal). */
    rill_workers_free(s->workers);
    /* Deferred socket frees were scheduled with event_base_once: run them. */
    event_base_loop(s->base, EVLOOP_NONBLOCK);
    /* After the torrents: their trackers' lookups used it. */
    if (s->dns)
        evdns_base_free(s->dns, 0);
    free(s->bans);
    free(s->bind);
    free(s);
}

void rill__session_note_self(struct rill_session *s, const struct sockaddr_storage *a,
                             socklen_t len)
{
    if (rill__session_is_self(s, (const struct sockaddr *)a, len))
        return;
    unsigned i = s->nself++ % RILL_ARRAY_LEN(s->self);
    s->self[i] = *a;
    s->self_len[i] = len;
}

bool rill__session_is_self(const struct rill_session *s, const struct sockaddr *a, socklen_t len)
{
    unsigned n = s->nself < RILL_ARRAY_LEN(s->self) ? s->nself : RILL_ARRAY_LEN(s->self);
    for (unsigned i = 0; i < n; i++)
        if (s->self_len[i] == len && memcmp(&s->self[i], a, len) == 0)
            return true;
    return false;
}

uint16_t rill_session_port(const struct rill_session *s)
{
    return s->port;
}

const uint8_t *rill_session_peer_id(const struct rill_session *s)
{
    return s->peer_id;
}
