/*
 * test_replace.c - the guest kernel's page replacement (src/guest/replace.h),
 * shared by tmemfs's page cache and tmem-swapsim's RAM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/replace.h"
#include "../support/testutil.h"

/* Rule: a sequential fill then more pages evicts in FIFO order under
 * both policies (nothing was touched twice). */
static void test_replace_sequential_is_fifo(void **state)
{
    enum guest_replace_policy pol[2] = { GUEST_REPLACE_CLOCK, GUEST_REPLACE_LRU };

    (void)state;
    for (int p = 0; p < 2; p++) {
        struct guest_replace r;

        assert_int_equal(guest_replace_init(&r, pol[p], 4), 0);
        assert_int_equal(guest_replace_victim(&r), GUEST_REPLACE_NONE);
        for (uint32_t f = 0; f < 4; f++)
            guest_replace_insert(&r, f);
        for (uint32_t k = 0; k < 8; k++) {
            uint32_t v = guest_replace_victim(&r);
            assert_int_equal(v, k % 4);
            guest_replace_remove(&r, v);
            guest_replace_insert(&r, v);
        }
        guest_replace_destroy(&r);
    }
}

/* Rule: LRU evicts exactly the least recently used frame; CLOCK gives a
 * referenced frame a second chance (it survives one sweep). */
static void test_replace_touch_protects(void **state)
{
    struct guest_replace r;

    (void)state;
    assert_int_equal(guest_replace_init(&r, GUEST_REPLACE_LRU, 3), 0);
    for (uint32_t f = 0; f < 3; f++)
        guest_replace_insert(&r, f);
    guest_replace_touch(&r, 0);          /* order: 1 2 0 */
    assert_int_equal(guest_replace_victim(&r), 1);
    guest_replace_remove(&r, 1);
    assert_int_equal(guest_replace_victim(&r), 2);
    guest_replace_touch(&r, 2);          /* order: 0 2 */
    assert_int_equal(guest_replace_victim(&r), 0);
    guest_replace_destroy(&r);

    assert_int_equal(guest_replace_init(&r, GUEST_REPLACE_CLOCK, 3), 0);
    for (uint32_t f = 0; f < 3; f++)
        guest_replace_insert(&r, f);
    /* every bit set: the first sweep clears them, frame 0 goes */
    assert_int_equal(guest_replace_victim(&r), 0);
    guest_replace_remove(&r, 0);
    guest_replace_insert(&r, 0);         /* referenced again */
    guest_replace_touch(&r, 1);          /* second chance for 1 */
    assert_int_equal(guest_replace_victim(&r), 2);
    guest_replace_destroy(&r);
}

/* Rule: the victim is always a frame in use, removed frames are never
 * chosen, and LRU's victim is the least recently used of a random
 * history (checked against a timestamp model). */
static void test_replace_random_against_model(void **state)
{
    enum { F = 32 };
    enum guest_replace_policy pol[2] = { GUEST_REPLACE_CLOCK, GUEST_REPLACE_LRU };
    uint64_t rng = 7;

    (void)state;
    for (int p = 0; p < 2; p++) {
        struct guest_replace r;
        uint64_t last_use[F], now = 0;
        bool used[F];

        memset(used, 0, sizeof(used));
        assert_int_equal(guest_replace_init(&r, pol[p], F), 0);
        for (int step = 0; step < 20000; step++) {
            uint32_t f = (uint32_t)tu_rng_below(&rng, F);
            unsigned op = (unsigned)tu_rng_below(&rng, 3);

            now++;
            if (!used[f]) {
                guest_replace_insert(&r, f);
                used[f] = true;
                last_use[f] = now;
            } else if (op == 0) {
                guest_replace_remove(&r, f);
                used[f] = false;
            } else if (op == 1) {
                guest_replace_touch(&r, f);
                last_use[f] = now;
            } else {
                uint32_t v = guest_replace_victim(&r), oldest = GUEST_REPLACE_NONE;
                assert_true(v < F);
                assert_true(used[v]);
                assert_true(guest_replace_in_use(&r, v));
                for (uint32_t g = 0; g < F; g++)
                    if (used[g] && (oldest == GUEST_REPLACE_NONE || last_use[g] < last_use[oldest]))
                        oldest = g;
                if (pol[p] == GUEST_REPLACE_LRU)
                    assert_int_equal(v, oldest);
                guest_replace_remove(&r, v);
                used[v] = false;
            }
        }
        guest_replace_destroy(&r);
    }
}

/* Rule: the policy names are "clock" and "lru" and nothing else; bad
 * arguments to init are -EINVAL. */
static void test_replace_names_and_bad_arguments(void **state)
{
    enum guest_replace_policy p = GUEST_REPLACE_LRU;
    struct guest_replace r;

    (void)state;
    assert_int_equal(guest_replace_parse("clock", &p), 0);
    assert_int_equal(p, GUEST_REPLACE_CLOCK);
    assert_int_equal(guest_replace_parse("lru", &p), 0);
    assert_int_equal(p, GUEST_REPLACE_LRU);
    assert_int_equal(guest_replace_parse("LRU", &p), -EINVAL);
    assert_int_equal(guest_replace_parse("fifo", &p), -EINVAL);
    assert_int_equal(guest_replace_parse(NULL, &p), -EINVAL);
    assert_string_equal(guest_replace_name(GUEST_REPLACE_CLOCK), "clock");
    assert_string_equal(guest_replace_name(GUEST_REPLACE_LRU), "lru");
    assert_int_equal(guest_replace_init(&r, GUEST_REPLACE_LRU, 0), -EINVAL);
    assert_int_equal(guest_replace_init(&r, (enum guest_replace_policy)7, 4), -EINVAL);
    guest_replace_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace_sequential_is_fifo),
        cmocka_unit_test(test_replace_touch_protects),
        cmocka_unit_test(test_replace_random_against_model),
        cmocka_unit_test(test_replace_names_and_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
