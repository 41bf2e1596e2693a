/* IP address text and peer lists for tracker messages (see tracker_msg.h).
 * Cores may not include <arpa/inet.h>, and inet_pton wants a C string
 * anyway, so literal addresses are parsed here on (ptr, len). */
#include <stdio.h>
#include <string.h>

#include "core/tracker_msg_internal.h"


/* Strict dotted quad: exactly four parts, 1-3 digits each, no leading zero,
 * each at most 255. */
static bool parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && i - start < 4 && s[i] >= '0' && s[i] <= '9')
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t digits = i - start;
        if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[start] == '0'))
            return false;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

/* Reads up to 4 hex digits at s[*i]; returns the count read. */
static size_t hex_group(const char *s, size_t n, size_t *i, unsigned *v)
{
    size_t start = *i;
    *v = 0;
    while (*i < n && *i - start < 4 && rill__hexval(s[*i]) >= 0)
        *v = *v << 4 | (unsigned)rill__hexval(s[(*i)++]);
    return *i - start;
}

/* Parses the groups of an IPv6 address into words[], noting where "::"
 * stood. Returns the number of 16-bit words, or -1. */
static int ipv6_words(const char *s, size_t n, uint16_t words[8], int *gap)
{
    int count = 0;
    size_t i = 0;
    *gap = -1;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        *gap = 0;
        i = 2;
    }
    while (i < n) {
        size_t group = i;
        unsigned v;
        size_t digits = hex_group(s, n, &i, &v);
        if (i < n && s[i] == '.') { /* a dotted IPv4 tail ends the address */
            uint8_t q[4];
            if (count > 6 || !parse_ipv4(s + group, n - group, q))
                return -1;
            words[count++] = (uint16_t)(q[0] << 8 | q[1]);
            words[count++] = (uint16_t)(q[2] << 8 | q[3]);
            return count;
        }
        if (digits == 0 || count == 8 || (i < n && rill__hexval(s[i]) >= 0))
            return -1;
        words[count++] = (uint16_t)v;
        if (i == n)
            break;
        if (s[i++] != ':' || i == n)
            return -1; /* only ':' separates, and never ends the text */
        if (s[i] == ':') {
            if (*gap >= 0)
                return -1;
            *gap = count;
            i++;
        }
    }
    return count;
}

static bool parse_ipv6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t words[8] = {0};
    int gap, count = ipv6_words(s, n, words, &gap);
    if (count < 0 || (gap < 0 && count != 8) || (gap >= 0 && count > 7))
        return false;
    uint16_t full[8] = {0};
    if (gap < 0) {
        memcpy(full, words, sizeof full);
    } else {
        int tail = count - gap;
        memcpy(full, words, (size_t)gap * sizeof *words);
        memcpy(full + 8 - tail, words + gap, (size_t)tail * sizeof *words);
    }
    for (int k = 0; k < 8; k++) {
        out[2 * k] = (uint8_t)(full[k] >> 8);
        out[2 * k + 1] = (uint8_t)full[k];
    }
    return true;
}

static bool is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, sizeof prefix) == 0;
}

int rill_tracker_addr_parse(const char *s, size_t n, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (n > 45)
        return 0;
    if (parse_ipv4(s, n, addr))
        return RILL_TRACKER_IPV4;
    uint8_t a6[16];
    if (!parse_ipv6(s, n, a6))
        return 0;
    if (is_v4_mapped(a6)) {
        memcpy(addr, a6 + 12, 4);
        return RILL_TRACKER_IPV4;
    }
    memcpy(addr, a6, 16);
    return RILL_TRACKER_IPV6;
}

/* RFC 5952: lowercase, no leading zeros, the longest run of two or more
 * zero groups (the first on a tie) written as "::". */
static size_t format_ipv6(const uint8_t a[16], char out[46])
{
    if (is_v4_mapped(a))
        return (size_t)snprintf(out, 46, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
    unsigned w[8];
    for (int k = 0; k < 8; k++)
        w[k] = (unsigned)a[2 * k] << 8 | a[2 * k + 1];
    int best = -1, best_len = 1;
    for (int k = 0; k < 8;) {
        int run = 0;
        while (k + run < 8 && w[k + run] == 0)
            run++;
        if (run > best_len) {
            best = k;
            best_len = run;
        }
        k += run ? run : 1;
    }
    size_t len = 0;
    for (int k = 0; k < 8; k++) {
        if (k == best) {
            len += (size_t)snprintf(out + len, 46 - len, "::");
            k += best_len - 1;
            continue;
        }
        bool sep = k > 0 && k != best + best_len;
        len += (size_t)snprintf(out + len, 46 - len, "%s%x", sep ? ":" : "", w[k]);
    }
    return len;
}

size_t rill_tracker_addr_format(int family, const uint8_t addr[16], char out[46])
{
    if (family == RILL_TRACKER_IPV4)
        return (size_t)snprintf(out, 46, "%u.%u.%u.%u", addr[0], addr[1], addr[2], addr[3]);
    return format_ipv6(addr, out);
}

void rill__tracker_reply_reset(struct rill_tracker_reply *r)
{
    struct rill_tracker_peer *peers = r->peers;
    size_t cap = r->peer_cap;
    memset(r, 0, sizeof *r);
    r->peers = peers;
    r->peer_cap = peers ? cap : 0;
    r->interval = RILL_TRACKER_INTERVAL_DEFAULT;
    r->complete = -1;
    r->incomplete = -1;
}

void rill__tracker_reply_add(struct rill_tracker_reply *r, int family, const uint8_t *addr,
                             uint16_t port)
{
    static const uint8_t zero[16];
    uint8_t a[16] = {0};
    if (family == RILL_TRACKER_IPV6 && is_v4_mapped(addr)) {
        family = RILL_TRACKER_IPV4;
        addr += 12;
    }
    memcpy(a, addr, family == RILL_TRACKER_IPV4 ? 4 : 16);
    if (port == 0 || memcmp(a, zero, sizeof a) == 0) {
        r->peers_invalid++;
        return;
    }
    if (r->peer_count >= r->peer_cap) {
        r->peers_dropped++;
        return;
    }
    struct rill_tracker_peer *p = &r->peers[r->peer_count++];
    p->family = (uint8_t)family;
    p->port = port;
    memcpy(p->addr, a, sizeof a);
}

uint32_t rill__tracker_clamp_interval(int64_t seconds)
{
    if (seconds < RILL_TRACKER_INTERVAL_MIN)
        return RILL_TRACKER_INTERVAL_MIN;
    if (seconds > RILL_TRACKER_INTERVAL_MAX)
        return RILL_TRACKER_INTERVAL_MAX;
    return (uint32_t)seconds;
}

void rill__tracker_text(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    if (cap == 0)
        return;
    const uint8_t *nul = memchr(s, 0, n);
    if (nul) /* C-minded trackers end their text with one (opentracker) */
        n = (size_t)(nul - s);
    if (n > cap - 1)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
    dst[n] = 0;
}
