/*
 * ccfs_stats.h - the counters of the tmemfs mount (cleancache, guest page
 * cache, backing file) and their text/JSON renderings.
 *
 * Counter names follow the kernel's cleancache debugfs files where one
 * exists (succ_gets, failed_gets, puts, invalidates).
 */
#ifndef CCFS_STATS_H
#define CCFS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tmem.h"

enum ccfs_counter {
    CCFS_SUCC_GETS,          /* cleancache get_page found the page */
    CCFS_FAILED_GETS,        /* cleancache get_page missed */
    CCFS_PUTS,               /* cleancache put_page calls (kernel: "puts") */
    CCFS_FAILED_PUTS,        /* ... of which tmem refused the page */
    CCFS_INVALIDATES,        /* cleancache invalidate_page calls */
    CCFS_INVALIDATE_INODES,  /* cleancache invalidate_inode calls */
    CCFS_INVALIDATE_FS,      /* cleancache invalidate_fs calls */
    CCFS_GUEST_HITS,         /* page found in the guest page cache */
    CCFS_GUEST_MISSES,       /* page not in the guest page cache */
    CCFS_GUEST_EVICTIONS,    /* clean pages evicted from the guest cache */
    CCFS_GUEST_INVALIDATES,  /* guest pages dropped by invalidation */
    CCFS_BACKING_PAGES_READ, /* pages read from backing files */
    CCFS_BACKING_BYTES_READ,
    CCFS_BACKING_PAGES_WRITTEN, /* pages touched by writes to backing files */
    CCFS_BACKING_BYTES_WRITTEN,
    CCFS_OUTSIDE_CHANGES,    /* backing files found changed outside the mount */
    CCFS_NR_COUNTERS
};

/* Event counters; every field is updated atomically (relaxed). */
struct ccfs_stats {
    uint64_t c[CCFS_NR_COUNTERS];
};

/* Gauges the renderer shows next to the counters (filled by the caller). */
struct ccfs_gauges {
    uint64_t guest_pages;       /* pages now in the guest cache */
    uint64_t guest_capacity;    /* its size in pages */
    uint32_t page_size;
    bool cleancache;            /* cleancache enabled */
    int pool_id;                /* tmem pool id, -1 when disabled */
    struct tmem_stats pool;     /* tmem pool statistics (zero if disabled) */
    struct tmem_stats store;    /* tmem store statistics */
};

/* Zero every counter. */
void ccfs_stats_init(struct ccfs_stats *st);
/* Add n to counter c (thread-safe). */
void ccfs_stats_add(struct ccfs_stats *st, enum ccfs_counter c, uint64_t n);
/* Read counter c (thread-safe). */
uint64_t ccfs_stats_get(const struct ccfs_stats *st, enum ccfs_counter c);
/* The counter's name as printed ("succ_gets", ...); NULL if out of range. */
const char *ccfs_stats_name(enum ccfs_counter c);

/*
 * Render counters and gauges into buf (NUL-terminated, truncated to size).
 * Text form: one "name value" line per item (the kernel's debugfs files
 * concatenated). JSON form: one object on one line, ending in a newline.
 * Returns the length the whole text needs, as snprintf does.
 */
int ccfs_stats_format(const struct ccfs_stats *st, const struct ccfs_gauges *g,
                      bool json, char *buf, size_t size);

#endif /* CCFS_STATS_H */
