/*
 * ticker.c - the clock and the stop switch of a periodic thread
 * (ticker.h).
 *
 * Models: the timed sleep of a kernel thread that wakes every interval
 * unless told to stop (kthread_should_stop after a timeout), on POSIX
 * threads.
 * Data structures: struct ticker (a CLOCK_MONOTONIC start, a mutex, a
 * condition variable whose timed waits use CLOCK_MONOTONIC too, the stop
 * flag). Deadlines are absolute (start + seconds), so a late wake-up
 * does not push the later ticks back.
 * Locking: t->lock guards t->stopping and is held only inside these
 * functions, never while calling out; the start is written before any
 * other thread sees t and only read afterwards.
 */
#include "common/ticker.h"

#include <errno.h>

int ticker_init(struct ticker *t, const struct timespec *start)
{
    pthread_condattr_t ca;
    int rc;

    t->stopping = false;
    if (start)
        t->start = *start;
    else
        clock_gettime(CLOCK_MONOTONIC, &t->start);
    rc = pthread_condattr_init(&ca);
    if (rc != 0)
        return -rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return -rc;
    rc = pthread_mutex_init(&t->lock, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&t->cond);
        return -rc;
    }
    return 0;
}

double ticker_seconds_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

double ticker_elapsed(const struct ticker *t)
{
    return ticker_seconds_since(&t->start);
}

/* Past this many seconds a deadline is as good as never (about 31 years;
 * keeps the conversion to time_t defined). */
#define TICKER_MAX_SECONDS 1e9

/* The CLOCK_MONOTONIC time `seconds` after t's start (never before it). */
static struct timespec ticker_deadline(const struct ticker *t, double seconds)
{
    struct timespec at = t->start;
    time_t whole;
    long ns;

    if (!(seconds > 0)) /* also NaN */
        return at;
    if (seconds > TICKER_MAX_SECONDS)
        seconds = TICKER_MAX_SECONDS;
    whole = (time_t)seconds;
    ns = (long)((seconds - (double)whole) * 1e9) + at.tv_nsec;
    at.tv_sec += whole + ns / 1000000000L;
    at.tv_nsec = ns % 1000000000L;
    return at;
}

bool ticker_wait_until(struct ticker *t, double seconds)
{
    struct timespec at = ticker_deadline(t, seconds);
    bool stopped;

    pthread_mutex_lock(&t->lock);
    while (!t->stopping && pthread_cond_timedwait(&t->cond, &t->lock, &at) != ETIMEDOUT)
        ;
    stopped = t->stopping;
    pthread_mutex_unlock(&t->lock);
    return !stopped;
}

void ticker_stop(struct ticker *t)
{
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

void ticker_destroy(struct ticker *t)
{
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
}
