/* The worker pool: work runs off the loop, done runs on it, nothing is lost
 * at shutdown. */
#include "testutil.h"

#include <event2/event.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>

#include "io/workers.h"

struct job {
    struct rill_work work;
    unsigned input, output, worker;
    pthread_t ran_on;
    bool done, cancelled;
};

static pthread_t loop_thread;
static unsigned done_count;
static struct event_base *base;

static void do_work(struct rill_work *w, unsigned worker)
{
    struct job *j = (struct job *)w;
    j->output = j->input * 2 + 1;
    j->worker = worker;
    j->ran_on = pthread_self();
}

static void on_done(struct rill_work *w, bool cancelled)
{
    struct job *j = (struct job *)w;
    assert_true(pthread_equal(pthread_self(), loop_thread));
    j->done = true;
    j->cancelled = cancelled;
    done_count++;
}

static void test_jobs_round_trip(void **state)
{
    (void)state;
    loop_thread = pthread_self();
    base = event_base_new();
    struct rill_workers *w;
    assert_int_equal(rill_workers_new(&w, base, 3), 0);
    assert_int_equal(rill_workers_threads(w), 3);
    enum { N = 2000 };
    struct job *jobs = calloc(N, sizeof *jobs);
    done_count = 0;
    for (unsigned i = 0; i < N; i++) {
        jobs[i].input = i;
        jobs[i].work = (struct rill_work){.work = do_work, .done = on_done, .urgent = i % 7 == 0};
        rill_workers_submit(w, &jobs[i].work);
    }
    for (int turns = 0; done_count < N && turns < 100000; turns++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(done_count, N);
    assert_int_equal(rill_workers_pending(w), 0);
    for (unsigned i = 0; i < N; i++) {
        assert_true(jobs[i].done);
        assert_false(jobs[i].cancelled);
        assert_int_equal(jobs[i].output, 2 * i + 1);
        assert_true(jobs[i].worker < 3);
        assert_false(pthread_equal(jobs[i].ran_on, loop_thread));
    }
    rill_workers_free(w);
    free(jobs);
    event_base_free(base);
}

static void slow_work(struct rill_work *w, unsigned worker)
{
    (void)worker;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    do_work(w, worker);
}

/* Freeing with work queued: every job is delivered exactly once, either
 * finished or cancelled, before free returns. */
static void test_free_with_pending(void **state)
{
    (void)state;
    loop_thread = pthread_self();
    base = event_base_new();
    struct rill_workers *w;
    assert_int_equal(rill_workers_new(&w, base, 1), 0);
    enum { N = 50 };
    struct job jobs[N] = {0};
    done_count = 0;
    for (unsigned i = 0; i < N; i++) {
        jobs[i].input = i;
        jobs[i].work = (struct rill_work){.work = slow_work, .done = on_done};
        rill_workers_submit(w, &jobs[i].work);
    }
    rill_workers_free(w);
    assert_int_equal(done_count, N);
    unsigned cancelled = 0;
    for (unsigned i = 0; i < N; i++) {
        assert_true(jobs[i].done);
        if (jobs[i].cancelled)
            cancelled++;
        else
            assert_int_equal(jobs[i].output, 2 * i + 1);
    }
    assert_true(cancelled > 0); /* 50 x 2 ms cannot all have run */
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_round_trip),
        cmocka_unit_test(test_free_with_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
