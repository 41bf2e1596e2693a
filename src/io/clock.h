/* The shell's one clock: monotonic milliseconds. Cores never read it;
 * the shell reads it once per callback and passes `now` down. */
#ifndef RILL_IO_CLOCK_H
#define RILL_IO_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t rill__monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
