/* The seeding side as a plain peer sees it: a raw BEP 3 client on a thread
 * asks a rill seed for blocks at awkward places (across the 256 KiB read
 * chunks of a large piece, across files, the short tail of the last piece,
 * a span inside one read before) and checks every byte it gets back. */
#include "testutil.h"
#include "swarm_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PIECE (1u << 20)

struct client {
    uint16_t port;
    const struct rill_metainfo *mi;
    const uint8_t *content;          /* the torrent's bytes, end to end */
    const uint32_t (*reqs)[3];       /* piece, begin, length */
    size_t nreqs;
    size_t matched;                  /* blocks that came back exact */
    const char *error;
    atomic_bool done;
};

static bool read_full(int fd, void *p, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (uint8_t *)p + got, n - got);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static bool write_full(int fd, const void *p, size_t n)
{
    return write(fd, p, n) == (ssize_t)n;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Reads one message into `msg` (id first); returns its length, 0 for a
 * keep-alive, -1 on error or one too large. */
static long read_msg(int fd, uint8_t *msg, size_t cap)
{
    uint8_t hdr[4];
    if (!read_full(fd, hdr, 4))
        return -1;
    uint32_t len = get32(hdr);
    if (len > cap || !read_full(fd, msg, len))
        return -1;
    return (long)len;
}

static const char *handshake(struct client *c, int fd)
{
    uint8_t hs[68] = {19};
    memcpy(hs + 1, "BitTorrent protocol", 19);
    memcpy(hs + 28, c->mi->info_hash, 20);
    memcpy(hs + 48, "-XX0000-rawclient123", 20);
    if (!write_full(fd, hs, sizeof hs))
        return "cannot send the handshake";
    uint8_t back[68];
    if (!read_full(fd, back, sizeof back) || memcmp(back + 28, c->mi->info_hash, 20) != 0)
        return "no handshake back for our info-hash";
    static const uint8_t interested[] = {0, 0, 0, 1, 2};
    if (!write_full(fd, interested, sizeof interested))
        return "cannot send interested";
    return NULL;
}

static const char *exchange(struct client *c, int fd, uint8_t *msg, size_t cap)
{
    const char *err = handshake(c, fd);
    if (err)
        return err;
    bool unchoked = false;
    while (!unchoked) {
        long n = read_msg(fd, msg, cap);
        if (n < 0)
            return "connection lost before unchoke";
        unchoked = n > 0 && msg[0] == 1;
    }
    for (size_t i = 0; i < c->nreqs; i++) {
        uint8_t req[17] = {0, 0, 0, 13, 6};
        put32(req + 5, c->reqs[i][0]);
        put32(req + 9, c->reqs[i][1]);
        put32(req + 13, c->reqs[i][2]);
        if (!write_full(fd, req, sizeof req))
            return "cannot send a request";
    }
    while (c->matched < c->nreqs) {
        long n = read_msg(fd, msg, cap);
        if (n < 0)
            return "connection lost before every block came";
        if (n < 9 || msg[0] != 7)
            continue; /* have, extended, allowed fast... */
        const uint32_t *want = c->reqs[c->matched];
        uint32_t piece = get32(msg + 1), begin = get32(msg + 5);
        if (piece != want[0] || begin != want[1] || (uint32_t)n - 9 != want[2])
            return "a block that was not the next one asked for";
        uint64_t at = (uint64_t)piece * c->mi->piece_length + begin;
        if (memcmp(msg + 9, c->content + at, want[2]) != 0)
            return "a block with wrong bytes";
        c->matched++;
    }
    return NULL;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(c->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint8_t *msg = malloc(64 << 10);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        c->error = "cannot connect to the seed";
    else
        c->error = exchange(c, fd, msg, 64 << 10);
    free(msg);
    close(fd);
    atomic_store(&c->done, true);
    return NULL;
}

struct poll_ctx {
    struct client *c;
    struct swarm *sw;
};

/* The client thread's end counts as the completion run_until waits for. */
static void poll_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct poll_ctx *pc = arg;
    if (atomic_load(&pc->c->done))
        pc->sw->completed = 1;
}

static void test_awkward_requests(void **state)
{
    (void)state;
    struct swarm sw;
    /* Three pieces of 1 MiB: piece 1 starts in file0 and ends in file1;
     * the last piece is 0x5432 + 1 bytes long. */
    const size_t sizes[] = {1500000, 2 * PIECE - 1500000 + 0x5433};
    swarm_init(&sw, PIECE, sizes, 2);
    assert_int_equal(sw.mi.piece_count, 3);
    uint8_t *content = malloc(sw.mi.total_size);
    for (size_t i = 0, at = 0; i < 2; at += sizes[i], i++)
        tu_fill(content + at, sizes[i], 100 + i);
    struct rill_torrent *st;
    struct rill_session *seed = swarm_seed(&sw, (struct rill_torrent_params){0}, &st);

    static const uint32_t reqs[][3] = {
        {0, 0, 16384},                   /* plain */
        {0, (256 << 10) - 100, 16384},   /* across a read chunk's end */
        {0, (256 << 10) - 50, 1000},     /* inside that span: from the cache */
        {1, 1500000 - PIECE - 7, 1000},  /* across the file boundary */
        {2, 0x5433 - 1000, 1000},        /* the end of the short last piece */
        {0, PIECE - 16384, 16384},       /* the end of a full piece */
        {1, 512 << 10, 16384},           /* a chunk in the middle */
    };
    struct client c = {.port = rill_session_port(seed), .mi = &sw.mi, .content = content,
                       .reqs = reqs, .nreqs = sizeof reqs / sizeof reqs[0]};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, client_main, &c), 0);
    struct poll_ctx pc = {.c = &c, .sw = &sw};
    struct event *ev = event_new(sw.base, -1, EV_PERSIST, poll_done, &pc);
    struct timeval every = {0, 20000};
    event_add(ev, &every);
    sw.completed = 0;
    run_until(&sw, 1, 20);
    event_free(ev);
    pthread_join(th, NULL);
    if (c.error)
        fail_msg("%s (after %zu good blocks)", c.error, c.matched);
    assert_int_equal(c.matched, sizeof reqs / sizeof reqs[0]);
    struct rill_torrent_stats stats;
    rill_torrent_stats(st, &stats);
    assert_true(stats.uploaded >= 16384 * 4 + 2000);
    swarm_free(&sw, seed);
    free(content);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_awkward_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
