/* The piece picker under load: a randomized stress test against a model of
 * the peers (every invariant checked after every event), and a scale run
 * with 10,000 peers. All seeded and deterministic. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "picker_fixture.h"

/* ------------------------------------------------- randomized stress */

#define SN 61
#define SPLEN (3 * BLK)
#define STOTAL ((SN - 1ull) * SPLEN + 20000)
#define SPEERS 24
#define SMAXOUT 128

struct sp {
    bool on;
    struct tp t;
    uint32_t out[SMAXOUT][2]; /* outstanding (piece, offset), as a shell keeps */
    size_t nout;
};

struct world {
    struct rill_picker p;
    struct rill_rng prng, wrng;
    struct rill_picker_opts o;
    struct sp peers[SPEERS];
    uint32_t next_id;
    unsigned endgame_steps, dup_picks;
};

static uint32_t wr(struct world *w, uint32_t n)
{
    return (uint32_t)rill_rng_below(&w->wrng, n);
}

static int out_find(const struct sp *q, uint32_t piece, uint32_t off)
{
    for (size_t i = 0; i < q->nout; i++)
        if (q->out[i][0] == piece && q->out[i][1] == off)
            return (int)i;
    return -1;
}

static void out_del(struct sp *q, size_t i)
{
    q->out[i][0] = q->out[q->nout - 1][0];
    q->out[i][1] = q->out[q->nout - 1][1];
    q->nout--;
}

/* The peers that, in the model, have the block outstanding. */
static size_t model_req(struct world *w, uint32_t piece, uint32_t off, uint32_t *ids)
{
    size_t n = 0;
    for (int k = 0; k < SPEERS; k++)
        if (w->peers[k].on && out_find(&w->peers[k], piece, off) >= 0)
            ids[n++] = w->peers[k].t.pp.id;
    return n;
}

static void same_set(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_true(has_id(b, nb, a[i]));
}

static struct sp *by_id(struct world *w, uint32_t id)
{
    for (int k = 0; k < SPEERS; k++)
        if (w->peers[k].on && w->peers[k].t.pp.id == id)
            return &w->peers[k];
    fail_msg("unknown peer id %u", id);
    return NULL;
}

static struct sp *random_on(struct world *w)
{
    int k = (int)wr(w, SPEERS);
    for (int j = 0; j < SPEERS; j++, k = (k + 1) % SPEERS)
        if (w->peers[k].on)
            return &w->peers[k];
    return NULL;
}

static void ev_connect(struct world *w)
{
    struct sp *q = NULL;
    for (int k = 0; k < SPEERS && !q; k++)
        if (!w->peers[k].on)
            q = &w->peers[k];
    if (!q)
        return;
    q->on = true;
    q->nout = 0;
    memset(q->t.bf.bits, 0, rill_bitfield_bytes(&q->t.bf));
    q->t.bf.count = 0;
    rill_picker_peer_init(&q->t.pp, w->next_id++, &q->t.bf, wr(w, 3) == 0);
    if (q->t.pp.all) {
        rill_picker_peer_have_all(&w->p);
        return;
    }
    uint32_t density = wr(w, 101);
    for (uint32_t i = 0; i < SN; i++)
        rill_bitfield_set(&q->t.bf, i, wr(w, 100) < density);
    assert_int_equal(rill_picker_peer_bitfield(&w->p, &q->t.bf), 0);
}

static void ev_have(struct world *w)
{
    struct sp *q = random_on(w);
    if (!q || q->t.pp.all)
        return;
    uint32_t i = wr(w, SN);
    if (rill_bitfield_get(&q->t.bf, i))
        return;
    rill_bitfield_set(&q->t.bf, i, true);
    assert_int_equal(rill_picker_peer_have(&w->p, i), 0);
}

static void ev_pick(struct world *w)
{
    struct sp *q = random_on(w);
    if (!q)
        return;
    size_t max = 1 + wr(w, 6);
    if (q->nout + max > SMAXOUT)
        return;
    struct rill_picker_block out[8];
    int n = rill_picker_pick(&w->p, &q->t.pp, out, max);
    assert_true(n >= 0 && (size_t)n <= max);
    bool endgame = rill_picker_in_endgame(&w->p);
    for (int i = 0; i < n; i++) {
        uint32_t piece = out[i].piece, off = out[i].offset, ids[SPEERS];
        assert_true(piece < SN && rill__pk_peer_has(&q->t.pp, piece));
        assert_false(rill_picker_has(&w->p, piece));
        assert_int_not_equal(rill_picker_priority(&w->p, piece), RILL_PICKER_SKIP);
        assert_int_equal(out[i].length, rill_picker_block_length(&w->p, piece, off));
        assert_false(rill_picker_block_received(&w->p, piece, off));
        /* Never twice to one peer; to two peers only in endgame. */
        assert_true(out_find(q, piece, off) < 0);
        size_t others = model_req(w, piece, off, ids);
        if (others) {
            assert_true(endgame);
            assert_true(others < w->o.endgame_max_requesters);
            w->dup_picks++;
        }
        q->out[q->nout][0] = piece;
        q->out[q->nout][1] = off;
        q->nout++;
    }
}

static void hash_result(struct world *w, uint32_t piece)
{
    if (wr(w, 5) == 0) {
        uint32_t senders[SPEERS];
        assert_true(rill_picker_failed(&w->p, piece, senders, SPEERS) >= 1);
    } else {
        assert_int_equal(rill_picker_verified(&w->p, piece), 0);
    }
}

/* A block arrives from q: requested (from its list) or unsolicited. */
static void deliver(struct world *w, struct sp *q, uint32_t piece, uint32_t off, bool asked)
{
    uint32_t want[SPEERS], got[RILL_PICKER_MAX_REQUESTERS];
    size_t nwant = model_req(w, piece, off, want), ngot = 99;
    bool was = rill_picker_block_received(&w->p, piece, off);
    bool skip = rill_picker_priority(&w->p, piece) == RILL_PICKER_SKIP;
    struct rill_picker_stats st;
    rill_picker_stats(&w->p, &st);
    int rc =
        rill_picker_received(&w->p, q->t.pp.id, piece, off, got, RILL_PICKER_MAX_REQUESTERS, &ngot);
    if (rc == RILL_PICKER_GOT_DUP) {
        assert_false(asked);
        assert_true(was || ((skip || st.partial == w->o.max_partial) && nwant == 0));
        assert_int_equal(ngot, 0);
        return;
    }
    assert_false(was);
    assert_true(rc == RILL_PICKER_GOT_BLOCK || rc == RILL_PICKER_GOT_PIECE);
    same_set(got, ngot, want, nwant);
    for (size_t i = 0; i < ngot; i++) {
        struct sp *o = by_id(w, got[i]);
        out_del(o, (size_t)out_find(o, piece, off));
    }
    if (rc == RILL_PICKER_GOT_PIECE)
        hash_result(w, piece);
}

static void ev_receive(struct world *w, bool asked)
{
    struct sp *q = random_on(w);
    if (!q)
        return;
    if (asked) {
        if (!q->nout)
            return;
        size_t i = wr(w, (uint32_t)q->nout);
        uint32_t piece = q->out[i][0], off = q->out[i][1];
        out_del(q, i);
        deliver(w, q, piece, off, true);
        return;
    }
    uint32_t piece = wr(w, SN);
    uint32_t off = wr(w, rill_picker_block_count(&w->p, piece)) * BLK;
    if (rill__pk_peer_has(&q->t.pp, piece) && !rill_picker_has(&w->p, piece) &&
        out_find(q, piece, off) < 0)
        deliver(w, q, piece, off, false);
}

static void ev_release(struct world *w)
{
    struct sp *q = random_on(w);
    if (!q || !q->nout)
        return;
    size_t i = wr(w, (uint32_t)q->nout);
    assert_int_equal(rill_picker_release(&w->p, q->t.pp.id, q->out[i][0], q->out[i][1]), 1);
    out_del(q, i);
}

static void ev_disconnect(struct world *w, struct sp *q)
{
    if (!q)
        return;
    while (q->nout) {
        assert_int_equal(rill_picker_release(&w->p, q->t.pp.id, q->out[0][0], q->out[0][1]), 1);
        out_del(q, 0);
    }
    if (q->t.pp.all)
        assert_int_equal(rill_picker_peer_lost_all(&w->p), 0);
    else
        assert_int_equal(rill_picker_peer_lost(&w->p, &q->t.bf), 0);
    q->on = false;
}

/* The model and the picker agree on availability and on every requester. */
static void compare(struct world *w)
{
    for (uint32_t i = 0; i < SN; i++) {
        uint32_t a = 0;
        for (int k = 0; k < SPEERS; k++)
            a += w->peers[k].on && rill__pk_peer_has(&w->peers[k].t.pp, i);
        assert_int_equal(rill_picker_availability(&w->p, i), a);
        for (uint32_t b = 0; b < rill_picker_block_count(&w->p, i); b++) {
            uint32_t m[SPEERS], g[RILL_PICKER_MAX_REQUESTERS];
            size_t nm = model_req(w, i, b * BLK, m);
            size_t ng = rill_picker_requesters(&w->p, i, b * BLK, g, RILL_PICKER_MAX_REQUESTERS);
            same_set(g, ng, m, nm);
            if (!w->o.endgame)
                assert_true(nm <= 1);
        }
    }
}

static void step(struct world *w)
{
    uint32_t ev = wr(w, 100);
    if (ev < 8)
        ev_connect(w);
    else if (ev < 20)
        ev_have(w);
    else if (ev < 50)
        ev_pick(w);
    else if (ev < 70)
        ev_receive(w, true);
    else if (ev < 75)
        ev_receive(w, false);
    else if (ev < 88)
        ev_release(w);
    else if (ev < 93)
        ev_disconnect(w, random_on(w));
    else if (ev < 96) {
        uint32_t a = wr(w, SN), len = 1 + wr(w, 6);
        if (len > SN - a)
            len = SN - a;
        assert_int_equal(rill_picker_set_priority(&w->p, a, len, wr(w, 3)), 0);
    } else {
        compare(w);
    }
    w->endgame_steps += rill_picker_in_endgame(&w->p);
}

/* Everyone leaves, everything is wanted, one seed finishes the download. */
static void finish(struct world *w)
{
    for (int k = 0; k < SPEERS; k++)
        if (w->peers[k].on)
            ev_disconnect(w, &w->peers[k]);
    ok(&w->p);
    assert_int_equal(rill_picker_set_priority(&w->p, 0, SN, RILL_PICKER_NORMAL), 0);
    struct tp s;
    tp_init(&s, w->next_id, SN, true);
    rill_picker_peer_have_all(&w->p);
    struct rill_picker_block out[16];
    for (int round = 0; round < 1000 && !rill_picker_complete(&w->p); round++) {
        int n = rill_picker_pick(&w->p, &s.pp, out, 16);
        assert_true(n > 0);
        for (int i = 0; i < n; i++) {
            int rc =
                rill_picker_received(&w->p, s.pp.id, out[i].piece, out[i].offset, NULL, 0, NULL);
            assert_true(rc == RILL_PICKER_GOT_BLOCK || rc == RILL_PICKER_GOT_PIECE);
            if (rc == RILL_PICKER_GOT_PIECE)
                rill_picker_verified(&w->p, out[i].piece);
        }
        ok(&w->p);
    }
    assert_true(rill_picker_complete(&w->p));
    assert_int_equal(rill_picker_pick(&w->p, &s.pp, out, 16), 0);
    rill_bitfield_free(&s.bf);
}

/* Runs `steps` random events from `seed`, checking every invariant after
 * each; adds the duplicate (endgame) requests it saw to *dups. */
static void stress_run(uint64_t seed, const struct rill_picker_opts *o, unsigned steps,
                       unsigned *dups)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->o = *o;
    rill_rng_seed(&w->wrng, seed ^ 0x5eed);
    mk(&w->p, &w->prng, seed, SN, SPLEN, STOTAL, o);
    w->o = w->p.opt; /* with the defaults resolved */
    w->next_id = 1;
    for (int k = 0; k < SPEERS; k++)
        tp_init(&w->peers[k].t, 0, SN, false);
    for (unsigned i = 0; i < steps; i++) {
        step(w);
        int rc = rill__picker_check(&w->p);
        if (rc)
            fail_msg("seed %llu step %u: invariant at picker_check.c:%d", (unsigned long long)seed,
                     i, rc);
    }
    compare(w);
    *dups += w->dup_picks;
    finish(w);
    for (int k = 0; k < SPEERS; k++)
        rill_bitfield_free(&w->peers[k].t.bf);
    rill_picker_free(&w->p);
    free(w);
}

static void test_stress(void **state)
{
    (void)state;
    unsigned dups = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        struct rill_picker_opts o;
        rill_picker_opts_default(&o);
        o.mode = (enum rill_picker_mode)(seed % 3);
        o.endgame = seed % 4 != 3;
        o.endgame_max_requesters = 2 + (uint32_t)(seed % 5);
        o.endgame_slots = seed % 2 ? 6 : 0;    /* a tiny pool runs out */
        o.max_partial = seed % 3 == 1 ? 4 : 0; /* so does a tiny slot table */
        o.avail_levels = seed % 2 ? 3 : 0;     /* capped availability levels */
        o.random_first = (uint32_t)(seed % 5);
        stress_run(seed, &o, 4000, &dups);
    }
    assert_true(dups > 100); /* endgame was exercised, not just reached */
}

/* 10,000 peers over 4,000 pieces: availability updates, picks, receipts
 * and departures stay cheap. Asserts only correctness, not time. */
static void test_scale(void **state)
{
    (void)state;
    enum { N = 4000, PEERS = 10000 };
    struct rill_rng r, ev;
    struct rill_picker p;
    struct rill_picker_opts o = opts_rf(4);
    o.max_partial = N;
    mk(&p, &r, 99, N, 4 * BLK, (uint64_t)N * 4 * BLK, &o);
    rill_rng_seed(&ev, 100);
    struct tp *peers = calloc(PEERS, sizeof *peers);
    uint32_t *avail = calloc(N, sizeof *avail);
    assert_non_null(peers);
    assert_non_null(avail);
    uint32_t seeds = 0;
    for (uint32_t k = 0; k < PEERS; k++) {
        tp_init(&peers[k], k + 1, N, k % 10 == 0);
        if (peers[k].pp.all) {
            rill_picker_peer_have_all(&p);
            seeds++;
            continue;
        }
        for (int j = 0; j < 24; j++) {
            uint32_t i = (uint32_t)rill_rng_below(&ev, N);
            if (!rill_bitfield_get(&peers[k].bf, i)) {
                rill_bitfield_set(&peers[k].bf, i, true);
                rill_picker_peer_have(&p, i);
                avail[i]++;
            }
        }
    }
    struct rill_picker_block out[4];
    uint64_t picked = 0;
    for (int n = 0; n < 20000; n++) {
        struct tp *t = &peers[rill_rng_below(&ev, PEERS)];
        int got = rill_picker_pick(&p, &t->pp, out, 4);
        assert_true(got >= 0);
        for (int i = 0; i < got; i++) {
            assert_true(rill__pk_peer_has(&t->pp, out[i].piece));
            if (rill_rng_below(&ev, 2) == 0) {
                int rc =
                    rill_picker_received(&p, t->pp.id, out[i].piece, out[i].offset, NULL, 0, NULL);
                if (rc == RILL_PICKER_GOT_PIECE)
                    rill_picker_verified(&p, out[i].piece);
            } else {
                assert_int_equal(rill_picker_release(&p, t->pp.id, out[i].piece, out[i].offset), 1);
            }
        }
        picked += (uint64_t)got;
    }
    assert_true(picked > 20000);
    /* Half the peers leave. */
    for (uint32_t k = 0; k < PEERS; k += 2) {
        if (peers[k].pp.all) {
            assert_int_equal(rill_picker_peer_lost_all(&p), 0);
            seeds--;
        } else {
            assert_int_equal(rill_picker_peer_lost(&p, &peers[k].bf), 0);
            for (uint32_t i = 0; i < N; i++)
                avail[i] -= rill_bitfield_get(&peers[k].bf, i);
        }
    }
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(rill_picker_availability(&p, i), seeds + avail[i]);
    ok(&p);
    for (uint32_t k = 0; k < PEERS; k++)
        rill_bitfield_free(&peers[k].bf);
    free(peers);
    free(avail);
    rill_picker_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress),
        cmocka_unit_test(test_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
