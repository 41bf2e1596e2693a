/* The swarm lab's shared vocabulary: one experiment (a swarm to build), the
 * plan drawn from it (who arrives when, with which rates, who free-rides,
 * who churns), and the result both engines fill in: `rill swarm`, which
 * runs real rill processes on loopback (lab/swarm_run.c), and `rill sim`,
 * which simulates the same swarm flow by flow with rill's own picker and
 * choker (lab/sim*.c). The report (lab/report.c) prints either one, so the
 * two are compared line for line.
 *
 * Times are seconds from the start of the experiment (the first arrival is
 * at 0); sizes are bytes and rates bytes per second. */
#ifndef RILL_LAB_LAB_H
#define RILL_LAB_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "rill.h"

enum rill_lab_mode {
    RILL_LAB_P2P = 0,       /* every leecher uploads at its rate (free-riders aside) */
    RILL_LAB_CLIENT_SERVER, /* leechers upload nothing: only the seed serves */
};

enum rill_lab_arrival {
    RILL_LAB_FLASH = 0,     /* everybody at 0 */
    RILL_LAB_STAGGERED,     /* one every arrival_gap_s */
    RILL_LAB_POISSON,       /* exponential gaps of mean arrival_gap_s */
};

/* One experiment. Zeroed fields take the defaults of rill_lab_config_default. */
struct rill_lab_config {
    uint64_t file_size;          /* F */
    uint32_t piece_size;         /* 256 KiB */
    unsigned peers;              /* N leechers (the seed is extra) */
    uint64_t seed_up;            /* u_s */
    struct rill_model classes;   /* the leechers' rates: classes[].up/.down/.share;
                                    up 0 is a free-rider, down 0 unlimited */
    enum rill_lab_mode mode;
    enum rill_lab_arrival arrival;
    double arrival_gap_s;
    bool leave;                  /* leave once complete (else stay and seed) */
    double free_riders;          /* share of leechers, 0..1, that upload nothing */
    double churn;                /* share of leechers, 0..1, that leave once with
                                    part of the file and come back */
    double churn_away_s;         /* how long a churning peer is away */
    /* Ablation switches, as `rill get` takes them. */
    enum rill_pick_mode picker;
    bool no_endgame;
    enum rill_choke_mode choker;
    unsigned unchoke_slots;      /* 0: the default 4 */
    bool no_optimistic;
    uint64_t rng_seed;           /* the plan (and the simulator) replay from it */
    double time_limit_s;         /* give up after this long; 0: 5 x bound + 30 s */
};

/* One leecher: its plan, then what happened to it. */
struct rill_lab_peer {
    unsigned index;              /* 0..N-1 */
    unsigned cls;                /* index in config.classes */
    uint64_t up, down;           /* enforced rates; up 0: uploads nothing */
    bool free_rider;
    double arrive_s;
    double churn_at;             /* leaves once it holds this share of the file;
                                    0: never */
    double away_s;               /* then comes back after this long */
    /* Filled in by the engine; negative when it did not happen. */
    double first_piece_s;        /* its first verified piece */
    double done_s;               /* complete */
    uint64_t uploaded, downloaded;
};

struct rill_lab_result {
    const char *engine;          /* "swarm" or "sim" */
    struct rill_lab_config config;
    struct rill_lab_peer *peers; /* config.peers of them, owned */
    double distribution_s;       /* last completion; negative if one never did */
    double bound_s;              /* rill_lab_bound for exactly this plan */
    double ratio;                /* distribution_s / bound_s */
    uint64_t seed_uploaded;
    double wall_s;               /* how long the engine ran */
};

/* Fills the defaults: 8 peers, 32 MiB, 256 KiB pieces, seed 4M/s, every
 * leecher 1M/s up and 8M/s down, p2p, flash crowd, stay, seed 1. */
void rill_lab_config_default(struct rill_lab_config *c);

/* Checks a config: RILL_EINVAL with *why for a value out of range. */
int rill_lab_config_check(const struct rill_lab_config *c, const char **why);

/* Draws the plan for c->peers leechers into `peers` (an array of that many):
 * classes by largest remainder, then free-riders, churners and arrival times
 * chosen with a generator seeded by c->rng_seed, so one seed gives one plan.
 * In client-server mode every leecher uploads nothing. Pure. */
void rill_lab_plan(const struct rill_lab_config *c, struct rill_lab_peer *peers);

/* The lower bound on distribution time for exactly this plan:
 * p2p  max(F/u_s, F/d_min, N*F/(u_s + sum up_i)),
 * client-server  max(N*F/u_s, F/d_min),
 * and never less than the latest arrival plus F over that peer's download
 * rate (a late peer cannot finish sooner). */
double rill_lab_bound(const struct rill_lab_config *c, const struct rill_lab_peer *peers);

/* The terms whose largest is that bound, in seconds, so a report can say
 * which one sets it: the server's (F/u_s in p2p, N*F/u_s in client-server),
 * the swarm's upload (N*F/(u_s + sum up_i); 0 in client-server), the
 * slowest download (F/d_min) and the latest arrival plus its own F/d. */
struct rill_lab_bound_terms {
    double server, swarm, slowest, late;
};
void rill_lab_bound_terms(const struct rill_lab_config *c, const struct rill_lab_peer *peers,
                          struct rill_lab_bound_terms *t);

/* How long an engine lets an experiment run: c->time_limit_s, or by
 * default 5 x the bound + 30 s. */
double rill_lab_time_limit(const struct rill_lab_config *c, const struct rill_lab_peer *peers);

/* Sets distribution_s, bound_s and ratio from the peers' results. */
void rill_lab_finish(struct rill_lab_result *r);

void rill_lab_result_free(struct rill_lab_result *r);

#endif
