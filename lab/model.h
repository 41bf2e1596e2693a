/* The textbook's lower bounds on distribution time (Kurose & Ross, "P2P
 * file distribution"): a file of F bytes from one server of upload rate
 * u_s to N peers with upload rates u_i and download rates d_i.
 *
 *   client-server  D_cs  = max(N·F / u_s, F / d_min)
 *   peer-to-peer   D_p2p = max(F / u_s, F / d_min, N·F / (u_s + Σu_i))
 *
 * Pure arithmetic in bytes and bytes per second (doubles, seconds out), so
 * `rill model`, `rill swarm` (the bound beside a measured run) and
 * `rill sim` share one definition. */
#ifndef RILL_LAB_MODEL_H
#define RILL_LAB_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* A class of peers: a share of the swarm with one upload and one download
 * rate. Shares are weights (they need not add up to 1). */
struct rill_model_class {
    double share;
    double up, down;         /* bytes per second; down 0: unlimited */
};

#define RILL_MODEL_MAX_CLASSES 16

/* The swarm a bound is computed for. */
struct rill_model {
    double file_size;        /* F, bytes */
    double server_up;        /* u_s, bytes per second (> 0) */
    double server_down;      /* unused by the bounds; kept for the swarm's seed */
    struct rill_model_class classes[RILL_MODEL_MAX_CLASSES];
    size_t nclasses;         /* at least 1 */
};

/* How many of `n` peers each class gets: shares rounded by largest
 * remainder, so the counts add up to n exactly. */
void rill_model_split(const struct rill_model *m, size_t n, size_t counts[RILL_MODEL_MAX_CLASSES]);

/* The two bounds for `n` peers split among the classes (0 for n = 0:
 * nobody to serve). A peer with download rate 0 counts as unlimited. */
double rill_model_client_server(const struct rill_model *m, size_t n);
double rill_model_p2p(const struct rill_model *m, size_t n);

#endif
