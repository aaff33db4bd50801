/*
 * host_remote.h - a testbed host's remote tier on Redis (docs/remote.md,
 * "In the testbed"): the host's `remote = NAME` section turned into a
 * remote_tier_config, the tier created on the host's store, each swap or
 * stress guest's client attached with its own ACL user and kinds, its
 * counters sampled, and the tier drained and destroyed after the store.
 *
 * Thread safety: _open and _close from the runner's thread (with no guest
 * running); _attach and _detach under the host's policy lock, where the
 * guests create and destroy their clients; _sample from any thread
 * while the tier exists.
 */
#ifndef TESTBED_HOST_REMOTE_H
#define TESTBED_HOST_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "remote/remote_tier.h"
#include "testbed/host.h"
#include "testbed/sample.h"
#include "testbed/scenario.h"

/*
 * The tier configuration of section sr of scenario sc: servers parsed
 * (remote_endpoint_parse), the password file read (its first line; a
 * relative path from the scenario's folder). Returns 0, or -EINVAL with
 * one line "FILE:LINE: remote NAME: ..." in err.
 */
int testbed_remote_config(const struct scenario *sc, const struct scenario_remote *sr,
                          struct remote_tier_config *cfg, char *err, size_t errlen);

/*
 * Give host h the remote tier of its scenario section (none: nothing to
 * do). check_only: the configuration is checked, no connection is made.
 * outdir: where testbed_host_remote_attach writes each guest's login
 * (REMOTE-GUEST.login). 0, or -errno with one line in err.
 */
int testbed_host_remote_open(struct testbed_host *h, const struct scenario *sc,
                             const char *outdir, bool check_only, char *err, size_t errlen);

/*
 * Attach client c of guest sg to the host's tier (nothing without a tier
 * or when sg->remote_kinds is 0): its kinds (write-through for a swap
 * guest with write_through), its remote_cap, and its login written to
 * OUTDIR/remote-GUEST.login (prefix, user, password: one "key value"
 * line each). Call right after tmem_client_create, before the client's
 * first call. 0, or -errno with one line in err.
 */
int testbed_host_remote_attach(struct testbed_host *h, struct tmem_client *c,
                               const struct scenario_guest *sg, char *err, size_t errlen);

/* Forget client c after tmem_client_destroy(c) (remote_tier_detach). */
void testbed_host_remote_detach(struct testbed_host *h, const struct tmem_client *c);

/* Client c's counters (c NULL: the whole tier's) into *out; zeroed, with
 * attached false, when the host has no tier or c is not attached. */
void testbed_host_remote_sample(struct testbed_host *h, const struct tmem_client *c,
                                struct testbed_remote_sample *out);

/* Drain the writer (bounded) and destroy the tier; after tmem_destroy. */
void testbed_host_remote_close(struct testbed_host *h);

/* The simulated time a guest's remote tier use cost (the round trips made
 * inside its tmem calls: puts, gets, flushes) and the device time the
 * pages it served or took would have cost on the swap device instead. */
uint64_t testbed_remote_cost_ns(const struct testbed_remote_sample *s);
uint64_t testbed_remote_device_ns(const struct testbed_remote_sample *s, uint32_t page_size,
                                  bool write_through, const struct guest_device_profile *p);

#endif /* TESTBED_HOST_REMOTE_H */
