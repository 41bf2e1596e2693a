/* Local Service Discovery (BEP 14) for a session: one UDP socket in the
 * IPv4 multicast group 239.192.152.143:6771 on the session's interface
 * (its --bind address, or the default one). Every 5 minutes, and soon after
 * a torrent is added, the info-hashes of the torrents that are not private
 * go out, 16 a datagram; an announce from another host for one of ours
 * becomes a candidate. A cookie tells our own datagrams (looped back)
 * apart. Failing to join the group (no multicast on the interface) only
 * turns LSD off, with a log line. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/lsd.h"
#include "io/lsd.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "util/rng.h"

#define LSD_EVERY_MS (5 * 60000)
#define LSD_SOON_MS 1000
#define LSD_IN_PER_SECOND 20 /* datagrams taken a second, from everyone */

struct rill__lsd {
    struct rill_session *s;
    int fd;
    struct event *ev_read, *ev_tick;
    struct in_addr group;
    char cookie[17];
    uint64_t next_ms;
    uint64_t window_ms;
    unsigned taken;
};

static bool lsd_torrent(const struct rill_torrent *t)
{
    return !t->stopping && !t->mi->is_private && t->state != RILL_T_ERROR &&
           !rill__torrent_idle_seed(t); /* it would refuse whoever comes */
}

static void send_hashes(struct rill__lsd *l, const uint8_t (*h)[RILL_SHA1_LEN], size_t n)
{
    struct rill_buf b;
    rill_buf_init(&b, RILL_LSD_MSG_MAX);
    if (rill_lsd_build(&b, RILL_LSD_GROUP4 ":6771", l->s->port, h, n, l->cookie) == 0) {
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(RILL_LSD_PORT),
                                 .sin_addr = l->group};
        (void)sendto(l->fd, b.data, b.len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
    }
    rill_buf_free(&b);
}

static void announce_all(struct rill__lsd *l)
{
    uint8_t batch[RILL_LSD_HASHES_MAX][RILL_SHA1_LEN];
    size_t n = 0;
    for (const struct rill_torrent *t = l->s->torrents; t; t = t->next) {
        if (!lsd_torrent(t))
            continue;
        memcpy(batch[n++], t->mi->info_hash, RILL_SHA1_LEN);
        if (n == RILL_LSD_HASHES_MAX) {
            send_hashes(l, (const uint8_t(*)[RILL_SHA1_LEN])batch, n);
            n = 0;
        }
    }
    if (n)
        send_hashes(l, (const uint8_t(*)[RILL_SHA1_LEN])batch, n);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill__lsd *l = arg;
    uint64_t now = rill__tick_now(l->s);
    if (now < l->next_ms)
        return;
    announce_all(l);
    l->next_ms = now + LSD_EVERY_MS;
}

static void take(struct rill__lsd *l, const struct rill_lsd_msg *m, const struct sockaddr_in *from)
{
    struct sockaddr_in peer = *from;
    peer.sin_port = htons(m->port);
    for (size_t i = 0; i < m->n_hashes; i++)
        for (struct rill_torrent *t = l->s->torrents; t; t = t->next) {
            if (!lsd_torrent(t) || memcmp(t->mi->info_hash, m->hashes[i], RILL_SHA1_LEN) != 0)
                continue;
            if (rill__torrent_add_candidate(t, (struct sockaddr *)&peer, sizeof peer)) {
                t->lsd_peers++;
                rill__log(l->s, 1, "lsd_peer", "%s: %s:%u found on the local network",
                          t->mi->name, inet_ntoa(from->sin_addr), m->port);
                rill__torrent_candidates_added(t);
            }
        }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct rill__lsd *l = arg;
    uint64_t now = rill__tick_now(l->s);
    for (int i = 0; i < 16; i++) {
        uint8_t buf[RILL_LSD_MSG_MAX + 1];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t got = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (got < 0)
            return;
        if (now - l->window_ms >= 1000) {
            l->window_ms = now;
            l->taken = 0;
        }
        struct rill_lsd_msg m;
        if (from.sin_family != AF_INET || ++l->taken > LSD_IN_PER_SECOND ||
            rill_lsd_parse(buf, (size_t)got, &m, NULL) != 0 || strcmp(m.cookie, l->cookie) == 0)
            continue; /* a flood, junk, or our own */
        take(l, &m, &from);
    }
}

/* The socket: bound to the group's port (shared with other clients on
 * this host), in the group on the session's interface. */
static int open_socket(struct rill__lsd *l, const char **why)
{
    const struct rill_session *s = l->s;
    struct in_addr ifaddr = {.s_addr = htonl(INADDR_ANY)};
    if (s->bind_specific && s->bind_addr.ss_family == AF_INET)
        ifaddr = ((const struct sockaddr_in *)&s->bind_addr)->sin_addr;
    else if (s->bind_specific) {
        *why = "LSD runs on IPv4 only";
        return RILL_EUNSUPPORTED;
    }
    inet_pton(AF_INET, RILL_LSD_GROUP4, &l->group);
    l->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    unsigned char ttl = 1, loop = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(RILL_LSD_PORT),
                             .sin_addr = l->group};
    struct ip_mreq mreq = {.imr_multiaddr = l->group, .imr_interface = ifaddr};
    *why = l->fd < 0                                                                    ? "socket"
           : setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0          ? "reuse"
           : bind(l->fd, (struct sockaddr *)&sa, sizeof sa) != 0                          ? "bind"
           : setsockopt(l->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0    ? "join"
           : setsockopt(l->fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof ifaddr) != 0  ? "interface"
           : setsockopt(l->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0       ? "ttl"
           : setsockopt(l->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0    ? "loop"
                                                                                          : NULL;
    return *why ? RILL_EIO : 0;
}

int rill__lsd_new(struct rill_session *s, struct rill__lsd **out)
{
    *out = NULL;
    struct rill__lsd *l = calloc(1, sizeof *l);
    if (!l)
        return RILL_ENOMEM;
    l->s = s;
    l->fd = -1;
    uint8_t c[8];
    rill_rng_bytes(&s->rng, c, sizeof c);
    rill_hex(c, sizeof c, l->cookie);
    const char *why = NULL;
    int rc = open_socket(l, &why);
    if (rc != 0) {
        rill__log(s, 0, "lsd", "local service discovery is off: %s: %s", why,
                  rc == RILL_EIO ? strerror(errno) : "");
        rill__lsd_free(l);
        return rc;
    }
    struct timeval second = {1, 0};
    l->ev_read = event_new(s->base, l->fd, EV_READ | EV_PERSIST, on_readable, l);
    l->ev_tick = event_new(s->base, -1, EV_PERSIST, on_tick, l);
    if (!l->ev_read || !l->ev_tick || event_add(l->ev_read, NULL) != 0 ||
        event_add(l->ev_tick, &second) != 0) {
        rill__lsd_free(l);
        return RILL_ENOMEM;
    }
    l->next_ms = UINT64_MAX; /* nothing to say until a torrent comes */
    *out = l;
    return 0;
}

void rill__lsd_free(struct rill__lsd *l)
{
    if (!l)
        return;
    if (l->ev_read)
        event_free(l->ev_read);
    if (l->ev_tick)
        event_free(l->ev_tick);
    if (l->fd >= 0)
        close(l->fd);
    free(l);
}

void rill__lsd_soon(struct rill__lsd *l)
{
    if (!l)
        return;
    uint64_t soon = rill__tick_now(l->s) + LSD_SOON_MS;
    if (soon < l->next_ms)
        l->next_ms = soon;
}
