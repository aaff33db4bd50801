/*
 * status.h - the testbed's live status line and event messages on stderr.
 *
 * The status line (elapsed time, each host's capacity and use, each
 * guest's hit rate) is shown only when stderr is a terminal: written after
 * a carriage return and cut to the terminal's width, so each update
 * overwrites the last; messages clear it first. With quiet, neither the
 * line nor the event messages are written; failures always are.
 *
 * Thread safety: one thread (the runner's).
 */
#ifndef TESTBED_STATUS_H
#define TESTBED_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct testbed_status {
    FILE *f;          /* stderr */
    bool live;        /* a terminal, and not quiet: the status line is shown */
    bool quiet;       /* no event messages either */
    size_t shown;     /* characters of the line on screen now (0: none) */
};

/* Set up on f (stderr): live when f is a terminal and !quiet. */
void testbed_status_init(struct testbed_status *st, FILE *f, bool quiet);

/* Show line (no newline) as the status line (no-op unless live). */
void testbed_status_show(struct testbed_status *st, const char *line);

/* Remove the status line from the screen. */
void testbed_status_clear(struct testbed_status *st);

/* An event message on its own line (not when quiet). */
void testbed_status_message(struct testbed_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A failure on its own line, always. */
void testbed_status_failure(struct testbed_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TESTBED_STATUS_H */
