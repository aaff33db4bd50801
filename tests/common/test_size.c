/*
 * test_size.c - the one size grammar (src/common/size.h) and the random
 * stream (src/common/rng.h). The statistics writer's tests are in
 * test_stats_writer.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/rng.h"
#include "common/size.h"

/* Rule: SIZE := DIGITS [K|M|G|T (either case) [B|iB]], powers of 1024;
 * "unlimited" only where allowed. */
static void test_size_accepts_the_grammar(void **state)
{
    static const struct { const char *text; uint64_t bytes; } good[] = {
        { "0", 0 }, { "4096", 4096 }, { "1K", 1024 }, { "1k", 1024 }, { "64M", 64ULL << 20 },
        { "64m", 64ULL << 20 }, { "64MiB", 64ULL << 20 }, { "64MB", 64ULL << 20 },
        { "2G", 2ULL << 30 }, { "3t", 3ULL << 40 }, { "16777215T", 16777215ULL << 40 },
        { "18446744073709551615", UINT64_MAX },
    };
    uint64_t v;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = 7;
        assert_int_equal(size_parse(good[i].text, false, &v), 0);
        assert_true(v == good[i].bytes);
    }
    assert_int_equal(size_parse("unlimited", true, &v), 0);
    assert_true(v == SIZE_UNLIMITED);
}

/* Rule: anything else is -EINVAL and leaves the result unchanged: a sign,
 * spaces, a fraction, an unknown or repeated unit, a unit-less "B", a
 * value above 2^64 - 1, the retired words "max" and "inf", "unlimited"
 * where it is not allowed. */
static void test_size_refuses_everything_else(void **state)
{
    static const char *const bad[] = {
        "", "-5", "+5", " 5", "5 ", "1.5M", "12Q", "64MiBx", "64Mi", "64Mb", "64M B", "64KK",
        "5B", "garbage", "M", "18446744073709551616", "16777216T", "max", "inf", "Unlimited",
    };
    uint64_t v = 7;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(size_parse(bad[i], true, &v), -EINVAL);
        assert_true(v == 7);
    }
    assert_int_equal(size_parse("unlimited", false, &v), -EINVAL);
    assert_int_equal(size_parse(NULL, true, &v), -EINVAL);
    assert_true(v == 7);
    assert_non_null(strstr(size_grammar(true), "unlimited"));
    assert_null(strstr(size_grammar(false), "unlimited"));
}

/* Rule: the random stream is splitmix64 (the published first outputs for
 * seed 0), and rng_below / rng_unit stay in their ranges. */
static void test_rng_is_splitmix64(void **state)
{
    uint64_t st = 0, st2 = 42;

    (void)state;
    assert_true(rng_next(&st) == 0xe220a8397b1dcdafULL);
    assert_true(rng_next(&st) == 0x6e789e6aa1b965f4ULL);
    assert_true(rng_next(&st) == 0x06c45d188009454fULL);
    for (int i = 0; i < 10000; i++) {
        double u = rng_unit(&st2);
        assert_true(rng_below(&st2, 7) < 7);
        assert_true(u >= 0.0 && u < 1.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_accepts_the_grammar),
        cmocka_unit_test(test_size_refuses_everything_else),
        cmocka_unit_test(test_rng_is_splitmix64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
