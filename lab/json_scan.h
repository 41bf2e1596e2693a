/* The swarm runner reads its rill processes' --json-log lines: flat JSON
 * objects such as {"event": "progress", "t_ms": 999, "have": 921436160, ...}.
 * These two functions take one value by key from such a line (not
 * NUL-terminated: s[0, n)), without a JSON library: the lines are rill's
 * own, flat, and only numbers and plain strings are read. Anything else
 * (a missing key, a negative or overflowing number, an escaped string, a
 * value that does not fit) is "not there". */
#ifndef RILL_LAB_JSON_SCAN_H
#define RILL_LAB_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool rill_lab_json_u64(const char *s, size_t n, const char *key, uint64_t *out);
/* Copies a string value with its terminating NUL into out[cap]. */
bool rill_lab_json_str(const char *s, size_t n, const char *key, char *out, size_t cap);

#endif
