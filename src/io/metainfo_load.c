/* Loading a .torrent from disk. */
#include <stdlib.h>

#include "io/file_read.h"

int rill_metainfo_load(struct rill_metainfo *mi, const char *path, struct rill_error *err)
{
    uint8_t *buf;
    size_t len;
    int rc = rill__read_file(path, RILL_MAX_TORRENT_SIZE, &buf, &len, err);
    if (rc) {
        *mi = (struct rill_metainfo){0};
        return rc;
    }
    rc = rill_metainfo_parse(mi, buf, len, err);
    free(buf);
    return rc;
}
