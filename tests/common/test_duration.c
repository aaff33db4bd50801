/*
 * test_duration.c - the one time grammar (src/common/duration.h):
 * DIGITS ["." DIGITS] [ms|s|m|h], seconds by default.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/duration.h"

/* Rule: plain numbers are seconds; ms, s, m (minutes) and h scale them;
 * the values come out exact where the decimal is exact in binary. */
static void test_duration_accepts_the_grammar(void **state)
{
    static const struct { const char *text; double seconds; } good[] = {
        { "0", 0.0 },        { "12", 12.0 },      { "12.5", 12.5 },    { "12.5s", 12.5 },
        { "500ms", 0.5 },    { "250ms", 0.25 },   { "0.25", 0.25 },    { "2m", 120.0 },
        { "1.5m", 90.0 },    { "1h", 3600.0 },    { "0.5h", 1800.0 },  { "007", 7.0 },
        { "0.1", 0.1 },      { "1ms", 0.001 },    { "0s", 0.0 },       { "0.000", 0.0 },
        { "86400", 86400.0 }, { "1.0000000000000000000000001", 1.0 },
    };
    double v;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = -1.0;
        assert_int_equal(duration_parse(good[i].text, &v), 0);
        assert_true(v == good[i].seconds);
    }
}

/* Rule: anything else is -EINVAL and leaves the result unchanged: signs,
 * NaN, infinities, exponents, hex, spaces, a bare or trailing dot, an
 * unknown or repeated unit, trailing junk, a value no double holds. */
static void test_duration_refuses_everything_else(void **state)
{
    static const char *const bad[] = {
        "", "-1", "+1", "-0", "nan", "NaN", "inf", "infinity", "1e3", "0x10", " 1", "1 ",
        "1 s", ".5", "5.", "5.s", "1.2.3", "1sec", "1S", "1min", "1ss", "1mss", "1us", "s",
        "ms", "12a", "1,5", "1h1", "12.5x", "1e400",
    };
    char huge[420];
    double v = 7.0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(duration_parse(bad[i], &v), -EINVAL);
        assert_true(v == 7.0);
    }
    memset(huge, '9', sizeof(huge) - 1); /* 419 nines: above DBL_MAX */
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(duration_parse(huge, &v), -EINVAL);
    assert_int_equal(duration_parse(NULL, &v), -EINVAL);
    assert_true(v == 7.0);
}

/* Rule: the grammar text for messages names the units it accepts. */
static void test_duration_grammar_names_the_units(void **state)
{
    (void)state;
    assert_non_null(strstr(duration_grammar(), "ms"));
    assert_non_null(strstr(duration_grammar(), "minutes"));
}

/* Rule: duration_parse_number takes the number part alone: no unit, and
 * the same refusals (sign, exponent, bare dot, junk). */
static void test_duration_number_has_no_unit(void **state)
{
    double v = 7.0;

    (void)state;
    assert_int_equal(duration_parse_number("0.99", &v), 0);
    assert_true(v == 0.99);
    assert_int_equal(duration_parse_number("30", &v), 0);
    assert_true(v == 30.0);
    v = 7.0;
    assert_int_equal(duration_parse_number("30s", &v), -EINVAL);
    assert_int_equal(duration_parse_number("-1", &v), -EINVAL);
    assert_int_equal(duration_parse_number("1e2", &v), -EINVAL);
    assert_int_equal(duration_parse_number(".5", &v), -EINVAL);
    assert_int_equal(duration_parse_number("", &v), -EINVAL);
    assert_int_equal(duration_parse_number(NULL, &v), -EINVAL);
    assert_true(v == 7.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_accepts_the_grammar),
        cmocka_unit_test(test_duration_refuses_everything_else),
        cmocka_unit_test(test_duration_grammar_names_the_units),
        cmocka_unit_test(test_duration_number_has_no_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
