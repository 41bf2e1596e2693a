/* Shared between the torrent's files (torrent*.c). */
#ifndef RILL_IO_TORRENT_INTERNAL_H
#define RILL_IO_TORRENT_INTERNAL_H

#include "io/session.h"

/* torrent.c */
void rill__torrent_start(struct rill_torrent *t);
void rill__torrent_fail(struct rill_torrent *t, int err, const char *msg);
void rill__torrent_save_resume(struct rill_torrent *t);
void rill__torrent_free(struct rill_torrent *t);
void rill__torrent_maybe_free(struct rill_torrent *t);
/* New connect candidates arrived (from a tracker): dial some now. */
void rill__torrent_candidates_added(struct rill_torrent *t);
void rill__torrent_candidate_closed(struct rill_torrent *t, const struct rill__peer *p,
                                    bool worked);

/* torrent_peer.c */
/* Sends interested / not interested when our interest in `p` changed. */
void rill__peer_update_interest(struct rill_torrent *t, struct rill__peer *p);
/* Tops up the requests in flight to `p`. */
void rill__peer_request_more(struct rill_torrent *t, struct rill__peer *p);
/* Releases requests older than `timeout_ms` (0: all) back to the picker. */
void rill__peer_expire_requests(struct rill_torrent *t, struct rill__peer *p, uint64_t timeout_ms);
struct rill__peer *rill__torrent_find_peer(struct rill_torrent *t, uint32_t id);
void rill__peer_send_simple(struct rill__peer *p, int type);
/* An extension message (BEP 10): `id` as the peer numbered it, 0 for the
 * handshake. */
void rill__peer_send_ext(struct rill__peer *p, uint8_t id, const struct rill_buf *payload);
void rill__peer_send_block_msg(struct rill__peer *p, int type, uint32_t piece, uint32_t begin,
                               uint32_t length);

/* torrent_piece.c */
/* A requested block arrived from `p` (already accounted by the peer core). */
void rill__torrent_got_block(struct rill_torrent *t, struct rill__peer *p,
                             const struct rill_wire_msg *m);
void rill__piece_buf_free(struct rill_torrent *t, uint32_t piece);
/* Arms the wake timer for when the rate limits allow more. */
void rill__torrent_wake_at(struct rill_torrent *t, uint64_t when_ms);
bool rill__torrent_seeding(const struct rill_torrent *t);
/* Pieces waiting to be hashed and written hold memory: above this many,
 * no new requests go out until workers catch up. */
bool rill__torrent_backlogged(const struct rill_torrent *t);

/* torrent_upload.c */
/* Serves queued requests of `p` within the upload limits. */
void rill__torrent_serve(struct rill_torrent *t, struct rill__peer *p);
/* The same, at most `max_blocks` blocks; returns how many went out. */
unsigned rill__torrent_serve_upto(struct rill_torrent *t, struct rill__peer *p, unsigned max_blocks);
/* Drops the read cache (blocks still queued to peers keep their chunks). */
void rill__upload_cache_free(struct rill_torrent *t);

/* torrent_ban.c: finding who sent corrupt blocks */
/* A piece failed: remember its blocks' senders and hashes. */
void rill__suspect_record(struct rill_torrent *t, const struct rill__piece_buf *b,
                          const uint8_t (*hash)[RILL_SHA1_LEN]);
/* The piece passed: ban whoever sent a block that differs from `good`. */
void rill__suspect_resolve(struct rill_torrent *t, uint32_t piece,
                           const uint8_t (*good)[RILL_SHA1_LEN]);
bool rill__piece_suspected(const struct rill_torrent *t, uint32_t piece);
void rill__suspects_free(struct rill_torrent *t);

/* Our ids for the extension messages we take (BEP 10 "m"); libtorrent
 * uses the same. */
#define RILL__EXT_ID_UT_PEX 1
#define RILL__EXT_ID_UT_METADATA 2

/* torrent.c: the part of starting a torrent that needs its metadata (a
 * magnet's once it arrived): picker, choker, storage, the data check. */
int rill__torrent_init(struct rill_torrent *t);

/* torrent_meta.c: magnets (BEP 9) */
int rill__meta_init(struct rill_torrent *t, const struct rill_magnet *m);
void rill__meta_on_handshake(struct rill_torrent *t, struct rill__peer *p);
void rill__meta_on_msg(struct rill_torrent *t, struct rill__peer *p, const uint8_t *data,
                       size_t len);
void rill__meta_tick(struct rill_torrent *t);
void rill__meta_peer_gone(struct rill_torrent *t, struct rill__peer *p);
void rill__meta_free(struct rill_torrent *t);

/* torrent_pex.c: peer exchange (BEP 11) */
bool rill__pex_allowed(const struct rill_torrent *t);
void rill__pex_on_msg(struct rill_torrent *t, struct rill__peer *p, const uint8_t *data,
                      size_t len);
void rill__pex_tick(struct rill_torrent *t);
void rill__pex_peer_gone(struct rill__peer *p);

/* torrent_dht.c: peers from the DHT (BEP 5) */
/* The session's DHT node if this torrent may use it (not private, not
 * --no-dht), else NULL. */
struct rill_dht *rill__torrent_dht(const struct rill_torrent *t);
void rill__dht_torrent_tick(struct rill_torrent *t);
void rill__dht_torrent_gone(struct rill_torrent *t);
void rill__dht_peer_port(struct rill_torrent *t, const struct rill__peer *p, uint16_t port);
void rill__dht_send_port(struct rill_torrent *t, struct rill__peer *p);

/* torrent_choke.c */
void rill__torrent_rechoke(struct rill_torrent *t);
void rill__torrent_check_seed_limits(struct rill_torrent *t);

#endif
