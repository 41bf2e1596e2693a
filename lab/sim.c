/* `rill sim`'s engine: setup, the main loop (events, then rates, then one
 * step of the flows), and the result. See sim.h for the model and
 * sim_internal.h for how the files share the work. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_internal.h"

/* Options of the cores, mapped from the experiment as src/io/torrent.c maps
 * rill_torrent_params. The picker is sized for a simulated peer (picker.h):
 * 64 pieces in progress and 512 duplicate requests are far more than 50
 * connections use, and 64 availability levels order every count exactly
 * (a peer has at most 50 neighbours). */
static void core_opts(struct rill__sim *s)
{
    const struct rill_lab_config *c = s->c;
    rill_picker_opts_default(&s->po);
    s->po.mode = (enum rill_picker_mode)c->picker;
    s->po.endgame = !c->no_endgame;
    s->po.max_partial = 64;
    s->po.endgame_slots = 512;
    s->po.avail_levels = 64;
    rill_choker_opts_default(&s->co);
    s->co.mode = (enum rill_choker_mode)c->choker;
    if (c->unchoke_slots)
        s->co.slots = c->unchoke_slots;
    if (c->no_optimistic)
        s->co.optimistic_slots = 0;
}

static int setup_peer(struct rill__sim *s, uint32_t i)
{
    struct rill__sim_peer *p = &s->peers[i];
    bool seed = i == SIM_SEED(s);
    p->up = seed ? (double)s->c->seed_up : (double)s->plan[i].up;
    p->down = seed || s->plan[i].down == 0 ? INFINITY : (double)s->plan[i].down;
    p->uploads = p->up > 0;
    /* The client's rate limiter: buckets of a quarter second, at least a
     * block and its header, full at the start. */
    p->up_burst = p->up_tokens = fmax(p->up / 4, 16384 + 13);
    p->down_burst = p->down_tokens = fmax(p->down / 4, 16384 + 13);
    p->first_piece_s = p->done_s = -1;
    p->tick_ms = p->announce_ms = p->choke_ms = UINT64_MAX;
    s->pos[i] = UINT32_MAX;
    if (rill_bitfield_init(&p->have, s->npieces))
        return RILL_ENOMEM;
    if (seed) {
        for (uint32_t k = 0; k < s->npieces; k++)
            rill_bitfield_set(&p->have, k, true);
        p->have_bytes = s->c->file_size;
        p->complete = true;
    }
    return 0;
}

/* Draws `n` distinct pieces. */
static void draw_set(struct rill__sim *s, uint32_t *set, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        bool seen;
        do {
            set[j] = (uint32_t)rill_rng_below(&s->rng, s->npieces);
            seen = false;
            for (uint32_t i = 0; i < j; i++)
                seen |= set[i] == set[j];
        } while (seen);
    }
}

/* The allowed-fast sets (BEP 6): an uploader grants a downloader the set
 * drawn from the downloader's address and the info-hash, so each peer has
 * its own, the same from every uploader. On loopback every peer has the
 * same address, and so the same set. */
static int fast_sets(struct rill__sim *s)
{
    uint32_t total = s->n + 1;
    s->nfast = s->npieces < SIM_MAX_FAST ? s->npieces : SIM_MAX_FAST;
    s->fast = calloc((size_t)total * s->nfast + 1, sizeof *s->fast);
    if (!s->fast)
        return RILL_ENOMEM;
    bool loopback = s->opts && s->opts->loopback;
    for (uint32_t i = 0; i < total; i++) {
        uint32_t *set = s->fast + (size_t)i * s->nfast;
        if (loopback && i > 0)
            memcpy(set, s->fast, s->nfast * sizeof *set);
        else
            draw_set(s, set, s->nfast);
    }
    return 0;
}

static int setup(struct rill__sim *s, const struct rill_lab_config *c,
                 const struct rill_lab_sim_opts *o, struct rill_lab_peer *plan, const char **why)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    s->opts = o;
    s->plan = plan;
    s->n = c->peers;
    rill_rng_seed(&s->rng, c->rng_seed ^ 0x73696d756c61746full); /* not the plan's stream */
    uint64_t np = (c->file_size + c->piece_size - 1) / c->piece_size;
    s->bpp = (c->piece_size + RILL_PICKER_BLOCK - 1) / RILL_PICKER_BLOCK;
    if (np * s->bpp > UINT32_MAX) { /* blocks are numbered in 32 bits */
        *why = "the file has too many blocks for the simulator (2^32)";
        return RILL_EINVAL;
    }
    s->npieces = (uint32_t)np;
    s->piece_size = c->piece_size;
    s->last_size = (uint32_t)(c->file_size - (np - 1) * c->piece_size);
    core_opts(s);
    uint32_t total = s->n + 1;
    /* Each connection takes a slot at two peers of 50: at most 25 per peer. */
    s->conns_cap = total * (SIM_MAX_CONNS / 2) + 1;
    s->peers = calloc(total, sizeof *s->peers);
    s->conns = calloc(s->conns_cap, sizeof *s->conns);
    s->free_conns = calloc(s->conns_cap, sizeof *s->free_conns);
    s->present = calloc(total, sizeof *s->present);
    s->pos = calloc(total, sizeof *s->pos);
    s->pending = calloc(total, sizeof *s->pending);
    s->cp = calloc(SIM_MAX_CONNS, sizeof *s->cp);
    if (!s->peers || !s->conns || !s->free_conns || !s->present || !s->pos || !s->pending ||
        !s->cp || rill__sim_rates_init(&s->r, total))
        return RILL_ENOMEM;
    for (uint32_t i = 0; i < total; i++)
        if (setup_peer(s, i))
            return RILL_ENOMEM;
    return fast_sets(s);
}

static void teardown(struct rill__sim *s)
{
    for (uint32_t i = 0; s->peers && i <= s->n; i++) {
        struct rill__sim_peer *p = &s->peers[i];
        if (p->picking)
            rill_picker_free(&p->picker);
        if (p->uploads)
            rill_choker_free(&p->choker);
        rill_bitfield_free(&p->have);
        free(p->cands);
    }
    for (uint32_t i = 0; s->conns && i < s->conns_used; i++) {
        free(s->conns[i].d[0].q);
        free(s->conns[i].d[1].q);
    }
    free(s->peers);
    free(s->conns);
    free(s->free_conns);
    free(s->present);
    free(s->pos);
    free(s->pending);
    free(s->cp);
    free(s->fast);
    free(s->flows);
    rill__sim_rates_free(&s->r);
    rill__sim_heap_free(&s->heap);
}

/* ------------------------------------------------------------- main loop */

static void handle(struct rill__sim *s, const struct rill__sim_event *e)
{
    s->st.events++;
    switch (e->kind) {
    case SIM_EV_ARRIVE: rill__sim_arrive(s, e->peer); break;
    case SIM_EV_TICK: rill__sim_tick(s, e->peer); break;
    case SIM_EV_CHOKE:
        s->peers[e->peer].choke_ms = UINT64_MAX;
        rill__sim_rechoke(s, e->peer);
        break;
    case SIM_EV_ANNOUNCE:
        s->peers[e->peer].announce_ms = UINT64_MAX;
        rill__sim_announce(s, e->peer);
        break;
    case SIM_EV_COMPLETE: rill__sim_after_complete(s, e->peer); break;
    case SIM_EV_CHURN: rill__sim_churn(s, e->peer); break;
    default: break;
    }
}

static void run_events(struct rill__sim *s, uint64_t now)
{
    struct rill__sim_event e;
    s->now_ms = now;
    while (s->err == 0 && rill__sim_pop(s, now, &e)) {
        s->now_ms = now;
        handle(s, &e);
    }
    s->now_ms = now;
    rill__sim_flush_rechokes(s);
}

static uint64_t time_limit_ms(const struct rill_lab_config *c, const struct rill_lab_peer *plan)
{
    double lim = rill_lab_time_limit(c, plan);
    lim *= 1000.0;
    return lim >= 9e15 ? (uint64_t)9e15 : (uint64_t)lim;
}

static void report(struct rill__sim *s, const struct rill_lab_sim_opts *o, uint64_t now,
                   uint64_t *next)
{
    if (!o || !o->progress || now < *next)
        return;
    uint64_t every = o->every_s > 0 ? (uint64_t)(o->every_s * 1000.0) : 10000;
    *next = (now / (every ? every : 1) + 1) * (every ? every : 1);
    o->progress(o->ctx, (double)now / 1000.0, s->done, s->n);
}

static void run(struct rill__sim *s, const struct rill_lab_sim_opts *o)
{
    uint64_t limit = time_limit_ms(s->c, s->plan), now = 0, next_report = 0;
    if (rill__sim_push(s, 0, SIM_EV_ARRIVE, SIM_SEED(s)))
        return;
    for (uint32_t i = 0; i < s->n; i++) {
        double at = s->plan[i].arrive_s * 1000.0;
        if (rill__sim_push(s, at >= 9e15 ? (uint64_t)9e15 : (uint64_t)at, SIM_EV_ARRIVE, i))
            return;
    }
    while (s->err == 0 && s->done < s->n && now <= limit) {
        run_events(s, now);
        report(s, o, now, &next_report);
        if (rill__sim_flows_prepare(s, now, SIM_STEP_MS) > 0) {
            rill__sim_flows_advance(s, now, SIM_STEP_MS);
            now += SIM_STEP_MS;
            s->st.steps++;
            continue;
        }
        /* Nothing flows: jump to the next event. */
        uint64_t next = rill__sim_next_at(s);
        if (next == UINT64_MAX)
            break;
        now = next > now ? next : now;
    }
    s->st.end_s = (double)now / 1000.0;
}

static void fill_result(const struct rill__sim *s, struct rill_lab_result *r)
{
    for (uint32_t i = 0; i < s->n; i++) {
        const struct rill__sim_peer *p = &s->peers[i];
        struct rill_lab_peer *q = &r->peers[i];
        q->first_piece_s = p->first_piece_s;
        q->done_s = p->done_s;
        q->uploaded = p->uploaded;
        q->downloaded = p->downloaded;
    }
    r->seed_uploaded = s->peers[SIM_SEED(s)].uploaded;
    r->engine = "sim";
    rill_lab_finish(r);
}

int rill_lab_sim_run_opts(const struct rill_lab_config *c, const struct rill_lab_sim_opts *o,
                          struct rill_lab_result *r, struct rill_lab_sim_stats *st,
                          const char **why)
{
    memset(r, 0, sizeof *r);
    if (st)
        memset(st, 0, sizeof *st);
    int rc = rill_lab_config_check(c, why);
    if (rc)
        return rc;
    r->config = *c;
    r->peers = calloc(c->peers, sizeof *r->peers);
    struct rill__sim *s = calloc(1, sizeof *s);
    if (!r->peers || !s) {
        free(s);
        rill_lab_result_free(r);
        return RILL_ENOMEM;
    }
    rill_lab_plan(c, r->peers);
    rc = setup(s, &r->config, o, r->peers, why);
    if (rc == 0) {
        run(s, o);
        rc = s->err;
    }
    if (rc == 0)
        fill_result(s, r);
    if (st)
        *st = s->st;
    teardown(s);
    free(s);
    if (rc) {
        rill_lab_result_free(r);
        if (rc == RILL_EINVAL && !*why)
            *why = "the simulator could not set up a peer's picker or choker";
    }
    return rc;
}

int rill_lab_sim_run(const struct rill_lab_config *c, struct rill_lab_result *r, const char **why)
{
    return rill_lab_sim_run_opts(c, NULL, r, NULL, why);
}
