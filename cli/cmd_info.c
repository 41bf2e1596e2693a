/* rill info: show what a .torrent or a magnet link holds. */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "info_print.h"

static const char usage_text[] =
    "Usage: rill info FILE.torrent|MAGNET [OPTIONS]\n"
    "Show what a .torrent (or '-' for standard input) or a magnet link holds:\n"
    "name, sizes, pieces, files, trackers, web seeds, flags, info-hash and magnet.\n"
    "\n"
    "      --json    print a JSON object instead of text\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 success, 2 usage error, 3 invalid torrent or magnet link,\n"
    "4 I/O error.\n";

enum { OPT_JSON = 256 };

static const struct option longopts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Reads standard input, refusing more than a torrent may hold. */
static int read_stdin(struct rill_buf *b)
{
    rill_buf_init(b, (size_t)RILL_MAX_TORRENT_SIZE + 1);
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (rill_buf_append(b, chunk, n) < 0)
            return RILL_ELIMIT;
    return ferror(stdin) ? RILL_EIO : 0;
}

static int load_torrent(struct rill_metainfo *mi, const char *arg, struct rill_error *err)
{
    if (strcmp(arg, "-") != 0)
        return rill_metainfo_load(mi, arg, err);
    struct rill_buf b;
    int rc = read_stdin(&b);
    if (rc == 0)
        rc = rill_metainfo_parse(mi, b.data, b.len, err);
    else
        snprintf(err->msg, sizeof err->msg, "%s",
                 rc == RILL_ELIMIT ? "larger than a torrent may be" : "read error");
    rill_buf_free(&b);
    return rc;
}

static int info_torrent(const char *arg, bool json)
{
    struct rill_metainfo mi = {0};
    struct rill_error err = {0};
    int rc = load_torrent(&mi, arg, &err);
    if (rc < 0)
        return cli_report(strcmp(arg, "-") ? arg : "standard input", rc, &err);
    struct rill_buf mag;
    rill_buf_init(&mag, 0);
    int status = CLI_EXIT_OK;
    if (rill_magnet_from_metainfo(&mi, &mag) < 0 || rill_buf_append(&mag, "", 1) < 0) {
        cli_error("%s: cannot build the magnet link", arg);
        status = CLI_EXIT_IO;
    } else if (json) {
        cli_info_torrent_json(&mi, (const char *)mag.data);
    } else {
        cli_info_torrent_text(&mi, (const char *)mag.data);
    }
    rill_buf_free(&mag);
    rill_metainfo_free(&mi);
    return status;
}

static int info_magnet(const char *uri, bool json)
{
    struct rill_magnet m = {0};
    struct rill_error err = {0};
    int rc = rill_magnet_parse(&m, uri, strlen(uri), &err);
    if (rc < 0)
        return cli_report("magnet link", rc, &err);
    struct rill_buf canon;
    rill_buf_init(&canon, 0);
    int status = CLI_EXIT_OK;
    if (rill_magnet_build(&m, &canon) < 0 || rill_buf_append(&canon, "", 1) < 0) {
        cli_error("cannot rebuild the magnet link");
        status = CLI_EXIT_IO;
    } else if (json) {
        cli_info_magnet_json(&m, (const char *)canon.data);
    } else {
        cli_info_magnet_text(&m, (const char *)canon.data);
    }
    rill_buf_free(&canon);
    rill_magnet_free(&m);
    return status;
}

int cli_cmd_info(int argc, char **argv)
{
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = true; break;
        case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
        default: return cli_usage_hint("info");
        }
    }
    if (optind + 1 != argc) {
        cli_error(optind >= argc ? "info: missing FILE.torrent or MAGNET"
                                 : "info: too many arguments");
        return cli_usage_hint("info");
    }
    const char *arg = argv[optind];
    if (strncasecmp(arg, "magnet:", 7) == 0)
        return info_magnet(arg, json);
    return info_torrent(arg, json);
}
