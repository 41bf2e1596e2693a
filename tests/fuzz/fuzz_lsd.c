/* Fuzzes rill_lsd_parse (BEP 14 datagrams from anyone on the LAN). What
 * parses must build, and the built message must parse back equal. */
#include <stdlib.h>
#include <string.h>

#include "core/lsd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rill_lsd_msg m, back;
    if (rill_lsd_parse(data, size, &m, NULL) != 0)
        return 0;
    struct rill_buf b;
    rill_buf_init(&b, 4096);
    const char *cookie = m.cookie[0] && !strpbrk(m.cookie, "\r\n") ? m.cookie : NULL;
    if (rill_lsd_build(&b, "239.192.152.143:6771", m.port, (const uint8_t(*)[20])m.hashes,
                       m.n_hashes, cookie) != 0 ||
        rill_lsd_parse(b.data, b.len, &back, NULL) != 0 || back.port != m.port ||
        back.n_hashes != m.n_hashes ||
        memcmp(back.hashes, m.hashes, (size_t)m.n_hashes * RILL_SHA1_LEN) != 0)
        abort();
    rill_buf_free(&b);
    return 0;
}
