/* Fuzz target: the BEP 11 ut_pex parser. A parsed message respects its
 * caps (at most RILL_PEX_PARSE_MAX per list and family, no port 0, address
 * lengths 4 or 16); when it fits BEP 11's per-message limits, what rill
 * builds from it parses back to the same peers and flags. The accept
 * limiter never takes more than its caps. */
#include <stdlib.h>
#include <string.h>

#include "core/ut_pex.h"

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void check_list(const struct rill_pex_peer *v, size_t n)
{
    size_t fam[17] = {0};
    for (size_t i = 0; i < n; i++) {
        check(v[i].addr_len == 4 || v[i].addr_len == 16);
        check(v[i].port != 0);
        fam[v[i].addr_len]++;
        /* Wire order: IPv4 first. */
        check(i == 0 || v[i - 1].addr_len <= v[i].addr_len);
    }
    check(fam[4] <= RILL_PEX_PARSE_MAX && fam[16] <= RILL_PEX_PARSE_MAX);
}

static void check_same(const struct rill_pex_peer *a, const struct rill_pex_peer *b, size_t n,
                       bool flags)
{
    for (size_t i = 0; i < n; i++) {
        check(rill_pex_peer_cmp(&a[i], &b[i]) == 0);
        check(!flags || a[i].flags == b[i].flags);
    }
}

static struct rill_pex_msg m, back;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rill_error err;
    int rc = rill_pex_parse(data, size, &m, &err);
    if (rc != 0) {
        check(rc < 0 && err.code == rc && err.offset <= size && m.n_added == 0);
        return 0;
    }
    check_list(m.added, m.n_added);
    check_list(m.dropped, m.n_dropped);
    for (size_t i = 0; i < m.n_dropped; i++)
        check(m.dropped[i].flags == 0);

    struct rill_buf b;
    rill_buf_init(&b, 0);
    rc = rill_pex_build(&b, &m);
    if (m.n_added > RILL_PEX_SEND_MAX || m.n_dropped > RILL_PEX_SEND_MAX) {
        check(rc == RILL_ELIMIT);
    } else {
        check(rc == 0);
        check(rill_pex_parse(b.data, b.len, &back, NULL) == 0);
        check(back.n_added == m.n_added && back.n_dropped == m.n_dropped && !back.truncated);
        check_same(m.added, back.added, m.n_added, true);
        check_same(m.dropped, back.dropped, m.n_dropped, false);
    }
    rill_buf_free(&b);

    struct rill_pex_accept a;
    struct rill_pex_peer out[RILL_PEX_ACCEPT_PER_MSG];
    rill_pex_accept_init(&a, 0, 0);
    size_t n1 = rill_pex_accept_take(&a, &m, 0, out, RILL_PEX_ACCEPT_PER_MSG);
    size_t n2 = rill_pex_accept_take(&a, &m, 1, out, RILL_PEX_ACCEPT_PER_MSG);
    check(n1 <= m.n_added && n1 + n2 <= RILL_PEX_ACCEPT_PER_MIN);
    return 0;
}
