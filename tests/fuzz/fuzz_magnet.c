/* Fuzzes rill_magnet_parse. Whatever parses must build, and parsing what was
 * built must give an equal struct; any mismatch aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static bool list_eq(char **a, size_t an, char **b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (!str_eq(a[i], b[i]))
            return false;
    return true;
}

static bool magnet_eq(const struct rill_magnet *a, const struct rill_magnet *b)
{
    return memcmp(a->info_hash, b->info_hash, RILL_SHA1_LEN) == 0 && str_eq(a->name, b->name) &&
           list_eq(a->trackers, a->tracker_count, b->trackers, b->tracker_count) &&
           list_eq(a->web_seeds, a->web_seed_count, b->web_seeds, b->web_seed_count) &&
           list_eq(a->peers, a->peer_count, b->peers, b->peer_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rill_magnet m;
    struct rill_error err;
    int rc = rill_magnet_parse(&m, (const char *)data, size, &err);
    if (rc) {
        /* A failed parse leaves the struct empty and says where. */
        if (m.name || m.trackers || m.web_seeds || m.peers || err.code != rc ||
            err.offset > size)
            abort();
        rill_magnet_free(&m);
        return 0;
    }
    struct rill_buf b;
    rill_buf_init(&b, 0);
    rc = rill_magnet_build(&m, &b);
    /* Canonical escaping at most triples a value, so the built link can only
     * pass the 64 KiB cap when the input was at least about a third of it. */
    if (rc == RILL_ELIMIT && size * 3 + 64 > 65536) {
        rill_magnet_free(&m);
        rill_buf_free(&b);
        return 0;
    }
    if (rc) {
        fprintf(stderr, "build failed after parse: %d\n", rc);
        abort();
    }
    struct rill_magnet back;
    rc = rill_magnet_parse(&back, (const char *)b.data, b.len, &err);
    if (rc || !magnet_eq(&m, &back)) {
        fprintf(stderr, "round trip mismatch (rc %d: %s) for %.*s\n", rc, err.msg, (int)b.len,
                (const char *)b.data);
        abort();
    }
    rill_magnet_free(&back);
    rill_magnet_free(&m);
    rill_buf_free(&b);
    return 0;
}
