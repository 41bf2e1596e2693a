/* SVG charts (see svg.h). */
#include <math.h>
#include <string.h>

#include "svg.h"

#define W 640.0
#define H 420.0
#define LEFT 70.0
#define RIGHT 20.0
#define TOP 40.0
#define BOTTOM 55.0

/* Text with the five XML specials escaped. */
static void put_text(struct rill_buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': rill_buf_appendf(out, "&amp;"); break;
        case '<': rill_buf_appendf(out, "&lt;"); break;
        case '>': rill_buf_appendf(out, "&gt;"); break;
        case '"': rill_buf_appendf(out, "&quot;"); break;
        case '\'': rill_buf_appendf(out, "&apos;"); break;
        default: rill_buf_append(out, s, 1);
        }
    }
}

/* A round tick step (1, 2 or 5 times a power of ten) giving about 5-8 ticks. */
static double tick_step(double max)
{
    double raw = max / 6.0, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static int data_max(const struct rill_svg_chart *c, double *xm, double *ym)
{
    *xm = c->x_max;
    *ym = c->y_max;
    for (size_t s = 0; s < c->nseries; s++) {
        const struct rill_svg_series *r = &c->series[s];
        if (r->n == 0)
            return RILL_EINVAL;
        for (size_t i = 0; i < r->n; i++) {
            if (!isfinite(r->x[i]) || !isfinite(r->y[i]) || r->x[i] < 0 || r->y[i] < 0)
                return RILL_EINVAL;
            if (c->x_max <= 0 && r->x[i] > *xm)
                *xm = r->x[i];
            if (c->y_max <= 0 && r->y[i] > *ym)
                *ym = r->y[i];
        }
    }
    if (*xm <= 0)
        *xm = 1;
    if (*ym <= 0)
        *ym = 1;
    *ym = ceil(*ym / tick_step(*ym)) * tick_step(*ym); /* the top is a tick */
    return 0;
}

static void axes(struct rill_buf *out, const struct rill_svg_chart *c, double xm, double ym)
{
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
    rill_buf_appendf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' "
                          "stroke='#444'/>\n", LEFT, TOP, pw, ph);
    double xs = tick_step(xm), ys = tick_step(ym);
    for (double v = 0; v <= xm + xs / 1000; v += xs) {
        double x = LEFT + v / xm * pw;
        rill_buf_appendf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
                              "<text x='%.1f' y='%.1f' text-anchor='middle'>%g</text>\n",
                         x, TOP, x, TOP + ph, x, TOP + ph + 18, v);
    }
    for (double v = 0; v <= ym + ys / 1000; v += ys) {
        double y = TOP + ph - v / ym * ph;
        rill_buf_appendf(out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>"
                              "<text x='%.1f' y='%.1f' text-anchor='end'>%g</text>\n",
                         LEFT, y, LEFT + pw, y, LEFT - 6, y + 4, v);
    }
    rill_buf_appendf(out, "<text x='%.1f' y='22' text-anchor='middle' font-size='16'>", W / 2);
    put_text(out, c->title);
    rill_buf_appendf(out, "</text>\n<text x='%.1f' y='%.1f' text-anchor='middle'>",
                     LEFT + pw / 2, H - 14);
    put_text(out, c->x_label);
    rill_buf_appendf(out, "</text>\n<text x='18' y='%.1f' text-anchor='middle' "
                          "transform='rotate(-90 18 %.1f)'>", TOP + ph / 2, TOP + ph / 2);
    put_text(out, c->y_label);
    rill_buf_appendf(out, "</text>\n");
}

static void series(struct rill_buf *out, const struct rill_svg_series *r, size_t k, double xm,
                   double ym)
{
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
    const char *color = r->color ? r->color : "#333";
    if (r->points) {
        for (size_t i = 0; i < r->n; i++)
            rill_buf_appendf(out, "<circle cx='%.1f' cy='%.1f' r='3.5' fill='%s'/>\n",
                             LEFT + r->x[i] / xm * pw, TOP + ph - r->y[i] / ym * ph, color);
    } else {
        rill_buf_appendf(out, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='",
                         color, r->dashed ? " stroke-dasharray='6 4'" : "");
        for (size_t i = 0; i < r->n; i++)
            rill_buf_appendf(out, "%s%.1f,%.1f", i ? " " : "", LEFT + r->x[i] / xm * pw,
                             TOP + ph - fmin(r->y[i] / ym, 1.0) * ph);
        rill_buf_appendf(out, "'/>\n");
    }
    double ly = TOP + 16 + 18 * (double)k;
    rill_buf_appendf(out, "<rect x='%.1f' y='%.1f' width='14' height='4' fill='%s'/>"
                          "<text x='%.1f' y='%.1f'>", LEFT + 12, ly - 6, color, LEFT + 32, ly);
    put_text(out, r->name);
    rill_buf_appendf(out, "</text>\n");
}

int rill_svg_chart(struct rill_buf *out, const struct rill_svg_chart *c)
{
    double xm, ym;
    int rc = data_max(c, &xm, &ym);
    if (rc)
        return rc;
    rill_buf_appendf(out, "<?xml version='1.0' encoding='UTF-8'?>\n"
                          "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
                          "font-family='sans-serif' font-size='12'>\n"
                          "<rect width='100%%' height='100%%' fill='white'/>\n", W, H);
    axes(out, c, xm, ym);
    for (size_t s = 0; s < c->nseries; s++)
        series(out, &c->series[s], s, xm, ym);
    rill_buf_appendf(out, "</svg>\n");
    return out->failed ? RILL_ENOMEM : 0;
}
