/* Fuzzes the swarm runner's reader of --json-log lines (lab/json_scan.c):
 * any bytes, any key; a value found must be a prefix-free read inside the
 * input, and a string must fit its buffer with its NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size copy: reading one byte past the input must be caught. */
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    static const char *const keys[] = {"event", "have", "uploaded", "state", "t_ms", ""};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        uint64_t v;
        (void)rill_lab_json_u64(line, size, keys[k], &v);
        char s[16];
        memset(s, 'x', sizeof s);
        if (rill_lab_json_str(line, size, keys[k], s, sizeof s) && !memchr(s, '\0', sizeof s))
            abort();
    }
    free(line);
    return 0;
}
