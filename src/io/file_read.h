#ifndef RILL_IO_FILE_READ_H
#define RILL_IO_FILE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "rill.h"

/* Reads a whole regular file of at most `max` bytes into a malloc'd buffer
 * that the caller frees. RILL_ENOENT, RILL_ELIMIT or RILL_EIO with `err`. */
int rill__read_file(const char *path, size_t max, uint8_t **out, size_t *len,
                    struct rill_error *err);

#endif
