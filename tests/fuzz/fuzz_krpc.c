/* Fuzz target: the KRPC parser (BEP 5/32/43). A rejected datagram leaves the
 * struct zeroed with an error offset inside the input; an accepted one
 * respects the caps, and what rill builds from it parses back to the same
 * struct (except `truncated`, which only says the input had more than the
 * caps kept). Unknown methods cannot be built and must say so. */
#include <stdlib.h>
#include <string.h>

#include "core/krpc.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_caps(const struct rill_krpc_msg *m)
{
    check(m->type == RILL_KRPC_QUERY || m->type == RILL_KRPC_RESPONSE ||
          m->type == RILL_KRPC_ERROR);
    check(m->tid_len <= RILL_KRPC_TID_MAX && m->token_len <= RILL_KRPC_TOKEN_MAX);
    check(m->v_len <= RILL_KRPC_V_MAX && m->err_msg_len <= RILL_KRPC_ERRMSG_MAX);
    check(m->err_msg[m->err_msg_len] == 0);
    check(m->n_nodes <= RILL_KRPC_NODES_MAX && m->n_nodes6 <= RILL_KRPC_NODES_MAX);
    check(m->n_values <= RILL_KRPC_VALUES_MAX);
    for (size_t i = 0; i < m->n_values; i++)
        check(m->values[i].addr_len == 4 || m->values[i].addr_len == 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct rill_krpc_msg m, back;
    static const struct rill_krpc_msg zero;
    struct rill_error err;
    memset(&err, 0, sizeof err);
    if (rill_krpc_parse(data, size, &m, &err) != 0) {
        check(memcmp(&m, &zero, sizeof m) == 0 && err.code < 0 && err.offset <= size);
        return 0;
    }
    check_caps(&m);
    struct rill_buf b;
    rill_buf_init(&b, 0);
    int rc = rill_krpc_build(&m, &b);
    if (m.type == RILL_KRPC_QUERY && m.method == RILL_KRPC_UNKNOWN) {
        check(rc == RILL_EINVAL);
    } else {
        check(rc == 0);
        check(rill_krpc_parse(b.data, b.len, &back, NULL) == 0);
        check(!back.truncated);
        m.truncated = false;
        check(memcmp(&m, &back, sizeof m) == 0);
    }
    rill_buf_free(&b);
    return 0;
}
