/*
 * stress_counters.h - the counters of a testbed stress guest
 * (guest_stress.h), declared once: X(field, help), in the order of the
 * struct, the report's columns and its JSON.
 *
 * A plain struct of values (a snapshot summed over the guest's threads);
 * no locking of its own.
 */
#ifndef TESTBED_STRESS_COUNTERS_H
#define TESTBED_STRESS_COUNTERS_H

#include <stdint.h>

#define TESTBED_STRESS_COUNTERS(X)                                                            \
    X(ops, "operations made: puts, gets, flushes, pool creations and destructions")         \
    X(puts, "put calls")                                                                     \
    X(puts_refused, "puts refused (-ENOSPC, or -ENOMEM from an allocation failure)")        \
    X(gets, "get calls")                                                                     \
    X(hits, "gets that found the page (each one compared with the model)")                   \
    X(flushes, "flush_page and flush_object calls")                                          \
    X(pools_created, "pools created")                                                        \
    X(pool_creations_refused, "new_pool calls refused with -ENOMEM (an allocation failure)") \
    X(pools_destroyed, "pools destroyed (their pages gone from the model)")                  \
    X(checks, "invariant checks (tmem_check) that passed")                                   \
    X(pages_verified, "persistent pages read back and compared at the stop")                 \
    X(mismatches, "answers the model does not allow (wrong bytes, lost or resurrected pages, " \
                  "an unexpected error, a broken invariant): must be 0")

struct testbed_stress_counters {
#define TESTBED_STRESS_DECLARE_(field, help) uint64_t field;
    TESTBED_STRESS_COUNTERS(TESTBED_STRESS_DECLARE_)
#undef TESTBED_STRESS_DECLARE_
};

#endif /* TESTBED_STRESS_COUNTERS_H */
