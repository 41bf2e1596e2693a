/* loadgen's shared parts (see loadgen.c for what it does): options, the
 * generated world of torrents and peers, phases with their latency
 * histograms, and the two engines, UDP (loadgen_udp.c) and HTTP
 * (loadgen_http.c), that drive a phase against a tracker. */
#ifndef LOADGEN_H
#define LOADGEN_H

#define _GNU_SOURCE /* recvmmsg, sendmmsg; the header comes first in each file */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { SLOT_BITS = 12, SLOT_MASK = (1 << SLOT_BITS) - 1, BATCH = 64, PKT = 1536 };
enum { HBUF = 16384, HREQ = 2048, MAX_TRIES = 3, PORT_BASE = 10000 };
enum phase_kind { PH_REGISTER, PH_SCRAPE, PH_MEASURE };

struct opts {
    const char *mode, *label;
    struct sockaddr_in addr;
    char host[64];
    unsigned long torrents, peers, seconds, conns, window, numwant, timeout_ms;
    unsigned long seed, scrape_batch, max_seconds, pid, phase_limit;
};

struct peer {
    uint64_t left;
    uint32_t torrent;
    uint16_t port;
};

struct world {
    uint8_t (*hash)[20];
    struct peer *peer;
    uint32_t nt, np, used; /* used: torrents with at least one peer */
    uint64_t seeders;
};

/* Latency histogram in microseconds: exact below 1024, then 512 buckets per
 * power of two (0.2% resolution) up to 2^32. */
enum { H_LIN = 1024, H_SUB = 512, H_N = H_LIN + 22 * H_SUB };
struct hist {
    uint64_t c[H_N];
    uint64_t n, max, sum;
};

struct phase {
    enum phase_kind kind;
    const char *name;
    uint64_t total, next, done, inflight, nretry;
    uint64_t *retry;
    uint8_t *tries;
    uint64_t start_us, end_us, limit_us, stop_us;
    double tracker_cpu, self_cpu; /* CPU seconds, at the start then used */
    bool stop, counting;
    uint64_t sent, ok, errors, bad, timeouts, late, retries, failed, reconnects, connects;
    uint64_t peers_returned, sc_seeders, sc_leechers, sc_completed, sc_files, sc_used;
    uint64_t cap; /* most items in flight; 0: no cap */
    struct hist h;
};

struct uslot {
    uint64_t sent_us, item;
    uint32_t tid, old_tid;
    bool busy;
};

struct usock {
    int fd;
    bool have_id, connecting;
    uint64_t conn_id, conn_us, connect_sent_us, next_connect_us;
    uint32_t connect_tid, nfree;
    uint16_t *free;
    struct uslot *slot;
};

struct udp {
    struct usock *s;
    uint32_t n, window, seq;
    int ep;
    uint8_t *out, *in;
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
};

enum hstate { H_CLOSED, H_CONNECTING, H_OPEN };

struct hconn {
    int fd;
    enum hstate state;
    bool busy, closing; /* closing: the server said it closes; wait for EOF */
    uint8_t tries;
    uint64_t item, sent_us;
    size_t req_len, req_off, blen;
    uint8_t *buf;
    char req[HREQ];
};

struct http {
    struct hconn *c;
    uint32_t n;
    int ep;
};

extern const struct opts *g_o;
extern struct world g_w;

static inline uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static inline void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }
static inline uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

/* loadgen.c */
void *xcalloc(size_t n, size_t size);
void peer_id(uint8_t out[20], uint64_t i);
int world_init(struct world *w, uint32_t nt, uint32_t np, uint64_t seed);
void rss_kb(unsigned long pid, uint64_t *rss, uint64_t *hwm);
void ph_init(struct phase *ph, enum phase_kind kind, const char *name, uint64_t total);
void ph_free(struct phase *ph);
bool ph_take(struct phase *ph, uint64_t *item);
void ph_untake(struct phase *ph, uint64_t item);
void ph_finish(struct phase *ph, uint64_t item, bool ok, uint64_t sent_us, uint64_t now);
bool ph_tick(struct phase *ph, uint64_t now);
void ph_report(const struct phase *ph, const char *extra);
uint32_t chunk_range(uint64_t item, uint32_t *first);
void note_error(struct phase *ph, const char *what, const uint8_t *msg, size_t len);

/* loadgen_udp.c */
void udp_init(struct udp *u);
void udp_run(struct udp *u, struct phase *ph);

/* loadgen_http.c */
void http_init(struct http *h);
void http_run(struct http *h, struct phase *ph);

#endif
