/* Child processes of the swarm runner (see swarm_proc.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "rill.h"
#include "swarm_proc.h"

#define MAX_LINE 65536

/* Hands out every complete line in p->in. */
static void deliver_lines(struct lab_proc *p)
{
    for (;;) {
        size_t n;
        char *line = evbuffer_readln(p->in, &n, EVBUFFER_EOL_LF);
        if (!line) {
            /* A line that never ends is not ours: drop it rather than grow. */
            if (evbuffer_get_length(p->in) > MAX_LINE)
                evbuffer_drain(p->in, evbuffer_get_length(p->in));
            return;
        }
        if (p->copy >= 0) {
            line[n] = '\n'; /* evbuffer_readln's NUL: the copy gets the newline */
            if (write(p->copy, line, n + 1) < 0)
                p->copy = -1; /* a debugging aid: not worth failing the run */
            line[n] = '\0';
        }
        if (p->on_line)
            p->on_line(p, line, n);
        free(line);
    }
}

/* Reads what the pipe holds; false at end of file or on an error. */
static bool read_pipe(struct lab_proc *p)
{
    for (;;) {
        int got = evbuffer_read(p->in, p->out, 65536);
        if (got > 0)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        return false;
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct lab_proc *p = arg;
    bool open = read_pipe(p);
    deliver_lines(p);
    if (!open && p->ev)
        event_del(p->ev); /* end of file: the exit is near; reap() finishes */
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void become_child(char *const argv[], int out, const char *log_path, pid_t parent)
{
    /* Die with the runner, even when it is killed with SIGKILL. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    int null = open("/dev/null", O_RDONLY);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(log, 2) < 0)
        _exit(127);
    execv(argv[0], argv);
    _exit(127);
}

int lab_proc_spawn(struct lab_proc *p, struct event_base *base, char *const argv[],
                   const char *log_path)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return RILL_EIO;
    if (!p->in)
        p->in = evbuffer_new();
    if (!p->in) {
        close(fds[0]);
        close(fds[1]);
        return RILL_ENOMEM;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        become_child(argv, fds[1], log_path, parent);
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return RILL_EIO;
    }
    evutil_make_socket_nonblocking(fds[0]);
    p->pid = pid;
    p->out = fds[0];
    p->runs++;
    if (p->ev)
        event_free(p->ev);
    p->ev = event_new(base, fds[0], EV_READ | EV_PERSIST, on_readable, p);
    if (!p->ev || event_add(p->ev, NULL) != 0)
        return RILL_ENOMEM; /* the caller stops everything; reap() still works */
    return 0;
}

void lab_proc_signal(struct lab_proc *p, int sig)
{
    if (p->pid > 0)
        kill(p->pid, sig);
}

static void finish_exit(struct lab_proc *p, int status)
{
    p->pid = 0;
    p->status = status;
    if (p->out >= 0) {
        read_pipe(p); /* whatever it wrote before it exited */
        deliver_lines(p);
        close(p->out);
        p->out = -1;
    }
    if (p->ev) {
        event_free(p->ev);
        p->ev = NULL;
    }
    if (p->on_exit)
        p->on_exit(p);
}

void lab_proc_reap(struct lab_proc **procs, size_t n)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (size_t i = 0; i < n; i++)
            if (procs[i] && procs[i]->pid == pid) {
                finish_exit(procs[i], status);
                break;
            }
    }
}

void lab_proc_kill(struct lab_proc *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGKILL);
    int status;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    finish_exit(p, status);
}

void lab_proc_release(struct lab_proc *p)
{
    if (p->ev)
        event_free(p->ev);
    p->ev = NULL;
    if (p->out >= 0)
        close(p->out);
    p->out = -1;
    if (p->in)
        evbuffer_free(p->in);
    p->in = NULL;
    if (p->copy >= 0)
        close(p->copy);
    p->copy = -1;
}
