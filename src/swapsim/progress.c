/*
 * progress.c - the status line of a run in progress, on a terminal.
 *
 * Models: what `dd status=progress` does: one line on stderr, rewritten in
 * place (a carriage return, then the new text padded over the old) every
 * half second, erased when the run ends, so a long run shows that it
 * moves and how far it is. Only on a terminal: a file or a pipe gets
 * nothing (isatty), so logs and scripts see no control characters.
 * Data structures: struct swapsim_status (the thread, its stop flag, the
 * width of the line printed last). The numbers come from a struct
 * swapsim_progress the run updates (relaxed atomics, swapsim.h).
 * Locking: st->lock and st->cond let stop wake the thread at once; the
 * line is written by the thread while it runs and by stop after it
 * ended, never both.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "swapsim/swapsim.h"

int swapsim_progress_format(char *buf, size_t size, int run, uint64_t accesses,
                            uint64_t total, uint64_t faults, double elapsed)
{
    const char *what = run == 2 ? "baseline run (frontswap off)" : "frontswap run";

    if (total)
        return snprintf(buf, size, "%s: %" PRIu64 "/%" PRIu64 " accesses (%.1f%%), %" PRIu64
                        " faults, %.1f s",
                        what, accesses, total,
                        100.0 * (double)(accesses < total ? accesses : total) / (double)total,
                        faults, elapsed);
    return snprintf(buf, size, "%s: %" PRIu64 " accesses, %" PRIu64 " faults, %.1f s", what,
                    accesses, faults, elapsed);
}

struct swapsim_status {
    const struct swapsim_progress *progress;
    FILE *f;
    double delay, interval;
    struct timespec start;   /* CLOCK_MONOTONIC */
    size_t shown;            /* width of the line on the terminal now (0: none) */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* CLOCK_MONOTONIC */
    bool stopping;           /* under lock */
};

static double swapsim_status_elapsed(const struct swapsim_status *st)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - st->start.tv_sec) + (now.tv_nsec - st->start.tv_nsec) / 1e9;
}

/* The time `seconds` after the start, for pthread_cond_timedwait. */
static struct timespec swapsim_status_at(const struct swapsim_status *st, double seconds)
{
    struct timespec t = st->start;
    long long ns = (long long)(seconds * 1e9) + t.tv_nsec;

    t.tv_sec += (time_t)(ns / 1000000000LL);
    t.tv_nsec = (long)(ns % 1000000000LL);
    return t;
}

/* Rewrite the line on the terminal: text (cut to its width) padded with
 * blanks over what the line showed before. */
static void swapsim_status_show(struct swapsim_status *st, const char *text)
{
    struct winsize ws;
    size_t len = strlen(text), max = 0;

    if (ioctl(fileno(st->f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        max = (size_t)ws.ws_col - 1; /* the cursor stays on the line */
    if (max && len > max)
        len = max;
    fprintf(st->f, "\r%.*s%*s", (int)len, text, st->shown > len ? (int)(st->shown - len) : 0,
            "");
    if (*text == '\0')
        fputc('\r', st->f);
    fflush(st->f);
    st->shown = len;
}

static void *swapsim_status_thread(void *arg)
{
    struct swapsim_status *st = arg;
    double next = st->delay;

    pthread_mutex_lock(&st->lock);
    for (;;) {
        struct timespec at = swapsim_status_at(st, next);
        char line[256];

        while (!st->stopping && pthread_cond_timedwait(&st->cond, &st->lock, &at) != ETIMEDOUT)
            ;
        if (st->stopping)
            break;
        pthread_mutex_unlock(&st->lock);
        if (atomic_load_explicit(&st->progress->run, memory_order_relaxed) != 0) {
            swapsim_progress_format(
                line, sizeof(line), atomic_load_explicit(&st->progress->run, memory_order_relaxed),
                atomic_load_explicit(&st->progress->accesses, memory_order_relaxed),
                atomic_load_explicit(&st->progress->total, memory_order_relaxed),
                atomic_load_explicit(&st->progress->faults, memory_order_relaxed),
                swapsim_status_elapsed(st));
            swapsim_status_show(st, line);
        }
        next += st->interval;
        pthread_mutex_lock(&st->lock);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

int swapsim_status_start(const struct swapsim_progress *progress, FILE *f, double delay,
                         double interval, struct swapsim_status **out)
{
    struct swapsim_status *st;
    pthread_condattr_t ca;
    int rc;

    *out = NULL;
    if (!isatty(fileno(f)))
        return 0;
    st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->progress = progress;
    st->f = f;
    st->delay = delay;
    st->interval = interval > 0 ? interval : 0.5;
    clock_gettime(CLOCK_MONOTONIC, &st->start);
    rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        rc = pthread_cond_init(&st->cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (rc != 0)
        goto fail;
    pthread_mutex_init(&st->lock, NULL);
    rc = pthread_create(&st->thread, NULL, swapsim_status_thread, st);
    if (rc != 0) {
        pthread_mutex_destroy(&st->lock);
        pthread_cond_destroy(&st->cond);
        goto fail;
    }
    *out = st;
    return 0;
fail:
    free(st);
    return -rc;
}

void swapsim_status_stop(struct swapsim_status *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->lock);
    st->stopping = true;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->thread, NULL);
    if (st->shown)
        swapsim_status_show(st, ""); /* erase: blanks over the line, back to its start */
    pthread_mutex_destroy(&st->lock);
    pthread_cond_destroy(&st->cond);
    free(st);
}
