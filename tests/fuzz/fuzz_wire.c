/* Fuzz target: the peer-wire parser. The first input byte picks one of a few
 * fixed limit sets (and whether a handshake comes first); the rest is a
 * byte stream parsed message by message, as a connection would. Checked:
 * every parsed message re-encodes to exactly the bytes it came from, data
 * points inside its frame, every strict prefix of a good frame is "need
 * more", and errors come with a reason and consume nothing. */
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"

static const struct rill_wire_limits LIMITS[4] = {
    {.piece_count = 0, .fast = true, .extended = true},
    {.piece_count = 13, .fast = true, .extended = true},
    {.piece_count = 1000, .piece_length = 32768, .last_piece_length = 100},
    {.piece_count = 8, .max_block = 64, .max_ext_payload = 32, .extended = true},
};

static void check(bool ok)
{
    if (!ok)
        abort();
}

/* A frame that parses whole must be "need more" when cut short. */
static void check_prefixes(const struct rill_wire_limits *lim, const uint8_t *p, size_t n)
{
    size_t cuts[] = {0, 1, 3, 4, 5, 6, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        if (cuts[i] >= n)
            continue;
        struct rill_wire_msg m;
        size_t used = 1;
        int rc = rill_wire_parse(lim, p, cuts[i], &m, &used);
        check(rc == RILL_WIRE_NEED_MORE && used == 0 && m.need > cuts[i] && m.need <= n);
    }
}

static void check_message(const struct rill_wire_limits *lim, const uint8_t *p, size_t used,
                          const struct rill_wire_msg *m)
{
    check(used >= 4 && m->why == NULL);
    if (m->data_len)
        check(m->data >= p && m->data + m->data_len == p + used);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    check(rill_wire_build(&b, m) == 0);
    check(b.len == used && memcmp(b.data, p, used) == 0);
    rill_buf_free(&b);
    check(strcmp(rill_wire_type_name(m->type), "unknown") != 0);
    check_prefixes(lim, p, used);
}

static size_t skip_handshake(const uint8_t *data, size_t size)
{
    struct rill_wire_handshake hs;
    const char *why = NULL;
    int rc = rill_wire_handshake_parse(data, size, &hs, &why);
    if (rc < 0)
        check(why != NULL);
    if (rc != 0)
        return size; /* nothing after an incomplete or bad handshake */
    struct rill_buf b;
    rill_buf_init(&b, 0);
    check(rill_wire_handshake_build(&b, &hs) == 0 && memcmp(b.data, data, 68) == 0);
    rill_buf_free(&b);
    char name[RILL_WIRE_CLIENT_NAME_MAX];
    size_t n = rill_wire_client_name(hs.peer_id, name, sizeof name);
    check(strlen(name) == (n < sizeof name ? n : sizeof name - 1));
    return RILL_WIRE_HANDSHAKE_LEN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct rill_wire_limits *lim = &LIMITS[data[0] & 3];
    size_t off = 1;
    if (data[0] & 4)
        off += skip_handshake(data + 1, size - 1);
    while (off < size) {
        struct rill_wire_msg m;
        size_t used = 1;
        int rc = rill_wire_parse(lim, data + off, size - off, &m, &used);
        if (rc == RILL_WIRE_NEED_MORE) {
            check(used == 0 && m.need > size - off && m.why == NULL);
            break;
        }
        if (rc < 0) {
            check(used == 0 && m.why != NULL);
            break;
        }
        check(rc == 0 && used <= size - off);
        check_message(lim, data + off, used, &m);
        off += used;
    }
    return 0;
}
