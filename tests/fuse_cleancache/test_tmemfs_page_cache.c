/*
 * test_tmemfs_page_cache.c - the guest page cache: replacement order (CLOCK and
 * LRU), the eviction hook (cleancache put) and invalidation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fuse_cleancache/tmemfs_page_cache.h"

#define PS 512

struct evlog {
    uint32_t idx[64];
    unsigned char first[64];
    int n;
};

static void log_evict(void *arg, const struct tmem_oid *oid, uint32_t index, const void *page)
{
    struct evlog *l = arg;
    (void)oid;
    l->idx[l->n] = index;
    l->first[l->n] = *(const unsigned char *)page;
    l->n++;
}

static void fill(unsigned char *p, uint32_t idx)
{
    memset(p, (int)(idx & 0xff), PS);
}

/* Rule: a sequential scan evicts in FIFO order under both policies, and
 * each victim reaches the hook with its own data. */
static void test_sequential_scan_evicts_fifo(void **state)
{
    enum guest_replace_policy pol[2] = { GUEST_REPLACE_CLOCK, GUEST_REPLACE_LRU };
    unsigned char page[PS];
    struct tmem_oid oid = { { 1, 2, 3 } };
    int p;
    uint32_t i;

    (void)state;
    for (p = 0; p < 2; p++) {
        struct tmemfs_page_cache *pc = tmemfs_page_cache_create(4, PS, pol[p]);
        struct evlog l = { .n = 0 };
        assert_non_null(pc);
        for (i = 0; i < 10; i++) {
            fill(page, i);
            assert_int_equal(tmemfs_page_cache_insert(pc, &oid, i, page, log_evict, &l), i >= 4);
        }
        assert_int_equal(l.n, 6);
        for (i = 0; i < 6; i++) {
            assert_int_equal(l.idx[i], i);
            assert_int_equal(l.first[i], i);
        }
        assert_int_equal(tmemfs_page_cache_count(pc), 4);
        tmemfs_page_cache_destroy(pc);
    }
}

/* Rule: a referenced page survives the next eviction (CLOCK second chance,
 * LRU recency); the oldest unreferenced one goes instead. */
static void test_hit_protects_page(void **state)
{
    enum guest_replace_policy pol[2] = { GUEST_REPLACE_CLOCK, GUEST_REPLACE_LRU };
    unsigned char page[PS];
    struct tmem_oid oid = { { 9, 9, 9 } };
    int p;
    uint32_t i;

    (void)state;
    for (p = 0; p < 2; p++) {
        struct tmemfs_page_cache *pc = tmemfs_page_cache_create(4, PS, pol[p]);
        struct evlog l = { .n = 0 };
        for (i = 0; i < 4; i++) {
            fill(page, i);
            tmemfs_page_cache_insert(pc, &oid, i, page, log_evict, &l);
        }
        /* CLOCK: first eviction clears all bits; make the state comparable. */
        fill(page, 4);
        tmemfs_page_cache_insert(pc, &oid, 4, page, log_evict, &l); /* evicts 0 */
        assert_int_equal(l.idx[0], 0);
        assert_non_null(tmemfs_page_cache_lookup(pc, &oid, 1)); /* reference page 1 */
        fill(page, 5);
        tmemfs_page_cache_insert(pc, &oid, 5, page, log_evict, &l);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.idx[1], 2); /* 1 was protected */
        assert_non_null(tmemfs_page_cache_lookup(pc, &oid, 1));
        assert_null(tmemfs_page_cache_lookup(pc, &oid, 2));
        tmemfs_page_cache_destroy(pc);
    }
}

/* Rule: invalidation drops exactly the pages of that object in range,
 * without calling the hook (invalidated pages must not reach cleancache). */
static void test_invalidate_range_and_object(void **state)
{
    struct tmemfs_page_cache *pc = tmemfs_page_cache_create(64, PS, GUEST_REPLACE_CLOCK);
    struct tmem_oid a = { { 1, 1, 1 } }, b = { { 1, 1, 2 } };
    unsigned char page[PS];
    struct evlog l = { .n = 0 };
    uint32_t i;

    (void)state;
    for (i = 0; i < 20; i++) {
        fill(page, i);
        tmemfs_page_cache_insert(pc, &a, i, page, log_evict, &l);
        tmemfs_page_cache_insert(pc, &b, i, page, log_evict, &l);
    }
    assert_int_equal(tmemfs_page_cache_invalidate_range(pc, &a, 5, 9), 5);
    assert_null(tmemfs_page_cache_lookup(pc, &a, 5));
    assert_null(tmemfs_page_cache_lookup(pc, &a, 9));
    assert_non_null(tmemfs_page_cache_lookup(pc, &a, 4));
    assert_non_null(tmemfs_page_cache_lookup(pc, &a, 10));
    assert_non_null(tmemfs_page_cache_lookup(pc, &b, 7));
    /* A huge range takes the scanning path. */
    assert_int_equal(tmemfs_page_cache_invalidate_range(pc, &a, 12, UINT32_MAX), 8);
    assert_int_equal(tmemfs_page_cache_invalidate_object(pc, &b), 20);
    assert_int_equal(tmemfs_page_cache_count(pc), 7);
    assert_int_equal(l.n, 0);
    /* Freed slots are reused before anything is evicted. */
    for (i = 100; i < 157; i++)
        tmemfs_page_cache_insert(pc, &b, i, page, log_evict, &l);
    assert_int_equal(l.n, 0);
    assert_int_equal(tmemfs_page_cache_evict_all(pc, log_evict, &l), 64);
    assert_int_equal(tmemfs_page_cache_count(pc), 0);
    tmemfs_page_cache_destroy(pc);
}

/* Rule: replacing a page under the same key keeps one copy, newest data. */
static void test_insert_same_key_replaces(void **state)
{
    struct tmemfs_page_cache *pc = tmemfs_page_cache_create(2, PS, GUEST_REPLACE_LRU);
    struct tmem_oid a = { { 5, 5, 5 } };
    unsigned char page[PS];
    const unsigned char *got;

    (void)state;
    fill(page, 1);
    tmemfs_page_cache_insert(pc, &a, 0, page, NULL, NULL);
    fill(page, 2);
    tmemfs_page_cache_insert(pc, &a, 0, page, NULL, NULL);
    assert_int_equal(tmemfs_page_cache_count(pc), 1);
    got = tmemfs_page_cache_lookup(pc, &a, 0);
    assert_int_equal(got[0], 2);
    assert_null(tmemfs_page_cache_create(0, PS, GUEST_REPLACE_LRU));
    tmemfs_page_cache_destroy(pc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential_scan_evicts_fifo),
        cmocka_unit_test(test_hit_protects_page),
        cmocka_unit_test(test_invalidate_range_and_object),
        cmocka_unit_test(test_insert_same_key_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
