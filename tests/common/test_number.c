/*
 * test_number.c - the one unsigned-integer parser (src/common/number.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/number.h"

/* Rule: DIGITS in base 10 or 16, "0x" + hex digits with base 0, every value
 * up to 2^64 - 1, within [min, max]. */
static void test_number_accepts_the_grammar(void **state)
{
    static const struct { const char *text; int base; uint64_t value; } good[] = {
        { "0", 10, 0 },     { "7", 10, 7 },       { "007", 10, 7 },   { "4096", 0, 4096 },
        { "0x1f", 0, 31 },  { "0X1F", 0, 31 },    { "ff", 16, 255 },  { "010", 0, 10 },
        { "18446744073709551615", 10, UINT64_MAX }, { "ffffffffffffffff", 16, UINT64_MAX },
    };
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = 3;
        assert_int_equal(number_parse_u64(good[i].text, good[i].base, 0, UINT64_MAX, &v), 0);
        assert_true(v == good[i].value);
    }
    assert_int_equal(number_parse_u64("5", 10, 5, 5, &v), 0);
    assert_true(v == 5);
    /* a span: only the first len characters count */
    assert_int_equal(number_parse_u64_span("12,34", 2, 10, 0, 100, &v), 0);
    assert_true(v == 12);
}

/* Rule: anything else is -EINVAL and leaves the result unchanged: empty,
 * a sign, spaces, other characters, a digit of another base, overflow by
 * one, out of [min, max], a base other than 0/10/16, "0x" alone. */
static void test_number_refuses_everything_else(void **state)
{
    static const struct { const char *text; int base; } bad[] = {
        { "", 10 },   { "-1", 10 },  { "+1", 10 },  { " 1", 10 }, { "1 ", 10 }, { "1k", 10 },
        { "a", 10 },  { "0x10", 10 }, { "g", 16 },  { "0x", 0 },  { "1.5", 10 }, { "7", 8 },
        { "18446744073709551616", 10 }, { "10000000000000000", 16 },
        { "99999999999999999999999", 10 },
    };
    uint64_t v = 42;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(number_parse_u64(bad[i].text, bad[i].base, 0, UINT64_MAX, &v), -EINVAL);
        assert_true(v == 42);
    }
    assert_int_equal(number_parse_u64("4", 10, 5, 9, &v), -EINVAL);
    assert_int_equal(number_parse_u64("10", 10, 5, 9, &v), -EINVAL);
    assert_int_equal(number_parse_u64(NULL, 10, 0, 9, &v), -EINVAL);
    assert_int_equal(number_parse_u64_span("12", 0, 10, 0, 100, &v), -EINVAL);
    assert_true(v == 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_accepts_the_grammar),
        cmocka_unit_test(test_number_refuses_everything_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
