/*
 * report_remote.h - the remote tier's part of a testbed report
 * (report.h): per host the whole tier, per guest using it its own
 * client (docs/remote.md, "In the testbed", lists every field).
 *
 * Thread safety: one thread, after testbed_run_execute (the hosts' tiers
 * still exist: testbed_run_free destroys them).
 */
#ifndef TESTBED_REPORT_REMOTE_H
#define TESTBED_REPORT_REMOTE_H

#include <jansson.h>
#include <stdio.h>

#include "testbed/runner.h"

/* The summary lines of host h's tier (nothing without one). */
void testbed_report_remote_host(FILE *f, struct testbed_run *r, size_t h);

/* The summary lines of guest k's remote use, s its last sample (nothing
 * when it used no tier). */
void testbed_report_remote_guest(FILE *f, const struct testbed_run *r, size_t k,
                                 const struct testbed_guest_sample *s);

/* Host h's tier as a JSON object, or NULL (no tier, out of memory). */
json_t *testbed_report_remote_host_json(struct testbed_run *r, size_t h);

/* Guest k's remote use as a JSON object, or NULL (no tier, out of memory). */
json_t *testbed_report_remote_guest_json(const struct testbed_run *r, size_t k,
                                         const struct testbed_guest_sample *s);

/* The CSV columns of a remote sample: names (suffixes after the host's or
 * guest's prefix) and values, REPORT_REMOTE_COLUMNS of them. */
#define REPORT_REMOTE_COLUMNS 15
void testbed_report_remote_columns(const struct testbed_remote_sample *s,
                                   const char *names[REPORT_REMOTE_COLUMNS],
                                   uint64_t values[REPORT_REMOTE_COLUMNS]);

#endif /* TESTBED_REPORT_REMOTE_H */
