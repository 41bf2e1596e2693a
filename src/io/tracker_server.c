/* The tracker server's common part: options, the swarm, the whitelist, the
 * once-a-minute expiry sweep and the stats both front ends report. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/clock.h"
#include "io/file_read.h"
#include "io/sockaddr.h"
#include "io/tracker_server.h"
#include "util/util.h"

#define SWEEP_MS 60000u
#define WHITELIST_MAX (1u << 22) /* 4M hashes: 80 MB, far past any real list */
#define WHITELIST_FILE_MAX ((size_t)WHITELIST_MAX * 48)

uint64_t rill__tserver_now(struct rill_tracker_server *t)
{
    t->now = rill__monotonic_ms();
    return t->now;
}

void rill__tserver_log(struct rill_tracker_server *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rill__log_vline(t->opts.log, t->opts.log_ctx, fmt, ap);
    va_end(ap);
}

void rill__tserver_bad_request(struct rill_tracker_server *t, const char *what, const char *why)
{
    t->errors++;
    if (t->last_error_log_ms && t->now - t->last_error_log_ms < 60000) {
        t->errors_unlogged++;
        return;
    }
    if (t->errors_unlogged)
        rill__tserver_log(t, "%s: %s (and %llu more bad requests in the last minute)", what,
                          why, (unsigned long long)t->errors_unlogged);
    else
        rill__tserver_log(t, "%s: %s", what, why);
    t->last_error_log_ms = t->now ? t->now : 1;
    t->errors_unlogged = 0;
}

void rill__tserver_count_announce(struct rill_tracker_server *t)
{
    uint64_t sec = t->now / 1000;
    size_t i = sec % 60;
    if (t->rate_sec[i] != sec) {
        t->rate_sec[i] = sec;
        t->rate_count[i] = 0;
    }
    t->rate_count[i]++;
}

double rill__tserver_announce_rate(struct rill_tracker_server *t)
{
    uint64_t sec = rill__tserver_now(t) / 1000, sum = 0;
    /* The 59 whole seconds before this one (this one is still counting). */
    for (size_t i = 0; i < 60; i++)
        if (t->rate_sec[i] < sec && t->rate_sec[i] + 60 > sec)
            sum += t->rate_count[i];
    return (double)sum / 59.0;
}

/* ---------------------------------------------------------------- whitelist */

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, RILL_SHA1_LEN);
}

bool rill__tserver_allowed(const struct rill_tracker_server *t,
                           const uint8_t info_hash[RILL_SHA1_LEN])
{
    if (!t->whitelist_path)
        return true;
    return t->whitelist_count &&
           bsearch(info_hash, t->whitelist, t->whitelist_count, RILL_SHA1_LEN, cmp_hash);
}

/* One info-hash in hex per line; blank lines and lines starting with '#'
 * are skipped; spaces around a hash are ignored. */
static int parse_whitelist(const char *text, size_t n, uint8_t (**out)[RILL_SHA1_LEN],
                           size_t *count, struct rill_error *err)
{
    size_t cap = 0, used = 0, line = 0;
    uint8_t(*v)[RILL_SHA1_LEN] = NULL;
    for (size_t at = 0; at < n; line++) {
        const char *nl = memchr(text + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - text) : n, a = at, b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (b > a && text[a] != '#') {
            if (used == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                void *nv = ncap <= WHITELIST_MAX ? realloc(v, ncap * RILL_SHA1_LEN) : NULL;
                if (!nv) {
                    free(v);
                    return rill__fail(err, RILL_ELIMIT, a, "whitelist: too many hashes");
                }
                v = nv;
                cap = ncap;
            }
            if (rill_unhex(text + a, b - a, v[used], RILL_SHA1_LEN) != 0) {
                free(v);
                return rill__fail(err, RILL_ESYNTAX, a,
                                  "whitelist line %zu: not a 40-digit hex info-hash", line + 1);
            }
            used++;
        }
        at = end + 1;
    }
    if (used)
        qsort(v, used, RILL_SHA1_LEN, cmp_hash);
    *out = v;
    *count = used;
    return 0;
}

int rill_tracker_server_reload(struct rill_tracker_server *t, struct rill_error *err)
{
    if (!t->whitelist_path)
        return 0;
    uint8_t *text;
    size_t n;
    int rc = rill__read_file(t->whitelist_path, WHITELIST_FILE_MAX, &text, &n, err);
    if (rc)
        return rc;
    uint8_t(*v)[RILL_SHA1_LEN] = NULL;
    size_t count = 0;
    rc = parse_whitelist((const char *)text, n, &v, &count, err);
    free(text);
    if (rc)
        return rc;
    free(t->whitelist);
    t->whitelist = v;
    t->whitelist_count = count;
    rill__tserver_log(t, "whitelist %s: %zu info-hashes", t->whitelist_path, count);
    return 0;
}

/* ---------------------------------------------------------------- requests */

const char *rill__tserver_announce(struct rill_tracker_server *t,
                                   const struct rill_tracker_query *q, int family,
                                   const uint8_t addr[16], struct rill_swarm_result *r)
{
    if (!rill__tserver_allowed(t, q->info_hash))
        return "this torrent is not tracked here (not on the whitelist)";
    struct rill_swarm_announce a = {.family = family, .port = q->port, .event = q->event,
                                    .seed = q->left == 0, .numwant = q->numwant};
    memcpy(a.info_hash, q->info_hash, RILL_SHA1_LEN);
    memcpy(a.addr, addr, 16);
    int rc = rill_swarm_announce(t->swarm, &a, t->now, r);
    rill__tserver_count_announce(t);
    if (rc)
        return rc == RILL_ELIMIT ? "tracker full: no room for another torrent" : "tracker error";
    return NULL;
}

void rill__tserver_scrape(struct rill_tracker_server *t, const uint8_t *hashes, size_t n,
                          struct rill_tracker_scrape_entry *out)
{
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        memcpy(out[i].info_hash, hashes + i * RILL_SHA1_LEN, RILL_SHA1_LEN);
        if (rill__tserver_allowed(t, out[i].info_hash))
            rill_swarm_scrape(t->swarm, out[i].info_hash, &out[i]);
    }
}

/* ---------------------------------------------------------------- addresses */

bool rill__tserver_peer_addr(const struct sockaddr *sa, int *family, uint8_t addr[16],
                             uint16_t *port)
{
    uint8_t len;
    memset(addr, 0, 16);
    if (!rill__sockaddr_to_raw((const struct sockaddr_storage *)sa, addr, &len, port))
        return false;
    *family = len == 4 ? RILL_TRACKER_IPV4 : RILL_TRACKER_IPV6;
    return true;
}

uint16_t rill__tserver_bound_port(int fd)
{
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    int family;
    uint8_t addr[16];
    uint16_t port = 0;
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0 ||
        !rill__tserver_peer_addr((struct sockaddr *)&bound, &family, addr, &port))
        return 0;
    return port;
}

/* ---------------------------------------------------------------- lifetime */

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct rill_tracker_server *t = arg;
    rill_swarm_expire(t->swarm, rill__tserver_now(t));
}

static int start(struct rill_tracker_server *t, struct rill_error *err)
{
    const struct rill_tracker_server_opts *o = &t->opts;
    if (!o->http && !o->udp)
        return rill__fail(err, RILL_EINVAL, 0, "neither an HTTP nor a UDP address to serve on");
    int rc = o->rng_seed ? (rill_rng_seed(&t->rng, o->rng_seed), 0) : rill_rng_seed_secure(&t->rng);
    if (rc || RAND_bytes(t->udp_key.key, sizeof t->udp_key.key) != 1)
        return rill__fail(err, RILL_EIO, 0, "no random numbers from OpenSSL");
    t->udp_key.sha = rill__sha256_ctx_new(); /* NULL only makes ids slower */
    struct rill_swarm_limits lim = {.max_torrents = o->max_torrents,
                                    .max_peers_per_torrent = o->max_peers_per_torrent,
                                    .interval_s = o->interval_s,
                                    .min_interval_s = o->min_interval_s,
                                    .grace_s = o->grace_s};
    if ((rc = rill_swarm_new(&t->swarm, &lim, &t->rng)) != 0)
        return rill__fail(err, rc, 0, "cannot set up the swarm tables");
    if (t->whitelist_path && (rc = rill_tracker_server_reload(t, err)) != 0)
        return rc;
    t->sweep = event_new(t->base, -1, EV_PERSIST, on_sweep, t);
    struct timeval every = {SWEEP_MS / 1000, 0};
    if (!t->sweep || event_add(t->sweep, &every) != 0)
        return rill__fail(err, RILL_ENOMEM, 0, "cannot set up the expiry timer");
    if (o->http && (rc = rill__tserver_http_start(t, err)) != 0)
        return rc;
    if (o->udp && (rc = rill__tserver_udp_start(t, err)) != 0)
        return rc;
    return 0;
}

int rill_tracker_server_new(struct rill_tracker_server **out, struct event_base *base,
                            const struct rill_tracker_server_opts *opts, struct rill_error *err)
{
    *out = NULL;
    struct rill_tracker_server *t = calloc(1, sizeof *t);
    if (!t)
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory");
    t->base = base;
    t->opts = *opts;
    t->udp_fd = -1;
    t->started = rill__tserver_now(t);
    if (opts->whitelist && !(t->whitelist_path = strdup(opts->whitelist))) {
        free(t);
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory");
    }
    int rc = start(t, err);
    /* The caller's strings are not kept past this call. */
    t->opts.http = t->opts.udp = t->opts.whitelist = NULL;
    if (rc) {
        rill_tracker_server_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void rill_tracker_server_free(struct rill_tracker_server *t)
{
    if (!t)
        return;
    rill__tserver_http_stop(t);
    rill__tserver_udp_stop(t);
    if (t->sweep)
        event_free(t->sweep);
    rill_swarm_free(t->swarm);
    rill__sha256_ctx_free(t->udp_key.sha);
    free(t->udp_out);
    free(t->whitelist);
    free(t->whitelist_path);
    free(t);
}

uint16_t rill_tracker_server_http_port(const struct rill_tracker_server *t)
{
    return t->http_port;
}

uint16_t rill_tracker_server_udp_port(const struct rill_tracker_server *t)
{
    return t->udp_port;
}

void rill_tracker_server_stats(const struct rill_tracker_server *t,
                               struct rill_tracker_server_stats *st)
{
    struct rill_swarm_stats ss;
    rill_swarm_stats(t->swarm, &ss);
    uint64_t now = rill__monotonic_ms();
    *st = (struct rill_tracker_server_stats){
        .torrents = ss.torrents,
        .seeders = ss.seeders,
        .leechers = ss.leechers,
        .announces = ss.announces,
        .scrapes = ss.scrapes,
        .http_requests = t->http_requests,
        .udp_packets = t->udp_packets,
        .errors = t->errors,
        .memory_bytes = ss.memory_bytes,
        .uptime_ms = now - t->started,
    };
}
