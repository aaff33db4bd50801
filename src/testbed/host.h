/*
 * host.h - one testbed host: a tmem store (the hypervisor's memory for
 * tmem) and its pressure model, applied by a thread of its own.
 *
 * Every pressure_interval seconds the host's pressure thread asks the
 * model for the capacity (pressure_next, with the time since the run
 * began, the store's operations so far and the committed memory of each
 * of the host's guests) and, when it differs from the current one, sets
 * it at once (tmem_set_capacity: ephemeral pages evicted, persistent
 * pages asked back through the swap guests' pressure callbacks, in the
 * pressure thread) and logs (t, capacity).
 *
 * Clients come and go while the capacity changes: the host's policy lock
 * is held by the pressure thread around each change and must be held by
 * whoever creates or destroys a client or a swap guest on the store
 * (swapsim_guest_destroy must not run during tmem_set_capacity). Nothing
 * that a pressure callback takes (a swap guest's lock) may be held while
 * taking it.
 *
 * The operator (tmemctl, through the runner's control commands) may
 * pause the model (testbed_host_set_paused: the thread keeps running but
 * asks the model nothing and changes nothing until resumed) and set the
 * capacity by hand (testbed_host_set_capacity: logged like a change of
 * the model's).
 *
 * Thread safety: testbed_host_create/_start/_stop/_destroy from one
 * thread (the runner's); testbed_host_set_committed, _set_paused,
 * _paused, _set_capacity (while started) and the log reads from any
 * thread.
 */
#ifndef TESTBED_HOST_H
#define TESTBED_HOST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ticker.h"
#include "core/tmem.h"
#include "remote/remote_tier.h"
#include "testbed/pressure.h"
#include "testbed/scenario.h"

struct testbed_capacity_change {
    double t_s;     /* seconds since the run began */
    uint64_t bytes; /* the new capacity (TMEM_CAPACITY_UNLIMITED) */
};

struct testbed_host {
    const struct scenario_host *sh;
    struct tmem *tm;                 /* the store (latency histograms on) */
    struct pressure_model *model;
    pthread_mutex_t policy_lock;     /* capacity changes vs clients coming and going */
    pthread_mutex_t lock;            /* guards the log */
    struct testbed_capacity_change *log; /* every change, in order */
    size_t nlog, caplog;
    pthread_t thread;
    bool started;
    struct ticker ticker;            /* while started: starts at the run's t0; stop wakes */
    _Atomic uint64_t *committed;     /* [nguests]: every guest of the scenario, in its
                                        order; 0 for one not on this host (not yet
                                        arrived, migrated away, not running) */
    uint64_t *committed_copy;        /* the pressure thread's copy for the model */
    size_t nguests;
    atomic_bool paused;              /* the operator paused the model */
    /* its remote tier (host_remote.h), or NULL */
    struct remote_tier *remote;
    const struct scenario_remote *remote_sc;
    char *remote_outdir;             /* where guests' logins are written */
};

/*
 * Create the host's store (sh->store with latency histograms on) and
 * pressure model (base_dir: the scenario's folder, for a schedule file)
 * for nguests guests. Returns 0, or a negative errno with one line in err.
 * On failure testbed_host_destroy undoes what was done.
 */
int testbed_host_create(struct testbed_host *h, const struct scenario_host *sh,
                        const char *base_dir, size_t nguests, char *err, size_t errlen);

/* Start the pressure thread; t0 is the run's start. Logs the capacity at
 * t = 0 first. 0 or -errno. */
int testbed_host_start(struct testbed_host *h, const struct timespec *t0);

/* Stop and join the pressure thread (idempotent). */
void testbed_host_stop(struct testbed_host *h);

/* Free everything (after every guest left and the thread stopped). */
void testbed_host_destroy(struct testbed_host *h);

/* Guest slot's committed memory now (bytes; 0 when not running or not on
 * this host: a migration sets it to 0 on the source and to the guest's
 * on the destination). */
void testbed_host_set_committed(struct testbed_host *h, size_t slot, uint64_t bytes);

/* Pause (true) or resume (false) the pressure model (see above). */
void testbed_host_set_paused(struct testbed_host *h, bool paused);
bool testbed_host_paused(struct testbed_host *h);

/* Set the store's capacity now (bytes, TMEM_CAPACITY_UNLIMITED), under
 * the policy lock, and log it. Only between _start and _stop (the
 * caller's lock sees to it). Returns what tmem_set_capacity returns. */
int testbed_host_set_capacity(struct testbed_host *h, uint64_t bytes);

/* Take / release the policy lock (see above). */
void testbed_host_lock(struct testbed_host *h);
void testbed_host_unlock(struct testbed_host *h);

/* Copy of the capacity log (malloc'ed, *n entries; NULL when empty or out
 * of memory). */
struct testbed_capacity_change *testbed_host_log(struct testbed_host *h, size_t *n);

#endif /* TESTBED_HOST_H */
