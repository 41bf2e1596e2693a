/* The ablation report: one swarm, run once with BitTorrent's mechanisms as
 * they are and once with each switched off or replaced, side by side, with
 * the numbers each textbook claim is about: the seed's copies (rarest first
 * keeps pieces available, so the seed sends each piece about once), the
 * time to a first piece (optimistic unchoke lets newcomers start), and
 * free-riders' download time against contributors' (tit-for-tat). */
#include <stdio.h>

#include "cli.h"
#include "lab_cmd.h"
#include "report.h"

struct variant {
    const char *name;
    void (*apply)(struct rill_lab_config *c);
};

static void v_baseline(struct rill_lab_config *c) { (void)c; }
static void v_random(struct rill_lab_config *c) { c->picker = RILL_PICK_RANDOM; }
static void v_sequential(struct rill_lab_config *c) { c->picker = RILL_PICK_SEQUENTIAL; }
static void v_no_endgame(struct rill_lab_config *c) { c->no_endgame = true; }
static void v_no_optimistic(struct rill_lab_config *c) { c->no_optimistic = true; }
static void v_round_robin(struct rill_lab_config *c) { c->choker = RILL_CHOKE_ROUND_ROBIN; }
static void v_no_choking(struct rill_lab_config *c) { c->choker = RILL_CHOKE_NONE; }

static const struct variant variants[] = {
    {"as given", v_baseline},
    {"--picker random", v_random},
    {"--picker sequential", v_sequential},
    {"--no-endgame", v_no_endgame},
    {"--no-optimistic", v_no_optimistic},
    {"--choker round-robin", v_round_robin},
    {"--choker none", v_no_choking},
};

struct row {
    double d, ratio, mean, first_piece, riders, contributors, copies;
};

/* The numbers of one run; a time that never happened is negative. */
static struct row measure(const struct rill_lab_result *r)
{
    struct rill_lab_summary sm;
    rill_lab_summarize(r, &sm);
    return (struct row){r->distribution_s, r->ratio, sm.mean_all, sm.median_first_piece,
                        sm.mean_free_riders, sm.mean_contributors,
                        (double)r->seed_uploaded / (double)r->config.file_size};
}

static void cell(double v, int width)
{
    if (v < 0)
        printf(" %*s", width, "-");
    else
        printf(" %*.2f", width, v);
}

static void print_row(const char *name, const struct row *w)
{
    printf("%-22s", name);
    cell(w->d, 8);
    cell(w->ratio, 7);
    cell(w->mean, 9);
    cell(w->first_piece, 11);
    cell(w->copies, 11);
    cell(w->contributors, 13);
    cell(w->riders, 12);
    printf("\n");
}

static void json_num(const char *key, double v, bool last)
{
    if (v < 0)
        printf("\"%s\": null%s", key, last ? "" : ", ");
    else
        printf("\"%s\": %.3f%s", key, v, last ? "" : ", ");
}

static void json_row(const char *name, const struct row *w, bool first)
{
    printf("%s\n  {\"variant\": \"%s\", ", first ? "" : ",", name);
    json_num("distribution_time_s", w->d, false);
    json_num("ratio", w->ratio, false);
    json_num("mean_download_s", w->mean, false);
    json_num("median_first_piece_s", w->first_piece, false);
    json_num("seed_copies", w->copies, false);
    json_num("contributors_mean_s", w->contributors, false);
    json_num("free_riders_mean_s", w->riders, true);
    printf("}");
}

int cli_lab_ablations(const struct cli_lab_args *a, const struct cli_lab_engine *e)
{
    size_t nv = sizeof variants / sizeof variants[0];
    if (a->json) {
        printf("{\"ablations\": [");
    } else {
        struct rill_buf b;
        rill_buf_init(&b, 0);
        rill_lab_report_setup(&b, &a->c);
        printf("rill %s --ablations: %.*s\n", a->cmd, (int)b.len, (const char *)b.data);
        rill_buf_free(&b);
        printf("%-22s %8s %7s %9s %11s %11s %13s %12s\n", "variant", "D s", "D/bound",
               "mean s", "1st piece s", "seed copies", "contributors", "free-riders");
    }
    for (size_t i = 0; i < nv; i++) {
        struct rill_lab_config c = a->c;
        variants[i].apply(&c);
        struct rill_lab_result r;
        const char *why = NULL;
        int rc = e->run(e->ctx, &c, &r, &why);
        if (rc) {
            cli_error("%s: %s: %s", a->cmd, variants[i].name, why ? why : rill_strerror(rc));
            return CLI_EXIT_IO;
        }
        struct row w = measure(&r);
        if (a->json)
            json_row(variants[i].name, &w, i == 0);
        else
            print_row(variants[i].name, &w);
        fflush(stdout);
        rill_lab_result_free(&r);
    }
    if (a->json)
        printf("]}\n");
    else
        printf("Times in seconds from each leecher's arrival (mean, median first piece);\n"
               "seed copies: what the seed uploaded over the file size.\n");
    return 0;
}
