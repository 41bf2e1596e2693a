/* The options `rill swarm` and `rill sim` share: one experiment, its
 * outputs, a sweep over N and the ablation report. */
#ifndef RILL_CLI_LAB_ARGS_H
#define RILL_CLI_LAB_ARGS_H

#include "lab.h"

#define CLI_LAB_MAX_SWEEP 32

struct cli_lab_args {
    const char *cmd;                 /* "swarm" or "sim" */
    struct rill_lab_config c;
    bool json, quiet, ablations;
    const char *csv, *svg, *workdir;
    unsigned sweep[CLI_LAB_MAX_SWEEP];
    size_t nsweep;
};

/* The option help both commands print after their own first lines. */
extern const char cli_lab_options_help[];

/* Parses argv into `a` (defaults from rill_lab_config_default). Returns -1
 * to go on, else the exit status (0 after --help, 2 on a usage error). */
int cli_lab_parse(struct cli_lab_args *a, const char *cmd, const char *usage, int argc,
                  char **argv);

/* Writes `b` to `path` (for --csv and --svg); 0, or the I/O exit status
 * after an error message. */
int cli_lab_write(const char *cmd, const char *path, const struct rill_buf *b);

#endif
