/* Fixtures shared by the HTTP tracker message tests (test_tracker_msg.c for
 * the client side, test_tracker_server.c for the server side): a sample
 * info-hash and peer id with their URL escapes, and a reply parser wrapper.
 * Header-only because tests/CMakeLists.txt builds each test_*.c with just
 * testutil.c beside it. Include after testutil.h. */
#ifndef RILL_TEST_TRACKER_FIXTURE_H
#define RILL_TEST_TRACKER_FIXTURE_H

#include "testutil.h"

#include <string.h>

#include "core/tracker_msg.h"

/* The classic info-hash 123456789abcdef123456789abcdef123456789a, and a
 * peer id with NUL, space, '+' and high bytes; escapes checked with
 * Python's urllib.parse.quote(b, safe='-._~'). */
static const uint8_t IH[20] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
                               0x67, 0x89, 0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x9a};
static const uint8_t PID[20] = {'-',  'R',  'L',  '0',  '0',  '1',  '0',  '-', 0x00, 0x01,
                                0x20, 0x2b, 0x7e, 0x2e, 0x5f, 0x2d, 0xff, 'A', 'a',  '9'};
#define IH_ENC "%124Vx%9A%BC%DE%F1%23Eg%89%AB%CD%EF%124Vx%9A"
#define PID_ENC "-RL0010-%00%01%20%2B~._-%FFAa9"
#define BASE "/announce?info_hash=" IH_ENC "&peer_id=" PID_ENC "&port=6881"

/* Where parse_reply puts the peers; each test executable has its own. */
#define PEERS_CAP 8
static struct rill_tracker_peer peer_store[PEERS_CAP];

/* Parses a reply into `r` over peer_store, poisoning everything first so a
 * field the parser forgets to set shows. */
static inline int parse_reply(const char *p, size_t n, struct rill_tracker_reply *r, size_t cap,
                              struct rill_error *e)
{
    memset(r, 0x5a, sizeof *r); /* everything but the array must be overwritten */
    memset(peer_store, 0, sizeof peer_store);
    r->peers = peer_store;
    r->peer_cap = cap;
    memset(e, 0, sizeof *e);
    return rill_tracker_response_parse((const uint8_t *)p, n, r, e);
}
#define PARSE(lit, r, cap, e) parse_reply(lit, sizeof(lit) - 1, r, cap, e)

#endif
