/* Peer connections: lifetime, handshake and framing (conn.c). */
#ifndef RILL_IO_CONN_H
#define RILL_IO_CONN_H

#include "io/session.h"

/* "1.2.3.4:5" or "[::1]:5". */
void rill__addr_name(const struct sockaddr *sa, char *out, size_t cap);
/* Starts an outgoing connection for `t`; the handshake goes out once the
 * TCP connect succeeds. NULL when it failed at once (already logged). */
struct rill__peer *rill__peer_connect(struct rill_torrent *t, const struct sockaddr *sa,
                                      socklen_t len);
/* Takes an accepted socket; its torrent is known from its handshake. */
struct rill__peer *rill__peer_accept(struct rill_session *s, int fd, const struct sockaddr *sa,
                                     socklen_t len);
void rill__send_handshake(struct rill__peer *p);
/* Queues bytes for the peer (copied). Nothing if closed or `b` failed. */
void rill__peer_send(struct rill__peer *p, const struct rill_buf *b);
/* Closes with a logged reason: detaches from the torrent (which releases
 * its requests and availability) and frees the socket after the current
 * callback. The struct lives on while worker jobs refer to it (p->jobs);
 * each such job calls rill__peer_release when it is done. Idempotent. */
void rill__peer_close(struct rill__peer *p, const char *reason);
void rill__peer_release(struct rill__peer *p);
/* Stops or resumes reading (the download rate limit). */
void rill__peer_pause_reading(struct rill__peer *p, bool pause);
/* Bytes queued for sending. */
size_t rill__peer_output_len(const struct rill__peer *p);

#endif
