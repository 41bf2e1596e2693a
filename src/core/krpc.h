/* KRPC: the bencoded messages of the Mainline DHT (BEP 5), with IPv6 nodes
 * (BEP 32), the "want" key (BEP 32), the read-only flag (BEP 43) and the
 * get/put of arbitrary data (BEP 44).
 *
 * A pure codec: rill_krpc_parse() turns one datagram into a
 * struct rill_krpc_msg and rill_krpc_build() writes one back. The struct is
 * self-contained: every byte string is copied into a fixed array, so it does
 * not point into the datagram and outlives it. Everything is capped; the
 * caller caps the datagram itself (1500 bytes is plenty for KRPC). */
#ifndef RILL_CORE_KRPC_H
#define RILL_CORE_KRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

#define RILL_KRPC_ID_LEN 20
#define RILL_KRPC_TID_MAX 16     /* transaction ids longer than this are rejected */
#define RILL_KRPC_TOKEN_MAX 64   /* tokens longer than this are rejected */
#define RILL_KRPC_V_MAX 16       /* a longer "v" is ignored (informational only) */
#define RILL_KRPC_ERRMSG_MAX 127 /* a longer error message is cut */
#define RILL_KRPC_NODES_MAX 16   /* per family; more are dropped (truncated set) */
#define RILL_KRPC_VALUES_MAX 100 /* more values are dropped (truncated set) */
#define RILL_KRPC_NODE4_LEN 26   /* compact node: id, IPv4, port */
#define RILL_KRPC_NODE6_LEN 38   /* compact node: id, IPv6, port */
/* BEP 44. An item's "v" may be 1000 bytes and a salt 64, but the codec keeps
 * longer ones up to these buffers, so that the node can answer a put with
 * error 205 or 207 as the BEP asks (src/core/dht_item.h judges the sizes);
 * past the buffers (a datagram rill reads is at most 1500 bytes anyway) the
 * message is refused with RILL_ELIMIT. */
#define RILL_KRPC_ITEM_BUF 1500
#define RILL_KRPC_SALT_BUF 255
#define RILL_KRPC_KEY_LEN 32 /* ed25519 public key "k" */
#define RILL_KRPC_SIG_LEN 64 /* ed25519 signature "sig" */

enum rill_krpc_type {
    RILL_KRPC_QUERY = 'q',
    RILL_KRPC_RESPONSE = 'r',
    RILL_KRPC_ERROR = 'e',
};

/* Query methods. An unknown method still parses (the node answers it with
 * error 204) but cannot be built. */
enum rill_krpc_method {
    RILL_KRPC_UNKNOWN = 0,
    RILL_KRPC_PING,
    RILL_KRPC_FIND_NODE,
    RILL_KRPC_GET_PEERS,
    RILL_KRPC_ANNOUNCE_PEER,
    RILL_KRPC_GET, /* BEP 44 */
    RILL_KRPC_PUT, /* BEP 44 */
};

/* BEP 5 and BEP 44 error codes. */
enum rill_krpc_errcode {
    RILL_KRPC_E_GENERIC = 201,
    RILL_KRPC_E_SERVER = 202,
    RILL_KRPC_E_PROTOCOL = 203,
    RILL_KRPC_E_METHOD = 204,
    RILL_KRPC_E_TOO_BIG = 205,  /* "v" over 1000 bytes */
    RILL_KRPC_E_BAD_SIG = 206,  /* invalid signature */
    RILL_KRPC_E_SALT_BIG = 207, /* "salt" over 64 bytes */
    RILL_KRPC_E_CAS = 301,      /* "cas" is not the stored seq */
    RILL_KRPC_E_SEQ = 302,      /* "seq" less than the stored one */
};

/* Bits of rill_krpc_msg.present: optional keys of a response that were
 * there (an empty "nodes" string differs from no "nodes"), "v", and the
 * BEP 44 keys of get/put queries and get responses. */
#define RILL_KRPC_HAS_NODES 0x01u
#define RILL_KRPC_HAS_NODES6 0x02u
#define RILL_KRPC_HAS_VALUES 0x04u
#define RILL_KRPC_HAS_TOKEN 0x08u
#define RILL_KRPC_HAS_V 0x10u
#define RILL_KRPC_HAS_IP 0x20u    /* BEP 42 "ip": the address the sender saw us at */
#define RILL_KRPC_HAS_SEQ 0x40u   /* "seq": get query, get response, mutable put */
#define RILL_KRPC_HAS_ITEM 0x80u  /* the item's "v": get response, put (always) */
#define RILL_KRPC_HAS_KEY 0x100u  /* "k" and "sig", always together */
#define RILL_KRPC_HAS_SALT 0x200u /* "salt" of a mutable put */
#define RILL_KRPC_HAS_CAS 0x400u  /* "cas" of a mutable put */

/* Bits of rill_krpc_msg.want (BEP 32 "want" list of find_node/get_peers). */
#define RILL_KRPC_WANT_N4 0x01u
#define RILL_KRPC_WANT_N6 0x02u

/* A node of a "nodes" (addr[0..4)) or "nodes6" (addr[0..16)) string. */
struct rill_krpc_node {
    uint8_t id[RILL_KRPC_ID_LEN];
    uint8_t addr[16];
    uint16_t port;
};

/* A compact peer of "values": 6 bytes (IPv4) or 18 bytes (IPv6) on the wire. */
struct rill_krpc_peer {
    uint8_t addr[16];
    uint8_t addr_len; /* 4 or 16 */
    uint16_t port;
};

struct rill_krpc_msg {
    uint8_t type;   /* enum rill_krpc_type */
    uint8_t method; /* enum rill_krpc_method, queries only */
    uint8_t tid[RILL_KRPC_TID_MAX];
    uint8_t tid_len;
    uint32_t present; /* RILL_KRPC_HAS_* */
    bool ro;          /* "ro": 1 at top level (BEP 43) */
    uint8_t v[RILL_KRPC_V_MAX];
    uint8_t v_len;
    /* BEP 42: top-level "ip", our address as the sender saw it (compact:
     * 4 or 16 address bytes and a port); an odd length is ignored. */
    uint8_t ip[16];
    uint8_t ip_len; /* 4 or 16 */
    uint16_t ip_port;

    /* Queries ("a") and responses ("r"): the sender's node id. */
    uint8_t id[RILL_KRPC_ID_LEN];
    /* find_node "target", get_peers and announce_peer "info_hash". */
    uint8_t target[RILL_KRPC_ID_LEN];
    uint8_t want;      /* RILL_KRPC_WANT_* */
    uint16_t port;     /* announce_peer */
    bool implied_port; /* announce_peer: use the UDP source port */
    /* announce_peer query (required) or get_peers response (HAS_TOKEN). */
    uint8_t token[RILL_KRPC_TOKEN_MAX];
    uint8_t token_len;

    /* Responses. `truncated` says that nodes or values past the caps were
     * dropped while parsing. */
    uint8_t n_nodes, n_nodes6, n_values;
    bool truncated;
    struct rill_krpc_node nodes[RILL_KRPC_NODES_MAX];
    struct rill_krpc_node nodes6[RILL_KRPC_NODES_MAX];
    struct rill_krpc_peer values[RILL_KRPC_VALUES_MAX];

    /* BEP 44. A get query has "target" above and maybe "seq". A put query
     * has "token" above and the item's "v"; a mutable put (HAS_KEY) also
     * "k", "sig" and "seq" (required) and maybe "salt" and "cas" (salt, seq
     * and cas of an immutable put are ignored). A get response may carry
     * any of "v", "k"+"sig", "seq" besides token and nodes. `item` is the
     * value exactly as bencoded on the wire (one well-formed, canonical
     * value), inserted verbatim when building. */
    int64_t seq;
    int64_t cas;
    uint8_t k[RILL_KRPC_KEY_LEN];
    uint8_t sig[RILL_KRPC_SIG_LEN];
    uint8_t salt[RILL_KRPC_SALT_BUF];
    uint8_t salt_len;
    uint16_t item_len;
    uint8_t item[RILL_KRPC_ITEM_BUF];

    /* Errors: the code and the message (NUL-terminated, may hold any byte
     * before err_msg_len). */
    int64_t err_code;
    char err_msg[RILL_KRPC_ERRMSG_MAX + 1];
    size_t err_msg_len;
};

/* Parses one KRPC datagram p[0..len) into *m (overwritten). Unknown keys are
 * ignored and dictionary keys may be unsorted; required keys of the wrong
 * type or length (an id that is not 20 bytes, "nodes" that is not a multiple
 * of 26, a value of neither 6 nor 18 bytes, a port outside 0..65535, a "k"
 * that is not 32 bytes or "k" without "sig", an item "v" that is not
 * canonical bencode) give RILL_ESYNTAX, an over-long transaction id, token,
 * item or salt (past the buffers) RILL_ELIMIT, broken bencode the decoder's
 * error. On error *m is zeroed and `err` (may be NULL)
 * says what and where. Allocates only the bounded bencode node array, freed
 * before returning. */
int rill_krpc_parse(const uint8_t *p, size_t len, struct rill_krpc_msg *m, struct rill_error *err);

/* Appends the canonical bencoding of *m to `out` (keys sorted). A query
 * writes its method's arguments (and "want" if set); a response writes "id"
 * and each optional key whose RILL_KRPC_HAS_* bit is set; an error writes
 * [err_code, err_msg]. The item's "v" is copied verbatim. Returns
 * RILL_EINVAL for a message that cannot be sent (unknown method or type,
 * counts past the caps, a value of a bad length, a put without "v" or a
 * mutable one without "seq", an item that is not one bencoded value),
 * RILL_ENOMEM when `out` reached its cap; `out` may then hold a partial
 * message and should be discarded. */
int rill_krpc_build(const struct rill_krpc_msg *m, struct rill_buf *out);

/* Helpers that zero *m and fill the header of a message; the caller adds
 * the rest (target, token, nodes, ...). The transaction id is cut at
 * RILL_KRPC_TID_MAX; a NULL id leaves zeros. `msg` of an error is cut at
 * RILL_KRPC_ERRMSG_MAX and may be NULL for the code's standard text. */
void rill_krpc_query_init(struct rill_krpc_msg *m, const uint8_t *tid, size_t tid_len,
                          enum rill_krpc_method method, const uint8_t id[RILL_KRPC_ID_LEN]);
void rill_krpc_response_init(struct rill_krpc_msg *m, const uint8_t *tid, size_t tid_len,
                             const uint8_t id[RILL_KRPC_ID_LEN]);
void rill_krpc_error_init(struct rill_krpc_msg *m, const uint8_t *tid, size_t tid_len, int64_t code,
                          const char *msg);

/* The wire name of a method ("ping", ...) or NULL for RILL_KRPC_UNKNOWN. */
const char *rill_krpc_method_name(int method);

#endif
