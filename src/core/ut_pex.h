/* BEP 11 peer exchange (ut_pex): the message codec, the per-connection
 * sender state that turns "the peers we know now" into added/dropped
 * messages at most once a minute, and the accept-side limiter that stops a
 * hostile peer from flooding us with addresses.
 *
 * A pure core: no sockets, no clock (time is passed in), no allocation.
 * Internal to rill: the shell and the lab include it. */
#ifndef RILL_CORE_UT_PEX_H
#define RILL_CORE_UT_PEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

/* Flags, one byte per added peer (added.f, added6.f). */
#define RILL_PEX_F_ENCRYPT 0x01   /* prefers encryption */
#define RILL_PEX_F_SEED 0x02      /* seed / upload only */
#define RILL_PEX_F_UTP 0x04       /* supports uTP */
#define RILL_PEX_F_HOLEPUNCH 0x08 /* supports ut_holepunch */
#define RILL_PEX_F_REACHABLE 0x10 /* reachable: we connected out to it */

#define RILL_PEX_PARSE_MAX 200 /* added, and dropped, kept per family on parse */
#define RILL_PEX_SEND_MAX 50   /* BEP 11: added, and dropped, per message */
#define RILL_PEX_STATE_MAX 200 /* peers a sender remembers having advertised */
#define RILL_PEX_INTERVAL_MS 60000u
#define RILL_PEX_ACCEPT_PER_MSG 50u
#define RILL_PEX_ACCEPT_PER_MIN 50u

/* One peer: an IPv4 (addr_len 4) or IPv6 (16) address in network order. */
struct rill_pex_peer {
    uint8_t addr[16];
    uint8_t addr_len;
    uint8_t flags; /* RILL_PEX_F_*; meaningful for added peers only */
    uint16_t port;
};

/* A message: both families mixed in each list, in wire order (IPv4 first).
 * About 16 KiB: keep it off small stacks. */
struct rill_pex_msg {
    struct rill_pex_peer added[2 * RILL_PEX_PARSE_MAX];
    size_t n_added;
    struct rill_pex_peer dropped[2 * RILL_PEX_PARSE_MAX];
    size_t n_dropped;
    bool truncated; /* parse: a family had more than RILL_PEX_PARSE_MAX entries */
};

/* Parses a ut_pex payload (after the extension id). Keys (all optional):
 * added, added.f, added6, added6.f, dropped, dropped6. Compact peers are
 * 6 bytes (IPv4 + port) or 18 (IPv6 + port); a list whose length is not a
 * multiple of that, or a key of the wrong type, is RILL_ESYNTAX. Flags
 * shorter than their list leave the rest 0; longer, the extra is ignored.
 * Entries with port 0 are skipped. At most RILL_PEX_PARSE_MAX entries of
 * each list and family are kept, the rest dropped with `truncated` set.
 * Returns 0, or a negative rill_err with `err` (may be NULL) saying what
 * and where; `m` is then empty. */
int rill_pex_parse(const uint8_t *p, size_t n, struct rill_pex_msg *m, struct rill_error *err);

/* Appends the payload for `m` in canonical bencode; keys with nothing to
 * say are left out (an empty message is "de"). RILL_ELIMIT with more than
 * RILL_PEX_SEND_MAX added or dropped, RILL_EINVAL for an address length
 * other than 4 or 16 or port 0, RILL_ENOMEM when `out` is full. */
int rill_pex_build(struct rill_buf *out, const struct rill_pex_msg *m);

/* ---------------------------------------------------------------- sending */

/* Per connection: what we last advertised to this peer, sorted, and when. */
struct rill_pex_sender {
    struct rill_pex_peer adv[RILL_PEX_STATE_MAX];
    size_t n_adv;
    uint64_t last_ms;
    bool sent;
};

enum rill_pex_diff_result {
    RILL_PEX_SEND = 0,    /* `out` holds a message: build and send it */
    RILL_PEX_NOT_YET = 1, /* less than RILL_PEX_INTERVAL_MS since the last */
    RILL_PEX_NOTHING = 2, /* no change to tell */
};

void rill_pex_sender_init(struct rill_pex_sender *s);

/* Compares our current peers cur[0..n) (the caller leaves out the remote
 * peer itself, and orders them by preference: the first new ones are
 * advertised first) with what this connection was last told. Returns
 * RILL_PEX_NOT_YET when a message went less than a minute ago (the first
 * goes at once); RILL_PEX_NOTHING when nothing changed; else RILL_PEX_SEND
 * with `out` holding up to RILL_PEX_SEND_MAX added (not yet advertised,
 * while the advertised set stays within RILL_PEX_STATE_MAX) and dropped
 * (advertised, no longer current) peers, and the state updated as sent at
 * now_ms. Peers are compared by address and port; flag changes alone are
 * not news. The rest goes in later messages. O(n log RILL_PEX_STATE_MAX). */
int rill_pex_sender_diff(struct rill_pex_sender *s, const struct rill_pex_peer *cur, size_t n,
                         uint64_t now_ms, struct rill_pex_msg *out);

/* -------------------------------------------------------------- accepting */

/* Per connection: how many added peers were taken in the current minute. */
struct rill_pex_accept {
    uint32_t per_msg; /* most taken from one message */
    uint32_t per_min; /* most taken per 60 s window */
    uint64_t window_start;
    uint32_t taken;
    bool started;
};

/* Limits; 0 means RILL_PEX_ACCEPT_PER_MSG / RILL_PEX_ACCEPT_PER_MIN. */
void rill_pex_accept_init(struct rill_pex_accept *a, uint32_t per_msg, uint32_t per_min);

/* Copies into out[0..cap) the added peers of `m` we take: in message order,
 * at most per_msg of them and what is left of per_min in the window that
 * started at the first message (a new window opens 60 s later). Returns the
 * count. Duplicates in the message are taken once. */
size_t rill_pex_accept_take(struct rill_pex_accept *a, const struct rill_pex_msg *m,
                            uint64_t now_ms, struct rill_pex_peer *out, size_t cap);

/* Orders peers by family, address, then port (memcmp-like: <0, 0, >0). */
int rill_pex_peer_cmp(const struct rill_pex_peer *a, const struct rill_pex_peer *b);

#endif
