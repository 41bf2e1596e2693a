/* Human-readable sizes, rates, durations and dates; strict number parsing;
 * terminal-safe printing of untrusted text. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

/* Three significant digits: 1.00, 12.3, 256. A value that would round up
 * to 1000 moves to the next unit, so "1000 KiB" never appears. */
static const char *fmt_scaled(double v, const char *suffix, char *buf)
{
    if (v < 1024.0) {
        snprintf(buf, CLI_SIZE_BUF, "%.0f B%s", v, suffix);
        return buf;
    }
    size_t u = 0;
    while ((u == 0 || v >= 999.5) && u + 1 < CLI_ARRAY_LEN(units)) {
        v /= 1024.0;
        u++;
    }
    int decimals = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
    snprintf(buf, CLI_SIZE_BUF, "%.*f %s%s", decimals, v, units[u], suffix);
    return buf;
}

const char *cli_fmt_size(uint64_t bytes, char *buf)
{
    if (bytes < 1024) {
        snprintf(buf, CLI_SIZE_BUF, "%" PRIu64 " B", bytes);
        return buf;
    }
    return fmt_scaled((double)bytes, "", buf);
}

const char *cli_fmt_rate(double bytes_per_sec, char *buf)
{
    if (!(bytes_per_sec >= 0.0)) /* also catches NaN */
        bytes_per_sec = 0.0;
    return fmt_scaled(bytes_per_sec, "/s", buf);
}

const char *cli_fmt_duration(uint64_t secs, char *buf)
{
    if (secs < 60)
        snprintf(buf, CLI_SIZE_BUF, "%" PRIu64 "s", secs);
    else if (secs < 3600)
        snprintf(buf, CLI_SIZE_BUF, "%" PRIu64 "m%02" PRIu64 "s", secs / 60, secs % 60);
    else if (secs < 86400)
        snprintf(buf, CLI_SIZE_BUF, "%" PRIu64 "h%02" PRIu64 "m", secs / 3600,
                 secs / 60 % 60);
    else
        snprintf(buf, CLI_SIZE_BUF, "%" PRIu64 "d%02" PRIu64 "h", secs / 86400,
                 secs / 3600 % 24);
    return buf;
}

const char *cli_fmt_date(int64_t unix_secs, char *buf)
{
    struct tm tm;
    time_t t = (time_t)unix_secs;
    if ((int64_t)t == unix_secs && gmtime_r(&t, &tm) && tm.tm_year >= -1900 &&
        tm.tm_year <= 9999 - 1900 &&
        strftime(buf, CLI_SIZE_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
        return buf;
    snprintf(buf, CLI_SIZE_BUF, "%" PRId64, unix_secs);
    return buf;
}

int cli_parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    /* strtoull accepts spaces, signs and "0x"; a count must be plain digits. */
    if (!s || s[0] < '0' || s[0] > '9') {
        *why = "not a number";
        return -1;
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') {
        *why = "not a number";
        return -1;
    }
    if (errno == ERANGE || v > max) {
        *why = "too large";
        return -1;
    }
    *out = v;
    return 0;
}

/* Which power a suffix letter stands for: k/K 1, m/M 2, g/G 3, t/T 4. */
static int suffix_power(char c)
{
    switch (c) {
    case 'k': case 'K': return 1;
    case 'm': case 'M': return 2;
    case 'g': case 'G': return 3;
    case 't': case 'T': return 4;
    default: return 0;
    }
}

/* Scales `n` by 1024^power bytes, or by 1000^power bits when `bits`. */
static int scale_size(uint64_t n, int power, bool bits, uint64_t *out)
{
    uint64_t mult = 1;
    for (int i = 0; i < power; i++)
        mult *= bits ? 1000 : 1024;
    if (n > UINT64_MAX / mult)
        return -1;
    *out = bits ? n * mult / 8 : n * mult;
    return 0;
}

int cli_parse_size(const char *s, uint64_t *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!s || s[0] < '0' || s[0] > '9') {
        *why = "expected a number such as 256K, 4M or 10Mbit";
        return -1;
    }
    errno = 0;
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno == ERANGE) {
        *why = "too large";
        return -1;
    }
    const char *p = end;
    if (*p == '.') {
        *why = "whole numbers only (write 1536K rather than 1.5M)";
        return -1;
    }
    int power = suffix_power(*p);
    if (power)
        p++;
    bool bits = false;
    if (strncmp(p, "bit", 3) == 0) {
        bits = true;
        p += 3;
    } else if (power && strncmp(p, "iB", 2) == 0) {
        p += 2;
    } else if (*p == 'B') {
        p++;
    }
    if (strcmp(p, "/s") == 0)
        p += 2;
    if (*p != '\0') {
        *why = "unknown suffix (use K, M, G, T or kbit, Mbit, Gbit)";
        return -1;
    }
    if (scale_size(n, power, bits, out) != 0) {
        *why = "too large";
        return -1;
    }
    return 0;
}

size_t cli_utf8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    uint32_t v = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3F);
    }
    *cp = v;
    return len;
}

/* Invisible characters that reorder or hide text (Trojan Source). */
static bool is_bidi(uint32_t cp)
{
    return cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

void cli_put_safe(FILE *f, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = cli_utf8_seq(p + i, n - i, &cp);
        if (len == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            /* Escape the bytes one by one: an invalid byte, a C0 control,
             * DEL or a C1 control (which some terminals obey). */
            size_t k = len ? len : 1;
            for (size_t b = 0; b < k; b++)
                fprintf(f, "\\x%02x", p[i + b]);
            i += k;
        } else if (is_bidi(cp)) {
            fprintf(f, "\\u%04" PRIX32, cp);
            i += len;
        } else {
            fwrite(p + i, 1, len, f);
            i += len;
        }
    }
}

void cli_put_safe_str(FILE *f, const char *s)
{
    if (s)
        cli_put_safe(f, s, strlen(s));
}

/* Milliseconds in one unit of a duration suffix, or 0 for an unknown one. */
static uint64_t duration_unit_ms(const char *p, size_t *len)
{
    *len = 1;
    if (p[0] == 'm' && p[1] == 's') {
        *len = 2;
        return 1;
    }
    switch (p[0]) {
    case 's': return 1000;
    case 'm': return 60 * 1000;
    case 'h': return 3600 * 1000;
    case 'd': return 86400 * 1000;
    default: return 0;
    }
}

int cli_parse_duration(const char *s, uint64_t *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!s || s[0] < '0' || s[0] > '9') {
        *why = "expected a duration such as 90s, 30m, 2h or 1h30m";
        return -1;
    }
    uint64_t total = 0, last_unit = UINT64_MAX;
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9') {
            *why = "expected a duration such as 90s, 30m, 2h or 1h30m";
            return -1;
        }
        errno = 0;
        char *end;
        unsigned long long n = strtoull(p, &end, 10);
        size_t ulen;
        uint64_t unit = *end ? duration_unit_ms(end, &ulen) : 1000; /* bare: seconds */
        if (*end == '\0')
            ulen = 0;
        if (unit == 0) {
            *why = "unknown unit (use ms, s, m, h or d)";
            return -1;
        }
        if (*end == '\0' && p != s) {
            *why = "the last number has no unit";
            return -1;
        }
        /* 1h30m reads naturally; 30m1h or 1h1h is most likely a typo. */
        if (unit >= last_unit) {
            *why = "units must go from the largest to the smallest, each once";
            return -1;
        }
        if (errno == ERANGE || n > (UINT64_MAX - total) / unit) {
            *why = "too large";
            return -1;
        }
        total += n * unit;
        last_unit = unit;
        p = end + ulen;
    }
    *out = total;
    return 0;
}

int cli_parse_ratio(const char *s, double max, double *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    /* Plain decimal only: strtod would also take "inf", "nan", "1e9", "0x1p3"
     * and leading spaces or signs. */
    size_t i = 0, digits = 0, frac = 0;
    while (s && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (s && digits && s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++, frac++;
    }
    if (!s || digits == 0 || s[i] != '\0' || (s[digits] == '.' && frac == 0) || i > 32) {
        *why = "expected a number such as 2 or 1.5";
        return -1;
    }
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || !(v <= max)) {
        *why = "too large";
        return -1;
    }
    *out = v;
    return 0;
}

int cli_check_peer(const char *s, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (!colon || colon == s) {
        *why = "expected HOST:PORT, with an IPv6 address in brackets";
        return -1;
    }
    size_t hlen = (size_t)(colon - s);
    if (s[0] == '[' ? (s[hlen - 1] != ']' || hlen < 3 || memchr(s + 1, ']', hlen - 2))
                    : memchr(s, ':', hlen) != NULL || memchr(s, ']', hlen) != NULL) {
        *why = "expected HOST:PORT, with an IPv6 address in brackets";
        return -1;
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7F || c == '/') {
            *why = "the host contains a space, a control character or '/'";
            return -1;
        }
    }
    uint64_t port;
    if (cli_parse_uint(colon + 1, 65535, &port, NULL) != 0 || port == 0) {
        *why = "the port must be a number from 1 to 65535";
        return -1;
    }
    return 0;
}
