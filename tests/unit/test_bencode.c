/* bencode decoder and canonical encoder. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int decode_str(struct rill_bdoc *doc, const char *s, struct rill_error *err)
{
    return rill_bdecode(doc, (const uint8_t *)s, strlen(s), NULL, err);
}

/* Expects `input` to fail with `code` at byte `offset`. */
static void expect_error(const char *input, int code, size_t offset)
{
    struct rill_bdoc doc;
    struct rill_error err = {0};
    int rc = decode_str(&doc, input, &err);
    if (rc != code || err.offset != offset)
        fail_msg("'%s': got %d at %zu (%s), want %d at %zu", input, rc, err.offset, err.msg,
                 code, offset);
    assert_int_equal(err.code, code);
    assert_true(strlen(err.msg) > 0);
    assert_null(doc.nodes);
    assert_int_equal(doc.count, 0);
}

static void test_scalars(void **state)
{
    (void)state;
    struct rill_bdoc doc;
    assert_int_equal(decode_str(&doc, "i42e", NULL), 0);
    assert_int_equal(rill_bdoc_root(&doc)->type, RILL_BINT);
    assert_int_equal(rill_bdoc_root(&doc)->i, 42);
    rill_bdoc_free(&doc);

    assert_int_equal(decode_str(&doc, "i-9223372036854775808e", NULL), 0);
    assert_true(rill_bdoc_root(&doc)->i == INT64_MIN);
    rill_bdoc_free(&doc);
    assert_int_equal(decode_str(&doc, "i9223372036854775807e", NULL), 0);
    assert_true(rill_bdoc_root(&doc)->i == INT64_MAX);
    rill_bdoc_free(&doc);
    assert_int_equal(decode_str(&doc, "i0e", NULL), 0);
    rill_bdoc_free(&doc);

    const char *input = "4:spam";
    assert_int_equal(decode_str(&doc, input, NULL), 0);
    const struct rill_bnode *n = rill_bdoc_root(&doc);
    assert_int_equal(n->type, RILL_BSTR);
    assert_int_equal(n->slen, 4);
    assert_ptr_equal(n->s, input + 2); /* zero-copy: points into the input */
    assert_true(rill_bstr_eq(n, "spam"));
    rill_bdoc_free(&doc);

    assert_int_equal(decode_str(&doc, "0:", NULL), 0);
    assert_int_equal(rill_bdoc_root(&doc)->slen, 0);
    rill_bdoc_free(&doc);
}

static void test_containers(void **state)
{
    (void)state;
    struct rill_bdoc doc;
    const char *input = "d1:ai1e1:bl3:xyzi-5ed1:ci2eee1:d0:e";
    assert_int_equal(decode_str(&doc, input, NULL), 0);
    const struct rill_bnode *root = rill_bdoc_root(&doc);
    assert_int_equal(root->type, RILL_BDICT);
    assert_int_equal(root->count, 3);
    assert_int_equal(root->start, 0);
    assert_int_equal(root->end, strlen(input));
    assert_int_equal(rill_bdict_get(&doc, root, "a")->i, 1);
    const struct rill_bnode *b = rill_bdict_get(&doc, root, "b");
    assert_int_equal(b->type, RILL_BLIST);
    assert_int_equal(b->count, 3);
    const struct rill_bnode *x = rill_bnode_first(&doc, b);
    assert_true(rill_bstr_eq(x, "xyz"));
    x = rill_bnode_next(&doc, b, x);
    assert_int_equal(x->i, -5);
    x = rill_bnode_next(&doc, b, x);
    assert_int_equal(x->type, RILL_BDICT);
    assert_int_equal(rill_bdict_get(&doc, x, "c")->i, 2);
    assert_null(rill_bnode_next(&doc, b, x));
    /* The raw span of a nested value is exact (used for the info-hash). */
    assert_memory_equal(input + b->start, "l3:xyzi-5ed1:ci2eee", b->end - b->start);
    assert_true(rill_bstr_eq(rill_bdict_get(&doc, root, "d"), ""));
    assert_null(rill_bdict_get(&doc, root, "zz"));
    assert_null(rill_bdict_get(&doc, b, "a")); /* not a dict */
    rill_bdoc_free(&doc);

    assert_int_equal(decode_str(&doc, "le", NULL), 0);
    assert_null(rill_bnode_first(&doc, rill_bdoc_root(&doc)));
    rill_bdoc_free(&doc);
    assert_int_equal(decode_str(&doc, "de", NULL), 0);
    rill_bdoc_free(&doc);
}

static void test_rejects(void **state)
{
    (void)state;
    expect_error("", RILL_ETRUNCATED, 0);
    expect_error("i03e", RILL_EINTEGER, 1);
    expect_error("i-0e", RILL_EINTEGER, 0);
    expect_error("i-03e", RILL_EINTEGER, 2);
    expect_error("ie", RILL_ESYNTAX, 1);
    expect_error("i-e", RILL_ESYNTAX, 2);
    expect_error("i1x", RILL_ESYNTAX, 2);
    expect_error("i12", RILL_ETRUNCATED, 3);
    expect_error("i9223372036854775808e", RILL_EINTEGER, 1);
    expect_error("i-9223372036854775809e", RILL_EINTEGER, 2);
    expect_error("i99999999999999999999999e", RILL_EINTEGER, 1);
    expect_error("03:abc", RILL_EINTEGER, 0);
    expect_error("5:abc", RILL_ETRUNCATED, 0);
    expect_error("1000000000:abc", RILL_ETRUNCATED, 0);
    expect_error("4spam", RILL_ESYNTAX, 1);
    expect_error("i1ei2e", RILL_ETRAILING, 3);
    expect_error("4:spamx", RILL_ETRAILING, 6);
    expect_error("l", RILL_ETRUNCATED, 1);
    expect_error("li1e", RILL_ETRUNCATED, 4);
    expect_error("d1:a", RILL_ETRUNCATED, 4);
    expect_error("d1:ae", RILL_ESYNTAX, 4);
    expect_error("di1ei2ee", RILL_ESYNTAX, 1);
    expect_error("dl1:ae1:be", RILL_ESYNTAX, 1);
    expect_error("d1:bi1e1:ai2ee", RILL_EKEYORDER, 7);
    expect_error("d1:ai1e1:ai2ee", RILL_EKEYORDER, 7);
    expect_error("d2:abi1e1:ai2ee", RILL_EKEYORDER, 8);
    expect_error("e", RILL_ESYNTAX, 0);
    expect_error("x", RILL_ESYNTAX, 0);
    expect_error("-1:a", RILL_ESYNTAX, 0);
}

static void test_key_order_is_bytewise(void **state)
{
    (void)state;
    struct rill_bdoc doc;
    /* Lenient mode takes unsorted keys; lookups find the first of a repeat. */
    struct rill_blimits lenient = {.allow_unsorted = true};
    const char *unsorted = "d1:bi1e1:ai2e1:bi3ee";
    assert_int_equal(rill_bdecode(&doc, (const uint8_t *)unsorted, strlen(unsorted), &lenient,
                                  NULL), 0);
    assert_int_equal(rill_bdict_get(&doc, rill_bdoc_root(&doc), "a")->i, 2);
    assert_int_equal(rill_bdict_get(&doc, rill_bdoc_root(&doc), "b")->i, 1);
    rill_bdoc_free(&doc);
    assert_int_equal(decode_str(&doc, unsorted, NULL), RILL_EKEYORDER);
    /* "a" < "ab" < "b"; uppercase sorts before lowercase; 0xff last. */
    assert_int_equal(decode_str(&doc, "d1:Ai0e1:ai1e2:abi2e1:bi3e1:\xffi4ee", NULL), 0);
    rill_bdoc_free(&doc);
}

static void test_limits(void **state)
{
    (void)state;
    /* 10,000-deep nesting is refused cleanly at the depth limit. */
    size_t n = 10000;
    char *deep = malloc(2 * n + 1);
    memset(deep, 'l', n);
    memset(deep + n, 'e', n);
    deep[2 * n] = 0;
    struct rill_bdoc doc;
    struct rill_error err;
    assert_int_equal(decode_str(&doc, deep, &err), RILL_ELIMIT);
    assert_int_equal(err.offset, 64);
    struct rill_blimits lim = {.max_depth = 20000};
    /* Even when asked for more, depth is capped well below stack trouble. */
    assert_int_equal(rill_bdecode(&doc, (uint8_t *)deep, 2 * n, &lim, &err), RILL_ELIMIT);
    lim.max_depth = 8;
    assert_int_equal(rill_bdecode(&doc, (uint8_t *)"lllllllllee", 11, &lim, &err), RILL_ELIMIT);
    assert_int_equal(rill_bdecode(&doc, (uint8_t *)"lllllllleeeeeeee", 16, &lim, &err), 0);
    rill_bdoc_free(&doc);
    free(deep);

    struct rill_blimits few = {.max_nodes = 3};
    assert_int_equal(rill_bdecode(&doc, (uint8_t *)"li1ei2ee", 8, &few, &err), 0);
    rill_bdoc_free(&doc);
    assert_int_equal(rill_bdecode(&doc, (uint8_t *)"li1ei2ei3ee", 11, &few, &err), RILL_ELIMIT);
}

static void test_encoder_canonical(void **state)
{
    (void)state;
    struct rill_buf out;
    rill_buf_init(&out, 0);
    struct rill_benc e;
    rill_benc_init(&e, &out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "zeta");
    rill_benc_int(&e, -7);
    rill_benc_key(&e, "alpha");
    rill_benc_list(&e);
    rill_benc_cstr(&e, "x");
    rill_benc_dict(&e);
    rill_benc_key(&e, "b");
    rill_benc_int(&e, 2);
    rill_benc_key(&e, "a");
    rill_benc_int(&e, 1);
    rill_benc_end(&e);
    rill_benc_end(&e);
    rill_benc_key(&e, "ab");
    rill_benc_str(&e, "\0\1", 2);
    rill_benc_key(&e, "m");
    rill_benc_raw(&e, "d1:ki0ee", 8);
    rill_benc_end(&e);
    assert_int_equal(rill_benc_finish(&e), 0);
    /* "ab" < "alpha" < "m" < "zeta", byte by byte. */
    const char *want = "d2:ab2:\0\1" "5:alphal1:xd1:ai1e1:bi2eee"
                       "1:md1:ki0ee4:zetai-7ee";
    assert_int_equal(out.len, 57);
    assert_memory_equal(out.data, want, out.len);

    /* What we wrote decodes strictly. */
    struct rill_bdoc doc;
    assert_int_equal(rill_bdecode(&doc, out.data, out.len, NULL, NULL), 0);
    rill_bdoc_free(&doc);
    rill_buf_free(&out);
}

static void test_encoder_misuse(void **state)
{
    (void)state;
    struct rill_buf out;
    struct rill_benc e;

    rill_buf_init(&out, 0); /* duplicate key */
    rill_benc_init(&e, &out);
    rill_benc_dict(&e);
    rill_benc_key(&e, "a");
    rill_benc_int(&e, 1);
    rill_benc_key(&e, "a");
    rill_benc_int(&e, 2);
    rill_benc_end(&e);
    assert_int_equal(rill_benc_finish(&e), RILL_EINVAL);
    rill_buf_free(&out);

    rill_benc_init(&e, &out); /* value where a key belongs */
    rill_benc_dict(&e);
    rill_benc_int(&e, 1);
    assert_int_equal(rill_benc_finish(&e), RILL_EINVAL);
    rill_buf_free(&out);

    rill_benc_init(&e, &out); /* unbalanced */
    rill_benc_list(&e);
    assert_int_equal(rill_benc_finish(&e), RILL_EINVAL);
    rill_buf_free(&out);

    rill_benc_init(&e, &out); /* end without begin */
    rill_benc_end(&e);
    assert_int_equal(rill_benc_finish(&e), RILL_EINVAL);
    rill_buf_free(&out);

    rill_benc_init(&e, &out); /* raw must be one well-formed value */
    rill_benc_list(&e);
    rill_benc_raw(&e, "i1", 2);
    rill_benc_end(&e);
    assert_int_equal(rill_benc_finish(&e), RILL_EINVAL);
    rill_buf_free(&out);

    rill_buf_init(&out, 16); /* the buffer cap is honoured */
    rill_benc_init(&e, &out);
    rill_benc_str(&e, "0123456789abcdefghij", 20);
    assert_int_equal(rill_benc_finish(&e), RILL_ENOMEM);
    rill_buf_free(&out);
}

/* Round trip: random structures encoded, decoded, re-encoded identically. */
static uint64_t rng_state = 88172645463325252ull;
static uint32_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void random_value(struct rill_benc *e, int depth)
{
    uint32_t kind = next_rand() % (depth > 4 ? 2 : 4);
    if (kind == 0) {
        rill_benc_int(e, (int64_t)next_rand() - (1ll << 31));
    } else if (kind == 1) {
        uint8_t bytes[12];
        uint32_t n = next_rand() % sizeof bytes;
        for (uint32_t i = 0; i < n; i++)
            bytes[i] = (uint8_t)next_rand();
        rill_benc_str(e, bytes, n);
    } else if (kind == 2) {
        rill_benc_list(e);
        for (uint32_t i = next_rand() % 5; i > 0; i--)
            random_value(e, depth + 1);
        rill_benc_end(e);
    } else {
        rill_benc_dict(e);
        uint32_t n = next_rand() % 5, base = next_rand() % 1000;
        for (uint32_t i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%u", (base + i * 7919) % 10007); /* unsorted, unique */
            rill_benc_key(e, key);
            random_value(e, depth + 1);
        }
        rill_benc_end(e);
    }
}

/* Re-encodes a decoded node (generic walk through the public navigation). */
static void reencode(struct rill_benc *e, const struct rill_bdoc *doc, const struct rill_bnode *n)
{
    switch (n->type) {
    case RILL_BINT: rill_benc_int(e, n->i); break;
    case RILL_BSTR: rill_benc_str(e, n->s, n->slen); break;
    case RILL_BLIST:
        rill_benc_list(e);
        for (const struct rill_bnode *c = rill_bnode_first(doc, n); c; c = rill_bnode_next(doc, n, c))
            reencode(e, doc, c);
        rill_benc_end(e);
        break;
    default:
        rill_benc_dict(e);
        for (const struct rill_bnode *k = rill_bnode_first(doc, n); k;) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)k->slen, (const char *)k->s);
            rill_benc_key(e, key);
            const struct rill_bnode *v = rill_bnode_next(doc, n, k);
            reencode(e, doc, v);
            k = rill_bnode_next(doc, n, v);
        }
        rill_benc_end(e);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    for (int round = 0; round < 500; round++) {
        struct rill_buf a, b;
        rill_buf_init(&a, 0);
        rill_buf_init(&b, 0);
        struct rill_benc e;
        rill_benc_init(&e, &a);
        random_value(&e, 0);
        assert_int_equal(rill_benc_finish(&e), 0);
        struct rill_bdoc doc;
        struct rill_error err;
        if (rill_bdecode(&doc, a.data, a.len, NULL, &err) != 0)
            fail_msg("round %d: %s at %zu", round, err.msg, err.offset);
        rill_benc_init(&e, &b);
        reencode(&e, &doc, rill_bdoc_root(&doc));
        assert_int_equal(rill_benc_finish(&e), 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        rill_bdoc_free(&doc);
        rill_buf_free(&a);
        rill_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_key_order_is_bytewise),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_encoder_canonical),
        cmocka_unit_test(test_encoder_misuse),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
