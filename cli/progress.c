/* Progress on stderr for long jobs (hashing, checking). */
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define TTY_INTERVAL_MS 100   /* redraw rate of the bar */
#define PLAIN_DELAY_MS 1000   /* a job quicker than this prints nothing */
#define PLAIN_INTERVAL_MS 1000

uint64_t cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cli_term_columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 80;
}

void cli_progress_init(struct cli_progress *p, const char *label, bool quiet)
{
    p->label = label;
    p->enabled = !quiet;
    p->tty = isatty(STDERR_FILENO) == 1;
    p->drawn = false;
    p->start_ms = cli_now_ms();
    p->last_ms = p->start_ms;
}

/* "1.23 GiB / 2.71 GiB  345 MiB/s  ETA 4s" */
static void describe(char *out, size_t cap, uint64_t done, uint64_t total,
                     uint64_t elapsed_ms)
{
    char a[CLI_SIZE_BUF], b[CLI_SIZE_BUF], r[CLI_SIZE_BUF], e[CLI_SIZE_BUF];
    double rate = elapsed_ms ? (double)done * 1000.0 / (double)elapsed_ms : 0.0;
    int n = snprintf(out, cap, "%s / %s  %s", cli_fmt_size(done, a), cli_fmt_size(total, b),
                     cli_fmt_rate(rate, r));
    if (rate >= 1.0 && done < total && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "  ETA %s",
                 cli_fmt_duration((uint64_t)((double)(total - done) / rate), e));
}

static void draw_bar(struct cli_progress *p, uint64_t done, uint64_t total, uint64_t t)
{
    char text[128];
    describe(text, sizeof text, done, total, t - p->start_ms);
    unsigned pct = total ? (unsigned)((double)done * 100.0 / (double)total) : 100;
    /* The bar's width must not depend on the text, or it would jump. */
    int width = cli_term_columns() - (int)strlen(p->label) - 56;
    if (width > 30)
        width = 30;
    if (width < 10)
        width = 10;
    int fill = total ? (int)((double)width * (double)done / (double)total) : width;
    fprintf(stderr, "\r%s [", p->label);
    for (int i = 0; i < width; i++)
        putc(i < fill ? '=' : i == fill ? '>' : ' ', stderr);
    fprintf(stderr, "] %3u%%  %s\033[K", pct, text);
    fflush(stderr);
    p->drawn = true;
}

void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total)
{
    if (!p->enabled)
        return;
    if (done > total)
        done = total;
    uint64_t t = cli_now_ms();
    if (p->tty) {
        if (p->drawn && t - p->last_ms < TTY_INTERVAL_MS && done < total)
            return;
        p->last_ms = t;
        draw_bar(p, done, total, t);
        return;
    }
    if (t - p->start_ms < PLAIN_DELAY_MS || t - p->last_ms < PLAIN_INTERVAL_MS ||
        done >= total)
        return;
    p->last_ms = t;
    char text[128];
    describe(text, sizeof text, done, total, t - p->start_ms);
    unsigned pct = total ? (unsigned)((double)done * 100.0 / (double)total) : 100;
    fprintf(stderr, "%s: %u%%  %s\n", p->label, pct, text);
}

void cli_progress_done(struct cli_progress *p)
{
    if (p->enabled && p->tty && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = false;
}
