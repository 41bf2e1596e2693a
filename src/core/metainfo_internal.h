/* Shared between the metainfo parser's files. */
#ifndef RILL_CORE_METAINFO_INTERNAL_H
#define RILL_CORE_METAINFO_INTERNAL_H

#include "util/util.h"

struct rill__mi_parse {
    struct rill_metainfo *mi;
    const struct rill_bdoc *doc;
    struct rill_error *err;
};

/* Fills mi->files, file_count, total_size and multi_file from the info
 * dictionary; mi->name must already be set. */
int rill__mi_parse_files(struct rill__mi_parse *ps, const struct rill_bnode *info);

#endif
