/*
 * test_rules.c - one test per frontswap rule of the swap simulator, run
 * against the real tmem core. Each test builds a tiny guest (a few frames,
 * a few dozen pages), drives accesses by hand and checks counters, the
 * tmem pool's page count and the guest's invariants. Frontswap (fsmap.c,
 * internal to swapsim) and the swap device's slot table are also checked
 * on their own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/device.h"
#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

struct fixture {
    struct tmem *tm;
    struct tmem_client *client;
    struct swapsim_guest *g;
};

static void setup_guest(struct fixture *fx, uint64_t capacity, uint32_t ram, uint32_t vpages,
                        bool exclusive, bool write_through)
{
    struct tmem_config tc;
    struct swapsim_guest_config gc;
    char err[256] = "";

    tmem_config_init(&tc);
    tc.capacity_bytes = capacity;
    fx->tm = tmem_create(&tc);
    assert_non_null(fx->tm);
    fx->client = tmem_client_create(fx->tm, "t");
    assert_non_null(fx->client);
    swapsim_guest_config_init(&gc, ram, vpages);
    gc.exclusive_loads = exclusive;
    gc.write_through = write_through;
    gc.quiet = true;
    assert_int_equal(swapsim_guest_create(&gc, fx->client, &fx->g, err, sizeof(err)), 0);
}

static void teardown_guest(struct fixture *fx)
{
    struct tmem_stats st;
    swapsim_guest_destroy(fx->g);
    tmem_client_destroy(fx->client);
    assert_int_equal(tmem_stats(fx->tm, &st), 0);
    assert_int_equal(st.pages, 0);
    tmem_destroy(fx->tm);
}

static void touch(struct swapsim_guest *g, uint32_t v, enum swapsim_op op)
{
    struct swapsim_access a = {.vpage = v, .op = op};
    assert_int_equal(swapsim_guest_access(g, &a), 0);
}

static void check(struct swapsim_guest *g)
{
    char err[256] = "";
    int r = swapsim_guest_check(g, err, sizeof(err));
    if (r != 0)
        fail_msg("invariant broken: %s", err);
}

static uint64_t pool_pages(struct fixture *fx)
{
    struct tmem_stats st;
    assert_int_equal(tmem_pool_stats(fx->client, swapsim_guest_pool(fx->g), &st), 0);
    return st.pages;
}

static struct swapsim_counters counters(struct swapsim_guest *g)
{
    struct swapsim_counters c;
    swapsim_guest_counters(g, &c);
    return c;
}

/* Write pages 0..n-1 once (RAM holds `ram` of them: the rest swap out). */
static void write_all(struct swapsim_guest *g, uint32_t n)
{
    for (uint32_t v = 0; v < n; v++)
        touch(g, v, SWAPSIM_WRITE);
}

static void read_all(struct swapsim_guest *g, uint32_t n)
{
    for (uint32_t v = 0; v < n; v++)
        touch(g, v, SWAPSIM_READ);
}

static void test_swapout_tries_frontswap_first(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, false, false);
    write_all(fx.g, 32);
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.swap_outs, 28);
    assert_int_equal(c.succ_stores, 28);
    assert_int_equal(c.failed_stores, 0);
    assert_int_equal(c.pswpout, 0);
    assert_int_equal(pool_pages(&fx), 28);
    /* the gauges: what frontswap holds, slots in use, pages in RAM */
    assert_int_equal(c.frontswap_pages, 28);
    assert_int_equal(c.slots_used, 28);
    assert_int_equal(c.resident_pages, 4);
    check(fx.g);
    teardown_guest(&fx);
}

static void test_fault_loads_from_frontswap_when_map_says_so(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, false, false);
    write_all(fx.g, 32);
    read_all(fx.g, 32);
    struct swapsim_counters c = counters(fx.g);
    assert_true(c.major_faults >= 28);
    assert_int_equal(c.loads, c.major_faults);
    assert_int_equal(c.pswpin, 0);
    assert_int_equal(c.pages_verified, c.major_faults);
    assert_int_equal(c.mismatches, 0);
    check(fx.g);
    teardown_guest(&fx);
}

static void test_rejected_store_goes_to_swap_file(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, 0, 4, 32, false, false);
    write_all(fx.g, 32);
    read_all(fx.g, 32);
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.succ_stores, 0);
    assert_int_equal(c.failed_stores, c.swap_outs);
    assert_int_equal(c.pswpout, c.swap_outs);
    assert_int_equal(c.loads, 0);
    assert_int_equal(c.pswpin, c.major_faults);
    assert_int_equal(c.sectors_read, c.pswpin * 8);
    assert_int_equal(c.mismatches, 0);
    check(fx.g);
    teardown_guest(&fx);
}

static void test_load_is_nondestructive_by_default(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 8, false, false);
    write_all(fx.g, 8); /* pages 0..3 swapped out (CLOCK evicts the oldest) */
    uint64_t before = pool_pages(&fx);
    struct swapsim_counters c0 = counters(fx.g);
    read_all(fx.g, 8); /* loads bring them back clean, copies stay */
    struct swapsim_counters c1 = counters(fx.g);
    assert_true(c1.loads > c0.loads);
    /* pages read back keep their copy; evicting them again is a clean drop */
    assert_true(c1.clean_drops > 0);
    assert_int_equal(c1.succ_stores, c0.succ_stores + (c1.swap_outs - c0.swap_outs));
    assert_true(pool_pages(&fx) >= before);
    check(fx.g);
    teardown_guest(&fx);
}

static void test_exclusive_load_frees_copy_and_page_returns_dirty(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 8, true, false);
    write_all(fx.g, 8);
    assert_int_equal(pool_pages(&fx), 4);
    uint32_t slots = swapsim_swapdev_used(swapsim_guest_swapdev(fx.g));
    assert_int_equal(slots, 4);
    touch(fx.g, 0, SWAPSIM_READ); /* load page 0: evicts one resident page */
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.loads, 1);
    /* one copy taken by the load, one page stored by the eviction */
    assert_int_equal(pool_pages(&fx), 4);
    assert_int_equal(swapsim_swapdev_used(swapsim_guest_swapdev(fx.g)), 4);
    check(fx.g); /* the loaded page is dirty without a slot */
    /* evict page 0 again: it must be stored again (not dropped as clean) */
    uint64_t stores = c.succ_stores;
    for (uint32_t v = 4; v < 8; v++)
        touch(fx.g, v, SWAPSIM_READ);
    c = counters(fx.g);
    assert_true(c.succ_stores > stores);
    read_all(fx.g, 8);
    c = counters(fx.g);
    assert_int_equal(c.mismatches, 0);
    assert_int_equal(c.clean_drops, 0); /* exclusive: nothing is ever clean with a slot */
    check(fx.g);
    teardown_guest(&fx);
}

static void test_rewrite_invalidates_slot(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 8, false, false);
    write_all(fx.g, 8);
    touch(fx.g, 0, SWAPSIM_READ); /* back in RAM, clean, slot kept */
    uint64_t inv = counters(fx.g).invalidates;
    uint64_t pages = pool_pages(&fx);
    touch(fx.g, 0, SWAPSIM_WRITE); /* the copy is stale: slot freed */
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.invalidates, inv + 1);
    assert_int_equal(pool_pages(&fx), pages - 1);
    check(fx.g);
    teardown_guest(&fx);
}

static void test_unmap_invalidates_slot(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 16, false, false);
    write_all(fx.g, 16);
    uint64_t pages = pool_pages(&fx);
    uint32_t used = swapsim_swapdev_used(swapsim_guest_swapdev(fx.g));
    touch(fx.g, 0, SWAPSIM_UNMAP); /* page 0 is swapped out */
    assert_int_equal(pool_pages(&fx), pages - 1);
    assert_int_equal(swapsim_swapdev_used(swapsim_guest_swapdev(fx.g)), used - 1);
    touch(fx.g, 0, SWAPSIM_READ); /* a fresh page (minor fault), new content */
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.minor_faults, 17);
    check(fx.g);
    teardown_guest(&fx);
}

static void test_swapoff_invalidates_area_and_leaks_nothing(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 64, false, false);
    write_all(fx.g, 64);
    read_all(fx.g, 32);
    assert_int_equal(swapsim_guest_swapoff(fx.g), 0);
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.leaked_slots, 0);
    assert_int_equal(c.leaked_tmem_pages, 0);
    assert_int_equal(c.invalidate_areas, 1);
    assert_int_equal(c.mismatches, 0);
    struct tmem_stats st;
    assert_int_equal(tmem_stats(fx.tm, &st), 0);
    assert_int_equal(st.pages, 0);
    teardown_guest(&fx);
}

static void test_write_through_stores_page_in_both(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, false, true);
    write_all(fx.g, 32);
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.succ_stores, 28);
    assert_int_equal(c.pswpout, 28);
    check(fx.g);
    /* frontswap answers the loads, not the disk */
    read_all(fx.g, 16);
    c = counters(fx.g);
    assert_int_equal(c.pswpin, 0);
    assert_true(c.loads > 0);
    teardown_guest(&fx);
}

static void test_write_through_shrink_drops_without_io(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, false, true);
    write_all(fx.g, 32);
    uint64_t pswpout = counters(fx.g).pswpout;
    assert_int_equal(tmem_set_capacity(fx.tm, 0), 0);
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(pool_pages(&fx), 0);
    assert_int_equal(c.shrink_pages, 28);
    assert_int_equal(c.pswpout, pswpout); /* nothing written: it was there */
    read_all(fx.g, 32);
    c = counters(fx.g);
    assert_int_equal(c.mismatches, 0);
    assert_true(c.pswpin > 0);
    check(fx.g);
    teardown_guest(&fx);
}

static void test_shrink_moves_pages_to_swap_file(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, false, false);
    write_all(fx.g, 32);
    assert_int_equal(tmem_set_capacity(fx.tm, 0), 0);
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(pool_pages(&fx), 0);
    assert_true(c.shrink_calls >= 1);
    assert_int_equal(c.shrink_pages, 28);
    assert_int_equal(c.pswpout, 28);
    check(fx.g);
    read_all(fx.g, 32);
    c = counters(fx.g);
    assert_int_equal(c.mismatches, 0);
    assert_int_equal(c.pswpin, c.major_faults);
    teardown_guest(&fx);
}

static uint64_t usage(struct tmem *tm)
{
    struct tmem_stats st;
    assert_int_equal(tmem_stats(tm, &st), 0);
    return st.data_bytes + st.metadata_bytes;
}

static void test_shrink_partial_capacity_keeps_store_within_budget(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 64, false, false);
    write_all(fx.g, 64);
    /* the floor: what the store still uses with the pool empty */
    assert_int_equal(tmem_set_capacity(fx.tm, 0), 0);
    assert_int_equal(pool_pages(&fx), 0);
    uint64_t floor = usage(fx.tm);
    assert_int_equal(tmem_set_capacity(fx.tm, TMEM_CAPACITY_UNLIMITED), 0);
    read_all(fx.g, 64);
    write_all(fx.g, 64);
    uint64_t full = usage(fx.tm), target = floor + (full - floor) / 2;
    uint64_t before = pool_pages(&fx);
    assert_true(before >= 50);
    assert_int_equal(tmem_set_capacity(fx.tm, target), 0);
    assert_true(usage(fx.tm) <= target);     /* the guest gave back enough */
    assert_true(pool_pages(&fx) > 0);        /* ... and not everything */
    assert_true(pool_pages(&fx) < before);
    check(fx.g);
    read_all(fx.g, 64);
    assert_int_equal(counters(fx.g).mismatches, 0);
    teardown_guest(&fx);
}

static void test_shrink_brings_pages_into_free_ram(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 8, 32, false, false);
    write_all(fx.g, 32);
    for (uint32_t v = 24; v < 32; v++) /* the resident ones: frees all 8 frames */
        touch(fx.g, v, SWAPSIM_UNMAP);
    assert_int_equal(counters(fx.g).resident_pages, 0);
    assert_int_equal(tmem_set_capacity(fx.tm, 0), 0);
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.shrink_to_ram, 8);
    assert_int_equal(c.shrink_pages, 24);
    assert_int_equal(c.pswpout, 16);
    check(fx.g);
    read_all(fx.g, 24);
    assert_int_equal(counters(fx.g).mismatches, 0);
    teardown_guest(&fx);
}

/* Shrink gives back the least recently stored or loaded frontswap page
 * first: a (non-exclusive) load makes a page's copy the newest. */
static void test_shrink_gives_back_least_recently_used_first(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, TMEM_CAPACITY_UNLIMITED, 4, 8, false, false);
    write_all(fx.g, 8);           /* CLOCK swaps out 0, 1, 2, 3 in that order */
    touch(fx.g, 0, SWAPSIM_READ); /* swaps out 4, loads 0: order 1 2 3 4 0 */
    struct swapsim_counters c = counters(fx.g);
    assert_int_equal(c.loads, 1);
    assert_int_equal(c.pswpout, 0);
    assert_int_equal(swapsim_guest_shrink(fx.g, 1), 1);
    /* page 1 (the oldest, only in frontswap, no free frame) went to the
     * file; page 0 (resident, clean) would have cost no write */
    c = counters(fx.g);
    assert_int_equal(c.pswpout, 1);
    assert_int_equal(c.loads, 2); /* shrink took it out of frontswap */
    assert_int_equal(c.shrink_pages, 1);
    check(fx.g);
    touch(fx.g, 2, SWAPSIM_READ); /* still in frontswap */
    c = counters(fx.g);
    assert_int_equal(c.loads, 3);
    assert_int_equal(c.pswpin, 0);
    touch(fx.g, 1, SWAPSIM_READ); /* from the file */
    c = counters(fx.g);
    assert_int_equal(c.pswpin, 1);
    assert_int_equal(c.loads, 3);
    assert_int_equal(c.mismatches, 0);
    check(fx.g);
    teardown_guest(&fx);
}

/* Frontswap on its own: a store refused for a slot it held forgets the
 * slot (tmem's put-put-get: the older copy is gone too), so a later load
 * can never claim it. */
static void test_frontswap_failed_store_forgets_older_copy(void **state)
{
    struct tmem *tm = tmem_create(NULL);
    struct tmem_client *client = tmem_client_create(tm, "fs");
    struct swapsim_counters ctr;
    struct swapsim_fsmap *fs;
    struct tmem_stats st;
    static uint8_t page[4096], back[4096];
    char err[256];
    int pool;
    (void)state;

    memset(&ctr, 0, sizeof(ctr));
    memset(page, 0x6b, sizeof(page));
    pool = tmem_new_pool(client, TMEM_POOL_PERSIST, NULL);
    assert_true(pool >= 0);
    assert_int_equal(swapsim_fsmap_create(8, client, pool, 0, false, &ctr, &fs), 0);
    assert_int_equal(swapsim_fsmap_store(fs, 3, page, 1), 0);
    assert_true(swapsim_fsmap_holds(fs, 3));
    assert_int_equal(swapsim_fsmap_pages(fs), 1);
    assert_int_equal(tmem_set_capacity(tm, 0), 0);
    page[0] ^= 0xff; /* a new version of the page, refused */
    assert_int_equal(swapsim_fsmap_store(fs, 3, page, 2), -ENOSPC);
    assert_false(swapsim_fsmap_holds(fs, 3));
    assert_int_equal(swapsim_fsmap_pages(fs), 0);
    assert_int_equal(swapsim_fsmap_oldest(fs, NULL), SWAPSIM_NONE);
    assert_int_equal(swapsim_fsmap_load(fs, 3, back, 3), -ENOENT);
    assert_int_equal(tmem_pool_stats(client, pool, &st), 0);
    assert_int_equal(st.pages, 0);
    assert_int_equal(ctr.succ_stores, 1);
    assert_int_equal(ctr.failed_stores, 1);
    assert_int_equal(ctr.loads, 0);
    assert_int_equal(swapsim_fsmap_check(fs, err, sizeof(err)), 0);
    assert_int_equal(swapsim_fsmap_invalidate_area(fs), 0);
    assert_int_equal(ctr.invalidate_areas, 1);
    swapsim_fsmap_destroy(fs);
    tmem_client_destroy(client);
    tmem_destroy(tm);
}

/* Frontswap keeps the slots it holds oldest first by their last store or
 * load; an exclusive load gives the copy up; invalidate_page and
 * invalidate_area forget slots and count. */
static void test_frontswap_orders_slots_by_last_store_or_load(void **state)
{
    static uint8_t page[4096], back[4096];
    (void)state;

    memset(page, 0x2d, sizeof(page));
    for (int exclusive = 0; exclusive < 2; exclusive++) {
        struct tmem *tm = tmem_create(NULL);
        struct tmem_client *client = tmem_client_create(tm, "fs");
        struct swapsim_counters ctr;
        struct swapsim_fsmap *fs;
        uint64_t touched = 0;
        char err[256] = "";
        int pool = tmem_new_pool(client, TMEM_POOL_PERSIST |
                                             (exclusive ? TMEM_POOL_EXCLUSIVE_GETS : 0), NULL);
        assert_true(pool >= 0);
        memset(&ctr, 0, sizeof(ctr));
        assert_int_equal(swapsim_fsmap_create(8, client, pool, 5, exclusive, &ctr, &fs), 0);
        assert_int_equal(swapsim_fsmap_store(fs, 4, page, 10), 0);
        assert_int_equal(swapsim_fsmap_store(fs, 1, page, 11), 0);
        assert_int_equal(swapsim_fsmap_store(fs, 6, page, 12), 0);
        assert_int_equal(swapsim_fsmap_oldest(fs, &touched), 4);
        assert_int_equal(touched, 10);
        assert_int_equal(swapsim_fsmap_load(fs, 4, back, 13), 0);
        assert_memory_equal(page, back, sizeof(page));
        assert_int_equal(swapsim_fsmap_oldest(fs, &touched), 1);
        assert_int_equal(touched, 11);
        if (exclusive) {
            assert_false(swapsim_fsmap_holds(fs, 4));
            assert_int_equal(swapsim_fsmap_pages(fs), 2);
        } else {
            assert_true(swapsim_fsmap_holds(fs, 4)); /* now the newest */
            assert_int_equal(swapsim_fsmap_pages(fs), 3);
        }
        assert_int_equal(swapsim_fsmap_check(fs, err, sizeof(err)), 0);
        assert_int_equal(swapsim_fsmap_invalidate_page(fs, 1), 0);
        assert_int_equal(swapsim_fsmap_invalidate_page(fs, 1), 0); /* not held: no call */
        assert_int_equal(ctr.invalidates, 1);
        assert_int_equal(swapsim_fsmap_oldest(fs, &touched), 6);
        assert_int_equal(touched, 12);
        assert_int_equal(swapsim_fsmap_invalidate_area(fs), 0);
        assert_int_equal(swapsim_fsmap_pages(fs), 0);
        assert_int_equal(swapsim_fsmap_oldest(fs, NULL), SWAPSIM_NONE);
        struct tmem_stats st;
        assert_int_equal(tmem_pool_stats(client, pool, &st), 0);
        assert_int_equal(st.pages, 0);
        assert_int_equal(swapsim_fsmap_check(fs, err, sizeof(err)), 0);
        assert_int_equal(ctr.succ_stores, 3);
        assert_int_equal(ctr.loads, 1);
        swapsim_fsmap_destroy(fs);
        tmem_client_destroy(client);
        tmem_destroy(tm);
    }
}

/* Frontswap's own check finds its order broken: stores stamped with
 * access counts that go backwards (a caller's bug) leave the list not
 * oldest first. */
static void test_frontswap_check_finds_order_broken(void **state)
{
    struct tmem *tm = tmem_create(NULL);
    struct tmem_client *client = tmem_client_create(tm, "fs");
    struct swapsim_counters ctr;
    struct swapsim_fsmap *fs;
    static uint8_t page[4096];
    char err[256] = "";
    int pool = tmem_new_pool(client, TMEM_POOL_PERSIST, NULL);
    (void)state;

    memset(&ctr, 0, sizeof(ctr));
    assert_true(pool >= 0);
    assert_int_equal(swapsim_fsmap_create(4, client, pool, 0, false, &ctr, &fs), 0);
    assert_int_equal(swapsim_fsmap_store(fs, 0, page, 20), 0);
    assert_int_equal(swapsim_fsmap_check(fs, err, sizeof(err)), 0);
    assert_int_equal(swapsim_fsmap_store(fs, 1, page, 10), 0);
    assert_int_equal(swapsim_fsmap_check(fs, err, sizeof(err)), -EFAULT);
    assert_non_null(strstr(err, "not oldest first"));
    assert_int_equal(swapsim_fsmap_invalidate_area(fs), 0);
    assert_int_equal(swapsim_fsmap_check(fs, err, sizeof(err)), 0);
    swapsim_fsmap_destroy(fs);
    tmem_client_destroy(client);
    tmem_destroy(tm);
}

/* The guest's invariant check finds a broken one: a slot allocated behind
 * the guest's back (a leak) and a swapped page's slot freed behind its back
 * (a page whose slot no longer names it). */
static void test_check_finds_broken_invariants(void **state)
{
    struct fixture fx;
    char err[256] = "";
    uint32_t s;
    (void)state;
    setup_guest(&fx, 0, 4, 8, false, false); /* everything on the file */
    write_all(fx.g, 8);
    check(fx.g);
    struct swapsim_swapdev *sd = swapsim_guest_swapdev(fx.g);
    assert_int_equal(swapsim_swapdev_alloc(sd, 7, &s), 0);
    assert_int_equal(swapsim_guest_check(fx.g, err, sizeof(err)), -EFAULT);
    assert_non_null(strstr(err, "leak"));
    assert_int_equal(swapsim_swapdev_free(sd, s), 0);
    check(fx.g);
    for (s = 0; !swapsim_swapdev_in_use(sd, s); s++)
        ;
    uint32_t owner = swapsim_swapdev_owner(sd, s);
    assert_int_equal(swapsim_swapdev_free(sd, s), 0);
    err[0] = '\0';
    assert_int_equal(swapsim_guest_check(fx.g, err, sizeof(err)), -EFAULT);
    char want[64];
    snprintf(want, sizeof(want), "page %u: slot %u allocated=0", owner, s);
    if (!strstr(err, want))
        fail_msg("check said '%s', not '%s'", err, want);
    /* put it back as it was, so swapoff finds the page */
    uint32_t again;
    assert_int_equal(swapsim_swapdev_alloc(sd, owner, &again), 0);
    assert_int_equal(again, s);
    assert_int_equal(swapsim_guest_check(fx.g, err, sizeof(err)), -EFAULT);
    assert_non_null(strstr(err, "on disk=0")); /* the file copy is not claimed */
    swapsim_guest_destroy(fx.g);
    tmem_client_destroy(fx.client);
    tmem_destroy(fx.tm);
}

struct hook_state {
    struct tmem *tm;
    int calls;
};

static void shrink_hook(void *arg, struct swapsim_guest *g)
{
    struct hook_state *hs = arg;
    (void)g;
    hs->calls++;
    /* alternate: drop to zero, then give room back */
    tmem_set_capacity(hs->tm, hs->calls % 2 ? 0 : TMEM_CAPACITY_UNLIMITED);
}

static void run_shrink_during_swapout(bool exclusive, bool wt)
{
    struct tmem_config tc;
    struct swapsim_guest_config gc;
    struct tmem *tm;
    struct tmem_client *client;
    struct swapsim_guest *g;
    struct hook_state hs = {0};
    char err[256];

    tmem_config_init(&tc);
    tm = tmem_create(&tc);
    assert_non_null(tm);
    client = tmem_client_create(tm, "t");
    hs.tm = tm;
    swapsim_guest_config_init(&gc, 4, 32);
    gc.exclusive_loads = exclusive;
    gc.write_through = wt;
    gc.swapout_hook = shrink_hook;
    gc.hook_arg = &hs;
    gc.quiet = true;
    assert_int_equal(swapsim_guest_create(&gc, client, &g, err, sizeof(err)), 0);
    for (int round = 0; round < 4; round++) {
        write_all(g, 32);
        read_all(g, 32);
        check(g);
    }
    struct swapsim_counters c = counters(g);
    assert_true(hs.calls > 10);
    assert_true(c.shrink_pages > 0);
    assert_int_equal(c.mismatches, 0);
    assert_int_equal(swapsim_guest_swapoff(g), 0);
    c = counters(g);
    assert_int_equal(c.leaked_slots, 0);
    assert_int_equal(c.leaked_tmem_pages, 0);
    swapsim_guest_destroy(g);
    tmem_client_destroy(client);
    tmem_destroy(tm);
}

static void test_shrink_request_in_middle_of_swapout(void **state)
{
    (void)state;
    run_shrink_during_swapout(false, false);
    run_shrink_during_swapout(true, false);
    run_shrink_during_swapout(false, true);
}

static void test_self_shrink_gives_back_idle_pages(void **state)
{
    struct tmem_config tc;
    struct swapsim_guest_config gc;
    struct tmem *tm;
    struct tmem_client *client;
    struct swapsim_guest *g;
    struct tmem_stats st;
    char err[256];
    (void)state;

    tmem_config_init(&tc);
    tm = tmem_create(&tc);
    client = tmem_client_create(tm, "t");
    swapsim_guest_config_init(&gc, 4, 64);
    gc.selfshrink_age = 100;
    gc.selfshrink_interval = 16;
    gc.quiet = true;
    assert_int_equal(swapsim_guest_create(&gc, client, &g, err, sizeof(err)), 0);
    write_all(g, 64); /* 60 pages in frontswap, stored at accesses 5..64 */
    for (int i = 0; i < 40; i++) /* only pages 60..63 until access 104 */
        touch(g, 60 + (uint32_t)(i % 4), SWAPSIM_READ);
    /* nothing has idled for 100 accesses yet: nothing given back */
    struct swapsim_counters c = counters(g);
    assert_int_equal(c.selfshrink_pages, 0);
    assert_int_equal(c.frontswap_pages, 60);
    for (int i = 40; i < 400; i++) /* the rest idles */
        touch(g, 60 + (uint32_t)(i % 4), SWAPSIM_READ);
    c = counters(g);
    assert_int_equal(c.selfshrink_pages, 60);
    assert_int_equal(tmem_pool_stats(client, swapsim_guest_pool(g), &st), 0);
    assert_int_equal(st.pages, 0);
    check(g);
    read_all(g, 64);
    assert_int_equal(counters(g).mismatches, 0);
    swapsim_guest_destroy(g);
    tmem_client_destroy(client);
    tmem_destroy(tm);
}

static void test_mismatch_is_fatal_with_page_slot_history(void **state)
{
    struct fixture fx;
    (void)state;
    setup_guest(&fx, 0, 4, 8, false, false); /* everything on the swap file */
    write_all(fx.g, 8);
    /* page 0 went to some slot: corrupt every used slot */
    for (uint32_t s = 0; s < 8; s++)
        if (swapsim_swapdev_in_use(swapsim_guest_swapdev(fx.g), s))
            assert_int_equal(swapsim_swapdev_corrupt(swapsim_guest_swapdev(fx.g), s), 0);
    struct swapsim_access a = {.vpage = 0, .op = SWAPSIM_READ};
    assert_int_equal(swapsim_guest_access(fx.g, &a), -EIO);
    const char *msg = swapsim_guest_error(fx.g);
    assert_non_null(strstr(msg, "MISMATCH"));
    assert_non_null(strstr(msg, "page 0"));
    assert_non_null(strstr(msg, "slot"));
    assert_non_null(strstr(msg, "history"));
    assert_non_null(strstr(msg, "store-disk"));
    assert_int_equal(counters(fx.g).mismatches, 1);
    /* the guest refuses further work */
    assert_int_equal(swapsim_guest_access(fx.g, &a), -EIO);
    swapsim_guest_destroy(fx.g);
    tmem_client_destroy(fx.client);
    tmem_destroy(fx.tm);
}

static void test_several_guests_share_one_store(void **state)
{
    struct tmem *tm = tmem_create(NULL);
    struct tmem_client *c[3];
    struct swapsim_guest *g[3];
    struct swapsim_guest_config gc;
    struct tmem_stats st;
    char err[256];
    (void)state;

    for (int i = 0; i < 3; i++) {
        c[i] = tmem_client_create(tm, "g");
        swapsim_guest_config_init(&gc, 4, 32);
        gc.seed = 10 + (uint64_t)i;
        gc.quiet = true;
        assert_int_equal(swapsim_guest_create(&gc, c[i], &g[i], err, sizeof(err)), 0);
        write_all(g[i], 32);
    }
    assert_int_equal(tmem_stats(tm, &st), 0);
    assert_int_equal(st.pages, 3 * 28);
    assert_int_equal(tmem_set_capacity(tm, 0), 0); /* every guest is asked */
    for (int i = 0; i < 3; i++) {
        struct swapsim_counters k = counters(g[i]);
        assert_int_equal(k.shrink_pages, 28);
        read_all(g[i], 32);
        assert_int_equal(counters(g[i]).mismatches, 0);
        check(g[i]);
    }
    for (int i = 0; i < 3; i++) {
        swapsim_guest_destroy(g[i]);
        tmem_client_destroy(c[i]);
    }
    assert_int_equal(tmem_stats(tm, &st), 0);
    assert_int_equal(st.pages, 0);
    tmem_destroy(tm);
}

static void test_lru_evicts_least_recently_used(void **state)
{
    struct tmem *tm = tmem_create(NULL);
    struct tmem_client *client = tmem_client_create(tm, "t");
    struct swapsim_guest_config gc;
    struct swapsim_guest *g;
    char err[256];
    (void)state;

    swapsim_guest_config_init(&gc, 4, 8);
    gc.reclaim = GUEST_REPLACE_LRU;
    gc.quiet = true;
    assert_int_equal(swapsim_guest_create(&gc, client, &g, err, sizeof(err)), 0);
    write_all(g, 4);              /* RAM: 0 1 2 3 */
    touch(g, 0, SWAPSIM_READ);    /* 0 becomes most recent */
    touch(g, 4, SWAPSIM_WRITE);   /* evicts 1 */
    touch(g, 0, SWAPSIM_READ);    /* still resident: no fault */
    struct swapsim_counters k = counters(g);
    assert_int_equal(k.major_faults, 0);
    touch(g, 1, SWAPSIM_READ);    /* was evicted: major fault */
    k = counters(g);
    assert_int_equal(k.major_faults, 1);
    swapsim_guest_destroy(g);
    tmem_client_destroy(client);
    tmem_destroy(tm);
}

static void test_clock_gives_second_chance(void **state)
{
    struct tmem *tm = tmem_create(NULL);
    struct tmem_client *client = tmem_client_create(tm, "t");
    struct swapsim_guest_config gc;
    struct swapsim_guest *g;
    char err[256];
    (void)state;

    swapsim_guest_config_init(&gc, 4, 16);
    gc.quiet = true;
    assert_int_equal(swapsim_guest_create(&gc, client, &g, err, sizeof(err)), 0);
    write_all(g, 4);            /* all referenced */
    touch(g, 4, SWAPSIM_WRITE); /* sweep clears all bits, evicts frame of page 0 */
    touch(g, 2, SWAPSIM_READ);  /* page 2 referenced again */
    touch(g, 5, SWAPSIM_WRITE); /* hand at page 1's frame: unreferenced, evicted */
    touch(g, 6, SWAPSIM_WRITE); /* page 2 has its second chance: page 3 goes */
    touch(g, 2, SWAPSIM_READ);
    assert_int_equal(counters(g).major_faults, 0);
    touch(g, 3, SWAPSIM_READ);
    assert_int_equal(counters(g).major_faults, 1);
    swapsim_guest_destroy(g);
    tmem_client_destroy(client);
    tmem_destroy(tm);
}

/* A guest with frontswap off (every swap-out goes to the file) on the
 * block device dev (NULL: one of its own), swap area `type`. */
static struct swapsim_guest *plain_guest(uint32_t ram, uint32_t vpages, uint32_t type,
                                         struct guest_device *dev)
{
    struct swapsim_guest_config gc;
    struct swapsim_guest *g;
    char err[256] = "";

    swapsim_guest_config_init(&gc, ram, vpages);
    gc.frontswap = false;
    gc.swap_type = type;
    gc.device = dev;
    gc.quiet = true;
    if (swapsim_guest_create(&gc, NULL, &g, err, sizeof(err)) != 0)
        fail_msg("guest: %s", err);
    return g;
}

/* Rule: every swap file write and read is a request on the block device at
 * slot * page size, one page long; consecutive slots continue each other
 * (sequential), anything else is random. A scan writing 32 pages through 4
 * frames swaps pages 0..27 out to slots 0..27 in order: 1 random write
 * (the first) + 27 sequential; swapoff reads them back in page order, i.e.
 * slot order: 1 random read (the head is past slot 27) + 27 sequential. */
static void test_consecutive_slots_are_sequential_requests_on_the_device(void **state)
{
    struct guest_device dev;
    struct guest_device_counts dc;
    struct swapsim_guest *g;
    struct swapsim_counters c;
    (void)state;

    assert_int_equal(guest_device_init(&dev), 0);
    g = plain_guest(4, 32, 0, &dev);
    write_all(g, 32);
    for (uint32_t s = 0; s < 28; s++)
        assert_int_equal(swapsim_swapdev_owner(swapsim_guest_swapdev(g), s), s);
    c = counters(g);
    assert_int_equal(c.pswpout, 28);
    assert_int_equal(c.device_random_requests, 1);
    assert_int_equal(c.device_sequential_requests, 27);
    assert_int_equal(swapsim_guest_swapoff(g), 0);
    c = counters(g);
    assert_int_equal(c.pswpin, 28);
    assert_int_equal(c.device_random_requests, 2);
    assert_int_equal(c.device_sequential_requests, 54);
    /* the device saw the same requests, the writes and reads apart */
    guest_device_counts(&dev, &dc);
    assert_int_equal(dc.random_requests, 2);
    assert_int_equal(dc.sequential_requests, 54);
    assert_int_equal(dc.write_bytes, 28 * 4096);
    assert_int_equal(dc.read_bytes, 28 * 4096);
    swapsim_guest_destroy(g);
    guest_device_destroy(&dev);
}

/* Rule: guests on one device are streams of one head (their swap areas):
 * two guests scanning in turn interleave their requests, so none is
 * sequential, while the same scan alone on a device is (1 random + 6
 * sequential writes); the device counts what the guests count. */
static void test_guests_on_one_device_interleave_into_random_requests(void **state)
{
    struct guest_device dev;
    struct guest_device_counts dc;
    struct swapsim_guest *g[2], *alone;
    struct swapsim_counters a, b;
    (void)state;

    assert_int_equal(guest_device_init(&dev), 0);
    g[0] = plain_guest(1, 8, 0, &dev);
    g[1] = plain_guest(1, 8, 1, &dev);
    alone = plain_guest(1, 8, 0, NULL);
    for (uint32_t v = 0; v < 8; v++) {
        touch(g[0], v, SWAPSIM_WRITE);
        touch(g[1], v, SWAPSIM_WRITE);
        touch(alone, v, SWAPSIM_WRITE);
    }
    a = counters(g[0]);
    b = counters(g[1]);
    assert_int_equal(a.pswpout, 7);
    assert_int_equal(a.device_random_requests, 7);
    assert_int_equal(a.device_sequential_requests, 0);
    assert_int_equal(b.device_random_requests, 7);
    assert_int_equal(b.device_sequential_requests, 0);
    a = counters(alone);
    assert_int_equal(a.device_random_requests, 1);
    assert_int_equal(a.device_sequential_requests, 6);
    guest_device_counts(&dev, &dc);
    assert_int_equal(dc.random_requests, 14);
    assert_int_equal(dc.sequential_requests, 0);
    assert_int_equal(dc.write_bytes, 14 * 4096);
    swapsim_guest_destroy(alone);
    swapsim_guest_destroy(g[0]);
    swapsim_guest_destroy(g[1]);
    guest_device_destroy(&dev);
}

static void test_slot_allocator_fills_frees_and_reuses(void **state)
{
    struct swapsim_swapdev *sd;
    char err[256];
    uint32_t s, seen[70] = {0};
    char page[4096], back[4096];
    (void)state;

    assert_int_equal(swapsim_swapdev_create(NULL, 70, 4096, &sd, err, sizeof(err)), 0);
    for (uint32_t i = 0; i < 70; i++) {
        assert_int_equal(swapsim_swapdev_alloc(sd, 1000 + i, &s), 0);
        assert_true(s < 70);
        assert_int_equal(seen[s], 0);
        seen[s] = 1;
    }
    assert_int_equal(swapsim_swapdev_alloc(sd, 7, &s), -ENOSPC);
    assert_int_equal(swapsim_swapdev_used(sd), 70);
    assert_int_equal(swapsim_swapdev_free(sd, 65), 0);
    assert_int_equal(swapsim_swapdev_free(sd, 65), -EINVAL);
    assert_false(swapsim_swapdev_in_use(sd, 65));
    assert_int_equal(swapsim_swapdev_alloc(sd, 7, &s), 0);
    assert_int_equal(s, 65);
    memset(page, 0x3c, sizeof(page));
    assert_int_equal(swapsim_swapdev_write(sd, 69, page), 0);
    assert_int_equal(swapsim_swapdev_read(sd, 69, back), 0);
    assert_memory_equal(page, back, sizeof(page));
    assert_int_equal(swapsim_swapdev_write(sd, 70, page), -EINVAL);
    swapsim_swapdev_destroy(sd);
    assert_int_equal(swapsim_swapdev_create("/nonexistent/dir", 4, 4096, &sd, err,
                                            sizeof(err)) < 0, 1);
    assert_non_null(strstr(err, "/nonexistent/dir"));
}

/* The slot table is the swap device's: alloc names the owner page, a write
 * marks the slot on disk, free clears both, so a reused slot never claims
 * its former page's owner or file copy. */
static void test_slot_table_tracks_owner_and_disk_copy(void **state)
{
    struct swapsim_swapdev *sd;
    char err[256], page[4096];
    uint32_t a, b;
    (void)state;

    memset(page, 0x5a, sizeof(page));
    assert_int_equal(swapsim_swapdev_create(NULL, 4, 4096, &sd, err, sizeof(err)), 0);
    assert_int_equal(swapsim_swapdev_owner(sd, 0), SWAPSIM_NONE);
    assert_int_equal(swapsim_swapdev_write(sd, 0, page), -EINVAL); /* not allocated */
    assert_false(swapsim_swapdev_on_disk(sd, 0));
    assert_int_equal(swapsim_swapdev_alloc(sd, 11, &a), 0);
    assert_int_equal(swapsim_swapdev_alloc(sd, 12, &b), 0);
    assert_int_equal(swapsim_swapdev_owner(sd, a), 11);
    assert_int_equal(swapsim_swapdev_owner(sd, b), 12);
    assert_false(swapsim_swapdev_on_disk(sd, a));
    assert_int_equal(swapsim_swapdev_write(sd, a, page), 0);
    assert_true(swapsim_swapdev_on_disk(sd, a));
    assert_false(swapsim_swapdev_on_disk(sd, b));
    assert_int_equal(swapsim_swapdev_free(sd, a), 0);
    assert_int_equal(swapsim_swapdev_owner(sd, a), SWAPSIM_NONE);
    assert_false(swapsim_swapdev_on_disk(sd, a));
    assert_int_equal(swapsim_swapdev_read(sd, a, page), -EINVAL); /* freed */
    /* fill the device: one of the allocations reuses slot a */
    uint32_t s, owner_of_a = SWAPSIM_NONE;
    for (uint32_t owner = 20; swapsim_swapdev_alloc(sd, owner, &s) == 0; owner++) {
        assert_int_equal(swapsim_swapdev_owner(sd, s), owner);
        if (s == a)
            owner_of_a = owner;
    }
    assert_int_equal(swapsim_swapdev_used(sd), 4);
    assert_int_not_equal(owner_of_a, SWAPSIM_NONE);
    assert_int_equal(swapsim_swapdev_owner(sd, a), owner_of_a);
    assert_false(swapsim_swapdev_on_disk(sd, a)); /* the old copy is not claimed */
    assert_int_equal(swapsim_swapdev_owner(sd, b), 12);
    assert_int_equal(swapsim_swapdev_owner(sd, 4), SWAPSIM_NONE); /* out of range */
    assert_false(swapsim_swapdev_on_disk(sd, 4));
    swapsim_swapdev_destroy(sd);
}

static void test_content_is_deterministic_and_mixed(void **state)
{
    struct swapsim_content_mix mix;
    static uint8_t a[4096], b[4096];
    int classes[4] = {0};
    (void)state;

    swapsim_content_mix_default(&mix);
    swapsim_content_fill(a, 4096, 7, &mix, 123, 4);
    swapsim_content_fill(b, 4096, 7, &mix, 123, 4);
    assert_memory_equal(a, b, 4096);
    for (uint32_t v = 0; v < 4000; v++) {
        const char *c = swapsim_content_class(7, &mix, v, 0);
        classes[strcmp(c, "zero") == 0 ? 0 : strcmp(c, "dup") == 0 ? 1
                 : strcmp(c, "compressible") == 0 ? 2 : 3]++;
    }
    /* 10% / 10% / 50% / 30% within a few points */
    assert_true(classes[0] > 300 && classes[0] < 500);
    assert_true(classes[1] > 300 && classes[1] < 500);
    assert_true(classes[2] > 1800 && classes[2] < 2200);
    assert_true(classes[3] > 1000 && classes[3] < 1400);
    /* a new version of a non-zero page differs */
    int differ = 0;
    for (uint32_t v = 0; v < 50; v++) {
        swapsim_content_fill(a, 4096, 7, &mix, v, 1);
        swapsim_content_fill(b, 4096, 7, &mix, v, 2);
        differ += memcmp(a, b, 4096) != 0;
    }
    assert_true(differ >= 40);
    mix.compressible_permille = 900;
    assert_int_equal(swapsim_content_mix_check(&mix), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_swapout_tries_frontswap_first),
        cmocka_unit_test(test_fault_loads_from_frontswap_when_map_says_so),
        cmocka_unit_test(test_rejected_store_goes_to_swap_file),
        cmocka_unit_test(test_load_is_nondestructive_by_default),
        cmocka_unit_test(test_exclusive_load_frees_copy_and_page_returns_dirty),
        cmocka_unit_test(test_rewrite_invalidates_slot),
        cmocka_unit_test(test_unmap_invalidates_slot),
        cmocka_unit_test(test_swapoff_invalidates_area_and_leaks_nothing),
        cmocka_unit_test(test_write_through_stores_page_in_both),
        cmocka_unit_test(test_write_through_shrink_drops_without_io),
        cmocka_unit_test(test_shrink_moves_pages_to_swap_file),
        cmocka_unit_test(test_shrink_partial_capacity_keeps_store_within_budget),
        cmocka_unit_test(test_shrink_brings_pages_into_free_ram),
        cmocka_unit_test(test_shrink_gives_back_least_recently_used_first),
        cmocka_unit_test(test_frontswap_failed_store_forgets_older_copy),
        cmocka_unit_test(test_frontswap_orders_slots_by_last_store_or_load),
        cmocka_unit_test(test_frontswap_check_finds_order_broken),
        cmocka_unit_test(test_check_finds_broken_invariants),
        cmocka_unit_test(test_shrink_request_in_middle_of_swapout),
        cmocka_unit_test(test_self_shrink_gives_back_idle_pages),
        cmocka_unit_test(test_mismatch_is_fatal_with_page_slot_history),
        cmocka_unit_test(test_several_guests_share_one_store),
        cmocka_unit_test(test_lru_evicts_least_recently_used),
        cmocka_unit_test(test_clock_gives_second_chance),
        cmocka_unit_test(test_consecutive_slots_are_sequential_requests_on_the_device),
        cmocka_unit_test(test_guests_on_one_device_interleave_into_random_requests),
        cmocka_unit_test(test_slot_allocator_fills_frees_and_reuses),
        cmocka_unit_test(test_slot_table_tracks_owner_and_disk_copy),
        cmocka_unit_test(test_content_is_deterministic_and_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
