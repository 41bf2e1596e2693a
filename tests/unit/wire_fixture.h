/* Fixtures shared by the peer-wire tests (test_wire.c for the messages,
 * test_wire_handshake.c for the handshakes and allowed fast): byte-array
 * literals, limits with every extension on, and parse-one/parse-error checks.
 * Header-only because tests/CMakeLists.txt builds each test_*.c with just
 * testutil.c beside it. Include after testutil.h. */
#ifndef RILL_TEST_WIRE_FIXTURE_H
#define RILL_TEST_WIRE_FIXTURE_H

#include "testutil.h"

#include <string.h>

#include "core/wire.h"

/* A byte-array literal: B(0, 0, 0, 1, 2). */
#define B(...) ((const uint8_t[]){__VA_ARGS__})

/* Limits with every extension negotiated, for 100 pieces. */
static const struct rill_wire_limits ALL = {.piece_count = 100, .fast = true, .extended = true};

/* Parses exactly one whole message from `p` and checks it used all bytes. */
static inline void parse_one(const struct rill_wire_limits *lim, const uint8_t *p, size_t n,
                             struct rill_wire_msg *m)
{
    size_t used = 99;
    assert_int_equal(rill_wire_parse(lim, p, n, m, &used), 0);
    assert_int_equal(used, n);
    assert_null(m->why);
}

/* Expects `code` from the parser with `p`, and that nothing was consumed. */
static inline void parse_err(const struct rill_wire_limits *lim, const uint8_t *p, size_t n,
                             int code)
{
    struct rill_wire_msg m;
    size_t used = 99;
    int rc = rill_wire_parse(lim, p, n, &m, &used);
    if (rc != code)
        fail_msg("expected %d, got %d (%s)", code, rc, m.why ? m.why : "-");
    assert_int_equal(used, 0);
    assert_non_null(m.why);
    assert_true(strlen(m.why) > 5);
}

#endif
