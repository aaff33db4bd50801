/* testutil.c - see testutil.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include "common/hash.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TU_MAGIC 0x746d656d54414721ull /* "tmemTAG!" */

uint64_t tu_rng_next(uint64_t *state)
{
    /* splitmix64: the state steps by the golden ratio, the output is the
     * one integer mixer of the tree (hash_mix64 adds that step itself) */
    uint64_t z = hash_mix64(*state);
    *state += 0x9e3779b97f4a7c15ull;
    return z;
}

uint64_t tu_rng_below(uint64_t *state, uint64_t n)
{
    return tu_rng_next(state) % n;
}

void tu_fill_random(void *page, size_t size, uint64_t seed)
{
    unsigned char *p = page;
    uint64_t st = seed ^ 0x5eed5eed5eed5eedull;
    size_t i = 0;
    while (i < size) {
        uint64_t w = tu_rng_next(&st);
        size_t n = size - i < 8 ? size - i : 8;
        memcpy(p + i, &w, n);
        i += n;
    }
}

static const char *const tu_words[] = {
    "tmem ", "page ", "pool ", "object ", "handle ", "put ", "get ",
    "flush ", "ephemeral ", "persistent ", "shared ", "private ",
    "cleancache ", "frontswap ", "hypervisor ", "guest ",
};

void tu_fill_compressible(void *page, size_t size, uint64_t seed)
{
    unsigned char *p = page;
    uint64_t st = seed ^ 0xc0c0c0c0c0c0c0c0ull;
    size_t i = 0;
    while (i < size) {
        const char *w = tu_words[tu_rng_next(&st) % (sizeof tu_words / sizeof tu_words[0])];
        size_t n = strlen(w);
        if (n > size - i)
            n = size - i;
        memcpy(p + i, w, n);
        i += n;
    }
}

void tu_fill_word(void *page, size_t size, uint64_t word)
{
    unsigned char *p = page;
    for (size_t i = 0; i + 8 <= size; i += 8)
        memcpy(p + i, &word, 8);
}

void tu_fill_partly_random(void *page, size_t size, uint64_t seed,
                           unsigned random_percent)
{
    size_t r = size * random_percent / 100;
    tu_fill_random(page, r, seed);
    memset((unsigned char *)page + r, 0, size - r);
}

static void tu_tag_body(unsigned char *p, size_t size, uint64_t key,
                        uint64_t version, unsigned kind)
{
    uint64_t seed = key * 0x100000001b3ull ^ version * 0x9e3779b97f4a7c15ull ^ kind;
    switch (kind) {
    case TU_TAG_RANDOM:
        tu_fill_random(p, size, seed);
        break;
    case TU_TAG_COMPRESSIBLE:
        tu_fill_compressible(p, size, seed);
        break;
    default: /* sparse: zeros with a few words */
        memset(p, 0, size);
        for (size_t i = 0; i + 8 <= size; i += 512) {
            uint64_t w = seed + i;
            memcpy(p + i, &w, 8);
        }
        break;
    }
}

void tu_fill_tagged(void *page, size_t size, uint64_t key, uint64_t version,
                    unsigned kind)
{
    unsigned char *p = page;
    uint64_t hdr[4] = {TU_MAGIC, key, version, kind};
    tu_tag_body(p + 32, size - 32, key, version, kind);
    memcpy(p, hdr, sizeof hdr);
}

bool tu_check_tagged(const void *page, size_t size, uint64_t *key,
                     uint64_t *version)
{
    const unsigned char *p = page;
    uint64_t hdr[4];
    memcpy(hdr, p, sizeof hdr);
    if (hdr[0] != TU_MAGIC || hdr[3] > TU_TAG_SPARSE)
        return false;
    unsigned char *want = malloc(size);
    if (!want)
        abort();
    tu_fill_tagged(want, size, hdr[1], hdr[2], (unsigned)hdr[3]);
    bool ok = memcmp(want, p, size) == 0;
    free(want);
    if (ok) {
        *key = hdr[1];
        *version = hdr[2];
    }
    return ok;
}

void tu_fill_versioned(void *page, size_t size, uint64_t key, uint64_t version)
{
    switch (version % 5) {
    case 0:
        tu_fill_tagged(page, size, key, version, TU_TAG_RANDOM);
        break;
    case 1:
        tu_fill_tagged(page, size, key, version, TU_TAG_COMPRESSIBLE);
        break;
    case 2:
        tu_fill_word(page, size, (version / 5) % 3 == 0 ? 0 : 0x0101010101010101ull * (version % 251));
        break;
    case 3:
        tu_fill_random(page, size, 0xc0ffee00ull + (version / 5) % 2);
        break;
    default:
        tu_fill_tagged(page, size, key, version, TU_TAG_SPARSE);
        break;
    }
}

long tu_first_diff(const void *a, const void *b, size_t size)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < size; i++)
        if (x[i] != y[i])
            return (long)i;
    return -1;
}

long tu_env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    return (*end == '\0' && v > 0) ? v : dflt;
}

double tu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void *tu_page_alloc(size_t size)
{
    void *p = malloc(size);
    assert_non_null(p);
    return p;
}

struct tmem_stats tu_store_stats(const struct tmem *tm)
{
    struct tmem_stats st;
    assert_int_equal(tmem_stats(tm, &st), 0);
    return st;
}

struct tmem *tu_store_new(uint64_t cap)
{
    struct tmem_config cfg;
    struct tmem *tm;

    tmem_config_init(&cfg);
    cfg.capacity_bytes = cap;
    tm = tmem_create(&cfg);
    assert_non_null(tm);
    return tm;
}

struct tmem_client *tu_client_new(struct tmem *tm, const char *name)
{
    struct tmem_client *c = tmem_client_create(tm, name);
    assert_non_null(c);
    return c;
}

int tu_pool_new(struct tmem_client *c, uint32_t flags, const uint8_t *uuid)
{
    int id = tmem_new_pool(c, flags, uuid);
    if (id < 0)
        fail_msg("tmem_new_pool(flags=%#x) = %d", flags, id);
    return id;
}

void tu_check(struct tmem *tm, const char *where)
{
    char why[512];
    int rc = tmem_check(tm, why, sizeof why);
    if (rc != 0)
        fail_msg("%s: tmem_check = %d: %s", where, rc, why);
}

void tu_store_close(struct tmem *tm)
{
    tu_check(tm, "at the end of the test");
    tmem_destroy(tm);
}

long tu_check_every(long dflt)
{
    return tu_env_long("TMEM_CHECK_EVERY", dflt);
}

int tu_store_setup(void **state)
{
    struct tu_store *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->tm = tu_store_new(TMEM_CAPACITY_UNLIMITED);
    s->c = tu_client_new(s->tm, "a");
    s->ps = tmem_page_size(s->tm);
    *state = s;
    return 0;
}

int tu_store_teardown(void **state)
{
    struct tu_store *s = *state;
    tu_store_close(s->tm);
    free(s);
    return 0;
}
