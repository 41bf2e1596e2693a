/* Values out of the flat JSON objects that rill's --json-log prints, one per
 * line (see json_scan.h). */
#include <string.h>

#include "json_scan.h"

/* The value after "key": in s[0, n), or NULL. Only keys at an object's top
 * level count: the match must follow '{' or ',' (spaces allowed), so a key
 * spelled inside a string value is not taken. */
static const char *value_of(const char *s, size_t n, const char *key)
{
    size_t klen = strlen(key);
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
            continue;
        }
        if (ch != '"')
            continue;
        size_t j = i;
        while (j > 0 && (s[j - 1] == ' ' || s[j - 1] == '\t'))
            j--;
        bool key_position = j > 0 && (s[j - 1] == '{' || s[j - 1] == ',');
        if (key_position && n - i > klen + 1 && memcmp(s + i + 1, key, klen) == 0 &&
            s[i + 1 + klen] == '"') {
            size_t k = i + klen + 2;
            while (k < n && (s[k] == ' ' || s[k] == '\t'))
                k++;
            if (k < n && s[k] == ':') {
                k++;
                while (k < n && (s[k] == ' ' || s[k] == '\t'))
                    k++;
                return k < n ? s + k : NULL;
            }
        }
        in_string = true;
    }
    return NULL;
}

bool rill_lab_json_u64(const char *s, size_t n, const char *key, uint64_t *out)
{
    const char *v = value_of(s, n, key);
    if (!v)
        return false;
    const char *end = s + n;
    uint64_t x = 0;
    const char *p = v;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    if (p == v)
        return false;
    *out = x;
    return true;
}

bool rill_lab_json_str(const char *s, size_t n, const char *key, char *out, size_t cap)
{
    const char *v = value_of(s, n, key);
    if (!v || *v != '"' || cap == 0)
        return false;
    const char *end = s + n;
    size_t len = 0;
    for (const char *p = v + 1; p < end; p++) {
        if (*p == '"') {
            out[len] = '\0';
            return true;
        }
        if (*p == '\\') /* the values read here never need escapes */
            return false;
        if (len + 1 >= cap)
            return false;
        out[len++] = *p;
    }
    return false;
}
