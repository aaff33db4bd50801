/*
 * gnuplot.h - drawing with gnuplot (Debian's gnuplot-nox: its pngcairo and
 * svg terminals): the pieces every plot of the project shares. A caller
 * writes a script (quoting its strings with gnuplot_quote, choosing the
 * terminal with gnuplot_terminal) and runs it with gnuplot_run.
 *
 * Thread-safety: the functions share nothing; gnuplot_run spawns a child
 * and waits for it (posix_spawn: safe in a threaded process).
 */
#ifndef COMMON_GNUPLOT_H
#define COMMON_GNUPLOT_H

#include <stdbool.h>
#include <stdio.h>

/* Write s to f as a gnuplot single-quoted string ('' stands for '). */
void gnuplot_quote(FILE *f, const char *s);

/* True when path ends in ".svg" (else the plot is a PNG). */
bool gnuplot_path_is_svg(const char *path);

/* The "set terminal" and "set output" lines of a plot of width x height
 * pixels into path: svg (dynamic, sans 11) or pngcairo (sans 10), both
 * noenhanced (names are printed as they are). */
void gnuplot_terminal(FILE *f, bool svg, const char *path, int width, int height);

/*
 * Run `gnuplot script`, its standard output and error to the file log
 * (created or truncated), its input /dev/null. Returns 0; -ENOENT when
 * gnuplot is not installed; -EIO when it failed (see log); another
 * -errno when it could not be started.
 */
int gnuplot_run(const char *script, const char *log);

#endif /* COMMON_GNUPLOT_H */
