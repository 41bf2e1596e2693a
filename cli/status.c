/* The live status of a transfer: a line redrawn in place on a terminal,
 * plain periodic lines in a log, JSON progress events for programs. Time is
 * passed in, so the formatting and throttling can be tested. */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define STATUS_PLAIN_MS 5000 /* a log file needs no more than this */
#define STATUS_JSON_MS 1000
/* Updates come from a one-second timer that drifts a little against the
 * first one, so an interval is taken as reached slightly early. */
#define STATUS_SLACK_MS 100

const char *cli_state_name(enum rill_torrent_state state)
{
    switch (state) {
    case RILL_T_CHECKING: return "checking";
    case RILL_T_DOWNLOADING: return "downloading";
    case RILL_T_SEEDING: return "seeding";
    case RILL_T_STOPPED: return "stopped";
    case RILL_T_ERROR: return "error";
    case RILL_T_METADATA: return "metadata";
    }
    return "unknown";
}

/* Appends to a fixed buffer; the text is cut when it is full. */
struct line {
    char *buf;
    size_t cap, len;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct line *l, const char *fmt, ...)
{
    if (l->len + 1 >= l->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < l->cap - l->len ? (size_t)n : l->cap - l->len - 1;
}

/* Tenths of a percent, rounded down so that 100.0% means really complete. */
static unsigned permille(uint64_t have, uint64_t total)
{
    if (total == 0 || have >= total)
        return 1000;
    return (unsigned)((double)have * 1000.0 / (double)total);
}

static void add_seeding(struct line *l, const struct rill_torrent_stats *st)
{
    char a[CLI_SIZE_BUF], b[CLI_SIZE_BUF], c[CLI_SIZE_BUF];
    add(l, "  %s  up %s  uploaded %s", cli_fmt_size(st->have_wanted, a),
        cli_fmt_rate((double)st->up_rate, b), cli_fmt_size(st->uploaded, c));
    /* The ratio of this run: what we sent over what the data is worth. */
    if (st->total_wanted)
        add(l, "  ratio %.2f", (double)st->uploaded / (double)st->total_wanted);
}

void cli_status_format(char *buf, size_t cap, const struct rill_torrent_stats *st)
{
    struct line l = {buf, cap, 0};
    if (cap == 0)
        return;
    buf[0] = '\0';
    char a[CLI_SIZE_BUF], b[CLI_SIZE_BUF];
    if (st->state == RILL_T_METADATA) {
        add(&l, "metadata  %" PRIu32 "/%" PRIu32 " pieces  peers %u  from DHT %u, PEX %u",
            st->metadata_have, st->metadata_pieces, st->peers, st->dht_peers, st->pex_peers);
        return;
    }
    unsigned pm = permille(st->have_wanted, st->total_wanted);
    add(&l, "%s  %u.%u%%", cli_state_name(st->state), pm / 10, pm % 10);
    if (st->state == RILL_T_SEEDING) {
        add_seeding(&l, st);
    } else {
        add(&l, "  %s/%s", cli_fmt_size(st->have_wanted, a), cli_fmt_size(st->total_wanted, b));
        add(&l, "  down %s  up %s", cli_fmt_rate((double)st->down_rate, a),
            cli_fmt_rate((double)st->up_rate, b));
    }
    add(&l, "  peers %u unchoked %u/%u", st->peers, st->unchoked_us, st->we_unchoke);
    if (st->state == RILL_T_DOWNLOADING)
        add(&l, "  ETA %s",
            st->eta_ms == UINT64_MAX ? "-" : cli_fmt_duration((st->eta_ms + 999) / 1000, a));
    if (st->hash_failures)
        add(&l, "  failed %" PRIu32, st->hash_failures);
}

static void json_u64(struct cli_json *j, const char *key, uint64_t v)
{
    cli_json_key(j, key);
    cli_json_u64(j, v);
}

void cli_status_json(FILE *f, const char *event, const char *reason,
                     const struct rill_torrent_stats *st, uint64_t elapsed_ms)
{
    struct cli_json j;
    cli_json_init(&j, f);
    cli_json_object_compact(&j);
    cli_json_key(&j, "event");
    cli_json_cstr(&j, event);
    if (reason) {
        cli_json_key(&j, "reason");
        cli_json_cstr(&j, reason);
    }
    json_u64(&j, "t_ms", elapsed_ms);
    cli_json_key(&j, "state");
    cli_json_cstr(&j, cli_state_name(st->state));
    json_u64(&j, "have", st->have_wanted);
    json_u64(&j, "total", st->total_wanted);
    json_u64(&j, "pieces_have", st->pieces_have);
    json_u64(&j, "pieces", st->piece_count);
    json_u64(&j, "downloaded", st->downloaded);
    json_u64(&j, "uploaded", st->uploaded);
    json_u64(&j, "down_rate", st->down_rate);
    json_u64(&j, "up_rate", st->up_rate);
    json_u64(&j, "wasted", st->wasted);
    json_u64(&j, "peers", st->peers);
    json_u64(&j, "seeds", st->seeds_connected);
    json_u64(&j, "unchoked_us", st->unchoked_us);
    json_u64(&j, "we_unchoke", st->we_unchoke);
    cli_json_key(&j, "eta_ms");
    if (st->eta_ms == UINT64_MAX)
        cli_json_null(&j);
    else
        cli_json_u64(&j, st->eta_ms);
    json_u64(&j, "hash_failures", st->hash_failures);
    json_u64(&j, "banned", st->banned);
    cli_json_end(&j);
    cli_json_finish(&j);
    fflush(f);
}

void cli_status_init(struct cli_status *s, bool quiet, bool json, uint64_t now_ms)
{
    memset(s, 0, sizeof *s);
    s->enabled = !quiet;
    s->tty = isatty(STDERR_FILENO) == 1;
    s->json = json;
    s->start_ms = now_ms;
    s->last_plain_ms = now_ms;
    s->last_json_ms = now_ms;
}

/* Draws s->line in place, cut to the terminal so it never wraps (a wrapped
 * line could not be redrawn with \r). The text is ASCII, so bytes are
 * columns. */
static void draw(struct cli_status *s)
{
    size_t width = (size_t)cli_term_columns() - 1;
    size_t n = strlen(s->line);
    fputs("\r", stderr);
    fwrite(s->line, 1, n < width ? n : width, stderr);
    fputs("\033[K", stderr);
    fflush(stderr);
    s->drawn = true;
}

void cli_status_update(struct cli_status *s, const struct rill_torrent_stats *st, uint64_t now_ms)
{
    bool changed = !s->have_state || st->state != s->state;
    s->have_state = true;
    s->state = st->state;
    if (s->json && (changed || now_ms - s->last_json_ms + STATUS_SLACK_MS >= STATUS_JSON_MS)) {
        s->last_json_ms = now_ms;
        cli_status_json(stdout, "progress", NULL, st, now_ms - s->start_ms);
    }
    if (!s->enabled)
        return;
    cli_status_format(s->line, sizeof s->line, st);
    if (s->tty) {
        draw(s);
    } else if (changed || now_ms - s->last_plain_ms + STATUS_SLACK_MS >= STATUS_PLAIN_MS) {
        s->last_plain_ms = now_ms;
        fprintf(stderr, "%s\n", s->line);
        fflush(stderr);
    }
}

void cli_status_message(struct cli_status *s, const char *text)
{
    if (s->drawn)
        fputs("\r\033[K", stderr);
    cli_put_safe_str(stderr, text);
    putc('\n', stderr);
    if (s->drawn)
        draw(s);
    else
        fflush(stderr);
}

void cli_status_clear(struct cli_status *s)
{
    if (s->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    s->drawn = false;
    s->line[0] = '\0';
}
