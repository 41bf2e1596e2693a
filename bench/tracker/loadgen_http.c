/* loadgen's HTTP engine: keep-alive connections with one request in
 * flight each, reconnecting when the server closes, and just enough
 * bencode reading to check announce and scrape replies. */
#include "loadgen.h"

/* ------------------------------------------------------------ HTTP bodies */

/* Minimal bencode readers over (p, n) from *off; false when malformed. */
static bool b_str(const uint8_t *p, size_t n, size_t *off, const uint8_t **s, size_t *len)
{
    size_t i = *off, v = 0;
    if (i >= n || p[i] < '0' || p[i] > '9') return false;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (v > 100000000) return false;
        v = v * 10 + (size_t)(p[i] - '0');
    }
    if (i >= n || p[i] != ':' || n - i - 1 < v) return false;
    *s = p + i + 1;
    *len = v;
    *off = i + 1 + v;
    return true;
}

static bool b_int(const uint8_t *p, size_t n, size_t *off, int64_t *out)
{
    size_t i = *off + 1;
    int64_t v = 0, sign = 1;
    if (*off >= n || p[*off] != 'i') return false;
    if (i < n && p[i] == '-') sign = -1, i++;
    size_t digits = i;
    for (; i < n && p[i] >= '0' && p[i] <= '9' && i - digits < 18; i++) v = v * 10 + (p[i] - '0');
    if (i == digits || i >= n || p[i] != 'e') return false;
    *out = sign * v;
    *off = i + 1;
    return true;
}

static bool b_skip(const uint8_t *p, size_t n, size_t *off, int depth)
{
    const uint8_t *s;
    size_t len;
    int64_t v;
    if (*off >= n || depth > 32) return false;
    if (p[*off] == 'i') return b_int(p, n, off, &v);
    if (p[*off] != 'l' && p[*off] != 'd') return b_str(p, n, off, &s, &len);
    bool dict = p[(*off)++] == 'd';
    while (*off < n && p[*off] != 'e') {
        if (dict && !b_str(p, n, off, &s, &len)) return false;
        if (!b_skip(p, n, off, depth + 1)) return false;
    }
    return *off < n && p[(*off)++] == 'e';
}

static bool key_is(const uint8_t *k, size_t len, const char *name)
{
    return len == strlen(name) && !memcmp(k, name, len);
}

/* An announce reply: a dict with an interval and a compact (or listed)
 * peer list of at most numwant peers; 1 ok, 0 failure reason, -1 bad. */
static int http_announce_body(struct phase *ph, const uint8_t *p, size_t n)
{
    size_t off = 1, klen, vlen, npeers = 0;
    const uint8_t *k, *v;
    bool have_interval = false, have_peers = false;
    int64_t iv;
    if (!n || p[0] != 'd') return -1;
    while (off < n && p[off] != 'e') {
        if (!b_str(p, n, &off, &k, &klen) || off >= n) return -1;
        size_t val = off;
        if (key_is(k, klen, "failure reason") && b_str(p, n, &off, &v, &vlen)) {
            note_error(ph, "announce", v, vlen);
            return 0;
        }
        if (key_is(k, klen, "interval") && b_int(p, n, &off, &iv) && iv > 0) {
            have_interval = true;
        } else if (key_is(k, klen, "peers") && p[off] != 'l' && b_str(p, n, &off, &v, &vlen)) {
            have_peers = vlen % 6 == 0;
            npeers = vlen / 6;
        } else if (key_is(k, klen, "peers") && p[off] == 'l') {
            for (off++; off < n && p[off] != 'e'; npeers++)
                if (!b_skip(p, n, &off, 1)) return -1;
            have_peers = off++ < n;
        } else {
            off = val;
            if (!b_skip(p, n, &off, 1)) return -1;
        }
    }
    if (!have_interval || !have_peers || npeers > g_o->numwant) return -1;
    if (ph->counting) ph->peers_returned += npeers;
    return 1;
}

/* A scrape reply: d5:filesd<hash>d8:completei..e10:incompletei..e...eee,
 * with at most `want` files (opentracker leaves out torrents it does not
 * know). Counts are added only when the whole reply is valid. */
static int http_scrape_body(struct phase *ph, const uint8_t *p, size_t n, uint32_t want)
{
    size_t off = 1, klen;
    const uint8_t *k;
    uint64_t sum[3] = {0, 0, 0}, files = 0, used = 0;
    if (!n || p[0] != 'd') return -1;
    while (off < n && p[off] != 'e') {
        if (!b_str(p, n, &off, &k, &klen) || off >= n) return -1;
        if (!key_is(k, klen, "files") || p[off] != 'd') {
            if (!b_skip(p, n, &off, 1)) return -1;
            continue;
        }
        for (off++; off < n && p[off] != 'e'; files++) {
            uint64_t before = sum[0] + sum[1];
            if (!b_str(p, n, &off, &k, &klen) || klen != 20 || off >= n || p[off++] != 'd')
                return -1;
            while (off < n && p[off] != 'e') {
                int64_t v = 0;
                if (!b_str(p, n, &off, &k, &klen) || off >= n) return -1;
                if (p[off] != 'i') {
                    if (!b_skip(p, n, &off, 2)) return -1;
                    continue;
                }
                if (!b_int(p, n, &off, &v) || v < 0) return -1;
                int slot = key_is(k, klen, "complete")     ? 0
                           : key_is(k, klen, "incomplete") ? 1
                           : key_is(k, klen, "downloaded") ? 2
                                                           : -1;
                if (slot >= 0) sum[slot] += (uint64_t)v;
            }
            used += sum[0] + sum[1] > before;
            off++;
        }
        off++;
    }
    if (off > n || files > want) return -1;
    ph->sc_seeders += sum[0];
    ph->sc_leechers += sum[1];
    ph->sc_completed += sum[2];
    ph->sc_files += files;
    ph->sc_used += used;
    return 1;
}

/* ------------------------------------------------------------------- HTTP */




static size_t pct(char *out, const uint8_t *b, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t k = 0; k < n; k++) {
        out[3 * k] = '%';
        out[3 * k + 1] = hex[b[k] >> 4];
        out[3 * k + 2] = hex[b[k] & 15];
    }
    return 3 * n;
}

/* The request for an item into out (HREQ bytes; scrape_batch <= 20 keeps
 * a scrape under 1,500 bytes). */
static size_t http_request(char *out, const struct phase *ph, uint64_t item)
{
    size_t len;
    if (ph->kind == PH_SCRAPE) {
        uint32_t first, n = chunk_range(item, &first);
        len = (size_t)snprintf(out, HREQ, "GET /scrape");
        for (uint32_t k = 0; k < n; k++) {
            len += (size_t)snprintf(out + len, HREQ - len, "%cinfo_hash=", k ? '&' : '?');
            len += pct(out + len, g_w.hash[first + k], 20);
        }
    } else {
        const struct peer *pe = &g_w.peer[item];
        uint8_t id[20];
        peer_id(id, item);
        len = (size_t)snprintf(out, HREQ, "GET /announce?info_hash=");
        len += pct(out + len, g_w.hash[pe->torrent], 20);
        len += (size_t)snprintf(out + len, HREQ - len,
                                "&peer_id=%.20s&port=%u&uploaded=0&downloaded=0&left=%llu"
                                "&compact=1&numwant=%lu%s",
                                (const char *)id, pe->port, (unsigned long long)pe->left,
                                g_o->numwant, ph->kind == PH_REGISTER ? "&event=started" : "");
    }
    len += (size_t)snprintf(out + len, HREQ - len,
                            " HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n", g_o->host);
    return len < HREQ ? len : HREQ - 1;
}

static size_t header_num(const uint8_t *v, const uint8_t *end)
{
    size_t n = 0;
    while (v < end && *v == ' ') v++;
    if (v == end || *v < '0' || *v > '9') return SIZE_MAX;
    for (; v < end && *v >= '0' && *v <= '9' && n < HBUF; v++) n = n * 10 + (size_t)(*v - '0');
    return n;
}

/* Whether b holds a whole response: 1 (sets total length, body offset,
 * status, and whether the server closes after it), 0 when more is needed,
 * -1 when malformed or too big. Without Content-Length, the body ends at EOF. */
static int http_parse(const uint8_t *b, size_t n, bool eof, size_t *total, size_t *body,
                      int *status, bool *closes)
{
    const uint8_t *end = memmem(b, n, "\r\n\r\n", 4);
    if (!end) return n >= HBUF || (eof && n) ? -1 : 0;
    size_t hlen = (size_t)(end - b) + 4, clen = SIZE_MAX;
    if (hlen < 16 || memcmp(b, "HTTP/1.", 7) || b[8] != ' ') return -1;
    *status = (int)header_num(b + 9, b + 12);
    *closes = b[7] == '0';
    for (const uint8_t *l = memchr(b, '\n', hlen) + 1; l < end;) {
        const uint8_t *e = memchr(l, '\r', (size_t)(end + 1 - l));
        size_t ll = (size_t)(e - l);
        if (ll > 15 && !strncasecmp((const char *)l, "content-length:", 15))
            clen = header_num(l + 15, e);
        if (ll > 11 && !strncasecmp((const char *)l, "connection:", 11))
            *closes = memmem(l, ll, "lose", 4) != NULL; /* close, Close */
        l = e + 2;
    }
    if (clen == SIZE_MAX && !eof) return 0;
    if (clen == SIZE_MAX) clen = n - hlen;
    if (clen >= HBUF - hlen) return -1;
    if (n - hlen < clen) return eof ? -1 : 0;
    *body = hlen;
    *total = hlen + clen;
    return 1;
}

static void http_close(struct hconn *c, bool reset)
{
    if (c->fd < 0) return;
    if (reset) { /* an RST leaves no TIME_WAIT on our side */
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    c->fd = -1;
    c->state = H_CLOSED;
    c->blen = 0;
    c->closing = false;
}

static bool http_open(struct http *h, uint32_t i, struct phase *ph)
{
    struct hconn *c = &h->c[i];
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return false;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(c->fd, (const struct sockaddr *)&g_o->addr, sizeof g_o->addr);
    if (r < 0 && errno != EINPROGRESS) {
        http_close(c, false);
        return false;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u32 = i};
    epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->state = r == 0 ? H_OPEN : H_CONNECTING;
    ph->connects++;
    return true;
}

/* Writes what is left of the request; false when the connection is gone. */
static bool http_write(struct hconn *c)
{
    while (c->req_off < c->req_len) {
        ssize_t r = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (r > 0) c->req_off += (size_t)r;
        else if (!(r < 0 && errno == EINTR)) return r < 0 && errno == EAGAIN;
    }
    return true;
}

static void http_fail(struct hconn *c, struct phase *ph, uint64_t now)
{
    c->busy = false;
    ph_finish(ph, c->item, false, 0, now);
}

static void http_send(struct http *h, uint32_t i, struct phase *ph, uint64_t now);

/* The connection ended before a whole reply. With nothing of it read, the
 * server closed a kept-alive connection (opentracker closes after every
 * reply): the request goes again on a new one, up to MAX_TRIES times. */
static void http_lost(struct http *h, uint32_t i, struct phase *ph, uint64_t now)
{
    struct hconn *c = &h->c[i];
    bool partial = c->blen > 0;
    http_close(c, false);
    if (!c->busy) return;
    if (!partial && c->tries++ < MAX_TRIES) {
        ph->reconnects++;
        http_send(h, i, ph, now);
        return;
    }
    ph->bad += partial;
    ph->errors += !partial;
    http_fail(c, ph, now);
}

/* Sends the connection's request: on its open connection, or a new one. */
static void http_send(struct http *h, uint32_t i, struct phase *ph, uint64_t now)
{
    struct hconn *c = &h->c[i];
    c->req_off = 0;
    if (c->fd < 0 && !http_open(h, i, ph)) {
        ph->errors++;
        http_fail(c, ph, now);
    } else if (c->state == H_OPEN && !http_write(c)) {
        http_lost(h, i, ph, now);
    }
}

static void http_start(struct http *h, uint32_t i, struct phase *ph, uint64_t now)
{
    struct hconn *c = &h->c[i];
    uint64_t item;
    if (c->busy || (c->fd >= 0 && c->closing) || !ph_take(ph, &item)) return;
    c->item = item;
    c->busy = true;
    c->tries = 0;
    c->sent_us = now;
    c->req_len = http_request(c->req, ph, item);
    http_send(h, i, ph, now);
}

static void http_response(struct phase *ph, struct hconn *c, const uint8_t *b, size_t n,
                          int status, uint64_t now)
{
    int v;
    if (status != 200) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "HTTP status %d", status);
        note_error(ph, ph->name, (const uint8_t *)msg, (size_t)len);
        v = 0;
    } else if (ph->kind == PH_SCRAPE) {
        uint32_t first;
        v = http_scrape_body(ph, b, n, chunk_range(c->item, &first));
    } else {
        v = http_announce_body(ph, b, n);
    }
    ph->bad += v < 0;
    c->busy = false;
    ph_finish(ph, c->item, v > 0, c->sent_us, now);
}

static void http_read(struct http *h, uint32_t i, struct phase *ph, uint64_t now)
{
    struct hconn *c = &h->c[i];
    bool eof = false;
    while (!eof && c->blen < HBUF) {
        ssize_t r = recv(c->fd, c->buf + c->blen, HBUF - c->blen, 0);
        if (r > 0) c->blen += (size_t)r;
        else if (r < 0 && errno == EAGAIN) break;
        else if (!(r < 0 && errno == EINTR)) eof = true;
    }
    while (c->busy && c->blen) {
        size_t total = 0, body = 0;
        int status = 0;
        bool closes = false;
        int r = http_parse(c->buf, c->blen, eof, &total, &body, &status, &closes);
        if (r == 0) break;
        if (r < 0) {
            ph->bad++;
            http_fail(c, ph, now);
            http_close(c, true);
            return;
        }
        http_response(ph, c, c->buf + body, total - body, status, now);
        memmove(c->buf, c->buf + total, c->blen - total);
        c->blen -= total;
        c->closing = closes;
        c->sent_us = now; /* bounds the wait for the server's close */
    }
    if (!c->busy && c->blen) { /* bytes nobody asked for */
        ph->bad++;
        http_close(c, true);
    } else if (eof && c->busy) {
        http_lost(h, i, ph, now);
    } else if (eof) {
        http_close(c, false);
    }
    http_start(h, i, ph, now);
}

static void http_event(struct http *h, uint32_t i, uint32_t events, struct phase *ph,
                       uint64_t now)
{
    struct hconn *c = &h->c[i];
    if (c->fd < 0) return;
    if (c->state == H_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            http_lost(h, i, ph, now);
            return;
        }
        if (!(events & EPOLLOUT)) return;
        c->state = H_OPEN;
    }
    if (c->busy && c->req_off < c->req_len && !http_write(c)) {
        http_lost(h, i, ph, now);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) http_read(h, i, ph, now);
}

static void http_expire(struct http *h, struct phase *ph, uint64_t now)
{
    uint64_t to = g_o->timeout_ms * 1000u;
    for (uint32_t i = 0; i < h->n; i++) {
        struct hconn *c = &h->c[i];
        if (c->busy && now - c->sent_us > to) {
            ph->timeouts++;
            http_close(c, true);
            http_fail(c, ph, now);
        } else if (!c->busy && c->closing && now - c->sent_us > to) {
            http_close(c, true);
        }
    }
}

void http_init(struct http *h)
{
    h->n = (uint32_t)g_o->conns;
    h->c = xcalloc(h->n, sizeof *h->c);
    h->ep = epoll_create1(EPOLL_CLOEXEC);
    for (uint32_t i = 0; i < h->n; i++) {
        h->c[i].fd = -1;
        h->c[i].buf = xcalloc(HBUF, 1);
    }
}

void http_run(struct http *h, struct phase *ph)
{
    struct epoll_event ev[256];
    uint64_t last_expire = 0;
    for (;;) {
        uint64_t now = now_us();
        if (ph_tick(ph, now)) return;
        for (uint32_t i = 0; i < h->n; i++) http_start(h, i, ph, now);
        int n = epoll_wait(h->ep, ev, 256, 5);
        now = now_us();
        for (int j = 0; j < n; j++) http_event(h, ev[j].data.u32, ev[j].events, ph, now);
        if (now - last_expire > 10000u) {
            http_expire(h, ph, now);
            last_expire = now;
        }
    }
}
