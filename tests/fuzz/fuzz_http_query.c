/* Fuzzes the server's HTTP query parsers (announce and scrape) and the
 * router. A failed parse must leave the query zeroed and say what and
 * where; a successful one must survive a round trip through the client's
 * URL builder: parsing the URL built from the query gives the same query. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tracker_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc, const struct rill_error *err, size_t size)
{
    if (rc != err->code || err->offset > size || err->msg[0] == 0) {
        fprintf(stderr, "bad error report: rc %d code %d offset %zu msg '%s'\n", rc, err->code,
                err->offset, err->msg);
        abort();
    }
}

static void round_trip(const struct rill_tracker_query *q)
{
    struct rill_tracker_announce a = {0};
    memcpy(a.info_hash, q->info_hash, 20);
    memcpy(a.peer_id, q->peer_id, 20);
    a.port = q->port;
    a.uploaded = q->uploaded;
    a.downloaded = q->downloaded;
    a.left = q->left;
    a.event = q->event;
    a.numwant = q->numwant;
    a.key = q->key;
    a.tracker_id = q->trackerid;
    a.tracker_id_len = q->trackerid_len;
    struct rill_buf url;
    rill_buf_init(&url, 0);
    if (rill_tracker_announce_url(&url, "/announce", &a) != 0)
        abort();
    struct rill_tracker_query back;
    struct rill_error err;
    int rc = rill_tracker_query_parse((const char *)url.data, url.len, &back, &err);
    if (rc != 0 || memcmp(back.info_hash, q->info_hash, 20) != 0 ||
        memcmp(back.peer_id, q->peer_id, 20) != 0 || back.port != q->port ||
        back.uploaded != q->uploaded || back.downloaded != q->downloaded || back.left != q->left ||
        back.event != q->event || back.numwant != q->numwant || !back.compact || !back.no_peer_id ||
        back.key != q->key || back.trackerid_len != q->trackerid_len ||
        memcmp(back.trackerid, q->trackerid, q->trackerid_len) != 0) {
        fprintf(stderr, "round trip mismatch (rc %d: %s) for %.*s\n", rc, err.msg, (int)url.len,
                (const char *)url.data);
        abort();
    }
    rill_buf_free(&url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    if (rill_tracker_route(t, size) > RILL_TRACKER_ROUTE_SCRAPE)
        abort();
    struct rill_tracker_query q;
    struct rill_error err;
    memset(&err, 0, sizeof err);
    int rc = rill_tracker_query_parse(t, size, &q, &err);
    if (rc) {
        static const struct rill_tracker_query zero;
        check_error(rc, &err, size);
        if (memcmp(&q, &zero, sizeof q) != 0)
            abort();
    } else {
        if (q.port == 0 || q.numwant > RILL_TRACKER_NUMWANT_MAX ||
            q.trackerid_len > sizeof q.trackerid || q.event > RILL_TRACKER_EVENT_STOPPED)
            abort();
        round_trip(&q);
    }
    uint8_t hashes[RILL_TRACKER_SCRAPE_MAX][RILL_SHA1_LEN];
    size_t count = 1234;
    memset(&err, 0, sizeof err);
    rc = rill_tracker_scrape_query_parse(t, size, hashes, &count, &err);
    if (rc)
        check_error(rc, &err, size);
    if (count > RILL_TRACKER_SCRAPE_MAX || (rc && count))
        abort();
    return 0;
}
