/*
 * test_semantics.c - one cmocka test per rule of the tmem contract
 * (src/core/tmem.h; docs/core.md numbers the rules; Xen's "The Transcendent
 * Memory API" defined them). Sizes are never hard-coded: budgets are
 * computed from tmem_stats (data_bytes + metadata_bytes) measured in the
 * same run. Most tests start from the fixture of tests/support (a store
 * with one client, its invariants checked at teardown); the pressure tests
 * from their own (a frontswap-like client with pages to give back).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tmem.h"
#include "../support/testutil.h"

static const uint8_t UUID_A[16] = {0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t UUID_B[16] = {0xb2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* The four pool kinds, for tests that apply to all of them. */
static const uint32_t ALL_KINDS[] = {
    TMEM_POOL_PERSIST,
    TMEM_POOL_PERSIST | TMEM_POOL_SHARED,
    0,
    TMEM_POOL_SHARED,
};
#define NKINDS (sizeof ALL_KINDS / sizeof ALL_KINDS[0])

static const char *kind_name(uint32_t f)
{
    switch (f & 7u) {
    case TMEM_POOL_PERSIST: return "private persistent";
    case TMEM_POOL_PERSIST | TMEM_POOL_SHARED: return "shared persistent";
    case 0: return "private ephemeral";
    case TMEM_POOL_SHARED: return "shared ephemeral";
    case TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS: return "persistent exclusive-gets";
    default: return "other";
    }
}

/* A pool of the given kind, with UUID_A when shared. */
static int pool_of_kind(struct tmem_client *c, uint32_t flags)
{
    return tu_pool_new(c, flags, (flags & TMEM_POOL_SHARED) ? UUID_A : NULL);
}

static struct tmem_stats pstats(const struct tmem_client *c, int pool)
{
    struct tmem_stats st;
    assert_int_equal(tmem_pool_stats(c, pool, &st), 0);
    return st;
}

/* Page content kinds used by several tests. */
enum { PK_RANDOM, PK_COMPRESSIBLE, PK_ZERO, PK_WORD, PK_PARTLY, PK_COUNT };

static void fill_kind(void *page, size_t ps, int kind, uint64_t seed)
{
    switch (kind) {
    case PK_RANDOM: tu_fill_random(page, ps, seed); break;
    case PK_COMPRESSIBLE: tu_fill_compressible(page, ps, seed); break;
    case PK_ZERO: memset(page, 0, ps); break;
    case PK_WORD: tu_fill_word(page, ps, 0x0123456789abcdefull ^ seed); break;
    default: tu_fill_partly_random(page, ps, seed, 50); break;
    }
}

/* Put `n` distinct random pages at indices first..first+n-1 of oid. */
static void put_random_pages(struct tmem_client *c, int pool, const struct tmem_oid *oid,
                             uint32_t first, uint32_t n, uint64_t seed_base, size_t ps)
{
    unsigned char *p = tu_page_alloc(ps);
    for (uint32_t i = first; i < first + n; i++) {
        tu_fill_random(p, ps, seed_base + i);
        int rc = tmem_put(c, pool, oid, i, p);
        if (rc != 0)
            fail_msg("put of index %u failed: %d", i, rc);
    }
    free(p);
}

/* Get index i and compare with the random page of seed_base + i.
 * Returns 0 if present and exact, -ENOENT if absent; fails otherwise. */
static int check_random_page(struct tmem_client *c, int pool, const struct tmem_oid *oid,
                             uint32_t i, uint64_t seed_base, size_t ps)
{
    unsigned char *want = tu_page_alloc(ps), *got = tu_page_alloc(ps);
    tu_fill_random(want, ps, seed_base + i);
    memset(got, 0x5a, ps);
    int rc = tmem_get(c, pool, oid, i, got);
    if (rc == 0) {
        char what[64];
        snprintf(what, sizeof what, "index %u", i);
        TU_ASSERT_PAGE_EQ(got, want, ps, what);
    } else if (rc != -ENOENT) {
        fail_msg("get of index %u returned %d", i, rc);
    }
    free(want);
    free(got);
    return rc;
}

/* ------------------------------------------------------------ put copies */

static void test_put_copies_the_caller_buffer(void **state)
{
    struct tu_store *s = *state;
    unsigned char *buf = tu_page_alloc(s->ps), *orig = tu_page_alloc(s->ps);
    unsigned char *got = tu_page_alloc(s->ps);
    for (size_t k = 0; k < NKINDS; k++) {
        int pool = pool_of_kind(s->c, ALL_KINDS[k]);
        struct tmem_oid oid = tu_oid(7, k, 0);
        for (int pk = 0; pk < PK_COUNT; pk++) {
            fill_kind(buf, s->ps, pk, 100 + pk);
            memcpy(orig, buf, s->ps);
            assert_int_equal(tmem_put(s->c, pool, &oid, (uint32_t)pk, buf), 0);
            /* the caller scribbles over and frees-like reuses its buffer */
            memset(buf, 0xee, s->ps);
            buf[0] ^= 1;
            memset(got, 0, s->ps);
            int rc = tmem_get(s->c, pool, &oid, (uint32_t)pk, got);
            if (rc != 0)
                fail_msg("%s: get after put returned %d", kind_name(ALL_KINDS[k]), rc);
            TU_ASSERT_PAGE_EQ(got, orig, s->ps, kind_name(ALL_KINDS[k]));
        }
        assert_int_equal(tmem_destroy_pool(s->c, pool), 0);
    }
    free(buf);
    free(orig);
    free(got);
}

/* ------------------------------------------------- persistent / ephemeral */

static void test_persistent_get_is_nondestructive(void **state)
{
    struct tu_store *s = *state;
    uint32_t flags[] = {TMEM_POOL_PERSIST, TMEM_POOL_PERSIST | TMEM_POOL_SHARED};
    for (size_t k = 0; k < 2; k++) {
        int pool = pool_of_kind(s->c, flags[k]);
        struct tmem_oid oid = tu_oid(1, 2, 3);
        put_random_pages(s->c, pool, &oid, 0, 4, 1000, s->ps);
        for (int round = 0; round < 5; round++)
            for (uint32_t i = 0; i < 4; i++)
                assert_int_equal(check_random_page(s->c, pool, &oid, i, 1000, s->ps), 0);
        struct tmem_stats st = pstats(s->c, pool);
        assert_int_equal(st.pages, 4);
        assert_int_equal(st.pages_got_exclusive, 0);
        assert_int_equal(st.succ_gets, 20);
        assert_int_equal(tmem_destroy_pool(s->c, pool), 0);
    }
}

static void test_exclusive_gets_pool_flushes_on_get(void **state)
{
    struct tu_store *s = *state;
    int pool = tu_pool_new(s->c, TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS, NULL);
    struct tmem_oid oid = tu_oid(1, 0, 0);
    put_random_pages(s->c, pool, &oid, 0, 3, 77, s->ps);
    assert_int_equal(pstats(s->c, pool).pages, 3);
    assert_int_equal(check_random_page(s->c, pool, &oid, 1, 77, s->ps), 0);
    assert_int_equal(check_random_page(s->c, pool, &oid, 1, 77, s->ps), -ENOENT);
    assert_int_equal(tmem_flush_page(s->c, pool, &oid, 1), -ENOENT);
    struct tmem_stats st = pstats(s->c, pool);
    assert_int_equal(st.pages, 2);
    assert_int_equal(st.pages_got_exclusive, 1);
    /* the others are untouched and also taken once each */
    assert_int_equal(check_random_page(s->c, pool, &oid, 0, 77, s->ps), 0);
    assert_int_equal(check_random_page(s->c, pool, &oid, 2, 77, s->ps), 0);
    assert_int_equal(check_random_page(s->c, pool, &oid, 0, 77, s->ps), -ENOENT);
    assert_int_equal(pstats(s->c, pool).pages, 0);
    /* a new put makes it available again */
    put_random_pages(s->c, pool, &oid, 1, 1, 77, s->ps);
    assert_int_equal(check_random_page(s->c, pool, &oid, 1, 77, s->ps), 0);
}

static void test_private_ephemeral_get_is_destructive(void **state)
{
    struct tu_store *s = *state;
    int pool = tu_pool_new(s->c, 0, NULL);
    struct tmem_oid oid = tu_oid(9, 9, 9);
    put_random_pages(s->c, pool, &oid, 0, 2, 5, s->ps);
    /* unlimited capacity: nothing has a reason to evict the pages */
    assert_int_equal(check_random_page(s->c, pool, &oid, 0, 5, s->ps), 0);
    assert_int_equal(check_random_page(s->c, pool, &oid, 0, 5, s->ps), -ENOENT);
    assert_int_equal(tmem_flush_page(s->c, pool, &oid, 0), -ENOENT);
    struct tmem_stats st = pstats(s->c, pool);
    assert_int_equal(st.pages, 1);
    assert_int_equal(st.pages_got_exclusive, 1);
    assert_int_equal(check_random_page(s->c, pool, &oid, 1, 5, s->ps), 0);
    assert_int_equal(pstats(s->c, pool).pages, 0);
}

static void test_shared_ephemeral_get_is_nondestructive(void **state)
{
    struct tu_store *s = *state;
    struct tmem_client *a = s->c, *b = tu_client_new(s->tm, "b");
    int pa = tu_pool_new(a, TMEM_POOL_SHARED, UUID_A);
    int pb = tu_pool_new(b, TMEM_POOL_SHARED, UUID_A);
    struct tmem_oid oid = tu_oid(4, 4, 4);
    put_random_pages(a, pa, &oid, 0, 1, 31, s->ps);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(check_random_page(a, pa, &oid, 0, 31, s->ps), 0);
        assert_int_equal(check_random_page(b, pb, &oid, 0, 31, s->ps), 0);
    }
    assert_int_equal(pstats(a, pa).pages, 1);
    assert_int_equal(pstats(a, pa).pages_got_exclusive, 0);
}

/* ------------------------------------------------------------ coherency */

static void test_put_put_get_never_returns_first_copy(void **state)
{
    struct tu_store *s = *state;
    unsigned char *d1 = tu_page_alloc(s->ps), *d2 = tu_page_alloc(s->ps);
    unsigned char *got = tu_page_alloc(s->ps);
    for (size_t k = 0; k < NKINDS; k++) {
        int pool = pool_of_kind(s->c, ALL_KINDS[k]);
        bool persist = ALL_KINDS[k] & TMEM_POOL_PERSIST;
        uint64_t replaced_before = pstats(s->c, pool).dup_puts_replaced;
        uint32_t idx = 0;
        for (int k1 = 0; k1 < PK_COUNT; k1++) {
            for (int k2 = 0; k2 < PK_COUNT; k2++, idx++) {
                struct tmem_oid oid = tu_oid(3, idx, 0);
                struct tmem_oid oid_other = tu_oid(4, idx, 0);
                fill_kind(d1, s->ps, k1, 1000 + idx);
                fill_kind(d2, s->ps, k2, 2000 + idx);
                if (memcmp(d1, d2, s->ps) == 0)
                    d2[s->ps - 1] ^= 0x80; /* D2 must differ from D1 */
                /* another handle holds D1 too (dedup must not mix them up) */
                assert_int_equal(tmem_put(s->c, pool, &oid_other, 0, d1), 0);
                assert_int_equal(tmem_put(s->c, pool, &oid, 0, d1), 0);
                assert_int_equal(tmem_put(s->c, pool, &oid, 0, d2), 0);
                memset(got, 0xa5, s->ps);
                int rc = tmem_get(s->c, pool, &oid, 0, got);
                char what[96];
                snprintf(what, sizeof what, "%s, D1 kind %d, D2 kind %d",
                         kind_name(ALL_KINDS[k]), k1, k2);
                if (rc == 0) {
                    if (memcmp(got, d1, s->ps) == 0)
                        fail_msg("%s: get returned the first copy D1", what);
                    TU_ASSERT_PAGE_EQ(got, d2, s->ps, what);
                } else if (persist || rc != -ENOENT) {
                    fail_msg("%s: get returned %d", what, rc);
                }
                /* the other handle still holds D1 exactly */
                rc = tmem_get(s->c, pool, &oid_other, 0, got);
                if (persist || rc == 0) {
                    assert_int_equal(rc, 0);
                    TU_ASSERT_PAGE_EQ(got, d1, s->ps, "other handle with D1");
                }
            }
        }
        assert_int_equal(pstats(s->c, pool).dup_puts_replaced - replaced_before, idx);
        assert_int_equal(tmem_destroy_pool(s->c, pool), 0);
    }
    free(d1);
    free(d2);
    free(got);
}

static void test_put_put_get_when_second_put_fails(void **state)
{
    struct tu_store *s = *state;
    unsigned char *d1 = tu_page_alloc(s->ps), *d2 = tu_page_alloc(s->ps);
    unsigned char *got = tu_page_alloc(s->ps);

    /* (a) frozen client: every pool kind, D2 different from and equal to D1 */
    for (size_t k = 0; k < NKINDS; k++) {
        int pool = pool_of_kind(s->c, ALL_KINDS[k]);
        for (int same = 0; same < 2; same++) {
            struct tmem_oid oid = tu_oid(10 + same, k, 0);
            tu_fill_random(d1, s->ps, 1 + k);
            if (same)
                memcpy(d2, d1, s->ps);
            else
                tu_fill_random(d2, s->ps, 100 + k);
            assert_int_equal(tmem_put(s->c, pool, &oid, 0, d1), 0);
            uint64_t dpf = pstats(s->c, pool).dup_puts_flushed;
            tmem_client_set_frozen(s->c, true);
            assert_int_equal(tmem_put(s->c, pool, &oid, 0, d2), -ENOSPC);
            tmem_client_set_frozen(s->c, false);
            memset(got, 0x11, s->ps);
            int rc = tmem_get(s->c, pool, &oid, 0, got);
            if (rc != -ENOENT)
                fail_msg("%s (frozen, D2 %s D1): get after failed put returned %d%s",
                         kind_name(ALL_KINDS[k]), same ? "==" : "!=", rc,
                         rc == 0 && memcmp(got, d1, s->ps) == 0 ? " with D1" : "");
            for (size_t i = 0; i < s->ps; i++)
                if (got[i] != 0x11)
                    fail_msg("failed get touched the caller's page");
            /* for persistent pools the old copy was certainly there */
            if (ALL_KINDS[k] & TMEM_POOL_PERSIST)
                assert_int_equal(pstats(s->c, pool).dup_puts_flushed, dpf + 1);
        }
        assert_int_equal(tmem_destroy_pool(s->c, pool), 0);
    }

    /* (b) no room: capacity 0 with the old copy in a persistent pool */
    uint32_t pflags[] = {TMEM_POOL_PERSIST, TMEM_POOL_PERSIST | TMEM_POOL_SHARED};
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(tmem_set_capacity(s->tm, TMEM_CAPACITY_UNLIMITED), 0);
        int pool = pool_of_kind(s->c, pflags[k]);
        struct tmem_oid oid = tu_oid(20, k, 0);
        tu_fill_random(d1, s->ps, 300 + k);
        tu_fill_random(d2, s->ps, 400 + k);
        assert_int_equal(tmem_put(s->c, pool, &oid, 5, d1), 0);
        struct tmem_stats before = pstats(s->c, pool);
        assert_int_equal(tmem_set_capacity(s->tm, 0), 0);
        /* the persistent page survived the drop */
        assert_int_equal(tmem_get(s->c, pool, &oid, 5, got), 0);
        TU_ASSERT_PAGE_EQ(got, d1, s->ps, "persistent page after capacity 0");
        assert_int_equal(tmem_put(s->c, pool, &oid, 5, d2), -ENOSPC);
        int rc = tmem_get(s->c, pool, &oid, 5, got);
        if (rc != -ENOENT)
            fail_msg("%s (capacity 0): get after failed put returned %d%s",
                     kind_name(pflags[k]), rc,
                     rc == 0 && memcmp(got, d1, s->ps) == 0 ? " with D1" : "");
        struct tmem_stats after = pstats(s->c, pool);
        assert_int_equal(after.dup_puts_flushed, before.dup_puts_flushed + 1);
        assert_int_equal(after.pages_flushed, before.pages_flushed + 1);
        assert_int_equal(after.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM],
                         before.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM] + 1);
        assert_int_equal(after.pages, 0);
        assert_int_equal(tmem_destroy_pool(s->c, pool), 0);
    }
    free(d1);
    free(d2);
    free(got);
}

/*
 * Rule 5 (put-put-get) when the second put is refused by hysteresis: once a
 * put was refused for no room, puts are refused until usage falls below the
 * accept threshold, and such a refusal must still remove the older copy
 * under its handle: -ENOSPC, then a get misses, dup_puts_flushed + 1.
 */
static void test_put_put_get_when_second_put_refused_by_hysteresis(void **state)
{
    (void)state;
    const uint32_t pflags[] = {TMEM_POOL_PERSIST, TMEM_POOL_PERSIST | TMEM_POOL_SHARED};
    for (size_t k = 0; k < 2; k++) {
        struct tmem_config cfg;
        tmem_config_init(&cfg);
        cfg.hysteresis = true;
        cfg.accept_threshold_percent = 50;
        struct tmem *tm = tmem_create(&cfg);
        assert_non_null(tm);
        struct tmem_client *c = tu_client_new(tm, "a");
        size_t ps = tmem_page_size(tm);
        int pool = pool_of_kind(c, pflags[k]);
        struct tmem_oid oid = tu_oid(30, k, 0);
        unsigned char *d2 = tu_page_alloc(ps), *got = tu_page_alloc(ps);
        enum { N = 16 };
        /* D1 under index 0, among other pages, in a store then made full */
        put_random_pages(c, pool, &oid, 0, N, 500, ps);
        assert_int_equal(tmem_set_capacity(tm, tu_usage(tm)), 0);
        /* a new page does not fit: refused for no room, the latch is set */
        tu_fill_random(d2, ps, 600);
        assert_int_equal(tmem_put(c, pool, &oid, N, d2), -ENOSPC);
        struct tmem_stats before = pstats(c, pool);
        assert_int_equal(before.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM], 1);
        /* usage is above 50 % of the capacity: the second put of handle 0
         * is refused by hysteresis, and the older copy D1 must go */
        tu_fill_random(d2, ps, 601);
        assert_int_equal(tmem_put(c, pool, &oid, 0, d2), -ENOSPC);
        memset(got, 0x33, ps);
        int rc = tmem_get(c, pool, &oid, 0, got);
        if (rc != -ENOENT)
            fail_msg("%s (hysteresis): get after the refused put returned %d%s",
                     kind_name(pflags[k]), rc,
                     rc == 0 ? " with the first copy D1" : "");
        struct tmem_stats after = pstats(c, pool);
        assert_int_equal(after.failed_puts_reason[TMEM_PUT_FAIL_HYSTERESIS],
                         before.failed_puts_reason[TMEM_PUT_FAIL_HYSTERESIS] + 1);
        assert_int_equal(after.dup_puts_flushed, before.dup_puts_flushed + 1);
        assert_int_equal(after.pages_flushed, before.pages_flushed + 1);
        assert_int_equal(after.pages, N - 1);
        /* the neighbours are untouched */
        for (uint32_t i = 1; i < N; i++)
            assert_int_equal(check_random_page(c, pool, &oid, i, 500, ps), 0);
        free(d2);
        free(got);
        tu_store_close(tm);
    }
}

static void test_get_get_coherency(void **state)
{
    struct tu_store *s = *state;
    struct tmem_oid oid = tu_oid(1, 1, 1);

    /* private ephemeral: the destructive get, then misses until a new put */
    int pe = tu_pool_new(s->c, 0, NULL);
    put_random_pages(s->c, pe, &oid, 0, 1, 50, s->ps);
    assert_int_equal(check_random_page(s->c, pe, &oid, 0, 50, s->ps), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(check_random_page(s->c, pe, &oid, 0, 50, s->ps), -ENOENT);
    put_random_pages(s->c, pe, &oid, 0, 1, 50, s->ps);
    assert_int_equal(check_random_page(s->c, pe, &oid, 0, 50, s->ps), 0);

    /* ephemeral pages evicted by a capacity drop stay gone when it rises */
    int ps_pool = tu_pool_new(s->c, TMEM_POOL_SHARED, UUID_A);
    put_random_pages(s->c, ps_pool, &oid, 0, 8, 60, s->ps);
    assert_int_equal(tmem_set_capacity(s->tm, 0), 0);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(check_random_page(s->c, ps_pool, &oid, i, 60, s->ps), -ENOENT);
    assert_int_equal(tmem_set_capacity(s->tm, TMEM_CAPACITY_UNLIMITED), 0);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(check_random_page(s->c, ps_pool, &oid, i, 60, s->ps), -ENOENT);

    /* a failed put: misses for good */
    int pp = tu_pool_new(s->c, TMEM_POOL_PERSIST, NULL);
    put_random_pages(s->c, pp, &oid, 0, 1, 70, s->ps);
    tmem_client_set_frozen(s->c, true);
    unsigned char *p = tu_page_alloc(s->ps);
    tu_fill_random(p, s->ps, 71);
    assert_int_equal(tmem_put(s->c, pp, &oid, 0, p), -ENOSPC);
    tmem_client_set_frozen(s->c, false);
    for (int i = 0; i < 3; i++)
        assert_int_equal(check_random_page(s->c, pp, &oid, 0, 70, s->ps), -ENOENT);
    free(p);
}

/* ------------------------------------------------------------ flushes */

static void test_flush_page_makes_get_miss(void **state)
{
    struct tu_store *s = *state;
    for (size_t k = 0; k < NKINDS; k++) {
        int pool = pool_of_kind(s->c, ALL_KINDS[k]);
        struct tmem_oid oid = tu_oid(2, k, 0);
        put_random_pages(s->c, pool, &oid, 0, 3, 10, s->ps);
        assert_int_equal(tmem_flush_page(s->c, pool, &oid, 1), 0);
        assert_int_equal(check_random_page(s->c, pool, &oid, 1, 10, s->ps), -ENOENT);
        assert_int_equal(tmem_flush_page(s->c, pool, &oid, 1), -ENOENT);
        assert_int_equal(tmem_flush_page(s->c, pool, &oid, 99), -ENOENT);
        struct tmem_oid never = tu_oid(0xdead, 0, 0);
        assert_int_equal(tmem_flush_page(s->c, pool, &never, 0), -ENOENT);
        /* neighbours in the same object survive (unlimited capacity:
         * nothing has a reason to evict ephemeral pages either) */
        assert_int_equal(check_random_page(s->c, pool, &oid, 0, 10, s->ps), 0);
        assert_int_equal(check_random_page(s->c, pool, &oid, 2, 10, s->ps), 0);
        struct tmem_stats st = pstats(s->c, pool);
        assert_int_equal(st.flush_pages, 4); /* calls, found or not */
        assert_int_equal(st.pages_flushed, 1);
        assert_int_equal(tmem_destroy_pool(s->c, pool), 0);
    }
}

static void test_flush_object_makes_all_its_pages_miss(void **state)
{
    struct tu_store *s = *state;
    for (size_t k = 0; k < NKINDS; k++) {
        int pool = pool_of_kind(s->c, ALL_KINDS[k]);
        bool persist = ALL_KINDS[k] & TMEM_POOL_PERSIST;
        struct tmem_oid a = tu_oid(5, 6, 7), b = tu_oid(5, 6, 8);
        /* sparse indices, including the extremes of the 32-bit range */
        const uint32_t idx[] = {0, 1, 63, 64, 4095, 1u << 20, UINT32_MAX - 1, UINT32_MAX};
        unsigned char *p = tu_page_alloc(s->ps);
        for (size_t i = 0; i < 8; i++) {
            tu_fill_random(p, s->ps, 900 + i);
            assert_int_equal(tmem_put(s->c, pool, &a, idx[i], p), 0);
            assert_int_equal(tmem_put(s->c, pool, &b, idx[i], p), 0);
        }
        free(p);
        assert_int_equal(tmem_flush_object(s->c, pool, &a), 0);
        for (size_t i = 0; i < 8; i++) {
            unsigned char *g = tu_page_alloc(s->ps), *w = tu_page_alloc(s->ps);
            tu_fill_random(w, s->ps, 900 + i);
            assert_int_equal(tmem_get(s->c, pool, &a, idx[i], g), -ENOENT);
            int rc = tmem_get(s->c, pool, &b, idx[i], g);
            if (persist || rc == 0) {
                assert_int_equal(rc, 0);
                TU_ASSERT_PAGE_EQ(g, w, s->ps, "page of the other object");
            }
            free(g);
            free(w);
        }
        assert_int_equal(tmem_flush_object(s->c, pool, &a), -ENOENT);
        /* the object can be used again */
        put_random_pages(s->c, pool, &a, 5, 1, 333, s->ps);
        assert_int_equal(check_random_page(s->c, pool, &a, 5, 333, s->ps), 0);
        /* (a private ephemeral get took it already) */
        bool took = ALL_KINDS[k] == 0;
        assert_int_equal(tmem_flush_page(s->c, pool, &a, 5), took ? -ENOENT : 0);
        struct tmem_oid never = tu_oid(1234, 0, 0);
        assert_int_equal(tmem_flush_object(s->c, pool, &never), -ENOENT);
        struct tmem_stats st = pstats(s->c, pool);
        assert_int_equal(st.flush_objects, 3);
        assert_int_equal(st.pages_flushed, took ? 8 : 9);
        if (persist)
            assert_int_equal(st.pages, 8);
        assert_int_equal(tmem_destroy_pool(s->c, pool), 0);
    }
}

static void test_object_ids_use_all_192_bits(void **state)
{
    struct tu_store *s = *state;
    int pool = tu_pool_new(s->c, TMEM_POOL_PERSIST, NULL);
    struct tmem_oid oids[] = {
        tu_oid(0, 0, 0), tu_oid(1, 0, 0), tu_oid(0, 1, 0), tu_oid(0, 0, 1),
        tu_oid(UINT64_MAX, 0, 0), tu_oid(0, UINT64_MAX, 0), tu_oid(0, 0, UINT64_MAX),
        tu_oid(1ull << 63, 1ull << 63, 1ull << 63),
    };
    const size_t n = sizeof oids / sizeof oids[0];
    for (size_t i = 0; i < n; i++)
        put_random_pages(s->c, pool, &oids[i], 0, 1, 4000 + 10 * i, s->ps);
    for (size_t i = 0; i < n; i++) {
        /* index 0 of oid i has seed 4000 + 10*i */
        assert_int_equal(check_random_page(s->c, pool, &oids[i], 0, 4000 + 10 * i, s->ps), 0);
    }
    assert_int_equal(tmem_flush_object(s->c, pool, &oids[3]), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(check_random_page(s->c, pool, &oids[i], 0, 4000 + 10 * i, s->ps),
                         i == 3 ? -ENOENT : 0);
}

static void test_destroy_pool_invalidates_id(void **state)
{
    struct tu_store *s = *state;
    unsigned char *p = tu_page_alloc(s->ps);
    for (size_t k = 0; k < NKINDS; k++) {
        int pool = pool_of_kind(s->c, ALL_KINDS[k]);
        struct tmem_oid oid = tu_oid(8, 8, 8);
        put_random_pages(s->c, pool, &oid, 0, 4, 20, s->ps);
        assert_int_equal(tmem_destroy_pool(s->c, pool), 0);
        struct tmem_stats st;
        assert_int_equal(tmem_get(s->c, pool, &oid, 0, p), -EINVAL);
        tu_fill_random(p, s->ps, 1);
        assert_int_equal(tmem_put(s->c, pool, &oid, 0, p), -EINVAL);
        assert_int_equal(tmem_flush_page(s->c, pool, &oid, 0), -EINVAL);
        assert_int_equal(tmem_flush_object(s->c, pool, &oid), -EINVAL);
        assert_int_equal(tmem_pool_stats(s->c, pool, &st), -EINVAL);
        assert_int_equal(tmem_destroy_pool(s->c, pool), -EINVAL);
        st = tu_store_stats(s->tm);
        assert_int_equal(st.pages, 0);
        assert_int_equal(st.data_bytes, 0);
        assert_int_equal(st.pages_pool_destroyed, 4 * (k + 1));
        /* a new pool (possibly reusing the id) starts empty */
        int again = pool_of_kind(s->c, ALL_KINDS[k]);
        assert_int_equal(check_random_page(s->c, again, &oid, 0, 20, s->ps), -ENOENT);
        assert_int_equal(pstats(s->c, again).pages, 0);
        assert_int_equal(tmem_destroy_pool(s->c, again), 0);
    }
    free(p);
}

/* ------------------------------------------------------------ sharing */

static void test_shared_pool_same_uuid_sees_same_pages(void **state)
{
    struct tu_store *s = *state;
    uint32_t flags[] = {TMEM_POOL_SHARED | TMEM_POOL_PERSIST, TMEM_POOL_SHARED};
    for (size_t k = 0; k < 2; k++) {
        /* clients of their own: a goes first, while b and z hold the pool */
        struct tmem_client *a = tu_client_new(s->tm, "x"), *b = tu_client_new(s->tm, "b");
        struct tmem_client *z = tu_client_new(s->tm, "z");
        /* make the pool ids differ between the clients */
        int filler = tu_pool_new(b, TMEM_POOL_PERSIST, NULL);
        (void)filler;
        int pa = tu_pool_new(a, flags[k], UUID_A);
        int pb = tu_pool_new(b, flags[k], UUID_A);
        struct tmem_oid oid = tu_oid(11, 12, 13);
        put_random_pages(a, pa, &oid, 0, 3, 600, s->ps);
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(check_random_page(b, pb, &oid, i, 600, s->ps), 0);
            assert_int_equal(check_random_page(a, pa, &oid, i, 600, s->ps), 0);
        }
        /* b's put replaces a's page; b's flush removes it for a */
        put_random_pages(b, pb, &oid, 0, 1, 700, s->ps);
        assert_int_equal(check_random_page(a, pa, &oid, 0, 700, s->ps), 0);
        assert_int_equal(tmem_flush_page(b, pb, &oid, 1), 0);
        assert_int_equal(check_random_page(a, pa, &oid, 1, 600, s->ps), -ENOENT);
        /* joining with other persistence flags is refused */
        assert_int_equal(tmem_new_pool(z, flags[k] ^ TMEM_POOL_PERSIST, UUID_A), -EINVAL);
        /* the pool lives on while b holds it */
        tmem_client_destroy(a);
        assert_int_equal(check_random_page(b, pb, &oid, 2, 600, s->ps), 0);
        int pz = tu_pool_new(z, flags[k], UUID_A);
        assert_int_equal(check_random_page(z, pz, &oid, 2, 600, s->ps), 0);
        assert_int_equal(tmem_destroy_pool(b, pb), 0);
        assert_int_equal(check_random_page(z, pz, &oid, 2, 600, s->ps), 0);
        assert_int_equal(tmem_destroy_pool(z, pz), 0);
        tmem_client_destroy(b);
        tmem_client_destroy(z);
        struct tmem_stats st = tu_store_stats(s->tm);
        assert_int_equal(st.pages, 0);
        assert_int_equal(st.data_bytes, 0);
        assert_int_equal(st.clients, 1); /* the fixture's, with no pool */
        assert_int_equal(st.pools, 0);
    }
}

static void test_other_uuid_and_private_pools_invisible(void **state)
{
    struct tu_store *s = *state;
    struct tmem_client *a = s->c, *b = tu_client_new(s->tm, "b");
    struct tmem_oid oid = tu_oid(1, 2, 3);
    for (size_t k = 0; k < NKINDS; k++) {
        uint32_t f = ALL_KINDS[k];
        /* a's pool: shared with UUID_A, or private; b's: same flags, but
         * UUID_B when shared. Ids are per client, so they may coincide. */
        int pa = tu_pool_new(a, f, (f & TMEM_POOL_SHARED) ? UUID_A : NULL);
        int pb = tu_pool_new(b, f, (f & TMEM_POOL_SHARED) ? UUID_B : NULL);
        put_random_pages(a, pa, &oid, 0, 2, 800 + 10 * k, s->ps);
        assert_int_equal(check_random_page(b, pb, &oid, 0, 800 + 10 * k, s->ps), -ENOENT);
        assert_int_equal(tmem_flush_page(b, pb, &oid, 1), -ENOENT);
        assert_int_equal(tmem_flush_object(b, pb, &oid), -ENOENT);
        /* b's own put under the same handle does not touch a's page */
        put_random_pages(b, pb, &oid, 1, 1, 5000, s->ps);
        int rc = check_random_page(a, pa, &oid, 1, 800 + 10 * k, s->ps);
        if (f & TMEM_POOL_PERSIST)
            assert_int_equal(rc, 0);
        assert_int_equal(tmem_destroy_pool(a, pa), 0);
        assert_int_equal(tmem_destroy_pool(b, pb), 0);
    }
    /* a pool id b does not hold is invalid for b, even if a holds it */
    int pa = tu_pool_new(a, TMEM_POOL_PERSIST, NULL);
    unsigned char *p = tu_page_alloc(s->ps);
    for (int id = 0; id <= pa; id++) {
        struct tmem_stats st;
        if (tmem_pool_stats(b, id, &st) == 0)
            continue; /* b holds that id itself */
        assert_int_equal(tmem_get(b, id, &oid, 0, p), -EINVAL);
        assert_int_equal(tmem_put(b, id, &oid, 0, p), -EINVAL);
    }
    free(p);
}

/*
 * Rule 8: a shared pool is named by all 16 bytes of its uuid. Uuids that
 * differ in any one byte, the last ones included, name different pools:
 * a page put through one is invisible through the other.
 */
static void test_shared_pool_uuids_differing_in_any_byte_are_different_pools(void **state)
{
    struct tu_store *s = *state;
    struct tmem_client *a = s->c, *b = tu_client_new(s->tm, "b");
    struct tmem_oid oid = tu_oid(21, 22, 23);
    const uint32_t flags[] = {TMEM_POOL_SHARED | TMEM_POOL_PERSIST, TMEM_POOL_SHARED};
    for (size_t k = 0; k < 2; k++) {
        int pa = tu_pool_new(a, flags[k], UUID_A);
        put_random_pages(a, pa, &oid, 0, 1, 900, s->ps);
        for (int byte = 15; byte >= 0; byte--) {
            uint8_t uuid[16];
            memcpy(uuid, UUID_A, sizeof uuid);
            uuid[byte] ^= 0x80;
            int pb = tu_pool_new(b, flags[k], uuid);
            int rc = check_random_page(b, pb, &oid, 0, 900, s->ps);
            if (rc != -ENOENT)
                fail_msg("%s: a uuid differing from the pool's only in byte %d sees its "
                         "page (get returned %d)", kind_name(flags[k]), byte, rc);
            assert_int_equal(pstats(b, pb).pages, 0);
            assert_int_equal(tmem_destroy_pool(b, pb), 0);
        }
        /* and the same uuid is the same pool */
        int same = tu_pool_new(b, flags[k], UUID_A);
        assert_int_equal(check_random_page(b, same, &oid, 0, 900, s->ps), 0);
        assert_int_equal(tmem_destroy_pool(b, same), 0);
        assert_int_equal(tmem_destroy_pool(a, pa), 0);
    }
}

/* ------------------------------------------------------------ arguments */

static void test_bad_arguments_return_einval(void **state)
{
    struct tu_store *s = *state;
    assert_int_equal(s->ps, 4096);
    unsigned char *p = tu_page_alloc(s->ps);
    tu_fill_random(p, s->ps, 1);
    struct tmem_oid oid = tu_oid(1, 1, 1);
    struct tmem_stats st;
    int pool = tu_pool_new(s->c, TMEM_POOL_PERSIST, NULL);

    /* NULL object id */
    assert_int_equal(tmem_put(s->c, pool, NULL, 0, p), -EINVAL);
    assert_int_equal(tmem_get(s->c, pool, NULL, 0, p), -EINVAL);
    assert_int_equal(tmem_flush_page(s->c, pool, NULL, 0), -EINVAL);
    assert_int_equal(tmem_flush_object(s->c, pool, NULL), -EINVAL);

    /* bad pool ids */
    const int bad_ids[] = {-1, -1000, pool + 1, 4242, TMEM_MAX_POOLS_PER_CLIENT, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        int id = bad_ids[i];
        assert_int_equal(tmem_put(s->c, id, &oid, 0, p), -EINVAL);
        assert_int_equal(tmem_get(s->c, id, &oid, 0, p), -EINVAL);
        assert_int_equal(tmem_flush_page(s->c, id, &oid, 0), -EINVAL);
        assert_int_equal(tmem_flush_object(s->c, id, &oid), -EINVAL);
        assert_int_equal(tmem_destroy_pool(s->c, id), -EINVAL);
        assert_int_equal(tmem_pool_stats(s->c, id, &st), -EINVAL);
    }

    /* bad flags: unknown bits */
    assert_int_equal(tmem_new_pool(s->c, 0x8u, NULL), -EINVAL);
    assert_int_equal(tmem_new_pool(s->c, TMEM_POOL_PERSIST | 0x100u, NULL), -EINVAL);
    assert_int_equal(tmem_new_pool(s->c, 0x80000000u, NULL), -EINVAL);
    /* exclusive gets are for persistent pools only */
    assert_int_equal(tmem_new_pool(s->c, TMEM_POOL_EXCLUSIVE_GETS, NULL), -EINVAL);
    /* shared without uuid */
    assert_int_equal(tmem_new_pool(s->c, TMEM_POOL_SHARED, NULL), -EINVAL);
    assert_int_equal(tmem_new_pool(s->c, TMEM_POOL_SHARED | TMEM_POOL_PERSIST, NULL), -EINVAL);
    /* page-size bits: 1 means 8192, the store's is 4096 */
    assert_int_equal(tmem_new_pool(s->c, TMEM_POOL_PERSIST | (1u << TMEM_POOL_PAGESIZE_SHIFT),
                                   NULL),
                     -EINVAL);
    assert_int_equal(tmem_new_pool(s->c, TMEM_POOL_PERSIST | TMEM_POOL_PAGESIZE_MASK, NULL),
                     -EINVAL);
    /* nothing above created a pool */
    assert_int_equal(tmem_client_stats(s->c, &st), 0);
    assert_int_equal(st.pools, 1);
    /* a private pool ignores its uuid */
    int priv = tmem_new_pool(s->c, TMEM_POOL_PERSIST, UUID_A);
    assert_true(priv >= 0);

    /* bad configurations */
    struct tmem_config cfg;
    const uint32_t bad_sizes[] = {0, 256, 1000, 4095, 65536, 3 * 4096};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        tmem_config_init(&cfg);
        cfg.page_size = bad_sizes[i];
        errno = 0;
        struct tmem *t = tmem_create(&cfg);
        if (t)
            fail_msg("tmem_create accepted page_size %u", bad_sizes[i]);
        assert_int_equal(errno, EINVAL);
    }
    tmem_config_init(&cfg);
    cfg.hysteresis = true;
    cfg.accept_threshold_percent = 101;
    errno = 0;
    assert_null(tmem_create(&cfg));
    assert_int_equal(errno, EINVAL);
    /* a compressor outside the enum; a zstd level outside 1..19 */
    tmem_config_init(&cfg);
    cfg.compressor = (enum tmem_compressor)4;
    errno = 0;
    assert_null(tmem_create(&cfg));
    assert_int_equal(errno, EINVAL);
    const int bad_levels[] = {-1, 20, 22};
    for (size_t i = 0; i < sizeof bad_levels / sizeof bad_levels[0]; i++) {
        tmem_config_init(&cfg);
        cfg.compressor = TMEM_COMPRESSOR_ZSTD;
        cfg.compress_level = bad_levels[i];
        errno = 0;
        struct tmem *t = tmem_create(&cfg);
        if (t)
            fail_msg("tmem_create accepted zstd level %d", bad_levels[i]);
        assert_int_equal(errno, EINVAL);
    }

    free(p);
}

static void test_config_defaults(void **state)
{
    (void)state;
    struct tmem_config cfg;
    memset(&cfg, 0xff, sizeof cfg);
    tmem_config_init(&cfg);
    assert_true(cfg.capacity_bytes == TMEM_CAPACITY_UNLIMITED);
    assert_int_equal(cfg.page_size, 4096);
    assert_int_equal(cfg.compressor, TMEM_COMPRESSOR_LZ4);
    assert_int_equal(cfg.compress_level, 0);
    assert_false(cfg.latency_histograms);
    assert_true(cfg.dedup);
    assert_true(cfg.same_filled);
    assert_false(cfg.hysteresis);
    assert_int_equal(cfg.accept_threshold_percent, 90);
    struct tmem *tm = tmem_create(NULL);
    assert_non_null(tm);
    assert_int_equal(tmem_page_size(tm), 4096);
    assert_true(tmem_capacity(tm) == TMEM_CAPACITY_UNLIMITED);
    struct tmem_client *c = tu_client_new(tm, NULL);
    assert_true(tmem_client_store(c) == tm);
    tmem_destroy(tm);
    tmem_destroy(NULL);
    tmem_client_destroy(NULL);
}

static void test_max_pools_per_client(void **state)
{
    struct tu_store *s = *state;
    struct tmem_client *other = tu_client_new(s->tm, "b");
    static int ids[TMEM_MAX_POOLS_PER_CLIENT];
    static bool seen[1 << 16];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < TMEM_MAX_POOLS_PER_CLIENT; i++) {
        uint32_t f = ALL_KINDS[i % NKINDS];
        uint8_t uuid[16] = {0};
        uuid[0] = (uint8_t)i;
        uuid[1] = 0x77;
        ids[i] = tmem_new_pool(s->c, f, uuid);
        if (ids[i] < 0)
            fail_msg("pool %d of %d refused: %d", i, TMEM_MAX_POOLS_PER_CLIENT, ids[i]);
        assert_true(ids[i] < (1 << 16));
        if (seen[ids[i]])
            fail_msg("pool id %d handed out twice", ids[i]);
        seen[ids[i]] = true;
    }
    assert_int_equal(tmem_new_pool(s->c, TMEM_POOL_PERSIST, NULL), -EMFILE);
    assert_int_equal(tmem_new_pool(s->c, 0, NULL), -EMFILE);
    /* another client is not affected */
    assert_true(tmem_new_pool(other, 0, NULL) >= 0);
    /* one destroyed: room for one more */
    assert_int_equal(tmem_destroy_pool(s->c, ids[17]), 0);
    int again = tmem_new_pool(s->c, TMEM_POOL_PERSIST, NULL);
    assert_true(again >= 0);
    assert_int_equal(tmem_new_pool(s->c, TMEM_POOL_PERSIST, NULL), -EMFILE);
    struct tmem_stats st;
    assert_int_equal(tmem_client_stats(s->c, &st), 0);
    assert_int_equal(st.pools, TMEM_MAX_POOLS_PER_CLIENT);
}

/* ------------------------------------------------------------ capacity */

/*
 * Fill a shared ephemeral pool (gets do not destroy, so a get can "touch" a
 * page) with n unique random pages at indices 0..n-1; returns the average
 * data bytes of one page. Evicting a page frees at least that much (its
 * metadata may sit in slabs that are not given back), so a budget cut of
 * k * that amount evicts at most k pages (+1 for rounding).
 */
static uint64_t fill_lru_pool(struct tmem *tm, struct tmem_client *c, int pool,
                              const struct tmem_oid *oid, uint32_t n, uint64_t seed)
{
    size_t ps = tmem_page_size(tm);
    uint64_t d0 = tu_store_stats(tm).data_bytes;
    put_random_pages(c, pool, oid, 0, n, seed, ps);
    uint64_t dn = tu_store_stats(tm).data_bytes;
    assert_true(dn > d0);
    uint64_t per = (dn - d0) / n;
    assert_true(per >= ps); /* random pages are stored raw */
    return per;
}

/* Which of indices 0..n-1 are present; each must be byte-exact. */
static void presence(struct tmem_client *c, int pool, const struct tmem_oid *oid,
                     uint32_t n, uint64_t seed, size_t ps, bool *present)
{
    for (uint32_t i = 0; i < n; i++)
        present[i] = check_random_page(c, pool, oid, i, seed, ps) == 0;
}

/* Evicted pages among 0..n-1, given LRU order 1,2,..,n-1,0, must be exactly
 * the prefix 1..k; returns k. */
static uint32_t assert_lru_prefix(const bool *present, uint32_t n)
{
    uint32_t k = 0;
    while (k + 1 < n && !present[k + 1])
        k++;
    for (uint32_t i = k + 1; i < n; i++)
        if (!present[i])
            fail_msg("index %u evicted while index %u (less recently used: index %u "
                     "was put earlier and not touched) stayed; evicted prefix length %u",
                     i, k + 1, k + 1, k);
    if (!present[0] && k + 1 < n)
        fail_msg("index 0 (touched by a get, so most recently used) was evicted "
                 "before index %u", k + 1);
    return k;
}

static void test_capacity_shrink_evicts_lru_first(void **state)
{
    struct tu_store *s = *state;
    int pool = tu_pool_new(s->c, TMEM_POOL_SHARED, UUID_A);
    struct tmem_oid oid = tu_oid(1, 0, 0);
    enum { N = 64 };
    uint64_t per = fill_lru_pool(s->tm, s->c, pool, &oid, N, 3000);
    /* touch index 0 */
    assert_int_equal(check_random_page(s->c, pool, &oid, 0, 3000, s->ps), 0);
    uint64_t un = tu_usage(s->tm);
    uint64_t cap = un - per * (N / 4); /* at most N/4 pages must go */
    assert_int_equal(tmem_set_capacity(s->tm, cap), 0);
    assert_true(tmem_capacity(s->tm) == cap);
    uint64_t after = tu_usage(s->tm);
    if (after > cap)
        fail_msg("after shrinking to %llu the store uses %llu (data+metadata)",
                 (unsigned long long)cap, (unsigned long long)after);
    uint64_t evicted = pstats(s->c, pool).pages_evicted;
    bool present[N];
    presence(s->c, pool, &oid, N, 3000, s->ps, present);
    uint32_t k = assert_lru_prefix(present, N);
    assert_true(present[0]);
    if (k < N / 8 || k > N / 4 + 1)
        fail_msg("shrinking by %d pages' data evicted %u pages", N / 4, k);
    assert_int_equal(evicted, k);
    assert_int_equal(tu_store_stats(s->tm).capacity_bytes, cap);
}

static void test_full_store_put_evicts_ephemeral_lru_first(void **state)
{
    (void)state;
    static const char *mode_name[] = {"ephemeral put", "persistent put",
                                      "persistent put by another client"};
    for (int mode = 0; mode < 3; mode++) {
        struct tmem *tm = tu_store_new(TMEM_CAPACITY_UNLIMITED);
        size_t ps = tmem_page_size(tm);
        struct tmem_client *c = tu_client_new(tm, "a"), *b = tu_client_new(tm, "b");
        int pool = tu_pool_new(c, TMEM_POOL_SHARED, UUID_A);
        int ppool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
        int bpool = tu_pool_new(b, TMEM_POOL_PERSIST, NULL);
        struct tmem_client *pc = mode == 2 ? b : c;
        int pp = mode == 2 ? bpool : ppool;
        struct tmem_oid oid = tu_oid(1, 0, 0), poid = tu_oid(2, 0, 0);
        enum { N = 32, NEW = 4 };
        fill_lru_pool(tm, c, pool, &oid, N, 7000);
        uint64_t cap = tu_usage(tm);
        assert_int_equal(tmem_set_capacity(tm, cap), 0);
        assert_int_equal(pstats(c, pool).pages_evicted, 0);
        assert_int_equal(check_random_page(c, pool, &oid, 0, 7000, ps), 0); /* touch */
        unsigned char *p = tu_page_alloc(ps);
        for (uint32_t i = 0; i < NEW; i++) {
            tu_fill_random(p, ps, 9000 + i);
            int rc = mode ? tmem_put(pc, pp, &poid, i, p) : tmem_put(c, pool, &oid, N + i, p);
            if (rc != 0)
                fail_msg("%s %u into a full store with ephemeral pages to evict "
                         "failed: %d", mode_name[mode], i, rc);
            uint64_t u = tu_usage(tm);
            if (u > cap)
                fail_msg("after a put the store uses %llu > capacity %llu",
                         (unsigned long long)u, (unsigned long long)cap);
        }
        free(p);
        bool present[N];
        presence(c, pool, &oid, N, 7000, ps, present);
        uint32_t k = assert_lru_prefix(present, N);
        assert_true(present[0]);
        if (k < 1 || k > N / 2)
            fail_msg("%s: putting %d pages into a full store evicted %u", mode_name[mode],
                     NEW, k);
        /* the new pages are there and exact */
        unsigned char *w = tu_page_alloc(ps), *g = tu_page_alloc(ps);
        for (uint32_t i = 0; i < NEW; i++) {
            tu_fill_random(w, ps, 9000 + i);
            int rc = mode ? tmem_get(pc, pp, &poid, i, g) : tmem_get(c, pool, &oid, N + i, g);
            assert_int_equal(rc, 0);
            TU_ASSERT_PAGE_EQ(g, w, ps, "newly put page");
        }
        free(w);
        free(g);
        tu_store_close(tm);
    }
}

static void test_lru_order_is_store_wide_across_clients(void **state)
{
    struct tu_store *s = *state;
    struct tmem_client *a = s->c, *b = tu_client_new(s->tm, "b");
    int pa = tu_pool_new(a, 0, NULL);
    int pb = tu_pool_new(b, 0, NULL);
    struct tmem_oid oid = tu_oid(1, 0, 0);
    enum { N = 32 }; /* per client, put alternately: a0 b0 a1 b1 ... */
    unsigned char *p = tu_page_alloc(s->ps);
    uint64_t d0 = tu_store_stats(s->tm).data_bytes;
    for (uint32_t i = 0; i < N; i++) {
        tu_fill_random(p, s->ps, 100 + i);
        assert_int_equal(tmem_put(a, pa, &oid, i, p), 0);
        tu_fill_random(p, s->ps, 200 + i);
        assert_int_equal(tmem_put(b, pb, &oid, i, p), 0);
    }
    free(p);
    uint64_t un = tu_usage(s->tm);
    uint64_t per = (tu_store_stats(s->tm).data_bytes - d0) / (2 * N); /* see fill_lru_pool */
    uint64_t cap = un - per * N; /* at most half must go */
    assert_int_equal(tmem_set_capacity(s->tm, cap), 0);
    assert_true(tu_usage(s->tm) <= cap);
    /* the global order is a0 b0 a1 b1 ...: the evicted set is a prefix of it */
    bool seq[2 * N];
    for (uint32_t i = 0; i < N; i++) {
        seq[2 * i] = check_random_page(a, pa, &oid, i, 100, s->ps) == 0;
        seq[2 * i + 1] = check_random_page(b, pb, &oid, i, 200, s->ps) == 0;
    }
    uint32_t k = 0;
    while (k < 2 * N && !seq[k])
        k++;
    for (uint32_t i = k; i < 2 * N; i++)
        if (!seq[i])
            fail_msg("put #%u (client %c index %u) evicted while older put #%u stayed", i,
                     (i & 1) ? 'b' : 'a', i / 2, k);
    if (k < N / 2 || k > N + 1)
        fail_msg("shrinking by %d pages' data evicted %u pages", N, k);
}

static void test_persistent_put_rejected_when_nothing_to_evict(void **state)
{
    struct tu_store *s = *state;
    int pool = tu_pool_new(s->c, TMEM_POOL_PERSIST, NULL);
    int epool = tu_pool_new(s->c, 0, NULL); /* exists, but empty */
    (void)epool;
    struct tmem_oid oid = tu_oid(1, 0, 0);
    put_random_pages(s->c, pool, &oid, 0, 8, 100, s->ps);
    assert_int_equal(tmem_set_capacity(s->tm, tu_usage(s->tm)), 0);
    unsigned char *p = tu_page_alloc(s->ps);
    tu_fill_random(p, s->ps, 12345);
    struct tmem_stats before = tu_store_stats(s->tm);
    assert_int_equal(tmem_put(s->c, pool, &oid, 100, p), -ENOSPC);
    struct tmem_oid oid2 = tu_oid(2, 0, 0);
    assert_int_equal(tmem_put(s->c, epool, &oid2, 0, p), -ENOSPC);
    struct tmem_stats after = tu_store_stats(s->tm);
    assert_int_equal(after.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM],
                     before.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM] + 2);
    assert_int_equal(after.failed_puts, before.failed_puts + 2);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(check_random_page(s->c, pool, &oid, i, 100, s->ps), 0);
    assert_int_equal(check_random_page(s->c, pool, &oid, 100, 0, s->ps), -ENOENT);
    /* the same at capacity 0 */
    assert_int_equal(tmem_set_capacity(s->tm, 0), 0);
    assert_int_equal(tmem_put(s->c, pool, &oid, 101, p), -ENOSPC);
    free(p);
}

static void test_persistent_pages_survive_capacity_drop_to_zero(void **state)
{
    struct tu_store *s = *state;
    uint32_t pf[] = {TMEM_POOL_PERSIST, TMEM_POOL_PERSIST | TMEM_POOL_SHARED};
    int pools[2];
    unsigned char *p = tu_page_alloc(s->ps), *g = tu_page_alloc(s->ps);
    struct tmem_oid oid = tu_oid(3, 3, 3);
    for (int k = 0; k < 2; k++) {
        pools[k] = pool_of_kind(s->c, pf[k]);
        for (int pk = 0; pk < PK_COUNT; pk++) {
            fill_kind(p, s->ps, pk, 50 + pk);
            assert_int_equal(tmem_put(s->c, pools[k], &oid, (uint32_t)pk, p), 0);
        }
    }
    int epool = tu_pool_new(s->c, 0, NULL);
    put_random_pages(s->c, epool, &oid, 0, 8, 1, s->ps);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(tmem_set_capacity(s->tm, 0), 0);
        assert_true(tmem_reclaim(s->tm) >= 0);
        for (int k = 0; k < 2; k++) {
            for (int pk = 0; pk < PK_COUNT; pk++) {
                fill_kind(p, s->ps, pk, 50 + pk);
                int rc = tmem_get(s->c, pools[k], &oid, (uint32_t)pk, g);
                if (rc != 0)
                    fail_msg("%s page kind %d lost at capacity 0: %d",
                             kind_name(pf[k]), pk, rc);
                TU_ASSERT_PAGE_EQ(g, p, s->ps, "persistent page at capacity 0");
            }
            assert_int_equal(pstats(s->c, pools[k]).pages_evicted, 0);
        }
        /* every ephemeral page went */
        assert_int_equal(pstats(s->c, epool).pages, 0);
        assert_int_equal(tmem_set_capacity(s->tm, TMEM_CAPACITY_UNLIMITED), 0);
    }
    free(p);
    free(g);
}

static void test_persistent_pages_never_evicted_by_core(void **state)
{
    struct tu_store *s = *state;
    int pp = tu_pool_new(s->c, TMEM_POOL_PERSIST, NULL);
    int ep = tu_pool_new(s->c, 0, NULL);
    int sp = tu_pool_new(s->c, TMEM_POOL_SHARED, UUID_A);
    struct tmem_oid oid = tu_oid(1, 2, 3);
    enum { NP = 16 };
    put_random_pages(s->c, pp, &oid, 0, NP, 100, s->ps);
    uint64_t u = tu_usage(s->tm);
    /* room for about 4 more pages */
    assert_int_equal(tmem_set_capacity(s->tm, u + 4 * (s->ps + s->ps / 8)), 0);
    unsigned char *p = tu_page_alloc(s->ps);
    int ok = 0, refused = 0;
    for (uint32_t i = 0; i < 64; i++) {
        tu_fill_random(p, s->ps, 50000 + i);
        int rc = tmem_put(s->c, (i & 1) ? ep : sp, &oid, i, p);
        if (rc == 0)
            ok++;
        else if (rc == -ENOSPC)
            refused++;
        else
            fail_msg("ephemeral put returned %d", rc);
        if (tu_usage(s->tm) > tmem_capacity(s->tm))
            fail_msg("store over budget after an ephemeral put");
    }
    /* a full store evicts older ephemeral pages for every ephemeral put */
    if (refused != 0)
        fail_msg("%d of 64 ephemeral puts refused although ephemeral pages "
                 "could be evicted", refused);
    assert_int_equal(ok, 64);
    /* persistent puts until refused, then drops of the budget */
    uint32_t extra = 0;
    while (extra < 64) {
        tu_fill_random(p, s->ps, 100 + NP + extra);
        int rc = tmem_put(s->c, pp, &oid, NP + extra, p);
        if (rc == -ENOSPC)
            break;
        assert_int_equal(rc, 0);
        extra++;
    }
    assert_true(extra < 64);
    /* the refused put was not stored */
    assert_int_equal(check_random_page(s->c, pp, &oid, NP + extra, 100, s->ps), -ENOENT);
    assert_int_equal(tmem_set_capacity(s->tm, 1), 0);
    assert_true(tmem_reclaim(s->tm) >= 0);
    for (uint32_t i = 0; i < NP + extra; i++)
        assert_int_equal(check_random_page(s->c, pp, &oid, i, 100, s->ps), 0);
    struct tmem_stats st = pstats(s->c, pp);
    assert_int_equal(st.pages_evicted, 0);
    assert_int_equal(st.pages, NP + extra);
    assert_int_equal(pstats(s->c, ep).pages + pstats(s->c, sp).pages, 0);
    free(p);
}

/* ------------------------------------------------------------ freeze */

static void test_freeze_fails_puts_removes_old_copy_keeps_gets(void **state)
{
    struct tu_store *s = *state;
    struct tmem_client *other = tu_client_new(s->tm, "b");
    int pp = tu_pool_new(s->c, TMEM_POOL_PERSIST, NULL);
    int sp = tu_pool_new(s->c, TMEM_POOL_SHARED, UUID_A);
    int op = tu_pool_new(other, TMEM_POOL_PERSIST, NULL);
    struct tmem_oid oid = tu_oid(1, 1, 1);
    put_random_pages(s->c, pp, &oid, 0, 4, 10, s->ps);
    put_random_pages(s->c, sp, &oid, 0, 2, 20, s->ps);
    tmem_client_set_frozen(s->c, true);
    struct tmem_stats before = tu_store_stats(s->tm);
    unsigned char *p = tu_page_alloc(s->ps);
    tu_fill_random(p, s->ps, 999);
    assert_int_equal(tmem_put(s->c, pp, &oid, 0, p), -ENOSPC);  /* old copy removed */
    assert_int_equal(tmem_put(s->c, pp, &oid, 50, p), -ENOSPC); /* new handle */
    memset(p, 0, s->ps);
    assert_int_equal(tmem_put(s->c, sp, &oid, 0, p), -ENOSPC); /* same-filled too */
    assert_int_equal(check_random_page(s->c, pp, &oid, 0, 10, s->ps), -ENOENT);
    assert_int_equal(check_random_page(s->c, pp, &oid, 50, 10, s->ps), -ENOENT);
    assert_int_equal(check_random_page(s->c, sp, &oid, 0, 20, s->ps), -ENOENT);
    /* gets and flushes keep working */
    assert_int_equal(check_random_page(s->c, pp, &oid, 1, 10, s->ps), 0);
    assert_int_equal(check_random_page(s->c, sp, &oid, 1, 20, s->ps), 0);
    assert_int_equal(tmem_flush_page(s->c, pp, &oid, 2), 0);
    assert_int_equal(check_random_page(s->c, pp, &oid, 2, 10, s->ps), -ENOENT);
    /* another client is not frozen */
    put_random_pages(other, op, &oid, 0, 1, 30, s->ps);
    struct tmem_stats after = tu_store_stats(s->tm);
    assert_int_equal(after.failed_puts_reason[TMEM_PUT_FAIL_FROZEN],
                     before.failed_puts_reason[TMEM_PUT_FAIL_FROZEN] + 3);
    assert_int_equal(after.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM],
                     before.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM]);
    assert_int_equal(after.dup_puts_flushed, before.dup_puts_flushed + 2);
    assert_int_equal(after.succ_puts, before.succ_puts + 1);
    /* thaw */
    tmem_client_set_frozen(s->c, false);
    put_random_pages(s->c, pp, &oid, 0, 1, 10, s->ps);
    assert_int_equal(check_random_page(s->c, pp, &oid, 0, 10, s->ps), 0);
    free(p);
}

/* ------------------------------------------------------------ hysteresis */

static void test_hysteresis_refuses_until_below_threshold(void **state)
{
    (void)state;
    struct tmem_config cfg;
    tmem_config_init(&cfg);
    cfg.hysteresis = true;
    cfg.accept_threshold_percent = 50;
    struct tmem *tm = tmem_create(&cfg);
    assert_non_null(tm);
    struct tmem_client *c = tu_client_new(tm, "a");
    size_t ps = tmem_page_size(tm);
    int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    struct tmem_oid oid = tu_oid(1, 0, 0);
    enum { N = 200 }; /* pages: their bytes dwarf the pool's and slab's fixed ones */
    uint64_t u0 = tu_usage(tm);
    put_random_pages(c, pool, &oid, 0, N, 0, ps);
    uint64_t cap = tu_usage(tm);
    uint64_t per = (cap - u0) / N;
    assert_int_equal(tmem_set_capacity(tm, cap), 0);
    unsigned char *p = tu_page_alloc(ps);
    tu_fill_random(p, ps, N + 100);
    assert_int_equal(tmem_put(c, pool, &oid, N + 100, p), -ENOSPC);
    struct tmem_stats st = tu_store_stats(tm);
    assert_int_equal(st.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM], 1);
    assert_int_equal(st.failed_puts_reason[TMEM_PUT_FAIL_HYSTERESIS], 0);
    /* free a quarter: there is room again, but usage is above 50% */
    for (uint32_t i = 0; i < N / 4; i++)
        assert_int_equal(tmem_flush_page(c, pool, &oid, i), 0);
    uint64_t u = tu_usage(tm);
    assert_true(u + 2 * per <= cap);
    assert_true(u * 100 >= cap * 50);
    tu_fill_random(p, ps, N + 101);
    assert_int_equal(tmem_put(c, pool, &oid, N + 101, p), -ENOSPC);
    tu_fill_random(p, ps, N + 102);
    assert_int_equal(tmem_put(c, pool, &oid, N + 102, p), -ENOSPC);
    st = tu_store_stats(tm);
    assert_int_equal(st.failed_puts_reason[TMEM_PUT_FAIL_HYSTERESIS], 2);
    assert_int_equal(st.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM], 1);
    /* flush until clearly below 50%, then puts are accepted */
    uint32_t i = N / 4;
    while (tu_usage(tm) * 100 >= cap * 50) {
        assert_true(i < N);
        assert_int_equal(tmem_flush_page(c, pool, &oid, i++), 0);
    }
    assert_int_equal(tmem_flush_page(c, pool, &oid, i++), 0); /* one page of margin */
    tu_fill_random(p, ps, N + 103);
    assert_int_equal(tmem_put(c, pool, &oid, N + 103, p), 0);
    /* and keep being accepted above the threshold, up to the budget */
    uint32_t more = 0;
    int rc;
    for (;;) {
        tu_fill_random(p, ps, N + 200 + more);
        rc = tmem_put(c, pool, &oid, N + 200 + more, p);
        if (rc != 0)
            break;
        more++;
        assert_true(more < 2 * N);
    }
    assert_int_equal(rc, -ENOSPC);
    uint64_t at_refusal = tu_usage(tm);
    if (at_refusal * 100 < cap * 90)
        fail_msg("after the recovery puts were refused at %llu of %llu bytes",
                 (unsigned long long)at_refusal, (unsigned long long)cap);
    st = tu_store_stats(tm);
    assert_int_equal(st.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM], 2);
    assert_int_equal(st.failed_puts_reason[TMEM_PUT_FAIL_HYSTERESIS], 2);
    free(p);
    tu_store_close(tm);
}

static void test_no_hysteresis_accepts_as_soon_as_room(void **state)
{
    struct tu_store *s = *state;
    int pool = tu_pool_new(s->c, TMEM_POOL_PERSIST, NULL);
    struct tmem_oid oid = tu_oid(1, 0, 0);
    put_random_pages(s->c, pool, &oid, 0, 20, 0, s->ps);
    assert_int_equal(tmem_set_capacity(s->tm, tu_usage(s->tm)), 0);
    unsigned char *p = tu_page_alloc(s->ps);
    tu_fill_random(p, s->ps, 555);
    assert_int_equal(tmem_put(s->c, pool, &oid, 100, p), -ENOSPC);
    assert_int_equal(tmem_flush_page(s->c, pool, &oid, 0), 0);
    assert_int_equal(tmem_flush_page(s->c, pool, &oid, 1), 0);
    assert_int_equal(tmem_put(s->c, pool, &oid, 101, p), 0);
    assert_int_equal(tu_store_stats(s->tm).failed_puts_reason[TMEM_PUT_FAIL_HYSTERESIS], 0);
    free(p);
}

/* ------------------------------------------------------------ pressure */

enum { PR_N = 48 };
struct pressure_ctx {
    struct tmem *tm;
    struct tmem_client *c;
    int pool, epool;
    size_t ps;
    struct tmem_oid oid;
    bool in_tmem[PR_N];
    unsigned char *swap[PR_N]; /* the "swap device" */
    long calls, flushed, bad_args;
    uint64_t ephemeral_pages_at_first_call;
};

static long pressure_cb(void *arg, struct tmem_client *c, int pool_id, uint64_t bytes_wanted)
{
    struct pressure_ctx *x = arg;
    if (c != x->c || pool_id != x->pool || bytes_wanted == 0)
        x->bad_args++;
    if (x->calls++ == 0) {
        struct tmem_stats st;
        if (tmem_pool_stats(x->c, x->epool, &st) == 0)
            x->ephemeral_pages_at_first_call = st.pages;
    }
    uint64_t freed = 0;
    long n = 0;
    for (int i = 0; i < PR_N && freed < bytes_wanted; i++) {
        if (!x->in_tmem[i])
            continue;
        if (tmem_get(c, pool_id, &x->oid, (uint32_t)i, x->swap[i]) != 0)
            return -EIO;
        if (tmem_flush_page(c, pool_id, &x->oid, (uint32_t)i) != 0)
            return -EIO;
        x->in_tmem[i] = false;
        freed += x->ps;
        n++;
    }
    x->flushed += n;
    return n;
}

/* Fixture: a store whose client "frontswap" holds PR_N random pages in a
 * persistent pool and 4 in an ephemeral one, and a "swap device". */
static int pressure_setup(void **state)
{
    struct pressure_ctx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    x->tm = tu_store_new(TMEM_CAPACITY_UNLIMITED);
    x->c = tu_client_new(x->tm, "frontswap");
    x->ps = tmem_page_size(x->tm);
    x->pool = tu_pool_new(x->c, TMEM_POOL_PERSIST, NULL);
    x->epool = tu_pool_new(x->c, 0, NULL);
    x->oid = tu_oid(42, 0, 0);
    put_random_pages(x->c, x->pool, &x->oid, 0, PR_N, 10000, x->ps);
    put_random_pages(x->c, x->epool, &x->oid, 0, 4, 20000, x->ps);
    for (int i = 0; i < PR_N; i++) {
        x->in_tmem[i] = true;
        x->swap[i] = tu_page_alloc(x->ps);
    }
    *state = x;
    return 0;
}

static void pressure_check_all_pages(struct pressure_ctx *x)
{
    unsigned char *w = tu_page_alloc(x->ps);
    for (int i = 0; i < PR_N; i++) {
        if (x->in_tmem[i]) {
            assert_int_equal(check_random_page(x->c, x->pool, &x->oid, (uint32_t)i, 10000,
                                               x->ps), 0);
        } else {
            tu_fill_random(w, x->ps, 10000 + (uint64_t)i);
            TU_ASSERT_PAGE_EQ(x->swap[i], w, x->ps, "page moved to swap by the callback");
            assert_int_equal(check_random_page(x->c, x->pool, &x->oid, (uint32_t)i, 10000,
                                               x->ps), -ENOENT);
        }
    }
    free(w);
}

static int pressure_teardown(void **state)
{
    struct pressure_ctx *x = *state;
    for (int i = 0; i < PR_N; i++)
        free(x->swap[i]);
    tu_store_close(x->tm);
    free(x);
    return 0;
}

static void test_pressure_callback_asked_for_persistent_pages(void **state)
{
    struct pressure_ctx *x = *state;
    assert_int_equal(tmem_client_set_pressure_callback(x->c, pressure_cb, x), 0);
    uint64_t cap = tu_usage(x->tm) / 2;
    assert_int_equal(tmem_set_capacity(x->tm, cap), 0);
    assert_true(x->calls >= 1);
    assert_int_equal(x->bad_args, 0);
    assert_int_equal(x->ephemeral_pages_at_first_call, 0); /* ephemeral went first */
    uint64_t u = tu_usage(x->tm);
    if (u > cap)
        fail_msg("after set_capacity(%llu) with a cooperative callback usage is %llu",
                 (unsigned long long)cap, (unsigned long long)u);
    assert_true(x->flushed > 0 && x->flushed < PR_N);
    struct tmem_stats st = tu_store_stats(x->tm);
    assert_int_equal(st.pressure_calls, x->calls);
    assert_int_equal(st.pressure_pages, x->flushed);
    pressure_check_all_pages(x);
    /* new puts fit again once there is room */
}

static void test_reclaim_calls_pressure_callback(void **state)
{
    struct pressure_ctx *x = *state;
    /* no callback: the store stays over budget, persistent pages stay */
    uint64_t cap = tu_usage(x->tm) / 2;
    assert_int_equal(tmem_set_capacity(x->tm, cap), 0);
    assert_true(tu_usage(x->tm) > cap);
    pressure_check_all_pages(x);
    unsigned char *p = tu_page_alloc(x->ps);
    tu_fill_random(p, x->ps, 1);
    assert_int_equal(tmem_put(x->c, x->pool, &x->oid, 1000, p), -ENOSPC);
    /* register, then tmem_reclaim honours the budget */
    assert_int_equal(tmem_client_set_pressure_callback(x->c, pressure_cb, x), 0);
    long removed = tmem_reclaim(x->tm);
    assert_true(x->calls >= 1);
    assert_int_equal(removed, x->flushed);
    assert_true(tu_usage(x->tm) <= cap);
    pressure_check_all_pages(x);
    /* unregister: no more calls */
    assert_int_equal(tmem_client_set_pressure_callback(x->c, NULL, NULL), 0);
    long calls = x->calls;
    assert_int_equal(tmem_set_capacity(x->tm, 0), 0);
    assert_int_equal(x->calls, calls);
    pressure_check_all_pages(x);
    free(p);
}

static long pressure_refuse_cb(void *arg, struct tmem_client *c, int pool_id,
                               uint64_t bytes_wanted)
{
    long *calls = arg;
    (void)c;
    (void)pool_id;
    (void)bytes_wanted;
    (*calls)++;
    return (*calls % 2) ? 0 : -EIO;
}

static void test_pressure_callback_that_gives_nothing_does_not_hang(void **state)
{
    struct pressure_ctx *x = *state;
    long calls = 0;
    assert_int_equal(tmem_client_set_pressure_callback(x->c, pressure_refuse_cb, &calls), 0);
    uint64_t cap = tu_usage(x->tm) / 2;
    assert_int_equal(tmem_set_capacity(x->tm, cap), 0); /* returns */
    assert_true(calls >= 1);
    assert_true(calls < 1000);
    assert_true(tmem_reclaim(x->tm) >= 0);
    /* over budget, nothing lost, new puts refused */
    assert_true(tu_usage(x->tm) > cap);
    pressure_check_all_pages(x);
    unsigned char *p = tu_page_alloc(x->ps);
    tu_fill_random(p, x->ps, 3);
    assert_int_equal(tmem_put(x->c, x->pool, &x->oid, 999, p), -ENOSPC);
    free(p);
}

/* ------------------------------------------------------------ budget */

static void test_budget_counts_data_and_metadata(void **state)
{
    (void)state;
    /* 512-byte pages: one page's metadata is a visible part of its cost */
    struct tmem_config cfg;
    tmem_config_init(&cfg);
    cfg.page_size = 512;
    struct tmem *tm = tmem_create(&cfg);
    assert_non_null(tm);
    struct tmem_client *c = tu_client_new(tm, "a");
    size_t ps = tmem_page_size(tm);
    assert_int_equal(ps, 512);
    int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    struct tmem_stats s0 = tu_store_stats(tm);
    assert_int_equal(s0.pages, 0);
    assert_int_equal(s0.data_bytes, 0);
    assert_true(s0.capacity_bytes == TMEM_CAPACITY_UNLIMITED);

    /* 32 random pages, one object each */
    unsigned char *p = tu_page_alloc(ps);
    for (uint32_t i = 0; i < 32; i++) {
        struct tmem_oid oid = tu_oid(1000 + i, 0, 0);
        tu_fill_random(p, ps, i);
        assert_int_equal(tmem_put(c, pool, &oid, 0, p), 0);
    }
    struct tmem_stats s1 = tu_store_stats(tm);
    assert_int_equal(s1.pages_raw, 32);
    assert_true(s1.data_bytes >= 32 * ps);
    assert_true(s1.data_bytes <= 2 * 32 * ps);
    assert_true(s1.metadata_bytes > s0.metadata_bytes);
    /* With jemalloc, the store's arenas' own count equals the bytes the
     * budget counts, exactly (regions cached for reuse are flushed first). */
    if (s1.allocator_bytes != 0)
        assert_int_equal(s1.allocator_bytes, s1.data_bytes + s1.metadata_bytes);

    /* budget = current usage + exactly 20 pages of data + 16 bytes */
    uint64_t cap = tu_usage(tm) + 20 * ps + 16;
    assert_int_equal(tmem_set_capacity(tm, cap), 0);
    assert_true(tu_store_stats(tm).capacity_bytes == cap);
    uint32_t n = 0;
    for (;;) {
        struct tmem_oid oid = tu_oid(5000 + n, 0, 0);
        struct tmem_stats before = tu_store_stats(tm);
        tu_fill_random(p, ps, 100000 + n);
        int rc = tmem_put(c, pool, &oid, 0, p);
        if (rc == -ENOSPC)
            break;
        assert_int_equal(rc, 0);
        n++;
        /* An accepted put reserved its data first: usage with the new data
         * fits. Only the index nodes it then allocates (not reserved in
         * advance: docs/core.md) may take usage past the capacity, by a
         * few hundred bytes; which puts do depends on how the objects fall
         * into stripes. */
        struct tmem_stats after = tu_store_stats(tm);
        uint64_t with_data = before.data_bytes + before.metadata_bytes +
                             (after.data_bytes - before.data_bytes);
        uint64_t u = after.data_bytes + after.metadata_bytes;
        if (with_data > cap || u > cap + 2 * ps)
            fail_msg("put %u accepted with data+metadata %llu (%llu before its index "
                     "nodes) > capacity %llu", n, (unsigned long long)u,
                     (unsigned long long)with_data, (unsigned long long)cap);
        assert_true(n <= 20);
    }
    /* metadata counts, so not all 20 pages' data fit; but most did */
    if (n >= 20)
        fail_msg("%u pages accepted: metadata is not charged to the budget", n);
    if (n < 10)
        fail_msg("only %u pages accepted in a budget with room for 20 pages' data", n);
    struct tmem_stats s2 = tu_store_stats(tm);
    assert_true(s2.metadata_bytes > s1.metadata_bytes);
    free(p);
    tu_store_close(tm);
}

/* A test on the fixture of tests/support, or on the pressure fixture. */
#define STORE_TEST(t) cmocka_unit_test_setup_teardown(t, tu_store_setup, tu_store_teardown)
#define PRESSURE_TEST(t) cmocka_unit_test_setup_teardown(t, pressure_setup, pressure_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        STORE_TEST(test_put_copies_the_caller_buffer),
        STORE_TEST(test_persistent_get_is_nondestructive),
        STORE_TEST(test_exclusive_gets_pool_flushes_on_get),
        STORE_TEST(test_private_ephemeral_get_is_destructive),
        STORE_TEST(test_shared_ephemeral_get_is_nondestructive),
        STORE_TEST(test_put_put_get_never_returns_first_copy),
        STORE_TEST(test_put_put_get_when_second_put_fails),
        cmocka_unit_test(test_put_put_get_when_second_put_refused_by_hysteresis),
        STORE_TEST(test_get_get_coherency),
        STORE_TEST(test_flush_page_makes_get_miss),
        STORE_TEST(test_flush_object_makes_all_its_pages_miss),
        STORE_TEST(test_object_ids_use_all_192_bits),
        STORE_TEST(test_destroy_pool_invalidates_id),
        STORE_TEST(test_shared_pool_same_uuid_sees_same_pages),
        STORE_TEST(test_other_uuid_and_private_pools_invisible),
        STORE_TEST(test_shared_pool_uuids_differing_in_any_byte_are_different_pools),
        STORE_TEST(test_bad_arguments_return_einval),
        STORE_TEST(test_max_pools_per_client),
        STORE_TEST(test_capacity_shrink_evicts_lru_first),
        cmocka_unit_test(test_full_store_put_evicts_ephemeral_lru_first),
        STORE_TEST(test_lru_order_is_store_wide_across_clients),
        STORE_TEST(test_persistent_put_rejected_when_nothing_to_evict),
        STORE_TEST(test_persistent_pages_survive_capacity_drop_to_zero),
        STORE_TEST(test_persistent_pages_never_evicted_by_core),
        STORE_TEST(test_freeze_fails_puts_removes_old_copy_keeps_gets),
        cmocka_unit_test(test_hysteresis_refuses_until_below_threshold),
        STORE_TEST(test_no_hysteresis_accepts_as_soon_as_room),
        PRESSURE_TEST(test_pressure_callback_asked_for_persistent_pages),
        PRESSURE_TEST(test_reclaim_calls_pressure_callback),
        PRESSURE_TEST(test_pressure_callback_that_gives_nothing_does_not_hang),
        cmocka_unit_test(test_budget_counts_data_and_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
