/* The BEP 15 client retry state machine (see udp_client.h). */
#include <stdio.h>
#include <string.h>

#include "core/tracker_msg_internal.h"
#include "core/udp_client.h"

void rill_udp_client_init(struct rill_udp_client *c, struct rill_rng *rng, int family)
{
    memset(c, 0, sizeof *c);
    c->rng = rng;
    c->family = family;
}

/* Enters a phase with a fresh transaction id and a packet to send. Retries
 * of the same request keep the id, so a late answer to an earlier copy
 * still counts. */
static void enter(struct rill_udp_client *c, enum rill_udp_client_state state)
{
    c->state = state;
    c->tid = (uint32_t)rill_rng_next(c->rng);
    c->pending = true;
}

void rill_udp_client_start(struct rill_udp_client *c, const struct rill_tracker_announce *a,
                           struct rill_tracker_reply *reply, uint64_t now)
{
    c->params = *a;
    c->params.ipv6 = NULL;
    c->params.tracker_id = NULL;
    c->params.tracker_id_len = 0;
    c->reply = reply;
    c->tries = 0;
    c->conn_fresh = false;
    if (c->have_conn && now >= c->conn_expires)
        c->have_conn = false;
    enter(c, c->have_conn ? RILL_UDP_CLIENT_ANNOUNCING : RILL_UDP_CLIENT_CONNECTING);
}

size_t rill_udp_client_poll_transmit(struct rill_udp_client *c, uint64_t now,
                                     uint8_t buf[RILL_UDP_CLIENT_MAX_PACKET])
{
    if (c->state == RILL_UDP_CLIENT_IDLE || !c->pending)
        return 0;
    /* BEP 15: an id may be used until one minute after it was received. */
    if (c->state == RILL_UDP_CLIENT_ANNOUNCING && now >= c->conn_expires) {
        c->have_conn = false;
        enter(c, RILL_UDP_CLIENT_CONNECTING);
    }
    c->pending = false;
    c->deadline = now + ((uint64_t)RILL_UDP_CLIENT_BASE_MS << c->tries);
    if (c->state == RILL_UDP_CLIENT_CONNECTING)
        return rill_udp_connect_request(buf, c->tid);
    return rill_udp_announce_request(buf, c->conn_id, c->tid, &c->params);
}

/* Ends the round; the reply already says how. */
static enum rill_udp_client_event finish(struct rill_udp_client *c, enum rill_udp_client_event ev)
{
    c->state = RILL_UDP_CLIENT_IDLE;
    c->pending = false;
    c->reply = NULL;
    if (ev != RILL_UDP_CLIENT_DONE)
        c->have_conn = false; /* a troubled tracker gets a clean start */
    return ev;
}

static enum rill_udp_client_event on_connected(struct rill_udp_client *c, uint64_t cid,
                                               uint64_t now)
{
    c->have_conn = true;
    c->conn_fresh = true;
    c->conn_id = cid;
    c->conn_expires = now + RILL_UDP_CLIENT_CONN_TTL_MS;
    c->tries = 0; /* the tracker is alive: the announce starts its own count */
    enter(c, RILL_UDP_CLIENT_ANNOUNCING);
    return RILL_UDP_CLIENT_PROGRESS;
}

/* An error packet. To an announce whose id came from an earlier round, it
 * most likely says the id went stale (trackers word it differently, so the
 * text is not read): connect again. Otherwise the tracker means it. */
static enum rill_udp_client_event on_error(struct rill_udp_client *c,
                                           const struct rill_udp_response *r)
{
    if (c->state == RILL_UDP_CLIENT_ANNOUNCING && !c->conn_fresh) {
        c->have_conn = false;
        c->tries = 0;
        enter(c, RILL_UDP_CLIENT_CONNECTING);
        return RILL_UDP_CLIENT_PROGRESS;
    }
    rill__tracker_reply_reset(c->reply);
    rill__tracker_text(c->reply->failure, sizeof c->reply->failure, r->message, r->message_len);
    return finish(c, RILL_UDP_CLIENT_FAILED);
}

/* A packet with our transaction id that does not parse: the tracker
 * answered, but not usefully (opentracker answers an announce for a torrent
 * it does not serve with 8 bytes), so waiting for retries would not help. */
static enum rill_udp_client_event malformed(struct rill_udp_client *c, const struct rill_error *err)
{
    rill__tracker_reply_reset(c->reply);
    snprintf(c->reply->failure, sizeof c->reply->failure, "bad reply from the tracker: %s",
             err->msg);
    return finish(c, RILL_UDP_CLIENT_FAILED);
}

enum rill_udp_client_event rill_udp_client_handle_packet(struct rill_udp_client *c,
                                                         const uint8_t *p, size_t n, uint64_t now)
{
    if (c->state == RILL_UDP_CLIENT_IDLE)
        return RILL_UDP_CLIENT_NOTHING;
    /* Only our transaction id makes a packet an answer. */
    if (n < 8 || rill__be32(p + 4) != c->tid)
        return RILL_UDP_CLIENT_NOTHING;
    bool announcing = c->state == RILL_UDP_CLIENT_ANNOUNCING;
    struct rill_udp_response r;
    struct rill_error err;
    /* The reply is filled only by an announce reply while announcing; the
     * parser checks the size before it touches the reply. */
    if (rill_udp_response_parse(p, n, c->tid, c->family, &r, announcing ? c->reply : NULL, &err) !=
        0)
        return malformed(c, &err);
    switch (r.action) {
    case RILL_UDP_CONNECT:
        return announcing ? RILL_UDP_CLIENT_NOTHING : on_connected(c, r.connection_id, now);
    case RILL_UDP_ANNOUNCE:
        return announcing ? finish(c, RILL_UDP_CLIENT_DONE) : RILL_UDP_CLIENT_NOTHING;
    case RILL_UDP_ERROR: return on_error(c, &r);
    default: return RILL_UDP_CLIENT_NOTHING;
    }
}

uint64_t rill_udp_client_next_timeout(const struct rill_udp_client *c, uint64_t now)
{
    if (c->state == RILL_UDP_CLIENT_IDLE)
        return UINT64_MAX;
    return c->pending ? now : c->deadline;
}

enum rill_udp_client_event rill_udp_client_handle_timeout(struct rill_udp_client *c, uint64_t now)
{
    if (c->state == RILL_UDP_CLIENT_IDLE || c->pending || now < c->deadline)
        return RILL_UDP_CLIENT_NOTHING;
    if (c->tries >= RILL_UDP_CLIENT_MAX_N) {
        rill__tracker_reply_reset(c->reply);
        rill__tracker_text(c->reply->failure, sizeof c->reply->failure,
                           (const uint8_t *)"no answer from the UDP tracker", 30);
        return finish(c, RILL_UDP_CLIENT_TIMEOUT);
    }
    c->tries++;
    c->pending = true;
    return RILL_UDP_CLIENT_PROGRESS;
}
