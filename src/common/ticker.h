/*
 * ticker.h - the clock and the stop switch of a periodic thread.
 *
 * A thread that does something every so often (a status line, a
 * statistics sample, a pressure step) needs the same four things: a start
 * time, the seconds since it, a wait until the next tick that another
 * thread can cut short, and that other thread's way to cut it short. A
 * struct ticker holds them; the caller keeps its own thread:
 *
 *     ticker_init(&t, NULL);
 *     pthread_create(&thread, NULL, loop, ...);
 *         loop: for (next = interval; ticker_wait_until(&t, next); next += interval)
 *                   do_the_work(ticker_elapsed(&t));
 *     ticker_stop(&t);  pthread_join(thread, NULL);  ticker_destroy(&t);
 *
 * Times are seconds (double) on CLOCK_MONOTONIC, so changes of the wall
 * clock neither hurry nor stall a ticker.
 *
 * Thread safety: ticker_init and ticker_destroy by the owner, while no
 * other thread uses the ticker. ticker_elapsed, ticker_wait_until and
 * ticker_stop from any number of threads at once.
 */
#ifndef COMMON_TICKER_H
#define COMMON_TICKER_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

struct ticker {
    struct timespec start; /* CLOCK_MONOTONIC; set by ticker_init, then read only */
    pthread_mutex_t lock;  /* guards stopping */
    pthread_cond_t cond;   /* on CLOCK_MONOTONIC; signalled by ticker_stop */
    bool stopping;         /* ticker_stop was called */
};

/*
 * Set t up: not stopped, its start at *start (a CLOCK_MONOTONIC time, so
 * several tickers and the caller can share one origin) or, when start is
 * NULL, now. Returns 0, or -errno when the mutex or the condition
 * variable cannot be made (nothing is left to destroy then).
 */
int ticker_init(struct ticker *t, const struct timespec *start);

/* Seconds from *start (a CLOCK_MONOTONIC time) to now. */
double ticker_seconds_since(const struct timespec *start);

/* Seconds from t's start to now. */
double ticker_elapsed(const struct ticker *t);

/*
 * Sleep until `seconds` after t's start (at once if that time has
 * passed) or until ticker_stop, whichever comes first. Returns true when
 * the time came (at least `seconds` have elapsed), false once t is
 * stopped (also when it was stopped before the call: a stopped ticker
 * never waits).
 */
bool ticker_wait_until(struct ticker *t, double seconds);

/* Stop t: every ticker_wait_until, now and later, returns false at once.
 * Idempotent. */
void ticker_stop(struct ticker *t);

/* Free what ticker_init made (no thread may still use t). */
void ticker_destroy(struct ticker *t);

#endif /* COMMON_TICKER_H */
