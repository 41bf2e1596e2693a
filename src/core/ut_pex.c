/* BEP 11 peer exchange (see ut_pex.h). */
#include <string.h>

#include "core/ut_pex.h"
#include "util/util.h"

#define MAX_DEPTH 4
#define MAX_NODES 64

/* --------------------------------------------------------------- parsing */

int rill_pex_peer_cmp(const struct rill_pex_peer *a, const struct rill_pex_peer *b)
{
    if (a->addr_len != b->addr_len)
        return a->addr_len < b->addr_len ? -1 : 1;
    int c = memcmp(a->addr, b->addr, a->addr_len < 16 ? a->addr_len : 16);
    if (c)
        return c;
    return a->port == b->port ? 0 : a->port < b->port ? -1 : 1;
}

/* A string value of key `key`, or NULL if absent; *bad when not a string. */
static const struct rill_bnode *get_str(const struct rill_bdoc *doc, const char *key, bool *bad)
{
    const struct rill_bnode *v = rill_bdict_get(doc, rill_bdoc_root(doc), key);
    if (v && v->type != RILL_BSTR) {
        *bad = true;
        return NULL;
    }
    return v;
}

/* Appends the compact peers of `list` (entries of `alen` + 2 bytes) to
 * out[*n..), flags from `fl` (may be NULL or short), keeping at most
 * RILL_PEX_PARSE_MAX. */
static int take_list(const struct rill_bdoc *doc, const char *key, const char *fkey, uint8_t alen,
                     struct rill_pex_peer *out, size_t *n, bool *truncated, struct rill_error *err)
{
    bool bad = false;
    const struct rill_bnode *list = get_str(doc, key, &bad);
    const struct rill_bnode *fl = fkey ? get_str(doc, fkey, &bad) : NULL;
    if (bad)
        return rill__fail(err, RILL_ESYNTAX, 0, "%s or its flags is not a string", key);
    if (!list)
        return 0;
    size_t step = (size_t)alen + 2, kept = 0;
    if (list->slen % step != 0)
        return rill__fail(err, RILL_ESYNTAX, list->start, "%s length %zu is not a multiple of %zu",
                          key, list->slen, step);
    for (size_t i = 0; i < list->slen / step; i++) {
        const uint8_t *e = list->s + i * step;
        uint16_t port = (uint16_t)(e[alen] << 8 | e[alen + 1]);
        if (port == 0)
            continue;
        if (kept == RILL_PEX_PARSE_MAX) {
            *truncated = true;
            break;
        }
        struct rill_pex_peer *p = &out[(*n)++];
        memset(p, 0, sizeof *p);
        memcpy(p->addr, e, alen);
        p->addr_len = alen;
        p->port = port;
        p->flags = fl && i < fl->slen ? fl->s[i] : 0;
        kept++;
    }
    return 0;
}

int rill_pex_parse(const uint8_t *p, size_t n, struct rill_pex_msg *m, struct rill_error *err)
{
    m->n_added = m->n_dropped = 0;
    m->truncated = false;
    struct rill_bdoc doc;
    const struct rill_blimits lim = {
        .max_depth = MAX_DEPTH, .max_nodes = MAX_NODES, .allow_unsorted = true};
    int rc = rill_bdecode(&doc, p, n, &lim, err);
    if (rc)
        return rc;
    if (rill_bdoc_root(&doc)->type != RILL_BDICT)
        rc = rill__fail(err, RILL_ESYNTAX, 0, "message is not a dictionary");
    if (!rc)
        rc = take_list(&doc, "added", "added.f", 4, m->added, &m->n_added, &m->truncated, err);
    if (!rc)
        rc = take_list(&doc, "added6", "added6.f", 16, m->added, &m->n_added, &m->truncated, err);
    if (!rc)
        rc = take_list(&doc, "dropped", NULL, 4, m->dropped, &m->n_dropped, &m->truncated, err);
    if (!rc)
        rc = take_list(&doc, "dropped6", NULL, 16, m->dropped, &m->n_dropped, &m->truncated, err);
    rill_bdoc_free(&doc);
    if (rc) {
        m->n_added = m->n_dropped = 0;
        m->truncated = false;
    }
    return rc;
}

/* -------------------------------------------------------------- building */

static bool peer_ok(const struct rill_pex_peer *p)
{
    return (p->addr_len == 4 || p->addr_len == 16) && p->port != 0;
}

/* Writes key (and fkey with flags) for the peers of family `alen`, if any. */
static void put_family(struct rill_benc *e, const struct rill_pex_peer *v, size_t n, uint8_t alen,
                       const char *key, const char *fkey)
{
    uint8_t list[RILL_PEX_SEND_MAX * 18], flags[RILL_PEX_SEND_MAX];
    size_t len = 0, count = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].addr_len != alen)
            continue;
        memcpy(list + len, v[i].addr, alen);
        list[len + alen] = (uint8_t)(v[i].port >> 8);
        list[len + alen + 1] = (uint8_t)v[i].port;
        len += (size_t)alen + 2;
        flags[count++] = v[i].flags;
    }
    if (count == 0)
        return;
    rill_benc_key(e, key);
    rill_benc_str(e, list, len);
    if (fkey) {
        rill_benc_key(e, fkey);
        rill_benc_str(e, flags, count);
    }
}

int rill_pex_build(struct rill_buf *out, const struct rill_pex_msg *m)
{
    if (m->n_added > RILL_PEX_SEND_MAX || m->n_dropped > RILL_PEX_SEND_MAX)
        return RILL_ELIMIT;
    for (size_t i = 0; i < m->n_added; i++)
        if (!peer_ok(&m->added[i]))
            return RILL_EINVAL;
    for (size_t i = 0; i < m->n_dropped; i++)
        if (!peer_ok(&m->dropped[i]))
            return RILL_EINVAL;
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    put_family(&e, m->added, m->n_added, 4, "added", "added.f");
    put_family(&e, m->added, m->n_added, 16, "added6", "added6.f");
    put_family(&e, m->dropped, m->n_dropped, 4, "dropped", NULL);
    put_family(&e, m->dropped, m->n_dropped, 16, "dropped6", NULL);
    rill_benc_end(&e);
    return rill_benc_finish(&e) ? RILL_ENOMEM : 0;
}

/* --------------------------------------------------------------- sending */

void rill_pex_sender_init(struct rill_pex_sender *s)
{
    memset(s, 0, sizeof *s);
}

/* Index of `p` in the sorted v[0..n), or where it would go (*found false). */
static size_t find_sorted(const struct rill_pex_peer *v, size_t n, const struct rill_pex_peer *p,
                          bool *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = rill_pex_peer_cmp(&v[mid], p);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Moves up to RILL_PEX_SEND_MAX advertised peers that are not current from
 * s->adv into out->dropped. */
static void diff_dropped(struct rill_pex_sender *s, const struct rill_pex_peer *cur, size_t n,
                         struct rill_pex_msg *out)
{
    bool still[RILL_PEX_STATE_MAX] = {false};
    for (size_t i = 0; i < n; i++) {
        bool found;
        size_t at = find_sorted(s->adv, s->n_adv, &cur[i], &found);
        if (found)
            still[at] = true;
    }
    size_t keep = 0;
    for (size_t i = 0; i < s->n_adv; i++) {
        if (!still[i] && out->n_dropped < RILL_PEX_SEND_MAX) {
            out->dropped[out->n_dropped] = s->adv[i];
            out->dropped[out->n_dropped++].flags = 0;
        } else {
            s->adv[keep++] = s->adv[i];
        }
    }
    s->n_adv = keep;
}

/* Adds current peers not yet advertised, keeping s->adv sorted. */
static void diff_added(struct rill_pex_sender *s, const struct rill_pex_peer *cur, size_t n,
                       struct rill_pex_msg *out)
{
    for (size_t i = 0; i < n; i++) {
        if (out->n_added == RILL_PEX_SEND_MAX || s->n_adv == RILL_PEX_STATE_MAX)
            break;
        if (!peer_ok(&cur[i]))
            continue;
        bool found;
        size_t at = find_sorted(s->adv, s->n_adv, &cur[i], &found);
        if (found)
            continue;
        memmove(&s->adv[at + 1], &s->adv[at], (s->n_adv - at) * sizeof s->adv[0]);
        s->adv[at] = cur[i];
        s->n_adv++;
        out->added[out->n_added++] = cur[i];
    }
}

int rill_pex_sender_diff(struct rill_pex_sender *s, const struct rill_pex_peer *cur, size_t n,
                         uint64_t now_ms, struct rill_pex_msg *out)
{
    out->n_added = out->n_dropped = 0;
    out->truncated = false;
    if (s->sent && now_ms - s->last_ms < RILL_PEX_INTERVAL_MS && now_ms >= s->last_ms)
        return RILL_PEX_NOT_YET;
    diff_dropped(s, cur, n, out);
    diff_added(s, cur, n, out);
    if (out->n_added == 0 && out->n_dropped == 0)
        return RILL_PEX_NOTHING;
    s->sent = true;
    s->last_ms = now_ms;
    return RILL_PEX_SEND;
}

/* -------------------------------------------------------------- accepting */

void rill_pex_accept_init(struct rill_pex_accept *a, uint32_t per_msg, uint32_t per_min)
{
    memset(a, 0, sizeof *a);
    a->per_msg = per_msg ? per_msg : RILL_PEX_ACCEPT_PER_MSG;
    a->per_min = per_min ? per_min : RILL_PEX_ACCEPT_PER_MIN;
}

size_t rill_pex_accept_take(struct rill_pex_accept *a, const struct rill_pex_msg *m,
                            uint64_t now_ms, struct rill_pex_peer *out, size_t cap)
{
    if (!a->started || now_ms < a->window_start ||
        now_ms - a->window_start >= RILL_PEX_INTERVAL_MS) {
        a->started = true;
        a->window_start = now_ms;
        a->taken = 0;
    }
    size_t limit = a->per_msg;
    if (a->per_min - a->taken < limit)
        limit = a->per_min - a->taken;
    if (cap < limit)
        limit = cap;
    size_t got = 0;
    for (size_t i = 0; i < m->n_added && got < limit; i++) {
        bool dup = false;
        for (size_t k = 0; k < got && !dup; k++)
            dup = rill_pex_peer_cmp(&out[k], &m->added[i]) == 0;
        if (!dup && peer_ok(&m->added[i]))
            out[got++] = m->added[i];
    }
    a->taken += (uint32_t)got;
    return got;
}
