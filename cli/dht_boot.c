/* Joining the DHT from the command line: `--bootstrap HOST:PORT` names (or
 * the well-known routers) resolved here, once, and pinged; shared by
 * rill dht, rill get and rill seed. */
#include <arpa/inet.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"

static const char *const ROUTERS[] = {
    "router.bittorrent.com:6881",
    "dht.transmissionbt.com:6881",
    "router.utorrent.com:6881",
    "dht.libtorrent.org:25401",
};

/* Resolves one HOST:PORT (checked by cli_check_peer) and pings every
 * address of a family the node has; returns how many pings went out. */
static int bootstrap_one(struct rill_dht *d, const char *hostport, bool quiet)
{
    if (rill_dht_bootstrap(d, hostport) == 0)
        return 1; /* an address literal */
    const char *colon = strrchr(hostport, ':');
    char host[256];
    size_t hl = (size_t)(colon - hostport);
    if (hostport[0] == '[' || hl >= sizeof host)
        return 0; /* a literal of a family we have no socket for */
    memcpy(host, hostport, hl);
    host[hl] = 0;
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
                                    .ai_flags = EVUTIL_AI_NUMERICSERV};
    struct evutil_addrinfo *res = NULL;
    if (evutil_getaddrinfo(host, colon + 1, &hints, &res) != 0) {
        if (!quiet)
            fprintf(stderr, "rill: DHT bootstrap: cannot resolve %s\n", host);
        return 0;
    }
    int sent = 0;
    for (struct evutil_addrinfo *ai = res; ai; ai = ai->ai_next) {
        char ip[INET6_ADDRSTRLEN], lit[INET6_ADDRSTRLEN + 16];
        const void *src = ai->ai_family == AF_INET
                              ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                              : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            !inet_ntop(ai->ai_family, src, ip, sizeof ip))
            continue;
        snprintf(lit, sizeof lit, ai->ai_family == AF_INET ? "%s:%s" : "[%s]:%s", ip, colon + 1);
        sent += rill_dht_bootstrap(d, lit) == 0;
    }
    evutil_freeaddrinfo(res);
    return sent;
}

int cli_dht_bootstrap(struct rill_dht *d, const char *const *nodes, size_t n, bool quiet)
{
    int sent = 0;
    if (n == 0) {
        nodes = ROUTERS;
        n = CLI_ARRAY_LEN(ROUTERS);
    }
    for (size_t i = 0; i < n; i++)
        sent += bootstrap_one(d, nodes[i], quiet);
    return sent;
}
