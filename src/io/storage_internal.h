/* Internals shared by storage.c and resume.c. */
#ifndef RILL_IO_STORAGE_INTERNAL_H
#define RILL_IO_STORAGE_INTERNAL_H

/* mkdir -p with mode 0755 (before umask). Symlinks in `path` are followed,
 * so use it only for directories the user chose (the download root, the
 * resume directory), never for paths that come from a torrent. 0, or
 * RILL_EIO / RILL_EPATH / RILL_ENOMEM. */
int rill__mkdir_p(const char *path);

#endif
