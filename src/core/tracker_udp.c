/* UDP tracker packets (BEP 15), both directions, IPv4 and IPv6 (see
 * tracker_msg.h). Every field is big-endian at a fixed offset:
 *
 *   connect request   0 protocol id (8) | 8 action 0 | 12 transaction id
 *   connect reply     0 action 0 | 4 transaction id | 8 connection id (8)
 *   announce request  0 connection id | 8 action 1 | 12 tid | 16 info_hash |
 *                     36 peer_id | 56 downloaded (8) | 64 left (8) |
 *                     72 uploaded (8) | 80 event | 84 IPv4 | 88 key |
 *                     92 num_want | 96 port (2) = 98, then BEP 41 options
 *   announce reply    0 action 1 | 4 tid | 8 interval | 12 leechers |
 *                     16 seeders | 20 peers, 6 (IPv4) or 18 (IPv6) each
 *   scrape request    0 connection id | 8 action 2 | 12 tid | 16 hashes
 *   scrape reply      0 action 2 | 4 tid | 8 (seeders, completed, leechers)
 *   error             0 action 3 | 4 tid | 8 message */
#include <limits.h>
#include <string.h>

#include "core/tracker_msg_internal.h"

/* ------------------------------------------------------- connection ids */

uint64_t rill_udp_connection_id(const struct rill_udp_idkey *k, uint64_t minute, int family,
                                const uint8_t addr[16], uint16_t port)
{
    uint8_t msg[RILL_UDP_KEY_LEN + 8 + 1 + 16 + 2];
    memcpy(msg, k->key, RILL_UDP_KEY_LEN);
    rill__put_be64(msg + RILL_UDP_KEY_LEN, minute);
    msg[RILL_UDP_KEY_LEN + 8] = (uint8_t)family;
    memcpy(msg + RILL_UDP_KEY_LEN + 9, addr, 16);
    msg[RILL_UDP_KEY_LEN + 25] = (uint8_t)(port >> 8);
    msg[RILL_UDP_KEY_LEN + 26] = (uint8_t)port;
    uint8_t digest[RILL_SHA256_LEN];
    rill__sha256_with(k->sha, msg, sizeof msg, digest);
    return (rill__be64(digest) & ~1ull) | (minute & 1);
}

bool rill_udp_connection_id_ok(const struct rill_udp_idkey *k, uint64_t minute, int family,
                               const uint8_t addr[16], uint16_t port, uint64_t id)
{
    /* The parity bit says which of the two minutes minted it. */
    uint64_t m = (id & 1) == (minute & 1) ? minute : minute - 1;
    return (minute > 0 || m == minute) && id == rill_udp_connection_id(k, m, family, addr, port);
}

/* ---------------------------------------------------------------- builders */

size_t rill_udp_connect_request(uint8_t out[RILL_UDP_CONNECT_LEN], uint32_t tid)
{
    rill__put_be64(out, RILL_UDP_PROTOCOL_ID);
    rill__put_be32(out + 8, RILL_UDP_CONNECT);
    rill__put_be32(out + 12, tid);
    return RILL_UDP_CONNECT_LEN;
}

size_t rill_udp_connect_response(uint8_t out[RILL_UDP_CONNECT_LEN], uint32_t tid,
                                 uint64_t connection_id)
{
    rill__put_be32(out, RILL_UDP_CONNECT);
    rill__put_be32(out + 4, tid);
    rill__put_be64(out + 8, connection_id);
    return RILL_UDP_CONNECT_LEN;
}

size_t rill_udp_announce_request(uint8_t out[RILL_UDP_ANNOUNCE_LEN], uint64_t connection_id,
                                 uint32_t tid, const struct rill_tracker_announce *a)
{
    rill__put_be64(out, connection_id);
    rill__put_be32(out + 8, RILL_UDP_ANNOUNCE);
    rill__put_be32(out + 12, tid);
    memcpy(out + 16, a->info_hash, 20);
    memcpy(out + 36, a->peer_id, 20);
    rill__put_be64(out + 56, a->downloaded);
    rill__put_be64(out + 64, a->left);
    rill__put_be64(out + 72, a->uploaded);
    rill__put_be32(out + 80, (uint32_t)a->event);
    rill__put_be32(out + 84, 0); /* the tracker uses the sender's address */
    rill__put_be32(out + 88, a->key);
    rill__put_be32(out + 92, a->numwant);
    out[96] = (uint8_t)(a->port >> 8);
    out[97] = (uint8_t)a->port;
    return RILL_UDP_ANNOUNCE_LEN;
}

/* Room for `fixed` bytes plus n items of `size` within cap (and an int). */
static bool fits(size_t cap, size_t fixed, size_t n, size_t size)
{
    size_t limit = cap < INT_MAX ? cap : INT_MAX;
    return limit >= fixed && n <= (limit - fixed) / size;
}

int rill_udp_announce_response(uint8_t *out, size_t cap, uint32_t tid, uint32_t interval,
                               uint32_t leechers, uint32_t seeders, int family,
                               const uint8_t *peers, size_t n)
{
    if (family != RILL_TRACKER_IPV4 && family != RILL_TRACKER_IPV6)
        return RILL_EINVAL;
    size_t stride = family == RILL_TRACKER_IPV4 ? 6 : 18;
    if (!fits(cap, RILL_UDP_ANNOUNCE_REPLY_MIN, n, stride))
        return RILL_ELIMIT;
    rill__put_be32(out, RILL_UDP_ANNOUNCE);
    rill__put_be32(out + 4, tid);
    rill__put_be32(out + 8, interval);
    rill__put_be32(out + 12, leechers);
    rill__put_be32(out + 16, seeders);
    if (n)
        memcpy(out + 20, peers, n * stride);
    return (int)(RILL_UDP_ANNOUNCE_REPLY_MIN + n * stride);
}

int rill_udp_scrape_request(uint8_t *out, size_t cap, uint64_t connection_id, uint32_t tid,
                            const uint8_t (*hashes)[RILL_SHA1_LEN], size_t n)
{
    if (n == 0)
        return RILL_EINVAL;
    if (n > RILL_TRACKER_SCRAPE_MAX || !fits(cap, 16, n, RILL_SHA1_LEN))
        return RILL_ELIMIT;
    rill__put_be64(out, connection_id);
    rill__put_be32(out + 8, RILL_UDP_SCRAPE);
    rill__put_be32(out + 12, tid);
    memcpy(out + 16, hashes, n * RILL_SHA1_LEN);
    return (int)(16 + n * RILL_SHA1_LEN);
}

int rill_udp_scrape_response(uint8_t *out, size_t cap, uint32_t tid,
                             const struct rill_tracker_scrape_entry *e, size_t n)
{
    if (n > RILL_TRACKER_SCRAPE_MAX || !fits(cap, 8, n, RILL_UDP_SCRAPE_REPLY_ENTRY))
        return RILL_ELIMIT;
    rill__put_be32(out, RILL_UDP_SCRAPE);
    rill__put_be32(out + 4, tid);
    for (size_t i = 0; i < n; i++) {
        uint8_t *x = out + 8 + i * RILL_UDP_SCRAPE_REPLY_ENTRY;
        rill__put_be32(x, e[i].complete);
        rill__put_be32(x + 4, e[i].downloaded);
        rill__put_be32(x + 8, e[i].incomplete);
    }
    return (int)(8 + n * RILL_UDP_SCRAPE_REPLY_ENTRY);
}

int rill_udp_error(uint8_t *out, size_t cap, uint32_t tid, const char *msg)
{
    size_t len = strnlen(msg, RILL_UDP_ERROR_MAX);
    if (!fits(cap, 8, len, 1))
        return RILL_ELIMIT;
    rill__put_be32(out, RILL_UDP_ERROR);
    rill__put_be32(out + 4, tid);
    memcpy(out + 8, msg, len);
    return (int)(8 + len);
}

/* ------------------------------------------------------ server-side parser */

static int parse_announce(const uint8_t *p, size_t n, struct rill_tracker_query *q,
                          struct rill_error *err)
{
    if (n < RILL_UDP_ANNOUNCE_LEN)
        return rill__fail(err, RILL_ETRUNCATED, n, "announce of %zu bytes, needs %u", n,
                          RILL_UDP_ANNOUNCE_LEN);
    memcpy(q->info_hash, p + 16, 20);
    memcpy(q->peer_id, p + 36, 20);
    q->downloaded = rill__be64(p + 56);
    q->left = rill__be64(p + 64);
    q->uploaded = rill__be64(p + 72);
    uint32_t event = rill__be32(p + 80);
    if (event > RILL_TRACKER_EVENT_STOPPED)
        return rill__fail(err, RILL_ESYNTAX, 80, "unknown event %u", (unsigned)event);
    q->event = (enum rill_tracker_event)event;
    memcpy(q->ip4, p + 84, 4);
    q->has_ip4 = rill__be32(p + 84) != 0;
    q->has_key = true;
    q->key = rill__be32(p + 88);
    int32_t want = (int32_t)rill__be32(p + 92);
    q->numwant = want < 0 ? RILL_TRACKER_NUMWANT_DEFAULT : rill__tracker_numwant((uint64_t)want);
    q->port = (uint16_t)(p[96] << 8 | p[97]);
    if (q->port == 0)
        return rill__fail(err, RILL_ESYNTAX, 96, "port 0 is not allowed");
    q->compact = true;
    return 0;
}

static int parse_scrape(const uint8_t *p, size_t n, struct rill_udp_request *r,
                        struct rill_error *err)
{
    size_t body = n - 16;
    if (body % RILL_SHA1_LEN)
        return rill__fail(err, RILL_ETRAILING, n - body % RILL_SHA1_LEN,
                          "scrape ends inside an info-hash");
    if (body == 0)
        return rill__fail(err, RILL_ETRUNCATED, n, "scrape without an info-hash");
    if (body / RILL_SHA1_LEN > RILL_TRACKER_SCRAPE_MAX)
        return rill__fail(err, RILL_ELIMIT, 16 + RILL_TRACKER_SCRAPE_MAX * RILL_SHA1_LEN,
                          "more than %u info-hashes in one scrape", RILL_TRACKER_SCRAPE_MAX);
    r->hashes = p + 16;
    r->hash_count = body / RILL_SHA1_LEN;
    return 0;
}

int rill_udp_request_parse(const uint8_t *p, size_t n, struct rill_udp_request *r,
                           struct rill_error *err)
{
    memset(r, 0, sizeof *r);
    if (n < 16)
        return rill__fail(err, RILL_ETRUNCATED, n, "packet of %zu bytes, needs at least 16", n);
    /* Kept even when parsing fails, so the server can answer with an error. */
    r->action = rill__be32(p + 8);
    r->transaction_id = rill__be32(p + 12);
    switch (r->action) {
    case RILL_UDP_CONNECT:
        if (rill__be64(p) != RILL_UDP_PROTOCOL_ID)
            return rill__fail(err, RILL_ESYNTAX, 0, "connect without the BEP 15 protocol id");
        if (n != RILL_UDP_CONNECT_LEN)
            return rill__fail(err, RILL_ETRAILING, 16, "connect of %zu bytes, must be 16", n);
        return 0;
    case RILL_UDP_ANNOUNCE:
        r->connection_id = rill__be64(p);
        return parse_announce(p, n, &r->query, err);
    case RILL_UDP_SCRAPE: r->connection_id = rill__be64(p); return parse_scrape(p, n, r, err);
    default: return rill__fail(err, RILL_EUNSUPPORTED, 8, "unknown action %u", (unsigned)r->action);
    }
}

/* ------------------------------------------------------ client-side parser */

static int parse_peers(const uint8_t *p, size_t n, int family, struct rill_tracker_reply *reply,
                       struct rill_error *err)
{
    if (family != RILL_TRACKER_IPV4 && family != RILL_TRACKER_IPV6)
        return rill__fail(err, RILL_EINVAL, 0, "address family must be 4 or 6");
    size_t stride = family == RILL_TRACKER_IPV4 ? 6 : 18, body = n - 20;
    if (body % stride)
        return rill__fail(err, RILL_ETRAILING, n - body % stride,
                          "announce reply ends inside a peer entry");
    if (!reply)
        return 0;
    rill__tracker_reply_reset(reply);
    reply->interval = rill__tracker_clamp_interval(rill__be32(p + 8));
    reply->incomplete = rill__be32(p + 12);
    reply->complete = rill__be32(p + 16);
    for (size_t off = 20; off < n; off += stride)
        rill__tracker_reply_add(reply, family, p + off,
                                (uint16_t)(p[off + stride - 2] << 8 | p[off + stride - 1]));
    return 0;
}

static int response_body(const uint8_t *p, size_t n, int family, struct rill_udp_response *r,
                         struct rill_tracker_reply *reply, struct rill_error *err)
{
    switch (r->action) {
    case RILL_UDP_CONNECT:
        if (n != RILL_UDP_CONNECT_LEN)
            return rill__fail(err, n < 16 ? RILL_ETRUNCATED : RILL_ETRAILING, n < 16 ? n : 16,
                              "connect reply of %zu bytes, must be 16", n);
        r->connection_id = rill__be64(p + 8);
        return 0;
    case RILL_UDP_ANNOUNCE:
        if (n < RILL_UDP_ANNOUNCE_REPLY_MIN)
            return rill__fail(err, RILL_ETRUNCATED, n, "announce reply of %zu bytes", n);
        return parse_peers(p, n, family, reply, err);
    case RILL_UDP_SCRAPE:
        if ((n - 8) % RILL_UDP_SCRAPE_REPLY_ENTRY)
            return rill__fail(err, RILL_ETRAILING, n - (n - 8) % RILL_UDP_SCRAPE_REPLY_ENTRY,
                              "scrape reply ends inside an entry");
        r->scrape = p + 8;
        r->scrape_count = (n - 8) / RILL_UDP_SCRAPE_REPLY_ENTRY;
        return 0;
    default: /* RILL_UDP_ERROR */
        r->message = p + 8;
        r->message_len = n - 8 < RILL_UDP_ERROR_MAX ? n - 8 : RILL_UDP_ERROR_MAX;
        if (reply) {
            rill__tracker_reply_reset(reply);
            rill__tracker_text(reply->failure, sizeof reply->failure, r->message, r->message_len);
        }
        return 0;
    }
}

int rill_udp_response_parse(const uint8_t *p, size_t n, uint32_t tid, int family,
                            struct rill_udp_response *r, struct rill_tracker_reply *reply,
                            struct rill_error *err)
{
    memset(r, 0, sizeof *r);
    if (n < 8)
        return rill__fail(err, RILL_ETRUNCATED, n, "packet of %zu bytes, needs at least 8", n);
    r->action = rill__be32(p);
    r->transaction_id = rill__be32(p + 4);
    if (r->transaction_id != tid)
        return rill__fail(err, RILL_ESYNTAX, 4, "transaction id %08x, expected %08x",
                          (unsigned)r->transaction_id, (unsigned)tid);
    if (r->action > RILL_UDP_ERROR)
        return rill__fail(err, RILL_EUNSUPPORTED, 0, "unknown action %u", (unsigned)r->action);
    return response_body(p, n, family, r, reply, err);
}
