/* Fuzzes rill_resume_load: resume files are bytes from disk that anyone with
 * access to the download directory may have written.
 *
 * The first input byte picks a mode. Even: the rest is the file as is, and
 * the harness checks that nothing is trusted unless the file's checksum is
 * right (checked independently here). Odd: the rest is wrapped as the
 * payload of a correctly checksummed file, so the fuzzer reaches the inner
 * parser, which a random mutation of a checksummed file never would.
 *
 * The torrent is fixed and small: a (10 B), dir/b (20 B), padding (34 B),
 * c (50 B), pieces of 32 bytes. The files exist with fixed mtimes, so a
 * well-formed record can match them and trust pieces. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rill.h"

#define MTIME_SEC 1600000000
#define MTIME_NSEC 123456789

static char name[] = "T";
static char pa[] = "a.bin", pb[] = "dir/b.bin", ppad[] = ".pad/34", pc[] = "c.bin";
static struct rill_file files[] = {
    {.path = pa, .offset = 0, .length = 10},
    {.path = pb, .offset = 10, .length = 20},
    {.path = ppad, .offset = 30, .length = 34, .attr = RILL_ATTR_PAD},
    {.path = pc, .offset = 64, .length = 50},
};
static struct rill_metainfo mi;
static struct rill_storage *st;
static char resume_path[256];
static char tmp_root[] = "/tmp/rill-fuzz-resume.XXXXXX";

/* libFuzzer runs millions of inputs through one process: one directory,
 * removed at exit. */
static void cleanup(void)
{
    const char *rel[] = {"T/a.bin", "T/dir/b.bin", "T/c.bin", "r.resume", "T/dir", "T", ""};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", tmp_root, rel[i]);
        remove(p);
    }
}

static void make_file(const char *rel, size_t len)
{
    char p[256];
    snprintf(p, sizeof p, "%s/T/%s", tmp_root, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0)
        abort();
    struct timespec ts[2] = {{MTIME_SEC, MTIME_NSEC}, {MTIME_SEC, MTIME_NSEC}};
    if (futimens(fd, ts) != 0)
        abort();
    close(fd);
}

static void setup(void)
{
    if (!mkdtemp(tmp_root))
        abort();
    atexit(cleanup);
    char p[256];
    snprintf(p, sizeof p, "%s/T", tmp_root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/T/dir", tmp_root);
    mkdir(p, 0755);
    make_file(pa, 10);
    make_file(pb, 20);
    make_file(pc, 50);
    mi.name = name;
    mi.multi_file = true;
    mi.total_size = 114;
    mi.piece_length = 32;
    mi.piece_count = 4;
    mi.files = files;
    mi.file_count = 4;
    memset(mi.info_hash, 0x5A, sizeof mi.info_hash);
    struct rill_storage_opts opts = {.read_only = true};
    if (rill_storage_open(&st, &mi, tmp_root, &opts) != 0)
        abort();
    snprintf(resume_path, sizeof resume_path, "%s/r.resume", tmp_root);
}

static void put(const uint8_t *p, size_t n)
{
    int fd = open(resume_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
        abort();
    close(fd);
}

/* The oracle for raw mode: is this a dict whose checksum matches? */
static bool checksum_ok(const uint8_t *p, size_t n)
{
    struct rill_bdoc doc;
    if (rill_bdecode(&doc, p, n, NULL, NULL) != 0)
        return false;
    const struct rill_bnode *root = rill_bdoc_root(&doc);
    const struct rill_bnode *sum = rill_bdict_get(&doc, root, "checksum");
    const struct rill_bnode *pl = rill_bdict_get(&doc, root, "payload");
    bool ok = false;
    if (sum && pl && sum->type == RILL_BSTR && pl->type == RILL_BSTR &&
        sum->slen == RILL_SHA1_LEN) {
        uint8_t got[RILL_SHA1_LEN];
        rill_sha1(pl->s, pl->slen, got);
        ok = memcmp(got, sum->s, RILL_SHA1_LEN) == 0;
    }
    rill_bdoc_free(&doc);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st)
        setup();
    if (size == 0)
        return 0;
    bool wrap = data[0] & 1;
    data++;
    size--;
    struct rill_buf file;
    rill_buf_init(&file, 0);
    if (wrap) {
        uint8_t sum[RILL_SHA1_LEN];
        rill_sha1(data, size, sum);
        struct rill_benc e;
        rill_benc_init(&e, &file);
        rill_benc_dict(&e);
        rill_benc_key(&e, "checksum");
        rill_benc_str(&e, sum, sizeof sum);
        rill_benc_key(&e, "payload");
        rill_benc_str(&e, data, size);
        rill_benc_end(&e);
        if (rill_benc_finish(&e) != 0)
            abort();
    } else {
        rill_buf_append(&file, data, size);
    }
    put(file.data, file.len);

    struct rill_bitfield have;
    if (rill_bitfield_init(&have, mi.piece_count) != 0)
        abort();
    for (uint32_t i = 0; i < have.size; i++)
        rill_bitfield_set(&have, i, true);
    int rc = rill_resume_load(resume_path, &mi, st, &have);
    uint32_t bits = 0;
    for (uint32_t i = 0; i < have.size; i++)
        bits += rill_bitfield_get(&have, i);
    if (bits != have.count)
        abort(); /* count out of step with the bits */
    if (rc != 0 && have.count != 0)
        abort(); /* an error must trust nothing */
    if (rc == 0 && !wrap && !checksum_ok(file.data, file.len))
        abort(); /* accepted without a valid checksum */
    if (rc != 0 && rc != RILL_ERESUME)
        abort(); /* the file exists: anything wrong with it is ERESUME */
    rill_bitfield_free(&have);
    rill_buf_free(&file);
    return 0;
}
