/* Collecting and ordering the files of a torrent to create.
 *
 * The order is a plain byte-wise sort of the '/'-joined relative paths, which
 * is what mktorrent does, so the same tree gives the same info-hash with
 * either tool. Each directory is read whole and closed before descending, so
 * at most one directory descriptor is open whatever the depth. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/walk.h"
#include "util/util.h"

#define MAX_DEPTH 256

struct walker {
    struct rill__walk *w;
    size_t cap;
    bool hidden;
    const char *top;
    size_t top_len;
    struct rill_error *err;
};

struct names {
    char **v;
    size_t n, cap;
};

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

static int names_add(struct names *ns, const char *s)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v)
            return RILL_ENOMEM;
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n] = rill__strndup(s, strlen(s));
    return ns->v[ns->n++] ? 0 : RILL_ENOMEM;
}

/* Joins a and b with '/' (b may be empty) into a new string. */
static char *join(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    char *s = malloc(alen + 1 + blen + 1);
    if (!s)
        return NULL;
    memcpy(s, a, alen);
    size_t n = alen;
    if (blen) {
        if (n && s[n - 1] != '/')
            s[n++] = '/';
        memcpy(s + n, b, blen);
        n += blen;
    }
    s[n] = 0;
    return s;
}

static int add_file(struct walker *wk, char *path, char *rel, uint64_t length)
{
    struct rill__walk *w = wk->w;
    if (w->count >= RILL_MAX_FILES) {
        free(path);
        free(rel);
        return rill__fail(wk->err, RILL_ELIMIT, 0, "%s: more than %u files", wk->top,
                          RILL_MAX_FILES);
    }
    if (w->count == wk->cap) {
        size_t cap = wk->cap ? wk->cap * 2 : 64;
        struct rill__walk_file *f = realloc(w->files, cap * sizeof *f);
        if (!f) {
            free(path);
            free(rel);
            return rill__fail(wk->err, RILL_ENOMEM, 0, "out of memory walking %s", wk->top);
        }
        w->files = f;
        wk->cap = cap;
    }
    w->files[w->count++] = (struct rill__walk_file){ path, rel, length };
    w->total += length;
    return 0;
}

/* Reads the names in directory `dir`, without "." and ".." (and without hidden
 * names unless asked), then closes it. */
static int read_names(struct walker *wk, const char *dir, struct names *ns)
{
    DIR *d = opendir(dir);
    if (!d)
        return rill__fail(wk->err, errno == ENOENT ? RILL_ENOENT : RILL_EIO, 0,
                          "cannot open directory %s: %s", dir, strerror(errno));
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *s = de->d_name;
        if (!strcmp(s, ".") || !strcmp(s, ".."))
            continue;
        if (s[0] == '.' && !wk->hidden)
            continue;
        rc = names_add(ns, s);
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = rill__fail(wk->err, RILL_EIO, 0, "cannot read directory %s: %s", dir,
                        strerror(errno));
    else if (rc)
        rc = rill__fail(wk->err, rc, 0, "out of memory reading %s", dir);
    closedir(d);
    return rc;
}

static int walk_dir(struct walker *wk, const char *rel, unsigned depth);

/* Handles one directory entry `name` inside `rel`. */
static int walk_entry(struct walker *wk, const char *rel, const char *name, unsigned depth)
{
    char *crel = join(rel, strlen(rel), name);
    char *path = crel ? join(wk->top, wk->top_len, crel) : NULL;
    if (!path) {
        free(crel);
        return rill__fail(wk->err, RILL_ENOMEM, 0, "out of memory walking %s", wk->top);
    }
    if (strlen(crel) > RILL_MAX_PATH_BYTES) {
        int rc = rill__fail(wk->err, RILL_ELIMIT, 0, "%s: path longer than %d bytes", path,
                            RILL_MAX_PATH_BYTES);
        free(path);
        free(crel);
        return rc;
    }
    struct stat sb;
    int rc = 0;
    if (lstat(path, &sb) != 0) {
        /* Vanished between readdir and lstat: a race, not a file of ours. */
        if (errno != ENOENT)
            rc = rill__fail(wk->err, RILL_EIO, 0, "cannot stat %s: %s", path, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        rc = walk_dir(wk, crel, depth + 1);
    } else if (S_ISREG(sb.st_mode)) {
        rc = add_file(wk, path, crel, (uint64_t)sb.st_size);
        path = crel = NULL; /* owned by the list now, even on failure */
    }
    /* Symlinks, sockets, FIFOs and devices are skipped on purpose. */
    free(path);
    free(crel);
    return rc;
}

static int walk_dir(struct walker *wk, const char *rel, unsigned depth)
{
    if (depth > MAX_DEPTH)
        return rill__fail(wk->err, RILL_ELIMIT, 0, "%s/%s: directories nested deeper than %d",
                          wk->top, rel, MAX_DEPTH);
    char *dir = join(wk->top, wk->top_len, rel);
    if (!dir)
        return rill__fail(wk->err, RILL_ENOMEM, 0, "out of memory walking %s", wk->top);
    struct names ns = { 0 };
    int rc = read_names(wk, dir, &ns);
    free(dir);
    for (size_t i = 0; rc == 0 && i < ns.n; i++)
        rc = walk_entry(wk, rel, ns.v[i], depth);
    names_free(&ns);
    return rc;
}

static int cmp_rel(const void *a, const void *b)
{
    const struct rill__walk_file *x = a, *y = b;
    return strcmp(x->rel, y->rel);
}

/* The torrent's name: the last component of `path`. "." and the like are
 * resolved first so the name is a real directory name. */
static int base_name(const char *path, char **out, struct rill_error *err)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/')
        b--;
    const char *s = path + b;
    size_t len = n - b;
    if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
        char real[PATH_MAX];
        if (!realpath(path, real))
            return rill__fail(err, RILL_EIO, 0, "cannot resolve %s: %s", path, strerror(errno));
        if (!strcmp(real, "/"))
            return rill__fail(err, RILL_EINVAL, 0, "%s: cannot name a torrent after /", path);
        return base_name(real, out, err);
    }
    *out = rill__strndup(s, len);
    return *out ? 0 : rill__fail(err, RILL_ENOMEM, 0, "out of memory");
}

int rill__walk(struct rill__walk *w, const char *path, bool include_hidden,
               struct rill_error *err)
{
    memset(w, 0, sizeof *w);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return rill__fail(err, errno == ENOENT ? RILL_ENOENT : RILL_EIO, 0, "cannot stat %s: %s",
                          path, strerror(errno));
    if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
        return rill__fail(err, RILL_EINVAL, 0, "%s is neither a regular file nor a directory",
                          path);
    int rc = base_name(path, &w->name, err);
    if (rc)
        return rc;
    struct walker wk = { .w = w, .hidden = include_hidden, .top = path,
                         .top_len = strlen(path), .err = err };
    if (S_ISREG(sb.st_mode)) {
        char *p = rill__strndup(path, strlen(path));
        char *rel = rill__strndup(w->name, strlen(w->name));
        rc = p && rel ? add_file(&wk, p, rel, (uint64_t)sb.st_size)
                      : rill__fail(err, RILL_ENOMEM, 0, "out of memory");
        if (!p || !rel) {
            free(p);
            free(rel);
        }
    } else {
        w->is_dir = true;
        rc = walk_dir(&wk, "", 0);
        if (rc == 0 && w->count > 1)
            qsort(w->files, w->count, sizeof *w->files, cmp_rel);
    }
    if (rc)
        rill__walk_free(w);
    return rc;
}

void rill__walk_free(struct rill__walk *w)
{
    for (size_t i = 0; i < w->count; i++) {
        free(w->files[i].path);
        free(w->files[i].rel);
    }
    free(w->files);
    free(w->name);
    memset(w, 0, sizeof *w);
}
