/* The choker: which peers we upload to. Tit-for-tat with optimistic unchoke
 * and snubbing while downloading, rotation by upload rate while seeding, and
 * the lab's ablations (round-robin, none). A pure core: the shell (and the
 * lab's simulator) passes a table of facts per peer and the time, and gets
 * back the set to unchoke and the time of the next decision. Internal to
 * rill.
 *
 * Cadence. A regular decision is due every `interval_ms` (10 s) and the
 * optimistic slot rotates every `optimistic_interval_ms` (30 s), both counted
 * from the first call. Calling rill_choker_decide before a deadline is a
 * recomputation (a peer became interested, lost interest or left): peers that
 * are unchoked and still eligible keep their slots, and only vacant slots are
 * filled, so the ranking changes only at the 10 s marks and the deadlines do
 * not move.
 *
 * Policy choices (the textbook's, made explicit):
 * - Only peers interested in us are unchoked; an uninterested peer holds no
 *   slot (it would gain nothing from it) and is choked. A peer that is a seed
 *   is never unchoked. Shells should recompute when interest changes.
 * - Downloading, tit-for-tat: the `slots` regular slots go to the eligible
 *   peers with the highest download rate from them; among equal rates, peers
 *   that have us unchoked come first (they reciprocate, or are about to),
 *   then the currently unchoked, then the rng. Slots are filled even when
 *   fewer peers send us data, so a new peer gets a chance; but a free-rider,
 *   which never unchokes anyone, only gets a slot nobody else wants. (Without
 *   that tie-break the lab measured free-riders finishing as fast as
 *   contributors: most slots are filled among zero-rate peers.) A snubbed peer (we are
 *   interested in it and it sent no block for `snub_ms`) cannot hold a
 *   regular slot, only an optimistic one.
 * - Optimistic slots go to interested peers not holding a regular slot, by a
 *   weighted draw: a peer connected less than `newcomer_ms` ago (60 s) weighs
 *   `newcomer_weight` (3), others 1. At each rotation the holders are
 *   replaced, by another peer when there is one. A holder that wins a
 *   regular slot at a 10 s mark is promoted and its optimistic slot is
 *   refilled at once. Applies while seeding too, and in round-robin mode.
 * - Seeding (and round-robin mode, in both states): slots rotate. A peer whose
 *   current unchoke has lasted `rotate_ms` (30 s), or has taken
 *   `rotate_bytes` (if set), is "done" and moves behind every waiting peer.
 *   Order at a 10 s mark: unchoked peers not done, then waiting peers
 *   (longest wait first), then done peers. In tit-for-tat mode the first
 *   and last groups are ordered by our upload rate to them (keep feeding the
 *   fast ones); round-robin ignores rates. So with n interested peers and s
 *   slots, every peer is unchoked within about ceil(n / s) rotations.
 * - None: every interested peer that is not a seed is unchoked.
 *
 * State: the choker keeps only its deadlines; what it needs per peer lives in
 * `struct rill_choker_state`, which the shell stores with the peer, zeroes at
 * connect and passes back unchanged with every call. */
#ifndef RILL_CORE_CHOKER_H
#define RILL_CORE_CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

enum rill_choker_mode {
    RILL_CHOKER_TIT_FOR_TAT = 0,
    RILL_CHOKER_ROUND_ROBIN = 1,
    RILL_CHOKER_NONE = 2,
};

struct rill_choker_opts {
    enum rill_choker_mode mode;
    uint32_t slots;                  /* regular unchoke slots (4); 0 is allowed */
    uint32_t optimistic_slots;       /* 1; 0 disables optimistic unchoking */
    uint32_t interval_ms;            /* regular decisions (10 s) */
    uint32_t optimistic_interval_ms; /* optimistic rotation (30 s) */
    uint32_t snub_ms;                /* no block for this long while we want data (60 s) */
    uint32_t newcomer_ms;            /* "newly connected" means younger than this (60 s) */
    uint32_t newcomer_weight;        /* odds of a newcomer against 1 for others (3) */
    uint32_t rotate_ms;              /* seeding / round-robin: an unchoke's time quota (30 s) */
    uint64_t rotate_bytes;           /* ...and byte quota; 0 = time only (default) */
};

/* Per-peer memory of the choker, kept by the shell: zero it when the peer
 * connects and pass it back unchanged. The shell may read it. */
struct rill_choker_state {
    uint64_t unchoked_at_ms;      /* when the current (or last) unchoke began */
    uint64_t uploaded_at_unchoke; /* `uploaded` at that moment */
    uint64_t choked_at_ms;        /* when the choker last choked it; 0 never */
    bool optimistic;              /* holds an optimistic slot */
};

/* The facts about one peer at decision time. */
struct rill_choker_peer {
    uint64_t id;                 /* the caller's handle; not interpreted */
    uint64_t down_rate;          /* bytes/s received from it over the last 20 s */
    uint64_t up_rate;            /* bytes/s sent to it over the last 20 s */
    uint64_t uploaded;           /* payload bytes sent to it since connect */
    uint64_t connected_at_ms;    /* when the connection was established */
    uint64_t interested_at_ms;   /* when we last became interested in it */
    uint64_t last_block_ms;      /* its last block to us; 0 none yet */
    bool peer_interested;        /* it is interested in us */
    bool am_interested;          /* we are interested in it */
    bool is_seed;                /* it has every piece */
    bool unchoked;               /* we have it unchoked now (as the shell sees it) */
    bool unchokes_us;            /* it has us unchoked now */
    bool unchoke;                /* OUT: the decision */
    struct rill_choker_state st; /* IN/OUT: see struct rill_choker_state */
};

struct rill_choker_entry; /* private sort scratch */

struct rill_choker {
    struct rill_choker_opts opts;
    struct rill_rng *rng; /* borrowed */
    uint64_t next_regular_ms;
    uint64_t next_optimistic_ms;
    bool started;
    bool seeding; /* the state of the last decision */
    struct rill_choker_entry *scratch;
    size_t scratch_cap;
};

/* The defaults above: tit-for-tat, 4 + 1 slots, 10 s / 30 s, snub 60 s,
 * newcomers younger than 60 s at 3x, rotation every 30 s. */
void rill_choker_opts_default(struct rill_choker_opts *o);

/* Sets up a choker with options `o` (NULL: defaults) drawing randomness from
 * `rng`, which it borrows: it must outlive the choker. Returns RILL_EINVAL
 * for a zero interval or a zero newcomer weight. Allocates nothing; free
 * with rill_choker_free. */
int rill_choker_init(struct rill_choker *c, const struct rill_choker_opts *o, struct rill_rng *rng);

/* Frees the scratch space; safe on a zeroed or freed choker. */
void rill_choker_free(struct rill_choker *c);

/* Preallocates scratch for `n` peers, so that rill_choker_decide does not
 * allocate later. Returns 0 or RILL_ENOMEM. */
int rill_choker_reserve(struct rill_choker *c, size_t n);

/* Decides for `n` peers at `now_ms`; `seeding` tells whether we have
 * everything we want. A regular decision happens when one is due (or at the
 * first call, or when `seeding` changed, which also restarts the cadence);
 * otherwise this is a recomputation that only fills vacancies (see above).
 * Sets peers[i].unchoke and updates peers[i].st; the shell sends choke and
 * unchoke for the differences with peers[i].unchoked. `*next_ms` gets the
 * time of the next due decision. O(n log n). May grow the scratch (returns
 * RILL_ENOMEM, deciding nothing, if that fails); RILL_EINVAL for n >= 2^32. */
int rill_choker_decide(struct rill_choker *c, struct rill_choker_peer *peers, size_t n,
                       uint64_t now_ms, bool seeding, uint64_t *next_ms);

/* Whether the choker counts `p` as snubbed at `now_ms`: we are interested in
 * it and the last of its last block, our interest starting and its
 * connection is `snub_ms` or more ago. For the shell's display and logs. */
bool rill_choker_snubbed(const struct rill_choker_opts *o, const struct rill_choker_peer *p,
                         uint64_t now_ms);

#endif
