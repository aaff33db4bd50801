/*
 * test_migrate.c - live migration of a swap guest's frontswap to another
 * store (swapsim_guest_migrate, swapsim.h), against the real core.
 *
 * Rules checked (each test names its own):
 *  (a) everything moves: after a migration the destination pool holds
 *      exactly the slots frontswap holds, the source holds none of the
 *      guest's pages, and every later load (and swapoff) verifies;
 *  (b) pages changed while the rounds run are sent again: with the guest
 *      running in another thread during the migration, no load after it
 *      returns an old version (0 mismatches, 0 failed loads) and the
 *      destination holds no copy of a slot invalidated meanwhile, also
 *      with exclusive loads;
 *  (c) nothing is lost when the destination refuses: refused pages go to
 *      the swap file at the stop (pages_to_swapfile), and every page
 *      still verifies; an allocation failure there (-ENOMEM) is such a
 *      refusal, not an error;
 *  (d) bad requests change nothing: frontswap off, a destination store of
 *      another page size.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/rng.h"
#include "swapsim/swapsim.h"

#define RAM 64
#define VPAGES 1024

struct two_hosts {
    struct tmem *src, *dst;
    struct tmem_client *src_client, *dst_client;
    struct swapsim_guest *g;
};

static struct tmem *store(uint64_t capacity, uint32_t page_size)
{
    struct tmem_config tc;
    struct tmem *tm;

    tmem_config_init(&tc);
    tc.capacity_bytes = capacity;
    tc.page_size = page_size;
    tm = tmem_create(&tc);
    assert_non_null(tm);
    return tm;
}

static void setup(struct two_hosts *h, uint64_t dst_capacity, bool exclusive)
{
    struct swapsim_guest_config gc;
    char err[256] = "";

    h->src = store(TMEM_CAPACITY_UNLIMITED, 4096);
    h->dst = store(dst_capacity, 4096);
    h->src_client = tmem_client_create(h->src, "guest@src");
    h->dst_client = tmem_client_create(h->dst, "guest@dst");
    assert_non_null(h->src_client);
    assert_non_null(h->dst_client);
    swapsim_guest_config_init(&gc, RAM, VPAGES);
    gc.exclusive_loads = exclusive;
    gc.quiet = true;
    assert_int_equal(swapsim_guest_create(&gc, h->src_client, &h->g, err, sizeof(err)), 0);
}

static struct swapsim_counters counters(struct swapsim_guest *g)
{
    struct swapsim_counters c;
    swapsim_guest_counters(g, &c);
    return c;
}

/* Swap off and check nothing was lost or wrong; free everything. */
static void finish(struct two_hosts *h)
{
    struct tmem_stats st;
    struct swapsim_counters c;

    assert_int_equal(swapsim_guest_swapoff(h->g), 0);
    c = counters(h->g);
    assert_int_equal(c.mismatches, 0);
    assert_int_equal(c.failed_loads, 0);
    assert_int_equal(c.leaked_slots, 0);
    assert_true(c.pages_verified > 0);
    swapsim_guest_destroy(h->g);
    tmem_client_destroy(h->src_client);
    tmem_client_destroy(h->dst_client);
    assert_int_equal(tmem_stats(h->src, &st), 0);
    assert_int_equal(st.pages, 0);
    assert_int_equal(tmem_stats(h->dst, &st), 0);
    assert_int_equal(st.pages, 0);
    tmem_destroy(h->src);
    tmem_destroy(h->dst);
}

/* n accesses of a random mix (70 % reads) over the address space. */
static void run_accesses(struct swapsim_guest *g, uint64_t seed, uint64_t n)
{
    uint64_t r = seed;

    for (uint64_t i = 0; i < n; i++) {
        struct swapsim_access a = {
            .vpage = (uint32_t)rng_below(&r, VPAGES),
            .op = rng_below(&r, 10) < 7 ? SWAPSIM_READ : SWAPSIM_WRITE,
        };
        assert_int_equal(swapsim_guest_access(g, &a), 0);
    }
}

static void check_invariants(struct swapsim_guest *g)
{
    char err[256] = "";
    if (swapsim_guest_check(g, err, sizeof(err)) != 0)
        fail_msg("invariant broken: %s", err);
}

/* Rule (a): a quiet guest moves whole. */
static void test_everything_moves(void **state)
{
    struct two_hosts h;
    struct swapsim_migrate_stats st;
    struct tmem_stats ps;
    char err[256] = "";
    (void)state;

    setup(&h, TMEM_CAPACITY_UNLIMITED, false);
    run_accesses(h.g, 1, 20000);
    uint64_t held = counters(h.g).frontswap_pages;
    assert_true(held > 100);
    assert_int_equal(swapsim_guest_migrate(h.g, h.dst_client, NULL, &st, err, sizeof(err)), 0);
    assert_int_equal(st.pages_moved, held);
    assert_int_equal(st.pages_sent, held);   /* nothing changed: each sent once */
    assert_int_equal(st.pages_resent, 0);
    assert_int_equal(st.pages_to_swapfile, 0);
    assert_int_equal(st.bytes_sent, held * 4096);
    assert_true(st.rounds >= 1);
    assert_int_equal(tmem_client_stats(h.src_client, &ps), 0);
    assert_int_equal(ps.pages, 0);
    assert_int_equal(tmem_pool_stats(h.dst_client, swapsim_guest_pool(h.g), &ps), 0);
    assert_int_equal(ps.pages, held);
    check_invariants(h.g);
    run_accesses(h.g, 2, 20000); /* loads now come from the destination */
    check_invariants(h.g);
    assert_true(counters(h.g).loads > 0);
    finish(&h);
}

struct runner {
    struct swapsim_guest *g;
    atomic_int stop;
    atomic_uint_fast64_t done;
    atomic_int ret;
};

static void *guest_thread(void *arg)
{
    struct runner *r = arg;
    uint64_t rng = 99;

    while (!atomic_load(&r->stop)) {
        struct swapsim_access a = {
            .vpage = (uint32_t)rng_below(&rng, VPAGES),
            .op = rng_below(&rng, 10) < 6 ? SWAPSIM_READ : SWAPSIM_WRITE,
        };
        int ret = swapsim_guest_access(r->g, &a);
        if (ret != 0) {
            atomic_store(&r->ret, ret);
            break;
        }
        atomic_fetch_add(&r->done, 1);
    }
    return NULL;
}

/* Rule (b): the guest keeps running (and changing its frontswap pages)
 * in another thread during the migration. */
static void migrate_while_running(bool exclusive)
{
    struct two_hosts h;
    struct swapsim_migrate_stats st;
    struct swapsim_migrate_options o = { .max_rounds = 6, .stop_pages = 16, .batch = 8 };
    struct runner r = { 0 };
    pthread_t t;
    char err[256] = "";

    setup(&h, TMEM_CAPACITY_UNLIMITED, exclusive);
    run_accesses(h.g, 3, 20000);
    r.g = h.g;
    assert_int_equal(pthread_create(&t, NULL, guest_thread, &r), 0);
    while (atomic_load(&r.done) < 2000) /* let it get going */
        sched_yield();
    assert_int_equal(swapsim_guest_migrate(h.g, h.dst_client, &o, &st, err, sizeof(err)), 0);
    uint64_t during = atomic_load(&r.done);
    while (atomic_load(&r.done) < during + 20000 && atomic_load(&r.ret) == 0)
        sched_yield();
    atomic_store(&r.stop, 1);
    pthread_join(t, NULL);
    assert_int_equal(atomic_load(&r.ret), 0);
    assert_true(st.rounds >= 1);
    assert_true(st.pages_sent >= st.pages_moved);
    /* no stray copy of a slot that changed during the rounds: the
     * destination pool holds exactly what frontswap holds */
    struct tmem_stats ps;
    assert_int_equal(tmem_pool_stats(h.dst_client, swapsim_guest_pool(h.g), &ps), 0);
    assert_int_equal(ps.pages, counters(h.g).frontswap_pages);
    check_invariants(h.g);
    finish(&h);
}

static void test_changes_during_the_rounds_are_sent_again(void **state)
{
    (void)state;
    migrate_while_running(false);
}

static void test_changes_during_the_rounds_exclusive_loads(void **state)
{
    (void)state;
    migrate_while_running(true);
}

/* Rule (c): a destination with room for about 50 pages. */
static void test_refused_pages_go_to_the_swap_file(void **state)
{
    struct two_hosts h;
    struct swapsim_migrate_stats st;
    char err[256] = "";
    (void)state;

    setup(&h, 50 * 4096 + 64 * 1024, false);
    run_accesses(h.g, 4, 20000);
    uint64_t held = counters(h.g).frontswap_pages;
    uint64_t written = counters(h.g).pswpout;
    assert_int_equal(swapsim_guest_migrate(h.g, h.dst_client, NULL, &st, err, sizeof(err)), 0);
    assert_true(st.pages_refused > 0);
    assert_true(st.pages_to_swapfile > 0);
    assert_int_equal(st.pages_moved + st.pages_to_swapfile, held);
    assert_int_equal(counters(h.g).pswpout, written + st.pages_to_swapfile);
    assert_int_equal(counters(h.g).frontswap_pages, st.pages_moved);
    check_invariants(h.g);
    run_accesses(h.g, 5, 20000);
    check_invariants(h.g);
    finish(&h);
}

/* Rule (c) again, with allocation failures: a destination whose
 * allocations fail now and then (tmem_config.fault) answers some puts
 * with -ENOMEM; that is a refusal (tmem.h), so those pages go to the swap
 * file at the stop like the ones refused for room, and nothing fails. */
static void test_allocation_failures_at_the_destination_are_refusals(void **state)
{
    struct two_hosts h;
    struct swapsim_migrate_stats st;
    struct tmem_fault_counts fc;
    struct tmem_config tc;
    char err[256] = "";
    (void)state;

    setup(&h, TMEM_CAPACITY_UNLIMITED, false);
    tmem_client_destroy(h.dst_client);
    tmem_destroy(h.dst);
    tmem_config_init(&tc);
    tc.fault.fail_probability = 0.02;
    tc.fault.seed = 11;
    h.dst = tmem_create(&tc);
    assert_non_null(h.dst);
    h.dst_client = tmem_client_create(h.dst, "guest@dst");
    assert_non_null(h.dst_client);
    run_accesses(h.g, 8, 20000);
    uint64_t held = counters(h.g).frontswap_pages;
    assert_int_equal(swapsim_guest_migrate(h.g, h.dst_client, NULL, &st, err, sizeof(err)), 0);
    assert_int_equal(tmem_fault_counts(h.dst, &fc), 0);
    assert_true(fc.injected > 0);
    assert_true(st.pages_refused > 0);
    assert_int_equal(st.pages_moved + st.pages_to_swapfile, held);
    assert_int_equal(counters(h.g).frontswap_pages, st.pages_moved);
    check_invariants(h.g);
    run_accesses(h.g, 9, 20000);
    check_invariants(h.g);
    finish(&h);
}

/* Rule (d): frontswap off, or another page size: an error, nothing moved. */
static void test_bad_requests_change_nothing(void **state)
{
    struct two_hosts h;
    struct swapsim_guest_config gc;
    struct swapsim_guest *off;
    struct tmem *other = store(TMEM_CAPACITY_UNLIMITED, 8192);
    struct tmem_client *oc = tmem_client_create(other, "8k");
    struct tmem_stats ps;
    char err[256] = "";
    (void)state;

    setup(&h, TMEM_CAPACITY_UNLIMITED, false);
    run_accesses(h.g, 6, 5000);
    uint64_t held = counters(h.g).frontswap_pages;
    assert_int_equal(swapsim_guest_migrate(h.g, oc, NULL, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "8192 bytes"));
    assert_int_equal(counters(h.g).frontswap_pages, held);
    assert_int_equal(tmem_client_stats(oc, &ps), 0);
    assert_int_equal(ps.pages, 0);

    swapsim_guest_config_init(&gc, RAM, VPAGES);
    gc.frontswap = false;
    gc.quiet = true;
    assert_int_equal(swapsim_guest_create(&gc, NULL, &off, err, sizeof(err)), 0);
    assert_int_equal(swapsim_guest_migrate(off, h.dst_client, NULL, NULL, err, sizeof(err)),
                     -ENODEV);
    swapsim_guest_destroy(off);
    tmem_client_destroy(oc);
    tmem_destroy(other);
    run_accesses(h.g, 7, 5000);
    finish(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_everything_moves),
        cmocka_unit_test(test_changes_during_the_rounds_are_sent_again),
        cmocka_unit_test(test_changes_during_the_rounds_exclusive_loads),
        cmocka_unit_test(test_refused_pages_go_to_the_swap_file),
        cmocka_unit_test(test_allocation_failures_at_the_destination_are_refusals),
        cmocka_unit_test(test_bad_requests_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
