/* An experiment's defaults, checks, plan and bound (see lab.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "util/rng.h"

#define MAX_LAB_PEERS 1000000u

void rill_lab_config_default(struct rill_lab_config *c)
{
    memset(c, 0, sizeof *c);
    c->file_size = 32u << 20;
    c->piece_size = 256u << 10;
    c->peers = 8;
    c->seed_up = 4u << 20;
    c->classes.nclasses = 1;
    c->classes.classes[0] = (struct rill_model_class){.share = 1, .up = 1 << 20, .down = 8 << 20};
    c->arrival_gap_s = 1;
    c->churn_away_s = 5;
    c->rng_seed = 1;
}

static bool is_share(double x)
{
    return isfinite(x) && x >= 0 && x <= 1;
}

int rill_lab_config_check(const struct rill_lab_config *c, const char **why)
{
    *why = NULL;
    if (c->file_size == 0)
        *why = "the file size must be more than 0";
    else if (c->piece_size < (16u << 10) || c->piece_size > (16u << 20) ||
             (c->piece_size & (c->piece_size - 1)))
        *why = "the piece size must be a power of two from 16K to 16M";
    else if (c->peers == 0 || c->peers > MAX_LAB_PEERS)
        *why = "the number of peers must be 1 to 1000000";
    else if (c->seed_up == 0)
        *why = "the seed's upload rate must be more than 0";
    else if (c->classes.nclasses == 0 || c->classes.nclasses > RILL_MODEL_MAX_CLASSES)
        *why = "there must be 1 to 16 classes of peers";
    else if (!is_share(c->free_riders) || !is_share(c->churn))
        *why = "the free-rider and churn shares must be between 0 and 1";
    else if (!isfinite(c->arrival_gap_s) || c->arrival_gap_s < 0 || c->arrival_gap_s > 86400 ||
             !isfinite(c->churn_away_s) || c->churn_away_s < 0 || c->churn_away_s > 86400)
        *why = "arrival gaps and away times must be 0 to 86400 seconds";
    else if (!isfinite(c->time_limit_s) || c->time_limit_s < 0)
        *why = "the time limit must not be negative";
    return *why ? RILL_EINVAL : 0;
}

/* The first `count` entries of a random permutation of 0..n-1 get `mark`. */
static void mark_random(struct rill_rng *rng, unsigned n, unsigned count, bool *mark)
{
    unsigned *order = malloc((size_t)n * sizeof *order);
    if (!order) { /* fall back to the first ones: still `count` of them */
        for (unsigned i = 0; i < count && i < n; i++)
            mark[i] = true;
        return;
    }
    for (unsigned i = 0; i < n; i++)
        order[i] = i;
    for (unsigned i = 0; i < count && i < n; i++) {
        unsigned j = i + (unsigned)rill_rng_below(rng, n - i);
        unsigned tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
        mark[order[i]] = true;
    }
    free(order);
}

/* Uniform in [0, 1). */
static double uniform(struct rill_rng *rng)
{
    return (double)(rill_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}

static void plan_arrivals(const struct rill_lab_config *c, struct rill_rng *rng,
                          struct rill_lab_peer *peers)
{
    double t = 0;
    for (unsigned i = 0; i < c->peers; i++) {
        if (c->arrival == RILL_LAB_STAGGERED)
            t = (double)i * c->arrival_gap_s;
        else if (c->arrival == RILL_LAB_POISSON && i > 0)
            t += -log(1.0 - uniform(rng)) * c->arrival_gap_s;
        peers[i].arrive_s = c->arrival == RILL_LAB_FLASH ? 0 : t;
    }
}

void rill_lab_plan(const struct rill_lab_config *c, struct rill_lab_peer *peers)
{
    struct rill_rng rng;
    rill_rng_seed(&rng, c->rng_seed);
    size_t counts[RILL_MODEL_MAX_CLASSES];
    rill_model_split(&c->classes, c->peers, counts);
    /* Field by field on a zeroed array, so two plans compare equal as bytes. */
    memset(peers, 0, (size_t)c->peers * sizeof *peers);
    unsigned i = 0;
    for (size_t k = 0; k < c->classes.nclasses; k++)
        for (size_t j = 0; j < counts[k]; j++, i++) {
            peers[i].index = i;
            peers[i].cls = (unsigned)k;
            peers[i].up = (uint64_t)c->classes.classes[k].up;
            peers[i].down = (uint64_t)c->classes.classes[k].down;
            peers[i].first_piece_s = peers[i].done_s = -1;
        }
    bool *riders = calloc(c->peers, sizeof *riders);
    bool *churners = calloc(c->peers, sizeof *churners);
    if (riders && churners) {
        mark_random(&rng, c->peers, (unsigned)lround(c->free_riders * c->peers), riders);
        mark_random(&rng, c->peers, (unsigned)lround(c->churn * c->peers), churners);
    }
    for (i = 0; i < c->peers; i++) {
        struct rill_lab_peer *p = &peers[i];
        if ((riders && riders[i]) || c->mode == RILL_LAB_CLIENT_SERVER)
            p->up = 0;
        p->free_rider = p->up == 0 && c->mode == RILL_LAB_P2P;
        /* A churner leaves somewhere in the middle of its download. */
        if (churners && churners[i]) {
            p->churn_at = 0.2 + 0.6 * uniform(&rng);
            p->away_s = c->churn_away_s;
        }
    }
    free(riders);
    free(churners);
    plan_arrivals(c, &rng, peers);
}

void rill_lab_bound_terms(const struct rill_lab_config *c, const struct rill_lab_peer *peers,
                          struct rill_lab_bound_terms *t)
{
    double f = (double)c->file_size, us = (double)c->seed_up, sum_up = us, n = c->peers;
    *t = (struct rill_lab_bound_terms){0};
    for (unsigned i = 0; i < c->peers; i++) {
        const struct rill_lab_peer *p = &peers[i];
        sum_up += (double)p->up;
        double own = p->down ? f / (double)p->down : 0;
        t->slowest = fmax(t->slowest, own);
        t->late = fmax(t->late, p->arrive_s + own + p->away_s * (p->churn_at > 0));
    }
    if (c->mode == RILL_LAB_CLIENT_SERVER) {
        t->server = n * f / us;
    } else {
        t->server = f / us;
        t->swarm = n * f / sum_up;
    }
}

double rill_lab_bound(const struct rill_lab_config *c, const struct rill_lab_peer *peers)
{
    struct rill_lab_bound_terms t;
    rill_lab_bound_terms(c, peers, &t);
    return fmax(fmax(t.server, t.swarm), fmax(t.slowest, t.late));
}

double rill_lab_time_limit(const struct rill_lab_config *c, const struct rill_lab_peer *peers)
{
    return c->time_limit_s > 0 ? c->time_limit_s : 5 * rill_lab_bound(c, peers) + 30;
}

void rill_lab_finish(struct rill_lab_result *r)
{
    double last = 0;
    for (unsigned i = 0; i < r->config.peers; i++) {
        if (r->peers[i].done_s < 0) {
            last = -1;
            break;
        }
        last = fmax(last, r->peers[i].done_s);
    }
    r->distribution_s = last;
    r->bound_s = rill_lab_bound(&r->config, r->peers);
    r->ratio = last >= 0 && r->bound_s > 0 ? last / r->bound_s : -1;
}

void rill_lab_result_free(struct rill_lab_result *r)
{
    free(r->peers);
    r->peers = NULL;
}
