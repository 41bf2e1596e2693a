/* BEP 9 (ut_metadata): fetching the info dictionary of a magnet link from
 * peers, and serving ours.
 *
 * Three parts, all pure (no sockets, no clock; time is passed in):
 * - the codec: parse one extended-message payload (the bytes after the
 *   extension id) and build request, data and reject payloads;
 * - the fetcher: which piece to ask which peer for, storing the answers,
 *   the SHA-1 check of the whole against the info-hash and, when it fails,
 *   working out which peers lied;
 * - a serving helper: the data message for one piece of our info dict.
 *
 * Internal to rill: the shell (src/io/torrent*.c) and the lab include it.
 * Peers are opaque uint32_t keys chosen by the caller (a connection id). */
#ifndef RILL_CORE_UT_METADATA_H
#define RILL_CORE_UT_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

#define RILL_UTMETA_PIECE (16u << 10) /* BEP 9: every piece but the last */
/* Piece indexes accepted on the wire: 0 .. 2^31 - 1. */
#define RILL_UTMETA_MAX_INDEX 0x7FFFFFFFu

/* ------------------------------------------------------------------- codec */

enum rill_utmeta_type {
    RILL_UTMETA_REQUEST = 0,
    RILL_UTMETA_DATA = 1,
    RILL_UTMETA_REJECT = 2,
    RILL_UTMETA_UNKNOWN = 3, /* a msg_type BEP 9 does not define: ignore it */
};

/* One message. `data` points into the caller's buffer (data messages only). */
struct rill_utmeta_msg {
    int type;            /* enum rill_utmeta_type */
    int64_t raw_type;    /* msg_type as sent (for logs when UNKNOWN) */
    uint32_t piece;      /* request, data, reject */
    uint64_t total_size; /* data only: the size of the whole info dict */
    const uint8_t *data; /* data only: the piece bytes after the dict */
    size_t data_len;
};

/* Parses the payload p[0..n) of a ut_metadata message. The dictionary is
 * decoded with rill's bencode decoder (keys may be unsorted, as some
 * clients send them); for a data message the bytes after the dictionary
 * are the piece. Rules: msg_type and piece are integers, piece in
 * 0..RILL_UTMETA_MAX_INDEX; a data message has total_size > 0, the piece
 * starts inside total_size and carries exactly the bytes that piece has
 * (16 KiB, or the rest for the last piece); request and reject carry
 * nothing after the dictionary. An unknown msg_type parses as
 * RILL_UTMETA_UNKNOWN (piece and the rest unchecked). Returns 0, or
 * RILL_ETRUNCATED / RILL_ESYNTAX / RILL_ETRAILING / RILL_ERANGE / RILL_ELIMIT
 * with `err` (may be NULL) saying what and where; `m` is then zeroed. */
int rill_utmeta_parse(const uint8_t *p, size_t n, struct rill_utmeta_msg *m,
                      struct rill_error *err);

/* Builders append one payload (send it with rill_wire_build_extended and
 * the peer's ut_metadata id) in canonical bencode. 0, RILL_EINVAL for a
 * piece above RILL_UTMETA_MAX_INDEX (or, for data, bytes that do not fit
 * the piece and total_size), RILL_ENOMEM when `out` is full. */
int rill_utmeta_build_request(struct rill_buf *out, uint32_t piece);
int rill_utmeta_build_reject(struct rill_buf *out, uint32_t piece);
int rill_utmeta_build_data(struct rill_buf *out, uint32_t piece, uint64_t total_size,
                           const void *data, size_t n);

/* Serving: appends the data message for piece `piece` of the info dict
 * info[0..len). RILL_EINVAL when len is 0 or the piece is past the end. */
int rill_utmeta_serve(struct rill_buf *out, const uint8_t *info, size_t len, uint32_t piece);

/* Pieces of an info dict of `size` bytes: ceil(size / 16 KiB). */
uint32_t rill_utmeta_piece_count(uint64_t size);

/* ----------------------------------------------------------------- fetcher */

#define RILL_UTMETA_MAX_PEERS 64        /* peers tracked at once; more get no work */
#define RILL_UTMETA_MAX_BANNED 256      /* liars remembered (oldest forgotten) */
#define RILL_UTMETA_PEER_INFLIGHT 2     /* requests outstanding per peer */
#define RILL_UTMETA_RECORDS 4           /* failed versions remembered per piece */
#define RILL_UTMETA_DUP_AFTER_MS 20000u /* default of fetch.dup_after_ms */
#define RILL_UTMETA_REJECT_BACKOFF_MS 10000u

/* What data() and msg() did. Negative rill_err values are refusals. */
enum rill_utmeta_result {
    RILL_UTMETA_STORED = 0,  /* the piece was kept; more to come */
    RILL_UTMETA_DONE = 1,    /* all pieces in and the SHA-1 matches */
    RILL_UTMETA_FAILED = 2,  /* all pieces in, SHA-1 mismatch: refetching */
    RILL_UTMETA_IGNORED = 3, /* a duplicate, or the fetch is already done */
};

struct rill_utmeta_rec; /* a failed version of one piece: its SHA-1 and sender */

struct rill_utmeta_slot {
    uint32_t key;
    bool used;
    uint8_t n_inflight;
    uint32_t inflight[RILL_UTMETA_PEER_INFLIGHT];
    uint64_t sent_ms[RILL_UTMETA_PEER_INFLIGHT];
    uint64_t backoff_until; /* after a reject: no requests before this */
};

struct rill_utmeta_fetch {
    uint8_t info_hash[RILL_SHA1_LEN];
    uint64_t size;
    uint32_t pieces;
    uint32_t have; /* pieces stored in this round */
    bool done;
    /* A piece in flight is requested again from another peer only when no
     * piece is left unrequested and its oldest request is this old. */
    uint32_t dup_after_ms;
    uint32_t rounds_failed;
    uint8_t *buf;                /* size bytes */
    uint8_t *state;              /* per piece: missing / have */
    uint8_t *requesters;         /* per piece: peers it is in flight with */
    uint64_t *req_ms;            /* per piece: when first put in flight */
    uint32_t *sender;            /* per piece: who sent the stored bytes */
    uint8_t *n_rec;              /* per piece: failed versions kept */
    struct rill_utmeta_rec *rec; /* pieces * RILL_UTMETA_RECORDS */
    struct rill_utmeta_slot peers[RILL_UTMETA_MAX_PEERS];
    uint32_t banned[RILL_UTMETA_MAX_BANNED];
    uint32_t n_banned;
    uint32_t n_reported; /* banned[0..n_reported) were popped by the caller */
};

/* Prepares a fetch of the info dict of `info_hash`, `size` bytes as the
 * peers' extended handshakes said (metadata_size). `max_size` 0 means
 * RILL_WIRE_EXT_METADATA_MAX. Allocates every buffer here, once; nothing
 * later allocates. RILL_ELIMIT when size is 0 or above the max, RILL_ENOMEM.
 * On error `f` is left freed. */
int rill_utmeta_fetch_init(struct rill_utmeta_fetch *f, const uint8_t info_hash[RILL_SHA1_LEN],
                           uint64_t size, uint64_t max_size);
/* Frees the buffers; safe on a zeroed or already freed struct. Invalidates
 * the pointer rill_utmeta_fetch_result returned. */
void rill_utmeta_fetch_free(struct rill_utmeta_fetch *f);

/* The next piece to request from `peer`: true and *piece set, or false
 * when there is nothing for it (all pieces in or in flight, its quota of
 * RILL_UTMETA_PEER_INFLIGHT is used, it is banned or backing off after a
 * reject, the peer table is full, the fetch is done). The request counts as
 * sent at now_ms. After a failed round, a piece goes preferably to a peer
 * that did not send a failed version of it. */
bool rill_utmeta_fetch_next(struct rill_utmeta_fetch *f, uint32_t peer, uint64_t now_ms,
                            uint32_t *piece);

/* The bytes of piece `piece` arrived from `peer` (requested or not, late or
 * not). Returns an enum rill_utmeta_result: STORED; DONE (the result is
 * ready); FAILED (the whole did not hash to the info-hash: the round is
 * reset and refetched; check rill_utmeta_fetch_pop_liar); IGNORED. Or a
 * refusal: RILL_EINVAL from a banned peer, RILL_ERANGE for a piece past the
 * end, RILL_ESYNTAX for a length other than the piece's; the caller should
 * drop the peer. When DONE, liars of earlier rounds are known too. */
int rill_utmeta_fetch_data(struct rill_utmeta_fetch *f, uint32_t peer, uint32_t piece,
                           const uint8_t *bytes, size_t len, uint64_t now_ms);

/* A parsed message from `peer`, dispatched: data (RILL_ESYNTAX if its
 * total_size differs from ours) and reject; a request is RILL_EINVAL (the
 * caller serves it) and UNKNOWN is IGNORED. */
int rill_utmeta_fetch_msg(struct rill_utmeta_fetch *f, uint32_t peer,
                          const struct rill_utmeta_msg *m, uint64_t now_ms);

/* `peer` rejected `piece`: it is free for others, and `peer` gets no
 * requests for RILL_UTMETA_REJECT_BACKOFF_MS. */
void rill_utmeta_fetch_reject(struct rill_utmeta_fetch *f, uint32_t peer, uint32_t piece,
                              uint64_t now_ms);
/* `peer` disconnected: its requests are freed and its slot reused. A
 * banned peer stays banned. */
void rill_utmeta_fetch_peer_gone(struct rill_utmeta_fetch *f, uint32_t peer);
/* Frees every request older than timeout_ms (sent at or before now -
 * timeout); returns how many. A late answer is still accepted. */
uint32_t rill_utmeta_fetch_timeouts(struct rill_utmeta_fetch *f, uint64_t now_ms,
                                    uint64_t timeout_ms);

/* The next peer found lying that the caller has not been told of yet:
 * true and *peer set (drop that connection), or false. */
bool rill_utmeta_fetch_pop_liar(struct rill_utmeta_fetch *f, uint32_t *peer);
/* True if `peer` was found lying (its data is refused from then on). */
bool rill_utmeta_fetch_banned(const struct rill_utmeta_fetch *f, uint32_t peer);

/* The verified info dict once data() returned DONE (parse it with
 * rill_metainfo_parse_info), else NULL. Owned by `f`. */
const uint8_t *rill_utmeta_fetch_result(const struct rill_utmeta_fetch *f, size_t *len);

#endif
