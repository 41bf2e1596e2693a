/* Peer classes from a compact spec, shared by the lab commands:
 *   "20%:up=8M,down=32M;80%:up=1M,down=8M"
 * Each class is SHARE (a percentage or a plain weight) and its rates; a
 * missing down means unlimited, a missing up means 0 (a free-rider). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int parse_rate_kv(char *kv, struct rill_model_class *c, const char **why)
{
    char *eq = strchr(kv, '=');
    if (!eq) {
        *why = "expected up=RATE or down=RATE";
        return -1;
    }
    *eq = 0;
    uint64_t v;
    if (cli_parse_size(eq + 1, &v, why) != 0)
        return -1;
    if (strcmp(kv, "up") == 0) {
        c->up = (double)v;
    } else if (strcmp(kv, "down") == 0) {
        c->down = (double)v;
    } else {
        *why = "a class has only up= and down=";
        return -1;
    }
    return 0;
}

static int parse_class(char *text, struct rill_model_class *c, const char **why)
{
    char *colon = strchr(text, ':');
    if (!colon) {
        *why = "expected SHARE:up=RATE,down=RATE";
        return -1;
    }
    *colon = 0;
    errno = 0;
    char *end;
    double share = strtod(text, &end);
    if (errno || end == text || (*end && strcmp(end, "%") != 0) || !(share > 0) ||
        share > 1e6) {
        *why = "a share is a positive number, such as 20% or 3";
        return -1;
    }
    *c = (struct rill_model_class){.share = share};
    for (char *kv = colon + 1, *next; kv && *kv; kv = next) {
        next = strchr(kv, ',');
        if (next)
            *next++ = 0;
        if (parse_rate_kv(kv, c, why) != 0)
            return -1;
    }
    return 0;
}

int cli_parse_classes(const char *spec, struct rill_model *m, const char **why)
{
    char buf[1024];
    size_t n = strlen(spec);
    if (n == 0 || n >= sizeof buf) {
        *why = n ? "too long" : "empty";
        return -1;
    }
    memcpy(buf, spec, n + 1);
    m->nclasses = 0;
    for (char *cls = buf, *next; cls && *cls; cls = next) {
        next = strchr(cls, ';');
        if (next)
            *next++ = 0;
        if (m->nclasses == RILL_MODEL_MAX_CLASSES) {
            *why = "at most 16 classes";
            return -1;
        }
        if (parse_class(cls, &m->classes[m->nclasses], why) != 0)
            return -1;
        m->nclasses++;
    }
    if (m->nclasses == 0) {
        *why = "no class";
        return -1;
    }
    return 0;
}
