/* Fuzzes the BEP 15 packet parsers, both directions, and the client state
 * machine. The first byte selects: 0 server-side request parser, 1 and 2
 * client-side reply parser on an IPv4 / IPv6 socket, 3 the udp_client fed
 * a sequence of packets and timeouts. What parses must rebuild to the same
 * bytes where the packet holds nothing the parser normalises. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/udp_client.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc, const struct rill_error *err, size_t size)
{
    if (rc != err->code || err->offset > size || err->msg[0] == 0)
        abort();
}

static void same(const uint8_t *a, const uint8_t *b, size_t n, int built)
{
    if (built < 0 || (size_t)built != n || memcmp(a, b, n) != 0) {
        fprintf(stderr, "rebuilt packet differs\n");
        abort();
    }
}

static void server_side(const uint8_t *p, size_t n)
{
    struct rill_udp_request r;
    struct rill_error err;
    memset(&err, 0, sizeof err);
    int rc = rill_udp_request_parse(p, n, &r, &err);
    if (rc) {
        check_error(rc, &err, n);
        return;
    }
    static uint8_t out[16 + 20 * RILL_TRACKER_SCRAPE_MAX];
    switch (r.action) {
    case RILL_UDP_CONNECT:
        same(p, out, n, (int)rill_udp_connect_request(out, r.transaction_id));
        break;
    case RILL_UDP_SCRAPE:
        same(p, out, n,
             rill_udp_scrape_request(out, sizeof out, r.connection_id, r.transaction_id,
                                     (const uint8_t(*)[20])r.hashes, r.hash_count));
        break;
    case RILL_UDP_ANNOUNCE:
        if (r.query.port == 0 || r.query.numwant > RILL_TRACKER_NUMWANT_MAX || n < 98)
            abort();
        break;
    default: abort();
    }
}

static void client_side(const uint8_t *p, size_t n, int family)
{
    uint32_t tid = n >= 8 ? rill__be32(p + 4) : 0; /* so parsing goes deep */
    struct rill_tracker_peer peers[8];
    struct rill_tracker_reply reply = {.peers = peers, .peer_cap = 8};
    struct rill_udp_response r;
    struct rill_error err;
    memset(&err, 0, sizeof err);
    int rc = rill_udp_response_parse(p, n, tid, family, &r, &reply, &err);
    if (rc) {
        check_error(rc, &err, n);
        return;
    }
    static uint8_t out[70000];
    size_t stride = family == 4 ? 6 : 18;
    switch (r.action) {
    case RILL_UDP_CONNECT:
        same(p, out, n, (int)rill_udp_connect_response(out, tid, r.connection_id));
        break;
    case RILL_UDP_ANNOUNCE:
        if (reply.peer_count + reply.peers_dropped + reply.peers_invalid != (n - 20) / stride ||
            reply.peer_count > 8)
            abort();
        break;
    case RILL_UDP_SCRAPE:
        if (r.scrape_count <= RILL_TRACKER_SCRAPE_MAX) {
            struct rill_tracker_scrape_entry e[RILL_TRACKER_SCRAPE_MAX];
            for (size_t i = 0; i < r.scrape_count; i++) {
                e[i].complete = rill__be32(r.scrape + 12 * i);
                e[i].downloaded = rill__be32(r.scrape + 12 * i + 4);
                e[i].incomplete = rill__be32(r.scrape + 12 * i + 8);
            }
            same(p, out, n, rill_udp_scrape_response(out, sizeof out, tid, e, r.scrape_count));
        }
        break;
    default:
        if (!memchr(r.message, 0, r.message_len) && n - 8 <= RILL_UDP_ERROR_MAX) {
            char msg[RILL_UDP_ERROR_MAX + 1];
            memcpy(msg, r.message, r.message_len);
            msg[r.message_len] = 0;
            same(p, out, n, rill_udp_error(out, sizeof out, tid, msg));
        }
    }
}

/* Each step: one control byte (bit 0: a timeout instead of a packet, bits
 * 1-7: seconds to advance), then for a packet a length byte and the bytes,
 * whose transaction id is replaced by the awaited one when bit 7 of the
 * length byte is clear. */
static void client_machine(const uint8_t *p, size_t n, int family)
{
    struct rill_rng rng;
    rill_rng_seed(&rng, 1);
    struct rill_udp_client c;
    rill_udp_client_init(&c, &rng, family);
    struct rill_tracker_announce a = {.port = 6881, .numwant = 50};
    struct rill_tracker_peer peers[4];
    struct rill_tracker_reply reply = {.peers = peers, .peer_cap = 4};
    uint64_t now = 0;
    uint8_t out[RILL_UDP_CLIENT_MAX_PACKET], pkt[256];
    rill_udp_client_start(&c, &a, &reply, now);
    for (size_t i = 0; i < n;) {
        uint8_t ctl = p[i++];
        now += (uint64_t)(ctl >> 1) * 1000;
        size_t len = rill_udp_client_poll_transmit(&c, now, out);
        if (len != 0 && len != 16 && len != 98)
            abort();
        bool idle = rill_udp_client_next_timeout(&c, now) == UINT64_MAX;
        if (idle != (c.state == RILL_UDP_CLIENT_IDLE))
            abort();
        enum rill_udp_client_event ev;
        if (ctl & 1 || i >= n) {
            ev = rill_udp_client_handle_timeout(&c, now);
        } else {
            size_t plen = p[i] & 0x7f, raw = p[i++] & 0x80;
            plen = plen < n - i ? plen : n - i;
            memcpy(pkt, p + i, plen);
            i += plen;
            if (!raw && plen >= 8)
                rill__put_be32(pkt + 4, c.tid);
            ev = rill_udp_client_handle_packet(&c, pkt, plen, now);
        }
        if (ev > RILL_UDP_CLIENT_TIMEOUT || reply.peer_count > 4)
            abort();
        if (ev >= RILL_UDP_CLIENT_DONE) {
            if (c.state != RILL_UDP_CLIENT_IDLE)
                abort();
            rill_udp_client_start(&c, &a, &reply, now);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] & 7) {
    case 0: server_side(data + 1, size - 1); break;
    case 1: client_side(data + 1, size - 1, 4); break;
    case 2: client_side(data + 1, size - 1, 6); break;
    case 3: client_machine(data + 1, size - 1, 4); break;
    case 4: client_machine(data + 1, size - 1, 6); break;
    default: server_side(data + 1, size - 1); break;
    }
    return 0;
}
