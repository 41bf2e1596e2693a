/* Helpers shared by the unit tests. cmocka needs these includes first. */
#ifndef RILL_TESTUTIL_H
#define RILL_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rill.h"

/* Reads a whole file into a malloc'd buffer (NUL-terminated); fails the test
 * if it cannot. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* Writes bytes to a file, failing the test on error. */
void tu_write_file(const char *path, const void *p, size_t n);
/* Makes a fresh temporary directory; the caller removes it with tu_rmrf. */
char *tu_tempdir(void);
void tu_rmrf(const char *path);
/* Path of a file under tests/data into a static buffer. */
const char *tu_data(const char *name);
/* Deterministic pseudo-random bytes (for generated content). */
void tu_fill(uint8_t *p, size_t n, uint64_t seed);
/* Fails the test unless the two files hold the same bytes. */
void tu_assert_same_file(const char *a, const char *b);
/* The monotonic clock in milliseconds. */
uint64_t tu_now_ms(void);

#endif
