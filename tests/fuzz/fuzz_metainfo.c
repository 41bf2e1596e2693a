/* Fuzz target: .torrent parsing. Whatever parses must be self-consistent:
 * files tile the byte stream, every path is relative and free of "..", and
 * the stored info dictionary re-parses to the same info-hash. */
#include <stdlib.h>
#include <string.h>

#include "rill.h"

static void check_path(const char *p)
{
    if (!*p || *p == '/' || strlen(p) > RILL_MAX_PATH_BYTES)
        abort();
    for (const char *c = p; c;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (n == 0 || n > RILL_MAX_NAME_BYTES || (n == 1 && c[0] == '.') ||
            (n == 2 && c[0] == '.' && c[1] == '.') || memchr(c, '\\', n))
            abort();
        c = slash ? slash + 1 : NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rill_metainfo mi;
    struct rill_error err;
    if (rill_metainfo_parse(&mi, data, size, &err) != 0) {
        if (mi.files || mi.name)
            abort();
        return 0;
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < mi.file_count; i++) {
        if (mi.files[i].offset != offset)
            abort();
        offset += mi.files[i].length;
        check_path(mi.files[i].path);
    }
    check_path(mi.name);
    if (offset != mi.total_size ||
        (uint64_t)mi.piece_count * mi.piece_length < mi.total_size ||
        rill_file_at(&mi, mi.total_size - 1) >= mi.file_count)
        abort();
    struct rill_metainfo again;
    if (rill_metainfo_parse_info(&again, mi.info, mi.info_len, NULL) != 0 ||
        memcmp(again.info_hash, mi.info_hash, 20) != 0)
        abort();
    rill_metainfo_free(&again);
    rill_metainfo_free(&mi);
    return 0;
}
