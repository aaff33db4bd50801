/*
 * remote_env.h - what the remote tier's cmocka tests share: a store with
 * the Redis tier behind it and one or two clients attached (the first
 * named "guest-a", the second "guest-b"), and the object ids they use.
 * Failures are cmocka assertions. Not thread-safe (one test at a time).
 */
#ifndef TESTS_REMOTE_ENV_H
#define TESTS_REMOTE_ENV_H

#include <stdint.h>

#include "core/tmem.h"
#include "remote/remote_tier.h"

struct remote_env {
    struct tmem *tm;
    struct remote_tier *rt;
    struct tmem_client *c[2];
};

/* A store of capacity bytes without dedup (so every page is one page),
 * the tier on cfg, and clients (1 or 2) attached with kinds. */
void remote_env_open(struct remote_env *e, uint64_t capacity, const struct remote_tier_config *cfg,
                     unsigned kinds, int clients);

/* Check the store's invariants (tmem_check), then destroy the store and
 * the tier, in that order (remote_tier.h). */
void remote_env_close(struct remote_env *e);

/* The object id of test object n. */
struct tmem_oid remote_env_oid(uint64_t n);

#endif /* TESTS_REMOTE_ENV_H */
