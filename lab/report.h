/* What `rill swarm` and `rill sim` print about a result: the same table,
 * JSON, CSV and charts for both engines, appended to a struct rill_buf so
 * the CLI decides where they go and tests read them. Each returns 0 or the
 * buffer's error (RILL_EINVAL from the chart for unplottable data). */
#ifndef RILL_LAB_REPORT_H
#define RILL_LAB_REPORT_H

#include "lab.h"

/* The experiment in one line ("16 leechers, 64.0 MiB in 256 KiB pieces, ..."). */
int rill_lab_report_setup(struct rill_buf *b, const struct rill_lab_config *c);
/* One row per peer, then D, the bound (and which term sets it), the ratio,
 * what the seed uploaded, and free-riders against contributors. */
int rill_lab_report_text(struct rill_buf *b, const struct rill_lab_result *r);
/* {"engine", "mode", "peers", "file_size", "piece_size", "seed_up",
 *  "distribution_time_s", "bound_s", "ratio", "seed_uploaded", "wall_s",
 *  "completions": [{"peer", "class", "up", "down", "free_rider", "arrived_s",
 *  "first_piece_s", "seconds", "uploaded", "downloaded"}, ...]}; times not
 * reached are null. */
int rill_lab_report_json(struct rill_buf *b, const struct rill_lab_result *r);
/* A header line, then one line per peer with the JSON completion fields. */
int rill_lab_report_csv(struct rill_buf *b, const struct rill_lab_result *r);
/* The share of leechers complete against time, with the bound drawn. */
int rill_lab_report_cdf_svg(struct rill_buf *b, const struct rill_lab_result *r);

/* A sweep over swarm sizes in both modes: D against N, with both bounds
 * drawn as lines and the measured points on them. */
struct rill_lab_sweep_point {
    unsigned peers;
    enum rill_lab_mode mode;
    double distribution_s, bound_s;  /* distribution_s < 0: not all completed */
};
int rill_lab_report_sweep_svg(struct rill_buf *b, const struct rill_lab_config *c,
                              const struct rill_lab_sweep_point *pts, size_t n);
int rill_lab_report_sweep_json(struct rill_buf *b, const struct rill_lab_config *c,
                               const struct rill_lab_sweep_point *pts, size_t n);

/* What the summary and the ablation report say about a run: mean download
 * times (completion minus arrival) of all, of contributors and of
 * free-riders, and the median time to a first piece; negative where no
 * leecher counts (or, for the median, when memory ran out). */
struct rill_lab_summary {
    double mean_all, mean_contributors, mean_free_riders, median_first_piece;
};
void rill_lab_summarize(const struct rill_lab_result *r, struct rill_lab_summary *s);

/* Short names used in every output. */
const char *rill_lab_mode_name(enum rill_lab_mode m);
const char *rill_lab_arrival_name(enum rill_lab_arrival a);

#endif
