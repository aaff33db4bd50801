/*
 * test_device.c - the block-device model (src/guest/device.h): profiles,
 * the sequential detector, and pricing any profile from one run's counts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/device.h"

/* Rule: the grammar is hdd | sata-ssd | nvme | custom:LAT_US,MBPS and
 * nothing else; a bad text leaves the profile as it was. */
static void test_device_profiles_parse(void **state)
{
    static const char *const bad[] = {
        "", "HDD", "ssd", "custom:", "custom:5", "custom:5,", "custom:,5", "custom:5,0",
        "custom:-5,10", "custom:5,10,", "custom:5,10x", "custom:99999999,10", "custom:5,1000001",
        "custom: 5,10",
    };
    struct guest_device_profile p, q;

    (void)state;
    assert_int_equal(guest_device_profile_parse("hdd", &p), 0);
    assert_int_equal(p.random_us, 8500);
    assert_int_equal(p.sequential_us, 100);
    assert_int_equal(guest_device_profile_parse("nvme", &p), 0);
    assert_string_equal(p.name, "nvme");
    assert_int_equal(guest_device_profile_parse("custom:250,100", &p), 0);
    assert_string_equal(p.name, "custom:250,100");
    assert_int_equal(p.random_us, 250);
    assert_int_equal(p.sequential_us, 250);
    assert_int_equal(p.read_mbps, 100);
    assert_int_equal(p.write_mbps, 100);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        q = p;
        assert_int_equal(guest_device_profile_parse(bad[i], &q), -EINVAL);
        assert_memory_equal(&q, &p, sizeof(p));
    }
}

/* Rule: a request is sequential when it starts where the previous one on
 * the device ended in the same stream; another stream in between makes
 * it random (one head); writes and reads count their bytes apart. */
static void test_device_sequential_detection(void **state)
{
    struct guest_device d;
    struct guest_device_counts c;

    (void)state;
    assert_int_equal(guest_device_init(&d), 0);
    assert_false(guest_device_note(&d, 1, 0, 4096, false));     /* first: random */
    assert_true(guest_device_note(&d, 1, 4096, 8192, false));   /* continues */
    assert_false(guest_device_note(&d, 2, 12288, 4096, false)); /* other stream */
    assert_false(guest_device_note(&d, 1, 12288, 4096, false)); /* head moved away */
    assert_true(guest_device_note(&d, 1, 16384, 100, true));
    assert_false(guest_device_note(&d, 1, 0, 4096, false));     /* backwards */
    guest_device_counts(&d, &c);
    assert_int_equal(c.random_requests, 4);
    assert_int_equal(c.sequential_requests, 2);
    assert_int_equal(c.read_bytes, 4096 + 8192 + 4096 + 4096 + 4096);
    assert_int_equal(c.write_bytes, 100);
    guest_device_destroy(&d);
}

/* Rule: a profile prices counts as latency per request plus bytes over
 * bandwidth, exactly, so one run is priced on every profile; the price of
 * the counts equals the sum of the requests' prices. */
static void test_device_pricing(void **state)
{
    struct guest_device_counts c = { 3, 5, 2000000, 1000000 };
    struct guest_device_profile hdd, custom;

    (void)state;
    assert_int_equal(guest_device_profile_parse("hdd", &hdd), 0);
    assert_int_equal(guest_device_profile_parse("custom:10,1000", &custom), 0);
    /* hdd: 3 * 8.5 ms + 5 * 0.1 ms + 3 MB / 160 MB/s */
    assert_true(guest_device_price_ns(&hdd, &c) ==
                3 * 8500000ULL + 5 * 100000ULL + 2000000ULL * 1000 / 160 + 1000000ULL * 1000 / 160);
    /* custom 10 us, 1000 MB/s: 8 * 10 us + 3 ms */
    assert_true(guest_device_price_ns(&custom, &c) == 80000ULL + 3000000ULL);
    assert_true(guest_device_request_ns(&hdd, false, 160000, false) == 8500000ULL + 1000000ULL);
    assert_true(guest_device_request_ns(&hdd, true, 160000, true) == 100000ULL + 1000000ULL);
    for (int i = 0; i < GUEST_DEVICE_BUILTIN; i++) /* slower devices cost more */
        if (i > 0)
            assert_true(guest_device_price_ns(&guest_device_builtin[i], &c) <
                        guest_device_price_ns(&guest_device_builtin[i - 1], &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_profiles_parse),
        cmocka_unit_test(test_device_sequential_detection),
        cmocka_unit_test(test_device_pricing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
