/* The peer-wire codec (BEP 3, BEP 6 fast extension, BEP 10 extension
 * protocol, the DHT port message of BEP 5): the 68-byte handshake, framing
 * and parsing of messages over the caller's bytes, builders that append
 * messages to a rill_buf, the BEP 10 extended handshake dictionary, rill's
 * peer id, client names for logs, and the BEP 6 allowed-fast set.
 *
 * A pure core: no sockets, no clock, no allocation except inside the
 * rill_buf a builder appends to. Internal to rill (the peer core, the I/O
 * shell and the lab's simulator include it), not part of include/rill.h. */
#ifndef RILL_CORE_WIRE_H
#define RILL_CORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

struct rill_rng;

/* A parser's "the input ends before the frame does; read more and call
 * again with the bytes so far". Positive, so it never collides with the
 * negative enum rill_err codes. */
#define RILL_WIRE_NEED_MORE 1

#define RILL_WIRE_BLOCK (16u << 10)          /* the block size every client uses */
#define RILL_WIRE_MAX_EXT_PAYLOAD (1u << 20) /* default cap of an extended message */
/* Bitfield bytes accepted while the piece count is still unknown (a magnet
 * link before its metadata): enough for the largest .torrent rill accepts,
 * RILL_MAX_TORRENT_SIZE / 20 pieces, rounded up. */
#define RILL_WIRE_MAX_BITFIELD (512u << 10)

/* ---------------------------------------------------------------- handshake */

#define RILL_WIRE_PSTR "BitTorrent protocol"
#define RILL_WIRE_PSTR_LEN 19
#define RILL_WIRE_HANDSHAKE_LEN 68
/* Offset of the peer id in the handshake: once this many bytes are in,
 * reserved bits and info-hash are known (see rill_wire_handshake_parse). */
#define RILL_WIRE_HANDSHAKE_PEER_ID_AT 48
#define RILL_WIRE_PEER_ID_LEN 20
/* rill's Azureus-style peer id prefix: client "RL", version 0.1.0.0. */
#define RILL_WIRE_PEER_ID_PREFIX "-RL0100-"

/* Reserved-bit features, encoded as (byte index << 8) | mask, so one value
 * names both where the bit lives and which bit it is. */
enum rill_wire_feature {
    RILL_WIRE_FEAT_EXTENDED = 5 << 8 | 0x10, /* BEP 10 extension protocol */
    RILL_WIRE_FEAT_FAST = 7 << 8 | 0x04,     /* BEP 6 fast extension */
    RILL_WIRE_FEAT_DHT = 7 << 8 | 0x01,      /* BEP 5 DHT, port message */
};

struct rill_wire_handshake {
    uint8_t reserved[8];
    uint8_t info_hash[RILL_SHA1_LEN];
    uint8_t peer_id[RILL_WIRE_PEER_ID_LEN];
};

/* Sets or clears one reserved bit of `reserved`. */
void rill_wire_feature_set(uint8_t reserved[8], enum rill_wire_feature f, bool on);
/* True if the reserved bit of feature `f` is set. A feature is negotiated
 * when both sides set it: test ours and theirs. */
bool rill_wire_feature_has(const uint8_t reserved[8], enum rill_wire_feature f);

/* Appends the 68-byte handshake (pstrlen 19, pstr, reserved, info-hash,
 * peer id) to `out`. 0, or RILL_ENOMEM when `out` is full or failed. */
int rill_wire_handshake_build(struct rill_buf *out, const struct rill_wire_handshake *hs);

/* Parses a handshake from the start of buf[0..len). Returns:
 * - 0 when all 68 bytes are there: `hs` is filled; the handshake is exactly
 *   RILL_WIRE_HANDSHAKE_LEN bytes, messages follow it;
 * - RILL_WIRE_NEED_MORE when fewer than 68 bytes are there and those agree
 *   with a handshake so far. If len >= RILL_WIRE_HANDSHAKE_PEER_ID_AT,
 *   `hs->reserved` and `hs->info_hash` are already filled, so a listener can
 *   pick the torrent and answer before the peer id arrives (BEP 3);
 * - RILL_ESYNTAX as soon as the bytes seen differ from "\x13BitTorrent
 *   protocol" (an HTTP request or an encrypted stream, say), with `*why`
 *   (may be NULL) set to a static reason.
 * The info-hash is not checked here: the caller compares it. */
int rill_wire_handshake_parse(const uint8_t *buf, size_t len, struct rill_wire_handshake *hs,
                              const char **why);

/* Makes rill's peer id: RILL_WIRE_PEER_ID_PREFIX followed by 12 characters
 * drawn from `rng` out of [0-9A-Za-z], so the id prints cleanly in logs. */
void rill_wire_peer_id(struct rill_rng *rng, uint8_t out[RILL_WIRE_PEER_ID_LEN]);

#define RILL_WIRE_CLIENT_NAME_MAX 64
/* Names a peer's client from its peer id for logs and status lines, into
 * `out` (capacity `cap`, always NUL-terminated when cap > 0, cut to fit):
 * Azureus style "-TR3000-" -> "Transmission 3.00", "-LT1270-" ->
 * "libtorrent 1.2.7", "-lt0D80-" -> "libTorrent (rakshasa) 0.13.8",
 * "-RL0100-" -> "rill 0.1.0", "-qB4500-" -> "qBittorrent 4.5.0"; an unknown
 * two-letter code keeps its letters ("-ZZ1234-" -> "ZZ 1.2.3.4"); Shadow
 * style dashes "A2-1-36-0-" -> "aria2 1.36.0", "M7-4-0--" -> "BitTorrent
 * 7.4.0"; anything else -> "unknown " and the first 8 bytes, printable ASCII
 * kept and other bytes as \xNN. Returns the length it wanted to write, like
 * snprintf. Never reads past the 20 bytes. */
size_t rill_wire_client_name(const uint8_t peer_id[RILL_WIRE_PEER_ID_LEN], char *out, size_t cap);

/* ----------------------------------------------------------------- messages */

/* Message kinds. Values are the wire ids, except keep-alive, which has none. */
enum rill_wire_type {
    RILL_WIRE_CHOKE = 0,
    RILL_WIRE_UNCHOKE = 1,
    RILL_WIRE_INTERESTED = 2,
    RILL_WIRE_NOT_INTERESTED = 3,
    RILL_WIRE_HAVE = 4,
    RILL_WIRE_BITFIELD = 5,
    RILL_WIRE_REQUEST = 6,
    RILL_WIRE_PIECE = 7,
    RILL_WIRE_CANCEL = 8,
    RILL_WIRE_PORT = 9,       /* BEP 5 */
    RILL_WIRE_SUGGEST = 0x0D, /* BEP 6 from here to allowed fast */
    RILL_WIRE_HAVE_ALL = 0x0E,
    RILL_WIRE_HAVE_NONE = 0x0F,
    RILL_WIRE_REJECT = 0x10,
    RILL_WIRE_ALLOWED_FAST = 0x11,
    RILL_WIRE_EXTENDED = 20,   /* BEP 10 */
    RILL_WIRE_KEEPALIVE = 256, /* a zero-length frame */
};

/* A static lowercase name of a message kind ("have all"), "unknown" if none. */
const char *rill_wire_type_name(int type);

/* One message. Which fields mean something depends on `type`:
 *   have, suggest, allowed fast:  index
 *   request, cancel, reject:      index, begin, length (the block asked for)
 *   piece:                        index, begin, data/data_len (the block;
 *                                 length = data_len as well)
 *   bitfield:                     data/data_len (the raw bits)
 *   port:                         port
 *   extended:                     ext_id, data/data_len (the payload;
 *                                 ext_id 0 is the BEP 10 handshake)
 * After rill_wire_parse, `data` points into the caller's buffer: it is valid
 * only as long as those bytes are. Unused fields are zero. */
struct rill_wire_msg {
    int type; /* enum rill_wire_type */
    uint32_t index;
    uint32_t begin;
    uint32_t length;
    uint16_t port;
    uint8_t ext_id;
    const uint8_t *data;
    size_t data_len;
    /* Filled by rill_wire_parse: on RILL_WIRE_NEED_MORE the total bytes the
     * frame needs (at least len + 1; a shell may use it as a read
     * watermark); on error a static reason for the logged disconnect. */
    size_t need;
    const char *why;
};

/* What a connection accepts; fixed once the handshake and the metadata are
 * known. A zeroed struct means: piece count unknown, 16 KiB blocks, 1 MiB
 * extended payloads, neither BEP 6 nor BEP 10 negotiated. */
struct rill_wire_limits {
    /* Pieces in the torrent. Known (> 0): have, suggest, allowed fast,
     * request, piece, cancel and reject indexes must be below it, and a
     * bitfield must be exactly ceil(piece_count / 8) bytes with the spare
     * bits zero. 0 (metadata not yet known): indexes are unchecked and a
     * bitfield may have 1 to RILL_WIRE_MAX_BITFIELD bytes. */
    uint32_t piece_count;
    /* Piece geometry, to refuse blocks outside their piece: when both are
     * > 0 and piece_count is known, begin + length must fit in the piece
     * (the last piece is last_piece_length long). 0: unchecked. */
    uint32_t piece_length;
    uint32_t last_piece_length;
    /* Largest block in a request, cancel, reject or piece; 0 means
     * RILL_WIRE_BLOCK. Every current client requests 16 KiB blocks; like
     * libtorrent and Transmission, rill refuses requests for more (an
     * error here, so a peer cannot make us read and send large runs), and a
     * piece carrying more than it is a frame too long for its kind. Piece
     * messages of up to max_block data bytes are normal. */
    uint32_t max_block;
    /* Largest extended payload (after the ext id byte); 0 means
     * RILL_WIRE_MAX_EXT_PAYLOAD. */
    uint32_t max_ext_payload;
    bool fast;     /* BEP 6 negotiated: else its five messages are errors */
    bool extended; /* BEP 10 negotiated: else message 20 is an error */
};

/* Largest frame (length prefix value) `lim` accepts of any kind. */
uint32_t rill_wire_max_frame(const struct rill_wire_limits *lim);

/* Parses the next message from buf[0..len), which starts at a frame
 * boundary (the first byte after the handshake, or after the previous
 * message). Returns:
 * - 0: one message is in `*out` and `*consumed` is its frame size (4 +
 *   length prefix); zero-copy: piece, bitfield and extended data point
 *   into `buf`. Call again on buf + *consumed for the next one.
 * - RILL_WIRE_NEED_MORE: the frame is incomplete but acceptable so far;
 *   `*consumed` is 0 and out->need is the total the frame needs.
 * - a negative rill_err with out->why set to a static reason: RILL_ELIMIT
 *   for a length prefix beyond every kind (seen from the 4-byte prefix
 *   alone, before any body is buffered), a frame too long for its kind
 *   (seen from the 5-byte header) or a request for more than max_block;
 *   RILL_ESYNTAX for an unknown id, a length that does not fit the id, a
 *   bitfield of the wrong size or with spare bits set, an empty block, or
 *   a BEP 6 / BEP 10 message that was not negotiated; RILL_ERANGE for a
 *   piece index or a block outside the torrent. `*consumed` is 0;
 *   out->type is the message id once the 5-byte header was read (else
 *   -1), and the fields decoded so far stay set, for the log. The
 *   connection cannot be resynchronised after an error: close it.
 * `lim` may be NULL for the zeroed defaults. */
int rill_wire_parse(const struct rill_wire_limits *lim, const uint8_t *buf, size_t len,
                    struct rill_wire_msg *out, size_t *consumed);

/* Builders append one whole frame to `out`. They return 0, RILL_EINVAL when
 * the arguments do not make that message (a type of another family, a
 * payload too long for a 32-bit length), or RILL_ENOMEM when `out` reached
 * its cap or could not grow; then `out->failed` sticks (rill_buf rules), so a
 * writer may queue several messages and check once. Builders check the
 * encoding only, not limits or negotiation: the caller decides what to say. */

/* Any message from its struct (fields as for rill_wire_parse); `data` is
 * copied. The fuzzer's re-encoder and tests use it; the peer core may too. */
int rill_wire_build(struct rill_buf *out, const struct rill_wire_msg *m);
/* Keep-alive, choke, unchoke, interested, not interested, have all, have
 * none: the messages without a payload. */
int rill_wire_build_simple(struct rill_buf *out, int type);
/* Have, suggest, allowed fast. */
int rill_wire_build_index(struct rill_buf *out, int type, uint32_t index);
/* Request, cancel, reject. */
int rill_wire_build_block(struct rill_buf *out, int type, uint32_t index, uint32_t begin,
                          uint32_t length);
int rill_wire_build_bitfield(struct rill_buf *out, const uint8_t *bits, size_t n);
int rill_wire_build_port(struct rill_buf *out, uint16_t port);
int rill_wire_build_extended(struct rill_buf *out, uint8_t ext_id, const void *payload, size_t n);
/* The 13-byte header of a piece message carrying `data_len` bytes: the shell
 * appends it, then the block itself by reference (evbuffer_add_reference),
 * so block data is never copied into a message. */
#define RILL_WIRE_PIECE_HEADER_LEN 13
int rill_wire_build_piece_header(struct rill_buf *out, uint32_t index, uint32_t begin,
                                 uint32_t data_len);
/* A whole piece message, header and data copied (tests, small blocks). */
int rill_wire_build_piece(struct rill_buf *out, uint32_t index, uint32_t begin, const void *data,
                          size_t n);

/* --------------------------------------------------------------- allowed fast */

/* The BEP 6 allowed-fast set for a peer at `ip` (4 bytes IPv4 or 16 bytes
 * IPv6, network order): x = ip masked to its /24 (IPv4) followed by the
 * info-hash; repeatedly x = SHA-1(x) and each of its five 32-bit big-endian
 * words modulo piece_count gives an index, skipping repeats, until k are
 * found. BEP 6 defines IPv4 only; for IPv6 rill hashes the /48 prefix (first
 * 6 bytes, the rest zero) the same way. Writes min(k, piece_count,
 * RILL_WIRE_ALLOWED_FAST_MAX) indexes to `out` (room for k) in generation
 * order and returns that count, or 0 when piece_count is 0 or ip_len is
 * neither 4 nor 16. The cap keeps the duplicate check, quadratic in k,
 * cheap; BEP 6 suggests k = 10. */
#define RILL_WIRE_ALLOWED_FAST_MAX 256u
uint32_t rill_wire_allowed_fast(const uint8_t *ip, size_t ip_len,
                                const uint8_t info_hash[RILL_SHA1_LEN], uint32_t piece_count,
                                uint32_t k, uint32_t *out);

/* --------------------------------------------------- BEP 10 extended handshake */

/* Extensions rill knows by name. The extended handshake's `m` maps these
 * names to message ids; names not listed here are ignored. Later issues add
 * entries before RILL_WIRE_EXT_COUNT (at most 16). */
enum rill_wire_ext {
    RILL_WIRE_EXT_UT_METADATA = 0, /* BEP 9 */
    RILL_WIRE_EXT_UT_PEX,          /* BEP 11 */
    RILL_WIRE_EXT_UPLOAD_ONLY,     /* BEP 21 as a message (libtorrent) */
    RILL_WIRE_EXT_LT_DONTHAVE,     /* BEP 54 */
    RILL_WIRE_EXT_UT_HOLEPUNCH,    /* BEP 55 */
    RILL_WIRE_EXT_LT_TEX,          /* BEP 28 */
    RILL_WIRE_EXT_SHARE_MODE,      /* libtorrent */
    RILL_WIRE_EXT_UT_COMMENT,      /* uTorrent comments */
    RILL_WIRE_EXT_COUNT
};

/* The `m` name of a known extension ("ut_metadata"), or NULL if out of range. */
const char *rill_wire_ext_name(int ext);

#define RILL_WIRE_EXT_V_MAX 63        /* bytes of the client name kept */
#define RILL_WIRE_EXT_REQQ_MAX 65535u /* reqq values above are capped */
/* Metadata sizes above this are kept but flagged: an info dictionary bigger
 * than the largest .torrent rill accepts cannot be fetched. */
#define RILL_WIRE_EXT_METADATA_MAX RILL_MAX_TORRENT_SIZE

/* Keys of the extended handshake, as bits of `present` and `invalid`. */
enum rill_wire_ext_key {
    RILL_WIRE_EXTK_M = 1u << 0,
    RILL_WIRE_EXTK_V = 1u << 1,
    RILL_WIRE_EXTK_REQQ = 1u << 2,
    RILL_WIRE_EXTK_P = 1u << 3,
    RILL_WIRE_EXTK_UPLOAD_ONLY = 1u << 4,
    RILL_WIRE_EXTK_METADATA_SIZE = 1u << 5,
    RILL_WIRE_EXTK_YOURIP = 1u << 6,
    RILL_WIRE_EXTK_IPV4 = 1u << 7,
    RILL_WIRE_EXTK_IPV6 = 1u << 8,
};

/* The BEP 10 handshake dictionary. A zeroed struct is "nothing said". */
struct rill_wire_ext_hs {
    uint8_t m[RILL_WIRE_EXT_COUNT];  /* message id per known extension; 0 = not supported */
    char v[RILL_WIRE_EXT_V_MAX + 1]; /* client name, NUL-terminated, sanitized
                                        (valid UTF-8 kept, other bytes '?'), cut
                                        at a character boundary */
    uint32_t reqq;                   /* outstanding requests the peer takes; 0 = unsaid */
    uint16_t p;                      /* the peer's listen port; 0 = unsaid */
    bool upload_only;                /* BEP 21: the peer will not download */
    uint64_t metadata_size;          /* BEP 9 size of the info dict as sent; 0 = unsaid */
    bool metadata_too_big;           /* metadata_size > RILL_WIRE_EXT_METADATA_MAX */
    uint8_t yourip[16];              /* our address as the peer sees it */
    uint8_t yourip_len;              /* 0, 4 or 16 */
    uint8_t ipv4[4];
    uint8_t ipv6[16];
    /* Parse results: keys of the last parsed dict that were taken
     * (`present`) and keys that were there but of the wrong type or out of
     * range and so ignored (`invalid`); `m` is in both when it is a
     * dictionary with some bad entries. rill_wire_ext_hs_build writes the
     * ipv4/ipv6 addresses only when their bits are set in `present`. */
    uint32_t present;
    uint32_t invalid;
};

/* Parses a BEP 10 handshake payload (the bytes after the ext id 0) into
 * `hs`. BEP 10 lets a peer send the handshake again with changes only, so
 * the parse updates `hs` in place: zero it before the first handshake of a
 * connection; later ones overwrite only what they say, and an `m` entry of
 * 0 disables that extension. Rules: every key is optional; a key of the
 * wrong type or out of range is ignored and flagged in `invalid`; `m` ids
 * must be 0..255, unknown names are ignored; `v` is capped and sanitized;
 * `reqq` must be > 0 and is capped at RILL_WIRE_EXT_REQQ_MAX; `p` must be
 * 1..65535; `metadata_size` must be > 0 and is kept as given, with
 * metadata_too_big set when above RILL_WIRE_EXT_METADATA_MAX; `yourip` must
 * be 4 or 16 bytes, `ipv4` 4, `ipv6` 16. Returns 0, or a negative rill_err
 * (with `err`, may be NULL) when the payload is not a bencoded dictionary
 * (rill's decoder is strict: unsorted keys, trailing bytes); `hs` is then
 * unchanged, and the caller may treat the peer as having no extensions. */
int rill_wire_ext_hs_parse(const uint8_t *p, size_t n, struct rill_wire_ext_hs *hs,
                           struct rill_error *err);

/* Appends our handshake dictionary (the payload only: send it with
 * rill_wire_build_extended(out, 0, ...)) in canonical bencode: `m` with
 * every non-zero id, `v` when non-empty, `reqq` and `p` when non-zero,
 * `upload_only` when true, `metadata_size` when non-zero, `yourip` when its
 * length is 4 or 16, `ipv4`/`ipv6` when flagged in `present`. RILL_EINVAL if
 * two extensions share one non-zero id (the peer could not tell them
 * apart), RILL_ENOMEM if `out` is full. */
int rill_wire_ext_hs_build(struct rill_buf *out, const struct rill_wire_ext_hs *hs);

#endif
