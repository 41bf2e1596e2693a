/* rill model: the textbook's bounds on distribution time, client-server
 * against peer-to-peer, over a range of swarm sizes (lab/model.c), as a
 * table, as JSON, and as an SVG chart. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lab_args.h"
#include "svg.h"

#define MAX_POINTS 10000
#define MAX_PEERS 100000000u

static const char usage_text[] =
    "Usage: rill model [OPTIONS]\n"
    "The least time in which one server can give a file to N peers: client-server,\n"
    "D_cs = max(N*F/u_s, F/d_min), against peer-to-peer, where peers upload too,\n"
    "D_p2p = max(F/u_s, F/d_min, N*F/(u_s + sum u_i)).\n"
    "\n"
    "      --file-size SIZE    F (default 1G)\n"
    "      --server-up RATE    u_s (default 10M); rates in bytes/s: 512K, 10M, 80Mbit\n"
    "      --peer-up RATE      every peer's upload rate (default 1M)\n"
    "      --peer-down RATE    every peer's download rate (default 20M; 0 unlimited)\n"
    "      --classes SPEC      peers in classes instead, e.g.\n"
    "                          '20%:up=8M,down=32M;80%:up=1M,down=8M'\n"
    "      --peers LIST        swarm sizes: 1-35 (default), 8,16,32 or 100\n"
    "      --textbook          the book's figure: F/u = 1 hour, u_s = 10u, d_min = u_s,\n"
    "                          N from 0 to 35\n"
    "      --json              {\"rows\": [{\"peers\", \"client_server_s\", \"p2p_s\"}...]}\n"
    "      --svg FILE          the chart of both bounds against N\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: 0 done, 2 usage error, 4 the SVG file cannot be written.\n";

struct model_args {
    struct rill_model m;
    size_t peers[MAX_POINTS];
    size_t npeers;
    bool json, textbook;
    const char *svg;
};

/* "A-B", "A,B,C" or "N" into a->peers. */
static int parse_peers(struct model_args *a, const char *s, const char **why)
{
    char *end;
    a->npeers = 0;
    unsigned long lo = strtoul(s, &end, 10);
    if (end != s && *end == '-') {
        const char *p = end + 1;
        unsigned long hi = strtoul(p, &end, 10);
        if (end == p || *end || hi < lo || hi > MAX_PEERS || hi - lo >= MAX_POINTS) {
            *why = "a range is A-B with A <= B, at most 10000 sizes";
            return -1;
        }
        for (unsigned long n = lo; n <= hi; n++)
            a->peers[a->npeers++] = n;
        return 0;
    }
    for (const char *p = s;;) {
        unsigned long n = strtoul(p, &end, 10);
        if (end == p || n > MAX_PEERS || a->npeers == MAX_POINTS || (*end && *end != ',')) {
            *why = "expected 1-35, 8,16,32 or a number";
            return -1;
        }
        a->peers[a->npeers++] = n;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

static const struct option options[] = {
    {"file-size", required_argument, NULL, 'F'}, {"server-up", required_argument, NULL, 'S'},
    {"peer-up", required_argument, NULL, 'U'},   {"peer-down", required_argument, NULL, 'D'},
    {"classes", required_argument, NULL, 'C'},   {"peers", required_argument, NULL, 'N'},
    {"textbook", no_argument, NULL, 'T'},        {"json", no_argument, NULL, 'j'},
    {"svg", required_argument, NULL, 'G'},       {"help", no_argument, NULL, 'h'},
    {0, 0, 0, 0},
};

/* A size or rate option into *dst; -1 on success, else the exit status.
 * Only the peers' rates may be 0. */
static int rate_opt(const char *opt, const char *v, bool zero_ok, double *dst)
{
    const char *why = NULL;
    uint64_t x;
    if (cli_parse_size(v, &x, &why) != 0)
        return cli_bad_value("model", opt, v, why);
    if (x == 0 && !zero_ok)
        return cli_bad_value("model", opt, v, "must be more than 0");
    *dst = (double)x;
    return -1;
}

/* One option into `a`; -1 to go on, else an exit status. */
static int parse_one(struct model_args *a, int c, const char *v, const char **classes)
{
    const char *why = "";
    switch (c) {
    case 'F': return rate_opt("--file-size", v, false, &a->m.file_size);
    case 'S': return rate_opt("--server-up", v, false, &a->m.server_up);
    case 'U': return rate_opt("--peer-up", v, true, &a->m.classes[0].up);
    case 'D': return rate_opt("--peer-down", v, true, &a->m.classes[0].down);
    case 'C': *classes = v; return -1;
    case 'N': return parse_peers(a, v, &why) ? cli_bad_value("model", "--peers", v, why) : -1;
    case 'T': a->textbook = true; return -1;
    case 'j': a->json = true; return -1;
    case 'G': a->svg = v; return -1;
    case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
    default: return cli_usage_hint("model");
    }
}

static int parse_args(struct model_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->m = (struct rill_model){.file_size = 1024.0 * 1024 * 1024, .server_up = 10485760,
                               .classes = {{.share = 1, .up = 1048576, .down = 20971520}},
                               .nclasses = 1};
    const char *classes = NULL, *why = "";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int status = parse_one(a, c, optarg, &classes);
        if (status >= 0)
            return status;
    }
    if (optind < argc) {
        cli_error("model: unexpected argument '%s'", argv[optind]);
        return cli_usage_hint("model");
    }
    if (classes && cli_parse_classes(classes, &a->m, &why) != 0)
        return cli_bad_value("model", "--classes", classes, why);
    if (a->textbook) {
        /* F/u = 1 hour with u = 1 MiB/s; u_s = 10u; d_min = u_s. */
        double u = 1048576;
        a->m = (struct rill_model){.file_size = 3600 * u, .server_up = 10 * u,
                                   .classes = {{.share = 1, .up = u, .down = 10 * u}},
                                   .nclasses = 1};
        if (!a->npeers)
            for (size_t n = 0; n <= 35; n++)
                a->peers[a->npeers++] = n;
    }
    if (!a->npeers)
        for (size_t n = 1; n <= 35; n++)
            a->peers[a->npeers++] = n;
    return -1;
}

static void print_table(const struct model_args *a)
{
    char s1[32], s2[32], s3[32];
    printf("file %s, server up %s", cli_fmt_size((uint64_t)a->m.file_size, s1),
           cli_fmt_rate(a->m.server_up, s2));
    for (size_t c = 0; c < a->m.nclasses; c++) {
        printf("%s peers", c ? ";" : ",");
        if (a->m.nclasses > 1)
            printf(" (share %.4g)", a->m.classes[c].share);
        printf(": up %s, down %s", cli_fmt_rate(a->m.classes[c].up, s1),
               a->m.classes[c].down > 0 ? cli_fmt_rate(a->m.classes[c].down, s3) : "unlimited");
    }
    printf("\n%8s %16s %16s %10s\n", "peers", "client-server s", "p2p s", "cs/p2p");
    for (size_t i = 0; i < a->npeers; i++) {
        double cs = rill_model_client_server(&a->m, a->peers[i]);
        double p2p = rill_model_p2p(&a->m, a->peers[i]);
        printf("%8zu %16.1f %16.1f %10.2f\n", a->peers[i], cs, p2p, p2p > 0 ? cs / p2p : 1.0);
    }
}

static void print_json(const struct model_args *a)
{
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_object(&j);
    cli_json_key(&j, "file_size");
    cli_json_u64(&j, (uint64_t)a->m.file_size);
    cli_json_key(&j, "server_up");
    cli_json_u64(&j, (uint64_t)a->m.server_up);
    cli_json_key(&j, "rows");
    cli_json_array(&j);
    for (size_t i = 0; i < a->npeers; i++) {
        cli_json_object_compact(&j);
        cli_json_key(&j, "peers");
        cli_json_u64(&j, a->peers[i]);
        cli_json_key(&j, "client_server_s");
        cli_json_double(&j, rill_model_client_server(&a->m, a->peers[i]), 3);
        cli_json_key(&j, "p2p_s");
        cli_json_double(&j, rill_model_p2p(&a->m, a->peers[i]), 3);
        cli_json_end(&j);
    }
    cli_json_end(&j);
    cli_json_end(&j);
    cli_json_finish(&j);
}

static int write_svg(const struct model_args *a)
{
    double *x = malloc(a->npeers * 3 * sizeof *x);
    if (!x)
        return CLI_EXIT_IO;
    double *cs = x + a->npeers, *p2p = cs + a->npeers;
    /* Hours when the times run to hours (the book's axis), else seconds. */
    double unit = rill_model_client_server(&a->m, a->peers[a->npeers - 1]) >= 7200 ? 3600 : 1;
    for (size_t i = 0; i < a->npeers; i++) {
        x[i] = (double)a->peers[i];
        cs[i] = rill_model_client_server(&a->m, a->peers[i]) / unit;
        p2p[i] = rill_model_p2p(&a->m, a->peers[i]) / unit;
    }
    struct rill_svg_series s[] = {
        {.name = "client-server D_cs", .x = x, .y = cs, .n = a->npeers, .color = "#d62728"},
        {.name = "peer-to-peer D_p2p", .x = x, .y = p2p, .n = a->npeers, .color = "#1f77b4"},
    };
    struct rill_svg_chart c = {.title = "Minimum distribution time",
                               .x_label = "N (peers)",
                               .y_label = unit > 1 ? "hours" : "seconds",
                               .series = s, .nseries = 2};
    struct rill_buf b;
    rill_buf_init(&b, 0);
    int rc = rill_svg_chart(&b, &c);
    free(x);
    int st = rc == 0 ? cli_lab_write("model", a->svg, &b) : CLI_EXIT_IO;
    if (rc != 0)
        cli_error("model: cannot draw the chart: %s", rill_strerror(rc));
    rill_buf_free(&b);
    return st;
}

int cli_cmd_model(int argc, char **argv)
{
    struct model_args *a = malloc(sizeof *a);
    if (!a)
        return CLI_EXIT_IO;
    int status = parse_args(a, argc, argv);
    if (status < 0) {
        if (a->json)
            print_json(a);
        else
            print_table(a);
        status = a->svg ? write_svg(a) : CLI_EXIT_OK;
        status = cli_finish(status);
    }
    free(a);
    return status;
}
