/* Charts as SVG text, written by rill itself (no plotting dependency):
 * lines or points over linear axes with round ticks, a title, axis labels
 * and a legend. Used by `rill model` (the textbook figure) and by the lab's
 * swarm and simulator reports. */
#ifndef RILL_LAB_SVG_H
#define RILL_LAB_SVG_H

#include <stdbool.h>
#include <stddef.h>

#include "rill.h"

struct rill_svg_series {
    const char *name;        /* legend text */
    const double *x, *y;     /* n points */
    size_t n;
    const char *color;       /* e.g. "#1f77b4" */
    bool points;             /* markers instead of a line */
    bool dashed;
};

struct rill_svg_chart {
    const char *title, *x_label, *y_label;
    const struct rill_svg_series *series;
    size_t nseries;
    double x_max, y_max;     /* 0: from the data */
};

/* Appends a complete SVG document (640 x 420) to `out`. Returns 0 or the
 * buffer's error; RILL_EINVAL when a series has no points or values are not
 * finite and non-negative. */
int rill_svg_chart(struct rill_buf *out, const struct rill_svg_chart *c);

#endif
