/* A small thread pool for disk reads, writes and piece hashing (DESIGN.md:
 * "Threads"). Workers never touch protocol state: a job carries its inputs
 * and outputs, runs `work` on a worker thread, then `done` runs on the event
 * loop thread. Results cross back through an eventfd watched by one event on
 * the loop, so any event_base works, and no lock leaks out of this file. */
#ifndef RILL_IO_WORKERS_H
#define RILL_IO_WORKERS_H

#include <stdbool.h>

struct event_base;
struct rill_workers;
struct rill_work;

/* Runs on a worker thread; `worker` is the thread's index in [0, threads),
 * so a job can use per-thread resources (e.g. one rill_storage each). */
typedef void (*rill_work_fn)(struct rill_work *job, unsigned worker);
/* Runs on the loop thread after `work`, or instead of it with cancelled set
 * when the pool is freed before the job started. May free the job. */
typedef void (*rill_done_fn)(struct rill_work *job, bool cancelled);

/* Embed this in a job struct; the pool links jobs through it, so submitting
 * never allocates. */
struct rill_work {
    struct rill_work *next;
    rill_work_fn work;
    rill_done_fn done;
    bool urgent; /* served before the others (block reads for uploads) */
};

/* Makes a pool of `threads` workers (0: one per online core) whose results
 * are delivered on `base`. */
int rill_workers_new(struct rill_workers **w, struct event_base *base, unsigned threads);
unsigned rill_workers_threads(const struct rill_workers *w);
/* Queues a job; `work` and `done` must be set. Never blocks. */
void rill_workers_submit(struct rill_workers *w, struct rill_work *job);
/* Jobs queued or running, not yet delivered. */
unsigned rill_workers_pending(const struct rill_workers *w);
/* Stops the pool: jobs not yet started are delivered as cancelled, running
 * ones finish, and every `done` runs before this returns. */
void rill_workers_free(struct rill_workers *w);

#endif
