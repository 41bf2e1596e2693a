/* Thread pool with results delivered on the libevent loop (see workers.h). */
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "io/workers.h"
#include "rill.h"

/* A FIFO of intrusive jobs. */
struct queue {
    struct rill_work *head, *tail;
};

struct rill_workers {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct queue urgent, normal, finished;
    bool stopping;
    unsigned threads, pending;
    pthread_t *tids;
    /* A worker with results for an idle loop writes to this eventfd. An
     * eventfd rather than event_active() from the worker: that would need the
     * embedding program to have called evthread_use_pthreads() before making
     * its event_base, which is not ours to require. */
    int wake_fd;
    struct event *deliver;
};

struct worker_arg {
    struct rill_workers *pool;
    unsigned index;
};

static void push(struct queue *q, struct rill_work *job)
{
    job->next = NULL;
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
}

static struct rill_work *pop(struct queue *q)
{
    struct rill_work *job = q->head;
    if (job) {
        q->head = job->next;
        if (!q->head)
            q->tail = NULL;
    }
    return job;
}

static void *worker_main(void *p)
{
    struct worker_arg arg = *(struct worker_arg *)p;
    free(p);
    struct rill_workers *w = arg.pool;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        struct rill_work *job = pop(&w->urgent);
        if (!job)
            job = pop(&w->normal);
        if (!job) {
            if (w->stopping)
                break;
            pthread_cond_wait(&w->wake, &w->lock);
            continue;
        }
        pthread_mutex_unlock(&w->lock);
        job->work(job, arg.index);
        pthread_mutex_lock(&w->lock);
        bool was_empty = w->finished.head == NULL;
        push(&w->finished, job);
        if (was_empty) {
            uint64_t one = 1;
            ssize_t n = write(w->wake_fd, &one, sizeof one);
            (void)n; /* a full counter still wakes the loop */
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* On the loop: runs `done` for every finished job. */
static void deliver(evutil_socket_t fd, short what, void *p)
{
    (void)what;
    struct rill_workers *w = p;
    uint64_t count;
    if (fd >= 0 && read(fd, &count, sizeof count) < 0)
        count = 0; /* EAGAIN: another turn already drained it */
    pthread_mutex_lock(&w->lock);
    struct queue done = w->finished;
    w->finished.head = w->finished.tail = NULL;
    pthread_mutex_unlock(&w->lock);
    for (struct rill_work *job = done.head, *next; job; job = next) {
        next = job->next;
        w->pending--;
        job->done(job, false);
    }
}

int rill_workers_new(struct rill_workers **out, struct event_base *base, unsigned threads)
{
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    struct rill_workers *w = calloc(1, sizeof *w);
    if (!w)
        return RILL_ENOMEM;
    w->tids = calloc(threads, sizeof *w->tids);
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->deliver = w->wake_fd >= 0 ? event_new(base, w->wake_fd, EV_READ | EV_PERSIST, deliver, w)
                                 : NULL;
    if (!w->tids || !w->deliver || event_add(w->deliver, NULL) != 0 ||
        pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w->tids);
        if (w->deliver)
            event_free(w->deliver);
        if (w->wake_fd >= 0)
            close(w->wake_fd);
        free(w);
        return RILL_ENOMEM;
    }
    pthread_cond_init(&w->wake, NULL);
    for (unsigned i = 0; i < threads; i++) {
        struct worker_arg *arg = malloc(sizeof *arg);
        if (arg)
            *arg = (struct worker_arg){w, i};
        if (!arg || pthread_create(&w->tids[w->threads], NULL, worker_main, arg) != 0) {
            free(arg);
            break;
        }
        w->threads++;
    }
    if (w->threads == 0) {
        rill_workers_free(w);
        return RILL_EIO;
    }
    *out = w;
    return 0;
}

unsigned rill_workers_threads(const struct rill_workers *w)
{
    return w->threads;
}

void rill_workers_submit(struct rill_workers *w, struct rill_work *job)
{
    pthread_mutex_lock(&w->lock);
    push(job->urgent ? &w->urgent : &w->normal, job);
    w->pending++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

unsigned rill_workers_pending(const struct rill_workers *w)
{
    return w->pending;
}

void rill_workers_free(struct rill_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    struct queue cancelled = {0};
    for (struct rill_work *job; (job = pop(&w->urgent)) || (job = pop(&w->normal));)
        push(&cancelled, job);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->threads; i++)
        pthread_join(w->tids[i], NULL);
    deliver(-1, 0, w); /* what finished while stopping */
    for (struct rill_work *job = cancelled.head, *next; job; job = next) {
        next = job->next;
        w->pending--;
        job->done(job, true);
    }
    event_free(w->deliver);
    close(w->wake_fd);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->tids);
    free(w);
}
