/* Percent-encoding and peer-address checks (see uri.h). */
#include "core/uri.h"
#include "util/util.h"


bool rill__uri_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

size_t rill__pct_encoded_len(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += rill__uri_unreserved(s[i]) ? 1 : 3;
    return len;
}

int rill__pct_encode(struct rill_buf *b, const void *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    const unsigned char *s = p;
    size_t run = 0; /* start of the pending run of unreserved characters */
    for (size_t i = 0; i < n; i++) {
        if (rill__uri_unreserved(s[i]))
            continue;
        if (i > run)
            rill_buf_append(b, s + run, i - run);
        char esc[3] = {'%', digits[s[i] >> 4], digits[s[i] & 15]};
        rill_buf_append(b, esc, sizeof esc);
        run = i + 1;
    }
    if (n > run)
        rill_buf_append(b, s + run, n - run);
    return b->failed ? RILL_ENOMEM : 0;
}

int rill__pct_decode(const char *s, size_t n, char *out, size_t *outlen, size_t *at,
                     const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        *at = i;
        if (c == '%') {
            if (n - i < 3) {
                *why = "truncated percent-encoding";
                return RILL_ESYNTAX;
            }
            int hi = rill__hexval((unsigned char)s[i + 1]), lo = rill__hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) {
                *why = "malformed percent-encoding";
                return RILL_ESYNTAX;
            }
            c = (unsigned char)(hi << 4 | lo);
            if (c == 0) {
                *why = "percent-encoded NUL byte";
                return RILL_ESYNTAX;
            }
            i += 2;
        } else if (c == 0) {
            *why = "NUL byte";
            return RILL_ESYNTAX;
        }
        out[o++] = (char)c;
    }
    *outlen = o;
    return 0;
}

static const char *check_port(const char *s, size_t n)
{
    if (n == 0 || n > 5)
        return "port must be 1-65535";
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return "port must be decimal digits";
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? NULL : "port must be 1-65535";
}

static const char *check_ipv6(const char *s, size_t n)
{
    bool colon = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':')
            colon = true;
        else if (s[i] != '.' && rill__hexval((unsigned char)s[i]) < 0)
            return "bad character in bracketed IPv6 address";
    }
    return colon ? NULL : "bracketed host is not an IPv6 address";
}

const char *rill__hostport_check(const char *s, size_t n)
{
    size_t c = n;
    while (c > 0 && s[c - 1] != ':')
        c--;
    if (c == 0)
        return "missing ':port'";
    const char *why = check_port(s + c, n - c);
    if (why)
        return why;
    size_t hl = c - 1; /* host is s[0 .. hl) */
    if (hl == 0)
        return "empty host";
    if (s[0] == '[') {
        if (hl < 3 || s[hl - 1] != ']')
            return "bad bracketed IPv6 address";
        return check_ipv6(s + 1, hl - 2);
    }
    for (size_t i = 0; i < hl; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ':')
            return "IPv6 address must be in brackets";
        /* Host names and IPv4 addresses need nothing beyond this, and it
         * lets a peer be written in a link without escapes. */
        if (!rill__uri_unreserved(ch))
            return "bad character in host";
    }
    return NULL;
}
