/* Who sent the bad data? A failed piece usually mixes blocks from several
 * peers, and striking all of them bans honest peers along with the liar.
 * Instead, remember each failed piece's blocks (sender and SHA-1 of what it
 * sent); when the piece later passes its check, the good piece tells block
 * by block who lied: those senders are banned, the others were innocent.
 * A peer that alone sent a whole failed piece is also struck, so a liar that
 * never lets a piece pass is still caught after a few pieces. */
#include <stdlib.h>
#include <string.h>

#include "io/conn.h"
#include "io/torrent.h"
#include "io/torrent_internal.h"
#include "util/util.h"

#define MAX_SUSPECTS 64   /* failed pieces remembered at once */
#define SOLE_STRIKES_TO_BAN 2

struct rill__suspect {
    struct rill__suspect *next;
    uint32_t piece, blocks, nsenders;
    uint8_t *who;                  /* per block: index into senders */
    uint8_t (*hash)[RILL_SHA1_LEN];/* per block: SHA-1 of what was sent */
    struct rill__sender senders[RILL__MAX_SENDERS];
};

static void suspect_free(struct rill__suspect *s)
{
    if (s) {
        free(s->who);
        free(s->hash);
        free(s);
    }
}

void rill__suspects_free(struct rill_torrent *t)
{
    while (t->suspects) {
        struct rill__suspect *s = t->suspects;
        t->suspects = s->next;
        suspect_free(s);
    }
    t->nsuspects = 0;
}

bool rill__piece_suspected(const struct rill_torrent *t, uint32_t piece)
{
    for (const struct rill__suspect *s = t->suspects; s; s = s->next)
        if (s->piece == piece)
            return true;
    return false;
}

static void ban(struct rill_torrent *t, const struct rill__sender *snd, const char *why)
{
    if (rill__session_banned(t->s, (const struct sockaddr *)&snd->addr))
        return;
    rill__session_ban(t->s, (const struct sockaddr *)&snd->addr, snd->addrlen);
    t->banned++;
    struct rill__peer *p = rill__torrent_find_peer(t, snd->id);
    char name[64];
    rill__addr_name((const struct sockaddr *)&snd->addr, name, sizeof name);
    rill__log(t->s, 0, "banned", "%s banned: %s", name, why);
    if (p)
        rill__peer_close(p, "banned for corrupt data");
    /* Every connection from that address goes, not just this one. */
    for (struct rill__peer *o = t->peers, *next; o; o = next) {
        next = o->next;
        if (rill__session_banned(t->s, (struct sockaddr *)&o->addr))
            rill__peer_close(o, "banned address");
    }
}

void rill__suspect_record(struct rill_torrent *t, const struct rill__piece_buf *b,
                          const uint8_t (*hash)[RILL_SHA1_LEN])
{
    if (t->nsuspects >= MAX_SUSPECTS || !hash)
        return; /* plenty of evidence pending already */
    struct rill__suspect *s = calloc(1, sizeof *s);
    if (!s)
        return;
    s->piece = b->piece;
    s->blocks = b->blocks;
    s->nsenders = b->nsenders;
    memcpy(s->senders, b->senders, sizeof s->senders);
    s->who = malloc(b->blocks);
    s->hash = malloc((size_t)b->blocks * RILL_SHA1_LEN);
    if (!s->who || !s->hash) {
        suspect_free(s);
        return;
    }
    memcpy(s->who, b->who, b->blocks);
    memcpy(s->hash, hash, (size_t)b->blocks * RILL_SHA1_LEN);
    bool sole = s->nsenders == 1;
    for (uint32_t i = 0; i < s->blocks; i++)
        sole &= s->who[i] == 0;
    if (sole) {
        struct rill__peer *p = rill__torrent_find_peer(t, s->senders[0].id);
        if (!p || ++p->strikes >= SOLE_STRIKES_TO_BAN)
            ban(t, &s->senders[0], "it alone sent pieces that failed the hash check");
    }
    s->next = t->suspects;
    t->suspects = s;
    t->nsuspects++;
}

void rill__suspect_resolve(struct rill_torrent *t, uint32_t piece,
                           const uint8_t (*good)[RILL_SHA1_LEN])
{
    for (struct rill__suspect **pp = &t->suspects; *pp;) {
        struct rill__suspect *s = *pp;
        if (s->piece != piece) {
            pp = &s->next;
            continue;
        }
        for (uint32_t b = 0; good && b < s->blocks; b++)
            if (s->who[b] < s->nsenders && memcmp(s->hash[b], good[b], RILL_SHA1_LEN) != 0)
                ban(t, &s->senders[s->who[b]], "a block it sent differs from the verified piece");
        *pp = s->next;
        suspect_free(s);
        t->nsuspects--;
    }
}
