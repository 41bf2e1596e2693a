/* Tracker messages, both directions, as a pure core: the HTTP announce URL
 * and bencoded reply (BEP 3, BEP 7, BEP 23, BEP 48 scrape) and the UDP
 * tracker packets (BEP 15). The client side (rill get) and the server side
 * (rill tracker) share these parsers and builders, so each is tested against
 * the other. No sockets, no clock: bytes in, bytes or structs out.
 *
 * Internal to rill (src/core), not part of include/rill.h. */
#ifndef RILL_CORE_TRACKER_MSG_H
#define RILL_CORE_TRACKER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

/* --------------------------------------------------------------- common */

#define RILL_TRACKER_NUMWANT_DEFAULT 50u
#define RILL_TRACKER_NUMWANT_MAX 200u
/* Bounds every reply interval is clamped to, in seconds: below a minute a
 * tracker would have its clients hammer it, above two hours a lost peer
 * would be invisible for too long. A reply without `interval` gets the
 * default. */
#define RILL_TRACKER_INTERVAL_MIN 60u
#define RILL_TRACKER_INTERVAL_MAX 7200u
#define RILL_TRACKER_INTERVAL_DEFAULT 1800u
/* The longest request target the server parser accepts. */
#define RILL_TRACKER_MAX_TARGET 8192u
/* Info-hashes in one scrape: what fits in one UDP packet per BEP 15; HTTP
 * uses the same cap so both front ends answer alike. */
#define RILL_TRACKER_SCRAPE_MAX 74u
/* Reply texts kept (failure reason, warning message), NUL included. */
#define RILL_TRACKER_TEXT_MAX 256u
/* Longest tracker id kept by the client; a longer one is ignored (echoing
 * a cut id would be wrong). The server refuses longer ones. */
#define RILL_TRACKER_ID_MAX 128u

/* A positive, non-error result of rill_tracker_response_parse: the tracker
 * answered with a failure reason, whose text is in rill_tracker_reply.failure.
 * (Over UDP the same news is an error packet: RILL_UDP_ERROR.) */
#define RILL_TRACKER_FAILED 1

/* Numbered as in BEP 15, so the UDP field is the enum value. */
enum rill_tracker_event {
    RILL_TRACKER_EVENT_NONE = 0,
    RILL_TRACKER_EVENT_COMPLETED = 1,
    RILL_TRACKER_EVENT_STARTED = 2,
    RILL_TRACKER_EVENT_STOPPED = 3,
};

/* Address families, by IP version (no <sys/socket.h> in cores). */
enum rill_tracker_family { RILL_TRACKER_IPV4 = 4, RILL_TRACKER_IPV6 = 6 };

/* One peer from a tracker. An IPv4 address sits in addr[0..3] with the rest
 * zero; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is stored as IPv4. */
struct rill_tracker_peer {
    uint8_t family; /* enum rill_tracker_family */
    uint16_t port;
    uint8_t addr[16];
};

/* What the client tells a tracker (HTTP and UDP). Pointers are borrowed for
 * the duration of the call that takes the struct. */
struct rill_tracker_announce {
    uint8_t info_hash[RILL_SHA1_LEN];
    uint8_t peer_id[20];
    uint16_t port;
    uint64_t uploaded, downloaded, left;
    enum rill_tracker_event event;
    uint32_t numwant;          /* rill asks for RILL_TRACKER_NUMWANT_DEFAULT */
    uint32_t key;              /* random once per session; HTTP sends 8 hex digits */
    const char *ipv6;          /* our IPv6 address as text (BEP 7), or NULL */
    const uint8_t *tracker_id; /* from the previous reply (HTTP), or NULL */
    size_t tracker_id_len;
};

/* What the client learns from a reply (HTTP and UDP). The caller sets
 * `peers` and `peer_cap`; a parser overwrites every other field. Peers past
 * the cap are counted in `peers_dropped`; entries with port 0, an
 * unspecified address, a host name or a wrong shape in `peers_invalid`. */
struct rill_tracker_reply {
    struct rill_tracker_peer *peers;
    size_t peer_cap;
    size_t peer_count, peers_dropped, peers_invalid;
    uint32_t interval;                   /* seconds, clamped (see RILL_TRACKER_INTERVAL_*) */
    uint32_t min_interval;               /* seconds, 0 when absent, never above interval */
    int64_t complete;                    /* seeders, -1 when absent */
    int64_t incomplete;                  /* leechers, -1 when absent */
    char failure[RILL_TRACKER_TEXT_MAX]; /* set with RILL_TRACKER_FAILED */
    char warning[RILL_TRACKER_TEXT_MAX]; /* "" when absent */
    uint8_t tracker_id[RILL_TRACKER_ID_MAX];
    size_t tracker_id_len; /* 0 when absent */
};

/* An announce as the server reads it (HTTP query or UDP packet). */
struct rill_tracker_query {
    uint8_t info_hash[RILL_SHA1_LEN];
    uint8_t peer_id[20];
    uint16_t port;
    uint64_t uploaded, downloaded, left;
    enum rill_tracker_event event;
    uint32_t numwant; /* absent: 50; capped at 200 */
    bool compact;     /* HTTP: compact=0 asks for dictionaries; default true */
    bool no_peer_id;
    bool has_key;
    uint32_t key;          /* UDP: as sent; HTTP: up to 8 hex digits as a number,
                              any other text folded to 32 bits (FNV-1a) */
    bool has_ip4, has_ip6; /* from ip=, ipv4=, ipv6= (HTTP) or the UDP IP
                              field when literal addresses; host names are
                              ignored: the tracker does not resolve names */
    uint8_t ip4[4];
    uint8_t ip6[16];
    uint8_t trackerid[64];
    size_t trackerid_len;
};

/* One torrent's counts in a scrape reply. */
struct rill_tracker_scrape_entry {
    uint8_t info_hash[RILL_SHA1_LEN];
    uint32_t complete, downloaded, incomplete;
};

/* ------------------------------------------------- addresses (tracker_addr.c) */

/* Parses an IPv4 dotted quad (strict: four decimal parts 0-255, no leading
 * zeros) or an IPv6 address (RFC 4291 text, "::" and a dotted tail allowed,
 * no zone) from s[0..n). Returns the family and fills addr (16 bytes; IPv4 in
 * the first 4, IPv4-mapped IPv6 folded to IPv4), or 0 when it is neither. */
int rill_tracker_addr_parse(const char *s, size_t n, uint8_t addr[16]);

/* Writes the text form of an address (RFC 5952 for IPv6) with a NUL into
 * `out`, which holds at least 46 bytes. Returns the length. */
size_t rill_tracker_addr_format(int family, const uint8_t addr[16], char out[46]);

/* -------------------------------------------- HTTP, client side (tracker_http.c) */

/* Appends the announce URL for `a` to `out`: `announce` (which may already
 * hold a query) followed by info_hash, peer_id, port, uploaded, downloaded,
 * left, event (unless none), numwant, key, compact=1, no_peer_id=1, then
 * ipv6 and trackerid when given, binary values percent-encoded. Returns 0 or
 * the buffer's error. */
int rill_tracker_announce_url(struct rill_buf *out, const char *announce,
                              const struct rill_tracker_announce *a);

/* Parses a bencoded announce reply. Returns 0 with the reply filled,
 * RILL_TRACKER_FAILED when the tracker sent `failure reason` (its text in
 * r->failure, cut at a NUL, control characters replaced by '?'), or a
 * negative error with `err` (may be NULL) saying what and where: not one
 * strict bencoded dictionary (rill_bdecode: unsorted keys are refused too),
 * neither `peers` nor `peers6`, or `peers` neither a string nor a list.
 * Optional fields of a wrong type are treated as absent. */
int rill_tracker_response_parse(const uint8_t *p, size_t n, struct rill_tracker_reply *r,
                                struct rill_error *err);

/* -------------------------------------------- HTTP, server side (tracker_http.c) */

enum rill_tracker_route {
    RILL_TRACKER_ROUTE_OTHER = 0,
    RILL_TRACKER_ROUTE_ANNOUNCE, /* path "/announce" */
    RILL_TRACKER_ROUTE_SCRAPE,   /* path "/scrape" */
};

/* Which handler a request target ("/announce?...") is for, by its path. */
enum rill_tracker_route rill_tracker_route(const char *target, size_t n);

/* Parses the query of an announce request target (everything after the
 * first '?'; the path is rill_tracker_route's business). Required:
 * info_hash and peer_id (20 bytes each after percent-decoding), port
 * (1-65535). uploaded, downloaded, left default to 0 and must be decimal
 * uint64 without sign; numwant "-1" means the default; event is empty,
 * started, completed, stopped or paused (BEP 21, read as none). A repeated
 * parameter is an error, except ip, ipv4 and ipv6, where the first literal
 * address wins (clients list several); unknown parameters are ignored.
 * Returns 0, or RILL_ESYNTAX / RILL_ELIMIT (target over
 * RILL_TRACKER_MAX_TARGET) with err->msg a sentence fit to send back as
 * `failure reason`, err->offset its position in `target`. */
int rill_tracker_query_parse(const char *target, size_t n, struct rill_tracker_query *q,
                             struct rill_error *err);

/* Parses a scrape request target: zero or more info_hash parameters (zero
 * means "everything": the server decides whether to allow it), at most
 * RILL_TRACKER_SCRAPE_MAX, each 20 bytes. `hashes` holds that many.
 * Duplicates are kept (the reply builder merges them). Errors as above. */
int rill_tracker_scrape_query_parse(const char *target, size_t n, uint8_t hashes[][RILL_SHA1_LEN],
                                    size_t *count, struct rill_error *err);

/* The server's announce reply. Peers come in their compact wire form (6
 * bytes IPv4, 18 bytes IPv6) as a swarm stores them. */
struct rill_tracker_answer {
    uint32_t interval;
    uint32_t min_interval; /* 0: omitted */
    int64_t complete, incomplete;
    const uint8_t *peers4; /* n4 * 6 bytes */
    size_t n4;
    const uint8_t *peers6; /* n6 * 18 bytes */
    size_t n6;
    const uint8_t *ids4, *ids6; /* 20-byte peer ids parallel to the peers, for
                                   dictionary replies; NULL: omitted */
    bool compact;               /* false: BEP 3 list of dictionaries */
    bool no_peer_id;            /* dictionary replies without `peer id` */
    const char *warning;        /* or NULL */
};

/* Appends the bencoded announce reply. Compact: `peers` (always, maybe
 * empty) and `peers6` (when there are IPv6 peers). Otherwise one `peers`
 * list of {ip, port[, peer id]} for both families. 0 or a negative error. */
int rill_tracker_answer_build(struct rill_buf *out, const struct rill_tracker_answer *a);

/* Appends a scrape reply: {files: {hash: {complete, downloaded, incomplete}}}
 * keyed by the raw 20-byte hashes in canonical order; a hash listed twice
 * appears once. At most RILL_TRACKER_SCRAPE_MAX entries (else RILL_ELIMIT). */
int rill_tracker_scrape_build(struct rill_buf *out, const struct rill_tracker_scrape_entry *e,
                              size_t n);

/* Appends {failure reason: reason}. 0 or a negative error. */
int rill_tracker_failure_build(struct rill_buf *out, const char *reason);

/* ------------------------------------------------ UDP, BEP 15 (tracker_udp.c) */

#define RILL_UDP_PROTOCOL_ID 0x41727101980ull
#define RILL_UDP_CONNECT_LEN 16u
#define RILL_UDP_ANNOUNCE_LEN 98u /* request, before BEP 41 options */
#define RILL_UDP_ANNOUNCE_REPLY_MIN 20u
#define RILL_UDP_SCRAPE_REPLY_ENTRY 12u
#define RILL_UDP_ERROR_MAX 1024u /* longest error text parsed or built */

enum rill_udp_action {
    RILL_UDP_CONNECT = 0,
    RILL_UDP_ANNOUNCE = 1,
    RILL_UDP_SCRAPE = 2,
    RILL_UDP_ERROR = 3,
};

/* A packet from a client, as the server parses it. */
struct rill_udp_request {
    uint32_t action; /* enum rill_udp_action, never RILL_UDP_ERROR */
    uint32_t transaction_id;
    uint64_t connection_id;          /* announce and scrape */
    struct rill_tracker_query query; /* announce: compact is true */
    const uint8_t *hashes;           /* scrape: 20 bytes each, into the packet */
    size_t hash_count;
};

/* A packet from a tracker, as the client parses it. */
struct rill_udp_response {
    uint32_t action;
    uint32_t transaction_id;
    uint64_t connection_id; /* connect */
    const uint8_t *scrape;  /* scrape: 12 bytes each (seeders,
                               completed, leechers), into the packet */
    size_t scrape_count;
    const uint8_t *message; /* error: text into the packet */
    size_t message_len;
};

/* Builders write into `out` and return the packet length. Fixed-size ones
 * cannot fail; the others return RILL_ELIMIT when the packet would not fit
 * in `cap` bytes or breaks a cap, RILL_EINVAL for a wrong family. */
size_t rill_udp_connect_request(uint8_t out[RILL_UDP_CONNECT_LEN], uint32_t tid);
size_t rill_udp_connect_response(uint8_t out[RILL_UDP_CONNECT_LEN], uint32_t tid,
                                 uint64_t connection_id);
/* numwant is sent as is; the IP field as 0 (the sender's address). */
size_t rill_udp_announce_request(uint8_t out[RILL_UDP_ANNOUNCE_LEN], uint64_t connection_id,
                                 uint32_t tid, const struct rill_tracker_announce *a);
/* `peers` holds n compact entries of the family's size (6 or 18). */
int rill_udp_announce_response(uint8_t *out, size_t cap, uint32_t tid, uint32_t interval,
                               uint32_t leechers, uint32_t seeders, int family,
                               const uint8_t *peers, size_t n);
int rill_udp_scrape_request(uint8_t *out, size_t cap, uint64_t connection_id, uint32_t tid,
                            const uint8_t (*hashes)[RILL_SHA1_LEN], size_t n);
int rill_udp_scrape_response(uint8_t *out, size_t cap, uint32_t tid,
                             const struct rill_tracker_scrape_entry *e, size_t n);
/* The text is cut at RILL_UDP_ERROR_MAX bytes. */
int rill_udp_error(uint8_t *out, size_t cap, uint32_t tid, const char *msg);

/* Server side: connection ids that need no state to check (BEP 15 asks
 * the server to accept one for two minutes): the first 8 bytes of
 * SHA-256(key, minute, family, address, port), with the lowest bit
 * replaced by the minute's parity, so a check hashes once. A client cannot
 * guess one without the key, and one handed to another address does not
 * verify. The server accepts the ids of this minute and the one before. */
#define RILL_UDP_KEY_LEN 32u
struct rill__sha256_ctx;
struct rill_udp_idkey {
    uint8_t key[RILL_UDP_KEY_LEN];
    struct rill__sha256_ctx *sha; /* a reusable context, or NULL (slower) */
};
uint64_t rill_udp_connection_id(const struct rill_udp_idkey *k, uint64_t minute, int family,
                                const uint8_t addr[16], uint16_t port);
bool rill_udp_connection_id_ok(const struct rill_udp_idkey *k, uint64_t minute, int family,
                               const uint8_t addr[16], uint16_t port, uint64_t id);

/* Server side: parses a client packet. A connect must be exactly 16 bytes
 * with the protocol magic; an announce at least 98 bytes (BEP 41 options
 * after them are ignored); a scrape 16 bytes plus 1 to
 * RILL_TRACKER_SCRAPE_MAX hashes. Announce fields are checked as for HTTP:
 * port 0 refused, a negative num_want means 50, others are capped at 200,
 * event 0-3. Errors: RILL_ETRUNCATED (too short), RILL_ETRAILING (bytes left
 * over), RILL_ESYNTAX (bad magic, bad field), RILL_EUNSUPPORTED (unknown
 * action), RILL_ELIMIT (too many hashes); err->msg is fit for an error
 * packet, and r->action and r->transaction_id stay set once the packet has
 * 16 bytes, so the server can address that error packet. */
int rill_udp_request_parse(const uint8_t *p, size_t n, struct rill_udp_request *r,
                           struct rill_error *err);

/* Client side: parses a tracker packet answering transaction `tid`, sent on
 * a socket of `family` (which fixes the announce reply's peer size). An
 * announce reply fills `reply` when it is not NULL (peers, interval,
 * complete = seeders, incomplete = leechers); an error packet also copies
 * its text to reply->failure. Errors: RILL_ETRUNCATED, RILL_ETRAILING (size;
 * for an announce reply also a partial peer entry), RILL_EUNSUPPORTED
 * (unknown action), RILL_ESYNTAX (transaction id is not `tid`). */
int rill_udp_response_parse(const uint8_t *p, size_t n, uint32_t tid, int family,
                            struct rill_udp_response *r, struct rill_tracker_reply *reply,
                            struct rill_error *err);

#endif
