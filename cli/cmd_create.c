/* rill create: make a .torrent from a file or directory. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: rill create PATH [OPTIONS]\n"
    "Make a .torrent from the file or directory PATH.\n"
    "\n"
    "  -o, --output FILE       write to FILE (default: NAME.torrent here)\n"
    "  -f, --force             overwrite an existing output file\n"
    "  -p, --piece-size SIZE   piece size, a power of two from 16K to 128M\n"
    "                          (default: 256K up to 1 GiB of content, then larger)\n"
    "  -t, --tracker URL       announce URL; repeat for more tiers, or give\n"
    "                          one tier as URL,URL,...\n"
    "  -w, --web-seed URL      web seed (BEP 19); may be repeated\n"
    "      --private           set the private flag (no DHT, no PEX)\n"
    "  -c, --comment TEXT      comment\n"
    "  -s, --source TEXT       source tag (changes the info-hash)\n"
    "      --no-date           leave out the creation date\n"
    "      --hidden            include files and directories starting with '.'\n"
    "  -j, --threads N         hashing threads (default: one per core)\n"
    "  -q, --quiet             no progress display\n"
    "      --json              print the result as JSON\n"
    "  -h, --help              show this help\n"
    "\n"
    "The creation date is the current time, or SOURCE_DATE_EPOCH if set.\n"
    "Exit status: 0 created, 2 usage error, 4 I/O error or output exists.\n";

struct create_args {
    const char *path;
    const char *output;
    uint32_t piece_length;
    const char **trackers;  /* NULL-terminated */
    size_t tracker_count;
    const char **web_seeds; /* NULL-terminated */
    size_t web_seed_count;
    const char *comment;
    const char *source;
    unsigned threads;
    bool is_private, no_date, hidden, json, force, quiet;
};

enum { OPT_PRIVATE = 256, OPT_NO_DATE, OPT_HIDDEN, OPT_JSON };

static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, 'f'},
    {"piece-size", required_argument, NULL, 'p'},
    {"tracker", required_argument, NULL, 't'},
    {"web-seed", required_argument, NULL, 'w'},
    {"private", no_argument, NULL, OPT_PRIVATE},
    {"comment", required_argument, NULL, 'c'},
    {"source", required_argument, NULL, 's'},
    {"no-date", no_argument, NULL, OPT_NO_DATE},
    {"hidden", no_argument, NULL, OPT_HIDDEN},
    {"threads", required_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_piece_size(const char *s, uint32_t *out)
{
    uint64_t v;
    const char *why;
    if (cli_parse_size(s, &v, &why) != 0) {
        cli_error("create: invalid piece size '%s': %s", s, why);
        return -1;
    }
    if (v < RILL_MIN_PIECE || v > RILL_MAX_PIECE || (v & (v - 1)) != 0) {
        cli_error("create: piece size '%s' must be a power of two from 16K to 128M", s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_threads(const char *s, unsigned *out)
{
    uint64_t v;
    const char *why;
    if (cli_parse_uint(s, 1024, &v, &why) != 0) {
        cli_error("create: invalid thread count '%s': %s", s, why);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* One option; -1 to go on, otherwise the exit status. */
static int take_option(struct create_args *a, int c)
{
    switch (c) {
    case 'o': a->output = optarg; break;
    case 'f': a->force = true; break;
    case 'p':
        if (parse_piece_size(optarg, &a->piece_length) != 0)
            return cli_usage_hint("create");
        break;
    case 't': a->trackers[a->tracker_count++] = optarg; break;
    case 'w': a->web_seeds[a->web_seed_count++] = optarg; break;
    case OPT_PRIVATE: a->is_private = true; break;
    case 'c': a->comment = optarg; break;
    case 's': a->source = optarg; break;
    case OPT_NO_DATE: a->no_date = true; break;
    case OPT_HIDDEN: a->hidden = true; break;
    case 'j':
        if (parse_threads(optarg, &a->threads) != 0)
            return cli_usage_hint("create");
        break;
    case 'q': a->quiet = true; break;
    case OPT_JSON: a->json = true; break;
    case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
    default: return cli_usage_hint("create");
    }
    return -1;
}

/* -1 to go on, otherwise the exit status. The arrays hold at most argc
 * entries, since each option takes at least one argv slot. */
static int parse_args(struct create_args *a, int argc, char **argv)
{
    a->trackers = calloc((size_t)argc + 1, sizeof *a->trackers);
    a->web_seeds = calloc((size_t)argc + 1, sizeof *a->web_seeds);
    if (!a->trackers || !a->web_seeds) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    int c;
    while ((c = getopt_long(argc, argv, "o:fp:t:w:c:s:j:qh", longopts, NULL)) != -1) {
        int rc = take_option(a, c);
        if (rc >= 0)
            return rc;
    }
    if (optind + 1 != argc) {
        cli_error(optind >= argc ? "create: missing PATH" : "create: too many arguments");
        return cli_usage_hint("create");
    }
    a->path = argv[optind];
    return -1;
}

/* The creation date: SOURCE_DATE_EPOCH for reproducible builds, else now. */
static int64_t creation_date(void)
{
    const char *env = getenv("SOURCE_DATE_EPOCH");
    if (env && *env) {
        uint64_t v;
        if (cli_parse_uint(env, INT64_MAX, &v, NULL) == 0)
            return (int64_t)v;
        cli_error("warning: ignoring SOURCE_DATE_EPOCH='%s', not a number", env);
    }
    return (int64_t)time(NULL);
}

/* The output name rill expects before hashing: the last component of PATH
 * (resolved, so "." works) plus ".torrent". Only used to fail early. */
static char *predicted_output(const char *path)
{
    char *real = realpath(path, NULL);
    if (!real)
        return NULL;
    const char *slash = strrchr(real, '/');
    const char *base = slash && slash[1] ? slash + 1 : real;
    size_t n = strlen(base) + sizeof ".torrent";
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s.torrent", base);
    free(real);
    return out;
}

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    cli_progress_update(ctx, done, total);
}

/* Writes the whole buffer to fd; 0 or -1 with errno. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Moves the finished temporary file into place. Without --force, link()
 * makes "create only if absent" atomic; filesystems without hard links fall
 * back to a check and rename. */
static int publish(const char *tmp, const char *out, bool force)
{
    if (force)
        return rename(tmp, out);
    if (link(tmp, out) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno == EEXIST)
        return -1;
    struct stat sb;
    if (lstat(out, &sb) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(tmp, out);
}

/* Writes `out` atomically: temporary file in the same directory, fsync,
 * then publish. Returns an exit status. */
static int write_output(const char *out, const uint8_t *p, size_t n, bool force)
{
    size_t len = strlen(out) + sizeof ".XXXXXX";
    char *tmp = malloc(len);
    if (!tmp) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    snprintf(tmp, len, "%s.XXXXXX", out);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error("%s: cannot create: %s", out, strerror(errno));
        free(tmp);
        return CLI_EXIT_IO;
    }
    mode_t mask = umask(0);
    umask(mask);
    int rc = fchmod(fd, 0666 & ~mask) != 0 || write_all(fd, p, n) != 0 || fsync(fd) != 0;
    int saved = errno;
    if (close(fd) != 0 && !rc) {
        rc = 1;
        saved = errno;
    }
    if (!rc && publish(tmp, out, force) != 0) {
        rc = 1;
        saved = errno;
    }
    if (rc) {
        unlink(tmp);
        if (saved == EEXIST)
            cli_error("%s already exists (use --force to overwrite)", out);
        else
            cli_error("%s: cannot write: %s", out, strerror(saved));
    }
    free(tmp);
    return rc ? CLI_EXIT_IO : CLI_EXIT_OK;
}

static size_t real_file_count(const struct rill_metainfo *mi)
{
    size_t n = 0;
    for (size_t i = 0; i < mi->file_count; i++)
        n += !(mi->files[i].attr & RILL_ATTR_PAD);
    return n;
}

static void print_text(const struct rill_metainfo *mi, const char *out, const char *magnet)
{
    char hex[2 * RILL_SHA1_LEN + 1], a[CLI_SIZE_BUF], b[CLI_SIZE_BUF];
    rill_hex(mi->info_hash, RILL_SHA1_LEN, hex);
    cli_field_str("created", out);
    cli_field_str("name", mi->name);
    cli_field_fmt("info hash", "%s", hex);
    cli_field_fmt("total size", "%s (%" PRIu64 " bytes)", cli_fmt_size(mi->total_size, a),
                  mi->total_size);
    cli_field_fmt("pieces", "%" PRIu32 " x %s", mi->piece_count,
                  cli_fmt_size(mi->piece_length, b));
    cli_field_fmt("files", "%zu", real_file_count(mi));
    cli_field_str("magnet", magnet);
}

static void print_json(const struct rill_metainfo *mi, const char *out, const char *magnet)
{
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(mi->info_hash, RILL_SHA1_LEN, hex);
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_object(&j);
    cli_json_key(&j, "output");
    cli_json_cstr(&j, out);
    cli_json_key(&j, "name");
    cli_json_cstr(&j, mi->name);
    cli_json_key(&j, "info_hash");
    cli_json_cstr(&j, hex);
    cli_json_key(&j, "total_size");
    cli_json_u64(&j, mi->total_size);
    cli_json_key(&j, "piece_length");
    cli_json_u64(&j, mi->piece_length);
    cli_json_key(&j, "pieces");
    cli_json_u64(&j, mi->piece_count);
    cli_json_key(&j, "file_count");
    cli_json_u64(&j, real_file_count(mi));
    cli_json_key(&j, "magnet");
    cli_json_cstr(&j, magnet);
    cli_json_end(&j);
    cli_json_finish(&j);
}

/* Parses the new torrent back (the summary and magnet come from what was
 * actually written), writes it and reports. */
static int finish_torrent(const struct create_args *a, const struct rill_buf *tor)
{
    struct rill_metainfo mi = {0};
    struct rill_error err = {0};
    int rc = rill_metainfo_parse(&mi, tor->data, tor->len, &err);
    if (rc < 0)
        return cli_report("the new torrent", rc, &err);
    struct rill_buf mag;
    rill_buf_init(&mag, 0);
    char *out = NULL;
    int status = CLI_EXIT_IO;
    if (rill_magnet_from_metainfo(&mi, &mag) < 0 || rill_buf_append(&mag, "", 1) < 0) {
        cli_error("cannot build the magnet link");
        goto done;
    }
    size_t n = strlen(mi.name) + sizeof ".torrent";
    out = a->output ? strdup(a->output) : malloc(n);
    if (!out)
        goto done;
    if (!a->output)
        snprintf(out, n, "%s.torrent", mi.name);
    status = write_output(out, tor->data, tor->len, a->force);
    if (status == CLI_EXIT_OK) {
        if (a->json)
            print_json(&mi, out, (const char *)mag.data);
        else
            print_text(&mi, out, (const char *)mag.data);
    }
done:
    free(out);
    rill_buf_free(&mag);
    rill_metainfo_free(&mi);
    return status;
}

/* 0 if the directory that will hold `out` exists and is writable. */
static int output_dir_ok(const char *out)
{
    const char *slash = strrchr(out, '/');
    if (!slash)
        return access(".", W_OK);
    if (slash == out)
        return access("/", W_OK);
    char *dir = strndup(out, (size_t)(slash - out));
    if (!dir)
        return -1;
    int rc = access(dir, W_OK);
    free(dir);
    return rc;
}

/* Fails early, before any hashing, when the output obviously exists or
 * cannot be written. */
static int check_output(const struct create_args *a)
{
    char *guess = a->output ? NULL : predicted_output(a->path);
    const char *out = a->output ? a->output : guess;
    struct stat sb;
    int status = CLI_EXIT_OK;
    if (!a->output && !guess) {
        cli_error("%s: %s", a->path, strerror(errno));
        status = CLI_EXIT_IO;
    } else if (!a->force && lstat(out, &sb) == 0) {
        cli_error("%s already exists (use --force to overwrite)", out);
        status = CLI_EXIT_IO;
    } else if (output_dir_ok(out) != 0) {
        cli_error("%s: cannot write there: %s", out, strerror(errno));
        status = CLI_EXIT_IO;
    }
    free(guess);
    return status;
}

static int create(const struct create_args *a)
{
    int status = check_output(a);
    if (status != CLI_EXIT_OK)
        return status;
    struct cli_progress prog;
    cli_progress_init(&prog, "hashing", a->quiet);
    struct rill_create_opts copts = {
        .piece_length = a->piece_length,
        .include_hidden = a->hidden,
        .threads = a->threads,
        .progress = on_progress,
        .progress_ctx = &prog,
    };
    struct rill_torrent_opts topts = {
        .trackers = a->trackers,
        .web_seeds = a->web_seeds,
        .comment = a->comment,
        .source = a->source,
        .is_private = a->is_private,
        .no_date = a->no_date,
        .creation_date = a->no_date ? 0 : creation_date(),
    };
    struct rill_buf tor;
    rill_buf_init(&tor, RILL_MAX_TORRENT_SIZE);
    struct rill_error err = {0};
    int rc = rill_create(a->path, &copts, &topts, &tor, &err);
    cli_progress_done(&prog);
    status = rc < 0 ? cli_report(a->path, rc, &err) : finish_torrent(a, &tor);
    rill_buf_free(&tor);
    return status;
}

int cli_cmd_create(int argc, char **argv)
{
    struct create_args a = {0};
    int status = parse_args(&a, argc, argv);
    if (status < 0)
        status = create(&a);
    free(a.trackers);
    free(a.web_seeds);
    return status;
}
