/* The lab's outputs (see report.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "report.h"
#include "svg.h"

const char *rill_lab_mode_name(enum rill_lab_mode m)
{
    return m == RILL_LAB_CLIENT_SERVER ? "client-server" : "p2p";
}

const char *rill_lab_arrival_name(enum rill_lab_arrival a)
{
    return a == RILL_LAB_STAGGERED ? "staggered" : a == RILL_LAB_POISSON ? "poisson" : "flash";
}

/* Bytes for people: 64.0 MiB, 2.00 MiB, 512 KiB. */
static const char *size_text(double v, char out[24])
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(out, 24, u == 0 ? "%.0f %s" : v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s",
             v, units[u]);
    return out;
}

int rill_lab_report_setup(struct rill_buf *b, const struct rill_lab_config *c)
{
    char f[24], p[24], s[24];
    rill_buf_appendf(b, "%u leechers, %s in %s pieces, seed up %s/s, %s, %s arrivals%s",
                     c->peers, size_text((double)c->file_size, f),
                     size_text((double)c->piece_size, p), size_text((double)c->seed_up, s),
                     rill_lab_mode_name(c->mode), rill_lab_arrival_name(c->arrival),
                     c->leave ? ", leave when complete" : ", stay as seeds");
    if (c->free_riders > 0)
        rill_buf_appendf(b, ", %.0f%% free-riders", c->free_riders * 100);
    if (c->churn > 0)
        rill_buf_appendf(b, ", %.0f%% churn", c->churn * 100);
    return b->failed ? RILL_ENOMEM : 0;
}

static void time_cell(struct rill_buf *b, double t)
{
    if (t < 0)
        rill_buf_appendf(b, "  %9s", "-");
    else
        rill_buf_appendf(b, "  %9.2f", t);
}

/* Which term of the bound is the largest, for the summary. */
static const char *bound_term(const struct rill_lab_result *r)
{
    struct rill_lab_bound_terms t;
    rill_lab_bound_terms(&r->config, r->peers, &t);
    if (t.late > fmax(fmax(t.server, t.swarm), t.slowest))
        return "the latest arrival plus its own download time";
    if (t.slowest >= fmax(t.server, t.swarm))
        return "F/d_min";
    if (r->config.mode == RILL_LAB_CLIENT_SERVER)
        return "N*F/u_s";
    return t.swarm >= t.server ? "N*F/(u_s + sum u_i)" : "F/u_s";
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double mean(double sum, unsigned n)
{
    return n ? sum / n : -1;
}

void rill_lab_summarize(const struct rill_lab_result *r, struct rill_lab_summary *out)
{
    unsigned n = r->config.peers, k = 0, cnt[2] = {0, 0};
    double sum[2] = {0, 0};
    double *first = calloc(n ? n : 1, sizeof *first);
    for (unsigned i = 0; i < n; i++) {
        const struct rill_lab_peer *p = &r->peers[i];
        if (first && p->first_piece_s >= 0)
            first[k++] = p->first_piece_s - p->arrive_s;
        if (p->done_s < 0)
            continue;
        sum[p->free_rider] += p->done_s - p->arrive_s;
        cnt[p->free_rider]++;
    }
    *out = (struct rill_lab_summary){
        .mean_all = mean(sum[0] + sum[1], cnt[0] + cnt[1]),
        .mean_contributors = mean(sum[0], cnt[0]),
        .mean_free_riders = mean(sum[1], cnt[1]),
        .median_first_piece = -1,
    };
    if (k) {
        qsort(first, k, sizeof *first, by_value);
        out->median_first_piece = first[k / 2];
    }
    free(first);
}

static void summary(struct rill_buf *b, const struct rill_lab_result *r)
{
    char s[24];
    if (r->distribution_s >= 0)
        rill_buf_appendf(b, "distribution time  %.2f s\n", r->distribution_s);
    else
        rill_buf_appendf(b, "distribution time  - (not every leecher completed)\n");
    rill_buf_appendf(b, "bound              %.2f s (%s: %s)\n", r->bound_s,
                     r->config.mode == RILL_LAB_CLIENT_SERVER ? "D_cs" : "D_p2p", bound_term(r));
    if (r->ratio > 0)
        rill_buf_appendf(b, "ratio              %.3f\n", r->ratio);
    rill_buf_appendf(b, "seed uploaded      %s (%.2f copies of the file)\n",
                     size_text((double)r->seed_uploaded, s),
                     (double)r->seed_uploaded / (double)r->config.file_size);
    struct rill_lab_summary sm;
    rill_lab_summarize(r, &sm);
    if (sm.mean_free_riders >= 0 && sm.mean_contributors >= 0)
        rill_buf_appendf(b, "mean download time %.2f s for contributors, %.2f s for free-riders\n",
                         sm.mean_contributors, sm.mean_free_riders);
}

int rill_lab_report_text(struct rill_buf *b, const struct rill_lab_result *r)
{
    rill_buf_appendf(b, "%-5s %5s %11s %11s %9s  %9s  %9s %11s %11s\n", "peer", "class", "up/s",
                     "down/s", "arrived", "1st piece", "complete", "uploaded", "downloaded");
    for (unsigned i = 0; i < r->config.peers; i++) {
        const struct rill_lab_peer *p = &r->peers[i];
        char u[24], d[24], up[24], down[24];
        rill_buf_appendf(b, "%-5u %5u %11s %11s %9.2f", p->index, p->cls,
                         p->up ? size_text((double)p->up, u) : "0 (none)",
                         p->down ? size_text((double)p->down, d) : "unlimited", p->arrive_s);
        time_cell(b, p->first_piece_s);
        time_cell(b, p->done_s);
        rill_buf_appendf(b, " %11s %11s%s\n", size_text((double)p->uploaded, up),
                         size_text((double)p->downloaded, down),
                         p->free_rider ? "  free-rider" : p->churn_at > 0 ? "  churned" : "");
    }
    summary(b, r);
    return b->failed ? RILL_ENOMEM : 0;
}

static void json_time(struct rill_buf *b, const char *key, double t)
{
    if (t < 0)
        rill_buf_appendf(b, "\"%s\": null", key);
    else
        rill_buf_appendf(b, "\"%s\": %.3f", key, t);
}

int rill_lab_report_json(struct rill_buf *b, const struct rill_lab_result *r)
{
    const struct rill_lab_config *c = &r->config;
    rill_buf_appendf(b, "{\"engine\": \"%s\", \"mode\": \"%s\", \"arrival\": \"%s\", "
                        "\"peers\": %u, \"file_size\": %llu, \"piece_size\": %u, "
                        "\"seed_up\": %llu, ",
                     r->engine, rill_lab_mode_name(c->mode), rill_lab_arrival_name(c->arrival),
                     c->peers, (unsigned long long)c->file_size, c->piece_size,
                     (unsigned long long)c->seed_up);
    json_time(b, "distribution_time_s", r->distribution_s);
    rill_buf_appendf(b, ", \"bound_s\": %.3f, ", r->bound_s);
    json_time(b, "ratio", r->ratio);
    rill_buf_appendf(b, ", \"seed_uploaded\": %llu, \"wall_s\": %.3f, \"completions\": [",
                     (unsigned long long)r->seed_uploaded, r->wall_s);
    for (unsigned i = 0; i < c->peers; i++) {
        const struct rill_lab_peer *p = &r->peers[i];
        rill_buf_appendf(b, "%s\n  {\"peer\": %u, \"class\": %u, \"up\": %llu, \"down\": %llu, "
                            "\"free_rider\": %s, \"arrived_s\": %.3f, ",
                         i ? "," : "", p->index, p->cls, (unsigned long long)p->up,
                         (unsigned long long)p->down, p->free_rider ? "true" : "false",
                         p->arrive_s);
        json_time(b, "first_piece_s", p->first_piece_s);
        rill_buf_appendf(b, ", ");
        json_time(b, "seconds", p->done_s);
        rill_buf_appendf(b, ", \"uploaded\": %llu, \"downloaded\": %llu}",
                         (unsigned long long)p->uploaded, (unsigned long long)p->downloaded);
    }
    rill_buf_appendf(b, "]}\n");
    return b->failed ? RILL_ENOMEM : 0;
}

static void csv_time(struct rill_buf *b, double t)
{
    if (t >= 0)
        rill_buf_appendf(b, "%.3f", t);
}

int rill_lab_report_csv(struct rill_buf *b, const struct rill_lab_result *r)
{
    rill_buf_appendf(b, "peer,class,up,down,free_rider,arrived_s,first_piece_s,seconds,"
                        "uploaded,downloaded\n");
    for (unsigned i = 0; i < r->config.peers; i++) {
        const struct rill_lab_peer *p = &r->peers[i];
        rill_buf_appendf(b, "%u,%u,%llu,%llu,%d,%.3f,", p->index, p->cls,
                         (unsigned long long)p->up, (unsigned long long)p->down, p->free_rider,
                         p->arrive_s);
        csv_time(b, p->first_piece_s);
        rill_buf_appendf(b, ",");
        csv_time(b, p->done_s);
        rill_buf_appendf(b, ",%llu,%llu\n", (unsigned long long)p->uploaded,
                         (unsigned long long)p->downloaded);
    }
    return b->failed ? RILL_ENOMEM : 0;
}


int rill_lab_report_cdf_svg(struct rill_buf *b, const struct rill_lab_result *r)
{
    unsigned n = r->config.peers, k = 0;
    double *x = calloc(2 * (size_t)n + 2, sizeof *x), *y = calloc(2 * (size_t)n + 2, sizeof *y);
    double *t = calloc(n, sizeof *t);
    if (!x || !y || !t) {
        free(x);
        free(y);
        free(t);
        return RILL_ENOMEM;
    }
    for (unsigned i = 0; i < n; i++)
        if (r->peers[i].done_s >= 0)
            t[k++] = r->peers[i].done_s;
    qsort(t, k, sizeof *t, by_value);
    size_t m = 0; /* a staircase: up at each completion */
    x[m] = 0, y[m++] = 0;
    for (unsigned i = 0; i < k; i++) {
        x[m] = t[i], y[m++] = (double)i / n;
        x[m] = t[i], y[m++] = (double)(i + 1) / n;
    }
    double bx[2] = {r->bound_s, r->bound_s}, by[2] = {0, 1};
    struct rill_svg_series s[2] = {
        {.name = "leechers complete (measured)", .x = x, .y = y, .n = m, .color = "#1f77b4"},
        {.name = r->config.mode == RILL_LAB_CLIENT_SERVER ? "bound D_cs" : "bound D_p2p",
         .x = bx, .y = by, .n = 2, .color = "#d62728", .dashed = true},
    };
    char title[160];
    snprintf(title, sizeof title, "Completion times, %u leechers, %s (%s)", n,
             rill_lab_mode_name(r->config.mode), r->engine);
    struct rill_svg_chart c = {.title = title, .x_label = "seconds",
                               .y_label = "share of leechers complete", .series = s,
                               .nseries = 2, .y_max = 1};
    int rc = rill_svg_chart(b, &c);
    free(x);
    free(y);
    free(t);
    return rc;
}
