/*
 * test_price.c - the testbed's "without tmem" estimates (src/testbed/price.h),
 * against values worked out by hand on a custom device profile (100 us a
 * request, 100 MB/s, so a 4 KiB page costs 100 us + 40.96 us):
 *  - extra pages are priced as the guest's own requests were: the same
 *    bytes per request and the same share of random ones; as random
 *    one-page requests when the guest made none;
 *  - a mount guest: every cleancache hit is one page read saved;
 *  - a swap guest: every frontswap load a swap-file read saved, every
 *    swap-out that did not reach the file (swap_outs - pswpout) a write
 *    saved (none in write-through mode, where pswpout >= swap_outs); the
 *    time with tmem is swapsim's model plus the measured tmem time, the
 *    time without drops the tmem calls and adds the saved I/O.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "testbed/price.h"

#define PAGE 4096u

static struct guest_device_profile profile(void)
{
    struct guest_device_profile p;

    assert_int_equal(guest_device_profile_parse("custom:100,100", &p), 0);
    return p;
}

/* No request yet: the extra bytes become random one-page requests. */
static void test_add_like_without_requests(void **state)
{
    struct guest_device_counts c = {0};

    (void)state;
    testbed_price_add_like(&c, 3 * PAGE, 0, PAGE);
    assert_int_equal(c.random_requests, 3);
    assert_int_equal(c.sequential_requests, 0);
    assert_int_equal(c.read_bytes, 3 * PAGE);
    assert_int_equal(c.write_bytes, 0);
}

/* 10 random + 30 sequential requests of 2 pages each: 8 more pages are 4
 * more requests, 1 of them random (a quarter). */
static void test_add_like_follows_the_guest(void **state)
{
    struct guest_device_counts c = {.random_requests = 10, .sequential_requests = 30,
                                    .read_bytes = 60 * PAGE, .write_bytes = 20 * PAGE};

    (void)state;
    testbed_price_add_like(&c, 8 * PAGE, 0, PAGE);
    assert_int_equal(c.random_requests, 11);
    assert_int_equal(c.sequential_requests, 33);
    assert_int_equal(c.read_bytes, 68 * PAGE);
    assert_int_equal(c.write_bytes, 20 * PAGE);
    /* nothing extra: nothing changes */
    testbed_price_add_like(&c, 0, 0, PAGE);
    assert_int_equal(c.random_requests, 11);
}

static void test_mount_hits_are_reads_saved(void **state)
{
    struct guest_device_profile p = profile();
    struct guest_device_counts dc = {.random_requests = 5, .read_bytes = 5 * PAGE};
    struct testbed_mount_price mp;
    uint64_t page_ns = 100000 + PAGE * 1000000000ull / 100000000ull;

    (void)state;
    testbed_price_mount(&dc, 7, PAGE, &p, &mp);
    assert_int_equal(mp.pages_saved, 7);
    assert_int_equal(mp.device_ns_with, 5 * page_ns);
    assert_int_equal(mp.device_ns_without, 12 * page_ns);
    testbed_price_mount(&dc, 0, PAGE, &p, &mp);
    assert_int_equal(mp.device_ns_without, mp.device_ns_with);
}

static void test_swap_loads_and_stores_saved(void **state)
{
    struct guest_device_profile p = profile();
    struct swapsim_counters c;
    struct testbed_swap_price sp;
    uint64_t page_ns = 100000 + PAGE * 1000000000ull / 100000000ull;
    struct swapsim_costs costs;

    (void)state;
    swapsim_costs_default(&costs);
    memset(&c, 0, sizeof(c));
    c.accesses = 1000;
    c.minor_faults = 100;
    c.major_faults = 50;
    c.swap_outs = 60;
    c.succ_stores = 50;
    c.failed_stores = 10;
    c.loads = 40;
    c.pswpout = 10; /* the refused stores */
    c.pswpin = 10;
    c.device_random_requests = 20;
    c.sectors_read = 10 * PAGE / SWAPSIM_SECTOR;
    c.sectors_written = 10 * PAGE / SWAPSIM_SECTOR;
    testbed_price_swap(&c, PAGE, &p, 123456, &sp);
    assert_int_equal(sp.extra_reads, 40);
    assert_int_equal(sp.extra_writes, 50);
    assert_int_equal(sp.tmem_ns, 123456);
    assert_int_equal(sp.device_ns_with, 20 * page_ns);
    assert_int_equal(sp.device_ns_without, 110 * page_ns);
    /* swapsim's model: accesses, faults, swap I/O; tmem as measured */
    assert_int_equal(sp.sim_ns_with, 1000 * costs.access_ns + 150 * costs.fault_ns +
                                         20 * page_ns + 123456);
    assert_int_equal(sp.sim_ns_without, 1000 * costs.access_ns + 150 * costs.fault_ns +
                                            110 * page_ns);
}

/* Write-through: every stored page was written to the file anyway. */
static void test_swap_write_through_saves_no_write(void **state)
{
    struct guest_device_profile p = profile();
    struct swapsim_counters c;
    struct testbed_swap_price sp;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.swap_outs = 30;
    c.succ_stores = 30;
    c.pswpout = 30;
    c.device_random_requests = 30;
    c.sectors_written = 30 * PAGE / SWAPSIM_SECTOR;
    testbed_price_swap(&c, PAGE, &p, 0, &sp);
    assert_int_equal(sp.extra_writes, 0);
    assert_int_equal(sp.extra_reads, 0);
    assert_int_equal(sp.device_ns_with, sp.device_ns_without);
    assert_int_equal(sp.sim_ns_with, sp.sim_ns_without);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_like_without_requests),
        cmocka_unit_test(test_add_like_follows_the_guest),
        cmocka_unit_test(test_mount_hits_are_reads_saved),
        cmocka_unit_test(test_swap_loads_and_stores_saved),
        cmocka_unit_test(test_swap_write_through_saves_no_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
