/*
 * test_zswap_mode.c - one test per rule of the swap guest's zswap model
 * (docs/swapsim.md, "zswap mode"), against the real tmem core configured
 * as swapsim_config_set_model configures it. Each test builds a tiny guest
 * (a few frames, a few dozen pages) whose page contents are all of one
 * class (zero, compressible or random: --content), drives accesses by hand
 * and checks the counters, the store and the slot table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "swapsim/swapsim.h"

#define PS 4096u

enum content { ZERO, COMPRESSIBLE, RANDOM };

struct fixture {
    struct swapsim_config cfg; /* the model's store and guest settings */
    struct tmem *tm;
    struct tmem_client *client;
    struct swapsim_guest *g;
};

/* A zswap guest of ram frames and vpages pages whose pages are all of
 * one content class, on a store of the given capacity configured for the
 * zswap model. The guest config asks for nothing else: exclusive loads
 * are left off here, the model must imply them. frontswap false: the
 * baseline (no store). */
static void setup_pool(struct fixture *fx, uint64_t capacity, uint32_t ram, uint32_t vpages,
                       enum content content, bool frontswap, bool bytes_pool)
{
    struct swapsim_guest_config gc;
    char err[256] = "";

    memset(fx, 0, sizeof(*fx));
    swapsim_config_init(&fx->cfg);
    swapsim_config_set_model(&fx->cfg, SWAPSIM_MODEL_ZSWAP);
    fx->cfg.tmem.capacity_bytes = capacity;
    if (bytes_pool) /* what tmem-swapsim --zswap-pool bytes sets */
        fx->cfg.tmem.budget = TMEM_BUDGET_ZSMALLOC;
    if (frontswap) {
        fx->tm = tmem_create(&fx->cfg.tmem);
        assert_non_null(fx->tm);
        fx->client = tmem_client_create(fx->tm, "zswap");
        assert_non_null(fx->client);
    }
    swapsim_guest_config_init(&gc, ram, vpages);
    gc.model = SWAPSIM_MODEL_ZSWAP;
    gc.frontswap = frontswap;
    gc.accept_threshold_percent = fx->cfg.tmem.accept_threshold_percent;
    gc.quiet = true;
    gc.mix.zero_permille = content == ZERO ? 1000 : 0;
    gc.mix.dup_permille = 0;
    gc.mix.compressible_permille = content == COMPRESSIBLE ? 1000 : 0;
    assert_int_equal(swapsim_guest_create(&gc, fx->client, &fx->g, err, sizeof(err)), 0);
}

/* The model's own pool count (zspages). */
static void setup(struct fixture *fx, uint64_t capacity, uint32_t ram, uint32_t vpages,
                  enum content content, bool frontswap)
{
    setup_pool(fx, capacity, ram, vpages, content, frontswap, false);
}

static void teardown(struct fixture *fx)
{
    struct swapsim_counters c;

    assert_int_equal(swapsim_guest_swapoff(fx->g), 0);
    swapsim_guest_counters(fx->g, &c);
    assert_int_equal(c.mismatches, 0);
    assert_int_equal(c.leaked_slots, 0);
    assert_int_equal(c.leaked_tmem_pages, 0);
    swapsim_guest_destroy(fx->g);
    tmem_client_destroy(fx->client);
    tmem_destroy(fx->tm);
}

static void touch(struct swapsim_guest *g, uint32_t v, enum swapsim_op op)
{
    struct swapsim_access a = {.vpage = v, .op = op};
    int r = swapsim_guest_access(g, &a);
    if (r != 0)
        fail_msg("access to page %u: %d (%s)", v, r, swapsim_guest_error(g));
}

static void check(struct swapsim_guest *g)
{
    char err[256] = "";
    if (swapsim_guest_check(g, err, sizeof(err)) != 0)
        fail_msg("invariant broken: %s", err);
}

static struct swapsim_counters counters(struct swapsim_guest *g)
{
    struct swapsim_counters c;
    swapsim_guest_counters(g, &c);
    return c;
}

static struct tmem_stats pool_stats(struct fixture *fx)
{
    struct tmem_stats st;
    assert_int_equal(tmem_pool_stats(fx->client, swapsim_guest_pool(fx->g), &st), 0);
    return st;
}

static void write_range(struct swapsim_guest *g, uint32_t from, uint32_t to)
{
    for (uint32_t v = from; v < to; v++)
        touch(g, v, SWAPSIM_WRITE);
}

/* Rule 1 (mm/zswap.c zswap_load): loads are exclusive. A page loaded from
 * the store leaves it (the pool loses it, the slot is released) and comes
 * back dirty, so evicting it again stores it again, though the guest's
 * config did not ask for exclusive loads: the model implies them. */
static void test_zswap_loads_are_exclusive(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;

    (void)state;
    setup(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, COMPRESSIBLE, true);
    write_range(fx.g, 0, 32); /* pages 0..27 swapped out, all stored */
    c = counters(fx.g);
    assert_int_equal(c.succ_stores, 28);
    assert_int_equal(pool_stats(&fx).pages, 28);
    for (uint32_t v = 0; v < 8; v++)
        touch(fx.g, v, SWAPSIM_READ);
    c = counters(fx.g);
    assert_int_equal(c.loads, 8);
    /* 8 loaded pages left the store; 8 resident pages (dirty: never
     * swapped) were stored in their place */
    assert_int_equal(c.succ_stores, 36);
    assert_int_equal(pool_stats(&fx).pages, 28);
    assert_int_equal(pool_stats(&fx).pages_got_exclusive, 8);
    assert_int_equal(c.clean_drops, 0);
    /* the loaded pages come back dirty: evicting them stores them again */
    write_range(fx.g, 8, 12);
    for (uint32_t v = 12; v < 16; v++)
        touch(fx.g, v, SWAPSIM_READ);
    c = counters(fx.g);
    assert_int_equal(c.clean_drops, 0);
    assert_int_equal(c.slots_used, c.frontswap_pages);
    check(fx.g);
    teardown(&fx);
}

/* Rule 2 (mm/page_io.c swap_writepage / swap_read_folio_zero, the swap
 * zeromap of mm/swapfile.c): an all-zero page never reaches the store or
 * the swap file: swap-out marks its slot zero (swpout_zero), swap-in fills
 * zeros (swpin_zero); with frontswap off too. */
static void test_zswap_zero_pages_bypass_store_and_disk(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;

    (void)state;
    for (int frontswap = 1; frontswap >= 0; frontswap--) {
        setup(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, ZERO, frontswap);
        write_range(fx.g, 0, 32);
        c = counters(fx.g);
        assert_int_equal(c.swap_outs, 28);
        assert_int_equal(c.swpout_zero, 28);
        assert_int_equal(c.succ_stores + c.failed_stores, 0);
        assert_int_equal(c.pswpout, 0);
        assert_int_equal(c.slots_used, 28);
        if (frontswap)
            assert_int_equal(pool_stats(&fx).pages, 0);
        for (uint32_t v = 0; v < 28; v++)
            touch(fx.g, v, SWAPSIM_READ);
        c = counters(fx.g);
        assert_int_equal(c.major_faults, 28);
        assert_int_equal(c.swpin_zero, 28);
        assert_int_equal(c.pswpin + c.loads, 0);
        assert_int_equal(c.pages_verified, 28);
        /* the 4 dirty pages evicted meanwhile went out as zero slots too;
         * a zero page swapped in stays clean with its slot: evicting it
         * again costs nothing (24 clean drops) */
        assert_int_equal(c.swpout_zero, 32);
        assert_int_equal(c.clean_drops, 24);
        check(fx.g);
        teardown(&fx);
    }
}

/* Rule 2, second half (zswap dropped its same-filled handling in 6.12): a
 * page that repeats one non-zero word is an ordinary page to the store:
 * compressed, not kept as its word. */
static void test_zswap_same_filled_nonzero_pages_are_ordinary(void **state)
{
    struct fixture fx;
    unsigned char page[PS];
    struct tmem_oid oid = {{99, 0, 0}};
    struct tmem_stats st;
    int pool;

    (void)state;
    setup(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, COMPRESSIBLE, true);
    assert_false(fx.cfg.tmem.same_filled);
    pool = tmem_new_pool(fx.client, TMEM_POOL_PERSIST, NULL);
    assert_true(pool >= 0);
    memset(page, 0x5a, sizeof(page));
    assert_int_equal(tmem_put(fx.client, pool, &oid, 0, page), 0);
    assert_int_equal(tmem_pool_stats(fx.client, pool, &st), 0);
    assert_int_equal(st.pages_same_filled, 0);
    assert_int_equal(st.pages_compressed, 1);
    assert_int_equal(tmem_destroy_pool(fx.client, pool), 0);
    teardown(&fx);
}

/* Rule 3 (zswap_total_pages: the zsmalloc pool's pages; zswap_entry in a
 * slab outside it): the limit counts page data only. Random pages are
 * stored raw, 4096 bytes each: a capacity of exactly 16 pages takes 16 of
 * them with no refusal (records and index are not counted), and the
 * store's budget use is exactly 16 pages. */
static void test_zswap_limit_counts_page_data_only(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;

    (void)state;
    setup(&fx, 16 * PS, 4, 64, RANDOM, true);
    assert_int_equal(fx.cfg.tmem.budget, TMEM_BUDGET_ZSPAGES); /* a raw page: a 1-page zspage */
    write_range(fx.g, 0, 20); /* 16 swap-outs */
    c = counters(fx.g);
    assert_int_equal(c.swap_outs, 16);
    assert_int_equal(c.succ_stores, 16);
    assert_int_equal(c.failed_stores, 0);
    assert_int_equal(c.pool_limit_hit, 0);
    assert_int_equal(tmem_budget_used(fx.tm), 16 * PS);
    check(fx.g);
    teardown(&fx);
}

/* Rule 3, zspages (zs_get_total_pages): the pool counts zsmalloc's whole
 * zspages, not the bytes stored. 48 compressible pages swapped out: the
 * budget's use is the live zspages' pages (tmem_zspage_totals), a whole
 * number of pages, and more than the same run counts with --zswap-pool
 * bytes (TMEM_BUDGET_ZSMALLOC: each page at its 16-byte class), which is
 * itself at least the stored bytes; freeing every other page (unmapped:
 * its entry invalidated) changes the zspage count by whole pages only,
 * while the bytes count falls by what was freed. */
static void test_zswap_limit_counts_zspages(void **state)
{
    uint64_t used[2][2], payload[2][2];

    (void)state;
    for (int bytes = 0; bytes < 2; bytes++) {
        struct fixture fx;
        struct tmem_zspage_totals t;

        setup_pool(&fx, TMEM_CAPACITY_UNLIMITED, 4, 64, COMPRESSIBLE, true, bytes);
        write_range(fx.g, 0, 52); /* 48 swap-outs */
        assert_int_equal(counters(fx.g).succ_stores, 48);
        assert_int_equal(pool_stats(&fx).pages_compressed, 48);
        for (int half = 0; half < 2; half++) {
            if (half)
                for (uint32_t v = 0; v < 48; v += 2)
                    touch(fx.g, v, SWAPSIM_UNMAP); /* freed: zswap_invalidate */
            used[bytes][half] = tmem_budget_used(fx.tm);
            payload[bytes][half] = pool_stats(&fx).compressed_payload_bytes;
            if (bytes) {
                assert_int_equal(tmem_zspage_totals(fx.tm, &t), -EINVAL);
                continue;
            }
            assert_int_equal(tmem_zspage_totals(fx.tm, &t), 0);
            assert_int_equal(t.pool_pages * PS, used[0][half]);
            assert_int_equal(t.objects, half ? 24 : 48);
        }
        assert_int_equal(pool_stats(&fx).pages_compressed, 24);
        check(fx.g);
        teardown(&fx);
    }
    assert_int_equal(payload[0][0], payload[1][0]); /* the same pages */
    assert_int_equal(payload[0][1], payload[1][1]);
    assert_true(used[1][0] >= payload[1][0] && used[1][0] < payload[1][0] + 48 * 24);
    assert_true(used[0][0] > used[1][0]);
    assert_true(used[0][1] > used[1][1]);
    assert_int_equal((used[0][0] - used[0][1]) % PS, 0);
    assert_true(used[1][0] - used[1][1] >= payload[1][0] - payload[1][1]);
}

/* Rule 4 (zswap since 6.16: incompressible pages stored as they are): a
 * page is stored raw only when its compressed form is not smaller than
 * the page: random pages raw (counted by the gauge
 * stored_incompressible_pages), compressible ones compressed; and a page
 * that compresses to between 3/4 and all of the page (85 % random) is
 * kept compressed, where the default store's threshold would keep it raw. */
static void test_zswap_incompressible_pages_stored_raw(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;
    unsigned char page[PS];
    struct tmem_oid oid = {{98, 0, 0}};
    struct tmem_stats st;
    uint64_t x = 12345;
    int pool;

    (void)state;
    setup(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, RANDOM, true);
    assert_int_equal(fx.cfg.tmem.compress_threshold, PS);
    write_range(fx.g, 0, 32);
    c = counters(fx.g);
    assert_int_equal(c.succ_stores, 28);
    assert_int_equal(c.stored_incompressible_pages, 28);
    assert_int_equal(pool_stats(&fx).pages_raw, 28);
    /* 85 % random, 15 % zero: lzo shrinks it a little */
    for (uint32_t i = 0; i < PS; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        page[i] = i < PS * 85 / 100 ? (unsigned char)(x >> 56) : 0;
    }
    pool = tmem_new_pool(fx.client, TMEM_POOL_PERSIST, NULL);
    assert_true(pool >= 0);
    assert_int_equal(tmem_put(fx.client, pool, &oid, 0, page), 0);
    assert_int_equal(tmem_pool_stats(fx.client, pool, &st), 0);
    assert_int_equal(st.pages_compressed, 1);
    assert_true(st.compressed_payload_bytes > PS * 3 / 4 && st.compressed_payload_bytes < PS);
    assert_int_equal(tmem_destroy_pool(fx.client, pool), 0);
    check(fx.g);
    teardown(&fx);

    setup(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, COMPRESSIBLE, true);
    write_range(fx.g, 0, 32);
    c = counters(fx.g);
    assert_int_equal(c.stored_incompressible_pages, 0);
    assert_int_equal(pool_stats(&fx).pages_compressed, 28);
    teardown(&fx);
}

/* Rule 5 (zswap_store -> zswap_check_limits, shrink_worker,
 * shrink_memcg_cb, zswap_writeback_entry): at the limit the store is
 * refused (pool_limit_hit) and the refused page goes to the swap file;
 * then the shrink worker writes back the least recently stored entries to
 * their slots on the swap file until usage is below the accept threshold
 * (90 %), and stores are accepted again. Random pages (4096 bytes each)
 * and a 10-page limit: the 11th store is refused, then 2 entries are
 * written back (10 -> 8 pages, below 9), the two stored first (slots 0
 * and 1); the 12th store is accepted. */
static void test_zswap_limit_refuses_and_writes_back_oldest(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;
    struct swapsim_swapdev *sd;

    (void)state;
    setup(&fx, 10 * PS, 4, 64, RANDOM, true);
    assert_true(fx.cfg.tmem.hysteresis);
    write_range(fx.g, 0, 14); /* 10 swap-outs: the pool is full */
    c = counters(fx.g);
    assert_int_equal(c.succ_stores, 10);
    assert_int_equal(c.pool_limit_hit + c.written_back_pages + c.pswpout, 0);
    touch(fx.g, 14, SWAPSIM_WRITE); /* the 11th swap-out */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 1);
    assert_int_equal(c.pool_limit_hit, 1);
    assert_int_equal(c.written_back_pages, 2);
    assert_int_equal(c.pswpout, 3); /* the refused page and the 2 written back */
    assert_int_equal(c.frontswap_pages, 8);
    assert_int_equal(tmem_budget_used(fx.tm), 8 * PS);
    sd = swapsim_guest_swapdev(fx.g);
    assert_true(swapsim_swapdev_on_disk(sd, 0)); /* the oldest two */
    assert_true(swapsim_swapdev_on_disk(sd, 1));
    for (uint32_t s = 2; s < 10; s++)
        assert_false(swapsim_swapdev_on_disk(sd, s));
    assert_true(swapsim_swapdev_on_disk(sd, 10)); /* the refused one */
    touch(fx.g, 15, SWAPSIM_WRITE); /* the 12th: accepted again */
    c = counters(fx.g);
    assert_int_equal(c.succ_stores, 11);
    assert_int_equal(c.failed_stores, 1);
    check(fx.g);
    /* every page comes back intact, from the store or the file */
    for (uint32_t v = 0; v < 16; v++)
        touch(fx.g, v, SWAPSIM_READ);
    assert_int_equal(counters(fx.g).mismatches, 0);
    check(fx.g);
    teardown(&fx);
}

/* Replace the fixture's guest with a 4-frame, 64-page zswap guest of
 * random pages on the same store, with the given accept threshold (0:
 * the default) and worker delay. */
static void recreate_random(struct fixture *fx, uint32_t accept_percent, uint32_t worker_delay)
{
    struct swapsim_guest_config gc;
    char err[256] = "";

    swapsim_guest_destroy(fx->g);
    swapsim_guest_config_init(&gc, 4, 64);
    gc.model = SWAPSIM_MODEL_ZSWAP;
    gc.accept_threshold_percent = accept_percent;
    gc.worker_delay = worker_delay;
    gc.quiet = true;
    gc.mix.zero_permille = gc.mix.dup_permille = gc.mix.compressible_permille = 0;
    assert_int_equal(swapsim_guest_create(&gc, fx->client, &fx->g, err, sizeof(err)), 0);
}

/* Rule 5, the threshold: with --accept-threshold 50 the shrink worker
 * writes back down below half the limit: 10 -> 4 pages (6 written back). */
static void test_zswap_writeback_follows_accept_threshold(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;

    (void)state;
    setup(&fx, 10 * PS, 4, 64, RANDOM, true);
    recreate_random(&fx, 50, 0);
    write_range(fx.g, 0, 15);
    c = counters(fx.g);
    assert_int_equal(c.pool_limit_hit, 1);
    assert_int_equal(c.written_back_pages, 6);
    assert_int_equal(tmem_budget_used(fx.tm), 4 * PS);
    check(fx.g);
    teardown(&fx);
}

/* Rule 5 with a writeback pace (--writeback-pace 50: the worker writes
 * back half an entry per swap-out, beside the guest's reclaim), in the
 * model without the second chance (--zswap-second-chance off, which makes
 * every entry a writeback candidate at once): after the
 * refusal at the limit every store is refused until the worker has
 * brought the store below the threshold. 10-page limit, random pages:
 * the 11th store is refused (at the limit), the 12th too (still at it:
 * counted), the 13th (one entry written back: 9 pages, not below 9) and
 * the 14th are refused by the hysteresis, and at the 15th the second entry
 * goes and the store is accepted: 4 refusals, 2 limit hits, 2 written
 * back, 6 pages written. */
static void test_zswap_paced_writeback_refuses_until_below_threshold(void **state)
{
    struct fixture fx;
    struct swapsim_guest_config gc;
    char err[256] = "";
    struct swapsim_counters c;

    (void)state;
    setup(&fx, 10 * PS, 4, 64, RANDOM, true);
    swapsim_guest_destroy(fx.g);
    swapsim_guest_config_init(&gc, 4, 64);
    gc.model = SWAPSIM_MODEL_ZSWAP;
    gc.writeback_pace = 50;
    gc.no_second_chance = true;
    gc.quiet = true;
    gc.mix.zero_permille = gc.mix.dup_permille = gc.mix.compressible_permille = 0;
    assert_int_equal(swapsim_guest_create(&gc, fx.client, &fx.g, err, sizeof(err)), 0);
    write_range(fx.g, 0, 15); /* 11 swap-outs */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 1);
    assert_int_equal(c.written_back_pages, 0);
    write_range(fx.g, 15, 18); /* swap-outs 12, 13, 14 */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 4);
    assert_int_equal(c.pool_limit_hit, 2);
    assert_int_equal(c.written_back_pages, 1);
    touch(fx.g, 18, SWAPSIM_WRITE); /* swap-out 15 */
    c = counters(fx.g);
    assert_int_equal(c.written_back_pages, 2);
    assert_int_equal(c.succ_stores, 11);
    assert_int_equal(c.failed_stores, 4);
    assert_int_equal(c.pswpout, 6);
    assert_int_equal(tmem_budget_used(fx.tm), 9 * PS);
    check(fx.g);
    teardown(&fx);
}

/* A zswap guest of ram frames and 64 pages over fx's store (capacity
 * pages of random content, 4096 budget bytes each), half its pages zero
 * (their first version), the worker paced at `pace`. */
static void recreate_mixed(struct fixture *fx, uint32_t ram, uint32_t pace)
{
    struct swapsim_guest_config gc;
    char err[256] = "";

    swapsim_guest_destroy(fx->g);
    swapsim_guest_config_init(&gc, ram, 64);
    gc.model = SWAPSIM_MODEL_ZSWAP;
    gc.writeback_pace = pace;
    gc.quiet = true;
    gc.mix.zero_permille = 500;
    gc.mix.dup_permille = gc.mix.compressible_permille = 0;
    assert_int_equal(swapsim_guest_create(&gc, fx->client, &fx->g, err, sizeof(err)), 0);
}

/* Rule 5a, the second chance (mm/zswap.c: zswap_store puts every entry on
 * the LRU with entry->referenced = true; shrink_memcg_cb rotates a
 * referenced entry to the tail clearing the bit, LRU_ROTATE, and writes
 * back an unreferenced one): an entry is rotated once before it can be
 * written back. 10-page limit, random pages: the 11th store is refused;
 * the worker rotates all 10 referenced entries (each once), then writes
 * back the two oldest, now unreferenced (slots 0 and 1), to 8 pages. Two
 * more stores are accepted (referenced, at the tail); the 14th is refused
 * and the worker writes back slots 2 and 3 without a rotation: they had
 * theirs; the two new entries keep their bit. */
static void test_zswap_second_chance_rotates_once_before_writeback(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;
    struct swapsim_swapdev *sd;

    (void)state;
    setup(&fx, 10 * PS, 4, 64, RANDOM, true);
    write_range(fx.g, 0, 15); /* 11 swap-outs: the 11th refused */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 1);
    assert_int_equal(c.writeback_rotated, 10);
    assert_int_equal(c.written_back_pages, 2);
    assert_int_equal(c.shrink_worker_runs, 1);
    assert_int_equal(c.shrink_worker_gave_up, 0);
    sd = swapsim_guest_swapdev(fx.g);
    assert_true(swapsim_swapdev_on_disk(sd, 0));
    assert_true(swapsim_swapdev_on_disk(sd, 1));
    assert_false(swapsim_swapdev_on_disk(sd, 2));
    write_range(fx.g, 15, 17); /* swap-outs 12 and 13: accepted */
    c = counters(fx.g);
    assert_int_equal(c.succ_stores, 12);
    assert_int_equal(tmem_budget_used(fx.tm), 10 * PS);
    touch(fx.g, 17, SWAPSIM_WRITE); /* the 14th: refused at the limit */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 2);
    assert_int_equal(c.writeback_rotated, 10); /* no second rotation */
    assert_int_equal(c.written_back_pages, 4);
    assert_true(swapsim_swapdev_on_disk(sd, 2));
    assert_true(swapsim_swapdev_on_disk(sd, 3));
    assert_false(swapsim_swapdev_on_disk(sd, 4));
    check(fx.g);
    for (uint32_t v = 0; v < 18; v++)
        touch(fx.g, v, SWAPSIM_READ);
    assert_int_equal(counters(fx.g).mismatches, 0);
    teardown(&fx);
}

/* Rule 5b, the failure budget (mm/zswap.c shrink_worker: a shrink_memcg
 * that wrote nothing back, one rotation, is a failure; the wake-up stops
 * at MAX_RECLAIM_RETRIES = 16 of them): with 40 referenced entries the
 * first refusal's wake-up rotates 16 and gives up, writing nothing back
 * (the pool stays at its limit); the second rotates 16 more and gives up;
 * the third rotates the last 8 and then writes back the oldest entries,
 * rotated already, to below 36 pages (5 of them). */
static void test_zswap_worker_gives_up_after_16_failures(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;

    (void)state;
    setup(&fx, 40 * PS, 4, 64, RANDOM, true);
    write_range(fx.g, 0, 45); /* 41 swap-outs: the 41st refused */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 1);
    assert_int_equal(c.shrink_worker_runs, 1);
    assert_int_equal(c.writeback_rotated, 16);
    assert_int_equal(c.shrink_worker_gave_up, 1);
    assert_int_equal(c.written_back_pages, 0);
    assert_int_equal(tmem_budget_used(fx.tm), 40 * PS);
    touch(fx.g, 45, SWAPSIM_WRITE); /* 42nd: refused, a second wake-up */
    c = counters(fx.g);
    assert_int_equal(c.shrink_worker_runs, 2);
    assert_int_equal(c.writeback_rotated, 32);
    assert_int_equal(c.shrink_worker_gave_up, 2);
    assert_int_equal(c.written_back_pages, 0);
    touch(fx.g, 46, SWAPSIM_WRITE); /* 43rd: the third */
    c = counters(fx.g);
    assert_int_equal(c.shrink_worker_runs, 3);
    assert_int_equal(c.writeback_rotated, 40);
    assert_int_equal(c.shrink_worker_gave_up, 2);
    assert_int_equal(c.written_back_pages, 5);
    assert_int_equal(tmem_budget_used(fx.tm), 35 * PS);
    check(fx.g);
    teardown(&fx);
}

/* Rule 5c, queueing (mm/zswap.c zswap_store: only a store refused while
 * zswap_pool_reached_full queues shrink_work): one frame of RAM, so each
 * read evicts the page before it; half the pages are zero (the swap layer
 * keeps them: no store call). Paced worker (100: one writeback per
 * swap-out; rotations cost nothing, the default). 20-page limit: 20
 * random pages fill it, the 21st is refused and its wake-up rotates 16
 * and gives up. Then 8 zero swap-outs: the pool is still at its limit but
 * nothing is refused, so the worker stays idle (no rotation, no
 * writeback). The next random swap-out is refused: a second wake-up
 * rotates the last 4 and waits for its pace; the two zero swap-outs after
 * it each give it time to write back one entry. */
static void test_zswap_worker_queued_only_by_refused_store(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;
    struct swapsim_guest_config gc;
    uint32_t rnd[32], zero[32], nr = 0, nz = 0;

    (void)state;
    setup(&fx, 20 * PS, 4, 64, RANDOM, true);
    recreate_mixed(&fx, 1, 100);
    swapsim_guest_config_init(&gc, 1, 64); /* the seed and mix recreate_mixed used */
    gc.mix.zero_permille = 500;
    gc.mix.dup_permille = gc.mix.compressible_permille = 0;
    for (uint32_t v = 0; v < 64 && (nr < 32 || nz < 32); v++) {
        const char *cls = swapsim_content_class(gc.seed, &gc.mix, v, 0);
        if (strcmp(cls, "zero") == 0 && nz < 32)
            zero[nz++] = v;
        else if (strcmp(cls, "random") == 0 && nr < 32)
            rnd[nr++] = v;
    }
    assert_true(nr >= 22 && nz >= 12);
    for (uint32_t i = 0; i <= 20; i++) /* 20 swap-outs, all stored */
        touch(fx.g, rnd[i], SWAPSIM_READ);
    touch(fx.g, zero[0], SWAPSIM_READ); /* rnd[20] out: refused */
    c = counters(fx.g);
    assert_int_equal(c.succ_stores, 20);
    assert_int_equal(c.failed_stores, 1);
    assert_int_equal(c.shrink_worker_runs, 1);
    assert_int_equal(c.shrink_worker_gave_up, 1);
    assert_int_equal(c.writeback_rotated, 16);
    for (uint32_t i = 1; i <= 8; i++) /* zero[0..7] out: no store call */
        touch(fx.g, zero[i], SWAPSIM_READ);
    c = counters(fx.g);
    assert_int_equal(c.swpout_zero, 8);
    assert_int_equal(c.failed_stores, 1);
    assert_int_equal(c.shrink_worker_runs, 1);
    assert_int_equal(c.writeback_rotated, 16);
    assert_int_equal(c.written_back_pages, 0);
    assert_int_equal(tmem_budget_used(fx.tm), 20 * PS);
    touch(fx.g, rnd[21], SWAPSIM_READ); /* zero[8] out */
    touch(fx.g, zero[9], SWAPSIM_READ); /* rnd[21] out: refused */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 2);
    assert_int_equal(c.shrink_worker_runs, 2);
    assert_int_equal(c.writeback_rotated, 20);
    assert_int_equal(c.written_back_pages, 0);
    touch(fx.g, zero[10], SWAPSIM_READ); /* zero[9] out: one writeback */
    assert_int_equal(counters(fx.g).written_back_pages, 1);
    touch(fx.g, zero[11], SWAPSIM_READ); /* zero[10] out: another */
    c = counters(fx.g);
    assert_int_equal(c.written_back_pages, 2);
    assert_int_equal(c.shrink_worker_runs, 2);
    check(fx.g);
    teardown(&fx);
}

/* Rule 5e, the workqueue's latency (worker_delay; queue_work on a
 * pending work item does nothing): with a delay of 3 swap-outs, the
 * refused store that finds the worker idle queues a wake-up that starts at
 * the third swap-out after it; the stores refused meanwhile queue nothing.
 * 40-page limit, random pages, no pace: the 41st swap-out is refused and
 * queues it; the 42nd and 43rd are refused too, no wake-up; at the 44th it
 * starts (16 rotations, gives up), and that swap-out's refused store
 * queues the next one, 3 swap-outs later again. */
static void test_zswap_worker_delay_coalesces_refusals(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;

    (void)state;
    setup(&fx, 40 * PS, 4, 64, RANDOM, true);
    recreate_random(&fx, 0, 3);
    write_range(fx.g, 0, 45); /* 41 swap-outs: the 41st refused, queued */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 1);
    assert_int_equal(c.shrink_worker_runs, 0);
    write_range(fx.g, 45, 47); /* 42nd, 43rd: refused, the wake-up pending */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 3);
    assert_int_equal(c.shrink_worker_runs, 0);
    assert_int_equal(c.writeback_rotated, 0);
    touch(fx.g, 47, SWAPSIM_WRITE); /* 44th: it starts, then this one is refused */
    c = counters(fx.g);
    assert_int_equal(c.failed_stores, 4);
    assert_int_equal(c.shrink_worker_runs, 1);
    assert_int_equal(c.writeback_rotated, 16);
    assert_int_equal(c.shrink_worker_gave_up, 1);
    write_range(fx.g, 48, 50); /* 45th, 46th: the next one pending */
    assert_int_equal(counters(fx.g).shrink_worker_runs, 1);
    touch(fx.g, 50, SWAPSIM_WRITE); /* 47th: the second wake-up */
    c = counters(fx.g);
    assert_int_equal(c.shrink_worker_runs, 2);
    assert_int_equal(c.writeback_rotated, 32);
    assert_int_equal(c.written_back_pages, 0);
    check(fx.g);
    teardown(&fx);
}

/* A small zswap run (swapsim_run: 1 MiB of RAM, 4 MiB of address space,
 * 40000 accesses, a 256 KiB pool), the paced second-chance worker with a
 * workqueue delay. */
static void config_repeat(struct swapsim_config *cfg)
{
    swapsim_config_init(cfg);
    swapsim_config_set_model(cfg, SWAPSIM_MODEL_ZSWAP);
    cfg->guest.ram_pages = 256;
    cfg->guest.vpages = 1024;
    cfg->guest.quiet = true;
    cfg->guest.writeback_pace = 60;
    cfg->guest.worker_delay = 5;
    cfg->gen.vpages = 1024;
    cfg->gen.accesses = 40000;
    cfg->gen.seed = cfg->guest.seed = 7;
    cfg->tmem.capacity_bytes = 256 << 10;
    cfg->baseline = false;
}

/* Rule 5d, determinism kept: the second chance, its failure budget, its
 * queueing and its delay are per-guest state of the run, so the same configuration
 * run twice gives every counter the same, and the run did rotate, give up
 * and write back. */
static void test_zswap_second_chance_repeats(void **state)
{
    struct swapsim_config cfg;
    struct swapsim_result r[2];
    char err[512] = "";

    (void)state;
    config_repeat(&cfg);
    for (int i = 0; i < 2; i++) {
        if (swapsim_run(&cfg, &r[i], err, sizeof(err)) != 0)
            fail_msg("run %d failed: %s", i, err);
        assert_int_equal(r[i].total.mismatches, 0);
    }
    assert_true(r[0].total.writeback_rotated > 0);
    assert_true(r[0].total.shrink_worker_gave_up > 0);
    assert_true(r[0].total.written_back_pages > 0);
#define SAME_COUNTER(name, help)                                                            \
    if (r[0].total.name != r[1].total.name)                                                 \
        fail_msg("%s differs: %llu then %llu", #name, (unsigned long long)r[0].total.name,  \
                 (unsigned long long)r[1].total.name);
    SWAPSIM_COUNTERS(SAME_COUNTER)
#undef SAME_COUNTER
    swapsim_result_free(&r[0]);
    swapsim_result_free(&r[1]);
}

/* Rule 6: the model's compressor is lzo (this kernel's zswap has no
 * lz4), and a run stores compressible pages with it and reads them back
 * intact. */
static void test_zswap_compressor_is_lzo(void **state)
{
    struct fixture fx;

    (void)state;
    setup(&fx, TMEM_CAPACITY_UNLIMITED, 4, 32, COMPRESSIBLE, true);
    assert_int_equal(fx.cfg.tmem.compressor, TMEM_COMPRESSOR_LZO);
    assert_false(fx.cfg.tmem.dedup);
    write_range(fx.g, 0, 32);
    for (uint32_t v = 0; v < 32; v++)
        touch(fx.g, v, SWAPSIM_READ);
    assert_true(pool_stats(&fx).compressed_payload_bytes < 28 * PS / 2);
    assert_int_equal(counters(fx.g).mismatches, 0);
    teardown(&fx);
}

/* Rule 7 (vm.page-cluster=0): no swap readahead: a major fault from the
 * swap file reads exactly its own page. */
static void test_zswap_no_swap_readahead(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;

    (void)state;
    setup(&fx, 0, 4, 32, RANDOM, true);
    write_range(fx.g, 0, 32);
    for (uint32_t v = 0; v < 28; v++)
        touch(fx.g, v, SWAPSIM_READ);
    c = counters(fx.g);
    assert_int_equal(c.loads, 0);
    assert_int_equal(c.pswpin, c.major_faults);
    assert_int_equal(c.sectors_read, c.pswpin * (PS / SWAPSIM_SECTOR));
    teardown(&fx);
}

/* The model refuses write-through (zswap has no such mode), an accept
 * threshold above 100 % and a worker delay without the second-chance
 * worker (whose wake-ups it delays), each with a message. */
static void test_zswap_model_bad_configs_refused(void **state)
{
    struct swapsim_guest_config gc;
    struct swapsim_guest *g = NULL;
    struct tmem *tm = tmem_create(NULL);
    struct tmem_client *client = tmem_client_create(tm, "bad");
    char err[256] = "";

    (void)state;
    swapsim_guest_config_init(&gc, 4, 32);
    gc.model = SWAPSIM_MODEL_ZSWAP;
    gc.write_through = true;
    assert_int_equal(swapsim_guest_create(&gc, client, &g, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "write-through"));
    gc.write_through = false;
    gc.accept_threshold_percent = 101;
    assert_int_equal(swapsim_guest_create(&gc, client, &g, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "accept threshold"));
    gc.accept_threshold_percent = 0;
    gc.worker_delay = 2;
    gc.no_second_chance = true;
    assert_int_equal(swapsim_guest_create(&gc, client, &g, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "worker delay"));
    assert_null(g);
    tmem_client_destroy(client);
    tmem_destroy(tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zswap_loads_are_exclusive),
        cmocka_unit_test(test_zswap_zero_pages_bypass_store_and_disk),
        cmocka_unit_test(test_zswap_same_filled_nonzero_pages_are_ordinary),
        cmocka_unit_test(test_zswap_limit_counts_page_data_only),
        cmocka_unit_test(test_zswap_limit_counts_zspages),
        cmocka_unit_test(test_zswap_incompressible_pages_stored_raw),
        cmocka_unit_test(test_zswap_limit_refuses_and_writes_back_oldest),
        cmocka_unit_test(test_zswap_writeback_follows_accept_threshold),
        cmocka_unit_test(test_zswap_paced_writeback_refuses_until_below_threshold),
        cmocka_unit_test(test_zswap_second_chance_rotates_once_before_writeback),
        cmocka_unit_test(test_zswap_worker_gives_up_after_16_failures),
        cmocka_unit_test(test_zswap_worker_queued_only_by_refused_store),
        cmocka_unit_test(test_zswap_worker_delay_coalesces_refusals),
        cmocka_unit_test(test_zswap_second_chance_repeats),
        cmocka_unit_test(test_zswap_compressor_is_lzo),
        cmocka_unit_test(test_zswap_no_swap_readahead),
        cmocka_unit_test(test_zswap_model_bad_configs_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
