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
 *
 * TMEM_BUDGET_ZSPAGES counts page data in whole zspages, as the kernel's
 * zsmalloc holds it (tmem_zspage.c): a class's zspage length as
 * calculate_zspage_chain_size picks it, merged classes, fullest-first
 * placement, holes that keep a zspage until it is empty, the budget's use
 * the live zspages' pages, a checker that counts every object, and no
 * half-stored page when any allocation of a put fails (a new zspage
 * included). Mutations checked against
 * test_zspage_allocation_failures_leave_no_half_page (each failed it, then
 * was undone): the budget charged for a zspage whose creation failed; the
 * record not freed when tmem_zspage_store fails (tmem_put_insert); the
 * data charged before it is placed; an injected zspage failure not
 * counted in alloc_failures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tmem.h"
#include "core/tmem_internal.h" /* tmem_zspage_store / release: to break the counts */
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
    cfg.budget = (enum tmem_budget)3;
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

/* ------------------------------------------------------------ zspages */

/* A zswap-like store whose budget counts zspages (max_pages 0: the
 * default chain, 8 pages). */
static struct tmem *zspage_store_new(uint64_t capacity, uint32_t max_pages)
{
    struct tmem_config cfg;
    struct tmem *tm;

    tmem_config_init(&cfg);
    cfg.capacity_bytes = capacity;
    cfg.budget = TMEM_BUDGET_ZSPAGES;
    cfg.zspage_max_pages = max_pages;
    cfg.compressor = TMEM_COMPRESSOR_LZO;
    cfg.same_filled = false;
    cfg.dedup = false;
    cfg.compress_threshold = PS;
    tm = tmem_create(&cfg);
    assert_non_null(tm);
    return tm;
}

static struct tmem_zspage_class_info class_of(struct tmem *tm, uint32_t len)
{
    struct tmem_zspage_class_info info;
    assert_int_equal(tmem_zspage_class_of(tm, len, &info, NULL, 0, NULL), 0);
    return info;
}

/* Rule: a class's zspage is the chain of 1..8 pages (CONFIG_ZSMALLOC_CHAIN_SIZE
 * 8, this machine's kernel) wasting the fewest bytes, objects of len + 8
 * bytes (the handle), and classes of the same shape merge into the larger:
 *  - 24 bytes -> object 32, a power of two: 1 page, 128 objects;
 *  - 40 -> 48: 4096 % 48 = 16, 8192 % 48 = 32, 12288 % 48 = 0: 3 pages, 256;
 *    the class above (64) is 1 page, 64 objects, so 48 stays its own size;
 *  - 3256 -> 3264: waste 832, 1664, 2496, 64 (4 pages), 896, 1728, 2560,
 *    128: 4 pages, 5 objects; 3280 above is 5 pages, 6 objects: no merge;
 *  - 3592 -> 3600: waste 496 with 1 page, 368 with 8 (9 objects), the
 *    least: 8 pages, 9 objects (3616 is 8 and 9 too: merged upwards);
 *    with a chain of at most 4 pages (kernels before 6.3) 1 page is the
 *    least waste (496 against 992, 1488, 1984): 1 page holding 1 object,
 *    which merges into the page-size class;
 *  - 4072 -> 4080: 1 page wastes 16, the least: 1 object, merged into the
 *    page-size class; a raw page (4096) is that class.
 * An object of 1..24 bytes is in the 32-byte class. */
static void test_zspage_classes_as_the_kernel_computes_them(void **state)
{
    struct tmem *tm = zspage_store_new(TMEM_CAPACITY_UNLIMITED, 0);
    struct tmem *old = zspage_store_new(TMEM_CAPACITY_UNLIMITED, 4);
    struct tmem_zspage_class_info k;
    struct tmem_zspage_totals t;

    (void)state;
    k = class_of(tm, 24);
    assert_int_equal(k.size, 32);
    assert_int_equal(k.pages_per_zspage, 1);
    assert_int_equal(k.objs_per_zspage, 128);
    assert_int_equal(class_of(tm, 1).size, 32);
    k = class_of(tm, 40);
    assert_int_equal(k.size, 48);
    assert_int_equal(k.pages_per_zspage, 3);
    assert_int_equal(k.objs_per_zspage, 256);
    assert_int_equal(class_of(tm, 41).size, 64); /* 49 bytes with the handle */
    k = class_of(tm, 3256);
    assert_int_equal(k.size, 3264);
    assert_int_equal(k.pages_per_zspage, 4);
    assert_int_equal(k.objs_per_zspage, 5);
    k = class_of(tm, 3592);
    assert_true(k.size >= 3616);
    assert_int_equal(k.pages_per_zspage, 8);
    assert_int_equal(k.objs_per_zspage, 9);
    k = class_of(old, 3592);
    assert_int_equal(k.size, PS);
    assert_int_equal(k.pages_per_zspage, 1);
    assert_int_equal(k.objs_per_zspage, 1);
    k = class_of(tm, 4072);
    assert_int_equal(k.size, PS);
    assert_int_equal(k.objs_per_zspage, 1);
    assert_int_equal(class_of(tm, PS).size, PS);
    assert_int_equal(tmem_zspage_totals(tm, &t), 0);
    assert_true(t.classes > 100 && t.classes < 255); /* 255 sizes, some merged */
    assert_int_equal(tmem_zspage_class_of(tm, PS + 1, &k, NULL, 0, NULL), -EINVAL);
    tu_store_close(old);
    tu_store_close(tm);
}

/* A page of `percent` % random bytes (the rest zero) that lzo makes into
 * len bytes of the class whose object size is `size` (0: any class with
 * 5 to 40 objects a zspage: the first found), put under index: tries
 * seeds until one lands there (the length barely depends on the seed);
 * returns the class. A page that lands elsewhere is flushed again. */
static struct tmem_zspage_class_info put_in_class(struct tmem *tm, struct tmem_client *c,
                                                  int pool, uint32_t index, uint32_t size)
{
    static uint64_t seed = 1000;
    unsigned char *page = tu_page_alloc(PS);
    struct tmem_oid oid = tu_oid(9, 0, 0);
    struct tmem_zspage_class_info k;
    struct tmem_stats st;

    for (int tries = 0; tries < 200; tries++) {
        uint64_t before;
        assert_int_equal(tmem_pool_stats(c, pool, &st), 0);
        before = st.compressed_payload_bytes;
        tu_fill_partly_random(page, PS, seed++, 60);
        assert_int_equal(tmem_put(c, pool, &oid, index, page), 0);
        assert_int_equal(tmem_pool_stats(c, pool, &st), 0);
        k = class_of(tm, (uint32_t)(st.compressed_payload_bytes - before));
        if (size ? k.size == size : k.objs_per_zspage >= 5 && k.objs_per_zspage <= 40) {
            free(page);
            return k;
        }
        assert_int_equal(tmem_flush_page(c, pool, &oid, index), 0);
    }
    fail_msg("no page landed in the class of %u-byte objects", size);
    return k;
}

static void flush(struct tmem_client *c, int pool, uint32_t index)
{
    struct tmem_oid oid = tu_oid(9, 0, 0);
    assert_int_equal(tmem_flush_page(c, pool, &oid, index), 0);
}

/* Rule: the budget's use is the live zspages' pages times the page size;
 * a freed object leaves a hole and its zspage stays (and stays counted)
 * until its last object goes. With n objects a zspage: n objects make one
 * zspage; the (n+1)-th a second; freeing n-1 of the first changes
 * nothing; freeing its last one gives back its pages. */
static void test_zspage_freed_object_keeps_zspage_until_empty(void **state)
{
    struct tmem *tm = zspage_store_new(TMEM_CAPACITY_UNLIMITED, 0);
    struct tmem_client *c = tu_client_new(tm, "zs");
    int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    struct tmem_zspage_class_info k = put_in_class(tm, c, pool, 0, 0);
    uint64_t zspage = (uint64_t)k.pages_per_zspage * PS;
    struct tmem_zspage_totals t;
    uint32_t n = k.objs_per_zspage;

    (void)state;
    for (uint32_t i = 1; i < n; i++)
        put_in_class(tm, c, pool, i, k.size);
    assert_int_equal(class_of(tm, k.size - 8).zspages, 1);
    assert_int_equal(tmem_budget_used(tm), zspage);
    put_in_class(tm, c, pool, n, k.size);
    assert_int_equal(class_of(tm, k.size - 8).zspages, 2);
    assert_int_equal(tmem_budget_used(tm), 2 * zspage);
    for (uint32_t i = 0; i + 1 < n; i++) {
        flush(c, pool, i);
        assert_int_equal(tmem_budget_used(tm), 2 * zspage);
    }
    assert_int_equal(class_of(tm, k.size - 8).objects, 2);
    tu_check(tm, "holes");
    flush(c, pool, n - 1);
    assert_int_equal(class_of(tm, k.size - 8).zspages, 1);
    assert_int_equal(tmem_budget_used(tm), zspage);
    assert_int_equal(tmem_zspage_totals(tm, &t), 0);
    assert_int_equal(t.pool_pages * PS, tmem_budget_used(tm));
    assert_int_equal(t.objects, 1);
    flush(c, pool, n);
    assert_int_equal(tmem_budget_used(tm), 0);
    tu_store_close(tm);
}

/* Rule: an object goes to the fullest non-full zspage of its class
 * (find_get_zspage: fullness groups by tenths, the fullest first), not
 * to the first or the newest. Two full zspages A (objects 0..n-1) and B
 * (n..2n-1); free one object of B and half of A: the next object goes to
 * B, the fuller, and the one after it to A (B is full again); the freed
 * slots are reused, so no third zspage appears. */
static void test_zspage_fills_fullest_first(void **state)
{
    struct tmem *tm = zspage_store_new(TMEM_CAPACITY_UNLIMITED, 0);
    struct tmem_client *c = tu_client_new(tm, "zs");
    int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    struct tmem_zspage_class_info k = put_in_class(tm, c, pool, 0, 0);
    uint32_t n = k.objs_per_zspage, inuse[4], slots, len = k.size - 8;

    (void)state;
    for (uint32_t i = 1; i < 2 * n; i++)
        put_in_class(tm, c, pool, i, k.size);
    assert_int_equal(tmem_zspage_class_of(tm, len, &k, inuse, 4, &slots), 0);
    assert_int_equal(slots, 2);
    assert_int_equal(inuse[0], n);
    assert_int_equal(inuse[1], n);
    flush(c, pool, n);             /* B: n - 1 */
    for (uint32_t i = 0; i < n / 2; i++)
        flush(c, pool, i);         /* A: n - n/2, emptied last */
    put_in_class(tm, c, pool, 2 * n, k.size);
    assert_int_equal(tmem_zspage_class_of(tm, len, &k, inuse, 4, &slots), 0);
    assert_int_equal(slots, 2);
    assert_int_equal(inuse[1], n);         /* B took it */
    assert_int_equal(inuse[0], n - n / 2);
    put_in_class(tm, c, pool, 2 * n + 1, k.size);
    assert_int_equal(tmem_zspage_class_of(tm, len, &k, inuse, 4, &slots), 0);
    assert_int_equal(slots, 2);
    assert_int_equal(inuse[0], n - n / 2 + 1);
    assert_int_equal(k.zspages, 2);
    tu_check(tm, "fullest first");
    tu_store_close(tm);
}

/* Rule: puts are admitted against zspages: at a capacity of exactly one
 * zspage of the class, its n objects fit; the (n+1)-th needs a second
 * zspage and is refused though its bytes are a fraction of the room the
 * 16-byte count would see left (none here: the zspage is full). */
static void test_zspage_budget_admits_whole_zspages(void **state)
{
    struct tmem *probe = zspage_store_new(TMEM_CAPACITY_UNLIMITED, 0);
    struct tmem_client *pc = tu_client_new(probe, "probe");
    int ppool = tu_pool_new(pc, TMEM_POOL_PERSIST, NULL);
    struct tmem_zspage_class_info k = put_in_class(probe, pc, ppool, 0, 0);
    unsigned char *page = tu_page_alloc(PS);
    struct tmem *tm;
    struct tmem_client *c;
    int pool;

    (void)state;
    tu_store_close(probe);
    tm = zspage_store_new((uint64_t)k.pages_per_zspage * PS, 0);
    c = tu_client_new(tm, "zs");
    pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    for (uint32_t i = 0; i < k.objs_per_zspage; i++)
        put_in_class(tm, c, pool, i, k.size);
    assert_int_equal(tmem_budget_used(tm), (uint64_t)k.pages_per_zspage * PS);
    struct tmem_oid oid = tu_oid(9, 0, 0);
    tu_fill_partly_random(page, PS, 1, 60);
    assert_int_equal(tmem_put(c, pool, &oid, 1000, page), -ENOSPC);
    assert_int_equal(tmem_budget_used(tm), (uint64_t)k.pages_per_zspage * PS);
    free(page);
    tu_store_close(tm);
}

/* Rule: tmem_check counts every object once against its zspage: an
 * object counted in a zspage that no record holds ("counts n+1, n
 * found"), and a record whose object was freed behind its back ("no
 * zspage object"), are both reported; undone, the store checks clean. */
static void test_zspage_checker_catches_wrong_counts(void **state)
{
    struct tmem *tm = zspage_store_new(TMEM_CAPACITY_UNLIMITED, 0);
    struct tmem_client *c = tu_client_new(tm, "zs");
    int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    struct tmem_zspage_class_info k = put_in_class(tm, c, pool, 0, 0);
    char why[512];
    uint32_t bogus = 0xfff0001u, id;

    (void)state;
    put_in_class(tm, c, pool, 1, k.size);
    tu_check(tm, "before");
    /* an object nobody holds, in the class's zspage */
    assert_int_equal(tmem_zspage_store(tm, bogus, k.size - 8), 0);
    assert_int_equal(tmem_check(tm, why, sizeof(why)), -EUCLEAN);
    if (!strstr(why, "pages' data are in it"))
        fail_msg("the checker says: %s", why);
    tmem_zspage_release(tm, bogus);
    tu_check(tm, "undone");
    /* a record's object freed: find a record with data through the pool */
    struct tmem_pool *p = c->pools[pool];
    struct tmem_oid oid = tu_oid(9, 0, 0);
    struct tmem_stripe *st = tmem_stripe_of(p, &oid);
    id = tmem_index_lookup(tmem_object_record(tm, tmem_index_find_object(tm, st, p, &oid)), 0);
    assert_true(id != 0);
    tmem_zspage_release(tm, id);
    assert_int_equal(tmem_check(tm, why, sizeof(why)), -EUCLEAN);
    assert_non_null(strstr(why, "no zspage object"));
    assert_int_equal(tmem_zspage_store(tm, id, k.size - 8), 0);
    tu_check(tm, "restored");
    tu_store_close(tm);
}

/* Rule: tmem_zspage_compact does what zs_compact would: two zspages of a
 * class each left with part of their objects, n in all (one zspage's
 * worth), become one: the objects of the emptier move into the fuller
 * (isolate_src_zspage / isolate_dest_zspage), the emptier is
 * freed (its pages returned, as tmem_zspage_totals' compactable_pages
 * said), every object still counted once (tmem_check) and every page
 * still reads back; with nothing to gain a second call frees nothing. */
static void test_zspage_compaction_packs_a_class(void **state)
{
    struct tmem *tm = zspage_store_new(TMEM_CAPACITY_UNLIMITED, 0);
    struct tmem_client *c = tu_client_new(tm, "zs");
    int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    struct tmem_zspage_class_info k = put_in_class(tm, c, pool, 0, 0);
    uint32_t n = k.objs_per_zspage, len = k.size - 8, inuse[4], slots;
    unsigned char *back = tu_page_alloc(PS);
    struct tmem_oid oid = tu_oid(9, 0, 0);
    struct tmem_zspage_totals t;

    (void)state;
    for (uint32_t i = 1; i < 2 * n; i++)
        put_in_class(tm, c, pool, i, k.size);
    for (uint32_t i = 0; i < n / 2 - 1; i++)
        flush(c, pool, i);              /* A keeps n - n/2 + 1 */
    for (uint32_t i = n; i < n + (n - n / 2) + 1; i++)
        flush(c, pool, i);              /* B keeps n/2 - 1 */
    assert_int_equal(tmem_budget_used(tm), 2ull * k.pages_per_zspage * PS);
    assert_int_equal(tmem_zspage_totals(tm, &t), 0);
    assert_int_equal(t.compactable_pages, k.pages_per_zspage);
    assert_int_equal(tmem_zspage_compact(tm), (long)k.pages_per_zspage);
    assert_int_equal(tmem_budget_used(tm), (uint64_t)k.pages_per_zspage * PS);
    assert_int_equal(tmem_zspage_class_of(tm, len, &k, inuse, 4, &slots), 0);
    assert_int_equal(k.zspages, 1);
    assert_int_equal(k.objects, n);
    assert_int_equal(slots, 2);
    assert_int_equal(inuse[0], n); /* into the fuller (A), out of the emptier */
    assert_int_equal(inuse[1], 0);
    tu_check(tm, "compacted");
    for (uint32_t i = 0; i < 2 * n; i++) {
        int rc = tmem_get(c, pool, &oid, i, back);
        bool kept = (i >= n / 2 - 1 && i < n) || i >= n + (n - n / 2) + 1;
        assert_int_equal(rc, kept ? 0 : -ENOENT);
    }
    assert_int_equal(tmem_zspage_compact(tm), 0);
    assert_int_equal(tmem_zspage_compact(NULL), -EINVAL);
    for (uint32_t i = 0; i < 2 * n; i++) {
        bool kept = (i >= n / 2 - 1 && i < n) || i >= n + (n - n / 2) + 1;
        if (kept)
            flush(c, pool, i);
    }
    assert_int_equal(tmem_budget_used(tm), 0);
    tu_check(tm, "emptied");
    free(back);
    tu_store_close(tm);
}

/* Rule: with dedup on, identical pages are one object (the owner's). */
static void test_zspage_dedup_is_one_object(void **state)
{
    struct tmem_config cfg;
    struct tmem *tm;
    struct tmem_client *c;
    unsigned char *page = tu_page_alloc(PS);
    struct tmem_oid oid = tu_oid(4, 0, 0);
    struct tmem_zspage_totals t;
    int pool;

    (void)state;
    tmem_config_init(&cfg);
    cfg.budget = TMEM_BUDGET_ZSPAGES;
    tm = tmem_create(&cfg);
    assert_non_null(tm);
    c = tu_client_new(tm, "dd");
    pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    tu_fill_partly_random(page, PS, 5, 50);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(tmem_put(c, pool, &oid, i, page), 0);
    assert_int_equal(tmem_zspage_totals(tm, &t), 0);
    assert_int_equal(t.objects, 1);
    tu_check(tm, "dedup");
    for (uint32_t i = 0; i < 9; i++)
        assert_int_equal(tmem_flush_page(c, pool, &oid, i), 0);
    assert_int_equal(tmem_zspage_totals(tm, &t), 0);
    assert_int_equal(t.objects, 1);
    assert_int_equal(tmem_flush_page(c, pool, &oid, 9), 0);
    assert_int_equal(tmem_budget_used(tm), 0);
    free(page);
    tu_store_close(tm);
}

/* Rule (docs/core.md "Failure behaviour"): with the zspage budget a put
 * whose allocation fails, wherever it fails (its data, record, object,
 * tree node, a new zspage, a side-table chunk: every one is a site of the
 * fault switch), returns -ENOMEM and leaves no half-stored page: no
 * zspage object without a record, no record without its object, the
 * budget the live zspages' pages (tmem_check), alloc_failures the
 * switch's count, and the older copy under the handle gone. A fixed
 * workload (a persistent and an ephemeral pool, pages of many classes,
 * repeated contents so that dedup shares owners, flushes, a capacity
 * that refuses and evicts) runs once to count its allocations, then once
 * per allocation with that one failing; every persistent page whose put
 * succeeded reads back exactly, every failed put's handle misses, and
 * with everything flushed the budget's use is 0. */
#define ZF_INDICES 24u
#define ZF_OPS 160

struct zf_run {
    struct tmem *tm;
    struct tmem_client *c;
    int pool[2];                 /* 0 persistent, 1 ephemeral */
    int content[2][ZF_INDICES];  /* what was put last (-1: nothing) */
    unsigned char *page, *got;
    uint64_t enomem;
};

/* Content k: 24 pages of 6 compressibilities (4 seeds each: repeats share). */
static void zf_fill(unsigned char *page, int k)
{
    static const unsigned percent[] = {3, 12, 30, 55, 80, 100};
    tu_fill_partly_random(page, PS, 500 + (uint64_t)(k % 4), percent[k / 4]);
}

static void zf_check(struct zf_run *r, const char *what)
{
    char why[512];
    if (tmem_check(r->tm, why, sizeof(why)) != 0)
        fail_msg("%s: tmem_check: %s", what, why);
}

static void zf_step(struct zf_run *r, uint64_t *x, const char *what)
{
    struct tmem_oid oid = tu_oid(11, 0, 0);
    uint32_t op, which, index;
    int rc;

    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    op = (uint32_t)(*x % 10);
    which = (uint32_t)(*x >> 8) % 2;
    index = (uint32_t)(*x >> 16) % ZF_INDICES;
    if (op < 6) {
        int k = (int)((*x >> 24) % 24);
        zf_fill(r->page, k);
        rc = tmem_put(r->c, r->pool[which], &oid, index, r->page);
        if (rc != 0 && rc != -ENOMEM && rc != -ENOSPC)
            fail_msg("%s: put returned %d", what, rc);
        r->enomem += rc == -ENOMEM;
        r->content[which][index] = rc == 0 ? k : -1;
    } else if (op < 9) {
        rc = tmem_get(r->c, r->pool[which], &oid, index, r->got);
        if (rc == 0) {
            if (r->content[which][index] < 0)
                fail_msg("%s: pool %u index %u: a get hit where nothing was put", what,
                         which, index);
            zf_fill(r->page, r->content[which][index]);
            TU_ASSERT_PAGE_EQ(r->got, r->page, PS, what);
            if (which == 1) /* a private ephemeral pool's gets are exclusive */
                r->content[which][index] = -1;
        } else if (which == 0 && r->content[0][index] >= 0) {
            fail_msg("%s: persistent index %u lost (get %d)", what, index, rc);
        }
    } else {
        (void)tmem_flush_page(r->c, r->pool[which], &oid, index);
        r->content[which][index] = -1;
    }
}

/* One run with the switch `fault`; *counts: the switch's counts. False
 * when the failure hit tmem_create or the client or pools (checked). */
static bool zf_run_workload(const struct tmem_fault *fault, const char *what,
                            struct tmem_fault_counts *counts)
{
    struct tmem_config cfg;
    struct zf_run r = {0};
    struct tmem_oid oid = tu_oid(11, 0, 0);
    struct tmem_stats st;
    uint64_t x = 88172645463325252ull, injected = 0;
    bool made = false;

    tmem_config_init(&cfg);
    cfg.budget = TMEM_BUDGET_ZSPAGES;
    cfg.compressor = TMEM_COMPRESSOR_LZO;
    cfg.compress_threshold = PS;
    cfg.same_filled = false;
    cfg.dedup = true;
    cfg.capacity_bytes = 24 * PS;
    cfg.fault = *fault;
    memset(counts, 0, sizeof(*counts));
    r.tm = tmem_create(&cfg);
    if (!r.tm)
        return false;
    r.c = tmem_client_create(r.tm, "zf");
    r.pool[0] = r.c ? tmem_new_pool(r.c, TMEM_POOL_PERSIST, NULL) : -1;
    r.pool[1] = r.c ? tmem_new_pool(r.c, 0, NULL) : -1;
    if (r.pool[0] < 0 || r.pool[1] < 0)
        goto out;
    made = true;
    r.page = tu_page_alloc(PS);
    r.got = tu_page_alloc(PS);
    memset(r.content, -1, sizeof(r.content));
    for (int i = 0; i < ZF_OPS; i++) {
        zf_step(&r, &x, what);
        assert_int_equal(tmem_fault_counts(r.tm, counts), 0);
        if (counts->injected != injected || i % 40 == 39) {
            injected = counts->injected;
            zf_check(&r, what);
        }
    }
    assert_int_equal(tmem_stats(r.tm, &st), 0);
    if (st.failed_puts_alloc != r.enomem || st.alloc_failures != counts->injected)
        fail_msg("%s: failed_puts_alloc %llu for %llu -ENOMEM puts, alloc_failures %llu for "
                 "%llu injected", what, (unsigned long long)st.failed_puts_alloc,
                 (unsigned long long)r.enomem, (unsigned long long)st.alloc_failures,
                 (unsigned long long)counts->injected);
    for (uint32_t i = 0; i < ZF_INDICES; i++) {
        if (r.content[0][i] < 0)
            continue;
        if (tmem_get(r.c, r.pool[0], &oid, i, r.got) != 0)
            fail_msg("%s: persistent index %u lost", what, i);
        zf_fill(r.page, r.content[0][i]);
        TU_ASSERT_PAGE_EQ(r.got, r.page, PS, what);
    }
    (void)tmem_flush_object(r.c, r.pool[0], &oid);
    (void)tmem_flush_object(r.c, r.pool[1], &oid);
    zf_check(&r, what);
    if (tmem_budget_used(r.tm) != 0)
        fail_msg("%s: everything flushed, the budget still counts %llu bytes", what,
                 (unsigned long long)tmem_budget_used(r.tm));
out:
    assert_int_equal(tmem_fault_counts(r.tm, counts), 0);
    free(r.page);
    free(r.got);
    tmem_destroy(r.tm);
    return made;
}

static void test_zspage_allocation_failures_leave_no_half_page(void **state)
{
    struct tmem_fault fault = {.fail_nth = TMEM_FAULT_COUNT_ONLY};
    struct tmem_fault_counts counts;
    uint64_t total, sites_hit = 0;
    char what[128];

    (void)state;
    assert_true(zf_run_workload(&fault, "counting", &counts));
    total = counts.allocations;
    print_message("zspage budget: %llu allocations, each failed in turn\n",
                  (unsigned long long)total);
    assert_true(total > 40);
    for (uint64_t n = 1; n <= total; n++) {
        fault.fail_nth = n;
        snprintf(what, sizeof(what), "allocation %llu of %llu failing", (unsigned long long)n,
                 (unsigned long long)total);
        if (zf_run_workload(&fault, what, &counts))
            sites_hit += counts.injected;
    }
    assert_true(sites_hit > total / 2);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        fault = (struct tmem_fault){.fail_probability = 0.05, .seed = seed};
        snprintf(what, sizeof(what), "p=0.05 seed %llu", (unsigned long long)seed);
        zf_run_workload(&fault, what, &counts);
    }
}

/* Rule: the zspage model under threads (TSan's case): 4 threads put and
 * flush pages of varied sizes into their own pools of one store (two
 * persistent, two ephemeral: evictions free objects from other threads'
 * stripes), with
 * dedup on and contents shared between threads (a dedup owner's object is
 * freed by whichever thread drops the last reference), under a budget
 * tight enough to refuse; every few hundred operations one of them runs
 * tmem_check, which must find every object counted once, or compacts. */
struct zs_worker {
    struct tmem *tm;
    int id;
    int check_failures;
};

static void *zs_worker_main(void *arg)
{
    struct zs_worker *w = arg;
    struct tmem_client *c = tmem_client_create(w->tm, w->id == 0 ? "w0" : "wn");
    unsigned char *page = malloc(PS);
    struct tmem_oid oid = tu_oid(7, (uint64_t)w->id, 0);
    uint64_t x = 88172645463325252ull + (uint64_t)w->id;
    char why[256];
    int pool;

    if (!c || !page)
        return NULL;
    pool = tmem_new_pool(c, w->id % 2 ? 0u : TMEM_POOL_PERSIST, NULL);
    for (int i = 0; i < 6000 && pool >= 0; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t index = (uint32_t)(x % 256);
        if (x % 3 == 0) {
            (void)tmem_flush_page(c, pool, &oid, index);
        } else {
            tu_fill_partly_random(page, PS, (x >> 8) % 64, (unsigned)((x >> 20) % 100));
            (void)tmem_put(c, pool, &oid, index, page);
        }
        if (i % 500 == 499 && tmem_check(w->tm, why, sizeof(why)) != 0)
            w->check_failures++;
        if (i % 700 == 699 && tmem_zspage_compact(w->tm) < 0)
            w->check_failures++;
    }
    free(page);
    tmem_client_destroy(c);
    return NULL;
}

static void test_zspage_model_under_threads(void **state)
{
    struct tmem_config cfg;
    struct zs_worker w[4];
    pthread_t th[4];
    struct tmem *tm;

    (void)state;
    tmem_config_init(&cfg);
    cfg.budget = TMEM_BUDGET_ZSPAGES;
    cfg.compressor = TMEM_COMPRESSOR_LZO;
    cfg.compress_threshold = PS;
    cfg.capacity_bytes = 1u << 20;
    tm = tmem_create(&cfg);
    assert_non_null(tm);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct zs_worker){tm, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, zs_worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].check_failures, 0);
    }
    assert_int_equal(tmem_budget_used(tm), 0); /* every client gone: every zspage freed */
    tu_store_close(tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zsmalloc_budget_counts_page_data_at_16_byte_classes),
        cmocka_unit_test(test_zsmalloc_budget_admits_page_data_only),
        cmocka_unit_test(test_unknown_budget_refused),
        cmocka_unit_test(test_lzo_round_trip_matches_liblzo),
        cmocka_unit_test(test_zspage_classes_as_the_kernel_computes_them),
        cmocka_unit_test(test_zspage_freed_object_keeps_zspage_until_empty),
        cmocka_unit_test(test_zspage_fills_fullest_first),
        cmocka_unit_test(test_zspage_budget_admits_whole_zspages),
        cmocka_unit_test(test_zspage_checker_catches_wrong_counts),
        cmocka_unit_test(test_zspage_compaction_packs_a_class),
        cmocka_unit_test(test_zspage_dedup_is_one_object),
        cmocka_unit_test(test_zspage_model_under_threads),
        cmocka_unit_test(test_zspage_allocation_failures_leave_no_half_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
