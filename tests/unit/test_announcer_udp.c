/* The tracker client on a real event loop, against a tiny BEP 15 UDP
 * tracker written here with the tracker_msg core's server side: connect and
 * announce over IPv4, IPv6 and a resolved name, fallover past closed and
 * silent trackers, and the bound on stopped. The HTTP and tier tests are in
 * test_announcer.c. The announcer's clock runs 100 times fast. */
#include "testutil.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "announcer_fixture.h"

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
    char from[64];                   /* the client's address */
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
        u->first_at = tu_now_ms();
    fx_addr_text(&from, u->from, sizeof u->from);
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
        u->announce_at = tu_now_ms();
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

/* BEP 15: connect, then announce; completed and stopped soon after reuse
 * the connection id. */
static void udp_events(int family)
{
    struct fx f;
    fx_init_bind(&f, 2, family == AF_INET6 ? "::1" : "127.0.0.2");
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
    assert_string_equal(u.from, family == AF_INET6 ? "::1" : "127.0.0.2"); /* from --bind */
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
    uint64_t t0 = tu_now_ms();
    assert_true(run_until(&f, NULL, 0, 3000));
    assert_true(tu_now_ms() - t0 < 1000); /* not the BEP 15 schedule */
    assert_int_equal(mute.packets, 2);
    assert_true(logged(&f, "no answer in time"));
    run_for(&f, 300);
    assert_int_equal(mute.packets, 2);
    udp_tracker_free(&mute);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_events),
        cmocka_unit_test(test_udp_events_ipv6),
        cmocka_unit_test(test_udp_dns),
        cmocka_unit_test(test_udp_fallover),
        cmocka_unit_test(test_stop_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
