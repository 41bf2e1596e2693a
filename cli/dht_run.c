/* rill dht, the run: start a node, join through the bootstrap nodes (names
 * resolved here, once), then either serve until a signal or ask one
 * question and print the answer. A 50 ms timer drives the phases. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "dht_cli.h"

#define TICK_MS 50
#define REBOOT_MS 60000 /* a node with an empty table tries the routers again */

enum phase { JOINING, ASKING, SERVING, DONE };

struct run {
    const struct dht_args *a;
    struct event_base *base;
    struct rill_dht *d;
    enum phase phase;
    int status;
    uint64_t start_ms, joined_ms, next_stats_ms, next_boot_ms;
};

static void log_line(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(const struct run *r, const char *fmt, ...)
{
    if (r->a->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    cli_vlog(fmt, ap);
    va_end(ap);
}

/* "1.2.3.4:6881" or "[::1]:6881" */
static void fmt_peer(const struct rill_peer_addr *p, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    inet_ntop(p->addr_len == 4 ? AF_INET : AF_INET6, p->addr, ip, sizeof ip);
    snprintf(out, cap, p->addr_len == 4 ? "%s:%u" : "[%s]:%u", ip, p->port);
}

static int bootstrap(struct run *r)
{
    return cli_dht_bootstrap(r->d, r->a->boot, r->a->n_boot, r->a->quiet);
}

/* -------------------------------------------------------------- output */

static void print_peers(struct run *r, const struct rill_peer_addr *peers, size_t n,
                        unsigned hops)
{
    uint64_t took = cli_now_ms() - r->start_ms;
    char text[INET6_ADDRSTRLEN + 16];
    if (r->a->json) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        cli_json_object(&j);
        char hex[2 * RILL_SHA1_LEN + 1];
        rill_hex(r->a->info_hash, RILL_SHA1_LEN, hex);
        cli_json_key(&j, "info_hash");
        cli_json_cstr(&j, hex);
        cli_json_key(&j, "peers");
        cli_json_array_compact(&j);
        for (size_t i = 0; i < n; i++) {
            fmt_peer(&peers[i], text, sizeof text);
            cli_json_cstr(&j, text);
        }
        cli_json_end(&j);
        cli_json_key(&j, "hops");
        cli_json_u64(&j, hops);
        cli_json_key(&j, "join_ms");
        cli_json_u64(&j, r->joined_ms);
        cli_json_key(&j, "elapsed_ms");
        cli_json_u64(&j, took);
        cli_json_end(&j);
        cli_json_finish(&j);
    } else {
        for (size_t i = 0; i < n; i++) {
            fmt_peer(&peers[i], text, sizeof text);
            puts(text);
        }
    }
    unsigned stored = rill_dht_last_stored(r->d);
    if (!r->a->quiet && r->a->cmd[0] == 'a')
        fprintf(stderr, "rill: announced to %u node%s\n", stored, stored == 1 ? "" : "s");
    if (!r->a->quiet)
        fprintf(stderr, "rill: %s %zu peer%s in %.2f s (joined in %.2f s, %u hop%s)\n",
                r->a->cmd[0] == 'a' ? "announced; found" : "found", n,
                n == 1 ? "" : "s", (double)took / 1000.0,
                (double)r->joined_ms / 1000.0, hops, hops == 1 ? "" : "s");
}

static void print_stats(struct run *r)
{
    struct rill_dht_stats st;
    rill_dht_stats(r->d, &st);
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(rill_dht_id(r->d), RILL_SHA1_LEN, hex);
    if (r->a->json) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        cli_json_object(&j);
        cli_json_key(&j, "node_id");
        cli_json_cstr(&j, hex);
        static const char *const fam[2] = {"ipv4", "ipv6"};
        for (int f = 0; f < 2; f++) {
            cli_json_key(&j, fam[f]);
            cli_json_object_compact(&j);
            cli_json_key(&j, "port");
            cli_json_u64(&j, rill_dht_port(r->d, f ? 6 : 4));
            cli_json_key(&j, "nodes");
            cli_json_u64(&j, st.nodes[f]);
            cli_json_key(&j, "buckets");
            cli_json_u64(&j, st.buckets[f]);
            cli_json_end(&j);
        }
        cli_json_key(&j, "size_estimate");
        cli_json_double(&j, st.size_estimate, 0);
        cli_json_key(&j, "join_ms");
        cli_json_u64(&j, r->joined_ms);
        cli_json_key(&j, "queries_out");
        cli_json_u64(&j, st.queries_out);
        cli_json_key(&j, "replies_in");
        cli_json_u64(&j, st.replies_in);
        cli_json_key(&j, "timeouts");
        cli_json_u64(&j, st.timeouts);
        cli_json_key(&j, "queries_in");
        cli_json_u64(&j, st.queries_in);
        cli_json_end(&j);
        cli_json_finish(&j);
        return;
    }
    cli_field_str("node id", hex);
    for (int f = 0; f < 2; f++)
        if (rill_dht_port(r->d, f ? 6 : 4))
            cli_field_fmt(f ? "IPv6" : "IPv4", "port %u, %zu nodes in %zu bucket%s",
                          rill_dht_port(r->d, f ? 6 : 4), st.nodes[f], st.buckets[f],
                          st.buckets[f] == 1 ? "" : "s");
    cli_field_fmt("DHT size", "about %.0f nodes (from the nearest to our id)", st.size_estimate);
    cli_field_fmt("joined in", "%.2f s", (double)r->joined_ms / 1000.0);
    cli_field_fmt("queries", "%" PRIu64 " sent, %" PRIu64 " answered, %" PRIu64
                  " timed out; %" PRIu64 " received",
                  st.queries_out, st.replies_in, st.timeouts, st.queries_in);
}

static void log_stats(struct run *r)
{
    struct rill_dht_stats st;
    rill_dht_stats(r->d, &st);
    log_line(r, "nodes %zu+%zu (IPv4+IPv6), ~%.0f in the DHT; queries in %" PRIu64
             " (refused %" PRIu64 "), out %" PRIu64 " (answered %" PRIu64 "); storing %zu torrents",
             st.nodes[0], st.nodes[1], st.size_estimate, st.queries_in, st.refused,
             st.queries_out, st.replies_in, st.hashes);
}

/* ---------------------------------------------------------------- phases */

static void finish(struct run *r, int status)
{
    r->phase = DONE;
    r->status = status;
    event_base_loopexit(r->base, NULL);
}

static void on_peers(void *ctx, const struct rill_peer_addr *peers, size_t n, bool done)
{
    struct run *r = ctx;
    if (!done || r->phase != ASKING)
        return;
    print_peers(r, peers, n, rill_dht_last_hops(r->d));
    finish(r, n || r->a->cmd[0] == 'a' ? CLI_EXIT_OK : CLI_EXIT_PROBLEMS);
}

static void on_item(void *ctx, const struct rill_dht_item_info *it, int error)
{
    struct run *r = ctx;
    if (r->phase != ASKING)
        return;
    if (it) {
        cli_dht_print_item(r->a, it);
        finish(r, CLI_EXIT_OK);
    } else if (strcmp(r->a->cmd, "get") == 0) {
        if (!r->a->quiet)
            fprintf(stderr, "rill: no item found\n");
        finish(r, CLI_EXIT_PROBLEMS);
    } else {
        cli_error("dht: stored nowhere: %s",
                  error == RILL_EINVAL ? "the DHT holds a newer version (a higher --seq)"
                                       : "no node accepted the item");
        finish(r, error == RILL_EINVAL ? CLI_EXIT_PROBLEMS : CLI_EXIT_IO);
    }
}

static void ask(struct run *r)
{
    r->phase = ASKING;
    int rc = 0;
    if (strcmp(r->a->cmd, "put") == 0 || strcmp(r->a->cmd, "get") == 0) {
        int st = r->a->cmd[0] == 'p' ? cli_dht_put(r->d, r->a, on_item, r)
                                     : cli_dht_get(r->d, r->a, on_item, r);
        if (st != 0)
            finish(r, st);
        return;
    }
    if (strcmp(r->a->cmd, "stats") == 0) {
        print_stats(r);
        finish(r, CLI_EXIT_OK);
        return;
    }
    if (strcmp(r->a->cmd, "announce") == 0)
        rc = rill_dht_announce(r->d, r->a->info_hash, r->a->announce_port, on_peers, r);
    else
        rc = rill_dht_get_peers(r->d, r->a->info_hash, on_peers, r);
    if (rc != 0) {
        cli_error("dht: %s", rill_strerror(rc));
        finish(r, CLI_EXIT_IO);
    }
}

/* A question can go once a node of every family we have answered: its
 * lookups walk from there while the own-id lookups fill the tables. */
static bool ready(const struct run *r)
{
    struct rill_dht_stats st;
    rill_dht_stats(r->d, &st);
    for (int f = 0; f < 2; f++)
        if (rill_dht_port(r->d, f ? 6 : 4) && st.nodes[f] == 0)
            return false;
    return strcmp(r->a->cmd, "stats") != 0; /* stats describe a full table */
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct run *r = arg;
    uint64_t now = cli_now_ms();
    if (r->phase == JOINING && (!rill_dht_bootstrapping(r->d) || (r->a->cmd && ready(r)))) {
        r->joined_ms = now - r->start_ms;
        if (rill_dht_node_count(r->d) == 0 && !r->a->cmd) {
            r->phase = SERVING; /* the first node: others will find us */
            log_line(r, "no bootstrap node answered; serving until others join");
            return;
        }
        if (rill_dht_node_count(r->d) == 0) {
            cli_error("dht: could not join the DHT: no bootstrap node answered");
            finish(r, CLI_EXIT_IO);
            return;
        }
        if (r->a->cmd) {
            ask(r);
        } else {
            r->phase = SERVING;
            log_line(r, "joined in %.2f s", (double)r->joined_ms / 1000.0);
        }
    }
    if (r->a->cmd && r->phase != DONE && now - r->start_ms >= r->a->timeout_ms) {
        cli_error("dht: timed out after %.1f s", (double)r->a->timeout_ms / 1000.0);
        finish(r, CLI_EXIT_IO);
        return;
    }
    if (!r->a->cmd && now >= r->next_stats_ms) {
        log_stats(r);
        r->next_stats_ms = now + r->a->stats_every_ms;
    }
    if (!r->a->cmd && now >= r->next_boot_ms && rill_dht_node_count(r->d) == 0 &&
        !rill_dht_bootstrapping(r->d)) {
        bootstrap(r);
        r->next_boot_ms = now + REBOOT_MS;
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct run *r = arg;
    log_line(r, "stopping");
    finish(r, CLI_EXIT_OK);
}

/* ------------------------------------------------------------- the run */

/* The default state file, or NULL without a home. */
static char *default_state(void)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    struct rill_buf b;
    rill_buf_init(&b, 4096);
    if (xdg && xdg[0] == '/')
        rill_buf_appendf(&b, "%s/rill/dht.state", xdg);
    else if (home && home[0] == '/')
        rill_buf_appendf(&b, "%s/.local/state/rill/dht.state", home);
    else
        return NULL;
    rill_buf_append(&b, "", 1);
    return b.failed ? NULL : (char *)b.data;
}

static int start(struct run *r, const char *state)
{
    const struct dht_args *a = r->a;
    char b4[96], b6[96];
    snprintf(b4, sizeof b4, "%s:%u", a->bind4 ? a->bind4 : "0.0.0.0", a->port);
    snprintf(b6, sizeof b6, "[%s]:%u", a->bind6 ? a->bind6 : "::", a->port);
    struct rill_dht_opts o = {.bind4 = a->only6 ? NULL : b4,
                              .bind6 = a->only4 ? NULL : b6,
                              .state_path = state};
    int rc = rill_dht_new(&r->d, r->base, &o);
    if (rc == RILL_EIO && !a->only4 && !a->only6 && !a->bind6) {
        o.bind6 = NULL; /* a host without IPv6 still runs a node */
        rc = rill_dht_new(&r->d, r->base, &o);
    }
    if (rc != 0) {
        cli_error("dht: cannot start the node on %s%s%s: %s%s", o.bind4 ? b4 : "",
                  o.bind4 && o.bind6 ? " and " : "", o.bind6 ? b6 : "", rill_strerror(rc),
                  rc == RILL_EIO && state ? " (or the state file is not a DHT state file)" : "");
        return rc == RILL_EINVAL ? cli_usage_hint("dht") : CLI_EXIT_IO;
    }
    if (!a->cmd)
        log_line(r, "DHT node on UDP port %u%s", rill_dht_port(r->d, o.bind4 ? 4 : 6),
                 state ? "" : " (no state file)");
    return -1;
}

int cli_dht_run(const struct dht_args *a)
{
    struct run r = {.a = a, .phase = JOINING, .start_ms = cli_now_ms()};
    char *state = a->no_state ? NULL : a->state ? strdup(a->state) : default_state();
    r.base = event_base_new();
    if (!r.base) {
        free(state);
        cli_error("dht: cannot set up the event loop");
        return CLI_EXIT_IO;
    }
    int status = start(&r, state);
    if (status < 0) {
        bool from_state = rill_dht_bootstrapping(r.d);
        if (bootstrap(&r) == 0 && !from_state && a->cmd) {
            cli_error("dht: could not join the DHT: no bootstrap node could be reached");
            status = CLI_EXIT_IO;
        }
    }
    if (status < 0) {
        r.next_stats_ms = r.start_ms + a->stats_every_ms;
        r.next_boot_ms = r.start_ms + REBOOT_MS;
        struct timeval tv = {0, TICK_MS * 1000};
        struct event *tick = event_new(r.base, -1, EV_PERSIST, on_tick, &r);
        struct event *sig[2] = {evsignal_new(r.base, SIGINT, on_signal, &r),
                                evsignal_new(r.base, SIGTERM, on_signal, &r)};
        event_add(tick, &tv);
        for (int i = 0; i < 2; i++)
            evsignal_add(sig[i], NULL);
        event_base_dispatch(r.base);
        status = r.status;
        if (!a->cmd)
            log_stats(&r);
        event_free(tick);
        for (int i = 0; i < 2; i++)
            event_free(sig[i]);
    }
    rill_dht_free(r.d);
    event_base_free(r.base);
    free(state);
    return cli_finish(status);
}
