/* rill verify: check downloaded data against a .torrent. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: rill verify FILE.torrent PATH [OPTIONS]\n"
    "Hash every piece of the data under PATH and report what is good, bad\n"
    "(wrong hash) or missing. PATH is the download directory holding NAME;\n"
    "pointing at PATH/NAME itself works too.\n"
    "\n"
    "  -j, --threads N   hashing threads (default: one per core)\n"
    "  -v, --verbose     list every file, not only those with problems\n"
    "  -q, --quiet       no progress display\n"
    "      --json        print the result as JSON\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 all pieces good, 1 bad or missing data, 2 usage error,\n"
    "3 invalid torrent, 4 I/O error.\n";

enum { OPT_JSON = 256 };

static const struct option longopts[] = {
    {"threads", required_argument, NULL, 'j'},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct verify_args {
    const char *torrent;
    const char *path;
    unsigned threads;
    bool verbose, quiet, json;
};

/* Piece counts over a range of pieces; `absent` for an empty file (which
 * has no pieces) that does not exist. */
struct tally {
    uint32_t good, bad, missing;
    bool absent;
};

struct verify_result {
    const struct rill_metainfo *mi;
    const char *root;
    const uint8_t *states;
    struct tally all;
    uint64_t bytes_needed;
    size_t empty_absent; /* empty files that do not exist */
};

/* -1 to go on, otherwise the exit status. */
static int parse_args(struct verify_args *a, int argc, char **argv)
{
    int c;
    while ((c = getopt_long(argc, argv, "j:vqh", longopts, NULL)) != -1) {
        uint64_t v;
        const char *why;
        switch (c) {
        case 'j':
            if (cli_parse_uint(optarg, 1024, &v, &why) != 0) {
                cli_error("verify: invalid thread count '%s': %s", optarg, why);
                return cli_usage_hint("verify");
            }
            a->threads = (unsigned)v;
            break;
        case 'v': a->verbose = true; break;
        case 'q': a->quiet = true; break;
        case OPT_JSON: a->json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_usage_hint("verify");
        }
    }
    if (argc - optind != 2) {
        cli_error(argc - optind < 2 ? "verify: expected FILE.torrent and PATH"
                                    : "verify: too many arguments");
        return cli_usage_hint("verify");
    }
    a->torrent = argv[optind];
    a->path = argv[optind + 1];
    return -1;
}

/* "a/b" + "c" as a malloc'd string. */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* The download directory: PATH when PATH/NAME exists; PATH's parent when
 * the user pointed at the content itself; else PATH (all missing). Shared
 * with rill seed (cli.h). */
char *cli_resolve_root(const char *path, const char *name)
{
    char *inside = join(path, name);
    if (!inside)
        return NULL;
    struct stat sb;
    bool exists = lstat(inside, &sb) == 0;
    free(inside);
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    size_t base = len;
    while (base > 0 && path[base - 1] != '/')
        base--;
    if (exists || len - base != strlen(name) || memcmp(path + base, name, len - base) != 0)
        return strdup(path);
    if (base == 0)
        return strdup(".");
    while (base > 1 && path[base - 1] == '/')
        base--;
    return strndup(path, base);
}

struct check_progress {
    struct cli_progress bar;
    uint64_t piece_length, total;
};

static void on_progress(void *ctx, uint32_t done, uint32_t total)
{
    struct check_progress *p = ctx;
    (void)total;
    uint64_t bytes = (uint64_t)done * p->piece_length;
    cli_progress_update(&p->bar, bytes < p->total ? bytes : p->total, p->total);
}

static struct tally tally_range(const uint8_t *states, uint32_t first, uint32_t last)
{
    struct tally t = {0};
    for (uint32_t i = first; i <= last; i++) {
        if (states[i] == RILL_PIECE_GOOD)
            t.good++;
        else if (states[i] == RILL_PIECE_BAD)
            t.bad++;
        else
            t.missing++;
    }
    return t;
}

/* Tally of the pieces overlapping file `f`. An empty file has no pieces,
 * so whether it exists is looked up on disk. */
static struct tally tally_file(const struct verify_result *r, const struct rill_file *f)
{
    const struct rill_metainfo *mi = r->mi;
    struct tally t = {0};
    if (f->length > 0) {
        uint32_t first = (uint32_t)(f->offset / mi->piece_length);
        uint32_t last = (uint32_t)((f->offset + f->length - 1) / mi->piece_length);
        if (last >= mi->piece_count)
            last = mi->piece_count - 1;
        t = tally_range(r->states, first, last);
    }
    /* Whether the file itself exists: a present file can still have missing
     * pieces when a piece it shares with a neighbour lacks the neighbour. */
    char *dir = join(r->root, mi->name);
    char *p = dir && mi->multi_file ? join(dir, f->path) : NULL;
    const char *where = mi->multi_file ? p : dir;
    struct stat sb;
    t.absent = where && lstat(where, &sb) != 0 && errno == ENOENT;
    free(p);
    free(dir);
    return t;
}

static const char *file_status(const struct tally *t)
{
    if (t->bad)
        return "bad";
    if (t->absent)
        return "missing";
    if (t->missing)
        return t->good ? "partial" : "incomplete";
    return "ok";
}

static bool has_problem(const struct tally *t)
{
    return t->bad || t->missing || t->absent;
}

static bool all_ok(const struct verify_result *r)
{
    return r->all.good == r->mi->piece_count && r->empty_absent == 0;
}

static void print_file_text(const struct verify_result *r, const struct rill_file *f,
                            const struct tally *t)
{
    printf("  %-10s ", file_status(t));
    if (r->mi->multi_file) {
        cli_put_safe_str(stdout, r->mi->name);
        putchar('/');
    }
    cli_put_safe_str(stdout, f->path);
    if (f->length == 0)
        puts("  (empty file)");
    else
        printf("  (%" PRIu32 " good, %" PRIu32 " bad, %" PRIu32 " missing)\n", t->good,
               t->bad, t->missing);
}

static void print_text(const struct verify_result *r, bool verbose)
{
    const struct rill_metainfo *mi = r->mi;
    char a[CLI_SIZE_BUF];
    cli_field_str("torrent", mi->name);
    cli_field_str("directory", r->root);
    cli_field_fmt("pieces", "%" PRIu32 " x %s", mi->piece_count,
                  cli_fmt_size(mi->piece_length, a));
    cli_field_fmt("good", "%" PRIu32, r->all.good);
    cli_field_fmt("bad", "%" PRIu32, r->all.bad);
    cli_field_fmt("missing", "%" PRIu32, r->all.missing);
    bool header = false;
    for (size_t i = 0; i < mi->file_count; i++) {
        const struct rill_file *f = &mi->files[i];
        if (f->attr & RILL_ATTR_PAD)
            continue;
        struct tally t = tally_file(r, f);
        if (!verbose && !has_problem(&t))
            continue;
        if (!header)
            puts(verbose ? "files:" : "files with problems:");
        header = true;
        print_file_text(r, f, &t);
    }
    if (r->empty_absent)
        cli_field_fmt("note", "%zu empty file%s missing", r->empty_absent,
                      r->empty_absent == 1 ? " is" : "s are");
    if (all_ok(r))
        cli_field_fmt("result", "all %" PRIu32 " pieces are good", mi->piece_count);
    else if (r->all.good == mi->piece_count)
        cli_field_str("result", "all pieces are good, but files are missing");
    else
        cli_field_fmt("result", "%" PRIu32 " of %" PRIu32 " pieces need downloading (%s)",
                      r->all.bad + r->all.missing, mi->piece_count,
                      cli_fmt_size(r->bytes_needed, a));
}

static void json_tally(struct cli_json *j, const struct tally *t)
{
    cli_json_key(j, "good");
    cli_json_u64(j, t->good);
    cli_json_key(j, "bad");
    cli_json_u64(j, t->bad);
    cli_json_key(j, "missing");
    cli_json_u64(j, t->missing);
}

static void json_files(struct cli_json *j, const struct verify_result *r, bool verbose)
{
    const struct rill_metainfo *mi = r->mi;
    cli_json_key(j, "files");
    cli_json_array(j);
    for (size_t i = 0; i < mi->file_count; i++) {
        const struct rill_file *f = &mi->files[i];
        if (f->attr & RILL_ATTR_PAD)
            continue;
        struct tally t = tally_file(r, f);
        if (!verbose && !has_problem(&t))
            continue;
        cli_json_object_compact(j);
        cli_json_key(j, "path");
        cli_json_cstr(j, f->path);
        cli_json_key(j, "length");
        cli_json_u64(j, f->length);
        cli_json_key(j, "status");
        cli_json_cstr(j, file_status(&t));
        json_tally(j, &t);
        cli_json_end(j);
    }
    cli_json_end(j);
}

static void print_json(const struct verify_result *r, bool verbose)
{
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(r->mi->info_hash, RILL_SHA1_LEN, hex);
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_object(&j);
    cli_json_key(&j, "name");
    cli_json_cstr(&j, r->mi->name);
    cli_json_key(&j, "info_hash");
    cli_json_cstr(&j, hex);
    cli_json_key(&j, "directory");
    cli_json_cstr(&j, r->root);
    cli_json_key(&j, "ok");
    cli_json_bool(&j, all_ok(r));
    cli_json_key(&j, "piece_length");
    cli_json_u64(&j, r->mi->piece_length);
    cli_json_key(&j, "pieces");
    cli_json_u64(&j, r->mi->piece_count);
    json_tally(&j, &r->all);
    cli_json_key(&j, "bytes_needed");
    cli_json_u64(&j, r->bytes_needed);
    cli_json_key(&j, "empty_files_missing");
    cli_json_u64(&j, r->empty_absent);
    json_files(&j, r, verbose);
    cli_json_end(&j);
    cli_json_finish(&j);
}

/* Runs rill_check and reports; returns the exit status. */
static int check(const struct verify_args *a, const struct rill_metainfo *mi, const char *root)
{
    uint8_t *states = malloc(mi->piece_count ? mi->piece_count : 1);
    if (!states) {
        cli_error("out of memory");
        return CLI_EXIT_IO;
    }
    struct check_progress prog = {.piece_length = mi->piece_length, .total = mi->total_size};
    cli_progress_init(&prog.bar, "checking", a->quiet);
    struct rill_check_opts opts = {
        .threads = a->threads,
        .progress = on_progress,
        .progress_ctx = &prog,
    };
    struct rill_error err = {0};
    int rc = rill_check(mi, root, &opts, states, &err);
    cli_progress_done(&prog.bar);
    int status;
    if (rc < 0) {
        status = cli_report(root, rc, err.msg[0] ? &err : NULL);
    } else {
        struct verify_result r = {.mi = mi, .root = root, .states = states};
        if (mi->piece_count)
            r.all = tally_range(states, 0, mi->piece_count - 1);
        for (uint32_t i = 0; i < mi->piece_count; i++)
            if (states[i] != RILL_PIECE_GOOD)
                r.bytes_needed += rill_piece_size(mi, i);
        for (size_t i = 0; i < mi->file_count; i++) {
            const struct rill_file *f = &mi->files[i];
            if (f->length == 0 && !(f->attr & RILL_ATTR_PAD))
                r.empty_absent += tally_file(&r, f).absent;
        }
        if (a->json)
            print_json(&r, a->verbose);
        else
            print_text(&r, a->verbose);
        status = all_ok(&r) ? CLI_EXIT_OK : CLI_EXIT_PROBLEMS;
    }
    free(states);
    return status;
}

int cli_cmd_verify(int argc, char **argv)
{
    struct verify_args a = {0};
    int status = parse_args(&a, argc, argv);
    if (status >= 0)
        return status;
    struct rill_metainfo mi = {0};
    struct rill_error err = {0};
    int rc = rill_metainfo_load(&mi, a.torrent, &err);
    if (rc < 0)
        return cli_report(a.torrent, rc, &err);
    struct stat sb;
    char *root = NULL;
    if (stat(a.path, &sb) != 0) {
        cli_error("%s: %s", a.path, strerror(errno));
        status = CLI_EXIT_IO;
    } else if ((root = cli_resolve_root(a.path, mi.name)) == NULL) {
        cli_error("out of memory");
        status = CLI_EXIT_IO;
    } else {
        status = check(&a, &mi, root);
    }
    free(root);
    rill_metainfo_free(&mi);
    return status;
}
