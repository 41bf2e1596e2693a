/* The file list of a torrent's info dictionary: BEP 3 single and multi-file
 * layouts, BEP 47 attributes and padding, and path sanitizing, so that no
 * torrent can name a file outside its download directory. */
#include <stdlib.h>
#include <string.h>

#include "core/metainfo_internal.h"

/* Largest single file or total we accept: 2^50 bytes (1 PiB). Bigger claims
 * are hostile and would overflow piece arithmetic. */
#define MAX_LENGTH ((int64_t)1 << 50)

static int fail_at(struct rill_error *err, int code, const struct rill_bnode *n, const char *what,
                   const char *detail)
{
    return rill__fail(err, code, n ? n->start : 0, "%s%s%s", what, detail ? ": " : "",
                      detail ? detail : "");
}

/* Appends one sanitized component to `path` (a '/'-joined string of *len
 * bytes in a buffer of RILL_MAX_PATH_BYTES + 1). */
static int add_component(struct rill__mi_parse *ps, const struct rill_bnode *c, char *path,
                         size_t *len)
{
    if (c->type != RILL_BSTR)
        return fail_at(ps->err, RILL_EMETAINFO, c, "path component is not a string", NULL);
    char comp[RILL_MAX_NAME_BYTES + 1];
    const char *why = NULL;
    int rc = rill_path_component(c->s, c->slen, comp, sizeof comp, &why);
    if (rc < 0)
        return fail_at(ps->err, RILL_EPATH, c, why, NULL);
    ps->mi->renamed += (uint32_t)rc;
    size_t n = strlen(comp);
    if (*len + (*len ? 1 : 0) + n > RILL_MAX_PATH_BYTES)
        return fail_at(ps->err, RILL_EPATH, c, "file path longer than 4096 bytes", NULL);
    if (*len)
        path[(*len)++] = '/';
    memcpy(path + *len, comp, n);
    *len += n;
    path[*len] = 0;
    return 0;
}

/* Joins a list of components ("path", "symlink path") into a malloc'd string. */
static int join_path(struct rill__mi_parse *ps, const struct rill_bnode *list, char **out)
{
    if (!list || list->type != RILL_BLIST || list->count == 0)
        return fail_at(ps->err, RILL_EMETAINFO, list, "file path missing or empty", NULL);
    char path[RILL_MAX_PATH_BYTES + 1];
    size_t len = 0;
    path[0] = 0;
    for (const struct rill_bnode *c = rill_bnode_first(ps->doc, list); c;
         c = rill_bnode_next(ps->doc, list, c)) {
        int rc = add_component(ps, c, path, &len);
        if (rc)
            return rc;
    }
    *out = rill__strndup(path, len);
    return *out ? 0 : rill__fail(ps->err, RILL_ENOMEM, 0, "out of memory");
}

static uint32_t parse_attr(const struct rill_bnode *attr)
{
    uint32_t bits = 0;
    if (!attr || attr->type != RILL_BSTR)
        return 0;
    for (size_t i = 0; i < attr->slen; i++) {
        switch (attr->s[i]) {
        case 'p': bits |= RILL_ATTR_PAD; break;
        case 'x': bits |= RILL_ATTR_EXEC; break;
        case 'h': bits |= RILL_ATTR_HIDDEN; break;
        case 'l': bits |= RILL_ATTR_SYMLINK; break;
        default: break; /* unknown attributes are ignored (BEP 47) */
        }
    }
    return bits;
}

static int parse_length(struct rill__mi_parse *ps, const struct rill_bnode *n, uint64_t *out)
{
    if (!n || n->type != RILL_BINT)
        return fail_at(ps->err, RILL_EMETAINFO, n, "file length missing or not an integer", NULL);
    if (n->i < 0)
        return fail_at(ps->err, RILL_EMETAINFO, n, "negative file length", NULL);
    if (n->i > MAX_LENGTH)
        return fail_at(ps->err, RILL_EMETAINFO, n, "file length larger than 1 PiB", NULL);
    *out = (uint64_t)n->i;
    return 0;
}

/* The path list of a file entry, preferring the UTF-8 variant. */
static const struct rill_bnode *path_of(const struct rill_bdoc *doc, const struct rill_bnode *f)
{
    const struct rill_bnode *p = rill_bdict_get(doc, f, "path.utf-8");
    return p && p->type == RILL_BLIST ? p : rill_bdict_get(doc, f, "path");
}

static bool is_legacy_pad(const char *path)
{
    return strncmp(path, ".pad/", 5) == 0 ||
           strncmp(path, "_____padding_file_", 18) == 0;
}

static int parse_file(struct rill__mi_parse *ps, const struct rill_bnode *f, struct rill_file *out,
                      uint64_t offset)
{
    if (f->type != RILL_BDICT)
        return fail_at(ps->err, RILL_EMETAINFO, f, "file entry is not a dictionary", NULL);
    int rc = parse_length(ps, rill_bdict_get(ps->doc, f, "length"), &out->length);
    if (rc)
        return rc;
    out->offset = offset;
    out->attr = parse_attr(rill_bdict_get(ps->doc, f, "attr"));
    const struct rill_bnode *mt = rill_bdict_get(ps->doc, f, "mtime");
    out->mtime = mt && mt->type == RILL_BINT ? mt->i : 0;
    if ((rc = join_path(ps, path_of(ps->doc, f), &out->path)))
        return rc;
    if (is_legacy_pad(out->path))
        out->attr |= RILL_ATTR_PAD;
    if (out->attr & RILL_ATTR_SYMLINK) {
        const struct rill_bnode *target = rill_bdict_get(ps->doc, f, "symlink path");
        if (target && (rc = join_path(ps, target, &out->symlink)))
            return rc;
    }
    return 0;
}

/* Orders paths so that "a" sorts right before every "a/...": '/' counts as
 * the lowest byte. Then two equal paths, or a file that is also a directory,
 * are neighbours. */
static int cmp_path(const void *x, const void *y)
{
    const unsigned char *a = *(const unsigned char *const *)x;
    const unsigned char *b = *(const unsigned char *const *)y;
    for (;; a++, b++) {
        unsigned ca = *a == '/' ? 1 : *a, cb = *b == '/' ? 1 : *b;
        if (ca != cb || ca == 0)
            return (int)ca - (int)cb;
    }
}

static int check_collisions(struct rill__mi_parse *ps)
{
    struct rill_metainfo *mi = ps->mi;
    const char **paths = malloc(mi->file_count * sizeof *paths);
    if (!paths)
        return rill__fail(ps->err, RILL_ENOMEM, 0, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < mi->file_count; i++)
        if (!(mi->files[i].attr & RILL_ATTR_PAD))
            paths[n++] = mi->files[i].path;
    qsort(paths, n, sizeof *paths, cmp_path);
    int rc = 0;
    for (size_t i = 1; i < n && !rc; i++) {
        size_t len = strlen(paths[i - 1]);
        if (strcmp(paths[i - 1], paths[i]) == 0)
            rc = rill__fail(ps->err, RILL_EPATH, 0, "two files have the path '%s'", paths[i]);
        else if (strncmp(paths[i - 1], paths[i], len) == 0 && paths[i][len] == '/')
            rc = rill__fail(ps->err, RILL_EPATH, 0, "'%s' is both a file and a directory",
                            paths[i - 1]);
    }
    free(paths);
    return rc;
}

static int parse_file_list(struct rill__mi_parse *ps, const struct rill_bnode *files)
{
    struct rill_metainfo *mi = ps->mi;
    if (files->type != RILL_BLIST || files->count == 0)
        return fail_at(ps->err, RILL_EMETAINFO, files, "'files' is not a non-empty list", NULL);
    if (files->count > RILL_MAX_FILES)
        return fail_at(ps->err, RILL_ELIMIT, files, "more than 1,000,000 files", NULL);
    mi->files = calloc(files->count, sizeof *mi->files);
    if (!mi->files)
        return rill__fail(ps->err, RILL_ENOMEM, 0, "out of memory");
    mi->multi_file = true;
    uint64_t offset = 0;
    for (const struct rill_bnode *f = rill_bnode_first(ps->doc, files); f;
         f = rill_bnode_next(ps->doc, files, f)) {
        int rc = parse_file(ps, f, &mi->files[mi->file_count], offset);
        mi->file_count++; /* counted even on failure so free() releases it */
        if (rc)
            return rc;
        offset += mi->files[mi->file_count - 1].length;
        if (offset > (uint64_t)MAX_LENGTH)
            return fail_at(ps->err, RILL_EMETAINFO, f, "total size larger than 1 PiB", NULL);
    }
    mi->total_size = offset;
    return check_collisions(ps);
}

int rill__mi_parse_files(struct rill__mi_parse *ps, const struct rill_bnode *info)
{
    struct rill_metainfo *mi = ps->mi;
    const struct rill_bnode *files = rill_bdict_get(ps->doc, info, "files");
    const struct rill_bnode *length = rill_bdict_get(ps->doc, info, "length");
    if (files && length)
        return fail_at(ps->err, RILL_EMETAINFO, info, "info has both 'length' and 'files'", NULL);
    if (files)
        return parse_file_list(ps, files);
    if (!length)
        return fail_at(ps->err, RILL_EMETAINFO, info, "info has neither 'length' nor 'files'",
                       NULL);
    mi->files = calloc(1, sizeof *mi->files);
    if (!mi->files)
        return rill__fail(ps->err, RILL_ENOMEM, 0, "out of memory");
    mi->file_count = 1;
    struct rill_file *f = &mi->files[0];
    int rc = parse_length(ps, length, &f->length);
    if (rc)
        return rc;
    f->attr = parse_attr(rill_bdict_get(ps->doc, info, "attr")) & ~(uint32_t)RILL_ATTR_PAD;
    f->path = rill__strndup(mi->name, strlen(mi->name));
    if (!f->path)
        return rill__fail(ps->err, RILL_ENOMEM, 0, "out of memory");
    mi->total_size = f->length;
    return 0;
}

size_t rill_file_at(const struct rill_metainfo *mi, uint64_t offset)
{
    size_t lo = 0, hi = mi->file_count; /* find the last file with offset <= x */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (mi->files[mid].offset <= offset)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}
