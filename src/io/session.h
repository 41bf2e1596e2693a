/* The I/O shell's shared structures: the session, its torrents and their
 * peer connections. Everything here runs on the event loop thread; workers
 * only ever see job structs (workers.h). */
#ifndef RILL_IO_SESSION_H
#define RILL_IO_SESSION_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/choker.h"
#include "core/peer.h"
#include "core/picker.h"
#include "core/rate.h"
#include "core/ratelimit.h"
#include "core/ut_pex.h"
#include "core/wire.h"
#include "rill.h"
#include "util/rng.h"

struct evdns_base;

struct bufferevent;
struct event;
struct evconnlistener;
struct rill_workers;
struct rill_picker;
struct rill__announcer;
struct rill_utmeta_fetch;
struct rill__lsd;

enum rill__phase {
    RILL__CONNECTING,   /* outgoing TCP connect in progress */
    RILL__HANDSHAKE,    /* waiting for the peer's handshake */
    RILL__ACTIVE,       /* messages flow */
    RILL__CLOSED,       /* closed; freed once no worker job refers to it */
};

/* One peer connection. */
struct rill__peer {
    struct rill_session *s;
    struct rill_torrent *t;          /* NULL until an incoming handshake names it */
    struct rill__peer *next, *prev;  /* in t->peers, or s->handshaking */
    uint64_t id;                     /* session-unique, never reused */
    struct bufferevent *bev;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char name[64];                   /* "127.0.0.1:6881" for logs */
    char client[RILL_WIRE_CLIENT_NAME_MAX];
    bool outgoing;
    enum rill__phase phase;
    uint8_t peer_id[RILL_WIRE_PEER_ID_LEN];
    bool fast, extended;             /* negotiated */
    bool dht;                        /* it set the DHT bit: it takes a port message */
    struct rill_wire_limits lim;
    struct rill_wire_ext_hs ext;
    struct rill_peer_core core;
    struct rill_bitfield have;       /* the peer's pieces */
    struct rill_rate down, up;       /* payload rates */
    struct rill_choker_state choke;
    uint64_t connected_at, last_recv, last_sent, interested_at;
    uint32_t strikes;                /* pieces it contributed to that failed */
    struct rill_picker_peer pick;    /* the picker's view of this peer */
    uint32_t fast_allowed[32];       /* pieces it lets us request while choked */
    uint32_t fast_allowed_count;
    uint32_t granted_fast[10];       /* pieces we let it request while choked */
    uint32_t granted_count;
    bool got_first;                  /* got its availability (bitfield, have...) */
    unsigned jobs;                   /* worker jobs that refer to this peer */
    bool read_blocked;               /* reading paused by the download limit */
    bool upload_only;                /* BEP 21: the peer will not download */
    struct rill_pex_sender *pex_out; /* what we told it (BEP 11); NULL until it speaks ut_pex */
    struct rill_pex_accept pex_in;   /* how many of its peers we took */
    uint32_t meta_rejects;           /* ut_metadata requests we refused it */
};

/* A piece being downloaded: its blocks gather here, then a worker hashes
 * and writes the whole piece. Only verified data ever reaches the disk. */
/* A peer that sent blocks, remembered with its address so that evidence
 * against it outlives its connection. */
struct rill__sender {
    uint32_t id;                     /* picker id */
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

#define RILL__MAX_SENDERS 16
#define RILL__SENDER_UNKNOWN 255

struct rill__piece_buf {
    uint32_t piece, size, blocks;
    uint8_t *data;
    uint8_t *who;                    /* per block: index into senders */
    struct rill__sender senders[RILL__MAX_SENDERS];
    uint8_t nsenders;
    bool hashing;
};

struct rill__suspect;                /* torrent_ban.c */

struct rill__candidate {             /* an address to connect to */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    uint64_t retry_at;               /* 0: now */
    uint32_t failures;
    bool connected;
};

struct rill_torrent {
    struct rill_session *s;
    struct rill_torrent *next;
    struct rill_torrent_params p;
    const struct rill_metainfo *mi;
    char *dir, *only, *resume_path;
    enum rill_torrent_state state;
    int error;
    struct rill_storage **storage;   /* one per worker thread */
    /* Held by a worker while it writes a piece. Concurrent buffered writes
     * to one file contend on its inode lock, on which the kernel spins:
     * measured, 13% of a leecher's CPU. */
    pthread_mutex_t write_lock;
    struct rill_picker *picker;
    struct rill_choker choker;
    struct rill_bitfield have;       /* verified pieces */
    struct rill__peer *peers;
    unsigned npeers;
    struct rill__piece_buf **bufs;   /* per piece, NULL when not in progress */
    unsigned hashing;                /* whole pieces waiting for a worker */
    struct rill__candidate *cands;
    size_t ncands, cands_cap;
    struct rill_rate down, up;
    uint64_t downloaded, uploaded, wasted, completed_ms;
    struct rill_ratelimit up_limit, down_limit;
    struct event *tick;
    struct event *wake;              /* rate limits: resume reading and serving */
    bool wake_armed;
    unsigned serve_turn;             /* who is served first at the next wake */
    struct rill__announcer *announcer;
    uint64_t next_choke_ms, last_resume_ms;
    bool resume_dirty, complete_fired, stopping, stop_notified;
    uint32_t hash_failures, banned;
    struct rill__suspect *suspects;  /* failed pieces awaiting the good copy */
    unsigned nsuspects;
    unsigned jobs;                   /* worker jobs in flight for this torrent */
    bool remove_when_idle;
    struct rill__chunk *chunks;      /* read cache for uploads (torrent_upload.c) */
    uint64_t chunk_bytes;
    unsigned loading;                /* chunk reads in flight */
    /* Magnets (torrent_meta.c): the metainfo we made, a placeholder with
     * the info-hash and the magnet's trackers until the metadata arrives;
     * the fetch meanwhile; where the .torrent goes. */
    struct rill_metainfo *own_mi;
    struct rill_utmeta_fetch *meta;
    char *torrent_out;
    /* Peer sources besides trackers (torrent_dht.c, torrent_pex.c). */
    uint64_t next_dht_ms;
    bool dht_busy;
    unsigned dht_peers, pex_peers, lsd_peers;
};

struct rill__ban {
    struct sockaddr_storage addr;    /* port ignored */
};

struct rill_session {
    struct event_base *base;
    struct rill_session_opts opts;
    char *bind;
    struct sockaddr_storage bind_addr;   /* `bind` parsed, port 0 */
    socklen_t bind_len;
    bool bind_specific;              /* not the wildcard: outgoing sockets use it too */
    struct evdns_base *dns;          /* made on first use, for every tracker */
    struct evconnlistener *listener;
    uint16_t port;
    struct rill_workers *workers;
    struct rill_rng rng;
    uint8_t peer_id[RILL_WIRE_PEER_ID_LEN];
    struct rill_ratelimit up_limit, down_limit;
    uint64_t now, started;
    uint64_t next_peer_id;
    struct rill_torrent *torrents;
    struct rill__peer *handshaking;  /* incoming, torrent not yet known */
    unsigned npeers;
    struct rill__ban *bans;
    size_t nbans;
    struct rill__lsd *lsd;           /* NULL: no local service discovery */
    /* Addresses that turned out to be us (we dialed and met our own peer
     * id): the DHT, PEX and LSD hand our own address back; never dial it
     * again. A small ring, newest over oldest. */
    struct sockaddr_storage self[4];
    socklen_t self_len[4];
    unsigned nself;
};

/* The peer has every piece (have-all, or a full bitfield). */
static inline bool rill__peer_is_seed(const struct rill__peer *p)
{
    return p->pick.all || (p->have.size && p->have.count == p->have.size);
}

/* Binds an outgoing socket of `family` to the session's --bind address
 * (port 0) when that is a specific address; -1 with errno set when it
 * cannot, EAFNOSUPPORT for the other family. */
int rill__session_bind_socket(struct rill_session *s, int fd, int family);
/* Whether an outgoing socket of `family` can be bound as --bind asks. */
static inline bool rill__session_can_reach(const struct rill_session *s, int family)
{
    return !s->bind_specific || s->bind_addr.ss_family == family;
}
/* The session's DNS resolver, made on first use; NULL if it cannot be. */
struct evdns_base *rill__session_dns(struct rill_session *s);

/* Remembers an address that is us; whether an address is one of those. */
void rill__session_note_self(struct rill_session *s, const struct sockaddr_storage *a,
                             socklen_t len);
bool rill__session_is_self(const struct rill_session *s, const struct sockaddr *a, socklen_t len);

/* The monotonic clock in ms, read once per callback and stored in s->now. */
uint64_t rill__tick_now(struct rill_session *s);

/* Logging: `level` 0 always (when a log callback is set), 1 with -v, 2 -vv. */
void rill__log(struct rill_session *s, int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
