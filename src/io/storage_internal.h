/* Internals shared by storage.c and resume.c. */
#ifndef RILL_IO_STORAGE_INTERNAL_H
#define RILL_IO_STORAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* mkdir -p with mode 0755 (before umask). Symlinks in `path` are followed,
 * so use it only for directories the user chose (the download root, the
 * resume directory), never for paths that come from a torrent. 0, or
 * RILL_EIO / RILL_EPATH / RILL_ENOMEM. */
int rill__mkdir_p(const char *path);

/* Writes PATH.tmp.PID, fsyncs it, renames it over PATH and fsyncs the
 * directory, so PATH is always either the old file or the whole new one
 * (resume files, the DHT state file, a magnet's .torrent). Creates the
 * directory of PATH. 0, RILL_EIO, RILL_ENOMEM. */
int rill__write_file_atomic(const char *path, const uint8_t *p, size_t n);

#endif
