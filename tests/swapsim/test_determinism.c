/*
 * test_determinism.c - same seed, same numbers: a swapsim run repeats
 * exactly, every counter (totals, per guest, the baseline, every sample,
 * the store's statistics at the end), in the frontswap and the zswap
 * model, with one guest and with several stepped round robin (the
 * default). Several guests with --concurrent (a thread each) are not
 * repeatable, but still verify every page they load.
 * The runs use tight stores, where which stores are refused depends on the
 * exact bytes the store holds, so a difference anywhere shows.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "swapsim/swapsim.h"

/* A small run: 1 MiB of RAM, 4 MiB of address space, 40000 accesses per
 * guest, a store of `capacity` bytes dropping to a quarter at access
 * 20000 (a shrink), samples every 4000 accesses. */
static void config_small(struct swapsim_config *cfg, enum swapsim_model model, uint32_t guests,
                         uint64_t capacity)
{
    char err[256];

    swapsim_config_init(cfg);
    swapsim_config_set_model(cfg, model);
    cfg->guests = guests;
    cfg->guest.ram_pages = 256;
    cfg->guest.vpages = 1024;
    cfg->guest.quiet = true;
    cfg->gen.vpages = 1024;
    cfg->gen.accesses = 40000;
    cfg->gen.seed = cfg->guest.seed = 7;
    cfg->tmem.capacity_bytes = capacity;
    cfg->sample_every = 4000;
    assert_int_equal(swapsim_parse_schedule(cfg, "20000:64K", err, sizeof(err)), 0);
    cfg->tmem.capacity_bytes = capacity;
}

static void run(const struct swapsim_config *cfg, struct swapsim_result *res)
{
    char err[512] = "";
    int r = swapsim_run(cfg, res, err, sizeof(err));
    if (r != 0)
        fail_msg("run failed: %d: %s", r, err);
    assert_int_equal(res->total.mismatches, 0);
    assert_int_equal(res->total.leaked_slots, 0);
    assert_int_equal(res->total.leaked_tmem_pages, 0);
}

/* Every counter of a and b, named where they differ. */
static void expect_same_counters(const char *what, const struct swapsim_counters *a,
                                 const struct swapsim_counters *b)
{
#define SAME_COUNTER(name, help)                                                            \
    if (a->name != b->name)                                                                 \
        fail_msg("%s: %s differs: %llu then %llu", what, #name, (unsigned long long)a->name, \
                 (unsigned long long)b->name);
    SWAPSIM_COUNTERS(SAME_COUNTER)
#undef SAME_COUNTER
}

static void expect_same_results(const struct swapsim_result *a, const struct swapsim_result *b)
{
    char what[64];

    expect_same_counters("total", &a->total, &b->total);
    expect_same_counters("baseline", &a->baseline, &b->baseline);
    for (uint32_t i = 0; i < a->guests; i++) {
        snprintf(what, sizeof(what), "guest %u", i);
        expect_same_counters(what, &a->per_guest[i], &b->per_guest[i]);
    }
    assert_int_equal(a->nsamples, b->nsamples);
    for (size_t i = 0; i < a->nsamples; i++) {
        snprintf(what, sizeof(what), "sample %zu (guest %u at %llu)", i, a->samples[i].guest,
                 (unsigned long long)a->samples[i].at);
        assert_int_equal(a->samples[i].guest, b->samples[i].guest);
        assert_int_equal(a->samples[i].at, b->samples[i].at);
        assert_int_equal(a->samples[i].capacity, b->samples[i].capacity);
        expect_same_counters(what, &a->samples[i].c, &b->samples[i].c);
    }
    assert_int_equal(a->store.puts, b->store.puts);
    assert_int_equal(a->store.failed_puts, b->store.failed_puts);
    assert_int_equal(a->store.data_bytes, b->store.data_bytes);
    assert_int_equal(a->store.metadata_bytes, b->store.metadata_bytes);
    assert_int_equal(a->store_budget_used, b->store_budget_used);
}

/* Run cfg twice in this process and compare everything; the runs must
 * have refused some stores (else the test would show little). */
static void twice(const struct swapsim_config *cfg)
{
    struct swapsim_result a, b;

    run(cfg, &a);
    run(cfg, &b);
    assert_true(a.total.failed_stores > 0);
    assert_true(a.total.succ_stores > 0);
    expect_same_results(&a, &b);
    swapsim_result_free(&a);
    swapsim_result_free(&b);
}

/* Rule: one guest, frontswap model, a tight store: two runs, the same
 * counters. */
static void test_one_guest_frontswap_repeats(void **state)
{
    struct swapsim_config cfg;
    (void)state;
    config_small(&cfg, SWAPSIM_MODEL_FRONTSWAP, 1, 256 << 10);
    twice(&cfg);
}

/* Rule: one guest, zswap model (writeback at the limit): two runs, the
 * same counters. */
static void test_one_guest_zswap_repeats(void **state)
{
    struct swapsim_config cfg;
    struct swapsim_result a;
    (void)state;
    config_small(&cfg, SWAPSIM_MODEL_ZSWAP, 1, 256 << 10);
    twice(&cfg);
    run(&cfg, &a);
    assert_true(a.total.written_back_pages > 0);
    swapsim_result_free(&a);
}

/* Rule: several guests, stepped round robin by one thread (the default):
 * two runs, the same counters, per guest too; both models. */
static void test_guests_round_robin_repeat(void **state)
{
    struct swapsim_config cfg;
    (void)state;
    config_small(&cfg, SWAPSIM_MODEL_FRONTSWAP, 3, 512 << 10);
    assert_false(cfg.concurrent);
    twice(&cfg);
    config_small(&cfg, SWAPSIM_MODEL_ZSWAP, 3, 512 << 10);
    twice(&cfg);
}

/* Rule: --concurrent keeps the free-running threads (not repeatable):
 * every page each guest loads is still verified, with no mismatch and no
 * leak, in both models. */
static void test_guests_concurrent_still_verify(void **state)
{
    struct swapsim_config cfg;
    struct swapsim_result res;
    (void)state;
    for (int model = 0; model < 2; model++) {
        config_small(&cfg, (enum swapsim_model)model, 3, 512 << 10);
        cfg.concurrent = true;
        run(&cfg, &res);
        assert_true(res.total.pages_verified > 0);
        assert_int_equal(res.total.accesses, 3 * 40000);
        swapsim_result_free(&res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_guest_frontswap_repeats),
        cmocka_unit_test(test_one_guest_zswap_repeats),
        cmocka_unit_test(test_guests_round_robin_repeat),
        cmocka_unit_test(test_guests_concurrent_still_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
