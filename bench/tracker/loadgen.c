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
#include "loadgen.h"

const struct opts *g_o;
struct world g_w;

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(2);
    }
    return p;
}

/* Peer i's 20-byte id: a fixed client prefix and i in 12 hex digits. */
void peer_id(uint8_t out[20], uint64_t i)
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "-LG0001-", 8);
    for (int k = 0; k < 12; k++) out[19 - k] = (uint8_t)hex[(i >> (4 * k)) & 15];
}

/* The torrents and peers from the seed. A peer's port is PORT_BASE plus its
 * rank within its torrent, so (torrent, address, port) is unique; about 20%
 * of peers are seeders (left=0). */
int world_init(struct world *w, uint32_t nt, uint32_t np, uint64_t seed)
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

void rss_kb(unsigned long pid, uint64_t *rss, uint64_t *hwm)
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

void ph_init(struct phase *ph, enum phase_kind kind, const char *name, uint64_t total)
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

void ph_free(struct phase *ph)
{
    free(ph->retry);
    free(ph->tries);
}

/* The next item to send (a peer, or a chunk of torrents to scrape). */
bool ph_take(struct phase *ph, uint64_t *item)
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
void ph_untake(struct phase *ph, uint64_t item)
{
    ph->inflight--;
    if (ph->counting) ph->sent--;
    if (ph->kind != PH_MEASURE) ph->retry[ph->nretry++] = item;
}

/* An item is answered (ok) or failed; register and scrape retry failures. */
void ph_finish(struct phase *ph, uint64_t item, bool ok, uint64_t sent_us, uint64_t now)
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
bool ph_tick(struct phase *ph, uint64_t now)
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

void ph_report(const struct phase *ph, const char *extra)
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
uint32_t chunk_range(uint64_t item, uint32_t *first)
{
    uint64_t f = item * g_o->scrape_batch, n = g_w.nt - f;
    *first = (uint32_t)f;
    return (uint32_t)(n < g_o->scrape_batch ? n : g_o->scrape_batch);
}

/* Prints the first few error messages from the tracker, once each phase. */
void note_error(struct phase *ph, const char *what, const uint8_t *msg, size_t len)
{
    ph->errors++;
    if (ph->errors > 3) return;
    if (len > 200) len = 200;
    fprintf(stderr, "loadgen: %s %s error: %.*s\n", g_o->label, what, (int)len, (const char *)msg);
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
