/* Uploads: peers' requests are served from chunks of pieces (up to 256 KiB)
 * that a worker reads whole into a small per-torrent cache. A peer fetching
 * the 16 blocks of a piece costs one read and one worker wakeup instead of
 * sixteen, and peers fetching the same piece share the read; blocks leave
 * by reference into the chunk, never copied again in user space. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <limits.h>
#include <stdlib.h>

#include "io/conn.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "io/workers.h"

#define CHUNK (256u << 10)
#define CACHE_BYTES (4u << 20)   /* per torrent, besides blocks still queued */
#define MAX_LOADING 8            /* chunk reads in flight per torrent */
#define OUTPUT_HIGH (1u << 20)   /* queued bytes above which we stop serving a peer */

struct rill__chunk {
    struct rill_work work;           /* the read job, while loading */
    struct rill__chunk *prev, *next; /* the torrent's cache, most recent first */
    struct rill_torrent *t;          /* NULL once out of the cache */
    uint32_t piece, begin, len;
    unsigned refs;                   /* the cache's, and one per queued block */
    bool loading;
    int rc;
    uint8_t data[];
};

static void chunk_unref(struct rill__chunk *c)
{
    if (--c->refs == 0)
        free(c);
}

static void block_sent(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    chunk_unref(arg);
}

static void cache_unlink(struct rill_torrent *t, struct rill__chunk *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        t->chunks = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->t = NULL;
    t->chunk_bytes -= c->len;
}

static void cache_push_front(struct rill_torrent *t, struct rill__chunk *c)
{
    c->prev = NULL;
    c->next = t->chunks;
    if (t->chunks)
        t->chunks->prev = c;
    t->chunks = c;
    c->t = t;
    t->chunk_bytes += c->len;
}

/* Drops least recently used chunks until `room` more bytes fit. */
static void cache_evict(struct rill_torrent *t, uint64_t room)
{
    struct rill__chunk *c = t->chunks;
    while (c && c->next)
        c = c->next;
    while (c && t->chunk_bytes + room > CACHE_BYTES) {
        struct rill__chunk *prev = c->prev;
        if (!c->loading) {
            cache_unlink(t, c);
            chunk_unref(c);
        }
        c = prev;
    }
}

static struct rill__chunk *cache_find(struct rill_torrent *t, const struct rill_peer_req *r)
{
    for (struct rill__chunk *c = t->chunks; c; c = c->next)
        if (c->piece == r->piece && c->begin <= r->begin &&
            r->begin + r->length <= c->begin + c->len)
            return c;
    return NULL;
}

static void chunk_work(struct rill_work *w, unsigned worker)
{
    struct rill__chunk *c = (struct rill__chunk *)w;
    c->rc = rill_storage_read(c->t->storage[worker], c->piece, c->begin, c->data, c->len);
}

static void chunk_loaded(struct rill_work *w, bool cancelled)
{
    struct rill__chunk *c = (struct rill__chunk *)w;
    struct rill_torrent *t = c->t;
    rill__tick_now(t->s);
    t->jobs--;
    t->loading--;
    c->loading = false;
    if (cancelled || t->stopping || c->rc != 0) {
        if (!cancelled && !t->stopping)
            rill__torrent_fail(t, c->rc, "cannot read a piece we have");
        cache_unlink(t, c);
        chunk_unref(c);
    } else {
        for (struct rill__peer *p = t->peers, *next; p; p = next) {
            next = p->next;
            if (p->phase == RILL__ACTIVE && p->core.theirs.count > 0)
                rill__torrent_serve(t, p);
        }
        cache_evict(t, 0);
    }
    rill__torrent_maybe_free(t);
}

/* Starts reading the chunk that holds `r`: the aligned 256 KiB of its piece,
 * or exactly `r` if a peer asked for a span across that boundary. */
static int chunk_load(struct rill_torrent *t, const struct rill_peer_req *r)
{
    uint32_t size = rill_piece_size(t->mi, r->piece);
    uint32_t begin = r->begin / CHUNK * CHUNK;
    uint32_t len = size - begin < CHUNK ? size - begin : CHUNK;
    if (r->begin + r->length > begin + len) {
        begin = r->begin;
        len = r->length;
    }
    cache_evict(t, len);
    struct rill__chunk *c = malloc(sizeof *c + len);
    if (!c)
        return RILL_ENOMEM;
    *c = (struct rill__chunk){.piece = r->piece, .begin = begin, .len = len, .refs = 1,
                              .loading = true};
    c->work = (struct rill_work){.work = chunk_work, .done = chunk_loaded, .urgent = true};
    cache_push_front(t, c);
    t->jobs++;
    t->loading++;
    rill_workers_submit(t->s->workers, &c->work);
    return 0;
}

/* Takes `n` bytes from both buckets only if both have them: a block goes
 * whole or waits. */
static bool take_exact(struct rill_ratelimit *a, struct rill_ratelimit *b, uint64_t n,
                       uint64_t now)
{
    if (rill_ratelimit_available(a, now) < n || rill_ratelimit_available(b, now) < n)
        return false;
    rill_ratelimit_consume(a, n, now);
    rill_ratelimit_consume(b, n, now);
    return true;
}

static void send_block(struct rill_torrent *t, struct rill__peer *p, struct rill__chunk *c,
                       const struct rill_peer_req *r)
{
    struct rill_buf hdr;
    rill_buf_init(&hdr, RILL_WIRE_PIECE_HEADER_LEN);
    rill_wire_build_piece_header(&hdr, r->piece, r->begin, r->length);
    struct evbuffer *out = bufferevent_get_output(p->bev);
    evbuffer_add(out, hdr.data, hdr.len);
    rill_buf_free(&hdr);
    c->refs++;
    if (evbuffer_add_reference(out, c->data + (r->begin - c->begin), r->length, block_sent, c)) {
        c->refs--;
        rill__peer_close(p, "out of memory queueing a block");
        return;
    }
    p->last_sent = t->s->now;
    rill_rate_add(&p->up, r->length, t->s->now);
    rill_rate_add(&t->up, r->length, t->s->now);
    t->uploaded += r->length;
}

unsigned rill__torrent_serve_upto(struct rill_torrent *t, struct rill__peer *p, unsigned max_blocks)
{
    struct rill_session *s = t->s;
    unsigned sent = 0;
    while (sent < max_blocks && p->phase == RILL__ACTIVE && !t->stopping &&
           p->core.theirs.count > 0 && rill__peer_output_len(p) < OUTPUT_HIGH) {
        const struct rill_peer_req *head = &p->core.theirs.v[p->core.theirs.head];
        struct rill__chunk *c = cache_find(t, head);
        if (!c) {
            /* The peer is served again when a read finishes. */
            if (t->loading < MAX_LOADING && chunk_load(t, head) != 0)
                rill__torrent_fail(t, RILL_ENOMEM, "no memory to read a piece");
            return sent;
        }
        if (c->loading)
            return sent;
        uint64_t cost = (uint64_t)head->length + RILL_WIRE_PIECE_HEADER_LEN;
        if (!take_exact(&s->up_limit, &t->up_limit, cost, s->now)) {
            rill__torrent_wake_at(t, rill_ratelimit_next_time2(&s->up_limit, &t->up_limit, cost,
                                                               s->now));
            return sent;
        }
        if (c != t->chunks) {
            cache_unlink(t, c);
            cache_push_front(t, c);
        }
        struct rill_peer_req req;
        rill_peer_next_to_serve(&p->core, &req);
        send_block(t, p, c, &req);
        sent++;
    }
    return sent;
}

void rill__torrent_serve(struct rill_torrent *t, struct rill__peer *p)
{
    rill__torrent_serve_upto(t, p, UINT_MAX);
}

void rill__torrent_on_writable(struct rill_torrent *t, struct rill__peer *p)
{
    rill__torrent_serve(t, p);
}

void rill__upload_cache_free(struct rill_torrent *t)
{
    while (t->chunks) {
        struct rill__chunk *c = t->chunks;
        cache_unlink(t, c);
        chunk_unref(c);
    }
}
