/* The tracker client of one torrent (BEP 3 HTTP with BEP 23/7 compact
 * peers, BEP 15 UDP, BEP 12 tiers): announces started / completed /
 * stopped and periodic updates, hands the peers it learns to the torrent
 * (rill__torrent_add_candidate), and backs off from dead trackers while the
 * download goes on with the peers it has. */
#ifndef RILL_IO_ANNOUNCER_H
#define RILL_IO_ANNOUNCER_H

#include <stdbool.h>

#include "io/session.h"

/* Makes the announcer for `t` from t->mi's tiers; none if it has no
 * trackers (then *a is NULL and 0 is returned). Sends nothing yet. */
int rill__announcer_new(struct rill__announcer **a, struct rill_torrent *t);
/* Safe on NULL. Aborts requests in flight without announcing. */
void rill__announcer_free(struct rill__announcer *a);
/* The torrent is ready: announce `started` and keep announcing at the
 * interval the tracker asks for. Safe on NULL. */
void rill__announcer_start(struct rill__announcer *a);
/* Every piece is verified: announce `completed` (once). Safe on NULL. */
void rill__announcer_completed(struct rill__announcer *a);
/* Announce `stopped` to every tracker that was announced to (best effort:
 * no retries) and stop the timers. Safe on NULL. */
void rill__announcer_stop(struct rill__announcer *a);
/* True when no announce is in flight (a caller waiting for `stopped` to go
 * out before exiting polls this; true on NULL). */
bool rill__announcer_idle(const struct rill__announcer *a);
/* The torrent runs short of peers: announce again as soon as the tracker's
 * `min interval` (or 60 s when it gave none) since the last answer allows,
 * instead of waiting for the full interval. Nothing while a round is in
 * flight or while dead trackers are being backed off from. Safe on NULL. */
void rill__announcer_want_peers(struct rill__announcer *a);
/* Tests: run the announcer's clock (intervals, backoff, BEP 15 retries,
 * timeouts) `speed` times faster than the session's. Call before start. */
void rill__announcer_set_speed(struct rill__announcer *a, unsigned speed);

#endif
