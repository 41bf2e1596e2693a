/* A peer connection: a bufferevent in, the wire codec in the middle, the
 * torrent's message handlers after it. This file owns the connection's
 * lifetime (connect, handshake, framing, close); what a message means is
 * torrent_peer.c's business. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io/conn.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "util/util.h"

#define HIGH_WATER (4u << 20) /* stop reading while this much is unparsed */
#define MAX_SINGLE_IO (256u << 10)
#define SLURP_BYTES (256u << 10)

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

void rill__addr_name(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(out, cap, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(out, cap, "[%s]:%u", host, port);
    } else {
        snprintf(out, cap, "?");
    }
}

static struct rill__peer *peer_alloc(struct rill_session *s, const struct sockaddr *sa,
                                     socklen_t len, int fd, bool outgoing)
{
    struct rill__peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (rill_peer_init(&p->core)) {
        free(p);
        return NULL;
    }
    p->s = s;
    p->id = ++s->next_peer_id;
    memcpy(&p->addr, sa, len);
    p->addrlen = len;
    rill__addr_name(sa, p->name, sizeof p->name);
    p->outgoing = outgoing;
    p->connected_at = p->last_recv = p->last_sent = s->now;
    rill_rate_init(&p->down, 0, s->now);
    rill_rate_init(&p->up, 0, s->now);
    p->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!p->bev) {
        rill_peer_free(&p->core);
        free(p);
        return NULL;
    }
    bufferevent_setcb(p->bev, read_cb, write_cb, event_cb, p);
    bufferevent_setwatermark(p->bev, EV_READ, 0, HIGH_WATER);
    /* libevent moves at most 16 KiB per syscall by default: a block each,
     * so a fast transfer is mostly syscalls. Let each one move more. */
    bufferevent_set_max_single_read(p->bev, MAX_SINGLE_IO);
    bufferevent_set_max_single_write(p->bev, MAX_SINGLE_IO);
    s->npeers++;
    return p;
}

void rill__send_handshake(struct rill__peer *p)
{
    struct rill_wire_handshake hs = {0};
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_EXTENDED, true);
    rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_FAST, true);
    if (rill__torrent_dht(p->t))
        rill_wire_feature_set(hs.reserved, RILL_WIRE_FEAT_DHT, true);
    memcpy(hs.info_hash, p->t->mi->info_hash, RILL_SHA1_LEN);
    memcpy(hs.peer_id, p->s->peer_id, RILL_WIRE_PEER_ID_LEN);
    struct rill_buf b;
    rill_buf_init(&b, 128);
    rill_wire_handshake_build(&b, &hs);
    rill__peer_send(p, &b);
    rill_buf_free(&b);
}

/* A non-blocking socket for `family`, bound to --bind when that names an
 * address, so that every connection leaves from the address the user chose. */
static int outgoing_socket(struct rill_session *s, int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rill__session_bind_socket(s, fd, family) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

struct rill__peer *rill__peer_connect(struct rill_torrent *t, const struct sockaddr *sa,
                                      socklen_t len)
{
    int fd = outgoing_socket(t->s, sa->sa_family);
    if (fd < 0) {
        char name[64];
        rill__addr_name(sa, name, sizeof name);
        rill__log(t->s, 1, "peer_closed", "%s: cannot connect from %s: %s", name, t->s->bind,
                  strerror(errno));
        return NULL;
    }
    struct rill__peer *p = peer_alloc(t->s, sa, len, fd, true);
    if (!p) {
        close(fd);
        return NULL;
    }
    p->phase = RILL__CONNECTING;
    rill__torrent_attach(t, p);
    if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&p->addr, (int)len) != 0) {
        rill__peer_close(p, "connect failed at once");
        return NULL;
    }
    return p;
}

struct rill__peer *rill__peer_accept(struct rill_session *s, int fd, const struct sockaddr *sa,
                                     socklen_t len)
{
    struct rill__peer *p = peer_alloc(s, sa, len, fd, false);
    if (!p)
        return NULL;
    p->phase = RILL__HANDSHAKE;
    p->next = s->handshaking;
    if (s->handshaking)
        s->handshaking->prev = p;
    s->handshaking = p;
    bufferevent_enable(p->bev, EV_READ | EV_WRITE);
    return p;
}

void rill__peer_send(struct rill__peer *p, const struct rill_buf *b)
{
    if (p->phase == RILL__CLOSED || b->failed || b->len == 0)
        return;
    bufferevent_write(p->bev, b->data, b->len);
    p->last_sent = p->s->now;
}

/* Two connections to one peer (both of us dialed, say, after the tracker
 * listed each to the other) would download everything twice. Both ends
 * keep the one that the side with the lower peer id opened, so they agree
 * without a word; NULL when `p` has no twin. */
static struct rill__peer *duplicate_to_drop(struct rill__peer *p)
{
    struct rill__peer *q = p->t->peers;
    while (q && (q == p || q->phase != RILL__ACTIVE ||
                 memcmp(q->peer_id, p->peer_id, RILL_WIRE_PEER_ID_LEN) != 0))
        q = q->next;
    if (!q)
        return NULL;
    if (q->outgoing == p->outgoing)
        return p; /* one side dialed twice: keep the older */
    bool we_are_lower = memcmp(p->s->peer_id, p->peer_id, RILL_WIRE_PEER_ID_LEN) < 0;
    /* The connection we opened is the outgoing one. */
    struct rill__peer *ours = p->outgoing ? p : q, *theirs = p->outgoing ? q : p;
    return we_are_lower ? theirs : ours;
}

/* The handshake: for an incoming peer the info-hash picks the torrent and
 * we answer; for an outgoing one it must match ours. */
static int on_handshake(struct rill__peer *p, struct evbuffer *in)
{
    size_t avail = evbuffer_get_length(in);
    size_t n = avail < RILL_WIRE_HANDSHAKE_LEN ? avail : RILL_WIRE_HANDSHAKE_LEN;
    uint8_t buf[RILL_WIRE_HANDSHAKE_LEN];
    evbuffer_copyout(in, buf, n);
    struct rill_wire_handshake hs;
    const char *why = NULL;
    int rc = rill_wire_handshake_parse(buf, n, &hs, &why);
    if (rc < 0) {
        rill__peer_close(p, why ? why : "bad handshake");
        return -1;
    }
    if (rc == RILL_WIRE_NEED_MORE && n < RILL_WIRE_HANDSHAKE_PEER_ID_AT)
        return 1;
    if (!p->t && rill__session_adopt(p->s, p, hs.info_hash) != 0)
        return -1; /* closed by adopt */
    if (p->t && memcmp(hs.info_hash, p->t->mi->info_hash, RILL_SHA1_LEN) != 0) {
        rill__peer_close(p, "handshake for another torrent");
        return -1;
    }
    if (rc == RILL_WIRE_NEED_MORE)
        return 1;
    evbuffer_drain(in, RILL_WIRE_HANDSHAKE_LEN);
    if (memcmp(hs.peer_id, p->s->peer_id, RILL_WIRE_PEER_ID_LEN) == 0) {
        if (p->outgoing)
            rill__session_note_self(p->s, &p->addr, p->addrlen);
        rill__peer_close(p, "connected to ourselves");
        return -1;
    }
    memcpy(p->peer_id, hs.peer_id, RILL_WIRE_PEER_ID_LEN);
    rill_wire_client_name(p->peer_id, p->client, sizeof p->client);
    struct rill__peer *dup = duplicate_to_drop(p);
    if (dup)
        rill__peer_close(dup, "a second connection to the same peer");
    if (dup == p)
        return -1;
    /* We always offer both features, so the peer's bits alone decide. */
    p->fast = rill_wire_feature_has(hs.reserved, RILL_WIRE_FEAT_FAST);
    p->extended = rill_wire_feature_has(hs.reserved, RILL_WIRE_FEAT_EXTENDED);
    p->dht = rill_wire_feature_has(hs.reserved, RILL_WIRE_FEAT_DHT);
    p->phase = RILL__ACTIVE;
    rill__torrent_peer_ready(p->t, p);
    return p->phase == RILL__ACTIVE ? 0 : -1;
}

/* Parses and dispatches every whole frame in the input. */
static void on_frames(struct rill__peer *p, struct evbuffer *in)
{
    while (p->phase == RILL__ACTIVE && !p->read_blocked) {
        size_t avail = evbuffer_get_length(in);
        if (avail < 4)
            return;
        uint8_t hdr[5];
        size_t hn = avail < 5 ? avail : 5;
        evbuffer_copyout(in, hdr, hn);
        size_t need = 4 + (size_t)rill__be32(hdr);
        struct rill_wire_msg msg;
        size_t consumed = 0;
        if (avail < need) {
            /* Judge the header now, so a huge length is refused before its
             * body is buffered. */
            int rc = rill_wire_parse(&p->lim, hdr, hn, &msg, &consumed);
            if (rc < 0)
                rill__peer_close(p, msg.why);
            return;
        }
        const uint8_t *frame = evbuffer_pullup(in, (ssize_t)need);
        int rc = frame ? rill_wire_parse(&p->lim, frame, need, &msg, &consumed) : RILL_ENOMEM;
        if (rc != 0) {
            rill__peer_close(p, rc < 0 && frame ? msg.why : "cannot parse frame");
            return;
        }
        p->last_recv = p->s->now;
        if (p->s->opts.verbosity >= 2)
            rill__log(p->s, 2, "message", "%s <- %s", p->name, rill_wire_type_name(msg.type));
        rill__torrent_on_message(p->t, p, &msg);
        if (p->phase != RILL__CLOSED)
            evbuffer_drain(in, consumed);
    }
}

/* libevent 2.1's evbuffer_read takes at most 4 KiB per call
 * (EVBUFFER_MAX_READ), so a fast peer costs a loop turn, an ioctl and a
 * readv per 4 KiB. Drain the socket here in large reads straight into the
 * input buffer's own space (no extra copy); the bufferevent still sees EOF
 * and errors on its next read. */
static void slurp_unfrozen(struct rill__peer *p, struct evbuffer *in, evutil_socket_t fd)
{
    for (int round = 0; round < 4 && !p->read_blocked; round++) {
        if (evbuffer_get_length(in) >= HIGH_WATER)
            return;
        struct evbuffer_iovec vec[2];
        int n = evbuffer_reserve_space(in, SLURP_BYTES, vec, 2);
        if (n <= 0)
            return;
        struct iovec iov[2];
        for (int i = 0; i < n; i++)
            iov[i] = (struct iovec){vec[i].iov_base, vec[i].iov_len};
        ssize_t got = readv(fd, iov, n);
        if (got <= 0) {
            evbuffer_commit_space(in, vec, 0);
            return; /* EAGAIN, EOF or an error: the bufferevent will see it */
        }
        size_t left = (size_t)got;
        for (int i = 0; i < n; i++) {
            vec[i].iov_len = vec[i].iov_len < left ? vec[i].iov_len : left;
            left -= vec[i].iov_len;
        }
        evbuffer_commit_space(in, vec, n);
        if ((size_t)got < SLURP_BYTES)
            return; /* the socket is drained */
    }
}

static void slurp(struct rill__peer *p, struct evbuffer *in)
{
    evutil_socket_t fd = bufferevent_getfd(p->bev);
    /* A bufferevent freezes its input's end against other writers. */
    evbuffer_unfreeze(in, 0);
    slurp_unfrozen(p, in, fd);
    evbuffer_freeze(in, 0);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct rill__peer *p = arg;
    rill__tick_now(p->s);
    struct evbuffer *in = bufferevent_get_input(bev);
    if (p->phase == RILL__ACTIVE)
        slurp(p, in);
    if (p->phase == RILL__HANDSHAKE && on_handshake(p, in) != 0)
        return;
    on_frames(p, in);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct rill__peer *p = arg;
    rill__tick_now(p->s);
    if (p->phase == RILL__ACTIVE)
        rill__torrent_on_writable(p->t, p);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct rill__peer *p = arg;
    rill__tick_now(p->s);
    if (what & BEV_EVENT_CONNECTED) {
        p->phase = RILL__HANDSHAKE;
        p->connected_at = p->s->now;
        rill__send_handshake(p);
        bufferevent_enable(p->bev, EV_READ | EV_WRITE);
        return;
    }
    if (what & BEV_EVENT_EOF)
        rill__peer_close(p, "closed by peer");
    else if (what & BEV_EVENT_ERROR)
        rill__peer_close(p, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Frees what is left of a closed peer once no worker job refers to it and
 * its bufferevent is gone: the two can end in either order. */
void rill__peer_release(struct rill__peer *p)
{
    if (p->phase != RILL__CLOSED || p->jobs > 0 || p->bev != NULL)
        return;
    rill_peer_free(&p->core);
    rill_bitfield_free(&p->have);
    free(p);
}

static void free_bev_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill__peer *p = arg;
    bufferevent_free(p->bev);
    p->bev = NULL;
    rill__peer_release(p);
}

void rill__peer_close(struct rill__peer *p, const char *reason)
{
    if (p->phase == RILL__CLOSED)
        return;
    rill__log(p->s, p->phase == RILL__ACTIVE ? 1 : 2, "peer_closed", "%s%s%s: %s", p->name,
              p->client[0] ? " " : "", p->client, reason);
    if (p->t) {
        rill__torrent_detach(p->t, p);
    } else {
        if (p->prev)
            p->prev->next = p->next;
        else
            p->s->handshaking = p->next;
        if (p->next)
            p->next->prev = p->prev;
    }
    p->phase = RILL__CLOSED;
    p->s->npeers--;
    /* Called from inside this bufferevent's own callbacks: free it once they
     * have returned. */
    bufferevent_disable(p->bev, EV_READ | EV_WRITE);
    bufferevent_setcb(p->bev, NULL, NULL, NULL, NULL);
    event_base_once(p->s->base, -1, EV_TIMEOUT, free_bev_later, p, NULL);
}

void rill__peer_pause_reading(struct rill__peer *p, bool pause)
{
    if (p->phase == RILL__CLOSED || p->read_blocked == pause)
        return;
    p->read_blocked = pause;
    if (pause) {
        bufferevent_disable(p->bev, EV_READ);
    } else {
        bufferevent_enable(p->bev, EV_READ);
        on_frames(p, bufferevent_get_input(p->bev)); /* what was already buffered */
    }
}

size_t rill__peer_output_len(const struct rill__peer *p)
{
    return p->bev ? evbuffer_get_length(bufferevent_get_output(p->bev)) : 0;
}
