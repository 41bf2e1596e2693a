/* IP literals to socket addresses, for the session's --bind and the
 * tracker's listen addresses (evutil_parse_sockaddr_port refuses port 0,
 * which both need for "any free port"). */
#ifndef RILL_IO_SOCKADDR_H
#define RILL_IO_SOCKADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 literal (no brackets, no port) with `port`; RILL_EINVAL
 * when `ip` is neither. */
int rill__sockaddr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *ss,
                           socklen_t *len);
void rill__sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port);
/* 0.0.0.0 or :: */
bool rill__sockaddr_is_any(const struct sockaddr_storage *ss);

#endif
