/*
 * guest_swap.h - a swap guest: a tmem-swapsim guest (RAM smaller than its
 * memory, a real swap file, frontswap in front of it, every page checked)
 * driven by its workload in a thread of its own, on the host's store.
 *
 * Life: testbed_swap_prepare (sizes and workload checked, the workload
 * made: a seeded generator or an opened trace) -> testbed_swap_start at
 * the guest's start time (its tmem client with the guest's name, weight
 * and cap; the swapsim guest; the thread) -> the thread performs accesses
 * until the workload ends or the guest is stopped, then swaps off (every
 * swapped page loaded and verified) -> testbed_swap_stop (joins; checks
 * that no page was lost or wrong: mismatches, failed_loads, leaked slots
 * and tmem pages all 0; frees the guest and client under the host's
 * policy lock) -> testbed_swap_free.
 *
 * Thread safety: every function from the runner's thread (the migration
 * functions as they say); the guest's counters are read while its thread
 * runs (swapsim takes its lock). testbed_swap_client and the host it
 * stops on change only in testbed_swap_migrate_switch, under the
 * runner's control lock.
 */
#ifndef TESTBED_GUEST_SWAP_H
#define TESTBED_GUEST_SWAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/histogram.h"
#include "testbed/host.h"
#include "testbed/sample.h"
#include "testbed/scenario.h"
#include "swapsim/swapsim.h"

struct testbed_swap_guest;

/*
 * Check the guest's sizes against page_size (the host store's: RAM,
 * memory and swap whole numbers of pages, RAM < memory) and its workload
 * (generator parameters; a trace file opened and its first line read).
 * check_only: nothing is kept (*out NULL). Returns 0, or -EINVAL with one
 * line in err ("FILE:LINE: guest NAME: ...").
 */
int testbed_swap_prepare(const struct scenario *sc, const struct scenario_guest *sg,
                         uint32_t page_size, bool check_only, struct testbed_swap_guest **out,
                         char *err, size_t errlen);

/* Create its client and swapsim guest on the host's store (swap file in
 * swap_dir) and start its thread. 0, or -1 with one line in err. */
int testbed_swap_start(struct testbed_swap_guest *sw, struct testbed_host *host,
                       const char *swap_dir, char *err, size_t errlen);

/* True once its thread is over (workload ended, or a failure). */
bool testbed_swap_done(struct testbed_swap_guest *sw);

/* True if the guest failed; why (one line) into why. */
bool testbed_swap_failed(struct testbed_swap_guest *sw, char *why, size_t len);

/* Record its counters, client statistics and measured tmem time in *s. */
void testbed_swap_sample(struct testbed_swap_guest *sw, struct testbed_guest_sample *s);

/* Its committed memory, in bytes: the pages it has touched and not
 * unmapped, at most its RAM (what a balloon could leave it). */
uint64_t testbed_swap_committed(struct testbed_swap_guest *sw);

/* Stop (see above); its final counters to *last (may be NULL). */
void testbed_swap_stop(struct testbed_swap_guest *sw, struct testbed_guest_sample *last);

/* Its client's latency histogram of op on its (persistent) pool, as of
 * the stop (empty before). */
const struct histogram *testbed_swap_latency(const struct testbed_swap_guest *sw,
                                             enum tmem_op op);

/* The profile of its swap file's device, and the page size. */
const struct guest_device_profile *testbed_swap_profile(const struct testbed_swap_guest *sw);
uint32_t testbed_swap_page_size(const struct testbed_swap_guest *sw);

/* Its tmem client between start and stop (NULL otherwise); for the
 * runner's control commands, which hold the runner's control lock. */
struct tmem_client *testbed_swap_client(struct testbed_swap_guest *sw);

/*
 * Live migration to another host, in three steps (runner_migrate.c):
 *
 * testbed_swap_migrate_begin, with the runner's control lock held:
 * refuses (-EINVAL: not started, workload over, swapping off or failed;
 * -EBUSY: a migration runs) or marks the guest migrating, so its thread
 * will not swap off until testbed_swap_migrate_end.
 *
 * testbed_swap_migrate, in the migration's own thread, no lock held:
 * creates the guest's client on dest (same name; weight and cap of its
 * current client; frozen as given) under dest's policy lock and moves
 * frontswap there (swapsim_guest_migrate: pre-copy rounds while the
 * guest runs, a short stop, refused pages to the swap file); *st gets
 * its statistics. 0: the guest runs on dest, and the runner must call
 * _switch. -errno (one line in err): the guest stayed where it was, the
 * new client is gone.
 *
 * testbed_swap_migrate_switch, with the control lock held, after a 0:
 * testbed_swap_client and the host the guest stops on become dest's;
 * weight, cap and frozen (as given) are copied again; the old client's
 * counters and latencies are kept for the totals.
 *
 * testbed_swap_migrate_end, no lock held, after every _begin: destroys
 * the old client (under its host's policy lock) and lets the guest's
 * thread swap off again.
 */
int testbed_swap_migrate_begin(struct testbed_swap_guest *sw, char *err, size_t errlen);
int testbed_swap_migrate(struct testbed_swap_guest *sw, struct testbed_host *dest, bool frozen,
                         struct swapsim_migrate_stats *st, char *err, size_t errlen);
void testbed_swap_migrate_switch(struct testbed_swap_guest *sw, bool frozen);
void testbed_swap_migrate_end(struct testbed_swap_guest *sw);

/* Stop if needed and free. sw may be NULL. */
void testbed_swap_free(struct testbed_swap_guest *sw);

#endif /* TESTBED_GUEST_SWAP_H */
