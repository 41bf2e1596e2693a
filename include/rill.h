/*
 * rill.h: the public API of librill, a BitTorrent library.
 *
 * Conventions (see DESIGN.md):
 * - Functions return 0 or a negative `enum rill_err`; rill_strerror() names it.
 *   Parsers also fill a `struct rill_error` with the byte offset and a message.
 * - The caller allocates structs; rill_x_init()/rill_x_free() pair up, and a
 *   free function is safe on a zeroed or already freed struct.
 * - Time is uint64_t milliseconds of a monotonic clock, always passed in.
 */
#ifndef RILL_H
#define RILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RILL_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors */

enum rill_err {
    RILL_OK = 0,
    RILL_ENOMEM = -1,       /* allocation failed or a buffer cap was reached */
    RILL_EINVAL = -2,       /* invalid argument from the caller */
    RILL_ETRUNCATED = -3,   /* input ended in the middle of a value */
    RILL_ESYNTAX = -4,      /* malformed input */
    RILL_ELIMIT = -5,       /* a limit was exceeded (depth, tokens, size) */
    RILL_EKEYORDER = -6,    /* dictionary keys unsorted or duplicated */
    RILL_ETRAILING = -7,    /* bytes after the end of the value */
    RILL_EINTEGER = -8,     /* leading zero, -0, or out of range */
    RILL_EMETAINFO = -9,    /* a .torrent is structurally wrong */
    RILL_EPATH = -10,       /* an unsafe file path */
    RILL_EUNSUPPORTED = -11,/* valid, but rill does not support it (v2-only) */
    RILL_EMAGNET = -12,     /* a malformed magnet link */
    RILL_EIO = -13,         /* a read, write or open failed */
    RILL_ENOENT = -14,      /* a file does not exist */
    RILL_ERESUME = -15,     /* a resume file is torn, corrupt or stale */
    RILL_ERANGE = -16,      /* an offset or index outside the torrent */
};

/* A static English name of an error code. Never NULL. */
const char *rill_strerror(int err);

/* Details of a parse error: what went wrong and where. */
struct rill_error {
    int code;          /* enum rill_err */
    size_t offset;     /* byte offset in the input, when it applies */
    char msg[160];     /* a sentence without trailing newline */
};

/* ----------------------------------------------------------------- buffers */

/* A growable byte buffer with a hard cap. Once an append fails (out of
 * memory or past `max`), `failed` sticks and further appends do nothing, so a
 * writer can check once at the end (curl's dynbuf). */
struct rill_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 means the default, 64 MiB */
    bool failed;
};

void rill_buf_init(struct rill_buf *b, size_t max);
void rill_buf_free(struct rill_buf *b);
int rill_buf_append(struct rill_buf *b, const void *p, size_t n);
int rill_buf_appendf(struct rill_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Detaches the bytes: the caller owns the returned pointer (may be NULL when
 * empty) and the buffer is reset to empty. */
uint8_t *rill_buf_take(struct rill_buf *b, size_t *len);

/* ----------------------------------------------------------------- hashing */

#define RILL_SHA1_LEN 20
#define RILL_SHA256_LEN 32

void rill_sha1(const void *p, size_t n, uint8_t out[RILL_SHA1_LEN]);
void rill_sha256(const void *p, size_t n, uint8_t out[RILL_SHA256_LEN]);
/* Lowercase hex of `n` bytes into `out`, which has room for 2n+1 chars. */
void rill_hex(const uint8_t *p, size_t n, char *out);
/* Parses exactly 2n hex digits (either case). 0 or RILL_ESYNTAX. */
int rill_unhex(const char *s, size_t slen, uint8_t *out, size_t n);

/* ----------------------------------------------------------------- bencode */

enum rill_btype { RILL_BINT = 1, RILL_BSTR, RILL_BLIST, RILL_BDICT };

/* One decoded value. Nodes are stored in document order in one array: the
 * first child of node i is node i+1, and `next` is the index just past this
 * node's subtree, so siblings are reached by jumping. A dictionary's children
 * alternate key, value. Strings point into the caller's input buffer, which
 * must outlive the document: nothing is copied. */
struct rill_bnode {
    uint8_t type;        /* enum rill_btype */
    uint32_t next;       /* index past this subtree */
    uint32_t count;      /* list items, or dictionary pairs */
    size_t start, end;   /* byte span of the whole encoded value in the input */
    int64_t i;           /* RILL_BINT */
    const uint8_t *s;    /* RILL_BSTR: bytes (not NUL-terminated) */
    size_t slen;
};

struct rill_blimits {
    uint32_t max_depth;  /* nesting of lists and dicts; default 64 */
    uint32_t max_nodes;  /* values in the document; default 1,000,000 */
    /* Accept dictionary keys out of order (and so also repeated; lookups
     * find the first). For messages from peers and trackers, which some
     * clients write unsorted; never for .torrent files. */
    bool allow_unsorted;
};

struct rill_bdoc {
    struct rill_bnode *nodes;
    uint32_t count;
    const uint8_t *input;
    size_t input_len;
};

/* Decodes exactly one value that fills `buf` completely. Strict: rejects
 * leading zeros, -0, integers outside int64, non-string keys, unsorted or
 * duplicate keys, truncation and trailing bytes. `lim` may be NULL for the
 * defaults. On error `doc` is left empty and `err` (may be NULL) says what
 * and where. `doc` must be freed with rill_bdoc_free() after success. */
int rill_bdecode(struct rill_bdoc *doc, const uint8_t *buf, size_t len,
                 const struct rill_blimits *lim, struct rill_error *err);
void rill_bdoc_free(struct rill_bdoc *doc);

/* Navigation. All return NULL when the node is of another type or the key is
 * missing. */
const struct rill_bnode *rill_bdoc_root(const struct rill_bdoc *doc);
const struct rill_bnode *rill_bdict_get(const struct rill_bdoc *doc,
                                        const struct rill_bnode *dict,
                                        const char *key);
/* Iteration: first child (or NULL if empty) and next sibling (or NULL after
 * the last child of `parent`). For a dict the children are key, value, ... */
const struct rill_bnode *rill_bnode_first(const struct rill_bdoc *doc,
                                          const struct rill_bnode *parent);
const struct rill_bnode *rill_bnode_next(const struct rill_bdoc *doc,
                                         const struct rill_bnode *parent,
                                         const struct rill_bnode *child);
/* True if `n` is a string equal to the NUL-terminated `s`. */
bool rill_bstr_eq(const struct rill_bnode *n, const char *s);

/* The encoder writes canonical bencode into a rill_buf: whatever order the
 * caller adds dictionary keys in, rill_benc_end() of a dictionary sorts the
 * pairs by raw key bytes. A duplicate key or unbalanced begin/end makes the
 * encoder fail (rill_benc_finish returns RILL_EINVAL). */
#define RILL_BENC_MAX_DEPTH 64
struct rill_benc {
    struct rill_buf *out;
    uint32_t depth;
    struct {
        bool is_dict;
        size_t start;        /* offset of the first byte after 'd' or 'l' */
        uint32_t items;
    } stack[RILL_BENC_MAX_DEPTH];
    bool failed;
};

void rill_benc_init(struct rill_benc *e, struct rill_buf *out);
void rill_benc_int(struct rill_benc *e, int64_t v);
void rill_benc_str(struct rill_benc *e, const void *p, size_t n);
void rill_benc_cstr(struct rill_benc *e, const char *s);
/* A dictionary key followed by its value: call rill_benc_key, then one value. */
void rill_benc_key(struct rill_benc *e, const char *key);
void rill_benc_list(struct rill_benc *e);
void rill_benc_dict(struct rill_benc *e);
void rill_benc_end(struct rill_benc *e);
/* Copies an already encoded value verbatim (e.g. an info dictionary). */
void rill_benc_raw(struct rill_benc *e, const void *p, size_t n);
/* 0 when everything was balanced and written, or a negative rill_err. */
int rill_benc_finish(struct rill_benc *e);

/* ---------------------------------------------------------------- metainfo */

enum rill_file_attr {
    RILL_ATTR_PAD = 1u << 0,        /* BEP 47 'p': padding, never written */
    RILL_ATTR_EXEC = 1u << 1,       /* 'x' */
    RILL_ATTR_HIDDEN = 1u << 2,     /* 'h' */
    RILL_ATTR_SYMLINK = 1u << 3,    /* 'l' */
};

struct rill_file {
    char *path;          /* sanitized, relative to the torrent's root, '/'-separated.
                            For a single-file torrent it is the name. */
    uint64_t offset;     /* of the file's first byte in the torrent's byte stream */
    uint64_t length;
    uint32_t attr;       /* enum rill_file_attr bits */
    int64_t mtime;       /* BEP 47 'mtime' or 0 */
    char *symlink;       /* target for RILL_ATTR_SYMLINK, '/'-joined, or NULL */
};

struct rill_tier {
    char **urls;
    size_t count;
};

struct rill_metainfo {
    uint8_t info_hash[RILL_SHA1_LEN];
    char *name;              /* sanitized */
    bool multi_file;         /* 'files' list, so content sits under a directory */
    uint64_t total_size;
    uint32_t piece_length;
    uint32_t piece_count;
    uint8_t *piece_hashes;   /* 20 * piece_count */
    struct rill_file *files;
    size_t file_count;
    struct rill_tier *tiers; /* announce-list tiers, or one tier of 'announce' */
    size_t tier_count;
    char **web_seeds;        /* BEP 19 url-list */
    size_t web_seed_count;
    bool is_private;
    bool hybrid;             /* has v2 keys too; read through its v1 part */
    int64_t creation_date;   /* 0 if absent */
    char *comment;
    char *created_by;
    char *source;
    uint32_t renamed;        /* path components that were made safe */
    uint8_t *info;           /* copy of the info dictionary's raw bytes */
    size_t info_len;
};

/* Limits that make a torrent hostile rather than large. */
#define RILL_MAX_TORRENT_SIZE (64u << 20)  /* bytes of .torrent accepted */
#define RILL_MAX_PATH_BYTES 4096           /* a whole sanitized path */
#define RILL_MAX_NAME_BYTES 255            /* one component */
#define RILL_MAX_FILES 1000000u
#define RILL_MIN_PIECE (16u << 10)          /* smallest piece rill creates */
#define RILL_MAX_PIECE (128u << 20)         /* largest piece rill accepts */

/* Parses a whole .torrent. The info-hash is the SHA-1 of the info dictionary's
 * bytes exactly as they appear. Paths are checked (see rill_path_component).
 * On error `mi` holds nothing and `err` says why. */
int rill_metainfo_parse(struct rill_metainfo *mi, const uint8_t *buf, size_t len,
                        struct rill_error *err);
/* Parses a bare info dictionary (from ut_metadata); trackers stay empty. */
int rill_metainfo_parse_info(struct rill_metainfo *mi, const uint8_t *info, size_t len,
                             struct rill_error *err);
/* Reads and parses a file, refusing more than RILL_MAX_TORRENT_SIZE bytes. */
int rill_metainfo_load(struct rill_metainfo *mi, const char *path, struct rill_error *err);
void rill_metainfo_free(struct rill_metainfo *mi);

/* Piece geometry. */
uint32_t rill_piece_size(const struct rill_metainfo *mi, uint32_t piece);
/* Index of the first file overlapping byte `offset` (binary search). */
size_t rill_file_at(const struct rill_metainfo *mi, uint64_t offset);

/* Checks one path component from a torrent and writes the safe form into `out`
 * (capacity `cap`, NUL-terminated). Returns 0 if unchanged, 1 if it was made
 * safe (renamed), or RILL_EPATH with `why` set to a static reason when it
 * must be rejected. The policy (also in README):
 *   rejected: empty, ".", "..", containing NUL, '/' or '\\'.
 *   renamed:  control characters and invalid UTF-8 become '_'; a component
 *             longer than RILL_MAX_NAME_BYTES is cut, keeping its extension,
 *             with a short hash so distinct long names stay distinct. */
int rill_path_component(const uint8_t *p, size_t n, char *out, size_t cap,
                        const char **why);

/* Building a torrent: the info dictionary comes from rill_create (io), the
 * outer dictionary from these fields. */
struct rill_torrent_opts {
    const char *const *trackers;  /* NULL-terminated; each entry may hold a
                                     comma-separated tier */
    const char *const *web_seeds; /* NULL-terminated */
    const char *comment;
    const char *source;           /* goes into the info dictionary */
    const char *created_by;       /* default "rill/VERSION" */
    bool is_private;
    bool no_date;
    int64_t creation_date;        /* used unless no_date */
};

/* ------------------------------------------------------------------ magnet */

struct rill_magnet {
    uint8_t info_hash[RILL_SHA1_LEN];
    char *name;            /* dn, percent-decoded, or NULL */
    char **trackers;       /* tr, in order */
    size_t tracker_count;
    char **web_seeds;      /* ws */
    size_t web_seed_count;
    char **peers;          /* x.pe, "host:port" */
    size_t peer_count;
};

/* Parses a magnet URI. xt=urn:btih: takes 40 hex or 32 base32 characters; a
 * v2-only magnet (only urn:btmh:) is RILL_EUNSUPPORTED. Unknown parameters
 * are ignored, malformed percent-encoding, a missing or repeated btih, or a
 * value that is too long is RILL_EMAGNET with the offset of the fault. */
int rill_magnet_parse(struct rill_magnet *m, const char *uri, size_t len,
                      struct rill_error *err);
/* Appends a canonical magnet link (hex btih, dn, tr, ws percent-encoded as
 * needed; x.pe written as host:port, IPv6 in brackets, since libtorrent does
 * not decode x.pe) to `out`. Whatever it writes, rill_magnet_parse reads back
 * equal, so it refuses what parse would: RILL_ELIMIT past the parse caps,
 * RILL_EINVAL for a malformed peer or a NULL entry; `out` is then unchanged. */
int rill_magnet_build(const struct rill_magnet *m, struct rill_buf *out);
/* The magnet link of a torrent: info-hash, name, every tracker, web seeds. */
int rill_magnet_from_metainfo(const struct rill_metainfo *mi, struct rill_buf *out);
void rill_magnet_free(struct rill_magnet *m);

/* ---------------------------------------------------------------- bitfield */

struct rill_bitfield {
    uint8_t *bits;   /* BitTorrent order: piece 0 is the high bit of byte 0 */
    uint32_t size;   /* bits */
    uint32_t count;  /* bits set */
};

int rill_bitfield_init(struct rill_bitfield *b, uint32_t size);
void rill_bitfield_free(struct rill_bitfield *b);
bool rill_bitfield_get(const struct rill_bitfield *b, uint32_t i);
void rill_bitfield_set(struct rill_bitfield *b, uint32_t i, bool v);
size_t rill_bitfield_bytes(const struct rill_bitfield *b);
/* Loads wire bytes; RILL_ESYNTAX if the length is wrong or spare bits are set. */
int rill_bitfield_load(struct rill_bitfield *b, const uint8_t *p, size_t n);

/* ----------------------------------------------------------------- storage */

/* Pieces mapped onto the files under `root` (the download directory; the
 * content sits at root/NAME). Blocks are read and written with pread/pwrite;
 * files are created sparse on first write; padding files are never touched;
 * at most `max_open` descriptors stay open (least recently used closed).
 * Not thread-safe: workers use one storage each, or lock around it. */
struct rill_storage;

struct rill_storage_opts {
    unsigned max_open;     /* default 64 */
    bool read_only;        /* never create or write (verify, seed) */
};

/* `mi` must outlive the storage. `root` is copied. */
int rill_storage_open(struct rill_storage **st, const struct rill_metainfo *mi,
                      const char *root, const struct rill_storage_opts *opts);
void rill_storage_close(struct rill_storage *st);
/* Reads `len` bytes at `offset` within `piece`. Padding reads as zeros.
 * RILL_ENOENT if a needed file is missing or too short (the piece is
 * missing, not bad), RILL_EIO on other failures, RILL_ERANGE if outside. */
int rill_storage_read(struct rill_storage *st, uint32_t piece, uint32_t offset,
                      void *buf, uint32_t len);
int rill_storage_write(struct rill_storage *st, uint32_t piece, uint32_t offset,
                       const void *buf, uint32_t len);
/* The on-disk path of file `i` (under root), or NULL for padding. */
const char *rill_storage_path(const struct rill_storage *st, size_t i);
/* fsyncs every open file. */
int rill_storage_sync(struct rill_storage *st);

/* ------------------------------------------------------------------ resume */

/* A resume file records which pieces were verified, with each file's size and
 * mtime at the time. It is written atomically (temporary file, fsync, rename)
 * and carries a checksum, so a torn or corrupt file is detected. */
int rill_resume_save(const char *path, const struct rill_metainfo *mi,
                     const struct rill_storage *st, const struct rill_bitfield *have);
/* Fills `have` (zeroed, or initialised to mi->piece_count bits) with the
 * pieces that can be trusted: those recorded as verified whose files all
 * still have the recorded size and mtime. Pieces touching a changed file are
 * left clear so the caller re-checks them. RILL_ENOENT if there is no file,
 * RILL_ERESUME if it is torn, corrupt or for another torrent (have stays
 * clear: nothing unverified is ever trusted). */
int rill_resume_load(const char *path, const struct rill_metainfo *mi,
                     const struct rill_storage *st, struct rill_bitfield *have);
/* The conventional resume path: ROOT/.rill/HEXINFOHASH.resume */
int rill_resume_path(const char *root, const struct rill_metainfo *mi, struct rill_buf *out);

/* ------------------------------------------------------------------ create */

struct rill_create_opts {
    uint32_t piece_length;   /* 0: chosen automatically */
    bool include_hidden;     /* include files and directories starting with '.' */
    unsigned threads;        /* hashing threads; 0: one per core */
    /* Progress: called from the calling thread with bytes hashed so far. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

/* The piece length rill picks for `total` bytes: 256 KiB up to 1 GiB of
 * content, then doubling so there are at most about 4,000 pieces, capped at
 * 16 MiB. */
uint32_t rill_create_piece_length(uint64_t total);

/* Walks `path` (a file or a directory; files sorted by their full relative
 * path, byte-wise), hashes every piece on all cores with reading overlapped,
 * and writes the .torrent bytes into `out`. Symlinks are followed only at the
 * top; inside a directory they are skipped. */
int rill_create(const char *path, const struct rill_create_opts *copts,
                const struct rill_torrent_opts *topts, struct rill_buf *out,
                struct rill_error *err);

/* ------------------------------------------------------------------- check */

enum rill_piece_state {
    RILL_PIECE_GOOD = 0,    /* present and its SHA-1 matches */
    RILL_PIECE_BAD = 1,     /* present but the hash does not match */
    RILL_PIECE_MISSING = 2, /* a file it needs is absent or too short */
};

struct rill_check_opts {
    unsigned threads;                      /* 0: one per core */
    const struct rill_bitfield *trusted;   /* pieces to mark good without
                                              hashing (from resume), or NULL */
    /* Called on the calling thread as pieces finish, in no particular order. */
    void (*progress)(void *ctx, uint32_t done, uint32_t total);
    void *progress_ctx;
};

/* Hashes every piece of the content under `root` (laid out as for
 * rill_storage_open) on all cores, reading overlapped with hashing, and
 * stores one enum rill_piece_state per piece in `states` (piece_count bytes).
 * Returns 0 when every piece was examined (whatever their states), or a
 * negative error when checking itself failed, with `err` (may be NULL)
 * naming the piece or path. */
int rill_check(const struct rill_metainfo *mi, const char *root,
               const struct rill_check_opts *opts, uint8_t *states,
               struct rill_error *err);

/* ----------------------------------------------------------------- session */

/* A session runs torrents on an event_base that the caller owns and runs
 * (event_base_dispatch). It owns the listening socket, the worker threads,
 * global rate limits and the peer id. Two sessions in one process are fine. */
struct event_base;
struct rill_session;
struct rill_torrent;

struct rill_session_opts {
    const char *bind;            /* listen address, default "0.0.0.0" */
    uint16_t port;               /* 0: any free port */
    uint64_t max_up, max_down;   /* bytes/s over all torrents; 0: unlimited */
    unsigned max_peers;          /* connections over all torrents; default 200 */
    unsigned workers;            /* disk and hash threads; 0: one per core */
    uint64_t rng_seed;           /* 0: seeded from OpenSSL's generator */
    /* Log lines, one event each: human text, or one JSON object per line
     * when json_log is set. NULL: no logging. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
    bool json_log;
    int verbosity;               /* 0 warnings and milestones, 1 peers, 2 messages */
    /* Local service discovery (BEP 14): torrents that are not private are
     * announced to the LAN's multicast group on the bind address's
     * interface every 5 minutes, and peers announced there are dialed. */
    bool lsd;
    /* A DHT node on the same event base (rill_dht_new), owned by the
     * caller and outliving the session: torrents that are not private look
     * up and announce their peers in it. NULL: no DHT. */
    struct rill_dht *dht;
};

/* Sets SIGPIPE to be ignored if it still has its default action: a peer
 * that hangs up mid-write must cost one connection, not the process. */
int rill_session_new(struct rill_session **s, struct event_base *base,
                     const struct rill_session_opts *opts);
/* Closes every torrent (saving resume data, without waiting for trackers),
 * then frees the session. */
void rill_session_free(struct rill_session *s);
/* The port the listener is bound to (useful after port 0). */
uint16_t rill_session_port(const struct rill_session *s);
/* Our 20-byte peer id ("-RL0100-" and 12 random characters). */
const uint8_t *rill_session_peer_id(const struct rill_session *s);

enum rill_pick_mode { RILL_PICK_RAREST = 0, RILL_PICK_RANDOM, RILL_PICK_SEQUENTIAL };
enum rill_choke_mode { RILL_CHOKE_TIT_FOR_TAT = 0, RILL_CHOKE_ROUND_ROBIN, RILL_CHOKE_NONE };

struct rill_torrent_params {
    const struct rill_metainfo *mi;  /* must outlive the torrent */
    /* Or, with mi NULL, a magnet link (BEP 9): the torrent first finds
     * peers (the magnet's trackers and x.pe peers, the DHT, peer exchange)
     * and fetches the info dictionary from them with ut_metadata, checks
     * it against the info-hash, writes the .torrent to `torrent_out`
     * (NULL: DIR/NAME.torrent), then downloads. Copied at add time. */
    const struct rill_magnet *magnet;
    const char *torrent_out;
    bool no_dht;                     /* no DHT lookups for this torrent */
    bool no_pex;                     /* no peer exchange (BEP 11) */
    const char *dir;                 /* download directory; content at dir/NAME */
    bool seed;                       /* keep seeding after completion */
    double seed_ratio;               /* stop seeding at this upload ratio; 0: never */
    uint64_t seed_time_ms;           /* stop seeding after this long; 0: never */
    bool trust_resume;               /* with a valid resume file, skip re-hashing */
    const char *only;                /* download only files matching this glob */
    enum rill_pick_mode pick_mode;
    bool no_endgame;
    /* Choking (defaults: tit-for-tat, 4 regular slots recomputed every 10 s,
     * one optimistic slot rotated every 30 s); 0 keeps a default. The other
     * values are for experiments such as the lab's ablations. */
    enum rill_choke_mode choke_mode;
    unsigned unchoke_slots;
    bool no_optimistic;
    /* Upload nothing: every peer stays choked and none is granted
     * allowed-fast pieces (the lab's client-server mode and free-riders). */
    bool no_upload;
    uint32_t choke_interval_ms, optimistic_interval_ms;
    unsigned max_peers;              /* per torrent; default 50 */
    bool no_trackers;                /* ignore the torrent's trackers */
    uint64_t max_up, max_down;       /* per torrent; 0: only the global limits */
    /* Called on the loop thread when the wanted data is complete and
     * verified, and once when the torrent has stopped for good: after
     * rill_torrent_stop or a seeding limit, as soon as the `stopped`
     * announces are answered or given up (at most a few seconds; at once
     * without trackers), or at once on a fatal error (`error` < 0). */
    void (*on_complete)(void *ctx, struct rill_torrent *t);
    /* A magnet's metadata arrived, was checked and saved (at `path`); the
     * download starts. May be NULL. */
    void (*on_metadata)(void *ctx, struct rill_torrent *t, const char *path);
    void (*on_stopped)(void *ctx, struct rill_torrent *t, int error);
    void *ctx;
};

int rill_session_add(struct rill_session *s, const struct rill_torrent_params *params,
                     struct rill_torrent **t);
/* Connects to a peer directly ("host:port", "[v6]:port"), besides trackers. */
int rill_torrent_add_peer(struct rill_torrent *t, const char *host_port);
/* Stops: saves resume data, closes peers, announces 'stopped' to trackers
 * (best effort, bounded); on_stopped comes when that is done. Frees nothing.
 * The log callback, like every callback, runs on the loop thread. */
void rill_torrent_stop(struct rill_torrent *t);
/* Removes and frees a torrent (stopping it first if needed). */
void rill_torrent_remove(struct rill_torrent *t);

enum rill_torrent_state {
    RILL_T_CHECKING, RILL_T_DOWNLOADING, RILL_T_SEEDING, RILL_T_STOPPED, RILL_T_ERROR,
    RILL_T_METADATA  /* a magnet: fetching the info dictionary */
};

struct rill_torrent_stats {
    enum rill_torrent_state state;
    uint64_t total_wanted, have_wanted;  /* bytes */
    uint32_t pieces_have, piece_count;
    uint64_t downloaded, uploaded;       /* payload bytes this session */
    uint64_t down_rate, up_rate;         /* bytes/s, last 20 s */
    uint64_t wasted;                     /* failed pieces and unrequested blocks */
    unsigned peers, unchoked_us, we_unchoke, seeds_connected;
    uint64_t eta_ms;                     /* UINT64_MAX when unknown */
    uint32_t hash_failures, banned;
    int error;                           /* last fatal error, or 0 */
    uint64_t metadata_size;              /* a magnet's info dictionary, once a peer says */
    uint32_t metadata_pieces, metadata_have;
    unsigned dht_peers, pex_peers, lsd_peers; /* addresses learned from each */
};

void rill_torrent_stats(const struct rill_torrent *t, struct rill_torrent_stats *st);
/* The torrent's metainfo: the one it was added with, or a magnet's once
 * its metadata arrived; NULL before that. Lives as long as the torrent. */
const struct rill_metainfo *rill_torrent_metainfo(const struct rill_torrent *t);
/* The torrent's info-hash (20 bytes), known from the start. */
const uint8_t *rill_torrent_info_hash(const struct rill_torrent *t);

/* ---------------------------------------------------------- tracker server */

/* `rill tracker`: an HTTP (BEP 3, 7, 23, 48) and UDP (BEP 15) tracker on
 * the caller's event base. Peers are known by the address they announce
 * from (ip= parameters are ignored: a tracker that believed them could be
 * told to send a swarm at anyone) and the port they give. */
struct rill_tracker_server_opts {
    const char *http;               /* "ADDR:PORT" ("[::1]:6969"), port 0: any; NULL: no HTTP */
    const char *udp;                /* the same for UDP; at least one of the two */
    uint32_t interval_s;            /* 0: 1800; clamped to 60..7200 */
    uint32_t min_interval_s;        /* 0: interval / 2 */
    uint32_t grace_s;               /* 0: interval / 2; silent peers go after interval + grace */
    uint32_t max_torrents;          /* 0: 100000; announces for new ones then fail */
    uint32_t max_peers_per_torrent; /* 0: 100000 per address family; newcomers
                                       past it are answered but not listed */
    const char *whitelist;          /* file of hex info-hashes, one per line; NULL: open */
    uint32_t idle_timeout_s;        /* 0: 15; an HTTP client silent this long is dropped */
    uint64_t rng_seed;              /* 0: from OpenSSL's generator */
    /* One line per event worth a line (start, errors, whitelist reloads),
     * never one per request; NULL: silent. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
};

struct rill_tracker_server_stats {
    uint64_t torrents, seeders, leechers;
    uint64_t announces, scrapes;    /* since start, both front ends */
    uint64_t http_requests, udp_packets, errors;
    uint64_t memory_bytes;          /* the swarm tables */
    uint64_t uptime_ms;
};

struct rill_tracker_server;

/* Binds the sockets and starts serving on `base`. On error, `err` (may be
 * NULL) says what: RILL_EINVAL for a bad address, RILL_EIO when a socket
 * cannot be bound, RILL_ENOENT / RILL_ESYNTAX for the whitelist file. */
int rill_tracker_server_new(struct rill_tracker_server **out, struct event_base *base,
                            const struct rill_tracker_server_opts *opts, struct rill_error *err);
void rill_tracker_server_free(struct rill_tracker_server *t);
/* The ports bound (useful after port 0); 0 for a front end not running. */
uint16_t rill_tracker_server_http_port(const struct rill_tracker_server *t);
uint16_t rill_tracker_server_udp_port(const struct rill_tracker_server *t);
/* Reads the whitelist file again (SIGHUP in `rill tracker`); on error the
 * old list stays and `err` says why. */
int rill_tracker_server_reload(struct rill_tracker_server *t, struct rill_error *err);
void rill_tracker_server_stats(const struct rill_tracker_server *t,
                               struct rill_tracker_server_stats *st);

/* ---------------------------------------------------------------- DHT node */

/* A Mainline DHT node (BEP 5, BEP 32, BEP 42, BEP 43) on the caller's event
 * base: one UDP socket per address family. It answers ping, find_node,
 * get_peers and announce_peer ("nodes" and "nodes6" as the querier wants),
 * limits queries per source address, routes only to nodes whose ids pass
 * BEP 42 (local addresses exempt), pings questionable nodes, refreshes
 * buckets idle for 15 minutes, and runs iterative lookups (3 queries in
 * flight) in every family it has. `rill dht` is a client of this API. */
struct rill_dht;

/* A peer's address: 4 or 16 bytes and a port (host order). */
struct rill_peer_addr {
    uint8_t addr[16];
    uint8_t addr_len;
    uint16_t port;
};

struct rill_dht_opts {
    /* "IPv4:PORT" and "[IPv6]:PORT" to bind (port 0: any); NULL for no
     * socket of that family; at least one. */
    const char *bind4, *bind6;
    /* 20 bytes, or NULL: the state file's id, else a random one. */
    const uint8_t *node_id;
    /* 0: seeded from OpenSSL's generator (use 0 outside tests). */
    uint64_t rng_seed;
    /* A file with our id and the nodes that answered us: read at start
     * (its nodes are queried at once; a missing file is fine), rewritten
     * every 10 minutes, by rill_dht_save() and by rill_dht_free(). */
    const char *state_path;
    /* Queries answered per second per source address, after a burst;
     * 0: 20 and 100. */
    uint32_t query_rate, query_burst;
};

struct rill_dht_stats {
    size_t nodes[2], buckets[2]; /* routing tables: [0] IPv4, [1] IPv6 */
    size_t hashes, store_bytes;  /* info-hashes with announced peers; memory they take */
    size_t items;                /* BEP 44 items we keep for others */
    uint64_t queries_in, queries_out, replies_in, timeouts;
    uint64_t refused;  /* queries over the per-address limit: not answered */
    uint64_t insecure; /* nodes not routed to: BEP 42 id check failed */
    uint64_t bytes_in, bytes_out;
    unsigned lookups;  /* lookups running */
    /* Nodes in the whole DHT, estimated from how close the nearest nodes
     * of our table are to our id (the i-th nearest of N random ids is
     * about i / N of the id space away); meaningful once a bootstrap lookup
     * has found them. 0 with fewer than 2 nodes. */
    double size_estimate;
};

#define RILL_DHT_VALUES_MAX 50 /* peers collected per request */

/* Peers found by rill_dht_get_peers or rill_dht_announce. While the request
 * runs, each call carries the peers newly learned (done false); the last
 * call (done true) carries every peer collected (at most
 * RILL_DHT_VALUES_MAX, possibly none); with empty routing tables it comes at
 * once, inside the starting call. The array lives only during the call.
 * Do not free the node from inside the callback. */
typedef void (*rill_dht_peers_cb)(void *ctx, const struct rill_peer_addr *peers, size_t n,
                                  bool done);

/* Opens the sockets and starts the node. 0, RILL_EINVAL (a bad address, no
 * family), RILL_EIO (a socket, or a state file that exists but is not a
 * DHT state file: it is left alone), RILL_ENOMEM. */
int rill_dht_new(struct rill_dht **out, struct event_base *base, const struct rill_dht_opts *opts);
/* Writes the state file (if any), closes the sockets and frees everything;
 * pending requests end silently. */
void rill_dht_free(struct rill_dht *d);
/* The UDP port of a family (4 or 6); 0 when not bound. */
uint16_t rill_dht_port(const struct rill_dht *d, int family);
/* Our 20-byte node id. */
const uint8_t *rill_dht_id(const struct rill_dht *d);
/* Live nodes in the routing tables, both families. */
size_t rill_dht_node_count(const struct rill_dht *d);
void rill_dht_stats(const struct rill_dht *d, struct rill_dht_stats *st);
/* Pings the node at an address literal ("IPv4:PORT", "[IPv6]:PORT") and,
 * once it answers, looks up our own id in its family to fill the table.
 * 0, RILL_EINVAL (not a literal, or a family without a socket),
 * RILL_ELIMIT (too many queries in flight). */
int rill_dht_bootstrap(struct rill_dht *d, const char *addr);
/* True while a bootstrap ping or lookup is under way. */
bool rill_dht_bootstrapping(const struct rill_dht *d);
/* Looks up the peers of info_hash in every family (see rill_dht_peers_cb).
 * 0, or RILL_ELIMIT when too many requests run (8 at once). */
int rill_dht_get_peers(struct rill_dht *d, const uint8_t info_hash[20], rill_dht_peers_cb cb,
                       void *ctx);
/* As get_peers, then announces us on `port` (0: the port the other nodes
 * see our DHT socket on, BEP 5's implied_port) to the 8 closest nodes that
 * answered; the done call comes when those announces are answered or timed
 * out. */
int rill_dht_announce(struct rill_dht *d, const uint8_t info_hash[20], uint16_t port,
                      rill_dht_peers_cb cb, void *ctx);
/* Forgets the callbacks of every request started with `ctx`: they run on,
 * silently. For an owner about to go away. */
void rill_dht_cancel(struct rill_dht *d, const void *ctx);
/* Lookup hops of the last request that finished (the deepest of its
 * lookups): how many answers away from our table the closest nodes were. */
unsigned rill_dht_last_hops(const struct rill_dht *d);
/* Nodes that accepted the announces of the last request that finished (0
 * for a get_peers). */
unsigned rill_dht_last_stored(const struct rill_dht *d);
/* Writes the state file now (atomically). RILL_EINVAL without one, RILL_EIO. */
int rill_dht_save(struct rill_dht *d);

/* BEP 44: small items stored in the DHT. An immutable item is found by the
 * SHA-1 of its value; a mutable one by the SHA-1 of an Ed25519 public key
 * and an optional salt, and only the key's holder can store new versions
 * (numbered by seq). Values are one bencoded value of at most 1000 bytes;
 * salts at most 64 bytes; nodes keep items for 2 hours after a put. */
#define RILL_DHT_ITEM_VALUE_MAX 1000
#define RILL_DHT_ITEM_SALT_MAX_LEN 64

struct rill_dht_item_info {
    uint8_t target[20];
    bool is_mutable;
    const uint8_t *v; /* the bencoded value */
    size_t v_len;
    int64_t seq;              /* mutable items */
    const uint8_t *k, *sig;   /* mutable items: 32-byte key, 64-byte signature */
    unsigned stored;          /* puts: nodes that accepted it */
    unsigned hops;
};

/* The end of rill_dht_get_item or a put: `item` NULL when nothing was
 * found (a get) or stored nowhere (a put: then `error` says why if a node
 * refused it, e.g. RILL_EINVAL for an older seq). The item and its arrays
 * live only during the call. */
typedef void (*rill_dht_item_cb)(void *ctx, const struct rill_dht_item_info *item, int error);

/* Targets: SHA-1 of the bencoded value, or of the public key and salt. */
void rill_dht_target_immutable(const uint8_t *v, size_t len, uint8_t target[20]);
int rill_dht_target_mutable(const uint8_t seed[32], const uint8_t *salt, size_t salt_len,
                            uint8_t target[20]);
/* The Ed25519 public key of a 32-byte secret seed. 0 or RILL_ENOMEM. */
int rill_dht_public_key(const uint8_t seed[32], uint8_t pub[32]);
/* A new secret seed from OpenSSL's generator. 0 or RILL_EIO. */
int rill_dht_new_key(uint8_t seed[32]);

/* Looks up the item at target (with the salt it was stored with, for a
 * mutable one; NULL, 0 otherwise): only values that hash to the target or
 * carry a valid signature are taken; of mutable versions the highest seq
 * wins. 0, RILL_EINVAL (salt too long), RILL_ELIMIT (too many requests). */
int rill_dht_get_item(struct rill_dht *d, const uint8_t target[20], const uint8_t *salt,
                      size_t salt_len, rill_dht_item_cb cb, void *ctx);
/* Stores an immutable item on the 8 nodes closest to its target. v must be
 * one bencoded value. 0, RILL_EINVAL (not bencode, too long), RILL_ELIMIT. */
int rill_dht_put_immutable(struct rill_dht *d, const uint8_t *v, size_t len, rill_dht_item_cb cb,
                           void *ctx);
/* Stores a mutable item signed with `seed`'s key. `seq` NULL: one more than
 * the highest version found (1 when none). 0, RILL_EINVAL, RILL_ELIMIT. */
int rill_dht_put_mutable(struct rill_dht *d, const uint8_t seed[32], const uint8_t *salt,
                         size_t salt_len, const int64_t *seq, const uint8_t *v, size_t len,
                         rill_dht_item_cb cb, void *ctx);

#ifdef __cplusplus
}
#endif
#endif /* RILL_H */
