/* IP literals to socket addresses (see sockaddr.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "io/sockaddr.h"
#include "rill.h"

int rill__sockaddr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *ss,
                           socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, ip, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        *len = sizeof *in;
    } else if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        *len = sizeof *in6;
    } else {
        return RILL_EINVAL;
    }
    rill__sockaddr_set_port(ss, port);
    return 0;
}

void rill__sockaddr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

bool rill__sockaddr_is_any(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

socklen_t rill__sockaddr_from_raw(const uint8_t *addr, size_t len, uint16_t port,
                                  struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (len == 4) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, addr, 4);
        in->sin_port = htons(port);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_addr, addr, 16);
    in6->sin6_port = htons(port);
    return sizeof *in6;
}

bool rill__sockaddr_to_raw(const struct sockaddr_storage *ss, uint8_t addr[16], uint8_t *len,
                           uint16_t *port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        memcpy(addr, &in->sin_addr, 4);
        *len = 4;
        *port = ntohs(in->sin_port);
        return true;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        bool mapped = IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
        *len = mapped ? 4 : 16;
        memcpy(addr, in6->sin6_addr.s6_addr + (mapped ? 12 : 0), *len);
        *port = ntohs(in6->sin6_port);
        return true;
    }
    return false;
}

int rill__sockaddr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    const char *colon = text ? strrchr(text, ':') : NULL;
    if (!colon || colon == text)
        return RILL_EINVAL;
    char host[64];
    size_t hlen = (size_t)(colon - text);
    if (text[0] == '[' && hlen >= 2 && text[hlen - 1] == ']') {
        text++;
        hlen -= 2;
    }
    if (hlen >= sizeof host)
        return RILL_EINVAL;
    memcpy(host, text, hlen);
    host[hlen] = 0;
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || colon[1] == '-' || port > 65535)
        return RILL_EINVAL;
    return rill__sockaddr_from_ip(host, (uint16_t)port, ss, len);
}
