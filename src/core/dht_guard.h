/* Defences of a DHT node, as a pure core: BEP 42 node-id checks (an id must
 * be derived from the node's address, so one host cannot place itself next
 * to any key it likes), the address classes exempt from them, and
 * per-address query limits (a flood from one address, or a spoofed one used
 * to reflect our answers at a victim, is cut off after a small burst). */
#ifndef RILL_CORE_DHT_GUARD_H
#define RILL_CORE_DHT_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/krpc.h"

/* CRC-32C (Castagnoli), the checksum BEP 42 uses. */
uint32_t rill_crc32c(const uint8_t *p, size_t n);

/* True for addresses BEP 42 exempts, where ids cannot be derived from a
 * public address: loopback, private (RFC 1918), link-local, CGNAT
 * 100.64/10, unspecified; IPv6 ::1, ::, fc00::/7, fe80::/10, and
 * IPv4-mapped forms of those. `len` is 4 or 16; other lengths are local. */
bool rill_dht_addr_is_local(const uint8_t *addr, size_t len);

/* BEP 42: true when the first 21 bits of `id` are the CRC-32C of the masked
 * address with the 3 low bits of id[19], or when the address is local. */
bool rill_dht_id_secure(const uint8_t id[RILL_KRPC_ID_LEN], const uint8_t *addr, size_t len);

/* Makes `id` secure for the address (BEP 42): the caller fills id with
 * random bytes first; the first 21 bits are overwritten. A local address
 * leaves the id as it is. */
void rill_dht_id_make_secure(uint8_t id[RILL_KRPC_ID_LEN], const uint8_t *addr, size_t len);

/* ------------------------------------------------------ per-address limits */

#define RILL_DHT_LIMIT_SLOTS 1024 /* addresses tracked at once (power of 2) */

struct rill_dht_limit_slot {
    uint8_t addr[16];
    uint8_t len;      /* 0: free */
    int32_t tokens;   /* thousandths of a query */
    uint64_t last_ms; /* when tokens were last brought up to date */
};

/* A token bucket per address in a fixed hash table: `rate` queries per
 * second, `burst` at once. When two addresses hash to one slot the newcomer
 * takes it over with a full bucket: an attacker with many addresses can
 * only reset limits, never make the table grow. The key keeps an attacker
 * from choosing colliding addresses. */
struct rill_dht_limit {
    uint32_t rate, burst;
    uint64_t key;
    uint64_t allowed, refused; /* counters, for stats */
    struct rill_dht_limit_slot slot[RILL_DHT_LIMIT_SLOTS];
};

void rill_dht_limit_init(struct rill_dht_limit *l, uint32_t rate, uint32_t burst, uint64_t key);

/* Takes one query from addr[0..len) at now_ms: true when it may be
 * answered. */
bool rill_dht_limit_allow(struct rill_dht_limit *l, const uint8_t *addr, size_t len,
                          uint64_t now_ms);

#endif
