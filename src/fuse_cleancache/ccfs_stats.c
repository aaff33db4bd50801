/*
 * ccfs_stats.c - tmemfs counters and their renderings.
 *
 * Models: the kernel's cleancache debugfs counters (succ_gets, failed_gets,
 * puts, invalidates) plus what the testbed needs to judge cleancache: guest
 * page cache hits/misses/evictions and backing-file traffic.
 *
 * Data: a flat array of uint64_t counters, one per enum ccfs_counter.
 * Locking: none; every access is a relaxed __atomic operation, so counters
 * can be bumped under any lock or none and read at any time. A rendering is
 * not a consistent snapshot across counters (each value is exact).
 */
#include "fuse_cleancache/ccfs_stats.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const ccfs_counter_names[CCFS_NR_COUNTERS] = {
    [CCFS_SUCC_GETS] = "succ_gets",
    [CCFS_FAILED_GETS] = "failed_gets",
    [CCFS_PUTS] = "puts",
    [CCFS_FAILED_PUTS] = "failed_puts",
    [CCFS_INVALIDATES] = "invalidates",
    [CCFS_INVALIDATE_INODES] = "invalidate_inodes",
    [CCFS_INVALIDATE_FS] = "invalidate_fs",
    [CCFS_GUEST_HITS] = "guest_hits",
    [CCFS_GUEST_MISSES] = "guest_misses",
    [CCFS_GUEST_EVICTIONS] = "guest_evictions",
    [CCFS_GUEST_INVALIDATES] = "guest_invalidates",
    [CCFS_BACKING_PAGES_READ] = "backing_pages_read",
    [CCFS_BACKING_BYTES_READ] = "backing_bytes_read",
    [CCFS_BACKING_PAGES_WRITTEN] = "backing_pages_written",
    [CCFS_BACKING_BYTES_WRITTEN] = "backing_bytes_written",
    [CCFS_OUTSIDE_CHANGES] = "outside_changes",
};

void ccfs_stats_init(struct ccfs_stats *st)
{
    memset(st, 0, sizeof(*st));
}

void ccfs_stats_add(struct ccfs_stats *st, enum ccfs_counter c, uint64_t n)
{
    __atomic_fetch_add(&st->c[c], n, __ATOMIC_RELAXED);
}

uint64_t ccfs_stats_get(const struct ccfs_stats *st, enum ccfs_counter c)
{
    return __atomic_load_n(&st->c[c], __ATOMIC_RELAXED);
}

const char *ccfs_stats_name(enum ccfs_counter c)
{
    if ((int)c < 0 || c >= CCFS_NR_COUNTERS)
        return NULL;
    return ccfs_counter_names[c];
}

/* Append to buf at *len (snprintf semantics: *len grows past size). */
static void ccfs_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ccfs_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    char *dst = NULL;
    size_t room = 0;
    int n;

    if (*len < size) {
        dst = buf + *len;
        room = size - *len;
    }
    va_start(ap, fmt);
    n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

static void ccfs_item(char *buf, size_t size, size_t *len, bool json, bool *first,
                      const char *name, uint64_t v)
{
    if (json)
        ccfs_append(buf, size, len, "%s\"%s\":%" PRIu64, *first ? "" : ",", name, v);
    else
        ccfs_append(buf, size, len, "%s %" PRIu64 "\n", name, v);
    *first = false;
}

/* Hit rate in per-mille, as an integer (no floats in the text). */
static uint64_t ccfs_permille(uint64_t hits, uint64_t total)
{
    return total ? hits * 1000 / total : 0;
}

int ccfs_stats_format(const struct ccfs_stats *st, const struct ccfs_gauges *g,
                      bool json, char *buf, size_t size)
{
    size_t len = 0;
    bool first = true;
    uint64_t v[CCFS_NR_COUNTERS];
    int i;

    if (size)
        buf[0] = '\0';
    for (i = 0; i < CCFS_NR_COUNTERS; i++)
        v[i] = ccfs_stats_get(st, (enum ccfs_counter)i);
    if (json)
        ccfs_append(buf, size, &len, "{");
    for (i = 0; i < CCFS_NR_COUNTERS; i++)
        ccfs_item(buf, size, &len, json, &first, ccfs_counter_names[i], v[i]);
    ccfs_item(buf, size, &len, json, &first, "guest_hit_permille",
              ccfs_permille(v[CCFS_GUEST_HITS], v[CCFS_GUEST_HITS] + v[CCFS_GUEST_MISSES]));
    ccfs_item(buf, size, &len, json, &first, "cleancache_hit_permille",
              ccfs_permille(v[CCFS_SUCC_GETS], v[CCFS_SUCC_GETS] + v[CCFS_FAILED_GETS]));
    if (g) {
        ccfs_item(buf, size, &len, json, &first, "guest_pages", g->guest_pages);
        ccfs_item(buf, size, &len, json, &first, "guest_capacity_pages", g->guest_capacity);
        ccfs_item(buf, size, &len, json, &first, "page_size", g->page_size);
        ccfs_item(buf, size, &len, json, &first, "cleancache_enabled", g->cleancache ? 1 : 0);
        ccfs_item(buf, size, &len, json, &first, "tmem_pool_pages", g->pool.pages);
        ccfs_item(buf, size, &len, json, &first, "tmem_pool_evicted", g->pool.pages_evicted);
        ccfs_item(buf, size, &len, json, &first, "tmem_store_pages", g->store.pages);
        ccfs_item(buf, size, &len, json, &first, "tmem_store_data_bytes", g->store.data_bytes);
        ccfs_item(buf, size, &len, json, &first, "tmem_store_metadata_bytes",
                  g->store.metadata_bytes);
        ccfs_item(buf, size, &len, json, &first, "tmem_capacity_bytes", g->store.capacity_bytes);
    }
    if (json)
        ccfs_append(buf, size, &len, "}\n");
    return (int)len;
}
