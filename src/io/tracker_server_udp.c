/* The tracker's UDP front end (BEP 15): one non-blocking socket, packets
 * taken and answered in batches (recvmmsg / sendmmsg) so a busy tracker
 * makes two system calls per batch instead of two per packet. Connection
 * ids are keyed hashes of the client's address and the minute
 * (rill_udp_connection_id): nothing is stored per client. */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/sockaddr.h"
#include "io/tracker_server.h"
#include "util/util.h"

#define BATCH 32
#define MAX_BATCHES 16           /* per wakeup, so HTTP gets its turn */
#define IN_MAX 1500              /* longer datagrams are cut and refused */
#define OUT_MAX (RILL_UDP_ANNOUNCE_REPLY_MIN + RILL_TRACKER_NUMWANT_MAX * RILL_SWARM_PEER6_LEN)

struct batch {
    struct mmsghdr in[BATCH], out[BATCH];
    struct iovec in_iov[BATCH], out_iov[BATCH];
    struct sockaddr_storage from[BATCH];
    uint8_t buf[BATCH][IN_MAX];
};

/* An error packet no longer than the request it answers (`in_len`), so a
 * forged source address gains nothing by sending us junk. */
static size_t error_reply(uint8_t *out, uint32_t tid, const char *msg, size_t in_len)
{
    char cut[128];
    size_t room = in_len > 8 ? in_len - 8 : 0, len = strlen(msg);
    if (len > room)
        len = room;
    if (len > sizeof cut - 1)
        len = sizeof cut - 1;
    memcpy(cut, msg, len);
    cut[len] = 0;
    int n = rill_udp_error(out, OUT_MAX, tid, cut);
    return n > 0 ? (size_t)n : 0;
}

static size_t announce(struct rill_tracker_server *t, const struct rill_udp_request *r,
                       int family, const uint8_t addr[16], uint8_t *out)
{
    uint8_t peers[RILL_TRACKER_NUMWANT_MAX * RILL_SWARM_PEER6_LEN];
    /* A client reads peers of its own family only (the reply has no tag). */
    bool v4 = family == RILL_TRACKER_IPV4;
    struct rill_swarm_result res = {.peers4 = v4 ? peers : NULL,
                                    .cap4 = v4 ? RILL_TRACKER_NUMWANT_MAX : 0,
                                    .peers6 = v4 ? NULL : peers,
                                    .cap6 = v4 ? 0 : RILL_TRACKER_NUMWANT_MAX};
    const char *failure = rill__tserver_announce(t, &r->query, family, addr, &res);
    if (failure)
        return error_reply(out, r->transaction_id, failure, RILL_UDP_ANNOUNCE_LEN);
    int n = rill_udp_announce_response(out, OUT_MAX, r->transaction_id, res.interval,
                                       res.incomplete, res.complete, family, peers,
                                       v4 ? res.n4 : res.n6);
    return n > 0 ? (size_t)n : 0;
}

static size_t scrape(struct rill_tracker_server *t, const struct rill_udp_request *r,
                     uint8_t *out)
{
    struct rill_tracker_scrape_entry ent[RILL_TRACKER_SCRAPE_MAX];
    rill__tserver_scrape(t, r->hashes, r->hash_count, ent);
    int n = rill_udp_scrape_response(out, OUT_MAX, r->transaction_id, ent, r->hash_count);
    return n > 0 ? (size_t)n : 0;
}

/* The reply to one datagram, 0 for none. */
static size_t handle(struct rill_tracker_server *t, const uint8_t *p, size_t n,
                     const struct sockaddr *from, uint8_t *out)
{
    int family;
    uint8_t addr[16];
    uint16_t port;
    if (!rill__tserver_peer_addr(from, &family, addr, &port) || port == 0)
        return 0;
    struct rill_udp_request r;
    struct rill_error e = {0};
    if (n > IN_MAX - 1 || rill_udp_request_parse(p, n, &r, &e) != 0) {
        rill__tserver_bad_request(t, "UDP packet", n > IN_MAX - 1 ? "too long" : e.msg);
        /* Only a packet that looks like a request gets an answer: no
         * amplification for a forged source. */
        return n >= 16 && n <= IN_MAX - 1 ? error_reply(out, r.transaction_id, e.msg, n) : 0;
    }
    uint64_t minute = t->now / 60000;
    if (r.action == RILL_UDP_CONNECT)
        return rill_udp_connect_response(
            out, r.transaction_id, rill_udp_connection_id(&t->udp_key, minute, family, addr, port));
    if (!rill_udp_connection_id_ok(&t->udp_key, minute, family, addr, port, r.connection_id)) {
        rill__tserver_bad_request(t, "UDP packet", "stale or foreign connection id");
        return error_reply(out, r.transaction_id, "connection id expired; connect again", n);
    }
    return r.action == RILL_UDP_ANNOUNCE ? announce(t, &r, family, addr, out)
                                         : scrape(t, &r, out);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct rill_tracker_server *t = arg;
    struct batch *b = (struct batch *)t->udp_out;
    uint8_t *outbuf = t->udp_out + sizeof *b;
    rill__tserver_now(t);
    for (int round = 0; round < MAX_BATCHES; round++) {
        for (int i = 0; i < BATCH; i++) {
            b->in_iov[i] = (struct iovec){b->buf[i], IN_MAX};
            b->in[i].msg_hdr = (struct msghdr){.msg_name = &b->from[i],
                                               .msg_namelen = sizeof b->from[i],
                                               .msg_iov = &b->in_iov[i],
                                               .msg_iovlen = 1};
        }
        int got = recvmmsg(fd, b->in, BATCH, MSG_DONTWAIT, NULL);
        if (got <= 0)
            return;
        int nout = 0;
        for (int i = 0; i < got; i++) {
            t->udp_packets++;
            uint8_t *o = outbuf + (size_t)nout * OUT_MAX;
            size_t len = handle(t, b->buf[i], b->in[i].msg_len,
                                (struct sockaddr *)&b->from[i], o);
            if (!len)
                continue;
            b->out_iov[nout] = (struct iovec){o, len};
            b->out[nout].msg_hdr = (struct msghdr){.msg_name = &b->from[i],
                                                   .msg_namelen = b->in[i].msg_hdr.msg_namelen,
                                                   .msg_iov = &b->out_iov[nout],
                                                   .msg_iovlen = 1};
            nout++;
        }
        /* A full send buffer drops replies, as the network may: clients retry. */
        for (int sent = 0; sent < nout;) {
            int k = sendmmsg(fd, b->out + sent, (unsigned)(nout - sent), MSG_DONTWAIT);
            if (k <= 0)
                break;
            sent += k;
        }
        if (got < BATCH)
            return;
    }
}

int rill__tserver_udp_start(struct rill_tracker_server *t, struct rill_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (rill__sockaddr_parse(t->opts.udp, &ss, &len) != 0)
        return rill__fail(err, RILL_EINVAL, 0, "bad UDP address '%s' (want ADDR:PORT)",
                          t->opts.udp);
    size_t bytes = sizeof(struct batch) + (size_t)BATCH * OUT_MAX;
    t->udp_out = malloc(bytes);
    if (!t->udp_out)
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory");
    /* Touched now, so the batch buffers are part of the tracker's fixed cost
     * from the start rather than appearing with the first busy second. */
    memset(t->udp_out, 0, bytes);
    t->udp_fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t->udp_fd < 0 || bind(t->udp_fd, (struct sockaddr *)&ss, len) != 0)
        return rill__fail(err, RILL_EIO, 0, "cannot bind %s (UDP): %s", t->opts.udp,
                          strerror(errno));
    t->udp_ev = event_new(t->base, t->udp_fd, EV_READ | EV_PERSIST, on_readable, t);
    if (!t->udp_ev || event_add(t->udp_ev, NULL) != 0)
        return rill__fail(err, RILL_ENOMEM, 0, "cannot watch the UDP socket");
    t->udp_port = rill__tserver_bound_port(t->udp_fd);
    rill__tserver_log(t, "UDP tracker on %s (port %u)", t->opts.udp, t->udp_port);
    return 0;
}

void rill__tserver_udp_stop(struct rill_tracker_server *t)
{
    if (t->udp_ev)
        event_free(t->udp_ev);
    t->udp_ev = NULL;
    if (t->udp_fd >= 0)
        close(t->udp_fd);
    t->udp_fd = -1;
}
