/* rill sim dht: the textbook's claims about distributed hash tables, measured
 * (lab/sim_dht*.c): lookup cost against network size for a directory,
 * flooding, a ring, Chord and rill's own Kademlia; what joining costs; and
 * lookups and stored values under churn. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lab_args.h"
#include "sim_dht.h"
#include "svg.h"

#define SIZES_MAX 16
#define JOINS_MAX 100u

static const char usage_text[] =
    "Usage: rill sim dht [OPTIONS]\n"
    "Measures how distributed hash tables find a key, on a virtual clock (round trips\n"
    "of 20-300 ms per pair of nodes, 2 s timeouts), deterministic for a --seed:\n"
    "  directory  one server answers every lookup: 1 hop, and all the load on it\n"
    "  flood      a random graph (each node links to 4 others), queries flooded with a\n"
    "             TTL that reaches everyone: O(N) messages (at most 200 lookups a size)\n"
    "  ring       each node knows its successor: O(N) hops\n"
    "  chord      the ring with fingers successor(n + 2^i): O(log N) hops\n"
    "  kademlia   rill's own routing table and lookup code in every node (tables\n"
    "             filled as a converged network has them): O(log N) hops\n"
    "\n"
    "Experiments:\n"
    "  cost    hops (mean, median, 99th percentile), messages a lookup, the busiest\n"
    "          node's share of all messages, success, mean latency; per engine and size\n"
    "  join    messages a new node needs to find its place and to fill its fingers or\n"
    "          table (kademlia: a ping and a find_node of its own id, then one find_node\n"
    "          per bucket); up to 100 joins a size\n"
    "  churn   --lookups values are stored, then a --churn share of the nodes leave\n"
    "          and as many join, with no repair, then each value is looked up: ring and\n"
    "          chord with 1 and 2 successors (values on as many), kademlia with k = 1..8\n"
    "          (values on the k closest); at --churn-nodes nodes\n"
    "\n"
    "Options:\n"
    "      --experiment E   cost, join, churn or all (default all)\n"
    "      --sizes LIST     network sizes, 16 to 1000000 (default 100,1000,10000:\n"
    "                       under a second). 100000 takes about 3 s and 80 MB: kademlia\n"
    "                       tables are rebuilt on demand in a cache of 8192 tables\n"
    "      --lookups N      lookups per engine and size (default 1000)\n"
    "      --seed S         the seed of the run (default 1)\n"
    "      --k K            churn: kademlia with this k only (1-8). The core's buckets\n"
    "                       hold 8; for k < 8 the simulator hands a table at most k nodes\n"
    "                       of each shared-prefix range and nodes answer with k nodes\n"
    "      --churn RATE     churn: share of nodes that leave (and join), 0-0.9 (default 0.2)\n"
    "      --churn-nodes N  churn: network size (default 1000, at most 20000)\n"
    "      --svg FILE       chart of messages per lookup against size, both log10\n"
    "      --json           JSON on stdout instead of tables\n"
    "  -h, --help           show this help\n";

struct sim_dht_args {
    uint64_t sizes[SIZES_MAX];
    size_t nsizes;
    uint64_t lookups, seed, k, churn_nodes;
    double churn;
    bool cost, join, churn_on, json;
    const char *svg;
};

struct dht_out {
    struct rill_dht_sim_cost cost[SIZES_MAX][RILL_DHT_SIM_ENGINES];
    struct rill_dht_sim_join join[SIZES_MAX][3];
    struct rill_dht_sim_churn churn[12];
    size_t nchurn;
    double wall_s;
};

static const struct option options[] = {
    {"experiment", required_argument, NULL, 'E'},
    {"sizes", required_argument, NULL, 'N'},
    {"lookups", required_argument, NULL, 'L'},
    {"seed", required_argument, NULL, 'S'},
    {"k", required_argument, NULL, 'K'},
    {"churn", required_argument, NULL, 'C'},
    {"churn-nodes", required_argument, NULL, 'M'},
    {"svg", required_argument, NULL, 'G'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_sizes(struct sim_dht_args *a, const char *v, const char **why)
{
    a->nsizes = 0;
    char part[32];
    for (const char *p = v;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof part || a->nsizes == SIZES_MAX) {
            *why = n == 0 ? "empty size" : "too many sizes or too long";
            return -1;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        if (cli_parse_uint(part, RILL_DHT_SIM_NODES_MAX, &a->sizes[a->nsizes], why) != 0)
            return -1;
        if (a->sizes[a->nsizes++] < 16) {
            *why = "a size must be at least 16";
            return -1;
        }
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

static int parse_experiment(struct sim_dht_args *a, const char *v)
{
    bool all = strcmp(v, "all") == 0;
    a->cost = all || strcmp(v, "cost") == 0;
    a->join = all || strcmp(v, "join") == 0;
    a->churn_on = all || strcmp(v, "churn") == 0;
    return a->cost || a->join || a->churn_on ? 0 : -1;
}

static int parse_one(struct sim_dht_args *a, int c, const char *v)
{
    const char *why = "must be cost, join, churn or all";
    switch (c) {
    case 'E': return parse_experiment(a, v) ? cli_bad_value("sim dht", "--experiment", v, why) : -1;
    case 'N': return parse_sizes(a, v, &why) ? cli_bad_value("sim dht", "--sizes", v, why) : -1;
    case 'L':
        if (cli_parse_uint(v, 1000000, &a->lookups, &why) || a->lookups == 0)
            return cli_bad_value("sim dht", "--lookups", v, a->lookups ? why : "must be 1 or more");
        return -1;
    case 'S':
        return cli_parse_uint(v, UINT64_MAX, &a->seed, &why)
                   ? cli_bad_value("sim dht", "--seed", v, why)
                   : -1;
    case 'K':
        if (cli_parse_uint(v, RILL_DHT_K, &a->k, &why) || a->k == 0)
            return cli_bad_value("sim dht", "--k", v, "must be 1 to 8");
        return -1;
    case 'C':
        return cli_parse_ratio(v, 0.9, &a->churn, &why)
                   ? cli_bad_value("sim dht", "--churn", v, why)
                   : -1;
    case 'M':
        if (cli_parse_uint(v, 20000, &a->churn_nodes, &why) || a->churn_nodes < 16)
            return cli_bad_value("sim dht", "--churn-nodes", v, "must be 16 to 20000");
        return -1;
    case 'G': a->svg = v; return -1;
    case 'j': a->json = true; return -1;
    case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
    default: return cli_usage_hint("sim dht");
    }
}

static int parse_args(struct sim_dht_args *a, int argc, char **argv)
{
    *a = (struct sim_dht_args){.sizes = {100, 1000, 10000},
                           .nsizes = 3,
                           .lookups = 1000,
                           .seed = 1,
                           .churn_nodes = 1000,
                           .churn = 0.2,
                           .cost = true,
                           .join = true,
                           .churn_on = true};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        int status = parse_one(a, c, optarg);
        if (status >= 0)
            return status;
    }
    if (optind < argc) {
        cli_error("sim dht: unexpected argument '%s'", argv[optind]);
        return cli_usage_hint("sim dht");
    }
    return -1;
}

/* ------------------------------------------------------------- running */

static int run_all(const struct sim_dht_args *a, struct dht_out *o)
{
    int rc = 0;
    uint32_t joins = a->lookups < JOINS_MAX ? (uint32_t)a->lookups : JOINS_MAX;
    for (size_t s = 0; s < a->nsizes && rc == 0; s++) {
        uint32_t n = (uint32_t)a->sizes[s];
        for (int e = 0; a->cost && e < RILL_DHT_SIM_ENGINES && rc == 0; e++)
            rc = rill_dht_sim_cost(e, n, (uint32_t)a->lookups, a->seed, &o->cost[s][e]);
        for (int e = 0; a->join && e < 3 && rc == 0; e++)
            rc = rill_dht_sim_join(RILL_DHT_SIM_RING + e, n, joins, a->seed, &o->join[s][e]);
    }
    for (int e = RILL_DHT_SIM_RING; a->churn_on && e <= RILL_DHT_SIM_KADEMLIA && rc == 0; e++) {
        unsigned lo = 1, hi = e == RILL_DHT_SIM_KADEMLIA ? RILL_DHT_K : 2;
        if (e == RILL_DHT_SIM_KADEMLIA && a->k)
            lo = hi = (unsigned)a->k;
        for (unsigned v = lo; v <= hi && rc == 0; v++)
            rc = rill_dht_sim_churn(e, v, (uint32_t)a->churn_nodes, a->churn, (uint32_t)a->lookups,
                                    a->seed, &o->churn[o->nchurn++]);
    }
    return rc;
}

/* ------------------------------------------------------------- output */

static void print_text(const struct sim_dht_args *a, const struct dht_out *o)
{
    if (a->cost) {
        printf("Lookup cost (%llu lookups per engine and size, seed %llu)\n",
               (unsigned long long)a->lookups, (unsigned long long)a->seed);
        printf("%-10s %8s %9s %7s %7s %12s %8s %8s %10s\n", "engine", "nodes", "hops mean",
               "median", "p99", "msgs/lookup", "busiest", "success", "latency");
        for (int e = 0; e < RILL_DHT_SIM_ENGINES; e++)
            for (size_t s = 0; s < a->nsizes; s++) {
                const struct rill_dht_sim_cost *c = &o->cost[s][e];
                printf("%-10s %8u %9.2f %7.1f %7.0f %12.1f %7.3f%% %7.1f%% %7.0f ms\n",
                       rill_dht_sim_engine_name(e), c->nodes, c->hops_mean, c->hops_median,
                       c->hops_p99, c->msgs_mean, 100 * c->busiest_share, 100 * c->success,
                       c->latency_ms);
            }
        printf("\n");
    }
    if (a->join) {
        printf("Joining (messages a new node sends; kademlia: table nodes after)\n");
        printf("%-10s %8s %10s %10s %12s %12s %10s\n", "engine", "nodes", "place", "fill",
               "table@place", "table@fill", "converged");
        for (int e = 0; e < 3; e++)
            for (size_t s = 0; s < a->nsizes; s++) {
                const struct rill_dht_sim_join *j = &o->join[s][e];
                printf("%-10s %8u %10.1f %10.1f", rill_dht_sim_engine_name(j->engine), j->nodes,
                       j->place_msgs, j->fill_msgs);
                if (j->engine == RILL_DHT_SIM_KADEMLIA)
                    printf(" %12.1f %12.1f %10.1f\n", j->table_after_place, j->table_after_fill,
                           j->table_converged);
                else
                    printf(" %12s %12s %10s\n", "-", "-", "-");
            }
        printf("\n");
    }
    if (a->churn_on) {
        printf("Churn (%llu nodes, %.0f%% leave and as many join, no repair; %llu values)\n",
               (unsigned long long)a->churn_nodes, 100 * a->churn, (unsigned long long)a->lookups);
        printf("%-10s %-14s %10s %10s %12s %10s\n", "engine", "variant", "lookups ok", "survived",
               "msgs/lookup", "timeouts");
        for (size_t i = 0; i < o->nchurn; i++) {
            const struct rill_dht_sim_churn *c = &o->churn[i];
            char var[32];
            snprintf(var, sizeof var, c->engine == RILL_DHT_SIM_KADEMLIA ? "k=%u" : "successors=%u",
                     c->variant);
            printf("%-10s %-14s %9.1f%% %9.1f%% %12.1f %10.2f\n",
                   rill_dht_sim_engine_name(c->engine), var, 100 * c->lookup_ok, 100 * c->survived,
                   c->msgs_mean, c->timeouts_mean);
        }
        printf("\n");
    }
    printf("took %.2f s\n", o->wall_s);
}

static void json_cost(struct cli_json *j, const struct sim_dht_args *a, const struct dht_out *o)
{
    cli_json_key(j, "cost");
    cli_json_array(j);
    for (int e = 0; e < RILL_DHT_SIM_ENGINES; e++)
        for (size_t s = 0; s < a->nsizes; s++) {
            const struct rill_dht_sim_cost *c = &o->cost[s][e];
            cli_json_object_compact(j);
            cli_json_key(j, "engine");
            cli_json_cstr(j, rill_dht_sim_engine_name(e));
            cli_json_key(j, "nodes");
            cli_json_u64(j, c->nodes);
            cli_json_key(j, "lookups");
            cli_json_u64(j, c->lookups);
            const char *k[] = {"hops_mean",     "hops_median", "hops_p99",  "msgs_mean",
                               "busiest_share", "success",     "latency_ms"};
            double v[] = {c->hops_mean,     c->hops_median, c->hops_p99,  c->msgs_mean,
                          c->busiest_share, c->success,     c->latency_ms};
            for (size_t i = 0; i < CLI_ARRAY_LEN(k); i++) {
                cli_json_key(j, k[i]);
                cli_json_double(j, v[i], 4);
            }
            cli_json_end(j);
        }
    cli_json_end(j);
}

static void json_join_churn(struct cli_json *j, const struct sim_dht_args *a, const struct dht_out *o)
{
    cli_json_key(j, "join");
    cli_json_array(j);
    for (int e = 0; a->join && e < 3; e++)
        for (size_t s = 0; s < a->nsizes; s++) {
            const struct rill_dht_sim_join *r = &o->join[s][e];
            cli_json_object_compact(j);
            cli_json_key(j, "engine");
            cli_json_cstr(j, rill_dht_sim_engine_name(r->engine));
            cli_json_key(j, "nodes");
            cli_json_u64(j, r->nodes);
            const char *k[] = {"place_msgs", "fill_msgs", "table_after_place", "table_after_fill",
                               "table_converged"};
            double v[] = {r->place_msgs, r->fill_msgs, r->table_after_place, r->table_after_fill,
                          r->table_converged};
            for (size_t i = 0; i < CLI_ARRAY_LEN(k); i++) {
                cli_json_key(j, k[i]);
                cli_json_double(j, v[i], 2);
            }
            cli_json_end(j);
        }
    cli_json_end(j);
    cli_json_key(j, "churn");
    cli_json_array(j);
    for (size_t i = 0; i < o->nchurn; i++) {
        const struct rill_dht_sim_churn *c = &o->churn[i];
        cli_json_object_compact(j);
        cli_json_key(j, "engine");
        cli_json_cstr(j, rill_dht_sim_engine_name(c->engine));
        cli_json_key(j, c->engine == RILL_DHT_SIM_KADEMLIA ? "k" : "successors");
        cli_json_u64(j, c->variant);
        cli_json_key(j, "nodes");
        cli_json_u64(j, c->nodes);
        const char *k[] = {"rate", "lookup_ok", "survived", "msgs_mean", "timeouts_mean"};
        double v[] = {c->rate, c->lookup_ok, c->survived, c->msgs_mean, c->timeouts_mean};
        for (size_t m = 0; m < CLI_ARRAY_LEN(k); m++) {
            cli_json_key(j, k[m]);
            cli_json_double(j, v[m], 4);
        }
        cli_json_end(j);
    }
    cli_json_end(j);
}

static int print_json(const struct sim_dht_args *a, const struct dht_out *o)
{
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_object(&j);
    cli_json_key(&j, "seed");
    cli_json_u64(&j, a->seed);
    cli_json_key(&j, "lookups");
    cli_json_u64(&j, a->lookups);
    if (a->cost)
        json_cost(&j, a, o);
    json_join_churn(&j, a, o);
    cli_json_key(&j, "wall_s");
    cli_json_double(&j, o->wall_s, 3);
    cli_json_end(&j);
    return cli_json_finish(&j) == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
}

/* Messages per lookup against size, both as log10, one line per engine:
 * slope 1 is O(N), flat is O(1), a slow bend is O(log N). */
static int write_svg(const struct sim_dht_args *a, const struct dht_out *o)
{
    static const char *const colors[] = {"#d62728", "#ff7f0e", "#9467bd", "#2ca02c", "#1f77b4"};
    double x[SIZES_MAX], y[RILL_DHT_SIM_ENGINES][SIZES_MAX];
    struct rill_svg_series s[RILL_DHT_SIM_ENGINES];
    for (int e = 0; e < RILL_DHT_SIM_ENGINES; e++) {
        for (size_t i = 0; i < a->nsizes; i++) {
            x[i] = log10((double)a->sizes[i]);
            y[e][i] = log10(fmax(o->cost[i][e].msgs_mean, 1.0));
        }
        s[e] = (struct rill_svg_series){.name = rill_dht_sim_engine_name(e),
                                        .x = x,
                                        .y = y[e],
                                        .n = a->nsizes,
                                        .color = colors[e],
                                        .dashed = e == RILL_DHT_SIM_DIRECTORY};
    }
    struct rill_svg_chart c = {.title = "Messages per lookup (directory: all on one server)",
                               .x_label = "log10 nodes",
                               .y_label = "log10 messages",
                               .series = s,
                               .nseries = RILL_DHT_SIM_ENGINES};
    struct rill_buf b;
    rill_buf_init(&b, 0);
    int rc = rill_svg_chart(&b, &c);
    int st = rc == 0 ? cli_lab_write("sim dht", a->svg, &b) : CLI_EXIT_IO;
    if (rc != 0)
        cli_error("sim dht: cannot draw the chart: %s", rill_strerror(rc));
    rill_buf_free(&b);
    return st;
}

int cli_cmd_sim_dht(int argc, char **argv)
{
    static char name[] = "rill sim dht";
    argv[0] = name;
    struct sim_dht_args a;
    int st = parse_args(&a, argc, argv);
    if (st >= 0)
        return st;
    if (a.svg && !a.cost) {
        cli_error("sim dht: --svg charts the cost experiment; add --experiment cost or all");
        return cli_usage_hint("sim dht");
    }
    struct dht_out *o = calloc(1, sizeof *o);
    if (!o)
        return CLI_EXIT_IO;
    uint64_t start = cli_now_ms();
    int rc = run_all(&a, o);
    o->wall_s = (double)(cli_now_ms() - start) / 1000.0;
    if (rc < 0) {
        free(o);
        cli_error("sim dht: %s", rill_strerror(rc));
        return cli_exit_for(rc);
    }
    if (a.svg)
        st = write_svg(&a, o);
    if (a.json)
        rc = print_json(&a, o);
    else
        print_text(&a, o);
    free(o);
    return cli_finish(st > 0 ? st : (rc > 0 ? rc : CLI_EXIT_OK));
}
