/*
 * testutil.h - helpers every cmocka test of the tree shares (and the only
 * place test helpers live): a deterministic PRNG and page fillers (random,
 * compressible, same-filled, tagged pages that carry their own handle key
 * and version so any page read back can be verified), page comparison, and
 * the tmem preamble: stores, clients and pools that fail the running test
 * instead of returning an error, a fixture for cmocka's setup/teardown, and
 * the invariant check (tmem_check) that fixtures run at teardown.
 *
 * Include <cmocka.h> (and what it needs) before this header: the helpers
 * fail the running cmocka test. testutil.o links against the core library.
 */
#ifndef TMEM_TESTUTIL_H
#define TMEM_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"

/* splitmix64 (over hash_mix64): deterministic, seedable, good enough for tests. */
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

/* Fail the running test unless the size bytes at got equal those at want;
 * what names the page in the message. */
#define TU_ASSERT_PAGE_EQ(got, want, size, what)                                \
    do {                                                                        \
        long d_ = tu_first_diff((got), (want), (size));                         \
        if (d_ >= 0)                                                            \
            fail_msg("%s: page differs at byte %ld", (what), d_);               \
    } while (0)

/* cmocka helpers (fail the running test instead of returning an error):
 * a page-sized malloc'ed buffer; the store's statistics; a store with the
 * default configuration and capacity cap; a client; a pool (uuid for
 * shared pools). */
void *tu_page_alloc(size_t size);
struct tmem_stats tu_store_stats(const struct tmem *tm);
struct tmem *tu_store_new(uint64_t cap);
struct tmem_client *tu_client_new(struct tmem *tm, const char *name);
int tu_pool_new(struct tmem_client *c, uint32_t flags, const uint8_t *uuid);

/* Fail the running test (naming where) if tmem_check finds a broken
 * invariant in the store. */
void tu_check(struct tmem *tm, const char *where);
/* The end of a store: tu_check, then tmem_destroy. */
void tu_store_close(struct tmem *tm);
/* How often the random workloads check invariants: every
 * TMEM_CHECK_EVERY operations (environment), default dflt. */
long tu_check_every(long dflt);

/*
 * The fixture most core tests start from: an unlimited store with the
 * default configuration and one client "a". Use with
 * cmocka_unit_test_setup_teardown(test, tu_store_setup, tu_store_teardown);
 * the test gets it as *state. The teardown checks the store's invariants
 * (tu_check), then destroys it with everything in it (on a broken
 * invariant it fails and leaves the store alone).
 */
struct tu_store {
    struct tmem *tm;
    struct tmem_client *c;
    size_t ps; /* the page size */
};
int tu_store_setup(void **state);
int tu_store_teardown(void **state);

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
