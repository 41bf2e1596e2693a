/* What `rill swarm` and `rill sim` do with their engine: one run with its
 * report, a sweep over N in both modes, or the ablation report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lab_cmd.h"
#include "report.h"

static int print_buf(const struct rill_buf *b)
{
    if (b->failed)
        return CLI_EXIT_IO;
    fwrite(b->data, 1, b->len, stdout);
    return 0;
}

static int run_engine(const struct cli_lab_args *a, const struct cli_lab_engine *e,
                      const struct rill_lab_config *c, struct rill_lab_result *r)
{
    const char *why = NULL;
    int rc = e->run(e->ctx, c, r, &why);
    if (rc) {
        cli_error("%s: %s", a->cmd, why ? why : rill_strerror(rc));
        return rc == RILL_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_IO;
    }
    return 0;
}

static int single(const struct cli_lab_args *a, const struct cli_lab_engine *e)
{
    struct rill_lab_result r;
    int st = run_engine(a, e, &a->c, &r);
    if (st)
        return st;
    struct rill_buf b;
    rill_buf_init(&b, 0);
    if (a->json) {
        rill_lab_report_json(&b, &r);
    } else {
        rill_buf_appendf(&b, "rill %s (%s engine): ", a->cmd, r.engine);
        rill_lab_report_setup(&b, &a->c);
        rill_buf_appendf(&b, "\n");
        rill_lab_report_text(&b, &r);
    }
    st = print_buf(&b);
    if (!st && a->csv) {
        b.len = 0;
        st = rill_lab_report_csv(&b, &r) ? CLI_EXIT_IO : cli_lab_write(a->cmd, a->csv, &b);
    }
    if (!st && a->svg) {
        b.len = 0;
        st = rill_lab_report_cdf_svg(&b, &r) ? CLI_EXIT_IO : cli_lab_write(a->cmd, a->svg, &b);
    }
    rill_buf_free(&b);
    if (!st && r.distribution_s < 0)
        st = CLI_EXIT_PROBLEMS; /* not every leecher completed in time */
    rill_lab_result_free(&r);
    return st;
}

static int sweep(const struct cli_lab_args *a, const struct cli_lab_engine *e)
{
    struct rill_lab_sweep_point pts[2 * CLI_LAB_MAX_SWEEP];
    size_t n = 0;
    if (!a->json)
        printf("%8s %14s %12s %10s %8s\n", "peers", "mode", "measured s", "bound s", "ratio");
    for (size_t i = 0; i < a->nsweep; i++) {
        for (int m = 0; m < 2; m++) {
            struct rill_lab_config c = a->c;
            c.peers = a->sweep[i];
            c.mode = m ? RILL_LAB_CLIENT_SERVER : RILL_LAB_P2P;
            struct rill_lab_result r;
            int st = run_engine(a, e, &c, &r);
            if (st)
                return st;
            pts[n] = (struct rill_lab_sweep_point){c.peers, c.mode, r.distribution_s, r.bound_s};
            if (!a->json)
                printf("%8u %14s %12.2f %10.2f %8.3f\n", c.peers, rill_lab_mode_name(c.mode),
                       r.distribution_s, r.bound_s, r.ratio);
            fflush(stdout);
            n++;
            rill_lab_result_free(&r);
        }
    }
    struct rill_buf b;
    rill_buf_init(&b, 0);
    int st = 0;
    if (a->json) {
        rill_lab_report_sweep_json(&b, &a->c, pts, n);
        st = print_buf(&b);
    }
    if (!st && a->svg) {
        b.len = 0;
        st = rill_lab_report_sweep_svg(&b, &a->c, pts, n) ? CLI_EXIT_IO
                                                          : cli_lab_write(a->cmd, a->svg, &b);
    }
    rill_buf_free(&b);
    return st;
}

int cli_lab_main(const struct cli_lab_args *a, const struct cli_lab_engine *e)
{
    int st;
    if (a->nsweep)
        st = sweep(a, e);
    else if (a->ablations)
        st = cli_lab_ablations(a, e);
    else
        st = single(a, e);
    return cli_finish(st);
}
