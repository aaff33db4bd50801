/*
 * status.c - the live status line and messages (status.h). Data: how
 * much of the line is on screen. Locking: none (one thread).
 */
#include "testbed/status.h"

#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void testbed_status_init(struct testbed_status *st, FILE *f, bool quiet)
{
    memset(st, 0, sizeof(*st));
    st->f = f;
    st->quiet = quiet;
    st->live = !quiet && isatty(fileno(f));
}

/* The terminal's width (80 if unknown). */
static size_t testbed_status_width(FILE *f)
{
    struct winsize ws;

    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
        return ws.ws_col;
    return 80;
}

void testbed_status_show(struct testbed_status *st, const char *line)
{
    size_t width, n;

    if (!st->live)
        return;
    width = testbed_status_width(st->f) - 1; /* never the last column: no wrap */
    n = strlen(line);
    if (n > width)
        n = width;
    fprintf(st->f, "\r%.*s", (int)n, line);
    if (st->shown > n)
        fprintf(st->f, "%*s", (int)(st->shown - n), "");
    fflush(st->f);
    st->shown = n;
}

void testbed_status_clear(struct testbed_status *st)
{
    if (!st->live || !st->shown)
        return;
    fprintf(st->f, "\r%*s\r", (int)st->shown, "");
    fflush(st->f);
    st->shown = 0;
}

static void testbed_status_vline(struct testbed_status *st, const char *fmt, va_list ap)
{
    testbed_status_clear(st);
    vfprintf(st->f, fmt, ap);
    fputc('\n', st->f);
    fflush(st->f);
}

void testbed_status_message(struct testbed_status *st, const char *fmt, ...)
{
    va_list ap;

    if (st->quiet)
        return;
    va_start(ap, fmt);
    testbed_status_vline(st, fmt, ap);
    va_end(ap);
}

void testbed_status_failure(struct testbed_status *st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    testbed_status_vline(st, fmt, ap);
    va_end(ap);
}
