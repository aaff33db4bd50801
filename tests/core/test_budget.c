/*
 * test_budget.c - what the store's budget counts (tmem_config.budget) and
 * the lzo compressor.
 *
 * TMEM_BUDGET_ALLOCATOR (the default) counts every byte the store
 * allocated, data and metadata at the allocator's size classes;
 * TMEM_BUDGET_ZSMALLOC counts page data alone, as zswap counts its pool:
 * a compressed page at its length rounded up to zsmalloc's 16-byte class
 * step (at least 32 bytes), a raw page at the page size. lzo is liblzo2's
 * lzo1x-1, the format of the kernel's "lzo": a page comes back byte for
 * byte and is stored in as many bytes as lzo1x_1_compress makes of it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <lzo/lzo1x.h>
#include <stdlib.h>
#include <string.h>

#include "core/tmem.h"
#include "../support/testutil.h"

#define PS 4096u

/* A store as zswap's pool is counted (or the default when zsmalloc is
 * false): lzo, no same-filled pages, no dedup, raw only when compression
 * does not shrink the page. */
static struct tmem *store_new(uint64_t capacity, bool zsmalloc)
{
    struct tmem_config cfg;
    struct tmem *tm;

    tmem_config_init(&cfg);
    cfg.capacity_bytes = capacity;
    cfg.budget = zsmalloc ? TMEM_BUDGET_ZSMALLOC : TMEM_BUDGET_ALLOCATOR;
    cfg.compressor = TMEM_COMPRESSOR_LZO;
    cfg.same_filled = false;
    cfg.dedup = false;
    cfg.compress_threshold = PS;
    tm = tmem_create(&cfg);
    assert_non_null(tm);
    return tm;
}

static uint64_t zsmalloc_size(uint64_t len)
{
    if (len >= PS)
        return PS;
    if (len < 32)
        len = 32;
    return (len + 15) / 16 * 16;
}

/* Rule: with TMEM_BUDGET_ZSMALLOC the budget's use is the page data at
 * zsmalloc's classes and nothing else: each compressed page adds its
 * length rounded up to 16 bytes, each raw page 4096; records, index and
 * slabs (metadata_bytes) are not in it; it is 0 again once every page is
 * flushed while metadata remains; tmem_check agrees. */
static void test_zsmalloc_budget_counts_page_data_at_16_byte_classes(void **state)
{
    struct tmem *tm = store_new(TMEM_CAPACITY_UNLIMITED, true);
    struct tmem_client *c = tu_client_new(tm, "zs");
    int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    unsigned char *page = tu_page_alloc(PS);
    uint64_t want = 0, rounded_up = 0;
    struct tmem_stats st;

    (void)state;
    for (uint32_t i = 0; i < 64; i++) {
        struct tmem_oid oid = tu_oid(1, 0, 0);
        uint64_t payload_before, used_before = tmem_budget_used(tm), len;
        assert_int_equal(tmem_pool_stats(c, pool, &st), 0);
        payload_before = st.compressed_payload_bytes;
        if (i % 4 == 3)
            tu_fill_random(page, PS, i);
        else
            tu_fill_partly_random(page, PS, i, i % 90);
        assert_int_equal(tmem_put(c, pool, &oid, i, page), 0);
        assert_int_equal(tmem_pool_stats(c, pool, &st), 0);
        len = st.compressed_payload_bytes - payload_before;
        if (tmem_budget_used(tm) - used_before != zsmalloc_size(len))
            fail_msg("page %u of %llu bytes charged %llu, zsmalloc takes %llu", i,
                     (unsigned long long)len,
                     (unsigned long long)(tmem_budget_used(tm) - used_before),
                     (unsigned long long)zsmalloc_size(len));
        want += zsmalloc_size(len);
        rounded_up += len % 16 != 0 && len < PS;
    }
    assert_true(rounded_up > 10); /* the rounding was exercised */
    st = tu_store_stats(tm);
    assert_int_equal(tmem_budget_used(tm), want);
    assert_true(st.metadata_bytes > 0);
    assert_true(tmem_budget_used(tm) < st.data_bytes + st.metadata_bytes);
    tu_check(tm, "zsmalloc budget");
    struct tmem_oid oid = tu_oid(1, 0, 0);
    assert_int_equal(tmem_flush_object(c, pool, &oid), 0);
    assert_int_equal(tmem_budget_used(tm), 0);
    st = tu_store_stats(tm);
    assert_true(st.metadata_bytes > 0);
    free(page);
    tu_store_close(tm);
}

/* Rule: puts are admitted against the zsmalloc count: a capacity of
 * exactly 16 raw pages takes 16 random pages (metadata not counted) and
 * refuses the 17th; the same capacity under the default budget, which
 * counts records and slabs too, refuses one of the 16. */
static void test_zsmalloc_budget_admits_page_data_only(void **state)
{
    unsigned char *page = tu_page_alloc(PS);

    (void)state;
    for (int zs = 1; zs >= 0; zs--) {
        struct tmem *tm = store_new(16 * PS, zs);
        struct tmem_client *c = tu_client_new(tm, "zs");
        int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
        struct tmem_oid oid = tu_oid(2, 0, 0);
        uint32_t stored = 0;
        for (uint32_t i = 0; i < 17; i++) {
            tu_fill_random(page, PS, 100 + i);
            if (tmem_put(c, pool, &oid, i, page) == 0)
                stored++;
        }
        if (zs) {
            assert_int_equal(stored, 16);
            assert_int_equal(tmem_budget_used(tm), 16 * PS);
        } else {
            assert_true(stored < 16);
            struct tmem_stats st = tu_store_stats(tm);
            assert_int_equal(tmem_budget_used(tm), st.data_bytes + st.metadata_bytes);
        }
        tu_check(tm, zs ? "zsmalloc" : "allocator");
        tu_store_close(tm);
    }
    free(page);
}

/* Rule: a configuration naming a budget outside the enum is refused. */
static void test_unknown_budget_refused(void **state)
{
    struct tmem_config cfg;

    (void)state;
    tmem_config_init(&cfg);
    assert_int_equal(cfg.budget, TMEM_BUDGET_ALLOCATOR);
    cfg.budget = (enum tmem_budget)2;
    errno = 0;
    assert_null(tmem_create(&cfg));
    assert_int_equal(errno, EINVAL);
}

/* Rule: lzo stores what lzo1x_1_compress makes of a page, exactly that
 * many bytes, and gives the page back byte for byte; with the threshold
 * at the page size a page it shrinks at all (here 85 % random, which
 * shrinks by a few percent) is kept compressed, and one it cannot shrink
 * (random) is kept raw. */
static void test_lzo_round_trip_matches_liblzo(void **state)
{
    struct tmem *tm = store_new(TMEM_CAPACITY_UNLIMITED, true);
    struct tmem_client *c = tu_client_new(tm, "lzo");
    int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    unsigned char *page = tu_page_alloc(PS), *back = tu_page_alloc(PS);
    unsigned char *out = malloc(PS + PS / 16 + 64 + 3), *work = malloc(LZO1X_1_MEM_COMPRESS);
    struct tmem_oid oid = tu_oid(3, 0, 0);
    uint64_t want_payload = 0, raw = 0, compressed = 0;
    struct tmem_stats st;

    (void)state;
    assert_non_null(out);
    assert_non_null(work);
    assert_int_equal(lzo_init(), LZO_E_OK);
    for (uint32_t i = 0; i < 40; i++) {
        lzo_uint len = 0;
        if (i % 5 == 4)
            tu_fill_random(page, PS, i);
        else if (i % 5 == 3)
            tu_fill_partly_random(page, PS, i, 85);
        else
            tu_fill_compressible(page, PS, i);
        assert_int_equal(lzo1x_1_compress(page, PS, out, &len, work), LZO_E_OK);
        if (len < PS) {
            want_payload += len;
            compressed++;
        } else {
            want_payload += PS;
            raw++;
        }
        if (i % 5 == 3 && !(len > PS * 3 / 4 && len < PS))
            fail_msg("an 85 %% random page: lzo made %lu bytes, not between 3/4 and 1 page",
                     (unsigned long)len);
        assert_int_equal(tmem_put(c, pool, &oid, i, page), 0);
    }
    assert_int_equal(tmem_pool_stats(c, pool, &st), 0);
    assert_int_equal(st.pages_compressed, compressed);
    assert_int_equal(st.pages_raw, raw);
    assert_int_equal(raw, 8);
    assert_int_equal(st.compressed_payload_bytes, want_payload);
    for (uint32_t i = 0; i < 40; i++) {
        if (i % 5 == 4)
            tu_fill_random(page, PS, i);
        else if (i % 5 == 3)
            tu_fill_partly_random(page, PS, i, 85);
        else
            tu_fill_compressible(page, PS, i);
        assert_int_equal(tmem_get(c, pool, &oid, i, back), 0);
        TU_ASSERT_PAGE_EQ(back, page, PS, "lzo round trip");
    }
    tu_check(tm, "lzo");
    free(out);
    free(work);
    free(page);
    free(back);
    tu_store_close(tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zsmalloc_budget_counts_page_data_at_16_byte_classes),
        cmocka_unit_test(test_zsmalloc_budget_admits_page_data_only),
        cmocka_unit_test(test_unknown_budget_refused),
        cmocka_unit_test(test_lzo_round_trip_matches_liblzo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
