/*
 * plot.h - the testbed's plots, drawn by gnuplot (Debian's gnuplot-nox,
 * pngcairo and svg terminals) from samples.csv:
 *
 *   capacity.png, capacity.svg  per host (one panel each): the capacity
 *       over time (a step line, from the change log), the bytes the store
 *       uses (data + metadata), and each of its guests' bytes stacked
 *       underneath, in MiB
 *   hitrate.png, hitrate.svg    each guest's hit rate per sample interval,
 *       in percent, on the same time axis (mount guests: cleancache gets
 *       that hit; swap guests: swap-ins served by frontswap), with the
 *       capacity in light grey on the right axis
 *
 * The gnuplot script is kept beside them (plots.gp) so a plot can be
 * restyled and redrawn by hand: `gnuplot DIR/plots.gp`.
 *
 * Thread safety: one thread, after the run and testbed_report_write.
 */
#ifndef TESTBED_PLOT_H
#define TESTBED_PLOT_H

#include <stddef.h>

#include "testbed/runner.h"

#define TESTBED_PLOT_FILES 4

/*
 * Write DIR/plots.gp and run gnuplot on it (its messages in
 * DIR/gnuplot.log). Returns 0 with the paths of the four plots in
 * paths[] (malloc'ed, the caller frees them); -ENOENT when gnuplot is not
 * installed; another negative errno with one line in err.
 */
int testbed_plot_write(struct testbed_run *r, char *paths[TESTBED_PLOT_FILES], char *err,
                       size_t errlen);

#endif /* TESTBED_PLOT_H */
