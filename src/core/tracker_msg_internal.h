/* Helpers shared by the tracker message files (tracker_http.c,
 * tracker_udp.c, tracker_addr.c). Not for other modules. */
#ifndef RILL_CORE_TRACKER_MSG_INTERNAL_H
#define RILL_CORE_TRACKER_MSG_INTERNAL_H

#include "core/tracker_msg.h"
#include "util/util.h"

/* Clears every output field of a reply, keeping peers and peer_cap;
 * complete and incomplete become -1, interval the default. */
void rill__tracker_reply_reset(struct rill_tracker_reply *r);

/* Adds one peer (4 or 16 address bytes by family) to the reply: counted as
 * invalid when the port is 0 or the address unspecified, as dropped when the
 * array is full. An IPv4-mapped IPv6 address is stored as IPv4. */
void rill__tracker_reply_add(struct rill_tracker_reply *r, int family, const uint8_t *addr,
                             uint16_t port);

/* Clamps an interval from a reply to the documented bounds. */
uint32_t rill__tracker_clamp_interval(int64_t seconds);

/* Copies reply text into a NUL-terminated field of `cap` bytes, cut at a NUL
 * or to fit, control characters replaced by '?' so it is safe to log. */
void rill__tracker_text(char *dst, size_t cap, const uint8_t *s, size_t n);

/* Caps a numwant the client asked for (0 is honoured: a stopping client
 * wants nobody). */
static inline uint32_t rill__tracker_numwant(uint64_t v)
{
    return v > RILL_TRACKER_NUMWANT_MAX ? RILL_TRACKER_NUMWANT_MAX : (uint32_t)v;
}

static inline uint64_t rill__be64(const uint8_t *p)
{
    return (uint64_t)rill__be32(p) << 32 | rill__be32(p + 4);
}

static inline void rill__put_be64(uint8_t *p, uint64_t v)
{
    rill__put_be32(p, (uint32_t)(v >> 32));
    rill__put_be32(p + 4, (uint32_t)v);
}

#endif
