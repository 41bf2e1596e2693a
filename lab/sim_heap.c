/* The simulator's event queue: a binary min-heap on (time, sequence), so
 * events at the same millisecond run in the order they were scheduled and a
 * run replays exactly. Events are never removed: re-arming a kind bumps the
 * peer's generation for it and the old event is skipped when it surfaces. */
#include <stdlib.h>

#include "sim_internal.h"

static bool before(const struct rill__sim_event *a, const struct rill__sim_event *b)
{
    return a->at_ms != b->at_ms ? a->at_ms < b->at_ms : a->seq < b->seq;
}

static void swap(struct rill__sim_event *a, struct rill__sim_event *b)
{
    struct rill__sim_event t = *a;
    *a = *b;
    *b = t;
}

int rill__sim_push(struct rill__sim *s, uint64_t at_ms, uint8_t kind, uint32_t peer)
{
    struct rill__sim_heap *h = &s->heap;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        struct rill__sim_event *v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            s->err = RILL_ENOMEM;
            return RILL_ENOMEM;
        }
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    h->v[i] = (struct rill__sim_event){.at_ms = at_ms,
                                       .seq = h->seq++,
                                       .peer = peer,
                                       .gen = s->peers[peer].gen[kind],
                                       .kind = kind};
    while (i > 0 && before(&h->v[i], &h->v[(i - 1) / 2])) {
        swap(&h->v[i], &h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return 0;
}

static void pop_top(struct rill__sim_heap *h)
{
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && before(&h->v[l], &h->v[m]))
            m = l;
        if (r < h->n && before(&h->v[r], &h->v[m]))
            m = r;
        if (m == i)
            return;
        swap(&h->v[i], &h->v[m]);
        i = m;
    }
}

bool rill__sim_pop(struct rill__sim *s, uint64_t until, struct rill__sim_event *out)
{
    struct rill__sim_heap *h = &s->heap;
    while (h->n > 0 && h->v[0].at_ms <= until) {
        *out = h->v[0];
        pop_top(h);
        if (out->gen == s->peers[out->peer].gen[out->kind])
            return true;
    }
    return false;
}

uint64_t rill__sim_next_at(const struct rill__sim *s)
{
    return s->heap.n ? s->heap.v[0].at_ms : UINT64_MAX;
}

void rill__sim_heap_free(struct rill__sim_heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
