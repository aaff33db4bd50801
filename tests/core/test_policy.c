/*
 * test_policy.c - the hypervisor's policy per client (tmem.h: weights and
 * caps, as Xen tmem's) and the latency histograms of the page operations:
 *  - under pressure, clients pressing on the store settle at ephemeral
 *    holdings in the ratio of their weights; the victim is the oldest page
 *    of the client most above its weighted share, and with one client the
 *    store's oldest page, as before;
 *  - a client never holds more than its cap; a put over it evicts the
 *    client's own oldest ephemeral pages, else is refused (failed_puts_cap);
 *    lowering the cap evicts at once; persistent pages are never evicted;
 *  - a shared ephemeral pool's pages move to another holder's LRU when the
 *    client they counted against lets go of the pool;
 *  - weights and caps change from another thread while others put;
 *  - with latency_histograms every call lands in its (op, kind) cell.
 * Every store ends with tmem_check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/histogram.h"
#include "core/tmem.h"
#include "core/tmem_internal.h" /* lru_owner, lru_bytes: where a shared pool's pages count */
#include "../support/testutil.h"

#define PS 4096u
#define RECORD 32u /* bytes of a page record: what a page weighs beyond its data */

static const uint8_t UUID_P[16] = {0x90, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0x11};

/* A store of `capacity` bytes storing pages raw (no compression, no dedup:
 * every random page weighs PS + RECORD). */
static struct tmem *policy_store(uint64_t capacity, bool histograms)
{
    struct tmem_config cfg;
    struct tmem *tm;

    tmem_config_init(&cfg);
    cfg.capacity_bytes = capacity;
    cfg.compressor = TMEM_COMPRESSOR_NONE;
    cfg.dedup = false;
    cfg.latency_histograms = histograms;
    tm = tmem_create(&cfg);
    assert_non_null(tm);
    return tm;
}

static struct tmem_stats client_stats(const struct tmem_client *c)
{
    struct tmem_stats st;
    assert_int_equal(tmem_client_stats(c, &st), 0);
    return st;
}

/* What a client's cap counts, from its public statistics (private pools
 * only): the data of its pages and their records. */
static uint64_t held_bytes(const struct tmem_client *c)
{
    struct tmem_stats st = client_stats(c);
    return st.data_bytes + st.pages * RECORD;
}

static int put_random(struct tmem_client *c, int pool, uint64_t obj, uint32_t idx,
                      uint64_t seed)
{
    unsigned char p[PS];
    struct tmem_oid oid = tu_oid(obj, 0, 0);

    tu_fill_random(p, PS, seed);
    return tmem_put(c, pool, &oid, idx, p);
}

static void get_random(struct tmem_client *c, int pool, uint64_t obj, uint32_t idx,
                       uint64_t seed, const char *what)
{
    unsigned char want[PS], got[PS];
    struct tmem_oid oid = tu_oid(obj, 0, 0);
    int rc = tmem_get(c, pool, &oid, idx, got);

    if (rc != 0)
        fail_msg("%s: get(%llu, %u) = %d", what, (unsigned long long)obj, idx, rc);
    tu_fill_random(want, PS, seed);
    TU_ASSERT_PAGE_EQ(got, want, PS, what);
}

static bool present(struct tmem_client *c, int pool, uint64_t obj, uint32_t idx)
{
    unsigned char got[PS];
    struct tmem_oid oid = tu_oid(obj, 0, 0);
    return tmem_get(c, pool, &oid, idx, got) == 0;
}

/* ------------------------------------------------------------ weights */

/* Two clients with weights wa and wb put distinct ephemeral pages in turn,
 * 6 store-fulls each, into a store of about `pages` pages; the ratio of
 * the ephemeral bytes they hold at the end (a : b). */
static double split_under_pressure(uint32_t wa, uint32_t wb, uint32_t pages)
{
    struct tmem *tm = policy_store((uint64_t)pages * (PS + 64), false);
    struct tmem_client *a = tu_client_new(tm, "a"), *b = tu_client_new(tm, "b");
    int pa = tu_pool_new(a, 0, NULL), pb = tu_pool_new(b, 0, NULL);
    struct tmem_stats sa, sb;
    double ratio;

    assert_int_equal(tmem_client_set_weight(a, wa), 0);
    assert_int_equal(tmem_client_set_weight(b, wb), 0);
    for (uint32_t i = 0; i < 6 * pages; i++) {
        assert_int_equal(put_random(a, pa, 1, i, 1000000 + i), 0);
        assert_int_equal(put_random(b, pb, 1, i, 2000000 + i), 0);
    }
    sa = client_stats(a);
    sb = client_stats(b);
    assert_true(sa.pages_evicted > 0 && sb.pages_evicted > 0);
    assert_int_equal(sa.weight, wa);
    assert_int_equal(sb.weight, wb);
    ratio = (double)held_bytes(a) / (double)held_bytes(b);
    print_message("weights %u:%u hold %llu and %llu bytes: %.3f:1\n", wa, wb,
                  (unsigned long long)held_bytes(a), (unsigned long long)held_bytes(b), ratio);
    tu_store_close(tm);
    return ratio;
}

/* Rule: under pressure, ephemeral pages are reclaimed from the client
 * whose ephemeral bytes / weight is largest, so two clients putting at
 * the same rate settle at holdings in the ratio of their weights (within
 * 10 %): 3:1 with weights 300 and 100, 1:1 with equal weights, and the
 * split follows the weights, not which client is named first. */
static void test_weights_split_the_store(void **state)
{
    double r;

    (void)state;
    r = split_under_pressure(300, 100, 1200);
    if (r < 2.7 || r > 3.3)
        fail_msg("weights 3:1 hold %.3f:1", r);
    r = split_under_pressure(100, 100, 1200);
    if (r < 0.9 || r > 1.1)
        fail_msg("weights 1:1 hold %.3f:1", r);
    r = split_under_pressure(1, 3, 1200);
    if (r < 1 / 3.3 || r > 1 / 2.7)
        fail_msg("weights 1:3 hold %.3f:1", r);
}

/* Rule: the victim is the oldest page of the client most above its
 * weighted share, even when another client's pages are older; with one
 * client (any number of pools) it is the store's oldest page. */
static void test_victim_is_the_heaviest_clients_oldest_page(void **state)
{
    struct tmem *tm = policy_store(TMEM_CAPACITY_UNLIMITED, false);
    struct tmem_client *a = tu_client_new(tm, "a"), *b = tu_client_new(tm, "b");
    int pa = tu_pool_new(a, 0, NULL), pb = tu_pool_new(b, 0, NULL);
    int pa2 = tu_pool_new(a, 0, NULL);
    struct tmem_stats st;

    (void)state;
    for (uint32_t i = 0; i < 10; i++) /* a's pages: the store's oldest */
        assert_int_equal(put_random(a, pa, 1, i, 10 + i), 0);
    for (uint32_t i = 0; i < 30; i++)
        assert_int_equal(put_random(b, pb, 1, i, 100 + i), 0);
    st = tu_store_stats(tm);
    /* room for one page less: b (30 pages, same weight) loses its oldest */
    assert_int_equal(tmem_set_capacity(tm, st.data_bytes + st.metadata_bytes - PS), 0);
    assert_false(present(b, pb, 1, 0));
    assert_int_equal(client_stats(b).pages_evicted, 1);
    assert_int_equal(client_stats(a).pages_evicted, 0);
    /* a weighs 10 pages at weight 100, b 29 at 10000: now a is the victim */
    assert_int_equal(tmem_client_set_weight(b, 10000), 0);
    st = tu_store_stats(tm);
    assert_int_equal(tmem_set_capacity(tm, st.data_bytes + st.metadata_bytes - PS), 0);
    assert_int_equal(client_stats(a).pages_evicted, 1);
    assert_int_equal(client_stats(b).pages_evicted, 1);
    /* one client, two pools: its oldest page goes, whichever pool holds it */
    tmem_client_destroy(b);
    assert_int_equal(tmem_set_capacity(tm, TMEM_CAPACITY_UNLIMITED), 0);
    assert_int_equal(put_random(a, pa2, 2, 0, 500), 0); /* newer than pa's */
    st = tu_store_stats(tm);
    assert_int_equal(tmem_set_capacity(tm, st.data_bytes + st.metadata_bytes - PS), 0);
    assert_int_equal(client_stats(a).pages_evicted, 2);
    assert_false(present(a, pa, 1, 1)); /* a's second oldest page */
    get_random(a, pa2, 2, 0, 500, "the newest page of the other pool");
    tu_store_close(tm);
}

/* Rule: persistent pages are never evicted, whatever the weights: a
 * client whose persistent pages fill the store at the lowest weight keeps
 * every one of them while a heavier client presses with ephemeral puts. */
static void test_persistent_pages_never_evicted_by_weights(void **state)
{
    enum { PAGES = 300 };
    struct tmem *tm = policy_store(PAGES * (PS + 64), false);
    struct tmem_client *a = tu_client_new(tm, "a"), *b = tu_client_new(tm, "b");
    int pp = tu_pool_new(a, TMEM_POOL_PERSIST, NULL), pe = tu_pool_new(a, 0, NULL);
    int pb = tu_pool_new(b, 0, NULL);
    uint32_t stored = 0;

    (void)state;
    assert_int_equal(tmem_client_set_weight(a, 1), 0);
    assert_int_equal(tmem_client_set_weight(b, 10000), 0);
    for (uint32_t i = 0; i < PAGES / 2; i++)
        stored += put_random(a, pp, 1, i, 7000 + i) == 0;
    assert_int_equal(stored, PAGES / 2);
    for (uint32_t i = 0; i < 3 * PAGES; i++) {
        int rc = put_random(a, pe, 2, i, 9000 + i);
        assert_true(rc == 0 || rc == -ENOSPC);
        rc = put_random(b, pb, 3, i, 8000 + i);
        assert_true(rc == 0 || rc == -ENOSPC);
    }
    assert_true(client_stats(a).pages_evicted > 0 && client_stats(b).pages_evicted > 0);
    for (uint32_t i = 0; i < PAGES / 2; i++)
        get_random(a, pp, 1, i, 7000 + i, "persistent page under pressure");
    assert_int_equal(client_stats(a).pages_evicted + client_stats(b).pages_evicted,
                     tu_store_stats(tm).pages_evicted);
    tu_store_close(tm);
}

/* ------------------------------------------------------------ caps */

/* Rule: a client never holds more than its cap (checked after every
 * put): an ephemeral put over it evicts the client's own oldest ephemeral
 * pages; a persistent put too, until only persistent pages are left, and
 * then it is refused with -ENOSPC, counted in failed_puts_cap, one a
 * refusal; the refused put also removes an older copy under its handle;
 * persistent pages are never evicted for the cap. */
static void test_cap_is_never_exceeded(void **state)
{
    enum { CAP_PAGES = 40 };
    struct tmem *tm = policy_store(TMEM_CAPACITY_UNLIMITED, false);
    struct tmem_client *c = tu_client_new(tm, "capped"), *other = tu_client_new(tm, "other");
    int pe = tu_pool_new(c, 0, NULL), pp = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);
    int po = tu_pool_new(other, TMEM_POOL_PERSIST, NULL);
    uint64_t cap = CAP_PAGES * (PS + RECORD), refused = 0;
    uint32_t persistent = 0;

    (void)state;
    assert_int_equal(tmem_client_set_cap(c, cap), 0);
    assert_true(client_stats(c).cap_bytes == cap);
    for (uint32_t i = 0; i < 3 * CAP_PAGES; i++) {
        assert_int_equal(put_random(c, pe, 1, i, 100 + i), 0);
        assert_true(held_bytes(c) <= cap);
    }
    assert_int_equal(client_stats(c).pages, CAP_PAGES);
    assert_int_equal(client_stats(c).pages_evicted, 2 * CAP_PAGES);
    assert_false(present(c, pe, 1, 2 * CAP_PAGES - 1)); /* the oldest went */
    /* persistent puts take the ephemeral pages' place, then are refused */
    for (uint32_t i = 0; i < 2 * CAP_PAGES; i++) {
        int rc = put_random(c, pp, 2, i, 500 + i);
        assert_true(held_bytes(c) <= cap);
        if (rc == 0) {
            persistent++;
        } else {
            assert_int_equal(rc, -ENOSPC);
            refused++;
        }
    }
    assert_int_equal(persistent, CAP_PAGES);
    assert_int_equal(refused, CAP_PAGES);
    assert_int_equal(client_stats(c).failed_puts_cap, refused);
    assert_int_equal(client_stats(c).failed_puts, refused);
    /* an ephemeral put finds nothing to evict either */
    assert_int_equal(put_random(c, pe, 1, 999, 999), -ENOSPC);
    assert_int_equal(client_stats(c).failed_puts_cap, refused + 1);
    /* a refused put over an older copy removes it (put-put-get) */
    assert_int_equal(put_random(c, pp, 2, 0, 4242), -ENOSPC);
    assert_false(present(c, pp, 2, 0));
    for (uint32_t i = 1; i < CAP_PAGES; i++)
        get_random(c, pp, 2, i, 500 + i, "persistent page at the cap");
    /* another client is not capped */
    for (uint32_t i = 0; i < 2 * CAP_PAGES; i++)
        assert_int_equal(put_random(other, po, 3, i, 800 + i), 0);
    assert_true(client_stats(other).cap_bytes == TMEM_CAPACITY_UNLIMITED);
    assert_int_equal(tu_store_stats(tm).failed_puts_cap, refused + 2);
    tu_store_close(tm);
}

/* Rule: lowering a cap below what the client holds evicts its ephemeral
 * pages at once, oldest first, until it fits; persistent pages above the
 * cap stay (and can be read) until flushed, puts meanwhile refused;
 * lifting the cap lets puts in again. */
static void test_lowering_the_cap_evicts_at_once(void **state)
{
    struct tmem *tm = policy_store(TMEM_CAPACITY_UNLIMITED, false);
    struct tmem_client *c = tu_client_new(tm, "c");
    int pe = tu_pool_new(c, 0, NULL), pp = tu_pool_new(c, TMEM_POOL_PERSIST, NULL);

    (void)state;
    for (uint32_t i = 0; i < 100; i++)
        assert_int_equal(put_random(c, pe, 1, i, 10 + i), 0);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(put_random(c, pp, 2, i, 500 + i), 0);
    assert_int_equal(tmem_client_set_cap(c, 30 * (PS + RECORD)), 0);
    assert_true(held_bytes(c) <= 30 * (PS + RECORD));
    assert_int_equal(client_stats(c).pages, 30);
    assert_int_equal(client_stats(c).pages_evicted, 80);
    assert_false(present(c, pe, 1, 79));
    get_random(c, pe, 1, 80, 90, "the oldest ephemeral page left");
    /* below the persistent pages: every ephemeral page goes, they stay */
    assert_int_equal(tmem_client_set_cap(c, 5 * (PS + RECORD)), 0);
    assert_int_equal(client_stats(c).pages, 10);
    assert_int_equal(put_random(c, pp, 2, 10, 510), -ENOSPC);
    for (uint32_t i = 0; i < 10; i++)
        get_random(c, pp, 2, i, 500 + i, "persistent page above the cap");
    assert_int_equal(tmem_client_set_cap(c, TMEM_CAPACITY_UNLIMITED), 0);
    assert_int_equal(put_random(c, pp, 2, 10, 510), 0);
    tu_store_close(tm);
}

/* Rule: tmem_client_set_weight takes 1..10000 (default 100), and
 * tmem_client_set_cap any byte count (default unlimited); both refuse a
 * NULL client with -EINVAL; the statistics show a client's weight and cap,
 * 0 for the store and pools. */
static void test_weight_and_cap_arguments(void **state)
{
    struct tu_store *s = *state;
    struct tmem_stats st;
    int pool = tu_pool_new(s->c, 0, NULL);

    st = client_stats(s->c);
    assert_int_equal(st.weight, 100);
    assert_true(st.cap_bytes == TMEM_CAPACITY_UNLIMITED);
    assert_int_equal(tmem_client_set_weight(s->c, 0), -EINVAL);
    assert_int_equal(tmem_client_set_weight(s->c, 10001), -EINVAL);
    assert_int_equal(tmem_client_set_weight(NULL, 5), -EINVAL);
    assert_int_equal(tmem_client_set_cap(NULL, 5), -EINVAL);
    assert_int_equal(client_stats(s->c).weight, 100);
    assert_int_equal(tmem_client_set_weight(s->c, 1), 0);
    assert_int_equal(tmem_client_set_weight(s->c, 10000), 0);
    assert_int_equal(tmem_client_set_cap(s->c, 0), 0);
    st = client_stats(s->c);
    assert_int_equal(st.weight, 10000);
    assert_int_equal(st.cap_bytes, 0);
    assert_int_equal(put_random(s->c, pool, 1, 0, 1), -ENOSPC); /* a cap of 0 */
    st = tu_store_stats(s->tm);
    assert_int_equal(st.weight, 0);
    assert_int_equal(st.cap_bytes, 0);
    assert_int_equal(st.failed_puts_cap, 1);
    assert_int_equal(tmem_pool_stats(s->c, pool, &st), 0);
    assert_int_equal(st.weight, 0);
    assert_int_equal(st.cap_bytes, 0);
}

/* ------------------------------------------------------------ shared pools */

/* Rule: a shared ephemeral pool's pages count against the client that
 * created it (on its LRU) and, when that client lets go of the pool while
 * others hold it, against another holder, whose LRU takes them; they stay
 * readable and evictable; they are not part of any client's cap. */
static void test_shared_pool_pages_move_to_another_holder(void **state)
{
    struct tmem *tm = policy_store(TMEM_CAPACITY_UNLIMITED, false);
    struct tmem_client *a = tu_client_new(tm, "a"), *b = tu_client_new(tm, "b");
    int sa = tu_pool_new(a, TMEM_POOL_SHARED, UUID_P);
    int pa = tu_pool_new(a, 0, NULL);
    int sb = tu_pool_new(b, TMEM_POOL_SHARED, UUID_P);
    int pb = tu_pool_new(b, 0, NULL);
    struct tmem_pool *shared = a->pools[sa];
    uint64_t shared_bytes;

    (void)state;
    for (uint32_t i = 0; i < 8; i++) {
        assert_int_equal(put_random(b, sb, 1, i, 40 + i), 0); /* b puts, a pays */
        assert_int_equal(put_random(a, pa, 2, i, 60 + i), 0);
        assert_int_equal(put_random(b, pb, 3, i, 80 + i), 0);
    }
    assert_ptr_equal(shared->lru_owner, a);
    shared_bytes = 8 * (PS + RECORD);
    assert_int_equal(tmem_load(&a->lru_bytes), 2 * shared_bytes);
    assert_int_equal(tmem_load(&b->lru_bytes), shared_bytes);
    /* not under a cap: a cap of a's private pages holds with them there,
     * and one page less evicts a's oldest private page, passing over the
     * older shared page at the end of a's LRU */
    assert_int_equal(tmem_client_set_cap(a, shared_bytes), 0);
    assert_int_equal(client_stats(a).pages_evicted, 0);
    assert_int_equal(tmem_client_set_cap(a, shared_bytes - (PS + RECORD)), 0);
    assert_int_equal(client_stats(a).pages_evicted, 1);
    assert_int_equal(tu_store_stats(tm).pages_evicted, 1);
    assert_false(present(a, pa, 2, 0));
    tu_check(tm, "shared pool counted against its creator");
    assert_int_equal(tmem_destroy_pool(a, sa), 0);
    assert_ptr_equal(shared->lru_owner, b);
    assert_int_equal(tmem_load(&a->lru_bytes), shared_bytes - (PS + RECORD));
    assert_int_equal(tmem_load(&b->lru_bytes), 2 * shared_bytes);
    tu_check(tm, "shared pool moved to the other holder");
    /* they went to b's oldest end: the first pages b loses are them */
    {
        struct tmem_stats st = tu_store_stats(tm);
        assert_int_equal(tmem_client_set_weight(a, 10000), 0);
        assert_int_equal(tmem_set_capacity(tm, st.data_bytes + st.metadata_bytes - 4 * PS), 0);
        assert_int_equal(tu_store_stats(tm).pages_evicted, 1 + 4); /* shared: no client's */
        for (uint32_t i = 0; i < 4; i++)
            assert_false(present(b, sb, 1, i));
        for (uint32_t i = 4; i < 8; i++)
            get_random(b, sb, 1, i, 40 + i, "shared page after its LRU owner left");
        get_random(b, pb, 3, 0, 80, "b's own oldest page, newer than the moved ones");
    }
    /* b leaves too: the pool and its pages go with the last holder */
    tmem_client_destroy(b);
    tu_check(tm, "after the last holder left");
    assert_int_equal(tu_store_stats(tm).pools, 1);
    tu_store_close(tm);
}

/* ------------------------------------------------------------ threads */

struct presser {
    struct tmem_client *c;
    int pe, pp;
    uint64_t seed;
    unsigned rounds;
    int errors;
};

static void *press(void *arg)
{
    struct presser *w = arg;
    for (unsigned i = 0; i < w->rounds; i++) {
        bool persistent = i % 8 == 0;
        int rc = put_random(w->c, persistent ? w->pp : w->pe, 1, i % 512, w->seed + i);
        if (rc != 0 && rc != -ENOSPC)
            w->errors++;
        if (i % 16 == 0) {
            struct tmem_oid oid = tu_oid(1, 0, 0);
            tmem_flush_page(w->c, w->pp, &oid, (i + 64) % 512);
        }
    }
    return NULL;
}

struct changer {
    struct tmem *tm;
    struct tmem_client *c[2];
    atomic_bool stop;
    unsigned changes;
    int errors;     /* calls that failed; checked by the main thread */
    char why[256];  /* the first broken invariant tmem_check found */
};

static void *change_policy(void *arg)
{
    struct changer *w = arg;
    uint64_t seed = 77;
    while (!atomic_load(&w->stop)) {
        struct tmem_client *c = w->c[tu_rng_below(&seed, 2)];
        uint64_t cap = tu_rng_below(&seed, 4) == 0 ? TMEM_CAPACITY_UNLIMITED
                                                   : tu_rng_below(&seed, 300) * (PS + RECORD);
        w->errors += tmem_client_set_weight(c, 1 + (uint32_t)tu_rng_below(&seed, 1000)) != 0;
        w->errors += tmem_client_set_cap(c, cap) != 0;
        if (++w->changes % 64 == 0 && !w->why[0] &&
            tmem_check(w->tm, w->why, sizeof w->why) != 0)
            w->errors++;
    }
    return NULL;
}

/* Rule: weights and caps may be changed from any thread while others put
 * (ThreadSanitizer finds no race; the invariants hold throughout); once
 * the last cap is set and the puts are over, no client holds more than
 * its cap, and the persistent pages still there read back. */
static void test_policy_changes_while_clients_put(void **state)
{
    struct tmem *tm = policy_store(400 * (PS + 64), false);
    struct presser p[2];
    struct changer ch = {.tm = tm};
    pthread_t t[3];

    (void)state;
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        p[i] = (struct presser){tu_client_new(tm, name), 0, 0, 100000u * (unsigned)(i + 1),
                                (unsigned)tu_env_long("TMEM_POLICY_ROUNDS", 20000), 0};
        p[i].pe = tu_pool_new(p[i].c, 0, NULL);
        p[i].pp = tu_pool_new(p[i].c, TMEM_POOL_PERSIST, NULL);
        ch.c[i] = p[i].c;
    }
    atomic_init(&ch.stop, false);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, press, &p[i]), 0);
    assert_int_equal(pthread_create(&t[2], NULL, change_policy, &ch), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    atomic_store(&ch.stop, true);
    pthread_join(t[2], NULL);
    assert_true(ch.changes > 0);
    if (ch.errors)
        fail_msg("%d policy calls or checks failed (%s)", ch.errors, ch.why);
    for (int i = 0; i < 2; i++) {
        uint64_t cap = 20 * (PS + RECORD);
        struct tmem_stats st;
        assert_int_equal(p[i].errors, 0);
        /* an ephemeral-only cap check: drop the persistent pages first */
        assert_int_equal(tmem_destroy_pool(p[i].c, p[i].pp), 0);
        assert_int_equal(tmem_client_set_cap(p[i].c, cap), 0);
        assert_true(held_bytes(p[i].c) <= cap);
        st = client_stats(p[i].c);
        assert_int_equal(st.succ_puts + st.failed_puts, p[i].rounds);
    }
    tu_store_close(tm);
}

/* ------------------------------------------------------------ latency */

static uint64_t latency_count(const struct tmem_client *c, enum tmem_op op, bool persistent)
{
    struct histogram h;
    assert_int_equal(tmem_client_latency(c, op, persistent, &h), 0);
    return h.count;
}

static uint64_t store_latency_count(const struct tmem *tm, enum tmem_op op, bool persistent)
{
    struct histogram h;
    assert_int_equal(tmem_latency(tm, op, persistent, &h), 0);
    return h.count;
}

/* Rule: with latency_histograms, every put, get, flush_page and
 * flush_object on a pool, whatever its result, is counted once in its
 * client's histogram of (operation, pool kind) and nowhere else; calls on
 * a bad pool id are not counted; the store's histograms add up every
 * client's, destroyed ones included; durations are plausible (> 0,
 * p50 <= p99 <= max). Without the option every histogram is empty. */
static void test_latency_histograms_count_every_call(void **state)
{
    enum { N = 50 };
    struct tmem *tm = policy_store(TMEM_CAPACITY_UNLIMITED, true);
    struct tmem_client *a = tu_client_new(tm, "a"), *b = tu_client_new(tm, "b");
    int pe = tu_pool_new(a, 0, NULL), pp = tu_pool_new(a, TMEM_POOL_PERSIST, NULL);
    int pb = tu_pool_new(b, TMEM_POOL_PERSIST, NULL);
    unsigned char page[PS];
    struct tmem_oid oid = tu_oid(1, 0, 0);
    struct histogram h;

    (void)state;
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(put_random(a, pp, 1, i, i), 0);
    for (int op = 0; op < TMEM_OP_COUNT; op++)
        for (int kind = 0; kind < 2; kind++)
            assert_int_equal(latency_count(a, (enum tmem_op)op, kind),
                             op == TMEM_OP_PUT && kind ? N : 0);
    /* ephemeral: puts, gets that find and miss, both flushes */
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(put_random(a, pe, 1, i, i), 0);
    for (uint32_t i = 0; i < 20; i++)
        tmem_get(a, pe, &oid, i, page); /* 10 found (and taken), 10 missed */
    tmem_flush_page(a, pe, &oid, 0);
    tmem_flush_object(a, pe, &oid);
    tmem_flush_page(a, pp, &oid, 0);
    /* a bad pool id: no kind, not counted */
    assert_int_equal(tmem_put(a, 77, &oid, 0, page), -EINVAL);
    assert_int_equal(tmem_get(a, 77, &oid, 0, page), -EINVAL);
    assert_int_equal(tmem_flush_page(a, 77, &oid, 0), -EINVAL);
    assert_int_equal(latency_count(a, TMEM_OP_PUT, false), 10);
    assert_int_equal(latency_count(a, TMEM_OP_GET, false), 20);
    assert_int_equal(latency_count(a, TMEM_OP_FLUSH, false), 2);
    assert_int_equal(latency_count(a, TMEM_OP_PUT, true), N);
    assert_int_equal(latency_count(a, TMEM_OP_GET, true), 0);
    assert_int_equal(latency_count(a, TMEM_OP_FLUSH, true), 1);
    assert_int_equal(tmem_client_latency(a, TMEM_OP_PUT, true, &h), 0);
    assert_true(h.min > 0);
    assert_true(histogram_quantile(&h, 0.5) <= histogram_quantile(&h, 0.99));
    assert_true(histogram_quantile(&h, 0.99) <= h.max);
    assert_int_equal(tmem_client_latency(a, TMEM_OP_COUNT, true, &h), -EINVAL);
    assert_int_equal(tmem_client_latency(NULL, TMEM_OP_PUT, true, &h), -EINVAL);
    assert_int_equal(tmem_latency(NULL, TMEM_OP_PUT, true, &h), -EINVAL);
    /* b's calls, then b leaves: the store still counts them */
    for (uint32_t i = 0; i < 7; i++)
        assert_int_equal(put_random(b, pb, 1, i, i), 0);
    assert_int_equal(store_latency_count(tm, TMEM_OP_PUT, true), N + 7);
    tmem_client_destroy(b);
    assert_int_equal(store_latency_count(tm, TMEM_OP_PUT, true), N + 7);
    assert_int_equal(store_latency_count(tm, TMEM_OP_GET, false), 20);
    tu_store_close(tm);

    /* off: empty everywhere */
    tm = policy_store(TMEM_CAPACITY_UNLIMITED, false);
    a = tu_client_new(tm, "a");
    pp = tu_pool_new(a, TMEM_POOL_PERSIST, NULL);
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(put_random(a, pp, 1, i, i), 0);
    assert_int_equal(latency_count(a, TMEM_OP_PUT, true), 0);
    assert_int_equal(store_latency_count(tm, TMEM_OP_PUT, true), 0);
    assert_int_equal(tmem_client_latency(a, TMEM_OP_PUT, true, &h), 0);
    assert_true(h.min == UINT64_MAX && h.max == 0 && histogram_quantile(&h, 0.5) == 0);
    tu_store_close(tm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_split_the_store),
        cmocka_unit_test(test_victim_is_the_heaviest_clients_oldest_page),
        cmocka_unit_test(test_persistent_pages_never_evicted_by_weights),
        cmocka_unit_test(test_cap_is_never_exceeded),
        cmocka_unit_test(test_lowering_the_cap_evicts_at_once),
        cmocka_unit_test_setup_teardown(test_weight_and_cap_arguments, tu_store_setup,
                                        tu_store_teardown),
        cmocka_unit_test(test_shared_pool_pages_move_to_another_holder),
        cmocka_unit_test(test_policy_changes_while_clients_put),
        cmocka_unit_test(test_latency_histograms_count_every_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
