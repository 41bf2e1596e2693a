/* The swarm runner's child processes: spawned with their stdout on a pipe
 * the event loop reads line by line, stderr in a log file, and tied to the
 * runner's life (PR_SET_PDEATHSIG). Internal to lab/swarm_run.c. */
#ifndef RILL_LAB_SWARM_PROC_H
#define RILL_LAB_SWARM_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct event;
struct evbuffer;

struct lab_proc {
    pid_t pid;                   /* 0: not running */
    int out;                     /* read end of its stdout; -1 */
    struct event *ev;
    struct evbuffer *in;
    int status;                  /* wait status of its last exit */
    unsigned runs;               /* times started */
    /* Each complete stdout line (without the newline), and the exit after
     * the last line was delivered. */
    void (*on_line)(struct lab_proc *p, const char *line, size_t n);
    void (*on_exit)(struct lab_proc *p);
    void *ctx;
    unsigned index;              /* the caller's */
    int copy;                    /* every stdout line is also appended here; -1 */
};

/* Starts argv[0] (a path) with argv; stderr is appended to `log_path`
 * (and, with p->copy >= 0, stdout lines to that descriptor too).
 * Returns 0 or a negative enum rill_err. */
int lab_proc_spawn(struct lab_proc *p, struct event_base *base, char *const argv[],
                   const char *log_path);

/* Sends `sig` if it runs. */
void lab_proc_signal(struct lab_proc *p, int sig);

/* Reaps every exited child among procs[0..n): delivers the rest of its
 * output, then on_exit. Call on SIGCHLD. */
void lab_proc_reap(struct lab_proc **procs, size_t n);

/* Kills it if it still runs and waits for it (no on_exit surprises: it is
 * called, after its last lines). */
void lab_proc_kill(struct lab_proc *p);

/* Frees the event and buffer of a process that is no longer running. */
void lab_proc_release(struct lab_proc *p);

#endif
