/*
 * tmemfs_stats.h - the counters of a tmemfs mount (cleancache, guest page
 * cache, backing files), the values shown beside them, and their text and
 * JSON renderings.
 *
 * Every name is declared once, in TMEMFS_COUNTERS and TMEMFS_SHOWN below:
 * the enum, the names, the renderer and the counter table of
 * docs/fuse_cleancache.md (tools/counters) all follow from these lists.
 * Counter names follow the kernel's cleancache debugfs files where one
 * exists (succ_gets, failed_gets, puts, invalidates).
 */
#ifndef TMEMFS_STATS_H
#define TMEMFS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"
#include "guest/device.h"

/* X(ID, name, help): the event counters, in rendering order. */
#define TMEMFS_COUNTERS(X)                                                                 \
    X(SUCC_GETS, succ_gets, "cleancache get_page calls that found the page")              \
    X(FAILED_GETS, failed_gets, "cleancache get_page calls that missed")                  \
    X(PUTS, puts, "cleancache put_page calls (clean pages leaving the guest cache)")      \
    X(FAILED_PUTS, failed_puts, "put_page calls tmem refused")                            \
    X(INVALIDATES, invalidates, "cleancache invalidate_page calls")                       \
    X(INVALIDATE_INODES, invalidate_inodes, "cleancache invalidate_inode calls")          \
    X(INVALIDATE_FS, invalidate_fs, "cleancache invalidate_fs calls")                     \
    X(GUEST_HITS, guest_hits, "reads of a page found in the guest page cache")            \
    X(GUEST_MISSES, guest_misses, "reads of a page not in the guest page cache")          \
    X(GUEST_EVICTIONS, guest_evictions, "clean pages evicted from the guest page cache")  \
    X(GUEST_INVALIDATES, guest_invalidates, "guest pages dropped by invalidation")        \
    X(BACKING_PAGES_READ, backing_pages_read, "pages read from backing files")            \
    X(BACKING_BYTES_READ, backing_bytes_read, "bytes read from backing files")            \
    X(BACKING_PAGES_WRITTEN, backing_pages_written,                                        \
      "pages touched by writes to backing files")                                          \
    X(BACKING_BYTES_WRITTEN, backing_bytes_written, "bytes written to backing files")     \
    X(OUTSIDE_CHANGES, outside_changes, "backing files found changed outside the mount")   \
    X(BACKING_READ_ERRORS, backing_read_errors,                                            \
      "backing read requests that failed (the read returned the error, cached nothing)")   \
    X(BACKING_WRITE_ERRORS, backing_write_errors,                                          \
      "backing writes that failed (the write returned the error; its range invalidated)")

enum tmemfs_counter {
#define TMEMFS_COUNTER_ENUM(id, name, help) TMEMFS_##id,
    TMEMFS_COUNTERS(TMEMFS_COUNTER_ENUM)
#undef TMEMFS_COUNTER_ENUM
    TMEMFS_NR_COUNTERS
};

/* Event counters; every field is updated atomically (relaxed). */
struct tmemfs_stats {
    uint64_t c[TMEMFS_NR_COUNTERS];
};

/* Gauges the renderer shows next to the counters (filled by the caller). */
struct tmemfs_gauges {
    uint64_t guest_pages;       /* pages now in the guest cache */
    uint64_t guest_capacity;    /* its size in pages */
    uint32_t page_size;
    bool cleancache;            /* cleancache enabled */
    int pool_id;                /* tmem pool id, -1 when disabled */
    struct tmem_stats pool;     /* tmem pool statistics (zero if disabled) */
    struct tmem_stats store;    /* tmem store statistics */
    struct guest_device_profile profile;  /* the backing device (-o device) */
    struct guest_device_counts device;    /* its requests so far */
};

/* Per-mille of hits in hits + misses (0 when there were none). */
static inline uint64_t tmemfs_permille(uint64_t hits, uint64_t misses)
{
    return hits + misses ? hits * 1000 / (hits + misses) : 0;
}

/* X(name, help, value): what is shown after the counters, computed from
 * v (the counters' values, indexed by enum tmemfs_counter) and g (struct
 * tmemfs_gauges *). */
#define TMEMFS_SHOWN(X)                                                                    \
    X(guest_hit_permille, "guest_hits per 1000 reads of a page",                           \
      tmemfs_permille(v[TMEMFS_GUEST_HITS], v[TMEMFS_GUEST_MISSES]))                       \
    X(cleancache_hit_permille, "succ_gets per 1000 get_page calls",                        \
      tmemfs_permille(v[TMEMFS_SUCC_GETS], v[TMEMFS_FAILED_GETS]))                         \
    X(guest_pages, "pages in the guest page cache now", g->guest_pages)                    \
    X(guest_capacity_pages, "the guest page cache's size in pages", g->guest_capacity)     \
    X(page_size, "page size in bytes", g->page_size)                                       \
    X(cleancache_enabled, "1 if cleancache is on", g->cleancache ? 1 : 0)                  \
    X(tmem_pool_pages, "pages in this mount's cleancache pool now", g->pool.pages)         \
    X(tmem_pool_evicted, "pages the store evicted from the pool", g->pool.pages_evicted)   \
    X(tmem_pool_pages_raw, "pool pages held as they came", g->pool.pages_raw)               \
    X(tmem_pool_pages_compressed, "pool pages held compressed (by the store's compressor)", g->pool.pages_compressed) \
    X(tmem_pool_pages_same_filled, "pool pages held as the one word they repeat",           \
      g->pool.pages_same_filled)                                                           \
    X(tmem_pool_pages_deduplicated, "pool pages sharing an identical page's data",          \
      g->pool.pages_deduplicated)                                                          \
    X(tmem_pool_data_bytes, "allocator bytes of the pool's page data", g->pool.data_bytes) \
    X(tmem_pool_compression_permille,                                                      \
      "1000 x the pool's bytes of pages / its bytes of data (zswap's ratio; 0 if empty)",  \
      g->pool.data_bytes ? g->pool.pages * g->page_size * 1000 / g->pool.data_bytes : 0)   \
    X(tmem_pool_failed_puts_no_room, "pool puts refused: no room and nothing to evict",     \
      g->pool.failed_puts_reason[TMEM_PUT_FAIL_NO_ROOM])                                   \
    X(tmem_pool_failed_puts_hysteresis, "pool puts refused by the store's hysteresis",      \
      g->pool.failed_puts_reason[TMEM_PUT_FAIL_HYSTERESIS])                                \
    X(tmem_pool_failed_puts_frozen, "pool puts refused: the mount's client frozen",         \
      g->pool.failed_puts_reason[TMEM_PUT_FAIL_FROZEN])                                    \
    X(tmem_pool_failed_puts_alloc, "pool puts refused: an allocation failed",               \
      g->pool.failed_puts_reason[TMEM_PUT_FAIL_ALLOC])                                     \
    X(tmem_store_pages, "pages in the whole tmem store now", g->store.pages)               \
    X(tmem_store_data_bytes, "bytes of page data the store holds", g->store.data_bytes)    \
    X(tmem_store_metadata_bytes, "bytes of metadata the store holds",                      \
      g->store.metadata_bytes)                                                             \
    X(tmem_capacity_bytes, "the store's capacity in bytes, or unlimited",                \
      g->store.capacity_bytes)                                                             \
    X(device_random_requests, "backing requests that did not continue the previous one",   \
      g->device.random_requests)                                                           \
    X(device_sequential_requests, "backing requests that did", g->device.sequential_requests) \
    X(device_time_us, "what the backing requests take on the -o device profile (us)",     \
      guest_device_price_ns(&g->profile, &g->device) / 1000)                               \
    X(device_time_us_hdd, "... on a 7200 rpm disk (us)",                                   \
      guest_device_price_ns(&guest_device_builtin[0], &g->device) / 1000)                  \
    X(device_time_us_sata_ssd, "... on a SATA SSD (us)",                                   \
      guest_device_price_ns(&guest_device_builtin[1], &g->device) / 1000)                  \
    X(device_time_us_nvme, "... on an NVMe drive (us)",                                    \
      guest_device_price_ns(&guest_device_builtin[2], &g->device) / 1000)

/* Zero every counter. */
void tmemfs_stats_init(struct tmemfs_stats *st);
/* Add n to counter c (thread-safe). */
void tmemfs_stats_add(struct tmemfs_stats *st, enum tmemfs_counter c, uint64_t n);
/* Read counter c (thread-safe). */
uint64_t tmemfs_stats_get(const struct tmemfs_stats *st, enum tmemfs_counter c);
/* The counter's name as printed ("succ_gets", ...); NULL if out of range. */
const char *tmemfs_stats_name(enum tmemfs_counter c);

struct stats_writer;

/* Write every counter and every shown value (in the order of the lists)
 * into w, which the caller began (after any fields of its own, such as a
 * time or the mountpoint) and ends. */
void tmemfs_stats_write(struct stats_writer *w, const struct tmemfs_stats *st,
                        const struct tmemfs_gauges *g);

/*
 * Render counters and gauges g into buf (NUL-terminated, truncated to
 * size), through the common statistics writer. Text form: one
 * "name value" line per item (the kernel's debugfs files concatenated).
 * JSON form: one object on one line, ending in a newline; with mountpoint
 * (not NULL) its first member is "mountpoint". An unlimited store
 * capacity is "unlimited" in both. Returns the length the
 * whole text needs, as snprintf does, or -1 on a formatting error.
 */
int tmemfs_stats_format(const struct tmemfs_stats *st, const struct tmemfs_gauges *g,
                        const char *mountpoint, bool json, char *buf, size_t size);

struct json_t;

/* The same statistics as a new jansson object (the members of
 * tmemfs_stats_format's JSON, "mountpoint" first when not NULL), for a
 * caller that nests it (an array of mounts). Returns NULL when out of
 * memory; the caller json_decref()s it. */
struct json_t *tmemfs_stats_json(const struct tmemfs_stats *st, const struct tmemfs_gauges *g,
                                 const char *mountpoint);

#endif /* TMEMFS_STATS_H */
