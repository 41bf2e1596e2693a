/* HTTP announces (BEP 3, compact peers per BEP 23 and BEP 7) on libevent's
 * evhttp client: one connection per announce, closed after it, since
 * announces are minutes apart. The query and the reply are the
 * tracker_msg core's business. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "io/announcer_internal.h"

#define MAX_HEADERS (64u << 10)

static const char *http_error_text(int e)
{
    switch (e) {
    case EVREQ_HTTP_TIMEOUT: return "timed out";
    case EVREQ_HTTP_EOF: return "connection closed before a reply";
    case EVREQ_HTTP_INVALID_HEADER: return "malformed HTTP reply";
    case EVREQ_HTTP_DATA_TOO_LONG: return "reply too large";
    default: return "cannot connect";
    }
}

static void on_http_error(enum evhttp_request_error e, void *arg)
{
    struct rill__tracker *tr = arg;
    tr->http_error = (int)e;
}

/* The request ended (req is NULL when it failed). evhttp still uses the
 * connection after this returns, so it is freed later, in the announcer's
 * on_done. */
static void on_http_reply(struct evhttp_request *req, void *arg)
{
    struct rill__tracker *tr = arg;
    rill__tick_now(tr->a->s);
    int code = req ? evhttp_request_get_response_code(req) : 0;
    if (code == 0) {
        rill__tracker_done(tr, RILL__TR_ERROR, "%s", http_error_text(tr->http_error));
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const uint8_t *p = n ? evbuffer_pullup(in, -1) : NULL;
    struct rill_error err = {0};
    int rc = p ? rill_tracker_response_parse(p, n, &tr->reply, &err) : RILL_ETRUNCATED;
    /* Some trackers send their failure reason with a 4xx status. */
    if (rc == RILL_TRACKER_FAILED)
        rill__tracker_done(tr, RILL__TR_REFUSED, NULL);
    else if (code != 200)
        rill__tracker_done(tr, RILL__TR_ERROR, "HTTP status %d", code);
    else if (rc < 0)
        rill__tracker_done(tr, RILL__TR_ERROR, "bad reply: %s", p ? err.msg : "empty body");
    else
        rill__tracker_done(tr, RILL__TR_OK, NULL);
}

/* Makes the connection and its request; NULL when out of memory. */
static struct evhttp_request *http_prepare(struct rill__tracker *tr, struct evdns_base *dns,
                                           uint64_t timeout_ms)
{
    struct rill__announcer *a = tr->a;
    tr->conn = evhttp_connection_base_new(a->s->base, dns, tr->host, tr->port);
    struct evhttp_request *req = tr->conn ? evhttp_request_new(on_http_reply, tr) : NULL;
    if (!req)
        return NULL;
    if (a->s->bind_specific) {
        evhttp_connection_set_local_address(tr->conn, a->s->bind);
        evhttp_connection_set_family(tr->conn, a->s->bind_addr.ss_family);
    }
    uint64_t ms = (timeout_ms + a->speed - 1) / a->speed;
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    evhttp_connection_set_timeout_tv(tr->conn, &tv);
    evhttp_connection_set_retries(tr->conn, 0);
    evhttp_connection_set_max_body_size(tr->conn, RILL__ANN_MAX_BODY);
    evhttp_connection_set_max_headers_size(tr->conn, MAX_HEADERS);
    evhttp_request_set_error_cb(req, on_http_error);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (evhttp_add_header(h, "Host", tr->host_header) ||
        evhttp_add_header(h, "User-Agent", "rill/" RILL_VERSION) ||
        evhttp_add_header(h, "Accept-Encoding", "identity") ||
        evhttp_add_header(h, "Connection", "close")) {
        evhttp_request_free(req);
        return NULL;
    }
    return req;
}

void rill__http_send(struct rill__tracker *tr, const struct rill_tracker_announce *ann,
                     uint64_t timeout_ms)
{
    struct rill_buf target;
    rill_buf_init(&target, RILL_TRACKER_MAX_TARGET);
    if (rill_tracker_announce_url(&target, tr->target, ann) != 0 || target.failed) {
        rill_buf_free(&target);
        rill__tracker_done(tr, RILL__TR_ERROR, "announce URL too long");
        return;
    }
    struct evdns_base *dns = NULL;
    if (!tr->literal && !(dns = rill__session_dns(tr->a->s))) {
        rill_buf_free(&target);
        rill__tracker_done(tr, RILL__TR_ERROR, "no DNS resolver");
        return;
    }
    tr->http_error = -1;
    struct evhttp_request *req = http_prepare(tr, dns, timeout_ms);
    if (!req) {
        rill__tracker_done(tr, RILL__TR_ERROR, "out of memory");
    } else if (evhttp_make_request(tr->conn, req, EVHTTP_REQ_GET, (const char *)target.data) != 0) {
        /* evhttp freed the request; the connection is freed in on_done */
        rill__tracker_done(tr, RILL__TR_ERROR, "cannot send the request");
    }
    rill_buf_free(&target);
}

void rill__http_abort(struct rill__tracker *tr)
{
    if (tr->conn) {
        /* Frees the request in flight too, without calling back. */
        evhttp_connection_free(tr->conn);
        tr->conn = NULL;
    }
}
