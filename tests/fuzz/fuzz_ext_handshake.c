/* Fuzz target: the BEP 10 extended handshake parser. Whatever parses must
 * respect the documented caps (client name NUL-terminated, at most
 * RILL_WIRE_EXT_V_MAX bytes of well-formed UTF-8 without control
 * characters; address lengths 0, 4 or 16), and what rill builds from the
 * parsed struct must parse back to the same values. */
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_name(const char *v)
{
    size_t n = strnlen(v, RILL_WIRE_EXT_V_MAX + 1);
    check(n <= RILL_WIRE_EXT_V_MAX);
    for (size_t i = 0; i < n; i++)
        check((unsigned char)v[i] >= 0x20 && v[i] != 0x7F);
}

static void check_same(const struct rill_wire_ext_hs *a, const struct rill_wire_ext_hs *b)
{
    check(memcmp(a->m, b->m, sizeof a->m) == 0);
    check(strcmp(a->v, b->v) == 0);
    check(a->reqq == b->reqq && a->p == b->p && a->upload_only == b->upload_only);
    check(a->metadata_size == b->metadata_size && a->metadata_too_big == b->metadata_too_big);
    check(a->yourip_len == b->yourip_len && memcmp(a->yourip, b->yourip, 16) == 0);
    if (a->present & RILL_WIRE_EXTK_IPV4)
        check(memcmp(a->ipv4, b->ipv4, 4) == 0);
    if (a->present & RILL_WIRE_EXTK_IPV6)
        check(memcmp(a->ipv6, b->ipv6, 16) == 0);
}

static bool ids_distinct(const struct rill_wire_ext_hs *hs)
{
    for (int a = 0; a < RILL_WIRE_EXT_COUNT; a++)
        for (int b = a + 1; b < RILL_WIRE_EXT_COUNT; b++)
            if (hs->m[a] && hs->m[a] == hs->m[b])
                return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rill_wire_ext_hs hs;
    struct rill_error err;
    memset(&hs, 0, sizeof hs);
    if (rill_wire_ext_hs_parse(data, size, &hs, &err) != 0) {
        static const struct rill_wire_ext_hs zero;
        check(memcmp(&hs, &zero, sizeof hs) == 0 && err.code < 0 && err.offset <= size);
        return 0;
    }
    check_name(hs.v);
    check(hs.yourip_len == 0 || hs.yourip_len == 4 || hs.yourip_len == 16);
    check(hs.reqq <= RILL_WIRE_EXT_REQQ_MAX);
    check((hs.present & hs.invalid & ~(uint32_t)RILL_WIRE_EXTK_M) == 0);
    check(hs.metadata_too_big == (hs.metadata_size > RILL_WIRE_EXT_METADATA_MAX));

    struct rill_buf b;
    rill_buf_init(&b, 0);
    int rc = rill_wire_ext_hs_build(&b, &hs);
    if (!ids_distinct(&hs)) {
        check(rc == RILL_EINVAL);
    } else {
        check(rc == 0);
        struct rill_wire_ext_hs back;
        memset(&back, 0, sizeof back);
        check(rill_wire_ext_hs_parse(b.data, b.len, &back, NULL) == 0);
        check(back.invalid == 0);
        check_same(&hs, &back);
    }
    rill_buf_free(&b);
    return 0;
}
