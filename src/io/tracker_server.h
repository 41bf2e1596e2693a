/* `rill tracker` in the shell: one swarm core and two front ends, HTTP on
 * evhttp (tracker_server_http.c) and UDP on a plain socket
 * (tracker_server_udp.c), sharing the whitelist, the clock and the stats
 * kept here (tracker_server.c). */
#ifndef RILL_IO_TRACKER_SERVER_H
#define RILL_IO_TRACKER_SERVER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/swarm.h"
#include "core/tracker_msg.h"
#include "rill.h"
#include "util/rng.h"

struct event_base;
struct event;
struct evhttp;

struct rill_tracker_server {
    struct event_base *base;
    struct rill_tracker_server_opts opts;
    char *whitelist_path;
    uint8_t (*whitelist)[RILL_SHA1_LEN]; /* sorted; NULL: open tracker */
    size_t whitelist_count;
    struct rill_rng rng;
    struct rill_swarm *swarm;
    struct rill_udp_idkey udp_key;
    uint64_t now, started;           /* monotonic ms, read once per callback */
    struct event *sweep;             /* expiry, once a minute */
    /* HTTP */
    struct evhttp *http;
    uint16_t http_port;
    /* UDP */
    int udp_fd;
    int udp_family;
    struct event *udp_ev;
    uint16_t udp_port;
    /* counters for /stats */
    uint64_t http_requests, udp_packets, errors;
    uint64_t last_error_log_ms;
    uint64_t errors_unlogged;
    /* announces in each of the last 60 seconds, for the rate on /stats */
    uint32_t rate_count[60];
    uint64_t rate_sec[60];
    uint8_t *udp_out;                /* reply packets of one batch */
};

/* Refreshes t->now from the monotonic clock and returns it. */
uint64_t rill__tserver_now(struct rill_tracker_server *t);

/* One log line (the opts callback), formatted. */
void rill__tserver_log(struct rill_tracker_server *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Counts a bad request; logs at most one line a minute about them, with the
 * latest reason and how many were not logged. */
void rill__tserver_bad_request(struct rill_tracker_server *t, const char *what, const char *why);

/* Counts an announce for the last-minute rate; the rate itself. */
void rill__tserver_count_announce(struct rill_tracker_server *t);
double rill__tserver_announce_rate(struct rill_tracker_server *t);

/* One announce from `addr` (family and bytes as the swarm keys them),
 * shared by both front ends: whitelist, swarm, rate count. `r` holds the
 * caller's buffers. NULL, or a failure reason to send back. */
const char *rill__tserver_announce(struct rill_tracker_server *t,
                                   const struct rill_tracker_query *q, int family,
                                   const uint8_t addr[16], struct rill_swarm_result *r);
/* Counts for `n` info-hashes (20 bytes each, back to back); hashes off the
 * whitelist get zeros, as unknown ones do. */
void rill__tserver_scrape(struct rill_tracker_server *t, const uint8_t *hashes, size_t n,
                          struct rill_tracker_scrape_entry *out);

/* Whether the whitelist lets this info-hash in (always, when open). */
bool rill__tserver_allowed(const struct rill_tracker_server *t,
                           const uint8_t info_hash[RILL_SHA1_LEN]);

/* The local port a socket is bound to. */
uint16_t rill__tserver_bound_port(int fd);

/* The front ends: start binds and registers events; stop frees them. */
int rill__tserver_http_start(struct rill_tracker_server *t, struct rill_error *err);
void rill__tserver_http_stop(struct rill_tracker_server *t);
int rill__tserver_udp_start(struct rill_tracker_server *t, struct rill_error *err);
void rill__tserver_udp_stop(struct rill_tracker_server *t);

/* The family and address bytes of a socket address, as the swarm keys
 * peers (an IPv4-mapped IPv6 address counts as IPv4). False for others. */
bool rill__tserver_peer_addr(const struct sockaddr *sa, int *family, uint8_t addr[16],
                             uint16_t *port);

#endif
