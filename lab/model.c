/* The distribution-time bounds (see model.h). */
#include <math.h>

#include "model.h"

void rill_model_split(const struct rill_model *m, size_t n, size_t counts[RILL_MODEL_MAX_CLASSES])
{
    double total = 0, rem[RILL_MODEL_MAX_CLASSES];
    for (size_t c = 0; c < m->nclasses; c++)
        total += m->classes[c].share;
    size_t given = 0;
    for (size_t c = 0; c < m->nclasses; c++) {
        double exact = total > 0 ? (double)n * m->classes[c].share / total : 0;
        counts[c] = (size_t)floor(exact);
        rem[c] = exact - (double)counts[c];
        given += counts[c];
    }
    /* Largest remainders first; ties go to the earlier class. */
    while (given < n && m->nclasses > 0) {
        size_t best = 0;
        for (size_t c = 1; c < m->nclasses; c++)
            if (rem[c] > rem[best])
                best = c;
        counts[best]++;
        rem[best] = -1;
        given++;
    }
}

/* F / d_min over the classes that have peers (0 when every rate is unlimited). */
static double slowest_download(const struct rill_model *m, const size_t *counts)
{
    double worst = 0;
    for (size_t c = 0; c < m->nclasses; c++)
        if (counts[c] && m->classes[c].down > 0 && m->file_size / m->classes[c].down > worst)
            worst = m->file_size / m->classes[c].down;
    return worst;
}

double rill_model_client_server(const struct rill_model *m, size_t n)
{
    if (n == 0)
        return 0;
    size_t counts[RILL_MODEL_MAX_CLASSES];
    rill_model_split(m, n, counts);
    double server = (double)n * m->file_size / m->server_up;
    return fmax(server, slowest_download(m, counts));
}

double rill_model_p2p(const struct rill_model *m, size_t n)
{
    if (n == 0)
        return 0;
    size_t counts[RILL_MODEL_MAX_CLASSES];
    rill_model_split(m, n, counts);
    double sum_up = m->server_up;
    for (size_t c = 0; c < m->nclasses; c++)
        sum_up += (double)counts[c] * m->classes[c].up;
    double d = fmax(m->file_size / m->server_up, slowest_download(m, counts));
    return fmax(d, (double)n * m->file_size / sum_up);
}
