/* `rill swarm`'s engine: a real swarm of rill processes on loopback. It
 * generates the file, starts `rill tracker`, one `rill seed` limited to the
 * seed's rate and the planned leechers (`rill get`, each with its own
 * --max-up/--max-down, --no-upload for free-riders and client-server mode,
 * the ablation switches) at their arrival times; it reads their
 * --json-log events to time each completion, stops and restarts churning
 * peers, and stops every process it started, whatever happens (each child
 * also dies with it, by PR_SET_PDEATHSIG). */
#ifndef RILL_LAB_SWARM_RUN_H
#define RILL_LAB_SWARM_RUN_H

#include "lab.h"

struct rill_lab_swarm_opts {
    const char *rill;            /* the rill executable */
    const char *workdir;         /* NULL: a new directory under $TMPDIR or /tmp,
                                    removed at the end */
    bool keep;                   /* keep the work directory (with each process's log) */
    /* Progress for people, about once a second, and notes; may be NULL. */
    void (*log)(void *ctx, const char *line);
    void *ctx;
};

/* Runs the experiment and fills `r` (r->peers allocated; free with
 * rill_lab_result_free). Returns 0 when the run happened, even if peers
 * missed the time limit (their done_s stays negative); a negative
 * enum rill_err with *why for a run that could not happen (a process
 * failed, the work directory could not be made, SIGINT or SIGTERM). */
int rill_lab_swarm_run(const struct rill_lab_config *c, const struct rill_lab_swarm_opts *o,
                       struct rill_lab_result *r, const char **why);

#endif
