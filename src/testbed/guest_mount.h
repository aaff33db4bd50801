/*
 * guest_mount.h - a mount guest: a tmemfs mount of a dataset (its own
 * tmem client, guest page cache and cleancache pool on the host's store)
 * with a workload run in it, a shell command in a child process.
 *
 * Life: testbed_mount_prepare (options parsed and checked, nothing
 * mounted) -> testbed_mount_start at the guest's start time (mount, the
 * client attached to the host's remote tier before the mount serves when
 * the guest's remote_kinds say so (its cleancache pool's evicted and
 * refused pages go there), the client's weight and cap set, the workload
 * started: `sh -c COMMAND` with
 * the mount as its working directory, in a process group of its own, its
 * output in a log file; with repeat, run again each time it ends well,
 * until the guest stops) -> testbed_mount_stop (the workload's process
 * group gets SIGTERM, SIGKILL after TESTBED_MOUNT_GRACE_S; then the mount
 * is stopped, unmounted and torn down) -> testbed_mount_free.
 *
 * A command that exits non-zero or dies of a signal it was not sent by
 * the stop, or a mount that ends by itself, fails the guest
 * (testbed_mount_failed says why).
 *
 * Thread safety: every function from the runner's thread; a workload
 * thread per guest spawns and reaps the command (the guest's lock guards
 * what the two share).
 */
#ifndef TESTBED_GUEST_MOUNT_H
#define TESTBED_GUEST_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testbed/host.h"
#include "testbed/sample.h"
#include "testbed/scenario.h"

/* Seconds between SIGTERM and SIGKILL of a workload at stop. */
#define TESTBED_MOUNT_GRACE_S 2.0

struct testbed_mount_guest;

/*
 * Check the guest's options and paths: no option that belongs to the
 * store or to the tmemfs program (tmemfs_mount_process_option), no
 * shared_uuid; then tmemfs's own parse, and unless check_only also its
 * checks (SOURCE a directory, mountpoint an existing empty directory).
 * source: the dataset (the scenario's, relative paths resolved);
 * mountpoint: where to mount (the scenario's, or one the runner made);
 * page_size: the host store's, passed to the mount. Returns 0 with the
 * guest in *out (check_only: *out is NULL), or -EINVAL with one line in
 * err ("FILE:LINE: guest NAME: ...").
 */
int testbed_mount_prepare(const struct scenario *sc, const struct scenario_guest *sg,
                          const char *source, const char *mountpoint, uint32_t page_size,
                          bool check_only,
                          struct testbed_mount_guest **out, char *err, size_t errlen);

/*
 * Mount on the host's store (the client attached to the host's remote
 * tier first, testbed_host_remote_attach, under the host's policy lock),
 * set the client's weight and cap, start the workload (its output
 * appended to log_path). Returns 0, or -1 with one line in err (nothing
 * left mounted or attached).
 */
int testbed_mount_start(struct testbed_mount_guest *mg, struct testbed_host *host,
                        const char *log_path, char *err, size_t errlen);

/* True when the guest has nothing more to do: its command ended (and it
 * does not repeat, or it failed), or its mount ended by itself. */
bool testbed_mount_done(struct testbed_mount_guest *mg);

/* True if the guest failed; why (one line) into why. */
bool testbed_mount_failed(struct testbed_mount_guest *mg, char *why, size_t len);

/* Record the guest's counters into *s (running). Not after stop. */
void testbed_mount_sample(struct testbed_mount_guest *mg, struct testbed_guest_sample *s);

/* Its committed memory for the pressure model: the guest cache's pages
 * in use, in bytes. */
uint64_t testbed_mount_committed(struct testbed_mount_guest *mg);

/*
 * Stop: the workload's process group gets SIGTERM, then SIGKILL; the
 * workload thread is joined; the last counters go to *last; the mount is
 * stopped and torn down (its pool's remote keys deleted with the client,
 * which is then detached from the remote tier) under the host's policy
 * lock. Idempotent.
 */
void testbed_mount_stop(struct testbed_mount_guest *mg, struct testbed_guest_sample *last);

/* Runs of the command so far, and the exit status of the last one as
 * the shell reports it (0..255, 128+N for signal N; -1 if none ended);
 * *stopped (may be NULL): that run was ended by the guest's stop. */
unsigned testbed_mount_runs(struct testbed_mount_guest *mg);
int testbed_mount_last_status(struct testbed_mount_guest *mg, bool *stopped);

/* The backing device profile and page size (for pricing). */
const struct guest_device_profile *testbed_mount_profile(const struct testbed_mount_guest *mg);
uint32_t testbed_mount_page_size(const struct testbed_mount_guest *mg);

/* Its tmem client while mounted (NULL otherwise); for the runner's
 * control commands, which hold the runner's control lock. */
struct tmem_client *testbed_mount_client(struct testbed_mount_guest *mg);

/* Stop if needed and free. mg may be NULL. */
void testbed_mount_free(struct testbed_mount_guest *mg);

#endif /* TESTBED_GUEST_MOUNT_H */
