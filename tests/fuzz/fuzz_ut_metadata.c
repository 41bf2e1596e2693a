/* Fuzz target: the BEP 9 ut_metadata payload parser. A parsed message must
 * respect the documented bounds (piece index, data length fitting the piece
 * and total_size, data inside the input), and for request, data and reject
 * what rill builds from it must parse back to the same message. */
#include <stdlib.h>
#include <string.h>

#include "core/ut_metadata.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_round_trip(const struct rill_utmeta_msg *m)
{
    struct rill_buf b;
    rill_buf_init(&b, 0);
    int rc = m->type == RILL_UTMETA_REQUEST ? rill_utmeta_build_request(&b, m->piece)
             : m->type == RILL_UTMETA_REJECT
                 ? rill_utmeta_build_reject(&b, m->piece)
                 : rill_utmeta_build_data(&b, m->piece, m->total_size, m->data, m->data_len);
    check(rc == 0);
    struct rill_utmeta_msg back;
    check(rill_utmeta_parse(b.data, b.len, &back, NULL) == 0);
    check(back.type == m->type && back.piece == m->piece && back.total_size == m->total_size);
    check(back.data_len == m->data_len);
    check(m->data_len == 0 || memcmp(back.data, m->data, m->data_len) == 0);
    rill_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rill_utmeta_msg m;
    struct rill_error err;
    int rc = rill_utmeta_parse(data, size, &m, &err);
    if (rc != 0) {
        check(rc < 0 && err.code == rc && err.offset <= size && m.data == NULL);
        return 0;
    }
    if (m.type == RILL_UTMETA_UNKNOWN) {
        check(m.raw_type < 0 || m.raw_type > 2);
        return 0;
    }
    check(m.piece <= RILL_UTMETA_MAX_INDEX);
    if (m.type == RILL_UTMETA_DATA) {
        check(m.total_size > 0 && m.data_len > 0 && m.data_len <= RILL_UTMETA_PIECE);
        check(m.data >= data && m.data + m.data_len == data + size);
        check((uint64_t)m.piece * RILL_UTMETA_PIECE + m.data_len <= m.total_size);
    } else {
        check(m.data == NULL && m.data_len == 0);
    }
    check_round_trip(&m);
    return 0;
}
