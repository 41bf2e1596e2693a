/* One connection's protocol state (DESIGN.md "peer"): the four choke and
 * interest flags, the blocks we asked this peer for, the blocks it asked us
 * for, and the arithmetic of how many requests to keep in flight. Pure: the
 * shell feeds it parsed wire messages and the time, and carries out what it
 * says. Torrent-wide decisions (which blocks, who is unchoked) belong to the
 * picker and the choker, not here. */
#ifndef RILL_CORE_PEER_H
#define RILL_CORE_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "rill.h"

/* One block request, either direction. */
struct rill_peer_req {
    uint32_t piece, begin, length;
    uint64_t at_ms; /* when it was sent (ours) or received (theirs) */
};

/* A bounded FIFO of requests; order matters because peers answer in order,
 * so the common lookup hits the head. */
struct rill_peer_reqs {
    struct rill_peer_req *v;
    uint32_t head, count, cap;
};

struct rill_peer_core {
    bool am_choking, am_interested;     /* what we told the peer */
    bool peer_choking, peer_interested; /* what the peer told us */
    struct rill_peer_reqs ours;         /* our requests awaiting blocks */
    struct rill_peer_reqs theirs;       /* their requests awaiting our reads */
    uint32_t their_reqq;                /* how many requests they accept */
    uint64_t last_block_ms;             /* last requested block received */
    uint64_t unrequested_blocks;        /* blocks received that we never asked for */
    /* The shortest time from a request to its block, in the current and the
     * previous 10 s window (UINT32_MAX: no block yet; a zeroed struct reads
     * as 0): the peer's own delay, without the queue our requests make. */
    uint32_t lat_min_ms[2];
    uint64_t lat_window_ms;
};

/* Most requests we keep in flight to one peer, whatever its speed: 2 MiB,
 * enough for 200 MB/s from one peer 10 ms away (or 20 MB/s at 100 ms; a
 * swarm spreads its requests over many peers). More only costs memory: on
 * loopback 128 moved a GiB as fast as 500 and the leecher's peak RSS fell
 * from 22-26 to 17-19 MB (bench/peer, 2026-11-21). */
#define RILL_PEER_MAX_DEPTH 128u
/* Requests we accept from a peer before refusing more (our BEP 10 reqq). */
#define RILL_PEER_MAX_THEIR_QUEUE 500u
/* A peer that says nothing accepts this many (BEP 10's reqq default is
 * client-specific; 250 is what libtorrent assumes). */
#define RILL_PEER_DEFAULT_REQQ 250u

/* Allocates both queues (the only allocation). Starts choked and not
 * interested both ways, as BEP 3 says. */
int rill_peer_init(struct rill_peer_core *p);
void rill_peer_free(struct rill_peer_core *p);

/* Our side. */
/* Records that we sent a request. RILL_ELIMIT when the peer's reqq or our own
 * cap is reached (the caller asks rill_peer_room first). */
int rill_peer_sent_request(struct rill_peer_core *p, uint32_t piece, uint32_t begin,
                           uint32_t length, uint64_t now_ms);
/* Requests we may still send now to reach `depth` in flight. */
uint32_t rill_peer_room(const struct rill_peer_core *p, uint32_t depth);
/* A piece message arrived: true (and the request removed, its send time in
 * *sent_ms) if we had asked for exactly this block; false means unrequested
 * (counted; the caller drops the data). */
bool rill_peer_got_block(struct rill_peer_core *p, uint32_t piece, uint32_t begin,
                         uint32_t length, uint64_t now_ms, uint64_t *sent_ms);
/* Forgets one of our requests (we cancelled it, or the peer rejected it).
 * True if it was outstanding. */
bool rill_peer_forget_request(struct rill_peer_core *p, uint32_t piece, uint32_t begin,
                              uint32_t length);
/* Removes every outstanding request older than `timeout_ms` (or all, with
 * timeout 0), appending them to `out` (room for `cap`); returns how many.
 * Called on choke without the fast extension, on disconnect, and on a timer. */
uint32_t rill_peer_take_requests(struct rill_peer_core *p, uint64_t now_ms, uint64_t timeout_ms,
                                 struct rill_peer_req *out, uint32_t cap);

/* How many requests to keep in flight to a peer delivering `rate` bytes/s:
 * about half a second of its rate plus its rate times its own delay (the
 * shortest request-to-block time lately: a peer that answers in bursts,
 * as Transmission does, holds requests for up to a second, and without it
 * the pipeline would cap the rate at 8 blocks a delay), so a link never
 * idles while a block is on its way, but at least 8 and at most the peer's
 * reqq and RILL_PEER_MAX_DEPTH. Not more: blocks queued at a slow peer are blocks
 * no faster peer may send, and in a rate-limited swarm a two-second queue
 * at the seed made leechers fetch the same pieces from it instead of from
 * each other (the lab's swarm measured it). */
uint32_t rill_peer_depth(const struct rill_peer_core *p, uint64_t rate);

/* Their side. */
enum rill_peer_verdict {
    RILL_PEER_ACCEPT = 0,
    RILL_PEER_REJECT,     /* answer with a reject (fast) or ignore: not an offence */
    RILL_PEER_VIOLATION,  /* protocol violation: disconnect */
};
/* A request arrived. Checks it against our state: while we choke the peer
 * the request is rejected (BEP 6) unless `allowed_fast`; a full queue is a
 * violation (the peer ignored our reqq); a duplicate is rejected. Accepted
 * requests are queued. `*why` gets a static reason for anything else. */
enum rill_peer_verdict rill_peer_got_request(struct rill_peer_core *p, uint32_t piece,
                                             uint32_t begin, uint32_t length,
                                             bool allowed_fast, uint64_t now_ms,
                                             const char **why);
/* The peer cancelled: true if the request was still queued (then dropped). */
bool rill_peer_got_cancel(struct rill_peer_core *p, uint32_t piece, uint32_t begin,
                          uint32_t length);
/* Takes the oldest queued request of theirs to serve; false if none. */
bool rill_peer_next_to_serve(struct rill_peer_core *p, struct rill_peer_req *out);
/* We choked the peer: drops their queue (without fast, BEP 3 says requests
 * die with the choke; with fast the caller sends a reject for each, so they
 * are appended to `out` up to `cap`). Returns how many were dropped. */
uint32_t rill_peer_choked_them(struct rill_peer_core *p, struct rill_peer_req *out, uint32_t cap);

#endif
