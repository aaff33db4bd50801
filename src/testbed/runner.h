/*
 * runner.h - one testbed run: the scenario's hosts and guests brought up,
 * run in real time, sampled, and brought down.
 *
 * testbed_run_prepare checks everything that can be checked before the
 * run (each mount guest's options and paths, each swap guest's sizes and
 * workload, each host's store and pressure model) and mounts nothing.
 * testbed_run_execute then runs: each host's pressure thread; each guest
 * started at its start time and stopped at its stop time, when its
 * workload ends, at the end of the run, or when a stop signal arrives; a
 * sample of every counter every sample interval (sample.h); the live
 * status line. The run ends at the scenario's duration, or earlier when
 * every guest has stopped and none is still to start, or on a signal.
 * Every mount is unmounted before testbed_run_execute returns, whatever
 * happened.
 *
 * Thread safety: one thread (the caller's) drives a run; the run makes
 * its own threads (pressure, swap guests, mount loops and workloads).
 */
#ifndef TESTBED_RUNNER_H
#define TESTBED_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "testbed/guest_mount.h"
#include "testbed/guest_swap.h"
#include "testbed/host.h"
#include "testbed/sample.h"
#include "testbed/scenario.h"
#include "testbed/status.h"

enum testbed_guest_state {
    TESTBED_GUEST_WAITING,   /* its start time has not come */
    TESTBED_GUEST_RUNNING,
    TESTBED_GUEST_STOPPED,   /* stopped (see stop_reason), or could not start */
};

struct testbed_guest {
    const struct scenario_guest *sg;
    size_t host_slot;                 /* its index among its host's guests */
    struct testbed_host *host;
    enum testbed_guest_state state;
    double started_s, stopped_s;      /* -1 until it happened */
    const char *stop_reason;          /* "its workload ended", "its stop time", ... */
    bool failed;
    char failure[1024];
    char *mountpoint;                 /* mount guests: where it is mounted */
    char *log_path;                   /* mount guests: the workload's output */
    struct testbed_mount_guest *mount;
    struct testbed_swap_guest *swap;
    struct testbed_guest_sample final; /* its counters at the stop */
    bool have_final;
};

struct testbed_run {
    const struct scenario *sc;
    char *outdir;                     /* the output folder (exists after prepare) */
    struct testbed_status status;
    struct testbed_host hosts[SCENARIO_MAX_HOSTS];
    size_t nhosts;                    /* hosts created */
    struct testbed_guest guests[SCENARIO_MAX_GUESTS];
    size_t nguests;                   /* guests prepared */
    struct testbed_series series;
    struct timespec t0;
    double length_s;                  /* how long it ran */
    int stop_signal;                  /* SIGINT/SIGTERM that ended it, or 0 */
    bool failed;                      /* a guest failed, or the runner itself */
    char failure[1024];               /* the runner's own failure, if any */
};

/*
 * Prepare a run of scenario sc (loaded and checked) writing into outdir
 * (check_only: nothing is created; else outdir must exist, and mount
 * guests without a mountpoint get outdir/mnt/NAME). quiet: no status
 * line or event messages. Returns 0, or -EINVAL (a problem in the
 * scenario: one line "FILE:LINE: ..." in err) or another negative errno
 * (err says what). Nothing is mounted. testbed_run_free undoes it, also
 * after a failure.
 */
int testbed_run_prepare(struct testbed_run *r, const struct scenario *sc, const char *outdir,
                        bool check_only, bool quiet, char *err, size_t errlen);

/*
 * Run (see above). stop_signals: the signals that stop the run, blocked
 * in every thread by the caller before the call; they are taken with
 * sigtimedwait. Returns 0 when the run went through (r->failed says
 * whether a guest failed; r->stop_signal whether a signal cut it short),
 * or a negative errno when the runner itself could not go on (r->failure
 * says why); the samples taken so far are kept either way.
 */
int testbed_run_execute(struct testbed_run *r, const sigset_t *stop_signals);

/* Free everything (stopping whatever still runs). */
void testbed_run_free(struct testbed_run *r);

/* mkdir -p: path and every missing folder above it (0755). 0 or -errno. */
int testbed_run_mkdir_p(const char *path);

/* Index of guest g's host in r->hosts. */
size_t testbed_run_host_index(const struct testbed_run *r, const struct testbed_guest *g);

#endif /* TESTBED_RUNNER_H */
