/* A torrent in the shell: owns its picker, choker, peers and storage. The
 * connection layer (conn.c) and the session call these. */
#ifndef RILL_IO_TORRENT_H
#define RILL_IO_TORRENT_H

#include "io/session.h"

/* Links a peer into the torrent (outgoing at connect, incoming at adopt). */
void rill__torrent_attach(struct rill_torrent *t, struct rill__peer *p);
/* Complete and uploading nothing (no_upload): no peer has any use for us,
 * so we keep no connections, dial none and refuse newcomers. */
bool rill__torrent_idle_seed(const struct rill_torrent *t);
/* Unlinks a closing peer: its requests go back to the picker, its pieces
 * leave the availability counts, the choker forgets it. */
void rill__torrent_detach(struct rill_torrent *t, struct rill__peer *p);
/* Both handshakes done: send our extended handshake and what we have. */
void rill__torrent_peer_ready(struct rill_torrent *t, struct rill__peer *p);
/* One parsed message from `p` (its data points into the input buffer and
 * is valid only during the call). */
void rill__torrent_on_message(struct rill_torrent *t, struct rill__peer *p,
                              const struct rill_wire_msg *m);
/* The peer's output buffer drained: serve more of its requests. */
void rill__torrent_on_writable(struct rill_torrent *t, struct rill__peer *p);

/* Session helpers used across files. */
int rill__session_adopt(struct rill_session *s, struct rill__peer *p, const uint8_t *info_hash);
bool rill__session_banned(const struct rill_session *s, const struct sockaddr *sa);
void rill__session_ban(struct rill_session *s, const struct sockaddr *sa, socklen_t len);

/* Adds a connect candidate (from a tracker, --peer, the DHT, PEX or LSD);
 * duplicates, banned addresses and our own listener are ignored. True when
 * the address is new. */
bool rill__torrent_add_candidate(struct rill_torrent *t, const struct sockaddr *sa,
                                 socklen_t len);
/* The same for a raw address (4 or 16 bytes, network order) and port. */
bool rill__torrent_add_raw_candidate(struct rill_torrent *t, const uint8_t *addr, size_t len,
                                     uint16_t port);

#endif
