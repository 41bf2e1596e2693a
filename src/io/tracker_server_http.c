/* The tracker's HTTP front end on evhttp: /announce and /scrape answered
 * from the swarm core with the messages of tracker_msg.h, /stats as JSON
 * and / as a small HTML page. evhttp keeps HTTP/1.1 connections alive,
 * refuses oversized headers and bodies, and drops clients that stall. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>

#include "io/sockaddr.h"
#include "io/tracker_server.h"
#include "util/util.h"

#define MAX_HEADERS 8192   /* the request line is part of it */
#define MAX_BODY 1024      /* GET and HEAD only: nothing to read */

static void send_bencoded(struct evhttp_request *req, const struct rill_buf *b)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    evbuffer_add(out, b->data, b->len);
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* BEP 3: a failure is a normal reply with `failure reason`. */
static void send_failure(struct evhttp_request *req, const char *reason)
{
    struct rill_buf b;
    rill_buf_init(&b, 1024);
    rill_tracker_failure_build(&b, reason);
    send_bencoded(req, &b);
    rill_buf_free(&b);
}

static bool client_addr(struct evhttp_request *req, int *family, uint8_t addr[16])
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    const struct sockaddr *sa = conn ? evhttp_connection_get_addr(conn) : NULL;
    uint16_t port;
    return sa && rill__tserver_peer_addr(sa, family, addr, &port);
}

static void announce(struct rill_tracker_server *t, struct evhttp_request *req,
                     const char *uri)
{
    struct rill_tracker_query q;
    struct rill_error e = {0};
    if (rill_tracker_query_parse(uri, strlen(uri), &q, &e) != 0) {
        rill__tserver_bad_request(t, "HTTP announce", e.msg);
        send_failure(req, e.msg);
        return;
    }
    int family;
    uint8_t addr[16];
    if (!client_addr(req, &family, addr)) {
        send_failure(req, "cannot tell your address");
        return;
    }
    uint8_t p4[RILL_TRACKER_NUMWANT_MAX * RILL_SWARM_PEER4_LEN];
    uint8_t p6[RILL_TRACKER_NUMWANT_MAX * RILL_SWARM_PEER6_LEN];
    struct rill_swarm_result r = {.peers4 = p4, .cap4 = RILL_TRACKER_NUMWANT_MAX,
                                  .peers6 = p6, .cap6 = RILL_TRACKER_NUMWANT_MAX};
    const char *failure = rill__tserver_announce(t, &q, family, addr, &r);
    if (failure) {
        send_failure(req, failure);
        return;
    }
    struct rill_tracker_answer ans = {.interval = r.interval, .min_interval = r.min_interval,
                                      .complete = r.complete, .incomplete = r.incomplete,
                                      .peers4 = p4, .n4 = r.n4, .peers6 = p6, .n6 = r.n6,
                                      .compact = q.compact, .no_peer_id = true};
    struct rill_buf b;
    rill_buf_init(&b, 64 << 10);
    if (rill_tracker_answer_build(&b, &ans) == 0 && !b.failed)
        send_bencoded(req, &b);
    else
        send_failure(req, "tracker error");
    rill_buf_free(&b);
}

static void scrape(struct rill_tracker_server *t, struct evhttp_request *req, const char *uri)
{
    uint8_t hashes[RILL_TRACKER_SCRAPE_MAX][RILL_SHA1_LEN];
    size_t n = 0;
    struct rill_error e = {0};
    if (rill_tracker_scrape_query_parse(uri, strlen(uri), hashes, &n, &e) != 0) {
        rill__tserver_bad_request(t, "HTTP scrape", e.msg);
        send_failure(req, e.msg);
        return;
    }
    if (n == 0) {
        send_failure(req, "name the torrents to scrape with info_hash (no full scrape here)");
        return;
    }
    struct rill_tracker_scrape_entry ent[RILL_TRACKER_SCRAPE_MAX];
    rill__tserver_scrape(t, &hashes[0][0], n, ent);
    struct rill_buf b;
    rill_buf_init(&b, 64 << 10);
    if (rill_tracker_scrape_build(&b, ent, n) == 0 && !b.failed)
        send_bencoded(req, &b);
    else
        send_failure(req, "tracker error");
    rill_buf_free(&b);
}

static void stats_json(struct rill_tracker_server *t, struct evhttp_request *req)
{
    struct rill_tracker_server_stats st;
    rill_tracker_server_stats(t, &st);
    double up = st.uptime_ms ? (double)st.uptime_ms / 1000.0 : 1.0;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add_printf(out,
                        "{\"torrents\": %llu, \"seeders\": %llu, \"leechers\": %llu, "
                        "\"peers\": %llu, \"announces\": %llu, \"scrapes\": %llu, "
                        "\"announces_per_s\": %.1f, \"http_requests\": %llu, "
                        "\"udp_packets\": %llu, \"errors\": %llu, \"memory_bytes\": %llu, "
                        "\"uptime_s\": %.0f}\n",
                        (unsigned long long)st.torrents, (unsigned long long)st.seeders,
                        (unsigned long long)st.leechers,
                        (unsigned long long)(st.seeders + st.leechers),
                        (unsigned long long)st.announces, (unsigned long long)st.scrapes,
                        rill__tserver_announce_rate(t), (unsigned long long)st.http_requests,
                        (unsigned long long)st.udp_packets, (unsigned long long)st.errors,
                        (unsigned long long)st.memory_bytes, up);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void status_page(struct rill_tracker_server *t, struct evhttp_request *req)
{
    struct rill_tracker_server_stats st;
    rill_tracker_server_stats(t, &st);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add_printf(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>rill tracker</title>"
        "<meta http-equiv=\"refresh\" content=\"10\"></head><body>\n"
        "<h1>rill tracker</h1>\n<table>\n"
        "<tr><td>torrents</td><td>%llu</td></tr>\n"
        "<tr><td>seeders</td><td>%llu</td></tr>\n"
        "<tr><td>leechers</td><td>%llu</td></tr>\n"
        "<tr><td>announces per second (last minute)</td><td>%.1f</td></tr>\n"
        "<tr><td>announces</td><td>%llu</td></tr>\n"
        "<tr><td>scrapes</td><td>%llu</td></tr>\n"
        "<tr><td>uptime</td><td>%llu s</td></tr>\n"
        "</table>\n<p>Announce at <code>/announce</code>; counts as JSON at "
        "<a href=\"/stats\">/stats</a>.</p>\n</body></html>\n",
        (unsigned long long)st.torrents, (unsigned long long)st.seeders,
        (unsigned long long)st.leechers, rill__tserver_announce_rate(t),
        (unsigned long long)st.announces, (unsigned long long)st.scrapes,
        (unsigned long long)(st.uptime_ms / 1000));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/html; charset=utf-8");
    evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/* The path of a request target, without its query. */
static bool path_is(const char *uri, const char *path)
{
    size_t n = strlen(path);
    return strncmp(uri, path, n) == 0 && (uri[n] == 0 || uri[n] == '?');
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct rill_tracker_server *t = arg;
    rill__tserver_now(t);
    t->http_requests++;
    const char *uri = evhttp_request_get_uri(req);
    switch (rill_tracker_route(uri, strlen(uri))) {
    case RILL_TRACKER_ROUTE_ANNOUNCE:
        announce(t, req, uri);
        return;
    case RILL_TRACKER_ROUTE_SCRAPE:
        scrape(t, req, uri);
        return;
    default:
        break;
    }
    if (path_is(uri, "/stats"))
        stats_json(t, req);
    else if (path_is(uri, "/"))
        status_page(t, req);
    else
        evhttp_send_error(req, HTTP_NOTFOUND, "Not Found");
}

int rill__tserver_http_start(struct rill_tracker_server *t, struct rill_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (rill__sockaddr_parse(t->opts.http, &ss, &len) != 0)
        return rill__fail(err, RILL_EINVAL, 0, "bad HTTP address '%s' (want ADDR:PORT)",
                          t->opts.http);
    t->http = evhttp_new(t->base);
    if (!t->http)
        return rill__fail(err, RILL_ENOMEM, 0, "cannot set up the HTTP server");
    evhttp_set_max_headers_size(t->http, MAX_HEADERS);
    evhttp_set_max_body_size(t->http, MAX_BODY);
    evhttp_set_timeout(t->http, t->opts.idle_timeout_s ? (int)t->opts.idle_timeout_s : 15);
    evhttp_set_allowed_methods(t->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(t->http, on_request, t);
    evutil_socket_t fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        if (fd >= 0)
            evutil_closesocket(fd);
        return rill__fail(err, RILL_EIO, 0, "cannot listen on %s (HTTP): %s", t->opts.http,
                          strerror(e));
    }
    if (!evhttp_accept_socket_with_handle(t->http, fd)) {
        evutil_closesocket(fd);
        return rill__fail(err, RILL_EIO, 0, "cannot serve HTTP on %s", t->opts.http);
    }
    t->http_port = rill__tserver_bound_port(fd);
    rill__tserver_log(t, "HTTP tracker on %s (port %u)", t->opts.http, t->http_port);
    return 0;
}

void rill__tserver_http_stop(struct rill_tracker_server *t)
{
    if (t->http)
        evhttp_free(t->http);
    t->http = NULL;
}
