/* rill get and rill seed without trackers: the options that concern the
 * DHT, peer exchange and magnets, and the DHT node the session uses. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_DHT_PORT 6881

int cli_xfer_dht_option(struct cli_xfer_args *a, int c, const char *val)
{
    const char *why;
    switch (c) {
    case CLI_OPT_NO_DHT: a->no_dht = true; return -1;
    case CLI_OPT_NO_PEX: a->no_pex = true; return -1;
    case CLI_OPT_NO_LSD: a->no_lsd = true; return -1;
    case CLI_OPT_DHT_STATE: a->dht_state = val; return -1;
    case CLI_OPT_SAVE_TORRENT: a->torrent_out = val; return -1;
    case CLI_OPT_DHT_PORT:
        a->dht_port_given = true;
        if (cli_parse_uint(val, 65535, &a->dht_port, &why) != 0)
            return cli_bad_value(a->cmd, "--dht-port", val, why);
        return -1;
    case CLI_OPT_BOOTSTRAP:
        if (cli_check_peer(val, &why) != 0)
            return cli_bad_value(a->cmd, "--bootstrap", val, why);
        a->boot[a->n_boot++] = val;
        return -1;
    default: return 0;
    }
}

/* The addresses to bind: the session's --bind family only, else both. */
static void bind_addrs(const struct cli_xfer_args *a, uint64_t port, char *b4, char *b6,
                       size_t cap, struct rill_dht_opts *o)
{
    bool v6 = a->bind && strchr(a->bind, ':');
    snprintf(b4, cap, "%s:%" PRIu64, a->bind && !v6 ? a->bind : "0.0.0.0", port);
    snprintf(b6, cap, "[%s]:%" PRIu64, v6 ? a->bind : "::", port);
    o->bind4 = v6 ? NULL : b4;
    o->bind6 = a->bind && !v6 ? NULL : b6;
}

int cli_xfer_dht_open(const struct cli_xfer_args *a, struct event_base *base,
                      struct rill_dht **out)
{
    *out = NULL;
    if (a->no_dht)
        return -1;
    uint64_t port = a->dht_port_given ? a->dht_port : a->port_given ? a->port : DEFAULT_DHT_PORT;
    char b4[96], b6[96];
    struct rill_dht_opts o = {.state_path = a->dht_state};
    bind_addrs(a, port, b4, b6, sizeof b4, &o);
    int rc = rill_dht_new(out, base, &o);
    if (rc == RILL_EIO && o.bind6 && o.bind4) { /* a host without IPv6 */
        o.bind6 = NULL;
        rc = rill_dht_new(out, base, &o);
    }
    if (rc == RILL_EIO && !a->dht_port_given && port != 0) { /* the port is taken */
        bind_addrs(a, 0, b4, b6, sizeof b4, &o);
        rc = rill_dht_new(out, base, &o);
    }
    if (rc != 0) {
        cli_error("%s: cannot start the DHT node on UDP port %" PRIu64 ": %s%s", a->cmd, port,
                  rill_strerror(rc),
                  a->dht_state ? " (or the state file is not a DHT state file)" : "");
        return rc == RILL_EINVAL ? cli_usage_hint(a->cmd) : CLI_EXIT_IO;
    }
    cli_dht_bootstrap(*out, a->boot, a->n_boot, a->quiet);
    return -1;
}
