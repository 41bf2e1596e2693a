/* Pieces mapped onto files under a download root, read and written with
 * pread/pwrite through a small LRU cache of open descriptors.
 *
 * Safety: the metainfo's paths are already sanitized, but storage checks
 * every component again and builds each path by joining them, so a bad
 * struct rill_metainfo cannot name anything outside root. For writing (any
 * storage that is not read_only) files are reached by walking the directory
 * chain below root with openat(O_NOFOLLOW), so a symlink planted anywhere in
 * the content directory cannot redirect a write outside root; a path string
 * check alone cannot see symlinks. A read_only storage follows symlinks: it
 * never writes, it only serves pieces whose hashes were verified, and seeding
 * from a directory of symlinks is a real use.
 *
 * Not thread-safe: one storage per thread, or a lock around it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rill.h"
#include "io/storage_internal.h"
#include "util/util.h"

#define DEFAULT_MAX_OPEN 64u
#define NIL SIZE_MAX

struct sfile {
    char *path;        /* root/NAME[/file]; NULL for padding */
    size_t rel;        /* where the part below root starts in `path` */
    int fd;            /* -1 when not open */
    bool writable;     /* fd was opened O_RDWR */
    bool dirty;        /* written since the last sync */
    size_t prev, next; /* LRU list of open files, most recent first */
};

struct rill_storage {
    const struct rill_metainfo *mi;
    char *root;
    int root_fd; /* opened lazily; not counted in max_open */
    struct sfile *files;
    size_t nfiles;
    unsigned max_open, open_count;
    size_t head, tail;
    size_t ndirty;
    bool read_only;
};

static int from_errno(int e)
{
    switch (e) {
    case ENOENT:
        return RILL_ENOENT;
    case ELOOP:   /* O_NOFOLLOW met a symlink */
    case ENOTDIR: /* a symlink or a file where a directory should be */
        return RILL_EPATH;
    case ENOMEM:
        return RILL_ENOMEM;
    default:
        return RILL_EIO;
    }
}

/* ------------------------------------------------------------ LRU list */

static void lru_unlink(struct rill_storage *st, size_t i)
{
    struct sfile *f = &st->files[i];
    if (f->prev != NIL)
        st->files[f->prev].next = f->next;
    else
        st->head = f->next;
    if (f->next != NIL)
        st->files[f->next].prev = f->prev;
    else
        st->tail = f->prev;
    f->prev = f->next = NIL;
}

static void lru_push(struct rill_storage *st, size_t i)
{
    struct sfile *f = &st->files[i];
    f->prev = NIL;
    f->next = st->head;
    if (st->head != NIL)
        st->files[st->head].prev = i;
    st->head = i;
    if (st->tail == NIL)
        st->tail = i;
}

static void close_file(struct rill_storage *st, size_t i)
{
    struct sfile *f = &st->files[i];
    if (f->fd < 0)
        return;
    lru_unlink(st, i);
    close(f->fd);
    f->fd = -1;
    f->writable = false;
    st->open_count--;
}

/* --------------------------------------------------------------- paths */

/* One component below root: not empty, not "." or "..", not too long.
 * '/' cannot occur because it is the separator we split on. */
static bool component_ok(const char *p, size_t n)
{
    if (n == 0 || n > RILL_MAX_NAME_BYTES)
        return false;
    if (p[0] == '.' && (n == 1 || (n == 2 && p[1] == '.')))
        return false;
    return true;
}

static bool relpath_ok(const char *s)
{
    if (!s)
        return false;
    size_t len = strnlen(s, RILL_MAX_PATH_BYTES + 1);
    if (len == 0 || len > RILL_MAX_PATH_BYTES)
        return false;
    const char *p = s, *end = s + len;
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash ? slash : end;
        if (!component_ok(p, (size_t)(stop - p)))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

/* root + '/' + a [+ '/' + b], with `rel` set to where `a` starts. */
static char *join_path(const char *root, const char *a, const char *b, size_t *rel)
{
    size_t rl = strlen(root), al = strlen(a), bl = b ? strlen(b) : 0;
    bool sep = rl > 0 && root[rl - 1] != '/';
    size_t n = rl + sep + al + (b ? 1 + bl : 0);
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    size_t o = 0;
    memcpy(p, root, rl);
    o += rl;
    if (sep)
        p[o++] = '/';
    *rel = o;
    memcpy(p + o, a, al);
    o += al;
    if (b) {
        p[o++] = '/';
        memcpy(p + o, b, bl);
        o += bl;
    }
    p[o] = 0;
    return p;
}

/* See storage_internal.h: only for root, which the user chose. */
int rill__mkdir_p(const char *path)
{
    size_t n = strlen(path);
    char *p = rill__strndup(path, n);
    if (!p)
        return RILL_ENOMEM;
    int rc = 0;
    for (size_t i = 1; i <= n && !rc; i++) {
        if (i < n && p[i] != '/')
            continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            rc = from_errno(errno);
        p[i] = c;
    }
    free(p);
    return rc;
}

/* Opens root once; when `create`, makes it first if it is missing. */
static int ensure_root(struct rill_storage *st, bool create)
{
    if (st->root_fd >= 0)
        return 0;
    int fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        int rc = rill__mkdir_p(st->root);
        if (rc)
            return rc;
        fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0)
        return errno == ENOENT ? RILL_ENOENT : RILL_EIO;
    st->root_fd = fd;
    return 0;
}

/* Opens the directories of `rel` below root one component at a time with
 * O_NOFOLLOW (making them when `create`), and returns the descriptor of the
 * last one (root_fd itself for a top-level file) and the leaf name. */
static int walk_dirs(struct rill_storage *st, const char *rel, bool create,
                     int *dir, const char **leaf)
{
    int dfd = st->root_fd;
    const char *p = rel;
    for (const char *slash; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        char comp[RILL_MAX_NAME_BYTES + 1];
        size_t n = (size_t)(slash - p); /* <= RILL_MAX_NAME_BYTES: checked at open */
        memcpy(comp, p, n);
        comp[n] = 0;
        int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        int nfd = openat(dfd, comp, flags);
        if (nfd < 0 && errno == ENOENT && create) {
            if (mkdirat(dfd, comp, 0755) == 0 || errno == EEXIST)
                nfd = openat(dfd, comp, flags);
        }
        int e = errno;
        if (dfd != st->root_fd)
            close(dfd);
        if (nfd < 0)
            return from_errno(e);
        dfd = nfd;
    }
    *dir = dfd;
    *leaf = p;
    return 0;
}

/* Opens file `i` below root without following any symlink, O_RDWR (with
 * O_CREAT when `create`); for a read, a file we may not write is opened
 * O_RDONLY instead. */
static int open_safe(struct rill_storage *st, size_t i, bool create, int *out, bool *writable)
{
    struct sfile *f = &st->files[i];
    int rc = ensure_root(st, create);
    if (rc)
        return rc;
    int dfd;
    const char *leaf;
    rc = walk_dirs(st, f->path + f->rel, create, &dfd, &leaf);
    if (rc)
        return rc;
    /* O_NONBLOCK so a FIFO planted here cannot hang the open; fstat then
     * refuses it. It has no effect on regular files. */
    int base = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int fd = openat(dfd, leaf, O_RDWR | base | (create ? O_CREAT : 0), 0644);
    *writable = fd >= 0;
    if (fd < 0 && !create && (errno == EACCES || errno == EROFS))
        fd = openat(dfd, leaf, O_RDONLY | base);
    int e = errno;
    if (dfd != st->root_fd)
        close(dfd);
    if (fd < 0)
        return from_errno(e);
    *out = fd;
    return 0;
}

/* Opens file `i` for the operation and checks it is a regular file. */
static int open_file(struct rill_storage *st, size_t i, bool write, int *out, bool *writable)
{
    int fd, rc;
    if (st->read_only) {
        fd = open(st->files[i].path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return from_errno(errno);
        *writable = false;
    } else if ((rc = open_safe(st, i, write, &fd, writable)) != 0) {
        return rc;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return RILL_EIO;
    }
    *out = fd;
    return 0;
}

/* The cached descriptor of file `i`, opening it (and closing the least
 * recently used one when the cache is full) if needed. */
static int get_fd(struct rill_storage *st, size_t i, bool write, int *out)
{
    struct sfile *f = &st->files[i];
    if (f->fd >= 0 && (f->writable || !write)) {
        if (st->head != i) {
            lru_unlink(st, i);
            lru_push(st, i);
        }
        *out = f->fd;
        return 0;
    }
    close_file(st, i); /* open read-only but now written: reopen */
    while (st->open_count >= st->max_open && st->tail != NIL)
        close_file(st, st->tail);
    int fd;
    bool writable;
    int rc = open_file(st, i, write, &fd, &writable);
    if (rc)
        return rc;
    f->fd = fd;
    f->writable = writable;
    st->open_count++;
    lru_push(st, i);
    *out = fd;
    return 0;
}

/* ------------------------------------------------------------------ IO */

static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return RILL_EIO;
        if (n == 0)
            return RILL_ENOENT; /* the file is too short: the data is missing */
        done += (size_t)n;
    }
    return 0;
}

static int pwrite_full(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return RILL_EIO;
        done += (size_t)n;
    }
    return 0;
}

static int read_span(struct rill_storage *st, size_t i, uint64_t off, uint8_t *buf, size_t n)
{
    if (!st->files[i].path) {
        memset(buf, 0, n); /* padding is zeros by definition (BEP 47) */
        return 0;
    }
    int fd;
    int rc = get_fd(st, i, false, &fd);
    return rc ? rc : pread_full(fd, buf, n, off);
}

static int write_span(struct rill_storage *st, size_t i, uint64_t off, uint8_t *buf, size_t n)
{
    struct sfile *f = &st->files[i];
    if (!f->path)
        return 0;
    int fd;
    int rc = get_fd(st, i, true, &fd);
    if (!rc)
        rc = pwrite_full(fd, buf, n, off);
    if (!rc && !f->dirty) {
        f->dirty = true;
        st->ndirty++;
    }
    return rc;
}

static uint64_t piece_bytes(const struct rill_metainfo *mi, uint32_t piece)
{
    uint64_t start = (uint64_t)piece * mi->piece_length;
    uint64_t left = mi->total_size - start;
    return left < mi->piece_length ? left : mi->piece_length;
}

typedef int (*span_fn)(struct rill_storage *st, size_t i, uint64_t off, uint8_t *buf,
                       size_t n);

/* Splits (piece, offset, len) into per-file ranges and applies `fn`. */
static int each_span(struct rill_storage *st, uint32_t piece, uint32_t offset, uint8_t *buf,
                     uint32_t len, span_fn fn)
{
    const struct rill_metainfo *mi = st->mi;
    if (piece >= mi->piece_count || (uint64_t)offset + len > piece_bytes(mi, piece))
        return RILL_ERANGE;
    if (len == 0)
        return 0;
    uint64_t pos = (uint64_t)piece * mi->piece_length + offset;
    size_t done = 0;
    for (size_t i = rill_file_at(mi, pos); done < len && i < st->nfiles; i++) {
        const struct rill_file *f = &mi->files[i];
        uint64_t avail = f->offset + f->length - pos;
        size_t n = len - done < avail ? len - done : (size_t)avail;
        if (n == 0)
            continue; /* a zero-length file between two others */
        int rc = fn(st, i, pos - f->offset, buf + done, n);
        if (rc)
            return rc;
        done += n;
        pos += n;
    }
    return done == len ? 0 : RILL_ERANGE;
}

/* Reads a block; see rill.h for the error meanings. */
int rill_storage_read(struct rill_storage *st, uint32_t piece, uint32_t offset, void *buf,
                      uint32_t len)
{
    if (!st || (!buf && len))
        return RILL_EINVAL;
    return each_span(st, piece, offset, buf, len, read_span);
}

/* Writes a block, creating files and their directories on first use. The
 * bytes that fall on padding are dropped. RILL_EINVAL on a read_only storage. */
int rill_storage_write(struct rill_storage *st, uint32_t piece, uint32_t offset,
                       const void *buf, uint32_t len)
{
    if (!st || st->read_only || (!buf && len))
        return RILL_EINVAL;
    /* each_span is shared with reads; write_span never writes into buf. */
    return each_span(st, piece, offset, (uint8_t *)(uintptr_t)buf, len, write_span);
}

/* fsyncs every file written since the last sync, reopening those the cache
 * closed meanwhile, so a resume file saved afterwards never claims data that
 * a crash could still lose. Returns the first error but tries every file. */
int rill_storage_sync(struct rill_storage *st)
{
    if (!st)
        return RILL_EINVAL;
    int first = 0;
    for (size_t i = 0; i < st->nfiles && st->ndirty > 0; i++) {
        struct sfile *f = &st->files[i];
        if (!f->dirty)
            continue;
        int fd;
        int rc = get_fd(st, i, true, &fd);
        if (!rc && fsync(fd) != 0)
            rc = RILL_EIO;
        if (rc) {
            first = first ? first : rc;
            continue;
        }
        f->dirty = false;
        st->ndirty--;
    }
    return first;
}

/* The path of file `i`, or NULL for padding or an index out of range. The
 * string lives as long as the storage. */
const char *rill_storage_path(const struct rill_storage *st, size_t i)
{
    if (!st || i >= st->nfiles)
        return NULL;
    return st->files[i].path;
}

/* ---------------------------------------------------------- open/close */

/* Offsets must be contiguous and the piece count must match the size, or
 * the span arithmetic above would read past the file table. */
static int check_geometry(const struct rill_metainfo *mi)
{
    if (!mi->files || mi->file_count == 0 || mi->piece_length == 0 ||
        mi->total_size > (uint64_t)INT64_MAX)
        return RILL_EINVAL;
    uint64_t sum = 0;
    for (size_t i = 0; i < mi->file_count; i++) {
        if (mi->files[i].offset != sum || mi->files[i].length > UINT64_MAX - sum)
            return RILL_EINVAL;
        sum += mi->files[i].length;
    }
    if (sum != mi->total_size)
        return RILL_EINVAL;
    uint64_t pieces = sum / mi->piece_length + (sum % mi->piece_length != 0);
    return pieces == mi->piece_count ? 0 : RILL_EINVAL;
}

static int build_paths(struct rill_storage *st)
{
    const struct rill_metainfo *mi = st->mi;
    if (!relpath_ok(mi->name) || strchr(mi->name, '/'))
        return RILL_EPATH;
    if (!mi->multi_file && mi->file_count != 1)
        return RILL_EINVAL;
    for (size_t i = 0; i < st->nfiles; i++) {
        struct sfile *f = &st->files[i];
        if (mi->files[i].attr & RILL_ATTR_PAD)
            continue;
        const char *sub = mi->multi_file ? mi->files[i].path : NULL;
        if (mi->multi_file && !relpath_ok(sub))
            return RILL_EPATH;
        f->path = join_path(st->root, mi->name, sub, &f->rel);
        if (!f->path)
            return RILL_ENOMEM;
    }
    return 0;
}

/* Zero-length files never receive a write, so they are made up front. */
static int create_empty_files(struct rill_storage *st)
{
    for (size_t i = 0; i < st->nfiles; i++) {
        const struct rill_file *mf = &st->mi->files[i];
        if (!st->files[i].path || mf->length != 0 || (mf->attr & RILL_ATTR_SYMLINK))
            continue;
        int fd;
        bool writable;
        int rc = open_file(st, i, true, &fd, &writable);
        if (rc)
            return rc;
        close(fd);
    }
    return 0;
}

/* Maps `mi` (which must outlive the storage) onto files under `root`.
 * Nothing is opened yet, except that a writable storage creates the
 * torrent's zero-length files (and the directories above them). */
int rill_storage_open(struct rill_storage **out, const struct rill_metainfo *mi,
                      const char *root, const struct rill_storage_opts *opts)
{
    if (!out)
        return RILL_EINVAL;
    *out = NULL;
    if (!mi || !root || !root[0])
        return RILL_EINVAL;
    int rc = check_geometry(mi);
    if (rc)
        return rc;
    struct rill_storage *st = calloc(1, sizeof *st);
    if (!st)
        return RILL_ENOMEM;
    st->mi = mi;
    st->root_fd = -1;
    st->head = st->tail = NIL;
    st->nfiles = mi->file_count;
    st->max_open = opts && opts->max_open ? opts->max_open : DEFAULT_MAX_OPEN;
    st->read_only = opts && opts->read_only;
    st->root = rill__strndup(root, strlen(root));
    st->files = calloc(st->nfiles, sizeof *st->files);
    rc = st->root && st->files ? 0 : RILL_ENOMEM;
    for (size_t i = 0; !rc && i < st->nfiles; i++) {
        st->files[i].fd = -1;
        st->files[i].prev = st->files[i].next = NIL;
    }
    if (!rc)
        rc = build_paths(st);
    if (!rc && !st->read_only)
        rc = create_empty_files(st);
    if (rc) {
        rill_storage_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

/* Closes every descriptor (without fsync: call rill_storage_sync first when
 * durability matters) and frees the storage. NULL is fine. */
void rill_storage_close(struct rill_storage *st)
{
    if (!st)
        return;
    if (st->files) {
        for (size_t i = 0; i < st->nfiles; i++) {
            close_file(st, i);
            free(st->files[i].path);
        }
    }
    if (st->root_fd >= 0)
        close(st->root_fd);
    free(st->files);
    free(st->root);
    free(st);
}
