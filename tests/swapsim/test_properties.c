/*
 * test_properties.c - property tests: random workloads x random capacity
 * schedules (drops to zero, shrink requests in the middle of swap-out,
 * direct shrink calls) x every frontswap mode, over many seeds. For every
 * run: zero mismatches, the guest's invariants hold throughout, zero leaked
 * slots and zero leaked tmem pages after swapoff (pool and store counts),
 * and every swap file read and write noted once on the block device.
 * SWAPSIM_PROP_SEEDS (environment) overrides the number of seeds.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/rng.h"
#include "swapsim/swapsim.h"

enum mode { MODE_DEFAULT, MODE_EXCLUSIVE, MODE_WRITETHROUGH, MODE_BOTH, MODE_ZSWAP, MODE_COUNT };
static const char *const mode_names[] = {"default", "exclusive-loads", "write-through",
                                         "exclusive+write-through", "zswap model"};


static unsigned seeds(unsigned dflt)
{
    const char *e = getenv("SWAPSIM_PROP_SEEDS");
    return e && atoi(e) > 0 ? (unsigned)atoi(e) : dflt;
}

struct prop {
    struct tmem *tm;
    uint64_t rng;
    uint64_t max_bytes;
    unsigned hook_calls;
};

static uint64_t random_capacity(struct prop *p)
{
    switch (rng_next(&p->rng) % 4) {
    case 0:
        return 0;
    case 1:
        return TMEM_CAPACITY_UNLIMITED;
    default:
        return rng_next(&p->rng) % p->max_bytes;
    }
}

/* In the middle of a swap-out: sometimes change the capacity. */
static void hook(void *arg, struct swapsim_guest *g)
{
    struct prop *p = arg;
    (void)g;
    if (rng_next(&p->rng) % 8 == 0) {
        p->hook_calls++;
        tmem_set_capacity(p->tm, random_capacity(p));
    }
}

static void one_run(uint64_t seed, enum mode mode)
{
    struct prop p = {.rng = seed * 7919 + (uint64_t)mode};
    struct tmem_config tc;
    struct swapsim_guest_config gc;
    struct swapsim_gen_config gen;
    struct tmem_client *client;
    struct swapsim_guest *g;
    struct swapsim_workload *wl;
    struct swapsim_access acc;
    struct swapsim_counters c;
    struct tmem_stats st;
    char err[512] = "";
    uint32_t ram = 4 + (uint32_t)(rng_next(&p.rng) % 29);
    uint32_t vpages = ram * (2 + (uint32_t)(rng_next(&p.rng) % 7));
    uint64_t n = 0;
    int r;

    tmem_config_init(&tc);
    /* a quarter without compression, a quarter zstd, half lz4 */
    switch (rng_next(&p.rng) % 4) {
    case 0: tc.compressor = TMEM_COMPRESSOR_NONE; break;
    case 3: tc.compressor = TMEM_COMPRESSOR_ZSTD; break;
    default: tc.compressor = TMEM_COMPRESSOR_LZ4; break;
    }
    tc.dedup = rng_next(&p.rng) % 4 != 0;
    tc.hysteresis = rng_next(&p.rng) % 4 == 0;
    if (mode == MODE_ZSWAP) { /* as swapsim_config_set_model configures it */
        tc.compressor = TMEM_COMPRESSOR_LZO;
        tc.budget = TMEM_BUDGET_ZSMALLOC;
        tc.dedup = tc.same_filled = false;
        tc.compress_threshold = 4096;
        tc.hysteresis = true;
        tc.accept_threshold_percent = 50 + (uint32_t)(rng_next(&p.rng) % 51);
    }
    p.max_bytes = (uint64_t)vpages * 4096;
    tc.capacity_bytes = random_capacity(&p);
    p.tm = tmem_create(&tc);
    assert_non_null(p.tm);
    client = tmem_client_create(p.tm, "prop");
    assert_non_null(client);

    swapsim_guest_config_init(&gc, ram, vpages);
    gc.reclaim = rng_next(&p.rng) % 2 ? GUEST_REPLACE_LRU : GUEST_REPLACE_CLOCK;
    gc.exclusive_loads = mode == MODE_EXCLUSIVE || mode == MODE_BOTH;
    gc.write_through = mode == MODE_WRITETHROUGH || mode == MODE_BOTH;
    if (mode == MODE_ZSWAP) {
        gc.model = SWAPSIM_MODEL_ZSWAP;
        gc.accept_threshold_percent = tc.accept_threshold_percent;
    }
    gc.seed = seed;
    gc.quiet = true;
    gc.swapout_hook = hook;
    gc.hook_arg = &p;
    if (rng_next(&p.rng) % 3 == 0) {
        gc.selfshrink_age = 50 + rng_next(&p.rng) % 500;
        gc.selfshrink_interval = 32;
    }
    gc.mix.zero_permille = (uint32_t)(rng_next(&p.rng) % 200);
    gc.mix.dup_permille = (uint32_t)(rng_next(&p.rng) % 200);
    gc.mix.compressible_permille = (uint32_t)(rng_next(&p.rng) % 600);
    assert_int_equal(swapsim_guest_create(&gc, client, &g, err, sizeof(err)), 0);

    swapsim_gen_config_init(&gen, vpages, 1500 + rng_next(&p.rng) % 2500);
    gen.kind = (enum swapsim_gen_kind)(rng_next(&p.rng) % 5);
    gen.seed = seed;
    gen.write_permille = 200 + (uint32_t)(rng_next(&p.rng) % 400);
    gen.unmap_permille = (uint32_t)(rng_next(&p.rng) % 30);
    assert_int_equal(swapsim_gen_create(&gen, &wl, err, sizeof(err)), 0);

    while ((r = swapsim_workload_next(wl, &acc)) == 1) {
        r = swapsim_guest_access(g, &acc);
        if (r != 0)
            fail_msg("seed %" PRIu64 " mode %s access %" PRIu64 ": %d %s", seed,
                     mode_names[mode], n, r, swapsim_guest_error(g));
        n++;
        uint64_t dice = rng_next(&p.rng) % 1000;
        if (dice < 5)
            tmem_set_capacity(p.tm, random_capacity(&p));
        else if (dice < 8)
            assert_true(swapsim_guest_shrink(g, 1 + rng_next(&p.rng) % 16) >= 0);
        if (n % 128 == 0 && swapsim_guest_check(g, err, sizeof(err)) != 0)
            fail_msg("seed %" PRIu64 " mode %s access %" PRIu64 ": invariant: %s", seed,
                     mode_names[mode], n, err);
    }
    assert_int_equal(r, 0);
    if (swapsim_guest_check(g, err, sizeof(err)) != 0)
        fail_msg("seed %" PRIu64 " mode %s at end: invariant: %s", seed, mode_names[mode], err);
    r = swapsim_guest_swapoff(g);
    if (r != 0)
        fail_msg("seed %" PRIu64 " mode %s swapoff: %s", seed, mode_names[mode],
                 swapsim_guest_error(g));
    swapsim_guest_counters(g, &c);
    if (c.mismatches || c.leaked_slots || c.leaked_tmem_pages || c.failed_loads)
        fail_msg("seed %" PRIu64 " mode %s: mismatches %" PRIu64 " leaked slots %" PRIu64
                 " leaked tmem pages %" PRIu64 " failed loads %" PRIu64,
                 seed, mode_names[mode], c.mismatches, c.leaked_slots, c.leaked_tmem_pages,
                 c.failed_loads);
    /* every major fault verified its page; a run that swapped verified some */
    if (c.pages_verified < c.major_faults || (c.swap_outs > 0 && c.pages_verified == 0))
        fail_msg("seed %" PRIu64 " mode %s: verified %" PRIu64 " pages, %" PRIu64
                 " major faults, %" PRIu64 " swap-outs", seed, mode_names[mode],
                 c.pages_verified, c.major_faults, c.swap_outs);
    /* every swap file read and write was one request on the device */
    if (c.device_random_requests + c.device_sequential_requests != c.pswpin + c.pswpout)
        fail_msg("seed %" PRIu64 " mode %s: %" PRIu64 " random + %" PRIu64 " sequential "
                 "device requests for %" PRIu64 " pages in + %" PRIu64 " out", seed,
                 mode_names[mode], c.device_random_requests, c.device_sequential_requests,
                 c.pswpin, c.pswpout);
    assert_int_equal(c.slots_used, 0);
    assert_int_equal(tmem_stats(p.tm, &st), 0);
    assert_int_equal(st.pages, 0);
    swapsim_workload_destroy(wl);
    swapsim_guest_destroy(g);
    tmem_client_destroy(client);
    assert_int_equal(tmem_stats(p.tm, &st), 0);
    assert_int_equal(st.pages, 0);
    tmem_destroy(p.tm);
}

static void prop_runs(enum mode mode)
{
    unsigned n = seeds(60);
    for (uint64_t seed = 1; seed <= n; seed++)
        one_run(seed, mode);
}

static void test_no_loss_no_leak_random_schedules_default_mode(void **state)
{
    (void)state;
    prop_runs(MODE_DEFAULT);
}

static void test_no_loss_no_leak_random_schedules_exclusive_loads(void **state)
{
    (void)state;
    prop_runs(MODE_EXCLUSIVE);
}

static void test_no_loss_no_leak_random_schedules_write_through(void **state)
{
    (void)state;
    prop_runs(MODE_WRITETHROUGH);
}

static void test_no_loss_no_leak_random_schedules_exclusive_write_through(void **state)
{
    (void)state;
    prop_runs(MODE_BOTH);
}

/* The zswap model (zero slots, writeback at the limit, exclusive loads,
 * the zsmalloc budget) under random workloads and capacity schedules:
 * nothing lost, nothing leaked, every invariant. */
static void test_no_loss_no_leak_random_schedules_zswap_model(void **state)
{
    (void)state;
    prop_runs(MODE_ZSWAP);
}

/* Several guests, one thread each (--concurrent), on one store; guest 0
 * fires a random schedule, partly inside its swap-outs, so other guests'
 * shrink callbacks run from guest 0's thread while they work. */
static void test_no_loss_no_leak_several_guests_threads(void **state)
{
    unsigned n = seeds(60) / 6 + 1;
    (void)state;
    for (uint64_t seed = 1; seed <= n; seed++) {
        for (int mode = 0; mode < MODE_COUNT; mode++) {
            struct swapsim_config cfg;
            struct swapsim_result res;
            char err[2048] = "";
            uint64_t rng = seed * 31 + (uint64_t)mode;
            swapsim_config_init(&cfg);
            if (mode == MODE_ZSWAP)
                swapsim_config_set_model(&cfg, SWAPSIM_MODEL_ZSWAP);
            cfg.concurrent = true;
            cfg.guests = 2 + (uint32_t)(rng_next(&rng) % 3);
            cfg.guest.ram_pages = 16;
            cfg.guest.vpages = 96;
            cfg.guest.quiet = true;
            cfg.guest.exclusive_loads = mode == MODE_EXCLUSIVE || mode == MODE_BOTH || mode == MODE_ZSWAP;
            cfg.guest.write_through = mode == MODE_WRITETHROUGH || mode == MODE_BOTH;
            cfg.gen.vpages = 96;
            cfg.gen.accesses = 3000;
            cfg.gen.kind = SWAPSIM_GEN_MIX;
            cfg.gen.seed = seed;
            cfg.tmem.capacity_bytes = TMEM_CAPACITY_UNLIMITED;
            cfg.baseline = seed == 1;
            cfg.nevents = 6;
            for (uint32_t i = 0; i < cfg.nevents; i++) {
                cfg.events[i].at = (i + 1) * 400;
                cfg.events[i].bytes = i % 3 == 1 ? 0 : rng_next(&rng) % (256 * 4096);
                cfg.events[i].during_swapout = rng_next(&rng) % 2;
            }
            int r = swapsim_run(&cfg, &res, err, sizeof(err));
            if (r != 0)
                fail_msg("seed %" PRIu64 " mode %s: %s", seed, mode_names[mode], err);
            assert_int_equal(res.total.mismatches, 0);
            assert_int_equal(res.total.leaked_slots, 0);
            assert_int_equal(res.total.leaked_tmem_pages, 0);
            assert_int_equal(res.store_pages_after, 0);
            assert_int_equal(res.total.accesses, 3000ULL * cfg.guests);
            assert_true(res.total.pages_verified > 0);
            /* the guests' requests on their one device, from any thread */
            assert_int_equal(res.total.device_random_requests +
                                 res.total.device_sequential_requests,
                             res.total.pswpin + res.total.pswpout);
            if (res.have_baseline) {
                assert_int_equal(res.baseline.mismatches, 0);
                assert_int_equal(res.baseline.succ_stores, 0);
                assert_int_equal(res.baseline.leaked_slots, 0);
            }
            swapsim_result_free(&res);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_loss_no_leak_random_schedules_default_mode),
        cmocka_unit_test(test_no_loss_no_leak_random_schedules_exclusive_loads),
        cmocka_unit_test(test_no_loss_no_leak_random_schedules_write_through),
        cmocka_unit_test(test_no_loss_no_leak_random_schedules_exclusive_write_through),
        cmocka_unit_test(test_no_loss_no_leak_random_schedules_zswap_model),
        cmocka_unit_test(test_no_loss_no_leak_several_guests_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
