/* `rill swarm`: a real swarm of rill processes (see swarm_run.h). The
 * experiment's clock starts when the seed is ready; every time below is
 * seconds from then, as the runner sees the processes' events. */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <event2/event.h>

#include "io/clock.h"
#include "json_scan.h"
#include "swarm_proc.h"
#include "swarm_run.h"
#include "swarm_setup.h"
#include "util/util.h"

#define STOP_GRACE_MS 5000
#define TICK_MS 250
#define MAX_ARGS 40
#define SWARM_MAX_PEERS 1000

struct swarm_run;

struct leech {
    struct lab_proc proc;
    struct swarm_run *run;
    struct event *timer;         /* arrival, or return after churn */
    bool complete, churned, away;
    uint64_t up_before, down_before; /* totals of earlier runs (churn) */
    uint64_t up_now, down_now;       /* this run's, from its latest event */
};

struct swarm_run {
    const struct rill_lab_config *c;
    const struct rill_lab_swarm_opts *o;
    struct rill_lab_result *r;
    struct event_base *base;
    char dir[PATH_MAX / 2], content[PATH_MAX / 2 + 16], torrent[PATH_MAX], tracker_addr[64];
    struct lab_proc tracker, seed;
    struct leech *leech;
    struct lab_proc **all;       /* tracker, seed, leechers: for reaping */
    size_t nall;
    uint64_t t0_ms, stop_at_ms, last_log_ms;
    bool started, stopping;
    unsigned complete;
    uint64_t seed_uploaded;
    double limit_s;
    int error;
    const char *why;
};

static double now_s(const struct swarm_run *w)
{
    return (double)(rill__monotonic_ms() - w->t0_ms) / 1000.0;
}

static void say(struct swarm_run *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct swarm_run *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rill__log_vline(w->o->log, w->o->ctx, fmt, ap);
    va_end(ap);
}

static bool any_running(const struct swarm_run *w)
{
    for (size_t i = 0; i < w->nall; i++)
        if (w->all[i]->pid > 0)
            return true;
    return false;
}

/* Asks every process to stop (they save and announce 'stopped'); the tick
 * kills what is left after STOP_GRACE_MS. */
static void begin_stop(struct swarm_run *w, int error, const char *why)
{
    if (error && !w->error) {
        w->error = error;
        w->why = why;
    }
    if (!w->stopping) {
        w->stopping = true;
        w->stop_at_ms = rill__monotonic_ms() + STOP_GRACE_MS;
        for (size_t i = 0; i < w->nall; i++)
            lab_proc_signal(w->all[i], SIGTERM);
    }
    if (!any_running(w))
        event_base_loopbreak(w->base);
}

static const char *const picker_names[] = {"rarest", "random", "sequential"};
static const char *const choker_names[] = {"tit-for-tat", "round-robin", "none"};

/* The choking switches, which the seed takes too. */
static size_t choke_args(const struct rill_lab_config *c, char **argv, size_t n, char *slots,
                         size_t cap)
{
    argv[n++] = "--choker";
    argv[n++] = (char *)choker_names[c->choker];
    if (c->unchoke_slots) {
        snprintf(slots, cap, "%u", c->unchoke_slots);
        argv[n++] = "--unchoke-slots";
        argv[n++] = slots;
    }
    if (c->no_optimistic)
        argv[n++] = "--no-optimistic";
    return n;
}

/* With a kept work directory, NAME.events gets the process's JSON lines. */
static void keep_events(struct swarm_run *w, struct lab_proc *p, const char *name)
{
    if (!w->o->keep || p->copy >= 0)
        return;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.events", w->dir, name);
    p->copy = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static int spawn_leech(struct swarm_run *w, struct leech *l)
{
    const struct rill_lab_config *c = w->c;
    const struct rill_lab_peer *p = &w->r->peers[l->proc.index];
    char dir[PATH_MAX], log[PATH_MAX], up[32], down[32], slots[16], addr[32];
    snprintf(dir, sizeof dir, "%s/peer%u", w->dir, p->index);
    snprintf(log, sizeof log, "%s/peer%u.log", w->dir, p->index);
    /* Each leecher on its own loopback /24, as peers on a real network: BEP 6
     * draws the allowed-fast pieces from the address's /24, so on one shared
     * address every newcomer would fetch the same 10 pieces first. */
    snprintf(addr, sizeof addr, "127.%u.%u.1", 1 + p->index / 256, p->index % 256);
    char *argv[MAX_ARGS] = {(char *)w->o->rill, "get",      w->torrent, "-o",
                            dir,                  "--port",   "0",        "--no-dht",
                            "--no-lsd",           "--bind",   addr,       "--json-log",
                            "-q",                 "--picker", (char *)picker_names[c->picker]};
    size_t n = 15;
    if (p->up == 0) {
        argv[n++] = "--no-upload";
    } else {
        snprintf(up, sizeof up, "%llu", (unsigned long long)p->up);
        argv[n++] = "--max-up";
        argv[n++] = up;
    }
    if (p->down) {
        snprintf(down, sizeof down, "%llu", (unsigned long long)p->down);
        argv[n++] = "--max-down";
        argv[n++] = down;
    }
    if (!c->leave)
        argv[n++] = "--seed";
    if (c->no_endgame)
        argv[n++] = "--no-endgame";
    n = choke_args(c, argv, n, slots, sizeof slots);
    argv[n] = NULL;
    l->up_now = l->down_now = 0;
    char name[32];
    snprintf(name, sizeof name, "peer%u", p->index);
    keep_events(w, &l->proc, name);
    return lab_proc_spawn(&l->proc, w->base, argv, log);
}

static void on_leech_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct leech *l = arg;
    struct swarm_run *w = l->run;
    if (w->stopping)
        return;
    l->away = false;
    int rc = spawn_leech(w, l);
    if (rc)
        begin_stop(w, rc, "cannot start a leecher");
}

static void schedule(struct leech *l, double in_s)
{
    struct timeval tv = {(time_t)in_s, (suseconds_t)((in_s - (double)(time_t)in_s) * 1e6)};
    evtimer_add(l->timer, &tv);
}

/* The experiment starts: every leecher gets its arrival timer. */
static void start_experiment(struct swarm_run *w)
{
    w->started = true;
    w->t0_ms = rill__monotonic_ms();
    w->last_log_ms = w->t0_ms;
    say(w, "seed ready; %u leechers arriving", w->c->peers);
    for (unsigned i = 0; i < w->c->peers; i++)
        schedule(&w->leech[i], w->r->peers[i].arrive_s);
}

static void on_seed_line(struct lab_proc *p, const char *line, size_t n)
{
    struct swarm_run *w = p->ctx;
    char state[32];
    uint64_t up;
    if (rill_lab_json_u64(line, n, "uploaded", &up))
        w->seed_uploaded = up;
    if (!w->started && rill_lab_json_str(line, n, "state", state, sizeof state) &&
        strcmp(state, "seeding") == 0)
        start_experiment(w);
}

static void on_leech_line(struct lab_proc *proc, const char *line, size_t n)
{
    struct leech *l = (struct leech *)proc; /* proc is the first member */
    struct swarm_run *w = l->run;
    struct rill_lab_peer *p = &w->r->peers[proc->index];
    char event[32];
    uint64_t v;
    if (!rill_lab_json_str(line, n, "event", event, sizeof event))
        return; /* a session log line */
    if (rill_lab_json_u64(line, n, "uploaded", &v))
        l->up_now = v;
    if (rill_lab_json_u64(line, n, "downloaded", &v))
        l->down_now = v;
    /* The session's first_piece event, or failing that (a resumed churner
     * restarts with pieces) the first progress line that has one. */
    if (p->first_piece_s < 0 && (strcmp(event, "first_piece") == 0 ||
                                 (rill_lab_json_u64(line, n, "pieces_have", &v) && v > 0)))
        p->first_piece_s = now_s(w);
    if (strcmp(event, "complete") == 0 && !l->complete) {
        l->complete = true;
        p->done_s = now_s(w);
        if (++w->complete == w->c->peers) {
            say(w, "all %u leechers complete at %.2f s", w->c->peers, p->done_s);
            begin_stop(w, 0, NULL);
        }
        return;
    }
    /* A churner leaves once it holds its share of the file. */
    if (p->churn_at > 0 && !l->churned && !l->complete && !w->stopping &&
        rill_lab_json_u64(line, n, "have", &v) && (double)v >= p->churn_at * (double)w->c->file_size) {
        l->churned = l->away = true;
        say(w, "peer %u leaves at %.1f s with %.0f%% of the file, back in %.0f s", p->index,
            now_s(w), 100.0 * (double)v / (double)w->c->file_size, p->away_s);
        lab_proc_signal(proc, SIGTERM);
    }
}

static void on_leech_exit(struct lab_proc *proc)
{
    struct leech *l = (struct leech *)proc;
    struct swarm_run *w = l->run;
    l->up_before += l->up_now;
    l->down_before += l->down_now;
    l->up_now = l->down_now = 0;
    if (w->stopping) {
        if (!any_running(w))
            event_base_loopbreak(w->base);
    } else if (l->away && !l->complete) {
        schedule(l, w->r->peers[proc->index].away_s);
    } else if (!l->complete) {
        say(w, "peer %u exited (status %d) before completing; its log: %s/peer%u.log",
            proc->index, proc->status, w->dir, proc->index);
        begin_stop(w, RILL_EIO, "a leecher exited before completing");
    }
}

static void on_service_exit(struct lab_proc *proc)
{
    struct swarm_run *w = proc->ctx;
    if (!w->stopping) {
        say(w, "the %s exited (status %d); its log is in %s", proc == &w->seed ? "seed" : "tracker",
            proc->status, w->dir);
        begin_stop(w, RILL_EIO, proc == &w->seed ? "the seed exited" : "the tracker exited");
    } else if (!any_running(w)) {
        event_base_loopbreak(w->base);
    }
}

static void log_progress(struct swarm_run *w, uint64_t now)
{
    if (!w->started || now - w->last_log_ms < 1000)
        return;
    w->last_log_ms = now;
    unsigned present = 0;
    for (unsigned i = 0; i < w->c->peers; i++)
        present += w->leech[i].proc.pid > 0;
    say(w, "%6.1f s  %u of %u complete, %u running, seed uploaded %.1f MiB", now_s(w),
        w->complete, w->c->peers, present, (double)w->seed_uploaded / 1048576.0);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct swarm_run *w = arg;
    uint64_t now = rill__monotonic_ms();
    if (w->stopping) {
        if (now >= w->stop_at_ms)
            for (size_t i = 0; i < w->nall; i++)
                lab_proc_signal(w->all[i], SIGKILL);
        return;
    }
    log_progress(w, now);
    if (w->started && now_s(w) > w->limit_s) {
        say(w, "time limit of %.0f s reached with %u of %u complete", w->limit_s, w->complete,
            w->c->peers);
        begin_stop(w, 0, NULL);
    } else if (!w->started && now - w->t0_ms > 120000) {
        begin_stop(w, RILL_EIO, "the seed was not ready within 120 s");
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct swarm_run *w = arg;
    if (sig == SIGCHLD) {
        lab_proc_reap(w->all, w->nall);
        if (w->stopping && !any_running(w))
            event_base_loopbreak(w->base);
    } else {
        begin_stop(w, RILL_EIO, "interrupted");
    }
}

/* The file, its torrent, the tracker and the seed. */
static int prepare(struct swarm_run *w)
{
    uint16_t port;
    char path[PATH_MAX], url[96], log[PATH_MAX];
    snprintf(w->content, sizeof w->content, "%s/seed", w->dir);
    snprintf(path, sizeof path, "%s/swarm.bin", w->content);
    snprintf(w->torrent, sizeof w->torrent, "%s/swarm.torrent", w->dir);
    int rc = mkdir(w->content, 0755) == 0 ? 0 : RILL_EIO;
    if (rc == 0)
        rc = lab_write_content(path, w->c->file_size, w->c->rng_seed);
    if (rc == 0)
        rc = lab_free_port(&port);
    if (rc)
        return rc;
    snprintf(w->tracker_addr, sizeof w->tracker_addr, "127.0.0.1:%u", port);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/announce", port);
    rc = lab_write_torrent(path, w->torrent, w->c->piece_size, url);
    /* A short min interval: a leecher with no one useful asks again soon. */
    char *targv[] = {(char *)w->o->rill, "tracker", "--http", w->tracker_addr, "--interval",
                     "60", "--min-interval", "5", NULL};
    snprintf(log, sizeof log, "%s/tracker.log", w->dir);
    if (rc == 0)
        rc = lab_proc_spawn(&w->tracker, w->base, targv, log);
    if (rc == 0 && lab_wait_port(port, 10000) != 0)
        return RILL_EIO;
    char up[32], slots[16];
    snprintf(up, sizeof up, "%llu", (unsigned long long)w->c->seed_up);
    char *sargv[MAX_ARGS] = {(char *)w->o->rill, "seed",      w->torrent, w->content,
                             "--port",             "0",         "--no-dht", "--no-lsd",
                             "--bind",             "127.0.0.1", "--json-log", "-q",
                             "--max-up",           up};
    size_t n = choke_args(w->c, sargv, 14, slots, sizeof slots);
    sargv[n] = NULL;
    snprintf(log, sizeof log, "%s/seed.log", w->dir);
    keep_events(w, &w->seed, "seed");
    return rc ? rc : lab_proc_spawn(&w->seed, w->base, sargv, log);
}

static int setup_events(struct swarm_run *w, struct event **ev, size_t nev)
{
    const int sigs[] = {SIGCHLD, SIGINT, SIGTERM};
    for (size_t i = 0; i < 3 && i < nev; i++)
        ev[i] = evsignal_new(w->base, sigs[i], on_signal, w);
    ev[3] = event_new(w->base, -1, EV_PERSIST, on_tick, w);
    for (size_t i = 0; i < nev; i++)
        if (!ev[i])
            return RILL_ENOMEM;
    struct timeval tick = {0, TICK_MS * 1000};
    for (size_t i = 0; i < 3; i++)
        evsignal_add(ev[i], NULL);
    event_add(ev[3], &tick);
    for (unsigned i = 0; i < w->c->peers; i++) {
        w->leech[i] = (struct leech){.run = w, .proc = {.out = -1, .copy = -1, .index = i, .ctx = w,
                                                        .on_line = on_leech_line,
                                                        .on_exit = on_leech_exit}};
        w->leech[i].timer = evtimer_new(w->base, on_leech_timer, &w->leech[i]);
        if (!w->leech[i].timer)
            return RILL_ENOMEM;
        w->all[2 + i] = &w->leech[i].proc;
    }
    return 0;
}

/* Per-peer totals over all of a peer's runs, and the seed's. */
static void collect(struct swarm_run *w)
{
    for (unsigned i = 0; i < w->c->peers; i++) {
        struct leech *l = &w->leech[i];
        w->r->peers[i].uploaded = l->up_before + l->up_now;
        w->r->peers[i].downloaded = l->down_before + l->down_now;
    }
    w->r->seed_uploaded = w->seed_uploaded;
}

static void teardown(struct swarm_run *w, struct event **ev, size_t nev)
{
    w->stopping = true; /* exits from here on are expected */
    for (size_t i = 0; w->all && i < w->nall; i++)
        if (w->all[i])
            lab_proc_kill(w->all[i]); /* only if still running: never normally */
    for (unsigned i = 0; w->leech && i < w->c->peers; i++) {
        if (w->leech[i].timer)
            event_free(w->leech[i].timer);
        lab_proc_release(&w->leech[i].proc);
    }
    lab_proc_release(&w->tracker);
    lab_proc_release(&w->seed);
    for (size_t i = 0; i < nev; i++)
        if (ev[i])
            event_free(ev[i]);
    free(w->leech);
    free(w->all);
    if (w->base)
        event_base_free(w->base);
    if (!w->o->keep)
        lab_remove_tree(w->dir);
}

int rill_lab_swarm_run(const struct rill_lab_config *c, const struct rill_lab_swarm_opts *o,
                       struct rill_lab_result *r, const char **why)
{
    int rc = rill_lab_config_check(c, why);
    if (rc)
        return rc;
    if (c->peers > SWARM_MAX_PEERS) {
        *why = "a real swarm runs a process per leecher: at most 1000 (rill sim goes further)";
        return RILL_EINVAL;
    }
    *r = (struct rill_lab_result){.engine = "swarm", .config = *c};
    r->peers = calloc(c->peers, sizeof *r->peers);
    struct swarm_run w = {.c = c, .o = o, .r = r, .base = event_base_new(),
                          .tracker = {.out = -1, .copy = -1, .on_exit = on_service_exit},
                          .seed = {.out = -1, .copy = -1, .on_line = on_seed_line, .on_exit = on_service_exit},
                          .leech = calloc(c->peers, sizeof(struct leech)),
                          .all = calloc(c->peers + 2u, sizeof(struct lab_proc *)),
                          .nall = c->peers + 2u};
    w.tracker.ctx = w.seed.ctx = &w;
    struct event *ev[4] = {0};
    if (!r->peers || !w.base || !w.leech || !w.all) {
        *why = "out of memory";
        free(w.leech);
        free(w.all);
        if (w.base)
            event_base_free(w.base);
        rill_lab_result_free(r);
        return RILL_ENOMEM;
    }
    w.all[0] = &w.tracker;
    w.all[1] = &w.seed;
    rill_lab_plan(c, r->peers);
    w.limit_s = rill_lab_time_limit(c, r->peers);
    if (lab_workdir(w.dir, sizeof w.dir, o->workdir) != 0) {
        *why = "cannot make the work directory";
        w.o = &(struct rill_lab_swarm_opts){.keep = true}; /* nothing to remove */
        teardown(&w, ev, 4);
        rill_lab_result_free(r);
        return RILL_EIO;
    }
    uint64_t started = rill__monotonic_ms();
    w.t0_ms = started;
    rc = setup_events(&w, ev, 4);
    if (rc == 0)
        rc = prepare(&w);
    if (rc == 0)
        event_base_dispatch(w.base);
    else
        w.error = rc, w.why = "cannot prepare the swarm (file, torrent, tracker or seed)";
    collect(&w);
    r->wall_s = (double)(rill__monotonic_ms() - started) / 1000.0;
    teardown(&w, ev, 4);
    if (w.error) {
        *why = w.why;
        rill_lab_result_free(r);
        return w.error;
    }
    rill_lab_finish(r);
    return 0;
}
