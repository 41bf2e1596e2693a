/* IP literals to socket addresses, for the session's --bind and the
 * tracker's listen addresses (evutil_parse_sockaddr_port refuses port 0,
 * which both need for "any free port"). */
#ifndef RILL_IO_SOCKADDR_H
#define RILL_IO_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 literal (no brackets, no port) with `port`; RILL_EINVAL
 * when `ip` is neither. */
int rill__sockaddr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *ss,
                           socklen_t *len);
void rill__sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port);
/* A raw address (4 or 16 bytes in network order, as compact peer lists,
 * KRPC and PEX carry them) and a port as a socket address; returns its
 * length. */
socklen_t rill__sockaddr_from_raw(const uint8_t *addr, size_t len, uint16_t port,
                                  struct sockaddr_storage *ss);
/* The reverse (an IPv4-mapped IPv6 address gives its 4 IPv4 bytes); false
 * for a family other than IPv4 and IPv6. */
bool rill__sockaddr_to_raw(const struct sockaddr_storage *ss, uint8_t addr[16], uint8_t *len,
                           uint16_t *port);
/* "ADDR:PORT" or "[v6]:PORT" (port 0 allowed) into `ss`; RILL_EINVAL
 * otherwise. */
int rill__sockaddr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len);
/* 0.0.0.0 or :: */
bool rill__sockaddr_is_any(const struct sockaddr_storage *ss);

#endif
