/* UDP announces (BEP 15): a connected UDP socket and two events around the
 * udp_client core, which decides what to send and when. The socket, and
 * with it the connection id, outlives an announce until the id expires, so
 * `completed` or `stopped` soon after another announce skips the connect.
 * The connected socket also reports ICMP port-unreachable as ECONNREFUSED,
 * so a tracker that is plainly not there fails at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/announcer_internal.h"

#define READS_PER_WAKE 16
#define MAX_PACKET 8192

static void close_socket(struct rill__tracker *tr)
{
    if (tr->readable) {
        event_free(tr->readable);
        tr->readable = NULL;
    }
    if (tr->fd >= 0) {
        evutil_closesocket(tr->fd);
        tr->fd = -1;
    }
}

void rill__udp_free(struct rill__tracker *tr)
{
    close_socket(tr);
    if (tr->timer) {
        event_free(tr->timer);
        tr->timer = NULL;
    }
}

/* Arms the timer for the core's next deadline or the attempt's own. */
static void arm(struct rill__tracker *tr, uint64_t now)
{
    uint64_t due = rill_udp_client_next_timeout(&tr->uc, now);
    if (tr->deadline < due)
        due = tr->deadline;
    if (due == UINT64_MAX)
        event_del(tr->timer);
    else
        rill__ann_arm(tr->a, tr->timer, due > now ? due - now : 0);
}

/* Sends what the core has to send, then waits for its deadline. */
static void pump(struct rill__tracker *tr, uint64_t now)
{
    uint8_t pkt[RILL_UDP_CLIENT_MAX_PACKET];
    size_t n = rill_udp_client_poll_transmit(&tr->uc, now, pkt);
    if (n && send(tr->fd, pkt, n, 0) < 0 && errno == ECONNREFUSED) {
        rill__tracker_done(tr, RILL__TR_ERROR, "connection refused");
        return;
    }
    /* Any other send error counts as a lost packet: the retry covers it. */
    arm(tr, now);
}

static void on_packet(struct rill__tracker *tr, const uint8_t *p, size_t n, uint64_t now)
{
    switch (rill_udp_client_handle_packet(&tr->uc, p, n, now)) {
    case RILL_UDP_CLIENT_PROGRESS:
        tr->timeouts = 0; /* it answers: the next request gets its own tries */
        pump(tr, now);
        break;
    case RILL_UDP_CLIENT_DONE: rill__tracker_done(tr, RILL__TR_OK, NULL); break;
    case RILL_UDP_CLIENT_FAILED: rill__tracker_done(tr, RILL__TR_REFUSED, NULL); break;
    default: break; /* not the awaited answer */
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct rill__tracker *tr = arg;
    rill__tick_now(tr->a->s);
    uint64_t now = rill__ann_vnow(tr->a);
    for (int i = 0; i < READS_PER_WAKE; i++) {
        uint8_t buf[MAX_PACKET];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        bool live = tr->busy && !tr->ending;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == ECONNREFUSED && live)
            rill__tracker_done(tr, RILL__TR_ERROR, "connection refused");
        else if (n >= 0 && live)
            on_packet(tr, buf, (size_t)n, now);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill__tracker *tr = arg;
    rill__tick_now(tr->a->s);
    uint64_t now = rill__ann_vnow(tr->a);
    if (!tr->busy) { /* idle: the connection id expired, nothing to keep */
        close_socket(tr);
        return;
    }
    if (tr->ending)
        return;
    if (now >= tr->deadline) {
        rill__tracker_done(tr, RILL__TR_ERROR, "no answer in time");
        return;
    }
    switch (rill_udp_client_handle_timeout(&tr->uc, now)) {
    case RILL_UDP_CLIENT_PROGRESS:
        if (tr->max_timeouts && ++tr->timeouts >= tr->max_timeouts)
            rill__tracker_done(tr, RILL__TR_ERROR, "no answer after %u tries", tr->timeouts);
        else
            pump(tr, now);
        break;
    case RILL_UDP_CLIENT_TIMEOUT:
        rill__tracker_done(tr, RILL__TR_ERROR, "%s", tr->reply.failure);
        break;
    default: arm(tr, now); break;
    }
}

/* A connected socket for tr->addr (a fresh one when the family changed). */
static int open_socket(struct rill__tracker *tr)
{
    int family = tr->addr.ss_family;
    int tfamily = family == AF_INET6 ? RILL_TRACKER_IPV6 : RILL_TRACKER_IPV4;
    if (tr->fd >= 0 && tr->uc.family == tfamily)
        return 0;
    close_socket(tr);
    tr->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (tr->fd < 0)
        return -1;
    if (rill__session_bind_socket(tr->a->s, tr->fd, family) != 0 ||
        connect(tr->fd, (const struct sockaddr *)&tr->addr, tr->addrlen) != 0) {
        close_socket(tr);
        return -1;
    }
    tr->readable = event_new(tr->a->s->base, tr->fd, EV_READ | EV_PERSIST, on_readable, tr);
    if (!tr->readable || event_add(tr->readable, NULL) != 0) {
        close_socket(tr);
        return -1;
    }
    rill_udp_client_init(&tr->uc, &tr->a->s->rng, tfamily);
    return 0;
}

/* The address is known: start the core's round. */
static void go(struct rill__tracker *tr)
{
    if (open_socket(tr) != 0) {
        tr->addrlen = 0;
        rill__tracker_done(tr, RILL__TR_ERROR, "cannot open a UDP socket: %s", strerror(errno));
        return;
    }
    uint64_t now = rill__ann_vnow(tr->a);
    rill_udp_client_start(&tr->uc, &tr->ann, &tr->reply, now);
    pump(tr, now);
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct rill__tracker *tr = arg;
    if (result == EVUTIL_EAI_CANCEL) /* from rill__udp_abort: tr may be going */
        return;
    tr->dns_req = NULL;
    rill__tick_now(tr->a->s);
    /* The first address we can send to from the --bind address. */
    const struct evutil_addrinfo *ai = res;
    while (ai && ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
                  !rill__session_can_reach(tr->a->s, ai->ai_family)))
        ai = ai->ai_next;
    if (result != 0 || !ai || ai->ai_addrlen > sizeof tr->addr) {
        rill__tracker_done(tr, RILL__TR_ERROR, "cannot resolve %s: %s", tr->host,
                           result ? evutil_gai_strerror(result) : "no address");
    } else {
        memcpy(&tr->addr, ai->ai_addr, ai->ai_addrlen);
        tr->addrlen = (socklen_t)ai->ai_addrlen;
        go(tr);
    }
    if (res)
        evutil_freeaddrinfo(res);
}

/* An IP literal needs no resolver. */
static void literal_addr(struct rill__tracker *tr)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&tr->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&tr->addr;
    memset(&tr->addr, 0, sizeof tr->addr);
    if (inet_pton(AF_INET, tr->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(tr->port);
        tr->addrlen = sizeof *sin;
    } else if (inet_pton(AF_INET6, tr->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(tr->port);
        tr->addrlen = sizeof *sin6;
    }
}

void rill__udp_send(struct rill__tracker *tr, const struct rill_tracker_announce *ann,
                    unsigned max_timeouts, uint64_t deadline)
{
    struct rill__announcer *a = tr->a;
    tr->ann = *ann;
    tr->timeouts = 0;
    tr->max_timeouts = max_timeouts;
    tr->deadline = deadline;
    if (!tr->timer && !(tr->timer = event_new(a->s->base, -1, 0, on_timer, tr))) {
        rill__tracker_done(tr, RILL__TR_ERROR, "out of memory");
        return;
    }
    event_del(tr->timer);
    if (!tr->addrlen && tr->literal)
        literal_addr(tr);
    if (tr->addrlen) {
        go(tr);
        return;
    }
    struct evdns_base *dns = rill__session_dns(a->s);
    if (!dns) {
        rill__tracker_done(tr, RILL__TR_ERROR, "no DNS resolver");
        return;
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_DGRAM,
                                    .ai_protocol = IPPROTO_UDP,
                                    .ai_flags = EVUTIL_AI_ADDRCONFIG};
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)tr->port);
    if (deadline != UINT64_MAX)
        rill__ann_arm(a, tr->timer, deadline - rill__ann_vnow(a));
    /* May answer at once (the hosts file), then it returns NULL. */
    tr->dns_req = evdns_getaddrinfo(dns, tr->host, port, &hints, on_resolved, tr);
}

void rill__udp_abort(struct rill__tracker *tr)
{
    if (tr->dns_req) {
        struct evdns_getaddrinfo_request *r = tr->dns_req;
        tr->dns_req = NULL;
        evdns_getaddrinfo_cancel(r);
    }
    if (!tr->timer)
        return;
    event_del(tr->timer);
    if (tr->fd < 0)
        return;
    /* Keep the socket while its connection id is good for another announce. */
    uint64_t now = rill__ann_vnow(tr->a);
    if (tr->uc.have_conn && tr->uc.conn_expires > now)
        rill__ann_arm(tr->a, tr->timer, tr->uc.conn_expires - now);
    else
        close_socket(tr);
}
