/* BEP 42 node-id checks and per-address query limits (see dht_guard.h). */
#include <string.h>

#include "core/dht_guard.h"

uint32_t rill_crc32c(const uint8_t *p, size_t n)
{
    /* Bitwise: BEP 42 hashes 4 or 8 bytes per node heard, so a table of
     * 1 KiB would buy nothing measurable. */
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static bool v4_is_local(const uint8_t a[4])
{
    return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
           (a[0] == 172 && (a[1] & 0xF0) == 16) || (a[0] == 192 && a[1] == 168) ||
           (a[0] == 100 && (a[1] & 0xC0) == 64);
}

bool rill_dht_addr_is_local(const uint8_t *addr, size_t len)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    static const uint8_t zero[15] = {0};
    if (len == 4)
        return v4_is_local(addr);
    if (len != 16)
        return true;
    if (memcmp(addr, mapped, sizeof mapped) == 0)
        return v4_is_local(addr + 12);
    if (memcmp(addr, zero, sizeof zero) == 0)
        return addr[15] <= 1; /* :: and ::1 */
    return (addr[0] & 0xFE) == 0xFC || (addr[0] == 0xFE && (addr[1] & 0xC0) == 0x80);
}

/* The 21-bit prefix BEP 42 asks of an id: CRC-32C of the address under a
 * mask that keeps only a few bits of each leading byte (so hosts in one
 * network share few prefixes), with r = the id's 3 low bits mixed in. */
static uint32_t secure_prefix(const uint8_t *addr, size_t len, uint8_t r)
{
    static const uint8_t mask4[4] = {0x03, 0x0F, 0x3F, 0xFF};
    static const uint8_t mask6[8] = {0x01, 0x03, 0x07, 0x0F, 0x1F, 0x3F, 0x7F, 0xFF};
    uint8_t ip[8];
    size_t n = len == 4 ? 4 : 8;
    const uint8_t *mask = len == 4 ? mask4 : mask6;
    for (size_t i = 0; i < n; i++)
        ip[i] = addr[i] & mask[i];
    ip[0] |= (uint8_t)((r & 7u) << 5);
    return rill_crc32c(ip, n);
}

bool rill_dht_id_secure(const uint8_t id[RILL_KRPC_ID_LEN], const uint8_t *addr, size_t len)
{
    if (rill_dht_addr_is_local(addr, len))
        return true;
    uint32_t crc = secure_prefix(addr, len, id[19]);
    return id[0] == (uint8_t)(crc >> 24) && id[1] == (uint8_t)(crc >> 16) &&
           (id[2] & 0xF8) == ((uint8_t)(crc >> 8) & 0xF8);
}

void rill_dht_id_make_secure(uint8_t id[RILL_KRPC_ID_LEN], const uint8_t *addr, size_t len)
{
    if (rill_dht_addr_is_local(addr, len))
        return;
    uint32_t crc = secure_prefix(addr, len, id[19]);
    id[0] = (uint8_t)(crc >> 24);
    id[1] = (uint8_t)(crc >> 16);
    id[2] = (uint8_t)(((crc >> 8) & 0xF8) | (id[2] & 7u));
}

/* ------------------------------------------------------ per-address limits */

void rill_dht_limit_init(struct rill_dht_limit *l, uint32_t rate, uint32_t burst, uint64_t key)
{
    memset(l, 0, sizeof *l);
    l->rate = rate;
    l->burst = burst ? burst : 1;
    l->key = key;
}

static uint32_t slot_of(const struct rill_dht_limit *l, const uint8_t *addr, size_t len)
{
    uint64_t h = l->key ^ len;
    for (size_t i = 0; i < len; i++) {
        h ^= addr[i];
        h *= UINT64_C(0x100000001b3); /* FNV-1a over the key-seeded state */
    }
    h ^= h >> 29;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 32;
    return (uint32_t)h & (RILL_DHT_LIMIT_SLOTS - 1);
}

bool rill_dht_limit_allow(struct rill_dht_limit *l, const uint8_t *addr, size_t len,
                          uint64_t now_ms)
{
    if (len > 16)
        len = 16;
    struct rill_dht_limit_slot *s = &l->slot[slot_of(l, addr, len)];
    int32_t full = (int32_t)l->burst * 1000;
    if (s->len != len || memcmp(s->addr, addr, len) != 0) {
        memset(s, 0, sizeof *s);
        memcpy(s->addr, addr, len);
        s->len = (uint8_t)len;
        s->tokens = full;
    } else if (now_ms > s->last_ms) {
        uint64_t add = (now_ms - s->last_ms) * l->rate; /* thousandths */
        s->tokens = add >= (uint64_t)(full - s->tokens) ? full : s->tokens + (int32_t)add;
    }
    s->last_ms = now_ms;
    if (s->tokens < 1000) {
        l->refused++;
        return false;
    }
    s->tokens -= 1000;
    l->allowed++;
    return true;
}
