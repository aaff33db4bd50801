/*
 * test_faults.c - allocation failure injection in the core (tmem_config.fault,
 * TMEM_FAULT; docs/core.md "Failure behaviour") and its grammar
 * (common/fault.h).
 *
 * Rules checked, each by name in the test that proves it:
 *  - every_allocation_fails_cleanly (SQLite's style): a fixed random
 *    workload (two clients; private and shared, persistent and ephemeral
 *    pools; puts of random, compressible, same-filled and duplicate pages
 *    so that compression and dedup run; gets, flushes of pages and
 *    objects, pools destroyed and made again, a client destroyed and made
 *    again) is run once to count its allocations A, then again for every
 *    n in 1..A (every one up to TMEM_FAULT_PREFIX, default 250; past
 *    it, 250 spread evenly over 1..A) with the n-th
 *    allocation failing. After every operation: tmem_check passes (no page
 *    half-stored, every gauge and statistics identity exact); a failed put
 *    returns -ENOMEM and is counted in failed_puts_alloc, and leaves no
 *    older copy under its handle (put-put-get: a later get misses); every
 *    persistent page whose put succeeded and was not flushed comes back
 *    exactly, an ephemeral hit returns the bytes last put, nothing else
 *    is ever returned; a failed pool or client creation returns
 *    -ENOMEM / NULL with errno ENOMEM and changes nothing; the store's
 *    alloc_failures and the switch's count say exactly one failure.
 *    Under a tight capacity too (eviction, refused puts beside failures).
 *  - random_failures_keep_the_store_whole: the same workload, longer,
 *    with each allocation failing with probability 1e-3 and 1e-2 from a
 *    few seeds; the same checks.
 *  - env_overrides_config / env_bad_value_is_einval: TMEM_FAULT replaces
 *    tmem_config.fault; a value outside the grammar fails tmem_create
 *    with EINVAL.
 *  - grammar: fault_parse accepts exactly "off", "nth=N", "p=P[,seed=S]".
 * Mutations checked against (each made this test fail, then was undone):
 * tmem_put_fail not removing the older copy; tmem_put_insert not freeing
 * the record on an index failure; the radix tree's empty nodes left after
 * a failed insert (the bug this test found, tmem_index.c); fault_decide
 * failing every event from the nth on.
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

#include "common/fault.h"
#include "core/tmem.h"
#include "../support/testutil.h"

#define PAGE 1024u
#define OBJECTS 3u
#define INDICES 24u
#define STORE_POOLS 5 /* P0 A private persistent, P1 A private ephemeral,
                         PS1 shared persistent (A and B), PS2 shared
                         ephemeral (A), P5 B private persistent */
#define SLOTS 6       /* client pool slots: A: P0 P1 PS1 PS2, B: PS1 P5 */

static const uint8_t UUID1[16] = {0xf1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t UUID2[16] = {0xf2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* slot -> (client 0 = A / 1 = B, store pool, flags, uuid) */
static const struct {
    int client, store_pool;
    uint32_t flags;
    const uint8_t *uuid;
} slot_info[SLOTS] = {
    {0, 0, TMEM_POOL_PERSIST, NULL},
    {0, 1, 0, NULL},
    {0, 2, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID1},
    {0, 3, TMEM_POOL_SHARED, UUID2},
    {1, 2, TMEM_POOL_PERSIST | TMEM_POOL_SHARED, UUID1},
    {1, 4, TMEM_POOL_PERSIST, NULL},
};

struct run {
    struct tmem *tm;
    struct tmem_client *client[2];
    int pool[SLOTS];  /* pool id, -1: closed */
    uint32_t model[STORE_POOLS][OBJECTS][INDICES]; /* content id, 0: none */
    uint64_t puts_enomem;
    uint64_t ops;
    unsigned char *page, *got;
    const char *what; /* for messages */
    bool check_after_failure_only; /* before the injected failure the run is
                                      the counting run, checked already */
};

static bool pool_persistent(int store_pool)
{
    return store_pool != 1 && store_pool != 3;
}

/* Content id c (1..): random, compressible or same-filled bytes; ids
 * repeat over the run, so identical pages meet (dedup). */
static void fill_content(unsigned char *page, uint32_t c)
{
    switch (c % 3) {
    case 0:
        tu_fill_random(page, PAGE, c);
        break;
    case 1:
        tu_fill_compressible(page, PAGE, c);
        break;
    default:
        tu_fill_word(page, PAGE, c * 0x0101010101010101ULL);
        break;
    }
}

static uint32_t index_of(uint32_t i)
{
    return i < 8 ? i : i < 16 ? 60 + i : 5000 + i; /* leaves, a second level, a third */
}

static void run_check(struct run *r, const char *op)
{
    char why[512];
    struct tmem_fault_counts counts;
    int rc;

    if (r->check_after_failure_only &&
        (tmem_fault_counts(r->tm, &counts) != 0 || counts.injected == 0))
        return;
    rc = tmem_check(r->tm, why, sizeof(why));
    if (rc != 0)
        fail_msg("%s, op %llu (%s): tmem_check = %d: %s", r->what,
                 (unsigned long long)r->ops, op, rc, why);
}

/* Is store pool sp still held through some open slot? */
static bool store_pool_held(const struct run *r, int sp)
{
    for (int s = 0; s < SLOTS; s++)
        if (r->pool[s] >= 0 && slot_info[s].store_pool == sp)
            return true;
    return false;
}

static void close_slot(struct run *r, int s)
{
    int sp = slot_info[s].store_pool;
    r->pool[s] = -1;
    if (!store_pool_held(r, sp))
        memset(r->model[sp], 0, sizeof(r->model[sp]));
}

static void open_slot(struct run *r, int s)
{
    struct tmem_client *c = r->client[slot_info[s].client];
    int id;

    if (!c || r->pool[s] >= 0)
        return;
    id = tmem_new_pool(c, slot_info[s].flags, slot_info[s].uuid);
    if (id < 0) {
        if (id != -ENOMEM)
            fail_msg("%s, op %llu: tmem_new_pool = %d, not -ENOMEM", r->what,
                     (unsigned long long)r->ops, id);
        return;
    }
    r->pool[s] = id;
}

static void open_client(struct run *r, int k)
{
    r->client[k] = tmem_client_create(r->tm, k ? "b" : "a");
    if (!r->client[k] && errno != ENOMEM)
        fail_msg("%s: tmem_client_create failed with errno %d, not ENOMEM", r->what, errno);
    for (int s = 0; s < SLOTS; s++)
        if (slot_info[s].client == k)
            open_slot(r, s);
}

static void close_client(struct run *r, int k)
{
    tmem_client_destroy(r->client[k]);
    r->client[k] = NULL;
    for (int s = 0; s < SLOTS; s++)
        if (slot_info[s].client == k && r->pool[s] >= 0)
            close_slot(r, s);
}

/* A get of (slot, obj, i) checked against the model. */
static void do_get(struct run *r, int s, uint32_t obj, uint32_t i)
{
    int sp = slot_info[s].store_pool;
    struct tmem_oid oid = tu_oid(obj, 7, 0);
    uint32_t want = r->model[sp][obj][i];
    int rc = tmem_get(r->client[slot_info[s].client], r->pool[s], &oid, index_of(i), r->got);

    if (rc == 0) {
        if (!want)
            fail_msg("%s, op %llu: get of pool %d obj %u index %u found a page where none "
                     "may be (a stale or half-stored copy)",
                     r->what, (unsigned long long)r->ops, sp, obj, i);
        fill_content(r->page, want);
        if (memcmp(r->page, r->got, PAGE) != 0)
            fail_msg("%s, op %llu: get of pool %d obj %u index %u returned wrong bytes",
                     r->what, (unsigned long long)r->ops, sp, obj, i);
        if (sp == 1) /* private ephemeral: the get took it */
            r->model[sp][obj][i] = 0;
    } else {
        if (rc != -ENOENT)
            fail_msg("%s, op %llu: get = %d", r->what, (unsigned long long)r->ops, rc);
        if (want && pool_persistent(sp))
            fail_msg("%s, op %llu: persistent page pool %d obj %u index %u lost", r->what,
                     (unsigned long long)r->ops, sp, obj, i);
        r->model[sp][obj][i] = 0; /* get-get: gone until a new put */
    }
}

static void do_put(struct run *r, int s, uint32_t obj, uint32_t i, uint32_t content)
{
    int sp = slot_info[s].store_pool;
    struct tmem_oid oid = tu_oid(obj, 7, 0);
    int rc;

    fill_content(r->page, content);
    rc = tmem_put(r->client[slot_info[s].client], r->pool[s], &oid, index_of(i), r->page);
    if (rc == 0) {
        r->model[sp][obj][i] = content;
        return;
    }
    if (rc != -ENOMEM && rc != -ENOSPC)
        fail_msg("%s, op %llu: put = %d", r->what, (unsigned long long)r->ops, rc);
    if (rc == -ENOMEM)
        r->puts_enomem++;
    r->model[sp][obj][i] = 0; /* put-put-get: the older copy is gone too */
    /* and really gone: a get must miss now */
    do_get(r, s, obj, i);
}

/* One random operation of the workload. */
static void step(struct run *r, uint64_t *rng)
{
    uint64_t what = tu_rng_below(rng, 100);
    int s = (int)tu_rng_below(rng, SLOTS);
    uint32_t obj = (uint32_t)tu_rng_below(rng, OBJECTS);
    uint32_t i = (uint32_t)tu_rng_below(rng, INDICES);
    uint32_t content = 1 + (uint32_t)tu_rng_below(rng, 40);
    struct tmem_client *c = r->client[slot_info[s].client];
    const char *op = "put";

    r->ops++;
    if (what < 2) {
        op = "client b destroyed and made again";
        close_client(r, 1);
        run_check(r, op);
        open_client(r, 1);
    } else if (what < 5) {
        op = "pool destroyed and made again";
        if (c && r->pool[s] >= 0) {
            assert_int_equal(tmem_destroy_pool(c, r->pool[s]), 0);
            close_slot(r, s);
            run_check(r, op);
        }
        open_slot(r, s);
    } else if (!c || r->pool[s] < 0) {
        op = "pool made again";
        open_slot(r, s);
    } else if (what < 55) {
        do_put(r, s, obj, i, content);
    } else if (what < 85) {
        op = "get";
        do_get(r, s, obj, i);
    } else if (what < 95) {
        struct tmem_oid oid = tu_oid(obj, 7, 0);
        int rc = tmem_flush_page(c, r->pool[s], &oid, index_of(i));
        op = "flush_page";
        if (rc != 0 && rc != -ENOENT)
            fail_msg("%s: flush_page = %d", r->what, rc);
        r->model[slot_info[s].store_pool][obj][i] = 0;
    } else {
        struct tmem_oid oid = tu_oid(obj, 7, 0);
        int rc = tmem_flush_object(c, r->pool[s], &oid);
        op = "flush_object";
        if (rc != 0 && rc != -ENOENT)
            fail_msg("%s: flush_object = %d", r->what, rc);
        memset(r->model[slot_info[s].store_pool][obj], 0, sizeof(r->model[0][0]));
    }
    run_check(r, op);
}

/* Every handle of the model read back at the end (persistent: exact). */
static void verify_all(struct run *r)
{
    for (int s = 0; s < SLOTS; s++) {
        if (!r->client[slot_info[s].client] || r->pool[s] < 0)
            continue;
        for (uint32_t obj = 0; obj < OBJECTS; obj++)
            for (uint32_t i = 0; i < INDICES; i++)
                if (pool_persistent(slot_info[s].store_pool))
                    do_get(r, s, obj, i);
    }
}

struct workload {
    const char *name;
    enum tmem_compressor compressor;
    uint64_t capacity;
    uint64_t seed;
    long ops;
    bool latency; /* latency histograms (64 KiB a client: their allocations are sites too) */
};

/*
 * Run the workload on a store with the given switch. Returns false when
 * the store could not even be made (the failure hit tmem_create: errno
 * ENOMEM checked). *counts: the switch's counts at the end.
 */
static bool run_workload(const struct workload *w, const struct tmem_fault *fault,
                         const char *what, struct tmem_fault_counts *counts)
{
    struct tmem_config cfg;
    struct run *r = calloc(1, sizeof(*r));
    uint64_t rng = w->seed;
    struct tmem_stats st;

    assert_non_null(r);
    tmem_config_init(&cfg);
    cfg.page_size = PAGE;
    cfg.compressor = w->compressor;
    cfg.capacity_bytes = w->capacity;
    cfg.latency_histograms = w->latency;
    cfg.fault = *fault;
    r->what = what;
    r->check_after_failure_only = fault->fail_nth && fault->fail_nth != TMEM_FAULT_COUNT_ONLY;
    r->tm = tmem_create(&cfg);
    if (!r->tm) {
        assert_int_equal(errno, ENOMEM);
        free(r);
        memset(counts, 0, sizeof(*counts));
        return false;
    }
    r->page = tu_page_alloc(PAGE);
    r->got = tu_page_alloc(PAGE);
    for (int s = 0; s < SLOTS; s++)
        r->pool[s] = -1;
    open_client(r, 0);
    open_client(r, 1);
    run_check(r, "clients made");
    for (long k = 0; k < w->ops; k++)
        step(r, &rng);
    verify_all(r);
    assert_int_equal(tmem_stats(r->tm, &st), 0);
    /* every -ENOMEM put is counted as an allocation failure, and only they */
    if (st.failed_puts_alloc != r->puts_enomem)
        fail_msg("%s: failed_puts_alloc %llu, but %llu puts returned -ENOMEM", what,
                 (unsigned long long)st.failed_puts_alloc, (unsigned long long)r->puts_enomem);
    assert_int_equal(tmem_fault_counts(r->tm, counts), 0);
    if (st.alloc_failures != counts->injected)
        fail_msg("%s: alloc_failures %llu, the switch injected %llu", what,
                 (unsigned long long)st.alloc_failures, (unsigned long long)counts->injected);
    r->check_after_failure_only = false;
    run_check(r, "the end");
    tmem_destroy(r->tm);
    free(r->page);
    free(r->got);
    free(r);
    return true;
}

static const struct workload workloads[] = {
    {"unlimited lz4", TMEM_COMPRESSOR_LZ4, TMEM_CAPACITY_UNLIMITED, 101, 150, true},
    {"tight zstd", TMEM_COMPRESSOR_ZSTD, 296 * 1024, 202, 150, false},
};

/* SQLite's style: each allocation of the workload fails in turn. */
static void every_allocation_fails_cleanly(void **state)
{
    long prefix = tu_env_long("TMEM_FAULT_PREFIX", 250);
    (void)state;

    for (size_t k = 0; k < sizeof(workloads) / sizeof(workloads[0]); k++) {
        const struct workload *w = &workloads[k];
        struct tmem_fault fault = {.fail_nth = TMEM_FAULT_COUNT_ONLY};
        struct tmem_fault_counts counts;
        uint64_t total, stride = 1;
        char what[128];

        snprintf(what, sizeof(what), "%s, counting", w->name);
        assert_true(run_workload(w, &fault, what, &counts));
        total = counts.allocations;
        assert_int_equal(counts.injected, 0);
        print_message("%s: %llu allocations, each failed in turn\n", w->name,
                      (unsigned long long)total);
        assert_true(total > 50); /* the workload does allocate */
        if (total > (uint64_t)prefix)
            stride = total / (uint64_t)prefix + 1;
        for (uint64_t n = 1; n <= total; n += stride) {
            fault.fail_nth = n;
            snprintf(what, sizeof(what), "%s, allocation %llu of %llu failing", w->name,
                     (unsigned long long)n, (unsigned long long)total);
            if (!run_workload(w, &fault, what, &counts))
                continue; /* it was tmem_create's: ENOMEM, checked */
            /* the run is the counting run up to the n-th allocation: it was there */
            if (counts.injected != 1)
                fail_msg("%s: the switch injected %llu failures, not 1", what,
                         (unsigned long long)counts.injected);
        }
    }
}

static void random_failures_keep_the_store_whole(void **state)
{
    static const double probabilities[] = {1e-3, 1e-2};
    long ops = tu_env_long("TMEM_FAULT_OPS", 1500);
    uint64_t injected = 0;
    (void)state;

    for (size_t p = 0; p < 2; p++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            struct workload w = workloads[seed % 2];
            struct tmem_fault fault = {.fail_probability = probabilities[p], .seed = seed};
            struct tmem_fault_counts counts;
            char what[128];

            w.ops = ops;
            w.seed = seed * 7919;
            snprintf(what, sizeof(what), "%s, p=%g seed %llu", w.name, probabilities[p],
                     (unsigned long long)seed);
            if (run_workload(&w, &fault, what, &counts))
                injected += counts.injected;
        }
    }
    assert_true(injected > 5); /* failures did happen */
}

static void env_overrides_config(void **state)
{
    struct tmem_config cfg;
    struct tmem *tm;
    struct tmem_fault_counts counts;
    (void)state;

    tmem_config_init(&cfg);
    cfg.fault.fail_nth = 1000000;
    assert_int_equal(setenv("TMEM_FAULT", "nth=1", 1), 0);
    tm = tmem_create(&cfg);
    assert_non_null(tm); /* creating the store allocates nothing of the store's */
    assert_null(tmem_client_create(tm, "x")); /* the first allocation: the env's nth=1 */
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(tmem_fault_counts(tm, &counts), 0);
    assert_int_equal(counts.injected, 1);
    tu_check(tm, "after a failed client creation");
    tmem_destroy(tm);

    assert_int_equal(setenv("TMEM_FAULT", "off", 1), 0);
    tm = tmem_create(&cfg); /* "off" overrides the config's switch too */
    assert_non_null(tm);
    assert_int_equal(tmem_fault_counts(tm, &counts), 0);
    assert_int_equal(counts.allocations, 0);
    tmem_destroy(tm);
    unsetenv("TMEM_FAULT");
}

static void env_bad_value_is_einval(void **state)
{
    static const char *const bad[] = {"nth=0", "nth=x", "p=2", "p=0.1,seed=", "sometimes", "nth=1 "};
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(setenv("TMEM_FAULT", bad[i], 1), 0);
        errno = 0;
        assert_null(tmem_create(NULL));
        assert_int_equal(errno, EINVAL);
    }
    unsetenv("TMEM_FAULT");
}

/* A pool creation that fails returns -ENOMEM and leaves nothing behind. */
static void pool_creation_fails_with_enomem(void **state)
{
    struct tmem_config cfg;
    struct tmem *tm;
    struct tmem_client *c;
    struct tmem_stats st;
    (void)state;

    tmem_config_init(&cfg);
    cfg.fault.fail_nth = 2; /* 1: the client, 2: the pool */
    tm = tmem_create(&cfg);
    assert_non_null(tm);
    c = tmem_client_create(tm, "c");
    assert_non_null(c);
    assert_int_equal(tmem_new_pool(c, TMEM_POOL_PERSIST, NULL), -ENOMEM);
    assert_int_equal(tmem_stats(tm, &st), 0);
    assert_int_equal(st.pools, 0);
    assert_int_equal(st.alloc_failures, 1);
    tu_check(tm, "after a failed pool creation");
    assert_int_equal(tmem_new_pool(c, TMEM_POOL_PERSIST, NULL), 0); /* id 0 still free */
    tu_store_close(tm);
}

static void grammar(void **state)
{
    struct fault_spec s;
    char err[160], buf[64];
    (void)state;

    assert_int_equal(fault_parse("off", &s, err, sizeof(err)), 0);
    assert_int_equal(s.mode, FAULT_OFF);
    assert_int_equal(fault_parse("", &s, err, sizeof(err)), 0);
    assert_int_equal(s.mode, FAULT_OFF);
    assert_int_equal(fault_parse("nth=17", &s, err, sizeof(err)), 0);
    assert_int_equal(s.mode, FAULT_NTH);
    assert_int_equal(s.nth, 17);
    assert_string_equal(fault_format(&s, buf, sizeof(buf)), "nth=17");
    assert_int_equal(fault_parse("p=0.25,seed=9", &s, err, sizeof(err)), 0);
    assert_int_equal(s.mode, FAULT_PROBABILITY);
    assert_true(s.probability == 0.25);
    assert_int_equal(s.seed, 9);
    assert_int_equal(fault_parse("p=1e-3", &s, err, sizeof(err)), 0);
    assert_int_equal(s.seed, 1);
    assert_int_equal(fault_parse("p=0", &s, err, sizeof(err)), 0);
    assert_int_equal(s.mode, FAULT_OFF);
    static const char *const bad[] = {"nth=", "nth=-1", "nth=0", "p=", "p=1.5", "p=-0.1",
                                      "p=0.1,seed=x", "p=0.1,sed=1", "n=1", "on",
                                      "nth=99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (fault_parse(bad[i], &s, err, sizeof(err)) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(err, bad[i][0] ? bad[i] : "fault"));
    }

    /* nth fails exactly the nth event, once */
    struct fault f;
    assert_int_equal(fault_parse("nth=3", &s, err, sizeof(err)), 0);
    fault_init(&f, &s);
    for (int k = 1; k <= 10; k++)
        assert_int_equal(fault_hit(&f), k == 3);
    /* p: about p of the events, the same ones for the same seed */
    struct fault a, b;
    int hits = 0;
    assert_int_equal(fault_parse("p=0.1,seed=5", &s, err, sizeof(err)), 0);
    fault_init(&a, &s);
    fault_init(&b, &s);
    for (int k = 0; k < 10000; k++) {
        bool x = fault_hit(&a);
        assert_int_equal(x, fault_hit(&b));
        hits += x;
    }
    assert_in_range(hits, 800, 1200);
    assert_int_equal(atomic_load(&a.injected), (uint64_t)hits);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grammar),
        cmocka_unit_test(env_bad_value_is_einval),
        cmocka_unit_test(env_overrides_config),
        cmocka_unit_test(pool_creation_fails_with_enomem),
        cmocka_unit_test(every_allocation_fails_cleanly),
        cmocka_unit_test(random_failures_keep_the_store_whole),
    };
    unsetenv("TMEM_FAULT"); /* the tests set their own switches */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
