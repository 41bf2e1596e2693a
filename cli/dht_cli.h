/* rill dht: the parsed command line (cmd_dht.c) and the run (dht_run.c). */
#ifndef RILL_CLI_DHT_CLI_H
#define RILL_CLI_DHT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rill.h"

#define DHT_CLI_BOOT_MAX 16

struct dht_args {
    const char *cmd; /* NULL: run a node; "get-peers", "announce", "stats", "put", "get" */
    uint8_t info_hash[RILL_SHA1_LEN];
    uint16_t announce_port; /* 0: implied (the DHT port) */
    uint16_t port;
    bool port_set;
    const char *bind4, *bind6; /* NULL: the any address */
    bool only4, only6;
    const char *boot[DHT_CLI_BOOT_MAX];
    size_t n_boot; /* 0: the well-known routers */
    const char *state;
    bool no_state;
    uint64_t timeout_ms, stats_every_ms;
    bool json, quiet;
    /* put and get (BEP 44) */
    const char *value, *salt, *key_path;
    bool raw_value; /* --bencoded: value is bencode already */
    bool has_seq;
    int64_t seq;
};

/* dht_item_cli.c: start a put or get (0, or an exit status after a
 * message) and print the item it ends with. */
int cli_dht_put(struct rill_dht *d, const struct dht_args *a, rill_dht_item_cb cb, void *ctx);
int cli_dht_get(struct rill_dht *d, const struct dht_args *a, rill_dht_item_cb cb, void *ctx);
void cli_dht_print_item(const struct dht_args *a, const struct rill_dht_item_info *it);

/* Runs what `a` says; returns the exit status. */
int cli_dht_run(const struct dht_args *a);

#endif
