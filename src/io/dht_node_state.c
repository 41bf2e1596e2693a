/* The DHT node's state file: our id and the nodes that answered us, so a
 * restarted node keeps its place in the id space (others' tables still
 * point at it) and rejoins without the well-known routers.
 *
 * Format: a bencoded dictionary {"id": 20 bytes, "nodes": compact IPv4
 * nodes (26 bytes each), "nodes6": compact IPv6 nodes (38 bytes each)},
 * the same compact forms KRPC uses. */
#include <stdlib.h>
#include <string.h>

#include "io/dht_node_internal.h"
#include "io/file_read.h"
#include "io/storage_internal.h"

#define STATE_MAX (64u << 10) /* 2 x 200 nodes take 13 KB */

/* Appends the compact form of up to RILL__DHT_STATE_NODES nodes that have
 * answered us and are not bad, nearest buckets first (their nodes are the
 * ones others find hardest to replace). */
static void put_nodes(struct rill_dht *n, unsigned fam, struct rill_buf *out)
{
    const struct rill_dht_table *t = &n->fam[fam].table;
    size_t len = fam ? 16 : 4, kept = 0;
    for (size_t b = t->n_buckets; b-- > 0 && kept < RILL__DHT_STATE_NODES;) {
        const struct rill_dht_bucket *bk = &t->b[b];
        for (size_t i = 0; i < bk->n_nodes && kept < RILL__DHT_STATE_NODES; i++) {
            const struct rill_dht_node *d = &bk->nodes[i];
            if (!(d->flags & RILL_DHT_NODE_REPLIED) ||
                rill_dht_node_state(t, d, n->now) == RILL_DHT_BAD)
                continue;
            uint8_t port[2] = {(uint8_t)(d->port >> 8), (uint8_t)d->port};
            rill_buf_append(out, d->id, RILL_KRPC_ID_LEN);
            rill_buf_append(out, d->addr, len);
            rill_buf_append(out, port, 2);
            kept++;
        }
    }
}

int rill_dht_save(struct rill_dht *n)
{
    if (!n->state_path)
        return RILL_EINVAL;
    struct rill_buf out, nodes[2];
    rill_buf_init(&out, STATE_MAX);
    struct rill_benc e;
    rill_benc_init(&e, &out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "id");
    rill_benc_str(&e, n->id, RILL_KRPC_ID_LEN);
    static const char *const keys[2] = {"nodes", "nodes6"};
    for (unsigned fam = 0; fam < 2; fam++) {
        rill_buf_init(&nodes[fam], STATE_MAX);
        if (n->fam[fam].fd < 0)
            continue;
        put_nodes(n, fam, &nodes[fam]);
        rill_benc_key(&e, keys[fam]);
        rill_benc_str(&e, nodes[fam].data, nodes[fam].len);
    }
    rill_benc_end(&e);
    int rc = rill_benc_finish(&e);
    if (rc == 0)
        rc = rill__write_file_atomic(n->state_path, out.data, out.len);
    rill_buf_free(&nodes[0]);
    rill_buf_free(&nodes[1]);
    rill_buf_free(&out);
    return rc;
}

/* Puts the saved nodes of one family into its table as heard (not yet
 * answered): the bootstrap lookup below queries the nearest at once. */
static void take_nodes(struct rill_dht *n, unsigned fam, const struct rill_bnode *s)
{
    size_t len = fam ? 16 : 4, rec = RILL_KRPC_ID_LEN + len + 2;
    if (!s || s->type != RILL_BSTR || s->slen % rec != 0 || n->fam[fam].fd < 0)
        return;
    size_t count = 0;
    for (size_t off = 0; off < s->slen && count < RILL__DHT_STATE_NODES; off += rec, count++) {
        struct rill_krpc_node node = {0};
        memcpy(node.id, s->s + off, RILL_KRPC_ID_LEN);
        memcpy(node.addr, s->s + off + RILL_KRPC_ID_LEN, len);
        node.port = (uint16_t)(s->s[off + rec - 2] << 8 | s->s[off + rec - 1]);
        (void)rill_dht_table_heard(&n->fam[fam].table, &node, n->now, false, NULL);
    }
    if (count)
        rill__dht_boot_lookup(n, fam);
}

int rill__dht_state_open(struct rill_dht *n, struct dht_state *st, bool take_id)
{
    memset(st, 0, sizeof *st);
    size_t len = 0;
    int rc = rill__read_file(n->state_path, STATE_MAX, &st->bytes, &len, NULL);
    if (rc == RILL_ENOENT)
        return 0; /* a first start */
    if (rc != 0)
        return RILL_EIO;
    rc = rill_bdecode(&st->doc, st->bytes, len, NULL, NULL);
    st->root = rc == 0 ? rill_bdoc_root(&st->doc) : NULL;
    const struct rill_bnode *id = st->root ? rill_bdict_get(&st->doc, st->root, "id") : NULL;
    if (!id || id->type != RILL_BSTR || id->slen != RILL_KRPC_ID_LEN) {
        rill__dht_state_close(st);
        return RILL_EIO; /* not ours: refuse rather than overwrite it later */
    }
    if (take_id)
        memcpy(n->id, id->s, RILL_KRPC_ID_LEN);
    return 0;
}

void rill__dht_state_take_nodes(struct rill_dht *n, const struct dht_state *st)
{
    if (!st->root)
        return;
    take_nodes(n, 0, rill_bdict_get(&st->doc, st->root, "nodes"));
    take_nodes(n, 1, rill_bdict_get(&st->doc, st->root, "nodes6"));
}

void rill__dht_state_close(struct dht_state *st)
{
    if (st->root)
        rill_bdoc_free(&st->doc);
    free(st->bytes);
    memset(st, 0, sizeof *st);
}
