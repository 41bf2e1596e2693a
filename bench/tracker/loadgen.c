/* loadgen: a load generator for BitTorrent trackers (bench/tracker).
 *
 *   loadgen udp|http 127.0.0.1:PORT [options]   register, scrape, measure
 *   loadgen hashes [--torrents N] [--seed S]    the info-hashes, hex, one a line
 *
 * A seeded, reproducible set of N torrents and M peers; peer i announces to
 * one torrent from 127.0.0.1 with its own port (unique within its torrent,
 * since trackers key peers by address and port) and peer id. Three phases:
 * "register" (every peer announces once, event=started, retried up to 3
 * times), "scrape" (every torrent scraped, to check that the tracker counts
 * M peers) and "measure" (re-announces for --seconds, as fast as the window
 * lets). One JSON line per phase on stdout, then a human line.
 * Single-threaded, only libc (epoll); bounded in count (caps on every
 * option) and in time (each phase has a deadline; alarm() backs them up). */
#define _GNU_SOURCE
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

static const struct opts *g_o;
static struct world g_w;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(2);
    }
    return p;
}

/* Peer i's 20-byte id: a fixed client prefix and i in 12 hex digits. */
static void peer_id(uint8_t out[20], uint64_t i)
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "-LG0001-", 8);
    for (int k = 0; k < 12; k++) out[19 - k] = (uint8_t)hex[(i >> (4 * k)) & 15];
}

/* The torrents and peers from the seed. A peer's port is PORT_BASE plus its
 * rank within its torrent, so (torrent, address, port) is unique; about 20%
 * of peers are seeders (left=0). */
static int world_init(struct world *w, uint32_t nt, uint32_t np, uint64_t seed)
{
    uint64_t s = seed;
    uint32_t *rank = xcalloc(nt, sizeof *rank);
    w->nt = nt;
    w->np = np;
    w->hash = xcalloc(nt, sizeof *w->hash);
    w->peer = xcalloc(np, sizeof *w->peer);
    for (uint32_t t = 0; t < nt; t++)
        for (int k = 0; k < 20; k += 4) put32(w->hash[t] + k, (uint32_t)splitmix(&s));
    for (uint32_t i = 0; i < np; i++) {
        uint32_t t = (uint32_t)(splitmix(&s) % nt);
        while (rank[t] >= 65535 - PORT_BASE) t = (t + 1) % nt;
        w->peer[i].torrent = t;
        w->peer[i].port = (uint16_t)(PORT_BASE + rank[t]++);
        uint64_t r = splitmix(&s);
        w->peer[i].left = r % 5 == 0 ? 0 : 1 + (r >> 8) % (1u << 30);
        w->seeders += w->peer[i].left == 0;
    }
    for (uint32_t t = 0; t < nt; t++) w->used += rank[t] > 0;
    free(rank);
    return 0;
}

/* ------------------------------------------------------------- statistics */

static void hist_add(struct hist *h, uint64_t v)
{
    size_t i = v;
    if (v >= H_LIN) {
        if (v > UINT32_MAX) v = UINT32_MAX;
        int b = 63 - __builtin_clzll(v);
        i = H_LIN + (size_t)(b - 10) * H_SUB + ((v >> (b - 9)) & (H_SUB - 1));
    }
    h->c[i]++;
    h->n++;
    h->sum += v;
    if (v > h->max) h->max = v;
}

/* The q-quantile in milliseconds (the middle of its bucket). */
static double hist_q(const struct hist *h, double q)
{
    if (!h->n) return 0;
    uint64_t want = (uint64_t)(q * (double)h->n + 0.999999), acc = 0;
    for (size_t i = 0; i < H_N; i++) {
        acc += h->c[i];
        if (acc < want || !h->c[i]) continue;
        if (i < H_LIN) return (double)i / 1000.0;
        size_t k = i - H_LIN, b = k / H_SUB + 10, sub = k % H_SUB;
        double lo = (double)((H_SUB + sub) << (b - 9)), width = (double)(1u << (b - 9));
        return (lo + width / 2) / 1000.0;
    }
    return (double)h->max / 1000.0;
}

/* CPU seconds used by process pid (utime + stime), or by this one (pid 0). */
static double cpu_s(unsigned long pid)
{
    char path[64], line[1024];
    if (!pid) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    snprintf(path, sizeof path, "/proc/%lu/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(line, 1, sizeof line - 1, f) : 0;
    if (f) fclose(f);
    line[n] = 0;
    char *p = strrchr(line, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void rss_kb(unsigned long pid, uint64_t *rss, uint64_t *hwm)
{
    char path[64], line[256];
    *rss = *hwm = 0;
    if (!pid) return;
    snprintf(path, sizeof path, "/proc/%lu/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) *rss = strtoull(line + 6, NULL, 10);
        if (!strncmp(line, "VmHWM:", 6)) *hwm = strtoull(line + 6, NULL, 10);
    }
    fclose(f);
}

/* ----------------------------------------------------------------- phases */

static void ph_init(struct phase *ph, enum phase_kind kind, const char *name, uint64_t total)
{
    memset(ph, 0, sizeof *ph);
    ph->kind = kind;
    ph->name = name;
    ph->total = total;
    ph->counting = true;
    if (kind != PH_MEASURE) {
        ph->retry = xcalloc(total, sizeof *ph->retry);
        ph->tries = xcalloc(total, 1);
    }
    ph->tracker_cpu = cpu_s(g_o->pid);
    ph->self_cpu = cpu_s(0);
    ph->start_us = now_us();
    ph->limit_us = ph->start_us + g_o->phase_limit * 1000000u;
    if (kind == PH_MEASURE) ph->limit_us = ph->start_us + g_o->seconds * 1000000u;
}

static void ph_free(struct phase *ph)
{
    free(ph->retry);
    free(ph->tries);
}

/* The next item to send (a peer, or a chunk of torrents to scrape). */
static bool ph_take(struct phase *ph, uint64_t *item)
{
    if (ph->stop || (ph->cap && ph->inflight >= ph->cap)) return false;
    if (ph->kind == PH_MEASURE)
        *item = ph->next++ % g_w.np;
    else if (ph->nretry)
        *item = ph->retry[--ph->nretry];
    else if (ph->next < ph->total)
        *item = ph->next++;
    else
        return false;
    ph->inflight++;
    if (ph->counting) ph->sent++;
    return true;
}

/* An item taken but never sent goes back without using up a try. */
static void ph_untake(struct phase *ph, uint64_t item)
{
    ph->inflight--;
    if (ph->counting) ph->sent--;
    if (ph->kind != PH_MEASURE) ph->retry[ph->nretry++] = item;
}

/* An item is answered (ok) or failed; register and scrape retry failures. */
static void ph_finish(struct phase *ph, uint64_t item, bool ok, uint64_t sent_us, uint64_t now)
{
    ph->inflight--;
    if (ok && ph->counting) {
        ph->ok++;
        hist_add(&ph->h, now - sent_us);
    }
    if (ph->kind == PH_MEASURE) return;
    if (!ok && ph->tries[item] < MAX_TRIES) {
        ph->tries[item]++;
        ph->retry[ph->nretry++] = item;
        ph->retries++;
        return;
    }
    ph->done++;
    ph->failed += !ok;
}

/* Decides, once per loop turn, whether the phase stops sending; true once
 * it is over (stopped and nothing in flight). */
static bool ph_tick(struct phase *ph, uint64_t now)
{
    bool finished = ph->kind != PH_MEASURE && ph->done == ph->total;
    if (!ph->stop && (finished || now >= ph->limit_us)) {
        ph->stop = true;
        ph->stop_us = now;
        ph->end_us = now;
        ph->tracker_cpu = g_o->pid ? cpu_s(g_o->pid) - ph->tracker_cpu : 0;
        ph->self_cpu = cpu_s(0) - ph->self_cpu;
        if (ph->kind == PH_MEASURE) ph->counting = false;
    }
    return ph->stop && ph->inflight == 0;
}

static void ph_report(const struct phase *ph, const char *extra)
{
    const struct opts *o = g_o;
    double secs = (double)(ph->end_us - ph->start_us) / 1e6;
    if (secs <= 0) secs = 1e-6;
    double p50 = hist_q(&ph->h, 0.50), p99 = hist_q(&ph->h, 0.99);
    double mean = ph->h.n ? (double)ph->h.sum / (double)ph->h.n / 1000.0 : 0;
    double ppr = ph->ok ? (double)ph->peers_returned / (double)ph->ok : 0;
    printf("{\"label\":\"%s\",\"mode\":\"%s\",\"phase\":\"%s\",\"torrents\":%lu,\"peers\":%lu,"
           "\"conns\":%lu,\"window\":%lu,\"seconds\":%.3f,\"sent\":%llu,\"replies\":%llu,"
           "\"req_per_s\":%.0f,\"replies_per_s\":%.0f,\"errors\":%llu,\"bad\":%llu,"
           "\"timeouts\":%llu,\"late\":%llu,\"retries\":%llu,\"failed\":%llu,\"connects\":%llu,"
           "\"reconnects\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"mean_ms\":%.3f,\"max_ms\":%.3f,"
           "\"peers_per_reply\":%.2f,\"tracker_cpu\":%.2f,\"loadgen_cpu\":%.2f%s}\n",
           o->label, o->mode, ph->name, o->torrents, o->peers, o->conns,
           strcmp(o->mode, "udp") ? 1ul : o->window, secs, (unsigned long long)ph->sent,
           (unsigned long long)ph->ok, (double)ph->sent / secs, (double)ph->ok / secs,
           (unsigned long long)ph->errors, (unsigned long long)ph->bad,
           (unsigned long long)ph->timeouts, (unsigned long long)ph->late,
           (unsigned long long)ph->retries, (unsigned long long)ph->failed,
           (unsigned long long)ph->connects, (unsigned long long)ph->reconnects, p50, p99, mean,
           (double)ph->h.max / 1000.0, ppr, ph->tracker_cpu / secs, ph->self_cpu / secs, extra);
    printf("loadgen: %s %s %-8s %8.0f replies/s (%.0f sent/s) in %.2f s, p50 %.3f ms, p99 %.3f "
           "ms, errors %llu, bad %llu, timeouts %llu, failed %llu\n",
           o->label, o->mode, ph->name, (double)ph->ok / secs, (double)ph->sent / secs, secs, p50,
           p99, (unsigned long long)ph->errors, (unsigned long long)ph->bad,
           (unsigned long long)ph->timeouts, (unsigned long long)ph->failed);
    fflush(stdout);
}

/* Torrents [first, first + count) of scrape chunk `item`. */
static uint32_t chunk_range(uint64_t item, uint32_t *first)
{
    uint64_t f = item * g_o->scrape_batch, n = g_w.nt - f;
    *first = (uint32_t)f;
    return (uint32_t)(n < g_o->scrape_batch ? n : g_o->scrape_batch);
}

/* Prints the first few error messages from the tracker, once each phase. */
static void note_error(struct phase *ph, const char *what, const uint8_t *msg, size_t len)
{
    ph->errors++;
    if (ph->errors > 3) return;
    if (len > 200) len = 200;
    fprintf(stderr, "loadgen: %s %s error: %.*s\n", g_o->label, what, (int)len, (const char *)msg);
}

/* -------------------------------------------------------------------- UDP */

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

static uint32_t udp_tid(struct udp *u, uint32_t slot)
{
    return (u->seq++ << SLOT_BITS) | slot;
}

/* A BEP 15 announce (98 bytes) for peer i. */
static size_t udp_announce(uint8_t *p, uint64_t cid, uint32_t tid, uint64_t i, uint32_t event)
{
    const struct peer *pe = &g_w.peer[i];
    put64(p, cid);
    put32(p + 8, 1);
    put32(p + 12, tid);
    memcpy(p + 16, g_w.hash[pe->torrent], 20);
    peer_id(p + 36, i);
    put64(p + 56, 0);
    put64(p + 64, pe->left);
    put64(p + 72, 0);
    put32(p + 80, event);
    put32(p + 84, 0);
    put32(p + 88, (uint32_t)i);
    put32(p + 92, (uint32_t)g_o->numwant);
    put16(p + 96, pe->port);
    return 98;
}

static size_t udp_scrape(uint8_t *p, uint64_t cid, uint32_t tid, uint64_t item)
{
    uint32_t first, n = chunk_range(item, &first);
    put64(p, cid);
    put32(p + 8, 2);
    put32(p + 12, tid);
    for (uint32_t k = 0; k < n; k++) memcpy(p + 16 + 20 * k, g_w.hash[first + k], 20);
    return 16 + 20 * (size_t)n;
}

/* Sends a connect when the socket has no id, or one 60 s old (the old id
 * stays in use until the new one arrives). */
static void udp_maybe_connect(struct udp *u, struct usock *s, uint64_t now)
{
    bool old = s->have_id && now - s->conn_us > 60000000u;
    if ((s->have_id && !old) || s->connecting || now < s->next_connect_us) return;
    uint8_t p[16];
    put64(p, 0x41727101980u);
    put32(p + 8, 0);
    s->connect_tid = udp_tid(u, SLOT_MASK);
    put32(p + 12, s->connect_tid);
    if (send(s->fd, p, sizeof p, 0) == (ssize_t)sizeof p) {
        s->connecting = true;
        s->connect_sent_us = now;
    }
}

/* Fills socket s's window with requests, in batches of sendmmsg. */
static void udp_fill(struct udp *u, struct usock *s, struct phase *ph, uint64_t now)
{
    udp_maybe_connect(u, s, now);
    while (s->have_id && s->nfree) {
        uint32_t nb = 0, idx[BATCH];
        uint64_t item;
        while (nb < BATCH && s->nfree && ph_take(ph, &item)) {
            uint32_t k = s->free[--s->nfree];
            struct uslot *sl = &s->slot[k];
            uint8_t *p = u->out + (size_t)nb * PKT;
            sl->tid = udp_tid(u, k);
            sl->item = item;
            sl->sent_us = now;
            sl->busy = true;
            size_t len = ph->kind == PH_SCRAPE
                             ? udp_scrape(p, s->conn_id, sl->tid, item)
                             : udp_announce(p, s->conn_id, sl->tid, item,
                                            ph->kind == PH_REGISTER ? 2 : 0);
            u->iov[nb] = (struct iovec){p, len};
            u->mm[nb].msg_hdr = (struct msghdr){.msg_iov = &u->iov[nb], .msg_iovlen = 1};
            idx[nb++] = k;
        }
        if (!nb) return;
        int r = sendmmsg(s->fd, u->mm, nb, 0);
        uint32_t sent = r < 0 ? 0 : (uint32_t)r;
        for (uint32_t j = sent; j < nb; j++) { /* the socket buffer is full */
            s->slot[idx[j]].busy = false;
            s->free[s->nfree++] = (uint16_t)idx[j];
            ph_untake(ph, s->slot[idx[j]].item);
        }
        if (sent < nb) return;
    }
}

/* Checks an announce or scrape reply's size and counts; true if valid. */
static bool udp_valid(struct phase *ph, const uint8_t *p, size_t n, uint64_t item)
{
    uint32_t action = get32(p);
    if (ph->kind != PH_SCRAPE) {
        if (action != 1 || n < 20 || (n - 20) % 6 || (n - 20) / 6 > g_o->numwant) return false;
        if (ph->counting) ph->peers_returned += (n - 20) / 6;
        return true;
    }
    uint32_t first, count = chunk_range(item, &first);
    if (action != 2 || n != 8 + 12 * (size_t)count) return false;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t seeders = get32(p + 8 + 12 * k), leechers = get32(p + 16 + 12 * k);
        ph->sc_seeders += seeders;
        ph->sc_completed += get32(p + 12 + 12 * k);
        ph->sc_leechers += leechers;
        ph->sc_used += seeders + leechers > 0;
    }
    ph->sc_files += count;
    return true;
}

static void udp_packet(struct udp *u, struct usock *s, struct phase *ph, const uint8_t *p,
                       size_t n, uint64_t now)
{
    if (n < 8) {
        ph->bad++;
        return;
    }
    uint32_t action = get32(p), tid = get32(p + 4), k = tid & SLOT_MASK;
    if (s->connecting && tid == s->connect_tid) {
        s->connecting = false;
        if (action == 0 && n >= 16) {
            s->conn_id = get64(p + 8);
            s->have_id = true;
            s->conn_us = now;
            ph->connects++;
        } else {
            s->next_connect_us = now + 100000u;
            if (action == 3) note_error(ph, "connect", p + 8, n - 8);
            else ph->bad++;
        }
        return;
    }
    struct uslot *sl = k < u->window ? &s->slot[k] : NULL;
    if (!sl || !sl->busy || sl->tid != tid) {
        if (sl && sl->old_tid == tid) ph->late++;
        else ph->bad++;
        return;
    }
    sl->busy = false;
    s->free[s->nfree++] = (uint16_t)k;
    bool ok = udp_valid(ph, p, n, sl->item);
    if (!ok && action == 3) {
        note_error(ph, ph->name, p + 8, n - 8);
        /* "Reconnect when told": an error may mean a stale connection id. */
        if (now - s->conn_us > 5000000u) s->conn_us = 0;
    } else if (!ok) {
        ph->bad++;
    }
    ph_finish(ph, sl->item, ok, sl->sent_us, now);
}

static void udp_drain(struct udp *u, struct usock *s, struct phase *ph, uint64_t now)
{
    for (;;) {
        for (int j = 0; j < BATCH; j++) {
            u->iov[j] = (struct iovec){u->in + (size_t)j * PKT, PKT};
            u->mm[j].msg_hdr = (struct msghdr){.msg_iov = &u->iov[j], .msg_iovlen = 1};
        }
        int r = recvmmsg(s->fd, u->mm, BATCH, MSG_DONTWAIT, NULL);
        if (r <= 0) return;
        for (int j = 0; j < r; j++)
            udp_packet(u, s, ph, u->in + (size_t)j * PKT, u->mm[j].msg_len, now);
        if (r < BATCH) return;
    }
}

/* Requests older than the timeout fail (and their late replies are
 * recognised); so does a connect. */
static void udp_expire(struct udp *u, struct phase *ph, uint64_t now)
{
    uint64_t to = g_o->timeout_ms * 1000u;
    for (uint32_t i = 0; i < u->n; i++) {
        struct usock *s = &u->s[i];
        if (s->connecting && now - s->connect_sent_us > to) {
            s->connecting = false;
            ph->timeouts++;
        }
        for (uint32_t k = 0; k < u->window; k++) {
            struct uslot *sl = &s->slot[k];
            if (!sl->busy || now - sl->sent_us <= to) continue;
            sl->busy = false;
            sl->old_tid = sl->tid;
            s->free[s->nfree++] = (uint16_t)k;
            ph->timeouts++;
            ph_finish(ph, sl->item, false, 0, now);
        }
    }
}

static void udp_init(struct udp *u)
{
    memset(u, 0, sizeof *u);
    u->n = (uint32_t)g_o->conns;
    u->window = (uint32_t)g_o->window;
    u->seq = (uint32_t)g_o->seed * 7919u;
    u->s = xcalloc(u->n, sizeof *u->s);
    u->out = xcalloc(BATCH, PKT);
    u->in = xcalloc(BATCH, PKT);
    u->ep = epoll_create1(EPOLL_CLOEXEC);
    for (uint32_t i = 0; i < u->n; i++) {
        struct usock *s = &u->s[i];
        int big = 4 << 20;
        s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        if (s->fd < 0 || connect(s->fd, (const struct sockaddr *)&g_o->addr, sizeof g_o->addr)) {
            perror("loadgen: udp socket");
            exit(2);
        }
        s->slot = xcalloc(u->window, sizeof *s->slot);
        s->free = xcalloc(u->window, sizeof *s->free);
        for (uint32_t k = 0; k < u->window; k++) s->free[s->nfree++] = (uint16_t)(u->window - 1 - k);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(u->ep, EPOLL_CTL_ADD, s->fd, &ev);
    }
}

static void udp_run(struct udp *u, struct phase *ph)
{
    struct epoll_event ev[64];
    uint64_t last_expire = 0;
    for (;;) {
        uint64_t now = now_us();
        if (ph_tick(ph, now)) return;
        for (uint32_t i = 0; i < u->n; i++) udp_fill(u, &u->s[i], ph, now);
        int n = epoll_wait(u->ep, ev, 64, 5);
        now = now_us();
        for (int j = 0; j < n; j++) udp_drain(u, &u->s[ev[j].data.u32], ph, now);
        if (now - last_expire > 10000u) {
            udp_expire(u, ph, now);
            last_expire = now;
        }
    }
}

/* ------------------------------------------------------------ HTTP bodies */

/* Minimal bencode readers over (p, n) from *off; false when malformed. */
static bool b_str(const uint8_t *p, size_t n, size_t *off, const uint8_t **s, size_t *len)
{
    size_t i = *off, v = 0;
    if (i >= n || p[i] < '0' || p[i] > '9') return false;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (v > 100000000) return false;
        v = v * 10 + (size_t)(p[i] - '0');
    }
    if (i >= n || p[i] != ':' || n - i - 1 < v) return false;
    *s = p + i + 1;
    *len = v;
    *off = i + 1 + v;
    return true;
}

static bool b_int(const uint8_t *p, size_t n, size_t *off, int64_t *out)
{
    size_t i = *off + 1;
    int64_t v = 0, sign = 1;
    if (*off >= n || p[*off] != 'i') return false;
    if (i < n && p[i] == '-') sign = -1, i++;
    size_t digits = i;
    for (; i < n && p[i] >= '0' && p[i] <= '9' && i - digits < 18; i++) v = v * 10 + (p[i] - '0');
    if (i == digits || i >= n || p[i] != 'e') return false;
    *out = sign * v;
    *off = i + 1;
    return true;
}

static bool b_skip(const uint8_t *p, size_t n, size_t *off, int depth)
{
    const uint8_t *s;
    size_t len;
    int64_t v;
    if (*off >= n || depth > 32) return false;
    if (p[*off] == 'i') return b_int(p, n, off, &v);
    if (p[*off] != 'l' && p[*off] != 'd') return b_str(p, n, off, &s, &len);
    bool dict = p[(*off)++] == 'd';
    while (*off < n && p[*off] != 'e') {
        if (dict && !b_str(p, n, off, &s, &len)) return false;
        if (!b_skip(p, n, off, depth + 1)) return false;
    }
    return *off < n && p[(*off)++] == 'e';
}

static bool key_is(const uint8_t *k, size_t len, const char *name)
{
    return len == strlen(name) && !memcmp(k, name, len);
}

/* An announce reply: a dict with an interval and a compact (or listed)
 * peer list of at most numwant peers; 1 ok, 0 failure reason, -1 bad. */
static int http_announce_body(struct phase *ph, const uint8_t *p, size_t n)
{
    size_t off = 1, klen, vlen, npeers = 0;
    const uint8_t *k, *v;
    bool have_interval = false, have_peers = false;
    int64_t iv;
    if (!n || p[0] != 'd') return -1;
    while (off < n && p[off] != 'e') {
        if (!b_str(p, n, &off, &k, &klen) || off >= n) return -1;
        size_t val = off;
        if (key_is(k, klen, "failure reason") && b_str(p, n, &off, &v, &vlen)) {
            note_error(ph, "announce", v, vlen);
            return 0;
        }
        if (key_is(k, klen, "interval") && b_int(p, n, &off, &iv) && iv > 0) {
            have_interval = true;
        } else if (key_is(k, klen, "peers") && p[off] != 'l' && b_str(p, n, &off, &v, &vlen)) {
            have_peers = vlen % 6 == 0;
            npeers = vlen / 6;
        } else if (key_is(k, klen, "peers") && p[off] == 'l') {
            for (off++; off < n && p[off] != 'e'; npeers++)
                if (!b_skip(p, n, &off, 1)) return -1;
            have_peers = off++ < n;
        } else {
            off = val;
            if (!b_skip(p, n, &off, 1)) return -1;
        }
    }
    if (!have_interval || !have_peers || npeers > g_o->numwant) return -1;
    if (ph->counting) ph->peers_returned += npeers;
    return 1;
}

/* A scrape reply: d5:filesd<hash>d8:completei..e10:incompletei..e...eee,
 * with at most `want` files (opentracker leaves out torrents it does not
 * know). Counts are added only when the whole reply is valid. */
static int http_scrape_body(struct phase *ph, const uint8_t *p, size_t n, uint32_t want)
{
    size_t off = 1, klen;
    const uint8_t *k;
    uint64_t sum[3] = {0, 0, 0}, files = 0, used = 0;
    if (!n || p[0] != 'd') return -1;
    while (off < n && p[off] != 'e') {
        if (!b_str(p, n, &off, &k, &klen) || off >= n) return -1;
        if (!key_is(k, klen, "files") || p[off] != 'd') {
            if (!b_skip(p, n, &off, 1)) return -1;
            continue;
        }
        for (off++; off < n && p[off] != 'e'; files++) {
            uint64_t before = sum[0] + sum[1];
            if (!b_str(p, n, &off, &k, &klen) || klen != 20 || off >= n || p[off++] != 'd')
                return -1;
            while (off < n && p[off] != 'e') {
                int64_t v = 0;
                if (!b_str(p, n, &off, &k, &klen) || off >= n) return -1;
                if (p[off] != 'i') {
                    if (!b_skip(p, n, &off, 2)) return -1;
                    continue;
                }
                if (!b_int(p, n, &off, &v) || v < 0) return -1;
                int slot = key_is(k, klen, "complete")     ? 0
                           : key_is(k, klen, "incomplete") ? 1
                           : key_is(k, klen, "downloaded") ? 2
                                                           : -1;
                if (slot >= 0) sum[slot] += (uint64_t)v;
            }
            used += sum[0] + sum[1] > before;
            off++;
        }
        off++;
    }
    if (off > n || files > want) return -1;
    ph->sc_seeders += sum[0];
    ph->sc_leechers += sum[1];
    ph->sc_completed += sum[2];
    ph->sc_files += files;
    ph->sc_used += used;
    return 1;
}

/* ------------------------------------------------------------------- HTTP */

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

static size_t pct(char *out, const uint8_t *b, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t k = 0; k < n; k++) {
        out[3 * k] = '%';
        out[3 * k + 1] = hex[b[k] >> 4];
        out[3 * k + 2] = hex[b[k] & 15];
    }
    return 3 * n;
}

/* The request for an item into out (HREQ bytes; scrape_batch <= 20 keeps
 * a scrape under 1,500 bytes). */
static size_t http_request(char *out, const struct phase *ph, uint64_t item)
{
    size_t len;
    if (ph->kind == PH_SCRAPE) {
        uint32_t first, n = chunk_range(item, &first);
        len = (size_t)snprintf(out, HREQ, "GET /scrape");
        for (uint32_t k = 0; k < n; k++) {
            len += (size_t)snprintf(out + len, HREQ - len, "%cinfo_hash=", k ? '&' : '?');
            len += pct(out + len, g_w.hash[first + k], 20);
        }
    } else {
        const struct peer *pe = &g_w.peer[item];
        uint8_t id[20];
        peer_id(id, item);
        len = (size_t)snprintf(out, HREQ, "GET /announce?info_hash=");
        len += pct(out + len, g_w.hash[pe->torrent], 20);
        len += (size_t)snprintf(out + len, HREQ - len,
                                "&peer_id=%.20s&port=%u&uploaded=0&downloaded=0&left=%llu"
                                "&compact=1&numwant=%lu%s",
                                (const char *)id, pe->port, (unsigned long long)pe->left,
                                g_o->numwant, ph->kind == PH_REGISTER ? "&event=started" : "");
    }
    len += (size_t)snprintf(out + len, HREQ - len,
                            " HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n", g_o->host);
    return len < HREQ ? len : HREQ - 1;
}

static size_t header_num(const uint8_t *v, const uint8_t *end)
{
    size_t n = 0;
    while (v < end && *v == ' ') v++;
    if (v == end || *v < '0' || *v > '9') return SIZE_MAX;
    for (; v < end && *v >= '0' && *v <= '9' && n < HBUF; v++) n = n * 10 + (size_t)(*v - '0');
    return n;
}

/* Whether b holds a whole response: 1 (sets total length, body offset,
 * status, and whether the server closes after it), 0 when more is needed,
 * -1 when malformed or too big. Without Content-Length, the body ends at EOF. */
static int http_parse(const uint8_t *b, size_t n, bool eof, size_t *total, size_t *body,
                      int *status, bool *closes)
{
    const uint8_t *end = memmem(b, n, "\r\n\r\n", 4);
    if (!end) return n >= HBUF || (eof && n) ? -1 : 0;
    size_t hlen = (size_t)(end - b) + 4, clen = SIZE_MAX;
    if (hlen < 16 || memcmp(b, "HTTP/1.", 7) || b[8] != ' ') return -1;
    *status = (int)header_num(b + 9, b + 12);
    *closes = b[7] == '0';
    for (const uint8_t *l = memchr(b, '\n', hlen) + 1; l < end;) {
        const uint8_t *e = memchr(l, '\r', (size_t)(end + 1 - l));
        size_t ll = (size_t)(e - l);
        if (ll > 15 && !strncasecmp((const char *)l, "content-length:", 15))
            clen = header_num(l + 15, e);
        if (ll > 11 && !strncasecmp((const char *)l, "connection:", 11))
            *closes = memmem(l, ll, "lose", 4) != NULL; /* close, Close */
        l = e + 2;
    }
    if (clen == SIZE_MAX && !eof) return 0;
    if (clen == SIZE_MAX) clen = n - hlen;
    if (clen >= HBUF - hlen) return -1;
    if (n - hlen < clen) return eof ? -1 : 0;
    *body = hlen;
    *total = hlen + clen;
    return 1;
}

static void http_close(struct hconn *c, bool reset)
{
    if (c->fd < 0) return;
    if (reset) { /* an RST leaves no TIME_WAIT on our side */
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    c->fd = -1;
    c->state = H_CLOSED;
    c->blen = 0;
    c->closing = false;
}

static bool http_open(struct http *h, uint32_t i, struct phase *ph)
{
    struct hconn *c = &h->c[i];
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return false;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(c->fd, (const struct sockaddr *)&g_o->addr, sizeof g_o->addr);
    if (r < 0 && errno != EINPROGRESS) {
        http_close(c, false);
        return false;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u32 = i};
    epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->state = r == 0 ? H_OPEN : H_CONNECTING;
    ph->connects++;
    return true;
}

/* Writes what is left of the request; false when the connection is gone. */
static bool http_write(struct hconn *c)
{
    while (c->req_off < c->req_len) {
        ssize_t r = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (r > 0) c->req_off += (size_t)r;
        else if (!(r < 0 && errno == EINTR)) return r < 0 && errno == EAGAIN;
    }
    return true;
}

static void http_fail(struct hconn *c, struct phase *ph, uint64_t now)
{
    c->busy = false;
    ph_finish(ph, c->item, false, 0, now);
}

static void http_send(struct http *h, uint32_t i, struct phase *ph, uint64_t now);

/* The connection ended before a whole reply. With nothing of it read, the
 * server closed a kept-alive connection (opentracker closes after every
 * reply): the request goes again on a new one, up to MAX_TRIES times. */
static void http_lost(struct http *h, uint32_t i, struct phase *ph, uint64_t now)
{
    struct hconn *c = &h->c[i];
    bool partial = c->blen > 0;
    http_close(c, false);
    if (!c->busy) return;
    if (!partial && c->tries++ < MAX_TRIES) {
        ph->reconnects++;
        http_send(h, i, ph, now);
        return;
    }
    ph->bad += partial;
    ph->errors += !partial;
    http_fail(c, ph, now);
}

/* Sends the connection's request: on its open connection, or a new one. */
static void http_send(struct http *h, uint32_t i, struct phase *ph, uint64_t now)
{
    struct hconn *c = &h->c[i];
    c->req_off = 0;
    if (c->fd < 0 && !http_open(h, i, ph)) {
        ph->errors++;
        http_fail(c, ph, now);
    } else if (c->state == H_OPEN && !http_write(c)) {
        http_lost(h, i, ph, now);
    }
}

static void http_start(struct http *h, uint32_t i, struct phase *ph, uint64_t now)
{
    struct hconn *c = &h->c[i];
    uint64_t item;
    if (c->busy || (c->fd >= 0 && c->closing) || !ph_take(ph, &item)) return;
    c->item = item;
    c->busy = true;
    c->tries = 0;
    c->sent_us = now;
    c->req_len = http_request(c->req, ph, item);
    http_send(h, i, ph, now);
}

static void http_response(struct phase *ph, struct hconn *c, const uint8_t *b, size_t n,
                          int status, uint64_t now)
{
    int v;
    if (status != 200) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "HTTP status %d", status);
        note_error(ph, ph->name, (const uint8_t *)msg, (size_t)len);
        v = 0;
    } else if (ph->kind == PH_SCRAPE) {
        uint32_t first;
        v = http_scrape_body(ph, b, n, chunk_range(c->item, &first));
    } else {
        v = http_announce_body(ph, b, n);
    }
    ph->bad += v < 0;
    c->busy = false;
    ph_finish(ph, c->item, v > 0, c->sent_us, now);
}

static void http_read(struct http *h, uint32_t i, struct phase *ph, uint64_t now)
{
    struct hconn *c = &h->c[i];
    bool eof = false;
    while (!eof && c->blen < HBUF) {
        ssize_t r = recv(c->fd, c->buf + c->blen, HBUF - c->blen, 0);
        if (r > 0) c->blen += (size_t)r;
        else if (r < 0 && errno == EAGAIN) break;
        else if (!(r < 0 && errno == EINTR)) eof = true;
    }
    while (c->busy && c->blen) {
        size_t total = 0, body = 0;
        int status = 0;
        bool closes = false;
        int r = http_parse(c->buf, c->blen, eof, &total, &body, &status, &closes);
        if (r == 0) break;
        if (r < 0) {
            ph->bad++;
            http_fail(c, ph, now);
            http_close(c, true);
            return;
        }
        http_response(ph, c, c->buf + body, total - body, status, now);
        memmove(c->buf, c->buf + total, c->blen - total);
        c->blen -= total;
        c->closing = closes;
        c->sent_us = now; /* bounds the wait for the server's close */
    }
    if (!c->busy && c->blen) { /* bytes nobody asked for */
        ph->bad++;
        http_close(c, true);
    } else if (eof && c->busy) {
        http_lost(h, i, ph, now);
    } else if (eof) {
        http_close(c, false);
    }
    http_start(h, i, ph, now);
}

static void http_event(struct http *h, uint32_t i, uint32_t events, struct phase *ph,
                       uint64_t now)
{
    struct hconn *c = &h->c[i];
    if (c->fd < 0) return;
    if (c->state == H_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            http_lost(h, i, ph, now);
            return;
        }
        if (!(events & EPOLLOUT)) return;
        c->state = H_OPEN;
    }
    if (c->busy && c->req_off < c->req_len && !http_write(c)) {
        http_lost(h, i, ph, now);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) http_read(h, i, ph, now);
}

static void http_expire(struct http *h, struct phase *ph, uint64_t now)
{
    uint64_t to = g_o->timeout_ms * 1000u;
    for (uint32_t i = 0; i < h->n; i++) {
        struct hconn *c = &h->c[i];
        if (c->busy && now - c->sent_us > to) {
            ph->timeouts++;
            http_close(c, true);
            http_fail(c, ph, now);
        } else if (!c->busy && c->closing && now - c->sent_us > to) {
            http_close(c, true);
        }
    }
}

static void http_init(struct http *h)
{
    h->n = (uint32_t)g_o->conns;
    h->c = xcalloc(h->n, sizeof *h->c);
    h->ep = epoll_create1(EPOLL_CLOEXEC);
    for (uint32_t i = 0; i < h->n; i++) {
        h->c[i].fd = -1;
        h->c[i].buf = xcalloc(HBUF, 1);
    }
}

static void http_run(struct http *h, struct phase *ph)
{
    struct epoll_event ev[256];
    uint64_t last_expire = 0;
    for (;;) {
        uint64_t now = now_us();
        if (ph_tick(ph, now)) return;
        for (uint32_t i = 0; i < h->n; i++) http_start(h, i, ph, now);
        int n = epoll_wait(h->ep, ev, 256, 5);
        now = now_us();
        for (int j = 0; j < n; j++) http_event(h, ev[j].data.u32, ev[j].events, ph, now);
        if (now - last_expire > 10000u) {
            http_expire(h, ph, now);
            last_expire = now;
        }
    }
}

/* ------------------------------------------------------------------- main */

struct engine {
    struct udp u;
    struct http h;
};

static void run_phase(struct engine *e, struct phase *ph)
{
    if (!strcmp(g_o->mode, "udp")) udp_run(&e->u, ph);
    else http_run(&e->h, ph);
}

/* Runs the three phases; false when a peer could not register or the
 * tracker's scrape counts differ from the peers registered. */
static bool run_all(struct engine *e)
{
    struct phase ph;
    bool good;
    uint64_t rss0, hwm0, rss1, hwm1, rss2, hwm2;
    char extra[512];
    /* Warm-up: as many scrapes as there are connections (sockets), so the
     * RSS read before registering already holds what the tracker keeps per
     * open connection (evhttp's buffers for keep-alive HTTP, about 8 KB
     * each), and the difference after it is what the peers cost. A tracker
     * that closes every connection (opentracker) keeps nothing. */
    ph_init(&ph, PH_SCRAPE, "warmup", g_o->conns);
    run_phase(e, &ph);
    ph_free(&ph);
    rss_kb(g_o->pid, &rss0, &hwm0);
    ph_init(&ph, PH_REGISTER, "register", g_w.np);
    run_phase(e, &ph);
    rss_kb(g_o->pid, &rss1, &hwm1);
    snprintf(extra, sizeof extra,
             ",\"rss_before_kb\":%llu,\"rss_after_kb\":%llu,\"hwm_after_kb\":%llu,"
             "\"rss_kb_per_100k_peers\":%.0f",
             (unsigned long long)rss0, (unsigned long long)rss1, (unsigned long long)hwm1,
             ((double)rss1 - (double)rss0) * 100000.0 / (double)g_w.np);
    ph_report(&ph, g_o->pid ? extra : "");
    good = ph.failed == 0;
    ph_free(&ph);

    ph_init(&ph, PH_SCRAPE, "scrape", (g_w.nt + g_o->scrape_batch - 1) / g_o->scrape_batch);
    ph.cap = 8; /* bursts of big packets would overflow the tracker's socket buffer */
    run_phase(e, &ph);
    snprintf(extra, sizeof extra,
             ",\"tracker_torrents\":%llu,\"tracker_seeders\":%llu,\"tracker_leechers\":%llu,"
             "\"tracker_peers\":%llu,\"expected_torrents\":%u,\"expected_peers\":%u,"
             "\"expected_seeders\":%llu",
             (unsigned long long)ph.sc_used, (unsigned long long)ph.sc_seeders,
             (unsigned long long)ph.sc_leechers,
             (unsigned long long)(ph.sc_seeders + ph.sc_leechers), g_w.used, g_w.np,
             (unsigned long long)g_w.seeders);
    ph_report(&ph, extra);
    printf("loadgen: %s %s scrape counts %llu peers (%llu seeders) in %llu torrents; "
           "expected %u (%llu) in %u\n",
           g_o->label, g_o->mode, (unsigned long long)(ph.sc_seeders + ph.sc_leechers),
           (unsigned long long)ph.sc_seeders, (unsigned long long)ph.sc_used, g_w.np,
           (unsigned long long)g_w.seeders, g_w.used);
    good = good && ph.failed == 0 && ph.sc_seeders + ph.sc_leechers == g_w.np;
    ph_free(&ph);

    ph_init(&ph, PH_MEASURE, "measure", 0);
    run_phase(e, &ph);
    rss_kb(g_o->pid, &rss2, &hwm2);
    snprintf(extra, sizeof extra, ",\"rss_kb\":%llu,\"hwm_kb\":%llu", (unsigned long long)rss2,
             (unsigned long long)hwm2);
    ph_report(&ph, g_o->pid ? extra : "");
    return good;
}

/* Exits 2 on a usage error, 1 when not every peer registered or the
 * tracker's counts differ, 0 otherwise. */
static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen udp|http 127.0.0.1:PORT [--torrents N] [--peers M] [--seconds D]\n"
            "         [--conns S] [--window W] [--numwant N] [--timeout-ms T] [--seed S]\n"
            "         [--scrape-batch B] [--pid TRACKER_PID] [--label NAME]\n"
            "         [--phase-limit SECONDS] [--max-seconds SECONDS]\n"
            "       loadgen hashes [--torrents N] [--seed S]\n");
    exit(2);
}

/* Numeric options, each with its default and cap. */
static const struct {
    const char *name;
    size_t off;
    unsigned long def, min, max;
} g_num[] = {
    {"--torrents", offsetof(struct opts, torrents), 10000, 1, 1000000},
    {"--peers", offsetof(struct opts, peers), 100000, 1, 10000000},
    {"--seconds", offsetof(struct opts, seconds), 10, 1, 600},
    {"--conns", offsetof(struct opts, conns), 0, 1, 1024},
    {"--window", offsetof(struct opts, window), 64, 1, 4094},
    {"--numwant", offsetof(struct opts, numwant), 50, 0, 200},
    {"--timeout-ms", offsetof(struct opts, timeout_ms), 2000, 10, 60000},
    {"--seed", offsetof(struct opts, seed), 1, 0, UINT32_MAX},
    {"--scrape-batch", offsetof(struct opts, scrape_batch), 0, 1, 0},
    {"--pid", offsetof(struct opts, pid), 0, 0, 4194304},
    {"--phase-limit", offsetof(struct opts, phase_limit), 120, 1, 3600},
    {"--max-seconds", offsetof(struct opts, max_seconds), 0, 1, 7200},
};

static void parse_addr(struct opts *o, const char *s)
{
    const char *colon = strrchr(s, ':');
    char ip[48];
    char *end;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || (size_t)(colon - s) >= sizeof ip || !port || port > 65535 || *end) usage();
    memcpy(ip, s, (size_t)(colon - s));
    ip[colon - s] = 0;
    o->addr.sin_family = AF_INET;
    o->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &o->addr.sin_addr) != 1) usage();
    snprintf(o->host, sizeof o->host, "%s", s);
}

static void parse_args(struct opts *o, int argc, char **argv)
{
    int i = 2;
    o->mode = argv[1];
    o->label = "tracker";
    for (size_t k = 0; k < sizeof g_num / sizeof g_num[0]; k++)
        *(unsigned long *)((char *)o + g_num[k].off) = g_num[k].def;
    if (strcmp(o->mode, "hashes")) {
        if (argc < 3) usage();
        parse_addr(o, argv[i++]);
    }
    bool udp = !strcmp(o->mode, "udp");
    o->conns = udp ? 4 : 64;
    o->scrape_batch = udp ? 64 : 16;
    for (; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--label")) {
            o->label = argv[i + 1];
            continue;
        }
        size_t k = 0, n = sizeof g_num / sizeof g_num[0];
        while (k < n && strcmp(argv[i], g_num[k].name)) k++;
        char *end;
        errno = 0;
        unsigned long v = k < n ? strtoul(argv[i + 1], &end, 10) : 0;
        unsigned long max = g_num[k].max ? g_num[k].max : (udp ? 74 : 20);
        if (k == n || errno || *end || v < g_num[k].min || v > max) usage();
        *(unsigned long *)((char *)o + g_num[k].off) = v;
    }
    if (i != argc) usage();
    if (!o->max_seconds) o->max_seconds = 3 * o->phase_limit + o->seconds + 30;
}

int main(int argc, char **argv)
{
    static struct opts o;
    static struct engine e;
    if (argc < 2) usage();
    parse_args(&o, argc, argv);
    g_o = &o;
    world_init(&g_w, (uint32_t)o.torrents, (uint32_t)o.peers, o.seed);
    if (!strcmp(o.mode, "hashes")) {
        for (uint32_t t = 0; t < g_w.nt; t++) {
            for (int k = 0; k < 20; k++) printf("%02x", g_w.hash[t][k]);
            putchar('\n');
        }
        return 0;
    }
    if (strcmp(o.mode, "udp") && strcmp(o.mode, "http")) usage();
    if ((uint64_t)o.torrents * (65535 - PORT_BASE) < o.peers) {
        fprintf(stderr, "loadgen: too many peers for %lu torrents\n", o.torrents);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)o.max_seconds); /* the last resort of the time bound */
    if (!strcmp(o.mode, "udp")) udp_init(&e.u);
    else http_init(&e.h);
    return run_all(&e) ? 0 : 1;
}
