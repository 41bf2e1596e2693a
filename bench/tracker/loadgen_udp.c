/* loadgen's UDP engine (BEP 15): sockets with a window of requests in
 * flight each, a connect per socket reused for 60 s, retries and timeouts. */
#include "loadgen.h"

static uint32_t udp_tid(struct udp *u, uint32_t slot)
{
    return (u->seq++ << SLOT_BITS) | slot;
}

/* A BEP 15 announce (98 bytes) for peer i. */
static size_t udp_announce(uint8_t *p, uint64_t cid, uint32_t tid, uint64_t i, uint32_t event)
{
    const struct peer *pe = &g_w.peer[i];
    put64(p, cid);
    put32(p + 8, 1);
    put32(p + 12, tid);
    memcpy(p + 16, g_w.hash[pe->torrent], 20);
    peer_id(p + 36, i);
    put64(p + 56, 0);
    put64(p + 64, pe->left);
    put64(p + 72, 0);
    put32(p + 80, event);
    put32(p + 84, 0);
    put32(p + 88, (uint32_t)i);
    put32(p + 92, (uint32_t)g_o->numwant);
    put16(p + 96, pe->port);
    return 98;
}

static size_t udp_scrape(uint8_t *p, uint64_t cid, uint32_t tid, uint64_t item)
{
    uint32_t first, n = chunk_range(item, &first);
    put64(p, cid);
    put32(p + 8, 2);
    put32(p + 12, tid);
    for (uint32_t k = 0; k < n; k++) memcpy(p + 16 + 20 * k, g_w.hash[first + k], 20);
    return 16 + 20 * (size_t)n;
}

/* Sends a connect when the socket has no id, or one 60 s old (the old id
 * stays in use until the new one arrives). */
static void udp_maybe_connect(struct udp *u, struct usock *s, uint64_t now)
{
    bool old = s->have_id && now - s->conn_us > 60000000u;
    if ((s->have_id && !old) || s->connecting || now < s->next_connect_us) return;
    uint8_t p[16];
    put64(p, 0x41727101980u);
    put32(p + 8, 0);
    s->connect_tid = udp_tid(u, SLOT_MASK);
    put32(p + 12, s->connect_tid);
    if (send(s->fd, p, sizeof p, 0) == (ssize_t)sizeof p) {
        s->connecting = true;
        s->connect_sent_us = now;
    }
}

/* Fills socket s's window with requests, in batches of sendmmsg. */
static void udp_fill(struct udp *u, struct usock *s, struct phase *ph, uint64_t now)
{
    udp_maybe_connect(u, s, now);
    while (s->have_id && s->nfree) {
        uint32_t nb = 0, idx[BATCH];
        uint64_t item;
        while (nb < BATCH && s->nfree && ph_take(ph, &item)) {
            uint32_t k = s->free[--s->nfree];
            struct uslot *sl = &s->slot[k];
            uint8_t *p = u->out + (size_t)nb * PKT;
            sl->tid = udp_tid(u, k);
            sl->item = item;
            sl->sent_us = now;
            sl->busy = true;
            size_t len = ph->kind == PH_SCRAPE
                             ? udp_scrape(p, s->conn_id, sl->tid, item)
                             : udp_announce(p, s->conn_id, sl->tid, item,
                                            ph->kind == PH_REGISTER ? 2 : 0);
            u->iov[nb] = (struct iovec){p, len};
            u->mm[nb].msg_hdr = (struct msghdr){.msg_iov = &u->iov[nb], .msg_iovlen = 1};
            idx[nb++] = k;
        }
        if (!nb) return;
        int r = sendmmsg(s->fd, u->mm, nb, 0);
        uint32_t sent = r < 0 ? 0 : (uint32_t)r;
        for (uint32_t j = sent; j < nb; j++) { /* the socket buffer is full */
            s->slot[idx[j]].busy = false;
            s->free[s->nfree++] = (uint16_t)idx[j];
            ph_untake(ph, s->slot[idx[j]].item);
        }
        if (sent < nb) return;
    }
}

/* Checks an announce or scrape reply's size and counts; true if valid. */
static bool udp_valid(struct phase *ph, const uint8_t *p, size_t n, uint64_t item)
{
    uint32_t action = get32(p);
    if (ph->kind != PH_SCRAPE) {
        if (action != 1 || n < 20 || (n - 20) % 6 || (n - 20) / 6 > g_o->numwant) return false;
        if (ph->counting) ph->peers_returned += (n - 20) / 6;
        return true;
    }
    uint32_t first, count = chunk_range(item, &first);
    if (action != 2 || n != 8 + 12 * (size_t)count) return false;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t seeders = get32(p + 8 + 12 * k), leechers = get32(p + 16 + 12 * k);
        ph->sc_seeders += seeders;
        ph->sc_completed += get32(p + 12 + 12 * k);
        ph->sc_leechers += leechers;
        ph->sc_used += seeders + leechers > 0;
    }
    ph->sc_files += count;
    return true;
}

static void udp_packet(struct udp *u, struct usock *s, struct phase *ph, const uint8_t *p,
                       size_t n, uint64_t now)
{
    if (n < 8) {
        ph->bad++;
        return;
    }
    uint32_t action = get32(p), tid = get32(p + 4), k = tid & SLOT_MASK;
    if (s->connecting && tid == s->connect_tid) {
        s->connecting = false;
        if (action == 0 && n >= 16) {
            s->conn_id = get64(p + 8);
            s->have_id = true;
            s->conn_us = now;
            ph->connects++;
        } else {
            s->next_connect_us = now + 100000u;
            if (action == 3) note_error(ph, "connect", p + 8, n - 8);
            else ph->bad++;
        }
        return;
    }
    struct uslot *sl = k < u->window ? &s->slot[k] : NULL;
    if (!sl || !sl->busy || sl->tid != tid) {
        if (sl && sl->old_tid == tid) ph->late++;
        else ph->bad++;
        return;
    }
    sl->busy = false;
    s->free[s->nfree++] = (uint16_t)k;
    bool ok = udp_valid(ph, p, n, sl->item);
    if (!ok && action == 3) {
        note_error(ph, ph->name, p + 8, n - 8);
        /* "Reconnect when told": an error may mean a stale connection id. */
        if (now - s->conn_us > 5000000u) s->conn_us = 0;
    } else if (!ok) {
        ph->bad++;
    }
    ph_finish(ph, sl->item, ok, sl->sent_us, now);
}

static void udp_drain(struct udp *u, struct usock *s, struct phase *ph, uint64_t now)
{
    for (;;) {
        for (int j = 0; j < BATCH; j++) {
            u->iov[j] = (struct iovec){u->in + (size_t)j * PKT, PKT};
            u->mm[j].msg_hdr = (struct msghdr){.msg_iov = &u->iov[j], .msg_iovlen = 1};
        }
        int r = recvmmsg(s->fd, u->mm, BATCH, MSG_DONTWAIT, NULL);
        if (r <= 0) return;
        for (int j = 0; j < r; j++)
            udp_packet(u, s, ph, u->in + (size_t)j * PKT, u->mm[j].msg_len, now);
        if (r < BATCH) return;
    }
}

/* Requests older than the timeout fail (and their late replies are
 * recognised); so does a connect. */
static void udp_expire(struct udp *u, struct phase *ph, uint64_t now)
{
    uint64_t to = g_o->timeout_ms * 1000u;
    for (uint32_t i = 0; i < u->n; i++) {
        struct usock *s = &u->s[i];
        if (s->connecting && now - s->connect_sent_us > to) {
            s->connecting = false;
            ph->timeouts++;
        }
        for (uint32_t k = 0; k < u->window; k++) {
            struct uslot *sl = &s->slot[k];
            if (!sl->busy || now - sl->sent_us <= to) continue;
            sl->busy = false;
            sl->old_tid = sl->tid;
            s->free[s->nfree++] = (uint16_t)k;
            ph->timeouts++;
            ph_finish(ph, sl->item, false, 0, now);
        }
    }
}

void udp_init(struct udp *u)
{
    memset(u, 0, sizeof *u);
    u->n = (uint32_t)g_o->conns;
    u->window = (uint32_t)g_o->window;
    u->seq = (uint32_t)g_o->seed * 7919u;
    u->s = xcalloc(u->n, sizeof *u->s);
    u->out = xcalloc(BATCH, PKT);
    u->in = xcalloc(BATCH, PKT);
    u->ep = epoll_create1(EPOLL_CLOEXEC);
    for (uint32_t i = 0; i < u->n; i++) {
        struct usock *s = &u->s[i];
        int big = 4 << 20;
        s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        if (s->fd < 0 || connect(s->fd, (const struct sockaddr *)&g_o->addr, sizeof g_o->addr)) {
            perror("loadgen: udp socket");
            exit(2);
        }
        s->slot = xcalloc(u->window, sizeof *s->slot);
        s->free = xcalloc(u->window, sizeof *s->free);
        for (uint32_t k = 0; k < u->window; k++) s->free[s->nfree++] = (uint16_t)(u->window - 1 - k);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
        epoll_ctl(u->ep, EPOLL_CTL_ADD, s->fd, &ev);
    }
}

void udp_run(struct udp *u, struct phase *ph)
{
    struct epoll_event ev[64];
    uint64_t last_expire = 0;
    for (;;) {
        uint64_t now = now_us();
        if (ph_tick(ph, now)) return;
        for (uint32_t i = 0; i < u->n; i++) udp_fill(u, &u->s[i], ph, now);
        int n = epoll_wait(u->ep, ev, 64, 5);
        now = now_us();
        for (int j = 0; j < n; j++) udp_drain(u, &u->s[ev[j].data.u32], ph, now);
        if (now - last_expire > 10000u) {
            udp_expire(u, ph, now);
            last_expire = now;
        }
    }
}
