/* rill get: download a torrent, and the options and event loop it shares
 * with rill seed (cli/cmd_seed.c). The CLI owns the event_base and the
 * signals; librill's session does the rest. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: rill get FILE.torrent [-o DIR] [OPTIONS]\n"
    "Download a torrent into DIR (default: the current directory), verifying\n"
    "every piece, and exit when it is complete. Stopped and run again, it\n"
    "resumes where it was. With --seed it stays and uploads afterwards.\n"
    "\n"
    "  -o, --output DIR        download directory; the content goes to DIR/NAME\n"
    "      --seed              keep seeding after the download, until Ctrl-C\n"
    "      --ratio R           ... or until R times the size was uploaded (implies --seed)\n"
    "      --seed-time T       ... or until T has passed, e.g. 30m, 2h (implies --seed)\n"
    "      --only GLOB         download only the files whose path matches GLOB\n"
    "      --sequential        fetch pieces in order (for playing while downloading)\n"
    "      --picker P          rarest (default), random or sequential\n"
    "      --no-endgame        no duplicate requests for the last blocks\n"
    "      --recheck           hash the data already there even if the resume file\n"
    "                          is valid\n"
    CLI_XFER_SHARED_HELP
    "Exit status: 0 complete (or seeding ended), 1 stopped before completion,\n"
    "2 usage error, 3 invalid torrent or magnet link, 4 I/O error.\n";

#define DEFAULT_PORT 6881
#define MAX_RATIO 1000000.0
#define COMPLETE_WAIT_MS 2000 /* for the 'completed' and 'stopped' announces */
#define SIGNAL_WAIT_MS 3000   /* for the 'stopped' announces after Ctrl-C */

enum {
    OPT_SEED = 256,
    OPT_RATIO,
    OPT_SEED_TIME,
    OPT_ONLY,
    OPT_SEQUENTIAL,
    OPT_RECHECK,
    OPT_PEER,
    OPT_NO_TRACKERS,
    OPT_PORT,
    OPT_BIND,
    OPT_MAX_UP,
    OPT_MAX_DOWN,
    OPT_MAX_PEERS,
    OPT_MAX_PEERS_TOTAL,
    OPT_JSON_LOG,
    OPT_PICKER,
    OPT_NO_ENDGAME,
    OPT_CHOKER,
    OPT_UNCHOKE_SLOTS,
    OPT_NO_OPTIMISTIC,
    OPT_NO_UPLOAD,
};

/* rill get's own options come first; rill seed takes the rest. */
#define GET_ONLY_OPTIONS 7
static const struct option options[] = {
    {"output", required_argument, NULL, 'o'},
    {"save-torrent", required_argument, NULL, CLI_OPT_SAVE_TORRENT},
    {"seed", no_argument, NULL, OPT_SEED},
    {"only", required_argument, NULL, OPT_ONLY},
    {"sequential", no_argument, NULL, OPT_SEQUENTIAL},
    {"picker", required_argument, NULL, OPT_PICKER},
    {"no-endgame", no_argument, NULL, OPT_NO_ENDGAME},
    {"choker", required_argument, NULL, OPT_CHOKER},
    {"unchoke-slots", required_argument, NULL, OPT_UNCHOKE_SLOTS},
    {"no-optimistic", no_argument, NULL, OPT_NO_OPTIMISTIC},
    {"no-upload", no_argument, NULL, OPT_NO_UPLOAD},
    {"ratio", required_argument, NULL, OPT_RATIO},
    {"seed-time", required_argument, NULL, OPT_SEED_TIME},
    {"recheck", no_argument, NULL, OPT_RECHECK},
    {"peer", required_argument, NULL, OPT_PEER},
    {"no-trackers", no_argument, NULL, OPT_NO_TRACKERS},
    {"no-dht", no_argument, NULL, CLI_OPT_NO_DHT},
    {"dht-port", required_argument, NULL, CLI_OPT_DHT_PORT},
    {"bootstrap", required_argument, NULL, CLI_OPT_BOOTSTRAP},
    {"dht-state", required_argument, NULL, CLI_OPT_DHT_STATE},
    {"no-pex", no_argument, NULL, CLI_OPT_NO_PEX},
    {"no-lsd", no_argument, NULL, CLI_OPT_NO_LSD},
    {"port", required_argument, NULL, OPT_PORT},
    {"bind", required_argument, NULL, OPT_BIND},
    {"max-up", required_argument, NULL, OPT_MAX_UP},
    {"max-down", required_argument, NULL, OPT_MAX_DOWN},
    {"max-peers", required_argument, NULL, OPT_MAX_PEERS},
    {"max-peers-total", required_argument, NULL, OPT_MAX_PEERS_TOTAL},
    {"json-log", no_argument, NULL, OPT_JSON_LOG},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* ---------------------------------------------------------------- options */

/* A count of connections: 1 to 65535. */
static int parse_count(const struct cli_xfer_args *a, const char *opt, const char *val,
                       uint64_t *out)
{
    const char *why;
    if (cli_parse_uint(val, 65535, out, &why) != 0)
        return cli_bad_value(a->cmd, opt, val, why);
    if (*out == 0)
        return cli_bad_value(a->cmd, opt, val, "must be at least 1");
    return -1;
}

static int parse_rate(const struct cli_xfer_args *a, const char *opt, const char *val,
                      uint64_t *out)
{
    const char *why;
    if (cli_parse_size(val, out, &why) != 0)
        return cli_bad_value(a->cmd, opt, val, why);
    return -1;
}

/* The seeding limits; either one implies --seed. */
static int parse_limit(struct cli_xfer_args *a, int c, const char *val)
{
    const char *why;
    if (c == OPT_RATIO) {
        if (cli_parse_ratio(val, MAX_RATIO, &a->ratio, &why) != 0)
            return cli_bad_value(a->cmd, "--ratio", val, why);
        if (a->ratio <= 0.0)
            return cli_bad_value(a->cmd, "--ratio", val, "must be more than 0");
    } else {
        if (cli_parse_duration(val, &a->seed_time_ms, &why) != 0)
            return cli_bad_value(a->cmd, "--seed-time", val, why);
        if (a->seed_time_ms == 0)
            return cli_bad_value(a->cmd, "--seed-time", val, "must be more than 0");
    }
    a->seed = true;
    return -1;
}

/* The index of `val` among `names` (a NULL-terminated list), for an option
 * that takes one word; -1 if none matches. */
static int word_index(const char *val, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(val, names[i]) == 0)
            return i;
    return -1;
}

static int parse_word(struct cli_xfer_args *a, const char *opt, const char *val,
                      const char *const *names, int *out)
{
    int i = word_index(val, names);
    if (i < 0)
        return cli_bad_value(a->cmd, opt, val, "not one of the choices in --help");
    *out = i;
    return -1;
}

static const char *const picker_names[] = {"rarest", "random", "sequential", NULL};
static const char *const choker_names[] = {"tit-for-tat", "round-robin", "none", NULL};

/* Applies one option: -1 to go on, else the exit status. */
static int apply_option(struct cli_xfer_args *a, int c, const char *val, const char *usage)
{
    const char *why;
    switch (c) {
    case 'o': a->dir = val; return -1;
    case OPT_SEED: a->seed = true; return -1;
    case OPT_RATIO:
    case OPT_SEED_TIME: return parse_limit(a, c, val);
    case OPT_ONLY: a->only = val; return -1;
    case OPT_SEQUENTIAL: a->picker = RILL_PICK_SEQUENTIAL; return -1;
    case OPT_PICKER: return parse_word(a, "--picker", val, picker_names, &a->picker);
    case OPT_NO_ENDGAME: a->no_endgame = true; return -1;
    case OPT_CHOKER: return parse_word(a, "--choker", val, choker_names, &a->choker);
    case OPT_UNCHOKE_SLOTS: return parse_count(a, "--unchoke-slots", val, &a->unchoke_slots);
    case OPT_NO_OPTIMISTIC: a->no_optimistic = true; return -1;
    case OPT_NO_UPLOAD: a->no_upload = true; return -1;
    case OPT_RECHECK: a->recheck = true; return -1;
    case OPT_PEER:
        if (cli_check_peer(val, &why) != 0)
            return cli_bad_value(a->cmd, "--peer", val, why);
        a->peers[a->peer_count++] = val;
        return -1;
    case OPT_NO_TRACKERS: a->no_trackers = true; return -1;
    case OPT_PORT:
        a->port_given = true;
        if (cli_parse_uint(val, 65535, &a->port, &why) != 0)
            return cli_bad_value(a->cmd, "--port", val, why);
        return -1;
    case OPT_BIND: a->bind = val; return -1;
    case OPT_MAX_UP: return parse_rate(a, "--max-up", val, &a->max_up);
    case OPT_MAX_DOWN: return parse_rate(a, "--max-down", val, &a->max_down);
    case OPT_MAX_PEERS: return parse_count(a, "--max-peers", val, &a->max_peers);
    case OPT_MAX_PEERS_TOTAL: return parse_count(a, "--max-peers-total", val, &a->max_peers_total);
    case OPT_JSON_LOG: a->json_log = true; return -1;
    case 'q': a->quiet = true; return -1;
    case 'v': a->verbose += a->verbose < 2; return -1;
    case 'h': fputs(usage, stdout); return CLI_EXIT_OK;
    default: {
        int st = cli_xfer_dht_option(a, c, val);
        return st ? st : cli_usage_hint(a->cmd);
    }
    }
}

int cli_xfer_parse(struct cli_xfer_args *a, int argc, char **argv, bool seed, const char *usage)
{
    memset(a, 0, sizeof *a);
    a->cmd = seed ? "seed" : "get";
    a->dir = ".";
    a->seed = seed;
    a->port = DEFAULT_PORT;
    /* Every --peer or --bootstrap is one argument: argc bounds them. */
    a->peers = calloc((size_t)argc + 1, sizeof *a->peers);
    a->boot = calloc((size_t)argc + 1, sizeof *a->boot);
    if (!a->peers || !a->boot) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    int c;
    while ((c = getopt_long(argc, argv, seed ? "qvh" : "o:qvh",
                            seed ? options + GET_ONLY_OPTIONS : options, NULL)) != -1) {
        int status = apply_option(a, c, optarg, usage);
        if (status >= 0)
            return status;
    }
    int want = seed ? 2 : 1;
    if (argc - optind != want) {
        if (argc - optind > want)
            cli_error("%s: too many arguments", a->cmd);
        else
            cli_error(seed ? "seed: expected FILE.torrent and DIR"
                           : "get: missing FILE.torrent or a magnet link");
        return cli_usage_hint(a->cmd);
    }
    a->torrent = argv[optind];
    if (seed)
        a->dir = argv[optind + 1];
    return -1;
}

/* --------------------------------------------------------------- the loop */

struct xfer {
    const struct cli_xfer_args *a;
    const struct rill_metainfo *mi; /* NULL while a magnet's metadata is fetched */
    struct event_base *base;
    struct rill_dht *dht;
    struct rill_session *session;
    struct rill_torrent *t;
    struct event *sigint, *sigterm, *tick, *stop_ev, *deadline;
    struct cli_status status;
    bool complete; /* the wanted data was verified */
    bool stopping; /* rill_torrent_stop was asked for */
    bool stopped;  /* on_stopped came */
    bool warned_partial;
    int signals;
    int error;          /* from on_stopped */
    uint64_t wait_ms;   /* for trackers after the stop */
    const char *reason; /* why the run ended, for the log */
};

static bool has_trackers(const struct xfer *x)
{
    size_t n = x->mi ? x->mi->tier_count : x->a->magnet->tracker_count;
    return !x->a->no_trackers && n > 0;
}

/* A line for people on stderr, unless --quiet. */
static void say(struct xfer *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct xfer *x, const char *fmt, ...)
{
    if (x->a->quiet)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cli_status_message(&x->status, text);
}

/* Asks the torrent to stop (announce 'stopped', save resume data) from the
 * loop rather than from inside a librill callback; the loop then ends when
 * on_stopped comes or after `wait_ms`, whichever is first. */
static void begin_stop(struct xfer *x, const char *reason, uint64_t wait_ms)
{
    if (x->stopping)
        return;
    x->stopping = true;
    x->reason = reason;
    x->wait_ms = has_trackers(x) ? wait_ms : 0;
    event_active(x->stop_ev, EV_TIMEOUT, 1);
}

static void on_stop_ev(evutil_socket_t fd, short what, void *ctx)
{
    struct xfer *x = ctx;
    (void)fd;
    (void)what;
    if (x->stopped || !x->t) {
        event_base_loopbreak(x->base);
        return;
    }
    rill_torrent_stop(x->t);
    if (x->stopped || x->wait_ms == 0) {
        event_base_loopbreak(x->base);
        return;
    }
    struct timeval tv = {(time_t)(x->wait_ms / 1000), (suseconds_t)(x->wait_ms % 1000 * 1000)};
    evtimer_add(x->deadline, &tv);
}

static void on_deadline(evutil_socket_t fd, short what, void *ctx)
{
    struct xfer *x = ctx;
    (void)fd;
    (void)what;
    event_base_loopbreak(x->base);
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
    struct xfer *x = ctx;
    (void)what;
    if (++x->signals > 1 || x->stopping) {
        /* The user does not want to wait: resume data is saved on the way
         * out without waiting for trackers, and a third signal kills. */
        say(x, "quitting");
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        event_base_loopbreak(x->base);
        return;
    }
    say(x, "%s: stopping (again to quit at once)", sig == SIGINT ? "interrupted" : "terminated");
    begin_stop(x, "signal", SIGNAL_WAIT_MS);
}

static void check_partial_seed(struct xfer *x, const struct rill_torrent_stats *st)
{
    /* rill seed on incomplete data downloads the rest first; say so once. */
    if (strcmp(x->a->cmd, "seed") != 0 || x->warned_partial || st->state != RILL_T_DOWNLOADING)
        return;
    x->warned_partial = true;
    char a[CLI_SIZE_BUF], b[CLI_SIZE_BUF];
    say(x, "warning: %s holds only %s of %s; downloading the rest before seeding", x->a->dir,
        cli_fmt_size(st->have_wanted, a), cli_fmt_size(st->total_wanted, b));
}

static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
    struct xfer *x = ctx;
    (void)fd;
    (void)what;
    if (!x->t || x->stopped || x->stopping)
        return;
    struct rill_torrent_stats st;
    rill_torrent_stats(x->t, &st);
    check_partial_seed(x, &st);
    cli_status_update(&x->status, &st, cli_now_ms());
}

static void on_complete(void *ctx, struct rill_torrent *t)
{
    struct xfer *x = ctx;
    if (x->complete)
        return;
    x->complete = true;
    struct rill_torrent_stats st;
    rill_torrent_stats(t, &st);
    uint64_t elapsed = cli_now_ms() - x->status.start_ms;
    if (x->a->json_log)
        cli_status_json(stdout, "complete", NULL, &st, elapsed);
    cli_status_update(&x->status, &st, cli_now_ms());
    char a[CLI_SIZE_BUF], b[CLI_SIZE_BUF], c[CLI_SIZE_BUF];
    double secs = (double)elapsed / 1000.0;
    if (st.downloaded == 0)
        say(x, "complete: all %" PRIu32 " pieces verified, nothing to download", st.piece_count);
    else
        say(x, "complete: %s downloaded in %s (%s), all %" PRIu32 " pieces verified",
            cli_fmt_size(st.downloaded, a), cli_fmt_duration((uint64_t)secs, b),
            cli_fmt_rate(secs > 0 ? (double)st.downloaded / secs : 0.0, c), st.piece_count);
    if (!x->a->seed)
        begin_stop(x, "complete", COMPLETE_WAIT_MS);
    else
        say(x, "seeding until %s",
            x->a->ratio > 0 || x->a->seed_time_ms ? "the ratio or time limit, or Ctrl-C"
                                                  : "Ctrl-C");
}

/* Starts a one-line JSON event on stdout: {"event": EVENT, "t_ms": ...;
 * the caller adds its keys, then cli_json_end and cli_json_finish. */
static void json_event(const struct xfer *x, struct cli_json *j, const char *event)
{
    cli_json_init(j, stdout);
    cli_json_object_compact(j);
    cli_json_key(j, "event");
    cli_json_cstr(j, event);
    cli_json_key(j, "t_ms");
    cli_json_u64(j, cli_now_ms() - x->status.start_ms);
}

static void on_metadata(void *ctx, struct rill_torrent *t, const char *path)
{
    struct xfer *x = ctx;
    x->mi = rill_torrent_metainfo(t);
    if (x->a->json_log) {
        struct cli_json j;
        json_event(x, &j, "metadata");
        cli_json_key(&j, "name");
        cli_json_cstr(&j, x->mi->name);
        cli_json_key(&j, "torrent");
        cli_json_cstr(&j, path);
        cli_json_key(&j, "total_size");
        cli_json_u64(&j, x->mi->total_size);
        cli_json_key(&j, "pieces");
        cli_json_u64(&j, x->mi->piece_count);
        cli_json_end(&j);
        cli_json_finish(&j);
        fflush(stdout);
    }
    char a[CLI_SIZE_BUF];
    say(x, "metadata: %s, %s in %" PRIu32 " pieces; saved as %s", x->mi->name,
        cli_fmt_size(x->mi->total_size, a), x->mi->piece_count, path);
}

static void on_stopped(void *ctx, struct rill_torrent *t, int error)
{
    struct xfer *x = ctx;
    (void)t;
    x->stopped = true;
    if (error < 0 && x->error == 0)
        x->error = error;
    if (!x->reason)
        x->reason = error < 0 ? "error" : "seed_limit";
    /* librill calls this once the 'stopped' announces are done, whoever
     * stopped the torrent: nothing left to wait for. */
    event_base_loopbreak(x->base);
}

/* Session log lines: JSON on stdout as they come, or text for people. */
static void on_log(void *ctx, const char *line)
{
    struct xfer *x = ctx;
    if (x->a->json_log) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        fwrite(line, 1, n, stdout);
        putchar('\n');
        fflush(stdout);
    } else if (!x->a->quiet) {
        cli_status_message(&x->status, line);
    }
}

/* ------------------------------------------------------------ set up, run */

static int make_events(struct xfer *x)
{
    x->base = event_base_new();
    if (!x->base)
        return -1;
    x->sigint = evsignal_new(x->base, SIGINT, on_signal, x);
    x->sigterm = evsignal_new(x->base, SIGTERM, on_signal, x);
    x->tick = event_new(x->base, -1, EV_PERSIST, on_tick, x);
    x->stop_ev = event_new(x->base, -1, 0, on_stop_ev, x);
    x->deadline = evtimer_new(x->base, on_deadline, x);
    if (!x->sigint || !x->sigterm || !x->tick || !x->stop_ev || !x->deadline)
        return -1;
    struct timeval second = {1, 0};
    if (evsignal_add(x->sigint, NULL) != 0 || evsignal_add(x->sigterm, NULL) != 0 ||
        evtimer_add(x->tick, &second) != 0)
        return -1;
    return 0;
}

/* Our events go before the session is freed: rill_session_free runs the
 * loop once more, and a tick then would read a torrent being freed. */
static void free_events(struct xfer *x)
{
    struct event **evs[] = {&x->sigint, &x->sigterm, &x->tick, &x->stop_ev, &x->deadline};
    for (size_t i = 0; i < CLI_ARRAY_LEN(evs); i++) {
        if (*evs[i])
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
}

/* An error that ended a running torrent: whatever librill says, it is not
 * the user's command line. */
static int runtime_exit(int err)
{
    int status = cli_exit_for(err);
    return status == CLI_EXIT_OK || status == CLI_EXIT_USAGE ? CLI_EXIT_IO : status;
}

static int open_session(struct xfer *x)
{
    const struct cli_xfer_args *a = x->a;
    int st = cli_xfer_dht_open(a, x->base, &x->dht);
    if (st >= 0)
        return st;
    struct rill_session_opts so = {
        .dht = x->dht,
        .lsd = !a->no_lsd,
        .bind = a->bind,
        .port = (uint16_t)a->port,
        .max_up = a->max_up,
        .max_down = a->max_down,
        .max_peers = (unsigned)a->max_peers_total,
        .log = a->quiet && !a->json_log ? NULL : on_log,
        .log_ctx = x,
        .json_log = a->json_log,
        .verbosity = a->verbose,
    };
    int rc = rill_session_new(&x->session, x->base, &so);
    /* The default port is busy (another client, another rill): like other
     * clients, take the next ones, then any free port. An explicit --port
     * is the user's word and is not changed. */
    for (unsigned i = 1; rc == RILL_EIO && !a->port_given && i <= 9; i++) {
        so.port = i < 9 ? (uint16_t)(DEFAULT_PORT + i) : 0;
        rc = rill_session_new(&x->session, x->base, &so);
    }
    if (rc < 0) {
        cli_error("%s: cannot start the session on %s port %" PRIu64 ": %s", a->cmd,
                  a->bind ? a->bind : "0.0.0.0", a->port, rill_strerror(rc));
        return rc == RILL_EINVAL ? CLI_EXIT_USAGE : runtime_exit(rc);
    }
    return -1;
}

static int add_torrent(struct xfer *x)
{
    const struct cli_xfer_args *a = x->a;
    struct rill_torrent_params tp = {
        .mi = x->mi,
        .dir = a->dir,
        .seed = a->seed,
        .seed_ratio = a->ratio,
        .seed_time_ms = a->seed_time_ms,
        .trust_resume = !a->recheck,
        .only = a->only,
        .pick_mode = (enum rill_pick_mode)a->picker,
        .no_endgame = a->no_endgame,
        .choke_mode = (enum rill_choke_mode)a->choker,
        .unchoke_slots = (unsigned)a->unchoke_slots,
        .no_optimistic = a->no_optimistic,
        .no_upload = a->no_upload,
        .max_peers = (unsigned)a->max_peers,
        .no_trackers = a->no_trackers,
        .magnet = a->magnet,
        .torrent_out = a->torrent_out,
        .no_pex = a->no_pex,
        .on_metadata = on_metadata,
        .on_complete = on_complete,
        .on_stopped = on_stopped,
        .ctx = x,
    };
    int rc = rill_session_add(x->session, &tp, &x->t);
    if (rc < 0) {
        cli_error("%s: cannot start in %s: %s", a->torrent, a->dir, rill_strerror(rc));
        return cli_exit_for(rc) == CLI_EXIT_OK ? CLI_EXIT_IO : cli_exit_for(rc);
    }
    for (size_t i = 0; i < a->peer_count; i++) {
        rc = rill_torrent_add_peer(x->t, a->peers[i]);
        if (rc < 0) {
            cli_error("%s: --peer '%s': %s", a->cmd, a->peers[i], rill_strerror(rc));
            return rc == RILL_EINVAL ? CLI_EXIT_USAGE : runtime_exit(rc);
        }
    }
    return -1;
}

static void magnet_start(struct xfer *x, uint16_t port);

/* What was started, for people and for programs. */
static void announce_start(struct xfer *x)
{
    const struct rill_metainfo *mi = x->mi;
    uint16_t port = rill_session_port(x->session);
    if (!mi) {
        magnet_start(x, port);
        return;
    }
    if (x->a->json_log) {
        char hex[2 * RILL_SHA1_LEN + 1];
        rill_hex(mi->info_hash, RILL_SHA1_LEN, hex);
        struct cli_json j;
        json_event(x, &j, "started");
        cli_json_key(&j, "command");
        cli_json_cstr(&j, x->a->cmd);
        cli_json_key(&j, "name");
        cli_json_cstr(&j, mi->name);
        cli_json_key(&j, "info_hash");
        cli_json_cstr(&j, hex);
        cli_json_key(&j, "dir");
        cli_json_cstr(&j, x->a->dir);
        cli_json_key(&j, "port");
        cli_json_u64(&j, port);
        cli_json_key(&j, "total_size");
        cli_json_u64(&j, mi->total_size);
        cli_json_key(&j, "pieces");
        cli_json_u64(&j, mi->piece_count);
        cli_json_key(&j, "seed");
        cli_json_bool(&j, x->a->seed);
        cli_json_end(&j);
        cli_json_finish(&j);
        fflush(stdout);
    }
    char a[CLI_SIZE_BUF];
    say(x, "%s: %s in %" PRIu32 " pieces, in %s", mi->name, cli_fmt_size(mi->total_size, a),
        mi->piece_count, x->a->dir);
}

/* A magnet: nothing known yet but the info-hash. */
static void magnet_start(struct xfer *x, uint16_t port)
{
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(x->a->magnet->info_hash, RILL_SHA1_LEN, hex);
    if (x->a->json_log) {
        struct cli_json j;
        json_event(x, &j, "started");
        cli_json_key(&j, "command");
        cli_json_cstr(&j, x->a->cmd);
        cli_json_key(&j, "info_hash");
        cli_json_cstr(&j, hex);
        cli_json_key(&j, "magnet");
        cli_json_bool(&j, true);
        cli_json_key(&j, "dir");
        cli_json_cstr(&j, x->a->dir);
        cli_json_key(&j, "port");
        cli_json_u64(&j, port);
        cli_json_end(&j);
        cli_json_finish(&j);
        fflush(stdout);
    }
    say(x, "magnet %s: fetching the metadata from peers (%s), into %s", hex,
        x->dht ? "trackers, DHT and peer exchange" : "trackers and peer exchange", x->a->dir);
}

/* After the loop: the last word and the exit status. */
static int finish(struct xfer *x)
{
    struct rill_torrent_stats st;
    rill_torrent_stats(x->t, &st);
    cli_status_clear(&x->status);
    int status = CLI_EXIT_OK;
    const char *reason = x->reason ? x->reason : "signal";
    if (x->error < 0) {
        cli_error("%s: stopped by an error: %s", x->a->torrent, rill_strerror(x->error));
        status = runtime_exit(x->error);
        reason = "error";
    } else if (x->reason && strcmp(x->reason, "seed_limit") == 0) {
        char a[CLI_SIZE_BUF];
        say(x, "seeding limit reached: uploaded %s", cli_fmt_size(st.uploaded, a));
    } else if (!x->complete && strcmp(x->a->cmd, "get") == 0) {
        char a[CLI_SIZE_BUF], b[CLI_SIZE_BUF];
        say(x, "stopped with %s of %s; run the same command again to resume",
            cli_fmt_size(st.have_wanted, a), cli_fmt_size(st.total_wanted, b));
        status = CLI_EXIT_PROBLEMS;
    }
    if (x->a->json_log)
        cli_status_json(stdout, "stopped", reason, &st, cli_now_ms() - x->status.start_ms);
    return status;
}

int cli_xfer_run(const struct cli_xfer_args *a, const struct rill_metainfo *mi)
{
    struct xfer x = {.a = a, .mi = a->magnet ? NULL : mi};
    cli_status_init(&x.status, a->quiet, a->json_log, cli_now_ms());
    /* A peer that closes its socket must be an error on write, not death. */
    signal(SIGPIPE, SIG_IGN);
    int status = -1;
    if (make_events(&x) != 0) {
        cli_error("%s: cannot set up the event loop", a->cmd);
        status = CLI_EXIT_IO;
    }
    if (status < 0)
        status = open_session(&x);
    if (status < 0)
        status = add_torrent(&x);
    if (status < 0) {
        announce_start(&x);
        on_tick(-1, 0, &x);
        if (event_base_dispatch(x.base) < 0) {
            cli_error("%s: the event loop failed", a->cmd);
            status = CLI_EXIT_IO;
        } else {
            status = finish(&x);
        }
    }
    cli_status_clear(&x.status);
    free_events(&x);
    x.t = NULL;
    /* Closes the torrent too, saving its resume data. */
    if (x.session)
        rill_session_free(x.session);
    rill_dht_free(x.dht); /* after the session, which used it */
    if (x.base)
        event_base_free(x.base);
    return status;
}

int cli_xfer_load(struct cli_xfer_args *a, struct rill_metainfo *mi)
{
    if (strncasecmp(a->torrent, "magnet:", 7) == 0) {
        if (strcmp(a->cmd, "seed") == 0) {
            cli_error("seed: a magnet link holds no data to seed: use rill get first");
            return CLI_EXIT_USAGE;
        }
        struct rill_error err = {0};
        a->magnet = calloc(1, sizeof *a->magnet);
        int rc = a->magnet ? rill_magnet_parse(a->magnet, a->torrent, strlen(a->torrent), &err)
                           : RILL_ENOMEM;
        if (rc < 0)
            return cli_report("magnet link", rc, &err);
        return -1;
    }
    struct rill_error err = {0};
    int rc = rill_metainfo_load(mi, a->torrent, &err);
    if (rc < 0)
        return cli_report(a->torrent, rc, &err);
    return -1;
}

int cli_cmd_get(int argc, char **argv)
{
    struct cli_xfer_args a;
    int status = cli_xfer_parse(&a, argc, argv, false, usage_text);
    struct rill_metainfo mi = {0};
    if (status < 0)
        status = cli_xfer_load(&a, &mi);
    if (status < 0)
        status = cli_xfer_run(&a, &mi);
    rill_metainfo_free(&mi);
    cli_xfer_free(&a);
    return status;
}

void cli_xfer_free(struct cli_xfer_args *a)
{
    free(a->peers);
    free(a->boot);
    if (a->magnet)
        rill_magnet_free(a->magnet);
    free(a->magnet);
}
