/* rill tracker: serve librill's tracker (HTTP and UDP) until a signal.
 * SIGHUP reloads the whitelist; SIGINT or SIGTERM stop. */
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: rill tracker [--http ADDR:PORT] [--udp ADDR:PORT] [OPTIONS]\n"
    "Run a BitTorrent tracker: peers announce over HTTP (/announce, /scrape)\n"
    "or UDP (BEP 15) and get random peers of their torrent. /stats gives the\n"
    "counts as JSON, / a status page. With neither --http nor --udp, both\n"
    "listen on 0.0.0.0:6969.\n"
    "\n"
    "      --http ADDR:PORT    HTTP address, e.g. 127.0.0.1:6969 or [::1]:6969\n"
    "      --udp ADDR:PORT     UDP address (port 0: any free port)\n"
    "      --interval T        re-announce interval told to peers (default 30m)\n"
    "      --min-interval T    the shortest one allowed (default: half of it)\n"
    "      --grace T           silence past the interval before a peer is\n"
    "                          dropped (default: half the interval)\n"
    "      --whitelist FILE    serve only these info-hashes (40 hex digits a\n"
    "                          line); SIGHUP reloads it\n"
    "      --max-torrents N    torrents tracked at once (default 100000)\n"
    "      --max-peers N       peers per torrent and address family (default\n"
    "                          100000); newcomers past it get peers, unlisted\n"
    "      --idle-timeout T    drop an HTTP client silent this long (default 15s)\n"
    "  -q, --quiet             no log lines\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: 0 stopped by a signal, 2 usage error, 3 bad whitelist,\n"
    "4 cannot listen.\n";

struct tracker_args {
    const char *http, *udp, *whitelist;
    uint64_t interval_ms, min_interval_ms, grace_ms, idle_ms, max_torrents, max_peers;
    bool quiet;
};

static const struct option options[] = {
    {"http", required_argument, NULL, 'H'},        {"udp", required_argument, NULL, 'U'},
    {"interval", required_argument, NULL, 'I'},    {"min-interval", required_argument, NULL, 'M'},
    {"grace", required_argument, NULL, 'G'},       {"whitelist", required_argument, NULL, 'W'},
    {"max-torrents", required_argument, NULL, 'T'}, {"max-peers", required_argument, NULL, 'P'},
    {"idle-timeout", required_argument, NULL, 'D'}, {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0},
};

static int parse_one(struct tracker_args *a, int c, const char *val)
{
    const char *why = NULL;
    switch (c) {
    case 'H': a->http = val; return -1;
    case 'U': a->udp = val; return -1;
    case 'W': a->whitelist = val; return -1;
    case 'q': a->quiet = true; return -1;
    case 'I':
        return cli_parse_duration(val, &a->interval_ms, &why) ? cli_bad_value("tracker", "--interval", val, why)
                                                               : -1;
    case 'M':
        return cli_parse_duration(val, &a->min_interval_ms, &why)
                   ? cli_bad_value("tracker", "--min-interval", val, why)
                   : -1;
    case 'G':
        return cli_parse_duration(val, &a->grace_ms, &why) ? cli_bad_value("tracker", "--grace", val, why) : -1;
    case 'D':
        return cli_parse_duration(val, &a->idle_ms, &why) ? cli_bad_value("tracker", "--idle-timeout", val, why)
                                                           : -1;
    case 'T':
        return cli_parse_uint(val, UINT32_MAX, &a->max_torrents, &why)
                   ? cli_bad_value("tracker", "--max-torrents", val, why)
                   : -1;
    case 'P':
        return cli_parse_uint(val, UINT32_MAX, &a->max_peers, &why)
                   ? cli_bad_value("tracker", "--max-peers", val, why)
                   : -1;
    case 'h':
        fputs(usage_text, stdout);
        return CLI_EXIT_OK;
    default:
        return cli_usage_hint("tracker");
    }
}

/* -1 to go on, else the exit status. */
static int parse_args(struct tracker_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
        int status = parse_one(a, c, optarg);
        if (status >= 0)
            return status;
    }
    if (optind < argc) {
        cli_error("tracker: unexpected argument '%s'", argv[optind]);
        return cli_usage_hint("tracker");
    }
    if (!a->http && !a->udp)
        a->http = a->udp = "0.0.0.0:6969";
    return -1;
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    cli_log("%s", line);
}

struct tracker_run {
    struct event_base *base;
    struct rill_tracker_server *server;
};

static void on_hup(evutil_socket_t sig, short what, void *ctx)
{
    (void)sig;
    (void)what;
    struct tracker_run *r = ctx;
    struct rill_error err = {0};
    if (rill_tracker_server_reload(r->server, &err) != 0)
        cli_error("tracker: whitelist not reloaded (the old one stays): %s", err.msg);
}

static void on_stop(evutil_socket_t sig, short what, void *ctx)
{
    (void)sig;
    (void)what;
    struct tracker_run *r = ctx;
    event_base_loopexit(r->base, NULL);
}

static int serve(const struct tracker_args *a)
{
    struct rill_tracker_server_opts o = {
        .http = a->http, .udp = a->udp, .whitelist = a->whitelist,
        .interval_s = (uint32_t)(a->interval_ms / 1000),
        .min_interval_s = (uint32_t)(a->min_interval_ms / 1000),
        .grace_s = (uint32_t)(a->grace_ms / 1000),
        .idle_timeout_s = (uint32_t)((a->idle_ms + 999) / 1000),
        .max_torrents = (uint32_t)a->max_torrents,
        .max_peers_per_torrent = (uint32_t)a->max_peers,
        .log = a->quiet ? NULL : log_line,
    };
    struct tracker_run r = {.base = event_base_new()};
    if (!r.base) {
        cli_error("tracker: cannot set up the event loop");
        return CLI_EXIT_IO;
    }
    struct rill_error err = {0};
    int rc = rill_tracker_server_new(&r.server, r.base, &o, &err);
    if (rc) {
        cli_error("tracker: %s", err.msg[0] ? err.msg : rill_strerror(rc));
        event_base_free(r.base);
        if (rc == RILL_EINVAL)
            return cli_usage_hint("tracker");
        return rc == RILL_ESYNTAX || rc == RILL_ENOENT || rc == RILL_ELIMIT ? CLI_EXIT_INVALID
                                                                           : CLI_EXIT_IO;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event *ev[3] = {evsignal_new(r.base, SIGHUP, on_hup, &r),
                           evsignal_new(r.base, SIGINT, on_stop, &r),
                           evsignal_new(r.base, SIGTERM, on_stop, &r)};
    for (int i = 0; i < 3; i++)
        if (ev[i])
            evsignal_add(ev[i], NULL);
    int status = event_base_dispatch(r.base) < 0 ? CLI_EXIT_IO : CLI_EXIT_OK;
    if (!a->quiet) {
        struct rill_tracker_server_stats st;
        rill_tracker_server_stats(r.server, &st);
        log_line(NULL, "stopping");
        fprintf(stderr, "served %" PRIu64 " announces and %" PRIu64 " scrapes; %" PRIu64
                " torrents, %" PRIu64 " peers at the end\n",
                st.announces, st.scrapes, st.torrents, st.seeders + st.leechers);
    }
    for (int i = 0; i < 3; i++)
        if (ev[i])
            event_free(ev[i]);
    rill_tracker_server_free(r.server);
    event_base_free(r.base);
    return status;
}

int cli_cmd_tracker(int argc, char **argv)
{
    struct tracker_args a;
    int status = parse_args(&a, argc, argv);
    return status >= 0 ? status : serve(&a);
}
