/* The piece picker: which blocks to request from which peer. A pure core:
 * the shell (and the lab's simulator) tells it what peers have, what we
 * have, what was requested, received, released, verified or failed, and asks
 * it for blocks to request. It never sees a socket or a clock; ties are
 * broken with the `struct rill_rng` it is given, so a seed replays exactly.
 * Internal to rill.
 *
 * Geometry: blocks are RILL_PICKER_BLOCK (16 KiB) bytes; the last block of a
 * piece is shorter when the piece size is not a multiple of 16 KiB (always
 * possible for the last piece). A block is named on the wire and here by
 * (piece, offset), offset a multiple of 16 KiB.
 *
 * Policy, in order of preference for pick() (priority dominates: every step
 * runs for the high-priority pieces before the normal ones):
 *  1. Partial pieces: free blocks of pieces already in progress that the peer
 *     has, first the piece this same peer was last given (peer->last), so
 *     pieces are finished before new ones are started and a piece tends to
 *     come from few peers. Sequential mode takes the lowest index first.
 *  2. Random first: while we have fewer than `random_first` verified pieces,
 *     a piece chosen at random among the ones the peer has (not in
 *     sequential mode, which exists to get the beginning first).
 *  3. New pieces: rarest first (lowest availability; ties broken with the
 *     rng: the first piece the peer has from a random start in the level),
 *     or the lowest index (sequential), or at random among the peer's
 *     pieces (random mode, the lab's ablation; the same random start, so
 *     uniform for a peer that has them all).
 *  4. Endgame: once every missing block of the wanted pieces is requested or
 *     received, blocks already requested from other peers, those with the
 *     fewest requesters first, at most `endgame_max_requesters` per block and
 *     never to a peer that already has the block requested.
 * Outside endgame a block has at most one requester.
 *
 * Availability: peers with a bitfield or `have` messages count per piece;
 * have-all peers (BEP 6, or any peer the shell knows to be a seed) are a
 * single counter, so they cost O(1) to add and remove. Pieces we have are
 * still counted (the swarm statistics include them) but never picked.
 * The caller registers every peer it picks for (a peer's `have` bits must be
 * counted here): new pieces that no peer announced are not even looked at
 * for a peer without have-all.
 *
 * Who requested what: the picker records every requester of a block (one
 * outside endgame, up to RILL_PICKER_MAX_REQUESTERS in endgame, by the id
 * the caller gives each peer). It does NOT keep per-peer lists: the shell
 * already keeps each peer's outstanding requests (it needs them to match
 * `piece` messages and send `cancel`), so when a request is cancelled,
 * rejected or timed out it calls rill_picker_release() for that block, and
 * when a peer goes away it calls release for each of the peer's outstanding
 * blocks, then rill_picker_peer_lost(). Release is a safe no-op for a block
 * the peer no longer has requested, so stale lists do no harm.
 *
 * Costs (n pieces, L availability levels, b blocks per piece):
 *  - init: O(n + L + slots * b) time and memory; the only allocation.
 *    Memory is about 14 bytes per piece, 5 bytes per block of each partial
 *    slot (max_partial * b), 12 bytes per endgame slot, 12 bytes per level.
 *    A simulator running one picker per simulated peer should size
 *    max_partial and endgame_slots to that peer's connections (say 32 and
 *    256) rather than keep the defaults, which suit a real client.
 *  - peer_have, peer_have_all, peer_lost_all: O(1).
 *  - peer_bitfield, peer_lost: O(n / 64 + pieces the peer has).
 *  - pick: O(blocks returned + open partial pieces scanned until the request
 *    is filled + pieces scanned in the rarest availability levels until one
 *    the peer has is found). For a seed, or any peer that has the rarest
 *    pieces, that is O(1) per piece started; only a peer holding few of the
 *    wanted pieces makes it scan. Starting a piece costs O(availability
 *    levels between its own and the highest in use). Endgame picks scan the
 *    blocks of the pieces in progress: O(partial pieces * b).
 *  - received, release: O(1); in endgame O(duplicate requests in the piece).
 *    A block that starts a piece (unrequested data) or a release that sends
 *    a piece back to the fresh ones costs like starting a piece, plus O(b).
 *  - verified, failed, set_priority: O(levels in use) per piece, failed also
 *    O(b). set_file_priorities: O(files + n * levels in use).
 *  - interesting: O(n / 64). Stats: O(1) except min availability and
 *    distributed copies, O(L).
 *
 * Limits: piece_length up to RILL_MAX_PIECE. Availability above
 * `avail_levels - 1` is counted exactly but ordered as equal (irrelevant to
 * rarest first) and reported as that level in the minimum availability.
 * When all `max_partial` slots hold pieces in progress, no new piece is
 * started until one completes or is released; when the `endgame_slots` are
 * all in use, endgame gives fewer duplicates. Neither is an error. */
#ifndef RILL_CORE_PICKER_H
#define RILL_CORE_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"
#include "util/rng.h"

#define RILL_PICKER_BLOCK (16u << 10)
/* No piece, no peer. A peer id must never be this value. */
#define RILL_PICKER_NONE UINT32_MAX
/* The most requesters a block can have (endgame); size cancel arrays so. */
#define RILL_PICKER_MAX_REQUESTERS 16

enum rill_picker_mode {
    RILL_PICKER_RAREST = 0,     /* rarest first (the default) */
    RILL_PICKER_RANDOM = 1,     /* uniformly random among the peer's pieces */
    RILL_PICKER_SEQUENTIAL = 2, /* lowest index first (streaming) */
};

/* Per-piece priority, derived from per-file priorities. */
enum rill_picker_prio {
    RILL_PICKER_SKIP = 0,   /* never picked (selective download) */
    RILL_PICKER_NORMAL = 1, /* the default */
    RILL_PICKER_HIGH = 2,   /* picked before every normal piece */
};

struct rill_picker_opts {
    enum rill_picker_mode mode;
    uint32_t random_first;           /* 4; 0 disables random first */
    bool endgame;                    /* true; false for the lab's --no-endgame */
    uint32_t endgame_max_requesters; /* 4: requesters per block in endgame, <= 16 */
    uint32_t endgame_slots;          /* duplicate requests held at once (0: 4096, or
                                        fewer when the partial slots hold fewer blocks) */
    uint32_t max_partial;            /* pieces in progress at once (0: 1024, at most
                                        4 GiB of them, at least 64, at most every piece) */
    uint32_t avail_levels;           /* availability levels ordered exactly (0: 256; >= 2) */
};

/* Fills `o` with the defaults documented above. */
void rill_picker_opts_default(struct rill_picker_opts *o);

/* What pick needs to know about a peer. The shell keeps one per connection:
 * it sets `id` (its handle for the peer, unique among connected peers, not
 * RILL_PICKER_NONE), `have` and `all`, sets `last` to RILL_PICKER_NONE at
 * connect (rill_picker_peer_init does all this) and passes it back unchanged.
 * The picker writes `last`. `have` must outlive each call only. */
struct rill_picker_peer {
    uint32_t id;
    const struct rill_bitfield *have; /* the peer's pieces, piece_count bits */
    bool all;                         /* has every piece; `have` is then ignored */
    uint32_t last;                    /* picker: the piece it last gave this peer */
};

void rill_picker_peer_init(struct rill_picker_peer *pp, uint32_t id,
                           const struct rill_bitfield *have, bool all);

/* One block to request: (piece, offset, length) as in a `request` message. */
struct rill_picker_block {
    uint32_t piece;
    uint32_t offset;
    uint32_t length;
};

/* What rill_picker_received() made of a block. */
enum rill_picker_got {
    RILL_PICKER_GOT_BLOCK = 0, /* new data; the piece is not whole yet */
    RILL_PICKER_GOT_PIECE = 1, /* new data and the piece is now whole: hash it */
    RILL_PICKER_GOT_DUP = 2,   /* already received, a piece we have or skip, or
                                  unrequested with every slot in use: drop it */
};

/* Swarm and progress figures for the status line and the lab. */
struct rill_picker_stats {
    uint32_t pieces;            /* piece count */
    uint32_t have;              /* verified pieces */
    uint32_t wanted_left;       /* wanted (not skipped) pieces not yet verified */
    uint32_t partial;           /* pieces in progress */
    uint64_t bytes_left;        /* bytes of every piece not yet verified */
    uint64_t wanted_bytes_left; /* bytes of the wanted pieces not yet verified */
    uint32_t seeds;             /* have-all peers */
    uint32_t distinct;          /* pieces at least one peer has */
    uint32_t min_avail;         /* lowest availability over all pieces */
    double copies;              /* distributed copies: min_avail plus the share
                                   of pieces above it (libtorrent, Transmission) */
    bool endgame;
};

/* Private to the picker; declared for the struct below. */
struct rill_picker_slot;
struct rill_picker_extra;

/* The caller allocates this; the fields are private: use the functions. */
struct rill_picker {
    struct rill_rng *rng;
    struct rill_picker_opts opt;
    uint64_t total_size;
    uint32_t npieces, piece_length, bpp, last_size;
    /* per piece */
    uint32_t *avail; /* peers with the piece, have-all peers not counted */
    uint32_t *loc;   /* position in `order` (fresh) or slot (in progress) */
    uint8_t *prio;   /* enum rill_picker_prio */
    uint8_t *state;  /* fresh, in progress, have */
    uint8_t *want;   /* BitTorrent-order bits: wanted and not verified */
    /* fresh wanted pieces, sorted by (class, level); level j of the sort
     * keys is order[bstart[j] .. bstart[j + 1]), keys above `top` empty */
    uint32_t *order, norder;
    uint32_t *bstart;
    int32_t top;
    uint32_t *hist; /* pieces per availability level, all pieces */
    uint32_t seeds;
    /* pieces in progress */
    struct rill_picker_slot *slots;
    uint32_t nslots, nfree_slots;
    uint32_t *free_slots;
    uint32_t *active, nactive;
    uint32_t *open[2], nopen[2]; /* slots with free blocks, per class */
    uint32_t *owner;             /* per slot block: requester, or sender once received */
    uint8_t *bstate;             /* per slot block: received bit, requester count */
    struct rill_picker_extra *extras;
    uint32_t extra_free;
    /* counters */
    uint32_t have_count, wanted_missing;
    uint64_t have_bytes, wanted_missing_bytes;
    uint64_t unrequested; /* free blocks of wanted missing pieces */
    uint32_t cursor[2];   /* sequential: no fresh piece of the class below */
};

/* Sets up a picker for `piece_count` pieces of `piece_length` bytes holding
 * `total_size` bytes (so piece_count == ceil(total_size / piece_length)),
 * every piece missing, normal priority, availability zero. `rng` must outlive
 * the picker. `opts` may be NULL for the defaults. RILL_EINVAL for an
 * inconsistent geometry or option, RILL_ENOMEM (leaving `p` zeroed). */
int rill_picker_init(struct rill_picker *p, uint32_t piece_count, uint32_t piece_length,
                     uint64_t total_size, struct rill_rng *rng,
                     const struct rill_picker_opts *opts);
/* Frees everything; safe on a zeroed or already freed picker. */
void rill_picker_free(struct rill_picker *p);
/* Switches the mode for the following picks (e.g. sequential on demand). */
void rill_picker_set_mode(struct rill_picker *p, enum rill_picker_mode mode);

/* Geometry: the size of a piece, its block count, the length of the block
 * at `offset` (0 when piece or offset is outside the torrent or offset is
 * not a multiple of RILL_PICKER_BLOCK). */
uint32_t rill_picker_piece_size(const struct rill_picker *p, uint32_t piece);
uint32_t rill_picker_block_count(const struct rill_picker *p, uint32_t piece);
uint32_t rill_picker_block_length(const struct rill_picker *p, uint32_t piece, uint32_t offset);

/* --------------------------------------------------------- what we have */

/* The piece passed its hash check (or resume trusts it): never picked again.
 * Requests still outstanding on it are forgotten (their blocks will arrive
 * as duplicates). Idempotent. RILL_ERANGE for a bad index. */
int rill_picker_verified(struct rill_picker *p, uint32_t piece);
/* The piece failed its hash check: every block goes back to not requested,
 * not received, to be picked again. Writes the distinct peers that sent its
 * blocks (for strikes) to `senders`, at most `cap`, and returns how many it
 * wrote. 0 for a piece not in progress; RILL_EINVAL for a verified piece,
 * RILL_ERANGE for a bad index. */
int rill_picker_failed(struct rill_picker *p, uint32_t piece, uint32_t *senders, size_t cap);
/* Marks every piece set in `have` (piece_count bits, e.g. from a resume
 * file) as verified. RILL_EINVAL if the size differs. */
int rill_picker_load_have(struct rill_picker *p, const struct rill_bitfield *have);
bool rill_picker_has(const struct rill_picker *p, uint32_t piece);
/* Every piece verified: we are a seed. */
bool rill_picker_complete(const struct rill_picker *p);
/* Every wanted piece verified: a selective download is done. */
bool rill_picker_wanted_complete(const struct rill_picker *p);

/* ---------------------------------------------------------- availability */

/* A peer announced `piece` (a `have` message). RILL_ERANGE if outside. */
int rill_picker_peer_have(struct rill_picker *p, uint32_t piece);
/* A peer's bitfield: adds one for every piece set. RILL_EINVAL if its size
 * is not piece_count. */
int rill_picker_peer_bitfield(struct rill_picker *p, const struct rill_bitfield *bf);
/* A have-all peer (BEP 6): counted once for every piece, in O(1). */
void rill_picker_peer_have_all(struct rill_picker *p);
/* A peer left: subtracts what it added. Pass everything it announced
 * (bitfield plus haves), or use lost_all for a peer added with have_all.
 * Release its outstanding blocks first (see the top of this file).
 * RILL_EINVAL if that would make an availability negative (a caller bug;
 * nothing goes below zero). */
int rill_picker_peer_lost(struct rill_picker *p, const struct rill_bitfield *bf);
int rill_picker_peer_lost_all(struct rill_picker *p);
/* Peers that have `piece`, have-all peers included. 0 outside. */
uint32_t rill_picker_availability(const struct rill_picker *p, uint32_t piece);

/* ------------------------------------------------------------ priorities */

/* Sets pieces [first, first + count) to `prio`. RILL_ERANGE outside,
 * RILL_EINVAL for an unknown priority. */
int rill_picker_set_priority(struct rill_picker *p, uint32_t first, uint32_t count,
                             enum rill_picker_prio prio);
/* Per-file priorities (one per mi->files entry): a piece gets the highest
 * priority of the files it overlaps, so a piece shared between a skipped and
 * a wanted file is wanted. Padding files and empty files do not count; a
 * piece made of padding alone takes the priority of the file before it.
 * RILL_EINVAL if `mi` does not match the picker's geometry. */
int rill_picker_set_file_priorities(struct rill_picker *p, const struct rill_metainfo *mi,
                                    const enum rill_picker_prio *prios);
enum rill_picker_prio rill_picker_priority(const struct rill_picker *p, uint32_t piece);
/* Wanted and not yet verified: a peer that has it is interesting. */
bool rill_picker_wants(const struct rill_picker *p, uint32_t piece);
/* Whether the peer has any piece we want (we should be interested). */
bool rill_picker_interesting(const struct rill_picker *p, const struct rill_picker_peer *peer);

/* ------------------------------------------------------------------ pick */

/* Fills `out` with up to `max` blocks to request from `peer` (the policy at
 * the top of this file) and records peer->id as their requester; the caller
 * sends the requests and adds them to the peer's outstanding list. Returns
 * how many (0: nothing to ask this peer now), or RILL_EINVAL for a bad peer
 * (id RILL_PICKER_NONE, or `have` missing or of the wrong size). */
int rill_picker_pick(struct rill_picker *p, struct rill_picker_peer *peer,
                     struct rill_picker_block *out, size_t max);
/* The same, restricted to the `count` listed pieces, in their order: blocks
 * of listed pieces in progress first, then new ones (allowed-fast pieces
 * from a peer that chokes us, or suggested pieces). Listed pieces the peer
 * lacks, that we have, skip, or that are out of range are ignored. */
int rill_picker_pick_from(struct rill_picker *p, struct rill_picker_peer *peer,
                          const uint32_t *pieces, size_t count, struct rill_picker_block *out,
                          size_t max);

/* ----------------------------------------------------- request lifecycle */

/* The block (piece, offset) arrived from `peer` (not RILL_PICKER_NONE). Writes the other peers
 * that had it requested to `cancel` (at most `cap`; RILL_PICKER_MAX_REQUESTERS
 * always suffices) and their number to `*ncancel` (may be NULL with cap 0):
 * the shell sends them `cancel` and drops the block from their lists; the
 * picker has already forgotten those requests. A block that was not
 * requested but belongs to a wanted piece is accepted all the same. Returns
 * an enum rill_picker_got, RILL_ERANGE for a block outside the torrent or
 * RILL_EINVAL for the reserved peer id. */
int rill_picker_received(struct rill_picker *p, uint32_t peer, uint32_t piece, uint32_t offset,
                         uint32_t *cancel, size_t cap, size_t *ncancel);
/* `peer` no longer has the block requested (cancelled, rejected, timed out,
 * choked, or the peer left): the block can be picked again once nobody has
 * it requested. Returns 1 if the request was known, 0 if not (a no-op), or
 * RILL_ERANGE for a block outside the torrent. */
int rill_picker_release(struct rill_picker *p, uint32_t peer, uint32_t piece, uint32_t offset);
/* The peers that have the block requested, at most `cap` of them written to
 * `out`; returns their number. 0 once the block is received. */
size_t rill_picker_requesters(const struct rill_picker *p, uint32_t piece, uint32_t offset,
                              uint32_t *out, size_t cap);
/* Whether the block has been received (for a piece in progress or had). */
bool rill_picker_block_received(const struct rill_picker *p, uint32_t piece, uint32_t offset);

/* --------------------------------------------------------- introspection */

/* True while in endgame (see the top; always false with endgame off). */
bool rill_picker_in_endgame(const struct rill_picker *p);
void rill_picker_stats(const struct rill_picker *p, struct rill_picker_stats *st);

#endif
