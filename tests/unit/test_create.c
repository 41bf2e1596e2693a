/* rill_create: piece-length policy, the file walk and its order, the bencoded
 * output (decoded and compared field by field), and piece hashes computed
 * independently with rill_sha1 over the concatenated content. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KiB (1u << 10)
#define MiB (1u << 20)

struct torrent {
    uint8_t *bytes;
    size_t len;
    struct rill_bdoc doc;
    const struct rill_bnode *root, *info;
};

static void decode(struct torrent *t)
{
    struct rill_error err = {0};
    if (rill_bdecode(&t->doc, t->bytes, t->len, NULL, &err) != 0)
        fail_msg("output does not decode: %s at %zu", err.msg, err.offset);
    t->root = rill_bdoc_root(&t->doc);
    assert_non_null(t->root);
    t->info = rill_bdict_get(&t->doc, t->root, "info");
    assert_non_null(t->info);
    assert_int_equal(t->info->type, RILL_BDICT);
}

static int make(struct torrent *t, const char *path, const struct rill_create_opts *c,
                const struct rill_torrent_opts *o, struct rill_error *err)
{
    struct rill_buf out;
    rill_buf_init(&out, 0);
    int rc = rill_create(path, c, o, &out, err);
    memset(t, 0, sizeof *t);
    t->bytes = rill_buf_take(&out, &t->len);
    rill_buf_free(&out);
    if (rc == 0)
        decode(t);
    return rc;
}

static void make_ok(struct torrent *t, const char *path, const struct rill_create_opts *c,
                    const struct rill_torrent_opts *o)
{
    struct rill_error err = {0};
    int rc = make(t, path, c, o, &err);
    if (rc != 0)
        fail_msg("rill_create(%s): %s (%s)", path, rill_strerror(rc), err.msg);
}

static void drop(struct torrent *t)
{
    rill_bdoc_free(&t->doc);
    free(t->bytes);
}

static const struct rill_bnode *get(const struct torrent *t, const struct rill_bnode *d,
                                    const char *key)
{
    return rill_bdict_get(&t->doc, d, key);
}

static void assert_str(const struct rill_bnode *n, const char *s)
{
    assert_non_null(n);
    if (!rill_bstr_eq(n, s))
        fail_msg("want \"%s\", got \"%.*s\"", s, (int)n->slen, (const char *)n->s);
}

static void assert_int(const struct rill_bnode *n, int64_t v)
{
    assert_non_null(n);
    assert_int_equal(n->type, RILL_BINT);
    assert_int_equal(n->i, v);
}

/* The pieces string equals SHA-1 over each piece of `content`. */
static void assert_pieces(const struct torrent *t, const uint8_t *content, size_t len,
                          uint32_t plen)
{
    const struct rill_bnode *pieces = get(t, t->info, "pieces");
    assert_non_null(pieces);
    size_t count = (len + plen - 1) / plen;
    assert_int_equal(pieces->slen, count * 20);
    for (size_t i = 0; i < count; i++) {
        size_t n = len - i * plen < plen ? len - i * plen : plen;
        uint8_t h[20];
        rill_sha1(content + i * plen, n, h);
        if (memcmp(h, pieces->s + 20 * i, 20) != 0)
            fail_msg("piece %zu differs", i);
    }
}

static char *path2(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

static uint8_t *write_fill(const char *dir, const char *name, size_t n, uint64_t seed)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    tu_fill(p, n, seed);
    char *path = path2(dir, name);
    tu_write_file(path, p, n);
    free(path);
    return p;
}

static void test_piece_length_policy(void **state)
{
    (void)state;
    assert_int_equal(rill_create_piece_length(0), 256 * KiB);
    assert_int_equal(rill_create_piece_length(1), 256 * KiB);
    assert_int_equal(rill_create_piece_length(1ull << 30), 256 * KiB);
    assert_int_equal(rill_create_piece_length((1ull << 30) + 1), 512 * KiB);
    assert_int_equal(rill_create_piece_length(2ull << 30), 512 * KiB);
    assert_int_equal(rill_create_piece_length((2ull << 30) + 1), 1 * MiB);
    assert_int_equal(rill_create_piece_length(10ull << 30), 4 * MiB);
    assert_int_equal(rill_create_piece_length(64ull << 30), 16 * MiB);
    assert_int_equal(rill_create_piece_length(1ull << 40), 16 * MiB);
    assert_int_equal(rill_create_piece_length(UINT64_MAX), 16 * MiB);
    /* Never more than about 4,000 pieces below the cap. */
    for (uint64_t t = 1ull << 20; t <= 64ull << 30; t = t * 3 / 2) {
        uint32_t p = rill_create_piece_length(t);
        assert_true((t + p - 1) / p <= 4096);
        assert_true(p == 256 * KiB || (t + p / 2 - 1) / (p / 2) > 4096);
    }
}

static void test_forced_piece_length(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    free(write_fill(dir, "f", 1000, 1));
    char *f = path2(dir, "f");
    const uint32_t bad[] = {1, 8 * KiB, 24 * KiB, 3 * MiB, 256 * MiB, 0x80000000u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rill_create_opts c = { .piece_length = bad[i] };
        struct torrent t;
        struct rill_error err = {0};
        assert_int_equal(make(&t, f, &c, NULL, &err), RILL_EINVAL);
        assert_non_null(strstr(err.msg, "power of two"));
        drop(&t);
    }
    const uint32_t good[] = {16 * KiB, 1 * MiB, 128 * MiB};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct rill_create_opts c = { .piece_length = good[i] };
        struct torrent t;
        make_ok(&t, f, &c, NULL);
        assert_int(get(&t, t.info, "piece length"), good[i]);
        drop(&t);
    }
    free(f);
    tu_rmrf(dir);
    free(dir);
}

static void test_single_file(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    const size_t len = 100000; /* 6 pieces of 16 KiB and a short last one */
    uint8_t *content = write_fill(dir, "movie.mkv", len, 7);
    char *f = path2(dir, "movie.mkv");
    const char *trackers[] = {"http://t.example/announce", NULL};
    struct rill_create_opts c = { .piece_length = 16 * KiB };
    struct rill_torrent_opts o = { .trackers = trackers, .comment = "a comment",
                                   .source = "SRC", .is_private = true, .no_date = true };
    struct torrent t;
    make_ok(&t, f, &c, &o);
    assert_str(get(&t, t.root, "announce"), "http://t.example/announce");
    assert_null(get(&t, t.root, "announce-list"));
    assert_str(get(&t, t.root, "comment"), "a comment");
    assert_str(get(&t, t.root, "created by"), "rill/" RILL_VERSION);
    assert_null(get(&t, t.root, "creation date"));
    assert_null(get(&t, t.root, "url-list"));
    assert_int_equal(t.root->count, 4); /* announce, comment, created by, info */
    assert_int(get(&t, t.info, "length"), (int64_t)len);
    assert_null(get(&t, t.info, "files"));
    assert_str(get(&t, t.info, "name"), "movie.mkv");
    assert_int(get(&t, t.info, "piece length"), 16 * KiB);
    assert_int(get(&t, t.info, "private"), 1);
    assert_str(get(&t, t.info, "source"), "SRC");
    assert_int_equal(t.info->count, 6);
    assert_pieces(&t, content, len, 16 * KiB);
    drop(&t);

    /* Public, no source: neither key is written; the date is. */
    struct rill_torrent_opts plain = { .creation_date = 1700000000 };
    make_ok(&t, f, &c, &plain);
    assert_null(get(&t, t.info, "private"));
    assert_null(get(&t, t.info, "source"));
    assert_null(get(&t, t.root, "announce"));
    assert_int(get(&t, t.root, "creation date"), 1700000000);
    drop(&t);
    free(content);
    free(f);
    tu_rmrf(dir);
    free(dir);
}

struct tree {
    char *dir, *top;
    uint8_t *content; /* the visible files concatenated in torrent order */
    size_t len;
};

/* top/ holds files whose byte-wise order differs from a per-directory walk
 * ("a-b" < "a.c" < "a/x.bin"), an empty file, hidden entries, a symlink,
 * a FIFO and an empty directory. */
static void make_tree(struct tree *tr)
{
    static const struct { const char *name; size_t len; } files[] = {
        {"a-b", 10000}, {"a.c", 7}, {"a/x.bin", 30001}, {"b.bin", 40000}, {"empty", 0},
    };
    tr->dir = tu_tempdir();
    tr->top = path2(tr->dir, "top");
    assert_int_equal(mkdir(tr->top, 0755), 0);
    char *p = path2(tr->top, "a");
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
    p = path2(tr->top, "emptydir");
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
    p = path2(tr->top, ".hdir");
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
    free(write_fill(tr->top, ".hdir/y", 3000, 100));
    free(write_fill(tr->top, ".hidden", 5, 101));
    tr->len = 0;
    for (size_t i = 0; i < 5; i++)
        tr->len += files[i].len;
    tr->content = malloc(tr->len);
    size_t off = 0;
    for (size_t i = 0; i < 5; i++) {
        uint8_t *b = write_fill(tr->top, files[i].name, files[i].len, i + 1);
        memcpy(tr->content + off, b, files[i].len);
        off += files[i].len;
        free(b);
    }
    p = path2(tr->top, "link");
    assert_int_equal(symlink("b.bin", p), 0);
    free(p);
    p = path2(tr->top, "fifo");
    assert_int_equal(mkfifo(p, 0644), 0);
    free(p);
}

static void free_tree(struct tree *tr)
{
    tu_rmrf(tr->dir);
    free(tr->dir);
    free(tr->top);
    free(tr->content);
}

/* The 'files' list: paths as '/'-joined strings and lengths, in order. */
static void assert_files(const struct torrent *t, const char *const *paths,
                         const int64_t *lens, size_t n)
{
    const struct rill_bnode *files = get(t, t->info, "files");
    assert_non_null(files);
    assert_int_equal(files->type, RILL_BLIST);
    assert_int_equal(files->count, n);
    const struct rill_bnode *f = rill_bnode_first(&t->doc, files);
    for (size_t i = 0; i < n; i++, f = rill_bnode_next(&t->doc, files, f)) {
        assert_non_null(f);
        assert_int_equal(f->count, 2); /* length and path, nothing else */
        assert_int(get(t, f, "length"), lens[i]);
        const struct rill_bnode *path = get(t, f, "path");
        assert_non_null(path);
        char joined[256] = "";
        size_t jl = 0;
        for (const struct rill_bnode *c = rill_bnode_first(&t->doc, path); c;
             c = rill_bnode_next(&t->doc, path, c))
            jl += (size_t)snprintf(joined + jl, sizeof joined - jl, "%s%.*s", jl ? "/" : "",
                                   (int)c->slen, (const char *)c->s);
        assert_string_equal(joined, paths[i]);
    }
}

static void test_directory(void **state)
{
    (void)state;
    struct tree tr;
    make_tree(&tr);
    struct rill_create_opts c = { .piece_length = 16 * KiB, .threads = 2 };
    struct torrent t;
    make_ok(&t, tr.top, &c, NULL);
    assert_str(get(&t, t.info, "name"), "top");
    assert_null(get(&t, t.info, "length"));
    const char *paths[] = {"a-b", "a.c", "a/x.bin", "b.bin", "empty"};
    const int64_t lens[] = {10000, 7, 30001, 40000, 0};
    assert_files(&t, paths, lens, 5);
    /* 16 KiB pieces straddle every file boundary here. */
    assert_pieces(&t, tr.content, tr.len, 16 * KiB);
    drop(&t);

    /* A trailing slash changes nothing. */
    char *slashed = path2(tr.top, "");
    struct torrent t2;
    make_ok(&t2, slashed, &c, NULL);
    assert_str(get(&t2, t2.info, "name"), "top");
    assert_files(&t2, paths, lens, 5);
    drop(&t2);
    free(slashed);
    free_tree(&tr);
}

static void test_directory_hidden(void **state)
{
    (void)state;
    struct tree tr;
    make_tree(&tr);
    struct rill_create_opts c = { .piece_length = 32 * KiB, .include_hidden = true };
    struct torrent t;
    make_ok(&t, tr.top, &c, NULL);
    const char *paths[] = {".hdir/y", ".hidden", "a-b", "a.c", "a/x.bin", "b.bin", "empty"};
    const int64_t lens[] = {3000, 5, 10000, 7, 30001, 40000, 0};
    assert_files(&t, paths, lens, 7);
    /* The hidden files come first in the stream. */
    size_t len = 3005 + tr.len;
    uint8_t *all = malloc(len);
    tu_fill(all, 3000, 100);
    tu_fill(all + 3000, 5, 101);
    memcpy(all + 3005, tr.content, tr.len);
    assert_pieces(&t, all, len, 32 * KiB);
    free(all);
    drop(&t);
    free_tree(&tr);
}

static void test_trackers_and_web_seeds(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    free(write_fill(dir, "f", 5000, 3));
    char *f = path2(dir, "f");
    const char *trackers[] = {"http://a/ann,http://b/ann", "udp://c:80", NULL};
    const char *one_seed[] = {"http://seed/f", NULL};
    const char *two_seeds[] = {"http://s1/", "http://s2/", NULL};
    struct rill_torrent_opts o = { .trackers = trackers, .web_seeds = one_seed,
                                   .created_by = "me", .creation_date = 42 };
    struct torrent t;
    make_ok(&t, f, NULL, &o);
    assert_str(get(&t, t.root, "announce"), "http://a/ann");
    assert_str(get(&t, t.root, "created by"), "me");
    assert_int(get(&t, t.root, "creation date"), 42);
    assert_str(get(&t, t.root, "url-list"), "http://seed/f");
    const struct rill_bnode *al = get(&t, t.root, "announce-list");
    assert_non_null(al);
    assert_int_equal(al->count, 2);
    const struct rill_bnode *tier = rill_bnode_first(&t.doc, al);
    assert_int_equal(tier->count, 2);
    assert_str(rill_bnode_first(&t.doc, tier), "http://a/ann");
    assert_str(rill_bnode_next(&t.doc, tier, rill_bnode_first(&t.doc, tier)), "http://b/ann");
    tier = rill_bnode_next(&t.doc, al, tier);
    assert_int_equal(tier->count, 1);
    assert_str(rill_bnode_first(&t.doc, tier), "udp://c:80");
    drop(&t);

    /* One tier of two URLs also needs the list; two seeds make a list. */
    const char *tier2[] = {"http://a/ann,http://b/ann", NULL};
    o.trackers = tier2;
    o.web_seeds = two_seeds;
    make_ok(&t, f, NULL, &o);
    assert_non_null(get(&t, t.root, "announce-list"));
    const struct rill_bnode *ul = get(&t, t.root, "url-list");
    assert_int_equal(ul->type, RILL_BLIST);
    assert_int_equal(ul->count, 2);
    drop(&t);

    const char *empty_url[] = {"http://a/ann,,http://b", NULL};
    o.trackers = empty_url;
    struct rill_error err = {0};
    assert_int_equal(make(&t, f, NULL, &o, &err), RILL_EINVAL);
    drop(&t);
    free(f);
    tu_rmrf(dir);
    free(dir);
}

static void test_nothing_to_hash(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *sub = path2(dir, "d");
    assert_int_equal(mkdir(sub, 0755), 0);
    struct torrent t;
    struct rill_error err = {0};
    assert_int_equal(make(&t, sub, NULL, NULL, &err), RILL_EINVAL);
    assert_non_null(strstr(err.msg, sub));
    assert_non_null(strstr(err.msg, "no files"));
    drop(&t);

    free(write_fill(sub, "zero", 0, 0));
    free(write_fill(sub, ".hidden", 10, 0)); /* skipped, so still nothing */
    assert_int_equal(make(&t, sub, NULL, NULL, &err), RILL_EINVAL);
    assert_non_null(strstr(err.msg, "only empty files"));
    drop(&t);
    char *zero = path2(sub, "zero");
    assert_int_equal(make(&t, zero, NULL, NULL, &err), RILL_EINVAL);
    drop(&t);

    char *nowhere = path2(dir, "nowhere");
    assert_int_equal(make(&t, nowhere, NULL, NULL, &err), RILL_ENOENT);
    assert_non_null(strstr(err.msg, nowhere));
    drop(&t);
    free(nowhere);
    free(zero);
    free(sub);
    tu_rmrf(dir);
    free(dir);
}

struct seen {
    uint64_t last, total;
    int calls;
    bool backwards;
    bool other_thread;
    pthread_t caller;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct seen *s = ctx;
    if (done < s->last)
        s->backwards = true;
    if (!pthread_equal(pthread_self(), s->caller))
        s->other_thread = true;
    s->last = done;
    s->total = total;
    s->calls++;
}

/* Pieces larger than the hashing buffer are streamed through it; any
 * thread count gives the same bytes; progress ends at the total. A symlink
 * given as the path itself is followed. */
static void test_threads_and_large_pieces(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *top = path2(dir, "big");
    assert_int_equal(mkdir(top, 0755), 0);
    const size_t a = 5 * MiB + 3, b = 4 * MiB + 77;
    uint8_t *all = malloc(a + b);
    uint8_t *pa = write_fill(top, "a", a, 11), *pb = write_fill(top, "b", b, 12);
    memcpy(all, pa, a);
    memcpy(all + a, pb, b);
    free(pa);
    free(pb);
    struct rill_torrent_opts o = { .no_date = true };
    struct torrent ref;
    struct rill_create_opts c1 = { .piece_length = 8 * MiB, .threads = 1 };
    make_ok(&ref, top, &c1, &o);
    assert_pieces(&ref, all, a + b, 8 * MiB);
    const unsigned threads[] = {2, 3, 0};
    for (size_t i = 0; i < 3; i++) {
        struct seen s = { .caller = pthread_self() };
        struct rill_create_opts c = { .piece_length = 8 * MiB, .threads = threads[i],
                                      .progress = on_progress, .progress_ctx = &s };
        struct torrent t;
        make_ok(&t, top, &c, &o);
        assert_int_equal(t.len, ref.len);
        assert_memory_equal(t.bytes, ref.bytes, ref.len);
        assert_true(s.calls >= 1);
        assert_false(s.backwards);
        assert_false(s.other_thread);
        assert_int_equal(s.last, a + b);
        assert_int_equal(s.total, a + b);
        drop(&t);
    }
    struct rill_create_opts c16 = { .piece_length = 16 * KiB, .threads = 2 };
    struct torrent t;
    make_ok(&t, top, &c16, &o);
    assert_pieces(&t, all, a + b, 16 * KiB);
    drop(&t);

    char *link = path2(dir, "alias");
    assert_int_equal(symlink(top, link), 0);
    make_ok(&t, link, &c1, &o);
    assert_str(get(&t, t.info, "name"), "alias");
    assert_pieces(&t, all, a + b, 8 * MiB);
    drop(&t);
    free(link);
    drop(&ref);
    free(all);
    free(top);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_piece_length_policy),
        cmocka_unit_test(test_forced_piece_length),
        cmocka_unit_test(test_single_file),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_directory_hidden),
        cmocka_unit_test(test_trackers_and_web_seeds),
        cmocka_unit_test(test_nothing_to_hash),
        cmocka_unit_test(test_threads_and_large_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
