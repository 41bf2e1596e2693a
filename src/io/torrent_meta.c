/* Magnet links (BEP 9): a torrent added from a magnet starts with a
 * placeholder metainfo (the info-hash, a name, the magnet's trackers) in
 * state RILL_T_METADATA. It finds peers as any torrent does, fetches the
 * info dictionary from those that offer ut_metadata (the fetch core picks
 * pieces, spreads them over peers and names liars), and once the SHA-1
 * matches: writes the .torrent, reconnects to its peers and downloads.
 * Every torrent with metadata serves it to others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ut_metadata.h"
#include "io/conn.h"
#include "io/sockaddr.h"
#include "io/storage_internal.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "util/util.h"

#define META_TIMEOUT_MS 10000
#define META_REJECTS_MAX 64 /* requests a peer may see refused before we drop it */
/* The largest info dictionary a magnet fetches: a peer's metadata_size is
 * a claim, and the buffer is allocated for it. 16 MiB is 800,000 pieces'
 * hashes, far past real torrents (libtorrent's default is 3 MiB). */
#define META_SIZE_MAX (16u << 20)

/* ------------------------------------------------------------ the start */

static int add_tiers(struct rill_metainfo *mi, const struct rill_magnet *m)
{
    if (!m->tracker_count)
        return 0;
    mi->tiers = calloc(m->tracker_count, sizeof *mi->tiers);
    if (!mi->tiers)
        return RILL_ENOMEM;
    for (size_t i = 0; i < m->tracker_count; i++, mi->tier_count++) {
        struct rill_tier *tr = &mi->tiers[i];
        tr->urls = calloc(1, sizeof *tr->urls);
        if (!tr->urls || !(tr->urls[0] = strdup(m->trackers[i])))
            return RILL_ENOMEM;
        tr->count = 1;
    }
    return 0;
}

int rill__meta_init(struct rill_torrent *t, const struct rill_magnet *m)
{
    struct rill_metainfo *mi = calloc(1, sizeof *mi);
    t->meta = calloc(1, sizeof *t->meta);
    if (!mi || !t->meta) {
        free(mi);
        return RILL_ENOMEM;
    }
    t->own_mi = mi;
    t->mi = mi;
    memcpy(mi->info_hash, m->info_hash, RILL_SHA1_LEN);
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(m->info_hash, RILL_SHA1_LEN, hex);
    mi->name = strdup(hex); /* the magnet's dn is unchecked: logs show the hash */
    if (!mi->name || add_tiers(mi, m) != 0)
        return RILL_ENOMEM;
    if (t->p.torrent_out && !(t->torrent_out = strdup(t->p.torrent_out)))
        return RILL_ENOMEM;
    for (size_t i = 0; i < m->peer_count; i++)
        (void)rill_torrent_add_peer(t, m->peers[i]);
    return 0;
}

/* ----------------------------------------------------------- messages */

/* Asks `p` for pieces of the info dictionary while the fetch has some
 * for it. */
static void request_from(struct rill_torrent *t, struct rill__peer *p)
{
    uint8_t their = p->ext.m[RILL_WIRE_EXT_UT_METADATA];
    uint32_t piece;
    /* Only peers that agree on the size: another size is another file,
     * and the first claim may have been a lie (see resize_after_liars). */
    if (!t->meta->buf || !their || p->phase != RILL__ACTIVE ||
        p->ext.metadata_size != t->meta->size)
        return;
    while (rill_utmeta_fetch_next(t->meta, p->pick.id, t->s->now, &piece)) {
        struct rill_buf b;
        rill_buf_init(&b, 64);
        if (rill_utmeta_build_request(&b, piece) == 0)
            rill__peer_send_ext(p, their, &b);
        rill_buf_free(&b);
    }
}

/* The peer's extended handshake arrived (or changed). */
void rill__meta_on_handshake(struct rill_torrent *t, struct rill__peer *p)
{
    if (t->state != RILL_T_METADATA || !p->ext.m[RILL_WIRE_EXT_UT_METADATA])
        return;
    if (!t->meta->buf) {
        if (!p->ext.metadata_size || p->ext.metadata_too_big)
            return;
        int rc = rill_utmeta_fetch_init(t->meta, t->mi->info_hash, p->ext.metadata_size,
                                        META_SIZE_MAX);
        if (rc != 0) {
            rill__log(t->s, 1, "metadata", "%s: %s offers metadata of %llu bytes: %s", t->mi->name,
                      p->name, (unsigned long long)p->ext.metadata_size, rill_strerror(rc));
            return;
        }
        rill__log(t->s, 1, "metadata", "%s: fetching %llu bytes of metadata", t->mi->name,
                  (unsigned long long)p->ext.metadata_size);
    }
    request_from(t, p);
}

/* A request for our metadata: served when we have it, else refused. */
static void serve(struct rill_torrent *t, struct rill__peer *p, uint32_t piece)
{
    uint8_t their = p->ext.m[RILL_WIRE_EXT_UT_METADATA];
    if (!their)
        return;
    struct rill_buf b;
    rill_buf_init(&b, RILL_UTMETA_PIECE + 128);
    bool have = t->state != RILL_T_METADATA && t->mi->info;
    if (!have || rill_utmeta_serve(&b, t->mi->info, t->mi->info_len, piece) != 0) {
        rill_buf_free(&b);
        rill_buf_init(&b, 128);
        rill_utmeta_build_reject(&b, piece);
        if (++p->meta_rejects > META_REJECTS_MAX) {
            rill_buf_free(&b);
            rill__peer_close(p, "too many metadata requests refused");
            return;
        }
    }
    rill__peer_send_ext(p, their, &b);
    rill_buf_free(&b);
}

static void drop_liars(struct rill_torrent *t)
{
    uint32_t id;
    while (rill_utmeta_fetch_pop_liar(t->meta, &id)) {
        struct rill__peer *liar = rill__torrent_find_peer(t, id);
        if (!liar)
            continue;
        rill__log(t->s, 0, "metadata", "%s: %s sent metadata that does not match the info-hash",
                  t->mi->name, liar->name);
        rill__session_ban(t->s, (struct sockaddr *)&liar->addr, liar->addrlen);
        rill__peer_close(liar, "sent false metadata");
    }
}

/* The size we fetch was claimed by a peer. When no peer left claims it
 * (the liar who did is gone) but others claim another, start over with the
 * size most of them give. */
static void resize_after_liars(struct rill_torrent *t)
{
    uint64_t best = 0;
    unsigned best_n = 0;
    for (const struct rill__peer *p = t->peers; p; p = p->next) {
        uint64_t size = p->ext.metadata_size;
        if (p->phase != RILL__ACTIVE || !p->ext.m[RILL_WIRE_EXT_UT_METADATA] || !size)
            continue;
        if (size == t->meta->size)
            return; /* someone still offers this one */
        unsigned n = 0;
        for (const struct rill__peer *q = t->peers; q; q = q->next)
            n += q->phase == RILL__ACTIVE && q->ext.metadata_size == size;
        if (n > best_n)
            best = size, best_n = n;
    }
    if (!best)
        return;
    rill_utmeta_fetch_free(t->meta);
    if (rill_utmeta_fetch_init(t->meta, t->mi->info_hash, best, META_SIZE_MAX) != 0)
        return; /* (a failed init leaves the fetch freed: the next handshake retries) */
    rill__log(t->s, 1, "metadata", "%s: fetching %llu bytes of metadata instead", t->mi->name,
              (unsigned long long)best);
    for (struct rill__peer *p = t->peers; p; p = p->next)
        request_from(t, p);
}

static void meta_done(struct rill_torrent *t);

void rill__meta_on_msg(struct rill_torrent *t, struct rill__peer *p, const uint8_t *data,
                       size_t len)
{
    struct rill_utmeta_msg m;
    if (rill_utmeta_parse(data, len, &m, NULL) != 0) {
        rill__peer_close(p, "malformed ut_metadata message");
        return;
    }
    if (m.type == RILL_UTMETA_REQUEST) {
        serve(t, p, m.piece);
        return;
    }
    if (t->state != RILL_T_METADATA || !t->meta->buf ||
        (m.type == RILL_UTMETA_DATA && m.total_size != t->meta->size))
        return; /* late, unasked, or of another size: ignored */
    int rc = rill_utmeta_fetch_msg(t->meta, p->pick.id, &m, t->s->now);
    if (rc < 0) {
        rill__peer_close(p, "bad ut_metadata data");
        return;
    }
    if (rc == RILL_UTMETA_FAILED || rc == RILL_UTMETA_DONE)
        drop_liars(t);
    if (rc == RILL_UTMETA_DONE) {
        meta_done(t);
        return;
    }
    if (rc == RILL_UTMETA_FAILED)
        resize_after_liars(t);
    /* The failed round is refetched from everyone; else this peer has room. */
    for (struct rill__peer *q = t->peers; q; q = q->next)
        if (rc == RILL_UTMETA_FAILED || q == p)
            request_from(t, q);
}

void rill__meta_tick(struct rill_torrent *t)
{
    if (t->state != RILL_T_METADATA || !t->meta->buf)
        return;
    resize_after_liars(t); /* the peer whose size we took may have left */
    rill_utmeta_fetch_timeouts(t->meta, t->s->now, META_TIMEOUT_MS);
    for (struct rill__peer *p = t->peers; p; p = p->next)
        request_from(t, p);
}

void rill__meta_peer_gone(struct rill_torrent *t, struct rill__peer *p)
{
    if (t->meta && t->meta->buf)
        rill_utmeta_fetch_peer_gone(t->meta, p->pick.id);
}

/* ------------------------------------------------------------ the switch */

/* The .torrent: the verified info dictionary with the magnet's trackers. */
static int build_torrent(const struct rill_metainfo *ph, const uint8_t *info, size_t len,
                         struct rill_buf *out)
{
    struct rill_benc e;
    rill_benc_init(&e, out);
    rill_benc_dict(&e);
    if (ph->tier_count) {
        rill_benc_key(&e, "announce");
        rill_benc_cstr(&e, ph->tiers[0].urls[0]);
        rill_benc_key(&e, "announce-list");
        rill_benc_list(&e);
        for (size_t i = 0; i < ph->tier_count; i++) {
            rill_benc_list(&e);
            rill_benc_cstr(&e, ph->tiers[i].urls[0]);
            rill_benc_end(&e);
        }
        rill_benc_end(&e);
    }
    rill_benc_key(&e, "created by");
    rill_benc_cstr(&e, "rill " RILL_VERSION " (from a magnet link)");
    rill_benc_key(&e, "info");
    rill_benc_raw(&e, info, len);
    rill_benc_end(&e);
    return rill_benc_finish(&e);
}

static char *torrent_path(const struct rill_torrent *t, const struct rill_metainfo *mi)
{
    if (t->torrent_out)
        return strdup(t->torrent_out);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    rill_buf_appendf(&b, "%s/%s.torrent", t->dir, mi->name);
    return b.failed ? NULL : (char *)rill_buf_take(&b, NULL);
}

/* Closes every connection, keeping a way back to each: the download needs
 * fresh ones (their bitfields went by while we could not read them). */
static void reconnect_all(struct rill_torrent *t)
{
    while (t->peers) {
        struct rill__peer *p = t->peers;
        if (!p->outgoing && p->ext.p) {
            struct sockaddr_storage ss = p->addr;
            rill__sockaddr_set_port(&ss, p->ext.p);
            rill__torrent_add_candidate(t, (struct sockaddr *)&ss, p->addrlen);
        }
        rill__peer_close(p, "metadata complete: reconnecting");
    }
    for (size_t i = 0; i < t->ncands; i++)
        t->cands[i].retry_at = 0, t->cands[i].failures = 0;
}

static void meta_done(struct rill_torrent *t)
{
    size_t len = 0;
    const uint8_t *info = rill_utmeta_fetch_result(t->meta, &len);
    struct rill_buf tor;
    rill_buf_init(&tor, RILL_MAX_TORRENT_SIZE + 4096);
    struct rill_metainfo *mi = calloc(1, sizeof *mi);
    struct rill_error err = {0};
    int rc = !mi ? RILL_ENOMEM : build_torrent(t->own_mi, info, len, &tor);
    if (rc == 0)
        rc = rill_metainfo_parse(mi, tor.data, tor.len, &err);
    char *path = rc == 0 ? torrent_path(t, mi) : NULL;
    if (rc == 0 && !path)
        rc = RILL_ENOMEM;
    if (rc == 0 && (rc = rill__write_file_atomic(path, tor.data, tor.len)) != 0)
        snprintf(err.msg, sizeof err.msg, "cannot write %s", path);
    rill_buf_free(&tor);
    if (rc != 0) {
        free(mi);
        free(path);
        rill__torrent_fail(t, rc, err.msg[0] ? err.msg : "the metadata is not a valid torrent");
        return;
    }
    rill__log(t->s, 0, "metadata", "%s: metadata received (%zu bytes, %u pieces), saved as %s",
              mi->name, len, mi->piece_count, path);
    reconnect_all(t);
    rill_utmeta_fetch_free(t->meta);
    rill_metainfo_free(t->own_mi);
    free(t->own_mi);
    t->own_mi = mi;
    t->mi = mi;
    rc = rill__torrent_init(t);
    if (rc != 0)
        rill__torrent_fail(t, rc, "cannot start the download");
    else if (t->p.on_metadata)
        t->p.on_metadata(t->p.ctx, t, path);
    free(path);
}

void rill__meta_free(struct rill_torrent *t)
{
    if (t->meta)
        rill_utmeta_fetch_free(t->meta);
    free(t->meta);
    if (t->own_mi)
        rill_metainfo_free(t->own_mi);
    free(t->own_mi);
    free(t->torrent_out);
}
