/* The tracker client on a real event loop, against tiny HTTP and UDP
 * trackers written here with the tracker_msg core's server side. The
 * announcer's clock runs 100 times fast so intervals and backoff take
 * hundreds of milliseconds. */
#include "testutil.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/picker.h"
#include "core/tracker_msg.h"
#include "io/announcer.h"
#include "io/session.h"

#define MAXREQ 16
#define TOTAL_SIZE 1000000u
#define PIECE 65536u

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ fixture */

struct fx {
    struct event_base *base;
    struct event *ticker;
    struct rill_session *s;
    struct rill_metainfo mi;
    struct rill_tier tiers[3];
    char *urls[3][3];
    struct rill_picker picker;
    struct rill_torrent t;
    struct rill__announcer *a;
    char logs[64][512];
    int nlogs;
};

static void capture(void *ctx, const char *line)
{
    struct fx *f = ctx;
    if (getenv("RILL_TEST_VERBOSE"))
        fprintf(stderr, "%s\n", line);
    if (f->nlogs < 64)
        snprintf(f->logs[f->nlogs++], sizeof f->logs[0], "%s", line);
}

static bool logged(const struct fx *f, const char *needle)
{
    for (int i = 0; i < f->nlogs; i++)
        if (strstr(f->logs[i], needle))
            return true;
    return false;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void fx_init(struct fx *f, int verbosity)
{
    memset(f, 0, sizeof *f);
    f->base = event_base_new();
    assert_non_null(f->base);
    /* Keeps EVLOOP_ONCE returning so run_until can look at the clock. */
    f->ticker = event_new(f->base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(f->ticker, &tv);
    struct rill_session_opts o = {.bind = "127.0.0.1",
                                  .rng_seed = 7,
                                  .log = capture,
                                  .log_ctx = f,
                                  .verbosity = verbosity,
                                  .workers = 1};
    assert_int_equal(rill_session_new(&f->s, f->base, &o), 0);
    memset(f->mi.info_hash, 0xab, sizeof f->mi.info_hash);
    f->mi.name = "test";
    f->mi.total_size = TOTAL_SIZE;
    f->mi.piece_length = PIECE;
    f->mi.piece_count = (TOTAL_SIZE + PIECE - 1) / PIECE;
    f->mi.tiers = f->tiers;
    assert_int_equal(
        rill_picker_init(&f->picker, f->mi.piece_count, PIECE, TOTAL_SIZE, &f->s->rng, NULL), 0);
    assert_int_equal(rill_picker_verified(&f->picker, 0), 0);
    f->t.s = f->s;
    f->t.mi = &f->mi;
    f->t.picker = &f->picker;
    f->t.uploaded = 1234;
    f->t.downloaded = 5678;
}

/* Adds a tracker URL to tier `tier` (tiers are added in order). */
__attribute__((format(printf, 3, 4))) static void fx_url(struct fx *f, size_t tier, const char *fmt,
                                                         ...)
{
    va_list ap;
    va_start(ap, fmt);
    char url[128];
    vsnprintf(url, sizeof url, fmt, ap);
    va_end(ap);
    struct rill_tier *t = &f->tiers[tier];
    f->urls[tier][t->count] = strdup(url);
    t->urls = f->urls[tier];
    t->count++;
    if (f->mi.tier_count <= tier)
        f->mi.tier_count = tier + 1;
}

static void fx_start(struct fx *f, unsigned speed)
{
    assert_int_equal(rill__announcer_new(&f->a, &f->t), 0);
    assert_non_null(f->a);
    rill__announcer_set_speed(f->a, speed);
    rill__announcer_start(f->a);
}

static void fx_free(struct fx *f)
{
    rill__announcer_free(f->a);
    rill_picker_free(&f->picker);
    free(f->t.cands);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            free(f->urls[i][j]);
    rill_session_free(f->s);
    event_free(f->ticker);
    event_base_free(f->base);
}

/* Runs the loop until *counter reaches `want` (or the announcer is idle
 * when counter is NULL); false after `ms`. */
static bool run_until(struct fx *f, const int *counter, int want, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (counter ? *counter < want : !rill__announcer_idle(f->a)) {
        if (now_ms() > end)
            return false;
        event_base_loop(f->base, EVLOOP_ONCE);
    }
    return true;
}

static void run_for(struct fx *f, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (now_ms() < end)
        event_base_loop(f->base, EVLOOP_ONCE);
}

static bool has_cand(const struct fx *f, const char *ip, uint16_t port)
{
    for (size_t i = 0; i < f->t.ncands; i++) {
        char text[64];
        const struct sockaddr_storage *ss = &f->t.cands[i].addr;
        uint16_t p;
        if (ss->ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
            inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
            p = ntohs(sin->sin_port);
        } else {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
            inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
            p = ntohs(sin6->sin6_port);
        }
        if (strcmp(text, ip) == 0 && p == port)
            return true;
    }
    return false;
}

static void compact4(uint8_t *out, const char *ip, uint16_t port)
{
    assert_int_equal(inet_pton(AF_INET, ip, out), 1);
    out[4] = (uint8_t)(port >> 8);
    out[5] = (uint8_t)port;
}

static void compact6(uint8_t *out, const char *ip, uint16_t port)
{
    assert_int_equal(inet_pton(AF_INET6, ip, out), 1);
    out[16] = (uint8_t)(port >> 8);
    out[17] = (uint8_t)port;
}

/* A TCP port nobody listens on (bound once, then closed). */
static unsigned dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* ------------------------------------------------------- HTTP tracker */

struct http_tracker {
    struct evhttp *http;
    unsigned port;
    int count;
    struct rill_tracker_query q[MAXREQ];
    uint64_t at[MAXREQ];
    char target[MAXREQ][512];
    char host[MAXREQ][64];
    const char *failure;
    int status; /* 0: 200 */
    uint32_t interval, min_interval;
    const char *trackerid;
    uint8_t peers4[6 * 4], peers6[18 * 2];
    size_t n4, n6;
};

static void http_reply(struct http_tracker *h, struct rill_buf *out)
{
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    if (h->failure) {
        rill_benc_key(&e, "failure reason");
        rill_benc_cstr(&e, h->failure);
    } else {
        rill_benc_key(&e, "interval");
        rill_benc_int(&e, h->interval);
        if (h->min_interval) {
            rill_benc_key(&e, "min interval");
            rill_benc_int(&e, h->min_interval);
        }
        if (h->trackerid) {
            rill_benc_key(&e, "tracker id");
            rill_benc_cstr(&e, h->trackerid);
        }
        rill_benc_key(&e, "complete");
        rill_benc_int(&e, 3);
        rill_benc_key(&e, "peers");
        rill_benc_str(&e, h->peers4, h->n4 * 6);
        if (h->n6) {
            rill_benc_key(&e, "peers6");
            rill_benc_str(&e, h->peers6, h->n6 * 18);
        }
    }
    rill_benc_end(&e);
    assert_int_equal(rill_benc_finish(&e), 0);
}

static void on_http(struct evhttp_request *req, void *arg)
{
    struct http_tracker *h = arg;
    const char *uri = evhttp_request_get_uri(req);
    const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    assert_true(h->count < MAXREQ);
    int i = h->count++;
    h->at[i] = now_ms();
    snprintf(h->target[i], sizeof h->target[i], "%s", uri);
    snprintf(h->host[i], sizeof h->host[i], "%s", host ? host : "");
    struct rill_error err;
    assert_int_equal(rill_tracker_query_parse(uri, strlen(uri), &h->q[i], &err), 0);
    struct rill_buf out;
    rill_buf_init(&out, 0);
    http_reply(h, &out);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, out.data, out.len);
    evhttp_send_reply(req, h->status ? h->status : 200, h->status ? "Nope" : "OK", b);
    evbuffer_free(b);
    rill_buf_free(&out);
}

/* False when `ip` cannot be bound here (no IPv6 loopback). */
static bool http_tracker_bind(struct http_tracker *h, struct event_base *base, const char *ip)
{
    memset(h, 0, sizeof *h);
    h->interval = 60;
    h->http = evhttp_new(base);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(h->http, ip, 0);
    if (!bs) {
        evhttp_free(h->http);
        return false;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len);
    h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    evhttp_set_gencb(h->http, on_http, h);
    return true;
}

static void http_tracker_init(struct http_tracker *h, struct event_base *base)
{
    assert_true(http_tracker_bind(h, base, "127.0.0.1"));
}

/* -------------------------------------------------------- UDP tracker */

struct udp_tracker {
    evutil_socket_t fd;
    struct event *ev;
    unsigned port;
    int family;
    bool silent;
    int packets, connects, announces;
    uint64_t next_cid;
    uint64_t cid_used[MAXREQ];
    struct rill_tracker_query q[MAXREQ];
    uint64_t first_at, announce_at;
};

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct udp_tracker *u = arg;
    uint8_t p[2048], out[512];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(fd, p, sizeof p, 0, (struct sockaddr *)&from, &flen);
    if (n <= 0)
        return;
    if (u->packets++ == 0)
        u->first_at = now_ms();
    if (u->silent)
        return;
    struct rill_udp_request r;
    struct rill_error err;
    assert_int_equal(rill_udp_request_parse(p, (size_t)n, &r, &err), 0);
    size_t len;
    if (r.action == RILL_UDP_CONNECT) {
        u->connects++;
        u->next_cid = 0x1122334455660000ull + (uint64_t)u->connects;
        len = rill_udp_connect_response(out, r.transaction_id, u->next_cid);
    } else {
        assert_int_equal(r.action, RILL_UDP_ANNOUNCE);
        assert_true(u->announces < MAXREQ);
        u->cid_used[u->announces] = r.connection_id;
        u->q[u->announces++] = r.query;
        u->announce_at = now_ms();
        uint8_t peer[18];
        /* The client's socket family decides the peer size. */
        const struct sockaddr_in6 *f6 = (const struct sockaddr_in6 *)&from;
        bool v6 = from.ss_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&f6->sin6_addr);
        int fam = v6 ? RILL_TRACKER_IPV6 : RILL_TRACKER_IPV4;
        if (fam == RILL_TRACKER_IPV6)
            compact6(peer, "2001:db8::2", 6882);
        else
            compact4(peer, "10.0.0.2", 6882);
        int rc =
            rill_udp_announce_response(out, sizeof out, r.transaction_id, 1800, 1, 2, fam, peer, 1);
        assert_true(rc > 0);
        len = (size_t)rc;
    }
    sendto(fd, out, len, 0, (struct sockaddr *)&from, flen);
}

/* AF_INET, AF_INET6 (on the loopback) or AF_UNSPEC (both, on [::]).
 * False when the family is not available here. */
static bool udp_tracker_init(struct udp_tracker *u, struct event_base *base, int family)
{
    memset(u, 0, sizeof *u);
    u->family = family;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    bool dual = family == AF_UNSPEC; /* [::] taking IPv4 too */
    if (dual)
        family = AF_INET6;
    if (family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = dual ? in6addr_any : in6addr_loopback;
        len = sizeof *sin6;
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *sin;
    }
    u->fd = socket(family, SOCK_DGRAM, 0);
    int off = 0;
    if (dual && u->fd >= 0)
        setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (u->fd < 0 || bind(u->fd, (struct sockaddr *)&ss, len) != 0) {
        if (u->fd >= 0)
            close(u->fd);
        return false;
    }
    getsockname(u->fd, (struct sockaddr *)&ss, &len);
    u->port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                       : ((struct sockaddr_in *)&ss)->sin_port);
    evutil_make_socket_nonblocking(u->fd);
    u->ev = event_new(base, u->fd, EV_READ | EV_PERSIST, on_udp, u);
    event_add(u->ev, NULL);
    return true;
}

static void udp_tracker_free(struct udp_tracker *u)
{
    event_free(u->ev);
    close(u->fd);
}

/* -------------------------------------------------------------- tests */

/* The first announce of test_http_events, field by field. */
static void check_first_query(const struct fx *f, const struct http_tracker *h)
{
    const struct rill_tracker_query *q = &h->q[0];
    assert_int_equal(q->event, RILL_TRACKER_EVENT_STARTED);
    assert_memory_equal(q->info_hash, f->mi.info_hash, 20);
    assert_memory_equal(q->peer_id, f->s->peer_id, 20);
    assert_int_equal(q->port, f->s->port);
    assert_int_equal(q->uploaded, 1234);
    assert_int_equal(q->downloaded, 5678);
    assert_int_equal(q->left, TOTAL_SIZE - PIECE);
    assert_int_equal(q->numwant, 50);
    assert_true(q->compact && q->has_key);
    assert_int_equal(q->trackerid_len, 0);
    assert_non_null(strstr(h->target[0], "/announce?passkey=abc&info_hash="));
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%u", h->port);
    assert_string_equal(h->host[0], host);
}

/* started, completed, an interval update and stopped, with every query
 * field checked and the peers delivered. */
static void test_http_events(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 2);
    struct http_tracker h;
    http_tracker_init(&h, f.base);
    h.trackerid = "tid-1";
    compact4(h.peers4, "127.0.0.1", f.s->port); /* ourselves: skipped */
    compact4(h.peers4 + 6, "10.0.0.1", 6881);
    compact4(h.peers4 + 12, "127.0.0.1", 7000);
    compact6(h.peers6, "2001:db8::1", 51413);
    h.n4 = 3;
    h.n6 = 1;
    fx_url(&f, 0, "http://127.0.0.1:%u/announce?passkey=abc", h.port);
    fx_start(&f, 100);

    assert_true(run_until(&f, &h.count, 1, 3000));
    check_first_query(&f, &h);
    const struct rill_tracker_query *q = &h.q[0];

    run_for(&f, 50);
    assert_int_equal(f.t.ncands, 3);
    assert_true(has_cand(&f, "10.0.0.1", 6881));
    assert_true(has_cand(&f, "127.0.0.1", 7000));
    assert_true(has_cand(&f, "2001:db8::1", 51413));

    rill__announcer_completed(f.a);
    rill__announcer_completed(f.a); /* once */
    assert_true(run_until(&f, &h.count, 2, 3000));
    assert_int_equal(h.q[1].event, RILL_TRACKER_EVENT_COMPLETED);
    assert_int_equal(h.q[1].key, q->key);
    assert_int_equal(h.q[1].trackerid_len, 5);
    assert_memory_equal(h.q[1].trackerid, "tid-1", 5);
    assert_true(h.at[1] - h.at[0] < 590); /* not after the interval */

    /* interval 60 s at speed 100: the update comes 600 ms later */
    assert_true(run_until(&f, &h.count, 3, 3000));
    assert_int_equal(h.q[2].event, RILL_TRACKER_EVENT_NONE);
    assert_true(h.at[2] - h.at[1] >= 590);
    assert_true(h.at[2] - h.at[1] < 1500);
    assert_true(run_until(&f, NULL, 0, 3000));

    rill__announcer_stop(f.a);
    assert_false(rill__announcer_idle(f.a));
    assert_true(run_until(&f, &h.count, 4, 3000));
    assert_int_equal(h.q[3].event, RILL_TRACKER_EVENT_STOPPED);
    assert_int_equal(h.q[3].numwant, 0);
    assert_true(run_until(&f, NULL, 0, 3000));
    run_for(&f, 700); /* nothing more after stopped */
    assert_int_equal(h.count, 4);
    evhttp_free(h.http);
    fx_free(&f);
}

/* A failure reason is logged at level 0 and the announce backs off,
 * doubling; started is repeated until one is acknowledged. */
static void test_http_failure_backoff(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 0);
    struct http_tracker h;
    http_tracker_init(&h, f.base);
    h.failure = "torrent not registered";
    fx_url(&f, 0, "http://127.0.0.1:%u/announce", h.port);
    fx_start(&f, 200);
    assert_true(run_until(&f, &h.count, 3, 3000));
    assert_true(logged(&f, "torrent not registered"));
    assert_true(logged(&f, "no tracker answered (http://127.0.0.1:"));
    /* 30 s then 60 s at speed 200 */
    assert_true(h.at[1] - h.at[0] >= 145);
    assert_true(h.at[2] - h.at[1] >= 295);
    assert_true(h.at[2] - h.at[1] < 1000);
    h.failure = NULL;
    assert_true(run_until(&f, &h.count, 4, 3000));
    assert_true(h.at[3] - h.at[2] >= 595);
    for (int i = 0; i < 4; i++)
        assert_int_equal(h.q[i].event, RILL_TRACKER_EVENT_STARTED);
    run_for(&f, 100);
    assert_true(rill__announcer_idle(f.a));
    evhttp_free(h.http);
    fx_free(&f);
}

/* BEP 12: an https URL, a dead tracker and one answering 404 in tier 0
 * are passed over for tier 1. In tier 1, the tracker that answers moves to
 * the front: once the first one refuses, the second answers and is asked
 * first from then on. stopped goes to both trackers that were announced to. */
static void test_tier_fallover(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 2);
    struct http_tracker t404, x, y;
    http_tracker_init(&t404, f.base);
    http_tracker_init(&x, f.base);
    http_tracker_init(&y, f.base);
    t404.status = 404;
    fx_url(&f, 0, "https://127.0.0.1:%u/announce", x.port);
    fx_url(&f, 0, "http://127.0.0.1:%u/announce", dead_port());
    fx_url(&f, 0, "http://127.0.0.1:%u/announce", t404.port);
    fx_url(&f, 1, "http://127.0.0.1:%u/announce", x.port);
    fx_url(&f, 1, "http://127.0.0.1:%u/announce", y.port);
    fx_start(&f, 100);
    uint64_t end = now_ms() + 3000;
    while (x.count + y.count == 0 && now_ms() < end)
        event_base_loop(f.base, EVLOOP_ONCE);
    assert_int_equal(x.count + y.count, 1);
    assert_int_equal(t404.count, 1);
    assert_true(logged(&f, "https trackers are not supported"));
    assert_true(logged(&f, "cannot connect"));
    assert_true(logged(&f, "HTTP status 404"));
    /* p answered first (BEP 12 shuffle decides which); now it refuses */
    struct http_tracker *p = x.count ? &x : &y, *q = x.count ? &y : &x;
    assert_int_equal(p->q[0].event, RILL_TRACKER_EVENT_STARTED);
    p->failure = "go away";
    assert_true(run_until(&f, &q->count, 1, 3000));
    assert_int_equal(p->count, 2);
    assert_int_equal(q->q[0].event, RILL_TRACKER_EVENT_STARTED);
    assert_true(logged(&f, "go away"));
    assert_true(run_until(&f, &q->count, 2, 3000));
    assert_int_equal(q->q[1].event, RILL_TRACKER_EVENT_NONE);
    assert_int_equal(p->count, 2);   /* q is at the front now */
    assert_int_equal(t404.count, 3); /* tier 0 is always tried first */
    rill__announcer_stop(f.a);
    assert_true(run_until(&f, &q->count, 3, 3000));
    assert_true(run_until(&f, NULL, 0, 3000));
    assert_int_equal(q->q[2].event, RILL_TRACKER_EVENT_STOPPED);
    assert_int_equal(p->count, 3);
    assert_int_equal(p->q[2].event, RILL_TRACKER_EVENT_STOPPED);
    assert_int_equal(t404.count, 3); /* it never acknowledged anything */
    evhttp_free(t404.http);
    evhttp_free(x.http);
    evhttp_free(y.http);
    fx_free(&f);
}

/* An IPv6 literal: brackets in the Host header, none for the connection. */
static void test_http_ipv6(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 2);
    struct http_tracker h;
    if (!http_tracker_bind(&h, f.base, "::1")) {
        fx_free(&f);
        skip();
    }
    compact6(h.peers6, "2001:db8::7", 7777);
    h.n6 = 1;
    fx_url(&f, 0, "http://[::1]:%u/announce", h.port);
    fx_start(&f, 1);
    assert_true(run_until(&f, &h.count, 1, 3000));
    char host[64];
    snprintf(host, sizeof host, "[::1]:%u", h.port);
    assert_string_equal(h.host[0], host);
    assert_int_equal(h.q[0].event, RILL_TRACKER_EVENT_STARTED);
    assert_true(run_until(&f, NULL, 0, 3000));
    assert_true(has_cand(&f, "2001:db8::7", 7777));
    evhttp_free(h.http);
    fx_free(&f);
}

/* BEP 15: connect, then announce; completed and stopped soon after reuse
 * the connection id. */
static void udp_events(int family)
{
    struct fx f;
    fx_init(&f, 2);
    struct udp_tracker u;
    if (!udp_tracker_init(&u, f.base, family)) {
        fx_free(&f);
        skip();
    }
    if (family == AF_INET6)
        fx_url(&f, 0, "udp://[::1]:%u", u.port);
    else
        fx_url(&f, 0, "udp://127.0.0.1:%u/announce", u.port);
    fx_start(&f, 1);
    assert_true(run_until(&f, &u.announces, 1, 3000));
    assert_int_equal(u.connects, 1);
    assert_int_equal(u.cid_used[0], u.next_cid);
    assert_int_equal(u.q[0].event, RILL_TRACKER_EVENT_STARTED);
    assert_memory_equal(u.q[0].info_hash, f.mi.info_hash, 20);
    assert_int_equal(u.q[0].port, f.s->port);
    assert_int_equal(u.q[0].left, TOTAL_SIZE - PIECE);
    assert_int_equal(u.q[0].numwant, 50);
    rill__announcer_completed(f.a);
    assert_true(run_until(&f, &u.announces, 2, 3000));
    assert_int_equal(u.q[1].event, RILL_TRACKER_EVENT_COMPLETED);
    assert_true(run_until(&f, NULL, 0, 3000));
    rill__announcer_stop(f.a);
    assert_true(run_until(&f, &u.announces, 3, 3000));
    assert_int_equal(u.q[2].event, RILL_TRACKER_EVENT_STOPPED);
    assert_int_equal(u.connects, 1);
    assert_int_equal(u.cid_used[2], u.next_cid);
    assert_true(run_until(&f, NULL, 0, 3000));
    assert_int_equal(f.t.ncands, 1);
    assert_true(family == AF_INET6 ? has_cand(&f, "2001:db8::2", 6882)
                                   : has_cand(&f, "10.0.0.2", 6882));
    udp_tracker_free(&u);
    fx_free(&f);
}

static void test_udp_events(void **state)
{
    (void)state;
    udp_events(AF_INET);
}

static void test_udp_events_ipv6(void **state)
{
    (void)state;
    udp_events(AF_INET6);
}

/* A host name goes through the resolver (localhost: the hosts file). */
static void test_udp_dns(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 2);
    struct udp_tracker u;
    if (!udp_tracker_init(&u, f.base, AF_UNSPEC)) {
        fx_free(&f);
        skip();
    }
    fx_url(&f, 0, "udp://localhost:%u", u.port);
    fx_start(&f, 1);
    assert_true(run_until(&f, &u.announces, 1, 5000));
    assert_int_equal(u.q[0].event, RILL_TRACKER_EVENT_STARTED);
    assert_true(run_until(&f, NULL, 0, 3000));
    assert_int_equal(f.t.ncands, 1);
    udp_tracker_free(&u);
    fx_free(&f);
}

/* A UDP port that is closed fails at once (ICMP, through the connected
 * socket); a UDP tracker that never answers is given up after two tries
 * (15 s and 30 s at speed 100); the third tier's tracker then gets the
 * announce, and stopped goes only to it. */
static void test_udp_fallover(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 2);
    struct udp_tracker closed, mute, live;
    assert_true(udp_tracker_init(&closed, f.base, AF_INET));
    assert_true(udp_tracker_init(&mute, f.base, AF_INET));
    assert_true(udp_tracker_init(&live, f.base, AF_INET));
    unsigned closed_port = closed.port;
    udp_tracker_free(&closed);
    mute.silent = true;
    fx_url(&f, 0, "udp://127.0.0.1:%u", closed_port);
    fx_url(&f, 1, "udp://127.0.0.1:%u", mute.port);
    fx_url(&f, 2, "udp://127.0.0.1:%u", live.port);
    fx_start(&f, 100);
    assert_true(run_until(&f, &live.announces, 1, 3000));
    assert_true(logged(&f, "connection refused"));
    assert_int_equal(mute.packets, 2);
    assert_true(live.announce_at - mute.first_at >= 440);
    assert_int_equal(live.q[0].event, RILL_TRACKER_EVENT_STARTED);
    assert_true(logged(&f, "no answer after 2 tries"));
    rill__announcer_stop(f.a);
    assert_true(run_until(&f, &live.announces, 2, 3000));
    assert_int_equal(live.q[1].event, RILL_TRACKER_EVENT_STOPPED);
    assert_true(run_until(&f, NULL, 0, 3000));
    assert_int_equal(mute.packets, 2);
    udp_tracker_free(&mute);
    udp_tracker_free(&live);
    fx_free(&f);
}

/* stopped is best effort: to a silent tracker, one try, then idle within
 * the stop bound (5 s at speed 100: 50 ms). */
static void test_stop_bounded(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 2);
    struct udp_tracker mute;
    assert_true(udp_tracker_init(&mute, f.base, AF_INET));
    mute.silent = true;
    fx_url(&f, 0, "udp://127.0.0.1:%u", mute.port);
    fx_start(&f, 100);
    assert_true(run_until(&f, &mute.packets, 1, 3000));
    run_for(&f, 20);
    rill__announcer_stop(f.a); /* the started in flight may have arrived */
    uint64_t t0 = now_ms();
    assert_true(run_until(&f, NULL, 0, 3000));
    assert_true(now_ms() - t0 < 1000); /* not the BEP 15 schedule */
    assert_int_equal(mute.packets, 2);
    assert_true(logged(&f, "no answer in time"));
    run_for(&f, 300);
    assert_int_equal(mute.packets, 2);
    udp_tracker_free(&mute);
    fx_free(&f);
}

/* `rill get` stops right after completing: completed still goes out,
 * then stopped, both with numwant 0. */
static void test_completed_then_stop(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 2);
    struct http_tracker h;
    http_tracker_init(&h, f.base);
    fx_url(&f, 0, "http://127.0.0.1:%u/announce", h.port);
    fx_start(&f, 1);
    assert_true(run_until(&f, &h.count, 1, 3000));
    assert_true(run_until(&f, NULL, 0, 3000));
    rill__announcer_completed(f.a);
    rill__announcer_stop(f.a);
    assert_true(run_until(&f, &h.count, 3, 3000));
    assert_true(run_until(&f, NULL, 0, 3000));
    assert_int_equal(h.q[1].event, RILL_TRACKER_EVENT_COMPLETED);
    assert_int_equal(h.q[2].event, RILL_TRACKER_EVENT_STOPPED);
    assert_int_equal(h.q[1].numwant, 0);
    assert_int_equal(h.q[2].numwant, 0);
    run_for(&f, 100);
    assert_int_equal(h.count, 3);
    evhttp_free(h.http);
    fx_free(&f);
}

/* want_peers announces early, but not before `min interval`. */
static void test_want_peers_min_interval(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 2);
    struct http_tracker h;
    http_tracker_init(&h, f.base);
    h.interval = 1800;   /* 18 s at speed 100 */
    h.min_interval = 90; /* 900 ms */
    fx_url(&f, 0, "http://127.0.0.1:%u/announce", h.port);
    fx_start(&f, 100);
    assert_true(run_until(&f, &h.count, 1, 3000));
    run_for(&f, 20);
    rill__announcer_want_peers(f.a);
    assert_true(run_until(&f, &h.count, 2, 3000));
    assert_true(h.at[1] - h.at[0] >= 885);
    assert_true(h.at[1] - h.at[0] < 2000);
    assert_int_equal(h.q[1].event, RILL_TRACKER_EVENT_NONE);
    evhttp_free(h.http);
    fx_free(&f);
}

/* Nothing to announce to: no announcer, and every call is safe on NULL. */
static void test_no_trackers(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, 0);
    assert_int_equal(rill__announcer_new(&f.a, &f.t), 0);
    assert_null(f.a);
    fx_url(&f, 0, "wss://tracker.example/%u", 1);
    assert_int_equal(rill__announcer_new(&f.a, &f.t), 0);
    assert_null(f.a);
    assert_true(logged(&f, "not an http:// or udp:// URL"));
    rill__announcer_start(NULL);
    rill__announcer_completed(NULL);
    rill__announcer_want_peers(NULL);
    rill__announcer_stop(NULL);
    assert_true(rill__announcer_idle(NULL));
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_events),
        cmocka_unit_test(test_http_failure_backoff),
        cmocka_unit_test(test_tier_fallover),
        cmocka_unit_test(test_http_ipv6),
        cmocka_unit_test(test_udp_events),
        cmocka_unit_test(test_udp_events_ipv6),
        cmocka_unit_test(test_udp_dns),
        cmocka_unit_test(test_udp_fallover),
        cmocka_unit_test(test_stop_bounded),
        cmocka_unit_test(test_completed_then_stop),
        cmocka_unit_test(test_want_peers_min_interval),
        cmocka_unit_test(test_no_trackers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
