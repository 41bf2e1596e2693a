/* Local Service Discovery (BEP 14) for a session (lsd.c). */
#ifndef RILL_IO_LSD_H
#define RILL_IO_LSD_H

#include "io/session.h"

struct rill__lsd;

/* Joins the LSD group on the session's interface. On failure (no
 * multicast there, an IPv6 --bind) logs why and returns the error; the
 * session goes on without LSD. */
int rill__lsd_new(struct rill_session *s, struct rill__lsd **out);
void rill__lsd_free(struct rill__lsd *l);
/* A torrent was added: announce within a second. NULL is fine. */
void rill__lsd_soon(struct rill__lsd *l);

#endif
