/* The swarm runner's preparations: the work directory, the generated file
 * and its torrent, a free loopback port, waiting for the tracker; and the
 * removal of it all afterwards. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "swarm_setup.h"
#include "util/rng.h"

int lab_workdir(char *out, size_t cap, const char *given)
{
    if (given) {
        if (mkdir(given, 0755) != 0 && errno != EEXIST)
            return RILL_EIO;
        return (size_t)snprintf(out, cap, "%s", given) < cap ? 0 : RILL_EINVAL;
    }
    const char *tmp = getenv("TMPDIR");
    if ((size_t)snprintf(out, cap, "%s/rill-swarm-XXXXXX", tmp && *tmp ? tmp : "/tmp") >= cap)
        return RILL_EINVAL;
    return mkdtemp(out) ? 0 : RILL_EIO;
}

/* F bytes of a seeded pseudo-random stream, so a run can be replayed. */
int lab_write_content(const char *path, uint64_t size, uint64_t seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return RILL_EIO;
    struct rill_rng rng;
    rill_rng_seed(&rng, seed ^ 0x5eed5eed5eedULL);
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    int rc = buf ? 0 : RILL_ENOMEM;
    for (uint64_t done = 0; rc == 0 && done < size;) {
        size_t n = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
        rill_rng_bytes(&rng, buf, n);
        ssize_t w = write(fd, buf, n);
        if (w <= 0)
            rc = RILL_EIO;
        else
            done += (uint64_t)w;
    }
    free(buf);
    if (close(fd) != 0 && rc == 0)
        rc = RILL_EIO;
    return rc;
}

int lab_write_torrent(const char *content, const char *torrent, uint32_t piece,
                      const char *tracker_url)
{
    const char *trackers[] = {tracker_url, NULL};
    struct rill_create_opts co = {.piece_length = piece, .threads = 1};
    struct rill_torrent_opts to = {.trackers = trackers, .no_date = true,
                                   .comment = "rill swarm"};
    struct rill_buf out;
    rill_buf_init(&out, 0);
    int rc = rill_create(content, &co, &to, &out, NULL);
    if (rc == 0) {
        FILE *f = fopen(torrent, "wbe");
        rc = f && fwrite(out.data, 1, out.len, f) == out.len ? 0 : RILL_EIO;
        if (f && fclose(f) != 0)
            rc = RILL_EIO;
    }
    rill_buf_free(&out);
    return rc;
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* The kernel picks a free port; it stays free in practice until the
 * tracker binds it a moment later. */
int lab_free_port(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return RILL_EIO;
    struct sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                     getsockname(fd, (struct sockaddr *)&a, &len) == 0
                 ? 0
                 : RILL_EIO;
    close(fd);
    *port = ntohs(a.sin_port);
    return rc;
}

int lab_wait_port(uint16_t port, unsigned timeout_ms)
{
    for (unsigned waited = 0; waited <= timeout_ms; waited += 10) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return RILL_EIO;
        struct sockaddr_in a = loopback(port);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return 0;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return RILL_EIO; /* nobody listens */
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void lab_remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
