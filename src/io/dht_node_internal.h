/* What the files of the DHT node share (dht_node.c: sockets, transactions
 * and events; dht_node_answer.c: queries we answer; dht_node_lookup.c:
 * requests and lookups; dht_node_state.c: the state file). */
#ifndef RILL_IO_DHT_NODE_INTERNAL_H
#define RILL_IO_DHT_NODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/dht_guard.h"
#include "core/dht_item.h"
#include "core/dht_lookup.h"
#include "core/dht_store.h"
#include "core/dht_table.h"
#include "io/dht_node.h"
#include "util/rng.h"

#define DHT_IN_MAX 1500    /* KRPC fits a datagram; longer ones are dropped */
#define DHT_OUT_MAX 1500   /* our largest answer: 50 IPv6 values */
#define DHT_TX_SLOTS 256   /* transactions in flight; low tid byte = slot */
#define DHT_REQUESTS_MAX 8 /* get_peers/announce requests at once */

/* A family index: 0 for IPv4, 1 for IPv6. */
#define DHT_FAM(len) ((len) == 16 ? 1 : 0)

struct dht_addr {
    uint8_t ip[16];
    uint8_t len; /* 4 or 16 */
    uint16_t port;
};

enum dht_tx_kind {
    DHT_TX_FREE = 0,
    DHT_TX_PING,      /* a table ping (RILL_DHT_PING) */
    DHT_TX_BOOT_PING, /* bootstrap ping: the answer starts the own-id lookup */
    DHT_TX_LOOKUP,    /* find_node / get_peers of lookup `lk` */
    DHT_TX_ANNOUNCE,  /* announce_peer of lookup `lk` */
};

struct dht_tx {
    uint8_t kind;
    uint8_t lk;  /* lookup slot */
    uint8_t gen; /* high tid byte */
    bool has_id; /* id known (not a bootstrap ping) */
    uint8_t id[RILL_KRPC_ID_LEN];
    struct dht_addr to;
    uint64_t sent_ms;
};

enum dht_lk_phase { DHT_LK_FREE = 0, DHT_LK_LOOKUP, DHT_LK_ANNOUNCING };

/* One iterative lookup in one family's table. */
struct dht_lk {
    uint8_t phase;
    uint8_t fam;
    int8_t req;       /* the request it serves, -1 for bootstrap/refresh */
    bool boot;        /* the bootstrap's own-id lookup */
    bool join;        /* a join refresh of a farther bucket */
    uint16_t pending; /* announce_peer queries in flight */
    struct rill_dht_lookup l;
};

enum dht_req_kind {
    DHT_REQ_PEERS = 0, /* get_peers */
    DHT_REQ_ANNOUNCE,  /* get_peers, then announce_peer */
    DHT_REQ_GET,       /* BEP 44 get */
    DHT_REQ_PUT,       /* BEP 44 get (tokens, the current seq), then put */
};

/* A request of the user's: a lookup per family, the results merged. */
struct dht_req {
    bool used;
    uint8_t kind;    /* enum dht_req_kind */
    uint16_t port;   /* announce: 0 for implied_port */
    uint8_t lookups; /* still running */
    uint8_t hops;
    uint16_t stored; /* announce_peer answered (announces) */
    rill_dht_peers_cb cb;
    rill_dht_item_cb item_cb;
    void *ctx;
    size_t n_values;
    struct rill_peer_addr values[RILL_DHT_VALUES_MAX];
    /* BEP 44 (allocated for item requests only): the best version found
     * by a get, and for a put the item to store. */
    struct dht_item_req *it;
};

struct dht_item_req {
    bool found, signed_;
    uint8_t salt_len;
    uint8_t salt[RILL_DHT_ITEM_SALT_MAX];
    uint8_t seed[32];  /* a mutable put's key, wiped when the request ends */
    bool auto_seq;     /* a mutable put: one more than the highest seq seen */
    uint32_t stored;   /* puts acknowledged */
    int refused;       /* RILL_EINVAL when a node holds a newer version */
    struct rill_dht_item best; /* get: highest seq found */
    struct rill_dht_item put;  /* put: the item */
};

struct dht_fam {
    int fd; /* -1: no socket of this family */
    uint16_t port;
    struct event *ev_read;
    struct rill_dht_table table;
};

struct rill_dht {
    struct event_base *base;
    struct dht_fam fam[2];
    struct event *ev_tick;
    uint8_t id[RILL_KRPC_ID_LEN];
    char *state_path;
    struct rill_rng rng;
    struct rill_dht_store store;
    struct rill_dht_tokens tokens;
    struct rill_dht_items items;
    struct rill_dht_limit limit;
    struct rill_dht_stats st;
    uint64_t now, expire_ms, save_ms;
    unsigned boot_pings; /* bootstrap pings in flight */
    unsigned tx_cursor;
    unsigned last_hops, last_stored;
    /* Join refreshes still to start: [fam][i] targets (Kademlia's join). */
    uint8_t join_n[2];
    uint8_t join[2][RILL_DHT_BUCKETS_MAX][RILL_KRPC_ID_LEN];
    struct dht_tx tx[DHT_TX_SLOTS];
    struct dht_lk lk[RILL__DHT_LOOKUPS_MAX];
    struct dht_req req[DHT_REQUESTS_MAX];
    struct rill_krpc_msg in, out; /* large: kept here, not on the stack */
    uint8_t inbuf[DHT_IN_MAX];
    struct rill_buf outbuf;       /* every datagram is encoded here, reused */
};

/* dht_node.c */
void rill__dht_send(struct rill_dht *n, const struct rill_krpc_msg *m,
                    const struct dht_addr *to);
struct dht_tx *rill__dht_tx_new(struct rill_dht *n, enum dht_tx_kind kind,
                                const uint8_t *id, const struct dht_addr *to,
                                enum rill_krpc_method method);
void rill__dht_tx_send(struct rill_dht *n, const struct dht_tx *t);
void rill__dht_heard(struct rill_dht *n, const uint8_t id[RILL_KRPC_ID_LEN],
                     const struct dht_addr *from, bool replied);
/* "IPv4:PORT" or "[IPv6]:PORT" to an address; RILL_EINVAL. */
int rill__dht_addr_parse(const char *text, struct dht_addr *a);
void rill__dht_node_from_addr(struct rill_krpc_node *node, const uint8_t *id,
                              const struct dht_addr *a);
void rill__dht_addr_from_node(struct dht_addr *a, const struct rill_krpc_node *node, unsigned len);

/* dht_node_answer.c: answers the query in n->in from `from`. */
void rill__dht_on_query(struct rill_dht *n, const struct dht_addr *from);
void rill__dht_on_malformed(struct rill_dht *n, const uint8_t *p, size_t len,
                            const struct dht_addr *from);

/* dht_node_lookup.c */
int rill__dht_lk_start(struct rill_dht *n, unsigned fam,
                       const uint8_t target[RILL_KRPC_ID_LEN], enum rill_dht_lookup_kind kind,
                       int req);
void rill__dht_lk_pump(struct rill_dht *n, unsigned i);
void rill__dht_lk_tx_end(struct rill_dht *n, const struct dht_tx *t, bool ok, int64_t code);
void rill__dht_boot_lookup(struct rill_dht *n, unsigned fam);
struct dht_req *rill__dht_req_new(struct rill_dht *n, enum dht_req_kind kind);
int rill__dht_req_start(struct rill_dht *n, struct dht_req *q,
                        const uint8_t target[RILL_KRPC_ID_LEN]);
void rill__dht_refresh(struct rill_dht *n);

/* dht_node_item.c: BEP 44 queries answered, and the item side of
 * requests (answers taken in, puts sent). */
void rill__dht_answer_get(struct rill_dht *n, const struct dht_addr *from);
int rill__dht_answer_put(struct rill_dht *n, const struct dht_addr *from, const char **why);
void rill__dht_item_reply(struct rill_dht *n, struct dht_req *q);
bool rill__dht_item_put_fill(struct dht_req *q);
void rill__dht_item_put_args(struct rill_dht *n, const struct dht_req *q);
void rill__dht_item_done(struct dht_req *q);
/* Wipes and frees q->it (NULL is fine). */
void rill__dht_item_release(struct dht_req *q);

/* dht_node_state.c: the state file, read once at start. open() takes our
 * id from it (before the tables, which are keyed by it, exist) and keeps
 * the parsed file; take_nodes() puts its nodes into the tables; close()
 * frees it. A missing file is an empty state; a foreign one RILL_EIO. */
struct dht_state {
    uint8_t *bytes;
    struct rill_bdoc doc;
    const struct rill_bnode *root; /* NULL: no file */
};
int rill__dht_state_open(struct rill_dht *n, struct dht_state *st, bool take_id);
void rill__dht_state_take_nodes(struct rill_dht *n, const struct dht_state *st);
void rill__dht_state_close(struct dht_state *st);

#endif
