/*
 * report.h - what a testbed run leaves in its output folder:
 *
 *   summary.txt  per host: store, pressure, capacity changes, peak use,
 *                samples over capacity, tmem latency p50/p99/max per
 *                operation and pool kind; per guest: how it ran, its hit
 *                rate, the I/O and device time tmem saved, simulated time
 *                with and without tmem (swap guests). Also printed.
 *   samples.csv  one row per sample: every host's and guest's counters
 *                (docs/testbed.md lists the columns).
 *   report.json  all of it: the scenario's settings, the capacity change
 *                log, the histograms, the final counters, every sample.
 *
 * The column numbers of samples.csv are also what the plots use
 * (testbed_report_csv_column).
 *
 * Thread safety: one thread, after testbed_run_execute.
 */
#ifndef TESTBED_REPORT_H
#define TESTBED_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "testbed/runner.h"

/* Write the summary to f. */
void testbed_report_summary(FILE *f, struct testbed_run *r);

/* Write DIR/summary.txt, DIR/samples.csv and DIR/report.json (DIR: the
 * run's output folder). Returns 0, or -errno with one line in err. */
int testbed_report_write(struct testbed_run *r, char *err, size_t errlen);

/*
 * The 1-based column of samples.csv holding `field` of host h
 * (guest < 0) or of guest `guest` (h ignored): "capacity_bytes",
 * "used_bytes" for hosts; "held_bytes", "hit_rate", "host" for guests. 0 if
 * there is no such column.
 */
unsigned testbed_report_csv_column(const struct testbed_run *r, size_t h, long guest,
                                   const char *field);

#endif /* TESTBED_REPORT_H */
