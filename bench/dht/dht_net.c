/* bench/dht: a network of real rill DHT nodes on loopback, several hundred
 * to a process, all on one event base (bench/dht/run.sh starts a few of
 * these processes and reads what they print).
 *
 * Node g of the whole network (g = proc * per_proc + i) binds
 * 127.(1 + g / 256).(g % 256).1:PORT, so every node has an address of its
 * own, as on a real network: the per-address query limit (20 a second after
 * a burst of 100) applies to each node separately, and every process can
 * name any node without asking. Node 0 (of process 0) is everyone's
 * bootstrap node. Ids, info-hashes and choices come from --seed.
 *
 * Phases, each ended by a barrier of files in --sync DIR (PHASE.PROC: a
 * process writes its own and waits for the other processes'), each with a
 * time limit:
 *   join      nodes start at --join-rate a second and bootstrap from node 0
 *             (retried each second while a node's table stays empty) until
 *             no node of the process is bootstrapping;
 *   warmup    (--warmup W, default none) each node runs W get_peers of
 *             random keys, so that the tables hear of more nodes than the
 *             join's own-id lookup showed them;
 *   announce  node g announces info-hash H(g) on its own DHT port
 *             (implied_port), --inflight at once per process;
 *   lookup    --lookups get_peers of H(t) for random targets t of the whole
 *             network, each from a random node of this process other than
 *             t, --inflight at once; a lookup succeeds when t's address
 *             and port are among the peers found;
 *   done      the process keeps answering until every process has looked
 *             up, then prints one JSON object on stdout and exits.
 * Per lookup: wall latency (from the call to the done callback), hops
 * (rill_dht_last_hops in the callback), found or not. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rill.h"

#define TICK_MS 20
#define NODES_MAX 60000u      /* the address plan: 127.1.0.1 .. 127.235.95.1 */
#define BOOT_RETRY_MS 1000u   /* a node whose table stayed empty pings again */
#define REQS_PER_NODE 8       /* rill_dht_get_peers: requests at once per node */
#define ORIGIN_TRIES 64       /* random picks for a lookup's origin */
#define LOOKUPS_MAX 1000000u

enum phase {
    JOINING, JOIN_WAIT, WARMING, WARM_WAIT, ANNOUNCING, ANNOUNCE_WAIT, LOOKING, LOOKUP_WAIT, DONE
};

/* What a batch's requests are; also the `purpose` of their info-hashes. */
enum batch_kind { B_ANNOUNCE = 2, B_LOOKUP = 2 | 8, B_WARM = 4 };

struct args {
    uint64_t proc, procs, per_proc, port, lookups, inflight, seed, join_rate, timeout_s, warmup;
    const char *sync_dir;
};

struct node {
    struct rill_dht *d;
    uint32_t g;       /* index in the whole network */
    bool joined;      /* bootstrapped with a non-empty table */
    uint8_t running;  /* our requests running on it */
    uint64_t boot_ms; /* next bootstrap retry */
};

struct batch;

/* One announce or lookup. */
struct req {
    struct batch *b;
    struct node *node;
    uint32_t target; /* whose info-hash */
    uint64_t start_us, end_us;
    unsigned hops;
    bool found, done;
};

/* The requests of one phase. */
struct batch {
    struct net *net;
    enum batch_kind kind;
    struct req *r;
    uint32_t total, issued, finished, failed_start, inflight;
    uint64_t start_us, end_us;
    bool cut; /* the phase's time limit ended it */
};

struct net {
    struct args a;
    struct event_base *base;
    struct event *tick, *pump;
    struct node *nodes;
    uint32_t n, started, joined, boot_retries;
    struct batch warm, ann, look;
    enum phase phase;
    uint64_t t0_us, phase_us, deadline_ms;
    double join_s;
    bool join_cut, barrier_cut;
    uint64_t rng;
    char boot[32];
    int rc;
};

/* ------------------------------------------------------------ helpers */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_ms(void)
{
    return now_us() / 1000u;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(splitmix64(s) % n);
}

/* 20 bytes that depend only on the seed, a purpose and a node. */
static void derive(uint64_t seed, uint64_t purpose, uint32_t g, uint8_t out[20])
{
    uint64_t s = seed * 0xD1B54A32D192ED03ull ^ purpose << 40 ^ g;
    for (size_t i = 0; i < 20; i += 4) {
        uint64_t v = splitmix64(&s);
        memcpy(out + i, &v, 4);
    }
}

static void node_ip(uint32_t g, uint8_t ip[4])
{
    ip[0] = 127;
    ip[1] = (uint8_t)(1 + g / 256);
    ip[2] = (uint8_t)(g % 256);
    ip[3] = 1;
}

static void node_text(uint32_t g, uint64_t port, char *out, size_t cap)
{
    uint8_t ip[4];
    node_ip(g, ip);
    snprintf(out, cap, "%u.%u.%u.%u:%" PRIu64, ip[0], ip[1], ip[2], ip[3], port);
}

static bool parse_u64(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

/* ------------------------------------------------------------ barriers */

static void barrier_path(const struct net *t, const char *name, uint64_t proc, char *out,
                         size_t cap)
{
    snprintf(out, cap, "%s/%s.%" PRIu64, t->a.sync_dir, name, proc);
}

static void barrier_mark(struct net *t, const char *name)
{
    char path[4096];
    barrier_path(t, name, t->a.proc, path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f || fclose(f) != 0) {
        fprintf(stderr, "dht_net: cannot write %s\n", path);
        t->rc = 1;
    }
}

static bool barrier_passed(const struct net *t, const char *name)
{
    char path[4096];
    for (uint64_t p = 0; p < t->a.procs; p++) {
        barrier_path(t, name, p, path, sizeof path);
        if (access(path, F_OK) != 0)
            return false;
    }
    return true;
}

/* Marks `name` and moves to `wait` until every process has marked it. */
static void barrier_enter(struct net *t, const char *name, enum phase wait)
{
    barrier_mark(t, name);
    t->phase = wait;
    t->deadline_ms = now_ms() + t->a.timeout_s * 1000u;
}

/* ------------------------------------------------------------- joining */

static int node_start(struct net *t, struct node *nd)
{
    char bind[32];
    uint8_t id[20], seed[20];
    node_text(nd->g, t->a.port, bind, sizeof bind);
    derive(t->a.seed, 1, nd->g, id);
    derive(t->a.seed, 3, nd->g, seed);
    uint64_t rs;
    memcpy(&rs, seed, sizeof rs);
    struct rill_dht_opts o = {.bind4 = bind, .node_id = id, .rng_seed = rs | 1};
    int rc = rill_dht_new(&nd->d, t->base, &o);
    if (rc != 0) {
        fprintf(stderr, "dht_net: node on %s: %s\n", bind, rill_strerror(rc));
        return rc;
    }
    nd->boot_ms = now_ms() + BOOT_RETRY_MS;
    if (nd->g == 0) {
        nd->joined = true; /* the bootstrap node: nobody to join */
        t->joined++;
        return 0;
    }
    rc = rill_dht_bootstrap(nd->d, t->boot);
    if (rc != 0)
        fprintf(stderr, "dht_net: bootstrap %s: %s\n", t->boot, rill_strerror(rc));
    return 0;
}

/* Starts the nodes due by now at --join-rate, and follows the others. */
static void join_step(struct net *t, uint64_t now)
{
    uint64_t due = (now_us() - t->phase_us) * t->a.join_rate / 1000000u + 1;
    while (t->started < t->n && t->started < due) {
        if (node_start(t, &t->nodes[t->started]) != 0) {
            t->rc = 1;
            event_base_loopbreak(t->base);
            return;
        }
        if (t->nodes[t->started++].g == 0)
            barrier_mark(t, "ready"); /* the driver starts the others now */
    }
    for (uint32_t i = 0; i < t->started; i++) {
        struct node *nd = &t->nodes[i];
        if (nd->joined || rill_dht_bootstrapping(nd->d))
            continue;
        if (rill_dht_node_count(nd->d) > 0) {
            nd->joined = true;
            t->joined++;
        } else if (now >= nd->boot_ms) {
            nd->boot_ms = now + BOOT_RETRY_MS;
            t->boot_retries++;
            (void)rill_dht_bootstrap(nd->d, t->boot);
        }
    }
}

/* ------------------------------------------------------------ requests */

static bool is_target(const struct rill_peer_addr *p, uint32_t g, uint64_t port)
{
    uint8_t ip[4];
    node_ip(g, ip);
    return p->addr_len == 4 && memcmp(p->addr, ip, 4) == 0 && p->port == port;
}

static void on_peers(void *ctx, const struct rill_peer_addr *peers, size_t n, bool done)
{
    struct req *r = ctx;
    struct batch *b = r->b;
    for (size_t i = 0; i < n; i++)
        r->found |= is_target(&peers[i], r->target, b->net->a.port);
    if (!done)
        return;
    r->end_us = now_us();
    r->hops = rill_dht_last_hops(r->node->d);
    r->done = true;
    r->node->running--;
    b->inflight--;
    b->finished++;
    event_active(b->net->pump, EV_TIMEOUT, 0);
}

/* Starts request r on its node; false when the node refused it. */
static bool req_start(struct req *r)
{
    struct net *t = r->b->net;
    bool announce = r->b->kind == B_ANNOUNCE;
    uint8_t ih[20];
    derive(t->a.seed, r->b->kind & 7, r->target, ih);
    r->node->running++;
    r->b->inflight++;
    r->start_us = now_us();
    int rc = announce ? rill_dht_announce(r->node->d, ih, 0, on_peers, r)
                      : rill_dht_get_peers(r->node->d, ih, on_peers, r);
    if (rc == 0)
        return true;
    r->node->running--; /* no callback comes after an error */
    r->b->inflight--;
    return false;
}

/* A random node of ours with room for a request, not `target`. */
static struct node *pick_origin(struct net *t, uint32_t target)
{
    for (unsigned k = 0; k < ORIGIN_TRIES; k++) {
        struct node *nd = &t->nodes[below(&t->rng, t->n)];
        if (nd->g != target && nd->running < REQS_PER_NODE)
            return nd;
    }
    return NULL;
}

static void issue(struct net *t, struct batch *b)
{
    while (b->issued < b->total && b->inflight < t->a.inflight) {
        struct req *r = &b->r[b->issued];
        r->b = b;
        if (b->kind == B_ANNOUNCE) {
            r->node = &t->nodes[b->issued];
            r->target = r->node->g;
        } else if (b->kind == B_WARM) {
            r->node = &t->nodes[b->issued % t->n];
            r->target = (uint32_t)splitmix64(&t->rng); /* a random key: nothing there */
            if (r->node->running >= REQS_PER_NODE)
                return;
        } else {
            uint32_t all = (uint32_t)(t->a.procs * t->a.per_proc);
            r->target = below(&t->rng, all);
            r->node = pick_origin(t, r->target);
            if (!r->node)
                return; /* every pick was busy: the next callback retries */
        }
        b->issued++;
        if (!req_start(r)) {
            b->failed_start++;
            b->finished++;
        }
    }
}

static void batch_begin(struct net *t, struct batch *b, enum phase p)
{
    t->phase = p;
    b->start_us = now_us();
    t->deadline_ms = now_ms() + t->a.timeout_s * 1000u;
    event_active(t->pump, EV_TIMEOUT, 0);
}

/* Ends the batch when every request finished or its time is up. */
static bool batch_over(struct net *t, struct batch *b)
{
    if (b->finished < b->total && now_ms() < t->deadline_ms)
        return false;
    b->cut = b->finished < b->total;
    b->end_us = now_us();
    return true;
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct net *t = arg;
    if (t->phase == WARMING) {
        issue(t, &t->warm);
        if (batch_over(t, &t->warm))
            barrier_enter(t, "warmed", WARM_WAIT);
    } else if (t->phase == ANNOUNCING) {
        issue(t, &t->ann);
        if (batch_over(t, &t->ann))
            barrier_enter(t, "announced", ANNOUNCE_WAIT);
    } else if (t->phase == LOOKING) {
        issue(t, &t->look);
        if (batch_over(t, &t->look))
            barrier_enter(t, "looked", LOOKUP_WAIT);
    }
}

/* ---------------------------------------------------------------- tick */

/* In a wait phase: true once every process marked `name` (or time is up). */
static bool waited(struct net *t, const char *name, uint64_t now)
{
    if (barrier_passed(t, name))
        return true;
    if (now < t->deadline_ms)
        return false;
    fprintf(stderr, "dht_net %" PRIu64 ": gave up waiting for '%s'\n", t->a.proc, name);
    t->barrier_cut = true;
    return true;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct net *t = arg;
    uint64_t now = now_ms();
    switch (t->phase) {
    case JOINING:
        join_step(t, now);
        if ((t->started == t->n && t->joined == t->n) || now >= t->deadline_ms) {
            t->join_cut = t->joined < t->n;
            t->join_s = (double)(now_us() - t->phase_us) / 1e6;
            barrier_enter(t, "joined", JOIN_WAIT);
        }
        break;
    case JOIN_WAIT:
        if (waited(t, "joined", now)) {
            bool warm = t->warm.total > 0;
            batch_begin(t, warm ? &t->warm : &t->ann, warm ? WARMING : ANNOUNCING);
        }
        break;
    case WARM_WAIT:
        if (waited(t, "warmed", now))
            batch_begin(t, &t->ann, ANNOUNCING);
        break;
    case WARMING:
    case ANNOUNCING:
    case LOOKING: on_pump(-1, 0, t); break; /* the time limit */
    case ANNOUNCE_WAIT:
        if (waited(t, "announced", now))
            batch_begin(t, &t->look, LOOKING);
        break;
    case LOOKUP_WAIT:
        if (waited(t, "looked", now)) {
            t->phase = DONE;
            event_base_loopbreak(t->base);
        }
        break;
    case DONE: break;
    }
}

/* -------------------------------------------------------------- output */

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static void print_stats(const struct net *t)
{
    struct rill_dht_stats sum = {0}, st;
    size_t *tables = calloc(t->n ? t->n : 1, sizeof *tables);
    double est = 0;
    for (uint32_t i = 0; i < t->started; i++) {
        rill_dht_stats(t->nodes[i].d, &st);
        sum.queries_in += st.queries_in;
        sum.queries_out += st.queries_out;
        sum.replies_in += st.replies_in;
        sum.timeouts += st.timeouts;
        sum.refused += st.refused;
        sum.insecure += st.insecure;
        sum.bytes_in += st.bytes_in;
        sum.bytes_out += st.bytes_out;
        sum.hashes += st.hashes;
        est += st.size_estimate;
        if (tables)
            tables[i] = st.nodes[0];
    }
    printf("\"queries_in\":%" PRIu64 ",\"queries_out\":%" PRIu64 ",\"replies_in\":%" PRIu64
           ",\"timeouts\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"insecure\":%" PRIu64
           ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",\"hashes_stored\":%zu,",
           sum.queries_in, sum.queries_out, sum.replies_in, sum.timeouts, sum.refused,
           sum.insecure, sum.bytes_in, sum.bytes_out, sum.hashes);
    if (tables && t->started) {
        qsort(tables, t->started, sizeof *tables, cmp_size);
        printf("\"table_min\":%zu,\"table_median\":%zu,\"table_max\":%zu,", tables[0],
               tables[t->started / 2], tables[t->started - 1]);
    }
    printf("\"size_estimate_mean\":%.1f,", t->started ? est / t->started : 0.0);
    free(tables);
}

/* [latency ms, hops, found, done, origin, target] per request. */
static void print_batch(const char *key, const struct batch *b)
{
    printf("\"%s\":{\"total\":%" PRIu32 ",\"issued\":%" PRIu32 ",\"finished\":%" PRIu32
           ",\"failed_start\":%" PRIu32 ",\"cut\":%s,\"wall_s\":%.4f,\"r\":[",
           key, b->total, b->issued, b->finished, b->failed_start, b->cut ? "true" : "false",
           (double)(b->end_us - b->start_us) / 1e6);
    for (uint32_t i = 0; i < b->issued; i++) {
        const struct req *r = &b->r[i];
        double ms = r->done ? (double)(r->end_us - r->start_us) / 1e3 : -1;
        printf("%s[%.3f,%u,%d,%d,%" PRIu32 ",%" PRIu32 "]", i ? "," : "", ms, r->hops, r->found,
               r->done, r->node->g, r->target);
    }
    printf("]}");
}

static void print_json(const struct net *t)
{
    printf("{\"proc\":%" PRIu64 ",\"procs\":%" PRIu64 ",\"nodes\":%" PRIu32
           ",\"started\":%" PRIu32 ",\"joined\":%" PRIu32 ",\"join_s\":%.3f,\"join_cut\":%s,"
           "\"boot_retries\":%" PRIu32 ",\"barrier_cut\":%s,",
           t->a.proc, t->a.procs, t->n, t->started, t->joined, t->join_s,
           t->join_cut ? "true" : "false", t->boot_retries, t->barrier_cut ? "true" : "false");
    print_stats(t);
    print_batch("warmup", &t->warm);
    printf(",");
    print_batch("announce", &t->ann);
    printf(",");
    print_batch("lookup", &t->look);
    printf(",\"wall_s\":%.3f}\n", (double)(now_us() - t->t0_us) / 1e6);
}

/* ---------------------------------------------------------------- main */

static const char usage[] =
    "usage: rill_dht_net --proc I --procs P --nodes N --port PORT --sync DIR\n"
    "                    [--lookups L] [--inflight F] [--seed S] [--join-rate R]\n"
    "                    [--timeout SECONDS] [--warmup W]\n"
    "  N nodes in this process (process I of P), node g on 127.(1+g/256).(g%256).1:PORT;\n"
    "  L lookups from this process (default 500), F requests at once (default 16),\n"
    "  R nodes started a second (default 200), each phase limited to SECONDS (60);\n"
    "  W: get_peers of random keys per node between join and announce (default 0).\n";

static int parse_args(struct args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"proc", required_argument, NULL, 'i'},     {"procs", required_argument, NULL, 'p'},
        {"nodes", required_argument, NULL, 'n'},    {"port", required_argument, NULL, 'P'},
        {"lookups", required_argument, NULL, 'l'},  {"inflight", required_argument, NULL, 'f'},
        {"seed", required_argument, NULL, 's'},     {"join-rate", required_argument, NULL, 'r'},
        {"timeout", required_argument, NULL, 't'},  {"sync", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0}};
    *a = (struct args){.procs = 1, .lookups = 500, .inflight = 16, .seed = 1, .join_rate = 200,
                       .timeout_s = 60};
    int c;
    bool ok = true;
    while (ok && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i': ok = parse_u64(optarg, 0, NODES_MAX, &a->proc); break;
        case 'p': ok = parse_u64(optarg, 1, NODES_MAX, &a->procs); break;
        case 'n': ok = parse_u64(optarg, 1, NODES_MAX, &a->per_proc); break;
        case 'P': ok = parse_u64(optarg, 1, 65535, &a->port); break;
        case 'l': ok = parse_u64(optarg, 0, LOOKUPS_MAX, &a->lookups); break;
        case 'f': ok = parse_u64(optarg, 1, 100000, &a->inflight); break;
        case 's': ok = parse_u64(optarg, 0, UINT64_MAX, &a->seed); break;
        case 'r': ok = parse_u64(optarg, 1, 1000000, &a->join_rate); break;
        case 't': ok = parse_u64(optarg, 1, 3600, &a->timeout_s); break;
        case 'd': a->sync_dir = optarg; break;
        case 'w': ok = parse_u64(optarg, 0, 64, &a->warmup); break;
        default: ok = false;
        }
    }
    if (!ok || optind < argc || !a->sync_dir || !a->port || !a->per_proc ||
        a->proc >= a->procs || a->procs * a->per_proc > NODES_MAX ||
        a->procs * a->per_proc < 2) {
        fputs(usage, stderr);
        return -1;
    }
    return 0;
}

static int net_init(struct net *t)
{
    t->n = (uint32_t)t->a.per_proc;
    t->rng = t->a.seed * 0x2545F4914F6CDD1Dull + t->a.proc + 1;
    node_text(0, t->a.port, t->boot, sizeof t->boot);
    t->nodes = calloc(t->n, sizeof *t->nodes);
    t->ann.r = calloc(t->n, sizeof *t->ann.r);
    t->warm.r = calloc(t->n * t->a.warmup + 1, sizeof *t->warm.r);
    t->look.r = calloc(t->a.lookups ? t->a.lookups : 1, sizeof *t->look.r);
    t->base = event_base_new();
    if (!t->nodes || !t->ann.r || !t->warm.r || !t->look.r || !t->base)
        return -1;
    for (uint32_t i = 0; i < t->n; i++)
        t->nodes[i].g = (uint32_t)(t->a.proc * t->a.per_proc + i);
    t->warm = (struct batch){
        .net = t, .kind = B_WARM, .r = t->warm.r, .total = (uint32_t)(t->n * t->a.warmup)};
    t->ann = (struct batch){.net = t, .kind = B_ANNOUNCE, .r = t->ann.r, .total = t->n};
    t->look = (struct batch){
        .net = t, .kind = B_LOOKUP, .r = t->look.r, .total = (uint32_t)t->a.lookups};
    struct timeval tv = {0, TICK_MS * 1000};
    t->tick = event_new(t->base, -1, EV_PERSIST, on_tick, t);
    t->pump = event_new(t->base, -1, 0, on_pump, t);
    if (!t->tick || !t->pump || event_add(t->tick, &tv) != 0)
        return -1;
    t->t0_us = t->phase_us = now_us();
    t->deadline_ms = now_ms() + t->a.timeout_s * 1000u;
    return 0;
}

static void net_free(struct net *t)
{
    for (uint32_t i = 0; t->nodes && i < t->started; i++)
        rill_dht_free(t->nodes[i].d);
    if (t->tick)
        event_free(t->tick);
    if (t->pump)
        event_free(t->pump);
    if (t->base)
        event_base_free(t->base);
    free(t->nodes);
    free(t->ann.r);
    free(t->warm.r);
    free(t->look.r);
}

int main(int argc, char **argv)
{
    static struct net t;
    if (parse_args(&t.a, argc, argv) != 0)
        return 2;
    if (net_init(&t) != 0) {
        fputs("dht_net: out of memory\n", stderr);
        net_free(&t);
        return 1;
    }
    event_base_dispatch(t.base);
    if (t.phase == DONE || t.rc == 0)
        print_json(&t);
    fflush(stdout);
    net_free(&t);
    return t.rc;
}
