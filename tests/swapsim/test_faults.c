/*
 * test_faults.c - swap file faults in the swap simulator (swapdev.c's
 * injection, guest.c's handling; docs/swapsim.md "Failure behaviour").
 * One test per rule:
 *  - short_transfers_complete: a pread/pwrite moving less than asked is
 *    continued until the page is whole (the device's loop), byte exact.
 *  - injected_errors_fail_one_transfer: "nth=N" fails exactly the N-th
 *    page transfer with EIO (or ENOSPC for writes); a failed write leaves
 *    the slot not on disk; the next transfer works.
 *  - transient_write_error_is_retried: one failed swap-out write is
 *    counted (swap_write_errors 1) and retried; the run goes on, every page
 *    verifies, swapoff finds no mismatch and no leak.
 *  - persistent_write_error_keeps_the_page_in_ram: a swap-out whose write
 *    fails every try stops the run with "slot N: write error" and leaves
 *    the page resident, dirty, without a slot (the guest's invariants
 *    hold): never dropped. Also with write-through (the frontswap copy is
 *    taken back with the slot).
 *  - shrink_write_error_keeps_the_page_in_frontswap: a shrink whose write
 *    fails every try leaves the page in frontswap.
 *  - read_error_fails_the_access: a swap-in whose read fails every try
 *    fails that access with "slot N: read error", the run stops, no wrong
 *    byte is ever handed out (mismatches 0).
 *  - random_faults_never_lose_a_page: random EIO/ENOSPC/short faults on
 *    reads and writes over a random workload, frontswap on and off: every
 *    load verifies; the run either finishes (swapoff: 0 mismatches, no
 *    leak) or stops with a read/write error message, its invariants whole.
 *  - the option grammar (swapsim_io_fault_parse).
 * Mutations checked against (each failed a test here, then was undone):
 * the device loop taking a short transfer as the whole page; a failed
 * swap-out leaving its slot allocated (the old behaviour); SWAP_IO_TRIES
 * 1 (no retry); a shrink invalidating its frontswap copy before a failed
 * write; a failed read's frame mapped anyway.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/rng.h"
#include "swapsim/swapsim.h"
#include "swapsim/swapsim_internal.h"

struct fixture {
    struct tmem *tm;
    struct tmem_client *client;
    struct swapsim_guest *g;
};

static struct swapsim_io_fault io_fault(const char *text, bool write)
{
    struct swapsim_io_fault f;
    char err[256];
    if (swapsim_io_fault_parse(text, write, &f, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", text, err);
    return f;
}

static void setup(struct fixture *fx, bool frontswap, bool write_through, uint64_t capacity,
                  const char *write_fault, const char *read_fault)
{
    struct tmem_config tc;
    struct swapsim_guest_config gc;
    char err[256] = "";

    tmem_config_init(&tc);
    tc.capacity_bytes = capacity;
    fx->tm = tmem_create(&tc);
    assert_non_null(fx->tm);
    fx->client = tmem_client_create(fx->tm, "t");
    assert_non_null(fx->client);
    swapsim_guest_config_init(&gc, 4, 48);
    gc.frontswap = frontswap;
    gc.write_through = write_through;
    gc.quiet = true;
    gc.write_fault = io_fault(write_fault, true);
    gc.read_fault = io_fault(read_fault, false);
    if (swapsim_guest_create(&gc, frontswap ? fx->client : NULL, &fx->g, err, sizeof(err)))
        fail_msg("guest: %s", err);
}

static void teardown(struct fixture *fx)
{
    swapsim_guest_destroy(fx->g);
    tmem_client_destroy(fx->client);
    tmem_destroy(fx->tm);
}

static int access_page(struct swapsim_guest *g, uint32_t v, enum swapsim_op op)
{
    struct swapsim_access a = {.vpage = v, .op = op};
    return swapsim_guest_access(g, &a);
}

static void check(struct swapsim_guest *g)
{
    char err[256] = "";
    if (swapsim_guest_check(g, err, sizeof(err)) != 0)
        fail_msg("guest invariant broken: %s", err);
}

static struct swapsim_counters counters(struct swapsim_guest *g)
{
    struct swapsim_counters c;
    swapsim_guest_counters(g, &c);
    return c;
}

/* ---------------------------------------------------------- the device */

static struct swapsim_swapdev *device(const char *write_fault, const char *read_fault)
{
    struct swapsim_swapdev *sd;
    char err[256];
    struct swapsim_io_fault w = io_fault(write_fault, true), r = io_fault(read_fault, false);

    assert_int_equal(swapsim_swapdev_create(NULL, 8, 4096, &sd, err, sizeof(err)), 0);
    swapsim_swapdev_set_faults(sd, &w, &r);
    return sd;
}

static void short_transfers_complete(void **state)
{
    struct swapsim_swapdev *sd = device("short:p=1", "short:p=1");
    unsigned char page[4096], back[4096];
    uint32_t s;
    uint64_t rng = 5;
    (void)state;

    for (size_t i = 0; i < sizeof(page); i += 8) {
        uint64_t w = rng_next(&rng);
        memcpy(page + i, &w, 8);
    }
    assert_int_equal(swapsim_swapdev_alloc(sd, 1, &s), 0);
    assert_int_equal(swapsim_swapdev_write(sd, s, page), 0);
    assert_true(swapsim_swapdev_on_disk(sd, s));
    memset(back, 0, sizeof(back));
    assert_int_equal(swapsim_swapdev_read(sd, s, back), 0);
    assert_memory_equal(page, back, sizeof(page));
    swapsim_swapdev_destroy(sd);
}

static void injected_errors_fail_one_transfer(void **state)
{
    struct swapsim_swapdev *sd = device("nth=2", "nth=1");
    unsigned char page[4096], back[4096];
    uint32_t a, b;
    (void)state;

    memset(page, 0x5a, sizeof(page));
    assert_int_equal(swapsim_swapdev_alloc(sd, 1, &a), 0);
    assert_int_equal(swapsim_swapdev_alloc(sd, 2, &b), 0);
    assert_int_equal(swapsim_swapdev_write(sd, a, page), 0);      /* write 1 */
    assert_int_equal(swapsim_swapdev_write(sd, b, page), -EIO);   /* write 2: injected */
    assert_false(swapsim_swapdev_on_disk(sd, b));                  /* not written */
    assert_int_equal(swapsim_swapdev_write(sd, b, page), 0);      /* write 3 */
    assert_int_equal(swapsim_swapdev_read(sd, a, back), -EIO);    /* read 1: injected */
    assert_int_equal(swapsim_swapdev_read(sd, a, back), 0);       /* read 2 */
    assert_memory_equal(page, back, sizeof(page));
    swapsim_swapdev_destroy(sd);

    sd = device("enospc:nth=1", "off");
    assert_int_equal(swapsim_swapdev_alloc(sd, 1, &a), 0);
    assert_int_equal(swapsim_swapdev_write(sd, a, page), -ENOSPC);
    assert_false(swapsim_swapdev_on_disk(sd, a));
    swapsim_swapdev_destroy(sd);
}

/* ---------------------------------------------------------- the guest */

static void transient_write_error_is_retried(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;
    (void)state;

    setup(&fx, false, false, TMEM_CAPACITY_UNLIMITED, "nth=1", "off");
    for (uint32_t v = 0; v < 48; v++)
        assert_int_equal(access_page(fx.g, v, SWAPSIM_WRITE), 0);
    for (uint32_t v = 0; v < 48; v++)
        assert_int_equal(access_page(fx.g, v, SWAPSIM_READ), 0);
    check(fx.g);
    assert_int_equal(swapsim_guest_swapoff(fx.g), 0);
    c = counters(fx.g);
    assert_int_equal(c.swap_write_errors, 1);
    assert_int_equal(c.mismatches, 0);
    assert_true(c.pages_verified > 40);
    assert_int_equal(c.leaked_slots, 0);
    teardown(&fx);
}

static void write_error_keeps_page(bool write_through)
{
    struct fixture fx;
    struct swapsim_counters c;
    int rc = 0;
    uint32_t v;

    /* write-through: frontswap on (it needs it); plain swap otherwise */
    setup(&fx, write_through, write_through, TMEM_CAPACITY_UNLIMITED, "p=1", "off");
    for (v = 0; v < 48 && rc == 0; v++)
        rc = access_page(fx.g, v, SWAPSIM_WRITE);
    assert_int_equal(rc, -EIO);
    assert_non_null(strstr(swapsim_guest_error(fx.g), "write error"));
    assert_non_null(strstr(swapsim_guest_error(fx.g), "stays in RAM"));
    check(fx.g); /* the page: resident, dirty, no slot; no slot leaked */
    c = counters(fx.g);
    assert_int_equal(c.swap_write_errors, 3); /* tried 3 times */
    assert_int_equal(c.pswpout, 0);
    assert_int_equal(c.mismatches, 0);
    assert_int_equal(c.slots_used, 0);
    assert_int_equal(access_page(fx.g, 0, SWAPSIM_READ), -EIO); /* the run has stopped */
    teardown(&fx);
}

static void persistent_write_error_keeps_the_page_in_ram(void **state)
{
    (void)state;
    write_error_keeps_page(false);
    write_error_keeps_page(true);
}

static void shrink_write_error_keeps_the_page_in_frontswap(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;
    uint64_t before;
    (void)state;

    setup(&fx, true, false, TMEM_CAPACITY_UNLIMITED, "p=1", "off");
    for (uint32_t v = 0; v < 12; v++) /* 8 go to frontswap, no file write */
        assert_int_equal(access_page(fx.g, v, SWAPSIM_WRITE), 0);
    c = counters(fx.g);
    before = c.frontswap_pages;
    assert_true(before >= 8);
    assert_true(swapsim_guest_shrink(fx.g, 1) < 0);
    assert_non_null(strstr(swapsim_guest_error(fx.g), "stays in frontswap"));
    check(fx.g);
    c = counters(fx.g);
    assert_int_equal(c.frontswap_pages, before); /* nothing given back, nothing lost */
    assert_int_equal(c.swap_write_errors, 3);
    teardown(&fx);
}

static void read_error_fails_the_access(void **state)
{
    struct fixture fx;
    struct swapsim_counters c;
    int rc = 0;
    (void)state;

    setup(&fx, false, false, TMEM_CAPACITY_UNLIMITED, "off", "p=1");
    for (uint32_t v = 0; v < 48; v++)
        assert_int_equal(access_page(fx.g, v, SWAPSIM_WRITE), 0);
    rc = access_page(fx.g, 0, SWAPSIM_READ); /* swapped out long ago: a read */
    assert_int_equal(rc, -EIO);
    assert_non_null(strstr(swapsim_guest_error(fx.g), "read error"));
    check(fx.g);
    c = counters(fx.g);
    assert_int_equal(c.swap_read_errors, 3);
    assert_int_equal(c.pswpin, 0);
    assert_int_equal(c.mismatches, 0);
    assert_int_equal(c.pages_verified, 0); /* nothing was handed out */
    teardown(&fx);
}

static void random_faults_never_lose_a_page(void **state)
{
    static const struct {
        const char *write, *read;
        bool frontswap;
        uint64_t capacity;
    } cases[] = {
        {"p=0.05,seed=1", "p=0.01,seed=2", false, 0},
        {"enospc:p=0.05,seed=3", "short:p=0.5,seed=4", false, 0},
        {"short:p=0.5,seed=5", "p=0.05,seed=6", true, 16 * 4096},
        {"p=0.05,seed=7", "p=0.01,seed=8", true, 8 * 4096},
        {"p=0.3,seed=9", "p=0.3,seed=10", true, 8 * 4096}, /* stops early */
    };
    uint64_t errors = 0;
    (void)state;

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct fixture fx;
        struct swapsim_counters c;
        uint64_t rng = 1000 + k;
        int rc = 0;

        setup(&fx, cases[k].frontswap, false,
              cases[k].capacity ? cases[k].capacity : TMEM_CAPACITY_UNLIMITED, cases[k].write,
              cases[k].read);
        for (int i = 0; i < 3000 && rc == 0; i++)
            rc = access_page(fx.g, (uint32_t)rng_below(&rng, 48),
                             rng_below(&rng, 3) ? SWAPSIM_READ : SWAPSIM_WRITE);
        if (rc == 0) {
            rc = swapsim_guest_swapoff(fx.g); /* loads and verifies every page */
        }
        c = counters(fx.g);
        print_message("case %zu: %s; %llu write and %llu read errors, %llu pages verified\n", k,
                      rc ? swapsim_guest_error(fx.g) : "finished",
                      (unsigned long long)c.swap_write_errors,
                      (unsigned long long)c.swap_read_errors,
                      (unsigned long long)c.pages_verified);
        if (rc != 0) { /* stopped: by a clear I/O error, never by a lost page */
            const char *e = swapsim_guest_error(fx.g);
            if (!strstr(e, "read error") && !strstr(e, "write error"))
                fail_msg("case %zu stopped with: %s", k, e);
            check(fx.g);
        } else {
            assert_int_equal(c.leaked_slots, 0);
        }
        assert_int_equal(c.mismatches, 0);
        assert_int_equal(c.failed_loads, 0);
        errors += c.swap_write_errors + c.swap_read_errors;
        teardown(&fx);
    }
    assert_true(errors > 20);
}

static void grammar(void **state)
{
    struct swapsim_io_fault f;
    char err[256];
    (void)state;

    f = io_fault("enospc:nth=3", true);
    assert_int_equal(f.kind, SWAPSIM_IO_FAULT_ENOSPC);
    assert_int_equal(f.when.mode, FAULT_NTH);
    assert_int_equal(f.when.nth, 3);
    f = io_fault("short:p=0.5,seed=2", false);
    assert_int_equal(f.kind, SWAPSIM_IO_FAULT_SHORT);
    assert_int_equal(f.when.mode, FAULT_PROBABILITY);
    f = io_fault("p=0.1", false);
    assert_int_equal(f.kind, SWAPSIM_IO_FAULT_EIO);
    f = io_fault("off", true);
    assert_int_equal(f.when.mode, FAULT_OFF);
    assert_int_equal(swapsim_io_fault_parse("enospc:nth=1", false, &f, err, sizeof(err)),
                     -EINVAL); /* reads have no ENOSPC */
    assert_int_equal(swapsim_io_fault_parse("eio:", true, &f, err, sizeof(err)), 0);
    assert_int_equal(swapsim_io_fault_parse("bad:nth=1", true, &f, err, sizeof(err)), -EINVAL);
    assert_int_equal(swapsim_io_fault_parse("nth=0", true, &f, err, sizeof(err)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grammar),
        cmocka_unit_test(short_transfers_complete),
        cmocka_unit_test(injected_errors_fail_one_transfer),
        cmocka_unit_test(transient_write_error_is_retried),
        cmocka_unit_test(persistent_write_error_keeps_the_page_in_ram),
        cmocka_unit_test(shrink_write_error_keeps_the_page_in_frontswap),
        cmocka_unit_test(read_error_fails_the_access),
        cmocka_unit_test(random_faults_never_lose_a_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
