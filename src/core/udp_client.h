/* The client side of one UDP tracker (BEP 15) as a pure state machine: it
 * says which packet to send and when, and reads what comes back. The shell
 * owns the socket and the timer; time is passed in as milliseconds.
 *
 * One announce is a round: connect (unless a connection id younger than a
 * minute is at hand), then announce. An unanswered request is sent again
 * after 15 * 2^n seconds, n = 0, 1, ... 8 counting the unanswered tries of
 * the round (a reply from the tracker resets it); when the try with n = 8
 * times out too (after about 2 h 8 min in all), the round fails. A retry
 * finding the connection id expired connects again first. An error packet
 * answering an announce made with an id from an earlier round means the id
 * went stale: the client connects again, once; any other error packet fails
 * the round with the tracker's text.
 *
 * Internal to rill (src/core). */
#ifndef RILL_CORE_UDP_CLIENT_H
#define RILL_CORE_UDP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/tracker_msg.h"
#include "util/rng.h"

#define RILL_UDP_CLIENT_MAX_PACKET RILL_UDP_ANNOUNCE_LEN
#define RILL_UDP_CLIENT_BASE_MS 15000u /* first timeout, BEP 15 */
#define RILL_UDP_CLIENT_MAX_N 8u       /* last retry exponent, BEP 15 */
#define RILL_UDP_CLIENT_CONN_TTL_MS 60000u

/* What a call reports (none is an error code). */
enum rill_udp_client_event {
    RILL_UDP_CLIENT_NOTHING = 0, /* ignored packet, or no timeout due */
    RILL_UDP_CLIENT_PROGRESS,    /* a packet is ready: call poll_transmit */
    RILL_UDP_CLIENT_DONE,        /* the reply is filled */
    RILL_UDP_CLIENT_FAILED,      /* an error or a bad answer: reply->failure */
    RILL_UDP_CLIENT_TIMEOUT,     /* no answer after the last retry; reply->failure says so */
};

enum rill_udp_client_state {
    RILL_UDP_CLIENT_IDLE = 0,
    RILL_UDP_CLIENT_CONNECTING,
    RILL_UDP_CLIENT_ANNOUNCING,
};

struct rill_udp_client {
    struct rill_rng *rng;
    int family; /* of the socket: the reply's peer size */
    enum rill_udp_client_state state;
    struct rill_tracker_announce params; /* pointers inside are not used */
    struct rill_tracker_reply *reply;    /* the caller's, during a round */
    bool have_conn;
    bool conn_fresh; /* obtained in this round */
    uint64_t conn_id;
    uint64_t conn_expires; /* ms */
    uint32_t tid;
    uint32_t tries;    /* n: unanswered sends in this round */
    bool pending;      /* a packet waits for poll_transmit */
    uint64_t deadline; /* ms; when the sent request times out */
};

/* Prepares an idle client. `rng` (kept) makes transaction ids; `family` is
 * RILL_TRACKER_IPV4 or RILL_TRACKER_IPV6, the socket's. Nothing to free. */
void rill_udp_client_init(struct rill_udp_client *c, struct rill_rng *rng, int family);

/* Begins a round for `a` (copied; its ipv6 and tracker_id are not used over
 * UDP). The reply goes into `reply`, whose peers and peer_cap the caller
 * set; the pointer is kept until the round ends. A round in progress is
 * abandoned. Then call poll_transmit. */
void rill_udp_client_start(struct rill_udp_client *c, const struct rill_tracker_announce *a,
                           struct rill_tracker_reply *reply, uint64_t now);

/* Writes the packet to send now into `buf` and returns its length, or 0
 * when there is nothing to send. The timeout starts now. */
size_t rill_udp_client_poll_transmit(struct rill_udp_client *c, uint64_t now,
                                     uint8_t buf[RILL_UDP_CLIENT_MAX_PACKET]);

/* Feeds a packet that came from the tracker's address. Returns NOTHING for
 * a packet that is not the answer awaited (another transaction id, or a
 * reply of the other phase), PROGRESS after a connect reply or a stale id,
 * DONE or FAILED when the round ends. A packet with the awaited
 * transaction id that does not parse (wrong size, unknown action) is an
 * answer too: FAILED, with the reason in reply->failure. */
enum rill_udp_client_event rill_udp_client_handle_packet(struct rill_udp_client *c,
                                                         const uint8_t *p, size_t n, uint64_t now);

/* When to call handle_timeout (ms): `now` when a packet waits to be sent,
 * UINT64_MAX when idle. */
uint64_t rill_udp_client_next_timeout(const struct rill_udp_client *c, uint64_t now);

/* Acts on the clock: NOTHING before the deadline, PROGRESS when a retry is
 * due (call poll_transmit), TIMEOUT after the last one. */
enum rill_udp_client_event rill_udp_client_handle_timeout(struct rill_udp_client *c, uint64_t now);

#endif
