/*
 * test_ticker.c - the clock and stop switch of periodic threads
 * (src/common/ticker.h): elapsed seconds grow from the start, a wait
 * lasts until its time, a stop wakes a waiter at once and every later
 * wait returns false.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "common/ticker.h"

/* Rule: ticker_elapsed is the seconds since the start: about 0 right
 * after init, never decreasing, at least the time slept later; with a
 * given start it counts from that start. */
static void test_ticker_elapsed_grows(void **state)
{
    struct ticker t;
    struct timespec nap = {0, 30 * 1000 * 1000}, earlier;
    double a, b;

    (void)state;
    assert_int_equal(ticker_init(&t, NULL), 0);
    a = ticker_elapsed(&t);
    assert_true(a >= 0 && a < 0.5);
    nanosleep(&nap, NULL);
    b = ticker_elapsed(&t);
    assert_true(b >= a + 0.03);
    assert_true(b < a + 5);
    ticker_destroy(&t);

    clock_gettime(CLOCK_MONOTONIC, &earlier);
    earlier.tv_sec -= 10;
    assert_int_equal(ticker_init(&t, &earlier), 0);
    a = ticker_elapsed(&t);
    assert_true(a >= 10 && a < 15);
    assert_true(ticker_seconds_since(&earlier) >= a);
    ticker_destroy(&t);
}

/* Rule: ticker_wait_until returns true, and only once at least that many
 * seconds since the start have passed (a deadline in the past: at once),
 * so successive ticks keep their schedule. */
static void test_ticker_wait_until_returns_true_after_the_time(void **state)
{
    struct ticker t;
    double after;

    (void)state;
    assert_int_equal(ticker_init(&t, NULL), 0);
    for (int k = 1; k <= 3; k++) {
        assert_true(ticker_wait_until(&t, 0.04 * k));
        after = ticker_elapsed(&t);
        assert_true(after >= 0.04 * k);
        assert_true(after < 0.04 * k + 2); /* generous: a loaded machine */
    }
    assert_true(ticker_wait_until(&t, 0.01)); /* passed already */
    assert_true(ticker_wait_until(&t, 0));
    assert_true(ticker_wait_until(&t, -1));
    ticker_destroy(&t);
}

struct waiter {
    struct ticker *t;
    double seconds;   /* waited for */
    bool result;      /* what ticker_wait_until returned */
    double woke;      /* elapsed when it returned */
};

static void *waiter_thread(void *arg)
{
    struct waiter *w = arg;

    w->result = ticker_wait_until(w->t, w->seconds);
    w->woke = ticker_elapsed(w->t);
    return NULL;
}

/* Rule: ticker_stop from another thread wakes every waiter at once (long
 * before its deadline) and makes its wait return false; a wait after the
 * stop returns false without waiting; stop is idempotent. */
static void test_ticker_stop_wakes_waiters(void **state)
{
    struct ticker t;
    struct waiter w[2];
    pthread_t th[2];
    struct timespec nap = {0, 50 * 1000 * 1000};
    double stopped_at;

    (void)state;
    assert_int_equal(ticker_init(&t, NULL), 0);
    for (int i = 0; i < 2; i++) {
        w[i] = (struct waiter){.t = &t, .seconds = 60};
        assert_int_equal(pthread_create(&th[i], NULL, waiter_thread, &w[i]), 0);
    }
    nanosleep(&nap, NULL); /* let them wait */
    stopped_at = ticker_elapsed(&t);
    ticker_stop(&t);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_false(w[i].result);
        assert_true(w[i].woke >= stopped_at);
        assert_true(w[i].woke < stopped_at + 2); /* not the 60 s deadline */
    }
    assert_false(ticker_wait_until(&t, 60));
    assert_false(ticker_wait_until(&t, 0)); /* even when the time has come */
    ticker_stop(&t);
    assert_false(ticker_wait_until(&t, 0));
    assert_true(ticker_elapsed(&t) < stopped_at + 2);
    ticker_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticker_elapsed_grows),
        cmocka_unit_test(test_ticker_wait_until_returns_true_after_the_time),
        cmocka_unit_test(test_ticker_stop_wakes_waiters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
