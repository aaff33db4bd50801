/*
 * guest_stress.h - a stress guest: the core's stress workload as a guest
 * of the testbed, on the host's store beside the other guests. N threads
 * share one tmem client (the guest's name, weight and cap); each owns a
 * private set of pools of every kind (private and shared, persistent,
 * persistent with exclusive gets, ephemeral) and `pages` handles spread
 * over them, and makes random puts, gets, flush_page, flush_object,
 * destroy_pool and new_pool calls. Every answer is checked against the
 * thread's exact model of its handles:
 *   - persistent: a get returns exactly the last accepted put, never
 *     -ENOENT, until a flush or the pool's destruction;
 *   - ephemeral: a get either misses or returns the last accepted put;
 *   - a refused put (-ENOSPC, -ENOMEM) leaves nothing readable, also no
 *     older copy (put-put-get); a missed get leaves the caller's page
 *     untouched; destructive gets (private ephemeral, exclusive gets)
 *     leave nothing behind;
 *   - allocation faults (TMEM_FAULT) are answers, not failures: refused
 *     puts and -ENOMEM from new_pool are counted, the pool retried later.
 * Each thread calls the store's invariant checker (tmem_check) every
 * check_every of its operations: the core documents it safe while any
 * other call runs on the store (it waits for the calls in flight), so
 * other guests need not stop. Any answer the model does not allow is a
 * mismatch: the guest fails with the first one's description.
 *
 * Life, as the swap guest's: testbed_stress_prepare (settings checked)
 * -> testbed_stress_start (client with retries under allocation faults,
 * threads) -> threads run until stopped (or a mismatch) ->
 * testbed_stress_stop (joins, then reads back every persistent page the
 * models hold; frees the client under the host's policy lock) ->
 * testbed_stress_free.
 *
 * Thread safety: every function from the runner's thread; the counters
 * are read (atomically) while the threads run.
 */
#ifndef TESTBED_GUEST_STRESS_H
#define TESTBED_GUEST_STRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testbed/host.h"
#include "testbed/sample.h"
#include "testbed/scenario.h"
#include "testbed/stress_counters.h"

struct testbed_stress_guest;

/*
 * Check the guest's settings against the store's page size. check_only:
 * nothing is kept (*out NULL). Returns 0, or -EINVAL with one line in err
 * ("FILE:LINE: guest NAME: ..."), or -ENOMEM.
 */
int testbed_stress_prepare(const struct scenario *sc, const struct scenario_guest *sg,
                           uint32_t page_size, bool check_only,
                           struct testbed_stress_guest **out, char *err, size_t errlen);

/* Create its client on the host's store and start its threads. 0, or -1
 * with one line in err. */
int testbed_stress_start(struct testbed_stress_guest *st, struct testbed_host *host,
                         char *err, size_t errlen);

/* True once its threads are over (only after a mismatch: they run until
 * stopped). */
bool testbed_stress_done(struct testbed_stress_guest *st);

/* True if the guest failed (a mismatch, or it could not start); why (one
 * line) into why. */
bool testbed_stress_failed(struct testbed_stress_guest *st, char *why, size_t len);

/* Its counters (summed over its threads) and client statistics into *s. */
void testbed_stress_sample(struct testbed_stress_guest *st, struct testbed_guest_sample *s);

/* Stop (see above); its final counters to *last (may be NULL). */
void testbed_stress_stop(struct testbed_stress_guest *st, struct testbed_guest_sample *last);

/* Its tmem client between start and stop (NULL otherwise). */
struct tmem_client *testbed_stress_client(struct testbed_stress_guest *st);

/* Stop if needed and free. st may be NULL. */
void testbed_stress_free(struct testbed_stress_guest *st);

#endif /* TESTBED_GUEST_STRESS_H */
