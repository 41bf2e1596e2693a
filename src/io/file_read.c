/* Reading small whole files (torrents, resume data) with a size cap. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file_read.h"
#include "util/util.h"

int rill__read_file(const char *path, size_t max, uint8_t **out, size_t *len,
                    struct rill_error *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return rill__fail(err, errno == ENOENT ? RILL_ENOENT : RILL_EIO, 0,
                          "cannot open %s", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return rill__fail(err, RILL_EIO, 0, "%s is not a regular file", path);
    }
    if ((uint64_t)sb.st_size > max) {
        close(fd);
        return rill__fail(err, RILL_ELIMIT, 0, "%s is larger than %zu bytes", path, max);
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *p = malloc(size ? size : 1);
    if (!p) {
        close(fd);
        return rill__fail(err, RILL_ENOMEM, 0, "out of memory reading %s", path);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, p + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != size) {
        free(p);
        return rill__fail(err, RILL_EIO, 0, "short read from %s", path);
    }
    *out = p;
    *len = size;
    return 0;
}
