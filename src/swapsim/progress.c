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
 * Timing: a ticker (common/ticker.h) gives the elapsed seconds and the
 * wait for the next redraw, which stop cuts short.
 * Locking: the ticker's own; the line is written by the thread while it
 * runs and by stop after it ended, never both.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/ticker.h"
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
    struct ticker ticker;    /* started with the status */
    size_t shown;            /* width of the line on the terminal now (0: none) */
    pthread_t thread;
};

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
    char line[256];

    for (double next = st->delay; ticker_wait_until(&st->ticker, next); next += st->interval) {
        if (atomic_load_explicit(&st->progress->run, memory_order_relaxed) != 0) {
            swapsim_progress_format(
                line, sizeof(line), atomic_load_explicit(&st->progress->run, memory_order_relaxed),
                atomic_load_explicit(&st->progress->accesses, memory_order_relaxed),
                atomic_load_explicit(&st->progress->total, memory_order_relaxed),
                atomic_load_explicit(&st->progress->faults, memory_order_relaxed),
                ticker_elapsed(&st->ticker));
            swapsim_status_show(st, line);
        }
    }
    return NULL;
}

int swapsim_status_start(const struct swapsim_progress *progress, FILE *f, double delay,
                         double interval, struct swapsim_status **out)
{
    struct swapsim_status *st;
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
    rc = ticker_init(&st->ticker, NULL);
    if (rc != 0)
        goto fail;
    rc = -pthread_create(&st->thread, NULL, swapsim_status_thread, st);
    if (rc != 0) {
        ticker_destroy(&st->ticker);
        goto fail;
    }
    *out = st;
    return 0;
fail:
    free(st);
    return rc;
}

void swapsim_status_stop(struct swapsim_status *st)
{
    if (!st)
        return;
    ticker_stop(&st->ticker);
    pthread_join(st->thread, NULL);
    if (st->shown)
        swapsim_status_show(st, ""); /* erase: blanks over the line, back to its start */
    ticker_destroy(&st->ticker);
    free(st);
}
