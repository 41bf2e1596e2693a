/* Options of the lab commands (see lab_args.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lab_args.h"

const char cli_lab_options_help[] =
    "The swarm (sizes and rates: 512K, 32M, 1G, 80Mbit; rates are per second):\n"
    "      --peers N           leechers (default 8)\n"
    "      --size SIZE         the file (default 32M)\n"
    "      --piece SIZE        piece size (default 256K)\n"
    "      --seed-up RATE      the seed's upload rate u_s (default 4M)\n"
    "      --up RATE           each leecher's upload rate (default 1M; 0: none)\n"
    "      --down RATE         each leecher's download rate (default 8M; 0: unlimited)\n"
    "      --classes SPEC      leechers in classes instead, e.g.\n"
    "                          '20%:up=8M,down=32M;80%:up=1M,down=8M'\n"
    "      --mode MODE         p2p (default) or client-server (leechers upload nothing)\n"
    "      --arrivals A        flash (default), staggered or poisson\n"
    "      --gap SECONDS       staggered: between arrivals; poisson: the mean (default 1)\n"
    "      --leave             leave once complete (default: stay and seed)\n"
    "      --free-riders X     share of leechers that upload nothing (0 to 1)\n"
    "      --churn X           share of leechers that leave once, part-way, and come back\n"
    "      --away SECONDS      how long a churning leecher is away (default 5)\n"
    "      --rng-seed N        the plan's random seed (default 1)\n"
    "      --time-limit SECONDS  give up after this long (default 5 x bound + 30)\n"
    "\n"
    "Ablations (what every leecher and the seed run):\n"
    "      --picker P          rarest (default), random or sequential\n"
    "      --no-endgame        no endgame mode\n"
    "      --choker C          tit-for-tat (default), round-robin or none\n"
    "      --unchoke-slots K   regular unchoke slots (default 4)\n"
    "      --no-optimistic     no optimistic unchoke\n"
    "      --ablations         run the swarm once per variant and compare them\n"
    "\n"
    "Output:\n"
    "      --json              the result as JSON on stdout\n"
    "      --csv FILE          one line per leecher\n"
    "      --svg FILE          the completion-time CDF, or with --sweep, D against N\n"
    "      --sweep LIST        run each N of LIST (2,4,8,16) in both modes\n"
    "  -q, --quiet             no progress lines\n"
    "  -h, --help              show this help\n";

enum {
    O_PEERS = 256, O_SIZE, O_PIECE, O_SEED_UP, O_UP, O_DOWN, O_CLASSES, O_MODE, O_ARRIVALS,
    O_GAP, O_LEAVE, O_FREE, O_CHURN, O_AWAY, O_RNG, O_LIMIT, O_PICKER, O_NO_ENDGAME,
    O_CHOKER, O_SLOTS, O_NO_OPT, O_ABLATIONS, O_JSON, O_CSV, O_SVG, O_SWEEP, O_WORKDIR,
};

static const struct option options[] = {
    {"peers", required_argument, NULL, O_PEERS},      {"size", required_argument, NULL, O_SIZE},
    {"piece", required_argument, NULL, O_PIECE},      {"seed-up", required_argument, NULL, O_SEED_UP},
    {"up", required_argument, NULL, O_UP},            {"down", required_argument, NULL, O_DOWN},
    {"classes", required_argument, NULL, O_CLASSES},  {"mode", required_argument, NULL, O_MODE},
    {"arrivals", required_argument, NULL, O_ARRIVALS}, {"gap", required_argument, NULL, O_GAP},
    {"leave", no_argument, NULL, O_LEAVE},            {"free-riders", required_argument, NULL, O_FREE},
    {"churn", required_argument, NULL, O_CHURN},      {"away", required_argument, NULL, O_AWAY},
    {"rng-seed", required_argument, NULL, O_RNG},     {"time-limit", required_argument, NULL, O_LIMIT},
    {"picker", required_argument, NULL, O_PICKER},    {"no-endgame", no_argument, NULL, O_NO_ENDGAME},
    {"choker", required_argument, NULL, O_CHOKER},    {"unchoke-slots", required_argument, NULL, O_SLOTS},
    {"no-optimistic", no_argument, NULL, O_NO_OPT},   {"ablations", no_argument, NULL, O_ABLATIONS},
    {"json", no_argument, NULL, O_JSON},              {"csv", required_argument, NULL, O_CSV},
    {"svg", required_argument, NULL, O_SVG},          {"sweep", required_argument, NULL, O_SWEEP},
    {"workdir", required_argument, NULL, O_WORKDIR},  {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},                 {0, 0, 0, 0},
};

static int word(const struct cli_lab_args *a, const char *opt, const char *v,
                const char *const *names, size_t n, unsigned *out)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0) {
            *out = (unsigned)i;
            return -1;
        }
    return cli_bad_value(a->cmd, opt, v, "not one of the choices in --help");
}

static int size_opt(const struct cli_lab_args *a, const char *opt, const char *v, uint64_t *out)
{
    const char *why = NULL;
    return cli_parse_size(v, out, &why) ? cli_bad_value(a->cmd, opt, v, why) : -1;
}

/* Seconds as a plain decimal ("1", "0.5"). */
static int seconds_opt(const struct cli_lab_args *a, const char *opt, const char *v, double *out)
{
    const char *why = NULL;
    return cli_parse_ratio(v, 86400, out, &why) ? cli_bad_value(a->cmd, opt, v, why) : -1;
}

/* A share: "0.25" or "25%". */
static int share_opt(const struct cli_lab_args *a, const char *opt, const char *v, double *out)
{
    char buf[32];
    size_t n = strlen(v);
    bool percent = n > 0 && n < sizeof buf && v[n - 1] == '%';
    if (percent) {
        memcpy(buf, v, n - 1);
        buf[n - 1] = '\0';
    }
    const char *why = NULL;
    if (cli_parse_ratio(percent ? buf : v, percent ? 100 : 1, out, &why))
        return cli_bad_value(a->cmd, opt, v, why);
    if (percent)
        *out /= 100;
    return -1;
}

static int count_opt(const struct cli_lab_args *a, const char *opt, const char *v, uint64_t max,
                     uint64_t *out)
{
    const char *why = NULL;
    return cli_parse_uint(v, max, out, &why) ? cli_bad_value(a->cmd, opt, v, why) : -1;
}

static int sweep_opt(struct cli_lab_args *a, const char *v)
{
    const char *p = v;
    a->nsweep = 0;
    while (*p) {
        char *end;
        unsigned long n = strtoul(p, &end, 10);
        if (end == p || n == 0 || n > 1000000 || (*end && *end != ',') ||
            a->nsweep == CLI_LAB_MAX_SWEEP)
            return cli_bad_value(a->cmd, "--sweep", v, "a list of 1 to 32 swarm sizes, like 2,4,8,16");
        a->sweep[a->nsweep++] = (unsigned)n;
        p = *end ? end + 1 : end;
    }
    return a->nsweep ? -1 : cli_bad_value(a->cmd, "--sweep", v, "no sizes");
}

static const char *const mode_names[] = {"p2p", "client-server"};
static const char *const arrival_names[] = {"flash", "staggered", "poisson"};
static const char *const picker_names[] = {"rarest", "random", "sequential"};
static const char *const choker_names[] = {"tit-for-tat", "round-robin", "none"};
#define COUNT(x) (sizeof(x) / sizeof((x)[0]))

/* The rate and size options; -1 on success, 0 when `opt` is not one. */
static int parse_amount(struct cli_lab_args *a, int opt, const char *v, const char **classes)
{
    struct rill_lab_config *c = &a->c;
    uint64_t x;
    int st;
    switch (opt) {
    case O_SIZE: return size_opt(a, "--size", v, &c->file_size);
    case O_SEED_UP: return size_opt(a, "--seed-up", v, &c->seed_up);
    case O_PIECE:
        st = size_opt(a, "--piece", v, &x);
        c->piece_size = x <= UINT32_MAX ? (uint32_t)x : 0;
        return st;
    case O_UP:
    case O_DOWN:
        st = size_opt(a, opt == O_UP ? "--up" : "--down", v, &x);
        if (opt == O_UP)
            c->classes.classes[0].up = (double)x;
        else
            c->classes.classes[0].down = (double)x;
        return st;
    case O_CLASSES: *classes = v; return -1;
    default: return 0;
    }
}

/* One option; -1 to go on, else an exit status. */
static int parse_one(struct cli_lab_args *a, int opt, const char *v, const char *usage,
                     const char **classes)
{
    struct rill_lab_config *c = &a->c;
    uint64_t x;
    int st = parse_amount(a, opt, v, classes);
    if (st != 0)
        return st;
    switch (opt) {
    case O_PEERS:
        st = count_opt(a, "--peers", v, 1000000, &x);
        c->peers = (unsigned)x;
        return st;
    case O_MODE: return word(a, "--mode", v, mode_names, COUNT(mode_names), &c->mode);
    case O_ARRIVALS: return word(a, "--arrivals", v, arrival_names, COUNT(arrival_names), &c->arrival);
    case O_GAP: return seconds_opt(a, "--gap", v, &c->arrival_gap_s);
    case O_LEAVE: c->leave = true; return -1;
    case O_FREE: return share_opt(a, "--free-riders", v, &c->free_riders);
    case O_CHURN: return share_opt(a, "--churn", v, &c->churn);
    case O_AWAY: return seconds_opt(a, "--away", v, &c->churn_away_s);
    case O_RNG: return count_opt(a, "--rng-seed", v, UINT64_MAX, &c->rng_seed);
    case O_LIMIT: return seconds_opt(a, "--time-limit", v, &c->time_limit_s);
    case O_PICKER: return word(a, "--picker", v, picker_names, COUNT(picker_names), &c->picker);
    case O_NO_ENDGAME: c->no_endgame = true; return -1;
    case O_CHOKER: return word(a, "--choker", v, choker_names, COUNT(choker_names), &c->choker);
    case O_SLOTS:
        st = count_opt(a, "--unchoke-slots", v, 64, &x);
        c->unchoke_slots = (unsigned)x;
        return st;
    case O_NO_OPT: c->no_optimistic = true; return -1;
    case O_ABLATIONS: a->ablations = true; return -1;
    case O_JSON: a->json = true; return -1;
    case O_CSV: a->csv = v; return -1;
    case O_SVG: a->svg = v; return -1;
    case O_SWEEP: return sweep_opt(a, v);
    case O_WORKDIR: a->workdir = v; return -1;
    case 'q': a->quiet = true; return -1;
    case 'h': fputs(usage, stdout); fputs(cli_lab_options_help, stdout); return CLI_EXIT_OK;
    default: return cli_usage_hint(a->cmd);
    }
}

int cli_lab_parse(struct cli_lab_args *a, const char *cmd, const char *usage, int argc,
                  char **argv)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    rill_lab_config_default(&a->c);
    const char *classes = NULL, *why = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
        int st = parse_one(a, opt, optarg, usage, &classes);
        if (st >= 0)
            return st;
    }
    if (optind < argc) {
        cli_error("%s: unexpected argument '%s'", cmd, argv[optind]);
        return cli_usage_hint(cmd);
    }
    if (classes && cli_parse_classes(classes, &a->c.classes, &why) != 0)
        return cli_bad_value(a->cmd, "--classes", classes, why);
    if (rill_lab_config_check(&a->c, &why) != 0) {
        cli_error("%s: %s", cmd, why);
        return cli_usage_hint(cmd);
    }
    if (a->ablations && a->nsweep) {
        cli_error("%s: --ablations and --sweep are separate reports; give one", cmd);
        return cli_usage_hint(cmd);
    }
    return -1;
}

int cli_lab_write(const char *cmd, const char *path, const struct rill_buf *b)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(b->data, 1, b->len, f) == b->len;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok)
        return 0;
    cli_error("%s: cannot write %s", cmd, path);
    return CLI_EXIT_IO;
}
