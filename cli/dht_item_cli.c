/* rill dht put / get: BEP 44 items from the command line. The value a user
 * types is a string (bencoded here as one) unless --bencoded; a mutable
 * item's key lives in a file of 64 hex digits, made on first use. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dht_cli.h"

#define KEY_HEX 64

/* Reads the seed from `path`, or makes a new key there if it is missing.
 * 0, or an exit status after a message. */
static int load_key(const char *path, uint8_t seed[32], bool quiet)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        char hex[KEY_HEX + 2];
        if (rill_dht_new_key(seed) != 0) {
            cli_error("dht: cannot make a key");
            return CLI_EXIT_IO;
        }
        rill_hex(seed, 32, hex);
        hex[KEY_HEX] = '\n';
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        bool ok = fd >= 0 && write(fd, hex, KEY_HEX + 1) == KEY_HEX + 1;
        if (fd >= 0 && close(fd) != 0)
            ok = false;
        memset(hex, 0, sizeof hex);
        if (!ok) {
            cli_error("dht: cannot write the new key to %s: %s", path, strerror(errno));
            return CLI_EXIT_IO;
        }
        if (!quiet)
            fprintf(stderr, "rill: made a new key in %s (keep it: it alone can update the item)\n",
                    path);
        return 0;
    }
    char buf[KEY_HEX + 3];
    ssize_t got = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    if (fd >= 0)
        close(fd);
    size_t len = got > 0 ? (size_t)got : 0;
    while (len > KEY_HEX && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    bool ok = len == KEY_HEX && rill_unhex(buf, KEY_HEX, seed, 32) == 0;
    memset(buf, 0, sizeof buf);
    if (!ok) {
        cli_error("dht: %s: %s", path,
                  got < 0 ? strerror(errno) : "not a key (64 hex digits of secret seed)");
        return got < 0 ? CLI_EXIT_IO : CLI_EXIT_INVALID;
    }
    return 0;
}

int cli_dht_put(struct rill_dht *d, const struct dht_args *a, rill_dht_item_cb cb, void *ctx)
{
    uint8_t v[RILL_DHT_ITEM_VALUE_MAX];
    size_t len = strlen(a->value), vlen;
    if (a->raw_value) {
        memcpy(v, a->value, len); /* checked against the limit by the parser */
        vlen = len;
    } else {
        int head = snprintf((char *)v, sizeof v, "%zu:", len);
        memcpy(v + head, a->value, len);
        vlen = (size_t)head + len;
    }
    int rc;
    if (a->key_path) {
        uint8_t seed[32];
        int st = load_key(a->key_path, seed, a->quiet);
        if (st != 0)
            return st;
        const char *salt = a->salt ? a->salt : "";
        rc = rill_dht_put_mutable(d, seed, (const uint8_t *)salt, strlen(salt),
                                  a->has_seq ? &a->seq : NULL, v, vlen, cb, ctx);
        memset(seed, 0, sizeof seed);
    } else {
        rc = rill_dht_put_immutable(d, v, vlen, cb, ctx);
    }
    if (rc == RILL_EINVAL) {
        cli_error("dht: the value is not one bencoded value of at most 1000 bytes");
        return CLI_EXIT_USAGE;
    }
    if (rc != 0) {
        cli_error("dht: %s", rill_strerror(rc));
        return CLI_EXIT_IO;
    }
    return 0;
}

int cli_dht_get(struct rill_dht *d, const struct dht_args *a, rill_dht_item_cb cb, void *ctx)
{
    const char *salt = a->salt ? a->salt : "";
    int rc = rill_dht_get_item(d, a->info_hash, (const uint8_t *)salt, strlen(salt), cb, ctx);
    if (rc != 0) {
        cli_error("dht: %s", rill_strerror(rc));
        return CLI_EXIT_IO;
    }
    return 0;
}

/* The string inside "LEN:bytes", or NULL when v is another kind of value. */
static const uint8_t *as_string(const uint8_t *v, size_t len, size_t *out_len)
{
    size_t n = 0, i = 0;
    while (i < len && v[i] >= '0' && v[i] <= '9' && i < 5)
        n = n * 10 + (size_t)(v[i++] - '0');
    if (i == 0 || i >= len || v[i] != ':' || i + 1 + n != len)
        return NULL;
    *out_len = n;
    return v + i + 1;
}

void cli_dht_print_item(const struct dht_args *a, const struct rill_dht_item_info *it)
{
    char target[41], k[65];
    rill_hex(it->target, 20, target);
    if (it->k)
        rill_hex(it->k, 32, k);
    size_t slen = 0;
    const uint8_t *s = as_string(it->v, it->v_len, &slen);
    bool put = strcmp(a->cmd, "put") == 0;
    if (a->json) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        cli_json_object(&j);
        cli_json_key(&j, "target");
        cli_json_cstr(&j, target);
        cli_json_key(&j, s ? "string" : "bencoded");
        cli_json_str(&j, s ? s : it->v, s ? slen : it->v_len);
        cli_json_key(&j, "mutable");
        cli_json_bool(&j, it->is_mutable);
        if (it->is_mutable) {
            cli_json_key(&j, "seq");
            cli_json_i64(&j, it->seq);
            cli_json_key(&j, "key");
            cli_json_cstr(&j, k);
        }
        if (put) {
            cli_json_key(&j, "stored");
            cli_json_u64(&j, it->stored);
        }
        cli_json_end(&j);
        cli_json_finish(&j);
    } else if (put) {
        puts(target);
    } else {
        cli_put_safe(stdout, (const char *)(s ? s : it->v), s ? slen : it->v_len);
        putchar('\n');
    }
    if (a->quiet)
        return;
    if (put && it->is_mutable)
        fprintf(stderr, "rill: stored on %u nodes, seq %" PRId64 " (get it with: rill dht get %s%s%s)\n",
                it->stored, it->seq, target, a->salt ? " --salt " : "", a->salt ? a->salt : "");
    else if (put)
        fprintf(stderr, "rill: stored on %u nodes\n", it->stored);
    else if (it->is_mutable)
        fprintf(stderr, "rill: seq %" PRId64 ", key %s\n", it->seq, k);
}
