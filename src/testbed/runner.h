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
 * Control (docs/control.md): testbed_run_control_start opens the run's
 * control socket before testbed_run_execute; tmemctl's commands
 * (testbed_control_commands, runner_control.c) then act on the run from
 * the control thread while the run goes on. They work only while the
 * run is running (after the hosts started, until the run's end) and
 * under the run's control lock, which the runner's thread also holds
 * whenever it starts or stops a guest: a command sees each guest's
 * state, client and frozen flag steady. Lock order: control_lock, then a
 * host's policy lock (host.h), then the store's and the guests' own
 * locks. `stop` sets stop_requested; the loop ends the run at its next
 * step as on SIGTERM (stop_signal SIGTERM, reports marked interrupted).
 *
 * Migration (runner_migrate.c, docs/control.md "Live migration"): a
 * running swap guest moves to another host, by the scenario's `migrate`
 * key (testbed_run_migrate_tick, each step of the loop) or by tmemctl
 * migrate, in a thread of its own per migration; its client, host,
 * committed-memory slot and samples follow it. Every host has a
 * committed slot for every guest of the scenario (its index). The runner
 * does not stop a guest while it migrates, and joins every migration
 * before the guests stop at the run's end.
 *
 * Thread safety: one thread (the caller's) drives a run; the run makes
 * its own threads (pressure, swap guests, mount loops and workloads, the
 * control socket's, migrations).
 */
#ifndef TESTBED_RUNNER_H
#define TESTBED_RUNNER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "control/control_server.h"
#include "swapsim/swapsim.h"
#include "testbed/guest_mount.h"
#include "testbed/guest_stress.h"
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

/*
 * A live migration of a swap guest between hosts (runner_migrate.c): the
 * guest's frontswap copied to the destination store in pre-copy rounds
 * while it runs (swapsim_guest_migrate), then its tmem client, its
 * committed-memory slot, its samples and its place in `list` move to the
 * destination. Kept in the run's log (every one, also a refused
 * scenario migration) for tmemctl and the reports.
 */
#define TESTBED_MAX_MIGRATIONS 256

enum testbed_migration_state {
    TESTBED_MIGRATION_RUNNING,
    TESTBED_MIGRATION_DONE,
    TESTBED_MIGRATION_FAILED,  /* the guest stayed on its source (error says why) */
};

struct testbed_migration {
    size_t guest;                 /* index in testbed_run.guests */
    size_t from, to;              /* host indexes */
    const char *by;               /* "scenario" or "tmemctl" */
    double started_s, ended_s;    /* since the run began; ended_s -1 while running */
    enum testbed_migration_state state;
    struct swapsim_migrate_stats stats;
    char error[512];
    bool reported;                /* the runner printed its end (runner's thread) */
};

struct testbed_guest {
    const struct scenario_guest *sg;
    size_t host_slot;                 /* its committed-memory slot on every host: its
                                         index in the scenario (host.h) */
    struct testbed_host *host;        /* the host it is on now (moves with a migration;
                                         control_lock) */
    enum testbed_guest_state state;
    double started_s, stopped_s;      /* -1 until it happened */
    const char *stop_reason;          /* "its workload ended", "its stop time", ... */
    bool failed;
    char failure[1024];
    char *mountpoint;                 /* mount guests: where it is mounted */
    char *log_path;                   /* mount guests: the workload's output */
    struct testbed_mount_guest *mount;
    struct testbed_swap_guest *swap;
    struct testbed_stress_guest *stress; /* kind = stress */
    struct testbed_guest_sample final; /* its counters at the stop */
    bool have_final;
    bool frozen;                      /* frozen by tmemctl freeze (control lock) */
    /* migration (control_lock) */
    bool migrating;                   /* a migration thread works on it */
    bool migration_joinable;          /* migration_thread not joined yet */
    pthread_t migration_thread;
    size_t next_migration;            /* the scenario's next migrate entry */
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
    /* control (see above) */
    pthread_mutex_t control_lock;     /* guests' state and clients vs commands */
    bool running;                     /* commands may act (control_lock) */
    atomic_bool stop_requested;       /* tmemctl stop */
    struct control_server *control;   /* the control socket, or NULL */
    /* every migration, in start order (control_lock) */
    struct testbed_migration migrations[TESTBED_MAX_MIGRATIONS];
    size_t nmigrations;
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

/*
 * Open the run's control socket at path (NULL: control_default_path's,
 * named tmem-testbed-PID) serving testbed_control_commands(), after
 * testbed_run_prepare and before testbed_run_execute. Returns 0, or
 * -errno with one line in err (nothing opened). testbed_run_free closes it.
 */
int testbed_run_control_start(struct testbed_run *r, const char *path, char *err,
                              size_t errlen);

/* The control socket's path (NULL when none). */
const char *testbed_run_control_path(const struct testbed_run *r);

/*
 * The control commands of a testbed run (runner_control.c; ctx: the
 * struct testbed_run): list, stats, set-capacity, set-weight, set-cap,
 * freeze, thaw, pause, resume, stop, save, restore, migrate. *n gets
 * the count. A static table.
 */
const struct control_command *testbed_control_commands(size_t *n);

/* For the commands (and any added later): take / release the control
 * lock; with it held, the guest or host named name while the run is
 * running (NULL with one line in err: not running, no such name, and
 * for a guest, not running now: waiting or stopped), and the tmem
 * client of a running guest. */
void testbed_run_control_lock(struct testbed_run *r);
void testbed_run_control_unlock(struct testbed_run *r);
struct testbed_guest *testbed_run_running_guest(struct testbed_run *r, const char *name,
                                                char *err, size_t errlen);
struct testbed_host *testbed_run_find_host(struct testbed_run *r, const char *name, char *err,
                                           size_t errlen);
struct tmem_client *testbed_guest_client(struct testbed_guest *g);

/*
 * Start moving swap guest g to host `to` (runner_migrate.c), with the
 * control lock held: refused (-EINVAL, -EBUSY, -ENOSPC with one line in
 * err, nothing changed) when the run is not running, g is not a running
 * swap guest, its workload is over, a migration of it is running, it is
 * on `to` already, `to`'s store has another page size, or the log is
 * full. Otherwise a thread of its own runs it; *id (may be NULL) gets
 * its index in r->migrations, whose state says when it is over. by:
 * "scenario" or "tmemctl" (a static string). Returns 0 or -errno.
 */
int testbed_run_migrate_start(struct testbed_run *r, struct testbed_guest *g,
                              struct testbed_host *to, const char *by, size_t *id, char *err,
                              size_t errlen);

/* Wait for every migration thread to end (without the control lock
 * held; the run no longer running, so none starts). */
void testbed_run_migrate_join_all(struct testbed_run *r);

/* At each step of the run (runner's thread, control lock held): the
 * scenario's migrations due at time t started (or logged as failed when
 * refused), and each migration that ended since reported on the status
 * output. */
void testbed_run_migrate_tick(struct testbed_run *r, double t);

/* Migration m of run r as JSON (tmemctl's list and stats, report.json):
 * guest, from, to, by, state, started_s, ended_s, total_ms, stop_ms,
 * rounds, pages_sent, pages_resent, pages_refused, pages_to_swapfile,
 * pages_at_stop, pages_moved, bytes_sent, error. NULL when out of memory.
 * With the control lock held while the run runs. */
json_t *testbed_migration_json(const struct testbed_run *r, const struct testbed_migration *m);

/* The run's migrations for summary.txt: a count, then one line each
 * (guest, from, to, by whom, when, how it ended, its statistics). Nothing
 * when there were none. After the run. */
void testbed_migration_summary(FILE *f, const struct testbed_run *r);

/* "running", "done" or "failed". */
const char *testbed_migration_state_name(enum testbed_migration_state s);

/* mkdir -p: path and every missing folder above it (0755). 0 or -errno. */
int testbed_run_mkdir_p(const char *path);

/* Index of guest g's host in r->hosts. */
size_t testbed_run_host_index(const struct testbed_run *r, const struct testbed_guest *g);

#endif /* TESTBED_RUNNER_H */
