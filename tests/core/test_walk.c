/*
 * test_walk.c - reading out a client's pools (tmem_client_pools,
 * tmem_pool_walk; docs/core.md "Reading out a client's pools"):
 *  - the pool list: ids, flags, uuid, page size, pages; max smaller than
 *    the count; destroyed pools gone;
 *  - a walk passes every page exactly once, in (oid, index) order, with
 *    its exact bytes, whatever it is stored as (raw, compressed by each
 *    compressor, same-filled, deduplicated), at every page size;
 *  - fn's non-zero return stops the walk and is returned; bad arguments;
 *  - the walk is not a get: no statistics, nothing taken from an
 *    exclusive-gets pool, the ephemeral LRU order unchanged;
 *  - fn may call into the store, even flush the pool being walked;
 *  - concurrent puts and flushes: every page present for the whole walk
 *    is seen once with its bytes; churned pages at most once, never torn
 *    (run under TSan too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tmem.h"
#include "../support/testutil.h"

static const uint8_t UUID_A[16] = {0xa1, 0xa2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* Key of handle (obj, idx) for the versioned page contents. */
static uint64_t key_of(uint64_t obj, uint32_t idx)
{
    return obj * 100003u + idx;
}

/* What a walk saw. */
struct seen {
    size_t ps;
    size_t calls;
    struct tmem_oid last_oid;
    uint32_t last_index;
    bool ordered;
    unsigned char *count;     /* per (obj, idx) slot: times seen */
    uint64_t objs, idxs;      /* the slot grid */
    uint64_t *version;        /* expected version per slot; UINT64_MAX: absent */
    int stop_after;           /* return 7 after this many calls (0: never) */
    long mismatches;
};

static bool oid_handle_less(const struct tmem_oid *a, uint32_t ai, const struct tmem_oid *b,
                            uint32_t bi)
{
    for (int i = 0; i < 3; i++)
        if (a->oid[i] != b->oid[i])
            return a->oid[i] < b->oid[i];
    return ai < bi;
}

static int record_page(void *arg, const struct tmem_oid *oid, uint32_t index, const void *page,
                       size_t page_size)
{
    struct seen *s = arg;
    unsigned char *want = malloc(page_size);
    uint64_t slot;

    assert_int_equal(page_size, s->ps);
    if (s->calls && !oid_handle_less(&s->last_oid, s->last_index, oid, index))
        s->ordered = false;
    s->last_oid = *oid;
    s->last_index = index;
    s->calls++;
    assert_true(oid->oid[0] < s->objs && index < s->idxs && oid->oid[1] == 7 && oid->oid[2] == 9);
    slot = oid->oid[0] * s->idxs + index;
    s->count[slot]++;
    assert_true(s->version[slot] != UINT64_MAX);
    tu_fill_versioned(want, page_size, key_of(oid->oid[0], index), s->version[slot]);
    if (memcmp(want, page, page_size) != 0)
        s->mismatches++;
    free(want);
    return s->stop_after && (int)s->calls == s->stop_after ? 7 : 0;
}

static void seen_init(struct seen *s, size_t ps, uint64_t objs, uint64_t idxs)
{
    memset(s, 0, sizeof(*s));
    s->ps = ps;
    s->objs = objs;
    s->idxs = idxs;
    s->ordered = true;
    s->count = calloc(objs * idxs, 1);
    s->version = malloc(objs * idxs * sizeof(uint64_t));
    for (uint64_t i = 0; i < objs * idxs; i++)
        s->version[i] = UINT64_MAX;
}

static void seen_fini(struct seen *s)
{
    free(s->count);
    free(s->version);
}

/* Fill pool with pages of every kind at scattered handles (objects in
 * descending order, so the store's order is not the sorted one). */
static uint64_t fill_pool(struct tmem_client *c, int pool, struct seen *s, uint64_t seed)
{
    unsigned char *page = tu_page_alloc(s->ps);
    uint64_t rng = seed, n = 0;

    for (uint64_t o = s->objs; o-- > 0;) {
        for (uint32_t i = 0; i < s->idxs; i++) {
            if (tu_rng_below(&rng, 3) == 0)
                continue;
            uint64_t v = tu_rng_below(&rng, 50);
            struct tmem_oid oid = tu_oid(o, 7, 9);
            tu_fill_versioned(page, s->ps, key_of(o, i), v);
            assert_int_equal(tmem_put(c, pool, &oid, i, page), 0);
            s->version[o * s->idxs + i] = v;
            n++;
        }
    }
    free(page);
    return n;
}

/* Rule: a walk passes every page once, ordered, with its exact bytes,
 * for every compressor, page size, and with dedup and same-filling. */
static void test_walk_every_page_every_kind(void **state)
{
    static const enum tmem_compressor comp[] = {TMEM_COMPRESSOR_NONE, TMEM_COMPRESSOR_LZ4,
                                                TMEM_COMPRESSOR_ZSTD, TMEM_COMPRESSOR_LZO};
    static const uint32_t sizes[] = {512, 4096, 16384};
    (void)state;

    for (size_t ci = 0; ci < sizeof comp / sizeof comp[0]; ci++) {
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            struct tmem_config cfg;
            struct seen s;
            struct tmem_stats ps;
            tmem_config_init(&cfg);
            cfg.compressor = comp[ci];
            cfg.page_size = sizes[si];
            struct tmem *tm = tmem_create(&cfg);
            assert_non_null(tm);
            struct tmem_client *c = tu_client_new(tm, "w");
            int pool = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
            seen_init(&s, sizes[si], 9, 150);
            uint64_t n = fill_pool(c, pool, &s, 11 + ci * 7 + si);
            assert_int_equal(tmem_pool_stats(c, pool, &ps), 0);
            /* every kind is there to be read back */
            if (comp[ci] != TMEM_COMPRESSOR_NONE)
                assert_true(ps.pages_compressed > 0);
            assert_true(ps.pages_raw > 0 && ps.pages_same_filled > 0 &&
                        ps.pages_deduplicated > 0);
            assert_int_equal(tmem_pool_walk(c, pool, record_page, &s), 0);
            assert_int_equal(s.calls, n);
            assert_int_equal(s.mismatches, 0);
            assert_true(s.ordered);
            for (uint64_t i = 0; i < s.objs * s.idxs; i++)
                assert_int_equal(s.count[i], s.version[i] == UINT64_MAX ? 0 : 1);
            seen_fini(&s);
            tu_store_close(tm);
        }
    }
}

/* Rule: the walk visits every lock stripe: 2000 objects of one page
 * each (their oids hash over all 64 stripes) are all passed, once. */
static void test_walk_every_stripe(void **state)
{
    struct tu_store *f = *state;
    int pool = tu_pool_new(f->c, TMEM_POOL_PERSIST, NULL);
    unsigned char *page = tu_page_alloc(f->ps);
    struct seen s;

    seen_init(&s, f->ps, 2000, 1);
    for (uint64_t o = 0; o < 2000; o++) {
        struct tmem_oid oid = tu_oid(o, 7, 9);
        tu_fill_versioned(page, f->ps, key_of(o, 0), o);
        assert_int_equal(tmem_put(f->c, pool, &oid, 0, page), 0);
        s.version[o] = o;
    }
    assert_int_equal(tmem_pool_walk(f->c, pool, record_page, &s), 0);
    assert_int_equal(s.calls, 2000);
    assert_int_equal(s.mismatches, 0);
    assert_true(s.ordered);
    seen_fini(&s);
    free(page);
}

/* Rule: fn's non-zero return stops the walk and is its result; bad
 * arguments are -EINVAL; an empty pool calls nothing. */
static void test_walk_stop_and_arguments(void **state)
{
    struct tu_store *f = *state;
    struct seen s;
    int pool = tu_pool_new(f->c, TMEM_POOL_PERSIST, NULL);
    int empty = tu_pool_new(f->c, TMEM_POOL_PERSIST, NULL);

    seen_init(&s, f->ps, 3, 10);
    fill_pool(f->c, pool, &s, 5);
    s.stop_after = 3;
    assert_int_equal(tmem_pool_walk(f->c, pool, record_page, &s), 7);
    assert_int_equal(s.calls, 3);
    s.stop_after = 0;
    s.calls = 0;
    assert_int_equal(tmem_pool_walk(f->c, empty, record_page, &s), 0);
    assert_int_equal(s.calls, 0);
    assert_int_equal(tmem_pool_walk(NULL, pool, record_page, &s), -EINVAL);
    assert_int_equal(tmem_pool_walk(f->c, pool, NULL, &s), -EINVAL);
    assert_int_equal(tmem_pool_walk(f->c, 99, record_page, &s), -EINVAL);
    assert_int_equal(tmem_pool_walk(f->c, -1, record_page, &s), -EINVAL);
    assert_int_equal(tmem_destroy_pool(f->c, pool), 0);
    assert_int_equal(tmem_pool_walk(f->c, pool, record_page, &s), -EINVAL);
    seen_fini(&s);
}

static int count_page(void *arg, const struct tmem_oid *oid, uint32_t index, const void *page,
                      size_t page_size)
{
    (void)oid, (void)index, (void)page, (void)page_size;
    (*(size_t *)arg)++;
    return 0;
}

struct idx_set {
    uint32_t n, lowest;
    uint32_t seen; /* bit i: index i (< 32) seen */
};

static int note_index(void *arg, const struct tmem_oid *oid, uint32_t index, const void *page,
                      size_t page_size)
{
    struct idx_set *s = arg;
    (void)oid, (void)page, (void)page_size;
    if (s->n++ == 0 || index < s->lowest)
        s->lowest = index;
    if (index < 32)
        s->seen |= 1u << index;
    return 0;
}

/* Rule: the walk is not a get: an exclusive-gets pool keeps its pages, no
 * statistics change, and an ephemeral pool's LRU order is unchanged (the
 * page evicted next is still the oldest put). */
static void test_walk_is_not_a_get(void **state)
{
    struct tu_store *f = *state;
    unsigned char *page = tu_page_alloc(f->ps);
    int excl = tu_pool_new(f->c, TMEM_POOL_PERSIST | TMEM_POOL_EXCLUSIVE_GETS, NULL);
    int eph = tu_pool_new(f->c, 0, NULL);
    struct tmem_stats before, after;
    size_t n = 0;

    /* put from index 19 down to 0: the oldest is 19, while a walk goes
     * 0..19 (had it touched the pages, 0 would be the oldest) */
    for (uint32_t k = 0; k < 20; k++) {
        uint32_t i = 19 - k;
        struct tmem_oid oid = tu_oid(1, 0, 0);
        tu_fill_random(page, f->ps, i);
        assert_int_equal(tmem_put(f->c, excl, &oid, i, page), 0);
        tu_fill_random(page, f->ps, 500 + i); /* not a dedup of the above */
        assert_int_equal(tmem_put(f->c, eph, &oid, i, page), 0);
    }
    assert_int_equal(tmem_client_stats(f->c, &before), 0);
    assert_int_equal(tmem_pool_walk(f->c, excl, count_page, &n), 0);
    assert_int_equal(tmem_pool_walk(f->c, eph, count_page, &n), 0);
    assert_int_equal(n, 40);
    assert_int_equal(tmem_client_stats(f->c, &after), 0);
    assert_memory_equal(&before, &after, sizeof(before));
    n = 0;
    assert_int_equal(tmem_pool_walk(f->c, excl, count_page, &n), 0);
    assert_int_equal(n, 20);
    /* a full store: the next put evicts the oldest ephemeral page, which
     * is still index 0 (the walk moved nothing to the head) */
    assert_int_equal(tmem_set_capacity(f->tm, tu_usage(f->tm)), 0);
    {
        struct tmem_oid o2 = tu_oid(1, 0, 0);
        struct idx_set left = {0};
        tu_fill_random(page, f->ps, 1000);
        assert_int_equal(tmem_put(f->c, eph, &o2, 20, page), 0);
        /* (one eviction made room: the put replaced no page) */
        assert_int_equal(tmem_pool_walk(f->c, eph, note_index, &left), 0);
        /* exactly the oldest, 19, went */
        assert_int_equal(left.n, 20);
        assert_int_equal(left.seen & (1u << 19), 0);
    }
    assert_int_equal(tmem_set_capacity(f->tm, TMEM_CAPACITY_UNLIMITED), 0);
    free(page);
}

/* fn that flushes the page it is given and copies it to another pool. */
struct mover {
    struct tmem_client *c;
    int from, to;
    size_t moved;
};

static int move_page(void *arg, const struct tmem_oid *oid, uint32_t index, const void *page,
                     size_t page_size)
{
    struct mover *m = arg;
    (void)page_size;
    assert_int_equal(tmem_put(m->c, m->to, oid, index, page), 0);
    assert_int_equal(tmem_flush_page(m->c, m->from, oid, index), 0);
    m->moved++;
    return 0;
}

/* Rule: fn runs with no lock of the store held: it may put, and flush the
 * very pool being walked (no deadlock), and the walk still sees every
 * page once. */
static void test_walk_fn_may_call_the_store(void **state)
{
    struct tu_store *f = *state;
    struct seen s;
    struct mover m = {f->c, tu_pool_new(f->c, TMEM_POOL_PERSIST, NULL),
                      tu_pool_new(f->c, TMEM_POOL_PERSIST, NULL), 0};
    uint64_t n;

    seen_init(&s, f->ps, 4, 70);
    n = fill_pool(f->c, m.from, &s, 99);
    assert_int_equal(tmem_pool_walk(f->c, m.from, move_page, &m), 0);
    assert_int_equal(m.moved, n);
    assert_int_equal(tmem_pool_walk(f->c, m.to, record_page, &s), 0);
    assert_int_equal(s.calls, n);
    assert_int_equal(s.mismatches, 0);
    m.moved = 0;
    assert_int_equal(tmem_pool_walk(f->c, m.from, count_page, &m.moved), 0);
    assert_int_equal(m.moved, 0);
    seen_fini(&s);
}

/* Rule: tmem_client_pools lists open pools in id order with their flags,
 * uuid (shared only), page size and pages; returns the count even when max
 * is smaller; destroyed pools are not listed. */
static void test_client_pools(void **state)
{
    struct tu_store *f = *state;
    struct tmem_pool_info info[TMEM_MAX_POOLS_PER_CLIENT];
    unsigned char *page = tu_page_alloc(f->ps);
    struct tmem_oid oid = tu_oid(3, 0, 0);

    assert_int_equal(tmem_client_pools(f->c, info, TMEM_MAX_POOLS_PER_CLIENT), 0);
    int p0 = tu_pool_new(f->c, TMEM_POOL_PERSIST, NULL);
    int p1 = tu_pool_new(f->c, 0, NULL);
    int p2 = tu_pool_new(f->c, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID_A);
    tu_fill_random(page, f->ps, 1);
    assert_int_equal(tmem_put(f->c, p2, &oid, 0, page), 0);
    assert_int_equal(tmem_put(f->c, p2, &oid, 1, page), 0);
    assert_int_equal(tmem_client_pools(f->c, info, TMEM_MAX_POOLS_PER_CLIENT), 3);
    assert_int_equal(info[0].id, p0);
    assert_int_equal(info[0].flags, TMEM_POOL_PERSIST);
    assert_int_equal(info[1].id, p1);
    assert_int_equal(info[1].flags, 0);
    assert_int_equal(info[2].id, p2);
    assert_int_equal(info[2].flags, TMEM_POOL_PERSIST | TMEM_POOL_SHARED);
    assert_memory_equal(info[2].uuid, UUID_A, 16);
    assert_int_equal(info[2].pages, 2);
    assert_int_equal(info[0].page_size, f->ps);
    for (int i = 0; i < 16; i++)
        assert_int_equal(info[0].uuid[i], 0);
    assert_int_equal(tmem_client_pools(f->c, info, 1), 3);
    assert_int_equal(tmem_client_pools(f->c, NULL, 0), 3);
    assert_int_equal(tmem_client_pools(f->c, NULL, 1), -EINVAL);
    assert_int_equal(tmem_client_pools(NULL, info, 1), -EINVAL);
    assert_int_equal(tmem_destroy_pool(f->c, p1), 0);
    assert_int_equal(tmem_client_pools(f->c, info, TMEM_MAX_POOLS_PER_CLIENT), 2);
    assert_int_equal(info[1].id, p2);
    assert_string_equal(tmem_client_name(f->c), "a");
    free(page);
}

/* ------------------------------------------------- concurrent walking */
#define STABLE_OBJ 0   /* object 0: pages put before, never touched */
#define CHURN_OBJ 1    /* object 1: put and flushed while walks run */
#define CONC_IDX 400u

struct churn {
    struct tmem_client *c;
    int pool;
    size_t ps;
    atomic_bool stop;
    atomic_ulong ops;
};

static void *churn_thread(void *arg)
{
    struct churn *ch = arg;
    unsigned char *page = malloc(ch->ps);
    uint64_t rng = 42, version = 1;

    while (!atomic_load(&ch->stop)) {
        uint32_t i = (uint32_t)tu_rng_below(&rng, CONC_IDX);
        struct tmem_oid oid = tu_oid(CHURN_OBJ, 0, 0);
        if (tu_rng_below(&rng, 3) == 0) {
            tmem_flush_page(ch->c, ch->pool, &oid, i);
        } else {
            tu_fill_tagged(page, ch->ps, key_of(CHURN_OBJ, i), version,
                           (unsigned)(version % 3));
            version++;
            tmem_put(ch->c, ch->pool, &oid, i, page);
        }
        atomic_fetch_add(&ch->ops, 1);
    }
    free(page);
    return NULL;
}

struct conc_seen {
    size_t ps;
    unsigned char stable[CONC_IDX], churn[CONC_IDX];
    long bad;
};

static int check_conc(void *arg, const struct tmem_oid *oid, uint32_t index, const void *page,
                      size_t page_size)
{
    struct conc_seen *s = arg;
    uint64_t key, version;

    if (index >= CONC_IDX || oid->oid[1] || oid->oid[2]) {
        s->bad++;
        return 0;
    }
    if (!tu_check_tagged(page, page_size, &key, &version) || key != key_of(oid->oid[0], index)) {
        s->bad++; /* torn, or not a page ever put under this handle */
        return 0;
    }
    if (oid->oid[0] == STABLE_OBJ) {
        s->stable[index]++;
        if (version != 1)
            s->bad++;
    } else {
        s->churn[index]++;
    }
    return 0;
}

/* Rule: with puts and flushes running, a page present for the whole walk
 * is seen exactly once with its bytes; a churned page at most once and
 * always a whole page once put under its handle. */
static void test_walk_concurrent(void **state)
{
    struct tu_store *f = *state;
    struct churn ch = {f->c, tu_pool_new(f->c, TMEM_POOL_PERSIST, NULL), f->ps, false, 0};
    unsigned char *page = tu_page_alloc(f->ps);
    pthread_t t;
    int walks = (int)tu_env_long("WALK_ROUNDS", 30);

    for (uint32_t i = 0; i < CONC_IDX; i++) {
        struct tmem_oid oid = tu_oid(STABLE_OBJ, 0, 0);
        tu_fill_tagged(page, f->ps, key_of(STABLE_OBJ, i), 1, i % 3);
        assert_int_equal(tmem_put(f->c, ch.pool, &oid, i, page), 0);
    }
    assert_int_equal(pthread_create(&t, NULL, churn_thread, &ch), 0);
    while (atomic_load(&ch.ops) < 100)
        ;
    for (int w = 0; w < walks; w++) {
        struct conc_seen s;
        memset(&s, 0, sizeof(s));
        s.ps = f->ps;
        assert_int_equal(tmem_pool_walk(f->c, ch.pool, check_conc, &s), 0);
        assert_int_equal(s.bad, 0);
        for (uint32_t i = 0; i < CONC_IDX; i++) {
            assert_int_equal(s.stable[i], 1);
            assert_true(s.churn[i] <= 1);
        }
    }
    atomic_store(&ch.stop, true);
    pthread_join(t, NULL);
    assert_true(atomic_load(&ch.ops) > 100);
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_every_page_every_kind),
        cmocka_unit_test_setup_teardown(test_walk_every_stripe, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(test_walk_stop_and_arguments, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(test_walk_is_not_a_get, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(test_walk_fn_may_call_the_store, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test_setup_teardown(test_client_pools, tu_store_setup, tu_store_teardown),
        cmocka_unit_test_setup_teardown(test_walk_concurrent, tu_store_setup,
                                        tu_store_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
