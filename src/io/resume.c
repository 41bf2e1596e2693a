/* Resume files: which pieces were verified, and each file's size and mtime
 * at that moment, so a restart can skip rehashing what has not changed.
 *
 * Format (bencode): an outer dictionary
 *     { "checksum": SHA-1 of the payload string, "payload": string }
 * whose payload string is itself a bencoded dictionary
 *     { "version": 1, "info-hash": 20 bytes, "piece count": n,
 *       "piece length": n, "pieces": bitfield bytes,
 *       "files": [[size, mtime_sec, mtime_nsec], ...] one per non-pad file }
 * with size -1 for a file that did not exist. The checksum catches a torn
 * or corrupted file; the rename makes the replacement atomic. The loader
 * treats the file as hostile bytes: every failure trusts nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file_read.h"
#include "io/storage_internal.h"
#include "util/util.h"

#define RESUME_VERSION 1
#define PAYLOAD_KEYS 6

struct fstate {
    int64_t size; /* -1: missing (or not a regular file) */
    int64_t sec, nsec;
};

static void stat_now(const char *path, struct fstate *fs)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *fs = (struct fstate){-1, 0, 0};
        return;
    }
    *fs = (struct fstate){(int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec,
                          (int64_t)sb.st_mtim.tv_nsec};
}

static bool is_pad(const struct rill_metainfo *mi, size_t i)
{
    return (mi->files[i].attr & RILL_ATTR_PAD) != 0;
}

/* ---------------------------------------------------------------- save */

static int encode_payload(struct rill_buf *out, const struct rill_metainfo *mi,
                          const struct rill_storage *st, const struct rill_bitfield *have)
{
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "version");
    rill_benc_int(&e, RESUME_VERSION);
    rill_benc_key(&e, "info-hash");
    rill_benc_str(&e, mi->info_hash, RILL_SHA1_LEN);
    rill_benc_key(&e, "piece count");
    rill_benc_int(&e, mi->piece_count);
    rill_benc_key(&e, "piece length");
    rill_benc_int(&e, mi->piece_length);
    rill_benc_key(&e, "pieces");
    rill_benc_str(&e, have->bits, rill_bitfield_bytes(have));
    rill_benc_key(&e, "files");
    rill_benc_list(&e);
    for (size_t i = 0; i < mi->file_count; i++) {
        if (is_pad(mi, i))
            continue;
        struct fstate fs;
        stat_now(rill_storage_path(st, i), &fs);
        rill_benc_list(&e);
        rill_benc_int(&e, fs.size);
        rill_benc_int(&e, fs.sec);
        rill_benc_int(&e, fs.nsec);
        rill_benc_end(&e);
    }
    rill_benc_end(&e);
    rill_benc_end(&e);
    return rill_benc_finish(&e);
}

static int encode_outer(struct rill_buf *out, const struct rill_buf *payload)
{
    uint8_t sum[RILL_SHA1_LEN];
    rill_sha1(payload->data, payload->len, sum);
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "checksum");
    rill_benc_str(&e, sum, sizeof sum);
    rill_benc_key(&e, "payload");
    rill_benc_str(&e, payload->data, payload->len);
    rill_benc_end(&e);
    return rill_benc_finish(&e);
}

static int write_all_fd(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return RILL_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The directory part of `path` ("." when there is none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return rill__strndup(".", 1);
    return rill__strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return RILL_EIO;
    int rc = fsync(fd) == 0 ? 0 : RILL_EIO;
    close(fd);
    return rc;
}

int rill__write_file_atomic(const char *path, const uint8_t *p, size_t n)
{
    char *dir = dir_of(path);
    struct rill_buf tmp;
    rill_buf_init(&tmp, 0);
    rill_buf_appendf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    int rc = !dir || tmp.failed ? RILL_ENOMEM : rill__mkdir_p(dir);
    int fd = -1;
    if (!rc) {
        fd = open((char *)tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  0644);
        rc = fd < 0 ? RILL_EIO : 0;
    }
    if (!rc)
        rc = write_all_fd(fd, p, n);
    if (!rc && fsync(fd) != 0)
        rc = RILL_EIO;
    if (fd >= 0 && close(fd) != 0 && !rc)
        rc = RILL_EIO;
    if (!rc && rename((char *)tmp.data, path) != 0)
        rc = RILL_EIO;
    if (rc && fd >= 0)
        unlink((char *)tmp.data);
    if (!rc)
        rc = fsync_dir(dir);
    free(dir);
    rill_buf_free(&tmp);
    return rc;
}

/* Records `have` and the current size and mtime of every non-pad file of
 * `st` (which must map `mi`). Creates the directory of `path` if needed.
 * Call rill_storage_sync() first, so the record never gets ahead of what is
 * durable on disk. RILL_EINVAL if `have` is not mi->piece_count bits. */
int rill_resume_save(const char *path, const struct rill_metainfo *mi,
                     const struct rill_storage *st, const struct rill_bitfield *have)
{
    if (!path || !path[0] || !mi || !st || !have || have->size != mi->piece_count ||
        !have->bits)
        return RILL_EINVAL;
    struct rill_buf payload, outer;
    rill_buf_init(&payload, 0);
    rill_buf_init(&outer, 0);
    int rc = encode_payload(&payload, mi, st, have);
    if (!rc)
        rc = encode_outer(&outer, &payload);
    if (!rc)
        rc = rill__write_file_atomic(path, outer.data, outer.len);
    rill_buf_free(&payload);
    rill_buf_free(&outer);
    return rc;
}

/* ---------------------------------------------------------------- load */

static bool int_eq(const struct rill_bnode *n, int64_t v)
{
    return n && n->type == RILL_BINT && n->i == v;
}

/* The checked payload of the outer dictionary, pointing into `buf`. */
static int open_outer(const uint8_t *buf, size_t len, const uint8_t **payload, size_t *plen)
{
    struct rill_bdoc doc;
    struct rill_blimits lim = {.max_depth = 2, .max_nodes = 16};
    if (rill_bdecode(&doc, buf, len, &lim, NULL) != 0)
        return RILL_ERESUME;
    const struct rill_bnode *root = rill_bdoc_root(&doc);
    const struct rill_bnode *sum = rill_bdict_get(&doc, root, "checksum");
    const struct rill_bnode *pl = rill_bdict_get(&doc, root, "payload");
    int rc = RILL_ERESUME;
    if (root->count == 2 && sum && sum->type == RILL_BSTR && sum->slen == RILL_SHA1_LEN &&
        pl && pl->type == RILL_BSTR) {
        uint8_t got[RILL_SHA1_LEN];
        rill_sha1(pl->s, pl->slen, got);
        if (memcmp(got, sum->s, RILL_SHA1_LEN) == 0) {
            *payload = pl->s;
            *plen = pl->slen;
            rc = 0;
        }
    }
    rill_bdoc_free(&doc);
    return rc;
}

/* Checks that the payload describes this torrent and loads its pieces into
 * `rec`; returns the "files" list through `files`. */
static int check_header(const struct rill_bdoc *doc, const struct rill_metainfo *mi,
                        struct rill_bitfield *rec, const struct rill_bnode **files)
{
    const struct rill_bnode *root = rill_bdoc_root(doc);
    if (!root || root->type != RILL_BDICT || root->count != PAYLOAD_KEYS)
        return RILL_ERESUME;
    const struct rill_bnode *ih = rill_bdict_get(doc, root, "info-hash");
    const struct rill_bnode *pieces = rill_bdict_get(doc, root, "pieces");
    *files = rill_bdict_get(doc, root, "files");
    if (!int_eq(rill_bdict_get(doc, root, "version"), RESUME_VERSION) ||
        !int_eq(rill_bdict_get(doc, root, "piece count"), mi->piece_count) ||
        !int_eq(rill_bdict_get(doc, root, "piece length"), mi->piece_length) || !ih ||
        ih->type != RILL_BSTR || ih->slen != RILL_SHA1_LEN ||
        memcmp(ih->s, mi->info_hash, RILL_SHA1_LEN) != 0 || !pieces ||
        pieces->type != RILL_BSTR || !*files || (*files)->type != RILL_BLIST)
        return RILL_ERESUME;
    if (rill_bitfield_load(rec, pieces->s, pieces->slen) != 0)
        return RILL_ERESUME;
    return 0;
}

/* Reads one [size, sec, nsec] entry. */
static int read_entry(const struct rill_bdoc *doc, const struct rill_bnode *e,
                      struct fstate *fs)
{
    if (!e || e->type != RILL_BLIST || e->count != 3)
        return RILL_ERESUME;
    const struct rill_bnode *v[3];
    v[0] = rill_bnode_first(doc, e);
    v[1] = rill_bnode_next(doc, e, v[0]);
    v[2] = rill_bnode_next(doc, e, v[1]);
    for (int k = 0; k < 3; k++)
        if (!v[k] || v[k]->type != RILL_BINT)
            return RILL_ERESUME;
    *fs = (struct fstate){v[0]->i, v[1]->i, v[2]->i};
    return fs->size >= -1 ? 0 : RILL_ERESUME;
}

/* Clears the pieces overlapping torrent bytes [lo, hi). */
static void distrust(struct rill_bitfield *rec, const struct rill_metainfo *mi, uint64_t lo,
                     uint64_t hi)
{
    if (lo >= hi)
        return;
    uint32_t last = (uint32_t)((hi - 1) / mi->piece_length);
    for (uint32_t p = (uint32_t)(lo / mi->piece_length); p <= last; p++)
        rill_bitfield_set(rec, p, false);
}

/* Compares every non-pad file with its record. A changed file makes all its
 * pieces untrusted; an unchanged file shorter than its length (a partial
 * download) makes the pieces over its missing tail untrusted too, so a
 * record can never vouch for bytes that are not on disk. */
static int check_files(const struct rill_bdoc *doc, const struct rill_bnode *files,
                       const struct rill_metainfo *mi, const struct rill_storage *st,
                       struct rill_bitfield *rec)
{
    size_t want = 0;
    for (size_t i = 0; i < mi->file_count; i++)
        want += !is_pad(mi, i);
    if (files->count != want)
        return RILL_ERESUME;
    const struct rill_bnode *e = rill_bnode_first(doc, files);
    for (size_t i = 0; i < mi->file_count; i++) {
        if (is_pad(mi, i))
            continue;
        struct fstate was, now;
        if (read_entry(doc, e, &was) != 0)
            return RILL_ERESUME;
        e = rill_bnode_next(doc, files, e);
        stat_now(rill_storage_path(st, i), &now);
        const struct rill_file *f = &mi->files[i];
        uint64_t kept = now.size < 0 ? 0 : (uint64_t)now.size;
        if (was.size != now.size || was.sec != now.sec || was.nsec != now.nsec)
            kept = 0;
        if (kept < f->length)
            distrust(rec, mi, f->offset + kept, f->offset + f->length);
    }
    return 0;
}

static int parse_payload(const uint8_t *p, size_t n, const struct rill_metainfo *mi,
                         const struct rill_storage *st, struct rill_bitfield *rec)
{
    /* Nodes: the dict, 6 keys, 6 values, and 4 per file entry. */
    uint64_t nodes = 16 + 4 * (uint64_t)mi->file_count;
    struct rill_blimits lim = {.max_depth = 3,
                               .max_nodes = nodes > UINT32_MAX ? UINT32_MAX : (uint32_t)nodes};
    struct rill_bdoc doc;
    if (rill_bdecode(&doc, p, n, &lim, NULL) != 0)
        return RILL_ERESUME;
    const struct rill_bnode *files;
    int rc = check_header(&doc, mi, rec, &files);
    if (!rc)
        rc = check_files(&doc, files, mi, st, rec);
    rill_bdoc_free(&doc);
    return rc;
}

/* Accepts a zeroed `have` (initialising it) or one of piece_count bits. */
static int prepare_have(struct rill_bitfield *have, uint32_t pieces)
{
    if (!have->bits && have->size == 0)
        return rill_bitfield_init(have, pieces);
    if (have->size != pieces || !have->bits)
        return RILL_EINVAL;
    memset(have->bits, 0, rill_bitfield_bytes(have));
    have->count = 0;
    return 0;
}

/* See rill.h. `have` may be a zeroed struct (it is then initialised, and
 * the caller frees it) or already hold mi->piece_count bits; it is cleared
 * first either way. RILL_ENOMEM and RILL_EINVAL are the only other errors;
 * an unreadable file counts as corrupt (RILL_ERESUME). */
int rill_resume_load(const char *path, const struct rill_metainfo *mi,
                     const struct rill_storage *st, struct rill_bitfield *have)
{
    if (!path || !mi || !st || !have || mi->piece_length == 0)
        return RILL_EINVAL;
    int rc = prepare_have(have, mi->piece_count);
    if (rc)
        return rc;
    /* Room for the bitfield, ~70 bytes per file entry and the framing. */
    size_t cap = 4096 + rill_bitfield_bytes(have) + 80 * mi->file_count;
    uint8_t *buf;
    size_t len;
    rc = rill__read_file(path, cap, &buf, &len, NULL);
    if (rc)
        return rc == RILL_ENOENT || rc == RILL_ENOMEM ? rc : RILL_ERESUME;
    const uint8_t *payload = NULL;
    size_t plen = 0;
    struct rill_bitfield rec = {0};
    rc = open_outer(buf, len, &payload, &plen);
    if (!rc)
        rc = rill_bitfield_init(&rec, mi->piece_count);
    if (!rc)
        rc = parse_payload(payload, plen, mi, st, &rec);
    if (!rc) {
        memcpy(have->bits, rec.bits, rill_bitfield_bytes(have));
        have->count = rec.count;
    }
    rill_bitfield_free(&rec);
    free(buf);
    return rc;
}

/* Appends ROOT/.rill/HEX.resume to `out` (NUL-terminated, as rill_buf keeps
 * a NUL after its bytes). */
int rill_resume_path(const char *root, const struct rill_metainfo *mi, struct rill_buf *out)
{
    if (!root || !root[0] || !mi || !out)
        return RILL_EINVAL;
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(mi->info_hash, RILL_SHA1_LEN, hex);
    size_t n = strlen(root);
    const char *sep = root[n - 1] == '/' ? "" : "/";
    return rill_buf_appendf(out, "%s%s.rill/%s.resume", root, sep, hex);
}
