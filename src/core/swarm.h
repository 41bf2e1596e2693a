/* The tracker server's state as a pure core: torrents, the peers that
 * announced them, expiry, random peer subsets and counts. Time comes in as
 * milliseconds, randomness from the caller's generator; no sockets, no
 * clock. Both front ends of `rill tracker` (HTTP and UDP) and the lab's
 * simulator drive the same module.
 *
 * Memory is the design constraint (a tracker holds millions of peers): a
 * peer is its compact address and port plus one byte of flags and one of
 * age, 8 bytes for IPv4 and 20 for IPv6, kept in per-torrent open-addressing
 * tables. No peer id is stored, so dictionary replies carry none (BEP 23's
 * no_peer_id form, which every client accepts).
 *
 * Internal to rill (src/core), not part of include/rill.h. */
#ifndef RILL_CORE_SWARM_H
#define RILL_CORE_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tracker_msg.h"
#include "util/rng.h"

#define RILL_SWARM_PEER4_LEN 6u  /* compact entry handed out: address, port */
#define RILL_SWARM_PEER6_LEN 18u

/* Zero fields take the defaults in brackets. */
struct rill_swarm_limits {
    uint32_t max_torrents;          /* [100000] torrents tracked at once */
    uint32_t max_peers_per_torrent; /* [100000] per family */
    uint32_t interval_s;            /* [1800] told to clients, clamped to
                                       RILL_TRACKER_INTERVAL_MIN..MAX */
    uint32_t min_interval_s;        /* [interval / 2] told to clients */
    uint32_t grace_s;               /* [interval / 2] a peer silent for
                                       interval + grace is dropped */
};

/* One announce, already parsed and checked by a front end. The peer is
 * known by its address and port (the front end decides which address:
 * the packet's source, or a trusted ip= parameter). */
struct rill_swarm_announce {
    uint8_t info_hash[RILL_SHA1_LEN];
    int family;                     /* RILL_TRACKER_IPV4 or RILL_TRACKER_IPV6 */
    uint8_t addr[16];               /* IPv4 in the first 4 bytes */
    uint16_t port;                  /* never 0 (the parsers refuse it) */
    enum rill_tracker_event event;
    bool seed;                      /* left == 0 */
    uint32_t numwant;               /* per family; capped at RILL_TRACKER_NUMWANT_MAX */
};

/* What an announce returns. The caller points peers4/peers6 at buffers of
 * cap4 * 6 and cap6 * 18 bytes (a cap of 0 skips that family, as a UDP
 * front end does for the other family); the call fills everything else. */
struct rill_swarm_result {
    uint8_t *peers4;
    size_t cap4, n4;
    uint8_t *peers6;
    size_t cap6, n6;
    uint32_t complete, incomplete;  /* seeders and leechers, both families,
                                       after this announce */
    uint32_t downloaded;            /* completed events seen for the torrent */
    uint32_t interval, min_interval;
    bool registered;                /* false: the torrent was full (answered,
                                       not stored) or the event was stopped */
};

struct rill_swarm_stats {
    uint64_t torrents, seeders, leechers;
    uint64_t announces, scrapes;    /* since creation */
    uint64_t expired;               /* peers dropped for silence */
    uint64_t refused_torrents;      /* announces refused: max_torrents reached */
    uint64_t unregistered_peers;    /* announces answered but not stored: torrent full */
    uint64_t memory_bytes;          /* tables and torrent records, allocated */
};

struct rill_swarm;

/* Makes an empty swarm. `rng` is kept (not owned) for peer selection. */
int rill_swarm_new(struct rill_swarm **out, const struct rill_swarm_limits *limits,
                   struct rill_rng *rng);
void rill_swarm_free(struct rill_swarm *s);

/* Registers, refreshes or (event stopped) removes the announcing peer, and
 * fills `r` with up to numwant other peers per family, chosen at random
 * from the whole torrent, never the announcer itself; a seed gets only
 * leechers. A `completed` event from a known leecher counts one download.
 * Returns 0, RILL_ELIMIT when the torrent is new and max_torrents are
 * tracked (nothing is stored; answer with a failure), RILL_ENOMEM, or
 * RILL_EINVAL for a bad family or port 0. Allocates only when a table
 * grows. */
int rill_swarm_announce(struct rill_swarm *s, const struct rill_swarm_announce *a,
                        uint64_t now_ms, struct rill_swarm_result *r);

/* Fills e->complete/incomplete/downloaded for `info_hash` (zeros when the
 * torrent is unknown: scrape answers those too). Counts a scrape. */
void rill_swarm_scrape(struct rill_swarm *s, const uint8_t info_hash[RILL_SHA1_LEN],
                       struct rill_tracker_scrape_entry *e);

/* Drops peers silent for longer than interval + grace, and torrents left
 * with no peer. Call it about once a minute (more often is fine). A peer's
 * age is a minute count mod 256, so sweeps must come less than
 * 256 - ceil((interval + grace) / 60) minutes apart (76 minutes at the
 * largest settings). Returns the number of peers dropped. */
size_t rill_swarm_expire(struct rill_swarm *s, uint64_t now_ms);

void rill_swarm_stats(const struct rill_swarm *s, struct rill_swarm_stats *st);

/* The effective limits (defaults applied, interval clamped). */
const struct rill_swarm_limits *rill_swarm_limits(const struct rill_swarm *s);

#endif
