/* Error messages and exit statuses shared by every command. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("rill: ", stderr);
    vfprintf(stderr, fmt, ap);
    putc('\n', stderr);
    va_end(ap);
}

void cli_vlog(const char *fmt, va_list ap)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
    fprintf(stderr, "[%s] ", stamp);
    vfprintf(stderr, fmt, ap);
    putc('\n', stderr);
}

void cli_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vlog(fmt, ap);
    va_end(ap);
}

int cli_bad_value(const char *cmd, const char *opt, const char *val, const char *why)
{
    cli_error("%s: invalid %s '%s': %s", cmd, opt, val, why);
    return cli_usage_hint(cmd);
}

int cli_usage_hint(const char *cmd)
{
    if (cmd)
        fprintf(stderr, "Try 'rill %s --help'.\n", cmd);
    else
        fputs("Try 'rill --help'.\n", stderr);
    return CLI_EXIT_USAGE;
}

int cli_exit_for(int err)
{
    switch (err) {
    case RILL_OK: return CLI_EXIT_OK;
    case RILL_ENOMEM:
    case RILL_EIO:
    case RILL_ENOENT:
    case RILL_ERESUME: return CLI_EXIT_IO;
    case RILL_EINVAL: return CLI_EXIT_USAGE;
    default: return CLI_EXIT_INVALID;
    }
}

/* Errors about the content of an input, where a byte offset helps. */
static bool is_parse_error(int code)
{
    switch (code) {
    case RILL_ETRUNCATED:
    case RILL_ESYNTAX:
    case RILL_ELIMIT:
    case RILL_EKEYORDER:
    case RILL_ETRAILING:
    case RILL_EINTEGER:
    case RILL_EMETAINFO:
    case RILL_EPATH:
    case RILL_EMAGNET: return true;
    default: return false;
    }
}

int cli_report(const char *what, int code, const struct rill_error *err)
{
    const char *msg = err && err->msg[0] ? err->msg : NULL;
    if (code == RILL_ENOENT && what)
        msg = NULL; /* "WHAT: no such file" says it all */
    fputs("rill: ", stderr);
    /* Library messages about files often name the file already. */
    if (what && !(msg && strstr(msg, what)))
        fprintf(stderr, "%s: ", what);
    if (is_parse_error(code) && err && err->code == code) {
        fprintf(stderr, "%s at byte %zu", rill_strerror(code), err->offset);
        if (msg)
            fprintf(stderr, ": %s", msg);
    } else {
        fputs(msg ? msg : rill_strerror(code), stderr);
    }
    putc('\n', stderr);
    return cli_exit_for(code);
}

int cli_finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno ? errno : EIO));
        return status ? status : CLI_EXIT_IO;
    }
    return status;
}

/* Fields line up after the longest label, "creation date:". */
#define FIELD_WIDTH 15

void cli_field(const char *key)
{
    size_t n = strlen(key);
    printf("%s:", key);
    for (size_t i = n + 1; i < FIELD_WIDTH; i++)
        putchar(' ');
    putchar(' ');
}

void cli_field_str(const char *key, const char *value)
{
    cli_field(key);
    cli_put_safe_str(stdout, value);
    putchar('\n');
}

void cli_field_fmt(const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_field(key);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}
