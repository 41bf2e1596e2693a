/* A sweep's chart and JSON: measured D against N in both modes, beside the
 * two bounds (see report.h). */
#include <stdio.h>
#include <stdlib.h>

#include "report.h"
#include "svg.h"

/* The bounds as lines over 1..max N, from the config's classes (a flash
 * crowd; each point's own bound is in the JSON). */
static void bound_lines(const struct rill_lab_config *c, unsigned max, double *n, double *cs,
                        double *p2p)
{
    struct rill_model m = c->classes;
    m.file_size = (double)c->file_size;
    m.server_up = (double)c->seed_up;
    for (unsigned i = 0; i < max; i++) {
        n[i] = i + 1;
        cs[i] = rill_model_client_server(&m, i + 1);
        p2p[i] = rill_model_p2p(&m, i + 1);
    }
}

/* The measured points of one mode into x, y; returns how many. */
static size_t points_of(const struct rill_lab_sweep_point *pts, size_t n, enum rill_lab_mode mode,
                        double *x, double *y)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (pts[i].mode == mode && pts[i].distribution_s >= 0) {
            x[k] = pts[i].peers;
            y[k++] = pts[i].distribution_s;
        }
    return k;
}

int rill_lab_report_sweep_svg(struct rill_buf *b, const struct rill_lab_config *c,
                              const struct rill_lab_sweep_point *pts, size_t n)
{
    unsigned max = 1;
    for (size_t i = 0; i < n; i++)
        max = pts[i].peers > max ? pts[i].peers : max;
    double *v = calloc(3 * (size_t)max + 4 * n + 4, sizeof *v);
    if (!v)
        return RILL_ENOMEM;
    double *nx = v, *cs = v + max, *p2p = v + 2 * max, *px = v + 3 * max, *py = px + n,
           *qx = py + n, *qy = qx + n;
    bound_lines(c, max, nx, cs, p2p);
    size_t np = points_of(pts, n, RILL_LAB_P2P, px, py);
    size_t nq = points_of(pts, n, RILL_LAB_CLIENT_SERVER, qx, qy);
    struct rill_svg_series s[4] = {
        {.name = "bound D_cs", .x = nx, .y = cs, .n = max, .color = "#d62728", .dashed = true},
        {.name = "bound D_p2p", .x = nx, .y = p2p, .n = max, .color = "#1f77b4", .dashed = true},
    };
    size_t ns = 2;
    if (nq)
        s[ns++] = (struct rill_svg_series){.name = "measured, client-server", .x = qx, .y = qy,
                                           .n = nq, .color = "#d62728", .points = true};
    if (np)
        s[ns++] = (struct rill_svg_series){.name = "measured, p2p", .x = px, .y = py, .n = np,
                                           .color = "#1f77b4", .points = true};
    struct rill_svg_chart chart = {.title = "Distribution time against swarm size",
                                   .x_label = "N (leechers)", .y_label = "seconds",
                                   .series = s, .nseries = ns};
    int rc = rill_svg_chart(b, &chart);
    free(v);
    return rc;
}

int rill_lab_report_sweep_json(struct rill_buf *b, const struct rill_lab_config *c,
                               const struct rill_lab_sweep_point *pts, size_t n)
{
    rill_buf_appendf(b, "{\"file_size\": %llu, \"seed_up\": %llu, \"sweep\": [",
                     (unsigned long long)c->file_size, (unsigned long long)c->seed_up);
    for (size_t i = 0; i < n; i++) {
        rill_buf_appendf(b, "%s\n  {\"peers\": %u, \"mode\": \"%s\", \"bound_s\": %.3f, ",
                         i ? "," : "", pts[i].peers, rill_lab_mode_name(pts[i].mode),
                         pts[i].bound_s);
        if (pts[i].distribution_s >= 0)
            rill_buf_appendf(b, "\"distribution_time_s\": %.3f, \"ratio\": %.4f}",
                             pts[i].distribution_s, pts[i].distribution_s / pts[i].bound_s);
        else
            rill_buf_appendf(b, "\"distribution_time_s\": null, \"ratio\": null}");
    }
    rill_buf_appendf(b, "]}\n");
    return b->failed ? RILL_ENOMEM : 0;
}
