/* rill dht: a Mainline DHT node (librill's rill_dht_*), run until a signal,
 * or joined for one question: get-peers, announce, stats. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dht_cli.h"

static const char usage_text[] =
    "Usage: rill dht [OPTIONS]                        run a DHT node until stopped\n"
    "       rill dht get-peers INFOHASH [OPTIONS]     find peers of a torrent\n"
    "       rill dht announce INFOHASH PORT [OPTIONS] announce a peer (PORT 0: the\n"
    "                                                 DHT port, as others see it)\n"
    "       rill dht stats [OPTIONS]                  join and describe the DHT\n"
    "       rill dht put VALUE [OPTIONS]              store an item (BEP 44), print\n"
    "                                                 its target\n"
    "       rill dht put --key FILE VALUE [OPTIONS]   store a signed, mutable item\n"
    "       rill dht get TARGET [--salt S] [OPTIONS]  fetch an item\n"
    "A full node of the Mainline DHT (BEP 5, IPv6 per BEP 32, BEP 42 node ids):\n"
    "trackerless torrents find their peers here. INFOHASH is 40 hex digits, 32\n"
    "base32 characters or a magnet link.\n"
    "\n"
    "  -p, --port N            UDP port, both families (default 6881 for a node,\n"
    "                          any free port for get-peers, announce and stats)\n"
    "      --bind ADDR         IPv4 address to listen on (default 0.0.0.0)\n"
    "      --bind6 ADDR        IPv6 address to listen on (default ::)\n"
    "  -4, --ipv4-only         no IPv6 socket\n"
    "  -6, --ipv6-only         no IPv4 socket\n"
    "  -b, --bootstrap H:P     join through this node (repeatable); default: the\n"
    "                          well-known routers router.bittorrent.com:6881,\n"
    "                          dht.transmissionbt.com:6881, router.utorrent.com:6881\n"
    "                          and dht.libtorrent.org:25401\n"
    "      --state FILE        keep our id and good nodes here, so a restart\n"
    "                          rejoins at once (default $XDG_STATE_HOME/rill/\n"
    "                          dht.state, else ~/.local/state/rill/dht.state)\n"
    "      --no-state          no state file: a fresh random id every time\n"
    "      --timeout T         get-peers, announce and stats give up after T\n"
    "                          (default 30s)\n"
    "      --stats-every T     a running node logs its counts this often\n"
    "                          (default 1m)\n"
    "      --key FILE          put: sign with this Ed25519 key (64 hex digits of\n"
    "                          secret seed; a missing FILE is created with a new\n"
    "                          key, mode 0600): a mutable item, found by key+salt\n"
    "      --salt S            put/get: a mutable item's salt (at most 64 bytes)\n"
    "      --seq N             put: the version number (default: one above the\n"
    "                          highest found)\n"
    "      --bencoded          put: VALUE is bencode already (default: a string)\n"
    "      --json              machine-readable output\n"
    "  -q, --quiet             no log lines\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: 0 done (a node: stopped by a signal), 1 no peers found,\n"
    "2 usage error, 4 cannot listen or join the DHT, or timed out.\n";

static const struct option options[] = {
    {"port", required_argument, NULL, 'p'},       {"bind", required_argument, NULL, 'B'},
    {"bind6", required_argument, NULL, 'S'},      {"ipv4-only", no_argument, NULL, '4'},
    {"ipv6-only", no_argument, NULL, '6'},        {"bootstrap", required_argument, NULL, 'b'},
    {"state", required_argument, NULL, 'F'},      {"no-state", no_argument, NULL, 'N'},
    {"timeout", required_argument, NULL, 'T'},    {"stats-every", required_argument, NULL, 'E'},
    {"json", no_argument, NULL, 'j'},             {"quiet", no_argument, NULL, 'q'},
    {"key", required_argument, NULL, 'K'},       {"salt", required_argument, NULL, 'A'},
    {"seq", required_argument, NULL, 'Q'},        {"bencoded", no_argument, NULL, 'R'},
    {"help", no_argument, NULL, 'h'},             {0, 0, 0, 0},
};

static int parse_one(struct dht_args *a, int c, const char *val)
{
    const char *why = NULL;
    uint64_t v;
    switch (c) {
    case 'p':
        if (cli_parse_uint(val, 65535, &v, &why))
            return cli_bad_value("dht", "--port", val, why);
        a->port = (uint16_t)v;
        a->port_set = true;
        return -1;
    case 'B': a->bind4 = val; return -1;
    case 'S': a->bind6 = val; return -1;
    case '4': a->only4 = true; return -1;
    case '6': a->only6 = true; return -1;
    case 'b':
        if (cli_check_peer(val, &why))
            return cli_bad_value("dht", "--bootstrap", val, why);
        if (a->n_boot == DHT_CLI_BOOT_MAX)
            return cli_bad_value("dht", "--bootstrap", val, "too many bootstrap nodes");
        a->boot[a->n_boot++] = val;
        return -1;
    case 'F': a->state = val; return -1;
    case 'N': a->no_state = true; return -1;
    case 'T':
        if (cli_parse_duration(val, &a->timeout_ms, &why) || a->timeout_ms == 0)
            return cli_bad_value("dht", "--timeout", val, why ? why : "must be more than 0");
        return -1;
    case 'E':
        if (cli_parse_duration(val, &a->stats_every_ms, &why) || a->stats_every_ms < 1000)
            return cli_bad_value("dht", "--stats-every", val, why ? why : "at least 1s");
        return -1;
    case 'K': a->key_path = val; return -1;
    case 'A':
        if (strlen(val) > RILL_DHT_ITEM_SALT_MAX_LEN)
            return cli_bad_value("dht", "--salt", val, "longer than 64 bytes");
        a->salt = val;
        return -1;
    case 'Q':
        if (cli_parse_uint(val, INT64_MAX, &v, &why))
            return cli_bad_value("dht", "--seq", val, why);
        a->seq = (int64_t)v;
        a->has_seq = true;
        return -1;
    case 'R': a->raw_value = true; return -1;
    case 'j': a->json = true; return -1;
    case 'q': a->quiet = true; return -1;
    case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
    default: return cli_usage_hint("dht");
    }
}

/* INFOHASH as 40 hex, 32 base32 or a whole magnet link. */
static int parse_info_hash(const char *s, uint8_t ih[RILL_SHA1_LEN])
{
    bool magnet = strncmp(s, "magnet:", 7) == 0;
    size_t len = strlen(s);
    for (size_t i = 0; !magnet && i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return RILL_EMAGNET; /* a bare hash, nothing else */
    struct rill_buf uri;
    rill_buf_init(&uri, 16384);
    if (magnet)
        rill_buf_append(&uri, s, len);
    else
        rill_buf_appendf(&uri, "magnet:?xt=urn:btih:%s", s);
    struct rill_magnet m;
    int rc = uri.failed ? RILL_EMAGNET
                        : rill_magnet_parse(&m, (const char *)uri.data, uri.len, NULL);
    if (rc == 0) {
        memcpy(ih, m.info_hash, RILL_SHA1_LEN);
        rill_magnet_free(&m);
    }
    rill_buf_free(&uri);
    return rc;
}

static int check_put(struct dht_args *a)
{
    size_t len = strlen(a->value);
    size_t enc = len;
    if (!a->raw_value) /* a string: "LEN:" first */
        for (size_t n = len, digits = 1; ; n /= 10, digits++)
            if (n < 10) {
                enc += digits + 1;
                break;
            }
    if (enc > RILL_DHT_ITEM_VALUE_MAX)
        return cli_bad_value("dht", "VALUE", "...", "an item holds at most 1000 bytes of bencode");
    if (!a->key_path && (a->salt || a->has_seq))
        return cli_bad_value("dht", "put", a->value, "--salt and --seq need --key");
    return -1;
}

static int positional(struct dht_args *a, int argc, char **argv)
{
    int n = argc - optind;
    char **p = argv + optind;
    if (n == 0)
        return -1; /* a node */
    a->cmd = p[0];
    int want = strcmp(a->cmd, "get-peers") == 0  ? 2
               : strcmp(a->cmd, "announce") == 0 ? 3
               : strcmp(a->cmd, "stats") == 0    ? 1
               : strcmp(a->cmd, "put") == 0      ? 2
               : strcmp(a->cmd, "get") == 0      ? 2
                                                 : 0;
    if (!want) {
        cli_error("dht: unknown command '%s'", a->cmd);
        return cli_usage_hint("dht");
    }
    if (n != want) {
        cli_error("dht: %s takes %d argument%s", a->cmd, want - 1, want == 2 ? "" : "s");
        return cli_usage_hint("dht");
    }
    if (strcmp(a->cmd, "put") == 0) {
        a->value = p[1];
        return check_put(a);
    }
    if (strcmp(a->cmd, "get") == 0) {
        if (a->key_path || a->has_seq || a->raw_value)
            return cli_bad_value("dht", "get", p[1], "--key, --seq and --bencoded are for put");
        if (rill_unhex(p[1], strlen(p[1]), a->info_hash, RILL_SHA1_LEN) != 0)
            return cli_bad_value("dht", "TARGET", p[1], "not 40 hex digits");
        return -1;
    }
    if (want >= 2 && parse_info_hash(p[1], a->info_hash) != 0)
        return cli_bad_value("dht", "INFOHASH", p[1], "not 40 hex digits, base32 or a magnet link");
    uint64_t v;
    const char *why = NULL;
    if (want == 3 && cli_parse_uint(p[2], 65535, &v, &why))
        return cli_bad_value("dht", "PORT", p[2], why);
    a->announce_port = want == 3 ? (uint16_t)v : 0;
    return -1;
}

/* -1 to go on, else the exit status. */
static int parse_args(struct dht_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->timeout_ms = 30000;
    a->stats_every_ms = 60000;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:46b:jqh", options, NULL)) != -1) {
        int status = parse_one(a, c, optarg);
        if (status >= 0)
            return status;
    }
    if (a->only4 && a->only6) {
        cli_error("dht: --ipv4-only and --ipv6-only exclude each other");
        return cli_usage_hint("dht");
    }
    if (a->state && a->no_state) {
        cli_error("dht: --state and --no-state exclude each other");
        return cli_usage_hint("dht");
    }
    int st = positional(a, argc, argv);
    if (st >= 0)
        return st;
    if (!a->port_set)
        a->port = a->cmd ? 0 : 6881;
    return -1;
}

int cli_cmd_dht(int argc, char **argv)
{
    struct dht_args a;
    int status = parse_args(&a, argc, argv);
    if (status >= 0)
        return status;
    signal(SIGPIPE, SIG_IGN);
    return cli_dht_run(&a);
}
