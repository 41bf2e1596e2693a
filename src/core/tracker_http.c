/* HTTP tracker messages (BEP 3, BEP 7, BEP 23, BEP 48), both directions:
 * the client's announce URL and reply parser, the server's query parsers
 * and reply builders (see tracker_msg.h). */
#include <inttypes.h>
#include <string.h>

#include "core/tracker_msg_internal.h"
#include "core/uri.h"

/* ------------------------------------------------------------ client side */

static const char *event_name(enum rill_tracker_event e)
{
    switch (e) {
    case RILL_TRACKER_EVENT_COMPLETED: return "completed";
    case RILL_TRACKER_EVENT_STARTED: return "started";
    case RILL_TRACKER_EVENT_STOPPED: return "stopped";
    default: return NULL;
    }
}

int rill_tracker_announce_url(struct rill_buf *out, const char *announce,
                              const struct rill_tracker_announce *a)
{
    if ((unsigned)a->event > RILL_TRACKER_EVENT_STOPPED)
        return RILL_EINVAL;
    size_t alen = strlen(announce);
    rill_buf_append(out, announce, alen);
    /* The announce URL may carry its own query (a passkey); ours follows it. */
    if (!memchr(announce, '?', alen))
        rill_buf_append(out, "?", 1);
    else if (announce[alen - 1] != '?' && announce[alen - 1] != '&')
        rill_buf_append(out, "&", 1);
    rill_buf_append(out, "info_hash=", 10);
    rill__pct_encode(out, a->info_hash, sizeof a->info_hash);
    rill_buf_append(out, "&peer_id=", 9);
    rill__pct_encode(out, a->peer_id, sizeof a->peer_id);
    rill_buf_appendf(out, "&port=%u&uploaded=%" PRIu64 "&downloaded=%" PRIu64 "&left=%" PRIu64,
                     (unsigned)a->port, a->uploaded, a->downloaded, a->left);
    if (event_name(a->event))
        rill_buf_appendf(out, "&event=%s", event_name(a->event));
    rill_buf_appendf(out, "&numwant=%" PRIu32 "&key=%08" PRIX32 "&compact=1&no_peer_id=1",
                     a->numwant, a->key);
    if (a->ipv6) {
        rill_buf_append(out, "&ipv6=", 6);
        rill__pct_encode(out, a->ipv6, strlen(a->ipv6));
    }
    if (a->tracker_id && a->tracker_id_len) {
        rill_buf_append(out, "&trackerid=", 11);
        rill__pct_encode(out, a->tracker_id, a->tracker_id_len);
    }
    return out->failed ? RILL_ENOMEM : 0;
}

/* Compact peers: whole entries of `stride` bytes, address then big-endian
 * port. A partial entry at the end counts as one invalid peer. */
static void compact_peers(struct rill_tracker_reply *r, const struct rill_bnode *s, int family)
{
    size_t stride = family == RILL_TRACKER_IPV4 ? 6 : 18, alen = stride - 2;
    for (size_t off = 0; off + stride <= s->slen; off += stride) {
        const uint8_t *e = s->s + off;
        rill__tracker_reply_add(r, family, e, (uint16_t)(e[alen] << 8 | e[alen + 1]));
    }
    if (s->slen % stride)
        r->peers_invalid++;
}

/* BEP 3 peers: a list of {ip, port[, peer id]}; ip is literal IPv4 or IPv6
 * text (a host name would need a resolver: counted invalid). */
static void dict_peers(struct rill_tracker_reply *r, const struct rill_bdoc *doc,
                       const struct rill_bnode *list)
{
    for (const struct rill_bnode *d = rill_bnode_first(doc, list); d;
         d = rill_bnode_next(doc, list, d)) {
        const struct rill_bnode *ip = rill_bdict_get(doc, d, "ip");
        const struct rill_bnode *port = rill_bdict_get(doc, d, "port");
        uint8_t addr[16];
        int family = ip && ip->type == RILL_BSTR
                         ? rill_tracker_addr_parse((const char *)ip->s, ip->slen, addr)
                         : 0;
        if (!family || !port || port->type != RILL_BINT || port->i < 1 || port->i > 65535) {
            r->peers_invalid++;
            continue;
        }
        rill__tracker_reply_add(r, family, addr, (uint16_t)port->i);
    }
}

static int64_t get_int(const struct rill_bdoc *doc, const struct rill_bnode *root, const char *key,
                       int64_t dflt)
{
    const struct rill_bnode *v = rill_bdict_get(doc, root, key);
    return v && v->type == RILL_BINT ? v->i : dflt;
}

static const struct rill_bnode *get_str(const struct rill_bdoc *doc, const struct rill_bnode *root,
                                        const char *key)
{
    const struct rill_bnode *v = rill_bdict_get(doc, root, key);
    return v && v->type == RILL_BSTR ? v : NULL;
}

/* The optional scalar fields of a reply. */
static void reply_fields(struct rill_tracker_reply *r, const struct rill_bdoc *doc,
                         const struct rill_bnode *root)
{
    r->interval =
        rill__tracker_clamp_interval(get_int(doc, root, "interval", RILL_TRACKER_INTERVAL_DEFAULT));
    int64_t min = get_int(doc, root, "min interval", 0);
    r->min_interval = min < 0 ? 0 : min > r->interval ? r->interval : (uint32_t)min;
    int64_t c = get_int(doc, root, "complete", -1), i = get_int(doc, root, "incomplete", -1);
    r->complete = c < 0 ? -1 : c;
    r->incomplete = i < 0 ? -1 : i;
    const struct rill_bnode *w = get_str(doc, root, "warning message");
    if (w)
        rill__tracker_text(r->warning, sizeof r->warning, w->s, w->slen);
    const struct rill_bnode *id = get_str(doc, root, "tracker id");
    if (id && id->slen <= sizeof r->tracker_id) {
        memcpy(r->tracker_id, id->s, id->slen);
        r->tracker_id_len = id->slen;
    }
}

static int reply_body(struct rill_tracker_reply *r, const struct rill_bdoc *doc,
                      struct rill_error *err)
{
    const struct rill_bnode *root = rill_bdoc_root(doc);
    if (root->type != RILL_BDICT)
        return rill__fail(err, RILL_ESYNTAX, 0, "tracker reply is not a dictionary");
    const struct rill_bnode *fail = rill_bdict_get(doc, root, "failure reason");
    if (fail) {
        if (fail->type == RILL_BSTR)
            rill__tracker_text(r->failure, sizeof r->failure, fail->s, fail->slen);
        else
            rill__tracker_text(r->failure, sizeof r->failure, (const uint8_t *)"(no text)", 9);
        return RILL_TRACKER_FAILED;
    }
    reply_fields(r, doc, root);
    const struct rill_bnode *peers = rill_bdict_get(doc, root, "peers");
    const struct rill_bnode *peers6 = get_str(doc, root, "peers6");
    if (!peers && !peers6)
        return rill__fail(err, RILL_ESYNTAX, root->start, "tracker reply has no peers");
    if (peers && peers->type == RILL_BSTR)
        compact_peers(r, peers, RILL_TRACKER_IPV4);
    else if (peers && peers->type == RILL_BLIST)
        dict_peers(r, doc, peers);
    else if (peers)
        return rill__fail(err, RILL_ESYNTAX, peers->start,
                          "tracker reply 'peers' is neither a string nor a list");
    if (peers6)
        compact_peers(r, peers6, RILL_TRACKER_IPV6);
    return 0;
}

int rill_tracker_response_parse(const uint8_t *p, size_t n, struct rill_tracker_reply *r,
                                struct rill_error *err)
{
    rill__tracker_reply_reset(r);
    /* A reply is three levels deep; the node cap bounds memory for a
     * dictionary peer list far beyond any numwant. */
    struct rill_blimits lim = {.max_depth = 16, .max_nodes = 1u << 18, .allow_unsorted = true};
    struct rill_bdoc doc;
    int rc = rill_bdecode(&doc, p, n, &lim, err);
    if (rc)
        return rc;
    rc = reply_body(r, &doc, err);
    rill_bdoc_free(&doc);
    if (rc < 0)
        rill__tracker_reply_reset(r); /* nothing half-filled */
    return rc;
}

/* ------------------------------------------------------------ server side */

enum rill_tracker_route rill_tracker_route(const char *target, size_t n)
{
    const char *q = memchr(target, '?', n);
    size_t plen = q ? (size_t)(q - target) : n;
    if (plen == 9 && memcmp(target, "/announce", 9) == 0)
        return RILL_TRACKER_ROUTE_ANNOUNCE;
    if (plen == 7 && memcmp(target, "/scrape", 7) == 0)
        return RILL_TRACKER_ROUTE_SCRAPE;
    return RILL_TRACKER_ROUTE_OTHER;
}

/* One name=value pair of a query, with the value's offset in the target. */
struct param {
    const char *key, *val;
    size_t klen, vlen, off;
};

/* Steps to the next non-empty parameter from *pos; false at the end. */
static bool next_param(const char *s, size_t n, size_t *pos, struct param *p)
{
    while (*pos < n && s[*pos] == '&')
        (*pos)++;
    if (*pos >= n)
        return false;
    size_t start = *pos, end = start;
    while (end < n && s[end] != '&')
        end++;
    const char *eq = memchr(s + start, '=', end - start);
    p->key = s + start;
    p->klen = eq ? (size_t)(eq - p->key) : end - start;
    p->val = eq ? eq + 1 : s + end;
    p->vlen = eq ? (size_t)(s + end - p->val) : 0;
    p->off = (size_t)(p->val - s);
    *pos = end;
    return true;
}


/* Percent-decodes a value, storing at most `cap` bytes in `out` but
 * setting *outlen to the whole decoded length, so a caller can say how long
 * a wrong value was. Unlike rill__pct_decode (made for magnet text), %00 is
 * allowed: info_hash and peer_id are binary. '+' is a space, as in HTML form
 * encoding (and opentracker); clients escape a real '+' as %2B. */
static int pct_decode(const struct param *p, const char *name, uint8_t *out, size_t cap,
                      size_t *outlen, struct rill_error *err)
{
    size_t o = 0;
    for (size_t i = 0; i < p->vlen; i++, o++) {
        uint8_t c = (uint8_t)p->val[i];
        if (c == '%') {
            int hi = p->vlen - i >= 3 ? rill__hexval(p->val[i + 1]) : -1;
            int lo = p->vlen - i >= 3 ? rill__hexval(p->val[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return rill__fail(err, RILL_ESYNTAX, p->off + i, "malformed percent-encoding in %s",
                                  name);
            c = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (o < cap)
            out[o] = c;
    }
    *outlen = o;
    return 0;
}

static int decode_20(const struct param *p, const char *name, uint8_t out[20],
                     struct rill_error *err)
{
    size_t len;
    int rc = pct_decode(p, name, out, 20, &len, err);
    if (rc == 0 && len != 20)
        rc = rill__fail(err, RILL_ESYNTAX, p->off, "%s must be 20 bytes, not %zu", name, len);
    return rc;
}

/* A decimal uint64: digits only, no sign, no overflow. */
static int parse_u64(const struct param *p, const char *name, uint64_t *v, struct rill_error *err)
{
    *v = 0;
    if (p->vlen == 0)
        return rill__fail(err, RILL_ESYNTAX, p->off, "%s is empty", name);
    for (size_t i = 0; i < p->vlen; i++) {
        char c = p->val[i];
        if (c < '0' || c > '9')
            return rill__fail(err, RILL_ESYNTAX, p->off + i, "%s is not a decimal number", name);
        uint64_t d = (uint64_t)(c - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return rill__fail(err, RILL_ESYNTAX, p->off, "%s is too large", name);
        *v = *v * 10 + d;
    }
    return 0;
}

/* Announce parameters the server knows; others are ignored. */
enum field {
    F_INFO_HASH,
    F_PEER_ID,
    F_PORT,
    F_UPLOADED,
    F_DOWNLOADED,
    F_LEFT,
    F_EVENT,
    F_NUMWANT,
    F_COMPACT,
    F_NO_PEER_ID,
    F_KEY,
    F_IP,
    F_IPV4,
    F_IPV6,
    F_TRACKERID,
    F_COUNT
};

static const char *const field_name[F_COUNT] = {
    "info_hash", "peer_id",    "port", "uploaded", "downloaded", "left", "event",     "numwant",
    "compact",   "no_peer_id", "key",  "ip",       "ipv4",       "ipv6", "trackerid",
};

static int field_of(const struct param *p)
{
    for (int f = 0; f < F_COUNT; f++)
        if (strlen(field_name[f]) == p->klen && memcmp(field_name[f], p->key, p->klen) == 0)
            return f;
    return -1;
}

static int parse_flag(const struct param *p, const char *name, bool *v, struct rill_error *err)
{
    if (p->vlen == 0 || (p->vlen == 1 && (p->val[0] == '0' || p->val[0] == '1'))) {
        *v = p->vlen == 0 || p->val[0] == '1'; /* a bare "no_peer_id" means yes */
        return 0;
    }
    return rill__fail(err, RILL_ESYNTAX, p->off, "%s must be 0 or 1", name);
}

static int parse_event(const struct param *p, enum rill_tracker_event *e, struct rill_error *err)
{
    static const struct {
        const char *name;
        enum rill_tracker_event e;
    } ev[] = {
        {"", RILL_TRACKER_EVENT_NONE},
        {"empty", RILL_TRACKER_EVENT_NONE},
        {"paused", RILL_TRACKER_EVENT_NONE},
        {"started", RILL_TRACKER_EVENT_STARTED},
        {"completed", RILL_TRACKER_EVENT_COMPLETED},
        {"stopped", RILL_TRACKER_EVENT_STOPPED},
    };
    for (size_t i = 0; i < RILL_ARRAY_LEN(ev); i++) {
        if (strlen(ev[i].name) == p->vlen && memcmp(ev[i].name, p->val, p->vlen) == 0) {
            *e = ev[i].e;
            return 0;
        }
    }
    return rill__fail(err, RILL_ESYNTAX, p->off, "unknown event");
}

/* numwant: "-1" (as UDP clients say) means the default; any larger number
 * than the cap is the cap, so an absurd value is served, not refused. */
static int parse_numwant(const struct param *p, uint32_t *v, struct rill_error *err)
{
    if (p->vlen == 2 && memcmp(p->val, "-1", 2) == 0) {
        *v = RILL_TRACKER_NUMWANT_DEFAULT;
        return 0;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < p->vlen; i++) {
        if (p->val[i] < '0' || p->val[i] > '9')
            return rill__fail(err, RILL_ESYNTAX, p->off + i, "numwant is not a decimal number");
        if (n <= RILL_TRACKER_NUMWANT_MAX)
            n = n * 10 + (uint64_t)(p->val[i] - '0');
    }
    if (p->vlen == 0)
        return rill__fail(err, RILL_ESYNTAX, p->off, "numwant is empty");
    *v = rill__tracker_numwant(n);
    return 0;
}

/* The key is opaque text; rill keeps 32 bits of it: the number when it is
 * 1-8 hex digits (what clients send), else an FNV-1a hash of the bytes. */
static int parse_key(const struct param *p, struct rill_tracker_query *q, struct rill_error *err)
{
    uint8_t buf[64];
    size_t len;
    int rc = pct_decode(p, "key", buf, sizeof buf, &len, err);
    if (rc)
        return rc;
    if (len > sizeof buf)
        return rill__fail(err, RILL_ESYNTAX, p->off, "key is longer than %zu bytes", sizeof buf);
    uint32_t hex = 0, fnv = 2166136261u;
    bool is_hex = len > 0 && len <= 8;
    for (size_t i = 0; i < len; i++) {
        int d = rill__hexval((char)buf[i]);
        is_hex = is_hex && d >= 0;
        hex = hex << 4 | (uint32_t)(d & 15);
        fnv = (fnv ^ buf[i]) * 16777619u;
    }
    q->has_key = len > 0;
    q->key = is_hex ? hex : fnv;
    return 0;
}

/* ip, ipv4, ipv6: a literal address, maybe "[v6]" or with a ":port" suffix
 * (BEP 7 allows an endpoint), which is dropped: peers are served on `port`.
 * Anything else (a host name) is ignored, and so is a family already set. */
static int parse_ip(const struct param *p, const char *name, struct rill_tracker_query *q,
                    struct rill_error *err)
{
    uint8_t buf[64], addr[16];
    size_t len;
    int rc = pct_decode(p, name, buf, sizeof buf, &len, err);
    if (rc || len > sizeof buf)
        return rc;
    const char *s = (const char *)buf;
    const char *colon = memchr(s, ':', len);
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        len = close ? (size_t)(close - s - 1) : 0;
        s++;
    } else if (colon && !memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
        len = (size_t)(colon - s); /* one colon: IPv4 or host with a port */
    }
    int family = rill_tracker_addr_parse(s, len, addr);
    if (family == RILL_TRACKER_IPV4 && !q->has_ip4) {
        memcpy(q->ip4, addr, 4);
        q->has_ip4 = true;
    } else if (family == RILL_TRACKER_IPV6 && !q->has_ip6) {
        memcpy(q->ip6, addr, 16);
        q->has_ip6 = true;
    }
    return 0;
}

static int parse_port(const struct param *p, uint16_t *port, struct rill_error *err)
{
    uint64_t v;
    int rc = parse_u64(p, "port", &v, err);
    if (rc)
        return rc;
    if (v == 0)
        return rill__fail(err, RILL_ESYNTAX, p->off, "port 0 is not allowed");
    if (v > 65535)
        return rill__fail(err, RILL_ESYNTAX, p->off, "port is above 65535");
    *port = (uint16_t)v;
    return 0;
}

static int announce_field(struct rill_tracker_query *q, int f, const struct param *p,
                          struct rill_error *err)
{
    size_t len;
    int rc;
    switch (f) {
    case F_INFO_HASH: return decode_20(p, "info_hash", q->info_hash, err);
    case F_PEER_ID: return decode_20(p, "peer_id", q->peer_id, err);
    case F_PORT: return parse_port(p, &q->port, err);
    case F_UPLOADED: return parse_u64(p, "uploaded", &q->uploaded, err);
    case F_DOWNLOADED: return parse_u64(p, "downloaded", &q->downloaded, err);
    case F_LEFT: return parse_u64(p, "left", &q->left, err);
    case F_EVENT: return parse_event(p, &q->event, err);
    case F_NUMWANT: return parse_numwant(p, &q->numwant, err);
    case F_COMPACT: return parse_flag(p, "compact", &q->compact, err);
    case F_NO_PEER_ID: return parse_flag(p, "no_peer_id", &q->no_peer_id, err);
    case F_KEY: return parse_key(p, q, err);
    case F_TRACKERID:
        rc = pct_decode(p, "trackerid", q->trackerid, sizeof q->trackerid, &len, err);
        if (rc == 0 && len > sizeof q->trackerid)
            rc = rill__fail(err, RILL_ESYNTAX, p->off, "trackerid is longer than %zu bytes",
                            sizeof q->trackerid);
        q->trackerid_len = len;
        return rc;
    default: return parse_ip(p, field_name[f], q, err);
    }
}

static int check_target(const char *target, size_t n, size_t *pos, struct rill_error *err)
{
    if (n > RILL_TRACKER_MAX_TARGET)
        return rill__fail(err, RILL_ELIMIT, RILL_TRACKER_MAX_TARGET, "request longer than %u bytes",
                          RILL_TRACKER_MAX_TARGET);
    const char *q = memchr(target, '?', n);
    *pos = q ? (size_t)(q - target) + 1 : n;
    return 0;
}

int rill_tracker_query_parse(const char *target, size_t n, struct rill_tracker_query *q,
                             struct rill_error *err)
{
    memset(q, 0, sizeof *q);
    q->numwant = RILL_TRACKER_NUMWANT_DEFAULT;
    q->compact = true;
    size_t pos;
    int rc = check_target(target, n, &pos, err);
    uint32_t seen = 0;
    struct param p;
    while (rc == 0 && next_param(target, n, &pos, &p)) {
        int f = field_of(&p);
        if (f < 0)
            continue;
        bool again = seen & (1u << f);
        seen |= 1u << f;
        if (again && (f == F_IP || f == F_IPV4 || f == F_IPV6))
            rc = parse_ip(&p, field_name[f], q, err); /* first address per family wins */
        else if (again)
            rc = rill__fail(err, RILL_ESYNTAX, (size_t)(p.key - target), "repeated %s",
                            field_name[f]);
        else
            rc = announce_field(q, f, &p, err);
    }
    static const int required[] = {F_INFO_HASH, F_PEER_ID, F_PORT};
    for (size_t i = 0; rc == 0 && i < RILL_ARRAY_LEN(required); i++)
        if (!(seen & (1u << required[i])))
            rc = rill__fail(err, RILL_ESYNTAX, n, "missing %s", field_name[required[i]]);
    if (rc)
        memset(q, 0, sizeof *q);
    return rc;
}

int rill_tracker_scrape_query_parse(const char *target, size_t n, uint8_t hashes[][RILL_SHA1_LEN],
                                    size_t *count, struct rill_error *err)
{
    *count = 0;
    size_t pos;
    int rc = check_target(target, n, &pos, err);
    struct param p;
    while (rc == 0 && next_param(target, n, &pos, &p)) {
        if (p.klen != 9 || memcmp(p.key, "info_hash", 9) != 0)
            continue;
        if (*count == RILL_TRACKER_SCRAPE_MAX)
            rc = rill__fail(err, RILL_ELIMIT, (size_t)(p.key - target),
                            "more than %u info_hash values", RILL_TRACKER_SCRAPE_MAX);
        else
            rc = decode_20(&p, "info_hash", hashes[*count], err);
        if (rc == 0)
            (*count)++;
    }
    if (rc)
        *count = 0;
    return rc;
}

/* ---------------------------------------------------------- server replies */

static void dict_peer(struct rill_benc *e, int family, const uint8_t *entry, const uint8_t *id)
{
    size_t alen = family == RILL_TRACKER_IPV4 ? 4 : 16;
    uint8_t addr[16] = {0};
    char text[46];
    memcpy(addr, entry, alen);
    rill_tracker_addr_format(family, addr, text);
    rill_benc_dict(e);
    rill_benc_key(e, "ip");
    rill_benc_cstr(e, text);
    if (id) {
        rill_benc_key(e, "peer id");
        rill_benc_str(e, id, 20);
    }
    rill_benc_key(e, "port");
    rill_benc_int(e, entry[alen] << 8 | entry[alen + 1]);
    rill_benc_end(e);
}

static void answer_peers(struct rill_benc *e, const struct rill_tracker_answer *a)
{
    rill_benc_key(e, "peers");
    if (a->compact) {
        rill_benc_str(e, a->peers4, a->n4 * 6);
        if (a->n6) {
            rill_benc_key(e, "peers6");
            rill_benc_str(e, a->peers6, a->n6 * 18);
        }
        return;
    }
    rill_benc_list(e);
    for (size_t i = 0; i < a->n4; i++)
        dict_peer(e, RILL_TRACKER_IPV4, a->peers4 + 6 * i,
                  a->ids4 && !a->no_peer_id ? a->ids4 + 20 * i : NULL);
    for (size_t i = 0; i < a->n6; i++)
        dict_peer(e, RILL_TRACKER_IPV6, a->peers6 + 18 * i,
                  a->ids6 && !a->no_peer_id ? a->ids6 + 20 * i : NULL);
    rill_benc_end(e);
}

int rill_tracker_answer_build(struct rill_buf *out, const struct rill_tracker_answer *a)
{
    if ((a->n4 && !a->peers4) || (a->n6 && !a->peers6) || a->n4 > SIZE_MAX / 32 ||
        a->n6 > SIZE_MAX / 32)
        return RILL_EINVAL;
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    if (a->complete >= 0) {
        rill_benc_key(&e, "complete");
        rill_benc_int(&e, a->complete);
    }
    if (a->incomplete >= 0) {
        rill_benc_key(&e, "incomplete");
        rill_benc_int(&e, a->incomplete);
    }
    rill_benc_key(&e, "interval");
    rill_benc_int(&e, a->interval);
    if (a->min_interval) {
        rill_benc_key(&e, "min interval");
        rill_benc_int(&e, a->min_interval);
    }
    if (a->warning) {
        rill_benc_key(&e, "warning message");
        rill_benc_cstr(&e, a->warning);
    }
    answer_peers(&e, a);
    rill_benc_end(&e);
    return rill_benc_finish(&e);
}

/* The files dictionary has raw 20-byte keys, which rill_benc_key (NUL-
 * terminated) cannot take: keys are written here in sorted order, and each
 * value through the encoder. */
static void scrape_files(struct rill_buf *files, const struct rill_tracker_scrape_entry *e,
                         size_t n)
{
    uint8_t order[RILL_TRACKER_SCRAPE_MAX];
    for (size_t i = 0; i < n; i++) { /* insertion sort: n is at most 74 */
        size_t j = i;
        while (j > 0 && memcmp(e[order[j - 1]].info_hash, e[i].info_hash, 20) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint8_t)i;
    }
    rill_buf_append(files, "d", 1);
    for (size_t k = 0; k < n; k++) {
        const struct rill_tracker_scrape_entry *x = &e[order[k]];
        if (k > 0 && memcmp(e[order[k - 1]].info_hash, x->info_hash, 20) == 0)
            continue;
        rill_buf_append(files, "20:", 3);
        rill_buf_append(files, x->info_hash, 20);
        struct rill_benc v;
        rill_benc_init(&v, files);
        rill_benc_dict(&v);
        rill_benc_key(&v, "complete");
        rill_benc_int(&v, x->complete);
        rill_benc_key(&v, "downloaded");
        rill_benc_int(&v, x->downloaded);
        rill_benc_key(&v, "incomplete");
        rill_benc_int(&v, x->incomplete);
        rill_benc_end(&v);
    }
    rill_buf_append(files, "e", 1);
}

int rill_tracker_scrape_build(struct rill_buf *out, const struct rill_tracker_scrape_entry *e,
                              size_t n)
{
    if (n > RILL_TRACKER_SCRAPE_MAX)
        return RILL_ELIMIT;
    struct rill_buf files;
    rill_buf_init(&files, 0);
    scrape_files(&files, e, n);
    struct rill_benc enc;
    rill_benc_init(&enc, out);
    rill_benc_dict(&enc);
    rill_benc_key(&enc, "files");
    if (files.failed)
        enc.failed = true;
    else
        rill_benc_raw(&enc, files.data, files.len);
    rill_benc_end(&enc);
    rill_buf_free(&files);
    return rill_benc_finish(&enc);
}

int rill_tracker_failure_build(struct rill_buf *out, const char *reason)
{
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "failure reason");
    rill_benc_cstr(&e, reason);
    rill_benc_end(&e);
    return rill_benc_finish(&e);
}
