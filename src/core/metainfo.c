/* .torrent parsing (BEP 3, 12, 19, 27, 47, 52-hybrid). The info-hash is the
 * SHA-1 of the info dictionary exactly as it appears in the input, which the
 * decoder's byte spans give us without re-encoding anything. */
#include <stdlib.h>
#include <string.h>

#include "core/metainfo_internal.h"

#define MAX_URLS 1000
#define MAX_URL_BYTES 4096
#define MAX_TEXT_BYTES 65536

static const struct rill_blimits torrent_limits = {
    .max_depth = 128,      /* v2 file trees nest one level per directory */
    .max_nodes = 4000000,
};

static int oom(struct rill_error *err)
{
    return rill__fail(err, RILL_ENOMEM, 0, "out of memory");
}

/* A copy of an optional text field; NULL when absent or not a string. */
static char *opt_text(const struct rill_bdoc *doc, const struct rill_bnode *dict, const char *key)
{
    const struct rill_bnode *n = rill_bdict_get(doc, dict, key);
    if (!n || n->type != RILL_BSTR || n->slen > MAX_TEXT_BYTES)
        return NULL;
    return rill__strndup(n->s, n->slen);
}

static int parse_name(struct rill__mi_parse *ps, const struct rill_bnode *info)
{
    const struct rill_bnode *n = rill_bdict_get(ps->doc, info, "name.utf-8");
    if (!n || n->type != RILL_BSTR)
        n = rill_bdict_get(ps->doc, info, "name");
    if (!n || n->type != RILL_BSTR)
        return rill__fail(ps->err, RILL_EMETAINFO, info->start, "info has no 'name' string");
    char comp[RILL_MAX_NAME_BYTES + 1];
    const char *why = NULL;
    int rc = rill_path_component(n->s, n->slen, comp, sizeof comp, &why);
    if (rc < 0)
        return rill__fail(ps->err, RILL_EPATH, n->start, "%s in the torrent name", why);
    ps->mi->renamed += (uint32_t)rc;
    ps->mi->name = rill__strndup(comp, strlen(comp));
    return ps->mi->name ? 0 : oom(ps->err);
}

static int parse_pieces(struct rill__mi_parse *ps, const struct rill_bnode *info)
{
    struct rill_metainfo *mi = ps->mi;
    const struct rill_bnode *pl = rill_bdict_get(ps->doc, info, "piece length");
    if (!pl || pl->type != RILL_BINT)
        return rill__fail(ps->err, RILL_EMETAINFO, info->start, "info has no 'piece length'");
    if (pl->i < 1024 || pl->i > (int64_t)RILL_MAX_PIECE)
        return rill__fail(ps->err, RILL_EMETAINFO, pl->start,
                          "piece length %lld outside 1 KiB to 128 MiB", (long long)pl->i);
    mi->piece_length = (uint32_t)pl->i;
    const struct rill_bnode *p = rill_bdict_get(ps->doc, info, "pieces");
    if (!p || p->type != RILL_BSTR)
        return rill__fail(ps->err, RILL_EMETAINFO, info->start, "info has no 'pieces' string");
    if (p->slen % RILL_SHA1_LEN != 0)
        return rill__fail(ps->err, RILL_EMETAINFO, p->start,
                          "'pieces' is %zu bytes, not a multiple of 20", p->slen);
    uint64_t want = (mi->total_size + mi->piece_length - 1) / mi->piece_length;
    if (p->slen / RILL_SHA1_LEN != want)
        return rill__fail(ps->err, RILL_EMETAINFO, p->start,
                          "%zu piece hashes for %llu bytes in pieces of %u (expected %llu)",
                          p->slen / RILL_SHA1_LEN, (unsigned long long)mi->total_size,
                          mi->piece_length, (unsigned long long)want);
    mi->piece_count = (uint32_t)want;
    mi->piece_hashes = malloc(p->slen);
    if (!mi->piece_hashes)
        return oom(ps->err);
    memcpy(mi->piece_hashes, p->s, p->slen);
    return 0;
}

static int parse_info_dict(struct rill__mi_parse *ps, const struct rill_bnode *info)
{
    struct rill_metainfo *mi = ps->mi;
    if (!info || info->type != RILL_BDICT)
        return rill__fail(ps->err, RILL_EMETAINFO, info ? info->start : 0,
                          "'info' is missing or not a dictionary");
    const struct rill_bnode *version = rill_bdict_get(ps->doc, info, "meta version");
    bool has_pieces = rill_bdict_get(ps->doc, info, "pieces") != NULL;
    if (version && version->type == RILL_BINT && version->i == 2 && !has_pieces)
        return rill__fail(ps->err, RILL_EUNSUPPORTED, info->start,
                          "this is a v2-only torrent (BEP 52), which rill does not support yet");
    mi->hybrid = version != NULL;
    int rc = parse_name(ps, info);
    if (!rc)
        rc = rill__mi_parse_files(ps, info);
    if (!rc && mi->total_size == 0)
        rc = rill__fail(ps->err, RILL_EMETAINFO, info->start, "torrent has no content (0 bytes)");
    if (!rc)
        rc = parse_pieces(ps, info);
    if (rc)
        return rc;
    const struct rill_bnode *priv = rill_bdict_get(ps->doc, info, "private");
    mi->is_private = priv && priv->type == RILL_BINT && priv->i == 1;
    mi->source = opt_text(ps->doc, info, "source");
    mi->info_len = info->end - info->start;
    mi->info = malloc(mi->info_len);
    if (!mi->info)
        return oom(ps->err);
    memcpy(mi->info, ps->doc->input + info->start, mi->info_len);
    rill_sha1(mi->info, mi->info_len, mi->info_hash);
    return 0;
}

/* Appends a URL to a growable string array, skipping non-strings, oversized
 * values and duplicates; trackers are advice, so a bad one is not fatal. */
static int add_url(char ***urls, size_t *count, size_t *total, const struct rill_bnode *n)
{
    if (!n || n->type != RILL_BSTR || n->slen == 0 || n->slen > MAX_URL_BYTES ||
        memchr(n->s, 0, n->slen) || *total >= MAX_URLS)
        return 0;
    for (size_t i = 0; i < *count; i++)
        if (strlen((*urls)[i]) == n->slen && memcmp((*urls)[i], n->s, n->slen) == 0)
            return 0;
    char **grown = realloc(*urls, (*count + 1) * sizeof *grown);
    if (!grown)
        return RILL_ENOMEM;
    *urls = grown;
    if (!(grown[*count] = rill__strndup(n->s, n->slen)))
        return RILL_ENOMEM;
    (*count)++;
    (*total)++;
    return 0;
}

static int add_tier(struct rill_metainfo *mi)
{
    struct rill_tier *t = realloc(mi->tiers, (mi->tier_count + 1) * sizeof *t);
    if (!t)
        return RILL_ENOMEM;
    mi->tiers = t;
    memset(&t[mi->tier_count++], 0, sizeof *t);
    return 0;
}

static int parse_trackers(const struct rill_bdoc *doc, const struct rill_bnode *root,
                          struct rill_metainfo *mi)
{
    size_t total = 0;
    const struct rill_bnode *list = rill_bdict_get(doc, root, "announce-list");
    if (list && list->type == RILL_BLIST) {
        for (const struct rill_bnode *tier = rill_bnode_first(doc, list); tier;
             tier = rill_bnode_next(doc, list, tier)) {
            if (tier->type != RILL_BLIST || add_tier(mi))
                continue;
            struct rill_tier *t = &mi->tiers[mi->tier_count - 1];
            for (const struct rill_bnode *u = rill_bnode_first(doc, tier); u;
                 u = rill_bnode_next(doc, tier, u))
                if (add_url(&t->urls, &t->count, &total, u))
                    return RILL_ENOMEM;
            if (t->count == 0)
                mi->tier_count--; /* drop empty tiers */
        }
    }
    /* BEP 12: with a usable announce-list, 'announce' is ignored. */
    if (mi->tier_count == 0) {
        const struct rill_bnode *a = rill_bdict_get(doc, root, "announce");
        if (a && a->type == RILL_BSTR && add_tier(mi) == 0) {
            struct rill_tier *t = &mi->tiers[0];
            if (add_url(&t->urls, &t->count, &total, a))
                return RILL_ENOMEM;
            if (t->count == 0)
                mi->tier_count = 0;
        }
    }
    const struct rill_bnode *ws = rill_bdict_get(doc, root, "url-list");
    if (ws && ws->type == RILL_BSTR)
        return add_url(&mi->web_seeds, &mi->web_seed_count, &total, ws);
    if (ws && ws->type == RILL_BLIST)
        for (const struct rill_bnode *u = rill_bnode_first(doc, ws); u;
             u = rill_bnode_next(doc, ws, u))
            if (add_url(&mi->web_seeds, &mi->web_seed_count, &total, u))
                return RILL_ENOMEM;
    return 0;
}

static int decode(struct rill_bdoc *doc, const uint8_t *buf, size_t len, struct rill_error *err)
{
    if (len > RILL_MAX_TORRENT_SIZE)
        return rill__fail(err, RILL_ELIMIT, 0, "torrent larger than %u bytes",
                          (unsigned)RILL_MAX_TORRENT_SIZE);
    int rc = rill_bdecode(doc, buf, len, &torrent_limits, err);
    if (rc == 0 && rill_bdoc_root(doc)->type != RILL_BDICT) {
        rill_bdoc_free(doc);
        return rill__fail(err, RILL_EMETAINFO, 0, "torrent is not a dictionary");
    }
    return rc;
}

int rill_metainfo_parse(struct rill_metainfo *mi, const uint8_t *buf, size_t len,
                        struct rill_error *err)
{
    memset(mi, 0, sizeof *mi);
    struct rill_bdoc doc;
    int rc = decode(&doc, buf, len, err);
    if (rc)
        return rc;
    const struct rill_bnode *root = rill_bdoc_root(&doc);
    struct rill__mi_parse ps = {mi, &doc, err};
    rc = parse_info_dict(&ps, rill_bdict_get(&doc, root, "info"));
    if (!rc && parse_trackers(&doc, root, mi))
        rc = oom(err);
    if (!rc) {
        const struct rill_bnode *date = rill_bdict_get(&doc, root, "creation date");
        mi->creation_date = date && date->type == RILL_BINT && date->i > 0 ? date->i : 0;
        mi->comment = opt_text(&doc, root, "comment.utf-8");
        if (!mi->comment)
            mi->comment = opt_text(&doc, root, "comment");
        mi->created_by = opt_text(&doc, root, "created by");
    }
    rill_bdoc_free(&doc);
    if (rc)
        rill_metainfo_free(mi);
    return rc;
}

int rill_metainfo_parse_info(struct rill_metainfo *mi, const uint8_t *info, size_t len,
                             struct rill_error *err)
{
    memset(mi, 0, sizeof *mi);
    struct rill_bdoc doc;
    int rc = decode(&doc, info, len, err);
    if (rc)
        return rc;
    struct rill__mi_parse ps = {mi, &doc, err};
    rc = parse_info_dict(&ps, rill_bdoc_root(&doc));
    rill_bdoc_free(&doc);
    if (rc)
        rill_metainfo_free(mi);
    return rc;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void rill_metainfo_free(struct rill_metainfo *mi)
{
    for (size_t i = 0; i < mi->file_count; i++) {
        free(mi->files[i].path);
        free(mi->files[i].symlink);
    }
    free(mi->files);
    for (size_t i = 0; i < mi->tier_count; i++)
        free_strings(mi->tiers[i].urls, mi->tiers[i].count);
    free(mi->tiers);
    free_strings(mi->web_seeds, mi->web_seed_count);
    free(mi->name);
    free(mi->piece_hashes);
    free(mi->comment);
    free(mi->created_by);
    free(mi->source);
    free(mi->info);
    memset(mi, 0, sizeof *mi);
}

uint32_t rill_piece_size(const struct rill_metainfo *mi, uint32_t piece)
{
    if (piece >= mi->piece_count)
        return 0;
    if (piece + 1 < mi->piece_count)
        return mi->piece_length;
    uint64_t rest = mi->total_size - (uint64_t)piece * mi->piece_length;
    return (uint32_t)rest;
}
