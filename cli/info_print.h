/* Printing what `rill info` shows, as text or JSON (cli/info_print.c). */
#ifndef RILL_CLI_INFO_PRINT_H
#define RILL_CLI_INFO_PRINT_H

#include "rill.h"

/* `magnet` is the torrent's magnet link (rill_magnet_from_metainfo) or, for
 * a magnet, its canonical rebuild (rill_magnet_build). All print to stdout. */
void cli_info_torrent_text(const struct rill_metainfo *mi, const char *magnet);
void cli_info_torrent_json(const struct rill_metainfo *mi, const char *magnet);
void cli_info_magnet_text(const struct rill_magnet *m, const char *magnet);
void cli_info_magnet_json(const struct rill_magnet *m, const char *magnet);

#endif
