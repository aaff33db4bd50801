/*
 * test_size.c - the one size grammar (src/common/size.h), the statistics
 * writer (src/common/stats_writer.h) and the random stream
 * (src/common/rng.h).
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
#include "common/stats_writer.h"

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

/* Rule: the writer renders text lines and one JSON object, escapes JSON
 * strings, and returns the full length even into a short buffer (which
 * stays NUL-terminated). */
static void test_stats_writer_text_and_json(void **state)
{
    struct stats_writer w;
    char buf[256], small[8];
    int n;

    (void)state;
    stats_writer_begin(&w, buf, sizeof(buf), false, 6);
    stats_writer_u64(&w, "a", 1);
    stats_writer_string(&w, "name", "x\"y");
    n = stats_writer_end(&w, true);
    assert_string_equal(buf, "a      1\nname   x\"y\n");
    assert_int_equal(n, (int)strlen(buf));

    stats_writer_begin(&w, buf, sizeof(buf), true, 0);
    stats_writer_string(&w, "name", "x\"y\\\n");
    stats_writer_u64(&w, "a", UINT64_MAX);
    n = stats_writer_end(&w, true);
    assert_string_equal(buf, "{\"name\": \"x\\\"y\\\\\\u000a\", \"a\": 18446744073709551615}\n");
    assert_int_equal(n, (int)strlen(buf));

    stats_writer_begin(&w, small, sizeof(small), true, 0);
    stats_writer_string(&w, "name", "x\"y\\\n");
    stats_writer_u64(&w, "a", UINT64_MAX);
    assert_int_equal(stats_writer_end(&w, true), n);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    stats_writer_begin(&w, NULL, 0, true, 0);
    stats_writer_string(&w, "name", "x\"y\\\n");
    stats_writer_u64(&w, "a", UINT64_MAX);
    assert_int_equal(stats_writer_end(&w, true), n);
}

/* Rule: the same walk gives a CSV header of the names and a CSV row of the
 * values, strings quoted with doubled quotes, fractions with 3 decimals. */
static void test_stats_writer_csv(void **state)
{
    struct stats_writer w;
    char buf[128];

    (void)state;
    stats_writer_begin_csv(&w, buf, sizeof(buf), true);
    stats_writer_double(&w, "time", 1.5);
    stats_writer_string(&w, "mountpoint", "/m,\"x\"");
    stats_writer_u64(&w, "a", 7);
    assert_int_equal(stats_writer_end(&w, false), (int)strlen("time,mountpoint,a\n"));
    assert_string_equal(buf, "time,mountpoint,a\n");
    stats_writer_begin_csv(&w, buf, sizeof(buf), false);
    stats_writer_double(&w, "time", 1.5);
    stats_writer_string(&w, "mountpoint", "/m,\"x\"");
    stats_writer_u64(&w, "a", 7);
    stats_writer_end(&w, false);
    assert_string_equal(buf, "1.500,\"/m,\"\"x\"\"\",7\n");
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
        cmocka_unit_test(test_stats_writer_text_and_json),
        cmocka_unit_test(test_stats_writer_csv),
        cmocka_unit_test(test_rng_is_splitmix64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
