/* Local Service Discovery (BEP 14): peers on one LAN announce the torrents
 * they have with small HTTP-like datagrams to a multicast group, so two
 * clients on a LAN find each other without a tracker or the DHT.
 *
 *   BT-SEARCH * HTTP/1.1\r\n
 *   Host: 239.192.152.143:6771\r\n
 *   Port: 6881\r\n
 *   Infohash: <40 hex digits>\r\n      (one line per torrent)
 *   cookie: <our own token>\r\n        (to recognise our own messages)
 *   \r\n
 *   \r\n
 *
 * A pure codec: no sockets. Headers are matched without regard to case;
 * unknown headers are ignored. */
#ifndef RILL_CORE_LSD_H
#define RILL_CORE_LSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

#define RILL_LSD_PORT 6771
#define RILL_LSD_GROUP4 "239.192.152.143"
#define RILL_LSD_GROUP6 "ff15::efc0:988f"
#define RILL_LSD_HASHES_MAX 16 /* info-hashes per message, both ways */
#define RILL_LSD_COOKIE_MAX 32
#define RILL_LSD_MSG_MAX 1400  /* longer datagrams are refused */

struct rill_lsd_msg {
    uint16_t port;
    uint8_t n_hashes;
    bool truncated; /* more than RILL_LSD_HASHES_MAX info-hashes: the rest dropped */
    uint8_t hashes[RILL_LSD_HASHES_MAX][RILL_SHA1_LEN];
    char cookie[RILL_LSD_COOKIE_MAX + 1]; /* "" when absent */
};

/* Parses one datagram. The request line must be "BT-SEARCH * HTTP/1.1";
 * a Port of 1..65535 and at least one Infohash of 40 hex digits are
 * required (32-character base32 hashes are accepted too). Returns 0, or
 * RILL_ESYNTAX / RILL_ELIMIT with `err` (may be NULL). */
int rill_lsd_parse(const uint8_t *p, size_t len, struct rill_lsd_msg *m, struct rill_error *err);

/* Appends an announce of hashes[0..n) (1..RILL_LSD_HASHES_MAX) for `port`
 * to `out`; `host` is the group and port as the Host header gives it
 * ("239.192.152.143:6771" or "[ff15::efc0:988f]:6771"); `cookie` may be
 * NULL. RILL_EINVAL for bad arguments, RILL_ENOMEM. */
int rill_lsd_build(struct rill_buf *out, const char *host, uint16_t port,
                   const uint8_t (*hashes)[RILL_SHA1_LEN], size_t n, const char *cookie);

#endif
