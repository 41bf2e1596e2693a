#define _GNU_SOURCE /* memmem */
/* rill tracker's front ends end to end on loopback: HTTP announce, scrape,
 * /stats, keep-alive, bad requests, the whitelist and its reload; UDP
 * connect, announce, scrape, stale connection ids and junk. The clients
 * are raw sockets pumped together with the server's event loop, and the
 * replies are read with the same parsers rill's own client uses. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/tracker_msg.h"
#include "core/tracker_msg_internal.h"
#include "util/util.h"

struct fx {
    struct event_base *base;
    struct rill_tracker_server *t;
    char *dir;
    char whitelist[600];
};

/* False when the addresses cannot be bound (no IPv6 loopback). */
static bool fx_start_on(struct fx *f, const char *whitelist_text, const char *addr)
{
    memset(f, 0, sizeof *f);
    f->base = event_base_new();
    f->dir = tu_tempdir();
    struct rill_tracker_server_opts o = {.http = addr, .udp = addr, .rng_seed = 9,
                                         .interval_s = 120, .idle_timeout_s = 1};
    if (whitelist_text) {
        snprintf(f->whitelist, sizeof f->whitelist, "%s/whitelist", f->dir);
        tu_write_file(f->whitelist, whitelist_text, strlen(whitelist_text));
        o.whitelist = f->whitelist;
    }
    struct rill_error err = {0};
    if (rill_tracker_server_new(&f->t, f->base, &o, &err) != 0)
        return false;
    assert_true(rill_tracker_server_http_port(f->t) > 0);
    assert_true(rill_tracker_server_udp_port(f->t) > 0);
    return true;
}

static void fx_start(struct fx *f, const char *whitelist_text)
{
    assert_true(fx_start_on(f, whitelist_text, "127.0.0.1:0"));
}

static void fx_stop(struct fx *f)
{
    rill_tracker_server_free(f->t);
    event_base_free(f->base);
    tu_rmrf(f->dir);
    free(f->dir);
}

static int dial_family(int family, int type, uint16_t port)
{
    int fd = socket(family, type | SOCK_NONBLOCK, 0);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        s6->sin6_addr = in6addr_loopback;
        len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *s4;
    }
    int rc = connect(fd, (struct sockaddr *)&ss, len);
    assert_true(rc == 0 || errno == EINPROGRESS);
    return fd;
}

static int dial(int type, uint16_t port)
{
    return dial_family(AF_INET, type, port);
}

/* Runs the server's loop until `fd` has bytes, up to 2 s; reads them. */
static ssize_t pump_read(struct fx *f, int fd, uint8_t *buf, size_t cap)
{
    uint64_t end = tu_now_ms() + 2000;
    while (tu_now_ms() < end) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno != EAGAIN)
            return -1;
        usleep(1000);
    }
    return -2; /* nothing came */
}

static void send_all(struct fx *f, int fd, const void *p, size_t n)
{
    for (size_t done = 0; done < n;) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        ssize_t k = send(fd, (const uint8_t *)p + done, n - done, MSG_NOSIGNAL);
        if (k > 0)
            done += (size_t)k;
        else
            assert_true(errno == EAGAIN || errno == ENOTCONN);
    }
}

/* One HTTP/1.1 GET on `fd` (kept alive); the body goes to `body`. Returns
 * the status code, or -1 when the server closed first. */
static int http_get(struct fx *f, int fd, const char *target, struct rill_buf *body)
{
    char req[8192];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: tracker\r\n\r\n", target);
    send_all(f, fd, req, (size_t)n);
    struct rill_buf in;
    rill_buf_init(&in, 1 << 20);
    int status = -1;
    for (;;) {
        uint8_t chunk[8192];
        ssize_t k = pump_read(f, fd, chunk, sizeof chunk);
        if (k <= 0)
            break;
        rill_buf_append(&in, chunk, (size_t)k);
        rill_buf_append(&in, "", 1);
        in.len--;
        const char *hdr_end = strstr((const char *)in.data, "\r\n\r\n");
        const char *cl = strstr((const char *)in.data, "Content-Length: ");
        if (!hdr_end || !cl)
            continue;
        size_t len = strtoul(cl + 16, NULL, 10), off = (size_t)(hdr_end + 4 - (char *)in.data);
        if (in.len < off + len)
            continue;
        status = (int)strtol((const char *)in.data + 9, NULL, 10);
        rill_buf_append(body, in.data + off, len);
        break;
    }
    rill_buf_free(&in);
    return status;
}

static void hash_of(uint8_t h[20], int i)
{
    memset(h, 0, 20);
    h[0] = 0xa5;
    h[19] = (uint8_t)i;
}

/* An announce target for torrent `i` from a peer listening on `port`. */
static void announce_target(char *out, size_t cap, int i, uint16_t port, uint64_t left,
                            const char *extra)
{
    uint8_t h[20];
    hash_of(h, i);
    char enc[61] = {0};
    for (int k = 0; k < 20; k++)
        snprintf(enc + 3 * k, 4, "%%%02x", h[k]);
    snprintf(out, cap,
             "/announce?info_hash=%s&peer_id=-XX0000-%012u&port=%u&uploaded=0&downloaded=0"
             "&left=%llu&compact=1%s",
             enc, port, port, (unsigned long long)left, extra);
}

static int announce_http(struct fx *f, int fd, int torrent, uint16_t port, uint64_t left,
                         const char *extra, struct rill_tracker_reply *r,
                         struct rill_tracker_peer *peers, size_t cap)
{
    char target[512];
    announce_target(target, sizeof target, torrent, port, left, extra);
    struct rill_buf body;
    rill_buf_init(&body, 0);
    int status = http_get(f, fd, target, &body);
    assert_int_equal(status, 200);
    memset(r, 0, sizeof *r);
    r->peers = peers;
    r->peer_cap = cap;
    int rc = rill_tracker_response_parse(body.data, body.len, r, NULL);
    rill_buf_free(&body);
    return rc;
}

static bool has_port(const struct rill_tracker_reply *r, uint16_t port)
{
    for (size_t i = 0; i < r->peer_count; i++)
        if (r->peers[i].port == port)
            return true;
    return false;
}

static void test_http_announce_and_scrape(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, NULL);
    int fd = dial(SOCK_STREAM, rill_tracker_server_http_port(f.t));
    struct rill_tracker_peer peers[64];
    struct rill_tracker_reply r;
    /* Three leechers and a seed on one torrent; keep-alive: one connection. */
    for (uint16_t p = 7001; p <= 7003; p++)
        assert_int_equal(announce_http(&f, fd, 1, p, 1000, "&event=started", &r, peers, 64), 0);
    assert_int_equal(r.peer_count, 2);
    assert_true(has_port(&r, 7001) && has_port(&r, 7002) && !has_port(&r, 7003));
    assert_int_equal(r.incomplete, 3);
    assert_int_equal(r.interval, 120);
    assert_int_equal(announce_http(&f, fd, 1, 7004, 0, "&event=completed", &r, peers, 64), 0);
    assert_int_equal(r.complete, 1);
    assert_int_equal(r.peer_count, 3); /* a seed gets the leechers */
    /* stopped leaves at once */
    assert_int_equal(announce_http(&f, fd, 1, 7001, 1000, "&event=stopped", &r, peers, 64), 0);
    assert_int_equal(announce_http(&f, fd, 1, 7002, 1000, "", &r, peers, 64), 0);
    assert_false(has_port(&r, 7001));
    assert_int_equal(r.incomplete, 2);

    uint8_t h[20];
    hash_of(h, 1);
    char target[256] = "/scrape?info_hash=";
    for (int k = 0; k < 20; k++)
        snprintf(target + strlen(target), 4, "%%%02x", h[k]);
    struct rill_buf body;
    rill_buf_init(&body, 0);
    assert_int_equal(http_get(&f, fd, target, &body), 200);
    assert_non_null(memmem(body.data, body.len, "8:completei1e", 13));
    assert_non_null(memmem(body.data, body.len, "10:incompletei2e", 16));
    body.len = 0;
    assert_int_equal(http_get(&f, fd, "/stats", &body), 200);
    rill_buf_append(&body, "", 1);
    assert_non_null(strstr((char *)body.data, "\"torrents\": 1"));
    assert_non_null(strstr((char *)body.data, "\"peers\": 3"));
    body.len = 0;
    assert_int_equal(http_get(&f, fd, "/", &body), 200);
    assert_non_null(memmem(body.data, body.len, "rill tracker", 12));
    body.len = 0;
    assert_int_equal(http_get(&f, fd, "/nothing-here", &body), 404);
    rill_buf_free(&body);
    close(fd);
    fx_stop(&f);
}

static void expect_failure(struct fx *f, int fd, const char *target, const char *needle)
{
    struct rill_buf body;
    rill_buf_init(&body, 0);
    assert_int_equal(http_get(f, fd, target, &body), 200);
    struct rill_tracker_reply r = {0};
    assert_int_equal(rill_tracker_response_parse(body.data, body.len, &r, NULL),
                     RILL_TRACKER_FAILED);
    if (!strstr(r.failure, needle))
        fail_msg("failure '%s' does not say '%s'", r.failure, needle);
    rill_buf_free(&body);
}

static void test_http_bad_requests(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, NULL);
    int fd = dial(SOCK_STREAM, rill_tracker_server_http_port(f.t));
    expect_failure(&f, fd, "/announce?info_hash=short&peer_id=x&port=1", "info_hash");
    char target[512];
    announce_target(target, sizeof target, 1, 0, 5, "");
    expect_failure(&f, fd, target, "port");
    announce_target(target, sizeof target, 1, 80, 5, "&left=5");
    expect_failure(&f, fd, target, "left");
    expect_failure(&f, fd, "/scrape", "info_hash");
    /* The connection survived every failure. */
    struct rill_tracker_peer peers[8];
    struct rill_tracker_reply r;
    assert_int_equal(announce_http(&f, fd, 2, 7100, 5, "", &r, peers, 8), 0);
    close(fd);

    /* Headers past the cap: refused and closed, the server lives on. */
    fd = dial(SOCK_STREAM, rill_tracker_server_http_port(f.t));
    char *big = malloc(20000);
    memset(big, 'a', 19999);
    big[19999] = 0;
    char head[64];
    snprintf(head, sizeof head, "GET /announce HTTP/1.1\r\nX-Big: ");
    send_all(&f, fd, head, strlen(head));
    send_all(&f, fd, big, 19999);
    free(big);
    uint8_t buf[4096];
    ssize_t n;
    while ((n = pump_read(&f, fd, buf, sizeof buf)) > 0)
        ;
    assert_true(n == 0 || n == -1); /* closed (after an error reply, or at once) */
    close(fd);
    fd = dial(SOCK_STREAM, rill_tracker_server_http_port(f.t));
    assert_int_equal(announce_http(&f, fd, 2, 7101, 5, "", &r, peers, 8), 0);
    assert_true(has_port(&r, 7100));
    close(fd);

    /* A client that starts a request and never finishes it is dropped
     * after the idle timeout (1 s here), and costs nothing after. */
    fd = dial(SOCK_STREAM, rill_tracker_server_http_port(f.t));
    send_all(&f, fd, "GET /announce?info_ha", 21);
    uint64_t t0 = tu_now_ms();
    for (n = -2; n == -2 && tu_now_ms() - t0 < 5000;)
        n = pump_read(&f, fd, buf, sizeof buf);
    while (n > 0) /* an error reply first, maybe */
        n = pump_read(&f, fd, buf, sizeof buf);
    assert_true(n == 0 || n == -1);
    assert_true(tu_now_ms() - t0 >= 900);
    close(fd);
    struct rill_tracker_server_stats st;
    rill_tracker_server_stats(f.t, &st);
    assert_true(st.errors >= 3); /* the three malformed announces */
    fx_stop(&f);
}

static void test_whitelist_and_reload(void **state)
{
    (void)state;
    uint8_t h[20];
    hash_of(h, 3);
    char hex[41], text[128];
    rill_hex(h, 20, hex);
    snprintf(text, sizeof text, "# allowed\n%s\n\n", hex);
    struct fx f;
    fx_start(&f, text);
    int fd = dial(SOCK_STREAM, rill_tracker_server_http_port(f.t));
    struct rill_tracker_peer peers[8];
    struct rill_tracker_reply r;
    assert_int_equal(announce_http(&f, fd, 3, 7200, 5, "", &r, peers, 8), 0);
    char target[512];
    announce_target(target, sizeof target, 4, 7200, 5, "");
    expect_failure(&f, fd, target, "whitelist");
    /* A broken file leaves the old list in force; a good one replaces it. */
    tu_write_file(f.whitelist, "not hex\n", 8);
    struct rill_error err = {0};
    assert_int_equal(rill_tracker_server_reload(f.t, &err), RILL_ESYNTAX);
    assert_int_equal(announce_http(&f, fd, 3, 7201, 5, "", &r, peers, 8), 0);
    hash_of(h, 4);
    rill_hex(h, 20, hex);
    tu_write_file(f.whitelist, hex, 40);
    assert_int_equal(rill_tracker_server_reload(f.t, &err), 0);
    assert_int_equal(announce_http(&f, fd, 4, 7202, 5, "", &r, peers, 8), 0);
    announce_target(target, sizeof target, 3, 7200, 5, "");
    expect_failure(&f, fd, target, "whitelist");
    close(fd);
    fx_stop(&f);
}

/* ------------------------------------------------------------------ UDP */

static ssize_t udp_ask(struct fx *f, int fd, const uint8_t *pkt, size_t n, uint8_t *reply,
                       size_t cap)
{
    assert_int_equal(send(fd, pkt, n, 0), (ssize_t)n);
    return pump_read(f, fd, reply, cap);
}

static uint64_t udp_connect_family(struct fx *f, int fd, int family)
{
    uint8_t pkt[RILL_UDP_CONNECT_LEN], reply[64];
    rill_udp_connect_request(pkt, 77);
    ssize_t n = udp_ask(f, fd, pkt, sizeof pkt, reply, sizeof reply);
    assert_int_equal(n, 16);
    struct rill_udp_response r;
    assert_int_equal(rill_udp_response_parse(reply, (size_t)n, 77, family, &r, NULL, NULL), 0);
    assert_int_equal(r.action, RILL_UDP_CONNECT);
    return r.connection_id;
}

static uint64_t udp_connect(struct fx *f, int fd)
{
    return udp_connect_family(f, fd, RILL_TRACKER_IPV4);
}

static int udp_announce_family(struct fx *f, int fd, int family, uint64_t cid, int torrent,
                               uint16_t port, uint64_t left, struct rill_tracker_reply *rep,
                               struct rill_tracker_peer *peers, size_t cap)
{
    struct rill_tracker_announce a = {.port = port, .left = left, .numwant = 50,
                                      .event = RILL_TRACKER_EVENT_STARTED};
    hash_of(a.info_hash, torrent);
    memset(a.peer_id, 'p', 20);
    uint8_t pkt[RILL_UDP_ANNOUNCE_LEN], reply[4096];
    rill_udp_announce_request(pkt, cid, 88, &a);
    ssize_t n = udp_ask(f, fd, pkt, sizeof pkt, reply, sizeof reply);
    assert_true(n > 0);
    memset(rep, 0, sizeof *rep);
    rep->peers = peers;
    rep->peer_cap = cap;
    struct rill_udp_response r;
    int rc = rill_udp_response_parse(reply, (size_t)n, 88, family, &r, rep, NULL);
    assert_int_equal(rc, 0);
    return (int)r.action;
}

static int udp_announce(struct fx *f, int fd, uint64_t cid, int torrent, uint16_t port,
                        uint64_t left, struct rill_tracker_reply *rep,
                        struct rill_tracker_peer *peers, size_t cap)
{
    return udp_announce_family(f, fd, RILL_TRACKER_IPV4, cid, torrent, port, left, rep, peers,
                               cap);
}

/* IPv6 on both front ends: UDP replies carry 18-byte peers, HTTP ones
 * `peers6`, and IPv4 and IPv6 peers of one torrent stay apart. */
static void test_ipv6(void **state)
{
    (void)state;
    struct fx f;
    if (!fx_start_on(&f, NULL, "[::1]:0")) {
        event_base_free(f.base);
        tu_rmrf(f.dir);
        free(f.dir);
        skip();
    }
    uint16_t port = rill_tracker_server_udp_port(f.t);
    int a = dial_family(AF_INET6, SOCK_DGRAM, port);
    uint64_t ca = udp_connect_family(&f, a, RILL_TRACKER_IPV6);
    struct rill_tracker_peer peers[16];
    struct rill_tracker_reply rep;
    assert_int_equal(udp_announce_family(&f, a, RILL_TRACKER_IPV6, ca, 6, 7401, 10, &rep, peers,
                                         16), RILL_UDP_ANNOUNCE);
    int h = dial_family(AF_INET6, SOCK_STREAM, rill_tracker_server_http_port(f.t));
    assert_int_equal(announce_http(&f, h, 6, 7402, 10, "", &rep, peers, 16), 0);
    assert_int_equal(rep.peer_count, 1);
    assert_int_equal(peers[0].family, RILL_TRACKER_IPV6);
    assert_int_equal(peers[0].port, 7401);
    assert_true(peers[0].addr[15] == 1); /* ::1 */
    assert_int_equal(udp_announce_family(&f, a, RILL_TRACKER_IPV6, ca, 6, 7401, 10, &rep, peers,
                                         16), RILL_UDP_ANNOUNCE);
    assert_int_equal(rep.peer_count, 1);
    assert_int_equal(peers[0].port, 7402);
    close(a);
    close(h);
    fx_stop(&f);
}

static void test_udp(void **state)
{
    (void)state;
    struct fx f;
    fx_start(&f, NULL);
    uint16_t port = rill_tracker_server_udp_port(f.t);
    int a = dial(SOCK_DGRAM, port), b = dial(SOCK_DGRAM, port);
    uint64_t ca = udp_connect(&f, a), cb = udp_connect(&f, b);
    assert_true(ca != cb); /* the ids are bound to the client's address and port */
    struct rill_tracker_peer peers[64];
    struct rill_tracker_reply rep;
    assert_int_equal(udp_announce(&f, a, ca, 5, 7301, 10, &rep, peers, 64), RILL_UDP_ANNOUNCE);
    assert_int_equal(udp_announce(&f, b, cb, 5, 7302, 0, &rep, peers, 64), RILL_UDP_ANNOUNCE);
    assert_int_equal(rep.peer_count, 1);
    assert_int_equal(peers[0].port, 7301);
    assert_int_equal(rep.complete, 1);
    assert_int_equal(rep.incomplete, 1);
    /* b's id does not work from a */
    assert_int_equal(udp_announce(&f, a, cb, 5, 7301, 10, &rep, peers, 64), RILL_UDP_ERROR);
    assert_non_null(strstr(rep.failure, "connection id"));
    /* scrape */
    uint8_t h[1][20], pkt[64], reply[256];
    hash_of(h[0], 5);
    int n = rill_udp_scrape_request(pkt, sizeof pkt, ca, 99, (const uint8_t(*)[20])h, 1);
    ssize_t got = udp_ask(&f, a, pkt, (size_t)n, reply, sizeof reply);
    struct rill_udp_response r;
    assert_int_equal(rill_udp_response_parse(reply, (size_t)got, 99, RILL_TRACKER_IPV4, &r, NULL,
                                             NULL), 0);
    assert_int_equal(r.scrape_count, 1);
    assert_int_equal(rill__be32(r.scrape), 1);     /* seeders */
    assert_int_equal(rill__be32(r.scrape + 8), 1); /* leechers */
    /* junk: shorter than a header gets no answer; a bad action an error no
     * longer than the request */
    uint8_t junk[20] = {0};
    assert_int_equal(udp_ask(&f, a, junk, 8, reply, sizeof reply), -2);
    rill__put_be32(junk + 8, 9);
    got = udp_ask(&f, a, junk, sizeof junk, reply, sizeof reply);
    assert_true(got > 8 && got <= (ssize_t)sizeof junk);
    assert_int_equal(rill__be32(reply), RILL_UDP_ERROR);
    close(a);
    close(b);
    struct rill_tracker_server_stats st;
    rill_tracker_server_stats(f.t, &st);
    assert_int_equal(st.torrents, 1);
    assert_true(st.udp_packets >= 8);
    fx_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_announce_and_scrape),
        cmocka_unit_test(test_http_bad_requests),
        cmocka_unit_test(test_whitelist_and_reload),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
