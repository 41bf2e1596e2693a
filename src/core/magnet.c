/* Magnet links (BEP 9): parsing, canonical building, and the magnet of a
 * torrent.
 *
 * Choices worth knowing:
 * - '+' in a value stays '+'. Magnet links are URIs (RFC 3986), not HTML
 *   form data, so only %20 means a space; reading '+' as a space would break
 *   tracker URLs and names that really contain '+'. Build writes '+' as %2B,
 *   so either reading gives the same result for what rill produces.
 * - Keys are matched exactly (lowercase), with an optional ".N" index
 *   ("tr.1", "xt.2") as libtorrent and others write repeated parameters.
 *   Unknown keys, xt URNs other than btih/btmh, and empty values are ignored;
 *   only the values of known keys are percent-decoded and checked.
 * - The first dn wins; tr, ws and x.pe keep their order of appearance.
 * - Build escapes every value except x.pe, which it writes as is: a valid
 *   peer holds only unreserved characters, ':', '[' and ']', and libtorrent
 *   (2.0) reads x.pe without percent-decoding it, so "%5B%3A%3A1%5D%3A1"
 *   would be lost on it. Parse decodes x.pe all the same.
 * - Every value is capped (MAX_VALUE decoded bytes), every list
 *   (MAX_LIST entries) and the whole link (MAX_URI bytes), so a hostile link
 *   costs bounded memory. Build refuses to write what parse would refuse.
 */
#include <stdlib.h>
#include <string.h>

#include "core/base32.h"
#include "core/uri.h"
#include "util/util.h"

#define MAX_URI ((size_t)64 << 10) /* bytes of a whole magnet link */
#define MAX_VALUE 8192             /* decoded bytes of one value */
#define MAX_LIST 1000              /* trackers, web seeds, peers each */
#define KEY_SHOWN 16               /* key bytes quoted in error messages */

struct parser {
    struct rill_magnet *m;
    const char *uri;
    size_t len;
    struct rill_error *err;
    bool have_btih;
    size_t btih_at; /* offset of the first btih's xt value */
    bool have_btmh;
    size_t btmh_at;
};

/* One key=value parameter: offsets into the link. */
struct param {
    size_t key, keylen;
    size_t val, vallen;
};

/* ------------------------------------------------------------------ parse */

static bool ascii_ieq(const char *s, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

/* True if the key is `base` or `base.N` with N decimal digits. */
static bool key_is(const char *k, size_t kn, const char *base)
{
    size_t bn = strlen(base);
    if (kn < bn || memcmp(k, base, bn) != 0)
        return false;
    if (kn == bn)
        return true;
    if (k[bn] != '.' || kn == bn + 1)
        return false;
    for (size_t i = bn + 1; i < kn; i++)
        if (k[i] < '0' || k[i] > '9')
            return false;
    return true;
}

static int key_shown(const struct param *pa)
{
    return (int)(pa->keylen < KEY_SHOWN ? pa->keylen : KEY_SHOWN);
}

/* Percent-decodes a parameter's value into a new string, or NULL in `*out`
 * for an empty value. */
static int decode_value(struct parser *p, const struct param *pa, char **out)
{
    *out = NULL;
    if (pa->vallen == 0)
        return 0;
    const char *key = p->uri + pa->key;
    char *s = malloc(pa->vallen + 1);
    if (!s)
        return rill__fail(p->err, RILL_ENOMEM, pa->val, "out of memory");
    size_t n = 0, at = 0;
    const char *why = NULL;
    if (rill__pct_decode(p->uri + pa->val, pa->vallen, s, &n, &at, &why) != 0) {
        free(s);
        return rill__fail(p->err, RILL_EMAGNET, pa->val + at, "%s in the value of '%.*s'", why,
                          key_shown(pa), key);
    }
    if (n > MAX_VALUE) {
        free(s);
        return rill__fail(p->err, RILL_EMAGNET, pa->val,
                          "value of '%.*s' is %zu bytes decoded, more than %d", key_shown(pa),
                          key, n, MAX_VALUE);
    }
    s[n] = 0;
    *out = s;
    return 0;
}

/* Appends `s` (owned) to an array whose capacity is the next power of two
 * above its count, so no separate capacity field is needed. */
static int push(char ***arr, size_t *count, char *s)
{
    size_t n = *count;
    if ((n & (n - 1)) == 0) {
        size_t cap = n ? 2 * n : 1;
        char **a = realloc(*arr, cap * sizeof *a);
        if (!a)
            return RILL_ENOMEM;
        *arr = a;
    }
    (*arr)[n] = s;
    *count = n + 1;
    return 0;
}

static int add_value(struct parser *p, const struct param *pa, char ***arr, size_t *count,
                     bool is_peer)
{
    char *s;
    int rc = decode_value(p, pa, &s);
    if (rc || !s)
        return rc;
    const char *key = p->uri + pa->key;
    const char *why = is_peer ? rill__hostport_check(s, strlen(s)) : NULL;
    if (why) {
        free(s);
        return rill__fail(p->err, RILL_EMAGNET, pa->val, "bad peer address in '%.*s': %s",
                          key_shown(pa), key, why);
    }
    if (*count >= MAX_LIST) {
        free(s);
        return rill__fail(p->err, RILL_EMAGNET, pa->key, "more than %d '%.*s' values", MAX_LIST,
                          key_shown(pa), key);
    }
    if (push(arr, count, s) != 0) {
        free(s);
        return rill__fail(p->err, RILL_ENOMEM, pa->key, "out of memory");
    }
    return 0;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The hash part of xt=urn:btih:HASH, which starts at offset `off`;
 * `xt_at` is where the xt value starts, for the duplicate error. */
static int parse_btih(struct parser *p, size_t off, size_t n, size_t xt_at)
{
    const char *s = p->uri + off;
    uint8_t h[RILL_SHA1_LEN];
    if (n == 2 * RILL_SHA1_LEN) {
        for (size_t i = 0; i < n; i++)
            if (!is_hex(s[i]))
                return rill__fail(p->err, RILL_EMAGNET, off + i,
                                  "non-hex character in a 40-character btih");
        rill_unhex(s, n, h, sizeof h);
    } else if (n == RILL__BASE32_LEN(RILL_SHA1_LEN)) {
        size_t bad = 0;
        if (rill__base32_decode(s, n, h, sizeof h, &bad) != 0)
            return rill__fail(p->err, RILL_EMAGNET, off + bad,
                              "non-base32 character in a 32-character btih");
    } else {
        return rill__fail(p->err, RILL_EMAGNET, off,
                          "btih must be 40 hex or 32 base32 characters, not %zu", n);
    }
    if (p->have_btih && memcmp(h, p->m->info_hash, sizeof h) != 0)
        return rill__fail(p->err, RILL_EMAGNET, xt_at,
                          "a second, different btih (the first is at offset %zu)", p->btih_at);
    if (!p->have_btih) {
        memcpy(p->m->info_hash, h, sizeof h);
        p->have_btih = true;
        p->btih_at = xt_at;
    }
    return 0;
}

/* xt is read raw, not percent-decoded: a hash has no reason to be escaped,
 * and raw offsets point exactly at a bad character. The URN namespace is
 * case-insensitive (RFC 8141). */
static int parse_xt(struct parser *p, const struct param *pa)
{
    const char *v = p->uri + pa->val;
    if (pa->vallen >= 9 && ascii_ieq(v, "urn:btih:", 9))
        return parse_btih(p, pa->val + 9, pa->vallen - 9, pa->val);
    if (pa->vallen >= 9 && ascii_ieq(v, "urn:btmh:", 9) && !p->have_btmh) {
        /* A v2 hash: kept only to explain a v2-only link. A hybrid link
         * also has a btih, which is what rill uses. */
        p->have_btmh = true;
        p->btmh_at = pa->val;
    }
    return 0;
}

static int parse_param(struct parser *p, struct param *pa)
{
    const char *k = p->uri + pa->key;
    const char *eq = memchr(k, '=', pa->keylen);
    if (eq) {
        size_t kl = (size_t)(eq - k);
        pa->val = pa->key + kl + 1;
        pa->vallen = pa->keylen - kl - 1;
        pa->keylen = kl;
    } else {
        pa->val = pa->key + pa->keylen;
        pa->vallen = 0;
    }
    struct rill_magnet *m = p->m;
    size_t kn = pa->keylen;
    if (key_is(k, kn, "xt"))
        return parse_xt(p, pa);
    if (key_is(k, kn, "dn")) {
        char *s;
        int rc = decode_value(p, pa, &s);
        if (!rc && s && !m->name)
            m->name = s;
        else
            free(s);
        return rc;
    }
    if (key_is(k, kn, "tr"))
        return add_value(p, pa, &m->trackers, &m->tracker_count, false);
    if (key_is(k, kn, "ws"))
        return add_value(p, pa, &m->web_seeds, &m->web_seed_count, false);
    if (key_is(k, kn, "x.pe"))
        return add_value(p, pa, &m->peers, &m->peer_count, true);
    return 0;
}

static int parse_all(struct parser *p)
{
    const char *u = p->uri;
    size_t len = p->len;
    if (len > MAX_URI)
        return rill__fail(p->err, RILL_EMAGNET, MAX_URI, "magnet link longer than %zu bytes",
                          MAX_URI);
    const char *nul = len ? memchr(u, 0, len) : NULL;
    if (nul)
        return rill__fail(p->err, RILL_EMAGNET, (size_t)(nul - u), "NUL byte in magnet link");
    if (len < 7 || !ascii_ieq(u, "magnet:", 7))
        return rill__fail(p->err, RILL_EMAGNET, 0, "not a magnet link: no 'magnet:' scheme");
    if (len < 8 || u[7] != '?')
        return rill__fail(p->err, RILL_EMAGNET, 7, "expected '?' after 'magnet:'");
    for (size_t i = 8; i < len;) {
        const char *amp = memchr(u + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - u) : len;
        struct param pa = {.key = i, .keylen = end - i};
        int rc = end > i ? parse_param(p, &pa) : 0;
        if (rc)
            return rc;
        i = end + 1;
    }
    if (p->have_btih)
        return 0;
    if (p->have_btmh)
        return rill__fail(p->err, RILL_EUNSUPPORTED, p->btmh_at,
                          "v2-only magnet link (urn:btmh without urn:btih): rill needs a "
                          "v1 or hybrid torrent");
    return rill__fail(p->err, RILL_EMAGNET, len, "no xt=urn:btih: info-hash");
}

int rill_magnet_parse(struct rill_magnet *m, const char *uri, size_t len,
                      struct rill_error *err)
{
    if (!m)
        return rill__fail(err, RILL_EINVAL, 0, "no magnet struct given");
    memset(m, 0, sizeof *m);
    if (!uri && len)
        return rill__fail(err, RILL_EINVAL, 0, "no magnet link given");
    struct parser p = {.m = m, .uri = uri ? uri : "", .len = len, .err = err};
    int rc = parse_all(&p);
    if (rc)
        rill_magnet_free(m);
    return rc;
}

static void free_list(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void rill_magnet_free(struct rill_magnet *m)
{
    if (!m)
        return;
    free(m->name);
    free_list(m->trackers, m->tracker_count);
    free_list(m->web_seeds, m->web_seed_count);
    free_list(m->peers, m->peer_count);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ build */

/* Appends "&key=value". An empty value is left out, as parse ignores one.
 * When `fit` is set, a value that cannot go in (too long, or no room left
 * under MAX_URI) is skipped instead of failing the whole link. */
static int put(struct rill_buf *b, const char *key, const char *s, bool fit, bool is_peer)
{
    size_t n = strnlen(s, MAX_VALUE + 1);
    if (n == 0)
        return 0;
    if (n > MAX_VALUE)
        return fit ? 0 : RILL_ELIMIT;
    if (is_peer && rill__hostport_check(s, n))
        return fit ? 0 : RILL_EINVAL;
    size_t kl = strlen(key);
    if (2 + kl + (is_peer ? n : rill__pct_encoded_len(s, n)) > b->max - b->len)
        return fit ? 0 : RILL_ELIMIT;
    rill_buf_append(b, "&", 1);
    rill_buf_append(b, key, kl);
    rill_buf_append(b, "=", 1);
    if (is_peer)
        return rill_buf_append(b, s, n);
    return rill__pct_encode(b, s, n);
}

static int put_list(struct rill_buf *b, const char *key, char *const *a, size_t n, bool fit,
                    bool is_peer)
{
    if (n && !a)
        return RILL_EINVAL;
    size_t written = 0;
    for (size_t i = 0; i < n; i++) {
        if (!a[i]) {
            if (fit)
                continue;
            return RILL_EINVAL;
        }
        if (!a[i][0])
            continue;
        if (written == MAX_LIST)
            return fit ? 0 : RILL_ELIMIT;
        size_t before = b->len;
        int rc = put(b, key, a[i], fit, is_peer);
        if (rc)
            return rc;
        written += b->len > before;
    }
    return 0;
}

/* Writes the canonical link into a scratch buffer capped at MAX_URI, so
 * `out` is only touched when the whole link succeeded. */
static int build(const struct rill_magnet *m, struct rill_buf *out, bool fit)
{
    static const char head[] = "magnet:?xt=urn:btih:";
    struct rill_buf b;
    rill_buf_init(&b, MAX_URI);
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(m->info_hash, RILL_SHA1_LEN, hex);
    rill_buf_append(&b, head, sizeof head - 1);
    rill_buf_append(&b, hex, 2 * RILL_SHA1_LEN);
    int rc = b.failed ? RILL_ENOMEM : 0;
    if (!rc && m->name)
        rc = put(&b, "dn", m->name, fit, false);
    if (!rc)
        rc = put_list(&b, "tr", m->trackers, m->tracker_count, fit, false);
    if (!rc)
        rc = put_list(&b, "ws", m->web_seeds, m->web_seed_count, fit, false);
    if (!rc)
        rc = put_list(&b, "x.pe", m->peers, m->peer_count, fit, true);
    if (!rc)
        rc = rill_buf_append(out, b.data, b.len);
    rill_buf_free(&b);
    return rc;
}

/* Appends the canonical magnet link of `m` to `out` (out is untouched on
 * error): "magnet:?xt=urn:btih:<40 lowercase hex>", then dn, every tr, ws and
 * x.pe in order, each value percent-encoded (RFC 3986 unreserved characters
 * kept, every other byte %XX uppercase) except x.pe, whose checked
 * "host:port" is written verbatim for libtorrent's sake. NULL and empty
 * strings are left out.
 * Returns 0; RILL_EINVAL for a NULL argument, a NULL entry in a list or a
 * peer that is not a valid "host:port"; RILL_ELIMIT when a value, a list or
 * the whole link is over what rill_magnet_parse accepts; RILL_ENOMEM. So
 * whatever this builds, rill_magnet_parse reads back to an equal struct. */
int rill_magnet_build(const struct rill_magnet *m, struct rill_buf *out)
{
    if (!m || !out)
        return RILL_EINVAL;
    return build(m, out, false);
}

static bool contains(char *const *a, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i], s) == 0)
            return true;
    return false;
}

/* Adds `s` to a fixed array of MAX_LIST unless it is empty, known or the
 * array is full. */
static void add_unique(char **a, size_t *n, char *s)
{
    if (s && s[0] && *n < MAX_LIST && !contains(a, *n, s))
        a[(*n)++] = s;
}

/* Appends the magnet link of a torrent to `out`: its info-hash, name, every
 * tracker of every tier in order without duplicates, then its web seeds
 * (likewise). A torrent may hold more than a link can carry: past MAX_LIST
 * trackers or web seeds, or past MAX_URI bytes, the rest are left out rather
 * than failing. Borrows `mi`'s strings; keeps nothing. */
int rill_magnet_from_metainfo(const struct rill_metainfo *mi, struct rill_buf *out)
{
    if (!mi || !out)
        return RILL_EINVAL;
    struct rill_magnet m = {.name = mi->name};
    memcpy(m.info_hash, mi->info_hash, RILL_SHA1_LEN);
    m.trackers = calloc(MAX_LIST, sizeof *m.trackers);
    m.web_seeds = calloc(MAX_LIST, sizeof *m.web_seeds);
    int rc = RILL_ENOMEM;
    if (m.trackers && m.web_seeds) {
        for (size_t t = 0; mi->tiers && t < mi->tier_count; t++)
            for (size_t i = 0; mi->tiers[t].urls && i < mi->tiers[t].count; i++)
                add_unique(m.trackers, &m.tracker_count, mi->tiers[t].urls[i]);
        for (size_t i = 0; mi->web_seeds && i < mi->web_seed_count; i++)
            add_unique(m.web_seeds, &m.web_seed_count, mi->web_seeds[i]);
        rc = build(&m, out, true);
    }
    free(m.trackers);
    free(m.web_seeds);
    return rc;
}
