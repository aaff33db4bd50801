/*
 * testutil.h - shared helpers for the tmem tests: a deterministic PRNG and
 * page fillers (random, compressible, same-filled, tagged pages that carry
 * their own handle key and version so any page read back can be verified).
 *
 * testutil.c does not depend on the core; the small tmem helpers below are
 * static inline so that linking testutil.o never needs libtmem.
 */
#ifndef TMEM_TESTUTIL_H
#define TMEM_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"

/* splitmix64: deterministic, seedable, good enough for tests. */
uint64_t tu_rng_next(uint64_t *state);
/* Uniform in [0, n), n > 0. */
uint64_t tu_rng_below(uint64_t *state, uint64_t n);

/* Incompressible bytes from seed. */
void tu_fill_random(void *page, size_t size, uint64_t seed);
/* Text-like bytes (words from a small dictionary): lz4 shrinks them a lot. */
void tu_fill_compressible(void *page, size_t size, uint64_t seed);
/* Every 64-bit word equal to word (a "same-filled" page). */
void tu_fill_word(void *page, size_t size, uint64_t word);
/* First `random_percent` % random bytes, the rest zero: lz4 size is
 * roughly that fraction of the page. */
void tu_fill_partly_random(void *page, size_t size, uint64_t seed,
                           unsigned random_percent);

/*
 * Tagged pages: a 32-byte header (magic, key, version, kind) then a body
 * derived from (key, version, kind). Sizes >= 64.
 * kind: TU_TAG_RANDOM or TU_TAG_COMPRESSIBLE.
 */
enum { TU_TAG_RANDOM = 0, TU_TAG_COMPRESSIBLE = 1, TU_TAG_SPARSE = 2 };
void tu_fill_tagged(void *page, size_t size, uint64_t key, uint64_t version,
                    unsigned kind);
/* true iff page is exactly a page tu_fill_tagged produced; outputs its
 * key and version. */
bool tu_check_tagged(const void *page, size_t size, uint64_t *key,
                     uint64_t *version);

/*
 * Versioned content for reference models: the page for (key, version) is
 * fully determined by them but comes in five kinds chosen by version % 5:
 * tagged random, tagged compressible, same-filled (zero or a word),
 * one of two "common" pages identical across keys (deduplicated), tagged
 * sparse. Only the tagged kinds can be recognised without knowing the key.
 */
void tu_fill_versioned(void *page, size_t size, uint64_t key, uint64_t version);

/* Index of the first differing byte, or -1 if equal. */
long tu_first_diff(const void *a, const void *b, size_t size);

/* cmocka helpers (fail the running test instead of returning an error):
 * a page-sized malloc'ed buffer; the store's statistics. */
void *tu_page_alloc(size_t size);
struct tmem_stats tu_store_stats(const struct tmem *tm);

/* Positive integer from the environment, or dflt. */
long tu_env_long(const char *name, long dflt);
/* Monotonic time in seconds. */
double tu_now(void);

static inline struct tmem_oid tu_oid(uint64_t a, uint64_t b, uint64_t c)
{
    struct tmem_oid o;
    o.oid[0] = a;
    o.oid[1] = b;
    o.oid[2] = c;
    return o;
}

/* Bytes the store charges against its budget: data + metadata. */
static inline uint64_t tu_usage(const struct tmem *tm)
{
    struct tmem_stats st;
    if (tmem_stats(tm, &st) != 0)
        return UINT64_MAX;
    return st.data_bytes + st.metadata_bytes;
}

#endif /* TMEM_TESTUTIL_H */
