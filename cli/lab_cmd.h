/* The body of `rill swarm` and `rill sim` (cli/lab_cmd.c, lab_ablate.c):
 * the same outputs around either engine. */
#ifndef RILL_CLI_LAB_CMD_H
#define RILL_CLI_LAB_CMD_H

#include "lab_args.h"

struct cli_lab_engine {
    /* Runs one experiment into r (see rill_lab_swarm_run). */
    int (*run)(void *ctx, const struct rill_lab_config *c, struct rill_lab_result *r,
               const char **why);
    void *ctx;
};

/* One run, a sweep (--sweep) or the ablations (--ablations); the exit status. */
int cli_lab_main(const struct cli_lab_args *a, const struct cli_lab_engine *e);
/* The ablation report: the same swarm once per variant, side by side. */
int cli_lab_ablations(const struct cli_lab_args *a, const struct cli_lab_engine *e);

#endif
