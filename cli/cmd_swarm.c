/* rill swarm: a real swarm of rill processes on loopback (lab/swarm_run.c),
 * its distribution time beside the bound. */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "lab_cmd.h"
#include "swarm_run.h"

static const char usage_text[] =
    "Usage: rill swarm [OPTIONS]\n"
    "Runs a swarm on this machine: rill's tracker, one seed and N leechers as separate\n"
    "rill processes on 127.0.0.1, each held to its upload and download rate by rill's\n"
    "own rate limiter, with a generated file. Prints each leecher's completion time, the\n"
    "distribution time D, the lower bound for exactly this setup, and D over the bound.\n"
    "\n"
    "      --workdir DIR       keep the file, torrent and every process's log in DIR\n"
    "                          (default: a temporary directory, removed at the end)\n";

struct swarm_ctx {
    char rill[PATH_MAX];
    const struct cli_lab_args *a;
};

static void progress(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "swarm: %s\n", line);
}

static int run(void *ctx, const struct rill_lab_config *c, struct rill_lab_result *r,
               const char **why)
{
    struct swarm_ctx *s = ctx;
    struct rill_lab_swarm_opts o = {.rill = s->rill, .workdir = s->a->workdir,
                                    .keep = s->a->workdir != NULL,
                                    .log = s->a->quiet ? NULL : progress};
    return rill_lab_swarm_run(c, &o, r, why);
}

int cli_cmd_swarm(int argc, char **argv)
{
    struct cli_lab_args a;
    int st = cli_lab_parse(&a, "swarm", usage_text, argc, argv);
    if (st >= 0)
        return st;
    struct swarm_ctx s = {.a = &a};
    /* The leechers, the seed and the tracker are this same program. */
    ssize_t n = readlink("/proc/self/exe", s.rill, sizeof s.rill - 1);
    if (n <= 0) {
        cli_error("swarm: cannot find the rill executable (/proc/self/exe)");
        return CLI_EXIT_IO;
    }
    s.rill[n] = '\0';
    struct cli_lab_engine e = {.run = run, .ctx = &s};
    return cli_lab_main(&a, &e);
}
