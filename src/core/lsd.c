/* BEP 14 messages (see lsd.h). */
#include <string.h>
#include <strings.h>

#include "core/base32.h"
#include "core/lsd.h"
#include "util/util.h"

static const char REQUEST[] = "BT-SEARCH * HTTP/1.1";

/* The next line of p[*off..len) without its CR LF (a bare LF is taken
 * too); false at the end. */
static bool next_line(const uint8_t *p, size_t len, size_t *off, const uint8_t **line,
                      size_t *n)
{
    if (*off >= len)
        return false;
    const uint8_t *start = p + *off;
    const uint8_t *nl = memchr(start, '\n', len - *off);
    size_t end = nl ? (size_t)(nl - p) : len;
    *line = start;
    *n = end - *off;
    if (*n && start[*n - 1] == '\r')
        (*n)--;
    *off = nl ? end + 1 : len;
    return true;
}

/* "Name: value" with the name matched without case; *val and *vn are the
 * value with its spaces trimmed. */
static bool header(const uint8_t *line, size_t n, const char *name, const uint8_t **val,
                   size_t *vn)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || strncasecmp((const char *)line, name, k) != 0)
        return false;
    size_t a = k + 1, b = n;
    while (a < b && (line[a] == ' ' || line[a] == '\t'))
        a++;
    while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
        b--;
    *val = line + a;
    *vn = b - a;
    return true;
}

static int take_port(const uint8_t *v, size_t n, struct rill_lsd_msg *m)
{
    unsigned long port = 0;
    if (n == 0 || n > 5)
        return RILL_ESYNTAX;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return RILL_ESYNTAX;
        port = port * 10 + (unsigned long)(v[i] - '0');
    }
    if (port == 0 || port > 65535)
        return RILL_ESYNTAX;
    m->port = (uint16_t)port;
    return 0;
}

static int take_hash(const uint8_t *v, size_t n, struct rill_lsd_msg *m)
{
    uint8_t h[RILL_SHA1_LEN];
    size_t bad = 0;
    if (n == 40 ? rill_unhex((const char *)v, n, h, RILL_SHA1_LEN) != 0
        : n == 32 ? rill__base32_decode((const char *)v, n, h, RILL_SHA1_LEN, &bad) != 0
                  : true)
        return RILL_ESYNTAX;
    for (size_t i = 0; i < m->n_hashes; i++)
        if (memcmp(m->hashes[i], h, RILL_SHA1_LEN) == 0)
            return 0; /* said twice */
    if (m->n_hashes == RILL_LSD_HASHES_MAX) {
        m->truncated = true;
        return 0;
    }
    memcpy(m->hashes[m->n_hashes++], h, RILL_SHA1_LEN);
    return 0;
}

int rill_lsd_parse(const uint8_t *p, size_t len, struct rill_lsd_msg *m, struct rill_error *err)
{
    memset(m, 0, sizeof *m);
    if (len > RILL_LSD_MSG_MAX)
        return rill__fail(err, RILL_ELIMIT, RILL_LSD_MSG_MAX, "datagram of %zu bytes", len);
    size_t off = 0, n;
    const uint8_t *line;
    if (!next_line(p, len, &off, &line, &n) || n != sizeof REQUEST - 1 ||
        memcmp(line, REQUEST, n) != 0)
        return rill__fail(err, RILL_ESYNTAX, 0, "not a BT-SEARCH request");
    while (next_line(p, len, &off, &line, &n) && n > 0) {
        size_t at = (size_t)(line - p), vn;
        const uint8_t *v;
        int rc = 0;
        if (header(line, n, "Port", &v, &vn))
            rc = take_port(v, vn, m);
        else if (header(line, n, "Infohash", &v, &vn))
            rc = take_hash(v, vn, m);
        else if (header(line, n, "cookie", &v, &vn) && vn <= RILL_LSD_COOKIE_MAX) {
            memcpy(m->cookie, v, vn);
            m->cookie[vn] = 0;
        }
        if (rc)
            return rill__fail(err, rc, at, "bad %.*s header", (int)(n < 16 ? n : 16), line);
    }
    if (!m->port || !m->n_hashes) {
        int rc = rill__fail(err, RILL_ESYNTAX, len, "no %s", m->port ? "Infohash" : "Port");
        memset(m, 0, sizeof *m);
        return rc;
    }
    return 0;
}

int rill_lsd_build(struct rill_buf *out, const char *host, uint16_t port,
                   const uint8_t (*hashes)[RILL_SHA1_LEN], size_t n, const char *cookie)
{
    if (!host || !port || n == 0 || n > RILL_LSD_HASHES_MAX ||
        (cookie && (strlen(cookie) > RILL_LSD_COOKIE_MAX || strpbrk(cookie, "\r\n"))))
        return RILL_EINVAL;
    rill_buf_appendf(out, "%s\r\nHost: %s\r\nPort: %u\r\n", REQUEST, host, port);
    for (size_t i = 0; i < n; i++) {
        char hex[2 * RILL_SHA1_LEN + 1];
        rill_hex(hashes[i], RILL_SHA1_LEN, hex);
        rill_buf_appendf(out, "Infohash: %s\r\n", hex);
    }
    if (cookie)
        rill_buf_appendf(out, "cookie: %s\r\n", cookie);
    rill_buf_appendf(out, "\r\n\r\n");
    return out->failed ? RILL_ENOMEM : 0;
}
