/* Shared between the announcer's files: announcer.c (tiers, rounds,
 * timing, peers), announcer_http.c (evhttp) and announcer_udp.c (BEP 15
 * socket around the udp_client core). Not for other modules. */
#ifndef RILL_IO_ANNOUNCER_INTERNAL_H
#define RILL_IO_ANNOUNCER_INTERNAL_H

#include <event2/util.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/tracker_msg.h"
#include "core/udp_client.h"
#include "io/announcer.h"

struct event;
struct evdns_base;
struct evdns_getaddrinfo_request;
struct evhttp_connection;

/* Bounds of the requests (in tracker time, see rill__ann_vnow). */
#define RILL__ANN_HTTP_TIMEOUT_MS 20000u /* one HTTP announce */
#define RILL__ANN_STOP_TIMEOUT_MS 5000u  /* `stopped`: best effort, bounded */
#define RILL__ANN_MAX_BODY (1u << 20)    /* HTTP reply body */
#define RILL__ANN_UDP_TRIES 2u           /* unanswered UDP sends before falling over */

enum rill__tr_kind { RILL__TR_UNUSABLE = 0, RILL__TR_HTTP, RILL__TR_UDP };

enum rill__tr_result {
    RILL__TR_OK = 0,  /* reply parsed into tr->reply */
    RILL__TR_REFUSED, /* the tracker answered with a failure reason (reply.failure) */
    RILL__TR_ERROR,   /* no usable answer: tr->error says why */
};

/* One tracker URL of a tier, with at most one request in flight. */
struct rill__tracker {
    struct rill__announcer *a;
    char *name; /* the URL without its query (which may
                   hold a passkey), for logs */
    enum rill__tr_kind kind;
    char *host;        /* no brackets around an IPv6 literal */
    char *host_header; /* HTTP Host: "host" or "host:port" */
    char *target;      /* HTTP: path and query of the announce URL */
    uint16_t port;
    bool literal;   /* host is an IP address: no DNS needed */
    bool announced; /* acknowledged `started`: owes a `stopped` */
    bool then_stop; /* stopping: `completed` goes out first, then `stopped` */
    uint8_t trackerid[RILL_TRACKER_ID_MAX];
    size_t trackerid_len;

    /* The request in flight. */
    bool busy;
    bool ending; /* result recorded, its handling pending */
    enum rill_tracker_event event;
    struct event *done; /* runs the result outside library callbacks */
    enum rill__tr_result result;
    char error[160];
    struct rill_tracker_reply reply;

    /* HTTP (announcer_http.c). */
    struct evhttp_connection *conn;
    int http_error; /* enum evhttp_request_error, or -1 */

    /* UDP (announcer_udp.c). */
    evutil_socket_t fd; /* -1 when closed */
    struct event *readable, *timer;
    struct rill_udp_client uc;
    struct rill_tracker_announce ann; /* the announce being sent */
    struct sockaddr_storage addr;
    socklen_t addrlen; /* 0: not resolved yet */
    struct evdns_getaddrinfo_request *dns_req;
    unsigned timeouts, max_timeouts; /* unanswered sends in this attempt */
    uint64_t deadline;               /* tracker ms; UINT64_MAX: the core decides */
};

struct rill__tier {
    struct rill__tracker **tr; /* tried in this order; a tracker that answers
                                  moves to the front (BEP 12) */
    size_t n;
};

struct rill__announcer {
    struct rill_session *s;
    struct rill_torrent *t;
    struct rill__tier *tiers;
    size_t ntiers;
    size_t usable;          /* trackers that are not RILL__TR_UNUSABLE */
    struct event *timer;    /* the next round */
    uint32_t key;           /* random, sent with every announce */
    unsigned speed;         /* tracker ms per real ms (tests) */
    uint64_t real0, virt0;  /* where the tracker clock was rebased */
    bool started, stopped;
    bool completed_pending, completed_sent;
    bool in_round;          /* a round walks the tiers */
    size_t tier, idx;       /* the tracker the round is trying */
    unsigned failed_rounds; /* in a row: the backoff exponent */
    uint64_t next_round;    /* tracker ms; UINT64_MAX: none scheduled */
    uint64_t last_ok;       /* tracker ms of the last answered announce */
    bool have_ok;
    uint32_t interval, min_interval; /* seconds, from the last answer */
    char last_error[200];            /* the round's last failure, for the log */
    struct rill_tracker_peer peers[RILL_TRACKER_NUMWANT_MAX];
};

/* The tracker clock in ms: the session clock, run `speed` times faster
 * from where the speed was set (speed 1 outside tests). Refreshes s->now. */
uint64_t rill__ann_vnow(struct rill__announcer *a);
/* Arms `ev` to fire after `vdelay` ms of tracker time. */
void rill__ann_arm(struct rill__announcer *a, struct event *ev, uint64_t vdelay);
/* Ends tr's request: records the result (error text from fmt when given)
 * and schedules its handling on the next loop turn, so no library callback
 * is on the stack when the announcer moves on. */
void rill__tracker_done(struct rill__tracker *tr, enum rill__tr_result result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* HTTP: sends `ann` (announcer_http.c), giving up after `timeout_ms` of
 * tracker time. Always ends in rill__tracker_done. */
void rill__http_send(struct rill__tracker *tr, const struct rill_tracker_announce *ann,
                     uint64_t timeout_ms);
/* Drops the connection and its request; no result is reported. Not from
 * inside an evhttp callback. */
void rill__http_abort(struct rill__tracker *tr);

/* UDP: sends `ann` (copied) giving up after `max_timeouts` unanswered sends
 * (0: the core's whole BEP 15 schedule) or at `deadline` (tracker ms,
 * UINT64_MAX: none). Always ends in rill__tracker_done. */
void rill__udp_send(struct rill__tracker *tr, const struct rill_tracker_announce *ann,
                    unsigned max_timeouts, uint64_t deadline);
/* Ends or abandons the attempt (no result is reported): the socket and the
 * connection id stay until the id expires, for the next announce. */
void rill__udp_abort(struct rill__tracker *tr);
/* Frees the socket and its events. */
void rill__udp_free(struct rill__tracker *tr);

#endif
