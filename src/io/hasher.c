/* Parallel piece hashing: see hasher.h for the shape and why. */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/hasher.h"
#include "util/util.h"

/* Bytes each thread reads before hashing them. Measured: 2-4 MiB runs are
 * fastest; 8 MiB and up no longer fit in cache next to the other thread's. */
#define CHUNK (4u << 20)
#define MAX_THREADS 64u
#define PAGE 4096u
#define PROGRESS_NS 50000000ll

struct shared {
    struct rill__hash_job *job;
    const EVP_MD *md;
    uint32_t unit_pieces;   /* pieces per claim */
    uint32_t units;
    uint32_t ahead;         /* units between the one claimed and the one hinted */
    size_t bufsize;
    atomic_uint_fast32_t next_unit;
    atomic_uint_fast64_t bytes_done;
    atomic_uint_fast32_t pieces_done;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned running;       /* worker threads besides the caller; under mu */
    int rc;                 /* the first error; under mu */
    struct rill_error err;
    int64_t last_report;
};

struct worker {
    struct shared *sh;
    unsigned idx;
    void *wctx;
    uint8_t *buf;
    EVP_MD_CTX *mdctx;
    pthread_t th;
    bool started;           /* th runs and must be joined */
    struct rill_error err;
};

unsigned rill__ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > (long)MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static uint64_t piece_start(const struct rill__hash_job *job, uint32_t p)
{
    return (uint64_t)p * job->piece_length;
}

static size_t piece_len(const struct rill__hash_job *job, uint32_t p)
{
    uint64_t start = piece_start(job, p);
    uint64_t left = job->total - start;
    return left < job->piece_length ? (size_t)left : job->piece_length;
}

static void piece_done(struct shared *sh, uint32_t p)
{
    atomic_fetch_add(&sh->bytes_done, piece_len(sh->job, p));
    atomic_fetch_add(&sh->pieces_done, 1);
}

/* RILL_ENOENT marks pieces missing only in a job that collects them; in any
 * other job a vanished file is an error like the rest. */
static bool is_missing(const struct rill__hash_job *job, int rc)
{
    return rc == RILL_ENOENT && job->missing;
}

static int digest(struct worker *w, uint32_t p, const uint8_t *data, size_t len)
{
    unsigned int outlen = 0;
    if (!EVP_DigestInit_ex(w->mdctx, w->sh->md, NULL) ||
        !EVP_DigestUpdate(w->mdctx, data, len) ||
        !EVP_DigestFinal_ex(w->mdctx, w->sh->job->hashes + (size_t)p * RILL_SHA1_LEN, &outlen))
        return rill__fail(&w->err, RILL_EIO, 0, "SHA-1 failed in libcrypto");
    return 0;
}

/* Pieces [a, b), each no longer than the buffer: read (in one go, or piece by
 * piece when asked) and hash each piece. */
static int hash_small(struct worker *w, uint32_t a, uint32_t b)
{
    struct rill__hash_job *job = w->sh->job;
    uint64_t base = piece_start(job, a);
    size_t len = (size_t)(piece_start(job, b - 1) + piece_len(job, b - 1) - base);
    bool lost = false;
    if (!job->piece_reads) {
        int rc = job->read(job->ctx, w->wctx, base, w->buf, len, &w->err);
        if (rc && !is_missing(job, rc))
            return rc;
        lost = rc != 0;
    }
    for (uint32_t p = a; p < b; p++) {
        uint8_t *data = w->buf + (piece_start(job, p) - base);
        int rc = lost ? RILL_ENOENT : 0;
        if (job->piece_reads)
            rc = job->read(job->ctx, w->wctx, piece_start(job, p), data, piece_len(job, p),
                           &w->err);
        if (rc == 0)
            rc = digest(w, p, data, piece_len(job, p));
        else if (is_missing(job, rc)) {
            job->missing[p] = 1;
            rc = 0;
        }
        if (rc)
            return rc;
        piece_done(w->sh, p);
    }
    return 0;
}

/* One piece larger than the buffer, streamed through it. */
static int hash_large(struct worker *w, uint32_t p)
{
    struct rill__hash_job *job = w->sh->job;
    uint64_t start = piece_start(job, p);
    size_t plen = piece_len(job, p);
    if (!EVP_DigestInit_ex(w->mdctx, w->sh->md, NULL))
        return rill__fail(&w->err, RILL_EIO, 0, "SHA-1 failed in libcrypto");
    for (size_t off = 0; off < plen;) {
        size_t n = plen - off < w->sh->bufsize ? plen - off : w->sh->bufsize;
        int rc = job->read(job->ctx, w->wctx, start + off, w->buf, n, &w->err);
        if (is_missing(job, rc)) {
            job->missing[p] = 1;
            piece_done(w->sh, p);
            return 0;
        }
        if (rc)
            return rc;
        if (!EVP_DigestUpdate(w->mdctx, w->buf, n))
            return rill__fail(&w->err, RILL_EIO, 0, "SHA-1 failed in libcrypto");
        off += n;
    }
    unsigned int outlen = 0;
    if (!EVP_DigestFinal_ex(w->mdctx, job->hashes + (size_t)p * RILL_SHA1_LEN, &outlen))
        return rill__fail(&w->err, RILL_EIO, 0, "SHA-1 failed in libcrypto");
    piece_done(w->sh, p);
    return 0;
}

/* Hashes the pieces of one unit, leaving out skipped ones. */
static int hash_unit(struct worker *w, uint32_t unit)
{
    struct rill__hash_job *job = w->sh->job;
    uint32_t first = unit * w->sh->unit_pieces;
    uint32_t last = first + w->sh->unit_pieces;
    if (last > job->piece_count || last < first)
        last = job->piece_count;
    if (job->piece_length > w->sh->bufsize)
        return hash_large(w, first);
    uint32_t a = first;
    while (a < last) {
        if (job->skip && rill_bitfield_get(job->skip, a)) {
            a++;
            continue;
        }
        uint32_t b = a + 1;
        while (b < last && !(job->skip && rill_bitfield_get(job->skip, b)))
            b++;
        int rc = hash_small(w, a, b);
        if (rc)
            return rc;
        a = b;
    }
    return 0;
}

static void report(struct shared *sh, bool force)
{
    if (!sh->job->progress)
        return;
    int64_t now = mono_ns();
    if (!force && now - sh->last_report < PROGRESS_NS)
        return;
    sh->last_report = now;
    sh->job->progress(sh->job->ctx, atomic_load(&sh->bytes_done),
                      (uint32_t)atomic_load(&sh->pieces_done));
}

static void fail_job(struct shared *sh, int rc, const struct rill_error *err)
{
    pthread_mutex_lock(&sh->mu);
    if (!sh->rc) {
        sh->rc = rc;
        sh->err = *err;
        if (sh->err.code != rc) /* a callback that did not fill err */
            rill__fail(&sh->err, rc, 0, "hashing failed: %s", rill_strerror(rc));
    }
    pthread_mutex_unlock(&sh->mu);
    atomic_store(&sh->stop, true);
}

/* Tells the reader that `unit` comes next-but-some, so a cold file is read
 * ahead while this round is hashed. Each thread sees its own strided share
 * only, which the kernel's readahead does not recognise as sequential. */
static void hint(struct worker *w, uint32_t unit)
{
    struct shared *sh = w->sh;
    struct rill__hash_job *job = sh->job;
    if (!job->prefetch || unit >= sh->units)
        return;
    uint32_t first = unit * sh->unit_pieces;
    uint32_t last = first + sh->unit_pieces;
    if (last > job->piece_count)
        last = job->piece_count;
    uint64_t off = piece_start(job, first);
    uint64_t end = piece_start(job, last - 1) + piece_len(job, last - 1);
    job->prefetch(job->ctx, w->wctx, off, end - off);
}

/* The work loop of every thread: claim a unit, hash it, repeat. */
static void work(struct worker *w)
{
    struct shared *sh = w->sh;
    while (!atomic_load(&sh->stop)) {
        uint32_t unit = (uint32_t)atomic_fetch_add(&sh->next_unit, 1);
        if (unit >= sh->units)
            break;
        hint(w, unit + sh->ahead);
        int rc = hash_unit(w, unit);
        if (rc) {
            fail_job(sh, rc, &w->err);
            break;
        }
        if (w->idx == 0)
            report(sh, false);
    }
}

static void *thread_main(void *arg)
{
    struct worker *w = arg;
    work(w);
    pthread_mutex_lock(&w->sh->mu);
    w->sh->running--;
    pthread_cond_signal(&w->sh->cv);
    pthread_mutex_unlock(&w->sh->mu);
    return NULL;
}

/* Frees what worker_init made; safe on a zeroed worker. */
static void worker_free(struct worker *w)
{
    if (w->wctx && w->sh->job->close)
        w->sh->job->close(w->sh->job->ctx, w->wctx);
    EVP_MD_CTX_free(w->mdctx);
    free(w->buf);
}

static int worker_init(struct worker *w, struct shared *sh, unsigned idx)
{
    w->sh = sh;
    w->idx = idx;
    /* Page-aligned: the kernel copies out of the page cache less than half
     * as fast into a buffer that malloc's 16-byte header misaligns
     * (measured: 180 ms against 75 ms of system time per GiB). */
    size_t size = (sh->bufsize + PAGE - 1) / PAGE * PAGE;
    w->buf = aligned_alloc(PAGE, size);
    w->mdctx = EVP_MD_CTX_new();
    if (!w->buf || !w->mdctx)
        return rill__fail(&w->err, RILL_ENOMEM, 0, "out of memory for hashing buffers");
    if (sh->job->open)
        return sh->job->open(sh->job->ctx, idx, &w->wctx, &w->err);
    return 0;
}

/* Geometry: runs of whole pieces of about CHUNK bytes, or one piece per
 * claim, streamed through a CHUNK buffer, when pieces are larger. */
static void plan(struct shared *sh, unsigned *threads)
{
    struct rill__hash_job *job = sh->job;
    if (job->piece_length <= CHUNK) {
        sh->unit_pieces = CHUNK / job->piece_length;
        sh->bufsize = (size_t)sh->unit_pieces * job->piece_length;
    } else {
        sh->unit_pieces = 1;
        sh->bufsize = CHUNK;
    }
    sh->units = (uint32_t)(((uint64_t)job->piece_count + sh->unit_pieces - 1) / sh->unit_pieces);
    /* Never more bytes than the stream holds: small jobs get small buffers. */
    if (sh->bufsize > job->total)
        sh->bufsize = job->total ? (size_t)job->total : 1;
    unsigned n = job->threads ? job->threads : rill__ncpu();
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    if (n > sh->units)
        n = sh->units ? sh->units : 1;
    *threads = n;
    sh->ahead = n;
}

static void count_skipped(struct shared *sh)
{
    const struct rill__hash_job *job = sh->job;
    if (!job->skip)
        return;
    for (uint32_t p = 0; p < job->piece_count; p++)
        if (rill_bitfield_get(job->skip, p))
            piece_done(sh, p);
}

/* The calling thread, its own share done, reports progress until the other
 * threads have finished. */
static void wait_others(struct shared *sh)
{
    pthread_mutex_lock(&sh->mu);
    while (sh->running) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += PROGRESS_NS;
        if (ts.tv_nsec >= 1000000000l) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000l;
        }
        pthread_cond_timedwait(&sh->cv, &sh->mu, &ts);
        pthread_mutex_unlock(&sh->mu);
        report(sh, false);
        pthread_mutex_lock(&sh->mu);
    }
    pthread_mutex_unlock(&sh->mu);
}

static int start_workers(struct shared *sh, struct worker *ws, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int rc = worker_init(&ws[i], sh, i);
        if (rc) {
            fail_job(sh, rc, &ws[i].err);
            return rc;
        }
    }
    for (unsigned i = 1; i < n; i++) {
        pthread_mutex_lock(&sh->mu);
        sh->running++;
        pthread_mutex_unlock(&sh->mu);
        ws[i].started = pthread_create(&ws[i].th, NULL, thread_main, &ws[i]) == 0;
        if (!ws[i].started) {
            /* Fewer threads is slower, not wrong: the others share the work. */
            pthread_mutex_lock(&sh->mu);
            sh->running--;
            pthread_mutex_unlock(&sh->mu);
        }
    }
    return 0;
}

int rill__hash_run(struct rill__hash_job *job, struct rill_error *err)
{
    if (job->piece_length == 0 || !job->read || !job->hashes ||
        job->piece_count != (job->total + job->piece_length - 1) / job->piece_length)
        return rill__fail(err, RILL_EINVAL, 0, "inconsistent hashing job");
    struct shared sh = { .job = job };
    unsigned n = 1;
    plan(&sh, &n);
    struct worker *ws = calloc(n, sizeof *ws);
    if (!ws)
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory for hashing threads");
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD *fetched = EVP_MD_fetch(NULL, "SHA1", NULL);
    sh.md = fetched;
#else
    sh.md = EVP_sha1();
#endif
    count_skipped(&sh);
    if (!sh.md) {
        rill__fail(&ws[0].err, RILL_EIO, 0, "libcrypto has no SHA-1");
        fail_job(&sh, RILL_EIO, &ws[0].err);
    } else if (start_workers(&sh, ws, n) == 0) {
        work(&ws[0]);
        wait_others(&sh);
    }
    for (unsigned i = 1; i < n; i++)
        if (ws[i].started)
            pthread_join(ws[i].th, NULL);
    for (unsigned i = 0; i < n; i++)
        if (ws[i].sh)
            worker_free(&ws[i]);
    free(ws);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(fetched);
#endif
    pthread_mutex_destroy(&sh.mu);
    pthread_cond_destroy(&sh.cv);
    if (sh.rc) {
        if (err)
            *err = sh.err;
        return sh.rc;
    }
    report(&sh, true);
    return 0;
}
