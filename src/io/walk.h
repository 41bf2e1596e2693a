/* The deterministic file walk behind rill_create: which files make up a
 * torrent and in what order. */
#ifndef RILL_IO_WALK_H
#define RILL_IO_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

struct rill__walk_file {
    char *path;      /* on disk: the walked path joined with `rel` */
    char *rel;       /* '/'-joined path below the top directory; for a single
                        file it is the name */
    uint64_t length;
};

struct rill__walk {
    char *name;      /* basename of the walked path: the torrent's name */
    bool is_dir;     /* a directory, so the torrent has a 'files' list */
    struct rill__walk_file *files;
    size_t count;
    uint64_t total;  /* sum of the lengths */
};

/* Collects the files of `path`. A regular file (a symlink to one is followed)
 * gives one entry. A directory is walked recursively: entries whose names
 * start with '.' are skipped unless `include_hidden`, symlinks and special
 * files inside are skipped, empty directories give nothing, and the files
 * are sorted by `rel` byte-wise (strcmp), as mktorrent does. Empty files are
 * kept. Errors (RILL_ENOENT, RILL_EIO, RILL_EINVAL, RILL_ELIMIT, RILL_ENOMEM)
 * name the path in `err`; on error `w` holds nothing. A walk that finds no
 * file or only empty ones is not an error here: the caller decides. */
int rill__walk(struct rill__walk *w, const char *path, bool include_hidden,
               struct rill_error *err);
void rill__walk_free(struct rill__walk *w);

#endif
