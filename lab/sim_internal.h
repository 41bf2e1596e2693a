/* The simulator's state, shared by lab/sim*.c (see sim.h for the model).
 *
 * Peers are numbered 0..n-1 (the plan's leechers) and n (the seed); a peer's
 * number is also its id in every other peer's picker. A connection has two
 * directions: d[k] carries data from p[k] to p[1-k] and holds everything
 * that direction needs on both ends (the uploader's choker memory of the
 * downloader, the downloader's picker view of the uploader, the queue of
 * requested blocks, the rate meter both ends read). Connections live in a
 * pool sized for the most that can exist at once, so their addresses never
 * move; a generation number tells a reused slot from the old one.
 *
 * Three phases alternate: events (arrivals, ticks, rechokes, ...) change the
 * structure; rates are allocated to the flows; the flows advance one step,
 * which delivers blocks, verifies pieces and sends `have`, requests and
 * interest, but defers anything that closes connections (completion,
 * churn) and every choker decision to events or the pending list of the
 * next round. */
#ifndef RILL_LAB_SIM_INTERNAL_H
#define RILL_LAB_SIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/choker.h"
#include "core/picker.h"
#include "core/rate.h"
#include "lab.h"
#include "sim.h"
#include "util/rng.h"

#define SIM_MAX_CONNS 50u        /* per torrent, as the client */
#define SIM_NUMWANT 50u          /* peers in a tracker answer */
#define SIM_DIALS_PER_TICK 8u    /* the client's CONNECTS_PER_TICK */
#define SIM_TICK_MS 1000u        /* the client's torrent tick */
#define SIM_MAX_CANDS 4096u      /* the client's candidate cap */
#define SIM_REANNOUNCE_MS 5000u  /* tracker min interval (rill swarm's tracker:
                                    --min-interval 5s): asking again */
#define SIM_INTERVAL_MS 1800000u /* tracker interval: regular announces */
#define SIM_STEP_MS 50u          /* one flow step */
#define SIM_MAX_FAST 10u         /* allowed-fast pieces granted (the client's k) */

enum rill__sim_kind {
    SIM_EV_ARRIVE,   /* first arrival or return from churn */
    SIM_EV_TICK,     /* the client's 1 s tick: dial candidates */
    SIM_EV_CHOKE,    /* a choker decision is due */
    SIM_EV_ANNOUNCE, /* ask the tracker (again) */
    SIM_EV_COMPLETE, /* deferred completion: seed or leave */
    SIM_EV_CHURN,    /* deferred churn: leave for away_s */
    SIM_EV_KINDS
};

struct rill__sim_event {
    uint64_t at_ms;
    uint64_t seq; /* ties in order of scheduling: replays exactly */
    uint32_t peer;
    uint32_t gen; /* stale unless it matches the peer's gen[kind] */
    uint8_t kind;
};

struct rill__sim_heap {
    struct rill__sim_event *v;
    size_t n, cap;
    uint64_t seq;
};

/* Fields in order of use: what every step and every `have` touches first,
 * the rate meter and the choker's memory last. */
struct rill__sim_dir {
    bool registered;    /* counted in the downloader's picker */
    bool interested;    /* the downloader is interested */
    bool unchoked;      /* the uploader unchokes the downloader */
    bool in_list;       /* in the flow list */
    uint16_t fast_mask; /* allowed-fast pieces (bits of the
                           downloader's set) it may ask for while choked */
    uint32_t qhead, qlen, qcap;
    uint32_t *q;                  /* requested blocks (global index), a ring */
    struct rill_picker_peer view; /* the downloader's picker view of the uploader */
    double progress;              /* bytes of the head block already moved */
    double rate_now;              /* this step's share, bytes/s */
    uint64_t rate_read;           /* the meter read at rate_ms (0: never) */
    uint64_t rate_ms;
    uint64_t sent;               /* bytes of whole blocks */
    uint64_t interested_at_ms;   /* the downloader's interest began */
    uint64_t last_block_ms;      /* the downloader's last block from it */
    struct rill_choker_state st; /* the uploader's choker memory */
    struct rill_rate rate;       /* whole blocks moved (the uploader's up rate
                                    and the downloader's down rate) */
};

struct rill__sim_conn {
    uint32_t p[2];    /* p[0] dialled p[1] */
    uint32_t slot[2]; /* index in each peer's conns[] */
    uint32_t gen;
    bool live;
    uint64_t connected_ms;
    struct rill__sim_dir d[2];
};

struct rill__sim_cand {
    uint32_t peer;
    uint32_t failures;
    uint64_t retry_ms;
    bool connected;
    bool dead; /* never dialled again (both complete) */
};

enum rill__sim_state { SIM_ABSENT = 0, SIM_ACTIVE, SIM_AWAY, SIM_GONE };

struct rill__sim_peer {
    uint8_t state; /* enum rill__sim_state */
    bool complete, picking, uploads, churned, choke_pending;
    uint32_t nconns;
    uint32_t conns[SIM_MAX_CONNS];
    struct rill_bitfield have;
    double up, down;             /* bytes/s; down is INFINITY when unlimited */
    double up_burst, down_burst; /* token bucket sizes, as the client's limiter */
    double up_tokens, down_tokens;
    uint64_t tokens_ms;  /* when the buckets were last brought up to date */
    uint64_t have_bytes; /* verified */
    uint64_t pending;    /* accepted blocks of pieces not yet verified */
    uint64_t uploaded, downloaded;
    struct rill__sim_cand *cands;
    uint32_t ncands, cands_cap;
    uint64_t last_announce_ms;
    uint32_t gen[SIM_EV_KINDS];
    uint64_t tick_ms;     /* armed tick, or UINT64_MAX */
    uint64_t announce_ms; /* armed announce, or UINT64_MAX */
    uint64_t choke_ms;    /* armed choker decision, or UINT64_MAX */
    uint64_t tick_phase;  /* ticks fall on tick_phase + k s */
    double first_piece_s, done_s;
    struct rill_picker picker; /* valid while `picking` */
    struct rill_choker choker; /* valid if `uploads` */
};

struct rill__sim_flow {
    uint32_t conn, gen;
    uint32_t k;
};

/* Flows of one uploader or one downloader, for the rate allocation. */
struct rill__sim_group {
    uint32_t peer, start, len;
};

/* Scratch for the rate allocation: per peer (sized once) and per flow
 * (grown with the flow list). */
struct rill__sim_rates {
    uint32_t *cnt, *start, *fill; /* per peer, zero between uses */
    uint32_t *by_up, *by_down;    /* flows grouped, both ways */
    struct rill__sim_group *up_groups, *down_groups;
    uint32_t nup, ndown;
    double *want, *got, *moved; /* per flow */
    double *up_cap, *down_cap;  /* per group: bytes/s this step */
    uint8_t *mark, *capped;
    size_t cap;
};

struct rill__sim {
    const struct rill_lab_config *c;
    const struct rill_lab_sim_opts *opts; /* may be NULL */
    struct rill_lab_peer *plan;
    struct rill_rng rng;
    uint32_t n;                   /* leechers; the seed is peer n */
    struct rill__sim_peer *peers; /* n + 1 */
    uint32_t npieces, bpp, piece_size, last_size;
    uint32_t *fast, nfast; /* each downloader's allowed-fast set: nfast
                              pieces from peer * nfast */
    struct rill_picker_opts po;
    struct rill_choker_opts co;
    /* connections */
    struct rill__sim_conn *conns;
    uint32_t conns_cap, conns_used;
    uint32_t *free_conns;
    uint32_t nfree;
    /* the tracker: present peers, in a swap-remove array */
    uint32_t *present, *pos;
    uint32_t npresent;
    struct rill__sim_heap heap;
    /* flows: directions that may carry data */
    struct rill__sim_flow *flows;
    size_t nflows, flows_cap;
    struct rill__sim_rates r;
    /* peers whose choker must recompute before the next step */
    uint32_t *pending;
    uint32_t npending;
    struct rill_choker_peer *cp; /* SIM_MAX_CONNS, for decisions */
    uint64_t now_ms;
    unsigned done;
    struct rill_lab_sim_stats st;
    int err; /* the first RILL_ENOMEM stops the run */
};

#define SIM_SEED(s) ((s)->n)

/* ------------------------------------------------------------- sim_heap.c */
int rill__sim_push(struct rill__sim *s, uint64_t at_ms, uint8_t kind, uint32_t peer);
/* Pops the earliest live event at or before `until`; false when none. */
bool rill__sim_pop(struct rill__sim *s, uint64_t until, struct rill__sim_event *out);
/* The time of the earliest event (stale ones included), or UINT64_MAX. */
uint64_t rill__sim_next_at(const struct rill__sim *s);
void rill__sim_heap_free(struct rill__sim_heap *h);

/* -------------------------------------------------------------- sim_net.c */
void rill__sim_arrive(struct rill__sim *s, uint32_t peer);
void rill__sim_tick(struct rill__sim *s, uint32_t peer);
void rill__sim_announce(struct rill__sim *s, uint32_t peer);
void rill__sim_after_complete(struct rill__sim *s, uint32_t peer);
void rill__sim_churn(struct rill__sim *s, uint32_t peer);
void rill__sim_close(struct rill__sim *s, uint32_t conn);
void rill__sim_arm_tick(struct rill__sim *s, uint32_t peer);

/* ------------------------------------------------------------- sim_peer.c */
static inline struct rill__sim_dir *rill__sim_dir(struct rill__sim *s, uint32_t conn, uint32_t k)
{
    return &s->conns[conn].d[k];
}
int rill__sim_picker_start(struct rill__sim *s, uint32_t peer);
void rill__sim_register(struct rill__sim *s, uint32_t conn, uint32_t k);
void rill__sim_unregister(struct rill__sim *s, uint32_t conn, uint32_t k);
void rill__sim_update_interest(struct rill__sim *s, uint32_t conn, uint32_t k);
void rill__sim_request_more(struct rill__sim *s, uint32_t conn, uint32_t k);
void rill__sim_grant_fast(struct rill__sim *s, uint32_t conn, uint32_t k);
void rill__sim_top_up_idle(struct rill__sim *s, uint32_t peer);
void rill__sim_want_rechoke(struct rill__sim *s, uint32_t peer);
void rill__sim_rechoke(struct rill__sim *s, uint32_t peer);
void rill__sim_flush_rechokes(struct rill__sim *s);
/* A block of conn's direction k arrived whole at `t_s` seconds. */
void rill__sim_deliver(struct rill__sim *s, uint32_t conn, uint32_t k, uint32_t block, double t_s);
uint32_t rill__sim_block_len(const struct rill__sim *s, uint32_t block);
/* Drops the queue of a direction, releasing its blocks in the picker. */
void rill__sim_drop_queue(struct rill__sim *s, uint32_t conn, uint32_t k);

/* ------------------------------------------------------------- sim_flow.c */
/* Puts the direction in the flow list if it can carry data now. */
void rill__sim_flow_touch(struct rill__sim *s, uint32_t conn, uint32_t k);
/* Drops dead flows and gives the others their rates for a step of `dt_ms`
 * from `now_ms`; returns how many. */
size_t rill__sim_flows_prepare(struct rill__sim *s, uint64_t now_ms, uint32_t dt_ms);
/* Moves `dt_ms` worth of data starting at `t0_ms` and charges the buckets. */
void rill__sim_flows_advance(struct rill__sim *s, uint64_t t0_ms, uint32_t dt_ms);
int rill__sim_rates_init(struct rill__sim_rates *r, uint32_t npeers);
void rill__sim_rates_free(struct rill__sim_rates *r);

#endif
