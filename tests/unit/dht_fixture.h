/* A small DHT network on loopback for the node tests: nodes on one
 * event_base, a loop run in slices until a condition or a deadline, and a
 * get_peers/announce result holder. Include after testutil.h. */
#ifndef RILL_TESTS_DHT_FIXTURE_H
#define RILL_TESTS_DHT_FIXTURE_H

#include <event2/event.h>
#include <string.h>

#include "rill.h"

#define DHT_NET_MAX 8
#define DHT_NET_DEADLINE_S 10

struct net {
    struct event_base *base;
    struct rill_dht *node[DHT_NET_MAX];
    struct event *deadline;
    bool timed_out;
};

struct found {
    bool done;
    size_t n;
    struct rill_peer_addr peers[RILL_DHT_VALUES_MAX];
};

static void net_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct net *w = arg;
    w->timed_out = true;
    event_base_loopbreak(w->base);
}

/* An empty network with its deadline armed. */
static inline void net_init(struct net *w)
{
    memset(w, 0, sizeof *w);
    w->base = event_base_new();
    assert_non_null(w->base);
    w->deadline = evtimer_new(w->base, net_on_deadline, w);
    struct timeval tv = {DHT_NET_DEADLINE_S, 0};
    evtimer_add(w->deadline, &tv);
}

static inline void net_down(struct net *w)
{
    for (int i = 0; i < DHT_NET_MAX; i++)
        rill_dht_free(w->node[i]);
    event_free(w->deadline);
    event_base_free(w->base);
}

/* Runs the loop in short slices until cond(arg) or the deadline. */
static inline void run_until(struct net *w, bool (*cond)(void *), void *arg)
{
    while (!w->timed_out && !cond(arg)) {
        struct timeval slice = {0, 20000};
        event_base_loopexit(w->base, &slice);
        event_base_dispatch(w->base);
    }
    assert_false(w->timed_out);
}

static inline bool none_bootstrapping(void *arg)
{
    struct net *w = arg;
    for (int i = 0; i < DHT_NET_MAX; i++)
        if (w->node[i] && rill_dht_bootstrapping(w->node[i]))
            return false;
    return true;
}

static inline void on_peers(void *ctx, const struct rill_peer_addr *peers, size_t n, bool done)
{
    struct found *f = ctx;
    if (!done)
        return;
    f->done = true;
    f->n = n;
    memcpy(f->peers, peers, n * sizeof *peers);
}

static inline bool found_done(void *arg)
{
    return ((struct found *)arg)->done;
}

#endif
