/* rill seed: upload a torrent's content from a directory until stopped. The
 * options and the loop are rill get's (cli/cmd_get.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char usage_text[] =
    "Usage: rill seed FILE.torrent DIR [OPTIONS]\n"
    "Seed a torrent whose content is in DIR (DIR/NAME, as 'rill get -o DIR'\n"
    "leaves it) until interrupted. The data is checked first, unless a valid\n"
    "resume file vouches for it; missing pieces are downloaded before seeding.\n"
    "\n"
    "      --ratio R           stop once R times the size was uploaded\n"
    "      --seed-time T       stop after T, e.g. 90m, 12h, 1h30m\n"
    "      --recheck           hash the data even if the resume file is valid\n"
    CLI_XFER_SHARED_HELP
    "Exit status: 0 stopped by a signal or a limit, 2 usage error, 3 invalid\n"
    "torrent, 4 I/O error (such as DIR missing, or a disk failure).\n";

/* The content must be there: seeding nothing is a mistake worth an error.
 * Returns the download directory (malloc'd) or NULL after a message, with
 * `status` set. */
static char *find_content(const char *dir, const struct rill_metainfo *mi, int *status)
{
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        cli_error("%s: %s", dir, strerror(errno));
        *status = CLI_EXIT_IO;
        return NULL;
    }
    char *root = cli_resolve_root(dir, mi->name);
    size_t n = root ? strlen(root) + strlen(mi->name) + 2 : 0;
    char *content = root ? malloc(n) : NULL;
    if (!content) {
        free(root);
        cli_error("out of memory");
        *status = CLI_EXIT_IO;
        return NULL;
    }
    snprintf(content, n, "%s/%s", root, mi->name);
    if (lstat(content, &sb) != 0) {
        fputs("rill: ", stderr);
        cli_put_safe_str(stderr, content);
        fprintf(stderr, ": %s (rill seed needs the content; 'rill get' downloads it)\n",
                strerror(errno));
        free(content);
        free(root);
        *status = CLI_EXIT_IO;
        return NULL;
    }
    free(content);
    return root;
}

int cli_cmd_seed(int argc, char **argv)
{
    struct cli_xfer_args a;
    int status = cli_xfer_parse(&a, argc, argv, true, usage_text);
    struct rill_metainfo mi = {0};
    char *root = NULL;
    if (status < 0)
        status = cli_xfer_load(&a, &mi);
    if (status < 0 && (root = find_content(a.dir, &mi, &status)) != NULL) {
        a.dir = root;
        status = cli_xfer_run(&a, &mi);
    }
    free(root);
    rill_metainfo_free(&mi);
    cli_xfer_free(&a);
    return status;
}
