/* The peer-wire codec: handshake, peer ids and client names, message
 * framing and parsing, builders, and the BEP 6 allowed-fast set (see
 * wire.h). The BEP 10 handshake dictionary is in ext_handshake.c. */
#include <stdio.h>
#include <string.h>

#include "core/wire.h"
#include "util/rng.h"
#include "util/util.h"

/* ---------------------------------------------------------------- handshake */

static const uint8_t HANDSHAKE_PREFIX[1 + RILL_WIRE_PSTR_LEN] = "\x13" RILL_WIRE_PSTR;

void rill_wire_feature_set(uint8_t reserved[8], enum rill_wire_feature f, bool on)
{
    unsigned byte = (unsigned)f >> 8 & 7, mask = (unsigned)f & 0xFF;
    if (on)
        reserved[byte] |= (uint8_t)mask;
    else
        reserved[byte] &= (uint8_t)~mask;
}

bool rill_wire_feature_has(const uint8_t reserved[8], enum rill_wire_feature f)
{
    return (reserved[(unsigned)f >> 8 & 7] & ((unsigned)f & 0xFF)) != 0;
}

int rill_wire_handshake_build(struct rill_buf *out, const struct rill_wire_handshake *hs)
{
    uint8_t b[RILL_WIRE_HANDSHAKE_LEN];
    memcpy(b, HANDSHAKE_PREFIX, sizeof HANDSHAKE_PREFIX);
    memcpy(b + 20, hs->reserved, 8);
    memcpy(b + 28, hs->info_hash, RILL_SHA1_LEN);
    memcpy(b + 48, hs->peer_id, RILL_WIRE_PEER_ID_LEN);
    return rill_buf_append(out, b, sizeof b);
}

int rill_wire_handshake_parse(const uint8_t *buf, size_t len, struct rill_wire_handshake *hs,
                              const char **why)
{
    size_t n = len < sizeof HANDSHAKE_PREFIX ? len : sizeof HANDSHAKE_PREFIX;
    if (n > 0 && buf[0] != HANDSHAKE_PREFIX[0]) {
        if (why)
            *why = "handshake does not start with pstrlen 19";
        return RILL_ESYNTAX;
    }
    if (memcmp(buf, HANDSHAKE_PREFIX, n) != 0) {
        if (why)
            *why = "handshake protocol string is not \"BitTorrent protocol\"";
        return RILL_ESYNTAX;
    }
    if (len >= RILL_WIRE_HANDSHAKE_PEER_ID_AT) {
        memcpy(hs->reserved, buf + 20, 8);
        memcpy(hs->info_hash, buf + 28, RILL_SHA1_LEN);
    }
    if (len < RILL_WIRE_HANDSHAKE_LEN)
        return RILL_WIRE_NEED_MORE;
    memcpy(hs->peer_id, buf + 48, RILL_WIRE_PEER_ID_LEN);
    return 0;
}

/* ------------------------------------------------------ peer ids and clients */

void rill_wire_peer_id(struct rill_rng *rng, uint8_t out[RILL_WIRE_PEER_ID_LEN])
{
    static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    memcpy(out, RILL_WIRE_PEER_ID_PREFIX, 8);
    for (int i = 8; i < RILL_WIRE_PEER_ID_LEN; i++)
        out[i] = (uint8_t)alnum[rill_rng_below(rng, sizeof alnum - 1)];
}

struct client {
    char code[3];
    const char *name;
};

/* Azureus-style codes ("-XX1234-") of clients a swarm is likely to hold. */
static const struct client AZUREUS[] = {
    {"A~", "Ares"},
    {"AG", "Ares"},
    {"AZ", "Vuze"},
    {"BC", "BitComet"},
    {"BI", "BiglyBT"},
    {"BT", "BitTorrent"},
    {"DE", "Deluge"},
    {"FD", "Free Download Manager"},
    {"HL", "Halite"},
    {"KT", "KTorrent"},
    {"LT", "libtorrent"},
    {"LW", "LimeWire"},
    {"PI", "PicoTorrent"},
    {"RL", "rill"},
    {"SD", "Thunder"},
    {"TR", "Transmission"},
    {"UM", "uTorrent Mac"},
    {"UT", "uTorrent"},
    {"WD", "WebTorrent Desktop"},
    {"WW", "WebTorrent"},
    {"XL", "Xunlei"},
    {"lt", "libTorrent (rakshasa)"},
    {"qB", "qBittorrent"},
};

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* A version character: 0-9, then A-Z as 10-35 and a-z as 36-61 (the
 * convention libtorrent and Transmission use), or -1. */
static int charint(uint8_t c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 36;
    return -1;
}

static const char *tr_suffix(uint8_t c)
{
    return c == 'Z' || c == 'X' ? "+" : c == 'B' ? " beta" : "";
}

/* Transmission: "-TR0072-" is 0.72, "-TR294Z-" 2.94+, "-TR3000-" 3.00, and
 * from 4.0 on major, minor, patch, status: "-TR4050-" is 4.0.5. */
static void transmission_version(const uint8_t *v, char *buf, size_t cap)
{
    if (memcmp(v, "000", 3) == 0)
        snprintf(buf, cap, "0.%c", v[3]);
    else if (memcmp(v, "00", 2) == 0)
        snprintf(buf, cap, "0.%c%c", v[2], v[3]);
    else if (charint(v[0]) < 4)
        snprintf(buf, cap, "%d.%c%c%s", charint(v[0]), v[1], v[2], tr_suffix(v[3]));
    else
        snprintf(buf, cap, "%d.%d.%d%s", charint(v[0]), charint(v[1]), charint(v[2]),
                 tr_suffix(v[3]));
}

static bool azureus_name(const uint8_t *id, char *buf, size_t cap)
{
    if (id[0] != '-' || id[7] != '-' || charint(id[1]) < 0 || (charint(id[2]) < 0 && id[2] != '~'))
        return false;
    int d[4];
    for (int i = 0; i < 4; i++)
        if ((d[i] = charint(id[3 + i])) < 0)
            return false;
    char code[3] = {(char)id[1], (char)id[2], 0};
    const char *name = code;
    for (size_t i = 0; i < RILL_ARRAY_LEN(AZUREUS); i++)
        if (memcmp(AZUREUS[i].code, code, 2) == 0)
            name = AZUREUS[i].name;
    char ver[32];
    if (memcmp(code, "TR", 2) == 0)
        transmission_version(id + 3, ver, sizeof ver);
    else if (d[3] == 0)
        snprintf(ver, sizeof ver, "%d.%d.%d", d[0], d[1], d[2]);
    else
        snprintf(ver, sizeof ver, "%d.%d.%d.%d", d[0], d[1], d[2], d[3]);
    snprintf(buf, cap, "%s %s", name, ver);
    return true;
}

/* Shadow style with dashes: "A2-1-36-0-" (aria2), "M7-4-0--" (mainline). */
static bool dashed_name(const uint8_t *id, char *buf, size_t cap)
{
    const char *name = "BitTorrent";
    size_t at = 1;
    if (memcmp(id, "A2-", 3) == 0) {
        name = "aria2";
        at = 3;
    } else if (id[0] != 'M' || !is_digit(id[1])) {
        return false;
    }
    unsigned num[3];
    int count = 0;
    while (count < 3 && at < RILL_WIRE_PEER_ID_LEN && is_digit(id[at])) {
        unsigned v = 0;
        for (int digits = 0; at < RILL_WIRE_PEER_ID_LEN && is_digit(id[at]) && digits < 3; digits++)
            v = v * 10 + (unsigned)(id[at++] - '0');
        if (at >= RILL_WIRE_PEER_ID_LEN || id[at] != '-')
            return false;
        at++;
        num[count++] = v;
    }
    if (count < 2)
        return false;
    if (count == 2)
        snprintf(buf, cap, "%s %u.%u", name, num[0], num[1]);
    else
        snprintf(buf, cap, "%s %u.%u.%u", name, num[0], num[1], num[2]);
    return true;
}

size_t rill_wire_client_name(const uint8_t peer_id[RILL_WIRE_PEER_ID_LEN], char *out, size_t cap)
{
    char buf[128];
    if (!azureus_name(peer_id, buf, sizeof buf) && !dashed_name(peer_id, buf, sizeof buf)) {
        size_t n = (size_t)snprintf(buf, sizeof buf, "unknown ");
        for (int i = 0; i < 8; i++) {
            uint8_t c = peer_id[i];
            if (c >= 0x20 && c < 0x7F && c != '\\')
                buf[n++] = (char)c;
            else
                n += (size_t)snprintf(buf + n, sizeof buf - n, "\\x%02x", c);
        }
        buf[n] = 0;
    }
    size_t len = strlen(buf);
    if (cap > 0) {
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(out, buf, n);
        out[n] = 0;
    }
    return len;
}

/* ----------------------------------------------------------------- messages */

const char *rill_wire_type_name(int type)
{
    switch (type) {
    case RILL_WIRE_CHOKE: return "choke";
    case RILL_WIRE_UNCHOKE: return "unchoke";
    case RILL_WIRE_INTERESTED: return "interested";
    case RILL_WIRE_NOT_INTERESTED: return "not interested";
    case RILL_WIRE_HAVE: return "have";
    case RILL_WIRE_BITFIELD: return "bitfield";
    case RILL_WIRE_REQUEST: return "request";
    case RILL_WIRE_PIECE: return "piece";
    case RILL_WIRE_CANCEL: return "cancel";
    case RILL_WIRE_PORT: return "port";
    case RILL_WIRE_SUGGEST: return "suggest";
    case RILL_WIRE_HAVE_ALL: return "have all";
    case RILL_WIRE_HAVE_NONE: return "have none";
    case RILL_WIRE_REJECT: return "reject request";
    case RILL_WIRE_ALLOWED_FAST: return "allowed fast";
    case RILL_WIRE_EXTENDED: return "extended";
    case RILL_WIRE_KEEPALIVE: return "keep-alive";
    default: return "unknown";
    }
}

/* The exact length prefix of a fixed-size message, 0 for a variable one, or
 * -1 for an id rill does not know. */
static int64_t fixed_length(unsigned id)
{
    switch (id) {
    case RILL_WIRE_CHOKE:
    case RILL_WIRE_UNCHOKE:
    case RILL_WIRE_INTERESTED:
    case RILL_WIRE_NOT_INTERESTED:
    case RILL_WIRE_HAVE_ALL:
    case RILL_WIRE_HAVE_NONE: return 1;
    case RILL_WIRE_HAVE:
    case RILL_WIRE_SUGGEST:
    case RILL_WIRE_ALLOWED_FAST: return 5;
    case RILL_WIRE_REQUEST:
    case RILL_WIRE_CANCEL:
    case RILL_WIRE_REJECT: return 13;
    case RILL_WIRE_PORT: return 3;
    case RILL_WIRE_BITFIELD:
    case RILL_WIRE_PIECE:
    case RILL_WIRE_EXTENDED: return 0;
    default: return -1;
    }
}

static bool is_fast_id(unsigned id)
{
    return id >= RILL_WIRE_SUGGEST && id <= RILL_WIRE_ALLOWED_FAST;
}

static uint32_t max_block(const struct rill_wire_limits *lim)
{
    return lim->max_block ? lim->max_block : RILL_WIRE_BLOCK;
}

static uint32_t max_ext(const struct rill_wire_limits *lim)
{
    return lim->max_ext_payload ? lim->max_ext_payload : RILL_WIRE_MAX_EXT_PAYLOAD;
}

/* Bitfield bytes accepted: exact when the piece count is known, else a cap. */
static uint32_t bitfield_bytes(const struct rill_wire_limits *lim)
{
    return lim->piece_count ? (uint32_t)(((uint64_t)lim->piece_count + 7) / 8)
                            : RILL_WIRE_MAX_BITFIELD;
}

uint32_t rill_wire_max_frame(const struct rill_wire_limits *lim)
{
    static const struct rill_wire_limits zero;
    if (!lim)
        lim = &zero;
    uint64_t m = 13; /* request, cancel, reject: the largest fixed message */
    uint64_t bitfield = 1 + (uint64_t)bitfield_bytes(lim);
    uint64_t piece = 9 + (uint64_t)max_block(lim);
    if (bitfield > m)
        m = bitfield;
    if (piece > m)
        m = piece;
    if (lim->extended && 2 + (uint64_t)max_ext(lim) > m)
        m = 2 + (uint64_t)max_ext(lim);
    return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

static int fail(struct rill_wire_msg *out, int code, const char *why)
{
    out->why = why;
    return code;
}

/* Checks that a frame of length prefix `len` may carry message `id`, from
 * the 5-byte header alone, before any of its body is waited for. */
static int check_header(const struct rill_wire_limits *lim, unsigned id, uint32_t len,
                        struct rill_wire_msg *out)
{
    int64_t fixed = fixed_length(id);
    if (fixed < 0)
        return fail(out, RILL_ESYNTAX, "unknown message id");
    if (is_fast_id(id) && !lim->fast)
        return fail(out, RILL_ESYNTAX, "fast extension message without the fast extension");
    if (id == RILL_WIRE_EXTENDED && !lim->extended)
        return fail(out, RILL_ESYNTAX, "extended message without the extension protocol");
    if (fixed > 0)
        return len == fixed ? 0 : fail(out, RILL_ESYNTAX, "length does not fit the message id");
    if (id == RILL_WIRE_BITFIELD) {
        if (lim->piece_count && len - 1 != bitfield_bytes(lim))
            return fail(out, RILL_ESYNTAX, "bitfield length does not match the piece count");
        if (len < 2 || len - 1 > RILL_WIRE_MAX_BITFIELD)
            return fail(out, RILL_ESYNTAX, "bitfield length out of bounds");
        return 0;
    }
    if (id == RILL_WIRE_PIECE) {
        if (len < 10)
            return fail(out, RILL_ESYNTAX, "piece message without block data");
        if (len - 9 > max_block(lim))
            return fail(out, RILL_ELIMIT, "piece message block larger than the block size");
        return 0;
    }
    if (len < 2)
        return fail(out, RILL_ESYNTAX, "extended message without an extension id");
    if (len - 2 > max_ext(lim))
        return fail(out, RILL_ELIMIT, "extended message payload too large");
    return 0;
}

/* Checks an index, and a block within its piece when the geometry is known. */
static int check_block(const struct rill_wire_limits *lim, uint32_t index, uint32_t begin,
                       uint32_t length, bool has_block, struct rill_wire_msg *out)
{
    if (lim->piece_count && index >= lim->piece_count)
        return fail(out, RILL_ERANGE, "piece index out of range");
    if (!has_block)
        return 0;
    if (length == 0)
        return fail(out, RILL_ESYNTAX, "block of zero bytes");
    if (length > max_block(lim))
        return fail(out, RILL_ELIMIT, "block larger than the block size");
    if (lim->piece_count && lim->piece_length && lim->last_piece_length) {
        uint32_t size = index + 1 == lim->piece_count ? lim->last_piece_length : lim->piece_length;
        if ((uint64_t)begin + length > size)
            return fail(out, RILL_ERANGE, "block outside its piece");
    }
    return 0;
}

static int check_spare_bits(const struct rill_wire_limits *lim, struct rill_wire_msg *out)
{
    unsigned used = lim->piece_count % 8;
    if (lim->piece_count && used && (out->data[out->data_len - 1] & (0xFFu >> used)))
        return fail(out, RILL_ESYNTAX, "bitfield has spare bits set");
    return 0;
}

/* Decodes the body of a whole frame whose header check_header accepted. */
static int decode_body(const struct rill_wire_limits *lim, unsigned id, const uint8_t *body,
                       uint32_t len, struct rill_wire_msg *out)
{
    switch (id) {
    case RILL_WIRE_HAVE:
    case RILL_WIRE_SUGGEST:
    case RILL_WIRE_ALLOWED_FAST:
        out->index = rill__be32(body);
        return check_block(lim, out->index, 0, 0, false, out);
    case RILL_WIRE_REQUEST:
    case RILL_WIRE_CANCEL:
    case RILL_WIRE_REJECT:
        out->index = rill__be32(body);
        out->begin = rill__be32(body + 4);
        out->length = rill__be32(body + 8);
        return check_block(lim, out->index, out->begin, out->length, true, out);
    case RILL_WIRE_PIECE:
        out->index = rill__be32(body);
        out->begin = rill__be32(body + 4);
        out->data = body + 8;
        out->data_len = out->length = len - 9;
        return check_block(lim, out->index, out->begin, out->length, true, out);
    case RILL_WIRE_BITFIELD:
        out->data = body;
        out->data_len = len - 1;
        return check_spare_bits(lim, out);
    case RILL_WIRE_PORT: out->port = (uint16_t)(body[0] << 8 | body[1]); return 0;
    case RILL_WIRE_EXTENDED:
        out->ext_id = body[0];
        out->data = body + 1;
        out->data_len = len - 2;
        return 0;
    default: return 0; /* no payload */
    }
}

int rill_wire_parse(const struct rill_wire_limits *lim, const uint8_t *buf, size_t len,
                    struct rill_wire_msg *out, size_t *consumed)
{
    static const struct rill_wire_limits zero;
    if (!lim)
        lim = &zero;
    memset(out, 0, sizeof *out);
    out->type = -1;
    *consumed = 0;
    if (len < 4) {
        out->need = 4;
        return RILL_WIRE_NEED_MORE;
    }
    uint32_t flen = rill__be32(buf);
    if (flen == 0) {
        out->type = RILL_WIRE_KEEPALIVE;
        *consumed = 4;
        return 0;
    }
    if (flen > rill_wire_max_frame(lim))
        return fail(out, RILL_ELIMIT, "frame longer than any message allows");
    out->need = 4 + (size_t)flen;
    if (len < 5)
        return RILL_WIRE_NEED_MORE;
    unsigned id = buf[4];
    out->type = (int)id;
    int rc = check_header(lim, id, flen, out);
    if (rc)
        return rc;
    if (len < out->need)
        return RILL_WIRE_NEED_MORE;
    out->need = 0;
    rc = decode_body(lim, id, buf + 5, flen, out);
    if (rc)
        return rc; /* the fields decoded so far stay, for the log */
    *consumed = 4 + (size_t)flen;
    return 0;
}

/* ----------------------------------------------------------------- builders */

/* Appends a frame: length prefix, id, `fixed` bytes, then `n` bytes of data.
 * The cap is checked first so a frame is never half written for that reason. */
static int put_frame(struct rill_buf *out, unsigned id, const uint8_t *fixed, size_t fixed_len,
                     const void *data, size_t n)
{
    if (n > UINT32_MAX - 1 - fixed_len)
        return RILL_EINVAL;
    uint8_t head[5 + 12];
    rill__put_be32(head, (uint32_t)(1 + fixed_len + n));
    head[4] = (uint8_t)id;
    if (fixed_len)
        memcpy(head + 5, fixed, fixed_len);
    size_t total = 5 + fixed_len + n;
    if (out->failed || (out->max && (out->len > out->max || total > out->max - out->len))) {
        out->failed = true;
        return RILL_ENOMEM;
    }
    int rc = rill_buf_append(out, head, 5 + fixed_len);
    if (rc == 0 && n)
        rc = rill_buf_append(out, data, n);
    return rc;
}

int rill_wire_build_simple(struct rill_buf *out, int type)
{
    if (type == RILL_WIRE_KEEPALIVE) {
        static const uint8_t zero[4];
        return rill_buf_append(out, zero, 4);
    }
    if (type < 0 || type > 255 || fixed_length((unsigned)type) != 1)
        return RILL_EINVAL;
    return put_frame(out, (unsigned)type, NULL, 0, NULL, 0);
}

int rill_wire_build_index(struct rill_buf *out, int type, uint32_t index)
{
    if (type != RILL_WIRE_HAVE && type != RILL_WIRE_SUGGEST && type != RILL_WIRE_ALLOWED_FAST)
        return RILL_EINVAL;
    uint8_t b[4];
    rill__put_be32(b, index);
    return put_frame(out, (unsigned)type, b, 4, NULL, 0);
}

int rill_wire_build_block(struct rill_buf *out, int type, uint32_t index, uint32_t begin,
                          uint32_t length)
{
    if (type != RILL_WIRE_REQUEST && type != RILL_WIRE_CANCEL && type != RILL_WIRE_REJECT)
        return RILL_EINVAL;
    uint8_t b[12];
    rill__put_be32(b, index);
    rill__put_be32(b + 4, begin);
    rill__put_be32(b + 8, length);
    return put_frame(out, (unsigned)type, b, 12, NULL, 0);
}

int rill_wire_build_bitfield(struct rill_buf *out, const uint8_t *bits, size_t n)
{
    return put_frame(out, RILL_WIRE_BITFIELD, NULL, 0, bits, n);
}

int rill_wire_build_port(struct rill_buf *out, uint16_t port)
{
    uint8_t b[2] = {(uint8_t)(port >> 8), (uint8_t)port};
    return put_frame(out, RILL_WIRE_PORT, b, 2, NULL, 0);
}

int rill_wire_build_extended(struct rill_buf *out, uint8_t ext_id, const void *payload, size_t n)
{
    return put_frame(out, RILL_WIRE_EXTENDED, &ext_id, 1, payload, n);
}

int rill_wire_build_piece_header(struct rill_buf *out, uint32_t index, uint32_t begin,
                                 uint32_t data_len)
{
    if (data_len > UINT32_MAX - 9)
        return RILL_EINVAL;
    uint8_t b[RILL_WIRE_PIECE_HEADER_LEN];
    rill__put_be32(b, 9 + data_len);
    b[4] = RILL_WIRE_PIECE;
    rill__put_be32(b + 5, index);
    rill__put_be32(b + 9, begin);
    return rill_buf_append(out, b, sizeof b);
}

int rill_wire_build_piece(struct rill_buf *out, uint32_t index, uint32_t begin, const void *data,
                          size_t n)
{
    uint8_t b[8];
    rill__put_be32(b, index);
    rill__put_be32(b + 4, begin);
    return put_frame(out, RILL_WIRE_PIECE, b, 8, data, n);
}

int rill_wire_build(struct rill_buf *out, const struct rill_wire_msg *m)
{
    switch (m->type) {
    case RILL_WIRE_HAVE:
    case RILL_WIRE_SUGGEST:
    case RILL_WIRE_ALLOWED_FAST: return rill_wire_build_index(out, m->type, m->index);
    case RILL_WIRE_REQUEST:
    case RILL_WIRE_CANCEL:
    case RILL_WIRE_REJECT:
        return rill_wire_build_block(out, m->type, m->index, m->begin, m->length);
    case RILL_WIRE_PIECE:
        return rill_wire_build_piece(out, m->index, m->begin, m->data, m->data_len);
    case RILL_WIRE_BITFIELD: return rill_wire_build_bitfield(out, m->data, m->data_len);
    case RILL_WIRE_PORT: return rill_wire_build_port(out, m->port);
    case RILL_WIRE_EXTENDED: return rill_wire_build_extended(out, m->ext_id, m->data, m->data_len);
    default: return rill_wire_build_simple(out, m->type);
    }
}

/* --------------------------------------------------------------- allowed fast */

uint32_t rill_wire_allowed_fast(const uint8_t *ip, size_t ip_len,
                                const uint8_t info_hash[RILL_SHA1_LEN], uint32_t piece_count,
                                uint32_t k, uint32_t *out)
{
    if (piece_count == 0 || (ip_len != 4 && ip_len != 16))
        return 0;
    if (k > piece_count)
        k = piece_count;
    if (k > RILL_WIRE_ALLOWED_FAST_MAX)
        k = RILL_WIRE_ALLOWED_FAST_MAX;
    /* x is the masked address followed by the info-hash, then each digest. */
    uint8_t x[16 + RILL_SHA1_LEN] = {0};
    size_t xlen;
    if (ip_len == 4) {
        memcpy(x, ip, 3); /* ip & 0xffffff00 */
        xlen = 4;
    } else {
        memcpy(x, ip, 6); /* the /48 */
        xlen = 16;
    }
    memcpy(x + xlen, info_hash, RILL_SHA1_LEN);
    xlen += RILL_SHA1_LEN;
    uint8_t h[RILL_SHA1_LEN];
    uint32_t found = 0;
    rill_sha1(x, xlen, h);
    for (;;) {
        for (int i = 0; i < 5 && found < k; i++) {
            uint32_t index = rill__be32(h + 4 * i) % piece_count;
            bool seen = false;
            for (uint32_t j = 0; j < found && !seen; j++)
                seen = out[j] == index;
            if (!seen)
                out[found++] = index;
        }
        if (found >= k)
            return found;
        memcpy(x, h, RILL_SHA1_LEN);
        rill_sha1(x, RILL_SHA1_LEN, h);
    }
}
