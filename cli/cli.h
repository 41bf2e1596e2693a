/* Shared helpers of the rill command-line tool: exit codes, messages, human
 * sizes, safe printing, a JSON writer and a progress display. The CLI only
 * parses arguments and prints; everything else is librill (DESIGN.md). */
#ifndef RILL_CLI_H
#define RILL_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "rill.h"

#define CLI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses, documented in `rill --help` and rill(1). */
enum cli_exit {
    CLI_EXIT_OK = 0,       /* success */
    CLI_EXIT_PROBLEMS = 1, /* verify found missing or bad data */
    CLI_EXIT_USAGE = 2,    /* bad command line */
    CLI_EXIT_INVALID = 3,  /* invalid input: a bad torrent or magnet link */
    CLI_EXIT_IO = 4,       /* I/O or system error */
};

/* A subcommand: argv[0] is "rill NAME" (so getopt's messages name it), the
 * return value is the process exit status. */
int cli_cmd_create(int argc, char **argv);
int cli_cmd_info(int argc, char **argv);
int cli_cmd_verify(int argc, char **argv);
int cli_cmd_get(int argc, char **argv);
int cli_cmd_seed(int argc, char **argv);
int cli_cmd_tracker(int argc, char **argv);
int cli_cmd_model(int argc, char **argv);
int cli_cmd_swarm(int argc, char **argv);
int cli_cmd_sim(int argc, char **argv);
int cli_cmd_dht(int argc, char **argv);
int cli_cmd_sim_dht(int argc, char **argv);

/* Pings the DHT nodes nodes[0..n) ("HOST:PORT", names resolved here,
 * blocking), or the well-known routers when n is 0; returns how many pings
 * went out. cli/dht_boot.c */
int cli_dht_bootstrap(struct rill_dht *d, const char *const *nodes, size_t n, bool quiet);

/* ------------------------------------------------------------ messages */

/* Prints "rill: MESSAGE\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "[YYYY-MM-DD HH:MM:SS] MESSAGE\n" on stderr: the log of a
 * long-running command (rill tracker, rill dht). */
void cli_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_vlog(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Prints "Try 'rill CMD --help'." on stderr and returns CLI_EXIT_USAGE;
 * `cmd` may be NULL for the top level. */
int cli_usage_hint(const char *cmd);
/* "rill: CMD: invalid OPT 'VAL': WHY" and the usage hint; returns
 * CLI_EXIT_USAGE. */
int cli_bad_value(const char *cmd, const char *opt, const char *val, const char *why);
/* The exit status that fits a librill error code. */
int cli_exit_for(int err);
/* Reports a librill failure about `what` (a file name or argument):
 * "rill: WHAT: MESSAGE" with the byte offset for parse errors. Returns the
 * exit status from cli_exit_for. */
int cli_report(const char *what, int code, const struct rill_error *err);
/* "key:" padded to a common column on stdout; the caller prints the value.
 * cli_field_str prints a terminal-safe value and a newline. */
void cli_field(const char *key);
void cli_field_str(const char *key, const char *value);
void cli_field_fmt(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flushes stdout and turns a write error into CLI_EXIT_IO. */
int cli_finish(int status);

/* ------------------------------------------------------ sizes and numbers */

#define CLI_SIZE_BUF 32

/* "0 B", "1023 B", "256 KiB", "1.00 GiB", "12.3 MiB": three significant
 * digits in binary units. Returns `buf` (CLI_SIZE_BUF bytes). */
const char *cli_fmt_size(uint64_t bytes, char *buf);
/* The same for a rate: "12.3 MiB/s". */
const char *cli_fmt_rate(double bytes_per_sec, char *buf);
/* Seconds as "42s", "3m07s", "2h05m". */
const char *cli_fmt_duration(uint64_t secs, char *buf);
/* Unix seconds as ISO 8601 UTC "2024-05-01T12:00:00Z"; falls back to the
 * plain number if the value is outside what the C library can convert. */
const char *cli_fmt_date(int64_t unix_secs, char *buf);

/* Parses a byte count: digits with an optional suffix. K, M, G, T (also
 * KB/KiB and lowercase) are powers of 1024; kbit, Mbit, Gbit are decimal
 * bits (as line rates are quoted), rounded down to whole bytes. A trailing
 * "/s" is allowed so rates read naturally. Rejects signs, spaces,
 * fractions, unknown suffixes and overflow. Returns 0, or -1 with `why`
 * (may be NULL) set to a static reason. */
int cli_parse_size(const char *s, uint64_t *out, const char **why);
/* Parses a decimal integer in [0, max] strictly. 0 or -1 with `why`. */
int cli_parse_uint(const char *s, uint64_t max, uint64_t *out, const char **why);
/* Parses a duration into milliseconds: a number with a unit (ms, s, m, h,
 * d), several from the largest down ("1h30m"), or a bare number of seconds.
 * Rejects signs, spaces, fractions, unknown or repeated units and overflow.
 * 0 or -1 with `why`. */
int cli_parse_duration(const char *s, uint64_t *out_ms, const char **why);
/* Parses a plain non-negative decimal ("2", "0.75") no larger than `max`;
 * no signs, exponents, "inf" or "nan". 0 or -1 with `why`. */
int cli_parse_ratio(const char *s, double max, double *out, const char **why);
/* Checks the form of a peer address "host:port" or "[v6]:port" with a port
 * from 1 to 65535 (the library resolves it). 0 or -1 with `why`. */
int cli_check_peer(const char *s, const char **why);

/* ----------------------------------------------------------- safe text */

/* Length of the valid UTF-8 sequence at p[0..n), or 0 if it is invalid
 * (overlong forms, surrogates and values past U+10FFFF are invalid). */
size_t cli_utf8_seq(const uint8_t *p, size_t n, uint32_t *cp);
/* Writes text for a terminal: valid printable UTF-8 as is; control
 * characters, invalid bytes and bidirectional overrides escaped (\xNN,
 * \u202E), so a hostile name cannot move the cursor or reorder a line. */
void cli_put_safe(FILE *f, const char *s, size_t n);
void cli_put_safe_str(FILE *f, const char *s);

/* ------------------------------------------------------------- JSON */

#define CLI_JSON_MAX_DEPTH 16

/* A streaming JSON writer, indented two spaces. Strings are escaped so that
 * the output is valid JSON for arbitrary bytes: invalid UTF-8 becomes
 * U+FFFD, control characters \u00XX (or \n, \t, \r). */
struct cli_json {
    FILE *f;
    unsigned depth;
    bool after_key;                      /* a value completes a "key": pair */
    bool failed;                         /* nesting too deep or unbalanced */
    char close[CLI_JSON_MAX_DEPTH];      /* '}' or ']' for each open level */
    bool has_items[CLI_JSON_MAX_DEPTH];  /* need a comma before the next item */
    bool compact[CLI_JSON_MAX_DEPTH];    /* this level stays on one line */
};

void cli_json_init(struct cli_json *j, FILE *f);
void cli_json_object(struct cli_json *j);
void cli_json_array(struct cli_json *j);
/* The same on one line ({"a": 1, "b": [2, 3]}), for small records. */
void cli_json_object_compact(struct cli_json *j);
void cli_json_array_compact(struct cli_json *j);
/* Closes the innermost object or array. */
void cli_json_end(struct cli_json *j);
void cli_json_key(struct cli_json *j, const char *key);
void cli_json_str(struct cli_json *j, const void *p, size_t n);
/* A NUL-terminated string, or null for NULL. */
void cli_json_cstr(struct cli_json *j, const char *s);
void cli_json_u64(struct cli_json *j, uint64_t v);
void cli_json_i64(struct cli_json *j, int64_t v);
/* A number with `decimals` digits after the point; null if not finite. */
void cli_json_double(struct cli_json *j, double v, int decimals);
void cli_json_bool(struct cli_json *j, bool v);
void cli_json_null(struct cli_json *j);
/* Ends the document with a newline; -1 if it was unbalanced or too deep. */
int cli_json_finish(struct cli_json *j);

/* Escaped string only (quotes included), for tests and key writing. */
void cli_json_put_string(FILE *f, const void *p, size_t n);

/* ----------------------------------------------------------- progress */

/* Progress on stderr: a redrawn bar when stderr is a terminal, otherwise a
 * plain line at most every few seconds and nothing for a quick job. */
struct cli_progress {
    const char *label;       /* "hashing", "checking" */
    bool enabled;
    bool tty;
    bool drawn;              /* a bar is on screen and must be cleared */
    uint64_t start_ms;
    uint64_t last_ms;
};

void cli_progress_init(struct cli_progress *p, const char *label, bool quiet);
/* `done` and `total` are bytes; throttled internally. */
void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total);
/* Clears the bar, so the report that follows starts on a clean line. */
void cli_progress_done(struct cli_progress *p);
/* The monotonic clock in milliseconds, and the width of the terminal on
 * stderr (80 when unknown). */
uint64_t cli_now_ms(void);
int cli_term_columns(void);

/* ------------------------------------------------- transfer status */

/* "checking", "downloading", "seeding", "stopped", "error". */
const char *cli_state_name(enum rill_torrent_state state);
/* One status line for people, ASCII only, e.g.
 * "downloading  42.1%  126 MiB/300 MiB  down 1.20 MiB/s  up 300 KiB/s
 *  peers 12 unchoked 4/3  ETA 2m05s"; while seeding, uploaded bytes and the
 * ratio replace the download figures. Always NUL-terminated in `cap`. */
void cli_status_format(char *buf, size_t cap, const struct rill_torrent_stats *st);
/* One JSON object on one line, flushed: {"event": EVENT, "reason": REASON
 * (left out when NULL), "t_ms": elapsed_ms (as in librill's log lines),
 * "state": ..., and every figure of `st` as a raw number} (eta_ms null when
 * unknown). */
void cli_status_json(FILE *f, const char *event, const char *reason,
                     const struct rill_torrent_stats *st, uint64_t elapsed_ms);

/* The live display of a transfer: a line redrawn in place on a terminal,
 * otherwise a plain line every few seconds and at each change of state, on
 * stderr; with `json`, progress events on stdout every second. */
struct cli_status {
    bool enabled;            /* human status on stderr */
    bool tty;
    bool json;
    bool drawn;              /* a line is on screen and must be cleared */
    bool have_state;
    enum rill_torrent_state state;
    uint64_t start_ms, last_plain_ms, last_json_ms;
    char line[256];
};

void cli_status_init(struct cli_status *s, bool quiet, bool json, uint64_t now_ms);
/* Called about once a second; throttles each output itself. */
void cli_status_update(struct cli_status *s, const struct rill_torrent_stats *st,
                       uint64_t now_ms);
/* Prints a message line on stderr (terminal-safe) without garbling the
 * status line, which is redrawn below it. Printed even when the status line
 * is disabled; the caller decides whether to call it. */
void cli_status_message(struct cli_status *s, const char *text);
/* Clears the status line for good, so later output starts on a clean line. */
void cli_status_clear(struct cli_status *s);

/* ---------------------------------------------------------- transfers */

/* Peer classes "20%:up=8M,down=32M;80%:up=1M" into m->classes (cli/class_spec.c);
 * -1 with *why set on a bad spec. */
int cli_parse_classes(const char *spec, struct rill_model *m, const char **why);

/* The options rill get and rill seed share (cmd_get.c parses both): one
 * help text, so the two commands cannot drift apart. */
#define CLI_XFER_SHARED_HELP \
    "\n" \
    "Network:\n" \
    "      --peer HOST:PORT    connect to this peer too ([v6]:PORT); repeatable\n" \
    "      --no-trackers       do not contact the torrent's trackers\n" \
    "      --no-dht            no DHT node (the Mainline DHT finds peers without\n" \
    "                          trackers; private torrents never use it)\n" \
    "      --dht-port N        its UDP port (default: the listening port, else any)\n" \
    "      --bootstrap H:P     join the DHT through this node (repeatable; default:\n" \
    "                          the well-known routers, see rill dht --help)\n" \
    "      --dht-state FILE    keep the DHT node's id and good nodes here\n" \
    "      --no-pex            no peer exchange (BEP 11)\n" \
    "      --no-lsd            no local service discovery (BEP 14: torrents\n" \
    "                          announced to the LAN's multicast group)\n" \
    "      --port N            listening port (default 6881, or the next free one\n" \
    "                          up to 6889, else any; 0: any free port)\n" \
    "      --bind ADDR         listen on ADDR and connect from it (default 0.0.0.0)\n" \
    "      --max-up RATE       upload limit, e.g. 512K, 10M, 20Mbit (0: none)\n" \
    "      --max-down RATE     download limit (0: none)\n" \
    "      --max-peers N       connections for this torrent (default 50)\n" \
    "      --max-peers-total N connections in all (default 200)\n" \
    "\n" \
    "Choking (for experiments; the defaults are BitTorrent's):\n" \
    "      --choker C          tit-for-tat (default), round-robin or none\n" \
    "      --unchoke-slots K   peers unchoked for their rate (default 4)\n" \
    "      --no-optimistic     no optimistic unchoke\n" \
    "      --no-upload         upload nothing: keep every peer choked (a free-rider)\n" \
    "\n" \
    "Output:\n" \
    "  -q, --quiet             no status line or log messages\n" \
    "  -v, --verbose           more log messages (twice: every message)\n" \
    "      --json-log          events as JSON objects, one per line, on stdout\n" \
    "  -h, --help              show this help\n" \
    "\n"

/* What `rill get` and `rill seed` were asked to do (cli/cmd_get.c). */
struct cli_xfer_args {
    const char *cmd;             /* "get" or "seed" */
    const char *torrent;
    const char *dir;
    const char **peers;          /* --peer values, pointers into argv */
    size_t peer_count;
    const char *bind;
    const char *only;
    uint64_t port, max_up, max_down, max_peers, max_peers_total;
    bool port_given;                /* --port was on the command line */
    uint64_t seed_time_ms;
    double ratio;
    bool seed;                   /* keep seeding after completion */
    bool no_trackers, recheck, json_log, quiet;
    bool no_endgame, no_optimistic, no_upload;
    int picker;                     /* enum rill_pick_mode */
    int choker;                     /* enum rill_choke_mode */
    uint64_t unchoke_slots;
    int verbose;
    /* Trackerless (cli/xfer_dht.c): a DHT node unless no_dht; peer
     * exchange unless no_pex; a magnet link instead of a .torrent. */
    bool no_dht, no_pex, no_lsd, dht_port_given;
    uint64_t dht_port;
    const char **boot; /* --bootstrap values, pointers into argv */
    size_t n_boot;
    const char *dht_state;
    const char *torrent_out; /* --save-torrent: where a magnet's .torrent goes */
    struct rill_magnet *magnet;
};

/* Parses the options of `rill get` (seed false) or `rill seed`, printing
 * `usage` for --help: returns -1 to go on, else the exit status (help
 * printed, or a usage error). `a->peers` is malloc'd, whatever the result:
 * free it with free(). */
int cli_xfer_parse(struct cli_xfer_args *a, int argc, char **argv, bool seed,
                   const char *usage);
/* Loads a->torrent into `mi`, or a magnet link into a->magnet: -1 to go
 * on, else the exit status after a message. */
int cli_xfer_load(struct cli_xfer_args *a, struct rill_metainfo *mi);
/* Frees what cli_xfer_parse and cli_xfer_load allocated. */
void cli_xfer_free(struct cli_xfer_args *a);
/* Option codes of the trackerless options (cli_xfer_dht_option). */
enum {
    CLI_OPT_NO_DHT = 400,
    CLI_OPT_DHT_PORT,
    CLI_OPT_BOOTSTRAP,
    CLI_OPT_DHT_STATE,
    CLI_OPT_NO_PEX,
    CLI_OPT_SAVE_TORRENT,
    CLI_OPT_NO_LSD,
};

/* The DHT node of rill get / rill seed on `base`, bootstrapped: -1 and
 * *out set (NULL with --no-dht), else the exit status after a message. */
int cli_xfer_dht_open(const struct cli_xfer_args *a, struct event_base *base,
                      struct rill_dht **out);
/* Applies a trackerless option (--no-dht, --dht-port, --bootstrap,
 * --dht-state, --no-pex, --no-lsd, --save-torrent): -1 to go on, else the exit
 * status; 0 when `c` is not one of them. */
int cli_xfer_dht_option(struct cli_xfer_args *a, int c, const char *val);

/* Runs one torrent to its end on an event loop: the download, then seeding
 * if asked, until a signal. Returns the exit status. */
int cli_xfer_run(const struct cli_xfer_args *a, const struct rill_metainfo *mi);
/* The download directory for PATH: PATH when PATH/NAME exists; its parent
 * when PATH is the content itself (ends in NAME); else PATH. Malloc'd, NULL
 * when out of memory. */
char *cli_resolve_root(const char *path, const char *name);

#endif
