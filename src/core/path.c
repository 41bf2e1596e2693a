/* Path components from torrents: the one place that decides what may become
 * a file name on disk. Everything that could climb out of the download
 * directory is rejected; what is merely awkward is renamed. */
#include <string.h>

#include "util/util.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t min, cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static const char *reject_reason(const uint8_t *p, size_t n)
{
    if (n == 0)
        return "empty path component";
    if (n == 1 && p[0] == '.')
        return "path component '.'";
    if (n == 2 && p[0] == '.' && p[1] == '.')
        return "path component '..'";
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0)
            return "NUL byte in a path component";
        if (p[i] == '/')
            return "'/' inside a path component";
        if (p[i] == '\\')
            return "'\\' inside a path component";
    }
    return NULL;
}

/* Copies p into out replacing control characters and invalid UTF-8 by '_'.
 * Returns the output length and sets *changed. `out` has room for n bytes. */
static size_t clean_bytes(const uint8_t *p, size_t n, char *out, bool *changed)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(p + i, n - i);
        if (len == 0 || p[i] < 0x20 || p[i] == 0x7f) {
            out[w++] = '_';
            *changed = true;
            i++;
            continue;
        }
        memcpy(out + w, p + i, len);
        w += len;
        i += len;
    }
    return w;
}

/* Cuts a cleaned name of `n` bytes to fit RILL_MAX_NAME_BYTES: head, '~',
 * 8 hex digits of the original's SHA-1, then the extension if short. Never
 * splits a UTF-8 sequence. */
static size_t shorten(char *s, size_t n, const uint8_t *orig, size_t orig_len)
{
    uint8_t digest[RILL_SHA1_LEN];
    char tag[10] = "~";
    rill_sha1(orig, orig_len, digest);
    rill_hex(digest, 4, tag + 1);

    size_t ext = 0;
    for (size_t i = n; i > 0 && n - i < 16; i--) {
        if (s[i - 1] == '.') {
            ext = n - (i - 1); /* ".ext", at most 16 bytes */
            break;
        }
    }
    char ext_copy[16];
    memcpy(ext_copy, s + n - ext, ext);

    size_t head = RILL_MAX_NAME_BYTES - ext - 9;
    while (head > 0 && ((uint8_t)s[head] & 0xc0) == 0x80)
        head--; /* back up to the start of a sequence */
    memcpy(s + head, tag, 9);
    memcpy(s + head + 9, ext_copy, ext);
    return head + 9 + ext;
}

int rill_path_component(const uint8_t *p, size_t n, char *out, size_t cap, const char **why)
{
    const char *reason = reject_reason(p, n);
    if (reason) {
        if (why)
            *why = reason;
        return RILL_EPATH;
    }
    if (cap < RILL_MAX_NAME_BYTES + 1 && cap < n + 1) {
        if (why)
            *why = "output buffer too small";
        return RILL_EINVAL;
    }
    /* Clean into a scratch buffer as large as the input, then shorten. */
    char scratch[RILL_MAX_PATH_BYTES];
    char *tmp = n <= sizeof scratch ? scratch : NULL;
    if (!tmp) {
        if (why)
            *why = "path component longer than 4096 bytes";
        return RILL_EPATH;
    }
    bool changed = false;
    size_t w = clean_bytes(p, n, tmp, &changed);
    if (w > RILL_MAX_NAME_BYTES) {
        w = shorten(tmp, w, p, n);
        changed = true;
    }
    if (w + 1 > cap) {
        if (why)
            *why = "output buffer too small";
        return RILL_EINVAL;
    }
    memcpy(out, tmp, w);
    out[w] = 0;
    return changed ? 1 : 0;
}
