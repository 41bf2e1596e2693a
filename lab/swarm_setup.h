/* Preparations for the swarm runner (lab/swarm_setup.c). Each returns 0 or
 * a negative enum rill_err. */
#ifndef RILL_LAB_SWARM_SETUP_H
#define RILL_LAB_SWARM_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "rill.h"

/* `given` (made if missing), or a new rill-swarm-XXXXXX under $TMPDIR or /tmp. */
int lab_workdir(char *out, size_t cap, const char *given);
/* A file of `size` seeded pseudo-random bytes. */
int lab_write_content(const char *path, uint64_t size, uint64_t seed);
/* The torrent of `content` with one tracker. */
int lab_write_torrent(const char *content, const char *torrent, uint32_t piece,
                      const char *tracker_url);
/* A TCP port on 127.0.0.1 that nobody uses now. */
int lab_free_port(uint16_t *port);
/* Until 127.0.0.1:port accepts a connection, at most timeout_ms. */
int lab_wait_port(uint16_t port, unsigned timeout_ms);
/* rm -rf, without following symbolic links. */
void lab_remove_tree(const char *dir);

#endif
