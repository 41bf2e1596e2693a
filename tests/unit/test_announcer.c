/* The tracker client on a real event loop, against a tiny HTTP tracker
 * written here with the tracker_msg core's server side: events, failures
 * and backoff, BEP 12 tiers. The UDP tracker tests are in
 * test_announcer_udp.c. The announcer's clock runs 100 times fast so
 * intervals and backoff take hundreds of milliseconds. */
#include "testutil.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "announcer_fixture.h"

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
    char from[MAXREQ][64];           /* the client's address */
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
    h->at[i] = tu_now_ms();
    snprintf(h->target[i], sizeof h->target[i], "%s", uri);
    snprintf(h->host[i], sizeof h->host[i], "%s", host ? host : "");
    char *from = NULL;
    ev_uint16_t from_port;
    evhttp_connection_get_peer(evhttp_request_get_connection(req), &from, &from_port);
    snprintf(h->from[i], sizeof h->from[i], "%s", from ? from : "");
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
    uint64_t end = tu_now_ms() + 3000;
    while (x.count + y.count == 0 && tu_now_ms() < end)
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
    fx_init_bind(&f, 2, "::1");
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

/* With --bind on a specific address, the announce leaves from it. */
static void test_http_bind_source(void **state)
{
    (void)state;
    struct fx f;
    fx_init_bind(&f, 2, "127.0.0.2");
    struct http_tracker h;
    http_tracker_init(&h, f.base);
    fx_url(&f, 0, "http://127.0.0.1:%u/announce", h.port);
    fx_start(&f, 1);
    assert_true(run_until(&f, &h.count, 1, 3000));
    assert_string_equal(h.from[0], "127.0.0.2");
    assert_true(run_until(&f, NULL, 0, 3000));
    evhttp_free(h.http);
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
        cmocka_unit_test(test_http_bind_source),
        cmocka_unit_test(test_completed_then_stop),
        cmocka_unit_test(test_want_peers_min_interval),
        cmocka_unit_test(test_no_trackers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
