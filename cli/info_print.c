/* The text and JSON reports of `rill info`. Every string from a torrent or
 * magnet is untrusted: text goes through cli_put_safe, JSON through the
 * escaping writer. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "info_print.h"

static size_t padding_count(const struct rill_metainfo *mi)
{
    size_t n = 0;
    for (size_t i = 0; i < mi->file_count; i++)
        n += (mi->files[i].attr & RILL_ATTR_PAD) != 0;
    return n;
}

/* BEP 47 attribute letters, in a fixed order. */
static void attr_letters(uint32_t attr, char out[5])
{
    size_t n = 0;
    if (attr & RILL_ATTR_PAD)
        out[n++] = 'p';
    if (attr & RILL_ATTR_EXEC)
        out[n++] = 'x';
    if (attr & RILL_ATTR_HIDDEN)
        out[n++] = 'h';
    if (attr & RILL_ATTR_SYMLINK)
        out[n++] = 'l';
    out[n] = '\0';
}

/* ------------------------------------------------------------ text */

/* How many leading directory components two '/'-joined paths share. */
static size_t shared_dirs(const char *a, const char *b)
{
    size_t n = 0;
    for (;;) {
        const char *sa = strchr(a, '/'), *sb = strchr(b, '/');
        if (!sa || !sb || sa - a != sb - b || memcmp(a, b, (size_t)(sa - a)) != 0)
            return n;
        n++;
        a = sa + 1;
        b = sb + 1;
    }
}

static void tree_line(const char *size, size_t level, const char *s, size_t n)
{
    printf("  %10s  ", size);
    for (size_t i = 0; i < level; i++)
        fputs("  ", stdout);
    cli_put_safe(stdout, s, n);
}

/* One file of the tree: the directories not shown yet, then the file. */
static void tree_file(const struct rill_file *f, const char *prev, size_t base_level)
{
    size_t shared = prev ? shared_dirs(prev, f->path) : 0;
    const char *p = f->path, *slash;
    size_t level = 0;
    while ((slash = strchr(p, '/')) != NULL) {
        if (level >= shared) {
            tree_line("", base_level + level, p, (size_t)(slash - p));
            puts("/");
        }
        level++;
        p = slash + 1;
    }
    char size[CLI_SIZE_BUF];
    tree_line(cli_fmt_size(f->length, size), base_level + level, p, strlen(p));
    if (f->attr & RILL_ATTR_EXEC)
        fputs("  [executable]", stdout);
    if (f->attr & RILL_ATTR_SYMLINK) {
        fputs("  -> ", stdout);
        cli_put_safe_str(stdout, f->symlink ? f->symlink : "?");
    }
    putchar('\n');
}

static void print_files(const struct rill_metainfo *mi)
{
    size_t pads = padding_count(mi);
    cli_field("files");
    printf("%zu", mi->file_count - pads);
    if (pads)
        printf(" (%zu padding file%s)", pads, pads == 1 ? "" : "s");
    putchar('\n');
    if (!mi->multi_file) {
        for (size_t i = 0; i < mi->file_count; i++)
            if (!(mi->files[i].attr & RILL_ATTR_PAD))
                tree_file(&mi->files[i], NULL, 0);
        return;
    }
    tree_line("", 0, mi->name, strlen(mi->name));
    puts("/");
    const char *prev = NULL;
    for (size_t i = 0; i < mi->file_count; i++) {
        if (mi->files[i].attr & RILL_ATTR_PAD)
            continue;
        tree_file(&mi->files[i], prev, 1);
        prev = mi->files[i].path;
    }
}

static void print_trackers(const struct rill_metainfo *mi)
{
    if (mi->tier_count == 0) {
        cli_field_str("trackers", "none");
        return;
    }
    puts("trackers:");
    for (size_t t = 0; t < mi->tier_count; t++) {
        for (size_t u = 0; u < mi->tiers[t].count; u++) {
            if (u == 0)
                printf("  tier %-3zu  ", t + 1);
            else
                printf("            ");
            cli_put_safe_str(stdout, mi->tiers[t].urls[u]);
            putchar('\n');
        }
    }
}

static void print_list(const char *key, char *const *items, size_t n)
{
    if (n == 0) {
        cli_field_str(key, "none");
        return;
    }
    printf("%s:\n", key);
    for (size_t i = 0; i < n; i++) {
        fputs("  ", stdout);
        cli_put_safe_str(stdout, items[i]);
        putchar('\n');
    }
}

static void print_notes(const struct rill_metainfo *mi)
{
    if (mi->hybrid)
        cli_field_str("note", "hybrid v1+v2 torrent; rill uses its v1 part");
    if (mi->renamed)
        cli_field_fmt("note", "%" PRIu32 " path component%s renamed for safety", mi->renamed,
                      mi->renamed == 1 ? " was" : "s were");
}

void cli_info_torrent_text(const struct rill_metainfo *mi, const char *magnet)
{
    char hex[2 * RILL_SHA1_LEN + 1], a[CLI_SIZE_BUF], b[CLI_SIZE_BUF];
    rill_hex(mi->info_hash, RILL_SHA1_LEN, hex);
    cli_field_str("name", mi->name);
    cli_field_fmt("info hash", "%s", hex);
    cli_field_fmt("total size", "%s (%" PRIu64 " bytes)", cli_fmt_size(mi->total_size, a),
                  mi->total_size);
    cli_field_fmt("pieces", "%" PRIu32 " x %s (%" PRIu32 " bytes)", mi->piece_count,
                  cli_fmt_size(mi->piece_length, b), mi->piece_length);
    cli_field_str("private", mi->is_private ? "yes" : "no");
    if (mi->created_by)
        cli_field_str("created by", mi->created_by);
    if (mi->creation_date)
        cli_field_str("creation date", cli_fmt_date(mi->creation_date, a));
    if (mi->comment)
        cli_field_str("comment", mi->comment);
    if (mi->source)
        cli_field_str("source", mi->source);
    print_notes(mi);
    cli_field_str("magnet", magnet);
    print_trackers(mi);
    print_list("web seeds", mi->web_seeds, mi->web_seed_count);
    print_files(mi);
}

void cli_info_magnet_text(const struct rill_magnet *m, const char *magnet)
{
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(m->info_hash, RILL_SHA1_LEN, hex);
    cli_field_str("type", "magnet link");
    cli_field_str("name", m->name ? m->name : "(not given)");
    cli_field_fmt("info hash", "%s", hex);
    cli_field_str("magnet", magnet);
    print_list("trackers", m->trackers, m->tracker_count);
    print_list("web seeds", m->web_seeds, m->web_seed_count);
    print_list("peers", m->peers, m->peer_count);
    cli_field_str("note", "a magnet link holds no sizes or file list; "
                          "rill get fetches them from peers");
}

/* ------------------------------------------------------------ JSON */

static void json_str_list(struct cli_json *j, const char *key, char *const *items, size_t n)
{
    cli_json_key(j, key);
    cli_json_array(j);
    for (size_t i = 0; i < n; i++)
        cli_json_cstr(j, items[i]);
    cli_json_end(j);
}

static void json_file(struct cli_json *j, const struct rill_file *f)
{
    char attr[5];
    attr_letters(f->attr, attr);
    cli_json_object_compact(j);
    cli_json_key(j, "path");
    cli_json_cstr(j, f->path);
    cli_json_key(j, "length");
    cli_json_u64(j, f->length);
    cli_json_key(j, "offset");
    cli_json_u64(j, f->offset);
    cli_json_key(j, "attr");
    cli_json_cstr(j, attr);
    if (f->mtime) {
        cli_json_key(j, "mtime");
        cli_json_i64(j, f->mtime);
    }
    if (f->symlink) {
        cli_json_key(j, "symlink");
        cli_json_cstr(j, f->symlink);
    }
    cli_json_end(j);
}

static void json_files_and_trackers(struct cli_json *j, const struct rill_metainfo *mi)
{
    cli_json_key(j, "files");
    cli_json_array(j);
    for (size_t i = 0; i < mi->file_count; i++)
        json_file(j, &mi->files[i]);
    cli_json_end(j);
    cli_json_key(j, "trackers");
    cli_json_array(j);
    for (size_t t = 0; t < mi->tier_count; t++) {
        cli_json_array_compact(j);
        for (size_t u = 0; u < mi->tiers[t].count; u++)
            cli_json_cstr(j, mi->tiers[t].urls[u]);
        cli_json_end(j);
    }
    cli_json_end(j);
    json_str_list(j, "web_seeds", mi->web_seeds, mi->web_seed_count);
}

void cli_info_torrent_json(const struct rill_metainfo *mi, const char *magnet)
{
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(mi->info_hash, RILL_SHA1_LEN, hex);
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_object(&j);
    cli_json_key(&j, "type");
    cli_json_cstr(&j, "torrent");
    cli_json_key(&j, "name");
    cli_json_cstr(&j, mi->name);
    cli_json_key(&j, "info_hash");
    cli_json_cstr(&j, hex);
    cli_json_key(&j, "total_size");
    cli_json_u64(&j, mi->total_size);
    cli_json_key(&j, "piece_length");
    cli_json_u64(&j, mi->piece_length);
    cli_json_key(&j, "pieces");
    cli_json_u64(&j, mi->piece_count);
    cli_json_key(&j, "multi_file");
    cli_json_bool(&j, mi->multi_file);
    cli_json_key(&j, "padding_files");
    cli_json_u64(&j, padding_count(mi));
    json_files_and_trackers(&j, mi);
    cli_json_key(&j, "private");
    cli_json_bool(&j, mi->is_private);
    cli_json_key(&j, "hybrid");
    cli_json_bool(&j, mi->hybrid);
    cli_json_key(&j, "creation_date");
    if (mi->creation_date)
        cli_json_i64(&j, mi->creation_date);
    else
        cli_json_null(&j);
    cli_json_key(&j, "comment");
    cli_json_cstr(&j, mi->comment);
    cli_json_key(&j, "created_by");
    cli_json_cstr(&j, mi->created_by);
    cli_json_key(&j, "source");
    cli_json_cstr(&j, mi->source);
    cli_json_key(&j, "renamed");
    cli_json_u64(&j, mi->renamed);
    cli_json_key(&j, "magnet");
    cli_json_cstr(&j, magnet);
    cli_json_end(&j);
    cli_json_finish(&j);
}

void cli_info_magnet_json(const struct rill_magnet *m, const char *magnet)
{
    char hex[2 * RILL_SHA1_LEN + 1];
    rill_hex(m->info_hash, RILL_SHA1_LEN, hex);
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_object(&j);
    cli_json_key(&j, "type");
    cli_json_cstr(&j, "magnet");
    cli_json_key(&j, "name");
    cli_json_cstr(&j, m->name);
    cli_json_key(&j, "info_hash");
    cli_json_cstr(&j, hex);
    json_str_list(&j, "trackers", m->trackers, m->tracker_count);
    json_str_list(&j, "web_seeds", m->web_seeds, m->web_seed_count);
    json_str_list(&j, "peers", m->peers, m->peer_count);
    cli_json_key(&j, "magnet");
    cli_json_cstr(&j, magnet);
    cli_json_end(&j);
    cli_json_finish(&j);
}
