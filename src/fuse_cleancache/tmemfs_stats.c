/*
 * tmemfs_stats.c - tmemfs counters and their renderings.
 *
 * Models: the kernel's cleancache debugfs counters (succ_gets, failed_gets,
 * puts, invalidates) plus what the testbed needs to judge cleancache: guest
 * page cache hits/misses/evictions and backing-file traffic.
 *
 * Data: a flat array of uint64_t counters, one per enum tmemfs_counter.
 * Locking: none; every access is a relaxed __atomic operation, so counters
 * can be bumped under any lock or none and read at any time. A rendering is
 * not a consistent snapshot across counters (each value is exact).
 */
#include "fuse_cleancache/tmemfs_stats.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const tmemfs_counter_names[TMEMFS_NR_COUNTERS] = {
    [TMEMFS_SUCC_GETS] = "succ_gets",
    [TMEMFS_FAILED_GETS] = "failed_gets",
    [TMEMFS_PUTS] = "puts",
    [TMEMFS_FAILED_PUTS] = "failed_puts",
    [TMEMFS_INVALIDATES] = "invalidates",
    [TMEMFS_INVALIDATE_INODES] = "invalidate_inodes",
    [TMEMFS_INVALIDATE_FS] = "invalidate_fs",
    [TMEMFS_GUEST_HITS] = "guest_hits",
    [TMEMFS_GUEST_MISSES] = "guest_misses",
    [TMEMFS_GUEST_EVICTIONS] = "guest_evictions",
    [TMEMFS_GUEST_INVALIDATES] = "guest_invalidates",
    [TMEMFS_BACKING_PAGES_READ] = "backing_pages_read",
    [TMEMFS_BACKING_BYTES_READ] = "backing_bytes_read",
    [TMEMFS_BACKING_PAGES_WRITTEN] = "backing_pages_written",
    [TMEMFS_BACKING_BYTES_WRITTEN] = "backing_bytes_written",
    [TMEMFS_OUTSIDE_CHANGES] = "outside_changes",
};

void tmemfs_stats_init(struct tmemfs_stats *st)
{
    memset(st, 0, sizeof(*st));
}

void tmemfs_stats_add(struct tmemfs_stats *st, enum tmemfs_counter c, uint64_t n)
{
    __atomic_fetch_add(&st->c[c], n, __ATOMIC_RELAXED);
}

uint64_t tmemfs_stats_get(const struct tmemfs_stats *st, enum tmemfs_counter c)
{
    return __atomic_load_n(&st->c[c], __ATOMIC_RELAXED);
}

const char *tmemfs_stats_name(enum tmemfs_counter c)
{
    if ((int)c < 0 || c >= TMEMFS_NR_COUNTERS)
        return NULL;
    return tmemfs_counter_names[c];
}

/* Append to buf at *len (snprintf semantics: *len grows past size). */
static void tmemfs_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void tmemfs_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
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

static void tmemfs_item(char *buf, size_t size, size_t *len, bool json, bool *first,
                      const char *name, uint64_t v)
{
    if (json)
        tmemfs_append(buf, size, len, "%s\"%s\":%" PRIu64, *first ? "" : ",", name, v);
    else
        tmemfs_append(buf, size, len, "%s %" PRIu64 "\n", name, v);
    *first = false;
}

/* Hit rate in per-mille, as an integer (no floats in the text). */
static uint64_t tmemfs_permille(uint64_t hits, uint64_t total)
{
    return total ? hits * 1000 / total : 0;
}

int tmemfs_stats_format(const struct tmemfs_stats *st, const struct tmemfs_gauges *g,
                      bool json, char *buf, size_t size)
{
    size_t len = 0;
    bool first = true;
    uint64_t v[TMEMFS_NR_COUNTERS];
    int i;

    if (size)
        buf[0] = '\0';
    for (i = 0; i < TMEMFS_NR_COUNTERS; i++)
        v[i] = tmemfs_stats_get(st, (enum tmemfs_counter)i);
    if (json)
        tmemfs_append(buf, size, &len, "{");
    for (i = 0; i < TMEMFS_NR_COUNTERS; i++)
        tmemfs_item(buf, size, &len, json, &first, tmemfs_counter_names[i], v[i]);
    tmemfs_item(buf, size, &len, json, &first, "guest_hit_permille",
              tmemfs_permille(v[TMEMFS_GUEST_HITS], v[TMEMFS_GUEST_HITS] + v[TMEMFS_GUEST_MISSES]));
    tmemfs_item(buf, size, &len, json, &first, "cleancache_hit_permille",
              tmemfs_permille(v[TMEMFS_SUCC_GETS], v[TMEMFS_SUCC_GETS] + v[TMEMFS_FAILED_GETS]));
    if (g) {
        tmemfs_item(buf, size, &len, json, &first, "guest_pages", g->guest_pages);
        tmemfs_item(buf, size, &len, json, &first, "guest_capacity_pages", g->guest_capacity);
        tmemfs_item(buf, size, &len, json, &first, "page_size", g->page_size);
        tmemfs_item(buf, size, &len, json, &first, "cleancache_enabled", g->cleancache ? 1 : 0);
        tmemfs_item(buf, size, &len, json, &first, "tmem_pool_pages", g->pool.pages);
        tmemfs_item(buf, size, &len, json, &first, "tmem_pool_evicted", g->pool.pages_evicted);
        tmemfs_item(buf, size, &len, json, &first, "tmem_store_pages", g->store.pages);
        tmemfs_item(buf, size, &len, json, &first, "tmem_store_data_bytes", g->store.data_bytes);
        tmemfs_item(buf, size, &len, json, &first, "tmem_store_metadata_bytes",
                  g->store.metadata_bytes);
        tmemfs_item(buf, size, &len, json, &first, "tmem_capacity_bytes", g->store.capacity_bytes);
    }
    if (json)
        tmemfs_append(buf, size, &len, "}\n");
    return (int)len;
}
