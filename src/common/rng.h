/*
 * rng.h - the one seeded random stream of the project (splitmix64): the
 * workload generators and page contents of the simulators, and the tests'
 * random workloads. A stream is one uint64_t of state; the same seed
 * gives the same numbers on every machine, so runs and failures repeat.
 * Not for anything that must be unpredictable.
 *
 * Pure functions of the caller's state; thread-safe per state.
 */
#ifndef COMMON_RNG_H
#define COMMON_RNG_H

#include <stdint.h>

#include "common/hash.h"

/* The next value of the stream *state: the project's mixer of the
 * current state, then the state steps by the golden ratio (splitmix64). */
static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t z = hash_mix64(*state);
    *state += 0x9e3779b97f4a7c15ULL;
    return z;
}

/* Uniform in [0, n), n > 0 (modulo: the bias is below 2^-40 for the n
 * the project uses). */
static inline uint64_t rng_below(uint64_t *state, uint64_t n)
{
    return rng_next(state) % n;
}

/* Uniform double in [0, 1), 53 random bits. */
static inline double rng_unit(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

#endif /* COMMON_RNG_H */
