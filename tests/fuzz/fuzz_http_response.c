/* Fuzzes the client's parser of HTTP tracker replies. Whatever parses keeps
 * its invariants (caps, clamps, texts terminated) and survives a round trip
 * through the server's reply builder: the same peers, in the same order per
 * family, and the same numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tracker_msg.h"

#define CAP 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(const struct rill_tracker_reply *r)
{
    if (r->peer_count > CAP || r->interval < RILL_TRACKER_INTERVAL_MIN ||
        r->interval > RILL_TRACKER_INTERVAL_MAX || r->min_interval > r->interval ||
        r->complete < -1 || r->incomplete < -1 || r->tracker_id_len > sizeof r->tracker_id ||
        !memchr(r->failure, 0, sizeof r->failure) || !memchr(r->warning, 0, sizeof r->warning))
        abort();
    for (size_t i = 0; i < r->peer_count; i++)
        if (r->peers[i].port == 0 || (r->peers[i].family != 4 && r->peers[i].family != 6))
            abort();
}

/* Splits the peers by family into compact form. Returns the v4 count. */
static size_t compact(const struct rill_tracker_reply *r, uint8_t *p4, uint8_t *p6, size_t *n6)
{
    size_t n4 = 0;
    *n6 = 0;
    for (size_t i = 0; i < r->peer_count; i++) {
        const struct rill_tracker_peer *p = &r->peers[i];
        uint8_t *e = p->family == 4 ? p4 + 6 * n4++ : p6 + 18 * (*n6)++;
        size_t alen = p->family == 4 ? 4 : 16;
        memcpy(e, p->addr, alen);
        e[alen] = (uint8_t)(p->port >> 8);
        e[alen + 1] = (uint8_t)p->port;
    }
    return n4;
}

static void round_trip(const struct rill_tracker_reply *r, bool as_compact)
{
    uint8_t p4[6 * CAP], p6[18 * CAP];
    struct rill_tracker_answer a = {.interval = r->interval,
                                    .min_interval = r->min_interval,
                                    .complete = r->complete,
                                    .incomplete = r->incomplete,
                                    .peers4 = p4,
                                    .peers6 = p6,
                                    .compact = as_compact};
    a.n4 = compact(r, p4, p6, &a.n6);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    if (rill_tracker_answer_build(&b, &a) != 0)
        abort();
    struct rill_tracker_peer peers[CAP];
    struct rill_tracker_reply back = {.peers = peers, .peer_cap = CAP};
    struct rill_error err;
    int rc = rill_tracker_response_parse(b.data, b.len, &back, &err);
    uint8_t q4[6 * CAP], q6[18 * CAP];
    size_t m6, m4 = rc == 0 ? compact(&back, q4, q6, &m6) : 0;
    if (rc != 0 || back.interval != r->interval || back.min_interval != r->min_interval ||
        back.complete != r->complete || back.incomplete != r->incomplete ||
        back.peer_count != r->peer_count || back.peers_invalid || m4 != a.n4 ||
        memcmp(q4, p4, 6 * m4) != 0 || memcmp(q6, p6, 18 * m6) != 0) {
        fprintf(stderr, "round trip mismatch (rc %d: %s)\n", rc, err.msg);
        abort();
    }
    rill_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rill_tracker_peer peers[CAP];
    struct rill_tracker_reply r = {.peers = peers, .peer_cap = CAP};
    struct rill_error err;
    memset(&err, 0, sizeof err);
    int rc = rill_tracker_response_parse(data, size, &r, &err);
    if (rc < 0) {
        if (rc != err.code || err.offset > size || r.peer_count || r.peers != peers ||
            r.peer_cap != CAP)
            abort();
        return 0;
    }
    if (rc != 0 && rc != RILL_TRACKER_FAILED)
        abort();
    check_invariants(&r);
    if (rc == 0) {
        round_trip(&r, true);
        round_trip(&r, false);
    }
    return 0;
}
