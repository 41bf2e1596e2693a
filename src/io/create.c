/* rill_create: a .torrent from a file or a directory.
 *
 * The info dictionary holds exactly what mktorrent writes (no padding files,
 * no attributes, no mtimes), so for the same files, name and piece length
 * the info-hash equals mktorrent's and libtorrent's v1_only one. */
#define _GNU_SOURCE /* preadv2 and RWF_NOWAIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "io/hasher.h"
#include "io/walk.h"
#include "util/util.h"

#define AUTO_MIN_PIECE (256u << 10)
#define AUTO_MAX_PIECE (16u << 20)
#define AUTO_PIECES 4096u /* "about 4,000": 1 GiB of 256 KiB pieces */

uint32_t rill_create_piece_length(uint64_t total)
{
    uint32_t p = AUTO_MIN_PIECE;
    while (p < AUTO_MAX_PIECE && total > (uint64_t)p * AUTO_PIECES)
        p <<= 1;
    return p;
}

/* The stream of files that the hasher reads: each thread keeps one file open
 * and moves forward through the list as its pieces do. */
struct stream {
    const struct rill__walk *w;
    uint64_t *offsets;   /* offsets[i]: where file i starts in the stream */
    const struct rill_create_opts *copts;
};

struct slot {
    size_t file;         /* index of the open file */
    int fd;              /* -1 when none */
};

/* A thread's open files: one it reads, one it hints readahead on. */
struct reader {
    struct slot cur, ahead;
    bool cold;           /* the last read had to wait for the disk */
};

static int reader_open(void *ctx, unsigned idx, void **wctx, struct rill_error *err)
{
    struct reader *r = malloc(sizeof *r);
    if (!r)
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory");
    r->cur = r->ahead = (struct slot){ 0, -1 };
    r->cold = true;
    *wctx = r;
    return 0;
}

static void reader_close(void *ctx, void *wctx)
{
    struct reader *r = wctx;
    if (r->cur.fd >= 0)
        close(r->cur.fd);
    if (r->ahead.fd >= 0)
        close(r->ahead.fd);
    free(r);
}

/* The last file starting at or before `off` (files of length 0 included). */
static size_t file_at(const struct stream *s, uint64_t off)
{
    size_t lo = 0, hi = s->w->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->offsets[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int slot_switch(const struct stream *s, struct slot *sl, size_t i,
                       struct rill_error *err)
{
    if (sl->fd >= 0 && sl->file == i)
        return 0;
    if (sl->fd >= 0)
        close(sl->fd);
    const char *path = s->w->files[i].path;
    sl->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (sl->fd < 0)
        return rill__fail(err, errno == ENOENT ? RILL_ENOENT : RILL_EIO, 0,
                          "cannot open %s: %s", path, strerror(errno));
    sl->file = i;
    posix_fadvise(sl->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return 0;
}

/* Reads what the page cache holds without waiting; returns the bytes read
 * (0 when nothing was cached or the kernel cannot tell). */
static size_t read_cached(int fd, uint8_t *buf, size_t len, uint64_t off)
{
#ifdef RWF_NOWAIT
    struct iovec iov = { buf, len };
    ssize_t n = preadv2(fd, &iov, 1, (off_t)off, RWF_NOWAIT);
    return n > 0 ? (size_t)n : 0;
#else
    return 0;
#endif
}

/* Reads exactly `len` bytes; `*cold` is set when some were not cached. */
static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off, const char *path,
                      bool *cold, struct rill_error *err)
{
    size_t got = read_cached(fd, buf, len, off);
    buf += got;
    len -= got;
    off += got;
    if (len)
        *cold = true;
    while (len) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return rill__fail(err, RILL_EIO, 0, "cannot read %s: %s", path, strerror(errno));
        if (n == 0)
            return rill__fail(err, RILL_EIO, 0, "%s shrank while it was being hashed", path);
        buf += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int stream_read(void *ctx, void *wctx, uint64_t off, void *buf, size_t len,
                       struct rill_error *err)
{
    const struct stream *s = ctx;
    struct reader *r = wctx;
    uint8_t *p = buf;
    size_t i = file_at(s, off);
    r->cold = false;
    while (len) {
        const struct rill__walk_file *f = &s->w->files[i];
        uint64_t in = off - s->offsets[i];
        if (in >= f->length) { /* past this file (or an empty one) */
            i++;
            continue;
        }
        uint64_t left = f->length - in;
        size_t n = left < len ? (size_t)left : len;
        int rc = slot_switch(s, &r->cur, i, err);
        if (rc == 0)
            rc = pread_full(r->cur.fd, p, n, in, f->path, &r->cold, err);
        if (rc)
            return rc;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

/* Asks the kernel to start reading [off, off + len) now. Only a hint, and
 * only worth its system calls when this thread's last read waited for the
 * disk (on cached data the hint costs ~7% more system time for nothing) and
 * the range covers a few large files rather than many small ones. */
static void stream_prefetch(void *ctx, void *wctx, uint64_t off, size_t len)
{
    const struct stream *s = ctx;
    struct reader *r = wctx;
    size_t i = file_at(s, off), end = file_at(s, off + len - 1);
    if (!r->cold || end - i >= 4)
        return;
    for (; i <= end; i++) {
        const struct rill__walk_file *f = &s->w->files[i];
        uint64_t from = off > s->offsets[i] ? off - s->offsets[i] : 0;
        if (from >= f->length || slot_switch(s, &r->ahead, i, NULL) != 0)
            continue;
        uint64_t n = f->length - from;
        if (n > len)
            n = len;
        posix_fadvise(r->ahead.fd, (off_t)from, (off_t)n, POSIX_FADV_WILLNEED);
    }
}

static void stream_progress(void *ctx, uint64_t bytes, uint32_t pieces)
{
    const struct stream *s = ctx;
    s->copts->progress(s->copts->progress_ctx, bytes, s->w->total);
}

/* Hashes the walked files into `hashes` (20 bytes per piece). */
static int hash_files(const struct rill__walk *w, uint32_t piece_length, uint32_t pieces,
                      const struct rill_create_opts *copts, uint8_t *hashes,
                      struct rill_error *err)
{
    struct stream s = { .w = w, .copts = copts };
    s.offsets = malloc(w->count * sizeof *s.offsets);
    if (!s.offsets)
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory");
    uint64_t off = 0;
    for (size_t i = 0; i < w->count; i++) {
        s.offsets[i] = off;
        off += w->files[i].length;
    }
    struct rill__hash_job job = {
        .total = w->total,
        .piece_length = piece_length,
        .piece_count = pieces,
        .threads = copts->threads,
        .ctx = &s,
        .open = reader_open,
        .close = reader_close,
        .read = stream_read,
        .prefetch = stream_prefetch,
        .progress = copts->progress ? stream_progress : NULL,
        .hashes = hashes,
    };
    int rc = rill__hash_run(&job, err);
    free(s.offsets);
    return rc;
}

/* Splits a comma-separated tier into the encoder as a list of strings. */
static int put_tier(struct rill_benc *e, const char *tier, struct rill_error *err)
{
    rill_benc_list(e);
    for (const char *p = tier;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == 0)
            return rill__fail(err, RILL_EINVAL, 0, "empty tracker URL in \"%s\"", tier);
        rill_benc_str(e, p, n);
        if (!c)
            break;
        p = c + 1;
    }
    rill_benc_end(e);
    return 0;
}

static int put_trackers(struct rill_benc *e, const char *const *trackers,
                        struct rill_error *err)
{
    if (!trackers || !trackers[0])
        return 0;
    const char *first = trackers[0];
    size_t n = strcspn(first, ",");
    if (n == 0)
        return rill__fail(err, RILL_EINVAL, 0, "empty tracker URL in \"%s\"", first);
    rill_benc_key(e, "announce");
    rill_benc_str(e, first, n);
    /* One URL alone needs no announce-list (mktorrent leaves it out too). */
    if (!trackers[1] && !first[n])
        return 0;
    rill_benc_key(e, "announce-list");
    rill_benc_list(e);
    for (size_t i = 0; trackers[i]; i++) {
        int rc = put_tier(e, trackers[i], err);
        if (rc)
            return rc;
    }
    rill_benc_end(e);
    return 0;
}

static void put_web_seeds(struct rill_benc *e, const char *const *seeds)
{
    if (!seeds || !seeds[0])
        return;
    rill_benc_key(e, "url-list");
    if (!seeds[1]) {
        rill_benc_cstr(e, seeds[0]);
        return;
    }
    rill_benc_list(e);
    for (size_t i = 0; seeds[i]; i++)
        rill_benc_cstr(e, seeds[i]);
    rill_benc_end(e);
}

/* {length, path: [components]} for each file of a directory torrent. */
static void put_files(struct rill_benc *e, const struct rill__walk *w)
{
    rill_benc_key(e, "files");
    rill_benc_list(e);
    for (size_t i = 0; i < w->count; i++) {
        rill_benc_dict(e);
        rill_benc_key(e, "length");
        rill_benc_int(e, (int64_t)w->files[i].length);
        rill_benc_key(e, "path");
        rill_benc_list(e);
        for (const char *p = w->files[i].rel;;) {
            const char *slash = strchr(p, '/');
            rill_benc_str(e, p, slash ? (size_t)(slash - p) : strlen(p));
            if (!slash)
                break;
            p = slash + 1;
        }
        rill_benc_end(e);
        rill_benc_end(e);
    }
    rill_benc_end(e);
}

static void put_info(struct rill_benc *e, const struct rill__walk *w, uint32_t piece_length,
                     const uint8_t *hashes, uint32_t pieces, const struct rill_torrent_opts *t)
{
    rill_benc_key(e, "info");
    rill_benc_dict(e);
    if (w->is_dir) {
        put_files(e, w);
    } else {
        rill_benc_key(e, "length");
        rill_benc_int(e, (int64_t)w->total);
    }
    rill_benc_key(e, "name");
    rill_benc_cstr(e, w->name);
    rill_benc_key(e, "piece length");
    rill_benc_int(e, piece_length);
    rill_benc_key(e, "pieces");
    rill_benc_str(e, hashes, (size_t)pieces * RILL_SHA1_LEN);
    if (t->is_private) {
        rill_benc_key(e, "private");
        rill_benc_int(e, 1);
    }
    if (t->source && t->source[0]) {
        rill_benc_key(e, "source");
        rill_benc_cstr(e, t->source);
    }
    rill_benc_end(e);
}

static int encode(struct rill_buf *out, const struct rill__walk *w, uint32_t piece_length,
                  const uint8_t *hashes, uint32_t pieces, const struct rill_torrent_opts *t,
                  struct rill_error *err)
{
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    int rc = put_trackers(&e, t->trackers, err);
    if (rc)
        return rc;
    if (t->comment && t->comment[0]) {
        rill_benc_key(&e, "comment");
        rill_benc_cstr(&e, t->comment);
    }
    const char *by = t->created_by ? t->created_by : "rill/" RILL_VERSION;
    if (by[0]) {
        rill_benc_key(&e, "created by");
        rill_benc_cstr(&e, by);
    }
    if (!t->no_date) {
        rill_benc_key(&e, "creation date");
        rill_benc_int(&e, t->creation_date ? t->creation_date : (int64_t)time(NULL));
    }
    put_info(&e, w, piece_length, hashes, pieces, t);
    put_web_seeds(&e, t->web_seeds);
    rill_benc_end(&e);
    rc = rill_benc_finish(&e);
    if (rc)
        return rill__fail(err, rc, 0, "cannot encode the torrent: %s", rill_strerror(rc));
    return 0;
}

static int choose_piece_length(const struct rill_create_opts *c, uint64_t total,
                               uint32_t *out, struct rill_error *err)
{
    uint32_t p = c->piece_length;
    if (p == 0) {
        *out = rill_create_piece_length(total);
        return 0;
    }
    if (p < RILL_MIN_PIECE || p > RILL_MAX_PIECE || (p & (p - 1)))
        return rill__fail(err, RILL_EINVAL, 0,
                          "piece length %u is not a power of two from 16 KiB to 128 MiB", p);
    *out = p;
    return 0;
}

int rill_create(const char *path, const struct rill_create_opts *copts,
                const struct rill_torrent_opts *topts, struct rill_buf *out,
                struct rill_error *err)
{
    static const struct rill_create_opts no_copts;
    static const struct rill_torrent_opts no_topts;
    if (!path || !out)
        return rill__fail(err, RILL_EINVAL, 0, "no path or no output buffer");
    copts = copts ? copts : &no_copts;
    topts = topts ? topts : &no_topts;
    uint32_t piece_length = 0;
    int rc = choose_piece_length(copts, 0, &piece_length, err);
    struct rill__walk w;
    if (rc == 0)
        rc = rill__walk(&w, path, copts->include_hidden, err);
    if (rc)
        return rc;
    if (w.total == 0) {
        rc = rill__fail(err, RILL_EINVAL, 0, "%s has no content to share (%s)", path,
                        w.count ? "only empty files" : "no files");
        rill__walk_free(&w);
        return rc;
    }
    choose_piece_length(copts, w.total, &piece_length, err);
    uint64_t pieces = (w.total + piece_length - 1) / piece_length;
    if (pieces * RILL_SHA1_LEN > RILL_MAX_TORRENT_SIZE / 2) {
        rc = rill__fail(err, RILL_ELIMIT, 0,
                        "%s needs %llu pieces of %u bytes: choose a larger piece length", path,
                        (unsigned long long)pieces, piece_length);
        rill__walk_free(&w);
        return rc;
    }
    uint8_t *hashes = malloc((size_t)pieces * RILL_SHA1_LEN);
    if (!hashes)
        rc = rill__fail(err, RILL_ENOMEM, 0, "out of memory for %llu piece hashes",
                        (unsigned long long)pieces);
    else
        rc = hash_files(&w, piece_length, (uint32_t)pieces, copts, hashes, err);
    struct rill_buf tmp;
    rill_buf_init(&tmp, RILL_MAX_TORRENT_SIZE);
    if (rc == 0)
        rc = encode(&tmp, &w, piece_length, hashes, (uint32_t)pieces, topts, err);
    if (rc == 0 && rill_buf_append(out, tmp.data, tmp.len) != 0)
        rc = rill__fail(err, RILL_ENOMEM, 0, "the torrent does not fit the output buffer");
    rill_buf_free(&tmp);
    free(hashes);
    rill__walk_free(&w);
    return rc;
}
