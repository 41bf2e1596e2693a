/* `rill sim`'s engine: a flow-level simulator of the swarm that `rill swarm`
 * runs for real (lab.h), driving rill's own picker, choker and pipeline
 * rule (core/picker.h, core/choker.h, rill_peer_depth) the way the client's
 * shell does (src/io/torrent*.c).
 *
 * Model. One seed and N leechers planned by rill_lab_plan; a tracker that
 * answers up to 50 random present peers; at most 50 connections a peer,
 * dialled 8 a tick with the client's back-off. A direction of a connection
 * carries a flow while the downloader has blocks requested from it (the
 * uploader unchokes it, or grants it allowed-fast pieces). Each step, 50 ms
 * of virtual time, flows get rates by an approximate max-min fair share of
 * the uploaders' and downloaders' rates (local water-filling; the rate
 * limiters' quarter-second buckets included) and move that many bytes
 * through their queues of 16 KiB blocks. Blocks are picked in the client's
 * batches, handed to rill_picker_received as they complete at their own
 * time within the step, a whole piece is verified at once and its `have`
 * reaches the neighbours' pickers in the same step. Chokers decide at their
 * 10 s / 30 s cadence and on interest changes, seeding once complete. The
 * rest (arrivals, 1 s ticks, rechokes, announces, completion, churn) is an
 * event on a heap; steps with no flow are skipped.
 *
 * Not modelled: latency (messages arrive within the step), hashing time,
 * TCP, and corrupt data.
 *
 * Deterministic: one config (and opts) gives one result, bit for bit (one
 * generator seeded from c->rng_seed; no clock is read). */
#ifndef RILL_LAB_SIM_H
#define RILL_LAB_SIM_H

#include "lab.h"

/* Figures about a run, for tests and the curious. */
struct rill_lab_sim_stats {
    uint64_t steps;       /* flow steps simulated */
    uint64_t events;      /* heap events handled */
    uint64_t blocks;      /* blocks delivered */
    uint64_t waste;       /* bytes delivered but not kept: duplicates, and
                             unverified pieces lost when a churner left */
    uint64_t connections; /* connections made */
    uint64_t decisions;   /* choker decisions */
    uint64_t max_flows;   /* most flows at once */
    double end_s;         /* virtual time when the run stopped */
};

/* Options of a run; all zero is the default. */
struct rill_lab_sim_opts {
    /* Every peer at one address, as `rill swarm` runs them on 127.0.0.1.
     * It matters through BEP 6: an uploader grants a downloader the
     * allowed-fast set drawn from the downloader's address (its /24) and
     * the info-hash, 10 pieces it may fetch while choked. With distinct
     * addresses (the default, as on a real network) each peer has its own
     * set; on one address all share a single set, so newcomers everywhere
     * fetch the same 10 pieces from the seed and from each other and then
     * have little to trade, which costs more the larger the swarm. Set it
     * to compare with `rill swarm`. */
    bool loopback;
    /* Optional: called about every `every_s` of virtual time (0: every
     * 10 s) with the virtual time and how many leechers have completed. */
    void (*progress)(void *ctx, double now_s, unsigned done, unsigned peers);
    void *ctx;
    double every_s;
};

/* Simulates the experiment `c`: checks it (RILL_EINVAL with *why), draws
 * the plan into a new r->peers (owned by r: rill_lab_result_free), runs it
 * and fills every peer's first_piece_s, done_s (negative if it never
 * completed before the time limit), uploaded and downloaded, then
 * r->seed_uploaded, r->engine "sim", r->config = *c and the figures of
 * rill_lab_finish. r->wall_s is left 0: the caller times the run. Returns 0,
 * RILL_EINVAL or RILL_ENOMEM (r->peers then NULL). */
int rill_lab_sim_run(const struct rill_lab_config *c, struct rill_lab_result *r, const char **why);

/* The same with options (may be NULL) and figures (may be NULL). */
int rill_lab_sim_run_opts(const struct rill_lab_config *c, const struct rill_lab_sim_opts *o,
                          struct rill_lab_result *r, struct rill_lab_sim_stats *st,
                          const char **why);

#endif
